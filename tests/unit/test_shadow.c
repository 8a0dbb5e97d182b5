/* Unit tests of the shadow MMU on the host. The CPU is modelled by the guest walker itself
 * run over the shadow tables (4-level or PAE paging, CR0.WP = 1, EFER.NXE = 1, as Vireo
 * sets them), so every access can be compared with the reference: the same walker run
 * over the guest's own tables without touching them. A randomized differential test drives
 * both through every guest paging mode, random guest tables that alias each other and
 * their data, CR3 switches, guest writes to live tables, INVLPG, zap-all and a small page
 * budget; directed tests check the cache, write protection and memory accounting.
 * unit-sources: mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <stdlib.h>

#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "mmu/mmu.h"
#include "mmu/mmu_page.h"
#include "mmu/spte.h"
#include "tests/unit/unit.h"

uintptr_t phys_virt_offset;
void arch_halt_after_panic(void) { abort(); }
void ept_flush(const struct mmu *mmu) { }

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

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }
static bool chance(unsigned percent) { return below(100) < percent; }

static void arena_init(void)
{
	void *arena = aligned_alloc(MiB(2), ARENA_SIZE);
	phys_virt_offset = (uintptr_t)arena;
	struct mem_range range = { MiB(1), ARENA_SIZE };
	CHECK(page_alloc_init(&range, 1, NULL, 0) == NULL);
	spte_format_init(SPTE_FORMAT_SHADOW, PHYS_BITS);
}

static void vm_setup(u64 max_pages, bool cache)
{
	memset(&vcpu, 0, sizeof(vcpu));
	CHECK(mmu_shadow_init(&mmu, max_pages, cache, PHYS_BITS) == NULL);
	CHECK(mmu_shadow_vcpu_init(&mmu, &vcpu) == NULL);
	ram_hpa = page_alloc_zeroed(page_order_for_size(RAM_GFNS * PAGE_SIZE));
	CHECK(ram_hpa != 0);
	ram = phys_to_virt(ram_hpa);
	CHECK_EQ(memslot_add(&mmu, 0, RAM_GFNS, ram_hpa, 0, NULL), 0);
}

static void vm_teardown(void)
{
	mmu_shadow_vcpu_destroy(&mmu, &vcpu);
	mmu_destroy(&mmu);
	page_free(ram_hpa, page_order_for_size(RAM_GFNS * PAGE_SIZE));
}

/* ---- the CPU model: the walker over the shadow tables ---------------------------------- */

static int host_read(void *ctx, u64 hpa, unsigned size, u64 *value)
{
	*value = size == 8 ? *(u64 *)phys_to_virt(hpa) : *(u32 *)phys_to_virt(hpa);
	return 0;
}

/* The model never writes A/D into sptes: shadow leaves are made accessed and dirty. */
static int no_write(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	return -1;
}

static const struct guest_mem_ops host_mem = { host_read, no_write };

static int guest_read_only(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	if (gpa + size > RAM_GFNS * PAGE_SIZE)
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
				pdpt[i] = clean;
				mmu_shadow_guest_wrote(&mmu, (guest.cr3 & BITS(31, 12)) + i * 8, 8);
			}
			loaded_pdptes[i] = clean;
		}
		guest.pdptes = loaded_pdptes;
	}
	CHECK_EQ(mmu_shadow_load_root(&mmu, &vcpu, &guest, loaded_pdptes), MMU_FAULT_MAPPED);
}

static void before_entry(void)
{
	bool flush;
	enum mmu_fault_result r = mmu_shadow_before_entry(&mmu, &vcpu, &flush);
	CHECK(r == MMU_FAULT_MAPPED || r == MMU_FAULT_RETRY);
}

/* The outcome of one access, the CPU's (through Vireo) or the reference's. */
struct outcome {
	enum { RAM, MMIO, PAGE_FAULT, EMULATED, TABLE_NOT_RAM, STUCK, BUG } kind;
	u64 gpa;
	u32 error_code;
};

