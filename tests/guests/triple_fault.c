/* triple_fault: loads an IDT with limit 0 and raises #UD. Delivering it faults (#GP), so
 * does delivering that (#DF), and the CPU shuts down: a triple fault. The host must stop
 * this VM, say so, and go on with the next one. */
#include "tests/guests/lib/guest.h"

struct empty_idtr {
	u16 limit;
	u64 base;
} __packed;

int main(const struct multiboot_info *mbi)
{
	static const struct empty_idtr idtr = { 0, 0 };

	printf("triple_fault: loading an empty IDT and raising #UD\n");
	asm volatile("lidt %0; ud2" : : "m"(idtr));
	report("the triple fault stopped the VM", false);
	exit_test();
}
