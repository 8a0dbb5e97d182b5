/* struct mmu_page: one page-table page the MMU owns (an EPT table or a shadow page), with
 * what it maps or shadows. */
#ifndef VIREO_MMU_MMU_PAGE_H
#define VIREO_MMU_MMU_PAGE_H

#include "lib/bitmap.h"
#include "lib/hash.h"
#include "lib/list.h"
#include "mmu/mmu.h"
#include "mmu/spte.h"

/*
 * The role: everything besides the gfn that decides what a shadow page's entries hold, so
 * two guest contexts that would fill a page differently never share it. A page is found
 * by (gfn, role.word), so every field below is part of the key.
 *
 *   level            1 = PT ... 4 = PML4: the level of this page's entries.
 *   has_4_byte_gpte  the guest table has 32-bit paging's 4-byte entries (1024 of them):
 *                    one guest table is then shadowed by several pages, see quadrant.
 *   quadrant         which part of a 4-byte guest table this page shadows: a guest PT's
 *                    1024 entries cover 4 MiB, a shadow PT's 512 cover 2 MiB, so quadrant
 *                    is linear bit 21; a guest PD covers 4 GiB, each of the four shadow PDs
 *                    under the PAE root 1 GiB, so quadrant is linear bits 31:30. 0 otherwise.
 *   direct           no guest table behind this page: it maps guest-physical memory from
 *                    gfn upward, linearly (paging off, or the 4K pieces of a guest large
 *                    page). Direct pages are never write-protection targets. Every EPT
 *                    table is a direct page with access ACC_ALL and the other bits 0.
 *   access           the ACC_* rights the guest's entries above this page grant together
 *                    (for direct pages: every guest entry down to the large leaf). Leaves
 *                    combine rights across levels, so a guest table reached through
 *                    entries granting different rights needs one shadow page per rights.
 *   invalid          zapped while a vCPU used it as a root: no lookup finds it, it is freed
 *                    when its last user lets go of it.
 *   cr0_wp           the guest's CR0.WP: with WP = 0 a supervisor write to a read-only page
 *                    is allowed, which the shadow leaf must express (see shadow.c).
 *   efer_nx          the guest's EFER.NXE: bit 63 of its entries is XD, not reserved.
 *   smep_andnot_wp   CR4.SMEP with CR0.WP = 0: leaves made supervisor-only for a
 *                    supervisor write must then also be non-executable.
 *   smap_andnot_wp   CR4.SMAP with CR0.WP = 0.
 */
union mmu_page_role {
	u32 word;
	struct {
		u32 level : 3;
		u32 has_4_byte_gpte : 1;
		u32 quadrant : 2;
		u32 direct : 1;
		u32 access : 3;
		u32 invalid : 1;
		u32 cr0_wp : 1;
		u32 efer_nx : 1;
		u32 smep_andnot_wp : 1;
		u32 smap_andnot_wp : 1;
		u32 unused : 17;
	};
};
static_assert(sizeof(union mmu_page_role) == sizeof(u32), "a role is one 32-bit word");
static_assert(ACC_ALL < 8, "access fits its 3-bit field");

/* A table entry that points at a page, in that page's list of parents. */
struct spte_ref {
	struct spte_ref *next;
	u64 *sptep;
};

/*
 * The reverse-map entries of a shadow level-1 page's leaves: one node per entry, hashed in
 * mmu->shadow.rmaps under the gfn it maps while the leaf is present. A page holds them in
 * up to RMAP_BLOCKS pages of RMAP_BLOCK_LEAVES nodes, each allocated with the first leaf
 * it serves and kept as long as the page (a sparse table needs one), so mapping and
 * unmapping a leaf allocates nothing and searches nothing, and a node finds its leaf by
 * its page's alignment (mmu_rmap_leaf()).
 */
