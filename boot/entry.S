/* Multiboot2 header and the 32-bit entry: checks that a multiboot2 loader started us on a
 * 64-bit CPU, identity-maps the first 4 GiB with 2 MiB pages, enters long mode, calls main().
 * main() then replaces these boot page tables with the real host page tables. */

#define MB2_HEADER_MAGIC 0xE85250D6	/* Multiboot2 spec 3.1.1 */
#define MB2_ARCH_I386 0
#define MB2_BOOTLOADER_MAGIC 0x36D76289	/* value in EAX at entry, spec 3.3 */
#define COM1 0x3f8
#define PTE_PRESENT_WRITABLE 0x3
#define PDE_LARGE 0x80
#define CR4_PAE (1 << 5)
#define CR0_PG_WP ((1 << 31) | (1 << 16))
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define BOOT_STACK_SIZE 16384

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8		/* end tag: type 0, flags 0, size 8 */
	.short 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	mov %eax, %ebp			/* loader magic */
	mov %ebx, %esi			/* multiboot2 information, kept in esi */
	cmp $MB2_BOOTLOADER_MAGIC, %ebp
	jne not_multiboot2

	/* Zero .bss before using the page tables and stack that live there. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov $boot_stack_top, %esp

	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode

	call build_boot_page_tables
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG_WP, %eax
	mov %eax, %cr0
	lgdt boot_gdt_descriptor
	ljmp $0x08, $long_mode_entry

/* PML4[0] -> PDPT; PDPT[i] -> PD i (i < 4); each PD maps 1 GiB with 2 MiB pages. */
build_boot_page_tables:
	mov $boot_pdpt, %eax
	or $PTE_PRESENT_WRITABLE, %eax
	mov %eax, boot_pml4
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $PTE_PRESENT_WRITABLE, %eax
	mov %eax, boot_pdpt(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 1b
	xor %ecx, %ecx			/* 2048 PDEs: entry i maps i * 2 MiB */
2:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_PRESENT_WRITABLE | PDE_LARGE), %eax
	mov %ecx, %edx
	shr $9, %edx			/* high dword: address bits 32-33 */
	mov %eax, boot_pd(, %ecx, 8)
	mov %edx, boot_pd + 4(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b
	ret

not_multiboot2:
	mov $msg_not_multiboot2, %esi
	jmp early_fail
no_long_mode:
	mov $msg_no_long_mode, %esi
/* Prints the string at esi on COM1 (no init: the loader left it usable) and halts. */
early_fail:
	mov $COM1 + 5, %dx
1:	inb %dx, %al
	test $0x20, %al
	jz 1b
	lodsb
	test %al, %al
	jz 2f
	mov $COM1, %dx
	outb %al, %dx
	jmp early_fail
2:	cli
	hlt
	jmp 2b

	.code64
long_mode_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp
	mov %esi, %edi			/* main(mbi_hpa): zero-extends */
	call main
1:	cli
	hlt
	jmp 1b

	.section .rodata
msg_not_multiboot2:
	.asciz "Vireo: not started by a multiboot2 loader: boot it with GRUB's multiboot2 command\r\n"
msg_no_long_mode:
	.asciz "Vireo: this CPU has no 64-bit long mode: Vireo needs an x86-64 CPU\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_descriptor:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096 * 4
	.global boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
