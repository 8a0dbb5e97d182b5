/* The guest's 16550 UART at 0x3f8 (National Semiconductor PC16550D datasheet): what the
 * guest transmits reaches the host console a line at a time, prefixed by the VM's name.
 * There is no input (the receiver stays empty) and no interrupt is ever raised. */
#include "drivers/vdev.h"
#include "lib/slab.h"
#include "vm/vm.h"

/* Register offsets (PC16550D table II); DLAB (LCR bit 7) turns 0 and 1 into the divisor. */
#define UART_RBR_THR_DLL 0
#define UART_IER_DLM 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_MASK 0x0f
#define UART_IIR_NO_INTERRUPT 0x01
#define UART_IIR_FIFOS_ON 0xc0		/* IIR bits 7:6 mirror FCR bit 0 */
#define UART_FCR_FIFO_ENABLE 0x01
#define UART_FCR_SELF_CLEARING 0x06	/* "clear RX/TX FIFO" bits read back as 0 */
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOPBACK 0x10
#define UART_MCR_MASK 0x1f
#define UART_LSR_THRE 0x20		/* transmit holding register empty */
#define UART_LSR_TEMT 0x40		/* transmitter empty */
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/* Longer lines are cut into several console lines. */
#define VUART_LINE_MAX 160

struct vuart {
	struct io_device io;
	struct vm *vm;
	u8 ier, fcr, lcr, mcr, scr, dll, dlm;
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

static void transmit(struct vuart *uart, u8 c)
{
	/* In loopback the byte goes to the receiver, which Vireo does not model. */
	if (uart->mcr & UART_MCR_LOOPBACK)
		return;
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

/* The modem lines: all up, or in loopback mode the MCR outputs fed back (PC16550D,
 * MCR bit 4): CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2. */
static u8 modem_status(const struct vuart *uart)
{
	u8 mcr = uart->mcr;

	if (!(mcr & UART_MCR_LOOPBACK))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return (mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static u8 vuart_read_byte(struct io_device *dev, u64 offset)
{
	struct vuart *uart = dev->opaque;
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR_DLL:
		return dlab ? uart->dll : 0;	/* nothing is ever received */
	case UART_IER_DLM:
		return dlab ? uart->dlm : uart->ier;
	case UART_IIR_FCR:
		return UART_IIR_NO_INTERRUPT |
		       (uart->fcr & UART_FCR_FIFO_ENABLE ? UART_IIR_FIFOS_ON : 0);
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;	/* DR (bit 0) clear: no input */
	case UART_MSR:
		return modem_status(uart);
	case UART_SCR:
		return uart->scr;
	default:
		return 0xff;
	}
}

static void vuart_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vuart *uart = dev->opaque;
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR_DLL:
		if (dlab)
			uart->dll = value;
		else
			transmit(uart, value);
		break;
	case UART_IER_DLM:
		if (dlab)
			uart->dlm = value;
		else
			uart->ier = value & UART_IER_MASK;
		break;
	case UART_IIR_FCR:
		uart->fcr = value & ~UART_FCR_SELF_CLEARING;
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		uart->mcr = value & UART_MCR_MASK;
		break;
	case UART_SCR:
		uart->scr = value;
		break;
	default:
		break;		/* LSR and MSR: writes only matter for factory tests */
	}
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

struct vuart *vuart_create(struct vm *vm)
{
	struct vuart *uart = kmalloc(sizeof(*uart));

	if (!uart)
		return NULL;
	uart->vm = vm;
	if (!vdev_attach(&vm->pio_bus, &uart->io, "16550 UART", VDEV_UART_PORT, VDEV_UART_PORTS,
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
