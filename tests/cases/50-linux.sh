# tests/cases/50-linux.sh: Debian's cloud kernel (LINUX_KERNEL, set by the Makefile) with the
# busybox initramfs (tests/linux/init in check mode) on every MMU and CPU class: it boots
# with its default command line plus the console, runs its checks (/proc, timer and serial
# interrupts, the clock's rate, fork+exec, a pipeline) and powers off through ACPI.
# Each boot costs tens of seconds under Bochs: one per configuration.

LINUX_INITRAMFS=build/linux/initramfs.cpio.gz
LINUX_CMDLINE="console=ttyS0,115200 quiet cryptomgr.notests=1 vireo_check=1"

# linux_test TEST MODEL [BOOT_TEST_OPTIONS...]: one Linux VM that must pass its checks.
linux_test() {
	local test=$1 model=$2
	shift 2
	boot_test "$test" "bochs:$model" --megs 512 --timeout 600 \
		--module "$LINUX_KERNEL name=linux mem=192M $LINUX_CMDLINE" \
		--module "$LINUX_INITRAMFS initrd" \
		--expect 'linux: SUMMARY: [0-9]+ passed, 0 failed' \
		--expect 'vm linux: stopped: ACPI soft-off' --expect 'vm linux: exit status 0' \
		--reject 'linux: FAIL' "$@"
}

if [[ -z ${LINUX_KERNEL:-} || ! -f $LINUX_KERNEL ]]; then
	if test_selected linux; then
		report_fail linux "no Linux kernel (LINUX_KERNEL='${LINUX_KERNEL:-}'): run tools/setup"
	fi
else
	linux_test linux-skylake "$SKYLAKE"
	linux_test linux-skylake-ept-off "$SKYLAKE" --cmdline "ept=off"
	linux_test linux-lynnfield "$LYNNFIELD"
	linux_test linux-penryn "$PENRYN"
fi

# Two Linux VMs and a VM that spins forever (interrupts on, see 45-interrupts.sh) in one
# boot: both Linux VMs pass their checks and power off before the spinner's timeout= ends
# it (they need about 40 s of the platform clock; the spinner gets 70).
if [[ -n ${LINUX_KERNEL:-} && -f $LINUX_KERNEL ]]; then
	boot_test linux-two-and-spinner "bochs:$SKYLAKE" --megs 512 --timeout 900 \
		--expect-exit failure \
		--module "$LINUX_KERNEL name=linux1 mem=128M $LINUX_CMDLINE" \
		--module "$LINUX_INITRAMFS initrd" \
		--module "$LINUX_KERNEL name=linux2 mem=128M $LINUX_CMDLINE" \
		--module "$LINUX_INITRAMFS initrd" \
		--module "$GUESTS/spin.elf name=spin timeout=70 -- interrupts-on" \
		--expect 'linux1: SUMMARY: [0-9]+ passed, 0 failed' \
		--expect 'linux2: SUMMARY: [0-9]+ passed, 0 failed' \
		--expect-order 'vm linux[12]: exit status 0' 'vm linux[12]: exit status 0' \
		'vm spin: stopped: its timeout of [0-9]+ s is over' \
		--reject 'linux[12]: FAIL'
fi

# Typed input: Vireo's console is a TCP port here; a script types a command into the
# shell of the VM in focus and reads its answer, then powers it off.
if [[ -n ${LINUX_KERNEL:-} && -f $LINUX_KERNEL ]]; then
	boot_test linux-typed-input "bochs:$SKYLAKE" --megs 512 --timeout 300 \
		--module "$LINUX_KERNEL name=linux mem=192M console=ttyS0,115200 quiet cryptomgr.notests=1" \
		--module "$LINUX_INITRAMFS initrd" --typing tests/linux/typing.script \
		--expect 'linux: typed-42' --expect 'vm linux: stopped: ACPI soft-off' \
		--expect 'vm linux: exit status 0'
fi