static bool gpa_is_ram(u64 gpa) { return gpa < RAM_GFNS * PAGE_SIZE; }

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

static void emulate_store(u64 gpa)
{
	u64 aligned = gpa & ~7ull;
	u64 value = random_entry();
	memcpy(ram + aligned, &value, guest.mode == GUEST_PAGING_32 ? 4 : 8);
	mmu_shadow_guest_wrote(&mmu, aligned, guest.mode == GUEST_PAGING_32 ? 4 : 8);
	emulated_writes++;
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
		bool smap_allowed = false;
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
	if (four_byte())
		memcpy(ram + table * PAGE_SIZE + index * 4, &value, 4);
	else
		memcpy(ram + table * PAGE_SIZE + index * 8, &value, 8);
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
				u64 *e = (u64 *)(ram + t * PAGE_SIZE) + i;
				*e &= BITS(45, 12) | P;
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

/* A random walk through accesses, guest table writes, CR3 switches, flag changes, INVLPG
 * and zap-alls in one paging mode. */
static void differential(enum guest_paging_mode mode, u64 max_pages, unsigned steps)
{
	vm_setup(max_pages, true);
	set_guest(mode, TABLE_POOL, true, true, false, false);
	fill_tables();
	load_root();
	for (unsigned step = 0; step < steps; step++) {
		unsigned op = below(100);
		if (op < 70) {
			check_access(random_gva(), random_access());
		} else if (op < 80 && mode != GUEST_PAGING_OFF) {
			/* a table write the guest made through a mapping Vireo emulated */
			gfn_t t = TABLE_POOL + below(TABLE_POOL_SIZE);
			unsigned index = four_byte() ? indices_4[below(ARRAY_SIZE(indices_4))] :
				         indices_8[below(ARRAY_SIZE(indices_8))];
			u64 gpa = t * PAGE_SIZE + index * (four_byte() ? 4 : 8);
			if (!(mode == GUEST_PAGING_PAE && t < TABLE_POOL + 4 && index < 4))
				emulate_store(gpa);
		} else if (op < 88 && mode != GUEST_PAGING_OFF) {
			set_guest(mode, TABLE_POOL + below(4), chance(70), chance(70), chance(20),
				  chance(20));
			load_root();
		} else if (op < 96) {
			mmu_shadow_invlpg(&mmu, &vcpu, random_gva());
		} else if (op < 97) {
			mmu_zap_all(&mmu);
		}
		CHECK(mmu.shadow.npages <= MAX(max_pages, 64));
	}
	CHECK(emulated_writes > 0 || mode == GUEST_PAGING_OFF);
	CHECK(mmu.shadow.stats.ptes_prefetched > 0 || mode == GUEST_PAGING_OFF);
	vm_teardown();
}

/* ---- directed tests ------------------------------------------------------------------ */

#define PML4 16u
#define PDPT 17u
#define PD 18u
#define PT 19u
#define PML4_B 20u
#define DATA 48u

/* gva 0x1000 -> DATA through PML4 (or PML4_B) -> PDPT -> PD -> PT; PT also mapped at
 * gva 0x2000 (so the guest can write its own table), writable and user. */
static void build_4level(void)
{
	memset(ram, 0, RAM_GFNS * PAGE_SIZE);
	u64 t = P | RW | US;
	((u64 *)(ram + PML4 * PAGE_SIZE))[0] = PDPT << 12 | t;
	((u64 *)(ram + PML4_B * PAGE_SIZE))[0] = PDPT << 12 | t;
	((u64 *)(ram + PDPT * PAGE_SIZE))[0] = PD << 12 | t;
	((u64 *)(ram + PD * PAGE_SIZE))[0] = PT << 12 | t;
	((u64 *)(ram + PT * PAGE_SIZE))[1] = DATA << 12 | t;
	((u64 *)(ram + PT * PAGE_SIZE))[2] = PT << 12 | t;
}

static struct outcome access_once(u64 gva, unsigned access)
{
	return cpu_access(gva, access);
}

/* Returning to an address space used before reuses its tree: no page built, no fault. */
static void test_cache_across_cr3(void)
{
	vm_setup(1000, true);
	build_4level();
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	set_guest(GUEST_PAGING_4LEVEL, PML4_B, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	u64 created = mmu.shadow.stats.pages_created, fixed = mmu.shadow.stats.faults_fixed;
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.pages_created, created);	/* the whole tree came back */
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed);	/* and the access needed no fault */
	CHECK(mmu.shadow.stats.root_hits >= 1);
	vm_teardown();

	vm_setup(1000, false);	/* shadow_cache=off: every switch starts afresh */
	build_4level();
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	created = mmu.shadow.stats.pages_created;
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.pages_created, created + 4);
	vm_teardown();
}

