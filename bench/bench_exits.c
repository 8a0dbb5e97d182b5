/* bench_exits: the cost of the exits every guest takes: CPUID, VMCALL, port I/O. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

/* No device of Vireo's platform decodes this port: an OUT there is the bare I/O exit. */
#define UNASSIGNED_PORT 0x3e0

static void op_cpuid(unsigned i)
{
	cpuid(0);
}

static void op_vmcall(unsigned i)
{
	hc_stat_read(HC_STAT_EXITS);
}

static void op_out_unassigned(unsigned i)
{
	outb(UNASSIGNED_PORT, (u8)i);
}

static void op_in_uart_lsr(unsigned i)
{
	inb(COM1_PORT + UART_LSR);
}

int main(const struct multiboot_info *mbi)
{
	bench_run("cpuid", op_cpuid, BENCH_ITERATIONS, true);
	bench_run("vmcall", op_vmcall, BENCH_ITERATIONS, true);
	bench_run("pio_out", op_out_unassigned, BENCH_ITERATIONS, true);
	bench_run("pio_in", op_in_uart_lsr, BENCH_ITERATIONS, true);
	return 0;
}
