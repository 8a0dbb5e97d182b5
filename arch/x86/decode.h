/* Private to the instruction emulator: the operand kinds arch/x86/decode.c hands to
 * arch/x86/emulate.c in struct x86_insn.dst and .src. */
#ifndef VIREO_ARCH_X86_DECODE_H
#define VIREO_ARCH_X86_DECODE_H

/*
 * The letters are the operand codes of SDM Vol. 2D appendix A.2: E = ModRM r/m, G =
 * ModRM reg, I = immediate, O = moffs. String instructions and CMPXCHG8B use implicit
 * operands and carry OPND_NONE.
 */
enum x86_operand_kind {
	OPND_NONE,
	OPND_RM,	/* E, operand size */
	OPND_RM8,	/* Eb whatever the operand size (MOVZX/MOVSX source) */
	OPND_RM16,	/* Ew (MOVZX/MOVSX source) */
	OPND_RM32,	/* Ed (MOVSXD source) */
	OPND_REG,	/* G */
	OPND_ACC,	/* AL, AX, EAX or RAX */
	OPND_IMM,	/* I: x86_insn.imm */
	OPND_MOFFS,	/* O: memory at x86_insn.disp */
};

/* REX bits (SDM Vol. 2A 2.2.1.2). */
#define REX_B BIT(0)
#define REX_X BIT(1)
#define REX_R BIT(2)
#define REX_W BIT(3)

#endif
