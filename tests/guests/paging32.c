/* paging32: the guest's own 32-bit and PAE paging, checked from inside a 32-bit protected-
 * mode guest (entered with paging off). First 32-bit paging with CR4.PSE: an identity map
 * of 4 KiB and 4 MiB pages plus a test window; contents, #PF error codes and CR2, CR0.WP,
 * accessed and dirty bits, INVLPG and MOV CR3, a page table edited while in use, 4 MiB
 * pages split into 4 KiB ones, and several page directories switched by MOV CR3. Then
 * paging off, PAE paging on (a PDPT of four entries) and the same checks with 2 MiB pages,
 * plus a not-present PDPTE, reserved bits, XD, and two PDPTs (in one page, 32 bytes apart)
 * switched by MOV CR3.
 *
 * The 32-bit guest library has no IDT, so this file has its own GDT, IDT and a catch of
 * expected exceptions like the 64-bit library's (lib/except.h). Code, data, stack and the
 * tables stay identity-mapped; the console and debug exit are port I/O. As in the 64-bit
 * paging guest, only what the architecture requires after an invalidation is asserted. */
#include <stdarg.h>
#include "tests/guests/lib/guest.h"

#define STR_(x) #x
#define XSTR(x) STR_(x)

/* Paging-structure entry bits (Intel SDM Vol. 3A 4.3, 4.4). */
#define PG_P 0x1u
#define PG_W 0x2u
#define PG_RW_P (PG_P | PG_W)
#define PG_ACCESSED 0x20u
#define PG_DIRTY 0x40u
#define PG_PS 0x80u
#define PG_GLOBAL 0x100u
#define PAE_XD (1ull << 63)
#define PDE_4M_RESERVED_BIT 21		/* 32-bit paging, 4 MiB PDE */
#define PDE_2M_RESERVED_BIT 13		/* PAE paging, 2 MiB PDE: bits 20:13 */

/* #PF error-code bits (SDM Vol. 3A 4.7). */
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_RSVD 0x8u
#define PF_ID 0x10u

#define CR4_BIT_PSE (1u << 4)
#define CR4_BIT_PGE (1u << 7)
#define EFER_BIT_NXE (1ull << 11)
#define CPUID_1_EDX_PGE (1u << 13)
#define CPUID_80000001_EDX_NX (1u << 20)
#define X86_RET_OPCODE 0xc3

#define NO_EXCEPTION_32 (-1)
#define GDT_CODE32 0x08
#define GDT_DATA32 0x10
#define IDT_INTERRUPT_GATE32 0x8e	/* present, DPL 0, 32-bit interrupt gate */

#define IDENTITY_END ((u32)MiB(32))	/* the default RAM of a VM */
#define WINDOW_VA 0x40000000u		/* 1 GiB: PDE 256 (32-bit), PDPTE 1 (PAE) */
#define HOLE_VA 0x80000000u		/* PAE: PDPTE 2, not present */

/* ---- exceptions ---------------------------------------------------------------------- */

struct trap_frame32 {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* PUSHAL */
	u32 vector, error_code;
	u32 eip, cs, eflags;				/* pushed by the CPU */
};

struct catch_point32 {
	u32 ebx, esi, edi, ebp, esp, eip;
};

struct exception32 {
	int vector;
	u32 error_code, eip, cr2;
};

static struct exception32 last = { .vector = NO_EXCEPTION_32 };
static struct catch_point32 *armed;

void trap32_handler(struct trap_frame32 *f);
int catch32_setjmp(struct catch_point32 *cp) __attribute__((returns_twice));
__noreturn void catch32_longjmp(struct catch_point32 *cp);
extern const u32 trap32_stubs[EXCEPTION_COUNT];

/* One stub per vector (a dummy error code where the CPU pushes none), the common entry,
 * and setjmp/longjmp over the callee-saved registers of the i386 ABI. */
asm(".text\n"
    ".macro TRAP32_STUB v\n"
    "trap32_stub_\\v:\n"
    "	.if !((1 << \\v) & " XSTR(ERROR_CODE_VECTORS) ")\n"
    "	pushl $0\n"
    "	.endif\n"
    "	pushl $\\v\n"
    "	jmp trap32_common\n"
    ".endm\n"
    ".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
    "29,30,31\n"
    "	TRAP32_STUB \\v\n"
    ".endr\n"
    "trap32_common:\n"
    "	pushal\n"
    "	cld\n"
    "	push %esp\n"
    "	call trap32_handler\n"
    "	ud2\n"
    "catch32_setjmp:\n"
    "	mov 4(%esp), %eax\n"
    "	mov %ebx, 0(%eax)\n"
    "	mov %esi, 4(%eax)\n"
    "	mov %edi, 8(%eax)\n"
    "	mov %ebp, 12(%eax)\n"
    "	lea 4(%esp), %ecx\n"		/* ESP after our return */
    "	mov %ecx, 16(%eax)\n"
    "	mov (%esp), %ecx\n"		/* the return address */
    "	mov %ecx, 20(%eax)\n"
    "	xor %eax, %eax\n"
    "	ret\n"
    "catch32_longjmp:\n"
    "	mov 4(%esp), %edx\n"
    "	mov 0(%edx), %ebx\n"
    "	mov 4(%edx), %esi\n"
    "	mov 8(%edx), %edi\n"
    "	mov 12(%edx), %ebp\n"
    "	mov 16(%edx), %esp\n"
    "	mov $1, %eax\n"
    "	cld\n"
    "	jmp *20(%edx)\n"
    ".section .rodata\n"
    ".balign 4\n"
    "trap32_stubs:\n"
    ".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
    "29,30,31\n"
    "	.long trap32_stub_\\v\n"
    ".endr\n"
    ".text\n");

