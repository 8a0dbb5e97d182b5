/* Unit tests of the instruction decoder and emulator: a table of encodings with their
 * registers, flags, memory and port accesses, exceptions and lengths; ALU results and
 * flags checked against the host CPU itself; the length-only decoder.
 * unit-sources: arch/x86/decode.c arch/x86/emulate.c
 */
#include "arch/x86/decode.h"
#include "tests/unit/emulate_harness.h"
#include "tests/unit/unit.h"

#define F_CF 0x1ull
#define F_PF 0x4ull
#define F_AF 0x10ull
#define F_ZF 0x40ull
#define F_SF 0x80ull
#define F_DF 0x400ull
#define F_OF 0x800ull
#define F_RF 0x10000ull
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_FIXED 0x2ull

#define M16 X86_MODE_PROT16
#define MRL X86_MODE_REAL
#define M32 X86_MODE_PROT32
#define M64 X86_MODE_LONG64

#define CODE_RIP 0x1000ull	/* where a case's code sits unless it says otherwise */
#define D 0x2000ull		/* the usual data address */
#define S2 0x3000ull		/* a second one (string destinations) */

struct reg_val {
	u8 reg1;	/* register number + 1, 0 ends the list */
	u64 val;
};

struct mem_val {
	u64 addr;
	u8 size;	/* 0 ends the list */
	u64 val;
};

struct emu_case {
	int line;
	u8 mode;
	const char *code;
	struct reg_val in[6];
	u64 flags_in;
	u64 flags_out;		/* 0: same as flags_in */
	struct reg_val out[5];	/* registers that change */
	struct mem_val mem[4];	/* memory before */
	struct fake_access io[8];	/* every read, write, in and out, in order */
	int result;
	u8 vector;
	u32 error_code;
	u64 cr2;
	u64 rip;		/* 0: CODE_RIP */
	bool has_rip_out;	/* else: after the instruction on success, rip otherwise */
	u64 rip_out;
	u64 seg_base[6];
	u64 fault_page;
	struct reg_val sys[3];	/* system registers that differ from the harness's */
	bool sys_write_faults;
};

#define CASE(m, c, ...) { .line = __LINE__, .mode = (m), .code = (c), __VA_ARGS__ }
#define IN(...) .in = { __VA_ARGS__ }
#define OUT(...) .out = { __VA_ARGS__ }
#define MEM(...) .mem = { __VA_ARGS__ }
#define IO(...) .io = { __VA_ARGS__ }
#define R(r, v) { X86_##r + 1, (v) }
#define M(a, s, v) { (a), (s), (v) }
#define RD(a, s, v) { 'r', (a), (s), (v) }
#define WR(a, s, v) { 'w', (a), (s), (v) }
#define PIN(p, s, v) { 'i', (p), (s), (v) }
#define POUT(p, s, v) { 'o', (p), (s), (v) }
#define FL(i, o) .flags_in = (i), .flags_out = (o)
#define PF_(addr, code) .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_PF, \
	.error_code = (code), .cr2 = (addr)
#define UD_ .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_UD
#define GP_ .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_GP
#define SS_ .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_SS
#define UNHANDLED_ .result = X86_EMUL_UNHANDLED
#define RIP_OUT(v) .has_rip_out = true, .rip_out = (v)
#define SEG(s, b) .seg_base[X86_SEG_##s] = (b)
#define SYS(...) .sys = { __VA_ARGS__ }
#define SR(r, v) { X86_SYSREG_##r + 1, (v) }
#define LOADS(r, v) { 'c', X86_SYSREG_##r, 8, (v) }	/* a system register loaded */
#define XW(n, v) { 'x', (n), 16, (v) }			/* an XMM register written */
#define DE_ .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_DE
#define NM_ .result = X86_EMUL_EXCEPTION, .vector = X86_EXC_NM
#define CR4_UMIP_ 0x800ull
#define CR4_DE_ 0x8ull
#define CR0_TS_ 0x8ull
#define CR0_EM_ 0x4ull

#define RAXV 0x1122334455667788ull

