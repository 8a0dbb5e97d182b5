/* Host unit tests of the command-line tokenizer, option tables and Vireo's own options.
 * unit-sources: lib/cmdline.c boot/options.c lib/log.c lib/printf.c lib/string.c
 */
#include <stdlib.h>
#include "boot/options.h"
#include "lib/cmdline.h"
#include "lib/string.h"
#include "tests/unit/unit.h"

/* --- console capture --- */

static char console_text[8192];
static size_t console_len;

static void capture_console(const char *s, size_t len)
{
	size_t room = sizeof(console_text) - 1 - console_len;
	size_t n = len < room ? len : room;

	memcpy(console_text + console_len, s, n);
	console_len += n;
	console_text[console_len] = '\0';
}

static void console_clear(void)
{
	console_len = 0;
	console_text[0] = '\0';
}

#define CHECK_CONSOLE_HAS(needle) do { \
	CHECK(strstr(console_text, needle) != NULL); \
	if (!strstr(console_text, needle)) \
		fprintf(stderr, "  console was: %s\n", console_text); \
} while (0)

/* --- tokenizer --- */

static bool span_is(const char *s, size_t len, const char *expected)
{
	return s && len == strlen(expected) && memcmp(s, expected, len) == 0;
}

/* Reads one word and checks its key and value (value NULL: a bare key). */
#define CHECK_WORD(cursor, expected_key, expected_value) do { \
	struct cmdline_word w_; \
	const char *v_ = (expected_value); \
	CHECK(cmdline_next_word(cursor, &w_)); \
	CHECK(span_is(w_.key, w_.key_len, expected_key)); \
	CHECK(v_ ? span_is(w_.value, w_.value_len, v_) : w_.value == NULL); \
} while (0)

static void test_tokenizer(void)
{
	const char *cursor = "  a=1   b\tc=\"x y\"  d=\"\" e= \"q r\" f=a=b g=\"u=v\" ";
	struct cmdline_word word;

	CHECK_WORD(&cursor, "a", "1");
	CHECK_WORD(&cursor, "b", NULL);
	CHECK_WORD(&cursor, "c", "x y");
	CHECK_WORD(&cursor, "d", "");
	CHECK_WORD(&cursor, "e", "");
	CHECK_WORD(&cursor, "\"q r\"", NULL);
	CHECK_WORD(&cursor, "f", "a=b");
	CHECK_WORD(&cursor, "g", "u=v");
	CHECK(!cmdline_next_word(&cursor, &word));
	CHECK_EQ(*cursor, '\0');
	CHECK(!cmdline_next_word(&cursor, &word));

	cursor = "k=\"unclosed quote runs on";
	CHECK_WORD(&cursor, "k", "unclosed quote runs on");
	CHECK(!cmdline_next_word(&cursor, &word));

	cursor = "only";
	CHECK(cmdline_next_word(&cursor, &word));
	CHECK(span_is(word.start, word.len, "only"));
	CHECK_EQ(*cursor, '\0');
}

static void test_tokenizer_empty(void)
{
	const char *cursor = "";
	struct cmdline_word word;

	CHECK(!cmdline_next_word(&cursor, &word));
	cursor = "   \t ";
	CHECK(!cmdline_next_word(&cursor, &word));
	CHECK_EQ(*cursor, '\0');
	cursor = NULL;
	CHECK(!cmdline_next_word(&cursor, &word));
	CHECK(cursor != NULL);
}

/* --- option tables --- */

struct test_ctx {
	unsigned long long number;
	bool flag;
	char name[32];
};

static bool set_number(void *ctx, const char *value, size_t len)
{
	struct test_ctx *t = ctx;
	u64 n;

	if (!value || !parse_u64(value, len, &n) || n > 100)
		return false;
	t->number = n;
	return true;
}

static bool set_flag(void *ctx, const char *value, size_t len)
{
	struct test_ctx *t = ctx;

	if (value)
		return false;
	t->flag = true;
	return true;
}

