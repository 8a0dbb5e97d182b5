/* The host's CMOS real-time clock (Motorola MC146818A and the PC chipsets that copy it):
 * the wall-clock time at boot, which the guests' RTCs start from. Read the way the
 * datasheet allows without stopping the clock: after the update-in-progress bit clears,
 * twice, until both reads agree (an update may still fall between them). */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/time.h"

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71

/* UIP stays set for at most 244 us + 1984 us (the update cycle at 32.768 kHz); a clock
 * whose UIP outlasts 10 ms is taken to be absent (an empty bus reads 0xff). */
#define UIP_TIMEOUT_PER_SECOND 100
#define READ_ATTEMPTS 5

struct host_rtc_reading {
	struct cmos_time time;
	u8 status_b;
};

/* The index goes out with bit 7 clear: Vireo runs with NMIs enabled, as Linux does. */
static u8 cmos_read(u8 index)
{
	outb(CMOS_INDEX_PORT, index & ~CMOS_INDEX_NMI_DISABLE);
	return inb(CMOS_DATA_PORT);
}

static bool wait_for_no_update(void)
{
	u64 deadline = rdtsc() + tsc_hz / UIP_TIMEOUT_PER_SECOND;

	while (cmos_read(CMOS_STATUS_A) & CMOS_A_UIP) {
		if (rdtsc() > deadline)
			return false;
		cpu_relax();
	}
	return true;
}

/* False if the update-in-progress bit never cleared. */
static bool read_clock(struct host_rtc_reading *reading)
{
	if (!wait_for_no_update())
		return false;
	reading->time = (struct cmos_time){
		.second = cmos_read(CMOS_SECONDS),
		.minute = cmos_read(CMOS_MINUTES),
		.hour = cmos_read(CMOS_HOURS),
		.weekday = cmos_read(CMOS_WEEKDAY),
		.day = cmos_read(CMOS_DAY),
		.month = cmos_read(CMOS_MONTH),
		.year = cmos_read(CMOS_YEAR),
		.century = cmos_read(CMOS_CENTURY),
	};
	reading->status_b = cmos_read(CMOS_STATUS_B);
	return true;
}

static bool clock_absent(const struct host_rtc_reading *reading)
{
	const struct cmos_time *t = &reading->time;

	return (t->second & t->minute & t->hour & t->day & t->month & t->year) == 0xff;
}

static u64 reading_seconds(const struct host_rtc_reading *reading)
{
	if (clock_absent(reading))
		return 0;
	return cmos_time_to_seconds(&reading->time, reading->status_b);
}

u64 rtc_host_epoch_seconds(void)
{
	struct host_rtc_reading first, second;

	for (unsigned attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		if (!read_clock(&first) || !read_clock(&second)) {
			pr_warn("rtc: the CMOS clock never leaves its update: no clock\n");
			return 0;
		}
		if (memcmp(&first, &second, sizeof(first)) == 0)
			return reading_seconds(&second);
	}
	pr_warn("rtc: the CMOS clock changed between every two reads\n");
	return reading_seconds(&second);
}
