/* Unit tests of the shadow MMU on the host, over the CPU model of shadow_model.h: every
 * access is compared with the reference walk of the guest's own tables. A randomized
 * differential test drives both through every guest paging mode, random guest tables that
 * alias each other and their data, CR3 switches, guest writes to live tables, INVLPG,
 * zap-all and a small page budget; directed tests check the cache, write protection and
 * memory accounting. tests/fuzz/fuzz_shadow.c drives the same model from fuzzer input.
 * unit-sources: mmu/mmu.c mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include "tests/unit/shadow_model.h"

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
			store_table_entry();
		} else if (op < 88 && mode != GUEST_PAGING_OFF) {
			switch_cr3(mode);
		} else if (op < 96) {
			mmu_shadow_invlpg(&mmu, &vcpu, random_gva());
		} else if (op < 97) {
			mmu_zap_all(&mmu);
		}
		CHECK(mmu.npages <= MAX(max_pages, 64));
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
	CHECK(mmu.npages <= 64);
	CHECK(mmu.npages > 4);
	mmu_zap_all(&mmu);
	before_entry();
	CHECK_EQ(mmu.npages, 4);	/* the four PAE quarters in use stay */
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
