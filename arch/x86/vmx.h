/* VMX: capabilities, control bits, exit reasons, VMXON and the VM entry/exit primitive.
 * Bit names follow the SDM Vol. 3C chapters 25-28 and Vol. 3D appendix A. */
#ifndef VIREO_ARCH_X86_VMX_H
#define VIREO_ARCH_X86_VMX_H

#include "arch/x86/vmcs.h"
#include "lib/types.h"

/* IA32_VMX_BASIC (appendix A.1). */
#define VMX_BASIC_REVISION_MASK 0x7fffffffu
#define VMX_BASIC_MEMORY_TYPE_WB BIT(51)	/* memory type field (53:50) == 6 */
#define VMX_BASIC_INOUTS_INFO BIT(54)
#define VMX_BASIC_TRUE_CTLS BIT(55)

/* Pin-based controls (25.6.1). */
#define PIN_BASED_EXTERNAL_INTERRUPT BIT(0)
#define PIN_BASED_NMI_EXITING BIT(3)
#define PIN_BASED_VIRTUAL_NMIS BIT(5)
#define PIN_BASED_PREEMPTION_TIMER BIT(6)
/* Primary processor-based controls (25.6.2). */
#define CPU_BASED_INTERRUPT_WINDOW BIT(2)
#define CPU_BASED_TSC_OFFSETTING BIT(3)
#define CPU_BASED_HLT_EXITING BIT(7)
#define CPU_BASED_INVLPG_EXITING BIT(9)
#define CPU_BASED_MWAIT_EXITING BIT(10)
#define CPU_BASED_RDPMC_EXITING BIT(11)
#define CPU_BASED_RDTSC_EXITING BIT(12)
#define CPU_BASED_CR3_LOAD_EXITING BIT(15)
#define CPU_BASED_CR3_STORE_EXITING BIT(16)
#define CPU_BASED_CR8_LOAD_EXITING BIT(19)
#define CPU_BASED_CR8_STORE_EXITING BIT(20)
#define CPU_BASED_NMI_WINDOW BIT(22)
#define CPU_BASED_MOV_DR_EXITING BIT(23)
#define CPU_BASED_UNCOND_IO_EXITING BIT(24)
#define CPU_BASED_USE_IO_BITMAPS BIT(25)
#define CPU_BASED_MONITOR_TRAP_FLAG BIT(27)
#define CPU_BASED_USE_MSR_BITMAPS BIT(28)
#define CPU_BASED_MONITOR_EXITING BIT(29)
#define CPU_BASED_SECONDARY_CONTROLS BIT(31)
/* Secondary processor-based controls (25.6.2). */
#define SECONDARY_EPT BIT(1)
#define SECONDARY_DESCRIPTOR_EXITING BIT(2)
#define SECONDARY_RDTSCP BIT(3)
#define SECONDARY_VPID BIT(5)
#define SECONDARY_WBINVD_EXITING BIT(6)
#define SECONDARY_UNRESTRICTED_GUEST BIT(7)
#define SECONDARY_INVPCID BIT(12)
#define SECONDARY_XSAVES BIT(20)
/* VM-exit controls (25.7.1). */
#define EXIT_SAVE_DEBUG_CONTROLS BIT(2)
#define EXIT_HOST_ADDRESS_SPACE_64 BIT(9)
#define EXIT_ACK_INTERRUPT BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
/* VM-entry controls (25.8.1). */
#define ENTRY_LOAD_DEBUG_CONTROLS BIT(2)
#define ENTRY_IA32E_MODE_GUEST BIT(9)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/* IA32_VMX_EPT_VPID_CAP (appendix A.10). */
#define EPT_CAP_EXECUTE_ONLY BIT(0)
#define EPT_CAP_PAGE_WALK_4 BIT(6)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M_PAGES BIT(16)
#define EPT_CAP_1G_PAGES BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD_BITS BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)

