/* Exception entry stubs of the 64-bit test guests, and catch_setjmp()/catch_longjmp() that
 * let the handler resume where a test armed its catch (lib/except.h). */
#include "tests/guests/lib/x86.h"

	.text
/* One stub per vector: a dummy error code where the CPU pushes none, then the vector. */
.macro TRAP_STUB vector
trap_stub_\vector:
	.if !((1 << \vector) & ERROR_CODE_VECTORS)
	pushq $0
	.endif
	pushq $\vector
	jmp trap_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	TRAP_STUB \v
.endr

/* Saves the registers as struct trap_frame (lib/except.c) and hands it to the C handler,
 * which never returns. The CPU aligned RSP to 16 and pushed 6 quadwords with the error
 * code; the vector and 15 registers make 16 more: RSP is 16-byte aligned at the call. */
trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call exception_handler
	ud2

	.section .rodata
	.balign 8
	.global trap_stubs
trap_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\v
.endr

	.text
/* int catch_setjmp(struct catch_point *cp): offsets follow struct catch_point. */
	.global catch_setjmp
catch_setjmp:
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rax		/* RSP after our return */
	mov %rax, 48(%rdi)
	mov (%rsp), %rax		/* return address */
	mov %rax, 56(%rdi)
	xor %eax, %eax
	ret

/* void catch_longjmp(const struct catch_point *cp): catch_setjmp returns 1 again. */
	.global catch_longjmp
catch_longjmp:
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	mov $1, %eax
	cld
	jmp *56(%rdi)
