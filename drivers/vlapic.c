/* The guest's local APIC, minimal: the xAPIC page at 0xfee00000 and the same registers
 * for the x2APIC MSRs. Registers hold what the guest writes (within their writable bits)
 * but nothing is ever delivered: IPIs are dropped (with one vCPU an INIT or SIPI broadcast
 * has no target anyway), the timer never counts or fires, IRR/ISR/TMR stay empty.
 * Layout and reset values: Intel SDM Vol. 3A, 11.4.1 (table 11-1), 11.5.1, 11.6.1. */
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/slab.h"
#include "vm/vm.h"

/* Register offsets; each register is 32 bits at a 16-byte aligned offset. */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_PPR 0x0a0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SPIV 0x0f0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_REGISTER_SPAN 0x400
#define APIC_REGISTER_STRIDE 0x10
#define APIC_REGISTERS (APIC_REGISTER_SPAN / APIC_REGISTER_STRIDE)
#define APIC_REGISTER_BYTES 4

#define APIC_VERSION_VALUE 0x50014	/* version 0x14, 6 LVT entries: what QEMU reports */
#define APIC_DFR_RESET 0xffffffffu	/* flat model */
#define APIC_SPIV_RESET 0xff		/* vector 0xff, APIC software-disabled */
#define APIC_SPIV_ENABLE 0x100
#define APIC_LVT_MASKED 0x10000

/* The bits software may change in each register; zero for read-only registers (version,
 * PPR, ISR/TMR/IRR, current count) and write-only ones (EOI, self IPI). Delivery-status
 * bits (12) are absent: they always read 0, nothing is ever pending. */
static const u32 writable_bits[APIC_REGISTERS] = {
	[APIC_ID / APIC_REGISTER_STRIDE] = 0xff000000,
	[APIC_TPR / APIC_REGISTER_STRIDE] = 0xff,
	[APIC_LDR / APIC_REGISTER_STRIDE] = 0xff000000,
	[APIC_DFR / APIC_REGISTER_STRIDE] = 0xf0000000,
	[APIC_SPIV / APIC_REGISTER_STRIDE] = 0x3ff,
	[APIC_ICR_LOW / APIC_REGISTER_STRIDE] = 0xccfff,
	[APIC_ICR_HIGH / APIC_REGISTER_STRIDE] = 0xff000000,
	[APIC_LVT_TIMER / APIC_REGISTER_STRIDE] = 0x700ff,
	[APIC_LVT_THERMAL / APIC_REGISTER_STRIDE] = 0x107ff,
	[APIC_LVT_PERF / APIC_REGISTER_STRIDE] = 0x107ff,
	[APIC_LVT_LINT0 / APIC_REGISTER_STRIDE] = 0x1a7ff,
	[APIC_LVT_LINT1 / APIC_REGISTER_STRIDE] = 0x1a7ff,
	[APIC_LVT_ERROR / APIC_REGISTER_STRIDE] = 0x100ff,
	[APIC_TIMER_INITIAL / APIC_REGISTER_STRIDE] = 0xffffffff,
	[APIC_TIMER_DIVIDE / APIC_REGISTER_STRIDE] = 0xb,
};

static const u16 lvt_registers[] = {
	APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1,
	APIC_LVT_ERROR,
};

struct vlapic {
	struct io_device io;
	struct vm *vm;
	u32 regs[APIC_REGISTERS];	/* indexed by offset / APIC_REGISTER_STRIDE */
};

/* offset < APIC_REGISTER_SPAN: callers pass a register name or a checked offset. */
static u32 *reg(struct vlapic *lapic, u64 offset)
{
	return &lapic->regs[offset / APIC_REGISTER_STRIDE];
}

static bool is_lvt(u64 offset)
{
	return offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR;
}

static void reset(struct vlapic *lapic)
{
	*reg(lapic, APIC_VERSION) = APIC_VERSION_VALUE;
	*reg(lapic, APIC_DFR) = APIC_DFR_RESET;
	*reg(lapic, APIC_SPIV) = APIC_SPIV_RESET;
	for (size_t i = 0; i < ARRAY_SIZE(lvt_registers); i++)
		*reg(lapic, lvt_registers[i]) = APIC_LVT_MASKED;
}

