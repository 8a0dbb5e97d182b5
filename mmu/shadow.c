/*
 * The shadow MMU: on CPUs without EPT (or with ept=off) the CPU walks page tables Vireo
 * builds from the guest's own, mapping guest-linear addresses to host-physical ones.
 * After KVM's 2007 "cache shadow page tables" design:
 *
 * - Shadow pages are kept across CR3 switches, keyed by the guest table's gfn and a role
 *   (mmu/mmu_page.h): returning to an address space reuses its whole tree.
 * - Every guest table that a shadow page mirrors is write-protected: each leaf spte that
 *   maps its gfn is found through the reverse maps (rmaps, gfn -> sptes) and made
 *   read-only. A guest write to it faults, is emulated, and the entries it changed are
 *   dropped from the shadow (mmu_shadow_guest_wrote()), so a shadow page never disagrees
 *   with the guest table it mirrors.
 * - Unsync leaf tables (KVM's 2008 "out of sync shadow", shadow_unsync=on): the first
 *   guest write to a table shadowed only by level-1 pages makes them unsync and the gfn
 *   writable, so a kernel filling or write-protecting a page table (fork) writes it at
 *   full speed. Until the guest's next TLB flush those pages may hold stale leaves, as a
 *   TLB may; the flush (mmu_shadow_sync()) checks each leaf against its guest entry and
 *   write-protects the gfn again. INVLPG drops the leaf it names, synced or not.
 * - A gfn in no memory slot gets an MMIO spte with a reserved bit set (mmu/spte.h): its
 *   next access is a #PF with RSVD = 1 that names the gfn and slot generation by itself.
 *
 * Shadow levels. The CPU runs 4-level guests on 4-level paging, with a hashed level-4 page
 * as the root. Every other guest (paging off, 32-bit, PAE) runs on PAE paging: a per-vCPU
 * PDPT below 4 GiB whose four entries point at level-2 pages: the guest's PAE page
 * directories, the quarters of its 32-bit page directory, or direct pages for 1 GiB each
 * of guest-physical memory when paging is off. Guest large pages (2M, 4M, 1G) are mapped
 * by direct pages of 4K leaves, so every shadow leaf is at level 1.
 *
 * Lock: one MMU lock per VM around every entry point (one CPU today: none taken).
 */
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/slab.h"
#include "lib/string.h"
#include "mmu/internal.h"
#include "mmu/mmu_page.h"
#include "mmu/shadow_walk.h"

#define PAGES_HASH_ORDER 3	/* 4096 buckets */
#define RMAP_HASH_ORDER 5	/* 16384 buckets */
#define PAE_ROOT_ENTRIES 4
#define GUEST_PDE_32_SHIFT 22	/* a 32-bit PDE maps 4 MiB */
/* Emulated writes to one guest table with no fault through its shadow in between after
 * which it is probably no page table any more (a freed page reused as data): unshadow. */
#define WRITE_FLOOD_LIMIT 3
/* Shadow pages one fault can create: levels 3 to 1, and one spare. */
#define PAGES_PER_FAULT 4
#define MIN_SHADOW_PAGES 64ull
/* Leaves around a fault's that it maps too, an aligned group (KVM's PTE_PREFETCH_NUM). */
#define FAULT_PREFETCH_LEAVES 8
/* rmap buckets the drain empties between looks at the clock. */
#define RMAP_DRAIN_BUCKETS_PER_CHECK 256

static struct kmem_cache ref_cache = KMEM_CACHE_INIT(ref_cache, "spte_ref", sizeof(struct spte_ref));

static struct mmu_shadow *shadow_of(struct mmu *mmu) { return &mmu->shadow; }

/* ---- setup ------------------------------------------------------------------------- */

static bool hash_alloc(struct hash_table *table, unsigned order)
{
	u64 hpa = page_alloc_zeroed(order);
	if (!hpa)
		return false;
	hash_init(table, phys_to_virt(hpa), (PAGE_SIZE << order) / sizeof(struct hlist_head));
	return true;
}

static void hash_free(struct hash_table *table, unsigned order)
{
	if (table->buckets)
		page_free(virt_to_phys(table->buckets), order);
	table->buckets = NULL;
}

static void free_hashes(struct mmu_shadow *s)
{
	hash_free(&s->pages_by_gfn, PAGES_HASH_ORDER);
	hash_free(&s->pages_by_hpa, PAGES_HASH_ORDER);
	hash_free(&s->rmaps, RMAP_HASH_ORDER);
	hash_free(&s->rmaps_draining, RMAP_HASH_ORDER);
}

u64 mmu_shadow_default_pages(u64 ram_bytes)
{
	return MAX((ram_bytes >> PAGE_SHIFT) * 20 / 1000, MIN_SHADOW_PAGES);
}

const char *mmu_shadow_init(struct mmu *mmu, u64 max_pages, bool cache, u8 guest_phys_bits)
{
	mmu_core_init(mmu);
	struct mmu_shadow *s = shadow_of(mmu);
	s->enabled = true;
	s->cache = cache;
	s->guest_phys_bits = guest_phys_bits;
	s->max_pages = MAX(max_pages, MIN_SHADOW_PAGES);
	mmu->mmio_cache = spte_mmio_supported();
	list_init(&s->obsolete_roots);
	list_init(&s->unsync_pages);
	if (!hash_alloc(&s->pages_by_gfn, PAGES_HASH_ORDER) ||
	    !hash_alloc(&s->pages_by_hpa, PAGES_HASH_ORDER) || !hash_alloc(&s->rmaps, RMAP_HASH_ORDER) ||
	    !hash_alloc(&s->rmaps_draining, RMAP_HASH_ORDER)) {
		free_hashes(s);
		return "no memory for the shadow MMU's hash tables";
	}
	return NULL;
}

/* The PAE root is the CPU's CR3 outside IA-32e mode, where CR3 has 32 bits. */
const char *mmu_shadow_vcpu_init(struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	u64 hpa = page_alloc_zeroed(0);
	if (!hpa)
		return "no memory for the shadow PAE root";
	if (hpa >= GiB(4)) {
		page_free(hpa, 0);
		return "no free page below 4 GiB for the shadow PAE root";
	}
	vcpu->shadow.pae_root_hpa = hpa;
	return NULL;
}

/* ---- pages ------------------------------------------------------------------------- */

/* pages_by_hpa is keyed by frame number, which spreads by its low bits (every fault looks
 * up a page per level: no mixing of the key). */
static struct mmu_page *page_of_table(struct mmu_shadow *s, u64 table_hpa)
{
	u64 pfn = table_hpa >> PAGE_SHIFT;
	struct hlist_node *node = hlist_find_key(hash_bucket_low_bits(&s->pages_by_hpa, pfn)->first,
						 pfn);
	if (!node)
		panic("shadow MMU: no page for table %#llx", (unsigned long long)table_hpa);
	return container_of(node, struct mmu_page, hpa_link);
}

static struct mmu *mmu_of(struct mmu_shadow *s) { return container_of(s, struct mmu, shadow); }

static void free_page(struct mmu_shadow *s, struct mmu_page *page)
{
	if (page->unsync)
		list_del(&page->unsync_link);
	hash_del(&page->hpa_link);
	/* A clear bit in used means a 0 entry: none set, the table is all 0 */
	mmu_page_free(mmu_of(s), page, bitmap_find_next_set(page->used, SPTE_ENTRIES, 0) >= SPTE_ENTRIES);
}

/* Keeps guest_tables and the slots' shadowed_tables as a page that mirrors a guest table
 * enters or leaves pages_by_gfn (a fast zap-all resets them all to 0 instead). */
static void count_guest_table(struct mmu_shadow *s, const struct mmu_page *page, int delta)
{
	if (page->role.direct)
		return;
	s->guest_tables += (u64)(s64)delta;
	struct memslot *slot = memslots_find(&mmu_of(s)->memslots, page->gfn);
	if (slot && (delta > 0 || slot->shadowed_tables))
		slot->shadowed_tables += (u64)(s64)delta;
}

static struct mmu_page *create_page(struct mmu_shadow *s, gfn_t gfn, union mmu_page_role role)
{
	struct mmu_page *page = mmu_page_alloc(mmu_of(s), gfn, role);
	if (!page)
		return NULL;
	hash_add(&s->pages_by_gfn, &page->gfn_link, gfn);
	u64 pfn = page->table_hpa >> PAGE_SHIFT;
	hlist_add(hash_bucket_low_bits(&s->pages_by_hpa, pfn), &page->hpa_link, pfn);
	s->stats.pages_created++;
	count_guest_table(s, page, +1);
	return page;
}

