/* Unit tests of the virtual platform devices (drivers/v*.c) on a fake VM: guest RAM is a
 * local array, the VM's output and stop requests are recorded, accesses go through the
 * real buses (core/bus.c). Device state comes from the C library's allocator, so ASan
 * sees any access outside it (and LeakSanitizer any device not freed).
 * unit-sources: drivers/vplatform.c drivers/vregs.c drivers/vtime.c drivers/vioapic.c drivers/vpit.c drivers/vrtc.c drivers/vi8042.c drivers/vreset.c lib/time.c drivers/vuart.c drivers/vdebug_exit.c drivers/vpic.c drivers/vpmtimer.c drivers/vfw_cfg.c drivers/vpci.c drivers/vlapic.c drivers/vacpi.c drivers/vtestdev.c core/bus.c lib/page_alloc.c lib/bitmap.c lib/panic.c lib/log.c lib/printf.c lib/string.c
 */
#include <sanitizer/asan_interface.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "lib/slab.h"
#include "tests/unit/fake_vm.h"
#include "tests/unit/unit.h"

uintptr_t phys_virt_offset;
#define HOST_ARENA_BYTES MiB(16)
static u8 *host_arena;		/* the simulated host-physical memory */
u64 tsc_hz = 1000000000;	/* a nominal 1 GHz: the PM timer test measures in TSC ticks */

/* ---- The fake VM: what the devices call back into. ---- */

#define GUEST_RAM_BYTES MiB(1)	/* enough for the ACPI tables; ram_bytes says more */
static u8 guest_ram[GUEST_RAM_BYTES];

/* The host's wall clock, which the RTC starts from: a fixed moment, 2026-01-01 00:00 UTC. */
#define FAKE_HOST_EPOCH 1767225600ull

u64 rtc_host_epoch_seconds(void)
{
	return FAKE_HOST_EPOCH;
}

void *vm_gpa_to_hva(struct vm *v, u64 gpa, size_t len)
{
	if (gpa >= GUEST_RAM_BYTES || len > GUEST_RAM_BYTES - gpa)
		return NULL;
	return guest_ram + gpa;
}

bool vm_read_gpa(struct vm *v, u64 gpa, void *buf, size_t len)
{
	void *hva = vm_gpa_to_hva(v, gpa, len);

	if (hva)
		memcpy(buf, hva, len);
	return hva != NULL;
}

bool vm_write_gpa(struct vm *v, u64 gpa, const void *buf, size_t len)
{
	void *hva = vm_gpa_to_hva(v, gpa, len);

	if (hva)
		memcpy(hva, buf, len);
	return hva != NULL;
}

/* A fresh VM with its platform, as vm_create makes it. */
static void start_vm(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(guest_ram, 0, sizeof(guest_ram));
	strcpy(vm.name, "t1");
	vm.ram_bytes = MiB(32);
	console[0] = '\0';
	stop_reason[0] = '\0';
	stop_calls = 0;
	const char *error = vdev_platform_create(&vm);
	CHECK(error == NULL);
	if (error)
		fprintf(stderr, "vdev_platform_create: %s\n", error);
}

static void stop_vm(void)
{
	vdev_platform_destroy(&vm);
	CHECK(vm.devices == NULL);
}

static u64 in(u64 port, unsigned size)
{
	u64 value = 0;

	CHECK(io_bus_read(&vm.pio_bus, port, size, &value));
	return value;
}

static void out(u64 port, unsigned size, u64 value)
{
	CHECK(io_bus_write(&vm.pio_bus, port, size, value));
}

static u64 mmio_read(u64 gpa, unsigned size)
{
	u64 value = 0;

	CHECK(io_bus_read(&vm.mmio_bus, gpa, size, &value));
	return value;
}

static void mmio_write(u64 gpa, unsigned size, u64 value)
{
	CHECK(io_bus_write(&vm.mmio_bus, gpa, size, value));
}

static void out_string(const char *s)
{
	for (; *s; s++)
		out(VDEV_UART_PORT, 1, (u8)*s);
}

/* ---- UART ---- */

#define COM1_LCR (VDEV_UART_PORT + 3)
#define COM1_LSR (VDEV_UART_PORT + 5)

static void test_uart_output(void)
{
	start_vm();
	CHECK_EQ(in(COM1_LSR, 1), 0x60);	/* THRE | TEMT, no data ready */
	out_string("hello\r\nworld");
	CHECK_STR(console, "t1: hello\n");	/* "world" waits for its newline */
	out_string(" 100%s\n\n");
	CHECK_STR(console, "t1: hello\nt1: world 100%s\nt1: \n");

	console[0] = '\0';
	for (int i = 0; i < 170; i++)
		out(VDEV_UART_PORT, 1, 'a' + i % 26);
	CHECK_EQ(strlen(console), strlen("t1: \n") + 160);	/* a full buffer is a line */
	vuart_flush(&vm);
	CHECK_EQ(strlen(console), 2 * strlen("t1: \n") + 170);
	CHECK_STR(console + strlen(console) - 6, "jklmn\n");
	vuart_flush(&vm);				/* nothing pending: nothing printed */
	CHECK_EQ(strlen(console), 2 * strlen("t1: \n") + 170);

	out_string("bye");
	stop_vm();					/* destroying flushes too */
	CHECK_STR(console + strlen(console) - 8, "t1: bye\n");
}

