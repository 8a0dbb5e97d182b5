/* Unit tests of the guest page-table walker, over a simulated guest physical memory and
 * page tables built here, independently of the walker, for each paging mode.
 * unit-sources: mmu/guest_walk.c
 */
#include "mmu/guest_walk.h"
#include "arch/x86/cpu.h"
#include "tests/unit/unit.h"

#define CR4_SMEP_BIT BIT(20)	/* SDM Vol. 3A 2.5 */
#define CR4_SMAP_BIT BIT(21)

#define P GUEST_PTE_PRESENT
#define RW GUEST_PTE_WRITABLE
#define US GUEST_PTE_USER
#define A GUEST_PTE_ACCESSED
#define D GUEST_PTE_DIRTY
#define PS GUEST_PTE_LARGE
#define NX GUEST_PTE_NX
#define PAT_LARGE BIT(12)	/* PAT in a PDE or PDPTE that maps a page */
#define PAT_4K BIT(7)		/* PAT in a PTE, where PS would be elsewhere */
#define TABLE_FLAGS (P | RW | US)

#define WRITE GUEST_ACCESS_WRITE
#define USER GUEST_ACCESS_USER
#define FETCH GUEST_ACCESS_FETCH

#define RAM_SIZE MiB(8)
#define TABLES_BASE MiB(1)
#define NOT_RAM_GPA 0xf0000000ull
#define DEFAULT_PHYS_BITS 46

/* The simulated guest physical memory: RAM is [0, RAM_SIZE); from rom_start on it is
 * read-only. interfere_* stand for another vCPU writing a guest entry just before a
 * compare-exchange lands. */
struct sim {
	u64 rom_start;
	unsigned reads, cmpxchgs, misaligned, last_size;
	u64 interfere_gpa, interfere_xor;
	unsigned interfere_left;
};

static u8 ram[RAM_SIZE];
static struct sim sim;
static u64 next_table;

static bool in_ram(u64 gpa, unsigned size)
{
	return gpa < RAM_SIZE && gpa + size <= RAM_SIZE;
}

static u64 peek(u64 gpa, unsigned size)
{
	u64 value = 0;

	memcpy(&value, ram + gpa, size);
	return value;
}

static void poke(u64 gpa, unsigned size, u64 value)
{
	memcpy(ram + gpa, &value, size);
}

static int sim_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	struct sim *s = ctx;

	s->reads++;
	s->last_size = size;
	if (gpa % size)
		s->misaligned++;
	if (!in_ram(gpa, size))
		return -1;
	*value = peek(gpa, size);
	return 0;
}

static int sim_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	struct sim *s = ctx;

	s->cmpxchgs++;
	s->last_size = size;
	if (gpa % size)
		s->misaligned++;
	if (!in_ram(gpa, size) || gpa >= s->rom_start)
		return -1;
	if (s->interfere_left) {
		s->interfere_left--;
		poke(s->interfere_gpa, 8, peek(s->interfere_gpa, 8) ^ s->interfere_xor);
	}
	if (peek(gpa, size) != old_value)
		return GUEST_MEM_CHANGED;
	poke(gpa, size, new_value);
	return 0;
}

static const struct guest_mem_ops sim_ops = { .read = sim_read, .cmpxchg = sim_cmpxchg };

/* The builder's own knowledge of each mode (SDM Vol. 3A 4.3-4.5). */
static unsigned mode_levels(enum guest_paging_mode mode)
{
	return mode == GUEST_PAGING_32 ? 2 : mode == GUEST_PAGING_PAE ? 3 : 4;
}

static unsigned mode_pte_bytes(enum guest_paging_mode mode)
{
	return mode == GUEST_PAGING_32 ? 4 : 8;
}

