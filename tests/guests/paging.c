/* paging: the guest's own 4-level paging, checked from inside. With EPT the CPU walks these
 * tables itself; under a shadow MMU the hypervisor must give the same answers. Checked:
 * many address spaces switched by MOV CR3; #PF error codes and CR2 (not present, read-only,
 * XD, reserved bits); CR0.WP; accessed and dirty bits; what INVLPG, MOV CR3 and CR4.PGE
 * make visible; page tables edited while in use, by several instruction forms; 2 MiB (and
 * 1 GiB) pages, split and merged; user/supervisor rights from ring 3, SMEP and SMAP;
 * PCIDs (MOV CR3 keeping the TLB, INVLPG and INVPCID reaching another PCID).
 *
 * With "zap" on its command line (a trusted VM) the guest also asks Vireo for a zap-all
 * after every address-space visit and before every group of checks, so each check runs on
 * tables rebuilt after a zap, and changes memory slots under live mappings.
 *
 * Only what the architecture requires is asserted: after a change, the invalidation the SDM
 * asks for (Vol. 3A 4.10.4) and then the new mapping. Nothing relies on a stale TLB entry,
 * since a hypervisor may always flush more. */
#include <stdarg.h>
#include "tests/guests/lib/guest.h"

/* Paging-structure entry bits x86.h does not name (Intel SDM Vol. 3A 4.5). */
#define PG_RW_P ((u64)(PTE_PRESENT | PTE_WRITABLE))
#define PG_USER 0x4ull
#define PG_ACCESSED 0x20ull
#define PG_DIRTY 0x40ull
#define PG_LARGE ((u64)PTE_LARGE)
#define PG_GLOBAL 0x100ull
#define PG_XD (1ull << 63)
#define PG_ADDRESS 0x000ffffffffff000ull
#define PG_ACCESSED_BIT 5
#define PG_RESERVED_2M_BIT 13		/* bits 20:13 of a 2 MiB PDE are reserved */

/* #PF error-code bits (SDM Vol. 3A 4.7). */
#define PF_P ((u64)PF_ERR_PRESENT)
#define PF_W ((u64)PF_ERR_WRITE)
#define PF_U 0x4ull
#define PF_RSVD 0x8ull
#define PF_ID 0x10ull

#define CR4_BIT_PGE (1ul << 7)
#define CR4_BIT_SMEP (1ul << 20)
#define CR4_BIT_SMAP (1ul << 21)
#define EFER_BIT_NXE (1ull << 11)

/* CPUID bits (SDM Vol. 2A, CPUID). */
#define CPUID_1_EDX_PGE (1u << 13)
#define CPUID_7_EBX_SMEP (1u << 7)
#define CPUID_7_EBX_SMAP (1u << 20)
#define CPUID_80000001_EDX_NX (1u << 20)
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)

#define ENTRIES 512
#define STR_(x) #x
#define XSTR(x) STR_(x)
#define X86_RET_OPCODE 0xc3

/* ---- pages, patterns, control registers ---------------------------------------------- */

/* Page tables and data pages of this test. Identity-mapped, so a pointer is its physical
 * address; the loader zeroes .bss. */
#define POOL_PAGES 400
static u8 pool[POOL_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static unsigned pool_used;
/* Two 2 MiB regions for large pages, 2 MiB-aligned inside this array (aligning the array
 * itself would pad the image file to the alignment). */
static u8 big_space[MiB(6)] __aligned(PAGE_SIZE);

extern u64 guest_pml4[];	/* the library's boot tables (lib/tables64.S) */

static u64 pa_of(const volatile void *p)
{
	return (uintptr_t)p;
}

static void *alloc_page(void)
{
	if (pool_used == POOL_PAGES) {
		report("the test's pool of pages is large enough", false);
		exit_test();
	}
	return pool[pool_used++];
}

static u64 *new_table(void)
{
	u64 *t = alloc_page();

	memset(t, 0, PAGE_SIZE);
	return t;
}

/* Every word of a test page says which physical page it is: a mapping is checked by
 * reading a few words through it. */
static u64 pattern(u64 pa, unsigned word)
{
	return 0x5a5a000000000000ull ^ (pa << 8) ^ word;
}

static const unsigned sample_words[] = { 0, 3, 256, 511 };
#define SCRATCH_WORD 100		/* written by the checks; never sampled */

static void fill_samples(u64 pa)
{
	volatile u64 *p = (volatile u64 *)(uintptr_t)pa;

	for (unsigned i = 0; i < ARRAY_SIZE(sample_words); i++)
		p[sample_words[i]] = pattern(pa, sample_words[i]);
	p[SCRATCH_WORD] = 0;
}

/* A data page: every word is its pattern, except the scratch word. */
static u64 new_page(void)
{
	u64 *p = alloc_page();

	for (unsigned i = 0; i < ENTRIES; i++)
		p[i] = pattern(pa_of(p), i);
	p[SCRATCH_WORD] = 0;
	return pa_of(p);
}

static volatile u64 *word_at(u64 va, unsigned word)
{
	return (volatile u64 *)(uintptr_t)(va + 8 * word);
}

/* Does linear page va map physical page pa? */
static bool va_shows(u64 va, u64 pa)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sample_words); i++)
		if (*word_at(va, sample_words[i]) != pattern(pa, sample_words[i]))
			return false;
	return true;
}

