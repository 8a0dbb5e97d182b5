/* mmu/: a VM's guest-physical memory. Memory slots map gfn ranges to host pages and carry
 * a generation bumped on every change; EPT is filled on demand from them; gfns in no slot
 * are MMIO and get cached MMIO sptes (see mmu/spte.h). No VMCS access here: callers pass
 * what the exit told them, so all of this also builds and runs in host unit tests. */
#ifndef VIREO_MMU_MMU_H
#define VIREO_MMU_MMU_H

#include "lib/hash.h"
#include "lib/list.h"
#include "lib/phys.h"
#include "lib/types.h"
#include "mmu/guest_walk.h"
#include "mmu/spte.h"

#define MEMSLOTS_MAX 1024
#define MEMSLOT_READONLY 1u
#define MEMSLOT_DYNAMIC 2u	/* added by a hypercall: its backing is freed with it */
#define MEMSLOT_BOOT_RAM 4u	/* the VM's RAM: buddy blocks, freed with the VM (vm/vm.c) */

typedef u64 gfn_t;

static inline gfn_t gpa_to_gfn(u64 gpa) { return gpa >> 12; }
static inline u64 gfn_to_gpa(gfn_t gfn) { return gfn << 12; }

struct memslot {
	gfn_t base_gfn;
	u64 npages;
	u64 hpa;		/* host-physical address backing base_gfn; contiguous */
	u32 flags;		/* MEMSLOT_* */
	u32 id;
	/* Shadow MMU: current pages mirroring a guest table that lies in the slot (not those
	 * created while their gfn was in no slot). Only chooses how a slot change zaps. */
	u64 shadowed_tables;
};

/* Sorted by base_gfn, disjoint. */
struct memslots {
	struct memslot slots[MEMSLOTS_MAX];
	size_t count;
	u64 generation;		/* bumped on every add, delete and move */
	u32 next_id;
};

/* Shadow paging counters, printed with the VM's statistics. */
struct shadow_stats {
	u64 pages_created;	/* shadow pages allocated */
	u64 pages_reused;	/* a lookup found the page it needed already built */
	u64 pages_zapped;	/* pages taken out of use (guest writes, slot changes, zap-all) */
	u64 pages_reclaimed;	/* of those, to stay within the budget */
	u64 pages_unshadowed;	/* of those, guest tables written too often to keep shadowing */
	u64 root_loads;		/* MOV CR3 and paging-mode changes */
	u64 root_hits;		/* of those, roots found in the cache */
	u64 kept_root_loads;	/* of those, kept roots a no-flush MOV CR3 went back to */
	u64 faults_fixed;	/* #PF exits that installed sptes */
	u64 fault_prefetches;	/* leaves they mapped ahead, around the faulting one */
	u64 faults_reflected;	/* #PF exits that were the guest's own #PF */
	u64 write_protect_faults;	/* guest writes to its page tables, emulated */
	u64 pte_writes;		/* of those, guest entries of shadowed tables written */
	u64 ptes_prefetched;	/* of those, level-1 entries updated in place */
	u64 ptes_zapped;	/* the others: their sptes dropped */
	u64 invlpg;
	u64 pages_unsynced;	/* leaf tables left writable at a guest write to them */
	u64 syncs;		/* TLB flushes that found unsync pages to bring back in sync */
	u64 sync_drops;		/* of their sptes, dropped as the guest changed their entry */
	u64 sync_narrowed;	/* kept with fewer rights: the entry names the same page */
};

/* The shadow MMU of a VM (mmu/shadow.c). Invariants:
 * - every guest table a valid indirect page shadows is mapped read-only by every leaf spte
 *   (through rmaps): a guest write to it faults and is emulated, and the emulated write
 *   updates the shadow (mmu_shadow_guest_wrote()), so shadows never go out of sync.
 *   The exception (shadow_unsync=on): a gfn all of whose pages are level-1 and unsync
 *   (on unsync_pages) is writable; those pages may hold stale sptes, as a TLB may, until
 *   the guest's next TLB flush (MOV CR3 but one keeping the TLB that goes back to a kept
 *   root, see shadow.c; a CR0/CR4/EFER write) brings them back in sync
 *   and write-protects the gfn again (mmu_shadow_sync()); one no entry points at is
 *   parked, unsync, until it is linked again (get_page() syncs it first). INVLPG drops its
 *   leaf, in the current tree and every kept root's;
 * - a page with root_count > 0 is never freed, only marked invalid;
 * - every spte that loses rights or goes away makes a request (mmu->requests) before the
 *   guest runs again, so every vCPU flushes its TLB; a root that is zapped bumps
 *   mmu->roots_generation;
 * - rmaps holds the leaves of current-generation pages only: a fast zap-all moves the
 *   whole table to rmaps_draining, emptied before the zap-all returns. */
