# tests/cases/01-layers.sh: the folders' layers (docs/design.md, "Layers"): includes and
# calls point one way, lib <- arch/x86 <- mmu <- core <- drivers <- vmexit <- vm <- boot.
# Sourced by tests/run (see layers_test in tests/lib.sh).

layers_test layers-one-way
