/* The guest's COM1: a 16550A UART at 0x3f8 on IRQ 4 (National Semiconductor PC16550D
 * datasheet, "PC16550D Universal Asynchronous Receiver/Transmitter with FIFOs", 1995), as
 * Linux's 8250 driver probes it and drives it by interrupts. What the guest transmits
 * reaches the host console a line at a time, prefixed by the VM's name; vuart_receive()
 * feeds the receiver. There is no wire: transmission is instantaneous, the modem inputs are
 * up (CTS, DSR, DCD) and parity, framing and break errors never happen. */
#include "core/vm.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

/* Register offsets (PC16550D table II); DLAB (LCR bit 7) turns 0 and 1 into the divisor. */
#define UART_RBR_THR_DLL 0
#define UART_IER_DLM 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RX_DATA 0x01		/* ERBFI: received data available, char timeout */
#define UART_IER_THR_EMPTY 0x02		/* ETBEI */
#define UART_IER_LINE_STATUS 0x04	/* ELSI */
#define UART_IER_MODEM_STATUS 0x08	/* EDSSI */
#define UART_IER_MASK 0x0f		/* bits 7:4 are always 0 */

/* IIR bits 3:0, the pending interrupt of highest priority (table IV), highest first. */
#define UART_IIR_LINE_STATUS 0x06
#define UART_IIR_RX_DATA 0x04
#define UART_IIR_CHAR_TIMEOUT 0x0c
#define UART_IIR_THR_EMPTY 0x02
#define UART_IIR_MODEM_STATUS 0x00
#define UART_IIR_NO_INTERRUPT 0x01
#define UART_IIR_FIFOS_ON 0xc0		/* IIR bits 7:6 are set while FCR bit 0 is */

#define UART_FCR_FIFO_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02		/* self-clearing, as is bit 2 (clear TX) */
#define UART_FCR_TRIGGER_SHIFT 6

#define UART_LCR_WORD_LENGTH 0x03	/* 5 + n data bits */
#define UART_LCR_STOP_BITS 0x04		/* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PARITY 0x08
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08		/* on the PC it gates the IRQ line */
#define UART_MCR_LOOPBACK 0x10
#define UART_MCR_MASK 0x1f

/* LSR: PE, FE, BI (bits 2-4) and the RX FIFO error (bit 7, one of those in the FIFO)
 * never happen without a wire. */
#define UART_LSR_DATA_READY 0x01
#define UART_LSR_OVERRUN 0x02
#define UART_LSR_THRE 0x20		/* transmit holding register empty */
#define UART_LSR_TEMT 0x40		/* transmitter empty */

/* MSR: the delta bits 3:0 are the changes of bits 7:4 since the last MSR read, except
 * TERI, set when RI goes from 1 to 0. */
#define UART_MSR_DELTA_CTS 0x01
#define UART_MSR_DELTA_DSR 0x02
#define UART_MSR_TRAILING_RI 0x04
#define UART_MSR_DELTA_DCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80
#define UART_MSR_DELTA_SHIFT 4

#define UART_FIFO_BYTES 16
/* The PC's 1.8432 MHz crystal; the baud generator divides it by the divisor latch, and
 * each bit lasts 16 of its outputs: divisor 1 is 115200 baud. */
#define UART_CLOCK_HZ 1843200
#define UART_CLOCKS_PER_BIT 16
#define UART_TIMEOUT_CHARS 4		/* character timeout: four character times */

/* Longer lines are cut into several console lines. */
#define VUART_LINE_MAX 160

/*
 * Invariants: rx_count <= rx_capacity(); rx_timed_out only while the FIFOs are on and the
 * FIFO holds at least one byte (every change of rx_count or of the FIFO mode goes through
 * rx_timer_restart()); irq_high is the level last given to vdev_set_irq().
 */
struct vuart {
	struct io_device io;
	struct vm *vm;
	struct vtimer rx_timeout;
	u8 ier, lcr, mcr, scr, dll, dlm;
	bool fifos_on;
	u8 rx_trigger_bytes;		/* FCR bits 7:6: 1, 4, 8 or 14 */
	u8 rx[UART_FIFO_BYTES];		/* a ring: rx_count bytes from rx_head */
	u8 rx_head, rx_count;
	bool overrun;			/* LSR.OE, until the LSR is read */
	bool rx_timed_out;		/* four character times without a receive or read */
	bool thre_interrupt;		/* the THR emptied since the IIR last reported it */
	u8 modem_lines;			/* MSR bits 7:4 as they are now */
	u8 modem_deltas;		/* MSR bits 3:0 */
	bool irq_high;
	u64 last_output;		/* vdev_now() of the last byte transmitted */
	size_t line_len;
	char line[VUART_LINE_MAX];
};

