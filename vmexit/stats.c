/* Per-VM statistics, printed by name: exits by reason, the MMIO paths taken, and the
 * instructions the emulator ran, by opcode. */
#include "lib/log.h"
#include "vmexit/handlers.h"

static const char *const counter_names[HC_STAT_COUNT] = {
	[HC_STAT_EXITS] = "exits",
	[HC_STAT_MMIO_SLOW] = "MMIO via EPT violation (slot search)",
	[HC_STAT_MMIO_CACHED] = "MMIO via cached spte (misconfig)",
	[HC_STAT_MMIO_FAST] = "MMIO doorbells on the fast bus",
	[HC_STAT_MMIO_STALE] = "stale MMIO sptes dropped",
	[HC_STAT_EMULATED] = "instructions emulated",
	[HC_STAT_TESTDEV_DOORBELL] = "test-device doorbells",
	[HC_STAT_TESTDEV_LAST_VALUE] = "test-device last doorbell value",
};

static void print_exits(const struct vm *vm)
{
	for (u32 r = 0; r < EXIT_REASON_COUNT; r++)
		if (vm->stats.exits[r])
			printk("vm %s:   exit %-35s %llu\n", vm->name, exit_reason_name(r),
			       (unsigned long long)vm->stats.exits[r]);
}

static void print_emulated(const struct vm *vm)
{
	for (unsigned i = 0; i < EMULATED_OPCODE_SLOTS; i++)
		if (vm->stats.emulated_by_opcode[i])
			printk("vm %s:   emulated opcode %s%02x%*s %llu\n", vm->name, i >= 256 ? "0f " : "",
			       i & 0xff, i >= 256 ? 19 : 22, "", (unsigned long long)vm->stats.emulated_by_opcode[i]);
}

void vm_print_stats(const struct vm *vm)
{
	printk("vm %s: statistics:\n", vm->name);
	for (unsigned c = 0; c < HC_STAT_COUNT; c++)
		if (vm->stats.counters[c])
			printk("vm %s:   %-40s %llu\n", vm->name, counter_names[c],
			       (unsigned long long)vm->stats.counters[c]);
	print_exits(vm);
	print_emulated(vm);
}
