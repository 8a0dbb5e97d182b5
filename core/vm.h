/* VMs and vCPUs: the objects every exit handler and device model works on, and what they
 * may do to a VM from below the run loop: access its RAM, print for it, stop it. */
#ifndef VIREO_CORE_VM_H
#define VIREO_CORE_VM_H

#include "arch/x86/emulate.h"
#include "arch/x86/vmx.h"
#include "arch/x86/x86.h"
#include "core/bus.h"
#include "core/hypercall.h"
#include "lib/types.h"
#include "mmu/mmu.h"
#include "mmu/walk_cache.h"

#define VM_NAME_MAX 16
#define VM_CMDLINE_MAX 256
#define VM_STOP_REASON_MAX 160
/* Emulated-instruction counts by opcode: one-byte opcodes at 0x00-0xff, 0f-escaped
 * two-byte opcodes at 0x100-0x1ff. */
#define EMULATED_OPCODE_SLOTS 512

enum vm_state { VM_RUNNING, VM_STOPPED };

/* The device timers of a VM (drivers/vdev.h, struct vtimer). */
#define VM_TIMERS_MAX 8
struct vtimer;
struct vm_timers {
	struct vtimer *timer[VM_TIMERS_MAX];
	unsigned count;
	/* No armed timer expires before it (VTIMER_IDLE: none is armed); a cancelled timer
	 * may leave it early, which only costs a look at the timers. */
	u64 earliest;
};

/* The exit status of a VM stopped for something its guest did wrong (a triple fault, an
 * unhandled exit...), as opposed to a status the guest chose (debug exit, hypercall). */
#define VM_STATUS_FAULT 255

/* Settings every new VM starts with (the hypervisor's command line sets them). */
struct vm_defaults {
	bool mmio_cache;	/* mmio_cache=on|off */
	bool fast_mmio;		/* fast_mmio=on|off */
	bool shadow_paging;	/* no EPT (or ept=off): every VM runs on the shadow MMU */
	bool shadow_cache;	/* shadow_cache=on|off */
	bool shadow_unsync;	/* shadow_unsync=on|off */
	bool fast_zap;		/* zap=fast|slow */
	u64 shadow_pages;	/* shadow_pages=; 0: from the VM's RAM */
	u64 slice_ms;		/* slice=: the scheduler's time slice */
	bool exit_ticks;	/* exit_ticks=on|off */
};
extern struct vm_defaults vm_defaults;

/* vcpu->requests: the interrupt sources changed (a line, a mask, an EOI, a window
 * opened): decide again what to inject. */
#define VCPU_REQ_EVENTS BIT(0)

/* An exception or interrupt waiting to be injected at the next VM entry. */
struct pending_event {
	bool valid;
	u8 vector;
	bool has_error_code;
	u32 error_code;
	u32 type;		/* INTR_TYPE_* */
	u32 instruction_length;	/* software interrupts and exceptions: INT n, INT3, INTO */
	u64 cr2;		/* for #PF */
};

/* Per-exit information, read lazily from the VMCS: each field at most once per exit.
 * `have` holds EXIT_HAVE_* bits, so resetting it for a new exit is one store. */
#define EXIT_HAVE_QUALIFICATION BIT(0)
#define EXIT_HAVE_INSTRUCTION_LENGTH BIT(1)
#define EXIT_HAVE_RIP BIT(2)
struct exit_info {
	u8 have;
	u32 instruction_length;
	u64 qualification;
	u64 rip;
};

/*
 * An MMIO site: a plain MOV to or from MMIO this vCPU emulated, kept so the next exit at
 * the same RIP can skip the generic emulator (vmexit/emulate.c). Trusted only while RIP
 * and the CPU mode match, the instruction bytes, reached through a validated walk, are
 * unchanged, and its data address, computed again from the registers, provably made the
 * exit (emulate_mmio_site()).
 */
