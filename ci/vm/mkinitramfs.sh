#!/bin/sh
# Build the test initramfs: busybox-static, the uio/vfio modules with their
# dependencies, ci/vm/init, ci/vm/guest-tests.sh and the given files (test
# programs, .sys images) under /t.
# Usage: ci/vm/mkinitramfs.sh GUEST_CACHE OUTPUT.cpio.gz [FILE...]
set -eu

fail() { echo "mkinitramfs: error: $*" >&2; exit 1; }
[ $# -ge 2 ] || fail "usage: $0 GUEST_CACHE OUTPUT.cpio.gz [FILE...]"
cache=$1
out=$2
shift 2
here=$(dirname "$0")

[ -f "$cache/kver" ] || fail "$cache has no guest kernel; run ci/vm/fetch-guest.sh"
kver=$(cat "$cache/kver")
moddir=$cache/kernel/lib/modules/$kver
busybox=$cache/busybox/bin/busybox
[ -x "$busybox" ] || fail "busybox missing in $cache"
command -v cpio >/dev/null || fail "cpio not installed"
command -v objcopy >/dev/null || fail "objcopy (binutils) not installed"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/t" \
	"$root/lib/modules"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init" "$root/init"
cp "$here/guest-tests.sh" "$root/t/guest-tests.sh"
chmod 755 "$root/init"

# Module name -> file. Names use '_' even where file names use '-'.
index=$root/modindex
find "$moddir/kernel" -name '*.ko' | while read -r f; do
	n=$(basename "$f" .ko | tr - _)
	echo "$n $f"
done >"$index"

modinfo_depends() {
	objcopy -O binary --only-section=.modinfo "$1" "$root/modinfo.bin" 2>/dev/null ||
		fail "cannot read .modinfo of $1"
	tr '\0' '\n' <"$root/modinfo.bin" | sed -n 's/^depends=//p' | tr ,- ' _'
}

add_mod() {
	[ -f "$root/lib/modules/$1.ko" ] && return 0
	f=$(awk -v n="$1" '$1 == n { print $2; exit }' "$index")
	[ -n "$f" ] || fail "module $1 not found in $moddir"
	cp "$f" "$root/lib/modules/$1.ko"
	deps=$(modinfo_depends "$f")
	echo "$1: $deps" >>"$root/lib/modules/deps.txt"
	for d in $deps; do
		add_mod "$d"
	done
}
: >"$root/lib/modules/deps.txt"
# VDP_EXTRA_MODS: more modules (make bench adds Linux's virtio_blk).
# virtio_pci, virtio_net: the Linux peer NIC of the network tests (pe-net*).
for m in uio uio_pci_generic irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio_pci_core vfio_pci \
	virtio_pci virtio_net ${VDP_EXTRA_MODS:-}; do
	add_mod "$m"
done
rm -f "$index" "$root/modinfo.bin"

for f in "$@"; do
	[ -f "$f" ] || fail "test file $f not found"
	cp "$f" "$root/t/"
done

mkdir -p "$(dirname "$out")"
# Fixed owner and mtime keep the archive reproducible.
( cd "$root" && find . -mindepth 1 -exec touch -h -d @0 {} + &&
	find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet ) | gzip -n -1 >"$out.tmp"
mv "$out.tmp" "$out"
