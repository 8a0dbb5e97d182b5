/* CPU state that VMX does not switch between guests and the host never uses: x87/SSE
 * registers, DR0-DR3 and DR6, CR2. One VM runs after another on the same CPU, so each
 * starts from reset values: nothing a VM left there can reach the next one. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"

#define FCW_RESET 0x037f	/* x87 control word after FNINIT (SDM Vol. 1 8.1.5) */
#define MXCSR_RESET 0x1f80	/* SDM Vol. 1 10.2.3.1 */
#define DR6_RESET 0xffff0ff0ull

/* An FXSAVE image of the reset state (SDM Vol. 1 table 10-2): all registers zero. */
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

static const struct fxsave_area reset_fpu_state = { .fcw = FCW_RESET, .mxcsr = MXCSR_RESET };

void cpu_reset_unswitched_state(void)
{
	asm volatile("fninit\n\t"
		     "fxrstor64 %0" : : "m"(reset_fpu_state) : "memory");
	asm volatile("mov %0, %%dr0\n\t"
		     "mov %0, %%dr1\n\t"
		     "mov %0, %%dr2\n\t"
		     "mov %0, %%dr3\n\t"
		     "mov %1, %%dr6" : : "r"(0ull), "r"(DR6_RESET));
	write_cr2(0);
}
