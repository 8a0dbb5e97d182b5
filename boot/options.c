/* The hypervisor's options. To add one: a field in struct vireo_options, a setter, one line
 * in option_table (its help is what users see), and its entry in the README. */
#include "boot/options.h"
#include "lib/cmdline.h"
#include "lib/string.h"

/* Base I/O ports of the PC serial ports COM1-COM4, which Linux names ttyS0-ttyS3. */
#define COM1_PORT 0x3f8
static const u16 pc_serial_ports[] = { COM1_PORT, 0x2f8, 0x3e8, 0x2e8 };
#define UART_PORT_COUNT 8	/* a 16550 decodes 8 consecutive ports */
#define IO_PORT_LIMIT 0x10000

struct vireo_options vireo_options = {
	.console_port = COM1_PORT,
	.loglevel = LOG_INFO,
	.exit = EXIT_HALT,
	.mmio_cache = true,
	.fast_mmio = true,
	.fast_mmio_length = FAST_MMIO_LENGTH_AUTO,
	.ept = true,
	.shadow_cache = true,
	.shadow_unsync = true,
	.fast_zap = true,
	.slice_ms = 10,
};

/* "ttyS1" with prefix "ttyS" and first '0', or "com2" with "com" and '1': the second port. */
static bool serial_port_by_name(const char *value, size_t len, const char *prefix, char first,
				u16 *port)
{
	size_t prefix_len = strlen(prefix);
	unsigned int index;

	if (len != prefix_len + 1 || memcmp(value, prefix, prefix_len) != 0)
		return false;
	index = (unsigned int)(value[prefix_len] - first);
	if (value[prefix_len] < first || index >= ARRAY_SIZE(pc_serial_ports))
		return false;
	*port = pc_serial_ports[index];
	return true;
}

static bool set_console(void *ctx, const char *value, size_t len)
{
	struct vireo_options *opts = ctx;
	u64 port;

	if (!value)
		return false;
	if (cmdline_value_is(value, len, "none")) {
		opts->console_port = CONSOLE_PORT_NONE;
		return true;
	}
	if (serial_port_by_name(value, len, "ttyS", '0', &opts->console_port) ||
	    serial_port_by_name(value, len, "com", '1', &opts->console_port))
		return true;
	if (!parse_u64(value, len, &port) || port == 0 || port > IO_PORT_LIMIT - UART_PORT_COUNT)
		return false;
	opts->console_port = (u16)port;
	return true;
}

static const struct cmdline_choice log_levels[] = {
	{ "0", LOG_ERR }, { "1", LOG_WARN }, { "2", LOG_INFO }, { "3", LOG_DEBUG },
	{ "err", LOG_ERR }, { "warn", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

static bool set_loglevel(void *ctx, const char *value, size_t len)
{
	struct vireo_options *opts = ctx;
	int level;

	if (!cmdline_pick(value, len, log_levels, ARRAY_SIZE(log_levels), &level))
		return false;
	opts->loglevel = (enum log_level)level;
	return true;
}

static const struct cmdline_choice exit_methods[] = {
	{ "halt", EXIT_HALT }, { "bochs", EXIT_BOCHS }, { "qemu", EXIT_QEMU }, { "acpi", EXIT_ACPI },
};

static bool set_exit(void *ctx, const char *value, size_t len)
{
	struct vireo_options *opts = ctx;
	int method;

	if (!cmdline_pick(value, len, exit_methods, ARRAY_SIZE(exit_methods), &method))
		return false;
	opts->exit = (enum exit_method)method;
	return true;
}

static bool parse_on_off(const char *value, size_t len, bool *out)
{
	int on;
	static const struct cmdline_choice on_off[] = { { "on", 1 }, { "off", 0 } };
	if (!cmdline_pick(value, len, on_off, ARRAY_SIZE(on_off), &on))
		return false;
	*out = on;
	return true;
}

static bool set_mmio_cache(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->mmio_cache);
}

static bool set_fast_mmio(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->fast_mmio);
}

static bool set_ept(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->ept);
}

static bool set_exit_ticks(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->exit_ticks);
}

static bool set_shadow_unsync(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->shadow_unsync);
}

static bool set_shadow_cache(void *ctx, const char *value, size_t len)
{
	return parse_on_off(value, len, &((struct vireo_options *)ctx)->shadow_cache);
}

