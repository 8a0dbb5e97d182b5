/* The smallest multiboot v1 guest, for images Vireo must refuse (tests/guests/guests.mk):
 * built at an absurd load address, or with -DBAD_CHECKSUM. Should it ever run, it says so
 * and stops with status 1. */
#include "tests/guests/lib/multiboot.h"
#include "tests/guests/lib/x86.h"

#define FLAGS MB1_HEADER_MEMORY_INFO
#ifdef BAD_CHECKSUM
#define CHECKSUM (-(MB1_HEADER_MAGIC + FLAGS) + 1)
#else
#define CHECKSUM (-(MB1_HEADER_MAGIC + FLAGS))
#endif
#define UART_LSR 5
#define UART_LSR_THRE 0x20

	.section .multiboot, "a"
	.balign 4
	.long MB1_HEADER_MAGIC
	.long FLAGS
	.long CHECKSUM

	.text
	.code32
	.global guest_entry
guest_entry:
	mov $message, %esi
1:	movb (%esi), %bl
	test %bl, %bl
	jz 3f
2:	mov $(COM1_PORT + UART_LSR), %dx
	inb %dx, %al
	test $UART_LSR_THRE, %al
	jz 2b
	mov $COM1_PORT, %dx
	mov %bl, %al
	outb %al, %dx
	inc %esi
	jmp 1b
3:	mov $1, %eax
	outl %eax, $DEBUG_EXIT_PORT
4:	cli
	hlt
	jmp 4b

	.section .rodata
message:
	.asciz "FAIL: an image that must be refused was run\n"
