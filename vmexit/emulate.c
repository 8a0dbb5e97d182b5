/* Instruction emulation for the vCPU: the glue between the exit and arch/x86's emulator.
 * Linear addresses are translated through the guest's own page tables (mmu/guest_walk);
 * each page of an access then goes to guest RAM or to the MMIO bus. */
#include "arch/x86/cpu.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/phys.h"
#include "lib/string.h"
#include "mmu/guest_walk.h"
#include "mmu/walk_cache.h"
#include "vmexit/handlers.h"

struct emulation {
	struct vcpu *vcpu;
	struct x86_emu_ctxt *ctxt;	/* the vCPU's: it keeps the decode cache */
	struct guest_paging paging;
	unsigned cpl;
	const struct mmio_exit *exit;	/* the MMIO exit being emulated, or NULL */
	bool access_at_exit_gpa;	/* the data access lay wholly at the exit's gpa... */
	u64 access_linear;		/* ...and started at this linear address */
	bool fetch_hit_mmio;
	u64 fetch_gpa;
	/* A store to a shadowed guest page table: if the emulator cannot run it, the table
	 * stops being shadowed and the guest re-runs the store itself. */
	bool page_table_write;
	u64 page_table_gpa;
	/* The linear page of that store, which its fault walked for a write (A and D set):
	 * data accesses there need no walk. */
	u64 table_page_linear;
};

/* Guest RAM for the walker: through the vCPU's last-hit memslot shortcut. */
static void *ram_hva(struct vcpu *vcpu, u64 gpa, unsigned len, bool write)
{
	return memslot_gpa_to_hva(&vcpu->vm->mmu.memslots, &vcpu->mmu, gpa, len, write);
}

/* Whether linear lies in the linear page whose translation the exit gave (the CPU
 * translated and checked it): then no guest walk is needed. */
static bool in_exit_page(const struct emulation *emu, u64 linear)
{
	return emu->exit && emu->exit->translation_known &&
	       !((linear ^ emu->exit->linear) & ~(PAGE_SIZE - 1));
}

static u64 exit_page_gpa(const struct emulation *emu, u64 linear)
{
	return (emu->exit->gpa & ~(PAGE_SIZE - 1)) | (linear & (PAGE_SIZE - 1));
}

static bool in_table_page(const struct emulation *emu, u64 linear)
{
	return emu->page_table_write && !((linear ^ emu->table_page_linear) & ~(PAGE_SIZE - 1));
}

static bool in_exit_gfn(const struct emulation *emu, u64 gpa)
{
	return emu->exit && gpa_to_gfn(gpa) == gpa_to_gfn(emu->exit->gpa);
}

/*
 * Guest memory for the emulator's page walks: RAM, and MMIO too. A guest may keep a page
 * table in device memory, and the CPU then walks it there (its reads are what exited); the
 * walk reads and updates such entries through the MMIO bus, as the CPU's walk would. (The
 * shadow MMU cannot write-protect such a table: its walker takes RAM only.)
 */
struct walk_memory {
	struct guest_ram ram;
	struct vm *vm;
};

static bool is_ram(const struct walk_memory *m, u64 gpa, unsigned size)
{
	return memslot_gpa_to_hva(m->ram.slots, m->ram.vcpu, gpa, size, false);
}

static int walk_memory_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	struct walk_memory *m = ctx;
	if (is_ram(m, gpa, size))
		return guest_ram_ops.read(&m->ram, gpa, size, value);
	io_bus_read(&m->vm->mmio_bus, gpa, size, value);
	return 0;
}

static int walk_memory_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	struct walk_memory *m = ctx;
	if (is_ram(m, gpa, size))
		return guest_ram_ops.cmpxchg(&m->ram, gpa, size, old_value, new_value);
	u64 value;
	io_bus_read(&m->vm->mmio_bus, gpa, size, &value);	/* one vCPU: nothing races */
	if (value != old_value)
		return GUEST_MEM_CHANGED;
	io_bus_write(&m->vm->mmio_bus, gpa, size, new_value);
	return 0;
}

static const struct guest_mem_ops walk_memory_ops = { walk_memory_read, walk_memory_cmpxchg };

/* Remembers a successful walk with where its entries live, for walk_cache_lookup(). */
static void remember_walk(struct emulation *emu, struct walk_cache *cache, u64 generation,
			  u64 linear, unsigned access, const struct guest_walk_result *walk)
{
	const u64 *entry_hva[GUEST_WALK_MAX_LEVELS] = { 0 };
	for (unsigned level = walk->level; level <= walk->top_level; level++)
		entry_hva[level - 1] = ram_hva(emu->vcpu, walk->pte_gpa[level - 1], sizeof(u64), false);
	u8 *page_hva = ram_hva(emu->vcpu, walk->gpa & ~(PAGE_SIZE - 1), PAGE_SIZE,
			       access & GUEST_ACCESS_WRITE);
	walk_cache_fill(cache, &emu->paging, generation, linear, access, walk, entry_hva, page_hva);
}

/* linear -> gpa. *page_hva: the page in host memory when the walk cache knows it, else
 * NULL (then look it up: it may be RAM or MMIO). */
