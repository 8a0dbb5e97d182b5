/* I/O instructions: IN/OUT go to the VM's port bus (unassigned ports read all-ones and
 * ignore writes, as on a PC); INS/OUTS go through the instruction emulator. */
#include "vmexit/handlers.h"

/* Exit qualification for I/O instructions (SDM Vol. 3C table 28-5). */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))

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
		x86_write_register(&vcpu->regs.gpr[X86_RAX], size, value);	/* AL, AX or EAX */
	} else {
		io_bus_write(bus, port, size, vcpu->regs.gpr[X86_RAX] & low_bytes_mask(size));
	}
	finish_by_skipping(vcpu);
}
