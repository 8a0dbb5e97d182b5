/* Unit tests of the slab caches and kmalloc() over a simulated physical memory.
 * unit-sources: lib/slab.c lib/page_alloc.c lib/bitmap.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/phys.h"
#include "lib/slab.h"
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

#define PHYS_SIZE MiB(64)

static const struct mem_range test_ram[] = { { MiB(1), PHYS_SIZE } };

struct block {
	u8 *ptr;
	size_t size;
};

#define MAX_BLOCKS 20000
static struct block blocks[MAX_BLOCKS];

static u64 rng_state = 0x2545f4914f6cdd1dull;

static u64 rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void shuffle_blocks(size_t n)
{
	struct block t;
	size_t i, j;

	for (i = n; i > 1; i--) {
		j = rng_next() % i;
		t = blocks[i - 1];
		blocks[i - 1] = blocks[j];
		blocks[j] = t;
	}
}

static bool is_zero(const u8 *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* Each block gets bytes derived from its own address: an overlap breaks one of them. */
static u8 pattern_byte(const u8 *p, size_t i)
{
	return (u8)(((uintptr_t)p >> 3) * 31 + i);
}

static void fill_pattern(const struct block *b)
{
	size_t i;

	for (i = 0; i < b->size; i++)
		b->ptr[i] = pattern_byte(b->ptr, i);
}

static bool pattern_intact(const struct block *b)
{
	size_t i;

	for (i = 0; i < b->size; i++) {
		if (b->ptr[i] != pattern_byte(b->ptr, i))
			return false;
	}
	return true;
}

