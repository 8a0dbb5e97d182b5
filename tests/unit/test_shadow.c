/* Unit tests of the shadow MMU on the host, over the CPU model of shadow_model.h: every
 * access is compared with the reference walk of the guest's own tables. A randomized
 * differential test drives both through every guest paging mode, random guest tables that
 * alias each other and their data, CR3 switches, guest writes to live tables, INVLPG,
 * zap-all and a small page budget; directed tests check the cache, write protection and
 * memory accounting. tests/fuzz/fuzz_shadow.c drives the same model from fuzzer input.
 * unit-sources: mmu/mmu.c mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include "tests/unit/shadow_model.h"

static u64 unsynced_in_differential;

/* A random walk through accesses, guest table writes, CR3 switches (4-level: half of them
 * with PCIDs, keeping the TLB), flag changes, INVLPG and zap-alls in one paging mode. With unsync, the guest writes unsync tables itself and
 * the shadow may be stale, as a TLB may: each access is checked after a flush (the sync,
 * mmu_shadow_sync()), which must leave no stale leaf behind. */
static void differential(enum guest_paging_mode mode, u64 max_pages, unsigned steps, bool zap_slow,
			 bool unsync)
{
	vm_setup(max_pages, true);
	mmu.zap_slow = zap_slow;
	mmu_shadow_set_unsync(&mmu, unsync);
	set_guest(mode, TABLE_POOL, true, true, false, false);
	fill_tables();
	load_root();
	for (unsigned step = 0; step < steps; step++) {
		unsigned op = below(100);
		if (op < 70) {
			if (unseen_table_store)
				mmu_shadow_sync(&mmu);
			unseen_table_store = false;
			check_access(random_gva(), random_access());
		} else if (op < 80 && mode != GUEST_PAGING_OFF) {
			if (unsync)
				guest_store_table_entry();
			else
				store_table_entry();
		} else if (op < 88 && mode != GUEST_PAGING_OFF) {
			if (mode == GUEST_PAGING_4LEVEL && chance(50))
				switch_cr3_keeping_tlb();
			else
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
	unsynced_in_differential += mmu.shadow.stats.pages_unsynced;
	check_write_protection();
	vm_teardown();
}

/* ---- directed tests ------------------------------------------------------------------ */

#define PML4 16u
#define PDPT 17u
#define PD 18u
#define PT 19u
#define PML4_B 20u
#define PT_B 21u
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

/* A guest PD first under a PAE PDPTE (which takes no right away), then under a 4-level
 * PML4E with XD and a PDPTE granting no write or user access: the 4-level tree must not
 * link the PAE root page, whose PT's leaf was made without XD, so that a fetch through it
 * faults once a read through the PD's other entry has linked the PD (found by
 * fuzz_shadow: the PAE quarter's role once granted nothing, like this 4-level PD's). */
static void test_pae_root_not_reused_below_xd(void)
{
	vm_setup(1000, true);
	memset(ram, 0, RAM_GFNS * PAGE_SIZE);
	((u64 *)(ram + PML4 * PAGE_SIZE))[0] = PDPT << 12 | P | RW | US | GUEST_PTE_NX;
	((u64 *)(ram + PDPT * PAGE_SIZE))[0] = PD << 12 | P;
	((u64 *)(ram + PD * PAGE_SIZE))[0] = PT << 12 | P;
	((u64 *)(ram + PD * PAGE_SIZE))[1] = PT_B << 12 | P;
	((u64 *)(ram + PT * PAGE_SIZE))[1] = DATA << 12 | P;
	((u64 *)(ram + PT_B * PAGE_SIZE))[0] = (DATA + 1) << 12 | P;
	set_guest(GUEST_PAGING_PAE, PDPT, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, GUEST_ACCESS_FETCH).kind, RAM);
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x200000, 0).kind, RAM);		/* through PD[1] */
	struct outcome o = access_once(0x1000, GUEST_ACCESS_FETCH);
	CHECK(o.kind == PAGE_FAULT && (o.error_code & GUEST_PF_FETCH));
	check_access(0x1000, GUEST_ACCESS_FETCH);	/* and as the reference walk says */
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

