/* The virtual PC platform every VM sees (modelled on QEMU's pc machine where guests expect
 * it, see ../shared/notes/emulators.md): its layout, and the entry points the rest of Vireo
 * uses. The device models live in drivers/v*.c; drivers/vplatform.c wires them. */
#ifndef VIREO_DRIVERS_VDEV_H
#define VIREO_DRIVERS_VDEV_H

#include "core/bus.h"
#include "lib/types.h"

struct vm;
struct io_bus;
struct io_device;
struct io_device_ops;

/*
 * Guest-physical memory map: RAM below the EBDA, the legacy BIOS area reserved (the ACPI
 * tables live there), RAM from 1 MiB to vm->ram_bytes. The 32-bit MMIO devices sit above
 * VDEV_RAM_MAX_BYTES.
 */
#define VDEV_RAM_LOW_END 0x9fc00ull		/* 639 KiB, as multiboot's mem_lower says */
#define VDEV_RAM_HIGH_BASE 0x100000ull
#define VDEV_RAM_MAX_BYTES 0xfe000000ull	/* guest RAM must end below the MMIO devices */
#define VDEV_MEMORY_MAP_MAX 3

/* ACPI tables: the RSDP on a 16-byte boundary where guests scan for it (ACPI 6.4,
 * 5.2.5.1: 0xE0000-0xFFFFF), the other tables right after it. */
#define VDEV_ACPI_RSDP_GPA 0xe0000ull
#define VDEV_ACPI_AREA_END 0x100000ull
#define VDEV_ACPI_SLP_TYP_S5 5		/* the DSDT's \_S5_ value; PM1 control agrees */

/* Port I/O devices. */
#define VDEV_PIC_MASTER_PORT 0x20
#define VDEV_PIC_SLAVE_PORT 0xa0
#define VDEV_PIC_PORTS 2
#define VDEV_ELCR_PORT 0x4d0		/* edge/level control, one byte per PIC */
#define VDEV_ELCR_PORTS 2
#define VDEV_PC_TESTDEV_SCRATCH_PORT 0xe0	/* QEMU pc-testdev: 32-bit scratch register */
#define VDEV_PC_TESTDEV_SCRATCH_PORTS 4
#define VDEV_PC_TESTDEV_FLUSH_PORT 0xe4		/* flush-page port: accepted, ignored */
#define VDEV_PC_TESTDEV_FLUSH_PORTS 4
#define VDEV_PC_TESTDEV_IRQ_PORT 0x2000		/* IRQ line ports: accepted, ignored */
#define VDEV_PC_TESTDEV_IRQ_PORTS 24
#define VDEV_DEBUG_EXIT_PORT 0xf4	/* isa-debug-exit */
#define VDEV_DEBUG_EXIT_PORTS 4
#define VDEV_UART_PORT 0x3f8		/* COM1 16550 */
#define VDEV_UART_PORTS 8
#define VDEV_FW_CFG_PORT 0x510		/* selector; data at 0x511 */
#define VDEV_FW_CFG_PORTS 2
#define VDEV_PM1_EVENT_PORT 0x600	/* PM1a status (2 bytes) and enable (2 bytes) */
#define VDEV_PM1_EVENT_PORTS 4
#define VDEV_PM1_CONTROL_PORT 0x604	/* PM1a control (2 bytes) */
#define VDEV_PM1_CONTROL_PORTS 2
#define VDEV_PM_TIMER_PORT 0x608	/* ACPI PM timer, as QEMU places it */
#define VDEV_PM_TIMER_PORTS 4
#define VDEV_PCI_CONFIG_PORT 0xcf8	/* config address 0xcf8, data 0xcfc-0xcff */
#define VDEV_PCI_CONFIG_PORTS 8
#define VDEV_PIT_PORT 0x40		/* i8254: channels 0-2 at 0x40-0x42, command 0x43 */
#define VDEV_PIT_PORTS 4
#define VDEV_PORT_B 0x61		/* system control port B: PIT channel 2 gate and output */
#define VDEV_PORT_B_PORTS 1
#define VDEV_I8042_DATA_PORT 0x60
#define VDEV_I8042_COMMAND_PORT 0x64	/* status on reads */
#define VDEV_RTC_PORT 0x70		/* CMOS index 0x70, data 0x71 */
#define VDEV_RTC_PORTS 2
#define VDEV_RESET_CONTROL_PORT 0xcf9	/* PIIX reset control register */

