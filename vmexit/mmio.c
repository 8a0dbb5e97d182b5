/* The MMIO path. EPT violation: a doorbell write is signalled without decoding; a RAM gfn
 * is mapped; anything else is MMIO and gets a cached MMIO spte. EPT misconfiguration: the
 * spte alone says MMIO (or stale). Either way the access is then emulated.
 *
 * A gfn holding a doorbell never gets a cached MMIO spte: its accesses always arrive as
 * EPT violations, whose qualification says read or write (a misconfiguration does not), so
 * a doorbell write needs no decoding and a doorbell read falls through to emulation. */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "vmexit/handlers.h"

/* EPT-violation exit qualification (SDM Vol. 3C table 28-7). */
#define EPT_QUAL_READ BIT(0)
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_LINEAR_VALID BIT(7)
#define EPT_QUAL_FINAL_TRANSLATION BIT(8)	/* not an access to a guest paging structure */
/* A plain store: a write, no read (so not XCHG, ADD, LOCK OR...), to the final address. */
#define EPT_QUAL_PLAIN_STORE_MASK (EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_LINEAR_VALID | \
				   EPT_QUAL_FINAL_TRANSLATION)
#define EPT_QUAL_PLAIN_STORE (EPT_QUAL_WRITE | EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL_TRANSLATION)

bool fast_mmio_use_exit_length = true;

static void count(struct vcpu *vcpu, unsigned counter)
{
	vcpu->vm->stats.counters[counter]++;
}

/* The doorbell write's instruction is skipped, never executed: its length comes from the
 * VM-exit field where the CPU fills it reliably, else from the decoder's length-only path. */
static bool skip_doorbell_write(struct vcpu *vcpu)
{
	if (likely(fast_mmio_use_exit_length)) {
		finish_by_skipping(vcpu);
		return true;
	}
	unsigned length = emulator_instruction_length(vcpu);
	if (!length)
		return false;
	skip_instruction_by(vcpu, length);
	return true;
}

static bool try_fast_doorbell(struct vcpu *vcpu, u64 gpa)
{
	struct doorbell *bell = fast_mmio_find(&vcpu->vm->fast_mmio_bus, gpa);
	if (!bell || bell->match_value || (vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) ||
	    !skip_doorbell_write(vcpu))
		return false;
	count(vcpu, HC_STAT_MMIO_FAST);
	bell->signal(bell, 0, false);
	return true;
}

void delivery_through_mmio(struct vcpu *vcpu, u64 gpa)
{
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "delivering an exception or interrupt touches MMIO "
		"at gpa %#llx (its IDT, GDT or stack is not in RAM)", (unsigned long long)gpa);
}

static void fault_failed(struct vcpu *vcpu, enum mmu_fault_result result, u64 gpa)
{
	if (result == MMU_FAULT_NO_MEMORY)
		vm_stop(vcpu->vm, VM_STATUS_FAULT, "out of hypervisor memory for EPT tables at gpa %#llx",
			(unsigned long long)gpa);
	else
		panic("EPT misconfiguration at gpa %#llx on an spte that is not MMIO: a Vireo bug",
		      (unsigned long long)gpa);
}

/* What a violation's qualification says about the access (struct mmio_exit): with bits 7
 * and 8 it was the translation of the guest-linear address, not a page-walk access. */
static struct mmio_exit violation_mmio_exit(u64 gpa, u64 qualification)
{
	bool translated = (qualification & (EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL_TRANSLATION)) ==
			  (EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL_TRANSLATION);
	return (struct mmio_exit){
		.gpa = gpa, .translation_known = translated,
		.linear = translated ? vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS) : 0,
	};
}

/* Everything but the doorbell: kept out of line so the doorbell path stays short. */
static __attribute__((noinline)) void map_or_emulate(struct vcpu *vcpu, u64 gpa, u64 qualification)
{
	bool write = qualification & EPT_QUAL_WRITE;
	bool delivering = requeue_interrupted_event(vcpu);
	struct vm *vm = vcpu->vm;
	bool cache = vm->mmu.mmio_cache && !fast_mmio_page_has_doorbell(&vm->fast_mmio_bus, gpa);
	enum mmu_fault_result result = mmu_handle_ept_violation(&vm->mmu, &vcpu->mmu, gpa, write, cache);
	if (result == MMU_FAULT_MAPPED || result == MMU_FAULT_RETRY)
		return;		/* RETRY: the tables were reclaimed (mmu/ept.c) */
	if (result != MMU_FAULT_MMIO) {
		fault_failed(vcpu, result, gpa);
		return;
	}
	if (delivering) {
		delivery_through_mmio(vcpu, gpa);
		return;
	}
	count(vcpu, HC_STAT_MMIO_SLOW);
	struct mmio_exit exit = violation_mmio_exit(gpa, qualification);
	emulate_mmio(vcpu, &exit);
}

/* A doorbell is signalled without decoding only for a plain store outside event delivery:
 * anything else (a read-modify-write, a page-walk update, a store while delivering an
 * event) must run in full, so it goes through emulation. */
void handle_ept_violation(struct vcpu *vcpu)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	u64 qualification = vmcs_readnat(VMCS_EXIT_QUALIFICATION);	/* only read here */
	if ((qualification & EPT_QUAL_PLAIN_STORE_MASK) == EPT_QUAL_PLAIN_STORE &&
	    vcpu->vm->fast_mmio && try_fast_doorbell(vcpu, gpa))
		return;
	map_or_emulate(vcpu, gpa, qualification);
}

void handle_ept_misconfig(struct vcpu *vcpu)
{
	u64 gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	enum mmu_fault_result result = mmu_handle_ept_misconfig(&vcpu->vm->mmu, &vcpu->mmu, gpa);
	if (unlikely(requeue_interrupted_event(vcpu)) && result == MMU_FAULT_MMIO) {
		delivery_through_mmio(vcpu, gpa);
		return;
	}
	if (likely(result == MMU_FAULT_MMIO)) {
		count(vcpu, HC_STAT_MMIO_CACHED);
		/* No qualification: the CPU may have been reading a guest page table here. */
		struct mmio_exit exit = { .gpa = gpa, .no_doorbell = true };
		if (!emulate_mmio_site(vcpu, &exit))
			emulate_mmio(vcpu, &exit);
	} else if (result == MMU_FAULT_RETRY) {
		count(vcpu, HC_STAT_MMIO_STALE);
	} else {
		fault_failed(vcpu, result, gpa);
	}
}
