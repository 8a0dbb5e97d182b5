/* realmode: a 32-bit multiboot guest linked at 0x8000 (below 1 MiB, which Vireo loads into
 * the VM's low RAM) that switches itself to real mode and back (lib/realmode.S). With
 * unrestricted guest the CPU runs the real-mode code; without it Vireo stops the VM with a
 * line naming the missing feature. */
#include "tests/guests/lib/guest.h"

extern u32 realmode_round_trip(void);
extern volatile u16 realmode_marker;

int main(const struct multiboot_info *mbi)
{
	extern char guest_entry[];
	reportf((uintptr_t)guest_entry < 0x100000, "the image runs where it is linked, below "
		"1 MiB (entry %#lx)", (unsigned long)(uintptr_t)guest_entry);
	u32 msw = realmode_round_trip();
	reportf(!(msw & 1), "real mode: the machine status word reads PE = 0 (%#x)", msw);
	reportf(realmode_marker == 0x5a5a, "real mode: a store through ES = segment * 16 reached "
		"its linear address (%#x)", realmode_marker);
	u32 cr0;
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	reportf(cr0 & 1, "back in protected mode (CR0 %#x)", cr0);
	exit_test();
}
