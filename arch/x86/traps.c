/* Host exceptions: every one is a hypervisor bug, so print what a developer needs (vector,
 * error code, RIP, CR2, registers, a frame-pointer stack trace) and stop cleanly. */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "lib/panic.h"

#define STACK_TRACE_DEPTH 12

struct trap_frame {
	u64 gpr[16];	/* x86 register-number order, as trap_entry.S pushes them */
	u64 vector, error_code, rip, cs, rflags, rsp, ss;
};

static const char *const exception_names[32] = {
	[X86_EXC_DE] = "#DE divide error", [X86_EXC_DB] = "#DB debug",
	[X86_EXC_NMI] = "NMI", [X86_EXC_BP] = "#BP breakpoint", [X86_EXC_OF] = "#OF overflow",
	[X86_EXC_BR] = "#BR bound range", [X86_EXC_UD] = "#UD invalid opcode",
	[X86_EXC_NM] = "#NM device not available", [X86_EXC_DF] = "#DF double fault",
	[X86_EXC_TS] = "#TS invalid TSS", [X86_EXC_NP] = "#NP segment not present",
	[X86_EXC_SS] = "#SS stack fault", [X86_EXC_GP] = "#GP general protection",
	[X86_EXC_PF] = "#PF page fault", [X86_EXC_MF] = "#MF x87 error",
	[X86_EXC_AC] = "#AC alignment check", [X86_EXC_MC] = "#MC machine check",
	[X86_EXC_XM] = "#XM SIMD error", [X86_EXC_VE] = "#VE virtualization",
	[X86_EXC_CP] = "#CP control protection",
};

const char *x86_exception_name(unsigned vector)
{
	if (vector < ARRAY_SIZE(exception_names) && exception_names[vector])
		return exception_names[vector];
	return "reserved exception";
}

static void print_registers(const struct trap_frame *f)
{
	static const char *const names[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8 ", "r9 ", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	for (int i = 0; i < 16; i += 4)
		printk("  %s %016llx  %s %016llx  %s %016llx  %s %016llx\n",
		       names[i], (unsigned long long)f->gpr[i], names[i + 1],
		       (unsigned long long)f->gpr[i + 1], names[i + 2],
		       (unsigned long long)f->gpr[i + 2], names[i + 3],
		       (unsigned long long)f->gpr[i + 3]);
	printk("  rsp %016llx  rflags %016llx  cs %04llx  ss %04llx\n",
	       (unsigned long long)f->rsp, (unsigned long long)f->rflags,
	       (unsigned long long)f->cs, (unsigned long long)f->ss);
}

/* Follows saved frame pointers (the kernel is built with -fno-omit-frame-pointer). */
static void print_stack_trace(u64 rbp)
{
	printk("  stack trace:");
	for (int depth = 0; depth < STACK_TRACE_DEPTH && rbp && IS_ALIGNED(rbp, 8); depth++) {
		const u64 *frame = (const u64 *)rbp;
		if (!frame[1])
			break;
		printk(" %llx", (unsigned long long)frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	printk("\n");
}

void trap_handler(const struct trap_frame *f)
{
	printk("\nvireo: host exception %s (vector %llu), error code 0x%llx, RIP %016llx, CR2 %016llx\n",
	       x86_exception_name((unsigned)f->vector), (unsigned long long)f->vector,
	       (unsigned long long)f->error_code, (unsigned long long)f->rip,
	       (unsigned long long)read_cr2());
	print_registers(f);
	print_stack_trace(f->gpr[5]);
	panic("unexpected exception in the hypervisor");
}
