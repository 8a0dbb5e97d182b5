/* The VM as the code under a unit test calls back into it: one fake VM (vm) whose
 * console output (console) and stop requests (stop_reason, stop_calls) are recorded, and
 * kmalloc() from the C library's allocator, so ASan sees any access outside an object.
 * Include once, in the test's .c file (tests/unit/fake_platform.h does for device
 * models). */
#ifndef VIREO_TESTS_FAKE_VM_H
#define VIREO_TESTS_FAKE_VM_H

#include <stdarg.h>
#include <stdlib.h>

#include "core/vm.h"
#include "lib/printf.h"
#include "lib/slab.h"
#include "lib/string.h"

static struct vm vm;
static char console[8192];	/* everything vm_printk printed */
static char stop_reason[256];
static int stop_calls;

void arch_halt_after_panic(void)
{
	abort();
}

void *kmalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *ptr)
{
	free(ptr);
}

void vm_printk(const struct vm *v, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t used = strlen(console);
	snprintf(console + used, sizeof(console) - used, "%s: %s\n", v->name, line);
}

void vm_console_write(const struct vm *v, const char *text, size_t len)
{
	size_t used = strlen(console);
	snprintf(console + used, sizeof(console) - used, "%.*s", (int)len, text);
}

void vm_console_partial(const struct vm *v, const char *text, size_t len)
{
	size_t used = strlen(console);
	snprintf(console + used, sizeof(console) - used, "%s: %.*s", v->name, (int)len, text);
}

void vm_stop(struct vm *v, int status, const char *fmt, ...)
{
	va_list ap;

	stop_calls++;
	if (v->state == VM_STOPPED)
		return;
	va_start(ap, fmt);
	vsnprintf(stop_reason, sizeof(stop_reason), fmt, ap);
	va_end(ap);
	v->state = VM_STOPPED;
	v->exit_status = status;
}

#endif
