/* Test results: one "PASS: what" / "FAIL: what" line per check, and the exit that reports
 * them to the host (isa-debug-exit: 0 when nothing failed, else 1). */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include "lib/types.h"

#define EXIT_STATUS_SUCCESS 0
#define EXIT_STATUS_FAILURE 1

/* Print the result line and count it; return ok. */
bool report(const char *what, bool ok);
bool reportf(bool ok, const char *fmt, ...) __printf(2, 3);
/* A check that could not run here: "SKIP: what", counted neither way. */
void report_skip(const char *what);
unsigned report_failures(void);

/* Prints "SUMMARY: N passed, M failed" and stops the VM with the matching status. */
__noreturn void exit_test(void);
/* Writes status to the debug-exit port (32-bit write): the VM stops with that status. */
__noreturn void debug_exit(u32 status);

#endif
