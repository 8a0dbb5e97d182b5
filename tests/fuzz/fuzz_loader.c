/* libFuzzer target for the guest image loaders: arbitrary bytes as a module must be loaded
 * or refused, never crash, and a load must stay in the VM's RAM and enter it there. Each
 * input is tried as it is and again shaped as a bzImage (padded to 8 KiB, magic and, at
 * the input's choice, the fields that pass the first checks forced), with the input as its
 * initrd.
 * unit-sources: vm/loader.c vm/loader_bzimage.c vm/loader_multiboot.c vm/loader_elf64.c lib/printf.c lib/string.c lib/panic.c lib/log.c
 */
#include <stdlib.h>
#include <string.h>

#include "core/layout.h"
#include "drivers/vdev.h"
#include "vm/bootparams.h"
#include "vm/vm_internal.h"

/* A loader ASSERT is a hypervisor bug: fail loudly. */
void arch_halt_after_panic(void) { abort(); }

/* Two RAM slots, as vm/vm.c would allocate 5 MiB (a 4 MiB block, then 1 MiB), so segments
 * across the boundary take the loader's page-by-page path. */
#define FUZZ_RAM_BYTES MiB(5)
#define FUZZ_SLOT_BOUNDARY MiB(4)
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u	/* Multiboot Specification 0.6.96, 3.2 */
#define SHAPED_MIN_BYTES 0x2000		/* room for setup sectors and a kernel */

static struct vm vm;
static u8 *ram;			/* exactly FUZZ_RAM_BYTES, so ASan sees any overrun */

/* What the loaders may touch: Vireo's own structures below 1 MiB, the image above. An
 * empty range touches nothing. */
static bool loader_may_access(u64 gpa, size_t len)
{
	u64 end = gpa + len;
	if (len == 0)
		return true;
	if (end < gpa)
		return false;
	return (gpa >= GUEST_LOW_IMAGE_MIN_GPA && end <= GUEST_BOOT_INFO_END) ||
	       (gpa >= GUEST_IMAGE_MIN_GPA && end <= FUZZ_RAM_BYTES);
}

void *vm_gpa_to_hva(struct vm *v, u64 gpa, size_t len)
{
	if (v != &vm || !loader_may_access(gpa, len))
		abort();	/* the loader asked for memory its checks should have refused */
	if (len == 0)
		return NULL;	/* as the real one says */
	if (gpa < FUZZ_SLOT_BOUNDARY && gpa + len > FUZZ_SLOT_BOUNDARY)
		return NULL;	/* spans two slots, as the real one says */
	return ram + gpa;
}

bool vm_read_gpa(struct vm *v, u64 gpa, void *buf, size_t len)
{
	if (v != &vm || !loader_may_access(gpa, len))
		abort();
	memcpy(buf, ram + gpa, len);
	return true;
}

bool vm_write_gpa(struct vm *v, u64 gpa, const void *buf, size_t len)
{
	if (v != &vm || !loader_may_access(gpa, len))
		abort();
	memcpy(ram + gpa, buf, len);
	return true;
}

size_t vdev_guest_memory_map(const struct vm *v, struct guest_e820 *out, size_t max)
{
	const struct guest_e820 map[] = {
		{ 0, 0x9fc00, GUEST_E820_RAM },
		{ 0x9fc00, GUEST_IMAGE_MIN_GPA - 0x9fc00, GUEST_E820_RESERVED },
		{ GUEST_IMAGE_MIN_GPA, v->ram_bytes - GUEST_IMAGE_MIN_GPA, GUEST_E820_RAM },
	};
	size_t n = MIN(max, ARRAY_SIZE(map));
	memcpy(out, map, n * sizeof(*out));
	return n;
}

