/* libFuzzer target for the shadow MMU: the differential test of tests/unit/test_shadow.c
 * with the fuzzer's bytes making every choice. Each access through the CPU model of
 * tests/unit/shadow_model.h (shadow tables, #PFs to mmu_shadow_page_fault()) must end as
 * the reference walk of the guest's own tables does, after every operation the
 * write-protection invariant and the page budget must hold, and at the end of the input
 * the rmaps and parent links must match the entries and a zap-all must leave nothing
 * behind; anything else aborts.
 * unit-sources: mmu/mmu.c mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include "tests/unit/shadow_model.h"

/*
 * Input layout: a 4-byte header, then operations until the input ends or MAX_OPS have run.
 *
 *   byte 0  guest paging mode (mod 4: off, 32-bit, PAE, 4-level)
 *   byte 1  flags: FUZZ_*
 *   byte 2  shadow page budget: 64 + (byte & 63) pages, or 1000 when bit 7 is set
 *   byte 3  seed of the initial guest tables (filled as the unit test does); 0: all empty
 *
 * Each operation is an opcode byte and the bytes its choices take (below() takes one byte,
 * two for more than 256 choices; an exhausted input answers 0):
 *
 *   OP_ACCESS     gva (as random_gva() draws it), access-kind byte: bit 1 write, bit 2
 *                 user, bit 4 fetch (drops write), bit 7 EFLAGS.AC for a supervisor
 *                 data access; then the entry stored if it is an emulated write
 *   OP_STORE      a full-width entry of a pool table, as an emulated guest store (with
 *                 FUZZ_UNSYNC the guest's own, unseen where the table is unsync; the next
 *                 OP_ACCESS flushes the TLB first, so the shadow it checks is in sync)
 *   OP_PARTIAL    1, 2 or 4 bytes within such an entry (a torn or byte store)
 *   OP_CR3        MOV CR3 to one of the first pool tables, with new WP, NXE, SMEP, SMAP
 *                 (FUZZ_PCID, 4-level: the same flags, PCID 0-3, keeping the TLB)
 *   OP_MODE       a paging-mode change (mode byte), then as OP_CR3
 *   OP_INVLPG     INVLPG of a gva
 *   OP_ZAP_ALL    mmu_zap_all()
 */
enum fuzz_flag {
	FUZZ_WP = BIT(0), FUZZ_NXE = BIT(1), FUZZ_SMEP = BIT(2), FUZZ_SMAP = BIT(3),
	FUZZ_NO_CACHE = BIT(4),	/* shadow_cache=off */
	FUZZ_ZAP_SLOW = BIT(5),	/* zap=slow: every zap-all, the last one too, spte by spte */
	FUZZ_UNSYNC = BIT(6),	/* shadow_unsync=on: OP_STORE is the guest's own store */
	FUZZ_PCID = BIT(7),	/* 4-level: OP_CR3 is a MOV CR3 keeping the TLB (PCIDs) */
};

enum fuzz_op {
	OP_ACCESS, OP_STORE, OP_PARTIAL, OP_CR3, OP_MODE, OP_INVLPG, OP_ZAP_ALL, OP_COUNT
};

/* Operations per input, at most; the bytes after them are ignored. An input's time grows
 * with its operations, each followed by a scan of every level-1 page (check_state()), and
 * inputs grow towards libFuzzer's 4096-byte default limit, about 1000 operations, over a
 * campaign. 256 keep every edge the kept corpus reached without a bound (its inputs ran
 * 100 operations in the median, 322 at most) and fill any budget but the 1000-page one. */
#define MAX_OPS 256

static const u8 *input;
static size_t input_left;

static unsigned input_below(unsigned n)
{
	unsigned value = 0;
	for (unsigned i = 0; i < (n > 256 ? 2 : 1) && input_left; i++, input_left--)
		value |= (unsigned)*input++ << (8 * i);
	return value % n;
}

static unsigned input_byte(void) { return input_below(256); }

static unsigned decode_access(unsigned byte)
{
	unsigned access = byte & (GUEST_ACCESS_WRITE | GUEST_ACCESS_USER | GUEST_ACCESS_FETCH);
	if (access & GUEST_ACCESS_FETCH)
		access &= ~GUEST_ACCESS_WRITE;	/* no instruction fetch writes */
	if ((byte & BIT(7)) && !(access & (GUEST_ACCESS_USER | GUEST_ACCESS_FETCH)))
		access |= GUEST_ACCESS_SMAP_ALLOWED;
	return access;
}

