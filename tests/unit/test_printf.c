/* Unit tests of lib/printf.c: hand-written expectations, then every combination of flags,
 * width, precision and length modifier compared with the host libc.
 * unit-sources: lib/printf.c lib/string.c
 */
#include <stdio.h>

/* libc's snprintf, taken before lib/printf.h renames snprintf to ours. */
static int (*const libc_snprintf)(char *, size_t, const char *, ...) = snprintf;

#include "lib/printf.h"
#include "tests/unit/unit.h"

static char out[256];

/* Formats into out and checks both the text and the returned length. */
#define CHECK_FMT(expected, ...) do { \
	int _len = snprintf(out, sizeof(out), __VA_ARGS__); \
	CHECK_STR(out, expected); \
	CHECK_EQ(_len, strlen(expected)); \
} while (0)

/* For formats the compiler warns about (redundant flags, NULL strings, unknown
 * conversions): no format attribute here, so no -Wformat. */
static int format_unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len;
}

#define CHECK_FMT_UNCHECKED(expected, ...) do { \
	int _len = format_unchecked(out, sizeof(out), __VA_ARGS__); \
	CHECK_STR(out, expected); \
	CHECK_EQ(_len, strlen(expected)); \
} while (0)

static void test_signed(void)
{
	CHECK_FMT("0", "%d", 0);
	CHECK_FMT("42", "%d", 42);
	CHECK_FMT("-42", "%i", -42);
	CHECK_FMT("2147483647", "%d", INT32_MAX);
	CHECK_FMT("-2147483648", "%d", INT32_MIN);
	CHECK_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	CHECK_FMT("9223372036854775807", "%lld", (long long)INT64_MAX);
	CHECK_FMT("-9223372036854775808", "%ld", (long)INT64_MIN);
	CHECK_FMT("-9223372036854775808", "%jd", INTMAX_MIN);
	CHECK_FMT("-1", "%hhd", 255);
	CHECK_FMT("-128", "%hhd", 128);
	CHECK_FMT("-1", "%hd", 65535);
	CHECK_FMT("-5", "%td", (ptrdiff_t)-5);
	CHECK_FMT("-1", "%zd", (size_t)-1);
}

