/* Exit dispatch: a table of handlers indexed by basic exit reason. Every exit is counted
 * before it is handled; an exit without a handler stops the VM with a report. */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vmexit/handlers.h"

static const char *const exit_names[EXIT_REASON_COUNT] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault", [EXIT_REASON_INIT] = "INIT signal",
	[EXIT_REASON_SIPI] = "SIPI", [EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window", [EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID", [EXIT_REASON_GETSEC] = "GETSEC", [EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD", [EXIT_REASON_INVLPG] = "INVLPG", [EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC", [EXIT_REASON_RSM] = "RSM", [EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_VMCLEAR] = "VMCLEAR", [EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
	[EXIT_REASON_VMPTRLD] = "VMPTRLD", [EXIT_REASON_VMPTRST] = "VMPTRST",
	[EXIT_REASON_VMREAD] = "VMREAD", [EXIT_REASON_VMRESUME] = "VMRESUME",
	[EXIT_REASON_VMWRITE] = "VMWRITE", [EXIT_REASON_VMXOFF] = "VMXOFF",
	[EXIT_REASON_VMXON] = "VMXON", [EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction", [EXIT_REASON_RDMSR] = "RDMSR",
	[EXIT_REASON_WRMSR] = "WRMSR", [EXIT_REASON_INVALID_GUEST_STATE] = "invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "MSR loading", [EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag", [EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE", [EXIT_REASON_MACHINE_CHECK] = "machine check",
	[EXIT_REASON_TPR_BELOW] = "TPR below threshold", [EXIT_REASON_APIC_ACCESS] = "APIC access",
	[EXIT_REASON_VIRTUALIZED_EOI] = "virtualized EOI",
	[EXIT_REASON_GDTR_IDTR] = "GDTR/IDTR access", [EXIT_REASON_LDTR_TR] = "LDTR/TR access",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration", [EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP", [EXIT_REASON_PREEMPTION_TIMER] = "preemption timer",
	[EXIT_REASON_INVVPID] = "INVVPID", [EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV", [EXIT_REASON_APIC_WRITE] = "APIC write",
	[EXIT_REASON_RDRAND] = "RDRAND", [EXIT_REASON_INVPCID] = "INVPCID",
	[EXIT_REASON_VMFUNC] = "VMFUNC", [EXIT_REASON_ENCLS] = "ENCLS", [EXIT_REASON_RDSEED] = "RDSEED",
	[EXIT_REASON_PML_FULL] = "page-modification log full", [EXIT_REASON_XSAVES] = "XSAVES",
	[EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *exit_reason_name(u32 reason)
{
	if (reason < EXIT_REASON_COUNT && exit_names[reason])
		return exit_names[reason];
	return "unknown exit reason";
}

static void handle_triple_fault(struct vcpu *vcpu)
{
	vcpu_dump_state(vcpu);
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "triple fault (the guest's exception handling failed)");
}

/* Acknowledged on exit (acknowledge-interrupt-on-exit), so it cannot fire again at the
 * next entry. The host takes no device interrupts: only its timer, which bounded this run,
 * sends any. */
static void handle_external_interrupt(struct vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTERRUPTION_INFO);
	if (info & INTR_INFO_VALID)
		run_bound_expired((u8)(info & INTR_INFO_VECTOR_MASK));
	vcpu->slice_bounded = false;	/* the host timer that bounded this run is spent */
}

/*
 * An #AC (intercepted, vm/vcpu.c) is the guest's own and goes back to it, with its error
 * code (always 0, SDM Vol. 3A 6.15). One raised while an #AC was being delivered comes
 * from pushes that are themselves misaligned ring-3 accesses: benign on benign, the CPU
 * would deliver it again forever (SDM Vol. 3A table 6-5), so the VM is stopped instead.
 */
static void handle_alignment_check(struct vcpu *vcpu)
{
	u32 vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);
	if ((vectoring & INTR_INFO_VALID) &&
	    (vectoring & INTR_INFO_VECTOR_MASK) == X86_EXC_AC) {
		vm_stop(vcpu->vm, VM_STATUS_FAULT, "#AC while delivering #AC: the guest's "
			"alignment-check handler can never be reached");
		return;
	}
	inject_exception(vcpu, X86_EXC_AC, true, vmcs_read32(VMCS_EXIT_INTERRUPTION_ERROR_CODE));
}

/*
 * A #DB (intercepted, vm/vcpu.c): the exit qualification holds what the CPU would have
 * put in DR6 (B0-B3, BD, BS; SDM Vol. 3C 28.2.1), DR6 itself is untouched, so it is
 * written here as the CPU would have before the #DB goes back to the guest. A #DB whose
 * delivery raises #DB again (a data breakpoint on the handler's IST stack) now exits each
 * time round, so the scheduler and timeout= can still end that VM.
 */
#define DR6_CAUSE_BITS (0xfull | BIT(13) | BIT(14))	/* B0-B3, BD, BS */

static void handle_debug_exception(struct vcpu *vcpu)
{
	u64 dr6;
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	dr6 = (dr6 & ~DR6_CAUSE_BITS) | (exit_qualification(vcpu) & DR6_CAUSE_BITS);
	asm volatile("mov %0, %%dr6" : : "r"(dr6));
	inject_exception(vcpu, X86_EXC_DB, false, 0);
}

static void handle_exception_or_nmi(struct vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTERRUPTION_INFO);
	/* First, the shadow MMU's every-day exit (an NMI has vector 2: it is not one). */
	if ((info & INTR_INFO_VECTOR_MASK) == X86_EXC_PF && vcpu_shadow_paging(vcpu)) {
		handle_shadow_page_fault(vcpu);
		return;
	}
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
		return;
	if ((info & INTR_INFO_VECTOR_MASK) == X86_EXC_AC) {
		handle_alignment_check(vcpu);
		return;
	}
	if ((info & INTR_INFO_VECTOR_MASK) == X86_EXC_DB) {
		handle_debug_exception(vcpu);
		return;
	}
	exit_unhandled(vcpu);
}

/* With interrupts on the vCPU sleeps until one comes (vm/run.c); with them off only an
 * NMI could end the HLT, and guests halt that way when they are done. */
static void handle_hlt(struct vcpu *vcpu)
{
	bool interrupts_on = vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF;
	skip_instruction(vcpu);
	if (interrupts_on)
		vcpu->halted = true;
	else
		vm_stop(vcpu->vm, 0, "HLT with interrupts disabled: the guest is done");
}

/* The guest can now take the interrupt or NMI it was waiting for. */
static void handle_event_window(struct vcpu *vcpu)
{
	vcpu->requests |= VCPU_REQ_EVENTS;
}

/* A device timer's deadline came: the run loop runs it before the next entry. */
static void handle_preemption_timer(struct vcpu *vcpu)
{
}

/* Instructions the guest may not use here fault as they would on a CPU without them. */
static void handle_undefined(struct vcpu *vcpu)
{
	inject_ud(vcpu);
}

/* INVD, WBINVD: caches are coherent for a guest that owns no devices: nothing to do. */
static void handle_cache_flush(struct vcpu *vcpu)
{
	skip_instruction(vcpu);
}

/*
 * A hardware task switch always exits (SDM Vol. 3C 25.1.2). Vireo does not emulate it
 * (a switch through a TSS: saving and loading every register, segment and CR3, the busy
 * bits, the back link): 64-bit mode has none, and 32-bit kernels that use them (a task
 * gate for #DF) are rare. The VM stops with the source the qualification names (bits
 * 31:30, SDM Vol. 3C table 28-2), never as an unknown exit.
 */
static void handle_task_switch(struct vcpu *vcpu)
{
	static const char *const sources[] = { "a CALL to a TSS", "an IRET with NT set",
					       "a JMP to a TSS", "a task gate in the IDT" };
	u64 qualification = exit_qualification(vcpu);
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "hardware task switch (%s, TSS selector %#llx): Vireo "
		"does not emulate task switches", sources[(qualification >> 30) & 3],
		(unsigned long long)(qualification & 0xffff));
}

/* INIT and SIPI reach a vCPU only through the APIC, which does not send them here. */
static void handle_ignored_signal(struct vcpu *vcpu)
{
}

/* Every reason has an entry, exit_unhandled() unless named below, so dispatch needs no
 * NULL test. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[0 ... EXIT_REASON_COUNT - 1] = exit_unhandled,
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_or_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_INIT] = handle_ignored_signal,
	[EXIT_REASON_SIPI] = handle_ignored_signal,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_undefined,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INTERRUPT_WINDOW] = handle_event_window,
	[EXIT_REASON_NMI_WINDOW] = handle_event_window,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_INVLPG] = handle_invlpg,
	[EXIT_REASON_INVD] = handle_cache_flush,
	[EXIT_REASON_WBINVD] = handle_cache_flush,
	[EXIT_REASON_RDPMC] = handle_rdpmc,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = handle_undefined,
	[EXIT_REASON_VMLAUNCH] = handle_undefined,
	[EXIT_REASON_VMPTRLD] = handle_undefined,
	[EXIT_REASON_VMPTRST] = handle_undefined,
	[EXIT_REASON_VMREAD] = handle_undefined,
	[EXIT_REASON_VMRESUME] = handle_undefined,
	[EXIT_REASON_VMWRITE] = handle_undefined,
	[EXIT_REASON_VMXOFF] = handle_undefined,
	[EXIT_REASON_VMXON] = handle_undefined,
	[EXIT_REASON_INVEPT] = handle_undefined,
	[EXIT_REASON_INVVPID] = handle_undefined,
	[EXIT_REASON_VMFUNC] = handle_undefined,
	[EXIT_REASON_INVPCID] = handle_invpcid,	/* shadow MMU only (INVLPG exiting) */
	[EXIT_REASON_MWAIT] = handle_undefined,
	[EXIT_REASON_MONITOR] = handle_undefined,
	[EXIT_REASON_XSETBV] = handle_undefined,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_RDMSR] = handle_rdmsr,
	[EXIT_REASON_WRMSR] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
};
#pragma GCC diagnostic pop

void exit_unhandled(struct vcpu *vcpu)
{
	u32 reason = vmcs_read32(VMCS_EXIT_REASON) & EXIT_REASON_BASIC_MASK;	/* a cold path */
	printk("vm %s: unhandled exit %u (%s), qualification %#llx\n", vcpu->vm->name, reason,
	       exit_reason_name(reason), (unsigned long long)exit_qualification(vcpu));
	vcpu_dump_state(vcpu);
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "unhandled exit %u (%s)", reason, exit_reason_name(reason));
}

