/* Unit tests of the local APIC model (drivers/vlapic.c) against Intel SDM Vol. 3A
 * chapter 11: priorities, acceptance and EOI, IPIs, destinations, the timer in its three
 * modes, the x2APIC MSR rules and the error status register.
 * unit-sources: drivers/vlapic.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

#define BASE_XAPIC 0xfee00900ull	/* IA32_APIC_BASE: enabled BSP at 0xfee00000 */
#define BASE_X2APIC (BASE_XAPIC | 0x400)
#define BASE_DISABLED 0xfee00100ull	/* bit 11 clear */

#define ID 0x020
#define VERSION 0x030
#define TPR 0x080
#define PPR 0x0a0
#define EOI 0x0b0
#define LDR 0x0d0
#define DFR 0x0e0
#define SPIV 0x0f0
#define ISR 0x100
#define TMR 0x180
#define IRR 0x200
#define ESR 0x280
#define ICR 0x300
#define ICR_HIGH 0x310
#define LVT_TIMER 0x320
#define LVT_THERMAL 0x330
#define LVT_PERF 0x340
#define LVT_LINT0 0x350
#define LVT_LINT1 0x360
#define LVT_ERROR 0x370
#define TIMER_INITIAL 0x380
#define TIMER_CURRENT 0x390
#define TIMER_DIVIDE 0x3e0
#define SELF_IPI 0x3f0

#define MASKED 0x10000
#define SPIV_ENABLED 0x1ff
#define SHORTHAND_SELF (1 << 18)
#define SHORTHAND_ALL (2 << 18)
#define SHORTHAND_OTHERS (3 << 18)
#define ICR_LOGICAL (1 << 11)
#define ICR_NMI (4 << 8)
#define ICR_INIT (5 << 8)
#define TIMER_PERIODIC (1 << 17)
#define TIMER_TSC_DEADLINE (2 << 17)
#define DIVIDE_BY_1 0xb

static struct vlapic *lapic;

static void setup(u64 apic_base)
{
	fake_platform_reset();
	vm.vcpu.apic_base = apic_base;
	lapic = vlapic_create(&vm);
	CHECK(lapic != NULL);
}

static void teardown(void)
{
	vlapic_destroy(lapic);
	lapic = NULL;
}

static u32 rd(u32 offset)
{
	return (u32)mmio_in(VDEV_LAPIC_GPA + offset, 4);
}

static void wr(u32 offset, u32 value)
{
	mmio_out(VDEV_LAPIC_GPA + offset, 4, value);
}

static u64 msr_rd(u32 offset)
{
	u64 value = ~0ull;

	CHECK(vlapic_msr_read(lapic, offset, &value));
	return value;
}

static bool msr_readable(u32 offset)
{
	u64 value;

	return vlapic_msr_read(lapic, offset, &value);
}

