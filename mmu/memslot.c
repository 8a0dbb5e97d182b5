/* Memory slots: a sorted array of gfn ranges, searched by binary search. Every change bumps
 * the generation, which is what makes cached MMIO sptes and last-hit shortcuts expire. */
#include "lib/string.h"
#include "mmu/mmu.h"

static bool ranges_overlap(gfn_t a, u64 na, gfn_t b, u64 nb)
{
	return a < b + nb && b < a + na;
}

/* Index of the first slot whose base_gfn is > gfn. */
static size_t upper_bound(const struct memslots *slots, gfn_t gfn)
{
	size_t lo = 0, hi = slots->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (slots->slots[mid].base_gfn <= gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct memslot *memslot_search(const struct memslots *slots, struct mmu_vcpu *vcpu,
				     gfn_t gfn)
{
	size_t i = upper_bound(slots, gfn);
	if (i == 0 || !memslot_contains(&slots->slots[i - 1], gfn))
		return NULL;
	if (vcpu) {
		vcpu->last_slot = i - 1;
		vcpu->last_slot_generation = slots->generation;
	}
	return &slots->slots[i - 1];
}

struct memslot *memslots_find(struct memslots *slots, gfn_t gfn)
{
	return (struct memslot *)memslot_find(slots, NULL, gfn);
}

const struct memslot *memslot_by_id(const struct memslots *slots, u32 id)
{
	for (size_t i = 0; i < slots->count; i++)
		if (slots->slots[i].id == id)
			return &slots->slots[i];
	return NULL;
}

static bool overlaps_any(const struct memslots *slots, gfn_t base, u64 npages, u32 except_id)
{
	for (size_t i = 0; i < slots->count; i++) {
		const struct memslot *s = &slots->slots[i];
		if (s->id != except_id && ranges_overlap(base, npages, s->base_gfn, s->npages))
			return true;
	}
	return false;
}

static void insert_sorted(struct memslots *slots, const struct memslot *slot)
{
	size_t i = upper_bound(slots, slot->base_gfn);
	memmove(&slots->slots[i + 1], &slots->slots[i], (slots->count - i) * sizeof(*slot));
	slots->slots[i] = *slot;
	slots->count++;
}

static void remove_at(struct memslots *slots, size_t i)
{
	memmove(&slots->slots[i], &slots->slots[i + 1], (slots->count - i - 1) * sizeof(slots->slots[0]));
	slots->count--;
}

int memslots_insert(struct memslots *slots, gfn_t base, u64 npages, u64 hpa, u32 flags, u32 *id_out)
{
	if (npages == 0 || base + npages < base || !IS_ALIGNED(hpa, PAGE_SIZE))
		return -MMU_EINVAL;
	if (slots->count == MEMSLOTS_MAX)
		return -MMU_ENOMEM;
	if (overlaps_any(slots, base, npages, UINT32_MAX))
		return -MMU_EBUSY;
	struct memslot slot = { .base_gfn = base, .npages = npages, .hpa = hpa, .flags = flags,
				.id = slots->next_id++ };
	insert_sorted(slots, &slot);
	slots->generation++;
	if (id_out)
		*id_out = slot.id;
	return 0;
}

int memslots_remove(struct memslots *slots, u32 id, struct memslot *removed)
{
	const struct memslot *s = memslot_by_id(slots, id);
	if (!s)
		return -MMU_EINVAL;
	*removed = *s;
	remove_at(slots, (size_t)(s - slots->slots));
	slots->generation++;
	return 0;
}

int memslots_move(struct memslots *slots, u32 id, gfn_t new_base, struct memslot *old)
{
	const struct memslot *s = memslot_by_id(slots, id);
	if (!s)
		return -MMU_EINVAL;
	if (new_base + s->npages < new_base || overlaps_any(slots, new_base, s->npages, id))
		return -MMU_EBUSY;
	struct memslot moved = *s;
	*old = *s;
	remove_at(slots, (size_t)(s - slots->slots));
	moved.base_gfn = new_base;
	moved.shadowed_tables = 0;	/* the tables at the old gfns are zapped (mmu.c) */
	insert_sorted(slots, &moved);
	slots->generation++;
	return 0;
}

static void *guest_ram_hva(void *ctx, u64 gpa, unsigned size, bool write)
{
	const struct guest_ram *ram = ctx;
	return memslot_gpa_to_hva(ram->slots, ram->vcpu, gpa, size, write);
}

/* The walker reads naturally aligned entries (struct guest_mem_ops), so each lies within
 * one page of one slot: the slot lookup alone decides (every fault's walk reads here). */
static int guest_ram_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	const struct guest_ram *ram = ctx;
	gfn_t gfn = gpa_to_gfn(gpa);
	const struct memslot *slot = memslot_find(ram->slots, ram->vcpu, gfn);
	if (!slot)
		return -1;
	const void *hva = (const u8 *)phys_to_virt(memslot_gfn_to_hpa(slot, gfn)) +
			  (gpa & (PAGE_SIZE - 1));
	*value = size == 8 ? *(const u64 *)hva : *(const u32 *)hva;
	return 0;
}

static int guest_ram_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old_value, u64 new_value)
{
	void *hva = guest_ram_hva(ctx, gpa, size, true);
	if (!hva)
		return -1;
	bool stored = size == 8 ?
		__atomic_compare_exchange_n((u64 *)hva, &old_value, new_value, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) :
		__atomic_compare_exchange_n((u32 *)hva, (u32 *)&old_value, (u32)new_value, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return stored ? 0 : GUEST_MEM_CHANGED;
}

const struct guest_mem_ops guest_ram_ops = { guest_ram_read, guest_ram_cmpxchg };
