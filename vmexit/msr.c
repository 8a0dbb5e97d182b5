/* RDMSR/WRMSR. MSRs whose guest value the CPU switches on entry and exit, or that the host
 * never uses, pass through the MSR bitmap; EFER, PAT, the APIC base, the TSC and a few
 * informational MSRs are emulated; any other MSR raises #GP(0), as on a CPU without it. */
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
#define MSR_MTRR_CAP 0xfeu
#define MSR_MTRR_FIRST 0x200u
#define MSR_MTRR_LAST 0x26fu
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define MISC_ENABLE_VALUE (BIT(0) /* fast strings */ | BIT(11) /* no BTS */ | BIT(12) /* no PEBS */)
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
	bitmap[(high ? MSR_BITMAP_READ_HIGH : MSR_BITMAP_READ_LOW) + bit / 8] &= (u8)~(1u << (bit % 8));
	bitmap[(high ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_WRITE_LOW) + bit / 8] &= (u8)~(1u << (bit % 8));
}

void msr_bitmap_init(u8 *bitmap)
{
	memset(bitmap, 0xff, PAGE_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		allow_msr(bitmap, passthrough_msrs[i]);
	if (vmx_controls.proc2 & SECONDARY_RDTSCP)
		allow_msr(bitmap, MSR_IA32_TSC_AUX);
}

/* x2APIC mode has no DFR and a single 64-bit ICR: their xAPIC-era MSR numbers do not
 * exist (SDM Vol. 3A table 11-6). */
#define MSR_X2APIC_DFR 0x80eu
#define MSR_X2APIC_ICR_HIGH 0x831u

static bool is_x2apic_msr(const struct vcpu *vcpu, u32 msr)
{
	return msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST && msr != MSR_X2APIC_DFR &&
	       msr != MSR_X2APIC_ICR_HIGH && (vcpu->apic_base & APIC_BASE_X2APIC);
}

static u32 x2apic_offset(u32 msr)
{
	return (msr - MSR_X2APIC_FIRST) << 4;
}

static bool read_msr(struct vcpu *vcpu, u32 msr, u64 *value)
{
	switch (msr) {
	case MSR_IA32_EFER: *value = vcpu_guest_efer(vcpu); return true;
	case MSR_IA32_PAT: *value = vcpu->pat; return true;
	case MSR_IA32_APIC_BASE: *value = vcpu->apic_base; return true;
	case MSR_IA32_TSC: *value = rdtsc() + vcpu->tsc_offset; return true;
	case MSR_IA32_TSC_DEADLINE: return vdev_read_tsc_deadline(vcpu->vm, value);
	case MSR_IA32_MISC_ENABLE: *value = MISC_ENABLE_VALUE; return true;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_MTRR_CAP:
	case MSR_MTRR_DEF_TYPE:
		*value = 0;
		return true;
	}
	if (msr >= MSR_MTRR_FIRST && msr <= MSR_MTRR_LAST) {
		*value = 0;	/* no MTRRs: MTRRcap reports 0 variable ranges */
		return true;
	}
	if (is_x2apic_msr(vcpu, msr))
		return vlapic_read(vcpu->vm, x2apic_offset(msr), value);
	return false;
}

/* Memory types a PAT entry may hold: UC, WC, WT, WP, WB, UC- (SDM Vol. 3A 11.12.2). */
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

/* EFER.LMA follows LME and CR0.PG (SDM Vol. 3A 9.8.5); so does the IA-32e entry control. */
static bool write_efer(struct vcpu *vcpu, u64 value)
{
	bool paging = vcpu_guest_cr0(vcpu) & CR0_PG;
	if ((value & ~(u64)(EFER_WRITABLE | EFER_LMA)) ||
	    (((value ^ vcpu_guest_efer(vcpu)) & EFER_LME) && paging))
		return false;
	if ((value & EFER_NXE) && !host_cpu.nx)
		return false;
	vcpu_write_efer(vcpu, (value & EFER_WRITABLE) | ((value & EFER_LME) && paging ? EFER_LMA : 0));
	if (vcpu_shadow_paging(vcpu))	/* NXE shapes the shadow */
		return shadow_paging_update(vcpu, vcpu_guest_cr3(vcpu), false);
	return true;
}

static bool write_apic_base(struct vcpu *vcpu, u64 value)
{
	u64 allowed = APIC_BASE_ADDRESS_MASK | APIC_BASE_BSP | APIC_BASE_ENABLE |
		      (host_cpu.x2apic ? APIC_BASE_X2APIC : 0);
	if ((value & ~allowed) || (value & APIC_BASE_ADDRESS_MASK) != (APIC_BASE_DEFAULT & APIC_BASE_ADDRESS_MASK))
		return false;
	vcpu->apic_base = value;
	return true;
}

static bool write_msr(struct vcpu *vcpu, u32 msr, u64 value)
{
	switch (msr) {
	case MSR_IA32_EFER:
		return write_efer(vcpu, value);
	case MSR_IA32_PAT:
		if (!pat_is_valid(value))
			return false;
		vcpu->pat = value;
		if (vmx_controls.entry & ENTRY_LOAD_PAT)
			vmcs_write64(VMCS_GUEST_PAT, value);
		return true;
	case MSR_IA32_APIC_BASE:
		return write_apic_base(vcpu, value);
	case MSR_IA32_TSC:
		vcpu->tsc_offset = value - rdtsc();
		vmcs_write64(VMCS_TSC_OFFSET, vcpu->tsc_offset);
		return true;
	case MSR_IA32_TSC_DEADLINE:
		return vdev_write_tsc_deadline(vcpu->vm, value);
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_MTRR_DEF_TYPE:
		return true;	/* accepted and ignored, as the platform has nothing to change */
	}
	if (msr >= MSR_MTRR_FIRST && msr <= MSR_MTRR_LAST)
		return true;
	if (is_x2apic_msr(vcpu, msr))
		return vlapic_write(vcpu->vm, x2apic_offset(msr), value);
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
