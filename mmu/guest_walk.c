/* The guest page-table walker: one walk, written once and driven by a descriptor of each
 * paging mode (SDM Vol. 3A 4.3 to 4.7). */

#include "mmu/guest_walk.h"
#include "arch/x86/cpu.h"
#include "lib/string.h"


/* MAXPHYADDR bounds: 32-bit paging addresses 4 GBytes, and no paging mode has more than 52
 * address bits (SDM Vol. 3A 4.1.4). */
#define MIN_PHYS_BITS 32
#define MAX_PHYS_BITS 52

/* In a PDE or PDPTE that maps a page, bit 12 is PAT and the bits from 13 up to the
 * page's frame are reserved (SDM Vol. 3A tables 4-4, 4-9, 4-17, 4-18). */
#define LARGE_PAGE_PAT_BIT 12
#define PAGE_SHIFT_2M 21
#define PAGE_SHIFT_1G 30

/* PSE-36: a 32-bit 4-MByte PDE carries physical-address bits 39:32 in its bits 20:13, as
 * many as MAXPHYADDR (at most 40 here) allows (SDM Vol. 3A 4.3, table 4-4). Every CPU with
 * VMX has PSE-36, so the virtual CPU is assumed to have it too. */
#define PSE36_LOW_BIT 13
#define PSE36_ADDR_SHIFT (32 - PSE36_LOW_BIT)
#define PSE36_MAX_PHYS_BITS 40

/* A PAE PDPTE has no rights and no A bit; bits 2:1 and 8:5 are reserved, and so is bit 63
 * since there is no XD there (SDM Vol. 3A 4.4.1, table 4-8). */
#define PAE_PDPTE_RESERVED_LOW (BITS(2, 1) | BITS(8, 5))

/* Canonical 4-level linear addresses sign-extend bit 47 (SDM Vol. 3A 3.3.7.1). */
#define LINEAR_BITS_4LEVEL 48

/* A walk whose own A/D updates invalidate what it read (a guest table that maps itself)
 * converges within 4 attempts: each failed attempt follows a successful compare-exchange
 * that set the A bit of an entry above the leaf (updates go top-down, the leaf last), that
 * bit stays set, and there are at most 3 such levels. Beyond that, someone else keeps
 * rewriting the tables: give up and let the guest re-run the instruction rather than loop
 * on guest input. */
#define MAX_WALK_ATTEMPTS 8

/*
 * Why a descriptor per mode and not KVM's paging_tmpl.h: KVM includes one template per
 * mode so each mode's constants fold at compile time. The modes differ in a handful of
 * numbers (entry size, index width, depth, where PS maps a page) and in their reserved
 * bits, so a single walker reading a const descriptor keeps one copy of the logic that
 * reads top-down without macros standing in for types. The constants fold all the same:
 * the walk is inlined into one function per mode (walk_in_mode()), each with its
 * descriptor a compile-time constant and the walk's state kept from escaping (nothing but
 * the guest-memory callbacks is called, and they never see it), so the descriptor's loads
 * and the reserved-bit function fold away: a 4-level walk of a shadow demand fault went
 * from about 500 host instructions to 400.
 */
#define WALK_INLINE static inline __attribute__((always_inline))
/* What a mode's reserved bits depend on beyond the entry's level and PS (by value, so a
 * walk's state never escapes the inlined walk: its mode's constants then fold). */
struct reserved_inputs {
	u64 phys_mask;		/* the address bits below MAXPHYADDR */
	u64 xd_reserved;	/* XD when it is a reserved bit (xd_reserved()) */
	u8 phys_bits;		/* MAXPHYADDR, clamped (phys_bits()) */
	bool pages_1g;
};

