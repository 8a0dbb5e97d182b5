/* Plain ELF64 kernels: entered in 64-bit mode at e_entry, on identity page tables Vireo
 * builds in low guest memory (first 4 GiB, 2 MiB pages) with a flat GDT, RDI = the gpa of
 * a multiboot v1 information block (so it can find its command line and memory map). */
#include "core/layout.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "vm/loader.h"

#define PTE_P_RW 0x3ull
#define PDE_LARGE 0x80ull
#define GDT_CODE64 0x00af9b000000ffffull	/* accessed, so the CPU never writes it */
#define GDT_DATA 0x00cf93000000ffffull

void loader_build_identity_tables(struct vm *vm)
{
	u64 pml4e = GUEST_PDPT_GPA | PTE_P_RW;
	vm_write_gpa(vm, GUEST_PML4_GPA, &pml4e, sizeof(pml4e));
	for (u64 gib = 0; gib < 4; gib++) {
		u64 pdpte = (GUEST_PD_GPA + gib * PAGE_SIZE) | PTE_P_RW;
		vm_write_gpa(vm, GUEST_PDPT_GPA + gib * 8, &pdpte, sizeof(pdpte));
	}
	u64 *pd = vm_gpa_to_hva(vm, GUEST_PD_GPA, 4 * PAGE_SIZE);
	ASSERT(pd);	/* the first RAM slot holds at least GUEST_RAM_MIN_BYTES */
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P_RW | PDE_LARGE;
	u64 gdt[3] = { 0, GDT_CODE64, GDT_DATA };
	vm_write_gpa(vm, GUEST_GDT_GPA, gdt, sizeof(gdt));
}

const char *elf64_load(struct vm *vm, const struct elf_image *elf, struct guest_entry *entry)
{
	const char *error = elf_load(vm, elf, elf->entry);
	if (error)
		return error;
	loader_build_identity_tables(vm);
	*entry = (struct guest_entry){
		.mode = GUEST_ENTRY_LONG64,
		.rip = elf->entry,
		.rdi = multiboot1_write_info(vm),
	};
	return NULL;
}
