/*
 * Host 16550 UART console: polled output and input, no interrupts (the hypervisor never
 * takes device interrupts). Registered as the log console sink. Output goes through a
 * ring that is sent as fast as the UART takes it (uart_console_drain(), from the
 * scheduler): a serial line at 115200 baud takes ~87 us a byte, and every VM would stall
 * while a long line went out byte by byte. Only a full ring, or a flush, waits.
 */
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
#define UART_LSR_TEMT 0x40		/* transmitter empty: the last byte is out */
#define UART_DIVISOR_115200 1
/* Bound on polling a transmitter that never empties (absent UART on real hardware). */
#define UART_TX_SPINS (1 << 24)
#define UART_FIFO_BYTES 16		/* THRE with FIFOs on: the whole transmit FIFO is free */
#define UART_RING_BYTES 32768u

static u16 uart_port;
/* Bytes from ring_sent to ring_written (mod the size) wait to be sent. */
static char ring[UART_RING_BYTES];
static u32 ring_written, ring_sent;

static bool transmitter_ready(void)
{
	return inb(uart_port + UART_LSR) & UART_LSR_THRE;
}

/* Sends a FIFO's worth if the transmitter is empty; false if it was not (or nothing is
 * waiting). */
static bool send_some(void)
{
	if (ring_sent == ring_written || !transmitter_ready())
		return false;
	for (int i = 0; i < UART_FIFO_BYTES && ring_sent != ring_written; i++)
		outb(uart_port + UART_THR, (u8)ring[ring_sent++ % UART_RING_BYTES]);
	return true;
}

void uart_console_drain(void)
{
	while (send_some())
		;
}

/* Waits until at most count bytes wait; boundedly: an absent UART never empties, and
 * then what waits is dropped. */
static void wait_until_sent(u32 count)
{
	int idle_spins = 0;
	while (ring_written - ring_sent > count) {
		if (send_some()) {
			idle_spins = 0;
		} else if (++idle_spins == UART_TX_SPINS) {
			ring_sent = ring_written - count;
			return;
		} else {
			cpu_relax();
		}
	}
}

/* Everything sent, the last byte off the wire too (LSR.TEMT), before the machine ends. */
void uart_console_flush(void)
{
	if (!uart_port)
		return;
	wait_until_sent(0);
	for (int spins = 0; spins < UART_TX_SPINS; spins++) {
		if (inb(uart_port + UART_LSR) & UART_LSR_TEMT)
			return;
		cpu_relax();
	}
}

static void ring_put(char c)
{
	if (ring_written - ring_sent == UART_RING_BYTES)
		wait_until_sent(UART_RING_BYTES - UART_FIFO_BYTES);
	ring[ring_written++ % UART_RING_BYTES] = c;
}

static void uart_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			ring_put('\r');
		ring_put(s[i]);
	}
	uart_console_drain();
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
