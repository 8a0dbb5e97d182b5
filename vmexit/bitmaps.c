/* Exit-handling state shared by every VM, set up once: the MSR and I/O bitmaps (every port
 * exits: the platform is emulated; MSRs exit unless msr.c lets them through) and the
 * CR0/CR4 bits VMX forces. */
#include "lib/page_alloc.h"
#include "lib/phys.h"
#include "lib/string.h"
#include "vmexit/handlers.h"

static u64 msr_bitmap_hpa, io_bitmap_a_hpa, io_bitmap_b_hpa;

const char *vmexit_init(void)
{
	msr_bitmap_hpa = page_alloc(0);
	io_bitmap_a_hpa = page_alloc(0);
	io_bitmap_b_hpa = page_alloc(0);
	if (!msr_bitmap_hpa || !io_bitmap_a_hpa || !io_bitmap_b_hpa)
		return "no memory for the MSR and I/O bitmaps";
	msr_bitmap_init(phys_to_virt(msr_bitmap_hpa));
	cr_masks_init();
	memset(phys_to_virt(io_bitmap_a_hpa), 0xff, PAGE_SIZE);
	memset(phys_to_virt(io_bitmap_b_hpa), 0xff, PAGE_SIZE);
	return NULL;
}

void vmexit_write_bitmaps(void)
{
	vmcs_write64(VMCS_MSR_BITMAP, msr_bitmap_hpa);
	vmcs_write64(VMCS_IO_BITMAP_A, io_bitmap_a_hpa);
	vmcs_write64(VMCS_IO_BITMAP_B, io_bitmap_b_hpa);
}
