/* The hypervisor's own command-line options (the multiboot2 command line). */
#ifndef VIREO_BOOT_OPTIONS_H
#define VIREO_BOOT_OPTIONS_H

#include "drivers/drivers.h"
#include "lib/log.h"
#include "lib/types.h"

#define CONSOLE_PORT_NONE 0	/* console=none, as uart_console_init() takes it */

struct vireo_options {
	u16 console_port;		/* I/O port of the console UART, or CONSOLE_PORT_NONE */
	enum log_level loglevel;
	enum exit_method exit;		/* how the run ends when every VM has stopped */
};

/* The options in effect: defaults (COM1, info, halt) until options_parse() changes them. */
extern struct vireo_options vireo_options;

/*
 * Applies every option of the command line to vireo_options. Unknown options and bad
 * values are reported (then the help is printed) and skipped; returns how many there
 * were. It only records values: the caller applies them (console, log level...).
 */
int options_parse(const char *cmdline);

/* Prints every option with its accepted values and meaning. */
void options_print_help(void);

#endif
