/*
 * Linux bzImages, booted through the 64-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"; the zero page: zero-page.rst).
 * No real-mode code runs: Vireo copies the protected-mode kernel into RAM, writes the
 * zero page (struct boot_params: the image's setup header plus what a loader fills in) and
 * the command line below 1 MiB, puts the initrd as high as the kernel allows, and enters
 * the kernel at its load address + 0x200 in long mode with RSI = the zero page.
 *
 * Placement of the protected-mode kernel (it needs init_size bytes from its start, and at
 * least its own bytes when a hostile header says less):
 *  - at pref_address when that range is RAM above 1 MiB (and, for a relocatable kernel,
 *    pref_address is kernel_alignment-aligned: the kernel would move itself otherwise);
 *  - else, relocatable kernels only, at the lowest kernel_alignment-aligned address at or
 *    above 1 MiB, which leaves the most RAM above it for the initrd.
 * Every field comes from the image and is treated as hostile; nothing is written to guest
 * memory before every check has passed.
 */
#include "core/layout.h"
#include "drivers/vdev.h"
#include "lib/string.h"
#include "vm/bootparams.h"
#include "vm/loader.h"

/* The setup header ends where its jump says, but never past its hole in boot_params. */
#define SETUP_HEADER_END_MAX offsetof(struct boot_params, edd_mbr_sig_buffer)
#define BZIMAGE_MAGIC_END offsetof(struct boot_params, hdr.version)	/* past "HdrS" */
/* The real-mode heap's end as boot.rst's sample layout puts it; only real-mode setup code,
 * which never runs here, reads heap_end_ptr. */
#define SETUP_HEAP_END 0xe000
#define CMDLINE_AREA_BYTES (GUEST_BOOT_INFO_END - GUEST_CMDLINE_GPA)
#define IDENTITY_MAP_BYTES GiB(4)	/* what loader_build_identity_tables() maps */

/* The 64-bit protocol wants the kernel, zero page, command line and initrd identity-mapped:
 * all of them lie in RAM, and all of RAM is. */
static_assert(GUEST_RAM_MAX_BYTES <= IDENTITY_MAP_BYTES, "the identity map must cover RAM");
static_assert(GUEST_ZERO_PAGE_GPA + sizeof(struct boot_params) <= GUEST_CMDLINE_GPA,
	      "the zero page and the command line overlap");

/* The image as parsed: where its parts are and where they go. */
struct bzimage {
	u64 kernel_offset;	/* of the protected-mode kernel in the file */
	u64 kernel_bytes;	/* in the file: syssize paragraphs */
	u64 footprint;		/* RAM it needs from its load address */
	u64 load_gpa;
	u64 initrd_gpa;
};

/* Built here, then copied to GUEST_ZERO_PAGE_GPA (one VM is created at a time). */
static struct boot_params zero_page;

bool bzimage_detect(const u8 *image, u64 size)
{
	u16 boot_flag;
	if (size < BZIMAGE_MAGIC_END)
		return false;
	memcpy(&boot_flag, image + offsetof(struct boot_params, hdr.boot_flag), sizeof(boot_flag));
	return boot_flag == BOOT_FLAG_MAGIC &&
	       memcmp(image + offsetof(struct boot_params, hdr.header), BOOT_HEADER_MAGIC, 4) == 0;
}

/* Zeroes the zero page and copies the image's setup header into it: fields past the
 * header's end (an older protocol) read as 0. */
static const char *copy_setup_header(const u8 *image, u64 size)
{
	if (!bzimage_detect(image, size))
		return "not a bzImage (no 0xAA55 boot flag at 0x1fe and \"HdrS\" at 0x202)";
	u64 end = MIN(BOOT_JUMP_LENGTH_OFFSET + 1 + (u64)image[BOOT_JUMP_LENGTH_OFFSET],
		      (u64)SETUP_HEADER_END_MAX);
	if (end > size)
		return loader_error("truncated bzImage: its setup header ends at %#llx, past "
				    "the end of the file", (unsigned long long)end);
	memset(&zero_page, 0, sizeof(zero_page));
	memcpy((u8 *)&zero_page + BOOT_HEADER_OFFSET, image + BOOT_HEADER_OFFSET,
	       end - BOOT_HEADER_OFFSET);
	return NULL;
}

