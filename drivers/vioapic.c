/* The guest's I/O APIC at 0xfec00000: 24 interrupt inputs (GSIs) routed to the local APIC
 * by a redirection table. Registers and semantics: Intel 82093AA I/O APIC datasheet
 * (sections 3.0-3.2), plus the EOI register at 0x40 of the version 0x20 I/O APICs in
 * Intel's ICH chipsets (ICH datasheets, "I/O APIC Registers"), which QEMU and KVM model
 * too. Delivery is immediate: a message goes to the local APIC as soon as an entry fires,
 * so the Delivery Status bit (12) always reads 0 ("idle"). */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/slab.h"

/* Direct registers, offsets in the page. Each is 32 bits; the datasheet only defines
 * aligned 32-bit accesses (what other accesses do: see ioapic_mmio_read/write). */
#define IOAPIC_IOREGSEL 0x00		/* bits 7:0 select the indirect register */
#define IOAPIC_IOWIN 0x10		/* the selected indirect register */
#define IOAPIC_EOI 0x40			/* write-only: a vector in bits 7:0 (ICH) */
#define IOAPIC_DIRECT_STRIDE 0x10
#define IOAPIC_REGISTER_BYTES 4

/* Indirect registers (82093AA, 3.2). */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARBITRATION 0x02
#define IOAPIC_REG_REDIRECTION 0x10	/* entry n: bits 31:0 at 0x10 + 2n, 63:32 at 0x11 + 2n */
#define IOAPIC_REG_REDIRECTION_END (IOAPIC_REG_REDIRECTION + 2 * VDEV_IOAPIC_PINS)

#define IOAPIC_ID_MASK 0x0f000000u	/* ID and arbitration ID: bits 27:24 */
#define IOAPIC_VERSION_NUMBER 0x20
#define IOAPIC_VERSION_MAX_ENTRY_SHIFT 16
#define IOAPIC_VERSION_VALUE \
	(IOAPIC_VERSION_NUMBER | (VDEV_IOAPIC_PINS - 1) << IOAPIC_VERSION_MAX_ENTRY_SHIFT)

/*
 * A redirection table entry (82093AA, 3.2.4):
 *   63:56 destination   55:17 reserved (read 0)   16 mask   15 trigger mode (1 level)
 *   14 Remote IRR (ro)  13 polarity (1 active low)  12 delivery status (ro, always 0)
 *   11 destination mode (1 logical)   10:8 delivery mode   7:0 vector
 * The 82093AA decodes a 4-bit physical destination (59:56); like the ICH's I/O APICs and
 * xAPIC, this one passes all 8 bits on.
 * Invariant: reserved bits and Delivery Status are 0, and Remote IRR is only ever set on
 * an entry that entry_is_level().
 */
#define REDIR_VECTOR_MASK 0xffull
#define REDIR_DELIVERY_MODE_SHIFT 8
#define REDIR_DELIVERY_MODE_MASK 0x7
#define REDIR_LOGICAL BIT(11)
#define REDIR_DELIVERY_STATUS BIT(12)
#define REDIR_ACTIVE_LOW BIT(13)
#define REDIR_REMOTE_IRR BIT(14)
#define REDIR_LEVEL BIT(15)
#define REDIR_MASKED BIT(16)
#define REDIR_DESTINATION_SHIFT 56
#define REDIR_DESTINATION_MASK BITS(63, 56)
#define REDIR_LOW_WRITABLE (BITS(16, 0) & ~(REDIR_DELIVERY_STATUS | REDIR_REMOTE_IRR))
#define REDIR_HIGH_WRITABLE REDIR_DESTINATION_MASK
#define REDIR_RESET REDIR_MASKED

static_assert(VDEV_IOAPIC_PINS <= 32, "line levels are kept in a u32");
static_assert(IOAPIC_REG_REDIRECTION_END <= 0x100, "IOREGSEL has 8 bits");

struct vioapic {
	struct io_device io;
	struct vm *vm;
	u8 select;			/* IOREGSEL */
	u32 id;				/* ID register: bits 27:24 only */
	u32 line_high;			/* bit n: GSI n as vioapic_set_irq() set it */
	u64 redirection[VDEV_IOAPIC_PINS];
};

static unsigned delivery_mode(u64 entry)
{
	return (entry >> REDIR_DELIVERY_MODE_SHIFT) & REDIR_DELIVERY_MODE_MASK;
}

/* NMI, INIT and ExtINT are edge-triggered whatever the trigger mode bit says (82093AA,
 * 3.2.4, delivery mode): only Fixed and Lowest Priority entries can be level-triggered. */
