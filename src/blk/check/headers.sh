#!/bin/sh
# Checks of the StorPort DDK supplement and the SCSI wire header, as TAP.
# Usage: headers.sh OUTDIR   (environment: CC_x64 CC_x86 KCFLAGS KCFLAGS_x64
#        KCFLAGS_x86 KLDFLAGS KLDFLAGS_x64 KLDFLAGS_x86 HOSTCC HOSTCFLAGS)
# Needs OUTDIR/<arch>/lib/libstorport.a (built from include/lib/*.def).
out=$1
# The Makefile passes its flags as BLKH_<name> (they contain commas, which
# make's $(call) would split); plain <name> still works by hand.
for v in CC_x64 CC_x86 KCFLAGS KCFLAGS_x64 KCFLAGS_x86 KLDFLAGS KLDFLAGS_x64 KLDFLAGS_x86 \
	HOSTCC HOSTCFLAGS; do
	eval "if [ -n \"\${BLKH_$v+x}\" ]; then $v=\$BLKH_$v; fi"
done
tmp=$out/check/blk-headers.tmp
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
n=0
result() { # result OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

printf '#include <ntddk.h>\n#include <storport.h>\n' >"$tmp/alone.c"
# mingw's own SCSI headers must be inert after ours (no redefinitions).
printf '#include <storport.h>\n#include <srb.h>\n#include <scsi.h>\n' \
	>"$tmp/mixed.c"
printf '#include <scsi/scsi.h>\nint scsi_only;\n' >"$tmp/scsi.c"

for arch in x64 x86; do
	eval cc=\$CC_$arch flags=\$KCFLAGS_$arch ldflags=\$KLDFLAGS_$arch
	triplet=${cc%-gcc}
	ddk="-isystem /usr/$triplet/include/ddk"
	# shellcheck disable=SC2086
	$cc $KCFLAGS $flags $ddk -c "$tmp/alone.c" -o "$tmp/alone-$arch.o" 2>"$tmp/alone-$arch.err"
	result $? "$arch: <ntddk.h> + <storport.h> alone compiles with -Werror (layout asserts hold)"
	# shellcheck disable=SC2086
	$cc $KCFLAGS $flags $ddk -c "$tmp/mixed.c" -o "$tmp/mixed-$arch.o" 2>"$tmp/mixed-$arch.err"
	result $? "$arch: mingw srb.h/scsi.h included later are inert"
	# shellcheck disable=SC2086
	$cc $KCFLAGS $flags $ddk -c src/blk/check/storport_exports.c -o "$tmp/exports-$arch.o" \
		2>"$tmp/exports-$arch.err"
	result $? "$arch: every export and inline wrapper of <storport.h> compiles"
	# shellcheck disable=SC2086
	$cc -o "$tmp/exports-$arch.sys" "$tmp/exports-$arch.o" $KLDFLAGS $ldflags \
		-L"$out/$arch/lib" -lstorport -lntoskrnl -lhal -lgcc 2>"$tmp/link-$arch.err"
	result $? "$arch: every export links against libstorport.a (no undefined import)"
	# storport.sys exports undecorated names; no @N may reach the import table.
	"$triplet-objdump" -p "$tmp/exports-$arch.sys" 2>/dev/null >"$tmp/imports-$arch.txt"
	count=$(grep -c ' StorPort' "$tmp/imports-$arch.txt")
	expect=$(grep -c '^StorPort' "include/lib/storport-$arch.def")
	! grep ' StorPort' "$tmp/imports-$arch.txt" | grep -q '@' && [ "$count" -eq "$expect" ]
	result $? "$arch: $count of $expect .def exports imported, all undecorated"
done

# shellcheck disable=SC2086
$HOSTCC $HOSTCFLAGS -c "$tmp/scsi.c" -o "$tmp/scsi-host.o" 2>"$tmp/scsi-host.err"
result $? "host: <scsi/scsi.h> compiles without Windows headers"
for f in "$tmp"/*.err; do [ -s "$f" ] && sed 's/^/# /' "$f"; done
exit 0