struct mmu_shadow {
	bool enabled;
	bool cache;		/* shadow_cache=: keep shadow trees across CR3 switches */
	u8 guest_phys_bits;	/* the guest's MAXPHYADDR: higher PTE address bits are reserved */
	struct hash_table pages_by_gfn;	/* valid pages, key gfn (the role is compared) */
	struct hash_table pages_by_hpa;	/* every page, key table hpa >> 12 (low-bit buckets) */
	struct hash_table rmaps;	/* the leaves' rmap entries (struct rmap_block), key gfn */
	struct hash_table rmaps_draining;	/* the obsolete pages', being emptied */
	struct list_head obsolete_roots;	/* obsolete pages still some vCPU's root */
	u64 max_pages;		/* the budget for mmu->npages */
	u64 guest_tables;	/* current pages mirroring a guest table (not direct ones) */
	bool unsync;		/* shadow_unsync=: leaf tables may go out of sync until a flush */
	struct list_head unsync_pages;	/* pages with unsync set */
	struct shadow_stats stats;
};

/* What zap-all and the MMU lock cost, printed with the VM's statistics. */
struct mmu_stats {
	u64 zap_alls;
	u64 obsolete_pages_freed;	/* by fast zap-alls (a root in use: once released) */
	u64 zap_batches;	/* holds of the MMU lock that freed obsolete pages */
	u64 lock_hold_max;	/* the longest hold of the MMU lock, in TSC ticks */
	u64 last_op_hold_max;	/* the same, within the last zap-all or slot change */
	u64 last_op_ticks;	/* the whole of that operation, lock breaks included */
	u64 zap_ticks;		/* every zap-all's, in all */
	u64 root_reloads;	/* vCPUs that found their root gone before an entry */
};

struct mmu_page;

/*
 * A VM's MMU: EPT or the shadow MMU (shadow.enabled), and the table pages it owns.
 * Three generations, each with the invariant it protects:
 * - memslots.generation: bumped by every slot change. A cached MMIO spte carries its low
 *   bits and a vCPU's last-hit slot its value: neither is trusted under another one.
 * - generation: recorded by each page at creation. A page of an older one is obsolete: no
 *   lookup returns it and no vCPU enters the guest through it. Fast zap-all bumps it, and
 *   frees every obsolete page (a root still in use: when released) before it returns, so
 *   at most two generations' pages exist and a wrap of the counter is harmless.
 * - roots_generation: bumped when pages a vCPU's tree reached may be freed (either zap-all,
 *   a zapped shadow root). This is the reload request: each vCPU compares it with the value
 *   it loaded its root under, on the entry path, before every VM entry. A vCPU's pointer
 *   into EPT tables (last_mmio_spte) is valid for one roots_generation too.
 * And one counter that is not a generation: requests, bumped with roots_generation and
 * whenever a shadow spte loses rights. A vCPU whose requests_seen differs has work before
 * its next entry (reload, TLB flush): the entry path tests that one compare, nothing else.
 */
struct mmu {
	struct memslots memslots;
	struct list_head active_pages;	/* every struct mmu_page, newest first */
	u64 npages;		/* on active_pages or shadow.obsolete_roots */
	/* Freed pages whose tables are all 0 again (their rmap entries all unhashed), with
	 * their memory, for the next allocations, which then need not zero 4 KiB (512 ticks
	 * under Bochs): at most MMU_SPARE_PAGES. */
	struct list_head spare_pages;
	unsigned nspare;
	bool defer_frees;	/* a fast zap-all frees obsolete pages: see mmu.c */
	u64 deferred_frees;	/* pages to give back, linked through their first word */
	u64 generation;
	u64 roots_generation;
	u64 requests;
	struct mmu_page *ept_root;	/* EPT PML4 (EPT only) */
	bool mmio_cache;	/* mmio_cache= switch: install MMIO sptes */
	bool ept_large_pages;	/* 2M leaves where a slot allows */
	u64 ept_pages_max;	/* EPT: table pages held at most (npages), then zap-all */
	bool zap_slow;		/* zap=slow: zap-all walks and drops every spte in one hold */
	u64 lock_taken_tsc;	/* when the MMU lock was last taken */
	struct mmu_stats stats;
	struct mmu_shadow shadow;
};

