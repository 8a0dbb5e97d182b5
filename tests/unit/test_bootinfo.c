/* Host unit tests of the multiboot2 information parser on crafted buffers.
 * unit-sources: boot/bootinfo.c lib/log.c lib/panic.c lib/printf.c lib/string.c
 */
#include <stdlib.h>
#include "boot/bootinfo.h"
#include "boot/multiboot2.h"
#include "lib/log.h"
#include "tests/unit/unit.h"

void arch_halt_after_panic(void)
{
	abort();
}

/* --- building multiboot2 information --- */

#define MBI_HPA 0x10000ull	/* where the crafted information "is" in physical memory */

static struct {
	u8 bytes[16384] __aligned(8);
	size_t len;
} mbi;

static void mbi_begin(void)
{
	memset(&mbi, 0, sizeof(mbi));
	mbi.len = sizeof(struct mb2_info_header);
}

/* Appends a zeroed tag of size bytes (header included) and returns it for filling. */
static void *mbi_tag(u32 type, size_t size)
{
	struct mb2_tag *tag = (void *)(mbi.bytes + mbi.len);

	if (mbi.len + ALIGN_UP(size, MB2_TAG_ALIGN) > sizeof(mbi.bytes))
		abort();
	tag->type = type;
	tag->size = (u32)size;
	mbi.len += ALIGN_UP(size, MB2_TAG_ALIGN);
	return tag;
}

static void mbi_set_total_size(u32 total_size)
{
	((struct mb2_info_header *)mbi.bytes)->total_size = total_size;
}

static void mbi_finish(void)
{
	mbi_tag(MB2_TAG_END, sizeof(struct mb2_tag));
	mbi_set_total_size((u32)mbi.len);
}

static void add_string(u32 type, const char *s)
{
	struct mb2_tag_string *tag = mbi_tag(type, sizeof(*tag) + strlen(s) + 1);

	memcpy(tag->string, s, strlen(s) + 1);
}

static void add_module(u32 start, u32 end, const char *s)
{
	struct mb2_tag_module *tag = mbi_tag(MB2_TAG_MODULE, sizeof(*tag) + strlen(s) + 1);

	tag->mod_start = start;
	tag->mod_end = end;
	memcpy(tag->string, s, strlen(s) + 1);
}

static void add_mmap(const struct mb2_mmap_entry *entries, size_t n)
{
	struct mb2_tag_mmap *tag = mbi_tag(MB2_TAG_MMAP, sizeof(*tag) + n * sizeof(*entries));

	tag->entry_size = sizeof(*entries);
	memcpy(tag + 1, entries, n * sizeof(*entries));
}

/* Descriptors 48 bytes apart, as real firmware lays them out (more than the 40 defined). */
#define TEST_EFI_DESCR_SIZE 48

static void add_efi_mmap(const struct efi_memory_descriptor *descs, size_t n)
{
	struct mb2_tag_efi_mmap *tag = mbi_tag(MB2_TAG_EFI_MMAP,
					       sizeof(*tag) + n * TEST_EFI_DESCR_SIZE);

	tag->descr_size = TEST_EFI_DESCR_SIZE;
	tag->descr_vers = EFI_MEMORY_DESCRIPTOR_VERSION;
	for (size_t i = 0; i < n; i++)
		memcpy((u8 *)(tag + 1) + i * TEST_EFI_DESCR_SIZE, &descs[i], sizeof(descs[i]));
}

static const u8 *add_rsdp(u32 type, u8 revision, size_t len)
{
	struct mb2_tag_acpi *tag = mbi_tag(type, sizeof(*tag) + len);

	memcpy(tag->rsdp, "RSD PTR ", 8);
	tag->rsdp[15] = revision;
	return tag->rsdp;
}

/* A small PC: low RAM, the BIOS hole, 127 MiB from 1 MiB, ACPI tables, the flash. */
static const struct mb2_mmap_entry pc_map[] = {
	{ 0x0, 0x9fc00, MB2_MEMORY_AVAILABLE, 0 },
	{ 0x9fc00, 0x400, MB2_MEMORY_RESERVED, 0 },
	{ 0xf0000, 0x10000, MB2_MEMORY_RESERVED, 0 },
	{ 0x100000, 0x7ee0000, MB2_MEMORY_AVAILABLE, 0 },
	{ 0x7fe0000, 0x20000, MB2_MEMORY_ACPI_RECLAIMABLE, 0 },
	{ 0xfffc0000, 0x40000, MB2_MEMORY_RESERVED, 0 },
};

