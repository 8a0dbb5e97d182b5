/* The exits of the shadow MMU (mmu/shadow.c): guest #PF (every one is intercepted), MOV
 * to CR3 and paging-mode changes (a root load), INVLPG; and what must happen right before
 * VM entry (a zapped root reloaded, the TLB flushed). */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vmexit/handlers.h"

/* PAE PDPTE bits that must be 0 (SDM Vol. 3A 4.4.1, table 4-8): 2:1, 8:5 and 63:MAXPHYADDR. */
#define PAE_PDPTE_RESERVED_LOW (BITS(2, 1) | BITS(8, 5))
#define CR3_PAE_TABLE_MASK BITS(31, 5)

static u64 pdpte_reserved_bits(void)
{
	return PAE_PDPTE_RESERVED_LOW | BITS(63, host_cpu.phys_addr_bits);
}

/* MOV to CR3 in PAE mode loads the four PDPTEs, and #GPs if one present has a reserved
 * bit set or they are not RAM (SDM Vol. 3A 4.4.1). */
static bool load_guest_pdptes(struct vcpu *vcpu, u64 cr3, u64 pdptes[4])
{
	if (!vm_read_gpa(vcpu->vm, cr3 & CR3_PAE_TABLE_MASK, pdptes, 4 * sizeof(u64)))
		return false;
	for (int i = 0; i < 4; i++)
		if ((pdptes[i] & GUEST_PTE_PRESENT) && (pdptes[i] & pdpte_reserved_bits()))
			return false;
	return true;
}

static bool same_paging(const struct guest_paging *a, const struct guest_paging *b)
{
	return a->mode == b->mode && a->cr3 == b->cr3 && a->wp == b->wp && a->nxe == b->nxe &&
	       a->pse == b->pse && a->smep == b->smep && a->smap == b->smap && a->pcide == b->pcide;
}

bool shadow_paging_update(struct vcpu *vcpu, u64 cr3, bool force)
{
	struct guest_paging paging;
	/* Every CR0/CR4/EFER write flushes the TLB, and MOV CR3 but for shadow_cr3_write()'s
	 * case. */
	mmu_shadow_sync(&vcpu->vm->mmu);
	guest_paging_init(&paging, vcpu_guest_cr0(vcpu), cr3, vcpu_guest_cr4(vcpu),
			  vcpu_guest_efer(vcpu), host_cpu.phys_addr_bits, host_cpu.gbpages);
	if (!force && same_paging(&paging, &vcpu->mmu.shadow.paging))
		return true;
	u64 pdptes[4] = { 0 };
	if (paging.mode == GUEST_PAGING_PAE && !load_guest_pdptes(vcpu, cr3, pdptes))
		return false;
	if (mmu_shadow_load_root(&vcpu->vm->mmu, &vcpu->mmu, &paging, pdptes) != MMU_FAULT_MAPPED) {
		vm_stop(vcpu->vm, VM_STATUS_FAULT, "out of hypervisor memory for shadow page tables");
		return false;
	}
	vmcs_writenat(VMCS_GUEST_CR3, vcpu->mmu.shadow.root_hpa);
	return true;
}

/* MOV to CR3. With CR4.PCIDE and bit 63 of the source set (keep_tlb, bit 63 already
 * cleared from cr3) the TLB keeps the new PCID's translations (SDM Vol. 3A 4.10.4.1):
 * one of the kept roots is then loaded without a sync. */
bool shadow_cr3_write(struct vcpu *vcpu, u64 cr3, bool keep_tlb)
{
	if (keep_tlb && mmu_shadow_load_kept_root(&vcpu->vm->mmu, &vcpu->mmu, cr3)) {
		vmcs_writenat(VMCS_GUEST_CR3, vcpu->mmu.shadow.root_hpa);
		return true;
	}
	return shadow_paging_update(vcpu, cr3, true);
}

/* Without VPID every VM entry and exit flushes the guest's TLB entries already. */
static void flush_guest_tlb(struct vcpu *vcpu)
{
	if (!(vmx_controls.proc2 & SECONDARY_VPID))
		return;
	if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vmcs_read16(VMCS_VPID));
	else
		invvpid(INVVPID_ALL_CONTEXTS, 0);
}

bool shadow_before_entry(struct vcpu *vcpu)
{
	switch (mmu_shadow_before_entry(&vcpu->vm->mmu, &vcpu->mmu)) {
	case MMU_FAULT_MAPPED:
		break;
	case MMU_FAULT_RETRY:	/* a new root */
		vmcs_writenat(VMCS_GUEST_CR3, vcpu->mmu.shadow.root_hpa);
		break;
	default:
		vm_stop(vcpu->vm, VM_STATUS_FAULT, "out of hypervisor memory for shadow page tables");
		return false;
	}
	flush_guest_tlb(vcpu);
	return true;
}

