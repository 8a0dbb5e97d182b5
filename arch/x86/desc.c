/* Host descriptor tables: a GDT with 64-bit code/data and a TSS whose IST stacks catch
 * double faults, NMIs and machine checks on a known-good stack; an IDT for all exceptions. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "lib/string.h"

#define IST_STACK_SIZE 8192
#define GDT_CODE64 0x00af9a000000ffffull	/* present, DPL0, code, long mode */
#define GDT_DATA 0x00cf92000000ffffull		/* present, DPL0, data, writable */
#define GDT_TSS_AVAILABLE 0x89ull		/* present, 64-bit TSS (available) */
#define IDT_INTERRUPT_GATE 0x8e			/* present, DPL0, 64-bit interrupt gate */
#define EXCEPTION_VECTORS 32
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3 };

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes (SDM Vol. 3A 8.7)");

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

struct descriptor_pointer {
	u16 limit;
	u64 base;
} __packed;

static u64 gdt[5] __aligned(16);	/* null, code, data, TSS (two slots) */
static struct tss64 tss __aligned(16);
static struct idt_gate idt[EXCEPTION_VECTORS] __aligned(16);
static u8 ist_stacks[3][IST_STACK_SIZE] __aligned(16);
extern const u64 trap_stub_table[EXCEPTION_VECTORS];

static void gdt_set_tss(void)
{
	u64 base = (u64)&tss, limit = sizeof(tss) - 1;
	gdt[GDT_SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			       GDT_TSS_AVAILABLE << 40 | ((limit >> 16) & 0xf) << 48 |
			       ((base >> 24) & 0xff) << 56;
	gdt[GDT_SEL_TSS / 8 + 1] = base >> 32;
}

static void idt_set_gate(unsigned vector, u64 handler, u8 ist)
{
	idt[vector] = (struct idt_gate){
		.offset_low = (u16)handler,
		.selector = GDT_SEL_CODE,
		.ist = ist,
		.type_attr = IDT_INTERRUPT_GATE,
		.offset_mid = (u16)(handler >> 16),
		.offset_high = (u32)(handler >> 32),
	};
}

static void load_tables(void)
{
	struct descriptor_pointer gdtr = { sizeof(gdt) - 1, (u64)gdt };
	struct descriptor_pointer idtr = { sizeof(idt) - 1, (u64)idt };
	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %2, %%ds\n\t"
		     "mov %2, %%es\n\t"
		     "mov %2, %%ss\n\t"
		     "ltr %w3\n\t"
		     "lidt %4"
		     : : "m"(gdtr), "i"(GDT_SEL_CODE), "r"((u64)GDT_SEL_DATA),
		       "r"(GDT_SEL_TSS), "m"(idtr) : "rax", "memory");
}

void cpu_tables_init(void)
{
	gdt[GDT_SEL_CODE / 8] = GDT_CODE64;
	gdt[GDT_SEL_DATA / 8] = GDT_DATA;
	tss.ist[IST_DOUBLE_FAULT - 1] = (u64)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[IST_NMI - 1] = (u64)ist_stacks[1] + IST_STACK_SIZE;
	tss.ist[IST_MACHINE_CHECK - 1] = (u64)ist_stacks[2] + IST_STACK_SIZE;
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap */
	gdt_set_tss();
	for (unsigned v = 0; v < EXCEPTION_VECTORS; v++)
		idt_set_gate(v, trap_stub_table[v], 0);
	idt[X86_EXC_DF].ist = IST_DOUBLE_FAULT;
	idt[X86_EXC_NMI].ist = IST_NMI;
	idt[X86_EXC_MC].ist = IST_MACHINE_CHECK;
	load_tables();
	/* FXRSTOR must reach the XMM registers too (cpu_reset_unswitched_state()). */
	write_cr4(read_cr4() | CR4_OSFXSR);
}

u64 host_gdt_base(void) { return (u64)gdt; }
u64 host_idt_base(void) { return (u64)idt; }
u64 host_tss_base(void) { return (u64)&tss; }
