# tests/cases/30-guests.sh: the test guests (tests/guests/) as boot tests. Each guest prints
# "PASS: ..."/"FAIL: ..." lines and "SUMMARY: N passed, M failed", then stops its VM through
# the debug-exit port (status 0 when nothing failed). Sourced by tests/run (see tests/lib.sh).
#
# Host log lines these cases rely on (Vireo's side):
#   NAME: TEXT                       a line of the guest's console output (VM name NAME)
#   vm NAME: exit status N           the VM stopped itself with status N
#   vm NAME: stopped: REASON         the VM stopped (e.g. "triple fault", or "debug-exit port
#                                    written: status N")
#   vm NAME: cannot start: REASON    Vireo refused the image (bad file, no unrestricted guest)
# A run ends in success when every VM exited with status 0, else in failure.

# (Plain variables, not readonly: every case file is sourced into the same shell.)
GUESTS=build/guests
SKYLAKE=corei7_skylake_x
LYNNFIELD=corei5_lynnfield_750	# EPT without unrestricted guest
# Code fetched from MMIO: Vireo stops the VM ("stopped: executes code from MMIO ..."), so the
# run fails; were it to inject #UD instead, the guest would pass: set this to success then.
MMIO_EXEC_ENDING=failure

# guest_test TEST MODEL FILE VM [MODULE_OPTIONS [BOOT_TEST_OPTIONS...]]: boot one guest that
# must pass every check and exit with status 0. MODULE_OPTIONS go after name=VM on its module
# line (mem=, trusted, its own command line).
guest_test() {
	local test=$1 model=$2 file=$3 vm=$4 options=${5:-}
	shift $(($# < 5 ? $# : 5))
	boot_test "$test" "bochs:$model" --module "$file name=$vm${options:+ $options}" \
		--expect "$vm: SUMMARY: [0-9]+ passed, 0 failed" --expect "vm $vm: exit status 0" \
		--reject "$vm: FAIL" "$@"
}

# --- one guest per boot, on the CPU model with unrestricted guest ----------------------------

guest_test guest-cpuid "$SKYLAKE" "$GUESTS/cpuid.elf" cpuid "" \
	--expect 'cpuid: PASS: leaf 0x40000000 signature is "VireoHV"'
guest_test guest-cpuid64 "$SKYLAKE" "$GUESTS/cpuid64.elf" cpuid64 "" \
	--expect 'cpuid64: cpuid test \(plain ELF64\)' --reject 'ticks exit'
# exit_ticks=on: the ticks of each exit reason and in the guest, in the VM's statistics.
guest_test guest-exit-ticks "$SKYLAKE" "$GUESTS/cpuid64.elf" cpuid64 "" --cmdline "exit_ticks=on" \
	--expect 'vm cpuid64:   ticks in the guest +[1-9][0-9]*$' \
	--expect 'vm cpuid64:   ticks exit CPUID +[1-9][0-9]*$'
guest_test guest-uart "$SKYLAKE" "$GUESTS/uart.elf" uart "" \
	--expect-order 'uart: uart line 1 of 3: the quick brown fox' \
	'uart: uart line 2 of 3: the quick brown fox' \
	'uart: uart line 3 of 3: the quick brown fox' \
	'uart: uart: output still works after reprogramming'
guest_test guest-msr "$SKYLAKE" "$GUESTS/msr.elf" msr
guest_test guest-exceptions "$SKYLAKE" "$GUESTS/exceptions.elf" exc
guest_test guest-platform "$SKYLAKE" "$GUESTS/platform.elf" platform "mem=64M"
boot_test guest-demo bochs:$SKYLAKE --module "$GUESTS/demo.elf name=demo mem=16M" \
	--expect-order 'demo: Hello from a Vireo guest!' 'demo:   RAM: 16 MiB' \
	'demo:   CPU vendor: .*, hypervisor: VireoHV' 'demo:   3\.\.\. \(VM exits so far: [0-9]+\)' \
	'demo: Goodbye!' 'vm demo: exit status 0'
guest_test guest-mmio "$SKYLAKE" "$GUESTS/mmio.elf" mmio "" \
	--expect 'mmio: SKIP: switch rounds and memory slots: not trusted'
# "trusted" twice: once for Vireo, once (after "--") on the guest's own command line.
guest_test guest-mmio-trusted "$SKYLAKE" "$GUESTS/mmio.elf" mmiot "trusted -- trusted" \
	--timeout 180 --expect 'mmiot: PASS: \[mmio_cache=off\] first access' \
	--expect 'mmiot: PASS: \[fast_mmio=off\] .* doorbell writes counted once each' \
	--expect 'mmiot: PASS: the moved slot keeps its contents'

# debug exit: the status the guest writes is the one the host reports.
boot_test guest-debug-exit-status bochs:$SKYLAKE --expect-exit failure \
	--module "$GUESTS/debug_exit.elf name=dexit status=7" \
	--expect 'dexit: debug_exit: writing status 7' --expect 'vm dexit: exit status 7' \
	--reject 'dexit: FAIL'
boot_test guest-debug-exit-zero-8bit bochs:$SKYLAKE \
	--module "$GUESTS/debug_exit.elf name=dexit0 status=0 width=1" \
	--expect 'vm dexit0: exit status 0' --reject 'dexit0: FAIL'

# hypercalls: the expectations follow "trusted" on the guest's own command line.
boot_test guest-hypercall bochs:$SKYLAKE --module "$GUESTS/hypercall.elf name=hc" \
	--expect 'hc: hello from HC_CONSOLE_WRITE' \
	--expect 'hc: PASS: untrusted: HC_SET_SWITCH returns -HC_EPERM' \
	--expect 'hc: SUMMARY: all passed; exiting with HC_TEST_EXIT\(0\)' \
	--expect 'vm hc: exit status 0' --reject 'hc: FAIL'
boot_test guest-hypercall-trusted bochs:$SKYLAKE \
	--module "$GUESTS/hypercall.elf name=hct trusted -- trusted" \
	--expect 'hct: hello from HC_CONSOLE_WRITE' \
	--expect 'hct: PASS: trusted: HC_SET_SWITCH mmio_cache=on succeeds' \
	--expect 'hct: SUMMARY: all passed' --expect 'vm hct: exit status 0' --reject 'hct: FAIL'

# --- VMs that end badly, then a VM that must still run ---------------------------------------

boot_test guest-triple-fault bochs:$SKYLAKE --expect-exit failure \
	--module "$GUESTS/triple_fault.elf name=tf" --module "$GUESTS/cpuid.elf name=after" \
	--expect 'tf: triple_fault: loading an empty IDT' \
	--expect 'vm tf: stopped: .*triple fault' \
	--expect-order 'vm tf: stopped' 'after: SUMMARY: [0-9]+ passed, 0 failed' \
	'vm after: exit status 0' \
	--reject 'tf: FAIL'

# Beyond RAM is unassigned MMIO: reads all-ones, writes ignored (core/bus.h).
boot_test guest-outside-ram bochs:$SKYLAKE \
	--module "$GUESTS/outside_ram.elf name=outside mem=32M" \
	--module "$GUESTS/cpuid.elf name=after" \
	--expect 'outside: SUMMARY: [0-9]+ passed, 0 failed' --reject 'outside: FAIL' \
	--expect 'vm after: exit status 0'

mmio_exec_options=(--expect 'mmiox: mmio: jumping to code in MMIO')
if [[ $MMIO_EXEC_ENDING == success ]]; then
	mmio_exec_options+=(--expect 'mmiox: PASS: executing from MMIO raises #UD')
else
	mmio_exec_options+=(--expect 'vm mmiox: stopped: .*MMIO')
fi
boot_test guest-mmio-exec bochs:$SKYLAKE --expect-exit "$MMIO_EXEC_ENDING" \
	--module "$GUESTS/mmio.elf name=mmiox exec" --module "$GUESTS/cpuid.elf name=after" \
	"${mmio_exec_options[@]}" --expect 'vm after: exit status 0' --reject 'mmiox: FAIL'

# Images Vireo must refuse; the next VM runs all the same.
for bad in not_elf.bin:notelf high_load.elf:highload bad_checksum.elf:badsum; do
	boot_test "guest-refused-${bad##*:}" bochs:$SKYLAKE --expect-exit failure \
		--module "$GUESTS/bad/${bad%%:*} name=${bad##*:}" \
		--module "$GUESTS/cpuid.elf name=after" \
		--expect "vm ${bad##*:}: cannot start" --expect 'vm after: exit status 0' \
		--reject 'an image that must be refused was run'
done

# --- EPT without unrestricted guest ----------------------------------------------------------

# A multiboot guest starts with paging off, which VMX cannot run without unrestricted
# guest: it runs on the identity map (vmexit/cr.c) until it turns paging on, 32-bit, PAE
# or 4-level, and the MMIO paths and the emulator see its own CR3 meanwhile.
boot_test guest-lynnfield-paging-off bochs:$LYNNFIELD --timeout 240 \
	--module "$GUESTS/cpuid.elf name=cpuid" --module "$GUESTS/paging32.elf name=paging32" \
	--module "$GUESTS/paging.elf name=paging" --module "$GUESTS/mmio.elf name=mmiot trusted -- trusted" \
	--expect 'mmu: EPT' --reject 'FAIL' \
	--expect 'cpuid: SUMMARY: [0-9]+ passed, 0 failed' \
	--expect 'paging32: SUMMARY: [0-9]+ passed, 0 failed' \
	--expect 'paging: SUMMARY: [0-9]+ passed, 0 failed' \
	--expect 'mmiot: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm mmiot: exit status 0'
guest_test guest-lynnfield-cpuid64 "$LYNNFIELD" "$GUESTS/cpuid64.elf" cpuid64

# The MMIO path on the CPU without unrestricted guest: the plain ELF64 flavour of the mmio
# guest (entered in long mode, so EPT alone suffices): every instruction form, the cached
# path after the first access, doorbells.
guest_test guest-lynnfield-mmio64 "$LYNNFIELD" "$GUESTS/mmio64.elf" mmio64 "" \
	--expect 'mmio64: PASS: \[default\] 10 doorbell writes counted once each' \
	--expect 'mmio64: PASS: \[default\] the next two take the cached path'

# Guest RAM from fragmented host memory: on a 256 MiB machine no free naturally aligned
# 128 MiB block exists, yet a 128 MiB guest starts (its RAM from smaller blocks) and every
# page of it is its own; three guests together take most of the machine.
boot_test ram-128m-on-256m "bochs:$SKYLAKE" --megs 256 \
	--module "$GUESTS/ram_check.elf name=big mem=128M" \
	--expect 'big: PASS: [0-9]+ pages from .* each hold what was written' \
	--expect 'vm big: exit status 0'
boot_test ram-three-fill-256m "bochs:$SKYLAKE" --megs 256 --timeout 120 \
	--module "$GUESTS/ram_check.elf name=r1 mem=72M" \
	--module "$GUESTS/ram_check.elf name=r2 mem=72M" \
	--module "$GUESTS/ram_check.elf name=r3 mem=72M" \
	--expect 'r1: PASS: [0-9]+ pages' --expect 'r2: PASS: [0-9]+ pages' \
	--expect 'r3: PASS: [0-9]+ pages' --expect 'vm r1: exit status 0' \
	--expect 'vm r2: exit status 0' --expect 'vm r3: exit status 0'
# A guest that does not fit is refused with the free memory named; the next one runs.
boot_test ram-too-big-refused "bochs:$SKYLAKE" --megs 256 --expect-exit failure \
	--module "$GUESTS/ram_check.elf name=huge mem=300M" \
	--module "$GUESTS/ram_check.elf name=small mem=16M" \
	--expect 'vm huge: cannot start: its 300 MiB of RAM do not fit in the [0-9]+ MiB of free host memory' \
	--expect 'small: PASS: [0-9]+ pages' --expect 'vm small: exit status 0'

# Real mode: an image linked at 0x8000 loads into low RAM and switches to real mode and
# back. With unrestricted guest (skylake) the CPU runs it; without (lynnfield; the shadow
# MMU) the VM stops naming the missing feature, and the next VM runs.
boot_test realmode-skylake "bochs:$SKYLAKE" --module "$GUESTS/realmode.elf name=real" \
	--expect 'real: SUMMARY: 4 passed, 0 failed' --expect 'vm real: exit status 0'
boot_test realmode-refused-lynnfield "bochs:$LYNNFIELD" --expect-exit failure \
	--module "$GUESTS/realmode.elf name=real" --module "$GUESTS/cpuid.elf name=after" \
	--expect 'real: PASS: the image runs where it is linked, below 1 MiB' \
	--expect 'vm real: stopped: switches to real mode \(CR0.PE = 0\), which needs the VMX unrestricted-guest feature, which this CPU lacks' \
	--expect 'vm after: exit status 0'
boot_test realmode-refused-shadow "bochs:$SKYLAKE" --expect-exit failure --cmdline "ept=off" \
	--module "$GUESTS/realmode.elf name=real" --module "$GUESTS/cpuid.elf name=after" \
	--expect 'vm real: stopped: switches to real mode \(CR0.PE = 0\), which needs the VMX unrestricted-guest feature and EPT' \
	--expect 'vm after: exit status 0'
