/* vmexit/ private: the exit handlers the dispatch table names, and their shared helpers. */
#ifndef VIREO_VMEXIT_HANDLERS_H
#define VIREO_VMEXIT_HANDLERS_H

#include "vmexit/vmexit.h"

void handle_cpuid(struct vcpu *vcpu);
void handle_vmcall(struct vcpu *vcpu);
void handle_cr_access(struct vcpu *vcpu);
void handle_io(struct vcpu *vcpu);
void handle_rdmsr(struct vcpu *vcpu);
void handle_wrmsr(struct vcpu *vcpu);
void handle_rdpmc(struct vcpu *vcpu);
void handle_ept_violation(struct vcpu *vcpu);
void handle_ept_misconfig(struct vcpu *vcpu);
void handle_invlpg(struct vcpu *vcpu);
void handle_invpcid(struct vcpu *vcpu);

/* Stops the VM whose event delivery (IDT, GDT or stack) touched MMIO at gpa: no device
 * can take part in it. Both MMUs' MMIO paths use it. */
void delivery_through_mmio(struct vcpu *vcpu, u64 gpa);

/* MOV to CR0, CR3 or CR4 with its checks (SDM Vol. 3A 2.5); false: #GP(0). The exit's
 * handler and the emulator (vmexit/emulate.c) share it. */
bool vcpu_mov_to_cr(struct vcpu *vcpu, unsigned cr, u64 v);

/* Computes the CR0/CR4 bits VMX forces on this CPU; before any vCPU is created. */
void cr_masks_init(void);

/* The MSR bitmap: clear bits let the guest access an MSR without an exit. */
void msr_bitmap_init(u8 *bitmap);

#endif
