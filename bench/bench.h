/* Benchmark harness for the bench guests: times N runs of an operation with RDTSC, less the
 * cost of the timing loop itself, and prints one machine-readable line per benchmark:
 *   BENCH <name> <ticks per operation, two decimals>
 *   BENCH-SKIP <name> <why>
 * Under Bochs with `clock: sync=none` a tick is one emulated instruction (VM exits and
 * entries included), so the numbers are deterministic; on hardware they are cycles. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include "lib/types.h"

#define BENCH_ITERATIONS 1000

/* One operation; i counts 0..iterations-1 (for operations that need a fresh target). */
typedef void (*bench_op)(unsigned i);

/* Measures op over iterations runs and prints its BENCH line. A repeatable op is timed
 * three times and the fastest run kept (the first may include one-time costs); a
 * non-repeatable one (each i touches something new) is timed once. */
void bench_run(const char *name, bench_op op, unsigned iterations, bool repeatable);
void bench_skip(const char *name, const char *why);

#endif
