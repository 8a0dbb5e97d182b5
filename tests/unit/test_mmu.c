/* Unit tests of the MMU core on the host: memory slots and their generation, EPT filled on
 * demand (4K and 2M leaves, read-only slots), MMIO sptes (layout, generation, staleness,
 * wrap-around), zapping on slot changes. Host memory is an arena seen through phys_to_virt.
 * unit-sources: mmu/mmu.c mmu/memslot.c mmu/ept.c mmu/shadow.c mmu/spte.c mmu/guest_walk.c lib/slab.c lib/bitmap.c lib/hash.c lib/page_alloc.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <stdlib.h>

#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "mmu/internal.h"
#include "mmu/shadow_walk.h"
#include "tests/unit/unit.h"

uintptr_t phys_virt_offset;
static int flushes;

void arch_halt_after_panic(void) { abort(); }
void ept_flush(const struct mmu *mmu) { flushes++; }

#define ARENA_SIZE MiB(64)
#define RAM_GFNS 4096		/* a 16 MiB guest */

static struct mmu mmu;
static struct mmu_vcpu vcpu;

static void arena_init(void)
{
	void *arena = aligned_alloc(MiB(2), ARENA_SIZE);
	phys_virt_offset = (uintptr_t)arena;
	struct mem_range ram = { MiB(1), ARENA_SIZE };
	CHECK(page_alloc_init(&ram, 1, NULL, 0) == NULL);
}

/* The leaf that maps gfn and its level (1 = 4K, 2 = 2M), or level 0 when none. */
static u64 leaf_of(gfn_t gfn, int *level)
{
	struct shadow_walk walk;
	int last_level = 0;
	for_each_shadow_entry(walk, mmu.ept_root->table_hpa, 4, gfn_to_gpa(gfn))
		last_level = walk.level;
	u64 e = *walk.sptep;
	*level = e ? last_level : 0;
	return e;
}

static u64 ram_hpa;

static void setup_vm(void)
{
	memset(&vcpu, 0, sizeof(vcpu));
	spte_format_init(SPTE_FORMAT_EPT, 46);
	CHECK(mmu_ept_init(&mmu, true, mmu_ept_default_pages(RAM_GFNS * PAGE_SIZE)) == NULL);
	ram_hpa = page_alloc_zeroed(page_order_for_size(RAM_GFNS * PAGE_SIZE));
	CHECK(ram_hpa != 0);
	CHECK_EQ(memslot_add(&mmu, 0, RAM_GFNS, ram_hpa, 0, NULL), 0);
}

static void teardown_vm(void)
{
	mmu_destroy(&mmu);
	page_free(ram_hpa, page_order_for_size(RAM_GFNS * PAGE_SIZE));
}

/* The shadow format (IA-32e/PAE entries): MMIO sptes carry a reserved bit, none is left
 * when MAXPHYADDR is 52. Restores the EPT format the other tests use. */
static void test_shadow_spte_layout(void)
{
	CHECK(spte_format_init(SPTE_FORMAT_SHADOW, 46));
	u64 s = spte_make_mmio((1ull << 39) - 1, 0x7ff);
	CHECK(spte_is_mmio(s) && !spte_is_present(s));
	CHECK((s & PT_PRESENT) && (s & SPTE_SHADOW_MMIO_MARK) && !(s & PT_NX));
	CHECK_EQ(spte_mmio_gfn(s), (1ull << 39) - 1);
	CHECK_EQ(spte_mmio_generation(s), 0x7ff);
	u64 user_rw = spte_make_leaf(0x123000, ACC_WRITE | ACC_USER, false);
	CHECK((user_rw & (PT_PRESENT | PT_WRITABLE | PT_USER | PT_NX)) == (PT_PRESENT | PT_WRITABLE | PT_USER | PT_NX));
	CHECK(spte_is_present(user_rw) && !spte_is_mmio(user_rw));
	u64 kernel_x = spte_make_leaf(0x123000, ACC_EXEC, false);
	CHECK(!(kernel_x & (PT_WRITABLE | PT_USER | PT_NX)));
	u64 pdpte = spte_make_pae_root(0x5000);
	CHECK(!(pdpte & (BITS(2, 1) | BITS(8, 5) | PT_NX)) && spte_is_table(pdpte, 3));
	CHECK(!spte_format_init(SPTE_FORMAT_SHADOW, 52));
	CHECK(!spte_is_mmio(spte_make_leaf(BIT(51), ACC_ALL, false)));
	CHECK(spte_format_init(SPTE_FORMAT_EPT, 46));
}

