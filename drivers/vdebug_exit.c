/* QEMU's isa-debug-exit at port 0xf4: a write ends the VM. QEMU itself exits with
 * (value << 1) | 1; Vireo reports the written value itself as the VM's status (0 means
 * success), so a guest's own exit code reaches the run's summary unchanged. */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/slab.h"

struct vdebug_exit {
	struct io_device io;
	struct vm *vm;
};

static u64 vdebug_exit_read(struct io_device *dev, u64 offset, unsigned size)
{
	return 0;
}

/* Any width (8, 16 or 32 bits) at any of its ports. */
static void vdebug_exit_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	struct vdebug_exit *debug_exit = dev->opaque;
	u32 status = (u32)(value & low_bytes_mask(size));

	vm_stop(debug_exit->vm, (int)status, "debug-exit port written: status %u", status);
}

static const struct io_device_ops vdebug_exit_ops = {
	.read = vdebug_exit_read,
	.write = vdebug_exit_write,
};

struct vdebug_exit *vdebug_exit_create(struct vm *vm)
{
	struct vdebug_exit *debug_exit = kmalloc(sizeof(*debug_exit));

	if (!debug_exit)
		return NULL;
	debug_exit->vm = vm;
	if (!vdev_attach(&vm->pio_bus, &debug_exit->io, "isa-debug-exit", VDEV_DEBUG_EXIT_PORT,
			 VDEV_DEBUG_EXIT_PORTS, &vdebug_exit_ops, debug_exit)) {
		kfree(debug_exit);
		return NULL;
	}
	return debug_exit;
}

void vdebug_exit_destroy(struct vdebug_exit *debug_exit)
{
	kfree(debug_exit);
}
