/* mmu/ private interfaces: the table-page core (mmu/mmu.c), slot-array primitives (no
 * table side effects), and what mmu.c asks of EPT and of the shadow MMU. */
#ifndef VIREO_MMU_INTERNAL_H
#define VIREO_MMU_INTERNAL_H

#include "mmu/mmu.h"
#include "mmu/mmu_page.h"

/* Empties *mmu (no pages, no slots); each MMU's init starts with it. */
void mmu_core_init(struct mmu *mmu);
/* A table page with zeroed entries, on mmu->active_pages and counted in mmu->npages, with
 * the MMU's current generation; NULL when out of memory. */
struct mmu_page *mmu_page_alloc(struct mmu *mmu, gfn_t gfn, union mmu_page_role role);
#define MMU_SPARE_PAGES 16
void mmu_page_free(struct mmu *mmu, struct mmu_page *page, bool table_zeroed);
void mmu_free_spare_pages(struct mmu *mmu);
/* Shadow level-1 pages: the rmap block for the leaf at index, allocated if it is the first
 * leaf there; false when out of memory. */
bool mmu_page_rmap_block(struct mmu_page *page, unsigned index);
/* Obsolete pages freed per hold of the MMU lock by a fast zap-all, at most. */
#define MMU_ZAP_BATCH 10
/* TSC ticks one hold of the MMU lock may last before a long operation (zap-all, a slot's
 * range zap) breaks it: what the work costs per item varies (slab pages given back, parent
 * lists), so the holds are bounded in time as well as in items. */
#define MMU_LOCK_HOLD_BUDGET 4096
void mmu_lock_break(struct mmu *mmu);
/* Pages a vCPU's tree reached may be freed: every vCPU reloads its root before entering. */
static inline void mmu_request_root_reloads(struct mmu *mmu)
{
	mmu->roots_generation++;
	mmu_request_all(mmu);
}
bool mmu_lock_held_long(const struct mmu *mmu);

int memslots_insert(struct memslots *slots, gfn_t base, u64 npages, u64 hpa, u32 flags, u32 *id_out);
int memslots_remove(struct memslots *slots, u32 id, struct memslot *removed);
int memslots_move(struct memslots *slots, u32 id, gfn_t new_base, struct memslot *old);
/* memslot_find() for the MMU's own bookkeeping (no vCPU cache). */
struct memslot *memslots_find(struct memslots *slots, gfn_t gfn);

/* Invalidates the CPU's EPT-derived translations for this root (INVEPT). */
void ept_flush(const struct mmu *mmu);
/* Clears every leaf mapping a gfn in [base, base + npages). */
void ept_zap_range(struct mmu *mmu, gfn_t base, u64 npages);
void ept_destroy(struct mmu *mmu);
/* Zap-all, the two ways (mmu/mmu.c). Slow: every spte dropped, one page at a time. Fast:
 * begin_fast_zap gets ready for a new generation (EPT: a new root; false when out of
 * memory), then mmu.c frees the obsolete pages one by one, then the shadow MMU drains
 * the obsolete rmaps. */
void ept_zap_all_slow(struct mmu *mmu);
bool ept_begin_fast_zap(struct mmu *mmu);
void shadow_zap_all_slow(struct mmu *mmu);
bool shadow_begin_fast_zap(struct mmu *mmu);
void shadow_free_obsolete_page(struct mmu *mmu, struct mmu_page *page);
void shadow_drain_rmaps(struct mmu *mmu);
/* Drops the leaves that map [base, base + npages) and the shadow pages of the guest tables
 * there, through the rmaps and the page hash, with a lock break whenever a hold has lasted its budget. */
void shadow_zap_gfn_range(struct mmu *mmu, gfn_t base, u64 npages);
/* Whether a slot change over this slot should zap everything instead (mmu.c). */
bool shadow_prefers_zap_all(const struct mmu *mmu, const struct memslot *slot);
/* Frees every shadow page and the shadow MMU's tables (mmu_destroy()). */
void shadow_destroy(struct mmu *mmu);

#endif
