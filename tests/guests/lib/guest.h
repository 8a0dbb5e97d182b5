/* Everything a test guest includes: console, results, CPU and platform access, hypercalls,
 * multiboot information and, in 64-bit guests, exceptions and paging.
 *
 * A guest defines main(); the library's entry code sets up the CPU, the console and (64-bit)
 * the IDT, then calls it. mbi is NULL for guests started as plain ELF64. When main returns,
 * the test ends as exit_test() ends it (a nonzero return counts as a failure). */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "lib/printf.h"
#include "lib/string.h"
#include "lib/types.h"
#include "tests/guests/lib/console.h"
#include "tests/guests/lib/hcall.h"
#include "tests/guests/lib/multiboot.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/x86.h"
#ifdef __x86_64__
#include "tests/guests/lib/except.h"
#include "tests/guests/lib/paging.h"
#endif

int main(const struct multiboot_info *mbi);

#endif