static void test_uart_registers(void)
{
	start_vm();
	out(VDEV_UART_PORT + 7, 1, 0xa5);		/* scratch */
	CHECK_EQ(in(VDEV_UART_PORT + 7, 1), 0xa5);
	out(COM1_LCR, 1, 0x03);
	CHECK_EQ(in(COM1_LCR, 1), 0x03);
	out(VDEV_UART_PORT + 1, 1, 0x05);		/* IER */
	out(COM1_LCR, 1, 0x83);				/* DLAB: divisor latch */
	out(VDEV_UART_PORT, 1, 0x01);
	out(VDEV_UART_PORT + 1, 1, 0x02);
	CHECK_EQ(in(VDEV_UART_PORT, 1), 0x01);
	CHECK_EQ(in(VDEV_UART_PORT + 1, 1), 0x02);
	out(COM1_LCR, 1, 0x03);
	CHECK_EQ(in(VDEV_UART_PORT + 1, 1), 0x05);	/* IER untouched by DLM */
	CHECK_STR(console, "");				/* the DLL write sent nothing */

	CHECK_EQ(in(VDEV_UART_PORT + 2, 1), 0x01);	/* IIR: no interrupt */
	out(VDEV_UART_PORT + 2, 1, 0x07);		/* FCR: FIFOs on, clear both */
	CHECK_EQ(in(VDEV_UART_PORT + 2, 1), 0xc1);
	CHECK_EQ(in(COM1_LSR, 2), 0xb060);		/* LSR, then MSR: lines up */
	CHECK_EQ(in(VDEV_UART_PORT + 7, 2), 0xffa5);	/* the byte past the end reads 0xff */

	out(VDEV_UART_PORT + 4, 1, 0x1a);		/* loopback, OUT2, RTS */
	CHECK_EQ(in(VDEV_UART_PORT + 6, 1) & 0xf0, 0x90);	/* DCD, CTS */
	out(VDEV_PIC_MASTER_PORT, 1, 0x0a);		/* OCW3: read the IRR */
	CHECK_EQ(in(VDEV_PIC_MASTER_PORT, 1) & BIT(VDEV_IRQ_UART), 0);
	out_string("looped\n");
	CHECK_STR(console, "");				/* it went to the receiver */
	CHECK_EQ(in(COM1_LSR, 1), 0x61);		/* data ready */
	/* IER asked for it and OUT2 is set: IRQ 4 reached the PIC. */
	CHECK_EQ(in(VDEV_PIC_MASTER_PORT, 1) & BIT(VDEV_IRQ_UART), BIT(VDEV_IRQ_UART));
	CHECK(vm.vcpu.requests & VCPU_REQ_EVENTS);
	CHECK_EQ(in(VDEV_UART_PORT, 1), 'l');
	stop_vm();
}

/* ---- debug exit, PCI, PIC ---- */

static void test_debug_exit(void)
{
	start_vm();
	CHECK(vm.state == VM_RUNNING);
	out(VDEV_DEBUG_EXIT_PORT, 1, 0x103);		/* an 8-bit write keeps 8 bits */
	CHECK(vm.state == VM_STOPPED);
	CHECK_EQ(vm.exit_status, 3);
	CHECK_STR(stop_reason, "debug-exit port written: status 3");
	stop_vm();

	start_vm();
	out(VDEV_DEBUG_EXIT_PORT, 4, 0);
	CHECK(vm.state == VM_STOPPED);
	CHECK_EQ(vm.exit_status, 0);
	stop_vm();
}

static void test_pci(void)
{
	start_vm();
	out(0xcf8, 4, 0x80001234);
	CHECK_EQ(in(0xcf8, 4), 0x80001234);
	CHECK_EQ(in(0xcfc, 4), 0xffffffff);
	CHECK_EQ(in(0xcfe, 2), 0xffff);
	CHECK_EQ(in(0xcff, 1), 0xff);
	out(0xcfc, 4, 0);				/* ignored */
	CHECK_EQ(in(0xcfc, 4), 0xffffffff);
	out(0xcfb, 1, 0x01);				/* not the address register */
	CHECK_EQ(in(0xcf8, 4), 0x80001234);
	stop_vm();
}

static void init_pic(u64 port, u8 vector_base, u8 cascade)
{
	out(port, 1, 0x11);				/* ICW1: ICW4 follows, cascaded */
	CHECK_EQ(in(port + 1, 1), 0);			/* initialisation clears the mask */
	out(port + 1, 1, vector_base);			/* ICW2 */
	out(port + 1, 1, cascade);			/* ICW3 */
	out(port + 1, 1, 0x01);				/* ICW4: 8086 mode */
	CHECK_EQ(in(port + 1, 1), 0);			/* the ICWs were not masks */
}

