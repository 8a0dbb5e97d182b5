/* Multiboot2 information parser: one walk checks the tag structure and records the tags,
 * then the memory map is normalized and the modules are checked against it. */
#include "boot/bootinfo.h"
#include "boot/multiboot2.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/printf.h"
#include "lib/string.h"

/* No loader writes anything near this; a larger total_size means a corrupt pointer. */
#define MB2_INFO_MAX_BYTES MiB(1)
#define MB2_INFO_MIN_BYTES (sizeof(struct mb2_info_header) + sizeof(struct mb2_tag))

/* RSDP layout (ACPI 6.5, 5.2.5.3): the revision byte is at offset 15; the ACPI 1.0 form is
 * 20 bytes, revision 2 and later add the XSDT address and need 36. */
#define ACPI_RSDP_REVISION_OFFSET 15
#define ACPI_RSDP_V1_BYTES 20
#define ACPI_RSDP_V2_BYTES 36
#define ACPI_RSDP_REVISION_V2 2

/*
 * The tags read once the walk is over: the meaning of the EFI memory map depends on a
 * tag that may come after it, and the modules need the finished memory map.
 */
struct found_tags {
	const struct mb2_tag *cmdline;
	const struct mb2_tag *loader_name;
	const struct mb2_tag *basic_meminfo;
	const struct mb2_tag *mmap;
	const struct mb2_tag *efi_mmap;
	const struct mb2_tag *acpi_old;
	const struct mb2_tag *acpi_new;
	bool efi_boot_services_running;
};

/* The parse runs once at boot, on one CPU: one static buffer holds the message. */
static char error_message[200];

static const char *vrefuse(const char *subject, const char *fmt, va_list ap)
{
	int len = snprintf(error_message, sizeof(error_message), "multiboot2 info: %s", subject);

	if (len >= 0 && (size_t)len < sizeof(error_message))
		vsnprintf(error_message + len, sizeof(error_message) - len, fmt, ap);
	return error_message;
}

static __printf(1, 2) const char *refuse(const char *fmt, ...)
{
	va_list ap;
	const char *message;

	va_start(ap, fmt);
	message = vrefuse("", fmt, ap);
	va_end(ap);
	return message;
}

static __printf(3, 4) const char *refuse_module(const struct boot_info *bi, size_t index,
						 const char *fmt, ...)
{
	const struct boot_module *module = &bi->modules[index];
	char subject[96];
	va_list ap;
	const char *message;

	snprintf(subject, sizeof(subject), "module %zu [0x%llx-0x%llx) \"%.24s\" ", index,
		 (unsigned long long)module->start_hpa, (unsigned long long)module->end_hpa,
		 module->string);
	va_start(ap, fmt);
	message = vrefuse(subject, fmt, ap);
	va_end(ap);
	return message;
}

const char *mem_type_name(enum mem_type type)
{
	static const char *const names[] = {
		[MEM_RAM] = "RAM",
		[MEM_ACPI_RECLAIM] = "ACPI reclaim",
		[MEM_ACPI_NVS] = "ACPI NVS",
		[MEM_RESERVED] = "reserved",
		[MEM_BAD] = "bad RAM",
	};

	return (size_t)type < ARRAY_SIZE(names) ? names[type] : "?";
}

/* --- The tag walk --- */

/* Finds the NUL-terminated string at offset in tag; false if it is not terminated there. */
static bool string_in_tag(const struct mb2_tag *tag, size_t offset, const char **string)
{
	const char *start = (const char *)tag + offset;
	size_t room = tag->size - offset;

	if (strnlen(start, room) == room)
		return false;
	*string = start;
	return true;
}

static const char *take_once(const struct mb2_tag **slot, const struct mb2_tag *tag,
			     size_t min_size, const char *name)
{
	if (*slot)
		return refuse("two %s tags", name);
	if (tag->size < min_size)
		return refuse("%s tag is %u bytes, less than the %zu it needs", name, tag->size,
			      min_size);
	*slot = tag;
	return NULL;
}