/* A current page that mirrors a guest table (pages_by_gfn also holds direct pages, and
 * obsolete ones while a zap-all frees them). */
static bool shadows_guest_table(struct mmu_shadow *s, const struct mmu_page *page)
{
	return !page->role.direct && !mmu_page_is_obsolete(mmu_of(s), page);
}

/* Whether guest writes to gfn must fault: a valid page mirrors a guest table there and is
 * not unsync. */
static bool gfn_is_write_protected(struct mmu_shadow *s, gfn_t gfn)
{
	struct mmu_page *page;
	hash_for_each_possible(&s->pages_by_gfn, page, gfn_link, gfn)
		if (shadows_guest_table(s, page) && !page->unsync)
			return true;
	return false;
}

/*
 * A guest write to shadowed gfn: its pages go unsync if every one is a level-1 page (a
 * guest PT; its entries are leaves, which a stale TLB may hold too), at the first write:
 * the guest then writes the table freely and the next flush resyncs it, which costs a
 * compare per entry the shadow holds (struct mmu_page: used, gptes). Emulating the write
 * instead costs more than that resync for any table written more than once before the
 * flush (fork write-protecting, exit clearing, demand paging filling in entries): measured
 * on the 200 fork+exec loop, unsync at the first write is 7 % faster than at the second.
 * A higher table stays write-protected: the shadow above the leaves is always in sync.
 */
static bool try_unsync(struct mmu_shadow *s, gfn_t gfn)
{
	struct mmu_page *page;
	if (!s->unsync)
		return false;
	hash_for_each_possible(&s->pages_by_gfn, page, gfn_link, gfn)
		if (shadows_guest_table(s, page) && page->role.level != 1)
			return false;
	hash_for_each_possible(&s->pages_by_gfn, page, gfn_link, gfn) {
		if (shadows_guest_table(s, page) && !page->unsync) {
			page->unsync = true;
			list_add(&page->unsync_link, &s->unsync_pages);
			s->stats.pages_unsynced++;
		}
	}
	return true;
}

/* ---- reverse maps and parent links ------------------------------------------------- */

/* false: out of memory for the page's rmap block */
static bool rmap_add(struct mmu_shadow *s, struct mmu_page *page, unsigned index, gfn_t gfn)
{
	if (!mmu_page_rmap_block(page, index))
		return false;
	hash_add(&s->rmaps, mmu_rmap_node(page, index), gfn);
	return true;
}

static void rmap_remove(struct mmu_page *page, unsigned index)
{
	struct hlist_node *node = mmu_rmap_node(page, index);
	if (!hash_hashed(node))
		panic("shadow MMU: leaf %u of page %#llx missing from its rmap", index,
		      (unsigned long long)page->table_hpa);
	hash_del(node);
}

/* Visits the rmap entry of every present leaf that maps gfn; the body may drop it. */
#define for_each_rmap(s, gfn, node, tmp) \
	for (node = hlist_find_key(hash_bucket(&(s)->rmaps, gfn)->first, gfn); \
	     node && ((tmp) = node->next, true); node = hlist_find_key(tmp, gfn))

static bool parent_add(struct mmu_page *child, u64 *sptep)
{
	struct spte_ref *ref = kmem_cache_alloc(&ref_cache);
	if (!ref)
		return false;
	ref->sptep = sptep;
	ref->next = child->parents;
	child->parents = ref;
	return true;
}

static void parent_remove(struct mmu_page *child, u64 *sptep)
{
	for (struct spte_ref **link = &child->parents; *link; link = &(*link)->next) {
		if ((*link)->sptep == sptep) {
			struct spte_ref *ref = *link;
			*link = ref->next;
			kmem_cache_free(&ref_cache, ref);
			return;
		}
	}
	panic("shadow MMU: spte %p missing from its child's parents", (void *)sptep);
}

/* Makes every leaf that maps gfn read-only: gfn now holds a shadowed guest table. */
static void write_protect_gfn(struct mmu_shadow *s, gfn_t gfn)
{
	struct hlist_node *node, *tmp;
	for_each_rmap(s, gfn, node, tmp) {
		u64 *sptep = mmu_rmap_sptep(node);
		if (spte_is_writable(*sptep)) {
			*sptep &= ~(u64)(SPTE_WRITABLE | PT_DIRTY);
			mmu_request_all(mmu_of(s));
		}
	}
}

/* ---- dropping sptes and zapping pages ---------------------------------------------- */

/* Every store of a non-zero entry goes through here (page->used). */
static void set_spte(struct mmu_page *page, unsigned index, u64 spte)
{
	bitmap_set_bit(page->used, index);
	page->spt[index] = spte;
}

/* Visits every entry of page that may be non-zero (page->used), in order. */
#define for_each_used_spte(page, index) \
	for (size_t index = bitmap_find_next_set((page)->used, SPTE_ENTRIES, 0); \
	     index < SPTE_ENTRIES; \
	     index = bitmap_find_next_set((page)->used, SPTE_ENTRIES, index + 1))

static void drop_spte(struct mmu_shadow *s, struct mmu_page *page, unsigned index)
{
	u64 *sptep = &page->spt[index];
	u64 spte = *sptep;
	*sptep = 0;
	bitmap_clear_bit(page->used, index);
	if (!spte_is_present(spte))
		return;		/* empty, or an MMIO spte: the CPU caches neither */
	if (page->role.level == 1)
		rmap_remove(page, index);
	else
		parent_remove(page_of_table(s, spte_address(spte)), sptep);
	mmu_request_all(mmu_of(s));
}

static void drop_all_sptes(struct mmu_shadow *s, struct mmu_page *page)
{
	for_each_used_spte(page, i)
		drop_spte(s, page, i);
}

/* Takes page out of use: its entries and the entries that point at it are dropped, its
 * children stay cached. A root in use is only marked invalid, and its vCPUs reload. */
static void zap_page(struct mmu_shadow *s, struct mmu_page *page)
{
	drop_all_sptes(s, page);
	while (page->parents) {
		struct spte_ref *ref = page->parents;
		*ref->sptep = 0;
		page->parents = ref->next;
		kmem_cache_free(&ref_cache, ref);
		mmu_request_all(mmu_of(s));
	}
	s->stats.pages_zapped++;
	if (page->role.invalid)
		return;
	hash_del(&page->gfn_link);
	count_guest_table(s, page, -1);
	if (page->root_count) {
		page->role.invalid = 1;
		mmu_request_root_reloads(mmu_of(s));
		return;
	}
	free_page(s, page);
}

/* zap=slow: every page zapped spte by spte, in one hold. */
void shadow_zap_all_slow(struct mmu *mmu)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct mmu_page *page, *tmp;
	list_for_each_entry_safe(page, tmp, &mmu->active_pages, active_link)
		zap_page(s, page);
}

/* ---- fast zap-all (mmu/mmu.c) ------------------------------------------------------ */

/* Every leaf spte's rmap entry moves with the whole table: the new generation starts with
 * an empty one. rmaps_draining is empty here, as every fast zap-all drains it. */
bool shadow_begin_fast_zap(struct mmu *mmu)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct hash_table old = s->rmaps;
	s->rmaps = s->rmaps_draining;
	s->rmaps_draining = old;
	s->guest_tables = 0;
	for (size_t i = 0; i < mmu->memslots.count; i++)
		mmu->memslots.slots[i].shadowed_tables = 0;
	return true;
}

/* An obsolete page, freed whole: its entries are not visited (their rmap entries go with
 * rmaps_draining, and the children they point at are obsolete and freed too); the
 * entries that point at it belong to obsolete parents, so only the refs are freed. A root
 * still in use waits on obsolete_roots for put_root(). */
void shadow_free_obsolete_page(struct mmu *mmu, struct mmu_page *page)
{
	struct mmu_shadow *s = shadow_of(mmu);
	if (!page->role.invalid)
		hash_del(&page->gfn_link);
	page->role.invalid = 1;
	if (page->root_count) {
		list_move(&page->active_link, &s->obsolete_roots);
		return;
	}
	while (page->parents) {
		struct spte_ref *ref = page->parents;
		page->parents = ref->next;
		kmem_cache_free(&ref_cache, ref);
	}
	free_page(s, page);
}

static void break_lock_if_held_long(struct mmu *mmu)
{
	if (mmu_lock_held_long(mmu))
		mmu_lock_break(mmu);
}

/* Empties rmaps_draining, within MMU_LOCK_HOLD_BUDGET per hold. Only the buckets are
 * cleared: their entries lie in the rmap blocks of obsolete pages, which may be freed
 * already, and nothing else reaches those entries. */
