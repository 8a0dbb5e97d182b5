/* Unit tests of lib/log.c (console sink, level filtering, truncation) and lib/panic.c
 * (the PANIC line with file:line, the halt, the recursive-panic guard).
 * unit-sources: lib/log.c lib/panic.c lib/printf.c lib/string.c
 */
#include <setjmp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/panic.h"
#include "lib/printf.h"
#include "tests/unit/unit.h"

/* Everything the console sink received since console_reset(). */
static char console[4096];
static size_t console_len;
static int console_calls;

static void capture_sink(const char *s, size_t len)
{
	CHECK(console_len + len < sizeof(console));
	memcpy(console + console_len, s, len);
	console_len += len;
	console[console_len] = '\0';
	console_calls++;
}

static void console_reset(void)
{
	console_len = 0;
	console[0] = '\0';
	console_calls = 0;
}

static bool panic_expected;
static int halts;
static jmp_buf panic_return;

/* An expected panic jumps back to the scenario; an unexpected one fails loudly. */
void arch_halt_after_panic(void)
{
	halts++;
	if (!panic_expected)
		abort();
	longjmp(panic_return, 1);
}

static void test_console_without_sink(void)
{
	console_write("dropped", 7);
	printk("dropped too %d\n", 1);
	console_register(capture_sink);
	console_reset();
	console_write("kept", 4);
	CHECK_STR(console, "kept");
	CHECK_EQ(console_calls, 1);
}

static void test_log_levels(void)
{
	CHECK_EQ(log_level, LOG_INFO);

	console_reset();
	pr_err("e%d\n", 1);
	pr_warn("w%d\n", 2);
	pr_info("i%d\n", 3);
	pr_debug("d%d\n", 4);
	CHECK_STR(console, "e1\nw2\ni3\n");
	CHECK_EQ(console_calls, 3);

	log_level = LOG_ERR;
	console_reset();
	pr_err("e\n");
	pr_warn("w\n");
	pr_info("i\n");
	printk("k\n");
	CHECK_STR(console, "e\nk\n");

	log_level = LOG_DEBUG;
	console_reset();
	pr_debug("d\n");
	log_at(LOG_WARN, "%s=%#x\n", "w", 16);
	CHECK_STR(console, "d\nw=0x10\n");
	log_level = LOG_INFO;
}

/* A message longer than the line buffer is cut, in one write, never overrun. */
static void test_log_truncation(void)
{
	console_reset();
	printk("%600s", "end");
	CHECK_EQ(console_calls, 1);
	CHECK_EQ(console_len, 511);
	CHECK_EQ(strspn(console, " "), 511);

	console_reset();
	printk("%s", "");
	CHECK_EQ(console_len, 0);
}

/* Each scenario runs in its own child: panic's guard is one-shot per process. */
static void run_scenario(void (*scenario)(void), const char *name)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		console_register(capture_sink);
		console_reset();
		scenario();
		fflush(NULL);
		_exit(unit_failures ? 1 : 0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "panic scenario %s failed\n", name);
		CHECK(false);
	}
}

static void panic_prints_location_then_halts(void)
{
	char expected[256];
	volatile int line = 0;	/* set between setjmp and longjmp */

	panic_expected = true;
	if (setjmp(panic_return) == 0) {
		line = __LINE__ + 1;
		panic("bad value %d", 7);
	}
	snprintf(expected, sizeof(expected), "PANIC at %s:%d: bad value 7\n", __FILE__, line);
	CHECK_STR(console, expected);
	CHECK_EQ(console_calls, 1);
	CHECK_EQ(halts, 1);

	/* A second panic goes straight to the halt without printing. */
	console_reset();
	if (setjmp(panic_return) == 0)
		panic("second");
	CHECK_EQ(console_len, 0);
	CHECK_EQ(halts, 2);
}

static void assert_names_the_condition(void)
{
	volatile int x = 1;
	char expected[256];
	volatile int line = 0;	/* set between setjmp and longjmp */

	ASSERT(x == 1);
	CHECK_EQ(halts, 0);
	panic_expected = true;
	if (setjmp(panic_return) == 0) {
		line = __LINE__ + 1;
		ASSERT(x == 2);
	}
	snprintf(expected, sizeof(expected), "PANIC at %s:%d: assertion failed: x == 2\n",
		 __FILE__, line);
	CHECK_STR(console, expected);
	CHECK_EQ(halts, 1);
}

/* The console itself panics while printing the panic line. */
static void panicking_sink(const char *s, size_t len)
{
	capture_sink(s, len);
	panic("console broke");
}

static void nested_panic_halts_at_once(void)
{
	console_register(panicking_sink);
	panic_expected = true;
	if (setjmp(panic_return) == 0)
		panic("first");
	CHECK_EQ(console_calls, 1);
	CHECK_EQ(halts, 1);
	CHECK(strstr(console, ": first\n") != NULL);
	CHECK(strstr(console, "console broke") == NULL);
}

/* A message cut short still ends the line; one already ending in '\n' gets no second. */
static void long_message_keeps_its_newline(void)
{
	panic_expected = true;
	if (setjmp(panic_return) == 0)
		panic("%400s", "tail");
	CHECK_EQ(console_len, 255);
	CHECK_EQ(strncmp(console, "PANIC at ", 9), 0);
	CHECK_EQ(console[console_len - 1], '\n');
	CHECK_EQ(console[console_len - 2], ' ');
}

static void message_newline_not_doubled(void)
{
	panic_expected = true;
	if (setjmp(panic_return) == 0)
		panic("oops\n");
	CHECK_EQ(console_len, strlen(console));
	CHECK(console_len > 6);
	CHECK_STR(console + console_len - 7, ": oops\n");
	CHECK_EQ(console_calls, 1);
}

int main(void)
{
	test_console_without_sink();
	test_log_levels();
	test_log_truncation();
	run_scenario(panic_prints_location_then_halts, "panic_prints_location_then_halts");
	run_scenario(assert_names_the_condition, "assert_names_the_condition");
	run_scenario(nested_panic_halts_at_once, "nested_panic_halts_at_once");
	run_scenario(long_message_keeps_its_newline, "long_message_keeps_its_newline");
	run_scenario(message_newline_not_doubled, "message_newline_not_doubled");
	return unit_done("log_panic");
}
