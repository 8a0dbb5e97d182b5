/* The 64-bit test guests' interrupt dispatch (lib/irq.h). */
#include "tests/guests/lib/irq.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/x86.h"

volatile u64 irq_counts[IDT_VECTORS];
static irq_handler handlers[IDT_VECTORS];

void irq_set_handler(unsigned vector, irq_handler handler)
{
	handlers[vector] = handler;
}

void irq_dispatch(u64 vector, u64 rip);
void irq_dispatch(u64 vector, u64 rip)
{
	irq_counts[vector]++;
	if (handlers[vector]) {
		handlers[vector]((unsigned)vector, rip);
		return;
	}
	reportf(false, "unexpected interrupt on vector %lu at rip %#lx", vector, rip);
	exit_test();
}
