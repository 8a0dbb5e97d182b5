/* Unit tests of the I/O APIC model (drivers/vioapic.c) against the Intel 82093AA datasheet
 * and the ICH I/O APIC's EOI register.
 * unit-sources: drivers/vioapic.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

#define IOREGSEL (VDEV_IOAPIC_GPA + 0x00)
#define IOWIN (VDEV_IOAPIC_GPA + 0x10)
#define EOI (VDEV_IOAPIC_GPA + 0x40)

#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARBITRATION 0x02
#define REG_ENTRY_LOW(pin) (0x10 + 2 * (pin))
#define REG_ENTRY_HIGH(pin) (0x11 + 2 * (pin))

/* Redirection entry bits, low half (82093AA, 3.2.4). */
#define MODE(m) ((m) << 8)
#define LOGICAL 0x800u
#define DELIVERY_STATUS 0x1000u
#define ACTIVE_LOW 0x2000u
#define REMOTE_IRR 0x4000u
#define LEVEL 0x8000u
#define MASKED 0x10000u
#define DESTINATION(d) ((u32)(d) << 24)	/* high half */

static struct vioapic *ioapic;

static void setup(void)
{
	fake_platform_reset();
	ioapic = vioapic_create(&vm);
	CHECK(ioapic != NULL);
}

static void teardown(void)
{
	vioapic_destroy(ioapic);
	ioapic = NULL;
}

static u32 read_reg(u8 reg)
{
	mmio_out(IOREGSEL, 4, reg);
	return (u32)mmio_in(IOWIN, 4);
}

static void write_reg(u8 reg, u32 value)
{
	mmio_out(IOREGSEL, 4, reg);
	mmio_out(IOWIN, 4, value);
}

/* High half first, as guests do, so the entry is whole when the low half unmasks it. */
static void program(unsigned pin, u32 low, u8 destination)
{
	write_reg(REG_ENTRY_HIGH(pin), DESTINATION(destination));
	write_reg(REG_ENTRY_LOW(pin), low);
}

static const struct vapic_message *last_message(void)
{
	CHECK(lapic_message_count > 0 && lapic_message_count <= FAKE_MESSAGES_MAX);
	return &lapic_messages[lapic_message_count - 1];
}

static void test_identification(void)
{
	setup();
	CHECK_EQ(read_reg(REG_ID), 0);
	CHECK_EQ(read_reg(REG_VERSION), 0x00170020);	/* version 0x20, entries 0-23 */
	CHECK_EQ(read_reg(REG_ARBITRATION), 0);
	write_reg(REG_ID, 0xffffffff);
	CHECK_EQ(read_reg(REG_ID), 0x0f000000);		/* only bits 27:24 exist */
	CHECK_EQ(read_reg(REG_ARBITRATION), 0x0f000000);
	write_reg(REG_ID, 0x05000000);
	CHECK_EQ(read_reg(REG_ID), 0x05000000);
	write_reg(REG_VERSION, 0);			/* read-only */
	CHECK_EQ(read_reg(REG_VERSION), 0x00170020);
	write_reg(REG_ARBITRATION, 0x0a000000);		/* read-only */
	CHECK_EQ(read_reg(REG_ARBITRATION), 0x05000000);
	teardown();
}

static void test_reset_state(void)
{
	setup();
	unsigned masked = 0, high_zero = 0;

	CHECK_EQ(mmio_in(IOREGSEL, 4), 0);
	for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++) {
		masked += read_reg(REG_ENTRY_LOW(pin)) == MASKED;
		high_zero += read_reg(REG_ENTRY_HIGH(pin)) == 0;
	}
	CHECK_EQ(masked, VDEV_IOAPIC_PINS);
	CHECK_EQ(high_zero, VDEV_IOAPIC_PINS);
	for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++)
		vioapic_set_irq(ioapic, pin, true);
	CHECK_EQ(lapic_message_count, 0);		/* all masked */
	/* A second I/O APIC cannot take the same range. */
	CHECK(vioapic_create(&vm) == NULL);
	vioapic_destroy(NULL);
	teardown();
}