/* A vCPU's shadow context: the guest's paging state and the root built for it. */
#define SHADOW_KEPT_ROOTS 3
struct shadow_vcpu {
	struct guest_paging paging;
	u64 pdptes[4];		/* PAE guests: the PDPTEs loaded at MOV CR3 */
	struct mmu_page *root;	/* 4-level guests */
	struct mmu_page *pae_roots[4];	/* other modes: what pae_root_hpa's entries point at */
	u64 pae_root_hpa;	/* a PAE PDPT below 4 GiB, the CPU's CR3 in those modes */
	u64 root_hpa;		/* the CR3 the CPU runs the guest on */
	/* With CR4.PCIDE: the 4-level roots of the last CR3s before this one, newest first
	 * (KVM's prev_roots), each holding a root_count. A MOV CR3 that keeps the TLB may
	 * go back to one without a sync (mmu_shadow_load_kept_root()). */
	struct {
		u64 cr3;
		struct mmu_page *root;
	} kept_roots[SHADOW_KEPT_ROOTS];
	/* The last MMIO spte a RSVD fault found, and for which linear page. While no spte of
	 * the MMU lost rights or went away (mmu->requests) and no root was loaded
	 * (stats.root_loads), the path from the root to it is the one the CPU walks: a table
	 * spte changes only by going away. Its value is checked on every use; the last one
	 * that passed, with the slot generation and error code it passed for, passes again. */
	struct {
		u64 *sptep;
		u64 gva_page, requests, root_loads;
		u64 passed_spte, passed_slot_generation;
		u32 passed_error_code;
	} last_mmio;
};

/* Per-vCPU: the last slot a lookup hit, valid for one slot generation (KVM's last-used
 * slot); where the last MMIO spte a misconfiguration read lives, valid for one MMU
 * generation (a device polled in a loop exits on one gfn again and again); the
 * roots_generation its root was loaded under. */
struct mmu_vcpu {
	size_t last_slot;
	u64 last_slot_generation;
	gfn_t last_mmio_gfn;
	u64 *last_mmio_spte;
	u64 last_mmio_generation;
	u64 roots_generation;
	u64 requests_seen;	/* mmu->requests when its entry work was last done */
	struct shadow_vcpu shadow;
};

/* Every vCPU has work before its next entry (a root reload, a TLB flush). */
static inline void mmu_request_all(struct mmu *mmu) { mmu->requests++; }
/* This vCPU has (its MOV CR3, INVLPG). */
static inline void mmu_request(const struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	vcpu->requests_seen = mmu->requests - 1;
}
static inline bool mmu_entry_work_pending(const struct mmu *mmu, const struct mmu_vcpu *vcpu)
{
	return vcpu->requests_seen != mmu->requests;
}
static inline void mmu_entry_work_done(const struct mmu *mmu, struct mmu_vcpu *vcpu)
{
	vcpu->requests_seen = mmu->requests;
}

/* What an EPT exit turned out to be. */
enum mmu_fault_result {
	MMU_FAULT_MAPPED,	/* RAM now mapped: resume the guest */
	MMU_FAULT_MMIO,		/* MMIO at *gpa: emulate the access */
	MMU_FAULT_RETRY,	/* a stale MMIO spte was dropped: resume, the access faults afresh */
	MMU_FAULT_NO_MEMORY,	/* the hypervisor ran out of memory for page tables */
	MMU_FAULT_INVALID_SPTE,	/* a misconfiguration on a non-MMIO spte: a hypervisor bug */
	MMU_FAULT_GUEST,	/* shadow: the guest's own #PF: inject it */
	MMU_FAULT_EMULATE,	/* shadow: a write to a guest page table, or one only CR0.WP = 0
				 * allows to a user page under SMAP: emulate it */
	MMU_FAULT_TABLE_NOT_RAM,	/* shadow: a guest page table lies outside RAM */
};

