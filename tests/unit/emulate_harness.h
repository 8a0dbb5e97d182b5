/* A fake guest for the instruction-emulator unit tests and fuzzer: sparse memory with
 * fault pages, ports, segment bases, and a log of every access made through the callbacks. */
#ifndef VIREO_TESTS_UNIT_EMULATE_HARNESS_H
#define VIREO_TESTS_UNIT_EMULATE_HARNESS_H

#include <stdlib.h>
#include <string.h>
#include "arch/x86/emulate.h"
#include "arch/x86/x86.h"

#define FAKE_MAX_PAGES 64
#define FAKE_MAX_LOG 64
#define FAKE_MAX_FAULT_PAGES 2
#define PF_WRITE 0x2u	/* #PF error code bits (SDM Vol. 3A 4.7) */
#define PF_FETCH 0x10u

struct fake_page {
	u64 addr;
	u8 data[4096];
};

/* One access: 'r'/'w' memory, 'i'/'o' port, 'c' a system register loaded (addr: enum
 * x86_sysreg), 'x' an XMM register written (addr: its number, val: its low 8 bytes);
 * 'f' fetches are counted, not logged. */
struct fake_access {
	char kind;
	u64 addr;
	unsigned size;
	u64 val;
};

struct fake_guest {
	struct fake_page *pages[FAKE_MAX_PAGES];
	unsigned npages;
	u64 fault_pages[FAKE_MAX_FAULT_PAGES];	/* 0 = none; pages that are not present */
	u64 seg_base[6];
	enum x86_cpu_mode mode;
	struct fake_access log[FAKE_MAX_LOG];
	unsigned nlog;		/* may exceed FAKE_MAX_LOG: only the first entries are kept */
	unsigned fetches;
	unsigned in_count;
	u64 sysreg[X86_SYSREG_COUNT];
	bool sysreg_write_faults;	/* write_sysreg answers #GP(0) */
	u8 xmm[16][16];
	bool bad_callback;	/* a callback was called against its contract */
};

/* A flat 32- or 64-bit kernel with SSE on: CR0.PE|ET|PG, CR4.OSFXSR, CPL 0. */
#define FAKE_CR0 0x80000011ull
#define FAKE_CR4 0x200ull

static struct fake_page *fake_page(struct fake_guest *g, u64 addr, bool create)
{
	u64 page = addr & ~0xfffull;
	unsigned i;

	for (i = 0; i < g->npages; i++)
		if (g->pages[i]->addr == page)
			return g->pages[i];
	if (!create || g->npages == FAKE_MAX_PAGES)
		return NULL;
	g->pages[g->npages] = calloc(1, sizeof(struct fake_page));
	g->pages[g->npages]->addr = page;
	return g->pages[g->npages++];
}

/* Memory nobody wrote reads as a pattern of its address, like an unknown device. */
static u8 fake_byte(struct fake_guest *g, u64 addr)
{
	struct fake_page *p = fake_page(g, addr, false);

	return p ? p->data[addr & 0xfff] : (u8)(addr * 7 + 0x5a);
}

static void fake_poke(struct fake_guest *g, u64 addr, const void *buf, unsigned n)
{
	const u8 *b = buf;
	struct fake_page *p;
	unsigned i;

	/* past FAKE_MAX_PAGES (only the fuzzer gets there) writes are dropped */
	for (i = 0; i < n; i++) {
		p = fake_page(g, addr + i, true);
		if (p)
			p->data[(addr + i) & 0xfff] = b[i];
	}
}

static void fake_reset(struct fake_guest *g, enum x86_cpu_mode mode)
{
	unsigned i;

	for (i = 0; i < g->npages; i++)
		free(g->pages[i]);
	memset(g, 0, sizeof(*g));
	g->mode = mode;
	g->sysreg[X86_SYSREG_CR0] = FAKE_CR0;
	g->sysreg[X86_SYSREG_CR4] = FAKE_CR4;
	g->sysreg[X86_SYSREG_STACK_SIZE] = mode == X86_MODE_PROT32 ? 4 : 2;
	for (i = 0; i < 16; i++)
		memset(g->xmm[i], 0x10 * i + 1, 16);	/* xmm n holds bytes 0xn1 */
}

static void fake_log(struct fake_guest *g, char kind, u64 addr, unsigned size, u64 val)
{
	if (g->nlog < FAKE_MAX_LOG)
		g->log[g->nlog] = (struct fake_access){ kind, addr, size, val };
	g->nlog++;
}

/* A #PF for the first faulting byte of [addr, addr + size), or false. */
static bool fake_fault(struct fake_guest *g, u64 addr, unsigned size, u32 error_code,
		       struct x86_exception *e)
{
	unsigned i, f;

	for (i = 0; i < size; i++)
		for (f = 0; f < FAKE_MAX_FAULT_PAGES; f++)
			if (g->fault_pages[f] && ((addr + i) & ~0xfffull) == g->fault_pages[f]) {
				e->vector = X86_EXC_PF;
				e->has_error_code = true;
				e->error_code = error_code;
				e->cr2 = addr + i;
				return true;
			}
	return false;
}

