/* cpuid: what CPUID tells a Vireo guest: the hypervisor bit and leaf, VMX hidden, and the
 * real CPU's vendor and family passed through. Also built as the plain ELF64 cpuid64.elf. */
#include "tests/guests/lib/guest.h"

#define VIREO_MAX_HYPERVISOR_LEAF 0x40000001u
#define VIREO_SIGNATURE_BYTES 12

static const char vireo_signature[VIREO_SIGNATURE_BYTES] = "VireoHV\0\0\0\0\0";
static const char *const known_vendors[] = { "GenuineIntel", "AuthenticAMD" };

static void check_feature_bits(void)
{
	u32 ecx = cpuid(1).ecx;

	report("CPUID.1:ECX hypervisor bit (31) is set", ecx & CPUID_1_ECX_HYPERVISOR);
	report("CPUID.1:ECX VMX bit (5) is clear", !(ecx & CPUID_1_ECX_VMX));
}

static void check_hypervisor_leaf(void)
{
	struct cpuid_regs r = cpuid(CPUID_HYPERVISOR_LEAF);
	char signature[13];

	cpuid_hypervisor_signature(signature);
	reportf(r.eax == VIREO_MAX_HYPERVISOR_LEAF, "leaf 0x40000000 max leaf is %#x (got %#x)",
		VIREO_MAX_HYPERVISOR_LEAF, r.eax);
	reportf(!memcmp(signature, vireo_signature, VIREO_SIGNATURE_BYTES),
		"leaf 0x40000000 signature is \"VireoHV\" (got \"%s\")", signature);
}

static void check_vendor(void)
{
	char vendor[13];
	bool known = false;

	cpuid_vendor(vendor);
	for (size_t i = 0; i < ARRAY_SIZE(known_vendors); i++)
		known |= !strcmp(vendor, known_vendors[i]);
	reportf(known, "leaf 0 vendor is a real CPU vendor (got \"%s\")", vendor);
	reportf(cpuid(0).eax >= 1, "leaf 0 max basic leaf is at least 1");
}

/* Family: bits 11:8 of EAX, plus the extended family when those read 0xf (SDM Vol. 2A). */
static void check_family(void)
{
	u32 eax = cpuid(1).eax;
	u32 family = (eax >> 8) & 0xf;

	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	reportf(family != 0, "leaf 1 family is nonzero (got %u, signature %#x)", family, eax);
}

int main(const struct multiboot_info *mbi)
{
	printf("cpuid test (%s)\n", mbi ? "multiboot" : "plain ELF64");
	check_feature_bits();
	check_hypervisor_leaf();
	check_vendor();
	check_family();
	exit_test();
}
