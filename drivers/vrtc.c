/*
 * The guest's CMOS real-time clock at 0x70 (index) and 0x71 (data), after the Motorola
 * MC146818A datasheet: the time and calendar, three alarm bytes, status registers A-D,
 * and NVRAM from 0x0e to 0x7f, where the PC keeps the century at 0x32. Its interrupt is
 * ISA IRQ 8.
 *
 * Time: the 32.768 kHz divider chain is derived from the guest's clock (vdev_now()); it
 * updates the time at each multiple of DIVIDER_HZ divider ticks, and its taps set the
 * periodic flag at each multiple of the period. Everything is computed lazily when the
 * guest looks (catch_up()); the one timer runs only for an event that would raise the
 * interrupt line. A guest that runs late gets one interrupt for all the events it missed,
 * not a backlog: a flag is a latch, and the line stays high until register C is read.
 *
 * Simplifications: changing the data mode or the 12/24-hour mode shows the running time
 * in the new format at once (the chip would keep the old bytes until rewritten); the
 * weekday follows from the date (a written weekday reads back only until the clock next
 * runs); daylight saving (DSE) and the square-wave output (SQWE) are kept but do nothing;
 * dividers other than the 32.768 kHz one (010) hold the chain in reset.
 */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"
#include "lib/time.h"

#define CMOS_BYTES 128
#define CMOS_INDEX_MASK 0x7f
#define RTC_INDEX_OFFSET 0
#define RTC_DATA_OFFSET 1

/* Register A: divider (DV2-0) and periodic rate (RS3-0); UIP (bit 7) is read-only. */
#define A_DIVIDER_MASK 0x70
#define A_DIVIDER_32768_HZ 0x20		/* 010: the PC's crystal, the chain running */
#define A_RATE_MASK 0x0f
#define A_RATE_1024_HZ 0x06
#define A_WRITABLE 0x7f
/* Register B. DM (bit 2) and 24/12 (bit 1) are lib/time.h's CMOS_FORMAT_* bits; SQWE
 * (bit 3) and DSE (bit 0) are kept and do nothing. */
#define B_SET BIT(7)			/* updates stop; software sets the time */
#define B_PIE BIT(6)
#define B_AIE BIT(5)
#define B_UIE BIT(4)
/* Register C: read-only, cleared by a read. */
#define C_IRQF BIT(7)			/* PF & PIE | AF & AIE | UF & UIE */
#define C_PF BIT(6)
#define C_AF BIT(5)
#define C_UF BIT(4)
#define C_FLAGS (C_PF | C_AF | C_UF)
/* Register D: read-only. */
#define D_VRT BIT(7)			/* valid RAM and time: the battery is good */

static_assert(B_PIE == C_PF && B_AIE == C_AF && B_UIE == C_UF,
	      "each interrupt enable sits at its flag's bit: IRQF is flags & enables");

/* An alarm byte with both top bits set matches every value (datasheet, "Alarm"). */
#define ALARM_DONT_CARE 0xc0
#define ALARM_ANY (-1)
#define ALARM_NEVER (-2)		/* a byte the time register never holds */
#define NO_ALARM UINT64_MAX

#define DIVIDER_HZ 32768u		/* the chain's input: one update every DIVIDER_HZ ticks */
#define UIP_TICKS 8u			/* UIP rises 244 us (8 ticks) before each update */
/* Taken out of reset, the chain starts half-way: the first update comes 500 ms later. */
#define RESET_RELEASE_TICKS (DIVIDER_HZ / 2)
#define NO_EVENT UINT64_MAX

struct vrtc {
	struct io_device io;
	struct vm *vm;
	struct vtimer timer;
	u8 index;		/* the last byte written to 0x70, NMI-disable bit and all */
	u8 cmos[CMOS_BYTES];	/* A, B, the alarms and NVRAM; not the time, nor C or D */
	u8 flags;		/* register C's PF, AF and UF */
	bool irq_high;
	u64 seconds;		/* the time (epoch seconds) while the clock is not frozen */
	struct cmos_time held;	/* the time registers while it is (SET, or no divider) */
	/* While the divider runs: it counted divider_start_count at guest TSC
	 * divider_start_tsc, and every tick up to ticks_done is accounted for. */
	u64 divider_start_tsc, divider_start_count, ticks_done;
};

static bool divider_running(const struct vrtc *rtc)
{
	return (rtc->cmos[CMOS_STATUS_A] & A_DIVIDER_MASK) == A_DIVIDER_32768_HZ;
}

static bool clock_frozen(const struct vrtc *rtc)
{
	return !divider_running(rtc) || (rtc->cmos[CMOS_STATUS_B] & B_SET);
}

