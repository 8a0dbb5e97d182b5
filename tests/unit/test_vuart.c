/* Unit tests of the 16550A UART model (drivers/vuart.c) against the PC16550D datasheet and
 * the sequences Linux's 8250 driver (drivers/tty/serial/8250/8250_port.c) runs on it.
 * unit-sources: drivers/vuart.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

#define COM1_RBR (VDEV_UART_PORT + 0)	/* THR on writes, DLL with DLAB */
#define COM1_IER (VDEV_UART_PORT + 1)	/* DLM with DLAB */
#define COM1_IIR (VDEV_UART_PORT + 2)	/* FCR on writes */
#define COM1_LCR (VDEV_UART_PORT + 3)
#define COM1_MCR (VDEV_UART_PORT + 4)
#define COM1_LSR (VDEV_UART_PORT + 5)
#define COM1_MSR (VDEV_UART_PORT + 6)
#define COM1_SCR (VDEV_UART_PORT + 7)
#define COM1_THR COM1_RBR
#define COM1_FCR COM1_IIR

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFOS 0xc0
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_IDLE 0x60			/* THRE | TEMT */
#define MSR_LINES_UP 0xb0		/* DCD, DSR, CTS */

/* Four 8N1 characters at divisor 1 (115200 baud): 4 * 10 * 16 / 1.8432 MHz, in ns. */
#define TIMEOUT_8N1_115200_NS 347222

static struct vuart *uart;

static void start_uart(void)
{
	fake_platform_reset();
	uart = vuart_create(&vm);
	CHECK(uart != NULL);
}

static void stop_uart(void)
{
	vuart_destroy(uart);
	uart = NULL;
}

static u8 in8(u64 port)
{
	return (u8)pio_in(port, 1);
}

static void out8(u64 port, u8 value)
{
	pio_out(port, 1, value);
}

static void set_divisor(u16 divisor, u8 lcr)
{
	out8(COM1_LCR, lcr | LCR_DLAB);
	out8(COM1_RBR, (u8)divisor);
	out8(COM1_IER, (u8)(divisor >> 8));
	out8(COM1_LCR, lcr);
}

static void receive_bytes(unsigned from, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		vuart_receive(uart, (u8)(from + i));
}

static void test_reset_state(void)
{
	start_uart();
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	CHECK_EQ(in8(COM1_IER), 0);
	CHECK_EQ(in8(COM1_LCR), 0);
	CHECK_EQ(in8(COM1_MCR), 0);
	CHECK_EQ(in8(COM1_MSR), MSR_LINES_UP);		/* no delta bits */
	CHECK_EQ(in8(COM1_RBR), 0);			/* empty */
	CHECK(!irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(pio_in(COM1_LSR, 2), MSR_LINES_UP << 8 | LSR_IDLE);
	out8(COM1_SCR, 0xa5);
	CHECK_EQ(in8(COM1_SCR), 0xa5);
	CHECK_EQ(pio_in(COM1_SCR, 2), 0xffa5);		/* the byte past the end reads 0xff */
	out8(COM1_IER, 0xff);
	CHECK_EQ(in8(COM1_IER), 0x0f);			/* bits 7:4 read 0 */
	stop_uart();
}

/* autoconfig() and autoconfig_16550a(): what makes Linux say "16550A" and nothing else. */
static void test_linux_autoconfig(void)
{
	start_uart();
	u8 saved_ier = in8(COM1_IER);
	out8(COM1_IER, 0);
	CHECK_EQ(in8(COM1_IER) & 0x0f, 0);
	out8(COM1_IER, 0x0f);
	CHECK_EQ(in8(COM1_IER) & 0x0f, 0x0f);
	out8(COM1_IER, saved_ier);
	u8 saved_mcr = in8(COM1_MCR), saved_lcr = in8(COM1_LCR);

	out8(COM1_MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);	/* the loopback test */
	CHECK_EQ(in8(COM1_MSR) & 0xf0, 0x90);		/* DCD, CTS */
	out8(COM1_MCR, saved_mcr);

	out8(COM1_LCR, 0xbf);
	out8(COM1_FCR, 0);				/* EFR on an ST16650, FCR here */
	out8(COM1_LCR, 0);
	out8(COM1_FCR, 0x01);
	CHECK_EQ(in8(COM1_IIR) >> 6, 3);		/* FIFOs work: a 16550A */

	out8(COM1_LCR, 0x80);				/* EFR where an ST16C650V1 has it */
	CHECK(in8(COM1_IIR) != 0);
	out8(COM1_LCR, 0xbf);				/* EFR where later EFR UARTs have it */
	CHECK(in8(COM1_IIR) != 0);

	out8(COM1_LCR, 0);				/* National SuperIO: EXCR1 at LCR 0xe0 */
	u8 mcr = in8(COM1_MCR);
	out8(COM1_LCR, 0xe0);
	CHECK_EQ((in8(COM1_IIR) ^ mcr) & MCR_LOOP, 0);
	out8(COM1_LCR, 0);
	out8(COM1_MCR, mcr ^ MCR_LOOP);
	out8(COM1_LCR, 0xe0);
	u8 excr1 = in8(COM1_IIR);
	out8(COM1_LCR, 0);
	out8(COM1_MCR, mcr);
	CHECK(((excr1 ^ mcr) & MCR_LOOP) == 0);		/* not a SuperIO */

	out8(COM1_LCR, 0);				/* TI 16750: 64-byte FIFO bit */
	out8(COM1_FCR, 0x21);
	CHECK_EQ(in8(COM1_IIR) >> 5, 6);
	out8(COM1_FCR, 0x01);
	out8(COM1_LCR, 0x80);
	out8(COM1_FCR, 0x21);
	CHECK_EQ(in8(COM1_IIR) >> 5, 6);		/* not 7: not a 16750 */
	out8(COM1_FCR, 0x01);
	out8(COM1_LCR, 0);

	u8 ier = in8(COM1_IER);				/* XScale: IER bit 6 (UUE) */
	out8(COM1_IER, ier | 0x40);
	CHECK_EQ(in8(COM1_IER) & 0x40, 0);
	out8(COM1_IER, ier);

	out8(COM1_LCR, saved_lcr);			/* reset the port */
	out8(COM1_MCR, saved_mcr);
	out8(COM1_FCR, 0x01);
	out8(COM1_FCR, 0x07);
	out8(COM1_FCR, 0);
	in8(COM1_RBR);
	out8(COM1_IER, 0);
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);		/* FIFOs off again: bits 7:6 clear */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_UART], 0);
	CHECK_STR(console, "");
	stop_uart();
}

