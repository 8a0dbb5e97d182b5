/*
 * The interactive console: what a person types on Vireo's console goes to the UART of the
 * VM in focus (the first VM at boot). An escape key, Ctrl-] (0x1d, telnet's), followed by
 * one more key talks to Vireo instead:
 *   Ctrl-] n   focus the next VM          Ctrl-] l   list the VMs, marking the focused one
 *   Ctrl-] Ctrl-]   send one Ctrl-] to the VM      (any other key: ignored)
 * The scheduler polls the console between slices (at most every CONSOLE_POLL_MS).
 */
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "vm/vm_internal.h"

#define CONSOLE_ESCAPE 0x1d

static bool after_escape;
static struct vm *focus;	/* NULL until the first poll */

static void list_vms(struct vm **vms, size_t count)
{
	printk("vireo: VMs (Ctrl-] n: focus the next one):\n");
	for (size_t i = 0; i < count; i++)
		if (vms[i])
			printk("vireo:  %c %s\n", vms[i] == focus ? '*' : ' ', vms[i]->name);
}

/* The next VM after the focused one, in creation order, wrapping around. */
static struct vm *next_vm(struct vm **vms, size_t count)
{
	size_t start = 0;
	for (size_t i = 0; i < count; i++)
		if (vms[i] == focus)
			start = i + 1;
	for (size_t k = 0; k < count; k++) {
		struct vm *vm = vms[(start + k) % count];
		if (vm)
			return vm;
	}
	return NULL;
}

static void escape_command(struct vm **vms, size_t count, int key)
{
	switch (key) {
	case 'n':
		focus = next_vm(vms, count);
		if (focus)
			printk("vireo: console input goes to vm %s\n", focus->name);
		break;
	case 'l':
		list_vms(vms, count);
		break;
	case CONSOLE_ESCAPE:
		if (focus)
			vuart_input(focus, CONSOLE_ESCAPE);
		break;
	}
}

/* Keeps the focus on a live VM: a VM that stopped hands it to the next. */
static void check_focus(struct vm **vms, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (vms[i] && vms[i] == focus)
			return;
	focus = next_vm(vms, count);
}

void console_poll(struct vm **vms, size_t count)
{
	int key;
	check_focus(vms, count);
	/* A prompt waits for input in HLT; a VM that is only between two slices is not shown
	 * half a line (its other lines would be cut where another VM's came between). */
	if (focus && focus->vcpu.halted)
		vuart_show_prompt(focus);
	while ((key = uart_console_getc()) >= 0) {
		if (after_escape) {
			after_escape = false;
			escape_command(vms, count, key);
		} else if (key == CONSOLE_ESCAPE) {
			after_escape = true;
		} else if (focus && !vuart_input(focus, (u8)key)) {
			pr_debug("vm %s: typed byte dropped: its UART's FIFO is full\n", focus->name);
		}
	}
}

bool console_may_wake(const struct vm *vm)
{
	return vm == focus && uart_console_present();
}
