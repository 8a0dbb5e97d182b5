/* Maps all RAM with the host page tables, then hands it to the page allocator minus what
 * must survive: the image, the multiboot information (strings point into it) and the
 * guest modules. */
#include "arch/x86/x86.h"
#include "boot/boot.h"
#include "lib/page_alloc.h"
#include "lib/panic.h"

extern char __image_start[], __image_end[];

static struct mem_range ram[BOOTINFO_MAX_MEMMAP];
static struct mem_range reserved[BOOTINFO_MAX_MODULES + 2];

static size_t collect_ram(const struct boot_info *bi)
{
	size_t n = 0;
	for (size_t i = 0; i < bi->nmemmap; i++) {
		const struct memmap_entry *e = &bi->memmap[i];
		if (e->type == MEM_RAM)
			ram[n++] = (struct mem_range){ e->base, e->base + e->length };
	}
	return n;
}

static size_t collect_reserved(const struct boot_info *bi)
{
	size_t n = 0;
	reserved[n++] = (struct mem_range){ (u64)__image_start, (u64)__image_end };
	reserved[n++] = (struct mem_range){ bi->mbi_start_hpa, bi->mbi_end_hpa };
	for (size_t i = 0; i < bi->nmodules; i++)
		reserved[n++] = (struct mem_range){ bi->modules[i].start_hpa, bi->modules[i].end_hpa };
	return n;
}

void memory_init(const struct boot_info *bi)
{
	size_t nram = collect_ram(bi);
	size_t nreserved = collect_reserved(bi);
	host_paging_init(ram, nram);
	const char *error = page_alloc_init(ram, nram, reserved, nreserved);
	if (error)
		boot_fail("page allocator: %s", error);
}
