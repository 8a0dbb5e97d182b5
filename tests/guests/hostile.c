/* hostile: a guest that tries to break the hypervisor. Its command line picks one scenario
 * (scenario=NAME, with seed=N for the random ones and variant=N where a scenario has
 * several endings); tests/cases/60-hostile.sh boots each with a benign VM after it. What the
 * guest does must at most stop its own VM, with one clear line: never a Vireo panic, a
 * hang or a failed VM entry. Scenarios that check an architectural answer (#UD, #GP, #PF)
 * report PASS/FAIL lines; the others print "survived" when they end by themselves. */
#include "tests/guests/lib/guest.h"
#include "lib/cmdline.h"

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_AM (1ull << 18)
#define CR4_DE (1ull << 3)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_OSXSAVE (1ull << 18)
#define DB_VECTOR 1
#define BP_VECTOR 3
#define DR6_B0 0x1ull
/* DR7: L0, breakpoint 0 on data writes (R/W0 = 01), 8 bytes (LEN0 = 10) (SDM Vol. 3B 17.2.4). */
#define DR7_L0_WRITE8 (0x1ull | (0x1ull << 16) | (0x2ull << 18))
#define DR7_L0_RW8 (0x1ull | (0x3ull << 16) | (0x2ull << 18))
#define GUEST_IMAGE_START MiB(1)
#define GUEST_IMAGE_END MiB(4)		/* generously past the image, its stack and tables */
#define UNASSIGNED_MMIO 0xf0000000u	/* below the devices, above any test VM's RAM */
#define UNMAPPED_VA 0x10000000000ull	/* 1 TiB: beyond the guest's identity map */
#define IOAPIC_BASE 0xfec00000u
#define ACPI_AREA 0xe0000u
#define ACPI_AREA_SIZE 0x20000u

static u64 rng_state;
static u64 scenario_seed;
static u64 scenario_variant;
static u64 ram_bytes;

/* xorshift64* (Vigna 2016): deterministic per seed, good enough to aim at random. */
static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* Values that tend to sit on edges: zero, all ones, page and RAM boundaries, MMIO. */
static u64 rnd_interesting(void)
{
	static const u64 edges[] = {
		0, 1, ~0ull, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ull, XAPIC_BASE, IOAPIC_BASE, TESTDEV_MMIO_BASE, VIREO_TESTDEV_BASE,
		0x8000000000000000ull, 0x000fffffffffffffull, 65535, 65536, 65537, 4096, 4097,
	};
	switch (rnd_below(4)) {
	case 0: return edges[rnd_below(ARRAY_SIZE(edges))];
	case 1: return ram_bytes + rnd_below(3) - 1;
	case 2: return rnd_below(64);
	default: return rnd();
	}
}

static void survived(const char *what)
{
	printf("hostile: %s: survived\n", what);
}

/* ---- raw control and debug registers ---------------------------------------------------- */

