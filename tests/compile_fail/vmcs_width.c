/* Must not compile: reading a natural-width VMCS field (guest RIP) as a 32-bit field. With
 * -DCORRECT_WIDTH it reads it with the right accessor and must compile: the control that
 * shows the failure comes from the width check and nothing else (arch/x86/vmcs.h). */
#include "arch/x86/vmcs.h"

u64 read_guest_rip(void)
{
#ifdef CORRECT_WIDTH
	return vmcs_readnat(VMCS_GUEST_RIP);
#else
	return vmcs_read32(VMCS_GUEST_RIP);
#endif
}
