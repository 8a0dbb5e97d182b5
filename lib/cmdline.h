/* Command lines: space-separated words "key=value" or "key", applied through tables of
 * options that hold, one line per option, its key, its help text and its setter. */
#ifndef VIREO_LIB_CMDLINE_H
#define VIREO_LIB_CMDLINE_H

#include "lib/types.h"

/*
 * One word of a command line. A word ends at a space, tab or newline outside double
 * quotes. The key runs up to the first '=' outside quotes; the value is what follows,
 * with one pair of surrounding double quotes removed (an unclosed quote runs to the end
 * of the line). Nothing is NUL-terminated: use the lengths.
 */
struct cmdline_word {
	const char *start;	/* the whole word, quotes and all */
	size_t len;
	const char *key;
	size_t key_len;
	const char *value;	/* NULL for a bare key; "key=" gives an empty value */
	size_t value_len;
};

/* Reads the word at *cursor and moves *cursor past it. Returns false, with *cursor on
 * the terminating NUL, when only spaces are left. A NULL line is an empty one. */
bool cmdline_next_word(const char **cursor, struct cmdline_word *word);

/*
 * One option. help is written as "accepted values (meaning; default)", because it is
 * printed after "key=" in the help listing and after "expected " when a value is bad.
 * set() returns false when it rejects the value; value is NULL for a bare key.
 */
struct cmdline_option {
	const char *key;
	const char *help;
	bool (*set)(void *ctx, const char *value, size_t len);
};

/*
 * Applies every word of line through opts. Unknown keys and rejected values are reported
 * with pr_warn and skipped; returns how many there were (0: all applied).
 */
int cmdline_apply(const char *line, const struct cmdline_option *opts, size_t nopts, void *ctx);

/*
 * Applies the leading words of line that are options in opts and sets *rest to the first
 * word that is not (or to the end of the line): for lines such as "name=a mem=8M quiet"
 * whose tail belongs to someone else. A word "--" ends the options explicitly and is
 * skipped, so the tail may start with a word that looks like an option. Rejected values
 * are reported as cmdline_apply() does; returns how many there were.
 */
int cmdline_split_known(const char *line, const struct cmdline_option *opts, size_t nopts,
			void *ctx, const char **rest);

/* Prints "  key=help", one line per option. */
void cmdline_print_help(const struct cmdline_option *opts, size_t nopts);

/* A named value for options that take one of a few words ("halt", "qemu", ...). */
struct cmdline_choice {
	const char *name;
	int value;
};

/* Finds value[0..len) among the choices' names; false if it is none of them. */
bool cmdline_pick(const char *value, size_t len, const struct cmdline_choice *choices,
		  size_t nchoices, int *picked);

/* Whether value[0..len) is exactly the string word. */
bool cmdline_value_is(const char *value, size_t len, const char *word);

#endif