static bool set_zap(void *ctx, const char *value, size_t len)
{
	static const struct cmdline_choice zap_ways[] = { { "fast", 1 }, { "slow", 0 } };
	int fast;
	if (!cmdline_pick(value, len, zap_ways, ARRAY_SIZE(zap_ways), &fast))
		return false;
	((struct vireo_options *)ctx)->fast_zap = fast;
	return true;
}

static bool set_shadow_pages(void *ctx, const char *value, size_t len)
{
	u64 pages;
	if (!parse_u64(value, len, &pages) || pages == 0)
		return false;
	((struct vireo_options *)ctx)->shadow_pages = pages;
	return true;
}

#define SLICE_MAX_MS 1000

static bool set_slice(void *ctx, const char *value, size_t len)
{
	u64 ms;
	if (!parse_u64(value, len, &ms) || ms == 0 || ms > SLICE_MAX_MS)
		return false;
	((struct vireo_options *)ctx)->slice_ms = ms;
	return true;
}

static const struct cmdline_choice fast_mmio_lengths[] = {
	{ "auto", FAST_MMIO_LENGTH_AUTO }, { "exit", FAST_MMIO_LENGTH_EXIT },
	{ "decode", FAST_MMIO_LENGTH_DECODE },
};

static bool set_fast_mmio_length(void *ctx, const char *value, size_t len)
{
	struct vireo_options *opts = ctx;
	int choice;
	if (!cmdline_pick(value, len, fast_mmio_lengths, ARRAY_SIZE(fast_mmio_lengths), &choice))
		return false;
	opts->fast_mmio_length = (enum fast_mmio_length)choice;
	return true;
}

static const struct cmdline_option option_table[] = {
	{ "console", "ttyS0-ttyS3, com1-com4, a UART I/O port such as 0x3f8, or none "
		     "(where Vireo's messages go; default ttyS0)", set_console },
	{ "loglevel", "0-3 or err, warn, info, debug "
		      "(the least urgent messages printed; default info)", set_loglevel },
	{ "exit", "halt, bochs, qemu or acpi (how the run ends once every VM has stopped: "
		  "halt the CPU, the Bochs or QEMU debug exit, ACPI power-off; default halt)",
	  set_exit },
	{ "mmio_cache", "on or off (cache MMIO gfns in EPT sptes so repeated accesses skip the "
			"memory-slot search; default on)", set_mmio_cache },
	{ "fast_mmio", "on or off (signal doorbell writes before decoding the instruction; "
		       "default on)", set_fast_mmio },
	{ "fast_mmio_length", "auto, exit or decode (skip a doorbell write by the VM-exit length "
			      "field or by the decoder; auto: the field on hardware, the decoder "
			      "when Vireo itself runs nested; default auto)", set_fast_mmio_length },
	{ "ept", "on or off (off: run every guest on the shadow MMU even when the CPU has EPT; "
		 "CPUs without EPT always use it; default on)", set_ept },
	{ "shadow_cache", "on or off (keep shadow page tables across guest CR3 switches; off "
			  "rebuilds them on every switch, for comparison; default on)",
	  set_shadow_cache },
	{ "shadow_unsync", "on or off (let the guest write its leaf page tables without exits "
			   "until its next TLB flush, which brings their shadows back in sync; off "
			   "emulates every write to a shadowed table; default on)", set_shadow_unsync },
	{ "shadow_pages", "a number of pages (the shadow-page budget of each VM; default 20 "
			  "per 1000 pages of its RAM, at least 64)", set_shadow_pages },
	{ "zap", "fast or slow (how a zap-all drops every page table: fast obsoletes them all "
		 "with one generation bump and frees them in short batches; slow takes them "
		 "apart entry by entry in one go, for comparison; default fast)", set_zap },
	{ "slice", "milliseconds, 1 to 1000 (how long a VM runs before the next one that can "
		   "run gets the CPU; default 10)", set_slice },
	{ "exit_ticks", "on or off (count the TSC ticks Vireo spends on each exit reason, from "
			"the exit to the next entry, and print them with each VM's statistics; "
			"default off)", set_exit_ticks },
};

int options_parse(const char *cmdline)
{
	int problems = cmdline_apply(cmdline, option_table, ARRAY_SIZE(option_table),
				     &vireo_options);

	if (problems)
		options_print_help();
	return problems;
}

void options_print_help(void)
{
	printk("Vireo options, on the multiboot2 command line:\n");
	cmdline_print_help(option_table, ARRAY_SIZE(option_table));
}