static void check_entry(const struct guest_entry *entry)
{
	bool low = entry->rip >= GUEST_LOW_IMAGE_MIN_GPA && entry->rip < GUEST_LOW_IMAGE_END;
	if (!low && (entry->rip < GUEST_IMAGE_MIN_GPA || entry->rip >= FUZZ_RAM_BYTES))
		abort();	/* entered outside what was loaded */
	switch (entry->mode) {
	case GUEST_ENTRY_MULTIBOOT32:
		if (entry->rax != MB1_BOOTLOADER_MAGIC || entry->rbx != GUEST_BOOT_INFO_GPA)
			abort();
		break;
	case GUEST_ENTRY_LONG64:	/* ELF64: RDI = multiboot info; bzImage: RSI = zero page */
		if ((entry->rdi == GUEST_BOOT_INFO_GPA) == (entry->rsi == GUEST_ZERO_PAGE_GPA))
			abort();
		break;
	default:
		abort();
	}
}

/* A loaded bzImage's initrd lies in RAM above 1 MiB, clear of the kernel's entry. */
static void check_zero_page(const struct guest_entry *entry)
{
	const struct setup_header *hdr = &((const struct boot_params *)(ram + entry->rsi))->hdr;
	u64 initrd = hdr->ramdisk_image, initrd_end = initrd + hdr->ramdisk_size;
	if (hdr->ramdisk_size && (initrd < GUEST_IMAGE_MIN_GPA || initrd_end > FUZZ_RAM_BYTES ||
				  initrd <= entry->rip))
		abort();
	if (hdr->cmd_line_ptr != GUEST_CMDLINE_GPA)
		abort();
}

static void load_and_check(const u8 *image, size_t size, const u8 *initrd, size_t initrd_size)
{
	struct guest_entry entry = { 0 };
	const char *error = guest_load_image(&vm, image, size, vm.cmdline, initrd, initrd_size,
					     &entry);
	if (error && !*error)
		abort();	/* a refusal must say why */
	if (error)
		return;
	check_entry(&entry);
	if (entry.rsi)
		check_zero_page(&entry);
}

/* The input with a bzImage's magic; with its first byte odd, also a 2.15 protocol, the
 * whole header (the jump's length byte), the load-high and 64-bit flags, a syssize of 1 to
 * all of the file's paragraphs, init_size within the RAM, a power-of-two kernel_alignment
 * and room for the command line, so that many inputs reach placement and the initrd. */
static void shape_bzimage(u8 *image, size_t size)
{
	struct setup_header *hdr = (void *)(image + BOOT_HEADER_OFFSET);
	hdr->boot_flag = BOOT_FLAG_MAGIC;
	memcpy(&hdr->header, BOOT_HEADER_MAGIC, sizeof(hdr->header));
	if (!(image[0] & 1))
		return;
	u64 sects = hdr->setup_sects ? hdr->setup_sects : BOOT_SETUP_SECTS_DEFAULT;
	u64 kernel_offset = (sects + 1) * BOOT_SECTOR_BYTES;
	u64 paragraphs = kernel_offset < size ? (size - kernel_offset) / 16 : 0;
	image[BOOT_JUMP_LENGTH_OFFSET] = BOOT_HEADER_OFFSET + sizeof(*hdr) -
					 (BOOT_JUMP_LENGTH_OFFSET + 1);
	hdr->version = BOOT_PROTOCOL(2, 15);
	hdr->loadflags |= LOADFLAG_LOADED_HIGH;
	hdr->xloadflags |= XLF_KERNEL_64;
	if (paragraphs)
		hdr->syssize = (u32)(hdr->syssize % paragraphs + 1);
	hdr->init_size %= FUZZ_RAM_BYTES;
	hdr->kernel_alignment = 1u << (hdr->kernel_alignment % 32);
	hdr->cmdline_size |= VM_CMDLINE_MAX;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (!ram) {
		ram = calloc(1, FUZZ_RAM_BYTES);
		vm.ram_bytes = FUZZ_RAM_BYTES;
		memcpy(vm.name, "fuzz", 5);
		memcpy(vm.cmdline, "console=ttyS0", 14);
	}
	load_and_check(data, size, NULL, 0);
	size_t shaped_size = MAX(size, (size_t)SHAPED_MIN_BYTES);
	u8 *shaped = calloc(1, shaped_size);	/* exactly its size, so ASan sees over-reads */
	if (size)
		memcpy(shaped, data, size);
	shape_bzimage(shaped, shaped_size);
	load_and_check(shaped, shaped_size, data, size);
	free(shaped);
	return 0;
}
