/* libFuzzer target for the guest image loaders: arbitrary bytes as a module must be loaded
 * or refused, never crash, and a load must stay in the VM's RAM and enter it there.
 * unit-sources: vm/loader.c vm/loader_multiboot.c vm/loader_elf64.c lib/printf.c lib/string.c lib/panic.c lib/log.c
 */
#include <stdlib.h>
#include <string.h>

#include "drivers/vdev.h"
#include "vm/layout.h"
#include "vm/vm_internal.h"

/* A loader ASSERT is a hypervisor bug: fail loudly. */
void arch_halt_after_panic(void) { abort(); }

/* Two RAM slots, as vm/vm.c would allocate 5 MiB (a 4 MiB block, then 1 MiB), so segments
 * across the boundary take the loader's page-by-page path. */
#define FUZZ_RAM_BYTES MiB(5)
#define FUZZ_SLOT_BOUNDARY MiB(4)
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u	/* Multiboot Specification 0.6.96, 3.2 */

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
	return (gpa >= GUEST_PML4_GPA && end <= GUEST_BOOT_INFO_END) ||
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
	if (entry->rip < GUEST_IMAGE_MIN_GPA || entry->rip >= FUZZ_RAM_BYTES)
		abort();	/* entered outside what was loaded */
	switch (entry->mode) {
	case GUEST_ENTRY_MULTIBOOT32:
		if (entry->rax != MB1_BOOTLOADER_MAGIC || entry->rbx != GUEST_BOOT_INFO_GPA)
			abort();
		break;
	case GUEST_ENTRY_LONG64:
		if (entry->rdi != GUEST_BOOT_INFO_GPA)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (!ram) {
		ram = calloc(1, FUZZ_RAM_BYTES);
		vm.ram_bytes = FUZZ_RAM_BYTES;
		memcpy(vm.name, "fuzz", 5);
		memcpy(vm.cmdline, "console=ttyS0", 14);
	}
	struct guest_entry entry;
	const char *error = guest_load_image(&vm, data, size, &entry);
	if (!error)
		check_entry(&entry);
	else if (!*error)
		abort();	/* a refusal must say why */
	return 0;
}
