/* RDMSR/WRMSR and RDPMC. MSRs whose guest value the CPU switches on entry and exit, or
 * that the host never uses, pass through the MSR bitmap; EFER, PAT, the APIC base, the TSC,
 * MISC_ENABLE, the MTRRs, machine-check banks and a few informational MSRs are emulated;
 * any other MSR raises #GP(0), as on a CPU without it (and so do the MSRs of features
 * vmexit/cpuid.c hides). */
#include "arch/x86/cpu.h"
#include "drivers/vdev.h"
#include "lib/string.h"
#include "vmexit/handlers.h"

/* MSR bitmap layout (SDM Vol. 3C 25.6.9): four 1-KiB maps of exit bits. */
#define MSR_BITMAP_READ_LOW 0
#define MSR_BITMAP_READ_HIGH 1024
#define MSR_BITMAP_WRITE_LOW 2048
#define MSR_BITMAP_WRITE_HIGH 3072
#define MSR_HIGH_BASE 0xc0000000u
#define MSR_RANGE_SIZE 0x2000u

#define MSR_IA32_PLATFORM_ID 0x17u
#define MSR_IA32_BIOS_SIGN_ID 0x8bu
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define APIC_BASE_ADDRESS_MASK 0xfffff000ull
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

/* Switched by VMX itself (guest-state area) or unused by the host (the syscall MSRs, which
 * each vCPU keeps in its struct unswitched_state: arch/x86/guest_state.c). */
static const u32 passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
};

static void allow_msr(u8 *bitmap, u32 msr)
{
	bool high = msr >= MSR_HIGH_BASE;
	u32 bit = msr - (high ? MSR_HIGH_BASE : 0);
	u8 clear = (u8)~(1u << (bit % 8));
	bitmap[(high ? MSR_BITMAP_READ_HIGH : MSR_BITMAP_READ_LOW) + bit / 8] &= clear;
	bitmap[(high ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_WRITE_LOW) + bit / 8] &= clear;
}

