/* The x86 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB, displacement and
 * immediate (layout, shared by x86_decode and x86_insn_length), then what the emulator
 * makes of the opcode (semantics, x86_decode only). API in arch/x86/emulate.h. */
#include "arch/x86/decode.h"
#include "arch/x86/emulate.h"

/*
 * Layout of every opcode: which bytes follow it. One entry per opcode of the one-byte and
 * 0F maps (SDM Vol. 2D appendix A.3, tables ); 0F 38 and 0F 3A are uniform.
 * Bits 0-3 say which immediate follows; the flags above them say the rest.
 */
enum imm_kind {
	IMM_NONE,
	IMM_8,
	IMM_16,
	IMM_Z,		/* 2 bytes with a 16-bit operand size, else 4 */
	IMM_V,		/* operand size: 2, 4 or 8 (MOV r, imm: B8+r) */
	IMM_MOFFS,	/* address size: a memory offset (A0-A3) */
	IMM_BRANCH,	/* rel16/rel32; always rel32 in 64-bit mode, where Intel ignores 66 */
	IMM_ENTER,	/* imm16 then imm8 (C8) */
	IMM_FAR,	/* ptr16:16 or ptr16:32 (9A, EA) */
	IMM_GROUP3,	/* F6/F7: imm8/immz for ModRM.reg 0 and 1 (TEST) only */
};
#define L_IMM_MASK 0x0f
#define L_MODRM BIT(4)
#define L_NO64 BIT(5)		/* #UD in 64-bit mode */
#define L_BAD BIT(6)		/* #UD in every mode */
#define L_VEX BIT(7)		/* C4, C5, 62: VEX/EVEX in 64-bit mode or when ModRM.mod = 3 */
#define L_MODRM_REG BIT(8)	/* ModRM always names registers: MOV CR/DR ignore mod */

#define __ 0
#define MR L_MODRM
#define MB (L_MODRM | IMM_8)
#define MZ (L_MODRM | IMM_Z)
#define IB IMM_8
#define IW IMM_16
#define IZ IMM_Z
#define IV IMM_V
#define MO IMM_MOFFS
#define JZ IMM_BRANCH
#define EN IMM_ENTER
#define FP (IMM_FAR | L_NO64)
#define N6 L_NO64
#define B6 (IMM_8 | L_NO64)
#define M6 (L_MODRM | IMM_8 | L_NO64)
#define XX L_BAD
#define VX (L_MODRM | L_VEX)
#define G3 (L_MODRM | IMM_GROUP3)
#define MC (L_MODRM | L_MODRM_REG)
#define PX 0	/* prefix or escape: consumed before the table is read */

static const u16 one_byte_layout[256] = {
/*	 0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f */
/* 0 */	MR,MR,MR,MR,IB,IZ,N6,N6,MR,MR,MR,MR,IB,IZ,N6,PX,
/* 1 */	MR,MR,MR,MR,IB,IZ,N6,N6,MR,MR,MR,MR,IB,IZ,N6,N6,
/* 2 */	MR,MR,MR,MR,IB,IZ,PX,N6,MR,MR,MR,MR,IB,IZ,PX,N6,
/* 3 */	MR,MR,MR,MR,IB,IZ,PX,N6,MR,MR,MR,MR,IB,IZ,PX,N6,
/* 4 */	__,__,__,__,__,__,__,__,__,__,__,__,__,__,__,__,	/* REX in 64-bit mode */
/* 5 */	__,__,__,__,__,__,__,__,__,__,__,__,__,__,__,__,
/* 6 */	N6,N6,VX,MR,PX,PX,PX,PX,IZ,MZ,IB,MB,__,__,__,__,
/* 7 */	IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,IB,
/* 8 */	MB,MZ,M6,MB,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* 9 */	__,__,__,__,__,__,__,__,__,__,FP,__,__,__,__,__,
/* a */	MO,MO,MO,MO,__,__,__,__,IB,IZ,__,__,__,__,__,__,
/* b */	IB,IB,IB,IB,IB,IB,IB,IB,IV,IV,IV,IV,IV,IV,IV,IV,
/* c */	MB,MB,IW,__,VX,VX,MB,MZ,EN,__,IW,__,__,IB,N6,__,
/* d */	MR,MR,MR,MR,B6,B6,N6,__,MR,MR,MR,MR,MR,MR,MR,MR,
/* e */	IB,IB,IB,IB,IB,IB,IB,IB,JZ,JZ,FP,IB,__,__,__,__,
/* f */	PX,__,PX,PX,__,__,G3,G3,__,__,__,__,__,__,MR,MR,
};

static const u16 two_byte_layout[256] = {
/*	 0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f */
/* 0 */	MR,MR,MR,MR,XX,__,__,__,__,__,XX,XX,XX,MR,XX,XX,	/* 0b: UD2 */
/* 1 */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* 2 */	MC,MC,MC,MC,XX,XX,XX,XX,MR,MR,MR,MR,MR,MR,MR,MR,
/* 3 */	__,__,__,__,__,__,XX,__,PX,XX,PX,XX,XX,XX,XX,XX,
/* 4 */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* 5 */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* 6 */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* 7 */	MB,MB,MB,MB,MR,MR,MR,__,MR,MR,XX,XX,MR,MR,MR,MR,
/* 8 */	JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,JZ,
/* 9 */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* a */	__,__,__,MR,MB,MR,XX,XX,__,__,__,MR,MB,MR,MR,MR,
/* b */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MB,MR,MR,MR,MR,MR,
/* c */	MR,MR,MB,MR,MB,MB,MB,MR,__,__,__,__,__,__,__,__,
/* d */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* e */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
/* f */	MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,MR,
};

