/* Where Vireo puts its own structures in a guest's physical memory, below 1 MiB. Guest
 * images must load at or above GUEST_IMAGE_MIN_GPA so nothing here is overwritten. */
#ifndef VIREO_VM_LAYOUT_H
#define VIREO_VM_LAYOUT_H

#define GUEST_PML4_GPA 0x1000ull		/* 64-bit entry: identity map of 4 GiB */
#define GUEST_PDPT_GPA 0x2000ull
#define GUEST_PD_GPA 0x3000ull			/* four PDs, 0x3000-0x6fff */
#define GUEST_GDT_GPA 0x7000ull
#define GUEST_GDT_BYTES (3 * 8)			/* null, 64-bit code, data */
#define GUEST_BOOT_INFO_GPA 0x8000ull		/* multiboot v1 information block */
/* A bzImage's zero page and command line take the same area (one loader runs per VM). */
#define GUEST_ZERO_PAGE_GPA GUEST_BOOT_INFO_GPA
#define GUEST_CMDLINE_GPA 0x9000ull
#define GUEST_BOOT_INFO_END 0x10000ull
#define GUEST_IMAGE_MIN_GPA 0x100000ull		/* 1 MiB: below it live the ACPI tables */
#define GUEST_RAM_MIN_BYTES (2ull << 20)
#define GUEST_RAM_DEFAULT_BYTES (32ull << 20)
#define GUEST_RAM_MAX_BYTES (3ull << 30)	/* below the 32-bit MMIO hole */
/* In the MMIO hole, below the devices: the read-only identity page directory a paging-off
 * guest runs on when the CPU has EPT but no unrestricted guest (vmexit/cr.c). */
#define GUEST_IDENTITY_PD_GPA 0xfffbc000ull

#endif
