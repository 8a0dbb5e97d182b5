/* msr: RDMSR/WRMSR as a Vireo guest sees them: the MSRs a kernel programs round-trip, EFER
 * and PAT keep their rules, the APIC base is the BSP's, the machine-check banks, MTRRs and
 * IA32_MISC_ENABLE that CPUID promises behave as the SDM says, and MSRs the CPU does not
 * have (unknown ones, VMX's, those of features CPUID does not enumerate, reserved x2APIC
 * registers) raise #GP(0) exactly as hardware does; so does RDPMC without a PMU. */
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
#define MSR_X2APIC_SELF_IPI 0x83f

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

static void expect_gp0_write(u32 msr, const char *name, u64 value)
{
	char what[96];

	snprintf(what, sizeof(what), "WRMSR of %#lx to %s (%#x)", value, name, msr);
	expect_gp0(what, try_wrmsr(msr, value));
}

/* Reads that succeed and return expected (an MSR that exists and holds nothing). */
static void expect_read(u32 msr, const char *name, u64 expected)
{
	u64 v = ~expected;
	bool ok = try_rdmsr(msr, &v);

	reportf(ok && v == expected, "RDMSR of %s (%#x) reads %#lx (got %s%#lx)", name, msr,
		expected, ok ? "" : "a fault, ", v);
}

/* ---- Machine-check architecture (Intel SDM Vol. 3B 16.3) ---- */

#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_MCA (1u << 14)
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MC_CTL(bank) (0x400 + 4 * (bank))
#define MC_STATUS 1		/* offsets in a bank's four MSRs */
#define MC_ADDR 2
#define MC_MISC 3
#define MCG_CAP_COUNT 0xffull
#define MCG_CTL_P (1ull << 8)
#define MCA_BANKS_EXPECTED 2	/* what Vireo promises */
#define MCG_STATUS_RIPV_EIPV 0x3ull
#define MCG_STATUS_LMCE_S (1ull << 3)	/* reserved without MCG_CAP.MCG_LMCE_P */
#define MC_STATUS_VAL (1ull << 63)

static void check_mca_bank(unsigned bank)
{
	u32 ctl = MSR_MC_CTL(bank);
	char name[24];

	snprintf(name, sizeof(name), "IA32_MC%u_CTL", bank);
	check_round_trip(ctl, name, 0);
	check_round_trip(ctl, name, ~0ull);
	expect_gp0_write(ctl, name, 0xff);	/* all ones or all zeros (16.3.2.1) */
	snprintf(name, sizeof(name), "IA32_MC%u_STATUS", bank);
	reportf(try_wrmsr(ctl + MC_STATUS, 0), "WRMSR of 0 to %s (clearing it) is accepted",
		name);
	expect_read(ctl + MC_STATUS, name, 0);
	expect_gp0_write(ctl + MC_STATUS, name, MC_STATUS_VAL);	/* only 0 (16.3.2.2) */
	snprintf(name, sizeof(name), "IA32_MC%u_ADDR", bank);
	expect_read(ctl + MC_ADDR, name, 0);
	snprintf(name, sizeof(name), "IA32_MC%u_MISC", bank);
	expect_read(ctl + MC_MISC, name, 0);
}

static void check_mcg_status(void)
{
	check_round_trip(MSR_MCG_STATUS, "IA32_MCG_STATUS", MCG_STATUS_RIPV_EIPV);
	expect_gp0_write(MSR_MCG_STATUS, "IA32_MCG_STATUS (LMCE_S without LMCE_P)",
			 MCG_STATUS_LMCE_S);
	expect_gp0_write(MSR_MCG_STATUS, "IA32_MCG_STATUS (reserved bit 63)", 1ull << 63);
	expect_read(MSR_MCG_STATUS, "IA32_MCG_STATUS after the refused writes", 0);
}

static void check_mca(void)
{
	u32 edx = cpuid(1).edx;
	u64 cap = 0;
	unsigned banks;
	bool ok;

	reportf((edx & CPUID_1_EDX_MCE) && (edx & CPUID_1_EDX_MCA),
		"CPUID.1:EDX shows MCE and MCA (EDX %#x)", edx);
	ok = try_rdmsr(MSR_MCG_CAP, &cap);
	reportf(ok && (cap & MCG_CAP_COUNT) == MCA_BANKS_EXPECTED && !(cap & MCG_CTL_P),
		"IA32_MCG_CAP: %u banks, no MCG_CTL_P (got %#lx)", MCA_BANKS_EXPECTED, cap);
	banks = cap & MCG_CAP_COUNT;
	expect_gp0_write(MSR_MCG_CAP, "IA32_MCG_CAP (read-only)", cap);
	if (!(cap & MCG_CTL_P))
		check_absent_msr(MSR_MCG_CTL, "IA32_MCG_CTL (no MCG_CTL_P)");
	check_mcg_status();
	for (unsigned bank = 0; bank < banks; bank++)
		check_mca_bank(bank);
	check_absent_msr(MSR_MC_CTL(banks), "IA32_MCi_CTL of the bank past the count");
	check_absent_msr(MSR_MC_CTL(banks) + MC_STATUS, "IA32_MCi_STATUS past the count");
}