#undef __
#undef MR
#undef MB
#undef MZ
#undef IB
#undef IW
#undef IZ
#undef IV
#undef MO
#undef JZ
#undef EN
#undef FP
#undef N6
#undef B6
#undef M6
#undef XX
#undef VX
#undef G3
#undef MC
#undef PX

/*
 * Semantics of the opcodes the emulator executes; a zero entry is X86_OP_NONE (not
 * emulated). A group entry (SEM_GROUP) names a row of group_ops, indexed by ModRM.reg
 * (SDM Vol. 2D table A-6).
 */
struct op_entry {
	u8 op;		/* enum x86_op; enum op_group (SEM_GROUP); enum sse_row (SEM_SSE) */
	u8 dst, src;	/* enum x86_operand_kind */
	u16 flags;
};
#define SEM_BYTE BIT(0)		/* 8-bit operand size */
#define SEM_LOCK BIT(1)		/* LOCK allowed, with a memory destination */
#define SEM_MEM BIT(2)		/* the register form is #UD */
#define SEM_GROUP BIT(3)
#define SEM_UD BIT(4)		/* #UD: UD0, UD1, reserved group members */
#define SEM_ONLY64 BIT(5)	/* this meaning only in 64-bit mode (63: MOVSXD, else ARPL) */
#define SEM_NO66 BIT(6)		/* the 66 prefix is #UD (MOVNTI has no 16-bit form) */
#define SEM_SSE BIT(7)		/* the mandatory prefix picks the row's member */
#define SEM_MEM_ONLY BIT(8)	/* the register form is another instruction, not emulated */
#define SEM_DEFAULT64 BIT(9)	/* 64-bit operand size by default in 64-bit mode ("d64") */

enum op_group {
	GROUP1_EB_IB, GROUP1_EV_IZ, GROUP1_EV_IB, GROUP1A, GROUP2_EB_IB, GROUP2_EV_IB,
	GROUP2_EB_1, GROUP2_EV_1, GROUP2_EB_CL, GROUP2_EV_CL, GROUP3_EB, GROUP3_EV, GROUP4,
	GROUP5, GROUP6, GROUP7, GROUP8, GROUP9, GROUP11_EB, GROUP11_EV, GROUP15, GROUP_COUNT
};

/* The SSE opcodes, one row each, indexed by the mandatory prefix (SDM Vol. 2A 2.1.2). */
enum sse_row { SSE_0F10, SSE_0F11, SSE_0F28, SSE_0F29, SSE_0F6E, SSE_0F6F, SSE_0F7E,
	       SSE_0F7F, SSE_0FD6, SSE_ROW_COUNT };
enum mandatory_prefix { MANDATORY_NONE, MANDATORY_66, MANDATORY_F3, MANDATORY_F2 };

#define OP(o, d, s, f) { X86_OP_##o, OPND_##d, OPND_##s, (f) }
#define GROUP(g) { (g), OPND_NONE, OPND_NONE, SEM_GROUP }
#define SSE(row) { (row), OPND_NONE, OPND_NONE, SEM_SSE }
#define UD { X86_OP_NONE, OPND_NONE, OPND_NONE, SEM_UD }
#define NONE { X86_OP_NONE, OPND_NONE, OPND_NONE, 0 }
#define ALU_ROW(opc, o, lock) \
	[(opc) + 0] = OP(o, RM, REG, SEM_BYTE | (lock)), \
	[(opc) + 1] = OP(o, RM, REG, (lock)), \
	[(opc) + 2] = OP(o, REG, RM, SEM_BYTE), \
	[(opc) + 3] = OP(o, REG, RM, 0), \
	[(opc) + 4] = OP(o, ACC, IMM, SEM_BYTE), \
	[(opc) + 5] = OP(o, ACC, IMM, 0)