static void test_spte_layout(void)
{
	CHECK(spte_format_init(SPTE_FORMAT_EPT, 46));
	u64 s = spte_make_mmio(0xfeedfull, 0x7ff);
	CHECK(spte_is_mmio(s));
	CHECK(!(s & EPT_READ));
	CHECK_EQ(spte_mmio_gfn(s), 0xfeedf);
	CHECK_EQ(spte_mmio_generation(s), 0x7ff);
	CHECK_EQ(spte_mmio_generation(spte_make_mmio(1, 0x800)), 0);	/* low bits only */
	CHECK_EQ(spte_mmio_gfn(spte_make_mmio((1ull << 40) - 1, 0)), (1ull << 40) - 1);
	u64 ram = spte_make_leaf(0x123000, ACC_EXEC | ACC_WRITE, false);
	CHECK(!spte_is_mmio(ram));
	CHECK(spte_is_present(ram) && !spte_is_present(s));
	CHECK(spte_is_leaf(ram, 1) && !spte_is_table(ram, 1));
	CHECK(!spte_is_mmio(spte_make_leaf(0x200000, ACC_EXEC, true)));
	CHECK(spte_is_leaf(spte_make_leaf(0x200000, ACC_EXEC, true), 2));
	CHECK(spte_is_table(spte_make_table(0x5000), 2) && !spte_is_mmio(spte_make_table(0x5000)));
	CHECK_EQ(spte_address(ram), 0x123000);
	CHECK((ram & EPT_RWX) == EPT_RWX);
}

static void test_memslots(void)
{
	struct memslots *slots = &mmu.memslots;
	u64 gen = slots->generation;
	u32 ids[512];
	/* 511 one-page slots above RAM, added out of order */
	for (u32 i = 0; i < 511; i++) {
		gfn_t gfn = 0x100000 + ((i * 37) % 511) * 2;
		CHECK_EQ(memslot_add(&mmu, gfn, 1, ram_hpa, MEMSLOT_DYNAMIC, &ids[i]), 0);
	}
	CHECK_EQ(slots->count, 512);
	CHECK_EQ(slots->generation, gen + 511);
	for (size_t i = 1; i < slots->count; i++)
		CHECK(slots->slots[i - 1].base_gfn < slots->slots[i].base_gfn);
	CHECK(memslot_find(slots, &vcpu, 0x100000 + 2 * 17) != NULL);
	CHECK(memslot_find(slots, &vcpu, 0x100000 + 2 * 17 + 1) == NULL);	/* the gap */
	CHECK(memslot_find(slots, &vcpu, 4095) == &slots->slots[0]);
	CHECK(memslot_find(slots, &vcpu, 4096) == NULL);
	CHECK_EQ(memslot_add(&mmu, 0x100000, 1, ram_hpa, 0, NULL), -MMU_EBUSY);
	CHECK_EQ(memslot_add(&mmu, 4000, 200, ram_hpa, 0, NULL), -MMU_EBUSY);
	CHECK_EQ(memslot_add(&mmu, 5000, 0, ram_hpa, 0, NULL), -MMU_EINVAL);
	CHECK_EQ(memslot_add(&mmu, ~0ull - 1, 4, ram_hpa, 0, NULL), -MMU_EINVAL);
	struct memslot removed;
	for (u32 i = 0; i < 511; i++)
		CHECK_EQ(memslot_delete(&mmu, ids[i], &removed), 0);
	CHECK_EQ(memslot_delete(&mmu, ids[0], &removed), -MMU_EINVAL);
	CHECK_EQ(slots->count, 1);
}

static void test_last_hit_expires(void)
{
	const struct memslots *slots = &mmu.memslots;
	CHECK(memslot_find(slots, &vcpu, 10) != NULL);
	u32 id;
	CHECK_EQ(memslot_add(&mmu, 0x9000, 16, ram_hpa, MEMSLOT_DYNAMIC, &id), 0);
	/* the cached index now points at another slot: it must not be trusted */
	CHECK(memslot_find(slots, &vcpu, 0x9000) != NULL);
	CHECK(memslot_find(slots, &vcpu, 10) == &slots->slots[0]);
	CHECK_EQ(memslot_move(&mmu, id, 0xa000), 0);
	CHECK(memslot_find(slots, &vcpu, 0x9000) == NULL);
	CHECK_EQ(memslot_by_id(slots, id)->base_gfn, 0xa000);
	CHECK_EQ(memslot_move(&mmu, id, 4090), -MMU_EBUSY);
	struct memslot removed;
	CHECK_EQ(memslot_delete(&mmu, id, &removed), 0);
}

