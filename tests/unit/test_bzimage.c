/* Unit tests of the bzImage loader (vm/loader_bzimage.c) on synthetic images, against the
 * Linux boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst): the offsets below
 * are the documents', not vm/bootparams.h's, so a wrong structure there fails here. With
 * /boot/vmlinuz-* present (or a path as argument), a real kernel is loaded too.
 * unit-sources: vm/loader.c vm/loader_bzimage.c vm/loader_multiboot.c vm/loader_elf64.c lib/printf.c lib/string.c lib/panic.c lib/log.c
 */
#include <glob.h>

#include "vm/loader.h"
#include "tests/unit/loader_fake.h"

/* Setup header fields (boot.rst, "The Real-Mode Kernel Header"): file and zero page
 * offsets alike. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_HEADER 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_HARDWARE_SUBARCH 0x23c
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_KERNEL_INFO_OFFSET 0x268
#define HDR_END_2_15 0x26c
/* The zero page's own fields (zero-page.rst). */
#define BP_SCREEN_INFO 0x000
#define BP_SCREEN_INFO_BYTES 0x40
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_EDD_MBR_SIG_BUFFER 0x290
#define BP_E820_TABLE 0x2d0
#define E820_ENTRY_BYTES 20

#define LOADED_HIGH 0x01
#define QUIET_FLAG 0x20
#define KEEP_SEGMENTS 0x40
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define ENTRY64_OFFSET 0x200
#define MB1_HEADER_MAGIC 0x1BADB002u

#define BZ_RAM_BYTES MiB(32)
#define KERNEL_BYTES KiB(64)
#define KERNEL_FILE_CAP MiB(1)		/* more is a truncated file: syssize tests */
#define PREF_GPA MiB(16)
#define INIT_SIZE MiB(4)
#define ALIGNMENT MiB(2)

/* The header fields a synthetic image chooses. */
struct bz_header {
	u8 setup_sects, jump_length, loadflags, relocatable;
	u16 version, xloadflags;
	u32 syssize, init_size, kernel_alignment, initrd_addr_max, cmdline_size, subarch;
	u64 pref_address;
};

/* A relocatable protocol 2.15 kernel, as a distribution's bzImage looks; it sets the bits
 * a loader must clear, and a nonzero subarch a loader must reset. */
static const struct bz_header good = {
	.setup_sects = 8, .jump_length = HDR_END_2_15 - 0x202,
	.loadflags = LOADED_HIGH | QUIET_FLAG | KEEP_SEGMENTS, .relocatable = 1,
	.version = 0x020f, .xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
	.syssize = KERNEL_BYTES / 16, .init_size = INIT_SIZE, .kernel_alignment = ALIGNMENT,
	.initrd_addr_max = 0x7fffffff, .cmdline_size = 2047, .subarch = 3,
	.pref_address = PREF_GPA,
};

struct bz_file {
	u8 *bytes;
	u64 size;
	u64 kernel_offset;
};

static void put(struct bz_file *f, u64 offset, u64 value, unsigned bytes)
{
	memcpy(f->bytes + offset, &value, bytes);
}

static u64 file_u64(const struct bz_file *f, u64 offset, unsigned bytes)
{
	u64 v = 0;
	memcpy(&v, f->bytes + offset, bytes);
	return v;
}

/* The image h describes: setup sectors of 0x5c bytes, then a counting pattern for the
 * protected-mode kernel, syssize paragraphs of it (at most KERNEL_FILE_CAP). */
static void build(struct bz_file *f, const struct bz_header *h)
{
	u64 sects = h->setup_sects ? h->setup_sects : 4;
	u64 kernel = MIN((u64)h->syssize * 16, KERNEL_FILE_CAP);
	f->kernel_offset = (sects + 1) * 512;
	f->size = f->kernel_offset + kernel;
	f->bytes = malloc(f->size);
	memset(f->bytes, 0x5c, f->kernel_offset);
	for (u64 i = 0; i < kernel; i++)
		f->bytes[f->kernel_offset + i] = (u8)(i * 13 + i / 4096 + 1);
	memset(f->bytes + HDR_SETUP_SECTS, 0, HDR_END_2_15 - HDR_SETUP_SECTS);
	put(f, HDR_SETUP_SECTS, h->setup_sects, 1);
	put(f, HDR_SYSSIZE, h->syssize, 4);
	put(f, HDR_BOOT_FLAG, 0xaa55, 2);
	put(f, HDR_JUMP, 0xeb | (u64)h->jump_length << 8, 2);
	memcpy(f->bytes + HDR_HEADER, "HdrS", 4);
	put(f, HDR_VERSION, h->version, 2);
	put(f, HDR_LOADFLAGS, h->loadflags, 1);
	put(f, HDR_CODE32_START, 0x100000, 4);
	put(f, HDR_INITRD_ADDR_MAX, h->initrd_addr_max, 4);
	put(f, HDR_KERNEL_ALIGNMENT, h->kernel_alignment, 4);
	put(f, HDR_RELOCATABLE, h->relocatable, 1);
	put(f, HDR_XLOADFLAGS, h->xloadflags, 2);
	put(f, HDR_CMDLINE_SIZE, h->cmdline_size, 4);
	put(f, HDR_HARDWARE_SUBARCH, h->subarch, 4);
	put(f, HDR_PREF_ADDRESS, h->pref_address, 8);
	put(f, HDR_INIT_SIZE, h->init_size, 4);
}