/* The guest's own #PF. One met while delivering a #PF is a double fault (SDM Vol. 3A
 * 6.15, table 6-5); while delivering anything else the #PF is delivered instead and the
 * first event comes again when its cause does (a fault's instruction re-runs). */
static void reflect_page_fault(struct vcpu *vcpu, bool delivering, u64 gva, u32 error_code)
{
	if (delivering && vcpu->pending.type == INTR_TYPE_HARD_EXCEPTION &&
	    vcpu->pending.vector == X86_EXC_PF) {
		inject_exception(vcpu, X86_EXC_DF, true, 0);
		return;
	}
	inject_page_fault(vcpu, gva, error_code);
}

/* SMAP lets explicit supervisor accesses with EFLAGS.AC = 1 reach user pages. */
static bool smap_allowed(void)
{
	return guest_cpl() < 3 &&
	       (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_AC);
}

/* A #PF with RSVD = 1 came through an MMIO spte (the "cached" path). MMIO sptes are
 * installed on doorbell pages too here, so only a page without doorbells takes the MMIO
 * site and the emulator's no-walk shortcut, as a cached page does on EPT. Doorbell writes
 * are always decoded on the shadow MMU: a #PF's error code cannot tell a plain store from
 * a read-modify-write, as an EPT violation's qualification can. */
static inline __attribute__((always_inline)) void emulate_shadow_mmio(struct vcpu *vcpu, u64 gva,
									 u64 gpa, bool via_cached_spte)
{
	struct vm *vm = vcpu->vm;
	vm->stats.counters[via_cached_spte ? HC_STAT_MMIO_CACHED : HC_STAT_MMIO_SLOW]++;
	/* The #PF came from the shadow tables, which the CPU walks in host memory: gva, its
	 * linear address, is what translates to gpa. */
	struct mmio_exit exit = {
		.gpa = gpa, .linear = gva, .translation_known = true,
		.no_doorbell = via_cached_spte && !fast_mmio_page_has_doorbell(&vm->fast_mmio_bus, gpa),
	};
	if (exit.no_doorbell && emulate_mmio_site(vcpu, &exit))
		return;
	emulate_mmio(vcpu, &exit);
}

/* RSVD = 1: an MMIO spte, the shadow MMU's counterpart of an EPT misconfiguration. */
static void handle_mmio_spte_fault(struct vcpu *vcpu, u64 gva, u32 error_code)
{
	struct vm *vm = vcpu->vm;
	struct shadow_fault fault;
	enum mmu_fault_result result = mmu_shadow_mmio_fault(&vm->mmu, &vcpu->mmu, gva, error_code,
							     &fault);
	bool delivering = requeue_interrupted_event(vcpu);
	if (result != MMU_FAULT_MMIO)
		vm->stats.counters[HC_STAT_MMIO_STALE]++;	/* retried */
	else if (unlikely(delivering))
		delivery_through_mmio(vcpu, fault.gpa);
	else
		emulate_shadow_mmio(vcpu, gva, fault.gpa, true);
}

/* Any other #PF: the guest's tables decide. Out of line, so the MMIO path stays short. */
static __attribute__((noinline)) void handle_guest_table_fault(struct vcpu *vcpu, u64 gva,
							       u32 error_code)
{
	bool delivering = requeue_interrupted_event(vcpu);
	struct shadow_fault fault;
	struct vm *vm = vcpu->vm;
	/* EFLAGS.AC counts for explicit accesses only: event delivery's are implicit. */
	bool smap = !delivering && vcpu->mmu.shadow.paging.smap && smap_allowed();
	enum mmu_fault_result result = mmu_shadow_page_fault(&vm->mmu, &vcpu->mmu, gva, error_code,
							     smap, &fault);
	switch (result) {
	case MMU_FAULT_MAPPED:
	case MMU_FAULT_RETRY:
		return;
	case MMU_FAULT_GUEST:
		reflect_page_fault(vcpu, delivering, gva, fault.error_code);
		return;
	case MMU_FAULT_MMIO:
		if (delivering)
			delivery_through_mmio(vcpu, fault.gpa);
		else
			emulate_shadow_mmio(vcpu, gva, fault.gpa, false);
		return;
	case MMU_FAULT_EMULATE:
		if (!delivering)
			emulate_page_table_write(vcpu, gva, fault.gpa);
		else if (!mmu_shadow_unprotect(&vm->mmu, gpa_to_gfn(fault.gpa)))
			vm_stop(vm, VM_STATUS_FAULT, "event delivery writes gpa %#llx in a way Vireo "
				"cannot emulate", (unsigned long long)fault.gpa);
		/* else event delivery wrote a page table (its stack is one): no longer shadowed */
		return;
	case MMU_FAULT_TABLE_NOT_RAM:
		vm_stop(vm, VM_STATUS_FAULT, "a guest page table at gpa %#llx is not in RAM",
			(unsigned long long)fault.gpa);
		return;
	default:
		vm_stop(vm, VM_STATUS_FAULT, "out of hypervisor memory for shadow page tables at "
			"linear address %#llx", (unsigned long long)gva);
		return;
	}
}

