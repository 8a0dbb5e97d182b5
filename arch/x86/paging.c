/* Host page tables: every byte below max(4 GiB, top of RAM) mapped 1:1, RAM write-back,
 * everything else uncached; the image mapped with 4K pages so each section gets its own
 * rights (text RX, rodata R, data RW: W^X); NX on all data where the CPU has it. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "lib/page_alloc.h"
#include "lib/string.h"
#include "lib/phys.h"
#include "lib/panic.h"

/* Page-table entry bits (SDM Vol. 3A 4.5, table 4-19 and following). */
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)
#define PTE_UNCACHED (PTE_PCD | PTE_PWT)	/* PAT entry 3: UC with the reset PAT */
#define ENTRIES 512
/* Host page tables come from this pool, not the page allocator: page_alloc_init() writes
 * into all RAM, so the tables mapping it must exist first. With 1G pages a handful of
 * tables suffice; without them (pre-2010 CPUs) one PD per GiB: 64 GiB of address space. */
#define TABLE_POOL_PAGES 72

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

struct host_cpu host_cpu;
static u64 host_pml4_hpa;
static const struct mem_range *ram_ranges;
static size_t ram_count;

void host_cpu_probe(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	*(u32 *)&host_cpu.vendor[0] = r.ebx;
	*(u32 *)&host_cpu.vendor[4] = r.edx;
	*(u32 *)&host_cpu.vendor[8] = r.ecx;
	host_cpu.x2apic = cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC;
	u32 max_ext = cpuid(0x80000000u, 0).eax;
	if (max_ext >= 0x80000001u) {
		u32 edx = cpuid(0x80000001u, 0).edx;
		host_cpu.nx = edx & CPUID_80000001_EDX_NX;
		host_cpu.gbpages = edx & CPUID_80000001_EDX_PDPE1GB;
	}
	host_cpu.phys_addr_bits = max_ext >= 0x80000008u ? (u8)cpuid(0x80000008u, 0).eax : 36;
}

/* How much of [start, end) is RAM: none, part or all. */
enum ram_cover { RAM_NONE, RAM_PART, RAM_ALL };

static enum ram_cover ram_coverage(u64 start, u64 end)
{
	u64 covered = 0;
	for (size_t i = 0; i < ram_count; i++) {
		u64 lo = MAX(start, ram_ranges[i].start), hi = MIN(end, ram_ranges[i].end);
		if (lo < hi)
			covered += hi - lo;
	}
	return covered == 0 ? RAM_NONE : covered == end - start ? RAM_ALL : RAM_PART;
}

static bool overlaps_image(u64 start, u64 end)
{
	return start < (u64)__image_end && (u64)__image_start < end;
}

static u64 nx(void) { return host_cpu.nx ? PTE_NX : 0; }

static u64 leaf_attributes(u64 start, u64 end)
{
	u64 cache = ram_coverage(start, end) == RAM_ALL ? 0 : PTE_UNCACHED;
	return PTE_P | PTE_RW | cache | nx();
}

/* Rights of one 4K page: image sections get W^X, the rest follows the memory map. */
static u64 page_attributes(u64 hpa)
{
	if (hpa >= (u64)__image_start && hpa < (u64)__text_end)
		return PTE_P;
	if (hpa >= (u64)__text_end && hpa < (u64)__rodata_end)
		return PTE_P | nx();
	return leaf_attributes(hpa, hpa + PAGE_SIZE);
}

static u64 table_pool[TABLE_POOL_PAGES][ENTRIES] __aligned(PAGE_SIZE);
static size_t table_pool_used;

static u64 *new_table(u64 *hpa_out)
{
	if (table_pool_used == TABLE_POOL_PAGES)
		panic("host page-table pool exhausted: the memory map spans too much address space");
	u64 *t = table_pool[table_pool_used++];
	*hpa_out = virt_to_phys(t);
	return t;
}

static u64 map_4k_table(u64 base)
{
	u64 hpa;
	u64 *pt = new_table(&hpa);
	for (int i = 0; i < ENTRIES; i++)
		pt[i] = (base + ((u64)i << 12)) | page_attributes(base + ((u64)i << 12));
	return hpa | PTE_P | PTE_RW;
}

static u64 map_2m_entry(u64 base)
{
	u64 end = base + MiB(2);
	if (overlaps_image(base, end) || ram_coverage(base, end) == RAM_PART)
		return map_4k_table(base);
	return base | PTE_PS | leaf_attributes(base, end);
}

static u64 map_1g_entry(u64 base)
{
	u64 end = base + GiB(1);
	if (host_cpu.gbpages && !overlaps_image(base, end) && ram_coverage(base, end) != RAM_PART)
		return base | PTE_PS | leaf_attributes(base, end);
	u64 hpa;
	u64 *pd = new_table(&hpa);
	for (int i = 0; i < ENTRIES; i++)
		pd[i] = map_2m_entry(base + MiB(2) * (u64)i);
	return hpa | PTE_P | PTE_RW;
}

void host_paging_init(const struct mem_range *ram, size_t nram)
{
	ram_ranges = ram;
	ram_count = nram;
	u64 top = GiB(4);
	for (size_t i = 0; i < nram; i++)
		top = MAX(top, ram[i].end);
	top = ALIGN_UP(top, GiB(1));
	u64 *pml4 = new_table(&host_pml4_hpa);
	u64 *pdpt = NULL;
	for (u64 base = 0; base < top; base += GiB(1)) {
		if (IS_ALIGNED(base, GiB(512))) {
			u64 pdpt_hpa;
			pdpt = new_table(&pdpt_hpa);
			pml4[base / GiB(512)] = pdpt_hpa | PTE_P | PTE_RW;
		}
		pdpt[(base / GiB(1)) % ENTRIES] = map_1g_entry(base);
	}
	if (host_cpu.nx)
		wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
	write_cr3(host_pml4_hpa);
}

u64 host_cr3(void)
{
	return host_pml4_hpa;
}
