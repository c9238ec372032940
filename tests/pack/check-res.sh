#!/bin/sh
# check-res.sh RESDUMP BRAND_CONF "DRIVERS" SYS...: TAP. Reads the VERSIONINFO
# resource back from every built driver (OUT/<arch>/<id>.sys) and compares
# each field with the brand; then checks that resdump rejects damaged images
# with one clear message.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
resdump=${1:?usage: $0 RESDUMP BRAND_CONF DRIVERS SYS...}
conf=${2:?}
drivers=${3?}
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-res.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 20; }

if [ $# -eq 0 ]; then
	echo "ok 1 - # SKIP no drivers built yet"; echo "1..1"; exit 0
fi
eval "$("$top/sign/brand.sh" env "$conf")" || { echo "not ok 1 - brand $conf"; exit 1; }
commas=$(echo "$BRAND_VERSION" | tr . ,)

for sys in "$@"; do
	id=${sys##*/}; id=${id%.sys}
	up=$(echo "$id" | tr a-z- A-Z_)
	eval "file=\${BRAND_${up}_FILE:-$id} desc=\${BRAND_${up}_DESC:-\$BRAND_PRODUCT}"
	name=$(basename "$(dirname "$sys")")/$id.sys
	if ! "$resdump" "$sys" >"$tmp/got" 2>"$tmp/log"; then
		nok "$name: version resource readable"
		continue
	fi
	# The exact expected dump: order of the strings included.
	cat >"$tmp/want" <<EOF
resource.language=0x0409
fixed.struc_version=0x00010000
fixed.file_version=$BRAND_VERSION
fixed.product_version=$BRAND_VERSION
fixed.flags_mask=0x3F
fixed.flags=0x0
fixed.os=0x40004
fixed.type=0x3
fixed.subtype=0x7
fixed.date=0x0000000000000000
string.040904B0.CompanyName=$BRAND_VENDOR
string.040904B0.FileDescription=$desc
string.040904B0.FileVersion=$BRAND_VERSION
string.040904B0.InternalName=$file.sys
string.040904B0.LegalCopyright=$BRAND_COPYRIGHT
string.040904B0.OriginalFilename=$file.sys
string.040904B0.ProductName=$BRAND_PRODUCT
string.040904B0.ProductVersion=$BRAND_VERSION
var.Translation=0x0409,1200
EOF
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/log" 2>&1; then
		ok "$name: version resource matches brand $(basename "$conf") ($file.sys $commas, VOS_NT_WINDOWS32, VFT_DRV/VFT2_DRV_SYSTEM)"
	else
		nok "$name: version resource differs from the brand"
	fi
done

# Damaged images: a clear one-line error, exit 1, never a crash.
first=$1
head -c 700 "$first" >"$tmp/trunc.sys"
printf 'MZ' >"$tmp/mz.sys"; head -c 4000 /dev/zero >>"$tmp/mz.sys"
# Cut the resource section short: the file header still promises it.
size=$(stat -c %s "$first")
head -c $((size - size / 3)) "$first" >"$tmp/cut.sys"
for bad in trunc mz cut; do
	"$resdump" "$tmp/$bad.sys" >/dev/null 2>"$tmp/log"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/log")" -eq 1 ] && grep -q "^resdump: $tmp/$bad.sys: " "$tmp/log"; then
		ok "damaged image ($bad) rejected:$(cut -d: -f3- "$tmp/log" | LC_ALL=C tr -cd '[:print:]')"
	else
		echo "exit status $rc" >>"$tmp/log"; nok "damaged image ($bad)"
	fi
done
echo "1..$n"