static void test_ram_faults(void)
{
	int level;
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x201234, false, true), MMU_FAULT_MAPPED);
	u64 leaf = leaf_of(0x201, &level);
	CHECK_EQ(level, 2);	/* a whole 2M run of one slot, 2M-aligned backing */
	CHECK_EQ(spte_address(leaf), ram_hpa + MiB(2));
	CHECK(leaf & EPT_WRITE);
	/* a read-only slot whose backing is not 2M-aligned: 4K leaves without write */
	u32 id;
	CHECK_EQ(memslot_add(&mmu, 0x8000, 1024, ram_hpa + PAGE_SIZE, MEMSLOT_READONLY, &id), 0);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x8000123, false, true), MMU_FAULT_MAPPED);
	leaf = leaf_of(0x8000, &level);
	CHECK_EQ(level, 1);
	CHECK_EQ(spte_address(leaf), ram_hpa + PAGE_SIZE);
	CHECK(!(leaf & EPT_WRITE));
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x8001000, true, true), MMU_FAULT_MMIO);
	/* deleting the slot zaps its mappings */
	int before = flushes;
	struct memslot removed;
	CHECK_EQ(memslot_delete(&mmu, id, &removed), 0);
	leaf_of(0x8000, &level);
	CHECK_EQ(level, 0);
	CHECK(flushes > before);
}

static void test_mmio_sptes(void)
{
	int level;
	u64 gpa = 0xff000010;
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, true, true), MMU_FAULT_MMIO);
	u64 spte = leaf_of(gpa_to_gfn(gpa), &level);
	CHECK_EQ(level, 1);
	CHECK(spte_is_mmio(spte));
	CHECK_EQ(spte_mmio_gfn(spte), gpa_to_gfn(gpa));
	CHECK_EQ(spte_mmio_generation(spte), mmio_generation_bits(mmu.memslots.generation));
	CHECK_EQ(mmu_handle_ept_misconfig(&mmu, &vcpu, gpa + 4), MMU_FAULT_MMIO);
	/* uncached: no spte */
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0xfe000000, true, false), MMU_FAULT_MMIO);
	leaf_of(gpa_to_gfn(0xfe000000), &level);
	CHECK_EQ(level, 0);
	/* a slot over the cached gfn makes its spte stale: dropped, then the fault maps RAM */
	u32 id;
	CHECK_EQ(memslot_add(&mmu, gpa_to_gfn(gpa), 1, ram_hpa, MEMSLOT_DYNAMIC, &id), 0);
	CHECK_EQ(mmu_handle_ept_misconfig(&mmu, &vcpu, gpa), MMU_FAULT_RETRY);
	leaf_of(gpa_to_gfn(gpa), &level);
	CHECK_EQ(level, 0);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, false, true), MMU_FAULT_MAPPED);
	CHECK(!spte_is_mmio(leaf_of(gpa_to_gfn(gpa), &level)));
	/* and deleting it makes the gfn MMIO again */
	struct memslot removed;
	CHECK_EQ(memslot_delete(&mmu, id, &removed), 0);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, false, true), MMU_FAULT_MMIO);
	CHECK(spte_is_mmio(leaf_of(gpa_to_gfn(gpa), &level)));
}

/* After 2^11 slot changes the generation's low bits repeat: every spte must be gone. */
static void test_generation_wrap(void)
{
	int level;
	u64 gpa = 0xff001000;
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, false, true), MMU_FAULT_MMIO);
	CHECK(spte_is_mmio(leaf_of(gpa_to_gfn(gpa), &level)));
	u64 start = mmu.memslots.generation;
	u32 id;
	struct memslot removed;
	while (mmu.memslots.generation < start + (1u << SPTE_MMIO_GEN_BITS)) {
		CHECK_EQ(memslot_add(&mmu, 0x20000, 1, ram_hpa, MEMSLOT_DYNAMIC, &id), 0);
		CHECK_EQ(memslot_delete(&mmu, id, &removed), 0);
	}
	leaf_of(gpa_to_gfn(gpa), &level);
	CHECK_EQ(level, 0);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x1000, false, true), MMU_FAULT_MAPPED);
}