static void mbi_begin_pc(void)
{
	mbi_begin();
	add_mmap(pc_map, ARRAY_SIZE(pc_map));
}

static const char *parse(struct boot_info *bi)
{
	return bootinfo_parse(mbi.bytes, MBI_HPA, bi);
}

#define CHECK_REFUSED(error, needle) do { \
	const char *e_ = (error); \
	CHECK(e_ != NULL && strstr(e_, needle) != NULL); \
	if (e_ == NULL || strstr(e_, needle) == NULL) \
		fprintf(stderr, "  wanted \"%s\", got: %s\n", needle, e_ ? e_ : "(accepted)"); \
} while (0)

#define CHECK_ENTRY(bi, i, b, len, t) do { \
	CHECK_EQ((bi)->memmap[i].base, b); \
	CHECK_EQ((bi)->memmap[i].length, len); \
	CHECK_EQ((bi)->memmap[i].type, t); \
} while (0)

/* --- well-formed information --- */

static void test_good_bios_map(void)
{
	struct boot_info bi;
	const u8 *rsdp_new;

	mbi_begin();
	add_string(MB2_TAG_CMDLINE, "console=ttyS0 loglevel=debug");
	add_string(MB2_TAG_BOOT_LOADER_NAME, "GRUB 2.06");
	add_module(0x200000, 0x201234, "name=a mem=8M hello");
	add_module(0x300000, 0x310000, "");
	add_mmap(pc_map, ARRAY_SIZE(pc_map));
	mbi_tag(8, 40);		/* a framebuffer tag: ignored */
	add_rsdp(MB2_TAG_ACPI_OLD, 0, 20);
	rsdp_new = add_rsdp(MB2_TAG_ACPI_NEW, 2, 36);
	mbi_finish();

	CHECK(parse(&bi) == NULL);
	CHECK_STR(bi.cmdline, "console=ttyS0 loglevel=debug");
	CHECK_STR(bi.loader_name, "GRUB 2.06");
	CHECK_EQ(bi.nmodules, 2);
	CHECK_EQ(bi.modules[0].start_hpa, 0x200000);
	CHECK_EQ(bi.modules[0].end_hpa, 0x201234);
	CHECK_STR(bi.modules[0].string, "name=a mem=8M hello");
	CHECK_EQ(bi.modules[1].start_hpa, 0x300000);
	CHECK_EQ(bi.modules[1].end_hpa, 0x310000);
	CHECK_STR(bi.modules[1].string, "");
	CHECK_EQ(bi.nmemmap, 6);
	CHECK_ENTRY(&bi, 0, 0x0, 0x9fc00, MEM_RAM);
	CHECK_ENTRY(&bi, 1, 0x9fc00, 0x400, MEM_RESERVED);
	CHECK_ENTRY(&bi, 2, 0xf0000, 0x10000, MEM_RESERVED);
	CHECK_ENTRY(&bi, 3, 0x100000, 0x7ee0000, MEM_RAM);
	CHECK_ENTRY(&bi, 4, 0x7fe0000, 0x20000, MEM_ACPI_RECLAIM);
	CHECK_ENTRY(&bi, 5, 0xfffc0000, 0x40000, MEM_RESERVED);
	CHECK_STR(bi.memmap_source, "multiboot2 memory map");
	CHECK(bi.rsdp == rsdp_new);
	CHECK_EQ(bi.rsdp_len, 36);
	CHECK_EQ(bi.rsdp_revision, 2);
	CHECK_EQ(bi.mbi_start_hpa, MBI_HPA);
	CHECK_EQ(bi.mbi_end_hpa, MBI_HPA + mbi.len);
}

