/* What the boot loader told us, parsed and checked from the multiboot2 information:
 * command line, modules, a normalized memory map, the ACPI root pointer. */
#ifndef VIREO_BOOT_BOOTINFO_H
#define VIREO_BOOT_BOOTINFO_H

#include "lib/types.h"

#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_MAX_MEMMAP 128

/*
 * Ordered from least to most restrictive: where the loader's ranges overlap, the larger
 * value wins (normalization relies on this order).
 */
enum mem_type {
	MEM_RAM,		/* free for us to use */
	MEM_ACPI_RECLAIM,	/* ACPI tables: RAM once they have been read */
	MEM_ACPI_NVS,		/* firmware state that must survive sleep */
	MEM_RESERVED,		/* firmware, MMIO, holes: never touch */
	MEM_BAD,		/* defective RAM */
};

struct memmap_entry {
	u64 base;
	u64 length;		/* > 0, and base + length does not wrap */
	enum mem_type type;
};

struct boot_module {
	u64 start_hpa;
	u64 end_hpa;		/* exclusive, > start_hpa */
	const char *string;	/* the rest of the module2 line, never NULL */
};

/*
 * All strings and the RSDP point into the multiboot2 information itself, so its range
 * [mbi_start_hpa, mbi_end_hpa) must stay reserved for as long as they are used.
 */
struct boot_info {
	const char *cmdline;		/* "" when the loader gave none */
	const char *loader_name;	/* "" when the loader gave none */

	struct boot_module modules[BOOTINFO_MAX_MODULES];	/* in the loader's order */
	size_t nmodules;

	/* Sorted by base, disjoint, and neighbours that touch differ in type. */
	struct memmap_entry memmap[BOOTINFO_MAX_MEMMAP];
	size_t nmemmap;
	const char *memmap_source;	/* which tag the map came from, for the log */

	const void *rsdp;		/* the loader's copy of the RSDP, or NULL */
	size_t rsdp_len;		/* bytes of that copy: 20, or >= 36 for revision >= 2 */
	u8 rsdp_revision;

	u64 mbi_start_hpa;
	u64 mbi_end_hpa;
};

/*
 * Parses the multiboot2 information at mbi (host-physical address mbi_hpa) into out.
 * Returns NULL on success, or a message saying what is malformed; out is then unusable.
 * Modules are checked to lie in RAM and to overlap neither each other nor the
 * information; neither the hypervisor image nor anything else is checked here.
 */
const char *bootinfo_parse(const void *mbi, u64 mbi_hpa, struct boot_info *out);

/* Prints loader, command line, memory map, modules and RSDP as one readable block. */
void bootinfo_print(const struct boot_info *bi);

/* Whether [start_hpa, end_hpa) lies entirely inside one RAM range of the map. */
bool bootinfo_is_ram(const struct boot_info *bi, u64 start_hpa, u64 end_hpa);

const char *mem_type_name(enum mem_type type);

#endif