static void drop(struct bz_file *f)
{
	free(f->bytes);
	f->bytes = NULL;
}

static u8 initrd_bytes[KiB(24) + 100];

static void fill_initrd(void)
{
	for (size_t i = 0; i < sizeof(initrd_bytes); i++)
		initrd_bytes[i] = (u8)(i * 31 + 7);
}

#define CHECK_FILE_LOADED(f, initrd_size, entry) \
	check_bytes_loaded((f)->bytes, (f)->size, initrd_bytes, initrd_size, entry, __LINE__)
#define CHECK_FILE_REFUSED(f, initrd_size, want) \
	check_bytes_refused((f)->bytes, (f)->size, initrd_bytes, initrd_size, want, __LINE__)

/* Builds h's image, expects a refusal containing want, frees it. */
#define CHECK_HEADER_REFUSED(h, want) do { \
	struct bz_file f_; \
	build(&f_, h); \
	CHECK_FILE_REFUSED(&f_, 0, want); \
	drop(&f_); \
} while (0)

/* Builds h's image, expects it to load, and returns the entry's RIP (0 if refused). */
static u64 loaded_rip(const struct bz_header *h, int line)
{
	struct bz_file f;
	struct guest_entry entry = { 0 };
	build(&f, h);
	bool ok = check_bytes_loaded(f.bytes, f.size, NULL, 0, &entry, line);
	drop(&f);
	return ok ? entry.rip : 0;
}
#define LOADED_RIP(h) loaded_rip(h, __LINE__)

static u64 zp(u64 offset, unsigned bytes)
{
	u64 v = 0;
	CHECK(vm_read_gpa(&vm, GUEST_ZERO_PAGE_GPA + offset, &v, bytes));
	return v;
}

static bool guest_bytes_are(u64 gpa, const u8 *want, u64 len)
{
	return gpa <= vm.ram_bytes && len <= vm.ram_bytes - gpa && memcmp(ram + gpa, want, len) == 0;
}

static bool guest_bytes_all(u64 gpa, u8 value, u64 len)
{
	for (u64 i = 0; i < len; i++)
		if (ram[gpa + i] != value)
			return false;
	return true;
}

/* ---- Detection ---- */

static void test_detect(void)
{
	struct bz_file f;
	build(&f, &good);
	CHECK(bzimage_detect(f.bytes, f.size));
	CHECK(bzimage_detect(f.bytes, HDR_VERSION));	/* the magic is all it looks at */
	CHECK(!bzimage_detect(f.bytes, HDR_VERSION - 1));
	CHECK(!bzimage_detect(f.bytes, 0));
	f.bytes[HDR_BOOT_FLAG] = 0x56;
	CHECK(!bzimage_detect(f.bytes, f.size));
	f.bytes[HDR_BOOT_FLAG] = 0x55;
	f.bytes[HDR_BOOT_FLAG + 1] = 0x55;
	CHECK(!bzimage_detect(f.bytes, f.size));
	f.bytes[HDR_BOOT_FLAG + 1] = 0xaa;
	f.bytes[HDR_HEADER] = 'h';
	CHECK(!bzimage_detect(f.bytes, f.size));
	f.bytes[HDR_HEADER] = 'H';
	f.bytes[HDR_HEADER + 3] = 's';
	CHECK(!bzimage_detect(f.bytes, f.size));
	drop(&f);
}

/* A compressed kernel may hold the multiboot magic in its first 8 KiB: still a bzImage. */
static void test_detect_before_multiboot(void)
{
	struct bz_file f;
	struct guest_entry entry;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &good);
	put(&f, f.kernel_offset + 0x100, MB1_HEADER_MAGIC, 4);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK_EQ(entry.rip, PREF_GPA + ENTRY64_OFFSET);
	drop(&f);
}