/* EPT (mmu/ept.c); large_pages: 2M leaves where a slot allows; max_pages: the table
 * pages it may hold before it zaps all and starts over (mmu_ept_default_pages()). */
const char *mmu_ept_init(struct mmu *mmu, bool large_pages, u64 max_pages);
u64 mmu_ept_default_pages(u64 ram_bytes);
/* Frees every table page, for either MMU. */
void mmu_destroy(struct mmu *mmu);

/* Why a slot change was refused (returned negated). */
enum mmu_error {
	MMU_EINVAL = 1,		/* empty, wrapping or unaligned range; no such slot */
	MMU_EBUSY,		/* overlaps another slot */
	MMU_ENOMEM,		/* no room for another slot */
};

/* Slot changes. Each returns 0 or a negative enum mmu_error. */
int memslot_add(struct mmu *mmu, gfn_t base_gfn, u64 npages, u64 hpa, u32 flags, u32 *id_out);
int memslot_delete(struct mmu *mmu, u32 id, struct memslot *removed);
int memslot_move(struct mmu *mmu, u32 id, gfn_t new_base_gfn);
static inline bool memslot_contains(const struct memslot *slot, gfn_t gfn)
{
	return gfn >= slot->base_gfn && gfn - slot->base_gfn < slot->npages;
}
/* The slot holding gfn, or NULL: O(1) when the vCPU's last slot hits again (inline: every
 * guest page-table read asks), else a binary search (memslot_search()). */
const struct memslot *memslot_search(const struct memslots *slots, struct mmu_vcpu *vcpu,
				     gfn_t gfn);
static inline const struct memslot *memslot_find(const struct memslots *slots,
						 struct mmu_vcpu *vcpu, gfn_t gfn)
{
	if (likely(vcpu && vcpu->last_slot_generation == slots->generation &&
		   vcpu->last_slot < slots->count &&
		   memslot_contains(&slots->slots[vcpu->last_slot], gfn)))
		return &slots->slots[vcpu->last_slot];
	return memslot_search(slots, vcpu, gfn);
}
const struct memslot *memslot_by_id(const struct memslots *slots, u32 id);
static inline u64 memslot_gfn_to_hpa(const struct memslot *slot, gfn_t gfn)
{
	return slot->hpa + ((gfn - slot->base_gfn) << 12);
}

/* Guest RAM for the guest page-table walker (struct guest_mem_ops), through the slots;
 * vcpu may be NULL. */
struct guest_ram {
	const struct memslots *slots;
	struct mmu_vcpu *vcpu;
};
extern const struct guest_mem_ops guest_ram_ops;	/* ctx: a struct guest_ram */

/* Where [gpa, gpa + len) lives in host memory when it lies inside one RAM slot (writable
 * if write), else NULL. vcpu may be NULL (no last-hit shortcut). */
static inline void *memslot_gpa_to_hva(const struct memslots *slots, struct mmu_vcpu *vcpu,
				       u64 gpa, u64 len, bool write)
{
	if (len == 0 || gpa + len < gpa)
		return NULL;
	const struct memslot *slot = memslot_find(slots, vcpu, gpa_to_gfn(gpa));
	if (!slot || (write && (slot->flags & MEMSLOT_READONLY)) ||
	    gpa_to_gfn(gpa + len - 1) - slot->base_gfn >= slot->npages)
		return NULL;
	return (u8 *)phys_to_virt(memslot_gfn_to_hpa(slot, gpa_to_gfn(gpa))) + (gpa & (PAGE_SIZE - 1));
}

/* EPT violation at gpa (exit 48); write: the access was a write. For MMIO, cache_mmio
 * says whether to install an MMIO spte (the caller excludes gfns it must always see). */
enum mmu_fault_result mmu_handle_ept_violation(struct mmu *mmu, struct mmu_vcpu *vcpu,
					       u64 gpa, bool write, bool cache_mmio);
/* EPT misconfiguration at gpa (exit 49): read the spte locklessly, no slot search. The
 * hot path, inline: the vCPU's last MMIO spte is gfn's (the same gfn, no table freed since:
 * the same roots_generation) and is what a current install would write. */
