# tests/cases/45-interrupts.sh: device interrupts and timers (tests/guests/interrupts.c) on
# every MMU and CPU class: the PIT through the 8259 and through the I/O APIC, the RTC's
# periodic interrupt, the APIC timer's three modes, HLT until an interrupt, STI's shadow,
# TF over an exiting instruction, a self NMI. Sourced by tests/run (see tests/lib.sh).

guest_test interrupts-skylake "$SKYLAKE" "$GUESTS/interrupts.elf" irq
guest_test interrupts-skylake-ept-off "$SKYLAKE" "$GUESTS/interrupts.elf" irq "" \
	--cmdline "ept=off"
guest_test interrupts-lynnfield "$LYNNFIELD" "$GUESTS/interrupts64.elf" irq
guest_test interrupts-penryn "$PENRYN" "$GUESTS/interrupts.elf" irq

# VMs side by side. A VM that spins with interrupts off and never exits shares the CPU
# with two that do their own work: both finish, and the spinner's timeout= ends it.
boot_test sched-spinner-skylake "bochs:$SKYLAKE" --expect-exit failure \
	--module "$GUESTS/spin.elf name=spin timeout=2" \
	--module "$GUESTS/cpuid.elf name=cpuid" --module "$GUESTS/msr.elf name=msr" \
	--expect 'cpuid: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm cpuid: exit status 0' \
	--expect 'msr: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm msr: exit status 0' \
	--expect 'vm spin: stopped: its timeout of 2 s is over' --reject '(cpuid|msr): FAIL'
# Interrupts keep coming to VMs that share the CPU with a spinner ("shared": rates are not
# checked, a VM gets a part of the time). The spinner has interrupts on: Bochs 2.7 holds
# back both the preemption timer's and external interrupts' exits while a guest runs with
# IF=0, against the SDM (../shared/notes). On Core 2 the host's APIC timer ends the runs.
boot_test sched-interrupts-skylake "bochs:$SKYLAKE" --expect-exit failure \
	--module "$GUESTS/spin.elf name=spin timeout=3 -- interrupts-on" \
	--module "$GUESTS/interrupts.elf name=irq1 -- shared" \
	--module "$GUESTS/interrupts.elf name=irq2 -- shared" \
	--expect 'irq1: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm irq1: exit status 0' \
	--expect 'irq2: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm irq2: exit status 0' \
	--expect 'vm spin: stopped: its timeout of 3 s is over' --reject 'irq[12]: FAIL'
# Blocking by NMI stays with its VM: the first VM ends inside its NMI handler (blocked);
# the second, entered next, must take its own self-NMI (Bochs 2.7's VM entry never clears
# the CPU's blocking: vm/run.c works around it).
boot_test nmi-blocking-stays-skylake "bochs:$SKYLAKE" \
	--module "$GUESTS/interrupts.elf name=nmi1 -- nmi-only" \
	--module "$GUESTS/interrupts.elf name=nmi2 -- nmi-only" \
	--expect 'nmi1: PASS: an NMI sent to self arrives' --expect 'vm nmi1: exit status 0' \
	--expect 'nmi2: PASS: an NMI sent to self arrives' --expect 'vm nmi2: exit status 0'
boot_test sched-interrupts-penryn "bochs:$PENRYN" --expect-exit failure \
	--module "$GUESTS/spin.elf name=spin timeout=3 -- interrupts-on" \
	--module "$GUESTS/interrupts.elf name=irq1 -- shared" \
	--expect 'irq1: SUMMARY: [0-9]+ passed, 0 failed' --expect 'vm irq1: exit status 0' \
	--expect 'vm spin: stopped: its timeout of 3 s is over' --reject 'irq1: FAIL'
