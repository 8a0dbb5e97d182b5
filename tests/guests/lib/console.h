/* Test-guest console: the 16550 UART at COM1, polled, and printf on top of it. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdarg.h>
#include "lib/types.h"

/* UART registers, offsets from COM1_PORT (16550 datasheet). */
#define UART_DATA 0		/* RBR/THR */
#define UART_DLL 0		/* divisor latch, low byte, while LCR.DLAB = 1 */
#define UART_IER 1
#define UART_DLM 1		/* divisor latch, high byte, while LCR.DLAB = 1 */
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE 0x20	/* transmit holding register empty */
#define UART_LSR_TEMT 0x40	/* transmitter empty */
#define UART_IIR_NO_INTERRUPT 0x01

/* 115200 baud, 8N1, no interrupts. FIFOs stay off, so IIR reads UART_IIR_NO_INTERRUPT. */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t len);

/* Like libc's: puts appends a newline. Output lines are cut at 255 characters. */
int puts(const char *s);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);

#endif