static void test_entry_registers(void)
{
	setup();
	write_reg(REG_ENTRY_LOW(5), 0xffffffff);
	/* Delivery status (12), Remote IRR (14) and reserved 31:17 read 0. */
	CHECK_EQ(read_reg(REG_ENTRY_LOW(5)), 0x0001afff);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(5)), 0);
	write_reg(REG_ENTRY_HIGH(5), 0xffffffff);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(5)), 0xff000000);	/* reserved 55:32 read 0 */
	CHECK_EQ(read_reg(REG_ENTRY_LOW(5)), 0x0001afff);	/* the other half kept */
	write_reg(REG_ENTRY_LOW(5), 0x00010000);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(5)), 0x00010000);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(5)), 0xff000000);
	/* Neighbours untouched. */
	CHECK_EQ(read_reg(REG_ENTRY_LOW(4)), MASKED);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(6)), 0);
	/* The last entry is reachable. */
	write_reg(REG_ENTRY_HIGH(23), DESTINATION(0x42));
	write_reg(REG_ENTRY_LOW(23), 0x27);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(23)), DESTINATION(0x42));
	CHECK_EQ(read_reg(REG_ENTRY_LOW(23)), 0x27);
	/* IOREGSEL keeps 8 bits. */
	mmio_out(IOREGSEL, 4, 0x1ab);
	CHECK_EQ(mmio_in(IOREGSEL, 4), 0xab);
	teardown();
}

static void test_edge_once_per_edge(void)
{
	setup();
	program(4, 0x31, 1);
	vioapic_set_irq(ioapic, 4, true);
	CHECK_EQ(lapic_message_count, 1);
	CHECK_EQ(last_message()->vector, 0x31);
	CHECK(!last_message()->level_triggered);
	vioapic_set_irq(ioapic, 4, true);		/* still high: no new edge */
	CHECK_EQ(lapic_message_count, 1);
	vioapic_set_irq(ioapic, 4, false);
	CHECK_EQ(lapic_message_count, 1);
	vioapic_set_irq(ioapic, 4, true);
	CHECK_EQ(lapic_message_count, 2);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(4)), 0x31);	/* no Remote IRR, status idle */
	vioapic_eoi(ioapic, 0x31);			/* an EOI does not re-deliver an edge */
	CHECK_EQ(lapic_message_count, 2);
	teardown();
}

static void test_masked_edge_lost(void)
{
	setup();
	program(3, MASKED | 0x33, 0);
	vioapic_set_irq(ioapic, 3, true);
	CHECK_EQ(lapic_message_count, 0);
	write_reg(REG_ENTRY_LOW(3), 0x33);		/* unmasked: the edge is gone */
	CHECK_EQ(lapic_message_count, 0);
	vioapic_set_irq(ioapic, 3, false);
	vioapic_set_irq(ioapic, 3, true);
	CHECK_EQ(lapic_message_count, 1);
	teardown();
}

static void test_level_remote_irr(void)
{
	setup();
	program(9, LEVEL | 0x41, 0);
	vioapic_set_irq(ioapic, 9, true);
	CHECK_EQ(lapic_message_count, 1);
	CHECK(last_message()->level_triggered);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(9)), REMOTE_IRR | LEVEL | 0x41);
	vioapic_set_irq(ioapic, 9, true);		/* Remote IRR holds it */
	CHECK_EQ(lapic_message_count, 1);
	write_reg(REG_ENTRY_LOW(9), LEVEL | 0x41);	/* rewriting keeps Remote IRR */
	CHECK_EQ(read_reg(REG_ENTRY_LOW(9)), REMOTE_IRR | LEVEL | 0x41);
	CHECK_EQ(lapic_message_count, 1);
	vioapic_eoi(ioapic, 0x42);			/* another vector */
	CHECK(read_reg(REG_ENTRY_LOW(9)) & REMOTE_IRR);
	vioapic_set_irq(ioapic, 9, false);
	vioapic_eoi(ioapic, 0x41);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(9)), LEVEL | 0x41);
	CHECK_EQ(lapic_message_count, 1);		/* the input went away */
	vioapic_set_irq(ioapic, 9, true);
	CHECK_EQ(lapic_message_count, 2);
	teardown();
}

