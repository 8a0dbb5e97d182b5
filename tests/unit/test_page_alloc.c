/* Unit tests of the buddy page allocator over a simulated physical address space.
 * unit-sources: lib/page_alloc.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/phys.h"
#include "tests/unit/unit.h"

uintptr_t phys_virt_offset;

/* A panic in a death test ends the child with this status; anywhere else it aborts. */
#define PANIC_EXIT_STATUS 86
static bool expecting_panic;

void arch_halt_after_panic(void)
{
	if (expecting_panic)
		_exit(PANIC_EXIT_STATUS);
	abort();
}

static void console_to_stderr(const char *s, size_t len)
{
	fwrite(s, 1, len, stderr);
}

/* Simulated physical memory: hpa x lives at arena + x. */
#define PHYS_SIZE MiB(160)
#define PHYS_NPAGES (PHYS_SIZE / PAGE_SIZE)

/* RAM with a low range (below 1 MiB: only the allocator's own rule keeps it out), holes,
 * unaligned edges, and two adjacent ranges that must form one run: [64M, 128M) is the only
 * free 64 MiB block. */
static const struct mem_range test_ram[] = {
	{ 0, 0x9fc00 },
	{ MiB(1), MiB(30) + 0x123 },
	{ MiB(32) + 0x800, MiB(64) },
	{ MiB(64), MiB(100) },
	{ MiB(100), PHYS_SIZE },
};

/* Reserved ranges: unaligned, overlapping each other, RAM and holes, one reaching 2^64. */
static const struct mem_range test_reserved[] = {
	{ MiB(1), MiB(1) + KiB(512) },
	{ MiB(2) + 0x10, MiB(3) + 1 },
	{ MiB(2) + KiB(512), MiB(5) },
	{ MiB(29), MiB(33) },
	{ MiB(40), MiB(40) + 1 },
	{ MiB(150) + 3, ~0ull },
};

#define TEST_ORDER_64M 14u

static u8 page_usable[PHYS_NPAGES];	/* the model: pages the allocator may hand out */
static u8 page_live[PHYS_NPAGES];	/* pages of blocks the test holds */
static u64 model_usable_pages;

static bool page_inside(u64 pfn, const struct mem_range *r)
{
	return pfn * PAGE_SIZE >= r->start && (pfn + 1) * PAGE_SIZE <= r->end;
}

static bool page_touches(u64 pfn, const struct mem_range *r)
{
	return pfn * PAGE_SIZE < r->end && (pfn + 1) * PAGE_SIZE > r->start;
}

/* Written independently of the allocator: a page is usable when it is whole inside some
 * RAM range, at or above 1 MiB, and touched by no reserved range. */
static void build_model(const struct mem_range *ram, size_t nram,
			const struct mem_range *reserved, size_t nreserved)
{
	bool usable;
	size_t i;
	u64 pfn;

	model_usable_pages = 0;
	memset(page_live, 0, sizeof(page_live));
	for (pfn = 0; pfn < PHYS_NPAGES; pfn++) {
		usable = false;
		for (i = 0; i < nram; i++)
			usable |= page_inside(pfn, &ram[i]);
		for (i = 0; i < nreserved; i++)
			usable &= !page_touches(pfn, &reserved[i]);
		usable &= pfn * PAGE_SIZE >= MiB(1);
		page_usable[pfn] = usable;
		model_usable_pages += usable;
	}
}

static void *phys_arena;

static void init_standard(void)
{
	build_model(test_ram, ARRAY_SIZE(test_ram), test_reserved, ARRAY_SIZE(test_reserved));
	CHECK(page_alloc_init(test_ram, ARRAY_SIZE(test_ram), test_reserved,
			      ARRAY_SIZE(test_reserved)) == NULL);
}