static void emit_line(struct vuart *uart)
{
	vm_printk(uart->vm, "%.*s", (int)uart->line_len, uart->line);
	uart->line_len = 0;
}

void vuart_flush_line(struct vuart *uart)
{
	if (uart && uart->line_len)
		emit_line(uart);
}

/* A line the guest left unfinished for PROMPT_QUIET_MS (a shell prompt, the echo of what
 * a person types) is shown as it is. */
#define PROMPT_QUIET_MS 50

void vuart_show_unfinished_line(struct vuart *uart)
{
	u64 quiet = PROMPT_QUIET_MS * tsc_hz / 1000;
	if (!uart->line_len || vdev_now(uart->vm) - uart->last_output < quiet)
		return;
	vm_console_partial(uart->vm, uart->line, uart->line_len);
	uart->line_len = 0;
}

static void console_put(struct vuart *uart, u8 c)
{
	uart->last_output = vdev_now(uart->vm);
	if (c == '\n') {
		emit_line(uart);
		return;
	}
	/* The console ends lines itself, and a NUL would cut the printed line short. */
	if (c == '\r' || c == '\0')
		return;
	uart->line[uart->line_len++] = (char)c;
	if (uart->line_len == VUART_LINE_MAX)
		emit_line(uart);
}

/* ---- Receiver ---- */

/* With the FIFOs off the receiver holds one byte, in the RBR (16450 mode). */
static unsigned rx_capacity(const struct vuart *uart)
{
	return uart->fifos_on ? UART_FIFO_BYTES : 1;
}

static unsigned rx_trigger(const struct vuart *uart)
{
	return uart->fifos_on ? uart->rx_trigger_bytes : 1;
}

/* Four character times of the current line settings (start bit, data bits, parity, stop
 * bits), counted in half bits for the 1.5 stop bits of 5-bit words. */
static u64 rx_timeout_tsc(const struct vuart *uart)
{
	unsigned data_bits = 5 + (uart->lcr & UART_LCR_WORD_LENGTH);
	unsigned parity_bits = uart->lcr & UART_LCR_PARITY ? 1 : 0;
	unsigned stop_half_bits = 2;
	/* The datasheet leaves divisor 0 undefined: it counts as the fastest rate here. */
	u64 divisor = (u64)(uart->dlm << 8 | uart->dll) ?: 1;

	if (uart->lcr & UART_LCR_STOP_BITS)
		stop_half_bits = data_bits == 5 ? 3 : 4;
	u64 half_bits = 2 * (1 + data_bits + parity_bits) + stop_half_bits;
	u64 clocks = UART_TIMEOUT_CHARS * half_bits * (UART_CLOCKS_PER_BIT / 2) * divisor;
	return vdev_ticks_to_tsc(clocks, UART_CLOCK_HZ);
}

/* A receive or a read restarts the character timeout (PC16550D, "FIFO interrupt mode
 * operation"); it runs only in FIFO mode while the FIFO holds something. */
static void rx_timer_restart(struct vuart *uart)
{
	uart->rx_timed_out = false;
	if (uart->fifos_on && uart->rx_count)
		vtimer_arm(&uart->rx_timeout, vdev_now(uart->vm) + rx_timeout_tsc(uart));
	else
		vtimer_cancel(&uart->rx_timeout);
}

static void rx_clear(struct vuart *uart)
{
	uart->rx_head = uart->rx_count = 0;
	rx_timer_restart(uart);
}

/* A byte at the receiver; false if it overran. A full FIFO keeps its bytes and loses the
 * new one; the RBR of 16450 mode is overwritten (LSR.OE, PC16550D table V). */
static bool rx_push(struct vuart *uart, u8 byte)
{
	bool fits = uart->rx_count < rx_capacity(uart);

	if (fits)
		uart->rx[(uart->rx_head + uart->rx_count++) % UART_FIFO_BYTES] = byte;
	else if (!uart->fifos_on)
		uart->rx[uart->rx_head] = byte;
	uart->overrun |= !fits;
	rx_timer_restart(uart);
	return fits;
}

