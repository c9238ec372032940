#!/bin/sh
# check-virtio-win.sh OUT MKCAT "DRIVERS" "ARCHES": TAP. Builds a
# PACK_NAMES=virtio-win pack (with ISO) from the drivers in OUT/<arch>/ into a
# scratch directory, unpacks the ISO and looks drivers up the way virt-v2v
# does (convert/windows_virtio.ml): every file whose lower-cased path has an
# architecture element (/x86/ or /i386/, /amd64/) and a Windows version
# element (/w10/, /2k19/, ...) is copied, flattened to its lower-cased base
# name, and the block driver must then be viostor.sys, the network driver
# netkvm.inf, the RNG driver viorng.inf. Also checks the auto-detect tree
# <arch>/<os>/ and the manifest data/info.json.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: $0 OUT MKCAT DRIVERS ARCHES}
mkcat=${2:?}
drivers=${3?}
arches=${4:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-vw.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 15; }
: "${SOURCE_DATE_EPOCH:=1735689600}"
export SOURCE_DATE_EPOCH

if [ -z "$drivers" ]; then
	echo "ok 1 - # SKIP no drivers built yet"; echo "1..1"; exit 0
fi
for a in $arches; do
	mkdir -p "$tmp/o/$a"
	for d in $drivers; do cp "$out/$a/$d.sys" "$tmp/o/$a/" || exit 1; done
done
"$top/sign/testpki.sh" "$tmp/keys" "Check virtio-win" >"$tmp/log" 2>&1 || nok "test PKI"
if TEST_KEY_DIR=$tmp/keys PACK_NAMES=virtio-win "$top/sign/mkpack.sh" "$tmp/o" "$top/brand/default.conf" \
	"$mkcat" "$drivers" "$arches" >"$tmp/log" 2>&1; then
	ok "PACK_NAMES=virtio-win pack builds"
else
	nok "PACK_NAMES=virtio-win pack"; echo "1..$n"; exit 1
fi
iso=$(ls "$tmp"/o/*.iso)
iso_root=$tmp/iso
if xorriso -osirrox on -indev "$iso" -extract / "$iso_root" >"$tmp/log" 2>&1; then
	ok "ISO extracted"
else
	nok "ISO extract"; echo "1..$n"; exit 1
fi
eval "$("$top/sign/brand.sh" env "$top/brand/default.conf")"

# ---------------------------------------------------------------- virt-v2v lookup
# v2v_os PATH: the Windows version virt-v2v reads from a path, "" if none.
# The order is virt-v2v's (first match wins); 2k25 is what newer releases add.
v2v_os() {
	for e in xp:xp winxp:xp 2k3:2k3 win2003:2k3 vista:vista 2k8:2k8 win2008:2k8 w7:w7 win7:w7 \
		2k8r2:2k8r2 win2008r2:2k8r2 w8:w8 win8:w8 2k12:2k12 win2012:2k12 w8.1:w8.1 win8.1:w8.1 \
		2k12r2:2k12r2 win2012r2:2k12r2 w10:w10 win10:w10 w11:w11 win11:w11 2k16:2k16 \
		win2016:2k16 2k19:2k19 win2019:2k19 2k22:2k22 win2022:2k22 2k25:2k25 win2025:2k25; do
		case $1 in */${e%%:*}/*) echo "${e#*:}"; return ;; esac
	done
}
v2v_arch() {
	case $1 in */x86/* | */i386/*) echo i386 ;; */amd64/*) echo x86_64 ;; esac
}
# Both spellings virt-v2v sees: "./a/b" (directory, find -L) and "a/b" (ISO).
(cd "$iso_root" && find . -type f) | LC_ALL=C sort >"$tmp/paths"
for p in $(cat "$tmp/paths"); do
	for q in "$p" "${p#./}"; do
		lc=$(echo "$q" | tr A-Z a-z)
		printf '%s\t%s\t%s\t%s\n' "$(v2v_arch "$lc")" "$(v2v_os "$lc")" "$(basename "$lc")" "${p#./}"
	done
done >"$tmp/matches"

guests="x86_64:w10 x86_64:w11 x86_64:2k16 x86_64:2k19 x86_64:2k22 x86_64:2k25"
case " $arches " in *" x86 "*) guests="$guests i386:w10" ;; esac
for g in $guests; do
	garch=${g%%:*} gos=${g#*:}
	awk -F '\t' -v a="$garch" -v o="$gos" '$1 == a && $2 == o' "$tmp/matches" >"$tmp/sel"
	: >"$tmp/log"
	# Flattening must not make two different files collide.
	for b in $(cut -f3 "$tmp/sel" | sort -u); do
		srcs=$(awk -F '\t' -v b="$b" '$3 == b { print $4 }' "$tmp/sel" | sort -u)
		first=$(echo "$srcs" | head -n 1)
		for s in $srcs; do
			cmp -s "$iso_root/$first" "$iso_root/$s" || echo "collision: $first vs $s" >>"$tmp/log"
		done
	done
	want=
	for d in $drivers; do
		vw=$(sed -n 's/^@@virtio_win_name //p' "$top/inf/$d.inf.in")
		want="$want ${vw#* }.sys ${vw#* }.inf ${vw#* }.cat"
	done
	for w in $want; do
		cut -f3 "$tmp/sel" | grep -qx "$w" || echo "missing: $w" >>"$tmp/log"
	done
	# virt-v2v's own driver detection on the copied set.
	case " $drivers " in *" vdpblk "*) cut -f3 "$tmp/sel" | grep -qx viostor.sys || echo "no viostor.sys: guest would boot from IDE" >>"$tmp/log" ;; esac
	case " $drivers " in *" vdpnet "*) cut -f3 "$tmp/sel" | grep -qx netkvm.inf || echo "no netkvm.inf: guest would get an RTL8139" >>"$tmp/log" ;; esac
	case " $drivers " in *" vdprng "*) cut -f3 "$tmp/sel" | grep -qx viorng.inf || echo "no viorng.inf" >>"$tmp/log" ;; esac
	if [ -s "$tmp/log" ]; then
		nok "virt-v2v lookup for a $gos $garch guest"
	else
		ok "virt-v2v lookup for a $gos $garch guest: $(cut -f3 "$tmp/sel" | sort -u | tr '\n' ' ')"
	fi
done
# A 32-bit guest of a version the pack does not ship for must find nothing.
if [ -z "$(awk -F '\t' '$1 == "i386" && $2 == "w11"' "$tmp/matches")" ]; then
	ok "virt-v2v lookup for a w11 i386 guest finds nothing (not shipped)"
else
	awk -F '\t' '$1 == "i386" && $2 == "w11"' "$tmp/matches" >"$tmp/log"; nok "w11 i386 files"
fi

# ---------------------------------------------------------------- auto-detect tree
: >"$tmp/log"
for inf in $(grep -E '^\./[^/]+/[^/]+/(amd64|x86)/[^/]+\.inf$' "$tmp/paths"); do
	rel=${inf#./}
	os=$(echo "$rel" | cut -d/ -f2) arch=$(echo "$rel" | cut -d/ -f3) base=$(basename "$rel" .inf)
	auto=$arch; [ "$arch" = x86 ] && auto=i386
	for ext in sys inf cat; do
		cmp -s "$iso_root/${rel%.inf}.$ext" "$iso_root/$auto/$os/$base.$ext" ||
			echo "$auto/$os/$base.$ext missing or different from ${rel%.inf}.$ext" >>"$tmp/log"
	done
done
extra=$(grep -E '^\./(amd64|i386)/' "$tmp/paths" | while read -r p; do
	b=$(basename "$p"); os=$(echo "$p" | cut -d/ -f3); a=$(echo "$p" | cut -d/ -f2)
	[ "$a" = i386 ] && a=x86
	ls "$iso_root"/*/"$os/$a/$b" >/dev/null 2>&1 || echo "$p"
done)
[ -z "$extra" ] || echo "auto-detect files without a package: $extra" >>"$tmp/log"
if [ -s "$tmp/log" ]; then
	nok "auto-detect tree amd64/<os>/, i386/<os>/"
