/* The multiboot v1 header of the multiboot test guests: first in the image (guest.ld), so
 * within the first 8 KiB of the file, 4-byte aligned; ELF program headers give the load
 * addresses, so no a.out fields (spec 3.1). */
#include "tests/guests/lib/multiboot.h"

#define MB1_HEADER_FLAGS (MB1_HEADER_PAGE_ALIGN | MB1_HEADER_MEMORY_INFO)

	.section .multiboot, "a"
	.balign 4
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)