static void test_pic(void)
{
	start_vm();
	init_pic(VDEV_PIC_MASTER_PORT, 0x20, 0x04);
	init_pic(VDEV_PIC_SLAVE_PORT, 0x28, 0x02);
	out(VDEV_PIC_MASTER_PORT + 1, 1, 0xfb);
	out(VDEV_PIC_SLAVE_PORT + 1, 1, 0xff);
	CHECK_EQ(in(VDEV_PIC_MASTER_PORT + 1, 1), 0xfb);
	CHECK_EQ(in(VDEV_PIC_SLAVE_PORT + 1, 1), 0xff);
	out(VDEV_PIC_MASTER_PORT, 1, 0x20);		/* OCW2: EOI, harmless */
	out(VDEV_PIC_MASTER_PORT, 1, 0x0b);		/* OCW3: read ISR */
	CHECK_EQ(in(VDEV_PIC_MASTER_PORT, 1), 0);
	CHECK_EQ(in(VDEV_PIC_MASTER_PORT + 1, 1), 0xfb);

	out(0x20, 1, 0x13);				/* ICW1: single, ICW4: no ICW3 */
	out(0x21, 1, 0x08);
	out(0x21, 1, 0x01);
	out(0x21, 1, 0x7e);
	CHECK_EQ(in(0x21, 1), 0x7e);

	out(VDEV_ELCR_PORT, 2, 0x0e20);
	CHECK_EQ(in(VDEV_ELCR_PORT, 2), 0x0e20);
	CHECK_EQ(in(VDEV_ELCR_PORT + 1, 1), 0x0e);
	stop_vm();
}

/* ---- ACPI PM timer and PM1 ---- */

#define PM_TIMER_HZ 3579545ull

static void test_pm_timer(void)
{
	start_vm();
	u64 a = in(VDEV_PM_TIMER_PORT, 4);
	u64 start = __builtin_ia32_rdtsc();
	while (__builtin_ia32_rdtsc() - start < tsc_hz / 1000)
		;
	u64 b = in(VDEV_PM_TIMER_PORT, 4);
	u64 elapsed = (b - a) & 0xffffff;
	CHECK(a <= 0xffffff && b <= 0xffffff);
	CHECK(elapsed >= PM_TIMER_HZ / 1000);		/* at least 1 ms of TSC ticks */
	CHECK(elapsed < 0x800000);			/* and well under half a wrap */
	for (int i = 0; i < 1000; i++) {
		u64 c = in(VDEV_PM_TIMER_PORT, 4);
		CHECK(((c - b) & 0xffffff) < 0x800000);	/* never goes back */
		b = c;
	}
	stop_vm();
}

#define PM1_SLP_EN 0x2000
#define PM1_SLP_TYP(t) ((t) << 10)

static void test_pm1(void)
{
	start_vm();
	CHECK_EQ(in(VDEV_PM1_EVENT_PORT, 2), 0);		/* no events */
	out(VDEV_PM1_EVENT_PORT + 2, 2, 0x0121);		/* enable bits */
	CHECK_EQ(in(VDEV_PM1_EVENT_PORT, 4), 0x01210000);
	CHECK_EQ(in(VDEV_PM1_CONTROL_PORT, 2), 1);		/* SCI_EN: in ACPI mode */
	out(VDEV_PM1_CONTROL_PORT, 2, 1 | PM1_SLP_TYP(1) | PM1_SLP_EN);	/* S1: ignored */
	CHECK(vm.state == VM_RUNNING);
	CHECK_EQ(in(VDEV_PM1_CONTROL_PORT, 2), 1 | PM1_SLP_TYP(1));	/* SLP_EN reads 0 */
	out(VDEV_PM1_CONTROL_PORT, 2, PM1_SLP_TYP(VDEV_ACPI_SLP_TYP_S5));	/* no SLP_EN */
	CHECK(vm.state == VM_RUNNING);
	out(VDEV_PM1_CONTROL_PORT, 2, PM1_SLP_TYP(VDEV_ACPI_SLP_TYP_S5) | PM1_SLP_EN);
	CHECK(vm.state == VM_STOPPED);
	CHECK_EQ(vm.exit_status, 0);
	CHECK_STR(stop_reason, "ACPI soft-off");
	stop_vm();
}

/* ---- fw_cfg ---- */

static void fw_cfg_select(u16 key)
{
	out(VDEV_FW_CFG_PORT, 2, key);
}

static void fw_cfg_read(void *buf, size_t len)
{
	u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (u8)in(VDEV_FW_CFG_PORT + 1, 1);
}

static u64 fw_cfg_read_le(u16 key, size_t len)
{
	u64 value = 0;

	fw_cfg_select(key);
	fw_cfg_read(&value, len);
	return value;
}