void msr_bitmap_init(u8 *bitmap)
{
	memset(bitmap, 0xff, PAGE_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		allow_msr(bitmap, passthrough_msrs[i]);
	if (vmx_controls.proc2 & SECONDARY_RDTSCP)
		allow_msr(bitmap, MSR_IA32_TSC_AUX);
}

/* MSR 0x800 + n is the local APIC register at offset n << 4 (SDM Vol. 3A 11.12.1.2). Which
 * of them exist, and in which mode, is drivers/vlapic.c's business. */
static u32 x2apic_offset(u32 msr)
{
	return (msr - MSR_X2APIC_FIRST) << 4;
}

/*
 * IA32_MISC_ENABLE (SDM Vol. 4, table 2-2). The guest may change the bits that change
 * nothing it can observe: fast strings (0), automatic thermal control (3), xTPR messages
 * (23). Bits 7, 11 and 12 are read-only (no performance monitoring, no BTS, no PEBS); the
 * bits that would change CPUID or paging (MONITOR FSM 18, limit CPUID maxval 22, XD
 * disable 34) are not modelled: like every other bit, they keep their value.
 */
#define MISC_ENABLE_FAST_STRINGS BIT(0)
#define MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRINGS | BIT(11) /* no BTS */ | BIT(12) /* no PEBS */)
#define MISC_ENABLE_WRITABLE (MISC_ENABLE_FAST_STRINGS | BIT(3) | BIT(23))

/*
 * MTRRs (SDM Vol. 3A 12.11). Every CPU with VMX has them, so CPUID.1:EDX.MTRR (passed
 * through) is set. IA32_MTRRCAP reads 0: no variable ranges, no fixed ranges, no WC; so
 * only IA32_MTRR_DEF_TYPE exists beside it, with its type (7:0) and E (11); FE (10) is
 * reserved without fixed ranges. The guest's memory types come from PAT alone.
 */
#define MSR_MTRR_CAP 0xfeu
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MTRR_DEF_TYPE_WRITABLE (0xffull | BIT(11))
#define MTRR_VALID_TYPES (BIT(0) | BIT(1) | BIT(4) | BIT(5) | BIT(6))	/* UC WC WT WP WB */

/*
 * Machine-check architecture (SDM Vol. 3B 16.3): VCPU_MCA_BANKS banks that never log an
 * error. IA32_MCG_CAP holds the count and no capability bit, so IA32_MCG_CTL (MCG_CTL_P),
 * IA32_MCi_CTL2 (MCG_CMCI_P), the extended state and LMCE do not exist; neither do the
 * banks past the count.
 */
#define MSR_IA32_MCG_CAP 0x179u
#define MSR_IA32_MCG_STATUS 0x17au
#define MSR_IA32_MC0_CTL 0x400u
#define MCA_BANK_MSRS 4				/* CTL, STATUS, ADDR, MISC */
#define MSR_MCA_BANKS_LAST (MSR_IA32_MC0_CTL + VCPU_MCA_BANKS * MCA_BANK_MSRS - 1)
#define MCA_BANK_CTL 0
#define MCG_CAP_VALUE VCPU_MCA_BANKS		/* bits 7:0: the bank count */
#define MCG_STATUS_WRITABLE (BIT(0) | BIT(1) | BIT(2))	/* RIPV, EIPV, MCIP (16.3.1.2) */
#define MCI_CTL_ALL ~0ull
#define MSR_MCA_BANK_SPACE_LAST 0x47fu	/* 32 banks at most: IA32_VMX_BASIC follows */
static_assert(MSR_MCA_BANKS_LAST <= MSR_MCA_BANK_SPACE_LAST, "the banks fit their MSR range");

void msr_vcpu_reset(struct vcpu *vcpu)
{
	vcpu->msrs = (struct vcpu_msrs){
		.misc_enable = MISC_ENABLE_RESET,
		/* Undefined at reset (SDM Vol. 3A table 10-1); all ones as KVM has them. */
		.mc_ctl = { [0 ... VCPU_MCA_BANKS - 1] = MCI_CTL_ALL },
	};
}

static u64 *mca_bank_ctl(struct vcpu *vcpu, u32 msr)
{
	return &vcpu->msrs.mc_ctl[(msr - MSR_IA32_MC0_CTL) / MCA_BANK_MSRS];
}

static bool is_mca_bank_ctl(u32 msr)
{
	return (msr - MSR_IA32_MC0_CTL) % MCA_BANK_MSRS == MCA_BANK_CTL;
}

/* STATUS, ADDR and MISC read 0: no bank ever logs an error (STATUS.VAL, ADDRV, MISCV). */
static u64 read_mca_bank(struct vcpu *vcpu, u32 msr)
{
	return is_mca_bank_ctl(msr) ? *mca_bank_ctl(vcpu, msr) : 0;
}

/* MCi_CTL takes all ones or all zeros (16.3.2.1: P6 family rule, the one KVM applies);
 * MCi_STATUS only 0, else #GP (16.3.2.2). ADDR and MISC implement no bit (16.3.2.3-4),
 * as the bank never sets ADDRV or MISCV: 0 is all they take. */
static bool write_mca_bank(struct vcpu *vcpu, u32 msr, u64 value)
{
	if (!is_mca_bank_ctl(msr))
		return value == 0;
	if (value != 0 && value != MCI_CTL_ALL)
		return false;
	*mca_bank_ctl(vcpu, msr) = value;
	return true;
}

static bool read_msr(struct vcpu *vcpu, u32 msr, u64 *value)
{
	switch (msr) {
	case MSR_IA32_EFER: *value = vcpu_guest_efer(vcpu); return true;
	case MSR_IA32_PAT: *value = vcpu->pat; return true;
	case MSR_IA32_APIC_BASE: *value = vcpu->apic_base; return true;
	case MSR_IA32_TSC: *value = rdtsc() + vcpu->tsc_offset; return true;
	case MSR_IA32_TSC_DEADLINE: return vdev_read_tsc_deadline(vcpu->vm, value);
	case MSR_IA32_MISC_ENABLE: *value = vcpu->msrs.misc_enable; return true;
	case MSR_MTRR_DEF_TYPE: *value = vcpu->msrs.mtrr_def_type; return true;
	case MSR_IA32_MCG_CAP: *value = MCG_CAP_VALUE; return true;
	case MSR_IA32_MCG_STATUS: *value = vcpu->msrs.mcg_status; return true;
	case MSR_IA32_MC0_CTL ... MSR_MCA_BANKS_LAST:
		*value = read_mca_bank(vcpu, msr);
		return true;
	case MSR_IA32_PLATFORM_ID:	/* platform 0 (bits 52:50) */
	case MSR_IA32_BIOS_SIGN_ID:	/* no microcode update loaded */
	case MSR_MTRR_CAP:
		*value = 0;
		return true;
	case MSR_X2APIC_FIRST ... MSR_X2APIC_LAST:
		return vlapic_read(vcpu->vm, x2apic_offset(msr), value);
	}
	return false;
}

/* Memory types a PAT entry may hold: UC, WC, WT, WP, WB, UC- (SDM Vol. 3A 12.12.2). */
#define PAT_VALID_TYPES (BIT(0) | BIT(1) | BIT(4) | BIT(5) | BIT(6) | BIT(7))

static bool pat_is_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 type = (u8)(pat >> (8 * i));
		if (type > 7 || !(PAT_VALID_TYPES & BIT(type)))
			return false;
	}
	return true;
}

/* EFER.LMA follows LME and CR0.PG (SDM Vol. 3A 10.8.5); so does the IA-32e entry control. */
static bool write_efer(struct vcpu *vcpu, u64 value)
{
	bool paging = vcpu_guest_cr0(vcpu) & CR0_PG;
	if ((value & ~(u64)(EFER_WRITABLE | EFER_LMA)) ||
	    (((value ^ vcpu_guest_efer(vcpu)) & EFER_LME) && paging))
		return false;
	if ((value & EFER_NXE) && !host_cpu.nx)
		return false;
	u64 lma = (value & EFER_LME) && paging ? EFER_LMA : 0;
	vcpu_write_efer(vcpu, (value & EFER_WRITABLE) | lma);
	if (vcpu_shadow_paging(vcpu))	/* NXE shapes the shadow */
		return shadow_paging_update(vcpu, vcpu_guest_cr3(vcpu), false);
	return true;
}