void shadow_drain_rmaps(struct mmu *mmu)
{
	struct hash_table *t = &shadow_of(mmu)->rmaps_draining;
	for (u64 b = 0; b <= t->mask; b++) {
		t->buckets[b].first = NULL;
		if (b % RMAP_DRAIN_BUCKETS_PER_CHECK == 0)
			break_lock_if_held_long(mmu);
	}
}

/* The oldest page no vCPU uses as a root, preferring one no entry points at. */
static struct mmu_page *reclaim_candidate(struct mmu_shadow *s)
{
	struct mmu_page *page, *fallback = NULL;
	struct list_head *pages = &mmu_of(s)->active_pages;
	for (struct list_head *n = pages->prev; n != pages; n = n->prev) {
		page = list_entry(n, struct mmu_page, active_link);
		if (page->root_count || page->role.invalid)
			continue;
		if (!page->parents)
			return page;
		if (!fallback)
			fallback = page;
	}
	return fallback;
}

/* Run before a fault or root load starts its walk, so no page it holds is reclaimed. */
static void make_pages_available(struct mmu_shadow *s)
{
	while (mmu_of(s)->npages + PAGES_PER_FAULT > s->max_pages) {
		struct mmu_page *victim = reclaim_candidate(s);
		if (!victim)
			return;
		zap_page(s, victim);
		s->stats.pages_reclaimed++;
	}
}

/* ---- roots ------------------------------------------------------------------------- */

/* A zap-all may have freed what this vCPU's tree points at: the tree is walked (faults,
 * INVLPG) only once the vCPU has reloaded its root (mmu_shadow_before_entry()). */
static bool root_is_stale(const struct mmu *mmu, const struct mmu_vcpu *vcpu)
{
	return !mmu_root_current(mmu, vcpu);
}

/* An invalid root may have gained entries from a fault handled before its vCPU reloaded:
 * they are dropped with it. An obsolete one is freed whole (shadow_free_obsolete_page()). */
static void put_root(struct mmu_shadow *s, struct mmu_page **root)
{
	struct mmu_page *page = *root;
	*root = NULL;
	if (!page || --page->root_count || !page->role.invalid)
		return;
	if (mmu_page_is_obsolete(mmu_of(s), page)) {
		shadow_free_obsolete_page(mmu_of(s), page);
		return;
	}
	drop_all_sptes(s, page);
	free_page(s, page);
}

static void release_roots(struct mmu_shadow *s, struct shadow_vcpu *sv)
{
	put_root(s, &sv->root);
	for (int i = 0; i < PAE_ROOT_ENTRIES; i++)
		put_root(s, &sv->pae_roots[i]);
}

/*
 * Kept roots. With CR4.PCIDE the TLB keeps each PCID's translations across MOV CR3, and
 * a MOV CR3 with bit 63 set keeps the new PCID's too (SDM Vol. 3A 4.10.4.1): Linux's page
 * table isolation does one at every kernel entry and exit. Going back to such a root
 * needs no sync: its unsync pages may hold what that PCID's TLB entries could, stale
 * leaves the guest has not invalidated yet. That is true of a root whose every
 * invalidation since it was loaded took effect: the current one and the kept ones, which
 * every INVLPG reaches too (it removes the address's global translations in every PCID,
 * and a shadow leaf does not say whether its guest entry was global). A root not kept may
 * have missed one, so loading it syncs. A sync leaves no page stale, so kept roots stay
 * valid across it; they are of one paging setup, as a root's role must match the current
 * one to be used.
 */
static void release_kept_roots(struct mmu_shadow *s, struct shadow_vcpu *sv)
{
	for (int i = 0; i < SHADOW_KEPT_ROOTS; i++)
		put_root(s, &sv->kept_roots[i].root);
}

static bool root_usable(const struct mmu *mmu, const struct mmu_page *root, union mmu_page_role role)
{
	return root && !root->role.invalid && !mmu_page_is_obsolete(mmu, root) &&
	       root->role.word == role.word;
}

/* The current 4-level root goes first among the kept ones (its root_count with it), the
 * oldest kept one is released if all slots are taken. */
static void keep_current_root(struct mmu *mmu, struct shadow_vcpu *sv)
{
	struct mmu_shadow *s = shadow_of(mmu);
	put_root(s, &sv->kept_roots[SHADOW_KEPT_ROOTS - 1].root);
	for (int i = SHADOW_KEPT_ROOTS - 1; i > 0; i--)	/* three entries: no memmove() call */
		sv->kept_roots[i] = sv->kept_roots[i - 1];
	sv->kept_roots[0].cr3 = sv->paging.cr3;
	sv->kept_roots[0].root = sv->root;
	sv->root = NULL;
}

/* The kept root for cr3 taken out (its root_count goes to the caller), or NULL. */
static struct mmu_page *take_kept_root(struct shadow_vcpu *sv, u64 cr3)
{
	for (int i = 0; i < SHADOW_KEPT_ROOTS; i++) {
		struct mmu_page *root = sv->kept_roots[i].root;
		if (root && sv->kept_roots[i].cr3 == cr3) {
			for (; i < SHADOW_KEPT_ROOTS - 1; i++)
				sv->kept_roots[i] = sv->kept_roots[i + 1];
			sv->kept_roots[SHADOW_KEPT_ROOTS - 1].root = NULL;
			return root;
		}
	}
	return NULL;
}

/* Before a root load for paging p: the current root is kept if p, as the paging before,
 * uses PCIDs with the same role (so it may be gone back to without a sync); kept roots
 * unusable under p are released, and the one for p's CR3 too (the load finds it again). */
static void update_kept_roots(struct mmu *mmu, struct shadow_vcpu *sv, const struct guest_paging *p,
			      union mmu_page_role role)
{
	struct mmu_shadow *s = shadow_of(mmu);
	bool keep = p->pcide && s->cache;
	if (keep && sv->paging.pcide && root_usable(mmu, sv->root, role) && sv->paging.cr3 != p->cr3)
		keep_current_root(mmu, sv);
	struct mmu_page *again = take_kept_root(sv, p->cr3);
	put_root(s, &again);
	for (int i = 0; i < SHADOW_KEPT_ROOTS; i++)
		if (!keep || !root_usable(mmu, sv->kept_roots[i].root, role))
			put_root(s, &sv->kept_roots[i].root);
}

void mmu_shadow_vcpu_destroy(struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	release_kept_roots(shadow_of(mmu), &vcpu->shadow);
	release_roots(shadow_of(mmu), &vcpu->shadow);
	if (vcpu->shadow.pae_root_hpa)
		page_free(vcpu->shadow.pae_root_hpa, 0);
	vcpu->shadow.pae_root_hpa = 0;
}

/* What every page built for this paging state shares. */
static union mmu_page_role base_role(const struct guest_paging *p)
{
	union mmu_page_role role = { .word = 0 };
	role.has_4_byte_gpte = p->mode == GUEST_PAGING_32;
	role.cr0_wp = p->wp;
	role.efer_nx = p->nxe;
	role.smep_andnot_wp = p->smep && !p->wp;
	role.smap_andnot_wp = p->smap && !p->wp;
	return role;
}

/*
 * What a root page shares, the PAE and 32-bit quarters included: no guest entry above it
 * takes a right away, so its role grants all. A root's role is then never that of a
 * page reached through entries granting less: a PAE quarter for a guest PD must not be
 * found as the 4-level shadow of the same table reached through a PML4E with XD (the
 * 4-level walk would then reuse the quarter's children and leaves, made without XD).
 */
static union mmu_page_role root_role(const struct guest_paging *p)
{
	union mmu_page_role role = base_role(p);
	role.access = ACC_ALL;
	return role;
}

static void resync_page(struct mmu *mmu, struct mmu_page *page);
static void prefetch_direct_neighbours(struct mmu *mmu, struct mmu_page *page, unsigned index);

/* A cached page found for a new link is resynced first if unsync: its stale leaves were
 * never reachable through this entry, so no TLB could hold them for it (a table unlinked,
 * rewritten, linked again must show its new entries). */
static struct mmu_page *get_page(struct mmu *mmu, gfn_t gfn, union mmu_page_role role)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct mmu_page *page;
	hash_for_each_possible(&s->pages_by_gfn, page, gfn_link, gfn) {
		if (page->role.word == role.word && !mmu_page_is_obsolete(mmu, page)) {
			if (page->unsync)
				resync_page(mmu, page);
			s->stats.pages_reused++;
			return page;
		}
	}
	page = create_page(s, gfn, role);
	if (page && !role.direct)
		write_protect_gfn(s, gfn);
	return page;
}

