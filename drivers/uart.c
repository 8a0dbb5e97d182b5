/* Host 16550 UART console: polled output and input, no interrupts (the hypervisor never
 * takes device interrupts). Registered as the log console sink. */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "lib/log.h"

/* 16550 register offsets and bits (National Semiconductor PC16550D datasheet). */
#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_DATA_READY 0x01
#define UART_LSR_THRE 0x20
#define UART_DIVISOR_115200 1
/* Bound on polling a transmitter that never empties (absent UART on real hardware). */
#define UART_TX_SPINS 100000

static u16 uart_port;

static void uart_putc(char c)
{
	for (int spins = 0; spins < UART_TX_SPINS; spins++) {
		if (inb(uart_port + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(uart_port + UART_THR, (u8)c);
}

static void uart_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void uart_console_init(u16 port)
{
	uart_port = port;
	if (!port) {
		console_register(NULL);
		return;
	}
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, UART_DIVISOR_115200);
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, UART_MCR_DTR_RTS);
	console_register(uart_write);
}

int uart_console_getc(void)
{
	if (!uart_port || !(inb(uart_port + UART_LSR) & UART_LSR_DATA_READY))
		return -1;
	return inb(uart_port + UART_RBR);
}

bool uart_console_present(void)
{
	return uart_port != 0;
}
