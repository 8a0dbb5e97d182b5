/* Control registers. VMX forces some CR0/CR4 bits (NE, VMXE, and PE/PG without unrestricted
 * guest); those are owned by the host through the guest/host masks and the guest sees its
 * own values in the read shadows. A guest write that touches an owned bit exits here. */
#include "arch/x86/cpu.h"
#include "core/layout.h"
#include "drivers/vdev.h"
#include "vmexit/handlers.h"

/* CR4 bits a guest may not set: features hidden from it (vmexit/cpuid.c): VMX, SMX,
 * XSAVE; 5-level paging (the emulator's walker has 4 levels); protection keys and CET
 * (their state is not switched between VMs). */
#define CR4_GUEST_DENIED (CR4_VMXE | CR4_SMXE | CR4_OSXSAVE | CR4_LA57 | CR4_PKE | CR4_CET)
#define CR0_RESERVED_HIGH BITS(63, 32)

/* Exit qualification for control-register accesses (SDM Vol. 3C table 28-3). */
#define CR_QUAL_NUMBER(q) ((q) & 0xf)
#define CR_QUAL_ACCESS(q) (((q) >> 4) & 3)
#define CR_QUAL_GPR(q) (((q) >> 8) & 0xf)
#define CR_QUAL_LMSW_DATA(q) (((q) >> 16) & 0xffff)
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };
/* LMSW loads CR0 bits 3:0 (PE, MP, EM, TS) but cannot clear PE (SDM Vol. 2A, LMSW). */
#define LMSW_BITS 0xfull
#define LMSW_CLEARABLE 0xeull
/* In PAE paging CR3 bits 4:0 are ignored: the PDPT is 32-byte aligned (SDM Vol. 3A 4.4.1). */
#define CR3_PAE_IGNORED_BITS 0x1full
/* With CR4.PCIDE, CR3 bits 11:0 are the PCID, and bit 63 of a MOV to CR3's source asks to
 * keep the new PCID's TLB entries; it is not stored (SDM Vol. 3A 4.10.4.1). */
#define CR3_PCID_BITS 0xfffull
#define CR3_PCID_NOFLUSH BIT(63)

/* The shadow MMU runs every guest with paging on, supervisor writes checked and PAE or
 * IA-32e entries (its sptes), whatever the guest chose: the guest's values of these bits
 * live in the read shadows, and each change exits so the MMU can follow. */
#define CR0_SHADOW_OWNED (CR0_PE | CR0_PG | CR0_WP)
#define CR0_SHADOW_ON (CR0_PG | CR0_WP)
#define CR4_SHADOW_OWNED (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_PCIDE)
/* Shadow leaves are never global, so PGE gains nothing; PSE means nothing under PAE; the
 * guest's PCIDs are the shadow MMU's to follow (its kept roots), the CPU's TLB is flushed
 * at every root switch. */
#define CR4_SHADOW_OFF (CR4_PSE | CR4_PGE | CR4_PCIDE)
/* SMEP and SMAP while the guest's paging is off: its accesses then all behave as
 * supervisor accesses to supervisor pages, but its direct sptes are user pages. */
#define CR4_SHADOW_OFF_WITHOUT_PAGING (CR4_SMEP | CR4_SMAP)

/*
 * EPT without unrestricted guest (Nehalem, Bochs' corei5_lynnfield_750): VMX runs no guest
 * with paging off, so while the guest's CR0.PG is 0 the CPU pages through the identity
 * map, one page directory of 1024 4-MiB pages over the first 4 GiB (as KVM does), with
 * 32-bit paging: CR4.PSE on and PAE off, SMEP and SMAP off (its pages are user pages),
 * EFER.LME off until the guest sets PG. The guest's CR3 waits in the vCPU, with CR3
 * exits on, until paging comes on. The page is read-only guest-physical memory of every
 * such VM (vm_map_identity_pd()): what a guest writes there is dropped.
 */