#define RMAP_BLOCKS 4u
#define RMAP_BLOCK_LEAVES (SPTE_ENTRIES / RMAP_BLOCKS)
struct mmu_page;
struct rmap_block {
	struct mmu_page *page;
	unsigned first;			/* the index of the leaf node[0] stands for */
	struct hlist_node node[RMAP_BLOCK_LEAVES];
};
static_assert(sizeof(struct rmap_block) <= PAGE_SIZE, "an rmap block is one page");

/* Fields after active_link up to spt are the core's (mmu/mmu.c); the others only the
 * shadow MMU uses (EPT tables leave them 0). */
struct mmu_page {
	struct hlist_node gfn_link;	/* in shadow.pages_by_gfn, key = gfn (unless invalid) */
	struct hlist_node hpa_link;	/* in shadow.pages_by_hpa, key = table hpa >> 12 */
	struct list_head active_link;	/* mmu->active_pages, newest first */
	gfn_t gfn;			/* the guest table's gfn; for direct pages the first gfn mapped */
	union mmu_page_role role;
	u64 table_hpa;
	u64 *spt;			/* the entries, as the CPU reads them */
	/* Shadow pages: an entry whose bit is clear is 0 (set bits may be stale), so scans
	 * of a sparse table visit only what it holds. */
	u64 used[BITMAP_WORDS(SPTE_ENTRIES)];
	u64 *gptes;			/* indirect level-1 pages: the guest PTE each present
					 * leaf was made from (it names the gfn the leaf maps) */
	struct rmap_block *rmaps[RMAP_BLOCKS];	/* shadow level-1 pages: their leaves' rmap
						 * entries, [i] for leaves from i * 128 */
	struct spte_ref *parents;	/* the entries that point here (roots have none) */
	u32 root_count;			/* vCPUs using this page as (a quarter of) their root */
	u32 write_count;		/* emulated guest writes since the last use through it */
	u32 last_prefetched;		/* 1 + the index of the leaf the last write prefetched, or 0 */
	u64 generation;			/* the MMU's when the page was created */
	bool unsync;			/* a level-1 page the guest may write: see shadow.c */
	struct list_head unsync_link;	/* unsync: in shadow.unsync_pages, or parked
					 * (unlinked: an empty list, see shadow.c) */
};

/* Created before the last zap-all: found by no lookup, freed by the zap-all (or, for a
 * root in use, when its last vCPU lets go of it). */
static inline bool mmu_page_is_obsolete(const struct mmu *mmu, const struct mmu_page *page)
{
	return page->generation != mmu->generation;
}

/* The frame a guest PTE names (4-byte PTEs are zero-extended: bits 31:12). */
static inline gfn_t mmu_gpte_gfn(u64 gpte)
{
	return (gpte & BITS(51, 12)) >> PAGE_SHIFT;
}

/* The gfn the present leaf at index maps (level-1 pages only). */
static inline gfn_t mmu_page_leaf_gfn(const struct mmu_page *page, unsigned index)
{
	return page->role.direct ? page->gfn + index : mmu_gpte_gfn(page->gptes[index]);
}

/* The rmap entry of the leaf at index (its block allocated already). */
static inline struct hlist_node *mmu_rmap_node(const struct mmu_page *page, unsigned index)
{
	return &page->rmaps[index / RMAP_BLOCK_LEAVES]->node[index % RMAP_BLOCK_LEAVES];
}

/* The leaf an rmap entry stands for: entry index of its page. */
static inline struct mmu_page *mmu_rmap_leaf(const struct hlist_node *node, unsigned *index)
{
	const struct rmap_block *block =
		(const struct rmap_block *)ALIGN_DOWN((uintptr_t)node, PAGE_SIZE);
	*index = block->first + (unsigned)(node - block->node);
	return block->page;
}

static inline u64 *mmu_rmap_sptep(const struct hlist_node *node)
{
	unsigned index;
	return &mmu_rmap_leaf(node, &index)->spt[index];
}

#endif