struct paging_mode_desc {
	u8 levels;		/* entries read per walk */
	u8 pte_bytes;
	u8 index_bits;		/* linear-address bits each level consumes */
	u8 linear_bits;		/* 32: truncate the address; 48: it must be canonical */
	u8 large_levels;	/* BIT(level) for each level where PS = 1 maps a page */
	bool large_needs_pse;	/* PS means something only when CR4.PSE = 1 */
	bool pse36;		/* large-page frames take bits 39:32 from PSE-36 */
	bool pdpt_root;		/* PAE: the top level is the PDPT, without rights or A bit */
	u64 cr3_table_mask;	/* where CR3 keeps the top table's address */
	u64 (*reserved_bits)(struct reserved_inputs in, unsigned level, bool large);
};

/* One walk's inputs, what it derives from them once, and where it writes. */
struct walk {
	const struct guest_paging *paging;
	const struct paging_mode_desc *desc;
	const struct guest_mem_ops *mem;
	void *ctx;
	u64 linear;		/* truncated or checked canonical */
	unsigned access;
	struct reserved_inputs in;	/* derived from paging once per walk */
	/* Where the walk begins below CR3, the entries above known (guest_walk_from());
	 * NULL: at CR3. */
	const struct guest_walk_start *start;
	unsigned first_level;	/* start's level, or the mode's top: a constant where
				 * inlined, so a walk from a PT is straight-line code */
	struct guest_walk_result *out;
	/* The walk's own copy of what it found, written to out as well: out is the caller's
	 * memory, which every guest-memory callback may change for all the compiler knows,
	 * while this stays in registers. */
	unsigned level;		/* the leaf, or the entry that stopped the walk */
	bool writable, user, nx;
	u64 pte[GUEST_WALK_MAX_LEVELS];
};

static u8 phys_bits(const struct guest_paging *paging)
{
	return MIN(MAX(paging->phys_bits, MIN_PHYS_BITS), MAX_PHYS_BITS);
}

static u64 phys_addr_mask(const struct guest_paging *paging)
{
	return BITS(phys_bits(paging) - 1, 0);
}

static u64 large_page_reserved_low(unsigned page_shift)
{
	return BITS(page_shift - 1, LARGE_PAGE_PAT_BIT + 1);
}

/* XD is reserved unless EFER.NXE = 1 (SDM Vol. 3A 4.4.2, 4.5.4). */
static u64 xd_reserved(const struct guest_paging *paging)
{
	return paging->nxe ? 0 : GUEST_PTE_NX;
}

/* SDM Vol. 3A 4.3: only a 4-MByte PDE has reserved bits. */
static u64 reserved_bits_32(struct reserved_inputs in, unsigned level, bool large)
{
	unsigned pse36_bits = MIN(in.phys_bits, PSE36_MAX_PHYS_BITS) - 32;

	if (!large)
		return 0;
	return BITS(21, PSE36_LOW_BIT + pse36_bits);
}

/* SDM Vol. 3A 4.4.2, tables 4-8 to 4-11: bits 62:MAXPHYADDR are reserved. */
static u64 reserved_bits_pae(struct reserved_inputs in, unsigned level, bool large)
{
	u64 reserved = (BITS(62, 0) & ~in.phys_mask) | in.xd_reserved;

	if (level == 3)
		return ~in.phys_mask | PAE_PDPTE_RESERVED_LOW;
	if (large)
		reserved |= large_page_reserved_low(PAGE_SHIFT_2M);
	return reserved;
}

/* SDM Vol. 3A 4.5.4, tables 4-15 to 4-20: bits 51:MAXPHYADDR are reserved (62:52 are
 * ignored); PS is reserved in a PML4E, and in a PDPTE when 1-GByte pages are not offered. */
static u64 reserved_bits_4level(struct reserved_inputs in, unsigned level, bool large)
{
	u64 reserved = (BITS(51, 0) & ~in.phys_mask) | in.xd_reserved;

	if (level == 4)
		return reserved | GUEST_PTE_LARGE;
	if (!large)
		return reserved;
	if (level == 3 && !in.pages_1g)
		return reserved | GUEST_PTE_LARGE;
	return reserved | large_page_reserved_low(level == 3 ? PAGE_SHIFT_1G : PAGE_SHIFT_2M);
}