void handle_shadow_page_fault(struct vcpu *vcpu)
{
	u64 gva = vmcs_readnat(VMCS_EXIT_QUALIFICATION);	/* the linear address (CR2 is not written) */
	u32 error_code = vmcs_read32(VMCS_EXIT_INTERRUPTION_ERROR_CODE);
	if (error_code & GUEST_PF_RSVD)
		handle_mmio_spte_fault(vcpu, gva, error_code);
	else
		handle_guest_table_fault(vcpu, gva, error_code);
}

/* The VM-exit instruction information of INVEPT, INVPCID and INVVPID (SDM Vol. 3C
 * 28.2.5): a memory operand (displacement in the exit qualification) and a register. */
#define INSN_INFO_SCALE(i) ((i) & 3)
#define INSN_INFO_ADDRESS_SIZE(i) (((i) >> 7) & 7)	/* 0: 16-bit, 1: 32-bit, 2: 64-bit */
#define INSN_INFO_SEGMENT(i) (((i) >> 15) & 7)
#define INSN_INFO_INDEX(i) (((i) >> 18) & 0xf)
#define INSN_INFO_INDEX_INVALID BIT(22)
#define INSN_INFO_BASE(i) (((i) >> 23) & 0xf)
#define INSN_INFO_BASE_INVALID BIT(27)
#define INSN_INFO_REG2(i) (((i) >> 28) & 0xf)
#define SEGMENT_FS 4

/* The linear address of the exiting instruction's memory operand. In 64-bit mode only FS
 * and GS have a base; outside it, segment limits are not checked. */
static u64 exit_memory_operand(struct vcpu *vcpu, u32 info)
{
	u64 offset = exit_qualification(vcpu);
	if (!(info & INSN_INFO_BASE_INVALID))
		offset += exit_gpr_read(vcpu, INSN_INFO_BASE(info));
	if (!(info & INSN_INFO_INDEX_INVALID))
		offset += exit_gpr_read(vcpu, INSN_INFO_INDEX(info)) << INSN_INFO_SCALE(info);
	switch (INSN_INFO_ADDRESS_SIZE(info)) {
	case 0: offset &= 0xffff; break;
	case 1: offset &= 0xffffffff; break;
	}
	unsigned segment = INSN_INFO_SEGMENT(info);	/* ES, CS, SS, DS, FS, GS */
	bool long_mode = guest_in_64bit_mode();
	if (long_mode && segment < SEGMENT_FS)
		return offset;
	u64 linear = vmcs_read_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_BASE, segment)) + offset;
	return long_mode ? linear : (u32)linear;
}

/*
 * INVPCID (shown to shadow guests where the CPU has it; it exits with INVLPG exiting).
 * The #GP cases are the SDM's (Vol. 2A, INVPCID); CPL > 0 faults before the exit. One
 * address (type 0) goes as INVLPG's does, from the current tree and the kept roots'; a
 * PCID or all of them (types 1-3) are a sync of every unsync page, which leaves no root
 * stale: more than type 1 asks, as a flush may always be.
 */
enum { INVPCID_ADDRESS, INVPCID_SINGLE, INVPCID_ALL_GLOBAL, INVPCID_ALL };
#define INVPCID_DESC_RESERVED BITS(63, 12)

void handle_invpcid(struct vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_EXIT_INSTRUCTION_INFO);
	u64 type = exit_gpr_read(vcpu, INSN_INFO_REG2(info));
	struct { u64 pcid, linear; } desc;
	if (!guest_in_64bit_mode())
		type = (u32)type;
	if (type > INVPCID_ALL) {
		inject_gp(vcpu);
		return;
	}
	if (!vcpu_read_linear(vcpu, exit_memory_operand(vcpu, info), &desc, sizeof(desc)))
		return;
	bool pcide = vcpu_guest_cr4(vcpu) & CR4_PCIDE;
	if ((desc.pcid & INVPCID_DESC_RESERVED) ||
	    (type <= INVPCID_SINGLE && !pcide && desc.pcid) ||
	    (type == INVPCID_ADDRESS && !is_canonical(desc.linear, LINEAR_BITS_4LEVEL))) {
		inject_gp(vcpu);
		return;
	}
	if (type == INVPCID_ADDRESS)
		mmu_shadow_invlpg(&vcpu->vm->mmu, &vcpu->mmu, desc.linear);
	else
		mmu_shadow_sync(&vcpu->vm->mmu);
	skip_instruction(vcpu);
}

/* INVLPG: the shadow is kept in sync with the guest's tables, so only the TLB entry must
 * go; the MMU drops the leaf too and flushes before the next entry. */
void handle_invlpg(struct vcpu *vcpu)
{
	mmu_shadow_invlpg(&vcpu->vm->mmu, &vcpu->mmu, exit_qualification(vcpu));
	skip_instruction(vcpu);
}
