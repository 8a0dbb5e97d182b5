/* Multiboot v1 as test guests see it: the header constants (also for .S files) and the
 * information block the loader passes in EBX, with accessors that accept a NULL block
 * (plain ELF64 guests get none). */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

/* Multiboot Specification 0.6.96, 3.1.1 and 3.2. */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_HEADER_PAGE_ALIGN 0x1	/* modules on page boundaries */
#define MB1_HEADER_MEMORY_INFO 0x2	/* mem_* and mmap_* wanted */
#define MB1_LOADER_MAGIC 0x2BADB002	/* in EAX at entry */

#ifndef __ASSEMBLY__
#include "lib/types.h"

/* Flags saying which fields of the information block are valid (spec 3.3). */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP (1u << 6)

struct multiboot_info {
	u32 flags;
	u32 mem_lower_kib;	/* below 1 MiB */
	u32 mem_upper_kib;	/* from 1 MiB up to the first hole */
	u32 boot_device;
	u32 cmdline;		/* physical address of a NUL-terminated string */
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length;
	u32 mmap_addr;
} __packed;
static_assert(sizeof(struct multiboot_info) == 52, "multiboot v1 info layout (spec 3.3)");

/* size counts the bytes after itself: entries are size + 4 apart. */
struct multiboot_mmap_entry {
	u32 size;
	u64 base;
	u64 length;
	u32 type;
} __packed;
static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot v1 mmap entry (spec 3.3)");

#define MB1_MMAP_AVAILABLE 1

/* The command line, or "" when there is none. */
const char *mb_cmdline(const struct multiboot_info *mbi);
/* mem_upper in KiB, or 0 when the loader gave no memory information. */
u32 mb_mem_upper_kib(const struct multiboot_info *mbi);
/* Iterates the memory map: pass NULL first; returns NULL after the last entry. */
const struct multiboot_mmap_entry *mb_mmap_next(const struct multiboot_info *mbi,
						const struct multiboot_mmap_entry *prev);

/* Words of a command line (lib/cmdline.h syntax): "key" or "key=value". */
bool cmdline_has_word(const char *line, const char *word);
/* The value of key=NUMBER (decimal or 0x-hex, with an optional K/M/G suffix). */
bool cmdline_get_u64(const char *line, const char *key, u64 *value);

#endif /* __ASSEMBLY__ */
#endif
