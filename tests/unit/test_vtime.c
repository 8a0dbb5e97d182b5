/* Unit tests of the device timers and clock conversions (drivers/vtime.c).
 * unit-sources: drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

struct counting_timer {
	struct vtimer timer;
	unsigned fired;
	u64 last_now;
	u64 period;		/* re-arms itself when non-zero */
};

static void count_expiry(struct vtimer *t, u64 now)
{
	struct counting_timer *c = t->opaque;

	c->fired++;
	c->last_now = now;
	if (c->period)
		vtimer_arm(t, now + c->period);
}

static void test_one_shot_and_periodic(void)
{
	struct counting_timer a = { 0 }, b = { .period = 30 };

	fake_platform_reset();
	CHECK(vtimer_init(&vm, &a.timer, count_expiry, &a));
	CHECK(vtimer_init(&vm, &b.timer, count_expiry, &b));
	CHECK_EQ(vtimers_run(&vm, 0), VTIMER_IDLE);	/* nothing armed */
	vtimer_arm(&a.timer, 100);
	vtimer_arm(&b.timer, 40);
	CHECK_EQ(vtimers_run(&vm, 39), 40);
	CHECK_EQ(a.fired + b.fired, 0);
	CHECK_EQ(vtimers_run(&vm, 40), 70);	/* b fired and re-armed */
	CHECK_EQ(b.fired, 1);
	CHECK_EQ(b.last_now, 40);
	CHECK_EQ(vtimers_run(&vm, 150), 180);	/* late: both fire once */
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(b.fired, 2);
	CHECK_EQ(a.timer.deadline, VTIMER_IDLE);
	vtimer_cancel(&b.timer);
	CHECK_EQ(vtimers_run(&vm, 1000), VTIMER_IDLE);
	CHECK_EQ(b.fired, 2);
}

/* An expiry that arms another timer, one already looked at in the same scan. */
static struct counting_timer chained_first, chained_second;

static void arm_first(struct vtimer *t, u64 now)
{
	count_expiry(t, now);
	vtimer_arm(&chained_first.timer, now + 5);
}

static void test_expiry_arms_another(void)
{
	fake_platform_reset();
	CHECK(vtimer_init(&vm, &chained_first.timer, count_expiry, &chained_first));
	CHECK(vtimer_init(&vm, &chained_second.timer, arm_first, &chained_second));
	vtimer_arm(&chained_second.timer, 10);
	CHECK_EQ(vm.timers.earliest, 10);
	CHECK_EQ(vtimers_run(&vm, 10), 15);
	CHECK_EQ(vm.timers.earliest, 15);
	CHECK_EQ(vtimers_run(&vm, 15), VTIMER_IDLE);
	CHECK_EQ(chained_first.fired, 1);
	vtimers_clear(&vm);
	CHECK_EQ(vm.timers.count, 0);
	CHECK_EQ(vm.timers.earliest, VTIMER_IDLE);
}

static void test_capacity(void)
{
	struct counting_timer t[VM_TIMERS_MAX + 1];

	fake_platform_reset();
	for (unsigned i = 0; i < VM_TIMERS_MAX; i++)
		CHECK(vtimer_init(&vm, &t[i].timer, count_expiry, &t[i]));
	CHECK(!vtimer_init(&vm, &t[VM_TIMERS_MAX].timer, count_expiry, &t[VM_TIMERS_MAX]));
}

static void test_conversions(void)
{
	CHECK_EQ(vdev_ticks_to_tsc(1193182, 1193182), tsc_hz);	/* one second of PIT */
	CHECK_EQ(vdev_tsc_to_ticks(tsc_hz, 3579545), 3579545);	/* one second of PM timer */
	CHECK_EQ(vdev_tsc_to_ticks(500, 1000000), 0);		/* rounds down */
	/* No overflow where ticks * tsc_hz passes 2^64. */
	CHECK_EQ(vdev_tsc_to_ticks(UINT64_MAX / 2, tsc_hz), UINT64_MAX / 2);
	CHECK_EQ(vdev_ticks_to_tsc(1ull << 40, 1ull << 30), 1024 * tsc_hz);
}

int main(void)
{
	test_one_shot_and_periodic();
	test_expiry_arms_another();
	test_capacity();
	test_conversions();
	return unit_done("test_vtime");
}