#define DEFINE_CR_ACCESS(n)							\
	static inline u64 read_cr##n(void)					\
	{									\
		u64 v;								\
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));			\
		return v;							\
	}									\
	static inline void write_cr##n(u64 v)					\
	{									\
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");		\
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(8)

static inline void write_dr(int n, u64 v)
{
	switch (n) {
	case 0: asm volatile("mov %0, %%dr0" : : "r"(v)); break;
	case 6: asm volatile("mov %0, %%dr6" : : "r"(v)); break;
	case 7: asm volatile("mov %0, %%dr7" : : "r"(v)); break;
	}
}

/* Each catch in a function of its own: the caller's locals survive the longjmp. */
static __attribute__((noinline)) int try_write_cr0(u64 v)
{
	return catch_exception(write_cr0(v));
}

static __attribute__((noinline)) int try_write_cr3(u64 v)
{
	return catch_exception(write_cr3(v));
}

static __attribute__((noinline)) int try_write_cr4(u64 v)
{
	return catch_exception(write_cr4(v));
}

static __attribute__((noinline)) int try_write_cr8(u64 v)
{
	return catch_exception(write_cr8(v));
}

static __attribute__((noinline)) int try_write_dr(int n, u64 v)
{
	return catch_exception(write_dr(n, v));
}

static inline u64 read_dr6(void)
{
	u64 v;

	asm volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

/* ---- random code in ring 0 ---------------------------------------------------------------- */

#define RANDOM_CODE_BYTES 48
#define INT3 0xcc
static u8 code_page[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 code_stack[PAGE_SIZE * 4] __aligned(16);
u64 random_code_saved_rsp;

/* Runs code_page on code_stack with every other GPR zero; a RET lands back here. */
void run_code_page(void);
asm(".text\n"
    "run_code_page:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %rsp, random_code_saved_rsp(%rip)\n"
    "	lea code_stack+16384(%rip), %rsp\n"
    "	lea code_page(%rip), %rax\n"
    "	push $1f\n"
    "	push %rax\n"
    "	xor %eax, %eax; xor %ebx, %ebx; xor %ecx, %ecx; xor %edx, %edx\n"
    "	xor %esi, %esi; xor %edi, %edi; xor %ebp, %ebp; xor %r8d, %r8d\n"
    "	xor %r9d, %r9d; xor %r10d, %r10d; xor %r11d, %r11d; xor %r12d, %r12d\n"
    "	xor %r13d, %r13d; xor %r14d, %r14d; xor %r15d, %r15d\n"
    "	ret\n"
    "1:	mov random_code_saved_rsp(%rip), %rsp\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n");

static __attribute__((noinline)) int run_code_page_caught(void)
{
	return catch_exception(run_code_page());
}

static void scenario_random_code(void)
{
	u64 rounds = 3000, vectors[EXCEPTION_COUNT + 1] = { 0 };

	for (u64 round = 0; round < rounds; round++) {
		memset(code_page, INT3, sizeof(code_page));
		for (int i = 0; i < RANDOM_CODE_BYTES; i++)
			code_page[i] = (u8)rnd();
		int v = run_code_page_caught();
		vectors[v == NO_EXCEPTION ? EXCEPTION_COUNT : v]++;
		asm volatile("cli; cld");
	}
	for (int v = 0; v <= EXCEPTION_COUNT; v++)
		if (vectors[v])
			printf("hostile: %lu rounds ended in %s\n", vectors[v],
			       v == EXCEPTION_COUNT ? "a return" : exception_name(v));
	survived("random code");
}

/* ---- wild writes over the guest-physical space ------------------------------------------- */

static void wild_access(u64 gpa, u64 value, bool write)
{
	if (gpa >= GUEST_IMAGE_START && gpa < GUEST_IMAGE_END)
		return;
	unsigned width = 1u << rnd_below(4);
	catch_exception({
		if (write) {
			switch (width) {
			case 1: mmio_write8(gpa, (u8)value); break;
			case 2: mmio_write16(gpa, (u16)value); break;
			case 4: mmio_write32(gpa, (u32)value); break;
			default: mmio_write64(gpa, value); break;
			}
		} else {
			(void)mmio_read64(gpa);
		}
	});
}

/* Every dword of a device page, read and written with random values. */
static void hammer_page(u64 base)
{
	for (u64 off = 0; off < PAGE_SIZE; off += 4) {
		wild_access(base + off, rnd(), false);
		wild_access(base + off, rnd(), true);
	}
}

static void scenario_wild_writes(void)
{
	static const u64 devices[] = { XAPIC_BASE, IOAPIC_BASE, TESTDEV_MMIO_BASE,
				       VIREO_TESTDEV_BASE, 0xfed00000, 0xfee01000 };
	for (unsigned i = 0; i < ARRAY_SIZE(devices); i++)
		hammer_page(devices[i]);
	for (u64 gpa = ACPI_AREA; gpa < ACPI_AREA + ACPI_AREA_SIZE; gpa += 8)
		wild_access(gpa, rnd(), true);
	/* Writes that straddle RAM's end, a device page's end and the 4 GiB line. */
	u64 straddles[] = { ram_bytes - 4, ram_bytes - 1, XAPIC_BASE + PAGE_SIZE - 4,
			    TESTDEV_MMIO_BASE + TESTDEV_MMIO_SIZE - 2, IDENTITY_MAP_END - 4 };
	for (unsigned i = 0; i < ARRAY_SIZE(straddles); i++)
		for (int n = 0; n < 8; n++)
			wild_access(straddles[i], rnd(), n & 1);
	for (int n = 0; n < 20000; n++)
		wild_access(rnd_below(IDENTITY_MAP_END), rnd(), rnd() & 1);
	survived("wild writes");
}

/* ---- hypercalls with random arguments ---------------------------------------------------- */

static u64 random_hypercall_number(void)
{
	switch (rnd_below(3)) {
	case 0: return rnd_below(HC_STAT_COUNT + 2);
	case 1: return HC_MGMT_FIRST + rnd_below(8);
	default: return rnd_interesting();
	}
}

static void scenario_hypercalls(void)
{
	unsigned ok = 0, errors = 0;

	for (int n = 0; n < 20000; n++) {
		u64 nr = random_hypercall_number(), a[4];
		for (int i = 0; i < 4; i++)
			a[i] = rnd_interesting();
		if (nr == HC_TEST_EXIT || nr == HC_STATS_DUMP)
			continue;	/* one stops the VM, the other floods the console */
		if (nr == HC_CONSOLE_WRITE && rnd_below(8))
			continue;
		if (nr == HC_CONSOLE_WRITE)
			a[1] &= 15;	/* a short line of garbage, not a flood */
		if (nr == HC_MEMSLOT_ADD && a[1] > 64 && rnd_below(32))
			a[1] &= 63;	/* big slots are zeroed: only now and then */
		long r = hypercall(nr, a[0], a[1], a[2], a[3]);
		r < 0 ? errors++ : ok++;
	}
	printf("hostile: hypercalls: %u succeeded, %u returned errors\n", ok, errors);
	survived("random hypercalls");
}

/* Trusted: add slots until the hypervisor runs out, delete them all, and again: as many
 * fit the second time (nothing leaked), and every error is -HC_ENOMEM, never a crash. */
#define EXHAUST_SLOT_PAGES 1024
#define EXHAUST_BASE_GFN 0x100000	/* 4 GiB */

static int fill_memory_with_slots(long *slots, int max, long *last_error)
{
	int n = 0;

	while (n < max) {
		long r = hc_memslot_add(EXHAUST_BASE_GFN + (u64)n * EXHAUST_SLOT_PAGES,
					EXHAUST_SLOT_PAGES, 0);
		if (r < 0) {
			*last_error = r;
			break;
		}
		slots[n++] = r;
	}
	return n;
}

static void scenario_memslot_exhaust(void)
{
	static long slots[512];
	long error = 0;
	int first = fill_memory_with_slots(slots, ARRAY_SIZE(slots), &error);

	reportf(error == -HC_ENOMEM, "memslot-exhaust: %d slots of %u pages, then %ld "
		"(-HC_ENOMEM is %d)", first, EXHAUST_SLOT_PAGES, error, -HC_ENOMEM);
	for (int i = 0; i < first; i++)
		hc_memslot_delete(slots[i]);
	int second = fill_memory_with_slots(slots, ARRAY_SIZE(slots), &error);
	reportf(second >= first, "memslot-exhaust: after deleting them all, %d fit again",
		second);
	for (int i = 0; i < second; i++)
		hc_memslot_delete(slots[i]);
}

/* ---- every port, every width --------------------------------------------------------------- */

struct port_range {
	u16 first, last;
};

/* Writes that would end this VM (debug exit, resets, ACPI S5) or garble its console. */
static const struct port_range ending_ports[] = {
	{ DEBUG_EXIT_PORT, DEBUG_EXIT_PORT + 3 }, { 0x64, 0x64 }, { 0xcf9, 0xcf9 },
	{ 0x604, 0x605 }, { COM1_PORT, COM1_PORT + 7 },
};

static bool write_would_end_vm(u16 port, unsigned width)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ending_ports); i++)
		if (port <= ending_ports[i].last && port + width - 1 >= ending_ports[i].first)
			return true;
	return false;
}