static void test_minimal(void)
{
	struct boot_info bi;
	const u8 *rsdp_old;

	mbi_begin_pc();
	rsdp_old = add_rsdp(MB2_TAG_ACPI_OLD, 0, 20);
	mbi_finish();

	CHECK(parse(&bi) == NULL);
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader_name, "");
	CHECK_EQ(bi.nmodules, 0);
	CHECK(bi.rsdp == rsdp_old);
	CHECK_EQ(bi.rsdp_len, 20);
	CHECK_EQ(bi.rsdp_revision, 0);
}

static void test_efi_map(void)
{
	static const struct efi_memory_descriptor descs[] = {
		{ EFI_CONVENTIONAL_MEMORY, 0, 0x0, 0, 0xa0, 0 },
		{ EFI_BOOT_SERVICES_DATA, 0, 0x100000, 0, 0x100, 0 },
		{ EFI_LOADER_DATA, 0, 0x200000, 0, 0x200, 0 },
		{ EFI_CONVENTIONAL_MEMORY, 0, 0x400000, 0, 0x3c00, 0 },
		{ EFI_RUNTIME_SERVICES_DATA, 0, 0x4000000, 0, 0x10, 0 },
		{ EFI_ACPI_RECLAIM_MEMORY, 0, 0x4010000, 0, 0x10, 0 },
		{ EFI_ACPI_MEMORY_NVS, 0, 0x4020000, 0, 0x10, 0 },
		{ EFI_UNUSABLE_MEMORY, 0, 0x4030000, 0, 0x10, 0 },
		{ EFI_BOOT_SERVICES_CODE, 0, 0x4040000, 0, 0x10, 0 },
		{ 11 /* EfiMemoryMappedIO */, 0, 0xfec00000, 0, 0x1, 0 },
	};
	static const struct mb2_mmap_entry all_reserved[] = {
		{ 0x0, 0x100000000ull, MB2_MEMORY_RESERVED, 0 },
	};
	struct boot_info bi;

	mbi_begin();
	add_efi_mmap(descs, ARRAY_SIZE(descs));
	add_mmap(all_reserved, ARRAY_SIZE(all_reserved));	/* must be ignored */
	add_module(0x200000, 0x210000, "guest");
	mbi_finish();

	CHECK(parse(&bi) == NULL);
	CHECK_STR(bi.memmap_source, "EFI memory map");
	CHECK_EQ(bi.nmemmap, 8);
	CHECK_ENTRY(&bi, 0, 0x0, 0xa0000, MEM_RAM);
	CHECK_ENTRY(&bi, 1, 0x100000, 0x3f00000, MEM_RAM);	/* boot services, loader, free */
	CHECK_ENTRY(&bi, 2, 0x4000000, 0x10000, MEM_RESERVED);
	CHECK_ENTRY(&bi, 3, 0x4010000, 0x10000, MEM_ACPI_RECLAIM);
	CHECK_ENTRY(&bi, 4, 0x4020000, 0x10000, MEM_ACPI_NVS);
	CHECK_ENTRY(&bi, 5, 0x4030000, 0x10000, MEM_BAD);
	CHECK_ENTRY(&bi, 6, 0x4040000, 0x10000, MEM_RAM);
	CHECK_ENTRY(&bi, 7, 0xfec00000, 0x1000, MEM_RESERVED);

	/* With boot services still running, their memory is not ours. */
	mbi_begin();
	add_efi_mmap(descs, ARRAY_SIZE(descs));
	mbi_tag(MB2_TAG_EFI_BS_NOT_TERMINATED, sizeof(struct mb2_tag));
	mbi_finish();
	CHECK(parse(&bi) == NULL);
	CHECK_ENTRY(&bi, 1, 0x100000, 0x100000, MEM_RESERVED);
	CHECK_ENTRY(&bi, 2, 0x200000, 0x3e00000, MEM_RAM);
	CHECK(!bootinfo_is_ram(&bi, 0x100000, 0x101000));
}

