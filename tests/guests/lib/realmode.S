/* realmode_round_trip(): from 32-bit protected mode to real mode (CR0.PE = 0) and back, as
 * a DOS extender or a BIOS call thunk does (SDM Vol. 3A 9.9). In real mode it reads the
 * machine status word and stores a value through a segment register (linear = segment *
 * 16 + offset), then returns with what it saw: EAX = the MSW read in real mode. Runs below
 * 64 KiB (the low-linked guest); call it with interrupts off (real mode has no IVT here).
 * Loads its own GDT, which stays. */
#define CODE32 0x08
#define DATA32 0x10
#define CODE16 0x18
#define DATA16 0x20

	.text
	.code32
	.globl realmode_round_trip
realmode_round_trip:
	pushl %ebx
	pushl %esi
	pushl %edi
	pushl %ebp
	movl %esp, saved_esp
	lgdt gdt_pointer
	ljmp $CODE32, $1f
1:	ljmp $CODE16, $protected16

	.code16
protected16:
	movw $DATA16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmp $0, $real_mode

real_mode:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	smsw %bx			/* bit 0 (PE) must read 0 */
	movw %bx, realmode_msw
	movl $realmode_marker, %eax
	movl %eax, %edi
	shrl $4, %eax
	movw %ax, %es			/* ES:DI = the marker, as segment:offset */
	andw $0xf, %di
	movw $0x5a5a, %es:(%di)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $CODE32, $back32

	.code32
back32:
	movw $DATA32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl saved_esp, %esp
	movzwl realmode_msw, %eax
	popl %ebp
	popl %edi
	popl %esi
	popl %ebx
	ret

	.data
	.balign 16
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* CODE32: flat, 4 GiB */
	.quad 0x00cf92000000ffff	/* DATA32 */
	.quad 0x00009a000000ffff	/* CODE16: base 0, limit 64 KiB */
	.quad 0x000092000000ffff	/* DATA16 */
gdt_end:
gdt_pointer:
	.word gdt_end - gdt - 1
	.long gdt
saved_esp:
	.long 0
	.globl realmode_msw, realmode_marker
realmode_msw:
	.word 0xffff
	.balign 16
realmode_marker:
	.word 0
