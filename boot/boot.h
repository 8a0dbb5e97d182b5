/* boot/: main() and what it calls while bringing the machine up. */
#ifndef VIREO_BOOT_BOOT_H
#define VIREO_BOOT_BOOT_H

#include "boot/bootinfo.h"
#include "lib/types.h"

#define VIREO_VERSION "0.1"

void memory_init(const struct boot_info *bi);
/* A boot step failed for a reason the user must fix: print it and end the run. */
__noreturn void boot_fail(const char *fmt, ...) __printf(1, 2);

#endif
