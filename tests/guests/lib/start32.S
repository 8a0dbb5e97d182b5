/* Multiboot v1 entry of the 32-bit test guests: they stay in 32-bit protected mode with
 * paging off, on the loader's segments, and have no IDT (an exception triple-faults). */
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code32
	.global guest_entry
guest_entry:
	cli
	cld
	mov $stack_top, %esp
	push %ebx			/* guest_start(loader magic, information address) */
	push %eax
	call guest_start
	ud2

	.section .bss
	.balign 16
stack:
	.skip STACK_SIZE
stack_top:
