/* The one place mmu/ touches the CPU: flushing EPT-derived translations after a zap. */
#include "arch/x86/vmx.h"
#include "mmu/internal.h"

void ept_flush(const struct mmu *mmu)
{
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, mmu_eptp(mmu));
	else
		invept(INVEPT_ALL_CONTEXTS, 0);
}