#define CR4_IDENTITY_OWNED (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP)
#define CR3_EXITS (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)

/* Computed once from the capability MSRs by cr_masks_init(). */
struct cr_forced_bits cr_forced;

void cr_masks_init(void)
{
	cr_forced.cr0_on = vmx_caps.cr0_fixed0;
	if (vmx_controls.proc2 & SECONDARY_UNRESTRICTED_GUEST)
		cr_forced.cr0_on &= ~(u64)(CR0_PE | CR0_PG);
	cr_forced.cr0_off = ~vmx_caps.cr0_fixed1 & 0xffffffffull;
	cr_forced.cr4_on = vmx_caps.cr4_fixed0;
	cr_forced.cr4_off = ~vmx_caps.cr4_fixed1 | CR4_GUEST_DENIED;
	cr_forced.cr0_owned = CR0_PG;
	cr_forced.cr4_owned = 0;
	if (vm_defaults.shadow_paging) {
		cr_forced.cr0_owned |= CR0_SHADOW_OWNED;
		cr_forced.cr4_owned = CR4_SHADOW_OWNED;
	} else if (!(vmx_controls.proc2 & SECONDARY_UNRESTRICTED_GUEST)) {
		cr_forced.identity_map = true;
		cr_forced.cr4_owned = CR4_IDENTITY_OWNED;
	}
	cr_forced.cr0_mask = cr_forced.cr0_on | cr_forced.cr0_off | cr_forced.cr0_owned;
	cr_forced.cr4_mask = cr_forced.cr4_on | cr_forced.cr4_off | cr_forced.cr4_owned;
}

u64 vcpu_cr0_actual(u64 v)
{
	v = (v & ~cr_forced.cr0_off) | cr_forced.cr0_on;
	return vm_defaults.shadow_paging ? v | CR0_SHADOW_ON : v;
}

u64 vcpu_cr4_actual(u64 v, u64 guest_cr0)
{
	v = (v & ~cr_forced.cr4_off) | cr_forced.cr4_on;
	if (cr_forced.identity_map && !(guest_cr0 & CR0_PG))
		return (v | CR4_PSE) & ~(u64)(CR4_PAE | CR4_SMEP | CR4_SMAP);
	if (!vm_defaults.shadow_paging)
		return v;
	v = (v | CR4_PAE) & ~(u64)CR4_SHADOW_OFF;
	return guest_cr0 & CR0_PG ? v : v & ~(u64)CR4_SHADOW_OFF_WITHOUT_PAGING;
}

/* The CPU pages even while the guest does not (shadow MMU, identity map). */
static bool cpu_pages_for_the_guest(void)
{
	return vm_defaults.shadow_paging || cr_forced.identity_map;
}

void vcpu_write_guest_cr3_ept(struct vcpu *vcpu, u64 cr3)
{
	bool identity_map = vcpu_on_identity_map(vcpu);
	if (identity_map) {
		vcpu->cr3_paging_off = cr3;
		vmcs_writenat(VMCS_GUEST_CR3, GUEST_IDENTITY_PD_GPA);
	} else {
		vmcs_writenat(VMCS_GUEST_CR3, cr3);
	}
	vcpu_update_proc_controls(vcpu, identity_map ? CR3_EXITS : 0, identity_map ? 0 : CR3_EXITS);
}

/*
 * The CPU's EFER is the guest's, except on the shadow MMU, where NXE is on (shadow leaves
 * use XD), and there and on the identity map LME follows LMA (the CPU pages even while
 * the guest does not, so LME without LMA would be an inconsistent state for it). Without the VMX EFER controls (Core 2) the
 * CPU runs the guest with the host's EFER, LMA and LME set from the IA-32e mode entry
 * control (SDM Vol. 3C 26.3.2.1), and SCE put there by hand (the host's NXE is on, which
 * the shadow MMU wants anyway); the guest sees vcpu->efer either way (EFER accesses exit).
 */
