/* bench_shadow: what the shadow MMU costs a 64-bit guest with paging on (a CPU without EPT,
 * or ept=off): address-space switches with the shadow cache on and off, a shadow fill
 * fault, a guest #PF and demand paging end to end, a write-protect fault, and a guest PTE
 * write the MMU prefetches. The VM must be trusted (HC_SET_SWITCH); on EPT every
 * benchmark is skipped. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

#define ENTRIES_PER_TABLE 512
#define PTE_ADDRESS_MASK 0x000ffffffffff000ull
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITABLE)
/* A leaf the walker has nothing to set in: accessed, and dirty where it is writable. */
#define LEAF_FLAGS (PTE_PRESENT | PTE_WRITABLE | PTE_ACCESSED | PTE_DIRTY)

extern u64 guest_pml4[];	/* the library's boot tables (lib/tables64.S) */

/* Address-space switch: 16 spaces, each a copy of the boot PML4 (code and data mapped as
 * before) plus its own PDPT, PD and PT under SPACE_PML4_INDEX mapping 64 pages of its own.
 * A switch is MOV CR3 to the next space round robin, then a read of each of its 64 pages,
 * as a process switch is: with the cache off, those reads rebuild what the switch lost. */
#define SPACES 16
#define SPACE_PAGES 64
#define SPACE_PML4_INDEX 3
struct address_space {
	u64 pml4[ENTRIES_PER_TABLE], pdpt[ENTRIES_PER_TABLE], pd[ENTRIES_PER_TABLE],
	    pt[ENTRIES_PER_TABLE];
	u8 pages[SPACE_PAGES][PAGE_SIZE];
};
static struct address_space spaces[SPACES] __aligned(PAGE_SIZE);

/* Demand fault: fresh 4 KiB pages mapped above the identity map, each read once. */
#define DEMAND_PAGES BENCH_ITERATIONS
#define DEMAND_VA_BASE IDENTITY_MAP_END
static u8 demand_pages[DEMAND_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);

/* Write-protect fault: a not-present value stored into an unused entry of the boot PML4.
 * The PML4 is the current root, so Vireo never unshadows it however often it is written. */
#define WP_FAULT_PML4_INDEX 511

/*
 * PTE write: a not-present entry of a shadowed guest PT made present (accessed and dirty),
 * then read through: Vireo emulates the store and prefetches the new entry into the shadow
 * PT, so the read does not fault. Each of 128 PTs takes two writes right after it was
 * shadowed: the write-protect fault on a newly shadowed table. The PTs hang below their
 * own PML4 entry; entry 0 of each maps a page read once first, which shadows the PT.
 */