static bool set_name(void *ctx, const char *value, size_t len)
{
	struct test_ctx *t = ctx;

	if (!value || len == 0 || len >= sizeof(t->name))
		return false;
	memcpy(t->name, value, len);
	t->name[len] = '\0';
	return true;
}

static const struct cmdline_option test_options[] = {
	{ "number", "0-100 (a number)", set_number },
	{ "flag", "no value (switches it on)", set_flag },
	{ "name", "1-31 characters (a name)", set_name },
};

static int apply(const char *line, struct test_ctx *t)
{
	memset(t, 0, sizeof(*t));
	console_clear();
	return cmdline_apply(line, test_options, ARRAY_SIZE(test_options), t);
}

static void test_apply(void)
{
	struct test_ctx t;

	CHECK_EQ(apply("number=42 flag name=\"big box\"", &t), 0);
	CHECK_EQ(t.number, 42);
	CHECK(t.flag);
	CHECK_STR(t.name, "big box");
	CHECK_EQ(console_len, 0);

	CHECK_EQ(apply("number=1 number=2", &t), 0);
	CHECK_EQ(t.number, 2);

	CHECK_EQ(apply("", &t), 0);
	CHECK_EQ(apply(NULL, &t), 0);
}

static void test_apply_unknown(void)
{
	struct test_ctx t;

	CHECK_EQ(apply("foo=1 number=7 bar", &t), 2);
	CHECK_EQ(t.number, 7);
	CHECK_CONSOLE_HAS("cmdline: unknown option 'foo' ignored; known options: number= flag= name=\n");
	CHECK_CONSOLE_HAS("cmdline: unknown option 'bar' ignored");
}

static void test_apply_bad_values(void)
{
	struct test_ctx t;

	CHECK_EQ(apply("number=abc number=5 number=101 number= number flag=1", &t), 5);
	CHECK_EQ(t.number, 5);
	CHECK(!t.flag);
	CHECK_CONSOLE_HAS("cmdline: bad value 'abc' for number=: expected 0-100 (a number)\n");
	CHECK_CONSOLE_HAS("cmdline: bad value '101' for number=");
	CHECK_CONSOLE_HAS("cmdline: bad value '' for number=");
	CHECK_CONSOLE_HAS("cmdline: option number needs a value: expected 0-100 (a number)\n");
	CHECK_CONSOLE_HAS("cmdline: bad value '1' for flag=");
}

static int split(const char *line, struct test_ctx *t, const char **rest)
{
	memset(t, 0, sizeof(*t));
	console_clear();
	return cmdline_split_known(line, test_options, ARRAY_SIZE(test_options), t, rest);
}

static void test_split_known(void)
{
	struct test_ctx t;
	const char *rest;
	const char *line = "guest first";

	CHECK_EQ(split("name=a  number=8 root=/dev/vda name=b", &t, &rest), 0);
	CHECK_STR(rest, "root=/dev/vda name=b");
	CHECK_STR(t.name, "a");
	CHECK_EQ(t.number, 8);

	CHECK_EQ(split("name=a -- number=5 x", &t, &rest), 0);
	CHECK_STR(rest, "number=5 x");
	CHECK_EQ(t.number, 0);

	CHECK_EQ(split("number=x flag quiet", &t, &rest), 1);
	CHECK_STR(rest, "quiet");
	CHECK(t.flag);
	CHECK_CONSOLE_HAS("cmdline: bad value 'x' for number=");

	CHECK_EQ(split("name=a   ", &t, &rest), 0);
	CHECK_STR(rest, "");
	CHECK_EQ(split("", &t, &rest), 0);
	CHECK_STR(rest, "");
	CHECK_EQ(split(line, &t, &rest), 0);
	CHECK(rest == line);
	CHECK_EQ(console_len, 0);
}

