/* Unit tests of the 8254 PIT and port B model (drivers/vpit.c) against the Intel 82C54
 * datasheet, on the fake platform: the clock is set by hand (tsc_hz is 1 GHz, so a TSC
 * tick is a nanosecond) and IRQ 0's edges are recorded. Times are given in PIT clock
 * pulses: a count written during pulse p is loaded into the counter at pulse p + 1.
 * unit-sources: drivers/vpit.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

#define PIT_HZ 1193182ull
#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define PIT_CONTROL 0x43
#define PORT_B 0x61
#define SELECT(ch) ((ch) << 6)
#define RW_LSB 0x10
#define RW_MSB 0x20
#define RW_LSB_MSB 0x30
#define MODE(m) ((m) << 1)
#define BCD 0x01
#define READ_BACK 0xc0
#define READ_BACK_NO_COUNT 0x20
#define READ_BACK_NO_STATUS 0x10
#define READ_BACK_CHANNEL(ch) (0x02 << (ch))
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40
#define PORT_B_GATE2 0x01
#define PORT_B_OUT2 0x20
#define PORT_B_REFRESH 0x10

static struct vpit *pit;

/* The first nanosecond of pulse p: the moment p * 10^9 / PIT_HZ, rounded up. */
static u64 pulse_time(u64 pulse)
{
	return (pulse * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static u64 pulse_of(u64 ns)
{
	return ns * PIT_HZ / 1000000000ull;
}

/* Moves to the middle of pulse p (a pulse lasts 838 ns), running the timers. */
static void at_pulse(u64 pulse)
{
	fake_advance_to(pulse_time(pulse) + 400);
}

static void setup(void)
{
	fake_platform_reset();
	pit = vpit_create(&vm);
	CHECK(pit != NULL);
}

static void teardown(void)
{
	vpit_destroy(pit);
	pit = NULL;
}

static u16 port_of(unsigned ch)
{
	return (u16)(CH0 + ch);
}

/* A control word for ch, LSB-then-MSB access, binary. */
static void program(unsigned ch, unsigned mode)
{
	pio_out(PIT_CONTROL, 1, SELECT(ch) | RW_LSB_MSB | MODE(mode));
}

static void write_count(unsigned ch, u16 count)
{
	pio_out(port_of(ch), 1, count & 0xff);
	pio_out(port_of(ch), 1, count >> 8);
}

static u16 read_count(unsigned ch)
{
	u16 lsb = (u16)pio_in(port_of(ch), 1);

	return (u16)(lsb | pio_in(port_of(ch), 1) << 8);
}

/* The counter latch command, then the latched count. */
static u16 latched_count(unsigned ch)
{
	pio_out(PIT_CONTROL, 1, SELECT(ch));
	return read_count(ch);
}

static u8 status(unsigned ch)
{
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_COUNT | READ_BACK_CHANNEL(ch));
	return (u8)pio_in(port_of(ch), 1);
}

static bool out(unsigned ch)
{
	return status(ch) & STATUS_OUT;
}

static void set_gate2(bool high)
{
	pio_out(PORT_B, 1, high ? PORT_B_GATE2 : 0);
}

static u64 irq0_deadline(void)
{
	return vm.timers.timer[0]->deadline;
}

/* Mode 0: OUT low from the control word until N + 1 pulses after the count is written,
 * then high until reprogrammed, while CE wraps past 0; one IRQ 0 edge at terminal count. */
static void test_mode0_interrupt_on_terminal_count(void)
{
	setup();
	at_pulse(10);
	program(0, 0);
	CHECK_EQ(status(0), STATUS_NULL_COUNT | RW_LSB_MSB);	/* OUT low, no count yet */
	write_count(0, 100);
	CHECK(status(0) & STATUS_NULL_COUNT);	/* CE takes the count at the next pulse */
	CHECK_EQ(irq_level[0], false);
	CHECK_EQ(irq0_deadline(), pulse_time(111));
	at_pulse(11);
	CHECK_EQ(status(0), RW_LSB_MSB);
	CHECK_EQ(read_count(0), 100);
	at_pulse(61);
	CHECK_EQ(read_count(0), 50);
	at_pulse(110);
	CHECK_EQ(read_count(0), 1);
	CHECK(!out(0));
	CHECK_EQ(irq_rising_edges[0], 0);
	at_pulse(111);
	CHECK(out(0));
	CHECK_EQ(read_count(0), 0);
	CHECK_EQ(irq_rising_edges[0], 1);
	CHECK(irq_level[0]);
	at_pulse(112);
	CHECK_EQ(read_count(0), 0xffff);	/* counts on past terminal count */
	at_pulse(100000);
	CHECK(out(0));
	CHECK_EQ(irq_rising_edges[0], 1);	/* one edge only */
	CHECK_EQ(irq0_deadline(), VTIMER_IDLE);
	/* A new count sets OUT (and IRQ 0) low again and starts over. */
	write_count(0, 5);
	CHECK(!out(0));
	CHECK(!irq_level[0]);
	at_pulse(100006);
	CHECK_EQ(irq_rising_edges[0], 2);
	teardown();
}

/* Mode 0: writing the first byte of a two-byte count stops counting, and OUT stays low
 * until the second byte starts the new count. */
static void test_mode0_first_byte_stops_counting(void)
{
	setup();
	program(0, 0);
	write_count(0, 100);
	at_pulse(50);
	pio_out(CH0, 1, 0x20);
	at_pulse(300);			/* past the old terminal count */
	CHECK(!out(0));
	CHECK_EQ(latched_count(0), 51);	/* CE holds the count it had at pulse 50 */
	CHECK_EQ(irq_rising_edges[0], 0);
	pio_out(CH0, 1, 0x00);
	at_pulse(332);
	CHECK(!out(0));
	at_pulse(333);
	CHECK(out(0));
	CHECK_EQ(irq_rising_edges[0], 1);
	teardown();
}

/* Mode 1 on channel 2: nothing until the gate rises; OUT low from the next pulse for N
 * pulses; a new rising edge retriggers; the gate's level does not stop the count. */
static void test_mode1_hardware_one_shot(void)
{
	setup();
	program(2, 1);
	write_count(2, 50);
	at_pulse(90);
	CHECK(out(2));
	CHECK(status(2) & STATUS_NULL_COUNT);	/* CR waits for a trigger */
	at_pulse(100);
	set_gate2(true);
	at_pulse(101);
	CHECK(!out(2));
	CHECK(!(status(2) & STATUS_NULL_COUNT));
	at_pulse(120);
	CHECK_EQ(read_count(2), 31);
	set_gate2(false);
	at_pulse(125);
	CHECK_EQ(read_count(2), 26);		/* a low gate does not stop it */
	at_pulse(130);
	set_gate2(true);			/* retrigger: reload at 131 */
	at_pulse(150);
	CHECK(!out(2));
	CHECK_EQ(read_count(2), 31);
	at_pulse(180);
	CHECK(!out(2));
	at_pulse(181);
	CHECK(out(2));
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_OUT2, PORT_B_OUT2);
	teardown();
}

