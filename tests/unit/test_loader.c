/* Unit tests of the guest image loaders (vm/loader*.c) on crafted ELF images, over the fake
 * VM of tests/unit/loader_fake.h (bzImages: test_bzimage.c).
 * unit-sources: vm/loader.c vm/loader_bzimage.c vm/loader_multiboot.c vm/loader_elf64.c lib/printf.c lib/string.c lib/panic.c lib/log.c
 */
#include "vm/elf.h"
#include "tests/unit/loader_fake.h"

/* ---- Crafted images ---- */

#define IMAGE_CAP 0x3000
#define PHDR_OFFSET 0x40		/* right after either ELF header */
#define MB_HEADER_OFFSET 0x100
#define SEGMENT_DATA_OFFSET 0x200
#define LOAD_GPA MiB(1)
#define ENTRY_GPA (LOAD_GPA + 0x10)
#define MB1_HEADER_MAGIC 0x1BADB002u	/* Multiboot Specification 0.6.96, 3.1.2 */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u	/* 3.2: EAX at entry */
#define MB1_FLAG_AOUT_KLUDGE BIT(16)	/* 3.1.2: the address fields are valid */

struct segment {
	u32 type;
	u64 offset, paddr, filesz, memsz;
};

struct image {
	u8 bytes[IMAGE_CAP];
	u64 size;
	u64 phoff;
	bool is64;
};

static void put_elf_header(struct image *img, u16 machine, u64 entry, unsigned nseg)
{
	u8 ident[16] = { 0x7f, 'E', 'L', 'F', img->is64 ? ELFCLASS64 : ELFCLASS32, ELFDATA2LSB, 1 };
	if (img->is64) {
		struct elf64_ehdr h = { .type = ET_EXEC, .machine = machine, .version = 1,
					.entry = entry, .phoff = PHDR_OFFSET,
					.ehsize = sizeof(h), .phentsize = sizeof(struct elf64_phdr),
					.phnum = (u16)nseg };
		memcpy(h.ident, ident, sizeof(ident));
		memcpy(img->bytes, &h, sizeof(h));
	} else {
		struct elf32_ehdr h = { .type = ET_EXEC, .machine = machine, .version = 1,
					.entry = (u32)entry, .phoff = PHDR_OFFSET,
					.ehsize = sizeof(h), .phentsize = sizeof(struct elf32_phdr),
					.phnum = (u16)nseg };
		memcpy(h.ident, ident, sizeof(ident));
		memcpy(img->bytes, &h, sizeof(h));
	}
}

static void put_segment(struct image *img, unsigned i, const struct segment *s)
{
	if (img->is64) {
		struct elf64_phdr p = { .type = s->type, .offset = s->offset, .vaddr = s->paddr,
					.paddr = s->paddr, .filesz = s->filesz, .memsz = s->memsz };
		memcpy(img->bytes + img->phoff + i * sizeof(p), &p, sizeof(p));
	} else {
		struct elf32_phdr p = { .type = s->type, .offset = (u32)s->offset,
					.vaddr = (u32)s->paddr, .paddr = (u32)s->paddr,
					.filesz = (u32)s->filesz, .memsz = (u32)s->memsz };
		memcpy(img->bytes + img->phoff + i * sizeof(p), &p, sizeof(p));
	}
}

/* An image of the given class with segs, its file bytes a counting pattern. */
static void build_image(struct image *img, bool is64, u16 machine, u64 entry,
			const struct segment *segs, unsigned nseg)
{
	memset(img, 0, sizeof(*img));
	img->is64 = is64;
	img->phoff = PHDR_OFFSET;
	img->size = SEGMENT_DATA_OFFSET;
	put_elf_header(img, machine, entry, nseg);
	for (unsigned i = 0; i < nseg; i++) {
		put_segment(img, i, &segs[i]);
		if (segs[i].offset + segs[i].filesz <= IMAGE_CAP)
			img->size = MAX(img->size, segs[i].offset + segs[i].filesz);
	}
	for (u64 off = SEGMENT_DATA_OFFSET; off < img->size; off++)
		img->bytes[off] = (u8)(off * 7 + 1);
}

