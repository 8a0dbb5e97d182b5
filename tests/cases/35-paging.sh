# tests/cases/35-paging.sh: the guest's own paging, checked from inside by the paging
# guests: tests/guests/paging.c (4-level paging in long mode: many address spaces, #PF
# error codes and CR2, CR0.WP, A/D bits, INVLPG/MOV CR3/CR4.PGE, live page-table edits,
# 2 MiB and 1 GiB pages, ring 3, SMEP/SMAP) and tests/guests/paging32.c (32-bit paging with
# 4 MiB pages, then PAE paging; several page directories and PDPTs). On corei7_skylake_x the
# CPU walks the guest's tables itself (EPT), which shows the checks are right; the same
# guests then test the shadow MMU (core2_penryn_t9600, and ept=off), below. Uses guest_test and the
# variables of 30-guests.sh (sourced before this file).

guest_test guest-paging "$SKYLAKE" "$GUESTS/paging.elf" paging "" \
	--expect 'paging: PASS: 24 address spaces .* each reads its own pages' \
	--expect 'paging: PASS: fetch from a page with XD: #PF\(0x11\)' \
	--expect 'paging: PASS: ring-3 read of a supervisor page: #PF\(0x5\)' \
	--expect 'paging: PASS: split into 512 PTEs, INVLPG: the contents are the same'
guest_test guest-paging32 "$SKYLAKE" "$GUESTS/paging32.elf" paging32 "" \
	--expect 'paging32: PASS: \[32-bit\] a 4 MiB page: all 1024 of its 4 KiB parts' \
	--expect 'paging32: PASS: \[32-bit\] 8 page directories, 6 rounds of MOV CR3' \
	--expect 'paging32: PASS: \[PAE\] write to a read-only page \(CR0.WP=1\): #PF\(0x3\)' \
	--expect 'paging32: PASS: \[PAE\] two PDPTs 32 bytes apart in one page'

# The same guests on the shadow MMU: on the CPU without EPT, and with ept=off (VPID).
guest_test shadow-penryn-paging "$PENRYN" "$GUESTS/paging.elf" paging "" \
	--expect 'paging: PASS: 24 address spaces .* each reads its own pages' \
	--expect 'vm paging: +of which found in the cache +[1-9]'
guest_test shadow-penryn-paging32 "$PENRYN" "$GUESTS/paging32.elf" paging32 "" \
	--expect 'paging32: PASS: \[PAE\] two PDPTs 32 bytes apart in one page'
guest_test shadow-skylake-paging "$SKYLAKE" "$GUESTS/paging.elf" paging "" --cmdline "ept=off"
guest_test shadow-skylake-paging32 "$SKYLAKE" "$GUESTS/paging32.elf" paging32 "" --cmdline "ept=off"
# Zap-all and slot changes under live mappings (the paging guest's zap mode, trusted): on
# EPT, on the shadow MMU (penryn, and skylake with ept=off), and with zap=slow once.
zap_expects=(
	--expect 'paging: PASS: HC_ZAP_ALL after every address-space visit'
	--expect 'paging: PASS: after the zap-alls every address space still reads its own pages'
	--expect 'paging: PASS: the other address spaces kept their pages, and no slot change needed a zap-all'
	--expect 'paging: PASS: 24 address spaces .* each reads its own pages'
	--expect 'paging: PASS: fetch from a page with XD: #PF\(0x11\)'
	--expect 'paging: PASS: ring-3 read of a supervisor page: #PF\(0x5\)'
)
guest_test zap-skylake "$SKYLAKE" "$GUESTS/paging.elf" paging "trusted -- zap" "${zap_expects[@]}"
guest_test zap-skylake-ept-off "$SKYLAKE" "$GUESTS/paging.elf" paging "trusted -- zap" \
	--cmdline "ept=off" "${zap_expects[@]}"
guest_test zap-penryn "$PENRYN" "$GUESTS/paging.elf" paging "trusted -- zap" \
	"${zap_expects[@]}" --expect 'paging: PASS: zap=fast frees every table'
guest_test zap-penryn-slow "$PENRYN" "$GUESTS/paging.elf" paging "trusted -- zap slow" \
	--cmdline "zap=slow" "${zap_expects[@]}" --expect 'paging: PASS: zap=slow frees no page'
