/* Test devices. QEMU's pc-testdev (hw/misc/pc-testdev.c), which kvm-unit-tests-style
 * guests use: a 32-bit scratch port, a flush-page port and IRQ-line ports (accepted and
 * ignored: no interrupts are delivered) and a 64 KiB memory-like MMIO region for
 * instruction-emulation tests. And the Vireo test device (layout in drivers/vdev.h):
 * doorbells on the fast MMIO bus with counters, plus a scratch register. */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "lib/slab.h"
#include "lib/string.h"

#define TESTDEV_REGISTER_BYTES 8

struct vpc_testdev {
	struct io_device scratch_io, flush_io, irq_io, memory_io;
	u8 scratch[VDEV_PC_TESTDEV_SCRATCH_PORTS];
	u8 *memory;			/* VDEV_PC_TESTDEV_MMIO_BYTES, from page_alloc */
};

struct vtestdev {
	struct io_device io;
	struct doorbell doorbell, doorbell_match;
	struct vm *vm;
	u64 match_count;
	u64 scratch;
};

static u64 ignored_read(struct io_device *dev, u64 offset, unsigned size)
{
	return 0;
}

static void ignored_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
}

static const struct io_device_ops ignored_ops = { .read = ignored_read, .write = ignored_write };

/* Memory semantics at any width and alignment, little-endian (the host's order too); the
 * part of an access that runs past the region's end reads 0 and is not written. */
/* An access of a fixed size compiles to one load or store (the common case). */
static u64 load_sized(const u8 *p, unsigned size)
{
	u8 v8; u16 v16; u32 v32; u64 v64;
	switch (size) {
	case 1: __builtin_memcpy(&v8, p, 1); return v8;
	case 2: __builtin_memcpy(&v16, p, 2); return v16;
	case 4: __builtin_memcpy(&v32, p, 4); return v32;
	default: __builtin_memcpy(&v64, p, 8); return v64;
	}
}

static void store_sized(u8 *p, unsigned size, u64 value)
{
	u8 v8 = (u8)value; u16 v16 = (u16)value; u32 v32 = (u32)value;
	switch (size) {
	case 1: __builtin_memcpy(p, &v8, 1); break;
	case 2: __builtin_memcpy(p, &v16, 2); break;
	case 4: __builtin_memcpy(p, &v32, 4); break;
	default: __builtin_memcpy(p, &value, 8);
	}
}

static u64 memory_read(struct io_device *dev, u64 offset, unsigned size)
{
	struct vpc_testdev *testdev = dev->opaque;
	unsigned inside = vdev_bytes_inside(dev, offset, size);
	u64 value = 0;

	if (inside == size)
		return load_sized(testdev->memory + offset, size);
	memcpy(&value, testdev->memory + offset, inside);
	return value;
}

static void memory_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vpc_testdev *testdev = dev->opaque;
	unsigned inside = vdev_bytes_inside(dev, offset, size);

	if (inside == size)
		store_sized(testdev->memory + offset, size, value);
	else
		memcpy(testdev->memory + offset, &value, inside);
}

static const struct io_device_ops memory_ops = { .read = memory_read, .write = memory_write };

static bool register_pc_testdev(struct vm *vm, struct vpc_testdev *t)
{
	return vdev_attach(&vm->pio_bus, &t->scratch_io, "pc-testdev scratch",
			   VDEV_PC_TESTDEV_SCRATCH_PORT, VDEV_PC_TESTDEV_SCRATCH_PORTS,
			   &vdev_byte_array_ops, t->scratch) &&
	       vdev_attach(&vm->pio_bus, &t->flush_io, "pc-testdev flush-page",
			   VDEV_PC_TESTDEV_FLUSH_PORT, VDEV_PC_TESTDEV_FLUSH_PORTS, &ignored_ops, t) &&
	       vdev_attach(&vm->pio_bus, &t->irq_io, "pc-testdev irq", VDEV_PC_TESTDEV_IRQ_PORT,
			   VDEV_PC_TESTDEV_IRQ_PORTS, &ignored_ops, t) &&
	       vdev_attach(&vm->mmio_bus, &t->memory_io, "pc-testdev iomem",
			   VDEV_PC_TESTDEV_MMIO_GPA, VDEV_PC_TESTDEV_MMIO_BYTES, &memory_ops, t);
}

#define PC_TESTDEV_MEMORY_ORDER page_order_for_size(VDEV_PC_TESTDEV_MMIO_BYTES)

struct vpc_testdev *vpc_testdev_create(struct vm *vm)
{
	struct vpc_testdev *testdev = kmalloc(sizeof(*testdev));

	if (!testdev)
		return NULL;
	u64 memory_hpa = page_alloc_zeroed(PC_TESTDEV_MEMORY_ORDER);
	if (memory_hpa)
		testdev->memory = phys_to_virt(memory_hpa);
	if (!memory_hpa || !register_pc_testdev(vm, testdev)) {
		vpc_testdev_destroy(testdev);
		return NULL;
	}
	return testdev;
}