/* A leaf mapping a gfn that becomes a shadowed table is made read-only; writes through
 * it are handed to the emulator and update the shadow. */
static void test_write_protection(void)
{
	vm_setup(1000, true);
	build_4level();
	((u64 *)(ram + PT * PAGE_SIZE))[3] = (u64)(DATA + 1) << 12 | P | RW | US;
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	/* gva 0x3000 maps DATA + 1, written once (a writable leaf) ... */
	CHECK_EQ(access_once(0x3000, GUEST_ACCESS_WRITE).kind, RAM);
	/* ... then the guest makes DATA + 1 a page table (a PDPT) of another address space. */
	((u64 *)(ram + (DATA + 1) * PAGE_SIZE))[0] = PD << 12 | P | RW | US;
	((u64 *)(ram + PML4_B * PAGE_SIZE))[1] = (u64)(DATA + 1) << 12 | P | RW | US;
	mmu_shadow_guest_wrote(&mmu, PML4_B * PAGE_SIZE + 8, 8);
	set_guest(GUEST_PAGING_4LEVEL, PML4_B, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(1ull << 39 | 0x1000, 0).kind, RAM);	/* through DATA + 1 */
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x3000, GUEST_ACCESS_WRITE).kind, EMULATED);
	/* the write to PT through gva 0x2000 is emulated too, and drops gva 0x1000's leaf */
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	u64 before = mmu.shadow.stats.pte_writes;
	struct outcome o = access_once(0x2008, GUEST_ACCESS_WRITE);
	CHECK_EQ(o.kind, EMULATED);
	CHECK_EQ(o.gpa, PT * PAGE_SIZE + 8);
	CHECK_EQ(mmu.shadow.stats.pte_writes, before + 1);
	vm_teardown();
}

/* An aligned full-width guest PTE write is mapped in place, so the next access needs no
 * fault; a partial write, or a PTE the walker must see first (A clear), is dropped; a
 * prefetched leaf of a shadowed table is read-only like one a fault installs. */