static struct mmu_page *get_root(struct mmu *mmu, gfn_t gfn, union mmu_page_role role)
{
	struct mmu_page *page = get_page(mmu, gfn, role);
	if (page)
		page->root_count++;
	return page;
}

/* The level-2 page under PAE root entry i; NULL for a PAE guest's non-present PDPTE. Its
 * role grants every right (root_role()). */
static struct mmu_page *get_pae_quarter(struct mmu *mmu, const struct shadow_vcpu *sv,
					unsigned i, union mmu_page_role role, bool *failed)
{
	const struct guest_paging *p = &sv->paging;
	gfn_t gfn;
	role.level = 2;
	switch (p->mode) {
	case GUEST_PAGING_OFF:
		role.direct = 1;
		gfn = (gfn_t)i << (2 * SPTE_LEVEL_BITS);
		break;
	case GUEST_PAGING_32:
		role.quadrant = i;
		gfn = gpa_to_gfn(p->cr3 & BITS(31, 12));
		break;
	default:
		if (!(sv->pdptes[i] & GUEST_PTE_PRESENT))
			return NULL;
		gfn = gpa_to_gfn(sv->pdptes[i] & BITS(51, 12) & (BIT(p->phys_bits) - 1));
		break;
	}
	struct mmu_page *page = get_root(mmu, gfn, role);
	*failed = !page;
	return page;
}

static bool load_pae_roots(struct mmu *mmu, struct shadow_vcpu *sv, union mmu_page_role role)
{
	u64 *pdpt = phys_to_virt(sv->pae_root_hpa);
	bool failed = false;
	for (unsigned i = 0; i < PAE_ROOT_ENTRIES && !failed; i++) {
		sv->pae_roots[i] = get_pae_quarter(mmu, sv, i, role, &failed);
		pdpt[i] = sv->pae_roots[i] ? spte_make_pae_root(sv->pae_roots[i]->table_hpa) : 0;
	}
	sv->root_hpa = sv->pae_root_hpa;
	return !failed;
}

enum mmu_fault_result mmu_shadow_load_root(struct mmu *mmu, struct mmu_vcpu *vcpu,
					   const struct guest_paging *paging, const u64 *pdptes)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct shadow_vcpu *sv = &vcpu->shadow;
	struct guest_paging p = *paging;	/* paging may be &sv->paging */
	union mmu_page_role role = root_role(&p);
	if (p.mode == GUEST_PAGING_4LEVEL)
		role.level = 4;
	else
		p.pcide = false;	/* CR4.PCIDE is for IA-32e mode only */
	update_kept_roots(mmu, sv, &p, role);
	release_roots(s, sv);
	if (!s->cache)
		mmu_zap_all(mmu);	/* shadow_cache=off: every switch starts afresh */
	make_pages_available(s);
	s->stats.root_loads++;
	u64 created = s->stats.pages_created;
	sv->paging = p;
	sv->paging.pdptes = NULL;
	if (p.mode == GUEST_PAGING_PAE) {
		memmove(sv->pdptes, pdptes, sizeof(sv->pdptes));	/* may be sv->pdptes */
		sv->paging.pdptes = sv->pdptes;
	}
	vcpu->roots_generation = mmu->roots_generation;
	mmu_request(mmu, vcpu);	/* the guest's MOV CR3 or mode change flushes its TLB */
	bool ok;
	if (p.mode == GUEST_PAGING_4LEVEL) {
		sv->root = get_root(mmu, gpa_to_gfn(p.cr3 & BITS(51, 12) & (BIT(p.phys_bits) - 1)), role);
		ok = sv->root;
		sv->root_hpa = ok ? sv->root->table_hpa : 0;
	} else {
		ok = load_pae_roots(mmu, sv, role);
	}
	if (s->stats.pages_created == created)
		s->stats.root_hits++;
	return ok ? MMU_FAULT_MAPPED : MMU_FAULT_NO_MEMORY;
}

bool mmu_shadow_load_kept_root(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 cr3)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct shadow_vcpu *sv = &vcpu->shadow;
	if (!sv->paging.pcide || root_is_stale(mmu, vcpu) || !sv->root)
		return false;
	if (cr3 == sv->paging.cr3)
		return true;		/* the same root, and nothing to flush */
	struct mmu_page *root = take_kept_root(sv, cr3);
	if (!root_usable(mmu, root, sv->root->role)) {
		put_root(s, &root);
		return false;
	}
	keep_current_root(mmu, sv);
	sv->root = root;
	sv->root_hpa = root->table_hpa;
	sv->paging.cr3 = cr3;
	s->stats.root_loads++;
	s->stats.root_hits++;
	s->stats.kept_root_loads++;
	mmu_request(mmu, vcpu);		/* the CPU's TLB holds the last root's translations */
	return true;
}

enum mmu_fault_result mmu_shadow_before_entry(struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	struct shadow_vcpu *sv = &vcpu->shadow;
	enum mmu_fault_result result = MMU_FAULT_MAPPED;
	if (root_is_stale(mmu, vcpu)) {
		u64 old_root = sv->root_hpa;
		mmu->stats.root_reloads++;
		result = mmu_shadow_load_root(mmu, vcpu, &sv->paging, sv->pdptes);
		if (result == MMU_FAULT_MAPPED && sv->root_hpa != old_root)
			result = MMU_FAULT_RETRY;
	}
	return result;
}

/* ---- faults ------------------------------------------------------------------------ */

/* The page and level a walk of this vCPU's tree starts at for gva. */
static struct mmu_page *tree_top(const struct shadow_vcpu *sv, u64 gva, int *level)
{
	if (sv->paging.mode == GUEST_PAGING_4LEVEL) {
		*level = 4;
		return sv->root;
	}
	*level = 2;
	return sv->pae_roots[(gva >> 30) & (PAE_ROOT_ENTRIES - 1)];
}

/* The rights the guest's entries grant together, as ACC_* (all when paging is off). */
static unsigned guest_access(const struct shadow_vcpu *sv, const struct guest_walk_result *walk)
{
	if (sv->paging.mode == GUEST_PAGING_OFF)
		return ACC_ALL;
	return (walk->writable ? ACC_WRITE : 0) | (walk->user ? ACC_USER : 0) |
	       (walk->nx ? 0 : ACC_EXEC);
}

/* The rights the guest's entries above level grant together (the PAE PDPT grants none
 * and takes none away). */
static unsigned access_above(const struct shadow_vcpu *sv, const struct guest_walk_result *walk,
			     unsigned level)
{
	unsigned acc = ACC_ALL;
	for (unsigned l = walk->top_level; l > level; l--) {
		u64 pte = walk->pte[l - 1];
		if (sv->paging.mode == GUEST_PAGING_PAE && l == 3)
			continue;
		if (!(pte & GUEST_PTE_WRITABLE))
			acc &= ~ACC_WRITE;
		if (!(pte & GUEST_PTE_USER))
			acc &= ~ACC_USER;
		if (sv->paging.nxe && (pte & GUEST_PTE_NX))
			acc &= ~ACC_EXEC;
	}
	return acc;
}

/*
 * The rights the guest gives a leaf for this walk and access: its entries' together, less
 * write until the guest's entry is dirty (so the first write faults and the walker sets
 * D). With CR0.WP = 0 a supervisor write may go to a read-only page: the leaf then allows
 * writes but only supervisor accesses (and no fetch with SMEP), so a user access faults
 * again and is judged afresh. Not for a user page under SMAP, which must stay a user page
 * for SMAP to refuse the supervisor's later accesses: each such write is emulated
 * (write_needs_emulation()).
 */
/* A supervisor write to a page the guest's entries make read-only (rights acc): allowed
 * only because CR0.WP = 0. */
static bool write_allowed_by_wp_clear(const struct shadow_vcpu *sv, unsigned acc, unsigned access)
{
	return !sv->paging.wp && (access & GUEST_ACCESS_WRITE) && !(access & GUEST_ACCESS_USER) &&
	       !(acc & ACC_WRITE);
}

static unsigned guest_leaf_access(const struct shadow_vcpu *sv, const struct guest_walk_result *walk,
				  unsigned access)
{
	unsigned acc = guest_access(sv, walk);
	if (sv->paging.mode == GUEST_PAGING_OFF)
		return acc;
	if (write_allowed_by_wp_clear(sv, acc, access) && !(sv->paging.smap && (acc & ACC_USER))) {
		acc = (acc | ACC_WRITE) & ~ACC_USER;
		if (sv->paging.smep)
			acc &= ~ACC_EXEC;
	}
	if (!(walk->pte[walk->level - 1] & GUEST_PTE_DIRTY))
		acc &= ~ACC_WRITE;
	return acc;
}

