/* Physical page allocator: a buddy allocator over the host-physical pages of usable RAM,
 * handing out naturally aligned runs of 2^order pages (up to 1 GiB) in O(log n). */
#ifndef VIREO_LIB_PAGE_ALLOC_H
#define VIREO_LIB_PAGE_ALLOC_H

#include "lib/types.h"

/*
 * Locking: one spinlock serialises the allocator, so any CPU may call it, but no interrupt
 * or NMI handler may: it could interrupt the lock's holder on its own CPU and deadlock.
 */

/*
 * Largest block order. Order 18 is 2^18 pages = 1 GiB, so large guest RAM comes in runs
 * that the MMU can map with 2 MiB and 1 GiB pages (natural alignment comes for free).
 */
#define PAGE_ORDER_MAX 18u
#define PAGE_ORDER_2M 9u
#define PAGE_ORDER_1G 18u
_Static_assert(PAGE_ORDER_MAX >= PAGE_ORDER_1G, "1 GiB blocks must be available");

/* A range of physical addresses in bytes: [start, end). */
struct mem_range {
	u64 start;
	u64 end;
};

/*
 * Takes over the pages of `ram` minus those of `reserved` (the hypervisor image, the
 * modules, the multiboot information, ... ; reserved ranges may overlap RAM or each other
 * arbitrarily and need no alignment: any page they touch is withheld). Only whole pages
 * inside a RAM range are used, and never anything below 1 MiB. The allocator's metadata
 * (one byte per page of the span from the lowest to the highest RAM page) is placed in
 * that free RAM and withheld too. Every RAM page must be reachable through
 * phys_to_virt(). May be called again to start over (host tests do).
 * Returns NULL, or a message saying why no allocator could be set up.
 */
const char *page_alloc_init(const struct mem_range *ram, size_t nram,
			    const struct mem_range *reserved, size_t nreserved);

/*
 * Returns the hpa of 2^order contiguous pages aligned to their size, or 0 when no such
 * run is free (0 is never a valid block). The contents are whatever was there before:
 * memory that a guest or another VM may see must come from page_alloc_zeroed().
 */
u64 page_alloc(unsigned int order);
u64 page_alloc_zeroed(unsigned int order);

/* Frees a block from page_alloc(); hpa and order must be exactly those of the block
 * (a block cannot be freed in parts). Anything else is a hypervisor bug and panics. */
void page_free(u64 hpa, unsigned int order);

/* The order of the allocated block that starts at hpa (panics if none starts there). */
unsigned int page_block_order(u64 hpa);

/* The smallest order whose block holds size_bytes; may exceed PAGE_ORDER_MAX. */
static inline unsigned int page_order_for_size(u64 size_bytes)
{
	u64 npages = (size_bytes >> PAGE_SHIFT) + !IS_ALIGNED(size_bytes, PAGE_SIZE);

	return npages <= 1 ? 0 : 64 - (unsigned int)__builtin_clzll(npages - 1);
}

/* Statistics, in 4 KiB pages: free now, and managed in all (free + allocated). */
u64 page_alloc_free_pages(void);
u64 page_alloc_total_pages(void);

#endif
