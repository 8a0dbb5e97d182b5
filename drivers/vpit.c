/* The guest's Intel 8254 programmable interval timer at 0x40-0x43 (Intel 82C54 CHMOS
 * Programmable Interval Timer datasheet: control word, counter latch and read-back
 * commands, status byte, modes 0-5, binary and BCD counting) and system control port B at
 * 0x61 (IBM PC/AT Technical Reference: channel 2's gate, the speaker, the refresh toggle
 * and OUT2). Channel 0's OUT drives IRQ 0.
 *
 * Nothing ticks: each channel remembers the clock pulse at which its counting element (CE)
 * was loaded, and its count and OUT are computed from guest time, the PIT clock being
 * pulse number vdev_tsc_to_ticks(vdev_now(), PIT_HZ). A count written is transferred from
 * the count register (CR) to CE on the next pulse, as on the chip; a gate trigger too.
 * At reset each channel is as a mode 0 control word with LSB-then-MSB access leaves it
 * (OUT low, no count): the chip's power-on state is undefined and no firmware runs first.
 */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

#define PIT_HZ 1193182ull
#define PIT_CHANNELS 3
#define PIT_CONTROL_PORT 3		/* offset of the control word register */
#define PIT_NEVER UINT64_MAX		/* a pulse that never comes */

/* Control word: SC (bits 7-6), RW (5-4), M (3-1), BCD (0). SC 3 is the read-back
 * command; RW 0 is the counter latch command. */
#define PIT_SC_SHIFT 6
#define PIT_SC_READ_BACK 3
#define PIT_RW_SHIFT 4
#define PIT_RW_MASK 3
#define PIT_MODE_SHIFT 1
#define PIT_MODE_MASK 7
#define PIT_CONTROL_BCD 0x01
#define PIT_CONTROL_PROGRAMMED 0x3f	/* RW, M and BCD: the status byte's bits 5-0 */
enum pit_access { PIT_LATCH_COMMAND, PIT_ACCESS_LSB, PIT_ACCESS_MSB, PIT_ACCESS_LSB_MSB };
#define PIT_RESET_CONTROL (PIT_ACCESS_LSB_MSB << PIT_RW_SHIFT)

/* Read-back command: bit 5 clear latches the counts, bit 4 clear the status, of the
 * channels whose bits (1 + channel) are set. */
#define PIT_READ_BACK_NO_COUNT 0x20
#define PIT_READ_BACK_NO_STATUS 0x10
#define PIT_READ_BACK_CHANNEL(i) (0x02 << (i))

#define PIT_STATUS_OUTPUT 0x80
#define PIT_STATUS_NULL_COUNT 0x40

#define PIT_BINARY_MODULUS 65536u	/* a count of 0 means this many pulses */
#define PIT_BCD_MODULUS 10000u

/* Port B: bits 0-3 read back as written; 4 toggles at each DRAM refresh request (every
 * 15.085 us on the PC/AT, channel 1 at count 18); 5 is OUT2; 6-7 (parity and I/O channel
 * check) stay 0. */
#define PORT_B_GATE2 0x01
#define PORT_B_WRITABLE 0x0f
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2 0x20
#define PORT_B_REFRESH_TOGGLE_NS 15085ull
#define NS_PER_SECOND 1000000000ull

enum pit_mode {
	PIT_MODE_INTERRUPT_ON_TC,	/* 0 */
	PIT_MODE_ONE_SHOT,		/* 1: hardware retriggerable one-shot */
	PIT_MODE_RATE_GENERATOR,	/* 2 */
	PIT_MODE_SQUARE_WAVE,		/* 3 */
	PIT_MODE_SOFTWARE_STROBE,	/* 4 */
	PIT_MODE_HARDWARE_STROBE,	/* 5 */
};

/*
 * One counter. Invariant while counting: CE counted elapsed() pulses since it was loaded
 * with `period`; elapsed() is pulse - origin, except that it stands still at
 * frozen_elapsed while a low gate disables counting (modes 0, 2, 3, 4). In modes 2 and 3
 * the output pattern repeats every `period` pulses, starting `phase` pulses into it.
 */