static const char *check_protocol(const struct setup_header *hdr)
{
	if (hdr->version < BOOT_PROTOCOL(2, 6))
		return loader_error("a bzImage of boot protocol %u.%02u: Vireo needs boot protocol "
				    "2.06 or later (Linux 2.6.22+)", hdr->version >> 8,
				    hdr->version & 0xff);
	if (!(hdr->loadflags & LOADFLAG_LOADED_HIGH))
		return "a zImage (loadflags LOADED_HIGH clear): Vireo loads only kernels that "
		       "load high (bzImage)";
	/* xloadflags exists from protocol 2.12 on: older kernels have no 64-bit entry. */
	if (hdr->version < BOOT_PROTOCOL(2, 12) || !(hdr->xloadflags & XLF_KERNEL_64))
		return "a bzImage without a 64-bit entry point (xloadflags XLF_KERNEL_64 clear): "
		       "Vireo enters Linux in long mode";
	return NULL;
}

static const char *parse(struct bzimage *bz, const u8 *image, u64 size)
{
	const struct setup_header *hdr = &zero_page.hdr;
	const char *error = copy_setup_header(image, size);
	if (!error)
		error = check_protocol(hdr);
	if (error)
		return error;
	u64 setup_sects = hdr->setup_sects ? hdr->setup_sects : BOOT_SETUP_SECTS_DEFAULT;
	*bz = (struct bzimage){
		.kernel_offset = (setup_sects + 1) * BOOT_SECTOR_BYTES,
		.kernel_bytes = (u64)hdr->syssize * 16,
	};
	bz->footprint = MAX(bz->kernel_bytes, (u64)hdr->init_size);
	if (bz->kernel_offset > size || bz->kernel_bytes > size - bz->kernel_offset)
		return loader_error("truncated bzImage: its setup and kernel (setup_sects, "
				    "syssize) need %llu bytes, the file has %llu",
				    (unsigned long long)(bz->kernel_offset + bz->kernel_bytes),
				    (unsigned long long)size);
	if (bz->kernel_bytes <= BOOT_ENTRY64_OFFSET)
		return "a bzImage whose protected-mode kernel (syssize) is too small to hold its "
		       "64-bit entry point at 0x200";
	return NULL;
}

static bool in_ram(const struct vm *vm, u64 gpa, u64 bytes)
{
	return gpa >= GUEST_IMAGE_MIN_GPA && gpa <= vm->ram_bytes && bytes <= vm->ram_bytes - gpa;
}

static const char *place_kernel(const struct vm *vm, struct bzimage *bz)
{
	const struct setup_header *hdr = &zero_page.hdr;
	u64 pref = hdr->pref_address, align = hdr->kernel_alignment;
	if (!hdr->relocatable_kernel) {
		if (!in_ram(vm, pref, bz->footprint))
			return loader_error("a kernel that is not relocatable, for [%#llx-%#llx) "
					    "(pref_address, init_size) outside the VM's RAM "
					    "[%#llx-%#llx): raise mem=", (unsigned long long)pref,
					    (unsigned long long)(pref + bz->footprint),
					    (unsigned long long)GUEST_IMAGE_MIN_GPA,
					    (unsigned long long)vm->ram_bytes);
		bz->load_gpa = pref;
		return NULL;
	}
	if (align == 0 || (align & (align - 1)))
		return loader_error("a relocatable kernel whose kernel_alignment %#llx is not a "
				    "power of two", (unsigned long long)align);
	bz->load_gpa = IS_ALIGNED(pref, align) && in_ram(vm, pref, bz->footprint) ?
		       pref : ALIGN_UP(GUEST_IMAGE_MIN_GPA, align);
	if (!in_ram(vm, bz->load_gpa, bz->footprint))
		return loader_error("a kernel that needs %llu KiB of RAM from %#llx (init_size) "
				    "but the VM's RAM ends at %#llx: raise mem=",
				    (unsigned long long)(bz->footprint >> 10),
				    (unsigned long long)bz->load_gpa,
				    (unsigned long long)vm->ram_bytes);
	return NULL;
}