enum mmio_site_kind { MMIO_SITE_STORE_REGISTER, MMIO_SITE_STORE_IMMEDIATE, MMIO_SITE_LOAD };
#define MMIO_SITES_SHIFT 4
#define MMIO_SITES (1u << MMIO_SITES_SHIFT)	/* a driver's loop touches a few registers */
struct mmio_site {
	bool valid;
	u8 kind;		/* enum mmio_site_kind */
	u8 length, size, reg;
	u16 opcode_slot;	/* for the per-opcode statistics */
	u8 entries;		/* guest paging entries kept in entry[]/value[] (0: paging off) */
	bool data_walk_known;	/* entry[] holds the data page's walk too */
	bool paging;		/* the guest's CR0.PG */
	bool long_mode;		/* 64-bit code: linear addresses are not truncated */
	/* The data address: base, index (X86_REG_NONE if absent), scale, address size in
	 * bytes, and the VMCS field of the segment's base (0 where it is 0: 64-bit code, not
	 * FS or GS). */
	u8 mem_base, mem_index, mem_scale, address_size;
	u16 segment_base_field;
	u32 cs_ar;
	u64 rip, next_rip, disp;
	u64 imm;		/* a store's immediate, in size bytes */
	u64 size_mask;		/* low_bytes_mask(size) */
	/* The VMCS's CR0, CR3 and CR4 and the vCPU's read shadows when remembered: with them
	 * unchanged the guest's view of its control registers is too. */
	u64 cr0, cr3, cr4, cr0_shadow, cr4_shadow;
	u64 generation;		/* memory slots the host pointers below were made for */
	const u8 *code;		/* the instruction in host memory */
	/* The data page's walk when paging is on: linear page -> gpa page. */
	u64 data_linear_page, data_gpa_page;
	/* The entries of the code page's walk and of the data page's, each once (the two
	 * share their top levels), with the values they held (as in walk_cache). */
	const u64 *entry[2 * GUEST_WALK_MAX_LEVELS];
	u64 value[2 * GUEST_WALK_MAX_LEVELS];
	u8 bytes[X86_MAX_INSN_LEN];
} __aligned(64);	/* whole cache lines; indexing by the RIP hash stays a few shifts */

/* The MSRs vmexit/msr.c keeps for each vCPU (their rules are there). */
#define VCPU_MCA_BANKS 2
struct vcpu_msrs {
	u64 misc_enable;	/* IA32_MISC_ENABLE */
	u64 mtrr_def_type;	/* IA32_MTRR_DEF_TYPE */
	u64 mcg_status;		/* IA32_MCG_STATUS */
	u64 mc_ctl[VCPU_MCA_BANKS];	/* IA32_MCi_CTL */
};

struct vcpu {
	/* First, for vmx_enter(): GPRs in x86 register-number order. The VMCS holds the
	 * live RSP, RIP and RFLAGS; regs.rip/rflags/gpr[X86_RSP] are synced only around
	 * instruction emulation. */
	struct x86_regs regs;
	struct vm *vm;
	u64 vmcs_hpa;
	bool launched;
	struct exit_info exit;
	struct pending_event pending;
	/* The CR0/CR4 read shadows: the guest's view of the bits Vireo owns (the guest/host
	 * masks). The other bits change without exits: the guest's full view comes from
	 * vcpu_guest_cr0()/cr4(). */
	u64 cr0_shadow, cr4_shadow;
	u64 efer;		/* the guest's view; the CPU's is derived (vcpu_write_efer()) */
	u64 cr3_paging_off;	/* the guest's CR3 while it runs on the identity map */
	u64 apic_base;
	u64 pat;
	u64 tsc_offset;
	struct vcpu_msrs msrs;
	/* Interrupt and timer state that asks for work before the next entry: VCPU_REQ_*
	 * bits, so the entry path tests one word. */
	u32 requests;
	bool halted;		/* in HLT, until an interrupt or NMI can be delivered */
	bool boosted;		/* a timer gave it an interrupt: the scheduler runs it next */
	bool nmi_pending;
	/* The CPU's blocking by NMI may be another vCPU's (Bochs 2.7, vm/run.c): a set
	 * NMI-blocking bit is not this vCPU's own until it takes an NMI. */
	bool nmi_blocking_inherited;
	u32 proc_controls;	/* what VMCS_PROC_CONTROLS holds (window exiting toggles) */
	u64 slice_end;		/* host TSC at which the scheduler takes the CPU back */
	bool slice_bounded;	/* the run is bounded by slice_end already (vm/run.c) */
	struct unswitched_state unswitched;	/* while another vCPU holds the CPU */
	struct mmu_vcpu mmu;		/* per-vCPU MMU state (last memslot hit, ...) */
	struct walk_cache walk_cache[2];	/* the emulator's last walks: [0] data, [1] fetch */
	struct x86_emu_ctxt emulator;		/* its decode cache lives across exits */
	/* The last REP string store into a page table left to the guest (vmexit/emulate.c):
	 * the same one faulting again (its table was shadowed again) is emulated. */
	struct table_write_retry { u64 rip, gpa; } table_write_retry;
	struct mmio_site mmio_sites[MMIO_SITES];	/* indexed by a hash of RIP */
};