static u64 cr0_get(void)
{
	u64 v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void cr0_put(u64 v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static u64 cr4_get(void)
{
	u64 v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void cr4_put(u64 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static void cr3_put(u64 v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static void cr3_reload(void)
{
	cr3_put(read_cr3());
}

static u32 max_extended_leaf(void)
{
	return cpuid(0x80000000u).eax;
}

static bool cpu_has_nx(void)
{
	return max_extended_leaf() >= 0x80000001u &&
	       (cpuid(0x80000001u).edx & CPUID_80000001_EDX_NX);
}

static unsigned max_phys_bits(void)
{
	if (max_extended_leaf() >= 0x80000008u)
		return cpuid(0x80000008u).eax & 0xff;
	return 36;
}

static bool nxe_on(void)
{
	return rdmsr(MSR_EFER) & EFER_BIT_NXE;
}

/* ---- accesses that may fault ----------------------------------------------------------- */

static int try_read(u64 va)
{
	return catch_exception((void)*(volatile u64 *)(uintptr_t)va);
}

static int try_write(u64 va, u64 value)
{
	return catch_exception(*(volatile u64 *)(uintptr_t)va = value);
}

/* Calls va, which holds a RET. */
static int try_call(u64 va)
{
	return catch_exception(((void (*)(void))(uintptr_t)va)());
}

/* One result line: "what", and on failure the details (Vireo's console cuts lines at 160
 * characters, so passing lines stay short). */
static bool check(bool ok, const char *what, const char *detail, ...) __printf(3, 4);
static bool check(bool ok, const char *what, const char *detail, ...)
{
	char text[192];
	va_list ap;

	if (ok)
		return report(what, true);
	va_start(ap, detail);
	vsnprintf(text, sizeof(text), detail, ap);
	va_end(ap);
	return reportf(false, "%s (%s)", what, text);
}

static const char *got_exception(int vector)
{
	static char text[96];

	if (vector == NO_EXCEPTION)
		return "no exception";
	snprintf(text, sizeof(text), "%s, error code %#lx, CR2 %#lx", exception_name(vector),
		 last_exception.error_code, last_exception.cr2);
	return text;
}

static bool expect_pf(const char *what, int vector, u64 va, u64 error_code)
{
	char text[160];

	snprintf(text, sizeof(text), "%s: #PF(%#lx), CR2 = the address", what, error_code);
	return check(vector == PF_VECTOR && last_exception.cr2 == va &&
		     last_exception.error_code == error_code, text,
		     "want CR2 %#lx; got %s", va, got_exception(vector));
}

static bool expect_no_fault(const char *what, int vector)
{
	return check(vector == NO_EXCEPTION, what, "got %s", got_exception(vector));
}

static bool expect_shows(const char *what, u64 va, u64 pa)
{
	return check(va_shows(va, pa), what, "linear %#lx: word 0 is %#lx, page %#lx has %#lx",
		     va, *word_at(va, 0), pa, pattern(pa, 0));
}

/* What an access saw, taken at once and reported later: printing exits to the hypervisor,
 * and no check may pass only because an exit flushed something. */
struct sight {
	bool ok;
	u64 va, pa, word0;
};

static struct sight look(u64 va, u64 pa)
{
	return (struct sight){ va_shows(va, pa), va, pa, *word_at(va, 0) };
}

static bool report_sight(const char *what, struct sight s)
{
	return check(s.ok, what, "linear %#lx: word 0 was %#lx, page %#lx has %#lx", s.va,
		     s.word0, s.pa, pattern(s.pa, 0));
}

struct fault_sight {
	int vector;
	u64 va, error_code, cr2;
};

static struct fault_sight fault_look(int vector, u64 va)
{
	return (struct fault_sight){ vector, va, last_exception.error_code, last_exception.cr2 };
}

static bool report_fault_sight(const char *what, struct fault_sight f, u64 error_code)
{
	char text[160];

	snprintf(text, sizeof(text), "%s: #PF(%#lx), CR2 = the address", what, error_code);
	return check(f.vector == PF_VECTOR && f.cr2 == f.va && f.error_code == error_code, text,
		     "want CR2 %#lx; got %s, error code %#lx, CR2 %#lx", f.va,
		     exception_name(f.vector), f.error_code, f.cr2);
}

/* ---- address spaces ------------------------------------------------------------------- */

/* The test window: PML4 entry 2, one PDPT, one PD; PD entry 0's page table holds the
 * "slots". Each space shares the identity map (PML4 entry 0) with the boot tables. */
#define WINDOW_VA 0x0000010000000000ull
#define PML4_WINDOW 2
#define PML4_PS_RESERVED 3		/* a PML4E with PS set: reserved */
#define PML4_LIVE 5			/* added and removed while in use */

struct space {
	volatile u64 *pml4, *pdpt, *pd, *pt;
};

static u64 va_of(unsigned pde, unsigned slot)
{
	return WINDOW_VA + pde * MiB(2) + slot * PAGE_SIZE;
}

static struct space new_space(void)
{
	struct space s = { new_table(), new_table(), new_table(), new_table() };

	s.pml4[0] = guest_pml4[0];
	s.pml4[PML4_WINDOW] = pa_of(s.pdpt) | PG_RW_P;
	s.pdpt[0] = pa_of(s.pd) | PG_RW_P;
	s.pd[0] = pa_of(s.pt) | PG_RW_P;
	return s;
}

static void space_enter(const struct space *s)
{
	cr3_put(pa_of(s->pml4));
}

/* ---- 1. many address spaces ------------------------------------------------------------ */

#define SPACES 24
#define SPACE_ROUNDS 8
#define SPACE_PAGES 4			/* slots 0-3: the space's own pages */
#define SLOT_EDITED 3			/* remapped while its space is inactive */
#define SLOT_SHARED 4			/* the same page in every space */
#define SLOT_ALIAS 5			/* the next space's slot-0 page */

static struct space spaces[SPACES];
static u64 space_page[SPACES][SPACE_PAGES];

/* ---- zap mode ------------------------------------------------------------------------- */

static bool zap_mode, zap_slow;	/* "zap", "slow": Vireo runs with zap=slow */
static unsigned zaps, zap_errors;

/* In zap mode: every spte of the VM dropped now; what runs next faults its way back. */
static void maybe_zap_all(void)
{
	if (!zap_mode)
		return;
	zaps++;
	if (hc_zap_all() != 0)
		zap_errors++;
}

struct first_miss {
	unsigned count, space, slot;
	u64 got, want;
};

static void note_miss(struct first_miss *m, unsigned space, unsigned slot, u64 va, u64 pa)
{
	if (m->count++)
		return;
	m->space = space;
	m->slot = slot;
	m->got = *word_at(va, 0);
	m->want = pattern(pa, 0);
}

static void check_address_spaces(void)
{
	u64 (*page)[SPACE_PAGES] = space_page, shared = new_page();
	struct first_miss own = { 0 }, edited = { 0 };
	unsigned cr3_wrong = 0, shared_wrong = 0, alias_wrong = 0;
	u64 shared_token = 0, alias_token = 0;

	for (unsigned i = 0; i < SPACES; i++) {
		spaces[i] = new_space();
		for (unsigned j = 0; j < SPACE_PAGES; j++) {
			page[i][j] = new_page();
			spaces[i].pt[j] = page[i][j] | PG_RW_P;
		}
		spaces[i].pt[SLOT_SHARED] = shared | PG_RW_P;
	}
	for (unsigned i = 0; i < SPACES; i++)
		spaces[i].pt[SLOT_ALIAS] = page[(i + 1) % SPACES][0] | PG_RW_P;

	for (unsigned r = 0; r < SPACE_ROUNDS; r++) {
		for (unsigned i = 0; i < SPACES; i++) {
			const struct space *s = &spaces[i];
			u64 edited_page = page[i][r ? r % SPACE_PAGES : SLOT_EDITED];

			/* Edited from the space before, while this one is not in CR3. */
			s->pt[SLOT_EDITED] = edited_page | PG_RW_P;
			space_enter(s);
			if (read_cr3() != pa_of(s->pml4))
				cr3_wrong++;
			for (unsigned j = 0; j < SLOT_EDITED; j++)
				if (!va_shows(va_of(0, j), page[i][j]))
					note_miss(&own, i, j, va_of(0, j), page[i][j]);
			if (!va_shows(va_of(0, SLOT_EDITED), edited_page))
				note_miss(r ? &edited : &own, i, SLOT_EDITED,
					  va_of(0, SLOT_EDITED), edited_page);

			/* The shared page carries a token from each space to the next. */
			volatile u64 *shared_word = word_at(va_of(0, SLOT_SHARED), SCRATCH_WORD);
			if (*shared_word != shared_token)
				shared_wrong++;
			shared_token = 0x7000000000000000ull | (r << 16) | i;
			*shared_word = shared_token;

			/* The space before wrote into our slot-0 page through its alias slot. */
			if ((r || i) && *word_at(va_of(0, 0), SCRATCH_WORD) != alias_token)
				alias_wrong++;
			alias_token = 0x6000000000000000ull | (r << 16) | i;
			*word_at(va_of(0, SLOT_ALIAS), SCRATCH_WORD) = alias_token;
			maybe_zap_all();
		}
	}
	char what[128];

	snprintf(what, sizeof(what), "%u address spaces (own PML4, PDPT, PD, PT), %u rounds "
		 "of MOV CR3 round-robin: each reads its own pages", SPACES, SPACE_ROUNDS);
	check(own.count == 0 && cr3_wrong == 0, what, "%u wrong reads, first: space %u slot "
	      "%u word 0 %#lx, want %#lx; %u CR3 read-backs wrong", own.count, own.space,
	      own.slot, own.got, own.want, cr3_wrong);
	check(edited.count == 0, "a PTE rewritten while its space is not in CR3 is used once "
	      "MOV CR3 switches to it", "%u wrong, first: space %u word 0 %#lx, want %#lx",
	      edited.count, edited.space, edited.got, edited.want);
	check(shared_wrong == 0, "a page mapped in every space: each space reads the value the "
	      "space before wrote", "%u wrong", shared_wrong);
	check(alias_wrong == 0, "a page written through another space's alias reads back "
	      "through its own space", "%u wrong", alias_wrong);
}

/* ---- the main test space -------------------------------------------------------------- */

/* Slots of the main space's page table (PD entry 0 of the window). */
enum {
	SLOT_PLAIN = 0,
	SLOT_NP = 10, SLOT_RO, SLOT_CODE, SLOT_RSVD, SLOT_NP_RSVD, SLOT_WP, SLOT_AD, SLOT_TLB,
	SLOT_GLOBAL, SLOT_NP_TO_P,
	SLOT_SELF = 30, SLOT_LIVE, SLOT_LIVE2, SLOT_REUSE_VIEW,
	SLOT_U_CODE = 40, SLOT_U_STACK, SLOT_U_DATA, SLOT_U_RO, SLOT_S_DATA, SLOT_S_CODE,
	SLOT_U_XD, SLOT_U_NP,
};

/* PD entries of the window. */
enum {
	PDE_MAIN = 0, PDE_RO, PDE_NP, PDE_XD, PDE_SWAP, PDE_TWIN_A, PDE_TWIN_B, PDE_LARGE_RSVD,
	PDE_LARGE, PDE_REUSE, PDE_NO_USER, PDE_CROSS,
};

static struct space T;

static u64 slot_va(unsigned slot)
{
	return va_of(PDE_MAIN, slot);
}

static void set_slot(unsigned slot, u64 pte)
{
	T.pt[slot] = pte;
	invlpg(slot_va(slot));
}

/* ---- 2. page faults ------------------------------------------------------------------- */

static u64 code_page;			/* a RET at offset 0 */

static void check_faults(void)
{
	unsigned phys_bits = max_phys_bits();
	u64 page = new_page(), va;
	u64 *pt;

	set_slot(SLOT_PLAIN, page | PG_RW_P);
	expect_shows("a present, writable PTE maps its page", slot_va(SLOT_PLAIN), page);

	/* Not present: only P clear, the other bits set. */
	set_slot(SLOT_NP, page | PTE_WRITABLE | PG_USER);
	va = slot_va(SLOT_NP) + 0x238;
	expect_pf("read of a not-present page", try_read(va), va, 0);
	expect_pf("write to a not-present page", try_write(va, 1), va, PF_W);
	T.pd[PDE_NP] = 0;
	va = va_of(PDE_NP, 7) + 0x10;
	invlpg(va);
	expect_pf("read through a not-present PDE", try_read(va), va, 0);

	set_slot(SLOT_RO, page | PTE_PRESENT);
	va = slot_va(SLOT_RO) + 8 * SCRATCH_WORD;
	expect_no_fault("a read-only page can be read", try_read(va));
	expect_pf("write to a read-only page (CR0.WP=1)", try_write(va, 1), va, PF_P | PF_W);

	/* Rights are the AND over the levels: a writable PTE under a read-only PDE. */
	pt = new_table();
	pt[0] = page | PG_RW_P;
	T.pd[PDE_RO] = pa_of(pt) | PTE_PRESENT;
	va = va_of(PDE_RO, 0) + 8 * SCRATCH_WORD;
	invlpg(va);
	expect_no_fault("a page under a read-only PDE can be read", try_read(va));
	expect_pf("write to a writable PTE under a read-only PDE", try_write(va, 1), va,
		  PF_P | PF_W);

	/* Reserved bits: physical-address bits at and above MAXPHYADDR. */
	if (phys_bits < 52) {
		set_slot(SLOT_RSVD, page | PG_RW_P | BIT(phys_bits));
		va = slot_va(SLOT_RSVD) + 0x18;
		expect_pf("read through a PTE with reserved bit MAXPHYADDR set", try_read(va), va,
			  PF_RSVD | PF_P);
		expect_pf("write through a PTE with reserved bit MAXPHYADDR set",
			  try_write(va, 1), va, PF_RSVD | PF_P | PF_W);
		/* In a not-present entry no bit is reserved. */
		set_slot(SLOT_NP_RSVD, page | PTE_WRITABLE | BIT(phys_bits));
		va = slot_va(SLOT_NP_RSVD) + 0x20;
		expect_pf("read through a not-present PTE with reserved bits set (not RSVD)",
			  try_read(va), va, 0);
	} else {
		report_skip("reserved physical-address bits: MAXPHYADDR is 52");
	}
	if (!nxe_on()) {
		set_slot(SLOT_RSVD, page | PG_RW_P | PG_XD);
		va = slot_va(SLOT_RSVD) + 0x28;
		expect_pf("read through a PTE with XD set while EFER.NXE=0 (reserved)",
			  try_read(va), va, PF_RSVD | PF_P);
	} else {
		report_skip("XD as a reserved bit: EFER.NXE was already set");
	}
	T.pd[PDE_LARGE_RSVD] = MiB(2) | PG_LARGE | PG_RW_P | BIT(PG_RESERVED_2M_BIT);
	va = va_of(PDE_LARGE_RSVD, 3) + 0x30;
	invlpg(va);
	expect_pf("read through a 2 MiB PDE with reserved bit 13 set", try_read(va), va,
		  PF_RSVD | PF_P);
	T.pd[PDE_LARGE_RSVD] = 0;
	T.pml4[PML4_PS_RESERVED] = pa_of(T.pdpt) | PG_RW_P | PG_LARGE;
	va = ((u64)PML4_PS_RESERVED << 39) + 0x1040;
	invlpg(va);
	expect_pf("read through a PML4E with PS set (reserved)", try_read(va), va,
		  PF_RSVD | PF_P);
	T.pml4[PML4_PS_RESERVED] = 0;
	invlpg(va);

	/* No-execute. */
	u8 *code = (u8 *)(uintptr_t)new_page();
	code[0] = X86_RET_OPCODE;
	code_page = pa_of(code);
	if (!cpu_has_nx()) {
		report_skip("XD checks: CPUID shows no NX");
		return;
	}
	if (!try_wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_BIT_NXE)) {
		report("WRMSR sets EFER.NXE (CPUID shows NX)", false);
		return;
	}
	set_slot(SLOT_CODE, code_page | PG_RW_P);
	va = slot_va(SLOT_CODE);
	expect_no_fault("EFER.NXE=1: code runs from a page without XD", try_call(va));
	set_slot(SLOT_CODE, code_page | PG_RW_P | PG_XD);
	expect_pf("fetch from a page with XD", try_call(va), va, PF_P | PF_ID);
	check(last_exception.rip == va, "the XD #PF is reported at the fetched address",
	      "rip %#lx, want %#lx", last_exception.rip, va);
	expect_no_fault("a page with XD can still be read", try_read(va));
	pt = new_table();
	pt[0] = code_page | PG_RW_P;
	T.pd[PDE_XD] = pa_of(pt) | PG_RW_P | PG_XD;
	va = va_of(PDE_XD, 0);
	invlpg(va);
	expect_pf("fetch from a page whose PDE has XD", try_call(va), va, PF_P | PF_ID);
	va = slot_va(SLOT_NP);
	expect_pf("fetch from a not-present page", try_call(va), va, PF_ID);
}

/* ---- 3. CR0.WP ------------------------------------------------------------------------- */

static void check_wp(void)
{
	u64 page = new_page(), cr0 = cr0_get() | CR0_WP;
	u64 va = slot_va(SLOT_WP) + 8 * SCRATCH_WORD;
	volatile u64 *word = word_at(page, SCRATCH_WORD);
	u64 written, pte_after, after_fault;
	int vector;
	struct fault_sight fault;

	cr0_put(cr0);
	set_slot(SLOT_WP, page | PTE_PRESENT);
	cr0_put(cr0 & ~(u64)CR0_WP);
	vector = try_write(va, 0x1111);
	cr0_put(cr0);
	written = *word;
	pte_after = T.pt[SLOT_WP];
	/* The TLB caches R/W from the entries, not CR0.WP (SDM Vol. 3A 4.10.1): no
	 * invalidation is needed for WP to apply again. */
	fault = fault_look(try_write(va, 0x2222), va);
	after_fault = *word;

	check(vector == NO_EXCEPTION && written == 0x1111, "CR0.WP=0: a supervisor write to a "
	      "read-only page succeeds", "got %s, word %#lx", got_exception(vector), written);
	check(pte_after & PG_DIRTY, "that write set the read-only PTE's dirty bit", "PTE %#lx",
	      pte_after);
	report_fault_sight("CR0.WP=1 again: supervisor write to the same read-only page", fault,
			   PF_P | PF_W);
	check(after_fault == 0x1111, "the faulting write changed nothing", "word %#lx",
	      after_fault);
}

/* ---- 4. accessed and dirty bits -------------------------------------------------------- */

static void check_accessed_dirty(void)
{
	u64 page = new_page(), va = slot_va(SLOT_AD);
	volatile u64 *pte = &T.pt[SLOT_AD];
	volatile u64 *upper[] = { &T.pml4[PML4_WINDOW], &T.pdpt[0], &T.pd[PDE_MAIN] };
	const u64 ad = PG_ACCESSED | PG_DIRTY;
	u64 seen[8], upper_seen[ARRAY_SIZE(upper)];
	bool upper_accessed = true;

	*pte = page | PG_RW_P;
	for (unsigned i = 0; i < ARRAY_SIZE(upper); i++)
		*upper[i] &= ~PG_ACCESSED;
	cr3_reload();		/* no cached entry may skip the walk */
	(void)*word_at(va, 0);
	seen[0] = *pte;
	for (unsigned i = 0; i < ARRAY_SIZE(upper); i++) {
		upper_seen[i] = *upper[i];
		upper_accessed &= (upper_seen[i] & PG_ACCESSED) != 0;
	}
	*word_at(va, SCRATCH_WORD) = 1;		/* the read's TLB entry had D clear */
	seen[1] = *pte;

	*pte &= ~ad;
	invlpg(va);
	(void)*word_at(va, 0);
	seen[2] = *pte;
	*word_at(va, SCRATCH_WORD) = 2;
	seen[3] = *pte;

	*pte &= ~ad;
	invlpg(va);
	*word_at(va, SCRATCH_WORD) = 3;
	seen[4] = *pte;

	*pte &= ~PG_DIRTY;
	invlpg(va);
	(void)*word_at(va, 0);
	seen[5] = *pte;
	*word_at(va, SCRATCH_WORD) = 4;
	seen[6] = *pte;

	check((seen[0] & ad) == PG_ACCESSED, "a read sets the PTE's accessed bit and leaves "
	      "dirty clear", "PTE %#lx", seen[0]);
	check(upper_accessed, "... and sets the accessed bits of the PML4E, PDPTE and PDE",
	      "%#lx %#lx %#lx", upper_seen[0], upper_seen[1], upper_seen[2]);
	check(seen[1] & PG_DIRTY, "a write after the read sets the PTE's dirty bit",
	      "PTE %#lx", seen[1]);
	check((seen[2] & ad) == PG_ACCESSED, "A and D cleared, INVLPG: a read sets A again, D "
	      "stays clear", "PTE %#lx", seen[2]);
	check(seen[3] & PG_DIRTY, "... and a write after the read sets D again", "PTE %#lx",
	      seen[3]);
	check((seen[4] & ad) == ad, "A and D cleared, INVLPG: a write alone sets both",
	      "PTE %#lx", seen[4]);
	check(!(seen[5] & PG_DIRTY), "D cleared, INVLPG: a read leaves it clear", "PTE %#lx",
	      seen[5]);
	check(seen[6] & PG_DIRTY, "... and the next write sets it", "PTE %#lx", seen[6]);
	check(*word_at(page, SCRATCH_WORD) == 4, "the writes reached the page", "word %#lx",
	      *word_at(page, SCRATCH_WORD));
}

/* ---- 5. what invalidation makes visible ------------------------------------------------ */

static void check_tlb(void)
{
	u64 x = new_page(), y = new_page(), z = new_page(), w = new_page();
	u64 va = slot_va(SLOT_TLB), np_va = slot_va(SLOT_NP_TO_P);
	u64 *pt_a = new_table(), *pt_b = new_table(), *pt_c = new_table();
	u64 swap_va = va_of(PDE_SWAP, 0);
	struct sight pte[3], pde[3], np;
	struct fault_sight np_fault;

	set_slot(SLOT_TLB, x | PG_RW_P);
	pte[0] = look(va, x);
	set_slot(SLOT_TLB, y | PG_RW_P);
	pte[1] = look(va, y);
	T.pt[SLOT_TLB] = z | PG_RW_P;
	cr3_reload();
	pte[2] = look(va, z);

	pt_a[0] = x | PG_RW_P;
	pt_b[0] = y | PG_RW_P;
	pt_c[0] = z | PG_RW_P;
	T.pd[PDE_SWAP] = pa_of(pt_a) | PG_RW_P;
	invlpg(swap_va);
	pde[0] = look(swap_va, x);
	T.pd[PDE_SWAP] = pa_of(pt_b) | PG_RW_P;
	invlpg(swap_va);
	pde[1] = look(swap_va, y);
	T.pd[PDE_SWAP] = pa_of(pt_c) | PG_RW_P;
	cr3_reload();
	pde[2] = look(swap_va, z);

	/* P from 0 to 1 needs no invalidation: no TLB entry is made from a not-present
	 * entry (SDM Vol. 3A 4.10.4.3). */
	set_slot(SLOT_NP_TO_P, w);
	np_fault = fault_look(try_read(np_va), np_va);
	T.pt[SLOT_NP_TO_P] = w | PG_RW_P;
	np = look(np_va, w);

	report_sight("a PTE maps page X", pte[0]);
	report_sight("PTE changed to page Y, INVLPG: Y is seen", pte[1]);
	report_sight("PTE changed to page Z, MOV CR3 (same value): Z is seen", pte[2]);
	report_sight("a PDE points to page table A", pde[0]);
	report_sight("PDE changed to page table B, INVLPG: B's page is seen", pde[1]);
	report_sight("PDE changed to page table C, MOV CR3: C's page is seen", pde[2]);
	report_fault_sight("a not-present PTE faults", np_fault, 0);
	report_sight("the PTE made present is used without any invalidation", np);

	/* Global pages. */
	if (!(cpuid(1).edx & CPUID_1_EDX_PGE)) {
		report_skip("global pages: CPUID shows no PGE");
		return;
	}
	u64 cr4 = cr4_get();
	u64 gva = slot_va(SLOT_GLOBAL);
	struct sight g[4];

	cr4_put(cr4 | CR4_BIT_PGE);
	set_slot(SLOT_GLOBAL, x | PG_RW_P | PG_GLOBAL);
	g[0] = look(gva, x);
	set_slot(SLOT_GLOBAL, y | PG_RW_P | PG_GLOBAL);
	g[1] = look(gva, y);
	T.pt[SLOT_GLOBAL] = z | PG_RW_P | PG_GLOBAL;
	cr4_put(cr4 & ~CR4_BIT_PGE);
	cr4_put(cr4 | CR4_BIT_PGE);
	g[2] = look(gva, z);
	T.pt[SLOT_GLOBAL] = w | PG_RW_P | PG_GLOBAL;
	cr4_put(cr4 & ~CR4_BIT_PGE);
	g[3] = look(gva, w);
	cr4_put(cr4);
	report_sight("CR4.PGE=1: a global PTE maps page X", g[0]);
	report_sight("global PTE changed to page Y, INVLPG: Y is seen", g[1]);
	report_sight("global PTE changed to page Z, CR4.PGE cleared and set: Z is seen", g[2]);
	report_sight("global PTE changed to page W, CR4.PGE cleared: W is seen", g[3]);
}

/* ---- PCIDs ------------------------------------------------------------------------------ */

#define CPUID_1_ECX_PCID (1u << 17)
#define CPUID_7_EBX_INVPCID (1u << 10)
#define CR4_BIT_PCIDE (1ul << 17)
#define CR3_PWT 0x8ull
#define CR3_NOFLUSH (1ull << 63)	/* with CR4.PCIDE: keep the new PCID's TLB entries */
#define PCID_A 1ull
#define PCID_B 2ull
#define INVPCID_ADDRESS 0

static int try_cr4(u64 v)
{
	return catch_exception(cr4_put(v));
}

static int try_cr3(u64 v)
{
	return catch_exception(cr3_put(v));
}

static int try_invpcid(u64 type, u64 pcid, u64 va)
{
	struct { u64 pcid, va; } desc = { pcid, va };

	return catch_exception(asm volatile("invpcid %0, %1" : : "m"(desc), "r"(type) : "memory"));
}

#define INVPCID_SINGLE 1
#define INVPCID_ALL 3
#define NONCANONICAL_VA 0x0000800000000000ull

/* INVPCID's #GP and #PF cases (SDM Vol. 2A, INVPCID), and its single-PCID and all-PCID
 * types reaching B's entry from PCID A (which runs when this is called). */
static void check_invpcid(const struct space *b, u64 a_cr3, u64 b_cr3)
{
	u64 x = new_page(), y = new_page(), va = va_of(0, 3), np_va = va_of(PDE_NP, 0);
	struct sight seen[2];

	int bad_type = try_invpcid(INVPCID_ALL + 1, 0, 0);
	int bad_desc = try_invpcid(INVPCID_ADDRESS, 1ull << 12, va);
	int noncanonical = try_invpcid(INVPCID_ADDRESS, PCID_B, NONCANONICAL_VA);
	int desc_np = catch_exception(asm volatile("invpcid (%0), %1" : : "r"(np_va),
						   "r"((u64)INVPCID_ALL) : "memory"));
	struct fault_sight np = fault_look(desc_np, np_va);

	b->pt[3] = x | PG_RW_P;
	cr3_put(b_cr3 | CR3_NOFLUSH);
	(void)*word_at(va, 0);
	cr3_put(a_cr3 | CR3_NOFLUSH);
	b->pt[3] = y | PG_RW_P;
	int single = try_invpcid(INVPCID_SINGLE, PCID_B, 0);
	cr3_put(b_cr3 | CR3_NOFLUSH);
	seen[0] = look(va, y);
	cr3_put(a_cr3 | CR3_NOFLUSH);
	b->pt[3] = x | PG_RW_P;
	int all = try_invpcid(INVPCID_ALL, 0, 0);
	cr3_put(b_cr3 | CR3_NOFLUSH);
	seen[1] = look(va, x);
	cr3_put(a_cr3 | CR3_NOFLUSH);

	check(bad_type == GP_VECTOR, "INVPCID of type 4 raises #GP", "got %s",
	      got_exception(bad_type));
	check(bad_desc == GP_VECTOR, "INVPCID with descriptor bits 63:12 set raises #GP",
	      "got %s", got_exception(bad_desc));
	check(noncanonical == GP_VECTOR, "INVPCID of a non-canonical address raises #GP",
	      "got %s", got_exception(noncanonical));
	report_fault_sight("INVPCID's descriptor on a not-present page", np, 0);
	expect_no_fault("INVPCID of PCID B", single);
	report_sight("B's PTE changed in PCID A, INVPCID of PCID B, MOV CR3 to B keeping the "
		     "TLB: the new page is seen", seen[0]);
	expect_no_fault("INVPCID of every PCID but global translations", all);
	report_sight("B's PTE changed in PCID A, INVPCID of all PCIDs, MOV CR3 to B keeping "
		     "the TLB: the new page is seen", seen[1]);
}

/* The main space T runs as PCID A, space B (its own PDPT, PD and PT in the window) as
 * PCID B. Asserted is what the SDM (Vol. 3A 4.10.1, 4.10.4) guarantees: a MOV CR3 with bit
 * 63 set may keep B's entries, but not one that INVLPG (of global translations: in every
 * PCID) or INVPCID removed, and one without bit 63 removes them. Nothing A could take from
 * B's global entry is looked at in A. */
static void check_pcid(void)
{
	if (!(cpuid(1).ecx & CPUID_1_ECX_PCID)) {
		report_skip("PCIDs: CPUID shows no PCID");
		return;
	}
	u64 cr4 = cr4_get(), t_cr3 = pa_of(T.pml4);
	int gp_noflush = try_cr3(t_cr3 | CR3_NOFLUSH);
	cr3_put(t_cr3 | CR3_PWT);
	int gp_pcide = try_cr4(cr4 | CR4_BIT_PCIDE);
	cr3_put(t_cr3);
	int pcide_on = try_cr4(cr4 | CR4_BIT_PGE | CR4_BIT_PCIDE);
	check(gp_noflush == GP_VECTOR, "CR4.PCIDE=0: MOV CR3 with bit 63 set raises #GP",
	      "got %s", got_exception(gp_noflush));
	check(gp_pcide == GP_VECTOR, "CR4.PCIDE set while CR3 bits 11:0 are not 0 raises #GP",
	      "got %s", got_exception(gp_pcide));
	if (!expect_no_fault("CR4.PCIDE and PGE set with CR3 bits 11:0 = 0", pcide_on))
		return;

	struct space b = new_space();
	u64 x = new_page(), y = new_page(), z = new_page(), w = new_page();
	u64 a_cr3 = t_cr3 | PCID_A, b_cr3 = pa_of(b.pml4) | PCID_B;
	u64 global_va = va_of(0, 0), va = va_of(0, 1), invpcid_va = va_of(0, 2);
	struct sight seen[6];
	u64 cr3_read;

	cr3_put(a_cr3);
	b.pt[0] = x | PG_RW_P | PG_GLOBAL;
	b.pt[1] = x | PG_RW_P;
	b.pt[2] = x | PG_RW_P;
	cr3_put(b_cr3 | CR3_NOFLUSH);
	cr3_read = read_cr3();
	seen[0] = look(global_va, x);
	seen[1] = look(va, x);
	seen[2] = look(invpcid_va, x);
	cr3_put(a_cr3 | CR3_NOFLUSH);
	b.pt[0] = y | PG_RW_P | PG_GLOBAL;
	invlpg(global_va);
	b.pt[2] = w | PG_RW_P;
	bool has_invpcid = cpuid(0).eax >= 7 && (cpuid_count(7, 0).ebx & CPUID_7_EBX_INVPCID);
	int invpcid = try_invpcid(INVPCID_ADDRESS, PCID_B, invpcid_va);
	cr3_put(b_cr3 | CR3_NOFLUSH);
	seen[3] = look(global_va, y);
	seen[4] = look(invpcid_va, w);
	cr3_put(a_cr3 | CR3_NOFLUSH);
	b.pt[1] = z | PG_RW_P;
	cr3_put(b_cr3);
	seen[5] = look(va, z);
	if (has_invpcid)
		check_invpcid(&b, a_cr3, b_cr3);
	cr3_put(t_cr3);
	cr4_put(cr4);

	check(cr3_read == b_cr3, "MOV CR3 with bit 63 set: CR3 reads back with the PCID, "
	      "without bit 63", "got %#lx, want %#lx", cr3_read, b_cr3);
	report_sight("PCID B: a global PTE maps page X", seen[0]);
	report_sight("PCID B: two more PTEs map page X", seen[1]);
	report_sight("PCID B: and the third", seen[2]);
	report_sight("B's global PTE changed to page Y and INVLPG in PCID A, MOV CR3 to B "
		     "keeping the TLB: Y is seen", seen[3]);
	report_sight("B's PTE changed to page Z in PCID A, MOV CR3 to B without bit 63: Z is "
		     "seen", seen[5]);
	if (has_invpcid) {
		expect_no_fault("INVPCID of one address in PCID B", invpcid);
		report_sight("B's PTE changed to page W and INVPCID of it in PCID A, MOV CR3 to B "
			     "keeping the TLB: W is seen", seen[4]);
	} else {
		check(invpcid == UD_VECTOR, "INVPCID, which CPUID does not show, raises #UD",
		      "got %s", got_exception(invpcid));
	}
}

/* ---- 6. page tables edited while in use ------------------------------------------------ */

static void check_live_tables(void)
{
	u64 x = new_page(), y = new_page(), z = new_page(), w = new_page();
	u64 va = slot_va(SLOT_LIVE), va2 = slot_va(SLOT_LIVE2);
	volatile u64 *self = (volatile u64 *)(uintptr_t)slot_va(SLOT_SELF);
	volatile u64 *pte = &T.pt[SLOT_LIVE];
	unsigned phys_bits = max_phys_bits();
	bool same = true, high_half = phys_bits < 52 && phys_bits >= 32;
	struct sight via_self, via_identity, low_half, high_back = { 0 }, by_xchg, by_cmpxchg;
	struct sight a_again;
	struct fault_sight high_fault = { 0 }, and_fault;
	u64 pte_after_self, self_after_identity, old_xchg, v, old, self_entry;
	int or_vector;
	u8 carry, zero;

	/* The page table of PDE_MAIN, mapped as data through one of its own slots. */
	set_slot(SLOT_SELF, pa_of(T.pt) | PG_RW_P);
	(void)self[0];
	for (unsigned i = 0; i < ENTRIES; i++)
		same &= self[i] == T.pt[i];
	self_entry = self[SLOT_SELF];

	self[SLOT_LIVE] = x | PG_RW_P;
	invlpg(va);
	via_self = look(va, x);
	pte_after_self = *pte;
	*pte = y | PG_RW_P;
	invlpg(va);
	via_identity = look(va, y);
	self_after_identity = self[SLOT_LIVE];

	/* Other instruction forms on the live entry. */
	*(volatile u32 *)pte = (u32)(z | PG_RW_P);
	invlpg(va);
	low_half = look(va, z);
	if (high_half) {
		((volatile u32 *)pte)[1] = 1u << (phys_bits - 32);
		invlpg(va);
		high_fault = fault_look(try_read(va), va);
		((volatile u32 *)pte)[1] = 0;
		invlpg(va);
		high_back = look(va, z);
	}
	v = w | PG_RW_P;
	asm volatile("xchg %0, %1" : "+r"(v), "+m"(*pte) : : "memory");
	old_xchg = v;
	invlpg(va);
	by_xchg = look(va, w);
	old = *pte;
	v = x | PG_RW_P;
	asm volatile("lock cmpxchg %3, %1; sete %0"
		     : "=q"(zero), "+m"(*pte), "+a"(old) : "r"(v) : "memory", "cc");
	invlpg(va);
	by_cmpxchg = look(va, x);
	asm volatile("lock andq %1, %0" : "+m"(*pte) : "e"(~(u64)PTE_WRITABLE) : "memory", "cc");
	invlpg(va);
	and_fault = fault_look(try_write(va, 1), va);
	asm volatile("lock orq %1, %0" : "+m"(*pte) : "e"((u64)PTE_WRITABLE) : "memory", "cc");
	invlpg(va);
	or_vector = try_write(va + 8 * SCRATCH_WORD, 5);
	asm volatile("lock btrq %2, %1; setc %0"
		     : "=q"(carry), "+m"(*pte) : "i"(PG_ACCESSED_BIT) : "memory", "cc");
	u64 after_btr = *pte;
	invlpg(va);
	a_again = look(va, x);
	u64 after_read = *pte;

	check(same && (self_entry & PG_ACCESSED), "the live page table, read as data through "
	      "its own slot, shows its entries (A set in that slot's)", "entry %#lx",
	      self_entry);
	report_sight("PTE written through the page table's data mapping, INVLPG: new page",
		     via_self);
	check(pte_after_self == (x | PG_RW_P | PG_ACCESSED), "... and the entry reads back as "
	      "written plus A", "%#lx", pte_after_self);
	report_sight("PTE written through the identity map, INVLPG: new page", via_identity);
	check(self_after_identity == (y | PG_RW_P | PG_ACCESSED), "... and the data mapping "
	      "shows the bytes written plus A", "%#lx", self_after_identity);
	report_sight("PTE rewritten by a 32-bit store of its low half, INVLPG: new page",
		     low_half);
	if (high_half) {
		report_fault_sight("high half of the PTE set to a reserved bit by a 32-bit "
				   "store, INVLPG", high_fault, PF_RSVD | PF_P);
		report_sight("high half cleared again, INVLPG: the page is back", high_back);
	}
	report_sight("PTE swapped in by XCHG, INVLPG: new page", by_xchg);
	check((old_xchg & ~PG_ACCESSED) == (z | PG_RW_P), "XCHG returned the old entry",
	      "%#lx", old_xchg);
	check(zero, "LOCK CMPXCHG on the live PTE succeeds", "ZF clear, PTE %#lx", *pte);
	report_sight("PTE replaced by LOCK CMPXCHG, INVLPG: new page", by_cmpxchg);
	report_fault_sight("R/W cleared by LOCK AND, INVLPG: a write faults", and_fault,
			   PF_P | PF_W);
	expect_no_fault("R/W set again by LOCK OR, INVLPG: the write succeeds", or_vector);
	check(carry && !(after_btr & PG_ACCESSED), "LOCK BTR clears A and returns it set",
	      "CF %u, PTE %#lx", carry, after_btr);
	check(a_again.ok && (after_read & PG_ACCESSED), "... INVLPG, read: A is set again",
	      "PTE %#lx", after_read);

	/* The whole table rewritten by one REP MOVSQ. */
	u64 *copy = new_table();
	for (unsigned i = 0; i < ENTRIES; i++)
		copy[i] = T.pt[i];
	copy[SLOT_LIVE] = y | PG_RW_P;
	copy[SLOT_LIVE2] = z | PG_RW_P;
	{
		void *dst = (void *)T.pt, *src = copy;
		size_t n = ENTRIES;

		asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	}
	cr3_reload();
	expect_shows("live page table rewritten by REP MOVSQ, MOV CR3: first changed slot",
		     va, y);
	expect_shows("... second changed slot", va2, z);
	expect_shows("... an unchanged slot", slot_va(SLOT_TLB), T.pt[SLOT_TLB] & PG_ADDRESS);

	/* One page table under two PDEs of the same space. */
	u64 *twin = new_table();
	twin[0] = x | PG_RW_P;
	struct sight twin_seen[4];
	T.pd[PDE_TWIN_A] = pa_of(twin) | PG_RW_P;
	T.pd[PDE_TWIN_B] = pa_of(twin) | PG_RW_P;
	cr3_reload();
	twin_seen[0] = look(va_of(PDE_TWIN_A, 0), x);
	twin_seen[1] = look(va_of(PDE_TWIN_B, 0), x);
	twin[0] = y | PG_RW_P;
	invlpg(va_of(PDE_TWIN_A, 0));
	invlpg(va_of(PDE_TWIN_B, 0));
	twin_seen[2] = look(va_of(PDE_TWIN_A, 0), y);
	twin_seen[3] = look(va_of(PDE_TWIN_B, 0), y);
	report_sight("one page table under two PDEs: the first shows its page", twin_seen[0]);
	report_sight("... and so does the second", twin_seen[1]);
	report_sight("its entry changed, INVLPG of both: the first shows the new page",
		     twin_seen[2]);
	report_sight("... and so does the second", twin_seen[3]);

	/* One page table in two address spaces. */
	u64 *cross = new_table();
	const struct space *other = &spaces[0];
	cross[0] = x | PG_RW_P;
	T.pd[PDE_CROSS] = pa_of(cross) | PG_RW_P;
	other->pd[PDE_CROSS] = pa_of(cross) | PG_RW_P;
	invlpg(va_of(PDE_CROSS, 0));
	expect_shows("a page table shared by two address spaces: seen in this one",
		     va_of(PDE_CROSS, 0), x);
	space_enter(other);
	expect_shows("... and in the other after MOV CR3", va_of(PDE_CROSS, 0), x);
	space_enter(&T);
	cross[0] = y | PG_RW_P;
	invlpg(va_of(PDE_CROSS, 0));
	expect_shows("its entry changed, INVLPG: this space sees the new page",
		     va_of(PDE_CROSS, 0), y);
	space_enter(other);
	expect_shows("... and the other space too after MOV CR3", va_of(PDE_CROSS, 0), y);
	space_enter(&T);

	/* A PML4 entry added to the live PML4, then removed. */
	u64 *pdpt = new_table(), *pd = new_table(), *pt = new_table();
	u64 live_va = ((u64)PML4_LIVE << 39) + 5 * PAGE_SIZE;
	pt[5] = w | PG_RW_P;
	pd[0] = pa_of(pt) | PG_RW_P;
	pdpt[0] = pa_of(pd) | PG_RW_P;
	T.pml4[PML4_LIVE] = pa_of(pdpt) | PG_RW_P;
	invlpg(live_va);
	struct sight added = look(live_va, w);
	T.pml4[PML4_LIVE] = 0;
	invlpg(live_va);
	struct fault_sight removed = fault_look(try_read(live_va), live_va);
	report_sight("a PML4E added to the live PML4, INVLPG: its page is seen", added);
	report_fault_sight("the PML4E removed, INVLPG: the address faults", removed, 0);

	/* A page table taken out of use, used as data, then used as a page table again. */
	u64 *reuse = new_table();
	volatile u64 *view = (volatile u64 *)(uintptr_t)slot_va(SLOT_REUSE_VIEW);
	unsigned wrong = 0;
	reuse[0] = x | PG_RW_P;
	T.pd[PDE_REUSE] = pa_of(reuse) | PG_RW_P;
	invlpg(va_of(PDE_REUSE, 0));
	expect_shows("a page table in use maps its page", va_of(PDE_REUSE, 0), x);
	T.pd[PDE_REUSE] = 0;
	cr3_reload();
	set_slot(SLOT_REUSE_VIEW, pa_of(reuse) | PG_RW_P);
	for (unsigned i = 0; i < ENTRIES; i++)
		view[i] = pattern(pa_of(reuse), i);
	for (unsigned i = 0; i < ENTRIES; i++)
		wrong += ((volatile u64 *)reuse)[i] != pattern(pa_of(reuse), i) ||
			 view[i] != pattern(pa_of(reuse), i);
	check(wrong == 0, "the page table unlinked, MOV CR3, then filled as data: all 512 "
	      "words read back", "%u wrong", wrong);
	for (unsigned i = 0; i < ENTRIES; i++)
		view[i] = 0;
	view[1] = y | PG_RW_P;
	T.pd[PDE_REUSE] = pa_of(reuse) | PG_RW_P;
	invlpg(va_of(PDE_REUSE, 1));
	expect_shows("... then used as a page table again, INVLPG: its new entry is used",
		     va_of(PDE_REUSE, 1), y);
	expect_pf("... and its cleared entry faults", try_read(va_of(PDE_REUSE, 0)),
		  va_of(PDE_REUSE, 0), 0);
}

/* ---- 7. large pages -------------------------------------------------------------------- */

static unsigned pages_not_showing(u64 va, u64 pa, unsigned count)
{
	unsigned wrong = 0;

	for (unsigned i = 0; i < count; i++)
		wrong += !va_shows(va + i * PAGE_SIZE, pa + i * PAGE_SIZE);
	return wrong;
}

static void check_large_pages(void)
{
	u64 a = ALIGN_UP(pa_of(big_space), MiB(2)), b = a + MiB(2), va = va_of(PDE_LARGE, 0);
	volatile u64 *pde = &T.pd[PDE_LARGE];
	u64 *split = new_table();
	unsigned large_wrong, split_wrong, merged_wrong;
	u64 pde_read, pde_written, written;
	struct sight remapped, left, right;

	for (unsigned i = 0; i < ENTRIES; i++) {
		fill_samples(a + i * PAGE_SIZE);
		fill_samples(b + i * PAGE_SIZE);
	}
	*pde = a | PG_LARGE | PG_RW_P;
	invlpg(va);
	large_wrong = pages_not_showing(va, a, ENTRIES);
	pde_read = *pde;
	*word_at(va + 77 * PAGE_SIZE, SCRATCH_WORD) = 0x77;
	pde_written = *pde;
	written = *word_at(a + 77 * PAGE_SIZE, SCRATCH_WORD);

	for (unsigned i = 0; i < ENTRIES; i++)
		split[i] = (a + i * PAGE_SIZE) | PG_RW_P;
	*pde = pa_of(split) | PG_RW_P;
	invlpg(va);		/* one INVLPG drops every TLB entry of the large page */
	split_wrong = pages_not_showing(va, a, ENTRIES);
	split[5] = (b + 5 * PAGE_SIZE) | PG_RW_P;
	invlpg(va + 5 * PAGE_SIZE);
	remapped = look(va + 5 * PAGE_SIZE, b + 5 * PAGE_SIZE);
	left = look(va + 4 * PAGE_SIZE, a + 4 * PAGE_SIZE);
	right = look(va + 6 * PAGE_SIZE, a + 6 * PAGE_SIZE);

	*pde = b | PG_LARGE | PG_RW_P;
	cr3_reload();
	merged_wrong = pages_not_showing(va, b, ENTRIES);

	check(large_wrong == 0, "a 2 MiB page: all 512 of its 4 KiB parts show region A",
	      "%u wrong", large_wrong);
	check((pde_read & (PG_ACCESSED | PG_DIRTY)) == PG_ACCESSED, "reads set the 2 MiB "
	      "PDE's A, not D", "PDE %#lx", pde_read);
	check((pde_written & PG_DIRTY) && written == 0x77, "a write through it sets D and "
	      "reaches region A", "PDE %#lx, word %#lx", pde_written, written);
	check(split_wrong == 0, "split into 512 PTEs, INVLPG: the contents are the same",
	      "%u wrong", split_wrong);
	check(remapped.ok && left.ok && right.ok, "one PTE of the split page remapped to "
	      "region B, INVLPG: only that 4 KiB changes", "pages 4, 5, 6 word 0: %#lx %#lx "
	      "%#lx", left.word0, remapped.word0, right.word0);
	check(merged_wrong == 0, "merged back into a 2 MiB page of region B, MOV CR3: all 512 "
	      "parts show region B", "%u wrong", merged_wrong);

	if (max_extended_leaf() < 0x80000001u ||
	    !(cpuid(0x80000001u).edx & CPUID_80000001_EDX_PAGE1GB)) {
		report_skip("1 GiB pages: CPUID shows none");
		return;
	}
	u64 gva = WINDOW_VA + GiB(1), other = new_page();
	T.pdpt[1] = 0 | PG_LARGE | PG_RW_P;
	invlpg(gva + a);
	unsigned wrong = pages_not_showing(gva + a, a, 16) + pages_not_showing(gva + b, b, 16);
	check(wrong == 0 && va_shows(gva + other, other), "a 1 GiB page mapping physical 0: "
	      "regions A and B and a pool page show through it", "%u wrong", wrong);
	T.pdpt[1] = 0;
	cr3_reload();
}

/* ---- 8. user and supervisor ------------------------------------------------------------ */

/* CR0.WP = 0 lets ring 0 write a read-only user page (EFLAGS.AC = 1 for SMAP); the page
 * stays a user page all the same, so SMAP still refuses a read of it with AC = 0. */
static void check_smap_with_wp_clear(u64 cr4)
{
	u64 va = slot_va(SLOT_U_RO) + 8 * SCRATCH_WORD, cr0 = cr0_get();
	u64 value = 0x5eedf00d5eedf00dull;
	cr4_put(cr4 | CR4_BIT_SMAP);
	cr0_put(cr0 & ~(u64)CR0_WP);
	int write_vector = catch_exception(asm volatile("stac; movq %1, (%0); clac"
							: : "r"(va), "r"(value) : "memory"));
	asm volatile("clac");
	int read_vector = try_read(va);
	cr0_put(cr0);
	cr4_put(cr4);
	expect_no_fault("CR0.WP=0, CR4.SMAP=1, EFLAGS.AC=1: ring-0 write to a read-only user "
			"page", write_vector);
	check(*word_at(slot_va(SLOT_U_DATA), SCRATCH_WORD) == value, "... the value landed",
	      "the page's other mapping reads %#lx", *word_at(slot_va(SLOT_U_DATA), SCRATCH_WORD));
	expect_pf("... and an EFLAGS.AC=0 read of the page still faults (SMAP)", read_vector, va,
		  PF_P);
}

/* Ring 3 needs user segments and a TSS for the stack of exceptions from ring 3; the
 * library's GDT has neither, so this test loads its own (same kernel selectors). */
#define USER_DATA_SELECTOR 0x1b		/* GDT entry 3, RPL 3 */
#define USER_CODE_SELECTOR 0x23		/* GDT entry 4, RPL 3 */
#define TSS_SELECTOR 0x28		/* GDT entries 5-6 */
#define TSS_TYPE_AVAILABLE_64 0x89	/* present, DPL 0, available 64-bit TSS */

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
static_assert(sizeof(struct tss64) == 104, "64-bit TSS (SDM Vol. 3A 8.7)");

static u64 gdt[7] __aligned(16) = {
	0,
	0x00af9a000000ffffull,		/* GDT_CODE64 */
	0x00cf92000000ffffull,		/* GDT_DATA */
	0x00cff2000000ffffull,		/* user data, DPL 3 */
	0x00affa000000ffffull,		/* user 64-bit code, DPL 3 */
	0, 0,				/* TSS */
};
static struct tss64 tss __aligned(16);
static u8 ring0_stack[16384] __aligned(16);

/* Ring-3 code, copied to a user page: each piece does one access and then UD2, whose #UD
 * brings the CPU back to ring 0; a page fault instead is the result. RDI = address, RSI =
 * value. user_enter(address, value, rip, rsp) goes to ring 3 by IRETQ. */
void user_enter(u64 address, u64 value, u64 rip, u64 rsp);
extern const u8 user_code_start[], user_read[], user_write[], user_jump[], user_ret[],
	user_code_end[];
asm(".text\n"
    "user_enter:\n"
    "	pushq $" XSTR(USER_DATA_SELECTOR) "\n"
    "	pushq %rcx\n"
    "	pushq $2\n"				/* RFLAGS: reserved bit 1, IF clear */
    "	pushq $" XSTR(USER_CODE_SELECTOR) "\n"
    "	pushq %rdx\n"
    "	iretq\n"
    "user_code_start:\n"
    "user_read:	mov (%rdi), %rax\n"
    "	ud2\n"
    "user_write:	mov %rsi, (%rdi)\n"
    "	ud2\n"
    "user_jump:	jmp *%rdi\n"
    "user_ret:	ret\n"
    "user_code_end:\n");

static void tables_for_ring3(void)
{
	u64 base = pa_of(&tss), limit = sizeof(tss) - 1;
	struct __packed { u16 limit; u64 base; } gdtr = { sizeof(gdt) - 1, pa_of(gdt) };

	tss.rsp[0] = pa_of(ring0_stack + sizeof(ring0_stack));
	tss.iomap_base = sizeof(tss);
	gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | (u64)TSS_TYPE_AVAILABLE_64 << 40 |
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[6] = base >> 32;
	asm volatile("lgdt %0" : : "m"(gdtr) : "memory");
	asm volatile("ltr %w0" : : "r"(TSS_SELECTOR));
}

/* Back in ring 0 through an exception: the data segments were nulled on the way out. */
static void kernel_segments(void)
{
	asm volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; mov %0, %%gs; mov %0, %%ss"
		     : : "r"(GDT_DATA) : "memory");
}

static u64 user_code_va;

static u64 user_entry(const u8 *piece)
{
	return user_code_va + (u64)(piece - user_code_start);
}

/* Runs a piece of user code; the vector that ended it (UD_VECTOR: the access passed). */
static int run_user(const u8 *piece, u64 address, u64 value)
{
	int vector = catch_exception(user_enter(address, value, user_entry(piece),
						slot_va(SLOT_U_STACK) + PAGE_SIZE - 64));
	kernel_segments();
	return vector;
}

static void expect_user_ok(const char *what, int vector)
{
	check(vector == UD_VECTOR, what, "ended by %s, want the #UD after the access",
	      got_exception(vector));
}

static void check_user_supervisor(void)
{
	u64 data = new_page(), sdata = new_page(), ucode = new_page();
	u64 id = nxe_on() ? PF_ID : 0;
	u64 va, cr0 = cr0_get();
	u64 *pt = new_table();
	int vector;

	tables_for_ring3();
	memcpy((void *)(uintptr_t)ucode, user_code_start, (size_t)(user_code_end - user_code_start));
	/* The window's upper entries allow user access; each PTE decides. */
	T.pml4[PML4_WINDOW] |= PG_USER;
	T.pdpt[0] |= PG_USER;
	T.pd[PDE_MAIN] |= PG_USER;
	T.pt[SLOT_U_CODE] = ucode | PTE_PRESENT | PG_USER;
	T.pt[SLOT_U_STACK] = new_page() | PG_RW_P | PG_USER;
	T.pt[SLOT_U_DATA] = data | PG_RW_P | PG_USER;
	T.pt[SLOT_U_RO] = data | PTE_PRESENT | PG_USER;
	T.pt[SLOT_S_DATA] = sdata | PG_RW_P;
	T.pt[SLOT_S_CODE] = code_page | PG_RW_P;
	T.pt[SLOT_U_XD] = code_page | PG_RW_P | PG_USER | (id ? PG_XD : 0);
	T.pt[SLOT_U_NP] = data | PTE_WRITABLE | PG_USER;
	pt[0] = data | PG_RW_P | PG_USER;
	T.pd[PDE_NO_USER] = pa_of(pt) | PG_RW_P;
	user_code_va = slot_va(SLOT_U_CODE);
	cr3_reload();

	va = slot_va(SLOT_U_DATA) + 8 * SCRATCH_WORD;
	expect_user_ok("ring 3 reads a user page", run_user(user_read, va, 0));
	expect_user_ok("ring 3 writes a writable user page", run_user(user_write, va, 0x3333));
	check(*word_at(data, SCRATCH_WORD) == 0x3333, "the ring-3 write reached the page",
	      "word %#lx", *word_at(data, SCRATCH_WORD));
	va = slot_va(SLOT_U_RO) + 8 * SCRATCH_WORD;
	expect_user_ok("ring 3 reads a read-only user page", run_user(user_read, va, 0));
	expect_pf("ring-3 write to a read-only user page", run_user(user_write, va, 1), va,
		  PF_U | PF_W | PF_P);
	cr0_put(cr0 & ~(u64)CR0_WP);
	vector = run_user(user_write, va, 1);
	cr0_put(cr0);
	expect_pf("ring-3 write to a read-only user page with CR0.WP=0", vector, va,
		  PF_U | PF_W | PF_P);
	va = slot_va(SLOT_S_DATA) + 0x48;
	expect_pf("ring-3 read of a supervisor page", run_user(user_read, va, 0), va,
		  PF_U | PF_P);
	expect_pf("ring-3 write to a supervisor page", run_user(user_write, va, 1), va,
		  PF_U | PF_W | PF_P);
	va = slot_va(SLOT_U_NP) + 0x50;
	expect_pf("ring-3 read of a not-present user page", run_user(user_read, va, 0), va,
		  PF_U);
	va = va_of(PDE_NO_USER, 0) + 0x58;
	expect_pf("ring-3 read of a user PTE under a supervisor PDE",
		  run_user(user_read, va, 0), va, PF_U | PF_P);
	va = slot_va(SLOT_S_CODE);
	expect_pf("ring-3 fetch from a supervisor page", run_user(user_jump, va, 0), va,
		  PF_U | PF_P | id);
	if (id) {
		va = slot_va(SLOT_U_XD);
		expect_pf("ring-3 fetch from a user page with XD", run_user(user_jump, va, 0), va,
			  PF_U | PF_P | PF_ID);
	}
	expect_no_fault("ring 0 reads a user page (SMAP off)",
			try_read(slot_va(SLOT_U_DATA)));
	expect_no_fault("ring 0 runs code on a user page (SMEP off)",
			try_call(user_entry(user_ret)));

	struct cpuid_regs leaf7 = cpuid(0).eax >= 7 ? cpuid_count(7, 0) : (struct cpuid_regs){ 0 };
	u64 cr4 = cr4_get();
	if (leaf7.ebx & CPUID_7_EBX_SMEP) {
		va = user_entry(user_ret);
		cr4_put(cr4 | CR4_BIT_SMEP);
		vector = try_call(va);
		cr4_put(cr4);
		expect_pf("CR4.SMEP=1: ring-0 fetch from a user page", vector, va, PF_P | PF_ID);
		expect_no_fault("CR4.SMEP=0 again: the same call runs", try_call(va));
	} else {
		report_skip("SMEP: CPUID shows none");
	}
	if (leaf7.ebx & CPUID_7_EBX_SMAP) {
		va = slot_va(SLOT_U_DATA) + 0x60;
		cr4_put(cr4 | CR4_BIT_SMAP);
		vector = try_read(va);
		cr4_put(cr4);
		expect_pf("CR4.SMAP=1: ring-0 read of a user page", vector, va, PF_P);
		cr4_put(cr4 | CR4_BIT_SMAP);
		vector = catch_exception(asm volatile("stac; movq (%0), %%rax; clac"
						      : : "r"(va) : "rax", "memory"));
		asm volatile("clac");
		cr4_put(cr4);
		expect_no_fault("CR4.SMAP=1 with EFLAGS.AC=1 (STAC): the read succeeds", vector);
		check_smap_with_wp_clear(cr4);
	} else {
		report_skip("SMAP: CPUID shows none");
	}
}

/* ---- zap mode: what a zap-all and slot changes leave ----------------------------------- */

#define SLOT_GPA 0xfd000000ull		/* unassigned: the slot checks make it RAM and back */
#define SLOT_PAGES 2
#define SLOT_VA_OLD 6			/* window slots that map the slot's pages */
#define SLOT_VA_NEW 7
#define ALL_ONES_64 (~0ull)

/* Spaces 0.. of check_address_spaces() whose first pages no longer show (0 if all do). */
static unsigned spaces_not_showing(unsigned first)
{
	unsigned wrong = 0;

	for (unsigned i = first; i < SPACES; i++) {
		space_enter(&spaces[i]);
		for (unsigned j = 0; j < SLOT_EDITED; j++)
			wrong += !va_shows(va_of(0, j), space_page[i][j]);
	}
	return wrong;
}

static long zap_alls(void)
{
	return hc_stat_read(HC_STAT_MMU_ZAP_ALLS);
}

static void check_zap_all(void)
{
	long before = zap_alls(), pages = hc_stat_read(HC_STAT_MMU_PAGES);

	check(zap_errors == 0 && zaps > 0 && before >= zaps, "HC_ZAP_ALL after every address-"
	      "space visit and before every group of checks", "%u calls, %u failed, %ld zap-alls "
	      "counted", zaps, zap_errors, before);
	long freed = hc_stat_read(HC_STAT_MMU_OBSOLETE_FREED), ret = hc_zap_all();
	long after = hc_stat_read(HC_STAT_MMU_PAGES);
	freed = hc_stat_read(HC_STAT_MMU_OBSOLETE_FREED) - freed;
	check(ret == 0 && zap_alls() == before + 1 && after <= pages, "a zap-all frees the MMU's "
	      "tables: those the guest needs come back on demand", "returned %ld; tables %ld "
	      "before, %ld right after", ret, pages, after);
	if (zap_slow)
		check(freed == 0, "zap=slow frees no page by generation", "%ld freed", freed);
	else
		check(freed >= pages, "zap=fast frees every table of the old generation", "%ld "
		      "freed of %ld", freed, pages);
	check(hc_stat_read(HC_STAT_MMU_ROOT_RELOADS) > 0, "the vCPU reloaded its root after a "
	      "zap-all", "%ld reloads", hc_stat_read(HC_STAT_MMU_ROOT_RELOADS));
	unsigned wrong = spaces_not_showing(0);
	check(wrong == 0, "after the zap-alls every address space still reads its own pages",
	      "%u pages wrong", wrong);
}

/* Maps window slot `slot` of space s to pa (the entry was not present or is rewritten
 * while s is not in CR3, so no INVLPG is owed). */
static void map_in_space(const struct space *s, unsigned slot, u64 pa)
{
	s->pt[slot] = pa | PG_RW_P;
}

/* Writes through va the samples that name page pa (va_shows(va, pa) then holds). */
static void sign_page(u64 va, u64 pa)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sample_words); i++)
		*word_at(va, sample_words[i]) = pattern(pa, sample_words[i]);
}

