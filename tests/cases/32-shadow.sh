# tests/cases/32-shadow.sh: the shadow MMU (mmu/shadow.c) under VMX, on the CPU without
# EPT (core2_penryn_t9600: also no VPID, no unrestricted guest, no EFER controls) and with
# ept=off on CPUs that have EPT. The guests are the ones 30-guests.sh runs on EPT: they
# must behave the same. Sourced by tests/run after 30-guests.sh (its variables).
#
# Every guest test of 30-guests.sh has a counterpart here on penryn and on skylake with
# ept=off; the paging guests' counterparts are in 35-paging.sh. A boot costs ~3 s, so the
# guests share boots: Vireo runs the VMs of a boot in turn, each on fresh shadow state,
# and each VM's own lines (NAME: ..., vm NAME: ...) say how it did. Two boots per model:
# the VMs that must pass, and the VMs that end badly (each followed by one that runs).
# mmio trusted stays alone: it is long (switch rounds and slot changes).
PENRYN=core2_penryn_t9600

# shadow_guest_options VM [EXTRA_EXPECTS...]: the checks of a guest that must pass every
# check and exit with status 0 (guest_test's, for a boot with several modules).
shadow_guest_options() {
	local vm=$1
	shift
	printf '%s\n' --expect "$vm: SUMMARY: [0-9]+ passed, 0 failed" \
		--expect "vm $vm: exit status 0" --reject "$vm: FAIL" "$@"
}

# shadow_good_boot TEST MODEL [BOOT_TEST_OPTIONS...]: the guests that must pass, one boot.
# Multiboot guests start with paging off (a direct shadow), then build their own 4-level
# tables; cpuid64 and mmio64 start in long mode with their tables already loaded.
shadow_good_boot() {
	local test=$1 model=$2 vm
	shift 2
	# Thirteen VMs at once, 32 MiB each but for two: a 768 MiB machine holds them.
	local -a options=(--megs 768
		--module "$GUESTS/cpuid.elf name=cpuid"
		--module "$GUESTS/cpuid64.elf name=cpuid64"
		--module "$GUESTS/uart.elf name=uart"
		--module "$GUESTS/msr.elf name=msr"
		--module "$GUESTS/exceptions.elf name=exc"
		--module "$GUESTS/platform.elf name=platform mem=64M"
		--module "$GUESTS/demo.elf name=demo mem=16M"
		--module "$GUESTS/mmio.elf name=mmio"
		--module "$GUESTS/mmio64.elf name=mmio64"
		--module "$GUESTS/debug_exit.elf name=dexit0 status=0 width=1"
		--module "$GUESTS/hypercall.elf name=hc"
		--module "$GUESTS/hypercall.elf name=hct trusted -- trusted"
		# Beyond RAM is unassigned MMIO under the shadow MMU too (core/bus.h).
		--module "$GUESTS/outside_ram.elf name=outside mem=32M"
	)
	for vm in cpuid cpuid64 uart msr exc platform mmio mmio64 outside; do
		mapfile -t -O "${#options[@]}" options < <(shadow_guest_options "$vm")
	done
	options+=(
		--expect 'cpuid: PASS: leaf 0x40000000 signature is "VireoHV"'
		--expect 'cpuid64: cpuid test \(plain ELF64\)'
		--expect-order 'uart: uart line 1 of 3: the quick brown fox'
		'uart: uart line 2 of 3: the quick brown fox'
		'uart: uart line 3 of 3: the quick brown fox'
		'uart: uart: output still works after reprogramming'
		--expect-order 'demo: Hello from a Vireo guest!' 'demo:   RAM: 16 MiB'
		'demo:   CPU vendor: .*, hypervisor: VireoHV'
		'demo:   3\.\.\. \(VM exits so far: [0-9]+\)' 'demo: Goodbye!'
		'vm demo: exit status 0'
		--expect 'mmio: SKIP: switch rounds and memory slots: not trusted'
		--expect 'mmio64: PASS: \[default\] the next two take the cached path'
		--expect 'vm dexit0: exit status 0' --reject 'dexit0: FAIL'
		--expect 'hc: hello from HC_CONSOLE_WRITE'
		--expect 'hc: hypercall test, .*CPUID says it runs on the shadow MMU'
		--expect 'hc: PASS: untrusted: HC_SET_SWITCH returns -HC_EPERM'
		--expect 'hc: SUMMARY: all passed; exiting with HC_TEST_EXIT\(0\)'
		--expect 'vm hc: exit status 0' --reject 'hc: FAIL'
		--expect 'hct: PASS: trusted: \[shadow MMU\] HC_SET_SWITCH shadow_cache=off succeeds'
		--expect 'hct: PASS: \[shadow MMU\] HC_STAT_SHADOW_ROOT_LOADS counts the roots'
		--expect 'hct: SUMMARY: all passed' --expect 'vm hct: exit status 0'
		--reject 'hct: FAIL'
	)
	boot_test "$test" "bochs:$model" "${options[@]}" "$@"
}

