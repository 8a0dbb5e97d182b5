/* ram_check: every page of guest RAM above the image is distinct memory. Writes a pattern
 * made from each page's address into its first and last quadword, then reads every page
 * back: RAM built from many host blocks (fragmented host memory) must map each gpa to its
 * own host page, with nothing lost or aliased at the blocks' seams. */
#include "tests/guests/lib/guest.h"

#define FIRST_CHECKED_GPA MiB(4)	/* above the image, its stack and page tables */
#define LAST_QWORD (PAGE_SIZE / sizeof(u64) - 1)

static u64 pattern(u64 gpa, unsigned which)
{
	return (gpa * 0x9e3779b97f4a7c15ull) ^ which;
}

int main(const struct multiboot_info *mbi)
{
	u64 ram_end = MiB(1) + KiB(mb_mem_upper_kib(mbi));
	if (ram_end > IDENTITY_MAP_END)
		ram_end = IDENTITY_MAP_END;
	for (u64 gpa = FIRST_CHECKED_GPA; gpa < ram_end; gpa += PAGE_SIZE) {
		volatile u64 *page = (volatile u64 *)(uintptr_t)gpa;
		page[0] = pattern(gpa, 0);
		page[LAST_QWORD] = pattern(gpa, 1);
	}
	u64 bad = 0, first_bad = 0;
	for (u64 gpa = FIRST_CHECKED_GPA; gpa < ram_end; gpa += PAGE_SIZE) {
		volatile u64 *page = (volatile u64 *)(uintptr_t)gpa;
		if (page[0] != pattern(gpa, 0) || page[LAST_QWORD] != pattern(gpa, 1))
			first_bad = bad++ ? first_bad : gpa;
	}
	reportf(bad == 0, "%lu pages from %#lx to %#lx each hold what was written to them "
		"(%lu wrong, the first at %#lx)", (u64)((ram_end - FIRST_CHECKED_GPA) / PAGE_SIZE),
		(u64)FIRST_CHECKED_GPA, ram_end, bad, first_bad);
	exit_test();
}