void vpc_testdev_destroy(struct vpc_testdev *testdev)
{
	if (testdev && testdev->memory)
		page_free(virt_to_phys(testdev->memory), PC_TESTDEV_MEMORY_ORDER);
	kfree(testdev);
}

/* The one place a doorbell write counts, whether it was caught on the fast MMIO bus or
 * reached the device after decoding. A write the fast path skipped without decoding has
 * no known value: it counts but leaves the last value as it was. */
static void ring_doorbell(struct vtestdev *testdev, u64 value, bool value_known)
{
	testdev->vm->stats.counters[HC_STAT_TESTDEV_DOORBELL]++;
	if (value_known)
		testdev->vm->stats.counters[HC_STAT_TESTDEV_LAST_VALUE] = value;
}

static void ring_doorbell_match(struct vtestdev *testdev, u64 value, bool value_known)
{
	if (value_known && value == VDEV_TESTDEV_MATCH_VALUE)
		testdev->match_count++;
}

static void doorbell_signal(struct doorbell *bell, u64 value, bool value_known)
{
	ring_doorbell(bell->opaque, value, value_known);
}

static void doorbell_match_signal(struct doorbell *bell, u64 value, bool value_known)
{
	ring_doorbell_match(bell->opaque, value, value_known);
}

static u64 register_value(const struct vtestdev *testdev, u64 offset)
{
	switch (offset) {
	case VDEV_TESTDEV_COUNT:
		return testdev->vm->stats.counters[HC_STAT_TESTDEV_DOORBELL];
	case VDEV_TESTDEV_MATCH_COUNT:
		return testdev->match_count;
	case VDEV_TESTDEV_SCRATCH:
		return testdev->scratch;
	default:
		return 0;	/* the doorbells are write-only; the rest of the page is empty */
	}
}

/* An access works within the 8-byte register it starts in: narrower or unaligned reads
 * see that register's bytes, and bytes past its end read 0. */
static u64 vtestdev_read(struct io_device *dev, u64 offset, unsigned size)
{
	unsigned byte = offset % TESTDEV_REGISTER_BYTES;
	u64 value = register_value(dev->opaque, offset - byte);

	return (value >> (8 * byte)) & low_bytes_mask(size);
}

static void write_scratch(struct vtestdev *testdev, unsigned byte, unsigned size, u64 value)
{
	u64 mask = low_bytes_mask(size) << (8 * byte);

	testdev->scratch = (testdev->scratch & ~mask) | ((value << (8 * byte)) & mask);
}

/* Doorbells count only writes at their own offset (where the fast bus catches them). */
static void vtestdev_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vtestdev *testdev = dev->opaque;
	unsigned byte = offset % TESTDEV_REGISTER_BYTES;

	value &= low_bytes_mask(size);
	if (offset == VDEV_TESTDEV_DOORBELL)
		ring_doorbell(testdev, value, true);
	else if (offset == VDEV_TESTDEV_DOORBELL_MATCH)
		ring_doorbell_match(testdev, value, true);
	else if (offset - byte == VDEV_TESTDEV_SCRATCH)
		write_scratch(testdev, byte, size, value);
}

static const struct io_device_ops vtestdev_ops = { .read = vtestdev_read, .write = vtestdev_write };

static bool register_vtestdev(struct vm *vm, struct vtestdev *t)
{
	t->doorbell = (struct doorbell){ .gpa = VDEV_TESTDEV_GPA + VDEV_TESTDEV_DOORBELL,
					 .signal = doorbell_signal, .opaque = t };
	t->doorbell_match = (struct doorbell){
		.gpa = VDEV_TESTDEV_GPA + VDEV_TESTDEV_DOORBELL_MATCH,
		.match_value = true, .value = VDEV_TESTDEV_MATCH_VALUE,
		.signal = doorbell_match_signal, .opaque = t,
	};
	return vdev_attach(&vm->mmio_bus, &t->io, "Vireo test device", VDEV_TESTDEV_GPA,
			   VDEV_TESTDEV_BYTES, &vtestdev_ops, t) &&
	       fast_mmio_register(&vm->fast_mmio_bus, &t->doorbell) &&
	       fast_mmio_register(&vm->fast_mmio_bus, &t->doorbell_match);
}

struct vtestdev *vtestdev_create(struct vm *vm)
{
	struct vtestdev *testdev = kmalloc(sizeof(*testdev));

	if (!testdev)
		return NULL;
	testdev->vm = vm;
	if (!register_vtestdev(vm, testdev)) {
		kfree(testdev);
		return NULL;
	}
	return testdev;
}

void vtestdev_destroy(struct vtestdev *testdev)
{
	kfree(testdev);
}