static const char *add_module(const struct mb2_tag *tag, struct boot_info *bi)
{
	const struct mb2_tag_module *mb2_module = (const void *)tag;
	size_t index = bi->nmodules;
	struct boot_module *module = &bi->modules[index];

	if (index == BOOTINFO_MAX_MODULES)
		return refuse("more than %d modules (BOOTINFO_MAX_MODULES)", BOOTINFO_MAX_MODULES);
	if (tag->size < sizeof(*mb2_module))
		return refuse("module %zu tag is %u bytes, less than the %zu it needs", index,
			      tag->size, sizeof(*mb2_module));
	if (!string_in_tag(tag, offsetof(struct mb2_tag_module, string), &module->string))
		return refuse("module %zu string is not NUL-terminated within its tag", index);
	module->start_hpa = mb2_module->mod_start;
	module->end_hpa = mb2_module->mod_end;
	bi->nmodules++;
	return NULL;
}

static const char *record_tag(const struct mb2_tag *tag, struct found_tags *found,
			      struct boot_info *bi)
{
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		return take_once(&found->cmdline, tag, sizeof(struct mb2_tag_string), "command line");
	case MB2_TAG_BOOT_LOADER_NAME:
		return take_once(&found->loader_name, tag, sizeof(struct mb2_tag_string),
				 "boot loader name");
	case MB2_TAG_MODULE:
		return add_module(tag, bi);
	case MB2_TAG_BASIC_MEMINFO:
		return take_once(&found->basic_meminfo, tag, sizeof(struct mb2_tag_basic_meminfo),
				 "basic meminfo");
	case MB2_TAG_MMAP:
		return take_once(&found->mmap, tag, sizeof(struct mb2_tag_mmap), "memory map");
	case MB2_TAG_EFI_MMAP:
		return take_once(&found->efi_mmap, tag, sizeof(struct mb2_tag_efi_mmap),
				 "EFI memory map");
	case MB2_TAG_ACPI_OLD:
		return take_once(&found->acpi_old, tag, sizeof(struct mb2_tag_acpi) + ACPI_RSDP_V1_BYTES,
				 "ACPI old RSDP");
	case MB2_TAG_ACPI_NEW:
		return take_once(&found->acpi_new, tag, sizeof(struct mb2_tag_acpi) + ACPI_RSDP_V2_BYTES,
				 "ACPI new RSDP");
	case MB2_TAG_EFI_BS_NOT_TERMINATED:
		found->efi_boot_services_running = true;
		return NULL;
	default:
		return NULL;	/* framebuffer, ELF sections, SMBIOS...: nothing we use */
	}
}

static const char *check_header(const void *mbi, u64 mbi_hpa, u32 *total_size)
{
	const struct mb2_info_header *header = mbi;

	if (!IS_ALIGNED(mbi_hpa, MB2_INFO_ALIGN) || !IS_ALIGNED((uintptr_t)mbi, MB2_INFO_ALIGN))
		return refuse("starts at 0x%llx, not %d-byte aligned", (unsigned long long)mbi_hpa,
			      MB2_INFO_ALIGN);
	*total_size = header->total_size;
	if (*total_size < MB2_INFO_MIN_BYTES || *total_size > MB2_INFO_MAX_BYTES)
		return refuse("total_size %u is outside [%zu, %llu]", *total_size,
			      MB2_INFO_MIN_BYTES, (unsigned long long)MB2_INFO_MAX_BYTES);
	if (!IS_ALIGNED(*total_size, MB2_TAG_ALIGN))
		return refuse("total_size %u is not a multiple of %d", *total_size, MB2_TAG_ALIGN);
	if (mbi_hpa > UINT64_MAX - *total_size)
		return refuse("[0x%llx, +%u) wraps past 2^64", (unsigned long long)mbi_hpa,
			      *total_size);
	return NULL;
}