static const struct emu_case cases[] = {
	/* --- MOV stores, 64-bit --- */
	CASE(M64, "89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "48 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 8, RAXV))),
	CASE(M64, "66 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 2, 0x7788))),
	CASE(M64, "88 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 1, 0x88))),
	CASE(M64, "88 27", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 1, 0x77))),	/* ah */
	CASE(M64, "40 88 27", IN(R(RDI, D), R(RSP, 0xaabb)), IO(WR(D, 1, 0xbb))),	/* spl */
	CASE(M64, "40 88 37", IN(R(RDI, D), R(RSI, 0x1234)), IO(WR(D, 1, 0x34))),	/* sil */
	CASE(M64, "88 37", IN(R(RDI, D), R(RDX, 0x5678)), IO(WR(D, 1, 0x56))),	/* dh */
	CASE(M64, "44 88 07", IN(R(RDI, D), R(R8, 0x99)), IO(WR(D, 1, 0x99))),	/* r8b */
	CASE(M64, "41 88 07", IN(R(R15, D), R(RAX, 0x42)), IO(WR(D, 1, 0x42))),	/* [r15] */
	CASE(M64, "4c 89 3f", IN(R(RDI, D), R(R15, RAXV)), IO(WR(D, 8, RAXV))),
	CASE(M64, "45 89 3f", IN(R(R15, D)), IO(WR(D, 4, D))),	/* mov [r15], r15d */
	CASE(M64, "89 47 10", IN(R(RDI, D), R(RAX, 1)), IO(WR(D + 0x10, 4, 1))),
	CASE(M64, "89 47 f0", IN(R(RDI, D), R(RAX, 1)), IO(WR(D - 0x10, 4, 1))),
	CASE(M64, "89 87 00 01 00 00", IN(R(RDI, D), R(RAX, 1)), IO(WR(D + 0x100, 4, 1))),
	CASE(M64, "89 87 00 f0 ff ff", IN(R(RDI, 0x12000), R(RAX, 1)), IO(WR(0x11000, 4, 1))),
	CASE(M64, "89 04 8f", IN(R(RDI, D), R(RCX, 3), R(RAX, 1)), IO(WR(D + 12, 4, 1))),
	CASE(M64, "89 04 4f", IN(R(RDI, D), R(RCX, 3), R(RAX, 1)), IO(WR(D + 6, 4, 1))),
	CASE(M64, "89 04 cf", IN(R(RDI, D), R(RCX, 3), R(RAX, 1)), IO(WR(D + 24, 4, 1))),
	CASE(M64, "89 44 8f 08", IN(R(RDI, D), R(RCX, 3), R(RAX, 1)), IO(WR(D + 20, 4, 1))),
	CASE(M64, "89 04 8d 00 20 00 00", IN(R(RCX, 3), R(RAX, 1)), IO(WR(D + 12, 4, 1))),
	CASE(M64, "89 04 25 00 20 00 00", IN(R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "41 89 04 25 00 20 00 00", IN(R(RAX, 1), R(R13, 0x5000)), IO(WR(D, 4, 1))),
	CASE(M64, "89 04 24", IN(R(RSP, D), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "89 04 27", IN(R(RDI, D), R(RAX, 1)), IO(WR(D, 4, 1))),	/* no index */
	CASE(M64, "42 89 04 a7", IN(R(RDI, D), R(R12, 2), R(RAX, 1)), IO(WR(D + 8, 4, 1))),
	CASE(M64, "41 89 04 24", IN(R(R12, D), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "41 89 45 00", IN(R(R13, D), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "43 89 04 2c", IN(R(R12, D), R(R13, 4), R(RAX, 1)), IO(WR(D + 4, 4, 1))),
	CASE(M64, "89 05 f0 0f 00 00", IN(R(RAX, 1)), IO(WR(0x1ff6, 4, 1))),	/* rip-rel */
	CASE(M64, "89 05 f0 ff ff ff", IN(R(RAX, 1)), IO(WR(0xff6, 4, 1))),
	CASE(M64, "67 89 05 20 00 00 00", .rip = 0xfffffff0, RIP_OUT(0xfffffff7), IN(R(RAX, 1)),
	     IO(WR(0x17, 4, 1))),	/* eip-relative wraps at 4 GiB */
	CASE(M64, "c7 05 f0 0f 00 00 78 56 34 12", IO(WR(0x1ffa, 4, 0x12345678))),
	CASE(M64, "67 89 07", IN(R(RDI, 0xffffffff00002000), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "89 07", IN(R(RDI, 0xffff800000002000), R(RAX, 1)),
	     IO(WR(0xffff800000002000, 4, 1))),
	CASE(M64, "2e 89 07", IN(R(RDI, D), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "26 89 07", SEG(ES, 0x10000), IN(R(RDI, D), R(RAX, 1)), IO(WR(D, 4, 1))),
	CASE(M64, "64 89 07", SEG(FS, 0x10000), IN(R(RDI, D), R(RAX, 1)),
	     IO(WR(0x12000, 4, 1))),
	CASE(M64, "65 48 89 07", SEG(GS, 0x7f0000000000), IN(R(RDI, D), R(RAX, RAXV)),
	     IO(WR(0x7f0000002000, 8, RAXV))),
	CASE(M64, "f3 89 07", IN(R(RDI, D), R(RAX, 1)), IO(WR(D, 4, 1))),	/* rep ignored */

	/* REX placement: only right before the opcode counts; the last one wins */
	CASE(M64, "48 66 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 2, 0x7788))),
	CASE(M64, "66 48 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 8, RAXV))),
	CASE(M64, "48 40 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "40 89 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 89 07",
	     IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 2, 0x7788))),	/* exactly 15 bytes */

	/* --- MOV loads --- */
	CASE(M64, "8b 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 4, 0xdddddddd)),
	     OUT(R(RAX, 0xdddddddd)), IO(RD(D, 4, 0xdddddddd))),
	CASE(M64, "66 8b 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 2, 0x1234)),
	     OUT(R(RAX, 0xffffffffffff1234)), IO(RD(D, 2, 0x1234))),
	CASE(M64, "8a 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x12)),
	     OUT(R(RAX, 0xffffffffffffff12)), IO(RD(D, 1, 0x12))),
	CASE(M64, "8a 27", IN(R(RDI, D), R(RSP, ~0ull)), MEM(M(D, 1, 0x12)),
	     OUT(R(RAX, 0x1200)), IO(RD(D, 1, 0x12))),	/* ah, rsp untouched */
	CASE(M64, "8a 27", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x12)),
	     OUT(R(RAX, 0xffffffffffff12ff)), IO(RD(D, 1, 0x12))),
	CASE(M64, "40 8a 27", IN(R(RDI, D), R(RSP, ~0ull)), MEM(M(D, 1, 0x12)),
	     OUT(R(RSP, 0xffffffffffffff12)), IO(RD(D, 1, 0x12))),	/* spl */
	CASE(M64, "48 8b 07", IN(R(RDI, D)), MEM(M(D, 8, RAXV)), OUT(R(RAX, RAXV)),
	     IO(RD(D, 8, RAXV))),
	CASE(M64, "4c 8b 07", IN(R(RDI, D)), MEM(M(D, 8, RAXV)), OUT(R(R8, RAXV)),
	     IO(RD(D, 8, RAXV))),
	CASE(M64, "4d 8b 00", IN(R(R8, D)), MEM(M(D, 8, RAXV)), OUT(R(R8, RAXV)),
	     IO(RD(D, 8, RAXV))),
	CASE(M64, "44 8b 4f 04", IN(R(RDI, D), R(R9, ~0ull)), MEM(M(D + 4, 4, 7)),
	     OUT(R(R9, 7)), IO(RD(D + 4, 4, 7))),
	CASE(M64, "8b 05 fa 0f 00 00", MEM(M(0x2000, 4, 9)), OUT(R(RAX, 9)),
	     IO(RD(0x2000, 4, 9))),

	/* --- moffs --- */
	CASE(M64, "a1 00 20 00 00 00 00 00 00", MEM(M(D, 4, 0xabcd)), OUT(R(RAX, 0xabcd)),
	     IO(RD(D, 4, 0xabcd))),
	CASE(M64, "48 a1 00 10 00 00 00 80 ff ff", MEM(M(0xffff800000001000, 8, RAXV)),
	     OUT(R(RAX, RAXV)), IO(RD(0xffff800000001000, 8, RAXV))),
	CASE(M64, "a0 00 20 00 00 00 00 00 00", IN(R(RAX, ~0ull)), MEM(M(D, 1, 0x5)),
	     OUT(R(RAX, 0xffffffffffffff05)), IO(RD(D, 1, 5))),
	CASE(M64, "66 a1 00 20 00 00 00 00 00 00", IN(R(RAX, ~0ull)), MEM(M(D, 2, 0x5)),
	     OUT(R(RAX, 0xffffffffffff0005)), IO(RD(D, 2, 5))),
	CASE(M64, "a2 00 20 00 00 00 00 00 00", IN(R(RAX, RAXV)), IO(WR(D, 1, 0x88))),
	CASE(M64, "a3 00 20 00 00 00 00 00 00", IN(R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "48 a3 08 20 00 00 00 00 00 00", IN(R(RAX, RAXV)), IO(WR(D + 8, 8, RAXV))),
	CASE(M64, "67 a3 00 20 00 00", IN(R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "64 a3 00 20 00 00 00 00 00 00", SEG(FS, 0x40000), IN(R(RAX, 1)),
	     IO(WR(0x42000, 4, 1))),
	CASE(M64, "a1 88 77 66 55 44 33 22 11", GP_),		/* non-canonical */

	/* --- MOV immediate --- */
	CASE(M64, "c7 07 78 56 34 12", IN(R(RDI, D)), IO(WR(D, 4, 0x12345678))),
	CASE(M64, "48 c7 07 f0 ff ff ff", IN(R(RDI, D)), IO(WR(D, 8, 0xfffffffffffffff0))),
	CASE(M64, "48 c7 07 f0 ff ff 7f", IN(R(RDI, D)), IO(WR(D, 8, 0x7ffffff0))),
	CASE(M64, "66 c7 07 34 12", IN(R(RDI, D)), IO(WR(D, 2, 0x1234))),
	CASE(M64, "c6 07 ab", IN(R(RDI, D)), IO(WR(D, 1, 0xab))),
	CASE(M64, "c6 47 10 ab", IN(R(RDI, D)), IO(WR(D + 0x10, 1, 0xab))),
	CASE(M64, "41 c6 00 ab", IN(R(R8, D)), IO(WR(D, 1, 0xab))),
	CASE(M64, "c7 44 24 08 01 00 00 00", IN(R(RSP, D)), IO(WR(D + 8, 4, 1))),

	/* --- MOVNTI: a MOV to memory of 32 or 64 bits --- */
	CASE(M64, "0f c3 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M64, "48 0f c3 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 8, RAXV))),
	CASE(M64, "0f c3 c0", UD_),
	CASE(M64, "66 0f c3 07", UD_),

	/* --- MOVZX, MOVSX, MOVSXD --- */
	CASE(M64, "0f b6 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x80)),
	     OUT(R(RAX, 0x80)), IO(RD(D, 1, 0x80))),
	CASE(M64, "0f b7 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 2, 0x8000)),
	     OUT(R(RAX, 0x8000)), IO(RD(D, 2, 0x8000))),
	CASE(M64, "48 0f b6 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0xff)),
	     OUT(R(RAX, 0xff)), IO(RD(D, 1, 0xff))),
	CASE(M64, "66 0f b6 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x80)),
	     OUT(R(RAX, 0xffffffffffff0080)), IO(RD(D, 1, 0x80))),
	CASE(M64, "44 0f b6 3f", IN(R(RDI, D), R(R15, ~0ull)), MEM(M(D, 1, 0x7f)),
	     OUT(R(R15, 0x7f)), IO(RD(D, 1, 0x7f))),
	CASE(M64, "0f be 07", IN(R(RDI, D)), MEM(M(D, 1, 0x80)), OUT(R(RAX, 0xffffff80)),
	     IO(RD(D, 1, 0x80))),
	CASE(M64, "0f be 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x7f)),
	     OUT(R(RAX, 0x7f)), IO(RD(D, 1, 0x7f))),
	CASE(M64, "48 0f bf 07", IN(R(RDI, D)), MEM(M(D, 2, 0x8000)),
	     OUT(R(RAX, 0xffffffffffff8000)), IO(RD(D, 2, 0x8000))),
	CASE(M64, "66 0f be 07", IN(R(RDI, D), R(RAX, 0x12345678)), MEM(M(D, 1, 0x80)),
	     OUT(R(RAX, 0x1234ff80)), IO(RD(D, 1, 0x80))),
	CASE(M64, "48 0f be 07", IN(R(RDI, D)), MEM(M(D, 1, 0xfe)),
	     OUT(R(RAX, 0xfffffffffffffffe)), IO(RD(D, 1, 0xfe))),
	CASE(M64, "48 63 07", IN(R(RDI, D)), MEM(M(D, 4, 0x80000000)),
	     OUT(R(RAX, 0xffffffff80000000)), IO(RD(D, 4, 0x80000000))),
	CASE(M64, "48 63 07", IN(R(RDI, D)), MEM(M(D, 4, 0x7fffffff)),
	     OUT(R(RAX, 0x7fffffff)), IO(RD(D, 4, 0x7fffffff))),
	CASE(M64, "63 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 4, 0x80000000)),
	     OUT(R(RAX, 0x80000000)), IO(RD(D, 4, 0x80000000))),
	CASE(M64, "66 63 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 4, 0x12348000)),
	     OUT(R(RAX, 0xffffffffffff8000)), IO(RD(D, 2, 0x8000))),
	CASE(M32, "0f b6 07", IN(R(RDI, D)), MEM(M(D, 1, 0x99)), OUT(R(RAX, 0x99)),
	     IO(RD(D, 1, 0x99))),
	CASE(M16, "0f bf 07", IN(R(RBX, D), R(RAX, 0x11112222)), MEM(M(D, 2, 0x8001)),
	     OUT(R(RAX, 0x11118001)), IO(RD(D, 2, 0x8001))),	/* movsx ax, word [bx] */
	CASE(M16, "66 0f bf 07", IN(R(RBX, D)), MEM(M(D, 2, 0x8001)),
	     OUT(R(RAX, 0xffff8001)), IO(RD(D, 2, 0x8001))),

	/* --- ALU, memory destination (flags worked out by hand) --- */
	CASE(M64, "01 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 4, 0xffffffff)),
	     FL(0, F_CF | F_PF | F_AF | F_ZF), IO(RD(D, 4, 0xffffffff), WR(D, 4, 0))),
	CASE(M64, "01 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 4, 0x7fffffff)),
	     FL(0, F_SF | F_OF | F_AF | F_PF), IO(RD(D, 4, 0x7fffffff), WR(D, 4, 0x80000000))),
	CASE(M64, "11 07", IN(R(RDI, D), R(RAX, 0x20)), MEM(M(D, 4, 0x10)),
	     FL(F_CF, F_FIXED), IO(RD(D, 4, 0x10), WR(D, 4, 0x31))),
	CASE(M64, "19 07", IN(R(RDI, D), R(RAX, 0x10)), MEM(M(D, 4, 0x10)),
	     FL(F_CF, F_CF | F_PF | F_AF | F_SF), IO(RD(D, 4, 0x10), WR(D, 4, 0xffffffff))),
	CASE(M64, "29 07", IN(R(RDI, D), R(RAX, 3)), MEM(M(D, 4, 5)),
	     FL(F_CF | F_ZF, F_FIXED), IO(RD(D, 4, 5), WR(D, 4, 2))),
	CASE(M64, "39 07", IN(R(RDI, D), R(RAX, 5)), MEM(M(D, 4, 3)),
	     FL(0, F_CF | F_AF | F_SF), IO(RD(D, 4, 3))),
	CASE(M64, "21 07", IN(R(RDI, D), R(RAX, 0x0ff00ff0)), MEM(M(D, 4, 0xf0f0f0f0)),
	     FL(F_CF | F_OF | F_AF, F_PF), IO(RD(D, 4, 0xf0f0f0f0), WR(D, 4, 0x00f000f0))),
	CASE(M64, "09 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 4, 0x80000000)),
	     FL(0, F_SF), IO(RD(D, 4, 0x80000000), WR(D, 4, 0x80000001))),
	CASE(M64, "31 07", IN(R(RDI, D), R(RAX, 0x12345678)), MEM(M(D, 4, 0x12345678)),
	     FL(F_CF, F_ZF | F_PF), IO(RD(D, 4, 0x12345678), WR(D, 4, 0))),
	CASE(M64, "48 01 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 8, 0xffffffff)),
	     FL(0, F_PF | F_AF), IO(RD(D, 8, 0xffffffff), WR(D, 8, 0x100000000))),
	CASE(M64, "66 01 07", IN(R(RDI, D), R(RAX, 0x8000)), MEM(M(D, 2, 0x8000)),
	     FL(0, F_CF | F_ZF | F_PF | F_OF), IO(RD(D, 2, 0x8000), WR(D, 2, 0))),
	CASE(M64, "00 27", IN(R(RDI, D), R(RAX, 0x0100)), MEM(M(D, 1, 0xff)),
	     FL(0, F_CF | F_ZF | F_PF | F_AF), IO(RD(D, 1, 0xff), WR(D, 1, 0))),	/* ah */
	CASE(M64, "f0 01 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 4, 1)),
	     FL(0, F_FIXED), IO(RD(D, 4, 1), WR(D, 4, 2))),
	CASE(M64, "f0 48 29 0f", IN(R(RDI, D), R(RCX, 1)), MEM(M(D, 8, 1)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 8, 1), WR(D, 8, 0))),

	/* register destination, memory source */
	CASE(M64, "03 07", IN(R(RDI, D), R(RAX, 0xffffffff00000001)), MEM(M(D, 4, 2)),
	     FL(0, F_PF), OUT(R(RAX, 3)), IO(RD(D, 4, 2))),
	CASE(M64, "2a 07", IN(R(RDI, D), R(RAX, 0x1234)), MEM(M(D, 1, 0x35)),
	     FL(0, F_CF | F_SF | F_PF | F_AF), OUT(R(RAX, 0x12ff)), IO(RD(D, 1, 0x35))),
	CASE(M64, "3b 07", IN(R(RDI, D), R(RAX, 7)), MEM(M(D, 4, 7)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 4, 7))),
	CASE(M64, "4c 0b 07", IN(R(RDI, D), R(R8, 0x100)), MEM(M(D, 8, 0x8000000000000001)),
	     FL(0, F_SF), OUT(R(R8, 0x8000000000000101)), IO(RD(D, 8, 0x8000000000000001))),

	/* immediate forms */
	CASE(M64, "80 07 01", IN(R(RDI, D)), MEM(M(D, 1, 0xff)),
	     FL(0, F_CF | F_ZF | F_PF | F_AF), IO(RD(D, 1, 0xff), WR(D, 1, 0))),
	CASE(M64, "83 07 ff", IN(R(RDI, D)), MEM(M(D, 4, 1)),
	     FL(0, F_CF | F_ZF | F_PF | F_AF), IO(RD(D, 4, 1), WR(D, 4, 0))),
	CASE(M64, "48 83 2f 01", IN(R(RDI, D)), MEM(M(D, 8, 0)),
	     FL(0, F_CF | F_PF | F_AF | F_SF), IO(RD(D, 8, 0), WR(D, 8, ~0ull))),
	CASE(M64, "48 81 07 ff ff ff ff", IN(R(RDI, D)), MEM(M(D, 8, 0x100000000)),
	     FL(0, F_CF | F_PF), IO(RD(D, 8, 0x100000000), WR(D, 8, 0xffffffff))),
	CASE(M64, "66 83 07 80", IN(R(RDI, D)), MEM(M(D, 2, 0x80)),
	     FL(0, F_CF | F_ZF | F_PF), IO(RD(D, 2, 0x80), WR(D, 2, 0))),
	CASE(M64, "81 37 ff 00 ff 00", IN(R(RDI, D)), MEM(M(D, 4, 0x12345678)),
	     FL(0, F_PF), IO(RD(D, 4, 0x12345678), WR(D, 4, 0x12cb5687))),
	CASE(M64, "81 3f 78 56 34 12", IN(R(RDI, D)), MEM(M(D, 4, 0x12345678)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 4, 0x12345678))),
	CASE(M64, "83 67 04 f0", IN(R(RDI, D)), MEM(M(D + 4, 4, 0xff)),
	     FL(0, F_PF), IO(RD(D + 4, 4, 0xff), WR(D + 4, 4, 0xf0))),
	CASE(M64, "80 4f 01 80", IN(R(RDI, D)), MEM(M(D + 1, 1, 0x01)),
	     FL(0, F_SF | F_PF), IO(RD(D + 1, 1, 1), WR(D + 1, 1, 0x81))),
	CASE(M64, "80 17 00", IN(R(RDI, D)), MEM(M(D, 1, 0xff)),	/* adc byte, CF in */
	     FL(F_CF, F_CF | F_ZF | F_PF | F_AF), IO(RD(D, 1, 0xff), WR(D, 1, 0))),
	CASE(M64, "80 1f 00", IN(R(RDI, D)), MEM(M(D, 1, 0)),	/* sbb byte, CF in */
	     FL(F_CF, F_CF | F_SF | F_PF | F_AF), IO(RD(D, 1, 0), WR(D, 1, 0xff))),
	CASE(M64, "05 01 00 00 00", IN(R(RAX, 0x7fffffff)),
	     FL(0, F_SF | F_OF | F_AF | F_PF), OUT(R(RAX, 0x80000000))),
	CASE(M64, "48 2d 01 00 00 00", IN(R(RAX, 0)), FL(0, F_CF | F_SF | F_AF | F_PF),
	     OUT(R(RAX, ~0ull))),
	CASE(M64, "3c 10", IN(R(RAX, 0x10)), FL(0, F_ZF | F_PF)),

	/* TEST */
	CASE(M64, "84 07", IN(R(RDI, D), R(RAX, 0xf0)), MEM(M(D, 1, 0x0f)),
	     FL(F_CF | F_OF, F_ZF | F_PF), IO(RD(D, 1, 0x0f))),
	CASE(M64, "85 07", IN(R(RDI, D), R(RAX, 0x80000000)), MEM(M(D, 4, 0x80000001)),
	     FL(0, F_SF | F_PF), IO(RD(D, 4, 0x80000001))),
	CASE(M64, "f6 07 80", IN(R(RDI, D)), MEM(M(D, 1, 0x80)), FL(0, F_SF),
	     IO(RD(D, 1, 0x80))),
	CASE(M64, "f7 07 00 00 00 80", IN(R(RDI, D)), MEM(M(D, 4, 0x80000001)),
	     FL(0, F_SF | F_PF), IO(RD(D, 4, 0x80000001))),
	CASE(M64, "f6 0f 01", IN(R(RDI, D)), MEM(M(D, 1, 3)), FL(F_ZF, F_FIXED),
	     IO(RD(D, 1, 3))),
	CASE(M64, "48 f7 07 ff ff ff ff", IN(R(RDI, D)), MEM(M(D, 8, 0x8000000000000000)),
	     FL(0, F_SF | F_PF), IO(RD(D, 8, 0x8000000000000000))),
	CASE(M64, "66 f7 07 00 80", IN(R(RDI, D)), MEM(M(D, 2, 0x7fff)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 2, 0x7fff))),
	CASE(M64, "a8 01", IN(R(RAX, 0)), FL(0, F_ZF | F_PF)),
	CASE(M64, "a9 00 01 00 00", IN(R(RAX, 0x100)), FL(0, F_PF)),

	/* INC, DEC (CF kept), NOT (no flags), NEG */
	CASE(M64, "fe 07", IN(R(RDI, D)), MEM(M(D, 1, 0x7f)),
	     FL(F_CF, F_CF | F_AF | F_SF | F_OF), IO(RD(D, 1, 0x7f), WR(D, 1, 0x80))),
	CASE(M64, "fe 0f", IN(R(RDI, D)), MEM(M(D, 1, 0x80)),
	     FL(0, F_AF | F_OF), IO(RD(D, 1, 0x80), WR(D, 1, 0x7f))),
	CASE(M64, "ff 07", IN(R(RDI, D)), MEM(M(D, 4, 0xffffffff)),
	     FL(0, F_ZF | F_PF | F_AF), IO(RD(D, 4, 0xffffffff), WR(D, 4, 0))),
	CASE(M64, "48 ff 0f", IN(R(RDI, D)), MEM(M(D, 8, 1)),
	     FL(F_CF, F_CF | F_ZF | F_PF), IO(RD(D, 8, 1), WR(D, 8, 0))),
	CASE(M64, "66 ff 07", IN(R(RDI, D)), MEM(M(D, 2, 0x7fff)),
	     FL(0, F_SF | F_OF | F_AF | F_PF), IO(RD(D, 2, 0x7fff), WR(D, 2, 0x8000))),
	CASE(M64, "f0 ff 0f", IN(R(RDI, D)), MEM(M(D, 4, 2)),
	     FL(0, F_FIXED), IO(RD(D, 4, 2), WR(D, 4, 1))),
	CASE(M64, "f6 17", IN(R(RDI, D)), MEM(M(D, 1, 0x0f)), FL(F_CF | F_ZF, 0),
	     IO(RD(D, 1, 0x0f), WR(D, 1, 0xf0))),
	CASE(M64, "48 f7 17", IN(R(RDI, D)), MEM(M(D, 8, 0)), FL(F_SF, 0),
	     IO(RD(D, 8, 0), WR(D, 8, ~0ull))),
	CASE(M64, "f7 1f", IN(R(RDI, D)), MEM(M(D, 4, 1)),
	     FL(0, F_CF | F_SF | F_PF | F_AF), IO(RD(D, 4, 1), WR(D, 4, 0xffffffff))),
	CASE(M64, "f7 1f", IN(R(RDI, D)), MEM(M(D, 4, 0)), FL(F_CF, F_ZF | F_PF),
	     IO(RD(D, 4, 0), WR(D, 4, 0))),
	CASE(M64, "48 f7 1f", IN(R(RDI, D)), MEM(M(D, 8, 0x8000000000000000)),
	     FL(0, F_CF | F_PF | F_SF | F_OF),
	     IO(RD(D, 8, 0x8000000000000000), WR(D, 8, 0x8000000000000000))),
	CASE(M64, "f6 1f", IN(R(RDI, D)), MEM(M(D, 1, 0x10)),
	     FL(0, F_CF | F_SF | F_PF), IO(RD(D, 1, 0x10), WR(D, 1, 0xf0))),

	/* --- XCHG, CMPXCHG, XADD --- */
	CASE(M64, "87 07", IN(R(RDI, D), R(RAX, RAXV)), MEM(M(D, 4, 0xaabbccdd)),
	     OUT(R(RAX, 0xaabbccdd)), IO(RD(D, 4, 0xaabbccdd), WR(D, 4, 0x55667788))),
	CASE(M64, "86 27", IN(R(RDI, D), R(RAX, 0x2233)), MEM(M(D, 1, 0x11)),
	     OUT(R(RAX, 0x1133)), IO(RD(D, 1, 0x11), WR(D, 1, 0x22))),
	CASE(M64, "48 87 07", IN(R(RDI, D), R(RAX, RAXV)), MEM(M(D, 8, 5)),
	     OUT(R(RAX, 5)), IO(RD(D, 8, 5), WR(D, 8, RAXV))),
	CASE(M64, "f0 66 87 0f", IN(R(RDI, D), R(RCX, 0xffff1234)), MEM(M(D, 2, 5)),
	     OUT(R(RCX, 0xffff0005)), IO(RD(D, 2, 5), WR(D, 2, 0x1234))),
	CASE(M64, "0f b1 0f", IN(R(RDI, D), R(RAX, 5), R(RCX, 9)), MEM(M(D, 4, 5)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 4, 5), WR(D, 4, 9))),
	CASE(M64, "0f b1 0f", IN(R(RDI, D), R(RAX, 0xffffffff00000005), R(RCX, 9)),
	     MEM(M(D, 4, 7)), FL(0, F_CF | F_SF | F_AF), OUT(R(RAX, 7)),
	     IO(RD(D, 4, 7), WR(D, 4, 7))),
	CASE(M64, "f0 48 0f b1 0f", IN(R(RDI, D), R(RAX, RAXV), R(RCX, 1)),
	     MEM(M(D, 8, RAXV)), FL(F_CF, F_ZF | F_PF), IO(RD(D, 8, RAXV), WR(D, 8, 1))),
	CASE(M64, "0f b0 0f", IN(R(RDI, D), R(RAX, 0x12), R(RCX, 0x34)), MEM(M(D, 1, 0x12)),
	     FL(0, F_ZF | F_PF), IO(RD(D, 1, 0x12), WR(D, 1, 0x34))),
	CASE(M64, "66 0f b1 0f", IN(R(RDI, D), R(RAX, 0xaaaa0001), R(RCX, 0x34)),
	     MEM(M(D, 2, 0x8000)), FL(0, F_CF | F_SF | F_OF),
	     OUT(R(RAX, 0xaaaa8000)), IO(RD(D, 2, 0x8000), WR(D, 2, 0x8000))),
	CASE(M64, "0f c1 07", IN(R(RDI, D), R(RAX, 3)), MEM(M(D, 4, 0xfffffffe)),
	     FL(0, F_CF | F_AF), OUT(R(RAX, 0xfffffffe)), IO(RD(D, 4, 0xfffffffe), WR(D, 4, 1))),
	CASE(M64, "f0 48 0f c1 07", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 8, 1)),
	     FL(0, F_FIXED), OUT(R(RAX, 1)), IO(RD(D, 8, 1), WR(D, 8, 2))),
	CASE(M64, "0f c0 27", IN(R(RDI, D), R(RAX, 0x100)), MEM(M(D, 1, 0xff)),
	     FL(0, F_CF | F_ZF | F_PF | F_AF), OUT(R(RAX, 0xff00)),
	     IO(RD(D, 1, 0xff), WR(D, 1, 0))),

	/* --- CMPXCHG8B --- */
	CASE(M64, "0f c7 0f", IN(R(RDI, D), R(RDX, 0x11111111), R(RAX, 0x22222222),
				 R(RCX, 0x33333333), R(RBX, 0x44444444)),
	     MEM(M(D, 8, 0x1111111122222222)), FL(F_CF, F_CF | F_ZF),
	     IO(RD(D, 8, 0x1111111122222222), WR(D, 8, 0x3333333344444444))),
	CASE(M64, "f0 0f c7 0f", IN(R(RDI, D), R(RDX, 0xffffffff11111111), R(RAX, 0x22222222),
				    R(RCX, 0x33333333), R(RBX, 0x44444444)),
	     MEM(M(D, 8, 0x5555555566666666)), FL(F_ZF | F_CF, F_CF),
	     OUT(R(RDX, 0x55555555), R(RAX, 0x66666666)),
	     IO(RD(D, 8, 0x5555555566666666), WR(D, 8, 0x5555555566666666))),
	CASE(M32, "0f c7 4f 08", IN(R(RDI, D), R(RDX, 1), R(RAX, 2), R(RCX, 3), R(RBX, 4)),
	     MEM(M(D + 8, 8, 0x100000002)), FL(0, F_ZF),
	     IO(RD(D + 8, 8, 0x100000002), WR(D + 8, 8, 0x300000004))),
	CASE(M64, "48 0f c7 0f", IN(R(RDI, D + 8)), GP_),	/* 16B needs alignment */
	CASE(M64, "0f c7 c8", UD_),

	/* --- BT, BTS, BTR, BTC --- */
	CASE(M64, "0f a3 07", IN(R(RDI, D), R(RAX, 3)), MEM(M(D, 4, 8)),
	     FL(F_ZF | F_SF | F_OF, F_ZF | F_SF | F_OF | F_CF), IO(RD(D, 4, 8))),
	CASE(M64, "0f a3 07", IN(R(RDI, D), R(RAX, 35)), MEM(M(D + 4, 4, 8)),
	     FL(0, F_CF), IO(RD(D + 4, 4, 8))),
	CASE(M64, "0f a3 07", IN(R(RDI, D), R(RAX, 0xffffffff)), MEM(M(D - 4, 4, 0x80000000)),
	     FL(0, F_CF), IO(RD(D - 4, 4, 0x80000000))),
	CASE(M64, "66 0f a3 07", IN(R(RDI, D), R(RAX, 0x11)), MEM(M(D + 2, 2, 2)),
	     FL(0, F_CF), IO(RD(D + 2, 2, 2))),
	CASE(M64, "66 0f a3 07", IN(R(RDI, D), R(RAX, 0xfff1)), MEM(M(D - 2, 2, 2)),
	     FL(0, F_CF), IO(RD(D - 2, 2, 2))),
	CASE(M64, "48 0f a3 07", IN(R(RDI, D), R(RAX, (u64)-65)),
	     MEM(M(D - 16, 8, 0x8000000000000000)), FL(0, F_CF),
	     IO(RD(D - 16, 8, 0x8000000000000000))),
	CASE(M64, "0f ab 07", IN(R(RDI, D), R(RAX, 4)), MEM(M(D, 4, 0)), FL(F_CF, F_FIXED),
	     IO(RD(D, 4, 0), WR(D, 4, 0x10))),
	CASE(M64, "f0 0f ab 07", IN(R(RDI, D), R(RAX, 36)), MEM(M(D + 4, 4, 0x10)),
	     FL(0, F_CF), IO(RD(D + 4, 4, 0x10), WR(D + 4, 4, 0x10))),
	CASE(M64, "0f b3 07", IN(R(RDI, D), R(RAX, 0)), MEM(M(D, 4, 0xff)), FL(0, F_CF),
	     IO(RD(D, 4, 0xff), WR(D, 4, 0xfe))),
	CASE(M64, "0f bb 07", IN(R(RDI, D), R(RAX, 0)), MEM(M(D, 4, 1)), FL(0, F_CF),
	     IO(RD(D, 4, 1), WR(D, 4, 0))),
	CASE(M64, "0f ba 27 05", IN(R(RDI, D)), MEM(M(D, 4, 0x20)), FL(0, F_CF),
	     IO(RD(D, 4, 0x20))),
	CASE(M64, "0f ba 2f 21", IN(R(RDI, D)), MEM(M(D, 4, 0)), FL(F_CF, F_FIXED),
	     IO(RD(D, 4, 0), WR(D, 4, 2))),	/* imm offset wraps: 33 -> bit 1 */
	CASE(M64, "0f ba 37 00", IN(R(RDI, D)), MEM(M(D, 4, 1)), FL(0, F_CF),
	     IO(RD(D, 4, 1), WR(D, 4, 0))),
	CASE(M64, "48 0f ba 3f 3f", IN(R(RDI, D)), MEM(M(D, 8, 0)), FL(0, F_FIXED),
	     IO(RD(D, 8, 0), WR(D, 8, 0x8000000000000000))),
	CASE(M64, "66 0f ba 3f 1f", IN(R(RDI, D)), MEM(M(D, 2, 0x8000)), FL(0, F_CF),
	     IO(RD(D, 2, 0x8000), WR(D, 2, 0))),	/* 31 & 15 = bit 15 */
	CASE(M64, "0f a3 c8", IN(R(RAX, 0x10), R(RCX, 36)), FL(0, F_CF)),	/* reg: mod 32 */
	CASE(M64, "0f ba 07 01", UD_),
	CASE(M64, "f0 0f a3 07", UD_),
	CASE(M32, "0f a3 07", IN(R(RDI, D), R(RAX, 0xffffffe0)), MEM(M(D - 4, 4, 1)),
	     FL(0, F_CF), IO(RD(D - 4, 4, 1))),

	/* --- string instructions --- */
	CASE(M64, "a4", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 1, 0x5a)),
	     OUT(R(RSI, D + 1), R(RDI, S2 + 1)), IO(RD(D, 1, 0x5a), WR(S2, 1, 0x5a))),
	CASE(M64, "a5", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 4, 0x12345678)),
	     OUT(R(RSI, D + 4), R(RDI, S2 + 4)),
	     IO(RD(D, 4, 0x12345678), WR(S2, 4, 0x12345678))),
	CASE(M64, "66 a5", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 2, 0x5678)),
	     OUT(R(RSI, D + 2), R(RDI, S2 + 2)), IO(RD(D, 2, 0x5678), WR(S2, 2, 0x5678))),
	CASE(M64, "48 a5", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 8, RAXV)),
	     OUT(R(RSI, D + 8), R(RDI, S2 + 8)), IO(RD(D, 8, RAXV), WR(S2, 8, RAXV))),
	CASE(M64, "a5", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 4, 7)), FL(F_DF, 0),
	     OUT(R(RSI, D - 4), R(RDI, S2 - 4)), IO(RD(D, 4, 7), WR(S2, 4, 7))),
	CASE(M64, "f3 a4", IN(R(RSI, D), R(RDI, S2), R(RCX, 3)), MEM(M(D, 4, 0x44332211)),
	     OUT(R(RSI, D + 3), R(RDI, S2 + 3), R(RCX, 0)),
	     IO(RD(D, 1, 0x11), WR(S2, 1, 0x11), RD(D + 1, 1, 0x22), WR(S2 + 1, 1, 0x22),
		RD(D + 2, 1, 0x33), WR(S2 + 2, 1, 0x33))),
	CASE(M64, "f3 a5", IN(R(RSI, D), R(RDI, S2), R(RCX, 0))),
	CASE(M64, "f2 a5", IN(R(RSI, D), R(RDI, S2), R(RCX, 1)), MEM(M(D, 4, 7)),
	     OUT(R(RSI, D + 4), R(RDI, S2 + 4), R(RCX, 0)), IO(RD(D, 4, 7), WR(S2, 4, 7))),
	CASE(M64, "67 f3 a4", IN(R(RSI, 0xffffffff00000000 | D), R(RDI, 0xffffffff00000000 | S2),
				 R(RCX, 0xffffffff00000002)), MEM(M(D, 2, 0x2211)),
	     OUT(R(RSI, D + 2), R(RDI, S2 + 2), R(RCX, 0)),
	     IO(RD(D, 1, 0x11), WR(S2, 1, 0x11), RD(D + 1, 1, 0x22), WR(S2 + 1, 1, 0x22))),
	CASE(M64, "64 a4", SEG(FS, 0x10000), IN(R(RSI, D), R(RDI, S2)),
	     MEM(M(0x10000 + D, 1, 9)), OUT(R(RSI, D + 1), R(RDI, S2 + 1)),
	     IO(RD(0x10000 + D, 1, 9), WR(S2, 1, 9))),
	CASE(M64, "f3 48 ab", IN(R(RDI, S2 + 8), R(RCX, 2), R(RAX, RAXV)), FL(F_DF, 0),
	     OUT(R(RDI, S2 - 8), R(RCX, 0)), IO(WR(S2 + 8, 8, RAXV), WR(S2, 8, RAXV))),
	CASE(M64, "aa", IN(R(RDI, S2), R(RAX, RAXV)), OUT(R(RDI, S2 + 1)),
	     IO(WR(S2, 1, 0x88))),
	CASE(M64, "66 ab", IN(R(RDI, S2), R(RAX, RAXV)), OUT(R(RDI, S2 + 2)),
	     IO(WR(S2, 2, 0x7788))),
	CASE(M64, "ac", IN(R(RSI, D), R(RAX, ~0ull)), MEM(M(D, 1, 0x12)),
	     OUT(R(RSI, D + 1), R(RAX, 0xffffffffffffff12)), IO(RD(D, 1, 0x12))),
	CASE(M64, "ad", IN(R(RSI, D), R(RAX, ~0ull)), MEM(M(D, 4, 0x12)),
	     OUT(R(RSI, D + 4), R(RAX, 0x12)), IO(RD(D, 4, 0x12))),
	CASE(M64, "48 ad", IN(R(RSI, D)), MEM(M(D, 8, RAXV)), FL(F_DF, 0),
	     OUT(R(RSI, D - 8), R(RAX, RAXV)), IO(RD(D, 8, RAXV))),
	CASE(M64, "a6", IN(R(RSI, D), R(RDI, S2)), MEM(M(D, 1, 3), M(S2, 1, 5)),
	     FL(0, F_CF | F_SF | F_AF), OUT(R(RSI, D + 1), R(RDI, S2 + 1)),
	     IO(RD(D, 1, 3), RD(S2, 1, 5))),
	CASE(M64, "f3 a6", IN(R(RSI, D), R(RDI, S2), R(RCX, 5)),
	     MEM(M(D, 4, 0x64636261), M(S2, 4, 0x64786261)),
	     FL(0, F_CF | F_PF | F_AF | F_SF), OUT(R(RSI, D + 3), R(RDI, S2 + 3), R(RCX, 2)),
	     IO(RD(D, 1, 0x61), RD(S2, 1, 0x61), RD(D + 1, 1, 0x62), RD(S2 + 1, 1, 0x62),
		RD(D + 2, 1, 0x63), RD(S2 + 2, 1, 0x78))),
	CASE(M64, "f2 a7", IN(R(RSI, D), R(RDI, S2), R(RCX, 2)),
	     MEM(M(D, 8, 0x0000000200000001), M(S2, 8, 0x0000000300000004)),
	     FL(0, F_CF | F_PF | F_AF | F_SF), OUT(R(RSI, D + 8), R(RDI, S2 + 8), R(RCX, 0)),
	     IO(RD(D, 4, 1), RD(S2, 4, 4), RD(D + 4, 4, 2), RD(S2 + 4, 4, 3))),
	CASE(M64, "f2 ae", IN(R(RDI, S2), R(RCX, 10), R(RAX, 0x63)), MEM(M(S2, 4, 0x64636261)),
	     FL(0, F_ZF | F_PF), OUT(R(RDI, S2 + 3), R(RCX, 7)),
	     IO(RD(S2, 1, 0x61), RD(S2 + 1, 1, 0x62), RD(S2 + 2, 1, 0x63))),
	CASE(M64, "ae", IN(R(RDI, S2), R(RAX, 1)), MEM(M(S2, 1, 1)), FL(0, F_ZF | F_PF),
	     OUT(R(RDI, S2 + 1)), IO(RD(S2, 1, 1))),
	CASE(M64, "f3 ae", IN(R(RDI, S2), R(RCX, 3), R(RAX, 0x61)), MEM(M(S2, 4, 0x626161)),
	     FL(0, F_CF | F_SF | F_AF | F_PF), OUT(R(RDI, S2 + 3), R(RCX, 0)),
	     IO(RD(S2, 1, 0x61), RD(S2 + 1, 1, 0x61), RD(S2 + 2, 1, 0x62))),
	CASE(M64, "66 af", IN(R(RDI, S2), R(RAX, 0x1234)), MEM(M(S2, 2, 0x1234)),
	     FL(0, F_ZF | F_PF), OUT(R(RDI, S2 + 2)), IO(RD(S2, 2, 0x1234))),
	CASE(M64, "6c", IN(R(RDI, S2), R(RDX, 0x60)), OUT(R(RDI, S2 + 1)),
	     IO(PIN(0x60, 1, 0x11), WR(S2, 1, 0x11))),
	CASE(M64, "f3 6d", IN(R(RDI, S2), R(RDX, 0x1f0), R(RCX, 2)),
	     OUT(R(RDI, S2 + 8), R(RCX, 0)),
	     IO(PIN(0x1f0, 4, 0x11111111), WR(S2, 4, 0x11111111),
		PIN(0x1f0, 4, 0x22222222), WR(S2 + 4, 4, 0x22222222))),
	CASE(M64, "66 6d", IN(R(RDI, S2), R(RDX, 0x10060)), OUT(R(RDI, S2 + 2)),
	     IO(PIN(0x60, 2, 0x1111), WR(S2, 2, 0x1111))),
	CASE(M64, "48 6d", IN(R(RDI, S2), R(RDX, 0x60)), OUT(R(RDI, S2 + 4)),
	     IO(PIN(0x60, 4, 0x11111111), WR(S2, 4, 0x11111111))),
	CASE(M64, "6e", IN(R(RSI, D), R(RDX, 0x3f8)), MEM(M(D, 1, 0x41)), OUT(R(RSI, D + 1)),
	     IO(RD(D, 1, 0x41), POUT(0x3f8, 1, 0x41))),
	CASE(M64, "f3 66 6f", IN(R(RSI, D), R(RDX, 0x3f8), R(RCX, 2)), MEM(M(D, 4, 0x44332211)),
	     OUT(R(RSI, D + 4), R(RCX, 0)),
	     IO(RD(D, 2, 0x2211), POUT(0x3f8, 2, 0x2211), RD(D + 2, 2, 0x4433),
		POUT(0x3f8, 2, 0x4433))),
	CASE(M64, "48 6f", IN(R(RSI, D), R(RDX, 0x3f8)), MEM(M(D, 8, RAXV)),
	     OUT(R(RSI, D + 4)), IO(RD(D, 4, 0x55667788), POUT(0x3f8, 4, 0x55667788))),
	CASE(M64, "65 6e", SEG(GS, 0x100000), IN(R(RSI, D), R(RDX, 0x80)),
	     MEM(M(0x100000 + D, 1, 0x41)), OUT(R(RSI, D + 1)),
	     IO(RD(0x100000 + D, 1, 0x41), POUT(0x80, 1, 0x41))),
	/* a fault in the third iteration keeps the first two */
	CASE(M64, "f3 a4", .fault_page = 0x4000, IN(R(RSI, D), R(RDI, 0x3ffe), R(RCX, 4)),
	     MEM(M(D, 4, 0x44332211)), OUT(R(RSI, D + 2), R(RDI, 0x4000), R(RCX, 2)),
	     PF_(0x4000, PF_WRITE),
	     IO(RD(D, 1, 0x11), WR(0x3ffe, 1, 0x11), RD(D + 1, 1, 0x22), WR(0x3fff, 1, 0x22),
		RD(D + 2, 1, 0x33))),
	CASE(M64, "f3 6c", .fault_page = S2, IN(R(RDI, S2), R(RDX, 0x60), R(RCX, 2)),
	     PF_(S2, PF_WRITE), IO(PIN(0x60, 1, 0x11))),	/* the port value is lost */
	CASE(M64, "6c", IN(R(RDI, 0x0000800000000000), R(RDX, 0x60)),
	     GP_),	/* but a non-canonical destination faults before the port is read */

	/* string instructions in 32- and 16-bit code, with segment bases */
	CASE(M32, "f3 a5", SEG(DS, 0x10000), SEG(ES, 0x100000),
	     IN(R(RSI, D), R(RDI, S2), R(RCX, 2)),
	     MEM(M(0x10000 + D, 8, 0x2222222211111111)),
	     OUT(R(RSI, D + 8), R(RDI, S2 + 8), R(RCX, 0)),
	     IO(RD(0x10000 + D, 4, 0x11111111), WR(0x100000 + S2, 4, 0x11111111),
		RD(0x10000 + D + 4, 4, 0x22222222), WR(0x100000 + S2 + 4, 4, 0x22222222))),
	CASE(M16, "f3 a4", SEG(DS, 0x50000), SEG(ES, 0x60000),
	     IN(R(RSI, 0x12000 | D), R(RDI, 0x13000 | S2), R(RCX, 0x10002)),
	     MEM(M(0x50000 + D, 2, 0x2211)),
	     OUT(R(RSI, 0x12000 | (D + 2)), R(RDI, 0x13000 | (S2 + 2)), R(RCX, 0x10000)),
	     IO(RD(0x50000 + D, 1, 0x11), WR(0x60000 + S2, 1, 0x11),
		RD(0x50000 + D + 1, 1, 0x22), WR(0x60000 + S2 + 1, 1, 0x22))),
	CASE(M16, "ad", SEG(DS, 0x50000), IN(R(RSI, 0xffff), R(RAX, 0xaaaaaaaa)),
	     MEM(M(0x5ffff, 2, 0x1234)), OUT(R(RSI, 1), R(RAX, 0xaaaa1234)),
	     IO(RD(0x5ffff, 2, 0x1234))),	/* SI wraps at 64 KiB */
	CASE(MRL, "f3 ab", SEG(ES, 0x20000), IN(R(RDI, 0x10), R(RCX, 2), R(RAX, 0xbeef)),
	     OUT(R(RDI, 0x14), R(RCX, 0)), IO(WR(0x20010, 2, 0xbeef), WR(0x20012, 2, 0xbeef))),
	CASE(M16, "26 a4", SEG(DS, 0x50000), SEG(ES, 0x60000), IN(R(RSI, D), R(RDI, S2)),
	     MEM(M(0x60000 + D, 1, 3)), OUT(R(RSI, D + 1), R(RDI, S2 + 1)),
	     IO(RD(0x60000 + D, 1, 3), WR(0x60000 + S2, 1, 3))),

	/* --- 32-bit code --- */
	CASE(M32, "89 07", SEG(DS, 0x10000), IN(R(RDI, D), R(RAX, RAXV)),
	     IO(WR(0x12000, 4, 0x55667788))),
	CASE(M32, "89 04 24", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RSP, 0x100),
	     R(RAX, 1)), IO(WR(0x30100, 4, 1))),
	CASE(M32, "89 45 08", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RBP, 0x200),
	     R(RAX, 1)), IO(WR(0x30208, 4, 1))),
	CASE(M32, "3e 89 45 08", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RBP, 0x200),
	     R(RAX, 1)), IO(WR(0x10208, 4, 1))),
	CASE(M32, "89 44 25 08", SEG(SS, 0x30000), IN(R(RBP, 0x200), R(RAX, 1)),
	     IO(WR(0x30208, 4, 1))),	/* SIB base ebp: SS */
	CASE(M32, "89 04 2f", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RDI, 0x200),
	     R(RBP, 0x10), R(RAX, 1)), IO(WR(0x10210, 4, 1))),	/* ebp as index: DS */
	CASE(M32, "26 89 07", SEG(ES, 0x20000), IN(R(RDI, D), R(RAX, 1)),
	     IO(WR(0x22000, 4, 1))),
	CASE(M32, "64 89 07", SEG(FS, 0x20000), IN(R(RDI, D), R(RAX, 1)),
	     IO(WR(0x22000, 4, 1))),
	CASE(M32, "89 05 00 20 00 00", SEG(DS, 0x10000), IN(R(RAX, 1)),
	     IO(WR(0x12000, 4, 1))),	/* absolute, not RIP-relative */
	CASE(M32, "67 89 05", SEG(DS, 0x10000), IN(R(RDI, 0x12345), R(RAX, 1)),
	     IO(WR(0x12345, 4, 1))),	/* [di] */
	CASE(M32, "89 47 08", SEG(DS, 0x10000), IN(R(RDI, 0xfffffffc), R(RAX, 1)),
	     IO(WR(0x10004, 4, 1))),	/* EA wraps at 4 GiB */
	CASE(M32, "89 07", SEG(DS, 0xffff0000), IN(R(RDI, 0x20000), R(RAX, 1)),
	     IO(WR(0x10000, 4, 1))),	/* linear wraps at 4 GiB */
	CASE(M32, "a1 00 20 00 00", SEG(DS, 0x10000), MEM(M(0x12000, 4, 5)), OUT(R(RAX, 5)),
	     IO(RD(0x12000, 4, 5))),
	CASE(M32, "66 a3 00 20 00 00", IN(R(RAX, RAXV)), IO(WR(D, 2, 0x7788))),
	CASE(M32, "67 a3 00 20", IN(R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M32, "82 07 01", IN(R(RDI, D)), MEM(M(D, 1, 1)), FL(0, F_FIXED),
	     IO(RD(D, 1, 1), WR(D, 1, 2))),
	CASE(M32, "48", UNHANDLED_),	/* dec eax */
	CASE(M32, "89 07", .rip = 0xfffffffe, RIP_OUT(0), IN(R(RDI, D), R(RAX, 1)),
	     IO(WR(D, 4, 1))),
	CASE(M32, "c7 07 78 56 34 12", SEG(CS, 0x100000), IN(R(RDI, D)),
	     IO(WR(D, 4, 0x12345678))),	/* code found through the CS base */
	CASE(M32, "66 c7 07 34 12", IN(R(RDI, D)), IO(WR(D, 2, 0x1234))),

	/* --- 16-bit code: the eight ModRM address forms --- */
	CASE(M16, "89 07", SEG(DS, 0x10000), IN(R(RBX, D), R(RAX, RAXV)),
	     IO(WR(0x12000, 2, 0x7788))),
	CASE(M16, "89 00", SEG(DS, 0x10000), IN(R(RBX, 0x1000), R(RSI, 0x234), R(RAX, 1)),
	     IO(WR(0x11234, 2, 1))),
	CASE(M16, "89 01", SEG(DS, 0x10000), IN(R(RBX, 0x1000), R(RDI, 0x234), R(RAX, 1)),
	     IO(WR(0x11234, 2, 1))),
	CASE(M16, "89 02", SEG(DS, 0x10000), SEG(SS, 0x30000),
	     IN(R(RBP, 0x1000), R(RSI, 0x234), R(RAX, 1)), IO(WR(0x31234, 2, 1))),
	CASE(M16, "89 03", SEG(DS, 0x10000), SEG(SS, 0x30000),
	     IN(R(RBP, 0x1000), R(RDI, 0x234), R(RAX, 1)), IO(WR(0x31234, 2, 1))),
	CASE(M16, "89 04", SEG(DS, 0x10000), IN(R(RSI, 0x234), R(RAX, 1)),
	     IO(WR(0x10234, 2, 1))),
	CASE(M16, "89 05", SEG(DS, 0x10000), IN(R(RDI, 0x234), R(RAX, 1)),
	     IO(WR(0x10234, 2, 1))),
	CASE(M16, "89 06 34 12", SEG(DS, 0x10000), IN(R(RBP, 0x5000), R(RAX, 1)),
	     IO(WR(0x11234, 2, 1))),
	CASE(M16, "89 46 04", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RBP, 0x100),
	     R(RAX, 1)), IO(WR(0x30104, 2, 1))),
	CASE(M16, "89 47 fe", SEG(DS, 0x10000), IN(R(RBX, D), R(RAX, 1)),
	     IO(WR(0x11ffe, 2, 1))),
	CASE(M16, "89 87 00 01", SEG(DS, 0x10000), IN(R(RBX, D), R(RAX, 1)),
	     IO(WR(0x12100, 2, 1))),
	CASE(M16, "89 00", SEG(DS, 0x10000), IN(R(RBX, 0xffff), R(RSI, 2), R(RAX, 1)),
	     IO(WR(0x10001, 2, 1))),	/* EA wraps at 64 KiB */
	CASE(M16, "3e 89 46 04", SEG(DS, 0x10000), SEG(SS, 0x30000), IN(R(RBP, 0x100),
	     R(RAX, 1)), IO(WR(0x10104, 2, 1))),
	CASE(M16, "66 89 07", IN(R(RBX, D), R(RAX, RAXV)), IO(WR(D, 4, 0x55667788))),
	CASE(M16, "67 89 07", SEG(DS, 0x10000), IN(R(RDI, 0x12345), R(RAX, 1)),
	     IO(WR(0x22345, 2, 1))),	/* [edi] */
	CASE(M16, "c7 07 34 12", IN(R(RBX, D)), IO(WR(D, 2, 0x1234))),
	CASE(M16, "66 c7 07 78 56 34 12", IN(R(RBX, D)), IO(WR(D, 4, 0x12345678))),
	CASE(M16, "a1 34 12", SEG(DS, 0x10000), MEM(M(0x11234, 2, 7)),
	     IN(R(RAX, 0xffff0000)), OUT(R(RAX, 0xffff0007)), IO(RD(0x11234, 2, 7))),
	CASE(M16, "8b 1e 34 12", SEG(DS, 0x10000), MEM(M(0x11234, 2, 7)), OUT(R(RBX, 7)),
	     IO(RD(0x11234, 2, 7))),
	CASE(M16, "89 07", SEG(CS, 0x40000), .rip = 0xfffe, RIP_OUT(0),
	     IN(R(RBX, D), R(RAX, 1)), IO(WR(D, 2, 1))),	/* IP wraps */
	CASE(M16, "01 07", IN(R(RBX, D), R(RAX, 1)), MEM(M(D, 2, 0xffff)),
	     FL(0, F_CF | F_ZF | F_PF | F_AF), IO(RD(D, 2, 0xffff), WR(D, 2, 0))),
	CASE(M16, "67 89 04 8f", SEG(DS, 0x10000), IN(R(RDI, 0x100), R(RCX, 2), R(RAX, 1)),
	     IO(WR(0x10108, 2, 1))),	/* SIB in 16-bit code */
	CASE(M16, "67 a1 00 20 01 00", SEG(DS, 0x10000), MEM(M(0x22000, 2, 7)),
	     OUT(R(RAX, 7)), IO(RD(0x22000, 2, 7))),	/* 32-bit moffs */
	CASE(M32, "26 a1 00 20 00 00", SEG(DS, 0x10000), SEG(ES, 0x30000),
	     MEM(M(0x32000, 4, 7)), OUT(R(RAX, 7)), IO(RD(0x32000, 4, 7))),
	CASE(M32, "67 a4", SEG(DS, 0x10000), SEG(ES, 0x20000),
	     IN(R(RSI, 0x1ffff), R(RDI, 0x3ffff)), MEM(M(0x1ffff, 1, 9)),
	     OUT(R(RSI, 0x10000), R(RDI, 0x30000)),
	     IO(RD(0x1ffff, 1, 9), WR(0x2ffff, 1, 9))),	/* SI/DI wrap at 16 bits */
	CASE(MRL, "c6 06 00 10 ab", SEG(DS, 0xb8000), IO(WR(0xb9000, 1, 0xab))),
	CASE(MRL, "89 07", SEG(DS, 0x12340), SEG(CS, 0xf0000), IN(R(RBX, 0x10), R(RAX, 5)),
	     IO(WR(0x12350, 2, 5))),

	/* --- register-only forms (never MMIO, but valid: the generic operand path) --- */
	CASE(M64, "89 c8", IN(R(RAX, ~0ull), R(RCX, 0x12345678)), OUT(R(RAX, 0x12345678))),
	CASE(M64, "88 e0", IN(R(RAX, 0xaabb)), OUT(R(RAX, 0xaaaa))),	/* mov al, ah */
	CASE(M64, "40 88 e0", IN(R(RAX, 0xaabb), R(RSP, 0xcc)), OUT(R(RAX, 0xaacc))),
	CASE(M64, "0f b6 c4", IN(R(RAX, 0x1280)), OUT(R(RAX, 0x12))),	/* movzx eax, ah */
	CASE(M64, "0f be c0", IN(R(RAX, 0x1280)), OUT(R(RAX, 0xffffff80))),
	CASE(M64, "48 63 c1", IN(R(RCX, 0x80000000)), OUT(R(RAX, 0xffffffff80000000))),
	CASE(M64, "66 89 c8", IN(R(RAX, ~0ull), R(RCX, 0x1234)), OUT(R(RAX, 0xffffffffffff1234))),
	CASE(M64, "87 c8", IN(R(RAX, 1), R(RCX, 2)), OUT(R(RAX, 2), R(RCX, 1))),
	CASE(M64, "0f c1 c0", IN(R(RAX, 3)), FL(0, F_PF), OUT(R(RAX, 6))),	/* xadd eax, eax */
	CASE(M64, "0f b1 c8", IN(R(RAX, 5), R(RCX, 9)), FL(0, F_ZF | F_PF), OUT(R(RAX, 9))),
	CASE(M64, "01 c8", IN(R(RAX, 1), R(RCX, 2)), FL(0, F_PF), OUT(R(RAX, 3))),
	CASE(M64, "f7 d8", IN(R(RAX, 1)), FL(0, F_CF | F_PF | F_AF | F_SF),
	     OUT(R(RAX, 0xffffffff))),
	CASE(M64, "ff c0", IN(R(RAX, 0x7fffffff)), FL(F_CF, F_CF | F_PF | F_AF | F_SF | F_OF),
	     OUT(R(RAX, 0x80000000))),
	CASE(M64, "c7 c0 ff ff ff ff", IN(R(RAX, ~0ull)), OUT(R(RAX, 0xffffffff))),
	CASE(M64, "f3 ac", IN(R(RSI, D), R(RCX, 2)), MEM(M(D, 2, 0x2211)),
	     OUT(R(RSI, D + 2), R(RCX, 0), R(RAX, 0x22)),
	     IO(RD(D, 1, 0x11), RD(D + 1, 1, 0x22))),
	CASE(M16, "a5", SEG(DS, 0x10000), SEG(ES, 0x20000), IN(R(RSI, 0x10), R(RDI, 0x20)),
	     FL(F_DF, 0), MEM(M(0x10010, 2, 0xbeef)), OUT(R(RSI, 0xe), R(RDI, 0x1e)),
	     IO(RD(0x10010, 2, 0xbeef), WR(0x20020, 2, 0xbeef))),

	/* --- RFLAGS.RF is cleared once the instruction completes --- */
	CASE(M64, "89 07", IN(R(RDI, D), R(RAX, 1)), FL(F_RF | F_CF, F_CF),
	     IO(WR(D, 4, 1))),

	/* --- faults --- */
	CASE(M64, "89 07", .rip = 0x4000, .fault_page = 0x4000, PF_(0x4000, PF_FETCH)),
	CASE(M64, "48 89 07", .rip = 0x4ffe, .fault_page = 0x5000, IN(R(RDI, D)),
	     PF_(0x5000, PF_FETCH)),	/* the instruction reaches into a missing page */
	CASE(M64, "89 07", .rip = 0x4ffe, RIP_OUT(0x5000), .fault_page = 0x5000,
	     IN(R(RDI, D), R(RAX, 1)),
	     IO(WR(D, 4, 1))),		/* ends right at the page end: no fault */
	CASE(M64, "c7 07 78 56 34 12", .rip = 0x4ffe, RIP_OUT(0x5004), IN(R(RDI, D)),
	     IO(WR(D, 4, 0x12345678))),	/* straddles two good pages */
	CASE(M64, "89 07", .fault_page = 0x4000, IN(R(RDI, 0x4000), R(RAX, 1)),
	     PF_(0x4000, PF_WRITE)),
	CASE(M64, "8b 07", .fault_page = 0x4000, IN(R(RDI, 0x4010), R(RAX, 1)),
	     PF_(0x4010, 0)),
	CASE(M64, "89 07", .fault_page = 0x5000, IN(R(RDI, 0x4ffe), R(RAX, 1)),
	     PF_(0x5000, PF_WRITE)),	/* crosses into a missing page: nothing written */
	CASE(M64, "89 07", IN(R(RDI, 0x2ffe), R(RAX, 0x11223344)),
	     IO(WR(0x2ffe, 4, 0x11223344))),	/* crosses pages: one call, caller splits */
	CASE(M64, "01 07", .fault_page = 0x4000, IN(R(RDI, 0x4000), R(RAX, 1)),
	     PF_(0x4000, 0)),
	CASE(M64, "87 07", .fault_page = 0x4000, IN(R(RDI, 0x4000), R(RAX, 1)),
	     PF_(0x4000, 0)),
	CASE(M64, "89 07", IN(R(RDI, 0x0000800000000000)), GP_),
	CASE(M64, "89 07", IN(R(RDI, 0x00007ffffffffffe)), GP_),	/* last byte non-canonical */
	CASE(M64, "89 45 00", IN(R(RBP, 0x0000800000000000)), SS_),
	CASE(M64, "89 04 24", IN(R(RSP, 0x0000800000000000)), SS_),
	CASE(M64, "64 89 07", SEG(FS, 0x7ffffffff000), IN(R(RDI, D)), GP_),

	/* --- #UD --- */
	CASE(M64, "0f 0b", UD_),
	CASE(M64, "0f ff 00", UD_),
	CASE(M64, "0f b9 00", UD_),
	CASE(M64, "f0 01 c0", UD_),	/* LOCK on a register destination */
	CASE(M64, "f0 89 07", IN(R(RDI, D)), UD_),
	CASE(M64, "f0 39 07", IN(R(RDI, D)), UD_),
	CASE(M64, "f0 85 07", IN(R(RDI, D)), UD_),
	CASE(M64, "f0 a1 00 20 00 00 00 00 00 00", UD_),
	CASE(M64, "f0 87 c0", UD_),
	CASE(M64, "f0 a5", UD_),
	CASE(M64, "06", UD_),
	CASE(M64, "82 07 01", UD_),
	CASE(M64, "d4 0a", UD_),
	CASE(M64, "ea 00 00 00 00 00 00", UD_),
	CASE(M64, "fe 17", UD_),
	CASE(M64, "ff 3f", UD_),
	CASE(M64, "c7 0f 00 00 00 00", UD_),
	CASE(M64, "c6 c8 00", UD_),
	CASE(M32, "0f 0b", UD_),
	CASE(M16, "f0 88 07", UD_),

	/* --- too long: #GP(0) --- */
	CASE(M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 89 07", GP_),
	CASE(M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", GP_),

	/* --- shifts and rotates (flags by hand; the CPU comparison is below) --- */
	CASE(M64, "d1 27", IN(R(RDI, D)), MEM(M(D, 4, 0x80000001)), FL(0, F_CF | F_OF),
	     IO(RD(D, 4, 0x80000001), WR(D, 4, 2))),			/* shl [rdi], 1 */
	CASE(M64, "c1 2f 04", IN(R(RDI, D)), MEM(M(D, 4, 0xf0)), FL(0, F_PF),
	     IO(RD(D, 4, 0xf0), WR(D, 4, 0x0f))),			/* shr [rdi], 4 */
	CASE(M64, "d3 3f", IN(R(RDI, D), R(RCX, 0x104)), MEM(M(D, 4, 0x80000000)),
	     FL(0, F_SF | F_PF), IO(RD(D, 4, 0x80000000), WR(D, 4, 0xf8000000))),
	CASE(M64, "d0 07", IN(R(RDI, D)), MEM(M(D, 1, 0x81)), FL(0, F_CF | F_OF),
	     IO(RD(D, 1, 0x81), WR(D, 1, 0x03))),			/* rol byte, 1 */
	CASE(M64, "c0 0f 04", IN(R(RDI, D)), MEM(M(D, 1, 0x12)), FL(F_ZF | F_CF, F_ZF),
	     IO(RD(D, 1, 0x12), WR(D, 1, 0x21))),			/* ror: ZF kept */
	CASE(M64, "d1 17", IN(R(RDI, D)), MEM(M(D, 4, 0x80000000)), FL(F_CF, F_CF | F_OF),
	     IO(RD(D, 4, 0x80000000), WR(D, 4, 1))),			/* rcl through CF */
	CASE(M64, "d1 1f", IN(R(RDI, D)), MEM(M(D, 4, 1)), FL(0, F_CF),
	     IO(RD(D, 4, 1), WR(D, 4, 0))),				/* rcr */
	CASE(M64, "c1 27 20", IN(R(RDI, D)), MEM(M(D, 4, 1)), FL(F_CF | F_OF, 0),
	     IO(RD(D, 4, 1))),			/* a count of 0 after masking: no write */
	CASE(M64, "48 c1 27 3f", IN(R(RDI, D)), MEM(M(D, 8, 3)), FL(0, F_CF | F_SF | F_PF),
	     IO(RD(D, 8, 3), WR(D, 8, 0x8000000000000000))),	/* 6-bit count */

	/* --- MUL, IMUL, DIV, IDIV --- */
	CASE(M64, "f7 27", IN(R(RDI, D), R(RAX, 0x80000000)), MEM(M(D, 4, 4)),
	     FL(0, F_CF | F_OF), OUT(R(RAX, 0), R(RDX, 2)), IO(RD(D, 4, 4))),
	CASE(M64, "f6 37", IN(R(RDI, D), R(RAX, 0x123)), MEM(M(D, 1, 0x10)),
	     OUT(R(RAX, 0x312)), IO(RD(D, 1, 0x10))),		/* AL = 0x12, AH = 3 */
	CASE(M64, "f7 37", IN(R(RDI, D), R(RAX, 1)), MEM(M(D, 4, 0)), DE_, IO(RD(D, 4, 0))),
	CASE(M64, "f7 3f", IN(R(RDI, D), R(RAX, 0xfffffff9), R(RDX, 0xffffffff)),
	     MEM(M(D, 4, 2)), OUT(R(RAX, 0xfffffffd), R(RDX, 0xffffffff)), IO(RD(D, 4, 2))),
	CASE(M64, "48 f7 37", IN(R(RDI, D), R(RDX, 1)), MEM(M(D, 8, 2)),
	     OUT(R(RAX, 0x8000000000000000), R(RDX, 0)), IO(RD(D, 8, 2))),
	CASE(M64, "48 f7 37", IN(R(RDI, D), R(RDX, 2)), MEM(M(D, 8, 2)), DE_,
	     IO(RD(D, 8, 2))),					/* quotient too wide */
	CASE(M64, "f6 3f", IN(R(RDI, D), R(RAX, 0x8000)), MEM(M(D, 1, 0xff)), DE_,
	     IO(RD(D, 1, 0xff))),				/* -32768 / -1 */
	CASE(M64, "f6 3f", IN(R(RDI, D), R(RAX, 0x80)), MEM(M(D, 1, 1)), DE_,
	     IO(RD(D, 1, 1))),					/* 128 does not fit */
	CASE(M64, "f6 3f", IN(R(RDI, D), R(RAX, 0xff80)), MEM(M(D, 1, 1)), OUT(R(RAX, 0x80)),
	     IO(RD(D, 1, 1))),					/* -128 does */
	CASE(M64, "0f af 07", IN(R(RDI, D), R(RAX, 0x10000)), MEM(M(D, 4, 0x10000)),
	     FL(0, F_CF | F_OF), OUT(R(RAX, 0)), IO(RD(D, 4, 0x10000))),
	CASE(M64, "6b 07 fd", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 4, 5)),
	     FL(F_CF | F_OF, F_FIXED), OUT(R(RAX, 0xfffffff1)), IO(RD(D, 4, 5))),

	/* --- PUSH, POP with memory operands --- */
	CASE(M64, "ff 37", IN(R(RDI, D), R(RSP, 0x5000)), MEM(M(D, 8, RAXV)),
	     OUT(R(RSP, 0x4ff8)), IO(RD(D, 8, RAXV), WR(0x4ff8, 8, RAXV))),
	CASE(M64, "66 ff 37", IN(R(RDI, D), R(RSP, 0x5000)), MEM(M(D, 2, 0x1234)),
	     OUT(R(RSP, 0x4ffe)), IO(RD(D, 2, 0x1234), WR(0x4ffe, 2, 0x1234))),
	CASE(M64, "8f 07", IN(R(RDI, D), R(RSP, 0x4ff8)), MEM(M(0x4ff8, 8, RAXV)),
	     OUT(R(RSP, 0x5000)), IO(RD(0x4ff8, 8, RAXV), WR(D, 8, RAXV))),
	CASE(M64, "8f 04 24", IN(R(RSP, 0x4ff8)), MEM(M(0x4ff8, 8, RAXV)),
	     OUT(R(RSP, 0x5000)), IO(RD(0x4ff8, 8, RAXV), WR(0x5000, 8, RAXV))),	/* [rsp] */
	CASE(M64, "8f 07", IN(R(RDI, 0x6000), R(RSP, 0x4ff8)), MEM(M(0x4ff8, 8, RAXV)),
	     .fault_page = 0x6000, PF_(0x6000, PF_WRITE), IO(RD(0x4ff8, 8, RAXV))),
	CASE(M32, "ff 37", SEG(SS, 0x100000), IN(R(RDI, D), R(RSP, 0x5000)),
	     MEM(M(D, 4, 0x11223344)), OUT(R(RSP, 0x4ffc)),
	     IO(RD(D, 4, 0x11223344), WR(0x104ffc, 4, 0x11223344))),
	CASE(M32, "ff 37", SYS(SR(STACK_SIZE, 2)), IN(R(RDI, D), R(RSP, 0xabcd0002)),
	     MEM(M(D, 4, 7)), OUT(R(RSP, 0xabcdfffe)),
	     IO(RD(D, 4, 7), WR(0xfffe, 4, 7))),		/* a 16-bit stack wraps SP only */

	/* --- MOVBE, SETcc, CMOVcc --- */
	CASE(M64, "0f 38 f0 07", IN(R(RDI, D), R(RAX, ~0ull)), MEM(M(D, 4, 0x11223344)),
	     OUT(R(RAX, 0x44332211)), IO(RD(D, 4, 0x11223344))),
	CASE(M64, "48 0f 38 f1 07", IN(R(RDI, D), R(RAX, RAXV)),
	     IO(WR(D, 8, 0x8877665544332211))),
	CASE(M64, "66 0f 38 f1 07", IN(R(RDI, D), R(RAX, RAXV)), IO(WR(D, 2, 0x8877))),
	CASE(M64, "0f 38 f0 c0", UD_),
	CASE(M64, "f2 0f 38 f0 07", IN(R(RDI, D)), UNHANDLED_),		/* crc32 */
	CASE(M64, "0f 94 07", IN(R(RDI, D)), FL(F_ZF, 0), IO(WR(D, 1, 1))),
	CASE(M64, "0f 95 07", IN(R(RDI, D)), FL(F_ZF, 0), IO(WR(D, 1, 0))),
	CASE(M64, "0f 9c 07", IN(R(RDI, D)), FL(F_SF, 0), IO(WR(D, 1, 1))),	/* setl */
	CASE(M64, "0f 9f 07", IN(R(RDI, D)), FL(F_SF | F_OF, 0), IO(WR(D, 1, 1))),	/* setg */
	CASE(M64, "0f 96 07", IN(R(RDI, D)), FL(F_CF, 0), IO(WR(D, 1, 1))),	/* setbe */
	CASE(M64, "0f 9a 07", IN(R(RDI, D)), FL(0, 0), IO(WR(D, 1, 0))),	/* setp */
	CASE(M64, "0f 4f 07", IN(R(RDI, D), R(RAX, RAXV)), FL(F_ZF, 0), MEM(M(D, 4, 9)),
	     OUT(R(RAX, 0x55667788)), IO(RD(D, 4, 9))),	/* false: still zero-extends */
	CASE(M64, "48 0f 44 07", IN(R(RDI, D), R(RAX, 1)), FL(F_ZF, 0), MEM(M(D, 8, RAXV)),
	     OUT(R(RAX, RAXV)), IO(RD(D, 8, RAXV))),
	CASE(M64, "66 0f 40 07", IN(R(RDI, D), R(RAX, RAXV)), FL(F_OF, 0), MEM(M(D, 2, 9)),
	     OUT(R(RAX, 0x1122334455660009)), IO(RD(D, 2, 9))),

	/* --- CLFLUSH, CLFLUSHOPT: no access at all --- */
	CASE(M64, "0f ae 3f", IN(R(RDI, D))),
	CASE(M64, "66 0f ae 7f 40", IN(R(RDI, D))),
	CASE(M64, "0f ae 3f", IN(R(RDI, 0x8000000000000000)), GP_),
	CASE(M64, "0f ae f8", UNHANDLED_),				/* sfence */

	/* --- SMSW, SGDT, SIDT, SLDT, STR, UMIP --- */
	CASE(M64, "0f 01 27", IN(R(RDI, D)), IO(WR(D, 2, FAKE_CR0 & 0xffff))),
	CASE(M64, "48 0f 01 e0", OUT(R(RAX, FAKE_CR0))),
	CASE(M64, "0f 01 27", IN(R(RDI, D)), SYS(SR(CR4, FAKE_CR4 | CR4_UMIP_), SR(CPL, 3)),
	     GP_),
	CASE(M64, "0f 01 27", IN(R(RDI, D)), SYS(SR(CPL, 3)), IO(WR(D, 2, 0x11))),
	CASE(M64, "0f 01 07", IN(R(RDI, D)),
	     SYS(SR(GDTR_LIMIT, 0x27), SR(GDTR_BASE, 0xffff800000001000)),
	     IO(WR(D, 2, 0x27), WR(D + 2, 8, 0xffff800000001000))),
	CASE(M32, "0f 01 0f", IN(R(RDI, D)), SYS(SR(IDTR_LIMIT, 0xfff), SR(IDTR_BASE, 0x12345678)),
	     IO(WR(D, 2, 0xfff), WR(D + 2, 4, 0x12345678))),
	CASE(M64, "0f 01 0f", IN(R(RDI, D)), SYS(SR(CR4, FAKE_CR4 | CR4_UMIP_), SR(CPL, 1)),
	     GP_),
	CASE(M64, "0f 01 07", IN(R(RDI, 0x8000000000000000)), GP_),
	CASE(M64, "0f 01 c1", UNHANDLED_),				/* vmcall */
	CASE(M64, "0f 00 07", IN(R(RDI, D)), SYS(SR(LDTR, 0x28)), IO(WR(D, 2, 0x28))),
	CASE(M64, "0f 00 0f", IN(R(RDI, D)), SYS(SR(TR, 0x40)), IO(WR(D, 2, 0x40))),
	CASE(M64, "0f 00 c8", IN(R(RAX, ~0ull)), SYS(SR(TR, 0x40)), OUT(R(RAX, 0x40))),
	CASE(MRL, "0f 00 0f", IN(R(RDI, D)), UD_),
	CASE(M64, "0f 00 0f", IN(R(RDI, D)), SYS(SR(CR4, FAKE_CR4 | CR4_UMIP_), SR(CPL, 3)),
	     GP_),

	/* --- LMSW --- */
	CASE(M64, "0f 01 37", IN(R(RDI, D)), MEM(M(D, 2, 0xfffe)), IO(RD(D, 2, 0xfffe),
	     LOADS(CR0, 0x8000001f))),		/* MP, EM, TS set; PE cannot be cleared */
	CASE(M64, "0f 01 f0", IN(R(RAX, 0)), IO(LOADS(CR0, FAKE_CR0))),
	CASE(M64, "0f 01 37", IN(R(RDI, D)), SYS(SR(CPL, 3)), GP_),
	CASE(M64, "0f 01 f0", .sys_write_faults = true, GP_),

	/* --- MOV to and from CR and DR --- */
	CASE(M64, "0f 20 c0", OUT(R(RAX, FAKE_CR0))),
	CASE(M64, "41 0f 20 d7", SYS(SR(CR2, 0xffff800012345678)),
	     OUT(R(R15, 0xffff800012345678))),
	CASE(M32, "0f 20 e0", IN(R(RAX, ~0ull)), OUT(R(RAX, FAKE_CR4))),
	CASE(M64, "0f 22 d8", IN(R(RAX, 0x123000)), IO(LOADS(CR3, 0x123000))),
	CASE(M64, "0f 22 05", IN(R(RBP, 0x6f0)), IO(LOADS(CR0, 0x6f0))),	/* mod ignored */
	CASE(M64, "44 0f 22 c0", IN(R(RAX, 5)), IO(LOADS(CR8, 5))),
	CASE(M64, "44 0f 22 c0", IN(R(RAX, 0x10)), GP_),		/* CR8 bits 63:4 */
	CASE(M64, "0f 20 c8", UD_),					/* CR1 */
	CASE(M64, "44 0f 20 c8", UD_),					/* CR9 */
	CASE(M64, "0f 22 d8", SYS(SR(CPL, 3)), GP_),
	CASE(M64, "0f 22 c0", .sys_write_faults = true, GP_),
	CASE(M64, "0f 21 f8", SYS(SR(DR7, 0x400)), OUT(R(RAX, 0x400))),
	CASE(M64, "0f 23 c3", IN(R(RBX, 0xffff800000000000)),
	     IO(LOADS(DR0, 0xffff800000000000))),
	CASE(M64, "0f 23 e0", IN(R(RAX, 0xffff0ff0)), IO(LOADS(DR6, 0xffff0ff0))),	/* DR4 */
	CASE(M64, "0f 23 e0", SYS(SR(CR4, FAKE_CR4 | CR4_DE_)), UD_),
	CASE(M64, "0f 23 f8", IN(R(RAX, 1ull << 32)), GP_),
	CASE(M64, "44 0f 21 c0", UD_),					/* DR8 */
	CASE(M64, "0f 21 f8", SYS(SR(CPL, 3)), GP_),

	/* --- SSE moves on the XMM registers (xmm n holds bytes 0xn1) --- */
	CASE(M64, "0f 10 07", IN(R(RDI, D)), MEM(M(D, 8, RAXV), M(D + 8, 8, 7)),
	     IO(RD(D, 16, RAXV), XW(0, RAXV))),
	CASE(M64, "66 0f 11 4f 01", IN(R(RDI, D)), IO(WR(D + 1, 16, 0x1111111111111111))),
	CASE(M64, "0f 29 17", IN(R(RDI, D)), IO(WR(D, 16, 0x2121212121212121))),
	CASE(M64, "66 0f 28 47 08", IN(R(RDI, D)), GP_),		/* movapd misaligned */
	CASE(M64, "66 0f 6f 47 08", IN(R(RDI, D)), GP_),		/* movdqa misaligned */
	CASE(M64, "f3 0f 6f 47 08", IN(R(RDI, D)), MEM(M(D + 8, 8, 5)),
	     IO(RD(D + 8, 16, 5), XW(0, 5))),				/* movdqu */
	CASE(M64, "66 44 0f 7f 07", IN(R(RDI, D)), IO(WR(D, 16, 0x8181818181818181))),
	CASE(M64, "66 0f 6e 07", IN(R(RDI, D)), MEM(M(D, 4, 0x55667788)),
	     IO(RD(D, 4, 0x55667788), XW(0, 0x55667788))),		/* movd */
	CASE(M64, "66 48 0f 6e 07", IN(R(RDI, D)), MEM(M(D, 8, RAXV)),
	     IO(RD(D, 8, RAXV), XW(0, RAXV))),				/* movq r/m64 */
	CASE(M64, "66 0f 7e 1f", IN(R(RDI, D)), IO(WR(D, 4, 0x31313131))),
	CASE(M64, "66 48 0f 7e c0", OUT(R(RAX, 0x0101010101010101))),
	CASE(M64, "66 0f 6e c3", IN(R(RBX, RAXV)), IO(XW(0, 0x55667788))),
	CASE(M64, "f3 0f 7e 07", IN(R(RDI, D)), MEM(M(D, 8, RAXV)),
	     IO(RD(D, 8, RAXV), XW(0, RAXV))),
	CASE(M64, "66 0f d6 27", IN(R(RDI, D)), IO(WR(D, 8, 0x4141414141414141))),
	CASE(M64, "66 0f d6 c1", IO(XW(1, 0x0101010101010101))),	/* movq xmm1, xmm0 */
	CASE(M64, "0f 28 c1", IO(XW(0, 0x1111111111111111))),	/* movaps xmm0, xmm1 */
	CASE(M32, "0f 11 3f", IN(R(RDI, D)), IO(WR(D, 16, 0x7171717171717171))),
	CASE(M64, "0f 10 07", IN(R(RDI, D)), SYS(SR(CR0, FAKE_CR0 | CR0_TS_)), NM_),
	CASE(M64, "0f 10 07", IN(R(RDI, D)), SYS(SR(CR0, FAKE_CR0 | CR0_EM_)), UD_),
	CASE(M64, "0f 10 07", IN(R(RDI, D)), SYS(SR(CR4, 0), SR(CR0, FAKE_CR0 | CR0_TS_)), UD_),
	CASE(M64, "f0 0f 10 07", IN(R(RDI, D)), UD_),

	/* --- valid but not emulated --- */
	CASE(M64, "0f a2", UNHANDLED_),			/* cpuid */
	CASE(M64, "ff 17", IN(R(RDI, D)), UNHANDLED_),	/* call */
	CASE(M64, "f3 0f 10 07", IN(R(RDI, D)), UNHANDLED_),	/* movss */
	CASE(M64, "0f 6f 07", IN(R(RDI, D)), UNHANDLED_),	/* MMX movq */
	CASE(M64, "0f ae 07", IN(R(RDI, D)), UNHANDLED_),	/* fxsave */
	CASE(M64, "0f 01 17", IN(R(RDI, D)), UNHANDLED_),	/* lgdt */
	CASE(M64, "c5 f9 7e 07", IN(R(RDI, D)), UNHANDLED_),	/* vmovd */
	CASE(M64, "62 f1 7d 48 7f 07", IN(R(RDI, D)), UNHANDLED_),	/* EVEX */
	CASE(M64, "90", UNHANDLED_),
	CASE(M32, "63 07", IN(R(RDI, D)), UNHANDLED_),	/* arpl */
};