static void put_multiboot_header(struct image *img, u64 offset, u32 flags, u32 entry_addr)
{
	u32 h[8] = { MB1_HEADER_MAGIC, flags, -(MB1_HEADER_MAGIC + flags), 0, 0, 0, 0, entry_addr };
	memcpy(img->bytes + offset, h, sizeof(h));
}

/* The usual test kernels: two segments, one with bss, entry in the first. */
static const struct segment two_segments[] = {
	{ PT_LOAD, SEGMENT_DATA_OFFSET, LOAD_GPA, 0x800, 0x800 },
	{ PT_LOAD, SEGMENT_DATA_OFFSET + 0x800, LOAD_GPA + 0x2000, 0x300, 0x1400 },
};

static void build_multiboot_elf32(struct image *img)
{
	build_image(img, false, EM_386, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
	put_multiboot_header(img, MB_HEADER_OFFSET, 0, 0);
}

static void build_elf64(struct image *img)
{
	build_image(img, true, EM_X86_64, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
}

#define CHECK_REFUSED(img, want) \
	check_bytes_refused((img)->bytes, (img)->size, NULL, 0, want, __LINE__)
#define CHECK_LOADED(img, entry) \
	check_bytes_loaded((img)->bytes, (img)->size, NULL, 0, entry, __LINE__)

/* ---- Successful loads ---- */

static void check_segments_loaded(const struct image *img, const struct segment *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CHECK(memcmp(ram + segs[i].paddr, img->bytes + segs[i].offset, segs[i].filesz) == 0);
		for (u64 b = segs[i].filesz; b < segs[i].memsz; b++)
			if (ram[segs[i].paddr + b] != 0) {
				CHECK_EQ(ram[segs[i].paddr + b], 0);
				break;
			}
	}
}

/* Multiboot v1 information block offsets (Multiboot Specification 0.6.96, 3.3). */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER_NAME 64
/* Flags Vireo sets: mem_*, cmdline, mods, mmap, boot_loader_name. */
#define MBI_WANT_FLAGS (BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9))
#define MMAP_ENTRY_BYTES 24		/* size field + 20 bytes */

static void check_guest_string(u64 gpa, const char *want)
{
	char got[VM_CMDLINE_MAX] = "";
	CHECK(gpa >= GUEST_BOOT_INFO_GPA && gpa + strlen(want) + 1 <= GUEST_BOOT_INFO_END);
	if (gpa + strlen(want) + 1 <= vm.ram_bytes)
		vm_read_gpa(&vm, gpa, got, strlen(want) + 1);
	CHECK_STR(got, want);
}

static void check_info_block(u64 info)
{
	CHECK_EQ(info, GUEST_BOOT_INFO_GPA);
	CHECK_EQ(guest_u32(info + MBI_FLAGS), MBI_WANT_FLAGS);
	CHECK_EQ(guest_u32(info + MBI_MEM_LOWER), 639);
	CHECK_EQ(guest_u32(info + MBI_MEM_UPPER), (vm.ram_bytes - MiB(1)) >> 10);
	CHECK_EQ(guest_u32(info + MBI_MODS_COUNT), 0);
	check_guest_string(guest_u32(info + MBI_CMDLINE), vm.cmdline);
	check_guest_string(guest_u32(info + MBI_BOOT_LOADER_NAME), "Vireo");

	u32 mmap = guest_u32(info + MBI_MMAP_ADDR);
	CHECK_EQ(guest_u32(info + MBI_MMAP_LENGTH), memory_map_count * MMAP_ENTRY_BYTES);
	CHECK(mmap >= GUEST_BOOT_INFO_GPA && mmap < GUEST_BOOT_INFO_END);
	for (size_t i = 0; i < memory_map_count; i++) {
		u64 e = mmap + i * MMAP_ENTRY_BYTES;
		CHECK_EQ(guest_u32(e), 20);
		CHECK_EQ(guest_u64(e + 4), memory_map[i].addr);
		CHECK_EQ(guest_u64(e + 12), memory_map[i].length);
		CHECK_EQ(guest_u32(e + 20), memory_map[i].type);
	}
}

static void test_multiboot_elf32(void)
{
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_multiboot_elf32(&img);
	CHECK_LOADED(&img, &entry);
	check_segments_loaded(&img, two_segments, ARRAY_SIZE(two_segments));
	CHECK_EQ(entry.mode, GUEST_ENTRY_MULTIBOOT32);
	CHECK_EQ(entry.rip, ENTRY_GPA);
	CHECK_EQ(entry.rax, MB1_BOOTLOADER_MAGIC);
	check_info_block(entry.rbx);
}

/* A multiboot image linked into low RAM (real-mode code at 0x8000) loads there, entered
 * at its low entry point; the boot information stays intact above it. */
static void test_multiboot_low(void)
{
	static const struct segment low[] = {
		{ PT_LOAD, SEGMENT_DATA_OFFSET, 0x8000, 0x800, 0x800 },
		{ PT_LOAD, SEGMENT_DATA_OFFSET + 0x800, GUEST_LOW_IMAGE_END - 0x1000, 0x300, 0x1000 },
	};
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_image(&img, false, EM_386, 0x8010, low, ARRAY_SIZE(low));
	put_multiboot_header(&img, MB_HEADER_OFFSET, 0, 0);
	CHECK_LOADED(&img, &entry);
	check_segments_loaded(&img, low, ARRAY_SIZE(low));
	CHECK_EQ(entry.mode, GUEST_ENTRY_MULTIBOOT32);
	CHECK_EQ(entry.rip, 0x8010);
	check_info_block(entry.rbx);

	/* An entry point between a low and a high segment, in Vireo's area, is refused. */
	static const struct segment split[] = {
		{ PT_LOAD, SEGMENT_DATA_OFFSET, 0x8000, 0x800, 0x800 },
		{ PT_LOAD, SEGMENT_DATA_OFFSET + 0x800, LOAD_GPA, 0x300, 0x1000 },
	};
	vm_reset(TEST_RAM_BYTES);
	build_image(&img, false, EM_386, GUEST_BOOT_INFO_GPA, split, ARRAY_SIZE(split));
	put_multiboot_header(&img, MB_HEADER_OFFSET, 0, 0);
	CHECK_REFUSED(&img, "entry point");
}

/* An ELF64 file with a multiboot header is still a multiboot kernel (entered in 32-bit). */
static void test_multiboot_elf64(void)
{
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_elf64(&img);
	put_multiboot_header(&img, MB_HEADER_OFFSET, 0, 0);
	CHECK_LOADED(&img, &entry);
	CHECK_EQ(entry.mode, GUEST_ENTRY_MULTIBOOT32);
	CHECK_EQ(entry.rax, MB1_BOOTLOADER_MAGIC);
}

/* With the a.out kludge flag, the header's entry_addr is the entry point. */
static void test_multiboot_aout_entry(void)
{
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_multiboot_elf32(&img);
	put_multiboot_header(&img, MB_HEADER_OFFSET, MB1_FLAG_AOUT_KLUDGE, LOAD_GPA + 0x2010);
	CHECK_LOADED(&img, &entry);
	CHECK_EQ(entry.rip, LOAD_GPA + 0x2010);
}

static void test_elf64(void)
{
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_elf64(&img);
	CHECK_LOADED(&img, &entry);
	check_segments_loaded(&img, two_segments, ARRAY_SIZE(two_segments));
	CHECK_EQ(entry.mode, GUEST_ENTRY_LONG64);
	CHECK_EQ(entry.rip, ENTRY_GPA);
	check_identity_tables();
	check_gdt();
	check_info_block(entry.rdi);
}

/* 3 MiB of RAM is two slots (2 MiB + 1 MiB): a segment across the boundary takes the
 * loader's page-by-page path, which copies the file bytes and leaves bss as vm/vm.c
 * allocated it: zeroed. */
static void test_segment_across_slots(void)
{
	static const struct segment segs[] = {
		{ PT_LOAD, SEGMENT_DATA_OFFSET, MiB(2) - 0x800, 0x1000, 0x3000 },
	};
	struct image img;
	struct guest_entry entry;
	vm_reset_ram(MiB(3), false);
	build_image(&img, true, EM_X86_64, MiB(2) - 0x800, segs, ARRAY_SIZE(segs));
	CHECK(vm_gpa_to_hva(&vm, segs[0].paddr, segs[0].memsz) == NULL);
	CHECK_LOADED(&img, &entry);
	check_segments_loaded(&img, segs, ARRAY_SIZE(segs));
}

/* A segment exactly filling RAM up to its end loads; non-PT_LOAD and empty ones are skipped. */
static void test_edges(void)
{
	const struct segment segs[] = {
		{ 4 /* PT_NOTE */, 0, 0, 0x100, 0x100 },
		{ PT_LOAD, SEGMENT_DATA_OFFSET, 0, 0, 0 },
		{ PT_LOAD, SEGMENT_DATA_OFFSET, LOAD_GPA, 0x100, TEST_RAM_BYTES - LOAD_GPA },
	};
	struct image img;
	struct guest_entry entry;
	vm_reset(TEST_RAM_BYTES);
	build_image(&img, true, EM_X86_64, TEST_RAM_BYTES - 1, segs, ARRAY_SIZE(segs));
	CHECK_LOADED(&img, &entry);
	CHECK_EQ(entry.rip, TEST_RAM_BYTES - 1);
}

/* ---- Refusals ---- */

static void test_refuse_headers(void)
{
	struct image img;
	vm_reset(TEST_RAM_BYTES);

	build_elf64(&img);
	img.bytes[0] = 'M';
	CHECK_REFUSED(&img, "not an ELF file");
	img.size = 3;
	CHECK_REFUSED(&img, "not an ELF file");
	img.size = 0;
	CHECK_REFUSED(&img, "not an ELF file");

	build_elf64(&img);
	img.size = sizeof(struct elf32_ehdr) - 1;
	CHECK_REFUSED(&img, "not an ELF file");
	img.size = sizeof(struct elf64_ehdr) - 1;
	CHECK_REFUSED(&img, "truncated ELF64 header");

	build_elf64(&img);
	img.bytes[5] = 2;	/* ELFDATA2MSB */
	CHECK_REFUSED(&img, "not a little-endian ELF32 or ELF64");
	build_elf64(&img);
	img.bytes[4] = 3;	/* no such class */
	CHECK_REFUSED(&img, "not a little-endian ELF32 or ELF64");
	img.bytes[4] = 0;
	CHECK_REFUSED(&img, "not a little-endian ELF32 or ELF64");

	build_elf64(&img);
	img.bytes[16] = 1;	/* e_type ET_REL */
	CHECK_REFUSED(&img, "not an executable ELF file");
	build_multiboot_elf32(&img);
	img.bytes[16] = 3;	/* ET_DYN */
	CHECK_REFUSED(&img, "not an executable ELF file");

	build_elf64(&img);
	img.bytes[18] = 40;	/* e_machine EM_ARM */
	CHECK_REFUSED(&img, "another architecture");
	build_multiboot_elf32(&img);
	img.bytes[18] = 183;	/* EM_AARCH64 */
	CHECK_REFUSED(&img, "another architecture");
}

#define ELF64_PHOFF 32
#define ELF64_PHENTSIZE 54
#define ELF64_PHNUM 56
#define ELF32_PHOFF 28
#define ELF32_PHNUM 44

static void test_refuse_program_headers(void)
{
	struct image img;
	u64 far = ~0ull - 8;
	u16 many = 0xffff, none = 0, small = sizeof(struct elf64_phdr) - 1;
	vm_reset(TEST_RAM_BYTES);

	build_elf64(&img);
	memcpy(img.bytes + ELF64_PHNUM, &none, sizeof(none));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_elf64(&img);
	memcpy(img.bytes + ELF64_PHOFF, &img.size, sizeof(u64));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_elf64(&img);
	memcpy(img.bytes + ELF64_PHOFF, &far, sizeof(far));	/* phoff + table wraps */
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_elf64(&img);
	memcpy(img.bytes + ELF64_PHNUM, &many, sizeof(many));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_elf64(&img);
	memcpy(img.bytes + ELF64_PHENTSIZE, &small, sizeof(small));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_elf64(&img);
	img.size = PHDR_OFFSET + sizeof(struct elf64_phdr) + 1;	/* second header cut */
	CHECK_REFUSED(&img, "program headers missing or outside the file");

	build_multiboot_elf32(&img);
	u32 phoff32 = (u32)img.size - 8;
	memcpy(img.bytes + ELF32_PHOFF, &phoff32, sizeof(phoff32));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
	build_multiboot_elf32(&img);
	memcpy(img.bytes + ELF32_PHNUM, &none, sizeof(none));
	CHECK_REFUSED(&img, "program headers missing or outside the file");
}

/* A one-segment ELF64 image with the given segment and entry, expected refused. */
#define CHECK_SEGMENT_REFUSED(seg, entry, want) do { \
	struct image img_; \
	struct segment seg_[] = { seg }; \
	build_image(&img_, true, EM_X86_64, entry, seg_, 1); \
	CHECK_REFUSED(&img_, want); \
} while (0)
#define SEG(offset, paddr, filesz, memsz) \
	((struct segment){ PT_LOAD, offset, paddr, filesz, memsz })

