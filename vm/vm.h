/* vm/: what boot/ hands over and calls: the guest modules, and running them as VMs. */
#ifndef VIREO_VM_VM_H
#define VIREO_VM_VM_H

#include "lib/types.h"

/* A guest image as the boot loader handed it over: the file's bytes and the rest of its
 * module line (Vireo's module options, then the guest's own command line). */
struct guest_module {
	const u8 *image;
	u64 size;
	const char *line;
};

/* Creates one VM per kernel module and runs them side by side, each to its end; true if
 * every VM ended with status 0. A module whose line is the word "initrd" is not a VM: it
 * is the initial RAM disk of the kernel module right before it. */
bool vms_run(const struct guest_module *modules, size_t count);

#endif
