/* libFuzzer target for the virtual platform devices (drivers/v*.c): each input builds a
 * platform on a fake VM and drives it with guest port I/O, MMIO, doorbell and x2APIC
 * accesses; aborts on a crash, a leak, a stray guest-memory access or a broken invariant.
 * unit-sources: drivers/vplatform.c drivers/vregs.c drivers/vtime.c drivers/vioapic.c drivers/vpit.c drivers/vrtc.c drivers/vi8042.c drivers/vreset.c lib/time.c drivers/vuart.c drivers/vdebug_exit.c drivers/vpic.c drivers/vpmtimer.c drivers/vfw_cfg.c drivers/vpci.c drivers/vlapic.c drivers/vacpi.c drivers/vtestdev.c core/bus.c lib/page_alloc.c lib/bitmap.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "lib/slab.h"

/*
 * Input: [config byte: bits 2:0 the RAM size (ram_sizes), bits 7:3 which kmalloc fails]
 * then operations until the input ends or the VM stops. Each operation is an opcode
 * byte, then its arguments (little-endian; missing bytes read 0):
 *   bits 2:0  kind (enum fuzz_op)
 *   bit 3     write (else read); for OP_DOORBELL, a decoded write (else the fast path)
 *   bits 5:4  access size 1, 2, 4 or 8; a written value takes that many bytes
 *   bit 6     OP_DIRECT: the MMIO bus; OP_LAPIC_MSR: a 32-bit offset (else 16-bit)
 *   bit 7     bus accesses: repeated [count byte] + 1 times, as by REP INS/OUTS
 *   OP_PIO_NEAR, OP_MMIO_NEAR, OP_DIRECT: [device index][3-byte offset][value]
 *   OP_PIO_ANY: [2-byte port][value]          OP_MMIO_ANY: [8-byte gpa][value]
 *   (with bit 7, the count byte comes right after the address)
 *   OP_DOORBELL: [doorbell index][value]      OP_LAPIC_MSR: [2 or 4-byte offset][value]
 *   OP_LAPIC_COMPARE: [register index]
 */
enum fuzz_op {
	OP_PIO_NEAR,		/* a port within NEAR_BYTES of a device's range */
	OP_MMIO_NEAR,		/* likewise on the MMIO bus */
	OP_PIO_ANY,		/* any port */
	OP_MMIO_ANY,		/* any guest-physical address */
	OP_DOORBELL,		/* a doorbell write, as vmexit/mmio.c or vmexit/emulate.c rings it */
	OP_LAPIC_MSR,		/* vlapic_read / vlapic_write (the x2APIC MSRs) */
	OP_DIRECT,		/* a device's ops called directly, offsets up to past its end */
	OP_LAPIC_COMPARE,	/* the xAPIC page and the x2APIC MSRs must agree */
};

#define OP_KIND(op) ((op) & 7)
#define OP_WRITE BIT(3)
#define OP_SIZE(op) (1u << (((op) >> 4) & 3))
#define OP_WIDE BIT(6)
#define OP_REPEAT BIT(7)

/* How far around a device's range the biased accesses reach. */
#define NEAR_BYTES 8
#define PORT_SPACE_MASK 0xffffull	/* x86 I/O ports are 16-bit */

/* xAPIC register layout (SDM Vol. 3A 11.4.1, table 11-1): 32-bit registers 16 bytes
 * apart over the first KiB; the ICR's low half at 0x300 (whole 64 bits as an x2APIC
 * MSR, SDM 11.12.9). */
#define APIC_REGISTER_STRIDE 0x10
#define APIC_REGISTERS 64
#define APIC_ICR 0x300

/* vuart.c prints a line at each newline and cuts longer ones at this length. */
#define UART_LINE_MAX 160

/* Guest RAM the harness backs: the low MiB, which holds the ACPI tables. */
#define GUEST_RAM_BYTES VDEV_ACPI_AREA_END

