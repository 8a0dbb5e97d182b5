/* libFuzzer target for the shadow MMU: the differential test of tests/unit/test_shadow.c
 * with the fuzzer's bytes making every choice. Each access through the CPU model of
 * tests/unit/shadow_model.h (shadow tables, #PFs to mmu_shadow_page_fault()) must end as
 * the reference walk of the guest's own tables does, and after every operation the
 * write-protection invariant and the page budget must hold; anything else aborts.
 * unit-sources: mmu/mmu.c mmu/shadow.c mmu/memslot.c mmu/ept.c mmu/spte.c mmu/guest_walk.c lib/page_alloc.c lib/slab.c lib/bitmap.c lib/hash.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include "tests/unit/shadow_model.h"

/*
 * Input layout: a 4-byte header, then operations until the input ends.
 *
 *   byte 0  guest paging mode (mod 4: off, 32-bit, PAE, 4-level)
 *   byte 1  flags: FUZZ_*
 *   byte 2  shadow page budget: 64 + (byte & 63) pages, or 1000 when bit 7 is set
 *   byte 3  seed of the initial guest tables (filled as the unit test does); 0: all empty
 *
 * Each operation is an opcode byte and the bytes its choices take (below() takes one byte,
 * two for more than 256 choices; an exhausted input answers 0):
 *
 *   OP_ACCESS     gva (as random_gva() draws it), access-kind byte: bit 1 write, bit 2
 *                 user, bit 4 fetch (drops write), bit 7 EFLAGS.AC for a supervisor
 *                 data access; then the entry stored if it is an emulated write
 *   OP_STORE      a full-width entry of a pool table, as an emulated guest store
 *   OP_PARTIAL    1, 2 or 4 bytes within such an entry (a torn or byte store)
 *   OP_CR3        MOV CR3 to one of the first pool tables, with new WP, NXE, SMEP, SMAP
 *   OP_MODE       a paging-mode change (mode byte), then as OP_CR3
 *   OP_INVLPG     INVLPG of a gva
 *   OP_ZAP_ALL    mmu_zap_all()
 */
enum fuzz_flag {
	FUZZ_WP = BIT(0), FUZZ_NXE = BIT(1), FUZZ_SMEP = BIT(2), FUZZ_SMAP = BIT(3),
	FUZZ_NO_CACHE = BIT(4),	/* shadow_cache=off */
};

enum fuzz_op {
	OP_ACCESS, OP_STORE, OP_PARTIAL, OP_CR3, OP_MODE, OP_INVLPG, OP_ZAP_ALL, OP_COUNT
};

static const u8 *input;
static size_t input_left;

static unsigned input_below(unsigned n)
{
	unsigned value = 0;
	for (unsigned i = 0; i < (n > 256 ? 2 : 1) && input_left; i++, input_left--)
		value |= (unsigned)*input++ << (8 * i);
	return value % n;
}

static unsigned input_byte(void) { return input_below(256); }

static unsigned decode_access(unsigned byte)
{
	unsigned access = byte & (GUEST_ACCESS_WRITE | GUEST_ACCESS_USER | GUEST_ACCESS_FETCH);
	if (access & GUEST_ACCESS_FETCH)
		access &= ~GUEST_ACCESS_WRITE;	/* no instruction fetch writes */
	if ((byte & BIT(7)) && !(access & (GUEST_ACCESS_USER | GUEST_ACCESS_FETCH)))
		access |= GUEST_ACCESS_SMAP_ALLOWED;
	return access;
}

static void partial_store(void)
{
	u64 gpa;
	bool allowed = random_table_entry(&gpa);
	unsigned entry_size = four_byte() ? 4 : 8;
	unsigned size = 1u << input_below(entry_size == 8 ? 3 : 2);	/* 1, 2 or 4 */
	unsigned offset = input_below(entry_size);
	if (allowed)
		emulate_store_sized(gpa + offset, size);
}

/* After every operation: nothing the CHECKs of the model saw went wrong, and the
 * invariants hold. */
static void check_state(u64 max_pages)
{
	CHECK(mmu.npages <= MAX(max_pages, 64));
	check_write_protection();
	if (unit_failures)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	if (!initialised) {
		arena_init();
		initialised = true;
	}
	if (size < 4)
		return 0;
	enum guest_paging_mode mode = data[0] % 4;
	u8 flags = data[1];
	u64 max_pages = data[2] & BIT(7) ? 1000 : 64 + (data[2] & 63);
	u8 seed = data[3];
	input = data + 4;
	input_left = size - 4;

	vm_setup(max_pages, !(flags & FUZZ_NO_CACHE));
	set_guest(mode, TABLE_POOL, flags & FUZZ_WP, flags & FUZZ_NXE, flags & FUZZ_SMEP,
		  flags & FUZZ_SMAP);
	memset(ram + TABLE_POOL * PAGE_SIZE, 0, TABLE_POOL_SIZE * PAGE_SIZE);
	if (seed) {
		below_source = rnd_below;
		rng = 0x2545f4914f6cdd1dull * seed;
		fill_tables();
	}
	below_source = input_below;
	load_root();
	check_state(max_pages);

	while (input_left) {
		switch (input_byte() % OP_COUNT) {
		case OP_ACCESS: {
			u64 gva = random_gva();
			check_access(gva, decode_access(input_byte()));
			break;
		}
		case OP_STORE:
			store_table_entry();
			break;
		case OP_PARTIAL:
			partial_store();
			break;
		case OP_CR3:
			switch_cr3(guest.mode);
			break;
		case OP_MODE:
			switch_cr3(input_byte() % 4);
			break;
		case OP_INVLPG:
			mmu_shadow_invlpg(&mmu, &vcpu, random_gva());
			break;
		case OP_ZAP_ALL:
			mmu_zap_all(&mmu);
			break;
		}
		check_state(max_pages);
	}
	vm_teardown();
	return 0;
}