static void test_pick(void)
{
	static const struct cmdline_choice choices[] = { { "on", 1 }, { "off", 0 } };
	int picked = -1;

	CHECK(cmdline_pick("off", 3, choices, ARRAY_SIZE(choices), &picked));
	CHECK_EQ(picked, 0);
	CHECK(cmdline_pick("onward", 2, choices, ARRAY_SIZE(choices), &picked));
	CHECK_EQ(picked, 1);
	CHECK(!cmdline_pick("o", 1, choices, ARRAY_SIZE(choices), &picked));
	CHECK(!cmdline_pick(NULL, 0, choices, ARRAY_SIZE(choices), &picked));
	CHECK(cmdline_value_is("none", 4, "none"));
	CHECK(!cmdline_value_is("non", 3, "none"));
}

/* --- Vireo's options --- */

static const struct vireo_options defaults = {
	.console_port = 0x3f8, .loglevel = LOG_INFO, .exit = EXIT_HALT,
	.mmio_cache = true, .fast_mmio = true, .fast_mmio_length = FAST_MMIO_LENGTH_AUTO,
	.ept = true, .shadow_cache = true, .fast_zap = true,
};

static int parse_options(const char *line)
{
	vireo_options = defaults;
	console_clear();
	return options_parse(line);
}

static void test_vireo_defaults(void)
{
	CHECK_EQ(vireo_options.console_port, 0x3f8);
	CHECK_EQ(vireo_options.loglevel, LOG_INFO);
	CHECK_EQ(vireo_options.exit, EXIT_HALT);
	CHECK(vireo_options.mmio_cache && vireo_options.fast_mmio);
	CHECK_EQ(vireo_options.fast_mmio_length, FAST_MMIO_LENGTH_AUTO);
	CHECK(vireo_options.ept && vireo_options.shadow_cache);
	CHECK_EQ(vireo_options.shadow_pages, 0);	/* 0: derived from each VM's RAM */
	CHECK(vireo_options.fast_zap);
}

static void test_vireo_options(void)
{
	CHECK_EQ(parse_options("console=ttyS1 loglevel=debug exit=qemu"), 0);
	CHECK_EQ(vireo_options.console_port, 0x2f8);
	CHECK_EQ(vireo_options.loglevel, LOG_DEBUG);
	CHECK_EQ(vireo_options.exit, EXIT_QEMU);
	CHECK_EQ(console_len, 0);

	CHECK_EQ(parse_options("console=com4 loglevel=0 exit=acpi"), 0);
	CHECK_EQ(vireo_options.console_port, 0x2e8);
	CHECK_EQ(vireo_options.loglevel, LOG_ERR);
	CHECK_EQ(vireo_options.exit, EXIT_ACPI);

	CHECK_EQ(parse_options("console=ttyS2 loglevel=warn exit=bochs"), 0);
	CHECK_EQ(vireo_options.console_port, 0x3e8);
	CHECK_EQ(vireo_options.loglevel, LOG_WARN);
	CHECK_EQ(vireo_options.exit, EXIT_BOCHS);

	CHECK_EQ(parse_options("console=0x2f8 loglevel=3"), 0);
	CHECK_EQ(vireo_options.console_port, 0x2f8);
	CHECK_EQ(vireo_options.loglevel, LOG_DEBUG);

	CHECK_EQ(parse_options("console=none exit=halt"), 0);
	CHECK_EQ(vireo_options.console_port, CONSOLE_PORT_NONE);
	CHECK_EQ(vireo_options.exit, EXIT_HALT);
}