static void test_efi_map_malformed(void)
{
	static const struct efi_memory_descriptor huge = {
		EFI_CONVENTIONAL_MEMORY, 0, 0x0, 0, 1ull << 60, 0
	};
	struct mb2_tag_efi_mmap *tag;
	struct boot_info bi;

	mbi_begin();
	add_efi_mmap(&huge, 1);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "EFI memory map entry 0 has 1152921504606846976 pages");

	mbi_begin();
	tag = mbi_tag(MB2_TAG_EFI_MMAP, sizeof(*tag) + 2 * 40);
	tag->descr_size = 40;
	tag->descr_vers = 2;
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "EFI memory map descriptor version 2, only 1 is known");

	mbi_begin();
	tag = mbi_tag(MB2_TAG_EFI_MMAP, sizeof(*tag) + 2 * 32);
	tag->descr_size = 32;
	tag->descr_vers = EFI_MEMORY_DESCRIPTOR_VERSION;
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "EFI memory map descriptor size 32 is less than 40");

	mbi_begin();
	tag = mbi_tag(MB2_TAG_EFI_MMAP, sizeof(*tag) + 100);
	tag->descr_size = 48;
	tag->descr_vers = EFI_MEMORY_DESCRIPTOR_VERSION;
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "EFI memory map holds 100 bytes, not a whole number of 48-byte descriptors");
}

static void test_basic_meminfo_fallback(void)
{
	struct mb2_tag_basic_meminfo *meminfo;
	struct boot_info bi;

	mbi_begin();
	meminfo = mbi_tag(MB2_TAG_BASIC_MEMINFO, sizeof(*meminfo));
	meminfo->mem_lower = 639;
	meminfo->mem_upper = 130048;	/* 127 MiB */
	add_module(0x200000, 0x201000, "guest");
	mbi_finish();

	CHECK(parse(&bi) == NULL);
	CHECK_STR(bi.memmap_source, "basic meminfo");
	CHECK_EQ(bi.nmemmap, 2);
	CHECK_ENTRY(&bi, 0, 0x0, 639 * 1024, MEM_RAM);
	CHECK_ENTRY(&bi, 1, 0x100000, 127ull << 20, MEM_RAM);
}

/* --- the memory map is normalized --- */

static void test_memmap_normalized(void)
{
	static const struct mb2_mmap_entry messy[] = {
		{ 0x2f0000, 0x110000, MB2_MEMORY_AVAILABLE, 0 },	/* unsorted */
		{ 0x0, 0x100000, MB2_MEMORY_AVAILABLE, 0 },
		{ 0x80000, 0x10000, MB2_MEMORY_RESERVED, 0 },		/* inside RAM */
		{ 0x100000, 0x100000, MB2_MEMORY_AVAILABLE, 0 },	/* adjacent RAM: merged */
		{ 0x180000, 0x180000, MB2_MEMORY_NVS, 0 },		/* over RAM on both sides */
		{ 0x500000, 0x0, MB2_MEMORY_RESERVED, 0 },		/* empty: ignored */
		{ 0x500000, 0x1000, MB2_MEMORY_BADRAM, 0 },
		{ 0x500000, 0x2000, MB2_MEMORY_ACPI_RECLAIMABLE, 0 },	/* bad RAM wins */
		{ 0x600000, 0x1000, 77, 0 },				/* unknown: reserved */
	};
	struct boot_info bi;

	mbi_begin();
	add_mmap(messy, ARRAY_SIZE(messy));
	mbi_finish();

	CHECK(parse(&bi) == NULL);
	CHECK_EQ(bi.nmemmap, 8);
	CHECK_ENTRY(&bi, 0, 0x0, 0x80000, MEM_RAM);
	CHECK_ENTRY(&bi, 1, 0x80000, 0x10000, MEM_RESERVED);
	CHECK_ENTRY(&bi, 2, 0x90000, 0xf0000, MEM_RAM);
	CHECK_ENTRY(&bi, 3, 0x180000, 0x180000, MEM_ACPI_NVS);
	CHECK_ENTRY(&bi, 4, 0x300000, 0x100000, MEM_RAM);
	CHECK_ENTRY(&bi, 5, 0x500000, 0x1000, MEM_BAD);
	CHECK_ENTRY(&bi, 6, 0x501000, 0x1000, MEM_ACPI_RECLAIM);
	CHECK_ENTRY(&bi, 7, 0x600000, 0x1000, MEM_RESERVED);
	for (size_t i = 1; i < bi.nmemmap; i++)
		CHECK(bi.memmap[i - 1].base + bi.memmap[i - 1].length <= bi.memmap[i].base);
	CHECK(bootinfo_is_ram(&bi, 0x90000, 0x180000));
	CHECK(!bootinfo_is_ram(&bi, 0x90000, 0x180001));
	CHECK(!bootinfo_is_ram(&bi, 0x7f000, 0x81000));
}

