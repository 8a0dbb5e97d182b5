/* vmexit/: the exit dispatch table, one handler per exit reason, the buses. Exit details
 * are read from the VMCS lazily and at most once per exit (the hot path counts VMREADs). */
#ifndef VIREO_VMEXIT_VMEXIT_H
#define VIREO_VMEXIT_VMEXIT_H

#include "arch/x86/cpu.h"
#include "arch/x86/emulate.h"
#include "arch/x86/vmx.h"
#include "arch/x86/x86.h"
#include "core/vm.h"

#define APIC_BASE_DEFAULT 0xfee00900ull	/* base 0xfee00000, enabled, BSP */
/* Segment access-rights bits (SDM Vol. 3C table 25-2). */
#define CS_AR_LONG BIT(13)
#define CS_AR_DEFAULT_BIG BIT(14)
#define SEGMENT_AR_DPL(ar) (((ar) >> 5) & 3)
/* The guest runs 64-bit code (VM entry allows CS.L only in IA-32e mode): registers are
 * 64-bit operands, elsewhere 32-bit ones. */
static inline bool guest_in_64bit_mode(void)
{
	return vmcs_read32(VMCS_GUEST_CS_AR) & CS_AR_LONG;
}

/* The guest's CPL: SS.DPL (the VMCS keeps no CPL of its own). */
static inline unsigned guest_cpl(void)
{
	return SEGMENT_AR_DPL(vmcs_read32(VMCS_GUEST_SS_AR));
}

/* Allocates the MSR and I/O bitmaps shared by every VM; NULL or why not. */
const char *vmexit_init(void);
void vmexit_write_bitmaps(void);
const char *exit_reason_name(u32 reason);

/* What ends guest runs at deadlines (vmexit/run_bound.c): chosen after vmx_init(); set
 * before an entry to end the run no later than earliest (host TSC, the platform clock);
 * told of an external-interrupt exit for host_vector (the host timer's is acknowledged). */
void run_bounds_init(void);
void run_bound_set(u64 earliest, u64 now);
void run_bound_expired(u8 host_vector);

static inline void exit_info_reset(struct vcpu *vcpu)
{
	vcpu->exit.have = 0;
}

static inline u64 exit_qualification(struct vcpu *vcpu)
{
	if (!(vcpu->exit.have & EXIT_HAVE_QUALIFICATION)) {
		vcpu->exit.qualification = vmcs_readnat(VMCS_EXIT_QUALIFICATION);
		vcpu->exit.have |= EXIT_HAVE_QUALIFICATION;
	}
	return vcpu->exit.qualification;
}

static inline u32 exit_instruction_length(struct vcpu *vcpu)
{
	if (!(vcpu->exit.have & EXIT_HAVE_INSTRUCTION_LENGTH)) {
		vcpu->exit.instruction_length = vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH);
		vcpu->exit.have |= EXIT_HAVE_INSTRUCTION_LENGTH;
	}
	return vcpu->exit.instruction_length;
}

static inline u64 guest_rip(struct vcpu *vcpu)
{
	if (!(vcpu->exit.have & EXIT_HAVE_RIP)) {
		vcpu->exit.rip = vmcs_readnat(VMCS_GUEST_RIP);
		vcpu->exit.have |= EXIT_HAVE_RIP;
	}
	return vcpu->exit.rip;
}

static inline void set_guest_rip(struct vcpu *vcpu, u64 rip)
{
	vmcs_writenat(VMCS_GUEST_RIP, rip);
	vcpu->exit.rip = rip;
	vcpu->exit.have |= EXIT_HAVE_RIP;
}

/* A GPR an exit names (MOV CR, MOV DR): RSP lives in the VMCS while the guest runs, not
 * in vcpu->regs (which holds it only around instruction emulation). */
static inline u64 exit_gpr_read(const struct vcpu *vcpu, unsigned reg)
{
	return reg == X86_RSP ? vmcs_readnat(VMCS_GUEST_RSP) : vcpu->regs.gpr[reg];
}