/* A VM on build_4level()'s guest with its PT shadowed; returns the PT. */
static u64 *setup_shadowed_pt(void)
{
	vm_setup(1000, true);
	build_4level();
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);	/* builds PT's shadow */
	return (u64 *)(ram + PT * PAGE_SIZE);
}

/* An aligned full-width guest PTE write is mapped in place, so the next access needs no
 * fault; a partial write, or a PTE the walker must see first (A clear), is dropped; a
 * prefetched leaf of a shadowed table is read-only like one a fault installs. */
static void test_pte_prefetch(void)
{
	u64 *pt = setup_shadowed_pt();

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
/* Write flooding: a PT the guest fills entry by entry, using each entry after writing it
 * (through the prefetched leaf, no fault), stays shadowed; three writes with no use of
 * what they wrote unshadow it. */
/* CR0.WP = 0 with SMAP: a supervisor write (EFLAGS.AC = 1) to a read-only user page is
 * emulated, never mapped by a supervisor-only leaf, so a later supervisor read with AC = 0
 * still meets SMAP. (Found by fuzz_shadow: the leaf trick of WP = 0 hid the user page.) */
static void test_wp_clear_with_smap(void)
{
	u64 *pt = setup_shadowed_pt();
	pt[3] = (u64)(DATA + 1) << 12 | P | US | GUEST_PTE_ACCESSED | GUEST_PTE_DIRTY;
	set_guest(GUEST_PAGING_4LEVEL, PML4, false, true, false, true);	/* WP = 0, SMAP */
	load_root();
	unsigned write_with_ac = GUEST_ACCESS_WRITE | GUEST_ACCESS_SMAP_ALLOWED;
	for (int round = 0; round < 2; round++) {
		struct outcome o = access_once(0x3000, write_with_ac);
		CHECK(o.kind == EMULATED && o.gpa == (DATA + 1) * PAGE_SIZE);
		o = access_once(0x3000, 0);
		CHECK(o.kind == PAGE_FAULT && o.error_code == GUEST_PF_PRESENT);
		CHECK_EQ(access_once(0x3000, GUEST_ACCESS_SMAP_ALLOWED).kind, RAM);
	}
	vm_teardown();
}

/* shadow_unsync=on: the first write to a PT leaves it unsync and writable (the store is
 * not emulated: the guest re-runs it); the guest's own stores are then unseen and the shadow may be
 * stale, as a TLB may, until INVLPG drops the leaf or a flush syncs the page (and
 * write-protects it again); a stale page linked again through a new entry is synced
 * first, since no TLB could hold its entries for it. */
static void test_unsync(void)
{
	u64 *pt = setup_shadowed_pt();
	u64 *pd = (u64 *)(ram + PD * PAGE_SIZE);
	mmu_shadow_set_unsync(&mmu, true);
	struct outcome o = access_once(0x2020, GUEST_ACCESS_WRITE);		/* PT[4] */
	CHECK(o.kind == RAM && o.gpa == PT * PAGE_SIZE + 0x20);
	CHECK_EQ(mmu.shadow.stats.pages_unsynced, 1);
	CHECK(gfn_is_shadowed(PT) && !gfn_is_write_protected(PT));
	check_write_protection();

	u64 leaf = P | RW | US | GUEST_PTE_ACCESSED;
	pt[1] = (u64)(DATA + 5) << 12 | leaf;		/* the guest's store: no exit */
	CHECK_EQ(access_once(0x1000, 0).gpa, DATA * PAGE_SIZE);	/* stale, as a TLB may be */
	mmu_shadow_sync(&mmu);				/* MOV CR3 */
	CHECK_EQ(access_once(0x1000, 0).gpa, (DATA + 5) * PAGE_SIZE);
	CHECK(mmu.shadow.stats.sync_drops >= 1);
	CHECK(gfn_is_write_protected(PT));
	check_write_protection();

	CHECK_EQ(access_once(0x2030, GUEST_ACCESS_WRITE).kind, RAM);		/* unsync again */
	CHECK_EQ(mmu.shadow.stats.pages_unsynced, 2);
	pt[1] = (u64)(DATA + 6) << 12 | leaf;
	mmu_shadow_invlpg(&mmu, &vcpu, 0x1000);
	CHECK_EQ(access_once(0x1000, 0).gpa, (DATA + 6) * PAGE_SIZE);

	/* unlinked, rewritten, linked again (by an access through another of its entries):
	 * the rewritten entry shows, with no flush */
	pt[3] = (u64)(DATA + 1) << 12 | leaf;
	CHECK_EQ(access_once(0x3000, 0).kind, RAM);
	pd[0] = 0;
	mmu_shadow_guest_wrote(&mmu, PD * PAGE_SIZE, 8);	/* the PD is write-protected */
	mmu_shadow_sync(&mmu);		/* unlinked: left unsync (parked), still writable */
	CHECK(gfn_is_shadowed(PT) && !gfn_is_write_protected(PT));
	pt[1] = 0;
	pd[0] = (u64)PT << 12 | P | RW | US | GUEST_PTE_ACCESSED;
	mmu_shadow_guest_wrote(&mmu, PD * PAGE_SIZE, 8);
	CHECK_EQ(access_once(0x3000, 0).kind, RAM);
	o = access_once(0x1000, 0);
	CHECK(o.kind == PAGE_FAULT && o.error_code == 0);
	vm_teardown();
}

/* A fork write-protects the parent's PTEs, which an unsync PT takes unseen: at the next
 * flush each such leaf keeps its page with the rights left (a read does not fault), and a
 * write then faults to the guest. */
static void test_unsync_narrowing(void)
{
	u64 *pt = setup_shadowed_pt();
	mmu_shadow_set_unsync(&mmu, true);
	CHECK_EQ(access_once(0x1000, GUEST_ACCESS_WRITE).kind, RAM);	/* D set: writable */
	CHECK_EQ(access_once(0x2020, GUEST_ACCESS_WRITE).kind, RAM);	/* PT unsync */
	CHECK(pt[1] & GUEST_PTE_DIRTY);
	pt[1] &= ~(u64)RW;				/* the guest's store: no exit */
	mmu_shadow_sync(&mmu);				/* MOV CR3 */
	CHECK_EQ(mmu.shadow.stats.sync_narrowed, 1);
	CHECK_EQ(mmu.shadow.stats.sync_drops, 0);
	u64 fixed = mmu.shadow.stats.faults_fixed;
	CHECK_EQ(access_once(0x1000, 0).gpa, DATA * PAGE_SIZE);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed);	/* the leaf stayed */
	struct outcome o = access_once(0x1000, GUEST_ACCESS_WRITE);
	CHECK(o.kind == PAGE_FAULT && o.error_code == (GUEST_PF_PRESENT | GUEST_PF_WRITE));
	check_write_protection();
	vm_teardown();
}

