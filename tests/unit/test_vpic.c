/* Unit tests of the i8259A pair and its ELCR (drivers/vpic.c) against the Intel 8259A and
 * PIIX4 datasheets, through the ports and the interrupt functions of drivers/vdev.h.
 * unit-sources: drivers/vpic.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

#define MASTER_COMMAND 0x20
#define MASTER_DATA 0x21
#define SLAVE_COMMAND 0xa0
#define SLAVE_DATA 0xa1
#define ELCR1 0x4d0
#define ELCR2 0x4d1

#define MASTER_BASE 0x20		/* Linux's classic vector bases */
#define SLAVE_BASE 0x28

#define OCW2_EOI 0x20
#define OCW2_SPECIFIC_EOI 0x60		/* | level */
#define OCW2_ROTATE_EOI 0xa0
#define OCW2_ROTATE_SPECIFIC_EOI 0xe0	/* | level */
#define OCW2_SET_PRIORITY 0xc0		/* | the level to make lowest */
#define OCW2_ROTATE_AUTO_EOI_SET 0x80
#define OCW2_ROTATE_AUTO_EOI_CLEAR 0x00
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW3_POLL 0x0c
#define OCW3_SET_SPECIAL_MASK 0x68
#define OCW3_CLEAR_SPECIAL_MASK 0x48

static struct vpic *pic;

static void out8(u64 port, u8 value)
{
	pio_out(port, 1, value);
}

static u8 in8(u64 port)
{
	return (u8)pio_in(port, 1);
}

static void setup(void)
{
	fake_platform_reset();
	pic = vpic_create(&vm);
	CHECK(pic != NULL);
}

static void teardown(void)
{
	vpic_destroy(pic);
	pic = NULL;
}

/* ICW1 (ICW4 needed, cascade), ICW2, ICW3, ICW4 (8086 mode, optionally auto-EOI). */
static void init_chip(u64 command, u8 vector_base, u8 cascade, bool auto_eoi)
{
	out8(command, 0x11);
	out8(command + 1, vector_base);
	out8(command + 1, cascade);
	out8(command + 1, auto_eoi ? 0x03 : 0x01);
}

/* arch/x86/kernel/i8259.c's init_8259A(), with the classic vector bases. */
static void linux_init(bool auto_eoi)
{
	init_chip(MASTER_COMMAND, MASTER_BASE, 0x04, auto_eoi);	/* slave on IR2 */
	init_chip(SLAVE_COMMAND, SLAVE_BASE, 0x02, auto_eoi);	/* slave ID 2 */
}

static u8 read_irr(u64 command)
{
	out8(command, OCW3_READ_IRR);
	return in8(command);
}

static u8 read_isr(u64 command)
{
	out8(command, OCW3_READ_ISR);
	return in8(command);
}

static void pulse(unsigned irq)
{
	vpic_set_irq(pic, irq, true);
	vpic_set_irq(pic, irq, false);
}

static void eoi_both(void)
{
	out8(SLAVE_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW2_EOI);
}

static void test_linux_init(void)
{
	setup();
	linux_init(false);
	CHECK_EQ(in8(MASTER_DATA), 0);			/* ICW1 cleared the masks */
	CHECK_EQ(in8(SLAVE_DATA), 0);
	CHECK_EQ(in8(MASTER_COMMAND), 0);		/* reads the IRR after ICW1 */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_DATA, 0xfb);			/* all masked but the cascade */
	out8(SLAVE_DATA, 0xff);
	CHECK_EQ(in8(MASTER_DATA), 0xfb);
	CHECK_EQ(in8(SLAVE_DATA), 0xff);
	pulse(0);
	CHECK(!vpic_interrupt_pending(pic));		/* masked, but requested */
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x01);
	out8(MASTER_DATA, 0xfa);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x01);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	out8(SLAVE_DATA, 0xfe);
	pulse(8);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 0);
	eoi_both();
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

/* ICW2 bits 2:0 are not part of the vector base in 8086 mode; the vector's low bits are
 * the level. A 16-bit read of the chip is the command port's byte, then the mask. */
static void test_vector_base_and_wide_access(void)
{
	setup();
	init_chip(MASTER_COMMAND, 0x47, 0x04, false);
	pulse(1);
	CHECK_EQ(vpic_acknowledge(pic), 0x41);
	CHECK_EQ(vpic_acknowledge(pic), 0x47);		/* nothing left: spurious */
	out8(MASTER_DATA, 0x5a);
	pulse(3);
	CHECK_EQ(pio_in(MASTER_COMMAND, 2), 0x5a08);	/* IRR, then IMR */
	teardown();
}

