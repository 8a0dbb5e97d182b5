/* Unit tests of the memoized guest walk (mmu/walk_cache.h): a hit needs the same key, CR3,
 * paging settings and memory-slot generation, and every entry still holding the value the
 * walk read; any change makes it miss. Uses the real walker over a simulated guest memory.
 * unit-sources: mmu/guest_walk.c lib/string.c
 */
#include "mmu/walk_cache.h"
#include "tests/unit/unit.h"

#define PTE_P_RW 0x3ull
#define PTE_LARGE 0x80ull

static u64 memory[4 * 512] __attribute__((aligned(4096)));	/* gpa 0 .. 16 KiB */

static int mem_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	if (gpa + size > sizeof(memory))
		return -1;
	*value = size == 8 ? memory[gpa / 8] : ((u32 *)memory)[gpa / 4];
	return 0;
}

static int mem_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	if (memory[gpa / 8] != old_value)
		return GUEST_MEM_CHANGED;
	memory[gpa / 8] = new_value;
	return 0;
}

static const struct guest_mem_ops ops = { mem_read, mem_cmpxchg };

/* 4-level paging: PML4 at 0, PDPT at 0x1000, PD at 0x2000 mapping 2M pages 1:1. */
static void build_tables(void)
{
	memory[0] = 0x1000 | PTE_P_RW;
	memory[512] = 0x2000 | PTE_P_RW;
	for (u64 i = 0; i < 512; i++)
		memory[1024 + i] = (i << 21) | PTE_P_RW | PTE_LARGE;
}

static const u64 *entry_hva[GUEST_WALK_MAX_LEVELS];
static u8 page[PAGE_SIZE];

static void fill(struct walk_cache *c, const struct guest_paging *p, u64 gen, u64 gva, unsigned access)
{
	struct guest_walk_result walk;
	CHECK_EQ(guest_walk(p, &ops, NULL, gva, access, &walk), GUEST_WALK_OK);
	for (unsigned level = walk.level; level <= walk.top_level; level++)
		entry_hva[level - 1] = &memory[walk.pte_gpa[level - 1] / 8];
	walk_cache_fill(c, p, gen, gva, access, &walk, entry_hva, page);
}

static bool hit(const struct walk_cache *c, const struct guest_paging *p, u64 gen, u64 gva,
		unsigned access, u64 *gpa)
{
	u8 *hva = NULL;
	bool found = walk_cache_lookup(c, p, gen, gva, access, gpa, &hva);
	CHECK(!found || hva == page);
	return found;
}

int main(void)
{
	struct guest_paging p;
	struct walk_cache c = { 0 };
	u64 gpa = 0;
	build_tables();
	guest_paging_init(&p, 0x80010031, 0, 0x20, 0x500, 40, true);	/* PG WP, PAE, LME NXE */
	CHECK(!hit(&c, &p, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));	/* empty */
	fill(&c, &p, 7, 0x401234, GUEST_ACCESS_FETCH);
	CHECK(c.valid);
	CHECK_EQ(c.levels, 3);					/* PML4E, PDPTE, PDE (2M leaf) */
	CHECK(hit(&c, &p, 7, 0x401ff8, GUEST_ACCESS_FETCH, &gpa));
	CHECK_EQ(gpa, 0x401ff8);
	CHECK(!hit(&c, &p, 7, 0x402000, GUEST_ACCESS_FETCH, &gpa));	/* another 4K page */
	CHECK(!hit(&c, &p, 7, 0x401234, 0, &gpa));			/* another access kind */
	CHECK(!hit(&c, &p, 8, 0x401234, GUEST_ACCESS_FETCH, &gpa));	/* slots changed */
	struct guest_paging other = p;
	other.cr3 = 0x3000;
	CHECK(!hit(&c, &other, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));
	other = p;
	other.wp = false;
	CHECK(!hit(&c, &other, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));
	/* the guest edits an entry without any exit: the cache must notice */
	u64 pde = memory[1024 + 2];
	memory[1024 + 2] = (5ull << 21) | PTE_P_RW | PTE_LARGE | GUEST_PTE_ACCESSED;
	CHECK(!hit(&c, &p, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));
	memory[1024 + 2] = pde;
	CHECK(hit(&c, &p, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));
	memory[512] = 0;					/* PDPTE cleared */
	CHECK(!hit(&c, &p, 7, 0x401234, GUEST_ACCESS_FETCH, &gpa));
	memory[512] = 0x1000 | PTE_P_RW | GUEST_PTE_ACCESSED;
	/* 32-bit paging (4-byte entries) is never cached */
	guest_paging_init(&other, 0x80010031, 0, 0x10, 0, 40, false);
	fill(&c, &other, 7, 0x0, GUEST_ACCESS_FETCH);
	CHECK(!c.valid);
	return unit_done("walk_cache");
}
