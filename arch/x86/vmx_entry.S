/* VM entry and exit. vmx_enter() saves the host's callee-saved registers, points HOST_RSP
 * at its frame (a VMWRITE only when the frame moved: the run loop calls from one place),
 * loads the guest GPRs and enters; a VM exit lands at vmx_exit_entry with RSP = that
 * frame, saves the guest GPRs and returns 0 from vmx_enter(). Every instruction here runs
 * twice per exit, so the path is kept short. */

#define VMCS_HOST_RSP 0x6c14
#define GPR(n) (8 * (n))	/* gprs[] is in x86 register-number order */
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

	.data
	.balign 8
/* The HOST_RSP of the current VMCS (0: unknown). vmcs_load() resets it. */
	.global host_rsp_in_vmcs
host_rsp_in_vmcs:
	.quad 0

	.text
	.code64
	.global vmx_enter
/* int vmx_enter(u64 *gprs, bool launched) */
vmx_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi			/* the gprs pointer, found again at [HOST_RSP] on exit */
	cmp %rsp, host_rsp_in_vmcs(%rip)
	je 2f
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe entry_failed
	mov %rsp, host_rsp_in_vmcs(%rip)
2:	cmpl $0, %esi			/* launched? the movs below keep the flags */
	mov GPR(RAX)(%rdi), %rax
	mov GPR(RCX)(%rdi), %rcx
	mov GPR(RDX)(%rdi), %rdx
	mov GPR(RBX)(%rdi), %rbx
	mov GPR(RBP)(%rdi), %rbp
	mov GPR(RSI)(%rdi), %rsi
	mov GPR(8)(%rdi), %r8
	mov GPR(9)(%rdi), %r9
	mov GPR(10)(%rdi), %r10
	mov GPR(11)(%rdi), %r11
	mov GPR(12)(%rdi), %r12
	mov GPR(13)(%rdi), %r13
	mov GPR(14)(%rdi), %r14
	mov GPR(15)(%rdi), %r15
	mov GPR(RDI)(%rdi), %rdi	/* last: it held the pointer; mov leaves flags alone */
	jne 1f
	vmlaunch
	jmp entry_failed
1:	vmresume
entry_failed:
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	mov $1, %eax
	ret

	.global vmx_exit_entry
vmx_exit_entry:
	xchg %rdi, (%rsp)		/* rdi = the gprs pointer; the slot keeps guest RDI */
	mov %rax, GPR(RAX)(%rdi)
	mov %rcx, GPR(RCX)(%rdi)
	mov %rdx, GPR(RDX)(%rdi)
	mov %rbx, GPR(RBX)(%rdi)
	mov %rbp, GPR(RBP)(%rdi)
	mov %rsi, GPR(RSI)(%rdi)
	mov %r8, GPR(8)(%rdi)
	mov %r9, GPR(9)(%rdi)
	mov %r10, GPR(10)(%rdi)
	mov %r11, GPR(11)(%rdi)
	mov %r12, GPR(12)(%rdi)
	mov %r13, GPR(13)(%rdi)
	mov %r14, GPR(14)(%rdi)
	mov %r15, GPR(15)(%rdi)
	popq GPR(RDI)(%rdi)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret
