/* The shadow MMU's test harness, shared by the unit test (tests/unit/test_shadow.c) and the
 * fuzzer (tests/fuzz/fuzz_shadow.c): an arena for the page allocator, a simulated guest
 * with 4 MiB of RAM in one memslot, and a CPU model. The CPU is modelled by the guest
 * walker itself run over the shadow tables (4-level or PAE paging, CR0.WP = 1,
 * EFER.NXE = 1, as Vireo sets them); its #PFs go to mmu_shadow_page_fault(), so every
 * access can be compared with the reference: the same walker run over the guest's own
 * tables without touching them. Random choices come from below_source.
 *
 * Header-only, like emulate_harness.h: its CHECKs count in unit.h's per-file counters of
 * the one program that includes it. Include it once per program; the program's
 * unit-sources line must name the sources the MMU needs:
 *   mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c
 *   lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#ifndef VIREO_TESTS_UNIT_SHADOW_MODEL_H
#define VIREO_TESTS_UNIT_SHADOW_MODEL_H

#include <stdlib.h>

#include "lib/bitmap.h"
#include "lib/list.h"
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "mmu/mmu.h"
#include "mmu/internal.h"
#include "mmu/spte.h"
#include "tests/unit/unit.h"

uintptr_t phys_virt_offset;
void arch_halt_after_panic(void) { abort(); }
void ept_flush(const struct mmu *mmu) { }

/* For the checks (run by the fuzzer after every operation and at the end of each input):
 * no coverage feedback, as what they cover says nothing about the MMU and their loops
 * over every entry would feed libFuzzer's counters and comparison tracing on each
 * iteration, most of an input's run time; and no ASan or UBSan checks on their loads,
 * which read the arena (table pages, slab objects, hash buckets): ASan does not track
 * what is inside it, and the loads are aligned. */
#ifdef __clang__
#define CHECKER __attribute__((no_sanitize("coverage", "address", "undefined")))
#else
#define CHECKER
#endif

#define ARENA_SIZE MiB(64)
#define RAM_GFNS 1024u		/* a 4 MiB guest: gfns 0..1023 are RAM, above is MMIO */
#define PHYS_BITS 46
#define TABLE_POOL 16u		/* gfns 16..31 hold guest tables (they may alias data) */
#define TABLE_POOL_SIZE 16u
#define DATA_POOL 48u
#define DATA_POOL_SIZE 16u
#define MMIO_GFN 1024u

#define P GUEST_PTE_PRESENT
#define RW GUEST_PTE_WRITABLE
#define US GUEST_PTE_USER
#define PS GUEST_PTE_LARGE
#define NX GUEST_PTE_NX
#define CR0_PG_BIT BIT(31)
#define CR0_WP_BIT BIT(16)
#define CR4_PSE_BIT BIT(4)
#define CR4_PAE_BIT BIT(5)
#define CR4_SMEP_BIT BIT(20)
#define CR4_SMAP_BIT BIT(21)
#define EFER_LME_BIT BIT(8)
#define EFER_NXE_BIT BIT(11)

static struct mmu mmu;
static struct mmu_vcpu vcpu;
static u64 ram_hpa;
static u8 *ram;
static u64 rng = 0x2545f4914f6cdd1dull;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned rnd_below(unsigned n) { return (unsigned)(rnd() % n); }

/* Where every choice below comes from: rnd() in the unit test; the fuzzer points it at
 * its input bytes (and back at rnd() for the initial tables). */
static unsigned (*below_source)(unsigned n) = rnd_below;

static unsigned below(unsigned n) { return below_source(n); }
static bool chance(unsigned percent) { return below(100) < percent; }

/* The guest's RAM is allocated once, with the arena. */
static void arena_init(void)
{
	void *arena = aligned_alloc(MiB(2), ARENA_SIZE);
	phys_virt_offset = (uintptr_t)arena;
	struct mem_range range = { MiB(1), ARENA_SIZE };
	CHECK(page_alloc_init(&range, 1, NULL, 0) == NULL);
	spte_format_init(SPTE_FORMAT_SHADOW, PHYS_BITS);
	ram_hpa = page_alloc_zeroed(page_order_for_size(RAM_GFNS * PAGE_SIZE));
	CHECK(ram_hpa != 0);
	ram = phys_to_virt(ram_hpa);
}

/* The model's stores to guest RAM go through ram_store(), which marks the pages it wrote:
 * the fuzzer zeroes only those between inputs (tests/fuzz/fuzz_shadow.c). */
static u64 ram_written[BITMAP_WORDS(RAM_GFNS)];

static void ram_store(u64 gpa, const void *value, unsigned size)
{
	memcpy(ram + gpa, value, size);
	bitmap_set_bit(ram_written, gpa_to_gfn(gpa));
}

/* The vCPU and the guest's RAM, in one slot, for an MMU just set up. */
static void guest_setup(void)
{
	memset(&vcpu, 0, sizeof(vcpu));
	CHECK(mmu_shadow_vcpu_init(&mmu, &vcpu) == NULL);
	CHECK_EQ(memslot_add(&mmu, 0, RAM_GFNS, ram_hpa, 0, NULL), 0);
}

/* A VM with zeroed RAM. */
static void vm_setup(u64 max_pages, bool cache)
{
	CHECK(mmu_shadow_init(&mmu, max_pages, cache, PHYS_BITS) == NULL);
	memset(ram, 0, RAM_GFNS * PAGE_SIZE);
	memset(ram_written, 0, sizeof(ram_written));
	guest_setup();
}

static void vm_teardown(void)
{
	mmu_shadow_vcpu_destroy(&mmu, &vcpu);
	mmu_destroy(&mmu);
}

/* ---- the CPU model: the walker over the shadow tables ---------------------------------- */

static int host_read(void *ctx, u64 hpa, unsigned size, u64 *value)
{
	*value = size == 8 ? *(u64 *)phys_to_virt(hpa) : *(u32 *)phys_to_virt(hpa);
	return 0;
}

/* Shadow leaves are made dirty when writable, and accessed except when prefetched: the CPU
 * model sets A in those as the CPU does (guest memory is never written by the model). */
static int no_write(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	return -1;
}

static int host_cmpxchg(void *ctx, u64 hpa, unsigned size, u64 old_value, u64 new_value)
{
	u64 *spte = phys_to_virt(hpa);
	if (size != 8 || (old_value ^ new_value) != PT_ACCESSED)
		return -1;	/* only A, in an 8-byte spte */
	if (*spte != old_value)
		return GUEST_MEM_CHANGED;
	*spte = new_value;
	return 0;
}

static const struct guest_mem_ops host_mem = { host_read, host_cmpxchg };

static bool gpa_is_ram(u64 gpa);

static int guest_read_only(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	if (!gpa_is_ram(gpa))
		return -1;
	return host_read(ctx, ram_hpa + gpa, size, value);
}

static const struct guest_mem_ops guest_mem_untouched = { guest_read_only, no_write };

static struct guest_paging guest;	/* the guest's paging state */

static struct guest_paging cpu_paging(void)
{
	bool four_level = guest.mode == GUEST_PAGING_4LEVEL;
	bool on = guest.mode != GUEST_PAGING_OFF;
	struct guest_paging cpu = {
		.mode = four_level ? GUEST_PAGING_4LEVEL : GUEST_PAGING_PAE,
		.cr3 = vcpu.shadow.root_hpa, .wp = true, .nxe = true,
		.smep = on && guest.smep, .smap = on && guest.smap, .phys_bits = PHYS_BITS,
	};
	return cpu;
}

/* MOV CR3 (or a mode change). A PAE guest's PDPTEs are loaded here, as the CPU does, and
 * the reference walks with the same copies; reserved bits, for which MOV CR3 would #GP,
 * are cleared first. */
static u64 loaded_pdptes[4];

static void load_root(void)
{
	guest.pdptes = NULL;
	if (guest.mode == GUEST_PAGING_PAE) {
		u64 *pdpt = (u64 *)(ram + (guest.cr3 & BITS(31, 12)));
		for (int i = 0; i < 4; i++) {
			u64 clean = pdpt[i] & (BITS(45, 12) | P);
			if (clean != pdpt[i]) {	/* the guest's own store, as if emulated */
				u64 gpa = (guest.cr3 & BITS(31, 12)) + i * 8;
				ram_store(gpa, &clean, 8);
				mmu_shadow_guest_wrote(&mmu, gpa, 8);
			}
			loaded_pdptes[i] = clean;
		}
		guest.pdptes = loaded_pdptes;
	}
	CHECK_EQ(mmu_shadow_load_root(&mmu, &vcpu, &guest, loaded_pdptes), MMU_FAULT_MAPPED);
}

static void before_entry(void)
{
	enum mmu_fault_result r = MMU_FAULT_MAPPED;
	if (mmu_entry_work_pending(&mmu, &vcpu))
		r = mmu_shadow_before_entry(&mmu, &vcpu);
	mmu_entry_work_done(&mmu, &vcpu);
	CHECK(r == MMU_FAULT_MAPPED || r == MMU_FAULT_RETRY);
}

/* The outcome of one access, the CPU's (through Vireo) or the reference's. */
struct outcome {
	enum { RAM, MMIO, PAGE_FAULT, EMULATED, TABLE_NOT_RAM, STUCK, BUG } kind;
	u64 gpa;
	u32 error_code;
};

/* RAM is what the slots cover (a test may split, delete and re-add them, always backed
 * at ram_hpa + gpa). */
static bool gpa_is_ram(u64 gpa)
{
	return gpa < RAM_GFNS * PAGE_SIZE && memslot_find(&mmu.memslots, NULL, gpa_to_gfn(gpa));
}

static struct outcome reference(u64 gva, unsigned access)
{
	struct guest_walk_result walk;
	switch (guest_walk(&guest, &guest_mem_untouched, NULL, gva, access, &walk)) {
	case GUEST_WALK_OK:
		return (struct outcome){ gpa_is_ram(walk.gpa) ? RAM : MMIO, walk.gpa, 0 };
	case GUEST_WALK_PAGE_FAULT:
		return (struct outcome){ PAGE_FAULT, 0, walk.error_code };
	case GUEST_WALK_TABLE_NOT_RAM:
		return (struct outcome){ TABLE_NOT_RAM, walk.pte_gpa[walk.level - 1], 0 };
	default:
		return (struct outcome){ BUG, 0, 0 };
	}
}

static u64 emulated_writes;

/* The guest's store that Vireo emulated: a random entry-shaped value, then the hook. */
static u64 random_entry(void);

static void emulate_store_sized(u64 gpa, unsigned size)
{
	u64 aligned = gpa & ~(u64)(size - 1);
	u64 value = random_entry();
	ram_store(aligned, &value, size);
	mmu_shadow_guest_wrote(&mmu, aligned, size);
	emulated_writes++;
}

static void emulate_store(u64 gpa)
{
	emulate_store_sized(gpa & ~7ull, guest.mode == GUEST_PAGING_32 ? 4 : 8);
}

/* Runs an access as the CPU would: the shadow tables decide, a #PF goes to the MMU, and
 * the access is retried until it completes or the MMU hands it on. */
static struct outcome cpu_access(u64 gva, unsigned access)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		before_entry();
		struct guest_paging cpu = cpu_paging();
		struct guest_walk_result hw;
		enum guest_walk_status status = guest_walk(&cpu, &host_mem, NULL, gva, access, &hw);
		if (status == GUEST_WALK_OK) {
			if (hw.gpa - ram_hpa >= RAM_GFNS * PAGE_SIZE)
				return (struct outcome){ BUG, hw.gpa, 0 };
			return (struct outcome){ RAM, hw.gpa - ram_hpa, 0 };
		}
		if (status != GUEST_WALK_PAGE_FAULT)
			return (struct outcome){ BUG, 0, 0 };
		struct shadow_fault out;
		bool smap_allowed = access & GUEST_ACCESS_SMAP_ALLOWED;
		switch (mmu_shadow_page_fault(&mmu, &vcpu, gva, hw.error_code, smap_allowed, &out)) {
		case MMU_FAULT_MAPPED:
		case MMU_FAULT_RETRY:
			continue;
		case MMU_FAULT_GUEST:
			return (struct outcome){ PAGE_FAULT, 0, out.error_code };
		case MMU_FAULT_MMIO:
			return (struct outcome){ MMIO, out.gpa, 0 };
		case MMU_FAULT_EMULATE:
			emulate_store(out.gpa);
			return (struct outcome){ EMULATED, out.gpa, 0 };
		case MMU_FAULT_TABLE_NOT_RAM:
			return (struct outcome){ TABLE_NOT_RAM, out.gpa, 0 };
		default:
			return (struct outcome){ BUG, 0, 0 };
		}
	}
	return (struct outcome){ STUCK, 0, 0 };
}

/* ---- random guest tables ------------------------------------------------------------- */

static bool four_byte(void) { return guest.mode == GUEST_PAGING_32; }

static u64 random_entry(void)
{
	unsigned r = below(100);
	u64 gfn;
	bool large = chance(15);
	if (r < 55)
		gfn = TABLE_POOL + below(TABLE_POOL_SIZE);
	else if (r < 85)
		gfn = DATA_POOL + below(DATA_POOL_SIZE);
	else
		gfn = MMIO_GFN + below(4);
	if (large)	/* 2M (or 4M) aligned: RAM at gfn 0 or 512, or MMIO */
		gfn = four_byte() ? (chance(70) ? 0 : MMIO_GFN) : (below(3) * 512);
	u64 e = gfn << PAGE_SHIFT;
	e |= chance(92) ? P : 0;
	e |= chance(60) ? RW : 0;
	e |= chance(70) ? US : 0;
	e |= chance(30) ? GUEST_PTE_ACCESSED : 0;
	e |= chance(30) ? GUEST_PTE_DIRTY : 0;
	e |= large ? PS : 0;
	if (!four_byte()) {
		e |= guest.nxe && chance(20) ? NX : 0;
		e |= chance(3) ? BIT(50) : 0;	/* reserved above MAXPHYADDR */
	}
	return four_byte() ? (u32)e : e;
}

static const unsigned indices_8[] = { 0, 1, 2, 3 };
static const unsigned indices_4[] = { 0, 1, 2, 256, 257, 511, 512, 513, 768, 1023 };

static void write_entry(gfn_t table, unsigned index, u64 value)
{
	unsigned size = four_byte() ? 4 : 8;
	ram_store(gfn_to_gpa(table) + index * size, &value, size);
}

static void fill_tables(void)
{
	memset(ram + TABLE_POOL * PAGE_SIZE, 0, TABLE_POOL_SIZE * PAGE_SIZE);
	for (gfn_t t = TABLE_POOL; t < TABLE_POOL + TABLE_POOL_SIZE; t++) {
		unsigned n = four_byte() ? ARRAY_SIZE(indices_4) : ARRAY_SIZE(indices_8);
		for (unsigned i = 0; i < n; i++)
			write_entry(t, four_byte() ? indices_4[i] : indices_8[i], random_entry());
	}
	/* PAE: PDPTEs have no rights bits (MOV CR3 would #GP): keep P and the address. */
	if (guest.mode == GUEST_PAGING_PAE)
		for (gfn_t t = TABLE_POOL; t < TABLE_POOL + 4; t++)
			for (unsigned i = 0; i < 4; i++) {
				u64 gpa = gfn_to_gpa(t) + i * 8;
				u64 clean = *(u64 *)(ram + gpa) & (BITS(45, 12) | P);
				ram_store(gpa, &clean, 8);
			}
}

static u64 random_gva(void)
{
	switch (guest.mode) {
	case GUEST_PAGING_4LEVEL:
		return (u64)below(4) << 39 | (u64)below(4) << 30 | (u64)below(4) << 21 |
		       (u64)below(4) << 12 | below(PAGE_SIZE);
	case GUEST_PAGING_PAE:
		return (u64)below(4) << 30 | (u64)below(4) << 21 | (u64)below(4) << 12 | below(PAGE_SIZE);
	case GUEST_PAGING_32:
		return (u64)indices_4[below(ARRAY_SIZE(indices_4))] << 22 |
		       (u64)indices_4[below(ARRAY_SIZE(indices_4))] << 12 | below(PAGE_SIZE);
	default:
		return (u64)below(RAM_GFNS + 8) << 12 | below(PAGE_SIZE);
	}
}

static unsigned random_access(void)
{
	unsigned a = 0;
	a |= chance(40) ? GUEST_ACCESS_WRITE : 0;
	a |= chance(30) ? GUEST_ACCESS_USER : 0;
	if (!(a & GUEST_ACCESS_WRITE) && chance(20))
		a |= GUEST_ACCESS_FETCH;
	return a;
}

/* The gpa of a random entry of a random pool table. PAE PDPTEs of the tables CR3 may
 * name are left alone: MOV CR3 would #GP on the rights bits a random entry has. */
static bool random_table_entry(u64 *gpa)
{
	gfn_t t = TABLE_POOL + below(TABLE_POOL_SIZE);
	unsigned index = four_byte() ? indices_4[below(ARRAY_SIZE(indices_4))] :
		         indices_8[below(ARRAY_SIZE(indices_8))];
	*gpa = t * PAGE_SIZE + index * (four_byte() ? 4 : 8);
	return !(guest.mode == GUEST_PAGING_PAE && t < TABLE_POOL + 4 && index < 4);
}

