/* mmu/: a VM's guest-physical memory. Memory slots map gfn ranges to host pages and carry
 * a generation bumped on every change; EPT is filled on demand from them; gfns in no slot
 * are MMIO and get cached MMIO sptes (see mmu/spte.h). No VMCS access here: callers pass
 * what the exit told them, so all of this also builds and runs in host unit tests. */
#ifndef VIREO_MMU_MMU_H
#define VIREO_MMU_MMU_H

#include "lib/phys.h"
#include "lib/types.h"

#define MEMSLOTS_MAX 1024
#define MEMSLOT_READONLY 1u
#define MEMSLOT_DYNAMIC 2u	/* added by a hypercall: its backing is freed with it */

typedef u64 gfn_t;

static inline gfn_t gpa_to_gfn(u64 gpa) { return gpa >> 12; }
static inline u64 gfn_to_gpa(gfn_t gfn) { return gfn << 12; }

struct memslot {
	gfn_t base_gfn;
	u64 npages;
	u64 hpa;		/* host-physical address backing base_gfn; contiguous */
	u32 flags;		/* MEMSLOT_* */
	u32 id;
};

/* Sorted by base_gfn, disjoint. */
struct memslots {
	struct memslot slots[MEMSLOTS_MAX];
	size_t count;
	u64 generation;		/* bumped on every add, delete and move */
	u32 next_id;
};

struct mmu {
	struct memslots memslots;
	u64 ept_root_hpa;	/* EPT PML4 */
	bool mmio_cache;	/* mmio_cache= switch: install MMIO sptes */
	bool ept_large_pages;	/* 2M leaves where a slot allows */
	u64 tables_epoch;	/* bumped whenever EPT tables are freed (zap-all, destroy) */
};

/* Per-vCPU: the last slot a lookup hit, valid for one generation (KVM's last-used slot);
 * and where the last MMIO spte a misconfiguration read lives, valid while no EPT table
 * has been freed (tables_epoch): a device polled in a loop exits on one gfn again and again. */
struct mmu_vcpu {
	size_t last_slot;
	u64 last_slot_generation;
	gfn_t last_mmio_gfn;
	u64 *last_mmio_spte;
	u64 last_mmio_epoch;
};

/* What an EPT exit turned out to be. */
enum mmu_fault_result {
	MMU_FAULT_MAPPED,	/* RAM now mapped: resume the guest */
	MMU_FAULT_MMIO,		/* MMIO at *gpa: emulate the access */
	MMU_FAULT_RETRY,	/* a stale MMIO spte was dropped: resume, the access faults afresh */
	MMU_FAULT_NO_MEMORY,	/* the hypervisor ran out of memory for page tables */
	MMU_FAULT_INVALID_SPTE,	/* a misconfiguration on a non-MMIO spte: a hypervisor bug */
};

const char *mmu_init(struct mmu *mmu, bool large_pages);
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
/* The slot holding gfn, or NULL: O(log n), O(1) when the vCPU's last slot hits again. */
const struct memslot *memslot_find(const struct memslots *slots, struct mmu_vcpu *vcpu, gfn_t gfn);
const struct memslot *memslot_by_id(const struct memslots *slots, u32 id);
static inline u64 memslot_gfn_to_hpa(const struct memslot *slot, gfn_t gfn)
{
	return slot->hpa + ((gfn - slot->base_gfn) << 12);
}

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
/* EPT misconfiguration at gpa (exit 49): read the spte locklessly, no slot search. */
enum mmu_fault_result mmu_handle_ept_misconfig(struct mmu *mmu, struct mmu_vcpu *vcpu, u64 gpa);

/* The EPT pointer for the VMCS: WB, 4-level walk (SDM Vol. 3C 25.6.11). */
u64 mmu_eptp(const struct mmu *mmu);
/* Drops every spte (MMIO and RAM); the next accesses fault them back in. */
void mmu_zap_all(struct mmu *mmu);
void mmu_set_mmio_cache(struct mmu *mmu, bool on);

#endif
