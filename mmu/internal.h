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
void mmu_page_free(struct mmu *mmu, struct mmu_page *page);

int memslots_insert(struct memslots *slots, gfn_t base, u64 npages, u64 hpa, u32 flags, u32 *id_out);
int memslots_remove(struct memslots *slots, u32 id, struct memslot *removed);
int memslots_move(struct memslots *slots, u32 id, gfn_t new_base, struct memslot *old);

/* Invalidates the CPU's EPT-derived translations for this root (INVEPT). */
void ept_flush(const struct mmu *mmu);
/* Clears every leaf mapping a gfn in [base, base + npages). */
void ept_zap_range(struct mmu *mmu, gfn_t base, u64 npages);
void ept_zap_all(struct mmu *mmu);
void ept_destroy(struct mmu *mmu);
/* Frees every shadow page and the shadow MMU's tables (mmu_destroy()). */
void shadow_destroy(struct mmu *mmu);

#endif
