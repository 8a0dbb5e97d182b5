/* VM lifecycle: one VM per multiboot module, created from the module's options (name=,
 * mem=, trusted; the rest of the line is the guest's own command line), all run side by
 * side (vm/sched.c), each torn down when it stops. */
#include "core/layout.h"
#include "drivers/drivers.h"
#include "drivers/vdev.h"
#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mmu/spte.h"
#include "vm/vm_internal.h"
#include "vmexit/vmexit.h"

#define VMS_MAX 16
static struct vm vm_table[VMS_MAX];

static bool set_name(void *ctx, const char *value, size_t len)
{
	struct vm *vm = ctx;
	if (!value || len == 0 || len >= VM_NAME_MAX)
		return false;
	memcpy(vm->name, value, len);
	vm->name[len] = '\0';
	return true;
}

static bool set_mem(void *ctx, const char *value, size_t len)
{
	struct vm *vm = ctx;
	u64 bytes;
	if (!value || !parse_size(value, len, &bytes) || bytes < GUEST_RAM_MIN_BYTES ||
	    bytes > GUEST_RAM_MAX_BYTES || !IS_ALIGNED(bytes, MiB(1)))
		return false;
	vm->ram_bytes = bytes;
	return true;
}

static bool set_trusted(void *ctx, const char *value, size_t len)
{
	struct vm *vm = ctx;
	if (value)
		return false;
	vm->trusted = true;
	return true;
}

#define VM_TIMEOUT_MAX_SECONDS 86400

static bool set_timeout(void *ctx, const char *value, size_t len)
{
	struct vm *vm = ctx;
	u64 seconds;
	if (!parse_u64(value, len, &seconds) || seconds == 0 || seconds > VM_TIMEOUT_MAX_SECONDS)
		return false;
	vm->timeout_seconds = seconds;
	return true;
}

static const struct cmdline_option module_options[] = {
	{ "name", "a name of 1-15 characters (the guest's output prefix; default vmN)", set_name },
	{ "mem", "RAM size, whole MiB, 2M to 3G (default 32M)", set_mem },
	{ "trusted", "(bare word: the VM may use management hypercalls)", set_trusted },
	{ "timeout", "seconds, 1 to 86400 (the VM is stopped once it has existed that long; "
		     "default none)", set_timeout },
};

/*
 * Guest RAM from whatever host blocks are free: for each gpa, the largest naturally aligned
 * block that fits there, or, when none that large is free, the largest smaller one that
 * is; so 2M and 1G EPT pages stay wherever the host has such blocks free. Blocks that are
 * contiguous in host memory too share one memory slot. Every block is zeroed.
 */
struct ram_run {
	u64 gpa, hpa, bytes;	/* a contiguous gpa -> hpa run not yet made a slot */
};

static const char *add_ram_slot(struct vm *vm, const struct ram_run *run)
{
	if (!run->bytes)
		return NULL;
	if (vm->mmu.memslots.count == MEMSLOTS_MAX)
		return "host memory is too fragmented for its RAM (one memory slot per piece): "
		       "give it a smaller mem=";
	if (memslot_add(&vm->mmu, gpa_to_gfn(run->gpa), run->bytes >> PAGE_SHIFT, run->hpa,
			MEMSLOT_BOOT_RAM, NULL))
		return "its memory slots could not be set up";
	return NULL;
}

/* Frees [hpa, hpa + bytes), which whole buddy blocks cover. */
static void free_blocks(u64 hpa, u64 bytes)
{
	for (u64 end = hpa + bytes; hpa < end;) {
		unsigned order = page_block_order(hpa);
		page_free(hpa, order);
		hpa += PAGE_SIZE << order;
	}
}

/* The largest free block of at most 2^order pages, zeroed; its order in *got. */
static u64 alloc_largest_block(unsigned order, unsigned *got)
{
	for (;; order--) {
		u64 hpa = page_alloc_zeroed(order);
		if (hpa || !order) {
			*got = order;
			return hpa;
		}
	}
}

