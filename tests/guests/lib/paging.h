/* The 64-bit test guests' own page tables: the first 4 GiB identity-mapped with 2 MiB pages
 * (lib/tables64.S), plus 4 KiB mappings a test adds above 4 GiB. */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include "lib/types.h"

#define IDENTITY_MAP_END GiB(4)
#define PAGE_LEVEL_4K 1
#define PAGE_LEVEL_2M 2

/* The leaf entry that maps va and its level, or NULL when va is not mapped. */
u64 *pte_lookup(u64 va, int *level);
/* Maps the 4 KiB page at va (above IDENTITY_MAP_END) to pa with flags PTE_*; false when
 * the pool of page-table pages is used up. Flushes the TLB entry. */
bool map_page(u64 va, u64 pa, u64 flags);

#endif