static void test_init_without_icw3_or_icw4(void)
{
	setup();
	out8(MASTER_COMMAND, 0x12);			/* single, no ICW4 */
	out8(MASTER_DATA, 0x30);			/* ICW2, the last one */
	out8(MASTER_DATA, 0x7e);			/* OCW1 */
	CHECK_EQ(in8(MASTER_DATA), 0x7e);
	out8(MASTER_COMMAND, 0x10);			/* cascade, no ICW4 */
	out8(MASTER_DATA, 0x30);
	out8(MASTER_DATA, 0x04);			/* ICW3 */
	CHECK_EQ(in8(MASTER_DATA), 0);
	out8(MASTER_DATA, 0x55);			/* OCW1 */
	CHECK_EQ(in8(MASTER_DATA), 0x55);
	out8(MASTER_COMMAND, 0x13);			/* single, ICW4 */
	out8(MASTER_DATA, 0x30);
	out8(MASTER_DATA, 0x03);			/* ICW4 straight after ICW2 */
	CHECK_EQ(in8(MASTER_DATA), 0);
	out8(MASTER_DATA, 0x11);
	CHECK_EQ(in8(MASTER_DATA), 0x11);
	teardown();
}

static void test_mask(void)
{
	setup();
	linux_init(false);
	out8(MASTER_DATA, 0x08);
	pulse(3);
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x08);	/* the IRR shows masked requests */
	pulse(5);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);	/* 3 masked, 5 goes first */
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_DATA, 0x00);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);	/* the request waited */
	out8(MASTER_COMMAND, OCW2_EOI);
	/* A slave request is masked by the slave's IMR or the master's IR2 mask. */
	out8(SLAVE_DATA, 0x08);
	pulse(11);
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	out8(MASTER_DATA, 0x04);
	out8(SLAVE_DATA, 0x00);
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x04);	/* the slave's INT reaches IR2 */
	out8(MASTER_DATA, 0x00);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 3);
	teardown();
}

static void test_edge_triggered(void)
{
	setup();
	linux_init(false);
	vpic_set_irq(pic, 4, true);			/* held high: one request */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	vpic_set_irq(pic, 4, true);			/* still high: no new edge */
	CHECK(!vpic_interrupt_pending(pic));
	vpic_set_irq(pic, 4, false);
	vpic_set_irq(pic, 4, true);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	out8(MASTER_COMMAND, OCW2_EOI);
	vpic_set_irq(pic, 4, false);
	pulse(6);					/* latched though the line fell */
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x40);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);
	pulse(6);
	pulse(6);					/* two pulses, one request */
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

static void test_level_triggered(void)
{
	setup();
	linux_init(false);
	out8(ELCR1, 0x10);				/* IRQ 4 level */
	vpic_set_irq(pic, 4, true);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x10);	/* the line is still high */
	CHECK(!vpic_interrupt_pending(pic));		/* but 4 is in service */
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(vpic_interrupt_pending(pic));		/* requests again */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	vpic_set_irq(pic, 4, false);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(!vpic_interrupt_pending(pic));
	/* The slave's IRQ 9 (ACPI SCI) level-triggered through ELCR2. */
	out8(ELCR2, 0x02);
	vpic_set_irq(pic, 9, true);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 1);
	eoi_both();
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 1);
	vpic_set_irq(pic, 9, false);
	eoi_both();
	CHECK(!vpic_interrupt_pending(pic));
	/* A latched edge is dropped when the input becomes level-triggered with its line low. */
	pulse(5);
	out8(ELCR1, 0x30);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

static void test_priority(void)
{
	setup();
	linux_init(false);
	pulse(5);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	CHECK(!vpic_interrupt_pending(pic));		/* 5 is below 3 in service */
	pulse(3);
	CHECK(!vpic_interrupt_pending(pic));		/* so is 3 itself */
	pulse(1);
	CHECK(vpic_interrupt_pending(pic));		/* 1 nests above 3 */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 1);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x0a);
	out8(MASTER_COMMAND, OCW2_EOI);			/* ends the highest: 1 */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x08);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW2_EOI);			/* nothing in service: no effect */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

static void test_specific_eoi(void)
{
	setup();
	linux_init(false);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	pulse(1);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 1);
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 5);	/* not in service: no effect */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x0a);
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 3);	/* not the highest, but named */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x02);
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 1);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	out8(MASTER_COMMAND, 0x40);			/* OCW2 no-operation */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	teardown();
}

