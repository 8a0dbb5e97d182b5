/* hypercall: the VMCALL ABI of core/hypercall.h from a guest: console output, error codes,
 * management calls (allowed only when the VM is trusted: the word "trusted" on this guest's
 * own command line says which to expect), counters, the shadow MMU's switch and counters
 * (CPUID 0x40000001 says whether the VM runs on the shadow MMU or on EPT), the statistics
 * dump and the exit. */
#include "tests/guests/lib/guest.h"

#define HC_UNKNOWN_NUMBER 0x7777
#define HC_UNKNOWN_MGMT_NUMBER (HC_MGMT_FIRST + 0xff)
#define GPA_OUTSIDE_RAM 0xf0000000ul
#define HC_STAT_GAP_ID 0x20	/* between HC_STAT_COUNT and HC_STAT_SHADOW_FIRST */

static const char *const shadow_stat_names[HC_STAT_SHADOW_END - HC_STAT_SHADOW_FIRST] = {
	[HC_STAT_SHADOW_PAGES_CREATED - HC_STAT_SHADOW_FIRST] = "pages_created",
	[HC_STAT_SHADOW_ROOT_LOADS - HC_STAT_SHADOW_FIRST] = "root_loads",
	[HC_STAT_SHADOW_ROOT_HITS - HC_STAT_SHADOW_FIRST] = "root_hits",
	[HC_STAT_SHADOW_PAGES_UNSHADOWED - HC_STAT_SHADOW_FIRST] = "pages_unshadowed",
	[HC_STAT_SHADOW_WRITE_PROTECT_FAULTS - HC_STAT_SHADOW_FIRST] = "write_protect_faults",
	[HC_STAT_SHADOW_PTES_PREFETCHED - HC_STAT_SHADOW_FIRST] = "ptes_prefetched",
	[HC_STAT_SHADOW_FAULTS_REFLECTED - HC_STAT_SHADOW_FIRST] = "faults_reflected",
};

static const char console_text[] = "hello from HC_CONSOLE_WRITE\n";

static void check_console_write(void)
{
	long len = sizeof(console_text) - 1;
	long ret = hc_console_write(console_text, len);

	reportf(ret == len, "HC_CONSOLE_WRITE returns the length (%ld, got %ld)", len, ret);
	ret = hc_console_write((const void *)GPA_OUTSIDE_RAM, 16);
	reportf(ret == -HC_EFAULT, "HC_CONSOLE_WRITE from a gpa outside RAM returns -HC_EFAULT "
		"(got %ld)", ret);
}

static void check_bad_numbers(void)
{
	long ret = hypercall(HC_UNKNOWN_NUMBER, 0, 0, 0, 0);

	reportf(ret == -HC_ENOSYS, "unknown hypercall %#x returns -HC_ENOSYS (got %ld)",
		HC_UNKNOWN_NUMBER, ret);
	ret = hc_stat_read(HC_STAT_COUNT);
	reportf(ret == -HC_EINVAL, "HC_STAT_READ of counter %d (past the last) returns -HC_EINVAL "
		"(got %ld)", HC_STAT_COUNT, ret);
}

static bool on_shadow_mmu(void)
{
	return cpuid(VIREO_CPUID_FEATURES).eax & VIREO_FEATURE_SHADOW_MMU;
}

/* HC_SWITCH_SHADOW_CACHE: off and on again on the shadow MMU, refused on EPT; any value
 * other than 0 and 1 is refused on both. */
static void check_shadow_switch(bool trusted, bool shadow)
{
	const char *mmu = shadow ? "shadow MMU" : "EPT";
	long ret;

	if (!trusted) {
		ret = hc_set_switch(HC_SWITCH_SHADOW_CACHE, false);
		reportf(ret == -HC_EPERM, "untrusted: HC_SET_SWITCH shadow_cache=off returns "
			"-HC_EPERM (got %ld)", ret);
		return;
	}
	for (int i = 0; i < 3; i++) {
		bool on = i != 1;	/* on, off, on again */

		ret = hc_set_switch(HC_SWITCH_SHADOW_CACHE, on);
		if (shadow)
			reportf(ret == 0, "trusted: [%s] HC_SET_SWITCH shadow_cache=%s succeeds "
				"(got %ld)", mmu, on ? "on" : "off", ret);
		else
			reportf(ret == -HC_EINVAL, "trusted: [%s] HC_SET_SWITCH shadow_cache=%s "
				"returns -HC_EINVAL (got %ld)", mmu, on ? "on" : "off", ret);
	}
	ret = hypercall(HC_SET_SWITCH, HC_SWITCH_SHADOW_CACHE, 2, 0, 0);
	reportf(ret == -HC_EINVAL, "trusted: [%s] HC_SET_SWITCH shadow_cache=2 returns -HC_EINVAL "
		"(got %ld)", mmu, ret);
}

