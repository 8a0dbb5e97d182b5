/* The guest's two i8259A PICs (master 0x20-0x21, slave 0xa0-0xa1) and their ELCR
 * (0x4d0-0x4d1). Initialisation and operation command words are accepted and the masks
 * read back, but no interrupt is ever raised: Vireo delivers no device interrupts to
 * guests, so IRR and ISR stay empty. Register semantics: Intel 8259A datasheet. */
#include "drivers/vdev.h"
#include "lib/slab.h"
#include "vm/vm.h"

#define PIC_COMMAND 0
#define PIC_DATA 1
#define PIC_ICW1 0x10			/* command bit 4: ICW1, starts initialisation */
#define PIC_ICW1_NEED_ICW4 0x01
#define PIC_ICW1_SINGLE 0x02		/* no cascade: no ICW3 */

/* What the next data-port write is, during initialisation. */
enum pic_init_step { PIC_OPERATING, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

struct i8259 {
	struct io_device io;
	enum pic_init_step step;
	bool single, need_icw4;
	u8 imr;
};

struct vpic {
	struct i8259 master, slave;
	struct io_device elcr_io;
	u8 elcr[VDEV_ELCR_PORTS];
};

static enum pic_init_step step_after_icw3(const struct i8259 *pic)
{
	return pic->need_icw4 ? PIC_WANT_ICW4 : PIC_OPERATING;
}

static void write_data(struct i8259 *pic, u8 value)
{
	switch (pic->step) {
	case PIC_WANT_ICW2:		/* vector base: unused without interrupts */
		pic->step = pic->single ? step_after_icw3(pic) : PIC_WANT_ICW3;
		break;
	case PIC_WANT_ICW3:		/* cascade wiring */
		pic->step = step_after_icw3(pic);
		break;
	case PIC_WANT_ICW4:		/* mode bits */
		pic->step = PIC_OPERATING;
		break;
	case PIC_OPERATING:
		pic->imr = value;	/* OCW1 */
		break;
	}
}

/* ICW1 resets the mask (8259A datasheet, "Initialization Command Words"); OCW2 (EOI,
 * rotation) and OCW3 (register select, poll, special mask) change nothing that can be
 * observed while no interrupt is ever pending. */
static void write_command(struct i8259 *pic, u8 value)
{
	if (!(value & PIC_ICW1))
		return;
	pic->imr = 0;
	pic->single = value & PIC_ICW1_SINGLE;
	pic->need_icw4 = value & PIC_ICW1_NEED_ICW4;
	pic->step = PIC_WANT_ICW2;
}

static u8 pic_read_byte(struct io_device *dev, u64 offset)
{
	struct i8259 *pic = dev->opaque;

	return offset == PIC_DATA ? pic->imr : 0;	/* command port: IRR or ISR, empty */
}

static void pic_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct i8259 *pic = dev->opaque;

	if (offset == PIC_DATA)
		write_data(pic, value);
	else
		write_command(pic, value);
}

static u64 pic_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, pic_read_byte);
}

static void pic_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, pic_write_byte);
}

static const struct io_device_ops pic_ops = { .read = pic_read, .write = pic_write };

struct vpic *vpic_create(struct vm *vm)
{
	struct vpic *vpic = kmalloc(sizeof(*vpic));

	if (!vpic)
		return NULL;
	if (!vdev_attach(&vm->pio_bus, &vpic->master.io, "8259 master", VDEV_PIC_MASTER_PORT,
			 VDEV_PIC_PORTS, &pic_ops, &vpic->master) ||
	    !vdev_attach(&vm->pio_bus, &vpic->slave.io, "8259 slave", VDEV_PIC_SLAVE_PORT,
			 VDEV_PIC_PORTS, &pic_ops, &vpic->slave) ||
	    !vdev_attach(&vm->pio_bus, &vpic->elcr_io, "ELCR", VDEV_ELCR_PORT, VDEV_ELCR_PORTS,
			 &vdev_byte_array_ops, vpic->elcr)) {
		kfree(vpic);
		return NULL;
	}
	return vpic;
}

void vpic_destroy(struct vpic *vpic)
{
	kfree(vpic);
}
