/* VMX operation: turning VMX on, computing control fields from the capability MSRs, the
 * host-state area, VMCS creation, and readable reports of failed VMX instructions. */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/phys.h"

struct vmx_controls vmx_controls;
extern char vmx_exit_entry[];

struct named_bit {
	u32 bit;
	const char *name;
};

static const struct named_bit pin_names[] = {
	{ PIN_BASED_EXTERNAL_INTERRUPT, "external-interrupt exiting" },
	{ PIN_BASED_NMI_EXITING, "NMI exiting" },
	{ PIN_BASED_PREEMPTION_TIMER, "VMX-preemption timer" },
};
static const struct named_bit proc_names[] = {
	{ CPU_BASED_HLT_EXITING, "HLT exiting" },
	{ CPU_BASED_INVLPG_EXITING, "INVLPG exiting" },
	{ CPU_BASED_MWAIT_EXITING, "MWAIT exiting" },
	{ CPU_BASED_MONITOR_EXITING, "MONITOR exiting" },
	{ CPU_BASED_RDPMC_EXITING, "RDPMC exiting" },
	{ CPU_BASED_CR8_LOAD_EXITING, "CR8-load exiting" },
	{ CPU_BASED_CR8_STORE_EXITING, "CR8-store exiting" },
	{ CPU_BASED_CR3_LOAD_EXITING, "CR3-load exiting" },
	{ CPU_BASED_CR3_STORE_EXITING, "CR3-store exiting" },
	{ CPU_BASED_USE_IO_BITMAPS, "I/O bitmaps" },
	{ CPU_BASED_USE_MSR_BITMAPS, "MSR bitmaps" },
	{ CPU_BASED_SECONDARY_CONTROLS, "secondary controls" },
	{ CPU_BASED_TSC_OFFSETTING, "TSC offsetting" },
};
static const struct named_bit exit_names[] = {
	{ EXIT_HOST_ADDRESS_SPACE_64, "64-bit host" },
	{ EXIT_SAVE_DEBUG_CONTROLS, "save debug controls" },
};
static const struct named_bit entry_names[] = {
	{ ENTRY_LOAD_DEBUG_CONTROLS, "load debug controls" },
};

static const char *first_missing(u32 missing, const struct named_bit *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (missing & names[i].bit)
			return names[i].name;
	return "an unnamed control";
}

/* The value of one control field: required bits must be allowed (else the missing
 * feature is named in *error), optional ones are dropped when not allowed, and the
 * bits the CPU forces to 1 are added. */
static u32 adjust(struct vmx_allowed allowed, u32 required, u32 optional,
		  const struct named_bit *names, size_t n, const char **error)
{
	u32 missing = required & ~allowed.may_be_one;
	if (missing && !*error)
		*error = first_missing(missing, names, n);
	return ((required | optional) & allowed.may_be_one) | allowed.must_be_one;
}

const char *vmx_controls_init(void)
{
	const struct vmx_caps *c = &vmx_caps;
	const char *missing = NULL;
	struct vmx_controls *v = &vmx_controls;
	/* Virtual NMIs give NMI blocking and NMI-window exits: without them guests get no
	 * NMIs. Without the preemption timer, the host's APIC timer ends guest runs. */
	v->pin = adjust(c->pin, PIN_BASED_EXTERNAL_INTERRUPT | PIN_BASED_NMI_EXITING,
			PIN_BASED_PREEMPTION_TIMER | PIN_BASED_VIRTUAL_NMIS, pin_names,
			ARRAY_SIZE(pin_names), &missing);
	/* CR8 is the local APIC's TPR (the guest's, drivers/vlapic.c), not the host's. */
	v->proc = adjust(c->proc, CPU_BASED_HLT_EXITING | CPU_BASED_USE_IO_BITMAPS |
			 CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MWAIT_EXITING |
			 CPU_BASED_MONITOR_EXITING | CPU_BASED_RDPMC_EXITING |
			 CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING,
			 CPU_BASED_SECONDARY_CONTROLS | CPU_BASED_TSC_OFFSETTING, proc_names, ARRAY_SIZE(proc_names), &missing);
	if (v->proc & CPU_BASED_SECONDARY_CONTROLS)
		v->proc2 = adjust(c->proc2, 0, SECONDARY_EPT | SECONDARY_VPID |
				  SECONDARY_UNRESTRICTED_GUEST | SECONDARY_RDTSCP |
				  SECONDARY_INVPCID | SECONDARY_XSAVES, NULL, 0, &missing);
	/* EFER switching is what EPT guests need (vcpu_create() checks it per VM); older CPUs
	 * such as Core 2 lack it, and Vireo must still boot and report on them. */
	/* DR7 and IA32_DEBUGCTL are the guest's: saved at exit, loaded at entry (VMX clears
	 * the host's DR7 to 0x400 at every exit). Every VMX CPU has these controls. */
	v->exit = adjust(c->exit, EXIT_HOST_ADDRESS_SPACE_64 | EXIT_SAVE_DEBUG_CONTROLS,
			 EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
			 EXIT_ACK_INTERRUPT, exit_names, ARRAY_SIZE(exit_names), &missing);
	v->entry = adjust(c->entry, ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
			  entry_names, ARRAY_SIZE(entry_names), &missing);
	return missing;
}

