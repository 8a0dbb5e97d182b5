/* panic(): print one line saying where the hypervisor found a bug, then stop the machine. */
#include "lib/panic.h"
#include "lib/log.h"
#include "lib/printf.h"

/* The panic line is built on the stack: the allocator may be what broke. */
#define PANIC_LINE_SIZE 256

static bool panicking;

/* Ends the line with exactly one '\n', even when the message was cut short. */
static size_t terminate_line(char *line, size_t size, int len)
{
	size_t n = len < 0 ? 0 : MIN((size_t)len, size - 2);

	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	line[n] = '\0';
	return n;
}

__noreturn void panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[PANIC_LINE_SIZE];
	va_list ap;

	/* A panic while panicking (the console itself failing, say) must not loop. */
	if (__atomic_exchange_n(&panicking, true, __ATOMIC_SEQ_CST))
		arch_halt_after_panic();

	int prefix = snprintf(text, sizeof(text), "PANIC at %s:%d: ", file, line);
	size_t used = MIN((size_t)prefix, sizeof(text) - 1);
	va_start(ap, fmt);
	int message = vsnprintf(text + used, sizeof(text) - used, fmt, ap);
	va_end(ap);

	size_t len = terminate_line(text, sizeof(text), (int)used + message);
	console_write(text, len);
	arch_halt_after_panic();
}