/* Checks every tag's size against total_size (tags start 8-byte aligned, 3.6.2). */
static const char *walk_tags(const u8 *mbi, u32 total_size, struct found_tags *found,
			     struct boot_info *bi)
{
	size_t offset = sizeof(struct mb2_info_header);

	while (offset < total_size) {
		const struct mb2_tag *tag = (const void *)(mbi + offset);
		const char *error;

		if (tag->size < sizeof(*tag))
			return refuse("tag %u at offset %zu has size %u, less than its header",
				      tag->type, offset, tag->size);
		if (tag->size > total_size - offset)
			return refuse("tag %u at offset %zu (%u bytes) runs past total_size %u",
				      tag->type, offset, tag->size, total_size);
		if (tag->type == MB2_TAG_END)
			return NULL;
		error = record_tag(tag, found, bi);
		if (error)
			return error;
		offset += ALIGN_UP(tag->size, MB2_TAG_ALIGN);
	}
	return refuse("no end tag within total_size %u", total_size);
}

/* --- The memory map --- */

/*
 * Inserting one range into n sorted disjoint entries cuts at most 2n + 3 pieces: each old
 * entry (or its overlap with the new range), the gap before each and after the last, and
 * the parts of the two old entries that straddle the new range's ends.
 */
static struct memmap_entry merged[2 * BOOTINFO_MAX_MEMMAP + 3];
static size_t nmerged;

static u64 entry_end(const struct memmap_entry *entry)
{
	return entry->base + entry->length;
}

/* Appends [base, end) to merged[], growing the last entry when it touches and agrees. */
static void emit(u64 base, u64 end, enum mem_type type)
{
	struct memmap_entry *last = nmerged ? &merged[nmerged - 1] : NULL;

	if (base >= end)
		return;
	if (last && last->type == type && entry_end(last) == base) {
		last->length += end - base;
		return;
	}
	ASSERT(nmerged < ARRAY_SIZE(merged));
	merged[nmerged++] = (struct memmap_entry){ .base = base, .length = end - base, .type = type };
}

/*
 * Adds [base, end) to the map, which stays sorted, disjoint and merged; where the range
 * overlaps entries already there, the more restrictive type wins. Returns false when
 * the result needs more than BOOTINFO_MAX_MEMMAP entries.
 */
static bool memmap_insert(struct boot_info *bi, u64 base, u64 end, enum mem_type type)
{
	u64 emitted_to = base;	/* the new range is in merged[] up to here */

	nmerged = 0;
	for (size_t i = 0; i < bi->nmemmap; i++) {
		const struct memmap_entry *old = &bi->memmap[i];
		u64 old_end = entry_end(old);
		u64 overlap_base = MAX(old->base, base), overlap_end = MIN(old_end, end);

		if (emitted_to < MIN(end, old->base)) {
			emit(emitted_to, MIN(end, old->base), type);
			emitted_to = MIN(end, old->base);
		}
		if (overlap_base >= overlap_end) {
			emit(old->base, old_end, old->type);
			continue;
		}
		emit(old->base, overlap_base, old->type);
		emit(overlap_base, overlap_end, MAX(old->type, type));	/* enum order */
		emit(overlap_end, old_end, old->type);
		emitted_to = overlap_end;
	}
	emit(emitted_to, end, type);
	if (nmerged > BOOTINFO_MAX_MEMMAP)
		return false;
	memcpy(bi->memmap, merged, nmerged * sizeof(merged[0]));
	bi->nmemmap = nmerged;
	return true;
}

