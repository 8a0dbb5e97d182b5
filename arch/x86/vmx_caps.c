/* VMX capability discovery: is VMX there and enabled, and what do the capability MSRs
 * allow (SDM Vol. 3D appendix A). Printed as one readable block at boot. */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx.h"
#include "lib/log.h"

struct vmx_caps vmx_caps;

static struct vmx_allowed read_allowed(u32 msr)
{
	u64 v = rdmsr(msr);
	return (struct vmx_allowed){ .must_be_one = (u32)v, .may_be_one = (u32)(v >> 32) };
}

static void read_capability_msrs(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision = (u32)c->basic & VMX_BASIC_REVISION_MASK;
	c->true_controls = c->basic & VMX_BASIC_TRUE_CTLS;
	c->pin = read_allowed(c->true_controls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->proc = read_allowed(c->true_controls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = read_allowed(c->true_controls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = read_allowed(c->true_controls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	if (c->proc.may_be_one & CPU_BASED_SECONDARY_CONTROLS)
		c->proc2 = read_allowed(MSR_IA32_VMX_PROCBASED_CTLS2);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	bool ept_or_vpid = c->proc2.may_be_one & (SECONDARY_EPT | SECONDARY_VPID);
	c->ept_vpid = ept_or_vpid ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	c->ept = (c->proc2.may_be_one & SECONDARY_EPT) && (c->ept_vpid & EPT_CAP_WB) &&
		 (c->ept_vpid & EPT_CAP_PAGE_WALK_4);
	c->vpid = c->proc2.may_be_one & SECONDARY_VPID;
	c->unrestricted_guest = c->ept && (c->proc2.may_be_one & SECONDARY_UNRESTRICTED_GUEST);
}

const char *vmx_probe(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
		return "VMX not supported by this CPU: Vireo needs an Intel CPU with VT-x "
		       "(under QEMU, use KVM with nested VMX: see the README)";
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return "VMX disabled by firmware: enable Intel VT-x in the firmware (BIOS/UEFI) setup";
	read_capability_msrs(&vmx_caps);
	if (!(vmx_caps.basic & VMX_BASIC_MEMORY_TYPE_WB))
		return "VMX needs write-back VMCS memory, which this CPU does not offer";
	return NULL;
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }

static void print_allowed(const char *name, struct vmx_allowed a)
{
	printk("  %-22s must-be-1 %08x  may-be-1 %08x\n", name, a.must_be_one, a.may_be_one);
}

void vmx_caps_print(void)
{
	const struct vmx_caps *c = &vmx_caps;
	printk("VMX capabilities:\n");
	printk("  VMCS revision          %#x (%s controls MSRs)\n", c->revision,
	       c->true_controls ? "TRUE_" : "plain");
	print_allowed("pin-based controls", c->pin);
	print_allowed("primary controls", c->proc);
	print_allowed("secondary controls", c->proc2);
	print_allowed("exit controls", c->exit);
	print_allowed("entry controls", c->entry);
	printk("  EPT                    %s (4-level walk %s, 2M pages %s, 1G pages %s, A/D bits %s)\n",
	       yes_no(c->ept), yes_no(c->ept_vpid & EPT_CAP_PAGE_WALK_4),
	       yes_no(c->ept_vpid & EPT_CAP_2M_PAGES), yes_no(c->ept_vpid & EPT_CAP_1G_PAGES),
	       yes_no(c->ept_vpid & EPT_CAP_AD_BITS));
	printk("  VPID                   %s (INVVPID %s)\n", yes_no(c->vpid),
	       yes_no(c->ept_vpid & VPID_CAP_INVVPID));
	printk("  unrestricted guest     %s\n", yes_no(c->unrestricted_guest));
	printk("  preemption timer       %s\n",
	       yes_no(c->pin.may_be_one & PIN_BASED_PREEMPTION_TIMER));
	printk("  CR0 fixed 0/1          %08llx / %08llx\n", (unsigned long long)c->cr0_fixed0,
	       (unsigned long long)c->cr0_fixed1);
	printk("  CR4 fixed 0/1          %08llx / %08llx\n", (unsigned long long)c->cr4_fixed0,
	       (unsigned long long)c->cr4_fixed1);
}
