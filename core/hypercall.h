/* Vireo's hypercall ABI, shared by the hypervisor and guests (plain C, no dependencies).
 *
 * A guest calls with VMCALL (Intel; 0f 01 c1): RAX = hypercall number, arguments in
 * RBX, RCX, RDX, RSI. Outside 64-bit code only EAX, EBX, ECX, EDX, ESI count (the upper
 * halves are ignored) and the result is 32 bits. The result comes back in RAX: >= 0 on
 * success, a negative HC_E* code on error. No other register changes. A bad number or
 * argument only ever returns an error code. Calls from guest user mode (CPL 3) all
 * return -HC_EPERM.
 *
 * Guest addresses passed to hypercalls are guest-physical.
 */
#ifndef VIREO_HYPERCALL_H
#define VIREO_HYPERCALL_H

/* CPUID leaf 0x40000000 names Vireo ("VireoHV"); leaf 0x40000001 EAX says how it runs
 * the VM: */
#define VIREO_CPUID_FEATURES 0x40000001u
#define VIREO_FEATURE_SHADOW_MMU 0x1u	/* the shadow MMU, not EPT: doorbell writes are
					   always decoded (a #PF cannot tell a plain store) */

/* Available to every VM. */
#define HC_CONSOLE_WRITE 1	/* (gpa, length): write bytes to the VM's console; returns length */
#define HC_STATS_DUMP 2		/* (): print the VM's statistics on the console; returns 0 */
#define HC_TEST_EXIT 3		/* (status): stop the VM with this status (0 = success) */
#define HC_STAT_READ 4		/* (counter id, HC_STAT_*): returns the counter's value */

/* Management calls: only for VMs started with the `trusted` module option. */
#define HC_MGMT_FIRST 0x100
#define HC_MEMSLOT_ADD 0x100	/* (gfn, npages, flags HC_SLOT_*): new RAM slot; returns slot id */
#define HC_MEMSLOT_DELETE 0x101	/* (slot id): the gfns become MMIO (no slot) */
#define HC_MEMSLOT_MOVE 0x102	/* (slot id, new gfn) */
#define HC_SET_SWITCH 0x103	/* (switch HC_SWITCH_*, value 0 or 1) */
#define HC_ZAP_ALL 0x104	/* (): drop every spte of the VM now (zap=fast or slow); returns 0 */

#define HC_SLOT_READONLY 1u

#define HC_SWITCH_MMIO_CACHE 1	/* mmio_cache=on|off */
#define HC_SWITCH_FAST_MMIO 2	/* fast_mmio=on|off */
#define HC_SWITCH_SHADOW_CACHE 3	/* shadow_cache=on|off; -HC_EINVAL when the VM runs on EPT */
#define HC_SWITCH_FAST_ZAP 4	/* zap=fast (1) or slow (0) */

/* Counters readable with HC_STAT_READ. */
#define HC_STAT_EXITS 0			/* all VM exits of this VM */
#define HC_STAT_MMIO_SLOW 1		/* MMIO via EPT violation with a slot search */
#define HC_STAT_MMIO_CACHED 2		/* MMIO via a cached MMIO spte (misconfig) */
#define HC_STAT_MMIO_FAST 3		/* doorbell writes on the fast MMIO bus */
#define HC_STAT_MMIO_STALE 4		/* stale-generation MMIO sptes dropped */
#define HC_STAT_EMULATED 5		/* instructions emulated */
#define HC_STAT_TESTDEV_DOORBELL 6	/* doorbell writes the Vireo test device received */
#define HC_STAT_TESTDEV_LAST_VALUE 7	/* value of the last doorbell write */
#define HC_STAT_MMIO_SITE 8		/* of the emulated, MMIO accesses a remembered site served */
#define HC_STAT_COUNT 9
/* The shadow MMU's counters (all 0 when the VM runs on EPT). */
#define HC_STAT_SHADOW_FIRST 0x40
#define HC_STAT_SHADOW_PAGES_CREATED 0x40	/* shadow pages built */
#define HC_STAT_SHADOW_ROOT_LOADS 0x41		/* MOV CR3 and paging-mode changes */
#define HC_STAT_SHADOW_ROOT_HITS 0x42		/* of those, roots found in the cache */
#define HC_STAT_SHADOW_PAGES_UNSHADOWED 0x43	/* guest tables written too often to keep */
#define HC_STAT_SHADOW_WRITE_PROTECT_FAULTS 0x44	/* guest writes to its tables, emulated */
#define HC_STAT_SHADOW_PTES_PREFETCHED 0x45	/* of the entries written, updated in place */
#define HC_STAT_SHADOW_FAULTS_REFLECTED 0x46	/* #PF exits that were the guest's own */
#define HC_STAT_SHADOW_END 0x47

#define HC_STAT_MMU_FIRST 0x50
#define HC_STAT_MMU_ZAP_ALLS 0x50		/* zap-alls, either way */
#define HC_STAT_MMU_OBSOLETE_FREED 0x51	/* pages freed by fast zap-alls */
#define HC_STAT_MMU_ZAP_BATCHES 0x52		/* holds of the MMU lock that freed them */
#define HC_STAT_MMU_LOCK_HOLD_MAX 0x53	/* the longest MMU-lock hold, TSC ticks */
#define HC_STAT_MMU_ROOT_RELOADS 0x54	/* entries that found their root gone */
#define HC_STAT_MMU_PAGES 0x55		/* table pages the MMU holds now */
#define HC_STAT_MMU_LAST_OP_HOLD_MAX 0x56	/* the longest hold in the last zap-all or slot change */
#define HC_STAT_MMU_LAST_OP_TICKS 0x57	/* that whole operation, TSC ticks */
#define HC_STAT_MMU_ZAP_TICKS 0x58		/* all zap-alls' work, TSC ticks */
#define HC_STAT_MMU_END 0x59

/* Error codes (returned negated). */
#define HC_ENOSYS 1	/* no such hypercall */
#define HC_EINVAL 2	/* bad argument */
#define HC_EPERM 3	/* management call from an untrusted VM, or any call from CPL 3 */
#define HC_EFAULT 4	/* a guest address outside the VM's RAM */
#define HC_ENOMEM 5	/* the hypervisor is out of memory */
#define HC_EBUSY 6	/* the range is in use (overlapping slot) */

#endif