static inline void exit_gpr_write(struct vcpu *vcpu, unsigned reg, u64 value)
{
	if (reg == X86_RSP)
		vmcs_writenat(VMCS_GUEST_RSP, value);
	else
		vcpu->regs.gpr[reg] = value;
}

#define INTERRUPTIBILITY_STI_MOVSS (BIT(0) | BIT(1))
#define INTERRUPTIBILITY_NMI BIT(3)
#define PENDING_DEBUG_BS BIT(14)	/* single step (SDM Vol. 3C 25.4.2, table 25-4) */

/*
 * After an instruction Vireo completed for the guest (skipped or emulated), what the CPU
 * would have done at its end: blocking by STI or MOV SS, which lasts one instruction,
 * ends; and if RFLAGS.TF was set when it began, the single-step trap is made pending, so
 * the CPU delivers #DB with DR6.BS right after VM entry (SDM Vol. 3C 25.4.2).
 */
static inline void instruction_completed(u64 rflags_before)
{
	u32 interruptibility = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
	if (unlikely(interruptibility & INTERRUPTIBILITY_STI_MOVSS))
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY,
			     interruptibility & ~INTERRUPTIBILITY_STI_MOVSS);
	if (unlikely(rflags_before & RFLAGS_TF))
		vmcs_writenat(VMCS_GUEST_PENDING_DEBUG,
			      vmcs_readnat(VMCS_GUEST_PENDING_DEBUG) | PENDING_DEBUG_BS);
}

/* Moves past the exiting instruction. */
static inline void skip_instruction_by(struct vcpu *vcpu, u32 length)
{
	set_guest_rip(vcpu, guest_rip(vcpu) + length);
	instruction_completed(vmcs_readnat(VMCS_GUEST_RFLAGS));
}

static inline void skip_instruction(struct vcpu *vcpu)
{
	skip_instruction_by(vcpu, exit_instruction_length(vcpu));
}

/* skip_instruction() for handlers that end with it: nothing reads the exit's cached
 * fields afterwards, so the VMCS is read and written without caching. */
static inline void finish_by_skipping(struct vcpu *vcpu)
{
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	vmcs_writenat(VMCS_GUEST_RIP, rip + vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH));
	vcpu->exit.have = 0;
	instruction_completed(vmcs_readnat(VMCS_GUEST_RFLAGS));
}

typedef void (*exit_handler)(struct vcpu *vcpu);
/* Indexed by basic exit reason; exit_unhandled() where Vireo has no handler. */
extern const exit_handler exit_handlers[EXIT_REASON_COUNT];
/* Reports an exit nobody handles and stops the VM. */
void exit_unhandled(struct vcpu *vcpu);

/* Counts the exit, then hands it to its handler. Inline: it runs on every exit. */
static inline void vmexit_dispatch(struct vcpu *vcpu, u32 reason)
{
	struct vm_stats *stats = &vcpu->vm->stats;
	exit_info_reset(vcpu);
	stats->counters[HC_STAT_EXITS]++;
	if (unlikely(reason >= EXIT_REASON_COUNT)) {
		exit_unhandled(vcpu);
		return;
	}
	stats->exits[reason]++;
	exit_handlers[reason](vcpu);
}

/* Puts the MSRs vmexit/msr.c emulates (struct vcpu_msrs) in their reset state. */
void msr_vcpu_reset(struct vcpu *vcpu);

/* Event injection at the next VM entry. */
void inject_exception(struct vcpu *vcpu, u8 vector, bool has_error_code, u32 error_code);
static inline void inject_gp(struct vcpu *vcpu) { inject_exception(vcpu, X86_EXC_GP, true, 0); }
static inline void inject_ud(struct vcpu *vcpu) { inject_exception(vcpu, X86_EXC_UD, false, 0); }
void inject_page_fault(struct vcpu *vcpu, u64 address, u32 error_code);
/* Writes the pending event into the VM-entry fields; called right before VM entry. */
void inject_pending_event(struct vcpu *vcpu);
/* Decides what the next entry delivers (VCPU_REQ_EVENTS was set): a pending exception
 * first, then an NMI, then an external interrupt, each when the guest can take it, and
 * the window exits that tell when it can. Wakes a halted vCPU that has something. */
