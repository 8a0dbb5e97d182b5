/* The guest's i8259A pair as a PC wires it (Intel 8259A datasheet): the master at 0x20-0x21,
 * the slave at 0xa0-0xa1 with its INT output on the master's IR2, and the edge/level control
 * registers ELCR1/ELCR2 at 0x4d0-0x4d1 (Intel 82371AB PIIX4 datasheet), which decide each
 * input's trigger mode in place of ICW1's LTIM bit.
 *
 * Deliberately left out: MCS-80/85 mode (ICW4 bit 0 is taken as set), ICW1's LTIM and ADI
 * bits, ICW3 (the PC's wiring is fixed: one slave, ID 2, on the master's IR2), buffered mode
 * and the special fully nested mode (ICW4 bits 2-4 are ignored; OSes do not set SFNM).
 *
 * One departure from the chip: a rising edge on an edge-triggered input is latched in the IRR
 * until the CPU acknowledges it. A real 8259A also needs the input to stay high until the
 * first INTA, but the platform's edge-triggered devices pulse their line (vdev.h), so their
 * request would always be lost. Level-triggered inputs follow their line, as on the chip:
 * a request that goes away before INTA gives the spurious IR7 vector.
 */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

#define PIC_COMMAND 0
#define PIC_DATA 1
#define PIC_IRQS 8
#define PIC_CASCADE_IRQ 2		/* the master's input the slave's INT drives */
#define PIC_SPURIOUS_IRQ 7		/* the "default IR7" vector of a vanished request */

/* Command-port writes: bit 4 set is ICW1; otherwise bit 3 tells OCW3 from OCW2. */
#define PIC_ICW1 0x10
#define PIC_ICW1_NEED_ICW4 0x01
#define PIC_ICW1_SINGLE 0x02		/* no slave: no ICW3 */
#define PIC_ICW2_VECTOR_BASE 0xf8	/* T7-T3; the vector's bits 2:0 are the IR level */
#define PIC_ICW4_AUTO_EOI 0x02
#define PIC_OCW3 0x08
#define PIC_OCW3_READ_ISR 0x01		/* RIS: ISR, else IRR; only with RR */
#define PIC_OCW3_READ_REGISTER 0x02	/* RR */
#define PIC_OCW3_POLL 0x04
#define PIC_OCW3_SPECIAL_MASK 0x20	/* SMM; only with ESMM */
#define PIC_OCW3_SET_SPECIAL_MASK 0x40	/* ESMM */
#define PIC_POLL_INTERRUPT 0x80		/* poll word: I, then W2-W0 in bits 2:0 */

/* OCW2: R, SL and EOI in bits 7:5 select the command, L2-L0 in bits 2:0 the level. */
#define PIC_OCW2_COMMAND 0xe0
#define PIC_OCW2_LEVEL 0x07
enum pic_ocw2_command {
	OCW2_ROTATE_AUTO_EOI_CLEAR = 0x00,
	OCW2_NON_SPECIFIC_EOI = 0x20,
	OCW2_NO_OPERATION = 0x40,
	OCW2_SPECIFIC_EOI = 0x60,
	OCW2_ROTATE_AUTO_EOI_SET = 0x80,
	OCW2_ROTATE_NON_SPECIFIC_EOI = 0xa0,
	OCW2_SET_PRIORITY = 0xc0,
	OCW2_ROTATE_SPECIFIC_EOI = 0xe0,
};

/* PIIX4 ELCR1 bits 0-2 (IRQ 0, 1, 2) and ELCR2 bits 0 and 5 (IRQ 8, 13) are reserved:
 * those inputs are always edge-triggered. Indexed by ELCR port offset. */
static const u8 elcr_writable[VDEV_ELCR_PORTS] = { 0xf8, 0xde };

