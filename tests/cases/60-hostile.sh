# tests/cases/60-hostile.sh: hostile guests (tests/guests/hostile.c), each scenario in a VM
# of its own, several per boot, with a benign VM (the cpuid guest) last in every boot that
# must pass. A hostile VM may finish or be stopped with one "vm NAME: stopped: REASON"
# line; never may Vireo panic, hang, fail a VM entry or stop a VM for an exit it has no
# handler for. Sourced by tests/run (see tests/lib.sh).

HOSTILE=$GUESTS/hostile.elf
# What no hostile guest may cause.
HOSTILE_REJECTS=(--reject 'panic|PANIC|assert' --reject 'VM entry failed'
	--reject 'vm after: stopped: [^d]' --reject 'after: FAIL')

# hostile_boot TEST MODEL ENDING VM... [-- BOOT_TEST_OPTIONS...]: one boot with a VM per
# "NAME:ARGS" word (the hostile guest with module arguments ARGS, ':' for spaces), then the
# benign VM; each hostile VM must end with an exit status or a stopped line.
hostile_boot() {
	local test=$1 model=$2 ending=$3 vm name args
	shift 3
	local -a options=()
	while [[ $# -gt 0 && $1 != -- ]]; do
		vm=$1 name=${1%%:*} args=${1#*:}
		options+=(--module "$HOSTILE name=$name mem=8M ${args//:/ }"
			--expect "vm $name: (exit status [0-9]+|stopped: .+)")
		shift
	done
	[[ $# -gt 0 ]] && shift
	boot_test "$test" "bochs:$model" --expect-exit "$ending" "${options[@]}" \
		--module "$GUESTS/cpuid.elf name=after" \
		--expect 'after: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm after: exit status 0' \
		"${HOSTILE_REJECTS[@]}" "$@"
}

# Scenarios that end by themselves, with checks of the architectural answers.
# random-code seed 1 stops on an instruction the emulator cannot run (deterministic).
hostile_boot hostile-survivors-skylake "$SKYLAKE" failure \
	rcode:timeout=20:--:scenario=random-code:seed=1 \
	wild:timeout=20:--:scenario=wild-writes:seed=2 \
	hcall:trusted:timeout=20:--:scenario=hypercalls:seed=3 \
	ports:timeout=20:--:scenario=ports \
	msrs:timeout=20:--:scenario=msrs:seed=5 \
	vmx:--:scenario=vmx cr:--:scenario=cr-bits movss:timeout=20:--:scenario=mov-ss \
	eptx:timeout=60:--:scenario=ept-exhaust \
	-- --timeout 240 --reject '(vmx|cr|movss|eptx): FAIL' --expect 'vmx: SUMMARY: 15 passed, 0 failed' \
	--expect 'cr: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm rcode: stopped: ' \
	--expect 'wild: hostile: wild writes: survived' --expect 'ports: .*: survived' \
	--expect 'hcall: .*: survived' --expect 'msrs: .*: survived' --expect 'movss: .*: survived' \
	--expect 'eptx: PASS: 40000 reads of unassigned gfns' --expect 'eptx: .*: survived'

# Scenarios that end their VM (exit status 77 = 0x40 + #GP: the 32-bit routines report the
# exception they took through the debug-exit port): broken descriptor tables, execution
# from MMIO, page tables in MMIO (walked there by the emulator too; a remembered MMIO
# store must not replay onto the table entry the CPU's walk exited on), huge REP on MMIO,
# spinning, #DB and #AC loops, 32-bit PAE and task switches.
# The #DB through an IST stack that carries a data breakpoint loops forever, as on
# hardware, but every #DB exits (it is intercepted): the VM's timeout ends it.
hostile_boot hostile-enders-skylake "$SKYLAKE" failure \
	idt0:timeout=3:--:scenario=tables:variant=0 idt1:timeout=3:--:scenario=tables:variant=1 \
	gdt:timeout=3:--:scenario=tables:variant=2 idtirq:timeout=3:--:scenario=tables:variant=3 \
	\
	exec0:timeout=3:--:scenario=exec:variant=0 exec1:timeout=3:--:scenario=exec:variant=1 \
	pt:timeout=3:--:scenario=page-tables \
	rep0:timeout=3:--:scenario=rep-mmio:variant=0 rep1:timeout=3:--:scenario=rep-mmio:variant=1 \
	rep2:timeout=3:--:scenario=rep-mmio:variant=2 spin:timeout=2:--:scenario=spin \
	dbist:timeout=3:--:scenario=db-ist pae:timeout=3:--:scenario=pae-pdpte \
	ts:timeout=3:--:scenario=task-switch ac:timeout=3:--:scenario=ac-loop \
	-- --timeout 150 --expect 'vm idt0: stopped: delivering an exception or interrupt touches MMIO' \
	--expect 'vm idt1: stopped: triple fault' \
	--expect 'vm gdt: stopped: triple fault' --expect 'vm idtirq: stopped: triple fault' \
	--expect 'exec0: PASS: a jump to an unmapped address raises #PF' \
	--expect 'vm exec[01]: stopped: executes code from MMIO' \
	--expect 'pt: SUMMARY: 4 passed, 0 failed' --reject 'pt: FAIL' \
	--expect 'vm rep0: stopped: its timeout' --expect 'vm spin: stopped: its timeout of 2 s' \
	--expect 'vm dbist: stopped: its timeout' --expect 'vm pae: exit status 77' \
	--expect 'vm ts: stopped: hardware task switch \(a JMP to a TSS, TSS selector 0x[0-9a-f]+\): Vireo does not emulate task switches' \
	--expect 'vm ac: stopped: #AC while delivering #AC'