struct pit_channel {
	u8 control;			/* bits 5-0 of its last control word */
	u16 count_register;		/* CR as written (BCD in BCD mode; 0 is the modulus) */
	bool count_written;		/* CR holds a count written since the control word */
	bool gate;
	bool write_msb_next, read_msb_next;	/* the LSB-then-MSB flip-flops */
	u8 write_lsb;			/* the first byte of a two-byte count being written */
	bool count_latched, status_latched;
	u16 latched_count;
	u8 latched_status;
	bool counting;			/* CE counts */
	u16 stopped_count;		/* what CE holds while it does not */
	u32 period;			/* the count CE was loaded with: 1 to the modulus */
	u32 phase;
	u64 origin, frozen_elapsed;
	u64 cr_to_ce_pulse;		/* NULL COUNT until then; PIT_NEVER: until a trigger */
	/* A count written while mode 2 or 3 counts: CE takes it at reload_pulse, the end of
	 * the period (mode 2) or half-period (mode 3) under way (PIT_NEVER: none). */
	u64 reload_pulse;
	u32 reload_period, reload_phase;
};

struct vpit {
	struct io_device pit_io, port_b_io;
	struct vm *vm;
	/* Armed at the pulse of channel 0's next OUT rising edge, as programmed now (every
	 * change to channel 0 re-arms it); idle when there is none. */
	struct vtimer irq0_timer;
	bool irq0_high;
	u8 port_b;			/* its writable bits */
	struct pit_channel channel[PIT_CHANNELS];
};

/* ---- One channel's counting, from elapsed pulses. ---- */

static enum pit_mode channel_mode(const struct pit_channel *ch)
{
	unsigned mode = (ch->control >> PIT_MODE_SHIFT) & PIT_MODE_MASK;

	return mode > PIT_MODE_HARDWARE_STROBE ? mode - 4 : mode;	/* 6 and 7 are 2 and 3 */
}

static enum pit_access channel_access(const struct pit_channel *ch)
{
	return (ch->control >> PIT_RW_SHIFT) & PIT_RW_MASK;
}

static bool channel_bcd(const struct pit_channel *ch)
{
	return ch->control & PIT_CONTROL_BCD;
}

static u32 channel_modulus(const struct pit_channel *ch)
{
	return channel_bcd(ch) ? PIT_BCD_MODULUS : PIT_BINARY_MODULUS;
}

/* Four BCD digits; a digit above 9 (undefined on the chip) weighs what it says. */
static u32 bcd_to_binary(u16 bcd)
{
	return (bcd >> 12) * 1000u + (bcd >> 8 & 0xf) * 100u + (bcd >> 4 & 0xf) * 10u + (bcd & 0xf);
}

static u16 binary_to_bcd(u32 value)
{
	return (u16)((value / 1000 % 10) << 12 | (value / 100 % 10) << 8 | (value / 10 % 10) << 4 |
		     value % 10);
}

/* The number of pulses the count in CR stands for. */
static u32 initial_count(const struct pit_channel *ch)
{
	u32 count = channel_bcd(ch) ? bcd_to_binary(ch->count_register) : ch->count_register;

	return count ? count : channel_modulus(ch);
}

static bool gate_disables_counting(enum pit_mode mode)
{
	return mode != PIT_MODE_ONE_SHOT && mode != PIT_MODE_HARDWARE_STROBE;
}

static bool gate_triggers(enum pit_mode mode)
{
	return mode != PIT_MODE_INTERRUPT_ON_TC && mode != PIT_MODE_SOFTWARE_STROBE;
}

static bool periodic(enum pit_mode mode)
{
	return mode == PIT_MODE_RATE_GENERATOR || mode == PIT_MODE_SQUARE_WAVE;
}

static bool counting_paused(const struct pit_channel *ch)
{
	return !ch->gate && gate_disables_counting(channel_mode(ch));
}

/* Before the pulse that loads CE, nothing has been counted. */
static u64 elapsed(const struct pit_channel *ch, u64 pulse)
{
	if (counting_paused(ch))
		return ch->frozen_elapsed;
	return pulse < ch->origin ? 0 : pulse - ch->origin;
}

