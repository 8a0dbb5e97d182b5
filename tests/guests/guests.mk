# tests/guests/guests.mk: the test guests (included by the top Makefile).
#
# A guest is one C file with main(), linked at 1 MiB (tests/guests/guest.ld) with the guest
# library tests/guests/lib/ and the hypervisor's freestanding lib/ files it reuses. Flavours:
#   64-bit multiboot v1 (build/guests/NAME.elf): ELF64, entered in 32-bit protected mode
#       with paging off; the library switches to long mode.
#   plain ELF64 (build/guests/NAME64.elf): no multiboot header, entered in 64-bit mode.
#   32-bit multiboot v1 (ELF32): stays in protected mode with paging off; minimal library
#       (console, results, hypercalls, CPU helpers; no IDT): build/bench/bench_mmio32.elf.
# Each image is checked after linking by tests/guests/check-image.

GUEST_OUT := $(BUILD)/guests
GUEST_LD := tests/guests/guest.ld
GUEST_CHECK := tests/guests/check-image
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
	-fno-pic -fno-pie -fno-stack-protector -fno-common -fno-strict-aliasing -mno-red-zone \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables -I. -MMD -MP
GUEST_ASFLAGS := -g -I. -MMD -MP -D__ASSEMBLY__
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_LD) -Wl,-z,max-page-size=0x1000 \
	-Wl,-z,noexecstack -Wl,--build-id=none

GUEST_TESTS := cpuid uart debug_exit hypercall msr exceptions triple_fault outside_ram \
	platform demo mmio paging interrupts spin hostile ram_check
GUEST_PLAIN_ELF64 := cpuid64 mmio64 interrupts64
GUEST_TESTS32 := paging32
GUEST_BAD := not_elf.bin high_load.elf bad_checksum.elf

# Library sources of both flavours; lib/ files are the hypervisor's own (freestanding).
GUEST_LIB_COMMON := tests/guests/lib/console.c tests/guests/lib/report.c \
	tests/guests/lib/multiboot.c tests/guests/lib/cpu.c tests/guests/lib/start.c \
	lib/printf.c lib/string.c lib/cmdline.c lib/log.c
GUEST_LIB64_SRCS := $(GUEST_LIB_COMMON) tests/guests/lib/except.c tests/guests/lib/paging.c \
	tests/guests/lib/trap.S tests/guests/lib/tables64.S \
	tests/guests/lib/irq.c tests/guests/lib/irq.S
GUEST_LIB32_SRCS := $(GUEST_LIB_COMMON) tests/guests/lib/div64.c

GUEST_LIB64 := $(GUEST_OUT)/libguest64.a
GUEST_LIB32 := $(GUEST_OUT)/libguest32.a
GUEST_START64 := $(GUEST_OUT)/obj64/tests/guests/lib/start64.S.o \
	$(GUEST_OUT)/obj64/tests/guests/lib/mbheader.S.o
GUEST_START_ELF64 := $(GUEST_OUT)/obj64/tests/guests/lib/start_elf64.S.o
GUEST_START32 := $(GUEST_OUT)/obj32/tests/guests/lib/start32.S.o \
	$(GUEST_OUT)/obj32/tests/guests/lib/mbheader.S.o

DEMO_GUEST := $(GUEST_OUT)/demo.elf
DEMO_MODULES := $(DEMO_GUEST) name=demo

.PHONY: guests
guests: $(GUEST_TESTS:%=$(GUEST_OUT)/%.elf) $(GUEST_PLAIN_ELF64:%=$(GUEST_OUT)/%.elf) \
	$(GUEST_TESTS32:%=$(GUEST_OUT)/%.elf) $(GUEST_OUT)/realmode.elf \
	$(GUEST_BAD:%=$(GUEST_OUT)/bad/%)

$(GUEST_OUT)/obj64/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj64/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OUT)/obj32/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj32/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_ASFLAGS) -c $< -o $@

guest_objs = $(patsubst %,$(GUEST_OUT)/obj$(1)/%.o,$(2))