/* Without the magic, guest_load_image() tries ELF; bzimage_load() itself refuses. */
static void test_bad_magic(void)
{
	struct bz_file f;
	struct guest_entry entry;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &good);
	put(&f, HDR_BOOT_FLAG, 0x55aa, 2);
	CHECK_FILE_REFUSED(&f, 0, "not an ELF file");
	const char *error = bzimage_load(&vm, f.bytes, f.size, "", NULL, 0, &entry);
	CHECK(error && strstr(error, "not a bzImage"));
	put(&f, HDR_BOOT_FLAG, 0xaa55, 2);
	memcpy(f.bytes + HDR_HEADER, "HdrT", 4);
	error = bzimage_load(&vm, f.bytes, f.size, "", NULL, 0, &entry);
	CHECK(error && strstr(error, "not a bzImage"));
	drop(&f);
}

/* ---- A good load ---- */

static void check_header_copied(const struct bz_file *f)
{
	CHECK_EQ(zp(HDR_SETUP_SECTS, 1), good.setup_sects);
	CHECK_EQ(zp(HDR_SYSSIZE, 4), good.syssize);
	CHECK_EQ(zp(HDR_BOOT_FLAG, 2), 0xaa55);
	CHECK_EQ(zp(HDR_JUMP, 2), file_u64(f, HDR_JUMP, 2));
	CHECK_EQ(zp(HDR_HEADER, 4), file_u64(f, HDR_HEADER, 4));
	CHECK_EQ(zp(HDR_VERSION, 2), good.version);
	CHECK_EQ(zp(HDR_CODE32_START, 4), 0x100000);	/* ignored by the 64-bit entry */
	CHECK_EQ(zp(HDR_INITRD_ADDR_MAX, 4), good.initrd_addr_max);
	CHECK_EQ(zp(HDR_KERNEL_ALIGNMENT, 4), good.kernel_alignment);
	CHECK_EQ(zp(HDR_RELOCATABLE, 1), good.relocatable);
	CHECK_EQ(zp(HDR_XLOADFLAGS, 2), good.xloadflags);
	CHECK_EQ(zp(HDR_CMDLINE_SIZE, 4), good.cmdline_size);
	CHECK_EQ(zp(HDR_PREF_ADDRESS, 8), good.pref_address);
	CHECK_EQ(zp(HDR_INIT_SIZE, 4), good.init_size);
}

static void check_loader_fields(void)
{
	CHECK_EQ(zp(HDR_VID_MODE, 2), 0xffff);
	CHECK_EQ(zp(HDR_TYPE_OF_LOADER, 1), 0xff);
	CHECK_EQ(zp(HDR_LOADFLAGS, 1), LOADED_HIGH | CAN_USE_HEAP);
	CHECK_EQ(zp(HDR_HEAP_END_PTR, 2), 0xe000 - 0x200);
	CHECK_EQ(zp(HDR_CMD_LINE_PTR, 4), GUEST_CMDLINE_GPA);
	CHECK_EQ(zp(BP_EXT_CMD_LINE_PTR, 4), 0);
	CHECK_EQ(zp(HDR_HARDWARE_SUBARCH, 4), 0);
	CHECK_EQ(zp(BP_ACPI_RSDP_ADDR, 8), VDEV_ACPI_RSDP_GPA);
	CHECK_EQ(zp(BP_SENTINEL, 1), 0);
	CHECK(guest_bytes_all(GUEST_ZERO_PAGE_GPA + BP_SCREEN_INFO, 0, BP_SCREEN_INFO_BYTES));
	CHECK(guest_bytes_all(GUEST_ZERO_PAGE_GPA + HDR_END_2_15, 0,
			      BP_EDD_MBR_SIG_BUFFER + 0x40 - HDR_END_2_15));
	char cmdline[VM_CMDLINE_MAX] = "";
	vm_read_gpa(&vm, zp(HDR_CMD_LINE_PTR, 4), cmdline, strlen(vm.cmdline) + 1);
	CHECK_STR(cmdline, vm.cmdline);
}

static void check_e820(void)
{
	CHECK(memory_map_count > 0);
	CHECK_EQ(zp(BP_E820_ENTRIES, 1), memory_map_count);
	for (size_t i = 0; i < memory_map_count; i++) {
		u64 e = BP_E820_TABLE + i * E820_ENTRY_BYTES;
		CHECK_EQ(zp(e, 8), memory_map[i].addr);
		CHECK_EQ(zp(e + 8, 8), memory_map[i].length);
		CHECK_EQ(guest_u32(GUEST_ZERO_PAGE_GPA + e + 16), memory_map[i].type);
	}
	CHECK(guest_bytes_all(GUEST_ZERO_PAGE_GPA + BP_E820_TABLE +
			      memory_map_count * E820_ENTRY_BYTES, 0, E820_ENTRY_BYTES));
}

