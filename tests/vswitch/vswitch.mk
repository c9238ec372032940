# vdpswitch: the vhost-user test switch that carries virtio-net offloads
# between the VM tests' NICs (tests/vswitch/vdpswitch.c, started by
# ci/vm/run-vm.sh for tests.list lines with SWITCH=).
#
#   out/host/bin/vdpswitch           the switch (host program)
#   out/host/tests/test_vsw_offload  unit tests of checksum completion,
#                                    TCP segmentation and the verifier

HOSTPROGS += vdpswitch
vdpswitch_SRCS := tests/vswitch/vdpswitch.c tests/vswitch/vsw_offload.c

HOSTTESTS += test_vsw_offload
test_vsw_offload_SRCS := tests/vswitch/test_vsw_offload.c tests/vswitch/vsw_offload.c

# The VM suite starts the switch from the host side; order-only, so it is
# not copied into the guest with the other prerequisites.
check-vm: | $(HOST_BIN)/vdpswitch

# The switch against a scripted vhost-user front end: segmentation through
# real rings, two queue pairs (enable/disable, per-flow receive rings), and
# hostile rings that must break only their port.
HOSTTESTS += test_vswitch_rings
test_vswitch_rings_SRCS := tests/vswitch/test_vswitch_rings.c tests/vswitch/vsw_offload.c
check-unit-test_vswitch_rings: $(HOST_BIN)/vdpswitch
