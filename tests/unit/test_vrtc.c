/* Unit tests of the guest's MC146818A RTC (drivers/vrtc.c) on the fake platform: register
 * formats, the clock's progress, the update-in-progress window, SET and the divider, the
 * periodic, update-ended and alarm interrupts on IRQ 8, NVRAM. Time is in nanoseconds
 * (tsc_hz = 1 GHz); the expected values follow the MC146818A datasheet.
 * unit-sources: drivers/vrtc.c drivers/vregs.c drivers/vtime.c lib/time.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "lib/time.h"
#include "tests/unit/fake_platform.h"

#define US 1000ull
#define MS 1000000ull
#define SECOND 1000000000ull

#define INDEX_PORT VDEV_RTC_PORT
#define DATA_PORT (VDEV_RTC_PORT + 1)

#define A_DIVIDER_RUNNING 0x20
#define A_DIVIDER_RESET 0x70
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24_HOUR 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

/* 2024-02-29 13:45:30, a Thursday: the day after a leap day's eve. */
#define LEAP_DAY_AFTERNOON 1709214330ull

static struct vrtc *rtc;

static u8 cmos_read(u8 index)
{
	pio_out(INDEX_PORT, 1, index);
	return (u8)pio_in(DATA_PORT, 1);
}

static void cmos_write(u8 index, u8 value)
{
	pio_out(INDEX_PORT, 1, index);
	pio_out(DATA_PORT, 1, value);
}

/* A fresh platform whose RTC is created at guest time created_at. */
static void start_at(u64 epoch_seconds, u64 created_at)
{
	fake_platform_reset();
	fake_now = created_at;
	rtc = vrtc_create(&vm, epoch_seconds);
	CHECK(rtc != NULL);
}

static void start(u64 epoch_seconds)
{
	start_at(epoch_seconds, 0);
}

static void stop(void)
{
	vrtc_destroy(rtc);
	rtc = NULL;
}

/* The RTC's timer deadline (it is the only timer on the fake VM). */
static u64 timer_deadline(void)
{
	return vm.timers.timer[0]->deadline;
}

/* Runs the guest until `until`, as an interrupt handler that reads register C at each
 * interrupt would; returns how many interrupts it took. */
static unsigned run_handling_interrupts(u64 until)
{
	unsigned before = irq_rising_edges[VDEV_IRQ_RTC];

	for (u64 next = timer_deadline(); next <= until; next = timer_deadline()) {
		fake_advance_to(next);
		if (irq_level[VDEV_IRQ_RTC])
			cmos_read(CMOS_STATUS_C);
	}
	fake_advance_to(until);
	return irq_rising_edges[VDEV_IRQ_RTC] - before;
}

static void check_bcd_time(u8 hour, u8 minute, u8 second)
{
	CHECK_EQ(cmos_read(CMOS_HOURS), hour);
	CHECK_EQ(cmos_read(CMOS_MINUTES), minute);
	CHECK_EQ(cmos_read(CMOS_SECONDS), second);
}

static void check_bcd_date(u8 century, u8 year, u8 month, u8 day, u8 weekday)
{
	CHECK_EQ(cmos_read(CMOS_CENTURY), century);
	CHECK_EQ(cmos_read(CMOS_YEAR), year);
	CHECK_EQ(cmos_read(CMOS_MONTH), month);
	CHECK_EQ(cmos_read(CMOS_DAY), day);
	CHECK_EQ(cmos_read(CMOS_WEEKDAY), weekday);
}

static void test_power_on_state(void)
{
	start(LEAP_DAY_AFTERNOON);
	CHECK_EQ(cmos_read(CMOS_STATUS_A), 0x26);	/* 32.768 kHz, 1024 Hz rate */
	CHECK_EQ(cmos_read(CMOS_STATUS_B), B_24_HOUR);	/* BCD */
	CHECK_EQ(cmos_read(CMOS_STATUS_C), 0);
	CHECK_EQ(cmos_read(CMOS_STATUS_D), 0x80);	/* VRT */
	check_bcd_time(0x13, 0x45, 0x30);
	check_bcd_date(0x20, 0x24, 0x02, 0x29, 5);
	CHECK_EQ(timer_deadline(), VTIMER_IDLE);	/* no interrupt enabled */
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	stop();
}

