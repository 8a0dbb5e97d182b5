/* The guest's ACPI tables (ACPI 6.4 chapter 5), written below 1 MiB when the VM is
 * created: RSDP -> RSDT/XSDT -> FADT (-> DSDT) and MADT. They describe the devices of
 * drivers/v*.c: PM timer and PM1 registers, one enabled local APIC, the I/O APIC with the
 * PC's interrupt source overrides, S5 for soft-off. */
#include "core/vm.h"
#include "drivers/acpi_tables.h"
#include "drivers/vdev.h"
#include "lib/string.h"

#define ACPI_OEM_ID "VIREO "		/* 6 bytes */
#define ACPI_OEM_TABLE_ID "VIREOPC "	/* 8 bytes */
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "VIRE"
#define ACPI_CREATOR_REVISION 1

/* Tables listed by the RSDT and XSDT. */
enum { ROOT_ENTRY_FADT, ROOT_ENTRY_MADT, ROOT_ENTRIES };

struct acpi_rsdt {
	struct acpi_header header;
	u32 entries[ROOT_ENTRIES];
} __packed;

struct acpi_xsdt {
	struct acpi_header header;
	u64 entries[ROOT_ENTRIES];
} __packed;

/* 5.2.3.2 Generic Address Structure. */
struct acpi_gas {
	u8 address_space;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_WORD 2
#define ACPI_GAS_ACCESS_DWORD 3

/* 5.2.9, table 5.9, up to the X_ blocks: the revision 3 (ACPI 2.0/3.0) layout. */
struct acpi_fadt {
	struct acpi_header header;
	u32 firmware_ctrl, dsdt;
	u8 reserved0, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	u32 gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	u8 gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
} __packed;
static_assert(sizeof(struct acpi_fadt) == 244, "FADT revision 3 is 244 bytes");
static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76 &&
	      offsetof(struct acpi_fadt, flags) == 112 && offsetof(struct acpi_fadt, x_dsdt) == 140 &&
	      offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT field offsets (table 5.9)");
#define ACPI_FADT_REVISION 3
#define ACPI_SCI_IRQ VDEV_IRQ_SCI	/* where PC firmware routes it; never raised here */
#define ACPI_P_LVL2_NONE 101		/* latency > 100: C2 not supported */
#define ACPI_P_LVL3_NONE 1001		/* latency > 1000: C3 not supported */
#define ACPI_BOOT_ARCH_8042 BIT(1)	/* 5.2.9.3: an i8042 at 0x60/0x64 */
#define ACPI_BOOT_ARCH_NO_VGA BIT(2)
#define ACPI_RTC_CENTURY_INDEX 0x32	/* the CMOS byte holding the century (drivers/vrtc.c) */
/* FADT flags (table 5.10): WBINVD works, C1 on all CPUs, no fixed power or sleep button,
 * RTC wake status not in PM1; TMR_VAL_EXT clear (24-bit PM timer). */
#define ACPI_FADT_FLAGS (BIT(0) | BIT(2) | BIT(4) | BIT(5) | BIT(6))

/*
 * The DSDT's whole AML body: Name (_S5, Package () { 5, 5, 0, 0 }), the SLP_TYPa/b values
 * for soft-off (7.4.2.5). NameOp, NameSeg, PackageOp, PkgLength (the bytes from itself to
 * the end: 8), NumElements, then BytePrefix 5, BytePrefix 5, ZeroOp, ZeroOp (20.2).
 */
static const u8 dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, VDEV_ACPI_SLP_TYP_S5, 0x0a, VDEV_ACPI_SLP_TYP_S5, 0x00, 0x00,
};
#define ACPI_DSDT_REVISION 2		/* 64-bit AML integers */

struct acpi_dsdt {
	struct acpi_header header;
	u8 aml[sizeof(dsdt_aml)];
} __packed;

/* 5.2.12: one Processor Local APIC structure (5.2.12.2), one I/O APIC (5.2.12.3) and the
 * interrupt source overrides (5.2.12.5) every PC has: IRQ 0 is the I/O APIC's input 2,
 * and the SCI (IRQ 9) is level-triggered, active high. */
