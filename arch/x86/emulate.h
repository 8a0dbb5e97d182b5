/* The x86 instruction decoder (arch/x86/decode.c) and emulator (arch/x86/emulate.c): the
 * memory-operand instructions guests run on MMIO and on write-protected page tables. */
#ifndef VIREO_ARCH_X86_EMULATE_H
#define VIREO_ARCH_X86_EMULATE_H

#include "lib/types.h"

/*
 * Neither file touches a VMCS or a VM object: guest registers come in a struct x86_regs,
 * guest memory and ports through struct x86_emu_ops. Both build freestanding and on the
 * host (unit tests, fuzzing).
 *
 * What is emulated (16-, 32- and 64-bit code, every legacy prefix, REX):
 *   MOV (88-8B, A0-A3 moffs, C6/C7 imm), MOVZX, MOVSX, MOVSXD, MOVNTI (as MOV), MOVBE,
 *   ADD OR ADC SBB AND SUB XOR CMP (00-3D, 80-83), TEST (84/85, A8/A9, F6/F7 /0 /1),
 *   INC DEC (FE/FF /0 /1), NOT NEG (F6/F7 /2 /3), XCHG (86/87), CMPXCHG, XADD,
 *   CMPXCHG8B/16B, BT BTS BTR BTC (register and imm8 offsets),
 *   ROL ROR RCL RCR SHL SHR SAR (C0/C1, D0-D3), MUL IMUL DIV IDIV (F6/F7 /4-/7),
 *   IMUL r, r/m (0F AF, 69, 6B), PUSH r/m (FF /6), POP r/m (8F /0), SETcc, CMOVcc,
 *   MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE,
 *   SMSW SGDT SIDT SLDT STR (CR4.UMIP honoured), LMSW, MOV to/from CR0/2/3/4/8 and DR0-7,
 *   CLFLUSH/CLFLUSHOPT (no access: see emulate_clflush()),
 *   MOVUPS/MOVUPD/MOVDQU, MOVAPS/MOVAPD/MOVDQA, MOVD/MOVQ (66 0F 6E/7E, F3 0F 7E,
 *   66 0F D6) on the guest's XMM registers.
 * Not emulated: x87, MMX, MOVSS/MOVSD, the other SSE and every VEX/EVEX instruction; LGDT,
 * LIDT, LLDT, LTR; far and near branches, PUSH/POP of segment registers, ENTER/LEAVE.
 * Everything else decodes to X86_DECODE_UNSUPPORTED (x86_emulate: X86_EMUL_UNHANDLED);
 * architecturally invalid encodings (LOCK misuse, opcodes removed in 64-bit mode, UD0-2,
 * register forms of memory-only instructions) to X86_DECODE_INVALID (#UD).
 */

/* An instruction is at most 15 bytes (SDM Vol. 2A 2.3.11); longer raises #GP(0). */
#define X86_MAX_INSN_LEN 15
/* How far past an instruction's start the decoder may read (see arch/x86/decode.c). */
#define X86_INSN_BUF_LEN 32

/* General-purpose register numbers, as ModRM/REX encode them (SDM Vol. 2A 2.1.5). */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NR_GPRS
};

/* The guest state the emulator reads and updates; the vCPU keeps its GPRs in this order. */
struct x86_regs {
	u64 gpr[X86_NR_GPRS];
	u64 rip;
	u64 rflags;
};

/* Writes the low size bytes of a register as the CPU does: 32-bit writes zero bits 63:32,
 * 8- and 16-bit writes keep the other bits (SDM Vol. 1 3.4.1.1). */
static inline void x86_write_register(u64 *reg, unsigned size, u64 value)
{
	if (size == 4)
		*reg = (u32)value;
	else
		*reg = (*reg & ~low_bytes_mask(size)) | (value & low_bytes_mask(size));
}

/* Segment registers in their encoding order (SDM Vol. 2A 3.1.1.3, Sreg). */
enum x86_seg { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };

/*
 * The code size the guest executes in, from CR0.PE, EFLAGS.VM, EFER.LMA, CS.L and CS.D:
 * real and virtual-8086 mode -> REAL; CS.D=0 (also in compatibility mode) -> PROT16;
 * CS.D=1 -> PROT32; EFER.LMA=1 and CS.L=1 -> LONG64.
 */
enum x86_cpu_mode { X86_MODE_REAL, X86_MODE_PROT16, X86_MODE_PROT32, X86_MODE_LONG64 };

/* An exception for the caller to inject. cr2 is meaningful for #PF only. */
struct x86_exception {
	u8 vector;		/* X86_EXC_* (arch/x86/x86.h) */
	bool has_error_code;
	u32 error_code;
	u64 cr2;
};

