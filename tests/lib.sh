# tests/lib.sh: the test framework, sourced by tests/run and by the case files it runs
# (tests/cases/*.sh). Sourcing it moves to the repository root: every relative path in a
# test (kernel, modules, logs) is taken from there.
#
#   unit_test BINARY            run a host unit-test binary
#   fuzz_test BINARY SECONDS    run a libFuzzer target for SECONDS; passes unless it crashes
#   layers_test NAME            tools/check-layers passes on the tree and catches a planted
#                               upward include and call
#   boot_test NAME EMU [OPTIONS]
#       boot build/vireo.elf from a GRUB ISO. EMU is bochs:MODEL (a Bochs CPU model, e.g.
#       bochs:corei7_skylake_x), qemu:bios or qemu:uefi. OPTIONS:
#         --cmdline "WORDS"        Vireo's command line; `exit=bochs` or `exit=qemu` is added
#                                  for the emulator unless WORDS already has an exit= word
#         --module "PATH ARGS"     a guest module and its arguments (repeatable)
#         --expect-exit success|failure|timeout    how the run must end (default success)
#         --expect REGEX           must match a line of the serial log (grep -E; repeatable)
#         --reject REGEX           must match no line of the serial log (repeatable)
#         --expect-order RE1 RE2...  lines matching these, in this order (the list ends at
#                                  the next option)
#         --timeout SEC (default 60)  --cpus N (default 1)  --megs M (default 256)
#         --typing SCRIPT (Bochs: type into COM1 as the tools/serial-client script says)
#   summary                     print "N passed, N failed"; nonzero status if any failed
#
# Each test prints one line: `PASS  name  (1.8s)` or `FAIL  name  (reason)`, the failure
# followed by the end of its serial and emulator logs. A failed test keeps its logs in
# build/test-logs/NAME/ (desc, ISO, serial.log, emulator config and log); a passed one
# deletes them.
#
# Environment:
#   TESTS=REGEX      run only the tests whose name matches (bash =~), e.g. TESTS=boot-qemu
#   KEEP_LOGS=1      keep the logs of passed tests too
#   VIREO_KERNEL=F   boot F instead of build/vireo.elf

VIREO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$VIREO_ROOT" || return 1

readonly TEST_LOG_ROOT=build/test-logs
readonly FUZZ_CORPUS_ROOT=build/fuzz-corpus
readonly LOG_TAIL_LINES=20
readonly EMULATOR_TAIL_LINES=10
tests_passed=0
tests_failed=0

# --- reporting -------------------------------------------------------------------------------

test_selected() {
	[[ -z ${TESTS:-} || $1 =~ $TESTS ]]
}