/* An empty receiver reads 0. */
static u8 rx_pop(struct vuart *uart)
{
	u8 byte = 0;

	if (uart->rx_count) {
		byte = uart->rx[uart->rx_head];
		uart->rx_head = (uart->rx_head + 1) % UART_FIFO_BYTES;
		uart->rx_count--;
	}
	rx_timer_restart(uart);
	return byte;
}

/* ---- Modem lines ---- */

/* All up, or in loopback the MCR outputs fed back (PC16550D, MCR bit 4): CTS <- RTS,
 * DSR <- DTR, RI <- OUT1, DCD <- OUT2. */
static u8 modem_lines_now(const struct vuart *uart)
{
	u8 mcr = uart->mcr;

	if (!(mcr & UART_MCR_LOOPBACK))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return (mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

/* Each status bit sits 4 above its delta bit; RI counts only its trailing edge. */
static void modem_lines_update(struct vuart *uart)
{
	u8 before = uart->modem_lines, now = modem_lines_now(uart);
	u8 changed = (before ^ now) & (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	u8 ri_fell = before & ~now & UART_MSR_RI;

	uart->modem_deltas |= (changed | ri_fell) >> UART_MSR_DELTA_SHIFT;
	uart->modem_lines = now;
}

/* ---- Interrupts ---- */

/* The pending interrupt the IIR reports, in the datasheet's priority order (table IV). */
static u8 interrupt_identity(const struct vuart *uart)
{
	u8 ier = uart->ier;

	if (ier & UART_IER_LINE_STATUS && uart->overrun)
		return UART_IIR_LINE_STATUS;
	if (ier & UART_IER_RX_DATA && uart->rx_count >= rx_trigger(uart))
		return UART_IIR_RX_DATA;
	if (ier & UART_IER_RX_DATA && uart->rx_timed_out)
		return UART_IIR_CHAR_TIMEOUT;
	if (ier & UART_IER_THR_EMPTY && uart->thre_interrupt)
		return UART_IIR_THR_EMPTY;
	if (ier & UART_IER_MODEM_STATUS && uart->modem_deltas)
		return UART_IIR_MODEM_STATUS;
	return UART_IIR_NO_INTERRUPT;
}

/* IRQ 4 is high while an enabled interrupt is pending and OUT2 lets it through. Only a
 * change reaches the platform: the LSR poll of every byte sent costs nothing more. */
static void update_irq(struct vuart *uart)
{
	bool high = interrupt_identity(uart) != UART_IIR_NO_INTERRUPT &&
		    (uart->mcr & UART_MCR_OUT2);

	if (high == uart->irq_high)
		return;
	uart->irq_high = high;
	vdev_set_irq(uart->vm, VDEV_IRQ_UART, high);
}

static void rx_timeout_expired(struct vtimer *timer, u64 now)
{
	struct vuart *uart = timer->opaque;

	uart->rx_timed_out = true;	/* armed only in FIFO mode with bytes in the FIFO */
	update_irq(uart);
}

/* ---- Registers ---- */

/* Reading the IIR while it reports THRE clears that interrupt (PC16550D table IV). */
static u8 read_iir(struct vuart *uart)
{
	u8 identity = interrupt_identity(uart);

	if (identity == UART_IIR_THR_EMPTY)
		uart->thre_interrupt = false;
	return identity | (uart->fifos_on ? UART_IIR_FIFOS_ON : 0);
}

/* Reading the LSR clears OE (and the line status interrupt). */
static u8 read_lsr(struct vuart *uart)
{
	u8 lsr = UART_LSR_THRE | UART_LSR_TEMT;

	if (uart->rx_count)
		lsr |= UART_LSR_DATA_READY;
	if (uart->overrun)
		lsr |= UART_LSR_OVERRUN;
	uart->overrun = false;
	return lsr;
}

/* Reading the MSR clears its delta bits (and the modem status interrupt). */
static u8 read_msr(struct vuart *uart)
{
	u8 msr = uart->modem_lines | uart->modem_deltas;

	uart->modem_deltas = 0;
	return msr;
}

static u8 read_register(struct vuart *uart, u64 offset)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR_DLL:
		return dlab ? uart->dll : rx_pop(uart);
	case UART_IER_DLM:
		return dlab ? uart->dlm : uart->ier;
	case UART_IIR_FCR:
		return read_iir(uart);
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return read_lsr(uart);
	case UART_MSR:
		return read_msr(uart);
	case UART_SCR:
	default:
		return uart->scr;
	}
}

/* The byte leaves at once, so the THR is empty again right away: THRE is pending anew. In
 * loopback it goes to the receiver instead of the console. */
static void write_thr(struct vuart *uart, u8 value)
{
	if (uart->mcr & UART_MCR_LOOPBACK)
		rx_push(uart, value);
	else
		console_put(uart, value);
	uart->thre_interrupt = true;
}

/* Enabling ETBEI while the THR is empty raises THRE, even after an IIR read cleared it:
 * Linux's THRE test (serial8250_do_startup) counts on that. */
static void write_ier(struct vuart *uart, u8 value)
{
	if (value & UART_IER_THR_EMPTY && !(uart->ier & UART_IER_THR_EMPTY))
		uart->thre_interrupt = true;
	uart->ier = value & UART_IER_MASK;
}

/* Entering or leaving FIFO mode empties the FIFOs; the other bits count only when bit 0 is
 * set in the same write. Clearing the TX FIFO changes nothing: it is always empty. Bit 3
 * (DMA mode) only changes the RXRDY/TXRDY pins, which the PC leaves unconnected. */
static void write_fcr(struct vuart *uart, u8 value)
{
	static const u8 trigger_bytes[4] = { 1, 4, 8, 14 };
	bool on = value & UART_FCR_FIFO_ENABLE;

	if (on != uart->fifos_on) {
		uart->fifos_on = on;
		rx_clear(uart);
	}
	if (!on)
		return;
	if (value & UART_FCR_CLEAR_RX)
		rx_clear(uart);
	uart->rx_trigger_bytes = trigger_bytes[value >> UART_FCR_TRIGGER_SHIFT];
}

static void write_register(struct vuart *uart, u64 offset, u8 value)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR_DLL:
		if (dlab)
			uart->dll = value;
		else
			write_thr(uart, value);
		break;
	case UART_IER_DLM:
		if (dlab)
			uart->dlm = value;
		else
			write_ier(uart, value);
		break;
	case UART_IIR_FCR:
		write_fcr(uart, value);
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		uart->mcr = value & UART_MCR_MASK;
		modem_lines_update(uart);
		break;
	case UART_SCR:
		uart->scr = value;
		break;
	default:
		break;		/* LSR and MSR: writes only matter for factory tests */
	}
}

