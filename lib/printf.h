/* Kernel formatted output: %d %i %u %x %X %o %c %s %p %% with flags (-, 0, space, +, #),
 * field width and precision (numbers or *), length modifiers hh h l ll z t j. */
#ifndef VIREO_LIB_PRINTF_H
#define VIREO_LIB_PRINTF_H

#include <stdarg.h>
#include "lib/types.h"

#ifdef VIREO_HOST
/* Host builds link libc too: take ours under other names. libc's <stdio.h> comes first so
 * the renaming never touches its own declarations (or its fortified inline wrappers). */
#include <stdio.h>
#define vsnprintf vireo_vsnprintf
#define snprintf vireo_snprintf
#endif

/* Returns the length the full output would have had, as C99 does. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