/* The vCPU's last-MMIO-spte pointer must not outlive the tables a zap-all frees. */
static void test_last_mmio_spte(void)
{
	int level;
	u64 gpa = 0xff002000;
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, true, true), MMU_FAULT_MMIO);
	CHECK_EQ(mmu_handle_ept_misconfig(&mmu, &vcpu, gpa), MMU_FAULT_MMIO);
	u64 *remembered = vcpu.last_mmio_spte;
	CHECK(remembered != NULL);
	CHECK_EQ(*remembered, leaf_of(gpa_to_gfn(gpa), &level));
	u64 generation = mmu.roots_generation;
	mmu_zap_all(&mmu);
	CHECK(mmu.roots_generation != generation);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, true, true), MMU_FAULT_MMIO);
	CHECK_EQ(mmu_handle_ept_misconfig(&mmu, &vcpu, gpa), MMU_FAULT_MMIO);
	CHECK_EQ(*vcpu.last_mmio_spte, leaf_of(gpa_to_gfn(gpa), &level));
	CHECK_EQ(vcpu.last_mmio_generation, mmu.roots_generation);
}

static void test_zap_all(void)
{
	int level;
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x3000, false, true), MMU_FAULT_MAPPED);
	mmu_set_mmio_cache(&mmu, false);
	leaf_of(3, &level);
	CHECK_EQ(level, 0);
	CHECK(!mmu.mmio_cache);
	mmu_set_mmio_cache(&mmu, true);
	u64 free_before = page_alloc_free_pages();
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, 0x3000, false, true), MMU_FAULT_MAPPED);
	CHECK(mmu.npages > 1);
	mmu_zap_all(&mmu);
	CHECK_EQ(page_alloc_free_pages(), free_before);	/* tables freed, root kept */
	CHECK_EQ(mmu.npages, 1);
	CHECK(list_first_entry(&mmu.active_pages, struct mmu_page, active_link) == mmu.ept_root);
}

/* EPT tables are direct mmu_pages: each on the page list with its level and the first gfn
 * it maps, found again by walking down from the root. */
static void test_ept_pages(void)
{
	gfn_t gfn = gpa_to_gfn(0x40123000);
	CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gfn_to_gpa(gfn), false, true), MMU_FAULT_MMIO);
	CHECK_EQ(mmu.npages, 4);	/* root, PDPT, PD, PT */
	unsigned levels_seen = 0;
	struct mmu_page *page;
	list_for_each_entry(page, &mmu.active_pages, active_link) {
		u64 span = 1ull << (spte_level_shift(page->role.level + 1) - PAGE_SHIFT);
		CHECK(page->role.direct);
		CHECK_EQ(page->role.access, ACC_ALL);
		CHECK_EQ(page->gfn, page == mmu.ept_root ? 0 : ALIGN_DOWN(gfn, span));
		levels_seen |= 1u << page->role.level;
	}
	CHECK_EQ(levels_seen, 0x1eu);
	u64 free_before_destroy = page_alloc_free_pages();
	mmu_destroy(&mmu);
	CHECK_EQ(mmu.npages, 0);
	CHECK(page_alloc_free_pages() >= free_before_destroy + 4);
	CHECK(mmu_ept_init(&mmu, true, mmu_ept_default_pages(RAM_GFNS * PAGE_SIZE)) == NULL);
}

/* The table budget: MMIO gfns in ever new 2 MiB regions take a table each; at the budget
 * the MMU zaps all instead of growing, and faults go on in the new tree (a RAM fault is
 * retried once, after the zap). */
