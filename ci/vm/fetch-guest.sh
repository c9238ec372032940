#!/bin/sh
# Fetch the guest kernel (Debian linux-image-cloud-amd64) and busybox-static
# into a cache under out/vm/, by download + extract: no postinst, nothing
# written to /boot, nothing installed on the build machine.
# Usage: ci/vm/fetch-guest.sh [CACHE_DIR]   (default out/vm/guest)
# Prints nothing but errors; on success the cache holds:
#   CACHE/kernel/boot/vmlinuz-*  CACHE/kernel/lib/modules/*  CACHE/busybox/bin/busybox
#   CACHE/kver (kernel release string)
set -eu

cache=${1:-out/vm/guest}
fail() { echo "fetch-guest: error: $*" >&2; exit 1; }

command -v apt-get >/dev/null || fail "apt-get not found (Debian host required)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found"

# Old ABI packages leave the mirror after security updates, so follow the
# meta package to whatever ABI the current package lists name.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || fail "cannot resolve linux-image-cloud-amd64 to an ABI package; run 'apt-get update' first"
kver=${kpkg#linux-image-}

if [ -f "$cache/kver" ] && [ "$(cat "$cache/kver")" = "$kver" ] &&
   [ -f "$cache/kernel/boot/vmlinuz-$kver" ] && [ -x "$cache/busybox/bin/busybox" ]; then
	exit 0
fi

rm -rf "$cache"
mkdir -p "$cache/debs"
# apt's _apt sandbox user cannot write to a root-owned cache dir.
sandbox=APT::Sandbox::User=_apt
[ "$(id -u)" = 0 ] && sandbox=APT::Sandbox::User=root
( cd "$cache/debs" && apt-get -q -o "$sandbox" download "$kpkg" busybox-static ) >"$cache/download.log" 2>&1 ||
	fail "apt-get download $kpkg busybox-static failed (offline or stale lists?); see $cache/download.log:
$(tail -n 5 "$cache/download.log")"

set -- "$cache"/debs/linux-image-*.deb
[ -f "$1" ] || fail "kernel package missing after download"
dpkg-deb -x "$1" "$cache/kernel"
set -- "$cache"/debs/busybox-static_*.deb
[ -f "$1" ] || fail "busybox-static package missing after download"
dpkg-deb -x "$1" "$cache/busybox"

[ -f "$cache/kernel/boot/vmlinuz-$kver" ] || fail "vmlinuz-$kver not in $kpkg"
[ -d "$cache/kernel/lib/modules/$kver" ] || fail "modules for $kver not in $kpkg"
[ -x "$cache/busybox/bin/busybox" ] || fail "busybox binary not in busybox-static"
rm -rf "$cache/debs"
echo "$kver" >"$cache/kver"