static void test_binary_and_12_hour_formats(void)
{
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_B, B_BINARY | B_24_HOUR);
	CHECK_EQ(cmos_read(CMOS_HOURS), 13);
	CHECK_EQ(cmos_read(CMOS_MINUTES), 45);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 30);
	CHECK_EQ(cmos_read(CMOS_DAY), 29);
	CHECK_EQ(cmos_read(CMOS_YEAR), 24);
	CHECK_EQ(cmos_read(CMOS_CENTURY), 20);
	cmos_write(CMOS_STATUS_B, B_BINARY);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x80 | 1);	/* 1 PM */
	cmos_write(CMOS_STATUS_B, 0);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x81);
	stop();

	start(1709164805);		/* 2024-02-29 00:00:05 */
	cmos_write(CMOS_STATUS_B, 0);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x12);		/* 12 AM */
	cmos_write(CMOS_STATUS_B, B_BINARY);
	CHECK_EQ(cmos_read(CMOS_HOURS), 12);
	stop();

	start(1709164805 + 12 * SECONDS_PER_HOUR);	/* noon */
	cmos_write(CMOS_STATUS_B, 0);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x92);		/* 12 PM */
	cmos_write(CMOS_STATUS_B, B_24_HOUR);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x12);
	stop();
}

static void test_clock_advances(void)
{
	/* Created 5 s into the guest's life: its seconds count from then. */
	start_at(1709211599, 5 * SECOND);			/* 2024-02-29 12:59:59 */
	fake_advance_to(6 * SECOND - 1);
	check_bcd_time(0x12, 0x59, 0x59);
	fake_advance_to(6 * SECOND);
	check_bcd_time(0x13, 0x00, 0x00);			/* minute and hour */
	fake_advance_to(6 * SECOND + SECONDS_PER_HOUR * SECOND);
	check_bcd_time(0x14, 0x00, 0x00);
	stop();

	start(1709164799);					/* 2024-02-28 23:59:59 */
	fake_advance_to(SECOND);
	check_bcd_time(0x00, 0x00, 0x00);
	check_bcd_date(0x20, 0x24, 0x02, 0x29, 5);		/* the leap day */
	fake_advance_to(SECOND + SECONDS_PER_DAY * SECOND);
	check_bcd_date(0x20, 0x24, 0x03, 0x01, 6);
	stop();

	start(4107542399);					/* 2100-02-28 23:59:59 */
	fake_advance_to(SECOND);
	check_bcd_date(0x21, 0x00, 0x03, 0x01, 2);		/* 2100 has no leap day */
	stop();

	start(1682899199);					/* 2023-04-30 23:59:59 */
	fake_advance_to(SECOND);
	check_bcd_date(0x20, 0x23, 0x05, 0x01, 2);
	stop();

	start(4102444799);					/* 2099-12-31 23:59:59 */
	fake_advance_to(SECOND);
	check_bcd_time(0x00, 0x00, 0x00);
	check_bcd_date(0x21, 0x00, 0x01, 0x01, 6);		/* year and century */
	stop();
}

/* UIP is set in the 244 us (8 divider ticks) before each update, then the time changes. */
static void test_update_in_progress_window(void)
{
	start(LEAP_DAY_AFTERNOON);
	CHECK_EQ(cmos_read(CMOS_STATUS_A) & CMOS_A_UIP, 0);
	fake_advance_to(999755859);			/* one nanosecond before the window */
	CHECK_EQ(cmos_read(CMOS_STATUS_A), 0x26);
	fake_advance_to(999755860);
	CHECK_EQ(cmos_read(CMOS_STATUS_A), 0x26 | CMOS_A_UIP);
	fake_advance_to(SECOND - 1);
	CHECK_EQ(cmos_read(CMOS_STATUS_A) & CMOS_A_UIP, CMOS_A_UIP);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x30);	/* not updated yet */
	fake_advance_to(SECOND);
	CHECK_EQ(cmos_read(CMOS_STATUS_A) & CMOS_A_UIP, 0);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x31);
	fake_advance_to(2 * SECOND - 100 * US);
	CHECK_EQ(cmos_read(CMOS_STATUS_A) & CMOS_A_UIP, CMOS_A_UIP);
	cmos_write(CMOS_STATUS_B, B_SET | B_24_HOUR);	/* SET clears UIP */
	CHECK_EQ(cmos_read(CMOS_STATUS_A) & CMOS_A_UIP, 0);
	cmos_write(CMOS_STATUS_A, 0xff);		/* UIP is read-only */
	CHECK_EQ(cmos_read(CMOS_STATUS_A), 0x7f);
	stop();
}