static const char *memmap_add(struct boot_info *bi, const char *map, size_t index, u64 base,
			      u64 length, enum mem_type type)
{
	if (length == 0)
		return NULL;
	if (length > UINT64_MAX - base)
		return refuse("%s entry %zu [0x%llx, +0x%llx) wraps past 2^64", map, index,
			      (unsigned long long)base, (unsigned long long)length);
	if (!memmap_insert(bi, base, base + length, type))
		return refuse("memory map needs more than %d ranges (BOOTINFO_MAX_MEMMAP)",
			      BOOTINFO_MAX_MEMMAP);
	return NULL;
}

static enum mem_type mem_type_from_mb2(u32 type)
{
	switch (type) {
	case MB2_MEMORY_AVAILABLE:
		return MEM_RAM;
	case MB2_MEMORY_ACPI_RECLAIMABLE:
		return MEM_ACPI_RECLAIM;
	case MB2_MEMORY_NVS:
		return MEM_ACPI_NVS;
	case MB2_MEMORY_BADRAM:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

static enum mem_type mem_type_from_efi(u32 type, bool boot_services_running)
{
	switch (type) {
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
		/* Free once ExitBootServices() has been called, in use until then. */
		return boot_services_running ? MEM_RESERVED : MEM_RAM;
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MEM_RAM;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MEM_ACPI_RECLAIM;
	case EFI_ACPI_MEMORY_NVS:
		return MEM_ACPI_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MEM_BAD;
	default:
		return MEM_RESERVED;	/* runtime services, MMIO, persistent, unaccepted... */
	}
}

static const char *memmap_from_mb2(const struct mb2_tag *tag, struct boot_info *bi)
{
	const struct mb2_tag_mmap *mmap = (const void *)tag;
	const u8 *entries = (const u8 *)(mmap + 1);
	size_t bytes = tag->size - sizeof(*mmap), entry_size = mmap->entry_size;

	if (entry_size < sizeof(struct mb2_mmap_entry) || !IS_ALIGNED(entry_size, 8))
		return refuse("memory map entry_size %zu is not a multiple of 8 of at least %zu",
			      entry_size, sizeof(struct mb2_mmap_entry));
	if (bytes % entry_size)
		return refuse("memory map holds %zu bytes, not a whole number of %zu-byte entries",
			      bytes, entry_size);
	for (size_t i = 0; i < bytes / entry_size; i++) {
		const struct mb2_mmap_entry *entry = (const void *)(entries + i * entry_size);
		const char *error = memmap_add(bi, "memory map", i, entry->base_addr,
					       entry->length, mem_type_from_mb2(entry->type));
		if (error)
			return error;
	}
	bi->memmap_source = "multiboot2 memory map";
	return NULL;
}

static const char *memmap_from_efi(const struct mb2_tag *tag, bool boot_services_running,
				   struct boot_info *bi)
{
	const struct mb2_tag_efi_mmap *mmap = (const void *)tag;
	const u8 *descriptors = (const u8 *)(mmap + 1);
	size_t bytes = tag->size - sizeof(*mmap), descr_size = mmap->descr_size;

	if (mmap->descr_vers != EFI_MEMORY_DESCRIPTOR_VERSION)
		return refuse("EFI memory map descriptor version %u, only %d is known",
			      mmap->descr_vers, EFI_MEMORY_DESCRIPTOR_VERSION);
	if (descr_size < sizeof(struct efi_memory_descriptor))
		return refuse("EFI memory map descriptor size %zu is less than %zu", descr_size,
			      sizeof(struct efi_memory_descriptor));
	if (bytes % descr_size)
		return refuse("EFI memory map holds %zu bytes, not a whole number of %zu-byte descriptors",
			      bytes, descr_size);
	for (size_t i = 0; i < bytes / descr_size; i++) {
		const struct efi_memory_descriptor *d = (const void *)(descriptors + i * descr_size);
		const char *error;

		if (d->number_of_pages > (UINT64_MAX >> EFI_PAGE_SHIFT))
			return refuse("EFI memory map entry %zu has %llu pages", i,
				      (unsigned long long)d->number_of_pages);
		error = memmap_add(bi, "EFI memory map", i, d->physical_start,
				   d->number_of_pages << EFI_PAGE_SHIFT,
				   mem_type_from_efi(d->type, boot_services_running));
		if (error)
			return error;
	}
	bi->memmap_source = "EFI memory map";
	return NULL;
}

/* Lower memory from 0, upper memory from 1 MiB (3.6.3): the map of last resort. */
static const char *memmap_from_basic_meminfo(const struct mb2_tag *tag, struct boot_info *bi)
{
	const struct mb2_tag_basic_meminfo *meminfo = (const void *)tag;
	const char *error = memmap_add(bi, "basic meminfo", 0, 0, KiB(meminfo->mem_lower), MEM_RAM);

	if (!error)
		error = memmap_add(bi, "basic meminfo", 1, MiB(1), KiB(meminfo->mem_upper), MEM_RAM);
	bi->memmap_source = "basic meminfo";
	return error;
}

/*
 * On UEFI machines GRUB passes both maps. We prefer the EFI one: it is the map the
 * firmware returned when GRUB exited boot services, so it is final, in the firmware's own
 * types; the multiboot2 map is GRUB's translation of a map read before that.
 */
static const char *build_memmap(const struct found_tags *found, struct boot_info *bi)
{
	const char *error;

	if (found->efi_mmap)
		error = memmap_from_efi(found->efi_mmap, found->efi_boot_services_running, bi);
	else if (found->mmap)
		error = memmap_from_mb2(found->mmap, bi);
	else if (found->basic_meminfo)
		error = memmap_from_basic_meminfo(found->basic_meminfo, bi);
	else
		return refuse("no memory map: neither an EFI memory map, a memory map nor a basic meminfo tag");
	if (error)
		return error;
	for (size_t i = 0; i < bi->nmemmap; i++) {
		if (bi->memmap[i].type == MEM_RAM)
			return NULL;
	}
	return refuse("the %s shows no RAM", bi->memmap_source);
}

bool bootinfo_is_ram(const struct boot_info *bi, u64 start_hpa, u64 end_hpa)
{
	for (size_t i = 0; i < bi->nmemmap; i++) {
		const struct memmap_entry *entry = &bi->memmap[i];

		if (entry->type == MEM_RAM && entry->base <= start_hpa && end_hpa <= entry_end(entry))
			return true;
	}
	return false;
}

/* --- Everything else --- */

static bool ranges_overlap(u64 a_start, u64 a_end, u64 b_start, u64 b_end)
{
	return a_start < b_end && b_start < a_end;
}

static const char *check_modules(const struct boot_info *bi)
{
	for (size_t i = 0; i < bi->nmodules; i++) {
		const struct boot_module *module = &bi->modules[i];

		if (module->start_hpa >= module->end_hpa)
			return refuse_module(bi, i, "is empty");
		if (!bootinfo_is_ram(bi, module->start_hpa, module->end_hpa))
			return refuse_module(bi, i, "lies outside RAM");
		if (ranges_overlap(module->start_hpa, module->end_hpa, bi->mbi_start_hpa,
				   bi->mbi_end_hpa))
			return refuse_module(bi, i, "overlaps the multiboot2 information");
		for (size_t j = 0; j < i; j++) {
			if (ranges_overlap(module->start_hpa, module->end_hpa,
					   bi->modules[j].start_hpa, bi->modules[j].end_hpa))
				return refuse_module(bi, i, "overlaps module %zu", j);
		}
	}
	return NULL;
}

static const char *read_strings(const struct found_tags *found, struct boot_info *bi)
{
	const size_t offset = offsetof(struct mb2_tag_string, string);

	if (found->cmdline && !string_in_tag(found->cmdline, offset, &bi->cmdline))
		return refuse("command line is not NUL-terminated within its tag");
	if (found->loader_name && !string_in_tag(found->loader_name, offset, &bi->loader_name))
		return refuse("boot loader name is not NUL-terminated within its tag");
	return NULL;
}

/* Prefers the ACPI 2.0+ copy: only it holds the XSDT address. */
static const char *read_rsdp(const struct found_tags *found, struct boot_info *bi)
{
	const struct mb2_tag *tag = found->acpi_new ? found->acpi_new : found->acpi_old;
	const struct mb2_tag_acpi *acpi = (const void *)tag;

	if (!tag)
		return NULL;
	bi->rsdp = acpi->rsdp;
	bi->rsdp_len = tag->size - sizeof(*acpi);
	bi->rsdp_revision = acpi->rsdp[ACPI_RSDP_REVISION_OFFSET];
	if (bi->rsdp_revision >= ACPI_RSDP_REVISION_V2 && bi->rsdp_len < ACPI_RSDP_V2_BYTES)
		return refuse("ACPI RSDP of revision %u holds %zu bytes, less than %d",
			      bi->rsdp_revision, bi->rsdp_len, ACPI_RSDP_V2_BYTES);
	return NULL;
}

const char *bootinfo_parse(const void *mbi, u64 mbi_hpa, struct boot_info *out)
{
	struct found_tags found = { 0 };
	u32 total_size = 0;
	const char *error;

	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader_name = "";
	error = check_header(mbi, mbi_hpa, &total_size);
	if (error)
		return error;
	out->mbi_start_hpa = mbi_hpa;
	out->mbi_end_hpa = mbi_hpa + total_size;

	error = walk_tags(mbi, total_size, &found, out);
	if (!error)
		error = read_strings(&found, out);
	if (!error)
		error = read_rsdp(&found, out);
	if (!error)
		error = build_memmap(&found, out);
	if (!error)
		error = check_modules(out);
	return error;
}

/* --- Printing --- */

/* "640 KiB", "511 MiB", "4 GiB": the largest unit that keeps at least 1 (rounded down). */
static void format_size(char *buf, size_t size, u64 bytes)
{
	if (bytes >= GiB(4))
		snprintf(buf, size, "%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes >= MiB(4))
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
}

static void print_memmap(const struct boot_info *bi)
{
	u64 ram_bytes = 0;
	char size[24];

	printk("boot: memory map (from the %s):\n", bi->memmap_source);
	for (size_t i = 0; i < bi->nmemmap; i++) {
		const struct memmap_entry *entry = &bi->memmap[i];

		format_size(size, sizeof(size), entry->length);
		printk("boot:   [0x%012llx-0x%012llx) %-12s %s\n",
		       (unsigned long long)entry->base, (unsigned long long)entry_end(entry),
		       mem_type_name(entry->type), size);
		if (entry->type == MEM_RAM)
			ram_bytes += entry->length;
	}
	format_size(size, sizeof(size), ram_bytes);
	printk("boot: %s of RAM\n", size);
}

void bootinfo_print(const struct boot_info *bi)
{
	char size[24];

	printk("boot: loaded by \"%s\", multiboot2 information at [0x%llx-0x%llx)\n",
	       bi->loader_name, (unsigned long long)bi->mbi_start_hpa,
	       (unsigned long long)bi->mbi_end_hpa);
	printk("boot: command line \"%s\"\n", bi->cmdline);
	print_memmap(bi);
	for (size_t i = 0; i < bi->nmodules; i++) {
		const struct boot_module *module = &bi->modules[i];

		format_size(size, sizeof(size), module->end_hpa - module->start_hpa);
		printk("boot: module %zu [0x%llx-0x%llx) %s \"%s\"\n", i,
		       (unsigned long long)module->start_hpa, (unsigned long long)module->end_hpa,
		       size, module->string);
	}
	if (bi->rsdp)
		printk("boot: ACPI RSDP revision %u\n", bi->rsdp_revision);
	else
		printk("boot: no ACPI RSDP from the loader\n");
}
