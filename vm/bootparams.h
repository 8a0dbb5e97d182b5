/* The Linux/x86 boot protocol's structures: the setup header a bzImage carries at offset
 * 0x1f1 (Linux Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header") and the
 * zero page, struct boot_params, the loader hands the kernel (zero-page.rst). Fields Vireo
 * never reads or writes are kept as reserved bytes of the right size. */
#ifndef VIREO_VM_BOOTPARAMS_H
#define VIREO_VM_BOOTPARAMS_H

#include "drivers/vdev.h"
#include "lib/types.h"

#define BOOT_FLAG_MAGIC 0xaa55		/* boot_flag at 0x1fe */
#define BOOT_HEADER_MAGIC "HdrS"	/* header at 0x202 */
#define BOOT_HEADER_OFFSET 0x1f1	/* where the setup header starts, in the file too */
#define BOOT_JUMP_LENGTH_OFFSET 0x201	/* the jump's byte: the header ends at 0x202 + it */
#define BOOT_SECTOR_BYTES 512
#define BOOT_SETUP_SECTS_DEFAULT 4	/* setup_sects 0 means 4 */

#define BOOT_PROTOCOL(major, minor) ((major) << 8 | (minor))

/* loadflags */
#define LOADFLAG_LOADED_HIGH BIT(0)	/* the protected-mode kernel loads at 1 MiB or above */
#define LOADFLAG_CAN_USE_HEAP BIT(7)	/* heap_end_ptr is valid */
/* xloadflags (protocol 2.12+) */
#define XLF_KERNEL_64 BIT(0)		/* a 64-bit entry point at load address + 0x200 */

#define BOOT_LOADER_UNDEFINED 0xff	/* type_of_loader of a loader without an assigned id */
#define BOOT_VID_MODE_NORMAL 0xffff	/* vid_mode for "vga=normal" */
#define BOOT_ENTRY64_OFFSET 0x200
#define BOOT_E820_MAX 128

struct setup_header {
	u8 setup_sects;			/* 0x1f1 */
	u16 root_flags;
	u32 syssize;			/* the protected-mode kernel, in 16-byte paragraphs */
	u16 ram_size;
	u16 vid_mode;			/* 0x1fa */
	u16 root_dev;
	u16 boot_flag;			/* 0x1fe */
	u16 jump;			/* 0x200 */
	u32 header;			/* 0x202 */
	u16 version;			/* 0x206 */
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;		/* 0x210 */
	u8 loadflags;			/* 0x211 */
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;		/* 0x218 */
	u32 ramdisk_size;		/* 0x21c */
	u32 bootsect_kludge;
	u16 heap_end_ptr;		/* 0x224 */
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;		/* 0x228 */
	u32 initrd_addr_max;		/* 0x22c: the highest byte an initrd may occupy */
	u32 kernel_alignment;		/* 0x230 */
	u8 relocatable_kernel;		/* 0x234 */
	u8 min_alignment;
	u16 xloadflags;			/* 0x236 */
	u32 cmdline_size;		/* 0x238: characters, without the NUL */
	u32 hardware_subarch;		/* 0x23c */
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;		/* 0x258 */
	u32 init_size;			/* 0x260 */
	u32 handover_offset;
	u32 kernel_info_offset;
} __packed;

struct boot_params {
	u8 screen_info[0x40];		/* 0x000: no video: all zero (orig_video_isVGA 0) */
	u8 reserved_040[0x30];		/* APM, tboot, IST */
	u64 acpi_rsdp_addr;		/* 0x070 */
	u8 reserved_078[0x48];		/* hd0/hd1, sys_desc_table, OLPC */
	u32 ext_ramdisk_image;		/* 0x0c0 */
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;		/* 0x0c8 */
	u8 reserved_0cc[0x11c];		/* confidential computing, EDID, EFI, alt_mem_k */
	u8 e820_entries;		/* 0x1e8 */
	u8 reserved_1e9[6];		/* EDD counts, kbd_status, secure_boot */
	u8 sentinel;			/* 0x1ef: the kernel clears some fields when nonzero */
	u8 reserved_1f0;
	struct setup_header hdr;	/* 0x1f1 */
	u8 reserved_26c[0x24];		/* room for the setup header to grow into */
	u8 edd_mbr_sig_buffer[0x40];	/* 0x290 */
	struct guest_e820 e820_table[BOOT_E820_MAX];	/* 0x2d0 */
	u8 reserved_cd0[0x330];		/* EDD data */
} __packed;

#define BOOT_PARAMS_OFFSET_IS(field, offset) \
	static_assert(offsetof(struct boot_params, field) == (offset), #field " at " #offset)
BOOT_PARAMS_OFFSET_IS(acpi_rsdp_addr, 0x070);
BOOT_PARAMS_OFFSET_IS(ext_ramdisk_image, 0x0c0);
BOOT_PARAMS_OFFSET_IS(ext_cmd_line_ptr, 0x0c8);
BOOT_PARAMS_OFFSET_IS(e820_entries, 0x1e8);
BOOT_PARAMS_OFFSET_IS(sentinel, 0x1ef);
BOOT_PARAMS_OFFSET_IS(hdr.setup_sects, 0x1f1);
BOOT_PARAMS_OFFSET_IS(hdr.syssize, 0x1f4);
BOOT_PARAMS_OFFSET_IS(hdr.vid_mode, 0x1fa);
BOOT_PARAMS_OFFSET_IS(hdr.boot_flag, 0x1fe);
BOOT_PARAMS_OFFSET_IS(hdr.header, 0x202);
BOOT_PARAMS_OFFSET_IS(hdr.version, 0x206);
BOOT_PARAMS_OFFSET_IS(hdr.type_of_loader, 0x210);
BOOT_PARAMS_OFFSET_IS(hdr.loadflags, 0x211);
BOOT_PARAMS_OFFSET_IS(hdr.ramdisk_image, 0x218);
BOOT_PARAMS_OFFSET_IS(hdr.ramdisk_size, 0x21c);
BOOT_PARAMS_OFFSET_IS(hdr.heap_end_ptr, 0x224);
BOOT_PARAMS_OFFSET_IS(hdr.cmd_line_ptr, 0x228);
BOOT_PARAMS_OFFSET_IS(hdr.initrd_addr_max, 0x22c);
BOOT_PARAMS_OFFSET_IS(hdr.kernel_alignment, 0x230);
BOOT_PARAMS_OFFSET_IS(hdr.relocatable_kernel, 0x234);
BOOT_PARAMS_OFFSET_IS(hdr.xloadflags, 0x236);
BOOT_PARAMS_OFFSET_IS(hdr.cmdline_size, 0x238);
BOOT_PARAMS_OFFSET_IS(hdr.hardware_subarch, 0x23c);
BOOT_PARAMS_OFFSET_IS(hdr.pref_address, 0x258);
BOOT_PARAMS_OFFSET_IS(hdr.init_size, 0x260);
BOOT_PARAMS_OFFSET_IS(edd_mbr_sig_buffer, 0x290);
BOOT_PARAMS_OFFSET_IS(e820_table, 0x2d0);
static_assert(sizeof(struct boot_params) == PAGE_SIZE, "the zero page is one page");

#endif