/* Where in its repeating pattern a mode 2 or 3 counter is. */
static u32 pattern_position(const struct pit_channel *ch, u64 pulse)
{
	return (u32)((elapsed(ch, pulse) + ch->phase) % ch->period);
}

/* Mode 3 keeps OUT high for the first (N + 1) / 2 pulses of each period of N. */
static u32 square_wave_high_pulses(u32 period)
{
	return (period + 1) / 2;
}

static void load_counting_element(struct pit_channel *ch, u64 pulse)
{
	ch->counting = true;
	ch->period = initial_count(ch);
	ch->phase = 0;
	ch->origin = pulse;
	ch->frozen_elapsed = 0;
	ch->cr_to_ce_pulse = pulse;
	ch->reload_pulse = PIT_NEVER;
}

/* Applies a mode 2 or 3 reload whose pulse has come. */
static void channel_catch_up(struct pit_channel *ch, u64 pulse)
{
	if (ch->reload_pulse > pulse)
		return;
	ch->origin = ch->reload_pulse;
	ch->period = ch->reload_period;
	ch->phase = ch->reload_phase;
	ch->reload_pulse = PIT_NEVER;
}

/* CE in binary. Modes 0, 1, 4 and 5 count down by one and wrap past 0; mode 2 reloads
 * when it would reach 0; mode 3 counts down by two from the even part of N in each half
 * of its period (datasheet, mode 3: odd counts). */
static u32 counting_element(const struct pit_channel *ch, u64 pulse)
{
	u32 modulus = channel_modulus(ch), position, high;

	switch (channel_mode(ch)) {
	case PIT_MODE_RATE_GENERATOR:
		return (ch->period - pattern_position(ch, pulse)) % modulus;
	case PIT_MODE_SQUARE_WAVE:
		position = pattern_position(ch, pulse);
		high = square_wave_high_pulses(ch->period);
		if (position >= high)
			position -= high;
		return ((ch->period & ~1u) - 2 * position) % modulus;
	default:
		return (u32)((ch->period + modulus - elapsed(ch, pulse) % modulus) % modulus);
	}
}

/* What a read of the counter shows. */
static u16 current_count(const struct pit_channel *ch, u64 pulse)
{
	if (!ch->counting)
		return ch->stopped_count;
	u32 count = counting_element(ch, pulse);
	return channel_bcd(ch) ? binary_to_bcd(count) : (u16)count;
}

/* OUT after a control word: low in mode 0, high in the others. A count of 1 (illegal in
 * modes 2 and 3) leaves OUT high there. */
static bool channel_out(const struct pit_channel *ch, u64 pulse)
{
	enum pit_mode mode = channel_mode(ch);

	if (!ch->counting)
		return mode != PIT_MODE_INTERRUPT_ON_TC;
	switch (mode) {
	case PIT_MODE_INTERRUPT_ON_TC:
	case PIT_MODE_ONE_SHOT:
		return elapsed(ch, pulse) >= ch->period;
	case PIT_MODE_RATE_GENERATOR:
		return !ch->gate || ch->period < 2 ||
		       pattern_position(ch, pulse) != ch->period - 1;
	case PIT_MODE_SQUARE_WAVE:
		return !ch->gate ||
		       pattern_position(ch, pulse) < square_wave_high_pulses(ch->period);
	default:			/* the strobes: low for the one pulse at terminal count */
		return elapsed(ch, pulse) != ch->period;
	}
}

/* The first pulse of the next period of mode 2 or 3 (OUT's rising edge), or PIT_NEVER.
 * A pending reload comes first: at the end of a period, or in mode 3 of a high half,
 * after which the new pattern's low half runs. */
static u64 next_period_start(const struct pit_channel *ch, u64 pulse)
{
	if (ch->reload_pulse != PIT_NEVER) {
		u32 low_first = ch->reload_phase ? ch->reload_period - ch->reload_phase : 0;
		return ch->reload_pulse + low_first;
	}
	if (ch->period < 2)
		return PIT_NEVER;
	u64 from = MAX(pulse, ch->origin);
	return from + ch->period - pattern_position(ch, from);
}

/* The pulse after `pulse` at which OUT next rises, or PIT_NEVER: at terminal count in
 * modes 0 and 1, one pulse after it for the strobes. */
