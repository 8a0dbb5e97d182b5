/* panic() and ASSERT(): for hypervisor bugs only, never for something a guest did. */
#ifndef VIREO_LIB_PANIC_H
#define VIREO_LIB_PANIC_H

#include "lib/types.h"

__noreturn void panic_at(const char *file, int line, const char *fmt, ...) __printf(3, 4);
/* Stops the machine after a panic: provided by arch/x86 (or by a host test). */
__noreturn void arch_halt_after_panic(void);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond) do { \
	if (unlikely(!(cond))) \
		panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond); \
} while (0)

#endif