static int translate(struct emulation *emu, u64 linear, unsigned access, u64 *gpa,
		     u8 **page_hva, struct x86_exception *e)
{
	*page_hva = NULL;
	if (emu->paging.mode == GUEST_PAGING_OFF) {
		*gpa = linear;
		return X86_EMUL_OK;
	}
	if (!(access & GUEST_ACCESS_FETCH) && in_exit_page(emu, linear)) {
		*gpa = exit_page_gpa(emu, linear);
		return X86_EMUL_OK;
	}
	if (!(access & GUEST_ACCESS_FETCH) && in_table_page(emu, linear)) {
		*gpa = (emu->page_table_gpa & ~(PAGE_SIZE - 1)) | (linear & (PAGE_SIZE - 1));
		return X86_EMUL_OK;
	}
	/* The store's own bytes: where the CPU just fetched them, through the shadow tables. */
	if ((access & GUEST_ACCESS_FETCH) && emu->page_table_write &&
	    mmu_shadow_leaf_gpa(&emu->vcpu->vm->mmu, &emu->vcpu->mmu, linear,
				ACC_EXEC | (emu->cpl == 3 ? ACC_USER : 0), 0, gpa))
		return X86_EMUL_OK;
	access |= emu->cpl == 3 ? GUEST_ACCESS_USER : 0;
	/* An explicit supervisor data access with EFLAGS.AC = 1 is exempt from SMAP. */
	if (!(access & (GUEST_ACCESS_USER | GUEST_ACCESS_FETCH)) && (emu->vcpu->regs.rflags & RFLAGS_AC))
		access |= GUEST_ACCESS_SMAP_ALLOWED;
	struct walk_cache *cache = &emu->vcpu->walk_cache[!!(access & GUEST_ACCESS_FETCH)];
	u64 generation = emu->vcpu->vm->mmu.memslots.generation;
	if (walk_cache_lookup(cache, &emu->paging, generation, linear, access, gpa, page_hva))
		return X86_EMUL_OK;
	struct guest_walk_result walk;
	struct walk_memory memory = { { &emu->vcpu->vm->mmu.memslots, &emu->vcpu->mmu },
				      emu->vcpu->vm };
	switch (guest_walk(&emu->paging, &walk_memory_ops, &memory, linear, access, &walk)) {
	case GUEST_WALK_OK:
		*gpa = walk.gpa;
		remember_walk(emu, cache, generation, linear, access, &walk);
		return X86_EMUL_OK;
	case GUEST_WALK_PAGE_FAULT:
		*e = (struct x86_exception){ X86_EXC_PF, true, walk.error_code, walk.fault_addr };
		return X86_EMUL_EXCEPTION;
	case GUEST_WALK_NONCANONICAL:
		*e = (struct x86_exception){ X86_EXC_GP, true, 0, 0 };
		return X86_EMUL_EXCEPTION;
	default:	/* the tables kept changing under the walk */
		return X86_EMUL_UNHANDLED;
	}
}

static int fetch(void *ctx, u64 linear, void *buf, unsigned len, struct x86_exception *e)
{
	struct emulation *emu = ctx;
	u64 gpa;
	u8 *page_hva;
	int r = translate(emu, linear, GUEST_ACCESS_FETCH, &gpa, &page_hva, e);
	if (r != X86_EMUL_OK)
		return r;
	void *hva = page_hva ? page_hva + (gpa & (PAGE_SIZE - 1)) : ram_hva(emu->vcpu, gpa, len, false);
	if (!hva) {
		emu->fetch_hit_mmio = true;
		emu->fetch_gpa = gpa;
		return X86_EMUL_UNHANDLED;
	}
	memcpy(buf, hva, len);
	return X86_EMUL_OK;
}

/* A write to a doorbell: signalled here when its value is known (value-match doorbells,
 * or any doorbell with fast_mmio=off). Returns whether the doorbell took it. */
static bool ring_doorbell(struct vm *vm, u64 gpa, u64 value)
{
	struct doorbell *bell = fast_mmio_find(&vm->fast_mmio_bus, gpa);
	if (!bell || (bell->match_value && bell->value != value))
		return false;
	bell->signal(bell, value, true);
	return true;
}

/* One access of 1, 2, 4 or 8 bytes to the MMIO bus; other sizes go byte by byte. A page
 * reached through a cached MMIO spte holds no doorbell (doorbell pages are never cached),
 * so may_ring is false there and the doorbell list is not scanned. */
static void mmio_access(struct vm *vm, u64 gpa, u8 *buf, unsigned len, bool write, bool may_ring)
{
	if (len != 1 && len != 2 && len != 4 && len != 8) {
		for (unsigned i = 0; i < len; i++)
			mmio_access(vm, gpa + i, buf + i, 1, write, may_ring);
		return;
	}
	u64 value = 0;
	if (write) {
		memcpy(&value, buf, len);
		if (!may_ring || !ring_doorbell(vm, gpa, value))
			io_bus_write(&vm->mmio_bus, gpa, len, value);
	} else {
		io_bus_read(&vm->mmio_bus, gpa, len, &value);
		memcpy(buf, &value, len);
	}
}

/* Notes a data access wholly at the exit's gpa (what an MMIO site may replay). */
static void note_access(struct emulation *emu, u64 linear, u64 gpa, bool whole)
{
	if (whole && emu->exit && gpa == emu->exit->gpa) {
		emu->access_at_exit_gpa = true;
		emu->access_linear = linear;
	}
}

/* A data access, split at the page boundary; both pages are translated before either is
 * touched, so a fault on the second leaves the first unchanged, as on the CPU. */