static int compare_blocks(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

/* No two live blocks overlap, each is inside the arena, and none lost its pattern. */
static void check_blocks(size_t n)
{
	static struct block sorted[MAX_BLOCKS];
	bool disjoint = true, intact = true, inside = true;
	size_t i;

	for (i = 0; i < n; i++) {
		intact &= pattern_intact(&blocks[i]);
		inside &= virt_to_phys(blocks[i].ptr) >= MiB(1) &&
			  virt_to_phys(blocks[i].ptr + blocks[i].size) <= PHYS_SIZE;
	}
	memcpy(sorted, blocks, n * sizeof(blocks[0]));
	qsort(sorted, n, sizeof(sorted[0]), compare_blocks);
	for (i = 1; i < n; i++)
		disjoint &= sorted[i - 1].ptr + sorted[i - 1].size <= sorted[i].ptr;
	CHECK(intact);
	CHECK(inside);
	CHECK(disjoint);
}

/* Where an object may sit: after the header of its page, not across the page's end. */
static bool placed_in_slab(const void *object, size_t size)
{
	uintptr_t offset = (uintptr_t)object % PAGE_SIZE;

	return IS_ALIGNED((uintptr_t)object, KMEM_OBJECT_ALIGN) &&
	       offset >= SLAB_HEADER_SIZE && offset + size <= PAGE_SIZE;
}

#define OBJECTS_PER_SIZE 3000
static struct block freed[OBJECTS_PER_SIZE];

/* Frees every other object and allocates as many again: when a slab holds two objects or
 * more, no slab became empty, so exactly the freed objects must come back, zeroed. */
static void check_reuse(struct kmem_cache *cache, size_t n)
{
	bool reused = true, zeroed = true;
	u64 slabs_before = cache->nr_slabs;
	size_t i, nfreed = 0;
	u8 *object;

	for (i = 1; i < n; i += 2) {
		kmem_cache_free(cache, blocks[i].ptr);
		freed[nfreed++] = blocks[i];
	}
	CHECK_EQ(cache->objects_in_use, n - nfreed);
	qsort(freed, nfreed, sizeof(freed[0]), compare_blocks);
	for (i = 1; i < n; i += 2) {
		object = kmem_cache_alloc(cache);
		blocks[i].ptr = object;
		reused &= bsearch(&blocks[i], freed, nfreed, sizeof(freed[0]),
				  compare_blocks) != NULL;
		zeroed &= object && is_zero(object, blocks[i].size);
		fill_pattern(&blocks[i]);
	}
	CHECK(reused);
	CHECK(zeroed);
	CHECK_EQ(cache->nr_slabs, slabs_before);
	check_blocks(n);
}

static void test_cache_of_size(size_t size)
{
	struct kmem_cache cache;
	u64 free_before = page_alloc_free_pages(), slabs_needed;
	bool zeroed = true, placed = true;
	size_t i;

	kmem_cache_init(&cache, "test", size);
	CHECK(cache.objects_per_slab >= 1);
	CHECK(cache.object_size >= size);
	for (i = 0; i < OBJECTS_PER_SIZE; i++) {
		blocks[i] = (struct block){ kmem_cache_alloc(&cache), size };
		CHECK(blocks[i].ptr != NULL);
		zeroed &= is_zero(blocks[i].ptr, size);
		placed &= placed_in_slab(blocks[i].ptr, size);
		fill_pattern(&blocks[i]);
	}
	CHECK(zeroed);
	CHECK(placed);
	check_blocks(OBJECTS_PER_SIZE);
	slabs_needed = (OBJECTS_PER_SIZE + cache.objects_per_slab - 1) / cache.objects_per_slab;
	CHECK_EQ(cache.nr_slabs, slabs_needed);
	CHECK_EQ(cache.objects_in_use, OBJECTS_PER_SIZE);
	CHECK_EQ(page_alloc_free_pages(), free_before - slabs_needed);
	if (cache.objects_per_slab >= 2)
		check_reuse(&cache, OBJECTS_PER_SIZE);

	/* Freeing everything leaves only the reserve of empty slabs. */
	shuffle_blocks(OBJECTS_PER_SIZE);
	for (i = 0; i < OBJECTS_PER_SIZE; i++)
		kmem_cache_free(&cache, blocks[i].ptr);
	CHECK_EQ(cache.objects_in_use, 0);
	CHECK_EQ(cache.nr_slabs, KMEM_EMPTY_SLABS_KEPT);
	CHECK_EQ(cache.nr_empty_slabs, KMEM_EMPTY_SLABS_KEPT);
	CHECK_EQ(page_alloc_free_pages(), free_before - KMEM_EMPTY_SLABS_KEPT);
}

static void test_caches(void)
{
	static const size_t sizes[] = { 1, 8, 24, 40, 100, 512, 1000, KMEM_MAX_OBJECT_SIZE };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		test_cache_of_size(sizes[i]);
}

struct shadow_page_like {
	u64 gfn;
	u64 spt[6];
};

static struct kmem_cache static_cache =
	KMEM_CACHE_INIT(static_cache, "static", sizeof(struct shadow_page_like));

static void test_static_cache(void)
{
	struct shadow_page_like *a = kmem_cache_alloc(&static_cache);
	struct shadow_page_like *b = kmem_cache_alloc(&static_cache);

	CHECK(a && b && a != b);
	CHECK_EQ(static_cache.object_size, sizeof(struct shadow_page_like));
	CHECK_EQ(static_cache.objects_in_use, 2);
	CHECK_EQ(static_cache.nr_slabs, 1);
	kmem_cache_free(&static_cache, a);
	kmem_cache_free(&static_cache, b);
	CHECK_EQ(static_cache.objects_in_use, 0);
}

/* One slab moving between full, partial and empty, and the reserve of empty slabs. */
static void test_empty_slab_release(void)
{
	struct kmem_cache cache;
	u64 free_before = page_alloc_free_pages();
	void *first, *second;

	kmem_cache_init(&cache, "big", KMEM_MAX_OBJECT_SIZE);
	CHECK_EQ(cache.objects_per_slab, 1);
	first = kmem_cache_alloc(&cache);
	second = kmem_cache_alloc(&cache);
	CHECK_EQ(cache.nr_slabs, 2);
	CHECK_EQ(page_alloc_free_pages(), free_before - 2);
	kmem_cache_free(&cache, first);
	CHECK_EQ(cache.nr_slabs, 2);	/* kept as the reserve */
	kmem_cache_free(&cache, second);
	CHECK_EQ(cache.nr_slabs, 1);	/* beyond the reserve: back to page_alloc */
	CHECK_EQ(page_alloc_free_pages(), free_before - 1);
	CHECK(kmem_cache_alloc(&cache) == first);
	CHECK_EQ(page_alloc_free_pages(), free_before - 1);
}

static void test_exhaustion(void)
{
	static u64 pages[PHYS_SIZE / PAGE_SIZE];
	struct kmem_cache cache;
	size_t n = 0;
	void *object;

	kmem_cache_init(&cache, "starved", 64);
	while ((pages[n] = page_alloc(0)) != 0)
		n++;
	CHECK(kmem_cache_alloc(&cache) == NULL);
	CHECK(kmalloc(16 * PAGE_SIZE) == NULL);
	CHECK_EQ(cache.nr_slabs, 0);
	page_free(pages[--n], 0);
	object = kmem_cache_alloc(&cache);
	CHECK(object != NULL);
	kmem_cache_free(&cache, object);
	while (n)
		page_free(pages[--n], 0);
}

static void test_kmalloc_sizes(void)
{
	static const size_t sizes[] = {
		0, 1, 7, 8, 9, 16, 17, 100, 128, 129, 512, 1000, 1024, 1025, 2048,
		PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, 3 * PAGE_SIZE, MiB(1) + 5,
	};
	const struct kmem_cache *cache;
	size_t i, n = ARRAY_SIZE(sizes);
	bool zeroed = true, classed = true;

	for (i = 0; i < n; i++) {
		blocks[i] = (struct block){ kmalloc(sizes[i]), sizes[i] };
		CHECK(blocks[i].ptr != NULL);
		zeroed &= is_zero(blocks[i].ptr, sizes[i]);
		fill_pattern(&blocks[i]);
		cache = kmalloc_cache_for_size(sizes[i]);
		if (sizes[i] > KMALLOC_MAX_CLASS_SIZE) {
			classed &= !cache && IS_ALIGNED((uintptr_t)blocks[i].ptr, PAGE_SIZE);
			classed &= page_block_order(virt_to_phys(blocks[i].ptr)) ==
				   page_order_for_size(sizes[i]);
		} else {
			classed &= cache && cache->object_size >= MAX(sizes[i], 1) &&
				   (cache->object_size == KMALLOC_MIN_CLASS_SIZE ||
				    cache->object_size < 2 * sizes[i]) &&
				   placed_in_slab(blocks[i].ptr, cache->object_size);
		}
	}
	CHECK(zeroed);
	CHECK(classed);
	check_blocks(n);
	for (i = 0; i < n; i++)
		kfree(blocks[i].ptr);
	kfree(NULL);
	CHECK(kmalloc(GiB(2)) == NULL);
	CHECK(kmalloc(SIZE_MAX) == NULL);
}

/* Random sizes across classes and pages, freed in random order: memory comes back. */
static void test_kmalloc_random(void)
{
	u64 free_before, class_slabs_before[16], in_use;
	bool zeroed = true;
	size_t i, n = 5000, size;
	unsigned int class;

	/* Warm every class up so its reserve slab exists before we measure. */
	for (class = 0; (KMALLOC_MIN_CLASS_SIZE << class) <= KMALLOC_MAX_CLASS_SIZE; class++)
		kfree(kmalloc(KMALLOC_MIN_CLASS_SIZE << class));
	free_before = page_alloc_free_pages();
	for (class = 0; (KMALLOC_MIN_CLASS_SIZE << class) <= KMALLOC_MAX_CLASS_SIZE; class++)
		class_slabs_before[class] =
			kmalloc_cache_for_size(KMALLOC_MIN_CLASS_SIZE << class)->nr_slabs;

	for (i = 0; i < n; i++) {
		size = rng_next() % 100 < 90 ? 1 + rng_next() % 1100 : 1 + rng_next() % 20000;
		blocks[i] = (struct block){ kmalloc(size), size };
		CHECK(blocks[i].ptr != NULL);
		zeroed &= is_zero(blocks[i].ptr, size);
		fill_pattern(&blocks[i]);
	}
	CHECK(zeroed);
	check_blocks(n);
	shuffle_blocks(n);
	for (i = 0; i < n; i++)
		kfree(blocks[i].ptr);

	CHECK_EQ(page_alloc_free_pages(), free_before);
	in_use = 0;
	for (class = 0; (KMALLOC_MIN_CLASS_SIZE << class) <= KMALLOC_MAX_CLASS_SIZE; class++) {
		const struct kmem_cache *cache =
			kmalloc_cache_for_size(KMALLOC_MIN_CLASS_SIZE << class);

		in_use += cache->objects_in_use;
		CHECK_EQ(cache->nr_slabs, class_slabs_before[class]);
	}
	CHECK_EQ(in_use, 0);
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

static struct kmem_cache cache_a = KMEM_CACHE_INIT(cache_a, "a", 48);
static struct kmem_cache cache_b = KMEM_CACHE_INIT(cache_b, "b", 48);

static void double_free(void)
{
	void *object = kmem_cache_alloc(&cache_a);

	kmem_cache_alloc(&cache_a);	/* keeps the slab from going back to page_alloc */
	kmem_cache_free(&cache_a, object);
	kmem_cache_free(&cache_a, object);
}

static void free_into_other_cache(void)
{
	kmem_cache_free(&cache_b, kmem_cache_alloc(&cache_a));
}

static void free_misaligned_object(void)
{
	kmem_cache_free(&cache_a, (u8 *)kmem_cache_alloc(&cache_a) + 8);
}

static void free_slab_header(void)
{
	u8 *object = kmem_cache_alloc(&cache_a);

	kmem_cache_free(&cache_a, object - SLAB_HEADER_SIZE / 2);
}

static void kfree_cache_object(void)
{
	kfree(kmem_cache_alloc(&cache_a));
}

static void kfree_twice(void)
{
	void *ptr = kmalloc(3 * PAGE_SIZE);

	kfree(ptr);
	kfree(ptr);
}

static void kfree_small_twice(void)
{
	void *ptr = kmalloc(40);

	kmalloc(40);
	kfree(ptr);
	kfree(ptr);
}

static void test_bad_frees_panic(void)
{
	expect_panic("double free", double_free);
	expect_panic("other cache", free_into_other_cache);
	expect_panic("misaligned object", free_misaligned_object);
	expect_panic("slab header", free_slab_header);
	expect_panic("kfree of a cache object", kfree_cache_object);
	expect_panic("kfree of pages twice", kfree_twice);
	expect_panic("kfree of an object twice", kfree_small_twice);
}

int main(void)
{
	void *arena;

	console_register(console_to_stderr);
	arena = mmap(NULL, PHYS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (arena == MAP_FAILED)
		return 1;
	phys_virt_offset = (uintptr_t)arena;
	CHECK(page_alloc_init(test_ram, ARRAY_SIZE(test_ram), NULL, 0) == NULL);

	test_caches();
	test_static_cache();
	test_empty_slab_release();
	test_exhaustion();
	test_kmalloc_sizes();
	test_kmalloc_random();
	test_bad_frees_panic();
	return unit_done("slab");
}