/* Interrupt lines: ISA IRQs 0-15 reach both the PIC pair and the I/O APIC; the I/O APIC
 * has 24 inputs (GSIs), GSI n = ISA IRQ n except the PIT's IRQ 0, which the MADT
 * overrides to GSI 2, as on every PC since the ACPI era. */
#define VDEV_ISA_IRQS 16
#define VDEV_IOAPIC_PINS 24
#define VDEV_IRQ_PIT 0
#define VDEV_IRQ_KEYBOARD 1
#define VDEV_IRQ_UART 4
#define VDEV_IRQ_RTC 8
#define VDEV_IRQ_AUX 12			/* the i8042's aux (mouse) port */
#define VDEV_IRQ_SCI 9			/* ACPI system control interrupt */
#define VDEV_GSI_PIT 2

/*
 * The Vireo test device: one MMIO page of 8-byte registers.
 * DOORBELL (write-only) is an any-value doorbell: every write counts in the VM's
 * HC_STAT_TESTDEV_DOORBELL counter, whichever path it takes (fast MMIO bus, or decoded by
 * the emulator with fast_mmio=off). HC_STAT_TESTDEV_LAST_VALUE keeps the value of the last
 * write whose value was known: one the fast path skipped without decoding leaves it as
 * it was.
 * DOORBELL_MATCH (write-only) only counts writes of VDEV_TESTDEV_MATCH_VALUE, in
 * MATCH_COUNT (other values take the normal MMIO path and are dropped).
 * COUNT and MATCH_COUNT are read-only; SCRATCH reads back what was written.
 */
#define VDEV_TESTDEV_GPA 0xfe000000ull
#define VDEV_TESTDEV_BYTES 0x1000ull
#define VDEV_TESTDEV_DOORBELL 0x00
#define VDEV_TESTDEV_DOORBELL_MATCH 0x08
#define VDEV_TESTDEV_COUNT 0x10
#define VDEV_TESTDEV_MATCH_COUNT 0x18
#define VDEV_TESTDEV_SCRATCH 0x20
#define VDEV_TESTDEV_MATCH_VALUE 0x5a

#define VDEV_IOAPIC_GPA 0xfec00000ull	/* I/O APIC: IOREGSEL at +0, IOWIN at +0x10 */
#define VDEV_IOAPIC_BYTES 0x1000ull
#define VDEV_LAPIC_GPA 0xfee00000ull	/* xAPIC registers (SDM Vol. 3A 11.4.1) */
#define VDEV_LAPIC_BYTES 0x1000ull
#define VDEV_PC_TESTDEV_MMIO_GPA 0xff000000ull	/* QEMU pc-testdev memory-like region */
#define VDEV_PC_TESTDEV_MMIO_BYTES 0x10000ull

static_assert(VDEV_RAM_MAX_BYTES <= VDEV_TESTDEV_GPA && VDEV_RAM_MAX_BYTES <= VDEV_LAPIC_GPA &&
	      VDEV_RAM_MAX_BYTES <= VDEV_IOAPIC_GPA &&
	      VDEV_RAM_MAX_BYTES <= VDEV_PC_TESTDEV_MMIO_GPA, "guest RAM would hide an MMIO device");
static_assert(VDEV_ACPI_RSDP_GPA >= VDEV_RAM_LOW_END && VDEV_ACPI_AREA_END <= VDEV_RAM_HIGH_BASE,
	      "the ACPI tables must lie in the reserved range so guests leave them alone");

/* One memory-map range. Packed: it is both the layout of QEMU's fw_cfg "etc/e820" entries
 * and a multiboot v1 mmap entry after its size field. */
enum guest_e820_type { GUEST_E820_RAM = 1, GUEST_E820_RESERVED = 2 };
struct guest_e820 {
	u64 addr;
	u64 length;
	u32 type;			/* enum guest_e820_type */
} __packed;
static_assert(sizeof(struct guest_e820) == 20, "e820 entries are 20 bytes");

/* Fills out with at most max ranges of vm's memory map, lowest first; returns how many. */
size_t vdev_guest_memory_map(const struct vm *vm, struct guest_e820 *out, size_t max);

