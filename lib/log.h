/* Console logging: one line per event, filtered by log level. The console sink is
 * registered by whoever owns the output device (the UART driver, or a unit test). */
#ifndef VIREO_LIB_LOG_H
#define VIREO_LIB_LOG_H

#include "lib/types.h"

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_level;

typedef void (*console_write_fn)(const char *s, size_t len);
void console_register(console_write_fn write);
/* Writes raw bytes to the console, whatever the log level. */
void console_write(const char *s, size_t len);

void printk(const char *fmt, ...) __printf(1, 2);
void log_at(enum log_level level, const char *fmt, ...) __printf(2, 3);

#define pr_err(...)   log_at(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
