# make bench (not part of make check): one VM boot, vdpblk.sys in vdphost on
# one virtio-blk device against Linux's virtio_blk on an identical second
# device; ci/vm/bench.sh prints the table. Figures are never asserted.
HOSTPROGS += vdpbench
vdpbench_SRCS   := tests/bench/vdpbench.c
vdpbench_LDLIBS := -static -pthread

bench: $(HOST_BIN)/vdphost $(HOST_BIN)/vdpbench $(O)/x64/vdpblk.sys
	env VDP_OUT=$(O) ci/vm/bench.sh $^
.PHONY: bench