static u8 time_format(const struct vrtc *rtc)
{
	return rtc->cmos[CMOS_STATUS_B];
}

static u64 divider_count(const struct vrtc *rtc, u64 now)
{
	return rtc->divider_start_count + vdev_tsc_to_ticks(now - rtc->divider_start_tsc,
							     DIVIDER_HZ);
}

/* The first guest TSC at which the divider has counted count (> the count now): the
 * conversion rounds down, so it may land one TSC tick early. */
static u64 divider_tick_tsc(const struct vrtc *rtc, u64 count)
{
	u64 ticks = count - rtc->divider_start_count;
	u64 elapsed = vdev_ticks_to_tsc(ticks, DIVIDER_HZ);

	if (vdev_tsc_to_ticks(elapsed, DIVIDER_HZ) < ticks)
		elapsed++;
	return rtc->divider_start_tsc + elapsed;
}

/* The periodic interrupt's period in divider ticks, 0 if off (datasheet table 5: with
 * the 32.768 kHz time base, rates 1 and 2 repeat rates 8 and 9). Every period divides
 * RESET_RELEASE_TICKS, so periodic ticks fall on update boundaries as in the chain. */
static u64 periodic_ticks(const struct vrtc *rtc)
{
	unsigned rate = rtc->cmos[CMOS_STATUS_A] & A_RATE_MASK;

	if (!rate)
		return 0;
	return 1ull << ((rate < 3 ? rate + 7 : rate) - 1);
}

/* ---- The alarm: hours, minutes and seconds compared at each update. ---- */

struct alarm {
	int hour, minute, second;	/* a value, ALARM_ANY or ALARM_NEVER */
};