static u64 next_rising_edge(const struct pit_channel *ch, u64 pulse)
{
	enum pit_mode mode = channel_mode(ch);

	if (!ch->counting || counting_paused(ch))
		return PIT_NEVER;
	if (periodic(mode))
		return next_period_start(ch, pulse);
	bool strobe = mode == PIT_MODE_SOFTWARE_STROBE || mode == PIT_MODE_HARDWARE_STROBE;
	u64 rise = ch->period + (strobe ? 1 : 0);
	return elapsed(ch, pulse) < rise ? ch->origin + rise : PIT_NEVER;
}

/* ---- Programming a channel. ---- */

/* A control word resets the channel's logic; CE stops, holding its count, until a count
 * is written (or, in modes 1 and 5, a trigger comes). */
static void channel_program(struct pit_channel *ch, u8 control, u64 pulse)
{
	u16 held = current_count(ch, pulse);

	*ch = (struct pit_channel){ .control = control & PIT_CONTROL_PROGRAMMED, .gate = ch->gate,
				    .stopped_count = held, .cr_to_ce_pulse = PIT_NEVER,
				    .reload_pulse = PIT_NEVER };
}

/* A count written while mode 2 or 3 counts waits for the end of the period, or in mode 3
 * of the half-period, under way; the new pattern starts there, high or low. */
static void schedule_reload(struct pit_channel *ch, u64 pulse)
{
	u32 position = pattern_position(ch, pulse), boundary = ch->period;
	u32 new_period = initial_count(ch), high = square_wave_high_pulses(ch->period);

	ch->reload_phase = 0;
	if (channel_mode(ch) == PIT_MODE_SQUARE_WAVE && position < high) {
		boundary = high;	/* the falling edge: the new pattern starts low */
		ch->reload_phase = square_wave_high_pulses(new_period);
	}
	ch->reload_pulse = pulse + boundary - position;
	ch->reload_period = new_period;
	ch->cr_to_ce_pulse = ch->reload_pulse;
}

static void count_written(struct pit_channel *ch, u16 count, u64 pulse)
{
	enum pit_mode mode = channel_mode(ch);

	ch->count_register = count;
	ch->count_written = true;
	if (mode == PIT_MODE_ONE_SHOT || mode == PIT_MODE_HARDWARE_STROBE)
		ch->cr_to_ce_pulse = PIT_NEVER;	/* CE takes it at the next trigger */
	else if (!periodic(mode) || !ch->counting)
		load_counting_element(ch, pulse + 1);
	else if (ch->gate)
		schedule_reload(ch, pulse);
	else
		ch->cr_to_ce_pulse = PIT_NEVER;	/* the gate's rising edge reloads */
}

/* In mode 0 the first byte of a two-byte count stops counting (CE holds its count) and
 * sets OUT low. */
static void write_count_byte(struct pit_channel *ch, u8 value, u64 pulse)
{
	switch (channel_access(ch)) {
	case PIT_ACCESS_LSB:
		count_written(ch, value, pulse);
		break;
	case PIT_ACCESS_MSB:
		count_written(ch, (u16)(value << 8), pulse);
		break;
	default:
		if (ch->write_msb_next) {
			ch->write_msb_next = false;
			count_written(ch, (u16)(ch->write_lsb | value << 8), pulse);
			break;
		}
		ch->write_lsb = value;
		ch->write_msb_next = true;
		if (channel_mode(ch) == PIT_MODE_INTERRUPT_ON_TC) {
			ch->stopped_count = current_count(ch, pulse);
			ch->counting = false;
		}
		break;
	}
}

static u8 channel_status(const struct pit_channel *ch, u64 pulse)
{
	return (channel_out(ch, pulse) ? PIT_STATUS_OUTPUT : 0) |
	       (pulse < ch->cr_to_ce_pulse ? PIT_STATUS_NULL_COUNT : 0) | ch->control;
}

/* A latch already holding a value keeps it until the guest has read it. */
static void latch_count(struct pit_channel *ch, u64 pulse)
{
	if (ch->count_latched)
		return;
	ch->latched_count = current_count(ch, pulse);
	ch->count_latched = true;
}

