/* Multiboot v1 entry of the 64-bit test guests: from 32-bit protected mode with paging off
 * (EAX = loader magic, EBX = information) into long mode on the guest's own tables. */
#include "tests/guests/lib/x86.h"

	.section .text.entry, "ax"
	.code32
	.global guest_entry
guest_entry:
	cli
	cld
	mov %eax, %edi
	mov %ebx, %esi
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $guest_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP), %eax
	mov %eax, %cr0
	lgdt guest_gdt_descriptor
	ljmp $GDT_CODE64, $1f

	.code64
	/* The upper halves of the registers are undefined after the switch. */
1:	mov %edi, %edi
	mov %esi, %esi
	jmp long_mode_common