static void test_ept_budget(void)
{
	u64 zaps = mmu.stats.zap_alls, budget = 16;
	mmu.ept_pages_max = budget;
	for (u64 gpa = GiB(8); gpa < GiB(8) + MiB(2) * 100; gpa += MiB(2)) {
		CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, true, true), MMU_FAULT_MMIO);
		CHECK(mmu.npages <= budget);
	}
	CHECK(mmu.stats.zap_alls > zaps);
	for (gfn_t gfn = 0; gfn < RAM_GFNS; gfn += 512 + 1) {
		enum mmu_fault_result r = mmu_handle_ept_violation(&mmu, &vcpu, gfn_to_gpa(gfn),
								   false, true);
		if (r == MMU_FAULT_RETRY)
			r = mmu_handle_ept_violation(&mmu, &vcpu, gfn_to_gpa(gfn), false, true);
		CHECK_EQ(r, MMU_FAULT_MAPPED);
		CHECK(mmu.npages <= budget);
	}
	mmu.ept_pages_max = mmu_ept_default_pages(RAM_GFNS * PAGE_SIZE);
	mmu_zap_all(&mmu);
	CHECK_EQ(mmu.npages, 1);	/* the new root alone */
}

/* RAM all over the guest and MMIO above it: many tables. */
static void fill_ept(void)
{
	for (gfn_t gfn = 0; gfn < RAM_GFNS; gfn += 37)
		CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gfn_to_gpa(gfn), true, true),
			 MMU_FAULT_MAPPED);
	for (u64 gpa = GiB(1); gpa < GiB(64); gpa += GiB(1) + MiB(2) + 0x3000)
		CHECK_EQ(mmu_handle_ept_violation(&mmu, &vcpu, gpa, true, true), MMU_FAULT_MMIO);
}

/* Fast zap-all on EPT, from MMU generation start (UINT64_MAX: it wraps): a new, empty
 * root that the vCPU is told to load before its next entry; every old table, the old
 * root among them, freed in batches of MMU_ZAP_BATCH; memory back to what it was; faults
 * fill the new tree. zap=slow keeps the root and frees the rest in one hold. */
static void test_zap_all_ways(bool slow, u64 start)
{
	setup_vm();
	mmu.zap_slow = slow;
	fill_ept();
	mmu_zap_all(&mmu);	/* once, so the slab caches hold what the tree needs */
	mmu_ept_reload_root(&mmu, &vcpu);	/* the vCPU's entry after it */
	mmu.generation = mmu.ept_root->generation = start;	/* only the root exists */
	u64 free_empty = page_alloc_free_pages();
	fill_ept();
	u64 pages = mmu.npages, gen = mmu.generation;
	CHECK(pages > 3 * MMU_ZAP_BATCH);
	struct mmu_page *old_root = mmu.ept_root;
	struct mmu_stats before = mmu.stats;
	mmu_zap_all(&mmu);
	CHECK_EQ(mmu.npages, 1);
	CHECK_EQ(mmu.stats.zap_alls, before.zap_alls + 1);
	CHECK(!mmu_root_current(&mmu, &vcpu));	/* the reload request */
	mmu_ept_reload_root(&mmu, &vcpu);
	CHECK(mmu_root_current(&mmu, &vcpu));
	CHECK_EQ(mmu.stats.root_reloads, before.root_reloads + 1);
	if (slow) {
		CHECK(mmu.ept_root == old_root);
		CHECK_EQ(mmu.generation, gen);
	} else {
		CHECK_EQ(mmu.generation, gen + 1);
		CHECK_EQ(mmu.ept_root->generation, mmu.generation);
		CHECK_EQ(mmu.stats.obsolete_pages_freed, before.obsolete_pages_freed + pages);
		/* at most MMU_ZAP_BATCH pages per hold (more holds if the time budget ran out) */
		u64 batches = mmu.stats.zap_batches - before.zap_batches;
		CHECK(batches >= (pages + MMU_ZAP_BATCH - 1) / MMU_ZAP_BATCH && batches <= pages);
	}
	CHECK_EQ(page_alloc_free_pages(), free_empty);
	int level;
	CHECK_EQ(leaf_of(37, &level), 0);
	fill_ept();
	CHECK_EQ(mmu.npages, pages);
	CHECK(leaf_of(37, &level) != 0);
	CHECK(mmu.stats.lock_hold_max > 0);
	teardown_vm();
}

int main(void)
{
	arena_init();
	test_spte_layout();
	test_shadow_spte_layout();
	setup_vm();
	test_memslots();
	test_last_hit_expires();
	test_ram_faults();
	test_mmio_sptes();
	test_generation_wrap();
	test_last_mmio_spte();
	test_zap_all();
	test_ept_budget();
	test_ept_pages();
	teardown_vm();
	test_zap_all_ways(false, 0);
	test_zap_all_ways(false, UINT64_MAX);
	test_zap_all_ways(true, 0);
	return unit_done("mmu");
}
