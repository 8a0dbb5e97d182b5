/* Event injection: exceptions, NMIs and external interrupts (deciding when the guest can
 * take them, with the window exits that tell), and the guest-state report printed when a
 * VM is stopped. */
#include "arch/x86/cpu.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "vmexit/handlers.h"

#define NMI_VECTOR 2

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

/* Exceptions that are faults (SDM Vol. 3A table 6-1): all but the traps #DB, #BP and #OF
 * and the aborts #DF and #MC. */
#define TRAP_OR_ABORT_VECTORS (BIT(X86_EXC_DB) | BIT(X86_EXC_BP) | BIT(X86_EXC_OF) | \
			       BIT(X86_EXC_DF) | BIT(X86_EXC_MC))

static bool is_fault(const struct pending_event *e)
{
	return e->type == INTR_TYPE_HARD_EXCEPTION && !(TRAP_OR_ABORT_VECTORS & BIT(e->vector));
}

/* In real mode exceptions push no error code, and VM entry refuses to deliver one
 * (SDM Vol. 3C 26.2.1.3): a #GP injected there goes without it. A fault's RFLAGS image
 * has RF set, as the CPU pushes it (SDM Vol. 3A 17.3.1.1), so that an instruction
 * breakpoint does not fire again when the handler returns to the instruction. */
void inject_pending_event(struct vcpu *vcpu)
{
	struct pending_event *e = &vcpu->pending;
	u32 info = INTR_INFO_VALID | e->type | e->vector;
	if (is_fault(e))
		vmcs_writenat(VMCS_GUEST_RFLAGS, vmcs_readnat(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
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

void vcpu_update_proc_controls(struct vcpu *vcpu, u32 set, u32 clear)
{
	u32 proc = (vcpu->proc_controls | set) & ~clear;
	if (proc == vcpu->proc_controls)
		return;
	vcpu->proc_controls = proc;
	vmcs_write32(VMCS_PROC_CONTROLS, proc);
}

static bool guest_can_take_interrupt(u32 interruptibility)
{
	return (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(interruptibility & INTERRUPTIBILITY_STI_MOVSS);
}

/* NMIs need the virtual-NMI control: with it the CPU tracks NMI blocking (until IRET) in
 * the interruptibility state and offers NMI-window exits. */
static bool nmis_supported(void)
{
	return vmx_controls.pin & PIN_BASED_VIRTUAL_NMIS;
}

/* Blocking by NMI the vCPU inherited (vm/run.c) is dropped from its VMCS: it is not the
 * guest's. Once the bit reads clear, or the vCPU takes an NMI, the bit is its own again. */
static bool guest_can_take_nmi(struct vcpu *vcpu, u32 interruptibility)
{
	if (vcpu->nmi_blocking_inherited) {
		if (interruptibility & INTERRUPTIBILITY_NMI) {
			interruptibility &= ~INTERRUPTIBILITY_NMI;
			vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, interruptibility);
		} else {
			vcpu->nmi_blocking_inherited = false;
		}
	}
	return !(interruptibility & (INTERRUPTIBILITY_STI_MOVSS | INTERRUPTIBILITY_NMI));
}

static void queue_event(struct vcpu *vcpu, u32 type, u8 vector)
{
	vcpu->pending = (struct pending_event){ .valid = true, .type = type, .vector = vector };
}

/* A vCPU halts only with interrupts on (handle_hlt()), and nothing changes its RFLAGS
 * while it sleeps: no VMCS access needed, so the scheduler asks with any VMCS loaded. */
bool vcpu_has_wake_event(struct vcpu *vcpu)
{
	return (vcpu->nmi_pending && nmis_supported()) || vdev_interrupt_pending(vcpu->vm);
}

void deliver_events(struct vcpu *vcpu)
{
	vcpu->requests &= ~VCPU_REQ_EVENTS;
	if (vcpu->nmi_pending && !nmis_supported()) {
		pr_debug("vm %s: NMI dropped: this CPU has no virtual NMIs\n", vcpu->vm->name);
		vcpu->nmi_pending = false;
	}
	bool want_nmi = vcpu->nmi_pending;
	bool want_interrupt = vdev_interrupt_pending(vcpu->vm);
	if (!vcpu->pending.valid && (want_nmi || want_interrupt)) {
		u32 interruptibility = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
		if (want_nmi && guest_can_take_nmi(vcpu, interruptibility)) {
			queue_event(vcpu, INTR_TYPE_NMI, NMI_VECTOR);
			vcpu->nmi_pending = want_nmi = false;
			vcpu->nmi_blocking_inherited = false;
		} else if (want_interrupt && guest_can_take_interrupt(interruptibility)) {
			queue_event(vcpu, INTR_TYPE_EXTERNAL, vdev_acknowledge_interrupt(vcpu->vm));
			want_interrupt = vdev_interrupt_pending(vcpu->vm);
		}
	}
	/* Window exits come at the first instruction boundary where the guest can take the
	 * event; the handlers ask for this decision again. */
	vcpu_update_proc_controls(vcpu,
				  (want_interrupt ? CPU_BASED_INTERRUPT_WINDOW : 0) |
				  (want_nmi ? CPU_BASED_NMI_WINDOW : 0),
				  (want_interrupt ? 0 : CPU_BASED_INTERRUPT_WINDOW) |
				  (want_nmi ? 0 : CPU_BASED_NMI_WINDOW));
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