/* Whether vector's bit is set in the 256-bit register set at base (xAPIC view). */
static bool vector_bit(u32 base, unsigned vector)
{
	return rd(base + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

static void accept(u8 vector)
{
	vlapic_accept_fixed(lapic, vector, false);
}

/* The vCPU takes the pending vector, as the platform does when it injects it. */
static int take(void)
{
	int vector = vlapic_pending_vector(lapic);

	if (vector >= 0)
		vlapic_acknowledge(lapic, (u8)vector);
	return vector;
}

/* Takes the pending vector and ends it (EOI), as an interrupt handler does. */
static int take_and_end(void)
{
	int vector = take();

	wr(EOI, 0);
	return vector;
}

static struct vtimer *apic_vtimer(void)
{
	return vm.timers.timer[0];
}

static void test_reset_state(void)
{
	setup(BASE_XAPIC);
	CHECK_EQ(rd(ID), 0);
	CHECK_EQ(rd(VERSION), 0x50014);			/* 6 LVT entries, no EOI suppression */
	CHECK_EQ(mmio_in(VDEV_LAPIC_GPA + VERSION + 2, 1), 0x05);
	CHECK_EQ(mmio_in(VDEV_LAPIC_GPA + VERSION + 4, 4), 0);	/* past the register */
	CHECK_EQ(rd(TPR), 0);
	CHECK_EQ(rd(PPR), 0);
	CHECK_EQ(rd(LDR), 0);
	CHECK_EQ(rd(DFR), 0xffffffff);
	CHECK_EQ(rd(SPIV), 0xff);
	CHECK_EQ(rd(ESR), 0);
	CHECK_EQ(rd(LVT_TIMER), MASKED);
	CHECK_EQ(rd(LVT_THERMAL), MASKED);
	CHECK_EQ(rd(LVT_PERF), MASKED);
	CHECK_EQ(rd(LVT_LINT0), 0x700);			/* virtual wire: ExtINT */
	CHECK_EQ(rd(LVT_LINT1), 0x400);			/* NMI */
	CHECK_EQ(rd(LVT_ERROR), MASKED);
	CHECK_EQ(rd(TIMER_INITIAL), 0);
	CHECK_EQ(rd(TIMER_CURRENT), 0);
	CHECK_EQ(rd(TIMER_DIVIDE), 0);
	CHECK_EQ(rd(ISR) | rd(TMR + 0x70) | rd(IRR + 0x30), 0);
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	CHECK_EQ(vm.timers.count, 1);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	teardown();
}

static void test_writable_bits(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, 0xffffffff);
	CHECK_EQ(rd(SPIV), 0x3ff);			/* no EOI-broadcast suppression */
	wr(TPR, 0xffffffff);
	CHECK_EQ(rd(TPR), 0xff);
	wr(TPR, 0);
	wr(DFR, 0);
	CHECK_EQ(rd(DFR), 0x0fffffff);			/* cluster model */
	wr(LDR, 0xffffffff);
	CHECK_EQ(rd(LDR), 0xff000000);
	wr(ID, 0x05000000);
	CHECK_EQ(rd(ID), 0);				/* fixed */
	wr(VERSION, 0);
	CHECK_EQ(rd(VERSION), 0x50014);
	wr(ICR_HIGH, 0xffffffff);
	CHECK_EQ(rd(ICR_HIGH), 0xff000000);
	wr(LVT_THERMAL, 0xffffffff);
	CHECK_EQ(rd(LVT_THERMAL), 0x107ff);
	wr(LVT_PERF, 0xffffffff);
	CHECK_EQ(rd(LVT_PERF), 0x107ff);
	wr(LVT_LINT0, 0xffffffff);			/* no delivery status, no remote IRR */
	CHECK_EQ(rd(LVT_LINT0), 0x1a7ff);
	wr(LVT_LINT1, 0xffffffff);
	CHECK_EQ(rd(LVT_LINT1), 0x1a7ff);
	wr(LVT_ERROR, 0xffffffff);
	CHECK_EQ(rd(LVT_ERROR), 0x100ff);
	wr(TIMER_DIVIDE, 0xffffffff);
	CHECK_EQ(rd(TIMER_DIVIDE), 0xb);
	mmio_out(VDEV_LAPIC_GPA + TPR + 1, 1, 0x40);	/* not an aligned dword: dropped */
	CHECK_EQ(rd(TPR), 0);
	teardown();
}

static void test_priority(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	accept(0x45);
	accept(0x32);
	accept(0x91);
	CHECK(vector_bit(IRR, 0x45) && vector_bit(IRR, 0x32) && vector_bit(IRR, 0x91));
	CHECK_EQ(take(), 0x91);
	CHECK(vector_bit(ISR, 0x91));
	CHECK(!vector_bit(IRR, 0x91));
	CHECK_EQ(rd(PPR), 0x90);			/* the class in service */
	CHECK_EQ(vlapic_pending_vector(lapic), -1);	/* 0x45 is below it */
	wr(EOI, 0);
	CHECK(!vector_bit(ISR, 0x91));
	CHECK_EQ(rd(PPR), 0);
	wr(TPR, 0x50);
	CHECK_EQ(rd(PPR), 0x50);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	wr(TPR, 0x4f);					/* the same class is not above it */
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	wr(TPR, 0x3f);
	CHECK_EQ(vlapic_pending_vector(lapic), 0x45);
	CHECK_EQ(take(), 0x45);
	CHECK_EQ(rd(PPR), 0x40);			/* class 4 in service > TPR class 3 */
	wr(TPR, 0x4f);
	CHECK_EQ(rd(PPR), 0x4f);			/* TPR class >= in service: the TPR */
	wr(TPR, 0);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);	/* 0x32 is below 0x45 in service */
	wr(EOI, 0);
	CHECK_EQ(take(), 0x32);
	vlapic_acknowledge(lapic, 0x77);		/* not requested: nothing moves */
	CHECK(!vector_bit(ISR, 0x77));
	teardown();
}