/* "48 89 07" -> bytes; returns the count. */
static unsigned parse_hex(const char *s, u8 *out, unsigned max)
{
	unsigned n = 0;
	char *end;

	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		out[n++] = (u8)strtoul(s, &end, 16);
		s = end;
	}
	return n;
}

static u64 reg_list_value(const struct reg_val *list, unsigned n, unsigned reg, u64 dflt)
{
	unsigned i;

	for (i = 0; i < n && list[i].reg1; i++)
		if (list[i].reg1 == reg + 1)
			dflt = list[i].val;
	return dflt;
}

static void setup_case(const struct emu_case *c, struct fake_guest *g, struct x86_regs *regs,
		       u8 *code, unsigned ncode)
{
	u64 cs_base = c->mode == M64 ? 0 : c->seg_base[X86_SEG_CS];
	unsigned i;

	fake_reset(g, c->mode);
	memcpy(g->seg_base, c->seg_base, sizeof(g->seg_base));
	g->fault_pages[0] = c->fault_page;
	fake_poke(g, (cs_base + (c->rip ? c->rip : CODE_RIP)) & (c->mode == M64 ? ~0ull : 0xffffffff),
		  code, ncode);
	for (i = 0; i < ARRAY_SIZE(c->mem) && c->mem[i].size; i++)
		fake_poke(g, c->mem[i].addr, &c->mem[i].val, c->mem[i].size);
	for (i = 0; i < X86_NR_GPRS; i++)
		regs->gpr[i] = reg_list_value(c->in, ARRAY_SIZE(c->in), i, 0);
	regs->rip = c->rip ? c->rip : CODE_RIP;
	regs->rflags = c->flags_in | F_FIXED;
	for (i = 0; i < ARRAY_SIZE(c->sys) && c->sys[i].reg1; i++)
		g->sysreg[c->sys[i].reg1 - 1] = c->sys[i].val;
	g->sysreg_write_faults = c->sys_write_faults;
}