/* Page-aligned, as high as RAM and initrd_addr_max allow, above init_size. */
static void check_initrd(u64 size, u64 top, u64 kernel_end)
{
	u64 image = zp(HDR_RAMDISK_IMAGE, 4);
	CHECK_EQ(zp(HDR_RAMDISK_SIZE, 4), size);
	CHECK_EQ(zp(BP_EXT_RAMDISK_IMAGE, 4), 0);
	CHECK_EQ(zp(BP_EXT_RAMDISK_SIZE, 4), 0);
	CHECK_EQ(image % PAGE_SIZE, 0);
	CHECK_EQ(image, (top - size) & ~(PAGE_SIZE - 1));
	CHECK(image >= kernel_end);
	CHECK(guest_bytes_are(image, initrd_bytes, size));
}

static void test_good_image(void)
{
	struct bz_file f;
	struct guest_entry entry = { .rax = 1, .rbx = 1, .rdi = 1 };
	vm_reset(BZ_RAM_BYTES);
	fill_initrd();
	build(&f, &good);
	if (!CHECK_FILE_LOADED(&f, sizeof(initrd_bytes), &entry)) {
		drop(&f);
		return;
	}
	CHECK_EQ(entry.mode, GUEST_ENTRY_LONG64);
	CHECK_EQ(entry.rip, PREF_GPA + ENTRY64_OFFSET);
	CHECK_EQ(entry.rsi, GUEST_ZERO_PAGE_GPA);
	CHECK_EQ(entry.rax | entry.rbx | entry.rdi, 0);
	CHECK(guest_bytes_are(PREF_GPA, f.bytes + f.kernel_offset, KERNEL_BYTES));
	CHECK_EQ(ram[PREF_GPA + KERNEL_BYTES], STALE_BYTE);	/* only syssize is copied */
	check_header_copied(&f);
	check_loader_fields();
	check_e820();
	check_initrd(sizeof(initrd_bytes), BZ_RAM_BYTES, PREF_GPA + INIT_SIZE);
	check_identity_tables();	/* 4 GiB: the kernel, zero page, command line, initrd */
	check_gdt();
	drop(&f);
}

/* No initrd: ramdisk fields zero; protocol 2.13 has no acpi_rsdp_addr. */
static void test_no_initrd_protocol_2_13(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	h.version = 0x020d;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK_EQ(zp(HDR_RAMDISK_IMAGE, 4), 0);
	CHECK_EQ(zp(HDR_RAMDISK_SIZE, 4), 0);
	CHECK_EQ(zp(BP_ACPI_RSDP_ADDR, 8), 0);
	CHECK_EQ(zp(HDR_VERSION, 2), 0x020d);
	drop(&f);
}

/* setup_sects 0 means 4: the kernel starts at 5 * 512 in the file. */
static void test_setup_sects_zero(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	h.setup_sects = 0;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_EQ(f.kernel_offset, 5 * 512);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK(guest_bytes_are(PREF_GPA, f.bytes + 5 * 512, KERNEL_BYTES));
	f.size--;	/* one byte of kernel short */
	CHECK_FILE_REFUSED(&f, 0, "truncated");
	drop(&f);
}