/* ---- IA32_MISC_ENABLE (Intel SDM Vol. 4, table 2-2) ---- */

#define MSR_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE (1ull << 11)	/* read-only */
#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)	/* would cap CPUID leaf 0's maximum at 2 */

static void check_misc_enable(void)
{
	u64 old = rdmsr(MSR_MISC_ENABLE);

	check_round_trip(MSR_MISC_ENABLE, "IA32_MISC_ENABLE fast strings",
			 old ^ MISC_ENABLE_FAST_STRINGS);
	reportf(try_wrmsr(MSR_MISC_ENABLE, old ^ MISC_ENABLE_BTS_UNAVAILABLE) &&
		rdmsr(MSR_MISC_ENABLE) == old,
		"IA32_MISC_ENABLE: a write to read-only bit 11 leaves it (%#lx)", old);
	reportf(try_wrmsr(MSR_MISC_ENABLE, old | MISC_ENABLE_LIMIT_CPUID) &&
		rdmsr(MSR_MISC_ENABLE) == old && cpuid(0).eax > 2,
		"IA32_MISC_ENABLE: limit-CPUID-maxval (22), not modelled, keeps its value");
	wrmsr(MSR_MISC_ENABLE, old);
}

/* ---- MTRRs (Intel SDM Vol. 3A 12.11) and the informational MSRs ---- */

#define CPUID_1_EDX_MTRR (1u << 12)
#define MSR_MTRRCAP 0xfe
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_FIX64K_00000 0x250
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRRCAP_VCNT 0xffull
#define MTRRCAP_FIX (1ull << 8)
#define MTRR_DEF_TYPE_E_WB 0x806ull	/* E (11), default type WB (6) */
#define MTRR_DEF_TYPE_FE (1ull << 10)
#define MTRR_TYPE_RESERVED 2
#define MSR_PLATFORM_ID 0x17
#define MSR_BIOS_SIGN_ID 0x8b