struct vm_stats {
	u64 exits[EXIT_REASON_COUNT];
	u64 exit_ticks[EXIT_REASON_COUNT];	/* exit_ticks=on: exit to next entry */
	u64 guest_ticks;			/* exit_ticks=on: entry to exit */
	u64 counters[HC_STAT_COUNT];
	u64 emulated_by_opcode[EMULATED_OPCODE_SLOTS];
};

struct vm {
	char name[VM_NAME_MAX];
	unsigned id;
	bool trusted;
	u64 timeout_seconds;		/* timeout= (0: none) */
	u64 end_tsc;			/* host TSC at which the timeout stops it, or VTIMER_IDLE */
	enum vm_state state;
	int exit_status;		/* 0 = success */
	char stop_reason[VM_STOP_REASON_MAX];	/* what vm_stop() was told */
	char cmdline[VM_CMDLINE_MAX];
	u64 ram_bytes;
	struct mmu mmu;			/* memory slots, EPT, MMIO sptes */
	struct io_bus pio_bus, mmio_bus;
	struct fast_mmio_bus fast_mmio_bus;
	bool fast_mmio;			/* fast_mmio= switch: doorbells skip decoding */
	struct vm_devices *devices;	/* the virtual platform (drivers/vdev.h) */
	struct vm_timers timers;	/* its devices' timers */
	struct vcpu vcpu;		/* one vCPU per VM */
	struct vm_stats stats;
};

/* Stops the VM: the run loop leaves it at the next exit and the hypervisor goes on with
 * the next VM. The first stop counts: its reason is printed as "vm NAME: stopped: <why>"
 * when the VM is reported ended (vm/vm.c, after the guest's unfinished console line). */
void vm_stop(struct vm *vm, int status, const char *fmt, ...) __printf(3, 4);

/* Guest-physical memory access for devices and hypercalls. Return false if any byte of
 * [gpa, gpa + len) is not guest RAM. */
bool vm_read_gpa(struct vm *vm, u64 gpa, void *buf, size_t len);
bool vm_write_gpa(struct vm *vm, u64 gpa, const void *buf, size_t len);
/* Host pointer for [gpa, gpa + len) when it lies within one RAM slot, else NULL. */
void *vm_gpa_to_hva(struct vm *vm, u64 gpa, size_t len);
/* Guest RAM written by Vireo: the shadow MMU drops what it derived from it. */
static inline void vcpu_wrote_guest_ram(struct vm *vm, u64 gpa, u64 len)
{
	if (unlikely(vm->mmu.shadow.enabled))
		mmu_shadow_guest_wrote(&vm->mmu, gpa, len);
}

/* Prints "NAME: " then the formatted line on the host console. */
void vm_printk(const struct vm *vm, const char *fmt, ...) __printf(2, 3);
/* Guest text for the console: each line prefixed by the VM's name. */
void vm_console_write(const struct vm *vm, const char *text, size_t len);
/* The start of a line the guest has not ended (a prompt): shown now, without a newline;
 * the VM's next text continues it. */
void vm_console_partial(const struct vm *vm, const char *text, size_t len);

#endif