static void test_set_freezes_and_sets_the_time(void)
{
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_B, B_SET | B_UIE | B_24_HOUR);
	CHECK_EQ(cmos_read(CMOS_STATUS_B), B_SET | B_24_HOUR);	/* SET clears UIE */
	fake_advance_to(3 * SECOND);
	check_bcd_time(0x13, 0x45, 0x30);		/* no update while SET */
	/* 2025-06-15 08:30:00, the month before the day: nothing checks a half-set date. */
	cmos_write(CMOS_MONTH, 0x06);
	cmos_write(CMOS_DAY, 0x15);
	cmos_write(CMOS_YEAR, 0x25);
	cmos_write(CMOS_HOURS, 0x08);
	cmos_write(CMOS_MINUTES, 0x30);
	cmos_write(CMOS_SECONDS, 0x00);
	cmos_write(CMOS_WEEKDAY, 0x07);
	fake_advance_to(3 * SECOND + 500 * MS);
	check_bcd_time(0x08, 0x30, 0x00);
	check_bcd_date(0x20, 0x25, 0x06, 0x15, 7);	/* as written, until SET clears */
	cmos_write(CMOS_STATUS_B, B_24_HOUR);
	check_bcd_date(0x20, 0x25, 0x06, 0x15, 1);	/* a Sunday */
	/* The divider ran on: the next update keeps its phase, at 4 s. */
	fake_advance_to(4 * SECOND - 1);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x00);
	fake_advance_to(4 * SECOND);
	check_bcd_time(0x08, 0x30, 0x01);
	stop();

	/* A date set month first: February, then the 29th of 2024, not a normalised one. */
	start(1682899199 + 1);				/* 2023-05-01 00:00:00 */
	cmos_write(CMOS_STATUS_B, B_SET | B_24_HOUR);
	cmos_write(CMOS_DAY, 0x31);
	cmos_write(CMOS_MONTH, 0x02);
	cmos_write(CMOS_YEAR, 0x24);
	cmos_write(CMOS_DAY, 0x29);
	cmos_write(CMOS_STATUS_B, B_24_HOUR);
	check_bcd_date(0x20, 0x24, 0x02, 0x29, 5);
	stop();
}

static void test_write_without_set(void)
{
	start(LEAP_DAY_AFTERNOON);
	fake_advance_to(500 * MS);
	cmos_write(CMOS_MINUTES, 0x10);
	cmos_write(CMOS_CENTURY, 0x21);
	check_bcd_time(0x13, 0x10, 0x30);
	CHECK_EQ(cmos_read(CMOS_CENTURY), 0x21);
	CHECK_EQ(cmos_read(CMOS_WEEKDAY), 3);		/* 2124-02-29 is a Tuesday */
	fake_advance_to(SECOND);
	check_bcd_time(0x13, 0x10, 0x31);		/* the second's phase is kept */
	cmos_write(CMOS_STATUS_B, B_BINARY | B_24_HOUR);
	cmos_write(CMOS_HOURS, 23);
	CHECK_EQ(cmos_read(CMOS_HOURS), 23);
	stop();
}

static void test_divider_reset(void)
{
	start(LEAP_DAY_AFTERNOON);
	fake_advance_to(200 * MS);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RESET | 0x06);
	fake_advance_to(5 * SECOND - 100 * US);		/* would be in the UIP window */
	CHECK_EQ(cmos_read(CMOS_STATUS_A), A_DIVIDER_RESET | 0x06);
	check_bcd_time(0x13, 0x45, 0x30);		/* stopped */
	cmos_write(CMOS_SECONDS, 0x10);
	fake_advance_to(7 * SECOND);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING | 0x06);
	/* The first update comes half a second after the reset ends. */
	fake_advance_to(7 * SECOND + 500 * MS - 1);
	check_bcd_time(0x13, 0x45, 0x10);
	fake_advance_to(7 * SECOND + 500 * MS);
	check_bcd_time(0x13, 0x45, 0x11);
	fake_advance_to(8 * SECOND + 500 * MS);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x12);
	/* Another time base (000) stops the clock too. */
	cmos_write(CMOS_STATUS_A, 0x06);
	fake_advance_to(20 * SECOND);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x12);
	stop();
}

