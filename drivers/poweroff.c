/* Ending a run: the exit= option picks how, so emulators report success or failure to the
 * test runner as distinct exit statuses (see ../shared/notes/emulators.md). */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"

#define BOCHS_SHUTDOWN_PORT 0x8900	/* Bochs: writing "Shutdown" here ends the run */
#define QEMU_DEBUG_EXIT_PORT 0xf4	/* isa-debug-exit: QEMU exits with (value << 1) | 1 */

static void bochs_exit(bool success)
{
	if (success) {
		/* Magic breakpoint: the debugger rc file resumes into "quit", status 0. */
		asm volatile("xchg %%bx, %%bx" ::: "memory");
		return;
	}
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
}

void machine_exit(enum exit_method method, bool success)
{
	irq_disable();
	uart_console_flush();
	switch (method) {
	case EXIT_BOCHS:
		bochs_exit(success);
		break;
	case EXIT_QEMU:
		outl(QEMU_DEBUG_EXIT_PORT, success ? 0 : 1);
		break;
	case EXIT_ACPI:
		acpi_power_off();
		break;
	case EXIT_HALT:
		break;
	}
	halt_forever();
}
