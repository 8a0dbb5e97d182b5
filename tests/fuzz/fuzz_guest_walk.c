/* libFuzzer target for the guest page-table walker: arbitrary guest memory, CR3, mode,
 * flags and address must never crash it nor break the promises of its result.
 * unit-sources: mmu/guest_walk.c
 */
#include <stdlib.h>
#include <string.h>

#include "mmu/guest_walk.h"

/* Input layout: a header, then the guest RAM image. RAM repeats every FUZZ_RAM_SIZE bytes
 * below FUZZ_RAM_END so that fuzzed table pointers mostly land in RAM; above, nothing. */
#define FUZZ_RAM_SIZE KiB(64)
#define FUZZ_RAM_END GiB(1)

enum fuzz_flag {
	FUZZ_WP = BIT(0), FUZZ_NXE = BIT(1), FUZZ_PSE = BIT(2), FUZZ_SMEP = BIT(3),
	FUZZ_SMAP = BIT(4), FUZZ_PAGES_1G = BIT(5),
	FUZZ_ALWAYS_CHANGED = BIT(6),	/* every compare-exchange sees a concurrent write */
	FUZZ_ROM = BIT(7),		/* every compare-exchange hits read-only memory */
};

struct fuzz_header {
	u8 mode, flags, phys_bits, access;
	u64 cr3, gva;
} __packed;

struct fuzz_mem {
	u8 ram[FUZZ_RAM_SIZE];
	u8 flags;
	unsigned stores, changed;
};

static u8 *ram_at(struct fuzz_mem *m, u64 gpa, unsigned size)
{
	if ((size != 4 && size != 8) || gpa % size)
		abort();	/* the walker promised naturally aligned 4- or 8-byte accesses */
	if (gpa >= FUZZ_RAM_END)
		return NULL;
	return m->ram + (gpa & (FUZZ_RAM_SIZE - 1));
}

static int fuzz_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	u8 *p = ram_at(ctx, gpa, size);

	if (!p)
		return -1;
	*value = 0;
	memcpy(value, p, size);
	return 0;
}

static int fuzz_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	struct fuzz_mem *m = ctx;
	u8 *p = ram_at(m, gpa, size);
	u64 current = 0;

	if (!p || (m->flags & FUZZ_ROM))
		return -1;
	memcpy(&current, p, size);
	if (current != old_value || (m->flags & FUZZ_ALWAYS_CHANGED)) {
		m->changed++;
		return GUEST_MEM_CHANGED;
	}
	memcpy(p, &new_value, size);
	m->stores++;
	return 0;
}

static const struct guest_mem_ops fuzz_ops = { .read = fuzz_read, .cmpxchg = fuzz_cmpxchg };

static bool valid_page_size(u64 size)
{
	return size == KiB(4) || size == MiB(2) || size == MiB(4) || size == GiB(1);
}

static void check_success(const struct guest_paging *p, u64 gva,
			  const struct guest_walk_result *r)
{
	u64 linear = p->mode == GUEST_PAGING_4LEVEL ? gva : (u32)gva;

	if (!valid_page_size(r->page_size_bytes) || r->level < 1)
		abort();
	if ((r->gpa ^ linear) & (r->page_size_bytes - 1))
		abort();
	if (p->mode == GUEST_PAGING_OFF) {
		if (r->gpa != (u32)gva || r->top_level != 0)
			abort();
		return;
	}
	if (r->level > r->top_level || r->gpa >= BIT(52))
		abort();
}

static void check_result(const struct guest_paging *p, u64 gva, enum guest_walk_status status,
			 const struct guest_walk_result *r, const struct fuzz_mem *m)
{
	switch (status) {
	case GUEST_WALK_OK:
		check_success(p, gva, r);
		break;
	case GUEST_WALK_PAGE_FAULT:
		if (r->error_code & ~(u32)BITS(4, 0))
			abort();
		break;
	case GUEST_WALK_NONCANONICAL:
		if (p->mode != GUEST_PAGING_4LEVEL)
			abort();
		break;
	case GUEST_WALK_TABLE_NOT_RAM:
		if (r->level < 1 || r->level > r->top_level)
			abort();
		break;
	case GUEST_WALK_RETRY:
		if (!m->changed)
			abort();
		break;
	default:
		abort();
	}
	/* A walk that fails without having been retried writes nothing. */
	if (status != GUEST_WALK_OK && !m->changed && m->stores)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_mem mem;
	struct fuzz_header h;
	struct guest_paging paging;
	struct guest_walk_result result;
	enum guest_walk_status status;
	unsigned access;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	memset(&mem, 0, sizeof(mem));
	memcpy(mem.ram, data + sizeof(h), MIN(size - sizeof(h), sizeof(mem.ram)));
	mem.flags = h.flags;
	paging = (struct guest_paging){
		.mode = h.mode % (GUEST_PAGING_4LEVEL + 1), .cr3 = h.cr3,
		.wp = h.flags & FUZZ_WP, .nxe = h.flags & FUZZ_NXE, .pse = h.flags & FUZZ_PSE,
		.smep = h.flags & FUZZ_SMEP, .smap = h.flags & FUZZ_SMAP,
		.phys_bits = h.phys_bits, .pages_1g = h.flags & FUZZ_PAGES_1G,
	};
	access = (h.access & (GUEST_ACCESS_WRITE | GUEST_ACCESS_USER | GUEST_ACCESS_FETCH)) |
		 (h.access & BIT(7) ? GUEST_ACCESS_SMAP_ALLOWED : 0);
	status = guest_walk(&paging, &fuzz_ops, &mem, h.gva, access, &result);
	check_result(&paging, h.gva, status, &result, &mem);
	return 0;
}