/* CR0/CR4 as VMX operation requires them (SDM Vol. 3D A.7, A.8). */
static u64 fixed_bits(u64 value, u64 fixed0, u64 fixed1)
{
	return (value | fixed0) & fixed1;
}

static u64 vmxon_region_hpa;

const char *vmx_enable(void)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	write_cr0(fixed_bits(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1));
	write_cr4(fixed_bits(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	vmxon_region_hpa = page_alloc_zeroed(0);
	if (!vmxon_region_hpa)
		return "no memory for the VMXON region";
	*(u32 *)phys_to_virt(vmxon_region_hpa) = vmx_caps.revision;
	bool failed;
	asm volatile("vmxon %1" : "=@ccbe"(failed) : "m"(vmxon_region_hpa) : "cc", "memory");
	if (failed)
		return "VMXON failed: VMX may be in use by other software or disabled";
	/* Whatever ran before us (firmware, a previous boot) may have left EPT translations. */
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXTS, 0);
	return NULL;
}

u64 vmcs_create(void)
{
	u64 hpa = page_alloc_zeroed(0);
	if (!hpa)
		return 0;
	*(u32 *)phys_to_virt(hpa) = vmx_caps.revision;
	bool failed;
	asm volatile("vmclear %1" : "=@ccbe"(failed) : "m"(hpa) : "cc", "memory");
	ASSERT(!failed);
	vmcs_load(hpa);
	return hpa;
}

/* vmx_enter()'s record of the current VMCS's HOST_RSP (arch/x86/vmx_entry.S). */
extern u64 host_rsp_in_vmcs;

void vmcs_load(u64 hpa)
{
	bool failed;
	asm volatile("vmptrld %1" : "=@ccbe"(failed) : "m"(hpa) : "cc", "memory");
	ASSERT(!failed);
	host_rsp_in_vmcs = 0;
}

void vmcs_destroy(u64 hpa)
{
	bool failed;
	asm volatile("vmclear %1" : "=@ccbe"(failed) : "m"(hpa) : "cc", "memory");
	ASSERT(!failed);
	page_free(hpa, 0);
}

void vmcs_access_failed(const char *op, u32 field)
{
	panic("%s of VMCS field %#x failed (instruction error %u)", op, field,
	      (u32)vmcs_read_raw(VMCS_INSTRUCTION_ERROR));
}

/* The host-state area: what the CPU loads on every VM exit (SDM Vol. 3C 25.5). */
void vmcs_write_host_state(void)
{
	vmcs_writenat(VMCS_HOST_CR0, read_cr0());
	vmcs_writenat(VMCS_HOST_CR3, read_cr3());
	vmcs_writenat(VMCS_HOST_CR4, read_cr4());
	vmcs_write16(VMCS_HOST_CS_SELECTOR, GDT_SEL_CODE);
	vmcs_write16(VMCS_HOST_SS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(VMCS_HOST_DS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(VMCS_HOST_ES_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_TR_SELECTOR, GDT_SEL_TSS);
	vmcs_writenat(VMCS_HOST_FS_BASE, 0);
	vmcs_writenat(VMCS_HOST_GS_BASE, 0);
	vmcs_writenat(VMCS_HOST_TR_BASE, host_tss_base());
	vmcs_writenat(VMCS_HOST_GDTR_BASE, host_gdt_base());
	vmcs_writenat(VMCS_HOST_IDTR_BASE, host_idt_base());
	vmcs_write32(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_writenat(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_HOST_SYSENTER_EIP, 0);
	if (vmx_controls.exit & EXIT_LOAD_EFER)	/* Core 2 has neither the control nor the field */
		vmcs_write64(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_controls.exit & EXIT_LOAD_PAT)
		vmcs_write64(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_writenat(VMCS_HOST_RIP, (u64)vmx_exit_entry);
}

/* VM-instruction error numbers (SDM Vol. 3C 31.4). */
static const char *const instruction_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(u32 error)
{
	if (error < ARRAY_SIZE(instruction_errors) && instruction_errors[error])
		return instruction_errors[error];
	return "unknown VM-instruction error";
}
