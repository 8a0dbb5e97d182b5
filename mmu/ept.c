/* EPT: filled on demand. An EPT violation on a gfn in a RAM slot maps it (2M when the slot
 * allows); on a gfn in no slot it installs an MMIO spte; an EPT misconfiguration reads
 * that spte back with a lockless walk. Level numbering: 4 = PML4 ... 1 = PT. The tables
 * are direct struct mmu_pages (mmu/mmu.c) on mmu->active_pages, the root among them. */
#include "lib/phys.h"
#include "lib/string.h"
#include "mmu/internal.h"
#include "mmu/shadow_walk.h"

#define GFNS_PER_2M 512
#define EPTP_WB 6ull
#define EPTP_WALK_LENGTH_4 (3ull << 3)	/* walk length minus one, bits 5:3 */

#define EPT_LEVELS 4

/* EPT tables are direct pages: each maps guest-physical memory from its gfn upward. */
static union mmu_page_role ept_role(int level)
{
	union mmu_page_role role = { .word = 0 };
	role.level = level;
	role.direct = 1;
	role.access = ACC_ALL;
	return role;
}

/*
 * The EPT table budget: twice what mapping all of RAM with 4K leaves takes, and 2 MiB of
 * tables besides for MMIO sptes and the upper levels. Without it a guest touching
 * unassigned gfns spread over the guest-physical space (each 2 MiB region a new table)
 * took most of the host's memory; at the budget the MMU zaps all and the guest faults in
 * what it uses again, as the shadow MMU does at its budget.
 */
#define EPT_PAGES_SLACK 512u

u64 mmu_ept_default_pages(u64 ram_bytes)
{
	return 2 * (ram_bytes >> 21) + EPT_PAGES_SLACK;
}

const char *mmu_ept_init(struct mmu *mmu, bool large_pages, u64 max_pages)
{
	mmu_core_init(mmu);
	mmu->mmio_cache = true;
	mmu->ept_large_pages = large_pages;
	mmu->ept_pages_max = max_pages;
	mmu->ept_root = mmu_page_alloc(mmu, 0, ept_role(EPT_LEVELS));
	return mmu->ept_root ? NULL : "no memory for the EPT root";
}

/* zap=slow: every table but the root emptied entry by entry and freed, in one hold; the
 * root is emptied. The flush comes last, once no entry points at a freed table. */
void ept_zap_all_slow(struct mmu *mmu)
{
	struct mmu_page *page, *tmp;
	list_for_each_entry_safe(page, tmp, &mmu->active_pages, active_link) {
		memset(page->spt, 0, PAGE_SIZE);
		if (page != mmu->ept_root)
			mmu_page_free(mmu, page, false);
	}
	ept_flush(mmu);
}

/* Fast zap-all: the old tree, root included, is obsolete and freed whole; the vCPUs load
 * the new, empty root before their next entry. The old EPTP's translations are flushed
 * first, while no vCPU runs on it: its root page may come back as another EPTP. */
bool ept_begin_fast_zap(struct mmu *mmu)
{
	struct mmu_page *root = mmu_page_alloc(mmu, 0, ept_role(EPT_LEVELS));
	if (!root)
		return false;
	ept_flush(mmu);
	mmu->ept_root = root;
	return true;
}

/* The flush comes first: the next VM's EPT root may reuse this page, and with it this
 * EPTP, whose cached translations would then point at this VM's freed pages. */
void ept_destroy(struct mmu *mmu)
{
	if (!mmu->ept_root)
		return;
	ept_flush(mmu);
	struct mmu_page *page, *tmp;
	list_for_each_entry_safe(page, tmp, &mmu->active_pages, active_link)
		mmu_page_free(mmu, page, false);
	mmu->ept_root = NULL;
}

u64 mmu_eptp(const struct mmu *mmu)
{
	return mmu->ept_root->table_hpa | EPTP_WALK_LENGTH_4 | EPTP_WB;
}

/* The entry for gfn at target_level, creating tables on the way; NULL when out of memory
 * or when a large leaf already covers gfn above target_level. */
static u64 *walk_create(struct mmu *mmu, gfn_t gfn, int target_level)
{
	struct shadow_walk walk;
	for_each_shadow_entry(walk, mmu->ept_root->table_hpa, EPT_LEVELS, gfn_to_gpa(gfn)) {
		if (walk.level == target_level)
			return walk.sptep;
		if (spte_is_present(*walk.sptep) && spte_is_large(*walk.sptep))
			return NULL;
		if (!spte_is_present(*walk.sptep)) {	/* empty, or an MMIO spte's page */
			u64 span = 1ull << (spte_level_shift(walk.level) - PAGE_SHIFT);
			struct mmu_page *child = mmu_page_alloc(mmu, ALIGN_DOWN(gfn, span),
								ept_role(walk.level - 1));
			if (!child)
				return NULL;
			*walk.sptep = spte_make_table(child->table_hpa);
		}
	}
	return NULL;	/* not reached: every level above target_level is a table */
}

/*
 * Lockless walk: reads only, no table is created or freed. Safe without the MMU lock
 * because tables are freed only by zap-all and ept_destroy(), which run when no vCPU
 * of this VM is in the guest or in an exit handler (one CPU today; with SMP, zap-all
 * must wait for every vCPU to leave its walk first).
 */