/* serial8250_do_startup(): a UART that does not raise THRE again when ETBEI is set anew
 * is marked UART_BUG_THRE, and one that shows no THRE right after ETBEI UART_BUG_TXEN. */
static void test_linux_thre_test(void)
{
	start_uart();
	CHECK(in8(COM1_LSR) & 0x20);
	out8(COM1_IER, IER_THRI);
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);
	out8(COM1_IER, 0);
	out8(COM1_IER, IER_THRI);
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);		/* re-asserted: no UART_BUG_THRE */
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);		/* the IIR read cleared it */
	out8(COM1_IER, 0);
	CHECK(!irq_level[VDEV_IRQ_UART]);		/* no OUT2 yet */

	out8(COM1_LCR, LCR_8N1);
	out8(COM1_MCR, MCR_OUT2 | MCR_RTS | MCR_DTR);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_IER, IER_THRI);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);		/* no UART_BUG_TXEN */
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_IER, 0);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_UART], 1);
	stop_uart();
}

/* The line is high exactly while an enabled interrupt is pending and OUT2 is set. */
static void test_irq_line_and_out2(void)
{
	start_uart();
	out8(COM1_IER, IER_THRI);
	CHECK(!irq_level[VDEV_IRQ_UART]);		/* pending, but OUT2 gates it */
	out8(COM1_MCR, MCR_OUT2);
	CHECK(irq_level[VDEV_IRQ_UART]);
	out8(COM1_MCR, MCR_DTR | MCR_RTS | MCR_OUT1);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_MCR, MCR_OUT2);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_UART], 2);
	in8(COM1_IIR);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_THR, 'x');				/* the THR is empty again at once */
	CHECK(irq_level[VDEV_IRQ_UART]);
	out8(COM1_IER, 0);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_THR, 'y');				/* pending but not enabled */
	CHECK(!irq_level[VDEV_IRQ_UART]);

	out8(COM1_IER, IER_RDI);
	CHECK(vuart_receive(uart, 'a'));
	CHECK(irq_level[VDEV_IRQ_UART]);
	out8(COM1_MCR, 0);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_MCR, MCR_OUT2);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_RBR), 'a');
	CHECK(!irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_UART], 5);
	stop_uart();
}