static int access_memory(struct emulation *emu, u64 linear, u8 *buf, unsigned size, bool write,
			 struct x86_exception *e)
{
	unsigned first = (unsigned)MIN((u64)size, PAGE_SIZE - (linear & (PAGE_SIZE - 1)));
	if (first == size && in_exit_page(emu, linear) && emu->exit->no_doorbell) {
		u64 gpa = exit_page_gpa(emu, linear);
		note_access(emu, linear, gpa, true);
		mmio_access(emu->vcpu->vm, gpa, buf, size, write, false);
		return X86_EMUL_OK;	/* the common case: no walk, no slot search */
	}
	u64 gpa[2];
	u8 *page_hva[2];
	unsigned access = write ? GUEST_ACCESS_WRITE : 0;
	int r = translate(emu, linear, access, &gpa[0], &page_hva[0], e);
	if (r == X86_EMUL_OK && first < size)
		r = translate(emu, linear + first, access, &gpa[1], &page_hva[1], e);
	if (r != X86_EMUL_OK)
		return r;
	note_access(emu, linear, gpa[0], first == size);
	unsigned len[2] = { first, size - first };
	for (int i = 0; i < 2 && len[i]; i++) {
		u8 *piece = buf + (i ? first : 0);
		bool exit_page = in_exit_gfn(emu, gpa[i]);	/* MMIO, as the exit found */
		u8 *hva = page_hva[i] ? page_hva[i] + (gpa[i] & (PAGE_SIZE - 1)) :
			  exit_page ? NULL : ram_hva(emu->vcpu, gpa[i], len[i], write);
		if (!hva)
			mmio_access(emu->vcpu->vm, gpa[i], piece, len[i], write,
				    !(exit_page && emu->exit->no_doorbell));
		else if (write) {
			memcpy(hva, piece, len[i]);
			vcpu_wrote_guest_ram(emu->vcpu->vm, gpa[i], len[i]);
		}
		else
			memcpy(piece, hva, len[i]);
	}
	return X86_EMUL_OK;
}

static int read_mem(void *ctx, u64 linear, void *buf, unsigned size, struct x86_exception *e)
{
	return access_memory(ctx, linear, buf, size, false, e);
}

/* access_memory() only reads buf when it writes, so dropping const here is safe. */
static int write_mem(void *ctx, u64 linear, const void *buf, unsigned size, struct x86_exception *e)
{
	return access_memory(ctx, linear, (void *)buf, size, true, e);
}

static int pio_in(void *ctx, u16 port, unsigned size, u32 *value)
{
	struct emulation *emu = ctx;
	u64 v;
	io_bus_read(&emu->vcpu->vm->pio_bus, port, size, &v);
	*value = (u32)v;
	return X86_EMUL_OK;
}

static int pio_out(void *ctx, u16 port, unsigned size, u32 value)
{
	struct emulation *emu = ctx;
	io_bus_write(&emu->vcpu->vm->pio_bus, port, size, value);
	return X86_EMUL_OK;
}

static u64 seg_base(void *ctx, enum x86_seg seg)
{
	static_assert(X86_SEG_ES == 0 && X86_SEG_GS == 5, "enum x86_seg is the VMCS order");
	return vmcs_read_raw(VMCS_GUEST_SEGMENT_FIELD(VMCS_GUEST_ES_BASE, seg));
}

/* ---- system registers and XMM for the system and SSE instructions -------------------- */

/* The local APIC's TPR: CR8 is its bits 7:4 (SDM Vol. 3A 10.8.6.1). */
#define APIC_TPR_OFFSET 0x80u
#define CR8_TPR_SHIFT 4
/* SS.B: a 32-bit stack (SDM Vol. 3A 3.4.5). */
#define SS_AR_BIG BIT(14)

/* DR0-3 and DR6 are the guest's in the CPU while Vireo handles its exit (they are switched
 * with the vCPU: arch/x86/guest_state.c); DR7 lives in the VMCS. */
#define DEBUG_REGISTER_CASE(n) \
	case X86_SYSREG_DR##n: asm volatile("mov %%dr" #n ", %0" : "=r"(v)); return v;
static u64 read_debug_register(enum x86_sysreg reg)
{
	u64 v;
	switch (reg) {
	DEBUG_REGISTER_CASE(0) DEBUG_REGISTER_CASE(1) DEBUG_REGISTER_CASE(2)
	DEBUG_REGISTER_CASE(3) DEBUG_REGISTER_CASE(6)
	default: return vmcs_readnat(VMCS_GUEST_DR7);
	}
}
#undef DEBUG_REGISTER_CASE

#define DEBUG_REGISTER_CASE(n) \
	case X86_SYSREG_DR##n: asm volatile("mov %0, %%dr" #n : : "r"(v)); return;
static void write_debug_register(enum x86_sysreg reg, u64 v)
{
	switch (reg) {
	DEBUG_REGISTER_CASE(0) DEBUG_REGISTER_CASE(1) DEBUG_REGISTER_CASE(2)
	DEBUG_REGISTER_CASE(3) DEBUG_REGISTER_CASE(6)
	default: vmcs_writenat(VMCS_GUEST_DR7, v);
	}
}
#undef DEBUG_REGISTER_CASE