static u64 entry_index(enum guest_paging_mode mode, u64 gva, unsigned level)
{
	if (mode == GUEST_PAGING_32)
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

static u64 root_table(const struct guest_paging *p)
{
	if (p->mode == GUEST_PAGING_PAE)
		return p->cr3 & 0xffffffe0ull;
	return p->cr3 & ~0xfffull;
}

static u64 alloc_table(void)
{
	u64 gpa = next_table;

	next_table += PAGE_SIZE;
	return gpa;
}

/* Fresh memory and a root table; defaults: WP and PSE on, NXE on outside 32-bit paging,
 * 1-GByte pages offered. The PAE PDPT sits off a page boundary, as CR3 allows. */
static struct guest_paging reset(enum guest_paging_mode mode)
{
	struct guest_paging p = {
		.mode = mode, .wp = true, .pse = true, .nxe = mode != GUEST_PAGING_32,
		.phys_bits = DEFAULT_PHYS_BITS, .pages_1g = true,
	};

	memset(ram, 0, sizeof(ram));
	memset(&sim, 0, sizeof(sim));
	sim.rom_start = RAM_SIZE;
	next_table = TABLES_BASE;
	p.cr3 = alloc_table();
	if (mode == GUEST_PAGING_PAE)
		p.cr3 += 0x40;
	return p;
}

/* Where map() put each entry, by level - 1. */
struct mapping {
	u64 entry_gpa[GUEST_WALK_MAX_LEVELS];
};

/* Makes gva reach leaf (a complete entry) at leaf_level, creating tables with
 * TABLE_FLAGS (P alone in a PAE PDPTE) where none exist. */
static struct mapping map(const struct guest_paging *p, u64 gva, unsigned leaf_level, u64 leaf)
{
	unsigned bytes = mode_pte_bytes(p->mode);
	u64 table = root_table(p);
	struct mapping m = { { 0 } };
	unsigned level;

	for (level = mode_levels(p->mode);; level--) {
		u64 gpa = table + entry_index(p->mode, gva, level) * bytes;
		u64 entry = peek(gpa, bytes);

		m.entry_gpa[level - 1] = gpa;
		if (level == leaf_level) {
			poke(gpa, bytes, leaf);
			return m;
		}
		if (!(entry & P)) {
			bool pdpt = p->mode == GUEST_PAGING_PAE && level == 3;

			entry = alloc_table() | (pdpt ? P : TABLE_FLAGS);
			poke(gpa, bytes, entry);
		}
		table = entry & 0x000ffffffffff000ull;
	}
}

static u64 entry_at(const struct guest_paging *p, const struct mapping *m, unsigned level)
{
	return peek(m->entry_gpa[level - 1], mode_pte_bytes(p->mode));
}

static void set_entry(const struct guest_paging *p, const struct mapping *m, unsigned level,
		      u64 value)
{
	poke(m->entry_gpa[level - 1], mode_pte_bytes(p->mode), value);
}

static void change_entry(const struct guest_paging *p, const struct mapping *m,
			 unsigned level, u64 set, u64 clear)
{
	set_entry(p, m, level, (entry_at(p, m, level) | set) & ~clear);
}

static enum guest_walk_status walk(const struct guest_paging *p, u64 gva, unsigned access,
				   struct guest_walk_result *r)
{
	return guest_walk(p, &sim_ops, &sim, gva, access, r);
}

/* The checks below print what they saw and return false, so CHECK() at the call site
 * names the failing case. */
static bool translates_to(const struct guest_paging *p, u64 gva, unsigned access, u64 gpa)
{
	struct guest_walk_result r;
	enum guest_walk_status status = walk(p, gva, access, &r);

	if (status == GUEST_WALK_OK && r.gpa == gpa)
		return true;
	fprintf(stderr, "  gva 0x%" PRIx64 " access 0x%x: status %d gpa 0x%" PRIx64
		" error 0x%x, want gpa 0x%" PRIx64 "\n",
		gva, access, status, r.gpa, r.error_code, gpa);
	return false;
}

static u64 linear_of(const struct guest_paging *p, u64 gva)
{
	return p->mode == GUEST_PAGING_4LEVEL ? gva : (u32)gva;
}

static bool faults_with(const struct guest_paging *p, u64 gva, unsigned access, u32 error_code)
{
	struct guest_walk_result r;
	enum guest_walk_status status = walk(p, gva, access, &r);

	if (status == GUEST_WALK_PAGE_FAULT && r.error_code == error_code &&
	    r.fault_addr == linear_of(p, gva))
		return true;
	fprintf(stderr, "  gva 0x%" PRIx64 " access 0x%x: status %d error 0x%x cr2 0x%" PRIx64
		", want #PF 0x%x\n", gva, access, status, r.error_code, r.fault_addr, error_code);
	return false;
}

static void test_mode_from(void)
{
	CHECK_EQ(guest_paging_mode_from(0, CR4_PAE, EFER_LME), GUEST_PAGING_OFF);
	CHECK_EQ(guest_paging_mode_from(CR0_PE, 0, 0), GUEST_PAGING_OFF);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, 0, 0), GUEST_PAGING_32);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, CR4_PSE, EFER_LME), GUEST_PAGING_32);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, CR4_PAE, 0), GUEST_PAGING_PAE);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, CR4_PAE, EFER_NXE), GUEST_PAGING_PAE);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, CR4_PAE, EFER_LME), GUEST_PAGING_4LEVEL);
	CHECK_EQ(guest_paging_mode_from(CR0_PG | CR0_PE, CR4_PAE, EFER_LME | EFER_LMA),
		 GUEST_PAGING_4LEVEL);
}

static void test_paging_init(void)
{
	struct guest_paging p;

	guest_paging_init(&p, CR0_PG | CR0_PE | CR0_WP, 0x1234000,
			  CR4_PAE | CR4_PSE | CR4_SMEP_BIT | CR4_SMAP_BIT, EFER_LME | EFER_NXE,
			  39, true);
	CHECK_EQ(p.mode, GUEST_PAGING_4LEVEL);
	CHECK_EQ(p.cr3, 0x1234000);
	CHECK(p.wp && p.nxe && p.pse && p.smep && p.smap && p.pages_1g);
	CHECK_EQ(p.phys_bits, 39);

	guest_paging_init(&p, CR0_PG | CR0_PE, 0x5000, 0, 0, 36, false);
	CHECK_EQ(p.mode, GUEST_PAGING_32);
	CHECK(!p.wp && !p.nxe && !p.pse && !p.smep && !p.smap && !p.pages_1g);

	guest_paging_init(&p, CR0_PE | CR0_WP, 0, CR4_SMEP_BIT, EFER_NXE, 36, false);
	CHECK_EQ(p.mode, GUEST_PAGING_OFF);
	CHECK(p.wp && p.nxe && !p.pse && p.smep && !p.smap);
}

static void test_paging_off(void)
{
	struct guest_paging p = reset(GUEST_PAGING_OFF);
	struct guest_walk_result r;

	CHECK_EQ(walk(&p, 0x12345678, 0, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x12345678);
	CHECK_EQ(r.top_level, 0);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.page_size_bytes, PAGE_SIZE);
	CHECK(r.writable && r.user && !r.nx);
	CHECK(translates_to(&p, 0xabcd00001234ull, WRITE | USER, 0x1234));
	CHECK(translates_to(&p, 0xfffffffffffff000ull, FETCH, 0xfffff000));
	CHECK_EQ(sim.reads, 0);
	CHECK_EQ(sim.cmpxchgs, 0);
}