enum x86_emul_result {
	X86_EMUL_OK,		/* done: registers, RFLAGS and RIP updated */
	X86_EMUL_EXCEPTION,	/* inject ctxt->exception; RIP unchanged */
	X86_EMUL_UNHANDLED,	/* not emulated: see x86_emulate() for what to do */
};

/* The system registers and state the system instructions read (read_sysreg) or load
 * (write_sysreg: the CRs and DRs only). */
enum x86_sysreg {
	X86_SYSREG_CR0, X86_SYSREG_CR2, X86_SYSREG_CR3, X86_SYSREG_CR4, X86_SYSREG_CR8,
	X86_SYSREG_DR0, X86_SYSREG_DR1, X86_SYSREG_DR2, X86_SYSREG_DR3,
	X86_SYSREG_DR6, X86_SYSREG_DR7,
	X86_SYSREG_GDTR_BASE, X86_SYSREG_GDTR_LIMIT, X86_SYSREG_IDTR_BASE, X86_SYSREG_IDTR_LIMIT,
	X86_SYSREG_LDTR, X86_SYSREG_TR,		/* selectors */
	X86_SYSREG_CPL,
	X86_SYSREG_STACK_SIZE,	/* a stack address's bytes: 8 in 64-bit mode, else SS.B ? 4 : 2 */
	X86_SYSREG_COUNT
};

/*
 * Guest memory and ports. Every callback returns an enum x86_emul_result: OK,
 * EXCEPTION with *e filled (a #PF from the guest's page tables, #GP...), or UNHANDLED
 * (the caller cannot do this access; the emulator passes it up unchanged).
 * Addresses are linear: the emulator has added the segment base and truncated to 32 bits
 * outside 64-bit mode. Buffers are little-endian.
 */
struct x86_emu_ops {
	/* len bytes of code at linear; never crosses a 4 KiB boundary (the emulator splits). */
	int (*fetch)(void *ctx, u64 linear, void *buf, unsigned len, struct x86_exception *e);
	/*
	 * A data access of 1, 2, 4, 8 or 16 bytes. It may cross a page and may mix RAM and
	 * MMIO: the callback translates every page before touching any, so a fault on the
	 * second page leaves the first untouched, as the CPU does.
	 */
	int (*read_mem)(void *ctx, u64 linear, void *buf, unsigned size, struct x86_exception *e);
	int (*write_mem)(void *ctx, u64 linear, const void *buf, unsigned size,
			 struct x86_exception *e);
	/* Port I/O for INS/OUTS; size 1, 2 or 4. Permissions were checked by the CPU. */
	int (*pio_in)(void *ctx, u16 port, unsigned size, u32 *value);
	int (*pio_out)(void *ctx, u16 port, unsigned size, u32 value);
	/* The base of a segment. Never called for CS, DS, ES or SS in 64-bit mode. */
	u64 (*seg_base)(void *ctx, enum x86_seg seg);
	/* System state (enum x86_sysreg), read only by the instructions that need it. */
	u64 (*read_sysreg)(void *ctx, enum x86_sysreg reg);
	/*
	 * MOV to CR0/2/3/4/8 or DR0-3/6/7 once the emulator checked CPL, the register
	 * number and the reserved bits the SDM lists for MOV. The callback checks what
	 * depends on the rest of the state (CR0/CR4 combinations, PAE PDPTEs): EXCEPTION
	 * with #GP(0) in *e when the value cannot be loaded; UNHANDLED when it cannot do it.
	 */
	int (*write_sysreg)(void *ctx, enum x86_sysreg reg, u64 value, struct x86_exception *e);
	/* The guest's XMM register reg (0-15), 16 bytes little-endian. */
	void (*read_xmm)(void *ctx, unsigned reg, void *value);
	void (*write_xmm)(void *ctx, unsigned reg, const void *value);
};