/* Line status > received data (or timeout) > THR empty > modem status (table IV). */
static void test_iir_priorities(void)
{
	start_uart();
	out8(COM1_FCR, 0x01);				/* FIFOs on, trigger 1 */
	out8(COM1_MCR, MCR_OUT2 | MCR_LOOP);		/* DSR and CTS drop: deltas */
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
	receive_bytes(1, 17);				/* the 17th overruns */
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_RLSI);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_RLSI);	/* until the LSR is read */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_OE | LSR_DR);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_RDI);
	for (unsigned i = 1; i <= 16; i++)
		CHECK_EQ(in8(COM1_RBR), i);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_THRI);
	CHECK(irq_level[VDEV_IRQ_UART]);		/* the modem status is still pending */
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_MSI);
	CHECK_EQ(in8(COM1_MSR), MSR_LINES_UP | 0x03);	/* DCTS, DDSR */
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_NO_INT);
	CHECK(!irq_level[VDEV_IRQ_UART]);

	out8(COM1_IER, IER_RDI);
	receive_bytes(1, 17);				/* ELSI off: the overrun is silent */
	out8(COM1_IER, IER_RDI | IER_THRI);		/* ETBEI set anew: THRE pending */
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_RDI);	/* and reading it spares THRE */
	out8(COM1_FCR, 0x03);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_THRI);
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_OE);	/* OE outlives a FIFO clear */
	stop_uart();
}

static void test_thre_cleared_and_reraised(void)
{
	start_uart();
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_THRI);
	for (int i = 0; i < 3; i++) {
		CHECK(irq_level[VDEV_IRQ_UART]);
		CHECK_EQ(in8(COM1_IIR), IIR_THRI);
		CHECK(!irq_level[VDEV_IRQ_UART]);
		CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
		out8(COM1_THR, 'a' + i);
	}
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);
	out8(COM1_IER, IER_THRI | IER_RDI);		/* ETBEI stays set: no new THRE */
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);		/* the LSR still says empty */
	out8(COM1_IER, 0);				/* what the console write does */
	out8(COM1_IER, IER_THRI);
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_UART], 5);
	out8(COM1_THR, '\n');
	CHECK_STR(console, "t1: abc\n");
	stop_uart();
}

/* FIFO mode at each trigger level: RDA from the trigger level on, the 17th byte and after
 * overrun, the bytes come out in order. */
static void check_rx_at_trigger(u8 fcr, unsigned trigger)
{
	start_uart();
	out8(COM1_FCR, fcr);
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI);
	for (unsigned n = 1; n <= 20; n++) {
		CHECK_EQ(vuart_receive(uart, (u8)n), n <= 16);
		CHECK_EQ(irq_level[VDEV_IRQ_UART], n >= trigger);
		CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | (n >= trigger ? IIR_RDI : IIR_NO_INT));
		CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_DR | (n > 16 ? LSR_OE : 0));
	}
	for (unsigned n = 1; n <= 16; n++) {
		CHECK_EQ(in8(COM1_RBR), n);
		CHECK_EQ(irq_level[VDEV_IRQ_UART], 16 - n >= trigger);
	}
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_NO_INT);
	stop_uart();
}

static void test_rx_fifo_triggers(void)
{
	check_rx_at_trigger(0x01, 1);
	check_rx_at_trigger(0x41, 4);
	check_rx_at_trigger(0x81, 8);
	check_rx_at_trigger(0xc1, 14);
}

/* 16450 mode: one byte; a second one overwrites it and sets OE (table V). */
static void test_rx_without_fifo(void)
{
	start_uart();
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI | IER_RLSI);
	CHECK(vuart_receive(uart, 'a'));
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_IIR), IIR_RDI);		/* bits 7:6 clear: FIFOs off */
	CHECK(!vuart_receive(uart, 'b'));
	CHECK_EQ(in8(COM1_IIR), IIR_RLSI);
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_OE | LSR_DR);
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_DR);	/* reading the LSR cleared OE */
	CHECK_EQ(in8(COM1_IIR), IIR_RDI);
	CHECK_EQ(in8(COM1_RBR), 'b');
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(1000000000);			/* no character timeout without FIFOs */
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	stop_uart();
}

/* Fewer bytes than the trigger level: the timeout interrupt four character times after
 * the last receive or read ("FIFO interrupt mode operation"). */
