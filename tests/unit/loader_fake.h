/* A fake VM for the image loaders' unit tests (vm/loader*.c): guest RAM is one heap array
 * cut into slots the way vm/vm.c allocates it, with the vm/vm.c and drivers/ functions the
 * loaders call; helpers to load an image and check the outcome, and checks of the
 * long-mode entry's identity tables and GDT. Include once, in the test's .c file. */
#ifndef VIREO_TESTS_UNIT_LOADER_FAKE_H
#define VIREO_TESTS_UNIT_LOADER_FAKE_H

#include <stdlib.h>

#include "core/layout.h"
#include "drivers/vdev.h"
#include "lib/string.h"
#include "tests/unit/unit.h"
#include "vm/vm_internal.h"

/* A loader ASSERT is a hypervisor bug: fail loudly. */
void arch_halt_after_panic(void) { abort(); }

/* ---- The fake VM: guest RAM and the vm/vm.c and drivers/ functions the loaders call. ---- */

#define TEST_RAM_BYTES MiB(4)
#define SLOT_ORDER_MAX 18u		/* lib/page_alloc.h PAGE_ORDER_MAX: 1 GiB blocks */

static struct vm vm;
static u8 *ram;			/* exactly vm.ram_bytes long, so ASan sees any overrun */

/* The end of the RAM slot holding gpa: vm/vm.c allocate_ram() takes the largest naturally
 * aligned power-of-two blocks first, one slot each. */
static u64 slot_end(u64 gpa)
{
	u64 base = 0;
	while (base < vm.ram_bytes) {
		unsigned order = MIN(SLOT_ORDER_MAX,
				     63 - (unsigned)__builtin_clzll((vm.ram_bytes - base) >> PAGE_SHIFT));
		while (order && base % (PAGE_SIZE << order))
			order--;
		u64 end = base + (PAGE_SIZE << order);
		if (gpa < end)
			return end;
		base = end;
	}
	return 0;
}

void *vm_gpa_to_hva(struct vm *v, u64 gpa, size_t len)
{
	if (v != &vm || len == 0 || gpa + len < gpa || gpa >= vm.ram_bytes)
		return NULL;
	return gpa + len <= slot_end(gpa) ? ram + gpa : NULL;
}

/* Page by page, like vm/vm.c: a range may span slots. */
static bool copy_gpa(struct vm *v, u64 gpa, u8 *buf, size_t len, bool to_guest)
{
	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		u8 *hva = vm_gpa_to_hva(v, gpa, chunk);
		if (!hva)
			return false;
		if (to_guest)
			memcpy(hva, buf, chunk);
		else
			memcpy(buf, hva, chunk);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	return true;
}

bool vm_read_gpa(struct vm *v, u64 gpa, void *buf, size_t len)
{
	return copy_gpa(v, gpa, buf, len, false);
}

bool vm_write_gpa(struct vm *v, u64 gpa, const void *buf, size_t len)
{
	return copy_gpa(v, gpa, (void *)buf, len, true);
}

#define EBDA_GPA 0x9fc00ull
static struct guest_e820 memory_map[4];
static size_t memory_map_count;

size_t vdev_guest_memory_map(const struct vm *v, struct guest_e820 *out, size_t max)
{
	memory_map_count = 0;
	memory_map[memory_map_count++] = (struct guest_e820){ 0, EBDA_GPA, GUEST_E820_RAM };
	memory_map[memory_map_count++] =
		(struct guest_e820){ EBDA_GPA, GUEST_IMAGE_MIN_GPA - EBDA_GPA, GUEST_E820_RESERVED };
	memory_map[memory_map_count++] = (struct guest_e820){ GUEST_IMAGE_MIN_GPA,
		v->ram_bytes - GUEST_IMAGE_MIN_GPA, GUEST_E820_RAM };
	size_t n = MIN(max, memory_map_count);
	memcpy(out, memory_map, n * sizeof(*out));
	return n;
}

#define STALE_BYTE 0xa5

/* A fresh VM with ram_bytes of RAM. vm/vm.c hands the loader zeroed RAM; stale RAM above
 * 1 MiB checks that the loader zeroes bss itself. */
static void vm_reset_ram(u64 ram_bytes, bool stale)
{
	free(ram);
	memset(&vm, 0, sizeof(vm));
	str_copy(vm.name, "test", sizeof(vm.name));
	str_copy(vm.cmdline, "console=ttyS0 quiet", sizeof(vm.cmdline));
	vm.ram_bytes = ram_bytes;
	ram = calloc(1, ram_bytes);
	if (stale)
		memset(ram + GUEST_IMAGE_MIN_GPA, STALE_BYTE, ram_bytes - GUEST_IMAGE_MIN_GPA);
}

static void vm_reset(u64 ram_bytes)
{
	vm_reset_ram(ram_bytes, true);
}

