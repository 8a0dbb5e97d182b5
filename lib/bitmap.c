/* Range updates, searches and counts over u64-word bitmaps, a word at a time. */
#include "lib/bitmap.h"

/* The bits of one word from bit `from` upwards. from < BITS_PER_WORD. */
static u64 mask_from(size_t from)
{
	return ~0ull << from;
}

/* The bits of one word below bit `to`; to == BITS_PER_WORD means all of them. */
static u64 mask_below(size_t to)
{
	return to == BITS_PER_WORD ? ~0ull : BIT(to) - 1;
}

/* Applies set (or clear) to the masked bits of every word the range touches. */
static void update_range(u64 *map, size_t start, size_t count, bool set)
{
	size_t end = start + count;

	while (start < end) {
		size_t word = start / BITS_PER_WORD;
		size_t first = start % BITS_PER_WORD;
		size_t last = MIN(end - word * BITS_PER_WORD, (size_t)BITS_PER_WORD);
		u64 mask = mask_from(first) & mask_below(last);

		if (set)
			map[word] |= mask;
		else
			map[word] &= ~mask;
		start = (word + 1) * BITS_PER_WORD;
	}
}

void bitmap_set_range(u64 *map, size_t start, size_t count)
{
	update_range(map, start, count, true);
}

void bitmap_clear_range(u64 *map, size_t start, size_t count)
{
	update_range(map, start, count, false);
}

/* Searches for a set bit in map XOR invert: invert ~0 makes it a search for a zero. */
static size_t find_next(const u64 *map, size_t nbits, size_t start, u64 invert)
{
	if (start >= nbits)
		return nbits;
	size_t word = start / BITS_PER_WORD;
	u64 bits = (map[word] ^ invert) & mask_from(start % BITS_PER_WORD);

	while (!bits) {
		if (++word >= BITMAP_WORDS(nbits))
			return nbits;
		bits = map[word] ^ invert;
	}
	/* Bits past nbits in the last word are not ours: never report them. */
	return MIN(word * BITS_PER_WORD + __builtin_ctzll(bits), nbits);
}

size_t bitmap_find_next_set(const u64 *map, size_t nbits, size_t start)
{
	return find_next(map, nbits, start, 0);
}

size_t bitmap_find_next_zero(const u64 *map, size_t nbits, size_t start)
{
	return find_next(map, nbits, start, ~0ull);
}

size_t bitmap_find_first_zero(const u64 *map, size_t nbits)
{
	return find_next(map, nbits, 0, ~0ull);
}

/* SWAR population count: __builtin_popcountll would call libgcc, which is not linked. */
static unsigned int popcount64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

size_t bitmap_count(const u64 *map, size_t nbits)
{
	size_t full_words = nbits / BITS_PER_WORD;
	size_t count = 0;

	for (size_t i = 0; i < full_words; i++)
		count += popcount64(map[i]);
	if (nbits % BITS_PER_WORD)
		count += popcount64(map[full_words] & mask_below(nbits % BITS_PER_WORD));
	return count;
}