static void check_mtrrs(void)
{
	u64 cap = 0;
	bool ok;

	if (!(cpuid(1).edx & CPUID_1_EDX_MTRR)) {
		check_absent_msr(MSR_MTRRCAP, "IA32_MTRRCAP (CPUID has no MTRR)");
		return;
	}
	ok = try_rdmsr(MSR_MTRRCAP, &cap);
	reportf(ok, "RDMSR of IA32_MTRRCAP (%#lx)", cap);
	expect_gp0_write(MSR_MTRRCAP, "IA32_MTRRCAP (read-only)", cap);
	if ((cap & MTRRCAP_VCNT) == 0)
		check_absent_msr(MSR_MTRR_PHYSBASE0, "IA32_MTRR_PHYSBASE0 (VCNT is 0)");
	if (!(cap & MTRRCAP_FIX)) {
		check_absent_msr(MSR_MTRR_FIX64K_00000, "IA32_MTRR_FIX64K_00000 (no FIX)");
		check_absent_msr(MSR_MTRR_FIX4K_C0000, "IA32_MTRR_FIX4K_C0000 (no FIX)");
		expect_gp0_write(MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE (FE without FIX)",
				 MTRR_DEF_TYPE_E_WB | MTRR_DEF_TYPE_FE);
	}
	check_round_trip(MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE", MTRR_DEF_TYPE_E_WB);
	expect_gp0_write(MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE (reserved type 2)",
			 MTRR_TYPE_RESERVED);
	expect_gp0_write(MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE (reserved bit 12)", 1ull << 12);
}

static void check_informational_msrs(void)
{
	u64 v = 0;

	bool ok = try_rdmsr(MSR_PLATFORM_ID, &v);

	reportf(ok, "RDMSR of IA32_PLATFORM_ID (%#lx)", v);
	expect_gp0_write(MSR_PLATFORM_ID, "IA32_PLATFORM_ID (read-only)", v);
	ok = try_wrmsr(MSR_BIOS_SIGN_ID, 0);
	(void)cpuid(1);		/* loads the signature (Intel SDM Vol. 3A 10.11.7.1) */
	ok = ok && try_rdmsr(MSR_BIOS_SIGN_ID, &v);
	reportf(ok, "IA32_BIOS_SIGN_ID: write 0, CPUID, read (%#lx)", v);
}

/* ---- MSRs that exist exactly when CPUID enumerates their feature ---- */

#define CPUID_7_EDX_IBRS_IBPB (1u << 26)
#define CPUID_7_EDX_STIBP (1u << 27)
#define CPUID_7_EDX_L1D_FLUSH (1u << 28)
#define CPUID_7_EDX_ARCH_CAPABILITIES (1u << 29)
#define CPUID_7_EDX_SSBD (1u << 31)
#define CPUID_6_ECX_APERF_MPERF (1u << 0)
#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_FLUSH_CMD 0x10b
#define MSR_MPERF 0xe7
#define MSR_APERF 0xe8
#define COMMAND_IBPB 1		/* IA32_PRED_CMD bit 0 */
#define COMMAND_L1D_FLUSH 1	/* IA32_FLUSH_CMD bit 0 */

/* An enumerated MSR is probed by a read (readable ones) or by a valid command write. */
static void check_enumerated(bool enumerated, u32 msr, const char *name, bool write_only,
			     u64 command)
{
	u64 v = 0;

	if (!enumerated) {
		check_absent_msr(msr, name);
		return;
	}
	if (write_only)
		reportf(try_wrmsr(msr, command), "WRMSR of command %#lx to %s (%#x)", command,
			name, msr);
	else
		reportf(try_rdmsr(msr, &v), "RDMSR of %s (%#x)", name, msr);
}

static void check_cpuid_gated_msrs(void)
{
	u32 edx7 = cpuid_count(7, 0).edx;
	bool aperf = cpuid(0).eax >= 6 && (cpuid(6).ecx & CPUID_6_ECX_APERF_MPERF);

	check_enumerated(edx7 & (CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_SSBD),
			 MSR_SPEC_CTRL, "IA32_SPEC_CTRL", false, 0);
	check_enumerated(edx7 & CPUID_7_EDX_IBRS_IBPB, MSR_PRED_CMD, "IA32_PRED_CMD", true,
			 COMMAND_IBPB);
	check_enumerated(edx7 & CPUID_7_EDX_L1D_FLUSH, MSR_FLUSH_CMD, "IA32_FLUSH_CMD", true,
			 COMMAND_L1D_FLUSH);
	check_enumerated(edx7 & CPUID_7_EDX_ARCH_CAPABILITIES, MSR_ARCH_CAPABILITIES,
			 "IA32_ARCH_CAPABILITIES", false, 0);
	check_enumerated(aperf, MSR_MPERF, "IA32_MPERF", false, 0);
	check_enumerated(aperf, MSR_APERF, "IA32_APERF", false, 0);
}

/* ---- RDPMC (Intel SDM Vol. 2B): no PMU is exposed, so every counter is invalid ---- */

#define CR4_PCE (1ul << 8)
#define RDPMC_FIXED_COUNTERS (1u << 30)

static bool try_rdpmc(u32 counter)
{
	return catch_exception(asm volatile("rdpmc" : : "c"(counter) : "rax", "rdx")) ==
	       NO_EXCEPTION;
}

static void check_rdpmc_counters(const char *cr4_pce)
{
	char what[80];

	snprintf(what, sizeof(what), "RDPMC of counter 0 at CPL 0, CR4.PCE %s", cr4_pce);
	expect_gp0(what, try_rdpmc(0));
	snprintf(what, sizeof(what), "RDPMC of fixed counter 0 at CPL 0, CR4.PCE %s", cr4_pce);
	expect_gp0(what, try_rdpmc(RDPMC_FIXED_COUNTERS));
}

static void check_rdpmc(void)
{
	unsigned long cr4 = read_cr4();

	reportf(cpuid(0).eax < 0xa || cpuid(0xa).eax == 0,
		"CPUID leaf 0xa shows no performance monitoring (EAX %#x)",
		cpuid(0).eax < 0xa ? 0 : cpuid(0xa).eax);
	write_cr4(cr4 & ~CR4_PCE);
	check_rdpmc_counters("clear");
	write_cr4(cr4 | CR4_PCE);
	check_rdpmc_counters("set");
	write_cr4(cr4);
}

/* x2APIC MSRs exist only in x2APIC mode, and x2APIC mode only where CPUID offers it
 * (Intel SDM Vol. 3A 11.12.1). */
static void check_x2apic_msrs(void)
{
	u64 v = 0;
	bool ok;

	expect_gp0("RDMSR of the x2APIC ID (0x802) in xAPIC mode", try_rdmsr(MSR_X2APIC_ID, &v));
	if (!cpu_has_x2apic()) {
		expect_gp0("setting IA32_APIC_BASE.EXTD without CPUID x2APIC",
			   try_wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC));
		return;
	}
	apic_enter_x2apic();
	ok = try_rdmsr(MSR_X2APIC_ID, &v);
	reportf(ok, "RDMSR of the x2APIC ID in x2APIC mode (%#lx)", v);
	/* x2APIC mode has a single 64-bit ICR at 0x830 and no DFR (SDM Vol. 3A table 11-6). */
	expect_gp0("RDMSR of 0x831 (no ICR high half in x2APIC mode)", try_rdmsr(0x831, &v));
	expect_gp0("RDMSR of 0x80e (no DFR in x2APIC mode)", try_rdmsr(0x80e, &v));
	expect_gp0("RDMSR of 0x801 (reserved)", try_rdmsr(0x801, &v));
	expect_gp0("RDMSR of 0x83f (SELF IPI is write-only)", try_rdmsr(MSR_X2APIC_SELF_IPI, &v));
	expect_gp0("WRMSR of the x2APIC ID (read-only)",
		   try_wrmsr(MSR_X2APIC_ID, rdmsr(MSR_X2APIC_ID)));
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
	check_mca();
	check_misc_enable();
	check_mtrrs();
	check_informational_msrs();
	check_cpuid_gated_msrs();
	check_rdpmc();
	exit_test();
}