static void test_rotation(void)
{
	setup();
	linux_init(false);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_ROTATE_EOI);		/* 3 lowest: 4 5 6 7 0 1 2 3 */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	pulse(1);
	pulse(3);
	pulse(6);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);
	CHECK(!vpic_interrupt_pending(pic));		/* 1 and 3 rank below 6 now */
	out8(MASTER_COMMAND, OCW2_ROTATE_EOI);		/* 6 lowest: 7 0 1 2 3 4 5 6 */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 1);
	out8(MASTER_COMMAND, OCW2_EOI);			/* no rotation */
	pulse(0);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW2_ROTATE_EOI);		/* nothing in service: no rotation */
	pulse(7);
	pulse(0);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	out8(MASTER_COMMAND, OCW2_EOI);
	teardown();
}

static void test_set_priority_and_rotate_specific(void)
{
	setup();
	linux_init(false);
	out8(MASTER_COMMAND, OCW2_SET_PRIORITY | 5);	/* 6 7 0 1 2 3 4 5 */
	pulse(5);
	pulse(0);
	pulse(6);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x01);
	pulse(6);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);	/* 6 nests above 0 */
	out8(MASTER_COMMAND, OCW2_EOI);			/* the highest is 6, not 0 */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x01);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);
	out8(MASTER_COMMAND, OCW2_ROTATE_SPECIFIC_EOI | 1);	/* 1 lowest: 2 3 ... 0 1 */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x20);	/* 5 still in service */
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 5);
	pulse(7);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW2_SET_PRIORITY | 7);	/* back to 0 highest */
	pulse(7);
	pulse(0);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	teardown();
}

static void test_auto_eoi(void)
{
	setup();
	linux_init(true);
	pulse(5);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);		/* ended at the INTA */
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_COMMAND, OCW2_ROTATE_AUTO_EOI_SET);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);	/* 3 lowest: 4 ... 3 */
	pulse(1);
	pulse(3);
	pulse(4);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);	/* 4 lowest: 5 ... 4 */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 1);	/* 1 lowest: 2 ... 1 */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);	/* 3 lowest: 4 ... 3 */
	out8(MASTER_COMMAND, OCW2_ROTATE_AUTO_EOI_CLEAR);
	pulse(4);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);	/* no rotation now */
	pulse(5);
	pulse(4);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);
	/* ICW1 without ICW4 leaves auto-EOI off. */
	out8(MASTER_COMMAND, 0x10);
	out8(MASTER_DATA, MASTER_BASE);
	out8(MASTER_DATA, 0x04);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x08);
	teardown();
}

static void test_poll(void)
{
	setup();
	linux_init(false);
	out8(MASTER_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(MASTER_COMMAND), 0);		/* no request */
	pulse(5);
	pulse(3);
	out8(MASTER_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(MASTER_COMMAND), 0x83);		/* I, level 3, now in service */
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x08);
	CHECK_EQ(in8(MASTER_COMMAND), 0x08);		/* one read only: ISR again */
	out8(MASTER_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(MASTER_DATA), 0);			/* 5 is below 3 */
	CHECK_EQ(in8(MASTER_COMMAND), 0x08);		/* the poll kept RR/RIS */
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(MASTER_DATA), 0x85);		/* either port */
	CHECK_EQ(in8(MASTER_DATA), 0);			/* the IMR again */
	out8(MASTER_COMMAND, OCW2_EOI);
	/* Polling the pair: the master gives 2, the slave its level. */
	pulse(12);
	out8(MASTER_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(MASTER_COMMAND), 0x82);
	out8(SLAVE_COMMAND, OCW3_POLL);
	CHECK_EQ(in8(SLAVE_COMMAND), 0x84);
	pulse(9);		/* the slave's INT fell at the poll: this is a new edge on IR2 */
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x04);
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0x10);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x04);
	CHECK(!vpic_interrupt_pending(pic));		/* IR2 in service */
	eoi_both();
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 1);
	teardown();
}

static void test_read_register_select(void)
{
	setup();
	linux_init(false);
	out8(MASTER_DATA, 0x80);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	pulse(7);					/* masked: IRR only */
	out8(MASTER_COMMAND, OCW3_READ_ISR);
	CHECK_EQ(in8(MASTER_COMMAND), 0x08);
	CHECK_EQ(in8(MASTER_COMMAND), 0x08);		/* the choice stays */
	CHECK_EQ(in8(MASTER_DATA), 0x80);		/* the data port is the IMR */
	out8(MASTER_COMMAND, 0x08);			/* OCW3 without RR: no change */
	CHECK_EQ(in8(MASTER_COMMAND), 0x08);
	out8(MASTER_COMMAND, 0x09);			/* RIS without RR: no change */
	out8(MASTER_COMMAND, OCW3_READ_IRR);
	CHECK_EQ(in8(MASTER_COMMAND), 0x80);
	CHECK_EQ(in8(MASTER_COMMAND), 0x80);
	teardown();
}

