/* Benchmark harness: RDTSC around a loop of calls, less an empty loop's cost. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

#define CENTI 100

/* Called through the same pointer as the real operations: the loop's own cost. */
static void __attribute__((noinline)) empty_op(unsigned i)
{
	asm volatile("" : : "r"(i));
}

static u64 time_loop(bench_op op, unsigned iterations)
{
	u64 start = rdtsc_ordered();

	for (unsigned i = 0; i < iterations; i++)
		op(i);
	return rdtsc_ordered() - start;
}

static u64 fastest_loop(bench_op op, unsigned iterations, unsigned repeats)
{
	u64 best = ~0ull;

	for (unsigned r = 0; r < repeats; r++) {
		u64 ticks = time_loop(op, iterations);	/* MIN() evaluates its arguments twice */

		best = MIN(best, ticks);
	}
	return best;
}

void bench_run(const char *name, bench_op op, unsigned iterations, bool repeatable)
{
	u64 ticks = fastest_loop(op, iterations, repeatable ? BENCH_REPEATS : 1);
	u64 overhead = fastest_loop(empty_op, iterations, BENCH_REPEATS);

	bench_report(name, ticks > overhead ? ticks - overhead : 0, iterations);
}

void bench_report(const char *name, u64 total, unsigned count)
{
	u64 centi_per_count = total * CENTI / count;

	printf("BENCH %s %lu.%02lu\n", name, (unsigned long)(centi_per_count / CENTI),
	       (unsigned long)(centi_per_count % CENTI));
}

void bench_skip(const char *name, const char *why)
{
	printf("BENCH-SKIP %s %s\n", name, why);
}

bool bench_shadow_mmu_ready(const char *name, unsigned hc_switch)
{
	if (!(cpuid(VIREO_CPUID_FEATURES).eax & VIREO_FEATURE_SHADOW_MMU)) {
		bench_skip(name, "the VM runs on EPT, not the shadow MMU");
		return false;
	}
	if (hc_set_switch(hc_switch, true) != 0) {
		bench_skip(name, "HC_SET_SWITCH refused: is the VM trusted?");
		return false;
	}
	return true;
}
