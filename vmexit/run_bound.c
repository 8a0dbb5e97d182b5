/*
 * What ends a guest's run at a deadline (the next device timer, the end of the slice; the
 * run loop, vm/run.c, sets it before entries): the VMX-preemption timer, or on CPUs
 * without it (Core 2) the host's APIC timer, whose interrupt exits (acknowledged on exit).
 * Without either, a run ends only at the guest's own exits.
 */
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "vmexit/vmexit.h"

static enum { RUN_BOUND_NONE, RUN_BOUND_PREEMPTION_TIMER, RUN_BOUND_HOST_TIMER } run_bound;
static u64 host_timer_deadline = VTIMER_IDLE;	/* when the host timer is armed to fire */
static unsigned preemption_timer_shift;		/* it counts TSC ticks >> this */

void run_bounds_init(void)
{
	preemption_timer_shift = vmx_caps.misc & VMX_MISC_PREEMPTION_RATE_MASK;
	if (vmx_controls.pin & PIN_BASED_PREEMPTION_TIMER)
		run_bound = RUN_BOUND_PREEMPTION_TIMER;
	else if ((vmx_controls.exit & EXIT_ACK_INTERRUPT) && host_timer_init())
		run_bound = RUN_BOUND_HOST_TIMER;
	else
		pr_warn("vm: no VMX-preemption timer and no host APIC timer: a guest that loops "
			"without exits keeps the CPU, and its timers fire late\n");
}

void run_bound_expired(u8 host_vector)
{
	if (host_vector == HOST_TIMER_VECTOR) {
		host_timer_eoi();
		host_timer_deadline = VTIMER_IDLE;
	}
}

/* VTIMER_IDLE (all ones) is far enough away to get the longest count. */
static void bound_by_preemption_timer(u64 earliest, u64 now)
{
	static_assert(VTIMER_IDLE == ~0ull, "idle is the farthest deadline");
	u64 ticks = earliest > now ? (earliest - now) >> preemption_timer_shift : 0;
	vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE, (u32)MIN(ticks, PREEMPTION_TIMER_MAX));
}

/* The host timer runs in real time (host TSC): armed again only when the deadline moved
 * earlier. */
static void bound_by_host_timer(u64 earliest, u64 now)
{
	if (earliest >= host_timer_deadline)
		return;
	host_timer_deadline = earliest;
	host_timer_arm(earliest > now ? earliest - now : 0);
}

void run_bound_set(u64 earliest, u64 now)
{
	if (run_bound == RUN_BOUND_PREEMPTION_TIMER)
		bound_by_preemption_timer(earliest, now);
	else if (run_bound == RUN_BOUND_HOST_TIMER)
		bound_by_host_timer(earliest, now);
}
