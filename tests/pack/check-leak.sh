#!/bin/sh
# check-leak.sh MAKE SCRATCH [BRAND_CONF]: TAP. Builds the whole signed pack
# (drivers, INFs, catalogs, ISO, and the MSIs when wixl is installed) for a
# second brand (default brand/example-vendor.conf) into the output directory
# SCRATCH, then proves that no default-brand string is left in any output:
# the pack tree, the unsigned drivers, the ISO and MSI images and their
# extracted contents, file names included.
#
# Searched (case-insensitive, as ASCII, UTF-16LE and UTF-16BE): every value of
# brand/default.conf that the second brand changes, the project name
# "openvdp", and a hardware ID with the default subsystem vendor if the
# second brand dropped it. SCRATCH is kept, so the next run only rebuilds
# what changed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
make=${1:?usage: $0 MAKE SCRATCH [BRAND_CONF]}
scratch=${2:?}
conf=${3:-brand/example-vendor.conf}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-leak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 25 | LC_ALL=C tr -cd '\11\12\40-\176'; }
cd "$top" || exit 1

# ---------------------------------------------------------------- strings
"$top/sign/brand.sh" env brand/default.conf >"$tmp/def.env" 2>"$tmp/log" &&
	"$top/sign/brand.sh" env "$conf" >"$tmp/new.env" 2>>"$tmp/log" || {
	nok "brand files readable"; echo "1..$n"; exit 1; }
# KEY<TAB>VALUE of both, then the default values the new brand changed.
kv() { sed -n "s/^BRAND_\([A-Z0-9_]*\)='\(.*\)'\$/\1	\2/p" "$1" | sed "s/'\\\\''/'/g"; }
kv "$tmp/def.env" >"$tmp/def.kv"
kv "$tmp/new.env" >"$tmp/new.kv"
awk -F '\t' 'NR == FNR { nv[$1] = $2; next }
	# Not text that ends up in files: signing settings, the driver list,
	# and the subsystem IDs (searched as hardware IDs below).
	$1 ~ /^(CERT_|TIMESTAMP_URL$|DRIVERS$|SUBSYS_VENDOR_IDS$)/ { next }
	$2 != "" && ($1 in nv) && tolower(nv[$1]) != tolower($2) { print $2 }' \
	"$tmp/new.kv" "$tmp/def.kv" >"$tmp/strings"
echo openvdp >>"$tmp/strings"
defss=$(awk -F '\t' '$1 == "SUBSYS_VENDOR_IDS" { print $2 }' "$tmp/def.kv")
newss=$(awk -F '\t' '$1 == "SUBSYS_VENDOR_IDS" { print $2 }' "$tmp/new.kv")
for v in $defss; do
	case " $newss " in *" $v "*) ;; *) echo "SUBSYS_????$v" ;; esac
done >"$tmp/ssids"
sort -u "$tmp/strings" -o "$tmp/strings"
if [ "$(wc -l <"$tmp/strings")" -lt 5 ]; then
	cp "$tmp/strings" "$tmp/log"; nok "the second brand changes the default names (too few differences)"
	echo "1..$n"; exit 1
fi
ok "$(wc -l <"$tmp/strings") default-brand strings to look for: $(tr '\n' '|' <"$tmp/strings" | sed 's/|$//')"

# ---------------------------------------------------------------- build
build_ok=1
# MAKEFLAGS stays (the jobserver is shared); the explicit settings win over
# the caller's, and the second brand gets its own test key.
if $make -C "$top" O="$scratch" BRAND="$conf" TEST_KEY_DIR= PACK_NAMES=brand pack >"$tmp/log" 2>&1; then
	ok "pack for $(basename "$conf") builds into $scratch"
else
	nok "pack for $(basename "$conf") builds"; build_ok=0
fi
have_msi=0
if [ $build_ok = 1 ] && command -v wixl >/dev/null 2>&1 && command -v msiextract >/dev/null 2>&1; then
	if $make -C "$top" O="$scratch" BRAND="$conf" TEST_KEY_DIR= PACK_NAMES=brand msi >"$tmp/log" 2>&1; then
		ok "MSIs for $(basename "$conf") build"; have_msi=1
	else
		nok "MSIs for $(basename "$conf") build"
	fi
fi
[ $build_ok = 1 ] || { echo "1..$n"; exit 1; }