/* The simulated host-physical memory the pc-testdev region comes from. */
#define HOST_ARENA_BYTES MiB(4)

uintptr_t phys_virt_offset;
u64 tsc_hz = 1000000000;	/* a nominal 1 GHz: the PM timer needs a rate */

static struct vm vm;
static u8 guest_ram[GUEST_RAM_BYTES];
static u64 free_pages_at_start;

/* Guest RAM sizes to build the platform with: the smallest and largest it takes, some
 * common ones, and two it must refuse (below 1 MiB, into the MMIO hole). */
static const u64 ram_sizes[] = {
	MiB(1), MiB(1) + PAGE_SIZE, MiB(32), MiB(256), GiB(3), VDEV_RAM_MAX_BYTES,
	KiB(512), VDEV_RAM_MAX_BYTES + PAGE_SIZE,
};
#define CONFIG_RAM_SIZE(config) ((config) & 7)
#define CONFIG_FAIL_KMALLOC_AT(config) ((config) >> 3)
static_assert(ARRAY_SIZE(ram_sizes) == 8, "the config byte picks one of 8 RAM sizes");

void arch_halt_after_panic(void)
{
	abort();
}

/* The host's wall clock, where the RTC starts: a fixed moment. */
u64 rtc_host_epoch_seconds(void)
{
	return 1767225600;	/* 2026-01-01 00:00 UTC */
}

/* kmalloc zeroes, as lib/slab.c does; the input may make one call fail (fail_kmalloc_at
 * counts from 1, 0 for none) so the platform's clean-up paths run too. */
static unsigned kmalloc_calls, fail_kmalloc_at;
static bool kmalloc_failed;

void *kmalloc(size_t size)
{
	if (++kmalloc_calls == fail_kmalloc_at) {
		kmalloc_failed = true;
		return NULL;
	}
	return calloc(1, size);
}

void kfree(void *ptr)
{
	free(ptr);
}

/* ---- The fake VM: what the devices call back into. ---- */

/* A device line for the console: the UART's, so it is one line and never too long. */
void vm_printk(const struct vm *v, const char *fmt, ...)
{
	char line[UART_LINE_MAX + 2];
	va_list ap;

	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v != &vm || len < 0 || len > UART_LINE_MAX || strchr(line, '\n'))
		abort();
}

/* As vm/vm.c stops a VM: the reason formatted, the UART's last line flushed, from
 * inside the device's access. */
void vm_console_partial(const struct vm *v, const char *text, size_t len)
{
}

void vm_stop(struct vm *v, int status, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (v != &vm)
		abort();
	if (v->state == VM_STOPPED)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vuart_flush(v);
	v->state = VM_STOPPED;
	v->exit_status = status;
}

/* The platform writes guest memory only to lay out its ACPI tables: any other range is a
 * device reaching where it should not (and past what the harness backs). */
static bool platform_may_access(u64 gpa, size_t len)
{
	return gpa >= VDEV_ACPI_RSDP_GPA && gpa <= VDEV_ACPI_AREA_END &&
	       len <= VDEV_ACPI_AREA_END - gpa;
}

static bool is_guest_ram(const struct vm *v, u64 gpa, size_t len)
{
	return gpa < v->ram_bytes && len <= v->ram_bytes - gpa;
}

/* As vm/vm.c's, with the platform's bounds on top (vm_write_gpa goes through it). */
void *vm_gpa_to_hva(struct vm *v, u64 gpa, size_t len)
{
	if (v != &vm || !platform_may_access(gpa, len))
		abort();
	return len && is_guest_ram(v, gpa, len) ? guest_ram + gpa : NULL;
}

bool vm_write_gpa(struct vm *v, u64 gpa, const void *buf, size_t len)
{
	void *hva = vm_gpa_to_hva(v, gpa, len);

	if (hva)
		memcpy(hva, buf, len);
	return hva != NULL;
}

/* ---- Reading the input ---- */

struct fuzz_input {
	const u8 *data;
	size_t size, pos;
};

