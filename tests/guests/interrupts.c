/* interrupts: device interrupts reach the guest, from each controller and timer, at the
 * rate the guest programmed, and the CPU-side rules hold: HLT sleeps until an interrupt,
 * STI's shadow ends after an instruction Vireo completed for the guest, TF single-steps
 * over an exiting instruction, an NMI arrives. Rates are measured against the ACPI PM timer
 * (3.579545 MHz), the guest's own reference for its TSC. */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/irq.h"

#define PM_TIMER_PORT 0x608		/* as QEMU places it (Vireo's FADT says so too) */
#define PM_TIMER_HZ 3579545ull
#define PM_TIMER_MASK 0xffffffu

#define PIC_MASTER 0x20
#define PIC_SLAVE 0xa0
#define PIC_EOI 0x20
#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_CH0_RATE_GENERATOR 0x34	/* channel 0, LSB then MSB, mode 2 */
#define PIT_HZ 1193182ull
#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_B_PIE 0x40
#define RTC_A_1024HZ 0x26		/* 32.768 kHz time base, rate 6 */

#define APIC_EOI 0x0b0
#define APIC_SPIV 0x0f0
#define APIC_ICR_LOW 0x300
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_SPIV_ENABLE 0x1ff
#define APIC_LVT_MASKED (1u << 16)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_DIVIDE_BY_1 0xb
#define APIC_ICR_SELF (1u << 18)
#define APIC_ICR_NMI (4u << 8)
#define MSR_TSC_DEADLINE 0x6e0
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIRECTION(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED (1u << 16)

#define VECTOR_PIC_BASE 0x20
#define VECTOR_APIC_TIMER 0x40
#define VECTOR_IOAPIC_PIT 0x50
#define VECTOR_IOAPIC_RTC 0x58
#define VECTOR_SELF_IPI 0x60

#define TICKS 10
#define RATE_TOLERANCE_PERCENT 3

static u64 tsc_hz;
/* "shared" on the command line: other VMs compute on the same CPU, so this one gets only
 * part of the time and its interrupts wait for its turn: rates are not checked then, only
 * that every interrupt comes. */
static bool shared_cpu;

static u32 pm_timer(void)
{
	return inl(PM_TIMER_PORT) & PM_TIMER_MASK;
}

/*
 * A reading of a slow clock taken with the TSC around it: the VM may lose the CPU to
 * another at any instruction (the scheduler's slices), so a reading counts only when the
 * TSC moved little across it, and then stands for the TSC between.
 */
#define READING_SPREAD_MAX 20000	/* TSC ticks: one exit, not a slice */

struct clock_reading {
	u64 tsc;
	u32 value;
};

static struct clock_reading read_against_tsc(u32 (*read_clock)(void))
{
	for (;;) {
		u64 before = rdtsc();
		u32 value = read_clock();
		u64 after = rdtsc();
		if (after - before < READING_SPREAD_MAX)
			return (struct clock_reading){ before + (after - before) / 2, value };
	}
}

/* The guest TSC's rate, against about 20 ms of PM timer. */
static u64 measure_tsc_hz(void)
{
	struct clock_reading start = read_against_tsc(pm_timer), end;
	do
		end = read_against_tsc(pm_timer);
	while (((end.value - start.value) & PM_TIMER_MASK) < PM_TIMER_HZ / 50);
	u64 ticks = (end.value - start.value) & PM_TIMER_MASK;
	return (end.tsc - start.tsc) * PM_TIMER_HZ / ticks;
}

static bool within_tolerance(u64 measured, u64 expected)
{
	u64 diff = measured > expected ? measured - expected : expected - measured;
	return diff * 100 <= expected * RATE_TOLERANCE_PERCENT;
}

/* Sleeps with HLT until vector has seen `count` more interrupts; returns the TSC ticks
 * that took and counts the HLTs that returned. The guest runs with interrupts on (but for
 * the STI-shadow check): Bochs 2.7 holds back the exit that ends a run while a guest
 * has them off, which would make another VM's interrupts late (../shared/notes). */
static u64 wait_for_interrupts(unsigned vector, u64 count, unsigned *halts)
{
	u64 target = irq_counts[vector] + count, start = rdtsc();
	*halts = 0;
	while (irq_counts[vector] < target) {
		safe_halt();
		++*halts;
	}
	return rdtsc() - start;
}

/* Sleeps until vector's count reaches target. For a one-shot event the caller takes the
 * count before arming it: its interrupt may arrive before the next instruction (another
 * VM may run in between on a shared CPU). */
static void wait_for_count(unsigned vector, u64 target)
{
	while (irq_counts[vector] < target)
		safe_halt();
}

static u32 apic_read(u32 reg)
{
	return mmio_read32(XAPIC_BASE + reg);
}

static void apic_write(u32 reg, u32 value)
{
	mmio_write32(XAPIC_BASE + reg, value);
}

static void apic_eoi(unsigned vector, u64 rip)
{
	apic_write(APIC_EOI, 0);
}

static void pic_eoi(unsigned vector, u64 rip)
{
	outb(PIC_MASTER, PIC_EOI);
}

static void pic_init(u8 master_mask)
{
	outb(PIC_MASTER, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC_MASTER + 1, VECTOR_PIC_BASE);
	outb(PIC_MASTER + 1, 1 << 2);	/* slave on IRQ 2 */
	outb(PIC_MASTER + 1, 0x01);	/* 8086 mode */
	outb(PIC_SLAVE, 0x11);
	outb(PIC_SLAVE + 1, VECTOR_PIC_BASE + 8);
	outb(PIC_SLAVE + 1, 2);
	outb(PIC_SLAVE + 1, 0x01);
	outb(PIC_MASTER + 1, master_mask);
	outb(PIC_SLAVE + 1, 0xff);
}

static void pit_periodic(u64 hz)
{
	u16 count = (u16)(PIT_HZ / hz);
	outb(PIT_COMMAND, PIT_CH0_RATE_GENERATOR);
	outb(PIT_CHANNEL0, (u8)count);
	outb(PIT_CHANNEL0, (u8)(count >> 8));
}

/* Lets an interrupt that was already requested arrive. */
static void drain_interrupts(void)
{
	for (int i = 0; i < 100; i++)
		asm volatile("pause");
}

static void check_rate(const char *what, u64 tsc_ticks, u64 events, u64 hz, unsigned halts)
{
	if (shared_cpu) {
		reportf(true, "%s: %lu interrupts arrived, sharing the CPU", what, events);
		return;
	}
	u64 expected = events * tsc_hz / hz;
	reportf(within_tolerance(tsc_ticks, expected), "%s: %lu interrupts in %lu TSC ticks "
		"(expected %lu, within %d%%)", what, events, tsc_ticks, expected,
		RATE_TOLERANCE_PERCENT);
	reportf(halts >= events, "%s: HLT slept until each interrupt (%u HLTs returned)", what,
		halts);
}

static void test_pit_through_pic(void)
{
	unsigned halts;
	irq_set_handler(VECTOR_PIC_BASE, pic_eoi);
	pic_init(0xfe);			/* IRQ 0 only */
	pit_periodic(1000);
	wait_for_interrupts(VECTOR_PIC_BASE, 1, &halts);	/* in phase */
	u64 ticks = wait_for_interrupts(VECTOR_PIC_BASE, TICKS, &halts);
	check_rate("PIT through the 8259", ticks, TICKS, 1000, halts);

	outb(PIC_MASTER + 1, 0xff);	/* masked: nothing more arrives */
	u64 before = irq_counts[VECTOR_PIC_BASE];
	for (u64 end = rdtsc() + tsc_hz / 200; rdtsc() < end;)
		(void)inb(PIC_MASTER + 1);	/* exits, so timers run on every CPU model */
	reportf(irq_counts[VECTOR_PIC_BASE] == before, "a masked IRQ 0 is not delivered");
}

static void ioapic_route(unsigned pin, u32 low)
{
	mmio_write32(IOAPIC_BASE, IOAPIC_REDIRECTION(pin) + 1);
	mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, 0);	/* destination: APIC ID 0 */
	mmio_write32(IOAPIC_BASE, IOAPIC_REDIRECTION(pin));
	mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, low);
}

