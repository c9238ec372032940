#!/bin/sh
# Installs everything OpenVDP needs to build the pack and run `make check`,
# from Debian 12 packages only. Run as root (or through sudo).
set -eu

PACKAGES="
	make gcc libc6-dev git
	gcc-mingw-w64-x86-64 gcc-mingw-w64-i686
	binutils-mingw-w64-x86-64 binutils-mingw-w64-i686
	mingw-w64-x86-64-dev mingw-w64-i686-dev
	libcmocka-dev libssl-dev openssl osslsigncode
	wine wine64
	qemu-system-x86 qemu-utils busybox-static cpio kmod
	xorriso wixl msitools faketime softhsm2 libengine-pkcs11-openssl
	libxml2-utils ovmf mono-mcs
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root, e.g. sudo $0" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A mirror caught mid-sync makes update fail for one index; the install
# below still fails clearly if a package really cannot be had.
apt-get update -q || echo "install-deps.sh: apt-get update reported errors, continuing" >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PACKAGES