static const struct paging_mode_desc paging_modes[] = {
	[GUEST_PAGING_32] = {
		.levels = 2, .pte_bytes = 4, .index_bits = 10, .linear_bits = 32,
		.large_levels = BIT(2), .large_needs_pse = true, .pse36 = true,
		.cr3_table_mask = BITS(31, 12), .reserved_bits = reserved_bits_32,
	},
	[GUEST_PAGING_PAE] = {
		.levels = 3, .pte_bytes = 8, .index_bits = 9, .linear_bits = 32,
		.large_levels = BIT(2), .pdpt_root = true,
		.cr3_table_mask = BITS(31, 5), .reserved_bits = reserved_bits_pae,
	},
	[GUEST_PAGING_4LEVEL] = {
		.levels = 4, .pte_bytes = 8, .index_bits = 9,
		.linear_bits = LINEAR_BITS_4LEVEL, .large_levels = BIT(2) | BIT(3),
		.cr3_table_mask = BITS(63, 12), .reserved_bits = reserved_bits_4level,
	},
};

static_assert(ARRAY_SIZE(paging_modes) == GUEST_PAGING_4LEVEL + 1,
	      "a descriptor per paging mode");
static_assert(GUEST_ACCESS_SMAP_ALLOWED > GUEST_ACCESS_FETCH,
	      "the SMAP override lies outside the error-code bits an access reports");

/* SDM Vol. 3A 4.1.1, table 4-1. EFER.LMA equals EFER.LME once CR0.PG = 1, and reading LME
 * lets a caller emulating MOV to CR0 pass EFER as it was before the CPU updated LMA. */
enum guest_paging_mode guest_paging_mode_from(u64 cr0, u64 cr4, u64 efer)
{
	if (!(cr0 & CR0_PG))
		return GUEST_PAGING_OFF;
	if (!(cr4 & CR4_PAE))
		return GUEST_PAGING_32;
	if (efer & EFER_LME)
		return GUEST_PAGING_4LEVEL;
	return GUEST_PAGING_PAE;
}

void guest_paging_init(struct guest_paging *paging, u64 cr0, u64 cr3, u64 cr4, u64 efer,
		       u8 phys_bits, bool pages_1g)
{
	*paging = (struct guest_paging){
		.mode = guest_paging_mode_from(cr0, cr4, efer),
		.cr3 = cr3,
		.wp = cr0 & CR0_WP,
		.nxe = efer & EFER_NXE,
		.pse = cr4 & CR4_PSE,
		.smep = cr4 & CR4_SMEP,
		.smap = cr4 & CR4_SMAP,
		.pcide = cr4 & CR4_PCIDE,
		.phys_bits = phys_bits,
		.pages_1g = pages_1g,
	};
}

WALK_INLINE unsigned level_shift(const struct paging_mode_desc *desc, unsigned level)
{
	return PAGE_SHIFT + desc->index_bits * (level - 1);
}

WALK_INLINE u64 entry_gpa(const struct walk *w, u64 table_gpa, unsigned level)
{
	u64 index = (w->linear >> level_shift(w->desc, level)) & (BIT(w->desc->index_bits) - 1);

	return table_gpa + index * w->desc->pte_bytes;
}

/* The PAE PDPT is the one level whose entries grant no rights and hold no A bit. */
WALK_INLINE bool entry_controls_access(const struct paging_mode_desc *desc, unsigned level)
{
	return !(desc->pdpt_root && level == desc->levels);
}

WALK_INLINE bool maps_large_page(const struct walk *w, unsigned level, u64 pte)
{
	if (!(pte & GUEST_PTE_LARGE) || !(w->desc->large_levels & BIT(level)))
		return false;
	return !w->desc->large_needs_pse || w->paging->pse;
}

/* The I/D bit is reported only where the CPU could refuse a fetch: with SMEP, or with
 * XD in PAE and 4-level paging (SDM Vol. 3A 4.7). */
