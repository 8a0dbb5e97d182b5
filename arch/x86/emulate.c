/* The x86 instruction emulator: fetches through the caller's callbacks, decodes
 * (arch/x86/decode.c) and executes the memory-operand instructions of arch/x86/emulate.h,
 * with RFLAGS set as the CPU sets them. */
#include "arch/x86/cpu.h"
#include "arch/x86/decode.h"
#include "arch/x86/emulate.h"
#include "arch/x86/x86.h"

#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* A handler's way of saying "iteration bound reached, leave RIP on the instruction". */
#define EMUL_REP_PAUSED (-1)

/* An operand once located: a register, a memory location or an immediate. */
enum operand_where { OPERAND_REG, OPERAND_MEM, OPERAND_IMM };

struct operand {
	u8 where;	/* enum operand_where */
	u8 size;	/* bytes */
	u8 reg;		/* OPERAND_REG: GPR number */
	u64 linear;	/* OPERAND_MEM */
	u64 val;
};


static HOT_INLINE u64 sign_extend_from(u64 v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return (u64)((s64)(v << shift) >> shift);
}

/* --- registers --- */

/* Without any REX, byte registers 4-7 are AH, CH, DH, BH (SDM Vol. 2A 3.7.2.1). */
static HOT_INLINE bool is_high_byte(unsigned reg, unsigned size, u8 rex)
{
	return size == 1 && !rex && reg >= 4 && reg < 8;
}

static HOT_INLINE u64 gpr_read(const struct x86_regs *regs, unsigned reg, unsigned size,
			       u8 rex)
{
	if (is_high_byte(reg, size, rex))
		return (regs->gpr[reg - 4] >> 8) & 0xff;
	return regs->gpr[reg] & low_bytes_mask(size);
}

/* 8- and 16-bit writes keep the other bits; 32-bit writes zero bits 63:32 (SDM Vol. 1
 * 3.4.1.1). */
static HOT_INLINE void gpr_write(struct x86_regs *regs, unsigned reg, unsigned size, u8 rex,
				 u64 val)
{
	u64 *r;

	if (is_high_byte(reg, size, rex)) {
		r = &regs->gpr[reg - 4];
		*r = (*r & ~0xff00ull) | ((val & 0xff) << 8);
		return;
	}
	x86_write_register(&regs->gpr[reg], size, val);
}

/* --- exceptions and addresses --- */

static int raise_exception(struct x86_emu_ctxt *ctxt, u8 vector, bool has_error_code)
{
	ctxt->exception.vector = vector;
	ctxt->exception.has_error_code = has_error_code;
	ctxt->exception.error_code = 0;
	ctxt->exception.cr2 = 0;
	return X86_EMUL_EXCEPTION;
}

static HOT_INLINE u64 segment_base(const struct x86_emu_ctxt *ctxt, unsigned seg)
{
	if (ctxt->mode == X86_MODE_LONG64 && seg < X86_SEG_FS)
		return 0;
	return ctxt->ops->seg_base(ctxt->ops_ctx, seg);
}

/*
 * The linear address of size bytes at seg:ea. Segment limits and rights are not checked:
 * the CPU checked them for the access that exited, and guests that reach MMIO use flat
 * segments. In 64-bit mode every byte must be canonical: #SS(0) for SS, else #GP(0).
 */
static HOT_INLINE int linear_address(struct x86_emu_ctxt *ctxt, unsigned seg, u64 ea,
				     unsigned size, u64 *linear)
{
	u64 la = segment_base(ctxt, seg) + ea;

	if (ctxt->mode != X86_MODE_LONG64) {
		*linear = (u32)la;
		return X86_EMUL_OK;
	}
	if (!is_canonical(la, LINEAR_BITS_4LEVEL) || !is_canonical(la + size - 1, LINEAR_BITS_4LEVEL))
		return raise_exception(ctxt, seg == X86_SEG_SS ? X86_EXC_SS : X86_EXC_GP, true);
	*linear = la;
	return X86_EMUL_OK;
}

/* base + index * scale + disp, wrapped to the address size (SDM Vol. 1 3.7.5). */
static HOT_INLINE u64 effective_address(const struct x86_emu_ctxt *ctxt,
					const struct x86_insn *insn)
{
	const struct x86_regs *regs = ctxt->regs;
	u64 ea = insn->disp;

	if (insn->mem_base == X86_REG_RIP)
		ea += regs->rip + insn->length;
	else if (insn->mem_base != X86_REG_NONE)
		ea += regs->gpr[insn->mem_base];
	if (insn->mem_index != X86_REG_NONE)
		ea += regs->gpr[insn->mem_index] << insn->mem_scale;
	return ea & low_bytes_mask(insn->address_size);
}

/* --- memory --- */

static HOT_INLINE int mem_read(struct x86_emu_ctxt *ctxt, u64 linear, void *buf,
			       unsigned size)
{
	return ctxt->ops->read_mem(ctxt->ops_ctx, linear, buf, size, &ctxt->exception);
}

static HOT_INLINE int mem_write(struct x86_emu_ctxt *ctxt, u64 linear, const void *buf,
				unsigned size)
{
	return ctxt->ops->write_mem(ctxt->ops_ctx, linear, buf, size, &ctxt->exception);
}

/* Reads size (1..8) bytes as a zero-extended value: x86 is little-endian, like us. */
static HOT_INLINE int mem_read_value(struct x86_emu_ctxt *ctxt, u64 linear, unsigned size,
				     u64 *val)
{
	*val = 0;
	return mem_read(ctxt, linear, val, size);
}

/* --- operands --- */

static HOT_INLINE unsigned operand_kind_size(const struct x86_insn *insn, unsigned kind)
{
	switch (kind) {
	case OPND_RM8: return 1;
	case OPND_RM16: return 2;
	case OPND_RM32: return insn->operand_size == 2 ? 2 : 4;	/* MOVSXD r16 reads 16 */
	case OPND_CL: return 1;
	default: return insn->operand_size;
	}
}

/* Where an operand lives; memory operands get their linear address (may fault). */
static HOT_INLINE int operand_locate(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
				     unsigned kind, struct operand *o)
{
	o->size = operand_kind_size(insn, kind);
	/* every kind gets these set: the compiler cannot see which ones a kind reads */
	o->reg = 0;
	o->linear = 0;
	switch (kind) {
	case OPND_REG:
		o->where = OPERAND_REG;
		o->reg = insn->modrm_reg;
		return X86_EMUL_OK;
	case OPND_ACC:
		o->where = OPERAND_REG;
		o->reg = X86_RAX;
		return X86_EMUL_OK;
	case OPND_IMM:
		o->where = OPERAND_IMM;
		o->val = insn->imm & low_bytes_mask(o->size);
		return X86_EMUL_OK;
	case OPND_ONE:
		o->where = OPERAND_IMM;
		o->val = 1;
		return X86_EMUL_OK;
	case OPND_CL:
		o->where = OPERAND_REG;
		o->reg = X86_RCX;
		return X86_EMUL_OK;
	default:	/* OPND_RM*, OPND_MOFFS */
		if (!insn->has_mem) {
			o->where = OPERAND_REG;
			o->reg = insn->modrm_rm;
			return X86_EMUL_OK;
		}
		o->where = OPERAND_MEM;
		return linear_address(ctxt, insn->segment, effective_address(ctxt, insn),
				      o->size, &o->linear);
	}
}

static HOT_INLINE int operand_read(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
				   struct operand *o)
{
	switch (o->where) {
	case OPERAND_REG:
		o->val = gpr_read(ctxt->regs, o->reg, o->size, insn->rex);
		return X86_EMUL_OK;
	case OPERAND_MEM:
		return mem_read_value(ctxt, o->linear, o->size, &o->val);
	default:
		return X86_EMUL_OK;
	}
}

static HOT_INLINE int operand_fetch(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
				    unsigned kind, struct operand *o)
{
	int r = operand_locate(ctxt, insn, kind, o);

	return r == X86_EMUL_OK ? operand_read(ctxt, insn, o) : r;
}

static HOT_INLINE int operand_write(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
				    const struct operand *o, u64 val)
{
	if (o->where == OPERAND_MEM)
		return mem_write(ctxt, o->linear, &val, o->size);
	gpr_write(ctxt->regs, o->reg, o->size, insn->rex, val);
	return X86_EMUL_OK;
}

/* --- flags (SDM Vol. 1 3.4.3.1 and appendix A) --- */

