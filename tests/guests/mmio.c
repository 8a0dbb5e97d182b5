/* mmio: every instruction form a guest may aim at MMIO, run against pc-testdev's memory-like
 * region and compared with the same instruction on RAM, run natively: registers, RFLAGS
 * (less the flags the SDM leaves undefined) and memory must match exactly. Also string
 * instructions, string port I/O, page-crossing accesses (within MMIO, RAM->MMIO, MMIO->RAM),
 * the MMIO statistics (slow path first, cached path after) and the Vireo test device's
 * doorbells. With "exec" on the command line it only runs code fetched from MMIO.
 *
 * With "trusted" on the command line (the VM must be started trusted), the checks repeat
 * with mmio_cache off and on, fast_mmio off and on, and memory slots are added over, moved
 * across and deleted from gfns already cached as MMIO. */
#include "tests/guests/lib/guest.h"

/* Offsets in pc-testdev's region; each group has its own bytes. */
#define AREA_FORMS 0x000
#define AREA_MOFFS 0x100
#define AREA_BASIC 0x200
#define AREA_STRING_SRC 0x400
#define AREA_STRING_DST 0x500
#define AREA_PAGE_BOUNDARY 0x1000
#define AREA_AFTER_RAM 0x2000		/* MMIO page mapped right after a RAM page */
#define AREA_BEFORE_RAM 0x3000		/* MMIO page mapped right before a RAM page */
#define AREA_EXEC 0x4000
#define AREA_STATS 0x8000		/* one fresh page per round of checks */
#define STATS_ROUNDS 8
#define TESTDEV(offset) ((uintptr_t)TESTDEV_MMIO_BASE + (offset))
#define VIREO_TESTDEV(offset) ((uintptr_t)VIREO_TESTDEV_BASE + (offset))

/* Virtual pages this test maps itself: RAM then MMIO, then MMIO then RAM. */
#define CROSS_VA 0x0000020000000000ull	/* PML4 entry 4 */
#define CROSS_RAM_TO_MMIO_VA CROSS_VA
#define CROSS_MMIO_TO_RAM_VA (CROSS_VA + 2 * PAGE_SIZE)

/* Guest-physical page turned into RAM and back by the memory-slot checks. */
#define SLOT_TEST_GPA 0xfd000000ul
#define SLOT_TEST_NEXT_GPA (SLOT_TEST_GPA + 0x1000ul)

#define FLAG_CF 0x001ull
#define FLAG_PF 0x004ull
#define FLAG_AF 0x010ull
#define FLAG_ZF 0x040ull
#define FLAG_SF 0x080ull
#define FLAG_DF 0x400ull
#define FLAG_OF 0x800ull
#define FLAGS_ARITH (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
#define FLAGS_RESERVED_1 0x002ull	/* RFLAGS bit 1 always reads 1 */
/* Flags the SDM leaves undefined: after AND/OR/XOR/TEST, AF; after BT*, all but CF, ZF. */
#define UNDEF_LOGIC FLAG_AF
#define UNDEF_BT (FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF)
/* After shifts by more than 1, OF and AF; after MUL and IMUL, SF, ZF, AF, PF. */
#define UNDEF_SHIFT (FLAG_OF | FLAG_AF)
#define UNDEF_MUL (FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF)

#define ALL_ONES_32 0xffffffffu

/* ---- the round of checks being run ------------------------------------------------ */

enum fast_expectation { FAST_ALL, FAST_NONE, FAST_ANY };

struct round {
	const char *name;		/* prefixes the result lines */
	bool verbose;			/* one PASS line per instruction form */
	bool cached;			/* mmio_cache on: repeated accesses take the cached path */
	enum fast_expectation fast;	/* do doorbell writes count as fast MMIO? */
};

static const struct round *this_round;
static unsigned stats_round;

/* ---- instruction forms with a memory operand ---------------------------------------- */

/* 32 bytes around the operand, which sits at WINDOW_OPERAND unless a test moves it. */
#define WINDOW_QWORDS 4
#define WINDOW_BYTES (WINDOW_QWORDS * 8)
#define WINDOW_OPERAND 16

struct insn_regs {
	u64 rax, reg, flags;
};

struct insn_input {
	u64 mem, reg, rax, flags;
};

typedef void (*insn_fn)(struct insn_regs *r, volatile void *mem);

struct insn_form {
	const char *name;
	insn_fn run;
	u64 undefined_flags;
	bool bit_offset;	/* reg is a bit offset: use bit_inputs */
};

struct insn_result {
	struct insn_regs regs;
	u64 window[WINDOW_QWORDS];
};

/*
 * The instruction runs with RFLAGS, RAX and RCX ([reg]) from r and its memory operand at
 * mem; they are stored back afterwards. RAX is an operand only where an instruction uses
 * it implicitly (CMPXCHG).
 */
#define DEFINE_INSN(fn, text)						\
static void fn(struct insn_regs *r, volatile void *mem)			\
{									\
	asm volatile("push %[flags]\n\tpopfq\n\t" text "\n\tpushfq\n\tpop %[flags]"	\
		     : "+a"(r->rax), [reg] "+c"(r->reg), [flags] "+r"(r->flags)	\
		     : [mem] "r"(mem) : "memory", "cc");			\
}

