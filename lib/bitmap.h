/* Bitmaps stored in arrays of u64 words; bit n lives in word n / 64, at bit n % 64.
 * Searches return nbits when nothing is found. Not atomic: callers serialise. */
#ifndef VIREO_LIB_BITMAP_H
#define VIREO_LIB_BITMAP_H

#include "lib/types.h"

#define BITS_PER_WORD 64
#define BITMAP_WORDS(nbits) (((nbits) + BITS_PER_WORD - 1) / BITS_PER_WORD)

static inline void bitmap_set_bit(u64 *map, size_t bit)
{
	map[bit / BITS_PER_WORD] |= BIT(bit % BITS_PER_WORD);
}

static inline void bitmap_clear_bit(u64 *map, size_t bit)
{
	map[bit / BITS_PER_WORD] &= ~BIT(bit % BITS_PER_WORD);
}

static inline bool bitmap_test_bit(const u64 *map, size_t bit)
{
	return map[bit / BITS_PER_WORD] & BIT(bit % BITS_PER_WORD);
}

/* Set or clear bits [start, start + count). */
void bitmap_set_range(u64 *map, size_t start, size_t count);
void bitmap_clear_range(u64 *map, size_t start, size_t count);

size_t bitmap_find_next_set(const u64 *map, size_t nbits, size_t start);
size_t bitmap_find_next_zero(const u64 *map, size_t nbits, size_t start);
size_t bitmap_find_first_zero(const u64 *map, size_t nbits);
/* Number of set bits among the first nbits. */
size_t bitmap_count(const u64 *map, size_t nbits);

#endif