/* The page the entry at parent_level for gva must point at: the guest's table one level
 * down when the guest has one there, else a direct page for that part of the guest large
 * page (or of guest-physical memory, with paging off). Its role carries the rights the
 * guest's entries above it grant: leaves combine them with their own, so one guest table
 * reached through entries granting different rights gets one shadow page per rights. A
 * direct page's role carries its leaves' rights, direct_access (guest_leaf_access()), so
 * two guest large pages share it only while they give their leaves the same rights (the
 * same dirty state among them). */
static struct mmu_page *child_for(struct mmu *mmu, const struct shadow_vcpu *sv, int parent_level,
				  u64 gva, const struct guest_walk_result *walk, unsigned direct_access)
{
	union mmu_page_role role = base_role(&sv->paging);
	unsigned level = (unsigned)parent_level - 1;
	role.level = level;
	if (sv->paging.mode != GUEST_PAGING_OFF && level >= walk->level) {
		if (role.has_4_byte_gpte)	/* a guest PT: which 2 MiB half of its 4 MiB */
			role.quadrant = (gva >> spte_level_shift(2)) & 1;
		role.access = access_above(sv, walk, level);
		return get_page(mmu, guest_walk_table_gfn(walk, level), role);
	}
	role.direct = 1;
	role.access = direct_access;
	u64 span = 1ull << (SPTE_LEVEL_BITS * level);	/* gfns the direct page maps */
	return get_page(mmu, ALIGN_DOWN(gpa_to_gfn(walk->gpa), span), role);
}

/* The leaf's rights: the guest's (guest_leaf_access()), less write on a shadowed guest
 * table or a read-only slot. Asked once the leaf's page is there: building the path to it
 * may have shadowed the leaf's own gfn (a table that maps itself). */
static unsigned leaf_access(struct mmu_shadow *s, const struct shadow_vcpu *sv,
			    const struct guest_walk_result *walk, const struct memslot *slot,
			    unsigned access)
{
	unsigned acc = guest_leaf_access(sv, walk, access);
	if ((slot->flags & MEMSLOT_READONLY) || gfn_is_write_protected(s, gpa_to_gfn(walk->gpa)))
		acc &= ~ACC_WRITE;
	return acc;
}

/* A present leaf mapping gfn; gpte: the guest PTE it is made from (for an indirect page,
 * whose leaves are the guest's 4K PTEs, it names gfn). */
static enum mmu_fault_result install_leaf(struct mmu_shadow *s, struct mmu_page *page,
					  unsigned index, gfn_t gfn, u64 gpte, u64 spte)
{
	u64 old = page->spt[index];
	if (spte_is_present(old) && mmu_page_leaf_gfn(page, index) == gfn) {
		mmu_request_all(mmu_of(s));	/* the same page with other rights: its rmap
						 * entry stays, the TLB entry goes */
	} else {
		if (old)
			drop_spte(s, page, index);
		if (!rmap_add(s, page, index, gfn))
			return MMU_FAULT_NO_MEMORY;
	}
	if (page->gptes) {
		if (mmu_gpte_gfn(gpte) != gfn)
			panic("shadow MMU: a leaf for gfn %#llx made from guest PTE %#llx",
			      (unsigned long long)gfn, (unsigned long long)gpte);
		page->gptes[index] = gpte;
	}
	set_spte(page, index, spte);
	return MMU_FAULT_MAPPED;
}

/* Whether a table spte's child is the one this walk needs: any guest table's shadow is
 * (its role follows from the guest's entries above, which cannot change unseen); a direct
 * page only while its leaves' rights are still the ones this access gives (KVM's
 * validate_direct_spte()). */
static bool child_fits(const struct mmu_page *child, unsigned direct_access)
{
	return !child->role.direct || child->role.access == direct_access;
}

/* Walks the shadow tree for gva, building what is missing, to the level-1 page. */
static struct mmu_page *walk_to_leaf_page(struct mmu *mmu, struct shadow_vcpu *sv, u64 gva,
					  const struct guest_walk_result *walk, unsigned access)
{
	struct mmu_shadow *s = shadow_of(mmu);
	unsigned direct_access = guest_leaf_access(sv, walk, access);
	int level;
	struct mmu_page *page = tree_top(sv, gva, &level);
	for (; page && level > 1; level--) {
		page->write_count = 0;	/* a fault through it: still in use as a page table */
		unsigned index = spte_index(gva, level);
		u64 *sptep = &page->spt[index];
		struct mmu_page *child = spte_is_table(*sptep, level) ?
					 page_of_table(s, spte_address(*sptep)) : NULL;
		if (child && !child_fits(child, direct_access)) {
			drop_spte(s, page, index);
			child = NULL;
		}
		if (!child) {
			child = child_for(mmu, sv, level, gva, walk, direct_access);
			if (!child || !parent_add(child, sptep))
				return NULL;
			set_spte(page, index, spte_make_table(child->table_hpa));
		}
		page = child;
	}
	if (page)
		page->write_count = 0;
	return page;
}

/*
 * The pages of the current tree from its top down to the level-1 page for gva, and the
 * lowest of them that mirrors a guest table of 8-byte entries (start): the guest walk may
 * begin at that table (guest_walk_from()), as the entries above it are known. The shadow
 * above the leaves is always in sync with the guest's tables (never unsync), so the guest
 * entries on the way are present and valid, accessed (the walk that linked them set A; a
 * guest write to one drops the shadow entry), and grant together what start's role says.
 * start is the level-1 page itself, or above a direct one (a guest large page) its
 * level-2 parent, the guest's page directory.
 */
struct held_path {
	unsigned count;			/* pages, the level-1 page last; 0: none */
	struct mmu_page *page[GUEST_WALK_MAX_LEVELS];
	struct mmu_page *start;		/* NULL: the walk begins at CR3 */
};

static bool mirrors_8byte_table(const struct mmu_page *page)
{
	return !page->role.direct && !page->role.has_4_byte_gpte;
}

/* Inline: the fault path's (mmu_shadow_leaf_gpa() shares it) pays no call. */
static inline __attribute__((always_inline)) void find_held_path(struct mmu_shadow *s,
								 const struct shadow_vcpu *sv,
								 u64 gva, struct held_path *path)
{
	int level;
	struct mmu_page *page = tree_top(sv, gva, &level);
	path->count = 0;
	path->start = NULL;
	for (; page; level--) {
		path->page[path->count++] = page;
		if (level == 1)
			break;
		u64 spte = page->spt[spte_index(gva, level)];
		page = spte_is_table(spte, level) ? page_of_table(s, spte_address(spte)) : NULL;
	}
	if (!page) {
		path->count = 0;
		return;
	}
	if (mirrors_8byte_table(page))
		path->start = page;
	else if (path->count >= 2 && mirrors_8byte_table(path->page[path->count - 2]))
		path->start = path->page[path->count - 2];
}

/* The guest walk for gva, from the held path's start when it has one. */
static enum guest_walk_status walk_guest(struct shadow_vcpu *sv, struct guest_ram *ram, u64 gva,
					 unsigned access, const struct held_path *path,
					 struct guest_walk_result *walk)
{
	const struct mmu_page *start = path->start;
	if (!start)
		return guest_walk(&sv->paging, &guest_ram_ops, ram, gva, access, walk);
	unsigned above = start->role.access;
	struct guest_walk_start from = {
		.level = start->role.level, .table_gpa = gfn_to_gpa(start->gfn),
		.writable = above & ACC_WRITE, .user = above & ACC_USER, .nx = !(above & ACC_EXEC),
	};
	return guest_walk_from(&sv->paging, &guest_ram_ops, ram, gva, access, &from, walk);
}

/* The level-1 page for gva: the held path's when the walk began at its table (the pages
 * on the way count as used, as walk_to_leaf_page() counts them), else the shadow tree is
 * walked and built where it lacks pages. That walk creates no page mirroring a guest
 * table where the guest walk began below CR3, since the path holds them all: only a direct
 * page for a large one, which takes the rights of the walk's leaf. */
static struct mmu_page *leaf_page_for(struct mmu *mmu, struct shadow_vcpu *sv, u64 gva,
				      const struct guest_walk_result *walk, unsigned access,
				      const struct held_path *path)
{
	struct mmu_page *leaf_page = path->count ? path->page[path->count - 1] : NULL;
	if (!leaf_page || path->start != leaf_page)
		return walk_to_leaf_page(mmu, sv, gva, walk, access);
	unsigned count = path->count;	/* not reloaded after each store: no alias */
	for (unsigned i = 0; i < count; i++)
		path->page[i]->write_count = 0;
	return leaf_page;
}

