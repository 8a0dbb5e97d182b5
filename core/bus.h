/* The buses guest accesses are routed on: port I/O and MMIO (range-registered devices with
 * read/write callbacks for 1, 2, 4 and 8 bytes), and the fast MMIO bus of doorbells that
 * is consulted before any instruction decoding. */
#ifndef VIREO_VMEXIT_BUS_H
#define VIREO_VMEXIT_BUS_H

#include "lib/types.h"

#define IO_BUS_MAX_DEVICES 32
#define FAST_MMIO_MAX_DOORBELLS 16

struct io_device;
struct io_device_ops {
	/* offset is from the device's base; size is 1, 2, 4 or 8 */
	u64 (*read)(struct io_device *dev, u64 offset, unsigned size);
	void (*write)(struct io_device *dev, u64 offset, unsigned size, u64 value);
};

struct io_device {
	const char *name;
	u64 base, length;
	const struct io_device_ops *ops;
	void *opaque;		/* the device model's state */
};

/* Devices sorted by base, disjoint. `last` is the device the previous lookup found: guests
 * poll one register in a loop (the UART's LSR, a status port), so it usually hits. */
struct io_bus {
	struct io_device *devices[IO_BUS_MAX_DEVICES];
	size_t count;
	struct io_device *last;
};

/* Returns false if the range overlaps a registered device or the bus is full. */
bool io_bus_register(struct io_bus *bus, struct io_device *dev);
struct io_device *io_bus_find(struct io_bus *bus, u64 address);
/* Unassigned addresses read all-ones and ignore writes; these return whether a device
 * took the access. */
bool io_bus_read(struct io_bus *bus, u64 address, unsigned size, u64 *value);
bool io_bus_write(struct io_bus *bus, u64 address, unsigned size, u64 value);

/* A doorbell: a guest write to gpa signals the device. An any-value doorbell is found on
 * the fast MMIO bus before any decoding, so its signal carries no value (value_known
 * false) unless the write came through the emulator (fast_mmio=off). A value-match
 * doorbell (like ioeventfd's datamatch) needs the value, so it is checked after decoding
 * and signals only for writes of that value; other writes reach the MMIO bus. */
struct doorbell {
	u64 gpa;
	bool match_value;
	u64 value;
	void (*signal)(struct doorbell *bell, u64 value, bool value_known);
	void *opaque;
};

struct fast_mmio_bus {
	struct doorbell *doorbells[FAST_MMIO_MAX_DOORBELLS];
	size_t count;
	u64 pages;	/* bit fast_mmio_page_bit() of each doorbell's page: a clear bit, no doorbell */
};

/* A hash of gpa's page to 0..63 (Fibonacci hashing: neighbouring pages spread). */
static inline unsigned fast_mmio_page_bit(u64 gpa)
{
	return (unsigned)(((gpa >> PAGE_SHIFT) * 0x9e3779b97f4a7c15ull) >> 58);
}

bool fast_mmio_register(struct fast_mmio_bus *bus, struct doorbell *bell);
/* The doorbell registered at gpa, or NULL. Inline: the doorbell exit path calls it. */
static inline struct doorbell *fast_mmio_find(const struct fast_mmio_bus *bus, u64 gpa)
{
	for (size_t i = 0; i < bus->count; i++)
		if (bus->doorbells[i]->gpa == gpa)
			return bus->doorbells[i];
	return NULL;
}

/* Whether a doorbell lives in gpa's page: such a page never gets a cached MMIO spte on EPT
 * and never an MMIO site. */
static inline bool fast_mmio_page_has_doorbell(const struct fast_mmio_bus *bus, u64 gpa)
{
	if (likely(!(bus->pages & BIT(fast_mmio_page_bit(gpa)))))
		return false;
	for (size_t i = 0; i < bus->count; i++)
		if ((bus->doorbells[i]->gpa ^ gpa) >> PAGE_SHIFT == 0)
			return true;
	return false;
}

#endif