void vcpu_write_efer(struct vcpu *vcpu, u64 efer)
{
	vcpu->efer = efer;
	u64 cpu_efer = efer;
	if (vm_defaults.shadow_paging)
		cpu_efer |= EFER_NXE;
	if (cpu_pages_for_the_guest())
		cpu_efer = (cpu_efer & ~(u64)EFER_LME) | (efer & EFER_LMA ? EFER_LME : 0);
	if (vmx_controls.entry & ENTRY_LOAD_EFER)
		vmcs_write64(VMCS_GUEST_EFER, cpu_efer);
	else
		unswitched_efer_sce_write(&vcpu->unswitched, efer);
	u32 entry = vmcs_read32(VMCS_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST;
	vmcs_write32(VMCS_ENTRY_CONTROLS, entry | (efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0));
}

/* Bits of a present PAE PDPTE that must be 0: 2:1, 8:5 and MAXPHYADDR up (SDM Vol. 3A
 * 4.4.1; the guest's MAXPHYADDR is the host's, vmexit/cpuid.c). */
#define PDPTE_RESERVED_LOW (BITS(2, 1) | BITS(8, 5))

/* The PDPTEs a CR write makes the CPU use; used is false where it uses none. */
struct pae_pdptes {
	bool used;
	u64 entry[4];
};

/*
 * PAE paging under EPT: VM entry takes the PDPTEs from the VMCS, so a CR write that the
 * CPU did not perform itself must load them from the new CR3 (SDM Vol. 3C 26.3.2.4).
 * Read before the write changes anything: PDPTEs with reserved bits set make the MOV
 * raise #GP and leave every register as it was (SDM Vol. 3A 4.4.1); false then.
 */
static bool fetch_pae_pdptes(struct vcpu *vcpu, u64 cr0, u64 cr4, u64 cr3,
			     struct pae_pdptes *p)
{
	p->used = !vcpu_shadow_paging(vcpu) && (cr0 & CR0_PG) && (cr4 & CR4_PAE) &&
		  !(vcpu_guest_efer(vcpu) & EFER_LME);
	if (!p->used)
		return true;
	if (!vm_read_gpa(vcpu->vm, cr3 & ~CR3_PAE_IGNORED_BITS, p->entry, sizeof(p->entry)))
		return false;
	u64 reserved = PDPTE_RESERVED_LOW | ~(BIT(host_cpu.phys_addr_bits) - 1);
	for (int i = 0; i < 4; i++)
		if ((p->entry[i] & GUEST_PTE_PRESENT) && (p->entry[i] & reserved))
			return false;
	return true;
}

static void load_pae_pdptes(const struct pae_pdptes *p)
{
	if (!p->used)
		return;
	vmcs_write64(VMCS_GUEST_PDPTE0, p->entry[0]);
	vmcs_write64(VMCS_GUEST_PDPTE1, p->entry[1]);
	vmcs_write64(VMCS_GUEST_PDPTE2, p->entry[2]);
	vmcs_write64(VMCS_GUEST_PDPTE3, p->entry[3]);
}

/* SDM Vol. 3A 2.5 and 9.8.5: the #GP cases of MOV to CR0, paging turned off in 64-bit
 * mode included. */
static bool cr0_is_valid(const struct vcpu *vcpu, u64 v, u64 efer)
{
	if ((v & CR0_RESERVED_HIGH) || ((v & CR0_PG) && !(v & CR0_PE)) ||
	    ((v & CR0_NW) && !(v & CR0_CD)))
		return false;
	if (!(v & CR0_PG) && (efer & EFER_LMA) && guest_in_64bit_mode())
		return false;
	if (!(v & CR0_PG) && (vcpu_guest_cr4(vcpu) & CR4_PCIDE))
		return false;
	return !((v & CR0_PG) && (efer & EFER_LME) && !(vcpu_guest_cr4(vcpu) & CR4_PAE));
}

/* After a CR write: the PDPTEs under EPT, the shadow root on the shadow MMU. */
static bool paging_changed(struct vcpu *vcpu, const struct pae_pdptes *pdptes)
{
	if (vcpu_shadow_paging(vcpu))
		return shadow_paging_update(vcpu, vcpu_guest_cr3(vcpu), false);
	load_pae_pdptes(pdptes);
	return true;
}

/*
 * Real mode (CR0.PE = 0) runs only with unrestricted guest (Westmere and later, and EPT on):
 * VMX keeps PE set otherwise. KVM emulates real mode there, or runs it in virtual-8086
 * mode; Vireo does neither and stops the VM, naming what it lacks.
 */
static bool real_mode_refused(struct vcpu *vcpu, u64 v)
{
	if ((v & CR0_PE) || !(cr_forced.cr0_on & CR0_PE))
		return false;
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "switches to real mode (CR0.PE = 0), which needs the "
		"VMX unrestricted-guest feature%s: run it on a CPU that has it (Westmere or later)",
		vm_defaults.shadow_paging ? " and EPT (this VM runs on the shadow MMU)" :
		", which this CPU lacks");
	return true;
}