/* PF: set when the low byte of the result has an even number of ones. */
static HOT_INLINE u64 parity_flag(u64 res)
{
	unsigned nibble = (res ^ (res >> 4)) & 0xf;

	return (0x9669u >> nibble) & 1 ? RFLAGS_PF : 0;
}

/* The flags are computed without branches: each is a bit of some expression of the
 * operands, moved to its place in RFLAGS. */
static HOT_INLINE u64 bit_at(u64 v, unsigned from, u64 flag)
{
	return ((v >> from) & 1) ? flag : 0;
}

static HOT_INLINE u64 flags_szp(u64 res, unsigned size)
{
	return parity_flag(res) | ((res & low_bytes_mask(size)) ? 0 : RFLAGS_ZF) |
	       bit_at(res, 8 * size - 1, RFLAGS_SF);
}

/* CF is the carry out of the top bit, OF a sign change neither input explains, AF the
 * carry out of bit 3; the formulas hold with any carry-in, so ADC uses them too. */
static HOT_INLINE u64 flags_add(u64 a, u64 b, u64 res, unsigned size)
{
	unsigned top = 8 * size - 1;
	u64 carries = (a & b) | ((a | b) & ~res);

	return flags_szp(res, size) | bit_at(carries, top, RFLAGS_CF) |
	       bit_at((a ^ res) & (b ^ res), top, RFLAGS_OF) |
	       ((a ^ b ^ res) & RFLAGS_AF);	/* bit 4 of both */
}

/* a - b (- borrow): CF is the borrow out of the top bit, AF the borrow out of bit 3. */
static HOT_INLINE u64 flags_sub(u64 a, u64 b, u64 res, unsigned size)
{
	unsigned top = 8 * size - 1;
	u64 borrows = (~a & b) | ((~a | b) & res);

	return flags_szp(res, size) | bit_at(borrows, top, RFLAGS_CF) |
	       bit_at((a ^ b) & (a ^ res), top, RFLAGS_OF) |
	       ((a ^ b ^ res) & RFLAGS_AF);	/* bit 4 of both */
}

/*
 * The result of a two-operand (or, with src unused, one-operand) arithmetic or logic op,
 * and its RFLAGS. Logic ops clear CF, OF and AF (AF is undefined: this is what Intel CPUs
 * and Bochs do); INC and DEC keep CF; NOT changes no flag.
 */
static HOT_INLINE u64 alu_compute(unsigned op, u64 dst, u64 src, unsigned size, u64 *rflags)
{
	u64 carry = *rflags & RFLAGS_CF;
	u64 mask = low_bytes_mask(size);
	u64 res, f;

	switch (op) {
	case X86_OP_ADD:
	case X86_OP_ADC:
		res = (dst + src + (op == X86_OP_ADC ? carry : 0)) & mask;
		f = flags_add(dst, src, res, size);
		break;
	case X86_OP_SUB:
	case X86_OP_SBB:
	case X86_OP_CMP:
		res = (dst - src - (op == X86_OP_SBB ? carry : 0)) & mask;
		f = flags_sub(dst, src, res, size);
		break;
	case X86_OP_INC:
		res = (dst + 1) & mask;
		f = (flags_add(dst, 1, res, size) & ~RFLAGS_CF) | carry;
		break;
	case X86_OP_DEC:
		res = (dst - 1) & mask;
		f = (flags_sub(dst, 1, res, size) & ~RFLAGS_CF) | carry;
		break;
	case X86_OP_NEG:
		res = (0 - dst) & mask;
		f = flags_sub(0, dst, res, size);
		break;
	case X86_OP_NOT:
		return ~dst & mask;
	case X86_OP_AND:
	case X86_OP_TEST:
		res = dst & src;
		f = flags_szp(res, size);
		break;
	case X86_OP_OR:
		res = dst | src;
		f = flags_szp(res, size);
		break;
	default:	/* X86_OP_XOR */
		res = dst ^ src;
		f = flags_szp(res, size);
		break;
	}
	*rflags = (*rflags & ~RFLAGS_ARITH) | f;
	return res;
}

/* --- instructions --- */

static int emulate_alu(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	u64 rflags = ctxt->regs->rflags, res;
	int r;

	src.val = 0;
	if (insn->src != OPND_NONE) {
		r = operand_fetch(ctxt, insn, insn->src, &src);
		if (r != X86_EMUL_OK)
			return r;
	}
	r = operand_fetch(ctxt, insn, insn->dst, &dst);
	if (r != X86_EMUL_OK)
		return r;
	res = alu_compute(insn->op, dst.val, src.val, dst.size, &rflags);
	if (insn->op != X86_OP_CMP && insn->op != X86_OP_TEST) {
		r = operand_write(ctxt, insn, &dst, res);
		if (r != X86_EMUL_OK)
			return r;
	}
	ctxt->regs->rflags = rflags;
	return X86_EMUL_OK;
}

/* The register an OPND_REG or OPND_ACC operand names. */
static HOT_INLINE unsigned operand_gpr(const struct x86_insn *insn, unsigned kind)
{
	return kind == OPND_ACC ? X86_RAX : insn->modrm_reg;
}

/*
 * The memory forms of MOV, MOVZX, MOVSX and MOVSXD, which are most of what MMIO sees:
 * straight between the memory operand and a register or the immediate.
 */
static HOT_INLINE int move_memory(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	bool store = insn->dst == OPND_RM || insn->dst == OPND_MOFFS;
	unsigned size = insn->operand_size;
	unsigned mem_size = store ? size : operand_kind_size(insn, insn->src);
	u64 linear, val;
	int r = linear_address(ctxt, insn->segment, effective_address(ctxt, insn), mem_size,
			       &linear);

	if (r != X86_EMUL_OK)
		return r;
	if (store) {
		val = insn->src == OPND_IMM ? insn->imm :
		      gpr_read(ctxt->regs, operand_gpr(insn, insn->src), size, insn->rex);
		return mem_write(ctxt, linear, &val, size);
	}
	r = mem_read_value(ctxt, linear, mem_size, &val);
	if (r != X86_EMUL_OK)
		return r;
	if (insn->op == X86_OP_MOVSX || insn->op == X86_OP_MOVSXD)
		val = sign_extend_from(val, mem_size);
	gpr_write(ctxt->regs, operand_gpr(insn, insn->dst), size, insn->rex, val);
	return X86_EMUL_OK;
}

/* MOV, MOVZX (the source operand kind gives its width; reads zero-extend), MOVSX and
 * MOVSXD. */
static HOT_INLINE int emulate_mov(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	int r;

	if (likely(insn->has_mem))
		return move_memory(ctxt, insn);
	r = operand_fetch(ctxt, insn, insn->src, &src);
	if (r != X86_EMUL_OK)
		return r;
	if (insn->op == X86_OP_MOVSX || insn->op == X86_OP_MOVSXD)
		src.val = sign_extend_from(src.val, src.size);
	r = operand_locate(ctxt, insn, insn->dst, &dst);
	if (r != X86_EMUL_OK)
		return r;
	return operand_write(ctxt, insn, &dst, src.val);
}

/* Reads both operands, source first: the order in which the CPU's reads (and faults) come. */
static int fetch_source_then_destination(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
					 struct operand *src, struct operand *dst)
{
	int r = operand_fetch(ctxt, insn, insn->src, src);

	if (r != X86_EMUL_OK)
		return r;
	return operand_fetch(ctxt, insn, insn->dst, dst);
}

/* XCHG r/m, reg: memory is written first, so a fault leaves the register alone. */
static int emulate_xchg(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	int r = fetch_source_then_destination(ctxt, insn, &src, &dst);

	if (r != X86_EMUL_OK)
		return r;
	r = operand_write(ctxt, insn, &dst, src.val);
	if (r != X86_EMUL_OK)
		return r;
	return operand_write(ctxt, insn, &src, dst.val);
}

/* XADD r/m, reg: r/m gets the sum, reg the old r/m; flags as ADD. */
static int emulate_xadd(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	u64 rflags = ctxt->regs->rflags, sum;
	int r = fetch_source_then_destination(ctxt, insn, &src, &dst);

	if (r != X86_EMUL_OK)
		return r;
	sum = alu_compute(X86_OP_ADD, dst.val, src.val, dst.size, &rflags);
	if (dst.where == OPERAND_MEM) {
		r = operand_write(ctxt, insn, &dst, sum);
		if (r != X86_EMUL_OK)
			return r;
		operand_write(ctxt, insn, &src, dst.val);
	} else {
		/* the SDM's order, which matters when both name the same register */
		operand_write(ctxt, insn, &src, dst.val);
		operand_write(ctxt, insn, &dst, sum);
	}
	ctxt->regs->rflags = rflags;
	return X86_EMUL_OK;
}

