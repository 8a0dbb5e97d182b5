/* The public face of arch/x86's host side: descriptor tables, traps, host paging. The VMX
 * side is in arch/x86/vmx.h, the instruction emulator in arch/x86/emulate.h. */
#ifndef VIREO_ARCH_X86_X86_H
#define VIREO_ARCH_X86_X86_H

#include "lib/types.h"

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

/* Exception vectors (SDM Vol. 3A 6.3.1). */
enum x86_exception_vector {
	X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_NMI = 2, X86_EXC_BP = 3, X86_EXC_OF = 4,
	X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7, X86_EXC_DF = 8, X86_EXC_TS = 10,
	X86_EXC_NP = 11, X86_EXC_SS = 12, X86_EXC_GP = 13, X86_EXC_PF = 14, X86_EXC_MF = 16,
	X86_EXC_AC = 17, X86_EXC_MC = 18, X86_EXC_XM = 19, X86_EXC_VE = 20, X86_EXC_CP = 21,
};

const char *x86_exception_name(unsigned vector);

void cpu_tables_init(void);
u64 host_gdt_base(void);
u64 host_idt_base(void);
u64 host_tss_base(void);

/* Builds the host page tables (all RAM 1:1, W^X on the image, NX where the CPU has it) and
 * switches to them. ram: the usable RAM ranges, kept for the lifetime of the tables. */
struct mem_range;
void host_paging_init(const struct mem_range *ram, size_t nram);
u64 host_cr3(void);

/*
 * The CPU state VMX does not switch and the host never uses: x87/SSE registers, DR0-DR3
 * and DR6, CR2, and the syscall MSRs the guest reaches without exits. Each vCPU keeps its
 * own copy; the CPU holds the copy of the vCPU that ran last (vm/sched.c switches them).
 */
struct fxsave_area {
	u16 fcw, fsw;
	u8 ftw, reserved0;
	u16 fop;
	u64 fip, fdp;
	u32 mxcsr, mxcsr_mask;
	u8 x87_registers[128];
	u8 xmm_registers[256];
	u8 reserved[96];
} __packed __aligned(16);
static_assert(sizeof(struct fxsave_area) == 512, "FXSAVE area is 512 bytes");

#define UNSWITCHED_MSRS 6
struct unswitched_state {
	struct fxsave_area fpu;
	u64 dr[4], dr6, cr2;
	u64 msr[UNSWITCHED_MSRS];
	u64 efer_sce;	/* EFER.SCE, on CPUs whose VMX cannot switch EFER (Core 2) */
};
/* Architectural reset values (what a new vCPU starts with). */
void unswitched_state_reset(struct unswitched_state *state);
void unswitched_state_save(struct unswitched_state *state);
void unswitched_state_load(const struct unswitched_state *state);
/* EFER.SCE as the guest set it, into the CPU's own EFER where VMX cannot switch EFER (the
 * host never executes SYSCALL, so the bit can stay with the guest across exits). */
void unswitched_efer_sce_write(struct unswitched_state *state, u64 sce);

/* Host CPU features read once at boot. */
struct host_cpu {
	bool nx, gbpages, x2apic;
	u8 phys_addr_bits;
	char vendor[13];
};
extern struct host_cpu host_cpu;
void host_cpu_probe(void);

#endif
