/* bench_shadow: what the shadow MMU costs a 64-bit guest with paging on (a CPU without EPT,
 * or ept=off): a CR3 switch between two address spaces with the shadow cache on and off,
 * a demand fault, a write-protect fault, and a guest PTE write the MMU prefetches.
 * The VM must be trusted (HC_SET_SWITCH); on EPT every benchmark is skipped. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

#define ENTRIES_PER_TABLE 512
#define PTE_ADDRESS_MASK 0x000ffffffffff000ull
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITABLE)
/* A leaf the walker has nothing to set in: accessed, and dirty where it is writable. */
#define LEAF_FLAGS (PTE_PRESENT | PTE_WRITABLE | PTE_ACCESSED | PTE_DIRTY)

extern u64 guest_pml4[];	/* the library's boot tables (lib/tables64.S) */

/* CR3 switch: the second address space is a copy of the boot one (its own PML4, the
 * same tables below), and each switch is followed by reads of a small working set, as a
 * process switch is: with the cache off, those reads rebuild the tables the switch lost. */
#define WORKING_SET_PAGES 8
static u64 second_pml4[ENTRIES_PER_TABLE] __aligned(PAGE_SIZE);
static u8 working_set[WORKING_SET_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);

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
 * PT, so the read does not fault. Vireo unshadows a table after WRITE_FLOOD_LIMIT (3)
 * emulated writes with no fault through it (mmu/shadow.c), so each PT takes two writes.
 * The PTs hang below their own PML4 entry; entry 0 of each maps a page read once first,
 * so that each PT is shadowed before its writes.
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

static void op_switch_cr3(unsigned i)
{
	write_cr3(pa_of(i % 2 ? second_pml4 : guest_pml4));
	for (unsigned p = 0; p < WORKING_SET_PAGES; p++)
		read_word(pa_of(working_set[p]));
}

/* Cache on, then off; the loop ends on the boot PML4, which the later benchmarks write. */
static void run_cr3_switch(void)
{
	memcpy(second_pml4, guest_pml4, PAGE_SIZE);
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
	if (!(cpuid(VIREO_CPUID_FEATURES).eax & VIREO_FEATURE_SHADOW_MMU)) {
		bench_skip("shadow", "the VM runs on EPT, not the shadow MMU");
		return 0;
	}
	if (hc_set_switch(HC_SWITCH_SHADOW_CACHE, true) != 0) {
		bench_skip("shadow", "HC_SET_SWITCH refused: is the VM trusted?");
		return 0;
	}
	run_cr3_switch();
	run_demand_fault();
	run_write_protect_fault();
	run_pte_write();
	return 0;
}