/* A heap copy of exactly size bytes (ASan sees over-reads); freed by the caller. */
static u8 *exact_copy(const u8 *bytes, u64 size)
{
	u8 *copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, bytes, size);
	return copy;
}

/* Loads exact-size copies of the image and initrd, with vm.cmdline. */
static const char *load_bytes(const u8 *bytes, u64 size, const u8 *initrd, u64 initrd_size,
			      struct guest_entry *entry)
{
	u8 *image_copy = exact_copy(bytes, size), *initrd_copy = exact_copy(initrd, initrd_size);
	const char *error = guest_load_image(&vm, image_copy, size, vm.cmdline,
					     initrd_size ? initrd_copy : NULL, initrd_size, entry);
	free(image_copy);
	free(initrd_copy);
	return error;
}

/* Checks that the image is refused with a message containing want. */
static void check_bytes_refused(const u8 *bytes, u64 size, const u8 *initrd, u64 initrd_size,
				const char *want, int line)
{
	struct guest_entry entry;
	const char *error = load_bytes(bytes, size, initrd, initrd_size, &entry);
	unit_checks++;
	if (!error || !strstr(error, want)) {
		unit_failures++;
		fprintf(stderr, "line %d: expected a refusal containing \"%s\", got \"%s\"\n",
			line, want, error ? error : "(loaded)");
	}
}

/* Checks that the image loads, printing why it did not; true if it did. */
static bool check_bytes_loaded(const u8 *bytes, u64 size, const u8 *initrd, u64 initrd_size,
			       struct guest_entry *entry, int line)
{
	const char *error = load_bytes(bytes, size, initrd, initrd_size, entry);
	unit_checks++;
	if (error) {
		unit_failures++;
		fprintf(stderr, "line %d: expected a load, got \"%s\"\n", line, error);
	}
	return !error;
}

static u32 guest_u32(u64 gpa)
{
	u32 v = 0;
	CHECK(vm_read_gpa(&vm, gpa, &v, sizeof(v)));
	return v;
}

static u64 guest_u64(u64 gpa)
{
	u64 v = 0;
	CHECK(vm_read_gpa(&vm, gpa, &v, sizeof(v)));
	return v;
}

#define PTE_PRESENT BIT(0)
#define PTE_WRITABLE BIT(1)
#define PDE_PAGE_SIZE BIT(7)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define IDENTITY_MAP_PDS 4		/* 4 GiB of 1 GiB page directories */
/* Segment descriptor bits (SDM Vol. 3A 3.4.5). */
#define DESC_WRITABLE BIT(41)
#define DESC_CODE BIT(43)
#define DESC_S BIT(44)
#define DESC_PRESENT BIT(47)
#define DESC_LONG BIT(53)

/* Walks the identity tables for every 2 MiB page below 4 GiB. */
static void check_identity_tables(void)
{
	u64 pml4e = guest_u64(GUEST_PML4_GPA);
	CHECK_EQ(pml4e & (PTE_PRESENT | PTE_WRITABLE), PTE_PRESENT | PTE_WRITABLE);
	u64 pdpt = pml4e & PTE_ADDR_MASK;
	CHECK_EQ(pdpt, GUEST_PDPT_GPA);
	unsigned bad = 0;
	for (u64 gib = 0; gib < IDENTITY_MAP_PDS; gib++) {
		u64 pdpte = guest_u64(pdpt + gib * 8);
		CHECK_EQ(pdpte & (PTE_PRESENT | PTE_WRITABLE), PTE_PRESENT | PTE_WRITABLE);
		CHECK(!(pdpte & PDE_PAGE_SIZE));
		u64 pd = pdpte & PTE_ADDR_MASK;
		CHECK(pd >= GUEST_PD_GPA && pd < GUEST_GDT_GPA);
		for (u64 i = 0; i < 512; i++) {
			u64 pde = guest_u64(pd + i * 8);
			u64 want_addr = (gib << 30) | (i << 21);
			bad += (pde & PTE_ADDR_MASK) != want_addr ||
			       (pde & (PTE_PRESENT | PTE_WRITABLE | PDE_PAGE_SIZE)) !=
				       (PTE_PRESENT | PTE_WRITABLE | PDE_PAGE_SIZE);
		}
	}
	CHECK_EQ(bad, 0);
}

static void check_gdt(void)
{
	CHECK_EQ(guest_u64(GUEST_GDT_GPA), 0);
	u64 code = guest_u64(GUEST_GDT_GPA + 8), data = guest_u64(GUEST_GDT_GPA + 16);
	u64 code_bits = DESC_PRESENT | DESC_S | DESC_CODE | DESC_LONG;
	CHECK_EQ(code & code_bits, code_bits);
	CHECK_EQ(data & (DESC_PRESENT | DESC_S | DESC_CODE | DESC_WRITABLE),
		 DESC_PRESENT | DESC_S | DESC_WRITABLE);
}

#endif