static u64 read_sysreg(void *ctx, enum x86_sysreg reg)
{
	struct emulation *emu = ctx;
	struct vcpu *vcpu = emu->vcpu;
	u64 tpr = 0;
	switch (reg) {
	case X86_SYSREG_CR0: return vcpu_guest_cr0(vcpu);
	case X86_SYSREG_CR2: return read_cr2();	/* the guest's until the next vCPU runs */
	case X86_SYSREG_CR3: return vcpu_guest_cr3(vcpu);
	case X86_SYSREG_CR4: return vcpu_guest_cr4(vcpu);
	case X86_SYSREG_CR8:
		vlapic_read(vcpu->vm, APIC_TPR_OFFSET, &tpr);
		return (tpr & 0xff) >> CR8_TPR_SHIFT;
	case X86_SYSREG_DR0 ... X86_SYSREG_DR7: return read_debug_register(reg);
	case X86_SYSREG_GDTR_BASE: return vmcs_readnat(VMCS_GUEST_GDTR_BASE);
	case X86_SYSREG_GDTR_LIMIT: return vmcs_read32(VMCS_GUEST_GDTR_LIMIT);
	case X86_SYSREG_IDTR_BASE: return vmcs_readnat(VMCS_GUEST_IDTR_BASE);
	case X86_SYSREG_IDTR_LIMIT: return vmcs_read32(VMCS_GUEST_IDTR_LIMIT);
	case X86_SYSREG_LDTR: return vmcs_read16(VMCS_GUEST_LDTR_SELECTOR);
	case X86_SYSREG_TR: return vmcs_read16(VMCS_GUEST_TR_SELECTOR);
	case X86_SYSREG_CPL: return emu->cpl;
	default:	/* X86_SYSREG_STACK_SIZE, asked outside 64-bit mode only */
		return (vmcs_read32(VMCS_GUEST_SS_AR) & SS_AR_BIG) ? 4 : 2;
	}
}

static int write_sysreg(void *ctx, enum x86_sysreg reg, u64 value, struct x86_exception *e)
{
	struct vcpu *vcpu = ((struct emulation *)ctx)->vcpu;
	bool ok = true;
	switch (reg) {
	case X86_SYSREG_CR0: ok = vcpu_mov_to_cr(vcpu, 0, value); break;
	case X86_SYSREG_CR3: ok = vcpu_mov_to_cr(vcpu, 3, value); break;
	case X86_SYSREG_CR4: ok = vcpu_mov_to_cr(vcpu, 4, value); break;
	case X86_SYSREG_CR2: write_cr2(value); break;
	case X86_SYSREG_CR8:
		if (!vlapic_write(vcpu->vm, APIC_TPR_OFFSET, value << CR8_TPR_SHIFT))
			return X86_EMUL_UNHANDLED;
		break;
	case X86_SYSREG_DR0 ... X86_SYSREG_DR7: write_debug_register(reg, value); break;
	default: return X86_EMUL_UNHANDLED;
	}
	if (ok)
		return X86_EMUL_OK;
	*e = (struct x86_exception){ X86_EXC_GP, true, 0, 0 };
	return X86_EMUL_EXCEPTION;
}

/* The guest's XMM registers are live in the CPU while Vireo handles its exit: Vireo itself
 * never uses SSE (-mgeneral-regs-only), and guest_state.c switches them between vCPUs.
 * movdqu names each register itself; nothing here lets the compiler allocate one. */
