/* The 64-bit test guests' IDT and exception handler: an armed catch gets the exception
 * (lib/except.h), any other exception is reported as a failure and ends the test. */
#include "tests/guests/lib/except.h"
#include "tests/guests/lib/console.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/x86.h"
#include "lib/printf.h"

/* 64-bit interrupt gate, present, DPL 0 (Intel SDM Vol. 3A 6.14.1). */
#define IDT_INTERRUPT_GATE 0x8e

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate (SDM Vol. 3A 6.14.1)");

struct descriptor_pointer {
	u16 limit;
	u64 base;
} __packed;

/* What lib/trap.S pushes, lowest address first. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

static_assert(offsetof(struct catch_point, rip) == 56, "lib/trap.S uses these offsets");

extern const u64 trap_stubs[EXCEPTION_COUNT];
extern const u64 irq_stubs[IDT_VECTORS - EXCEPTION_COUNT];	/* lib/irq.S */
void exception_handler(struct trap_frame *frame) __noreturn;
__noreturn void catch_longjmp(const struct catch_point *cp);

struct exception_record last_exception = { .vector = NO_EXCEPTION };
static struct catch_point *armed_catch;
static struct idt_gate idt[IDT_VECTORS] __aligned(16);

static const char *const exception_names[EXCEPTION_COUNT] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
	"#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP", "vector 22", "vector 23", "vector 24", "vector 25", "vector 26",
	"vector 27", "#HV", "#VC", "#SX", "vector 31",
};

const char *exception_name(int vector)
{
	if (vector < 0 || vector >= EXCEPTION_COUNT)
		return "none";
	return exception_names[vector];
}

void idt_init(void)
{
	struct descriptor_pointer idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	for (int v = 0; v < IDT_VECTORS; v++) {
		u64 handler = v < EXCEPTION_COUNT ? trap_stubs[v] : irq_stubs[v - EXCEPTION_COUNT];

		idt[v] = (struct idt_gate){
			.offset_low = (u16)handler,
			.selector = GDT_CODE64,
			.type_attr = IDT_INTERRUPT_GATE,
			.offset_mid = (u16)(handler >> 16),
			.offset_high = (u32)(handler >> 32),
		};
	}
	asm volatile("lidt %0" : : "m"(idtr));
}

/* The handler reads armed_catch at any instruction: the compiler must neither drop nor
 * move the stores around the code that may fault (which it cannot see doing so). */
#define compiler_barrier() asm volatile("" : : : "memory")

void catch_arm(struct catch_point *cp)
{
	last_exception = (struct exception_record){ .vector = NO_EXCEPTION };
	armed_catch = cp;
	compiler_barrier();
}

void catch_disarm(void)
{
	compiler_barrier();
	armed_catch = NULL;
}

/* A second exception while reporting one means the guest is broken beyond printing. */
static __noreturn void report_unexpected(const struct trap_frame *f)
{
	static bool reporting;

	if (reporting)
		debug_exit(EXIT_STATUS_FAILURE);
	reporting = true;
	reportf(false, "unexpected exception %s (vector %lu, error code %#lx) at rip %#lx, "
		"rsp %#lx, cr2 %#lx", exception_name((int)f->vector), f->vector,
		f->error_code, f->rip, f->rsp, read_cr2());
	exit_test();
}

void exception_handler(struct trap_frame *f)
{
	struct catch_point *cp = armed_catch;

	if (!cp)
		report_unexpected(f);
	last_exception = (struct exception_record){
		.vector = (int)f->vector,
		.error_code = f->error_code,
		.rip = f->rip,
		.cr2 = read_cr2(),
		.rflags = f->rflags,
	};
	armed_catch = NULL;
	catch_longjmp(cp);
}

bool try_rdmsr(u32 msr, u64 *value)
{
	return catch_exception(*value = rdmsr(msr)) == NO_EXCEPTION;
}

bool try_wrmsr(u32 msr, u64 value)
{
	return catch_exception(wrmsr(msr, value)) == NO_EXCEPTION;
}