/* The header ends where its jump says: fields past it are not the image's. */
static void test_header_length(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	vm_reset(BZ_RAM_BYTES);

	h.jump_length = HDR_INIT_SIZE + 4 - 0x202;	/* ends after init_size */
	build(&f, &h);
	put(&f, HDR_KERNEL_INFO_OFFSET, 0x12345678, 4);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK_EQ(zp(HDR_INIT_SIZE, 4), INIT_SIZE);
	CHECK_EQ(zp(HDR_KERNEL_INFO_OFFSET, 4), 0);
	drop(&f);

	/* Before init_size: the kernel needs only its own bytes. */
	h.jump_length = HDR_INIT_SIZE - 0x202;
	vm_reset(BZ_RAM_BYTES);
	fill_initrd();
	build(&f, &h);
	put(&f, HDR_INITRD_ADDR_MAX, PREF_GPA + KERNEL_BYTES + sizeof(initrd_bytes) - 1, 4);
	CHECK_FILE_LOADED(&f, sizeof(initrd_bytes), &entry);
	CHECK_EQ(zp(HDR_INIT_SIZE, 4), 0);
	CHECK_EQ(zp(HDR_RAMDISK_IMAGE, 4), PREF_GPA + KERNEL_BYTES);
	put(&f, HDR_INITRD_ADDR_MAX, PREF_GPA + KERNEL_BYTES + sizeof(initrd_bytes) - 2, 4);
	CHECK_FILE_REFUSED(&f, sizeof(initrd_bytes), "initrd");	/* over the kernel's end */
	put(&f, HDR_RELOCATABLE, 0, 1);
	put(&f, HDR_PREF_ADDRESS, BZ_RAM_BYTES - KERNEL_BYTES / 2, 8);
	CHECK_FILE_REFUSED(&f, 0, "not relocatable");	/* its bytes pass the end of RAM */
	drop(&f);

	/* The largest length: copied up to 0x290 only, where the header's hole ends. */
	h.jump_length = 0xff;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	memset(f.bytes + HDR_END_2_15, 0x77, 0x301 - HDR_END_2_15);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK_EQ(zp(BP_EDD_MBR_SIG_BUFFER - 1, 1), 0x77);
	CHECK(guest_bytes_all(GUEST_ZERO_PAGE_GPA + BP_EDD_MBR_SIG_BUFFER, 0, 0x40));
	CHECK_EQ(zp(BP_E820_TABLE, 8), 0);	/* the map's first range, not 0x77s */
	drop(&f);
}

/* ---- Placement ---- */

static void test_placement_relocatable(void)
{
	struct bz_header h = good;
	vm_reset(BZ_RAM_BYTES);
	h.pref_address = MiB(64);	/* outside RAM: the lowest aligned address */
	CHECK_EQ(LOADED_RIP(&h), ALIGNMENT + ENTRY64_OFFSET);
	h.pref_address = PREF_GPA + PAGE_SIZE;	/* misaligned: the kernel would move */
	CHECK_EQ(LOADED_RIP(&h), ALIGNMENT + ENTRY64_OFFSET);
	h.pref_address = 0;
	CHECK_EQ(LOADED_RIP(&h), ALIGNMENT + ENTRY64_OFFSET);
	h.pref_address = BZ_RAM_BYTES - INIT_SIZE;	/* ends exactly at the end of RAM */
	CHECK_EQ(LOADED_RIP(&h), BZ_RAM_BYTES - INIT_SIZE + ENTRY64_OFFSET);
	h.init_size = INIT_SIZE + 1;			/* one byte too many */
	CHECK_EQ(LOADED_RIP(&h), ALIGNMENT + ENTRY64_OFFSET);
	h.init_size = INIT_SIZE;
	h.pref_address = ~0ull - ALIGNMENT + 1;		/* pref_address + init_size wraps */
	CHECK_EQ(LOADED_RIP(&h), ALIGNMENT + ENTRY64_OFFSET);
	h.kernel_alignment = PAGE_SIZE;			/* the lowest is then 1 MiB itself */
	CHECK_EQ(LOADED_RIP(&h), GUEST_IMAGE_MIN_GPA + ENTRY64_OFFSET);
	h.kernel_alignment = MiB(8);
	CHECK_EQ(LOADED_RIP(&h), MiB(8) + ENTRY64_OFFSET);
	h.init_size = BZ_RAM_BYTES - MiB(1);		/* all RAM above 1 MiB */
	h.kernel_alignment = MiB(1);
	CHECK_EQ(LOADED_RIP(&h), MiB(1) + ENTRY64_OFFSET);
}

static void test_placement_refused(void)
{
	struct bz_header h = good;
	vm_reset(BZ_RAM_BYTES);
	h.init_size = BZ_RAM_BYTES;
	CHECK_HEADER_REFUSED(&h, "init_size");
	h.init_size = 0xffffffff;
	CHECK_HEADER_REFUSED(&h, "init_size");
	h.init_size = INIT_SIZE;
	h.pref_address = MiB(64);
	h.kernel_alignment = GiB(1);
	CHECK_HEADER_REFUSED(&h, "init_size");
	h.kernel_alignment = 0x80000000;
	CHECK_HEADER_REFUSED(&h, "init_size");
	h.kernel_alignment = 0;
	CHECK_HEADER_REFUSED(&h, "kernel_alignment");
	h.kernel_alignment = MiB(3);
	CHECK_HEADER_REFUSED(&h, "kernel_alignment");
	h.kernel_alignment = 0xffffffff;
	CHECK_HEADER_REFUSED(&h, "kernel_alignment");
}