static void check_log(const struct emu_case *c, const struct fake_guest *g)
{
	unsigned i, n = 0;

	while (n < ARRAY_SIZE(c->io) && c->io[n].kind)
		n++;
	CHECK_EQ(g->nlog, n);
	for (i = 0; i < n && i < g->nlog; i++) {
		CHECK_EQ(g->log[i].kind, c->io[i].kind);
		CHECK_EQ(g->log[i].addr, c->io[i].addr);
		CHECK_EQ(g->log[i].size, c->io[i].size);
		CHECK_EQ(g->log[i].val, c->io[i].val);
	}
}

/* Whenever the bytes decode, the length-only path agrees with the full decoder, and both
 * with the case's own length. */
static void check_lengths(const struct emu_case *c, const u8 *code, unsigned ncode)
{
	struct x86_insn insn;
	enum x86_decode_result d = x86_decode(code, ncode, c->mode, &insn);

	if (d == X86_DECODE_OK || (d == X86_DECODE_UNSUPPORTED && insn.length)) {
		CHECK_EQ(insn.length, ncode);
		CHECK_EQ(x86_insn_length(code, ncode, c->mode), ncode);
	}
}

static void run_case(const struct emu_case *c)
{
	int failures_before = unit_failures;
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt = { .ops = &fake_ops, .ops_ctx = &g, .regs = &regs };
	u8 code[16];
	unsigned ncode = parse_hex(c->code, code, sizeof(code)), i;
	u64 rip_in, want_rip;
	int r;

	setup_case(c, &g, &regs, code, ncode);
	rip_in = regs.rip;
	ctxt.mode = c->mode;
	r = x86_emulate(&ctxt);

	CHECK_EQ(r, c->result);
	for (i = 0; i < X86_NR_GPRS; i++) {
		u64 want = reg_list_value(c->out, ARRAY_SIZE(c->out), i,
					  reg_list_value(c->in, ARRAY_SIZE(c->in), i, 0));
		CHECK_EQ(regs.gpr[i], want);
	}
	CHECK_EQ(regs.rflags, (c->flags_out ? c->flags_out : c->flags_in) | F_FIXED);
	want_rip = rip_in;
	if (c->has_rip_out)
		want_rip = c->rip_out;
	else if (c->result == X86_EMUL_OK)
		want_rip = rip_in + ncode;
	CHECK_EQ(regs.rip, want_rip);
	check_log(c, &g);
	if (c->result == X86_EMUL_EXCEPTION) {
		CHECK_EQ(ctxt.exception.vector, c->vector);
		CHECK_EQ(ctxt.exception.has_error_code, c->vector == X86_EXC_GP ||
			 c->vector == X86_EXC_SS || c->vector == X86_EXC_PF);
		CHECK_EQ(ctxt.exception.error_code, c->error_code);
		if (c->vector == X86_EXC_PF)
			CHECK_EQ(ctxt.exception.cr2, c->cr2);
	}
	check_lengths(c, code, ncode);
	CHECK(!g.bad_callback);
	if (unit_failures != failures_before)
		fprintf(stderr, "  ^ in the case at line %d: \"%s\"\n", c->line, c->code);
	fake_reset(&g, c->mode);
}