$(GUEST_LIB64): $(call guest_objs,64,$(GUEST_LIB64_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(GUEST_LIB32): $(call guest_objs,32,$(GUEST_LIB32_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

# $(call link_guest,-m64|-m32,OBJECTS,check-image KIND): link $@, then check the image.
define link_guest
@mkdir -p $(dir $@)
$(CC) $(1) $(GUEST_LDFLAGS) -o $@ $(2)
$(GUEST_CHECK) $(3) $@
endef

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj64/tests/guests/%.c.o $(GUEST_START64) $(GUEST_LIB64) \
		$(GUEST_LD) $(GUEST_CHECK)
	$(call link_guest,-m64,$(GUEST_START64) $< $(GUEST_LIB64),multiboot)

# Plain ELF64 flavour of a test: NAME64.elf from tests/guests/NAME.c.
$(GUEST_PLAIN_ELF64:%=$(GUEST_OUT)/%.elf): $(GUEST_OUT)/%64.elf: \
		$(GUEST_OUT)/obj64/tests/guests/%.c.o $(GUEST_START_ELF64) $(GUEST_LIB64) \
		$(GUEST_LD) $(GUEST_CHECK)
	$(call link_guest,-m64,$(GUEST_START_ELF64) $< $(GUEST_LIB64),elf64)

# 32-bit multiboot flavour: NAME.elf (ELF32) from tests/guests/NAME.c.
$(GUEST_TESTS32:%=$(GUEST_OUT)/%.elf): $(GUEST_OUT)/%.elf: \
		$(GUEST_OUT)/obj32/tests/guests/%.c.o $(GUEST_START32) $(GUEST_LIB32) \
		$(GUEST_LD) $(GUEST_CHECK)
	$(call link_guest,-m32,$(GUEST_START32) $< $(GUEST_LIB32),multiboot)

# Linked into low RAM (at 0x8000, guest_low.ld), 32-bit multiboot: real-mode tests.
GUEST_LOW_LD := tests/guests/guest_low.ld
$(GUEST_OUT)/realmode.elf: $(GUEST_OUT)/obj32/tests/guests/realmode.c.o \
		$(GUEST_OUT)/obj32/tests/guests/lib/realmode.S.o $(GUEST_START32) $(GUEST_LIB32) \
		$(GUEST_LOW_LD) $(GUEST_CHECK)
	$(CC) -m32 $(subst $(GUEST_LD),$(GUEST_LOW_LD),$(GUEST_LDFLAGS)) -o $@ \
		$(filter %.o,$^) $(GUEST_LIB32)
	$(GUEST_CHECK) multiboot $@

# Images Vireo must refuse: not an ELF; a segment far outside any RAM; a bad multiboot
# checksum (ELF32, so it cannot pass for a plain ELF64 guest).
$(GUEST_OUT)/bad/not_elf.bin:
	@mkdir -p $(dir $@)
	printf 'This text file is not an ELF image: Vireo must refuse to run it.\n' >$@

$(GUEST_OUT)/bad/high_load.elf: tests/guests/bad/tiny.S tests/guests/bad/tiny.ld $(GUEST_CHECK)
	@mkdir -p $(dir $@)
	$(CC) -m32 -I. -D__ASSEMBLY__ -nostdlib -static -no-pie -Wl,-T,tests/guests/bad/tiny.ld \
		-Wl,--defsym=LOAD_ADDRESS=0xF0000000 -Wl,--build-id=none -o $@ $<
	$(GUEST_CHECK) multiboot $@

$(GUEST_OUT)/bad/bad_checksum.elf: tests/guests/bad/tiny.S tests/guests/bad/tiny.ld $(GUEST_CHECK)
	@mkdir -p $(dir $@)
	$(CC) -m32 -I. -D__ASSEMBLY__ -DBAD_CHECKSUM -nostdlib -static -no-pie \
		-Wl,-T,tests/guests/bad/tiny.ld -Wl,--defsym=LOAD_ADDRESS=0x100000 \
		-Wl,--build-id=none -o $@ $<
	$(GUEST_CHECK) bad-checksum $@

# Keep the objects make would otherwise delete as intermediates: relinking needs them.
.SECONDARY: $(GUEST_START64) $(GUEST_START_ELF64) $(GUEST_START32) \
	$(patsubst %,$(GUEST_OUT)/obj64/tests/guests/%.c.o,$(GUEST_TESTS))

-include $(shell find $(GUEST_OUT) -name '*.d' 2>/dev/null)
