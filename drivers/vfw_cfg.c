/* QEMU's fw_cfg device over I/O ports: a 16-bit selector written to 0x510 picks an item,
 * whose bytes are then read one at a time from 0x511; reads past the item's end return 0.
 * Sources: QEMU docs/specs/fw_cfg.rst (interface, file directory), the item keys of
 * include/standard-headers/linux/qemu_fw_cfg.h and hw/i386/fw_cfg.h (x86 keys), and
 * hw/i386/e820_memory_layout.c (what FW_CFG_E820_TABLE and "etc/e820" hold). Only the
 * traditional interface is offered (no DMA); writes to the data port are ignored, as in
 * QEMU since v2.4. */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/panic.h"
#include "lib/slab.h"
#include "lib/string.h"

#define FW_CFG_SELECTOR 0
#define FW_CFG_SELECTOR_BYTES 2

/* Item keys. Note 0x0d is NUMA and 0x11 is KERNEL_DATA: QEMU offers no memory map under
 * a small key; its e820 map is the "etc/e820" file (older QEMU: FW_CFG_E820_TABLE too). */
#define FW_CFG_SIGNATURE 0x0000		/* "QEMU" */
#define FW_CFG_ID 0x0001		/* u32 feature bitmap */
#define FW_CFG_RAM_SIZE 0x0003		/* u64 */
#define FW_CFG_NB_CPUS 0x0005		/* u16 */
#define FW_CFG_NUMA 0x000d		/* u64 node count, then per-CPU and per-node words */
#define FW_CFG_MAX_CPUS 0x000f		/* u16 */
#define FW_CFG_FILE_DIR 0x0019		/* big-endian u32 count, then struct fw_cfg_file */
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_E820_TABLE 0x8003	/* FW_CFG_ARCH_LOCAL + 3: u32 count, then entries */
#define FW_CFG_WRITE_CHANNEL 0x4000	/* selector bit 14: same item, write mode */

#define FW_CFG_ID_TRADITIONAL 0x1	/* bit 0: the port interface; bit 1 (DMA) clear */
#define FW_CFG_E820_FILE_KEY FW_CFG_FILE_FIRST
#define FW_CFG_FILE_NAME_BYTES 56
#define FW_CFG_CPU_COUNT 1		/* one vCPU per VM */

struct fw_cfg_file {
	u32 size_be;
	u16 select_be;
	u16 reserved;
	char name[FW_CFG_FILE_NAME_BYTES];
} __packed;
static_assert(sizeof(struct fw_cfg_file) == 64, "fw_cfg.rst: file entries are 64 bytes");

/* Room for the largest item: the file directory with its one file. */
#define FW_CFG_ITEM_MAX 128
static_assert(sizeof(u32) + sizeof(struct fw_cfg_file) <= FW_CFG_ITEM_MAX, "file directory");
static_assert(sizeof(u32) + VDEV_MEMORY_MAP_MAX * sizeof(struct guest_e820) <= FW_CFG_ITEM_MAX,
	      "e820 table");

/* The selected item is built when selected; invariant: offset <= length <= sizeof(item). */
struct vfw_cfg {
	struct io_device io;
	struct vm *vm;
	u32 length, offset;
	u8 item[FW_CFG_ITEM_MAX];
};

static void append(struct vfw_cfg *fw_cfg, const void *data, size_t len)
{
	ASSERT(len <= sizeof(fw_cfg->item) - fw_cfg->length);
	memcpy(fw_cfg->item + fw_cfg->length, data, len);
	fw_cfg->length += (u32)len;
}

/* Little-endian items: the hypervisor runs on x86, so host order is already right. */
static void append_le(struct vfw_cfg *fw_cfg, u64 value, size_t bytes)
{
	append(fw_cfg, &value, bytes);
}

static void append_file_dir(struct vfw_cfg *fw_cfg)
{
	struct guest_e820 map[VDEV_MEMORY_MAP_MAX];
	size_t n = vdev_guest_memory_map(fw_cfg->vm, map, ARRAY_SIZE(map));
	u32 count_be = __builtin_bswap32(1);
	struct fw_cfg_file file = {
		.size_be = __builtin_bswap32((u32)(n * sizeof(map[0]))),
		.select_be = __builtin_bswap16(FW_CFG_E820_FILE_KEY),
		.name = "etc/e820",
	};

	append(fw_cfg, &count_be, sizeof(count_be));
	append(fw_cfg, &file, sizeof(file));
}