static void test_nested_eoi(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	accept(0x30);
	CHECK_EQ(take(), 0x30);
	accept(0x80);
	CHECK_EQ(take(), 0x80);				/* nests above 0x30 */
	accept(0x31);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	CHECK(vector_bit(ISR, 0x30) && vector_bit(ISR, 0x80));
	wr(EOI, 0);					/* ends the highest: 0x80 */
	CHECK(!vector_bit(ISR, 0x80));
	CHECK(vector_bit(ISR, 0x30));
	CHECK_EQ(rd(PPR), 0x30);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);	/* 0x31: same class as 0x30 */
	wr(EOI, 0);
	CHECK(!vector_bit(ISR, 0x30));
	CHECK_EQ(take(), 0x31);
	wr(EOI, 0);
	wr(EOI, 0);					/* nothing in service: harmless */
	CHECK_EQ(rd(ISR + 0x10), 0);
	CHECK_EQ(eoi_count, 0);				/* all edge-triggered */
	accept(0x50);
	accept(0x50);					/* coalesced */
	CHECK_EQ(take(), 0x50);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	teardown();
}

static void test_level_eoi(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	vlapic_accept_fixed(lapic, 0x61, true);
	vlapic_accept_fixed(lapic, 0x62, false);
	CHECK(vector_bit(TMR, 0x61));
	CHECK(!vector_bit(TMR, 0x62));
	CHECK_EQ(take(), 0x62);
	wr(EOI, 0);
	CHECK_EQ(eoi_count, 0);
	CHECK_EQ(take(), 0x61);
	wr(EOI, 0);
	CHECK_EQ(eoi_count, 1);
	CHECK_EQ(last_eoi_vector, 0x61);
	CHECK(vector_bit(TMR, 0x61));			/* until the next acceptance */
	vlapic_accept_fixed(lapic, 0x61, false);
	CHECK(!vector_bit(TMR, 0x61));
	CHECK_EQ(take(), 0x61);
	wr(EOI, 0);
	CHECK_EQ(eoi_count, 1);
	teardown();
}

static void test_software_disable(void)
{
	setup(BASE_XAPIC);
	accept(0x40);					/* held while software-disabled */
	CHECK(vector_bit(IRR, 0x40));
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	wr(LVT_TIMER, 0x20);
	CHECK_EQ(rd(LVT_TIMER), MASKED | 0x20);		/* the mask stays */
	wr(SPIV, SPIV_ENABLED);
	CHECK_EQ(rd(LVT_TIMER), MASKED | 0x20);		/* enabling unmasks nothing */
	CHECK_EQ(vlapic_pending_vector(lapic), 0x40);
	wr(LVT_TIMER, 0x20);
	CHECK_EQ(rd(LVT_TIMER), 0x20);
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	wr(SPIV, 0xff);
	CHECK_EQ(rd(LVT_TIMER), MASKED | 0x20);
	CHECK_EQ(rd(LVT_LINT0), MASKED | 0x700);
	CHECK_EQ(rd(LVT_LINT1), MASKED | 0x400);
	CHECK(!vlapic_accepts_pic_interrupts(lapic));
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	teardown();
}