static void latch_status(struct pit_channel *ch, u64 pulse)
{
	if (ch->status_latched)
		return;
	ch->latched_status = channel_status(ch, pulse);
	ch->status_latched = true;
}

/* A latched status comes first, then the latched (or else the live) count, one or two
 * bytes as the access mode says. */
static u8 read_count_byte(struct pit_channel *ch, u64 pulse)
{
	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->latched_status;
	}
	u16 count = ch->count_latched ? ch->latched_count : current_count(ch, pulse);
	bool msb = channel_access(ch) == PIT_ACCESS_MSB;

	if (channel_access(ch) == PIT_ACCESS_LSB_MSB) {
		msb = ch->read_msb_next;
		ch->read_msb_next = !msb;
	}
	if (msb || channel_access(ch) == PIT_ACCESS_LSB)
		ch->count_latched = false;
	return msb ? (u8)(count >> 8) : (u8)count;
}

/* Modes 0 and 4 pause while the gate is low; modes 2 and 3 stop and restart on its rising
 * edge; modes 1 and 5 (and 2 and 3) take CR into CE on the pulse after that edge. */
static void channel_set_gate(struct pit_channel *ch, bool high, u64 pulse)
{
	enum pit_mode mode = channel_mode(ch);

	if (high == ch->gate)
		return;
	if (!high) {
		ch->frozen_elapsed = elapsed(ch, pulse);
		ch->gate = false;
		if (periodic(mode) && ch->reload_pulse != PIT_NEVER) {
			ch->reload_pulse = PIT_NEVER;	/* the next rising edge reloads */
			ch->cr_to_ce_pulse = PIT_NEVER;
		}
		return;
	}
	ch->gate = true;
	if (gate_triggers(mode) && ch->count_written)
		load_counting_element(ch, pulse + 1);
	else
		ch->origin = pulse - ch->frozen_elapsed;
}

/* ---- The device. ---- */

static u64 pit_pulse(u64 now)
{
	return vdev_tsc_to_ticks(now, PIT_HZ);
}

/* The first guest TSC value at which pulse has happened. */
static u64 pulse_deadline(u64 pulse)
{
	u64 tsc = vdev_ticks_to_tsc(pulse, PIT_HZ);

	return pit_pulse(tsc) < pulse ? tsc + 1 : tsc;
}

/* Every access starts here, so that the channels' pending reloads are applied. */
static u64 pit_sync(struct vpit *pit, u64 now)
{
	u64 pulse = pit_pulse(now);

	for (unsigned i = 0; i < PIT_CHANNELS; i++)
		channel_catch_up(&pit->channel[i], pulse);
	return pulse;
}

static void set_irq0(struct vpit *pit, bool high)
{
	if (high == pit->irq0_high)
		return;
	pit->irq0_high = high;
	vdev_set_irq(pit->vm, VDEV_IRQ_PIT, high);
}

static void arm_irq0_timer(struct vpit *pit, u64 pulse)
{
	u64 rise = next_rising_edge(&pit->channel[0], pulse);

	if (rise == PIT_NEVER)
		vtimer_cancel(&pit->irq0_timer);
	else
		vtimer_arm(&pit->irq0_timer, pulse_deadline(rise));
}

/* Channel 0 was programmed: IRQ 0 follows OUT now, and at its next rising edge. */
static void channel0_changed(struct vpit *pit, u64 pulse)
{
	set_irq0(pit, channel_out(&pit->channel[0], pulse));
	arm_irq0_timer(pit, pulse);
}

/*
 * A rising edge of OUT0. Only rising edges are timed (the PIC and I/O APIC take IRQ 0 as
 * edge-triggered), so the line is pulsed low then high here; between edges it may stay
 * high while OUT is low (modes 2 and 3), whose level the status byte still computes.
 * Policy when the timer runs late, several periods after the edge: one edge is delivered,
 * not one per period missed, and the next is the first still to come. A guest that counts
 * ticks loses the missed ones; Linux's clockevents read a clocksource and cope.
 */
static void irq0_timer_expired(struct vtimer *timer, u64 now)
{
	struct vpit *pit = timer->opaque;
	u64 pulse = pit_sync(pit, now);

	set_irq0(pit, false);
	set_irq0(pit, true);
	arm_irq0_timer(pit, pulse);
}