static void test_refuse_segments(void)
{
	const u64 off = SEGMENT_DATA_OFFSET, top = TEST_RAM_BYTES;
	vm_reset(TEST_RAM_BYTES);

	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x200, 0x100), ENTRY_GPA, "bytes outside the file");
	CHECK_SEGMENT_REFUSED(SEG(IMAGE_CAP + 1, LOAD_GPA, 0x100, 0x100), ENTRY_GPA,
			      "bytes outside the file");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, IMAGE_CAP, IMAGE_CAP), ENTRY_GPA,
			      "bytes outside the file");
	CHECK_SEGMENT_REFUSED(SEG(~0ull - 0xff, LOAD_GPA, 0x200, 0x200), ENTRY_GPA,
			      "bytes outside the file");	/* offset + filesz wraps */
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, ~0ull, ~0ull), ENTRY_GPA, "bytes outside the file");

	CHECK_SEGMENT_REFUSED(SEG(off, GUEST_IMAGE_MIN_GPA - 0x1000, 0x100, 0x100),
			      GUEST_IMAGE_MIN_GPA - 0x1000, "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, GUEST_IMAGE_MIN_GPA - 0x1000, 0x100, 0x2000),
			      ENTRY_GPA, "outside the VM's RAM");	/* starts below, ends above */
	CHECK_SEGMENT_REFUSED(SEG(off, 0, 0x100, 0x100), 0x10, "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, GUEST_LOW_IMAGE_END - 0x100, 0x100, 0x101),
			      GUEST_LOW_IMAGE_END - 0x100, "outside the VM's RAM");	/* into Vireo's */
	CHECK_SEGMENT_REFUSED(SEG(off, GUEST_BOOT_INFO_GPA, 0x100, 0x100), GUEST_BOOT_INFO_GPA,
			      "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, top - 0x100, 0x100, 0x101), top - 0x100,
			      "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, top, 0x100, 0x100), top, "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, GiB(8), 0x100, 0x100), GiB(8), "outside the VM's RAM");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x100, ~0ull - 0xfff), ENTRY_GPA,
			      "outside the VM's RAM");	/* paddr + memsz wraps */
	CHECK_SEGMENT_REFUSED(SEG(off, ~0ull - 0xff, 0x100, 0x200), ENTRY_GPA,
			      "outside the VM's RAM");

	/* Nothing loadable: only a note, or a PT_LOAD with memsz 0. */
	struct image img;
	struct segment note = { 4, off, LOAD_GPA, 0x100, 0x100 };
	build_image(&img, true, EM_X86_64, ENTRY_GPA, &note, 1);
	CHECK_REFUSED(&img, "no loadable segment");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0, 0), ENTRY_GPA, "no loadable segment");

	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x100, 0x100), LOAD_GPA + 0x100, "entry point");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x100, 0x100), LOAD_GPA - 1, "entry point");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x100, 0x100), 0, "entry point");
	CHECK_SEGMENT_REFUSED(SEG(off, LOAD_GPA, 0x100, 0x100), ~0ull, "entry point");
}