static void test_eoi_register(void)
{
	setup();
	program(10, LEVEL | 0x51, 0);
	vioapic_set_irq(ioapic, 10, true);
	vioapic_set_irq(ioapic, 10, false);
	mmio_out(EOI, 4, 0x52);
	CHECK(read_reg(REG_ENTRY_LOW(10)) & REMOTE_IRR);
	mmio_out(EOI, 4, 0x51);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(10)), LEVEL | 0x51);
	CHECK_EQ(mmio_in(EOI, 4), 0);			/* write-only */
	CHECK_EQ(eoi_count, 0);				/* not forwarded to the local APIC */
	teardown();
}

static void test_redelivery_after_eoi(void)
{
	setup();
	program(11, LEVEL | 0x61, 0);
	vioapic_set_irq(ioapic, 11, true);
	CHECK_EQ(lapic_message_count, 1);
	vioapic_eoi(ioapic, 0x61);			/* still active: again */
	CHECK_EQ(lapic_message_count, 2);
	CHECK(read_reg(REG_ENTRY_LOW(11)) & REMOTE_IRR);
	mmio_out(EOI, 4, 0x61);
	CHECK_EQ(lapic_message_count, 3);
	CHECK_EQ(last_message()->vector, 0x61);
	teardown();
}

static void test_eoi_clears_every_matching_entry(void)
{
	setup();
	program(12, LEVEL | 0x70, 0);
	program(13, LEVEL | 0x70, 0);
	program(14, LEVEL | 0x71, 0);
	vioapic_set_irq(ioapic, 12, true);
	vioapic_set_irq(ioapic, 13, true);
	vioapic_set_irq(ioapic, 14, true);
	CHECK_EQ(lapic_message_count, 3);
	vioapic_set_irq(ioapic, 12, false);
	vioapic_set_irq(ioapic, 13, false);
	vioapic_eoi(ioapic, 0x70);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(12)), LEVEL | 0x70);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(13)), LEVEL | 0x70);
	CHECK(read_reg(REG_ENTRY_LOW(14)) & REMOTE_IRR);
	CHECK_EQ(lapic_message_count, 3);
	teardown();
}

static void test_active_low(void)
{
	setup();
	/* Edge, active low: the line's fall is the edge; programming it makes none. */
	program(5, ACTIVE_LOW | 0x35, 0);
	CHECK_EQ(lapic_message_count, 0);
	vioapic_set_irq(ioapic, 5, true);		/* inactive */
	CHECK_EQ(lapic_message_count, 0);
	vioapic_set_irq(ioapic, 5, false);
	CHECK_EQ(lapic_message_count, 1);
	CHECK_EQ(last_message()->vector, 0x35);
	/* Level, active low: delivered while the line is low. */
	vioapic_set_irq(ioapic, 6, true);
	program(6, LEVEL | ACTIVE_LOW | 0x36, 0);
	CHECK_EQ(lapic_message_count, 1);
	vioapic_set_irq(ioapic, 6, false);
	CHECK_EQ(lapic_message_count, 2);
	CHECK(last_message()->level_triggered);
	vioapic_set_irq(ioapic, 6, true);
	vioapic_eoi(ioapic, 0x36);			/* high is inactive: no re-delivery */
	CHECK_EQ(lapic_message_count, 2);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(6)), LEVEL | ACTIVE_LOW | 0x36);
	teardown();
}

