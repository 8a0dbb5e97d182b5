/* CPUID: the host's answers, filtered to what a guest of this platform can use. VMX is
 * hidden, the hypervisor bit set, leaf 0x40000000 names Vireo, and features whose
 * instructions or state Vireo does not virtualize are cleared. */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "vmexit/handlers.h"

#define LEAF_HYPERVISOR_BASE 0x40000000u
#define LEAF_HYPERVISOR_LAST 0x400000ffu
#define LEAF_HYPERVISOR_FEATURES 0x40000001u
#define SIGNATURE_EBX 0x65726956u	/* "Vire" */
#define SIGNATURE_ECX 0x0056486fu	/* "oHV\0" */
#define SIGNATURE_EDX 0x00000000u	/* "\0\0\0\0" */

/* Leaf 1 (SDM Vol. 2A, CPUID): features hidden from guests. */
#define CPUID_1_ECX_HIDDEN (BIT(3) /* MONITOR */ | BIT(5) /* VMX */ | BIT(6) /* SMX */ | \
			    BIT(12) /* FMA */ | BIT(29) /* F16C: both need AVX */ | \
			    BIT(7) /* EIST */ | BIT(8) /* TM2 */ | BIT(15) /* PDCM */ | \
			    BIT(18) /* DCA */ | BIT(26) /* XSAVE */ | \
			    BIT(27) /* OSXSAVE */ | BIT(28) /* AVX */)
#define CPUID_1_EDX_HIDDEN (BIT(21) /* DS */ | BIT(22) /* ACPI thermal */ | BIT(29) /* TM */ | \
			    BIT(31) /* PBE */)
/* The machine-check MSRs vmexit/msr.c emulates, whatever the host has. */
#define CPUID_1_EDX_SHOWN (BIT(7) /* MCE */ | BIT(14) /* MCA */)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_EBX_APIC_ID_MASK 0xff000000u
#define CPUID_1_EBX_LOGICAL_COUNT_MASK 0x00ff0000u
#define CPUID_1_EBX_ONE_LOGICAL (1u << 16)
/* Leaf 7 subleaf 0: AVX2, AVX-512 and friends need XSAVE, which is hidden; SGX, RTM,
 * PQM/PQE and Intel PT need support Vireo does not have. */
#define CPUID_7_EBX_HIDDEN (BIT(2) /* SGX */ | BIT(4) /* HLE */ | BIT(5) /* AVX2 */ | \
			    BIT(11) /* RTM */ | BIT(12) /* PQM */ | BIT(15) /* PQE */ | \
			    BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | \
			    BIT(30) | BIT(31) /* AVX-512 */ | BIT(25) /* Intel PT */)
#define CPUID_7_EBX_INVPCID BIT(10)
#define CPUID_7_ECX_HIDDEN (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14) /* AVX-512 */ | \
			    BIT(3) /* PKU */ | BIT(4) /* OSPKE */ | \
			    BIT(7) /* CET shadow stacks */ | BIT(16) /* LA57 */ | \
			    BIT(5) /* WAITPKG */ | BIT(30) /* SGX launch control */)
#define CPUID_80000001_EDX_RDTSCP BIT(27)
#define CPUID_4_CORES_MASK 0xfc000000u
#define CPUID_4_SHARING_MASK 0x03ffc000u

static void filter_leaf_1(struct cpuid_regs *r)
{
	r->ecx = (r->ecx & ~(u32)CPUID_1_ECX_HIDDEN) | CPUID_1_ECX_HYPERVISOR |
		 CPUID_1_ECX_TSC_DEADLINE;	/* the local APIC model has it on every CPU */
	r->edx = (r->edx & ~(u32)CPUID_1_EDX_HIDDEN) | CPUID_1_EDX_SHOWN;
	r->ebx &= ~(CPUID_1_EBX_APIC_ID_MASK | CPUID_1_EBX_LOGICAL_COUNT_MASK);
	r->ebx |= CPUID_1_EBX_ONE_LOGICAL;
}

