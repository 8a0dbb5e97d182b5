/* Host ACPI: finds tables through the RSDP the loader passed, and powers the machine off
 * through the FADT's PM1 control block (ACPI 6.4, 5.2 and 7.4.2 "\_S5 Soft Off"). */
#include "arch/x86/cpu.h"
#include "drivers/acpi_tables.h"
#include "drivers/drivers.h"
#include "lib/phys.h"
#include "lib/string.h"

#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0a
#define AML_ONE_OP 0x01

static const struct acpi_rsdp *host_rsdp;

void acpi_set_rsdp(const void *rsdp)
{
	host_rsdp = rsdp;
}

static bool table_has_signature(u64 hpa, const char signature[4])
{
	const struct acpi_header *h = phys_to_virt(hpa);
	return hpa && memcmp(h->signature, signature, 4) == 0;
}

const void *acpi_find_table(const char signature[4])
{
	if (!host_rsdp)
		return NULL;
	bool xsdt = host_rsdp->revision >= 2 && host_rsdp->xsdt_address;
	u64 root_hpa = xsdt ? host_rsdp->xsdt_address : host_rsdp->rsdt_address;
	const struct acpi_header *root = phys_to_virt(root_hpa);
	unsigned entry_size = xsdt ? 8 : 4;
	const u8 *entries = (const u8 *)(root + 1);
	size_t n = (root->length - sizeof(*root)) / entry_size;
	for (size_t i = 0; i < n; i++) {
		u64 hpa = 0;
		memcpy(&hpa, entries + i * entry_size, entry_size);
		if (table_has_signature(hpa, signature))
			return phys_to_virt(hpa);
	}
	return NULL;
}

static u32 read_u32_at(const void *base, size_t offset)
{
	u32 v;
	memcpy(&v, (const u8 *)base + offset, sizeof(v));
	return v;
}

/* Reads an AML integer constant: ZeroOp, OneOp or BytePrefix n. */
static u8 aml_small_integer(const u8 *p)
{
	if (*p == AML_BYTE_PREFIX)
		return p[1];
	return *p == AML_ONE_OP ? 1 : 0;
}

/* SLP_TYPa for S5 from the DSDT's "_S5_" package; 0 (right for Bochs and QEMU) if absent. */
static u8 dsdt_s5_sleep_type(const struct acpi_header *fadt)
{
	u64 dsdt_hpa = fadt->length >= FADT_X_DSDT + 8 ?
		read_u32_at(fadt, FADT_X_DSDT) | (u64)read_u32_at(fadt, FADT_X_DSDT + 4) << 32 : 0;
	if (!dsdt_hpa)
		dsdt_hpa = read_u32_at(fadt, FADT_DSDT);
	const struct acpi_header *dsdt = phys_to_virt(dsdt_hpa);
	const u8 *aml = (const u8 *)dsdt;
	for (u32 i = sizeof(*dsdt); i + 8 < dsdt->length; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0 || aml[i + 4] != AML_PACKAGE_OP)
			continue;
		const u8 *p = aml + i + 5;
		p += (*p >> 6) + 1;	/* PkgLength: 1 + number of follow bytes */
		p += 1;			/* NumElements */
		return aml_small_integer(p);
	}
	return 0;
}

void acpi_power_off(void)
{
	const struct acpi_header *fadt = acpi_find_table("FACP");
	if (!fadt)
		return;
	u16 pm1a = (u16)read_u32_at(fadt, FADT_PM1A_CNT_BLK);
	u16 pm1b = (u16)read_u32_at(fadt, FADT_PM1B_CNT_BLK);
	u16 value = (u16)(dsdt_s5_sleep_type(fadt) << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN;
	if (pm1a)
		outw(pm1a, value);
	if (pm1b)
		outw(pm1b, value);
}