# elapsed_since START: seconds since START (an $EPOCHREALTIME), one decimal.
elapsed_since() {
	local start_us=${1//[.,]/} now_us=${EPOCHREALTIME//[.,]/}
	local tenths=$(((now_us - start_us) / 100000))
	echo "$((tenths / 10)).$((tenths % 10))s"
}

report_pass() {
	local name=$1 start=$2 logdir=$3
	tests_passed=$((tests_passed + 1))
	printf 'PASS  %s  (%s)\n' "$name" "$(elapsed_since "$start")"
	if [[ ${KEEP_LOGS:-0} != 1 ]]; then
		rm -rf "$logdir"
	fi
}

report_fail() {
	tests_failed=$((tests_failed + 1))
	printf 'FAIL  %s  (%s)\n' "$1" "$2"
}

# show_tail LOG LINES [SKIP_REGEX]: the last LINES lines of LOG, less those matching
# SKIP_REGEX, indented under a FAIL line.
show_tail() {
	local log=$1 lines=$2 skip=${3:-^$}
	[[ -s $log ]] || return 0
	echo "    --- $log"
	tr -d '\r' <"$log" | grep -avE -- "$skip" | tail -n "$lines" | awk '{ print "    " $0 }'
}

# new_logdir NAME: print an empty log folder for the test NAME.
new_logdir() {
	local dir=$TEST_LOG_ROOT/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$dir"
}

# --- host tests ------------------------------------------------------------------------------

unit_test() {
	local binary=$1 name start logdir status=0
	name=unit/$(basename "$binary")
	test_selected "$name" || return 0
	start=$EPOCHREALTIME
	logdir=$(new_logdir "$name")
	"$binary" </dev/null >"$logdir/output.log" 2>&1 || status=$?
	if [[ $status -eq 0 ]]; then
		report_pass "$name" "$start" "$logdir"
	else
		report_fail "$name" "exit status $status"
		show_tail "$logdir/output.log" "$LOG_TAIL_LINES"
	fi
}

# compile_fail_test NAME FILE REGEX: FILE must compile with -DCORRECT_WIDTH (the control)
# and fail without it, with an error matching REGEX: checks that misuse is a build error.
compile_fail_test() {
	local name=compile-fail/$1 file=$2 regex=$3 start logdir
	local -a cc=("${CC:-gcc}" -std=gnu11 -ffreestanding -fsyntax-only -I. "$file")
	test_selected "$name" || return 0
	start=$EPOCHREALTIME
	logdir=$(new_logdir "$name")
	if ! "${cc[@]}" -DCORRECT_WIDTH >"$logdir/control.log" 2>&1; then
		report_fail "$name" "the correct use does not compile either"
		show_tail "$logdir/control.log" "$LOG_TAIL_LINES"
	elif "${cc[@]}" >"$logdir/output.log" 2>&1; then
		report_fail "$name" "the misuse compiled"
	elif ! grep -qE "$regex" "$logdir/output.log"; then
		report_fail "$name" "failed to compile, but not with /$regex/"
		show_tail "$logdir/output.log" "$LOG_TAIL_LINES"
	else
		report_pass "$name" "$start" "$logdir"
	fi
}

# plant_layer_violations DIR: a tree where core/ includes a drivers/ header and calls a
# drivers/ function, both against the layering.
plant_layer_violations() {
	local dir=$1
	mkdir -p "$dir/core" "$dir/drivers" "$dir/build/k/core" "$dir/build/k/drivers"
	printf '#include "drivers/device.h"\nvoid core_call(void) { device_poke(); }\n' \
		>"$dir/core/core.c"
	printf 'void device_poke(void);\n' >"$dir/drivers/device.h"
	printf 'void device_poke(void) {}\n' >"$dir/drivers/device.c"
	"${CC:-gcc}" -c -I"$dir" "$dir/core/core.c" -o "$dir/build/k/core/core.c.o"
	"${CC:-gcc}" -c -I"$dir" "$dir/drivers/device.c" -o "$dir/build/k/drivers/device.c.o"
}

layers_test() {
	local name=$1 start logdir
	test_selected "$name" || return 0
	start=$EPOCHREALTIME
	logdir=$(new_logdir "$name")
	plant_layer_violations "$logdir/planted"
	tools/check-layers "$logdir/planted" "$logdir/planted/build/k" >"$logdir/planted.log" 2>&1 || true
	if ! tools/check-layers >"$logdir/output.log" 2>&1; then
		report_fail "$name" "the tree breaks the layering"
		show_tail "$logdir/output.log" "$LOG_TAIL_LINES"
	elif ! grep -q 'core/core.c includes drivers/device.h' "$logdir/planted.log" ||
	     ! grep -q 'core/core.c.o uses device_poke, defined in drivers' "$logdir/planted.log"; then
		report_fail "$name" "check-layers missed a planted upward include or call"
		show_tail "$logdir/planted.log" "$LOG_TAIL_LINES"
	else
		report_pass "$name" "$start" "$logdir"
	fi
}

# A target's corpus persists in build/fuzz-corpus/NAME, so each run starts where the last one
# stopped; tests/fuzz/corpus/NAME, when present, seeds it. Crash inputs go to the log folder.
fuzz_test() {
	local binary=$1 seconds=$2 target name start logdir status=0
	target=$(basename "$binary")
	name=fuzz/$target
	test_selected "$name" || return 0
	start=$EPOCHREALTIME
	logdir=$(new_logdir "$name")
	local -a corpora=("$FUZZ_CORPUS_ROOT/$target")
	mkdir -p "${corpora[0]}"
	if [[ -d tests/fuzz/corpus/$target ]]; then
		corpora+=("tests/fuzz/corpus/$target")
	fi
	"$binary" -max_total_time="$seconds" -timeout=10 -artifact_prefix="$logdir/" \
		"${corpora[@]}" </dev/null >"$logdir/output.log" 2>&1 || status=$?
	if [[ $status -eq 0 ]]; then
		report_pass "$name" "$start" "$logdir"
	else
		report_fail "$name" "crashed (status $status); input saved in $logdir/"
		show_tail "$logdir/output.log" "$LOG_TAIL_LINES"
	fi
}

# --- boot tests ------------------------------------------------------------------------------

# parse_boot_options OPTIONS...: set the bt_* variables, the options of the boot test being
# run, to the given values or their defaults; on bad usage, set bt_error and fail.
parse_boot_options() {
	bt_cmdline="" bt_expect_exit=success bt_timeout=60 bt_cpus=1 bt_megs=256 bt_typing=""
	bt_modules=() bt_expects=() bt_rejects=() bt_order=() bt_error=""
	while [[ $# -gt 0 ]]; do
		local option=$1
		shift
		if [[ $option == --expect-order ]]; then
			while [[ $# -gt 0 && $1 != --* ]]; do
				bt_order+=("$1")
				shift
			done
			continue
		fi
		if [[ $# -eq 0 ]]; then
			bt_error="option $option needs a value"
			return 1
		fi
		case $option in
		--cmdline)     bt_cmdline=$1 ;;
		--module)      bt_modules+=("$1") ;;
		--expect-exit) bt_expect_exit=$1 ;;
		--expect)      bt_expects+=("$1") ;;
		--reject)      bt_rejects+=("$1") ;;
		--timeout)     bt_timeout=$1 ;;
		--cpus)        bt_cpus=$1 ;;
		--megs)        bt_megs=$1 ;;
		--typing)      bt_typing=$1 ;;
		*)             bt_error="unknown option '$option'"; return 1 ;;
		esac
		shift
	done
	case $bt_expect_exit in
	success | failure | timeout) ;;
	*) bt_error="--expect-exit must be success, failure or timeout"; return 1 ;;
	esac
}

