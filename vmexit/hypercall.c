/* VMCALL: the hypercall ABI of vmexit/hypercall.h. Arguments come from RBX, RCX, RDX, RSI;
 * the result goes to RAX. Management calls need a VM started as trusted. Nothing a guest
 * passes can do more than make its own call fail. */
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "vmexit/handlers.h"

#define CONSOLE_WRITE_MAX 4096
#define SLOT_ADD_MAX_PAGES 16384	/* 64 MiB per slot */
#define GUEST_GFN_LIMIT (1ull << 36)	/* 48-bit guest-physical space of a 4-level EPT */
#define SS_AR_DPL(ar) (((ar) >> 5) & 3)

struct hypercall_args {
	u64 a0, a1, a2, a3;
};

typedef s64 (*hypercall_fn)(struct vcpu *vcpu, const struct hypercall_args *args);

static s64 hc_console_write(struct vcpu *vcpu, const struct hypercall_args *a)
{
	char text[CONSOLE_WRITE_MAX + 1];
	if (a->a1 > CONSOLE_WRITE_MAX)
		return -HC_EINVAL;
	if (!vm_read_gpa(vcpu->vm, a->a0, text, a->a1))
		return -HC_EFAULT;
	text[a->a1] = '\0';
	vm_console_write(vcpu->vm, text, a->a1);
	return (s64)a->a1;
}

static s64 hc_stats_dump(struct vcpu *vcpu, const struct hypercall_args *a)
{
	vm_print_stats(vcpu->vm);
	return 0;
}

static s64 hc_test_exit(struct vcpu *vcpu, const struct hypercall_args *a)
{
	vm_stop(vcpu->vm, (int)(u32)a->a0, "test-exit hypercall: status %u", (u32)a->a0);
	return 0;
}

static s64 hc_stat_read(struct vcpu *vcpu, const struct hypercall_args *a)
{
	if (a->a0 >= HC_STAT_COUNT)
		return -HC_EINVAL;
	return (s64)vcpu->vm->stats.counters[a->a0];
}

static s64 hc_memslot_add(struct vcpu *vcpu, const struct hypercall_args *a)
{
	u64 gfn = a->a0, npages = a->a1;
	if (npages == 0 || npages > SLOT_ADD_MAX_PAGES || gfn >= GUEST_GFN_LIMIT ||
	    npages > GUEST_GFN_LIMIT - gfn || (a->a2 & ~(u64)HC_SLOT_READONLY))
		return -HC_EINVAL;
	unsigned order = page_order_for_size(npages << PAGE_SHIFT);
	u64 hpa = page_alloc_zeroed(order);
	if (!hpa)
		return -HC_ENOMEM;
	u32 flags = MEMSLOT_DYNAMIC | (a->a2 & HC_SLOT_READONLY ? MEMSLOT_READONLY : 0);
	u32 id;
	int err = memslot_add(&vcpu->vm->mmu, gfn, npages, hpa, flags, &id);
	if (err) {
		page_free(hpa, order);
		return err;
	}
	return id;
}

static s64 hc_memslot_delete(struct vcpu *vcpu, const struct hypercall_args *a)
{
	struct mmu *mmu = &vcpu->vm->mmu;
	const struct memslot *slot = memslot_by_id(&mmu->memslots, (u32)a->a0);
	if (a->a0 > UINT32_MAX || !slot || !(slot->flags & MEMSLOT_DYNAMIC))
		return -HC_EINVAL;	/* the VM's boot RAM is not its to remove */
	struct memslot removed;
	int err = memslot_delete(mmu, (u32)a->a0, &removed);
	if (!err)
		page_free(removed.hpa, page_order_for_size(removed.npages << PAGE_SHIFT));
	return err;
}

static s64 hc_memslot_move(struct vcpu *vcpu, const struct hypercall_args *a)
{
	struct mmu *mmu = &vcpu->vm->mmu;
	const struct memslot *slot = memslot_by_id(&mmu->memslots, (u32)a->a0);
	if (a->a0 > UINT32_MAX || !slot || !(slot->flags & MEMSLOT_DYNAMIC) ||
	    a->a1 >= GUEST_GFN_LIMIT || slot->npages > GUEST_GFN_LIMIT - a->a1)
		return -HC_EINVAL;
	return memslot_move(mmu, (u32)a->a0, a->a1);
}

static s64 hc_set_switch(struct vcpu *vcpu, const struct hypercall_args *a)
{
	if (a->a1 > 1)
		return -HC_EINVAL;
	switch (a->a0) {
	case HC_SWITCH_MMIO_CACHE:
		mmu_set_mmio_cache(&vcpu->vm->mmu, a->a1);
		return 0;
	case HC_SWITCH_FAST_MMIO:
		vcpu->vm->fast_mmio = a->a1;
		return 0;
	}
	return -HC_EINVAL;
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

/* Hypercalls are for the guest kernel: from user mode (CPL 3) they fail, as in KVM. */
void handle_vmcall(struct vcpu *vcpu)
{
	u64 *gpr = vcpu->regs.gpr;
	bool user_mode = SS_AR_DPL(vmcs_read32(VMCS_GUEST_SS_AR)) == 3;
	struct hypercall_args args = { gpr[X86_RBX], gpr[X86_RCX], gpr[X86_RDX], gpr[X86_RSI] };
	gpr[X86_RAX] = (u64)(user_mode ? -HC_EPERM : hypercall(vcpu, gpr[X86_RAX], &args));
	finish_by_skipping(vcpu);
}