static void test_fw_cfg(void)
{
	char signature[5] = { 0 };
	u8 dir[4 + 64];
	struct guest_e820 map[3];

	start_vm();
	fw_cfg_select(0x0000);
	fw_cfg_read(signature, 4);
	CHECK_STR(signature, "QEMU");
	CHECK_EQ(in(VDEV_FW_CFG_PORT + 1, 1), 0);	/* past the end */
	fw_cfg_select(0x0000);
	CHECK_EQ(in(VDEV_FW_CFG_PORT + 1, 4), 0x554d4551);	/* wide reads: bytes in order */
	CHECK_EQ(fw_cfg_read_le(0x0001, 4), 1);
	CHECK_EQ(fw_cfg_read_le(0x0003, 8), MiB(32));
	CHECK_EQ(fw_cfg_read_le(0x0005, 2), 1);
	CHECK_EQ(fw_cfg_read_le(0x000f, 2), 1);
	CHECK_EQ(fw_cfg_read_le(0x000d, 8), 0);
	CHECK_EQ(fw_cfg_read_le(0x1234, 8), 0);		/* no such item */
	CHECK_EQ(fw_cfg_read_le(0x4003, 8), MiB(32));	/* write-channel bit: same item */

	fw_cfg_select(0x0019);
	fw_cfg_read(dir, sizeof(dir));
	CHECK(memcmp(dir, "\0\0\0\1", 4) == 0);		/* one file, big-endian */
	CHECK(memcmp(dir + 4, "\0\0\0\x3c\0\x20", 6) == 0);	/* 60 bytes at key 0x20 */
	CHECK_STR((char *)dir + 12, "etc/e820");

	fw_cfg_select(0x0020);
	fw_cfg_read(map, sizeof(map));
	CHECK(map[0].addr == 0 && map[0].length == 0x9fc00 && map[0].type == 1);
	CHECK(map[1].addr == 0x9fc00 && map[1].length == 0x60400 && map[1].type == 2);
	CHECK(map[2].addr == MiB(1) && map[2].length == MiB(31) && map[2].type == 1);

	CHECK_EQ(fw_cfg_read_le(0x8003, 4), 1);		/* reservations only */
	fw_cfg_read(map, sizeof(map[0]));
	CHECK(map[0].addr == 0x9fc00 && map[0].length == 0x60400 && map[0].type == 2);

	fw_cfg_select(0x0000);
	out(VDEV_FW_CFG_PORT, 1, 0x03);			/* a byte write is a data write */
	CHECK_EQ(in(VDEV_FW_CFG_PORT + 1, 1), 'Q');
	stop_vm();
}

/* ---- ACPI tables ---- */

