/* The guest page-table walker: translates a guest linear address through the guest's own
 * page tables, for the instruction emulator and the shadow MMU (SDM Vol. 3A chapter 4). */
#ifndef VIREO_MMU_GUEST_WALK_H
#define VIREO_MMU_GUEST_WALK_H

#include "lib/types.h"

/* The paging mode the guest's control registers select (SDM Vol. 3A 4.1.1, table 4-1).
 * 5-level paging is absent: Vireo never offers CR4.LA57 to guests. */
enum guest_paging_mode {
	GUEST_PAGING_OFF,
	GUEST_PAGING_32,
	GUEST_PAGING_PAE,
	GUEST_PAGING_4LEVEL,
};

/* What the walker needs to know about the guest: its registers and two CPUID facts of the
 * virtual CPU it sees. */
struct guest_paging {
	enum guest_paging_mode mode;
	u64 cr3;
	bool wp;	/* CR0.WP: supervisor writes honour R/W */
	bool nxe;	/* EFER.NXE: bit 63 is XD instead of reserved */
	bool pse;	/* CR4.PSE: 4-MByte pages in 32-bit paging */
	bool smep;	/* CR4.SMEP */
	bool smap;	/* CR4.SMAP */
	bool pcide;	/* CR4.PCIDE (4-level paging only): CR3 bits 11:0 are the PCID */
	u8 phys_bits;	/* MAXPHYADDR, CPUID.80000008H:EAX[7:0]; used clamped to 32..52 */
	bool pages_1g;	/* CPUID.80000001H:EDX.Page1GB: PS in a 4-level PDPTE maps 1 GByte */
	/* PAE paging: the four PDPTEs the CPU loaded with CR3, or NULL to read them at CR3
	 * on every walk (the emulator under EPT, where they live in the VMCS). */
	const u64 *pdptes;
};

enum guest_paging_mode guest_paging_mode_from(u64 cr0, u64 cr4, u64 efer);
void guest_paging_init(struct guest_paging *paging, u64 cr0, u64 cr3, u64 cr4, u64 efer,
		       u8 phys_bits, bool pages_1g);

/* #PF error code bits (SDM Vol. 3A 4.7, figure 4-12). */
#define GUEST_PF_PRESENT BIT(0)
#define GUEST_PF_WRITE BIT(1)
#define GUEST_PF_USER BIT(2)
#define GUEST_PF_RSVD BIT(3)
#define GUEST_PF_FETCH BIT(4)

/* The kind of access being translated. The first three are the error-code bits they
 * produce, so a fault's error code is built from them directly. */
#define GUEST_ACCESS_WRITE GUEST_PF_WRITE
#define GUEST_ACCESS_USER GUEST_PF_USER	/* CPL 3 and not an implicit supervisor access */
#define GUEST_ACCESS_FETCH GUEST_PF_FETCH
/* An explicit supervisor data access made with EFLAGS.AC = 1: SMAP lets it reach user
 * pages (SDM Vol. 3A 4.6.1). Never part of an error code. */
#define GUEST_ACCESS_SMAP_ALLOWED BIT(16)

/* Bits of a guest paging-structure entry, the same in every mode (SDM Vol. 3A 4.3-4.5). */
#define GUEST_PTE_PRESENT BIT(0)
#define GUEST_PTE_WRITABLE BIT(1)
#define GUEST_PTE_USER BIT(2)
#define GUEST_PTE_ACCESSED BIT(5)
#define GUEST_PTE_DIRTY BIT(6)
#define GUEST_PTE_LARGE BIT(7)	/* PS in a PDE or PDPTE; PAT in a PTE */
#define GUEST_PTE_NX BIT(63)	/* XD: PAE and 4-level entries only */

/* Guest physical memory as the walker sees it: the caller supplies ctx (a VM, a vCPU, a
 * test's byte array) so mmu/ reaches no VMCS and no VM object. Every access is naturally
 * aligned, size_bytes 4 or 8, little-endian. */
