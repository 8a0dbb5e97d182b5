/*
 * The scheduler: every VM shares the one CPU, round robin, each for a time slice
 * (vm_defaults.slice_ms of TSC, the slice= option) that the run loop ends through the same
 * deadline as the device timers. A halted vCPU is skipped until an interrupt or NMI can
 * wake it; when every vCPU is halted the CPU waits for the earliest device timer. A VM
 * that stops is reported and freed at once; the others go on.
 *
 * A VM's timeout= ends it like a slice that never comes back.
 *
 * A VM running alone gets no slice, but its run still ends at the earliest timer of any
 * halted VM, so that one wakes on time, and every CONSOLE_POLL_MS for the console input
 * (vm/console.c), so typed keys reach a busy guest.
 */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "vm/vm_internal.h"

#define CONSOLE_POLL_MS 10

struct sched {
	struct vm **vms;
	size_t count, live;
	void (*ended)(struct vm *vm);
};

/* Host TSC at which vm's earliest device timer expires (VTIMER_IDLE: none armed). */
static u64 host_deadline(const struct vm *vm)
{
	u64 earliest = vm->timers.earliest;
	return earliest == VTIMER_IDLE ? VTIMER_IDLE : earliest - vm->vcpu.tsc_offset;
}

/* When the vCPU about to run must give the CPU back (guest TSC; VTIMER_IDLE: never). */
static u64 slice_end(const struct sched *s, const struct vm *running, u64 now)
{
	u64 end = now + CONSOLE_POLL_MS * tsc_hz / 1000;
	for (size_t i = 0; i < s->count; i++) {
		const struct vm *vm = s->vms[i];
		if (!vm || vm == running)
			continue;
		u64 other = vm->vcpu.halted ? host_deadline(vm) :
			    now + vm_defaults.slice_ms * tsc_hz / 1000;
		end = MIN(end, other);
	}
	return MIN(end, running->end_tsc) + running->vcpu.tsc_offset;
}

static void end_vm(struct sched *s, size_t i)
{
	s->ended(s->vms[i]);
	s->vms[i] = NULL;
	s->live--;
}

/* One round: each VM that can run gets a slice. Returns whether any ran. */
static bool run_round(struct sched *s)
{
	bool ran = false;
	console_poll(s->vms, s->count);
	for (size_t i = 0; i < s->count; i++) {
		struct vm *vm = s->vms[i];
		if (!vm)
			continue;
		struct vcpu *vcpu = &vm->vcpu;
		if (rdtsc() >= vm->end_tsc)
			vm_stop(vm, VM_STATUS_FAULT, "its timeout of %llu s is over",
				(unsigned long long)vm->timeout_seconds);
		if (vm->state == VM_RUNNING && vcpu->halted && !vcpu_wake_check(vcpu))
			continue;
		ran = true;
		vcpu->slice_end = slice_end(s, vm, rdtsc());
		if (vm->state != VM_RUNNING || vcpu_run(vcpu) == VCPU_STOPPED)
			end_vm(s, i);
	}
	return ran;
}

/* Every vCPU is halted: wait for the first timer to wake one. A VM with no timer armed
 * can never be woken (no device raises interrupts by itself) unless typed input can reach
 * it: it is stopped. */
static void idle(struct sched *s)
{
	u64 next = VTIMER_IDLE;
	for (size_t i = 0; i < s->count; i++) {
		struct vm *vm = s->vms[i];
		if (!vm)
			continue;
		if (vm->timers.earliest == VTIMER_IDLE && !console_may_wake(vm) &&
		    !vcpu_wake_check(&vm->vcpu)) {
			vm_stop(vm, 0, "HLT: the guest waits for an interrupt, and no timer or device "
				"of this platform will raise one");
			end_vm(s, i);
			continue;
		}
		next = MIN(next, MIN(host_deadline(vm), vm->end_tsc));
	}
	/* Back to the round at the next console poll too: typed input may wake a VM. */
	next = MIN(next, rdtsc() + CONSOLE_POLL_MS * tsc_hz / 1000);
	while (rdtsc() < next)
		cpu_relax();
}

void sched_run(struct vm **vms, size_t count, void (*ended)(struct vm *vm))
{
	struct sched s = { .vms = vms, .count = count, .ended = ended };
	for (size_t i = 0; i < count; i++)
		s.live += vms[i] != NULL;
	while (s.live)
		if (!run_round(&s))
			idle(&s);
}