static bool write_apic_base(struct vcpu *vcpu, u64 value)
{
	u64 allowed = APIC_BASE_ADDRESS_MASK | APIC_BASE_BSP | APIC_BASE_ENABLE |
		      (host_cpu.x2apic ? APIC_BASE_X2APIC : 0);
	if ((value & ~allowed) ||
	    (value & APIC_BASE_ADDRESS_MASK) != (APIC_BASE_DEFAULT & APIC_BASE_ADDRESS_MASK))
		return false;
	vcpu->apic_base = value;
	return true;
}

static bool write_pat(struct vcpu *vcpu, u64 value)
{
	if (!pat_is_valid(value))
		return false;
	vcpu->pat = value;
	if (vmx_controls.entry & ENTRY_LOAD_PAT)
		vmcs_write64(VMCS_GUEST_PAT, value);
	return true;
}

/* Reserved bits and reserved memory types raise #GP (SDM Vol. 3A 12.11.2.1). */
static bool write_mtrr_def_type(struct vcpu *vcpu, u64 value)
{
	if ((value & ~MTRR_DEF_TYPE_WRITABLE) || !(MTRR_VALID_TYPES & BIT(value & 0xff)))
		return false;
	vcpu->msrs.mtrr_def_type = value;
	return true;
}

static bool write_mcg_status(struct vcpu *vcpu, u64 value)
{
	if (value & ~(u64)MCG_STATUS_WRITABLE)
		return false;
	vcpu->msrs.mcg_status = value;
	return true;
}

static void write_misc_enable(struct vcpu *vcpu, u64 value)
{
	u64 *misc_enable = &vcpu->msrs.misc_enable;
	*misc_enable = (*misc_enable & ~(u64)MISC_ENABLE_WRITABLE) | (value & MISC_ENABLE_WRITABLE);
}

/* Read-only MSRs (MTRRCAP, MCG_CAP, PLATFORM_ID) are not here: writing them raises #GP. */
static bool write_msr(struct vcpu *vcpu, u32 msr, u64 value)
{
	switch (msr) {
	case MSR_IA32_EFER: return write_efer(vcpu, value);
	case MSR_IA32_PAT: return write_pat(vcpu, value);
	case MSR_IA32_APIC_BASE: return write_apic_base(vcpu, value);
	case MSR_IA32_TSC:
		vcpu->tsc_offset = value - rdtsc();
		vmcs_write64(VMCS_TSC_OFFSET, vcpu->tsc_offset);
		return true;
	case MSR_IA32_TSC_DEADLINE: return vdev_write_tsc_deadline(vcpu->vm, value);
	case MSR_IA32_MISC_ENABLE:
		write_misc_enable(vcpu, value);
		return true;
	case MSR_IA32_BIOS_SIGN_ID:	/* zeroed before CPUID reads it (SDM Vol. 3A 10.11.7.1) */
		return true;
	case MSR_MTRR_DEF_TYPE: return write_mtrr_def_type(vcpu, value);
	case MSR_IA32_MCG_STATUS: return write_mcg_status(vcpu, value);
	case MSR_IA32_MC0_CTL ... MSR_MCA_BANKS_LAST: return write_mca_bank(vcpu, msr, value);
	case MSR_X2APIC_FIRST ... MSR_X2APIC_LAST:
		return vlapic_write(vcpu->vm, x2apic_offset(msr), value);
	}
	return false;
}

void handle_rdmsr(struct vcpu *vcpu)
{
	u64 value;
	if (!read_msr(vcpu, (u32)vcpu->regs.gpr[X86_RCX], &value)) {
		inject_gp(vcpu);
		return;
	}
	vcpu->regs.gpr[X86_RAX] = (u32)value;
	vcpu->regs.gpr[X86_RDX] = value >> 32;
	finish_by_skipping(vcpu);
}

void handle_wrmsr(struct vcpu *vcpu)
{
	u64 value = (u32)vcpu->regs.gpr[X86_RAX] | vcpu->regs.gpr[X86_RDX] << 32;
	if (!write_msr(vcpu, (u32)vcpu->regs.gpr[X86_RCX], value)) {
		inject_gp(vcpu);
		return;
	}
	finish_by_skipping(vcpu);
}

/*
 * RDPMC (SDM Vol. 2B): #GP(0) at CPL > 0 with CR4.PCE clear, and for an invalid counter
 * index. The privilege check comes before the exit (SDM Vol. 3C 26.1.1), and no PMU is
 * exposed (CPUID leaf 0xa is hidden), so every index that reaches here is invalid.
 */
void handle_rdpmc(struct vcpu *vcpu)
{
	inject_gp(vcpu);
}
