/* I/O instructions: IN/OUT go to the VM's port bus (unassigned ports read all-ones and
 * ignore writes, as on a PC); INS/OUTS go through the instruction emulator. */
#include "vmexit/handlers.h"

/* Exit qualification for I/O instructions (SDM Vol. 3C table 28-5). */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))

/* IN writes AL/AX/EAX; a 32-bit write zero-extends into RAX (SDM Vol. 1 3.4.1.1). */
static void set_accumulator(u64 *rax, unsigned size, u64 value)
{
	if (size == 4)
		*rax = (u32)value;
	else if (size == 2)
		*rax = (*rax & ~0xffffull) | (value & 0xffff);
	else
		*rax = (*rax & ~0xffull) | (value & 0xff);
}

void handle_io(struct vcpu *vcpu)
{
	u64 q = exit_qualification(vcpu);
	if (q & IO_QUAL_STRING) {
		emulate_instruction(vcpu);
		return;
	}
	unsigned size = IO_QUAL_SIZE(q);
	u16 port = IO_QUAL_PORT(q);
	struct io_bus *bus = &vcpu->vm->pio_bus;
	if (q & IO_QUAL_IN) {
		u64 value;
		io_bus_read(bus, port, size, &value);
		set_accumulator(&vcpu->regs.gpr[X86_RAX], size, value);
	} else {
		io_bus_write(bus, port, size, vcpu->regs.gpr[X86_RAX] & ((1ull << (8 * size)) - 1));
	}
	finish_by_skipping(vcpu);
}
