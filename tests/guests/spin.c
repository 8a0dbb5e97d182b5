/* spin: a guest that keeps the CPU: a loop with no exits, forever, with interrupts off (or
 * on, given "interrupts-on" on its command line). The scheduler's slices and the VM's
 * timeout= must still let the other VMs run and end it. */
#include "tests/guests/lib/guest.h"

int main(const struct multiboot_info *mbi)
{
	if (cmdline_has_word(mb_cmdline(mbi), "interrupts-on")) {
		printf("spinning with interrupts on\n");
		asm volatile("sti\n1:\tjmp 1b");
	}
	printf("spinning with interrupts off\n");
	asm volatile("cli\n1:\tjmp 1b");
	return 1;
}
