/* Private to the instruction emulator: what arch/x86/decode.c and arch/x86/emulate.c
 * share beyond arch/x86/emulate.h (operand kinds, the no-copy decode entry, REX bits). */
#ifndef VIREO_ARCH_X86_DECODE_H
#define VIREO_ARCH_X86_DECODE_H

#include "arch/x86/emulate.h"

/*
 * The letters are the operand codes of SDM Vol. 2D appendix A.2: E = ModRM r/m, G =
 * ModRM reg, I = immediate, O = moffs, V/W = XMM register / XMM or memory. String
 * instructions, CMPXCHG8B, MOV CR/DR and CLFLUSH use implicit operands and carry
 * OPND_NONE.
 */
enum x86_operand_kind {
	OPND_NONE,
	OPND_RM,	/* E, operand size */
	OPND_RM8,	/* Eb whatever the operand size (MOVZX/MOVSX source) */
	OPND_RM16,	/* Ew (MOVZX/MOVSX source) */
	OPND_RM32,	/* Ed (MOVSXD source; Ew with a 16-bit operand size) */
	OPND_REG,	/* G */
	OPND_ACC,	/* AL, AX, EAX or RAX */
	OPND_IMM,	/* I: x86_insn.imm */
	OPND_MOFFS,	/* O: memory at x86_insn.disp */
	OPND_ONE,	/* the shift count 1 (D0, D1) */
	OPND_CL,	/* the shift count in CL (D2, D3) */
	OPND_XMM,	/* V: the XMM register ModRM.reg names */
	OPND_XMM_RM,	/* W: an XMM register or memory, as ModRM.rm says */
};

/*
 * x86_decode() for a buffer the decoder may read X86_INSN_BUF_LEN bytes from (bytes past
 * avail are ignored): saves the copy when the caller has such a buffer (x86_emulate).
 */
enum x86_decode_result x86_decode_padded(const u8 *bytes, unsigned avail,
					 enum x86_cpu_mode mode, struct x86_insn *insn);

/* For the small helpers of the decode and execute paths, which run for every emulated
 * instruction: inlined, their state stays in registers and no call is paid. */
#define HOT_INLINE inline __attribute__((always_inline))

/* REX bits (SDM Vol. 2A 2.2.1.2). */
#define REX_B BIT(0)
#define REX_X BIT(1)
#define REX_R BIT(2)
#define REX_W BIT(3)

#endif
