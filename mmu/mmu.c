/*
 * The MMU's core, shared by its two users: EPT (mmu/ept.c) and the shadow MMU
 * (mmu/shadow.c). Here live the table pages both own (struct mmu_page), zap-all and
 * teardown, and the slot-change hooks, which decide what a change to guest-physical
 * memory must drop from the tables.
 *
 * Error convention for mmu/: what a person reads on failure to set up (init functions)
 * is returned as a message, NULL on success; slot changes return 0 or a negative enum
 * mmu_error, which hypercalls pass on; a fault returns an enum mmu_fault_result, a verdict
 * that tells the exit handler what to do next (MMU_FAULT_NO_MEMORY among them).
 */
#include "arch/x86/cpu.h"
#include "lib/page_alloc.h"
#include "lib/slab.h"
#include "lib/string.h"
#include "mmu/internal.h"

static struct kmem_cache page_cache = KMEM_CACHE_INIT(page_cache, "mmu_page", sizeof(struct mmu_page));

void mmu_core_init(struct mmu *mmu)
{
	memset(mmu, 0, sizeof(*mmu));
	list_init(&mmu->active_pages);
	list_init(&mmu->spare_pages);
}

/* ---- table pages ----------------------------------------------------------------------- */

/* Indirect level-1 shadow pages also record the guest PTE each leaf was made from. */
static bool needs_gptes(union mmu_page_role role)
{
	return role.level == 1 && !role.direct;
}

/* A page of a table page's memory goes back to page_alloc, or while a fast zap-all frees
 * obsolete pages onto deferred_frees (linked through the pages themselves): each buddy
 * merge costs hundreds of ticks, so a table page's few of them would stretch a lock hold
 * well past its budget; they are given back one at a time afterwards. */
static void release_page(struct mmu *mmu, u64 hpa)
{
	if (!mmu->defer_frees) {
		page_free(hpa, 0);
		return;
	}
	*(u64 *)phys_to_virt(hpa) = mmu->deferred_frees;
	mmu->deferred_frees = hpa;
}

static void free_deferred_pages(struct mmu *mmu)
{
	while (mmu->deferred_frees) {
		u64 hpa = mmu->deferred_frees;
		mmu->deferred_frees = *(u64 *)phys_to_virt(hpa);
		page_free(hpa, 0);
		if (mmu_lock_held_long(mmu))
			mmu_lock_break(mmu);
	}
}

static void free_page_memory(struct mmu *mmu, struct mmu_page *page)
{
	release_page(mmu, page->table_hpa);
	if (page->gptes)
		release_page(mmu, virt_to_phys(page->gptes));
	for (unsigned i = 0; i < RMAP_BLOCKS; i++)
		if (page->rmaps[i])
			release_page(mmu, virt_to_phys(page->rmaps[i]));
	kmem_cache_free(&page_cache, page);
}

/* A page struct with its table zeroed and its rmap blocks' entries (if any) unhashed: a
 * spare, else newly allocated. */
static struct mmu_page *page_with_table(struct mmu *mmu)
{
	if (!list_empty(&mmu->spare_pages)) {
		struct mmu_page *page = list_first_entry(&mmu->spare_pages, struct mmu_page,
							 active_link);
		list_del(&page->active_link);
		mmu->nspare--;
		return page;
	}
	struct mmu_page *page = kmem_cache_alloc(&page_cache);	/* zeroed */
	u64 table_hpa = page ? page_alloc_zeroed(0) : 0;
	if (!table_hpa) {
		if (page)
			kmem_cache_free(&page_cache, page);
		return NULL;
	}
	page->table_hpa = table_hpa;
	return page;
}

/* The gptes array (uninitialised: a leaf's entry is written as the leaf is) if role's
 * pages have one. */
static bool fit_gptes(struct mmu_page *page, union mmu_page_role role)
{
	if (!needs_gptes(role)) {
		if (page->gptes)
			page_free(virt_to_phys(page->gptes), 0);
		page->gptes = NULL;
		return true;
	}
	if (!page->gptes) {
		u64 hpa = page_alloc(0);
		page->gptes = hpa ? phys_to_virt(hpa) : NULL;
	}
	return page->gptes;
}

struct mmu_page *mmu_page_alloc(struct mmu *mmu, gfn_t gfn, union mmu_page_role role)
{
	struct mmu_page *page = page_with_table(mmu);
	if (!page)
		return NULL;
	if (!fit_gptes(page, role)) {
		free_page_memory(mmu, page);
		return NULL;
	}
	struct mmu_page kept = *page;	/* its memory: table, gptes, rmap blocks */
	memset(page, 0, sizeof(*page));
	page->table_hpa = kept.table_hpa;
	page->spt = phys_to_virt(kept.table_hpa);
	page->gptes = kept.gptes;
	for (unsigned i = 0; i < RMAP_BLOCKS; i++) {
		page->rmaps[i] = kept.rmaps[i];
		if (page->rmaps[i])
			page->rmaps[i]->page = page;
	}
	page->gfn = gfn;
	page->role = role;
	page->generation = mmu->generation;
	list_add(&page->active_link, &mmu->active_pages);
	mmu->npages++;
	return page;
}

