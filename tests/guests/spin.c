/* spin: a guest that keeps the CPU: interrupts off, a loop with no exits, forever. The
 * scheduler's slices and the VM's timeout= must still let the other VMs run and end it. */
#include "tests/guests/lib/guest.h"

int main(const struct multiboot_info *mbi)
{
	printf("spinning with interrupts off\n");
	asm volatile("cli\n1:\tjmp 1b");
	return 1;
}
