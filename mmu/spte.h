/* The spte vocabulary: one set of words for the two entry formats the MMU writes, EPT
 * entries (EPT mode) and IA-32e/PAE paging entries (shadow mode). The format is chosen
 * once, at boot, by spte_format_init(); every helper below reads the chosen masks.
 *
 * The two formats, side by side (SDM Vol. 3C 29.3.2, tables 29-1 to 29-6; Vol. 3A 4.4 and
 * 4.5, tables 4-8 to 4-20):
 *
 *   bit     EPT entry                 IA-32e / PAE entry
 *   0       read                      present
 *   1       write                     R/W
 *   2       execute                   U/S
 *   5:3     memory type (leaf)        PWT, PCD, A
 *   6       ignore PAT (leaf)         D (leaf)
 *   7       large page                PS (large page)
 *   11      ignored                   ignored
 *   51:12   physical address          physical address (up to MAXPHYADDR)
 *   62:52   ignored                   ignored (4-level), reserved (PAE)
 *   63      suppress #VE              XD
 *
 * Bits 1 (write) and 7 (large) mean the same in both, as does the address field.
 *
 * Software present (bit 11, ignored by the CPU in both formats) is set in every spte that
 * maps RAM or a table, and never in an MMIO spte: "present" to the MMU means "maps
 * something", which an MMIO spte does not, whatever the CPU makes of it.
 *
 * MMIO sptes. A gfn in no memory slot is MMIO. Its first access installs a leaf the CPU
 * refuses in a way that exits with the spte alone telling the handler everything: no
 * memory-slot search, no guest page-table walk.
 * - EPT: write allowed without read, a misconfiguration (SDM 29.3.3.1: "bit 0 clear and
 *   bit 1 set" whatever the other bits hold), so the next access exits with reason 49.
 *
 *     63    62..52        51..12     11..3   2 1 0
 *     [0] [generation] [  gfn   ] [  0   ] 0 1 0
 *
 * - Shadow: present with bit 51 set, a reserved bit whenever MAXPHYADDR < 52 (bits
 *   51:MAXPHYADDR are reserved in every entry, SDM Vol. 3A 4.5.4), so the next access is
 *   a #PF with RSVD = 1 in the error code (intercepted). The gfn sits below the mark, in
 *   bits 50:12: the guest's MAXPHYADDR is the host's, at most 51 here, so it fits.
 *
 *     63    62..52      51    50..12     11..3   2 1 0
 *     [0] [generation] [1] [  gfn   ] [  0   ] 1 1 1
 *
 *   When MAXPHYADDR is 52 there is no reserved bit: MMIO gfns then get no spte at all (a
 *   non-present entry) and every access takes the slow path; boot says so.
 * - Generation: bits 62:52 carry the low bits of the memory-slot generation at install
 *   time. The spte is trusted only while they equal the current generation's low bits;
 *   when those bits wrap to 0 every spte is zapped, so an old spte never looks current.
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

#define PT_PRESENT BIT(0)
#define PT_WRITABLE BIT(1)
#define PT_USER BIT(2)
#define PT_ACCESSED BIT(5)
#define PT_DIRTY BIT(6)
#define PT_NX BIT(63)

#define SPTE_WRITABLE BIT(1)		/* both formats */
#define SPTE_LARGE BIT(7)		/* both formats */
#define SPTE_SOFTWARE_PRESENT BIT(11)	/* ignored by the CPU in both formats */
#define SPTE_ADDRESS_MASK BITS(51, 12)

#define SPTE_LEVELS_MAX 4
#define SPTE_ENTRIES 512
#define SPTE_LEVEL_BITS 9		/* linear or guest-physical bits each level consumes */

/* Address bits below the entries of a table at level (1 = PT ... 4 = PML4). */
static inline unsigned spte_level_shift(int level)
{
	return PAGE_SHIFT + SPTE_LEVEL_BITS * (unsigned)(level - 1);
}