static void test_unmask_and_trigger_change(void)
{
	setup();
	program(7, MASKED | LEVEL | 0x47, 0);
	vioapic_set_irq(ioapic, 7, true);
	CHECK_EQ(lapic_message_count, 0);
	write_reg(REG_ENTRY_LOW(7), LEVEL | 0x47);	/* unmasked with the input active */
	CHECK_EQ(lapic_message_count, 1);
	CHECK(read_reg(REG_ENTRY_LOW(7)) & REMOTE_IRR);
	write_reg(REG_ENTRY_LOW(7), MASKED | LEVEL | 0x47);
	write_reg(REG_ENTRY_LOW(7), LEVEL | 0x47);	/* Remote IRR still set */
	CHECK_EQ(lapic_message_count, 1);
	write_reg(REG_ENTRY_LOW(7), MASKED | 0x47);	/* to edge: Remote IRR cleared */
	CHECK_EQ(read_reg(REG_ENTRY_LOW(7)), MASKED | 0x47);
	CHECK_EQ(lapic_message_count, 1);
	write_reg(REG_ENTRY_LOW(7), LEVEL | 0x47);	/* back to level, still active */
	CHECK_EQ(lapic_message_count, 2);
	teardown();
}

static void test_message_fields(void)
{
	setup();
	program(1, MODE(VAPIC_DELIVERY_FIXED) | 0x80, 0x03);
	vioapic_set_irq(ioapic, 1, true);
	CHECK_EQ(last_message()->vector, 0x80);
	CHECK_EQ(last_message()->delivery_mode, VAPIC_DELIVERY_FIXED);
	CHECK(!last_message()->logical);
	CHECK_EQ(last_message()->destination, 0x03);
	program(2, MODE(VAPIC_DELIVERY_LOWEST) | LOGICAL | LEVEL | 0x81, 0x0c);
	vioapic_set_irq(ioapic, 2, true);
	CHECK_EQ(lapic_message_count, 2);
	CHECK_EQ(last_message()->vector, 0x81);
	CHECK_EQ(last_message()->delivery_mode, VAPIC_DELIVERY_LOWEST);
	CHECK(last_message()->logical);
	CHECK(last_message()->level_triggered);
	CHECK_EQ(last_message()->destination, 0x0c);
	program(8, MODE(VAPIC_DELIVERY_EXTINT) | 0x20, 0xff);
	vioapic_set_irq(ioapic, 8, true);
	CHECK_EQ(lapic_message_count, 3);
	CHECK_EQ(last_message()->delivery_mode, VAPIC_DELIVERY_EXTINT);
	CHECK_EQ(last_message()->destination, 0xff);
	program(15, MODE(VAPIC_DELIVERY_INIT) | LOGICAL, 0x01);
	vioapic_set_irq(ioapic, 15, true);
	CHECK_EQ(lapic_message_count, 4);
	CHECK_EQ(last_message()->delivery_mode, VAPIC_DELIVERY_INIT);
	CHECK(last_message()->logical);
	teardown();
}

/* NMI (and INIT, ExtINT) are edge-triggered even when programmed level (82093AA 3.2.4). */
static void test_nmi_is_edge(void)
{
	setup();
	program(16, MODE(VAPIC_DELIVERY_NMI) | LEVEL, 0x00);
	vioapic_set_irq(ioapic, 16, true);
	CHECK_EQ(lapic_message_count, 1);
	CHECK_EQ(last_message()->delivery_mode, VAPIC_DELIVERY_NMI);
	CHECK(!last_message()->level_triggered);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(16)), MODE(VAPIC_DELIVERY_NMI) | LEVEL);
	vioapic_set_irq(ioapic, 16, true);
	CHECK_EQ(lapic_message_count, 1);
	vioapic_set_irq(ioapic, 16, false);
	vioapic_set_irq(ioapic, 16, true);
	CHECK_EQ(lapic_message_count, 2);
	teardown();
}

static void test_undeliverable_modes(void)
{
	static const unsigned modes[] = { VAPIC_DELIVERY_SMI, 3, 6 };

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
		program(17 + i, MODE(modes[i]) | 0x90, 0);
		vioapic_set_irq(ioapic, 17 + i, true);
	}
	program(20, MODE(3) | LEVEL | 0x91, 0);
	vioapic_set_irq(ioapic, 20, true);
	CHECK_EQ(lapic_message_count, 0);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(20)), MODE(3) | LEVEL | 0x91);	/* no Remote IRR */
	/* A GSI past the pins is ignored. */
	vioapic_set_irq(ioapic, VDEV_IOAPIC_PINS, true);
	CHECK_EQ(lapic_message_count, 0);
	teardown();
}