static void port_access(u16 port, unsigned width, bool write, u32 v)
{
	if (write && write_would_end_vm(port, width))
		return;
	switch (width | (write ? 8 : 0)) {
	case 1: (void)inb(port); break;
	case 2: (void)inw(port); break;
	case 4: (void)inl(port); break;
	case 9: outb(port, (u8)v); break;
	case 10: outw(port, (u16)v); break;
	case 12: outl(port, v); break;
	}
}

static u8 string_buffer[2 * PAGE_SIZE];

static void string_io(void)
{
	/* REP INS into MMIO and into a buffer, REP OUTS from MMIO, both directions. */
	catch_exception(asm volatile("rep insb" : : "D"(TESTDEV_MMIO_BASE), "c"(4096),
				     "d"(0x2000) : "memory"));
	catch_exception(asm volatile("rep insl" : : "D"(string_buffer), "c"(1024),
				     "d"(0x61) : "memory"));
	catch_exception(asm volatile("std; rep outsw; cld" : : "S"(TESTDEV_MMIO_BASE + 0x100),
				     "c"(4096), "d"(0x80) : "memory"));
	catch_exception(asm volatile("rep outsb" : : "S"(IDENTITY_MAP_END - 16), "c"(64),
				     "d"(0x80) : "memory"));
}

static void scenario_ports(void)
{
	for (u32 port = 0; port <= 0xffff; port++)
		for (unsigned width = 1; width <= 4; width *= 2) {
			port_access((u16)port, width, false, 0);
			port_access((u16)port, width, true, (u32)rnd());
		}
	string_io();
	survived("every port, every width");
}

/* ---- MSRs -------------------------------------------------------------------------------- */

static const struct { u32 first, count; } msr_ranges[] = {
	{ 0, 0x1000 }, { 0x40000000, 0x200 }, { 0xc0000000, 0x200 }, { 0xc0010000, 0x200 },
};

static u32 random_msr(void)
{
	unsigned r = (unsigned)rnd_below(ARRAY_SIZE(msr_ranges) + 1);

	if (r == ARRAY_SIZE(msr_ranges))
		return (u32)rnd();
	return msr_ranges[r].first + (u32)rnd_below(msr_ranges[r].count);
}

static void scenario_msrs(void)
{
	unsigned readable = 0, written = 0, faulted = 0;

	/* Every readable MSR of the usual ranges, written back with the value it gave. */
	for (unsigned i = 0; i < ARRAY_SIZE(msr_ranges); i++)
		for (u32 m = msr_ranges[i].first; m < msr_ranges[i].first + msr_ranges[i].count;
		     m++) {
			u64 v;
			if (!try_rdmsr(m, &v))
				continue;
			readable++;
			if (m != MSR_TSC)
				try_wrmsr(m, v);
		}
	for (int n = 0; n < 20000; n++) {
		u32 m = random_msr();
		u64 v = rnd_interesting();
		if (try_wrmsr(m, v))
			written++;
		else
			faulted++;
		asm volatile("cli");
	}
	printf("hostile: msrs: %u readable; random writes: %u taken, %u faulted\n", readable,
	       written, faulted);
	survived("random MSRs");
}

/* ---- VMX and SMX instructions: #UD ---------------------------------------------------------- */

static u8 vmx_region[PAGE_SIZE] __aligned(PAGE_SIZE);

#define EXPECT_UD(name, insn) do {						\
	u64 __area = (uintptr_t)vmx_region, __out;				\
	int __v = catch_exception(asm volatile(insn : "=r"(__out) : "a"(__area), "b"(0ull) \
					      : "memory"));			\
	reportf(__v == UD_VECTOR, "%s raises #UD (got %s)", name, exception_name(__v)); \
} while (0)

static void expect_cr4_gp(const char *name, u64 bit)
{
	u64 cr4 = read_cr4();
	int v = try_write_cr4(cr4 | bit);
	if (v == NO_EXCEPTION)
		write_cr4(cr4);
	reportf(v == GP_VECTOR, "setting CR4.%s raises #GP (got %s)", name, exception_name(v));
}

static void scenario_vmx(void)
{
	EXPECT_UD("VMXON", "vmxon (%1)\n\tmov %%rbx, %0");
	EXPECT_UD("VMCLEAR", "vmclear (%1)\n\tmov %%rbx, %0");
	EXPECT_UD("VMPTRLD", "vmptrld (%1)\n\tmov %%rbx, %0");
	EXPECT_UD("VMPTRST", "vmptrst (%1)\n\tmov %%rbx, %0");
	EXPECT_UD("VMREAD", "vmread %%rax, %0");
	EXPECT_UD("VMWRITE", "vmwrite %%rax, %%rbx\n\tmov %%rbx, %0");
	EXPECT_UD("VMLAUNCH", "vmlaunch\n\tmov %%rbx, %0");
	EXPECT_UD("VMRESUME", "vmresume\n\tmov %%rbx, %0");
	EXPECT_UD("VMXOFF", "vmxoff\n\tmov %%rbx, %0");
	EXPECT_UD("INVEPT", "invept (%1), %%rbx\n\tmov %%rbx, %0");
	EXPECT_UD("INVVPID", "invvpid (%1), %%rbx\n\tmov %%rbx, %0");
	EXPECT_UD("VMFUNC", "vmfunc\n\tmov %%rbx, %0");
	EXPECT_UD("GETSEC", "getsec\n\tmov %%rbx, %0");
	expect_cr4_gp("VMXE", CR4_VMXE);
	expect_cr4_gp("SMXE", CR4_SMXE);
}

