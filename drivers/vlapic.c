/* The guest's local APIC, for its one vCPU (Intel SDM Vol. 3A, chapter 11 "Advanced
 * Programmable Interrupt Controller (APIC)"; what guests rely on follows KVM's lapic.c):
 * the xAPIC page at 0xfee00000 (table 11-1) and the x2APIC MSRs (table 11-6).
 *
 * The mode (disabled, xAPIC, x2APIC) is IA32_APIC_BASE bits 11:10, which vmexit/msr.c
 * keeps in vm->vcpu.apic_base without telling this model: every access reads it there,
 * and the registers keep their contents across mode changes (the x2APIC LDR is derived
 * from the ID when read). Only the current mode's interface answers: the other one reads
 * as all ones with writes dropped (xAPIC page, SDM 11.12.1.2) or raises #GP (MSRs).
 *
 * Choices the SDM leaves to us:
 * - The APIC ID is 0 (one vCPU, as the MADT says) and read-only.
 * - Reset is the BSP's after the firmware set up virtual-wire mode, as KVM does: LINT0
 *   an unmasked ExtINT entry (the PIC reaches the vCPU), LINT1 an unmasked NMI entry;
 *   the other LVT entries masked, SPIV 0xff (software-disabled), DFR flat (SDM 11.4.7.1).
 * - The timer's input clock is the guest TSC: divide-by-1 counts once per tick of
 *   vdev_now() (tsc_hz), so the APIC timer, the TSC deadline and RDTSC share one clock.
 * - A late periodic timer raises one interrupt and keeps its phase: no backlog.
 * - An interrupt whose IRR bit is already set is coalesced into it, silently.
 * - Delivery is immediate: delivery-status bits (12) always read 0. IPIs other than to
 *   self are dropped (there is no other vCPU), and so are self IPIs other than fixed and
 *   NMI. No EOI-broadcast suppression (version bit 24 clear), no CMCI entry, no APR.
 * - IPIs are edge-triggered: the ICR trigger bit only matters for INIT de-assert (11.6.1).
 */
#include "arch/x86/cpu.h"
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/bitmap.h"
#include "lib/log.h"
#include "lib/slab.h"

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.1). */
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)

/* Register offsets (table 11-1); each register is 32 bits at a 16-byte aligned offset. The
 * x2APIC MSR 0x800 + n is offset n << 4 (table 11-6). */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_EOI 0x0b0
#define APIC_RRD 0x0c0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SPIV 0x0f0
#define APIC_ISR 0x100			/* ISR, TMR, IRR: eight registers each */
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_FIRST 0x320		/* timer, thermal, perf, LINT0, LINT1, error */
#define APIC_LVT_LAST 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_SELF_IPI 0x3f0		/* x2APIC only */
#define APIC_REGISTER_SPAN 0x400
#define APIC_REGISTER_STRIDE 0x10
#define APIC_REGISTERS (APIC_REGISTER_SPAN / APIC_REGISTER_STRIDE)
#define APIC_REGISTER_BYTES 4
#define APIC_VECTOR_SET_REGISTERS 8	/* 256 bits in 32-bit registers */
#define REG(offset) ((offset) / APIC_REGISTER_STRIDE)

#define APIC_OWN_ID 0u
/* Version 0x14, max LVT entry 5 (six entries, no CMCI), bit 24 clear: no EOI-broadcast
 * suppression (11.4.8). QEMU reports the same. */
#define APIC_VERSION_VALUE 0x50014u
#define APIC_PRIORITY_CLASS 0xf0u	/* bits 7:4 of a vector, TPR or PPR (11.8.3) */
#define APIC_VECTOR_MASK 0xffu
#define APIC_FIRST_LEGAL_VECTOR 16	/* 0-15 are illegal (11.5.3) */
#define APIC_XAPIC_ID_SHIFT 24		/* ID, LDR and ICR destination: bits 31:24 */
#define APIC_XAPIC_BROADCAST 0xffu
#define APIC_X2APIC_BROADCAST 0xffffffffu
#define APIC_DFR_MODEL_SHIFT 28
#define APIC_DFR_MODEL_CLUSTER 0x0u	/* else flat (0xf) */
#define APIC_DFR_WRITABLE 0xf0000000u
#define APIC_DFR_RESET 0xf0000000u	/* flat model */
#define APIC_DFR_RESERVED_ONES 0x0fffffffu
#define APIC_LDR_WRITABLE 0xff000000u
#define APIC_SPIV_RESET 0xffu
#define APIC_SPIV_ENABLE 0x100u
#define APIC_SPIV_WRITABLE 0x3ffu	/* vector, enable, focus; bit 12 unsupported */

