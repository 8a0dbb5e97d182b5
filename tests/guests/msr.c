/* msr: RDMSR/WRMSR as a Vireo guest sees them: the MSRs a kernel programs round-trip, EFER
 * and PAT keep their rules, the APIC base is the BSP's, and MSRs the CPU does not have
 * (unknown ones, VMX's) raise #GP(0) exactly as hardware does. */
#include "tests/guests/lib/guest.h"

/* A valid PAT with every entry changed from the reset value 0x0007040600070406 (UC, WC,
 * WT, WP, WB and UC- all appear); types 2 and 3 are reserved (Intel SDM Vol. 3A 11.12.2). */
#define PAT_TEST_VALUE 0x0001050406070400ull
#define PAT_RESERVED_TYPE 0x02ull
#define MSR_UNKNOWN_INTEL_RANGE 0x12345678u
#define MSR_UNKNOWN_AMD_RANGE 0xc0011234u
#define TSC_TEST_VALUE ((u64)1 << 40)
#define TSC_WRITE_SLACK 10000000ull	/* ticks the read may lag behind the write */
#define EXPECTED_APIC_BASE (XAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP)

struct msr_probe {
	u32 msr;
	const char *name;
	u64 value;		/* canonical, and valid for the MSR */
};

static const struct msr_probe round_trip_msrs[] = {
	{ MSR_SYSENTER_CS, "IA32_SYSENTER_CS", 0x10 },
	{ MSR_SYSENTER_ESP, "IA32_SYSENTER_ESP", 0xffff800012345678ull },
	{ MSR_SYSENTER_EIP, "IA32_SYSENTER_EIP", 0x0000700012345678ull },
	{ MSR_FS_BASE, "IA32_FS_BASE", 0x00007fffdeadb000ull },
	{ MSR_GS_BASE, "IA32_GS_BASE", 0xffff8000cafe0000ull },
	{ MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE", 0xffffffff81000000ull },
	{ MSR_STAR, "IA32_STAR", 0x0023001000000000ull },
	{ MSR_LSTAR, "IA32_LSTAR", 0xffffffff81a00000ull },
	{ MSR_FMASK, "IA32_FMASK", 0x47700 },
};

/* Writes the value, reads it back, then restores the old value. */
static void check_round_trip(u32 msr, const char *name, u64 value)
{
	u64 old = 0, got = 0;
	bool ok = try_rdmsr(msr, &old) && try_wrmsr(msr, value) && try_rdmsr(msr, &got);

	if (ok)
		wrmsr(msr, old);
	reportf(ok && got == value, "%s (%#x) round trip: wrote %#lx, read %#lx", name, msr,
		value, got);
}

static void check_round_trips(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(round_trip_msrs); i++)
		check_round_trip(round_trip_msrs[i].msr, round_trip_msrs[i].name,
				 round_trip_msrs[i].value);
	if (cpuid(0x80000001).edx & CPUID_80000001_EDX_RDTSCP)
		check_round_trip(MSR_TSC_AUX, "IA32_TSC_AUX", 0x2a);
	else
		report_skip("IA32_TSC_AUX: CPUID has no RDTSCP");
}

static void check_efer(void)
{
	u64 efer = rdmsr(MSR_EFER);
	u64 toggled = 0;

	reportf((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
		"EFER.LME and EFER.LMA are set in long mode (EFER %#lx)", efer);
	wrmsr(MSR_EFER, efer ^ EFER_SCE);
	toggled = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer);
	reportf(toggled == (efer ^ EFER_SCE), "EFER.SCE toggles (read %#lx after writing %#lx)",
		toggled, efer ^ EFER_SCE);
	reportf(rdmsr(MSR_EFER) == efer, "EFER restored (%#lx)", efer);
}

static void expect_gp0(const char *what, bool raised_nothing)
{
	reportf(!raised_nothing && last_exception.vector == GP_VECTOR &&
		last_exception.error_code == 0, "%s raises #GP(0) (got %s, error code %#lx)",
		what, raised_nothing ? "no exception" : exception_name(last_exception.vector),
		last_exception.error_code);
}

static void check_pat(void)
{
	u64 old = rdmsr(MSR_PAT);

	check_round_trip(MSR_PAT, "IA32_PAT", PAT_TEST_VALUE);
	expect_gp0("WRMSR of IA32_PAT with reserved type 2 in entry 0",
		   try_wrmsr(MSR_PAT, (old & ~0xffull) | PAT_RESERVED_TYPE));
	reportf(rdmsr(MSR_PAT) == old, "IA32_PAT unchanged by the refused write (%#lx)", old);
}

static void check_apic_base(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	reportf(base == EXPECTED_APIC_BASE, "IA32_APIC_BASE reads %#x: BSP, enabled, at %#x "
		"(got %#lx)", EXPECTED_APIC_BASE, XAPIC_BASE, base);
}

static void check_tsc_write(void)
{
	u64 got;

	wrmsr(MSR_TSC, TSC_TEST_VALUE);
	got = rdtsc();
	reportf(got >= TSC_TEST_VALUE && got - TSC_TEST_VALUE < TSC_WRITE_SLACK,
		"IA32_TIME_STAMP_COUNTER write then RDTSC: wrote %#lx, read %#lx", TSC_TEST_VALUE,
		got);
}

static void check_absent_msr(u32 msr, const char *name)
{
	u64 v = 0;
	char what[64];

	snprintf(what, sizeof(what), "RDMSR of %s (%#x)", name, msr);
	expect_gp0(what, try_rdmsr(msr, &v));
	snprintf(what, sizeof(what), "WRMSR of %s (%#x)", name, msr);
	expect_gp0(what, try_wrmsr(msr, 0));
}

/* x2APIC MSRs exist only in x2APIC mode, and x2APIC mode only where CPUID offers it
 * (Intel SDM Vol. 3A 11.12.1). */
static void check_x2apic_msrs(void)
{
	u64 v = 0;

	expect_gp0("RDMSR of the x2APIC ID (0x802) in xAPIC mode", try_rdmsr(MSR_X2APIC_ID, &v));
	if (!cpu_has_x2apic()) {
		expect_gp0("setting IA32_APIC_BASE.EXTD without CPUID x2APIC",
			   try_wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC));
		return;
	}
	apic_enter_x2apic();
	reportf(try_rdmsr(MSR_X2APIC_ID, &v), "RDMSR of the x2APIC ID in x2APIC mode (%#lx)", v);
	/* x2APIC mode has a single 64-bit ICR at 0x830 and no DFR (SDM Vol. 3A table 11-6). */
	expect_gp0("RDMSR of 0x831 (no ICR high half in x2APIC mode)", try_rdmsr(0x831, &v));
	expect_gp0("RDMSR of 0x80e (no DFR in x2APIC mode)", try_rdmsr(0x80e, &v));
	apic_return_to_xapic();
	reportf(rdmsr(MSR_APIC_BASE) == EXPECTED_APIC_BASE, "back in xAPIC mode (%#lx)",
		rdmsr(MSR_APIC_BASE));
}

int main(const struct multiboot_info *mbi)
{
	check_round_trips();
	check_efer();
	check_pat();
	check_apic_base();
	check_tsc_write();
	check_absent_msr(MSR_UNKNOWN_INTEL_RANGE, "an unknown MSR");
	check_absent_msr(MSR_UNKNOWN_AMD_RANGE, "an unknown MSR in AMD's range");
	check_absent_msr(MSR_VMX_BASIC, "IA32_VMX_BASIC (VMX is hidden)");
	check_x2apic_msrs();
	exit_test();
}
