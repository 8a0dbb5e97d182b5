/* Event injection and the guest-state report printed when a VM is stopped. */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vmexit/handlers.h"

void inject_exception(struct vcpu *vcpu, u8 vector, bool has_error_code, u32 error_code)
{
	vcpu->pending = (struct pending_event){
		.valid = true, .vector = vector, .has_error_code = has_error_code,
		.error_code = error_code, .type = INTR_TYPE_HARD_EXCEPTION,
	};
}

void inject_page_fault(struct vcpu *vcpu, u64 address, u32 error_code)
{
	inject_exception(vcpu, X86_EXC_PF, true, error_code);
	vcpu->pending.cr2 = address;
}

static bool is_software_event(u32 type)
{
	return type == INTR_TYPE_SOFT_INTERRUPT || type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	       type == INTR_TYPE_SOFT_EXCEPTION;
}

/* In real mode exceptions push no error code, and VM entry refuses to deliver one
 * (SDM Vol. 3C 26.2.1.3): a #GP injected there goes without it. */
void inject_pending_event(struct vcpu *vcpu)
{
	struct pending_event *e = &vcpu->pending;
	u32 info = INTR_INFO_VALID | e->type | e->vector;
	if (e->has_error_code && (vcpu_guest_cr0(vcpu) & CR0_PE)) {
		info |= INTR_INFO_DELIVER_ERROR_CODE;
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, e->error_code);
	}
	if (is_software_event(e->type))
		vmcs_write32(VMCS_ENTRY_INSTRUCTION_LENGTH, e->instruction_length);
	if (e->vector == X86_EXC_PF)
		write_cr2(e->cr2);	/* the guest's CR2 is the real one while it runs */
	vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, info);
	e->valid = false;
}

void requeue_event(struct vcpu *vcpu, u32 info)
{
	u32 type = info & INTR_INFO_TYPE_MASK;
	vcpu->pending = (struct pending_event){
		.valid = true, .vector = (u8)(info & INTR_INFO_VECTOR_MASK), .type = type,
		.has_error_code = info & INTR_INFO_DELIVER_ERROR_CODE,
	};
	if (vcpu->pending.has_error_code)
		vcpu->pending.error_code = vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE);
	if (is_software_event(type))
		vcpu->pending.instruction_length = exit_instruction_length(vcpu);
	if (vcpu->pending.vector == X86_EXC_PF)
		vcpu->pending.cr2 = read_cr2();
}

void vcpu_dump_state(struct vcpu *vcpu)
{
	const u64 *r = vcpu->regs.gpr;
	printk("  rip %016llx  rsp %016llx  rflags %08llx\n",
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_RIP),
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_RSP),
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_RFLAGS));
	printk("  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n",
	       (unsigned long long)r[X86_RAX], (unsigned long long)r[X86_RBX],
	       (unsigned long long)r[X86_RCX], (unsigned long long)r[X86_RDX]);
	printk("  rsi %016llx  rdi %016llx  rbp %016llx\n", (unsigned long long)r[X86_RSI],
	       (unsigned long long)r[X86_RDI], (unsigned long long)r[X86_RBP]);
	printk("  cr0 %08llx (guest view %08llx)  cr3 %016llx (guest view %016llx)  cr4 %08llx (guest view %08llx)  efer %llx\n",
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_CR0), (unsigned long long)vcpu_guest_cr0(vcpu),
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_CR3), (unsigned long long)vcpu_guest_cr3(vcpu),
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_CR4), (unsigned long long)vcpu_guest_cr4(vcpu),
	       (unsigned long long)vcpu_guest_efer(vcpu));
	printk("  cs %04x base %llx access rights %05x\n", vmcs_read16(VMCS_GUEST_CS_SELECTOR),
	       (unsigned long long)vmcs_readnat(VMCS_GUEST_CS_BASE), vmcs_read32(VMCS_GUEST_CS_AR));
}
