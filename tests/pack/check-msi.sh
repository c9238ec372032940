#!/bin/sh
# check-msi.sh OUT BRAND_CONF "ARCHES": TAP. Builds the MSIs (sign/mkmsi.sh)
# from OUT/pack twice, in two scratch directories, and checks: the signature
# verifies, every driver file of the pack is in the File table, the
# pnputil custom action is scheduled, and both builds are byte-identical.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: $0 OUT BRAND_CONF ARCHES}
conf=${2:?}
arches=${3:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-msi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 15; }

for tool in wixl msibuild msiinfo faketime; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "ok 1 - # SKIP $tool not installed (Debian packages wixl msitools faketime)"
		echo "1..1"
		exit 0
	fi
done
if [ ! -f "$out/pack/SHA256SUMS" ]; then
	echo "ok 1 - # SKIP no pack in $out/pack (no drivers built yet)"
	echo "1..1"
	exit 0
fi
: "${SOURCE_DATE_EPOCH:=1735689600}"
export SOURCE_DATE_EPOCH
eval "$("$top/sign/brand.sh" env "$conf")"
if [ "$BRAND_CERT_MODE" = test ]; then
	export TEST_KEY_DIR="${TEST_KEY_DIR:-$(cd "$out" && pwd)/sign/testkeys-$BRAND_BRAND_ID}"
fi
for d in a b/deeper; do
	mkdir -p "$tmp/$d"
	cp -a "$out/pack" "$tmp/$d/"
done
confabs=$(cd "$(dirname "$conf")" && pwd)/$(basename "$conf")
(cd "$tmp/a" && "$top/sign/mkmsi.sh" . "$confabs" "$arches") >"$tmp/log" 2>&1 || nok "mkmsi in $tmp/a"
(umask 077; TZ=Asia/Tokyo "$top/sign/mkmsi.sh" "$tmp/b/deeper" "$confabs" "$arches") >"$tmp/log" 2>&1 ||
	nok "mkmsi in $tmp/b/deeper"
ca=$out/sign/ca.pem
for arch in $arches; do
	case $arch in x64) winarch=amd64 ;; *) winarch=x86 ;; esac
	name=$BRAND_BRAND_ID-drivers-$BRAND_VERSION-$arch.msi
	msi=$tmp/a/$name
	if [ ! -f "$msi" ]; then
		echo "missing $msi" >"$tmp/log"; nok "$name built"; continue
	fi
	if osslsigncode verify -CAfile "$ca" -in "$msi" >"$tmp/log" 2>&1; then ok "$name: signature verifies"; else nok "$name: signature"; fi
	msiinfo export "$msi" File >"$tmp/files" 2>"$tmp/log"
	missing=
	for f in "$out"/pack/*/w10/"$winarch"/*; do
		grep -q "	$(basename "$f")	$(wc -c <"$f")	" "$tmp/files" || missing="$missing $(basename "$f")"
	done
	if [ -z "$missing" ]; then ok "$name: every $winarch pack file is in the File table"; else echo "missing:$missing" >"$tmp/log"; nok "$name: files"; fi
	msiinfo export "$msi" InstallExecuteSequence >"$tmp/seq" 2>&1
	msiinfo export "$msi" CustomAction >"$tmp/ca" 2>&1
	if grep -q '^AddDrivers	NOT REMOVE	6550' "$tmp/seq" && grep -q 'pnputil.exe' "$tmp/ca" &&
		grep -q '/add-driver "\[INSTALLDIR\]\*.inf" /subdirs /install' "$tmp/ca"; then
		ok "$name: pnputil /add-driver runs before InstallFinalize"
	else
		cat "$tmp/seq" "$tmp/ca" >"$tmp/log"; nok "$name: custom action"
	fi
	if cmp "$msi" "$tmp/b/deeper/$name" >"$tmp/log" 2>&1; then ok "$name: two builds are byte-identical"; else nok "$name: not reproducible"; fi
done
echo "1..$n"
