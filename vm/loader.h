/* Shared by the image loaders (vm/loader*.c). */
#ifndef VIREO_VM_LOADER_H
#define VIREO_VM_LOADER_H

#include <stdarg.h>
#include "vm/vm_internal.h"

/* Both ELF classes, read into one form. */
struct elf_image {
	const u8 *data;
	u64 size;
	bool is64;
	u16 machine, type;
	u64 entry, phoff;
	u16 phentsize, phnum;
};

struct load_segment {
	u32 type;
	u64 offset, paddr, filesz, memsz;
};

/* Multiboot v1 header (Multiboot Specification 0.6.96, 3.1.1). */
struct multiboot1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

const char *elf_parse(const u8 *data, u64 size, struct elf_image *elf);
/* Copies every PT_LOAD segment to its physical address and checks that entry (e_entry, or
 * the multiboot header's a.out entry) lies in what was loaded. */
const char *elf_load(struct vm *vm, const struct elf_image *elf, u64 entry);

/* NULL with *header NULL when there is no multiboot header; an error if one is broken. */
const char *multiboot1_find_header(const u8 *image, u64 size, const struct multiboot1_header **header);
const char *multiboot1_load(struct vm *vm, const struct elf_image *elf,
			    const struct multiboot1_header *header, struct guest_entry *entry);
/* Writes the multiboot v1 information block at GUEST_BOOT_INFO_GPA; returns its gpa. */
u64 multiboot1_write_info(struct vm *vm);
const char *elf64_load(struct vm *vm, const struct elf_image *elf, struct guest_entry *entry);
/* The long-mode entry's page tables (an identity map of the first 4 GiB, 2 MiB pages) and
 * flat GDT, at GUEST_PML4_GPA..GUEST_GDT_GPA + GUEST_GDT_BYTES. */
void loader_build_identity_tables(struct vm *vm);

/* A Linux bzImage: the boot flag 0xAA55 at 0x1fe and "HdrS" at 0x202. */
bool bzimage_detect(const u8 *image, u64 size);
/* Loads it for the 64-bit boot protocol with cmdline and the initrd (initrd_size 0: none). */
const char *bzimage_load(struct vm *vm, const u8 *image, u64 size, const char *cmdline,
			 const u8 *initrd, u64 initrd_size, struct guest_entry *entry);

/* Formats an error message into a static buffer (one VM is created at a time). */
const char *loader_error(const char *fmt, ...) __printf(1, 2);

#endif