static void test_pte_prefetch(void)
{
	vm_setup(1000, true);
	build_4level();
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);	/* builds PT's shadow */
	u64 *pt = (u64 *)(ram + PT * PAGE_SIZE);

	pt[4] = (u64)(DATA + 2) << 12 | P | RW | US | GUEST_PTE_ACCESSED | GUEST_PTE_DIRTY;
	u64 prefetched = mmu.shadow.stats.ptes_prefetched, fixed = mmu.shadow.stats.faults_fixed;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 4 * 8, 8);
	CHECK_EQ(mmu.shadow.stats.ptes_prefetched, prefetched + 1);
	struct outcome o = access_once(0x4000, GUEST_ACCESS_WRITE);
	CHECK(o.kind == RAM && o.gpa == (DATA + 2) * PAGE_SIZE);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed);		/* no fault on the way */

	/* not accessed yet: dropped, the fault sets A */
	pt[5] = (u64)(DATA + 3) << 12 | P | RW | US;
	u64 zapped = mmu.shadow.stats.ptes_zapped;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 5 * 8, 8);
	CHECK_EQ(mmu.shadow.stats.ptes_zapped, zapped + 1);
	CHECK_EQ(access_once(0x5000, 0).kind, RAM);
	CHECK(pt[5] & GUEST_PTE_ACCESSED);

	/* half an entry: dropped, and the next access sees the whole new entry */
	pt[4] = (u64)(DATA + 3) << 12 | P | US | GUEST_PTE_ACCESSED;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 4 * 8, 4);
	CHECK_EQ(mmu.shadow.stats.ptes_zapped, zapped + 2);
	o = access_once(0x4000, GUEST_ACCESS_WRITE);
	CHECK(o.kind == PAGE_FAULT && o.error_code == (GUEST_PF_PRESENT | GUEST_PF_WRITE));

	/* clean (D clear): readable at once, the first write faults so the walker sets D */
	pt[6] = (u64)(DATA + 4) << 12 | P | RW | US | GUEST_PTE_ACCESSED;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 6 * 8, 8);
	fixed = mmu.shadow.stats.faults_fixed;
	CHECK_EQ(access_once(0x6000, 0).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed);
	CHECK_EQ(access_once(0x6000, GUEST_ACCESS_WRITE).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed + 1);
	CHECK(pt[6] & GUEST_PTE_DIRTY);

	/* a mapping of the shadowed PT itself, dirty and writable: read-only all the same */
	pt[7] = (u64)PT << 12 | P | RW | US | GUEST_PTE_ACCESSED | GUEST_PTE_DIRTY;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 7 * 8, 8);
	CHECK_EQ(access_once(0x7000, GUEST_ACCESS_WRITE).kind, EMULATED);

	/* a reserved address bit: dropped, and the access is the guest's #PF(RSVD) */
	pt[4] = BIT(PHYS_BITS) | (u64)(DATA + 2) << 12 | P | RW | US | GUEST_PTE_ACCESSED;
	prefetched = mmu.shadow.stats.ptes_prefetched;
	mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + 4 * 8, 8);
	CHECK_EQ(mmu.shadow.stats.ptes_prefetched, prefetched);
	o = access_once(0x4000, 0);
	CHECK(o.kind == PAGE_FAULT && (o.error_code & GUEST_PF_RSVD));
	vm_teardown();
}

/* Zap-all and destruction give every page back; the budget holds. */
static void test_memory_accounting(void)
{
	u64 free_before = page_alloc_free_pages();
	vm_setup(64, true);
	u64 free_setup = page_alloc_free_pages();
	set_guest(GUEST_PAGING_OFF, 0, true, true, false, false);
	load_root();
	for (u64 gfn = 0; gfn < RAM_GFNS; gfn += 1)
		CHECK_EQ(access_once(gfn << 12, GUEST_ACCESS_WRITE).kind, RAM);
	CHECK(mmu.shadow.npages <= 64);
	CHECK(mmu.shadow.npages > 4);
	mmu_zap_all(&mmu);
	before_entry();
	CHECK_EQ(mmu.shadow.npages, 4);	/* the four PAE quarters in use stay */
	CHECK_EQ(access_once(0x5000, 0).kind, RAM);
	vm_teardown();
	CHECK_EQ(page_alloc_free_pages(), free_before);
	CHECK(free_setup < free_before);
}

int main(void)
{
	arena_init();
	test_cache_across_cr3();
	test_write_protection();
	test_pte_prefetch();
	test_memory_accounting();
	static const enum guest_paging_mode modes[] = {
		GUEST_PAGING_OFF, GUEST_PAGING_32, GUEST_PAGING_PAE, GUEST_PAGING_4LEVEL,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
		differential(modes[i], 1000, 20000);
		differential(modes[i], 64, 20000);
	}
	return unit_done("shadow");
}