/* With CR4.PCIDE, a MOV CR3 keeping the TLB goes back to a kept root without a sync. Two
 * trees, A (PML4) and B (PML4_B, its own PDPT, PD and PT): B's PT, unsync, is rewritten
 * while A runs, and an INVLPG in A (which drops global translations in every PCID) must
 * reach B's tree, so B shows the new page once loaded again with no sync. A CR3 not kept
 * goes the general way; a new paging role releases the kept roots. */
#define PDPT_B 22u
#define PD_B 23u
static void test_kept_roots(void)
{
	u64 t = P | RW | US, leaf = t | GUEST_PTE_ACCESSED;
	u64 *pt_b = (u64 *)(ram + PT_B * PAGE_SIZE);
	u64 cr3_a = gfn_to_gpa(PML4) | 1, cr3_b = gfn_to_gpa(PML4_B) | 2;
	setup_shadowed_pt();
	mmu_shadow_set_unsync(&mmu, true);
	((u64 *)(ram + PML4_B * PAGE_SIZE))[0] = PDPT_B << 12 | t;
	((u64 *)(ram + PDPT_B * PAGE_SIZE))[0] = PD_B << 12 | t;
	((u64 *)(ram + PD_B * PAGE_SIZE))[0] = PT_B << 12 | t;
	pt_b[1] = (u64)(DATA + 1) << 12 | t;
	pt_b[2] = (u64)PT_B << 12 | t;			/* B's PT at gva 0x2000 */
	guest.pcide = true;
	guest.cr3 = cr3_a;
	mmu_shadow_sync(&mmu);
	load_root();
	CHECK_EQ(access_once(0x1000, 0).gpa, DATA * PAGE_SIZE);
	CHECK(!mmu_shadow_load_kept_root(&mmu, &vcpu, cr3_b));	/* never loaded: not kept */
	guest.cr3 = cr3_b;
	mmu_shadow_sync(&mmu);
	load_root();					/* A is kept */
	CHECK_EQ(access_once(0x1000, 0).gpa, (DATA + 1) * PAGE_SIZE);
	CHECK_EQ(access_once(0x2010, GUEST_ACCESS_WRITE).kind, RAM);	/* B's PT unsync */

	u64 syncs = mmu.shadow.stats.syncs, created = mmu.shadow.stats.pages_created;
	guest.cr3 = cr3_a;
	CHECK(mmu_shadow_load_kept_root(&mmu, &vcpu, cr3_a));	/* B is kept */
	CHECK_EQ(vcpu.shadow.paging.cr3, cr3_a);
	CHECK_EQ(access_once(0x1000, 0).gpa, DATA * PAGE_SIZE);	/* A's tree, as it was */
	pt_b[1] = (u64)(DATA + 7) << 12 | leaf;	/* the guest's store to B's PT: no exit */
	mmu_shadow_invlpg(&mmu, &vcpu, 0x1000);
	guest.cr3 = cr3_b;
	CHECK(mmu_shadow_load_kept_root(&mmu, &vcpu, cr3_b));
	CHECK_EQ(mmu.shadow.stats.syncs, syncs);			/* no sync */
	CHECK_EQ(mmu.shadow.stats.pages_created, created);		/* no page built */
	CHECK_EQ(access_once(0x1000, 0).gpa, (DATA + 7) * PAGE_SIZE);
	CHECK_EQ(mmu.shadow.stats.kept_root_loads, 2);
	CHECK(mmu_shadow_load_kept_root(&mmu, &vcpu, cr3_b));	/* the same CR3: nothing to do */
	CHECK_EQ(mmu.shadow.stats.kept_root_loads, 2);

	/* CR0.WP cleared: a new role, so A is no longer kept */
	set_guest(GUEST_PAGING_4LEVEL, PML4_B, false, true, false, false);
	guest.pcide = true;
	guest.cr3 = cr3_b;
	mmu_shadow_sync(&mmu);
	load_root();
	CHECK(!mmu_shadow_load_kept_root(&mmu, &vcpu, cr3_a));
	check_write_protection();
	vm_teardown();
}