/* Creates every platform device for vm, registers them on vm->pio_bus, vm->mmio_bus and
 * vm->fast_mmio_bus, and writes the ACPI tables into guest RAM (which must already back
 * [0, vm->ram_bytes)). NULL on success, else why; a failed call leaves nothing allocated. */
const char *vdev_platform_create(struct vm *vm);
/* Flushes pending UART output and frees the devices (no-op if there are none). The VM's
 * buses still point at them afterwards (they have no unregister): the VM must not run
 * again. */
void vdev_platform_destroy(struct vm *vm);

/* Local APIC registers by xAPIC offset, for the x2APIC MSRs (MSR 0x800 + n is offset
 * n << 4). The ICR (0x300) is read and written whole: destination in bits 63:32. false
 * where x2APIC mode raises #GP (SDM 10.12.1.2): a reserved register, a read of a
 * write-only one (EOI, self IPI), a write to a read-only one (ID, version, PPR, LDR,
 * ISR/TMR/IRR, current count), reserved bits set where the SDM says they fault. */
bool vlapic_read(struct vm *vm, u32 offset, u64 *value);
bool vlapic_write(struct vm *vm, u32 offset, u64 value);

/* A byte typed for the VM: into its UART's receive FIFO (false when full or absent). */
bool vuart_input(struct vm *vm, u8 byte);
/* Shows the VM's unfinished output line (a prompt) once it has been quiet for a moment. */
void vuart_show_prompt(struct vm *vm);
/* MOV to and from CR8: the local APIC's task priority; false: #GP. */
bool vdev_read_cr8(struct vm *vm, u64 *value);
bool vdev_write_cr8(struct vm *vm, u64 value);
/* IA32_TSC_DEADLINE (MSR 0x6e0) in the guest's TSC; false: no platform (#GP). */
bool vdev_read_tsc_deadline(struct vm *vm, u64 *value);
bool vdev_write_tsc_deadline(struct vm *vm, u64 value);
/* Prints the UART's unfinished output line (the VM is stopping). */
void vuart_flush(struct vm *vm);

/*
 * ---- Private to drivers/v*.c: the device models that vplatform.c wires together. ----
 * Each *_create allocates its device and registers it on vm's buses; it returns NULL when
 * memory runs out or a range is taken. Each *_destroy accepts NULL.
 */
struct vuart;
struct vdebug_exit;
struct vpic;
struct vpm;
struct vfw_cfg;
struct vpci;
struct vlapic;
struct vpc_testdev;
struct vtestdev;

struct vuart *vuart_create(struct vm *vm);
void vuart_destroy(struct vuart *uart);
void vuart_flush_line(struct vuart *uart);
void vuart_show_unfinished_line(struct vuart *uart);
struct vdebug_exit *vdebug_exit_create(struct vm *vm);
void vdebug_exit_destroy(struct vdebug_exit *debug_exit);
struct vpic *vpic_create(struct vm *vm);
void vpic_destroy(struct vpic *pic);
/* Also NULL when the TSC frequency (tsc_hz) is unknown: the PM timer is derived from it. */
struct vpm *vpm_create(struct vm *vm);
void vpm_destroy(struct vpm *pm);
struct vfw_cfg *vfw_cfg_create(struct vm *vm);
void vfw_cfg_destroy(struct vfw_cfg *fw_cfg);
struct vpci *vpci_create(struct vm *vm);
void vpci_destroy(struct vpci *pci);
struct vlapic *vlapic_create(struct vm *vm);
void vlapic_destroy(struct vlapic *lapic);
bool vlapic_msr_read(const struct vlapic *lapic, u32 offset, u64 *value);
bool vlapic_msr_write(struct vlapic *lapic, u32 offset, u64 value);
struct vpc_testdev *vpc_testdev_create(struct vm *vm);
void vpc_testdev_destroy(struct vpc_testdev *testdev);
struct vtestdev *vtestdev_create(struct vm *vm);
void vtestdev_destroy(struct vtestdev *testdev);
/* Writes the ACPI tables at VDEV_ACPI_RSDP_GPA; NULL or why not. */
const char *vacpi_write_tables(struct vm *vm);

/*
 * ---- Time and interrupts: the contract between the device models and the platform. ----
 *
 * The platform clock is the host TSC: vdev_now() ticks at tsc_hz (drivers/drivers.h), and
 * every timer device (PIT, RTC, local APIC timer, PM timer) derives its time from it, so
 * they all agree with each other and advance with the guest's RDTSC (which adds only the
 * VM's TSC offset, and a guest's write to its TSC moves no device timer).
 */