static bool entry_is_level(u64 entry)
{
	unsigned mode = delivery_mode(entry);

	return (entry & REDIR_LEVEL) &&
	       (mode == VAPIC_DELIVERY_FIXED || mode == VAPIC_DELIVERY_LOWEST);
}

/* The pin's input as the entry sees it: the line level, inverted for an active-low pin. */
static bool input_active(const struct vioapic *ioapic, unsigned pin)
{
	bool high = ioapic->line_high & BIT(pin);

	return high != !!(ioapic->redirection[pin] & REDIR_ACTIVE_LOW);
}

/* SMI (and the reserved modes 3 and 6) have no local APIC vector to land on: Vireo has no
 * SMM, so such an entry never delivers. */
static bool mode_is_deliverable(unsigned mode)
{
	return mode == VAPIC_DELIVERY_FIXED || mode == VAPIC_DELIVERY_LOWEST ||
	       mode == VAPIC_DELIVERY_NMI || mode == VAPIC_DELIVERY_INIT ||
	       mode == VAPIC_DELIVERY_EXTINT;
}

/* Sends pin's interrupt message; false if its delivery mode is one Vireo drops. */
static bool deliver(struct vioapic *ioapic, unsigned pin)
{
	u64 entry = ioapic->redirection[pin];
	unsigned mode = delivery_mode(entry);

	if (!mode_is_deliverable(mode)) {
		pr_debug("vioapic: vm %s: GSI %u not delivered: delivery mode %u\n",
			 ioapic->vm->name, pin, mode);
		return false;
	}
	struct vapic_message message = {
		.vector = (u8)(entry & REDIR_VECTOR_MASK),
		.delivery_mode = (u8)mode,
		.logical = entry & REDIR_LOGICAL,
		.level_triggered = entry_is_level(entry),
		.destination = (u32)(entry >> REDIR_DESTINATION_SHIFT),
	};
	vdev_deliver_to_lapic(ioapic->vm, &message);
	return true;
}

/* A level entry delivers whenever it is unmasked, its input is active and Remote IRR is
 * clear; Remote IRR then holds it until the EOI. Called after anything that changes one of
 * these: the line, the entry, an EOI. */
static void service_level(struct vioapic *ioapic, unsigned pin)
{
	u64 *entry = &ioapic->redirection[pin];

	if (!entry_is_level(*entry) || (*entry & (REDIR_MASKED | REDIR_REMOTE_IRR)) ||
	    !input_active(ioapic, pin))
		return;
	if (deliver(ioapic, pin))
		*entry |= REDIR_REMOTE_IRR;
}

/* Edges come from the line only: a write to the entry (its polarity, say) never makes
 * one, and an edge while the entry is masked is lost (82093AA, 3.2.4, mask bit). */
void vioapic_set_irq(struct vioapic *ioapic, unsigned gsi, bool high)
{
	if (gsi >= VDEV_IOAPIC_PINS) {
		pr_warn("vioapic: vm %s: no GSI %u\n", ioapic->vm->name, gsi);
		return;
	}
	bool was_active = input_active(ioapic, gsi);
	u64 entry = ioapic->redirection[gsi];

	if (high)
		ioapic->line_high |= (u32)BIT(gsi);
	else
		ioapic->line_high &= ~(u32)BIT(gsi);
	if (entry_is_level(entry))
		service_level(ioapic, gsi);
	else if (!was_active && input_active(ioapic, gsi) && !(entry & REDIR_MASKED))
		deliver(ioapic, gsi);
}

/* Both the local APIC's EOI broadcast and the EOI register end here. */
void vioapic_eoi(struct vioapic *ioapic, u8 vector)
{
	for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++) {
		u64 *entry = &ioapic->redirection[pin];

		if (!(*entry & REDIR_REMOTE_IRR) || (*entry & REDIR_VECTOR_MASK) != vector)
			continue;
		*entry &= ~REDIR_REMOTE_IRR;
		service_level(ioapic, pin);
	}
}

/* An entry that stops being level-triggered has no Remote IRR to wait for. */
static void write_entry_low(struct vioapic *ioapic, unsigned pin, u32 value)
{
	u64 *entry = &ioapic->redirection[pin];
	u64 updated = (*entry & ~REDIR_LOW_WRITABLE) | (value & REDIR_LOW_WRITABLE);

	if (!entry_is_level(updated))
		updated &= ~REDIR_REMOTE_IRR;
	*entry = updated;
	service_level(ioapic, pin);
}