/* The interrupts a handler takes in one second at each rate select value. */
static void test_periodic_rates(void)
{
	static const struct { u8 rate_select; unsigned per_second; } rates[] = {
		{ 0x0, 0 }, { 0x1, 256 }, { 0x2, 128 }, { 0x3, 8192 }, { 0x6, 1024 },
		{ 0x8, 256 }, { 0xd, 8 }, { 0xf, 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
		start(LEAP_DAY_AFTERNOON);
		cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING | rates[i].rate_select);
		cmos_write(CMOS_STATUS_B, B_PIE | B_24_HOUR);
		CHECK_EQ(run_handling_interrupts(SECOND), rates[i].per_second);
		CHECK(!irq_level[VDEV_IRQ_RTC]);
		stop();
	}

	/* 2 Hz: the first interrupt at 500 ms, register C shows IRQF and PF. */
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING | 0xf);
	cmos_write(CMOS_STATUS_B, B_PIE | B_24_HOUR);
	CHECK_EQ(timer_deadline(), 500 * MS);
	fake_advance_to(500 * MS - 1);
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	fake_advance_to(500 * MS);
	CHECK(irq_level[VDEV_IRQ_RTC]);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_IRQF | C_PF);
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), 0);		/* reading cleared it */
	stop();
}

/* A guest that does not answer for a second gets one interrupt, not 1024. */
static void test_late_guest_gets_one_interrupt(void)
{
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_B, B_PIE | B_24_HOUR);
	for (u64 t = 100 * MS; t <= SECOND; t += 100 * MS)
		fake_advance_to(t);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_RTC], 1);
	CHECK_EQ(timer_deadline(), VTIMER_IDLE);	/* nothing to do while the line is high */
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_IRQF | C_PF | C_UF);
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	CHECK(timer_deadline() > SECOND && timer_deadline() <= SECOND + SECOND / 1024 + 1);
	stop();
}

/* The flags are set whether or not their interrupt is enabled; enabling one while its
 * flag is set raises the line at once (IRQF = PF & PIE | AF & AIE | UF & UIE). */
static void test_flags_without_interrupts(void)
{
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING | 0xf);	/* 2 Hz */
	cmos_write(CMOS_SECONDS_ALARM, 0x32);
	cmos_write(CMOS_MINUTES_ALARM, 0x45);
	cmos_write(CMOS_HOURS_ALARM, 0x13);
	fake_advance_to(600 * MS);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_PF);
	fake_advance_to(2 * SECOND);			/* 13:45:32 */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_RTC], 0);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_PF | C_UF | C_AF);
	fake_advance_to(3 * SECOND);
	cmos_write(CMOS_STATUS_B, B_UIE | B_24_HOUR);
	CHECK(irq_level[VDEV_IRQ_RTC]);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_IRQF | C_PF | C_UF);
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	cmos_write(CMOS_STATUS_C, 0xff);		/* read-only */
	cmos_write(CMOS_STATUS_D, 0x00);
	CHECK_EQ(cmos_read(CMOS_STATUS_C), 0);
	CHECK_EQ(cmos_read(CMOS_STATUS_D), 0x80);
	stop();
}

static void test_update_ended_interrupt(void)
{
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING);		/* no periodic flag */
	cmos_write(CMOS_STATUS_B, B_UIE | B_24_HOUR);
	CHECK_EQ(timer_deadline(), SECOND);
	fake_advance_to(SECOND);
	CHECK(irq_level[VDEV_IRQ_RTC]);
	CHECK_EQ(cmos_read(CMOS_SECONDS), 0x31);	/* the update has ended */
	CHECK_EQ(cmos_read(CMOS_STATUS_C), C_IRQF | C_UF);
	CHECK(!irq_level[VDEV_IRQ_RTC]);
	CHECK_EQ(run_handling_interrupts(6 * SECOND), 5);
	cmos_write(CMOS_STATUS_B, B_SET | B_UIE | B_24_HOUR);	/* SET: no updates */
	CHECK_EQ(run_handling_interrupts(9 * SECOND), 0);
	stop();
}

/* Runs until the first alarm interrupt (at most `within`); its time from the start. */
static u64 first_alarm_interrupt(u8 hours, u8 minutes, u8 seconds, u64 within)
{
	cmos_write(CMOS_HOURS_ALARM, hours);
	cmos_write(CMOS_MINUTES_ALARM, minutes);
	cmos_write(CMOS_SECONDS_ALARM, seconds);
	cmos_write(CMOS_STATUS_B, B_AIE | (cmos_read(CMOS_STATUS_B) & (B_BINARY | B_24_HOUR)));
	u64 start_time = fake_now;
	for (u64 next = timer_deadline(); next <= start_time + within; next = timer_deadline()) {
		fake_advance_to(next);
		if (irq_level[VDEV_IRQ_RTC]) {
			CHECK_EQ(cmos_read(CMOS_STATUS_C) & (C_IRQF | C_AF), C_IRQF | C_AF);
			return fake_now - start_time;
		}
	}
	return UINT64_MAX;
}