bool mmu_page_rmap_block(struct mmu_page *page, unsigned index)
{
	struct rmap_block **block = &page->rmaps[index / RMAP_BLOCK_LEAVES];
	if (*block)
		return true;
	u64 hpa = page_alloc_zeroed(0);		/* every node unhashed */
	if (!hpa)
		return false;
	*block = phys_to_virt(hpa);
	(*block)->page = page;
	(*block)->first = ALIGN_DOWN(index, RMAP_BLOCK_LEAVES);
	return true;
}

/* The caller has unlinked page from everything of its own (hashes, parents, rmaps).
 * table_zeroed: every entry of its table is 0 again (so no rmap entry is hashed), and the
 * page may be a spare. */
void mmu_page_free(struct mmu *mmu, struct mmu_page *page, bool table_zeroed)
{
	list_del(&page->active_link);
	mmu->npages--;
	if (table_zeroed && mmu->nspare < MMU_SPARE_PAGES) {
		list_add(&page->active_link, &mmu->spare_pages);
		mmu->nspare++;
		return;
	}
	free_page_memory(mmu, page);
}

void mmu_free_spare_pages(struct mmu *mmu)
{
	while (!list_empty(&mmu->spare_pages)) {
		struct mmu_page *page = list_first_entry(&mmu->spare_pages, struct mmu_page,
							 active_link);
		list_del(&page->active_link);
		free_page_memory(mmu, page);
	}
	mmu->nspare = 0;
}

/* ---- the MMU lock ----------------------------------------------------------------------- */

/*
 * One lock per VM. Zap-all and slot changes take it; the fault paths run on the VM's one
 * vCPU and will take it with SMP. Each hold is timed (stats.lock_hold_max), so the
 * statistics show the longest stretch any operation keeps the MMU to itself.
 */
static void mmu_lock(struct mmu *mmu)
{
	mmu->lock_taken_tsc = rdtsc();
}

static void mmu_unlock(struct mmu *mmu)
{
	u64 held = rdtsc() - mmu->lock_taken_tsc;
	mmu->stats.lock_hold_max = MAX(mmu->stats.lock_hold_max, held);
	mmu->stats.last_op_hold_max = MAX(mmu->stats.last_op_hold_max, held);
}

/* A zap-all or a slot change: the MMU lock held from here to mmu_op_end(), with breaks.
 * Returns the start time for mmu_op_end(). */
static u64 mmu_op_begin(struct mmu *mmu)
{
	mmu->stats.last_op_hold_max = 0;
	u64 start = rdtsc();
	mmu_lock(mmu);
	return start;
}

static void mmu_op_end(struct mmu *mmu, u64 start)
{
	mmu_unlock(mmu);
	mmu->stats.last_op_ticks = rdtsc() - start;
}

/* Lets whoever waits for the lock in (a vCPU's fault, an exit on another CPU). */
void mmu_lock_break(struct mmu *mmu)
{
	mmu_unlock(mmu);
	mmu_lock(mmu);
}

bool mmu_lock_held_long(const struct mmu *mmu)
{
	return rdtsc() - mmu->lock_taken_tsc >= MMU_LOCK_HOLD_BUDGET;
}

/* ---- zap-all and teardown ----------------------------------------------------------------- */

/* zap=slow: every page taken apart spte by spte, in one hold (the seed's zap-all). */
static void zap_all_slow(struct mmu *mmu)
{
	if (mmu->shadow.enabled)
		shadow_zap_all_slow(mmu);
	else
		ept_zap_all_slow(mmu);
	mmu_request_root_reloads(mmu);
}

/* The oldest pages sit at the tail of active_pages: free from there until a current one. */
static void free_obsolete_pages(struct mmu *mmu)
{
	unsigned in_batch = 0;
	mmu->defer_frees = true;
	while (!list_empty(&mmu->active_pages)) {
		struct mmu_page *page = list_last_entry(&mmu->active_pages, struct mmu_page, active_link);
		if (!mmu_page_is_obsolete(mmu, page))
			break;
		if (in_batch == MMU_ZAP_BATCH || (in_batch && mmu_lock_held_long(mmu))) {
			mmu_lock_break(mmu);
			in_batch = 0;
		}
		if (in_batch++ == 0)
			mmu->stats.zap_batches++;
		if (mmu->shadow.enabled)
			shadow_free_obsolete_page(mmu, page);
		else
			mmu_page_free(mmu, page, false);
		mmu->stats.obsolete_pages_freed++;
	}
	mmu->defer_frees = false;
	free_deferred_pages(mmu);
}