/* What an instruction does, for execution and for per-opcode statistics. */
enum x86_op {
	X86_OP_NONE,		/* not emulated */
	/* ADD..CMP in ModRM.reg order of group 1 (SDM Vol. 2A table A-6) */
	X86_OP_ADD, X86_OP_OR, X86_OP_ADC, X86_OP_SBB,
	X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP,
	X86_OP_TEST, X86_OP_INC, X86_OP_DEC, X86_OP_NOT, X86_OP_NEG,
	X86_OP_MOV, X86_OP_MOVZX, X86_OP_MOVSX, X86_OP_MOVSXD,
	X86_OP_XCHG, X86_OP_CMPXCHG, X86_OP_XADD, X86_OP_CMPXCHG8B,
	/* BT..BTC in ModRM.reg - 4 order of group 8 */
	X86_OP_BT, X86_OP_BTS, X86_OP_BTR, X86_OP_BTC,
	X86_OP_MOVS, X86_OP_CMPS, X86_OP_STOS, X86_OP_LODS, X86_OP_SCAS,
	X86_OP_INS, X86_OP_OUTS,
	/* ROL..SAR in ModRM.reg order of group 2 (SAL, /6, is SHL) */
	X86_OP_ROL, X86_OP_ROR, X86_OP_RCL, X86_OP_RCR, X86_OP_SHL, X86_OP_SHR, X86_OP_SAR,
	/* MUL..IDIV in ModRM.reg - 4 order of group 3 */
	X86_OP_MUL, X86_OP_IMUL, X86_OP_DIV, X86_OP_IDIV,
	X86_OP_IMUL2,		/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B) */
	X86_OP_PUSH, X86_OP_POP, X86_OP_MOVBE, X86_OP_SETCC, X86_OP_CMOVCC,
	X86_OP_SMSW, X86_OP_LMSW, X86_OP_SGDT, X86_OP_SIDT, X86_OP_SLDT, X86_OP_STR,
	X86_OP_MOV_CR, X86_OP_MOV_DR, X86_OP_CLFLUSH,
	X86_OP_MOVUPS,		/* and MOVUPD, MOVDQU: 16 bytes, any alignment */
	X86_OP_MOVAPS,		/* and MOVAPD, MOVDQA: 16 bytes, 16-byte aligned */
	X86_OP_MOVD,		/* 66 0F 6E/7E: 32 bits, 64 with REX.W (MOVQ) */
	X86_OP_MOVQ,		/* F3 0F 7E, 66 0F D6: 64 bits */
	X86_OP_COUNT
};

/* Prefix bits of struct x86_insn.prefixes. */
#define X86_PREFIX_LOCK BIT(0)		/* F0 */
#define X86_PREFIX_REPNE BIT(1)		/* F2: the last of F2/F3 wins */
#define X86_PREFIX_REP BIT(2)		/* F3 */
#define X86_PREFIX_OPSIZE BIT(3)	/* 66 */
#define X86_PREFIX_ADSIZE BIT(4)	/* 67 */

/* Register numbers for mem_base and mem_index beyond the GPRs. */
#define X86_REG_NONE 0xff
#define X86_REG_RIP 0x10		/* RIP-relative: base is the next instruction */

/*
 * A decoded instruction. Only the fields that apply are written (no clearing of the whole
 * struct on each decode): modrm_reg and modrm_rm when has_modrm, the mem_* fields and
 * disp when has_mem, imm when the instruction has an immediate, dst and src when
 * x86_decode() returned OK. The others are written by every decode that gets past the
 * opcode.
 */
struct x86_insn {
	u8 length;		/* bytes, prefixes included */
	u8 op;			/* enum x86_op: X86_OP_NONE when not emulated */
	u8 opcode;		/* the opcode byte after any 0F / 0F 38 / 0F 3A escape */
	u8 opcode_map;		/* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
	u8 operand_size;	/* bytes: 1, 2, 4 or 8 */
	u8 address_size;	/* bytes: 2, 4 or 8 */
	u8 prefixes;		/* X86_PREFIX_* */
	u8 rex;			/* the REX byte in effect, or 0 */
	u8 segment;		/* enum x86_seg of the memory operand (string source) */
	u8 dst, src;		/* operand kinds (arch/x86/decode.h), private to the emulator */
	bool has_modrm;
	bool has_mem;		/* the ModRM r/m (or moffs) operand is memory */
	u8 modrm;
	u8 modrm_reg;		/* ModRM.reg extended by REX.R */
	u8 modrm_rm;		/* ModRM.rm extended by REX.B: the register when !has_mem */
	u8 mem_base;		/* GPR, X86_REG_RIP or X86_REG_NONE */
	u8 mem_index;		/* GPR or X86_REG_NONE */
	u8 mem_scale;		/* index is shifted left by this */
	u64 disp;		/* sign-extended displacement, or the moffs address */
	u64 imm;		/* immediate, sign-extended to 64 bits */
};

enum x86_decode_result {
	X86_DECODE_OK,
	X86_DECODE_UNSUPPORTED,	/* a valid encoding the emulator does not execute */
	X86_DECODE_INVALID,	/* #UD */
	X86_DECODE_TOO_LONG,	/* more than 15 bytes: #GP(0) */
	X86_DECODE_TRUNCATED,	/* needs bytes past avail */
};