static inline unsigned spte_index(u64 addr, int level)
{
	return (unsigned)(addr >> spte_level_shift(level)) & (SPTE_ENTRIES - 1);
}

#define SPTE_MMIO_GEN_SHIFT 52
#define SPTE_MMIO_GEN_BITS 11
#define SPTE_MMIO_GEN_MASK BITS(62, 52)
#define SPTE_EPT_MMIO_MASK EPT_RWX
#define SPTE_EPT_MMIO_VALUE EPT_WRITE
#define SPTE_EPT_MMIO_GFN_MASK BITS(51, 12)
#define SPTE_SHADOW_MMIO_MARK BIT(51)
#define SPTE_SHADOW_MMIO_MASK (PT_PRESENT | PT_WRITABLE | PT_USER | SPTE_SHADOW_MMIO_MARK)
#define SPTE_SHADOW_MMIO_VALUE (PT_PRESENT | PT_WRITABLE | PT_USER | SPTE_SHADOW_MMIO_MARK)
#define SPTE_SHADOW_MMIO_GFN_MASK BITS(50, 12)

static_assert(SPTE_MMIO_GEN_MASK == (((1ull << SPTE_MMIO_GEN_BITS) - 1) << SPTE_MMIO_GEN_SHIFT),
	      "generation field is bits 62:52");
static_assert((SPTE_MMIO_GEN_MASK & (SPTE_EPT_MMIO_GFN_MASK | SPTE_EPT_MMIO_MASK | BIT(63))) == 0,
	      "EPT MMIO spte fields must not overlap");
static_assert((SPTE_MMIO_GEN_MASK & (SPTE_SHADOW_MMIO_GFN_MASK | SPTE_SHADOW_MMIO_MASK | PT_NX)) == 0 &&
	      (SPTE_SHADOW_MMIO_GFN_MASK & SPTE_SHADOW_MMIO_MARK) == 0,
	      "shadow MMIO spte fields must not overlap");
static_assert((SPTE_EPT_MMIO_VALUE & EPT_READ) == 0, "an EPT MMIO spte must be a misconfiguration");
static_assert((SPTE_SOFTWARE_PRESENT & (SPTE_EPT_MMIO_VALUE | SPTE_SHADOW_MMIO_VALUE)) == 0,
	      "an MMIO spte is never software-present");
static_assert(EPT_WRITE == PT_WRITABLE && SPTE_WRITABLE == EPT_WRITE,
	      "bit 1 grants writes in both formats");

/* Access rights the MMU grants, in the format-independent form roles and rmaps use. */
#define ACC_EXEC BIT(0)
#define ACC_WRITE BIT(1)
#define ACC_USER BIT(2)
#define ACC_ALL (ACC_EXEC | ACC_WRITE | ACC_USER)

enum spte_format_kind { SPTE_FORMAT_EPT, SPTE_FORMAT_SHADOW };

/* The masks of the format in use (spte_format_init()). */
struct spte_format {
	enum spte_format_kind kind;
	u64 table_bits;		/* a non-leaf: full rights, software present */
	u64 leaf_bits;		/* every RAM leaf: readable, WB, software present */
	u64 user_mask;		/* ACC_USER (0: EPT has no U/S) */
	u64 exec_mask;		/* set to allow ACC_EXEC (EPT X) ... */
	u64 nx_mask;		/* ... or clear to allow it (XD) */
	u64 mmio_mask, mmio_value;	/* (spte & mask) == value: an MMIO spte */
	u64 mmio_gfn_mask;
};
extern struct spte_format spte_format;

/* phys_bits: the host's MAXPHYADDR. Returns false in shadow mode when no reserved bit is
 * left for MMIO sptes (they are then never installed). */
bool spte_format_init(enum spte_format_kind kind, unsigned phys_bits);
bool spte_mmio_supported(void);