/* ESR bits (figure 11-9). */
#define APIC_ESR_SEND_ILLEGAL_VECTOR BIT(5)
#define APIC_ESR_RECEIVE_ILLEGAL_VECTOR BIT(6)
#define APIC_ESR_ILLEGAL_REGISTER BIT(7)

/* ICR (figure 11-12); in x2APIC mode one 64-bit MSR whose reserved bits fault (11.12.9). */
#define APIC_ICR_DELIVERY_MODE_SHIFT 8
#define APIC_ICR_LOGICAL BIT(11)
#define APIC_ICR_SHORTHAND_SHIFT 18
#define APIC_ICR_WRITABLE 0xccfffu	/* no delivery status (12), bits 13, 16-17, 20-31 */
#define APIC_ICR_HIGH_WRITABLE 0xff000000u
#define APIC_X2APIC_ICR_RESERVED (BITS(31, 20) | BITS(17, 16) | BIT(13))
enum ipi_shorthand { IPI_NO_SHORTHAND, IPI_SELF, IPI_ALL_INCLUDING_SELF, IPI_ALL_EXCLUDING_SELF };

/* LVT entries (figure 11-8), indexed from APIC_LVT_FIRST. */
enum lvt_index { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };
static_assert(APIC_LVT_FIRST + (LVT_COUNT - 1) * APIC_REGISTER_STRIDE == APIC_LVT_LAST,
	      "one LVT entry per register");
#define APIC_LVT_DELIVERY_MODE_SHIFT 8
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_TIMER_MODE_SHIFT 17
#define APIC_LVT_LINT0_RESET (VAPIC_DELIVERY_EXTINT << APIC_LVT_DELIVERY_MODE_SHIFT)
#define APIC_LVT_LINT1_RESET (VAPIC_DELIVERY_NMI << APIC_LVT_DELIVERY_MODE_SHIFT)
/* Vector, delivery mode, polarity, trigger mode, mask, timer mode as each entry has them;
 * delivery status (12) and remote IRR (14) stay 0. */
static const u32 lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
};

/* LVT timer bits 18:17 (11.5.4); mode 3 is reserved and counts as one-shot here. */
enum timer_mode { TIMER_ONE_SHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE };
#define APIC_TIMER_DIVIDE_WRITABLE 0xbu	/* bits 3, 1:0 (figure 11-10) */

/* Which interface has each register, and how (tables 11-1 and 11-6); 0: reserved. An
 * xAPIC register without the read (write) bit reads 0 (ignores writes); an x2APIC one
 * raises #GP. */
#define XAPIC_READ BIT(0)
#define XAPIC_WRITE BIT(1)
#define X2APIC_READ BIT(2)
#define X2APIC_WRITE BIT(3)
#define BOTH_READ (XAPIC_READ | X2APIC_READ)
#define BOTH_READ_WRITE (XAPIC_READ | XAPIC_WRITE | X2APIC_READ | X2APIC_WRITE)
static const u8 register_access[APIC_REGISTERS] = {
	[REG(APIC_ID)] = BOTH_READ,
	[REG(APIC_VERSION)] = BOTH_READ,
	[REG(APIC_TPR)] = BOTH_READ_WRITE,
	[REG(APIC_APR)] = XAPIC_READ,
	[REG(APIC_PPR)] = BOTH_READ,
	[REG(APIC_EOI)] = XAPIC_WRITE | X2APIC_WRITE,
	[REG(APIC_RRD)] = XAPIC_READ,
	[REG(APIC_LDR)] = XAPIC_READ | XAPIC_WRITE | X2APIC_READ,
	[REG(APIC_DFR)] = XAPIC_READ | XAPIC_WRITE,
	[REG(APIC_SPIV)] = BOTH_READ_WRITE,
	[REG(APIC_ISR) ... REG(APIC_IRR) + APIC_VECTOR_SET_REGISTERS - 1] = BOTH_READ,
	[REG(APIC_ESR)] = BOTH_READ_WRITE,
	[REG(APIC_ICR_LOW)] = BOTH_READ_WRITE,
	[REG(APIC_ICR_HIGH)] = XAPIC_READ | XAPIC_WRITE,
	[REG(APIC_LVT_FIRST) ... REG(APIC_LVT_LAST)] = BOTH_READ_WRITE,
	[REG(APIC_TIMER_INITIAL)] = BOTH_READ_WRITE,
	[REG(APIC_TIMER_CURRENT)] = BOTH_READ,
	[REG(APIC_TIMER_DIVIDE)] = BOTH_READ_WRITE,
	[REG(APIC_SELF_IPI)] = X2APIC_WRITE,
};

