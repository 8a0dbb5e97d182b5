/* Benchmark harness for the bench guests: times N runs of an operation with RDTSC, less the
 * cost of the timing loop itself, and prints one machine-readable line per benchmark:
 *   BENCH <name> <ticks per operation (or a count), two decimals>
 *   BENCH-SKIP <name> <why>
 * Under Bochs with `clock: sync=none` a tick is one emulated instruction (VM exits and
 * entries included), so the numbers are deterministic; on hardware they are cycles. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include "lib/types.h"

#define BENCH_ITERATIONS 1000
#define BENCH_REPEATS 3		/* timed runs of a repeatable operation */

/* One operation; i counts 0..iterations-1 (for operations that need a fresh target). */
typedef void (*bench_op)(unsigned i);

/* Measures op over iterations runs and prints its BENCH line. A repeatable op is timed
 * three times and the fastest run kept (the first may include one-time costs); a
 * non-repeatable one (each i touches something new) is timed once. */
void bench_run(const char *name, bench_op op, unsigned iterations, bool repeatable);
/* Prints the BENCH line of a figure the guest measured itself: total / count (ticks per
 * operation, or a count with count 1). */
void bench_report(const char *name, u64 total, unsigned count);
void bench_skip(const char *name, const char *why);
/* Whether the VM runs on the shadow MMU and may set hc_switch (HC_SWITCH_*, set to 1 here):
 * else the benchmarks called name are skipped, with a BENCH-SKIP line saying why. */
bool bench_shadow_mmu_ready(const char *name, unsigned hc_switch);

#endif
