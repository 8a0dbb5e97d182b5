/* bench_zap: what a zap-all of N shadow pages costs, zap=fast against zap=slow (issue 8
 * item 7). The guest builds page tables in a memory slot of its own, has the shadow MMU
 * shadow them, then deletes the slot and adds it again: with most shadowed guest tables in
 * the slot, Vireo zaps all. Needs a trusted VM on the shadow MMU and a shadow-page budget
 * above the largest N (Vireo's shadow_pages=). Per run it prints, as BENCH lines named
 * zap.<fast|slow>.n<N>.<what>:
 *   delete      guest ticks of HC_MEMSLOT_DELETE
 *   delete_add  guest ticks of HC_MEMSLOT_DELETE plus HC_MEMSLOT_ADD
 *   hold        the longest MMU-lock hold within the delete (HC_STAT_MMU_LAST_OP_HOLD_MAX)
 *   zap_work    the zap-all's own work (the rise of HC_STAT_MMU_ZAP_TICKS)
 *   freed       obsolete pages the delete freed (the rise of HC_STAT_MMU_OBSOLETE_FREED)
 *   after_zap   ticks per page of the first reads of pages mapped before the zap
 * and once zap.fresh_fault: ticks per page of the first reads of pages never read. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

#define ENTRIES_PER_TABLE 512
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITABLE)
#define LEAF_FLAGS (PTE_PRESENT | PTE_WRITABLE | PTE_ACCESSED | PTE_DIRTY)

extern u64 guest_pml4[];	/* the library's boot tables (lib/tables64.S) */

/*
 * The slot's tables hang below one PML4 entry the guest's own mappings leave unused: a
 * PDPT (slot page 0), then the PDs, then the PTs. A slot holds at most 16384 pages
 * (SLOT_ADD_MAX_PAGES, vmexit/hypercall.c), too few for 50000 tables, so each PT is
 * reached through RIGHTS_PER_PT PDEs that grant it different rights (read-only or writable,
 * supervisor or user): the shadow MMU keeps one shadow page per guest table and rights
 * (mmu/shadow.c, child_for()), so N shadow pages come from N / RIGHTS_PER_PT guest PTs.
 * Entry 0 of each PT maps the PT itself; one read through each PDE shadows it.
 */
#define ZAP_PML4_INDEX 1
#define SLOT_BASE_GFN 0x40000ul		/* 1 GiB: above the RAM, below the MMIO hole */
#define RIGHTS_PER_PT 4
#define MAX_SLOT_PAGES 16384

static const unsigned shadow_page_counts[] = { 1000, 10000, 50000 };

/* Pages mapped before the zap and read after it, and pages never read before their
 * probe; both 4 KiB mappings above the identity map, accessed and dirty already. */