/* mmu_shadow_leaf_gpa(): a leaf with the rights asked for names its gpa; none, one
 * without them (XD, a supervisor page for CPL 3) or with one refused (a user page for a
 * supervisor read under SMAP), sends the caller to the walk. */
static void test_leaf_gpa(void)
{
	u64 *pt = setup_shadowed_pt();			/* gva 0x1000 -> DATA, read */
	u64 gpa = 0;
	CHECK(mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x1234, ACC_EXEC | ACC_USER, 0, &gpa));
	CHECK_EQ(gpa, DATA * PAGE_SIZE + 0x234);
	CHECK(!mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x5000, ACC_EXEC, 0, &gpa));	/* no leaf */
	pt[3] = (u64)(DATA + 1) << 12 | P | RW | GUEST_PTE_NX;
	CHECK_EQ(access_once(0x3000, 0).kind, RAM);
	CHECK(!mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x3000, ACC_EXEC, 0, &gpa));	/* XD */
	pt[4] = (u64)(DATA + 2) << 12 | P | RW;
	CHECK_EQ(access_once(0x4000, 0).kind, RAM);
	CHECK(mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x4000, ACC_EXEC, 0, &gpa));
	CHECK(!mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x4000, ACC_EXEC | ACC_USER, 0, &gpa));	/* supervisor page */
	CHECK(mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x4000, 0, ACC_USER, &gpa));
	CHECK(!mmu_shadow_leaf_gpa(&mmu, &vcpu, 0x1000, 0, ACC_USER, &gpa));	/* a user page */
	vm_teardown();
}

