/* VMCALL: the hypercall ABI of core/hypercall.h. Arguments come from RBX, RCX, RDX, RSI;
 * the result goes to RAX. Management calls need a VM started as trusted. Nothing a guest
 * passes can do more than make its own call fail. */
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "vmexit/handlers.h"

#define CONSOLE_WRITE_MAX 4096
#define SLOT_ADD_MAX_PAGES 65536	/* 256 MiB per slot, one contiguous host block */
#define GUEST_GFN_LIMIT (1ull << 36)	/* 48-bit guest-physical space of a 4-level EPT */

/* A call's arguments: RBX, RCX, RDX, RSI, truncated to 32 bits outside 64-bit code. Each
 * handler reads only those it takes. */
struct hypercall_args {
	const u64 *gpr;
	u64 mask;
};

static inline u64 arg(const struct hypercall_args *a, unsigned n)
{
	static const u8 registers[] = { X86_RBX, X86_RCX, X86_RDX, X86_RSI };
	return a->gpr[registers[n]] & a->mask;
}

typedef s64 (*hypercall_fn)(struct vcpu *vcpu, const struct hypercall_args *args);

/* A refused slot change, in the ABI's terms. */
static s64 slot_error(int err)
{
	switch (-err) {
	case 0: return 0;
	case MMU_EBUSY: return -HC_EBUSY;
	case MMU_ENOMEM: return -HC_ENOMEM;
	default: return -HC_EINVAL;
	}
}

static s64 hc_console_write(struct vcpu *vcpu, const struct hypercall_args *a)
{
	char text[CONSOLE_WRITE_MAX];
	u64 gpa = arg(a, 0), length = arg(a, 1);
	if (length > CONSOLE_WRITE_MAX)
		return -HC_EINVAL;
	if (!vm_read_gpa(vcpu->vm, gpa, text, length))
		return -HC_EFAULT;
	vm_console_write(vcpu->vm, text, length);
	return (s64)length;
}

static s64 hc_stats_dump(struct vcpu *vcpu, const struct hypercall_args *a)
{
	vm_print_stats(vcpu->vm);
	return 0;
}

static s64 hc_test_exit(struct vcpu *vcpu, const struct hypercall_args *a)
{
	u32 status = (u32)arg(a, 0);
	vm_stop(vcpu->vm, (int)status, "test-exit hypercall: status %u", status);
	return 0;
}

static s64 shadow_stat(const struct shadow_stats *s, u64 counter)
{
	switch (counter) {
	case HC_STAT_SHADOW_PAGES_CREATED: return (s64)s->pages_created;
	case HC_STAT_SHADOW_ROOT_LOADS: return (s64)s->root_loads;
	case HC_STAT_SHADOW_ROOT_HITS: return (s64)s->root_hits;
	case HC_STAT_SHADOW_PAGES_UNSHADOWED: return (s64)s->pages_unshadowed;
	case HC_STAT_SHADOW_WRITE_PROTECT_FAULTS: return (s64)s->write_protect_faults;
	case HC_STAT_SHADOW_PTES_PREFETCHED: return (s64)s->ptes_prefetched;
	case HC_STAT_SHADOW_FAULTS_REFLECTED: return (s64)s->faults_reflected;
	}
	return -HC_EINVAL;
}

static s64 mmu_stat(const struct mmu *mmu, u64 counter)
{
	switch (counter) {
	case HC_STAT_MMU_ZAP_ALLS: return (s64)mmu->stats.zap_alls;
	case HC_STAT_MMU_OBSOLETE_FREED: return (s64)mmu->stats.obsolete_pages_freed;
	case HC_STAT_MMU_ZAP_BATCHES: return (s64)mmu->stats.zap_batches;
	case HC_STAT_MMU_LOCK_HOLD_MAX: return (s64)mmu->stats.lock_hold_max;
	case HC_STAT_MMU_ROOT_RELOADS: return (s64)mmu->stats.root_reloads;
	case HC_STAT_MMU_PAGES: return (s64)mmu->npages;
	case HC_STAT_MMU_LAST_OP_HOLD_MAX: return (s64)mmu->stats.last_op_hold_max;
	case HC_STAT_MMU_LAST_OP_TICKS: return (s64)mmu->stats.last_op_ticks;
	case HC_STAT_MMU_ZAP_TICKS: return (s64)mmu->stats.zap_ticks;
	}
	return -HC_EINVAL;
}

static s64 hc_stat_read(struct vcpu *vcpu, const struct hypercall_args *a)
{
	u64 counter = arg(a, 0);
	if (likely(counter < HC_STAT_COUNT))	/* the exit counters: the hot case */
		return (s64)vcpu->vm->stats.counters[counter];
	if (counter >= HC_STAT_MMU_FIRST)
		return mmu_stat(&vcpu->vm->mmu, counter);
	if (counter >= HC_STAT_SHADOW_FIRST)
		return shadow_stat(&vcpu->vm->mmu.shadow.stats, counter);
	return -HC_EINVAL;
}

