/* Exceptions in 64-bit test guests: an IDT for all 32 exception vectors, catching an
 * expected exception (the handler records it and resumes where the catch was armed), and a
 * FAIL report for any other exception. */
#ifndef GUEST_EXCEPT_H
#define GUEST_EXCEPT_H

#include "lib/types.h"

#define NO_EXCEPTION (-1)

struct exception_record {
	int vector;		/* NO_EXCEPTION until one is caught */
	u64 error_code;		/* 0 for vectors without one */
	u64 rip;		/* of the faulting instruction (or the next, for traps) */
	u64 cr2;		/* read at the exception, meaningful for #PF */
	u64 rflags;		/* the RFLAGS image the CPU pushed */
};

/* The last exception caught by catch_exception(); reset when a catch is armed. */
extern struct exception_record last_exception;

/* Callee-saved state, as catch_setjmp() saves it (lib/trap.S relies on this layout). */
struct catch_point {
	u64 rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* Returns 0 when called, and 1 when an exception comes back to it (like setjmp). */
int catch_setjmp(struct catch_point *cp) __attribute__((returns_twice));
void catch_arm(struct catch_point *cp);
void catch_disarm(void);

/*
 * Runs stmt with exceptions caught; evaluates to the vector it raised, or NO_EXCEPTION.
 * An exception abandons stmt at the faulting instruction and lands here; its details are
 * in last_exception. Locals that stmt changes are undefined after an exception (as after
 * longjmp) unless volatile.
 */
#define catch_exception(stmt) ({					\
	struct catch_point __catch_point;				\
	if (catch_setjmp(&__catch_point) == 0) {			\
		catch_arm(&__catch_point);				\
		stmt;							\
		catch_disarm();						\
	}								\
	last_exception.vector;						\
})

/* Installs the IDT. Until then an exception triple-faults. */
void idt_init(void);
/* "#GP" and so on. */
const char *exception_name(int vector);

/* RDMSR/WRMSR that return false instead of faulting (details in last_exception); *value
 * is written only on success. */
bool try_rdmsr(u32 msr, u64 *value);
bool try_wrmsr(u32 msr, u64 value);

#endif