static void test_ioregsel_out_of_range(void)
{
	static const u8 missing[] = { 0x03, 0x0f, 0x40, 0x41, 0xff };

	setup();
	write_reg(REG_ENTRY_LOW(23), 0x57);
	write_reg(REG_ENTRY_HIGH(23), DESTINATION(0x11));
	write_reg(REG_ID, 0x02000000);
	for (unsigned i = 0; i < ARRAY_SIZE(missing); i++) {
		write_reg(missing[i], 0xffffffff);
		CHECK_EQ(read_reg(missing[i]), 0);
		CHECK_EQ(mmio_in(IOREGSEL, 4), missing[i]);
	}
	CHECK_EQ(read_reg(REG_ENTRY_LOW(23)), 0x57);
	CHECK_EQ(read_reg(REG_ENTRY_HIGH(23)), DESTINATION(0x11));
	CHECK_EQ(read_reg(REG_ID), 0x02000000);
	CHECK_EQ(read_reg(REG_VERSION), 0x00170020);
	teardown();
}

static void test_odd_accesses(void)
{
	setup();
	write_reg(REG_ENTRY_HIGH(0), DESTINATION(0xab));
	write_reg(REG_ENTRY_LOW(0), MASKED | 0xa34);
	mmio_out(IOREGSEL, 1, REG_ENTRY_LOW(0));	/* a byte selects */
	CHECK_EQ(mmio_in(IOREGSEL, 1), REG_ENTRY_LOW(0));
	CHECK_EQ(mmio_in(IOWIN, 1), 0x34);
	CHECK_EQ(mmio_in(IOWIN + 1, 2), 0x010a);	/* bytes 1-2 of the window */
	CHECK_EQ(mmio_in(IOWIN + 2, 4), 0x0001);	/* past the register's 4 bytes: 0 */
	CHECK_EQ(mmio_in(IOWIN, 8), 0x00010a34);
	CHECK_EQ(mmio_in(IOWIN + 4, 4), 0);
	/* Narrow, wide and unaligned writes to the window are dropped. */
	mmio_out(IOWIN, 1, 0x00);
	mmio_out(IOWIN, 2, 0x0000);
	mmio_out(IOWIN, 8, 0);
	mmio_out(IOWIN + 1, 4, 0);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(0)), MASKED | 0xa34);
	/* Reserved offsets read 0 and ignore writes. */
	mmio_out(VDEV_IOAPIC_GPA + 0x20, 4, 0xffffffff);
	CHECK_EQ(mmio_in(VDEV_IOAPIC_GPA + 0x20, 4), 0);
	CHECK_EQ(mmio_in(VDEV_IOAPIC_GPA + 0x800, 4), 0);
	CHECK_EQ(mmio_in(IOREGSEL + 4, 4), 0);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(0)), MASKED | 0xa34);
	/* A byte write to the EOI register is an EOI. */
	program(21, LEVEL | 0xa1, 0);
	vioapic_set_irq(ioapic, 21, true);
	vioapic_set_irq(ioapic, 21, false);
	mmio_out(EOI, 1, 0xa1);
	CHECK_EQ(read_reg(REG_ENTRY_LOW(21)), LEVEL | 0xa1);
	teardown();
}

int main(void)
{
	test_identification();
	test_reset_state();
	test_entry_registers();
	test_edge_once_per_edge();
	test_masked_edge_lost();
	test_level_remote_irr();
	test_eoi_register();
	test_redelivery_after_eoi();
	test_eoi_clears_every_matching_entry();
	test_active_low();
	test_unmask_and_trigger_change();
	test_message_fields();
	test_nmi_is_edge();
	test_undeliverable_modes();
	test_ioregsel_out_of_range();
	test_odd_accesses();
	return unit_done("test_vioapic");
}
