/* platform: the small PC that freestanding test kernels expect, as Vireo models QEMU's pc
 * machine: fw_cfg, the multiboot memory map, ACPI (RSDP, RSDT, FADT, PM timer), the PIC
 * masks, an empty PCI bus, pc-testdev's scratch port, and the local APIC (xAPIC MMIO, and
 * the x2APIC MSRs when CPUID offers them). */
#include "tests/guests/lib/guest.h"

/* QEMU fw_cfg over I/O ports (QEMU docs/specs/fw_cfg.rst). */
#define FW_CFG_SELECTOR_PORT 0x510
#define FW_CFG_DATA_PORT 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05

/* ACPI 6.4: RSDP 5.2.5, system description table header 5.2.6, FADT 5.2.9. */
#define RSDP_SCAN_START 0xe0000
#define RSDP_SCAN_END 0x100000
#define RSDP_ALIGN 16
#define RSDP_V1_LENGTH 20
#define SDT_HEADER_LENGTH 36
#define FADT_PM_TMR_BLK 76
#define FADT_PM_TMR_LEN 91
#define FADT_FLAGS 112
#define FADT_TMR_VAL_EXT (1u << 8)
#define PM_TIMER_LENGTH 4
#define PM_TIMER_MASK_24 0xffffffu
#define PM_TIMER_SPIN 200000

/* 8259 PIC interrupt-mask registers (OCW1). */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA 0xa1

/* PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u

/* Local APIC registers (Intel SDM Vol. 3A 11.4.1, table 11-1). */
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_SPIV 0xf0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_SPIV_TEST 0x1ff		/* APIC enabled, spurious vector 0xff */
#define APIC_ICR_BUSY (1u << 12)	/* delivery status: send pending */
#define APIC_ICR_INIT_ALL_BUT_SELF 0x000c4500u
#define APIC_ICR_SIPI_ALL_BUT_SELF 0x000c4600u
#define SIPI_VECTOR 0x10		/* start address 0x10000 */

/* The guest's own reading of the ACPI layouts, deliberately not drivers/acpi_tables.h: a
 * layout mistake in the hypervisor's header must not hide from the test that checks it. */
struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
} __packed;

struct acpi_sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
static_assert(sizeof(struct acpi_sdt_header) == SDT_HEADER_LENGTH, "ACPI 5.2.6");

static void fw_cfg_select(u16 key)
{
	outw(FW_CFG_SELECTOR_PORT, key);
}

static u64 fw_cfg_read_le(u16 key, unsigned bytes)
{
	u64 v = 0;

	fw_cfg_select(key);
	for (unsigned i = 0; i < bytes; i++)
		v |= (u64)inb(FW_CFG_DATA_PORT) << (8 * i);
	return v;
}