static bool va_reads_unassigned(u64 va)
{
	return *word_at(va, 0) == ALL_ONES_64 && *word_at(va, 1) == ALL_ONES_64;
}

/* A slot added, mapped in two spaces, moved and deleted while mapped: the mappings follow
 * the slot, the other spaces keep their pages, and nothing needs a zap-all. */
static void check_slots_under_mappings(void)
{
	const u64 gfn = SLOT_GPA >> PAGE_SHIFT, moved_gpa = SLOT_GPA + SLOT_PAGES * PAGE_SIZE;
	long base = zap_alls(), slot = hc_memslot_add(gfn, SLOT_PAGES, 0);

	if (!check(slot >= 0, "HC_MEMSLOT_ADD of two pages", "got %ld", slot))
		return;
	for (unsigned i = 0; i < SLOT_PAGES; i++) {
		map_in_space(&spaces[i], SLOT_VA_OLD, SLOT_GPA + i * PAGE_SIZE);
		space_enter(&spaces[i]);
		sign_page(va_of(0, SLOT_VA_OLD), SLOT_GPA + i * PAGE_SIZE);
	}
	long ret = hc_memslot_move(slot, moved_gpa >> PAGE_SHIFT);
	unsigned stale = 0, moved_wrong = 0;
	for (unsigned i = 0; i < SLOT_PAGES; i++) {
		map_in_space(&spaces[i], SLOT_VA_NEW, moved_gpa + i * PAGE_SIZE);
		space_enter(&spaces[i]);
		stale += !va_reads_unassigned(va_of(0, SLOT_VA_OLD));
		moved_wrong += !va_shows(va_of(0, SLOT_VA_NEW), SLOT_GPA + i * PAGE_SIZE);
	}
	check(ret == 0 && stale == 0 && moved_wrong == 0, "a slot moved while two spaces map it: "
	      "the old gpas read all-ones, the new ones show its contents", "move returned %ld; "
	      "%u old mappings still show RAM, %u new ones wrong", ret, stale, moved_wrong);

	ret = hc_memslot_delete(slot);
	unsigned gone = 0;
	for (unsigned i = 0; i < SLOT_PAGES; i++) {
		space_enter(&spaces[i]);
		*word_at(va_of(0, SLOT_VA_NEW), 0) = 1;		/* ignored: unassigned MMIO */
		gone += va_reads_unassigned(va_of(0, SLOT_VA_NEW));
	}
	check(ret == 0 && gone == SLOT_PAGES, "a slot deleted while mapped: its gpas read "
	      "all-ones, writes ignored", "delete returned %ld; %u of %u unassigned", ret, gone,
	      SLOT_PAGES);

	slot = hc_memslot_add(gfn, SLOT_PAGES, 0);
	space_enter(&spaces[0]);
	check(slot >= 0 && *word_at(va_of(0, SLOT_VA_OLD), 0) == 0 &&
	      *word_at(va_of(0, SLOT_VA_OLD), 511) == 0, "a slot added again over the old gpas "
	      "reads as new zeroed RAM through the old mapping", "add returned %ld", slot);
	unsigned wrong = spaces_not_showing(SLOT_PAGES);
	check(wrong == 0 && zap_alls() == base, "the other address spaces kept their pages, and "
	      "no slot change needed a zap-all", "%u pages wrong, %ld zap-alls", wrong,
	      zap_alls() - base);
	hc_memslot_delete(slot);
}

int main(const struct multiboot_info *mbi)
{
	printf("MAXPHYADDR %u, NX %s, pool at %#lx, large-page regions from %#lx\n",
	       max_phys_bits(), cpu_has_nx() ? "yes" : "no", pa_of(pool),
	       ALIGN_UP(pa_of(big_space), MiB(2)));
	zap_mode = cmdline_has_word(mb_cmdline(mbi), "zap");
	zap_slow = cmdline_has_word(mb_cmdline(mbi), "slow");
	check_address_spaces();
	if (zap_mode) {
		check_zap_all();
		check_slots_under_mappings();
	}
	T = new_space();
	space_enter(&T);
	static void (*const groups[])(void) = {
		check_faults, check_wp, check_accessed_dirty, check_tlb, check_pcid,
		check_live_tables, check_large_pages, check_user_supervisor,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(groups); i++) {
		maybe_zap_all();
		groups[i]();
	}
	cr3_put(pa_of(guest_pml4));
	exit_test();
}