static void test_hardware_disable(void)
{
	setup(BASE_DISABLED);
	u64 value;
	CHECK_EQ(rd(VERSION), 0xffffffff);		/* the page is not there */
	CHECK_EQ(mmio_in(VDEV_LAPIC_GPA + SPIV, 2), 0xffff);
	wr(SPIV, SPIV_ENABLED);
	CHECK(!vlapic_msr_read(lapic, VERSION, &value));
	CHECK(!vlapic_msr_write(lapic, TPR, 0));
	accept(0x40);
	struct vapic_message message = { .vector = 0x40, .destination = 0 };
	CHECK(!vlapic_accepts_message(lapic, &message));
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	vm.vcpu.apic_base = BASE_XAPIC;
	CHECK_EQ(rd(SPIV), 0xff);			/* the write was dropped */
	CHECK_EQ(rd(IRR + 0x20), 0);			/* so was the interrupt */
	wr(SPIV, SPIV_ENABLED);
	wr(LVT_LINT0, MASKED | 0x700);
	CHECK(!vlapic_accepts_pic_interrupts(lapic));
	vm.vcpu.apic_base = BASE_DISABLED;
	CHECK(vlapic_accepts_pic_interrupts(lapic));	/* APIC off: the PIC goes straight in */
	teardown();
}

static void test_pic_acceptance(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	wr(LVT_LINT0, 0x30);				/* fixed */
	CHECK(!vlapic_accepts_pic_interrupts(lapic));
	wr(LVT_LINT0, 0x400);				/* NMI */
	CHECK(!vlapic_accepts_pic_interrupts(lapic));
	wr(LVT_LINT0, 0x8700);				/* ExtINT, level */
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	vm.vcpu.apic_base = BASE_X2APIC;
	CHECK(vlapic_accepts_pic_interrupts(lapic));
	CHECK(vlapic_msr_write(lapic, LVT_LINT0, MASKED | 0x700));
	CHECK(!vlapic_accepts_pic_interrupts(lapic));
	teardown();
}

static void test_xapic_ipis(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	wr(ICR_HIGH, 0x05000000);			/* ignored by the shorthand */
	wr(ICR, SHORTHAND_SELF | 0x1031);		/* delivery status bit set */
	CHECK_EQ(rd(ICR), SHORTHAND_SELF | 0x31);	/* delivery is immediate */
	CHECK(vector_bit(IRR, 0x31));
	wr(ICR, SHORTHAND_ALL | 0x33);
	CHECK(vector_bit(IRR, 0x33));
	wr(ICR, SHORTHAND_OTHERS | 0x34);		/* nobody else */
	CHECK(!vector_bit(IRR, 0x34));
	wr(ICR, 0x35);					/* physical 5: not us */
	CHECK(!vector_bit(IRR, 0x35));
	wr(ICR_HIGH, 0);
	wr(ICR, 0x36);					/* physical 0: us */
	CHECK(vector_bit(IRR, 0x36));
	wr(ICR_HIGH, 0xff000000);
	wr(ICR, 0x37);					/* broadcast */
	CHECK(vector_bit(IRR, 0x37));
	wr(ICR_HIGH, 0x02000000);
	wr(ICR, ICR_LOGICAL | 0x38);			/* LDR 0: no logical match */
	CHECK(!vector_bit(IRR, 0x38));
	wr(LDR, 0x02000000);
	wr(ICR, ICR_LOGICAL | 0x39);
	CHECK(vector_bit(IRR, 0x39));
	wr(ICR_HIGH, 0x01000000);
	wr(ICR, ICR_LOGICAL | 0x3a);
	CHECK(!vector_bit(IRR, 0x3a));
	wr(ICR, (1 << 15) | SHORTHAND_SELF | 0x3b);	/* an IPI is edge-triggered */
	CHECK(vector_bit(IRR, 0x3b));
	CHECK(!vector_bit(TMR, 0x3b));
	wr(ICR, SHORTHAND_SELF | ICR_NMI);
	CHECK_EQ(nmi_count, 1);
	wr(ICR, SHORTHAND_OTHERS | ICR_NMI);
	CHECK_EQ(nmi_count, 1);
	wr(ICR, SHORTHAND_OTHERS | ICR_INIT);		/* INIT to the others: dropped */
	wr(ICR, SHORTHAND_SELF | ICR_INIT);
	CHECK_EQ(nmi_count, 1);
	CHECK(vm.state == VM_RUNNING);
	wr(ICR, SHORTHAND_SELF | 0x05);			/* illegal vector: not sent */
	CHECK(!vector_bit(IRR, 0x05));
	wr(ESR, 0);
	CHECK_EQ(rd(ESR), 0x20);			/* send illegal vector */
	CHECK_EQ(take(), 0x3b);
	teardown();
}

