/* Interrupt entry stubs of the 64-bit test guests, vectors 32-255: each pushes its vector
 * and the common path calls irq_dispatch() (lib/irq.c) with the caller-saved registers
 * saved, then returns to the interrupted code with IRETQ. */
#include "tests/guests/lib/x86.h"

	.text
.macro IRQ_STUB vector
irq_stub_\vector:
	pushq $\vector
	jmp irq_common
.endm

.altmacro
.macro IRQ_STUBS from, to
	IRQ_STUB %(\from)
	.if \to-\from
	IRQ_STUBS %(\from+1), \to
	.endif
.endm
.macro IRQ_STUB_ADDRESS vector
	.quad irq_stub_\vector
.endm
.macro IRQ_STUB_ADDRESSES from, to
	IRQ_STUB_ADDRESS %(\from)
	.if \to-\from
	IRQ_STUB_ADDRESSES %(\from+1), \to
	.endif
.endm

	IRQ_STUBS 32, 63
	IRQ_STUBS 64, 95
	IRQ_STUBS 96, 127
	IRQ_STUBS 128, 159
	IRQ_STUBS 160, 191
	IRQ_STUBS 192, 223
	IRQ_STUBS 224, 255

/* The CPU pushed 5 quadwords and we the vector: with 9 registers saved RSP is 16-byte
 * aligned at the call, whatever the interrupted code's alignment (the CPU aligned it). */
irq_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
	mov 72(%rsp), %rdi		/* the vector */
	mov 80(%rsp), %rsi		/* the interrupted RIP */
	call irq_dispatch
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $8, %rsp
	iretq

	.section .rodata
	.balign 8
	.global irq_stubs
irq_stubs:
	IRQ_STUB_ADDRESSES 32, 63
	IRQ_STUB_ADDRESSES 64, 95
	IRQ_STUB_ADDRESSES 96, 127
	IRQ_STUB_ADDRESSES 128, 159
	IRQ_STUB_ADDRESSES 160, 191
	IRQ_STUB_ADDRESSES 192, 223
	IRQ_STUB_ADDRESSES 224, 255
