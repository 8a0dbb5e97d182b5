/* Calendar arithmetic (proleptic Gregorian, UTC, no leap seconds) and the MC146818A RTC's
 * date and time register format, which the host's RTC driver (drivers/rtc.c) and the
 * guest's RTC (drivers/vrtc.c) share. Valid from 1970-01-01 on. */
#ifndef VIREO_LIB_TIME_H
#define VIREO_LIB_TIME_H

#include "lib/types.h"

#define TIME_EPOCH_YEAR 1970u
#define SECONDS_PER_MINUTE 60u
#define SECONDS_PER_HOUR 3600u
#define SECONDS_PER_DAY 86400u

/* A moment as a calendar shows it. weekday: 0 = Sunday to 6 = Saturday. */
struct civil_time {
	u32 year;
	u8 month;		/* 1-12 */
	u8 day;			/* 1-31 */
	u8 hour, minute, second;
	u8 weekday;
};

bool time_is_leap_year(u32 year);
/* month 1-12 */
unsigned time_days_in_month(u32 year, unsigned month);
/* Days from 1970-01-01 to the date (year >= 1970, month 1-12, day 1-31). */
u64 time_days_from_civil(u32 year, unsigned month, unsigned day);
/* Fills year, month, day and weekday of the date days after 1970-01-01. */
void time_civil_from_days(u64 days, struct civil_time *date);
/* Seconds since 1970-01-01 00:00:00 (weekday is not read). */
u64 time_to_seconds(const struct civil_time *time);
void time_from_seconds(u64 seconds, struct civil_time *time);

/*
 * The MC146818A's registers (datasheet, "Address map"), at these CMOS indices. The date
 * and time are in the format register B chooses: BCD unless CMOS_FORMAT_BINARY (DM, bit
 * 2), 12-hour unless CMOS_FORMAT_24_HOUR (bit 1), where the hour's bit 7 means PM. The
 * weekday counts 1 (Sunday) to 7. The century is the PC's byte at CMOS 0x32, in the same
 * format.
 */
#define CMOS_SECONDS 0x00
#define CMOS_SECONDS_ALARM 0x01
#define CMOS_MINUTES 0x02
#define CMOS_MINUTES_ALARM 0x03
#define CMOS_HOURS 0x04
#define CMOS_HOURS_ALARM 0x05
#define CMOS_WEEKDAY 0x06
#define CMOS_DAY 0x07
#define CMOS_MONTH 0x08
#define CMOS_YEAR 0x09
#define CMOS_STATUS_A 0x0a
#define CMOS_STATUS_B 0x0b
#define CMOS_STATUS_C 0x0c
#define CMOS_STATUS_D 0x0d
#define CMOS_CENTURY 0x32
#define CMOS_INDEX_NMI_DISABLE 0x80	/* bit 7 of the byte written to the index port */
#define CMOS_A_UIP BIT(7)		/* an update is in progress or due within 244 us */
#define CMOS_FORMAT_24_HOUR BIT(1)
#define CMOS_FORMAT_BINARY BIT(2)
#define CMOS_HOUR_PM 0x80
struct cmos_time {
	u8 second, minute, hour, weekday, day, month, year, century;
};

/* One field: value (0-99) encoded, and decoded back clamped into [min, max]. */
u8 cmos_encode(unsigned value, u8 format);
unsigned cmos_decode(u8 field, u8 format, unsigned min, unsigned max);
/* The hour register: hour (0-23) encoded, and decoded back into 0-23. */
u8 cmos_encode_hour(unsigned hour, u8 format);
unsigned cmos_decode_hour(u8 field, u8 format);

/* seconds (at most in the year 9999) as the registers show it. */
void cmos_time_from_seconds(u64 seconds, u8 format, struct cmos_time *regs);
/*
 * The registers' time, read as seconds since the epoch. Each field is clamped into its
 * range (an impossible day becomes the month's last one) and the weekday is ignored. A
 * century outside 19-21 is taken as 20 (a byte the firmware does not keep); a date before
 * 1970 reads as the epoch.
 */
u64 cmos_time_to_seconds(const struct cmos_time *regs, u8 format);

#endif