/* Interrupts also come while the guest computes without exits: the platform ends its
 * run at each timer deadline. */
static void test_interrupts_while_busy(unsigned vector, u64 hz)
{
	if (shared_cpu) {
		report_skip("interrupts while computing: the CPU is shared");
		return;
	}
	u64 before = irq_counts[vector], busy = tsc_hz / 50;	/* 20 ms */
	for (u64 start = rdtsc(); rdtsc() - start < busy;)
		;
	u64 got = irq_counts[vector] - before, expected = busy * hz / tsc_hz;
	/* One may have been waiting already, and the window need not start on a tick. */
	reportf(got + 1 >= expected && got <= expected + 2, "%lu interrupts during %lu TSC "
		"ticks of computing without exits (expected %lu)", got, busy, expected);
}

static void test_pit_through_ioapic(void)
{
	unsigned halts;
	irq_set_handler(VECTOR_IOAPIC_PIT, apic_eoi);
	ioapic_route(2, VECTOR_IOAPIC_PIT);	/* the MADT's override of IRQ 0 */
	pit_periodic(1000);
	wait_for_interrupts(VECTOR_IOAPIC_PIT, 1, &halts);
	u64 ticks = wait_for_interrupts(VECTOR_IOAPIC_PIT, TICKS, &halts);
	check_rate("PIT through the I/O APIC", ticks, TICKS, 1000, halts);
	test_interrupts_while_busy(VECTOR_IOAPIC_PIT, 1000);
	ioapic_route(2, IOAPIC_MASKED | VECTOR_IOAPIC_PIT);
}