#define compiler_barrier() asm volatile("" : : : "memory")

static void catch32_arm(struct catch_point32 *cp)
{
	last = (struct exception32){ .vector = NO_EXCEPTION_32 };
	armed = cp;
	compiler_barrier();
}

static void catch32_disarm(void)
{
	compiler_barrier();
	armed = NULL;
}

/* Runs stmt with exceptions caught; the vector it raised, or NO_EXCEPTION_32. */
#define catch32(stmt) ({						\
	struct catch_point32 __catch_point;				\
	if (catch32_setjmp(&__catch_point) == 0) {			\
		catch32_arm(&__catch_point);				\
		stmt;							\
		catch32_disarm();					\
	}								\
	last.vector;							\
})

void trap32_handler(struct trap_frame32 *f)
{
	static bool reporting;
	struct catch_point32 *cp = armed;

	if (!cp) {
		if (reporting)
			debug_exit(EXIT_STATUS_FAILURE);
		reporting = true;
		reportf(false, "unexpected exception %u (error code %#x) at eip %#x, cr2 %#lx",
			f->vector, f->error_code, f->eip, read_cr2());
		exit_test();
	}
	last = (struct exception32){ (int)f->vector, f->error_code, f->eip, (u32)read_cr2() };
	armed = NULL;
	catch32_longjmp(cp);
}

struct gate32 {
	u16 offset_low, selector;
	u8 zero, type_attr;
	u16 offset_high;
} __packed;

struct table_pointer32 {
	u16 limit;
	u32 base;
} __packed;

static u64 gdt32[3] __aligned(8) = {
	0,
	0x00cf9a000000ffffull,		/* GDT_CODE32: flat 32-bit code */
	0x00cf92000000ffffull,		/* GDT_DATA32: flat data */
};
static struct gate32 idt32[EXCEPTION_COUNT] __aligned(8);

/* The loader's GDT is not ours to keep (multiboot leaves GDTR undefined for the OS). The
 * GDT is writable: the CPU sets the accessed bits of the descriptors it loads. */
static void tables_init(void)
{
	struct table_pointer32 gdtr = { sizeof(gdt32) - 1, (uintptr_t)gdt32 };
	struct table_pointer32 idtr = { sizeof(idt32) - 1, (uintptr_t)idt32 };

	asm volatile("lgdt %0\n\t"
		     "ljmp $" XSTR(GDT_CODE32) ", $1f\n"
		     "1:\n\t"
		     "mov %1, %%ds\n\t"
		     "mov %1, %%es\n\t"
		     "mov %1, %%fs\n\t"
		     "mov %1, %%gs\n\t"
		     "mov %1, %%ss"
		     : : "m"(gdtr), "r"(GDT_DATA32) : "memory");
	for (int v = 0; v < EXCEPTION_COUNT; v++)
		idt32[v] = (struct gate32){ (u16)trap32_stubs[v], GDT_CODE32, 0,
					    IDT_INTERRUPT_GATE32, (u16)(trap32_stubs[v] >> 16) };
	asm volatile("lidt %0" : : "m"(idtr));
}

/* ---- reporting ------------------------------------------------------------------------- */

static const char *mode_name = "no paging";

/* "[mode] what", and on failure the details (the console cuts lines at 160 characters). */
static bool check(bool ok, const char *what, const char *detail, ...) __printf(3, 4);
static bool check(bool ok, const char *what, const char *detail, ...)
{
	char text[160];
	va_list ap;

	if (ok)
		return reportf(true, "[%s] %s", mode_name, what);
	va_start(ap, detail);
	vsnprintf(text, sizeof(text), detail, ap);
	va_end(ap);
	return reportf(false, "[%s] %s (%s)", mode_name, what, text);
}

static const char *got_exception(int vector)
{
	static char text[64];

	if (vector == NO_EXCEPTION_32)
		return "no exception";
	snprintf(text, sizeof(text), "vector %d, error code %#x, CR2 %#x", vector,
		 last.error_code, last.cr2);
	return text;
}

static bool expect_pf(const char *what, int vector, u32 va, u32 error_code)
{
	char text[140];

	snprintf(text, sizeof(text), "%s: #PF(%#x), CR2 = the address", what, error_code);
	return check(vector == PF_VECTOR && last.cr2 == va && last.error_code == error_code,
		     text, "want CR2 %#x; got %s", va, got_exception(vector));
}

static bool expect_no_fault(const char *what, int vector)
{
	return check(vector == NO_EXCEPTION_32, what, "got %s", got_exception(vector));
}

/* ---- pages, patterns, control registers -------------------------------------------- */