static int fake_fetch(void *ctx, u64 linear, void *buf, unsigned len, struct x86_exception *e)
{
	struct fake_guest *g = ctx;
	unsigned i;

	g->fetches++;
	if (len == 0 || len > X86_MAX_INSN_LEN || (linear & 0xfff) + len > 4096)
		g->bad_callback = true;
	if (fake_fault(g, linear, len, PF_FETCH, e))
		return X86_EMUL_EXCEPTION;
	for (i = 0; i < len; i++)
		((u8 *)buf)[i] = fake_byte(g, linear + i);
	return X86_EMUL_OK;
}

static u64 low_value(const void *buf, unsigned size)
{
	u64 v = 0;

	memcpy(&v, buf, size < 8 ? size : 8);
	return v;
}

static bool valid_access_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8 || size == 16;
}

static int fake_read(void *ctx, u64 linear, void *buf, unsigned size, struct x86_exception *e)
{
	struct fake_guest *g = ctx;
	unsigned i;

	if (!valid_access_size(size) || (g->mode != X86_MODE_LONG64 && linear >> 32))
		g->bad_callback = true;
	if (fake_fault(g, linear, size, 0, e))
		return X86_EMUL_EXCEPTION;
	for (i = 0; i < size; i++)
		((u8 *)buf)[i] = fake_byte(g, linear + i);
	fake_log(g, 'r', linear, size, low_value(buf, size));
	return X86_EMUL_OK;
}

static int fake_write(void *ctx, u64 linear, const void *buf, unsigned size,
		      struct x86_exception *e)
{
	struct fake_guest *g = ctx;

	if (!valid_access_size(size) || (g->mode != X86_MODE_LONG64 && linear >> 32))
		g->bad_callback = true;
	if (fake_fault(g, linear, size, PF_WRITE, e))
		return X86_EMUL_EXCEPTION;
	fake_poke(g, linear, buf, size);
	fake_log(g, 'w', linear, size, low_value(buf, size));
	return X86_EMUL_OK;
}

/* Port reads return 0x11 * n in every byte for the nth read (n from 1), truncated. */
static int fake_pio_in(void *ctx, u16 port, unsigned size, u32 *value)
{
	struct fake_guest *g = ctx;

	if (size != 1 && size != 2 && size != 4)
		g->bad_callback = true;
	g->in_count++;
	*value = (u32)(0x11111111u * g->in_count) & (u32)(~0ull >> (64 - 8 * size));
	fake_log(g, 'i', port, size, *value);
	return X86_EMUL_OK;
}

static int fake_pio_out(void *ctx, u16 port, unsigned size, u32 value)
{
	struct fake_guest *g = ctx;

	if (size != 1 && size != 2 && size != 4)
		g->bad_callback = true;
	fake_log(g, 'o', port, size, value);
	return X86_EMUL_OK;
}

static u64 fake_seg_base(void *ctx, enum x86_seg seg)
{
	struct fake_guest *g = ctx;

	if ((unsigned)seg > X86_SEG_GS || (g->mode == X86_MODE_LONG64 && seg < X86_SEG_FS))
		g->bad_callback = true;
	return g->seg_base[seg % 6];
}

static u64 fake_read_sysreg(void *ctx, enum x86_sysreg reg)
{
	struct fake_guest *g = ctx;

	if ((unsigned)reg >= X86_SYSREG_COUNT ||
	    (reg == X86_SYSREG_STACK_SIZE && g->mode == X86_MODE_LONG64))
		g->bad_callback = true;
	return g->sysreg[reg % X86_SYSREG_COUNT];
}

static int fake_write_sysreg(void *ctx, enum x86_sysreg reg, u64 value,
			     struct x86_exception *e)
{
	struct fake_guest *g = ctx;

	if ((unsigned)reg > X86_SYSREG_DR7)	/* only CRs and DRs are ever loaded */
		g->bad_callback = true;
	if (g->sysreg_write_faults) {
		*e = (struct x86_exception){ X86_EXC_GP, true, 0, 0 };
		return X86_EMUL_EXCEPTION;
	}
	g->sysreg[reg % X86_SYSREG_COUNT] = value;
	fake_log(g, 'c', reg, 8, value);
	return X86_EMUL_OK;
}

/* XMM8-15 exist only in 64-bit mode. */
static bool fake_xmm_valid(struct fake_guest *g, unsigned reg)
{
	return reg < (g->mode == X86_MODE_LONG64 ? 16u : 8u);
}

static void fake_read_xmm(void *ctx, unsigned reg, void *value)
{
	struct fake_guest *g = ctx;

	if (!fake_xmm_valid(g, reg))
		g->bad_callback = true;
	memcpy(value, g->xmm[reg % 16], 16);
}

static void fake_write_xmm(void *ctx, unsigned reg, const void *value)
{
	struct fake_guest *g = ctx;

	if (!fake_xmm_valid(g, reg))
		g->bad_callback = true;
	memcpy(g->xmm[reg % 16], value, 16);
	fake_log(g, 'x', reg, 16, low_value(value, 8));
}

static const struct x86_emu_ops fake_ops = {
	.fetch = fake_fetch,
	.read_mem = fake_read,
	.write_mem = fake_write,
	.pio_in = fake_pio_in,
	.pio_out = fake_pio_out,
	.seg_base = fake_seg_base,
	.read_sysreg = fake_read_sysreg,
	.write_sysreg = fake_write_sysreg,
	.read_xmm = fake_read_xmm,
	.write_xmm = fake_write_xmm,
};

#endif