static void rtc_ack(unsigned vector, u64 rip)
{
	outb(RTC_INDEX, RTC_REG_C);
	(void)inb(RTC_DATA);
	apic_write(APIC_EOI, 0);
}

static void test_rtc_periodic(void)
{
	unsigned halts;
	irq_set_handler(VECTOR_IOAPIC_RTC, rtc_ack);
	ioapic_route(8, VECTOR_IOAPIC_RTC);
	outb(RTC_INDEX, RTC_REG_A);
	outb(RTC_DATA, RTC_A_1024HZ);
	outb(RTC_INDEX, RTC_REG_B);
	u8 b = inb(RTC_DATA);
	outb(RTC_INDEX, RTC_REG_B);
	outb(RTC_DATA, b | RTC_B_PIE);
	/* The periodic flag was set already, so the first interrupt comes as PIE is set,
	 * off the rate's grid: measure from the second. */
	wait_for_interrupts(VECTOR_IOAPIC_RTC, 2, &halts);
	u64 ticks = wait_for_interrupts(VECTOR_IOAPIC_RTC, TICKS, &halts);
	check_rate("RTC periodic interrupt (1024 Hz)", ticks, TICKS, 1024, halts);
	outb(RTC_INDEX, RTC_REG_B);
	outb(RTC_DATA, b);
	ioapic_route(8, IOAPIC_MASKED | VECTOR_IOAPIC_RTC);
}

static u32 apic_timer_current(void)
{
	return apic_read(APIC_TIMER_CURRENT);
}

/* The APIC timer's rate as the guest would calibrate it: its count against the TSC. */
static u64 measure_apic_timer_hz(void)
{
	apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_APIC_TIMER);
	apic_write(APIC_TIMER_INITIAL, 0xffffffffu);
	struct clock_reading start = read_against_tsc(apic_timer_current), end;
	do
		end = read_against_tsc(apic_timer_current);
	while (end.tsc - start.tsc < tsc_hz / 100);
	apic_write(APIC_TIMER_INITIAL, 0);
	return (u64)(start.value - end.value) * tsc_hz / (end.tsc - start.tsc);
}

