/* CPUID signatures and local-APIC mode switches shared by several test guests. */
#include "tests/guests/lib/x86.h"
#include "lib/string.h"

static void copy_signature(char out[13], u32 a, u32 b, u32 c)
{
	memcpy(out, &a, 4);
	memcpy(out + 4, &b, 4);
	memcpy(out + 8, &c, 4);
	out[12] = '\0';
}

void cpuid_vendor(char out[13])
{
	struct cpuid_regs r = cpuid(0);

	copy_signature(out, r.ebx, r.edx, r.ecx);
}

void cpuid_hypervisor_signature(char out[13])
{
	struct cpuid_regs r = cpuid(CPUID_HYPERVISOR_LEAF);

	copy_signature(out, r.ebx, r.ecx, r.edx);
}

void apic_enter_x2apic(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

void apic_return_to_xapic(void)
{
	u64 base = rdmsr(MSR_APIC_BASE) & ~(u64)(APIC_BASE_ENABLE | APIC_BASE_X2APIC);

	wrmsr(MSR_APIC_BASE, base);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
}
