/* External interrupts in 64-bit test guests: a handler per vector (32-255), run with
 * interrupts off and returning to the interrupted code; an interrupt without a handler is
 * reported as a failure. The IDT is idt_init()'s (lib/except.h). */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include "lib/types.h"

/* rip: where the interrupted code resumes. */
typedef void (*irq_handler)(unsigned vector, u64 rip);
void irq_set_handler(unsigned vector, irq_handler handler);
/* How many interrupts arrived on each vector since boot. */
extern volatile u64 irq_counts[256];

static inline void irq_enable(void) { asm volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { asm volatile("cli" ::: "memory"); }
/* STI then HLT: the interrupt shadow of STI keeps an interrupt from arriving between the
 * two, so one that is pending ends the HLT instead of being missed before it. */
static inline void safe_halt(void) { asm volatile("sti; hlt" ::: "memory"); }

#endif
