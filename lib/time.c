/* Calendar arithmetic and the MC146818A register format (lib/time.h). The date
 * conversions count years from March 1, so that the leap day ends the year: the months
 * then have the lengths 31 30 31 30 31 31 30 31 30 31 31 28/29 from March on, and the days
 * before month m (0 = March) are (153 * m + 2) / 5 with no table. */
#include "lib/time.h"

#define DAYS_PER_YEAR 365u
#define DAYS_PER_4_YEARS 1461u		/* one leap day */
#define DAYS_PER_CENTURY 36524u		/* 24 leap days: the century year is not one */
#define DAYS_PER_400_YEARS 146097u	/* 97 leap days: the Gregorian cycle */
#define DAYS_0000_03_01_TO_EPOCH 719468u	/* 1970-01-01 in March-based days */
#define EPOCH_WEEKDAY 4u		/* 1970-01-01 was a Thursday */

bool time_is_leap_year(u32 year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

unsigned time_days_in_month(u32 year, unsigned month)
{
	if (month == 2)
		return time_is_leap_year(year) ? 29 : 28;
	return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
}

/* Days from March 1 to the first of month m (0 = March, 11 = February). */
static unsigned days_before_march_month(unsigned m)
{
	return (153 * m + 2) / 5;
}

u64 time_days_from_civil(u32 year, unsigned month, unsigned day)
{
	u64 march_year = month <= 2 ? year - 1 : year;
	unsigned march_month = month <= 2 ? month + 9 : month - 3;
	u64 year_of_cycle = march_year % 400;
	u64 day_of_cycle = year_of_cycle * DAYS_PER_YEAR + year_of_cycle / 4 -
			   year_of_cycle / 100 + days_before_march_month(march_month) + day - 1;

	return march_year / 400 * DAYS_PER_400_YEARS + day_of_cycle - DAYS_0000_03_01_TO_EPOCH;
}

void time_civil_from_days(u64 days, struct civil_time *date)
{
	u64 march_days = days + DAYS_0000_03_01_TO_EPOCH;
	u64 day_of_cycle = march_days % DAYS_PER_400_YEARS;
	/* Less the leap days up to it, every year of the cycle is 365 days long: a leap day
	 * is the last day of each 4 years, except of each century, except of the cycle. */
	u64 year_of_cycle = (day_of_cycle - day_of_cycle / (DAYS_PER_4_YEARS - 1) +
			     day_of_cycle / DAYS_PER_CENTURY -
			     day_of_cycle / (DAYS_PER_400_YEARS - 1)) / DAYS_PER_YEAR;
	unsigned day_of_year = (unsigned)(day_of_cycle - (year_of_cycle * DAYS_PER_YEAR +
							  year_of_cycle / 4 - year_of_cycle / 100));
	unsigned march_month = (5 * day_of_year + 2) / 153;

	date->day = (u8)(day_of_year - days_before_march_month(march_month) + 1);
	date->month = (u8)(march_month < 10 ? march_month + 3 : march_month - 9);
	date->year = (u32)(march_days / DAYS_PER_400_YEARS * 400 + year_of_cycle +
			   (date->month <= 2));
	date->weekday = (u8)((days + EPOCH_WEEKDAY) % 7);
}

u64 time_to_seconds(const struct civil_time *time)
{
	return time_days_from_civil(time->year, time->month, time->day) * SECONDS_PER_DAY +
	       time->hour * SECONDS_PER_HOUR + time->minute * SECONDS_PER_MINUTE + time->second;
}

void time_from_seconds(u64 seconds, struct civil_time *time)
{
	u32 second_of_day = (u32)(seconds % SECONDS_PER_DAY);

	time_civil_from_days(seconds / SECONDS_PER_DAY, time);
	time->hour = (u8)(second_of_day / SECONDS_PER_HOUR);
	time->minute = (u8)(second_of_day % SECONDS_PER_HOUR / SECONDS_PER_MINUTE);
	time->second = (u8)(second_of_day % SECONDS_PER_MINUTE);
}

u8 cmos_encode(unsigned value, u8 format)
{
	if (format & CMOS_FORMAT_BINARY)
		return (u8)value;
	return (u8)((value / 10) << 4 | value % 10);
}

unsigned cmos_decode(u8 field, u8 format, unsigned min, unsigned max)
{
	unsigned value = format & CMOS_FORMAT_BINARY ? field : (field >> 4) * 10u + (field & 0xf);

	return MIN(MAX(value, min), max);
}

u8 cmos_encode_hour(unsigned hour, u8 format)
{
	if (format & CMOS_FORMAT_24_HOUR)
		return cmos_encode(hour, format);
	unsigned hour_of_half_day = hour % 12 ? hour % 12 : 12;	/* 0:30 is 12:30 AM */
	return cmos_encode(hour_of_half_day, format) | (hour >= 12 ? CMOS_HOUR_PM : 0);
}

unsigned cmos_decode_hour(u8 field, u8 format)
{
	if (format & CMOS_FORMAT_24_HOUR)
		return cmos_decode(field, format, 0, 23);
	unsigned hour_of_half_day = cmos_decode(field & ~CMOS_HOUR_PM, format, 1, 12);
	return hour_of_half_day % 12 + (field & CMOS_HOUR_PM ? 12 : 0);
}

void cmos_time_from_seconds(u64 seconds, u8 format, struct cmos_time *regs)
{
	struct civil_time time;

	time_from_seconds(seconds, &time);
	regs->second = cmos_encode(time.second, format);
	regs->minute = cmos_encode(time.minute, format);
	regs->hour = cmos_encode_hour(time.hour, format);
	regs->weekday = cmos_encode(time.weekday + 1u, format);
	regs->day = cmos_encode(time.day, format);
	regs->month = cmos_encode(time.month, format);
	regs->year = cmos_encode(time.year % 100, format);
	regs->century = cmos_encode(time.year / 100, format);
}

u64 cmos_time_to_seconds(const struct cmos_time *regs, u8 format)
{
	unsigned century = cmos_decode(regs->century, format, 0, 99);
	struct civil_time time;

	if (century < 19 || century > 21)
		century = 20;
	time.year = century * 100 + cmos_decode(regs->year, format, 0, 99);
	if (time.year < TIME_EPOCH_YEAR)
		return 0;
	time.month = (u8)cmos_decode(regs->month, format, 1, 12);
	time.day = (u8)MIN(cmos_decode(regs->day, format, 1, 31),
			   time_days_in_month(time.year, time.month));
	time.hour = (u8)cmos_decode_hour(regs->hour, format);
	time.minute = (u8)cmos_decode(regs->minute, format, 0, 59);
	time.second = (u8)cmos_decode(regs->second, format, 0, 59);
	return time_to_seconds(&time);
}
