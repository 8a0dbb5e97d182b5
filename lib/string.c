/* Freestanding memory and string functions (kernel build only: host builds use libc's)
 * and the number parsers the command lines need (both builds). */
#include "lib/string.h"

#ifndef VIREO_HOST
/*
 * gcc may recognise a byte loop as memset/memcpy/memmove and replace it by a call to that
 * very function, which here would recurse forever: keep loop-distribution patterns off in
 * every function written as such a loop.
 */
#define __no_libcall_loops __attribute__((optimize("no-tree-loop-distribute-patterns")))

/*
 * rep movsq/stosq for the 8-byte bulk, then movsb/stosb for the tail. With ERMSB a plain
 * rep movsb is as fast on hardware, but emulators count every iteration of a string
 * instruction as an instruction (Bochs: one tick per iteration), and a byte loop over a
 * VM's RAM costs eight times the ticks of a quadword one: zeroing 192 MiB took 200 M ticks.
 */
#ifdef __x86_64__
typedef u64 string_word;
#define STRING_WORD_SUFFIX "q"
#else	/* the 32-bit test guests: no quadword string instructions */
typedef u32 string_word;
#define STRING_WORD_SUFFIX "l"
#endif

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	size_t words = n / sizeof(string_word), tail = n % sizeof(string_word);

	asm volatile("rep movs" STRING_WORD_SUFFIX : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(tail) : : "memory");
	return ret;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	size_t words = n / sizeof(string_word), tail = n % sizeof(string_word);
	string_word pattern = (u8)c * (string_word)0x0101010101010101ull;

	asm volatile("rep stos" STRING_WORD_SUFFIX : "+D"(dst), "+c"(words) : "a"(pattern) : "memory");
	asm volatile("rep stosb" : "+D"(dst), "+c"(tail) : "a"(pattern) : "memory");
	return ret;
}

/* A forward copy is safe whenever dst does not start inside [src, src + n). */
__no_libcall_loops void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] - y[i];
	}
	return 0;
}

__no_libcall_loops size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

__no_libcall_loops size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b || !*a)
			return (u8)*a - (u8)*b;
	}
	return 0;
}

/* As in C, the terminating NUL is part of the string: strchr(s, 0) finds it. */
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
#endif /* !VIREO_HOST */

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = MIN(len, size - 1);
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Returns the value of a hex digit (any case), or 16 for anything else. */
static unsigned int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 16;
}

static bool has_hex_prefix(const char *s, size_t len)
{
	return len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

bool parse_u64(const char *s, size_t len, u64 *out)
{
	unsigned int base = 10;
	u64 value = 0;

	if (has_hex_prefix(s, len)) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned int digit = digit_value(s[i]);
		if (digit >= base || value > (UINT64_MAX - digit) / base)
			return false;
		value = value * base + digit;
	}
	*out = value;
	return true;
}

/* Binary units: K = 2^10, M = 2^20, G = 2^30. Returns 0 for anything else. */
static unsigned int size_suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	default: return 0;
	}
}

bool parse_size(const char *s, size_t len, u64 *out)
{
	unsigned int shift = len > 0 ? size_suffix_shift(s[len - 1]) : 0;
	u64 value;

	if (shift)
		len--;
	if (!parse_u64(s, len, &value) || value > (UINT64_MAX >> shift))
		return false;
	*out = value << shift;
	return true;
}