static void test_cases(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* --- ALU results and flags against the host CPU (which is an x86-64 too) --- */

/*
 * Each native_* runs the real instruction on registers with the given RFLAGS and returns
 * the result and the RFLAGS it left. The stack pointer moves past the red zone first.
 */
#define NATIVE_PRE "sub $128, %%rsp\n\tpush %[f]\n\tpopfq\n\t"
#define NATIVE_POST "\n\tpushfq\n\tpop %[f]\n\tadd $128, %%rsp"

#define NATIVE_BINARY_CASE(mn, sfx, T, cons) \
	case sizeof(T): { \
		T x = *d, y = *s; \
		asm volatile(NATIVE_PRE mn sfx " %[y], %[x]" NATIVE_POST \
			     : [x] "+" cons(x), [y] "+" cons(y), [f] "+r"(f) : : "cc"); \
		*d = x; \
		*s = y; \
		break; \
	}
#define NATIVE_UNARY_CASE(mn, sfx, T, cons) \
	case sizeof(T): { \
		T x = *d; \
		asm volatile(NATIVE_PRE mn sfx " %[x]" NATIVE_POST \
			     : [x] "+" cons(x), [f] "+r"(f) : : "cc"); \
		*d = x; \
		break; \
	}
#define NATIVE_CMPXCHG_CASE(sfx, T, cons) \
	case sizeof(T): { \
		T x = *d, y = *s, a = *acc; \
		asm volatile(NATIVE_PRE "cmpxchg" sfx " %[y], %[x]" NATIVE_POST \
			     : [x] "+" cons(x), [f] "+r"(f), "+a"(a) : [y] cons(y) : "cc"); \
		*d = x; \
		*acc = a; \
		break; \
	}

/* d: the destination (r/m), s: the source register, updated for XADD. */
typedef void (*native_fn)(unsigned size, u64 *d, u64 *s, u64 *acc, u64 *flags);

#define DEFINE_NATIVE(name, CASE_MACRO, mn) \
	static void native_##name(unsigned size, u64 *d, u64 *s, u64 *acc, u64 *flags) \
	{ \
		u64 f = *flags; \
		(void)s; \
		(void)acc; \
		switch (size) { \
		CASE_MACRO(mn, "b", u8, "q") \
		CASE_MACRO(mn, "w", u16, "r") \
		CASE_MACRO(mn, "l", u32, "r") \
		CASE_MACRO(mn, "q", u64, "r") \
		} \
		*flags = f; \
	}
/* BT* have no byte form. */
#define NO_BYTE_CASE(mn, sfx, T, cons)
#define DEFINE_NATIVE_BT(name, mn) \
	static void native_##name(unsigned size, u64 *d, u64 *s, u64 *acc, u64 *flags) \
	{ \
		u64 f = *flags; \
		(void)acc; \
		switch (size) { \
		NATIVE_BINARY_CASE(mn, "w", u16, "r") \
		NATIVE_BINARY_CASE(mn, "l", u32, "r") \
		NATIVE_BINARY_CASE(mn, "q", u64, "r") \
		} \
		*flags = f; \
	}

DEFINE_NATIVE(add, NATIVE_BINARY_CASE, "add")
DEFINE_NATIVE(or, NATIVE_BINARY_CASE, "or")
DEFINE_NATIVE(adc, NATIVE_BINARY_CASE, "adc")
DEFINE_NATIVE(sbb, NATIVE_BINARY_CASE, "sbb")
DEFINE_NATIVE(and, NATIVE_BINARY_CASE, "and")
DEFINE_NATIVE(sub, NATIVE_BINARY_CASE, "sub")
DEFINE_NATIVE(xor, NATIVE_BINARY_CASE, "xor")
DEFINE_NATIVE(cmp, NATIVE_BINARY_CASE, "cmp")
DEFINE_NATIVE(test, NATIVE_BINARY_CASE, "test")
DEFINE_NATIVE(xadd, NATIVE_BINARY_CASE, "xadd")
DEFINE_NATIVE(inc, NATIVE_UNARY_CASE, "inc")
DEFINE_NATIVE(dec, NATIVE_UNARY_CASE, "dec")
DEFINE_NATIVE(neg, NATIVE_UNARY_CASE, "neg")
DEFINE_NATIVE(not, NATIVE_UNARY_CASE, "not")
DEFINE_NATIVE_BT(bt, "bt")
DEFINE_NATIVE_BT(bts, "bts")
DEFINE_NATIVE_BT(btr, "btr")
DEFINE_NATIVE_BT(btc, "btc")

static void native_cmpxchg(unsigned size, u64 *d, u64 *s, u64 *acc, u64 *flags)
{
	u64 f = *flags;

	switch (size) {
	NATIVE_CMPXCHG_CASE("b", u8, "q")
	NATIVE_CMPXCHG_CASE("w", u16, "r")
	NATIVE_CMPXCHG_CASE("l", u32, "r")
	NATIVE_CMPXCHG_CASE("q", u64, "r")
	}
	*flags = f;
}

/* How an ALU test encodes its instruction: [rdi] is the r/m operand, ecx the register. */
enum alu_form {
	FORM_MEM_REG,	/* op [rdi], ecx */
	FORM_REG_MEM,	/* op ecx, [rdi] */
	FORM_MEM_IMM,	/* op [rdi], imm8/imm16/imm32 */
	FORM_MEM_IMM8,	/* op [rdi], imm8 sign-extended (83) */
	FORM_ACC_IMM,	/* op al/ax/eax/rax, imm */
	FORM_MEM,	/* op [rdi] (unary) */
	FORM_COUNT
};

struct alu_op {
	const char *name;
	native_fn native;
	u8 forms;		/* BIT(enum alu_form) */
	u8 opcode[FORM_COUNT];	/* the byte-sized opcode (the others are +1) */
	u8 modrm_reg;		/* ModRM.reg for the group forms */
	bool two_byte;		/* 0F map */
	bool byte_form;		/* has an 8-bit form */
	bool writes;		/* writes its destination */
	u64 flags_checked;	/* the flags the SDM defines for it */
	bool bit_offset;	/* BT*: the source is a bit offset */
};

#define ALU_BIN(n, i) { .name = #n, .native = native_##n, \
	.forms = BIT(FORM_MEM_REG) | BIT(FORM_REG_MEM) | BIT(FORM_MEM_IMM) | \
		 BIT(FORM_MEM_IMM8) | BIT(FORM_ACC_IMM), \
	.opcode = { [FORM_MEM_REG] = (i) * 8, [FORM_REG_MEM] = (i) * 8 + 2, \
		    [FORM_MEM_IMM] = 0x80, [FORM_ACC_IMM] = (i) * 8 + 4 }, \
	.modrm_reg = (i), .byte_form = true, .writes = (i) != 7, .flags_checked = F_ARITH }
