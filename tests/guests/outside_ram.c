/* outside_ram: reads and writes guest-physical addresses that are in no RAM slot and no
 * device: below the MMIO devices (3 GiB), just past the end of RAM, past it by some MiB, and
 * above 4 GiB. Such accesses must read all-ones (unassigned MMIO, writes ignored), or the
 * hypervisor may stop the VM cleanly; either way it must survive. */
#include "tests/guests/lib/guest.h"

#define BELOW_MMIO_GPA 0xc0000000ull	/* 3 GiB */
#define PAST_RAM_GAP MiB(16)
#define ABOVE_4G_GPA 0x1000000000ull	/* 64 GiB */
#define ABOVE_4G_VA 0x0000010000000000ull	/* PML4 entry 2, mapped for this test */
#define ALL_ONES_32 0xffffffffu
#define WRITE_PATTERN 0x12345678u

static void probe(const char *what, uintptr_t va, u64 gpa)
{
	u32 before, after;

	printf("outside_ram: touching %s (gpa %#lx)\n", what, gpa);
	before = mmio_read32(va);
	mmio_write32(va, WRITE_PATTERN);
	after = mmio_read32(va);
	printf("outside_ram: read %#x, wrote %#x, read %#x\n", before, WRITE_PATTERN, after);
	reportf(before == ALL_ONES_32 && after == ALL_ONES_32,
		"%s reads all-ones and ignores writes", what);
}

int main(const struct multiboot_info *mbi)
{
	u32 upper_kib = mb_mem_upper_kib(mbi);
	u64 ram_end = MiB(1) + KiB(upper_kib);

	printf("outside_ram: RAM ends at %#lx (mem_upper %u KiB)\n", ram_end, upper_kib);
	if (!upper_kib) {
		report("the loader gave mem_upper", false);
		exit_test();
	}
	probe("3 GiB, below the MMIO devices", BELOW_MMIO_GPA, BELOW_MMIO_GPA);
	probe("the first byte past RAM", ram_end, ram_end);
	probe("16 MiB past the end of RAM", ram_end + PAST_RAM_GAP, ram_end + PAST_RAM_GAP);
	if (!map_page(ABOVE_4G_VA, ABOVE_4G_GPA, PTE_WRITABLE | PTE_PCD | PTE_PWT)) {
		report("mapping a page above 4 GiB", false);
		exit_test();
	}
	probe("64 GiB", ABOVE_4G_VA, ABOVE_4G_GPA);
	exit_test();
}