static const struct op_entry one_byte_ops[256] = {
	ALU_ROW(0x00, ADD, SEM_LOCK),
	ALU_ROW(0x08, OR, SEM_LOCK),
	ALU_ROW(0x10, ADC, SEM_LOCK),
	ALU_ROW(0x18, SBB, SEM_LOCK),
	ALU_ROW(0x20, AND, SEM_LOCK),
	ALU_ROW(0x28, SUB, SEM_LOCK),
	ALU_ROW(0x30, XOR, SEM_LOCK),
	ALU_ROW(0x38, CMP, 0),
	[0x63] = OP(MOVSXD, REG, RM32, SEM_ONLY64),
	[0x69] = OP(IMUL2, REG, RM, 0),		/* the immediate is the other factor */
	[0x6b] = OP(IMUL2, REG, RM, 0),
	[0x6c] = OP(INS, NONE, NONE, SEM_BYTE),
	[0x6d] = OP(INS, NONE, NONE, 0),
	[0x6e] = OP(OUTS, NONE, NONE, SEM_BYTE),
	[0x6f] = OP(OUTS, NONE, NONE, 0),
	[0x80] = GROUP(GROUP1_EB_IB),
	[0x81] = GROUP(GROUP1_EV_IZ),
	[0x82] = GROUP(GROUP1_EB_IB),	/* an alias of 80 outside 64-bit mode */
	[0x83] = GROUP(GROUP1_EV_IB),
	[0x84] = OP(TEST, RM, REG, SEM_BYTE),
	[0x85] = OP(TEST, RM, REG, 0),
	[0x86] = OP(XCHG, RM, REG, SEM_BYTE | SEM_LOCK),
	[0x87] = OP(XCHG, RM, REG, SEM_LOCK),
	[0x88] = OP(MOV, RM, REG, SEM_BYTE),
	[0x89] = OP(MOV, RM, REG, 0),
	[0x8a] = OP(MOV, REG, RM, SEM_BYTE),
	[0x8b] = OP(MOV, REG, RM, 0),
	[0x8f] = GROUP(GROUP1A),
	[0xa0] = OP(MOV, ACC, MOFFS, SEM_BYTE),
	[0xa1] = OP(MOV, ACC, MOFFS, 0),
	[0xa2] = OP(MOV, MOFFS, ACC, SEM_BYTE),
	[0xa3] = OP(MOV, MOFFS, ACC, 0),
	[0xa4] = OP(MOVS, NONE, NONE, SEM_BYTE),
	[0xa5] = OP(MOVS, NONE, NONE, 0),
	[0xa6] = OP(CMPS, NONE, NONE, SEM_BYTE),
	[0xa7] = OP(CMPS, NONE, NONE, 0),
	[0xa8] = OP(TEST, ACC, IMM, SEM_BYTE),
	[0xa9] = OP(TEST, ACC, IMM, 0),
	[0xaa] = OP(STOS, NONE, NONE, SEM_BYTE),
	[0xab] = OP(STOS, NONE, NONE, 0),
	[0xac] = OP(LODS, NONE, NONE, SEM_BYTE),
	[0xad] = OP(LODS, NONE, NONE, 0),
	[0xae] = OP(SCAS, NONE, NONE, SEM_BYTE),
	[0xaf] = OP(SCAS, NONE, NONE, 0),
	[0xc0] = GROUP(GROUP2_EB_IB),
	[0xc1] = GROUP(GROUP2_EV_IB),
	[0xd0] = GROUP(GROUP2_EB_1),
	[0xd1] = GROUP(GROUP2_EV_1),
	[0xd2] = GROUP(GROUP2_EB_CL),
	[0xd3] = GROUP(GROUP2_EV_CL),
	[0xc6] = GROUP(GROUP11_EB),
	[0xc7] = GROUP(GROUP11_EV),
	[0xf6] = GROUP(GROUP3_EB),
	[0xf7] = GROUP(GROUP3_EV),
	[0xfe] = GROUP(GROUP4),
	[0xff] = GROUP(GROUP5),
};

static const struct op_entry two_byte_ops[256] = {
	[0x00] = GROUP(GROUP6),
	[0x01] = GROUP(GROUP7),
	[0x10] = SSE(SSE_0F10),
	[0x11] = SSE(SSE_0F11),
	/* MOV CR and DR: the direction is opcode bit 1, the operands ModRM.reg and .rm */
	[0x20] = OP(MOV_CR, NONE, NONE, 0),
	[0x21] = OP(MOV_DR, NONE, NONE, 0),
	[0x22] = OP(MOV_CR, NONE, NONE, 0),
	[0x23] = OP(MOV_DR, NONE, NONE, 0),
	[0x28] = SSE(SSE_0F28),
	[0x29] = SSE(SSE_0F29),
	[0x40 ... 0x4f] = OP(CMOVCC, REG, RM, 0),	/* condition: the low nibble */
	[0x6e] = SSE(SSE_0F6E),
	[0x6f] = SSE(SSE_0F6F),
	[0x7e] = SSE(SSE_0F7E),
	[0x7f] = SSE(SSE_0F7F),
	[0x90 ... 0x9f] = OP(SETCC, RM, NONE, SEM_BYTE),
	[0xae] = GROUP(GROUP15),
	[0xaf] = OP(IMUL2, REG, RM, 0),
	[0xd6] = SSE(SSE_0FD6),
	[0xa3] = OP(BT, RM, REG, 0),
	[0xab] = OP(BTS, RM, REG, SEM_LOCK),
	[0xb0] = OP(CMPXCHG, RM, REG, SEM_BYTE | SEM_LOCK),
	[0xb1] = OP(CMPXCHG, RM, REG, SEM_LOCK),
	[0xb3] = OP(BTR, RM, REG, SEM_LOCK),
	[0xb6] = OP(MOVZX, REG, RM8, 0),
	[0xb7] = OP(MOVZX, REG, RM16, 0),
	[0xb9] = UD,					/* UD1 */
	[0xba] = GROUP(GROUP8),
	[0xbb] = OP(BTC, RM, REG, SEM_LOCK),
	[0xbe] = OP(MOVSX, REG, RM8, 0),
	[0xbf] = OP(MOVSX, REG, RM16, 0),
	[0xc0] = OP(XADD, RM, REG, SEM_BYTE | SEM_LOCK),
	[0xc1] = OP(XADD, RM, REG, SEM_LOCK),
	[0xc3] = OP(MOV, RM, REG, SEM_MEM | SEM_NO66),	/* MOVNTI: the hint is moot here */
	[0xc7] = GROUP(GROUP9),
	[0xff] = UD,					/* UD0 */
};

#define GROUP1(f, lock) { \
	OP(ADD, RM, IMM, (f) | (lock)), OP(OR, RM, IMM, (f) | (lock)), \
	OP(ADC, RM, IMM, (f) | (lock)), OP(SBB, RM, IMM, (f) | (lock)), \
	OP(AND, RM, IMM, (f) | (lock)), OP(SUB, RM, IMM, (f) | (lock)), \
	OP(XOR, RM, IMM, (f) | (lock)), OP(CMP, RM, IMM, (f)) }
