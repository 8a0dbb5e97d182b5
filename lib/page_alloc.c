/* Buddy allocator over host-physical pages. Block state lives in a per-page byte array
 * outside the blocks, so nothing stored in a page a guest could have written is trusted. */
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/phys.h"
#include "lib/spinlock.h"
#include "lib/string.h"

/*
 * The first MiB is never handed out. It holds the real-mode interrupt table, the BIOS data
 * areas, VGA memory and option ROMs, which firmware and SMM code may still use even where
 * the memory map calls part of it usable; pages there are also the only place for a
 * real-mode AP start-up trampoline (SIPI vectors address below 1 MiB). Keeping it out
 * also makes hpa 0 impossible, so 0 can mean "no block".
 */
#define LOW_MEMORY_END MiB(1)

/*
 * One state byte per page of the span [base_pfn, end_pfn), its high bits saying what the
 * page is and, for a block's first page, its low bits the block's order:
 * - PAGE_UNMANAGED: a hole, a reserved page, the metadata itself or below 1 MiB;
 * - BLOCK_FREE | order or BLOCK_USED | order: the first page of a block of that order;
 * - BLOCK_TAIL: any other page of a block (free or allocated).
 * PAGE_USABLE only exists inside page_alloc_init(), until the pages are carved into blocks.
 * Invariant: a block's head byte and its tail bytes always describe exactly that block,
 * and a free block of order k is on free_list[k] if and only if its head byte is
 * BLOCK_FREE | k.
 */
#define PAGE_UNMANAGED 0x00u
#define PAGE_USABLE 0x20u
#define BLOCK_TAIL 0x40u
#define BLOCK_FREE 0x80u
#define BLOCK_USED 0xc0u
#define BLOCK_ORDER_MASK 0x1fu
_Static_assert(PAGE_ORDER_MAX <= BLOCK_ORDER_MASK, "the order must fit in the state byte");

/* Links of a free block, stored in its first page (free pages belong to nobody). A link
 * is a pfn; 0 ends the list (pfn 0 is below 1 MiB, hence never a block). */
struct free_block {
	u64 next_pfn;
	u64 prev_pfn;
};

static struct {
	u64 base_pfn;
	u64 end_pfn;
	u8 *page_state;
	u64 free_list[PAGE_ORDER_MAX + 1];
	u64 free_pages;
	u64 total_pages;
} buddy;

/* Guards buddy and the free blocks' links. Taken after a slab cache's lock, not before. */
static struct spinlock buddy_lock = SPINLOCK_INIT;

static u64 pfn_down(u64 addr)
{
	return addr >> PAGE_SHIFT;
}

/* Rounds up without overflowing for addresses near 2^64. */
static u64 pfn_up(u64 addr)
{
	return (addr >> PAGE_SHIFT) + !IS_ALIGNED(addr, PAGE_SIZE);
}

static u64 pfn_to_hpa(u64 pfn)
{
	return pfn << PAGE_SHIFT;
}

static u64 block_npages(unsigned int order)
{
	return 1ull << order;
}

static bool pfn_in_span(u64 pfn)
{
	return pfn >= buddy.base_pfn && pfn < buddy.end_pfn;
}

static u8 *page_state(u64 pfn)
{
	ASSERT(pfn_in_span(pfn));
	return &buddy.page_state[pfn - buddy.base_pfn];
}

static void set_page_state(u64 first_pfn, u64 npages, u8 state)
{
	memset(page_state(first_pfn), state, npages);
}

/* The links of a free block, after checking that the state array agrees it is one: a link
 * that points anywhere else means memory corruption, so it is never followed. */
static struct free_block *free_block_links(u64 pfn, unsigned int order)
{
	ASSERT(*page_state(pfn) == (BLOCK_FREE | order));
	return phys_to_virt(pfn_to_hpa(pfn));
}

static void free_list_push(u64 pfn, unsigned int order)
{
	struct free_block *block;
	u64 old_head = buddy.free_list[order];

	*page_state(pfn) = BLOCK_FREE | order;
	block = free_block_links(pfn, order);
	block->next_pfn = old_head;
	block->prev_pfn = 0;
	if (old_head)
		free_block_links(old_head, order)->prev_pfn = pfn;
	buddy.free_list[order] = pfn;
}

static void free_list_remove(u64 pfn, unsigned int order)
{
	struct free_block *block = free_block_links(pfn, order);
	struct free_block *neighbour;

	if (block->prev_pfn) {
		neighbour = free_block_links(block->prev_pfn, order);
		ASSERT(neighbour->next_pfn == pfn);
		neighbour->next_pfn = block->next_pfn;
	} else {
		ASSERT(buddy.free_list[order] == pfn);
		buddy.free_list[order] = block->next_pfn;
	}
	if (block->next_pfn) {
		neighbour = free_block_links(block->next_pfn, order);
		ASSERT(neighbour->prev_pfn == pfn);
		neighbour->prev_pfn = block->prev_pfn;
	}
	*page_state(pfn) = BLOCK_TAIL;
}

