/* Command-line tokenizer and option tables; lib/cmdline.h describes the syntax. */
#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CMDLINE_END_OF_OPTIONS "--"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_spaces(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static void strip_quotes(const char **value, size_t *len)
{
	if (*len == 0 || (*value)[0] != '"')
		return;
	(*value)++;
	(*len)--;
	if (*len > 0 && (*value)[*len - 1] == '"')
		(*len)--;
}

static void split_key_value(struct cmdline_word *word)
{
	bool quoted = false;

	word->key = word->start;
	word->key_len = word->len;
	word->value = NULL;
	word->value_len = 0;
	for (size_t i = 0; i < word->len; i++) {
		if (word->start[i] == '"') {
			quoted = !quoted;
		} else if (word->start[i] == '=' && !quoted) {
			word->key_len = i;
			word->value = word->start + i + 1;
			word->value_len = word->len - i - 1;
			strip_quotes(&word->value, &word->value_len);
			return;
		}
	}
}

bool cmdline_next_word(const char **cursor, struct cmdline_word *word)
{
	const char *p = skip_spaces(*cursor ? *cursor : "");
	bool quoted = false;

	*cursor = p;
	if (!*p)
		return false;
	word->start = p;
	for (; *p && (quoted || !is_space(*p)); p++) {
		if (*p == '"')
			quoted = !quoted;
	}
	word->len = (size_t)(p - word->start);
	split_key_value(word);
	*cursor = p;
	return true;
}

bool cmdline_value_is(const char *value, size_t len, const char *word)
{
	return value && len == strlen(word) && memcmp(value, word, len) == 0;
}

bool cmdline_pick(const char *value, size_t len, const struct cmdline_choice *choices,
		  size_t nchoices, int *picked)
{
	for (size_t i = 0; i < nchoices; i++) {
		if (cmdline_value_is(value, len, choices[i].name)) {
			*picked = choices[i].value;
			return true;
		}
	}
	return false;
}

static const struct cmdline_option *find_option(const struct cmdline_option *opts, size_t nopts,
						const struct cmdline_word *word)
{
	for (size_t i = 0; i < nopts; i++) {
		if (cmdline_value_is(word->key, word->key_len, opts[i].key))
			return &opts[i];
	}
	return NULL;
}

/* "console= loglevel= exit=", cut short if it does not fit. */
static void format_keys(char *buf, size_t size, const struct cmdline_option *opts, size_t nopts)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nopts && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s=", i ? " " : "", opts[i].key);

		if (n < 0)
			return;
		used += (size_t)n;
	}
}

static void report_unknown(const struct cmdline_word *word, const struct cmdline_option *opts,
			   size_t nopts)
{
	char known[200];

	format_keys(known, sizeof(known), opts, nopts);
	pr_warn("cmdline: unknown option '%.*s' ignored; known options: %s\n",
		(int)word->key_len, word->key, known);
}

/* Returns false (after saying why) when the option rejects the word's value. */
static bool apply_option(const struct cmdline_option *opt, const struct cmdline_word *word,
			 void *ctx)
{
	if (opt->set(ctx, word->value, word->value_len))
		return true;
	if (word->value)
		pr_warn("cmdline: bad value '%.*s' for %s=: expected %s\n", (int)word->value_len,
			word->value, opt->key, opt->help);
	else
		pr_warn("cmdline: option %s needs a value: expected %s\n", opt->key, opt->help);
	return false;
}

int cmdline_apply(const char *line, const struct cmdline_option *opts, size_t nopts, void *ctx)
{
	struct cmdline_word word;
	int problems = 0;

	while (cmdline_next_word(&line, &word)) {
		const struct cmdline_option *opt = find_option(opts, nopts, &word);

		if (!opt) {
			report_unknown(&word, opts, nopts);
			problems++;
		} else if (!apply_option(opt, &word, ctx)) {
			problems++;
		}
	}
	return problems;
}

int cmdline_split_known(const char *line, const struct cmdline_option *opts, size_t nopts,
			void *ctx, const char **rest)
{
	struct cmdline_word word;
	int problems = 0;

	while (cmdline_next_word(&line, &word)) {
		const struct cmdline_option *opt;

		if (cmdline_value_is(word.start, word.len, CMDLINE_END_OF_OPTIONS)) {
			*rest = skip_spaces(line);
			return problems;
		}
		opt = find_option(opts, nopts, &word);
		if (!opt) {
			*rest = word.start;
			return problems;
		}
		if (!apply_option(opt, &word, ctx))
			problems++;
	}
	*rest = line;
	return problems;
}

void cmdline_print_help(const struct cmdline_option *opts, size_t nopts)
{
	for (size_t i = 0; i < nopts; i++)
		printk("  %s=%s\n", opts[i].key, opts[i].help);
}