static u64 guest_leaf_value(u64 gva, unsigned access, bool *ok, u64 *leaf_gpa, unsigned *size)
{
	struct guest_walk_result walk;
	*ok = guest_walk(&guest, &guest_mem_untouched, NULL, gva, access, &walk) == GUEST_WALK_OK;
	if (!*ok || guest.mode == GUEST_PAGING_OFF)
		return 0;
	*leaf_gpa = walk.pte_gpa[walk.level - 1];
	*size = four_byte() ? 4 : 8;
	return walk.pte[walk.level - 1];
}

static unsigned mismatches;

/* One access through the CPU model against the reference. */
static void check_access(u64 gva, unsigned access)
{
	struct outcome want = reference(gva, access);
	struct outcome got = cpu_access(gva, access);
	bool same = false;
	switch (got.kind) {
	case RAM:
		same = want.kind == RAM && want.gpa == got.gpa;
		if (same && guest.mode != GUEST_PAGING_OFF) {	/* the guest's A and D bits */
			bool ok;
			u64 leaf_gpa = 0;
			unsigned size = 8;
			u64 leaf = guest_leaf_value(gva, access, &ok, &leaf_gpa, &size);
			same = ok && (leaf & GUEST_PTE_ACCESSED) &&
			       (!(access & GUEST_ACCESS_WRITE) || (leaf & GUEST_PTE_DIRTY));
		}
		break;
	case MMIO:
		same = want.kind == MMIO &&
		       want.gpa == got.gpa;
		break;
	case PAGE_FAULT:
		same = want.kind == PAGE_FAULT && want.error_code == got.error_code;
		break;
	case EMULATED:
		same = want.kind == RAM && (access & GUEST_ACCESS_WRITE) && want.gpa == got.gpa;
		break;
	case TABLE_NOT_RAM:
		same = want.kind == TABLE_NOT_RAM && want.gpa == got.gpa;
		break;
	default:
		break;
	}
	if (!same && mismatches++ < 10)
		fprintf(stderr, "mode %d gva %#llx access %#x: want kind %d gpa %#llx ec %#x, "
			"got kind %d gpa %#llx ec %#x\n", guest.mode, (unsigned long long)gva, access,
			want.kind, (unsigned long long)want.gpa, want.error_code, got.kind,
			(unsigned long long)got.gpa, got.error_code);
	CHECK(same);
}

static void set_guest(enum guest_paging_mode mode, gfn_t cr3_gfn, bool wp, bool nxe, bool smep,
		      bool smap)
{
	u64 cr0 = (mode != GUEST_PAGING_OFF ? CR0_PG_BIT : 0) | (wp ? CR0_WP_BIT : 0);
	u64 cr4 = (mode == GUEST_PAGING_PAE || mode == GUEST_PAGING_4LEVEL ? CR4_PAE_BIT : 0) |
		  CR4_PSE_BIT | (smep ? CR4_SMEP_BIT : 0) | (smap ? CR4_SMAP_BIT : 0);
	u64 efer = (mode == GUEST_PAGING_4LEVEL ? EFER_LME_BIT : 0) | (nxe ? EFER_NXE_BIT : 0);
	guest_paging_init(&guest, cr0, gfn_to_gpa(cr3_gfn), cr4, efer, PHYS_BITS, true);
}

/* ---- operations on the guest, as the differential test and the fuzzer draw them ------ */

/* MOV CR3 to one of the first pool tables, with new CR0.WP, EFER.NXE, CR4.SMEP/SMAP. */
static void switch_cr3(enum guest_paging_mode mode)
{
	set_guest(mode, TABLE_POOL + below(4), chance(70), chance(70), chance(20), chance(20));
	load_root();
}

/* MOV CR3 with CR4.PCIDE and bit 63 set (the TLB keeps the new PCID's translations), 4-level
 * guests: the same flags, CR3 one of the first pool tables with PCID 0-3; a kept root
 * without a sync if there is one, else a sync and a load. */
static void switch_cr3_keeping_tlb(void)
{
	guest.pcide = true;
	guest.cr3 = gfn_to_gpa(TABLE_POOL + below(4)) | below(4);
	if (!mmu_shadow_load_kept_root(&mmu, &vcpu, guest.cr3)) {
		mmu_shadow_sync(&mmu);
		load_root();
	}
}

