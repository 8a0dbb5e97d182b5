/* PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): the
 * address register at 0xcf8 round trips, and the data window at 0xcfc-0xcff reads
 * all-ones, which tells the guest there is no device on any bus. A byte at 0xcf9 is the
 * chipset's reset control register (drivers/vreset.c). */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

#define PCI_CONFIG_ADDRESS 0
#define PCI_CONFIG_ADDRESS_BYTES 4
#define RESET_CONTROL (VDEV_RESET_CONTROL_PORT - VDEV_PCI_CONFIG_PORT)

struct vpci {
	struct io_device io;
	u32 config_address;
	struct vreset *reset;
};

static bool is_reset_control_access(u64 offset, unsigned size)
{
	return offset == RESET_CONTROL && size == 1;
}

/* Only a 32-bit access reaches the address register; narrower ones at 0xcf8-0xcfb go to
 * other (absent) chipset registers, as on the PC chipsets. */
static bool is_address_access(u64 offset, unsigned size)
{
	return offset == PCI_CONFIG_ADDRESS && size == PCI_CONFIG_ADDRESS_BYTES;
}

static u64 vpci_read(struct io_device *dev, u64 offset, unsigned size)
{
	struct vpci *pci = dev->opaque;

	if (is_address_access(offset, size))
		return pci->config_address;
	if (is_reset_control_access(offset, size))
		return vreset_control_read(pci->reset);
	return low_bytes_mask(size);
}

static void vpci_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vpci *pci = dev->opaque;

	if (is_address_access(offset, size))
		pci->config_address = (u32)value;
	else if (is_reset_control_access(offset, size))
		vreset_control_write(pci->reset, (u8)value);
}

static const struct io_device_ops vpci_ops = { .read = vpci_read, .write = vpci_write };

struct vpci *vpci_create(struct vm *vm)
{
	struct vpci *pci = kmalloc(sizeof(*pci));

	if (!pci)
		return NULL;
	pci->reset = vreset_create(vm);
	if (!pci->reset || !vdev_attach(&vm->pio_bus, &pci->io, "PCI config",
					VDEV_PCI_CONFIG_PORT, VDEV_PCI_CONFIG_PORTS, &vpci_ops,
					pci)) {
		vpci_destroy(pci);
		return NULL;
	}
	return pci;
}

void vpci_destroy(struct vpci *pci)
{
	if (pci)
		vreset_destroy(pci->reset);
	kfree(pci);
}