#define WRITE_FLOOD_WRITES 3	/* mmu/shadow.c's WRITE_FLOOD_LIMIT */

static void test_write_flooding(void)
{
	u64 *pt = setup_shadowed_pt();
	u64 unshadowed = mmu.shadow.stats.pages_unshadowed, fixed = mmu.shadow.stats.faults_fixed;
	for (unsigned e = 8; e < 24; e++) {
		pt[e] = (u64)(DATA + e % 4) << 12 | P | RW | US | GUEST_PTE_ACCESSED | GUEST_PTE_DIRTY;
		mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + e * 8, 8);
		CHECK_EQ(access_once((u64)e << 12, 0).kind, RAM);
	}
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed);		/* every entry was prefetched */
	CHECK_EQ(mmu.shadow.stats.pages_unshadowed, unshadowed);
	CHECK(gfn_is_shadowed(PT));
	for (unsigned e = 24; e < 24 + WRITE_FLOOD_WRITES; e++) {
		pt[e] = (u64)DATA << 12 | P | RW | GUEST_PTE_ACCESSED | GUEST_PTE_DIRTY;
		mmu_shadow_guest_wrote(&mmu, PT * PAGE_SIZE + e * 8, 8);
	}
	CHECK_EQ(mmu.shadow.stats.pages_unshadowed, unshadowed + 1);
	CHECK(!gfn_is_shadowed(PT));
	check_write_protection();
	vm_teardown();
}

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

/* A page zapped with every entry dropped is a spare (mmu.nspare): the next page takes its
 * memory, with no allocation and a table that is all 0 again. A zap-all's obsolete pages
 * are freed whole: they keep stale entries. */
static void test_spare_pages(void)
{
	u64 *pt = setup_shadowed_pt();			/* gva 0x1000 -> DATA */
	CHECK_EQ(mmu.nspare, 0);
	pt[5] = (u64)(DATA + 1) << 12 | P | RW | US;
	CHECK(mmu_shadow_unprotect(&mmu, PT));		/* PT's shadow zapped */
	CHECK_EQ(mmu.nspare, 1);
	u64 free_pages = page_alloc_free_pages(), created = mmu.shadow.stats.pages_created;
	CHECK_EQ(access_once(0x5000, 0).kind, RAM);	/* PT shadowed again */
	CHECK_EQ(mmu.shadow.stats.pages_created, created + 1);
	CHECK_EQ(mmu.nspare, 0);
	CHECK_EQ(page_alloc_free_pages(), free_pages);	/* the spare's memory, rmap block too */
	CHECK_EQ(access_once(0x1000, 0).kind, RAM);
	mmu_zap_all(&mmu);
	CHECK_EQ(mmu.nspare, 0);
	check_write_protection();
	vm_teardown();
}

/* Many pages in 4-level trees, the current one in use as the vCPU's root. */
static void build_address_spaces(void)
{
	set_guest(GUEST_PAGING_4LEVEL, TABLE_POOL, true, true, false, false);
	fill_tables();
	load_root();
	for (unsigned space = 0; space < 4; space++) {
		if (space)
			switch_cr3(GUEST_PAGING_4LEVEL);
		for (unsigned i = 0; i < 500; i++)
			check_access(random_gva(), random_access());
	}
}

/* Many small VMs, each with four 4-level address spaces over random tables that alias
 * each other (large pages among them, CR0.WP = 0 in some): two guest large pages of one
 * guest-physical range share a direct shadow page only while they give its leaves the
 * same rights. Found by this test: a page shared by a clean and a dirty large page (a
 * write through the clean one set no D bit), and an MMIO spte that kept one mapping's
 * rights for another. */