/* A table write the guest made through a mapping Vireo emulated. */
static void store_table_entry(void)
{
	u64 gpa;
	if (random_table_entry(&gpa))
		emulate_store(gpa);
}

static bool gfn_is_shadowed(gfn_t gfn)
{
	struct mmu_page *page;
	hash_for_each_possible(&mmu.shadow.pages_by_gfn, page, gfn_link, gfn)
		if (!page->role.direct && !page->role.invalid)
			return true;
	return false;
}

/* Shadowed by a page that is not unsync (shadow_unsync=on): guest writes must fault. */
static CHECKER bool gfn_is_write_protected(gfn_t gfn)
{
	struct mmu_page *page;
	hash_for_each_possible(&mmu.shadow.pages_by_gfn, page, gfn_link, gfn)
		if (!page->role.direct && !page->role.invalid && !page->unsync)
			return true;
	return false;
}

/* Set by a guest store no exit saw: the shadow may be stale until the next flush. */
static bool unseen_table_store;

/* shadow_unsync=on: a table write the guest made itself where its table is not
 * write-protected (an unsync one: no exit, no hook), else through the emulator. */
static void guest_store_table_entry(void)
{
	u64 gpa;
	if (!random_table_entry(&gpa))
		return;
	if (gfn_is_write_protected(gpa_to_gfn(gpa))) {
		emulate_store(gpa);
		return;
	}
	unsigned size = four_byte() ? 4 : 8;
	u64 value = random_entry();
	ram_store(gpa & ~(u64)(size - 1), &value, size);
	unseen_table_store = true;
}

/* Whether the eight entries from index on are all zero: one test for a block of a table,
 * most of which is empty (unrolled, which -O1 would not do by itself). */
static CHECKER bool entries_zero(const u64 *spt, unsigned index)
{
	u64 any = 0;
#pragma GCC unroll 8
	for (unsigned i = index; i < index + 8; i++)
		any |= spt[i];
	return !any;
}

/* The first non-zero entry of a table from index on, or SPTE_ENTRIES. The checks read
 * every entry rather than only those page->used marks, so a bit left clear is seen. */
static CHECKER unsigned next_nonzero(const u64 *spt, unsigned index)
{
	for (; index < SPTE_ENTRIES; index++) {
		if (index % 8 == 0 && entries_zero(spt, index))
			index += 7;
		else if (spt[index])
			break;
	}
	return index;
}

/* A non-zero entry of a level-1 page against the invariants below; prints what is wrong. */
static CHECKER bool leaf_entry_ok(const struct mmu_page *page, unsigned index)
{
	u64 spte = page->spt[index];
	bool unmarked = !bitmap_test_bit(page->used, index);
	bool present = spte_is_present(spte);
	gfn_t gfn = present ? mmu_page_leaf_gfn(page, index) : 0;
	bool wrong_gfn = present && spte_address(spte) != ram_hpa + gfn_to_gpa(gfn);
	bool writable_table = present && spte_is_writable(spte) && gfn_is_write_protected(gfn);
	if (unmarked || wrong_gfn || writable_table)
		fprintf(stderr, "page gfn %#llx role %#x index %u: spte %#llx (gfn %#llx)%s%s%s\n",
			(unsigned long long)page->gfn, page->role.word, index,
			(unsigned long long)spte, (unsigned long long)gfn,
			unmarked ? ", its used bit clear" : "",
			wrong_gfn ? ", not mapping its recorded gfn" : "",
			writable_table ? ", a shadowed guest table, writable" : "");
	return !unmarked && !wrong_gfn && !writable_table;
}

/* The write-protection invariant (mmu/mmu.h): no leaf spte of any page lets the guest
 * write a gfn that a valid indirect shadow page mirrors; every leaf maps the gfn its page
 * records for it (what the rmaps are keyed by); and every non-zero entry of a level-1
 * page is marked in page->used (what zapping a page visits). The first bad entry is
 * printed. */
static __unused CHECKER void check_write_protection(void)
{
	bool ok = true;
	struct mmu_page *page;
	list_for_each_entry(page, &mmu.active_pages, active_link) {
		if (page->role.level != 1)
			continue;
		for (unsigned i = next_nonzero(page->spt, 0); ok && i < SPTE_ENTRIES;
		     i = next_nonzero(page->spt, i + 1))
			ok = leaf_entry_ok(page, i);
	}
	CHECK(ok);
}

#endif
