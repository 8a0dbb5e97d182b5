/* CPU state that VMX does not switch between guests and the host never uses (x86.h):
 * saved and loaded whole, so nothing one VM leaves in the CPU reaches another. (EFER.SCE
 * is saved when the guest writes EFER: unswitched_efer_sce_write().) */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx.h"
#include "arch/x86/x86.h"
#include "lib/string.h"

#define FCW_RESET 0x037f	/* x87 control word after FNINIT (SDM Vol. 1 8.1.5) */
#define MXCSR_RESET 0x1f80	/* SDM Vol. 1 10.2.3.1 */
#define DR6_RESET 0xffff0ff0ull

/* The MSRs guests read and write without exits (vmexit/msr.c's bitmap). TSC_AUX only
 * exists with RDTSCP. */
static const u32 unswitched_msrs[UNSWITCHED_MSRS] = {
	MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
	MSR_IA32_TSC_AUX,
};

static unsigned msr_count(void)
{
	return vmx_controls.proc2 & SECONDARY_RDTSCP ? UNSWITCHED_MSRS : UNSWITCHED_MSRS - 1;
}

static bool efer_unswitched(void)
{
	return !(vmx_controls.entry & ENTRY_LOAD_EFER);
}

void unswitched_efer_sce_write(struct unswitched_state *state, u64 sce)
{
	if (!efer_unswitched())
		return;
	state->efer_sce = sce & EFER_SCE;
	wrmsr(MSR_IA32_EFER, (rdmsr(MSR_IA32_EFER) & ~(u64)EFER_SCE) | state->efer_sce);
}

void unswitched_state_reset(struct unswitched_state *state)
{
	memset(state, 0, sizeof(*state));
	state->fpu.fcw = FCW_RESET;	/* FXSAVE's tag byte: 0 is every register empty */
	state->fpu.mxcsr = MXCSR_RESET;
	state->dr6 = DR6_RESET;
}

void unswitched_state_save(struct unswitched_state *state)
{
	asm volatile("fxsave64 %0" : "=m"(state->fpu));
	asm volatile("mov %%dr0, %0\n\t"
		     "mov %%dr1, %1\n\t"
		     "mov %%dr2, %2\n\t"
		     "mov %%dr3, %3\n\t"
		     "mov %%dr6, %4"
		     : "=r"(state->dr[0]), "=r"(state->dr[1]), "=r"(state->dr[2]),
		       "=r"(state->dr[3]), "=r"(state->dr6));
	state->cr2 = read_cr2();
	for (unsigned i = 0; i < msr_count(); i++)
		state->msr[i] = rdmsr(unswitched_msrs[i]);
}

void unswitched_state_load(const struct unswitched_state *state)
{
	asm volatile("fxrstor64 %0" : : "m"(state->fpu));
	asm volatile("mov %0, %%dr0\n\t"
		     "mov %1, %%dr1\n\t"
		     "mov %2, %%dr2\n\t"
		     "mov %3, %%dr3\n\t"
		     "mov %4, %%dr6"
		     : : "r"(state->dr[0]), "r"(state->dr[1]), "r"(state->dr[2]),
		       "r"(state->dr[3]), "r"(state->dr6));
	write_cr2(state->cr2);
	for (unsigned i = 0; i < msr_count(); i++)
		wrmsr(unswitched_msrs[i], state->msr[i]);
	if (efer_unswitched())
		wrmsr(MSR_IA32_EFER, (rdmsr(MSR_IA32_EFER) & ~(u64)EFER_SCE) | state->efer_sce);
}