/* A kernel that is not relocatable runs at pref_address or nowhere. */
static void test_placement_fixed(void)
{
	struct bz_header h = good;
	vm_reset(BZ_RAM_BYTES);
	h.relocatable = 0;
	h.kernel_alignment = 0;	/* unused without relocation */
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);
	h.pref_address = PREF_GPA + 0x1000;	/* its own choice, aligned or not */
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + 0x1000 + ENTRY64_OFFSET);
	h.pref_address = MiB(64);
	CHECK_HEADER_REFUSED(&h, "not relocatable");
	h.pref_address = BZ_RAM_BYTES - INIT_SIZE + 1;
	CHECK_HEADER_REFUSED(&h, "not relocatable");
	h.pref_address = GUEST_IMAGE_MIN_GPA - PAGE_SIZE;	/* over Vireo's tables */
	CHECK_HEADER_REFUSED(&h, "not relocatable");
	h.pref_address = 0;
	CHECK_HEADER_REFUSED(&h, "not relocatable");
	h.pref_address = ~0ull - PAGE_SIZE + 1;
	CHECK_HEADER_REFUSED(&h, "not relocatable");
}

/* 48 MiB is two slots (32 + 16 MiB): a kernel across the boundary is copied whole. */
static void test_kernel_across_slots(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	h.relocatable = 0;
	h.pref_address = MiB(32) - KERNEL_BYTES / 2;
	vm_reset(MiB(48));
	build(&f, &h);
	CHECK(vm_gpa_to_hva(&vm, h.pref_address, KERNEL_BYTES) == NULL);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK(guest_bytes_are(h.pref_address, f.bytes + f.kernel_offset, KERNEL_BYTES));
	drop(&f);
}

/* ---- Refusals of the header ---- */

static void test_refuse_protocol(void)
{
	struct bz_header h = good;
	vm_reset(BZ_RAM_BYTES);
	h.version = 0x0205;
	CHECK_HEADER_REFUSED(&h, "2.05: Vireo needs boot protocol 2.06 or later (Linux 2.6.22+)");
	h.version = 0x0200;
	CHECK_HEADER_REFUSED(&h, "Vireo needs boot protocol 2.06 or later (Linux 2.6.22+)");
	h.version = 0;
	CHECK_HEADER_REFUSED(&h, "Vireo needs boot protocol 2.06 or later");
	/* 2.06-2.11 have no xloadflags: the bit set there is not the kernel's word. */
	h.version = 0x0206;
	CHECK_HEADER_REFUSED(&h, "XLF_KERNEL_64");
	h.version = 0x020b;
	CHECK_HEADER_REFUSED(&h, "XLF_KERNEL_64");
	h.version = 0x020c;
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);
	h.version = 0x0300;	/* a later major version keeps the header */
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);
	h = good;
	h.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	CHECK_HEADER_REFUSED(&h, "64-bit entry point (xloadflags XLF_KERNEL_64 clear)");
	h = good;
	h.loadflags = QUIET_FLAG;
	CHECK_HEADER_REFUSED(&h, "LOADED_HIGH clear");
}

static void test_refuse_truncated(void)
{
	struct bz_header h = good;
	struct bz_file f;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &good);
	f.size--;
	CHECK_FILE_REFUSED(&f, 0, "truncated bzImage");
	f.size = f.kernel_offset;
	CHECK_FILE_REFUSED(&f, 0, "truncated bzImage");
	f.size = HDR_END_2_15 - 1;	/* the header itself is cut */
	CHECK_FILE_REFUSED(&f, 0, "truncated bzImage: its setup header ends at 0x26c");
	f.size = HDR_VERSION;
	CHECK_FILE_REFUSED(&f, 0, "truncated bzImage");
	drop(&f);

	h.syssize = 0xffffffff;		/* 64 GiB of kernel in a 1 MiB file */
	CHECK_HEADER_REFUSED(&h, "truncated bzImage");
	h.syssize = KERNEL_FILE_CAP / 16 + 1;
	CHECK_HEADER_REFUSED(&h, "truncated bzImage");
	h = good;
	build(&f, &h);
	put(&f, HDR_SETUP_SECTS, 0xff, 1);	/* the setup claims 128 KiB */
	CHECK_FILE_REFUSED(&f, 0, "truncated bzImage");
	drop(&f);
	h.syssize = ENTRY64_OFFSET / 16;	/* no byte at the entry point */
	CHECK_HEADER_REFUSED(&h, "too small to hold its 64-bit entry point");
	h.syssize = 0;
	CHECK_HEADER_REFUSED(&h, "too small");
	h.syssize = ENTRY64_OFFSET / 16 + 1;
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);
}

/* ---- Command line ---- */