static void test_rx_char_timeout(void)
{
	const u64 t = TIMEOUT_8N1_115200_NS;

	start_uart();
	set_divisor(1, LCR_8N1);
	out8(COM1_FCR, 0x81);				/* trigger 8 */
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI);
	receive_bytes('a', 3);
	fake_advance_to(t - 1);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_NO_INT);
	fake_advance_to(t);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_TIMEOUT);
	CHECK_EQ(in8(COM1_RBR), 'a');			/* a read clears it, restarts the timer */
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(2 * t - 1);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(2 * t);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_TIMEOUT);
	receive_bytes('d', 6);				/* 8 bytes: the trigger level */
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_RDI);
	for (char c = 'b'; c <= 'i'; c++)
		CHECK_EQ(in8(COM1_RBR), c);
	CHECK(!(in8(COM1_LSR) & LSR_DR));
	fake_advance_to(10 * t);			/* nothing left: no timeout */
	CHECK(!irq_level[VDEV_IRQ_UART]);

	fake_advance_to(20 * t);			/* a receive restarts the timer too */
	receive_bytes('x', 1);
	fake_advance_to(20 * t + t / 2);
	receive_bytes('y', 1);
	fake_advance_to(21 * t + t / 2 - 1);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(21 * t + t / 2);
	CHECK(irq_level[VDEV_IRQ_UART]);
	stop_uart();
}

/* The timeout follows the line settings: 9600 baud (divisor 12), 7 data bits, even
 * parity, 2 stop bits: 4 * 11 * 16 * 12 / 1.8432 MHz = 4583333 ns. */
static void test_rx_timeout_follows_line_settings(void)
{
	start_uart();
	set_divisor(12, 0x0e);
	out8(COM1_FCR, 0xc1);
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI);
	receive_bytes('a', 1);
	fake_advance_to(4583332);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(4583333);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_RBR), 'a');
	set_divisor(1, 0x04);				/* 5 data bits, 1.5 stop bits: 7.5 bits */
	receive_bytes('b', 1);
	fake_advance_to(4583333 + 260416 - 1);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(4583333 + 260416);
	CHECK(irq_level[VDEV_IRQ_UART]);
	stop_uart();
}

static void test_fifo_clear(void)
{
	start_uart();
	out8(COM1_FCR, 0x01);
	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_IER, IER_RDI);
	receive_bytes('a', 5);
	out8(COM1_FCR, 0x05);				/* clear TX: the receiver keeps its bytes */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_DR);
	out8(COM1_FCR, 0x03);				/* clear RX */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(in8(COM1_IIR), IIR_FIFOS | IIR_NO_INT);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_RBR), 0);
	fake_advance_to(1000000000);			/* the cleared bytes time out never */
	CHECK(!irq_level[VDEV_IRQ_UART]);

	receive_bytes('a', 3);
	out8(COM1_FCR, 0);				/* leaving FIFO mode empties the FIFO */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	receive_bytes('z', 1);
	out8(COM1_FCR, 0x02);				/* FCR bit 0 clear: other bits ignored */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_DR);
	out8(COM1_FCR, 0x01);				/* entering FIFO mode empties it too */
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	stop_uart();
}

/* In loopback the transmitter feeds the receiver, and the serial input is disconnected. */
static void test_loopback_to_receiver(void)
{
	start_uart();
	out8(COM1_FCR, 0x01);
	out8(COM1_MCR, MCR_LOOP | MCR_OUT2);
	out8(COM1_IER, IER_RDI);
	in8(COM1_MSR);
	for (const char *s = "hi\n"; *s; s++)
		out8(COM1_THR, (u8)*s);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK(!vuart_receive(uart, 'X'));
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_DR);	/* no overrun from outside */
	CHECK_EQ(in8(COM1_RBR), 'h');
	CHECK_EQ(in8(COM1_RBR), 'i');
	CHECK_EQ(in8(COM1_RBR), '\n');
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	for (int i = 0; i < 17; i++)
		out8(COM1_THR, 'a');
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE | LSR_OE | LSR_DR);
	CHECK_STR(console, "");

	out8(COM1_MCR, MCR_OUT2);
	out8(COM1_FCR, 0x03);
	out8(COM1_THR, 'o');
	out8(COM1_THR, 'k');
	out8(COM1_THR, '\n');
	CHECK_STR(console, "t1: ok\n");
	CHECK_EQ(in8(COM1_LSR), LSR_IDLE);		/* nothing came back */
	stop_uart();
}