static void test_apic_timer(void)
{
	unsigned halts;
	irq_set_handler(VECTOR_APIC_TIMER, apic_eoi);
	u64 apic_hz = measure_apic_timer_hz();
	reportf(apic_hz > 1000000, "the APIC timer counts (%lu Hz)", apic_hz);

	apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | VECTOR_APIC_TIMER);
	apic_write(APIC_TIMER_INITIAL, (u32)(apic_hz / 1000));
	wait_for_interrupts(VECTOR_APIC_TIMER, 1, &halts);
	u64 ticks = wait_for_interrupts(VECTOR_APIC_TIMER, TICKS, &halts);
	check_rate("APIC timer, periodic", ticks, TICKS, 1000, halts);
	apic_write(APIC_TIMER_INITIAL, 0);		/* stopped */
	drain_interrupts();

	apic_write(APIC_LVT_TIMER, VECTOR_APIC_TIMER);	/* one-shot */
	u64 before = irq_counts[VECTOR_APIC_TIMER];
	apic_write(APIC_TIMER_INITIAL, (u32)(apic_hz / 1000));
	wait_for_count(VECTOR_APIC_TIMER, ++before);
	for (u64 end = rdtsc() + tsc_hz / 200; rdtsc() < end;)
		(void)apic_read(APIC_TIMER_CURRENT);
	reportf(irq_counts[VECTOR_APIC_TIMER] == before && apic_read(APIC_TIMER_CURRENT) == 0,
		"APIC timer, one-shot: fires once, then reads 0");

	if (!(cpuid(1).ecx & CPUID_1_ECX_TSC_DEADLINE)) {
		report_skip("APIC timer, TSC deadline: not in CPUID");
		return;
	}
	apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | VECTOR_APIC_TIMER);
	before = irq_counts[VECTOR_APIC_TIMER];
	u64 deadline = rdtsc() + tsc_hz / 500;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	wait_for_count(VECTOR_APIC_TIMER, before + 1);
	u64 arrived = rdtsc();
	/* Sharing the CPU, the other VMs' exits (and Vireo's console output) add latency. */
	reportf(arrived >= deadline && (shared_cpu || arrived - deadline < tsc_hz / 1000),
		"APIC timer, TSC deadline: fires at its deadline (%lu ticks late)",
		arrived - deadline);
	reportf(rdmsr(MSR_TSC_DEADLINE) == 0, "IA32_TSC_DEADLINE reads 0 once it fired");
}

/* The self IPI is pending while IF is 0; STI's shadow covers CPUID, which exits: once
 * Vireo skipped it the shadow is over, so the interrupt arrives before the next
 * instruction, as on hardware. */
static volatile u64 self_ipi_rip;

static void note_rip(unsigned vector, u64 rip)
{
	self_ipi_rip = rip;
	apic_write(APIC_EOI, 0);
}

static void test_sti_shadow(void)
{
	u64 after_cpuid;
	irq_set_handler(VECTOR_SELF_IPI, note_rip);
	irq_disable();
	apic_write(APIC_ICR_LOW, APIC_ICR_SELF | VECTOR_SELF_IPI);
	asm volatile("lea 1f(%%rip), %0\n\t"
		     "sti\n\t"
		     "cpuid\n"
		     "1:\tnop"
		     : "=&r"(after_cpuid) : "a"(0), "c"(0) : "rbx", "rdx", "memory");
	reportf(self_ipi_rip == after_cpuid, "STI's shadow ends with the instruction Vireo "
		"skipped: the interrupt arrives right after CPUID (rip %#lx, expected %#lx)",
		self_ipi_rip, after_cpuid);
}

/* TF set before CPUID: the single-step #DB comes right after it, with DR6.BS. */
extern const char after_single_step[];

static void test_single_step(void)
{
	int vector = catch_exception(asm volatile(
		"pushfq\n\t"
		"orq $0x100, (%%rsp)\n\t"
		"popfq\n\t"
		"cpuid\n"
		".global after_single_step\n"
		"after_single_step:\n\t"
		"pushfq\n\t"
		"andq $~0x100, (%%rsp)\n\t"
		"popfq"
		: : "a"(0), "c"(0) : "rbx", "rdx", "memory"));
	u64 dr6;
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	reportf(vector == 1 && last_exception.rip == (u64)after_single_step && (dr6 & (1 << 14)),
		"TF over CPUID: #DB after it with DR6.BS (vector %d, rip %#lx, dr6 %#lx)", vector,
		last_exception.rip, dr6);
}