static void test_shared_direct_pages(void)
{
	for (unsigned vm = 0; vm < 300; vm++) {
		vm_setup(1000, true);
		build_address_spaces();
		check_write_protection();
		vm_teardown();
	}
}

/*
 * Zap-all, fast or slow, from MMU generation start_generation (UINT64_MAX: it wraps).
 * Afterwards no lookup finds a page built before (no table is shadowed), the vCPU's root
 * waits for it and is reloaded on the entry path, fast zap-all freed every other page in
 * batches of MMU_ZAP_BATCH without visiting their sptes, and accesses again match the
 * reference walk; teardown gives back every page.
 */
static void test_zap_all(bool slow, u64 start_generation)
{
	u64 free_before = page_alloc_free_pages();
	vm_setup(1000, true);
	mmu.zap_slow = slow;
	mmu.generation = start_generation;
	build_address_spaces();
	for (unsigned more = 0; more < 50 && mmu.npages <= 3 * MMU_ZAP_BATCH; more++) {
		switch_cr3(GUEST_PAGING_4LEVEL);
		for (unsigned i = 0; i < 500; i++)
			check_access(random_gva(), random_access());
	}
	set_guest(GUEST_PAGING_4LEVEL, TABLE_POOL, true, true, false, false);
	load_root();
	u64 pages = mmu.npages, reloads = mmu.stats.root_reloads;
	CHECK(pages > 3 * MMU_ZAP_BATCH);	/* several batches */
	struct mmu_stats before = mmu.stats;
	u64 roots_generation = mmu.roots_generation;
	mmu_zap_all(&mmu);
	CHECK(mmu.roots_generation != roots_generation);
	CHECK_EQ(mmu.stats.zap_alls, before.zap_alls + 1);
	CHECK_EQ(mmu.npages, 1);	/* the root in use */
	for (gfn_t t = TABLE_POOL; t < TABLE_POOL + TABLE_POOL_SIZE; t++)
		CHECK(!gfn_is_shadowed(t));
	if (!slow) {
		CHECK_EQ(mmu.generation, start_generation + 1);
		CHECK(list_empty(&mmu.active_pages));
		CHECK_EQ(mmu.stats.obsolete_pages_freed, before.obsolete_pages_freed + pages);
		/* at most MMU_ZAP_BATCH pages per hold (more holds if the time budget ran out) */
		u64 batches = mmu.stats.zap_batches - before.zap_batches;
		CHECK(batches >= (pages + MMU_ZAP_BATCH - 1) / MMU_ZAP_BATCH && batches <= pages);
		CHECK(list_first_entry(&mmu.shadow.obsolete_roots, struct mmu_page,
				       active_link) == vcpu.shadow.root);
	} else {
		CHECK_EQ(mmu.stats.obsolete_pages_freed, before.obsolete_pages_freed);
		CHECK(vcpu.shadow.root->role.invalid);
	}
	before_entry();
	CHECK_EQ(mmu.stats.root_reloads, reloads + 1);
	CHECK(list_empty(&mmu.shadow.obsolete_roots));
	CHECK_EQ(mmu.npages, 1);	/* the new root */
	CHECK_EQ(vcpu.shadow.root->generation, mmu.generation);
	for (unsigned i = 0; i < 2000; i++)
		check_access(random_gva(), random_access());
	check_write_protection();
	CHECK(mmu.stats.lock_hold_max > 0);
	vm_teardown();
	CHECK_EQ(page_alloc_free_pages(), free_before);
}

/* Whether any present leaf maps a gfn in [base, base + n). */
static bool leaf_maps_range(gfn_t base, u64 n)
{
	struct mmu_page *page;
	list_for_each_entry(page, &mmu.active_pages, active_link) {
		if (page->role.level != 1)
			continue;
		for (unsigned i = 0; i < SPTE_ENTRIES; i++)
			if (spte_is_present(page->spt[i]) && mmu_page_leaf_gfn(page, i) - base < n)
				return true;
	}
	return false;
}

