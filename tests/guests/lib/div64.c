/* 64-bit division for the 32-bit test guests, which link without libgcc: lib/printf.c's
 * u64 divisions compile to calls of these. Shift-and-subtract: slow, but only printing
 * needs it. */
#include "lib/types.h"

u64 __udivmoddi4(u64 dividend, u64 divisor, u64 *remainder);
u64 __udivdi3(u64 dividend, u64 divisor);
u64 __umoddi3(u64 dividend, u64 divisor);

u64 __udivmoddi4(u64 dividend, u64 divisor, u64 *remainder)
{
	u64 quotient = 0, rest = 0;

	for (int bit = 63; bit >= 0; bit--) {
		rest = (rest << 1) | ((dividend >> bit) & 1);
		if (rest >= divisor) {
			rest -= divisor;
			quotient |= 1ull << bit;
		}
	}
	if (remainder)
		*remainder = rest;
	return quotient;
}

u64 __udivdi3(u64 dividend, u64 divisor)
{
	return __udivmoddi4(dividend, divisor, NULL);
}

u64 __umoddi3(u64 dividend, u64 divisor)
{
	u64 rest;

	__udivmoddi4(dividend, divisor, &rest);
	return rest;
}