u64 vdev_now(const struct vm *vm);
/* Converts between a device's clock at hz and guest TSC ticks (the product in 128 bits;
 * a result past 64 bits saturates). */
u64 vdev_ticks_to_tsc(u64 ticks, u64 hz);
u64 vdev_tsc_to_ticks(u64 tsc, u64 hz);

/*
 * A device's one-shot timer: expire() runs, at a VM exit or scheduling point at or after
 * deadline (guest TSC), once per arming; it may re-arm the timer. The platform ends the
 * guest's run no later than the earliest armed deadline (the VMX preemption timer), and a
 * halted vCPU sleeps until then. Invariant: at most VM_TIMERS_MAX timers per VM, each
 * registered once by vtimer_init() while the VM's devices are created.
 */
#define VTIMER_IDLE UINT64_MAX
struct vtimer {
	struct vm *vm;
	u64 deadline;			/* VTIMER_IDLE while not armed */
	void (*expire)(struct vtimer *timer, u64 now);
	void *opaque;
};
bool vtimer_init(struct vm *vm, struct vtimer *timer,
		 void (*expire)(struct vtimer *timer, u64 now), void *opaque);
void vtimer_arm(struct vtimer *timer, u64 deadline);
void vtimer_cancel(struct vtimer *timer);
/* Runs every expired timer of vm; returns the earliest deadline still armed (and keeps
 * it in vm->timers.earliest). */
u64 vtimers_run(struct vm *vm, u64 now);
/* A VM's devices are gone: forget their timers. */
void vtimers_clear(struct vm *vm);

/* Drives interrupt line gsi (0 to VDEV_IOAPIC_PINS - 1; ISA IRQs are GSIs 0-15 before
 * the PIT's override) to level high or low: the PIC sees ISA lines, the I/O APIC all of
 * them. An edge-triggered device pulses (high then low); a level one holds it. */
void vdev_set_irq(struct vm *vm, unsigned line, bool high);

/* An interrupt message for the local APIC (from the I/O APIC or an MSI): delivery mode
 * as in the I/O APIC redirection entry and the ICR (fixed 0, lowest priority 1, SMI 2,
 * NMI 4, INIT 5, ExtINT 7), destination as there (physical APIC ID or logical MDA). */
struct vapic_message {
	u8 vector;
	u8 delivery_mode;
	bool logical;
	bool level_triggered;
	u32 destination;
};
#define VAPIC_DELIVERY_FIXED 0
#define VAPIC_DELIVERY_LOWEST 1
#define VAPIC_DELIVERY_SMI 2
#define VAPIC_DELIVERY_NMI 4
#define VAPIC_DELIVERY_INIT 5
#define VAPIC_DELIVERY_EXTINT 7
void vdev_deliver_to_lapic(struct vm *vm, const struct vapic_message *message);
/* The local APIC's EOI of a level-triggered vector: the I/O APIC clears Remote IRR. */
void vdev_lapic_eoi(struct vm *vm, u8 vector);
/* An NMI for the vCPU (LINT1 or an NMI message). */
void vdev_raise_nmi(struct vm *vm);
/* A model changed what its interrupt output could deliver (a mask, an EOI, the TPR, an
 * acceptance): the vCPU decides again what to inject before it next enters the guest.
 * vdev_set_irq(), vdev_deliver_to_lapic() and vdev_raise_nmi() imply it. */
void vdev_interrupts_changed(struct vm *vm);

/* For the vCPU (vmexit/event.c): whether an external interrupt is pending for it (PIC
 * through LINT0 first, as the PIC's ExtINT bypasses the APIC's priorities, then the local
 * APIC), and its vector, acknowledged (the INTA cycle, or IRR to ISR). */
bool vdev_interrupt_pending(struct vm *vm);
u8 vdev_acknowledge_interrupt(struct vm *vm);

/* i8259 pair: lines 0-15 (2 is the cascade); edge or level per the ELCR. */
void vpic_set_irq(struct vpic *pic, unsigned irq, bool high);
/* The master's INT output: an unmasked request above what is in service. */
bool vpic_interrupt_pending(const struct vpic *pic);
/* The CPU's INTA cycles: the vector, moving the request to in-service (or the spurious
 * IRQ 7 / 15 vector if the request went away). */