static bool write_guest_cr0(struct vcpu *vcpu, u64 v)
{
	if (real_mode_refused(vcpu, v))
		return true;		/* the VM is stopped */
	u64 efer = vcpu_guest_efer(vcpu);
	u64 cr3 = vcpu_guest_cr3(vcpu);
	struct pae_pdptes pdptes;
	if (!cr0_is_valid(vcpu, v, efer) ||
	    !fetch_pae_pdptes(vcpu, v, vcpu_guest_cr4(vcpu), cr3, &pdptes))
		return false;
	bool pg_changed = (v ^ vcpu_guest_cr0(vcpu)) & CR0_PG;
	vcpu->cr0_shadow = v;
	vmcs_writenat(VMCS_CR0_READ_SHADOW, v);
	vmcs_writenat(VMCS_GUEST_CR0, vcpu_cr0_actual(v));
	if (pg_changed && (efer & EFER_LME))
		vcpu_write_efer(vcpu, (efer & ~EFER_LMA) | ((v & CR0_PG) ? EFER_LMA : 0));
	if (pg_changed && cpu_pages_for_the_guest()) {	/* CR4 bits follow PG there */
		vmcs_writenat(VMCS_GUEST_CR4, vcpu_cr4_actual(vcpu->cr4_shadow, v));
		if (cr_forced.identity_map)	/* onto or off the identity map */
			vcpu_write_guest_cr3_ept(vcpu, cr3);
	}
	return paging_changed(vcpu, &pdptes);
}

/* CR4.PCIDE may be set only in IA-32e mode with CR3 bits 11:0 clear (SDM Vol. 3A 4.10.1). */
static bool pcide_change_valid(struct vcpu *vcpu, u64 v)
{
	if (!(v & CR4_PCIDE) || (vcpu_guest_cr4(vcpu) & CR4_PCIDE))
		return true;
	return (vcpu_guest_efer(vcpu) & EFER_LMA) && !(vcpu_guest_cr3(vcpu) & CR3_PCID_BITS);
}

static bool write_guest_cr4(struct vcpu *vcpu, u64 v)
{
	struct pae_pdptes pdptes;
	if ((v & cr_forced.cr4_off) || ((vcpu_guest_efer(vcpu) & EFER_LMA) && !(v & CR4_PAE)) ||
	    !pcide_change_valid(vcpu, v) ||
	    !fetch_pae_pdptes(vcpu, vcpu_guest_cr0(vcpu), v, vcpu_guest_cr3(vcpu), &pdptes))
		return false;
	vcpu->cr4_shadow = v;
	vmcs_writenat(VMCS_CR4_READ_SHADOW, v);
	vmcs_writenat(VMCS_GUEST_CR4, vcpu_cr4_actual(v, vcpu_guest_cr0(vcpu)));
	return paging_changed(vcpu, &pdptes);
}