/*
 * CMPXCHG r/m, reg: compares the accumulator with r/m (flags as CMP). Equal: r/m = reg.
 * Not equal: the accumulator gets r/m, and r/m is written back with its own value, as
 * the CPU's locked cycle does (SDM Vol. 2A, CMPXCHG).
 */
static int emulate_cmpxchg(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src, acc;
	u64 rflags = ctxt->regs->rflags;
	bool equal;
	int r = fetch_source_then_destination(ctxt, insn, &src, &dst);

	if (r != X86_EMUL_OK)
		return r;
	operand_fetch(ctxt, insn, OPND_ACC, &acc);
	alu_compute(X86_OP_CMP, acc.val, dst.val, dst.size, &rflags);
	equal = rflags & RFLAGS_ZF;
	r = operand_write(ctxt, insn, &dst, equal ? src.val : dst.val);
	if (r != X86_EMUL_OK)
		return r;
	if (!equal)
		operand_write(ctxt, insn, &acc, dst.val);
	ctxt->regs->rflags = rflags;
	return X86_EMUL_OK;
}

/*
 * CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): compares EDX:EAX (RDX:RAX) with memory. Equal:
 * ZF = 1 and memory = ECX:EBX (RCX:RBX). Not equal: ZF = 0, EDX:EAX = memory, memory
 * written back unchanged. CMPXCHG16B needs a 16-byte aligned operand, else #GP(0).
 */
static int emulate_cmpxchg8b(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct x86_regs *regs = ctxt->regs;
	unsigned half = insn->operand_size == 8 ? 8 : 4;
	u64 mem[2] = { 0, 0 }, val[2];
	u64 linear;
	bool equal;
	int r = linear_address(ctxt, insn->segment, effective_address(ctxt, insn), 2 * half,
			       &linear);

	if (r != X86_EMUL_OK)
		return r;
	if (half == 8 && !IS_ALIGNED(linear, 16))
		return raise_exception(ctxt, X86_EXC_GP, true);
	if (half == 8) {
		r = mem_read(ctxt, linear, mem, 16);
	} else {
		r = mem_read_value(ctxt, linear, 8, &mem[0]);
		mem[1] = mem[0] >> 32;
		mem[0] &= 0xffffffff;
	}
	if (r != X86_EMUL_OK)
		return r;
	equal = mem[0] == (regs->gpr[X86_RAX] & low_bytes_mask(half)) &&
		mem[1] == (regs->gpr[X86_RDX] & low_bytes_mask(half));
	if (equal) {
		val[0] = regs->gpr[X86_RBX] & low_bytes_mask(half);
		val[1] = regs->gpr[X86_RCX] & low_bytes_mask(half);
	} else {
		val[0] = mem[0];
		val[1] = mem[1];
	}
	if (half == 4)
		val[0] |= val[1] << 32;
	r = mem_write(ctxt, linear, val, 2 * half);
	if (r != X86_EMUL_OK)
		return r;
	if (!equal) {
		gpr_write(regs, X86_RAX, half, insn->rex, mem[0]);
		gpr_write(regs, X86_RDX, half, insn->rex, mem[1]);
	}
	regs->rflags = equal ? regs->rflags | RFLAGS_ZF : regs->rflags & ~RFLAGS_ZF;
	return X86_EMUL_OK;
}

/*
 * BT, BTS, BTR, BTC: CF = the selected bit, then set/clear/complement it. With a register
 * offset and a memory operand the offset is signed and may reach outside the operand:
 * the operand moves by (offset >> log2(bits)) operands (SDM Vol. 2A, BT). Only CF
 * changes (the others are undefined; the CPU and Bochs leave them).
 */
static int emulate_bit_test(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	unsigned bits = 8 * insn->operand_size;
	u64 bit, offset;
	int r = operand_fetch(ctxt, insn, insn->src, &src);

	if (r != X86_EMUL_OK)
		return r;
	r = operand_locate(ctxt, insn, insn->dst, &dst);
	if (r != X86_EMUL_OK)
		return r;
	offset = src.val;
	if (dst.where == OPERAND_MEM && src.where == OPERAND_REG) {
		s64 element = (s64)sign_extend_from(offset, src.size) >> __builtin_ctz(bits);
		u64 ea = effective_address(ctxt, insn) + (u64)element * insn->operand_size;

		r = linear_address(ctxt, insn->segment, ea & low_bytes_mask(insn->address_size),
				   dst.size, &dst.linear);
		if (r != X86_EMUL_OK)
			return r;
	}
	r = operand_read(ctxt, insn, &dst);
	if (r != X86_EMUL_OK)
		return r;
	bit = 1ull << (offset & (bits - 1));
	if (insn->op != X86_OP_BT) {
		u64 val = insn->op == X86_OP_BTS ? dst.val | bit :
			  insn->op == X86_OP_BTR ? dst.val & ~bit : dst.val ^ bit;

		r = operand_write(ctxt, insn, &dst, val);
		if (r != X86_EMUL_OK)
			return r;
	}
	ctxt->regs->rflags = (dst.val & bit) ? ctxt->regs->rflags | RFLAGS_CF :
					       ctxt->regs->rflags & ~RFLAGS_CF;
	return X86_EMUL_OK;
}

/* --- string instructions (SDM Vol. 1 7.3.9, Vol. 2B REP) --- */

/* The memory behind rSI (segment overridable) or ES:rDI, for one element. */
static int string_address(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
			  unsigned reg, unsigned size, u64 *linear)
{
	unsigned seg = reg == X86_RSI ? insn->segment : X86_SEG_ES;
	u64 ea = ctxt->regs->gpr[reg] & low_bytes_mask(insn->address_size);

	return linear_address(ctxt, seg, ea, size, linear);
}

/* rSI/rDI step by the element size, down when DF = 1; they wrap at the address size. */
static void string_advance(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
			   unsigned reg, unsigned size)
{
	struct x86_regs *regs = ctxt->regs;
	u64 step = (regs->rflags & RFLAGS_DF) ? -(u64)size : size;

	gpr_write(regs, reg, insn->address_size, 0, regs->gpr[reg] + step);
}

static int string_read(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
		       unsigned reg, unsigned size, u64 *val)
{
	u64 linear;
	int r = string_address(ctxt, insn, reg, size, &linear);

	return r == X86_EMUL_OK ? mem_read_value(ctxt, linear, size, val) : r;
}

static int string_write(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
			unsigned size, u64 val)
{
	u64 linear;
	int r = string_address(ctxt, insn, X86_RDI, size, &linear);

	return r == X86_EMUL_OK ? mem_write(ctxt, linear, &val, size) : r;
}

/* One element of a string instruction; rSI/rDI advance only once it succeeded. */
static int string_step(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
		       unsigned size)
{
	struct x86_regs *regs = ctxt->regs;
	u16 port = regs->gpr[X86_RDX];
	u64 a = 0, b = 0, linear;
	u32 in;
	int r;

	switch (insn->op) {
	case X86_OP_MOVS:
		r = string_read(ctxt, insn, X86_RSI, size, &a);
		if (r == X86_EMUL_OK)
			r = string_write(ctxt, insn, size, a);
		break;
	case X86_OP_STOS:
		r = string_write(ctxt, insn, size, regs->gpr[X86_RAX]);
		break;
	case X86_OP_LODS:
		r = string_read(ctxt, insn, X86_RSI, size, &a);
		if (r == X86_EMUL_OK)
			gpr_write(regs, X86_RAX, size, 0, a);
		break;
	case X86_OP_CMPS:
		r = string_read(ctxt, insn, X86_RSI, size, &a);
		if (r == X86_EMUL_OK)
			r = string_read(ctxt, insn, X86_RDI, size, &b);
		if (r == X86_EMUL_OK)
			alu_compute(X86_OP_CMP, a, b, size, &regs->rflags);
		break;
	case X86_OP_SCAS:
		r = string_read(ctxt, insn, X86_RDI, size, &b);
		if (r == X86_EMUL_OK)
			alu_compute(X86_OP_CMP, regs->gpr[X86_RAX] & low_bytes_mask(size), b, size,
				    &regs->rflags);
		break;
	case X86_OP_INS:
		/*
		 * A non-canonical destination faults before the port is read; a #PF on it
		 * only after, and the value read is lost (as in KVM): the callbacks offer
		 * no way to probe a translation without writing.
		 */
		r = string_address(ctxt, insn, X86_RDI, size, &linear);
		if (r == X86_EMUL_OK)
			r = ctxt->ops->pio_in(ctxt->ops_ctx, port, size, &in);
		if (r == X86_EMUL_OK)
			r = string_write(ctxt, insn, size, in);
		break;
	default:	/* X86_OP_OUTS */
		r = string_read(ctxt, insn, X86_RSI, size, &a);
		if (r == X86_EMUL_OK)
			r = ctxt->ops->pio_out(ctxt->ops_ctx, port, size, a);
		break;
	}
	if (r != X86_EMUL_OK)
		return r;
	if (insn->op == X86_OP_MOVS || insn->op == X86_OP_LODS || insn->op == X86_OP_CMPS ||
	    insn->op == X86_OP_OUTS)
		string_advance(ctxt, insn, X86_RSI, size);
	if (insn->op != X86_OP_LODS && insn->op != X86_OP_OUTS)
		string_advance(ctxt, insn, X86_RDI, size);
	return X86_EMUL_OK;
}

