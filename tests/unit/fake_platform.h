/* The platform a single device model sees in a unit test: a fake VM whose clock the test
 * sets (fake_now), interrupt lines, APIC messages, EOIs and NMIs recorded, output and stop
 * requests recorded. Device state comes from the C library's allocator, so ASan sees any
 * access outside it. Include once, in the test's .c file; link drivers/vregs.c (vdev_attach
 * and the byte-register helpers), drivers/vtime.c and
 * core/bus.c (and lib/log.c lib/printf.c lib/string.c lib/panic.c) with the model. */
#ifndef VIREO_TESTS_FAKE_PLATFORM_H
#define VIREO_TESTS_FAKE_PLATFORM_H

#include <stdarg.h>
#include <stdlib.h>

#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"
#include "tests/unit/fake_vm.h"
#include "tests/unit/unit.h"

u64 tsc_hz = 1000000000;	/* 1 GHz: one tick is a nanosecond */

static u64 fake_now;
static bool irq_level[VDEV_IOAPIC_PINS];
static unsigned irq_rising_edges[VDEV_IOAPIC_PINS];
#define FAKE_MESSAGES_MAX 64
static struct vapic_message lapic_messages[FAKE_MESSAGES_MAX];
static unsigned lapic_message_count;
static unsigned eoi_count;
static u8 last_eoi_vector;
static unsigned nmi_count;
static unsigned interrupts_changed_count;

u64 vdev_now(const struct vm *v)
{
	return fake_now;
}

void vdev_set_irq(struct vm *v, unsigned line, bool high)
{
	CHECK(line < VDEV_IOAPIC_PINS);
	if (line >= VDEV_IOAPIC_PINS)
		return;
	if (high && !irq_level[line])
		irq_rising_edges[line]++;
	irq_level[line] = high;
}

void vdev_deliver_to_lapic(struct vm *v, const struct vapic_message *message)
{
	if (lapic_message_count < FAKE_MESSAGES_MAX)
		lapic_messages[lapic_message_count] = *message;
	lapic_message_count++;
}

void vdev_lapic_eoi(struct vm *v, u8 vector)
{
	eoi_count++;
	last_eoi_vector = vector;
}

void vdev_raise_nmi(struct vm *v)
{
	nmi_count++;
}

void vdev_interrupts_changed(struct vm *v)
{
	interrupts_changed_count++;
}

/* A fresh fake VM at time 0 with nothing recorded. */
static void fake_platform_reset(void)
{
	memset(&vm, 0, sizeof(vm));
	strcpy(vm.name, "t1");
	vm.ram_bytes = MiB(32);
	fake_now = 0;
	memset(irq_level, 0, sizeof(irq_level));
	memset(irq_rising_edges, 0, sizeof(irq_rising_edges));
	lapic_message_count = eoi_count = nmi_count = interrupts_changed_count = 0;
	last_eoi_vector = 0;
	console[0] = stop_reason[0] = '\0';
	stop_calls = 0;
}

/* Moves the clock to now and runs the timers that expired, as the run loop does. */
static __attribute__((unused)) void fake_advance_to(u64 now)
{
	fake_now = now;
	vtimers_run(&vm, now);
}

static __attribute__((unused)) u64 pio_in(u64 port, unsigned size)
{
	u64 value = 0;

	CHECK(io_bus_read(&vm.pio_bus, port, size, &value));
	return value;
}

static __attribute__((unused)) void pio_out(u64 port, unsigned size, u64 value)
{
	CHECK(io_bus_write(&vm.pio_bus, port, size, value));
}

static __attribute__((unused)) u64 mmio_in(u64 gpa, unsigned size)
{
	u64 value = 0;

	CHECK(io_bus_read(&vm.mmio_bus, gpa, size, &value));
	return value;
}

static __attribute__((unused)) void mmio_out(u64 gpa, unsigned size, u64 value)
{
	CHECK(io_bus_write(&vm.mmio_bus, gpa, size, value));
}

#endif