static void test_x2apic_registers(void)
{
	setup(BASE_X2APIC);
	CHECK_EQ(rd(VERSION), 0xffffffff);		/* no xAPIC page in x2APIC mode */
	wr(TPR, 0x20);
	CHECK_EQ(msr_rd(TPR), 0);
	CHECK_EQ(msr_rd(ID), 0);
	CHECK_EQ(msr_rd(VERSION), 0x50014);
	CHECK_EQ(msr_rd(LDR), 1);			/* cluster 0, bit 0: derived from ID 0 */
	CHECK_EQ(msr_rd(SPIV), 0xff);
	CHECK(vlapic_msr_write(lapic, SPIV, SPIV_ENABLED));
	CHECK(vlapic_msr_write(lapic, TPR, 0x30));
	CHECK_EQ(msr_rd(TPR), 0x30);
	CHECK_EQ(msr_rd(PPR), 0x30);
	CHECK(vlapic_msr_write(lapic, TIMER_INITIAL, 0x1234));
	CHECK_EQ(msr_rd(TIMER_INITIAL), 0x1234);

	/* Reserved registers, and xAPIC-only ones (#GP). */
	static const u32 reserved[] = { 0x000, 0x010, 0x040, 0x070, 0x090, 0x0c0, DFR, 0x290,
					0x2f0, ICR_HIGH, 0x3a0, 0x3d0, 0x400, 0xff0, 0x084 };
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		CHECK(!msr_readable(reserved[i]));
		CHECK(!vlapic_msr_write(lapic, reserved[i], 0));
	}
	/* Write-only registers cannot be read. */
	CHECK(!msr_readable(EOI));
	CHECK(!msr_readable(SELF_IPI));
	/* Read-only registers cannot be written. */
	static const u32 read_only[] = { ID, VERSION, PPR, LDR, ISR, ISR + 0x70, TMR, IRR,
					 IRR + 0x70, TIMER_CURRENT };
	for (size_t i = 0; i < ARRAY_SIZE(read_only); i++)
		CHECK(!vlapic_msr_write(lapic, read_only[i], 0));
	CHECK(!vlapic_msr_write(lapic, EOI, 1));	/* only 0 */
	CHECK(vlapic_msr_write(lapic, EOI, 0));
	CHECK(!vlapic_msr_write(lapic, ESR, 1));
	CHECK(vlapic_msr_write(lapic, ESR, 0));
	CHECK_EQ(msr_rd(ESR), 0);
	CHECK_EQ(msr_rd(TPR), 0x30);			/* the refused writes changed nothing */

	vm.vcpu.apic_base = BASE_XAPIC;			/* the MSRs are gone in xAPIC mode */
	CHECK(!msr_readable(TPR));
	CHECK(!vlapic_msr_write(lapic, TPR, 0));
	CHECK_EQ(rd(TPR), 0x30);			/* the same registers */
	wr(LDR, 0x80000000);
	CHECK_EQ(rd(LDR), 0x80000000);
	vm.vcpu.apic_base = BASE_X2APIC;
	CHECK_EQ(msr_rd(LDR), 1);
	teardown();
}