static void test_4level_4k(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x00007f1234567000ull;
	struct mapping m = map(&p, gva, 1, 0x2345000 | P | RW | US);
	struct guest_walk_result r;
	unsigned level;

	CHECK_EQ(walk(&p, gva + 0xabc, 0, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x2345abc);
	CHECK_EQ(r.top_level, 4);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.page_size_bytes, KiB(4));
	CHECK(r.writable && r.user && !r.nx);
	for (level = 1; level <= 4; level++) {
		CHECK_EQ(r.pte_gpa[level - 1], m.entry_gpa[level - 1]);
		CHECK_EQ(r.pte[level - 1], entry_at(&p, &m, level));
		CHECK_EQ(entry_at(&p, &m, level) & (A | D), A);
	}
	CHECK_EQ(guest_walk_table_gfn(&r, 4), p.cr3 >> PAGE_SHIFT);
	CHECK_EQ(guest_walk_table_gfn(&r, 1), m.entry_gpa[0] >> PAGE_SHIFT);
	CHECK_EQ(sim.reads, 4);
	CHECK_EQ(sim.cmpxchgs, 4);
	CHECK_EQ(sim.last_size, 8);

	CHECK(translates_to(&p, gva, 0, 0x2345000));
	CHECK_EQ(sim.cmpxchgs, 4);
	CHECK(translates_to(&p, gva + 8, WRITE, 0x2345008));
	CHECK_EQ(sim.cmpxchgs, 5);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A | D);
	for (level = 2; level <= 4; level++)
		CHECK_EQ(entry_at(&p, &m, level) & D, 0);
	CHECK(translates_to(&p, gva + 0xfff, WRITE | USER, 0x2345fff));
	CHECK_EQ(sim.cmpxchgs, 5);

	m = map(&p, 0xffff800000001000ull, 1, 0x7000 | P | RW);
	CHECK(translates_to(&p, 0xffff800000001010ull, 0, 0x7010));
	CHECK_EQ(m.entry_gpa[3], p.cr3 + 256 * 8);
	CHECK_EQ(sim.misaligned, 0);
}

