#!/bin/sh
# check-inf.sh PACKDIR: TAP. Static INF checks (inf/infcheck.awk) on every
# INF of the pack, each against the files of its own package directory; then
# proof that the checker catches typical mistakes in a copy of one INF.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
pack=${1:?usage: $0 PACKDIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-inf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
check() { LC_ALL=C awk -v pkgdir="$2" -f "$top/inf/infcheck.awk" "$1"; }

find "$pack" -name '*.inf' | LC_ALL=C sort >"$tmp/list"
if [ ! -s "$tmp/list" ]; then
	echo "ok 1 - # SKIP no INF in $pack (no drivers built yet)"
	echo "1..1"
	exit 0
fi
while IFS= read -r inf; do
	n=$((n + 1))
	if check "$inf" "$(dirname "$inf")" >"$tmp/out" 2>&1; then
		echo "ok $n - ${inf#$pack/}"
	else
		echo "not ok $n - ${inf#$pack/}"
		sed 's/^/# /' "$tmp/out"
	fi
done <"$tmp/list"

# Mutations: each must produce the expected complaint.
sample=$(grep '/amd64/' "$tmp/list" | head -n 1)
[ -n "$sample" ] || sample=$(head -n 1 "$tmp/list")
dir=$(dirname "$sample")
cp "$dir"/* "$tmp/"
base=$(basename "$sample")
mutate() {
	n=$((n + 1))
	sed "$1" "$tmp/$base" >"$tmp/m.inf"
	if check "$tmp/m.inf" "$tmp" >"$tmp/out" 2>&1; then
		echo "not ok $n - checker missed: $3"
	elif grep -q -F -- "$2" "$tmp/out"; then
		echo "ok $n - checker catches $3"
	else
		echo "not ok $n - $3: expected \"$2\", got: $(tr '\n' '|' <"$tmp/out")"
	fi
}
mutate 's/^ClassGuid .*/ClassGuid   = {4D36E96A-E325-11CE-BFC1-08002BE10318}\r/' 'does not belong to class' "a Class/ClassGuid mismatch"
mutate 's/^Class .*/Class       = Storage\r/' 'unknown setup class' "an unknown class"
mutate 's/%DeviceDesc% = /%DevDesc% = /' 'undefined string %devdesc%' "an undefined %string%"
mutate 's/^\[Strings\]/[Strings/' 'malformed section header' "a broken section header"
mutate '/^\[Version\]/,/^$/{/^Provider/{p}}' 'duplicate key' "a duplicate key"
mutate '$a [Version]\r' 'duplicate section' "a duplicate section"
mutate '/^CatalogFile/d' 'lacks catalogfile' "a missing CatalogFile"
mutate '/^PnpLockdown/d' 'lacks pnplockdown' "a missing PnpLockdown"
mutate 's/^DriverVer.*/DriverVer   = 2025-01-01,1.0.0.0\r/' 'is not mm/dd/yyyy' "a malformed DriverVer"
mutate 's/^CatalogFile *= *\([a-z0-9_]*\)\.cat/CatalogFile = \1x.cat/' 'is not in the package' "a catalog missing from the package"
mutate 's/^\([a-z0-9_]*\)\.sys = 1,,/\1x.sys = 1,,/' 'is not in the package' "a source file missing from the package"
mutate '/^\[[a-z0-9]*_CopyFiles\]/{n;s/^\([a-z0-9_]*\)\.sys/other.sys/}' 'is copied but not in [SourceDisksFiles]' "a copied file not in SourceDisksFiles"
mutate 's/^StartType .*/StartTyp = 3\r/' 'unknown service directive' "an unknown service directive"
mutate 's/^\(AddService *= *[a-zA-Z0-9_]*, *0x00000002, *\)[a-z]*_Service/\1nowhere_Service/' 'does not exist' "a missing service section"
mutate '$a [Orphan]\r\nX = 1\r' 'is never used' "an unused section"
mutate '/^\[Models\./{n;p}' 'duplicate hardware ID' "a duplicate hardware ID"
mutate 's/^HKR, Interrupt Management\\MessageSignaledInterruptProperties, MSISupported, 0x00010001, 1/HKX, Interrupt Management, MSISupported, 0x00010001, 1/' 'bad registry root' "a bad registry root"
mutate 's/SUBSYS_\([0-9A-F]\{4\}\)\([0-9A-F]\{4\}\)/SUBSYS_\1\2X/' 'malformed PCI hardware ID' "a malformed PCI hardware ID"
mutate 's/^ServiceBinary *= *%12%/ServiceBinary = C:/' 'ServiceBinary should be' "a ServiceBinary outside the driver directories"
echo "1..$n"