static void write_entry_high(struct vioapic *ioapic, unsigned pin, u32 value)
{
	u64 *entry = &ioapic->redirection[pin];

	*entry = (*entry & ~REDIR_HIGH_WRITABLE) | (((u64)value << 32) & REDIR_HIGH_WRITABLE);
}

static bool selects_redirection(u8 select)
{
	return select >= IOAPIC_REG_REDIRECTION && select < IOAPIC_REG_REDIRECTION_END;
}

static unsigned selected_pin(u8 select)
{
	return (select - IOAPIC_REG_REDIRECTION) / 2;
}

static bool selects_high_half(u8 select)
{
	return (select - IOAPIC_REG_REDIRECTION) % 2;
}

/* Indirect registers that do not exist (0x03-0x0f, past the table) read 0. */
static u32 indirect_read(const struct vioapic *ioapic)
{
	u8 select = ioapic->select;

	switch (select) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARBITRATION:	/* the arbitration ID follows the ID */
		return ioapic->id;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION_VALUE;
	default:
		if (!selects_redirection(select))
			return 0;
		return (u32)(ioapic->redirection[selected_pin(select)] >>
			     (selects_high_half(select) ? 32 : 0));
	}
}

/* Version and arbitration are read-only; writes to registers that do not exist are
 * dropped. */
static void indirect_write(struct vioapic *ioapic, u32 value)
{
	u8 select = ioapic->select;

	if (select == IOAPIC_REG_ID)
		ioapic->id = value & IOAPIC_ID_MASK;
	else if (selects_redirection(select) && selects_high_half(select))
		write_entry_high(ioapic, selected_pin(select), value);
	else if (selects_redirection(select))
		write_entry_low(ioapic, selected_pin(select), value);
}

static u32 direct_read(const struct vioapic *ioapic, u64 offset)
{
	switch (offset) {
	case IOAPIC_IOREGSEL:
		return ioapic->select;
	case IOAPIC_IOWIN:
		return indirect_read(ioapic);
	default:
		return 0;	/* the EOI register is write-only; the rest is reserved */
	}
}

/* A read of any size returns the bytes of the register it starts in, from that byte on
 * (0 past its 4 bytes); reads have no side effects, so nothing is lost by allowing it. */
static u64 ioapic_mmio_read(struct io_device *dev, u64 offset, unsigned size)
{
	unsigned byte = offset % IOAPIC_DIRECT_STRIDE;

	if (byte >= IOAPIC_REGISTER_BYTES)
		return 0;
	u64 value = direct_read(dev->opaque, offset - byte);
	return (value >> (8 * byte)) & low_bytes_mask(size);
}

/* IOREGSEL and EOI only use their low byte, so a write of any size at their offset works.
 * IOWIN takes only 32-bit writes at 0x10: a narrower one would have to merge bytes into
 * a register the datasheet only defines whole. Other writes are dropped. */
static void ioapic_mmio_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vioapic *ioapic = dev->opaque;

	if (offset == IOAPIC_IOREGSEL)
		ioapic->select = (u8)value;
	else if (offset == IOAPIC_EOI)
		vioapic_eoi(ioapic, (u8)value);
	else if (offset == IOAPIC_IOWIN && size == IOAPIC_REGISTER_BYTES)
		indirect_write(ioapic, (u32)value);
	else
		pr_debug("vioapic: vm %s: %u-byte write at %#llx dropped\n", ioapic->vm->name,
			 size, (unsigned long long)offset);
}

static const struct io_device_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

/* Every entry comes out of reset masked (82093AA, 3.2.4); the rest, which the datasheet
 * leaves undefined, is 0. */
static void reset(struct vioapic *ioapic)
{
	ioapic->select = 0;
	ioapic->id = 0;
	ioapic->line_high = 0;
	for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++)
		ioapic->redirection[pin] = REDIR_RESET;
}

struct vioapic *vioapic_create(struct vm *vm)
{
	struct vioapic *ioapic = kmalloc(sizeof(*ioapic));

	if (!ioapic)
		return NULL;
	ioapic->vm = vm;
	reset(ioapic);
	if (!vdev_attach(&vm->mmio_bus, &ioapic->io, "I/O APIC", VDEV_IOAPIC_GPA,
			 VDEV_IOAPIC_BYTES, &ioapic_mmio_ops, ioapic)) {
		kfree(ioapic);
		return NULL;
	}
	return ioapic;
}

void vioapic_destroy(struct vioapic *ioapic)
{
	kfree(ioapic);
}
