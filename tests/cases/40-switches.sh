# tests/cases/40-switches.sh: the MMIO switches set on Vireo's command line (the trusted
# mmio guest in 30-guests.sh flips them by hypercall), the decoder's length-only path for
# doorbell writes, and the ACPI way of ending a run. Sourced by tests/run (tests/lib.sh).

# The guest's own command line (after "--") tells it which switches Vireo got.
boot_test switch-cmdline-mmio-off bochs:corei7_skylake_x \
	--cmdline "mmio_cache=off fast_mmio=off" \
	--module "build/guests/mmio.elf name=mmiooff expect_mmio_cache_off expect_fast_mmio_off" \
	--expect 'mmiooff: PASS: \[mmio_cache=off fast_mmio=off from the command line\] .*slow path' \
	--expect 'mmiooff: PASS: \[mmio_cache=off fast_mmio=off from the command line\] 10 doorbell writes counted once each' \
	--expect 'mmiooff: SUMMARY: [0-9]+ passed, 0 failed' --reject 'mmiooff: FAIL' \
	--expect 'vm mmiooff: exit status 0'

# Doorbell writes skipped by the decoder's length-only path instead of the VM-exit field.
boot_test switch-fast-mmio-length-decode bochs:corei7_skylake_x \
	--cmdline "fast_mmio_length=decode" \
	--module "build/guests/mmio.elf name=mmiodec" \
	--expect 'mmiodec: PASS: \[default\] 10 doorbell writes counted once each' \
	--expect 'mmiodec: PASS: \[default\] doorbells on the fast MMIO bus: \+10' \
	--expect 'mmiodec: SUMMARY: [0-9]+ passed, 0 failed' --reject 'mmiodec: FAIL' \
	--expect 'vm mmiodec: exit status 0'

# exit=acpi: Vireo powers off through the FADT's PM1 control block, which Bochs reports
# with the same status as a failure (see ../shared/notes/emulators.md); the log says why.
boot_test exit-acpi bochs:corei7_skylake_x --cmdline "exit=acpi" --expect-exit failure \
	--module "build/guests/cpuid.elf name=cpuid" \
	--expect 'vm cpuid: exit status 0' --expect 'vireo: all VMs have stopped$'
