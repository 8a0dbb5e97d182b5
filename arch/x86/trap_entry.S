/* Exception entry stubs: give every vector the same frame (a zero error code where the CPU
 * pushes none), save all GPRs as gpr[0..15] in x86 register-number order, call trap_handler(). */


	.text
	.code64

.macro trap_stub vector
	.balign 16
trap_stub_\vector:
	/* Vectors whose exceptions push an error code (SDM Vol. 3A 6.13). */
	.if !(\vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17 || \vector == 21 || \vector == 29 || \vector == 30)
	pushq $0
	.endif
	pushq $\vector
	jmp trap_common
.endm

trap_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq %rsp
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	mov %rsp, %rdi
	and $~15, %rsp
	call trap_handler		/* does not return: every host exception is fatal */
1:	cli
	hlt
	jmp 1b

	.altmacro
.macro trap_stubs from, to
	trap_stub \from
	.if \to - \from
	trap_stubs %(\from + 1), \to
	.endif
.endm
	trap_stubs 0, 31

	.section .rodata
	.balign 8
	.global trap_stub_table
trap_stub_table:
.macro trap_stub_address vector
	.quad trap_stub_\vector
.endm
.macro trap_stub_addresses from, to
	trap_stub_address \from
	.if \to - \from
	trap_stub_addresses %(\from + 1), \to
	.endif
.endm
	trap_stub_addresses 0, 31