struct acpi_madt_local_apic {
	u8 type, length;
	u8 processor_uid, apic_id;
	u32 flags;
} __packed;
static_assert(sizeof(struct acpi_madt_local_apic) == 8, "MADT local APIC entry is 8 bytes");
#define ACPI_MADT_TYPE_LOCAL_APIC 0
#define ACPI_MADT_LOCAL_APIC_ENABLED 1
#define ACPI_MADT_PCAT_COMPAT 1		/* dual 8259s present */
#define ACPI_MADT_TYPE_IO_APIC 1
#define ACPI_MADT_TYPE_OVERRIDE 2
#define ACPI_MADT_IO_APIC_ID 1		/* after the local APIC's 0 */
#define ACPI_MADT_BUS_ISA 0
#define ACPI_MPS_INTI_ACTIVE_HIGH 0x1	/* MPS INTI flags (table 5.50): polarity bits 1:0 */
#define ACPI_MPS_INTI_EDGE 0x4		/* trigger mode bits 3:2 */
#define ACPI_MPS_INTI_LEVEL 0xc

struct acpi_madt_io_apic {
	u8 type, length;
	u8 io_apic_id, reserved;
	u32 address;
	u32 gsi_base;
} __packed;
static_assert(sizeof(struct acpi_madt_io_apic) == 12, "MADT I/O APIC entry is 12 bytes");

struct acpi_madt_override {
	u8 type, length;
	u8 bus, source;
	u32 gsi;
	u16 flags;
} __packed;
static_assert(sizeof(struct acpi_madt_override) == 10, "MADT override entry is 10 bytes");
#define ACPI_MADT_REVISION 3

struct acpi_madt {
	struct acpi_header header;
	u32 local_apic_address;
	u32 flags;
	struct acpi_madt_local_apic cpu0;
	struct acpi_madt_io_apic io_apic;
	struct acpi_madt_override timer_override, sci_override;
} __packed;

/* Everything, in the order it lands in guest memory from VDEV_ACPI_RSDP_GPA. */
struct acpi_image {
	struct acpi_rsdp rsdp __aligned(16);
	struct acpi_rsdt rsdt __aligned(16);
	struct acpi_xsdt xsdt __aligned(16);
	struct acpi_fadt fadt __aligned(16);
	struct acpi_dsdt dsdt __aligned(16);
	struct acpi_madt madt __aligned(16);
};
static_assert(VDEV_ACPI_RSDP_GPA % 16 == 0, "guests scan for the RSDP on 16-byte steps");
static_assert(VDEV_ACPI_RSDP_GPA + sizeof(struct acpi_image) <= VDEV_ACPI_AREA_END,
	      "the ACPI tables must fit below 1 MiB");

#define ACPI_GPA_OF(table) ((u32)(VDEV_ACPI_RSDP_GPA + offsetof(struct acpi_image, table)))

static u8 checksum_of(const void *data, size_t len)
{
	const u8 *p = data;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (u8)-sum;
}

/* Fills a header; the checksum is set by seal() once the table is complete. */
static void fill_header(struct acpi_header *h, const char signature[4], u32 length, u8 revision)
{
	memcpy(h->signature, signature, sizeof(h->signature));
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
}

static void seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum_of(h, h->length);
}

static void build_rsdp(struct acpi_rsdp *rsdp)
{
	memcpy(rsdp->signature, "RSD PTR ", sizeof(rsdp->signature));
	memcpy(rsdp->oem_id, ACPI_OEM_ID, sizeof(rsdp->oem_id));
	rsdp->revision = 2;
	rsdp->rsdt_address = ACPI_GPA_OF(rsdt);
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = ACPI_GPA_OF(xsdt);
	rsdp->checksum = checksum_of(rsdp, ACPI_RSDP_V1_BYTES);
	rsdp->extended_checksum = checksum_of(rsdp, sizeof(*rsdp));
}

static void build_roots(struct acpi_rsdt *rsdt, struct acpi_xsdt *xsdt)
{
	fill_header(&rsdt->header, "RSDT", sizeof(*rsdt), 1);
	rsdt->entries[ROOT_ENTRY_FADT] = ACPI_GPA_OF(fadt);
	rsdt->entries[ROOT_ENTRY_MADT] = ACPI_GPA_OF(madt);
	seal(&rsdt->header);
	fill_header(&xsdt->header, "XSDT", sizeof(*xsdt), 1);
	xsdt->entries[ROOT_ENTRY_FADT] = ACPI_GPA_OF(fadt);
	xsdt->entries[ROOT_ENTRY_MADT] = ACPI_GPA_OF(madt);
	seal(&xsdt->header);
}

static struct acpi_gas io_register(u16 port, u8 bytes, u8 access_size)
{
	return (struct acpi_gas){ .address_space = ACPI_GAS_SYSTEM_IO, .bit_width = (u8)(8 * bytes),
				  .access_size = access_size, .address = port };
}