#define GROUP3(f) { \
	OP(TEST, RM, IMM, (f)), OP(TEST, RM, IMM, (f)),	/* /1: an alias of /0 */ \
	OP(NOT, RM, NONE, (f) | SEM_LOCK), OP(NEG, RM, NONE, (f) | SEM_LOCK), \
	OP(MUL, RM, NONE, (f)), OP(IMUL, RM, NONE, (f)), \
	OP(DIV, RM, NONE, (f)), OP(IDIV, RM, NONE, (f)) }
/* ROL ROR RCL RCR SHL SHR, /6 an alias of SHL (SAL), SAR; the count is the source */
#define GROUP2(f, count) { \
	OP(ROL, RM, count, (f)), OP(ROR, RM, count, (f)), \
	OP(RCL, RM, count, (f)), OP(RCR, RM, count, (f)), \
	OP(SHL, RM, count, (f)), OP(SHR, RM, count, (f)), \
	OP(SHL, RM, count, (f)), OP(SAR, RM, count, (f)) }

static const struct op_entry group_ops[GROUP_COUNT][8] = {
	[GROUP1_EB_IB] = GROUP1(SEM_BYTE, SEM_LOCK),
	[GROUP1_EV_IZ] = GROUP1(0, SEM_LOCK),
	[GROUP1_EV_IB] = GROUP1(0, SEM_LOCK),
	/* 8F /1-/7 are AMD's XOP prefix: #UD on Intel */
	[GROUP1A] = { OP(POP, RM, NONE, SEM_DEFAULT64), UD, UD, UD, UD, UD, UD, UD },
	[GROUP2_EB_IB] = GROUP2(SEM_BYTE, IMM),
	[GROUP2_EV_IB] = GROUP2(0, IMM),
	[GROUP2_EB_1] = GROUP2(SEM_BYTE, ONE),
	[GROUP2_EV_1] = GROUP2(0, ONE),
	[GROUP2_EB_CL] = GROUP2(SEM_BYTE, CL),
	[GROUP2_EV_CL] = GROUP2(0, CL),
	[GROUP3_EB] = GROUP3(SEM_BYTE),
	[GROUP3_EV] = GROUP3(0),
	[GROUP4] = { OP(INC, RM, NONE, SEM_BYTE | SEM_LOCK), OP(DEC, RM, NONE, SEM_BYTE | SEM_LOCK),
		     UD, UD, UD, UD, UD, UD },
	/* CALL, CALLF, JMP, JMPF are not emulated; /7 is reserved */
	[GROUP5] = { OP(INC, RM, NONE, SEM_LOCK), OP(DEC, RM, NONE, SEM_LOCK),
		     NONE, NONE, NONE, NONE, OP(PUSH, RM, NONE, SEM_DEFAULT64), UD },
	/* SLDT, STR; LLDT, LTR, VERR, VERW are not emulated */
	[GROUP6] = { OP(SLDT, RM, NONE, 0), OP(STR, RM, NONE, 0), NONE, NONE, NONE, NONE,
		     UD, UD },
	/* SGDT and SIDT with mod = 3 are VMCALL, MONITOR...; LGDT, LIDT, INVLPG are not
	 * emulated; SMSW and LMSW have register forms */
	[GROUP7] = { OP(SGDT, RM, NONE, SEM_MEM_ONLY), OP(SIDT, RM, NONE, SEM_MEM_ONLY),
		     NONE, NONE, OP(SMSW, RM, NONE, 0), NONE, OP(LMSW, RM, NONE, 0), NONE },
	[GROUP8] = { UD, UD, UD, UD, OP(BT, RM, IMM, 0), OP(BTS, RM, IMM, SEM_LOCK),
		     OP(BTR, RM, IMM, SEM_LOCK), OP(BTC, RM, IMM, SEM_LOCK) },
	/* /1 is CMPXCHG8B, or CMPXCHG16B with REX.W; the others are XSAVE*, VMX, RDRAND... */
	[GROUP9] = { NONE, OP(CMPXCHG8B, NONE, NONE, SEM_MEM | SEM_LOCK),
		     NONE, NONE, NONE, NONE, NONE, NONE },
	/* /7 with mod = 3 is XABORT/XBEGIN, not emulated; /1-/6 are reserved */
	[GROUP11_EB] = { OP(MOV, RM, IMM, SEM_BYTE), UD, UD, UD, UD, UD, UD, NONE },
	[GROUP11_EV] = { OP(MOV, RM, IMM, 0), UD, UD, UD, UD, UD, UD, NONE },
	/* /7 is CLFLUSH (CLFLUSHOPT with 66), or SFENCE with mod = 3; FXSAVE... not emulated */
	[GROUP15] = { NONE, NONE, NONE, NONE, NONE, NONE, NONE,
		      OP(CLFLUSH, NONE, NONE, SEM_MEM_ONLY) },
};

/*
 * By mandatory prefix: none, 66, F3, F2. XMM is ModRM.reg, XMM_RM an XMM register or
 * 16 bytes of memory (8 for MOVQ), RM a GPR or memory (MOVD). The MMX forms (no
 * prefix on 6E-7F), MOVSS, MOVSD, MOVQ2DQ and MOVDQ2Q are not emulated.
 */