#define XMM_REGISTERS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
	X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define STORE_XMM(n) case n: asm volatile("movdqu %%xmm" #n ", %0" : "=m"(*v)); return;
#define LOAD_XMM(n) case n: asm volatile("movdqu %0, %%xmm" #n : : "m"(*v)); return;

struct xmm_value { u8 bytes[16]; };

static void read_xmm(void *ctx, unsigned reg, void *value)
{
	struct xmm_value *v = value;
	(void)ctx;
	switch (reg) {
	XMM_REGISTERS(STORE_XMM)
	}
}

static void write_xmm(void *ctx, unsigned reg, const void *value)
{
	const struct xmm_value *v = value;
	(void)ctx;
	switch (reg) {
	XMM_REGISTERS(LOAD_XMM)
	}
}
#undef XMM_REGISTERS
#undef STORE_XMM
#undef LOAD_XMM

static const struct x86_emu_ops emu_ops = {
	fetch, read_mem, write_mem, pio_in, pio_out, seg_base,
	read_sysreg, write_sysreg, read_xmm, write_xmm,
};

static enum x86_cpu_mode cpu_mode(u64 cr0, u64 efer, u64 rflags)
{
	if (!(cr0 & CR0_PE) || (rflags & RFLAGS_VM))
		return X86_MODE_REAL;
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR);
	if ((efer & EFER_LMA) && (cs_ar & CS_AR_LONG))
		return X86_MODE_LONG64;
	return (cs_ar & CS_AR_DEFAULT_BIG) ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

static void emulation_begin(struct emulation *emu, struct vcpu *vcpu)
{
	struct x86_regs *regs = &vcpu->regs;
	regs->rip = guest_rip(vcpu);
	regs->rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	regs->gpr[X86_RSP] = vmcs_readnat(VMCS_GUEST_RSP);
	emu->vcpu = vcpu;
	emu->exit = NULL;
	emu->access_at_exit_gpa = false;
	emu->fetch_hit_mmio = false;
	emu->page_table_write = false;
	vcpu->emulator.refuse_rep_strings = false;
	emu->cpl = guest_cpl();
	emu->ctxt = &vcpu->emulator;
	emu->ctxt->ops = &emu_ops;
	emu->ctxt->ops_ctx = emu;
	emu->ctxt->regs = regs;
	u64 cr0 = vcpu_guest_cr0(vcpu);
	if (!(cr0 & CR0_PG)) {		/* no long mode, no page tables: no more to read */
		emu->ctxt->mode = cpu_mode(cr0, 0, regs->rflags);
		emu->paging.mode = GUEST_PAGING_OFF;
		return;
	}
	u64 cr4 = vcpu_guest_cr4(vcpu), efer = vcpu_guest_efer(vcpu);
	emu->ctxt->mode = cpu_mode(cr0, efer, regs->rflags);
	guest_paging_init(&emu->paging, cr0, vcpu_guest_cr3(vcpu), cr4, efer,
			  host_cpu.phys_addr_bits, host_cpu.gbpages);
	if (vcpu_shadow_paging(vcpu))	/* the PDPTEs loaded at MOV CR3 */
		emu->paging.pdptes = vcpu->mmu.shadow.paging.pdptes;
}

static void emulation_commit(struct emulation *emu, u64 old_rflags, u64 old_rsp)
{
	struct x86_regs *regs = &emu->vcpu->regs;
	set_guest_rip(emu->vcpu, regs->rip);
	instruction_completed(old_rflags);
	if (regs->rflags != old_rflags)
		vmcs_writenat(VMCS_GUEST_RFLAGS, regs->rflags);
	if (regs->gpr[X86_RSP] != old_rsp)
		vmcs_writenat(VMCS_GUEST_RSP, regs->gpr[X86_RSP]);
}

/* ---- MMIO sites: the lean path for a plain MOV at a RIP seen before (core/vm.h) ---------- */

/* Fibonacci hashing: nearby RIPs (a loop's few MOVs) land in different entries. */
static struct mmio_site *site_for(struct vcpu *vcpu, u64 rip)
{
	return &vcpu->mmio_sites[(rip * 0x9e3779b97f4a7c15ull) >> (64 - MMIO_SITES_SHIFT)];
}

static bool site_kind(const struct x86_insn *insn, enum mmio_site_kind *kind)
{
	if (insn->op != X86_OP_MOV || insn->opcode_map != 0 || !insn->has_modrm || !insn->has_mem)
		return false;
	switch (insn->opcode) {
	case 0x88: case 0x89: *kind = MMIO_SITE_STORE_REGISTER; return true;
	case 0x8a: case 0x8b: *kind = MMIO_SITE_LOAD; return true;
	case 0xc6: case 0xc7: *kind = MMIO_SITE_STORE_IMMEDIATE; return true;
	}
	return false;
}

/* Whether a[0..n) equals b[0..n), for n <= 16 (an instruction): two overlapping loads of
 * the widest size that fits, reading no byte outside either range. */
static bool mem_equal_small(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
#define MEM_EQUAL_AT(type, off) ({ type u_, v_; __builtin_memcpy(&u_, x + (off), sizeof(type)); \
	__builtin_memcpy(&v_, y + (off), sizeof(type)); u_ == v_; })
	if (n >= 8)
		return MEM_EQUAL_AT(u64, 0) && MEM_EQUAL_AT(u64, n - 8);
	if (n >= 4)
		return MEM_EQUAL_AT(u32, 0) && MEM_EQUAL_AT(u32, n - 4);
	if (n >= 2)
		return MEM_EQUAL_AT(u16, 0) && MEM_EQUAL_AT(u16, n - 2);
#undef MEM_EQUAL_AT
	return n == 0 || *x == *y;
}

/* Whether each of the site's guest paging entries still holds the value it was read with.
 * Unrolled, entered at the first entry to check: a loop's test and step would cost as much
 * again as the loads and compares. */
static bool entries_unchanged(const struct mmio_site *site)
{
#define ENTRY_CHANGED(i) (__atomic_load_n(site->entry[i], __ATOMIC_RELAXED) != site->value[i])
	static_assert(ARRAY_SIZE(site->entry) == 8, "one case per entry");
	switch (site->entries) {
	case 8: if (ENTRY_CHANGED(7)) return false; fallthrough;
	case 7: if (ENTRY_CHANGED(6)) return false; fallthrough;
	case 6: if (ENTRY_CHANGED(5)) return false; fallthrough;
	case 5: if (ENTRY_CHANGED(4)) return false; fallthrough;
	case 4: if (ENTRY_CHANGED(3)) return false; fallthrough;
	case 3: if (ENTRY_CHANGED(2)) return false; fallthrough;
	case 2: if (ENTRY_CHANGED(1)) return false; fallthrough;
	case 1: if (ENTRY_CHANGED(0)) return false; fallthrough;
	case 0: return true;
	}
#undef ENTRY_CHANGED
	return false;	/* not reached: site_add_entries() keeps at most 8 */
}

/* Whether the site's code is still what the guest runs at its RIP: the same control
 * registers, the same memory slots (the host pointers stay valid), the same entries along
 * the code page's walk and the data page's (as in mmu/walk_cache.h), and the same bytes.
 * Rights need no check: the CPU fetched the instruction itself before its data access
 * exited. EFER need not be compared: with CR0, CR4 and CS unchanged, it cannot change the
 * paging mode. */
