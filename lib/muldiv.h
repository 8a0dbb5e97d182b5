/* a * b / c without overflow in the product (x86-64 MUL and DIV through RDX:RAX). */
#ifndef VIREO_LIB_MULDIV_H
#define VIREO_LIB_MULDIV_H

#include "lib/types.h"

/* Saturates to UINT64_MAX when the quotient does not fit in 64 bits (DIV would raise #DE);
 * c must not be 0. */
static inline u64 mul_div_u64(u64 a, u64 b, u64 c)
{
	u64 high, low, quotient, remainder;

	asm("mulq %3" : "=a"(low), "=d"(high) : "a"(a), "rm"(b));
	if (high >= c)
		return UINT64_MAX;
	asm("divq %4" : "=a"(quotient), "=d"(remainder) : "a"(low), "d"(high), "rm"(c));
	return quotient;
}

#endif