static void write_control(struct vpit *pit, u8 value, u64 pulse)
{
	unsigned select = value >> PIT_SC_SHIFT;

	if (select == PIT_SC_READ_BACK) {
		for (unsigned i = 0; i < PIT_CHANNELS; i++) {
			if (!(value & PIT_READ_BACK_CHANNEL(i)))
				continue;
			if (!(value & PIT_READ_BACK_NO_COUNT))
				latch_count(&pit->channel[i], pulse);
			if (!(value & PIT_READ_BACK_NO_STATUS))
				latch_status(&pit->channel[i], pulse);
		}
		return;
	}
	if (((value >> PIT_RW_SHIFT) & PIT_RW_MASK) == PIT_LATCH_COMMAND) {
		latch_count(&pit->channel[select], pulse);
		return;
	}
	channel_program(&pit->channel[select], value, pulse);
	if (select == 0)
		channel0_changed(pit, pulse);
}

static u8 pit_read_byte(struct io_device *dev, u64 offset)
{
	struct vpit *pit = dev->opaque;
	u64 pulse = pit_sync(pit, vdev_now(pit->vm));

	if (offset == PIT_CONTROL_PORT)
		return 0xff;		/* the control word is write-only: the bus floats */
	return read_count_byte(&pit->channel[offset], pulse);
}

static void pit_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vpit *pit = dev->opaque;
	u64 pulse = pit_sync(pit, vdev_now(pit->vm));

	if (offset == PIT_CONTROL_PORT) {
		write_control(pit, value, pulse);
		return;
	}
	write_count_byte(&pit->channel[offset], value, pulse);
	if (offset == 0)
		channel0_changed(pit, pulse);
}

static u64 pit_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, pit_read_byte);
}

static void pit_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, pit_write_byte);
}

static const struct io_device_ops pit_ops = { .read = pit_read, .write = pit_write };

static u8 port_b_read_byte(struct io_device *dev, u64 offset)
{
	struct vpit *pit = dev->opaque;
	u64 now = vdev_now(pit->vm), pulse = pit_sync(pit, now);
	u64 refresh_toggles = vdev_tsc_to_ticks(now, NS_PER_SECOND) / PORT_B_REFRESH_TOGGLE_NS;

	return pit->port_b | (refresh_toggles & 1 ? PORT_B_REFRESH : 0) |
	       (channel_out(&pit->channel[2], pulse) ? PORT_B_OUT2 : 0);
}

static void port_b_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vpit *pit = dev->opaque;
	u64 pulse = pit_sync(pit, vdev_now(pit->vm));

	pit->port_b = value & PORT_B_WRITABLE;
	channel_set_gate(&pit->channel[2], value & PORT_B_GATE2, pulse);
}

static u64 port_b_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, port_b_read_byte);
}

static void port_b_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, port_b_write_byte);
}

static const struct io_device_ops port_b_ops = { .read = port_b_read, .write = port_b_write };

/* Channels 0 and 1 have their gates tied high; channel 2's is port B bit 0, clear. */
struct vpit *vpit_create(struct vm *vm)
{
	struct vpit *pit = kmalloc(sizeof(*pit));

	if (!pit)
		return NULL;
	*pit = (struct vpit){ .vm = vm };
	for (unsigned i = 0; i < PIT_CHANNELS; i++) {
		pit->channel[i].gate = i != 2;
		channel_program(&pit->channel[i], PIT_RESET_CONTROL, 0);
	}
	if (!vtimer_init(vm, &pit->irq0_timer, irq0_timer_expired, pit) ||
	    !vdev_attach(&vm->pio_bus, &pit->pit_io, "8254 PIT", VDEV_PIT_PORT, VDEV_PIT_PORTS,
			 &pit_ops, pit) ||
	    !vdev_attach(&vm->pio_bus, &pit->port_b_io, "port B", VDEV_PORT_B, VDEV_PORT_B_PORTS,
			 &port_b_ops, pit)) {
		kfree(pit);
		return NULL;
	}
	return pit;
}

void vpit_destroy(struct vpit *pit)
{
	kfree(pit);
}