static void partial_store(void)
{
	u64 gpa;
	bool allowed = random_table_entry(&gpa);
	unsigned entry_size = four_byte() ? 4 : 8;
	unsigned size = 1u << input_below(entry_size == 8 ? 3 : 2);	/* 1, 2 or 4 */
	unsigned offset = input_below(entry_size);
	if (allowed)
		emulate_store_sized(gpa + offset, size);
}

/* After every operation: nothing the CHECKs of the model saw went wrong, and the
 * invariants hold. */
static CHECKER void check_state(u64 max_pages)
{
	CHECK(mmu.npages <= MAX(max_pages, 64));
	check_write_protection();
	if (unit_failures)
		abort();
}

/*
 * One MMU for every input. mmu_shadow_init() empties 40960 hash buckets, and each fast
 * zap-all visits the 16384 of the rmap table (shadow_drain_rmaps()): under the fuzzer's
 * instrumentation that took more than most inputs' operations. So the MMU is set up once,
 * with rmap tables of RMAP_BUCKETS buckets (16 of this guest's 1024 gfns share each, as
 * in the real table with a 1 GiB guest: the same code runs), and kept in initial_mmu.
 * Each input starts from a copy of it with the fields mmu_shadow_init() takes from its
 * arguments set for the input (the list heads in it point into mmu, where it was set up,
 * so a copy back into mmu is an empty MMU), and ends with a zap-all that must leave
 * nothing in the hash tables the copies share (mmu_finish()).
 */
#define RMAP_BUCKETS 64u
static struct mmu initial_mmu;

static void mmu_setup_once(void)
{
	arena_init();
	CHECK(mmu_shadow_init(&mmu, 64, true, PHYS_BITS) == NULL);
	hash_init(&mmu.shadow.rmaps, mmu.shadow.rmaps.buckets, RMAP_BUCKETS);
	hash_init(&mmu.shadow.rmaps_draining, mmu.shadow.rmaps_draining.buckets, RMAP_BUCKETS);
	initial_mmu = mmu;
}

/*
 * Guest RAM is zeroed where the last input wrote it. The model writes it only through
 * ram_store(); the one other writer, the MMU's guest walker, sets A and D by
 * compare-exchange in an entry it read as present, so only in a page a store of the
 * model had made non-zero.
 */
static void ram_clear_written(void)
{
	for (size_t gfn = bitmap_find_next_set(ram_written, RAM_GFNS, 0); gfn < RAM_GFNS;
	     gfn = bitmap_find_next_set(ram_written, RAM_GFNS, gfn + 1))
		memset(ram + gfn_to_gpa(gfn), 0, PAGE_SIZE);
	memset(ram_written, 0, sizeof(ram_written));
}

static void mmu_start(u64 max_pages, bool cache, bool zap_slow)
{
	mmu = initial_mmu;
	mmu.shadow.max_pages = max_pages;
	mmu.shadow.cache = cache;
	mmu.zap_slow = zap_slow;
	ram_clear_written();
	guest_setup();
}

static CHECKER bool buckets_empty(const struct hash_table *table)
{
	for (u64 b = 0; b <= table->mask; b++)
		if (table->buckets[b].first)
			return false;
	return true;
}

static CHECKER bool mmu_empty(void)
{
	const struct mmu_shadow *s = &mmu.shadow;
	return mmu.npages == 0 && list_empty(&mmu.active_pages) &&
	       list_empty(&s->obsolete_roots) && list_empty(&s->unsync_pages) &&
	       buckets_empty(&s->pages_by_gfn) && buckets_empty(&s->pages_by_hpa) &&
	       buckets_empty(&s->rmaps) && buckets_empty(&s->rmaps_draining);
}

static CHECKER struct mmu_page *page_at(u64 table_hpa)
{
	u64 pfn = table_hpa >> PAGE_SHIFT;
	struct hlist_node *node = hlist_find_key(hash_bucket_low_bits(&mmu.shadow.pages_by_hpa, pfn)->first,
						 pfn);
	return node ? container_of(node, struct mmu_page, hpa_link) : NULL;
}

static CHECKER bool rmap_holds(gfn_t gfn, const u64 *sptep)
{
	for (struct hlist_node *node = hlist_find_key(hash_bucket(&mmu.shadow.rmaps, gfn)->first, gfn);
	     node; node = hlist_find_key(node->next, gfn))
		if (mmu_rmap_sptep(node) == sptep)
			return true;
	return false;
}

static CHECKER bool parents_hold(const struct mmu_page *child, const u64 *sptep)
{
	for (const struct spte_ref *ref = child ? child->parents : NULL; ref; ref = ref->next)
		if (ref->sptep == sptep)
			return true;
	return false;
}

