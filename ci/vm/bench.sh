#!/bin/sh
# make bench: one VM boot (same kernel, same QEMU, TCG), two identical
# virtio-blk devices on raw images (cache=unsafe, aio=threads): the first
# driven by vdpblk.sys inside vdphost, the second by Linux's virtio_blk.
# Prints a table: metric, vdpblk, Linux virtio-blk, ratio. Figures are
# printed, never asserted; the exit status only says whether both ran.
# Usage: ci/vm/bench.sh VDPHOST VDPBENCH VDPBLK.SYS
# Environment: VDP_OUT (default out), VDP_BENCH_SECONDS (per measurement,
# default 5), VDP_BENCH_DISK (image size, default 256M), VDP_ACCEL.
set -u

here=$(dirname "$0")
out=${VDP_OUT:-out}
secs=${VDP_BENCH_SECONDS:-5}
[ $# -eq 3 ] || { echo "usage: $0 VDPHOST VDPBENCH VDPBLK.SYS" >&2; exit 2; }
case "$secs" in '' | *[!0-9]*) echo "bench: VDP_BENCH_SECONDS must be a number" >&2; exit 2 ;; esac
export VDP_GUEST="$out/vm/guest"
mkdir -p "$out/vm"
work=$(mktemp -d "$out/vm/bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export VDP_LOGDIR="$out/vm/logs"

"$here/fetch-guest.sh" "$VDP_GUEST" || exit 1
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
