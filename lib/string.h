/* Freestanding string and memory functions, plus the small parsers the command lines need. */
#ifndef VIREO_LIB_STRING_H
#define VIREO_LIB_STRING_H

#include "lib/types.h"

#ifdef VIREO_HOST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* Copies at most size-1 bytes and always terminates (when size > 0); returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
bool str_starts_with(const char *s, const char *prefix);
/* Parses a decimal or 0x-hex unsigned number filling the whole of s[0..len). */
bool parse_u64(const char *s, size_t len, u64 *out);
/* Like parse_u64 with an optional K, M or G suffix (binary units): "64M" -> 64 MiB. */
bool parse_size(const char *s, size_t len, u64 *out);

#endif