struct guest_mem_ops {
	/* Returns 0, or a negative value when gpa is not guest RAM. */
	int (*read)(void *ctx, u64 gpa, unsigned size_bytes, u64 *value);
	/* Atomically stores new_value if the value at gpa still equals old_value. Returns 0
	 * when stored, GUEST_MEM_CHANGED when the value differed (nothing stored), or a
	 * negative value when gpa is not writable RAM. */
	int (*cmpxchg)(void *ctx, u64 gpa, unsigned size_bytes, u64 old_value, u64 new_value);
};
#define GUEST_MEM_CHANGED 1

enum guest_walk_status {
	GUEST_WALK_OK,
	GUEST_WALK_PAGE_FAULT,	/* inject #PF(error_code) with CR2 = fault_addr */
	GUEST_WALK_NONCANONICAL,	/* not a #PF: the caller raises #GP(0) or #SS(0) */
	GUEST_WALK_TABLE_NOT_RAM,	/* pte_gpa[level - 1] is not RAM: the caller decides */
	GUEST_WALK_RETRY,	/* the tables kept changing: re-run the instruction */
};

/* Levels count from the leaf: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E (SDM names). */
#define GUEST_WALK_MAX_LEVELS 4

struct guest_walk_result {
	u64 gpa;		/* OK: the translation */
	u64 fault_addr;		/* PAGE_FAULT: the linear address, for CR2 */
	u32 error_code;		/* PAGE_FAULT: GUEST_PF_* bits */
	u8 top_level;		/* the first level read; 0 when paging is off */
	u8 level;		/* OK: the leaf; else the entry's that stopped the walk */
	u64 page_size_bytes;	/* OK: 4K, 2M, 4M or 1G (4K when paging is off) */
	/* OK and permission faults: rights granted by every level together */
	bool writable, user, nx;
	/* Entries read, indexed by level - 1, for levels top_level down to level; pte[] holds
	 * the values with the A/D bits this walk set. */
	u64 pte_gpa[GUEST_WALK_MAX_LEVELS];
	u64 pte[GUEST_WALK_MAX_LEVELS];
};

/* The gfn of the guest page table read at level (which holds pte_gpa[level - 1]). */
static inline u64 guest_walk_table_gfn(const struct guest_walk_result *walk, unsigned level)
{
	return walk->pte_gpa[level - 1] >> PAGE_SHIFT;
}

/* Translates gva for an access of kind access (GUEST_ACCESS_* bits). On success sets the
 * Accessed bit of every entry used and, for a write, the leaf's Dirty bit, as the CPU does;
 * a failed walk writes nothing. PAE PDPTEs come from paging->pdptes, the copies loaded with
 * CR3 (SDM Vol. 3A 4.4.1), when the caller has them; else they are read at CR3 on every walk:
 * a guest that edits its PDPT without reloading CR3 then sees the edit early, and a bad
 * PDPTE is a #PF(RSVD) here where MOV to CR3 would have raised #GP. */
enum guest_walk_status guest_walk(const struct guest_paging *paging,
				  const struct guest_mem_ops *mem, void *ctx, u64 gva,
				  unsigned access, struct guest_walk_result *out);

/* Where a walk may begin below CR3 when the entries above are already known to be present,
 * free of reserved bits and accessed, granting these rights together: the shadow MMU's,
 * for an address whose shadow path down to that table it holds (its tables above the
 * leaves are always in sync with the guest's). */
struct guest_walk_start {
	unsigned level;		/* the table's: 1 (a PT) or 2 (a PD) */
	u64 table_gpa;		/* PAE or 4-level paging (8-byte entries) */
	bool writable, user, nx;
};

/* guest_walk() from start's table down, with the same results; pte[] and pte_gpa[] hold
 * only the levels it read (top_level is start->level). Other paging modes: guest_walk(). */
enum guest_walk_status guest_walk_from(const struct guest_paging *paging,
				       const struct guest_mem_ops *mem, void *ctx, u64 gva,
				       unsigned access, const struct guest_walk_start *start,
				       struct guest_walk_result *out);

#endif