/* Buddies are found from absolute pfns, so every block is aligned to its own size. */
static u64 buddy_pfn(u64 pfn, unsigned int order)
{
	return pfn ^ block_npages(order);
}

static bool buddy_is_free(u64 pfn, unsigned int order)
{
	u64 buddy_of = buddy_pfn(pfn, order);

	return pfn_in_span(buddy_of) && *page_state(buddy_of) == (BLOCK_FREE | order);
}

/* Puts a block whose pages are all BLOCK_TAIL back, merging it with free buddies. */
static void free_block_merge(u64 pfn, unsigned int order)
{
	while (order < PAGE_ORDER_MAX && buddy_is_free(pfn, order)) {
		free_list_remove(buddy_pfn(pfn, order), order);
		pfn = MIN(pfn, buddy_pfn(pfn, order));
		order++;
	}
	free_list_push(pfn, order);
}

/* Takes a block of exactly `order` pages, splitting a larger one if needed; 0 if none. */
static u64 take_block(unsigned int order)
{
	unsigned int found = order;
	u64 pfn;

	while (found <= PAGE_ORDER_MAX && !buddy.free_list[found])
		found++;
	if (found > PAGE_ORDER_MAX)
		return 0;
	pfn = buddy.free_list[found];
	free_list_remove(pfn, found);
	while (found > order) {
		found--;
		free_list_push(pfn + block_npages(found), found);
	}
	return pfn;
}

u64 page_alloc(unsigned int order)
{
	u64 pfn;

	if (order > PAGE_ORDER_MAX)
		return 0;
	spin_lock(&buddy_lock);
	pfn = take_block(order);
	if (pfn) {
		*page_state(pfn) = BLOCK_USED | order;
		buddy.free_pages -= block_npages(order);
	}
	spin_unlock(&buddy_lock);
	return pfn_to_hpa(pfn);
}

u64 page_alloc_zeroed(unsigned int order)
{
	u64 hpa = page_alloc(order);

	if (hpa)
		memset(phys_to_virt(hpa), 0, block_npages(order) * PAGE_SIZE);
	return hpa;
}

/* Checks that hpa is the head of an allocated block and returns that block's state. */
static u8 used_block_state(u64 hpa)
{
	u64 pfn = pfn_down(hpa);

	ASSERT(IS_ALIGNED(hpa, PAGE_SIZE));
	ASSERT(pfn_in_span(pfn));
	ASSERT((*page_state(pfn) & ~BLOCK_ORDER_MASK) == BLOCK_USED);
	return *page_state(pfn);
}

void page_free(u64 hpa, unsigned int order)
{
	ASSERT(order <= PAGE_ORDER_MAX);
	spin_lock(&buddy_lock);
	ASSERT(used_block_state(hpa) == (BLOCK_USED | order));
	*page_state(pfn_down(hpa)) = BLOCK_TAIL;
	buddy.free_pages += block_npages(order);
	free_block_merge(pfn_down(hpa), order);
	spin_unlock(&buddy_lock);
}

unsigned int page_block_order(u64 hpa)
{
	u8 state;

	spin_lock(&buddy_lock);
	state = used_block_state(hpa);
	spin_unlock(&buddy_lock);
	return state & BLOCK_ORDER_MASK;
}

/* Statistics are read without the lock: a snapshot is all a caller can use anyway. */
u64 page_alloc_free_pages(void)
{
	return __atomic_load_n(&buddy.free_pages, __ATOMIC_RELAXED);
}

u64 page_alloc_total_pages(void)
{
	return __atomic_load_n(&buddy.total_pages, __ATOMIC_RELAXED);
}

/* --- initialisation --- */

/* The whole pages of a RAM range above LOW_MEMORY_END, as pfns [*first, *end). */
static bool ram_range_pfns(const struct mem_range *range, u64 *first, u64 *end)
{
	*first = pfn_up(MAX(range->start, LOW_MEMORY_END));
	*end = pfn_down(range->end);
	return *first < *end;
}

/* Every page a reserved range touches, as pfns [*first, *end). */
static void reserved_range_pfns(const struct mem_range *range, u64 *first, u64 *end)
{
	*first = pfn_down(range->start);
	*end = range->end > range->start ? pfn_up(range->end) : *first;
}

static bool find_span(const struct mem_range *ram, size_t nram)
{
	u64 first, end;
	size_t i;

	buddy.base_pfn = ~0ull;
	buddy.end_pfn = 0;
	for (i = 0; i < nram; i++) {
		if (!ram_range_pfns(&ram[i], &first, &end))
			continue;
		buddy.base_pfn = MIN(buddy.base_pfn, first);
		buddy.end_pfn = MAX(buddy.end_pfn, end);
	}
	return buddy.base_pfn < buddy.end_pfn;
}