static void filter_leaf_7(struct cpuid_regs *r, u32 subleaf)
{
	if (subleaf != 0) {
		*r = (struct cpuid_regs){ 0 };
		return;
	}
	r->ebx &= ~(u32)CPUID_7_EBX_HIDDEN;
	/* Without the VMX control INVPCID raises #UD; on the shadow MMU it exits (INVLPG
	 * exiting) and vmexit/shadow.c carries it out. */
	if (!(vmx_controls.proc2 & SECONDARY_INVPCID))
		r->ebx &= ~(u32)CPUID_7_EBX_INVPCID;
	r->ecx &= ~(u32)CPUID_7_ECX_HIDDEN;
	/* All hidden, the speculation controls among them (IBRS/IBPB 26, STIBP 27, L1D_FLUSH
	 * 28, ARCH_CAPABILITIES 29, SSBD 31): Vireo does not switch IA32_SPEC_CTRL between
	 * guests and itself, so a kept value would be a mitigation the guest only believes
	 * in. Their MSRs raise #GP, as KVM's do for a guest whose CPUID lacks them. */
	r->edx = 0;
}

static struct cpuid_regs hypervisor_leaf(u32 leaf)
{
	if (leaf == LEAF_HYPERVISOR_BASE)
		return (struct cpuid_regs){ LEAF_HYPERVISOR_FEATURES, SIGNATURE_EBX,
					    SIGNATURE_ECX, SIGNATURE_EDX };
	/* 0x40000001 */
	u32 features = vm_defaults.shadow_paging ? VIREO_FEATURE_SHADOW_MMU : 0;
	return (struct cpuid_regs){ features, 0, 0, 0 };
}

/* Leaves about power management, performance monitoring, caches shared between cores,
 * topology and XSAVE state describe things a guest here does not have. */
static bool leaf_is_hidden(u32 leaf)
{
	return leaf == 0x5 || leaf == 0x6 || leaf == 0xa || leaf == 0xb || leaf == 0xd ||
	       leaf == 0xf || leaf == 0x10 || leaf == 0x12 || leaf == 0x14 || leaf == 0x1f;
}

/*
 * The TSC and its clocks as the guest sees them (SDM Vol. 2A, CPUID leaves 0x15, 0x16):
 * the TSC ticks at tsc_hz, the frequency Vireo measured, whatever the model's table says
 * (a Bochs model's TSC ticks at its ips setting, not its nominal GHz). The "crystal" is
 * the TSC itself (ratio 1/1): Linux takes it for the local APIC timer's clock as well,
 * which drivers/vlapic.c runs at tsc_hz too. Only where the CPU has the leaves.
 */
#define LEAF_TSC_CRYSTAL 0x15
#define LEAF_FREQUENCY 0x16
#define BUS_MHZ 100

static struct cpuid_regs tsc_leaf(u32 leaf)
{
	u32 mhz = (u32)(tsc_hz / 1000000);
	if (leaf == LEAF_TSC_CRYSTAL)
		return (struct cpuid_regs){ 1, 1, (u32)tsc_hz, 0 };
	return (struct cpuid_regs){ mhz, mhz, BUS_MHZ, 0 };
}

static struct cpuid_regs guest_cpuid(u32 leaf, u32 subleaf)
{
	if (leaf >= LEAF_HYPERVISOR_BASE && leaf <= LEAF_HYPERVISOR_LAST)
		return hypervisor_leaf(leaf);
	if (leaf_is_hidden(leaf))
		return (struct cpuid_regs){ 0 };
	struct cpuid_regs r = cpuid(leaf, subleaf);
	switch (leaf) {
	case 0x1:
		filter_leaf_1(&r);
		break;
	case 0x4:
		r.eax &= ~(CPUID_4_CORES_MASK | CPUID_4_SHARING_MASK);
		break;
	case 0x7:
		filter_leaf_7(&r, subleaf);
		break;
	case LEAF_TSC_CRYSTAL:
	case LEAF_FREQUENCY:
		if (leaf <= cpuid(0, 0).eax)
			r = tsc_leaf(leaf);
		break;
	case 0x80000001u:
		if (!(vmx_controls.proc2 & SECONDARY_RDTSCP))
			r.edx &= ~(u32)CPUID_80000001_EDX_RDTSCP;
		break;
	}
	return r;
}

void handle_cpuid(struct vcpu *vcpu)
{
	u64 *gpr = vcpu->regs.gpr;
	struct cpuid_regs r = guest_cpuid((u32)gpr[X86_RAX], (u32)gpr[X86_RCX]);
	gpr[X86_RAX] = r.eax;
	gpr[X86_RBX] = r.ebx;
	gpr[X86_RCX] = r.ecx;
	gpr[X86_RDX] = r.edx;
	finish_by_skipping(vcpu);
}
