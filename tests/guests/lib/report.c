/* Test results: PASS/FAIL lines, the failure count, and the exit through isa-debug-exit. */
#include <stdarg.h>
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/console.h"
#include "tests/guests/lib/x86.h"
#include "lib/printf.h"

#define REPORT_LINE_SIZE 256

static unsigned passed, failed;

/* One line, one serial_write: the host sees a whole line even if we fault mid-report. */
static void print_result(const char *verdict, const char *fmt, va_list ap)
{
	char line[REPORT_LINE_SIZE];
	int prefix = snprintf(line, sizeof(line), "%s: ", verdict);

	vsnprintf(line + prefix, sizeof(line) - prefix, fmt, ap);
	puts(line);
}

bool reportf(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_result(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

bool report(const char *what, bool ok)
{
	return reportf(ok, "%s", what);
}

void report_skip(const char *what)
{
	printf("SKIP: %s\n", what);
}

unsigned report_failures(void)
{
	return failed;
}

void debug_exit(u32 status)
{
	outl(DEBUG_EXIT_PORT, status);
	/* Only a hypervisor without a debug-exit device gets here. */
	printf("FAIL: the write of %u to the debug-exit port did not stop the VM\n", status);
	halt_forever();
}

void exit_test(void)
{
	printf("SUMMARY: %u passed, %u failed\n", passed, failed);
	debug_exit(failed ? EXIT_STATUS_FAILURE : EXIT_STATUS_SUCCESS);
}