/*
 * Fast zap-all (KVM's kvm_mmu_zap_all_fast): one generation bump makes every page obsolete
 * at once, and the reload request makes every vCPU leave its root before its next entry;
 * then the obsolete pages are freed in batches of at most MMU_ZAP_BATCH (and at most
 * MMU_LOCK_HOLD_BUDGET ticks), whole, without visiting their sptes: EPT tables have no
 * links, and a shadow page's rmaps go with the whole rmap table and its parent links with
 * it (every parent is obsolete too).
 */
static void zap_all_fast(struct mmu *mmu)
{
	mmu->generation++;
	bool ready = mmu->shadow.enabled ? shadow_begin_fast_zap(mmu) : ept_begin_fast_zap(mmu);
	if (!ready) {		/* no memory for a new EPT root: the old one is emptied */
		mmu->generation--;
		zap_all_slow(mmu);
		return;
	}
	mmu_request_root_reloads(mmu);
	free_obsolete_pages(mmu);
	if (mmu->shadow.enabled)
		shadow_drain_rmaps(mmu);
}

/* With the MMU lock held. */
static void zap_all_locked(struct mmu *mmu)
{
	u64 start = rdtsc();
	if (mmu->zap_slow)
		zap_all_slow(mmu);
	else
		zap_all_fast(mmu);
	mmu->stats.zap_alls++;
	mmu->stats.zap_ticks += rdtsc() - start;
}

void mmu_zap_all(struct mmu *mmu)
{
	u64 start = mmu_op_begin(mmu);
	zap_all_locked(mmu);
	mmu_op_end(mmu, start);
}

void mmu_ept_reload_root(struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	vcpu->roots_generation = mmu->roots_generation;
	mmu->stats.root_reloads++;
}

void mmu_destroy(struct mmu *mmu)
{
	if (mmu->shadow.enabled)
		shadow_destroy(mmu);
	else
		ept_destroy(mmu);
	mmu_free_spare_pages(mmu);
}

/* ---- slot changes ---------------------------------------------------------------------- */

/*
 * The sptes that map the gfns of a slot that has just gone (deleted, or moved away from
 * them). EPT clears them in its tables, a walk of the range alone. The shadow MMU drops
 * them through the rmaps, with the shadow pages of the guest tables that lived there,
 * unless the slot held most of those tables: then a zap-all is cheaper
 * (shadow_prefers_zap_all()). docs/design.md lists which change zaps what.
 */
static void zap_slot_range(struct mmu *mmu, const struct memslot *gone)
{
	u64 start = mmu_op_begin(mmu);
	if (!mmu->shadow.enabled)
		ept_zap_range(mmu, gone->base_gfn, gone->npages);
	else if (shadow_prefers_zap_all(mmu, gone))
		zap_all_locked(mmu);
	else
		shadow_zap_gfn_range(mmu, gone->base_gfn, gone->npages);
	mmu_op_end(mmu, start);
}

/* Every slot change bumps the slot generation, which makes every MMIO spte installed
 * before it stale. When the generation's bits in MMIO sptes wrap, an old MMIO spte could
 * look current again: then every spte goes. */
static void after_generation_change(struct mmu *mmu)
{
	if (mmio_generation_bits(mmu->memslots.generation) == 0)
		mmu_zap_all(mmu);
}

/* A new slot needs no zap: the gfns it covers were MMIO, and their MMIO sptes are stale
 * from the generation bump on. */
int memslot_add(struct mmu *mmu, gfn_t base_gfn, u64 npages, u64 hpa, u32 flags, u32 *id_out)
{
	int err = memslots_insert(&mmu->memslots, base_gfn, npages, hpa, flags, id_out);
	if (!err)
		after_generation_change(mmu);
	return err;
}

int memslot_delete(struct mmu *mmu, u32 id, struct memslot *removed)
{
	int err = memslots_remove(&mmu->memslots, id, removed);
	if (err)
		return err;
	zap_slot_range(mmu, removed);
	after_generation_change(mmu);
	return 0;
}

/* The new range was MMIO (stale from the generation bump on); the old range is dropped. */
int memslot_move(struct mmu *mmu, u32 id, gfn_t new_base_gfn)
{
	struct memslot old;
	int err = memslots_move(&mmu->memslots, id, new_base_gfn, &old);
	if (err)
		return err;
	zap_slot_range(mmu, &old);
	after_generation_change(mmu);
	return 0;
}

void mmu_set_mmio_cache(struct mmu *mmu, bool on)
{
	mmu->mmio_cache = on;
	if (!on)
		mmu_zap_all(mmu);
}
