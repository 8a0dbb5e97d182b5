/* vm/ private interfaces: image loading, vCPU setup and the run loop. */
#ifndef VIREO_VM_VM_INTERNAL_H
#define VIREO_VM_VM_INTERNAL_H

#include "core/vm.h"
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
/* How a vCPU's run ended. */
enum vcpu_run_end {
	VCPU_STOPPED,		/* the VM stopped */
	VCPU_SLICE_OVER,	/* its time slice (vcpu->slice_end) is over */
	VCPU_HALTED,		/* in HLT with nothing to wake it yet */
};
/* Runs the vCPU (its VMCS loaded, its unswitched state in the CPU) until one of those. */
enum vcpu_run_end vcpu_run(struct vcpu *vcpu);
/* Wakes a halted vCPU that now has an interrupt or NMI to take; whether it did. */
bool vcpu_wake(struct vcpu *vcpu);
/* Runs the VMs (NULL entries are skipped) until each has stopped; ended(vm) reports and
 * frees each one as it stops. */
void sched_run(struct vm **vms, size_t count, void (*ended)(struct vm *vm));

/* Hands what was typed on the console to the focused VM (vm/console.c). */
void console_poll(struct vm **vms, size_t count);
/* Whether typed input could still wake vm (it has the focus of a console). */
bool console_may_wake(const struct vm *vm);

/* The vCPU is going away: the CPU's unswitched state is no longer anyone's to save. */
void vcpu_forget_cpu(struct vcpu *vcpu);
/* After an invalid-guest-state entry failure: which checks the guest state fails. */
void vmcs_report_guest_state_checks(struct vcpu *vcpu);

#endif