/* op reg, (mem) */
#define DEFINE_RM(fn, op)							\
	DEFINE_INSN(fn##_8, op "b %b[reg], (%[mem])")				\
	DEFINE_INSN(fn##_16, op "w %w[reg], (%[mem])")				\
	DEFINE_INSN(fn##_32, op "l %k[reg], (%[mem])")				\
	DEFINE_INSN(fn##_64, op "q %q[reg], (%[mem])")
/* op (mem), reg */
#define DEFINE_MR(fn, op)							\
	DEFINE_INSN(fn##_8, op "b (%[mem]), %b[reg]")				\
	DEFINE_INSN(fn##_16, op "w (%[mem]), %w[reg]")				\
	DEFINE_INSN(fn##_32, op "l (%[mem]), %k[reg]")				\
	DEFINE_INSN(fn##_64, op "q (%[mem]), %q[reg]")
/* op $imm, (mem): full-size immediates (imm32 sign-extended for 64-bit) */
#define DEFINE_IM(fn, op)							\
	DEFINE_INSN(fn##_8, op "b $0x5a, (%[mem])")				\
	DEFINE_INSN(fn##_16, op "w $0x1234, (%[mem])")				\
	DEFINE_INSN(fn##_32, op "l $0x12345678, (%[mem])")			\
	DEFINE_INSN(fn##_64, op "q $-0x789abcde, (%[mem])")
/* op $imm8, (mem): the sign-extended imm8 encoding (opcode 83) */
#define DEFINE_IM8(fn, op)							\
	DEFINE_INSN(fn##_16, op "w $-2, (%[mem])")				\
	DEFINE_INSN(fn##_32, op "l $0x7f, (%[mem])")				\
	DEFINE_INSN(fn##_64, op "q $-1, (%[mem])")
/* op (mem) */
#define DEFINE_M(fn, op)							\
	DEFINE_INSN(fn##_8, op "b (%[mem])")					\
	DEFINE_INSN(fn##_16, op "w (%[mem])")					\
	DEFINE_INSN(fn##_32, op "l (%[mem])")					\
	DEFINE_INSN(fn##_64, op "q (%[mem])")
/* bit ops: immediate offsets (16-bit's is taken modulo 16) and register offsets */
#define DEFINE_BT(fn, op)							\
	DEFINE_INSN(fn##_i16, op "w $21, (%[mem])")				\
	DEFINE_INSN(fn##_i32, op "l $29, (%[mem])")				\
	DEFINE_INSN(fn##_i64, op "q $61, (%[mem])")				\
	DEFINE_INSN(fn##_r16, op "w %w[reg], (%[mem])")				\
	DEFINE_INSN(fn##_r32, op "l %k[reg], (%[mem])")				\
	DEFINE_INSN(fn##_r64, op "q %q[reg], (%[mem])")

#define ENTRIES4(fn, what, undefined)						\
	{ what " (8-bit)", fn##_8, undefined, false },				\
	{ what " (16-bit)", fn##_16, undefined, false },			\
	{ what " (32-bit)", fn##_32, undefined, false },			\
	{ what " (64-bit)", fn##_64, undefined, false },
#define ENTRIES_SHIFT(op)							\
	ENTRIES4(op##_1, #op " mem,1", UNDEF_LOGIC)				\
	ENTRIES4(op##_i, #op " mem,imm", UNDEF_SHIFT)				\
	{ #op " mem,cl (32-bit)", op##_cl_32, UNDEF_SHIFT, false },		\
	{ #op " mem,cl (64-bit)", op##_cl_64, UNDEF_SHIFT, false },
#define ENTRIES_IM8(fn, what, undefined)					\
	{ what " (16-bit)", fn##_16, undefined, false },			\
	{ what " (32-bit)", fn##_32, undefined, false },			\
	{ what " (64-bit)", fn##_64, undefined, false },
#define ENTRIES_BT(fn, what)							\
	{ what " imm (16-bit)", fn##_i16, UNDEF_BT, false },			\
	{ what " imm (32-bit)", fn##_i32, UNDEF_BT, false },			\
	{ what " imm (64-bit)", fn##_i64, UNDEF_BT, false },			\
	{ what " reg (16-bit)", fn##_r16, UNDEF_BT, true },			\
	{ what " reg (32-bit)", fn##_r32, UNDEF_BT, true },			\
	{ what " reg (64-bit)", fn##_r64, UNDEF_BT, true },

/* The two-operand ALU instructions and the flags each leaves undefined. */
#define ALU_OPS(X)								\
	X(and, UNDEF_LOGIC) X(or, UNDEF_LOGIC) X(xor, UNDEF_LOGIC)		\
	X(add, 0) X(adc, 0) X(sub, 0) X(sbb, 0) X(cmp, 0)

#define DEFINE_ALU(op, undefined)						\
	DEFINE_RM(op##_rm, #op) DEFINE_MR(op##_mr, #op)				\
	DEFINE_IM(op##_im, #op) DEFINE_IM8(op##_im8, #op)
#define ENTRIES_ALU(op, undefined)						\
	ENTRIES4(op##_rm, #op " reg->mem", undefined)				\
	ENTRIES4(op##_mr, #op " mem->reg", undefined)				\
	ENTRIES4(op##_im, #op " imm->mem", undefined)				\
	ENTRIES_IM8(op##_im8, #op " imm8->mem", undefined)

DEFINE_RM(mov_rm, "mov")
DEFINE_MR(mov_mr, "mov")
DEFINE_IM(mov_im, "mov")
DEFINE_INSN(movzbw, "movzbw (%[mem]), %w[reg]")
DEFINE_INSN(movzbl, "movzbl (%[mem]), %k[reg]")
DEFINE_INSN(movzbq, "movzbq (%[mem]), %q[reg]")
DEFINE_INSN(movzwl, "movzwl (%[mem]), %k[reg]")
DEFINE_INSN(movzwq, "movzwq (%[mem]), %q[reg]")
DEFINE_INSN(movsbw, "movsbw (%[mem]), %w[reg]")
DEFINE_INSN(movsbl, "movsbl (%[mem]), %k[reg]")
DEFINE_INSN(movsbq, "movsbq (%[mem]), %q[reg]")
DEFINE_INSN(movswl, "movswl (%[mem]), %k[reg]")
DEFINE_INSN(movswq, "movswq (%[mem]), %q[reg]")
DEFINE_INSN(movslq, "movslq (%[mem]), %q[reg]")
ALU_OPS(DEFINE_ALU)
DEFINE_RM(test_rm, "test")
DEFINE_IM(test_im, "test")
DEFINE_M(inc, "inc")
DEFINE_M(dec, "dec")
DEFINE_M(neg, "neg")
DEFINE_M(not, "not")
DEFINE_RM(xchg, "xchg")
DEFINE_RM(cmpxchg, "cmpxchg")
DEFINE_RM(lock_cmpxchg, "lock cmpxchg")
DEFINE_RM(lock_add, "lock add")
DEFINE_M(lock_inc, "lock inc")
DEFINE_BT(bt, "bt")
DEFINE_BT(bts, "bts")
DEFINE_BT(btr, "btr")
DEFINE_BT(btc, "btc")
DEFINE_BT(lock_bts, "lock bts")

/* Shifts and rotates by 1, by an immediate and by CL (32 and 64 bits only: the inputs'
 * counts stay below the width, where CF is defined). */
#define SHIFT_OPS(X) X(shl) X(shr) X(sar) X(rol) X(ror) X(rcl) X(rcr)
#define DEFINE_SHIFT(op)							\
	DEFINE_INSN(op##_1_8, #op "b $1, (%[mem])")				\
	DEFINE_INSN(op##_1_16, #op "w $1, (%[mem])")				\
	DEFINE_INSN(op##_1_32, #op "l $1, (%[mem])")				\
	DEFINE_INSN(op##_1_64, #op "q $1, (%[mem])")				\
	DEFINE_INSN(op##_i_8, #op "b $5, (%[mem])")				\
	DEFINE_INSN(op##_i_16, #op "w $5, (%[mem])")				\
	DEFINE_INSN(op##_i_32, #op "l $5, (%[mem])")				\
	DEFINE_INSN(op##_i_64, #op "q $37, (%[mem])")				\
	DEFINE_INSN(op##_cl_32, #op "l %b[reg], (%[mem])")			\
	DEFINE_INSN(op##_cl_64, #op "q %b[reg], (%[mem])")
SHIFT_OPS(DEFINE_SHIFT)

/* MUL..IDIV use rDX: [reg] stands in for it, swapped in and out around the instruction. */
#define DEFINE_INSN_RDX(fn, text)						\
static void fn(struct insn_regs *r, volatile void *mem)			\
{									\
	asm volatile("push %[flags]\n\tpopfq\n\txchg %[reg], %%rdx\n\t" text	\
		     "\n\txchg %[reg], %%rdx\n\tpushfq\n\tpop %[flags]"		\
		     : "+a"(r->rax), [reg] "+c"(r->reg), [flags] "+r"(r->flags)	\
		     : [mem] "r"(mem) : "rdx", "memory", "cc");			\
}
#define DEFINE_MULDIV(op)							\
	DEFINE_INSN_RDX(op##_8, #op "b (%[mem])")				\
	DEFINE_INSN_RDX(op##_16, #op "w (%[mem])")				\
	DEFINE_INSN_RDX(op##_32, #op "l (%[mem])")				\
	DEFINE_INSN_RDX(op##_64, #op "q (%[mem])")
DEFINE_MULDIV(mul)
DEFINE_MULDIV(imul)
DEFINE_MULDIV(div)
DEFINE_MULDIV(idiv)
DEFINE_INSN(imul2_16, "imulw (%[mem]), %w[reg]")
DEFINE_INSN(imul2_32, "imull (%[mem]), %k[reg]")
DEFINE_INSN(imul2_64, "imulq (%[mem]), %q[reg]")
DEFINE_INSN(imul3_16, "imulw $-3, (%[mem]), %w[reg]")
DEFINE_INSN(imul3_32, "imull $0x12345, (%[mem]), %k[reg]")
DEFINE_INSN(imul3_64, "imulq $-0x7f, (%[mem]), %q[reg]")

/* PUSH and POP with the operand in memory; the stack itself is RAM. */
DEFINE_INSN(push_16, "pushw (%[mem])\n\tpopw %w[reg]")
DEFINE_INSN(push_64, "pushq (%[mem])\n\tpopq %q[reg]")
DEFINE_INSN(pop_16, "pushw %w[reg]\n\tpopw (%[mem])")
DEFINE_INSN(pop_64, "pushq %q[reg]\n\tpopq (%[mem])")

DEFINE_INSN(movbe_load_16, "movbew (%[mem]), %w[reg]")
DEFINE_INSN(movbe_load_32, "movbel (%[mem]), %k[reg]")
DEFINE_INSN(movbe_load_64, "movbeq (%[mem]), %q[reg]")
DEFINE_INSN(movbe_store_16, "movbew %w[reg], (%[mem])")
DEFINE_INSN(movbe_store_32, "movbel %k[reg], (%[mem])")
DEFINE_INSN(movbe_store_64, "movbeq %q[reg], (%[mem])")
DEFINE_INSN(movnti_32, "movntil %k[reg], (%[mem])")
DEFINE_INSN(movnti_64, "movntiq %q[reg], (%[mem])")

DEFINE_INSN(sete, "sete (%[mem])")
DEFINE_INSN(setl, "setl (%[mem])")
DEFINE_INSN(setbe, "setbe (%[mem])")
DEFINE_INSN(setp, "setp (%[mem])")
DEFINE_INSN(cmove_16, "cmovew (%[mem]), %w[reg]")
DEFINE_INSN(cmovl_32, "cmovll (%[mem]), %k[reg]")
DEFINE_INSN(cmovg_64, "cmovgq (%[mem]), %q[reg]")
DEFINE_INSN(cmovbe_32, "cmovbel (%[mem]), %k[reg]")

DEFINE_INSN(clflush, "clflush (%[mem])")

/* System stores: the same values land on RAM and on MMIO. */
DEFINE_INSN(smsw_m, "smsww (%[mem])")
DEFINE_INSN(sgdt_m, "sgdt (%[mem])")
DEFINE_INSN(sidt_m, "sidt (%[mem])")
DEFINE_INSN(sldt_m, "sldtw (%[mem])")
DEFINE_INSN(str_m, "strw (%[mem])")

/*
 * SSE moves: [reg] and RAX are the low and high halves of XMM0 (both copied into it
 * first, so a load that zero-extends shows it), and are read back from it afterwards.
 * Vireo reads and writes the guest's XMM0 itself when one of these runs on MMIO.
 */
#define XMM0_FROM_REGS "movq %q[reg], %%xmm0\n\tmovq %%rax, %%xmm1\n\tmovlhps %%xmm1, %%xmm0\n\t"
#define XMM0_TO_REGS "\n\tmovq %%xmm0, %q[reg]\n\tmovhlps %%xmm0, %%xmm1\n\tmovq %%xmm1, %%rax"
#define DEFINE_SSE(fn, text) DEFINE_INSN(fn, XMM0_FROM_REGS text XMM0_TO_REGS)
DEFINE_SSE(movups_load, "movups (%[mem]), %%xmm0")
DEFINE_SSE(movups_store, "movups %%xmm0, (%[mem])")
DEFINE_SSE(movaps_load, "movaps (%[mem]), %%xmm0")
DEFINE_SSE(movaps_store, "movaps %%xmm0, (%[mem])")
DEFINE_SSE(movdqu_load, "movdqu (%[mem]), %%xmm0")
DEFINE_SSE(movdqu_store, "movdqu %%xmm0, (%[mem])")
DEFINE_SSE(movdqa_load, "movdqa (%[mem]), %%xmm0")
DEFINE_SSE(movdqa_store, "movdqa %%xmm0, (%[mem])")
DEFINE_SSE(movd_load, "movd (%[mem]), %%xmm0")
DEFINE_SSE(movd_store, "movd %%xmm0, (%[mem])")
DEFINE_SSE(movq_load, "movq (%[mem]), %%xmm0")
DEFINE_SSE(movq_store, "movq %%xmm0, (%[mem])")

static const struct insn_form forms[] = {
	ENTRIES4(mov_rm, "mov reg->mem", 0)
	ENTRIES4(mov_mr, "mov mem->reg", 0)
	ENTRIES4(mov_im, "mov imm->mem", 0)
	{ "movzx 8->16", movzbw, 0, false },
	{ "movzx 8->32", movzbl, 0, false },
	{ "movzx 8->64", movzbq, 0, false },
	{ "movzx 16->32", movzwl, 0, false },
	{ "movzx 16->64", movzwq, 0, false },
	{ "movsx 8->16", movsbw, 0, false },
	{ "movsx 8->32", movsbl, 0, false },
	{ "movsx 8->64", movsbq, 0, false },
	{ "movsx 16->32", movswl, 0, false },
	{ "movsx 16->64", movswq, 0, false },
	{ "movsxd 32->64", movslq, 0, false },
	ALU_OPS(ENTRIES_ALU)
	ENTRIES4(test_rm, "test reg,mem", UNDEF_LOGIC)
	ENTRIES4(test_im, "test imm,mem", UNDEF_LOGIC)
	ENTRIES4(inc, "inc mem", 0)
	ENTRIES4(dec, "dec mem", 0)
	ENTRIES4(neg, "neg mem", 0)
	ENTRIES4(not, "not mem", 0)
	ENTRIES4(xchg, "xchg reg,mem", 0)
	ENTRIES4(cmpxchg, "cmpxchg reg,mem", 0)
	ENTRIES4(lock_cmpxchg, "lock cmpxchg reg,mem", 0)
	ENTRIES4(lock_add, "lock add reg->mem", 0)
	ENTRIES4(lock_inc, "lock inc mem", 0)
	ENTRIES_BT(bt, "bt")
	ENTRIES_BT(bts, "bts")
	ENTRIES_BT(btr, "btr")
	ENTRIES_BT(btc, "btc")
	ENTRIES_BT(lock_bts, "lock bts")
	SHIFT_OPS(ENTRIES_SHIFT)
	ENTRIES4(mul, "mul mem", UNDEF_MUL)
	ENTRIES4(imul, "imul mem", UNDEF_MUL)
	{ "imul reg,mem (16-bit)", imul2_16, UNDEF_MUL, false },
	{ "imul reg,mem (32-bit)", imul2_32, UNDEF_MUL, false },
	{ "imul reg,mem (64-bit)", imul2_64, UNDEF_MUL, false },
	{ "imul reg,mem,imm (16-bit)", imul3_16, UNDEF_MUL, false },
	{ "imul reg,mem,imm (32-bit)", imul3_32, UNDEF_MUL, false },
	{ "imul reg,mem,imm (64-bit)", imul3_64, UNDEF_MUL, false },
	{ "push mem (16-bit)", push_16, 0, false },
	{ "push mem (64-bit)", push_64, 0, false },
	{ "pop mem (16-bit)", pop_16, 0, false },
	{ "pop mem (64-bit)", pop_64, 0, false },
	{ "movnti (32-bit)", movnti_32, 0, false },
	{ "movnti (64-bit)", movnti_64, 0, false },
	{ "sete mem", sete, 0, false },
	{ "setl mem", setl, 0, false },
	{ "setbe mem", setbe, 0, false },
	{ "setp mem", setp, 0, false },
	{ "cmove mem (16-bit)", cmove_16, 0, false },
	{ "cmovl mem (32-bit)", cmovl_32, 0, false },
	{ "cmovg mem (64-bit)", cmovg_64, 0, false },
	{ "cmovbe mem (32-bit)", cmovbe_32, 0, false },
	{ "clflush mem", clflush, 0, false },
	{ "smsw mem", smsw_m, 0, false },
	{ "sgdt mem", sgdt_m, 0, false },
	{ "sidt mem", sidt_m, 0, false },
	{ "sldt mem", sldt_m, 0, false },
	{ "str mem", str_m, 0, false },
};

/* DIV and IDIV: inputs whose quotients fit at every width, signed or not. */
static const struct insn_form divide_forms[] = {
	ENTRIES4(div, "div mem", FLAGS_ARITH)
	ENTRIES4(idiv, "idiv mem", FLAGS_ARITH)
};

/* MOVBE where CPUID offers it (not on Core 2). */
static const struct insn_form movbe_forms[] = {
	{ "movbe mem->reg (16-bit)", movbe_load_16, 0, false },
	{ "movbe mem->reg (32-bit)", movbe_load_32, 0, false },
	{ "movbe mem->reg (64-bit)", movbe_load_64, 0, false },
	{ "movbe reg->mem (16-bit)", movbe_store_16, 0, false },
	{ "movbe reg->mem (32-bit)", movbe_store_32, 0, false },
	{ "movbe reg->mem (64-bit)", movbe_store_64, 0, false },
};

/* SSE moves, run with CR4.OSFXSR set. */
static const struct insn_form sse_forms[] = {
	{ "movups mem->xmm", movups_load, 0, false },
	{ "movups xmm->mem", movups_store, 0, false },
	{ "movaps mem->xmm", movaps_load, 0, false },
	{ "movaps xmm->mem", movaps_store, 0, false },
	{ "movdqu mem->xmm", movdqu_load, 0, false },
	{ "movdqu xmm->mem", movdqu_store, 0, false },
	{ "movdqa mem->xmm", movdqa_load, 0, false },
	{ "movdqa xmm->mem", movdqa_store, 0, false },
	{ "movd mem->xmm", movd_load, 0, false },
	{ "movd xmm->mem", movd_store, 0, false },
	{ "movq mem->xmm", movq_load, 0, false },
	{ "movq xmm->mem", movq_store, 0, false },
};

/* Page-crossing accesses: a few forms of each kind of access (load, store, read-modify-
 * write, exchange). */
static const struct insn_form crossing_forms[] = {
	ENTRIES4(mov_rm, "mov reg->mem", 0)
	ENTRIES4(mov_mr, "mov mem->reg", 0)
	{ "movzx 16->32", movzwl, 0, false },
	{ "add reg->mem (32-bit)", add_rm_32, 0, false },
	{ "or imm->mem (64-bit)", or_im_64, UNDEF_LOGIC, false },
	{ "xchg reg,mem (32-bit)", xchg_32, 0, false },
	{ "cmpxchg reg,mem (64-bit)", cmpxchg_64, 0, false },
	{ "inc mem (16-bit)", inc_16, 0, false },
};

/* Operands chosen for carries, overflows, zero and sign results at every width; RAX equals
 * mem in some (CMPXCHG succeeds) and not in others (it fails). */
static const struct insn_input alu_inputs[] = {
	{ 0x0123456789abcdefull, 0xfedcba9876543210ull, 0x0123456789abcdefull, 0 },
	{ 0x8000000080008080ull, 0x7fffffff7fff7f7full, 0x1111, FLAGS_ARITH },
	{ 0xffffffffffffffffull, 0x1, 0, FLAG_CF },
	{ 0, 0, 0, FLAGS_ARITH },
	{ 0x7f7f7f7f7f7f7f7full, 0x0101010101010101ull, 0x7f7f7f7f7f7f7f7full, FLAG_ZF },
};

/* Register bit offsets address the bit string around mem, negative ones included (SDM
 * Vol. 2A, BT): all stay inside the window. */
static const struct insn_input bit_inputs[] = {
	{ 0x0123456789abcdefull, 5, 0, 0 },
	{ 0x8000000080008080ull, 37, 0, FLAGS_ARITH },
	{ 0xfedcba9876543210ull, (u64)-3, 0, FLAG_CF },
	{ 0x5555aaaa5555aaaaull, 15, 0, FLAG_ZF },
	{ 0xaaaa5555aaaa5555ull, 63, 0, 0 },
};

/* rDX ([reg]) : rAX over mem: no quotient overflows, at any width, signed or not. */
static const struct insn_input divide_inputs[] = {
	{ 0x4050607080706050ull, 0, 0x1234, 0 },
	{ 0x0000000100007f7full, 0, 0x7fffffffffff3f00ull, FLAGS_ARITH },
};

static u8 ram_window[WINDOW_BYTES] __aligned(64);
/* Two RAM pages: the native reference for page-crossing accesses. */
static u8 ram_pages[2 * PAGE_SIZE] __aligned(PAGE_SIZE);
/* RAM halves of the mixed RAM/MMIO page pairs. */
static u8 pair_ram_pages[2][PAGE_SIZE] __aligned(PAGE_SIZE);

/* Window accesses use one MOV each, on RAM and MMIO alike. */
static void fill_window(uintptr_t window, u64 operand)
{
	static const u64 neighbours[WINDOW_QWORDS] = {
		0x1122334455667788ull, 0x99aabbccddeeff00ull, 0, 0x0f1e2d3c4b5a6978ull,
	};

	for (int i = 0; i < WINDOW_QWORDS; i++)
		mmio_write64(window + 8 * i, i == WINDOW_OPERAND / 8 ? operand : neighbours[i]);
}

static void run_form(const struct insn_form *f, const struct insn_input *in, uintptr_t window,
		     unsigned operand_offset, struct insn_result *out)
{
	fill_window(window, in->mem);
	out->regs = (struct insn_regs){ in->rax, in->reg, in->flags | FLAGS_RESERVED_1 };
	f->run(&out->regs, (volatile void *)(window + operand_offset));
	for (int i = 0; i < WINDOW_QWORDS; i++)
		out->window[i] = mmio_read64(window + 8 * i);
}

static bool results_match(const struct insn_result *a, const struct insn_result *b,
			  u64 undefined_flags)
{
	return a->regs.rax == b->regs.rax && a->regs.reg == b->regs.reg &&
	       !((a->regs.flags ^ b->regs.flags) & ~undefined_flags) &&
	       !memcmp(a->window, b->window, sizeof(a->window));
}

static void print_result(const char *where, const struct insn_result *r)
{
	printf("    %-6s rax %#lx reg %#lx rflags %#lx window %#lx %#lx %#lx %#lx\n", where,
	       r->regs.rax, r->regs.reg, r->regs.flags, r->window[0], r->window[1],
	       r->window[2], r->window[3]);
}

/* Runs every input through f at test_window and at ram_reference; prints the mismatches. */
static bool check_form_inputs(const struct insn_form *f, uintptr_t test_window,
			      uintptr_t ram_reference, unsigned operand_offset, const char *where,
			      const struct insn_input *inputs, size_t count)
{
	bool ok = true;

	for (size_t i = 0; i < count; i++) {
		struct insn_result native, emulated;

		run_form(f, &inputs[i], ram_reference, operand_offset, &native);
		run_form(f, &inputs[i], test_window, operand_offset, &emulated);
		if (results_match(&native, &emulated, f->undefined_flags))
			continue;
		printf("  [%s] %s %s, input %zu differs (undefined flags %#lx):\n",
		       this_round->name, f->name, where, i, f->undefined_flags);
		print_result(where, &emulated);
		print_result("native", &native);
		ok = false;
	}
	return ok;
}

static bool check_form(const struct insn_form *f, uintptr_t test_window,
		       uintptr_t ram_reference, unsigned operand_offset, const char *where)
{
	if (f->bit_offset)
		return check_form_inputs(f, test_window, ram_reference, operand_offset, where,
					 bit_inputs, ARRAY_SIZE(bit_inputs));
	return check_form_inputs(f, test_window, ram_reference, operand_offset, where,
				 alu_inputs, ARRAY_SIZE(alu_inputs));
}

/* One table of forms on MMIO against RAM, with inputs (NULL: each form's own). */
static void check_form_table(const char *what, const struct insn_form *table, size_t n,
			     const struct insn_input *inputs, size_t ninputs)
{
	unsigned failed = 0;

	for (size_t i = 0; i < n; i++) {
		const struct insn_form *f = &table[i];
		bool ok = inputs ? check_form_inputs(f, TESTDEV(AREA_FORMS), (uintptr_t)ram_window,
						     WINDOW_OPERAND, "mmio", inputs, ninputs) :
			  check_form(f, TESTDEV(AREA_FORMS), (uintptr_t)ram_window,
				     WINDOW_OPERAND, "mmio");

		if (this_round->verbose)
			reportf(ok, "[%s] %s on MMIO matches native", this_round->name, f->name);
		failed += !ok;
	}
	if (!this_round->verbose)
		reportf(!failed, "[%s] %zu %s on MMIO match native (%u differ)",
			this_round->name, n, what, failed);
}

#define CR4_OSFXSR (1ul << 9)
#define CPUID_1_ECX_MOVBE (1u << 22)

static void check_forms(void)
{
	check_form_table("instruction forms", forms, ARRAY_SIZE(forms), NULL, 0);
	check_form_table("DIV/IDIV forms", divide_forms, ARRAY_SIZE(divide_forms),
			 divide_inputs, ARRAY_SIZE(divide_inputs));
	if (cpuid(1).ecx & CPUID_1_ECX_MOVBE)
		check_form_table("MOVBE forms", movbe_forms, ARRAY_SIZE(movbe_forms), NULL, 0);
	else
		report_skip("MOVBE forms: the CPU has no MOVBE");
	write_cr4(read_cr4() | CR4_OSFXSR);	/* SSE on; only these forms use XMM0/1 */
	check_form_table("SSE move forms", sse_forms, ARRAY_SIZE(sse_forms), NULL, 0);
}

/* LMSW with its operand on MMIO: the MSW read there becomes CR0's low bits (TS here). */
#define CR0_TS (1ul << 3)
static void check_lmsw(void)
{
	uintptr_t operand = TESTDEV(AREA_FORMS + WINDOW_OPERAND);
	unsigned long cr0, with_ts;

	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	mmio_write16(operand, (u16)(cr0 | CR0_TS));
	asm volatile("lmsw (%0)" : : "r"(operand) : "memory");
	asm volatile("mov %%cr0, %0" : "=r"(with_ts));
	asm volatile("clts");
	reportf(with_ts == (cr0 | CR0_TS), "[%s] lmsw from MMIO sets CR0.TS (CR0 %#lx -> %#lx)",
		this_round->name, cr0, with_ts);
}

/* ---- plain MOV and the moffs forms -------------------------------------------------- */

#define BASIC_PATTERN 0x8877665544332211ull

static void check_basic_mov(void)
{
	uintptr_t a = TESTDEV(AREA_BASIC);
	bool ok;

	mmio_write64(a, BASIC_PATTERN);
	ok = mmio_read64(a) == BASIC_PATTERN && mmio_read32(a + 4) == 0x88776655 &&
	     mmio_read16(a + 2) == 0x4433 && mmio_read8(a + 7) == 0x88;
	reportf(ok, "[%s] aligned MOV loads of each width read back a 64-bit store",
		this_round->name);
	ok = mmio_read32(a + 2) == 0x66554433 && mmio_read16(a + 5) == 0x7766;
	mmio_write64(a + 8, 0);
	mmio_write32(a + 9, 0xa1b2c3d4);
	ok = ok && mmio_read64(a + 8) == 0x000000a1b2c3d400ull;
	reportf(ok, "[%s] unaligned MOV within a page", this_round->name);
}

/* MOV with a 64-bit absolute address: A0-A3, with 66 and REX.W for 16 and 64 bits. */
static void check_moffs(void)
{
	uintptr_t a = TESTDEV(AREA_MOFFS);
	u64 rax = 0;
	bool ok = true;

	mmio_write64(a, BASIC_PATTERN);
	asm volatile("movabs %P1, %%al" : "+a"(rax) : "i"(TESTDEV(AREA_MOFFS + 1)));
	ok &= rax == 0x22;
	asm volatile("movabs %P1, %%ax" : "+a"(rax) : "i"(TESTDEV(AREA_MOFFS + 2)));
	ok &= rax == 0x4433;
	asm volatile("movabs %P1, %%eax" : "+a"(rax) : "i"(TESTDEV(AREA_MOFFS + 4)));
	ok &= rax == 0x88776655;
	asm volatile("movabs %P1, %%rax" : "+a"(rax) : "i"(TESTDEV(AREA_MOFFS)));
	ok &= rax == BASIC_PATTERN;
	reportf(ok, "[%s] moffs loads A0/A1 (8/16/32/64-bit)", this_round->name);

	mmio_write64(a + 8, 0);
	mmio_write64(a + 16, 0);
	rax = 0x0123456789abcdefull;
	asm volatile("movabs %%al, %P1" : : "a"(rax), "i"(TESTDEV(AREA_MOFFS + 8)) : "memory");
	asm volatile("movabs %%ax, %P1" : : "a"(rax), "i"(TESTDEV(AREA_MOFFS + 10)) : "memory");
	asm volatile("movabs %%eax, %P1" : : "a"(rax), "i"(TESTDEV(AREA_MOFFS + 12)) : "memory");
	asm volatile("movabs %%rax, %P1" : : "a"(rax), "i"(TESTDEV(AREA_MOFFS + 16)) : "memory");
	ok = mmio_read64(a + 8) == 0x89abcdefcdef00efull && mmio_read64(a + 16) == rax;
	reportf(ok, "[%s] moffs stores A2/A3 (8/16/32/64-bit)", this_round->name);
}

/* ---- string instructions ------------------------------------------------------------ */

#define STRING_BYTES 64
#define STRING_COUNT 5
#define STRING_START_UP 8	/* DF = 0: first element */
#define STRING_START_DOWN 48	/* DF = 1: first element */

struct string_regs {
	u64 rsi, rdi, rcx, rax, flags;
};

typedef void (*string_fn)(struct string_regs *r);

#define DEFINE_STRING(fn, text)						\
static void fn(struct string_regs *r)						\
{									\
	asm volatile("push %[flags]\n\tpopfq\n\t" text "\n\tpushfq\n\tpop %[flags]\n\tcld" \
		     : "+S"(r->rsi), "+D"(r->rdi), "+c"(r->rcx), "+a"(r->rax),	\
		       [flags] "+r"(r->flags) : : "memory", "cc");		\
}

#define DEFINE_STRING4(fn, text)						\
	DEFINE_STRING(fn##_8, text "b") DEFINE_STRING(fn##_16, text "w")	\
	DEFINE_STRING(fn##_32, text "l") DEFINE_STRING(fn##_64, text "q")

DEFINE_STRING4(rep_movs, "rep movs")
DEFINE_STRING4(rep_stos, "rep stos")
DEFINE_STRING4(rep_lods, "rep lods")
DEFINE_STRING4(repe_cmps, "repe cmps")
DEFINE_STRING4(repne_cmps, "repne cmps")
DEFINE_STRING4(repe_scas, "repe scas")
DEFINE_STRING4(repne_scas, "repne scas")
DEFINE_STRING(movsl, "movsl")
DEFINE_STRING(stosq, "stosq")
DEFINE_STRING(lodsw, "lodsw")
DEFINE_STRING(cmpsb, "cmpsb")
DEFINE_STRING(scasl, "scasl")

/* Which operands an instruction touches: the source (RSI) and/or destination (RDI). */
#define USES_SRC 1
#define USES_DST 2

struct string_form {
	const char *name;
	string_fn run;
	unsigned width;
	unsigned uses;
};

#define STRING_ENTRIES4(fn, what, uses)						\
	{ what "b", fn##_8, 1, uses }, { what "w", fn##_16, 2, uses },		\
	{ what "l", fn##_32, 4, uses }, { what "q", fn##_64, 8, uses },

static const struct string_form string_forms[] = {
	STRING_ENTRIES4(rep_movs, "rep movs", USES_SRC | USES_DST)
	STRING_ENTRIES4(rep_stos, "rep stos", USES_DST)
	STRING_ENTRIES4(rep_lods, "rep lods", USES_SRC)
	STRING_ENTRIES4(repe_cmps, "repe cmps", USES_SRC | USES_DST)
	STRING_ENTRIES4(repne_cmps, "repne cmps", USES_SRC | USES_DST)
	STRING_ENTRIES4(repe_scas, "repe scas", USES_DST)
	STRING_ENTRIES4(repne_scas, "repne scas", USES_DST)
	{ "movsl", movsl, 4, USES_SRC | USES_DST },
	{ "stosq", stosq, 8, USES_DST },
	{ "lodsw", lodsw, 2, USES_SRC },
	{ "cmpsb", cmpsb, 1, USES_SRC | USES_DST },
	{ "scasl", scasl, 4, USES_DST },
};

struct string_result {
	struct string_regs regs;	/* rsi and rdi relative to their buffers */
	u64 dst[STRING_BYTES / 8];
};

static u8 ram_string_src[STRING_BYTES] __aligned(64);
static u8 ram_string_dst[STRING_BYTES] __aligned(64);
static u8 ram_string_src2[STRING_BYTES] __aligned(64);
static u8 ram_string_dst2[STRING_BYTES] __aligned(64);

/* The destination differs from the source in a few bytes, so that REPE/REPNE comparisons
 * stop early at every width and in both directions. */
static u64 string_qword(unsigned i, bool dst)
{
	u64 q = 0;

	for (unsigned b = 0; b < 8; b++) {
		unsigned offset = 8 * i + b;
		u8 byte = (u8)(offset * 7 + 3);

		if (dst && (offset == 10 || offset == 27 || offset == 35 || offset == 45))
			byte ^= 0x80;
		q |= (u64)byte << (8 * b);
	}
	return q;
}

static void fill_string_buffers(uintptr_t src, uintptr_t dst)
{
	for (unsigned i = 0; i < STRING_BYTES / 8; i++) {
		mmio_write64(src + 8 * i, string_qword(i, false));
		mmio_write64(dst + 8 * i, string_qword(i, true));
	}
}

static void run_string(const struct string_form *f, bool down, uintptr_t src, uintptr_t dst,
		       struct string_result *out)
{
	unsigned start = down ? STRING_START_DOWN : STRING_START_UP;
	/* SCAS looks for the third element of the destination. */
	unsigned third = down ? start - 2 * f->width : start + 2 * f->width;
	u64 rax = string_qword(third / 8, true) >> (8 * (third % 8));

	fill_string_buffers(src, dst);
	out->regs = (struct string_regs){
		.rsi = src + start, .rdi = dst + start, .rcx = STRING_COUNT, .rax = rax,
		.flags = FLAGS_RESERVED_1 | (down ? FLAG_DF : 0),
	};
	f->run(&out->regs);
	out->regs.rsi -= src;
	out->regs.rdi -= dst;
	for (unsigned i = 0; i < STRING_BYTES / 8; i++)
		out->dst[i] = mmio_read64(dst + 8 * i);
}

static bool string_results_match(const struct string_result *a, const struct string_result *b)
{
	return !memcmp(&a->regs, &b->regs, sizeof(a->regs)) && !memcmp(a->dst, b->dst,
								      sizeof(a->dst));
}

static void print_string_result(const char *where, const struct string_result *r)
{
	printf("    %-6s rsi +%#lx rdi +%#lx rcx %lu rax %#lx rflags %#lx dst[8..23] %#lx %#lx\n",
	       where, r->regs.rsi, r->regs.rdi, r->regs.rcx, r->regs.rax, r->regs.flags,
	       r->dst[1], r->dst[2]);
}

/* One placement of the operands: source and/or destination in MMIO. */
struct string_placement {
	const char *name;
	uintptr_t src, dst;
	unsigned needs;		/* run only the forms that use all of these operands */
};

static bool check_string_form(const struct string_form *f, const struct string_placement *p)
{
	bool ok = true;

	for (int down = 0; down <= 1; down++) {
		struct string_result native, emulated;

		run_string(f, down, (uintptr_t)ram_string_src, (uintptr_t)ram_string_dst, &native);
		run_string(f, down, p->src, p->dst, &emulated);
		if (string_results_match(&native, &emulated))
			continue;
		printf("  [%s] %s with %s, DF=%d differs:\n", this_round->name, f->name, p->name,
		       down);
		print_string_result("mmio", &emulated);
		print_string_result("native", &native);
		ok = false;
	}
	return ok;
}

static void check_strings(void)
{
	const struct string_placement placements[] = {
		{ "source in MMIO", TESTDEV(AREA_STRING_SRC), (uintptr_t)ram_string_dst2,
		  USES_SRC },
		{ "destination in MMIO", (uintptr_t)ram_string_src2, TESTDEV(AREA_STRING_DST),
		  USES_DST },
		{ "both in MMIO", TESTDEV(AREA_STRING_SRC), TESTDEV(AREA_STRING_DST),
		  USES_SRC | USES_DST },
	};
	unsigned failed = 0, run = 0;

	for (size_t p = 0; p < ARRAY_SIZE(placements); p++) {
		for (size_t i = 0; i < ARRAY_SIZE(string_forms); i++) {
			const struct string_form *f = &string_forms[i];
			bool ok;

			if ((f->uses & placements[p].needs) != placements[p].needs)
				continue;
			ok = check_string_form(f, &placements[p]);
			if (this_round->verbose)
				reportf(ok, "[%s] %s, %s, DF=0 and DF=1, matches native",
					this_round->name, f->name, placements[p].name);
			failed += !ok;
			run++;
		}
	}
	if (!this_round->verbose)
		reportf(!failed, "[%s] %u string instruction runs on MMIO match native "
			"(%u differ)", this_round->name, run, failed);
}

/* ---- string port I/O on pc-testdev's scratch register ------------------------------- */

static void check_string_io(void)
{
	static const u32 out_dwords[3] = { 0x11111111, 0x22222222, 0x3c3c3c3c };
	static const u8 out_bytes[3] = { 0x41, 0x42, 0x43 };
	u8 in_bytes[4] __aligned(4) = { 0 };
	u16 in_words[3] = { 0 };
	const void *src = out_dwords;
	void *dst = in_bytes;
	unsigned long count = ARRAY_SIZE(out_dwords);

	asm volatile("rep outsl" : "+S"(src), "+c"(count) : "d"(TESTDEV_SCRATCH_PORT) : "memory");
	reportf(inl(TESTDEV_SCRATCH_PORT) == out_dwords[2] && count == 0 &&
		src == out_dwords + 3, "rep outsl: the port holds the last dword, RSI and RCX "
		"advanced");

	src = out_bytes;
	count = ARRAY_SIZE(out_bytes);
	asm volatile("rep outsb" : "+S"(src), "+c"(count) : "d"(TESTDEV_SCRATCH_PORT) : "memory");
	reportf(inb(TESTDEV_SCRATCH_PORT) == out_bytes[2] && count == 0 && src == out_bytes + 3,
		"rep outsb: the port holds the last byte, RSI and RCX advanced");

	outl(TESTDEV_SCRATCH_PORT, 0x44332211);
	count = ARRAY_SIZE(in_bytes);
	asm volatile("rep insb" : "+D"(dst), "+c"(count) : "d"(TESTDEV_SCRATCH_PORT) : "memory");
	reportf(!memcmp(in_bytes, "\x11\x11\x11\x11", 4) && count == 0 && dst == in_bytes + 4,
		"rep insb: every byte read from the port, RDI and RCX advanced");

	dst = in_words;
	count = ARRAY_SIZE(in_words);
	asm volatile("rep insw" : "+D"(dst), "+c"(count) : "d"(TESTDEV_SCRATCH_PORT) : "memory");
	reportf(in_words[0] == 0x2211 && in_words[1] == 0x2211 && in_words[2] == 0x2211 &&
		count == 0 && dst == in_words + 3, "rep insw: every word read from the port");

	memset(in_bytes, 0, sizeof(in_bytes));
	dst = in_bytes + 3;
	count = 3;
	asm volatile("std; rep insb; cld" : "+D"(dst), "+c"(count) : "d"(TESTDEV_SCRATCH_PORT)
		     : "memory");
	reportf(!memcmp(in_bytes, "\x00\x11\x11\x11", 4) && dst == in_bytes,
		"rep insb with DF=1 fills downwards and RDI moves down");
}

/* ---- page-crossing accesses --------------------------------------------------------- */

/* The operand starts 2 bytes before the page boundary, the window 16 bytes before it. */
#define CROSSING_WINDOW_BEFORE 16
#define CROSSING_OPERAND 14

static void check_crossing_case(const char *what, uintptr_t boundary)
{
	uintptr_t reference = (uintptr_t)ram_pages + PAGE_SIZE - CROSSING_WINDOW_BEFORE;
	unsigned failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(crossing_forms); i++) {
		bool ok = check_form(&crossing_forms[i], boundary - CROSSING_WINDOW_BEFORE,
				     reference, CROSSING_OPERAND, what);

		if (this_round->verbose)
			reportf(ok, "[%s] %s across %s matches native", this_round->name,
				crossing_forms[i].name, what);
		failed += !ok;
	}
	if (!this_round->verbose)
		reportf(!failed, "[%s] accesses across %s match native (%u of %zu forms differ)",
			this_round->name, what, failed, ARRAY_SIZE(crossing_forms));
}

#define RAM_PAGE_FLAGS PTE_WRITABLE
#define MMIO_PAGE_FLAGS (PTE_WRITABLE | PTE_PCD | PTE_PWT)

static bool map_crossing_pages(void)
{
	const struct {
		u64 va, pa, flags;
	} pages[] = {
		{ CROSS_RAM_TO_MMIO_VA, (uintptr_t)pair_ram_pages[0], RAM_PAGE_FLAGS },
		{ CROSS_RAM_TO_MMIO_VA + PAGE_SIZE, TESTDEV(AREA_AFTER_RAM), MMIO_PAGE_FLAGS },
		{ CROSS_MMIO_TO_RAM_VA, TESTDEV(AREA_BEFORE_RAM), MMIO_PAGE_FLAGS },
		{ CROSS_MMIO_TO_RAM_VA + PAGE_SIZE, (uintptr_t)pair_ram_pages[1], RAM_PAGE_FLAGS },
	};
	static bool mapped;

	for (size_t i = 0; i < ARRAY_SIZE(pages) && !mapped; i++) {
		if (!map_page(pages[i].va, pages[i].pa, pages[i].flags))
			return false;
	}
	mapped = true;
	return true;
}

/* One RIP for every store below, so the later ones can replay the first's MMIO site. */
static void __attribute__((noinline)) store32_at(uintptr_t addr, u32 v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

/*
 * A store at the MMIO page's first byte, twice (the second through the remembered site),
 * then the same instruction 2 bytes earlier, from the RAM page mapped just before it: it
 * exits at the same gpa, offset 0, yet half of it belongs to RAM. The page before the MMIO
 * page in guest-physical terms is not RAM, so only the linear address tells them apart.
 */
static void check_site_at_page_start(void)
{
	uintptr_t mmio = CROSS_RAM_TO_MMIO_VA + PAGE_SIZE;
	u8 *ram_tail = &pair_ram_pages[0][PAGE_SIZE - 2];

	ram_tail[0] = ram_tail[1] = 0;
	store32_at(mmio, 0x11111111);
	store32_at(mmio, 0x22222222);
	store32_at(mmio - 2, 0xaabbccdd);
	u32 in_mmio = mmio_read32(mmio);
	reportf(ram_tail[0] == 0xdd && ram_tail[1] == 0xcc && in_mmio == 0x2222aabb,
		"[%s] a store crossing from RAM into MMIO at the RIP of a store to the MMIO page's "
		"first byte is split, not replayed (RAM %02x %02x, MMIO %#x)", this_round->name,
		ram_tail[0], ram_tail[1], in_mmio);
}

static void check_crossing(void)
{
	check_crossing_case("a 4 KiB boundary inside MMIO", TESTDEV(AREA_PAGE_BOUNDARY));
	if (!map_crossing_pages()) {
		report("mapping RAM/MMIO page pairs in the guest page tables", false);
		return;
	}
	check_crossing_case("RAM into MMIO", CROSS_RAM_TO_MMIO_VA + PAGE_SIZE);
	check_crossing_case("MMIO into RAM", CROSS_MMIO_TO_RAM_VA + PAGE_SIZE);
	check_site_at_page_start();
}

/* ---- MMIO statistics: slow path first, cached path after ---------------------------- */

struct mmio_counts {
	long slow, cached, emulated;
};

static struct mmio_counts read_mmio_counts(void)
{
	return (struct mmio_counts){
		.slow = hc_stat_read(HC_STAT_MMIO_SLOW),
		.cached = hc_stat_read(HC_STAT_MMIO_CACHED),
		.emulated = hc_stat_read(HC_STAT_EMULATED),
	};
}

static void check_mmio_path_stats(void)
{
	uintptr_t page = TESTDEV(AREA_STATS + PAGE_SIZE * (stats_round++ % STATS_ROUNDS));
	struct mmio_counts c0, c1, c2;

	/* A write first: it leaves the guest's entry dirty, so on the shadow MMU the cached
	 * spte allows writes too (a write through a clean entry takes the slow path once, as
	 * the walker must set D). */
	c0 = read_mmio_counts();
	mmio_write32(page + 16, 1);
	c1 = read_mmio_counts();
	mmio_read32(page + 8);
	mmio_write32(page + 16, 2);
	c2 = read_mmio_counts();
	reportf(c1.slow - c0.slow == 1 && c1.cached == c0.cached,
		"[%s] first access to an MMIO page takes the slow path (slow +%ld, cached +%ld)",
		this_round->name, c1.slow - c0.slow, c1.cached - c0.cached);
	if (this_round->cached)
		reportf(c2.slow == c1.slow && c2.cached - c1.cached == 2,
			"[%s] the next two take the cached path (slow +%ld, cached +%ld)",
			this_round->name, c2.slow - c1.slow, c2.cached - c1.cached);
	else
		reportf(c2.slow - c1.slow == 2 && c2.cached == c1.cached,
			"[%s] with mmio_cache off the next two take the slow path too (slow +%ld, "
			"cached +%ld)", this_round->name, c2.slow - c1.slow, c2.cached - c1.cached);
	reportf(c2.emulated - c0.emulated == 3, "[%s] each access emulated once (emulated +%ld)",
		this_round->name, c2.emulated - c0.emulated);
}

/* ---- the Vireo test device's doorbells ---------------------------------------------- */

#define DOORBELL_WRITES 10
#define DOORBELL_FIRST_VALUE 0x1000

static u32 testdev_read(unsigned reg)
{
	return mmio_read32(VIREO_TESTDEV(reg));
}

/* On the shadow MMU no doorbell write takes the fast bus: each one is decoded. */
static enum fast_expectation expected_fast(void)
{
	return cpuid(VIREO_CPUID_FEATURES).eax & VIREO_FEATURE_SHADOW_MMU ? FAST_NONE :
									   this_round->fast;
}

static bool fast_count_ok(long delta, long writes)
{
	switch (expected_fast()) {
	case FAST_ALL:
		return delta == writes;
	case FAST_NONE:
		return delta == 0;
	default:
		return true;
	}
}

/*
 * The value a doorbell write leaves in HC_STAT_TESTDEV_LAST_VALUE. A write taken on the fast
 * MMIO bus is never decoded, so the device learns that the doorbell rang but not the value
 * (as with an ioeventfd without datamatch): the last value stays what it was. A write that
 * went through the emulator (fast_mmio=off) delivers its value.
 */
static bool last_value_ok(long got, long written, long before)
{
	switch (expected_fast()) {
	case FAST_ALL:
		return got == before;
	case FAST_NONE:
		return got == written;
	default:
		return got == before || got == written;
	}
}

static void check_any_value_doorbell(void)
{
	u32 count0 = testdev_read(VIREO_TESTDEV_DOORBELL_COUNT);	/* also caches the page */
	long bells0 = hc_stat_read(HC_STAT_TESTDEV_DOORBELL);
	long fast0 = hc_stat_read(HC_STAT_MMIO_FAST);
	long last0 = hc_stat_read(HC_STAT_TESTDEV_LAST_VALUE);
	long bells, fast, last, last8;

	for (u32 i = 0; i < DOORBELL_WRITES; i++)
		mmio_write32(VIREO_TESTDEV(VIREO_TESTDEV_DOORBELL), DOORBELL_FIRST_VALUE + i);
	bells = hc_stat_read(HC_STAT_TESTDEV_DOORBELL) - bells0;
	fast = hc_stat_read(HC_STAT_MMIO_FAST) - fast0;
	last = hc_stat_read(HC_STAT_TESTDEV_LAST_VALUE);
	reportf(bells == DOORBELL_WRITES, "[%s] %d doorbell writes counted once each (+%ld)",
		this_round->name, DOORBELL_WRITES, bells);
	reportf(last_value_ok(last, DOORBELL_FIRST_VALUE + DOORBELL_WRITES - 1, last0),
		"[%s] HC_STAT_TESTDEV_LAST_VALUE: the last value written when decoded, else "
		"unchanged (wrote %#x, before %#lx, got %#lx)", this_round->name,
		DOORBELL_FIRST_VALUE + DOORBELL_WRITES - 1, last0, last);
	reportf(testdev_read(VIREO_TESTDEV_DOORBELL_COUNT) - count0 == DOORBELL_WRITES,
		"[%s] the device's own doorbell count agrees", this_round->name);
	reportf(fast_count_ok(fast, DOORBELL_WRITES), "[%s] doorbells on the fast MMIO bus: +%ld",
		this_round->name, fast);

	bells0 = hc_stat_read(HC_STAT_TESTDEV_DOORBELL);
	last0 = last;
	mmio_write8(VIREO_TESTDEV(VIREO_TESTDEV_DOORBELL), 0x11);
	last8 = hc_stat_read(HC_STAT_TESTDEV_LAST_VALUE);
	mmio_write16(VIREO_TESTDEV(VIREO_TESTDEV_DOORBELL), 0x2222);
	mmio_write64(VIREO_TESTDEV(VIREO_TESTDEV_DOORBELL), 0x123456789ull);
	last = hc_stat_read(HC_STAT_TESTDEV_LAST_VALUE);
	bells = hc_stat_read(HC_STAT_TESTDEV_DOORBELL) - bells0;
	reportf(bells == 3, "[%s] 8-, 16- and 64-bit doorbell writes count once each (+%ld)",
		this_round->name, bells);
	reportf(last_value_ok(last8, 0x11, last0) && last_value_ok(last, 0x123456789l, last0),
		"[%s] ... and deliver their values when decoded (8-bit %#lx, 64-bit %#lx)",
		this_round->name, last8, last);
}

/* Writes of other values take the normal MMIO path, never the fast one (core/bus.h). */
static void check_match_doorbell(void)
{
	uintptr_t bell = VIREO_TESTDEV(VIREO_TESTDEV_MATCH_DOORBELL);
	u32 match0 = testdev_read(VIREO_TESTDEV_MATCH_COUNT);
	long fast0 = hc_stat_read(HC_STAT_MMIO_FAST), fast;

	mmio_write32(bell, VIREO_TESTDEV_MATCH_VALUE);
	mmio_write32(bell, VIREO_TESTDEV_MATCH_VALUE + 1);
	mmio_write32(bell, 0);
	mmio_write32(bell, VIREO_TESTDEV_MATCH_VALUE);
	fast = hc_stat_read(HC_STAT_MMIO_FAST) - fast0;
	reportf(testdev_read(VIREO_TESTDEV_MATCH_COUNT) - match0 == 2,
		"[%s] the value-match doorbell counts only writes of %#x", this_round->name,
		VIREO_TESTDEV_MATCH_VALUE);
	reportf(fast <= 2, "[%s] non-matching writes never count as fast MMIO (+%ld for 2 "
		"matching writes)", this_round->name, fast);
}

/* ---- the same MOV again and again: Vireo's MMIO site path (vmexit/emulate.c) -------- */

#define SITE_REPEATS 6		/* the first exits slow, the second fills the site, the rest use it */

/* Loads and stores at one RIP each, repeated: register widths must behave exactly as on
 * the CPU (8- and 16-bit loads keep the rest of the register, 32-bit ones zero-extend). */
static void check_repeated_site(void)
{
	uintptr_t addr = TESTDEV(0x3000);
	bool ok = true;
	for (u64 i = 0; i < SITE_REPEATS; i++) {
		u64 value = 0x1122334455667788ull ^ (i * 0x0101010101010101ull);
		asm volatile("movq %0, (%1)" : : "r"(value), "r"(addr) : "memory");
		u64 r8 = ~0ull, r16 = ~0ull, r32 = ~0ull, r64 = 0;
		asm volatile("movb (%1), %b0" : "+q"(r8) : "r"(addr) : "memory");
		asm volatile("movw (%1), %w0" : "+r"(r16) : "r"(addr) : "memory");
		asm volatile("movl (%1), %k0" : "+r"(r32) : "r"(addr) : "memory");
		asm volatile("movq (%1), %0" : "=r"(r64) : "r"(addr) : "memory");
		asm volatile("movl $0x5a5a5a5a, (%0)" : : "r"(addr + 8) : "memory");
		ok &= r8 == (~0xffull | (value & 0xff)) && r16 == (~0xffffull | (value & 0xffff)) &&
		      r32 == (u32)value && r64 == value &&
		      mmio_read32(addr + 8) == 0x5a5a5a5au;
	}
	reportf(ok, "[%s] one MOV per RIP, %d times: loads keep or zero-extend the register as "
		"the CPU does, stores land", this_round->name, SITE_REPEATS);
}

static void check_testdev_scratch(void)
{
	mmio_write64(VIREO_TESTDEV(VIREO_TESTDEV_SCRATCH), 0xdeadbeefcafef00dull);
	reportf(mmio_read64(VIREO_TESTDEV(VIREO_TESTDEV_SCRATCH)) == 0xdeadbeefcafef00dull,
		"[%s] Vireo test device scratch register round trip", this_round->name);
}

/* ---- a round: every access check under one setting --------------------------------- */

static void run_round(const struct round *r)
{
	this_round = r;
	check_mmio_path_stats();
	check_basic_mov();
	check_moffs();
	check_forms();
	check_lmsw();
	check_strings();
	check_crossing();
	check_any_value_doorbell();
	check_match_doorbell();
	check_testdev_scratch();
	check_repeated_site();
}

static bool set_switch(unsigned which, const char *name, bool on)
{
	long ret = hc_set_switch(which, on);

	return reportf(ret == 0, "HC_SET_SWITCH %s=%s (got %ld)", name, on ? "on" : "off", ret);
}

static void run_switch_rounds(void)
{
	static const struct round cache_off = { "mmio_cache=off", false, false, FAST_ANY };
	static const struct round cache_on = { "mmio_cache=on again", false, true, FAST_ALL };
	static const struct round fast_off = { "fast_mmio=off", false, true, FAST_NONE };
	static const struct round fast_on = { "fast_mmio=on again", false, true, FAST_ALL };

	if (set_switch(HC_SWITCH_MMIO_CACHE, "mmio_cache", false))
		run_round(&cache_off);
	if (set_switch(HC_SWITCH_MMIO_CACHE, "mmio_cache", true))
		run_round(&cache_on);
	if (set_switch(HC_SWITCH_FAST_MMIO, "fast_mmio", false))
		run_round(&fast_off);
	if (set_switch(HC_SWITCH_FAST_MMIO, "fast_mmio", true))
		run_round(&fast_on);
}

/* ---- memory slots over gfns cached as MMIO ------------------------------------------ */

#define SLOT_PATTERN 0x1234abcdu

static bool reads_unassigned(uintptr_t gpa)
{
	return mmio_read32(gpa) == ALL_ONES_32 && mmio_read32(gpa + 4) == ALL_ONES_32;
}

static void check_memslots(void)
{
	unsigned long gfn = SLOT_TEST_GPA >> PAGE_SHIFT;
	long stale0, slot, ret;

	reportf(reads_unassigned(SLOT_TEST_GPA) && reads_unassigned(SLOT_TEST_NEXT_GPA),
		"gpas %#lx and %#lx read all-ones before any slot (now cached as MMIO)",
		SLOT_TEST_GPA, SLOT_TEST_NEXT_GPA);
	stale0 = hc_stat_read(HC_STAT_MMIO_STALE);
	slot = hc_memslot_add(gfn, 1, 0);
	if (!reportf(slot >= 0, "HC_MEMSLOT_ADD of gfn %#lx (got %ld)", gfn, slot))
		return;
	reportf(mmio_read32(SLOT_TEST_GPA) == 0, "the new slot reads as zeroed RAM");
	reportf(hc_stat_read(HC_STAT_MMIO_STALE) > stale0, "the stale MMIO entry was dropped "
		"(HC_STAT_MMIO_STALE %ld -> %ld)", stale0, hc_stat_read(HC_STAT_MMIO_STALE));
	mmio_write32(SLOT_TEST_GPA, SLOT_PATTERN);
	reportf(mmio_read32(SLOT_TEST_GPA) == SLOT_PATTERN, "writes to the new slot stick");
	ret = hc_memslot_add(gfn, 1, 0);
	reportf(ret == -HC_EBUSY, "HC_MEMSLOT_ADD over the slot returns -HC_EBUSY (got %ld)", ret);

	ret = hc_memslot_move(slot, gfn + 1);
	reportf(ret == 0, "HC_MEMSLOT_MOVE to gfn %#lx (got %ld)", gfn + 1, ret);
	reportf(mmio_read32(SLOT_TEST_NEXT_GPA) == SLOT_PATTERN,
		"the moved slot keeps its contents at the new gfn");
	reportf(reads_unassigned(SLOT_TEST_GPA), "the old gfn reads all-ones again");

	ret = hc_memslot_delete(slot);
	reportf(ret == 0, "HC_MEMSLOT_DELETE (got %ld)", ret);
	mmio_write32(SLOT_TEST_NEXT_GPA, SLOT_PATTERN);
	reportf(reads_unassigned(SLOT_TEST_NEXT_GPA),
		"after the delete the gfn is unassigned MMIO again: all-ones, writes ignored");
	ret = hc_memslot_delete(slot);
	reportf(ret == -HC_EINVAL, "deleting it again returns -HC_EINVAL (got %ld)", ret);
}

/* ---- executing from MMIO ------------------------------------------------------------ */

#define UD2_BYTES 0x0b0f

/* Fetching code from MMIO: Vireo either injects #UD (the bytes there are UD2 anyway) or
 * stops the VM cleanly. */
static void check_exec_from_mmio(void)
{
	uintptr_t code = TESTDEV(AREA_EXEC);
	int vector;

	for (int i = 0; i < 8; i++)
		mmio_write16(code + 2 * i, UD2_BYTES);
	printf("mmio: jumping to code in MMIO at %#lx\n", code);
	vector = catch_exception(((void (*)(void))code)());
	reportf(vector == UD_VECTOR && last_exception.rip == code,
		"executing from MMIO raises #UD at %#lx (got %s at %#lx)", code,
		exception_name(vector), last_exception.rip);
}

/* The first round runs under the switches Vireo's command line set; the guest's own
 * command line says which ("expect_mmio_cache_off", "expect_fast_mmio_off"). */
static struct round first_round(const char *cmdline)
{
	struct round r = { "default", true, true, FAST_ALL };
	if (cmdline_has_word(cmdline, "expect_mmio_cache_off")) {
		r.name = "mmio_cache=off from the command line";
		r.cached = false;
	}
	if (cmdline_has_word(cmdline, "expect_fast_mmio_off")) {
		r.name = r.cached ? "fast_mmio=off from the command line" :
				    "mmio_cache=off fast_mmio=off from the command line";
		r.fast = FAST_NONE;
	}
	return r;
}

int main(const struct multiboot_info *mbi)
{
	const char *cmdline = mb_cmdline(mbi);
	const struct round first = first_round(cmdline);

	/* Alone: Vireo may stop the VM there. */
	if (cmdline_has_word(cmdline, "exec")) {
		check_exec_from_mmio();
		exit_test();
	}
	run_round(&first);
	check_string_io();
	if (cmdline_has_word(cmdline, "trusted")) {
		run_switch_rounds();
		check_memslots();
	} else {
		report_skip("switch rounds and memory slots: not trusted");
	}
	exit_test();
}
