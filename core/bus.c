/* The port-I/O and MMIO buses (sorted arrays, binary search) and the fast MMIO bus of
 * doorbells (a short array: a handful of doorbells per VM, scanned). */
#include "core/bus.h"
#include "lib/string.h"

/* Index of the first device whose base is > address. */
static size_t upper_bound(const struct io_bus *bus, u64 address)
{
	size_t lo = 0, hi = bus->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (bus->devices[mid]->base <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool device_holds(const struct io_device *dev, u64 address)
{
	return address - dev->base < dev->length;
}

/* A driver's accesses come in runs on one device: the last one found is tried first.
 * Inline in io_bus_read() and io_bus_write(), which the exit paths call. */
static inline __attribute__((always_inline)) struct io_device *find(struct io_bus *bus,
								    u64 address)
{
	if (likely(bus->last && device_holds(bus->last, address)))
		return bus->last;
	size_t i = upper_bound(bus, address);
	if (i == 0 || !device_holds(bus->devices[i - 1], address))
		return NULL;
	bus->last = bus->devices[i - 1];
	return bus->last;
}

struct io_device *io_bus_find(struct io_bus *bus, u64 address)
{
	return find(bus, address);
}

bool io_bus_register(struct io_bus *bus, struct io_device *dev)
{
	if (bus->count == IO_BUS_MAX_DEVICES || dev->length == 0 || dev->base + dev->length < dev->base)
		return false;
	size_t i = upper_bound(bus, dev->base);
	if (i > 0 && bus->devices[i - 1]->base + bus->devices[i - 1]->length > dev->base)
		return false;
	if (i < bus->count && dev->base + dev->length > bus->devices[i]->base)
		return false;
	memmove(&bus->devices[i + 1], &bus->devices[i], (bus->count - i) * sizeof(dev));
	bus->devices[i] = dev;
	bus->count++;
	return true;
}

bool io_bus_read(struct io_bus *bus, u64 address, unsigned size, u64 *value)
{
	struct io_device *dev = find(bus, address);
	if (!dev) {
		*value = low_bytes_mask(size);
		return false;
	}
	*value = dev->ops->read(dev, address - dev->base, size);
	return true;
}

bool io_bus_write(struct io_bus *bus, u64 address, unsigned size, u64 value)
{
	struct io_device *dev = find(bus, address);
	if (!dev)
		return false;
	dev->ops->write(dev, address - dev->base, size, value);
	return true;
}

bool fast_mmio_register(struct fast_mmio_bus *bus, struct doorbell *bell)
{
	if (bus->count == FAST_MMIO_MAX_DOORBELLS || fast_mmio_find(bus, bell->gpa))
		return false;
	bus->doorbells[bus->count++] = bell;
	bus->pages |= BIT(fast_mmio_page_bit(bell->gpa));
	return true;
}