/* CR8 is the APIC's task priority (SDM Vol. 3A 11.8.6): it blocks the lower classes. */
static void note_interrupt(unsigned vector, u64 rip)
{
	apic_write(APIC_EOI, 0);
}

static void test_cr8_is_tpr(void)
{
	irq_set_handler(VECTOR_APIC_TIMER, note_interrupt);
	irq_enable();		/* a caught exception leaves them off (no IRET) */
	asm volatile("mov %0, %%cr8" : : "r"(5ul));
	u64 cr8;
	asm volatile("mov %%cr8, %0" : "=r"(cr8));
	reportf(cr8 == 5 && apic_read(0x80) == 0x50, "CR8 is TPR[7:4] (CR8 %lu, TPR %#x)", cr8,
		apic_read(0x80));
	u64 before = irq_counts[VECTOR_APIC_TIMER];
	apic_write(APIC_ICR_LOW, APIC_ICR_SELF | VECTOR_APIC_TIMER);	/* class 4 < 5 */
	drain_interrupts();
	u64 held = irq_counts[VECTOR_APIC_TIMER] - before;
	asm volatile("mov %0, %%cr8" : : "r"(0ul));
	drain_interrupts();
	u64 released = irq_counts[VECTOR_APIC_TIMER] - before;
	reportf(held == 0 && released == 1, "CR8 = 5 holds back vector %#x until CR8 = 0 "
		"(%lu delivered while held, %lu after)", VECTOR_APIC_TIMER, held, released);
}

/* A fault Vireo injects (#GP for an MSR that does not exist) pushes RFLAGS with RF set. */
static void test_fault_sets_rf(void)
{
	int vector = catch_exception((void)rdmsr(0x12345678u));
	reportf(vector == GP_VECTOR && (last_exception.rflags & (1u << 16)),
		"an injected #GP pushes RFLAGS with RF (vector %d, rflags %#lx)", vector,
		last_exception.rflags);
}

/* DR7 is the guest's across exits (VMX clears the CPU's at every exit). */
static void test_dr7_survives_exits(void)
{
	u64 dr7 = 0x402, seen;		/* G0: a breakpoint enabled, on DR0 = 0 */
	asm volatile("mov %0, %%dr0\n\tmov %1, %%dr7" : : "r"(0ul), "r"(dr7));
	(void)cpuid(0);			/* an exit */
	asm volatile("mov %%dr7, %0" : "=r"(seen));
	asm volatile("mov %0, %%dr7" : : "r"(0x400ul));
	reportf(seen == dr7, "DR7 is kept across an exit (wrote %#lx, read %#lx)", dr7, seen);
}

static void test_self_nmi(void)
{
	int vector = catch_exception({
		apic_write(APIC_ICR_LOW, APIC_ICR_SELF | APIC_ICR_NMI);
		for (int i = 0; i < 100; i++)
			asm volatile("pause");
	});
	reportf(vector == 2, "an NMI sent to self arrives (vector %d)", vector);
}

int main(const struct multiboot_info *mbi)
{
	shared_cpu = cmdline_has_word(mb_cmdline(mbi), "shared");
	irq_enable();
	/* "nmi-only": the self-NMI first and alone. The VM ends blocked by that NMI (the
	 * catch leaves its handler without IRET), so a second such VM checks that the next
	 * VM entered does not inherit the blocking. */
	if (cmdline_has_word(mb_cmdline(mbi), "nmi-only")) {
		test_self_nmi();
		return 0;
	}
	tsc_hz = measure_tsc_hz();
	printf("guest TSC: %lu Hz\n", tsc_hz);
	test_pit_through_pic();
	pic_init(0xff);
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE);
	test_pit_through_ioapic();
	test_rtc_periodic();
	test_apic_timer();
	test_sti_shadow();
	test_single_step();
	test_cr8_is_tpr();
	test_fault_sets_rf();
	test_dr7_survives_exits();
	test_self_nmi();
	return 0;
}
