/* A memoized guest page walk. The emulator fetches every MMIO instruction through the
 * guest's page tables, usually from the same code page; redoing the walk costs more than
 * the rest of the emulation. The cache keeps the last successful walk with pointers to the
 * entries it read and their values. It is used again only if CR3, the paging settings and
 * the memory-slot generation (which keeps the pointers valid) are unchanged and every
 * entry still holds the value read: the same entries give the same translation and the
 * same rights, whatever the guest did with its TLB. A/D bits are already set in the
 * values kept (the walk set them), so a hit has nothing to write. It also keeps where the
 * page it leads to lives in host memory, valid for the same memory-slot generation. */
#ifndef VIREO_MMU_WALK_CACHE_H
#define VIREO_MMU_WALK_CACHE_H

#include "mmu/guest_walk.h"

struct walk_cache {
	bool valid;
	u8 levels;			/* entries kept: top level down to the leaf */
	u64 key;			/* the linear 4K page | the access bits */
	u64 cr3;
	u64 settings;			/* guest_paging fields that change rights */
	u64 generation;			/* memory slots the entry pointers were made for */
	u64 gpa_page;
	u8 *page_hva;			/* the page in host memory; NULL: not RAM for this access */
	const u64 *entry[GUEST_WALK_MAX_LEVELS];
	u64 value[GUEST_WALK_MAX_LEVELS];
};

static inline u64 walk_cache_settings(const struct guest_paging *p)
{
	return (u64)p->mode | (u64)p->wp << 8 | (u64)p->nxe << 9 | (u64)p->pse << 10 |
	       (u64)p->smep << 11 | (u64)p->smap << 12;
}

static inline u64 walk_cache_key(u64 linear, unsigned access)
{
	return (linear & ~(PAGE_SIZE - 1)) | (access & (PAGE_SIZE - 1));
}

/* Only 64-bit entries (PAE and 4-level paging) are cached. */
static inline bool walk_cache_applies(const struct guest_paging *p)
{
	return p->mode == GUEST_PAGING_PAE || p->mode == GUEST_PAGING_4LEVEL;
}

static inline bool walk_cache_lookup(const struct walk_cache *c, const struct guest_paging *p,
				     u64 generation, u64 linear, unsigned access, u64 *gpa,
				     u8 **page_hva)
{
	if (!c->valid || c->key != walk_cache_key(linear, access) || c->cr3 != p->cr3 ||
	    c->generation != generation || c->settings != walk_cache_settings(p))
		return false;
	for (unsigned i = 0; i < c->levels; i++)
		if (__atomic_load_n(c->entry[i], __ATOMIC_RELAXED) != c->value[i])
			return false;
	*gpa = c->gpa_page | (linear & (PAGE_SIZE - 1));
	*page_hva = c->page_hva;
	return true;
}

/* entry_hva[level - 1]: where the walk's entry at that level lives in host memory. */
static inline void walk_cache_fill(struct walk_cache *c, const struct guest_paging *p,
				   u64 generation, u64 linear, unsigned access,
				   const struct guest_walk_result *walk, const u64 *const entry_hva[],
				   u8 *page_hva)
{
	c->valid = false;
	if (!walk_cache_applies(p))
		return;
	c->levels = 0;
	for (unsigned level = walk->top_level; level >= walk->level; level--) {
		if (!entry_hva[level - 1])
			return;
		c->entry[c->levels] = entry_hva[level - 1];
		c->value[c->levels++] = walk->pte[level - 1];
	}
	c->key = walk_cache_key(linear, access);
	c->cr3 = p->cr3;
	c->settings = walk_cache_settings(p);
	c->generation = generation;
	c->gpa_page = walk->gpa & ~(PAGE_SIZE - 1);
	c->page_hva = page_hva;
	c->valid = true;
}

#endif