static void test_unsigned(void)
{
	CHECK_FMT("4294967295", "%u", UINT32_MAX);
	CHECK_FMT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	CHECK_FMT("18446744073709551615", "%zu", SIZE_MAX);
	CHECK_FMT("18446744073709551615", "%ju", UINTMAX_MAX);
	CHECK_FMT("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
	CHECK_FMT("FFFFFFFFFFFFFFFF", "%llX", (unsigned long long)UINT64_MAX);
	CHECK_FMT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	CHECK_FMT("deadbeef", "%x", 0xdeadbeefu);
	CHECK_FMT("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK_FMT("17", "%o", 15u);
	CHECK_FMT("1", "%hhu", 257);
	CHECK_FMT("2345", "%hx", 0x12345);
	CHECK_FMT("0", "%x", 0u);
}

static void test_flags_and_width(void)
{
	CHECK_FMT("   42", "%5d", 42);
	CHECK_FMT("42   |", "%-5d|", 42);
	CHECK_FMT("00042", "%05d", 42);
	CHECK_FMT("-0042", "%05d", -42);
	CHECK_FMT("  -42", "%5d", -42);
	CHECK_FMT("+42", "%+d", 42);
	CHECK_FMT("+0", "%+d", 0);
	CHECK_FMT(" 42", "% d", 42);
	CHECK_FMT("-42", "% d", -42);
	CHECK_FMT_UNCHECKED("+42", "%+ d", 42);
	CHECK_FMT_UNCHECKED("42   |", "%-05d|", 42);
	CHECK_FMT("+0042", "%+05d", 42);
	CHECK_FMT("42", "%1d", 42);
	CHECK_FMT("0xff", "%#x", 255u);
	CHECK_FMT("0XFF", "%#X", 255u);
	CHECK_FMT("0", "%#x", 0u);
	CHECK_FMT("010", "%#o", 8u);
	CHECK_FMT("0", "%#o", 0u);
	CHECK_FMT("0x000000ff", "%#010x", 255u);
	CHECK_FMT("0xff      |", "%#-10x|", 255u);
	CHECK_FMT("    0xff", "%#8x", 255u);
}

static void test_precision(void)
{
	CHECK_FMT("00042", "%.5d", 42);
	CHECK_FMT("-00042", "%.5d", -42);
	CHECK_FMT_UNCHECKED("     042", "%08.3d", 42);
	CHECK_FMT("", "%.0d", 0);
	CHECK_FMT("", "%.d", 0);
	CHECK_FMT("     ", "%5.0d", 0);
	CHECK_FMT("+", "%+.0d", 0);
	CHECK_FMT("0", "%#.0o", 0u);
	CHECK_FMT("", "%#.0x", 0u);
	CHECK_FMT("0x0001", "%#.4x", 1u);
	CHECK_FMT("0012", "%#.4o", 10u);
	CHECK_FMT("1", "%.0d", 1);
}

static void test_star(void)
{
	CHECK_FMT("   42", "%*d", 5, 42);
	CHECK_FMT("42   |", "%-*d|", 5, 42);
	CHECK_FMT("42   |", "%*d|", -5, 42);
	CHECK_FMT("0007", "%.*d", 4, 7);
	CHECK_FMT("7", "%.*d", -1, 7);
	CHECK_FMT_UNCHECKED("00007", "%0*.*d", 5, -1, 7);
	CHECK_FMT("    ab", "%*.*s", 6, 2, "abcdef");
	CHECK_FMT("x=   -3 y", "x=%*d y", 5, -3);
}

static void test_char_string_pointer(void)
{
	CHECK_FMT("A", "%c", 'A');
	CHECK_FMT("  A", "%3c", 'A');
	CHECK_FMT("A  |", "%-3c|", 'A');
	CHECK_FMT("hi", "%s", "hi");
	CHECK_FMT("   hi", "%5s", "hi");
	CHECK_FMT("hi   |", "%-5s|", "hi");
	CHECK_FMT("ab", "%.2s", "abcdef");
	CHECK_FMT("abc", "%.5s", "abc");
	CHECK_FMT("", "%.0s", "abc");
	CHECK_FMT("", "%s", "");
	CHECK_FMT_UNCHECKED("(null)", "%s", (char *)NULL);
	CHECK_FMT_UNCHECKED("    (null)", "%10s", (char *)NULL);
	CHECK_FMT("0x1234", "%p", (void *)0x1234);
	CHECK_FMT("0x0", "%p", NULL);
	CHECK_FMT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	CHECK_FMT("  0xabc", "%7p", (void *)0xabc);
	CHECK_FMT("0xabc  |", "%-7p|", (void *)0xabc);
	CHECK_FMT("%", "%%");
	CHECK_FMT("100%", "100%%");
	CHECK_FMT("vm0: rip=0x1000 exit 48 (EPT violation)",
		  "%s: rip=%#llx exit %u (%s)", "vm0", 0x1000ull, 48u, "EPT violation");
}

/* Unknown or unfinished conversions come out as written and consume no argument. */
static void test_malformed(void)
{
	CHECK_EQ(format_unchecked(out, sizeof(out), "%y|%d", 5), 4);
	CHECK_STR(out, "%y|5");
	CHECK_EQ(format_unchecked(out, sizeof(out), "abc%"), 4);
	CHECK_STR(out, "abc%");
	CHECK_EQ(format_unchecked(out, sizeof(out), "abc%-5"), 6);
	CHECK_STR(out, "abc%-5");
	CHECK_EQ(format_unchecked(out, sizeof(out), "%5k"), 3);
	CHECK_STR(out, "%5k");
}

static void test_truncation(void)
{
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(snprintf(buf, 5, "%s", "hello world"), 11);
	CHECK_STR(buf, "hell");
	CHECK_EQ(buf[5], 'X');

	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(snprintf(buf, 6, "%d", -1234567), 8);
	CHECK_STR(buf, "-1234");
	CHECK_EQ(buf[6], 'X');

	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(snprintf(buf, 1, "abc"), 3);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(buf[1], 'X');

	/* size 0: nothing is written, not even a NUL; the length is still returned. */
	CHECK_EQ(snprintf(NULL, 0, "%llu", (unsigned long long)UINT64_MAX), 20);
	buf[0] = 'Q';
	CHECK_EQ(snprintf(buf, 0, "abc"), 3);
	CHECK_EQ(buf[0], 'Q');

	/* Exactly fitting: size = length + 1. */
	CHECK_EQ(snprintf(buf, 4, "%x", 0xabcu), 3);
	CHECK_STR(buf, "abc");

	CHECK_EQ(snprintf(out, sizeof(out), "%300d", 1), 300);
	CHECK_EQ(strlen(out), sizeof(out) - 1);
	CHECK_EQ(out[0], ' ');
}

static const char *const int_flags[] = {
	"", "-", "0", "+", " ", "#", "-0", "+0", " 0", "#0", "-+", "- #", "+ ",
};
static const char *const widths[] = { "", "1", "5", "21", "25" };
static const char *const precisions[] = { "", ".", ".0", ".1", ".3", ".22" };
static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z", "t", "j" };
static const char conversions[] = "diuxXo";
static const u64 values[] = {
	0, 1, 7, 8, 42, 255, 256, 0x7f, 0x80, 0x7fff, 0x8000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000ull, (u64)INT64_MAX, (u64)INT64_MIN, UINT64_MAX, (u64)-42,
};

static bool is_int_length(const char *length)
{
	return length[0] == '\0' || length[0] == 'h';
}

/* Formats value with fmt through both implementations; returns whether they agree. */
static bool same_as_libc(const char *fmt, const char *length, u64 value)
{
	char ours[128], theirs[128];
	int our_len, their_len;

	if (is_int_length(length)) {
		our_len = format_unchecked(ours, sizeof(ours), fmt, (int)value);
		their_len = libc_snprintf(theirs, sizeof(theirs), fmt, (int)value);
	} else {
		our_len = format_unchecked(ours, sizeof(ours), fmt, value);
		their_len = libc_snprintf(theirs, sizeof(theirs), fmt, value);
	}
	if (our_len == their_len && strcmp(ours, theirs) == 0)
		return true;
	fprintf(stderr, "format \"%s\" value 0x%llx: ours \"%s\" (%d), libc \"%s\" (%d)\n",
		fmt, (unsigned long long)value, ours, our_len, theirs, their_len);
	return false;
}

static void test_integers_against_libc(void)
{
	char fmt[32];
	int mismatches = 0, compared = 0;

	for (size_t f = 0; f < ARRAY_SIZE(int_flags); f++)
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
	for (size_t p = 0; p < ARRAY_SIZE(precisions); p++)
	for (size_t l = 0; l < ARRAY_SIZE(lengths); l++)
	for (size_t c = 0; conversions[c]; c++) {
		libc_snprintf(fmt, sizeof(fmt), "%%%s%s%s%s%c", int_flags[f], widths[w],
			      precisions[p], lengths[l], conversions[c]);
		for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
			compared++;
			if (!same_as_libc(fmt, lengths[l], values[v]) && ++mismatches > 20)
				goto done;
		}
	}
done:
	CHECK_EQ(mismatches, 0);
	CHECK(compared > 100000);
}

static void test_strings_against_libc(void)
{
	static const char *const texts[] = { "", "a", "hello", "a longer string here" };
	static const char *const string_flags[] = { "", "-" };
	char fmt[32], ours[64], theirs[64];
	int mismatches = 0;

	for (size_t f = 0; f < ARRAY_SIZE(string_flags); f++)
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
	for (size_t p = 0; p < ARRAY_SIZE(precisions); p++)
	for (size_t t = 0; t < ARRAY_SIZE(texts); t++) {
		libc_snprintf(fmt, sizeof(fmt), "[%%%s%s%ss]", string_flags[f], widths[w],
			      precisions[p]);
		int our_len = format_unchecked(ours, sizeof(ours), fmt, texts[t]);
		int their_len = libc_snprintf(theirs, sizeof(theirs), fmt, texts[t]);
		if (our_len != their_len || strcmp(ours, theirs) != 0) {
			fprintf(stderr, "format \"%s\": ours \"%s\", libc \"%s\"\n", fmt, ours, theirs);
			mismatches++;
		}
	}
	CHECK_EQ(mismatches, 0);
}

int main(void)
{
	test_signed();
	test_unsigned();
	test_flags_and_width();
	test_precision();
	test_star();
	test_char_string_pointer();
	test_malformed();
	test_truncation();
	test_integers_against_libc();
	test_strings_against_libc();
	return unit_done("printf");
}