static bool checksum_ok(const void *table, size_t len)
{
	const u8 *p = table;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

static u32 le32_at(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u64 le64_at(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* The table at gpa, if its whole length is in the ACPI area and its checksum is right. */
static const u8 *acpi_table(u64 gpa, const char *signature)
{
	if (gpa < VDEV_ACPI_RSDP_GPA || gpa + 36 > VDEV_ACPI_AREA_END)
		return NULL;
	const u8 *t = guest_ram + gpa;
	u32 length = le32_at(t + 4);
	if (memcmp(t, signature, 4) != 0 || gpa + length > VDEV_ACPI_AREA_END)
		return NULL;
	return checksum_ok(t, length) ? t : NULL;
}

static const u8 *find_rsdp(void)
{
	for (u64 gpa = 0xe0000; gpa < 0x100000; gpa += 16)
		if (memcmp(guest_ram + gpa, "RSD PTR ", 8) == 0)
			return guest_ram + gpa;
	return NULL;
}

static void check_fadt(const u8 *fadt)
{
	CHECK(fadt[8] >= 3);				/* revision */
	CHECK_EQ(le32_at(fadt + 76), 0x608);		/* PM_TMR_BLK */
	CHECK_EQ(fadt[91], 4);				/* PM_TMR_LEN */
	CHECK_EQ(le32_at(fadt + 56), 0x600);		/* PM1a_EVT_BLK */
	CHECK_EQ(fadt[88], 4);
	CHECK_EQ(le32_at(fadt + 64), 0x604);		/* PM1a_CNT_BLK */
	CHECK_EQ(fadt[89], 2);
	CHECK_EQ(le32_at(fadt + 46) & 0xffff, 9);	/* SCI_INT */
	CHECK_EQ(le32_at(fadt + 112) & BIT(8), 0);	/* 24-bit timer */
	CHECK_EQ(le64_at(fadt + 208 + 4), 0x608);	/* X_PM_TMR_BLK address */
	CHECK_EQ(fadt[208], 1);				/* in system I/O space */
	CHECK_EQ(le64_at(fadt + 140), le32_at(fadt + 40));	/* X_DSDT == DSDT */

	const u8 *dsdt = acpi_table(le32_at(fadt + 40), "DSDT");
	CHECK(dsdt != NULL);
	if (!dsdt)
		return;
	u32 length = le32_at(dsdt + 4);
	const u8 *s5 = NULL;
	for (u32 i = 36; i + 9 <= length && !s5; i++)
		if (memcmp(dsdt + i, "_S5_", 4) == 0)
			s5 = dsdt + i;
	CHECK(s5 != NULL);
	if (s5) {
		CHECK_EQ(s5[-1], 0x08);			/* NameOp */
		CHECK_EQ(s5[4], 0x12);			/* PackageOp */
		CHECK(s5[6] == 4 && s5[7] == 0x0a);	/* 4 elements, the first a byte */
		CHECK_EQ(s5[8], VDEV_ACPI_SLP_TYP_S5);
	}
}

/* One enabled local APIC (ID 0), one I/O APIC at 0xfec00000 from GSI 0, and the overrides
 * of IRQ 0 (to GSI 2, edge) and IRQ 9 (the SCI, level, active high). */
static void check_madt(const u8 *madt)
{
	u32 length = le32_at(madt + 4);
	int local_apics = 0, io_apics = 0, overrides = 0;

	CHECK_EQ(le32_at(madt + 36), 0xfee00000);
	CHECK_EQ(le32_at(madt + 40) & 1, 1);		/* PCAT_COMPAT */
	for (u32 off = 44; off + 2 <= length && madt[off + 1] >= 2; off += madt[off + 1]) {
		const u8 *e = madt + off;
		switch (e[0]) {
		case 0:
			local_apics++;
			CHECK_EQ(e[3], 0);			/* APIC ID */
			CHECK_EQ(le32_at(e + 4) & 1, 1);	/* enabled */
			break;
		case 1:
			io_apics++;
			CHECK_EQ(e[1], 12);
			CHECK_EQ(le32_at(e + 4), 0xfec00000);
			CHECK_EQ(le32_at(e + 8), 0);		/* GSI base */
			break;
		case 2:
			overrides++;
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0);			/* ISA */
			CHECK_EQ(le32_at(e + 4), e[3] == 0 ? 2 : e[3]);
			CHECK_EQ(e[8], e[3] == 9 ? 0xd : 0x5);
			break;
		}
	}
	CHECK_EQ(local_apics, 1);
	CHECK_EQ(io_apics, 1);
	CHECK_EQ(overrides, 2);
}

static void test_acpi(void)
{
	start_vm();
	const u8 *rsdp = find_rsdp();
	CHECK(rsdp != NULL);
	if (!rsdp) {
		stop_vm();
		return;
	}
	CHECK(checksum_ok(rsdp, 20));
	CHECK_EQ(rsdp[15], 2);				/* revision */
	CHECK_EQ(le32_at(rsdp + 20), 36);
	CHECK(checksum_ok(rsdp, 36));

	const u8 *rsdt = acpi_table(le32_at(rsdp + 16), "RSDT");
	const u8 *xsdt = acpi_table(le64_at(rsdp + 24), "XSDT");
	CHECK(rsdt != NULL && xsdt != NULL);
	if (rsdt && xsdt) {
		u32 n = (le32_at(rsdt + 4) - 36) / 4;
		CHECK_EQ(n, 2);
		CHECK_EQ((le32_at(xsdt + 4) - 36) / 8, n);
		const u8 *fadt = NULL, *madt = NULL;
		for (u32 i = 0; i < n; i++) {
			u32 gpa = le32_at(rsdt + 36 + 4 * i);
			CHECK_EQ(le64_at(xsdt + 36 + 8 * i), gpa);
			fadt = fadt ? fadt : acpi_table(gpa, "FACP");
			madt = madt ? madt : acpi_table(gpa, "APIC");
		}
		CHECK(fadt != NULL && madt != NULL);
		if (fadt)
			check_fadt(fadt);
		if (madt)
			check_madt(madt);
	}
	stop_vm();
}

/* ---- test devices ---- */

/* The host copy of the pc-testdev region: the naturally aligned block starting with
 * pattern (written there through the device). */
static u8 *find_testdev_memory(u64 pattern)
{
	for (u64 off = 0; off < HOST_ARENA_BYTES; off += VDEV_PC_TESTDEV_MMIO_BYTES)
		if (memcmp(host_arena + off, &pattern, sizeof(pattern)) == 0)
			return host_arena + off;
	return NULL;
}

static void test_pc_testdev(void)
{
	const u64 mem = VDEV_PC_TESTDEV_MMIO_GPA;
	const u64 pattern = 0x5453455456454456ull;

	start_vm();
	out(0xe0, 4, 0x12345678);
	CHECK_EQ(in(0xe1, 1), 0x56);
	out(0xe2, 2, 0xabcd);
	CHECK_EQ(in(0xe0, 4), 0xabcd5678);
	CHECK_EQ(in(0xe3, 1), 0xab);
	out(0xe4, 4, 0x1000);				/* flush page: accepted */
	out(0x2000 + 5, 1, 1);				/* IRQ line: accepted */

	mmio_write(mem, 8, 0x0102030405060708ull);
	CHECK_EQ(mmio_read(mem, 1), 0x08);
	CHECK_EQ(mmio_read(mem + 3, 2), 0x0405);
	CHECK_EQ(mmio_read(mem + 1, 4), 0x04050607);
	CHECK_EQ(mmio_read(mem, 8), 0x0102030405060708ull);
	mmio_write(mem + 0x1235, 4, 0xcafef00d);	/* unaligned */
	CHECK_EQ(mmio_read(mem + 0x1236, 2), 0xfef0);
	CHECK_EQ(mmio_read(mem + 0x1234, 8), 0xcafef00d00ull);

	/* Accesses running past the end are clipped: ASan guards the bytes just after. */
	mmio_write(mem, 8, pattern);
	u8 *region = find_testdev_memory(pattern);
	CHECK(region != NULL);
	if (region)
		ASAN_POISON_MEMORY_REGION(region + VDEV_PC_TESTDEV_MMIO_BYTES, 8);
	mmio_write(mem + 0xfffc, 4, 0xdeadbeef);
	CHECK_EQ(mmio_read(mem + 0xfffc, 8), 0xdeadbeef);
	mmio_write(mem + 0xffff, 8, ~0ull);		/* only the last byte lands */
	CHECK_EQ(mmio_read(mem + 0xfffc, 4), 0xffadbeef);
	if (region)
		ASAN_UNPOISON_MEMORY_REGION(region + VDEV_PC_TESTDEV_MMIO_BYTES, 8);
	stop_vm();
}

static u64 doorbells(void)
{
	return vm.stats.counters[HC_STAT_TESTDEV_DOORBELL];
}

static u64 last_doorbell_value(void)
{
	return vm.stats.counters[HC_STAT_TESTDEV_LAST_VALUE];
}

static void test_vireo_testdev(void)
{
	const u64 base = VDEV_TESTDEV_GPA;

	start_vm();
	struct doorbell *bell = fast_mmio_find(&vm.fast_mmio_bus, base + VDEV_TESTDEV_DOORBELL);
	struct doorbell *match = fast_mmio_find(&vm.fast_mmio_bus, base + VDEV_TESTDEV_DOORBELL_MATCH);
	CHECK(bell && !bell->match_value);
	CHECK(match && match->match_value && match->value == VDEV_TESTDEV_MATCH_VALUE);
	if (!bell || !match) {
		stop_vm();
		return;
	}
	bell->signal(bell, 7, true);
	CHECK(doorbells() == 1 && last_doorbell_value() == 7);
	bell->signal(bell, 0, false);			/* the fast path: value unknown */
	CHECK(doorbells() == 2 && last_doorbell_value() == 7);
	mmio_write(base + VDEV_TESTDEV_DOORBELL, 4, 9);	/* through the MMIO bus: the same */
	CHECK(doorbells() == 3 && last_doorbell_value() == 9);
	mmio_write(base + VDEV_TESTDEV_DOORBELL + 1, 1, 9);	/* not the doorbell's address */
	CHECK_EQ(doorbells(), 3);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_COUNT, 8), 3);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_COUNT, 4), 3);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_DOORBELL, 8), 0);	/* write-only */

	match->signal(match, VDEV_TESTDEV_MATCH_VALUE, true);
	mmio_write(base + VDEV_TESTDEV_DOORBELL_MATCH, 1, VDEV_TESTDEV_MATCH_VALUE);
	mmio_write(base + VDEV_TESTDEV_DOORBELL_MATCH, 4, 0x11);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_MATCH_COUNT, 8), 2);
	CHECK_EQ(doorbells(), 3);
	mmio_write(base + VDEV_TESTDEV_COUNT, 8, 100);	/* read-only */
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_COUNT, 8), 3);

	mmio_write(base + VDEV_TESTDEV_SCRATCH, 8, 0x1122334455667788ull);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_SCRATCH, 8), 0x1122334455667788ull);
	mmio_write(base + VDEV_TESTDEV_SCRATCH + 2, 2, 0xabcd);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_SCRATCH, 8), 0x11223344abcd7788ull);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_SCRATCH + 4, 4), 0x11223344);
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_SCRATCH + 6, 4), 0x1122);	/* stops at its end */
	mmio_write(base + VDEV_TESTDEV_SCRATCH + 7, 8, 0xffff);	/* clipped to one byte */
	CHECK_EQ(mmio_read(base + VDEV_TESTDEV_SCRATCH, 8), 0xff223344abcd7788ull);
	CHECK_EQ(mmio_read(base + 0x800, 8), 0);
	stop_vm();
}

