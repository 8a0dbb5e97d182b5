/* The hypervisor's own command-line options (the multiboot2 command line). */
#ifndef VIREO_BOOT_OPTIONS_H
#define VIREO_BOOT_OPTIONS_H

#include "drivers/drivers.h"
#include "lib/log.h"
#include "lib/types.h"

#define CONSOLE_PORT_NONE 0	/* console=none, as uart_console_init() takes it */

/* fast_mmio_length=: where a skipped doorbell write's length comes from. */
enum fast_mmio_length {
	FAST_MMIO_LENGTH_AUTO,		/* the VM-exit field on hardware, the decoder when nested */
	FAST_MMIO_LENGTH_EXIT,		/* always the VM-exit instruction-length field */
	FAST_MMIO_LENGTH_DECODE,	/* always the decoder's length-only path */
};

struct vireo_options {
	u16 console_port;		/* I/O port of the console UART, or CONSOLE_PORT_NONE */
	enum log_level loglevel;
	enum exit_method exit;		/* how the run ends when every VM has stopped */
	bool mmio_cache;		/* cache MMIO gfns in EPT sptes */
	bool fast_mmio;			/* signal doorbell writes before decoding */
	enum fast_mmio_length fast_mmio_length;	/* how a doorbell write is skipped */
	bool ept;			/* use EPT when the CPU has it (else the shadow MMU) */
	bool shadow_cache;		/* keep shadow page tables across CR3 switches */
	bool shadow_unsync;		/* let guest leaf tables go unsync until a flush */
	bool fast_zap;			/* zap=fast|slow */
	bool exit_ticks;		/* count the ticks each exit reason costs */
	u64 shadow_pages;		/* shadow-page budget per VM; 0: from its RAM */
	u64 slice_ms;			/* scheduler time slice */
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