static void random_accesses(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		check_access(random_gva(), random_access());
}

static u32 add_ram_slot(gfn_t base, u64 n)
{
	u32 id;
	CHECK_EQ(memslot_add(&mmu, base, n, ram_hpa + gfn_to_gpa(base), 0, &id), 0);
	return id;
}

/*
 * Slot changes under live shadow mappings. RAM is split in two slots: the low one holds
 * every guest table (TABLE_POOL), the high one only data (DATA_POOL). Deleting or moving
 * the data slot zaps its gfns through the rmaps and keeps every shadow page; deleting the
 * table slot, which holds all the guest tables, zaps all. Re-adding a slot zaps nothing.
 * After each change the guest's accesses agree with the reference walker, which sees the
 * slots as they are (a deleted slot's gfns are MMIO, its tables not RAM).
 */
static void test_slot_changes(bool slow)
{
	u64 free_before = page_alloc_free_pages();
	struct memslot gone;
	vm_setup(1000, true);
	mmu.zap_slow = slow;
	CHECK_EQ(memslot_delete(&mmu, memslot_find(&mmu.memslots, NULL, 0)->id, &gone), 0);
	u32 tables = add_ram_slot(0, DATA_POOL), data = add_ram_slot(DATA_POOL, RAM_GFNS - DATA_POOL);
	build_address_spaces();
	CHECK(leaf_maps_range(DATA_POOL, DATA_POOL_SIZE));
	CHECK(memslot_find(&mmu.memslots, NULL, TABLE_POOL)->shadowed_tables > 0);
	CHECK_EQ(memslot_find(&mmu.memslots, NULL, DATA_POOL)->shadowed_tables, 0);

	u64 pages = mmu.npages, zap_alls = mmu.stats.zap_alls, reloads = mmu.stats.root_reloads;
	CHECK_EQ(memslot_delete(&mmu, data, &gone), 0);
	CHECK(!leaf_maps_range(DATA_POOL, RAM_GFNS - DATA_POOL));
	CHECK_EQ(mmu.stats.zap_alls, zap_alls);
	CHECK_EQ(mmu.npages, pages);	/* every shadow page kept */
	CHECK(mmu.stats.last_op_hold_max > 0 && mmu.stats.last_op_ticks >= mmu.stats.last_op_hold_max);
	random_accesses(1000);		/* the data gfns are MMIO now */
	check_write_protection();

	data = add_ram_slot(DATA_POOL, RAM_GFNS - DATA_POOL);
	CHECK_EQ(mmu.stats.zap_alls, zap_alls);
	random_accesses(1000);		/* RAM again: the MMIO sptes were stale */

	CHECK_EQ(memslot_move(&mmu, data, 2 * RAM_GFNS), 0);
	CHECK(!leaf_maps_range(DATA_POOL, RAM_GFNS - DATA_POOL));
	CHECK_EQ(mmu.stats.zap_alls, zap_alls);
	CHECK_EQ(memslot_delete(&mmu, data, &gone), 0);
	data = add_ram_slot(DATA_POOL, RAM_GFNS - DATA_POOL);
	CHECK_EQ(mmu.stats.root_reloads, reloads);	/* no root lived in the data slot */

	CHECK_EQ(memslot_delete(&mmu, tables, &gone), 0);
	CHECK_EQ(mmu.stats.zap_alls, zap_alls + 1);	/* it held every guest table */
	CHECK_EQ(mmu.shadow.guest_tables, 0);
	random_accesses(500);		/* the guest's tables are not RAM */
	tables = add_ram_slot(0, DATA_POOL);
	random_accesses(1000);
	check_write_protection();
	vm_teardown();
	CHECK_EQ(page_alloc_free_pages(), free_before);
}

/*
 * A fault through a guest large page maps the rest of its aligned group of leaves too, as
 * a fault would map each: gfns in no slot are left to their own fault (MMIO), a shadowed
 * guest table inside the large page is read-only, a clean large page's leaves are too
 * (the first write faults so the walker sets D). The guest's large pages: gva 2 MiB ->
 * gfns 512.. (dirty), gva 6 MiB -> the same gfns (clean); gfn 515 is a guest PT (for gva
 * 4 MiB), gfn 516 in no slot.
 */