/* REPE/REPNE end CMPS and SCAS early when ZF says so. */
static bool rep_condition_ends(const struct x86_insn *insn, u64 rflags)
{
	if (insn->op != X86_OP_CMPS && insn->op != X86_OP_SCAS)
		return false;
	if (insn->prefixes & X86_PREFIX_REP)
		return !(rflags & RFLAGS_ZF);
	return rflags & RFLAGS_ZF;
}

/*
 * A string instruction, repeated while rCX (at the address size) is not zero when a REP
 * prefix is present (F2 acts as REP for the non-comparing ones). At most
 * X86_REP_MAX_ITERATIONS per call: then RIP stays and the guest comes back for the rest.
 */
static int emulate_string(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct x86_regs *regs = ctxt->regs;
	bool rep = insn->prefixes & (X86_PREFIX_REP | X86_PREFIX_REPNE);
	unsigned size = insn->operand_size, asize = insn->address_size, n;
	u64 count = regs->gpr[X86_RCX] & low_bytes_mask(asize);
	int r;

	if (rep && ctxt->refuse_rep_strings)
		return X86_EMUL_UNHANDLED;
	/* INS and OUTS move at most 32 bits: REX.W is ignored (SDM Vol. 2A, INS) */
	if ((insn->op == X86_OP_INS || insn->op == X86_OP_OUTS) && size == 8)
		size = 4;
	if (rep && count == 0)
		return X86_EMUL_OK;
	for (n = 1;; n++) {
		r = string_step(ctxt, insn, size);
		if (r != X86_EMUL_OK || !rep)
			return r;
		gpr_write(regs, X86_RCX, asize, 0, --count);
		if (count == 0 || rep_condition_ends(insn, regs->rflags))
			return X86_EMUL_OK;
		if (n == X86_REP_MAX_ITERATIONS)
			return EMUL_REP_PAUSED;
	}
}

/* --- condition codes (SDM Vol. 1 appendix B): SETcc and CMOVcc --- */

/* Even codes test a condition, odd ones its negation; cc is the opcode's low nibble. */
static bool condition_holds(unsigned cc, u64 f)
{
	bool sign_differs = !(f & RFLAGS_SF) != !(f & RFLAGS_OF);
	bool holds;

	switch (cc >> 1) {
	case 0: holds = f & RFLAGS_OF; break;				/* O */
	case 1: holds = f & RFLAGS_CF; break;				/* B */
	case 2: holds = f & RFLAGS_ZF; break;				/* E */
	case 3: holds = f & (RFLAGS_CF | RFLAGS_ZF); break;		/* BE */
	case 4: holds = f & RFLAGS_SF; break;				/* S */
	case 5: holds = f & RFLAGS_PF; break;				/* P */
	case 6: holds = sign_differs; break;				/* L */
	default: holds = sign_differs || (f & RFLAGS_ZF); break;	/* LE */
	}
	return holds != (cc & 1);
}

static int emulate_setcc(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst;
	int r = operand_locate(ctxt, insn, insn->dst, &dst);
	bool holds = condition_holds(insn->opcode & 0xf, ctxt->regs->rflags);

	return r == X86_EMUL_OK ? operand_write(ctxt, insn, &dst, holds) : r;
}

/* The source is read whatever the condition, and a 32-bit destination has bits 63:32
 * cleared even when the condition fails (SDM Vol. 2A, CMOVcc). */
static int emulate_cmovcc(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	bool holds;
	int r = fetch_source_then_destination(ctxt, insn, &src, &dst);

	if (r != X86_EMUL_OK)
		return r;
	holds = condition_holds(insn->opcode & 0xf, ctxt->regs->rflags);
	return operand_write(ctxt, insn, &dst, holds ? src.val : dst.val);
}

/* --- shifts and rotates (SDM Vol. 2B, SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR) --- */

/* OF where the SDM defines it (a count of 1): the top bit against a neighbour. The same
 * formula is kept for other counts, where OF is undefined. */
static HOT_INLINE u64 overflow_flag(bool a, bool b)
{
	return a != b ? RFLAGS_OF : 0;
}

/* SHL, SHR, SAR by n (1..63) bits: CF is the last bit shifted out (0 past the operand's
 * width for SHL and SHR, where it is undefined), SF/ZF/PF from the result, AF cleared
 * (undefined). OF: SHL top bit of the result vs CF, SHR the original top bit, SAR 0. */
static u64 shift(unsigned op, u64 v, unsigned n, unsigned size, u64 *rflags)
{
	unsigned bits = 8 * size, top = bits - 1;
	u64 mask = low_bytes_mask(size), res, cf, of;
	s64 signed_v = (s64)sign_extend_from(v, size);

	switch (op) {
	case X86_OP_SHL:
		res = n < bits ? (v << n) & mask : 0;
		cf = n <= bits ? (v >> (bits - n)) & 1 : 0;
		of = overflow_flag(res >> top, cf);
		break;
	case X86_OP_SHR:
		res = n < bits ? v >> n : 0;
		cf = n <= bits ? (v >> (n - 1)) & 1 : 0;
		of = overflow_flag(v >> top, 0);
		break;
	default:	/* X86_OP_SAR */
		res = (u64)(signed_v >> MIN(n, top)) & mask;
		cf = (u64)(signed_v >> MIN(n - 1, top)) & 1;
		of = 0;
		break;
	}
	*rflags = (*rflags & ~RFLAGS_ARITH) | flags_szp(res, size) | (cf ? RFLAGS_CF : 0) | of;
	return res;
}

/* ROL, ROR by n (1..63): only CF and OF change. The rotation is n modulo the width, but
 * CF is set from the result even when that is 0. */