/* ---- reserved control-register bits: #GP ------------------------------------------------- */

static void scenario_cr_bits(void)
{
	u64 cr0 = read_cr0(), cr3 = read_cr3();
	unsigned cr0_ok = 0, cr4_ok = 0, cr3_ok = 0, cr8_ok = 0, dr_ok = 0;

	for (int bit = 32; bit < 64; bit++) {
		cr0_ok += try_write_cr0(cr0 | (1ull << bit)) == GP_VECTOR;
		cr4_ok += try_write_cr4(read_cr4() | (1ull << bit)) == GP_VECTOR;
		cr8_ok += try_write_cr8(1ull << bit) == GP_VECTOR;
		dr_ok += try_write_dr(7, 0x400 | (1ull << bit)) == GP_VECTOR;
		dr_ok += try_write_dr(6, 0xffff0ff0 | (1ull << bit)) == GP_VECTOR;
	}
	for (int bit = 52; bit < 63; bit++)
		cr3_ok += try_write_cr3(cr3 | (1ull << bit)) == GP_VECTOR;
	reportf(cr0_ok == 32, "CR0 bits 63:32: %u of 32 raise #GP", cr0_ok);
	reportf(cr4_ok == 32, "CR4 bits 63:32: %u of 32 raise #GP", cr4_ok);
	reportf(cr8_ok == 32, "CR8 bits 63:32: %u of 32 raise #GP", cr8_ok);
	reportf(dr_ok == 64, "DR6/DR7 bits 63:32: %u of 64 raise #GP", dr_ok);
	reportf(cr3_ok == 11, "CR3 bits 62:52: %u of 11 raise #GP", cr3_ok);
	int v = try_write_cr0(cr0 & ~(u64)CR0_PG);
	reportf(v == GP_VECTOR, "clearing CR0.PG in 64-bit mode raises #GP (got %s)",
		exception_name(v));
	/* NW is not a bit Vireo owns: the CPU itself decides (Bochs 2.7 takes the write). */
	v = try_write_cr0(cr0 | CR0_NW);
	if (v == NO_EXCEPTION)
		write_cr0(cr0);
	printf("hostile: CR0.NW without CD: %s\n", exception_name(v));
	v = try_write_cr4(read_cr4() & ~(u64)CR4_PAE);
	reportf(v == GP_VECTOR, "clearing CR4.PAE in 64-bit mode raises #GP (got %s)",
		exception_name(v));
	expect_cr4_gp("LA57 (64-bit mode)", CR4_LA57);
	expect_cr4_gp("OSXSAVE (XSAVE hidden)", CR4_OSXSAVE);
	for (int bit = 26; bit < 32; bit++)
		expect_cr4_gp("reserved", 1ull << bit);
	v = catch_exception(asm volatile("mov %0, %%cr1" : : "r"(0ull)));
	reportf(v == UD_VECTOR, "MOV to CR1 raises #UD (got %s)", exception_name(v));
	write_cr4(read_cr4() | CR4_DE);
	v = catch_exception(asm volatile("mov %0, %%dr4" : : "r"(0ull)));
	write_cr4(read_cr4() & ~CR4_DE);
	reportf(v == UD_VECTOR, "MOV to DR4 with CR4.DE raises #UD (got %s)", exception_name(v));
	v = catch_exception(asm volatile("xsetbv" : : "a"(1), "d"(0), "c"(0)));
	reportf(v == UD_VECTOR, "XSETBV without OSXSAVE raises #UD (got %s)", exception_name(v));
	reportf(read_cr0() == cr0 && read_cr3() == cr3, "CR0 and CR3 unchanged by the faults");
}

/* ---- page tables that point at themselves and into MMIO ----------------------------------- */

#define PML4_INDEX(va) (((va) >> 39) & 511)
#define RECURSIVE_SLOT 511ull
#define RECURSIVE_PML4_VA 0xfffffffffffff000ull	/* 511/511/511/511 */
#define MMIO_TABLE_VA (2ull << 39)
#define UNASSIGNED_TABLE_VA (3ull << 39)
#define PTE_PS_1G PTE_LARGE

static __attribute__((noinline)) void store64(volatile u64 *p, u64 value)
{
	*p = value;
}

static u64 store_target __aligned(PAGE_SIZE);

/* One plain store instruction, first on a device page (the hypervisor may remember it as an
 * MMIO site), then through the PDPT in pc-testdev MMIO onto RAM at the same page offset as
 * that PDPT's entry: the CPU's exit is for reading the entry, and replaying the store there
 * would overwrite the entry instead of the RAM it maps. */
static void store_through_mmio_table(void)
{
	for (int i = 0; i < 4; i++)
		store64((volatile u64 *)(TESTDEV_MMIO_BASE + PAGE_SIZE), i);
	u64 entry = mmio_read64(TESTDEV_MMIO_BASE);
	store_target = 0;
	int v = catch_exception(store64((volatile u64 *)(MMIO_TABLE_VA + (uintptr_t)&store_target),
					0x5151));
	u64 entry_after = mmio_read64(TESTDEV_MMIO_BASE);
	u64 accessed_dirty = (1u << 5) | (1u << 6);	/* the walk may set them, as the CPU's */
	reportf(v == NO_EXCEPTION && store_target == 0x5151 &&
		(entry_after | accessed_dirty) == (entry | accessed_dirty), "the same "
		"store through a PDPT in MMIO reaches RAM (RAM %#lx, PDPT entry %#lx, %s)",
		store_target, entry_after, exception_name(v));
}