static const struct op_entry sse_ops[SSE_ROW_COUNT][4] = {
	[SSE_0F10] = { OP(MOVUPS, XMM, XMM_RM, 0), OP(MOVUPS, XMM, XMM_RM, 0), NONE, NONE },
	[SSE_0F11] = { OP(MOVUPS, XMM_RM, XMM, 0), OP(MOVUPS, XMM_RM, XMM, 0), NONE, NONE },
	[SSE_0F28] = { OP(MOVAPS, XMM, XMM_RM, 0), OP(MOVAPS, XMM, XMM_RM, 0), NONE, NONE },
	[SSE_0F29] = { OP(MOVAPS, XMM_RM, XMM, 0), OP(MOVAPS, XMM_RM, XMM, 0), NONE, NONE },
	[SSE_0F6E] = { NONE, OP(MOVD, XMM, RM, 0), NONE, NONE },
	[SSE_0F6F] = { NONE, OP(MOVAPS, XMM, XMM_RM, 0), OP(MOVUPS, XMM, XMM_RM, 0), NONE },
	[SSE_0F7E] = { NONE, OP(MOVD, RM, XMM, 0), OP(MOVQ, XMM, XMM_RM, 0), NONE },
	[SSE_0F7F] = { NONE, OP(MOVAPS, XMM_RM, XMM, 0), OP(MOVUPS, XMM_RM, XMM, 0), NONE },
	[SSE_0FD6] = { NONE, OP(MOVQ, XMM_RM, XMM, 0), NONE, NONE },
};

/* 0F 38 F0 and F1: MOVBE load and store (with F2 they are CRC32, not emulated). */
static const struct op_entry movbe_ops[2] = {
	OP(MOVBE, REG, RM, SEM_MEM), OP(MOVBE, RM, REG, SEM_MEM),
};

#undef OP
#undef GROUP
#undef UD
#undef NONE
#undef ALU_ROW
#undef GROUP1
#undef GROUP2
#undef GROUP3
#undef SSE

/* Default operand and address sizes by mode, and what the 66/67 prefixes make of them
 * (SDM Vol. 1 3.6 and 3.6.1, table 3-4). */
static const u8 default_operand_size[] = { 2, 2, 4, 4 };
static const u8 default_address_size[] = { 2, 2, 4, 8 };
static const u8 overridden_address_size[] = { 4, 4, 2, 4 };

/* What a prefix byte does (SDM Vol. 2A 2.1.1); 0 for every other byte. */
enum prefix_kind {
	PFX_NONE, PFX_SEG_ES, PFX_SEG_CS, PFX_SEG_SS, PFX_SEG_DS, PFX_SEG_FS, PFX_SEG_GS,
	PFX_OPSIZE, PFX_ADSIZE, PFX_LOCK, PFX_REPNE, PFX_REP, PFX_REX
};
static const u8 prefix_kind[256] = {
	[0x26] = PFX_SEG_ES, [0x2e] = PFX_SEG_CS, [0x36] = PFX_SEG_SS, [0x3e] = PFX_SEG_DS,
	[0x64] = PFX_SEG_FS, [0x65] = PFX_SEG_GS, [0x66] = PFX_OPSIZE, [0x67] = PFX_ADSIZE,
	[0xf0] = PFX_LOCK, [0xf2] = PFX_REPNE, [0xf3] = PFX_REP,
	[0x40 ... 0x4f] = PFX_REX,	/* in 64-bit mode only */
};

/*
 * The decoder reads its bytes without bounds checks from a buffer of X86_INSN_BUF_LEN
 * bytes: at most 15 prefixes (the loop stops there), 3 opcode bytes, ModRM, SIB, a 4-byte
 * displacement and an 8-byte immediate. Only once the length is known is it compared with
 * the bytes really available; what the buffer holds past them cannot make a too-long or
 * truncated instruction look complete, because decoding reads bytes in order.
 */
_Static_assert(X86_INSN_BUF_LEN >= X86_MAX_INSN_LEN + 3 + 1 + 1 + 4 + 8,
	       "the decoder may read this far");

/* Little-endian load of 1, 2, 3, 4, 6 or 8 bytes: the sizes immediates come in. */
static HOT_INLINE u64 load_le(const u8 *p, unsigned n)
{
	u16 w;
	u32 d;
	u64 q;

	switch (n) {
	case 1:
		return p[0];
	case 2:
		__builtin_memcpy(&w, p, 2);
		return w;
	case 4:
		__builtin_memcpy(&d, p, 4);
		return d;
	case 8:
		__builtin_memcpy(&q, p, 8);
		return q;
	case 3:		/* ENTER */
		__builtin_memcpy(&w, p, 2);
		return w | (u64)p[2] << 16;
	default:	/* 6: a far pointer */
		__builtin_memcpy(&w, p, 2);
		__builtin_memcpy(&d, p + 2, 4);
		return w | (u64)d << 16;
	}
}

/* Sign-extends the low n bytes of v (n = 1, 2, 4 or 8). */
static HOT_INLINE u64 sign_extend(u64 v, unsigned n)
{
	unsigned shift = 64 - 8 * n;

	return (u64)((s64)(v << shift) >> shift);
}

/* An n-byte signed value (n = 1, 2 or 4) at *pos, which moves past it. */
static HOT_INLINE u64 take_signed(const u8 *restrict p, unsigned *pos, unsigned n)
{
	u64 v = sign_extend(load_le(p + *pos, n), n);

	*pos += n;
	return v;
}

