/* What every layer may do to a VM without running it: stop it, print for it on the host
 * console (its name before each line), read and write its guest-physical memory; and the
 * settings new VMs start with. */
#include <stdarg.h>
#include "core/vm.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"

#define GUEST_LINE_MAX 200	/* bytes of guest text per console line */

struct vm_defaults vm_defaults = { .mmio_cache = true, .fast_mmio = true, .fast_zap = true,
				   .slice_ms = 10 };

void vm_stop(struct vm *vm, int status, const char *fmt, ...)
{
	if (vm->state == VM_STOPPED)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	vm->state = VM_STOPPED;
	vm->exit_status = status;
}

/* Guest text made safe for the console: control characters become '.' (an escape
 * sequence from a guest must not rewrite the operator's terminal or a test log), but for
 * a backspace, which a shell's line editing echoes. */
static size_t sanitize(char *out, const char *text, size_t len)
{
	size_t n = MIN(len, (size_t)GUEST_LINE_MAX);
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)text[i];
		out[i] = ((c < ' ' && c != '\t' && c != '\b') || c == 0x7f) ? '.' : (char)c;
	}
	out[n] = '\0';
	return n;
}

/* The VM whose partial line (a shell prompt, vm_console_partial()) is on the console
 * without its newline: its next text continues that line; any other text ends it first. */
static const struct vm *open_line_vm;

/* Starts vm's text on the console: after its own open line, or on a new line. */
static void begin_text(const struct vm *vm)
{
	if (open_line_vm != vm) {
		if (open_line_vm)
			printk("\n");
		printk("%s: ", vm->name);
	}
	open_line_vm = NULL;
}

/* One line of guest text on the host console, prefixed by the VM's name. Long lines are
 * cut in pieces, each with the prefix. */
static void print_guest_line(const struct vm *vm, const char *text, size_t len)
{
	char piece[GUEST_LINE_MAX + 1];
	do {
		size_t n = sanitize(piece, text, len);
		begin_text(vm);
		printk("%s\n", piece);
		text += n;
		len -= n;
	} while (len);
}

void vm_console_partial(const struct vm *vm, const char *text, size_t len)
{
	char piece[GUEST_LINE_MAX + 1];
	sanitize(piece, text, len);
	begin_text(vm);
	printk("%s", piece);
	open_line_vm = vm;
}

void vm_printk(const struct vm *vm, const char *fmt, ...)
{
	char line[GUEST_LINE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	print_guest_line(vm, line, strlen(line));
}

void vm_console_write(const struct vm *vm, const char *text, size_t len)
{
	while (len) {
		size_t line = 0;
		while (line < len && text[line] != '\n')
			line++;
		print_guest_line(vm, text, line);
		line += line < len;	/* the newline itself */
		text += line;
		len -= line;
	}
}

void *vm_gpa_to_hva(struct vm *vm, u64 gpa, size_t len)
{
	return memslot_gpa_to_hva(&vm->mmu.memslots, NULL, gpa, len, false);
}

/* Copies page by page: a range may span slots. */
static bool copy_gpa(struct vm *vm, u64 gpa, void *buf, size_t len, bool to_guest)
{
	u8 *p = buf;
	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		u8 *hva = vm_gpa_to_hva(vm, gpa, chunk);
		if (!hva)
			return false;
		if (to_guest) {
			memcpy(hva, p, chunk);
			vcpu_wrote_guest_ram(vm, gpa, chunk);
		} else
			memcpy(p, hva, chunk);
		gpa += chunk;
		p += chunk;
		len -= chunk;
	}
	return true;
}

bool vm_read_gpa(struct vm *vm, u64 gpa, void *buf, size_t len)
{
	return copy_gpa(vm, gpa, buf, len, false);
}

bool vm_write_gpa(struct vm *vm, u64 gpa, const void *buf, size_t len)
{
	return copy_gpa(vm, gpa, (void *)buf, len, true);
}