static void scenario_pt_self(void)
{
	u64 *pml4 = (u64 *)(uintptr_t)(read_cr3() & ~0xfffull);

	pml4[RECURSIVE_SLOT] = (uintptr_t)pml4 | PTE_PRESENT | PTE_WRITABLE;
	write_cr3(read_cr3());
	volatile u64 *self = (volatile u64 *)RECURSIVE_PML4_VA;
	volatile u64 seen = 0;
	int v = catch_exception(seen = self[0]);
	reportf(v == NO_EXCEPTION && seen == pml4[0], "a PML4 that maps itself reads back its "
		"entry 0 (%#lx, %s)", seen, exception_name(v));
	v = catch_exception(self[300] = 0x5a5a000);
	reportf(v == NO_EXCEPTION && pml4[300] == 0x5a5a000, "a write through it reaches the "
		"PML4 (%s)", exception_name(v));
	pml4[300] = 0;
	write_cr3(read_cr3());

	/* A PML4 entry on unassigned MMIO, which reads all-ones: every bit set, reserved ones
	 * included, so the walk must end in a #PF with RSVD (SDM Vol. 3A 4.7). */
	pml4[PML4_INDEX(UNASSIGNED_TABLE_VA)] = UNASSIGNED_MMIO | PTE_PRESENT | PTE_WRITABLE;
	write_cr3(read_cr3());
	v = catch_exception((void)*(volatile u64 *)UNASSIGNED_TABLE_VA);
	printf("hostile: a read through a page table in unassigned MMIO: %s, error code %#lx\n",
	       exception_name(v), last_exception.error_code);
	/* A PDPT in pc-testdev (memory-like MMIO) with a 1 GiB page onto RAM at 0: the CPU
	 * walks a table the hypervisor has to emulate, on the last step of this scenario. */
	mmio_write64(TESTDEV_MMIO_BASE, PTE_PRESENT | PTE_WRITABLE | PTE_PS_1G);
	pml4[PML4_INDEX(MMIO_TABLE_VA)] = TESTDEV_MMIO_BASE | PTE_PRESENT | PTE_WRITABLE;
	write_cr3(read_cr3());
	printf("hostile: reading through a PDPT in pc-testdev MMIO\n");
	u64 expected = *(volatile u64 *)0x100000ull;
	v = catch_exception(seen = *(volatile u64 *)(MMIO_TABLE_VA + 0x100000));
	reportf(v == NO_EXCEPTION && seen == expected, "a read through a PDPT in MMIO reads "
		"RAM (%#lx, %s)", seen, exception_name(v));
	store_through_mmio_table();
}

/* ---- garbage descriptor tables, then an event ------------------------------------------- */

struct __packed descriptor_pointer {
	u16 limit;
	u64 base;
};

static u8 garbage[PAGE_SIZE] __aligned(PAGE_SIZE);

static void program_pit_irq0(void)
{
	outb(0x43, 0x34);	/* channel 0, lo/hi byte, mode 2 */
	outb(0x40, 0x00);
	outb(0x40, 0x10);
	outb(0x21, 0xfe);	/* only IRQ 0 unmasked; the PICs' reset vectors are fine */
}

static void scenario_tables(void)
{
	struct descriptor_pointer p = { 0xfff, (uintptr_t)garbage };

	for (unsigned i = 0; i < sizeof(garbage); i++)
		garbage[i] = (u8)rnd();
	printf("hostile: descriptor tables, variant %lu\n", scenario_variant);
	switch (scenario_variant) {
	case 0:		/* an IDT in MMIO, then INT3 */
		p.base = VIREO_TESTDEV_BASE;
		asm volatile("lidt %0; int3" : : "m"(p));
		break;
	case 1:		/* an IDT of random bytes, then INT3 */
		asm volatile("lidt %0; int3" : : "m"(p));
		break;
	case 2:		/* a GDT of random bytes, then a segment load */
		asm volatile("lgdt %0; mov %1, %%ds" : : "m"(p), "r"(GDT_DATA));
		break;
	case 3:		/* an empty IDT, then an external interrupt */
		p.limit = 0;
		program_pit_irq0();
		asm volatile("lidt %0; sti; 1: jmp 1b" : : "m"(p));
		break;
	default:	/* a non-canonical IDT base, then #UD */
		p.base = 0x8000000000000000ull;
		asm volatile("lidt %0; ud2" : : "m"(p));
		break;
	}
	report("the broken tables were survived by the guest", false);
}

/* ---- huge REP string operations on MMIO --------------------------------------------------- */

static void scenario_rep_mmio(void)
{
	printf("hostile: rep string operations on MMIO, variant %lu\n", scenario_variant);
	switch (scenario_variant) {
	case 0:		/* 1 GiB of REP STOSQ from pc-testdev on, across the 4 GiB line */
		catch_exception(asm volatile("rep stosq" : : "D"(TESTDEV_MMIO_BASE),
					     "c"(GiB(1) / 8), "a"(rnd()) : "memory"));
		break;
	case 1:		/* 1 GiB of REP STOSQ onto the Vireo test device's doorbells */
		catch_exception(asm volatile("rep stosq" : : "D"(VIREO_TESTDEV_BASE),
					     "c"(GiB(1) / 8), "a"(rnd()) : "memory"));
		break;
	default:	/* MMIO to MMIO, downwards, 32-bit addresses wrapping at 0 */
		catch_exception(asm volatile("std; rep movsb; cld" : : "S"(TESTDEV_MMIO_BASE + 0xffff),
					     "D"(XAPIC_BASE + 0xfff), "c"(0x10000) : "memory"));
		catch_exception(asm volatile("addr32 rep stosb" : : "D"(0xfffffff0u), "c"(0x40),
					     "a"(0) : "memory"));
		break;
	}
	printf("hostile: rep ended with %s\n", exception_name(last_exception.vector));
	survived("rep on MMIO");
}