# write_desc EXIT_WORD: print the tools/mkiso description of the boot test being run.
write_desc() {
	local cmdline=$bt_cmdline module
	if [[ ! " $cmdline " =~ \ exit= ]]; then
		cmdline="${cmdline:+$cmdline }$1"
	fi
	echo "kernel ${VIREO_KERNEL:-build/vireo.elf}"
	echo "cmdline $cmdline"
	for module in "${bt_modules[@]}"; do
		echo "module $module"
	done
}

# run_bochs_typing MODEL ISO LOGDIR: a Bochs boot whose COM1 is a TCP port that
# tools/serial-client drives with the script bt_typing (typed input), logging serial.log.
run_bochs_typing() {
	local model=$1 iso=$2 logdir=$3 port status=0
	port=$((20000 + RANDOM % 20000))
	tools/serial-client "$port" "$logdir/serial.log" --script "$bt_typing" \
		>"$logdir/typing.log" 2>&1 &
	local client=$!
	tools/run-bochs --model "$model" --iso "$iso" --logdir "$logdir" --timeout "$bt_timeout" \
		--cpus "$bt_cpus" --megs "$bt_megs" --serial-port "$port" || status=$?
	wait "$client" || true
	return "$status"
}

# run_emulator EMU ISO LOGDIR: boot ISO; the status is the runner's (tools/run-bochs or
# tools/run-qemu): 0 success, 1 failure, 2 QEMU poweroff/reset, 124 timeout, other: problem.
run_emulator() {
	local emu=$1 iso=$2 logdir=$3
	case $emu in
	bochs:*)
		if [[ -n $bt_typing ]]; then
			run_bochs_typing "${emu#bochs:}" "$iso" "$logdir"
			return
		fi
		tools/run-bochs --model "${emu#bochs:}" --iso "$iso" --logdir "$logdir" \
			--timeout "$bt_timeout" --cpus "$bt_cpus" --megs "$bt_megs" ;;
	qemu:*)
		tools/run-qemu --firmware "${emu#qemu:}" --iso "$iso" --logdir "$logdir" \
			--timeout "$bt_timeout" --smp "$bt_cpus" --mem "$bt_megs" ;;
	esac
}