void deliver_events(struct vcpu *vcpu);
/* Whether a halted vCPU has something that ends its HLT (any VMCS may be loaded). */
bool vcpu_has_wake_event(struct vcpu *vcpu);
/* Sets and clears bits of the primary processor-based controls. */
void vcpu_update_proc_controls(struct vcpu *vcpu, u32 set, u32 clear);
/* requeue_interrupted_event()'s work, once the IDT-vectoring information is valid. */
void requeue_event(struct vcpu *vcpu, u32 idt_vectoring_info);
/* An exit during event delivery (e.g. an EPT violation on the guest's IDT or stack) leaves
 * the event undelivered: queued again for the next entry (SDM Vol. 3C 28.2.4, 29.2.1).
 * Inline: every MMIO exit asks. */
static inline bool requeue_interrupted_event(struct vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_IDT_VECTORING_INFO);
	if (likely(!(info & INTR_INFO_VALID)))
		return false;
	requeue_event(vcpu, info);
	return true;
}

/* CR0/CR4 bits VMX forces on and off; the guest sees its own values through the read
 * shadows. Set once by cr_masks_init() (vmexit/cr.c). */
struct cr_forced_bits {
	u64 cr0_on, cr0_off, cr4_on, cr4_off;
	/* Owned by Vireo although VMX leaves them free: CR0.PG always (EFER.LMA follows
	 * it), and on the shadow MMU the bits it depends on. */
	u64 cr0_owned, cr4_owned;
	/* on | off | owned: the guest/host masks, the bits the read shadows hold. */
	u64 cr0_mask, cr4_mask;
	/* EPT without unrestricted guest: a guest with paging off runs on the identity map
	 * (GUEST_IDENTITY_PD_GPA, core/layout.h) with paging on in the CPU. */
	bool identity_map;
};
extern struct cr_forced_bits cr_forced;

static inline u64 vcpu_cr0_forced_mask(void) { return cr_forced.cr0_mask; }
static inline u64 vcpu_cr4_forced_mask(void) { return cr_forced.cr4_mask; }
/* The values the CPU runs the guest with, from the guest's own. */
u64 vcpu_cr0_actual(u64 guest_cr0);
u64 vcpu_cr4_actual(u64 guest_cr4, u64 guest_cr0);

/* The guest's view of its control registers, assembled from the VMCS: the bits it owns
 * change without exits, the rest are in the read shadows. */
static inline u64 vcpu_guest_cr0(const struct vcpu *vcpu)
{
	u64 mask = vcpu_cr0_forced_mask();
	return (vmcs_readnat(VMCS_GUEST_CR0) & ~mask) | (vcpu->cr0_shadow & mask);
}

static inline u64 vcpu_guest_cr4(const struct vcpu *vcpu)
{
	u64 mask = vcpu_cr4_forced_mask();
	return (vmcs_readnat(VMCS_GUEST_CR4) & ~mask) | (vcpu->cr4_shadow & mask);
}
static inline u64 vcpu_guest_efer(const struct vcpu *vcpu) { return vcpu->efer; }
/* Sets the guest's EFER, with the IA-32e mode entry control following EFER.LMA. */
void vcpu_write_efer(struct vcpu *vcpu, u64 efer);

static inline bool vcpu_shadow_paging(const struct vcpu *vcpu)
{
	return vcpu->vm->mmu.shadow.enabled;
}

/* Whether the CPU runs this vCPU's paging-off guest on the identity map just now. */
static inline bool vcpu_on_identity_map(const struct vcpu *vcpu)
{
	return cr_forced.identity_map && !(vcpu->cr0_shadow & CR0_PG);
}