/* ---- local APIC ---- */

#define APIC_REG(offset) (VDEV_LAPIC_GPA + (offset))
/* IA32_APIC_BASE as vm/vcpu.c resets it (enabled BSP xAPIC), and in x2APIC mode: the
 * mode decides which interface answers (SDM Vol. 3A 11.12.1). */
#define APIC_BASE_XAPIC 0xfee00900ull
#define APIC_BASE_X2APIC (APIC_BASE_XAPIC | BIT(10))

static void test_lapic_xapic(void)
{
	start_vm();
	vm.vcpu.apic_base = APIC_BASE_XAPIC;
	CHECK_EQ(mmio_read(APIC_REG(0x20), 4), 0);		/* ID */
	CHECK_EQ(mmio_read(APIC_REG(0x30), 4), 0x50014);	/* version */
	CHECK_EQ(mmio_read(APIC_REG(0x32), 1), 0x05);		/* a byte of it */
	CHECK_EQ(mmio_read(APIC_REG(0x34), 4), 0);		/* between registers */
	CHECK_EQ(mmio_read(APIC_REG(0xf0), 4), 0xff);		/* SPIV at reset */
	CHECK_EQ(mmio_read(APIC_REG(0x320), 4), 0x10000);	/* LVT timer masked */
	mmio_write(APIC_REG(0x320), 4, 0x20);			/* still software-disabled */
	CHECK_EQ(mmio_read(APIC_REG(0x320), 4), 0x10020);
	mmio_write(APIC_REG(0xf0), 4, 0x1ff);
	CHECK_EQ(mmio_read(APIC_REG(0xf0), 4), 0x1ff);
	mmio_write(APIC_REG(0x320), 4, 0x20);
	CHECK_EQ(mmio_read(APIC_REG(0x320), 4), 0x20);
	mmio_write(APIC_REG(0x80), 4, 0x30);			/* TPR */
	CHECK_EQ(mmio_read(APIC_REG(0x80), 4), 0x30);
	CHECK_EQ(mmio_read(APIC_REG(0xa0), 4), 0x30);		/* PPR follows */
	mmio_write(APIC_REG(0xe0), 4, 0);			/* DFR: cluster model */
	CHECK_EQ(mmio_read(APIC_REG(0xe0), 4), 0x0fffffff);
	mmio_write(APIC_REG(0xd0), 4, 0x01000000);		/* LDR */
	CHECK_EQ(mmio_read(APIC_REG(0xd0), 4), 0x01000000);
	mmio_write(APIC_REG(0xb0), 4, 0);			/* EOI: nothing in service */
	mmio_write(APIC_REG(0x380), 4, 1000000);		/* timer initial count */
	CHECK_EQ(mmio_read(APIC_REG(0x380), 4), 1000000);
	CHECK(mmio_read(APIC_REG(0x390), 4) <= 1000000);	/* counts down */

	/* INIT then SIPI to all excluding self: recorded, delivery status always 0. */
	mmio_write(APIC_REG(0x310), 4, 0);
	mmio_write(APIC_REG(0x300), 4, 0x000c4500);
	CHECK_EQ(mmio_read(APIC_REG(0x300), 4), 0x000c4500);
	mmio_write(APIC_REG(0x300), 4, 0x000c1608);		/* SIPI, status bit set */
	CHECK_EQ(mmio_read(APIC_REG(0x300), 4), 0x000c0608);
	CHECK(vm.state == VM_RUNNING);

	mmio_write(APIC_REG(0xf0), 4, 0xff);			/* software-disable */
	CHECK_EQ(mmio_read(APIC_REG(0x320), 4), 0x10020);	/* masks every LVT */
	mmio_write(APIC_REG(0x82), 2, 0xff);			/* not 32-bit aligned: dropped */
	CHECK_EQ(mmio_read(APIC_REG(0x80), 4), 0x30);
	stop_vm();
}

