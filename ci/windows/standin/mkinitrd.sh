#!/bin/sh
# Build the stand-in guest's initramfs from ci/vm's guest cache (a Debian
# kernel with its modules and busybox-static; ci/vm/fetch-guest.sh).
# Usage: ci/windows/standin/mkinitrd.sh GUEST_CACHE OUTPUT.cpio.gz
set -eu
fail() { echo "standin/mkinitrd: $*" >&2; exit 1; }
[ $# -eq 2 ] || fail "usage: $0 GUEST_CACHE OUTPUT.cpio.gz"
cache=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$cache/kver" ] || fail "$cache has no guest kernel (run ci/vm/fetch-guest.sh)"
kver=$(cat "$cache/kver")
moddir=$cache/kernel/lib/modules/$kver/kernel
[ -x "$cache/busybox/bin/busybox" ] || fail "no busybox in $cache"
command -v cpio >/dev/null || fail "cpio is not installed"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/lib/modules"
cp "$cache/busybox/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init" "$root/init"
cp "$here/udhcpc-script" "$root/bin/udhcpc-script"
chmod 755 "$root/init" "$root/bin/udhcpc-script"
# virtio core, PCI transport, blk and net with their dependencies, in load order.
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
	net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
	[ -f "$moddir/$m.ko" ] || fail "module $m.ko not in $moddir"
	cp "$moddir/$m.ko" "$root/lib/modules/"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9n >"$out"