static void test_memmap_many_pieces_merge(void)
{
	static struct mb2_mmap_entry pages[300];
	struct boot_info bi;

	/* 300 raw entries, more than the map holds, that merge into one range. */
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = (struct mb2_mmap_entry){ 0x100000 + i * 0x1000, 0x1000,
						    MB2_MEMORY_AVAILABLE, 0 };
	mbi_begin();
	add_mmap(pages, ARRAY_SIZE(pages));
	mbi_finish();
	CHECK(parse(&bi) == NULL);
	CHECK_EQ(bi.nmemmap, 1);
	CHECK_ENTRY(&bi, 0, 0x100000, 300 * 0x1000, MEM_RAM);
}

static void test_memmap_too_many_ranges(void)
{
	static struct mb2_mmap_entry ranges[BOOTINFO_MAX_MEMMAP + 1];
	struct boot_info bi;

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		ranges[i] = (struct mb2_mmap_entry){ 0x100000 + i * 0x2000, 0x1000,
						     MB2_MEMORY_AVAILABLE, 0 };
	mbi_begin();
	add_mmap(ranges, BOOTINFO_MAX_MEMMAP);
	mbi_finish();
	CHECK(parse(&bi) == NULL);
	CHECK_EQ(bi.nmemmap, BOOTINFO_MAX_MEMMAP);

	mbi_begin();
	add_mmap(ranges, ARRAY_SIZE(ranges));
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "memory map needs more than 128 ranges");
}

static void test_memmap_malformed(void)
{
	static const struct mb2_mmap_entry wrapping[] = {
		{ 0xfffffffffffff000ull, 0x2000, MB2_MEMORY_AVAILABLE, 0 },
	};
	static const struct mb2_mmap_entry no_ram[] = {
		{ 0x0, 0x100000, MB2_MEMORY_RESERVED, 0 },
	};
	struct mb2_tag_mmap *tag;
	struct boot_info bi;

	mbi_begin();
	add_mmap(wrapping, 1);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "memory map entry 0 [0xfffffffffffff000, +0x2000) wraps past 2^64");

	mbi_begin();
	tag = mbi_tag(MB2_TAG_MMAP, sizeof(*tag) + 40);
	tag->entry_size = 20;
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "memory map entry_size 20 is not a multiple of 8 of at least 24");

	mbi_begin();
	tag = mbi_tag(MB2_TAG_MMAP, sizeof(*tag) + 40);
	tag->entry_size = 24;
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "memory map holds 40 bytes, not a whole number of 24-byte entries");

	mbi_begin();
	add_mmap(no_ram, 1);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "the multiboot2 memory map shows no RAM");

	mbi_begin();
	add_string(MB2_TAG_CMDLINE, "");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "no memory map");
}

/* --- malformed structure --- */

static void test_total_size(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	mbi_finish();
	mbi_set_total_size(8);
	CHECK_REFUSED(parse(&bi), "multiboot2 info: total_size 8 is outside [16, 1048576]");

	mbi_set_total_size(2u << 20);
	CHECK_REFUSED(parse(&bi), "total_size 2097152 is outside");

	mbi_set_total_size((u32)mbi.len - 4);
	CHECK_REFUSED(parse(&bi), "multiboot2 info: total_size 172 is not a multiple of 8");

	/* Cut short in the middle of the memory map tag. */
	mbi_set_total_size(64);
	CHECK_REFUSED(parse(&bi), "multiboot2 info: tag 6 at offset 8 (160 bytes) runs past total_size 64");
}

