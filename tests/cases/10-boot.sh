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

# Modules are listed with their command line, in the loader's order, then created in that
# order, then run side by side.
boot_test boot-modules bochs:corei7_skylake_x --module "build/guests/cpuid.elf name=first" \
	--module "build/guests/cpuid64.elf name=second mem=8M" \
	--expect-order 'boot: module 0 .*"name=first"' 'boot: module 1 .*"name=second mem=8M"' \
	'vm first: created' 'vm second: created: 8 MiB RAM' 'vm first: exit status 0' \
	--expect 'vm second: exit status 0'