/* Basic exit reasons (appendix C). */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0, EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2, EXIT_REASON_INIT = 3, EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTERRUPT_WINDOW = 7, EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9, EXIT_REASON_CPUID = 10, EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12, EXIT_REASON_INVD = 13, EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15, EXIT_REASON_RDTSC = 16, EXIT_REASON_RSM = 17,
	EXIT_REASON_VMCALL = 18, EXIT_REASON_VMCLEAR = 19, EXIT_REASON_VMLAUNCH = 20,
	EXIT_REASON_VMPTRLD = 21, EXIT_REASON_VMPTRST = 22, EXIT_REASON_VMREAD = 23,
	EXIT_REASON_VMRESUME = 24, EXIT_REASON_VMWRITE = 25, EXIT_REASON_VMXOFF = 26,
	EXIT_REASON_VMXON = 27, EXIT_REASON_CR_ACCESS = 28, EXIT_REASON_DR_ACCESS = 29,
	EXIT_REASON_IO_INSTRUCTION = 30, EXIT_REASON_RDMSR = 31, EXIT_REASON_WRMSR = 32,
	EXIT_REASON_INVALID_GUEST_STATE = 33, EXIT_REASON_MSR_LOADING = 34,
	EXIT_REASON_MWAIT = 36, EXIT_REASON_MONITOR_TRAP_FLAG = 37, EXIT_REASON_MONITOR = 39,
	EXIT_REASON_PAUSE = 40, EXIT_REASON_MACHINE_CHECK = 41, EXIT_REASON_TPR_BELOW = 43,
	EXIT_REASON_APIC_ACCESS = 44, EXIT_REASON_VIRTUALIZED_EOI = 45,
	EXIT_REASON_GDTR_IDTR = 46, EXIT_REASON_LDTR_TR = 47, EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49, EXIT_REASON_INVEPT = 50, EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPTION_TIMER = 52, EXIT_REASON_INVVPID = 53, EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55, EXIT_REASON_APIC_WRITE = 56, EXIT_REASON_RDRAND = 57,
	EXIT_REASON_INVPCID = 58, EXIT_REASON_VMFUNC = 59, EXIT_REASON_ENCLS = 60,
	EXIT_REASON_RDSEED = 61, EXIT_REASON_PML_FULL = 62, EXIT_REASON_XSAVES = 63,
	EXIT_REASON_XRSTORS = 64,
	EXIT_REASON_COUNT = 65,
};
#define EXIT_REASON_BASIC_MASK 0xffffu
#define EXIT_REASON_ENTRY_FAILURE BIT(31)

/* VM-entry interruption information (25.8.3) and exit interruption info (25.9.2). */
#define INTR_INFO_VALID BIT(31)
#define INTR_INFO_DELIVER_ERROR_CODE BIT(11)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HARD_EXCEPTION (3u << 8)
#define INTR_TYPE_SOFT_INTERRUPT (4u << 8)
#define INTR_TYPE_PRIV_SOFT_EXCEPTION (5u << 8)
#define INTR_TYPE_SOFT_EXCEPTION (6u << 8)
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_MASK (7u << 8)

/* What the capability MSRs allow for one control field: bits that must be 1 (allowed
 * 0-settings are 0) and bits that may be 1. */
struct vmx_allowed {
	u32 must_be_one;
	u32 may_be_one;
};

/* VMX-preemption timer ticks per TSC tick: 2^-rate (SDM Vol. 3C 26.5.1, IA32_VMX_MISC). */
#define VMX_MISC_PREEMPTION_RATE_MASK 0x1f
#define PREEMPTION_TIMER_MAX 0xffffffffull

struct vmx_caps {
	u64 basic;
	u32 revision;
	bool true_controls;
	struct vmx_allowed pin, proc, proc2, exit, entry;
	u64 misc, ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool ept, vpid, unrestricted_guest;
};
extern struct vmx_caps vmx_caps;

/* NULL when VMX is usable (and vmx_caps filled), else a message for the user. */
const char *vmx_probe(void);
void vmx_caps_print(void);


/* Control-field values for this CPU, computed once by vmx_controls_init(). VMs start
 * from these and drop what they do not use (e.g. EPT when the shadow MMU runs). */
struct vmx_controls {
	u32 pin, proc, proc2, exit, entry;
};
extern struct vmx_controls vmx_controls;

/* NULL, or the name of a required VMX feature this CPU lacks. */
const char *vmx_controls_init(void);
/* NULL when this CPU is in VMX root operation, else why not. */
const char *vmx_enable(void);

/* A new VMCS, cleared and made current; 0 when out of memory. */
u64 vmcs_create(void);
void vmcs_load(u64 hpa);
void vmcs_destroy(u64 hpa);
void vmcs_write_host_state(void);
const char *vmx_instruction_error_name(u32 error);

/* Enters the guest whose GPRs (x86 register-number order; RSP is in the VMCS) are at
 * gprs, with VMLAUNCH if !launched else VMRESUME. Returns 0 after a VM exit (the guest
 * GPRs saved back to gprs), 1 if the VM-entry instruction itself failed (read
 * VMCS_INSTRUCTION_ERROR). */
int vmx_enter(u64 *gprs, bool launched);

/* INVEPT / INVVPID types (SDM Vol. 3C 30.3). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2

static inline void invept(u64 type, u64 eptp)
{
	struct { u64 eptp, reserved; } descriptor = { eptp, 0 };
	asm volatile("invept %0, %1" : : "m"(descriptor), "r"(type) : "cc", "memory");
}

#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXTS 2

static inline void invvpid(u64 type, u16 vpid)
{
	struct { u64 vpid, linear; } descriptor = { vpid, 0 };
	asm volatile("invvpid %0, %1" : : "m"(descriptor), "r"(type) : "cc", "memory");
}

#endif
