/* The host TSC's frequency, measured once at boot against the PIT (channel 2, gated by
 * port 0x61, no interrupt needed). Virtual timers (the guests' PM timer) scale from it. */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "lib/log.h"

#define PIT_HZ 1193182u
#define PIT_CHANNEL2 0x42
#define PIT_COMMAND 0x43
#define PIT_CH2_MODE0_LOHI 0xb0	/* channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count) */
#define PORT_B 0x61
#define PORT_B_GATE2 BIT(0)
#define PORT_B_SPEAKER BIT(1)
#define PORT_B_OUT2 BIT(5)
#define CALIBRATION_MS 10
#define FALLBACK_TSC_HZ 1000000000ull	/* if the PIT never counts down (no PIT) */
#define MAX_POLLS 10000000u

u64 tsc_hz = FALLBACK_TSC_HZ;

void tsc_calibrate(void)
{
	u16 count = PIT_HZ / (1000 / CALIBRATION_MS);
	u8 port_b = inb(PORT_B);
	outb(PORT_B, (u8)((port_b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	outb(PIT_COMMAND, PIT_CH2_MODE0_LOHI);
	outb(PIT_CHANNEL2, (u8)count);
	outb(PIT_CHANNEL2, (u8)(count >> 8));
	u64 start = rdtsc();
	u32 polls = 0;
	while (!(inb(PORT_B) & PORT_B_OUT2) && ++polls < MAX_POLLS)
		cpu_relax();
	u64 ticks = rdtsc() - start;
	outb(PORT_B, port_b);
	if (polls == MAX_POLLS || ticks == 0) {
		pr_warn("tsc: the PIT did not count down: assuming a 1 GHz TSC\n");
		return;
	}
	tsc_hz = ticks * (1000 / CALIBRATION_MS);
	pr_info("tsc: %llu kHz\n", (unsigned long long)(tsc_hz / 1000));
}
