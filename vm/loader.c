/* Guest images: recognises the format (Linux bzImage, multiboot v1 ELF, else plain ELF64),
 * checks every loadable segment against the VM's RAM and copies it in. Formats:
 * loader_bzimage.c, loader_multiboot.c, loader_elf64.c. Every check treats the image as hostile: sizes and offsets come from it. */
#include "core/layout.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vm/elf.h"
#include "vm/loader.h"

static char load_error[160];

const char *loader_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(load_error, sizeof(load_error), fmt, ap);
	va_end(ap);
	return load_error;
}

/* A segment spanning two memory slots is written piece by piece, its bss included. */
static bool zero_gpa(struct vm *vm, u64 gpa, u64 len)
{
	static const u8 zeros[256];
	for (u64 chunk; len; gpa += chunk, len -= chunk) {
		chunk = MIN(len, (u64)sizeof(zeros));
		if (!vm_write_gpa(vm, gpa, zeros, chunk))
			return false;
	}
	return true;
}

static bool range_in_file(u64 offset, u64 length, u64 file_size)
{
	return offset <= file_size && length <= file_size - offset;
}

/* Reads program header i of either class into a common form. */
static void read_segment(const struct elf_image *elf, unsigned i, struct load_segment *seg)
{
	const u8 *ph = elf->data + elf->phoff + (u64)i * elf->phentsize;
	if (elf->is64) {
		struct elf64_phdr p;
		memcpy(&p, ph, sizeof(p));
		*seg = (struct load_segment){ p.type, p.offset, p.paddr, p.filesz, p.memsz };
	} else {
		struct elf32_phdr p;
		memcpy(&p, ph, sizeof(p));
		*seg = (struct load_segment){ p.type, p.offset, p.paddr, p.filesz, p.memsz };
	}
}

const char *elf_parse(const u8 *data, u64 size, struct elf_image *elf)
{
	if (size < sizeof(struct elf32_ehdr) || memcmp(data, ELF_MAGIC, 4) != 0)
		return "not an ELF file (Vireo loads multiboot v1 ELF kernels and ELF64 kernels)";
	if (data[5] != ELFDATA2LSB || (data[4] != ELFCLASS32 && data[4] != ELFCLASS64))
		return "not a little-endian ELF32 or ELF64 file";
	if (data[4] == ELFCLASS64) {
		struct elf64_ehdr h;
		if (size < sizeof(h))
			return "truncated ELF64 header";
		memcpy(&h, data, sizeof(h));
		*elf = (struct elf_image){ data, size, true, h.machine, h.type, h.entry, h.phoff,
					   h.phentsize, h.phnum };
	} else {
		struct elf32_ehdr h;
		memcpy(&h, data, sizeof(h));
		*elf = (struct elf_image){ data, size, false, h.machine, h.type, h.entry, h.phoff,
					   h.phentsize, h.phnum };
	}
	if (elf->type != ET_EXEC)
		return "not an executable ELF file (relocatable and shared objects cannot be booted)";
	if (elf->machine != EM_386 && elf->machine != EM_X86_64)
		return "an ELF file for another architecture than x86";
	u64 min_phentsize = elf->is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr);
	if (elf->phnum == 0 || elf->phentsize < min_phentsize ||
	    !range_in_file(elf->phoff, (u64)elf->phnum * elf->phentsize, size))
		return "ELF program headers missing or outside the file";
	return NULL;
}

static const char *check_segment(const struct vm *vm, unsigned i, const struct load_segment *s,
				 u64 file_size)
{
	if (s->filesz > s->memsz || !range_in_file(s->offset, s->filesz, file_size))
		return loader_error("ELF segment %u has its bytes outside the file", i);
	bool low = s->paddr >= GUEST_LOW_IMAGE_MIN_GPA && s->paddr < GUEST_LOW_IMAGE_END &&
		   s->memsz <= GUEST_LOW_IMAGE_END - s->paddr;
	bool high = s->paddr >= GUEST_IMAGE_MIN_GPA && s->paddr <= vm->ram_bytes &&
		    s->memsz <= vm->ram_bytes - s->paddr;
	if (!low && !high)
		return loader_error("ELF segment %u [%#llx-%#llx) lies outside the VM's RAM for "
				    "images, [%#llx-%#llx) and [%#llx-%#llx): link it there, or "
				    "raise mem=", i, (unsigned long long)s->paddr,
				    (unsigned long long)(s->paddr + s->memsz),
				    (unsigned long long)GUEST_LOW_IMAGE_MIN_GPA,
				    (unsigned long long)GUEST_LOW_IMAGE_END,
				    (unsigned long long)GUEST_IMAGE_MIN_GPA,
				    (unsigned long long)vm->ram_bytes);
	return NULL;
}

static const char *elf_load_segments(struct vm *vm, const struct elf_image *elf)
{
	bool loaded = false;
	for (unsigned i = 0; i < elf->phnum; i++) {
		struct load_segment s;
		read_segment(elf, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		const char *error = check_segment(vm, i, &s, elf->size);
		if (error)
			return error;
		u8 *dst = vm_gpa_to_hva(vm, s.paddr, s.memsz);
		if (dst) {
			memcpy(dst, elf->data + s.offset, s.filesz);
			memset(dst + s.filesz, 0, s.memsz - s.filesz);
		} else if (!vm_write_gpa(vm, s.paddr, elf->data + s.offset, s.filesz) ||
			   !zero_gpa(vm, s.paddr + s.filesz, s.memsz - s.filesz)) {
			return loader_error("ELF segment %u could not be copied", i);
		}
		loaded = true;
	}
	return loaded ? NULL : "the ELF file has no loadable segment";
}

/* Whether gpa lies in a loaded segment (not in a gap between two, which may be Vireo's
 * low area or the BIOS hole when one segment is low and another above 1 MiB). */
static bool in_loaded_segment(const struct elf_image *elf, u64 gpa)
{
	for (unsigned i = 0; i < elf->phnum; i++) {
		struct load_segment s;
		read_segment(elf, i, &s);
		if (s.type == PT_LOAD && gpa >= s.paddr && gpa - s.paddr < s.memsz)
			return true;
	}
	return false;
}

const char *elf_load(struct vm *vm, const struct elf_image *elf, u64 entry)
{
	const char *error = elf_load_segments(vm, elf);
	if (error)
		return error;
	if (!in_loaded_segment(elf, entry))
		return loader_error("its entry point %#llx is outside the loaded image",
				    (unsigned long long)entry);
	return NULL;
}

const char *guest_load_image(struct vm *vm, const u8 *image, u64 size, const char *cmdline,
			     const u8 *initrd, u64 initrd_size, struct guest_entry *entry)
{
	/* First: a bzImage's compressed kernel may hold the multiboot magic by chance. */
	if (bzimage_detect(image, size))
		return bzimage_load(vm, image, size, cmdline, initrd, initrd_size, entry);
	const struct multiboot1_header *mb;
	const char *error = multiboot1_find_header(image, size, &mb);
	if (error)
		return error;
	struct elf_image elf;
	error = elf_parse(image, size, &elf);
	if (error)
		return error;
	if (mb)
		return multiboot1_load(vm, &elf, mb, entry);
	if (!elf.is64 || elf.machine != EM_X86_64)
		return "an ELF32 file without a multiboot header: Vireo boots it only with one";
	return elf64_load(vm, &elf, entry);
}