static void test_x2apic_ipis(void)
{
	setup(BASE_X2APIC);
	CHECK(vlapic_msr_write(lapic, SPIV, SPIV_ENABLED));
	CHECK(vlapic_msr_write(lapic, SELF_IPI, 0x41));
	CHECK_EQ(msr_rd(IRR + 0x20), 1u << 1);
	CHECK(vlapic_msr_write(lapic, SELF_IPI, 0x04));	/* illegal vector */
	CHECK_EQ(msr_rd(IRR), 0);
	CHECK(vlapic_msr_write(lapic, ICR, 0x42));	/* physical 0 */
	CHECK_EQ(msr_rd(ICR), 0x42);
	CHECK(vlapic_msr_write(lapic, ICR, 0xffffffff00000043ull));	/* broadcast */
	CHECK_EQ(msr_rd(ICR), 0xffffffff00000043ull);
	CHECK(vlapic_msr_write(lapic, ICR, 0x0000000100000044ull));	/* x2APIC ID 1 */
	CHECK(vlapic_msr_write(lapic, ICR, 0x000000ff00000045ull));	/* 0xff is an ID here */
	CHECK(vlapic_msr_write(lapic, ICR, 0x0000000100000800ull | 0x46));	/* logical */
	CHECK(vlapic_msr_write(lapic, ICR, 0x0001000100000800ull | 0x47));	/* cluster 1 */
	CHECK_EQ(msr_rd(IRR + 0x20), 0x4e);		/* 0x41-0x43 and 0x46 */
	CHECK(!vlapic_msr_write(lapic, ICR, 1 << 13 | 0x48));	/* reserved bits fault */
	CHECK(!vlapic_msr_write(lapic, ICR, 1 << 16 | 0x48));
	CHECK(!vlapic_msr_write(lapic, ICR, 1u << 31 | 0x48));
	CHECK_EQ(msr_rd(ICR), 0x0001000100000847ull);
	CHECK(vlapic_msr_write(lapic, ICR, SHORTHAND_SELF | ICR_NMI));
	CHECK_EQ(nmi_count, 1);
	CHECK(vlapic_msr_write(lapic, ESR, 0));
	CHECK_EQ(msr_rd(ESR), 0x20);			/* from the illegal self IPI */
	teardown();
}

static bool targets(u32 destination, bool logical)
{
	struct vapic_message message = { .vector = 0x50, .logical = logical,
					 .destination = destination };

	return vlapic_accepts_message(lapic, &message);
}

static void test_destinations(void)
{
	setup(BASE_XAPIC);
	CHECK(targets(0, false));
	CHECK(!targets(1, false));
	CHECK(targets(0xff, false));			/* broadcast */
	CHECK(!targets(0x01, true));			/* LDR 0 */
	CHECK(targets(0xff, true));
	wr(LDR, 0x03000000);				/* flat: logical ID bits 0 and 1 */
	CHECK(targets(0x02, true));
	CHECK(targets(0x81, true));
	CHECK(!targets(0x04, true));
	wr(DFR, 0x0fffffff);				/* cluster */
	wr(LDR, 0x21000000);				/* cluster 2, member bit 0 */
	CHECK(targets(0x21, true));
	CHECK(targets(0x23, true));
	CHECK(!targets(0x11, true));			/* another cluster */
	CHECK(!targets(0x22, true));			/* another member */
	CHECK(targets(0xff, true));
	CHECK(!targets(0x21, false));			/* physical ID 0x21 */

	vm.vcpu.apic_base = BASE_X2APIC;
	CHECK(targets(0, false));
	CHECK(!targets(1, false));
	CHECK(targets(0xffffffff, false));
	CHECK(targets(0xff, false));			/* an 8-bit source's broadcast */
	CHECK(targets(0x1, true));			/* LDR 1, whatever the xAPIC LDR says */
	CHECK(targets(0x3, true));
	CHECK(!targets(0x2, true));
	CHECK(!targets(0x10001, true));			/* cluster 1 */
	CHECK(targets(0xffffffff, true));

	vm.vcpu.apic_base = BASE_DISABLED;
	CHECK(!targets(0, false));
	CHECK(!targets(0xff, false));
	teardown();
}