/* The first reserved range overlapping pfns [first, end), or NULL. */
static const struct mem_range *reserved_overlap(u64 first, u64 end,
						const struct mem_range *reserved,
						size_t nreserved)
{
	u64 res_first, res_end;
	size_t i;

	for (i = 0; i < nreserved; i++) {
		reserved_range_pfns(&reserved[i], &res_first, &res_end);
		if (res_first < end && first < res_end)
			return &reserved[i];
	}
	return NULL;
}

/* Finds npages free pages inside one RAM range for the state array; 0 if none. */
static u64 find_metadata_pfn(u64 npages, const struct mem_range *ram, size_t nram,
			     const struct mem_range *reserved, size_t nreserved)
{
	const struct mem_range *overlap;
	u64 candidate, end, res_first, res_end;
	size_t i;

	for (i = 0; i < nram; i++) {
		if (!ram_range_pfns(&ram[i], &candidate, &end))
			continue;
		while (end - candidate >= npages) {
			overlap = reserved_overlap(candidate, candidate + npages, reserved,
						   nreserved);
			if (!overlap)
				return candidate;
			reserved_range_pfns(overlap, &res_first, &res_end);
			if (res_end >= end)
				break;
			candidate = res_end;
		}
	}
	return 0;
}

/* Marks the pages of RAM ranges usable, then withholds those of reserved ranges. */
static void mark_usable_pages(const struct mem_range *ram, size_t nram,
			      const struct mem_range *reserved, size_t nreserved)
{
	u64 first, end;
	size_t i;

	set_page_state(buddy.base_pfn, buddy.end_pfn - buddy.base_pfn, PAGE_UNMANAGED);
	for (i = 0; i < nram; i++) {
		if (ram_range_pfns(&ram[i], &first, &end))
			set_page_state(first, end - first, PAGE_USABLE);
	}
	for (i = 0; i < nreserved; i++) {
		reserved_range_pfns(&reserved[i], &first, &end);
		first = MAX(first, buddy.base_pfn);
		end = MIN(end, buddy.end_pfn);
		if (first < end)
			set_page_state(first, end - first, PAGE_UNMANAGED);
	}
}

/* The largest order of an aligned block starting at pfn and ending by end. */
static unsigned int largest_fitting_order(u64 pfn, u64 end)
{
	unsigned int align_order = (unsigned int)__builtin_ctzll(pfn);
	unsigned int size_order = 63 - (unsigned int)__builtin_clzll(end - pfn);

	return MIN(MIN(align_order, size_order), PAGE_ORDER_MAX);
}

/* Cuts usable pages [pfn, end) into the largest aligned blocks and frees them. */
static void carve_free_blocks(u64 pfn, u64 end)
{
	unsigned int order;

	while (pfn < end) {
		order = largest_fitting_order(pfn, end);
		set_page_state(pfn, block_npages(order), BLOCK_TAIL);
		free_list_push(pfn, order);
		pfn += block_npages(order);
	}
}

static void free_usable_pages(void)
{
	u64 pfn = buddy.base_pfn, run_end;

	while (pfn < buddy.end_pfn) {
		if (*page_state(pfn) != PAGE_USABLE) {
			pfn++;
			continue;
		}
		for (run_end = pfn; run_end < buddy.end_pfn; run_end++) {
			if (*page_state(run_end) != PAGE_USABLE)
				break;
		}
		carve_free_blocks(pfn, run_end);
		buddy.free_pages += run_end - pfn;
		pfn = run_end;
	}
	buddy.total_pages = buddy.free_pages;
}

static const char *build_allocator(const struct mem_range *ram, size_t nram,
				   const struct mem_range *reserved, size_t nreserved)
{
	u64 metadata_npages, metadata_pfn;

	if (!find_span(ram, nram))
		return "no usable RAM above 1 MiB";
	metadata_npages = pfn_up(buddy.end_pfn - buddy.base_pfn);
	metadata_pfn = find_metadata_pfn(metadata_npages, ram, nram, reserved, nreserved);
	if (!metadata_pfn)
		return "no free RAM run large enough for the page state array";
	buddy.page_state = phys_to_virt(pfn_to_hpa(metadata_pfn));
	mark_usable_pages(ram, nram, reserved, nreserved);
	set_page_state(metadata_pfn, metadata_npages, PAGE_UNMANAGED);
	free_usable_pages();
	if (!buddy.total_pages)
		return "no usable RAM left after the reserved ranges";
	return NULL;
}

const char *page_alloc_init(const struct mem_range *ram, size_t nram,
			    const struct mem_range *reserved, size_t nreserved)
{
	const char *error;

	spin_lock(&buddy_lock);
	memset(&buddy, 0, sizeof(buddy));
	error = build_allocator(ram, nram, reserved, nreserved);
	if (error)
		memset(&buddy, 0, sizeof(buddy));
	spin_unlock(&buddy_lock);
	return error;
}