/* No SMI_CMD: the platform is always in ACPI mode (PM1 control has SCI_EN set). */
static void build_fadt(struct acpi_fadt *fadt)
{
	fill_header(&fadt->header, "FACP", sizeof(*fadt), ACPI_FADT_REVISION);
	fadt->dsdt = ACPI_GPA_OF(dsdt);
	fadt->x_dsdt = ACPI_GPA_OF(dsdt);
	fadt->sci_int = ACPI_SCI_IRQ;
	fadt->pm1a_evt_blk = VDEV_PM1_EVENT_PORT;
	fadt->pm1_evt_len = VDEV_PM1_EVENT_PORTS;
	fadt->x_pm1a_evt_blk = io_register(VDEV_PM1_EVENT_PORT, VDEV_PM1_EVENT_PORTS,
					   ACPI_GAS_ACCESS_WORD);
	fadt->pm1a_cnt_blk = VDEV_PM1_CONTROL_PORT;
	fadt->pm1_cnt_len = VDEV_PM1_CONTROL_PORTS;
	fadt->x_pm1a_cnt_blk = io_register(VDEV_PM1_CONTROL_PORT, VDEV_PM1_CONTROL_PORTS,
					   ACPI_GAS_ACCESS_WORD);
	fadt->pm_tmr_blk = VDEV_PM_TIMER_PORT;
	fadt->pm_tmr_len = VDEV_PM_TIMER_PORTS;
	fadt->x_pm_tmr_blk = io_register(VDEV_PM_TIMER_PORT, VDEV_PM_TIMER_PORTS,
					 ACPI_GAS_ACCESS_DWORD);
	fadt->p_lvl2_lat = ACPI_P_LVL2_NONE;
	fadt->p_lvl3_lat = ACPI_P_LVL3_NONE;
	fadt->century = ACPI_RTC_CENTURY_INDEX;
	fadt->iapc_boot_arch = ACPI_BOOT_ARCH_NO_VGA | ACPI_BOOT_ARCH_8042;
	fadt->flags = ACPI_FADT_FLAGS;
	seal(&fadt->header);
}

static void build_dsdt(struct acpi_dsdt *dsdt)
{
	fill_header(&dsdt->header, "DSDT", sizeof(*dsdt), ACPI_DSDT_REVISION);
	memcpy(dsdt->aml, dsdt_aml, sizeof(dsdt_aml));
	seal(&dsdt->header);
}

static void build_madt(struct acpi_madt *madt)
{
	fill_header(&madt->header, "APIC", sizeof(*madt), ACPI_MADT_REVISION);
	madt->local_apic_address = (u32)VDEV_LAPIC_GPA;
	madt->flags = ACPI_MADT_PCAT_COMPAT;
	madt->cpu0 = (struct acpi_madt_local_apic){
		.type = ACPI_MADT_TYPE_LOCAL_APIC, .length = sizeof(madt->cpu0),
		.processor_uid = 0, .apic_id = 0, .flags = ACPI_MADT_LOCAL_APIC_ENABLED,
	};
	madt->io_apic = (struct acpi_madt_io_apic){
		.type = ACPI_MADT_TYPE_IO_APIC, .length = sizeof(madt->io_apic),
		.io_apic_id = ACPI_MADT_IO_APIC_ID, .address = (u32)VDEV_IOAPIC_GPA, .gsi_base = 0,
	};
	madt->timer_override = (struct acpi_madt_override){
		.type = ACPI_MADT_TYPE_OVERRIDE, .length = sizeof(madt->timer_override),
		.bus = ACPI_MADT_BUS_ISA, .source = VDEV_IRQ_PIT, .gsi = VDEV_GSI_PIT,
		.flags = ACPI_MPS_INTI_ACTIVE_HIGH | ACPI_MPS_INTI_EDGE,
	};
	madt->sci_override = (struct acpi_madt_override){
		.type = ACPI_MADT_TYPE_OVERRIDE, .length = sizeof(madt->sci_override),
		.bus = ACPI_MADT_BUS_ISA, .source = VDEV_IRQ_SCI, .gsi = VDEV_IRQ_SCI,
		.flags = ACPI_MPS_INTI_ACTIVE_HIGH | ACPI_MPS_INTI_LEVEL,
	};
	seal(&madt->header);
}

const char *vacpi_write_tables(struct vm *vm)
{
	struct acpi_image image;

	memset(&image, 0, sizeof(image));
	build_rsdp(&image.rsdp);
	build_roots(&image.rsdt, &image.xsdt);
	build_fadt(&image.fadt);
	build_dsdt(&image.dsdt);
	build_madt(&image.madt);
	if (!vm_write_gpa(vm, VDEV_ACPI_RSDP_GPA, &image, sizeof(image)))
		return "its RAM does not hold the ACPI table area";
	return NULL;
}
