/* Unit tests of lib/string.c: the parsers and str_* helpers as the host links them, and the
 * kernel's own memcpy & co., compiled from the same file under kernel_ names.
 * unit-sources: lib/string.c
 */
#include "lib/string.h"
#include "tests/unit/unit.h"

/*
 * The kernel side of lib/string.c, built here a second time without VIREO_HOST. Every
 * function it defines is renamed so it clashes neither with libc nor with the host copy
 * linked above; lib/string.h is read again (guard dropped) to declare the renamed set.
 */
#undef VIREO_HOST
#undef VIREO_LIB_STRING_H
#define memcpy kernel_memcpy
#define memmove kernel_memmove
#define memset kernel_memset
#define memcmp kernel_memcmp
#define strlen kernel_strlen
#define strnlen kernel_strnlen
#define strcmp kernel_strcmp
#define strncmp kernel_strncmp
#define strchr kernel_strchr
#define str_copy kernel_str_copy
#define str_starts_with kernel_str_starts_with
#define parse_u64 kernel_parse_u64
#define parse_size kernel_parse_size
#include "lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef str_copy
#undef str_starts_with
#undef parse_u64
#undef parse_size
#define VIREO_HOST 1

/* Parses a whole C string; the result is only meaningful when it returns true. */
static bool u64_of(const char *s, u64 *out)
{
	return parse_u64(s, strlen(s), out);
}

static bool size_of(const char *s, u64 *out)
{
	return parse_size(s, strlen(s), out);
}

static void test_str_copy(void)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(str_copy(buf, "abc", sizeof(buf)), 3);
	CHECK_STR(buf, "abc");
	CHECK_EQ(buf[4], 'X');

	CHECK_EQ(str_copy(buf, "abcdefghij", sizeof(buf)), 10);
	CHECK_STR(buf, "abcdefg");

	CHECK_EQ(str_copy(buf, "abcdefg", sizeof(buf)), 7);
	CHECK_STR(buf, "abcdefg");

	CHECK_EQ(str_copy(buf, "", sizeof(buf)), 0);
	CHECK_STR(buf, "");

	CHECK_EQ(str_copy(buf, "xyz", 1), 3);
	CHECK_STR(buf, "");

	buf[0] = 'Q';
	CHECK_EQ(str_copy(buf, "xyz", 0), 3);
	CHECK_EQ(buf[0], 'Q');
}

static void test_str_starts_with(void)
{
	CHECK(str_starts_with("console=ttyS0", "console="));
	CHECK(str_starts_with("mem", "mem"));
	CHECK(str_starts_with("anything", ""));
	CHECK(!str_starts_with("me", "mem"));
	CHECK(!str_starts_with("name=x", "mem="));
	CHECK(!str_starts_with("", "a"));
}

