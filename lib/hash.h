/* Hash table keyed by u64 with intrusive nodes (embed a struct hlist_node in the object).
 * The caller supplies the bucket array; lookups are inline because the MMU runs them on
 * every shadow-page fault. */
#ifndef VIREO_LIB_HASH_H
#define VIREO_LIB_HASH_H

#include "lib/types.h"

struct hlist_node {
	struct hlist_node *next;
	/* The pointer that points at this node: unlinking needs no bucket. NULL: unhashed. */
	struct hlist_node **pprev;
	/* Kept in the node so a walk skips other keys sharing the bucket without touching
	 * the objects that hold them. */
	u64 key;
};

struct hlist_head {
	struct hlist_node *first;
};

struct hash_table {
	struct hlist_head *buckets;
	u64 mask;	/* bucket count - 1; the count is a power of two */
};

/* nbuckets must be a power of two. Empties the buckets. */
void hash_init(struct hash_table *table, struct hlist_head *buckets, size_t nbuckets);

/* MurmurHash3's 64-bit finalizer: every input bit affects every output bit, so
 * sequential keys (gfns) spread over all buckets whatever the mask keeps. */
static inline u64 hash_u64(u64 key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ull;
	key ^= key >> 33;
	return key;
}

static inline struct hlist_head *hash_bucket(const struct hash_table *table, u64 key)
{
	return &table->buckets[hash_u64(key) & table->mask];
}

/*
 * For keys that spread over the buckets by themselves, such as the frame numbers of pages
 * one allocator hands out: the bucket is the key's low bits, with no mixing. A table uses
 * either this or hash_bucket() for every key, never both.
 */
static inline struct hlist_head *hash_bucket_low_bits(const struct hash_table *table, u64 key)
{
	return &table->buckets[key & table->mask];
}

static inline void hlist_add(struct hlist_head *head, struct hlist_node *node, u64 key)
{
	node->key = key;
	node->next = head->first;
	if (head->first)
		head->first->pprev = &node->next;
	head->first = node;
	node->pprev = &head->first;
}

static inline void hash_add(struct hash_table *table, struct hlist_node *node, u64 key)
{
	hlist_add(hash_bucket(table, key), node, key);
}

static inline bool hash_hashed(const struct hlist_node *node)
{
	return node->pprev != NULL;
}

/* node must be hashed; afterwards it is not. */
static inline void hash_del(struct hlist_node *node)
{
	*node->pprev = node->next;
	if (node->next)
		node->next->pprev = node->pprev;
	node->next = NULL;
	node->pprev = NULL;
}

/* The first node from node onwards (node itself included) holding key, or NULL. */
static inline struct hlist_node *hlist_find_key(struct hlist_node *node, u64 key)
{
	while (node && node->key != key)
		node = node->next;
	return node;
}

#define hlist_entry_or_null(node, type, member) ({ \
	struct hlist_node *__node = (node); \
	__node ? container_of(__node, type, member) : NULL; \
})

/*
 * Visits every entry added with exactly this key, newest first; entries of other keys that
 * share the bucket are skipped. key is evaluated more than once: pass a plain value.
 */
#define hash_for_each_possible(table, pos, member, key) \
	for (pos = hlist_entry_or_null(hlist_find_key(hash_bucket(table, key)->first, key), \
				       typeof(*(pos)), member); \
	     pos; \
	     pos = hlist_entry_or_null(hlist_find_key((pos)->member.next, key), \
				       typeof(*(pos)), member))

/* Same, but the body may hash_del(pos): tmp (a struct hlist_node *) holds the next node. */
#define hash_for_each_possible_safe(table, pos, tmp, member, key) \
	for (pos = hlist_entry_or_null(hlist_find_key(hash_bucket(table, key)->first, key), \
				       typeof(*(pos)), member); \
	     pos && ((tmp) = (pos)->member.next, true); \
	     pos = hlist_entry_or_null(hlist_find_key(tmp, key), typeof(*(pos)), member))

#endif