static bool input_left(const struct fuzz_input *in)
{
	return in->pos < in->size;
}

static u8 take_byte(struct fuzz_input *in)
{
	return input_left(in) ? in->data[in->pos++] : 0;
}

static u64 take_le(struct fuzz_input *in, unsigned bytes)
{
	u64 value = 0;

	for (unsigned i = 0; i < bytes; i++)
		value |= (u64)take_byte(in) << (8 * i);
	return value;
}

/* ---- The operations ---- */

/* A read never returns bits beyond its size; an address no device holds reads all-ones. */
static void check_read(u64 value, unsigned size, bool claimed)
{
	u64 mask = low_bytes_mask(size);

	if ((value & ~mask) || (!claimed && value != mask))
		abort();
}

static void access_bus(struct io_bus *bus, u64 address, u8 op, struct fuzz_input *in)
{
	unsigned size = OP_SIZE(op);
	unsigned count = op & OP_REPEAT ? take_byte(in) + 1u : 1;
	u64 value = op & OP_WRITE ? take_le(in, size) : 0;

	for (unsigned i = 0; i < count && vm.state == VM_RUNNING; i++) {
		if (op & OP_WRITE) {
			io_bus_write(bus, address, size, value);
		} else {
			bool claimed = io_bus_read(bus, address, size, &value);
			check_read(value, size, claimed);
		}
	}
}

/* The platform always registers devices on both buses. */
static struct io_device *pick_device(struct io_bus *bus, struct fuzz_input *in)
{
	if (!bus->count)
		abort();
	return bus->devices[take_byte(in) % bus->count];
}

static u64 near_device(const struct io_device *dev, struct fuzz_input *in)
{
	return dev->base - NEAR_BYTES + take_le(in, 3) % (dev->length + 2 * NEAR_BYTES);
}

static void access_near(struct io_bus *bus, u64 address_mask, u8 op, struct fuzz_input *in)
{
	u64 address = near_device(pick_device(bus, in), in) & address_mask;

	access_bus(bus, address, op, in);
}

/* What the bus never sends but tests/unit/test_vdev.c holds the devices to: offsets at
 * and past their end. */
static void access_direct(u8 op, struct fuzz_input *in)
{
	struct io_device *dev = pick_device(op & OP_WIDE ? &vm.mmio_bus : &vm.pio_bus, in);
	u64 offset = take_le(in, 3) % (dev->length + NEAR_BYTES);
	unsigned size = OP_SIZE(op);

	if (op & OP_WRITE)
		dev->ops->write(dev, offset, size, take_le(in, size));
	else
		check_read(dev->ops->read(dev, offset, size), size, true);
}

/* As the exit paths ring them: the fast path (no decode, value unknown) only for
 * any-value doorbells; a decoded write signals a doorbell it matches, else goes to the
 * MMIO bus. */
static void ring_doorbell(u8 op, struct fuzz_input *in)
{
	const struct fast_mmio_bus *bus = &vm.fast_mmio_bus;

	if (!bus->count)
		abort();
	struct doorbell *bell = bus->doorbells[take_byte(in) % bus->count];
	if (!(op & OP_WRITE)) {
		if (!bell->match_value)
			bell->signal(bell, 0, false);
		return;
	}
	unsigned size = OP_SIZE(op);
	u64 value = take_le(in, size);
	if (!bell->match_value || bell->value == value)
		bell->signal(bell, value, true);
	else
		io_bus_write(&vm.mmio_bus, bell->gpa, size, value);
}

/* Only the ICR is wider than 32 bits. */
static void access_lapic_msr(u8 op, struct fuzz_input *in)
{
	u32 offset = (u32)take_le(in, op & OP_WIDE ? 4 : 2);

	if (op & OP_WRITE) {
		(void)vlapic_write(&vm, offset, take_le(in, OP_SIZE(op)));
		return;
	}
	u64 value = 0;
	if (vlapic_read(&vm, offset, &value) && offset != APIC_ICR && (value >> 32))
		abort();
}