/* "etc/e820": the whole map. */
static void append_e820_file(struct vfw_cfg *fw_cfg)
{
	struct guest_e820 map[VDEV_MEMORY_MAP_MAX];
	size_t n = vdev_guest_memory_map(fw_cfg->vm, map, ARRAY_SIZE(map));

	append(fw_cfg, map, n * sizeof(map[0]));
}

/* FW_CFG_E820_TABLE: QEMU only ever put the reservations there (firmware derived the RAM
 * from FW_CFG_RAM_SIZE), preceded by their count. */
static void append_e820_reservations(struct vfw_cfg *fw_cfg)
{
	struct guest_e820 map[VDEV_MEMORY_MAP_MAX];
	size_t n = vdev_guest_memory_map(fw_cfg->vm, map, ARRAY_SIZE(map));
	u32 reservations = 0;

	for (size_t i = 0; i < n; i++)
		reservations += map[i].type != GUEST_E820_RAM;
	append_le(fw_cfg, reservations, sizeof(u32));
	for (size_t i = 0; i < n; i++) {
		if (map[i].type != GUEST_E820_RAM)
			append(fw_cfg, &map[i], sizeof(map[i]));
	}
}

static void select_item(struct vfw_cfg *fw_cfg, u16 key)
{
	fw_cfg->length = 0;
	fw_cfg->offset = 0;
	switch (key & ~FW_CFG_WRITE_CHANNEL) {
	case FW_CFG_SIGNATURE:
		append(fw_cfg, "QEMU", 4);
		break;
	case FW_CFG_ID:
		append_le(fw_cfg, FW_CFG_ID_TRADITIONAL, sizeof(u32));
		break;
	case FW_CFG_RAM_SIZE:
		append_le(fw_cfg, fw_cfg->vm->ram_bytes, sizeof(u64));
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		append_le(fw_cfg, FW_CFG_CPU_COUNT, sizeof(u16));
		break;
	case FW_CFG_NUMA:
		append_le(fw_cfg, 0, sizeof(u64));	/* no NUMA nodes */
		break;
	case FW_CFG_FILE_DIR:
		append_file_dir(fw_cfg);
		break;
	case FW_CFG_E820_FILE_KEY:
		append_e820_file(fw_cfg);
		break;
	case FW_CFG_E820_TABLE:
		append_e820_reservations(fw_cfg);
		break;
	default:
		break;		/* no such item: reads return 0 */
	}
}

static u8 next_data_byte(struct vfw_cfg *fw_cfg)
{
	if (fw_cfg->offset >= fw_cfg->length)
		return 0;
	return fw_cfg->item[fw_cfg->offset++];
}

/* Any read, at either port and of any width, returns the next bytes in order (the data
 * register is "string-preserving"); the selector itself is write-only. */
static u64 vfw_cfg_read(struct io_device *dev, u64 offset, unsigned size)
{
	struct vfw_cfg *fw_cfg = dev->opaque;
	u64 value = 0;

	for (unsigned i = 0; i < MIN(size, 8u); i++)
		value |= (u64)next_data_byte(fw_cfg) << (8 * i);
	return value;
}

/* As in QEMU, a 16-bit write selects; byte writes go to the data register and are
 * ignored. */
static void vfw_cfg_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	if (offset == FW_CFG_SELECTOR && size >= FW_CFG_SELECTOR_BYTES)
		select_item(dev->opaque, (u16)value);
}

static const struct io_device_ops vfw_cfg_ops = { .read = vfw_cfg_read, .write = vfw_cfg_write };

struct vfw_cfg *vfw_cfg_create(struct vm *vm)
{
	struct vfw_cfg *fw_cfg = kmalloc(sizeof(*fw_cfg));

	if (!fw_cfg)
		return NULL;
	fw_cfg->vm = vm;
	select_item(fw_cfg, FW_CFG_SIGNATURE);
	if (!vdev_attach(&vm->pio_bus, &fw_cfg->io, "fw_cfg", VDEV_FW_CFG_PORT, VDEV_FW_CFG_PORTS,
			 &vfw_cfg_ops, fw_cfg)) {
		kfree(fw_cfg);
		return NULL;
	}
	return fw_cfg;
}

void vfw_cfg_destroy(struct vfw_cfg *fw_cfg)
{
	kfree(fw_cfg);
}