# ending_name STATUS LOGDIR: what a runner's exit status means, in words.
ending_name() {
	case $1 in
	0)   echo success ;;
	1)   if grep -qs 'exception with no resolution' "$2/bochs.log"; then
		     echo "failure (triple fault)"
	     else
		     echo failure
	     fi ;;
	2)   echo "poweroff or reset without debug exit" ;;
	124) echo "timeout after ${bt_timeout}s" ;;
	*)   echo "emulator problem (status $1)" ;;
	esac
}

# check_serial_log LOG: print one reason per pattern that does not hold.
check_serial_log() {
	local log=$1 re line after=0 previous="(start)"
	for re in "${bt_expects[@]}"; do
		grep -qaE -- "$re" "$log" || echo "missing /$re/"
	done
	for re in "${bt_rejects[@]}"; do
		line=$(grep -m1 -aE -- "$re" "$log") && echo "rejected /$re/ matched: $line"
	done
	for re in "${bt_order[@]}"; do
		line=$(grep -naE -- "$re" "$log" | awk -F: -v after="$after" '$1 > after { print $1; exit }')
		if [[ -z $line ]]; then
			echo "order: no /$re/ after /$previous/"
			return
		fi
		after=$line previous=$re
	done
}

boot_test() {
	local name=$1 emu=$2 start logdir status=0 ending
	shift 2
	test_selected "$name" || return 0
	start=$EPOCHREALTIME
	logdir=$(new_logdir "$name")
	if ! parse_boot_options "$@"; then
		report_fail "$name" "bad test: $bt_error"
		return 0
	fi
	case $emu in
	bochs:?* | qemu:bios | qemu:uefi) ;;
	*) report_fail "$name" "bad test: unknown emulator '$emu'"; return 0 ;;
	esac

	write_desc "exit=${emu%%:*}" >"$logdir/desc"
	if ! tools/mkiso "$logdir/vireo.iso" "$logdir/desc" >"$logdir/mkiso.log" 2>&1; then
		report_fail "$name" "ISO not built: $(tail -n 1 "$logdir/mkiso.log")"
		return 0
	fi
	run_emulator "$emu" "$logdir/vireo.iso" "$logdir" || status=$?
	touch "$logdir/serial.log"
	tr -d '\r' <"$logdir/serial.log" >"$logdir/serial.txt"

	local -a reasons=()
	ending=$(ending_name "$status" "$logdir")
	if [[ ${ending%% *} != "$bt_expect_exit" ]]; then
		reasons+=("expected $bt_expect_exit, got $ending")
	fi
	mapfile -t -O "${#reasons[@]}" reasons < <(check_serial_log "$logdir/serial.txt")
	rm -f "$logdir/serial.txt"

	if [[ ${#reasons[@]} -eq 0 ]]; then
		report_pass "$name" "$start" "$logdir"
		return 0
	fi
	local reason_text="" reason
	for reason in "${reasons[@]}"; do
		reason_text+="${reason_text:+; }$reason"
	done
	report_fail "$name" "$reason_text"
	show_tail "$logdir/serial.log" "$LOG_TAIL_LINES"
	# Bochs' info lines drown its errors, panics and final state.
	show_tail "$logdir/bochs.log" "$EMULATOR_TAIL_LINES" '^[0-9]+i\['
	show_tail "$logdir/qemu.log" "$EMULATOR_TAIL_LINES"
}

summary() {
	# Folders such as unit/ that only held logs of passed tests.
	find "$TEST_LOG_ROOT" -mindepth 1 -type d -empty -delete 2>/dev/null || true
	echo "$tests_passed passed, $tests_failed failed"
	[[ $tests_failed -eq 0 ]]
}