# ---------------------------------------------------------------- unpack images
mkdir -p "$tmp/x"
isos=$(ls "$scratch"/*.iso 2>/dev/null)
for iso in $isos; do
	d=$tmp/x/$(basename "$iso")
	if xorriso -osirrox on -indev "$iso" -extract / "$d" >"$tmp/log" 2>&1 && [ -n "$(ls "$d")" ]; then
		ok "extracted $(basename "$iso")"
	else
		nok "extract $(basename "$iso")"
	fi
done
[ -n "$isos" ] || { echo "no ISO" >"$tmp/log"; nok "the pack has an ISO"; }
msis=
if [ $have_msi = 1 ]; then
	msis=$(ls "$scratch"/*.msi 2>/dev/null)
	for msi in $msis; do
		d=$tmp/x/$(basename "$msi")
		mkdir -p "$d"
		if msiextract -C "$d" "$msi" >"$tmp/log" 2>&1 && [ -n "$(find "$d" -type f)" ]; then
			ok "extracted $(basename "$msi")"
		else
			nok "extract $(basename "$msi")"
		fi
	done
fi

# ---------------------------------------------------------------- scan
# hits FILE: the searched strings found in FILE's content, one per line.
# `strings` pulls out every printable run (ASCII, UTF-16LE, UTF-16BE, at any
# alignment); a searched string is printable, so it is inside such a run.
hits() {
	{ strings -a -n 4 -e s "$1"; strings -a -n 4 -e l "$1"; strings -a -n 4 -e b "$1"; } >"$tmp/runs"
	grep -i -o -F -f "$tmp/strings" "$tmp/runs"
	[ -s "$tmp/ssids" ] && grep -i -o -f "$tmp/ssids" "$tmp/runs"
	true
}
# Outputs: the pack tree, the unsigned drivers, the images, what is inside.
{
	find "$scratch/pack" -type f
	for a in x64 x86; do ls "$scratch/$a"/*.sys 2>/dev/null; done
	for f in $isos $msis; do echo "$f"; done
	find "$tmp/x" -type f
} | sort >"$tmp/files"

# One result per distinct content: the same .sys sits in six OS folders.
while IFS= read -r f; do
	printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"
done <"$tmp/files" >"$tmp/sums"
for h in $(cut -d' ' -f1 "$tmp/sums" | sort -u); do
	paths=$(awk -v h="$h" '$1 == h { sub(/^[^ ]* /, ""); print }' "$tmp/sums" |
		sed -e "s|^$scratch/||" -e "s|^$tmp/x/||")
	f=$(awk -v h="$h" '$1 == h { sub(/^[^ ]* /, ""); print; exit }' "$tmp/sums")
	label=$(echo "$paths" | head -n 1)
	more=$(($(echo "$paths" | wc -l) - 1))
	[ $more -gt 0 ] && label="$label (+$more identical)"
	found=$(hits "$f" | sort -fu | tr '\n' '|' | sed 's/|$//')
	if [ -z "$found" ]; then
		ok "no default-brand string in $label"
	else
		echo "$paths" | sed 's/^/in: /' >"$tmp/log"
		nok "default-brand strings in $label: $found"
	fi
done
# The other side: the second brand did reach the drivers and INFs (a build
# that silently fell back to neutral names would pass the scan above).
newvendor=$(awk -F '\t' '$1 == "VENDOR" { print $2 }' "$tmp/new.kv")
newprov=$(awk -F '\t' '$1 == "PROVIDER" { print $2 }' "$tmp/new.kv")
: >"$tmp/log"
for f in $(find "$scratch/pack" -name '*.sys'); do
	strings -a -n 4 -e l "$f" | grep -q -F "$newvendor" || echo "no \"$newvendor\" (UTF-16) in $f" >>"$tmp/log"
done
for f in $(find "$scratch/pack" -name '*.inf'); do
	grep -q -F "Provider = \"$newprov\"" "$f" || grep -q -F "\"$newprov\"" "$f" ||
		echo "no \"$newprov\" in $f" >>"$tmp/log"
done
if [ -s "$tmp/log" ]; then
	nok "second brand's names in every shipped driver and INF"
else
	ok "every shipped .sys names \"$newvendor\" (version resource), every INF \"$newprov\""
fi

# File names, in the tree and inside the images.
sed -e "s|^$scratch/||" -e "s|^$tmp/x/||" "$tmp/files" >"$tmp/names"
found=$( { grep -i -o -F -f "$tmp/strings" "$tmp/names"; } | sort -fu | tr '\n' '|' | sed 's/|$//')
# The unsigned drivers keep their build names (out/<arch>/<id>.sys): not shipped.
if [ -n "$(grep -i -F -f "$tmp/strings" "$tmp/names" | grep -v '^x[0-9]*/[a-z0-9_]*\.sys$')" ]; then
	grep -i -F -f "$tmp/strings" "$tmp/names" | grep -v '^x[0-9]*/[a-z0-9_]*\.sys$' >"$tmp/log"
	nok "default-brand strings in shipped file names: $found"
else
	ok "no default-brand string in the $(wc -l <"$tmp/names") file names"
fi
echo "1..$n"
