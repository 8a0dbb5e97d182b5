/* Multiboot2 constants and layouts (Multiboot2 specification 1.0, chapter 3): the header
 * the loader looks for (usable from assembly) and the boot-information tags it leaves us. */
#ifndef VIREO_BOOT_MULTIBOOT2_H
#define VIREO_BOOT_MULTIBOOT2_H

/* --- OS image header (spec 3.1) --- */
#define MB2_HEADER_MAGIC 0xE85250D6	/* 3.1.2 */
#define MB2_ARCH_I386 0			/* 3.1.2: 32-bit protected mode entry */
#define MB2_HEADER_ALIGN 8		/* 3.1.1: header 64-bit aligned, in the first 32 KiB */
/* 3.1.2: magic + architecture + header_length + checksum == 0 (mod 2^32). Written as
 * 2^32 - sum so that the value stays positive for the assembler's .long. */
#define MB2_HEADER_CHECKSUM(arch, length) (0x100000000 - (MB2_HEADER_MAGIC + (arch) + (length)))

/* Header tag types (3.1.4 - 3.1.13); every header tag is 8-byte aligned (3.1.3). */
#define MB2_HEADER_TAG_END 0
#define MB2_HEADER_TAG_INFORMATION_REQUEST 1
#define MB2_HEADER_TAG_ADDRESS 2
#define MB2_HEADER_TAG_ENTRY_ADDRESS 3
#define MB2_HEADER_TAG_CONSOLE_FLAGS 4
#define MB2_HEADER_TAG_FRAMEBUFFER 5
#define MB2_HEADER_TAG_MODULE_ALIGN 6
#define MB2_HEADER_TAG_EFI_BOOT_SERVICES 7
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI32 8
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI64 9
#define MB2_HEADER_TAG_RELOCATABLE 10
#define MB2_HEADER_TAG_FLAG_OPTIONAL 1	/* 3.1.3: loader may ignore the tag */
#define MB2_HEADER_TAG_ALIGN 8

/* Value in EAX when the loader jumps to the entry point (3.3). */
#define MB2_BOOTLOADER_MAGIC 0x36D76289

/* --- Boot information (spec 3.6.1, 3.6.2): a fixed part, then 8-byte aligned tags up to an
 * end tag of type 0 and size 8. */
#define MB2_INFO_ALIGN 8
#define MB2_TAG_ALIGN 8

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOT_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS_NOT_TERMINATED 18	/* 3.6.20: EFI boot services still running */

/* Memory map entry types (3.6.8); any other value is reserved. */
#define MB2_MEMORY_AVAILABLE 1
#define MB2_MEMORY_RESERVED 2
#define MB2_MEMORY_ACPI_RECLAIMABLE 3
#define MB2_MEMORY_NVS 4
#define MB2_MEMORY_BADRAM 5

/* EFI_MEMORY_TYPE values (UEFI 2.10, 7.2.1 "EFI_BOOT_SERVICES.AllocatePages()"). */
#define EFI_RESERVED_MEMORY_TYPE 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_CONVENTIONAL_MEMORY 7
#define EFI_UNUSABLE_MEMORY 8
#define EFI_ACPI_RECLAIM_MEMORY 9
#define EFI_ACPI_MEMORY_NVS 10
#define EFI_MEMORY_DESCRIPTOR_VERSION 1	/* UEFI 2.10, 7.2.3 GetMemoryMap() */
#define EFI_PAGE_SHIFT 12		/* EFI pages are 4 KiB whatever the CPU's page size */

#ifndef __ASSEMBLY__
#include "lib/types.h"

struct mb2_info_header {
	u32 total_size;		/* bytes, fixed part and end tag included */
	u32 reserved;
} __packed;

struct mb2_tag {
	u32 type;
	u32 size;		/* bytes, this header included, padding to 8 excluded */
} __packed;

/* Command line (3.6.5) and boot loader name (3.6.9): a NUL-terminated UTF-8 string. */
struct mb2_tag_string {
	struct mb2_tag tag;
	char string[];
} __packed;

/* 3.6.6: mod_end is one past the last byte (as GRUB fills it); string is what followed
 * the file name on the module2 line. */
struct mb2_tag_module {
	struct mb2_tag tag;
	u32 mod_start;
	u32 mod_end;
	char string[];
} __packed;

/* 3.6.3: KiB of memory from 0, and from 1 MiB up to the first hole. */
struct mb2_tag_basic_meminfo {
	struct mb2_tag tag;
	u32 mem_lower;
	u32 mem_upper;
} __packed;

/* 3.6.8: entries follow, entry_size bytes apart (a multiple of 8, maybe larger than ours). */
struct mb2_tag_mmap {
	struct mb2_tag tag;
	u32 entry_size;
	u32 entry_version;
} __packed;

struct mb2_mmap_entry {
	u64 base_addr;
	u64 length;
	u32 type;
	u32 reserved;
} __packed;

/* 3.6.16 / 3.6.17: a copy of the ACPI 1.0 or 2.0+ RSDP follows the header. */
struct mb2_tag_acpi {
	struct mb2_tag tag;
	u8 rsdp[];
} __packed;

/* 3.6.19: the EFI memory map as GetMemoryMap() returned it, descr_size bytes apart. */
struct mb2_tag_efi_mmap {
	struct mb2_tag tag;
	u32 descr_size;
	u32 descr_vers;
} __packed;

/* EFI_MEMORY_DESCRIPTOR version 1 (UEFI 2.10, 7.2.3). */
struct efi_memory_descriptor {
	u32 type;
	u32 pad;
	u64 physical_start;
	u64 virtual_start;
	u64 number_of_pages;
	u64 attribute;
} __packed;

_Static_assert(sizeof(struct mb2_info_header) == 8, "multiboot2 info fixed part is 8 bytes");
_Static_assert(sizeof(struct mb2_tag) == 8, "multiboot2 tag header is 8 bytes");
_Static_assert(sizeof(struct mb2_tag_string) == 8, "string tag: header then string");
_Static_assert(offsetof(struct mb2_tag_module, string) == 16, "module string at offset 16");
_Static_assert(sizeof(struct mb2_tag_basic_meminfo) == 16, "basic meminfo tag is 16 bytes");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mmap entries start at offset 16");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mmap entry is 24 bytes");
_Static_assert(offsetof(struct mb2_tag_acpi, rsdp) == 8, "RSDP copy at offset 8");
_Static_assert(sizeof(struct mb2_tag_efi_mmap) == 16, "EFI descriptors start at offset 16");
_Static_assert(sizeof(struct efi_memory_descriptor) == 40, "EFI memory descriptor v1 is 40 bytes");
#endif /* __ASSEMBLY__ */

#endif