static u64 x2apic_read(u32 offset)
{
	u64 value = ~0ull;

	CHECK(vlapic_read(&vm, offset, &value));
	return value;
}

static void test_lapic_x2apic(void)
{
	u64 value;

	CHECK(!vlapic_read(&vm, 0x30, &value));		/* no platform: #GP */
	CHECK(!vlapic_write(&vm, 0x80, 1));
	start_vm();
	CHECK(!vlapic_read(&vm, 0x30, &value));		/* xAPIC mode: #GP */
	vm.vcpu.apic_base = APIC_BASE_X2APIC;
	CHECK_EQ(x2apic_read(0x30), 0x50014);
	CHECK_EQ(x2apic_read(0x20), 0);
	CHECK(vlapic_write(&vm, 0x300, 0x0000000300004000ull | 0x0fd));	/* IPI to x2APIC 3 */
	CHECK_EQ(x2apic_read(0x300), 0x00000003000040fdull);
	CHECK(vlapic_write(&vm, 0x80, 0x34));
	CHECK_EQ(x2apic_read(0x80), 0x34);
	stop_vm();
}

/* ---- the platform ---- */

static void test_platform(void)
{
	struct guest_e820 map[4];

	memset(&vm, 0, sizeof(vm));
	vm.ram_bytes = KiB(512);
	CHECK(vdev_platform_create(&vm) != NULL);		/* too small for the layout */
	CHECK(vm.devices == NULL);
	vuart_flush(&vm);					/* safe without devices */
	vdev_platform_destroy(&vm);

	vm.ram_bytes = MiB(64);
	CHECK_EQ(vdev_guest_memory_map(&vm, map, ARRAY_SIZE(map)), 3);
	CHECK(map[2].addr == MiB(1) && map[2].length == MiB(63));
	CHECK_EQ(vdev_guest_memory_map(&vm, map, 1), 1);
	vm.ram_bytes = MiB(1);
	CHECK_EQ(vdev_guest_memory_map(&vm, map, ARRAY_SIZE(map)), 2);

	u64 saved = tsc_hz;
	tsc_hz = 0;
	memset(&vm, 0, sizeof(vm));
	vm.ram_bytes = MiB(8);
	CHECK(vdev_platform_create(&vm) != NULL);		/* no PM timer without a TSC rate */
	CHECK(vm.devices == NULL);
	tsc_hz = saved;

	/* A second platform on the same buses: its ranges are taken, and it cleans up. */
	static struct vm other;
	start_vm();
	/* MMIO: the local APIC, the I/O APIC, pc-testdev and the Vireo test device. */
	CHECK(vm.pio_bus.count > 0 && vm.mmio_bus.count == 4 && vm.fast_mmio_bus.count == 2);
	other = vm;
	other.devices = NULL;
	CHECK(vdev_platform_create(&other) != NULL);
	CHECK(other.devices == NULL);
	stop_vm();
	vdev_platform_destroy(&vm);				/* twice is harmless */
}

