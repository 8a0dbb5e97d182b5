/* Unit tests of the calendar arithmetic and the MC146818A register format (lib/time.c).
 * Expected values are dates whose epoch seconds are well known (POSIX time).
 * unit-sources: lib/time.c
 */
#include "lib/time.h"
#include "tests/unit/unit.h"

struct known_date {
	struct civil_time time;
	u64 seconds;
};

/* weekday: 0 = Sunday */
static const struct known_date known_dates[] = {
	{ { 1970, 1, 1, 0, 0, 0, 4 }, 0 },
	{ { 1999, 2, 28, 0, 0, 0, 0 }, 920160000 },
	{ { 1999, 12, 31, 23, 59, 59, 5 }, 946684799 },
	{ { 2000, 2, 29, 0, 0, 0, 2 }, 951782400 },		/* 2000: a leap year (400) */
	{ { 2000, 3, 1, 0, 0, 0, 3 }, 951868800 },
	{ { 2020, 1, 1, 0, 0, 0, 3 }, 1577836800 },
	{ { 2024, 2, 29, 13, 45, 30, 4 }, 1709214330 },
	{ { 2038, 1, 19, 3, 14, 7, 2 }, 2147483647 },		/* the signed 32-bit end */
	{ { 2099, 12, 31, 23, 59, 59, 4 }, 4102444799 },
	{ { 2100, 2, 28, 12, 0, 0, 0 }, 4107499200 },		/* 2100: not a leap year */
	{ { 2100, 3, 1, 0, 0, 0, 1 }, 4107542400 },
	{ { 2199, 12, 31, 23, 59, 59, 2 }, 7258118399 },
};

static void test_leap_years_and_month_lengths(void)
{
	CHECK(time_is_leap_year(2000));
	CHECK(!time_is_leap_year(2100));
	CHECK(!time_is_leap_year(1900));
	CHECK(time_is_leap_year(2024));
	CHECK(!time_is_leap_year(2023));
	CHECK_EQ(time_days_in_month(2000, 2), 29);
	CHECK_EQ(time_days_in_month(2100, 2), 28);
	CHECK_EQ(time_days_in_month(2024, 2), 29);
	CHECK_EQ(time_days_in_month(2023, 2), 28);
	static const u8 lengths[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (unsigned month = 1; month <= 12; month++)
		CHECK_EQ(time_days_in_month(2023, month), lengths[month - 1]);
}

static void test_known_dates(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_dates); i++) {
		const struct known_date *known = &known_dates[i];
		struct civil_time got;

		CHECK_EQ(time_to_seconds(&known->time), known->seconds);
		time_from_seconds(known->seconds, &got);
		CHECK_EQ(got.year, known->time.year);
		CHECK_EQ(got.month, known->time.month);
		CHECK_EQ(got.day, known->time.day);
		CHECK_EQ(got.hour, known->time.hour);
		CHECK_EQ(got.minute, known->time.minute);
		CHECK_EQ(got.second, known->time.second);
		CHECK_EQ(got.weekday, known->time.weekday);
	}
	CHECK_EQ(time_days_from_civil(2000, 2, 29), 11016);
	CHECK_EQ(time_days_from_civil(2100, 3, 1), 47541);
}

/* Whether next is the calendar day after date. */
static bool is_next_day(const struct civil_time *date, const struct civil_time *next)
{
	if (next->weekday != (date->weekday + 1) % 7)
		return false;
	if (date->day < time_days_in_month(date->year, date->month))
		return next->year == date->year && next->month == date->month &&
		       next->day == date->day + 1;
	if (date->month < 12)
		return next->year == date->year && next->month == date->month + 1 &&
		       next->day == 1;
	return next->year == date->year + 1 && next->month == 1 && next->day == 1;
}

/* Every day from 1970 to 2400: days -> date -> days is the identity, and each date is the
 * day after the one before. */
static void test_round_trip_every_day(void)
{
	u64 last_day = time_days_from_civil(2400, 12, 31);
	unsigned wrong_round_trips = 0, wrong_successions = 0;
	struct civil_time previous, date;

	time_civil_from_days(0, &previous);
	for (u64 days = 1; days <= last_day; days++) {
		time_civil_from_days(days, &date);
		if (time_days_from_civil(date.year, date.month, date.day) != days)
			wrong_round_trips++;
		if (!is_next_day(&previous, &date))
			wrong_successions++;
		previous = date;
	}
	CHECK_EQ(wrong_round_trips, 0);
	CHECK_EQ(wrong_successions, 0);
	CHECK_EQ(date.year, 2400);
	CHECK_EQ(last_day, 157419);
}