static void check_management(bool trusted)
{
	long ret = hc_set_switch(HC_SWITCH_MMIO_CACHE, true);

	if (trusted) {
		reportf(ret == 0, "trusted: HC_SET_SWITCH mmio_cache=on succeeds (got %ld)", ret);
		ret = hypercall(HC_UNKNOWN_MGMT_NUMBER, 0, 0, 0, 0);
		reportf(ret == -HC_ENOSYS, "trusted: unknown management call returns -HC_ENOSYS "
			"(got %ld)", ret);
		ret = hc_set_switch(HC_SWITCH_MMIO_CACHE + 1000, true);
		reportf(ret == -HC_EINVAL, "trusted: HC_SET_SWITCH of an unknown switch returns "
			"-HC_EINVAL (got %ld)", ret);
	} else {
		reportf(ret == -HC_EPERM, "untrusted: HC_SET_SWITCH returns -HC_EPERM (got %ld)",
			ret);
		ret = hc_memslot_add(0xfd000, 1, 0);
		reportf(ret == -HC_EPERM, "untrusted: HC_MEMSLOT_ADD returns -HC_EPERM (got %ld)",
			ret);
	}
}

static void check_counters(void)
{
	long first = hc_stat_read(HC_STAT_EXITS);
	long second = hc_stat_read(HC_STAT_EXITS);

	reportf(first > 0, "HC_STAT_READ(HC_STAT_EXITS) counts this VM's exits (%ld)", first);
	reportf(second > first, "HC_STAT_EXITS grows between two reads (%ld then %ld)", first,
		second);
	for (int id = 0; id < HC_STAT_COUNT; id++) {
		long v = hc_stat_read(id);

		reportf(v >= 0, "HC_STAT_READ(%d) succeeds (%ld)", id, v);
	}
}

/* The shadow MMU's counters: readable on both, all 0 on EPT; this guest's paging has been on
 * since its start code, so the shadow MMU has loaded at least one root. Ids in the gap
 * before them and past them are bad arguments. */
static void check_shadow_counters(bool shadow)
{
	const char *mmu = shadow ? "shadow MMU" : "EPT";
	long ret;

	for (int id = HC_STAT_SHADOW_FIRST; id < HC_STAT_SHADOW_END; id++) {
		const char *name = shadow_stat_names[id - HC_STAT_SHADOW_FIRST];
		long v = hc_stat_read(id);

		if (shadow)
			reportf(v >= 0, "[%s] HC_STAT_READ(%#x, %s) succeeds (%ld)", mmu, id, name,
				v);
		else
			reportf(v == 0, "[%s] HC_STAT_READ(%#x, %s) returns 0 (got %ld)", mmu, id,
				name, v);
	}
	if (shadow) {
		ret = hc_stat_read(HC_STAT_SHADOW_ROOT_LOADS);
		reportf(ret > 0, "[%s] HC_STAT_SHADOW_ROOT_LOADS counts the roots loaded since "
			"paging went on (%ld)", mmu, ret);
		ret = hc_stat_read(HC_STAT_SHADOW_PAGES_CREATED);
		reportf(ret > 0, "[%s] HC_STAT_SHADOW_PAGES_CREATED counts shadow pages (%ld)",
			mmu, ret);
	}
	ret = hc_stat_read(HC_STAT_GAP_ID);
	reportf(ret == -HC_EINVAL, "HC_STAT_READ(%#x), between the counter ranges, returns "
		"-HC_EINVAL (got %ld)", HC_STAT_GAP_ID, ret);
	ret = hc_stat_read(HC_STAT_SHADOW_FIRST - 1);
	reportf(ret == -HC_EINVAL, "HC_STAT_READ(%#x), just before the shadow counters, returns "
		"-HC_EINVAL (got %ld)", HC_STAT_SHADOW_FIRST - 1, ret);
	ret = hc_stat_read(HC_STAT_SHADOW_END);
	reportf(ret == -HC_EINVAL, "HC_STAT_READ(%#x, HC_STAT_SHADOW_END) returns -HC_EINVAL "
		"(got %ld)", HC_STAT_SHADOW_END, ret);
	ret = hc_stat_read(0x10000);
	reportf(ret == -HC_EINVAL, "HC_STAT_READ(%#x), far past the last, returns -HC_EINVAL "
		"(got %ld)", 0x10000, ret);
}

int main(const struct multiboot_info *mbi)
{
	bool trusted = cmdline_has_word(mb_cmdline(mbi), "trusted");
	bool shadow = on_shadow_mmu();
	long ret;

	printf("hypercall test, expecting a%s VM; CPUID says it runs on %s\n",
	       trusted ? " trusted" : "n untrusted", shadow ? "the shadow MMU" : "EPT");
	check_console_write();
	check_bad_numbers();
	check_management(trusted);
	check_shadow_switch(trusted, shadow);
	check_counters();
	check_shadow_counters(shadow);
	reportf(hc_stats_dump() == 0, "HC_STATS_DUMP returns 0");
	if (report_failures())
		exit_test();
	printf("SUMMARY: all passed; exiting with HC_TEST_EXIT(0)\n");
	ret = hc_test_exit(0);
	reportf(false, "HC_TEST_EXIT stopped the VM (it returned %ld)", ret);
	exit_test();
}