/* Loopback MSR: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD, with the delta bits. */
static void test_msr_in_loopback(void)
{
	start_uart();
	out8(COM1_MCR, MCR_LOOP);			/* CTS, DSR, DCD drop */
	CHECK_EQ(in8(COM1_MSR), 0x0b);
	CHECK_EQ(in8(COM1_MSR), 0x00);			/* the read cleared the deltas */
	out8(COM1_MCR, MCR_LOOP | MCR_DTR);
	CHECK_EQ(in8(COM1_MSR), 0x22);			/* DSR, DDSR */
	out8(COM1_MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	CHECK_EQ(in8(COM1_MSR), 0x31);			/* CTS, DCTS */
	out8(COM1_MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1);
	CHECK_EQ(in8(COM1_MSR), 0x70);			/* RI rose: no TERI */
	out8(COM1_MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	CHECK_EQ(in8(COM1_MSR), 0x34);			/* RI fell: TERI */
	out8(COM1_MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	CHECK_EQ(in8(COM1_MSR), 0xb8);			/* DCD, DDCD */
	out8(COM1_MCR, MCR_LOOP | MCR_OUT2);
	out8(COM1_MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR | MCR_RTS);
	CHECK_EQ(in8(COM1_MSR), 0xb3);			/* two changes each: still a delta */
	out8(COM1_MCR, MCR_OUT2);
	CHECK_EQ(in8(COM1_MSR), MSR_LINES_UP);		/* the same lines outside loopback */

	out8(COM1_IER, IER_MSI);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	out8(COM1_MCR, MCR_LOOP | MCR_OUT2);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(in8(COM1_IIR), IIR_MSI);
	CHECK_EQ(in8(COM1_MSR), 0x83);
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);
	CHECK(!irq_level[VDEV_IRQ_UART]);
	stop_uart();
}

static void test_divisor_latch(void)
{
	start_uart();
	out8(COM1_IER, IER_RDI | IER_RLSI | IER_THRI);
	CHECK_EQ(in8(COM1_IIR), IIR_THRI);		/* reported: cleared */
	out8(COM1_LCR, LCR_DLAB | LCR_8N1);
	out8(COM1_RBR, 0x0c);
	out8(COM1_IER, 0x00);
	CHECK_EQ(in8(COM1_RBR), 0x0c);
	CHECK_EQ(in8(COM1_IER), 0x00);
	pio_out(COM1_RBR, 2, 0x0180);			/* a 16-bit write: DLL then DLM */
	CHECK_EQ(pio_in(COM1_RBR, 2), 0x0180);
	CHECK_EQ(in8(COM1_LCR), LCR_DLAB | LCR_8N1);
	out8(COM1_LCR, LCR_8N1);
	/* untouched by the DLM writes */
	CHECK_EQ(in8(COM1_IER), IER_RDI | IER_RLSI | IER_THRI);
	CHECK(vuart_receive(uart, 'q'));
	CHECK_EQ(in8(COM1_IIR), IIR_RDI);
	CHECK_EQ(in8(COM1_RBR), 'q');			/* the RBR again, not the DLL */
	CHECK_STR(console, "");				/* the DLL writes sent nothing */
	CHECK_EQ(in8(COM1_IIR), IIR_NO_INT);		/* nor raised THRE */
	stop_uart();
}

static void out_string(const char *s)
{
	for (; *s; s++)
		out8(COM1_THR, (u8)*s);
}

static void test_console_output(void)
{
	start_uart();
	out_string("hello\r\nworld");
	CHECK_STR(console, "t1: hello\n");		/* "world" waits for its newline */
	out_string(" 100%s\n\n");
	CHECK_STR(console, "t1: hello\nt1: world 100%s\nt1: \n");

	console[0] = '\0';
	for (int i = 0; i < 170; i++)
		out8(COM1_THR, 'a' + i % 26);
	CHECK_EQ(strlen(console), strlen("t1: \n") + 160);	/* a full buffer is a line */
	vuart_flush_line(uart);
	CHECK_EQ(strlen(console), 2 * strlen("t1: \n") + 170);
	CHECK_STR(console + strlen(console) - 6, "jklmn\n");
	vuart_flush_line(uart);				/* nothing pending: nothing printed */
	CHECK_EQ(strlen(console), 2 * strlen("t1: \n") + 170);
	out8(COM1_THR, 'a');
	out8(COM1_THR, '\0');				/* dropped: it would cut the line */
	out8(COM1_THR, 'b');
	out8(COM1_THR, '\n');
	CHECK_STR(console + strlen(console) - 7, "t1: ab\n");
	out_string("bye");
	stop_uart();					/* destroying flushes too */
	CHECK_STR(console + strlen(console) - 8, "t1: bye\n");
}

/* A prompt (a line without its newline) is shown once the guest has been quiet 50 ms. */
static void test_unfinished_line_shown(void)
{
	start_uart();
	fake_advance_to(1000000);
	out_string("/ # ");
	fake_advance_to(1000000 + 49 * 1000000);	/* 49 ms at the fake 1 GHz */
	vuart_show_unfinished_line(uart);
	CHECK_STR(console, "");
	fake_advance_to(1000000 + 50 * 1000000);
	vuart_show_unfinished_line(uart);
	CHECK_STR(console, "t1: / # ");
	vuart_show_unfinished_line(uart);		/* nothing new: nothing printed */
	CHECK_STR(console, "t1: / # ");
	out_string("ls\n");
	CHECK_STR(console, "t1: / # t1: ls\n");	/* the fake's console has no open line */
	stop_uart();
}

/* What serial8250_handle_irq() does: IIR, then LSR and the RBR while DR is set, the MSR,
 * and up to 16 bytes into the THR when the LSR says it is empty and ETBEI is set. */
static const char *tx_pending;

static bool linux_uart_interrupt(char *received, size_t *received_len)
{
	if (in8(COM1_IIR) & IIR_NO_INT)
		return false;
	u8 lsr = in8(COM1_LSR);
	while (lsr & LSR_DR) {
		received[(*received_len)++] = (char)in8(COM1_RBR);
		lsr = in8(COM1_LSR);
	}
	in8(COM1_MSR);
	if (!(lsr & 0x20) || !(in8(COM1_IER) & IER_THRI))
		return true;
	for (int n = 0; n < 16 && *tx_pending; n++)
		out8(COM1_THR, (u8)*tx_pending++);
	if (!*tx_pending)
		out8(COM1_IER, IER_RDI | IER_RLSI);	/* __stop_tx */
	return true;
}

static void test_linux_interrupt_driven_tty(void)
{
	char received[64];
	size_t received_len = 0;
	unsigned interrupts = 0;

	start_uart();
	set_divisor(1, LCR_8N1);
	out8(COM1_FCR, 0x81);				/* what set_termios writes: trigger 8 */
	out8(COM1_MCR, MCR_OUT2 | MCR_RTS | MCR_DTR);
	out8(COM1_IER, IER_RDI | IER_RLSI);
	tx_pending = "login: a line longer than sixteen bytes\n";
	out8(COM1_IER, IER_RDI | IER_RLSI | IER_THRI);	/* start_tx */
	while (irq_level[VDEV_IRQ_UART] && interrupts < 10) {
		CHECK(linux_uart_interrupt(received, &received_len));
		interrupts++;
	}
	CHECK_EQ(interrupts, 3);			/* 40 bytes, 16 at a time */
	CHECK_STR(console, "t1: login: a line longer than sixteen bytes\n");
	CHECK(!linux_uart_interrupt(received, &received_len));

	receive_bytes('a', 5);				/* typed: below the trigger level */
	CHECK(!irq_level[VDEV_IRQ_UART]);
	fake_advance_to(TIMEOUT_8N1_115200_NS);
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK(linux_uart_interrupt(received, &received_len));
	receive_bytes('f', 12);				/* a paste: above it */
	CHECK(irq_level[VDEV_IRQ_UART]);
	CHECK(linux_uart_interrupt(received, &received_len));
	CHECK(!irq_level[VDEV_IRQ_UART]);
	CHECK_EQ(received_len, 17);
	CHECK(memcmp(received, "abcdefghijklmnopq", 17) == 0);
	stop_uart();
}

static void test_timer_capacity(void)
{
	struct vtimer timers[VM_TIMERS_MAX];

	fake_platform_reset();
	for (unsigned i = 0; i < VM_TIMERS_MAX; i++)
		CHECK(vtimer_init(&vm, &timers[i], NULL, NULL));
	CHECK(vuart_create(&vm) == NULL);		/* no timer left for its timeout */
}

int main(void)
{
	test_reset_state();
	test_linux_autoconfig();
	test_linux_thre_test();
	test_irq_line_and_out2();
	test_iir_priorities();
	test_thre_cleared_and_reraised();
	test_rx_fifo_triggers();
	test_rx_without_fifo();
	test_rx_char_timeout();
	test_rx_timeout_follows_line_settings();
	test_fifo_clear();
	test_loopback_to_receiver();
	test_msr_in_loopback();
	test_divisor_latch();
	test_console_output();
	test_unfinished_line_shown();
	test_linux_interrupt_driven_tty();
	test_timer_capacity();
	return unit_done("test_vuart");
}