/* Every access may change what is pending: the line follows after each one. */
static u8 vuart_read_byte(struct io_device *dev, u64 offset)
{
	struct vuart *uart = dev->opaque;
	u8 value = read_register(uart, offset);

	update_irq(uart);
	return value;
}

static void vuart_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vuart *uart = dev->opaque;

	write_register(uart, offset, value);
	update_irq(uart);
}

/* Byte reads (the LSR poll on every character sent) skip the bytewise splitting. */
static u64 vuart_read(struct io_device *dev, u64 offset, unsigned size)
{
	if (size == 1)
		return vuart_read_byte(dev, offset);
	return vdev_read_bytewise(dev, offset, size, vuart_read_byte);
}

static void vuart_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, vuart_write_byte);
}

static const struct io_device_ops vuart_ops = { .read = vuart_read, .write = vuart_write };

/* A full receiver overruns (LSR.OE; the byte is lost). In loopback the serial input is
 * disconnected (PC16550D, MCR bit 4): the byte is lost too, without an overrun. */
bool vuart_receive(struct vuart *uart, u8 byte)
{
	if (uart->mcr & UART_MCR_LOOPBACK)
		return false;
	bool received = rx_push(uart, byte);
	update_irq(uart);
	return received;
}

/* The reset state (PC16550D table III): FIFOs off, no interrupt enabled or pending, the
 * line low. Should the attach fail, the timer stays registered but never armed, until the
 * failed platform forgets the VM's timers. */
struct vuart *vuart_create(struct vm *vm)
{
	struct vuart *uart = kmalloc(sizeof(*uart));

	if (!uart)
		return NULL;
	uart->vm = vm;
	uart->rx_trigger_bytes = 1;
	uart->modem_lines = modem_lines_now(uart);
	if (!vtimer_init(vm, &uart->rx_timeout, rx_timeout_expired, uart) ||
	    !vdev_attach(&vm->pio_bus, &uart->io, "16550A UART", VDEV_UART_PORT, VDEV_UART_PORTS,
			 &vuart_ops, uart)) {
		kfree(uart);
		return NULL;
	}
	return uart;
}

void vuart_destroy(struct vuart *uart)
{
	vuart_flush_line(uart);
	kfree(uart);
}