static void test_direct_prefetch(void)
{
	struct memslot gone;
	vm_setup(1000, true);
	build_4level();
	CHECK_EQ(memslot_delete(&mmu, memslot_find(&mmu.memslots, NULL, 0)->id, &gone), 0);
	add_ram_slot(0, 516);
	add_ram_slot(517, RAM_GFNS - 517);
	u64 *pd = (u64 *)(ram + PD * PAGE_SIZE);
	u64 large = P | RW | US | PS | GUEST_PTE_ACCESSED;
	pd[1] = 512ull << 12 | large | GUEST_PTE_DIRTY;
	pd[2] = 515ull << 12 | P | RW | US;
	pd[3] = 512ull << 12 | large;
	((u64 *)(ram + 515 * PAGE_SIZE))[0] = (u64)DATA << 12 | P | RW | US;
	set_guest(GUEST_PAGING_4LEVEL, PML4, true, true, false, false);
	load_root();
	CHECK_EQ(access_once(4ull << 20, 0).kind, RAM);		/* shadows gfn 515 */

	u64 prefetched = mmu.shadow.stats.fault_prefetches, fixed = mmu.shadow.stats.faults_fixed;
	CHECK_EQ(access_once((2ull << 20) + 2 * PAGE_SIZE, GUEST_ACCESS_WRITE).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed + 1);
	CHECK_EQ(mmu.shadow.stats.fault_prefetches, prefetched + 6);	/* 512..519 but 514, 516 */
	for (unsigned i = 0; i < 8; i++) {
		struct outcome o = access_once((2ull << 20) + i * PAGE_SIZE,
					       i == 3 || i == 4 ? 0 : GUEST_ACCESS_WRITE);
		CHECK_EQ(o.kind, i == 4 ? MMIO : RAM);
	}
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed + 1);	/* the MMIO gfn's own fault aside */
	CHECK_EQ(access_once((2ull << 20) + 3 * PAGE_SIZE, GUEST_ACCESS_WRITE).kind, EMULATED);

	fixed = mmu.shadow.stats.faults_fixed;
	CHECK_EQ(access_once((6ull << 20) + PAGE_SIZE, 0).kind, RAM);
	CHECK_EQ(access_once((6ull << 20) + 2 * PAGE_SIZE, 0).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed + 1);
	CHECK_EQ(access_once((6ull << 20) + 2 * PAGE_SIZE, GUEST_ACCESS_WRITE).kind, RAM);
	CHECK_EQ(mmu.shadow.stats.faults_fixed, fixed + 2);
	CHECK(pd[3] & GUEST_PTE_DIRTY);
	check_write_protection();
	vm_teardown();
}

int main(void)
{
	arena_init();
	test_pae_root_not_reused_below_xd();
	test_cache_across_cr3();
	test_write_protection();
	test_pte_prefetch();
	test_write_flooding();
	test_unsync();
	test_unsync_narrowing();
	test_kept_roots();
	test_leaf_gpa();
	test_wp_clear_with_smap();
	test_memory_accounting();
	test_spare_pages();
	test_shared_direct_pages();
	test_zap_all(false, 0);
	test_zap_all(false, UINT64_MAX);
	test_zap_all(true, 0);
	test_slot_changes(false);
	test_direct_prefetch();
	test_slot_changes(true);
	static const enum guest_paging_mode modes[] = {
		GUEST_PAGING_OFF, GUEST_PAGING_32, GUEST_PAGING_PAE, GUEST_PAGING_4LEVEL,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
		differential(modes[i], 1000, 20000, false, false);
		differential(modes[i], 64, 20000, false, false);
		differential(modes[i], 1000, 5000, true, false);
		differential(modes[i], 1000, 20000, false, true);
		differential(modes[i], 64, 20000, false, true);
	}
	CHECK(unsynced_in_differential > 0);
	return unit_done("shadow");
}
