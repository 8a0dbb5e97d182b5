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
#include "lib/page_alloc.h"
#include "lib/slab.h"
#include "lib/string.h"
#include "mmu/internal.h"

static struct kmem_cache page_cache = KMEM_CACHE_INIT(page_cache, "mmu_page", sizeof(struct mmu_page));

void mmu_core_init(struct mmu *mmu)
{
	memset(mmu, 0, sizeof(*mmu));
	list_init(&mmu->active_pages);
}

/* ---- table pages ----------------------------------------------------------------------- */

/* Indirect level-1 shadow pages also record the gfn each leaf maps (mmu_page_leaf_gfn()). */
static bool needs_gfns(union mmu_page_role role)
{
	return role.level == 1 && !role.direct;
}

struct mmu_page *mmu_page_alloc(struct mmu *mmu, gfn_t gfn, union mmu_page_role role)
{
	struct mmu_page *page = kmem_cache_alloc(&page_cache);
	if (!page)
		return NULL;
	memset(page, 0, sizeof(*page));
	page->table_hpa = page_alloc_zeroed(0);
	u64 gfns_hpa = needs_gfns(role) ? page_alloc(0) : 0;
	if (!page->table_hpa || (needs_gfns(role) && !gfns_hpa)) {
		if (page->table_hpa)
			page_free(page->table_hpa, 0);
		kmem_cache_free(&page_cache, page);
		return NULL;
	}
	page->spt = phys_to_virt(page->table_hpa);
	page->gfns = gfns_hpa ? phys_to_virt(gfns_hpa) : NULL;
	page->gfn = gfn;
	page->role = role;
	page->generation = mmu->generation;
	list_add(&page->active_link, &mmu->active_pages);
	mmu->npages++;
	return page;
}

/* The caller has unlinked page from everything of its own (hashes, parents, rmaps). */
void mmu_page_free(struct mmu *mmu, struct mmu_page *page)
{
	list_del(&page->active_link);
	page_free(page->table_hpa, 0);
	if (page->gfns)
		page_free(virt_to_phys(page->gfns), 0);
	kmem_cache_free(&page_cache, page);
	mmu->npages--;
}

/* ---- zap-all and teardown ----------------------------------------------------------------- */

void mmu_zap_all(struct mmu *mmu)
{
	if (mmu->shadow.enabled)
		mmu_shadow_zap_all(mmu);
	else
		ept_zap_all(mmu);
}

void mmu_destroy(struct mmu *mmu)
{
	if (mmu->shadow.enabled)
		shadow_destroy(mmu);
	else
		ept_destroy(mmu);
}

/* ---- slot changes ---------------------------------------------------------------------- */

/* The sptes that map [base, base + npages), which has just left a slot. The shadow MMU
 * zaps everything: which sptes map a slot's gfns it knows only through the rmaps, and
 * slot changes are rare (issue 8 narrows this). */
static void zap_gfn_range(struct mmu *mmu, gfn_t base, u64 npages)
{
	if (mmu->shadow.enabled)
		mmu_shadow_zap_all(mmu);
	else
		ept_zap_range(mmu, base, npages);
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
	zap_gfn_range(mmu, removed->base_gfn, removed->npages);
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
	zap_gfn_range(mmu, old.base_gfn, old.npages);
	after_generation_change(mmu);
	return 0;
}

void mmu_set_mmio_cache(struct mmu *mmu, bool on)
{
	mmu->mmio_cache = on;
	if (!on)
		mmu_zap_all(mmu);
}
