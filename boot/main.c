/* main(): from the loader's information to running guests, in the order of the design's
 * data flow: boot info, console, CPU tables, memory, VMX, one VM per module. */
#include <stdarg.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vmx.h"
#include "arch/x86/x86.h"
#include "boot/boot.h"
#include "boot/options.h"
#include "drivers/drivers.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/phys.h"
#include "lib/printf.h"
#include "mmu/spte.h"
#include "vm/vm.h"
#include "vmexit/vmexit.h"

#define COM1_PORT 0x3f8

static struct boot_info boot_info;

void arch_halt_after_panic(void)
{
	machine_exit(vireo_options.exit, false);
}

void boot_fail(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printk("vireo: %s\n", line);
	machine_exit(vireo_options.exit, false);
}

static void console_and_options_init(void)
{
	if (vireo_options.console_port != COM1_PORT)
		uart_console_init(vireo_options.console_port);
	log_level = vireo_options.loglevel;
}

/* Copies the options that shape every VM to where vm/ and vmexit/ read them. */
static void apply_vm_options(void)
{
	const struct vireo_options *o = &vireo_options;
	vm_defaults.mmio_cache = o->mmio_cache;
	vm_defaults.fast_mmio = o->fast_mmio;
	vm_defaults.shadow_cache = o->shadow_cache;
	vm_defaults.shadow_unsync = o->shadow_unsync;
	vm_defaults.fast_zap = o->fast_zap;
	vm_defaults.shadow_pages = o->shadow_pages;
	vm_defaults.slice_ms = o->slice_ms;
	vm_defaults.exit_ticks = o->exit_ticks;
	/* The VM-exit instruction length is reliable for EPT exits on hardware; a hypervisor
	 * running Vireo nested may leave it unset, so nested Vireo decodes instead. */
	bool nested = cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR;
	fast_mmio_use_exit_length = o->fast_mmio_length == FAST_MMIO_LENGTH_EXIT ||
				    (o->fast_mmio_length == FAST_MMIO_LENGTH_AUTO && !nested);
}

/* EPT when the CPU has it and ept=off does not say otherwise, else the shadow MMU, which
 * runs without EPT's companions (unrestricted guest needs EPT). */
static void mmu_mode_init(void)
{
	bool has_ept = vmx_controls.proc2 & SECONDARY_EPT;
	vm_defaults.shadow_paging = !has_ept || !vireo_options.ept;
	if (!vm_defaults.shadow_paging) {
		spte_format_init(SPTE_FORMAT_EPT, host_cpu.phys_addr_bits);
		printk("mmu: EPT\n");
		return;
	}
	vmx_controls.proc2 &= ~(u32)(SECONDARY_EPT | SECONDARY_UNRESTRICTED_GUEST);
	bool mmio = spte_format_init(SPTE_FORMAT_SHADOW, host_cpu.phys_addr_bits);
	printk("mmu: shadow paging (%s)%s\n", has_ept ? "ept=off" : "this CPU has no EPT",
	       mmio ? "" : "; MAXPHYADDR 52 leaves no reserved bit: MMIO is not cached");
}

static void vmx_init(void)
{
	const char *error = vmx_probe();
	if (error)
		boot_fail("%s", error);
	vmx_caps_print();
	error = vmx_controls_init();
	if (error)
		boot_fail("this CPU's VMX lacks %s, which Vireo needs", error);
	mmu_mode_init();
	error = vmx_enable();
	if (!error)
		error = vmexit_init();
	if (error)
		boot_fail("%s", error);
}

static bool run_guests(const struct boot_info *bi)
{
	static struct guest_module modules[BOOTINFO_MAX_MODULES];
	for (size_t i = 0; i < bi->nmodules; i++)
		modules[i] = (struct guest_module){
			.image = phys_to_virt(bi->modules[i].start_hpa),
			.size = bi->modules[i].end_hpa - bi->modules[i].start_hpa,
			.line = bi->modules[i].string,
		};
	return vms_run(modules, bi->nmodules);
}

void main(u64 mbi_hpa)
{
	uart_console_init(COM1_PORT);
	const char *error = bootinfo_parse(phys_to_virt(mbi_hpa), mbi_hpa, &boot_info);
	if (error)
		boot_fail("bad boot information from the loader: %s", error);
	options_parse(boot_info.cmdline);
	console_and_options_init();
	printk("Vireo %s: x86-64 microhypervisor, loaded by %s\n", VIREO_VERSION,
	       boot_info.loader_name[0] ? boot_info.loader_name : "an unnamed loader");
	cpu_tables_init();
	host_cpu_probe();
	memory_init(&boot_info);
	bootinfo_print(&boot_info);
	acpi_set_rsdp(boot_info.rsdp);
	host_interrupts_quiesce();
	tsc_calibrate();
	vmx_init();
	run_bounds_init();
	apply_vm_options();
	bool all_ok = run_guests(&boot_info);
	printk("vireo: all VMs have stopped%s\n", all_ok ? "" : "; at least one failed");
	machine_exit(vireo_options.exit, all_ok);
}