/* The divide configuration encodings (SDM figure 11-10) and what they divide by. */
static const struct { u32 config; u64 divisor; } divides[] = {
	{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
	{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
};

static void test_one_shot(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	wr(LVT_TIMER, 0x40);
	wr(TIMER_DIVIDE, DIVIDE_BY_1);
	wr(TIMER_INITIAL, 1000);
	CHECK_EQ(rd(TIMER_CURRENT), 1000);
	CHECK_EQ(apic_vtimer()->deadline, 1000);
	fake_advance_to(400);
	CHECK_EQ(rd(TIMER_CURRENT), 600);
	fake_advance_to(999);
	CHECK_EQ(rd(TIMER_CURRENT), 1);
	CHECK(!vector_bit(IRR, 0x40));
	fake_advance_to(1000);
	CHECK(vector_bit(IRR, 0x40));
	CHECK_EQ(rd(TIMER_CURRENT), 0);
	CHECK_EQ(rd(TIMER_INITIAL), 1000);		/* kept */
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	CHECK_EQ(take_and_end(), 0x40);
	fake_advance_to(5000);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);	/* once */

	for (size_t i = 0; i < ARRAY_SIZE(divides); i++) {
		u64 start = fake_now;
		wr(TIMER_DIVIDE, divides[i].config);
		wr(TIMER_INITIAL, 100);
		CHECK_EQ(apic_vtimer()->deadline, start + 100 * divides[i].divisor);
		fake_advance_to(start + 10 * divides[i].divisor);
		CHECK_EQ(rd(TIMER_CURRENT), 90);
		fake_advance_to(start + 100 * divides[i].divisor);
		CHECK_EQ(take_and_end(), 0x40);
	}
	wr(TIMER_INITIAL, 100);
	wr(TIMER_INITIAL, 0);				/* stops it */
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	CHECK_EQ(rd(TIMER_CURRENT), 0);
	teardown();
}

static void test_periodic(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	wr(LVT_TIMER, TIMER_PERIODIC | 0x41);
	wr(TIMER_DIVIDE, DIVIDE_BY_1);
	wr(TIMER_INITIAL, 100);
	fake_advance_to(100);
	CHECK_EQ(take_and_end(), 0x41);
	CHECK_EQ(rd(TIMER_CURRENT), 100);		/* reloaded */
	fake_advance_to(150);
	CHECK_EQ(rd(TIMER_CURRENT), 50);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	fake_advance_to(200);
	CHECK_EQ(take_and_end(), 0x41);
	fake_advance_to(1050);				/* 8 periods late: one interrupt */
	CHECK_EQ(take_and_end(), 0x41);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	CHECK_EQ(apic_vtimer()->deadline, 1100);	/* in phase */
	CHECK_EQ(rd(TIMER_CURRENT), 50);
	wr(TIMER_DIVIDE, 0x3);				/* by 16: the count goes on from 50 */
	CHECK_EQ(rd(TIMER_CURRENT), 50);
	CHECK_EQ(apic_vtimer()->deadline, 1050 + 50 * 16);
	fake_advance_to(1050 + 16 * 10);
	CHECK_EQ(rd(TIMER_CURRENT), 40);
	wr(TIMER_DIVIDE, DIVIDE_BY_1);
	wr(LVT_TIMER, 0x41);				/* one-shot: ends at this period's end */
	CHECK_EQ(apic_vtimer()->deadline, 1210 + 40);
	fake_advance_to(1250);
	CHECK_EQ(take_and_end(), 0x41);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	CHECK_EQ(rd(TIMER_CURRENT), 0);
	wr(TIMER_INITIAL, 0);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	teardown();
}

static void test_masked_timer(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	wr(LVT_TIMER, MASKED | TIMER_PERIODIC | 0x42);
	wr(TIMER_DIVIDE, DIVIDE_BY_1);
	wr(TIMER_INITIAL, 100);
	fake_advance_to(150);
	CHECK_EQ(rd(TIMER_CURRENT), 50);		/* it counts */
	CHECK(!vector_bit(IRR, 0x42));			/* and raises nothing */
	CHECK_EQ(apic_vtimer()->deadline, 200);
	wr(LVT_TIMER, TIMER_PERIODIC | 0x42);
	fake_advance_to(200);
	CHECK_EQ(take_and_end(), 0x42);
	teardown();
}

static void test_tsc_deadline(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	wr(TIMER_DIVIDE, DIVIDE_BY_1);
	vlapic_set_tsc_deadline(lapic, 500);		/* one-shot mode: ignored */
	CHECK_EQ(vlapic_tsc_deadline(lapic), 0);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	wr(TIMER_INITIAL, 1000);
	wr(LVT_TIMER, TIMER_TSC_DEADLINE | 0x50);	/* disarms the count */
	CHECK_EQ(rd(TIMER_INITIAL), 0);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	wr(TIMER_INITIAL, 1000);			/* ignored in this mode */
	CHECK_EQ(rd(TIMER_INITIAL), 0);
	CHECK_EQ(rd(TIMER_CURRENT), 0);
	vlapic_set_tsc_deadline(lapic, 5000);
	CHECK_EQ(vlapic_tsc_deadline(lapic), 5000);
	fake_advance_to(4999);
	CHECK(!vector_bit(IRR, 0x50));
	fake_advance_to(5000);
	CHECK_EQ(take_and_end(), 0x50);
	CHECK_EQ(vlapic_tsc_deadline(lapic), 0);	/* fired: cleared */
	fake_advance_to(20000);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);	/* once */
	vlapic_set_tsc_deadline(lapic, 30000);
	vlapic_set_tsc_deadline(lapic, 0);		/* disarms */
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	fake_advance_to(40000);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	vlapic_set_tsc_deadline(lapic, 100);		/* in the past: fires at once */
	fake_advance_to(40000);
	CHECK_EQ(take_and_end(), 0x50);
	vlapic_set_tsc_deadline(lapic, 50000);
	wr(LVT_TIMER, TIMER_PERIODIC | 0x50);		/* leaving the mode disarms */
	CHECK_EQ(vlapic_tsc_deadline(lapic), 0);
	CHECK_EQ(apic_vtimer()->deadline, VTIMER_IDLE);
	wr(LVT_TIMER, TIMER_TSC_DEADLINE | 0x50);
	CHECK_EQ(vlapic_tsc_deadline(lapic), 0);	/* not restored */
	vlapic_set_tsc_deadline(lapic, 60000);
	wr(LVT_TIMER, MASKED | TIMER_TSC_DEADLINE | 0x50);	/* masking keeps it armed */
	CHECK_EQ(vlapic_tsc_deadline(lapic), 60000);
	fake_advance_to(60000);
	CHECK_EQ(vlapic_tsc_deadline(lapic), 0);
	CHECK(!vector_bit(IRR, 0x50));
	teardown();
}

