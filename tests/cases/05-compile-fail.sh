# tests/cases/05-compile-fail.sh: misuse that must be a build error, not a runtime surprise.
# Sourced by tests/run (see compile_fail_test in tests/lib.sh).

compile_fail_test vmcs-accessor-width tests/compile_fail/vmcs_width.c \
	'VMCS_GUEST_RIP has another width'
