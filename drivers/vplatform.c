/* The virtual platform as a whole: creates and frees a VM's devices, answers for its
 * memory map, and routes the platform-wide entry points to the device that owns them. */
#include "arch/x86/cpu.h"
#include "core/vm.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/slab.h"
#include "lib/string.h"

/* Private: other code only passes vm->devices around. Invariant: vm->devices is set only
 * while every device in it exists (a failed creation frees them all at once). */
struct vm_devices {
	struct vuart *uart;
	struct vdebug_exit *debug_exit;
	struct vpic *pic;
	struct vpm *pm;
	struct vfw_cfg *fw_cfg;
	struct vpci *pci;
	struct vlapic *lapic;
	struct vpc_testdev *pc_testdev;
	struct vtestdev *testdev;
	struct vioapic *ioapic;
	struct vpit *pit;
	struct vrtc *rtc;
	struct vi8042 *i8042;
};

size_t vdev_guest_memory_map(const struct vm *vm, struct guest_e820 *out, size_t max)
{
	const struct guest_e820 map[VDEV_MEMORY_MAP_MAX] = {
		{ 0, VDEV_RAM_LOW_END, GUEST_E820_RAM },
		{ VDEV_RAM_LOW_END, VDEV_RAM_HIGH_BASE - VDEV_RAM_LOW_END, GUEST_E820_RESERVED },
		{ VDEV_RAM_HIGH_BASE, vm->ram_bytes - VDEV_RAM_HIGH_BASE, GUEST_E820_RAM },
	};
	/* Without RAM above 1 MiB the last range would be empty (or negative). */
	size_t n = vm->ram_bytes > VDEV_RAM_HIGH_BASE ? ARRAY_SIZE(map) : ARRAY_SIZE(map) - 1;

	n = MIN(n, max);
	memcpy(out, map, n * sizeof(*out));
	return n;
}

static const char *create_devices(struct vm *vm, struct vm_devices *d)
{
	if (!(d->uart = vuart_create(vm)))
		return "cannot create its 16550 UART";
	if (!(d->debug_exit = vdebug_exit_create(vm)))
		return "cannot create its debug-exit port";
	if (!(d->pic = vpic_create(vm)))
		return "cannot create its 8259 PICs";
	if (!(d->pm = vpm_create(vm)))
		return "cannot create its ACPI PM timer (is the TSC frequency known?)";
	if (!(d->fw_cfg = vfw_cfg_create(vm)))
		return "cannot create its fw_cfg device";
	if (!(d->pci = vpci_create(vm)))
		return "cannot create its PCI configuration ports";
	if (!(d->lapic = vlapic_create(vm)))
		return "cannot create its local APIC";
	if (!(d->pc_testdev = vpc_testdev_create(vm)))
		return "cannot create its pc-testdev";
	if (!(d->testdev = vtestdev_create(vm)))
		return "cannot create its Vireo test device";
	if (!(d->ioapic = vioapic_create(vm)))
		return "cannot create its I/O APIC";
	if (!(d->pit = vpit_create(vm)))
		return "cannot create its 8254 PIT";
	if (!(d->rtc = vrtc_create(vm, rtc_host_epoch_seconds())))
		return "cannot create its CMOS RTC";
	if (!(d->i8042 = vi8042_create(vm)))
		return "cannot create its i8042 keyboard controller";
	return vacpi_write_tables(vm);
}

const char *vdev_platform_create(struct vm *vm)
{
	if (vm->ram_bytes < VDEV_RAM_HIGH_BASE || vm->ram_bytes > VDEV_RAM_MAX_BYTES)
		return "its RAM size does not fit the virtual platform (from 1 MiB to the MMIO hole)";
	vm->devices = kmalloc(sizeof(*vm->devices));
	if (!vm->devices)
		return "out of memory for its virtual devices";
	const char *error = create_devices(vm, vm->devices);
	if (error)
		vdev_platform_destroy(vm);
	return error;
}

void vdev_platform_destroy(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	if (!d)
		return;
	vuart_destroy(d->uart);
	vdebug_exit_destroy(d->debug_exit);
	vpic_destroy(d->pic);
	vpm_destroy(d->pm);
	vfw_cfg_destroy(d->fw_cfg);
	vpci_destroy(d->pci);
	vlapic_destroy(d->lapic);
	vpc_testdev_destroy(d->pc_testdev);
	vtestdev_destroy(d->testdev);
	vioapic_destroy(d->ioapic);
	vpit_destroy(d->pit);
	vrtc_destroy(d->rtc);
	vi8042_destroy(d->i8042);
	kfree(d);
	vm->devices = NULL;
	vtimers_clear(vm);
}

/* The LAPIC and UART entry points may come before the platform exists or after it is
 * gone (a VM that failed to start): reads are then 0 and writes dropped. */
bool vlapic_read(struct vm *vm, u32 offset, u64 *value)
{
	return vm->devices && vlapic_msr_read(vm->devices->lapic, offset, value);
}

