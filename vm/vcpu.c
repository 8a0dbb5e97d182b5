/* vCPU creation: the VMCS control fields for this VM and the guest state each entry mode
 * asks for (multiboot v1: 32-bit protected mode, paging off; ELF64, bzImage: long mode). */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "core/layout.h"
#include "drivers/vdev.h"
#include "lib/string.h"
#include "vm/vm_internal.h"
#include "vmexit/vmexit.h"

/* Segment access rights (SDM Vol. 3C 25.4.1, table 25-2). */
#define AR_CODE32 0xc09bu	/* present, DPL0, code exec/read accessed, D=1, G=1 */
#define AR_CODE64 0xa09bu	/* as above with L=1, D=0 */
#define AR_DATA 0xc093u		/* present, DPL0, data read/write accessed, B=1, G=1 */
#define AR_TSS_BUSY 0x008bu	/* present, busy 32/64-bit TSS */
#define AR_UNUSABLE 0x10000u
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define PAT_RESET_VALUE 0x0007040600070406ull
#define DR7_RESET_VALUE 0x400ull
#define VMCS_LINK_NONE (~0ull)

struct segment { u16 selector; u32 ar; };

static void write_segment(u32 selector_field, struct segment s)
{
	u32 n = (selector_field - VMCS_GUEST_ES_SELECTOR) / 2;	/* the segment's number */
	vmcs_write_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_SELECTOR, n), s.selector);
	vmcs_write_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_BASE, n), 0);
	vmcs_write_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_LIMIT, n), 0xffffffffu);
	vmcs_write_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_AR, n), s.ar);
}

