/* Vireo hypercalls from a test guest: VMCALL with the ABI of core/hypercall.h. */
#ifndef GUEST_HCALL_H
#define GUEST_HCALL_H

#include "core/hypercall.h"
#include "lib/types.h"

/* RAX = number, RBX/RCX/RDX/RSI = arguments; only RAX changes. Returns >= 0 or -HC_E*. */
static inline long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
			     unsigned long a2, unsigned long a3)
{
	long ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
		     : "memory");
	return ret;
}

/* Guest-physical addresses: the test guests run identity-mapped (or with paging off). */
static inline long hc_console_write(const void *buf, unsigned long len)
{
	return hypercall(HC_CONSOLE_WRITE, (uintptr_t)buf, len, 0, 0);
}

static inline long hc_stats_dump(void)
{
	return hypercall(HC_STATS_DUMP, 0, 0, 0, 0);
}

static inline long hc_test_exit(unsigned long status)
{
	return hypercall(HC_TEST_EXIT, status, 0, 0, 0);
}

static inline long hc_stat_read(unsigned long counter)
{
	return hypercall(HC_STAT_READ, counter, 0, 0, 0);
}

static inline long hc_memslot_add(unsigned long gfn, unsigned long npages, unsigned long flags)
{
	return hypercall(HC_MEMSLOT_ADD, gfn, npages, flags, 0);
}

static inline long hc_memslot_delete(long slot)
{
	return hypercall(HC_MEMSLOT_DELETE, slot, 0, 0, 0);
}

static inline long hc_memslot_move(long slot, unsigned long new_gfn)
{
	return hypercall(HC_MEMSLOT_MOVE, slot, new_gfn, 0, 0);
}

static inline long hc_zap_all(void)
{
	return hypercall(HC_ZAP_ALL, 0, 0, 0, 0);
}

static inline long hc_set_switch(unsigned long which, bool on)
{
	return hypercall(HC_SET_SWITCH, which, on, 0, 0);
}

#endif