/* What the next data-port write is, during initialisation. */
enum pic_init_step { PIC_OPERATING, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

/*
 * One 8259A. The IRR is not stored: it is the latched edges of edge-triggered inputs plus
 * the levels of level-triggered ones (pic_irr()). Invariant: edge_request & elcr == 0.
 * Priority: top_priority is the level with the highest priority, the others follow it in
 * circular order (0 after ICW1: IR0 highest, IR7 lowest); rotation moves it.
 */
struct i8259 {
	struct io_device io;
	enum pic_init_step step;
	bool single, need_icw4;
	bool auto_eoi, rotate_on_auto_eoi;
	bool special_mask;
	bool read_isr;			/* command-port reads: ISR, else IRR */
	bool poll;			/* the next read is the poll word */
	u8 vector_base;
	u8 imr, isr;
	u8 line;			/* the input levels as last driven */
	u8 edge_request;		/* rising edges not yet acknowledged */
	u8 elcr;			/* set: level-triggered */
	u8 top_priority;
};

/* Invariant, restored before every entry point returns: the master's IR2 line is the
 * slave's INT output (cascade_follow_slave()). Both chips' io.opaque point at the pair. */
struct vpic {
	struct i8259 master, slave;
	struct io_device elcr_io;
	struct vm *vm;
};

static u8 irq_bit(unsigned irq)
{
	return (u8)(1u << irq);
}

static u8 pic_irr(const struct i8259 *pic)
{
	return pic->edge_request | (pic->line & pic->elcr);
}

/* 0 for the level with the highest priority, 7 for the lowest. */
static unsigned priority_rank(const struct i8259 *pic, unsigned irq)
{
	return (irq - pic->top_priority) % PIC_IRQS;
}

/* The level in bits with the highest priority, or -1 if bits is empty. */
static int highest_priority(const struct i8259 *pic, u8 bits)
{
	for (unsigned rank = 0; rank < PIC_IRQS; rank++) {
		unsigned irq = (pic->top_priority + rank) % PIC_IRQS;

		if (bits & irq_bit(irq))
			return (int)irq;
	}
	return -1;
}

static void make_lowest_priority(struct i8259 *pic, unsigned irq)
{
	pic->top_priority = (u8)((irq + 1) % PIC_IRQS);
}

/*
 * The request the chip's INT output signals, or -1: the unmasked request with the highest
 * priority, if no level in service has a priority as high. In special mask mode a level in
 * service that is masked blocks nothing (the datasheet's way to let lower levels in).
 */
static int next_interrupt(const struct i8259 *pic)
{
	int irq = highest_priority(pic, pic_irr(pic) & ~pic->imr);
	u8 blocking = pic->special_mask ? pic->isr & ~pic->imr : pic->isr;
	int in_service = highest_priority(pic, blocking);

	if (irq < 0 || in_service < 0)
		return irq;
	if (priority_rank(pic, in_service) <= priority_rank(pic, irq))
		return -1;	/* a level as high or higher is in service */
	return irq;
}

static void drive_line(struct i8259 *pic, unsigned irq, bool high)
{
	u8 bit = irq_bit(irq);

	if (high && !(pic->line & bit) && !(pic->elcr & bit))
		pic->edge_request |= bit;
	pic->line = high ? pic->line | bit : pic->line & ~bit;
}

/* The master's IR2 is edge-triggered (ELCR1 bit 2 is reserved), so a slave request that
 * goes away after raising INT leaves the master's request behind: the spurious IRQ 15. */
static void cascade_follow_slave(struct vpic *pic)
{
	drive_line(&pic->master, PIC_CASCADE_IRQ, next_interrupt(&pic->slave) >= 0);
}

/* The first INTA, or a poll: the request goes in service, or with auto-EOI ends at once. A
 * level-triggered request stays in the IRR while its line is high. */
static void accept(struct i8259 *pic, unsigned irq)
{
	pic->edge_request &= ~irq_bit(irq);
	if (!pic->auto_eoi)
		pic->isr |= irq_bit(irq);
	else if (pic->rotate_on_auto_eoi)
		make_lowest_priority(pic, irq);
}

/* One chip's part of the INTA cycles: the vector of the request it accepts, or, if none is
 * left, IR7's with nothing put in service. */
static u8 acknowledge_chip(struct i8259 *pic)
{
	int irq = next_interrupt(pic);

	if (irq < 0)
		return pic->vector_base | PIC_SPURIOUS_IRQ;
	accept(pic, (unsigned)irq);
	return pic->vector_base | (u8)irq;
}

u8 vpic_acknowledge(struct vpic *pic)
{
	struct i8259 *master = &pic->master;
	u8 vector;

	if (master->single || next_interrupt(master) != PIC_CASCADE_IRQ)
		return acknowledge_chip(master);
	accept(master, PIC_CASCADE_IRQ);
	vector = acknowledge_chip(&pic->slave);
	/* Taken as the slave's INT dropping during its INTA cycles: if the slave still has a
	 * request (auto-EOI put nothing in service), INT rises again, a new edge on IR2. */
	master->line &= ~irq_bit(PIC_CASCADE_IRQ);
	cascade_follow_slave(pic);
	return vector;
}

bool vpic_interrupt_pending(const struct vpic *pic)
{
	return next_interrupt(&pic->master) >= 0;
}

void vpic_set_irq(struct vpic *pic, unsigned irq, bool high)
{
	/* No ISA device drives IRQ 2 (the master's IR2 is the slave's INT); lines past 15
	 * reach only the I/O APIC. */
	if (irq >= VDEV_ISA_IRQS || irq == PIC_CASCADE_IRQ)
		return;
	drive_line(irq < PIC_IRQS ? &pic->master : &pic->slave, irq % PIC_IRQS, high);
	cascade_follow_slave(pic);
}

/* The poll command: the read acts as an INTA and returns the level it accepted. */
static u8 poll(struct i8259 *pic)
{
	int irq = next_interrupt(pic);

	pic->poll = false;
	if (irq < 0)
		return 0;
	accept(pic, (unsigned)irq);
	return PIC_POLL_INTERRUPT | (u8)irq;
}

/* ICW1 (datasheet, "Initialization Command Words"): the edge sense is reset, so an input
 * already high must fall and rise to request; IMR and ISR are cleared, IR0 gets the
 * highest priority, special mask mode ends and reads return the IRR. ICW4's functions are
 * cleared until ICW4 (if any) sets them. */
static void start_initialisation(struct i8259 *pic, u8 icw1)
{
	pic->edge_request = 0;
	pic->imr = pic->isr = 0;
	pic->top_priority = 0;
	pic->special_mask = pic->read_isr = pic->poll = false;
	pic->auto_eoi = pic->rotate_on_auto_eoi = false;
	pic->single = icw1 & PIC_ICW1_SINGLE;
	pic->need_icw4 = icw1 & PIC_ICW1_NEED_ICW4;
	pic->step = PIC_WANT_ICW2;
}

static enum pic_init_step step_after_icw3(const struct i8259 *pic)
{
	return pic->need_icw4 ? PIC_WANT_ICW4 : PIC_OPERATING;
}

static void write_data(struct i8259 *pic, u8 value)
{
	switch (pic->step) {
	case PIC_WANT_ICW2:
		pic->vector_base = value & PIC_ICW2_VECTOR_BASE;
		pic->step = pic->single ? step_after_icw3(pic) : PIC_WANT_ICW3;
		break;
	case PIC_WANT_ICW3:		/* the cascade wiring, fixed on a PC */
		pic->step = step_after_icw3(pic);
		break;
	case PIC_WANT_ICW4:
		pic->auto_eoi = value & PIC_ICW4_AUTO_EOI;
		pic->step = PIC_OPERATING;
		break;
	case PIC_OPERATING:
		pic->imr = value;	/* OCW1 */
		break;
	}
}

/* The non-specific EOI: the level in service with the highest priority is done. Returns
 * it, or -1 if nothing was in service. */
static int end_highest_in_service(struct i8259 *pic)
{
	int irq = highest_priority(pic, pic->isr);

	if (irq >= 0)
		pic->isr &= ~irq_bit((unsigned)irq);
	return irq;
}

static void write_ocw2(struct i8259 *pic, u8 value)
{
	unsigned level = value & PIC_OCW2_LEVEL;
	int ended;

	switch (value & PIC_OCW2_COMMAND) {
	case OCW2_NON_SPECIFIC_EOI:
		end_highest_in_service(pic);
		break;
	case OCW2_ROTATE_NON_SPECIFIC_EOI:
		ended = end_highest_in_service(pic);
		if (ended >= 0)
			make_lowest_priority(pic, (unsigned)ended);
		break;
	case OCW2_SPECIFIC_EOI:
		pic->isr &= ~irq_bit(level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		pic->isr &= ~irq_bit(level);
		make_lowest_priority(pic, level);
		break;
	case OCW2_SET_PRIORITY:
		make_lowest_priority(pic, level);
		break;
	case OCW2_ROTATE_AUTO_EOI_SET:
		pic->rotate_on_auto_eoi = true;
		break;
	case OCW2_ROTATE_AUTO_EOI_CLEAR:
		pic->rotate_on_auto_eoi = false;
		break;
	case OCW2_NO_OPERATION:
	default:
		break;
	}
}

static void write_ocw3(struct i8259 *pic, u8 value)
{
	if (value & PIC_OCW3_READ_REGISTER)
		pic->read_isr = value & PIC_OCW3_READ_ISR;
	if (value & PIC_OCW3_SET_SPECIAL_MASK)
		pic->special_mask = value & PIC_OCW3_SPECIAL_MASK;
	pic->poll = value & PIC_OCW3_POLL;
}

static void write_command(struct i8259 *pic, u8 value)
{
	if (value & PIC_ICW1)
		start_initialisation(pic, value);
	else if (value & PIC_OCW3)
		write_ocw3(pic, value);
	else
		write_ocw2(pic, value);
}

static struct i8259 *chip_of(struct io_device *dev)
{
	struct vpic *pic = dev->opaque;

	return dev == &pic->slave.io ? &pic->slave : &pic->master;
}

static u8 read_register(struct i8259 *pic, u64 offset)
{
	if (pic->poll)
		return poll(pic);	/* whichever port the read is on */
	if (offset == PIC_DATA)
		return pic->imr;
	return pic->read_isr ? pic->isr : pic_irr(pic);
}

static u8 pic_read_byte(struct io_device *dev, u64 offset)
{
	u8 value = read_register(chip_of(dev), offset);

	cascade_follow_slave(dev->opaque);
	return value;
}

static void pic_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	if (offset == PIC_DATA)
		write_data(chip_of(dev), value);
	else
		write_command(chip_of(dev), value);
	cascade_follow_slave(dev->opaque);
}

/* Any access may change the INT output (a poll acknowledges, a mask or EOI unblocks): the
 * vCPU decides again before it enters the guest (vdev_interrupts_changed()). */
static u64 pic_read(struct io_device *dev, u64 offset, unsigned size)
{
	struct vpic *pic = dev->opaque;

	vdev_interrupts_changed(pic->vm);
	return vdev_read_bytewise(dev, offset, size, pic_read_byte);
}

static void pic_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vpic *pic = dev->opaque;

