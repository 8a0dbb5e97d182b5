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

/* Resets the CPU state VMX does not switch (x87/SSE, DR0-3, DR6, CR2) before a VM runs. */
void cpu_reset_unswitched_state(void);

/* Host CPU features read once at boot. */
struct host_cpu {
	bool nx, gbpages, x2apic;
	u8 phys_addr_bits;
	char vendor[13];
};
extern struct host_cpu host_cpu;
void host_cpu_probe(void);

#endif
