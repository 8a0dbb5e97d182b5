/* Unit tests of the intrusive list (lib/list.h), the u64-keyed hash table (lib/hash.h,
 * lib/hash.c) and the word bitmaps (lib/bitmap.h, lib/bitmap.c).
 * unit-sources: lib/hash.c lib/bitmap.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <setjmp.h>
#include <stdlib.h>

#include "lib/bitmap.h"
#include "lib/hash.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "tests/unit/unit.h"

static bool expecting_panic;
static jmp_buf panic_return;

/* A panic the test asked for comes back to the test; any other one aborts. */
void arch_halt_after_panic(void)
{
	if (!expecting_panic)
		abort();
	expecting_panic = false;
	longjmp(panic_return, 1);
}

struct item {
	int value;
	struct list_head link;
	struct hlist_node hash_link;
};

/* Checks that the list holds exactly the values given, in order, both ways round. */
static bool list_holds(struct list_head *head, const int *values, size_t n)
{
	struct item *it;
	size_t i = 0;

	list_for_each_entry(it, head, link) {
		if (i >= n || it->value != values[i])
			return false;
		i++;
	}
	if (i != n)
		return false;
	for (struct list_head *p = head->prev; p != head; p = p->prev) {
		if (list_entry(p, struct item, link)->value != values[--i])
			return false;
	}
	return true;
}

static void test_list_order(void)
{
	static struct list_head head = LIST_HEAD_INIT(head);
	struct item items[5];

	CHECK(list_empty(&head));
	CHECK(list_holds(&head, NULL, 0));
	for (int i = 0; i < 5; i++) {
		items[i].value = i;
		list_add_tail(&items[i].link, &head);
	}
	CHECK(!list_empty(&head));
	CHECK(list_holds(&head, (int[]){ 0, 1, 2, 3, 4 }, 5));
	CHECK_EQ(list_first_entry(&head, struct item, link)->value, 0);

	list_del(&items[2].link);
	CHECK(list_holds(&head, (int[]){ 0, 1, 3, 4 }, 4));
	list_del(&items[0].link);
	list_del(&items[4].link);
	CHECK(list_holds(&head, (int[]){ 1, 3 }, 2));
	/* A deleted node is left as an empty list, so deleting it again changes nothing. */
	CHECK(list_empty(&items[4].link));
	list_del(&items[4].link);
	CHECK(list_holds(&head, (int[]){ 1, 3 }, 2));

	list_add(&items[0].link, &head);
	CHECK(list_holds(&head, (int[]){ 0, 1, 3 }, 3));
	CHECK_EQ(list_first_entry(&head, struct item, link)->value, 0);
}

static void test_list_safe_delete(void)
{
	struct list_head head;
	struct item items[8], *it, *tmp;

	list_init(&head);
	for (int i = 0; i < 8; i++) {
		items[i].value = i;
		list_add(&items[i].link, &head);
	}
	CHECK(list_holds(&head, (int[]){ 7, 6, 5, 4, 3, 2, 1, 0 }, 8));

	list_for_each_entry_safe(it, tmp, &head, link) {
		if (it->value % 2)
			list_del(&it->link);
	}
	CHECK(list_holds(&head, (int[]){ 6, 4, 2, 0 }, 4));

	list_for_each_entry_safe(it, tmp, &head, link)
		list_del(&it->link);
	CHECK(list_empty(&head));
}

/* Counts the entries a by-key walk visits, checking each holds that key. */
static int count_with_key(struct hash_table *table, u64 key)
{
	struct item *it;
	int n = 0;

	hash_for_each_possible(table, it, hash_link, key) {
		if (it->hash_link.key != key || (u64)it->value != key % 1000)
			return -1;
		n++;
	}
	return n;
}

/* Many keys, in a table large enough for short chains and in one where all collide. */
static void test_hash_many_keys(size_t nbuckets)
{
	enum { NKEYS = 3000 };
	struct hlist_head *buckets = calloc(nbuckets, sizeof(*buckets));
	struct item *items = calloc(NKEYS, sizeof(*items));
	struct hash_table table;
	int bad = 0;

	hash_init(&table, buckets, nbuckets);
	for (u64 i = 0; i < NKEYS; i++) {
		u64 key = i * 0x1000 + 7;	/* spread out like page-aligned addresses */
		items[i].value = key % 1000;
		CHECK(!hash_hashed(&items[i].hash_link));
		hash_add(&table, &items[i].hash_link, key);
	}
	for (u64 i = 0; i < NKEYS; i++) {
		bad += count_with_key(&table, i * 0x1000 + 7) != 1;
		bad += count_with_key(&table, i * 0x1000 + 8) != 0;
	}
	CHECK_EQ(bad, 0);

	/* Remove every other entry: the rest must still be found, the removed ones not. */
	for (u64 i = 0; i < NKEYS; i += 2)
		hash_del(&items[i].hash_link);
	for (u64 i = 0; i < NKEYS; i++)
		bad += count_with_key(&table, i * 0x1000 + 7) != (i % 2 ? 1 : 0);
	CHECK_EQ(bad, 0);
	CHECK(!hash_hashed(&items[0].hash_link));
	CHECK(hash_hashed(&items[1].hash_link));

	free(items);
	free(buckets);
}