static const char *allocate_ram(struct vm *vm)
{
	static char refusal[128];	/* printed by vm_create() before the next VM is made */
	u64 free_before = page_alloc_free_pages() << PAGE_SHIFT;
	if (vm->ram_bytes > free_before) {
		snprintf(refusal, sizeof(refusal), "its %llu MiB of RAM do not fit in the %llu "
			 "MiB of free host memory: give it a smaller mem=",
			 (unsigned long long)(vm->ram_bytes >> 20),
			 (unsigned long long)(free_before >> 20));
		return refusal;
	}
	struct ram_run run = { 0 };
	const char *error = NULL;
	for (u64 gpa = 0; gpa < vm->ram_bytes;) {
		unsigned order = MIN(PAGE_ORDER_MAX, floor_log2((vm->ram_bytes - gpa) >> PAGE_SHIFT));
		while (order && !IS_ALIGNED(gpa, PAGE_SIZE << order))
			order--;
		u64 hpa = alloc_largest_block(order, &order);
		if (!hpa) {
			error = "host memory ran out while its RAM was allocated: give it a smaller mem=";
			break;
		}
		u64 bytes = PAGE_SIZE << order;
		if (run.bytes && run.hpa + run.bytes == hpa) {
			run.bytes += bytes;
		} else {
			error = add_ram_slot(vm, &run);
			if (error) {
				page_free(hpa, order);
				break;
			}
			run = (struct ram_run){ gpa, hpa, bytes };
		}
		gpa += bytes;
	}
	if (!error)
		error = add_ram_slot(vm, &run);
	if (error)		/* the run no slot holds: vm_destroy() frees slots only */
		free_blocks(run.hpa, run.bytes);
	return error;
}

/* Boot RAM and the slots hypercalls added own their backing; the identity PD does not. */
static void free_ram(struct vm *vm)
{
	const struct memslots *slots = &vm->mmu.memslots;
	for (size_t i = 0; i < slots->count; i++) {
		const struct memslot *slot = &slots->slots[i];
		if (slot->flags & MEMSLOT_BOOT_RAM)
			free_blocks(slot->hpa, slot->npages << PAGE_SHIFT);
		else if (slot->flags & MEMSLOT_DYNAMIC)
			page_free(slot->hpa, page_order_for_size(slot->npages << PAGE_SHIFT));
	}
}

static void vm_destroy(struct vm *vm)
{
	vcpu_destroy(&vm->vcpu);	/* first: it lets go of its shadow roots */
	vdev_platform_destroy(vm);
	mmu_destroy(&vm->mmu);
	free_ram(vm);
}

/* The identity map's page directory (vmexit/cr.c): 1024 4-MiB pages over 4 GiB, present,
 * writable, user, accessed and dirty (so the CPU never writes it). One page, the same
 * for every VM, mapped read-only at GUEST_IDENTITY_PD_GPA of each. */
#define IDENTITY_PDE_FLAGS 0xe7u	/* P, RW, US, A, D, PS */
static u32 identity_pd[PAGE_SIZE / sizeof(u32)] __aligned(PAGE_SIZE);

static const char *map_identity_pd(struct vm *vm)
{
	if (!cr_forced.identity_map)
		return NULL;
	if (!identity_pd[0])
		for (u32 i = 0; i < ARRAY_SIZE(identity_pd); i++)
			identity_pd[i] = i << 22 | IDENTITY_PDE_FLAGS;
	if (memslot_add(&vm->mmu, gpa_to_gfn(GUEST_IDENTITY_PD_GPA), 1, virt_to_phys(identity_pd),
			MEMSLOT_READONLY, NULL))
		return "its identity page directory could not be mapped";
	return NULL;
}