/* ---- execution from unmapped memory and from MMIO ---------------------------------------- */

static void scenario_exec(void)
{
	int v = catch_exception(((void (*)(void))UNMAPPED_VA)());
	reportf(v == PF_VECTOR && last_exception.cr2 == UNMAPPED_VA,
		"a jump to an unmapped address raises #PF there (%s, cr2 %#lx)",
		exception_name(v), last_exception.cr2);
	u64 target = scenario_variant ? UNASSIGNED_MMIO : TESTDEV_MMIO_BASE;
	printf("hostile: jumping to MMIO at %#lx\n", target);
	v = catch_exception(((void (*)(void))target)());
	printf("hostile: the jump came back with %s\n", exception_name(v));
}

/* ---- MOV SS and STI shadows before exiting instructions --------------------------------- */

static u16 data_selector = GDT_DATA;

void syscall_target(void);
asm(".text\nsyscall_target:\n\tpush %r11\n\tpopfq\n\tjmp *%rcx\n");

/* setup, then MOV SS from memory (whose shadow holds events back for one instruction),
 * then insn. */
#define SHADOWED(setup, insn) catch_exception(asm volatile(			\
	setup "\n\tmov %[sel], %%ss\n\t" insn : : [sel] "m"(data_selector)		\
	: "rax", "rbx", "rcx", "rdx", "rdi", "r11", "memory"))

static void shadow_round(const char *with)
{
	int v;

	v = SHADOWED("", "int3");
	printf("hostile: mov ss; int3 %s: %s\n", with, exception_name(v));
	v = SHADOWED("mov $4, %%eax; xor %%ebx, %%ebx", "vmcall");
	printf("hostile: mov ss; vmcall %s: %s\n", with, exception_name(v));
	v = SHADOWED("xor %%eax, %%eax", "cpuid");
	printf("hostile: mov ss; cpuid %s: %s\n", with, exception_name(v));
	v = SHADOWED("", "syscall");
	printf("hostile: mov ss; syscall %s: %s\n", with, exception_name(v));
	v = SHADOWED("mov $0xff000000, %%edi", "movl $1, (%%rdi)");
	printf("hostile: mov ss; MMIO store %s: %s\n", with, exception_name(v));
	long r = HC_STAT_READ;
	v = catch_exception(asm volatile("sti; vmcall; cli" : "+a"(r) : "b"(0) : "memory"));
	printf("hostile: sti; vmcall %s: %s\n", with, exception_name(v));
	v = catch_exception(asm volatile("ud2" : : : "memory"));
	printf("hostile: then ud2 %s: %s\n", with, exception_name(v));
}

static void scenario_mov_ss(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (u64)GDT_CODE64 << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_target);
	wrmsr(MSR_FMASK, 0);
	shadow_round("plain");
	/* CVE-2018-8897: a data breakpoint on the MOV SS operand, so #DB is pending when the
	 * next instruction (INT3, SYSCALL, an exit) begins. */
	write_dr(0, (uintptr_t)&data_selector);
	write_dr(7, DR7_L0_RW8);
	shadow_round("with a breakpoint on the selector");
	write_dr(7, 0x400);
	/* TF, then an exiting instruction in the MOV SS shadow: the single step comes after
	 * CPUID (MOV SS holds the trap back one instruction); the handler clears TF. */
	int v = SHADOWED("pushfq; orq $0x100, (%%rsp); popfq; xor %%eax, %%eax", "cpuid");
	printf("hostile: TF; mov ss; cpuid: %s, dr6 %#lx\n", exception_name(v), read_dr6());
	survived("MOV SS and STI shadows");
}

/* ---- a #DB whose delivery raises #DB again, through an IST stack ---------------------- */

struct __packed tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
};

struct __packed idt_gate_bytes {
	u16 offset_low, selector;
	u8 ist, type_attr;
	u16 offset_mid;
	u32 offset_high, reserved;
};

static struct tss64 tss;
static u8 ist_stack[PAGE_SIZE] __aligned(16);
static u64 gdt_with_tss[6] __aligned(16);

#define GDT_TSS 0x18
#define TSS_TYPE_AVAILABLE 0x89ull

/* The library's GDT plus a 64-bit TSS (SDM Vol. 3A 8.2.3), loaded into TR. */
static void load_tss(void)
{
	struct descriptor_pointer gdtr;
	u64 base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

	asm volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt_with_tss, (void *)gdtr.base, 3 * 8);
	gdt_with_tss[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (TSS_TYPE_AVAILABLE << 40) |
			  ((base >> 24) & 0xff) << 56;
	gdt_with_tss[4] = base >> 32;
	gdtr = (struct descriptor_pointer){ sizeof(gdt_with_tss) - 1, (uintptr_t)gdt_with_tss };
	tss.iomap_base = sizeof(tss);
	tss.ist[0] = (uintptr_t)ist_stack + sizeof(ist_stack);
	asm volatile("lgdt %0; ltr %w1" : : "m"(gdtr), "r"(GDT_TSS));
}

static struct idt_gate_bytes *idt_gate(int vector)
{
	struct descriptor_pointer idtr;

	asm volatile("sidt %0" : "=m"(idtr));
	return (struct idt_gate_bytes *)idtr.base + vector;
}