static void test_esr(void)
{
	setup(BASE_XAPIC);
	wr(SPIV, SPIV_ENABLED);
	accept(0x05);					/* receive illegal vector */
	CHECK(!vector_bit(IRR, 0x05));
	CHECK_EQ(rd(ESR), 0);				/* not until written */
	wr(ESR, 0x1234);
	CHECK_EQ(rd(ESR), 0x40);
	CHECK_EQ(rd(ESR), 0x40);			/* reads change nothing */
	wr(ESR, 0);
	CHECK_EQ(rd(ESR), 0);
	(void)rd(0x010);				/* a reserved register */
	wr(ESR, 0);
	CHECK_EQ(rd(ESR), 0x80);			/* illegal register address */
	wr(ESR, 0);

	wr(LVT_ERROR, 0xe0);				/* the error interrupt */
	accept(0x0f);
	CHECK_EQ(take(), 0xe0);
	wr(EOI, 0);
	accept(0x0e);					/* once until ESR is written */
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	wr(ESR, 0);
	CHECK_EQ(rd(ESR), 0x40);
	wr(ICR, SHORTHAND_SELF | 0x01);			/* rearmed */
	CHECK_EQ(take(), 0xe0);
	wr(LVT_ERROR, 0x03);				/* an illegal error vector: bounded */
	wr(ESR, 0);
	accept(0x02);
	wr(ESR, 0);
	CHECK_EQ(rd(ESR), 0x40);
	CHECK_EQ(vlapic_pending_vector(lapic), -1);
	teardown();
}

static void test_create_failure(void)
{
	fake_platform_reset();
	vm.vcpu.apic_base = BASE_XAPIC;
	struct vlapic *first = vlapic_create(&vm);
	CHECK(first != NULL);
	CHECK(vlapic_create(&vm) == NULL);		/* the page is taken */
	vlapic_destroy(first);
	vlapic_destroy(NULL);
}

int main(void)
{
	test_reset_state();
	test_writable_bits();
	test_priority();
	test_nested_eoi();
	test_level_eoi();
	test_software_disable();
	test_hardware_disable();
	test_pic_acceptance();
	test_xapic_ipis();
	test_x2apic_registers();
	test_x2apic_ipis();
	test_destinations();
	test_one_shot();
	test_periodic();
	test_masked_timer();
	test_tsc_deadline();
	test_esr();
	test_create_failure();
	return unit_done("test_vlapic");
}