static s64 hc_memslot_add(struct vcpu *vcpu, const struct hypercall_args *a)
{
	u64 gfn = arg(a, 0), npages = arg(a, 1), slot_flags = arg(a, 2);
	if (npages == 0 || npages > SLOT_ADD_MAX_PAGES || gfn >= GUEST_GFN_LIMIT ||
	    npages > GUEST_GFN_LIMIT - gfn || (slot_flags & ~(u64)HC_SLOT_READONLY))
		return -HC_EINVAL;
	unsigned order = page_order_for_size(npages << PAGE_SHIFT);
	u64 hpa = page_alloc_zeroed(order);
	if (!hpa)
		return -HC_ENOMEM;
	u32 flags = MEMSLOT_DYNAMIC | (slot_flags & HC_SLOT_READONLY ? MEMSLOT_READONLY : 0);
	u32 id;
	int err = memslot_add(&vcpu->vm->mmu, gfn, npages, hpa, flags, &id);
	if (err) {
		page_free(hpa, order);
		return slot_error(err);
	}
	return id;
}

static s64 hc_memslot_delete(struct vcpu *vcpu, const struct hypercall_args *a)
{
	struct mmu *mmu = &vcpu->vm->mmu;
	u64 id = arg(a, 0);
	const struct memslot *slot = memslot_by_id(&mmu->memslots, (u32)id);
	if (id > UINT32_MAX || !slot || !(slot->flags & MEMSLOT_DYNAMIC))
		return -HC_EINVAL;	/* the VM's boot RAM is not its to remove */
	struct memslot removed;
	int err = memslot_delete(mmu, (u32)id, &removed);
	if (!err)
		page_free(removed.hpa, page_order_for_size(removed.npages << PAGE_SHIFT));
	return slot_error(err);
}

static s64 hc_memslot_move(struct vcpu *vcpu, const struct hypercall_args *a)
{
	struct mmu *mmu = &vcpu->vm->mmu;
	u64 id = arg(a, 0), new_gfn = arg(a, 1);
	const struct memslot *slot = memslot_by_id(&mmu->memslots, (u32)id);
	if (id > UINT32_MAX || !slot || !(slot->flags & MEMSLOT_DYNAMIC) ||
	    new_gfn >= GUEST_GFN_LIMIT || slot->npages > GUEST_GFN_LIMIT - new_gfn)
		return -HC_EINVAL;
	return slot_error(memslot_move(mmu, (u32)id, new_gfn));
}

static s64 hc_set_switch(struct vcpu *vcpu, const struct hypercall_args *a)
{
	u64 which = arg(a, 0), on = arg(a, 1);
	if (on > 1)
		return -HC_EINVAL;
	switch (which) {
	case HC_SWITCH_MMIO_CACHE:
		mmu_set_mmio_cache(&vcpu->vm->mmu, on);
		return 0;
	case HC_SWITCH_FAST_MMIO:
		vcpu->vm->fast_mmio = on;
		return 0;
	case HC_SWITCH_SHADOW_CACHE:
		if (!vcpu_shadow_paging(vcpu))
			return -HC_EINVAL;
		vcpu->vm->mmu.shadow.cache = on;
		return 0;
	case HC_SWITCH_FAST_ZAP:
		vcpu->vm->mmu.zap_slow = !on;
		return 0;
	}
	return -HC_EINVAL;
}

static s64 hc_zap_all(struct vcpu *vcpu, const struct hypercall_args *a)
{
	mmu_zap_all(&vcpu->vm->mmu);
	return 0;
}

static const hypercall_fn calls[] = {
	[HC_CONSOLE_WRITE] = hc_console_write,
	[HC_STATS_DUMP] = hc_stats_dump,
	[HC_TEST_EXIT] = hc_test_exit,
	[HC_STAT_READ] = hc_stat_read,
};

static const hypercall_fn management_calls[] = {
	[HC_MEMSLOT_ADD - HC_MGMT_FIRST] = hc_memslot_add,
	[HC_MEMSLOT_DELETE - HC_MGMT_FIRST] = hc_memslot_delete,
	[HC_MEMSLOT_MOVE - HC_MGMT_FIRST] = hc_memslot_move,
	[HC_SET_SWITCH - HC_MGMT_FIRST] = hc_set_switch,
	[HC_ZAP_ALL - HC_MGMT_FIRST] = hc_zap_all,
};

static s64 hypercall(struct vcpu *vcpu, u64 nr, const struct hypercall_args *args)
{
	if (nr < ARRAY_SIZE(calls) && calls[nr])
		return calls[nr](vcpu, args);
	u64 m = nr - HC_MGMT_FIRST;
	if (nr < HC_MGMT_FIRST || m >= ARRAY_SIZE(management_calls) || !management_calls[m])
		return -HC_ENOSYS;
	if (!vcpu->vm->trusted)
		return -HC_EPERM;
	return management_calls[m](vcpu, args);
}

/* Hypercalls are for the guest kernel: from user mode (CPL 3) they fail, as in KVM. Outside
 * 64-bit code only the low 32 bits of each register count (the upper halves may hold
 * whatever earlier 64-bit code left); CS.L is set only in 64-bit mode. */
void handle_vmcall(struct vcpu *vcpu)
{
	u64 *gpr = vcpu->regs.gpr;
	bool user_mode = guest_cpl() == 3;
	u64 mask = guest_in_64bit_mode() ? ~0ull : 0xffffffffull;
	struct hypercall_args args = { gpr, mask };
	s64 result = user_mode ? -HC_EPERM : hypercall(vcpu, gpr[X86_RAX] & mask, &args);
	gpr[X86_RAX] = (u64)result & mask;
	finish_by_skipping(vcpu);
}