enum apic_mode { APIC_DISABLED, APIC_XAPIC, APIC_X2APIC };

#define VECTOR_WORDS BITMAP_WORDS(256)

struct apic_timer {
	struct vtimer vtimer;
	u32 initial_count;
	u32 divide_config;
	u64 start;		/* guest TSC when the count last held initial_count */
	u64 tsc_deadline;	/* IA32_TSC_DEADLINE: 0 while disarmed */
};

struct vlapic {
	struct io_device io;
	struct vm *vm;
	u64 irr[VECTOR_WORDS], isr[VECTOR_WORDS], tmr[VECTOR_WORDS];
	u32 tpr, spiv, ldr, dfr;
	u32 esr;		/* what the last ESR write latched */
	u32 errors;		/* found since then */
	bool error_interrupt_armed;	/* re-armed by ESR writes (11.5.3) */
	u32 icr_low, icr_high;	/* icr_high: the xAPIC ICR[63:32] or the x2APIC destination */
	u32 lvt[LVT_COUNT];
	struct apic_timer timer;
};

static enum apic_mode apic_mode(const struct vlapic *lapic)
{
	u64 base = lapic->vm->vcpu.apic_base;

	if (!(base & APIC_BASE_ENABLE))
		return APIC_DISABLED;
	return base & APIC_BASE_X2APIC ? APIC_X2APIC : APIC_XAPIC;
}

static bool software_enabled(const struct vlapic *lapic)
{
	return lapic->spiv & APIC_SPIV_ENABLE;
}

/* ---- Vector sets and priorities (11.8.3, 11.8.4) ---- */

static int highest_vector(const u64 *set)
{
	for (int word = VECTOR_WORDS - 1; word >= 0; word--) {
		if (set[word])
			return word * BITS_PER_WORD + 63 - __builtin_clzll(set[word]);
	}
	return -1;
}

/* Register index (0-7) of a 256-bit set: vectors 32 * index to 32 * index + 31. */
static u32 vector_set_register(const u64 *set, unsigned index)
{
	return (u32)(set[index / 2] >> (32 * (index % 2)));
}

static u32 priority_class(int vector)
{
	return vector < 0 ? 0 : (u32)vector & APIC_PRIORITY_CLASS;
}

/* PPR: the TPR, unless the highest vector in service is in a higher class (11.8.3.1). */
static u32 processor_priority(const struct vlapic *lapic)
{
	u32 in_service_class = priority_class(highest_vector(lapic->isr));

	return (lapic->tpr & APIC_PRIORITY_CLASS) >= in_service_class ? lapic->tpr
								      : in_service_class;
}

/* ---- Errors (11.5.3) ---- */

static void deliver_local_interrupt(struct vlapic *lapic, enum lvt_index index);

/* One error interrupt until the next ESR write; that also bounds the recursion when the
 * error entry's own vector is illegal. */
static void record_error(struct vlapic *lapic, u32 error)
{
	lapic->errors |= error;
	if (!lapic->error_interrupt_armed)
		return;
	lapic->error_interrupt_armed = false;
	deliver_local_interrupt(lapic, LVT_ERROR);
}

static void write_esr(struct vlapic *lapic)
{
	lapic->esr = lapic->errors;
	lapic->errors = 0;
	lapic->error_interrupt_armed = true;
}

/* ---- Interrupt acceptance and delivery to the vCPU ---- */