static enum mmu_fault_result map_gva(struct mmu *mmu, struct shadow_vcpu *sv, u64 gva,
				     const struct guest_walk_result *walk,
				     const struct memslot *slot, unsigned access,
				     const struct held_path *path)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct mmu_page *page = leaf_page_for(mmu, sv, gva, walk, access, path);
	if (!page)
		return MMU_FAULT_NO_MEMORY;
	gfn_t gfn = gpa_to_gfn(walk->gpa);
	unsigned acc = leaf_access(s, sv, walk, slot, access);
	unsigned index = spte_index(gva, 1);
	s->stats.faults_fixed++;
	enum mmu_fault_result result =
		install_leaf(s, page, index, gfn, walk->pte[0],
			     spte_make_leaf(memslot_gfn_to_hpa(slot, gfn), acc, false));
	if (result == MMU_FAULT_MAPPED && page->role.direct)
		prefetch_direct_neighbours(mmu, page, index);
	return result;
}

/* An MMIO spte remembers the rights its leaf would have (guest_leaf_access()) in bits the
 * CPU never reads (the entry faults on its reserved bit first), so a repeated access is
 * checked without a walk. Leaf rights, not the guest entries' own: every guest mapping
 * that shares a direct page gives its leaves the same ones. */
#define SHADOW_MMIO_ACCESS_SHIFT 8
static_assert(((ACC_ALL << SHADOW_MMIO_ACCESS_SHIFT) &
	       (SPTE_SHADOW_MMIO_MASK | SPTE_SHADOW_MMIO_GFN_MASK | SPTE_SOFTWARE_PRESENT)) == 0,
	      "the MMIO spte's access bits lie in bits 10:8");

static void install_mmio(struct mmu *mmu, struct shadow_vcpu *sv, u64 gva,
			 const struct guest_walk_result *walk, unsigned access,
			 const struct held_path *path)
{
	struct mmu_page *page = leaf_page_for(mmu, sv, gva, walk, access, path);
	if (!page)
		return;
	unsigned index = spte_index(gva, 1);
	drop_spte(shadow_of(mmu), page, index);
	set_spte(page, index, spte_make_mmio(gpa_to_gfn(walk->gpa), mmu->memslots.generation) |
			      (u64)guest_leaf_access(sv, walk, access) << SHADOW_MMIO_ACCESS_SHIFT);
}

/* Whether rights allow the access without a closer look; false sends it the slow way. */
static bool mmio_access_allowed(const struct shadow_vcpu *sv, unsigned rights, u32 error_code)
{
	if (error_code & GUEST_PF_FETCH)
		return false;
	if ((error_code & GUEST_PF_WRITE) && !(rights & ACC_WRITE))
		return false;
	if (error_code & GUEST_PF_USER)
		return rights & ACC_USER;
	return !(sv->paging.smap && (rights & ACC_USER));
}

/* The spte the CPU met at gva: the vCPU's last MMIO spte if still on its path (a device
 * polled in a loop), else a lockless walk of the shadow tree. */
static u64 *mmio_sptep(struct mmu *mmu, struct shadow_vcpu *sv, u64 gva)
{
	u64 *cached = mmu_shadow_last_mmio_sptep(mmu, sv, gva);
	if (cached)
		return cached;
	struct shadow_walk walk;
	int top = sv->paging.mode == GUEST_PAGING_4LEVEL ? 4 : 3;
	for_each_shadow_entry(walk, sv->root_hpa, top, gva)
		;
	sv->last_mmio.sptep = walk.sptep;
	sv->last_mmio.gva_page = gva & ~(u64)(PAGE_SIZE - 1);
	sv->last_mmio.requests = mmu->requests;
	sv->last_mmio.root_loads = mmu->shadow.stats.root_loads;
	sv->last_mmio.passed_spte = 0;		/* never an MMIO spte: nothing passed yet */
	return walk.sptep;
}

/* RSVD = 1: the CPU met an MMIO spte. No guest walk, no slot search. */
enum mmu_fault_result mmu_shadow_mmio_fault_lookup(struct mmu *mmu, struct mmu_vcpu *vcpu,
						   u64 gva, u32 error_code, struct shadow_fault *out)
{
	struct shadow_vcpu *sv = &vcpu->shadow;
	if (root_is_stale(mmu, vcpu))
		return MMU_FAULT_RETRY;		/* the access faults again on the new root */
	u64 *sptep = mmio_sptep(mmu, sv, gva);
	u64 spte = *sptep;
	if (!mmu_shadow_mmio_passed_before(mmu, sv, spte, error_code)) {
		if (!spte_is_mmio(spte))
			return MMU_FAULT_RETRY;		/* dropped since the CPU read it */
		unsigned rights = (spte >> SHADOW_MMIO_ACCESS_SHIFT) & ACC_ALL;
		if (spte_mmio_generation(spte) != mmio_generation_bits(mmu->memslots.generation) ||
		    !mmio_access_allowed(sv, rights, error_code)) {
			*sptep = 0;	/* stale, or to be judged by the guest's tables */
			return MMU_FAULT_RETRY;
		}
		sv->last_mmio.passed_spte = spte;
		sv->last_mmio.passed_slot_generation = mmu->memslots.generation;
		sv->last_mmio.passed_error_code = error_code;
	}
	out->gpa = gfn_to_gpa(spte_mmio_gfn(spte)) | (gva & (PAGE_SIZE - 1));
	return MMU_FAULT_MMIO;
}

/* A supervisor write to a read-only user page, allowed by CR0.WP = 0 while CR4.SMAP is on:
 * no leaf can allow it and keep the page a user page (guest_leaf_access()). */
static bool write_needs_emulation(const struct shadow_vcpu *sv, const struct guest_walk_result *walk,
				  unsigned access)
{
	unsigned acc = guest_access(sv, walk);
	return write_allowed_by_wp_clear(sv, acc, access) && sv->paging.smap && (acc & ACC_USER);
}

/* RSVD = 0: the guest's tables decide. */
static enum mmu_fault_result guest_table_fault(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva, u32 error_code,
		  bool smap_allowed, struct shadow_fault *out)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct shadow_vcpu *sv = &vcpu->shadow;
	make_pages_available(s);
	unsigned access = (error_code & (GUEST_PF_WRITE | GUEST_PF_USER | GUEST_PF_FETCH)) |
			  (smap_allowed ? GUEST_ACCESS_SMAP_ALLOWED : 0);
	struct guest_ram ram = { &mmu->memslots, vcpu };
	struct guest_walk_result walk;
	struct held_path path;
	find_held_path(s, sv, gva, &path);
	switch (walk_guest(sv, &ram, gva, access, &path, &walk)) {
	case GUEST_WALK_OK:
		break;
	case GUEST_WALK_PAGE_FAULT:
		out->error_code = walk.error_code;
		s->stats.faults_reflected++;
		return MMU_FAULT_GUEST;
	case GUEST_WALK_TABLE_NOT_RAM:
		out->gpa = walk.pte_gpa[walk.level - 1];
		return MMU_FAULT_TABLE_NOT_RAM;
	default:	/* retry; never non-canonical: the CPU raises #GP for those itself */
		return MMU_FAULT_RETRY;
	}
	out->gpa = walk.gpa;
	gfn_t gfn = gpa_to_gfn(walk.gpa);
	const struct memslot *slot = memslot_find(&mmu->memslots, vcpu, gfn);
	bool write = access & GUEST_ACCESS_WRITE;
	if (!slot || (write && (slot->flags & MEMSLOT_READONLY))) {
		if (!slot && mmu->mmio_cache && !(access & GUEST_ACCESS_FETCH))
			install_mmio(mmu, sv, gva, &walk, access, &path);
		return MMU_FAULT_MMIO;
	}
	if (write && gfn_is_write_protected(s, gfn) && !try_unsync(s, gfn)) {
		s->stats.write_protect_faults++;
		return MMU_FAULT_EMULATE;
	}
	if (write && write_needs_emulation(sv, &walk, access))
		return MMU_FAULT_EMULATE;
	return map_gva(mmu, sv, gva, &walk, slot, access, &path);
}

enum mmu_fault_result mmu_shadow_page_fault(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva,
					    u32 error_code, bool smap_allowed,
					    struct shadow_fault *out)
{
	if (error_code & GUEST_PF_RSVD)
		return mmu_shadow_mmio_fault(mmu, vcpu, gva, error_code, out);
	if (root_is_stale(mmu, vcpu))
		return MMU_FAULT_RETRY;		/* the access faults again on the new root */
	return guest_table_fault(mmu, vcpu, gva, error_code, smap_allowed, out);
}