#define PTE_WRITE_PML4_INDEX 2
#define WRITES_PER_PT 2
#define PTE_WRITE_PTS 128
#define PTE_WRITES (WRITES_PER_PT * PTE_WRITE_PTS)
static u64 pte_write_pdpt[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u64 pte_write_pd[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u64 pte_write_pts[PTE_WRITE_PTS][ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u8 pte_target_page[PAGE_SIZE] __aligned(PAGE_SIZE);

static u64 pa_of(const void *p)
{
	return (uintptr_t)p;	/* identity-mapped */
}

static u64 read_word(u64 va)
{
	return *(volatile u64 *)(uintptr_t)va;
}

static u64 space_va(unsigned page)
{
	return ((u64)SPACE_PML4_INDEX << 39) | ((u64)page << PAGE_SHIFT);
}

static void build_spaces(void)
{
	for (unsigned s = 0; s < SPACES; s++) {
		struct address_space *a = &spaces[s];
		memcpy(a->pml4, guest_pml4, PAGE_SIZE);
		a->pml4[SPACE_PML4_INDEX] = pa_of(a->pdpt) | TABLE_FLAGS;
		a->pdpt[0] = pa_of(a->pd) | TABLE_FLAGS;
		a->pd[0] = pa_of(a->pt) | TABLE_FLAGS;
		for (unsigned p = 0; p < SPACE_PAGES; p++)
			a->pt[p] = pa_of(a->pages[p]) | LEAF_FLAGS;
	}
}

static void op_switch_cr3(unsigned i)
{
	write_cr3(pa_of(spaces[i % SPACES].pml4));
	for (unsigned p = 0; p < SPACE_PAGES; p++)
		read_word(space_va(p));
}

/* Cache on, then off; the loop ends on the boot PML4, which the later benchmarks write. */
static void run_cr3_switch(void)
{
	build_spaces();
	bench_run("cr3_switch_cached", op_switch_cr3, BENCH_ITERATIONS, true);
	hc_set_switch(HC_SWITCH_SHADOW_CACHE, false);
	bench_run("cr3_switch_uncached", op_switch_cr3, BENCH_ITERATIONS, true);
	hc_set_switch(HC_SWITCH_SHADOW_CACHE, true);
	write_cr3(pa_of(guest_pml4));
}

static void op_demand_fault(unsigned i)
{
	read_word(DEMAND_VA_BASE + (u64)i * PAGE_SIZE);
}

static void run_demand_fault(void)
{
	for (unsigned i = 0; i < DEMAND_PAGES; i++) {
		if (!map_page(DEMAND_VA_BASE + (u64)i * PAGE_SIZE, pa_of(demand_pages[i]),
			      LEAF_FLAGS)) {
			bench_skip("demand_fault", "the guest library's table pool ran out");
			return;
		}
	}
	bench_run("demand_fault", op_demand_fault, DEMAND_PAGES, false);
}

/*
 * Demand paging as a guest kernel does it: a read of a page whose PTE is not present
 * raises #PF in the guest (reflected by Vireo), the guest writes the PTE and reads again.
 * The PT is shadowed when the loop starts, so each PTE write is emulated and prefetched
 * and the second read does not fault; the PT stays shadowed, since the guest uses each
 * entry it wrote (no write flooding). guest_pf is the #PF alone, on a page that stays
 * unmapped.
 */
#define PAGING_PML4_INDEX 4
#define PAGING_PAGES (ENTRIES_PER_TABLE - 1)	/* entries 1..511; 0 maps a page first */
static u64 paging_pdpt[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u64 paging_pd[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u64 paging_pt[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);

static u64 paging_va(unsigned entry)
{
	return ((u64)PAGING_PML4_INDEX << 39) | ((u64)entry << PAGE_SHIFT);
}

static void op_guest_pf(unsigned i)
{
	catch_exception(read_word(paging_va(PAGING_PAGES)));
}

/* Where demand paging's ticks go, summed over its pages: the guest's #PF (reflected, and
 * caught by the guest), its PTE write (emulated, the entry prefetched), its second read. */
static u64 paging_fault_ticks, paging_write_ticks, paging_retouch_ticks;

static void op_demand_paging(unsigned i)
{
	unsigned entry = 1 + i;
	u64 start = rdtsc_ordered();
	int vector = catch_exception(read_word(paging_va(entry)));
	u64 faulted = rdtsc_ordered();
	if (vector != PF_VECTOR)
		return;
	((volatile u64 *)paging_pt)[entry] = pa_of(demand_pages[i]) | LEAF_FLAGS;
	u64 written = rdtsc_ordered();
	read_word(paging_va(entry));
	paging_fault_ticks += faulted - start;
	paging_write_ticks += written - faulted;
	paging_retouch_ticks += rdtsc_ordered() - written;
}

static void run_demand_paging(void)
{
	paging_pt[0] = pa_of(demand_pages[0]) | LEAF_FLAGS;
	paging_pd[0] = pa_of(paging_pt) | TABLE_FLAGS;
	paging_pdpt[0] = pa_of(paging_pd) | TABLE_FLAGS;
	guest_pml4[PAGING_PML4_INDEX] = pa_of(paging_pdpt) | TABLE_FLAGS;
	read_word(paging_va(0));	/* the PT is shadowed from here on */
	bench_run("guest_pf", op_guest_pf, BENCH_ITERATIONS, true);
	long reflected = hc_stat_read(HC_STAT_SHADOW_FAULTS_REFLECTED);
	long wp = hc_stat_read(HC_STAT_SHADOW_WRITE_PROTECT_FAULTS);
	long prefetched = hc_stat_read(HC_STAT_SHADOW_PTES_PREFETCHED);
	bench_run("demand_paging", op_demand_paging, PAGING_PAGES - 1, false);
	bench_report("demand_paging.guest_pf", paging_fault_ticks, PAGING_PAGES - 1);
	bench_report("demand_paging.pte_write", paging_write_ticks, PAGING_PAGES - 1);
	bench_report("demand_paging.retouch", paging_retouch_ticks, PAGING_PAGES - 1);
	printf("bench: demand_paging: %u pages: %ld guest #PFs reflected, %ld PTE writes "
	       "emulated, %ld prefetched\n", PAGING_PAGES - 1,
	       hc_stat_read(HC_STAT_SHADOW_FAULTS_REFLECTED) - reflected,
	       hc_stat_read(HC_STAT_SHADOW_WRITE_PROTECT_FAULTS) - wp,
	       hc_stat_read(HC_STAT_SHADOW_PTES_PREFETCHED) - prefetched);
}

static void op_write_protect_fault(unsigned i)
{
	((volatile u64 *)guest_pml4)[WP_FAULT_PML4_INDEX] = 0;
}

static void run_write_protect_fault(void)
{
	long before = hc_stat_read(HC_STAT_SHADOW_WRITE_PROTECT_FAULTS);

	bench_run("wp_fault", op_write_protect_fault, BENCH_ITERATIONS, true);
	printf("bench: wp_fault: %ld write-protect faults for %u stores\n",
	       hc_stat_read(HC_STAT_SHADOW_WRITE_PROTECT_FAULTS) - before,
	       BENCH_ITERATIONS * BENCH_REPEATS);
}

static u64 pte_write_va(unsigned pt, unsigned entry)
{
	return ((u64)PTE_WRITE_PML4_INDEX << 39) | ((u64)pt << 21) | ((u64)entry << PAGE_SHIFT);
}

/* Entry 0 of each PT maps the target page; the writes go to entries 1 and 2. */
static void build_pte_write_tables(void)
{
	for (unsigned pt = 0; pt < PTE_WRITE_PTS; pt++) {
		pte_write_pts[pt][0] = pa_of(pte_target_page) | LEAF_FLAGS;
		pte_write_pd[pt] = pa_of(pte_write_pts[pt]) | TABLE_FLAGS;
	}
	pte_write_pdpt[0] = pa_of(pte_write_pd) | TABLE_FLAGS;
	guest_pml4[PTE_WRITE_PML4_INDEX] = pa_of(pte_write_pdpt) | TABLE_FLAGS;
	for (unsigned pt = 0; pt < PTE_WRITE_PTS; pt++)
		read_word(pte_write_va(pt, 0));
}

static void op_pte_write(unsigned i)
{
	unsigned pt = i / WRITES_PER_PT, entry = 1 + i % WRITES_PER_PT;

	((volatile u64 *)pte_write_pts[pt])[entry] = pa_of(pte_target_page) | LEAF_FLAGS;
	read_word(pte_write_va(pt, entry));
}

static void run_pte_write(void)
{
	long prefetched = hc_stat_read(HC_STAT_SHADOW_PTES_PREFETCHED);
	long unshadowed = hc_stat_read(HC_STAT_SHADOW_PAGES_UNSHADOWED);
	long exits;

	build_pte_write_tables();
	exits = hc_stat_read(HC_STAT_EXITS);
	bench_run("pte_write", op_pte_write, PTE_WRITES, false);
	printf("bench: pte_write: %ld of %u writes prefetched, %ld tables unshadowed, "
	       "%ld exits\n", hc_stat_read(HC_STAT_SHADOW_PTES_PREFETCHED) - prefetched,
	       PTE_WRITES, hc_stat_read(HC_STAT_SHADOW_PAGES_UNSHADOWED) - unshadowed,
	       hc_stat_read(HC_STAT_EXITS) - exits);
}

int main(const struct multiboot_info *mbi)
{
	if (!bench_shadow_mmu_ready("shadow", HC_SWITCH_SHADOW_CACHE))
		return 0;
	run_cr3_switch();
	run_demand_fault();
	run_demand_paging();
	run_write_protect_fault();
	run_pte_write();
	return 0;
}