static void test_vireo_bad_values(void)
{
	CHECK_EQ(parse_options("console=ttyS4 console=com0 console=0 console=0x10000 console "
			       "loglevel=4 loglevel=verbose exit=reboot"), 8);
	CHECK_EQ(vireo_options.console_port, 0x3f8);
	CHECK_EQ(vireo_options.loglevel, LOG_INFO);
	CHECK_EQ(vireo_options.exit, EXIT_HALT);
	CHECK_CONSOLE_HAS("cmdline: bad value 'ttyS4' for console=: expected ttyS0-ttyS3");
	CHECK_CONSOLE_HAS("cmdline: bad value 'verbose' for loglevel=: expected 0-3 or err, warn, info, debug");
	CHECK_CONSOLE_HAS("cmdline: bad value 'reboot' for exit=: expected halt, bochs, qemu or acpi");
	CHECK_CONSOLE_HAS("cmdline: option console needs a value");
}

static void test_vireo_unknown(void)
{
	CHECK_EQ(parse_options("console=ttyS1 quiet"), 1);
	CHECK_EQ(vireo_options.console_port, 0x2f8);
	CHECK_CONSOLE_HAS("cmdline: unknown option 'quiet' ignored; known options: console= loglevel= exit= mmio_cache= fast_mmio= fast_mmio_length= ept= shadow_cache= shadow_unsync= shadow_pages= zap= slice= exit_ticks=\n");
	CHECK_CONSOLE_HAS("Vireo options, on the multiboot2 command line:\n");
	CHECK_CONSOLE_HAS("  loglevel=0-3 or err, warn, info, debug");
	CHECK_CONSOLE_HAS("  exit=halt, bochs, qemu or acpi");
}

static void test_mmio_switches(void)
{
	CHECK_EQ(parse_options("mmio_cache=off fast_mmio=off fast_mmio_length=decode"), 0);
	CHECK(!vireo_options.mmio_cache && !vireo_options.fast_mmio);
	CHECK_EQ(vireo_options.fast_mmio_length, FAST_MMIO_LENGTH_DECODE);
	CHECK_EQ(parse_options("mmio_cache=on fast_mmio_length=exit"), 0);
	CHECK(vireo_options.mmio_cache);
	CHECK_EQ(vireo_options.fast_mmio_length, FAST_MMIO_LENGTH_EXIT);
	CHECK_EQ(parse_options("mmio_cache=yes fast_mmio fast_mmio_length=fast"), 3);
	CHECK(vireo_options.mmio_cache && vireo_options.fast_mmio);	/* bad values leave defaults */
	CHECK_EQ(vireo_options.fast_mmio_length, FAST_MMIO_LENGTH_AUTO);
}

static void test_mmu_switches(void)
{
	CHECK_EQ(parse_options("ept=off shadow_cache=off shadow_pages=4096"), 0);
	CHECK(!vireo_options.ept && !vireo_options.shadow_cache);
	CHECK_EQ(vireo_options.shadow_pages, 4096);
	CHECK_EQ(parse_options("ept=on shadow_cache=on shadow_pages=0x100"), 0);
	CHECK(vireo_options.ept && vireo_options.shadow_cache);
	CHECK_EQ(vireo_options.shadow_pages, 0x100);
	CHECK_EQ(parse_options("ept=maybe shadow_cache= shadow_pages=0 shadow_pages=many"), 4);
	CHECK(vireo_options.ept && vireo_options.shadow_cache);	/* bad values leave defaults */
	CHECK_EQ(vireo_options.shadow_pages, 0);
	CHECK_EQ(parse_options("zap=slow"), 0);
	CHECK(!vireo_options.fast_zap);
	CHECK_EQ(parse_options("zap=fast"), 0);
	CHECK(vireo_options.fast_zap);
	CHECK_EQ(parse_options("zap=lazy"), 1);
	CHECK(vireo_options.fast_zap);
}

int main(void)
{
	console_register(capture_console);
	test_vireo_defaults();
	test_tokenizer();
	test_tokenizer_empty();
	test_apply();
	test_apply_unknown();
	test_apply_bad_values();
	test_split_known();
	test_pick();
	test_vireo_options();
	test_vireo_bad_values();
	test_vireo_unknown();
	test_mmio_switches();
	test_mmu_switches();
	return unit_done("cmdline");
}