bool mmu_shadow_leaf_gpa(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva, unsigned need,
			 unsigned refuse, u64 *gpa)
{
	struct held_path path;
	if (root_is_stale(mmu, vcpu))
		return false;
	find_held_path(shadow_of(mmu), &vcpu->shadow, gva, &path);
	if (!path.count)
		return false;
	struct mmu_page *page = path.page[path.count - 1];
	unsigned index = spte_index(gva, 1);
	u64 spte = page->spt[index];
	if (!spte_is_present(spte) || (spte_access(spte) & need) != need ||
	    (spte_access(spte) & refuse))
		return false;
	*gpa = gfn_to_gpa(mmu_page_leaf_gfn(page, index)) | (gva & (PAGE_SIZE - 1));
	return true;
}

/* The leaf at gva in the tree under root_hpa (top its level) goes. */
static void drop_leaf(struct mmu_shadow *s, u64 root_hpa, int top, u64 gva)
{
	struct shadow_walk walk;
	for_each_shadow_entry(walk, root_hpa, top, gva) {
		if (walk.level == 1) {
			struct mmu_page *page = page_of_table(s, virt_to_phys(walk.table));
			drop_spte(s, page, spte_index(gva, 1));
		}
	}
}

void mmu_shadow_invlpg(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct shadow_vcpu *sv = &vcpu->shadow;
	int top = sv->paging.mode == GUEST_PAGING_4LEVEL ? 4 : 3;
	s->stats.invlpg++;
	mmu_request(mmu, vcpu);
	if (root_is_stale(mmu, vcpu)) {
		/* The new root has no entry for gva yet; the kept ones are not walked before
		 * it is loaded, so they go (loading one again then syncs). */
		release_kept_roots(s, sv);
		return;
	}
	drop_leaf(s, sv->root_hpa, top, gva);
	for (int i = 0; i < SHADOW_KEPT_ROOTS; i++)
		if (sv->kept_roots[i].root)
			drop_leaf(s, sv->kept_roots[i].root->table_hpa, 4, gva);
}

/* ---- guest writes to its page tables ------------------------------------------------ */

/* Drops the sptes of page that guest entry gpte_index (of the guest table) feeds. */
static void drop_for_guest_entry(struct mmu_shadow *s, struct mmu_page *page, unsigned gpte_index)
{
	if (!page->role.has_4_byte_gpte) {
		drop_spte(s, page, gpte_index);
		return;
	}
	if (page->role.level == 1) {	/* a guest PT's quadrant: 512 of its 1024 entries */
		if (gpte_index / SPTE_ENTRIES == page->role.quadrant)
			drop_spte(s, page, gpte_index % SPTE_ENTRIES);
		return;
	}
	/* A guest PD's quadrant: 256 guest PDEs, each 4 MiB, two 2 MiB shadow entries apiece. */
	if (gpte_index / 256 == page->role.quadrant) {
		drop_spte(s, page, gpte_index % 256 * 2);
		drop_spte(s, page, gpte_index % 256 * 2 + 1);
	}
}

/* The rights a guest PTE the CPU may use as it stands grants through page, or -1 when
 * its next use must be judged by the walker: not present, not yet accessed (the walker
 * sets A), or a reserved bit set (bit 63 without EFER.NXE, address bits at or above
 * MAXPHYADDR; a PTE has no others). Dirty decides write as on a fault. */
static int prefetch_access(const struct mmu_shadow *s, const struct mmu_page *page, u64 gpte)
{
	if ((gpte & (GUEST_PTE_PRESENT | GUEST_PTE_ACCESSED)) !=
	    (GUEST_PTE_PRESENT | GUEST_PTE_ACCESSED))
		return -1;
	if (!page->role.has_4_byte_gpte &&
	    (((gpte & GUEST_PTE_NX) && !page->role.efer_nx) ||
	     (gpte & BITS(51, 12) & ~BITS(s->guest_phys_bits - 1, 0))))
		return -1;
	unsigned acc = page->role.access;
	if (!(gpte & GUEST_PTE_WRITABLE) || !(gpte & GUEST_PTE_DIRTY))
		acc &= ~ACC_WRITE;
	if (!(gpte & GUEST_PTE_USER))
		acc &= ~ACC_USER;
	if (page->role.efer_nx && (gpte & GUEST_PTE_NX))
		acc &= ~ACC_EXEC;
	return (int)acc;
}

/*
 * Maps gfn at leaf index of level-1 page ahead of any access, with rights acc that the
 * guest's entries grant (prefetch_access(), or a direct page's role): only what a fault
 * would install, RAM of a slot, never writable where the fault path would refuse it (a
 * shadowed table, a read-only slot). The leaf is left not accessed: the CPU sets A when
 * the guest uses it (last_prefetch_used()).
 */
static bool prefetch_leaf(struct mmu *mmu, struct mmu_page *page, unsigned index, gfn_t gfn,
			  u64 gpte, unsigned acc)
{
	struct mmu_shadow *s = shadow_of(mmu);
	const struct memslot *slot = memslot_find(&mmu->memslots, NULL, gfn);
	if (!slot)
		return false;
	if ((slot->flags & MEMSLOT_READONLY) || gfn_is_write_protected(s, gfn))
		acc &= ~ACC_WRITE;
	u64 spte = spte_make_leaf(memslot_gfn_to_hpa(slot, gfn), acc, false) & ~PT_ACCESSED;
	return install_leaf(s, page, index, gfn, gpte, spte) == MMU_FAULT_MAPPED;
}

/*
 * After a fault installed the leaf at index of direct page (a piece of a guest large
 * page), its aligned group of FAULT_PREFETCH_LEAVES gets the rest of that large page's
 * leaves (KVM's direct_pte_prefetch): the kernel's accesses through its direct map walk
 * on to the next pages. Measured on Linux: a boot to the prompt takes 4.6 % fewer ticks,
 * the fork+exec loop the same. Not for a guest PT: prefetching its present, accessed
 * entries (as KVM does) made the fork+exec loop 9 % slower, since a short-lived process
 * uses few of the pages Linux maps around a fault, and each leaf prefetched in vain
 * costs an rmap entry made and dropped again.
 */
static void prefetch_direct_neighbours(struct mmu *mmu, struct mmu_page *page, unsigned index)
{
	unsigned first = ALIGN_DOWN(index, FAULT_PREFETCH_LEAVES);
	for (unsigned i = first; i < first + FAULT_PREFETCH_LEAVES; i++) {
		if (i != index && !spte_is_present(page->spt[i]) &&
		    prefetch_leaf(mmu, page, i, page->gfn + i, 0, page->role.access))
			shadow_of(mmu)->stats.fault_prefetches++;
	}
}

/* An aligned full-width write of guest PTE gpte_index: maps its new translation now
 * (KVM's pte prefetch), so the access the guest is about to make does not fault. What the
 * CPU may not use as it stands, or that is no RAM, stays dropped. */
static bool prefetch_gpte(struct mmu *mmu, struct mmu_page *page, unsigned gpte_index, u64 gpte)
{
	unsigned index = gpte_index;
	if (page->role.has_4_byte_gpte) {
		if (gpte_index / SPTE_ENTRIES != page->role.quadrant)
			return false;
		index = gpte_index % SPTE_ENTRIES;
		gpte = (u32)gpte;
	}
	int acc = prefetch_access(shadow_of(mmu), page, gpte);
	if (acc < 0 || !prefetch_leaf(mmu, page, index, mmu_gpte_gfn(gpte), gpte, (unsigned)acc))
		return false;
	page->last_prefetched = index + 1;
	return true;
}

/* Whether the guest used, since it was prefetched, the leaf its last write made: the page
 * is in use as a page table, not written as data (KVM's last_updated_pte_accessed()). */
static bool last_prefetch_used(const struct mmu_page *page)
{
	return page->last_prefetched && (page->spt[page->last_prefetched - 1] & PT_ACCESSED);
}

/* The guest value now at gpa, a naturally aligned entry of bytes bytes in a slot. */
static bool read_gpte(struct mmu *mmu, u64 gpa, unsigned bytes, u64 *gpte)
{
	const void *hva = memslot_gpa_to_hva(&mmu->memslots, NULL, gpa, bytes, false);
	if (!hva)
		return false;
	*gpte = bytes == 4 ? *(const u32 *)hva : *(const u64 *)hva;
	return true;
}

/* ---- unsync pages back in sync ------------------------------------------------------ */