static void test_cascade(void)
{
	setup();
	linux_init(false);
	pulse(10);
	CHECK_EQ(read_irr(SLAVE_COMMAND), 0x04);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x04);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 2);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x04);	/* IR2 in service */
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0x04);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	pulse(11);
	CHECK(!vpic_interrupt_pending(pic));		/* below 10 on the slave */
	pulse(9);
	CHECK(!vpic_interrupt_pending(pic));		/* the master has IR2 in service */
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x04);	/* but the slave's INT rose */
	pulse(3);
	CHECK(!vpic_interrupt_pending(pic));		/* below IR2 on the master */
	pulse(1);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 1);	/* above IR2 */
	out8(MASTER_COMMAND, OCW2_EOI);
	eoi_both();
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 1);	/* 9 before 11 and 3 */
	eoi_both();
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 3);
	eoi_both();
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

/* With auto-EOI nothing stays in service, so a second slave request follows the first. */
static void test_cascade_auto_eoi(void)
{
	setup();
	linux_init(true);
	pulse(9);
	pulse(10);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 1);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 2);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

/* In single mode the master answers IR2 with its own vector; the slave takes no part. */
static void test_single_mode(void)
{
	setup();
	out8(MASTER_COMMAND, 0x13);
	out8(MASTER_DATA, 0x40);
	out8(MASTER_DATA, 0x01);
	init_chip(SLAVE_COMMAND, SLAVE_BASE, 0x02, false);
	pulse(10);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), 0x42);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x04);
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0);
	CHECK_EQ(read_irr(SLAVE_COMMAND), 0x04);
	teardown();
}

static void test_spurious_irq7(void)
{
	setup();
	linux_init(false);
	out8(ELCR1, 0x20);
	vpic_set_irq(pic, 5, true);
	CHECK(vpic_interrupt_pending(pic));
	vpic_set_irq(pic, 5, false);			/* gone before the INTA */
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);		/* how Linux tells it apart */
	pulse(3);
	out8(MASTER_DATA, 0x08);			/* masked after raising INT */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK_EQ(read_irr(MASTER_COMMAND), 0x08);
	out8(MASTER_DATA, 0x00);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	pulse(7);					/* a real IRQ 7 is in service */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 7);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x80);
	teardown();
}

/* The master latched the slave's INT on IR2; the slave's request goes away: the slave
 * answers with its IR7 vector and the master's IR2 stays in service, as Linux expects
 * (it sends the master a specific EOI for IR2 after a spurious IRQ 15). */
static void test_spurious_irq15(void)
{
	setup();
	linux_init(false);
	out8(ELCR2, 0x04);				/* IRQ 10 level */
	vpic_set_irq(pic, 10, true);
	CHECK(vpic_interrupt_pending(pic));
	vpic_set_irq(pic, 10, false);
	CHECK(vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(SLAVE_COMMAND), 0);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 7);
	CHECK_EQ(read_isr(SLAVE_COMMAND), 0);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x04);
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 2);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK(!vpic_interrupt_pending(pic));
	pulse(13);					/* masked on the slave after INT */
	out8(SLAVE_DATA, 0x20);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 7);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x04);
	teardown();
}

static void test_elcr_reserved_bits(void)
{
	setup();
	linux_init(false);
	CHECK_EQ(pio_in(ELCR1, 2), 0);
	out8(ELCR1, 0xff);
	out8(ELCR2, 0xff);
	CHECK_EQ(in8(ELCR1), 0xf8);			/* IRQ 0, 1, 2 always edge */
	CHECK_EQ(in8(ELCR2), 0xde);			/* IRQ 8, 13 always edge */
	pio_out(ELCR1, 2, 0x0000);
	CHECK_EQ(pio_in(ELCR1, 2), 0);
	pio_out(ELCR1, 2, 0xffff);
	CHECK_EQ(pio_in(ELCR1, 2), 0xdef8);
	vpic_set_irq(pic, 0, true);			/* edge despite the write */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 0);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK(!vpic_interrupt_pending(pic));
	vpic_set_irq(pic, 8, true);
	CHECK_EQ(vpic_acknowledge(pic), SLAVE_BASE + 0);
	eoi_both();
	CHECK(!vpic_interrupt_pending(pic));
	vpic_set_irq(pic, 3, true);			/* level: requests after each EOI */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	out8(MASTER_COMMAND, OCW2_EOI);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	teardown();
}