bool vlapic_write(struct vm *vm, u32 offset, u64 value)
{
	return vm->devices && vlapic_msr_write(vm->devices->lapic, offset, value);
}

bool vuart_input(struct vm *vm, u8 byte)
{
	return vm->devices && vuart_receive(vm->devices->uart, byte);
}

void vuart_show_prompt(struct vm *vm)
{
	if (vm->devices)
		vuart_show_unfinished_line(vm->devices->uart);
}

void vuart_flush(struct vm *vm)
{
	if (vm->devices)
		vuart_flush_line(vm->devices->uart);
}

/* ---- Time and interrupt routing (the contract in drivers/vdev.h). ---- */

/* The host TSC: every VM's devices count from it, so a guest that writes its own TSC
 * (IA32_TSC, an offset) moves no device timer. */
u64 vdev_now(const struct vm *vm)
{
	return rdtsc();
}

/* CR8 is TPR[7:4] (SDM Vol. 3A 11.8.6); reserved bits set in a write raise #GP. */
#define CR8_BITS 0xfull

bool vdev_read_cr8(struct vm *vm, u64 *value)
{
	if (!vm->devices)
		return false;
	*value = vlapic_tpr(vm->devices->lapic) >> 4;
	return true;
}

bool vdev_write_cr8(struct vm *vm, u64 value)
{
	if (!vm->devices || (value & ~CR8_BITS))
		return false;
	vlapic_set_tpr(vm->devices->lapic, (u32)(value << 4));
	return true;
}

/* IA32_TSC_DEADLINE holds a guest TSC value; the local APIC's timer runs on vdev_now(). */
bool vdev_read_tsc_deadline(struct vm *vm, u64 *value)
{
	if (!vm->devices)
		return false;
	u64 deadline = vlapic_tsc_deadline(vm->devices->lapic);
	*value = deadline ? deadline + vm->vcpu.tsc_offset : 0;
	return true;
}

bool vdev_write_tsc_deadline(struct vm *vm, u64 value)
{
	if (!vm->devices)
		return false;
	u64 deadline = 0;	/* disarms */
	if (value) {
		u64 now = rdtsc(), guest_now = now + vm->vcpu.tsc_offset;
		deadline = value <= guest_now ? now : now + (value - guest_now);	/* past: now */
	}
	vlapic_set_tsc_deadline(vm->devices->lapic, deadline);
	return true;
}

void vdev_interrupts_changed(struct vm *vm)
{
	vm->vcpu.requests |= VCPU_REQ_EVENTS;
}

/* ISA lines reach the PIC and the I/O APIC alike; the MADT tells guests that IRQ 0 is the
 * I/O APIC's input 2 (drivers/vacpi.c). */
void vdev_set_irq(struct vm *vm, unsigned line, bool high)
{
	struct vm_devices *d = vm->devices;

	if (line < VDEV_ISA_IRQS)
		vpic_set_irq(d->pic, line, high);
	vioapic_set_irq(d->ioapic, line == VDEV_IRQ_PIT ? VDEV_GSI_PIT : line, high);
	vdev_interrupts_changed(vm);
}

/* One vCPU: a message either targets its APIC or nobody. (The APIC's acceptance and
 * vdev_raise_nmi() each tell the vCPU to decide again.) */
void vdev_deliver_to_lapic(struct vm *vm, const struct vapic_message *message)
{
	struct vlapic *lapic = vm->devices->lapic;

	if (!vlapic_accepts_message(lapic, message))
		return;
	switch (message->delivery_mode) {
	case VAPIC_DELIVERY_FIXED:
	case VAPIC_DELIVERY_LOWEST:
		vlapic_accept_fixed(lapic, message->vector, message->level_triggered);
		break;
	case VAPIC_DELIVERY_NMI:
		vdev_raise_nmi(vm);
		break;
	default:	/* SMI, INIT, ExtINT through the I/O APIC: not part of this platform */
		pr_debug("vm %s: APIC message with delivery mode %u dropped\n", vm->name,
			 message->delivery_mode);
	}
}

void vdev_lapic_eoi(struct vm *vm, u8 vector)
{
	vioapic_eoi(vm->devices->ioapic, vector);
	vdev_interrupts_changed(vm);
}

void vdev_raise_nmi(struct vm *vm)
{
	vm->vcpu.nmi_pending = true;
	vdev_interrupts_changed(vm);
}

static bool pic_interrupt_pending(const struct vm_devices *d)
{
	return vlapic_accepts_pic_interrupts(d->lapic) && vpic_interrupt_pending(d->pic);
}

bool vdev_interrupt_pending(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	return d && (pic_interrupt_pending(d) || vlapic_pending_vector(d->lapic) >= 0);
}

u8 vdev_acknowledge_interrupt(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	if (pic_interrupt_pending(d))
		return vpic_acknowledge(d->pic);
	u8 vector = (u8)vlapic_pending_vector(d->lapic);
	vlapic_acknowledge(d->lapic, vector);
	return vector;
}
