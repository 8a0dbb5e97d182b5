/* Entry of the plain-ELF64 test guests: the loader starts them in 64-bit mode on its own
 * page tables with RSP = 0; they move to the guest's own GDT and tables (so tests see the
 * same memory layout as the multiboot guests) and run without multiboot information. */
#include "tests/guests/lib/x86.h"

	.section .text.entry, "ax"
	.code64
	.global guest_entry
guest_entry:
	cli
	cld
	mov $guest_pml4, %eax
	mov %rax, %cr3
	mov %cr0, %rax
	or $CR0_WP, %rax
	mov %rax, %cr0
	lgdt guest_gdt_descriptor
	xor %edi, %edi			/* no loader magic */
	xor %esi, %esi			/* no multiboot information */
	/* A far return reloads CS; it needs a stack, and the loader gave none. */
	mov $guest_stack_top, %esp
	pushq $GDT_CODE64
	pushq $long_mode_common
	lretq
