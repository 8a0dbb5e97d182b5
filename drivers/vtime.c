/* The guest's clock as the device models see it: unit conversions and the device timers
 * (drivers/vdev.h). Timers are few (one per timer device), so a scan is all they need. */
#include "core/vm.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/muldiv.h"

u64 vdev_ticks_to_tsc(u64 ticks, u64 hz)
{
	return mul_div_u64(ticks, tsc_hz, hz);
}

u64 vdev_tsc_to_ticks(u64 tsc, u64 hz)
{
	return mul_div_u64(tsc, hz, tsc_hz);
}

bool vtimer_init(struct vm *vm, struct vtimer *timer,
		 void (*expire)(struct vtimer *timer, u64 now), void *opaque)
{
	struct vm_timers *timers = &vm->timers;

	if (timers->count == VM_TIMERS_MAX)
		return false;
	if (timers->count == 0)
		timers->earliest = VTIMER_IDLE;
	*timer = (struct vtimer){ .vm = vm, .deadline = VTIMER_IDLE, .expire = expire,
				  .opaque = opaque };
	timers->timer[timers->count++] = timer;
	return true;
}

void vtimer_arm(struct vtimer *timer, u64 deadline)
{
	struct vm_timers *timers = &timer->vm->timers;

	timer->deadline = deadline;
	timers->earliest = MIN(timers->earliest, deadline);
}

void vtimer_cancel(struct vtimer *timer)
{
	timer->deadline = VTIMER_IDLE;
}

u64 vtimers_run(struct vm *vm, u64 now)
{
	struct vm_timers *timers = &vm->timers;
	u64 earliest = VTIMER_IDLE;

	timers->earliest = VTIMER_IDLE;	/* lowered by any vtimer_arm() an expire() makes */
	for (unsigned i = 0; i < timers->count; i++) {
		struct vtimer *t = timers->timer[i];
		if (t->deadline <= now) {
			t->deadline = VTIMER_IDLE;	/* one-shot: expire() may re-arm it */
			t->expire(t, now);
		}
		earliest = MIN(earliest, t->deadline);
	}
	timers->earliest = MIN(earliest, timers->earliest);
	return timers->earliest;
}

void vtimers_clear(struct vm *vm)
{
	vm->timers = (struct vm_timers){ .earliest = VTIMER_IDLE };
}