static bool site_code_unchanged(const struct vcpu *vcpu, const struct mmio_site *site)
{
	if (vmcs_readnat(VMCS_GUEST_CR0) != site->cr0 || vmcs_readnat(VMCS_GUEST_CR4) != site->cr4 ||
	    vcpu->cr0_shadow != site->cr0_shadow || vcpu->cr4_shadow != site->cr4_shadow ||
	    vcpu_guest_cr3(vcpu) != site->cr3 ||
	    vcpu->vm->mmu.memslots.generation != site->generation)
		return false;
	return entries_unchanged(site) && mem_equal_small(site->code, site->bytes, site->length);
}

/* Adds a walk's entries to the site's, but those it holds already: the code page's and
 * the data page's walks share their top levels. false: an entry read with two values. */
static bool site_add_entries(struct mmio_site *site, const struct walk_cache *walk)
{
	for (unsigned level = 0; level < walk->levels; level++) {
		unsigned i = 0;
		while (i < site->entries && site->entry[i] != walk->entry[level])
			i++;
		if (i < site->entries) {
			if (site->value[i] != walk->value[level])
				return false;
			continue;
		}
		site->entry[site->entries] = walk->entry[level];
		site->value[site->entries++] = walk->value[level];
	}
	return true;
}

/* Where the code the emulator just ran lives, with the walk that led there: the fetch
 * walk cache's entry when paging is on. false: not known cheaply, no site. */
static bool site_locate_code(struct emulation *emu, struct mmio_site *site, u64 linear)
{
	if (emu->paging.mode == GUEST_PAGING_OFF) {
		site->code = ram_hva(emu->vcpu, linear, site->length, false);
		return site->code;
	}
	const struct walk_cache *walk = &emu->vcpu->walk_cache[1];
	bool same_page = (walk->key & ~(PAGE_SIZE - 1)) == (linear & ~(PAGE_SIZE - 1));
	if (!walk->valid || !walk->page_hva || !same_page || walk->cr3 != emu->paging.cr3)
		return false;
	site->code = walk->page_hva + (linear & (PAGE_SIZE - 1));
	return site_add_entries(site, walk);
}

/* The VMCS field holding the base of the data's segment, 0 when the base is 0. */
static u16 segment_base_field(const struct emulation *emu, enum x86_seg seg)
{
	if (emu->ctxt->mode == X86_MODE_LONG64 && seg != X86_SEG_FS && seg != X86_SEG_GS)
		return 0;
	return (u16)(VMCS_GUEST_ES_BASE + 2 * seg);
}

/* The data page's walk, from the data walk cache, when it is the one the emulation just
 * used; false: not known cheaply. */
static bool site_locate_data(struct emulation *emu, struct mmio_site *site)
{
	const struct walk_cache *walk = &emu->vcpu->walk_cache[0];
	u64 linear_page = emu->access_linear & ~(PAGE_SIZE - 1);
	if (!walk->valid || (walk->key & ~(PAGE_SIZE - 1)) != linear_page ||
	    walk->cr3 != emu->paging.cr3 || walk->gpa_page != (emu->exit->gpa & ~(PAGE_SIZE - 1)))
		return false;
	site->data_walk_known = true;
	site->data_linear_page = linear_page;
	site->data_gpa_page = walk->gpa_page;
	return site_add_entries(site, walk);
}

/* After the emulator ran a plain MOV wholly at the exit's gpa on a cached MMIO page:
 * remember it as this vCPU's site. Excluded: RSP (it lives in the VMCS) as the register or
 * in the address, AH-BH (high bytes), 16-bit addressing, code crossing a page, and, when
 * the exit gave no translation and paging is on, a data walk not known. */
static void remember_site(struct emulation *emu, u64 rip)
{
	const struct x86_insn *insn = emu->ctxt->insn;
	struct mmio_site *site = site_for(emu->vcpu, rip);
	enum mmio_site_kind kind;
	site->valid = false;
	if (!emu->access_at_exit_gpa || !emu->exit->no_doorbell || !site_kind(insn, &kind) ||
	    (rip & (PAGE_SIZE - 1)) + insn->length > PAGE_SIZE)
		return;
	u8 reg = insn->modrm_reg;
	if (kind != MMIO_SITE_STORE_IMMEDIATE &&
	    (reg == X86_RSP || (insn->operand_size == 1 && !insn->rex && reg >= 4)))
		return;
	if (insn->mem_base == X86_RSP || insn->mem_index == X86_RSP || insn->address_size == 2)
		return;
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR);
	bool long_mode = emu->ctxt->mode == X86_MODE_LONG64;
	u64 linear = long_mode ? rip : (u32)(vmcs_readnat(VMCS_GUEST_CS_BASE) + rip);
	*site = (struct mmio_site){
		.kind = (u8)kind, .length = insn->length, .long_mode = long_mode,
		.size = insn->operand_size, .reg = reg, .opcode_slot = insn->opcode,
		.cs_ar = cs_ar, .rip = rip, .next_rip = emu->ctxt->regs->rip,
		.imm = insn->imm & low_bytes_mask(insn->operand_size),
		.size_mask = low_bytes_mask(insn->operand_size),
		.paging = emu->paging.mode != GUEST_PAGING_OFF,
		.cr0 = vmcs_readnat(VMCS_GUEST_CR0), .cr3 = vcpu_guest_cr3(emu->vcpu),
		.cr4 = vmcs_readnat(VMCS_GUEST_CR4), .cr0_shadow = emu->vcpu->cr0_shadow,
		.cr4_shadow = emu->vcpu->cr4_shadow,
		.generation = emu->vcpu->vm->mmu.memslots.generation,
		.mem_base = insn->mem_base, .mem_index = insn->mem_index,
		.mem_scale = insn->mem_scale, .address_size = insn->address_size,
		.segment_base_field = segment_base_field(emu, (enum x86_seg)insn->segment),
		.disp = insn->disp,
	};
	memcpy(site->bytes, emu->ctxt->bytes, insn->length);
	if (emu->paging.mode != GUEST_PAGING_OFF && !emu->exit->translation_known &&
	    !site_locate_data(emu, site))
		return;
	site->valid = site_locate_code(emu, site, linear);
}

