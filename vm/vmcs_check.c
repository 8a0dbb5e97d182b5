/* After a VM entry fails for invalid guest state, the CPU does not say which check failed
 * (SDM Vol. 3C 27.3.1); this re-runs the checks Vireo's guest states could plausibly break
 * and names each one that fails. */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vm/vm_internal.h"

#define AR_TYPE(ar) ((ar) & 0xf)
#define AR_S BIT(4)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P BIT(7)
#define AR_L BIT(13)
#define AR_DB BIT(14)
#define AR_UNUSABLE BIT(16)
#define RFLAGS_RESERVED_ZERO (BITS(63, 22) | BIT(15) | BIT(5) | BIT(3))
#define TSS_TYPE_BUSY_16 3
#define TSS_TYPE_BUSY_64 11

struct check_state {
	const struct vm *vm;
	int failures;
};

static void check(struct check_state *s, bool ok, const char *what)
{
	if (ok)
		return;
	printk("vm %s:   guest-state check failed: %s\n", s->vm->name, what);
	s->failures++;
}

static void check_control_registers(struct check_state *s, bool ia32e, bool unrestricted)
{
	u64 cr0 = vmcs_readnat(VMCS_GUEST_CR0), cr4 = vmcs_readnat(VMCS_GUEST_CR4);
	u64 fixed0 = vmx_caps.cr0_fixed0 & ~(unrestricted ? (u64)(CR0_PE | CR0_PG) : 0);
	check(s, (cr0 & fixed0) == fixed0 && !(cr0 & ~vmx_caps.cr0_fixed1), "CR0 fixed bits (SDM 27.3.1.1)");
	check(s, (cr4 & vmx_caps.cr4_fixed0) == vmx_caps.cr4_fixed0 && !(cr4 & ~vmx_caps.cr4_fixed1),
	      "CR4 fixed bits");
	check(s, !(cr0 & CR0_PG) || (cr0 & CR0_PE), "CR0.PG set without CR0.PE");
	check(s, !ia32e || ((cr0 & CR0_PG) && (cr4 & CR4_PAE)), "IA-32e mode guest without CR0.PG and CR4.PAE");
	if (!(vmx_controls.entry & ENTRY_LOAD_EFER))
		return;		/* the CPU keeps the host's EFER, LMA and LME from the control */
	u64 efer = vmcs_read64(VMCS_GUEST_EFER);
	check(s, !!(efer & EFER_LMA) == ia32e, "EFER.LMA differs from the IA-32e mode guest entry control");
	check(s, !(cr0 & CR0_PG) || !!(efer & EFER_LMA) == !!(efer & EFER_LME), "EFER.LMA differs from EFER.LME with paging on");
}

static void check_segments(struct check_state *s, bool ia32e, bool unrestricted)
{
	u32 cs = vmcs_read32(VMCS_GUEST_CS_AR), ss = vmcs_read32(VMCS_GUEST_SS_AR);
	u32 tr = vmcs_read32(VMCS_GUEST_TR_AR), ldtr = vmcs_read32(VMCS_GUEST_LDTR_AR);
	u32 cs_type = AR_TYPE(cs);
	check(s, (cs & AR_P) && (cs & AR_S), "CS not present or not a code/data segment");
	check(s, (cs_type | 6) == 15 || (unrestricted && cs_type == 3), "CS type is not an accessed code segment");
	check(s, !(ia32e && (cs & AR_L) && (cs & AR_DB)), "CS has both L and D/B set");
	check(s, unrestricted || AR_DPL(ss) == AR_DPL(cs), "SS.DPL differs from CS.DPL");
	check(s, (tr & AR_P) && !(tr & AR_S) && !(tr & AR_UNUSABLE), "TR not a present system segment");
	check(s, AR_TYPE(tr) == TSS_TYPE_BUSY_64 || (!ia32e && AR_TYPE(tr) == TSS_TYPE_BUSY_16),
	      "TR is not a busy TSS");
	check(s, (ldtr & AR_UNUSABLE) || AR_TYPE(ldtr) == 2, "LDTR usable but not an LDT");
}

static void check_other_state(struct check_state *s, bool ia32e)
{
	u64 rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	check(s, (rflags & RFLAGS_FIXED) && !(rflags & RFLAGS_RESERVED_ZERO), "RFLAGS reserved bits");
	check(s, !(ia32e && (rflags & RFLAGS_VM)), "RFLAGS.VM in IA-32e mode");
	check(s, vmcs_read32(VMCS_GUEST_ACTIVITY_STATE) <= 3, "activity state");
	check(s, vmcs_read64(VMCS_LINK_POINTER) == ~0ull, "VMCS link pointer is not ~0");
	bool long_cs = ia32e && (vmcs_read32(VMCS_GUEST_CS_AR) & AR_L);
	check(s, long_cs || !(vmcs_readnat(VMCS_GUEST_RIP) >> 32), "RIP above 4 GiB outside 64-bit code");
}

void vmcs_report_guest_state_checks(struct vcpu *vcpu)
{
	struct check_state s = { vcpu->vm, 0 };
	bool ia32e = vmcs_read32(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
	bool unrestricted = vmcs_read32(VMCS_PROC_CONTROLS2) & SECONDARY_UNRESTRICTED_GUEST;
	check_control_registers(&s, ia32e, unrestricted);
	check_segments(&s, ia32e, unrestricted);
	check_other_state(&s, ia32e);
	if (!s.failures)
		printk("vm %s:   no failing check found among those Vireo knows\n", vcpu->vm->name);
}