#define ALU_UNARY(n, opc, r) { .name = #n, .native = native_##n, .forms = BIT(FORM_MEM), \
	.opcode = { [FORM_MEM] = (opc) }, .modrm_reg = (r), .byte_form = true, \
	.writes = true, .flags_checked = F_ARITH }
/* BT*: opcode[] holds the 16/32/64-bit opcodes minus one, as for the others */
#define ALU_BT(n, opc, r) { .name = #n, .native = native_##n, \
	.forms = BIT(FORM_MEM_REG) | BIT(FORM_MEM_IMM), \
	.opcode = { [FORM_MEM_REG] = (opc) - 1, [FORM_MEM_IMM] = 0xba - 1 }, \
	.modrm_reg = (r), .two_byte = true, .writes = (r) != 4, .flags_checked = F_CF, \
	.bit_offset = true }

static const struct alu_op alu_ops[] = {
	ALU_BIN(add, 0), ALU_BIN(or, 1), ALU_BIN(adc, 2), ALU_BIN(sbb, 3),
	ALU_BIN(and, 4), ALU_BIN(sub, 5), ALU_BIN(xor, 6), ALU_BIN(cmp, 7),
	{ .name = "test", .native = native_test,
	  .forms = BIT(FORM_MEM_REG) | BIT(FORM_MEM_IMM) | BIT(FORM_ACC_IMM),
	  .opcode = { [FORM_MEM_REG] = 0x84, [FORM_MEM_IMM] = 0xf6, [FORM_ACC_IMM] = 0xa8 },
	  .byte_form = true, .flags_checked = F_ARITH },
	ALU_UNARY(inc, 0xfe, 0), ALU_UNARY(dec, 0xfe, 1),
	ALU_UNARY(not, 0xf6, 2), ALU_UNARY(neg, 0xf6, 3),
	{ .name = "xadd", .native = native_xadd, .forms = BIT(FORM_MEM_REG),
	  .opcode = { [FORM_MEM_REG] = 0xc0 }, .two_byte = true, .byte_form = true,
	  .writes = true, .flags_checked = F_ARITH },
	{ .name = "cmpxchg", .native = native_cmpxchg, .forms = BIT(FORM_MEM_REG),
	  .opcode = { [FORM_MEM_REG] = 0xb0 }, .two_byte = true, .byte_form = true,
	  .writes = true, .flags_checked = F_ARITH },
	ALU_BT(bt, 0xa3, 4), ALU_BT(bts, 0xab, 5), ALU_BT(btr, 0xb3, 6), ALU_BT(btc, 0xbb, 7),
};

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random operands, with the values where carries and overflows happen made common. */
static u64 interesting_value(unsigned size)
{
	static const u64 edges[] = { 0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x7fff, 0x8000,
				     0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
				     0x7fffffffffffffff, 0x8000000000000000, ~0ull };
	u64 mask = ~0ull >> (64 - 8 * size), v = rng();

	if (v % 3 == 0)
		v = edges[(v >> 8) % ARRAY_SIZE(edges)];
	else if (v % 3 == 1)
		v = (v >> 8) & 0x3ff;
	return v & mask;
}

static unsigned alu_imm_size(const struct alu_op *op, enum alu_form form, unsigned size)
{
	if (form == FORM_MEM_IMM8 || (form == FORM_MEM_IMM && (op->two_byte || size == 1)))
		return 1;
	if (form == FORM_MEM_IMM || form == FORM_ACC_IMM)
		return size == 1 ? 1 : size == 2 ? 2 : 4;
	return 0;
}

/* The encoding of op in form at size, with imm if the form has one; returns its length. */
static unsigned alu_encode(const struct alu_op *op, enum alu_form form, unsigned size,
			   u64 imm, u8 *code)
{
	unsigned n = 0, imm_size = alu_imm_size(op, form, size);
	u8 opcode = op->opcode[form] + (size == 1 ? 0 : 1);

	if (size == 2)
		code[n++] = 0x66;
	if (size == 8)
		code[n++] = 0x48;
	if (op->two_byte)
		code[n++] = 0x0f;
	switch (form) {
	case FORM_MEM_REG:
	case FORM_REG_MEM:
		code[n++] = opcode;
		code[n++] = 0x0f;		/* [rdi], ecx */
		break;
	case FORM_MEM_IMM:
		code[n++] = op->two_byte ? 0xba : opcode;
		code[n++] = 0x07 | op->modrm_reg << 3;
		break;
	case FORM_MEM_IMM8:
		code[n++] = 0x83;
		code[n++] = 0x07 | op->modrm_reg << 3;
		break;
	case FORM_ACC_IMM:
		code[n++] = opcode;
		break;
	default:	/* FORM_MEM */
		code[n++] = opcode;
		code[n++] = 0x07 | op->modrm_reg << 3;
		break;
	}
	memcpy(code + n, &imm, imm_size);
	return n + imm_size;
}

static u64 sign_extend_bytes(u64 v, unsigned n, unsigned size)
{
	unsigned shift = 64 - 8 * n;
	u64 mask = ~0ull >> (64 - 8 * size);

	return (u64)((s64)(v << shift) >> shift) & mask;
}

/* The value the emulator wrote to memory (its first write), or a failed CHECK. */
static u64 first_write(const struct fake_guest *g)
{
	unsigned i;

	for (i = 0; i < g->nlog && i < FAKE_MAX_LOG; i++)
		if (g->log[i].kind == 'w')
			return g->log[i].val;
	CHECK(!"a memory write");
	return 0;
}

/*
 * One instruction run both ways; returns false (after CHECKs) on a mismatch. dst and src
 * are the values of the instruction's destination and source operands, wherever the
 * form puts them: [rdi], ecx, eax or the immediate.
 */
static bool alu_compare_once(const struct alu_op *op, enum alu_form form, unsigned size,
			     enum x86_cpu_mode mode)
{
	int failures_before = unit_failures;
	u64 mask = ~0ull >> (64 - 8 * size);
	unsigned imm_size = alu_imm_size(op, form, size), ncode, i;
	u64 dst = interesting_value(size), src = interesting_value(size), acc = 0;
	u64 imm = imm_size ? rng() & (~0ull >> (64 - 8 * imm_size)) : 0;
	u64 flags_in = (rng() & F_ARITH) | F_FIXED, native_flags = flags_in;
	u64 d, s, a, mem_val;
	bool reg_dst = form == FORM_REG_MEM || form == FORM_ACC_IMM;
	struct fake_guest g = { 0 };
	struct x86_regs regs = { 0 };
	struct x86_emu_ctxt ctxt = { .ops = &fake_ops, .ops_ctx = &g, .regs = &regs,
				     .mode = mode };
	u8 code[16];

