# make bench (not part of make check): disk and network.
# bench-disk: one VM boot, vdpblk.sys in vdphost on one virtio-blk device
# against Linux's virtio_blk on an identical second device.
# bench-net: one VM boot, vdpnet.sys in vdphost against Linux's virtio_net
# on a QEMU hub, and the same traffic between two Linux virtio_net NICs.
# ci/vm/bench.sh prints the tables. Figures are never asserted.
HOSTPROGS += vdpbench vdpnetbench
vdpbench_SRCS   := tests/bench/vdpbench.c
vdpbench_LDLIBS := -static -pthread
vdpnetbench_SRCS   := tests/bench/vdpnetbench.c tests/bench/bench_frame.c
vdpnetbench_LDLIBS := -static

bench-disk: $(HOST_BIN)/vdphost $(HOST_BIN)/vdpbench $(O)/x64/vdpblk.sys
	env VDP_OUT=$(O) ci/vm/bench.sh disk $^
bench-net: $(HOST_BIN)/vdphost $(HOST_BIN)/vdpnetbench $(O)/x64/vdpnet.sys
	env VDP_OUT=$(O) ci/vm/bench.sh net $^
# One after the other: each boot wants the machine to itself.
bench: $(HOST_BIN)/vdphost $(HOST_BIN)/vdpbench $(HOST_BIN)/vdpnetbench $(O)/x64/vdpblk.sys \
		$(O)/x64/vdpnet.sys
	env VDP_OUT=$(O) ci/vm/bench.sh disk $(HOST_BIN)/vdphost $(HOST_BIN)/vdpbench \
		$(O)/x64/vdpblk.sys; rc=$$?; \
	env VDP_OUT=$(O) ci/vm/bench.sh net $(HOST_BIN)/vdphost $(HOST_BIN)/vdpnetbench \
		$(O)/x64/vdpnet.sys && exit $$rc
.PHONY: bench bench-disk bench-net