static void check_fw_cfg(const struct multiboot_info *mbi)
{
	char signature[5] = { 0 };
	u64 cpus, ram_size, expected_ram = MiB(1) + KiB(mb_mem_upper_kib(mbi));

	fw_cfg_select(FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		signature[i] = (char)inb(FW_CFG_DATA_PORT);
	reportf(!strcmp(signature, "QEMU"), "fw_cfg signature is \"QEMU\" (got \"%s\")",
		signature);
	cpus = fw_cfg_read_le(FW_CFG_NB_CPUS, 2);
	reportf(cpus == 1, "fw_cfg CPU count is 1 (got %lu)", cpus);
	ram_size = fw_cfg_read_le(FW_CFG_RAM_SIZE, 8);
	reportf(ram_size == expected_ram, "fw_cfg RAM size matches 1 MiB + mem_upper (%#lx, "
		"mem_upper gives %#lx)", ram_size, expected_ram);
}

static void check_memory_map(const struct multiboot_info *mbi)
{
	u64 upper_bytes = KiB(mb_mem_upper_kib(mbi));
	bool upper_available = false;

	for (const struct multiboot_mmap_entry *e = mb_mmap_next(mbi, NULL); e;
	     e = mb_mmap_next(mbi, e)) {
		printf("platform: mmap %#lx-%#lx type %u\n", e->base, e->base + e->length - 1,
		       e->type);
		if (e->type == MB1_MMAP_AVAILABLE && e->base == MiB(1) && e->length >= upper_bytes)
			upper_available = true;
	}
	reportf(upper_bytes && upper_available, "the memory map has available RAM from 1 MiB "
		"covering mem_upper (%lu KiB)", upper_bytes >> 10);
}

static bool checksum_ok(const void *p, size_t len)
{
	const u8 *bytes = p;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += bytes[i];
	return sum == 0;
}

static const struct acpi_rsdp *find_rsdp(void)
{
	for (uintptr_t a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += RSDP_ALIGN) {
		const struct acpi_rsdp *rsdp = (const struct acpi_rsdp *)a;

		if (!memcmp(rsdp->signature, "RSD PTR ", 8) && checksum_ok(rsdp, RSDP_V1_LENGTH))
			return rsdp;
	}
	return NULL;
}

static bool sdt_valid(const struct acpi_sdt_header *h, const char *signature)
{
	return !memcmp(h->signature, signature, 4) && h->length >= SDT_HEADER_LENGTH &&
	       checksum_ok(h, h->length);
}

static const struct acpi_sdt_header *find_fadt(const struct acpi_sdt_header *rsdt)
{
	const u32 *entries = (const u32 *)(rsdt + 1);
	size_t count = (rsdt->length - SDT_HEADER_LENGTH) / sizeof(u32);

	for (size_t i = 0; i < count; i++) {
		const struct acpi_sdt_header *h = (const void *)(uintptr_t)entries[i];

		if (!memcmp(h->signature, "FACP", 4))
			return h;
	}
	return NULL;
}

static u32 read_u32_at(const void *base, size_t offset)
{
	u32 v;

	memcpy(&v, (const u8 *)base + offset, sizeof(v));
	return v;
}

static void check_pm_timer(const struct acpi_sdt_header *fadt)
{
	u32 port = read_u32_at(fadt, FADT_PM_TMR_BLK);
	u32 mask = read_u32_at(fadt, FADT_FLAGS) & FADT_TMR_VAL_EXT ? ~0u : PM_TIMER_MASK_24;
	u8 length = ((const u8 *)fadt)[FADT_PM_TMR_LEN];
	u32 t0, t1, t2;

	reportf(port != 0 && port <= 0xffff && length == PM_TIMER_LENGTH,
		"FADT PM timer block at port %#x, %u bytes", port, length);
	if (!port || port > 0xffff)
		return;
	t0 = inl((u16)port) & mask;
	for (int i = 0; i < PM_TIMER_SPIN; i++)
		asm volatile("pause");
	t1 = inl((u16)port) & mask;
	for (int i = 0; i < PM_TIMER_SPIN; i++)
		asm volatile("pause");
	t2 = inl((u16)port) & mask;
	reportf(((t1 - t0) & mask) > 0 && ((t2 - t1) & mask) > 0,
		"PM timer counts up (%#x, %#x, %#x)", t0, t1, t2);
}

static void check_acpi(void)
{
	const struct acpi_rsdp *rsdp = find_rsdp();
	const struct acpi_sdt_header *rsdt, *fadt;

	if (!report("ACPI RSDP found in 0xe0000-0xfffff with a valid checksum", rsdp))
		return;
	printf("platform: RSDP at %p, revision %u, RSDT at %#x\n", (const void *)rsdp,
	       rsdp->revision, rsdp->rsdt_address);
	rsdt = (const struct acpi_sdt_header *)(uintptr_t)rsdp->rsdt_address;
	if (!report("RSDT signature and checksum", sdt_valid(rsdt, "RSDT")))
		return;
	fadt = find_fadt(rsdt);
	if (!report("FADT listed in the RSDT", fadt))
		return;
	if (!report("FADT checksum", sdt_valid(fadt, "FACP")))
		return;
	check_pm_timer(fadt);
}

static void check_pic_masks(void)
{
	u8 old_master = inb(PIC_MASTER_DATA), old_slave = inb(PIC_SLAVE_DATA);
	u8 master, slave;

	outb(PIC_MASTER_DATA, 0xfb);
	outb(PIC_SLAVE_DATA, 0x5a);
	master = inb(PIC_MASTER_DATA);
	slave = inb(PIC_SLAVE_DATA);
	outb(PIC_MASTER_DATA, old_master);
	outb(PIC_SLAVE_DATA, old_slave);
	reportf(master == 0xfb && slave == 0x5a, "PIC mask round trip (read %#x and %#x)",
		master, slave);
}

static void check_pci(void)
{
	static const u32 addresses[] = {
		PCI_CONFIG_ENABLE,			/* 00:00.0, register 0 */
		PCI_CONFIG_ENABLE | (31u << 11),	/* 00:1f.0 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(addresses); i++) {
		u32 v;

		outl(PCI_CONFIG_ADDRESS, addresses[i]);
		v = inl(PCI_CONFIG_DATA);
		reportf(v == 0xffffffffu, "PCI config read at %#x is all-ones: no device (got %#x)",
			addresses[i], v);
	}
}

static void check_testdev_port(void)
{
	u32 l;
	u16 w;
	u8 b;

	outl(TESTDEV_SCRATCH_PORT, 0x12345678);
	l = inl(TESTDEV_SCRATCH_PORT);
	outw(TESTDEV_SCRATCH_PORT, 0xbeef);
	w = inw(TESTDEV_SCRATCH_PORT);
	outb(TESTDEV_SCRATCH_PORT, 0xa5);
	b = inb(TESTDEV_SCRATCH_PORT);
	reportf(l == 0x12345678 && w == 0xbeef && b == 0xa5,
		"pc-testdev scratch port round trip, 32/16/8-bit (read %#x, %#x, %#x)", l, w, b);
}

static u32 apic_read(unsigned reg)
{
	return mmio_read32(XAPIC_BASE + reg);
}

static void apic_write(unsigned reg, u32 v)
{
	mmio_write32(XAPIC_BASE + reg, v);
}

static void check_xapic(void)
{
	u32 id = apic_read(APIC_ID), version = apic_read(APIC_VERSION);
	u32 old_spiv = apic_read(APIC_SPIV), spiv;

	reportf(rdmsr(MSR_APIC_BASE) == (XAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP),
		"IA32_APIC_BASE is the enabled BSP's at %#x", XAPIC_BASE);
	reportf(id >> 24 == 0, "xAPIC ID is 0 (register %#x)", id);
	reportf((version & 0xf0) == 0x10 && ((version >> 16) & 0xff) >= 3,
		"xAPIC version is an integrated APIC's with at least 4 LVT entries (%#x)", version);
	apic_write(APIC_SPIV, APIC_SPIV_TEST);
	spiv = apic_read(APIC_SPIV);
	apic_write(APIC_SPIV, old_spiv);
	reportf(spiv == APIC_SPIV_TEST, "SPIV round trip (wrote %#x, read %#x)", APIC_SPIV_TEST,
		spiv);
	apic_write(APIC_ICR_HIGH, 0);
	apic_write(APIC_ICR_LOW, APIC_ICR_INIT_ALL_BUT_SELF);
	apic_write(APIC_ICR_LOW, APIC_ICR_SIPI_ALL_BUT_SELF | SIPI_VECTOR);
	reportf(!(apic_read(APIC_ICR_LOW) & APIC_ICR_BUSY),
		"INIT and SIPI broadcast to all but self: harmless, delivery status idle");
}

static void check_x2apic(void)
{
	u32 version = apic_read(APIC_VERSION);
	u64 x2_version, x2_id;

	if (!cpu_has_x2apic()) {
		report_skip("x2APIC: CPUID does not offer it");
		return;
	}
	apic_enter_x2apic();
	x2_version = rdmsr(MSR_X2APIC_VERSION);
	x2_id = rdmsr(MSR_X2APIC_ID);
	apic_return_to_xapic();
	reportf(x2_version == version, "x2APIC version MSR (0x803) matches the xAPIC register "
		"(%#lx, %#x)", x2_version, version);
	reportf(x2_id == 0, "x2APIC ID MSR (0x802) is 0 (got %#lx)", x2_id);
}

int main(const struct multiboot_info *mbi)
{
	check_fw_cfg(mbi);
	check_memory_map(mbi);
	check_acpi();
	check_pic_masks();
	check_pci();
	check_testdev_port();
	check_xapic();
	check_x2apic();
	exit_test();
}
