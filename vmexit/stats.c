/* Per-VM statistics, printed by name: exits by reason, the MMIO paths taken, and the
 * instructions the emulator ran, by opcode. */
#include "lib/log.h"
#include "vmexit/handlers.h"

static const char *const counter_names[HC_STAT_COUNT] = {
	[HC_STAT_EXITS] = "exits",
	[HC_STAT_MMIO_SLOW] = "MMIO via EPT violation or #PF (slot search)",
	[HC_STAT_MMIO_CACHED] = "MMIO via cached spte (misconfig or RSVD)",
	[HC_STAT_MMIO_FAST] = "MMIO doorbells on the fast bus",
	[HC_STAT_MMIO_STALE] = "stale MMIO sptes dropped",
	[HC_STAT_EMULATED] = "instructions emulated",
	[HC_STAT_TESTDEV_DOORBELL] = "test-device doorbells",
	[HC_STAT_TESTDEV_LAST_VALUE] = "test-device last doorbell value",
	[HC_STAT_MMIO_SITE] = "MMIO accesses a remembered site served",
};

static void print_exits(const struct vm *vm)
{
	for (u32 r = 0; r < EXIT_REASON_COUNT; r++)
		if (vm->stats.exits[r])
			printk("vm %s:   exit %-35s %llu\n", vm->name, exit_reason_name(r),
			       (unsigned long long)vm->stats.exits[r]);
	if (vm->stats.guest_ticks)
		printk("vm %s:   %-40s %llu\n", vm->name, "ticks in the guest",
		       (unsigned long long)vm->stats.guest_ticks);
	for (u32 r = 0; r < EXIT_REASON_COUNT; r++)
		if (vm->stats.exit_ticks[r])
			printk("vm %s:   ticks exit %-29s %llu\n", vm->name, exit_reason_name(r),
			       (unsigned long long)vm->stats.exit_ticks[r]);
}

static void print_emulated(const struct vm *vm)
{
	for (unsigned i = 0; i < EMULATED_OPCODE_SLOTS; i++)
		if (vm->stats.emulated_by_opcode[i])
			printk("vm %s:   emulated opcode %s%02x%*s %llu\n", vm->name, i >= 256 ? "0f " : "",
			       i & 0xff, i >= 256 ? 19 : 22, "", (unsigned long long)vm->stats.emulated_by_opcode[i]);
}

static void print_shadow(const struct vm *vm)
{
	const struct mmu_shadow *s = &vm->mmu.shadow;
	const struct { const char *name; u64 value; } rows[] = {
		{ "shadow pages now / budget", vm->mmu.npages }, { "shadow pages created", s->stats.pages_created },
		{ "shadow pages reused", s->stats.pages_reused },
		{ "shadow pages zapped", s->stats.pages_zapped },
		{ "  of which reclaimed (budget)", s->stats.pages_reclaimed },
		{ "  of which unshadowed (written often)", s->stats.pages_unshadowed },
		{ "shadow root loads", s->stats.root_loads },
		{ "  of which found in the cache", s->stats.root_hits },
		{ "    kept roots (PCID no-flush switches)", s->stats.kept_root_loads },
		{ "#PF fixed by the shadow MMU", s->stats.faults_fixed },
		{ "  leaves mapped ahead around them", s->stats.fault_prefetches },
		{ "#PF reflected to the guest", s->stats.faults_reflected },
		{ "page-table writes emulated", s->stats.write_protect_faults },
		{ "  entries of shadowed tables written", s->stats.pte_writes },
		{ "    updated in place", s->stats.ptes_prefetched },
		{ "    dropped", s->stats.ptes_zapped },
		{ "INVLPG", s->stats.invlpg },
		{ "page tables left unsync (written freely)", s->stats.pages_unsynced },
		{ "TLB flushes that synced unsync pages", s->stats.syncs },
		{ "  their sptes dropped as stale", s->stats.sync_drops },
		{ "  their sptes kept with fewer rights", s->stats.sync_narrowed },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (i == 0)
			printk("vm %s:   %-40s %llu / %llu\n", vm->name, rows[i].name,
			       (unsigned long long)rows[i].value, (unsigned long long)s->max_pages);
		else if (rows[i].value)
			printk("vm %s:   %-40s %llu\n", vm->name, rows[i].name,
			       (unsigned long long)rows[i].value);
	}
}

/* Zap-alls and the MMU lock; nothing when the VM never zapped. */
static void print_mmu(const struct vm *vm)
{
	const struct mmu_stats *m = &vm->mmu.stats;
	const struct { const char *name; u64 value; } rows[] = {
		{ "zap-alls", m->zap_alls },
		{ "  obsolete pages freed", m->obsolete_pages_freed },
		{ "  batches (MMU-lock holds)", m->zap_batches },
		{ "  zap-all work (ticks)", m->zap_ticks },
		{ "longest MMU-lock hold (ticks)", m->lock_hold_max },
		{ "root reloads", m->root_reloads },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].value)
			printk("vm %s:   %-40s %llu\n", vm->name, rows[i].name,
			       (unsigned long long)rows[i].value);
}

void vm_print_stats(const struct vm *vm)
{
	printk("vm %s: statistics:\n", vm->name);
	for (unsigned c = 0; c < HC_STAT_COUNT; c++)
		if (vm->stats.counters[c])
			printk("vm %s:   %-40s %llu\n", vm->name, counter_names[c],
			       (unsigned long long)vm->stats.counters[c]);
	if (vm->mmu.shadow.enabled)
		print_shadow(vm);
	print_mmu(vm);
	print_exits(vm);
	print_emulated(vm);
}
