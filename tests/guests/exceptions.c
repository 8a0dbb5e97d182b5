/* exceptions: exceptions as a Vireo guest sees them. #GP from WRMSR to an unknown MSR is
 * raised by the hypervisor (injected); #UD from UD2 and #PF from the guest's own page tables
 * happen natively. Vector, error code, RIP and CR2 must all be what hardware gives, which
 * checks that any exception the hypervisor intercepts is re-injected unchanged. A native #GP
 * (non-canonical address) is checked too. */
#include "tests/guests/lib/guest.h"

#define MSR_UNKNOWN 0x12345678u
#define NON_CANONICAL_VA 0x8000000000000000ull
#define UNMAPPED_VA 0x0000008000000000ull	/* PML4 entry 1: never mapped */
#define READ_ONLY_VA 0x40000000ull		/* 1 GiB: a 2 MiB page made read-only here */
#define UD2_OPCODE 0x0b0f			/* 0f 0b, as a little-endian u16 */
#define WRMSR_OPCODE 0x300f			/* 0f 30 */

static void check_gp(void)
{
	int vector = catch_exception(wrmsr(MSR_UNKNOWN, 0));

	reportf(vector == GP_VECTOR && last_exception.error_code == 0,
		"WRMSR to unknown MSR %#x raises #GP(0) (got %s, error code %#lx)", MSR_UNKNOWN,
		exception_name(vector), last_exception.error_code);
	reportf(vector == GP_VECTOR && *(const u16 *)last_exception.rip == WRMSR_OPCODE,
		"#GP reported at the WRMSR instruction (rip %#lx)", last_exception.rip);
}

/* A non-canonical address faults natively with #GP(0) (Intel SDM Vol. 3A 3.3.7.1). */
static void check_native_gp(void)
{
	int vector = catch_exception((void)*(volatile u64 *)(uintptr_t)NON_CANONICAL_VA);

	reportf(vector == GP_VECTOR && last_exception.error_code == 0,
		"load from non-canonical %#lx raises #GP(0) (got %s, error code %#lx)",
		(u64)NON_CANONICAL_VA, exception_name(vector), last_exception.error_code);
}

static void check_ud(void)
{
	int vector = catch_exception(asm volatile("ud2"));

	reportf(vector == UD_VECTOR, "UD2 raises #UD (got %s)", exception_name(vector));
	reportf(vector == UD_VECTOR && *(const u16 *)last_exception.rip == UD2_OPCODE,
		"#UD reported at the UD2 instruction (rip %#lx)", last_exception.rip);
}

/* A page fault must report the address in CR2 and the access in the error code. */
static void expect_pf(const char *what, int vector, u64 address, u64 error_code)
{
	reportf(vector == PF_VECTOR && last_exception.cr2 == address &&
		last_exception.error_code == error_code,
		"%s raises #PF, CR2 %#lx, error code %#lx (got %s, CR2 %#lx, error code %#lx)",
		what, address, error_code, exception_name(vector), last_exception.cr2,
		last_exception.error_code);
}

static void check_pf_not_present(void)
{
	volatile u32 *p = (volatile u32 *)(uintptr_t)(UNMAPPED_VA + 0x123);
	int vector;

	vector = catch_exception((void)*p);
	expect_pf("read of an unmapped page", vector, (uintptr_t)p, 0);
	vector = catch_exception(*p = 1);
	expect_pf("write to an unmapped page", vector, (uintptr_t)p, PF_ERR_WRITE);
}

/* CR0.WP is set (lib/start64.S), so even supervisor writes honour read-only pages. */
static void check_pf_read_only(void)
{
	volatile u32 *p = (volatile u32 *)(uintptr_t)(READ_ONLY_VA + 0x10);
	int level = 0;
	u64 *pde = pte_lookup(READ_ONLY_VA, &level);
	int vector;

	if (!pde || level != PAGE_LEVEL_2M) {
		report("the identity map has a 2 MiB page at 1 GiB", false);
		return;
	}
	*pde &= ~(u64)PTE_WRITABLE;
	invlpg(READ_ONLY_VA);
	vector = catch_exception(*p = 1);
	*pde |= PTE_WRITABLE;
	invlpg(READ_ONLY_VA);
	expect_pf("write to a read-only page", vector, (uintptr_t)p,
		  PF_ERR_PRESENT | PF_ERR_WRITE);
}

static void check_recovery(void)
{
	int vector = catch_exception(asm volatile("nop"));

	reportf(vector == NO_EXCEPTION, "an instruction that does not fault is not caught");
}

int main(const struct multiboot_info *mbi)
{
	check_gp();
	check_native_gp();
	check_ud();
	check_pf_not_present();
	check_pf_read_only();
	check_recovery();
	exit_test();
}
