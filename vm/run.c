/* The vCPU run loop: inject what is pending, enter the guest, dispatch the exit; until the
 * VM stops. A failed VM entry is reported readably and stops the VM. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "vm/vm_internal.h"
#include "vmexit/vmexit.h"

static void report_entry_instruction_failure(struct vcpu *vcpu)
{
	u32 error = vmcs_read32(VMCS_INSTRUCTION_ERROR);
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "VM entry failed: VM-instruction error %u (%s)",
		error, vmx_instruction_error_name(error));
}

static void report_entry_failure(struct vcpu *vcpu, u32 reason)
{
	u32 basic = reason & EXIT_REASON_BASIC_MASK;
	printk("vm %s: VM entry failed: %s (exit reason %u, qualification %#llx)\n",
	       vcpu->vm->name, exit_reason_name(basic), basic,
	       (unsigned long long)vmcs_readnat(VMCS_EXIT_QUALIFICATION));
	if (basic == EXIT_REASON_INVALID_GUEST_STATE)
		vmcs_report_guest_state_checks(vcpu);
	vcpu_dump_state(vcpu);
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "VM entry failed: %s", exit_reason_name(basic));
}

/* The MMU's requests (mmu/mmu.h): a zapped root reloaded, the shadow TLB flushed. false:
 * the VM stopped. */
static __attribute__((noinline)) bool mmu_entry_work(struct vcpu *vcpu)
{
	struct mmu *mmu = &vcpu->vm->mmu;
	bool ok = true;
	if (vcpu_shadow_paging(vcpu)) {
		ok = shadow_before_entry(vcpu);
	} else if (!mmu_root_current(mmu, &vcpu->mmu)) {
		mmu_ept_reload_root(mmu, &vcpu->mmu);
		vmcs_write64(VMCS_EPT_POINTER, mmu_eptp(mmu));
	}
	mmu_entry_work_done(mmu, &vcpu->mmu);
	return ok;
}

/* Honoured before every entry, so no vCPU enters the guest on an obsolete root: one
 * compare when nothing is asked. */
static bool mmu_before_entry(struct vm *vm, struct vcpu *vcpu)
{
	if (likely(!mmu_entry_work_pending(&vm->mmu, &vcpu->mmu)))
		return true;
	return mmu_entry_work(vcpu);
}

void vcpu_run(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	vmcs_load(vcpu->vmcs_hpa);
	msr_reset_passthrough();
	cpu_reset_unswitched_state();
	vm->state = VM_RUNNING;
	while (vm->state == VM_RUNNING) {
		if (!mmu_before_entry(vm, vcpu))
			break;
		if (vcpu->pending.valid)
			inject_pending_event(vcpu);
		if (unlikely(vmx_enter(vcpu->regs.gpr, vcpu->launched))) {
			report_entry_instruction_failure(vcpu);
			break;
		}
		vcpu->launched = true;
		u32 reason = vmcs_read32(VMCS_EXIT_REASON);
		if (unlikely(reason & EXIT_REASON_ENTRY_FAILURE)) {
			report_entry_failure(vcpu, reason);
			break;
		}
		vmexit_dispatch(vcpu, reason & EXIT_REASON_BASIC_MASK);
	}
}
