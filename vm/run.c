/* The vCPU run loop: run the device timers that expired, decide what to inject, bound the
 * run by the next timer deadline or the end of the slice, enter the guest, dispatch the
 * exit; until the VM stops, halts or its slice ends (the scheduler, vm/sched.c, decides
 * what runs next). A failed VM entry is reported readably and stops the VM. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
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

/* The earliest moment the current run must end at: a device timer or the slice's end. */
static u64 run_deadline(const struct vcpu *vcpu)
{
	return MIN(vcpu->vm->timers.earliest, vcpu->slice_end);
}

/*
 * Expired timers run (they may raise interrupts), and the next run is bounded by the next
 * deadline. Skipped while no timer is armed and no slice ends: one compare on the hot
 * path. The preemption timer restarts from its VMCS field at every entry, so a device
 * timer's deadline is written again before each entry; the end of the slice needs no such
 * care (every exit checks it, and a run without exits meets the field's value once), so
 * it is written once per run. false: the slice is over.
 */
static bool timer_work(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	if (run_deadline(vcpu) == VTIMER_IDLE)
		return true;
	u64 now = rdtsc();
	if (now >= vm->timers.earliest)
		vtimers_run(vm, now);
	if (now >= vcpu->slice_end)
		return false;
	bool device_timer_first = vm->timers.earliest < vcpu->slice_end;
	if (device_timer_first || !vcpu->slice_bounded)
		run_bound_set(run_deadline(vcpu), now);
	vcpu->slice_bounded = !device_timer_first;
	return true;
}

bool vcpu_wake(struct vcpu *vcpu)
{
	if (!vcpu_has_wake_event(vcpu))
		return false;
	vcpu->halted = false;
	vcpu->requests |= VCPU_REQ_EVENTS;
	return true;
}

/* The CPU holds the unswitched state of this vCPU (NULL: of none, or of one destroyed). */
static struct vcpu *unswitched_owner;

/*
 * Bochs 2.7's VM entry sets the CPU's virtual-NMI blocking when the guest's interruptibility
 * state says so but never clears it (hardware loads it both ways, SDM Vol. 3C 27.3.2.5).
 * A vCPU entered after one that was inside its NMI handler inherits that blocking, and its
 * exits store it in its own VMCS until it executes IRET: an NMI for it would wait for an
 * IRET that may never come. So the last run's blocking is noted, and a vCPU entered after
 * a blocked one, without blocking of its own, is marked: deliver_events() then takes the
 * bit as stale. On hardware the mark changes nothing: there the bit is always the vCPU's.
 */
static const struct vcpu *last_run;
static bool last_run_left_nmi_blocked;

static void note_inherited_nmi_blocking(struct vcpu *vcpu)
{
	if (vcpu != last_run && last_run_left_nmi_blocked &&
	    !(vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI))
		vcpu->nmi_blocking_inherited = true;
	last_run = vcpu;
}

static void note_nmi_blocking_left(const struct vcpu *vcpu)
{
	last_run_left_nmi_blocked = vcpu->launched &&
				    (vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI);
}

static void take_cpu(struct vcpu *vcpu)
{
	vmcs_load(vcpu->vmcs_hpa);
	note_inherited_nmi_blocking(vcpu);
	if (unswitched_owner == vcpu)
		return;
	if (unswitched_owner)
		unswitched_state_save(&unswitched_owner->unswitched);
	unswitched_state_load(&vcpu->unswitched);
	unswitched_owner = vcpu;
}

void vcpu_forget_cpu(struct vcpu *vcpu)
{
	if (unswitched_owner == vcpu)
		unswitched_owner = NULL;
	if (last_run == vcpu)
		last_run = NULL;	/* a vCPU made later at this address is another */
}

/*
 * exit_ticks=on: the ticks from an exit to the next entry, the run loop's own work
 * included, billed to the exit's reason. An exit that ends the run (halt, slice, stop) is
 * billed nothing: what follows it is the scheduler's.
 */
struct exit_clock {
	u32 reason;		/* EXIT_REASON_COUNT: no exit to bill yet */
	u64 exit_tsc;
	u64 entry_tsc;
};

static void exit_clock_entry(struct vm *vm, struct exit_clock *clock)
{
	clock->entry_tsc = rdtsc();
	if (clock->reason < EXIT_REASON_COUNT)
		vm->stats.exit_ticks[clock->reason] += clock->entry_tsc - clock->exit_tsc;
}

static void exit_clock_exit(struct vm *vm, struct exit_clock *clock, u32 reason)
{
	clock->reason = reason;
	clock->exit_tsc = rdtsc();
	vm->stats.guest_ticks += clock->exit_tsc - clock->entry_tsc;
}

static enum vcpu_run_end run_loop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct exit_clock clock = { .reason = EXIT_REASON_COUNT };
	vcpu->slice_bounded = false;
	while (vm->state == VM_RUNNING) {
		if (!mmu_before_entry(vm, vcpu))
			break;
		if (unlikely(vcpu->halted))
			return VCPU_HALTED;
		if (!timer_work(vcpu))
			return VCPU_SLICE_OVER;
		if (unlikely(vcpu->requests & VCPU_REQ_EVENTS))
			deliver_events(vcpu);
		if (vcpu->pending.valid)
			inject_pending_event(vcpu);
		if (unlikely(vm_defaults.exit_ticks))
			exit_clock_entry(vm, &clock);
		if (unlikely(vmx_enter(vcpu->regs.gpr, vcpu->launched))) {
			report_entry_instruction_failure(vcpu);
			break;
		}
		vcpu->launched = true;
		u32 reason = vmcs_read32(VMCS_EXIT_REASON);
		if (unlikely(vm_defaults.exit_ticks))
			exit_clock_exit(vm, &clock, reason & EXIT_REASON_BASIC_MASK);
		if (unlikely(reason & EXIT_REASON_ENTRY_FAILURE)) {
			report_entry_failure(vcpu, reason);
			break;
		}
		vmexit_dispatch(vcpu, reason & EXIT_REASON_BASIC_MASK);
	}
	return VCPU_STOPPED;
}

enum vcpu_run_end vcpu_run(struct vcpu *vcpu)
{
	take_cpu(vcpu);
	enum vcpu_run_end end = run_loop(vcpu);
	note_nmi_blocking_left(vcpu);
	return end;
}
