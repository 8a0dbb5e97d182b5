/* Where Vireo puts its own structures in a guest's physical memory: at the top of low RAM,
 * below the EBDA (VDEV_RAM_LOW_END). Guest images load in low RAM below them, from
 * GUEST_LOW_IMAGE_MIN_GPA (real-mode code, boot sectors' 0x7c00 and the like), or at
 * and above GUEST_IMAGE_MIN_GPA, so nothing here is overwritten. */
#ifndef VIREO_VM_LAYOUT_H
#define VIREO_VM_LAYOUT_H

#define GUEST_LOW_IMAGE_MIN_GPA 0x1000ull	/* page 0: the real-mode IVT and BDA */
#define GUEST_PML4_GPA 0x90000ull		/* 64-bit entry: identity map of 4 GiB */
#define GUEST_LOW_IMAGE_END GUEST_PML4_GPA
#define GUEST_PDPT_GPA 0x91000ull
#define GUEST_PD_GPA 0x92000ull			/* four PDs, 0x92000-0x95fff */
#define GUEST_GDT_GPA 0x96000ull
#define GUEST_GDT_BYTES (3 * 8)			/* null, 64-bit code, data */
#define GUEST_BOOT_INFO_GPA 0x97000ull		/* multiboot v1 information block */
/* A bzImage's zero page and command line take the same area (one loader runs per VM). */
#define GUEST_ZERO_PAGE_GPA GUEST_BOOT_INFO_GPA
#define GUEST_CMDLINE_GPA 0x98000ull
#define GUEST_BOOT_INFO_END 0x9f000ull
#define GUEST_IMAGE_MIN_GPA 0x100000ull		/* 1 MiB: below it, the BIOS area and ACPI */
#define GUEST_RAM_MIN_BYTES (2ull << 20)
#define GUEST_RAM_DEFAULT_BYTES (32ull << 20)
#define GUEST_RAM_MAX_BYTES (3ull << 30)	/* below the 32-bit MMIO hole */
/* In the MMIO hole, below the devices: the read-only identity page directory a paging-off
 * guest runs on when the CPU has EPT but no unrestricted guest (vmexit/cr.c). */
#define GUEST_IDENTITY_PD_GPA 0xfffbc000ull

#endif