/* The access itself, straight to the MMIO bus: a cached spte's page has no doorbell. */
static void site_access(struct vcpu *vcpu, const struct mmio_site *site, u64 gpa)
{
	struct io_bus *bus = &vcpu->vm->mmio_bus;
	u64 value;
	switch (site->kind) {
	case MMIO_SITE_STORE_REGISTER:
		io_bus_write(bus, gpa, site->size, vcpu->regs.gpr[site->reg] & site->size_mask);
		break;
	case MMIO_SITE_STORE_IMMEDIATE:
		io_bus_write(bus, gpa, site->size, site->imm);
		break;
	default:
		io_bus_read(bus, gpa, site->size, &value);
		x86_write_register(&vcpu->regs.gpr[site->reg], site->size, value);
	}
}

/* The site's data address now, from its address registers: the effective address in
 * the address size, plus the segment's base; outside 64-bit mode, 32 bits of linear. */
static u64 site_linear(const struct vcpu *vcpu, const struct mmio_site *site)
{
	const u64 *gpr = vcpu->regs.gpr;
	u64 address = site->disp;
	if (site->mem_base == X86_REG_RIP)
		address += site->next_rip;
	else if (site->mem_base != X86_REG_NONE)
		address += gpr[site->mem_base];
	if (site->mem_index != X86_REG_NONE)
		address += gpr[site->mem_index] << site->mem_scale;
	if (site->address_size == 4)
		address = (u32)address;
	if (site->segment_base_field)	/* a natural-width VMCS_GUEST_*_BASE */
		address += vmcs_read_raw(site->segment_base_field);
	return site->long_mode ? address : (u32)address;
}

/*
 * Whether the site's access made this exit: its data address now lies in one page and
 * translates to exactly the exit's gpa. With the exit's own translation (a shadow #PF's
 * CR2) the address must be the exit's; with paging off it is the gpa itself; else the
 * site's data walk must still hold. An address that merely shares the gpa's page offset
 * proves nothing: an EPT misconfiguration may be the CPU reading a guest page table in
 * MMIO on its way to the RAM page the access really targets, and an access that starts
 * in the page before exits at this page's first byte.
 */
static bool site_made_exit(const struct vcpu *vcpu, const struct mmio_site *site,
			   const struct mmio_exit *exit)
{
	u64 linear = site_linear(vcpu, site);
	u64 offset = linear & (PAGE_SIZE - 1);
	if (offset + site->size > PAGE_SIZE || offset != (exit->gpa & (PAGE_SIZE - 1)))
		return false;
	if (exit->translation_known)
		return linear == exit->linear;
	if (!site->paging)
		return linear == exit->gpa;
	/* The data walk's entries were checked with the code's (site_code_unchanged()). */
	return site->data_walk_known && (linear & ~(PAGE_SIZE - 1)) == site->data_linear_page &&
	       (exit->gpa & ~(PAGE_SIZE - 1)) == site->data_gpa_page;
}

bool emulate_mmio_site(struct vcpu *vcpu, const struct mmio_exit *exit)
{
	u64 rip = vmcs_readnat(VMCS_GUEST_RIP);
	const struct mmio_site *site = site_for(vcpu, rip);
	OPTIMIZER_HIDE_VAR(site);	/* kept in a register, not recomputed at each use */
	if (!site->valid || rip != site->rip || vmcs_read32(VMCS_GUEST_CS_AR) != site->cs_ar ||
	    !site_code_unchanged(vcpu, site) || !site_made_exit(vcpu, site, exit))
		return false;
	site_access(vcpu, site, exit->gpa);
	vmcs_writenat(VMCS_GUEST_RIP, site->next_rip);	/* shadow and TF: docs/design.md */
	struct vm_stats *stats = &vcpu->vm->stats;
	stats->counters[HC_STAT_EMULATED]++;
	stats->counters[HC_STAT_MMIO_SITE]++;
	stats->emulated_by_opcode[site->opcode_slot]++;
	return true;
}

static void count_emulated(struct vm *vm, const struct x86_insn *insn)
{
	vm->stats.counters[HC_STAT_EMULATED]++;
	if (insn->opcode_map <= 1)
		vm->stats.emulated_by_opcode[insn->opcode_map * 256u + insn->opcode]++;
}

/* An instruction outside the emulator's set. In the guest kernel (CPL 0) the guest did
 * nothing wrong and a #UD would hide which instruction is missing: stop the VM and print
 * it. From guest user mode, #UD as KVM does, so a user program cannot stop the VM. */
