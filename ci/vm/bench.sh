#!/bin/sh
# make bench: one VM boot per benchmark (same kernel, same QEMU, TCG).
#
# disk: two identical virtio-blk devices on raw images (cache=unsafe,
# aio=threads): the first driven by vdpblk.sys inside vdphost, the second by
# Linux's virtio_blk. Table: metric, vdpblk, Linux virtio-blk, ratio.
#
# net: four virtio-net NICs on two QEMU hubs (-netdev hubport; no virtio-net
# header crosses a hub, so no checksum or TSO offload is offered). Hub 0:
# vdpnet.sys in vdphost (INTx through uio_pci_generic) and Linux's
# virtio_net with the peer's UDP sockets. Hub 1, the Linux baseline: Linux's
# virtio_net under an AF_PACKET socket sending and receiving the very same
# frames, and Linux's virtio_net with the same peer sockets. Both sides run
# in the same VM, one after the other. Table: metric, vdpnet, Linux
# virtio-net, ratio.
#
# Figures are printed, never asserted; the exit status only says whether
# both sides ran.
# Usage: ci/vm/bench.sh disk VDPHOST VDPBENCH VDPBLK.SYS
#        ci/vm/bench.sh net VDPHOST VDPNETBENCH VDPNET.SYS
#        ci/vm/bench.sh VDPHOST VDPBENCH VDPBLK.SYS        (disk, as before)
# Environment: VDP_OUT (default out), VDP_BENCH_SECONDS (per measurement,
# default 5), VDP_BENCH_DISK (image size, default 256M), VDP_ACCEL.
set -u

here=$(dirname "$0")
out=${VDP_OUT:-out}
secs=${VDP_BENCH_SECONDS:-5}
kind=disk
case "${1:-}" in disk | net) kind=$1; shift ;; esac
[ $# -eq 3 ] || { echo "usage: $0 [disk|net] VDPHOST PEER_PROGRAM DRIVER.SYS" >&2; exit 2; }
case "$secs" in '' | *[!0-9]*) echo "bench: VDP_BENCH_SECONDS must be a number" >&2; exit 2 ;; esac
export VDP_GUEST="$out/vm/guest"
mkdir -p "$out/vm"
work=$(mktemp -d "$out/vm/bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export VDP_LOGDIR="$out/vm/logs"

"$here/fetch-guest.sh" "$VDP_GUEST" || exit 1

if [ "$kind" = disk ]; then
	VDP_EXTRA_MODS="virtio_pci virtio_blk" "$here/mkinitramfs.sh" "$VDP_GUEST" "$work/initrd.gz" "$@" || exit 1
	for d in 0 1; do
		truncate -s "${VDP_BENCH_DISK:-256M}" "$work/d$d.img"
	done
	# Boot, two drivers x four measurements, and slack for a slow host.
	VDP_VM_TIMEOUT=$((secs * 8 * 3 + 60)) "$here/run-vm.sh" bench "bench:$(basename "$3"):$secs" \
		"$work/initrd.gz" \
		-drive "file=$work/d0.img,if=none,format=raw,id=d0,cache=unsafe,aio=threads" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on \
		-drive "file=$work/d1.img,if=none,format=raw,id=d1,cache=unsafe,aio=threads" \
		-device virtio-blk-pci,drive=d1,disable-legacy=on >"$work/out" </dev/null
	rc=$?
	grep -v VDPBENCH "$work/out"

	awk -v secs="$secs" '
		$2 == "VDPBENCH" { v[$3] = $4 }
		$2 == "VDPBENCH-LINUX" { l[$3] = $4 }
		END {
			n = split("seqwrite-1m-mbs seqread-1m-mbs randread-4k-qd1-iops randread-4k-qd32-iops", m, " ")
			printf "\n%-24s %12s %18s %8s\n", "metric", "vdpblk", "Linux virtio-blk", "ratio"
			for (i = 1; i <= n; i++) {
				a = (m[i] in v) ? v[m[i]] : "-"
				b = (m[i] in l) ? l[m[i]] : "-"
				r = (a != "-" && b != "-" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-"
				printf "%-24s %12s %18s %8s\n", m[i], a, b, r
			}
			printf "\n%s s per measurement, TCG; vdpblk requests of %s bytes per SRB (1 MiB split like the\n", secs, v["request"]
			printf "Windows class driver does), Linux 1 MiB O_DIRECT preads/pwrites; QD32 = 32 threads at QD1.\n"
		}' "$work/out"
	exit $rc
fi

# ---- net ----
"$here/mkinitramfs.sh" "$VDP_GUEST" "$work/initrd.gz" "$@" || exit 1
nic() { # hub, slot, mac suffix
	echo "-netdev hubport,id=h$2,hubid=$1 -device virtio-net-pci,netdev=h$2,addr=$2.0,disable-legacy=on,mac=52:54:00:12:34:$3"
}
# Boot, two sides x four measurements (each up to twice its time with the
# peer's start and drain), and slack for a slow host.
# shellcheck disable=SC2046 # nic() prints separate QEMU arguments
VDP_VM_TIMEOUT=$((secs * 8 * 3 + 120)) "$here/run-vm.sh" bench-net "netbench:$(basename "$3"):$secs" \
	"$work/initrd.gz" SMP=2 $(nic 0 03 56) $(nic 0 04 57) $(nic 1 05 58) $(nic 1 06 59) \
	>"$work/out" </dev/null
rc=$?
grep -v VDPNETBENCH "$work/out"

awk -v secs="$secs" '
	$2 == "VDPNETBENCH" { v[$3] = $4 }
	$2 == "VDPNETBENCH-LINUX" { l[$3] = $4 }
	END {
		n = split("tx-full-gbit tx-full-pps tx-small-pps rx-full-gbit rx-full-pps rx-small-pps", m, " ")
		printf "\n%-16s %14s %18s %8s\n", "metric", "vdpnet", "Linux virtio-net", "ratio"
		for (i = 1; i <= n; i++) {
			a = (m[i] in v) ? v[m[i]] : "-"
			b = (m[i] in l) ? l[m[i]] : "-"
			r = (a != "-" && b != "-" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-"
			printf "%-16s %14s %18s %8s\n", m[i], a, b, r
		}
		printf "\n%s s per measurement, TCG, 2 vCPUs, one VM. tx = from the driver side to Linux'"'"'s\n", secs
		printf "stack on a second NIC (UDP sink socket), rx = Linux'"'"'s stack (UDP socket) to the driver\n"
		printf "side; full = 1472-byte UDP payloads (1514-byte frames, Gbit/s of payload), small =\n"
		printf "18-byte payloads (64-byte frames). vdpnet: vdpnet.sys in vdphost (INTx, emulated NDIS,\n"
		printf "2 threads, 16 NBLs x 8 NET_BUFFERs per send call); Linux: virtio_net under an AF_PACKET\n"
		printf "socket, one frame per send(). NIC pairs on QEMU hubs (no offloads); rates as received.\n"
	}' "$work/out"
exit $rc