/* Checks a fresh block against the model and marks it live. */
static void hold_block(u64 hpa, unsigned int order)
{
	u64 pfn, first = hpa / PAGE_SIZE, n = 1ull << order;
	bool in_model = hpa >= MiB(1) && first + n <= PHYS_NPAGES;
	bool overlaps = false;

	CHECK(IS_ALIGNED(hpa, PAGE_SIZE << order));
	CHECK(in_model);
	if (!in_model)
		return;
	for (pfn = first; pfn < first + n; pfn++) {
		in_model &= page_usable[pfn];
		overlaps |= page_live[pfn];
		page_live[pfn] = 1;
	}
	CHECK(in_model);
	CHECK(!overlaps);
}

static void release_block(u64 hpa, unsigned int order)
{
	u64 first = hpa / PAGE_SIZE;

	memset(&page_live[first], 0, 1ull << order);
	page_free(hpa, order);
}

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void shuffle(u64 *v, size_t n)
{
	size_t i, j;
	u64 t;

	for (i = n; i > 1; i--) {
		j = rng_next() % i;
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static u64 held[PHYS_NPAGES];

/* Allocates every free page one by one, filling each with guest-like garbage. */
static size_t exhaust_single_pages(void)
{
	size_t n = 0;
	u64 hpa;

	while ((hpa = page_alloc(0)) != 0) {
		hold_block(hpa, 0);
		memset(phys_to_virt(hpa), 0xa5, PAGE_SIZE);
		held[n++] = hpa;
	}
	return n;
}

static void test_init_errors(void)
{
	static const struct mem_range low_only[] = { { 0, MiB(1) } };
	static const struct mem_range small[] = { { MiB(1), MiB(2) } };
	static const struct mem_range all[] = { { 0, ~0ull } };
	static const struct mem_range all_but_one_page[] = { { MiB(1) + PAGE_SIZE, MiB(2) } };
	static const struct mem_range sparse[] = {
		{ MiB(1), MiB(1) + PAGE_SIZE }, { GiB(1024), GiB(1024) + PAGE_SIZE },
	};

	CHECK(page_alloc_init(NULL, 0, NULL, 0) != NULL);
	CHECK(page_alloc_init(low_only, 1, NULL, 0) != NULL);
	CHECK(page_alloc_init(small, 1, all, 1) != NULL);
	/* The one page left goes to the state array. */
	CHECK(page_alloc_init(small, 1, all_but_one_page, 1) != NULL);
	/* The state array for a 1 TiB span cannot fit in two pages. */
	CHECK(page_alloc_init(sparse, 2, NULL, 0) != NULL);
	CHECK_EQ(page_alloc_total_pages(), 0);
	CHECK_EQ(page_alloc(0), 0);
}

/* Every usable page comes out exactly once, except the state array's own run. */
static void test_exhaust_and_reserved(void)
{
	u64 span_npages = PHYS_NPAGES - MiB(1) / PAGE_SIZE;
	u64 metadata_npages = (span_npages + PAGE_SIZE - 1) / PAGE_SIZE;
	u64 pfn, missing = 0, missing_first = 0, missing_last = 0;
	size_t n, i;

	init_standard();
	CHECK_EQ(page_alloc_total_pages(), model_usable_pages - metadata_npages);
	CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
	n = exhaust_single_pages();
	CHECK_EQ(n, page_alloc_total_pages());
	CHECK_EQ(page_alloc_free_pages(), 0);
	CHECK_EQ(page_alloc(0), 0);
	CHECK_EQ(page_alloc(PAGE_ORDER_MAX), 0);
	for (pfn = 0; pfn < PHYS_NPAGES; pfn++) {
		if (!page_usable[pfn] || page_live[pfn])
			continue;
		if (!missing++)
			missing_first = pfn;
		missing_last = pfn;
	}
	CHECK_EQ(missing, metadata_npages);
	CHECK_EQ(missing_last - missing_first + 1, metadata_npages);

	shuffle(held, n);
	for (i = 0; i < n; i++)
		release_block(held[i], 0);
	CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
}

/* After everything merged back, the one 64 MiB block (spanning two RAM entries) exists. */
static void check_fully_merged(void)
{
	u64 hpa = page_alloc(TEST_ORDER_64M);

	CHECK_EQ(hpa, MiB(64));
	CHECK_EQ(page_alloc(TEST_ORDER_64M), 0);
	if (hpa)
		page_free(hpa, TEST_ORDER_64M);
	CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
}

static void test_every_order(void)
{
	unsigned int order;
	size_t n, i;
	u64 hpa;

	init_standard();
	for (order = 0; order <= PAGE_ORDER_MAX; order++) {
		n = 0;
		while ((hpa = page_alloc(order)) != 0) {
			hold_block(hpa, order);
			held[n++] = hpa;
		}
		CHECK(order > TEST_ORDER_64M || n > 0);
		CHECK(order <= TEST_ORDER_64M || n == 0);
		for (i = 0; i < n; i++)
			release_block(held[i], order);
		CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
	}
	CHECK_EQ(page_alloc(PAGE_ORDER_MAX + 1), 0);
	check_fully_merged();
}

/* Freeing every other page must leave no pair to merge; freeing the rest restores all. */
static void test_fragmentation(void)
{
	size_t n, i;

	init_standard();
	n = exhaust_single_pages();
	for (i = 0; i < n; i++) {
		if (IS_ALIGNED(held[i], 2 * PAGE_SIZE))
			release_block(held[i], 0);
	}
	CHECK(page_alloc_free_pages() > 0);
	CHECK_EQ(page_alloc(1), 0);
	for (i = 0; i < n; i++) {
		if (!IS_ALIGNED(held[i], 2 * PAGE_SIZE))
			release_block(held[i], 0);
	}
	CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
	check_fully_merged();
}

static bool block_is_zero(u64 hpa, unsigned int order)
{
	const u8 *p = phys_to_virt(hpa);
	u64 i;

	for (i = 0; i < (PAGE_SIZE << order); i++) {
		if (p[i])
			return false;
	}
	return true;
}

static void test_zeroed(void)
{
	unsigned int order;
	size_t n, i;
	u64 hpa;

	init_standard();
	n = exhaust_single_pages();
	for (i = 0; i < n; i++)
		release_block(held[i], 0);
	for (order = 0; order <= 10; order += 5) {
		hpa = page_alloc_zeroed(order);
		CHECK(hpa != 0);
		CHECK(block_is_zero(hpa, order));
		page_free(hpa, order);
	}
	hpa = page_alloc(4);
	CHECK_EQ(page_block_order(hpa), 4);
	page_free(hpa, 4);
}

struct live_block {
	u64 hpa;
	unsigned int order;
};

/* Small orders mostly, now and then a large one, as guests and the MMU would ask. */
static unsigned int random_order(void)
{
	u64 r = rng_next() % 100;

	if (r < 60)
		return 0;
	if (r < 90)
		return (unsigned int)(rng_next() % 4);
	if (r < 99)
		return (unsigned int)(rng_next() % 10);
	return (unsigned int)(rng_next() % (TEST_ORDER_64M + 1));
}

#define STRESS_STEPS 200000

static void test_random_stress(void)
{
	static struct live_block live[PHYS_NPAGES];
	size_t nlive = 0, i, failures = 0;
	u64 step, hpa, live_pages = 0;
	unsigned int order;

	init_standard();
	for (step = 0; step < STRESS_STEPS; step++) {
		if (nlive && rng_next() % 100 < 45) {
			i = rng_next() % nlive;
			release_block(live[i].hpa, live[i].order);
			live_pages -= 1ull << live[i].order;
			live[i] = live[--nlive];
			continue;
		}
		order = random_order();
		hpa = page_alloc(order);
		if (!hpa) {
			failures++;
			continue;
		}
		hold_block(hpa, order);
		memset(phys_to_virt(hpa), (int)step, PAGE_SIZE);
		live[nlive++] = (struct live_block){ hpa, order };
		live_pages += 1ull << order;
		CHECK_EQ(page_alloc_free_pages() + live_pages, page_alloc_total_pages());
	}
	CHECK(failures > 0);	/* the run did reach exhaustion */
	while (nlive) {
		nlive--;
		release_block(live[nlive].hpa, live[nlive].order);
	}
	CHECK_EQ(page_alloc_free_pages(), page_alloc_total_pages());
	check_fully_merged();
}

/* 1 GiB blocks over a 3 GiB space: only the two 1 GiB-aligned gigabytes qualify. */
static void test_gigabyte_blocks(void)
{
	static const struct mem_range ram[] = { { 0, GiB(3) } };
	static const struct mem_range image[] = { { MiB(1), MiB(3) } };
	u64 first, second;
	void *big;

	big = mmap(NULL, GiB(3), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(big != MAP_FAILED);
	if (big == MAP_FAILED)
		return;
	phys_virt_offset = (uintptr_t)big;
	CHECK(page_alloc_init(ram, 1, image, 1) == NULL);
	first = page_alloc(PAGE_ORDER_1G);
	second = page_alloc(PAGE_ORDER_1G);
	CHECK_EQ(MIN(first, second), GiB(1));
	CHECK_EQ(MAX(first, second), GiB(2));
	CHECK_EQ(page_alloc(PAGE_ORDER_1G), 0);
	CHECK(IS_ALIGNED(page_alloc(PAGE_ORDER_2M), MiB(2)));
	page_free(first, PAGE_ORDER_1G);
	CHECK_EQ(page_alloc(PAGE_ORDER_1G), first);
	munmap(big, GiB(3));
	phys_virt_offset = (uintptr_t)phys_arena;
}

static void test_order_for_size(void)
{
	CHECK_EQ(page_order_for_size(1), 0);
	CHECK_EQ(page_order_for_size(PAGE_SIZE), 0);
	CHECK_EQ(page_order_for_size(PAGE_SIZE + 1), 1);
	CHECK_EQ(page_order_for_size(3 * PAGE_SIZE), 2);
	CHECK_EQ(page_order_for_size(MiB(2)), PAGE_ORDER_2M);
	CHECK_EQ(page_order_for_size(GiB(1)), PAGE_ORDER_1G);
	CHECK_EQ(page_order_for_size(~0ull), 64 - PAGE_SHIFT);
}

/* Runs a bad call in a child, which must stop in panic() rather than go on. */
static void expect_panic(const char *what, void (*bad_call)(void))
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		expecting_panic = true;
		console_register(NULL);	/* the expected panic line would only be noise */
		bad_call();
		_exit(0);
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != PANIC_EXIT_STATUS)
		fprintf(stderr, "no panic for: %s\n", what);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == PANIC_EXIT_STATUS);
}

