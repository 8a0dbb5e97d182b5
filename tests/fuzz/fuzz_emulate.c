/* libFuzzer target over the instruction decoder and emulator: random code, modes,
 * registers and faulting pages against a fake guest; aborts on any broken invariant.
 * unit-sources: arch/x86/decode.c arch/x86/emulate.c
 */
#include "tests/unit/emulate_harness.h"

/*
 * Input: [mode+config byte][16 code bytes][up to 16 x 4 register bytes][4 rflags bytes].
 * Missing bytes read as zero. Register values are 32-bit, sign-extended when the config
 * says so, so that both low and canonical-high addresses come up.
 */
struct fuzz_input {
	const u8 *data;
	size_t size, pos;
};

static u8 take_byte(struct fuzz_input *in)
{
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

static u32 take_u32(struct fuzz_input *in)
{
	u32 v = 0;
	unsigned i;

	for (i = 0; i < 4; i++)
		v |= (u32)take_byte(in) << (8 * i);
	return v;
}

#define FUZZ_RIP 0x7ff8ull	/* 8 bytes before a page end: fetches often split */
#define FUZZ_ALLOWED_FLAGS (0x1ull | 0x4 | 0x10 | 0x40 | 0x80 | 0x800 | 0x10000)

static u64 rip_mask(enum x86_cpu_mode mode)
{
	return mode == X86_MODE_LONG64 ? ~0ull : mode == X86_MODE_PROT32 ? 0xffffffff : 0xffff;
}

static void check_decoders_agree(const u8 *bytes, size_t size, enum x86_cpu_mode mode)
{
	struct x86_insn insn;
	enum x86_decode_result d = x86_decode(bytes, size, mode, &insn);
	unsigned length = x86_insn_length(bytes, size, mode);

	if (d == X86_DECODE_OK || (d == X86_DECODE_UNSUPPORTED && insn.length)) {
		if (length != insn.length || length == 0 || length > X86_MAX_INSN_LEN)
			abort();
	}
	if (d == X86_DECODE_OK && insn.op == X86_OP_NONE)
		abort();
}

static void check_result(const struct x86_emu_ctxt *ctxt, int r, u64 rip, u64 rflags)
{
	const struct x86_regs *regs = ctxt->regs;
	const struct x86_insn *insn = ctxt->insn;
	bool rep_paused;

	if ((regs->rflags ^ rflags) & ~FUZZ_ALLOWED_FLAGS)
		abort();
	if (r == X86_EMUL_EXCEPTION) {
		u8 v = ctxt->exception.vector;

		if (v != X86_EXC_PF && v != X86_EXC_GP && v != X86_EXC_SS && v != X86_EXC_UD &&
		    v != X86_EXC_DE && v != X86_EXC_NM)
			abort();
	} else if (r != X86_EMUL_OK && r != X86_EMUL_UNHANDLED) {
		abort();
	}
	if (r != X86_EMUL_OK) {
		if (regs->rip != rip)
			abort();
		return;
	}
	rep_paused = regs->rip == rip && insn->op >= X86_OP_MOVS && insn->op <= X86_OP_OUTS &&
		     (insn->prefixes & (X86_PREFIX_REP | X86_PREFIX_REPNE));
	if (!rep_paused && regs->rip != ((rip + insn->length) & rip_mask(ctxt->mode)))
		abort();
	if (x86_insn_length(ctxt->bytes, ctxt->nbytes, ctxt->mode) != insn->length)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct fake_guest g;
	struct fuzz_input in = { data, size, 0 };
	struct x86_regs regs, saved;
	struct x86_emu_ctxt ctxt;
	u8 config = take_byte(&in), code[16];
	enum x86_cpu_mode mode = config & 3;
	unsigned i;
	u64 rip, rflags;
	int r;

	for (i = 0; i < sizeof(code); i++)
		code[i] = take_byte(&in);
	check_decoders_agree(code, sizeof(code), mode);
	check_decoders_agree(data, size, mode);

	fake_reset(&g, mode);
	for (i = 0; i < 6; i++)
		g.seg_base[i] = (config & 0x80) ? 0x10000ull * i : 0;
	if (config & 0x04)
		g.fault_pages[0] = FUZZ_RIP + 8;	/* the page after the code */
	if (config & 0x08)
		g.fault_pages[1] = 0x2000;
	fake_poke(&g, FUZZ_RIP, code, sizeof(code));
	for (i = 0; i < X86_NR_GPRS; i++) {
		u32 v = take_u32(&in);

		regs.gpr[i] = (config & 0x10) ? (u64)(s64)(s32)v : v;
	}
	regs.rip = FUZZ_RIP;
	regs.rflags = ((u64)take_u32(&in) & (FUZZ_ALLOWED_FLAGS | 0x400)) | 0x2;
	rip = regs.rip;
	rflags = regs.rflags;
	ctxt = (struct x86_emu_ctxt){ .ops = &fake_ops, .ops_ctx = &g, .regs = &regs,
				      .mode = mode };
	saved = regs;
	/* twice: the second run may take its decode from the cache */
	for (i = 0; i < 2; i++) {
		regs = saved;
		r = x86_emulate(&ctxt);
		check_result(&ctxt, r, rip, rflags);
	}
	if (g.bad_callback)
		abort();
	return 0;
}