static void scenario_db_ist(void)
{
	load_tss();
	idt_gate(DB_VECTOR)->ist = 1;
	/* The top of the IST stack: where the CPU pushes SS, RSP, RFLAGS, CS, RIP. */
	write_dr(0, tss.ist[0] - 8);
	write_dr(7, DR7_L0_WRITE8);
	printf("hostile: #DB through IST 1 with a write breakpoint on its own frame\n");
	int v = catch_exception(asm volatile(".byte 0xf1"));	/* INT1 (ICEBP) */
	printf("hostile: INT1 came back as %s, dr6 %#lx\n", exception_name(v), read_dr6());
	write_dr(7, 0x400);
	survived("#DB through IST");
}

/* ---- #AC whose delivery raises #AC (32-bit protected mode, ring 3) ----------------------- */

/*
 * Leaving long mode: a 32-bit code segment, paging off, EFER.LME off (SDM Vol. 3A 9.8.5),
 * then a 32-bit routine with its own IDT whose every vector writes 0x40 + vector to the
 * debug-exit port: the VM's exit status names the exception it took.
 */
#define LEGACY_CODE32 0x18
#define LEGACY_DATA32 0x20
#define LEGACY_CONFORMING 0x28
#define LEGACY_USER_CODE 0x33
#define LEGACY_USER_DATA 0x3b
#define LEGACY_TSS 0x40
#define LEGACY_TARGET_TSS 0x48

void enter_legacy_mode(u32 routine);
asm(".text\n"
    "enter_legacy_mode:\n"
    "	lgdt legacy_gdt_descriptor(%rip)\n"
    "	push $0x18\n"
    "	lea 1f(%rip), %rax\n"
    "	push %rax\n"
    "	lretq\n"
    "	.code32\n"
    "1:	mov $0x20, %eax\n"
    "	mov %eax, %ds; mov %eax, %es; mov %eax, %ss; mov %eax, %fs; mov %eax, %gs\n"
    "	mov %cr0, %eax\n"
    "	and $0x7fffffff, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	and $~0x100, %eax\n"
    "	wrmsr\n"
    "	lidt legacy_idt_descriptor\n"
    "	mov $0x40, %eax\n"
    "	ltr %ax\n"
    "	jmp *%edi\n"
    /* Each vector's stub: push the vector, report it. */
    "	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "legacy_stub_\\v: mov $(0x40 + \\v), %eax; outl %eax, $0xf4; hlt\n"
    "	.endr\n"
    /* PAE: CR3 onto PDPTEs with reserved bits, then CR0.PG: #GP (SDM Vol. 3A 4.4.1). */
    "legacy_bad_pdpte:\n"
    "	mov $bad_pdpt, %eax\n"
    "	mov %eax, %cr3\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $1, %eax\n"
    "	outl %eax, $0xf4\n"
    /* A far jump to a TSS: a hardware task switch (VM exit 9). */
    "legacy_task_switch:\n"
    "	ljmp $0x48, $0\n"
    "	mov $2, %eax\n"
    "	outl %eax, $0xf4\n"
    /* Ring 3 with CR0.AM, EFLAGS.AC and an odd stack, #AC handled by a conforming segment
     * (no stack switch): the delivery's pushes are misaligned ring-3 accesses, so each
     * raises #AC again (CVE-2015-5307). */
    "legacy_ac_loop:\n"
    "	mov %cr0, %eax\n"
    "	or $0x40000, %eax\n"
    "	mov %eax, %cr0\n"
    "	push $0x3b\n"
    "	push $(ac_user_stack + 4093)\n"
    "	push $0x40202\n"
    "	push $0x33\n"
    "	push $2f\n"
    "	iret\n"
    "2:	pushl $0\n"
    "	mov $3, %eax\n"
    "	outl %eax, $0xf4\n"
    "	.code64\n");

extern const u8 legacy_stub_0[], legacy_stub_1[], legacy_bad_pdpte[], legacy_task_switch[];
extern const u8 legacy_ac_loop[], legacy_stub_17[];
u64 legacy_idt[EXCEPTION_COUNT] __aligned(8);
struct __packed {
	u16 limit;
	u32 base;
} legacy_idt_descriptor;
u64 legacy_gdt[10] __aligned(8);
struct descriptor_pointer legacy_gdt_descriptor;
u64 bad_pdpt[4] __aligned(32);
u8 ac_user_stack[PAGE_SIZE] __aligned(PAGE_SIZE);
static u32 legacy_tss[26], target_tss[26];

static u64 segment(u32 base, u32 limit, u64 access, u64 flags)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | (access << 40) |
	       ((u64)(limit >> 16 & 0xf) << 48) | (flags << 52) | ((u64)(base >> 24) << 56);
}

static void build_legacy_tables(void)
{
	u64 stub_size = legacy_stub_1 - legacy_stub_0;

	legacy_gdt[1] = 0x00af9a000000ffffull;	/* the 64-bit code segment we leave from */
	legacy_gdt[LEGACY_CODE32 / 8] = segment(0, 0xfffff, 0x9a, 0xc);
	legacy_gdt[LEGACY_DATA32 / 8] = segment(0, 0xfffff, 0x92, 0xc);
	legacy_gdt[LEGACY_CONFORMING / 8] = segment(0, 0xfffff, 0x9e, 0xc);
	legacy_gdt[LEGACY_USER_CODE / 8] = segment(0, 0xfffff, 0xfa, 0xc);
	legacy_gdt[LEGACY_USER_DATA / 8] = segment(0, 0xfffff, 0xf2, 0xc);
	legacy_gdt[LEGACY_TSS / 8] = segment((uintptr_t)legacy_tss, sizeof(legacy_tss) - 1,
					     0x89, 0);
	legacy_gdt[LEGACY_TARGET_TSS / 8] = segment((uintptr_t)target_tss,
						    sizeof(target_tss) - 1, 0x89, 0);
	legacy_gdt_descriptor = (struct descriptor_pointer){ sizeof(legacy_gdt) - 1,
							      (uintptr_t)legacy_gdt };
	legacy_tss[1] = (u32)(uintptr_t)(code_stack + sizeof(code_stack));	/* ESP0 */
	legacy_tss[2] = LEGACY_DATA32;						/* SS0 */
	for (int v = 0; v < EXCEPTION_COUNT; v++) {
		u32 handler = (u32)(uintptr_t)(legacy_stub_0 + v * stub_size);
		u64 selector = v == 17 ? LEGACY_CONFORMING : LEGACY_CODE32;
		legacy_idt[v] = (handler & 0xffff) | (selector << 16) | (0x8eull << 40) |
				((u64)(handler >> 16) << 48);
	}
	legacy_idt_descriptor.limit = sizeof(legacy_idt) - 1;
	legacy_idt_descriptor.base = (u32)(uintptr_t)legacy_idt;
	/* PDPTE 0 present with bit 1 set, reserved in PAE PDPTEs. */
	bad_pdpt[0] = (uintptr_t)garbage | PTE_PRESENT | PTE_WRITABLE;
}