static void emulation_unhandled(struct emulation *emu)
{
	struct vcpu *vcpu = emu->vcpu;
	if (emu->page_table_write && !emu->fetch_hit_mmio &&
	    mmu_shadow_unprotect(&vcpu->vm->mmu, gpa_to_gfn(emu->page_table_gpa)))
		return;		/* the guest runs the store itself */
	if (emu->fetch_hit_mmio) {
		vm_stop(vcpu->vm, VM_STATUS_FAULT, "executes code from MMIO at gpa %#llx (no RAM there)",
			(unsigned long long)emu->fetch_gpa);
		return;
	}
	if (emu->cpl == 3) {
		inject_ud(vcpu);
		return;
	}
	char bytes[3 * X86_MAX_INSN_LEN + 1];
	x86_format_bytes(emu->ctxt->bytes, emu->ctxt->nbytes, bytes, sizeof(bytes));
	vm_stop(vcpu->vm, VM_STATUS_FAULT, "cannot emulate the instruction at rip %#llx: %s",
		(unsigned long long)vcpu->regs.rip, bytes);
}

/* The fault an emulated access raised, for the guest (CR2 with it, for a #PF). */
static void inject_emulated_exception(struct vcpu *vcpu, const struct x86_exception *e)
{
	inject_exception(vcpu, e->vector, e->has_error_code, e->error_code);
	vcpu->pending.cr2 = e->cr2;
}

static void run_emulator(struct emulation *emu)
{
	u64 old_rflags = emu->vcpu->regs.rflags, old_rsp = emu->vcpu->regs.gpr[X86_RSP];
	u64 rip = emu->vcpu->regs.rip;
	int result = x86_emulate(emu->ctxt);
	if (result == X86_EMUL_OK) {
		count_emulated(emu->vcpu->vm, emu->ctxt->insn);
		emulation_commit(emu, old_rflags, old_rsp);
		remember_site(emu, rip);
	} else if (result == X86_EMUL_EXCEPTION) {
		inject_emulated_exception(emu->vcpu, &emu->ctxt->exception);
	} else {
		emulation_unhandled(emu);
	}
}

void emulate_instruction(struct vcpu *vcpu)
{
	struct emulation emu;
	emulation_begin(&emu, vcpu);
	run_emulator(&emu);
}

void emulate_mmio(struct vcpu *vcpu, const struct mmio_exit *exit)
{
	struct emulation emu;
	emulation_begin(&emu, vcpu);
	emu.exit = exit;
	run_emulator(&emu);
}

/* A supervisor read within one page that the shadow tree maps on a supervisor page: no
 * walk and no emulator (INVPCID's descriptor, on the kernel stack). A user page is left to
 * the walk, which knows whether SMAP refuses the read. */
static bool read_through_shadow_leaf(struct vcpu *vcpu, u64 linear, void *buf, unsigned len)
{
	u64 gpa;
	return vcpu_shadow_paging(vcpu) && is_canonical(linear, LINEAR_BITS_4LEVEL) &&
	       (linear & (PAGE_SIZE - 1)) + len <= PAGE_SIZE &&
	       guest_cpl() < 3 &&
	       mmu_shadow_leaf_gpa(&vcpu->vm->mmu, &vcpu->mmu, linear, 0, ACC_USER, &gpa) &&
	       vm_read_gpa(vcpu->vm, gpa, buf, len);
}

bool vcpu_read_linear(struct vcpu *vcpu, u64 linear, void *buf, unsigned len)
{
	struct emulation emu;
	struct x86_exception e;
	if (read_through_shadow_leaf(vcpu, linear, buf, len))
		return true;
	emulation_begin(&emu, vcpu);
	switch (read_mem(&emu, linear, buf, len, &e)) {
	case X86_EMUL_OK:
		return true;
	case X86_EMUL_EXCEPTION:
		inject_emulated_exception(vcpu, &e);
		return false;
	default:
		return false;
	}
}

void emulate_page_table_write(struct vcpu *vcpu, u64 linear, u64 gpa)
{
	struct emulation emu;
	emulation_begin(&emu, vcpu);
	emu.page_table_write = true;
	emu.page_table_gpa = gpa;
	emu.table_page_linear = linear;
	/* A REP string store into a shadowed page table (a freed one cleared or copied as
	 * data, byte by byte) is unprotected and re-executed by the guest, as KVM's
	 * retry_instruction() does; emulated, each of its up to 4096 stores would update the
	 * shadow. emulation_unhandled() unprotects. The same store faulting again at once (its
	 * table is shadowed again, as a root in use is) is emulated, so the guest progresses. */
	u64 rip = vcpu->regs.rip;
	struct table_write_retry *retry = &vcpu->table_write_retry;
	emu.ctxt->refuse_rep_strings = rip != retry->rip || gpa != retry->gpa;
	retry->rip = rip;
	retry->gpa = gpa;
	run_emulator(&emu);
}

unsigned emulator_instruction_length(struct vcpu *vcpu)
{
	struct emulation emu;
	emulation_begin(&emu, vcpu);
	u8 bytes[X86_MAX_INSN_LEN];
	u64 rip = vcpu->regs.rip;
	unsigned first = (unsigned)MIN((u64)X86_MAX_INSN_LEN, PAGE_SIZE - (rip & (PAGE_SIZE - 1)));
	struct x86_exception e;
	if (fetch(&emu, rip, bytes, first, &e) != X86_EMUL_OK)
		return 0;
	unsigned avail = first;
	if (first < X86_MAX_INSN_LEN && fetch(&emu, rip + first, bytes + first,
					      X86_MAX_INSN_LEN - first, &e) == X86_EMUL_OK)
		avail = X86_MAX_INSN_LEN;
	return x86_insn_length(bytes, avail, emu.ctxt->mode);
}