static void double_free(void)
{
	u64 hpa = page_alloc(2);

	page_free(hpa, 2);
	page_free(hpa, 2);
}

static void free_wrong_order(void)
{
	page_free(page_alloc(2), 1);
}

static void free_inside_block(void)
{
	page_free(page_alloc(2) + PAGE_SIZE, 0);
}

static void free_reserved_page(void)
{
	page_free(MiB(2), 0);
}

static void free_below_1m(void)
{
	page_free(0, 0);
}

static void free_outside_ram(void)
{
	page_free(GiB(4), 0);
}

static void free_unaligned(void)
{
	page_free(page_alloc(0) + 8, 0);
}

static void test_bad_frees_panic(void)
{
	init_standard();
	expect_panic("double free", double_free);
	expect_panic("wrong order", free_wrong_order);
	expect_panic("inside a block", free_inside_block);
	expect_panic("reserved page", free_reserved_page);
	expect_panic("below 1 MiB", free_below_1m);
	expect_panic("outside RAM", free_outside_ram);
	expect_panic("unaligned", free_unaligned);
}

int main(void)
{
	console_register(console_to_stderr);
	phys_arena = mmap(NULL, PHYS_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (phys_arena == MAP_FAILED)
		return 1;
	phys_virt_offset = (uintptr_t)phys_arena;

	test_init_errors();
	test_exhaust_and_reserved();
	test_every_order();
	test_fragmentation();
	test_zeroed();
	test_random_stress();
	test_gigabyte_blocks();
	test_order_for_size();
	test_bad_frees_panic();
	return unit_done("page_alloc");
}