/* Mode 2: CE counts N..1, OUT is low for the one pulse at count 1, and IRQ 0 gets one
 * rising edge per period, the timer armed once per period. */
static void test_mode2_rate_generator(void)
{
	setup();
	program(0, 2);			/* OUT high at once: the reset state had it low */
	CHECK_EQ(irq_rising_edges[0], 1);
	write_count(0, 10);		/* loaded at pulse 1 */
	CHECK_EQ(irq0_deadline(), pulse_time(11));
	at_pulse(1);
	CHECK_EQ(read_count(0), 10);
	at_pulse(5);
	CHECK_EQ(read_count(0), 6);
	CHECK(out(0));
	at_pulse(10);
	CHECK_EQ(read_count(0), 1);
	CHECK(!out(0));
	at_pulse(11);
	CHECK(out(0));
	CHECK_EQ(read_count(0), 10);
	CHECK_EQ(irq_rising_edges[0], 2);
	CHECK_EQ(irq0_deadline(), pulse_time(21));
	for (u64 p = 12; p <= 101; p++)
		at_pulse(p);
	CHECK_EQ(irq_rising_edges[0], 11);	/* edges at 11, 21, ..., 101 */
	CHECK(irq_level[0]);
	teardown();
}

/* The late-timer policy: a timer that runs several periods late delivers one edge, and
 * the next one is the first edge still to come. */
