/* demo: the guest `make run` shows: a short greeting with what it sees of its VM, a count to
 * three with the VM's exit counter, then a clean exit. */
#include "tests/guests/lib/guest.h"

#define DEMO_COUNT 3

int main(const struct multiboot_info *mbi)
{
	const char *cmdline = mb_cmdline(mbi);
	char vendor[13], signature[13];

	cpuid_vendor(vendor);
	cpuid_hypervisor_signature(signature);
	printf("Hello from a Vireo guest!\n");
	printf("  command line: \"%s\"\n", cmdline);
	printf("  RAM: %u MiB\n", (mb_mem_upper_kib(mbi) >> 10) + 1);
	printf("  CPU vendor: %s, hypervisor: %s\n", vendor, signature);
	for (int i = 1; i <= DEMO_COUNT; i++)
		printf("  %d... (VM exits so far: %ld)\n", i, hc_stat_read(HC_STAT_EXITS));
	printf("Goodbye!\n");
	debug_exit(EXIT_STATUS_SUCCESS);
}
