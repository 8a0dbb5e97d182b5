/* CPU and platform access for test guests: port I/O, MMIO of each width, CPUID, MSRs, TSC,
 * control registers, plus the constants the guests share (shared with the .S files). */
#ifndef GUEST_X86_H
#define GUEST_X86_H

/* Segment selectors of the guest's own GDT (lib/tables64.S). */
#define GDT_CODE64 0x08
#define GDT_DATA 0x10

/* Control-register and EFER bits (Intel SDM Vol. 3A 2.5 and 2.2.1). */
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_LMA (1 << 10)

/* Paging-structure entry bits (Intel SDM Vol. 3A 4.5). */
#define PTE_PRESENT 0x1
#define PTE_WRITABLE 0x2
#define PTE_PWT 0x8
#define PTE_USER 0x4
#define PTE_PCD 0x10
#define PTE_ACCESSED 0x20
#define PTE_DIRTY 0x40
#define PTE_LARGE 0x80

/* Exception vectors (Intel SDM Vol. 3A 6.3.1). */
#define UD_VECTOR 6
#define GP_VECTOR 13
#define PF_VECTOR 14
#define EXCEPTION_COUNT 32
#define IDT_VECTORS 256
/* Vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30. */
#define ERROR_CODE_VECTORS 0x60227d00

/* #PF error-code bits (Intel SDM Vol. 3A 4.7). */
#define PF_ERR_PRESENT 0x1
#define PF_ERR_WRITE 0x2

/* The platform (QEMU's pc machine as Vireo models it). */
#define COM1_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define TESTDEV_SCRATCH_PORT 0xe0	/* pc-testdev: 32-bit scratch register, 0xe0-0xe3 */
#define TESTDEV_MMIO_BASE 0xff000000u	/* pc-testdev: 64 KiB of memory-like MMIO */
#define TESTDEV_MMIO_SIZE 0x10000u
#define VIREO_TESTDEV_BASE 0xfe000000u	/* Vireo's test device */
#define VIREO_TESTDEV_DOORBELL 0x00	/* any value written rings it */
#define VIREO_TESTDEV_MATCH_DOORBELL 0x08	/* rings only for VIREO_TESTDEV_MATCH_VALUE */
#define VIREO_TESTDEV_DOORBELL_COUNT 0x10
#define VIREO_TESTDEV_MATCH_COUNT 0x18
#define VIREO_TESTDEV_SCRATCH 0x20
#define VIREO_TESTDEV_MATCH_VALUE 0x5a
#define XAPIC_BASE 0xfee00000u

/* MSRs (Intel SDM Vol. 4). */
#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_VMX_BASIC 0x480
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_VERSION 0x803
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_FMASK 0xC0000084
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_TSC_AUX 0xC0000103

/* IA32_APIC_BASE bits (Intel SDM Vol. 3A 11.4.4 and 11.12.1). */
#define APIC_BASE_BSP (1 << 8)
#define APIC_BASE_X2APIC (1 << 10)
#define APIC_BASE_ENABLE (1 << 11)

/* CPUID bits (Intel SDM Vol. 2A, CPUID). */
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_HYPERVISOR_LEAF 0x40000000u

#ifndef __ASSEMBLY__
#include "lib/types.h"

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: exactly one MOV of the named width per call, so exit counts are exact. */
static inline u8 mmio_read8(uintptr_t addr)
{
	u8 v;

	asm volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}

static inline u16 mmio_read16(uintptr_t addr)
{
	u16 v;

	asm volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline u32 mmio_read32(uintptr_t addr)
{
	u32 v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write8(uintptr_t addr, u8 v)
{
	asm volatile("movb %0, (%1)" : : "q"(v), "r"(addr) : "memory");
}

static inline void mmio_write16(uintptr_t addr, u16 v)
{
	asm volatile("movw %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write32(uintptr_t addr, u32 v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

#ifdef __x86_64__
static inline u64 mmio_read64(uintptr_t addr)
{
	u64 v;

	asm volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write64(uintptr_t addr, u64 v)
{
	asm volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}
#endif

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* RDTSC that neither starts before earlier instructions finish nor lets later ones start
 * before it (LFENCE on both sides, Intel SDM Vol. 2B RDTSC). */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;

	asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

static inline unsigned long read_cr2(void)
{
	unsigned long v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline unsigned long read_cr3(void)
{
	unsigned long v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(unsigned long v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline unsigned long read_cr4(void)
{
	unsigned long v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(unsigned long v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void invlpg(uintptr_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline __noreturn void halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

static inline bool cpu_has_x2apic(void)
{
	return cpuid(1).ecx & CPUID_1_ECX_X2APIC;
}

/* The 12-byte vendor signature of a CPUID leaf in EBX, EDX, ECX order (leaf 0) or EBX,
 * ECX, EDX order (hypervisor leaves), NUL-terminated in out[13]. */
void cpuid_vendor(char out[13]);
void cpuid_hypervisor_signature(char out[13]);

/* Switches the local APIC between xAPIC and x2APIC mode (Intel SDM Vol. 3A 11.12.5: back
 * from x2APIC only through the disabled state). Needs CPUID's x2APIC bit. */
void apic_enter_x2apic(void);
void apic_return_to_xapic(void);

#endif /* __ASSEMBLY__ */
#endif