static void test_mode2_late_timer_delivers_one_edge(void)
{
	setup();
	program(0, 2);
	write_count(0, 100);		/* edges at 101, 201, ... */
	unsigned before = irq_rising_edges[0];
	at_pulse(1050);			/* ten edges passed */
	CHECK_EQ(irq_rising_edges[0], before + 1);
	CHECK_EQ(irq0_deadline(), pulse_time(1101));
	at_pulse(1101);
	CHECK_EQ(irq_rising_edges[0], before + 2);
	teardown();
}

/* A count of 0 is 65536 in binary. */
static void test_count_zero_is_65536(void)
{
	setup();
	program(0, 2);
	write_count(0, 0);
	at_pulse(1);
	CHECK_EQ(read_count(0), 0);
	at_pulse(2);
	CHECK_EQ(read_count(0), 0xffff);
	CHECK_EQ(irq0_deadline(), pulse_time(65537));
	at_pulse(65536);
	CHECK(!out(0));
	at_pulse(65537);
	CHECK(out(0));
	CHECK_EQ(irq0_deadline(), pulse_time(65537 + 65536));
	teardown();
}

/* Mode 3: high for (N + 1) / 2 pulses and low for N / 2, CE counting down by two from
 * the even part of N in each half; only the rising edges are timed. */
static void test_mode3_square_wave(void)
{
	static const u16 even_counts[8] = { 8, 6, 4, 2, 8, 6, 4, 2 };
	static const u16 odd_counts[7] = { 6, 4, 2, 0, 6, 4, 2 };

	setup();
	program(2, 3);
	set_gate2(true);
	write_count(2, 8);		/* loaded at pulse 1 */
	for (unsigned i = 0; i < 8; i++) {
		at_pulse(1 + i);
		CHECK_EQ(latched_count(2), even_counts[i]);
		CHECK_EQ(out(2), i < 4);
		CHECK_EQ(!!(pio_in(PORT_B, 1) & PORT_B_OUT2), i < 4);
	}
	program(2, 3);
	write_count(2, 7);		/* during pulse 8: loaded at 9 */
	for (unsigned i = 0; i < 7; i++) {
		at_pulse(9 + i);
		CHECK_EQ(latched_count(2), odd_counts[i]);
		CHECK_EQ(out(2), i < 4);
	}
	teardown();
}

static void test_mode3_times_rising_edges_only(void)
{
	setup();
	program(0, 3);
	write_count(0, 1000);
	CHECK_EQ(irq0_deadline(), pulse_time(1001));
	at_pulse(600);
	CHECK(!out(0));			/* low half: no timer ran for it */
	CHECK_EQ(irq0_deadline(), pulse_time(1001));
	at_pulse(1001);
	CHECK_EQ(irq0_deadline(), pulse_time(2001));
	CHECK_EQ(irq_rising_edges[0], 2);	/* the control word's, then 1001's */
	teardown();
}

/* Mode 4: OUT high, low for the one pulse at terminal count, then high: IRQ 0's edge is
 * at N + 2 pulses after the write (Linux's one-shot clockevent mode). */
static void test_mode4_software_strobe(void)
{
	setup();
	at_pulse(5);
	program(0, 4);
	write_count(0, 20);		/* loaded at 6, terminal count at 26 */
	CHECK_EQ(irq0_deadline(), pulse_time(27));
	unsigned before = irq_rising_edges[0];
	at_pulse(25);
	CHECK(out(0));
	CHECK_EQ(read_count(0), 1);
	at_pulse(26);
	CHECK(!out(0));
	CHECK_EQ(read_count(0), 0);
	at_pulse(27);
	CHECK(out(0));
	CHECK_EQ(irq_rising_edges[0], before + 1);
	at_pulse(70000);
	CHECK_EQ(irq_rising_edges[0], before + 1);	/* not retriggered by the wrap */
	teardown();
}

