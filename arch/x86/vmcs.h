/* VMCS field encodings (SDM Vol. 3D appendix B) and typed accessors. An encoding carries
 * its width in bits 14:13; vmcs_read16/32/64/nat check it at compile time, so reading a
 * 32-bit field as 64-bit is a build error, not a silent truncation. */
#ifndef VIREO_ARCH_X86_VMCS_H
#define VIREO_ARCH_X86_VMCS_H

#include "lib/types.h"

#define VMCS_WIDTH(field) (((field) >> 13) & 3)
enum { VMCS_WIDTH_16 = 0, VMCS_WIDTH_64 = 1, VMCS_WIDTH_32 = 2, VMCS_WIDTH_NATURAL = 3 };

enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SELECTOR = 0x0800, VMCS_GUEST_CS_SELECTOR = 0x0802,
	VMCS_GUEST_SS_SELECTOR = 0x0804, VMCS_GUEST_DS_SELECTOR = 0x0806,
	VMCS_GUEST_FS_SELECTOR = 0x0808, VMCS_GUEST_GS_SELECTOR = 0x080a,
	VMCS_GUEST_LDTR_SELECTOR = 0x080c, VMCS_GUEST_TR_SELECTOR = 0x080e,
	VMCS_HOST_ES_SELECTOR = 0x0c00, VMCS_HOST_CS_SELECTOR = 0x0c02,
	VMCS_HOST_SS_SELECTOR = 0x0c04, VMCS_HOST_DS_SELECTOR = 0x0c06,
	VMCS_HOST_FS_SELECTOR = 0x0c08, VMCS_HOST_GS_SELECTOR = 0x0c0a,
	VMCS_HOST_TR_SELECTOR = 0x0c0c,
	/* 64-bit */
	VMCS_IO_BITMAP_A = 0x2000, VMCS_IO_BITMAP_B = 0x2002, VMCS_MSR_BITMAP = 0x2004,
	VMCS_EXIT_MSR_STORE_ADDR = 0x2006, VMCS_EXIT_MSR_LOAD_ADDR = 0x2008,
	VMCS_ENTRY_MSR_LOAD_ADDR = 0x200a, VMCS_TSC_OFFSET = 0x2010, VMCS_EPT_POINTER = 0x201a,
	VMCS_GUEST_PHYSICAL_ADDRESS = 0x2400,
	VMCS_LINK_POINTER = 0x2800, VMCS_GUEST_DEBUGCTL = 0x2802, VMCS_GUEST_PAT = 0x2804,
	VMCS_GUEST_EFER = 0x2806, VMCS_GUEST_PDPTE0 = 0x280a, VMCS_GUEST_PDPTE1 = 0x280c,
	VMCS_GUEST_PDPTE2 = 0x280e, VMCS_GUEST_PDPTE3 = 0x2810,
	VMCS_HOST_PAT = 0x2c00, VMCS_HOST_EFER = 0x2c02,
	/* 32-bit */
	VMCS_PIN_CONTROLS = 0x4000, VMCS_PROC_CONTROLS = 0x4002, VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_PF_ERROR_CODE_MASK = 0x4006, VMCS_PF_ERROR_CODE_MATCH = 0x4008,
	VMCS_CR3_TARGET_COUNT = 0x400a, VMCS_EXIT_CONTROLS = 0x400c,
	VMCS_EXIT_MSR_STORE_COUNT = 0x400e, VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
	VMCS_ENTRY_CONTROLS = 0x4012, VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VMCS_ENTRY_INTERRUPTION_INFO = 0x4016, VMCS_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VMCS_ENTRY_INSTRUCTION_LENGTH = 0x401a, VMCS_TPR_THRESHOLD = 0x401c,
	VMCS_PROC_CONTROLS2 = 0x401e,
	VMCS_INSTRUCTION_ERROR = 0x4400, VMCS_EXIT_REASON = 0x4402,
	VMCS_EXIT_INTERRUPTION_INFO = 0x4404, VMCS_EXIT_INTERRUPTION_ERROR_CODE = 0x4406,
	VMCS_IDT_VECTORING_INFO = 0x4408, VMCS_IDT_VECTORING_ERROR_CODE = 0x440a,
	VMCS_EXIT_INSTRUCTION_LENGTH = 0x440c, VMCS_EXIT_INSTRUCTION_INFO = 0x440e,
	VMCS_GUEST_ES_LIMIT = 0x4800, VMCS_GUEST_CS_LIMIT = 0x4802, VMCS_GUEST_SS_LIMIT = 0x4804,
	VMCS_GUEST_DS_LIMIT = 0x4806, VMCS_GUEST_FS_LIMIT = 0x4808, VMCS_GUEST_GS_LIMIT = 0x480a,
	VMCS_GUEST_LDTR_LIMIT = 0x480c, VMCS_GUEST_TR_LIMIT = 0x480e,
	VMCS_GUEST_GDTR_LIMIT = 0x4810, VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814, VMCS_GUEST_CS_AR = 0x4816, VMCS_GUEST_SS_AR = 0x4818,
	VMCS_GUEST_DS_AR = 0x481a, VMCS_GUEST_FS_AR = 0x481c, VMCS_GUEST_GS_AR = 0x481e,
	VMCS_GUEST_LDTR_AR = 0x4820, VMCS_GUEST_TR_AR = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824, VMCS_GUEST_ACTIVITY_STATE = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482a, VMCS_PREEMPTION_TIMER_VALUE = 0x482e,
	VMCS_HOST_SYSENTER_CS = 0x4c00,
	/* natural width */
	VMCS_CR0_GUEST_HOST_MASK = 0x6000, VMCS_CR4_GUEST_HOST_MASK = 0x6002,
	VMCS_CR0_READ_SHADOW = 0x6004, VMCS_CR4_READ_SHADOW = 0x6006,
	VMCS_EXIT_QUALIFICATION = 0x6400, VMCS_GUEST_LINEAR_ADDRESS = 0x640a,
	VMCS_GUEST_CR0 = 0x6800, VMCS_GUEST_CR3 = 0x6802, VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806, VMCS_GUEST_CS_BASE = 0x6808, VMCS_GUEST_SS_BASE = 0x680a,
	VMCS_GUEST_DS_BASE = 0x680c, VMCS_GUEST_FS_BASE = 0x680e, VMCS_GUEST_GS_BASE = 0x6810,
	VMCS_GUEST_LDTR_BASE = 0x6812, VMCS_GUEST_TR_BASE = 0x6814,
	VMCS_GUEST_GDTR_BASE = 0x6816, VMCS_GUEST_IDTR_BASE = 0x6818,
	VMCS_GUEST_DR7 = 0x681a, VMCS_GUEST_RSP = 0x681c, VMCS_GUEST_RIP = 0x681e,
	VMCS_GUEST_RFLAGS = 0x6820, VMCS_GUEST_PENDING_DEBUG = 0x6822,
	VMCS_GUEST_SYSENTER_ESP = 0x6824, VMCS_GUEST_SYSENTER_EIP = 0x6826,
	VMCS_HOST_CR0 = 0x6c00, VMCS_HOST_CR3 = 0x6c02, VMCS_HOST_CR4 = 0x6c04,
	VMCS_HOST_FS_BASE = 0x6c06, VMCS_HOST_GS_BASE = 0x6c08, VMCS_HOST_TR_BASE = 0x6c0a,
	VMCS_HOST_GDTR_BASE = 0x6c0c, VMCS_HOST_IDTR_BASE = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP = 0x6c10, VMCS_HOST_SYSENTER_EIP = 0x6c12,
	VMCS_HOST_RSP = 0x6c14, VMCS_HOST_RIP = 0x6c16,
};

