# tests/cases/32-shadow.sh: the shadow MMU (mmu/shadow.c) under VMX, on the CPU without
# EPT (core2_penryn_t9600: also no VPID, no unrestricted guest, no EFER controls) and with
# ept=off on CPUs that have EPT. The guests are the ones 30-guests.sh runs on EPT: they
# must behave the same. Sourced by tests/run after 30-guests.sh (its variables).
PENRYN=core2_penryn_t9600

# Multiboot guests start with paging off (a direct shadow), then build their own 4-level
# tables: exceptions with their error codes, MSRs, the platform's devices, hypercalls.
guest_test shadow-penryn-cpuid "$PENRYN" "$GUESTS/cpuid.elf" cpuid "" --expect 'mmu: shadow paging \(this CPU has no EPT\)'
guest_test shadow-penryn-exceptions "$PENRYN" "$GUESTS/exceptions.elf" exc
guest_test shadow-penryn-msr "$PENRYN" "$GUESTS/msr.elf" msr
guest_test shadow-penryn-platform "$PENRYN" "$GUESTS/platform.elf" platform "mem=64M"
guest_test shadow-penryn-cpuid64 "$PENRYN" "$GUESTS/cpuid64.elf" cpuid64
boot_test shadow-penryn-hypercall-trusted bochs:$PENRYN \
	--module "$GUESTS/hypercall.elf name=hct trusted -- trusted" \
	--expect 'hct: SUMMARY: all passed' --expect 'vm hct: exit status 0' --reject 'hct: FAIL'
# MMIO through reserved-bit sptes: the first access takes the slow path (a guest walk and
# a slot search), the next ones the cached path; switch rounds and slot changes (which zap
# every shadow page) under live mappings.
guest_test shadow-penryn-mmio-trusted "$PENRYN" "$GUESTS/mmio.elf" mmiot "trusted -- trusted" \
	--timeout 180 --expect 'mmiot: PASS: \[default\] the next two take the cached path' \
	--expect 'mmiot: PASS: the moved slot keeps its contents' \
	--expect 'vm mmiot:   shadow root loads'

# ept=off where EPT exists: VPID flushes on root switches, the EFER controls.
guest_test shadow-skylake-mmio-trusted "$SKYLAKE" "$GUESTS/mmio.elf" mmiot "trusted -- trusted" \
	--cmdline "ept=off" --timeout 180 --expect 'mmu: shadow paging \(ept=off\)' \
	--expect 'mmiot: PASS: \[default\] the next two take the cached path'
guest_test shadow-skylake-exceptions "$SKYLAKE" "$GUESTS/exceptions.elf" exc "" --cmdline "ept=off"
# A paging-off multiboot guest on the CPU without unrestricted guest runs on the shadow MMU.
guest_test shadow-lynnfield-paging-off "$LYNNFIELD" "$GUESTS/cpuid.elf" cpuid "" --cmdline "ept=off"