/* Every device, every offset near its start and end, every size, odd values: nothing
 * may crash or touch memory it does not own (ASan watches). */
static void poke_device(struct io_device *dev)
{
	static const u64 values[] = { 0, 0xff, 0x5a, 0x2000 | (5 << 10), ~0ull, 0x8000000000000001ull };
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	u64 last = dev->length + 16;

	for (u64 off = 0; off < last; off++) {
		if (off == 64 && dev->length > 80)
			off = dev->length - 16;
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
				dev->ops->write(dev, off, sizes[s], values[v]);
				(void)dev->ops->read(dev, off, sizes[s]);
			}
		}
	}
}

static void test_any_access_is_safe(void)
{
	start_vm();
	vm.vcpu.apic_base = APIC_BASE_XAPIC;		/* the local APIC page answers */
	for (size_t i = 0; i < vm.pio_bus.count; i++)
		poke_device(vm.pio_bus.devices[i]);
	for (size_t i = 0; i < vm.mmio_bus.count; i++)
		poke_device(vm.mmio_bus.devices[i]);
	for (size_t i = 0; i < vm.fast_mmio_bus.count; i++) {
		struct doorbell *bell = vm.fast_mmio_bus.doorbells[i];
		bell->signal(bell, ~0ull, true);
		bell->signal(bell, 0, false);
	}
	vm.vcpu.apic_base = APIC_BASE_X2APIC;		/* and now its MSRs */
	for (u32 offset = 0; offset < 0x2000; offset++) {
		u64 value;
		(void)vlapic_write(&vm, offset, ~0ull);
		(void)vlapic_read(&vm, offset, &value);
	}
	CHECK(vm.state == VM_STOPPED);			/* debug exit and S5 were hit */
	CHECK(stop_calls > 1);
	stop_vm();
}

/* fast_mmio_page_has_doorbell(): true on every byte of a doorbell's page, false on the
 * pages around it and on a page whose filter bit a doorbell's page shares (the list decides). */
static void test_doorbell_pages(void)
{
	struct fast_mmio_bus bus = { 0 };
	struct doorbell bells[2] = { { .gpa = 0xfee01008 }, { .gpa = 0xc0000000 } };
	CHECK(!fast_mmio_page_has_doorbell(&bus, bells[0].gpa));
	for (size_t i = 0; i < ARRAY_SIZE(bells); i++)
		CHECK(fast_mmio_register(&bus, &bells[i]));
	CHECK(!fast_mmio_register(&bus, &bells[0]));		/* taken */
	u64 page = bells[0].gpa & ~(u64)(PAGE_SIZE - 1);
	CHECK(fast_mmio_page_has_doorbell(&bus, page));
	CHECK(fast_mmio_page_has_doorbell(&bus, page + PAGE_SIZE - 1));
	CHECK(fast_mmio_page_has_doorbell(&bus, bells[1].gpa + 0x800));
	CHECK(!fast_mmio_page_has_doorbell(&bus, page - 1));
	CHECK(!fast_mmio_page_has_doorbell(&bus, page + PAGE_SIZE));
	u64 sharing = page + PAGE_SIZE;
	while (fast_mmio_page_bit(sharing) != fast_mmio_page_bit(page))
		sharing += PAGE_SIZE;
	CHECK(!fast_mmio_page_has_doorbell(&bus, sharing));
}

static void console_to_stderr(const char *s, size_t len)
{
	if (getenv("VDEV_TEST_LOG"))
		fwrite(s, 1, len, stderr);
}

static const struct mem_range test_host_ram[] = { { MiB(1), HOST_ARENA_BYTES } };

int main(void)
{
	host_arena = mmap(NULL, HOST_ARENA_BYTES, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (host_arena == MAP_FAILED)
		return 1;
	phys_virt_offset = (uintptr_t)host_arena;
	console_register(console_to_stderr);
	log_level = LOG_DEBUG;				/* exercise the debug lines too */
	CHECK(page_alloc_init(test_host_ram, ARRAY_SIZE(test_host_ram), NULL, 0) == NULL);
	u64 free_before = page_alloc_free_pages();

	test_uart_output();
	test_uart_registers();
	test_debug_exit();
	test_pci();
	test_pic();
	test_pm_timer();
	test_pm1();
	test_fw_cfg();
	test_acpi();
	test_pc_testdev();
	test_vireo_testdev();
	test_lapic_xapic();
	test_lapic_x2apic();
	test_platform();
	test_any_access_is_safe();
	test_doorbell_pages();
	CHECK_EQ(page_alloc_free_pages(), free_before);	/* the 64 KiB regions came back */
	return unit_done("vdev");
}