#define POOL_PAGES 96
static u8 pool[POOL_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static unsigned pool_used;
/* 4 MiB for large pages (one 4 MiB page, or two 2 MiB ones), 4 MiB-aligned inside this
 * array (aligning the array itself would pad the image file to the alignment). */
static u8 big_space[MiB(8)] __aligned(PAGE_SIZE);
static u8 *big;
static volatile u32 canary = 0xc0ffee42u;

static u32 pa_of(const volatile void *p)
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

static void *new_table(void)
{
	void *t = alloc_page();

	memset(t, 0, PAGE_SIZE);
	return t;
}

#define WORDS 1024
static const unsigned sample_words[] = { 0, 3, 512, 1023 };
#define SCRATCH_WORD 100		/* written by the checks; never sampled */

static u32 pattern(u32 pa, unsigned word)
{
	return (pa ^ 0x5a5a5000u) + word;
}

static void fill_samples(u32 pa)
{
	volatile u32 *p = (volatile u32 *)(uintptr_t)pa;

	for (unsigned i = 0; i < ARRAY_SIZE(sample_words); i++)
		p[sample_words[i]] = pattern(pa, sample_words[i]);
	p[SCRATCH_WORD] = 0;
}

static u32 new_page(void)
{
	u32 *p = alloc_page();

	for (unsigned i = 0; i < WORDS; i++)
		p[i] = pattern(pa_of(p), i);
	p[SCRATCH_WORD] = 0;
	return pa_of(p);
}

static volatile u32 *word_at(u32 va, unsigned word)
{
	return (volatile u32 *)(uintptr_t)(va + 4 * word);
}

static bool va_shows(u32 va, u32 pa)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sample_words); i++)
		if (*word_at(va, sample_words[i]) != pattern(pa, sample_words[i]))
			return false;
	return true;
}

/* What an access saw, taken at once and reported later: printing exits to the hypervisor,
 * and no check may pass only because an exit flushed something. */
struct sight {
	bool ok;
	u32 va, pa, word0;
};

static struct sight look(u32 va, u32 pa)
{
	return (struct sight){ va_shows(va, pa), va, pa, *word_at(va, 0) };
}

static bool report_sight(const char *what, struct sight s)
{
	return check(s.ok, what, "linear %#x: word 0 was %#x, page %#x has %#x", s.va, s.word0,
		     s.pa, pattern(s.pa, 0));
}

static unsigned pages_not_showing(u32 va, u32 pa, unsigned count)
{
	unsigned wrong = 0;

	for (unsigned i = 0; i < count; i++)
		wrong += !va_shows(va + i * PAGE_SIZE, pa + i * PAGE_SIZE);
	return wrong;
}

