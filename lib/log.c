/* Console output and levelled logging. No locks and no allocation, so the panic path
 * can always print: each message reaches the sink in a single call. */
#include "lib/log.h"
#include "lib/printf.h"

/* Longer messages are cut: a log line must never need memory we may not have. */
#define LOG_LINE_SIZE 512

enum log_level log_level = LOG_INFO;

static console_write_fn console_sink;

void console_register(console_write_fn write)
{
	console_sink = write;
}

/* Before a sink is registered there is nowhere to print: the output is dropped. */
void console_write(const char *s, size_t len)
{
	console_write_fn sink = console_sink;

	if (sink)
		sink(s, len);
}

static void console_vprintf(const char *fmt, va_list ap)
{
	char line[LOG_LINE_SIZE];
	int len = vsnprintf(line, sizeof(line), fmt, ap);

	if (len > 0)
		console_write(line, MIN((size_t)len, sizeof(line) - 1));
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

void log_at(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}