/* Mode 5: the gate's rising edge loads CE; OUT strobes low one pulse at terminal count;
 * a rising edge before then retriggers. */
static void test_mode5_hardware_strobe(void)
{
	setup();
	program(2, 5);
	write_count(2, 30);
	at_pulse(10);
	set_gate2(true);		/* loaded at 11: strobe at 41 */
	at_pulse(15);
	set_gate2(false);
	at_pulse(20);
	set_gate2(true);		/* reloaded at 21: strobe at 51 */
	at_pulse(41);
	CHECK(out(2));
	CHECK_EQ(read_count(2), 10);
	at_pulse(51);
	CHECK(!out(2));
	at_pulse(52);
	CHECK(out(2));
	teardown();
}

/* Channel 2's gate: mode 0 pauses while it is low; modes 2 and 3 force OUT high while it
 * is low and reload on the pulse after it rises. */
static void test_gate_effects(void)
{
	setup();
	set_gate2(true);
	program(2, 0);
	write_count(2, 100);		/* loaded at 1 */
	at_pulse(21);
	CHECK_EQ(read_count(2), 80);
	set_gate2(false);
	at_pulse(50);
	CHECK_EQ(read_count(2), 80);
	set_gate2(true);
	at_pulse(60);
	CHECK_EQ(read_count(2), 70);
	at_pulse(129);
	CHECK(!out(2));
	at_pulse(130);
	CHECK(out(2));

	program(2, 2);
	write_count(2, 10);		/* during 130: loaded at 131 */
	at_pulse(140);
	CHECK(!out(2));			/* count 1 */
	set_gate2(false);
	CHECK(out(2));			/* a low gate sets OUT high at once */
	at_pulse(145);
	CHECK_EQ(read_count(2), 1);
	set_gate2(true);		/* reload at 146 */
	at_pulse(146);
	CHECK_EQ(read_count(2), 10);
	at_pulse(155);
	CHECK(!out(2));
	at_pulse(156);
	CHECK(out(2));

	program(2, 3);
	write_count(2, 8);		/* during 156: loaded at 157, low 161-164 */
	at_pulse(162);
	CHECK(!out(2));
	set_gate2(false);
	CHECK(out(2));
	at_pulse(180);
	set_gate2(true);		/* reload at 181: high 181-184, low 185-188 */
	at_pulse(184);
	CHECK(out(2));
	at_pulse(185);
	CHECK(!out(2));
	teardown();
}

/* LSB-only and MSB-only access, and the LSB-then-MSB flip-flops: reads and writes have
 * one each, so they may interleave (datasheet, "Read Operations"). */
static void test_access_modes(void)
{
	setup();
	pio_out(PIT_CONTROL, 1, SELECT(1) | RW_LSB | MODE(2));
	pio_out(CH1, 1, 0x40);		/* count 0x0040 */
	at_pulse(11);
	CHECK_EQ(pio_in(CH1, 1), 0x36);	/* 64 - 10 */
	CHECK_EQ(pio_in(CH1, 1), 0x36);	/* every read is the LSB */
	pio_out(PIT_CONTROL, 1, SELECT(1) | RW_MSB | MODE(2));
	pio_out(CH1, 1, 0x12);		/* count 0x1200, loaded at 12 */
	at_pulse(12 + 0x201);
	CHECK_EQ(pio_in(CH1, 1), 0x0f);	/* 0x1200 - 0x201 = 0x0fff */
	CHECK_EQ(pio_in(CH1, 1), 0x0f);
	CHECK_EQ(status(1), STATUS_OUT | RW_MSB | MODE(2));

	program(1, 2);
	write_count(1, 0x1234);		/* during 525: loaded at 526 */
	at_pulse(526);
	CHECK_EQ(pio_in(CH1, 1), 0x34);	/* read LSB */
	pio_out(CH1, 1, 0x00);		/* write LSB */
	CHECK_EQ(pio_in(CH1, 1), 0x12);	/* read MSB */
	pio_out(CH1, 1, 0x01);		/* write MSB: 0x0100 at the period's end */
	CHECK_EQ(read_count(1), 0x1234);
	at_pulse(526 + 0x1234);
	CHECK_EQ(read_count(1), 0x0100);
	teardown();
}