static void compare_lapic_views(struct fuzz_input *in)
{
	u32 offset = (take_byte(in) % APIC_REGISTERS) * APIC_REGISTER_STRIDE;
	u64 mmio = 0, msr = 0;

	/* Registers x2APIC mode refuses have no MSR view to compare. */
	if (!vlapic_read(&vm, offset, &msr))
		return;
	if (!io_bus_read(&vm.mmio_bus, VDEV_LAPIC_GPA + offset, 4, &mmio) || mmio != (u32)msr)
		abort();
}

static void run_op(struct fuzz_input *in)
{
	u8 op = take_byte(in);

	switch ((enum fuzz_op)OP_KIND(op)) {
	case OP_PIO_NEAR:
		access_near(&vm.pio_bus, PORT_SPACE_MASK, op, in);
		break;
	case OP_MMIO_NEAR:
		access_near(&vm.mmio_bus, ~0ull, op, in);
		break;
	case OP_PIO_ANY:
		access_bus(&vm.pio_bus, take_le(in, 2), op, in);
		break;
	case OP_MMIO_ANY:
		access_bus(&vm.mmio_bus, take_le(in, 8), op, in);
		break;
	case OP_DOORBELL:
		ring_doorbell(op, in);
		break;
	case OP_LAPIC_MSR:
		access_lapic_msr(op, in);
		break;
	case OP_DIRECT:
		access_direct(op, in);
		break;
	case OP_LAPIC_COMPARE:
		compare_lapic_views(in);
		break;
	}
}

/* ---- Set-up and the entry point ---- */

static void discard_console(const char *s, size_t len)
{
}

static const struct mem_range host_ram[] = { { MiB(1), HOST_ARENA_BYTES } };

/* The page allocator over an arena, once: the pc-testdev region comes from it. */
static void init_host(void)
{
	void *arena = mmap(NULL, HOST_ARENA_BYTES, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (arena == MAP_FAILED)
		abort();
	phys_virt_offset = (uintptr_t)arena;
	console_register(discard_console);
	log_level = LOG_DEBUG;			/* format the debug lines too */
	if (page_alloc_init(host_ram, ARRAY_SIZE(host_ram), NULL, 0))
		abort();
	free_pages_at_start = page_alloc_free_pages();
}

/* A fresh VM, as vm_create makes it; false when its platform was (rightly) refused:
 * a RAM size that does not fit, or no memory for a device. */
static bool start_vm(u8 config)
{
	u64 ram_bytes = ram_sizes[CONFIG_RAM_SIZE(config)];

	memset(&vm, 0, sizeof(vm));
	memset(guest_ram, 0, sizeof(guest_ram));
	strcpy(vm.name, "fuzz");
	vm.ram_bytes = ram_bytes;
	kmalloc_calls = 0;
	kmalloc_failed = false;
	fail_kmalloc_at = CONFIG_FAIL_KMALLOC_AT(config);
	const char *error = vdev_platform_create(&vm);
	fail_kmalloc_at = 0;
	bool should_work = ram_bytes >= VDEV_RAM_HIGH_BASE && ram_bytes <= VDEV_RAM_MAX_BYTES &&
			   !kmalloc_failed;

	if (!error != should_work || !vm.devices != !should_work)
		abort();
	return should_work;
}

/* Everything the platform allocated comes back (LeakSanitizer sees the rest). */
static void stop_vm(void)
{
	vdev_platform_destroy(&vm);
	if (vm.devices || page_alloc_free_pages() != free_pages_at_start)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static bool host_ready;
	struct fuzz_input in = { data, size, 0 };

	if (!host_ready) {
		init_host();
		host_ready = true;
	}
	if (start_vm(take_byte(&in))) {
		while (input_left(&in) && vm.state == VM_RUNNING)
			run_op(&in);
	}
	stop_vm();
	return 0;
}
