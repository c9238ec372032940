# ci/windows: scripts that run the disk and network checks on a real Windows
# VM (docs/windows-vm-testing.md). Nothing to build; `make check` runs their
# self-test (syntax, answer files, test ISO, QEMU machines, and a whole run
# with a Linux stand-in guest once ci/vm has cached its guest kernel).
CHECKS += windows-scripts
# After check-vm when there is one: it fetches the guest the stand-in uses.
check-windows-scripts: pack | $$(filter check-vm,$$(addprefix check-,$$(CHECKS)))
	$(call tap,windows-scripts,env VDP_WIN_WORK=$(O)/windows-selftest VDP_GUEST=$(O)/vm/guest \
		VDP_PACK_ISO=$(firstword $(wildcard $(O)/*-drivers-$(VERSION).iso)) ci/windows/selftest.sh)