/* OK when an instruction ending at end fits in avail (at most 15) bytes. */
static HOT_INLINE enum x86_decode_result check_end(unsigned end, unsigned avail)
{
	if (likely(end <= avail))
		return X86_DECODE_OK;
	return avail < X86_MAX_INSN_LEN ? X86_DECODE_TRUNCATED : X86_DECODE_TOO_LONG;
}

/*
 * The decode functions write struct x86_insn as they go; restrict tells the compiler
 * that those stores cannot change the bytes being decoded, which spares it reloading
 * them. The fields an instruction does not have are left alone (see x86_insn).
 */

/* Legacy prefixes and REX (SDM Vol. 2A 2.1.1, 2.2.1): the last F2/F3 and the last
 * segment override win, and a REX counts only right before the opcode. Returns the
 * opcode's position and the segment override (X86_REG_NONE for none). */
static HOT_INLINE unsigned decode_prefixes(const u8 *restrict p, enum x86_cpu_mode mode,
					   struct x86_insn *restrict insn, u8 *seg_override)
{
	u8 prefixes = 0, rex = 0, seg = X86_REG_NONE, kind;
	unsigned pos;

	if (likely(prefix_kind[p[0]] == PFX_NONE)) {	/* most instructions */
		insn->prefixes = 0;
		insn->rex = 0;
		*seg_override = X86_REG_NONE;
		return 0;
	}
	for (pos = 0; pos < X86_MAX_INSN_LEN; pos++) {
		kind = prefix_kind[p[pos]];
		if (likely(kind == PFX_NONE))
			break;
		if (kind == PFX_REX) {
			if (mode != X86_MODE_LONG64)
				break;
			rex = p[pos];
			continue;
		}
		rex = 0;
		if (kind <= PFX_SEG_GS)
			seg = kind - PFX_SEG_ES + X86_SEG_ES;
		else if (kind == PFX_OPSIZE)
			prefixes |= X86_PREFIX_OPSIZE;
		else if (kind == PFX_ADSIZE)
			prefixes |= X86_PREFIX_ADSIZE;
		else if (kind == PFX_LOCK)
			prefixes |= X86_PREFIX_LOCK;
		else if (kind == PFX_REPNE)
			prefixes = (prefixes & ~X86_PREFIX_REP) | X86_PREFIX_REPNE;
		else
			prefixes = (prefixes & ~X86_PREFIX_REPNE) | X86_PREFIX_REP;
	}
	insn->prefixes = prefixes;
	insn->rex = rex;
	/* 64-bit mode ignores CS, DS, ES and SS overrides (SDM Vol. 1 3.3.7.1). */
	*seg_override = (mode == X86_MODE_LONG64 && seg < X86_SEG_FS) ? X86_REG_NONE : seg;
	return pos;
}

/* The opcode byte(s) at *pos and their layout. VEX/EVEX: UNSUPPORTED, length unknown. */
static HOT_INLINE enum x86_decode_result decode_opcode(const u8 *restrict p, unsigned *pos,
						       enum x86_cpu_mode mode,
						       struct x86_insn *restrict insn, u16 *layout)
{
	u8 map = 0, b = p[(*pos)++];

	if (unlikely(b == 0x0f)) {
		map = 1;
		b = p[(*pos)++];
		if (b == 0x38 || b == 0x3a) {
			map = b == 0x38 ? 2 : 3;
			b = p[(*pos)++];
		}
	}
	insn->opcode = b;
	insn->opcode_map = map;
	if (likely(map == 0))
		*layout = one_byte_layout[b];
	else if (map == 1)
		*layout = two_byte_layout[b];
	else
		*layout = map == 2 ? L_MODRM : (L_MODRM | IMM_8);

	if (unlikely(*layout & (L_VEX | L_BAD | L_NO64))) {
		/* the byte after C4, C5 or 62 tells VEX/EVEX from LES, LDS, BOUND */
		if ((*layout & L_VEX) && (mode == X86_MODE_LONG64 || (p[*pos] >> 6) == 3)) {
			(*pos)++;
			return X86_DECODE_UNSUPPORTED;
		}
		if ((*layout & L_BAD) || ((*layout & L_NO64) && mode == X86_MODE_LONG64))
			return X86_DECODE_INVALID;
	}
	return X86_DECODE_OK;
}

/* 16-bit addressing: the eight base/index pairs of SDM Vol. 2A table 2-1. */
static HOT_INLINE void decode_mem16(const u8 *restrict p, unsigned *pos,
				    struct x86_insn *restrict insn, unsigned mod, unsigned rm)
{
	static const u8 base[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
				    X86_RSI, X86_RDI, X86_RBP, X86_RBX };
	static const u8 index[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI,
				     X86_REG_NONE, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE };

	insn->mem_index = index[rm];
	insn->mem_scale = 0;
	if (mod == 0 && rm == 6) {
		insn->mem_base = X86_REG_NONE;
		insn->disp = take_signed(p, pos, 2);
		return;
	}
	insn->mem_base = base[rm];
	insn->disp = mod == 0 ? 0 : take_signed(p, pos, mod == 1 ? 1 : 2);
}