WALK_INLINE bool fetch_is_reported(const struct walk *w)
{
	bool xd_exists = w->paging->mode != GUEST_PAGING_32 && w->paging->nxe;

	return (w->access & GUEST_ACCESS_FETCH) && (w->paging->smep || xd_exists);
}

WALK_INLINE enum guest_walk_status page_fault(const struct walk *w, u32 cause)
{
	u32 error_code = cause | (w->access & (GUEST_PF_WRITE | GUEST_PF_USER));

	if (fetch_is_reported(w))
		error_code |= GUEST_PF_FETCH;
	w->out->error_code = error_code;
	w->out->fault_addr = w->linear;
	return GUEST_WALK_PAGE_FAULT;
}

/* Rights combine across levels: every level must allow a write or a user access, any
 * level can forbid execution (SDM Vol. 3A 4.6.1). XD can be set here only when NXE = 1:
 * otherwise it is a reserved bit and the walk already stopped. */
WALK_INLINE void combine_rights(struct walk *w, u64 pte)
{
	w->writable = w->writable && (pte & GUEST_PTE_WRITABLE);
	w->user = w->user && (pte & GUEST_PTE_USER);
	w->nx = w->nx || (pte & GUEST_PTE_NX);
}

WALK_INLINE unsigned first_level(const struct walk *w)
{
	return w->first_level;
}

/* Reads the entries from the top level down to the leaf, stopping at the first one that is
 * not RAM, not present or has a reserved bit set. Leaves w->level at the last one read. */
WALK_INLINE enum guest_walk_status walk_tables(struct walk *w)
{
	const struct paging_mode_desc *desc = w->desc;
	struct guest_walk_result *out = w->out;
	u64 table_gpa = w->start ? w->start->table_gpa :
			w->paging->cr3 & desc->cr3_table_mask & w->in.phys_mask;
	unsigned level;

	for (level = first_level(w);; level--) {
		u64 pte_gpa = entry_gpa(w, table_gpa, level);
		u64 pte;
		bool large;

		w->level = out->level = level;
		out->pte_gpa[level - 1] = pte_gpa;
		if (level == desc->levels && desc->pdpt_root && w->paging->pdptes)
			pte = w->paging->pdptes[(w->linear >> level_shift(desc, level)) & 3];
		else if (w->mem->read(w->ctx, pte_gpa, desc->pte_bytes, &pte) < 0)
			return GUEST_WALK_TABLE_NOT_RAM;
		w->pte[level - 1] = out->pte[level - 1] = pte;
		if (!(pte & GUEST_PTE_PRESENT))
			return page_fault(w, 0);
		large = maps_large_page(w, level, pte);
		if (pte & desc->reserved_bits(w->in, level, large))
			return page_fault(w, GUEST_PF_PRESENT | GUEST_PF_RSVD);
		if (entry_controls_access(desc, level))
			combine_rights(w, pte);
		if (level == 1 || large)
			return GUEST_WALK_OK;
		table_gpa = pte & BITS(63, PAGE_SHIFT) & w->in.phys_mask;
	}
}

/* SDM Vol. 3A 4.6.1. */
WALK_INLINE bool fetch_allowed(const struct walk *w)
{
	if (w->nx)
		return false;
	if (w->access & GUEST_ACCESS_USER)
		return w->user;
	return !(w->paging->smep && w->user);
}

WALK_INLINE bool supervisor_data_allowed(const struct walk *w)
{
	bool smap_applies = w->paging->smap && !(w->access & GUEST_ACCESS_SMAP_ALLOWED);

	if (w->user && smap_applies)
		return false;
	return !(w->access & GUEST_ACCESS_WRITE) || w->writable || !w->paging->wp;
}

WALK_INLINE bool access_allowed(const struct walk *w)
{
	if (w->access & GUEST_ACCESS_FETCH)
		return fetch_allowed(w);
	if (!(w->access & GUEST_ACCESS_USER))
		return supervisor_data_allowed(w);
	return w->user && (!(w->access & GUEST_ACCESS_WRITE) || w->writable);
}