	vdev_interrupts_changed(pic->vm);
	vdev_write_bytewise(dev, offset, size, value, pic_write_byte);
}

static const struct io_device_ops pic_ops = { .read = pic_read, .write = pic_write };

/* ELCR offset 0 is the master's (ELCR1), 1 the slave's (ELCR2). */
static struct i8259 *elcr_chip(struct io_device *dev, u64 offset)
{
	struct vpic *pic = dev->opaque;

	return offset ? &pic->slave : &pic->master;
}

static u8 elcr_read_byte(struct io_device *dev, u64 offset)
{
	return elcr_chip(dev, offset)->elcr;
}

static void elcr_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct i8259 *pic = elcr_chip(dev, offset);

	pic->elcr = value & elcr_writable[offset];
	pic->edge_request &= ~pic->elcr;	/* a level input's request is its line */
	cascade_follow_slave(dev->opaque);
}

static u64 elcr_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, elcr_read_byte);
}

static void elcr_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vpic *pic = dev->opaque;

	vdev_interrupts_changed(pic->vm);
	vdev_write_bytewise(dev, offset, size, value, elcr_write_byte);
}

static const struct io_device_ops elcr_ops = { .read = elcr_read, .write = elcr_write };

/* Before the guest's ICW1 both chips are as after one (kmalloc zeroes): nothing masked,
 * IR0 highest, vector base 0, all inputs edge-triggered. */
struct vpic *vpic_create(struct vm *vm)
{
	struct vpic *pic = kmalloc(sizeof(*pic));

	if (!pic)
		return NULL;
	pic->vm = vm;
	if (!vdev_attach(&vm->pio_bus, &pic->master.io, "8259 master", VDEV_PIC_MASTER_PORT,
			 VDEV_PIC_PORTS, &pic_ops, pic) ||
	    !vdev_attach(&vm->pio_bus, &pic->slave.io, "8259 slave", VDEV_PIC_SLAVE_PORT,
			 VDEV_PIC_PORTS, &pic_ops, pic) ||
	    !vdev_attach(&vm->pio_bus, &pic->elcr_io, "ELCR", VDEV_ELCR_PORT, VDEV_ELCR_PORTS,
			 &elcr_ops, pic)) {
		kfree(pic);
		return NULL;
	}
	return pic;
}

void vpic_destroy(struct vpic *pic)
{
	kfree(pic);
}