void vlapic_accept_fixed(struct vlapic *lapic, u8 vector, bool level_triggered)
{
	if (apic_mode(lapic) == APIC_DISABLED)
		return;
	if (vector < APIC_FIRST_LEGAL_VECTOR) {
		record_error(lapic, APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
		return;
	}
	bitmap_set_bit(lapic->irr, vector);	/* already set: coalesced */
	vdev_interrupts_changed(lapic->vm);
	if (level_triggered)
		bitmap_set_bit(lapic->tmr, vector);
	else
		bitmap_clear_bit(lapic->tmr, vector);
}

/* A software-disabled APIC holds its requests (11.4.7.2). */
int vlapic_pending_vector(const struct vlapic *lapic)
{
	if (apic_mode(lapic) == APIC_DISABLED || !software_enabled(lapic))
		return -1;
	int vector = highest_vector(lapic->irr);
	if (priority_class(vector) <= (processor_priority(lapic) & APIC_PRIORITY_CLASS))
		return -1;
	return vector;
}

/* A vector that is not requested (any more) moves nothing. */
void vlapic_acknowledge(struct vlapic *lapic, u8 vector)
{
	if (!bitmap_test_bit(lapic->irr, vector))
		return;
	bitmap_clear_bit(lapic->irr, vector);
	bitmap_set_bit(lapic->isr, vector);
}

/* EOI ends the highest vector in service; a level-triggered one tells the I/O APIC. */
static void end_of_interrupt(struct vlapic *lapic)
{
	int vector = highest_vector(lapic->isr);

	if (vector < 0)
		return;
	bitmap_clear_bit(lapic->isr, (size_t)vector);
	if (bitmap_test_bit(lapic->tmr, (size_t)vector))
		vdev_lapic_eoi(lapic->vm, (u8)vector);
}

static unsigned lvt_delivery_mode(u32 lvt)
{
	return (lvt >> APIC_LVT_DELIVERY_MODE_SHIFT) & 7;
}

bool vlapic_accepts_pic_interrupts(const struct vlapic *lapic)
{
	u32 lint0 = lapic->lvt[LVT_LINT0];

	return apic_mode(lapic) == APIC_DISABLED ||
	       (!(lint0 & APIC_LVT_MASKED) && lvt_delivery_mode(lint0) == VAPIC_DELIVERY_EXTINT);
}

/* The timer and error entries have no delivery mode: fixed, edge-triggered. */
static void deliver_local_interrupt(struct vlapic *lapic, enum lvt_index index)
{
	u32 lvt = lapic->lvt[index];

	if (!(lvt & APIC_LVT_MASKED))
		vlapic_accept_fixed(lapic, (u8)(lvt & APIC_VECTOR_MASK), false);
}

/* ---- Destinations (11.6.2; x2APIC 11.12.10) ---- */

/* The x2APIC LDR: cluster ID[19:4] in bits 31:16, bit ID[3:0] set in 15:0 (11.12.10.2). */
static u32 x2apic_ldr(void)
{
	return (APIC_OWN_ID >> 4) << 16 | 1u << (APIC_OWN_ID & 0xf);
}

static bool x2apic_logical_match(u32 destination)
{
	u32 ldr = x2apic_ldr();

	return destination >> 16 == ldr >> 16 && (destination & ldr & 0xffff);
}

/* Flat: any common bit; cluster: the same cluster (bits 7:4) and a common bit in 3:0. */
static bool xapic_logical_match(const struct vlapic *lapic, u8 destination)
{
	u8 logical_id = (u8)(lapic->ldr >> APIC_XAPIC_ID_SHIFT);

	if (lapic->dfr >> APIC_DFR_MODEL_SHIFT != APIC_DFR_MODEL_CLUSTER)
		return destination & logical_id;
	return destination >> 4 == logical_id >> 4 && (destination & logical_id & 0xf);
}

/* xAPIC destinations are 8 bits wide, x2APIC ones 32. */
static bool destination_matches(const struct vlapic *lapic, u32 destination, bool logical)
{
	if (apic_mode(lapic) == APIC_X2APIC) {
		if (destination == APIC_X2APIC_BROADCAST)
			return true;
		return logical ? x2apic_logical_match(destination) : destination == APIC_OWN_ID;
	}
	destination &= APIC_XAPIC_BROADCAST;
	if (destination == APIC_XAPIC_BROADCAST)
		return true;
	return logical ? xapic_logical_match(lapic, (u8)destination) : destination == APIC_OWN_ID;
}

/* Messages come from the I/O APIC or MSIs, whose destinations are 8 bits: their 0xff
 * broadcast stays one in x2APIC mode (as KVM has it). */
bool vlapic_accepts_message(const struct vlapic *lapic, const struct vapic_message *message)
{
	u32 destination = message->destination;

	if (apic_mode(lapic) == APIC_DISABLED)
		return false;
	if (apic_mode(lapic) == APIC_X2APIC && destination == APIC_XAPIC_BROADCAST)
		destination = APIC_X2APIC_BROADCAST;
	return destination_matches(lapic, destination, message->logical);
}

/* ---- IPIs (11.6) ---- */

static u32 icr_destination(const struct vlapic *lapic)
{
	if (apic_mode(lapic) == APIC_X2APIC)
		return lapic->icr_high;
	return lapic->icr_high >> APIC_XAPIC_ID_SHIFT;
}

static bool ipi_reaches_self(const struct vlapic *lapic, u32 icr)
{
	switch ((enum ipi_shorthand)((icr >> APIC_ICR_SHORTHAND_SHIFT) & 3)) {
	case IPI_SELF:
	case IPI_ALL_INCLUDING_SELF:
		return true;
	case IPI_ALL_EXCLUDING_SELF:
		return false;
	case IPI_NO_SHORTHAND:
	default:
		return destination_matches(lapic, icr_destination(lapic), icr & APIC_ICR_LOGICAL);
	}
}

/* With one vCPU, lowest priority delivery is fixed delivery to this APIC. */
static void send_ipi(struct vlapic *lapic, u32 icr)
{
	unsigned mode = (icr >> APIC_ICR_DELIVERY_MODE_SHIFT) & 7;
	bool fixed = mode == VAPIC_DELIVERY_FIXED || mode == VAPIC_DELIVERY_LOWEST;
	u8 vector = (u8)(icr & APIC_VECTOR_MASK);

	if (fixed && vector < APIC_FIRST_LEGAL_VECTOR) {
		record_error(lapic, APIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (!ipi_reaches_self(lapic, icr)) {
		pr_debug("vlapic: vm %s: IPI dropped (ICR %#x, destination %#x): one vCPU\n",
			 lapic->vm->name, icr, icr_destination(lapic));
		return;
	}
	if (fixed)
		vlapic_accept_fixed(lapic, vector, false);
	else if (mode == VAPIC_DELIVERY_NMI)
		vdev_raise_nmi(lapic->vm);
	else
		pr_debug("vlapic: vm %s: self IPI with delivery mode %u dropped\n",
			 lapic->vm->name, mode);
}

/* ---- Timer (11.5.4) ---- */

static enum timer_mode timer_mode_of(u32 lvt_timer)
{
	unsigned mode = (lvt_timer >> APIC_LVT_TIMER_MODE_SHIFT) & 3;

	return mode == TIMER_PERIODIC || mode == TIMER_TSC_DEADLINE ? mode : TIMER_ONE_SHOT;
}

static enum timer_mode timer_mode(const struct vlapic *lapic)
{
	return timer_mode_of(lapic->lvt[LVT_TIMER]);
}

/* Divide configuration bits 3, 1:0: 000 divides by 2, 001 by 4, ... 110 by 128, 111 by 1
 * (figure 11-10). */
static u64 timer_divisor(u32 divide_config)
{
	unsigned code = (divide_config & 3) | ((divide_config >> 1) & 4);

	return 1ull << ((code + 1) & 7);
}

/* Guest TSC ticks from initial_count to 0; 0 when the timer does not count. At most
 * 2^32 * 128, so no product below overflows. */
static u64 timer_period(const struct apic_timer *timer)
{
	return timer->initial_count * timer_divisor(timer->divide_config);
}

/* Invariant: the clock never goes back, so now - start is the time since the count was
 * loaded (modulo 2^64, which a divide change may rely on, see write_divide_config()). */
static u32 current_count(const struct vlapic *lapic, u64 now)
{
	const struct apic_timer *timer = &lapic->timer;

	if (timer_mode(lapic) == TIMER_TSC_DEADLINE || !timer->initial_count)
		return 0;
	u64 counted = (now - timer->start) / timer_divisor(timer->divide_config);
	if (timer_mode(lapic) == TIMER_PERIODIC)
		counted %= timer->initial_count;
	else if (counted >= timer->initial_count)
		return 0;
	return timer->initial_count - (u32)counted;
}

/*
 * Arms the vtimer for the next time the count reaches 0 or the TSC deadline. Invariant:
 * the vtimer is armed only while the timer counts (an initial count in one-shot or
 * periodic mode) or a deadline is set, so timer_expired() sees a non-zero period.
 */
static void timer_schedule(struct vlapic *lapic, u64 now)
{
	struct apic_timer *timer = &lapic->timer;
	u64 period = timer_period(timer);
	u64 elapsed = now - timer->start;

	if (timer_mode(lapic) == TIMER_TSC_DEADLINE) {
		if (timer->tsc_deadline)
			vtimer_arm(&timer->vtimer, timer->tsc_deadline);
		else
			vtimer_cancel(&timer->vtimer);
	} else if (!period) {
		vtimer_cancel(&timer->vtimer);
	} else if (timer_mode(lapic) == TIMER_PERIODIC) {
		vtimer_arm(&timer->vtimer, timer->start + (elapsed / period + 1) * period);
	} else if (elapsed < period) {
		vtimer_arm(&timer->vtimer, timer->start + period);
	}
	/* A one-shot count at 0 has expired, or its expiry is due at the armed deadline. */
}

/* A deadline fires once and clears IA32_TSC_DEADLINE (11.5.4.1); a periodic count
 * reloads at the last period boundary, so a late expiry is one interrupt. */
static void timer_expired(struct vtimer *vtimer, u64 now)
{
	struct vlapic *lapic = vtimer->opaque;
	struct apic_timer *timer = &lapic->timer;

	if (timer_mode(lapic) == TIMER_TSC_DEADLINE) {
		timer->tsc_deadline = 0;
	} else if (timer_mode(lapic) == TIMER_PERIODIC) {
		u64 period = timer_period(timer);
		timer->start += (now - timer->start) / period * period;
		vtimer_arm(vtimer, timer->start + period);
	}
	deliver_local_interrupt(lapic, LVT_TIMER);	/* a masked timer counts all the same */
}

/* Ignored in TSC-deadline mode (11.5.4.1); 0 stops the timer. */
static void write_initial_count(struct vlapic *lapic, u32 count)
{
	struct apic_timer *timer = &lapic->timer;

	if (timer_mode(lapic) == TIMER_TSC_DEADLINE)
		return;
	timer->initial_count = count;
	timer->start = vdev_now(lapic->vm);
	timer_schedule(lapic, timer->start);
}

/* A running count goes on from where it is at the new rate. */
static void write_divide_config(struct vlapic *lapic, u32 value)
{
	struct apic_timer *timer = &lapic->timer;
	u64 now = vdev_now(lapic->vm);
	u32 remaining = current_count(lapic, now);

	timer->divide_config = value & APIC_TIMER_DIVIDE_WRITABLE;
	if (!remaining)
		return;
	timer->start = now - (u64)(timer->initial_count - remaining) *
			     timer_divisor(timer->divide_config);
	timer_schedule(lapic, now);
}

/* Entering or leaving TSC-deadline mode disarms the timer (11.5.4.1: the initial count
 * and the deadline are cleared, as KVM does); between one-shot and periodic the count
 * goes on in the new mode. */
static void timer_mode_changed(struct vlapic *lapic, enum timer_mode old_mode)
{
	struct apic_timer *timer = &lapic->timer;

	if ((old_mode == TIMER_TSC_DEADLINE) != (timer_mode(lapic) == TIMER_TSC_DEADLINE)) {
		timer->initial_count = 0;
		timer->tsc_deadline = 0;
	}
	timer_schedule(lapic, vdev_now(lapic->vm));
}

u64 vlapic_tsc_deadline(const struct vlapic *lapic)
{
	return timer_mode(lapic) == TIMER_TSC_DEADLINE ? lapic->timer.tsc_deadline : 0;
}

/* Outside TSC-deadline mode writes are ignored; 0 disarms; a past deadline fires at the
 * next run of the VM's timers. */
void vlapic_set_tsc_deadline(struct vlapic *lapic, u64 deadline)
{
	if (timer_mode(lapic) != TIMER_TSC_DEADLINE)
		return;
	lapic->timer.tsc_deadline = deadline;
	timer_schedule(lapic, vdev_now(lapic->vm));
}

/* ---- Registers ---- */

/* A software-disabled APIC keeps every LVT entry masked (11.4.7.2). */
static void write_lvt(struct vlapic *lapic, enum lvt_index index, u32 value)
{
	enum timer_mode old_timer_mode = timer_mode(lapic);

	value &= lvt_writable[index];
	if (!software_enabled(lapic))
		value |= APIC_LVT_MASKED;
	lapic->lvt[index] = value;
	if (index == LVT_TIMER && timer_mode(lapic) != old_timer_mode)
		timer_mode_changed(lapic, old_timer_mode);
}

static void write_spiv(struct vlapic *lapic, u32 value)
{
	lapic->spiv = value & APIC_SPIV_WRITABLE;
	if (software_enabled(lapic))
		return;
	for (size_t i = 0; i < LVT_COUNT; i++)
		lapic->lvt[i] |= APIC_LVT_MASKED;
}

/* offset: a register's, below APIC_REGISTER_SPAN. In the current mode's format. */
static u32 register_read(const struct vlapic *lapic, u32 offset)
{
	bool x2apic = apic_mode(lapic) == APIC_X2APIC;

	switch (offset) {
	case APIC_ID:
		return x2apic ? APIC_OWN_ID : APIC_OWN_ID << APIC_XAPIC_ID_SHIFT;
	case APIC_VERSION:
		return APIC_VERSION_VALUE;
	case APIC_TPR:
		return lapic->tpr;
	case APIC_PPR:
		return processor_priority(lapic);
	case APIC_LDR:
		return x2apic ? x2apic_ldr() : lapic->ldr;
	case APIC_DFR:
		return lapic->dfr | APIC_DFR_RESERVED_ONES;
	case APIC_SPIV:
		return lapic->spiv;
	case APIC_ISR ... APIC_TMR - 1:
		return vector_set_register(lapic->isr, REG(offset - APIC_ISR));
	case APIC_TMR ... APIC_IRR - 1:
		return vector_set_register(lapic->tmr, REG(offset - APIC_TMR));
	case APIC_IRR ... APIC_ESR - 1:
		return vector_set_register(lapic->irr, REG(offset - APIC_IRR));
	case APIC_ESR:
		return lapic->esr;
	case APIC_ICR_LOW:
		return lapic->icr_low;
	case APIC_ICR_HIGH:
		return lapic->icr_high;
	case APIC_LVT_FIRST ... APIC_LVT_LAST:
		return lapic->lvt[REG(offset - APIC_LVT_FIRST)];
	case APIC_TIMER_INITIAL:
		return lapic->timer.initial_count;
	case APIC_TIMER_CURRENT:
		return current_count(lapic, vdev_now(lapic->vm));
	case APIC_TIMER_DIVIDE:
		return lapic->timer.divide_config;
	default:
		return 0;	/* APR and remote read: no arbitration, no remote reads */
	}
}

/* offset: a register the current mode lets software write. */
/* Every write may change what the APIC can deliver (TPR, EOI, a self IPI, masks): the
 * vCPU decides again before it enters the guest (vdev_interrupts_changed()). */
static void register_write(struct vlapic *lapic, u32 offset, u32 value)
{
	vdev_interrupts_changed(lapic->vm);
	switch (offset) {
	case APIC_TPR:
		lapic->tpr = value & APIC_VECTOR_MASK;
		break;
	case APIC_EOI:
		end_of_interrupt(lapic);
		break;
	case APIC_LDR:
		lapic->ldr = value & APIC_LDR_WRITABLE;
		break;
	case APIC_DFR:
		lapic->dfr = value & APIC_DFR_WRITABLE;
		break;
	case APIC_SPIV:
		write_spiv(lapic, value);
		break;
	case APIC_ESR:
		write_esr(lapic);
		break;
	case APIC_ICR_LOW:
		lapic->icr_low = value & APIC_ICR_WRITABLE;
		send_ipi(lapic, lapic->icr_low);
		break;
	case APIC_ICR_HIGH:
		lapic->icr_high = value & APIC_ICR_HIGH_WRITABLE;
		break;
	case APIC_LVT_FIRST ... APIC_LVT_LAST:
		write_lvt(lapic, REG(offset - APIC_LVT_FIRST), value);
		break;
	case APIC_TIMER_INITIAL:
		write_initial_count(lapic, value);
		break;
	case APIC_TIMER_DIVIDE:
		write_divide_config(lapic, value);
		break;
	case APIC_SELF_IPI:
		send_ipi(lapic, IPI_SELF << APIC_ICR_SHORTHAND_SHIFT | (value & APIC_VECTOR_MASK));
		break;
	default:
		break;
	}
}

/* ---- The x2APIC MSRs (11.12.1) ---- */

static bool x2apic_allows(const struct vlapic *lapic, u32 offset, u8 access)
{
	return apic_mode(lapic) == APIC_X2APIC && offset < APIC_REGISTER_SPAN &&
	       offset % APIC_REGISTER_STRIDE == 0 && (register_access[REG(offset)] & access);
}

u32 vlapic_tpr(const struct vlapic *lapic)
{
	return lapic->tpr;
}

void vlapic_set_tpr(struct vlapic *lapic, u32 tpr)
{
	register_write(lapic, APIC_TPR, tpr);
}

bool vlapic_msr_read(const struct vlapic *lapic, u32 offset, u64 *value)
{
	if (!x2apic_allows(lapic, offset, X2APIC_READ))
		return false;
	*value = register_read(lapic, offset);
	if (offset == APIC_ICR_LOW)
		*value |= (u64)lapic->icr_high << 32;
	return true;
}

/* Table 11-6: EOI and ESR take only 0; the ICR's reserved bits fault. Other registers
 * ignore bits 63:32, as KVM does. */
bool vlapic_msr_write(struct vlapic *lapic, u32 offset, u64 value)
{
	if (!x2apic_allows(lapic, offset, X2APIC_WRITE))
		return false;
	if ((offset == APIC_EOI || offset == APIC_ESR) && value)
		return false;
	if (offset == APIC_ICR_LOW) {
		if (value & APIC_X2APIC_ICR_RESERVED)
			return false;
		lapic->icr_high = (u32)(value >> 32);
	}
	register_write(lapic, offset, (u32)value);
	return true;
}

/* ---- The xAPIC page (11.4.1) ---- */

/* Accesses to a reserved register set the illegal register address error (11.5.3). */
static bool xapic_register_exists(struct vlapic *lapic, u64 offset)
{
	if (offset < APIC_REGISTER_SPAN &&
	    (register_access[REG(offset)] & (XAPIC_READ | XAPIC_WRITE)))
		return true;
	record_error(lapic, APIC_ESR_ILLEGAL_REGISTER);
	return false;
}

/* The SDM only defines aligned 32-bit accesses. Reads elsewhere return the bytes of the
 * register the access starts in (0 past its 4 bytes); other writes are dropped. Outside
 * xAPIC mode the page is not there: reads find all ones (11.12.1.2). */
static u64 lapic_mmio_read(struct io_device *dev, u64 offset, unsigned size)
{
	struct vlapic *lapic = dev->opaque;
	unsigned byte = offset % APIC_REGISTER_STRIDE;
	u64 register_offset = offset - byte;

	if (apic_mode(lapic) != APIC_XAPIC)
		return low_bytes_mask(size);
	if (!xapic_register_exists(lapic, register_offset) || byte >= APIC_REGISTER_BYTES ||
	    !(register_access[REG(register_offset)] & XAPIC_READ))
		return 0;
	u64 value = register_read(lapic, (u32)register_offset);
	return (value >> (8 * byte)) & low_bytes_mask(size);
}

static void lapic_mmio_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vlapic *lapic = dev->opaque;

	if (apic_mode(lapic) != APIC_XAPIC || offset % APIC_REGISTER_STRIDE ||
	    size != APIC_REGISTER_BYTES)
		return;
	if (xapic_register_exists(lapic, offset) && (register_access[REG(offset)] & XAPIC_WRITE))
		register_write(lapic, (u32)offset, (u32)value);
}

static const struct io_device_ops lapic_mmio_ops = {
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
};

/* ---- Life cycle ---- */

/* kmalloc'd memory is not zeroed: everything not set here is 0 at reset. */
static void reset(struct vlapic *lapic, struct vm *vm)
{
	*lapic = (struct vlapic){
		.vm = vm,
		.spiv = APIC_SPIV_RESET,
		.dfr = APIC_DFR_RESET,
		.error_interrupt_armed = true,
	};
	for (size_t i = 0; i < LVT_COUNT; i++)
		lapic->lvt[i] = APIC_LVT_MASKED;
	lapic->lvt[LVT_LINT0] = APIC_LVT_LINT0_RESET;
	lapic->lvt[LVT_LINT1] = APIC_LVT_LINT1_RESET;
}

/* Invariant (drivers/vdev.h): the VM never runs its timers after a failed creation or a
 * destroy, so the registered vtimer may go with the device. */
struct vlapic *vlapic_create(struct vm *vm)
{
	struct vlapic *lapic = kmalloc(sizeof(*lapic));

	if (!lapic)
		return NULL;
	reset(lapic, vm);
	if (!vtimer_init(vm, &lapic->timer.vtimer, timer_expired, lapic) ||
	    !vdev_attach(&vm->mmio_bus, &lapic->io, "local APIC", VDEV_LAPIC_GPA, VDEV_LAPIC_BYTES,
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

/*
 * For now, until drivers/vplatform.c defines the contract's platform side (which replaces
 * these weak definitions): the kernel links, the clock is the guest TSC as vmexit/msr.c
 * computes it, and level EOIs and NMIs go nowhere. Remove them then.
 */
__attribute__((weak)) u64 vdev_now(const struct vm *vm)
{
	return rdtsc() + vm->vcpu.tsc_offset;
}

__attribute__((weak)) void vdev_lapic_eoi(struct vm *vm, u8 vector)
{
}

__attribute__((weak)) void vdev_raise_nmi(struct vm *vm)
{
	pr_debug("vlapic: vm %s: NMI dropped: no NMI injection yet\n", vm->name);
}
