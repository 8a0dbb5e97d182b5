/* The ACPI fixed hardware the FADT describes (ACPI 6.4, 4.8.3): the PM timer at 0x608, a
 * 24-bit counter at 3.579545 MHz derived from the host TSC, and the PM1a event (0x600) and
 * control (0x604) registers. No event is ever raised (there is no SCI); a sleep request
 * for S5 ends the VM with status 0. */
#include "arch/x86/cpu.h"
#include "core/vm.h"
#include "drivers/acpi_tables.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

#define PM_TIMER_HZ 3579545ull		/* ACPI 6.4, 4.8.3.3 */
#define PM_TIMER_MASK 0xffffffull	/* 24 bits: FADT flag TMR_VAL_EXT clear */

/* PM1 byte offsets from 0x600: status (write 1 to clear), enable, control (4.8.3.1-2). */
#define PM1_STATUS 0
#define PM1_ENABLE 2
#define PM1_CONTROL 4
#define PM1_BYTES (VDEV_PM1_EVENT_PORTS + VDEV_PM1_CONTROL_PORTS)
static_assert(VDEV_PM1_CONTROL_PORT == VDEV_PM1_EVENT_PORT + PM1_CONTROL,
	      "the control block follows the event block");

#define PM1_CONTROL_SCI_EN 0x0001	/* set: the platform is in ACPI mode (no SMI_CMD) */
#define PM1_CONTROL_SLP_TYP_MASK 0x7

struct vpm {
	struct io_device pm1_io, timer_io;
	struct vm *vm;
	u16 enable, control;
};

static u32 pm_timer_now(void)
{
	u64 tsc = rdtsc();
	/* Split so that nothing overflows: tsc % tsc_hz * PM_TIMER_HZ < 2^64 for any TSC
	 * below 5 THz. */
	u64 ticks = tsc / tsc_hz * PM_TIMER_HZ + tsc % tsc_hz * PM_TIMER_HZ / tsc_hz;

	return (u32)(ticks & PM_TIMER_MASK);
}

static u64 timer_read(struct io_device *dev, u64 offset, unsigned size)
{
	if (offset >= VDEV_PM_TIMER_PORTS)
		return 0;
	return ((u64)pm_timer_now() >> (8 * offset)) & low_bytes_mask(size);
}

static void timer_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
}

static const struct io_device_ops timer_ops = { .read = timer_read, .write = timer_write };

static void sleep_requested(struct vpm *pm, u16 control)
{
	unsigned type = (control >> PM1_CNT_SLP_TYP_SHIFT) & PM1_CONTROL_SLP_TYP_MASK;

	/* The DSDT offers S5 only, so other sleep types are not for us to honour. */
	if (type == VDEV_ACPI_SLP_TYP_S5)
		vm_stop(pm->vm, 0, "ACPI soft-off");
}

static u8 pm1_read_byte(struct io_device *dev, u64 offset)
{
	struct vpm *pm = dev->opaque;
	unsigned shift = 8 * (offset & 1);

	switch (offset & ~1ull) {
	case PM1_ENABLE:
		return (u8)(pm->enable >> shift);
	case PM1_CONTROL:
		return (u8)(pm->control >> shift);
	case PM1_STATUS:
	default:
		return 0;	/* no event ever happens */
	}
}

/* Byte by byte (a 16-bit write arrives low byte first): SLP_EN is in the high byte, so
 * the sleep request sees the whole new control value. */
static void pm1_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vpm *pm = dev->opaque;
	unsigned shift = 8 * (offset & 1);
	u16 merged;

	switch (offset & ~1ull) {
	case PM1_ENABLE:
		pm->enable = (u16)((pm->enable & ~(0xff << shift)) | value << shift);
		break;
	case PM1_CONTROL:
		merged = (u16)((pm->control & ~(0xff << shift)) | value << shift);
		pm->control = merged & ~PM1_CNT_SLP_EN;
		if (merged & PM1_CNT_SLP_EN)
			sleep_requested(pm, merged);
		break;
	case PM1_STATUS:
	default:
		break;		/* writing 1s clears events, and there are none */
	}
}

static u64 pm1_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, pm1_read_byte);
}

static void pm1_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, pm1_write_byte);
}

static const struct io_device_ops pm1_ops = { .read = pm1_read, .write = pm1_write };

struct vpm *vpm_create(struct vm *vm)
{
	if (!tsc_hz)
		return NULL;
	struct vpm *pm = kmalloc(sizeof(*pm));
	if (!pm)
		return NULL;
	pm->vm = vm;
	pm->control = PM1_CONTROL_SCI_EN;
	if (!vdev_attach(&vm->pio_bus, &pm->pm1_io, "ACPI PM1a", VDEV_PM1_EVENT_PORT, PM1_BYTES,
			 &pm1_ops, pm) ||
	    !vdev_attach(&vm->pio_bus, &pm->timer_io, "ACPI PM timer", VDEV_PM_TIMER_PORT,
			 VDEV_PM_TIMER_PORTS, &timer_ops, pm)) {
		kfree(pm);
		return NULL;
	}
	return pm;
}

void vpm_destroy(struct vpm *pm)
{
	kfree(pm);
}