static void test_field_encoding(void)
{
	CHECK_EQ(cmos_encode(59, 0), 0x59);
	CHECK_EQ(cmos_encode(59, CMOS_FORMAT_BINARY), 59);
	CHECK_EQ(cmos_encode(0, 0), 0x00);
	CHECK_EQ(cmos_decode(0x59, 0, 0, 59), 59);
	CHECK_EQ(cmos_decode(0x3b, CMOS_FORMAT_BINARY, 0, 59), 59);
	CHECK_EQ(cmos_decode(0x75, CMOS_FORMAT_BINARY, 0, 59), 59);	/* clamped */
	CHECK_EQ(cmos_decode(0x00, 0, 1, 12), 1);
	CHECK_EQ(cmos_decode(0x1a, 0, 0, 99), 20);	/* a non-BCD digit still counts 10 */
}

static void test_hour_encoding(void)
{
	const u8 bcd12 = 0, bin12 = CMOS_FORMAT_BINARY;
	const u8 bcd24 = CMOS_FORMAT_24_HOUR, bin24 = CMOS_FORMAT_24_HOUR | CMOS_FORMAT_BINARY;

	CHECK_EQ(cmos_encode_hour(0, bcd12), 0x12);	/* midnight is 12 AM */
	CHECK_EQ(cmos_encode_hour(1, bcd12), 0x01);
	CHECK_EQ(cmos_encode_hour(11, bcd12), 0x11);
	CHECK_EQ(cmos_encode_hour(12, bcd12), 0x92);	/* noon is 12 PM */
	CHECK_EQ(cmos_encode_hour(13, bcd12), 0x81);
	CHECK_EQ(cmos_encode_hour(23, bcd12), 0x91);
	CHECK_EQ(cmos_encode_hour(23, bin12), 0x8b);
	CHECK_EQ(cmos_encode_hour(0, bin12), 12);
	CHECK_EQ(cmos_encode_hour(23, bcd24), 0x23);
	CHECK_EQ(cmos_encode_hour(23, bin24), 23);
	for (unsigned hour = 0; hour < 24; hour++) {
		CHECK_EQ(cmos_decode_hour(cmos_encode_hour(hour, bcd12), bcd12), hour);
		CHECK_EQ(cmos_decode_hour(cmos_encode_hour(hour, bin12), bin12), hour);
	}
	CHECK_EQ(cmos_decode_hour(0x12, bcd12), 0);
	CHECK_EQ(cmos_decode_hour(0x92, bcd12), 12);
	CHECK_EQ(cmos_decode_hour(0x23, bcd24), 23);
}

static void test_register_time(void)
{
	const u8 bcd24 = CMOS_FORMAT_24_HOUR, bin12 = CMOS_FORMAT_BINARY;
	struct cmos_time regs;

	/* 2024-02-29 13:45:30, a Thursday (weekday register 5). */
	cmos_time_from_seconds(1709214330, bcd24, &regs);
	CHECK_EQ(regs.second, 0x30);
	CHECK_EQ(regs.minute, 0x45);
	CHECK_EQ(regs.hour, 0x13);
	CHECK_EQ(regs.weekday, 0x05);
	CHECK_EQ(regs.day, 0x29);
	CHECK_EQ(regs.month, 0x02);
	CHECK_EQ(regs.year, 0x24);
	CHECK_EQ(regs.century, 0x20);
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 1709214330);

	cmos_time_from_seconds(1709214330, bin12, &regs);
	CHECK_EQ(regs.hour, CMOS_HOUR_PM | 1);
	CHECK_EQ(regs.minute, 45);
	CHECK_EQ(regs.year, 24);
	CHECK_EQ(regs.century, 20);
	CHECK_EQ(cmos_time_to_seconds(&regs, bin12), 1709214330);

	/* 1999-12-31 23:59:59 with its century; without one (0xff), the year is 20xx. */
	regs = (struct cmos_time){ .second = 0x59, .minute = 0x59, .hour = 0x23, .day = 0x31,
				   .month = 0x12, .year = 0x99, .century = 0x19 };
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 946684799);
	regs.century = 0xff;
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 4102444799);	/* 2099-12-31 */
	regs.century = 0x00;
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 4102444799);

	/* February 31 is taken as the month's last day; 1950 is before the epoch. */
	regs = (struct cmos_time){ .day = 0x31, .month = 0x02, .year = 0x00, .century = 0x21,
				   .hour = 0x12 };
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 4107499200);	/* 2100-02-28 12:00 */
	regs.century = 0x19;
	regs.year = 0x50;
	CHECK_EQ(cmos_time_to_seconds(&regs, bcd24), 0);
}

int main(void)
{
	test_leap_years_and_month_lengths();
	test_known_dates();
	test_round_trip_every_day();
	test_field_encoding();
	test_hour_encoding();
	test_register_time();
	return unit_done("test_time");
}