/* Sets A on every entry used and D on the leaf for a write, each with a compare-exchange
 * against the value the walk read, so a concurrent guest change is never overwritten: if
 * one happened, the walk is redone. Memory that is not writable RAM drops the update, as
 * the platform drops any write there. */
WALK_INLINE enum guest_walk_status set_accessed_dirty(struct walk *w)
{
	const struct paging_mode_desc *desc = w->desc;
	struct guest_walk_result *out = w->out;
	unsigned level;

	for (level = first_level(w); level >= w->level; level--) {
		u64 pte = w->pte[level - 1];
		u64 want = GUEST_PTE_ACCESSED;
		int ret;

		if (level == w->level && (w->access & GUEST_ACCESS_WRITE))
			want |= GUEST_PTE_DIRTY;
		if (!entry_controls_access(desc, level) || (pte & want) == want)
			continue;
		ret = w->mem->cmpxchg(w->ctx, out->pte_gpa[level - 1], desc->pte_bytes, pte,
				      pte | want);
		if (ret == GUEST_MEM_CHANGED)
			return GUEST_WALK_RETRY;
		if (ret == 0)
			w->pte[level - 1] = out->pte[level - 1] = pte | want;
	}
	return GUEST_WALK_OK;
}

WALK_INLINE u64 leaf_frame(const struct walk *w, u64 pte, unsigned page_shift)
{
	u64 frame = pte & BITS(63, page_shift) & w->in.phys_mask;

	if (w->desc->pse36 && w->level > 1)
		frame |= (pte & BITS(20, PSE36_LOW_BIT)) << PSE36_ADDR_SHIFT;
	return frame;
}

WALK_INLINE enum guest_walk_status walk_once(struct walk *w)
{
	struct guest_walk_result *out = w->out;
	enum guest_walk_status status;
	unsigned page_shift;

	w->writable = !w->start || w->start->writable;
	w->user = !w->start || w->start->user;
	w->nx = w->start && w->start->nx;
	status = walk_tables(w);
	out->writable = w->writable;
	out->user = w->user;
	out->nx = w->nx;
	if (status != GUEST_WALK_OK)
		return status;
	if (!access_allowed(w))
		return page_fault(w, GUEST_PF_PRESENT);
	status = set_accessed_dirty(w);
	if (status != GUEST_WALK_OK)
		return status;
	page_shift = level_shift(w->desc, w->level);
	out->page_size_bytes = BIT(page_shift);
	out->gpa = leaf_frame(w, w->pte[w->level - 1], page_shift) |
		   (w->linear & (BIT(page_shift) - 1));
	return GUEST_WALK_OK;
}

/* With paging off, linear addresses are physical, and 32 bits wide: long mode needs
 * paging (SDM Vol. 3A 4.1.2). */
static enum guest_walk_status walk_paging_off(u64 gva, struct guest_walk_result *out)
{
	out->gpa = (u32)gva;
	out->level = 1;
	out->page_size_bytes = PAGE_SIZE;
	out->writable = true;
	out->user = true;
	return GUEST_WALK_OK;
}

/* The walk in one paging mode, desc a constant where it is inlined. */
WALK_INLINE enum guest_walk_status walk_in_mode(const struct paging_mode_desc *desc,
						const struct guest_paging *paging,
						const struct guest_mem_ops *mem, void *ctx,
						u64 gva, unsigned access,
						const struct guest_walk_start *start,
						unsigned first_level, struct guest_walk_result *out)
{
	struct walk w = {
		.paging = paging, .desc = desc, .mem = mem, .ctx = ctx, .access = access,
		.start = start, .first_level = first_level, .out = out,
		.in = { .phys_mask = phys_addr_mask(paging), .xd_reserved = xd_reserved(paging),
			.phys_bits = phys_bits(paging), .pages_1g = paging->pages_1g },
	};
	enum guest_walk_status status = GUEST_WALK_RETRY;

	out->top_level = w.first_level;
	if (desc->linear_bits == 32)
		w.linear = (u32)gva;
	else if (is_canonical(gva, desc->linear_bits))
		w.linear = gva;
	else
		return GUEST_WALK_NONCANONICAL;
	for (unsigned attempt = 0; attempt < MAX_WALK_ATTEMPTS && status == GUEST_WALK_RETRY;
	     attempt++)
		status = walk_once(&w);
	return status;
}