static void write_segments(bool long_mode)
{
	struct segment data = { SEL_DATA, AR_DATA };
	write_segment(VMCS_GUEST_CS_SELECTOR, (struct segment){ SEL_CODE, long_mode ? AR_CODE64 : AR_CODE32 });
	write_segment(VMCS_GUEST_SS_SELECTOR, data);
	write_segment(VMCS_GUEST_DS_SELECTOR, data);
	write_segment(VMCS_GUEST_ES_SELECTOR, data);
	write_segment(VMCS_GUEST_FS_SELECTOR, data);
	write_segment(VMCS_GUEST_GS_SELECTOR, data);
	vmcs_write16(VMCS_GUEST_TR_SELECTOR, 0);
	vmcs_writenat(VMCS_GUEST_TR_BASE, 0);
	vmcs_write32(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmcs_write32(VMCS_GUEST_TR_AR, AR_TSS_BUSY);
	vmcs_write16(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmcs_writenat(VMCS_GUEST_LDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_LDTR_LIMIT, 0);
	vmcs_write32(VMCS_GUEST_LDTR_AR, AR_UNUSABLE);
	vmcs_writenat(VMCS_GUEST_GDTR_BASE, long_mode ? GUEST_GDT_GPA : 0);
	vmcs_write32(VMCS_GUEST_GDTR_LIMIT, long_mode ? GUEST_GDT_BYTES - 1 : 0);
	vmcs_writenat(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_IDTR_LIMIT, 0);
}

static bool write_control_registers(struct vcpu *vcpu, bool long_mode)
{
	vcpu->cr0_shadow = CR0_PE | CR0_ET | (long_mode ? CR0_PG | CR0_NE : 0);
	vcpu->cr4_shadow = long_mode ? CR4_PAE : 0;
	vmcs_writenat(VMCS_CR0_GUEST_HOST_MASK, vcpu_cr0_forced_mask());
	vmcs_writenat(VMCS_CR4_GUEST_HOST_MASK, vcpu_cr4_forced_mask());
	vmcs_writenat(VMCS_CR0_READ_SHADOW, vcpu->cr0_shadow);
	vmcs_writenat(VMCS_CR4_READ_SHADOW, vcpu->cr4_shadow);
	vmcs_writenat(VMCS_GUEST_CR0, vcpu_cr0_actual(vcpu->cr0_shadow));
	vmcs_writenat(VMCS_GUEST_CR4, vcpu_cr4_actual(vcpu->cr4_shadow, vcpu->cr0_shadow));
	vcpu_write_efer(vcpu, long_mode ? EFER_LME | EFER_LMA : 0);
	u64 cr3 = long_mode ? GUEST_PML4_GPA : 0;
	if (vcpu_shadow_paging(vcpu))
		return shadow_paging_update(vcpu, cr3, true);
	vcpu_write_guest_cr3_ept(vcpu, cr3);
	return true;
}

/* The shadow MMU sees every guest #PF, MOV to or from CR3 and INVLPG. */
#define SHADOW_PROC_EXITS (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING | \
			   CPU_BASED_INVLPG_EXITING)

static void write_controls(struct vcpu *vcpu, bool long_mode)
{
	const struct vmx_controls *c = &vmx_controls;
	vmcs_write32(VMCS_PIN_CONTROLS, c->pin);
	if (c->pin & PIN_BASED_PREEMPTION_TIMER)	/* bounded once a device timer is armed */
		vmcs_write32(VMCS_PREEMPTION_TIMER_VALUE, (u32)PREEMPTION_TIMER_MAX);
	vcpu->proc_controls = c->proc | (vcpu_shadow_paging(vcpu) ? SHADOW_PROC_EXITS : 0);
	vmcs_write32(VMCS_PROC_CONTROLS, vcpu->proc_controls);
	vmcs_write32(VMCS_PROC_CONTROLS2, c->proc2);
	vmcs_write32(VMCS_EXIT_CONTROLS, c->exit);
	vmcs_write32(VMCS_ENTRY_CONTROLS, c->entry | (long_mode ? ENTRY_IA32E_MODE_GUEST : 0));
	/* #AC and #DB always exit: one whose delivery raises it again would otherwise loop
	 * inside the CPU, where no timer or interrupt ends it (CVE-2015-5307, CVE-2015-8104;
	 * vmexit/vmexit.c). */
	vmcs_write32(VMCS_EXCEPTION_BITMAP, BIT(X86_EXC_AC) | BIT(X86_EXC_DB) |
		     (vcpu_shadow_paging(vcpu) ? BIT(X86_EXC_PF) : 0));
	vmcs_write32(VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_write32(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, 0);
	vmcs_write64(VMCS_LINK_POINTER, VMCS_LINK_NONE);
	if (c->proc2 & SECONDARY_EPT)
		vmcs_write64(VMCS_EPT_POINTER, mmu_eptp(&vcpu->vm->mmu));
	if (c->proc & CPU_BASED_TSC_OFFSETTING)
		vmcs_write64(VMCS_TSC_OFFSET, 0);
	if (c->proc2 & SECONDARY_VPID)
		vmcs_write16(VMCS_VPID, vcpu->vm->id + 1);
	vmexit_write_bitmaps();
}

static bool write_guest_state(struct vcpu *vcpu, const struct guest_entry *entry)
{
	bool long_mode = entry->mode == GUEST_ENTRY_LONG64;
	write_segments(long_mode);
	if (!write_control_registers(vcpu, long_mode))
		return false;
	vcpu->pat = PAT_RESET_VALUE;
	if (vmx_controls.entry & ENTRY_LOAD_PAT)
		vmcs_write64(VMCS_GUEST_PAT, vcpu->pat);
	vmcs_writenat(VMCS_GUEST_DR7, DR7_RESET_VALUE);
	vmcs_writenat(VMCS_GUEST_RSP, 0);
	vmcs_writenat(VMCS_GUEST_RIP, entry->rip);
	vmcs_writenat(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_writenat(VMCS_GUEST_PENDING_DEBUG, 0);
	vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write32(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_writenat(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write64(VMCS_GUEST_DEBUGCTL, 0);
	vcpu->regs.gpr[X86_RAX] = entry->rax;
	vcpu->regs.gpr[X86_RBX] = entry->rbx;
	vcpu->regs.gpr[X86_RDI] = entry->rdi;
	vcpu->regs.gpr[X86_RSI] = entry->rsi;
	return true;
}

/* What this CPU cannot run, said in terms of what the guest needs. */
static const char *missing_feature(const struct guest_entry *entry)
{
	if (vm_defaults.shadow_paging)
		return NULL;	/* paging off runs on a direct shadow; EFER: vcpu_write_efer() */
	u32 efer_switching = EXIT_SAVE_EFER | EXIT_LOAD_EFER;
	if ((vmx_controls.exit & efer_switching) != efer_switching ||
	    !(vmx_controls.entry & ENTRY_LOAD_EFER))
		return "this CPU's VMX cannot switch IA32_EFER on entry and exit, which its guests need";
	return NULL;	/* paging off without unrestricted guest: the identity map */
}

const char *vcpu_create(struct vcpu *vcpu, struct vm *vm, const struct guest_entry *entry)
{
	const char *missing = missing_feature(entry);
	if (missing)
		return missing;
	vcpu->vm = vm;
	if (vcpu_shadow_paging(vcpu)) {
		const char *error = mmu_shadow_vcpu_init(&vm->mmu, &vcpu->mmu);
		if (error)
			return error;
	}
	vcpu->vmcs_hpa = vmcs_create();
	if (!vcpu->vmcs_hpa)
		return "no memory for its VMCS";
	vcpu->apic_base = APIC_BASE_DEFAULT;
	msr_vcpu_reset(vcpu);
	vcpu->slice_end = VTIMER_IDLE;
	unswitched_state_reset(&vcpu->unswitched);
	vmcs_write_host_state();
	write_controls(vcpu, entry->mode == GUEST_ENTRY_LONG64);
	if (!write_guest_state(vcpu, entry))
		return "no memory for its shadow page tables";
	return NULL;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	vcpu_forget_cpu(vcpu);
	if (vcpu->vm && vcpu_shadow_paging(vcpu))
		mmu_shadow_vcpu_destroy(&vcpu->vm->mmu, &vcpu->mmu);
	if (vcpu->vmcs_hpa)
		vmcs_destroy(vcpu->vmcs_hpa);
	vcpu->vmcs_hpa = 0;
}