# shadow_bad_endings_boot TEST MODEL [BOOT_TEST_OPTIONS...]: the VMs that end badly, in
# one boot (which ends in failure): a triple fault, a debug exit with status 7, a fetch
# from MMIO, the images Vireo must refuse; they run side by side with the cpuid guest,
# which must still pass.
shadow_bad_endings_boot() {
	local test=$1 model=$2
	shift 2
	local -a options=(--expect-exit failure
		--module "$GUESTS/triple_fault.elf name=tf"
		--module "$GUESTS/debug_exit.elf name=dexit status=7"
		--module "$GUESTS/mmio.elf name=mmiox exec"
		--module "$GUESTS/bad/not_elf.bin name=notelf"
		--module "$GUESTS/bad/high_load.elf name=highload"
		--module "$GUESTS/bad/bad_checksum.elf name=badsum"
		--module "$GUESTS/cpuid.elf name=after"
		--expect 'tf: triple_fault: loading an empty IDT'
		--expect 'vm tf: stopped: .*triple fault' --reject 'tf: FAIL'
		--expect 'dexit: debug_exit: writing status 7' --expect 'vm dexit: exit status 7'
		--reject 'dexit: FAIL'
		--expect 'mmiox: mmio: jumping to code in MMIO' --reject 'mmiox: FAIL'
		--expect 'vm notelf: cannot start' --expect 'vm highload: cannot start'
		--expect 'vm badsum: cannot start'
		--reject 'an image that must be refused was run'
		--expect 'after: SUMMARY: [0-9]+ passed, 0 failed' --reject 'after: FAIL'
	)
	local mmiox_end='vm mmiox: stopped: .*MMIO'
	if [[ $MMIO_EXEC_ENDING == success ]]; then
		options+=(--expect 'mmiox: PASS: executing from MMIO raises #UD')
		mmiox_end='vm mmiox: exit status 0'
	fi
	# The VMs run side by side: only the ends of the refused images (at creation, before
	# anything runs) and of the VM after them come in a fixed order.
	options+=(--expect "$mmiox_end" --expect-order 'vm notelf: cannot start'
		'vm highload: cannot start' 'vm badsum: cannot start'
		'after: SUMMARY: [0-9]+ passed, 0 failed' 'vm after: exit status 0')
	boot_test "$test" "bochs:$model" "${options[@]}" "$@"
}

# --- the CPU without EPT ---------------------------------------------------------------------

shadow_good_boot shadow-penryn-guests "$PENRYN" \
	--expect 'mmu: shadow paging \(this CPU has no EPT\)'
shadow_bad_endings_boot shadow-penryn-bad-endings "$PENRYN"
# MMIO through reserved-bit sptes: the first access takes the slow path (a guest walk and
# a slot search), the next ones the cached path; switch rounds and slot changes (which zap
# every shadow page) under live mappings.
guest_test shadow-penryn-mmio-trusted "$PENRYN" "$GUESTS/mmio.elf" mmiot "trusted -- trusted" \
	--timeout 180 --expect 'mmiot: PASS: \[default\] the next two take the cached path' \
	--expect 'mmiot: PASS: the moved slot keeps its contents' \
	--expect 'vm mmiot:   shadow root loads'

# --- ept=off where EPT exists: VPID flushes on root switches, the EFER controls ---------------

shadow_good_boot shadow-skylake-guests "$SKYLAKE" --cmdline "ept=off" \
	--expect 'mmu: shadow paging \(ept=off\)'
shadow_bad_endings_boot shadow-skylake-bad-endings "$SKYLAKE" --cmdline "ept=off"
guest_test shadow-skylake-mmio-trusted "$SKYLAKE" "$GUESTS/mmio.elf" mmiot "trusted -- trusted" \
	--cmdline "ept=off" --timeout 180 --expect 'mmu: shadow paging \(ept=off\)' \
	--expect 'mmiot: PASS: \[default\] the next two take the cached path'

# --- EPT without unrestricted guest, and ept=off ---------------------------------------------

# On EPT without unrestricted guest, paging-off guests run on an identity map
# (guest-lynnfield-paging-off in 30-guests.sh); with ept=off the shadow MMU runs them, and the
# plain ELF64 guests of the lynnfield cases (cpuid64, mmio64) too.
boot_test shadow-lynnfield-paging-off "bochs:$LYNNFIELD" --cmdline "ept=off" \
	--module "$GUESTS/cpuid.elf name=cpuid" --module "$GUESTS/cpuid64.elf name=cpuid64" \
	--module "$GUESTS/mmio64.elf name=mmio64" \
	--expect 'mmu: shadow paging \(ept=off\)' --reject 'cannot start' \
	--expect 'cpuid: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm cpuid: exit status 0' \
	--expect 'cpuid64: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm cpuid64: exit status 0' \
	--expect 'mmio64: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm mmio64: exit status 0' \
	--expect 'mmio64: PASS: \[default\] the next two take the cached path' \
	--reject 'cpuid: FAIL' --reject 'cpuid64: FAIL' --reject 'mmio64: FAIL'
