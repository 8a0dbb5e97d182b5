/* The ELF structures the image loaders read (System V ABI, ELF-64 Object File Format). */
#ifndef VIREO_VM_ELF_H
#define VIREO_VM_ELF_H

#include "lib/types.h"

#define ELF_MAGIC "\177ELF"
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

struct elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
} __packed;

static_assert(sizeof(struct elf32_ehdr) == 52, "ELF32 header");
static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
static_assert(sizeof(struct elf32_phdr) == 32, "ELF32 program header");
static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#endif
