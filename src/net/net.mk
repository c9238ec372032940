# vdpnet: virtio-net NDIS 6.30 miniport (see HACKING.md for the fragment rules).

# Portable network logic (no Windows headers): header parsing, RSS, tx header, rx validation.
WINLIBS  += vnet
HOSTLIBS += vnet
vnet_SRCS := src/net/vnet_parse.c src/net/vnet_rss.c src/net/vnet_tx.c src/net/vnet_rx.c \
	src/net/vnet_ctrl.c src/net/vnet_oid.c src/net/vnet_health.c

DRIVERS += vdpnet
vdpnet_TYPE    := ndis
vdpnet_SRCS    := src/net/ndis_miniport.c src/net/ndis_adapter.c src/net/ndis_oid.c \
	src/net/ndis_tx.c src/net/ndis_rx.c src/net/ndis_virtio.c src/net/ndis_offload.c
vdpnet_LIBS    := vnet virtio
vdpnet_IMPORTS := ndis ntoskrnl hal

HOSTTESTS += test_net_rss test_net_tx test_net_rx test_net_ctrl test_net_oid test_net_bufs \
	test_net_health test_net_rsc
WINETESTS += test_net_rss test_net_tx test_net_rx test_net_ctrl test_net_oid test_net_bufs \
	test_net_health test_net_rsc
test_net_rss_SRCS := tests/unit/test_net_rss.c
test_net_rss_LIBS := vnet
test_net_rss_CFLAGS := -Isrc/net
test_net_tx_SRCS  := tests/unit/test_net_tx.c
test_net_tx_LIBS  := vnet
test_net_tx_CFLAGS := -Isrc/net
test_net_rx_SRCS  := tests/unit/test_net_rx.c
test_net_rx_LIBS  := vnet
test_net_rx_CFLAGS := -Isrc/net
test_net_ctrl_SRCS := tests/unit/test_net_ctrl.c
test_net_ctrl_LIBS := vnet
test_net_ctrl_CFLAGS := -Isrc/net
test_net_oid_SRCS := tests/unit/test_net_oid.c
test_net_oid_LIBS := vnet
test_net_oid_CFLAGS := -Isrc/net
test_net_bufs_SRCS := tests/unit/test_net_bufs.c
test_net_bufs_LIBS := vnet
test_net_bufs_CFLAGS := -Isrc/net
# Hang detection, transmit slot ownership across a reset, the receive pause gate.
test_net_health_SRCS := tests/unit/test_net_health.c
test_net_health_LIBS := vnet
test_net_health_CFLAGS := -Isrc/net
# Receive segment coalescing: GSO validation, segment counts, gathering, software segmentation.
test_net_rsc_SRCS := tests/unit/test_net_rsc.c
test_net_rsc_LIBS := vnet
test_net_rsc_CFLAGS := -Isrc/net

# include/ddk/ndis.h: compiles for every NDIS 6.x switch on x64 and x86 (ABI asserts included),
# and every export it declares links against libndis.a with the right x86 decoration.
CHECKS += ndis-abi
check-ndis-abi: src/net/ndis_abi_check.sh src/net/ndis_abi_probe.c include/ddk/ndis.h
	$(call tap,ndis-abi,src/net/ndis_abi_check.sh $(CHECK_DIR)/ndis-abi "$(KCFLAGS)" \
		"$(KCFLAGS_x64)" "$(KCFLAGS_x86)" "$(KLDFLAGS)" "$(KLDFLAGS_x64)" "$(KLDFLAGS_x86)")
