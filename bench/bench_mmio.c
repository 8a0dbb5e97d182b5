/* bench_mmio: the cost of MMIO exits: the first access to a page (slow path), the cached
 * path, doorbells on the fast MMIO bus, and, when the VM is trusted, the uncached path and
 * both paths with 64 and 512 memory slots, and doorbells with fast_mmio off.
 * Built twice: as a 64-bit guest (bench_mmio.elf) and as a 32-bit guest with paging off
 * (bench_mmio32.elf, names ending in "32"), which runs the untrusted part only. */
#include "bench/bench.h"
#include "tests/guests/lib/guest.h"

#ifdef __x86_64__
#define FLAVOUR ""
#define FULL_SUITE true
#else
#define FLAVOUR "32"
#define FULL_SUITE false
#endif

/* Pages no slot or device claims, each touched once by the first-access benchmark. */
#define FRESH_MMIO_BASE 0xe0000000u
#define CACHED_TARGET (TESTDEV_MMIO_BASE + 0x100)
#define CACHED_PAGE_START (TESTDEV_MMIO_BASE + 0x1000)	/* offset 0 of a page */
#define DOORBELL (VIREO_TESTDEV_BASE + VIREO_TESTDEV_DOORBELL)
/* Extra one-page RAM slots go high, every other gfn so none can merge with another. */
#define EXTRA_SLOT_FIRST_GFN 0x100000ul		/* 4 GiB */
#define EXTRA_SLOT_GFN_STRIDE 2
#define MAX_EXTRA_SLOTS 511

static long extra_slots[MAX_EXTRA_SLOTS];
static unsigned extra_slot_count;

/* A 4-byte MOV write, as in the cached benchmark, so the two compare. */
static void op_first_access(unsigned i)
{
	mmio_write32(FRESH_MMIO_BASE + i * PAGE_SIZE, i);
}

static void op_write_testdev(unsigned i)
{
	mmio_write32(CACHED_TARGET, i);
}

static void op_write_page_start(unsigned i)
{
	mmio_write32(CACHED_PAGE_START, i);
}

static void op_ring_doorbell(unsigned i)
{
	mmio_write32(DOORBELL, i);
}

/* The MMIO pages are touched once first, so every timed access finds them cached. */
static void run_untrusted(void)
{
	bench_run("mmio_first" FLAVOUR, op_first_access, BENCH_ITERATIONS, false);
	mmio_read32(CACHED_TARGET);
	bench_run("mmio_cached" FLAVOUR, op_write_testdev, BENCH_ITERATIONS, true);
	mmio_read32(CACHED_PAGE_START);
	bench_run("mmio_cached_page_start" FLAVOUR, op_write_page_start, BENCH_ITERATIONS, true);
	mmio_read32(VIREO_TESTDEV_BASE + VIREO_TESTDEV_DOORBELL_COUNT);
	bench_run("doorbell" FLAVOUR, op_ring_doorbell, BENCH_ITERATIONS, true);
}

/* Adds one-page RAM slots until there are total - 1 extra ones (the VM's RAM is one). */
static bool grow_slots(unsigned total)
{
	while (extra_slot_count < total - 1) {
		unsigned long gfn = EXTRA_SLOT_FIRST_GFN + EXTRA_SLOT_GFN_STRIDE * extra_slot_count;
		long slot = hc_memslot_add(gfn, 1, 0);

		if (slot < 0) {
			printf("bench: HC_MEMSLOT_ADD of gfn %#lx failed (%ld)\n", gfn, slot);
			return false;
		}
		extra_slots[extra_slot_count++] = slot;
	}
	return true;
}

static void delete_slots(void)
{
	while (extra_slot_count)
		hc_memslot_delete(extra_slots[--extra_slot_count]);
}

static void run_with_slots(unsigned slots, const char *uncached, const char *cached)
{
	if (!grow_slots(slots)) {
		bench_skip(uncached, "could not add the memory slots");
		if (cached)
			bench_skip(cached, "could not add the memory slots");
		return;
	}
	hc_set_switch(HC_SWITCH_MMIO_CACHE, false);
	bench_run(uncached, op_write_testdev, BENCH_ITERATIONS, true);
	hc_set_switch(HC_SWITCH_MMIO_CACHE, true);
	if (cached) {
		mmio_read32(CACHED_TARGET);
		bench_run(cached, op_write_testdev, BENCH_ITERATIONS, true);
	}
}

static void run_trusted(void)
{
	if (hc_set_switch(HC_SWITCH_FAST_MMIO, false) != 0) {
		bench_skip("doorbell_slow", "HC_SET_SWITCH refused: is the VM trusted?");
		return;
	}
	bench_run("doorbell_slow", op_ring_doorbell, BENCH_ITERATIONS, true);
	hc_set_switch(HC_SWITCH_FAST_MMIO, true);
	run_with_slots(1, "mmio_uncached_1", NULL);
	run_with_slots(64, "mmio_uncached_64", "mmio_cached_64");
	run_with_slots(512, "mmio_uncached_512", "mmio_cached_512");
	delete_slots();
}

int main(const struct multiboot_info *mbi)
{
	run_untrusted();
	if (FULL_SUITE)
		run_trusted();
	return 0;
}