/* 32- and 64-bit addressing, SIB included (SDM Vol. 2A tables 2-2 and 2-3, 2.2.1.6). */
static HOT_INLINE void decode_mem32(const u8 *restrict p, unsigned *pos, enum x86_cpu_mode mode,
				    struct x86_insn *restrict insn, unsigned mod, unsigned rm,
				    u8 rex)
{
	u8 sib, index;

	insn->mem_index = X86_REG_NONE;
	insn->mem_scale = 0;
	if (rm == 4) {
		sib = p[(*pos)++];
		insn->mem_scale = sib >> 6;
		/* index 100b without REX.X means no index; with it, R12 */
		index = ((sib >> 3) & 7) | ((rex & REX_X) ? 8 : 0);
		if (index != X86_RSP)
			insn->mem_index = index;
		if ((sib & 7) == 5 && mod == 0) {
			insn->mem_base = X86_REG_NONE;
			insn->disp = take_signed(p, pos, 4);
			return;
		}
		insn->mem_base = (sib & 7) | ((rex & REX_B) ? 8 : 0);
	} else if (rm == 5 && mod == 0) {
		insn->mem_base = mode == X86_MODE_LONG64 ? X86_REG_RIP : X86_REG_NONE;
		insn->disp = take_signed(p, pos, 4);
		return;
	} else {
		insn->mem_base = rm | ((rex & REX_B) ? 8 : 0);
	}
	insn->disp = mod == 0 ? 0 : take_signed(p, pos, mod == 1 ? 1 : 4);
}

/* ModRM and what follows it up to the immediate. Returns the operand's default segment:
 * SS when based on rBP or rSP (SDM Vol. 1 3.7.4, table 3-5), else DS. */
static HOT_INLINE u8 decode_modrm(const u8 *restrict p, unsigned *pos, enum x86_cpu_mode mode,
				  struct x86_insn *restrict insn, u16 layout, u8 rex)
{
	u8 modrm = p[(*pos)++];
	unsigned mod = modrm >> 6, rm = modrm & 7;

	insn->has_modrm = true;
	insn->modrm = modrm;
	insn->modrm_reg = ((modrm >> 3) & 7) | ((rex & REX_R) ? 8 : 0);
	/* MOV to/from CR and DR ignore mod: always registers */
	if (mod == 3 || (layout & L_MODRM_REG)) {
		insn->modrm_rm = rm | ((rex & REX_B) ? 8 : 0);
		insn->has_mem = false;
		return X86_SEG_DS;
	}
	insn->has_mem = true;
	if (insn->address_size == 2)
		decode_mem16(p, pos, insn, mod, rm);
	else
		decode_mem32(p, pos, mode, insn, mod, rm, rex);
	return insn->mem_base == X86_RBP || insn->mem_base == X86_RSP ? X86_SEG_SS : X86_SEG_DS;
}

/* The size in bytes of the immediate the layout announces. */
static HOT_INLINE unsigned immediate_size(const struct x86_insn *restrict insn,
					  enum x86_cpu_mode mode, enum imm_kind kind)
{
	unsigned z = insn->operand_size == 2 ? 2 : 4;

	switch (kind) {
	case IMM_NONE: return 0;
	case IMM_8: return 1;
	case IMM_16: return 2;
	case IMM_Z: return z;
	case IMM_V: return insn->operand_size;
	case IMM_MOFFS: return insn->address_size;
	case IMM_BRANCH: return mode == X86_MODE_LONG64 ? 4 : z;
	case IMM_ENTER: return 3;
	case IMM_FAR: return 2 + z;
	default:	/* IMM_GROUP3 */
		if (((insn->modrm >> 3) & 7) >= 2)
			return 0;
		return (insn->opcode & 1) ? z : 1;
	}
}

/* The immediate, or for moffs (A0-A3) the address, which becomes the memory operand. */
static HOT_INLINE void decode_immediate(const u8 *restrict p, unsigned *pos,
					enum x86_cpu_mode mode, struct x86_insn *restrict insn,
					enum imm_kind kind)
{
	unsigned n = immediate_size(insn, mode, kind);
	u64 value;

	if (likely(n == 0))
		return;
	value = load_le(p + *pos, n);
	*pos += n;
	if (kind == IMM_MOFFS) {
		insn->has_mem = true;
		insn->mem_base = X86_REG_NONE;
		insn->mem_index = X86_REG_NONE;
		insn->mem_scale = 0;
		insn->disp = value;
	} else {
		insn->imm = (n == 3 || n == 6) ? value : sign_extend(value, n);
	}
}

/* Everything but the semantics, from a buffer of X86_INSN_BUF_LEN readable bytes.
 * Sets insn->length (0 for VEX/EVEX, whose length is not known here). */
static HOT_INLINE enum x86_decode_result decode_layout(const u8 *restrict p, unsigned avail,
						       enum x86_cpu_mode mode,
						       struct x86_insn *restrict insn)
{
	enum x86_decode_result r, end;
	unsigned pos;
	u8 seg_override, segment = X86_SEG_DS, rex, operand_size;
	u16 layout;

	avail = MIN(avail, X86_MAX_INSN_LEN);
	pos = decode_prefixes(p, mode, insn, &seg_override);
	r = decode_opcode(p, &pos, mode, insn, &layout);
	if (unlikely(r != X86_DECODE_OK)) {
		insn->length = r == X86_DECODE_UNSUPPORTED ? 0 : pos;
		end = check_end(pos, avail);
		return end != X86_DECODE_OK ? end : r;	/* missing bytes come first */
	}
	rex = insn->rex;
	operand_size = default_operand_size[mode];
	if (insn->prefixes & X86_PREFIX_OPSIZE)
		operand_size ^= 6;	/* 2 <-> 4 */
	if (rex & REX_W)
		operand_size = 8;
	insn->operand_size = operand_size;
	insn->address_size = (insn->prefixes & X86_PREFIX_ADSIZE) ?
		overridden_address_size[mode] : default_address_size[mode];
	insn->has_modrm = false;
	insn->has_mem = false;
	insn->modrm = 0;
	if (layout & L_MODRM)
		segment = decode_modrm(p, &pos, mode, insn, layout, rex);
	decode_immediate(p, &pos, mode, insn, layout & L_IMM_MASK);
	insn->segment = seg_override != X86_REG_NONE ? seg_override : segment;
	insn->length = pos;
	return check_end(pos, avail);
}