static void test_cmdline(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	vm_reset(BZ_RAM_BYTES);
	str_copy(vm.cmdline, "console=ttyS0 root=/dev/vda", sizeof(vm.cmdline));
	h.cmdline_size = (u32)strlen(vm.cmdline);	/* exactly: it excludes the NUL */
	build(&f, &h);
	CHECK_FILE_LOADED(&f, 0, &entry);
	CHECK(guest_bytes_are(GUEST_CMDLINE_GPA, (const u8 *)vm.cmdline, strlen(vm.cmdline) + 1));
	drop(&f);
	h.cmdline_size--;
	CHECK_HEADER_REFUSED(&h, "command line has 27 characters, more than the 26");
	h.cmdline_size = 0;
	CHECK_HEADER_REFUSED(&h, "command line");
	vm.cmdline[0] = '\0';
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);
	CHECK_EQ(ram[GUEST_CMDLINE_GPA], 0);
}

/* A kernel that takes any length still gets only what fits below GUEST_BOOT_INFO_END. */
static void test_cmdline_area(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	u64 area = GUEST_BOOT_INFO_END - GUEST_CMDLINE_GPA;
	char *line = malloc(area + 1);
	memset(line, 'x', area);
	line[area] = '\0';
	h.cmdline_size = 0xffffffff;
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	const char *error = bzimage_load(&vm, f.bytes, f.size, line, NULL, 0, &entry);
	CHECK(error && strstr(error, "command line"));
	line[area - 1] = '\0';
	error = bzimage_load(&vm, f.bytes, f.size, line, NULL, 0, &entry);
	CHECK(error == NULL);
	CHECK(guest_bytes_all(GUEST_CMDLINE_GPA, 'x', area - 1));
	CHECK_EQ(ram[GUEST_BOOT_INFO_END - 1], 0);
	CHECK_EQ(ram[GUEST_BOOT_INFO_END], 0);	/* nothing written past the area */
	free(line);
	drop(&f);
}

/* ---- Initrd ---- */

static void test_initrd_placement(void)
{
	struct bz_header h = good;
	struct bz_file f;
	struct guest_entry entry;
	u64 size = sizeof(initrd_bytes);
	fill_initrd();

	h.initrd_addr_max = MiB(24) - 1;	/* below the end of RAM */
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_FILE_LOADED(&f, size, &entry);
	check_initrd(size, MiB(24), PREF_GPA + INIT_SIZE);
	drop(&f);

	h.initrd_addr_max = 0xffffffff;		/* no limit: the end of RAM */
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_FILE_LOADED(&f, size, &entry);
	check_initrd(size, BZ_RAM_BYTES, PREF_GPA + INIT_SIZE);
	drop(&f);

	/* Exactly between the kernel's end and initrd_addr_max. */
	h.initrd_addr_max = (u32)(PREF_GPA + INIT_SIZE + size - 1);
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_FILE_LOADED(&f, size, &entry);
	CHECK_EQ(zp(HDR_RAMDISK_IMAGE, 4), PREF_GPA + INIT_SIZE);
	drop(&f);
}

static void test_initrd_refused(void)
{
	struct bz_header h = good;
	struct bz_file f;
	u64 size = sizeof(initrd_bytes);
	vm_reset(BZ_RAM_BYTES);

	h.initrd_addr_max = (u32)(PREF_GPA + INIT_SIZE + size - 2);	/* one byte short */
	CHECK_EQ(LOADED_RIP(&h), PREF_GPA + ENTRY64_OFFSET);	/* fine without one */
	build(&f, &h);
	CHECK_FILE_REFUSED(&f, size, "its initrd (24 KiB) does not fit");
	drop(&f);
	h.initrd_addr_max = MiB(8);		/* below the kernel */
	build(&f, &h);
	CHECK_FILE_REFUSED(&f, size, "initrd");
	drop(&f);
	h.initrd_addr_max = 0;
	build(&f, &h);
	CHECK_FILE_REFUSED(&f, 1, "initrd");
	drop(&f);
	/* init_size not a whole page: the initrd's page-aligned start would overlap it. */
	h.init_size = INIT_SIZE + 1;
	h.initrd_addr_max = (u32)(PREF_GPA + INIT_SIZE + size - 1);
	build(&f, &h);
	CHECK_FILE_REFUSED(&f, size, "initrd");
	drop(&f);

	/* Bigger than RAM: initrd_size exceeds the top. The loader must refuse before
	 * reading any of it, so a short buffer stands in for it. */
	struct guest_entry entry;
	h = good;
	build(&f, &h);
	const char *error = bzimage_load(&vm, f.bytes, f.size, "", initrd_bytes, GiB(5), &entry);
	CHECK(error && strstr(error, "initrd"));
	error = bzimage_load(&vm, f.bytes, f.size, "", initrd_bytes,
			     BZ_RAM_BYTES - PREF_GPA - INIT_SIZE + 1, &entry);
	CHECK(error && strstr(error, "initrd"));
	drop(&f);
}