else
	ok "auto-detect tree: $(cd "$iso_root" && ls -d amd64/* i386/* 2>/dev/null | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- manifest
j=$iso_root/data/info.json
if [ ! -f "$j" ]; then
	echo "no data/info.json" >"$tmp/log"; nok "manifest data/info.json"
elif ! jq -e '.drivers | type == "array"' "$j" >/dev/null 2>"$tmp/log"; then
	nok "data/info.json is JSON with a drivers array"
else
	ok "data/info.json is JSON with a drivers array"
	: >"$tmp/log"
	jq -r '.drivers[] | [.inf_path, .arch, .windows_version, .driver_version, .name, (keys | join(","))] | @tsv' \
		"$j" >"$tmp/entries"
	while IFS='	' read -r path arch os dv name keys; do
		[ "$keys" = "arch,driver_version,inf_path,name,windows_version" ] || echo "$path: keys $keys" >>"$tmp/log"
		[ -f "$iso_root/$path" ] || { echo "$path: no such INF" >>"$tmp/log"; continue; }
		[ "$(echo "$path" | cut -d/ -f2)/$(echo "$path" | cut -d/ -f3)" = "$os/$arch" ] ||
			echo "$path: windows_version/arch $os/$arch do not match the path" >>"$tmp/log"
		idv=$(sed -n 's/^DriverVer *= *\([^ ;]*\).*/\1/p' "$iso_root/$path" | tr -d '\r')
		[ "$dv" = "$idv" ] || echo "$path: driver_version $dv, INF says $idv" >>"$tmp/log"
		grep -q "^DeviceDesc *= *\"$name\"" "$iso_root/$path" ||
			echo "$path: name \"$name\" is not the INF's DeviceDesc" >>"$tmp/log"
	done <"$tmp/entries"
	cut -f1 "$tmp/entries" | LC_ALL=C sort >"$tmp/listed"
	grep -E '^\./[^/]+/[^/]+/[^/]+/[^/]+\.inf$' "$tmp/paths" | sed 's|^\./||' |
		grep -vE '^(amd64|i386)/' | LC_ALL=C sort >"$tmp/infs"
	if ! cmp -s "$tmp/listed" "$tmp/infs"; then
		diff "$tmp/infs" "$tmp/listed" >>"$tmp/log"
	fi
	if [ -s "$tmp/log" ]; then
		nok "data/info.json entries"
	else
		ok "data/info.json: $(wc -l <"$tmp/entries") entries, one per <driver>/<os>/<arch> INF, matching the INFs"
	fi
fi
echo "1..$n"
