/* vm/ private interfaces: image loading, vCPU setup and the run loop. */
#ifndef VIREO_VM_VM_INTERNAL_H
#define VIREO_VM_VM_INTERNAL_H

#include "vm/vm.h"

/* The CPU state an image asks to be entered in. */
enum guest_entry_mode {
	GUEST_ENTRY_MULTIBOOT32,	/* protected mode, paging off (multiboot v1 spec 3.2) */
	GUEST_ENTRY_LONG64,		/* long mode on Vireo's identity page tables */
};

struct guest_entry {
	enum guest_entry_mode mode;
	u64 rip;
	u64 rax, rbx, rdi, rsi;
};

/* Validates and loads an image into guest RAM; NULL or why the image is refused. cmdline
 * and the initrd (NULL, 0 for none) are for a bzImage; the multiboot information block
 * of the other formats carries vm->cmdline. */
const char *guest_load_image(struct vm *vm, const u8 *image, u64 size, const char *cmdline,
			     const u8 *initrd, u64 initrd_size, struct guest_entry *entry);

const char *vcpu_create(struct vcpu *vcpu, struct vm *vm, const struct guest_entry *entry);
void vcpu_destroy(struct vcpu *vcpu);
void vcpu_run(struct vcpu *vcpu);
/* After an invalid-guest-state entry failure: which checks the guest state fails. */
void vmcs_report_guest_state_checks(struct vcpu *vcpu);


#endif
