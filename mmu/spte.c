/* The spte format in use, chosen once at boot (see mmu/spte.h). */
#include "mmu/spte.h"

struct spte_format spte_format;

static const struct spte_format ept_format = {
	.kind = SPTE_FORMAT_EPT,
	.table_bits = EPT_RWX | SPTE_SOFTWARE_PRESENT,
	.leaf_bits = EPT_READ | EPT_MEMTYPE_WB | EPT_IGNORE_PAT | SPTE_SOFTWARE_PRESENT,
	.exec_mask = EPT_EXECUTE,
	.mmio_mask = SPTE_EPT_MMIO_MASK, .mmio_value = SPTE_EPT_MMIO_VALUE,
	.mmio_gfn_mask = SPTE_EPT_MMIO_GFN_MASK,
};

static const struct spte_format shadow_format = {
	.kind = SPTE_FORMAT_SHADOW,
	.table_bits = PT_PRESENT | PT_WRITABLE | PT_USER | PT_ACCESSED | SPTE_SOFTWARE_PRESENT,
	.leaf_bits = PT_PRESENT | PT_ACCESSED | SPTE_SOFTWARE_PRESENT,
	.user_mask = PT_USER,
	.nx_mask = PT_NX,
	.mmio_mask = SPTE_SHADOW_MMIO_MASK, .mmio_value = SPTE_SHADOW_MMIO_VALUE,
	.mmio_gfn_mask = SPTE_SHADOW_MMIO_GFN_MASK,
};

/* Bit 51 is reserved only while MAXPHYADDR leaves it above the address. */
bool spte_format_init(enum spte_format_kind kind, unsigned phys_bits)
{
	spte_format = kind == SPTE_FORMAT_EPT ? ept_format : shadow_format;
	if (kind == SPTE_FORMAT_SHADOW && phys_bits > 51) {
		spte_format.mmio_mask = 0;
		spte_format.mmio_value = 0;
	}
	return spte_mmio_supported();
}

bool spte_mmio_supported(void)
{
	return spte_format.mmio_value != 0;
}