static u64 rotate(unsigned op, u64 v, unsigned n, unsigned size, u64 *rflags)
{
	unsigned bits = 8 * size, top = bits - 1, k = n % bits;
	u64 mask = low_bytes_mask(size), res, cf, of;

	if (op == X86_OP_ROL) {
		res = k ? ((v << k) | (v >> (bits - k))) & mask : v;
		cf = res & 1;
		of = overflow_flag(res >> top, cf);
	} else {
		res = k ? ((v >> k) | (v << (bits - k))) & mask : v;
		cf = res >> top;
		of = overflow_flag(res >> top, (res >> (top - 1)) & 1);
	}
	*rflags = (*rflags & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | of;
	return res;
}

/* RCL, RCR by n (1..63): a rotation of width + 1 bits through CF, n modulo that width;
 * nothing changes when that is 0. One bit per step: at most 63 steps. */
static u64 rotate_through_carry(unsigned op, u64 v, unsigned n, unsigned size, u64 *rflags)
{
	unsigned bits = 8 * size, top = bits - 1, k = n % (bits + 1);
	u64 cf = *rflags & RFLAGS_CF ? 1 : 0, out, of;

	if (k == 0)
		return v;
	for (unsigned i = 0; i < k; i++) {
		if (op == X86_OP_RCL) {
			out = v >> top;
			v = ((v << 1) | cf) & low_bytes_mask(size);
		} else {
			out = v & 1;
			v = (v >> 1) | (cf << top);
		}
		cf = out;
	}
	of = op == X86_OP_RCL ? overflow_flag(v >> top, cf) :
				overflow_flag(v >> top, (v >> (top - 1)) & 1);
	*rflags = (*rflags & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | of;
	return v;
}

/* The count is masked to 5 bits (6 with a 64-bit operand); a count of 0 changes nothing,
 * flags included, and the destination is not written. */
static int emulate_shift(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, count;
	u64 rflags = ctxt->regs->rflags, res;
	unsigned n;
	int r = fetch_source_then_destination(ctxt, insn, &count, &dst);

	if (r != X86_EMUL_OK)
		return r;
	n = count.val & (dst.size == 8 ? 0x3f : 0x1f);
	if (n == 0)
		return X86_EMUL_OK;
	if (insn->op == X86_OP_ROL || insn->op == X86_OP_ROR)
		res = rotate(insn->op, dst.val, n, dst.size, &rflags);
	else if (insn->op == X86_OP_RCL || insn->op == X86_OP_RCR)
		res = rotate_through_carry(insn->op, dst.val, n, dst.size, &rflags);
	else
		res = shift(insn->op, dst.val, n, dst.size, &rflags);
	r = operand_write(ctxt, insn, &dst, res);
	if (r != X86_EMUL_OK)
		return r;
	ctxt->regs->rflags = rflags;
	return X86_EMUL_OK;
}

/* --- MUL, IMUL, DIV, IDIV (SDM Vol. 2A/2B) --- */

/* unsigned __int128 multiplies, shifts and adds inline; only its division would call
 * libgcc, which the kernel does not link: divide_128_by_64() does that. */
typedef unsigned __int128 u128;
typedef __int128 s128;

/* The double-width accumulator: AX for a byte operand, else rDX:rAX. */
static u128 accumulator_read(const struct x86_regs *regs, unsigned size)
{
	u64 mask = low_bytes_mask(size);

	if (size == 1)
		return regs->gpr[X86_RAX] & 0xffff;
	return (u128)(regs->gpr[X86_RDX] & mask) << (8 * size) | (regs->gpr[X86_RAX] & mask);
}

/* low -> AL or rAX, high -> AH or rDX. */
static void accumulator_write(struct x86_regs *regs, unsigned size, u64 low, u64 high)
{
	if (size == 1) {
		x86_write_register(&regs->gpr[X86_RAX], 2, (low & 0xff) | (high & 0xff) << 8);
		return;
	}
	x86_write_register(&regs->gpr[X86_RAX], size, low);
	x86_write_register(&regs->gpr[X86_RDX], size, high);
}

static HOT_INLINE s128 sign_extend_128(u128 v, unsigned bits)
{
	return (s128)(v << (128 - bits)) >> (128 - bits);
}

/* (hi:lo) / d, restoring division one bit per step. Needs hi < d: the quotient then fits
 * in 64 bits, and each step keeps the partial remainder below d. */
static u64 divide_128_by_64(u64 hi, u64 lo, u64 d, u64 *remainder)
{
	u64 quotient = 0;

	for (int i = 0; i < 64; i++) {
		bool carry = hi >> 63;

		hi = (hi << 1) | (lo >> 63);
		lo <<= 1;
		quotient <<= 1;
		if (carry || hi >= d) {
			hi -= d;
			quotient |= 1;
		}
	}
	*remainder = hi;
	return quotient;
}

/* |dividend| / |divisor| with the signs put back; false (#DE) when the quotient does not
 * fit in the operand (SDM Vol. 2A, IDIV: the quotient is truncated toward zero and the
 * remainder takes the dividend's sign). */
static bool divide(bool is_signed, u128 dividend, u64 divisor, unsigned size, u64 *quotient,
		   u64 *remainder)
{
	unsigned bits = 8 * size;
	bool negative_dividend = is_signed && sign_extend_128(dividend, 2 * bits) < 0;
	bool negative_divisor = is_signed && (divisor >> (bits - 1)) & 1;
	u128 magnitude = negative_dividend ? -(u128)sign_extend_128(dividend, 2 * bits) : dividend;
	u64 d = negative_divisor ? -sign_extend_from(divisor, size) : divisor;
	bool negative_quotient = negative_dividend != negative_divisor;
	u64 q, rem, limit;

	if (d == 0 || (u64)(magnitude >> 64) >= d)
		return false;
	q = divide_128_by_64((u64)(magnitude >> 64), (u64)magnitude, d, &rem);
	limit = is_signed ? (1ull << (bits - 1)) - !negative_quotient : low_bytes_mask(size);
	if (q > limit)
		return false;
	*quotient = (negative_quotient ? -q : q) & low_bytes_mask(size);
	*remainder = (negative_dividend ? -rem : rem) & low_bytes_mask(size);
	return true;
}

/* CF = OF = the product does not fit in its low half; SF, ZF, AF, PF (undefined) keep
 * their values. */
static void set_multiply_flags(struct x86_regs *regs, bool truncated)
{
	u64 f = truncated ? RFLAGS_CF | RFLAGS_OF : 0;

	regs->rflags = (regs->rflags & ~(RFLAGS_CF | RFLAGS_OF)) | f;
}

/* F6/F7 /4-/7: the accumulator times or divided by r/m. DIV and IDIV leave RFLAGS
 * (undefined) as they were; #DE for a zero divisor or a quotient too wide. */
static int emulate_mul_div(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct x86_regs *regs = ctxt->regs;
	struct operand src;
	unsigned size = insn->operand_size, bits = 8 * size;
	u128 acc = accumulator_read(regs, size), product;
	s128 signed_product;
	u64 low, high;
	int r = operand_fetch(ctxt, insn, insn->dst, &src);

	if (r != X86_EMUL_OK)
		return r;
	switch (insn->op) {
	case X86_OP_MUL:
		product = (u128)(acc & low_bytes_mask(size)) * src.val;
		set_multiply_flags(regs, product >> bits);
		break;
	case X86_OP_IMUL:
		/* two bits-wide signed factors: the exact product fits in 2 * bits */
		signed_product = sign_extend_128(acc, bits) * (s64)sign_extend_from(src.val, size);
		product = (u128)signed_product;
		set_multiply_flags(regs, signed_product != sign_extend_128(product, bits));
		break;
	default:	/* DIV, IDIV */
		if (!divide(insn->op == X86_OP_IDIV, acc, src.val, size, &low, &high))
			return raise_exception(ctxt, X86_EXC_DE, false);
		accumulator_write(regs, size, low, high);
		return X86_EMUL_OK;
	}
	accumulator_write(regs, size, (u64)product, (u64)(product >> bits));
	return X86_EMUL_OK;
}

/* IMUL r, r/m (0F AF) or r, r/m, imm (69, 6B): the truncated signed product; CF = OF =
 * it was truncated. */
static int emulate_imul2(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	unsigned size = insn->operand_size;
	s128 factor, product;
	u64 res;
	int r = fetch_source_then_destination(ctxt, insn, &src, &dst);

	if (r != X86_EMUL_OK)
		return r;
	factor = (s64)sign_extend_from(insn->opcode_map == 0 ? insn->imm : dst.val, size);
	product = (s128)(s64)sign_extend_from(src.val, size) * factor;
	res = (u64)product & low_bytes_mask(size);
	operand_write(ctxt, insn, &dst, res);
	set_multiply_flags(ctxt->regs, product != (s64)sign_extend_from(res, size));
	return X86_EMUL_OK;
}

/* --- PUSH r/m, POP r/m (SDM Vol. 2B) --- */

/* The stack's address size in bytes: 8 in 64-bit mode, else from SS.B. */
static unsigned stack_address_size(struct x86_emu_ctxt *ctxt)
{
	if (ctxt->mode == X86_MODE_LONG64)
		return 8;
	return (unsigned)ctxt->ops->read_sysreg(ctxt->ops_ctx, X86_SYSREG_STACK_SIZE);
}

static int stack_linear(struct x86_emu_ctxt *ctxt, u64 rsp, unsigned stack_size, unsigned size,
			u64 *linear)
{
	return linear_address(ctxt, X86_SEG_SS, rsp & low_bytes_mask(stack_size), size, linear);
}

/* The source is read (its address computed) before rSP moves; rSP moves only once the
 * store to the stack is done. */
static int emulate_push(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct x86_regs *regs = ctxt->regs;
	unsigned stack_size = stack_address_size(ctxt);
	u64 rsp = regs->gpr[X86_RSP] - insn->operand_size, linear;
	struct operand src;
	int r = operand_fetch(ctxt, insn, insn->dst, &src);

	if (r == X86_EMUL_OK)
		r = stack_linear(ctxt, rsp, stack_size, src.size, &linear);
	if (r == X86_EMUL_OK)
		r = mem_write(ctxt, linear, &src.val, src.size);
	if (r == X86_EMUL_OK)
		x86_write_register(&regs->gpr[X86_RSP], stack_size, rsp);
	return r;
}

/* A destination addressed through rSP sees rSP already incremented (SDM Vol. 2B, POP);
 * if its store faults, rSP goes back. */
static int emulate_pop(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct x86_regs *regs = ctxt->regs;
	unsigned stack_size = stack_address_size(ctxt), size = insn->operand_size;
	u64 old_rsp = regs->gpr[X86_RSP], linear, val;
	struct operand dst;
	int r = stack_linear(ctxt, old_rsp, stack_size, size, &linear);

	if (r == X86_EMUL_OK)
		r = mem_read_value(ctxt, linear, size, &val);
	if (r != X86_EMUL_OK)
		return r;
	x86_write_register(&regs->gpr[X86_RSP], stack_size, old_rsp + size);
	r = operand_locate(ctxt, insn, insn->dst, &dst);
	if (r == X86_EMUL_OK)
		r = operand_write(ctxt, insn, &dst, val);
	if (r != X86_EMUL_OK)
		regs->gpr[X86_RSP] = old_rsp;
	return r;
}

/* --- MOVBE (SDM Vol. 2B): a load or store with the bytes reversed --- */

static u64 byte_swap(u64 v, unsigned size)
{
	switch (size) {
	case 2: return __builtin_bswap16((u16)v);
	case 4: return __builtin_bswap32((u32)v);
	default: return __builtin_bswap64(v);
	}
}

static int emulate_movbe(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand dst, src;
	int r = operand_fetch(ctxt, insn, insn->src, &src);

	if (r == X86_EMUL_OK)
		r = operand_locate(ctxt, insn, insn->dst, &dst);
	return r == X86_EMUL_OK ? operand_write(ctxt, insn, &dst, byte_swap(src.val, src.size)) : r;
}

/* --- system instructions (SDM Vol. 2 and Vol. 3A 2.8) --- */

static HOT_INLINE u64 sysreg(struct x86_emu_ctxt *ctxt, enum x86_sysreg reg)
{
	return ctxt->ops->read_sysreg(ctxt->ops_ctx, reg);
}

static bool at_cpl0(struct x86_emu_ctxt *ctxt)
{
	return sysreg(ctxt, X86_SYSREG_CPL) == 0;
}

/* CR4.UMIP: SGDT, SIDT, SLDT, SMSW and STR are #GP(0) outside CPL 0 (SDM Vol. 3A 2.5). */
static bool umip_forbids(struct x86_emu_ctxt *ctxt)
{
	return (sysreg(ctxt, X86_SYSREG_CR4) & CR4_UMIP) && !at_cpl0(ctxt);
}

/* SMSW, SLDT, STR: 16 bits to memory; to a register at the operand size, zero-extended. */
static int store_system_word(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn, u64 value)
{
	struct operand dst;
	int r = operand_locate(ctxt, insn, insn->has_mem ? OPND_RM16 : OPND_RM, &dst);

	return r == X86_EMUL_OK ? operand_write(ctxt, insn, &dst, value) : r;
}

/* SMSW stores CR0 (its low 16 bits to memory); SLDT and STR a selector, and are #UD in
 * real-address and virtual-8086 mode. */
static int emulate_store_system(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	enum x86_sysreg reg = insn->op == X86_OP_SMSW ? X86_SYSREG_CR0 :
			      insn->op == X86_OP_SLDT ? X86_SYSREG_LDTR : X86_SYSREG_TR;

	if (insn->op != X86_OP_SMSW && ctxt->mode == X86_MODE_REAL)
		return raise_exception(ctxt, X86_EXC_UD, false);
	if (umip_forbids(ctxt))
		return raise_exception(ctxt, X86_EXC_GP, true);
	return store_system_word(ctxt, insn, sysreg(ctxt, reg));
}

/* SGDT, SIDT: the 16-bit limit, then the base: 8 bytes in 64-bit mode, else 4 (the whole
 * 32-bit base whatever the operand size). The limit is stored first, so a fault on the
 * base's bytes leaves it written. */
static int emulate_store_descriptor_table(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	bool gdt = insn->op == X86_OP_SGDT;
	unsigned base_size = ctxt->mode == X86_MODE_LONG64 ? 8 : 4;
	u64 linear, limit, base;
	int r;

	if (umip_forbids(ctxt))
		return raise_exception(ctxt, X86_EXC_GP, true);
	r = linear_address(ctxt, insn->segment, effective_address(ctxt, insn), 2 + base_size,
			   &linear);
	if (r != X86_EMUL_OK)
		return r;
	limit = sysreg(ctxt, gdt ? X86_SYSREG_GDTR_LIMIT : X86_SYSREG_IDTR_LIMIT);
	base = sysreg(ctxt, gdt ? X86_SYSREG_GDTR_BASE : X86_SYSREG_IDTR_BASE);
	r = mem_write(ctxt, linear, &limit, 2);
	if (r != X86_EMUL_OK)
		return r;
	linear += 2;
	return mem_write(ctxt, ctxt->mode == X86_MODE_LONG64 ? linear : (u32)linear, &base,
			 base_size);
}

/* LMSW loads CR0 bits 3:0 (PE, MP, EM, TS) from a 16-bit operand but never clears PE. */
#define LMSW_BITS 0xfull
static int emulate_lmsw(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	struct operand src;
	u64 cr0;
	int r;

	if (!at_cpl0(ctxt))
		return raise_exception(ctxt, X86_EXC_GP, true);
	r = operand_fetch(ctxt, insn, OPND_RM16, &src);
	if (r != X86_EMUL_OK)
		return r;
	cr0 = sysreg(ctxt, X86_SYSREG_CR0);
	cr0 = (cr0 & ~LMSW_BITS) | (src.val & LMSW_BITS) | (cr0 & CR0_PE);
	return ctxt->ops->write_sysreg(ctxt->ops_ctx, X86_SYSREG_CR0, cr0, &ctxt->exception);
}

/* Control register numbers; the others are #UD (SDM Vol. 2B, MOV-Control Registers). */
static const s8 control_register[16] = {
	[0] = X86_SYSREG_CR0, [1] = -1, [2] = X86_SYSREG_CR2, [3] = X86_SYSREG_CR3,
	[4] = X86_SYSREG_CR4, [5 ... 7] = -1, [8] = X86_SYSREG_CR8, [9 ... 15] = -1,
};
/* CR8 holds the TPR's priority class: bits 63:4 are reserved (SDM Vol. 3A 10.8.6.1). */
#define CR8_RESERVED (~0xfull)
/* DR6 and DR7 bits 63:32 must be 0 (SDM Vol. 2B, MOV-Debug Registers). */
#define DR67_RESERVED_HIGH (~0xffffffffull)

/* MOV CR and DR move 64 bits in 64-bit mode and 32 elsewhere, whatever the prefixes. */
static unsigned control_move_size(const struct x86_emu_ctxt *ctxt)
{
	return ctxt->mode == X86_MODE_LONG64 ? 8 : 4;
}

/* A register to or from a CR or DR: opcode bit 1 says which way. */
static int move_system_register(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
				enum x86_sysreg reg, u64 reserved)
{
	unsigned size = control_move_size(ctxt);
	u64 value;

	if (!at_cpl0(ctxt))
		return raise_exception(ctxt, X86_EXC_GP, true);
	if (!(insn->opcode & 2)) {
		gpr_write(ctxt->regs, insn->modrm_rm, size, 0, sysreg(ctxt, reg));
		return X86_EMUL_OK;
	}
	value = gpr_read(ctxt->regs, insn->modrm_rm, size, 0);
	if (value & reserved)
		return raise_exception(ctxt, X86_EXC_GP, true);
	return ctxt->ops->write_sysreg(ctxt->ops_ctx, reg, value, &ctxt->exception);
}

static int emulate_mov_cr(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	s8 reg = control_register[insn->modrm_reg];

	if (reg < 0)
		return raise_exception(ctxt, X86_EXC_UD, false);
	return move_system_register(ctxt, insn, (enum x86_sysreg)reg,
				    reg == X86_SYSREG_CR8 ? CR8_RESERVED : 0);
}

/* DR4 and DR5 are DR6 and DR7 unless CR4.DE makes them #UD; DR8-15 do not exist. Left
 * out: DR7.GD's #DB (the CPU raises it itself before any exit would hand us the MOV). */
static int emulate_mov_dr(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	static const u8 debug_register[8] = {
		X86_SYSREG_DR0, X86_SYSREG_DR1, X86_SYSREG_DR2, X86_SYSREG_DR3,
		X86_SYSREG_DR6, X86_SYSREG_DR7, X86_SYSREG_DR6, X86_SYSREG_DR7,
	};
	unsigned n = insn->modrm_reg;

	if (n >= 8 || ((n == 4 || n == 5) && (sysreg(ctxt, X86_SYSREG_CR4) & CR4_DE)))
		return raise_exception(ctxt, X86_EXC_UD, false);
	return move_system_register(ctxt, insn, debug_register[n],
				    n >= 4 ? DR67_RESERVED_HIGH : 0);
}

/*
 * CLFLUSH, CLFLUSHOPT: nothing of an emulated device sits in the CPU's caches, so there is
 * nothing to write back and no access is made (a read would have side effects on a
 * device). The address is still formed, for its #GP/#SS; its translation and rights were
 * checked by the CPU before the access exited.
 */
static int emulate_clflush(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	u64 linear;

	return linear_address(ctxt, insn->segment, effective_address(ctxt, insn), 1, &linear);
}

/* --- SSE moves (SDM Vol. 2B; exceptions: Vol. 2A 2.5, table 2-18 class 4 and 5) --- */

/* #UD with CR0.EM set or CR4.OSFXSR clear, then #NM with CR0.TS set. */
static int check_sse_usable(struct x86_emu_ctxt *ctxt)
{
	u64 cr0 = sysreg(ctxt, X86_SYSREG_CR0);

	if ((cr0 & CR0_EM) || !(sysreg(ctxt, X86_SYSREG_CR4) & CR4_OSFXSR))
		return raise_exception(ctxt, X86_EXC_UD, false);
	if (cr0 & CR0_TS)
		return raise_exception(ctxt, X86_EXC_NM, false);
	return X86_EMUL_OK;
}

static unsigned sse_move_size(const struct x86_insn *insn)
{
	switch (insn->op) {
	case X86_OP_MOVUPS:
	case X86_OP_MOVAPS:
		return 16;
	case X86_OP_MOVQ:
		return 8;
	default:	/* X86_OP_MOVD: MOVQ with REX.W */
		return insn->operand_size == 8 ? 8 : 4;
	}
}

/* Between an XMM register and memory. MOVAPS/MOVAPD/MOVDQA need a 16-byte aligned
 * operand, else #GP(0). Loads of 4 or 8 bytes zero the rest of the register. */
static int sse_move_memory(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
			   unsigned size, bool load)
{
	u8 value[16] = { 0 };
	u64 linear;
	int r = linear_address(ctxt, insn->segment, effective_address(ctxt, insn), size, &linear);

	if (r != X86_EMUL_OK)
		return r;
	if (insn->op == X86_OP_MOVAPS && !IS_ALIGNED(linear, 16))
		return raise_exception(ctxt, X86_EXC_GP, true);
	if (!load) {
		ctxt->ops->read_xmm(ctxt->ops_ctx, insn->modrm_reg, value);
		return mem_write(ctxt, linear, value, size);
	}
	r = mem_read(ctxt, linear, value, size);
	if (r == X86_EMUL_OK)
		ctxt->ops->write_xmm(ctxt->ops_ctx, insn->modrm_reg, value);
	return r;
}

/* The register forms: XMM to XMM (MOVQ zeroes bits 127:64), or MOVD/MOVQ to or from a
 * GPR. */
static void sse_move_registers(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn,
			       unsigned size, bool load)
{
	u8 value[16] = { 0 };
	u64 gpr;

	if (insn->op == X86_OP_MOVD && load) {
		gpr = gpr_read(ctxt->regs, insn->modrm_rm, size, 0);
		__builtin_memcpy(value, &gpr, 8);
		ctxt->ops->write_xmm(ctxt->ops_ctx, insn->modrm_reg, value);
		return;
	}
	ctxt->ops->read_xmm(ctxt->ops_ctx, load ? insn->modrm_rm : insn->modrm_reg, value);
	if (insn->op == X86_OP_MOVD) {
		__builtin_memcpy(&gpr, value, 8);
		gpr_write(ctxt->regs, insn->modrm_rm, size, 0, gpr);
		return;
	}
	if (size == 8)
		__builtin_memset(value + 8, 0, 8);
	ctxt->ops->write_xmm(ctxt->ops_ctx, load ? insn->modrm_reg : insn->modrm_rm, value);
}

static int emulate_sse_move(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	unsigned size = sse_move_size(insn);
	bool load = insn->dst == OPND_XMM;
	int r = check_sse_usable(ctxt);

	if (r != X86_EMUL_OK)
		return r;
	if (insn->has_mem)
		return sse_move_memory(ctxt, insn, size, load);
	sse_move_registers(ctxt, insn, size, load);
	return X86_EMUL_OK;
}

typedef int (*emulate_fn)(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn);

static const emulate_fn emulate_op[X86_OP_COUNT] = {
	[X86_OP_ADD ... X86_OP_NEG] = emulate_alu,
	[X86_OP_MOV ... X86_OP_MOVSXD] = emulate_mov,
	[X86_OP_XCHG] = emulate_xchg,
	[X86_OP_CMPXCHG] = emulate_cmpxchg,
	[X86_OP_XADD] = emulate_xadd,
	[X86_OP_CMPXCHG8B] = emulate_cmpxchg8b,
	[X86_OP_BT ... X86_OP_BTC] = emulate_bit_test,
	[X86_OP_MOVS ... X86_OP_OUTS] = emulate_string,
	[X86_OP_ROL ... X86_OP_SAR] = emulate_shift,
	[X86_OP_MUL ... X86_OP_IDIV] = emulate_mul_div,
	[X86_OP_IMUL2] = emulate_imul2,
	[X86_OP_PUSH] = emulate_push,
	[X86_OP_POP] = emulate_pop,
	[X86_OP_MOVBE] = emulate_movbe,
	[X86_OP_SETCC] = emulate_setcc,
	[X86_OP_CMOVCC] = emulate_cmovcc,
	[X86_OP_SMSW] = emulate_store_system,
	[X86_OP_SLDT] = emulate_store_system,
	[X86_OP_STR] = emulate_store_system,
	[X86_OP_SGDT] = emulate_store_descriptor_table,
	[X86_OP_SIDT] = emulate_store_descriptor_table,
	[X86_OP_LMSW] = emulate_lmsw,
	[X86_OP_MOV_CR] = emulate_mov_cr,
	[X86_OP_MOV_DR] = emulate_mov_dr,
	[X86_OP_CLFLUSH] = emulate_clflush,
	[X86_OP_MOVUPS ... X86_OP_MOVQ] = emulate_sse_move,
};

static const char *const op_names[X86_OP_COUNT] = {
	[X86_OP_NONE] = "(not emulated)",
	[X86_OP_ADD] = "add", [X86_OP_OR] = "or", [X86_OP_ADC] = "adc", [X86_OP_SBB] = "sbb",
	[X86_OP_AND] = "and", [X86_OP_SUB] = "sub", [X86_OP_XOR] = "xor", [X86_OP_CMP] = "cmp",
	[X86_OP_TEST] = "test", [X86_OP_INC] = "inc", [X86_OP_DEC] = "dec",
	[X86_OP_NOT] = "not", [X86_OP_NEG] = "neg",
	[X86_OP_MOV] = "mov", [X86_OP_MOVZX] = "movzx", [X86_OP_MOVSX] = "movsx",
	[X86_OP_MOVSXD] = "movsxd",
	[X86_OP_XCHG] = "xchg", [X86_OP_CMPXCHG] = "cmpxchg", [X86_OP_XADD] = "xadd",
	[X86_OP_CMPXCHG8B] = "cmpxchg8b",
	[X86_OP_BT] = "bt", [X86_OP_BTS] = "bts", [X86_OP_BTR] = "btr", [X86_OP_BTC] = "btc",
	[X86_OP_MOVS] = "movs", [X86_OP_CMPS] = "cmps", [X86_OP_STOS] = "stos",
	[X86_OP_LODS] = "lods", [X86_OP_SCAS] = "scas", [X86_OP_INS] = "ins",
	[X86_OP_OUTS] = "outs",
	[X86_OP_ROL] = "rol", [X86_OP_ROR] = "ror", [X86_OP_RCL] = "rcl", [X86_OP_RCR] = "rcr",
	[X86_OP_SHL] = "shl", [X86_OP_SHR] = "shr", [X86_OP_SAR] = "sar",
	[X86_OP_MUL] = "mul", [X86_OP_IMUL] = "imul", [X86_OP_DIV] = "div",
	[X86_OP_IDIV] = "idiv", [X86_OP_IMUL2] = "imul",
	[X86_OP_PUSH] = "push", [X86_OP_POP] = "pop", [X86_OP_MOVBE] = "movbe",
	[X86_OP_SETCC] = "setcc", [X86_OP_CMOVCC] = "cmovcc",
	[X86_OP_SMSW] = "smsw", [X86_OP_LMSW] = "lmsw", [X86_OP_SGDT] = "sgdt",
	[X86_OP_SIDT] = "sidt", [X86_OP_SLDT] = "sldt", [X86_OP_STR] = "str",
	[X86_OP_MOV_CR] = "mov cr", [X86_OP_MOV_DR] = "mov dr", [X86_OP_CLFLUSH] = "clflush",
	[X86_OP_MOVUPS] = "movups", [X86_OP_MOVAPS] = "movaps", [X86_OP_MOVD] = "movd",
	[X86_OP_MOVQ] = "movq",
};

const char *x86_op_name(unsigned op)
{
	return op < X86_OP_COUNT ? op_names[op] : "?";
}

/* IP wraps at the code size (SDM Vol. 1 3.5). */
static HOT_INLINE u64 next_rip(const struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	static const u64 ip_mask[] = {
		[X86_MODE_REAL] = 0xffff, [X86_MODE_PROT16] = 0xffff,
		[X86_MODE_PROT32] = 0xffffffff, [X86_MODE_LONG64] = ~0ull,
	};

	return (ctxt->regs->rip + insn->length) & ip_mask[ctxt->mode];
}

/* Runs the handler of a decoded instruction, then moves RIP past it. */
static HOT_INLINE int execute(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	emulate_fn fn = insn->op < X86_OP_COUNT ? emulate_op[insn->op] : NULL;
	int r;

	/* the MOV family, most of what MMIO sees, is called directly and inlined */
	if (likely(insn->op >= X86_OP_MOV && insn->op <= X86_OP_MOVSXD))
		r = emulate_mov(ctxt, insn);
	else if (fn)
		r = fn(ctxt, insn);
	else
		return X86_EMUL_UNHANDLED;
	if (r == EMUL_REP_PAUSED)
		return X86_EMUL_OK;
	if (r == X86_EMUL_OK) {
		ctxt->regs->rip = next_rip(ctxt, insn);
		ctxt->regs->rflags &= ~RFLAGS_RF;
	}
	return r;
}

int x86_execute(struct x86_emu_ctxt *ctxt, const struct x86_insn *insn)
{
	return execute(ctxt, insn);
}

/* Bytes left before the next 4 KiB boundary, at most a whole instruction's worth. */
static HOT_INLINE unsigned bytes_to_page_end(u64 linear)
{
	return MIN(PAGE_SIZE - (linear & (PAGE_SIZE - 1)), X86_MAX_INSN_LEN);
}

/* The first 16 bytes of a code buffer as two little-endian words. */
static HOT_INLINE void code_words(const u8 *bytes, u64 words[2])
{
	__builtin_memcpy(&words[0], bytes, 8);
	__builtin_memcpy(&words[1], bytes + 8, 8);
}

/* Whether e holds the decode of the code just fetched. */
static HOT_INLINE bool decode_cache_hit(const struct x86_emu_ctxt *ctxt,
					const struct x86_decode_cache_entry *e)
{
	u64 code[2];

	if (!e->valid || e->insn.length > ctxt->nbytes || e->mode != ctxt->mode)
		return false;
	code_words(ctxt->bytes, code);
	return (code[0] & e->code_mask[0]) == e->code[0] &&
	       (code[1] & e->code_mask[1]) == e->code[1];
}

/* Decodes into e, which then holds the new decode if it succeeded. */
static HOT_INLINE enum x86_decode_result decode_into_cache(struct x86_emu_ctxt *ctxt,
							   struct x86_decode_cache_entry *e)
{
	enum x86_decode_result d = x86_decode_padded(ctxt->bytes, ctxt->nbytes, ctxt->mode,
						     &e->insn);

	unsigned len = e->insn.length;

	e->valid = d == X86_DECODE_OK;
	if (e->valid) {
		e->code_mask[0] = len >= 8 ? ~0ull : ~(~0ull << (8 * len));
		e->code_mask[1] = len > 8 ? ~(~0ull << (8 * (len - 8))) : 0;
		code_words(ctxt->bytes, e->code);
		e->code[0] &= e->code_mask[0];
		e->code[1] &= e->code_mask[1];
		e->mode = ctxt->mode;
	}
	return d;
}

/*
 * Fetches the instruction up to the end of its page, decodes, and fetches the rest from
 * the next page only if the decoder ran out of bytes: a fault there is the CPU's fault
 * only when the instruction really reaches into that page.
 */
static HOT_INLINE enum x86_decode_result fetch_and_decode(struct x86_emu_ctxt *ctxt,
							 int *fetch_result)
{
	const struct x86_regs *regs = ctxt->regs;
	struct x86_decode_cache_entry *e =
		&ctxt->decode_cache[regs->rip % X86_DECODE_CACHE_ENTRIES];
	u64 linear = ctxt->mode == X86_MODE_LONG64 ? regs->rip :
		     (u32)(segment_base(ctxt, X86_SEG_CS) + regs->rip);
	unsigned first = bytes_to_page_end(linear);
	enum x86_decode_result d;

	ctxt->nbytes = 0;
	ctxt->insn = NULL;
	*fetch_result = ctxt->ops->fetch(ctxt->ops_ctx, linear, ctxt->bytes, first,
					 &ctxt->exception);
	if (*fetch_result != X86_EMUL_OK)
		return X86_DECODE_TRUNCATED;
	ctxt->nbytes = first;
	ctxt->insn = &e->insn;
	if (decode_cache_hit(ctxt, e))
		return X86_DECODE_OK;
	d = decode_into_cache(ctxt, e);
	if (likely(d != X86_DECODE_TRUNCATED) || first == X86_MAX_INSN_LEN)
		return d;
	linear += first;
	if (ctxt->mode != X86_MODE_LONG64)
		linear = (u32)linear;
	*fetch_result = ctxt->ops->fetch(ctxt->ops_ctx, linear, ctxt->bytes + first,
					 X86_MAX_INSN_LEN - first, &ctxt->exception);
	if (*fetch_result != X86_EMUL_OK)
		return X86_DECODE_TRUNCATED;
	ctxt->nbytes = X86_MAX_INSN_LEN;
	return decode_into_cache(ctxt, e);
}

int x86_emulate(struct x86_emu_ctxt *ctxt)
{
	int fetch_result;

	switch (fetch_and_decode(ctxt, &fetch_result)) {
	case X86_DECODE_OK:
		return execute(ctxt, ctxt->insn);
	case X86_DECODE_INVALID:
		return raise_exception(ctxt, X86_EXC_UD, false);
	case X86_DECODE_TOO_LONG:
		return raise_exception(ctxt, X86_EXC_GP, true);
	case X86_DECODE_TRUNCATED:	/* only when a fetch failed: 15 bytes always decode */
		return fetch_result;
	default:			/* X86_DECODE_UNSUPPORTED */
		return X86_EMUL_UNHANDLED;
	}
}

size_t x86_format_bytes(const u8 *bytes, unsigned n, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		/* a separator, two digits, and room left for the terminator */
		if (len + (i ? 3 : 2) >= size)
			break;
		if (i)
			buf[len++] = ' ';
		buf[len++] = hex[bytes[i] >> 4];
		buf[len++] = hex[bytes[i] & 0xf];
	}
	if (size)
		buf[len] = '\0';
	return len;
}