enum mmu_fault_result mmu_ept_misconfig_lookup(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gpa);
/* The vCPU's last MMIO spte when it is gfn's and still valid, else NULL. */
static inline u64 *mmu_last_mmio_spte(const struct mmu *mmu, const struct mmu_vcpu *vcpu,
				      gfn_t gfn)
{
	if (vcpu->last_mmio_spte && vcpu->last_mmio_gfn == gfn &&
	    vcpu->last_mmio_generation == mmu->roots_generation)
		return vcpu->last_mmio_spte;
	return NULL;
}
static inline enum mmu_fault_result mmu_handle_ept_misconfig(struct mmu *mmu,
							     struct mmu_vcpu *vcpu, u64 gpa)
{
	gfn_t gfn = gpa_to_gfn(gpa);
	const u64 *spte = mmu_last_mmio_spte(mmu, vcpu, gfn);
	if (likely(spte && *spte == spte_make_ept_mmio(gfn, mmu->memslots.generation)))
		return MMU_FAULT_MMIO;
	return mmu_ept_misconfig_lookup(mmu, vcpu, gpa);
}

/* The EPT pointer for the VMCS: WB, 4-level walk (SDM Vol. 3C 25.6.11). */
u64 mmu_eptp(const struct mmu *mmu);
/* Drops every spte (MMIO and RAM); the next accesses fault them back in. Fast (the
 * default): bumps the generation and frees the obsolete pages in batches, the MMU lock
 * released between them; zap=slow: every spte dropped one by one in one hold. */
void mmu_zap_all(struct mmu *mmu);
/* Whether no zap-all has passed since the vCPU loaded its root (checked before every
 * entry: the reload request). */
static inline bool mmu_root_current(const struct mmu *mmu, const struct mmu_vcpu *vcpu)
{
	return vcpu->roots_generation == mmu->roots_generation;
}
/* An EPT vCPU takes the current root (the caller writes mmu_eptp() to the VMCS). */
void mmu_ept_reload_root(struct mmu *mmu, struct mmu_vcpu *vcpu);
void mmu_set_mmio_cache(struct mmu *mmu, bool on);

/* ---- shadow paging (mmu/shadow.c) ---- */

/* max_pages: the budget of shadow pages; cache: keep trees across CR3 switches. */
const char *mmu_shadow_init(struct mmu *mmu, u64 max_pages, bool cache, u8 guest_phys_bits);
/* The default budget: 20 pages per 1000 of guest RAM, at least 64 (as KVM). */
u64 mmu_shadow_default_pages(u64 ram_bytes);
const char *mmu_shadow_vcpu_init(struct mmu *mmu, struct mmu_vcpu *vcpu);
void mmu_shadow_vcpu_destroy(struct mmu *mmu, struct mmu_vcpu *vcpu);
/* The guest's paging state changed (MOV CR3, CR0, CR4, EFER, or pdptes for a PAE guest):
 * finds or builds the root; afterwards vcpu->shadow.root_hpa is the CPU's CR3.
 * MMU_FAULT_MAPPED or MMU_FAULT_NO_MEMORY. */
enum mmu_fault_result mmu_shadow_load_root(struct mmu *mmu, struct mmu_vcpu *vcpu,
					   const struct guest_paging *paging, const u64 *pdptes);
/* The entry work of a shadow vCPU (requests pending): reloads the root if one was zapped
 * (MMU_FAULT_RETRY: the CR3 changed); the caller then flushes the vCPU's TLB. */
enum mmu_fault_result mmu_shadow_before_entry(struct mmu *mmu, struct mmu_vcpu *vcpu);

/* What a shadow fault needs beyond MMU_FAULT_*: the gpa (MMIO, EMULATE) or the guest's
 * error code (GUEST). */
struct shadow_fault {
	u64 gpa;
	u32 error_code;
};
/* A #PF exit at gva with the CPU's error code; smap_allowed: a supervisor data access
 * with EFLAGS.AC = 1. RSVD = 1 goes to mmu_shadow_mmio_fault(). */
enum mmu_fault_result mmu_shadow_page_fault(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva,
					    u32 error_code, bool smap_allowed,
					    struct shadow_fault *out);
/* A #PF exit with RSVD = 1: the CPU met an MMIO spte, recognised from it alone (the
 * vCPU's last one, or a lockless walk). MMU_FAULT_MMIO (out->gpa) or MMU_FAULT_RETRY
 * (stale or dropped: the access faults again, to be judged by the guest's tables).
 * The hot path, inline: a device polled in a loop, the vCPU's last MMIO spte (still the
 * one on gva's path, see last_mmio) holding the value that passed the checks before for
 * this error code and slot generation. */