#define WALK_IN(mode) static __attribute__((noinline)) enum guest_walk_status walk_##mode(	\
	const struct guest_paging *paging, const struct guest_mem_ops *mem, void *ctx,	\
	u64 gva, unsigned access, struct guest_walk_result *out)				\
{												\
	return walk_in_mode(&paging_modes[GUEST_PAGING_##mode], paging, mem, ctx, gva,	\
			    access, NULL, paging_modes[GUEST_PAGING_##mode].levels, out);	\
}
WALK_IN(32)
WALK_IN(PAE)
WALK_IN(4LEVEL)
#undef WALK_IN

/* One walk per mode and start level (a PT or a PD). */
#define WALK_FROM_IN(mode, level) static __attribute__((noinline)) enum guest_walk_status \
walk_from_##mode##_##level(const struct guest_paging *paging, const struct guest_mem_ops *mem, \
			   void *ctx, u64 gva, unsigned access,				\
			   const struct guest_walk_start *start, struct guest_walk_result *out) \
{												\
	return walk_in_mode(&paging_modes[GUEST_PAGING_##mode], paging, mem, ctx, gva,	\
			    access, start, level, out);					\
}
WALK_FROM_IN(PAE, 1)
WALK_FROM_IN(PAE, 2)
WALK_FROM_IN(4LEVEL, 1)
WALK_FROM_IN(4LEVEL, 2)
#undef WALK_FROM_IN

/* What a walk from a table leaves unwritten besides the levels above it: a whole walk's
 * memset() of the result costs more than the walk of a PT itself. */
static void clear_outcome(struct guest_walk_result *out)
{
	out->gpa = 0;
	out->fault_addr = 0;
	out->error_code = 0;
	out->page_size_bytes = 0;
}

enum guest_walk_status guest_walk_from(const struct guest_paging *paging,
				       const struct guest_mem_ops *mem, void *ctx, u64 gva,
				       unsigned access, const struct guest_walk_start *start,
				       struct guest_walk_result *out)
{
	bool from_pt = start->level == 1;

	switch (paging->mode) {
	case GUEST_PAGING_PAE:
		clear_outcome(out);
		return from_pt ? walk_from_PAE_1(paging, mem, ctx, gva, access, start, out) :
				 walk_from_PAE_2(paging, mem, ctx, gva, access, start, out);
	case GUEST_PAGING_4LEVEL:
		clear_outcome(out);
		return from_pt ? walk_from_4LEVEL_1(paging, mem, ctx, gva, access, start, out) :
				 walk_from_4LEVEL_2(paging, mem, ctx, gva, access, start, out);
	default:	/* 4-byte entries: the whole walk */
		return guest_walk(paging, mem, ctx, gva, access, out);
	}
}

enum guest_walk_status guest_walk(const struct guest_paging *paging,
				  const struct guest_mem_ops *mem, void *ctx, u64 gva,
				  unsigned access, struct guest_walk_result *out)
{
	memset(out, 0, sizeof(*out));
	switch (paging->mode) {
	case GUEST_PAGING_32:
		return walk_32(paging, mem, ctx, gva, access, out);
	case GUEST_PAGING_PAE:
		return walk_PAE(paging, mem, ctx, gva, access, out);
	case GUEST_PAGING_4LEVEL:
		return walk_4LEVEL(paging, mem, ctx, gva, access, out);
	default:
		return walk_paging_off(gva, out);
	}
}