static void test_4level_large(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	struct guest_walk_result r;
	struct mapping m2, m1g;

	m2 = map(&p, 0x40200000, 2, 0x80000000ull | PAT_LARGE | PS | P | RW);
	CHECK_EQ(walk(&p, 0x40212345, 0, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x80012345);
	CHECK_EQ(r.level, 2);
	CHECK_EQ(r.page_size_bytes, MiB(2));
	CHECK(r.writable && !r.user);
	CHECK(translates_to(&p, 0x403fffff, WRITE, 0x801fffff));
	CHECK_EQ(entry_at(&p, &m2, 2) & (A | D), A | D);

	m1g = map(&p, 0x7fc0000000ull, 3, 0x140000000ull | PS | P | RW | US);
	CHECK_EQ(walk(&p, 0x7fc1234567ull, USER, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x141234567ull);
	CHECK_EQ(r.level, 3);
	CHECK_EQ(r.page_size_bytes, GiB(1));
	CHECK_EQ(entry_at(&p, &m1g, 3) & (A | D), A);

	change_entry(&p, &m1g, 3, PAT_LARGE, 0);
	CHECK(translates_to(&p, 0x7fc0000010ull, 0, 0x140000010ull));
	change_entry(&p, &m1g, 3, BIT(29), 0);
	CHECK(faults_with(&p, 0x7fc0000010ull, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m1g, 3, 0, BIT(29));
	change_entry(&p, &m1g, 3, BIT(13), 0);
	CHECK(faults_with(&p, 0x7fc0000010ull, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m1g, 3, 0, BIT(13));
	p.pages_1g = false;
	CHECK_EQ(walk(&p, 0x7fc0000010ull, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_RSVD);
	CHECK_EQ(r.level, 3);
	p.pages_1g = true;

	change_entry(&p, &m2, 2, BIT(13), 0);
	CHECK(faults_with(&p, 0x40200000, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m2, 2, BIT(20), BIT(13));
	CHECK(faults_with(&p, 0x40200000, WRITE,
			  GUEST_PF_PRESENT | GUEST_PF_RSVD | GUEST_PF_WRITE));
	change_entry(&p, &m2, 2, 0, BIT(20));
	CHECK(translates_to(&p, 0x40200000, 0, 0x80000000));
}

static void test_32bit(void)
{
	struct guest_paging p = reset(GUEST_PAGING_32);
	u64 gva = 0xc0123000;
	struct mapping m = map(&p, gva, 1, 0x456000 | PAT_4K | P | RW);
	struct guest_walk_result r;
	u64 table;

	CHECK_EQ(walk(&p, gva + 0x345, 0, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x456345);
	CHECK_EQ(r.top_level, 2);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.pte_gpa[1], p.cr3 + (gva >> 22) * 4);
	CHECK_EQ(r.pte_gpa[0], m.entry_gpa[0]);
	CHECK_EQ(sim.last_size, 4);
	CHECK(translates_to(&p, 0xabcd0000c0123345ull, WRITE, 0x456345));
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A | D);
	CHECK_EQ(entry_at(&p, &m, 2) & (A | D), A);
	CHECK_EQ(sim.last_size, 4);
	CHECK(faults_with(&p, 0xabcd0000c0400000ull, 0, 0));
	CHECK_EQ(sim.misaligned, 0);

	/* 4-MByte pages, with PSE-36 high address bits. */
	m = map(&p, 0x40000000, 2, 0x800000 | PS | P | RW);
	CHECK_EQ(walk(&p, 0x40012345, 0, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x812345);
	CHECK_EQ(r.level, 2);
	CHECK_EQ(r.page_size_bytes, MiB(4));
	p.phys_bits = 40;
	set_entry(&p, &m, 2, 0x800000 | (0x5ull << 13) | PS | P);
	CHECK(translates_to(&p, 0x40012345, 0, 0x500812345ull));
	set_entry(&p, &m, 2, 0x800000 | (0xffull << 13) | PS | P);
	CHECK(translates_to(&p, 0x40000001, 0, 0xff00800001ull));
	set_entry(&p, &m, 2, 0x800000 | BIT(21) | PS | P);
	CHECK(faults_with(&p, 0x40000000, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	p.phys_bits = 36;
	set_entry(&p, &m, 2, 0x800000 | BIT(16) | PS | P);
	CHECK(translates_to(&p, 0x40000000, 0, 0x800800000ull));
	set_entry(&p, &m, 2, 0x800000 | BIT(17) | PS | P);
	CHECK(faults_with(&p, 0x40000000, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	p.phys_bits = 32;
	set_entry(&p, &m, 2, 0x800000 | BIT(13) | PS | P);
	CHECK(faults_with(&p, 0x40000000, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));

	/* Without CR4.PSE, PS is ignored: the PDE points to a page table. */
	p.pse = false;
	table = alloc_table();
	set_entry(&p, &m, 2, table | PS | P | RW);
	m = map(&p, 0x40000000, 1, 0x9000 | P | RW);
	CHECK_EQ(m.entry_gpa[0], table);
	CHECK(translates_to(&p, 0x40000123, 0, 0x9123));
	CHECK_EQ(entry_at(&p, &m, 2), table | A | PS | P | RW);
}

static void test_pae(void)
{
	struct guest_paging p = reset(GUEST_PAGING_PAE);
	u64 gva = 0x80123000;
	struct mapping m = map(&p, gva, 1, 0x3456000 | P | RW);
	u64 pdpte = entry_at(&p, &m, 3);
	struct guest_walk_result r;

	CHECK_EQ(p.cr3 & 0xfff, 0x40);
	CHECK_EQ(m.entry_gpa[2], p.cr3 + 2 * 8);
	CHECK_EQ(walk(&p, gva + 0x10, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x3456010);
	CHECK_EQ(r.top_level, 3);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.pte_gpa[2], m.entry_gpa[2]);
	CHECK(r.writable && !r.user);
	CHECK_EQ(entry_at(&p, &m, 3), pdpte);
	CHECK_EQ(entry_at(&p, &m, 2) & (A | D), A);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A | D);
	CHECK_EQ(sim.cmpxchgs, 2);
	CHECK(translates_to(&p, 0x1234567880123010ull, 0, 0x3456010));

	/* The PDPTE grants no rights: the PDE and PTE alone decide. */
	change_entry(&p, &m, 2, 0, RW);
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	change_entry(&p, &m, 2, RW, 0);

	/* PDPTE reserved bits: 2:1, 8:5, 63 and from MAXPHYADDR up. */
	set_entry(&p, &m, 3, pdpte | BIT(1));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.level, 3);
	set_entry(&p, &m, 3, pdpte | US);
	CHECK(faults_with(&p, gva, USER, GUEST_PF_PRESENT | GUEST_PF_RSVD | GUEST_PF_USER));
	set_entry(&p, &m, 3, pdpte | A);
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	set_entry(&p, &m, 3, pdpte | PS);
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	set_entry(&p, &m, 3, pdpte | NX);
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	set_entry(&p, &m, 3, pdpte | BIT(DEFAULT_PHYS_BITS));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	set_entry(&p, &m, 3, pdpte | BIT(DEFAULT_PHYS_BITS - 1) | BIT(9) | BIT(3) | BIT(4));
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_TABLE_NOT_RAM);
	set_entry(&p, &m, 3, pdpte | BIT(9) | BIT(10) | BIT(11) | BIT(3) | BIT(4));
	CHECK(translates_to(&p, gva, 0, 0x3456000));
	set_entry(&p, &m, 3, pdpte & ~P);
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_WRITE));
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.level, 3);
	set_entry(&p, &m, 3, pdpte);

	/* PDEs and PTEs: bits 62:MAXPHYADDR are reserved, unlike in 4-level paging. */
	change_entry(&p, &m, 1, BIT(62), 0);
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m, 1, BIT(52), BIT(62));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m, 1, NX, BIT(52));
	CHECK(translates_to(&p, gva, 0, 0x3456000));
	CHECK(faults_with(&p, gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_FETCH));
	p.nxe = false;
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK(faults_with(&p, gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	p.nxe = true;

	/* 2-MByte pages. */
	m = map(&p, 0xc0400000, 2, 0x1200000 | PS | P | RW | US);
	CHECK_EQ(walk(&p, 0xc0412345, USER, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x1212345);
	CHECK_EQ(r.level, 2);
	CHECK_EQ(r.page_size_bytes, MiB(2));
	CHECK(r.user && r.writable);
	change_entry(&p, &m, 2, BIT(20), 0);
	CHECK(faults_with(&p, 0xc0412345, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));

	/* The PDPT itself outside RAM. */
	p.cr3 = NOT_RAM_GPA + 0x20;
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_TABLE_NOT_RAM);
	CHECK_EQ(r.level, 3);
	CHECK_EQ(r.pte_gpa[2], NOT_RAM_GPA + 0x20 + 2 * 8);
	CHECK_EQ(sim.misaligned, 0);
}

/* Clearing P at one level faults there, with the access's W/U bits, and sets no A bit.
 * Reserved bits in a not-present entry do not matter. */
static void check_not_present_at(enum guest_paging_mode mode, unsigned level)
{
	struct guest_paging p = reset(mode);
	u64 gva = 0x7654321;
	struct mapping m = map(&p, gva, 1, 0x5000 | P | RW | US);
	struct guest_walk_result r;
	unsigned l;

	set_entry(&p, &m, level, (entry_at(&p, &m, level) & ~P) | BIT(51) | BIT(21));
	CHECK(faults_with(&p, gva, 0, 0));
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_WRITE));
	CHECK(faults_with(&p, gva, WRITE | USER, GUEST_PF_WRITE | GUEST_PF_USER));
	CHECK(faults_with(&p, gva, USER, GUEST_PF_USER));
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.level, level);
	CHECK_EQ(r.top_level, mode_levels(mode));
	for (l = 1; l <= mode_levels(mode); l++)
		CHECK_EQ(entry_at(&p, &m, l) & A, 0);
	CHECK_EQ(sim.cmpxchgs, 0);
}

static void test_not_present_each_level(void)
{
	static const enum guest_paging_mode modes[] = {
		GUEST_PAGING_32, GUEST_PAGING_PAE, GUEST_PAGING_4LEVEL,
	};
	unsigned i, level;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		for (level = 1; level <= mode_levels(modes[i]); level++)
			check_not_present_at(modes[i], level);
}

/* SDM Vol. 3A 4.7: I/D is set for a fetch only with SMEP, or with XD in PAE/4-level. */
static void test_fetch_error_bit(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);

	CHECK(faults_with(&p, 0x1000, FETCH, GUEST_PF_FETCH));
	CHECK(faults_with(&p, 0x1000, FETCH | USER, GUEST_PF_FETCH | GUEST_PF_USER));
	p.nxe = false;
	CHECK(faults_with(&p, 0x1000, FETCH, 0));
	p.smep = true;
	CHECK(faults_with(&p, 0x1000, FETCH, GUEST_PF_FETCH));

	p = reset(GUEST_PAGING_32);
	p.nxe = true;
	CHECK(faults_with(&p, 0x1000, FETCH, 0));
	p.smep = true;
	CHECK(faults_with(&p, 0x1000, FETCH, GUEST_PF_FETCH));

	p = reset(GUEST_PAGING_PAE);
	CHECK(faults_with(&p, 0x1000, FETCH, GUEST_PF_FETCH));
	p.nxe = false;
	CHECK(faults_with(&p, 0x1000, FETCH, 0));
}

