#!/bin/sh
# ndis_abi_check.sh WORKDIR KCFLAGS KCFLAGS_x64 KCFLAGS_x86 KLDFLAGS KLDFLAGS_x64 KLDFLAGS_x86
#
# Checks include/ddk/ndis.h on both architectures and prints TAP:
#  - the header compiles (with its _Static_assert ABI tables) for every NDIS 6.x version switch;
#  - src/net/ndis_abi_probe.c, which references every declared NDIS.SYS export, links against
#    mingw's libndis.a, which on x86 proves each prototype's stdcall decoration.
# Flags are passed in from the Makefile so the check uses exactly the driver build flags.
work=$1 kcflags=$2 kldflags=$5
mkdir -p "$work" || exit 1
n=0 fail=0

result() { # result OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

for arch in x64 x86; do
	case $arch in
	x64) triplet=x86_64-w64-mingw32 acflags=$3 aldflags=$6 ;;
	x86) triplet=i686-w64-mingw32 acflags=$4 aldflags=$7 ;;
	esac
	for ver in NDIS60_MINIPORT NDIS61_MINIPORT NDIS620_MINIPORT NDIS630_MINIPORT; do
		src=$work/hdr-$ver.c
		printf '#include <ntddk.h>\n#define NDIS_MINIPORT_DRIVER 1\n#define %s 1\n#include <ndis.h>\nextern int vnet_probe;\nint vnet_probe;\n' \
			"$ver" >"$src"
		# shellcheck disable=SC2086 # flag lists are meant to split
		if $triplet-gcc $kcflags $acflags -isystem /usr/$triplet/include/ddk -c "$src" \
			-o "$work/hdr-$ver-$arch.o"; then
			result OK "$arch: ndis.h compiles with $ver"
		else
			result FAIL "$arch: ndis.h compiles with $ver"
		fi
	done
	obj=$work/probe-$arch.o sys=$work/probe-$arch.sys
	# shellcheck disable=SC2086
	if $triplet-gcc $kcflags $acflags -isystem /usr/$triplet/include/ddk \
		-c src/net/ndis_abi_probe.c -o "$obj" &&
		$triplet-gcc $kldflags $aldflags "$obj" -lndis -lntoskrnl -lhal -lgcc -o "$sys"; then
		result OK "$arch: every declared NDIS export links ($(grep -c '(void \*)Ndis' src/net/ndis_abi_probe.c) functions)"
	else
		result FAIL "$arch: every declared NDIS export links"
	fi
done
echo "1..$n"
exit $fail
