/* What both 64-bit entries share: the GDT, the identity page tables (first 4 GiB in 2 MiB
 * pages, the top GiB uncached since the MMIO devices live there), the stack, and the last
 * step into C. The tables are initialised data, so no code has to build them. */
#include "tests/guests/lib/x86.h"

#define STACK_SIZE 16384
#define LARGE_PAGE_SIZE 0x200000
#define WRITEBACK_PDES 1536		/* 0-3 GiB */
#define UNCACHED_PDES 512		/* 3-4 GiB */
#define PDE_FLAGS (PTE_PRESENT | PTE_WRITABLE | PTE_LARGE)
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITABLE)

	.section .data.pagetables, "aw"
	.balign 4096
	.global guest_pml4
guest_pml4:
	.quad guest_pdpt + TABLE_FLAGS
	.fill 511, 8, 0
guest_pdpt:
	.quad guest_pds + TABLE_FLAGS
	.quad guest_pds + 0x1000 + TABLE_FLAGS
	.quad guest_pds + 0x2000 + TABLE_FLAGS
	.quad guest_pds + 0x3000 + TABLE_FLAGS
	.fill 508, 8, 0
guest_pds:
	.set address, 0
	.rept WRITEBACK_PDES
	.quad address + PDE_FLAGS
	.set address, address + LARGE_PAGE_SIZE
	.endr
	.rept UNCACHED_PDES
	.quad address + PDE_FLAGS + PTE_PCD + PTE_PWT
	.set address, address + LARGE_PAGE_SIZE
	.endr

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* GDT_CODE64: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* GDT_DATA: flat data */
gdt_end:
	.global guest_gdt_descriptor
guest_gdt_descriptor:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .bss
	.balign 16
	.skip STACK_SIZE
	.global guest_stack_top
guest_stack_top:

/* Entered in 64-bit mode on our GDT and page tables, with the loader magic in EDI and the
 * multiboot information address in ESI (both zero-extended by the caller). */
	.text
	.code64
	.global long_mode_common
long_mode_common:
	mov $GDT_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $guest_stack_top, %rsp
	call guest_start
	ud2