/* Offsets past the registers read 0 and ignore writes. */
static u32 register_read(const struct vlapic *lapic, u64 offset)
{
	if (offset >= APIC_REGISTER_SPAN)
		return 0;
	/* With no interrupt in service the processor priority is the task priority. */
	if (ALIGN_DOWN(offset, APIC_REGISTER_STRIDE) == APIC_PPR)
		offset = APIC_TPR;
	return lapic->regs[offset / APIC_REGISTER_STRIDE];
}

/* INIT and SIPI included: with one vCPU a broadcast has no target, and a self INIT or
 * SIPI is not something a guest can use. */
static void ipi_dropped(const struct vlapic *lapic, u32 icr_low)
{
	pr_debug("vlapic: vm %s: IPI dropped (ICR %#x, destination %#x): one vCPU and no "
		 "interrupt delivery\n", lapic->vm->name, icr_low,
		 register_read(lapic, APIC_ICR_HIGH));
}

/* A software-disabled APIC keeps every LVT entry masked (SDM 11.4.7.2). */
static void mask_all_lvts(struct vlapic *lapic)
{
	for (size_t i = 0; i < ARRAY_SIZE(lvt_registers); i++)
		*reg(lapic, lvt_registers[i]) |= APIC_LVT_MASKED;
}

static void register_write(struct vlapic *lapic, u64 offset, u32 value)
{
	if (offset >= APIC_REGISTER_SPAN)
		return;
	offset = ALIGN_DOWN(offset, APIC_REGISTER_STRIDE);
	u32 *r = reg(lapic, offset);
	u32 writable = writable_bits[offset / APIC_REGISTER_STRIDE];
	bool enabled = *reg(lapic, APIC_SPIV) & APIC_SPIV_ENABLE;

	if (is_lvt(offset) && !enabled)
		value |= APIC_LVT_MASKED;
	*r = (*r & ~writable) | (value & writable);
	if (offset == APIC_ICR_LOW)
		ipi_dropped(lapic, *r);
	if (offset == APIC_SPIV && !(*r & APIC_SPIV_ENABLE))
		mask_all_lvts(lapic);
}

bool vlapic_msr_read(const struct vlapic *lapic, u32 offset, u64 *value)
{
	*value = register_read(lapic, offset);
	if (offset == APIC_ICR_LOW)
		*value |= (u64)register_read(lapic, APIC_ICR_HIGH) << 32;
	return true;
}

/* In x2APIC mode the ICR is one 64-bit MSR with a 32-bit destination. */
bool vlapic_msr_write(struct vlapic *lapic, u32 offset, u64 value)
{
	if (offset == APIC_ICR_LOW)
		*reg(lapic, APIC_ICR_HIGH) = (u32)(value >> 32);
	register_write(lapic, offset, (u32)value);
	return true;
}

/* The SDM only defines aligned 32-bit accesses. Reads elsewhere return the bytes of the
 * register the access starts in (0 past its 4 bytes); other writes are dropped. */
static u64 lapic_mmio_read(struct io_device *dev, u64 offset, unsigned size)
{
	unsigned byte = offset % APIC_REGISTER_STRIDE;

	if (byte >= APIC_REGISTER_BYTES)
		return 0;
	u64 value = register_read(dev->opaque, offset - byte);
	return (value >> (8 * byte)) & low_bytes_mask(size);
}

static void lapic_mmio_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	if (offset % APIC_REGISTER_STRIDE == 0 && size == APIC_REGISTER_BYTES)
		register_write(dev->opaque, offset, (u32)value);
}

static const struct io_device_ops lapic_mmio_ops = {
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
};

struct vlapic *vlapic_create(struct vm *vm)
{
	struct vlapic *lapic = kmalloc(sizeof(*lapic));

	if (!lapic)
		return NULL;
	lapic->vm = vm;
	reset(lapic);
	if (!vdev_attach(&vm->mmio_bus, &lapic->io, "local APIC", VDEV_LAPIC_GPA, VDEV_LAPIC_BYTES,
			 &lapic_mmio_ops, lapic)) {
		kfree(lapic);
		return NULL;
	}
	return lapic;
}

void vlapic_destroy(struct vlapic *lapic)
{
	kfree(lapic);
}
