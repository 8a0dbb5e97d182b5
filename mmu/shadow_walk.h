/* One iterator over a walk of the MMU's own tables (EPT today, shadow pages next), from a
 * root down to the entry that translates addr: a gpa in EPT mode, a linear address in
 * shadow mode. Levels count from the leaf: 1 = PT ... 4 = PML4. */
#ifndef VIREO_MMU_SHADOW_WALK_H
#define VIREO_MMU_SHADOW_WALK_H

#include "lib/phys.h"
#include "mmu/spte.h"

struct shadow_walk {
	u64 addr;
	int level;		/* the level of *sptep; 0 once the walk is over */
	u64 *table;		/* the table being read, at level */
	u64 *sptep;		/* the entry for addr in table */
};

static inline void shadow_walk_init(struct shadow_walk *w, u64 root_hpa, int root_level, u64 addr)
{
	w->addr = addr;
	w->level = root_level;
	w->table = phys_to_virt(root_hpa);
}

static inline bool shadow_walk_okay(struct shadow_walk *w)
{
	if (w->level < 1)
		return false;
	w->sptep = &w->table[spte_index(w->addr, w->level)];
	return true;
}

/* Goes down through *sptep if it is a table (the loop body may have just installed it);
 * else the walk ends at this entry. */
static inline void shadow_walk_next(struct shadow_walk *w)
{
	u64 spte = *w->sptep;
	if (!spte_is_table(spte, w->level)) {
		w->level = 0;
		return;
	}
	w->table = phys_to_virt(spte_address(spte));
	w->level--;
}

/*
 * Visits each entry on the way to addr, top down; the body sees walk.level and
 * walk.sptep. After the loop (no break), walk.sptep is the last entry visited: a leaf, an
 * MMIO spte or a non-present entry.
 */
#define for_each_shadow_entry(walk, root_hpa, root_level, address) \
	for (shadow_walk_init(&(walk), (root_hpa), (root_level), (address)); \
	     shadow_walk_okay(&(walk)); shadow_walk_next(&(walk)))

#endif