	if (imm_size)
		src = sign_extend_bytes(imm, imm_size, size);
	if (op->bit_offset && !imm_size)
		src &= 8 * size - 1;	/* the register form wraps: compare in-range offsets */
	if (op->native == native_cmpxchg)
		acc = (rng() & 1) ? dst : interesting_value(size);
	d = dst;
	s = src;
	a = acc;
	op->native(size, &d, &s, &a, &native_flags);

	ncode = alu_encode(op, form, size, imm, code);
	fake_reset(&g, mode);
	fake_poke(&g, CODE_RIP, code, ncode);
	mem_val = reg_dst ? src : dst;
	if (form != FORM_ACC_IMM)
		fake_poke(&g, D, &mem_val, size);
	regs.gpr[X86_RDI] = D;
	/* bits above the operand size must survive */
	regs.gpr[X86_RCX] = (reg_dst ? dst : src) | (~mask & 0x5a5a5a5a5a5a5a5aull);
	regs.gpr[X86_RAX] = form == FORM_ACC_IMM ? dst : acc;
	regs.rip = CODE_RIP;
	regs.rflags = flags_in;

	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(regs.rip, CODE_RIP + ncode);
	CHECK_EQ(x86_insn_length(code, ncode, mode), ncode);
	CHECK_EQ(regs.rflags & op->flags_checked, native_flags & op->flags_checked);
	CHECK_EQ(regs.rflags & ~op->flags_checked, flags_in & ~op->flags_checked);
	if (form == FORM_ACC_IMM) {
		CHECK_EQ(regs.gpr[X86_RAX] & mask, d & mask);
	} else if (reg_dst) {
		/* 32-bit results clear bits 63:32; narrower ones keep them */
		u64 upper = size == 4 ? 0 : ~mask & 0x5a5a5a5a5a5a5a5aull;

		CHECK_EQ(regs.gpr[X86_RCX], op->writes ? (d & mask) | upper :
			 (dst & mask) | (~mask & 0x5a5a5a5a5a5a5a5aull));
	} else if (op->writes) {
		CHECK_EQ(first_write(&g), d & mask);
	} else {
		for (i = 0; i < g.nlog; i++)
			CHECK(g.log[i].kind != 'w');
	}
	if (op->native == native_xadd)
		CHECK_EQ(regs.gpr[X86_RCX] & mask, s & mask);
	if (op->native == native_cmpxchg)
		CHECK_EQ(regs.gpr[X86_RAX] & mask, a & mask);
	CHECK(!g.bad_callback);
	fake_reset(&g, mode);
	if (unit_failures == failures_before)
		return true;
	fprintf(stderr, "  ^ %s form %d size %u mode %d: dst %#llx src %#llx acc %#llx "
		"flags %#llx\n", op->name, form, size, mode, (unsigned long long)dst,
		(unsigned long long)src, (unsigned long long)acc,
		(unsigned long long)flags_in);
	return false;
}

static void test_alu_against_cpu(void)
{
	static const enum x86_cpu_mode modes[] = { M64, M32 };
	unsigned o, form, size, m, i;

	for (o = 0; o < ARRAY_SIZE(alu_ops); o++)
		for (form = 0; form < FORM_COUNT; form++)
			for (size = 1; size <= 8; size *= 2)
				for (m = 0; m < ARRAY_SIZE(modes); m++) {
					if (!(alu_ops[o].forms & BIT(form)) ||
					    (size == 1 && !alu_ops[o].byte_form) ||
					    (size == 1 && form == FORM_MEM_IMM8) ||
					    (size == 8 && modes[m] != M64))
						continue;
					for (i = 0; i < 64; i++)
						if (!alu_compare_once(&alu_ops[o], form, size,
								      modes[m]))
							break;
				}
}

/* --- the length-only decoder on instructions the emulator does not execute --- */

struct length_case {
	u8 mode;
	const char *code;
	unsigned length;	/* 0: cannot tell */
};

static const struct length_case length_cases[] = {
	{ M64, "e8 00 00 00 00", 5 },
	{ M64, "66 e8 00 00 00 00", 6 },	/* Intel ignores 66 on near branches */
	{ M64, "e9 00 00 00 00", 5 },
	{ M64, "eb fe", 2 },
	{ M64, "0f 84 00 00 00 00", 6 },
	{ M64, "66 0f 84 00 00 00 00", 7 },
	{ M64, "c3", 1 },
	{ M64, "c2 08 00", 3 },
	{ M64, "c8 10 00 01", 4 },
	{ M64, "48 b8 88 77 66 55 44 33 22 11", 10 },
	{ M64, "b8 78 56 34 12", 5 },
	{ M64, "66 b8 34 12", 4 },
	{ M64, "41 b0 01", 3 },
	{ M64, "0f 05", 2 },
	{ M64, "0f 01 c1", 3 },
	{ M64, "0f 01 10", 3 },
	{ M64, "0f 01 15 00 00 00 00", 7 },
	{ M64, "0f 20 c0", 3 },
	{ M64, "0f 22 05", 3 },		/* MOV CR ignores mod: no displacement */
	{ M64, "0f 38 00 c1", 4 },
	{ M64, "66 0f 38 00 04 24", 6 },
	{ M64, "66 0f 3a 0f c1 08", 6 },
	{ M64, "0f 3a 0f 44 24 08 04", 7 },
	{ M64, "f3 0f 1e fa", 4 },
	{ M64, "0f 1f 44 00 00", 5 },
	{ M64, "66 0f 1f 84 00 00 00 00 00", 9 },
	{ M64, "f6 c0 01", 3 },
	{ M64, "f6 d0", 2 },
	{ M64, "f6 20", 2 },
	{ M64, "f7 c0 00 00 00 00", 6 },
	{ M64, "66 f7 c0 00 00", 5 },
	{ M64, "48 f7 c0 00 00 00 00", 7 },
	{ M64, "f7 d8", 2 },
	{ M64, "69 c0 00 01 00 00", 6 },
	{ M64, "66 69 c0 00 01", 5 },
	{ M64, "6b c0 01", 3 },
	{ M64, "68 00 00 00 00", 5 },
	{ M64, "6a 01", 2 },
	{ M64, "cd 80", 2 },
	{ M64, "cc", 1 },
	{ M64, "e4 60", 2 },
	{ M64, "ec", 1 },
	{ M64, "0f ba e0 01", 4 },
	{ M64, "0f c7 f0", 3 },
	{ M64, "0f ae 38", 3 },
	{ M64, "d8 c0", 2 },
	{ M64, "dd 04 24", 3 },
	{ M64, "8f 00", 2 },
	{ M64, "ff 15 00 00 00 00", 6 },
	{ M64, "48 8d 05 00 00 00 00", 7 },
	{ M64, "48 8d 44 24 08", 5 },
	{ M64, "4c 8d 04 8d 00 00 00 00", 8 },
	{ M64, "c1 e0 04", 3 },
	{ M64, "0f a4 c1 04", 4 },
	{ M64, "0f c2 c1 00", 4 },
	{ M64, "f2 0f 10 05 00 00 00 00", 8 },
	{ M64, "0f 78 c1", 3 },
	{ M64, "a1 00 00 00 00 00 00 00 00", 9 },
	{ M64, "67 a1 00 00 00 00", 6 },
	{ M64, "2e 3e 26 36 64 65 f0 f2 f3 66 67 48 87 07", 14 },
	{ M64, "c4 e2 79 18 07", 0 },	/* VEX */
	{ M64, "c5 f9 7e 07", 0 },
	{ M64, "62 f1 7d 48 7f 07", 0 },	/* EVEX */
	{ M64, "0f 0b", 0 },
	{ M64, "06", 0 },
	{ M64, "d4 0a", 0 },
	{ M64, "ea 00 00 00 00 08 00", 0 },
	{ M64, "0f 0f c1 0c", 0 },	/* 3DNow! */
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 0 },
	{ M64, "89", 0 },
	{ M64, "c7 07 78 56", 0 },
	{ M64, "0f", 0 },
	{ M64, "0f 38", 0 },
	{ M32, "9a 00 00 00 00 08 00", 7 },
	{ M32, "66 9a 00 00 08 00", 6 },
	{ M32, "ea 00 00 00 00 08 00", 7 },
	{ M32, "e8 00 00 00 00", 5 },
	{ M32, "66 e8 00 00", 4 },
	{ M32, "c4 07", 2 },		/* LES */
	{ M32, "c5 04 24", 3 },		/* LDS */
	{ M32, "c4 e2 79 18 07", 0 },	/* VEX */
	{ M32, "62 07", 2 },		/* BOUND */
	{ M32, "d4 0a", 2 },
	{ M32, "40", 1 },
	{ M32, "a1 00 00 00 00", 5 },
	{ M32, "67 a1 00 00", 4 },
	{ M32, "06", 1 },
	{ M32, "8b 04 24", 3 },
	{ M32, "8b 05 00 00 00 00", 6 },
	{ M32, "8b 04 25 00 00 00 00", 7 },
	{ M32, "67 8b 06 34 12", 5 },
	{ M16, "e8 00 00", 3 },
	{ M16, "66 e8 00 00 00 00", 6 },
	{ M16, "b8 34 12", 3 },
	{ M16, "66 b8 78 56 34 12", 6 },
	{ M16, "8b 86 00 01", 4 },
	{ M16, "8b 06 34 12", 4 },
	{ M16, "8b 04", 2 },
	{ M16, "67 8b 04 24", 4 },
	{ M16, "67 8b 05 00 00 00 00", 7 },
	{ M16, "ea 00 00 00 f0", 5 },
	{ M16, "c7 06 00 10 34 12", 6 },
	{ M16, "66 c7 06 00 10 78 56 34 12", 9 },
	{ MRL, "ea 5b e0 00 f0", 5 },
	{ MRL, "a0 34 12", 3 },
	{ MRL, "66 67 8b 44 24 04", 6 },
};

static void test_length_decoder(void)
{
	unsigned i, n;
	u8 code[16];

	for (i = 0; i < ARRAY_SIZE(length_cases); i++) {
		const struct length_case *c = &length_cases[i];
		int failures_before = unit_failures;

		n = parse_hex(c->code, code, sizeof(code));
		CHECK_EQ(x86_insn_length(code, n, c->mode), c->length);
		/* bytes after the instruction change nothing */
		memset(code + n, 0x90, sizeof(code) - n);
		if (c->length)
			CHECK_EQ(x86_insn_length(code, sizeof(code), c->mode), c->length);
		if (unit_failures != failures_before)
			fprintf(stderr, "  ^ length of \"%s\" in mode %d\n", c->code, c->mode);
	}
}

/* --- special cases --- */

static void emulate_setup(struct x86_emu_ctxt *ctxt, struct fake_guest *g,
			  struct x86_regs *regs, enum x86_cpu_mode mode, u64 rip,
			  const char *hex)
{
	u8 code[16];
	unsigned n = parse_hex(hex, code, sizeof(code));

	fake_reset(g, mode);
	memset(regs, 0, sizeof(*regs));
	regs->rip = rip;
	regs->rflags = F_FIXED;
	fake_poke(g, rip, code, n);
	*ctxt = (struct x86_emu_ctxt){ .ops = &fake_ops, .ops_ctx = g, .regs = regs,
				       .mode = mode };
}

/* A long REP runs X86_REP_MAX_ITERATIONS per call, RIP staying until the last one. */
static void test_rep_bound(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;
	u64 count = 3 * X86_REP_MAX_ITERATIONS + 5;
	unsigned calls = 0;

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "f3 aa");
	regs.gpr[X86_RCX] = count;
	regs.gpr[X86_RDI] = 0x10000;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(regs.rip, CODE_RIP);
	CHECK_EQ(regs.gpr[X86_RCX], count - X86_REP_MAX_ITERATIONS);
	CHECK_EQ(regs.gpr[X86_RDI], 0x10000 + X86_REP_MAX_ITERATIONS);
	CHECK_EQ(g.nlog, X86_REP_MAX_ITERATIONS);
	for (calls = 1; regs.rip == CODE_RIP && calls < 10; calls++)
		CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(calls, 4);
	CHECK_EQ(regs.gpr[X86_RCX], 0);
	CHECK_EQ(regs.gpr[X86_RDI], 0x10000 + count);
	CHECK_EQ(regs.rip, CODE_RIP + 2);
	CHECK_EQ(g.nlog, count);
	fake_reset(&g, M64);
}

/* refuse_rep_strings: a REP string instruction is handed back before any iteration; a
 * plain one still runs. */
static void test_refuse_rep_strings(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "f3 48 ab");
	ctxt.refuse_rep_strings = true;
	regs.gpr[X86_RCX] = 8;
	regs.gpr[X86_RDI] = 0x10000;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_UNHANDLED);
	CHECK_EQ(regs.rip, CODE_RIP);
	CHECK_EQ(regs.gpr[X86_RCX], 8);
	CHECK_EQ(regs.gpr[X86_RDI], 0x10000);
	CHECK_EQ(g.nlog, 0);
	fake_reset(&g, M64);

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "48 ab");
	ctxt.refuse_rep_strings = true;
	regs.gpr[X86_RDI] = 0x10000;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(regs.rip, CODE_RIP + 2);
	CHECK_EQ(regs.gpr[X86_RDI], 0x10008);
	CHECK_EQ(g.nlog, 1);
	fake_reset(&g, M64);
}

static u64 fake_peek64(struct fake_guest *g, u64 addr)
{
	u64 v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (u64)fake_byte(g, addr + i) << (8 * i);
	return v;
}

static void test_cmpxchg16b(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;
	u64 mem[2] = { 0x1111, 0x2222 };

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "f0 48 0f c7 0f");
	fake_poke(&g, D, mem, 16);
	regs.gpr[X86_RDI] = D;
	regs.gpr[X86_RAX] = 0x1111;
	regs.gpr[X86_RDX] = 0x2222;
	regs.gpr[X86_RBX] = 0x3333;
	regs.gpr[X86_RCX] = 0x4444;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(fake_peek64(&g, D), 0x3333);
	CHECK_EQ(fake_peek64(&g, D + 8), 0x4444);
	CHECK_EQ(regs.rflags, F_FIXED | F_ZF);
	CHECK_EQ(g.nlog, 2);
	CHECK_EQ(g.log[0].size, 16);
	CHECK_EQ(g.log[1].size, 16);

	regs.rip = CODE_RIP;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);	/* RDX:RAX no longer matches */
	CHECK_EQ(regs.gpr[X86_RAX], 0x3333);
	CHECK_EQ(regs.gpr[X86_RDX], 0x4444);
	CHECK_EQ(fake_peek64(&g, D), 0x3333);
	CHECK_EQ(regs.rflags, F_FIXED);
	fake_reset(&g, M64);
}

/* Code is fetched up to its page's end, and from the next page only when needed. */
static void test_fetch_split(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "89 07");
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.fetches, 1);
	CHECK_EQ(ctxt.nbytes, X86_MAX_INSN_LEN);

	emulate_setup(&ctxt, &g, &regs, M64, 0x4ffe, "89 07");
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.fetches, 1);

	emulate_setup(&ctxt, &g, &regs, M64, 0x4ffe, "48 89 07");
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.fetches, 2);
	CHECK_EQ(ctxt.nbytes, X86_MAX_INSN_LEN);
	CHECK_EQ(ctxt.bytes[2], 0x07);
	CHECK_EQ(ctxt.insn->op, X86_OP_MOV);
	CHECK(!g.bad_callback);
	fake_reset(&g, M64);
}

/*
 * The decode cache: a second run of the same bytes reuses the decode (seen by tampering
 * with the cached entry), while new bytes or another mode at the same RIP decode afresh.
 */
static void test_decode_cache(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;
	struct x86_decode_cache_entry *e;
	static const u8 byte_store[] = { 0x88, 0x07 };
	static const u8 bad_rex[] = { 0x48, 0x89, 0x07 };

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "89 07");
	regs.gpr[X86_RDI] = D;
	regs.gpr[X86_RAX] = 0x11223344;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	e = &ctxt.decode_cache[CODE_RIP % X86_DECODE_CACHE_ENTRIES];
	CHECK(ctxt.insn == &e->insn);
	CHECK(e->valid);
	CHECK_EQ(e->code[0], 0x0789);
	CHECK_EQ(e->code[1], 0);

	e->insn.disp = 8;	/* a hit must use the cached decode */
	regs.rip = CODE_RIP;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.nlog, 2);
	CHECK_EQ(g.log[1].addr, D + 8);
	e->insn.disp = 0;

	fake_poke(&g, CODE_RIP, byte_store, sizeof(byte_store));	/* new code */
	regs.rip = CODE_RIP;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.log[2].size, 1);
	CHECK_EQ(g.log[2].addr, D);

	fake_poke(&g, CODE_RIP, bad_rex, sizeof(bad_rex));
	regs.rip = CODE_RIP;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(g.log[3].size, 8);
	ctxt.mode = M32;	/* the same bytes: dec eax in 32-bit code */
	g.mode = M32;
	regs.rip = CODE_RIP;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_UNHANDLED);
	CHECK(!e->valid);
	CHECK_EQ(ctxt.insn->length, 1);
	CHECK_EQ(g.nlog, 4);

	/* a cached instruction longer than what its page now holds is not a hit */
	emulate_setup(&ctxt, &g, &regs, M64, 0x4ffe, "c7 07 78 56 34 12");
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	g.fault_pages[0] = 0x5000;
	regs.rip = 0x4ffe;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_EXCEPTION);
	CHECK_EQ(ctxt.exception.vector, X86_EXC_PF);
	CHECK_EQ(ctxt.exception.cr2, 0x5000);
	CHECK(!g.bad_callback);
	fake_reset(&g, M64);
}