static void scenario_legacy(const u8 *routine, const char *what)
{
	build_legacy_tables();
	printf("hostile: 32-bit protected mode: %s\n", what);
	enter_legacy_mode((u32)(uintptr_t)routine);
}

/* ---- spinning with interrupts off ----------------------------------------------------------- */

static void scenario_spin(void)
{
	printf("hostile: spinning with interrupts off\n");
	asm volatile("cli\n1:\tjmp 1b");
}

/* ---- EPT table exhaustion ------------------------------------------------------------------ */

#define EXHAUST_VA 0x0000030000000000ull	/* PML4 entry 6, remapped for each read */
#define EXHAUST_FIRST_GPA GiB(8)		/* unassigned: reads all-ones */
#define EXHAUST_REGIONS 40000u			/* 2 MiB regions: an EPT table each, 156 MiB */
#define EXHAUST_PAGES_MAX 4096			/* what the VM may hold: its budget is less */

/* Unassigned gfns in 40000 different 2 MiB regions: each read would take an EPT table of
 * its own, more than the host has. The VM's table budget must hold: the reads go on
 * (all-ones), the VM keeps few tables, and the host and the next VM go on. */
static void scenario_ept_exhaust(void)
{
	unsigned all_ones = 0;
	for (u64 k = 0; k < EXHAUST_REGIONS; k++) {
		if (!map_page(EXHAUST_VA, EXHAUST_FIRST_GPA + k * MiB(2), PTE_WRITABLE | PTE_PCD)) {
			report("mapping the probe page", false);
			return;
		}
		all_ones += mmio_read32(EXHAUST_VA) == 0xffffffffu;
	}
	long held = hc_stat_read(HC_STAT_MMU_PAGES);
	reportf(all_ones == EXHAUST_REGIONS && held > 0 && held <= EXHAUST_PAGES_MAX, "%u reads "
		"of unassigned gfns in as many 2 MiB regions read all-ones (%u), the VM holds %ld "
		"EPT table pages", EXHAUST_REGIONS, all_ones, held);
	survived("EPT table exhaustion");
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static void scenario_pae(void)
{
	scenario_legacy(legacy_bad_pdpte, "PAE paging onto PDPTEs with reserved bits");
}

static void scenario_task_switch(void)
{
	scenario_legacy(legacy_task_switch, "a far jump to a TSS");
}

static void scenario_ac(void)
{
	scenario_legacy(legacy_ac_loop, "#AC whose delivery raises #AC");
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "random-code", scenario_random_code }, { "wild-writes", scenario_wild_writes },
	{ "hypercalls", scenario_hypercalls }, { "memslot-exhaust", scenario_memslot_exhaust },
	{ "ports", scenario_ports }, { "msrs", scenario_msrs }, { "vmx", scenario_vmx },
	{ "cr-bits", scenario_cr_bits }, { "page-tables", scenario_pt_self },
	{ "tables", scenario_tables }, { "rep-mmio", scenario_rep_mmio },
	{ "exec", scenario_exec }, { "mov-ss", scenario_mov_ss }, { "db-ist", scenario_db_ist },
	{ "pae-pdpte", scenario_pae }, { "task-switch", scenario_task_switch },
	{ "ac-loop", scenario_ac }, { "spin", scenario_spin },
	{ "ept-exhaust", scenario_ept_exhaust },
};

/* The value of scenario= on the command line, or NULL. */
static const struct cmdline_word *scenario_word(const char *line, struct cmdline_word *w)
{
	while (cmdline_next_word(&line, w))
		if (w->value && w->key_len == 8 && !strncmp(w->key, "scenario", 8))
			return w;
	return NULL;
}

int main(const struct multiboot_info *mbi)
{
	const char *line = mb_cmdline(mbi);
	struct cmdline_word w;

	cmdline_get_u64(line, "seed", &scenario_seed);
	cmdline_get_u64(line, "variant", &scenario_variant);
	rng_state = scenario_seed * 0x9e3779b97f4a7c15ull + 1;
	ram_bytes = (u64)mb_mem_upper_kib(mbi) * 1024 + MiB(1);
	for (unsigned i = 0; scenario_word(line, &w) && i < ARRAY_SIZE(scenarios); i++) {
		if (strlen(scenarios[i].name) != w.value_len ||
		    strncmp(scenarios[i].name, w.value, w.value_len))
			continue;
		printf("hostile: scenario %s, seed %lu, variant %lu\n", scenarios[i].name,
		       scenario_seed, scenario_variant);
		scenarios[i].run();
		return 0;
	}
	report("a known scenario= on the command line", false);
	return 0;
}