static void test_write_protect(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x401000;
	struct mapping m = map(&p, gva, 1, 0x9000 | P | US);
	struct guest_walk_result r;

	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_OK);
	CHECK(!r.writable && r.user);
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	CHECK_EQ(entry_at(&p, &m, 1) & D, 0);
	CHECK(faults_with(&p, gva, WRITE | USER,
			  GUEST_PF_PRESENT | GUEST_PF_WRITE | GUEST_PF_USER));
	CHECK(translates_to(&p, gva, USER, 0x9000));
	p.wp = false;
	CHECK(faults_with(&p, gva, WRITE | USER,
			  GUEST_PF_PRESENT | GUEST_PF_WRITE | GUEST_PF_USER));
	CHECK_EQ(entry_at(&p, &m, 1) & D, 0);
	CHECK(translates_to(&p, gva, WRITE, 0x9000));
	CHECK_EQ(entry_at(&p, &m, 1) & D, D);

	/* Read-only at an upper level only. */
	p = reset(GUEST_PAGING_4LEVEL);
	m = map(&p, gva, 1, 0x9000 | P | RW | US);
	change_entry(&p, &m, 3, 0, RW);
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_OK);
	CHECK(!r.writable);
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	p.wp = false;
	CHECK(translates_to(&p, gva, WRITE, 0x9000));

	p = reset(GUEST_PAGING_32);
	map(&p, gva, 1, 0x9000 | P);
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	p.wp = false;
	CHECK(translates_to(&p, gva, WRITE, 0x9000));
}

static void test_user_supervisor(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x12345000;
	struct mapping m = map(&p, gva, 1, 0xa000 | P | RW);
	struct guest_walk_result r;

	CHECK(faults_with(&p, gva, USER, GUEST_PF_PRESENT | GUEST_PF_USER));
	CHECK(faults_with(&p, gva, USER | WRITE,
			  GUEST_PF_PRESENT | GUEST_PF_USER | GUEST_PF_WRITE));
	CHECK(faults_with(&p, gva, USER | FETCH,
			  GUEST_PF_PRESENT | GUEST_PF_USER | GUEST_PF_FETCH));
	CHECK(translates_to(&p, gva, WRITE, 0xa000));
	CHECK(translates_to(&p, gva, FETCH, 0xa000));

	/* Supervisor-only at the PML4E only. */
	change_entry(&p, &m, 1, US, 0);
	CHECK(translates_to(&p, gva, USER, 0xa000));
	change_entry(&p, &m, 4, 0, US);
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_OK);
	CHECK(!r.user);
	CHECK(faults_with(&p, gva, USER, GUEST_PF_PRESENT | GUEST_PF_USER));

	p = reset(GUEST_PAGING_PAE);
	map(&p, gva, 1, 0xa000 | P | RW);
	CHECK(faults_with(&p, gva, USER, GUEST_PF_PRESENT | GUEST_PF_USER));

	p = reset(GUEST_PAGING_32);
	map(&p, gva, 1, 0xa000 | P | RW | US);
	CHECK(translates_to(&p, gva, USER | WRITE, 0xa000));
	m = map(&p, gva + MiB(4), 1, 0xb000 | P | RW | US);
	change_entry(&p, &m, 2, 0, US);
	CHECK(faults_with(&p, gva + MiB(4), USER, GUEST_PF_PRESENT | GUEST_PF_USER));
}

