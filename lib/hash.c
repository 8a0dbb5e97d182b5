/* Hash table setup; the operations themselves are inline in lib/hash.h. */
#include "lib/hash.h"
#include "lib/panic.h"

void hash_init(struct hash_table *table, struct hlist_head *buckets, size_t nbuckets)
{
	/* The bucket index is hash & mask, which covers every bucket only for powers of two. */
	ASSERT(nbuckets != 0 && (nbuckets & (nbuckets - 1)) == 0);
	for (size_t i = 0; i < nbuckets; i++)
		buckets[i].first = NULL;
	table->buckets = buckets;
	table->mask = nbuckets - 1;
}