static u32 cr0_get(void)
{
	u32 v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void cr0_put(u32 v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static u32 cr4_get(void)
{
	u32 v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void cr4_put(u32 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static void cr3_put(u32 v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static void cr3_reload(void)
{
	cr3_put(read_cr3());
}

static int try_read(u32 va)
{
	return catch32((void)*(volatile u32 *)(uintptr_t)va);
}

static int try_write(u32 va, u32 value)
{
	return catch32(*(volatile u32 *)(uintptr_t)va = value);
}

static int try_call(u32 va)
{
	return catch32(((void (*)(void))(uintptr_t)va)());
}

static u32 max_extended_leaf(void)
{
	return cpuid(0x80000000u).eax;
}

static unsigned max_phys_bits(void)
{
	if (max_extended_leaf() >= 0x80000008u)
		return cpuid(0x80000008u).eax & 0xff;
	return 36;
}

/* ---- the paging mode under test -------------------------------------------------------- */

/* The window: its page table (the "slots") under window PDE 0, large pages under window
 * PDEs 1-3, window PDE 4 not present. 32-bit paging: PDEs 256-260 of the directory in
 * CR3; PAE paging: PDEs 0-4 of the directory under PDPTE 1. */
enum { WPDE_SLOTS, WPDE_LARGE, WPDE_LARGE_RO, WPDE_LARGE_RSVD, WPDE_NP, WPDE_SPLIT };
enum {
	SLOT_DATA = 0, SLOT_DATA_COUNT = 4,
	SLOT_NP = 10, SLOT_RO, SLOT_WP, SLOT_AD, SLOT_TLB, SLOT_GLOBAL, SLOT_CODE,
	SLOT_RSVD, SLOT_SELF = 20, SLOT_LIVE,
};

static bool pae;
static volatile u32 *pd32;		/* 32-bit: the directory with the window */
static volatile u32 *pt32;		/* 32-bit: the window's page table */
static volatile u64 *pd_pae;		/* PAE: the directory under PDPTE 1 */
static volatile u64 *pt_pae;		/* PAE: the window's page table */
static u32 data_pages[SLOT_DATA_COUNT];

static u32 large_size(void)
{
	return pae ? (u32)MiB(2) : (u32)MiB(4);
}

static u32 slot_va(unsigned slot)
{
	return WINDOW_VA + slot * (u32)PAGE_SIZE;
}

static u32 wpde_va(unsigned wpde)
{
	return WINDOW_VA + wpde * large_size();
}

static void put_slot(unsigned slot, u64 pte)
{
	if (pae)
		pt_pae[slot] = pte;
	else
		pt32[slot] = (u32)pte;
}

static u64 slot_entry(unsigned slot)
{
	return pae ? pt_pae[slot] : pt32[slot];
}

static void set_slot(unsigned slot, u64 pte)
{
	put_slot(slot, pte);
	invlpg(slot_va(slot));
}

static void put_wpde(unsigned wpde, u64 entry)
{
	if (pae)
		pd_pae[wpde] = entry;
	else
		pd32[256 + wpde] = (u32)entry;
}

static u64 wpde_entry(unsigned wpde)
{
	return pae ? pd_pae[wpde] : pd32[256 + wpde];
}

/* ---- checks of both modes -------------------------------------------------------------- */

static void check_contents(void)
{
	unsigned wrong = 0, large_pages = large_size() / (u32)PAGE_SIZE;

	for (unsigned j = 0; j < SLOT_DATA_COUNT; j++)
		wrong += !va_shows(slot_va(j), data_pages[j]);
	check(wrong == 0, "4 KiB pages of the window show their pages", "%u wrong", wrong);
	put_wpde(WPDE_LARGE, pa_of(big) | PG_PS | PG_RW_P);
	invlpg(wpde_va(WPDE_LARGE));
	wrong = pages_not_showing(wpde_va(WPDE_LARGE), pa_of(big), large_pages);
	check(wrong == 0, pae ? "a 2 MiB page: all 512 of its 4 KiB parts show its memory" :
	      "a 4 MiB page: all 1024 of its 4 KiB parts show its memory", "%u wrong", wrong);
}

static void check_faults(void)
{
	u32 page = new_page(), va;

	set_slot(SLOT_NP, page | PG_W);
	va = slot_va(SLOT_NP) + 0x234;
	expect_pf("read of a not-present page", try_read(va), va, 0);
	expect_pf("write to a not-present page", try_write(va, 1), va, PF_W);
	put_wpde(WPDE_NP, 0);
	va = wpde_va(WPDE_NP) + 0x5010;
	invlpg(va);
	expect_pf("read through a not-present PDE", try_read(va), va, 0);

	set_slot(SLOT_RO, page | PG_P);
	va = slot_va(SLOT_RO) + 4 * SCRATCH_WORD;
	expect_no_fault("a read-only page can be read", try_read(va));
	expect_pf("write to a read-only page (CR0.WP=1)", try_write(va, 1), va, PF_P | PF_W);

	put_wpde(WPDE_LARGE_RO, pa_of(big) | PG_PS | PG_P);
	va = wpde_va(WPDE_LARGE_RO) + 3 * PAGE_SIZE + 4 * SCRATCH_WORD;
	invlpg(va);
	expect_no_fault("a read-only large page can be read", try_read(va));
	expect_pf("write to a read-only large page", try_write(va, 1), va, PF_P | PF_W);

	put_wpde(WPDE_LARGE_RSVD, pa_of(big) | PG_PS | PG_RW_P |
		 BIT(pae ? PDE_2M_RESERVED_BIT : PDE_4M_RESERVED_BIT));
	va = wpde_va(WPDE_LARGE_RSVD) + 0x7018;
	invlpg(va);
	expect_pf(pae ? "read through a 2 MiB PDE with reserved bit 13 set" :
		  "read through a 4 MiB PDE with reserved bit 21 set", try_read(va), va,
		  PF_RSVD | PF_P);
	put_wpde(WPDE_LARGE_RSVD, 0);
	invlpg(va);
}

static void check_wp(void)
{
	u32 page = new_page(), cr0 = cr0_get() | CR0_WP;
	u32 va = slot_va(SLOT_WP) + 4 * SCRATCH_WORD;
	volatile u32 *word = word_at(page, SCRATCH_WORD);
	u32 written, after_fault;
	u64 pte_after;
	int vector, fault;
	struct exception32 fault_seen;

	set_slot(SLOT_WP, page | PG_P);
	cr0_put(cr0 & ~(u32)CR0_WP);
	vector = try_write(va, 0x1111);
	cr0_put(cr0);
	written = *word;
	pte_after = slot_entry(SLOT_WP);
	fault = try_write(va, 0x2222);		/* no invalidation: WP is not cached */
	fault_seen = last;
	after_fault = *word;

	check(vector == NO_EXCEPTION_32 && written == 0x1111, "CR0.WP=0: a supervisor write "
	      "to a read-only page succeeds", "got %s, word %#x", got_exception(vector),
	      written);
	check(pte_after & PG_DIRTY, "that write set the read-only PTE's dirty bit",
	      "PTE %#llx", pte_after);
	last = fault_seen;
	expect_pf("CR0.WP=1 again: supervisor write to the read-only page", fault, va,
		  PF_P | PF_W);
	check(after_fault == 0x1111, "the faulting write changed nothing", "word %#x",
	      after_fault);
}

static void check_accessed_dirty(void)
{
	u32 page = new_page(), va = slot_va(SLOT_AD), lva;
	const u64 ad = PG_ACCESSED | PG_DIRTY;
	u64 seen[5], pde_seen, large[2];
	u32 large_word;

	put_slot(SLOT_AD, page | PG_RW_P);
	put_wpde(WPDE_SLOTS, wpde_entry(WPDE_SLOTS) & ~(u64)PG_ACCESSED);
	cr3_reload();
	(void)*word_at(va, 0);
	seen[0] = slot_entry(SLOT_AD);
	pde_seen = wpde_entry(WPDE_SLOTS);
	*word_at(va, SCRATCH_WORD) = 1;		/* the read's TLB entry had D clear */
	seen[1] = slot_entry(SLOT_AD);
	put_slot(SLOT_AD, slot_entry(SLOT_AD) & ~ad);
	invlpg(va);
	(void)*word_at(va, 0);
	seen[2] = slot_entry(SLOT_AD);
	*word_at(va, SCRATCH_WORD) = 2;
	seen[3] = slot_entry(SLOT_AD);
	put_slot(SLOT_AD, slot_entry(SLOT_AD) & ~ad);
	invlpg(va);
	*word_at(va, SCRATCH_WORD) = 3;
	seen[4] = slot_entry(SLOT_AD);

	lva = wpde_va(WPDE_LARGE) + 9 * PAGE_SIZE;
	put_wpde(WPDE_LARGE, wpde_entry(WPDE_LARGE) & ~ad);
	invlpg(lva);
	(void)*word_at(lva, 0);
	large[0] = wpde_entry(WPDE_LARGE);
	*word_at(lva, SCRATCH_WORD) = 4;
	large[1] = wpde_entry(WPDE_LARGE);
	large_word = *word_at(pa_of(big) + 9 * PAGE_SIZE, SCRATCH_WORD);

	check((seen[0] & ad) == PG_ACCESSED, "a read sets the PTE's A, not D", "PTE %#llx",
	      seen[0]);
	check(pde_seen & PG_ACCESSED, "... and the A of the PDE above it", "PDE %#llx",
	      pde_seen);
	check(seen[1] & PG_DIRTY, "a write after the read sets the PTE's D", "PTE %#llx",
	      seen[1]);
	check((seen[2] & ad) == PG_ACCESSED, "A and D cleared, INVLPG: a read sets A again, D "
	      "stays clear", "PTE %#llx", seen[2]);
	check(seen[3] & PG_DIRTY, "... and a write sets D again", "PTE %#llx", seen[3]);
	check((seen[4] & ad) == ad, "A and D cleared, INVLPG: a write alone sets both",
	      "PTE %#llx", seen[4]);
	check((large[0] & ad) == PG_ACCESSED, "a read sets the large PDE's A, not D",
	      "PDE %#llx", large[0]);
	check((large[1] & PG_DIRTY) && large_word == 4, "a write sets its D and reaches the "
	      "page", "PDE %#llx, word %#x", large[1], large_word);
}

static void check_tlb(void)
{
	u32 x = new_page(), y = new_page(), z = new_page(), w = new_page();
	u32 va = slot_va(SLOT_TLB);
	struct sight seen[3];

	set_slot(SLOT_TLB, x | PG_RW_P);
	seen[0] = look(va, x);
	set_slot(SLOT_TLB, y | PG_RW_P);
	seen[1] = look(va, y);
	put_slot(SLOT_TLB, z | PG_RW_P);
	cr3_reload();
	seen[2] = look(va, z);
	report_sight("a PTE maps page X", seen[0]);
	report_sight("PTE changed to page Y, INVLPG: Y is seen", seen[1]);
	report_sight("PTE changed to page Z, MOV CR3 (same value): Z is seen", seen[2]);

	if (!(cpuid(1).edx & CPUID_1_EDX_PGE)) {
		printf("SKIP: [%s] global pages: CPUID shows no PGE\n", mode_name);
		return;
	}
	u32 cr4 = cr4_get(), gva = slot_va(SLOT_GLOBAL);

	cr4_put(cr4 | CR4_BIT_PGE);
	set_slot(SLOT_GLOBAL, x | PG_RW_P | PG_GLOBAL);
	seen[0] = look(gva, x);
	set_slot(SLOT_GLOBAL, y | PG_RW_P | PG_GLOBAL);
	seen[1] = look(gva, y);
	put_slot(SLOT_GLOBAL, w | PG_RW_P | PG_GLOBAL);
	cr4_put(cr4 & ~CR4_BIT_PGE);
	seen[2] = look(gva, w);
	cr4_put(cr4);
	report_sight("CR4.PGE=1: a global PTE maps page X", seen[0]);
	report_sight("global PTE changed to page Y, INVLPG: Y is seen", seen[1]);
	report_sight("global PTE changed to page W, CR4.PGE cleared: W is seen", seen[2]);
}

/* The window's page table read and written as data through one of its own slots. */
static void check_live_table(void)
{
	u32 x = new_page(), y = new_page(), va = slot_va(SLOT_LIVE);
	u32 entry_size = pae ? 8 : 4, table = pae ? pa_of(pt_pae) : pa_of(pt32);
	u32 self = slot_va(SLOT_SELF);
	volatile u32 *live_low = (volatile u32 *)(uintptr_t)(self + SLOT_LIVE * entry_size);
	bool same = true;
	struct sight via_self, via_identity;
	u64 entry_after_self;
	u32 self_after_identity;

	set_slot(SLOT_SELF, table | PG_RW_P);
	for (unsigned i = 0; i < (u32)PAGE_SIZE / 4; i++)
		same &= *word_at(self, i) == *word_at(table, i);
	*live_low = x | PG_RW_P;
	invlpg(va);
	via_self = look(va, x);
	entry_after_self = slot_entry(SLOT_LIVE);
	put_slot(SLOT_LIVE, y | PG_RW_P);
	invlpg(va);
	via_identity = look(va, y);
	self_after_identity = *live_low;

	check(same, "the live page table, read as data through its own slot, shows its "
	      "entries", "entry %#x", *word_at(self, SLOT_SELF * entry_size / 4));
	report_sight("PTE written through the table's data mapping, INVLPG: new page",
		     via_self);
	check(entry_after_self == (x | PG_RW_P | PG_ACCESSED), "... and the entry reads back "
	      "as written plus A", "%#llx", entry_after_self);
	report_sight("PTE written through the identity map, INVLPG: new page", via_identity);
	check(self_after_identity == (y | PG_RW_P | PG_ACCESSED), "... and the data mapping "
	      "shows the bytes written plus A", "%#x", self_after_identity);
}

/* A large page split into 4 KiB PTEs, then one of them remapped. */
static void check_split(void)
{
	u32 n = large_size() / (u32)PAGE_SIZE, va = wpde_va(WPDE_SPLIT), other = new_page();
	void *table = new_table();
	unsigned wrong;

	put_wpde(WPDE_SPLIT, pa_of(big) | PG_PS | PG_RW_P);
	invlpg(va);
	wrong = pages_not_showing(va, pa_of(big), n);
	for (u32 i = 0; i < n; i++) {
		u32 pte = (pa_of(big) + i * (u32)PAGE_SIZE) | PG_RW_P;

		if (pae)
			((u64 *)table)[i] = pte;
		else
			((u32 *)table)[i] = pte;
	}
	put_wpde(WPDE_SPLIT, pa_of(table) | PG_RW_P);
	invlpg(va);		/* one INVLPG drops every TLB entry of the large page */
	wrong += pages_not_showing(va, pa_of(big), n);
	if (pae)
		((volatile u64 *)table)[5] = other | PG_RW_P;
	else
		((volatile u32 *)table)[5] = other | PG_RW_P;
	invlpg(va + 5 * PAGE_SIZE);
	struct sight remapped = look(va + 5 * PAGE_SIZE, other);
	struct sight left = look(va + 4 * PAGE_SIZE, pa_of(big) + 4 * PAGE_SIZE);

	check(wrong == 0, "a large page split into 4 KiB PTEs, INVLPG: the contents are the "
	      "same", "%u wrong", wrong);
	check(remapped.ok && left.ok, "one PTE of the split page remapped, INVLPG: only that "
	      "4 KiB changes", "pages 4, 5 word 0: %#x %#x", left.word0, remapped.word0);
}

static void run_mode_checks(void)
{
	for (unsigned j = 0; j < SLOT_DATA_COUNT; j++)
		set_slot(SLOT_DATA + j, data_pages[j] | PG_RW_P);
	check(canary == 0xc0ffee42u && (cr0_get() & CR0_PG), "paging on: code, stack and data "
	      "run on the identity map", "canary %#x, CR0 %#x", canary, cr0_get());
	check_contents();
	check_faults();
	check_wp();
	check_accessed_dirty();
	check_tlb();
	check_live_table();
	check_split();
}

/* ---- 32-bit paging ---------------------------------------------------------------------- */

static volatile u32 *pt32_identity;

/* A directory with the identity map: 0-4 MiB in 4 KiB pages, then 4 MiB pages. */
static volatile u32 *new_pd32(void)
{
	volatile u32 *pd = new_table();

	pd[0] = pa_of(pt32_identity) | PG_RW_P;
	for (u32 i = 1; i < IDENTITY_END / MiB(4); i++)
		pd[i] = i * (u32)MiB(4) | PG_PS | PG_RW_P;
	return pd;
}

#define PDS 8
#define PD_ROUNDS 6
#define PD_OWN_SLOTS 3			/* slots 0-2: the directory's own pages */
#define PD_EDITED_SLOT 2		/* remapped while its directory is inactive */
#define PD_SHARED_SLOT 3		/* the same page under every directory */

static void check_page_directories(void)
{
	volatile u32 *pds[PDS], *pts[PDS];
	u32 page[PDS][PD_OWN_SLOTS], shared = new_page(), token = 0;
	unsigned own_wrong = 0, edited_wrong = 0, shared_wrong = 0, cr3_wrong = 0;
	u32 home = read_cr3();
	char what[120];

	for (unsigned i = 0; i < PDS; i++) {
		pds[i] = new_pd32();
		pts[i] = new_table();
		pds[i][256] = pa_of(pts[i]) | PG_RW_P;
		for (unsigned j = 0; j < PD_OWN_SLOTS; j++) {
			page[i][j] = new_page();
			pts[i][j] = page[i][j] | PG_RW_P;
		}
		pts[i][PD_SHARED_SLOT] = shared | PG_RW_P;
	}
	*word_at(shared, SCRATCH_WORD) = 0;
	for (unsigned r = 0; r < PD_ROUNDS; r++) {
		for (unsigned i = 0; i < PDS; i++) {
			u32 edited = page[i][r ? r % PD_OWN_SLOTS : PD_EDITED_SLOT];

			pts[i][PD_EDITED_SLOT] = edited | PG_RW_P;
			cr3_put(pa_of(pds[i]));
			cr3_wrong += read_cr3() != pa_of(pds[i]);
			for (unsigned j = 0; j < PD_EDITED_SLOT; j++)
				own_wrong += !va_shows(slot_va(j), page[i][j]);
			if (!va_shows(slot_va(PD_EDITED_SLOT), edited))
				(*(r ? &edited_wrong : &own_wrong))++;
			volatile u32 *shared_word = word_at(slot_va(PD_SHARED_SLOT), SCRATCH_WORD);
			shared_wrong += *shared_word != token;
			token = 0x70000000u | (r << 8) | i;
			*shared_word = token;
		}
	}
	cr3_put(home);
	snprintf(what, sizeof(what), "%u page directories, %u rounds of MOV CR3 round-robin: "
		 "each reads its own pages", PDS, PD_ROUNDS);
	check(own_wrong == 0 && cr3_wrong == 0, what, "%u wrong reads, %u CR3 read-backs "
	      "wrong", own_wrong, cr3_wrong);
	check(edited_wrong == 0, "a PTE rewritten while its directory is not in CR3 is used "
	      "after MOV CR3", "%u wrong", edited_wrong);
	check(shared_wrong == 0, "a page under every directory: each reads what the one "
	      "before wrote", "%u wrong", shared_wrong);
}

static void enter_32bit_paging(void)
{
	pt32_identity = new_table();
	for (u32 i = 0; i < 1024; i++)
		pt32_identity[i] = i * (u32)PAGE_SIZE | PG_RW_P;
	pd32 = new_pd32();
	pt32 = new_table();
	pd32[256] = pa_of(pt32) | PG_RW_P;
	cr3_put(pa_of(pd32));
	cr4_put((cr4_get() & ~(u32)CR4_PAE) | CR4_BIT_PSE);
	cr0_put(cr0_get() | CR0_PG | CR0_WP);
	pae = false;
	mode_name = "32-bit";
}

/* ---- PAE paging ------------------------------------------------------------------------ */

static volatile u64 *pdpt_a, *pdpt_b;	/* in one page, 32 bytes apart */

static volatile u64 *new_pae_window(u32 *pages, unsigned count)
{
	volatile u64 *pd = new_table(), *pt = new_table();

	pd[0] = pa_of(pt) | PG_RW_P;
	for (unsigned j = 0; j < count; j++)
		pt[j] = pages[j] | PG_RW_P;
	return pd;
}

static void enter_pae_paging(void)
{
	volatile u64 *pd_identity = new_table(), *pt_identity = new_table();
	volatile u64 *pdpt_page = new_table();

	for (u32 i = 0; i < 512; i++)
		pt_identity[i] = i * (u32)PAGE_SIZE | PG_RW_P;
	pd_identity[0] = pa_of(pt_identity) | PG_RW_P;
	for (u32 i = 1; i < IDENTITY_END / MiB(2); i++)
		pd_identity[i] = i * (u32)MiB(2) | PG_PS | PG_RW_P;
	pd_pae = new_table();
	pt_pae = new_table();
	pd_pae[0] = pa_of(pt_pae) | PG_RW_P;
	/* PDPTEs have P, PWT and PCD only: R/W and U/S are reserved (SDM Vol. 3A 4.4.1). */
	pdpt_a = pdpt_page;
	pdpt_b = pdpt_page + 4;
	pdpt_a[0] = pa_of(pd_identity) | PG_P;
	pdpt_a[1] = pa_of(pd_pae) | PG_P;
	pdpt_b[0] = pa_of(pd_identity) | PG_P;

	cr0_put(cr0_get() & ~(u32)CR0_PG);
	mode_name = "paging off";
	check(!(cr0_get() & CR0_PG) && canary == 0xc0ffee42u &&
	      !va_shows(slot_va(SLOT_DATA), data_pages[0]), "CR0.PG cleared: flat again, the "
	      "window's linear address no longer reaches its page", "CR0 %#x", cr0_get());
	cr3_put(pa_of(pdpt_a));
	cr4_put(cr4_get() | CR4_PAE);
	cr0_put(cr0_get() | CR0_PG);
	pae = true;
	mode_name = "PAE";
}

static void check_pae_faults(void)
{
	unsigned phys_bits = max_phys_bits();
	u32 page = new_page(), va;
	u8 *code;

	va = HOLE_VA + 0x1234;
	expect_pf("read through a not-present PDPTE", try_read(va), va, 0);
	if (phys_bits < 52) {
		set_slot(SLOT_RSVD, page | PG_RW_P | BIT(phys_bits));
		va = slot_va(SLOT_RSVD) + 0x18;
		expect_pf("read through a PTE with reserved bit MAXPHYADDR set", try_read(va), va,
			  PF_RSVD | PF_P);
		expect_pf("write through a PTE with reserved bit MAXPHYADDR set",
			  try_write(va, 1), va, PF_RSVD | PF_P | PF_W);
	}
	if (max_extended_leaf() < 0x80000001u ||
	    !(cpuid(0x80000001u).edx & CPUID_80000001_EDX_NX)) {
		printf("SKIP: [PAE] XD: CPUID shows no NX\n");
		return;
	}
	if (!(rdmsr(MSR_EFER) & EFER_BIT_NXE)) {
		set_slot(SLOT_RSVD, page | PG_RW_P | PAE_XD);
		va = slot_va(SLOT_RSVD) + 0x20;
		expect_pf("read through a PTE with XD set while EFER.NXE=0 (reserved)",
			  try_read(va), va, PF_RSVD | PF_P);
	}
	if (catch32(wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_BIT_NXE)) != NO_EXCEPTION_32) {
		check(false, "WRMSR sets EFER.NXE (CPUID shows NX)", "got %s",
		      got_exception(last.vector));
		return;
	}
	code = (u8 *)(uintptr_t)new_page();
	code[0] = X86_RET_OPCODE;
	va = slot_va(SLOT_CODE);
	set_slot(SLOT_CODE, pa_of(code) | PG_RW_P);
	expect_no_fault("EFER.NXE=1: code runs from a page without XD", try_call(va));
	set_slot(SLOT_CODE, pa_of(code) | PG_RW_P | PAE_XD);
	expect_pf("fetch from a page with XD", try_call(va), va, PF_P | PF_ID);
	expect_no_fault("a page with XD can still be read", try_read(va));
	set_slot(SLOT_CODE, pa_of(code) | PG_RW_P);
	put_wpde(WPDE_SLOTS, wpde_entry(WPDE_SLOTS) | PAE_XD);
	invlpg(va);
	expect_pf("fetch from a page whose PDE has XD", try_call(va), va, PF_P | PF_ID);
	put_wpde(WPDE_SLOTS, wpde_entry(WPDE_SLOTS) & ~PAE_XD);
	invlpg(va);
	expect_no_fault("the PDE's XD cleared, INVLPG: the code runs again", try_call(va));
}

#define PDPT_ROUNDS 8

static void check_pdpts(void)
{
	u32 pages_b[2] = { new_page(), new_page() }, pages_c[2] = { new_page(), new_page() };
	volatile u64 *pd_b = new_pae_window(pages_b, 2), *pd_c = new_pae_window(pages_c, 2);
	unsigned wrong = 0, cr3_wrong = 0;

	pdpt_b[1] = pa_of(pd_b) | PG_P;
	for (unsigned r = 0; r < PDPT_ROUNDS; r++) {
		cr3_put(pa_of(pdpt_a));
		cr3_wrong += read_cr3() != pa_of(pdpt_a);
		wrong += !va_shows(slot_va(0), data_pages[0]) + !va_shows(slot_va(1), data_pages[1]);
		cr3_put(pa_of(pdpt_b));
		cr3_wrong += read_cr3() != pa_of(pdpt_b);
		wrong += !va_shows(slot_va(0), pages_b[0]) + !va_shows(slot_va(1), pages_b[1]);
	}
	check(wrong == 0 && cr3_wrong == 0, "two PDPTs 32 bytes apart in one page, MOV CR3 "
	      "between them: each shows its own window", "%u wrong reads, %u CR3 read-backs "
	      "wrong", wrong, cr3_wrong);
	/* PDPTB is in CR3: PDPTA is changed in memory, then loaded. */
	pdpt_a[1] = pa_of(pd_c) | PG_P;
	cr3_put(pa_of(pdpt_a));
	check(va_shows(slot_va(0), pages_c[0]) && va_shows(slot_va(1), pages_c[1]),
	      "a PDPTE changed while its PDPT was not in CR3 is loaded by MOV CR3",
	      "word 0 %#x, want %#x", *word_at(slot_va(0), 0), pattern(pages_c[0], 0));
	/* PDPTA is in CR3: its PDPTE is changed back, and MOV CR3 reloads the PDPTEs. */
	pdpt_a[1] = pa_of(pd_pae) | PG_P;
	cr3_reload();
	check(va_shows(slot_va(0), data_pages[0]), "a PDPTE of the PDPT in CR3 changed, MOV "
	      "CR3 (same value): the new directory is used", "word 0 %#x, want %#x",
	      *word_at(slot_va(0), 0), pattern(data_pages[0], 0));
}

/* ---- main ------------------------------------------------------------------------------ */

int main(const struct multiboot_info *mbi)
{
	tables_init();
	big = (u8 *)(uintptr_t)ALIGN_UP(pa_of(big_space), MiB(4));
	for (u32 i = 0; i < MiB(4) / PAGE_SIZE; i++)
		fill_samples(pa_of(big) + i * (u32)PAGE_SIZE);
	for (unsigned j = 0; j < SLOT_DATA_COUNT; j++)
		data_pages[j] = new_page();
	printf("MAXPHYADDR %u, pool at %#x, large-page region at %#x\n", max_phys_bits(),
	       pa_of(pool), pa_of(big));
	if (pa_of(&pool[POOL_PAGES]) > IDENTITY_END || pa_of(big + MiB(4)) > IDENTITY_END) {
		report("the image fits in the identity map", false);
		exit_test();
	}

	enter_32bit_paging();
	run_mode_checks();
	check_page_directories();

	enter_pae_paging();
	run_mode_checks();
	check_pae_faults();
	check_pdpts();
	exit_test();
}