/* The guest entry that the leaf at index of level-1 page mirrors, in its guest table. */
static u64 leaf_gpte(const struct mmu_page *page, const void *guest_table, unsigned index)
{
	if (!page->role.has_4_byte_gpte)
		return ((const u64 *)guest_table)[index];
	return ((const u32 *)guest_table)[page->role.quadrant * SPTE_ENTRIES + index];
}

/*
 * A present leaf of an unsync page whose guest entry was rewritten (to gpte): it stays if
 * gpte names the same page and the CPU may use gpte as it stands, with the rights both
 * grant (fewer are fine: an access that needs more faults and is judged afresh; so a
 * fork's write-protection costs no fault on the next read). Else it is dropped.
 */
static void resync_leaf(struct mmu_shadow *s, struct mmu_page *page, unsigned index, u64 gpte)
{
	u64 spte = page->spt[index];
	int access = prefetch_access(s, page, gpte);
	if (access < 0 || mmu_gpte_gfn(gpte) != mmu_page_leaf_gfn(page, index)) {
		drop_spte(s, page, index);
		s->stats.sync_drops++;
		return;
	}
	unsigned kept = spte_access(spte) & (unsigned)access;
	if (kept != spte_access(spte)) {
		set_spte(page, index, spte_make_leaf(spte_address(spte), kept, false) |
				      (spte & PT_ACCESSED));
		mmu_request_all(mmu_of(s));
		s->stats.sync_narrowed++;
	}
	page->gptes[index] = gpte;
}

/*
 * An unsync page back in sync, its gfn write-protected again. Invariant (install_leaf(),
 * resync_leaf()): each present leaf is valid for page->gptes[i], the guest entry it was
 * made from, so a leaf whose entry still holds that value stays without a look at its
 * rights: the common case, one compare. A rewritten entry is judged. An MMIO spte never
 * stays: its gfn may be RAM now.
 */
static void resync_page(struct mmu *mmu, struct mmu_page *page)
{
	struct mmu_shadow *s = shadow_of(mmu);
	list_del(&page->unsync_link);	/* on unsync_pages, or parked (an empty list) */
	page->unsync = false;
	if (mmu_page_is_obsolete(mmu, page))
		return;
	page->write_count = 0;
	/* NULL if no longer RAM (a slot change is followed by a zap, so not expected) */
	const void *guest_table = memslot_gpa_to_hva(&mmu->memslots, NULL, gfn_to_gpa(page->gfn),
						     PAGE_SIZE, false);
	for_each_used_spte(page, i) {
		u64 spte = page->spt[i];
		if (!spte)
			continue;
		if (spte_is_present(spte) && guest_table) {
			u64 gpte = leaf_gpte(page, guest_table, i);
			if (gpte != page->gptes[i])
				resync_leaf(s, page, i, gpte);
			continue;
		}
		drop_spte(s, page, i);
		s->stats.sync_drops++;
	}
	write_protect_gfn(s, page->gfn);
}

/*
 * The guest flushed its TLB: every unsync page is checked leaf by leaf against the guest
 * table it mirrors, and its gfn write-protected again. An obsolete page is only unlinked:
 * a zap-all's drain owns its entries (their rmaps are in rmaps_draining). A page no entry
 * points at (a freed PT, now written as data) is unreachable, so its staleness is unseen:
 * it stays unsync, off the list, its gfn writable, until get_page() links it again and
 * resyncs it first (KVM syncs only what the new root reaches, for the same reason).
 */
void mmu_shadow_sync(struct mmu *mmu)
{
	struct mmu_shadow *s = shadow_of(mmu);
	if (list_empty(&s->unsync_pages))
		return;
	s->stats.syncs++;
	while (!list_empty(&s->unsync_pages)) {
		struct mmu_page *page = list_first_entry(&s->unsync_pages, struct mmu_page,
							 unsync_link);
		if (page->parents || mmu_page_is_obsolete(mmu, page))
			resync_page(mmu, page);
		else
			list_del(&page->unsync_link);	/* unreachable: parked, still unsync */
	}
}

void mmu_shadow_set_unsync(struct mmu *mmu, bool on)
{
	mmu_shadow_sync(mmu);
	shadow_of(mmu)->unsync = on;
}

/* The guest wrote [offset, offset + len) of page gfn, already in guest memory: every
 * shadow of that table follows. Level-1 shadows of an aligned full entry are updated in
 * place, every other entry touched is dropped (its next use faults and is rebuilt). */
static void guest_wrote_page(struct mmu *mmu, gfn_t gfn, unsigned offset, unsigned len)
{
	struct mmu_shadow *s = shadow_of(mmu);
	struct mmu_page *page;
	struct hlist_node *tmp;
	hash_for_each_possible_safe(&s->pages_by_gfn, page, tmp, gfn_link, gfn) {
		if (!shadows_guest_table(s, page))
			continue;
		unsigned bytes = page->role.has_4_byte_gpte ? 4 : 8;
		u64 gpte;
		s->stats.pte_writes++;
		if (last_prefetch_used(page))
			page->write_count = 0;
		page->last_prefetched = 0;
		if (page->role.level == 1 && offset % bytes == 0 && len == bytes &&
		    read_gpte(mmu, gfn_to_gpa(gfn) + offset, bytes, &gpte) &&
		    prefetch_gpte(mmu, page, offset / bytes, gpte)) {
			s->stats.ptes_prefetched++;
		} else {
			for (unsigned i = offset / bytes; i <= (offset + len - 1) / bytes; i++)
				drop_for_guest_entry(s, page, i);
			s->stats.ptes_zapped++;
		}
		if (++page->write_count >= WRITE_FLOOD_LIMIT && !page->root_count) {
			zap_page(s, page);
			s->stats.pages_unshadowed++;
		}
	}
}

void mmu_shadow_guest_wrote(struct mmu *mmu, u64 gpa, u64 len)
{
	struct mmu_shadow *s = shadow_of(mmu);
	if (!s->enabled || len == 0)
		return;
	for (u64 end = gpa + len; gpa < end;) {
		u64 piece = MIN(end - gpa, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		guest_wrote_page(mmu, gpa_to_gfn(gpa), (unsigned)(gpa & (PAGE_SIZE - 1)), (unsigned)piece);
		gpa += piece;
	}
}

/* Zaps the pages that mirror the guest table at gfn; returns how many. */
static unsigned zap_tables_at(struct mmu_shadow *s, gfn_t gfn)
{
	struct mmu_page *page;
	struct hlist_node *tmp;
	unsigned zapped = 0;
	hash_for_each_possible_safe(&s->pages_by_gfn, page, tmp, gfn_link, gfn) {
		if (shadows_guest_table(s, page)) {
			zap_page(s, page);
			zapped++;
		}
	}
	return zapped;
}

bool mmu_shadow_unprotect(struct mmu *mmu, gfn_t gfn)
{
	struct mmu_shadow *s = shadow_of(mmu);
	unsigned zapped = zap_tables_at(s, gfn);
	s->stats.pages_unshadowed += zapped;
	return zapped;
}

/* ---- slot changes (mmu/mmu.c) ------------------------------------------------------ */

/* Drops every leaf that maps gfn (its rmap empties as they go). */
static void zap_leaves_of(struct mmu_shadow *s, gfn_t gfn)
{
	struct hlist_node *node, *tmp;
	for_each_rmap(s, gfn, node, tmp) {
		unsigned index;
		struct mmu_page *page = mmu_rmap_leaf(node, &index);
		drop_spte(s, page, index);
	}
}

void shadow_zap_gfn_range(struct mmu *mmu, gfn_t base, u64 npages)
{
	struct mmu_shadow *s = shadow_of(mmu);
	for (u64 i = 0; i < npages; i++) {
		zap_leaves_of(s, base + i);
		zap_tables_at(s, base + i);
		break_lock_if_held_long(mmu);
	}
}

/*
 * A range zap tears down the slot's guest-table shadows one spte at a time; a fast zap-all
 * drops every page whole, without visiting an spte, and the cache refills on demand. So
 * the range zap is chosen while the slot holds at most half of the shadowed guest tables:
 * it then keeps more of the cache than it tears down.
 */
bool shadow_prefers_zap_all(const struct mmu *mmu, const struct memslot *slot)
{
	return 2 * slot->shadowed_tables > mmu->shadow.guest_tables;
}

void shadow_destroy(struct mmu *mmu)
{
	struct mmu_shadow *s = shadow_of(mmu);
	ASSERT(list_empty(&s->obsolete_roots));	/* the vCPUs let go of their roots first */
	shadow_zap_all_slow(mmu);
	free_hashes(s);
	s->enabled = false;
}