/* Several entries may share a key (shadow pages of one gfn with different roles). */
static void test_hash_duplicate_keys(void)
{
	struct hlist_head buckets[4];
	struct hash_table table;
	struct item items[6], *it;
	struct hlist_node *tmp;
	int seen[6] = { 0 }, order[3], n = 0;

	hash_init(&table, buckets, ARRAY_SIZE(buckets));
	for (int i = 0; i < 6; i++) {
		items[i].value = i;
		/* Three entries of key 42, then keys 43..45 sharing the four buckets. */
		hash_add(&table, &items[i].hash_link, i < 3 ? 42 : 40 + i);
	}
	hash_for_each_possible(&table, it, hash_link, 42) {
		seen[it->value]++;
		if (n < 3)
			order[n] = it->value;
		n++;
	}
	CHECK_EQ(n, 3);
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 0);
	/* Newest first. */
	CHECK(order[0] == 2 && order[1] == 1 && order[2] == 0);

	/* Deleting while walking: drop the key-42 entries one by one. */
	hash_for_each_possible_safe(&table, it, tmp, hash_link, 42)
		hash_del(&it->hash_link);
	n = 0;
	hash_for_each_possible(&table, it, hash_link, 42)
		n++;
	CHECK_EQ(n, 0);
	n = 0;
	hash_for_each_possible(&table, it, hash_link, 44)
		n += it->value == 4;
	CHECK_EQ(n, 1);
}

/* Sequential keys (consecutive gfns) must spread evenly over the buckets. */
static void test_hash_distribution(void)
{
	enum { NBUCKETS = 256, PER_BUCKET = 16 };
	int counts[NBUCKETS] = { 0 }, max = 0;

	for (u64 gfn = 0; gfn < NBUCKETS * PER_BUCKET; gfn++)
		counts[hash_u64(gfn) & (NBUCKETS - 1)]++;
	for (int i = 0; i < NBUCKETS; i++)
		max = counts[i] > max ? counts[i] : max;
	CHECK(max <= 3 * PER_BUCKET);

	/* Avalanche: flipping one input bit flips about half the output bits. */
	u64 flipped = 0, trials = 0;
	for (u64 key = 1; key < 200; key++) {
		for (int bit = 0; bit < 64; bit++, trials++)
			flipped += __builtin_popcountll(hash_u64(key) ^ hash_u64(key ^ BIT(bit)));
	}
	CHECK(flipped > trials * 30 && flipped < trials * 34);
	CHECK(hash_u64(1) != hash_u64(2));
}

static void test_hash_init_rejects_non_power_of_two(void)
{
	struct hlist_head buckets[3];
	struct hash_table table;

	expecting_panic = true;
	if (setjmp(panic_return) == 0) {
		hash_init(&table, buckets, ARRAY_SIZE(buckets));
		CHECK(!"hash_init accepted 3 buckets");
	}
	CHECK(!expecting_panic);
}

static void test_bitmap_word_boundaries(void)
{
	enum { NBITS = 200 };
	u64 map[BITMAP_WORDS(NBITS)] = { 0 };
	static const size_t edges[] = { 0, 1, 62, 63, 64, 65, 127, 128, 191, 192, 199 };

	CHECK_EQ(ARRAY_SIZE(map), 4);
	for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
		bitmap_set_bit(map, edges[i]);
		CHECK(bitmap_test_bit(map, edges[i]));
		CHECK_EQ(bitmap_count(map, NBITS), i + 1);
		CHECK_EQ(bitmap_find_next_set(map, NBITS, edges[i]), edges[i]);
		CHECK_EQ(bitmap_find_next_set(map, NBITS, 0), 0);
	}
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 2), 62);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 66), 127);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 129), 191);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 193), 199);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, NBITS), NBITS);
	CHECK_EQ(bitmap_find_first_zero(map, NBITS), 2);
	CHECK_EQ(bitmap_find_next_zero(map, NBITS, 62), 66);

	for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
		bitmap_clear_bit(map, edges[i]);
		CHECK(!bitmap_test_bit(map, edges[i]));
	}
	CHECK_EQ(bitmap_count(map, NBITS), 0);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 0), NBITS);
}

static void test_bitmap_ranges(void)
{
	enum { NBITS = 200 };
	u64 map[BITMAP_WORDS(NBITS)] = { 0 };

	bitmap_set_range(map, 60, 10);
	CHECK_EQ(bitmap_count(map, NBITS), 10);
	CHECK(!bitmap_test_bit(map, 59) && bitmap_test_bit(map, 60));
	CHECK(bitmap_test_bit(map, 69) && !bitmap_test_bit(map, 70));
	bitmap_set_range(map, 5, 0);
	CHECK_EQ(bitmap_count(map, NBITS), 10);

	bitmap_set_range(map, 0, NBITS);
	CHECK_EQ(bitmap_count(map, NBITS), NBITS);
	CHECK_EQ(map[3], BITS(7, 0));
	CHECK_EQ(bitmap_find_first_zero(map, NBITS), NBITS);
	CHECK_EQ(bitmap_find_next_zero(map, NBITS, 130), NBITS);

	bitmap_clear_range(map, 64, 64);
	CHECK_EQ(map[1], 0);
	CHECK_EQ(map[0], UINT64_MAX);
	CHECK_EQ(map[2], UINT64_MAX);
	CHECK_EQ(bitmap_count(map, NBITS), NBITS - 64);
	CHECK_EQ(bitmap_find_first_zero(map, NBITS), 64);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 64), 128);

	bitmap_clear_range(map, 1, 198);
	CHECK_EQ(bitmap_count(map, NBITS), 2);
	CHECK_EQ(bitmap_find_next_set(map, NBITS, 1), 199);
}