static void test_nx(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x600000;
	struct mapping m = map(&p, gva, 1, 0xc000 | NX | P | RW | US);
	struct guest_walk_result r;

	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_OK);
	CHECK(r.nx);
	CHECK(faults_with(&p, gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_FETCH));
	CHECK(faults_with(&p, gva, FETCH | USER,
			  GUEST_PF_PRESENT | GUEST_PF_FETCH | GUEST_PF_USER));
	CHECK(translates_to(&p, gva, WRITE | USER, 0xc000));

	/* XD at the PML4E forbids the fetch too. */
	change_entry(&p, &m, 1, 0, NX);
	CHECK(translates_to(&p, gva, FETCH, 0xc000));
	change_entry(&p, &m, 4, NX, 0);
	CHECK(faults_with(&p, gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_FETCH));
	change_entry(&p, &m, 4, 0, NX);

	/* Without EFER.NXE, bit 63 is reserved at every level. */
	p.nxe = false;
	CHECK(translates_to(&p, gva, FETCH, 0xc000));
	change_entry(&p, &m, 1, NX, 0);
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK(faults_with(&p, gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.level, 1);
	change_entry(&p, &m, 1, 0, NX);
	change_entry(&p, &m, 3, NX, 0);
	CHECK_EQ(walk(&p, gva, FETCH, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_RSVD);
	CHECK_EQ(r.level, 3);
	p.smep = true;
	CHECK(faults_with(&p, gva, FETCH | USER,
			  GUEST_PF_PRESENT | GUEST_PF_RSVD | GUEST_PF_FETCH | GUEST_PF_USER));
}

static void test_smep_smap(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 user_gva = 0x800000, kernel_gva = 0x801000;
	struct mapping m = map(&p, user_gva, 1, 0xd000 | P | US);

	map(&p, kernel_gva, 1, 0xe000 | P | RW);
	CHECK(translates_to(&p, user_gva, FETCH, 0xd000));
	CHECK(translates_to(&p, user_gva, 0, 0xd000));
	p.smep = true;
	CHECK(faults_with(&p, user_gva, FETCH, GUEST_PF_PRESENT | GUEST_PF_FETCH));
	CHECK(translates_to(&p, user_gva, FETCH | USER, 0xd000));
	CHECK(translates_to(&p, user_gva, 0, 0xd000));
	CHECK(translates_to(&p, kernel_gva, FETCH, 0xe000));

	p.smep = false;
	p.smap = true;
	CHECK(faults_with(&p, user_gva, 0, GUEST_PF_PRESENT));
	CHECK(faults_with(&p, user_gva, GUEST_ACCESS_SMAP_ALLOWED | WRITE,
			  GUEST_PF_PRESENT | GUEST_PF_WRITE));
	CHECK(translates_to(&p, user_gva, GUEST_ACCESS_SMAP_ALLOWED, 0xd000));
	CHECK(translates_to(&p, user_gva, USER, 0xd000));
	CHECK(translates_to(&p, user_gva, FETCH, 0xd000));
	CHECK(translates_to(&p, kernel_gva, WRITE, 0xe000));
	p.wp = false;
	CHECK(faults_with(&p, user_gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	CHECK_EQ(entry_at(&p, &m, 1) & D, 0);
	CHECK(translates_to(&p, user_gva, WRITE | GUEST_ACCESS_SMAP_ALLOWED, 0xd000));
	CHECK_EQ(entry_at(&p, &m, 1) & D, D);

	p = reset(GUEST_PAGING_32);
	p.smap = true;
	map(&p, user_gva, 1, 0xd000 | P | RW | US);
	CHECK(faults_with(&p, user_gva, 0, GUEST_PF_PRESENT));
	CHECK(translates_to(&p, user_gva, GUEST_ACCESS_SMAP_ALLOWED, 0xd000));
}

static void test_reserved_4level(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x5555000;
	struct mapping m = map(&p, gva, 1, 0xf000 | P | RW);
	struct guest_walk_result r;
	u64 pml4e = entry_at(&p, &m, 4);

	p.phys_bits = 36;
	change_entry(&p, &m, 1, BIT(35), 0);
	CHECK(translates_to(&p, gva, 0, BIT(35) | 0xf000));
	change_entry(&p, &m, 1, BIT(36), BIT(35));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK(faults_with(&p, gva, WRITE | USER,
			  GUEST_PF_PRESENT | GUEST_PF_RSVD | GUEST_PF_WRITE | GUEST_PF_USER));
	p.phys_bits = 40;
	CHECK(translates_to(&p, gva, 0, BIT(36) | 0xf000));
	change_entry(&p, &m, 1, BIT(51), BIT(36));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	p.phys_bits = 52;
	CHECK(translates_to(&p, gva, 0, BIT(51) | 0xf000));
	p.phys_bits = 0;	/* clamped to 32 */
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	change_entry(&p, &m, 1, BIT(31), BIT(51));
	CHECK(translates_to(&p, gva, 0, BIT(31) | 0xf000));
	p.phys_bits = DEFAULT_PHYS_BITS;
	change_entry(&p, &m, 1, 0, BIT(31));

	/* Bits 62:52 are ignored, at any level, and are no part of an address. */
	change_entry(&p, &m, 1, BITS(62, 52), 0);
	set_entry(&p, &m, 4, pml4e | BIT(52) | BIT(62));
	CHECK(translates_to(&p, gva, 0, 0xf000));

	/* PS is reserved in a PML4E, even when the level below is not present. */
	set_entry(&p, &m, 4, pml4e | PS);
	change_entry(&p, &m, 3, 0, P);
	sim.reads = 0;
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_RSVD);
	CHECK_EQ(r.level, 4);
	CHECK_EQ(sim.reads, 1);
	set_entry(&p, &m, 4, pml4e);
	CHECK(faults_with(&p, gva, 0, 0));

	/* A reserved-bit fault sets no A bit. */
	p = reset(GUEST_PAGING_4LEVEL);
	m = map(&p, gva, 1, 0xf000 | P | RW | BIT(47));
	CHECK(faults_with(&p, gva, 0, GUEST_PF_PRESENT | GUEST_PF_RSVD));
	CHECK_EQ(entry_at(&p, &m, 4) & A, 0);
	CHECK_EQ(sim.cmpxchgs, 0);
}

static void test_noncanonical(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	struct guest_walk_result r;

	CHECK_EQ(walk(&p, 0x0000800000000000ull, 0, &r), GUEST_WALK_NONCANONICAL);
	CHECK_EQ(walk(&p, 0xffff7fffffffffffull, WRITE, &r), GUEST_WALK_NONCANONICAL);
	CHECK_EQ(walk(&p, 0x0001000000000000ull, FETCH, &r), GUEST_WALK_NONCANONICAL);
	CHECK_EQ(walk(&p, 0x8000000000000000ull, 0, &r), GUEST_WALK_NONCANONICAL);
	CHECK_EQ(sim.reads, 0);
	CHECK(faults_with(&p, 0x00007ffffffff000ull, 0, 0));
	CHECK(faults_with(&p, 0xffff800000000000ull, 0, 0));
	map(&p, 0xfffffffffffff000ull, 1, 0x3000 | P);
	CHECK(translates_to(&p, 0xffffffffffffffffull, 0, 0x3fff));

	p = reset(GUEST_PAGING_32);
	CHECK(faults_with(&p, 0x0000800000000000ull, 0, 0));
	p = reset(GUEST_PAGING_PAE);
	CHECK(faults_with(&p, 0x0000800000000000ull, 0, 0));
}

static void test_accessed_dirty(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x3ff000;
	struct mapping m = map(&p, gva, 1, 0x11000 | P | US);
	struct guest_walk_result r;
	unsigned level;

	/* A permission fault leaves every entry as it was. */
	CHECK(faults_with(&p, gva, WRITE, GUEST_PF_PRESENT | GUEST_PF_WRITE));
	for (level = 1; level <= 4; level++)
		CHECK_EQ(entry_at(&p, &m, level) & (A | D), 0);
	CHECK_EQ(sim.cmpxchgs, 0);

	CHECK(translates_to(&p, gva, FETCH, 0x11000));
	for (level = 1; level <= 4; level++)
		CHECK_EQ(entry_at(&p, &m, level) & (A | D), A);

	/* D on the leaf only, through the same walk that found A already set. */
	change_entry(&p, &m, 1, RW, 0);
	sim.cmpxchgs = 0;
	CHECK_EQ(walk(&p, gva, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(sim.cmpxchgs, 1);
	CHECK_EQ(r.pte[0], entry_at(&p, &m, 1));
	CHECK_EQ(r.pte[0] & (A | D), A | D);
	for (level = 2; level <= 4; level++)
		CHECK_EQ(entry_at(&p, &m, level) & D, 0);

	/* A and D together on a fresh leaf: one compare-exchange. */
	change_entry(&p, &m, 1, 0, A | D);
	sim.cmpxchgs = 0;
	CHECK(translates_to(&p, gva, WRITE, 0x11000));
	CHECK_EQ(sim.cmpxchgs, 1);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A | D);
}

static void test_concurrent_change(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x2000000;
	struct mapping m = map(&p, gva, 1, 0x12000 | P | RW);
	struct guest_walk_result r;
	unsigned level;

	/* The guest unmaps the page while the walk sets A bits: the unmap survives. */
	sim.interfere_gpa = m.entry_gpa[0];
	sim.interfere_xor = P;
	sim.interfere_left = 1;
	CHECK(faults_with(&p, gva, 0, 0));
	CHECK_EQ(entry_at(&p, &m, 1), 0x12000 | RW);

	/* The guest sets an ignored bit: kept, and the walk succeeds on its retry. */
	set_entry(&p, &m, 1, 0x12000 | P | RW);
	sim.interfere_xor = BIT(9);
	sim.interfere_left = 1;
	CHECK_EQ(walk(&p, gva, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(entry_at(&p, &m, 1), 0x12000 | BIT(9) | A | D | P | RW);
	CHECK_EQ(r.pte[0], entry_at(&p, &m, 1));

	/* The guest remaps the page: the translation follows. */
	set_entry(&p, &m, 1, 0x12000 | P | RW);
	sim.interfere_xor = 0x12000 ^ 0x34000;
	sim.interfere_left = 1;
	CHECK(translates_to(&p, gva + 5, 0, 0x34005));
	CHECK_EQ(entry_at(&p, &m, 1), 0x34000 | A | P | RW);

	/* A guest that never stops rewriting the entry gets a bounded number of tries. */
	set_entry(&p, &m, 1, 0x12000 | P | RW);
	sim.interfere_xor = BIT(10);
	sim.interfere_left = 1000;
	sim.cmpxchgs = 0;
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_RETRY);
	CHECK(sim.cmpxchgs >= 2 && sim.cmpxchgs <= 16);
	CHECK_EQ(entry_at(&p, &m, 1) & A, 0);
	for (level = 2; level <= 4; level++)
		CHECK_EQ(entry_at(&p, &m, level) & A, A);
	sim.interfere_left = 0;
	CHECK(translates_to(&p, gva, 0, 0x12000));
}

/* A PML4 entry that points at the PML4 itself: one entry is read at every level, so the
 * walk's own A update invalidates what it read below, and it must retry to success. */
static void test_self_map(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 index = 0x1ed;
	u64 gva = 0xffff000000000000ull | index << 39 | index << 30 | index << 21 | index << 12;
	u64 entry_gpa = p.cr3 + index * 8;
	struct guest_walk_result r;

	poke(entry_gpa, 8, p.cr3 | P | RW);
	CHECK_EQ(walk(&p, gva + 0x18, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, p.cr3 + 0x18);
	CHECK_EQ(peek(entry_gpa, 8), p.cr3 | P | RW | A | D);
	CHECK(sim.cmpxchgs >= 2);
	CHECK_EQ(guest_walk_table_gfn(&r, 1), p.cr3 >> PAGE_SHIFT);
}

/* Two self-referencing entries, each read at two levels: the walk needs three attempts. */
static void test_double_self_map(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 a = 0x12, b = 0x34;
	u64 gva = a << 39 | a << 30 | b << 21 | b << 12;
	struct guest_walk_result r;

	poke(p.cr3 + a * 8, 8, p.cr3 | P | RW);
	poke(p.cr3 + b * 8, 8, p.cr3 | P | RW);
	CHECK_EQ(walk(&p, gva, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, p.cr3);
	CHECK_EQ(peek(p.cr3 + a * 8, 8), p.cr3 | P | RW | A);
	CHECK_EQ(peek(p.cr3 + b * 8, 8), p.cr3 | P | RW | A | D);
	CHECK_EQ(sim.cmpxchgs, 5);
}

static void test_not_ram(void)
{
	struct guest_paging p = reset(GUEST_PAGING_4LEVEL);
	u64 gva = 0x40000000;
	struct mapping m = map(&p, gva, 1, 0x13000 | P | RW);
	struct guest_walk_result r;
	u64 root = p.cr3, pde = entry_at(&p, &m, 2);

	set_entry(&p, &m, 2, (pde & 0xfff) | NOT_RAM_GPA);
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_TABLE_NOT_RAM);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.pte_gpa[0], NOT_RAM_GPA + entry_index(p.mode, gva, 1) * 8);
	CHECK_EQ(guest_walk_table_gfn(&r, 1), NOT_RAM_GPA >> PAGE_SHIFT);
	CHECK_EQ(entry_at(&p, &m, 4) & A, 0);

	p.cr3 = NOT_RAM_GPA;
	CHECK_EQ(walk(&p, gva, 0, &r), GUEST_WALK_TABLE_NOT_RAM);
	CHECK_EQ(r.level, 4);
	CHECK_EQ(r.pte_gpa[3], NOT_RAM_GPA);

	/* The page itself need not be RAM: the walk never reads it. */
	p.cr3 = root;
	set_entry(&p, &m, 2, pde);
	map(&p, gva, 1, NOT_RAM_GPA | P);
	CHECK(translates_to(&p, gva + 1, 0, NOT_RAM_GPA + 1));

	/* Tables in read-only memory: the walk succeeds, the A/D update is dropped. */
	p = reset(GUEST_PAGING_32);
	m = map(&p, gva, 1, 0x13000 | P | RW);
	sim.rom_start = 0;
	CHECK_EQ(walk(&p, gva, WRITE, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x13000);
	CHECK_EQ(r.pte[0] & (A | D), 0);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), 0);
	CHECK_EQ(entry_at(&p, &m, 2) & A, 0);
}

static enum guest_walk_status walk_leaf(const struct guest_paging *p, u64 gva, unsigned access,
					const struct guest_walk_start *t,
					struct guest_walk_result *r)
{
	return guest_walk_from(p, &sim_ops, &sim, gva, access, t, r);
}

/* guest_walk_from() a PT: only that table is read (and its entry's A and D set); the
 * rights of the entries above are the caller's, combined with the leaf's as the whole walk
 * does; its faults are the whole walk's. From a PD: a 2 MiB page, or on to the PT. */
static void test_leaf_walk(enum guest_paging_mode mode)
{
	struct guest_paging p = reset(mode);
	u64 gva = 0x40201000;
	struct mapping m = map(&p, gva, 1, 0x5000 | P | RW | US);
	struct guest_walk_start t = { 1, m.entry_gpa[0] & ~0xfffull, true, true, false };
	struct guest_walk_result r;

	CHECK_EQ(walk_leaf(&p, gva + 0x10, 0, &t, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x5010);
	CHECK_EQ(r.top_level, 1);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(r.pte_gpa[0], m.entry_gpa[0]);
	CHECK(r.writable && r.user && !r.nx);
	CHECK_EQ(sim.reads, 1);
	CHECK_EQ(sim.cmpxchgs, 1);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A);
	CHECK_EQ(entry_at(&p, &m, 2) & A, 0);		/* above: the caller's */
	CHECK_EQ(walk_leaf(&p, gva, WRITE, &t, &r), GUEST_WALK_OK);
	CHECK_EQ(entry_at(&p, &m, 1) & (A | D), A | D);

	t.writable = false;
	CHECK_EQ(walk_leaf(&p, gva, WRITE, &t, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_WRITE);
	CHECK_EQ(r.fault_addr, gva);
	t = (struct guest_walk_start){ 1, t.table_gpa, true, false, false };
	CHECK_EQ(walk_leaf(&p, gva, USER, &t, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_USER);
	t = (struct guest_walk_start){ 1, t.table_gpa, true, true, true };
	CHECK_EQ(walk_leaf(&p, gva, FETCH, &t, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_FETCH);
	CHECK_EQ(walk_leaf(&p, gva, 0, &t, &r), GUEST_WALK_OK);
	CHECK(r.nx);

	t.nx = false;
	set_entry(&p, &m, 1, 0);
	CHECK_EQ(walk_leaf(&p, gva, WRITE | USER, &t, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_WRITE | GUEST_PF_USER);
	set_entry(&p, &m, 1, 0x5000 | P | BIT(51));	/* above MAXPHYADDR: reserved */
	CHECK_EQ(walk_leaf(&p, gva, 0, &t, &r), GUEST_WALK_PAGE_FAULT);
	CHECK_EQ(r.error_code, GUEST_PF_PRESENT | GUEST_PF_RSVD);
	if (mode == GUEST_PAGING_4LEVEL)
		CHECK_EQ(walk_leaf(&p, 0x0000800000000000ull, 0, &t, &r), GUEST_WALK_NONCANONICAL);

	set_entry(&p, &m, 1, 0x5000 | P | RW | US);
	struct guest_walk_start pd = { 2, m.entry_gpa[1] & ~0xfffull, true, true, false };
	u64 reads = sim.reads;
	CHECK_EQ(walk_leaf(&p, gva + 0x20, 0, &pd, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x5020);
	CHECK_EQ(r.top_level, 2);
	CHECK_EQ(sim.reads, reads + 2);
	u64 big_gva = 0x40400000;
	map(&p, big_gva, 2, 0x800000 | P | RW | US | PS);
	CHECK_EQ(walk_leaf(&p, big_gva + 0x12345, 0, &pd, &r), GUEST_WALK_OK);
	CHECK_EQ(r.gpa, 0x812345);
	CHECK_EQ(r.level, 2);
	CHECK_EQ(r.page_size_bytes, MiB(2));
}

int main(void)
{
	test_mode_from();
	test_paging_init();
	test_paging_off();
	test_4level_4k();
	test_4level_large();
	test_32bit();
	test_pae();
	test_not_present_each_level();
	test_fetch_error_bit();
	test_write_protect();
	test_user_supervisor();
	test_nx();
	test_smep_smap();
	test_reserved_4level();
	test_noncanonical();
	test_accessed_dirty();
	test_concurrent_change();
	test_self_map();
	test_double_self_map();
	test_not_ram();
	test_leaf_walk(GUEST_PAGING_4LEVEL);
	test_leaf_walk(GUEST_PAGING_PAE);
	return unit_done("guest_walk");
}