/* The counter latch command: the count at the latch, until both bytes are read; a second
 * latch before then is ignored. */
static void test_counter_latch(void)
{
	setup();
	program(1, 0);
	write_count(1, 1000);		/* loaded at 1 */
	at_pulse(101);
	pio_out(PIT_CONTROL, 1, SELECT(1));
	at_pulse(201);
	pio_out(PIT_CONTROL, 1, SELECT(1));	/* ignored: the first is unread */
	CHECK_EQ(pio_in(CH1, 1), 900 & 0xff);
	at_pulse(301);
	CHECK_EQ(pio_in(CH1, 1), 900 >> 8);
	CHECK_EQ(read_count(1), 700);		/* the latch has been released */
	/* A control word drops an unread latch. */
	pio_out(PIT_CONTROL, 1, SELECT(1));
	program(1, 0);
	at_pulse(305);
	CHECK_EQ(read_count(1), 700);		/* CE stopped, holding its count */
	write_count(1, 50);
	at_pulse(311);
	CHECK_EQ(read_count(1), 45);
	teardown();
}

/* Read-back: status then count of each channel selected; NULL COUNT from the control
 * word until CE takes the count; a latched status is not overwritten until read. */
static void test_read_back(void)
{
	setup();
	pio_out(PIT_CONTROL, 1, SELECT(1) | RW_LSB_MSB | MODE(6) | BCD);
	CHECK_EQ(status(1), STATUS_OUT | STATUS_NULL_COUNT | RW_LSB_MSB | MODE(6) | BCD);
	program(2, 0);
	set_gate2(true);
	write_count(1, 0x0500);
	write_count(2, 300);		/* both loaded at 1 */
	CHECK(status(2) & STATUS_NULL_COUNT);
	at_pulse(101);
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_CHANNEL(1) | READ_BACK_CHANNEL(2));
	at_pulse(151);
	CHECK_EQ(pio_in(CH2, 1), RW_LSB_MSB);	/* status first: OUT low, count loaded */
	CHECK_EQ(read_count(2), 200);
	CHECK_EQ(pio_in(CH1, 1), STATUS_OUT | RW_LSB_MSB | MODE(6) | BCD);
	CHECK_EQ(read_count(1), 0x0400);	/* BCD 500 - 100 */
	CHECK_EQ(read_count(1), 0x0350);	/* live again */

	/* Count only; a status latched twice keeps the first; a control word drops it. */
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_STATUS | READ_BACK_CHANNEL(2));
	CHECK_EQ(read_count(2), 150);
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_COUNT | READ_BACK_CHANNEL(2));
	at_pulse(301);			/* terminal count: OUT high */
	CHECK_EQ(status(2), RW_LSB_MSB);	/* still the status of pulse 151 */
	CHECK_EQ(status(2), STATUS_OUT | RW_LSB_MSB);
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_COUNT | READ_BACK_CHANNEL(2));
	program(2, 4);
	CHECK_EQ(status(2), STATUS_OUT | STATUS_NULL_COUNT | RW_LSB_MSB | MODE(4));
	CHECK_EQ(pio_in(PIT_CONTROL, 1), 0xff);		/* the control word is write-only */
	at_pulse(500);			/* mode 6 is mode 2: OUT low at count 1, then reload */
	CHECK(!out(1));
	CHECK_EQ(read_count(1), 0x0001);
	at_pulse(501);
	CHECK(out(1));
	CHECK_EQ(read_count(1), 0x0500);
	teardown();
}

static void test_status_latched_once(void)
{
	setup();
	program(2, 0);
	set_gate2(true);
	write_count(2, 10);		/* terminal count at 11 */
	at_pulse(5);
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_COUNT | READ_BACK_CHANNEL(2));
	at_pulse(20);
	pio_out(PIT_CONTROL, 1, READ_BACK | READ_BACK_NO_COUNT | READ_BACK_CHANNEL(2));
	CHECK_EQ(pio_in(CH2, 1), RW_LSB_MSB);	/* the status of pulse 5: OUT low */
	CHECK_EQ(pio_in(CH2, 1), (u8)(10 - 19));	/* then the live count's LSB */
	teardown();
}