enum mmu_fault_result mmu_shadow_mmio_fault_lookup(struct mmu *mmu, struct mmu_vcpu *vcpu,
						   u64 gva, u32 error_code, struct shadow_fault *out);
/* The vCPU's last MMIO spte if still on gva's path (see last_mmio), else NULL. */
static inline u64 *mmu_shadow_last_mmio_sptep(const struct mmu *mmu, const struct shadow_vcpu *sv,
					      u64 gva)
{
	if (sv->last_mmio.sptep && sv->last_mmio.gva_page == (gva & ~(u64)(PAGE_SIZE - 1)) &&
	    sv->last_mmio.requests == mmu->requests &&
	    sv->last_mmio.root_loads == mmu->shadow.stats.root_loads)
		return sv->last_mmio.sptep;
	return NULL;
}
/* Whether this spte value, under this slot generation, already passed the lookup's checks
 * for this error code (a device polled in a loop). The paging settings the rights check
 * reads (SMAP) change only with a root load, which refills last_mmio and forgets what
 * passed (passed_spte 0, never an MMIO spte). */
static inline bool mmu_shadow_mmio_passed_before(const struct mmu *mmu,
						 const struct shadow_vcpu *sv, u64 spte,
						 u32 error_code)
{
	return spte == sv->last_mmio.passed_spte && spte &&
	       error_code == sv->last_mmio.passed_error_code &&
	       mmu->memslots.generation == sv->last_mmio.passed_slot_generation;
}
static inline enum mmu_fault_result mmu_shadow_mmio_fault(struct mmu *mmu, struct mmu_vcpu *vcpu,
							  u64 gva, u32 error_code,
							  struct shadow_fault *out)
{
	const struct shadow_vcpu *sv = &vcpu->shadow;
	const u64 *sptep;
	u64 spte;
	if (likely(mmu_root_current(mmu, vcpu) && (sptep = mmu_shadow_last_mmio_sptep(mmu, sv, gva)) &&
		   mmu_shadow_mmio_passed_before(mmu, sv, spte = *sptep, error_code))) {
		out->gpa = gfn_to_gpa(spte_mmio_gfn(spte)) | (gva & (PAGE_SIZE - 1));
		return MMU_FAULT_MMIO;
	}
	return mmu_shadow_mmio_fault_lookup(mmu, vcpu, gva, error_code, out);
}
/* MOV CR3 with CR4.PCIDE and bit 63 set (the TLB keeps the new PCID's translations) to a
 * CR3 among the kept roots: it becomes the current root, and no sync is needed. false:
 * not kept (or no longer usable), so the caller syncs and loads it as any other. */
bool mmu_shadow_load_kept_root(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 cr3);
/* Where the current tree's leaf for gva maps it, if that leaf grants the ACC_* rights need
 * and none of refuse. The translation a TLB could hold (a leaf of an unsync page may be
 * stale, as a TLB entry may), with the guest's A bit set: an access it allows may take it
 * instead of a guest walk (the exiting instruction's fetch, which the CPU just made
 * through it). gva must be canonical. false: no such leaf (the guest walk decides). */
bool mmu_shadow_leaf_gpa(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva, unsigned need,
			 unsigned refuse, u64 *gpa);
/* INVLPG gva: drops the leaf at gva in the current tree and the kept roots' trees. */
void mmu_shadow_invlpg(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gva);
/* Guest RAM at [gpa, gpa + len) was written by Vireo (an emulated store, a hypercall):
 * shadowed guest tables there get their sptes dropped. */
void mmu_shadow_guest_wrote(struct mmu *mmu, u64 gpa, u64 len);
/* Stops shadowing gfn (its pages are zapped, so the guest may write it freely); used
 * when a write to it cannot be emulated. false: gfn held no shadowed table. */
bool mmu_shadow_unprotect(struct mmu *mmu, gfn_t gfn);
/* The guest flushed its TLB (MOV CR3, a CR0/CR4/EFER write): unsync pages back in sync. */
void mmu_shadow_sync(struct mmu *mmu);
/* shadow_unsync=: whether guest leaf tables may go unsync (off after mmu_shadow_init()). */
void mmu_shadow_set_unsync(struct mmu *mmu, bool on);

#endif