static int alarm_minute_or_second(u8 field, u8 format)
{
	if ((field & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return ALARM_ANY;
	unsigned value = cmos_decode(field, format, 0, 59);
	return cmos_encode(value, format) == field ? (int)value : ALARM_NEVER;
}

static int alarm_hour(u8 field, u8 format)
{
	if ((field & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return ALARM_ANY;
	unsigned value = cmos_decode_hour(field, format);
	return cmos_encode_hour(value, format) == field ? (int)value : ALARM_NEVER;
}

/* False if the alarm can never match. */
static bool load_alarm(const struct vrtc *rtc, struct alarm *alarm)
{
	u8 format = time_format(rtc);

	alarm->hour = alarm_hour(rtc->cmos[CMOS_HOURS_ALARM], format);
	alarm->minute = alarm_minute_or_second(rtc->cmos[CMOS_MINUTES_ALARM], format);
	alarm->second = alarm_minute_or_second(rtc->cmos[CMOS_SECONDS_ALARM], format);
	return alarm->hour != ALARM_NEVER && alarm->minute != ALARM_NEVER &&
	       alarm->second != ALARM_NEVER;
}

/* The first value in [from, limit) that the alarm field matches, or limit (from <=
 * limit). */
static unsigned first_match(int field, unsigned from, unsigned limit)
{
	if (field == ALARM_ANY)
		return from;
	return (unsigned)field >= from && (unsigned)field < limit ? (unsigned)field : limit;
}

/* The first second of the day at or after second_of_day that matches, or NO_ALARM. Each
 * loop visits only matching values, so this takes at most a few thousand steps. */
static u64 first_alarm_from(const struct alarm *alarm, u32 second_of_day)
{
	unsigned hour0 = second_of_day / SECONDS_PER_HOUR;
	unsigned minute0 = second_of_day / SECONDS_PER_MINUTE % 60;
	unsigned second0 = second_of_day % SECONDS_PER_MINUTE;

	for (unsigned h = first_match(alarm->hour, hour0, 24); h < 24;
	     h = first_match(alarm->hour, h + 1, 24)) {
		unsigned minute_from = h == hour0 ? minute0 : 0;
		for (unsigned m = first_match(alarm->minute, minute_from, 60); m < 60;
		     m = first_match(alarm->minute, m + 1, 60)) {
			unsigned second_from = h == hour0 && m == minute0 ? second0 : 0;
			unsigned s = first_match(alarm->second, second_from, 60);
			if (s < 60)
				return h * SECONDS_PER_HOUR + m * SECONDS_PER_MINUTE + s;
		}
	}
	return NO_ALARM;
}

/* How many updates from now until the time matches the alarm (1 to a day), or
 * NO_ALARM. */
static u64 seconds_until_alarm(const struct vrtc *rtc)
{
	struct alarm alarm;
	u32 now = (u32)(rtc->seconds % SECONDS_PER_DAY);

	if (!load_alarm(rtc, &alarm))
		return NO_ALARM;
	u64 later_today = NO_ALARM;
	if (now + 1 < SECONDS_PER_DAY)
		later_today = first_alarm_from(&alarm, now + 1);
	if (later_today != NO_ALARM)
		return later_today - now;
	return SECONDS_PER_DAY - now + first_alarm_from(&alarm, 0);	/* matches some time */
}

/* ---- The clock's progress, the flags and the interrupt line. ---- */

static void update_time(struct vrtc *rtc, u64 updates)
{
	if (seconds_until_alarm(rtc) <= updates)
		rtc->flags |= C_AF;
	rtc->seconds += updates;
	rtc->flags |= C_UF;
}

/* Accounts for the divider ticks up to now: the updates it made (unless SET stops them)
 * and the periodic flag. Each flag is set once however many events passed. */
static void catch_up(struct vrtc *rtc, u64 now)
{
	if (!divider_running(rtc))
		return;
	u64 done = rtc->ticks_done, count = divider_count(rtc, now);
	u64 period = periodic_ticks(rtc);
	u64 updates = count / DIVIDER_HZ - done / DIVIDER_HZ;

	if (period && count / period != done / period)
		rtc->flags |= C_PF;
	if (updates && !(rtc->cmos[CMOS_STATUS_B] & B_SET))
		update_time(rtc, updates);
	rtc->ticks_done = count;
}

static bool irq_flag(const struct vrtc *rtc)
{
	return rtc->flags & rtc->cmos[CMOS_STATUS_B] & C_FLAGS;
}

/* The divider tick of the next event that would set IRQF, or NO_EVENT: none while IRQF
 * is already set (the line is high until register C is read) or the divider is stopped.
 * The flags of disabled interrupts need no timer: catch_up() finds them. */
static u64 next_interrupt_tick(const struct vrtc *rtc)
{
	u8 b = rtc->cmos[CMOS_STATUS_B];
	u64 period = periodic_ticks(rtc), next = NO_EVENT;

	if (!divider_running(rtc) || irq_flag(rtc))
		return NO_EVENT;
	if ((b & B_PIE) && period)
		next = (rtc->ticks_done / period + 1) * period;
	if (b & B_SET)
		return next;	/* no updates */
	u64 next_update = (rtc->ticks_done / DIVIDER_HZ + 1) * DIVIDER_HZ;
	if (b & B_UIE)
		next = MIN(next, next_update);
	u64 until_alarm = b & B_AIE ? seconds_until_alarm(rtc) : NO_ALARM;
	if (until_alarm != NO_ALARM)
		next = MIN(next, next_update + (until_alarm - 1) * DIVIDER_HZ);
	return next;
}

/* After any change: the line follows IRQF, and the timer the next interrupt. */
static void settle(struct vrtc *rtc)
{
	bool high = irq_flag(rtc);
	u64 next = next_interrupt_tick(rtc);

	if (high != rtc->irq_high) {
		rtc->irq_high = high;
		vdev_set_irq(rtc->vm, VDEV_IRQ_RTC, high);
	}
	if (next == NO_EVENT)
		vtimer_cancel(&rtc->timer);
	else
		vtimer_arm(&rtc->timer, divider_tick_tsc(rtc, next));
}

static void rtc_timer_expired(struct vtimer *timer, u64 now)
{
	struct vrtc *rtc = timer->opaque;

	catch_up(rtc, now);
	settle(rtc);
}

/* ---- Registers. ---- */

/* Where the time register at index sits in regs, or NULL if index is none. */
static u8 *time_register(struct cmos_time *regs, unsigned index)
{
	switch (index) {
	case CMOS_SECONDS:
		return &regs->second;
	case CMOS_MINUTES:
		return &regs->minute;
	case CMOS_HOURS:
		return &regs->hour;
	case CMOS_WEEKDAY:
		return &regs->weekday;
	case CMOS_DAY:
		return &regs->day;
	case CMOS_MONTH:
		return &regs->month;
	case CMOS_YEAR:
		return &regs->year;
	case CMOS_CENTURY:
		return &regs->century;
	default:
		return NULL;
	}
}

static void current_time(const struct vrtc *rtc, struct cmos_time *regs)
{
	if (clock_frozen(rtc))
		*regs = rtc->held;
	else
		cmos_time_from_seconds(rtc->seconds, time_format(rtc), regs);
}

/* Without SET the clock goes on from the new value at once, its second's phase kept. */
static void write_time_register(struct vrtc *rtc, u8 *field, struct cmos_time *regs,
				u8 value)
{
	*field = value;
	if (clock_frozen(rtc))
		rtc->held = *regs;
	else
		rtc->seconds = cmos_time_to_seconds(regs, time_format(rtc));
}

static void restart_divider(struct vrtc *rtc, u64 now)
{
	rtc->divider_start_tsc = now;
	rtc->divider_start_count = rtc->ticks_done = RESET_RELEASE_TICKS;
}

/* Register A or B. Freezing keeps the time registers as they are; thawing reads the
 * time back from them, in the format then in force. */
static void write_control_register(struct vrtc *rtc, unsigned index, u8 value, u64 now)
{
	bool was_running = divider_running(rtc), was_frozen = clock_frozen(rtc);

	if (!was_frozen)
		cmos_time_from_seconds(rtc->seconds, time_format(rtc), &rtc->held);
	if (index == CMOS_STATUS_A)
		value &= A_WRITABLE;
	else if (value & B_SET)
		value &= ~B_UIE;	/* datasheet: SET clears UIE */
	rtc->cmos[index] = value;
	if (!was_running && divider_running(rtc))
		restart_divider(rtc, now);
	if (was_frozen && !clock_frozen(rtc))
		rtc->seconds = cmos_time_to_seconds(&rtc->held, time_format(rtc));
}

static bool update_in_progress(const struct vrtc *rtc, u64 now)
{
	u64 tick_of_second = divider_count(rtc, now) % DIVIDER_HZ;

	return !clock_frozen(rtc) && tick_of_second >= DIVIDER_HZ - UIP_TICKS;
}

static u8 read_flags(struct vrtc *rtc)
{
	u8 value = rtc->flags | (irq_flag(rtc) ? C_IRQF : 0);

	rtc->flags = 0;
	return value;
}

static u8 read_register(struct vrtc *rtc, unsigned index, u64 now)
{
	struct cmos_time regs;
	u8 *field = time_register(&regs, index);

	if (field) {
		current_time(rtc, &regs);
		return *field;
	}
	switch (index) {
	case CMOS_STATUS_A:
		return rtc->cmos[index] | (update_in_progress(rtc, now) ? CMOS_A_UIP : 0);
	case CMOS_STATUS_C:
		return read_flags(rtc);
	case CMOS_STATUS_D:
		return D_VRT;
	default:
		return rtc->cmos[index];
	}
}

static void write_register(struct vrtc *rtc, unsigned index, u8 value, u64 now)
{
	struct cmos_time regs;
	u8 *field = time_register(&regs, index);

	if (field) {
		current_time(rtc, &regs);
		write_time_register(rtc, field, &regs, value);
		return;
	}
	switch (index) {
	case CMOS_STATUS_A:
	case CMOS_STATUS_B:
		write_control_register(rtc, index, value, now);
		break;
	case CMOS_STATUS_C:
	case CMOS_STATUS_D:
		break;		/* read-only */
	default:
		rtc->cmos[index] = value;
		break;
	}
}

static u8 rtc_read_byte(struct io_device *dev, u64 offset)
{
	struct vrtc *rtc = dev->opaque;
	u64 now = vdev_now(rtc->vm);

	if (offset == RTC_INDEX_OFFSET)
		return rtc->index;
	catch_up(rtc, now);
	u8 value = read_register(rtc, rtc->index & CMOS_INDEX_MASK, now);
	settle(rtc);
	return value;
}

static void rtc_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vrtc *rtc = dev->opaque;
	u64 now = vdev_now(rtc->vm);

	if (offset == RTC_INDEX_OFFSET) {
		rtc->index = value;
		return;
	}
	catch_up(rtc, now);
	write_register(rtc, rtc->index & CMOS_INDEX_MASK, value, now);
	settle(rtc);
}

static u64 rtc_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, rtc_read_byte);
}

static void rtc_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, rtc_write_byte);
}

static const struct io_device_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

/* As a PC BIOS leaves it: the divider running at 1024 Hz periodic rate, 24-hour BCD. As
 * with the buses, a failed create leaves what it registered pointing at freed memory:
 * the VM must not run. */
struct vrtc *vrtc_create(struct vm *vm, u64 epoch_seconds)
{
	struct vrtc *rtc = kmalloc(sizeof(*rtc));

	if (!rtc)
		return NULL;
	rtc->vm = vm;
	rtc->cmos[CMOS_STATUS_A] = A_DIVIDER_32768_HZ | A_RATE_1024_HZ;
	rtc->cmos[CMOS_STATUS_B] = CMOS_FORMAT_24_HOUR;
	rtc->seconds = epoch_seconds;
	rtc->divider_start_tsc = vdev_now(vm);
	if (!vdev_attach(&vm->pio_bus, &rtc->io, "MC146818 RTC", VDEV_RTC_PORT, VDEV_RTC_PORTS,
			 &rtc_ops, rtc) ||
	    !vtimer_init(vm, &rtc->timer, rtc_timer_expired, rtc)) {
		kfree(rtc);
		return NULL;
	}
	return rtc;
}

void vrtc_destroy(struct vrtc *rtc)
{
	kfree(rtc);
}