u8 vpic_acknowledge(struct vpic *pic);

struct vioapic;
struct vioapic *vioapic_create(struct vm *vm);
void vioapic_destroy(struct vioapic *ioapic);
void vioapic_set_irq(struct vioapic *ioapic, unsigned gsi, bool high);
void vioapic_eoi(struct vioapic *ioapic, u8 vector);

/* Local APIC as the interrupt target of the vCPU. */
bool vlapic_accepts_message(const struct vlapic *lapic, const struct vapic_message *message);
void vlapic_accept_fixed(struct vlapic *lapic, u8 vector, bool level_triggered);
/* The highest requested vector the processor priority lets through, or -1. */
int vlapic_pending_vector(const struct vlapic *lapic);
/* The vCPU took vector (IRR to ISR, as the CPU does when it delivers it). */
void vlapic_acknowledge(struct vlapic *lapic, u8 vector);
/* Whether PIC interrupts reach the vCPU: the APIC is disabled (APIC_BASE or SPIV), or
 * LINT0 is an unmasked ExtINT entry (SDM 10.5.1). */
bool vlapic_accepts_pic_interrupts(const struct vlapic *lapic);
/* The TPR in any mode of the APIC (CR8's view of it). */
u32 vlapic_tpr(const struct vlapic *lapic);
void vlapic_set_tpr(struct vlapic *lapic, u32 tpr);
/* IA32_TSC_DEADLINE (MSR 0x6e0). */
u64 vlapic_tsc_deadline(const struct vlapic *lapic);
void vlapic_set_tsc_deadline(struct vlapic *lapic, u64 deadline);

struct vpit;
struct vpit *vpit_create(struct vm *vm);
void vpit_destroy(struct vpit *pit);

struct vrtc;
/* The RTC starts at epoch_seconds (wall-clock time, seconds since 1970-01-01 UTC) and
 * advances with vdev_now() from its creation. */
struct vrtc *vrtc_create(struct vm *vm, u64 epoch_seconds);
void vrtc_destroy(struct vrtc *rtc);

/* The PIIX reset control register (0xcf9), reached through drivers/vpci.c's ports. */
struct vreset;
struct vreset *vreset_create(struct vm *vm);
void vreset_destroy(struct vreset *reset);
u8 vreset_control_read(const struct vreset *reset);
void vreset_control_write(struct vreset *reset, u8 value);

struct vi8042;
struct vi8042 *vi8042_create(struct vm *vm);
void vi8042_destroy(struct vi8042 *kbc);

/* A byte typed for the guest: into the UART's receive FIFO (false when it is full). */
bool vuart_receive(struct vuart *uart, u8 byte);

/* Fills io and registers it on bus; false if its range is taken or the bus is full. */
bool vdev_attach(struct io_bus *bus, struct io_device *io, const char *name, u64 base,
		 u64 length, const struct io_device_ops *ops, void *opaque);

/* Registers that are plain bytes which read back what was written: opaque points at
 * the device's length bytes. */
extern const struct io_device_ops vdev_byte_array_ops;

/* How many bytes of an access of size bytes (at most 8) at offset lie inside dev. */
static inline unsigned vdev_bytes_inside(const struct io_device *dev, u64 offset, unsigned size)
{
	if (offset >= dev->length)
		return 0;
	return (unsigned)MIN((u64)MIN(size, 8u), dev->length - offset);
}

/* For devices made of byte-wide registers (ISA devices): an access of size bytes at
 * offset becomes size one-byte accesses at offset, offset + 1, ..., lowest first, as the
 * ISA bus splits it. The byte callbacks only ever see offsets inside the device; bytes
 * past its end read 0xff and their writes are dropped. */
typedef u8 (*vdev_read_byte_fn)(struct io_device *dev, u64 offset);
typedef void (*vdev_write_byte_fn)(struct io_device *dev, u64 offset, u8 value);
u64 vdev_read_bytewise(struct io_device *dev, u64 offset, unsigned size,
		       vdev_read_byte_fn read_byte);
void vdev_write_bytewise(struct io_device *dev, u64 offset, unsigned size, u64 value,
			 vdev_write_byte_fn write_byte);

#endif