/*
 * Decodes bytes[0..avail). insn->length is set for OK and UNSUPPORTED (0 for VEX/EVEX,
 * which the decoder does not measure); insn->op is X86_OP_NONE unless OK.
 */
enum x86_decode_result x86_decode(const u8 *bytes, unsigned avail, enum x86_cpu_mode mode,
				  struct x86_insn *insn);

/*
 * The length of the instruction at bytes[0..avail), for skipping an instruction without
 * emulating it (the fast MMIO bus). Knows every one-byte, 0F, 0F 38 and 0F 3A opcode;
 * returns 0 when it cannot tell: truncated, invalid, VEX/EVEX-encoded, over 15 bytes.
 * About 110 instructions for a short instruction.
 */
unsigned x86_insn_length(const u8 *bytes, unsigned avail, enum x86_cpu_mode mode);

/* REP string instructions run at most this many iterations per x86_emulate() call. */
#define X86_REP_MAX_ITERATIONS 1024

/*
 * A decode remembered with the bytes it was made from. Decoding depends on nothing but
 * the bytes and the mode, so an entry whose bytes and mode match the code just fetched
 * is that code's decode: no invalidation is ever needed. MMIO is reached again and
 * again from the same few instructions, and a hit saves the whole decode.
 */
struct x86_decode_cache_entry {
	u64 code[2];		/* the instruction's bytes, zero past its length */
	u64 code_mask[2];	/* ones over its length */
	struct x86_insn insn;
	u8 mode;
	bool valid;		/* insn is a successful decode of code in mode */
};
#define X86_DECODE_CACHE_ENTRIES 4	/* indexed by the low bits of RIP */

/*
 * The emulator's state for one vCPU. Zero it once when the vCPU is created (it holds
 * the decode cache); before each x86_emulate() set ops, ops_ctx, regs and mode.
 */
struct x86_emu_ctxt {
	const struct x86_emu_ops *ops;
	void *ops_ctx;			/* passed back to every callback */
	struct x86_regs *regs;
	enum x86_cpu_mode mode;
	/* REP string instructions return X86_EMUL_UNHANDLED before their first iteration:
	 * the caller would rather have the guest run them itself (a page being filled as
	 * data, not a page table being updated entry by entry). */
	bool refuse_rep_strings;
	const struct x86_insn *insn;	/* the decode (in decode_cache); NULL if no fetch */
	struct x86_exception exception;	/* valid on X86_EMUL_EXCEPTION */
	u8 bytes[X86_INSN_BUF_LEN];	/* the code fetched: nbytes of it, stale after */
	u8 nbytes;
	struct x86_decode_cache_entry decode_cache[X86_DECODE_CACHE_ENTRIES];
};

/*
 * Fetches, decodes and executes the instruction at regs->rip. Costs, counted with
 * callgrind on the kernel's compiler flags, callbacks excluded: a 4-byte MOV to memory
 * in 64-bit code about 170 instructions when its decode is cached, 360 when not.
 *
 * X86_EMUL_OK: done. A REP string instruction stopped by the iteration bound also
 * returns OK, with RCX/RSI/RDI advanced and RIP left on the instruction, so the guest
 * re-executes it (as after an interrupt between iterations) and the next exit goes on.
 * RFLAGS.RF is cleared when RIP advances; TF single-step and the STI/MOV SS interrupt
 * shadow are the caller's.
 *
 * X86_EMUL_EXCEPTION: inject ctxt->exception. A fault in a REP iteration keeps the
 * iterations done before it, as on hardware.
 *
 * X86_EMUL_UNHANDLED: a valid instruction outside the emulated set (ctxt->bytes holds
 * it), or a callback's UNHANDLED. Recommendation: at CPL 0, stop the VM and print the
 * bytes: the guest did nothing wrong, and a #UD would make it fail in a way that hides
 * which instruction is missing. At CPL 3, inject #UD as KVM does, so a guest user
 * program cannot stop the whole VM.
 *
 * LOCK: a locked read-modify-write is a read then a write. MMIO has no atomicity anyway;
 * on guest RAM the caller must hold whatever serialises emulated writes (the MMU lock)
 * across the call.
 */
int x86_emulate(struct x86_emu_ctxt *ctxt);

/* Executes an already decoded instruction (x86_decode() returned OK for it). */
int x86_execute(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn);

/* "mov", "cmpxchg"...; "?" for a value out of range. */
const char *x86_op_name(unsigned op);

/* Writes "0f b6 07" into buf (always terminated when size > 0); returns the length. */
size_t x86_format_bytes(const u8 *bytes, unsigned n, char *buf, size_t size);

#endif
