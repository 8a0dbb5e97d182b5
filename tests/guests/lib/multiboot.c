/* Multiboot v1 information accessors and command-line lookups for test guests. */
#include "tests/guests/lib/multiboot.h"
#include "lib/cmdline.h"
#include "lib/string.h"

static bool mb_has(const struct multiboot_info *mbi, u32 flag)
{
	return mbi && (mbi->flags & flag);
}

const char *mb_cmdline(const struct multiboot_info *mbi)
{
	if (!mb_has(mbi, MB1_INFO_CMDLINE) || !mbi->cmdline)
		return "";
	return (const char *)(uintptr_t)mbi->cmdline;
}

u32 mb_mem_upper_kib(const struct multiboot_info *mbi)
{
	return mb_has(mbi, MB1_INFO_MEMORY) ? mbi->mem_upper_kib : 0;
}

const struct multiboot_mmap_entry *mb_mmap_next(const struct multiboot_info *mbi,
						const struct multiboot_mmap_entry *prev)
{
	uintptr_t start, end, next;

	if (!mb_has(mbi, MB1_INFO_MMAP))
		return NULL;
	start = mbi->mmap_addr;
	end = start + mbi->mmap_length;
	next = prev ? (uintptr_t)prev + prev->size + sizeof(prev->size) : start;
	if (next + sizeof(struct multiboot_mmap_entry) > end)
		return NULL;
	return (const struct multiboot_mmap_entry *)next;
}

/* The first word of line whose key is key, if any. */
static bool cmdline_find(const char *line, const char *key, struct cmdline_word *word)
{
	size_t key_len = strlen(key);

	while (cmdline_next_word(&line, word)) {
		if (word->key_len == key_len && !strncmp(word->key, key, key_len))
			return true;
	}
	return false;
}

bool cmdline_has_word(const char *line, const char *word)
{
	struct cmdline_word found;

	return cmdline_find(line, word, &found) && !found.value;
}

bool cmdline_get_u64(const char *line, const char *key, u64 *value)
{
	struct cmdline_word found;

	return cmdline_find(line, key, &found) && found.value &&
	       parse_size(found.value, found.value_len, value);
}
