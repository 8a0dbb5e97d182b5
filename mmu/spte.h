/* EPT entry bits and the MMIO spte layout.
 *
 * An EPT entry (SDM Vol. 3C 29.3.2): bits 2:0 read/write/execute, 5:3 memory type (leaf),
 * 6 ignore PAT (leaf), 7 large page (PDPTE/PDE), 51:12 physical address, 63 suppress #VE.
 *
 * MMIO spte. A gfn that no memory slot covers is MMIO. Its first access installs a 4K
 * leaf that is deliberately an EPT misconfiguration: write allowed without read (SDM
 * 29.3.3.1: "bit 0 clear and bit 1 set" is a misconfiguration whatever the other bits
 * hold). The next access therefore exits with reason 49 instead of 48, and the spte alone
 * tells the handler everything: no memory-slot search, no guest page-table walk.
 *
 *   63    62..52        51..12     11..3   2 1 0
 *   [0] [generation] [  gfn   ] [  0   ] 0 1 0
 *
 * - bits 2:0 = 010 (W without R) make it an MMIO spte; a RAM spte always has R set, so
 *   the two never collide.
 * - bits 51:12 hold the gfn, where a RAM spte holds its hpa: the CPU never uses them
 *   (the entry is misconfigured) and the gfn costs no extra shift to recover.
 * - bits 62:52 are ignored by the CPU (29.3.2) and carry the low bits of the memory-slot
 *   generation at install time. The spte is trusted only while they equal the current
 *   generation's low bits; when those bits wrap to 0, every MMIO spte is zapped so an old
 *   spte can never be mistaken for a current one.
 * - bit 63 stays clear (suppress #VE is for EPT violations, not misconfigurations).
 */
#ifndef VIREO_MMU_SPTE_H
#define VIREO_MMU_SPTE_H

#include "lib/types.h"

#define EPT_READ BIT(0)
#define EPT_WRITE BIT(1)
#define EPT_EXECUTE BIT(2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPT_MEMTYPE_WB (6ull << 3)
#define EPT_IGNORE_PAT BIT(6)
#define EPT_LARGE_PAGE BIT(7)
#define EPT_ADDRESS_MASK BITS(51, 12)
#define EPT_LEVELS 4
#define EPT_ENTRIES 512

#define SPTE_MMIO_MARK_MASK (EPT_RWX)
#define SPTE_MMIO_MARK EPT_WRITE
#define SPTE_MMIO_GFN_MASK EPT_ADDRESS_MASK
#define SPTE_MMIO_GEN_SHIFT 52
#define SPTE_MMIO_GEN_BITS 11
#define SPTE_MMIO_GEN_MASK BITS(62, 52)

static_assert(SPTE_MMIO_GEN_MASK == (((1ull << SPTE_MMIO_GEN_BITS) - 1) << SPTE_MMIO_GEN_SHIFT),
	      "generation field is bits 62:52");
static_assert((SPTE_MMIO_GEN_MASK & (SPTE_MMIO_GFN_MASK | SPTE_MMIO_MARK_MASK | BIT(63))) == 0,
	      "MMIO spte fields must not overlap");
static_assert((SPTE_MMIO_MARK & EPT_READ) == 0, "an MMIO spte must be a misconfiguration");

static inline bool spte_present(u64 spte) { return spte & EPT_RWX; }
static inline bool spte_is_mmio(u64 spte) { return (spte & SPTE_MMIO_MARK_MASK) == SPTE_MMIO_MARK; }
static inline bool spte_is_large(u64 spte) { return spte & EPT_LARGE_PAGE; }
static inline u64 spte_address(u64 spte) { return spte & EPT_ADDRESS_MASK; }

static inline u64 mmio_generation_bits(u64 generation)
{
	return generation & ((1ull << SPTE_MMIO_GEN_BITS) - 1);
}

static inline u64 spte_make_mmio(u64 gfn, u64 generation)
{
	return (gfn << 12 & SPTE_MMIO_GFN_MASK) |
	       mmio_generation_bits(generation) << SPTE_MMIO_GEN_SHIFT | SPTE_MMIO_MARK;
}

static inline u64 spte_mmio_gfn(u64 spte) { return (spte & SPTE_MMIO_GFN_MASK) >> 12; }
static inline u64 spte_mmio_generation(u64 spte) { return (spte & SPTE_MMIO_GEN_MASK) >> SPTE_MMIO_GEN_SHIFT; }

/* A RAM leaf: WB memory, ignoring the guest PAT like KVM does for RAM. */
static inline u64 spte_make_ram(u64 hpa, bool writable, bool large)
{
	return hpa | EPT_READ | EPT_EXECUTE | (writable ? EPT_WRITE : 0) | EPT_MEMTYPE_WB |
	       EPT_IGNORE_PAT | (large ? EPT_LARGE_PAGE : 0);
}

#endif
