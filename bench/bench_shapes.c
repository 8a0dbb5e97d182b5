/*
 * bench_shapes: the exit costs of bench_exits and bench_mmio again, from the shape of a
 * guest we did not write (issue 10): 64-bit with paging on, its local APIC enabled and its
 * timer interrupting periodically (at TIMER_HZ), interrupts enabled throughout, each
 * operation a function call, MMIO at offset 0 of a page as well as inside it. Names end
 * in "_apic" so each compares with its row from the plain shape. The timer's interrupts
 * land in the timed loops as they would in any guest (the best of three loops is kept).
 */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/irq.h"

#define APIC_EOI 0x0b0
#define APIC_SPIV 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_SPIV_ENABLE 0x1ff
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_DIVIDE_BY_1 0xb
#define VECTOR_APIC_TIMER 0x40
#define TIMER_HZ 250
#define PM_TIMER_PORT 0x608
#define PM_TIMER_MASK 0xffffffu
/* The PM-timer loop: reads until this many TSC ticks have passed (a busy-wait delay, as
 * kernels calibrate or wait with it). */
#define PM_WAIT_TSC_TICKS (1ull << 24)
#define CACHED_PAGE (TESTDEV_MMIO_BASE + 0x1000)
#define DOORBELL (VIREO_TESTDEV_BASE + VIREO_TESTDEV_DOORBELL)

static void apic_write(u32 reg, u32 value)
{
	mmio_write32(XAPIC_BASE + reg, value);
}

static void timer_tick(unsigned vector, u64 rip)
{
	apic_write(APIC_EOI, 0);
}

/* The LAPIC's timer, periodic at TIMER_HZ: it counts at the TSC's rate, which CPUID leaf
 * 0x15 reports (ECX; the models bench/run uses have the leaf). */
static void start_apic_timer(void)
{
	irq_set_handler(VECTOR_APIC_TIMER, timer_tick);
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE);
	apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | VECTOR_APIC_TIMER);
	apic_write(APIC_TIMER_INITIAL, (u32)(cpuid(0x15).ecx / TIMER_HZ));
	irq_enable();
}

static void op_cpuid(unsigned i) { cpuid(0); }
static void op_vmcall(unsigned i) { hc_stat_read(HC_STAT_EXITS); }
static void op_vmcall_cpuid(unsigned i)
{
	hc_stat_read(HC_STAT_EXITS);
	cpuid(0);
}
static void op_in_uart_lsr(unsigned i) { inb(COM1_PORT + UART_LSR); }
static void op_pm_timer(unsigned i) { inl(PM_TIMER_PORT); }
static void op_mmio_page_start(unsigned i) { mmio_write32(CACHED_PAGE, i); }
static void op_mmio_in_page(unsigned i) { mmio_write32(CACHED_PAGE + 0x100, i); }
static void op_doorbell(unsigned i) { mmio_write32(DOORBELL, i); }

/* Reads the PM timer until PM_WAIT_TSC_TICKS have passed: ticks per read. */
static void pm_timer_wait(void)
{
	u64 start = rdtsc(), reads = 0;
	while (rdtsc() - start < PM_WAIT_TSC_TICKS) {
		inl(PM_TIMER_PORT);
		reads++;
	}
	bench_report("pm_timer_wait_apic", rdtsc() - start, (unsigned)reads);
}

int main(const struct multiboot_info *mbi)
{
	start_apic_timer();
	mmio_read32(CACHED_PAGE);
	mmio_read32(CACHED_PAGE + 0x100);
	bench_run("cpuid_apic", op_cpuid, BENCH_ITERATIONS, true);
	bench_run("vmcall_apic", op_vmcall, BENCH_ITERATIONS, true);
	bench_run("vmcall_cpuid_apic", op_vmcall_cpuid, BENCH_ITERATIONS, true);
	bench_run("pio_in_apic", op_in_uart_lsr, BENCH_ITERATIONS, true);
	bench_run("pm_timer_apic", op_pm_timer, BENCH_ITERATIONS, true);
	bench_run("mmio_cached_apic", op_mmio_in_page, BENCH_ITERATIONS, true);
	bench_run("mmio_cached_page_start_apic", op_mmio_page_start, BENCH_ITERATIONS, true);
	bench_run("doorbell_apic", op_doorbell, BENCH_ITERATIONS, true);
	pm_timer_wait();
	irq_disable();
	bench_report("timer_interrupts_apic", irq_counts[VECTOR_APIC_TIMER], 1);
	return 0;
}
