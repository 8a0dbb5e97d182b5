/* The 64-bit test guests' page tables: lookups for tests that change a mapping, and 4 KiB
 * mappings above the identity map built from a small pool of table pages. */
#include "tests/guests/lib/paging.h"
#include "tests/guests/lib/x86.h"
#include "lib/string.h"

#define ENTRIES_PER_TABLE 512
#define PAGING_LEVELS 4
#define TABLE_POOL_PAGES 8
#define PTE_ADDRESS_MASK 0x000ffffffffff000ull

static u64 table_pool[TABLE_POOL_PAGES][ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static unsigned table_pool_used;

static unsigned table_index(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) % ENTRIES_PER_TABLE;
}

/* Identity mapping: a table's physical address is its pointer. */
static u64 *entry_table(u64 entry)
{
	return (u64 *)(uintptr_t)(entry & PTE_ADDRESS_MASK);
}

static u64 *new_table(void)
{
	if (table_pool_used == TABLE_POOL_PAGES)
		return NULL;
	return table_pool[table_pool_used++];
}

u64 *pte_lookup(u64 va, int *level)
{
	u64 *table = (u64 *)(uintptr_t)(read_cr3() & PTE_ADDRESS_MASK);

	for (int l = PAGING_LEVELS; l >= PAGE_LEVEL_4K; l--) {
		u64 *entry = &table[table_index(va, l)];

		if (!(*entry & PTE_PRESENT))
			return NULL;
		if (l == PAGE_LEVEL_4K || (l <= PAGE_LEVEL_2M && (*entry & PTE_LARGE))) {
			*level = l;
			return entry;
		}
		table = entry_table(*entry);
	}
	return NULL;
}

bool map_page(u64 va, u64 pa, u64 flags)
{
	u64 *table = (u64 *)(uintptr_t)(read_cr3() & PTE_ADDRESS_MASK);

	for (int l = PAGING_LEVELS; l > PAGE_LEVEL_4K; l--) {
		u64 *entry = &table[table_index(va, l)];

		if (!(*entry & PTE_PRESENT)) {
			u64 *next = new_table();

			if (!next)
				return false;
			*entry = (uintptr_t)next | PTE_PRESENT | PTE_WRITABLE;
		}
		table = entry_table(*entry);
	}
	table[table_index(va, PAGE_LEVEL_4K)] = (pa & PTE_ADDRESS_MASK) | flags | PTE_PRESENT;
	invlpg(va);
	return true;
}