static void test_alarm_interrupt(void)
{
	start(LEAP_DAY_AFTERNOON);				/* 13:45:30 */
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING);
	CHECK_EQ(first_alarm_interrupt(0x13, 0x45, 0x33, 10 * SECOND), 3 * SECOND);
	check_bcd_time(0x13, 0x45, 0x33);
	/* Don't-care hours and minutes: at every :00 second. */
	CHECK_EQ(first_alarm_interrupt(0xff, 0xc0, 0x00, 100 * SECOND), 27 * SECOND);
	CHECK_EQ(first_alarm_interrupt(0xc5, 0xd0, 0x00, 100 * SECOND), 60 * SECOND);
	/* Every field don't care: every second. */
	CHECK_EQ(first_alarm_interrupt(0xc0, 0xc0, 0xc0, 10 * SECOND), SECOND);
	check_bcd_time(0x13, 0x47, 0x01);
	/* A don't-care hour: the next 50 minutes past. */
	CHECK_EQ(first_alarm_interrupt(0xc0, 0x50, 0x00, 1000 * SECOND), 179 * SECOND);
	check_bcd_time(0x13, 0x50, 0x00);
	/* A time already passed today: tomorrow. */
	CHECK_EQ(first_alarm_interrupt(0x13, 0x49, 0x59, 2 * SECONDS_PER_DAY * SECOND),
		 (SECONDS_PER_DAY - 1) * SECOND);
	check_bcd_date(0x20, 0x24, 0x03, 0x01, 6);
	/* A value no time register holds never matches (BCD 0x61, 0x5a). */
	CHECK_EQ(first_alarm_interrupt(0x13, 0x50, 0x61, 2 * SECONDS_PER_DAY * SECOND),
		 UINT64_MAX);
	CHECK_EQ(first_alarm_interrupt(0xc0, 0x5a, 0x00, 2 * SECONDS_PER_DAY * SECOND),
		 UINT64_MAX);
	stop();

	/* 12-hour binary: 1 PM is 0x81. */
	start(LEAP_DAY_AFTERNOON);
	cmos_write(CMOS_STATUS_A, A_DIVIDER_RUNNING);
	cmos_write(CMOS_STATUS_B, B_BINARY);
	CHECK_EQ(first_alarm_interrupt(0x81, 46, 0, 100 * SECOND), 30 * SECOND);
	CHECK_EQ(cmos_read(CMOS_HOURS), 0x81);
	CHECK_EQ(first_alarm_interrupt(1, 46, 0, 2 * SECONDS_PER_DAY * SECOND),
		 (SECONDS_PER_DAY / 2) * SECOND);	/* 1 AM */
	stop();
}

static void test_nvram_and_index(void)
{
	start(LEAP_DAY_AFTERNOON);
	for (unsigned index = 0x0e; index < 0x80; index++)
		if (index != CMOS_CENTURY)
			cmos_write((u8)index, (u8)(index * 7 + 1));
	unsigned wrong = 0;
	for (unsigned index = 0x0e; index < 0x80; index++)
		if (index != CMOS_CENTURY && cmos_read((u8)index) != (u8)(index * 7 + 1))
			wrong++;
	CHECK_EQ(wrong, 0);
	/* Bit 7 of the index is NMI disable: kept, not part of the address. */
	pio_out(INDEX_PORT, 1, CMOS_INDEX_NMI_DISABLE | 0x20);
	CHECK_EQ(pio_in(INDEX_PORT, 1), CMOS_INDEX_NMI_DISABLE | 0x20);
	CHECK_EQ(pio_in(DATA_PORT, 1), (u8)(0x20 * 7 + 1));
	pio_out(DATA_PORT, 1, 0x5a);
	CHECK_EQ(cmos_read(0x20), 0x5a);
	pio_out(INDEX_PORT, 1, CMOS_INDEX_NMI_DISABLE | CMOS_SECONDS);
	CHECK_EQ(pio_in(DATA_PORT, 1), 0x30);
	/* A 16-bit read is the index, then the data. */
	CHECK_EQ(pio_in(INDEX_PORT, 2), 0x3080);
	CHECK_EQ(cmos_read(CMOS_STATUS_D), 0x80);
	stop();
}

int main(void)
{
	test_power_on_state();
	test_binary_and_12_hour_formats();
	test_clock_advances();
	test_update_in_progress_window();
	test_set_freezes_and_sets_the_time();
	test_write_without_set();
	test_divider_reset();
	test_periodic_rates();
	test_late_guest_gets_one_interrupt();
	test_flags_without_interrupts();
	test_update_ended_interrupt();
	test_alarm_interrupt();
	test_nvram_and_index();
	return unit_done("test_vrtc");
}
