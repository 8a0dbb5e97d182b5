/* The PIIX reset control register at 0xcf9 (Intel 82371AB PIIX4 datasheet, "RC - Reset
 * Control Register"): setting RST_CPU resets the machine, which ends the VM as a reboot.
 * 0xcf9 lies inside the PCI configuration ports (drivers/vpci.c holds 0xcf8-0xcff), so
 * this model registers nothing: vpci.c hands it the byte accesses at 0xcf9. */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

#define RESET_CONTROL_SYS_RST 0x02	/* the kind of reset: 1 hard (system), 0 soft (INIT) */
#define RESET_CONTROL_RST_CPU 0x04	/* 0 -> 1 starts the reset; reads back 0 */

struct vreset {
	struct vm *vm;
	u8 control;		/* the last value written, RST_CPU clear */
};

/* Invariant: control never holds RST_CPU, so every write with it set is the 0 -> 1
 * transition that starts a reset. A soft reset also restarts the guest from its reset
 * vector, so both kinds end the VM the same way. */
void vreset_control_write(struct vreset *reset, u8 value)
{
	reset->control = value & ~RESET_CONTROL_RST_CPU;
	if (value & RESET_CONTROL_RST_CPU)
		vm_stop(reset->vm, 0, "the guest reset the machine through port 0xCF9 (reboot)");
}

u8 vreset_control_read(const struct vreset *reset)
{
	return reset->control;
}

struct vreset *vreset_create(struct vm *vm)
{
	struct vreset *reset = kmalloc(sizeof(*reset));

	if (!reset)
		return NULL;
	*reset = (struct vreset){ .vm = vm };
	return reset;
}

void vreset_destroy(struct vreset *reset)
{
	kfree(reset);
}