static bool write_guest_cr3_ept(struct vcpu *vcpu, u64 v)
{
	struct pae_pdptes pdptes;
	if (!fetch_pae_pdptes(vcpu, vcpu_guest_cr0(vcpu), vcpu_guest_cr4(vcpu), v, &pdptes))
		return false;
	vcpu_write_guest_cr3_ept(vcpu, v);
	load_pae_pdptes(&pdptes);
	return true;
}

/* In IA-32e mode CR3 bits 63:MAXPHYADDR are reserved: setting one raises #GP. */
static bool write_guest_cr3_shadow(struct vcpu *vcpu, u64 v)
{
	bool keep_tlb = (vcpu_guest_cr4(vcpu) & CR4_PCIDE) && (v & CR3_PCID_NOFLUSH);
	if (keep_tlb)
		v &= ~CR3_PCID_NOFLUSH;
	if ((vcpu_guest_efer(vcpu) & EFER_LMA) && (v & BITS(63, host_cpu.phys_addr_bits)))
		return false;
	return shadow_cr3_write(vcpu, v, keep_tlb);
}

bool vcpu_mov_to_cr(struct vcpu *vcpu, unsigned cr, u64 v)
{
	switch (cr) {
	case 0: return write_guest_cr0(vcpu, v);
	case 3:
		if (vcpu_shadow_paging(vcpu))
			return write_guest_cr3_shadow(vcpu, v);
		return write_guest_cr3_ept(vcpu, v);
	case 4: return write_guest_cr4(vcpu, v);
	case 8: return vdev_write_cr8(vcpu->vm, v);
	}
	return false;
}

/* MOV from CR3 exits for the shadow MMU and the identity map, from CR8 always. */
static bool mov_from_cr(struct vcpu *vcpu, unsigned cr, unsigned reg)
{
	if (cr == 3) {
		exit_gpr_write(vcpu, reg, vcpu_guest_cr3(vcpu));
		return true;
	}
	u64 cr8;
	if (cr != 8 || !vdev_read_cr8(vcpu->vm, &cr8))
		return false;
	exit_gpr_write(vcpu, reg, cr8);
	return true;
}

/* Outside 64-bit mode MOV to CR takes a 32-bit register (SDM Vol. 2B, MOV—Move to/from
 * Control Registers): the bits above are not the source's. */
static u64 mov_to_cr_source(const struct vcpu *vcpu, unsigned reg)
{
	u64 v = exit_gpr_read(vcpu, reg);
	return guest_in_64bit_mode() ? v : (u32)v;
}

void handle_cr_access(struct vcpu *vcpu)
{
	u64 q = exit_qualification(vcpu);
	unsigned cr = CR_QUAL_NUMBER(q);
	bool ok;
	switch (CR_QUAL_ACCESS(q)) {
	case CR_MOV_TO:
		ok = vcpu_mov_to_cr(vcpu, cr, mov_to_cr_source(vcpu, CR_QUAL_GPR(q)));
		break;
	case CR_MOV_FROM:
		ok = mov_from_cr(vcpu, cr, CR_QUAL_GPR(q));
		break;
	case CR_CLTS:
		ok = write_guest_cr0(vcpu, vcpu_guest_cr0(vcpu) & ~CR0_TS);
		break;
	default:	/* LMSW: bits 3:0 only, and it cannot clear PE */
		ok = write_guest_cr0(vcpu, (vcpu_guest_cr0(vcpu) & ~LMSW_CLEARABLE) |
					   (CR_QUAL_LMSW_DATA(q) & LMSW_BITS));
		break;
	}
	if (ok)
		skip_instruction(vcpu);
	else
		inject_gp(vcpu);
}