/* The bytes in a buffer the decoder may read X86_INSN_BUF_LEN bytes from: bytes itself
 * when it is that long, else a zero-padded copy in buf. */
static const u8 *padded(const u8 *bytes, unsigned avail, u8 *buf)
{
	unsigned i, n = MIN(avail, X86_MAX_INSN_LEN);

	if (avail >= X86_INSN_BUF_LEN)
		return bytes;
	__builtin_memset(buf, 0, X86_INSN_BUF_LEN);
	if (n == X86_MAX_INSN_LEN) {
		__builtin_memcpy(buf, bytes, 8);
		__builtin_memcpy(buf + 7, bytes + 7, 8);
	} else {
		for (i = 0; i < n; i++)
			buf[i] = bytes[i];
	}
	return buf;
}

unsigned x86_insn_length(const u8 *bytes, unsigned avail, enum x86_cpu_mode mode)
{
	u8 buf[X86_INSN_BUF_LEN];
	struct x86_insn insn;

	if (decode_layout(padded(bytes, avail, buf), avail, mode, &insn) != X86_DECODE_OK)
		return 0;
	return insn.length;
}

/* F3 or F2 (the last one wins) before 66 (SDM Vol. 2A 2.1.2). */
static enum mandatory_prefix mandatory_prefix(const struct x86_insn *insn)
{
	if (insn->prefixes & X86_PREFIX_REP)
		return MANDATORY_F3;
	if (insn->prefixes & X86_PREFIX_REPNE)
		return MANDATORY_F2;
	return (insn->prefixes & X86_PREFIX_OPSIZE) ? MANDATORY_66 : MANDATORY_NONE;
}

/* The semantic entry for a decoded layout, group members and SSE prefixes resolved. */
static HOT_INLINE const struct op_entry *lookup_op(const struct x86_insn *insn)
{
	static const struct op_entry not_emulated;
	const struct op_entry *e;

	if (likely(insn->opcode_map == 0))
		e = &one_byte_ops[insn->opcode];
	else if (insn->opcode_map == 1)
		e = &two_byte_ops[insn->opcode];
	else if (insn->opcode_map == 2 && (insn->opcode & 0xfe) == 0xf0 &&
		 !(insn->prefixes & X86_PREFIX_REPNE))
		return &movbe_ops[insn->opcode & 1];
	else
		return &not_emulated;
	if (e->flags & SEM_GROUP)
		e = &group_ops[e->op][(insn->modrm >> 3) & 7];
	else if (e->flags & SEM_SSE)
		e = &sse_ops[e->op][mandatory_prefix(insn)];
	if (unlikely(e->flags & SEM_MEM_ONLY) && !insn->has_mem)
		return &not_emulated;
	return e;
}

enum x86_decode_result x86_decode_padded(const u8 *bytes, unsigned avail,
					 enum x86_cpu_mode mode, struct x86_insn *insn)
{
	enum x86_decode_result r = decode_layout(bytes, avail, mode, insn);
	const struct op_entry *e;

	insn->op = X86_OP_NONE;
	if (unlikely(r != X86_DECODE_OK))
		return r;
	e = lookup_op(insn);
	if (unlikely(e->flags & (SEM_UD | SEM_ONLY64 | SEM_MEM | SEM_NO66) ||
		     e->op == X86_OP_NONE)) {
		if (e->flags & SEM_UD)
			return X86_DECODE_INVALID;
		if (e->op == X86_OP_NONE || ((e->flags & SEM_ONLY64) && mode != X86_MODE_LONG64))
			return X86_DECODE_UNSUPPORTED;
		if ((e->flags & SEM_MEM) && !insn->has_mem)
			return X86_DECODE_INVALID;
		if ((e->flags & SEM_NO66) && (insn->prefixes & X86_PREFIX_OPSIZE))
			return X86_DECODE_INVALID;
	}
	/* LOCK needs a lockable instruction with a memory destination (SDM Vol. 2A, LOCK). */
	if (unlikely(insn->prefixes & X86_PREFIX_LOCK) &&
	    (!(e->flags & SEM_LOCK) || !insn->has_mem))
		return X86_DECODE_INVALID;
	insn->op = e->op;
	insn->dst = e->dst;
	insn->src = e->src;
	if (e->flags & SEM_BYTE)
		insn->operand_size = 1;
	/* PUSH and POP: 64 or 16 bits, never 32 (SDM Vol. 1 3.6.1) */
	if ((e->flags & SEM_DEFAULT64) && mode == X86_MODE_LONG64 && insn->operand_size == 4)
		insn->operand_size = 8;
	return X86_DECODE_OK;
}

enum x86_decode_result x86_decode(const u8 *bytes, unsigned avail, enum x86_cpu_mode mode,
				  struct x86_insn *insn)
{
	u8 buf[X86_INSN_BUF_LEN];

	return x86_decode_padded(padded(bytes, avail, buf), avail, mode, insn);
}