/* Bits past nbits in the last word belong to nobody: searches and counts ignore them. */
static void test_bitmap_tail_bits(void)
{
	u64 map[2] = { 0, ~0ull << 10 };	/* nbits = 70: bits 70..127 are stray */

	CHECK_EQ(bitmap_find_next_set(map, 70, 0), 70);
	CHECK_EQ(bitmap_find_next_set(map, 70, 69), 70);
	CHECK_EQ(bitmap_count(map, 70), 0);
	map[0] = ~0ull;
	map[1] = 0xff;
	CHECK_EQ(bitmap_find_first_zero(map, 70), 70);
	CHECK_EQ(bitmap_find_first_zero(map, 128), 72);
	CHECK_EQ(bitmap_count(map, 70), 70);
	CHECK_EQ(bitmap_count(map, 128), 72);
	CHECK_EQ(bitmap_find_first_zero(map, 64), 64);
	CHECK_EQ(bitmap_find_next_zero(map, 0, 0), 0);
}

/* Random range operations checked against a plain bool array. */
static void test_bitmap_against_model(void)
{
	enum { NBITS = 333 };
	u64 map[BITMAP_WORDS(NBITS)] = { 0 };
	bool model[NBITS] = { false };
	u64 seed = 0x123456789abcdefull;
	int bad = 0;

	for (int round = 0; round < 2000; round++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t start = (seed >> 20) % NBITS;
		size_t count = (seed >> 40) % (NBITS - start + 1);
		bool set = seed >> 63;

		if (set)
			bitmap_set_range(map, start, count);
		else
			bitmap_clear_range(map, start, count);
		for (size_t i = start; i < start + count; i++)
			model[i] = set;

		size_t from = (seed >> 8) % (NBITS + 1), next_set = NBITS, next_zero = NBITS;
		size_t ones = 0;
		for (size_t i = NBITS; i-- > from;) {
			if (model[i])
				next_set = i;
			else
				next_zero = i;
		}
		for (size_t i = 0; i < NBITS; i++)
			ones += model[i];
		bad += bitmap_find_next_set(map, NBITS, from) != next_set;
		bad += bitmap_find_next_zero(map, NBITS, from) != next_zero;
		bad += bitmap_count(map, NBITS) != ones;
		bad += bitmap_test_bit(map, start) != model[start];
	}
	CHECK_EQ(bad, 0);
}

/* Low-bit buckets: consecutive keys (frame numbers) each get a bucket of their own, keys
 * a table size apart share one, and a walk of the bucket finds exactly its key. */
static void test_hash_low_bits(void)
{
	enum { NBUCKETS = 64, NKEYS = 128 };
	struct hlist_head buckets[NBUCKETS];
	struct item items[NKEYS];
	struct hash_table table;

	hash_init(&table, buckets, NBUCKETS);
	for (u64 i = 0; i < NKEYS; i++) {
		u64 key = 0x12340 + i;
		items[i].value = (int)i;
		hlist_add(hash_bucket_low_bits(&table, key), &items[i].hash_link, key);
	}
	CHECK(hash_bucket_low_bits(&table, 0x12340) != hash_bucket_low_bits(&table, 0x12341));
	CHECK(hash_bucket_low_bits(&table, 0x12340) == hash_bucket_low_bits(&table, 0x12340 + NBUCKETS));
	int bad = 0;
	for (u64 i = 0; i < NKEYS; i++) {
		u64 key = 0x12340 + i;
		struct hlist_node *node = hlist_find_key(hash_bucket_low_bits(&table, key)->first, key);
		bad += !node || container_of(node, struct item, hash_link)->value != (int)i ||
		       hlist_find_key(node->next, key);
	}
	CHECK_EQ(bad, 0);
	hash_del(&items[3].hash_link);
	CHECK(!hlist_find_key(hash_bucket_low_bits(&table, 0x12343)->first, 0x12343));
}

int main(void)
{
	test_list_order();
	test_list_safe_delete();
	test_hash_many_keys(1024);
	test_hash_many_keys(1);
	test_hash_duplicate_keys();
	test_hash_distribution();
	test_hash_low_bits();
	test_hash_init_rejects_non_power_of_two();
	test_bitmap_word_boundaries();
	test_bitmap_ranges();
	test_bitmap_tail_bits();
	test_bitmap_against_model();
	return unit_done("list_hash_bitmap");
}