#define PROBE_PAGES ENTRIES_PER_TABLE
#define MAPPED_PROBE_VA IDENTITY_MAP_END
#define FRESH_PROBE_VA (IDENTITY_MAP_END + PROBE_PAGES * PAGE_SIZE)
static u8 mapped_probe_pages[PROBE_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 fresh_probe_pages[PROBE_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);

/* The slot's layout for N shadow pages: one PDE per shadow page. */
struct zap_layout {
	unsigned shadow_pages;
	unsigned pds;
	unsigned pts;
	unsigned slot_pages;
};

/* Counter rises over a delete, and the guest's own ticks. */
struct zap_result {
	u64 delete_ticks;
	u64 delete_add_ticks;
	u64 hold_max;
	u64 zap_work;
	u64 freed;
	u64 zap_alls;
	u64 after_zap_ticks;
};

static struct zap_layout layout_for(unsigned shadow_pages)
{
	struct zap_layout l = { .shadow_pages = shadow_pages };

	l.pds = (shadow_pages + ENTRIES_PER_TABLE - 1) / ENTRIES_PER_TABLE;
	l.pts = (shadow_pages + RIGHTS_PER_PT - 1) / RIGHTS_PER_PT;
	l.slot_pages = 1 + l.pds + l.pts;
	return l;
}

static u64 *slot_page(unsigned index)
{
	return (u64 *)(uintptr_t)((SLOT_BASE_GFN + index) << PAGE_SHIFT);	/* identity */
}

static u64 pa_of(const void *p)
{
	return (uintptr_t)p;
}

static u64 read_word(u64 va)
{
	return *(volatile u64 *)(uintptr_t)va;
}

/* Shadow page j: PD j / 512, PDE j % 512, granting the rights j % RIGHTS_PER_PT names. */
static u64 shadow_page_va(unsigned j)
{
	return ((u64)ZAP_PML4_INDEX << 39) | ((u64)(j / ENTRIES_PER_TABLE) << 30) |
	       ((u64)(j % ENTRIES_PER_TABLE) << 21);
}

static u64 pde_rights(unsigned j)
{
	unsigned rights = j % RIGHTS_PER_PT;

	return PTE_PRESENT | (rights & 1 ? PTE_WRITABLE : 0) | (rights & 2 ? PTE_USER : 0);
}

/* Fills the freshly added (zeroed) slot; the PML4 entry points at its PDPT throughout. */
static void build_tables(const struct zap_layout *l)
{
	u64 *pdpt = slot_page(0);

	for (unsigned pd = 0; pd < l->pds; pd++)
		pdpt[pd] = pa_of(slot_page(1 + pd)) | TABLE_FLAGS | PTE_USER;
	for (unsigned pt = 0; pt < l->pts; pt++) {
		u64 *table = slot_page(1 + l->pds + pt);

		table[0] = pa_of(table) | PTE_PRESENT | PTE_USER | PTE_ACCESSED;
	}
	for (unsigned j = 0; j < l->shadow_pages; j++) {
		u64 *pd = slot_page(1 + j / ENTRIES_PER_TABLE);
		u64 pt = pa_of(slot_page(1 + l->pds + j / RIGHTS_PER_PT));

		pd[j % ENTRIES_PER_TABLE] = pt | pde_rights(j);
	}
}

static void shadow_slot_tables(const struct zap_layout *l)
{
	for (unsigned j = 0; j < l->shadow_pages; j++)
		read_word(shadow_page_va(j));
}

/* Ticks per page of one read of each probe page. */
static u64 probe_ticks(u64 va_base)
{
	u64 start = rdtsc_ordered();

	for (unsigned i = 0; i < PROBE_PAGES; i++)
		read_word(va_base + (u64)i * PAGE_SIZE);
	return rdtsc_ordered() - start;
}

static bool map_probes(void)
{
	for (unsigned i = 0; i < PROBE_PAGES; i++) {
		u64 offset = (u64)i * PAGE_SIZE;

		if (!map_page(MAPPED_PROBE_VA + offset, pa_of(mapped_probe_pages[i]), LEAF_FLAGS) ||
		    !map_page(FRESH_PROBE_VA + offset, pa_of(fresh_probe_pages[i]), LEAF_FLAGS))
			return false;
	}
	return true;
}

static u64 stat(unsigned long counter)
{
	return (u64)hc_stat_read(counter);
}

/* Deletes the slot and adds it back; *slot becomes the new id (negative on failure).
 * Fills everything in *r but after_zap_ticks; returns the delete's result. */
static long delete_and_add(long *slot, const struct zap_layout *l, struct zap_result *r)
{
	u64 zap_work = stat(HC_STAT_MMU_ZAP_TICKS), freed = stat(HC_STAT_MMU_OBSOLETE_FREED);
	u64 zap_alls = stat(HC_STAT_MMU_ZAP_ALLS);
	u64 start = rdtsc_ordered();
	long deleted = hc_memslot_delete(*slot);

	r->delete_ticks = rdtsc_ordered() - start;
	r->hold_max = stat(HC_STAT_MMU_LAST_OP_HOLD_MAX);	/* before the add resets it */
	r->zap_work = stat(HC_STAT_MMU_ZAP_TICKS) - zap_work;
	r->freed = stat(HC_STAT_MMU_OBSOLETE_FREED) - freed;
	r->zap_alls = stat(HC_STAT_MMU_ZAP_ALLS) - zap_alls;
	start = rdtsc_ordered();
	*slot = hc_memslot_add(SLOT_BASE_GFN, l->slot_pages, 0);
	r->delete_add_ticks = r->delete_ticks + rdtsc_ordered() - start;
	return deleted;
}

static void report_figure(const char *mode, unsigned n, const char *what, u64 total,
			  unsigned count)
{
	char name[48];

	snprintf(name, sizeof(name), "zap.%s.n%u.%s", mode, n, what);
	bench_report(name, total, count);
}

static void report_result(const char *mode, unsigned n, const struct zap_result *r)
{
	report_figure(mode, n, "delete", r->delete_ticks, 1);
	report_figure(mode, n, "delete_add", r->delete_add_ticks, 1);
	report_figure(mode, n, "hold", r->hold_max, 1);
	report_figure(mode, n, "zap_work", r->zap_work, 1);
	report_figure(mode, n, "freed", r->freed, 1);
	report_figure(mode, n, "after_zap", r->after_zap_ticks, PROBE_PAGES);
}

/* One run: the slot (added and empty) filled and shadowed, then deleted and re-added. */
static bool run_one(long *slot, const struct zap_layout *l, bool fast)
{
	const char *mode = fast ? "fast" : "slow";
	u64 pages;

	hc_set_switch(HC_SWITCH_FAST_ZAP, fast);
	build_tables(l);
	shadow_slot_tables(l);
	probe_ticks(MAPPED_PROBE_VA);
	pages = stat(HC_STAT_MMU_PAGES);
	if (pages < l->shadow_pages) {
		printf("BENCH-SKIP zap.%s.n%u the MMU holds %lu pages, fewer than %u: "
		       "is shadow_pages= large enough?\n", mode, l->shadow_pages,
		       (unsigned long)pages, l->shadow_pages);
		return true;
	}
	struct zap_result r;
	long deleted = delete_and_add(slot, l, &r);

	if (deleted != 0) {
		printf("BENCH-SKIP zap.%s.n%u HC_MEMSLOT_DELETE failed (%ld)\n", mode,
		       l->shadow_pages, deleted);
		return false;
	}
	r.after_zap_ticks = probe_ticks(MAPPED_PROBE_VA);
	printf("bench: zap.%s.n%u: %lu MMU pages before, %lu zap-alls, %lu after\n", mode,
	       l->shadow_pages, (unsigned long)pages, (unsigned long)r.zap_alls,
	       (unsigned long)stat(HC_STAT_MMU_PAGES));
	report_result(mode, l->shadow_pages, &r);
	if (*slot < 0)
		printf("BENCH-SKIP zap.%s.n%u HC_MEMSLOT_ADD again failed (%ld)\n", mode,
		       l->shadow_pages, *slot);
	return *slot >= 0;
}

static bool run_count(unsigned shadow_pages)
{
	struct zap_layout l = layout_for(shadow_pages);
	long slot;

	if (l.slot_pages > MAX_SLOT_PAGES) {
		printf("BENCH-SKIP zap.n%u needs a %u-page slot\n", shadow_pages, l.slot_pages);
		return true;
	}
	slot = hc_memslot_add(SLOT_BASE_GFN, l.slot_pages, 0);
	if (slot < 0) {
		printf("BENCH-SKIP zap.n%u HC_MEMSLOT_ADD failed (%ld)\n", shadow_pages, slot);
		return false;
	}
	if (!run_one(&slot, &l, true) || !run_one(&slot, &l, false))
		return false;
	hc_memslot_delete(slot);
	return true;
}

int main(const struct multiboot_info *mbi)
{
	if (!bench_shadow_mmu_ready("zap", HC_SWITCH_FAST_ZAP))
		return 0;
	if (!map_probes()) {
		bench_skip("zap", "the guest library's table pool ran out");
		return 0;
	}
	bench_report("zap.fresh_fault", probe_ticks(FRESH_PROBE_VA), PROBE_PAGES);
	guest_pml4[ZAP_PML4_INDEX] = SLOT_BASE_GFN << PAGE_SHIFT | TABLE_FLAGS | PTE_USER;
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_page_counts); i++)
		if (!run_count(shadow_page_counts[i]))
			return 1;
	hc_set_switch(HC_SWITCH_FAST_ZAP, true);
	return 0;
}
