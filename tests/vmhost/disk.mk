# The disk side of the VM test host: the host-side image check must catch a
# single flipped byte in every disk mode (tests/vmhost/check-image.sh).
CHECKS += vmhost-image
check-vmhost-image: $(HOST_BIN)/vdphost
	$(call tap,vmhost-image,tests/vmhost/check-image.sh $(HOST_BIN)/vdphost $(O)/check/vmhost-image.work)
