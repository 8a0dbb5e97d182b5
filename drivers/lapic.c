/* The host's local APIC. The hypervisor takes no device interrupts (all I/O is polled): the
 * legacy PICs are masked and the APIC gives only its timer, and only on CPUs whose VMX lacks
 * the preemption timer (Core 2): there the timer's interrupt, with external-interrupt
 * exiting and acknowledge-on-exit, ends a guest's run at its next device-timer deadline.
 * The host runs with interrupts off, so the interrupt is seen only as a VM exit. */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "lib/log.h"
#include "lib/muldiv.h"
#include "lib/phys.h"

#define APIC_BASE_ADDRESS_MASK 0xffffff000ull
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
/* Register offsets (SDM Vol. 3A table 11-1); x2APIC MSR 0x800 + offset / 16. */
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define MSR_X2APIC_BASE 0x800u
#define APIC_SVR_ENABLE BIT(8)
#define APIC_SPURIOUS_VECTOR 0xff
#define APIC_LVT_MASKED BIT(16)
#define APIC_DIVIDE_BY_1 0xb
#define APIC_CALIBRATION_DIVISOR 1000	/* calibrate over 1 ms of TSC */
#define PIC1_DATA 0x21			/* 8259 interrupt mask registers */
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff

static u64 apic_base;
static u64 apic_timer_hz;		/* 0: the host timer is not in use */

static u32 apic_read(u32 offset)
{
	if (apic_base & APIC_BASE_X2APIC)
		return (u32)rdmsr(MSR_X2APIC_BASE + offset / 16);
	return *(volatile u32 *)phys_to_virt((apic_base & APIC_BASE_ADDRESS_MASK) + offset);
}

static void apic_write(u32 offset, u32 value)
{
	if (apic_base & APIC_BASE_X2APIC)
		wrmsr(MSR_X2APIC_BASE + offset / 16, value);
	else
		*(volatile u32 *)phys_to_virt((apic_base & APIC_BASE_ADDRESS_MASK) + offset) = value;
}

void host_interrupts_quiesce(void)
{
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	apic_base = rdmsr(MSR_IA32_APIC_BASE);
	if (apic_base & APIC_BASE_ENABLE)
		apic_write(APIC_SVR, apic_read(APIC_SVR) & ~(u32)APIC_SVR_ENABLE);
}

/* The APIC timer's rate against the TSC (tsc_hz must be known). */
static u64 measure_apic_timer_hz(void)
{
	apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | HOST_TIMER_VECTOR);
	apic_write(APIC_TIMER_INITIAL, 0xffffffffu);
	u64 start = rdtsc();
	while (rdtsc() - start < tsc_hz / APIC_CALIBRATION_DIVISOR)
		cpu_relax();
	u32 counted = 0xffffffffu - apic_read(APIC_TIMER_CURRENT);
	u64 elapsed = rdtsc() - start;
	apic_write(APIC_TIMER_INITIAL, 0);
	return mul_div_u64(counted, tsc_hz, elapsed);
}

bool host_timer_init(void)
{
	if (!(apic_base & APIC_BASE_ENABLE))
		return false;
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_timer_hz = measure_apic_timer_hz();
	if (!apic_timer_hz)
		return false;
	apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR);		/* one-shot, unmasked */
	pr_info("host APIC timer: %llu kHz, ends guest runs at device-timer deadlines\n",
		(unsigned long long)(apic_timer_hz / 1000));
	return true;
}

void host_timer_arm(u64 tsc_ticks)
{
	u64 count = mul_div_u64(tsc_ticks, apic_timer_hz, tsc_hz);
	apic_write(APIC_TIMER_INITIAL, (u32)MIN(MAX(count, 1), 0xffffffffull));
}

void host_timer_eoi(void)
{
	apic_write(APIC_EOI, 0);
}