static void test_parse_u64_valid(void)
{
	u64 v = 0;

	CHECK(u64_of("0", &v));
	CHECK_EQ(v, 0);
	CHECK(u64_of("12345", &v));
	CHECK_EQ(v, 12345);
	CHECK(u64_of("007", &v));
	CHECK_EQ(v, 7);
	CHECK(u64_of("0x0", &v));
	CHECK_EQ(v, 0);
	CHECK(u64_of("0xdeadBEEF", &v));
	CHECK_EQ(v, 0xdeadbeef);
	CHECK(u64_of("0X10", &v));
	CHECK_EQ(v, 16);
	CHECK(u64_of("18446744073709551615", &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK(u64_of("0xffffffffffffffff", &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK(u64_of("0x00000000000000000001", &v));
	CHECK_EQ(v, 1);

	/* Only s[0..len) is read: what follows is not part of the number. */
	CHECK(parse_u64("42,rest", 2, &v));
	CHECK_EQ(v, 42);
}

static void test_parse_u64_invalid(void)
{
	u64 v = 77;

	CHECK(!u64_of("", &v));
	CHECK(!u64_of("0x", &v));
	CHECK(!u64_of("x10", &v));
	CHECK(!u64_of("-1", &v));
	CHECK(!u64_of("+1", &v));
	CHECK(!u64_of(" 1", &v));
	CHECK(!u64_of("1 ", &v));
	CHECK(!u64_of("12a", &v));
	CHECK(!u64_of("0xfg", &v));
	CHECK(!u64_of("0x-1", &v));
	CHECK(!u64_of("1K", &v));
	CHECK(!u64_of("18446744073709551616", &v));
	CHECK(!u64_of("99999999999999999999", &v));
	CHECK(!u64_of("0x10000000000000000", &v));
	CHECK(!parse_u64("42", 0, &v));
	/* A failed parse leaves *out alone. */
	CHECK_EQ(v, 77);
}

static void test_parse_size(void)
{
	u64 v = 0;

	CHECK(size_of("4096", &v));
	CHECK_EQ(v, 4096);
	CHECK(size_of("4K", &v));
	CHECK_EQ(v, KiB(4));
	CHECK(size_of("4k", &v));
	CHECK_EQ(v, KiB(4));
	CHECK(size_of("64M", &v));
	CHECK_EQ(v, MiB(64));
	CHECK(size_of("64m", &v));
	CHECK_EQ(v, MiB(64));
	CHECK(size_of("2G", &v));
	CHECK_EQ(v, GiB(2));
	CHECK(size_of("3g", &v));
	CHECK_EQ(v, GiB(3));
	CHECK(size_of("0x10M", &v));
	CHECK_EQ(v, MiB(16));
	CHECK(size_of("0K", &v));
	CHECK_EQ(v, 0);
	/* The largest values each suffix can scale without overflow. */
	CHECK(size_of("17179869183G", &v));
	CHECK_EQ(v, 17179869183ull << 30);
	CHECK(size_of("18014398509481983K", &v));
	CHECK_EQ(v, 18014398509481983ull << 10);
	CHECK(size_of("18446744073709551615", &v));
	CHECK_EQ(v, UINT64_MAX);

	v = 99;
	CHECK(!size_of("17179869184G", &v));
	CHECK(!size_of("18014398509481984K", &v));
	CHECK(!size_of("0x1000000000000M", &v));
	CHECK(!size_of("18446744073709551616", &v));
	CHECK(!size_of("", &v));
	CHECK(!size_of("K", &v));
	CHECK(!size_of("0xM", &v));
	CHECK(!size_of("4KB", &v));
	CHECK(!size_of("4T", &v));
	CHECK(!size_of("4 K", &v));
	CHECK(!size_of("-4K", &v));
	CHECK_EQ(v, 99);
}

static void test_kernel_memcpy_memset(void)
{
	u8 buf[64], src[64];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (u8)(i * 7 + 1);
	memset(buf, 0xee, sizeof(buf));
	CHECK(kernel_memcpy(buf + 3, src, 50) == buf + 3);
	CHECK_EQ(memcmp(buf + 3, src, 50), 0);
	CHECK_EQ(buf[2], 0xee);
	CHECK_EQ(buf[53], 0xee);
	CHECK(kernel_memcpy(buf, src, 0) == buf);
	CHECK_EQ(buf[0], 0xee);

	CHECK(kernel_memset(buf + 1, 0x1ab, 10) == buf + 1);
	for (int i = 1; i <= 10; i++)
		CHECK_EQ(buf[i], 0xab);
	CHECK_EQ(buf[0], 0xee);
	CHECK_EQ(buf[11], src[8]);
	kernel_memset(buf, 0, 0);
	CHECK_EQ(buf[0], 0xee);
}

/* Compares kernel_memmove against libc's on every overlap direction and distance. */
static void test_kernel_memmove(void)
{
	enum { SIZE = 40, LEN = 16 };
	u8 got[SIZE], want[SIZE];
	int mismatches = 0;

	for (int src = 0; src + LEN <= SIZE; src++) {
		for (int dst = 0; dst + LEN <= SIZE; dst++) {
			for (int i = 0; i < SIZE; i++)
				got[i] = want[i] = (u8)i;
			CHECK(kernel_memmove(got + dst, got + src, LEN) == got + dst);
			memmove(want + dst, want + src, LEN);
			mismatches += memcmp(got, want, SIZE) != 0;
		}
	}
	CHECK_EQ(mismatches, 0);
}

static void test_kernel_compare(void)
{
	CHECK(kernel_memcmp("abc", "abd", 3) < 0);
	CHECK(kernel_memcmp("abd", "abc", 3) > 0);
	CHECK_EQ(kernel_memcmp("abc", "abd", 2), 0);
	CHECK_EQ(kernel_memcmp("x", "y", 0), 0);
	/* Bytes compare as unsigned char, as C requires. */
	CHECK(kernel_memcmp("\x80", "\x01", 1) > 0);

	CHECK_EQ(kernel_strcmp("", ""), 0);
	CHECK_EQ(kernel_strcmp("abc", "abc"), 0);
	CHECK(kernel_strcmp("abc", "abd") < 0);
	CHECK(kernel_strcmp("abc", "ab") > 0);
	CHECK(kernel_strcmp("ab", "abc") < 0);
	CHECK(kernel_strcmp("\xff", "a") > 0);

	CHECK_EQ(kernel_strncmp("abcX", "abcY", 3), 0);
	CHECK(kernel_strncmp("abcX", "abcY", 4) < 0);
	CHECK_EQ(kernel_strncmp("ab", "ab", 10), 0);
	CHECK(kernel_strncmp("ab", "abc", 10) < 0);
	CHECK_EQ(kernel_strncmp("a", "b", 0), 0);
	CHECK(kernel_strncmp("\x80", "\x7f", 1) > 0);
}

static void test_kernel_lengths_and_search(void)
{
	const char *s = "hello";

	CHECK_EQ(kernel_strlen(""), 0);
	CHECK_EQ(kernel_strlen(s), 5);
	CHECK_EQ(kernel_strnlen(s, 3), 3);
	CHECK_EQ(kernel_strnlen(s, 5), 5);
	CHECK_EQ(kernel_strnlen(s, 100), 5);
	CHECK_EQ(kernel_strnlen(s, 0), 0);

	CHECK(kernel_strchr(s, 'h') == s);
	CHECK(kernel_strchr(s, 'l') == s + 2);
	CHECK(kernel_strchr(s, 'z') == NULL);
	CHECK(kernel_strchr(s, '\0') == s + 5);
	CHECK(kernel_strchr("a\xe9", 0xe9) != NULL);
}

/* The kernel copy of the helpers runs on the kernel memcpy/strlen: check it agrees. */
static void test_kernel_helpers(void)
{
	char buf[4];
	u64 v = 0;

	CHECK_EQ(kernel_str_copy(buf, "abcdef", sizeof(buf)), 6);
	CHECK_STR(buf, "abc");
	CHECK(kernel_str_starts_with("mem=64M", "mem="));
	CHECK(kernel_parse_size("64M", 3, &v));
	CHECK_EQ(v, MiB(64));
	CHECK(!kernel_parse_u64("0x", 2, &v));
}

int main(void)
{
	test_str_copy();
	test_str_starts_with();
	test_parse_u64_valid();
	test_parse_u64_invalid();
	test_parse_size();
	test_kernel_memcpy_memset();
	test_kernel_memmove();
	test_kernel_compare();
	test_kernel_lengths_and_search();
	test_kernel_helpers();
	return unit_done("string");
}
