/* mmu/ private interfaces: slot-array primitives (no EPT side effects) and EPT walks. */
#ifndef VIREO_MMU_INTERNAL_H
#define VIREO_MMU_INTERNAL_H

#include "mmu/mmu.h"

int memslots_insert(struct memslots *slots, gfn_t base, u64 npages, u64 hpa, u32 flags, u32 *id_out);
int memslots_remove(struct memslots *slots, u32 id, struct memslot *removed);
int memslots_move(struct memslots *slots, u32 id, gfn_t new_base, struct memslot *old);

/* Invalidates the CPU's EPT-derived translations for this root (INVEPT). */
void ept_flush(const struct mmu *mmu);
/* Clears every leaf mapping a gfn in [base, base + npages). */
void ept_zap_range(struct mmu *mmu, gfn_t base, u64 npages);
void ept_free_tables(u64 table_hpa, int level);
/* Frees every shadow page and the shadow MMU's tables (mmu_destroy()). */
void shadow_destroy(struct mmu *mmu);

#endif
