/* uart: the 16550 at COM1 as guests use it: output lines (checked on the host log) and the
 * registers a driver programs: LSR, SCR, LCR, the divisor latch and IIR. */
#include "tests/guests/lib/guest.h"

#define UART_OUTPUT_LINES 3
#define UART_DIVISOR_9600 12

static u8 uart_in(unsigned reg)
{
	return inb(COM1_PORT + reg);
}

static void uart_out(unsigned reg, u8 v)
{
	outb(COM1_PORT + reg, v);
}

static void print_lines(void)
{
	for (int i = 1; i <= UART_OUTPUT_LINES; i++)
		printf("uart line %d of %d: the quick brown fox jumps over the lazy dog\n", i,
		       UART_OUTPUT_LINES);
}

static void check_lsr(void)
{
	u8 lsr = uart_in(UART_LSR);

	reportf(lsr & UART_LSR_THRE, "LSR THRE (bit 5) is set (LSR %#x)", lsr);
	reportf(lsr & UART_LSR_TEMT, "LSR TEMT (bit 6) is set (LSR %#x)", lsr);
}

static void check_scratch(void)
{
	static const u8 patterns[] = { 0xa5, 0x5a, 0x00, 0xff };
	bool ok = true;

	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++) {
		uart_out(UART_SCR, patterns[i]);
		ok &= uart_in(UART_SCR) == patterns[i];
	}
	report("SCR round trip (0xa5, 0x5a, 0x00, 0xff)", ok);
}

static void check_lcr(void)
{
	static const u8 seven_bits_even_parity_two_stops = 0x1e;
	u8 got;

	uart_out(UART_LCR, seven_bits_even_parity_two_stops);
	got = uart_in(UART_LCR);
	uart_out(UART_LCR, UART_LCR_8N1);
	reportf(got == seven_bits_even_parity_two_stops, "LCR round trip (wrote %#x, read %#x)",
		seven_bits_even_parity_two_stops, got);
	reportf(uart_in(UART_LCR) == UART_LCR_8N1, "LCR restored to 8N1");
}

static void check_divisor_latch(void)
{
	u8 low, high;

	uart_out(UART_LCR, UART_LCR_8N1 | UART_LCR_DLAB);
	uart_out(UART_DLL, UART_DIVISOR_9600);
	uart_out(UART_DLM, 0x01);
	low = uart_in(UART_DLL);
	high = uart_in(UART_DLM);
	uart_out(UART_DLL, 1);
	uart_out(UART_DLM, 0);
	uart_out(UART_LCR, UART_LCR_8N1);
	reportf(low == UART_DIVISOR_9600 && high == 0x01,
		"divisor latch round trip with DLAB set (read DLL %#x, DLM %#x)", low, high);
	/* With DLAB clear again, offset 1 is IER, which we left at 0. */
	reportf(uart_in(UART_IER) == 0, "IER reads 0 after DLAB is cleared");
}

static void check_iir(void)
{
	u8 iir = uart_in(UART_IIR);

	reportf(iir == UART_IIR_NO_INTERRUPT, "IIR reads %#x: no interrupt pending, FIFOs off "
		"(got %#x)", UART_IIR_NO_INTERRUPT, iir);
}

int main(const struct multiboot_info *mbi)
{
	print_lines();
	check_lsr();
	check_scratch();
	check_lcr();
	check_divisor_latch();
	check_iir();
	printf("uart: output still works after reprogramming\n");
	exit_test();
}
