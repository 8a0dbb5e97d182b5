# bench/bench.mk: the benchmark guests (included by the top Makefile); built with the test
# guests' rules and library (tests/guests/guests.mk). bench_mmio32.elf is bench/bench_mmio.c
# built as a 32-bit guest that runs with paging off.

BENCH_OUT := $(BUILD)/bench
BENCH_GUESTS := $(BENCH_OUT)/bench_exits.elf $(BENCH_OUT)/bench_mmio.elf \
	$(BENCH_OUT)/bench_mmio32.elf $(BENCH_OUT)/bench_shadow.elf $(BENCH_OUT)/bench_zap.elf \
	$(BENCH_OUT)/bench_shapes.elf

.PHONY: benchguests
benchguests: $(BENCH_GUESTS)

$(BENCH_OUT)/%.elf: $(GUEST_OUT)/obj64/bench/%.c.o $(GUEST_OUT)/obj64/bench/bench.c.o \
		$(GUEST_START64) $(GUEST_LIB64) $(GUEST_LD) $(GUEST_CHECK)
	$(call link_guest,-m64,$(GUEST_START64) $< $(GUEST_OUT)/obj64/bench/bench.c.o \
		$(GUEST_LIB64),multiboot)

$(BENCH_OUT)/bench_mmio32.elf: $(GUEST_OUT)/obj32/bench/bench_mmio.c.o \
		$(GUEST_OUT)/obj32/bench/bench.c.o $(GUEST_START32) $(GUEST_LIB32) $(GUEST_LD) \
		$(GUEST_CHECK)
	$(call link_guest,-m32,$(GUEST_START32) $< $(GUEST_OUT)/obj32/bench/bench.c.o \
		$(GUEST_LIB32),multiboot)

.SECONDARY: $(GUEST_OUT)/obj64/bench/bench_exits.c.o $(GUEST_OUT)/obj64/bench/bench_mmio.c.o \
	$(GUEST_OUT)/obj64/bench/bench_shadow.c.o $(GUEST_OUT)/obj64/bench/bench_zap.c.o \
	$(GUEST_OUT)/obj64/bench/bench_shapes.c.o \
	$(GUEST_OUT)/obj64/bench/bench.c.o $(GUEST_OUT)/obj32/bench/bench_mmio.c.o \
	$(GUEST_OUT)/obj32/bench/bench.c.o
