/* Helpers every device model shares (drivers/vdev.h): attaching to a bus, and registers
 * made of bytes (ISA devices, byte arrays). */
#include "core/bus.h"
#include "drivers/vdev.h"

bool vdev_attach(struct io_bus *bus, struct io_device *io, const char *name, u64 base,
		 u64 length, const struct io_device_ops *ops, void *opaque)
{
	*io = (struct io_device){ .name = name, .base = base, .length = length, .ops = ops,
				  .opaque = opaque };
	return io_bus_register(bus, io);
}

u64 vdev_read_bytewise(struct io_device *dev, u64 offset, unsigned size,
		       vdev_read_byte_fn read_byte)
{
	unsigned inside = vdev_bytes_inside(dev, offset, size);
	u64 value = low_bytes_mask(size);

	for (unsigned i = 0; i < inside; i++) {
		value &= ~(0xffull << (8 * i));
		value |= (u64)read_byte(dev, offset + i) << (8 * i);
	}
	return value;
}

void vdev_write_bytewise(struct io_device *dev, u64 offset, unsigned size, u64 value,
			 vdev_write_byte_fn write_byte)
{
	unsigned inside = vdev_bytes_inside(dev, offset, size);

	for (unsigned i = 0; i < inside; i++)
		write_byte(dev, offset + i, (u8)(value >> (8 * i)));
}

static u8 byte_array_read_byte(struct io_device *dev, u64 offset)
{
	const u8 *bytes = dev->opaque;

	return bytes[offset];
}

static void byte_array_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	u8 *bytes = dev->opaque;

	bytes[offset] = value;
}

static u64 byte_array_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, byte_array_read_byte);
}

static void byte_array_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, byte_array_write_byte);
}

const struct io_device_ops vdev_byte_array_ops = {
	.read = byte_array_read,
	.write = byte_array_write,
};
