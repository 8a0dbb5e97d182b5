/* The C side of every test guest's entry: console, IDT (64-bit), then main(). */
#include "tests/guests/lib/guest.h"

__noreturn void guest_start(u32 loader_magic, u32 mbi_address);

__noreturn void guest_start(u32 loader_magic, u32 mbi_address)
{
	const struct multiboot_info *mbi = NULL;

	serial_init();
#ifdef __x86_64__
	idt_init();
#endif
	/* Plain ELF64 guests come with neither: they run without an information block. */
	if (loader_magic == MB1_LOADER_MAGIC)
		mbi = (const struct multiboot_info *)(uintptr_t)mbi_address;
	else if (loader_magic)
		printf("warning: loader magic %#x is not multiboot's %#x\n", loader_magic,
		       MB1_LOADER_MAGIC);
	if (main(mbi))
		report("main() returned success", false);
	exit_test();
}
