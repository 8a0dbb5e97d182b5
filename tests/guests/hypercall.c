/* hypercall: the VMCALL ABI of vmexit/hypercall.h from a guest: console output, error codes,
 * management calls (allowed only when the VM is trusted: the word "trusted" on this guest's
 * own command line says which to expect), counters, the statistics dump and the exit. */
#include "tests/guests/lib/guest.h"

#define HC_UNKNOWN_NUMBER 0x7777
#define HC_UNKNOWN_MGMT_NUMBER (HC_MGMT_FIRST + 0xff)
#define GPA_OUTSIDE_RAM 0xf0000000ul

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

int main(const struct multiboot_info *mbi)
{
	bool trusted = cmdline_has_word(mb_cmdline(mbi), "trusted");
	long ret;

	printf("hypercall test, expecting a%s VM\n", trusted ? " trusted" : "n untrusted");
	check_console_write();
	check_bad_numbers();
	check_management(trusted);
	check_counters();
	reportf(hc_stats_dump() == 0, "HC_STATS_DUMP returns 0");
	if (report_failures())
		exit_test();
	printf("SUMMARY: all passed; exiting with HC_TEST_EXIT(0)\n");
	ret = hc_test_exit(0);
	reportf(false, "HC_TEST_EXIT stopped the VM (it returned %ld)", ret);
	exit_test();
}
