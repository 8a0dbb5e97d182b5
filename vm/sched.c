/*
 * The scheduler: every VM shares the one CPU. Between two runs it first runs every VM's
 * expired device timers, then picks what runs next: a halted vCPU that now has an
 * interrupt or NMI to take (the lowest latency for the VM that was waiting), else the next
 * runnable vCPU round robin. A run ends at the end of its time slice (vm_defaults.slice_ms
 * of TSC, the slice= option) if another vCPU can run, at any other VM's next device timer
 * (so its interrupt is on time), at the console's next poll (vm/console.c), and at the
 * VM's own timeout=; the run loop ends it through the same deadline as its own timers.
 * When every vCPU is halted the CPU waits for the earliest timer. A VM that stops is
 * reported and freed at once; the others go on.
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
	size_t last;			/* index of the VM that ran last */
	void (*ended)(struct vm *vm);
};

static u64 ms_to_tsc(u64 ms)
{
	return ms * tsc_hz / 1000;
}

static void end_vm(struct sched *s, size_t i)
{
	s->ended(s->vms[i]);
	s->vms[i] = NULL;
	s->live--;
}

/* Expired timers and timeouts of every VM; a VM they stopped is ended. A VM whose timer
 * just gave it an interrupt to take is boosted: it runs next, once. */
static void run_timers(struct sched *s, u64 now)
{
	for (size_t i = 0; i < s->count; i++) {
		struct vm *vm = s->vms[i];
		if (!vm)
			continue;
		if (now >= vm->timers.earliest) {
			vtimers_run(vm, now);
			vm->vcpu.boosted = vdev_interrupt_pending(vm);
		}
		if (now >= vm->end_tsc)
			vm_stop(vm, VM_STATUS_FAULT, "its timeout of %llu s is over",
				(unsigned long long)vm->timeout_seconds);
		if (vm->state != VM_RUNNING)
			end_vm(s, i);
	}
}

/* The next VM to run, after the last one in creation order, or NULL if all are halted:
 * first one a timer boosted (a halted one woken by it, or a runnable one, whose interrupt
 * would otherwise wait for its turn), then one that wakes, then the next runnable one. */
static struct vm *pick_next(struct sched *s)
{
	for (size_t k = 1; k <= s->count; k++) {
		struct vm *vm = s->vms[(s->last + k) % s->count];
		if (vm && vm->vcpu.boosted && (!vm->vcpu.halted || vcpu_wake(&vm->vcpu))) {
			vm->vcpu.boosted = false;
			s->last = (s->last + k) % s->count;
			return vm;
		}
	}
	for (size_t k = 1; k <= s->count; k++) {
		struct vm *vm = s->vms[(s->last + k) % s->count];
		if (vm && vm->vcpu.halted && vcpu_wake(&vm->vcpu)) {
			s->last = (s->last + k) % s->count;
			return vm;
		}
	}
	for (size_t k = 1; k <= s->count; k++) {
		struct vm *vm = s->vms[(s->last + k) % s->count];
		if (vm && !vm->vcpu.halted) {
			s->last = (s->last + k) % s->count;
			return vm;
		}
	}
	return NULL;
}

/* When the run of `running` must end (host TSC, the platform clock). */
static u64 run_end(const struct sched *s, const struct vm *running, u64 now)
{
	u64 end = MIN(now + ms_to_tsc(CONSOLE_POLL_MS), running->end_tsc);
	for (size_t i = 0; i < s->count; i++) {
		const struct vm *vm = s->vms[i];
		if (!vm || vm == running)
			continue;
		end = MIN(end, vm->timers.earliest);
		if (!vm->vcpu.halted)
			end = MIN(end, now + ms_to_tsc(vm_defaults.slice_ms));
	}
	return end;
}

/* Every vCPU is halted: wait for the first timer (or the console's next poll). A VM with
 * no timer armed can never be woken, since no device raises interrupts by itself, unless
 * typed input can reach it: it is stopped. */
static void idle(struct sched *s)
{
	u64 now = rdtsc(), next = now + ms_to_tsc(CONSOLE_POLL_MS);
	for (size_t i = 0; i < s->count; i++) {
		struct vm *vm = s->vms[i];
		if (!vm)
			continue;
		if (vm->timers.earliest == VTIMER_IDLE && vm->end_tsc == VTIMER_IDLE &&
		    !console_may_wake(vm)) {
			vm_stop(vm, 0, "HLT: the guest waits for an interrupt, and no timer or device "
				"of this platform will raise one");
			end_vm(s, i);
			continue;
		}
		next = MIN(next, MIN(vm->timers.earliest, vm->end_tsc));
	}
	while (rdtsc() < next) {
		uart_console_drain();
		cpu_relax();
	}
}

void sched_run(struct vm **vms, size_t count, void (*ended)(struct vm *vm))
{
	struct sched s = { .vms = vms, .count = count, .last = count - 1, .ended = ended };
	for (size_t i = 0; i < count; i++)
		s.live += vms[i] != NULL;
	while (s.live) {
		run_timers(&s, rdtsc());
		uart_console_drain();
		console_poll(s.vms, s.count);
		struct vm *vm = pick_next(&s);
		if (!vm) {
			idle(&s);
			continue;
		}
		vm->vcpu.slice_end = run_end(&s, vm, rdtsc());
		if (vcpu_run(&vm->vcpu) == VCPU_STOPPED)
			end_vm(&s, s.last);
	}
}
