/* The host's local APIC: software-disabled at boot. The hypervisor takes no device
 * interrupts (all I/O is polled), so with the APIC and the legacy PICs quiet no interrupt
 * can arrive to make every VM entry exit again. */
#include "arch/x86/cpu.h"
#include "drivers/drivers.h"
#include "lib/phys.h"

#define APIC_BASE_ADDRESS_MASK 0xffffff000ull
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_SVR_OFFSET 0xf0		/* spurious-interrupt vector register (SDM Vol. 3A 11.9) */
#define MSR_X2APIC_SVR 0x80fu
#define APIC_SVR_ENABLE BIT(8)
#define PIC1_DATA 0x21			/* 8259 interrupt mask registers */
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff

static void apic_disable(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		return;
	if (base & APIC_BASE_X2APIC) {
		wrmsr(MSR_X2APIC_SVR, rdmsr(MSR_X2APIC_SVR) & ~APIC_SVR_ENABLE);
		return;
	}
	volatile u32 *svr = phys_to_virt((base & APIC_BASE_ADDRESS_MASK) + APIC_SVR_OFFSET);
	*svr &= ~(u32)APIC_SVR_ENABLE;
}

void host_interrupts_quiesce(void)
{
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	apic_disable();
}