static const char *check_cmdline(const char *cmdline)
{
	u64 max = MIN((u64)zero_page.hdr.cmdline_size, CMDLINE_AREA_BYTES - 1);
	u64 length = strlen(cmdline);
	if (length > max)
		return loader_error("its command line has %llu characters, more than the %llu "
				    "the kernel (cmdline_size) and Vireo accept",
				    (unsigned long long)length, (unsigned long long)max);
	return NULL;
}

/* The initrd goes page-aligned as high as it may: its last byte at or below
 * initrd_addr_max, inside RAM, below 4 GiB, and above everything the kernel needs. */
static const char *place_initrd(const struct vm *vm, struct bzimage *bz, u64 initrd_size)
{
	u64 top = MIN(MIN((u64)zero_page.hdr.initrd_addr_max + 1, vm->ram_bytes), GiB(4));
	u64 kernel_end = bz->load_gpa + bz->footprint;
	bz->initrd_gpa = initrd_size <= top ? ALIGN_DOWN(top - initrd_size, PAGE_SIZE) : 0;
	if (initrd_size > top || bz->initrd_gpa < kernel_end)
		return loader_error("its initrd (%llu KiB) does not fit between the kernel's end "
				    "%#llx and %#llx (initrd_addr_max, the VM's RAM): raise mem=",
				    (unsigned long long)(initrd_size >> 10),
				    (unsigned long long)kernel_end, (unsigned long long)top);
	return NULL;
}

/* The loader's part of the zero page; the rest is the image's header or zero. */
static void fill_zero_page(struct vm *vm, const struct bzimage *bz, u64 initrd_size)
{
	struct setup_header *hdr = &zero_page.hdr;
	hdr->vid_mode = BOOT_VID_MODE_NORMAL;
	hdr->type_of_loader = BOOT_LOADER_UNDEFINED;
	/* QUIET_FLAG and KEEP_SEGMENTS clear: with screen_info zero the kernel's early
	 * messages stay off the (absent) VGA and go to the serial port earlyprintk= names. */
	hdr->loadflags = LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
	hdr->heap_end_ptr = SETUP_HEAP_END - BOOT_SECTOR_BYTES;
	hdr->cmd_line_ptr = (u32)GUEST_CMDLINE_GPA;
	hdr->ramdisk_image = initrd_size ? (u32)bz->initrd_gpa : 0;
	hdr->ramdisk_size = (u32)initrd_size;	/* below 4 GiB: place_initrd() */
	hdr->hardware_subarch = 0;		/* the default x86/PC environment */
	if (hdr->version >= BOOT_PROTOCOL(2, 14))
		zero_page.acpi_rsdp_addr = VDEV_ACPI_RSDP_GPA;
	zero_page.e820_entries = (u8)vdev_guest_memory_map(vm, zero_page.e820_table,
							   ARRAY_SIZE(zero_page.e820_table));
}

const char *bzimage_load(struct vm *vm, const u8 *image, u64 size, const char *cmdline,
			 const u8 *initrd, u64 initrd_size, struct guest_entry *entry)
{
	struct bzimage bz;
	const char *error = parse(&bz, image, size);
	if (!error)
		error = place_kernel(vm, &bz);
	if (!error)
		error = check_cmdline(cmdline);
	if (!error && initrd_size)
		error = place_initrd(vm, &bz, initrd_size);
	if (error)
		return error;
	fill_zero_page(vm, &bz, initrd_size);
	if (!vm_write_gpa(vm, bz.load_gpa, image + bz.kernel_offset, bz.kernel_bytes) ||
	    (initrd_size && !vm_write_gpa(vm, bz.initrd_gpa, initrd, initrd_size)) ||
	    !vm_write_gpa(vm, GUEST_CMDLINE_GPA, cmdline, strlen(cmdline) + 1) ||
	    !vm_write_gpa(vm, GUEST_ZERO_PAGE_GPA, &zero_page, sizeof(zero_page)))
		return "its kernel, initrd or boot parameters could not be copied into its RAM";
	loader_build_identity_tables(vm);
	*entry = (struct guest_entry){
		.mode = GUEST_ENTRY_LONG64,
		.rip = bz.load_gpa + BOOT_ENTRY64_OFFSET,
		.rsi = GUEST_ZERO_PAGE_GPA,
	};
	return NULL;
}
