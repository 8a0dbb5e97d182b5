/* Test-guest console: polled COM1 output and printf (lib/printf.c formats). */
#include "tests/guests/lib/console.h"
#include "tests/guests/lib/x86.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CONSOLE_LINE_SIZE 256
#define UART_DIVISOR_115200 1

void serial_init(void)
{
	outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
	outb(COM1_PORT + UART_DLL, UART_DIVISOR_115200);
	outb(COM1_PORT + UART_DLM, 0);
	outb(COM1_PORT + UART_LCR, UART_LCR_8N1);
	outb(COM1_PORT + UART_IER, 0);
}

void serial_putc(char c)
{
	while (!(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1_PORT + UART_DATA, (u8)c);
}

void serial_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		serial_putc(s[i]);
}

int puts(const char *s)
{
	size_t len = strlen(s);

	serial_write(s, len);
	serial_putc('\n');
	return (int)len + 1;
}

int vprintf(const char *fmt, va_list ap)
{
	char line[CONSOLE_LINE_SIZE];
	int len = vsnprintf(line, sizeof(line), fmt, ap);

	if (len > 0)
		serial_write(line, MIN((size_t)len, sizeof(line) - 1));
	return len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vprintf(fmt, ap);
	va_end(ap);
	return len;
}
