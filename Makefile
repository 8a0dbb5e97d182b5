# Vireo build. `make` builds build/vireo.elf; `make iso`, `make run`, `make test`, `make bench`.
# Sources are found by folder, so adding a file never means editing this Makefile.

CROSS_COMPILE ?=
CC      := $(CROSS_COMPILE)gcc
LD      := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
HOSTCC  ?= gcc
FUZZCC  ?= clang

BUILD   := build
# `make Q=` shows full command lines.
Q       ?= @
KERNEL_DIRS := boot arch/x86 mmu core vmexit drivers vm lib

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
           -fno-common -fno-strict-aliasing -mno-red-zone -mgeneral-regs-only \
           -fno-omit-frame-pointer -momit-leaf-frame-pointer -fno-asynchronous-unwind-tables \
           -I. -MMD -MP
ASFLAGS := -g -I. -MMD -MP -D__ASSEMBLY__
LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T linker.ld

KSRC_C  := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c))
KSRC_S  := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.S))
KOBJ    := $(patsubst %,$(BUILD)/k/%.o,$(KSRC_C) $(KSRC_S))

.PHONY: all iso run test unit bench guests benchguests clean setup fuzz fuzz-build $(BUILD)/vireo.iso
all: $(BUILD)/vireo.elf

$(BUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/vireo.elf: $(KOBJ) linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -o $@ $(KOBJ)

# --- host unit tests: tests/unit/test_*.c, each naming the sources it needs on a
# line "unit-sources: a.c b.c". Built with sanitizers.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
HOSTCFLAGS := -std=gnu11 -O1 -g $(WARN) -I. -DVIREO_HOST -fsanitize=address,undefined \
              -fno-sanitize-recover=all -fno-omit-frame-pointer
unit_sources = $(shell sed -n 's/.*unit-sources:\([^*]*\).*/\1/p' $(1))
# Header dependencies of a host binary built from several sources in one command (where
# -MMD would keep only the last source's): one rule per source, all naming the binary.
host_deps = $(HOSTCC) -I. -DVIREO_HOST -MM -MP -MT $@ $(1) $(call unit_sources,$(1)) > $@.d

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $$(call unit_sources,tests/unit/%.c)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOSTCFLAGS) -o $@ $< $(call unit_sources,$<)
	$(Q)$(call host_deps,$<)

unit: $(UNIT_BINS)

# --- fuzz targets: tests/fuzz/fuzz_*.c with the same "unit-sources:" convention.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(call unit_sources,tests/fuzz/%.c)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZCC) -std=gnu11 -O1 -g -I. -DVIREO_HOST -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(call unit_sources,$<)
	$(Q)$(call host_deps,$<)
fuzz-build: $(FUZZ_BINS)
# make fuzz: the long campaign (tools/fuzz-campaign); FUZZ_RUNS and FUZZ_SECONDS bound each
# target (defaults: 10^7 executions or an hour). make test runs each target briefly.
FUZZ_RUNS ?= 10000000
FUZZ_SECONDS ?= 3600
fuzz: fuzz-build
	tools/fuzz-campaign --runs $(FUZZ_RUNS) --seconds $(FUZZ_SECONDS)

-include tests/guests/guests.mk
-include tests/linux/linux.mk
-include bench/bench.mk

# The ISO boots Vireo with the demo guest; VIREO_CMDLINE sets Vireo's command line.
VIREO_CMDLINE ?= loglevel=info
iso: $(BUILD)/vireo.iso
$(BUILD)/vireo.iso: $(BUILD)/vireo.elf guests tools/mkiso
	@printf 'kernel %s\ncmdline %s\nmodule %s name=demo\n' $(BUILD)/vireo.elf \
		"$(VIREO_CMDLINE)" $(DEMO_GUEST) > $(BUILD)/vireo.desc
	tools/mkiso $@ $(BUILD)/vireo.desc

setup:
	tools/setup

# The last step is a make of its own: it finds LINUX_KERNEL (tests/linux/linux.mk) after
# tools/setup may have installed it.
run:
	@tools/setup --check || tools/setup
	@$(MAKE) --no-print-directory all guests linux
	@$(MAKE) --no-print-directory run-now

test:
	@tools/setup --check || tools/setup
	@$(MAKE) --no-print-directory all unit guests fuzz-build linux
	@$(MAKE) --no-print-directory test-now

bench:
	@tools/setup --check || tools/setup
	@$(MAKE) --no-print-directory all guests benchguests linux
	@$(MAKE) --no-print-directory bench-now

.PHONY: run-now test-now bench-now
run-now:
	LINUX_KERNEL=$(LINUX_KERNEL) tools/run
test-now:
	LINUX_KERNEL=$(LINUX_KERNEL) tests/run
bench-now:
	LINUX_KERNEL=$(LINUX_KERNEL) bench/run

clean:
	rm -rf $(BUILD)

-include $(KOBJ:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_BINS:=.d)