static void test_tag_past_end(void)
{
	struct mb2_tag *tag;
	struct boot_info bi;

	mbi_begin_pc();
	tag = mbi_tag(MB2_TAG_CMDLINE, 16);
	mbi_finish();
	tag->size = 64;		/* claims to run over the end tag and beyond */
	CHECK_REFUSED(parse(&bi), "tag 1 at offset 168 (64 bytes) runs past total_size 192");
}

static void test_missing_end_tag(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_string(MB2_TAG_CMDLINE, "x");
	mbi_set_total_size((u32)mbi.len);
	CHECK_REFUSED(parse(&bi), "multiboot2 info: no end tag within total_size 184");
}

static void test_misaligned(void)
{
	struct mb2_tag *tag;
	struct boot_info bi;

	mbi_begin_pc();
	mbi_finish();
	CHECK_REFUSED(bootinfo_parse(mbi.bytes, MBI_HPA + 4, &bi),
		      "multiboot2 info: starts at 0x10004, not 8-byte aligned");
	CHECK_REFUSED(bootinfo_parse(mbi.bytes + 4, MBI_HPA, &bi), "not 8-byte aligned");

	/* A tag size below 8 would make the next tag start inside this one. */
	mbi_begin_pc();
	tag = mbi_tag(MB2_TAG_CMDLINE, 8);
	mbi_finish();
	tag->size = 4;
	CHECK_REFUSED(parse(&bi), "tag 1 at offset 168 has size 4, less than its header");
}

static void test_unterminated_strings(void)
{
	struct mb2_tag_string *string;
	struct mb2_tag_module *module;
	struct boot_info bi;

	mbi_begin_pc();
	string = mbi_tag(MB2_TAG_CMDLINE, sizeof(*string) + 3);
	memcpy(string->string, "abc", 3);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "multiboot2 info: command line is not NUL-terminated within its tag");

	mbi_begin_pc();
	mbi_tag(MB2_TAG_BOOT_LOADER_NAME, sizeof(struct mb2_tag));
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "boot loader name is not NUL-terminated");

	mbi_begin_pc();
	add_module(0x200000, 0x201000, "first");
	module = mbi_tag(MB2_TAG_MODULE, sizeof(*module) + 4);
	memcpy(module->string, "abcd", 4);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "module 1 string is not NUL-terminated within its tag");

	mbi_begin_pc();
	mbi_tag(MB2_TAG_MODULE, 12);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "module 0 tag is 12 bytes, less than the 16 it needs");
}

static void test_duplicate_and_short_tags(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_string(MB2_TAG_CMDLINE, "a");
	add_string(MB2_TAG_CMDLINE, "b");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "multiboot2 info: two command line tags");

	mbi_begin_pc();
	add_mmap(pc_map, 1);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "two memory map tags");

	mbi_begin_pc();
	mbi_tag(MB2_TAG_ACPI_NEW, 8 + 20);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "ACPI new RSDP tag is 28 bytes, less than the 44 it needs");

	/* An "ACPI 1.0" copy that claims revision 2 lacks the XSDT address. */
	mbi_begin_pc();
	add_rsdp(MB2_TAG_ACPI_OLD, 2, 20);
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "ACPI RSDP of revision 2 holds 20 bytes, less than 36");
}

/* --- modules --- */

static void test_module_outside_ram(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_module(0xa0000, 0xa1000, "guest");
	mbi_finish();
	CHECK_STR(parse(&bi),
		  "multiboot2 info: module 0 [0xa0000-0xa1000) \"guest\" lies outside RAM");

	/* Straddles the end of RAM into the ACPI tables. */
	mbi_begin_pc();
	add_module(0x200000, 0x201000, "ok");
	add_module(0x7fdf000, 0x7fe1000, "a long module line that the message cuts short");
	mbi_finish();
	CHECK_STR(parse(&bi), "multiboot2 info: module 1 [0x7fdf000-0x7fe1000) "
		  "\"a long module line that \" lies outside RAM");
}

static void test_module_empty(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_module(0, 0, "empty.bin");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "module 0 [0x0-0x0) \"empty.bin\" is empty");

	mbi_begin_pc();
	add_module(0x300000, 0x200000, "reversed");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "module 0 [0x300000-0x200000) \"reversed\" is empty");
}