/* The guest's CR3: on the shadow MMU the CPU's CR3 holds the shadow root instead, and on
 * the identity map the identity page directory. */
static inline u64 vcpu_guest_cr3(const struct vcpu *vcpu)
{
	if (vcpu_shadow_paging(vcpu))
		return vcpu->mmu.shadow.paging.cr3;
	if (vcpu_on_identity_map(vcpu))
		return vcpu->cr3_paging_off;
	return vmcs_readnat(VMCS_GUEST_CR3);
}
/* The guest's MOV to CR3 (or its initial CR3) under EPT, once checked. */
void vcpu_write_guest_cr3_ept(struct vcpu *vcpu, u64 cr3);

/* ---- the shadow MMU's side of the exits (vmexit/shadow.c) ---- */

/* The guest's paging state changed, or may have (MOV CR3, CR0, CR4, EFER): loads the
 * root for it when anything that shapes the shadow changed, or always when force. false:
 * MOV CR3 must #GP (a PAE guest's PDPTE with reserved bits), or the VM was stopped. */
bool shadow_paging_update(struct vcpu *vcpu, u64 cr3, bool force);
bool shadow_cr3_write(struct vcpu *vcpu, u64 cr3, bool keep_tlb);
/* The entry work of a shadow vCPU with MMU requests pending (vm/run.c): a zapped root
 * reloaded, the TLB flushed; false: the VM stopped. */
bool shadow_before_entry(struct vcpu *vcpu);
void handle_shadow_page_fault(struct vcpu *vcpu);
/* Emulates a guest store to one of its shadowed page tables, at linear (which the fault's
 * walk translated to gpa for a write); if the emulator cannot, the table stops being
 * shadowed and the guest re-runs the store itself. */
void emulate_page_table_write(struct vcpu *vcpu, u64 linear, u64 gpa);
/* Prints the guest's registers and control state on the console (for stop reports). */
void vcpu_dump_state(struct vcpu *vcpu);

/* Exits by reason, MMIO paths, emulated instructions: one block on the console. */
void vm_print_stats(const struct vm *vm);

/* Emulates the instruction at the guest's RIP (string port I/O, or an MMIO access). */
void emulate_instruction(struct vcpu *vcpu);
/*
 * What an exit on MMIO says, and no more. gpa is always MMIO, but the access that exited
 * there may be the instruction's data access or the CPU's own read of a guest page table
 * on its way to it: an EPT misconfiguration does not say which. translation_known: the
 * exit says it was the translation of linear (an EPT violation's qualification bits 7 and
 * 8 with the guest-linear address, or a shadow #PF's CR2), so linear's page maps to gpa's.
 * no_doorbell: gpa's page has a cached MMIO spte, which doorbell pages never get.
 */
struct mmio_exit {
	u64 gpa;
	u64 linear;
	bool translation_known;
	bool no_doorbell;
};
/* Emulates the instruction at RIP after an MMIO exit: accesses in the exit's linear page
 * need no guest walk when its translation is known, others are walked. */
void emulate_mmio(struct vcpu *vcpu, const struct mmio_exit *exit);
/* The lean path for a cached MMIO spte: the vCPU's MMIO site (core/vm.h), if it still
 * applies and provably made this exit; false: take emulate_mmio(). */
bool emulate_mmio_site(struct vcpu *vcpu, const struct mmio_exit *exit);
/* A data read at a guest linear address, as the exiting instruction makes it (INVPCID's
 * descriptor): through the guest's tables, a fault injected. false: it faulted, or the
 * guest's tables changed under the walk (the instruction then runs again). */
bool vcpu_read_linear(struct vcpu *vcpu, u64 linear, void *buf, unsigned len);
/* The length of the instruction at RIP, from the decoder's length-only path; 0 if unknown. */
unsigned emulator_instruction_length(struct vcpu *vcpu);
/* fast_mmio_length=: skip doorbell writes by the VM-exit length (else the decoder). */
extern bool fast_mmio_use_exit_length;

#endif
