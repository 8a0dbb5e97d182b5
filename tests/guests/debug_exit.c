/* debug_exit: stops the VM through isa-debug-exit with the status its command line names
 * ("status=N", default 0; "width=1" for an 8-bit write instead of 32-bit), so the host can
 * be checked to report that status. */
#include "tests/guests/lib/guest.h"

int main(const struct multiboot_info *mbi)
{
	const char *cmdline = mb_cmdline(mbi);
	u64 status = 0, width = 4;

	cmdline_get_u64(cmdline, "status", &status);
	cmdline_get_u64(cmdline, "width", &width);
	printf("debug_exit: writing status %u to port %#x (%u-byte write)\n", (u32)status,
	       DEBUG_EXIT_PORT, (u32)width);
	if (width == 1)
		outb(DEBUG_EXIT_PORT, (u8)status);
	else
		outl(DEBUG_EXIT_PORT, (u32)status);
	report("the debug-exit write stopped the VM", false);
	exit_test();
}