static void test_refuse_formats(void)
{
	struct image img;
	vm_reset(TEST_RAM_BYTES);

	build_multiboot_elf32(&img);
	img.bytes[MB_HEADER_OFFSET + 8] ^= 1;	/* checksum */
	CHECK_REFUSED(&img, "multiboot header checksum is wrong");
	/* The magic alone in a non-ELF file: still a corrupt multiboot header. */
	memset(img.bytes, 0, 4);
	CHECK_REFUSED(&img, "multiboot header checksum is wrong");

	build_image(&img, false, EM_386, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
	CHECK_REFUSED(&img, "ELF32 file without a multiboot header");
	build_image(&img, false, EM_X86_64, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
	CHECK_REFUSED(&img, "ELF32 file without a multiboot header");
	build_image(&img, true, EM_386, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
	CHECK_REFUSED(&img, "without a multiboot header");

	/* A header past the first 8 KiB does not count. */
	build_image(&img, false, EM_386, ENTRY_GPA, two_segments, ARRAY_SIZE(two_segments));
	put_multiboot_header(&img, 0x2000, 0, 0);
	img.size = 0x2000 + 32;
	CHECK_REFUSED(&img, "ELF32 file without a multiboot header");
}

/* With the a.out kludge flag, entry_addr becomes RIP: it must pass the same check as
 * e_entry (Vireo would otherwise start the guest outside its image). */
static void test_refuse_aout_entry_outside_image(void)
{
	struct image img;
	vm_reset(TEST_RAM_BYTES);
	build_multiboot_elf32(&img);
	put_multiboot_header(&img, MB_HEADER_OFFSET, MB1_FLAG_AOUT_KLUDGE, 0x500);
	CHECK_REFUSED(&img, "entry point");
}

/* A multiboot header whose last fields lie past the end of the file: with the a.out
 * kludge flag, entry_addr (header bytes 28-31) would be read from beyond the image. The
 * image sits in a larger buffer whose bytes after it hold a bogus entry_addr, so a loader
 * reading past the end is caught without crashing. */
static void test_refuse_truncated_multiboot_header(void)
{
	struct image img;
	struct guest_entry entry = { 0 };
	vm_reset(TEST_RAM_BYTES);
	build_multiboot_elf32(&img);
	u64 header = ALIGN_UP(img.size, 4);
	put_multiboot_header(&img, MB_HEADER_OFFSET, 0, 0);
	img.bytes[MB_HEADER_OFFSET] = 0;	/* only the truncated header below counts */
	put_multiboot_header(&img, header, MB1_FLAG_AOUT_KLUDGE, ENTRY_GPA);
	img.size = header + 12;			/* magic, flags, checksum only */
	const char *error = guest_load_image(&vm, img.bytes, img.size, vm.cmdline, NULL, 0, &entry);
	CHECK(error != NULL);
	CHECK(error == NULL || strstr(error, "multiboot header"));
}

/* Every refusal must be a message, never a write outside RAM: run all the refusals again
 * on the smallest RAM the hypervisor allows. */
static void test_small_ram(void)
{
	struct image img;
	struct guest_entry entry;
	vm_reset(GUEST_RAM_MIN_BYTES);
	build_elf64(&img);
	CHECK_LOADED(&img, &entry);
	CHECK_SEGMENT_REFUSED(SEG(SEGMENT_DATA_OFFSET, LOAD_GPA, 0x100, MiB(1) + 1), ENTRY_GPA,
			      "outside the VM's RAM");
}

int main(void)
{
	test_multiboot_elf32();
	test_multiboot_low();
	test_multiboot_elf64();
	test_multiboot_aout_entry();
	test_elf64();
	test_segment_across_slots();
	test_edges();
	test_refuse_headers();
	test_refuse_program_headers();
	test_refuse_segments();
	test_refuse_formats();
	test_small_ram();
	test_refuse_aout_entry_outside_image();
	test_refuse_truncated_multiboot_header();
	free(ram);
	return unit_done("loader");
}