/* --- shifts, rotates, MUL/IMUL/DIV/IDIV against the host CPU --- */

#define NATIVE_SHIFT_CASE(mn, sfx, T, cons) \
	case sizeof(T): { \
		T x = *d; \
		asm volatile(NATIVE_PRE mn sfx " %%cl, %[x]" NATIVE_POST \
			     : [x] "+" cons(x), [f] "+r"(f) : "c"(count) : "cc"); \
		*d = x; \
		break; \
	}
#define DEFINE_NATIVE_SHIFT(name) \
	static void native_##name(unsigned size, u64 *d, u8 count, u64 *flags) \
	{ \
		u64 f = *flags; \
		switch (size) { \
		NATIVE_SHIFT_CASE(#name, "b", u8, "q") \
		NATIVE_SHIFT_CASE(#name, "w", u16, "r") \
		NATIVE_SHIFT_CASE(#name, "l", u32, "r") \
		NATIVE_SHIFT_CASE(#name, "q", u64, "r") \
		} \
		*flags = f; \
	}
DEFINE_NATIVE_SHIFT(rol)
DEFINE_NATIVE_SHIFT(ror)
DEFINE_NATIVE_SHIFT(rcl)
DEFINE_NATIVE_SHIFT(rcr)
DEFINE_NATIVE_SHIFT(shl)
DEFINE_NATIVE_SHIFT(shr)
DEFINE_NATIVE_SHIFT(sar)

struct shift_op {
	const char *name;
	void (*native)(unsigned size, u64 *d, u8 count, u64 *flags);
	u8 modrm_reg;
	bool rotate;
};

static const struct shift_op shift_ops[] = {
	{ "rol", native_rol, 0, true }, { "ror", native_ror, 1, true },
	{ "rcl", native_rcl, 2, true }, { "rcr", native_rcr, 3, true },
	{ "shl", native_shl, 4, false }, { "shr", native_shr, 5, false },
	{ "sar", native_sar, 7, false },
};

/* The flags the SDM defines after a shift or rotate of value by n (masked) bits. */
static u64 shift_defined_flags(const struct shift_op *op, unsigned n, unsigned size)
{
	u64 f = n == 1 ? F_OF : 0;

	if (n == 0)
		return F_ARITH;		/* nothing changes */
	if (op->rotate)
		return f | F_CF | (F_ARITH & ~(F_CF | F_OF));	/* the others are kept */
	/* SHL, SHR: CF undefined once the count reaches the width */
	if (op->native == native_sar || n < 8 * size)
		f |= F_CF;
	return f | F_SF | F_ZF | F_PF;
}

/* op [rdi], cl run both ways. */
static bool shift_compare_once(const struct shift_op *op, unsigned size)
{
	int failures_before = unit_failures;
	u64 mask = ~0ull >> (64 - 8 * size), value = interesting_value(size);
	u8 count = rng() & 0x3f;
	unsigned n = count & (size == 8 ? 0x3f : 0x1f), ncode = 0;
	u64 flags_in = (rng() & F_ARITH) | F_FIXED, native_flags = flags_in, d = value;
	u64 defined = shift_defined_flags(op, n, size);
	struct fake_guest g = { 0 };
	struct x86_regs regs = { 0 };
	struct x86_emu_ctxt ctxt = { .ops = &fake_ops, .ops_ctx = &g, .regs = &regs,
				     .mode = M64 };
	u8 code[4];

	op->native(size, &d, count, &native_flags);
	if (size == 2)
		code[ncode++] = 0x66;
	if (size == 8)
		code[ncode++] = 0x48;
	code[ncode++] = size == 1 ? 0xd2 : 0xd3;
	code[ncode++] = 0x07 | op->modrm_reg << 3;
	fake_reset(&g, M64);
	fake_poke(&g, CODE_RIP, code, ncode);
	fake_poke(&g, D, &value, size);
	regs.gpr[X86_RDI] = D;
	regs.gpr[X86_RCX] = count;
	regs.rip = CODE_RIP;
	regs.rflags = flags_in;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(regs.rflags & defined, native_flags & defined);
	CHECK_EQ(g.nlog, n ? 2 : 1);
	if (n)
		CHECK_EQ(first_write(&g), d & mask);
	CHECK(!g.bad_callback);
	fake_reset(&g, M64);
	if (unit_failures == failures_before)
		return true;
	fprintf(stderr, "  ^ %s size %u: value %#llx count %u flags %#llx\n", op->name, size,
		(unsigned long long)value, count, (unsigned long long)flags_in);
	return false;
}

static void test_shifts_against_cpu(void)
{
	for (unsigned o = 0; o < ARRAY_SIZE(shift_ops); o++)
		for (unsigned size = 1; size <= 8; size *= 2)
			for (unsigned i = 0; i < 256; i++)
				if (!shift_compare_once(&shift_ops[o], size))
					break;
}

/* MUL/IMUL natively; DIV/IDIV natively only when the 128-bit oracle says no #DE. */
#define NATIVE_MULDIV_CASE(mn, sfx, T, cons) \
	case sizeof(T): { \
		T x = (T)src; \
		asm volatile(NATIVE_PRE mn sfx " %[x]" NATIVE_POST \
			     : "+a"(*rax), "+d"(*rdx), [f] "+r"(f) : [x] cons(x) : "cc"); \
		break; \
	}
#define DEFINE_NATIVE_MULDIV(name) \
	static void native_##name(unsigned size, u64 *rax, u64 *rdx, u64 src, u64 *flags) \
	{ \
		u64 f = *flags; \
		switch (size) { \
		NATIVE_MULDIV_CASE(#name, "b", u8, "q") \
		NATIVE_MULDIV_CASE(#name, "w", u16, "r") \
		NATIVE_MULDIV_CASE(#name, "l", u32, "r") \
		NATIVE_MULDIV_CASE(#name, "q", u64, "r") \
		} \
		*flags = f; \
	}
DEFINE_NATIVE_MULDIV(mul)
DEFINE_NATIVE_MULDIV(imul)
DEFINE_NATIVE_MULDIV(div)
DEFINE_NATIVE_MULDIV(idiv)

/* Whether DIV (or IDIV) of the accumulator by src raises #DE, worked out in 128 bits. */
static bool divide_faults(bool is_signed, unsigned size, u64 rax, u64 rdx, u64 src)
{
	unsigned bits = 8 * size;
	u64 mask = ~0ull >> (64 - bits);
	unsigned __int128 dividend = size == 1 ? rax & 0xffff :
		((unsigned __int128)(rdx & mask) << bits) | (rax & mask);
	__int128 q;

	src &= mask;
	if (src == 0)
		return true;
	if (!is_signed)
		return dividend / src > mask;
	dividend <<= 128 - 2 * bits;
	q = ((__int128)dividend >> (128 - 2 * bits)) /
	    (__int128)((s64)(src << (64 - bits)) >> (64 - bits));
	return q > (__int128)(mask >> 1) || q < -(__int128)(mask >> 1) - 1;
}

static void muldiv_compare_once(unsigned reg, unsigned size, void (*native)(unsigned, u64 *,
				u64 *, u64, u64 *))
{
	int failures_before = unit_failures;
	u64 src = interesting_value(size), rax = rng(), rdx = (rng() & 1) ? rng() : 0;
	u64 flags_in = (rng() & F_ARITH) | F_FIXED, native_flags = flags_in;
	u64 want_rax = rax, want_rdx = rdx;
	bool divides = reg >= 6, faults = divides && divide_faults(reg == 7, size, rax, rdx, src);
	struct fake_guest g = { 0 };
	struct x86_regs regs = { 0 };
	struct x86_emu_ctxt ctxt = { .ops = &fake_ops, .ops_ctx = &g, .regs = &regs,
				     .mode = M64 };
	u8 code[3];
	unsigned ncode = 0;

	if (!faults)
		native(size, &want_rax, &want_rdx, src, &native_flags);
	if (size == 2)
		code[ncode++] = 0x66;
	if (size == 8)
		code[ncode++] = 0x48;
	code[ncode++] = size == 1 ? 0xf6 : 0xf7;
	code[ncode++] = 0x07 | reg << 3;
	fake_reset(&g, M64);
	fake_poke(&g, CODE_RIP, code, ncode);
	fake_poke(&g, D, &src, size);
	regs.gpr[X86_RDI] = D;
	regs.gpr[X86_RAX] = rax;
	regs.gpr[X86_RDX] = rdx;
	regs.rip = CODE_RIP;
	regs.rflags = flags_in;
	CHECK_EQ(x86_emulate(&ctxt), faults ? X86_EMUL_EXCEPTION : X86_EMUL_OK);
	if (faults) {
		CHECK_EQ(ctxt.exception.vector, X86_EXC_DE);
		want_rax = rax;
		want_rdx = rdx;
	}
	CHECK_EQ(regs.gpr[X86_RAX], want_rax);
	CHECK_EQ(regs.gpr[X86_RDX], want_rdx);
	if (!divides)
		CHECK_EQ(regs.rflags & (F_CF | F_OF), native_flags & (F_CF | F_OF));
	CHECK(!g.bad_callback);
	fake_reset(&g, M64);
	if (unit_failures != failures_before)
		fprintf(stderr, "  ^ group 3 /%u size %u: rdx:rax %#llx:%#llx src %#llx\n", reg,
			size, (unsigned long long)rdx, (unsigned long long)rax,
			(unsigned long long)src);
}

static void test_muldiv_against_cpu(void)
{
	static void (*const natives[4])(unsigned, u64 *, u64 *, u64, u64 *) = {
		native_mul, native_imul, native_div, native_idiv,
	};

	for (unsigned reg = 4; reg < 8; reg++)
		for (unsigned size = 1; size <= 8; size *= 2)
			for (unsigned i = 0; i < 512; i++)
				muldiv_compare_once(reg, size, natives[reg - 4]);
}

/* A 16-byte load fills the whole register; MOVD and MOVQ loads zero what they do not
 * write; a store leaves the register as it was. */
static void test_xmm_full_width(void)
{
	static const u8 pattern[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const u8 zero[8];
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "44 0f 10 3f");	/* movups xmm15 */
	fake_poke(&g, D, pattern, 16);
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK(!memcmp(g.xmm[15], pattern, 16));
	CHECK_EQ(g.xmm[14][0], 0xe1);

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "66 0f 6e 17");	/* movd xmm2 */
	fake_poke(&g, D, pattern, 16);
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK(!memcmp(g.xmm[2], pattern, 4));
	CHECK(!memcmp(g.xmm[2] + 4, zero, 8) && !memcmp(g.xmm[2] + 8, zero, 8));

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "f3 0f 7e 1f");	/* movq xmm3 */
	fake_poke(&g, D, pattern, 16);
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK(!memcmp(g.xmm[3], pattern, 8) && !memcmp(g.xmm[3] + 8, zero, 8));

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "0f 11 27");	/* movups [rdi], xmm4 */
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_OK);
	CHECK_EQ(fake_peek64(&g, D + 8), 0x4141414141414141ull);
	CHECK_EQ(g.xmm[4][15], 0x41);
	CHECK(!g.bad_callback);
	fake_reset(&g, M64);
}

/* A callback's UNHANDLED goes up as it is, and nothing after it happens. */
static int read_unhandled(void *ctx, u64 linear, void *buf, unsigned size,
			  struct x86_exception *e)
{
	return X86_EMUL_UNHANDLED;
}

static void test_callback_unhandled(void)
{
	struct fake_guest g = { 0 };
	struct x86_regs regs;
	struct x86_emu_ctxt ctxt;
	struct x86_emu_ops ops = fake_ops;

	emulate_setup(&ctxt, &g, &regs, M64, CODE_RIP, "01 07");
	ops.read_mem = read_unhandled;
	ctxt.ops = &ops;
	regs.gpr[X86_RDI] = D;
	CHECK_EQ(x86_emulate(&ctxt), X86_EMUL_UNHANDLED);
	CHECK_EQ(regs.rip, CODE_RIP);
	CHECK_EQ(g.nlog, 0);
	fake_reset(&g, M64);
}

/* x86_decode then x86_execute is x86_emulate without the fetch. */
static void test_decode_then_execute(void)
{
	static const u8 code[] = { 0x48, 0x89, 0x47, 0x08 };	/* mov [rdi+8], rax */
	struct fake_guest g = { 0 };
	struct x86_regs regs = { .rip = CODE_RIP, .rflags = F_FIXED };
	struct x86_emu_ctxt ctxt = { .ops = &fake_ops, .ops_ctx = &g, .regs = &regs,
				     .mode = M64 };
	struct x86_insn insn;

	fake_reset(&g, M64);
	regs.gpr[X86_RDI] = D;
	regs.gpr[X86_RAX] = RAXV;
	CHECK_EQ(x86_decode(code, sizeof(code), M64, &insn), X86_DECODE_OK);
	CHECK_EQ(insn.length, 4);
	CHECK_EQ(insn.op, X86_OP_MOV);
	CHECK_EQ(insn.operand_size, 8);
	CHECK_EQ(insn.address_size, 8);
	CHECK_EQ(insn.mem_base, X86_RDI);
	CHECK_EQ(insn.mem_index, X86_REG_NONE);
	CHECK_EQ(insn.disp, 8);
	CHECK_EQ(insn.segment, X86_SEG_DS);
	CHECK_EQ(x86_execute(&ctxt, &insn), X86_EMUL_OK);
	CHECK_EQ(regs.rip, CODE_RIP + 4);
	CHECK_EQ(g.nlog, 1);
	CHECK_EQ(g.log[0].addr, D + 8);
	CHECK_EQ(g.log[0].val, RAXV);
	CHECK_EQ(g.fetches, 0);
	insn.op = X86_OP_NONE;
	CHECK_EQ(x86_execute(&ctxt, &insn), X86_EMUL_UNHANDLED);
	fake_reset(&g, M64);
}

/*
 * The decoder writes only the fields that apply: for every opcode of both maps, every
 * ModRM.reg and mod and every mode, the fields the executor reads for what was decoded
 * must not keep the poison the struct held before.
 */
static void test_decode_initialises_what_it_uses(void)
{
	static const u8 prefixes[][2] = { { 0x90, 0 }, { 0x66, 1 }, { 0x67, 1 }, { 0x48, 1 } };
	u64 poison;
	unsigned mode, map, opcode, modrm, p, n;
	struct x86_insn insn;
	u8 code[16];
	bool ok = true;

	memset(&poison, 0xa5, sizeof(poison));
	for (mode = 0; mode < 4; mode++)
		for (p = 0; p < ARRAY_SIZE(prefixes); p++)
			for (map = 0; map < 2; map++)
				for (opcode = 0; opcode < 256; opcode++)
					for (modrm = 0; modrm < 256; modrm += 9) {
		n = 0;
		if (prefixes[p][1])
			code[n++] = prefixes[p][0];
		if (map)
			code[n++] = 0x0f;
		code[n++] = opcode;
		code[n++] = modrm;
		memset(code + n, 0, sizeof(code) - n);
		memset(&insn, 0xa5, sizeof(insn));
		if (x86_decode(code, X86_MAX_INSN_LEN, mode, &insn) != X86_DECODE_OK)
			continue;
		ok &= insn.length <= X86_MAX_INSN_LEN && insn.segment <= X86_SEG_GS;
		ok &= insn.operand_size <= 8 && insn.address_size <= 8;
		ok &= insn.prefixes != 0xa5 && insn.rex != 0xa5;
		if (insn.src == OPND_IMM)
			ok &= insn.imm != poison;
		if (insn.has_mem)
			ok &= insn.disp != poison && insn.mem_base != 0xa5 &&
			      insn.mem_index != 0xa5 && insn.mem_scale != 0xa5;
		if (insn.has_modrm)
			ok &= insn.modrm_reg != 0xa5 && (insn.has_mem || insn.modrm_rm != 0xa5);
		if (insn.dst == OPND_REG || insn.src == OPND_REG || insn.dst == OPND_RM ||
		    insn.src == OPND_RM || insn.src == OPND_RM8 || insn.src == OPND_RM16 ||
		    insn.src == OPND_RM32)
			ok &= insn.has_modrm == true;
		if (!ok) {
			fprintf(stderr, "poison left: mode %u map %u opcode %02x modrm %02x\n",
				mode, map, opcode, modrm);
			CHECK(ok);
			return;
		}
	}
	CHECK(ok);
}

static void test_names_and_formatting(void)
{
	static const u8 bytes[] = { 0x0f, 0xb6, 0x07 };
	char buf[32];
	unsigned op;

	CHECK_STR(x86_op_name(X86_OP_MOV), "mov");
	CHECK_STR(x86_op_name(X86_OP_CMPXCHG8B), "cmpxchg8b");
	CHECK_STR(x86_op_name(X86_OP_COUNT), "?");
	for (op = 0; op < X86_OP_COUNT; op++)
		CHECK(x86_op_name(op) != NULL);
	CHECK_EQ(x86_format_bytes(bytes, 3, buf, sizeof(buf)), 8);
	CHECK_STR(buf, "0f b6 07");
	CHECK_EQ(x86_format_bytes(bytes, 3, buf, 8), 5);
	CHECK_STR(buf, "0f b6");
	CHECK_EQ(x86_format_bytes(bytes, 3, buf, 2), 0);
	CHECK_STR(buf, "");
	CHECK_EQ(x86_format_bytes(bytes, 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_EQ(x86_format_bytes(bytes, 3, NULL, 0), 0);
}

int main(void)
{
	test_cases();
	test_alu_against_cpu();
	test_length_decoder();
	test_rep_bound();
	test_refuse_rep_strings();
	test_cmpxchg16b();
	test_shifts_against_cpu();
	test_muldiv_against_cpu();
	test_xmm_full_width();
	test_fetch_split();
	test_callback_unhandled();
	test_decode_cache();
	test_decode_then_execute();
	test_decode_initialises_what_it_uses();
	test_names_and_formatting();
	return unit_done("emulate");
}