/* IRQ 2 has no ISA device (the master's IR2 is the slave's INT), and lines past 15 are the
 * I/O APIC's alone. */
static void test_lines_outside_the_pic(void)
{
	setup();
	linux_init(false);
	vpic_set_irq(pic, 2, true);
	vpic_set_irq(pic, 16, true);
	vpic_set_irq(pic, VDEV_IOAPIC_PINS - 1, true);
	CHECK(!vpic_interrupt_pending(pic));
	CHECK_EQ(read_irr(MASTER_COMMAND), 0);
	CHECK_EQ(read_irr(SLAVE_COMMAND), 0);
	teardown();
}

static void test_special_mask_mode(void)
{
	setup();
	linux_init(false);
	pulse(3);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 3);
	pulse(5);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_COMMAND, 0x28);			/* SMM without ESMM: ignored */
	out8(MASTER_DATA, 0x08);
	CHECK(!vpic_interrupt_pending(pic));
	out8(MASTER_COMMAND, OCW3_SET_SPECIAL_MASK);
	CHECK(vpic_interrupt_pending(pic));		/* masked 3 blocks no more */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 5);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0x28);
	pulse(6);
	CHECK(!vpic_interrupt_pending(pic));		/* unmasked 5 still blocks */
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 5);
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 6);
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 6);
	out8(MASTER_COMMAND, OCW3_CLEAR_SPECIAL_MASK);
	pulse(6);
	CHECK(!vpic_interrupt_pending(pic));		/* 3 blocks again */
	out8(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 3);
	CHECK(vpic_interrupt_pending(pic));
	teardown();
}

static void test_reinit_clears_state(void)
{
	setup();
	linux_init(false);
	out8(ELCR1, 0x20);
	vpic_set_irq(pic, 5, true);			/* level, held */
	vpic_set_irq(pic, 4, true);			/* edge, held, latched */
	out8(MASTER_COMMAND, OCW2_SET_PRIORITY | 3);	/* 4 highest */
	CHECK_EQ(vpic_acknowledge(pic), MASTER_BASE + 4);
	pulse(6);
	out8(MASTER_DATA, 0x12);
	out8(MASTER_COMMAND, OCW3_SET_SPECIAL_MASK);
	out8(MASTER_COMMAND, OCW3_READ_ISR);
	init_chip(MASTER_COMMAND, 0x30, 0x04, false);
	CHECK_EQ(in8(MASTER_COMMAND), 0x20);		/* IRR: only the level line */
	CHECK_EQ(in8(MASTER_DATA), 0);
	CHECK_EQ(read_isr(MASTER_COMMAND), 0);
	CHECK_EQ(in8(ELCR1), 0x20);			/* the ELCR is the PIIX's */
	CHECK_EQ(vpic_acknowledge(pic), 0x35);		/* the new base */
	pulse(1);
	CHECK(vpic_interrupt_pending(pic));		/* IR0 highest again: 1 above 5 */
	CHECK_EQ(vpic_acknowledge(pic), 0x31);
	out8(MASTER_COMMAND, OCW2_EOI);
	out8(MASTER_COMMAND, OCW2_EOI);
	vpic_set_irq(pic, 5, false);
	CHECK(!vpic_interrupt_pending(pic));		/* 4 is high but had no new edge */
	vpic_set_irq(pic, 4, false);
	vpic_set_irq(pic, 4, true);
	CHECK_EQ(vpic_acknowledge(pic), 0x34);
	/* Special mask mode ended: 4 in service and masked still blocks 6. */
	out8(MASTER_DATA, 0x10);
	pulse(6);
	CHECK(!vpic_interrupt_pending(pic));
	teardown();
}

int main(void)
{
	test_linux_init();
	test_vector_base_and_wide_access();
	test_init_without_icw3_or_icw4();
	test_mask();
	test_edge_triggered();
	test_level_triggered();
	test_priority();
	test_specific_eoi();
	test_rotation();
	test_set_priority_and_rotate_specific();
	test_auto_eoi();
	test_poll();
	test_read_register_select();
	test_cascade();
	test_cascade_auto_eoi();
	test_single_mode();
	test_spurious_irq7();
	test_spurious_irq15();
	test_elcr_reserved_bits();
	test_lines_outside_the_pic();
	test_special_mask_mode();
	test_reinit_clears_state();
	return unit_done("test_vpic");
}