static void test_modules_overlapping(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_module(0x200000, 0x202000, "a");
	add_module(0x400000, 0x401000, "b");
	add_module(0x201000, 0x203000, "c");
	mbi_finish();
	CHECK_STR(parse(&bi),
		  "multiboot2 info: module 2 [0x201000-0x203000) \"c\" overlaps module 0");

	/* Touching is not overlapping. */
	mbi_begin_pc();
	add_module(0x200000, 0x202000, "a");
	add_module(0x202000, 0x203000, "b");
	mbi_finish();
	CHECK(parse(&bi) == NULL);
}

static void test_module_overlapping_mbi(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_module(MBI_HPA - 0x1000, MBI_HPA + 8, "over the info");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "module 0 [0xf000-0x10008) \"over the info\" overlaps the multiboot2 information");

	mbi_begin_pc();
	add_module(MBI_HPA - 0x1000, MBI_HPA, "just below");
	mbi_finish();
	CHECK(parse(&bi) == NULL);
}

static void test_too_many_modules(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	for (u32 i = 0; i < BOOTINFO_MAX_MODULES; i++)
		add_module(0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
	mbi_finish();
	CHECK(parse(&bi) == NULL);
	CHECK_EQ(bi.nmodules, BOOTINFO_MAX_MODULES);

	mbi_begin_pc();
	for (u32 i = 0; i <= BOOTINFO_MAX_MODULES; i++)
		add_module(0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
	mbi_finish();
	CHECK_REFUSED(parse(&bi), "multiboot2 info: more than 16 modules");
}

/* --- printing --- */

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

#define CHECK_CONSOLE_HAS(needle) do { \
	CHECK(strstr(console_text, needle) != NULL); \
	if (!strstr(console_text, needle)) \
		fprintf(stderr, "  console was:\n%s\n", console_text); \
} while (0)

static void test_print(void)
{
	struct boot_info bi;

	mbi_begin_pc();
	add_string(MB2_TAG_CMDLINE, "loglevel=debug");
	add_string(MB2_TAG_BOOT_LOADER_NAME, "GRUB 2.06");
	add_module(0x200000, 0x280000, "name=a");
	add_rsdp(MB2_TAG_ACPI_NEW, 2, 36);
	mbi_finish();
	CHECK(parse(&bi) == NULL);

	console_register(capture_console);
	bootinfo_print(&bi);
	console_register(NULL);
	CHECK_CONSOLE_HAS("boot: loaded by \"GRUB 2.06\", multiboot2 information at [0x10000-0x");
	CHECK_CONSOLE_HAS("boot: command line \"loglevel=debug\"\n");
	CHECK_CONSOLE_HAS("boot: memory map (from the multiboot2 memory map):\n");
	CHECK_CONSOLE_HAS("boot:   [0x000000000000-0x00000009fc00) RAM          639 KiB\n");
	CHECK_CONSOLE_HAS("boot:   [0x000000100000-0x000007fe0000) RAM          126 MiB\n");
	CHECK_CONSOLE_HAS("boot:   [0x000007fe0000-0x000008000000) ACPI reclaim 128 KiB\n");
	CHECK_CONSOLE_HAS("boot: 127 MiB of RAM\n");
	CHECK_CONSOLE_HAS("boot: module 0 [0x200000-0x280000) 512 KiB \"name=a\"\n");
	CHECK_CONSOLE_HAS("boot: ACPI RSDP revision 2\n");
}

int main(void)
{
	test_good_bios_map();
	test_minimal();
	test_efi_map();
	test_efi_map_malformed();
	test_basic_meminfo_fallback();
	test_memmap_normalized();
	test_memmap_many_pieces_merge();
	test_memmap_too_many_ranges();
	test_memmap_malformed();
	test_total_size();
	test_tag_past_end();
	test_missing_end_tag();
	test_misaligned();
	test_unterminated_strings();
	test_duplicate_and_short_tags();
	test_module_outside_ram();
	test_module_empty();
	test_modules_overlapping();
	test_module_overlapping_mbi();
	test_too_many_modules();
	test_print();
	return unit_done("bootinfo");
}