/* BCD counting: four decades, 0 means 10000. */
static void test_bcd(void)
{
	setup();
	pio_out(PIT_CONTROL, 1, SELECT(1) | RW_LSB_MSB | MODE(0) | BCD);
	write_count(1, 0x1000);		/* 1000, loaded at 1 */
	at_pulse(2);
	CHECK_EQ(read_count(1), 0x0999);
	at_pulse(1001);
	CHECK_EQ(read_count(1), 0x0000);
	CHECK(out(1));
	at_pulse(1002);
	CHECK_EQ(read_count(1), 0x9999);	/* wraps in decimal */
	write_count(1, 0);		/* 10000 */
	at_pulse(1003);
	CHECK_EQ(read_count(1), 0x0000);
	at_pulse(1004);
	CHECK_EQ(read_count(1), 0x9999);
	at_pulse(1003 + 10000 - 1);
	CHECK(!out(1));
	at_pulse(1003 + 10000);
	CHECK(out(1));
	pio_out(PIT_CONTROL, 1, SELECT(1) | RW_LSB | MODE(2) | BCD);
	pio_out(CH1, 1, 0x10);		/* ten pulses */
	at_pulse(11004);
	CHECK_EQ(pio_in(CH1, 1), 0x10);
	at_pulse(11007);
	CHECK_EQ(pio_in(CH1, 1), 0x07);
	at_pulse(11014);
	CHECK_EQ(pio_in(CH1, 1), 0x10);
	teardown();
}

/* Port B: bits 0-3 read back; bit 4 toggles every 15.085 us; bit 5 is OUT2; 6-7 are 0. */
static void test_port_b(void)
{
	setup();
	CHECK_EQ(pio_in(PORT_B, 1), 0);
	pio_out(PORT_B, 1, 0xff);
	CHECK_EQ(pio_in(PORT_B, 1) & 0xcf, 0x0f);
	pio_out(PORT_B, 1, 0x0a);
	CHECK_EQ(pio_in(PORT_B, 1), 0x0a);
	fake_advance_to(15084);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_REFRESH, 0);
	fake_advance_to(15085);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_REFRESH, PORT_B_REFRESH);
	fake_advance_to(30169);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_REFRESH, PORT_B_REFRESH);
	fake_advance_to(30170);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_REFRESH, 0);
	/* OUT2 follows channel 2, whatever the speaker bits. */
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_OUT2, 0);	/* mode 0 after reset: low */
	pio_out(PIT_CONTROL, 1, SELECT(2) | RW_LSB_MSB | MODE(2));
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_OUT2, PORT_B_OUT2);
	teardown();
}

/* Reprogramming: in mode 2 a new count waits for the end of the period; in mode 3 for the
 * end of the half-period; IRQ 0 follows. */
static void test_reprogram_mid_count(void)
{
	setup();
	program(0, 2);
	write_count(0, 100);		/* loaded at 1: edges at 101, 201, ... */
	at_pulse(50);
	write_count(0, 40);
	CHECK(status(0) & STATUS_NULL_COUNT);
	CHECK_EQ(irq0_deadline(), pulse_time(101));
	at_pulse(100);
	CHECK_EQ(read_count(0), 1);
	CHECK(!out(0));
	unsigned before = irq_rising_edges[0];
	at_pulse(101);
	CHECK_EQ(read_count(0), 40);
	CHECK(!(status(0) & STATUS_NULL_COUNT));
	CHECK_EQ(irq_rising_edges[0], before + 1);
	CHECK_EQ(irq0_deadline(), pulse_time(141));
	at_pulse(141);
	CHECK_EQ(irq_rising_edges[0], before + 2);

	program(0, 3);
	write_count(0, 100);		/* during 141: loaded at 142, high 142-191 */
	at_pulse(151);
	write_count(0, 20);		/* takes effect at the falling edge, 192 */
	at_pulse(191);
	CHECK(out(0));
	at_pulse(192);
	CHECK(!out(0));
	CHECK_EQ(read_count(0), 20);
	at_pulse(193);
	CHECK_EQ(read_count(0), 18);
	CHECK_EQ(irq0_deadline(), pulse_time(202));
	at_pulse(201);
	CHECK(!out(0));
	before = irq_rising_edges[0];
	at_pulse(202);
	CHECK(out(0));
	CHECK_EQ(irq_rising_edges[0], before + 1);
	CHECK_EQ(irq0_deadline(), pulse_time(222));
	teardown();
}