/* The guest-state fields of the six segment registers sit at a stride of 2 in the order of
 * their encoding (ES, CS, SS, DS, FS, GS): code indexes them by segment number. */
#define VMCS_GUEST_SEGMENT_FIELD(es_field, seg) ((u32)(es_field) + 2u * (u32)(seg))
static_assert(VMCS_GUEST_GS_SELECTOR == VMCS_GUEST_ES_SELECTOR + 2 * 5, "selector stride");
static_assert(VMCS_GUEST_GS_BASE == VMCS_GUEST_ES_BASE + 2 * 5, "base stride");
static_assert(VMCS_GUEST_GS_LIMIT == VMCS_GUEST_ES_LIMIT + 2 * 5, "limit stride");
static_assert(VMCS_GUEST_GS_AR == VMCS_GUEST_ES_AR + 2 * 5, "access-rights stride");

/* VMREAD/VMWRITE failures are hypervisor bugs (no current VMCS or a bad field). */
__noreturn void vmcs_access_failed(const char *op, u32 field);

static inline u64 vmcs_read_raw(u32 field)
{
	u64 value;
	bool failed;
	asm volatile("vmread %2, %0" : "=rm"(value), "=@ccbe"(failed) : "r"((u64)field) : "cc");
	if (unlikely(failed))
		vmcs_access_failed("VMREAD", field);
	return value;
}

static inline void vmcs_write_raw(u32 field, u64 value)
{
	bool failed;
	asm volatile("vmwrite %1, %2" : "=@ccbe"(failed) : "rm"(value), "r"((u64)field) : "cc", "memory");
	if (unlikely(failed))
		vmcs_access_failed("VMWRITE", field);
}

#define VMCS_CHECK_WIDTH(field, width) \
	_Static_assert(VMCS_WIDTH(field) == (width), #field " has another width")

#define vmcs_read16(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); (u16)vmcs_read_raw(f); })
#define vmcs_read32(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); (u32)vmcs_read_raw(f); })
#define vmcs_read64(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); vmcs_read_raw(f); })
#define vmcs_readnat(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); vmcs_read_raw(f); })
#define vmcs_write16(f, v) do { VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); vmcs_write_raw(f, (u16)(v)); } while (0)
#define vmcs_write32(f, v) do { VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); vmcs_write_raw(f, (u32)(v)); } while (0)
#define vmcs_write64(f, v) do { VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); vmcs_write_raw(f, (u64)(v)); } while (0)
#define vmcs_writenat(f, v) do { VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); vmcs_write_raw(f, (u64)(v)); } while (0)

#endif