static const char *build_vm(struct vm *vm, const struct guest_module *module,
			    const struct guest_module *initrd)
{
	const char *error = vm_defaults.shadow_paging ?
		mmu_shadow_init(&vm->mmu, vm_defaults.shadow_pages ? vm_defaults.shadow_pages :
				mmu_shadow_default_pages(vm->ram_bytes), vm_defaults.shadow_cache,
				host_cpu.phys_addr_bits) :
		mmu_ept_init(&vm->mmu, vmx_caps.ept_vpid & EPT_CAP_2M_PAGES,
			     mmu_ept_default_pages(vm->ram_bytes));
	vm->mmu.mmio_cache = vm_defaults.mmio_cache && spte_mmio_supported();
	vm->mmu.zap_slow = !vm_defaults.fast_zap;
	if (!error && vm_defaults.shadow_paging)
		mmu_shadow_set_unsync(&vm->mmu, vm_defaults.shadow_unsync);
	vm->fast_mmio = vm_defaults.fast_mmio;
	if (!error)
		error = allocate_ram(vm);
	if (!error)
		error = map_identity_pd(vm);
	if (!error)
		error = vdev_platform_create(vm);
	struct guest_entry entry;
	if (!error)
		error = guest_load_image(vm, module->image, module->size, vm->cmdline,
					 initrd ? initrd->image : NULL, initrd ? initrd->size : 0,
					 &entry);
	if (!error)
		error = vcpu_create(&vm->vcpu, vm, &entry);
	return error;
}

static void parse_module_line(struct vm *vm, const char *line)
{
	const char *rest;
	cmdline_split_known(line, module_options, ARRAY_SIZE(module_options), vm, &rest);
	str_copy(vm->cmdline, rest, sizeof(vm->cmdline));
}

/* Creates the VM for one module; on failure says why, leaves nothing behind, and
 * returns NULL. */
static struct vm *vm_create(const struct guest_module *module,
			    const struct guest_module *initrd, unsigned id)
{
	struct vm *vm = &vm_table[id];
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	snprintf(vm->name, sizeof(vm->name), "vm%u", vm->id);
	vm->ram_bytes = GUEST_RAM_DEFAULT_BYTES;
	parse_module_line(vm, module->line);
	const char *error = build_vm(vm, module, initrd);
	if (error) {
		pr_err("vm %s: cannot start: %s\n", vm->name, error);
		vm_destroy(vm);
		return NULL;
	}
	vm->end_tsc = vm->timeout_seconds ? rdtsc() + vm->timeout_seconds * tsc_hz : VTIMER_IDLE;
	pr_info("vm %s: created: %llu MiB RAM%s, command line \"%s\"\n", vm->name,
		(unsigned long long)(vm->ram_bytes >> 20), vm->trusted ? ", trusted" : "",
		vm->cmdline);
	return vm;
}

static bool all_ok;

static bool is_initrd(const struct guest_module *module)
{
	return strcmp(module->line, "initrd") == 0;
}

static void vm_ended(struct vm *vm)
{
	vuart_flush(vm);	/* the guest's unfinished line before the report */
	printk("vm %s: stopped: %s\n", vm->name, vm->stop_reason);
	vm_print_stats(vm);
	printk("vm %s: exit status %d\n", vm->name, vm->exit_status);
	all_ok &= vm->exit_status == 0;
	vm_destroy(vm);
}

bool vms_run(const struct guest_module *modules, size_t count)
{
	struct vm *vms[VMS_MAX];
	all_ok = true;
	if (count == 0)
		pr_info("vireo: no guest modules given: nothing to run\n");
	size_t nvms = 0;
	for (size_t i = 0; i < count; i++) {
		if (is_initrd(&modules[i])) {
			pr_err("vireo: module %zu is an initrd with no kernel module before it: "
			       "put its line right after its kernel's\n", i);
			all_ok = false;
			continue;
		}
		if (nvms == VMS_MAX) {
			pr_err("vireo: at most %d VMs run at once: module %zu and those after it "
			       "are not started\n", VMS_MAX, i);
			all_ok = false;
			break;
		}
		const struct guest_module *initrd = i + 1 < count && is_initrd(&modules[i + 1]) ?
						    &modules[i + 1] : NULL;
		vms[nvms] = vm_create(&modules[i], initrd, (unsigned)nvms);
		all_ok &= vms[nvms++] != NULL;
		i += initrd != NULL;
	}
	sched_run(vms, nvms, vm_ended);
	return all_ok;
}