/* What Linux's pit_calibrate_tsc() and Vireo's drivers/tsc.c do: gate channel 2 on
 * through port B (speaker off), mode 0 with a 10 ms count, and poll OUT2. */
static void test_tsc_calibration_sequence(void)
{
	const u16 latch = PIT_HZ / 100;

	setup();
	fake_advance_to(123456789);
	u8 port_b = (u8)pio_in(PORT_B, 1);
	pio_out(PORT_B, 1, (port_b & ~0x02) | PORT_B_GATE2);
	pio_out(PIT_CONTROL, 1, 0xb0);
	pio_out(CH2, 1, latch & 0xff);
	pio_out(CH2, 1, latch >> 8);
	u64 written = pulse_of(fake_now), high_at = pulse_time(written + 1 + latch);
	fake_advance_to(high_at - 1);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_OUT2, 0);
	fake_advance_to(high_at);
	CHECK_EQ(pio_in(PORT_B, 1) & PORT_B_OUT2, PORT_B_OUT2);
	/* 11932 pulses: 10 ms of guest time, as a 1 GHz TSC measures it. */
	CHECK(high_at - 123456789 >= 9999000 && high_at - 123456789 <= 10001000);
	teardown();
}

/* Linux's quick_pit_calibrate(): mode 0 count 0xffff on channel 2, then LSB/MSB reads
 * whose MSB falls by one every 256 pulses of 1.193182 MHz. */
static void test_quick_pit_calibration(void)
{
	setup();
	pio_out(PORT_B, 1, PORT_B_GATE2);
	pio_out(PIT_CONTROL, 1, 0xb0);
	pio_out(CH2, 1, 0xff);
	pio_out(CH2, 1, 0xff);		/* during pulse 0: loaded at 1 */
	for (unsigned i = 0; i < 40; i++) {
		at_pulse(1 + 256 * i + 128);
		pio_in(CH2, 1);		/* the LSB, ignored */
		CHECK_EQ(pio_in(CH2, 1), 0xff - i);
	}
	/* After 50 ms of guest time the count is down by 50 ms worth of pulses. */
	fake_advance_to(50000000);
	CHECK_EQ(read_count(2), 0xffff - (pulse_of(50000000) - 1));
	CHECK_EQ(pulse_of(50000000), 59659);
	teardown();
}

static void test_create_failures(void)
{
	struct io_device taken = { .name = "squatter", .base = VDEV_PORT_B, .length = 1 };

	fake_platform_reset();
	CHECK(io_bus_register(&vm.pio_bus, &taken));
	CHECK(vpit_create(&vm) == NULL);	/* LeakSanitizer checks it freed itself */
	fake_platform_reset();
	vm.timers.count = VM_TIMERS_MAX;
	CHECK(vpit_create(&vm) == NULL);
	vpit_destroy(NULL);
}

int main(void)
{
	test_mode0_interrupt_on_terminal_count();
	test_mode0_first_byte_stops_counting();
	test_mode1_hardware_one_shot();
	test_mode2_rate_generator();
	test_mode2_late_timer_delivers_one_edge();
	test_count_zero_is_65536();
	test_mode3_square_wave();
	test_mode3_times_rising_edges_only();
	test_mode4_software_strobe();
	test_mode5_hardware_strobe();
	test_gate_effects();
	test_access_modes();
	test_counter_latch();
	test_read_back();
	test_status_latched_once();
	test_bcd();
	test_port_b();
	test_reprogram_mid_count();
	test_tsc_calibration_sequence();
	test_quick_pit_calibration();
	test_create_failures();
	return unit_done("test_vpit");
}
