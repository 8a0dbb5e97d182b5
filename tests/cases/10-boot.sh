# tests/cases/10-boot.sh: the boot foundation: banner, memory map and VMX capabilities on the
# three Bochs CPU classes; the clear error on a CPU without VMX (QEMU TCG, BIOS and UEFI);
# command-line checking; a module reaching Vireo. Sourced by tests/run (see tests/lib.sh).

for model in corei7_skylake_x corei5_lynnfield_750 core2_penryn_t9600; do
	boot_test "boot-bochs-$model" "bochs:$model" \
		--expect '^Vireo [0-9]' --expect 'memory map' --expect 'VMX capabilities' \
		--expect-order '^Vireo [0-9]' 'memory map' 'VMX capabilities'
done

for firmware in bios uefi; do
	boot_test "boot-qemu-$firmware-no-vmx" "qemu:$firmware" --expect-exit failure \
		--expect '^Vireo [0-9]' --expect 'VMX not supported by this CPU'
done

# An unknown option is reported and ignored: the boot goes on.
boot_test boot-unknown-option bochs:corei7_skylake_x --cmdline "bogus=1" \
	--expect "unknown option 'bogus'" --expect '^Vireo [0-9]'

# Any file does as a module for now: Vireo must list it, not run it.
boot_test boot-module bochs:corei7_skylake_x --module "build/vireo.elf name=dummy" \
	--expect 'module'