static CHECKER u64 rmap_entries(void)
{
	const struct hash_table *rmaps = &mmu.shadow.rmaps;
	u64 n = 0;
	for (u64 b = 0; b <= rmaps->mask; b++)
		for (const struct hlist_node *node = rmaps->buckets[b].first; node; node = node->next)
			n++;
	return n;
}

/*
 * What zapping a page spte by spte relies on, checked at the end of each input: every
 * non-zero entry of every page is marked in page->used (check_write_protection() sees to
 * level-1 pages after every operation), every present leaf is in the rmap of the gfn it
 * maps, every table entry in the parents of the page it points at, and neither holds
 * anything else (the counts match). A fast zap-all frees pages without visiting their
 * sptes, so nothing else would see a stale link.
 */
static CHECKER void check_links(void)
{
	u64 leaves = 0, tables = 0, parent_refs = 0;
	bool ok = true;
	struct mmu_page *page;
	list_for_each_entry(page, &mmu.active_pages, active_link) {
		for (unsigned i = next_nonzero(page->spt, 0); i < SPTE_ENTRIES;
		     i = next_nonzero(page->spt, i + 1)) {
			const u64 *sptep = &page->spt[i];
			ok &= bitmap_test_bit(page->used, i);
			if (!spte_is_present(*sptep))
				continue;
			if (page->role.level == 1) {
				leaves++;
				ok &= rmap_holds(mmu_page_leaf_gfn(page, i), sptep);
			} else {
				tables++;
				ok &= parents_hold(page_at(spte_address(*sptep)), sptep);
			}
		}
		for (const struct spte_ref *ref = page->parents; ref; ref = ref->next)
			parent_refs++;
	}
	CHECK(ok);
	CHECK_EQ(rmap_entries(), leaves);
	CHECK_EQ(parent_refs, tables);
}

/* The vCPU lets go of its roots (an obsolete one is freed, an invalid one zapped), the
 * links are checked, then a zap-all frees every page and must leave nothing behind. */
static void mmu_finish(void)
{
	mmu_shadow_vcpu_destroy(&mmu, &vcpu);
	check_links();
	mmu_zap_all(&mmu);
	CHECK(mmu_empty());
	mmu_free_spare_pages(&mmu);	/* the next input's copy of initial_mmu has none */
	if (unit_failures)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	if (!initialised) {
		mmu_setup_once();
		initialised = true;
	}
	if (size < 4)
		return 0;
	enum guest_paging_mode mode = data[0] % 4;
	u8 flags = data[1];
	u64 max_pages = data[2] & BIT(7) ? 1000 : 64 + (data[2] & 63);
	u8 seed = data[3];
	input = data + 4;
	input_left = size - 4;

	mmu_start(max_pages, !(flags & FUZZ_NO_CACHE), flags & FUZZ_ZAP_SLOW);
	mmu_shadow_set_unsync(&mmu, flags & FUZZ_UNSYNC);
	unseen_table_store = false;
	set_guest(mode, TABLE_POOL, flags & FUZZ_WP, flags & FUZZ_NXE, flags & FUZZ_SMEP,
		  flags & FUZZ_SMAP);
	if (seed) {
		below_source = rnd_below;
		rng = 0x2545f4914f6cdd1dull * seed;
		fill_tables();
	}
	below_source = input_below;
	load_root();
	check_state(max_pages);

	for (unsigned ops = 0; input_left && ops < MAX_OPS; ops++) {
		switch (input_byte() % OP_COUNT) {
		case OP_ACCESS: {
			u64 gva = random_gva();
			if (unseen_table_store)
				mmu_shadow_sync(&mmu);
			unseen_table_store = false;
			check_access(gva, decode_access(input_byte()));
			break;
		}
		case OP_STORE:
			if (flags & FUZZ_UNSYNC)
				guest_store_table_entry();
			else
				store_table_entry();
			break;
		case OP_PARTIAL:
			partial_store();
			break;
		case OP_CR3:
			if ((flags & FUZZ_PCID) && guest.mode == GUEST_PAGING_4LEVEL)
				switch_cr3_keeping_tlb();
			else
				switch_cr3(guest.mode);
			break;
		case OP_MODE:
			switch_cr3(input_byte() % 4);
			break;
		case OP_INVLPG:
			mmu_shadow_invlpg(&mmu, &vcpu, random_gva());
			break;
		case OP_ZAP_ALL:
			mmu_zap_all(&mmu);
			break;
		}
		check_state(max_pages);
	}
	mmu_finish();
	return 0;
}
