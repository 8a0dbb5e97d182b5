/* Multiboot v1 kernels (Multiboot Specification 0.6.96): an ELF file with the header in
 * its first 8 KiB, entered in 32-bit protected mode with paging off, EAX = 0x2BADB002 and
 * EBX = the information block Vireo writes below 1 MiB. */
#include "core/layout.h"
#include "drivers/vdev.h"
#include "lib/string.h"
#include "vm/loader.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_SEARCH_BYTES 8192
#define MB1_FLAG_AOUT_KLUDGE BIT(16)
/* Information flags (spec 3.3). */
#define MB1_INFO_MEMORY BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)
#define MB1_INFO_LOADER_NAME BIT(9)
#define MB1_MEM_LOWER_KIB 639
#define MB1_MMAP_MAX 8

struct multiboot1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	u32 boot_loader_name, apm_table;
	u32 vbe_control_info, vbe_mode_info;
	u16 vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
} __packed;

struct multiboot1_mmap_entry {
	u32 size;		/* of the rest of the entry: 20 */
	u64 addr, len;
	u32 type;
} __packed;

static_assert(sizeof(struct multiboot1_info) == 88, "multiboot v1 info up to the VBE fields");

const char *multiboot1_find_header(const u8 *image, u64 size, const struct multiboot1_header **header)
{
	*header = NULL;
	u64 limit = MIN(size, (u64)MB1_SEARCH_BYTES);
	for (u64 off = 0; off + 12 <= limit; off += 4) {
		const struct multiboot1_header *h = (const void *)(image + off);
		if (h->magic != MB1_HEADER_MAGIC)
			continue;
		if ((u32)(h->magic + h->flags + h->checksum) != 0)
			return "its multiboot header checksum is wrong: the image is corrupt";
		if ((h->flags & MB1_FLAG_AOUT_KLUDGE) && off + sizeof(*h) > size)
			return "its multiboot header is truncated: the address fields the a.out "
			       "flag promises are missing";
		*header = h;
		return NULL;
	}
	return NULL;
}

/* Puts a string at *cursor in the info area and returns its gpa (0 if it does not fit). */
static u32 put_string(struct vm *vm, u64 *cursor, const char *s)
{
	u64 len = strlen(s) + 1;
	if (*cursor + len > GUEST_BOOT_INFO_END || !vm_write_gpa(vm, *cursor, s, len))
		return 0;
	u32 gpa = (u32)*cursor;
	*cursor += ALIGN_UP(len, 8);
	return gpa;
}

static u32 put_memory_map(struct vm *vm, u64 *cursor, u32 *length)
{
	struct guest_e820 map[MB1_MMAP_MAX];
	size_t n = vdev_guest_memory_map(vm, map, ARRAY_SIZE(map));
	struct multiboot1_mmap_entry entries[MB1_MMAP_MAX];
	for (size_t i = 0; i < n; i++)
		entries[i] = (struct multiboot1_mmap_entry){ 20, map[i].addr, map[i].length, map[i].type };
	u32 gpa = (u32)*cursor;
	*length = (u32)(n * sizeof(entries[0]));
	vm_write_gpa(vm, gpa, entries, *length);
	*cursor += ALIGN_UP(*length, 8);
	return gpa;
}

u64 multiboot1_write_info(struct vm *vm)
{
	struct multiboot1_info info = {
		.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
			 MB1_INFO_LOADER_NAME,
		.mem_lower = MB1_MEM_LOWER_KIB,
		.mem_upper = (u32)((vm->ram_bytes - MiB(1)) >> 10),
	};
	u64 cursor = GUEST_BOOT_INFO_GPA + ALIGN_UP(sizeof(info), 8);
	u32 mmap_length;
	info.mmap_addr = put_memory_map(vm, &cursor, &mmap_length);
	info.mmap_length = mmap_length;
	info.cmdline = put_string(vm, &cursor, vm->cmdline);
	info.boot_loader_name = put_string(vm, &cursor, "Vireo");
	info.mods_addr = (u32)cursor;
	vm_write_gpa(vm, GUEST_BOOT_INFO_GPA, &info, sizeof(info));
	return GUEST_BOOT_INFO_GPA;
}

const char *multiboot1_load(struct vm *vm, const struct elf_image *elf,
			    const struct multiboot1_header *header, struct guest_entry *entry)
{
	u64 rip = (header->flags & MB1_FLAG_AOUT_KLUDGE) ? header->entry_addr : elf->entry;
	const char *error = elf_load(vm, elf, rip);
	if (error)
		return error;
	*entry = (struct guest_entry){
		.mode = GUEST_ENTRY_MULTIBOOT32,
		.rip = rip,
		.rax = MB1_BOOTLOADER_MAGIC,
		.rbx = multiboot1_write_info(vm),
	};
	return NULL;
}
