/* Fixed-width types and the few compiler helpers every file uses.
 * Builds both freestanding (the hypervisor) and hosted (unit tests, fuzzers). */
#ifndef VIREO_LIB_TYPES_H
#define VIREO_LIB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define fallthrough __attribute__((__fallthrough__))	/* a switch case that goes on */
#ifndef static_assert
#define static_assert _Static_assert
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ull << (n))
#define BITS(hi, lo) (((~0ull) >> (63 - (hi))) & ~((1ull << (lo)) - 1))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* The low n bytes of a value, n in 1..8: an operand or register of n bytes. */
static inline u64 low_bytes_mask(unsigned n)
{
	return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/* The index of the highest set bit of x > 0. */
static inline unsigned floor_log2(unsigned long long x)
{
	return 63 - (unsigned)__builtin_clzll(x);
}

#define likely(x) __builtin_expect(!!(x), 1)
/* Makes var's value opaque to the compiler, so it keeps it in a register instead of
 * recomputing it at every use (as Linux's OPTIMIZER_HIDE_VAR). */
#define OPTIMIZER_HIDE_VAR(var) __asm__("" : "+r"(var))
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define KiB(n) ((u64)(n) << 10)
#define MiB(n) ((u64)(n) << 20)
#define GiB(n) ((u64)(n) << 30)

#endif