/* A refused image leaves guest memory as it was: nothing is written before every check. */
static void test_refusal_writes_nothing(void)
{
	struct bz_header h = good;
	struct bz_file f;
	h.initrd_addr_max = MiB(8);
	vm_reset(BZ_RAM_BYTES);
	build(&f, &h);
	CHECK_FILE_REFUSED(&f, sizeof(initrd_bytes), "initrd");
	CHECK(guest_bytes_all(0, 0, GUEST_IMAGE_MIN_GPA));
	CHECK(guest_bytes_all(PREF_GPA, STALE_BYTE, KERNEL_BYTES));
	drop(&f);
}

/* ---- A real kernel ---- */

/* Reads a whole file; NULL if it cannot. */
static u8 *read_file(const char *path, u64 *size)
{
	FILE *file = fopen(path, "rb");
	if (!file)
		return NULL;
	fseek(file, 0, SEEK_END);
	long length = ftell(file);
	fseek(file, 0, SEEK_SET);
	u8 *bytes = length > 0 ? malloc((size_t)length) : NULL;
	if (bytes && fread(bytes, 1, (size_t)length, file) != (size_t)length) {
		free(bytes);
		bytes = NULL;
	}
	fclose(file);
	*size = bytes ? (u64)length : 0;
	return bytes;
}

/* A distribution kernel in 1 GiB with a small initrd: loaded where its header asks. */
static void test_real_kernel(const char *path)
{
	u64 size;
	u8 *bytes = read_file(path, &size);
	struct guest_entry entry;
	printf("bzimage: loading the real kernel %s\n", path);
	CHECK(bytes != NULL);
	if (!bytes)
		return;
	CHECK(bzimage_detect(bytes, size));
	vm_reset_ram(GiB(1), false);
	fill_initrd();
	if (check_bytes_loaded(bytes, size, initrd_bytes, sizeof(initrd_bytes), &entry, __LINE__)) {
		u64 load = entry.rip - ENTRY64_OFFSET;
		u64 sects = bytes[HDR_SETUP_SECTS] ? bytes[HDR_SETUP_SECTS] : 4;
		CHECK_EQ(entry.rsi, GUEST_ZERO_PAGE_GPA);
		CHECK(load >= GUEST_IMAGE_MIN_GPA);
		CHECK(load % MAX(zp(HDR_KERNEL_ALIGNMENT, 4), 1) == 0);
		CHECK(guest_bytes_are(load, bytes + (sects + 1) * 512, zp(HDR_SYSSIZE, 4) * 16));
		CHECK(zp(HDR_RAMDISK_IMAGE, 4) >= load + zp(HDR_INIT_SIZE, 4));
		printf("bzimage: protocol %#llx, loaded at %#llx, init_size %#llx\n",
		       (unsigned long long)zp(HDR_VERSION, 2), (unsigned long long)load,
		       (unsigned long long)zp(HDR_INIT_SIZE, 4));
	}
	free(bytes);
}

/* The kernels this machine boots, if any, or the one named on the command line. */
static void test_real_kernels(int argc, char **argv)
{
	glob_t found = { 0 };
	if (argc > 1) {
		test_real_kernel(argv[1]);
		return;
	}
	if (glob("/boot/vmlinuz-*", 0, NULL, &found) != 0 || found.gl_pathc == 0)
		printf("bzimage: no /boot/vmlinuz-*: the real-kernel check did not run\n");
	for (size_t i = 0; i < found.gl_pathc; i++)
		test_real_kernel(found.gl_pathv[i]);
	globfree(&found);
}

int main(int argc, char **argv)
{
	test_detect();
	test_detect_before_multiboot();
	test_bad_magic();
	test_good_image();
	test_no_initrd_protocol_2_13();
	test_setup_sects_zero();
	test_header_length();
	test_placement_relocatable();
	test_placement_refused();
	test_placement_fixed();
	test_kernel_across_slots();
	test_refuse_protocol();
	test_refuse_truncated();
	test_cmdline();
	test_cmdline_area();
	test_initrd_placement();
	test_initrd_refused();
	test_refusal_writes_nothing();
	test_real_kernels(argc, argv);
	free(ram);
	return unit_done("bzimage");
}