static u64 *walk_existing(const struct mmu *mmu, gfn_t gfn)
{
	struct shadow_walk walk;
	for_each_shadow_entry(walk, mmu->ept_root->table_hpa, EPT_LEVELS, gfn_to_gpa(gfn))
		;
	return walk.sptep;
}

static bool can_map_2m(const struct mmu *mmu, const struct memslot *slot, gfn_t gfn)
{
	gfn_t base = ALIGN_DOWN(gfn, GFNS_PER_2M);
	return mmu->ept_large_pages && base >= slot->base_gfn &&
	       base + GFNS_PER_2M <= slot->base_gfn + slot->npages &&
	       IS_ALIGNED(memslot_gfn_to_hpa(slot, base), MiB(2));
}

/* Whether a fault might take the VM past its table budget (one new table per level at
 * most): then everything is zapped first, and the guest faults in what it uses again. */
static bool reclaimed_tables(struct mmu *mmu)
{
	if (mmu->npages + EPT_LEVELS <= mmu->ept_pages_max)
		return false;
	mmu_zap_all(mmu);
	return true;
}

static enum mmu_fault_result map_ram(struct mmu *mmu, const struct memslot *slot, gfn_t gfn)
{
	if (spte_is_present(*walk_existing(mmu, gfn)))
		return MMU_FAULT_MAPPED;	/* spurious: mapped since (another vCPU, a retry) */
	if (reclaimed_tables(mmu))
		return MMU_FAULT_RETRY;		/* the guest re-runs on the new, empty root */
	unsigned access = slot->flags & MEMSLOT_READONLY ? ACC_EXEC : ACC_EXEC | ACC_WRITE;
	if (can_map_2m(mmu, slot, gfn)) {
		gfn_t base = ALIGN_DOWN(gfn, GFNS_PER_2M);
		u64 *pde = walk_create(mmu, base, 2);
		if (pde && !spte_is_present(*pde)) {
			*pde = spte_make_leaf(memslot_gfn_to_hpa(slot, base), access, true);
			return MMU_FAULT_MAPPED;
		}
	}
	u64 *pte = walk_create(mmu, gfn, 1);
	if (!pte)
		return MMU_FAULT_NO_MEMORY;
	*pte = spte_make_leaf(memslot_gfn_to_hpa(slot, gfn), access, false);
	return MMU_FAULT_MAPPED;
}

static void install_mmio_spte(struct mmu *mmu, gfn_t gfn)
{
	if (reclaimed_tables(mmu))
		return;		/* this access is emulated uncached; the next one installs */
	u64 *pte = walk_create(mmu, gfn, 1);
	if (pte)
		*pte = spte_make_mmio(gfn, mmu->memslots.generation);
}

enum mmu_fault_result mmu_handle_ept_violation(struct mmu *mmu, struct mmu_vcpu *vcpu,
					       u64 gpa, bool write, bool cache_mmio)
{
	gfn_t gfn = gpa_to_gfn(gpa);
	const struct memslot *slot = memslot_find(&mmu->memslots, vcpu, gfn);
	if (slot && !(write && (slot->flags & MEMSLOT_READONLY)))
		return map_ram(mmu, slot, gfn);
	if (!slot && cache_mmio)
		install_mmio_spte(mmu, gfn);
	return MMU_FAULT_MMIO;
}

/* The spte of gfn: the vCPU's last MMIO spte when it is the same gfn and no table was
 * freed since (no zap-all: the same roots_generation), else a lockless walk (remembered
 * for next time). */
static u64 *mmio_spte_of(struct mmu *mmu, struct mmu_vcpu *vcpu, gfn_t gfn)
{
	u64 *spte = mmu_last_mmio_spte(mmu, vcpu, gfn);
	if (spte)
		return spte;
	spte = walk_existing(mmu, gfn);
	vcpu->last_mmio_gfn = gfn;
	vcpu->last_mmio_spte = spte;
	vcpu->last_mmio_generation = mmu->roots_generation;
	return spte;
}

enum mmu_fault_result mmu_ept_misconfig_lookup(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gpa)
{
	u64 *spte = mmio_spte_of(mmu, vcpu, gpa_to_gfn(gpa));
	u64 value = *spte;
	/* The hot path: one compare with the spte a current install would have written. */
	if (likely(value == spte_make_ept_mmio(gpa_to_gfn(gpa), mmu->memslots.generation)))
		return MMU_FAULT_MMIO;
	if (!spte_is_mmio(value))
		return MMU_FAULT_INVALID_SPTE;
	*spte = 0;
	ept_flush(mmu);
	return MMU_FAULT_RETRY;
}

static void zap_range_in(u64 *t, int level, gfn_t table_base, gfn_t base, u64 npages)
{
	u64 span = 1ull << (spte_level_shift(level) - PAGE_SHIFT);
	for (unsigned i = 0; i < SPTE_ENTRIES; i++) {
		gfn_t start = table_base + i * span;
		if (start >= base + npages || start + span <= base || !t[i])
			continue;
		if (spte_is_table(t[i], level))
			zap_range_in(phys_to_virt(spte_address(t[i])), level - 1, start, base, npages);
		else
			t[i] = 0;
	}
}

void ept_zap_range(struct mmu *mmu, gfn_t base, u64 npages)
{
	zap_range_in(mmu->ept_root->spt, EPT_LEVELS, 0, base, npages);
	ept_flush(mmu);
}
