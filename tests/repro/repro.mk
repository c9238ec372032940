# Reproducibility: two builds in different places and environments must give
# bit-identical drivers (and, once built, catalogs, pack tree and ISO).
CHECKS += repro
check-repro:
	$(call tap,repro,tests/repro/repro-check.sh all)

repro-check: check-repro
	$(Q)cat $(CHECK_DIR)/repro.tap
.PHONY: repro-check