static inline bool spte_is_present(u64 spte) { return spte & SPTE_SOFTWARE_PRESENT; }
static inline bool spte_is_mmio(u64 spte)
{
	return spte_format.mmio_value && (spte & spte_format.mmio_mask) == spte_format.mmio_value;
}
static inline bool spte_is_large(u64 spte) { return spte & SPTE_LARGE; }
static inline bool spte_is_leaf(u64 spte, int level) { return level == 1 || spte_is_large(spte); }
static inline bool spte_is_table(u64 spte, int level)
{
	return spte_is_present(spte) && !spte_is_leaf(spte, level);
}
static inline bool spte_is_writable(u64 spte) { return spte & SPTE_WRITABLE; }
static inline u64 spte_address(u64 spte) { return spte & SPTE_ADDRESS_MASK; }

static inline u64 mmio_generation_bits(u64 generation)
{
	return generation & ((1ull << SPTE_MMIO_GEN_BITS) - 1);
}

static inline u64 spte_make_mmio_as(u64 gfn_mask, u64 mark, u64 gfn, u64 generation)
{
	return (gfn << PAGE_SHIFT & gfn_mask) |
	       mmio_generation_bits(generation) << SPTE_MMIO_GEN_SHIFT | mark;
}

static inline u64 spte_make_mmio(u64 gfn, u64 generation)
{
	return spte_make_mmio_as(spte_format.mmio_gfn_mask, spte_format.mmio_value, gfn, generation);
}

/* The same for the EPT-misconfiguration hot path, where the format is known: constants,
 * no loads (the cached MMIO write's budget is counted in instructions). */
static inline u64 spte_make_ept_mmio(u64 gfn, u64 generation)
{
	return spte_make_mmio_as(SPTE_EPT_MMIO_GFN_MASK, SPTE_EPT_MMIO_VALUE, gfn, generation);
}

static inline u64 spte_mmio_gfn(u64 spte) { return (spte & spte_format.mmio_gfn_mask) >> PAGE_SHIFT; }
static inline u64 spte_mmio_generation(u64 spte)
{
	return (spte & SPTE_MMIO_GEN_MASK) >> SPTE_MMIO_GEN_SHIFT;
}

/* A table entry: everything allowed here, the leaf decides (rights combine across
 * levels, so the MMU grants all above the leaf). */
static inline u64 spte_make_table(u64 table_hpa) { return table_hpa | spte_format.table_bits; }

/* A RAM leaf mapping hpa with the rights in access (ACC_*): WB memory, ignoring the guest
 * PAT for RAM as KVM does. Shadow leaves are made accessed, and dirty when writable, so
 * the CPU never writes them back. */
static inline u64 spte_make_leaf(u64 hpa, unsigned access, bool large)
{
	const struct spte_format *f = &spte_format;
	u64 spte = hpa | f->leaf_bits | (large ? SPTE_LARGE : 0);
	if (access & ACC_WRITE)
		spte |= SPTE_WRITABLE | (f->kind == SPTE_FORMAT_SHADOW ? PT_DIRTY : 0);
	if (access & ACC_USER)
		spte |= f->user_mask;
	spte |= access & ACC_EXEC ? f->exec_mask : f->nx_mask;
	return spte;
}

/* The ACC_* rights a leaf grants (spte_make_leaf()'s access). */
static inline unsigned spte_access(u64 spte)
{
	const struct spte_format *f = &spte_format;
	unsigned access = spte & SPTE_WRITABLE ? ACC_WRITE : 0;
	if (!f->user_mask || (spte & f->user_mask))
		access |= ACC_USER;
	if (f->exec_mask ? spte & f->exec_mask : !(spte & f->nx_mask))
		access |= ACC_EXEC;
	return access;
}

/* A PAE PDPTE the MMU loads for a shadow root: only P and the address are allowed there
 * (bits 2:1 and 8:5 are reserved, SDM Vol. 3A table 4-8); bit 11 is ignored. */
static inline u64 spte_make_pae_root(u64 table_hpa)
{
	return table_hpa | PT_PRESENT | SPTE_SOFTWARE_PRESENT;
}

#endif
