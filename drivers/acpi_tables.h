/* ACPI table layouts shared by the host's ACPI driver (drivers/acpi.c) and the guests'
 * ACPI tables (drivers/vacpi.c); ACPI 6.4 chapter 5. */
#ifndef VIREO_DRIVERS_ACPI_TABLES_H
#define VIREO_DRIVERS_ACPI_TABLES_H

#include "lib/types.h"

/* 5.2.5.3: revision 2 has the XSDT address and an extended checksum. */
struct acpi_rsdp {
	char signature[8];
	u8 checksum;			/* over the first 20 bytes */
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;		/* over the whole structure */
	u8 reserved[3];
} __packed;
static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP revision 2 is 36 bytes");
#define ACPI_RSDP_V1_BYTES 20

/* 5.2.6 */
struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;
static_assert(sizeof(struct acpi_header) == 36, "ACPI table header is 36 bytes");

/* FADT field offsets (ACPI 6.4 table 5.9). */
#define FADT_DSDT 40
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_X_DSDT 140
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN BIT(13)		/* write-only: reads as 0 */

#endif
