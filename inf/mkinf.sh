#!/bin/sh
# mkinf.sh: fill an INF template (inf/<id>.inf.in) from a brand configuration.
#
#   mkinf.sh TEMPLATE BRAND_CONF ARCH OUT.inf [OUT.hwids]
#
# ARCH is x64 or x86. The date of DriverVer is SOURCE_DATE_EPOCH in UTC (the
# build must not depend on when or where it runs). OUT.hwids receives the
# hardware IDs of the models, one per line, for the catalog's HWID attributes.
#
# Template syntax:
#   @KEY@        replaced by a value (see the list in the awk program below);
#                an unknown @KEY@ is an error, "@@" gives a literal "@".
#   @@pci_models INSTALL DEV:SUBSYS ...
#                (a whole line) expands into one model line per PCI ID: for
#                every DEV (hex device ID of vendor 1AF4) one line per brand
#                subsystem vendor with SUBSYS_<SUBSYS><vendor>, then the
#                generic PCI\VEN_1AF4&DEV_<DEV>, all with %DeviceDesc%.
#   @@models INSTALL HWID ...
#                (a whole line) one model line per literal hardware ID, for
#                devices that are not virtio PCI functions (ACPI, other vendors).
#   @@virtio_win_name DIR FILE
#                (a whole line, not copied) the folder and file name the
#                driver has in virtio-win packs, for PACK_NAMES=virtio-win.
# MKINF_FILE, if set, replaces the brand's file name (virtio-win names).
# MKINF_MAP, if set, names a file that receives, for each output line, the
# template line it came from (so INF check errors can point at the template).
# Output uses CRLF line ends, as Windows tools write INFs.
set -eu

[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 TEMPLATE BRAND_CONF x64|x86 OUT.inf [OUT.hwids]" >&2; exit 2; }
tmpl=$1 conf=$2 arch=$3 out=$4 hwids=${5:-}
here=$(cd "$(dirname "$0")" && pwd)

case $arch in
x64) ntarch=NTamd64 ;;
x86) ntarch=NTx86 ;;
*) echo "mkinf: unknown architecture \"$arch\" (x64 or x86)" >&2; exit 1 ;;
esac
[ -r "$tmpl" ] || { echo "mkinf: cannot read template $tmpl" >&2; exit 1; }
id=${tmpl##*/}; id=${id%.inf.in}

: "${SOURCE_DATE_EPOCH:?mkinf: SOURCE_DATE_EPOCH must be set}"
case $SOURCE_DATE_EPOCH in
''|*[!0-9]*) echo "mkinf: SOURCE_DATE_EPOCH=\"$SOURCE_DATE_EPOCH\" is not a number of seconds" >&2; exit 1 ;;
esac
infdate=$(date -u -d "@$SOURCE_DATE_EPOCH" +%m/%d/%Y)

env=$("$here/../sign/brand.sh" env "$conf")
eval "$env"
up=$(echo "$id" | tr a-z A-Z)
eval "file=\${BRAND_${up}_FILE:-} service=\${BRAND_${up}_SERVICE:-} desc=\${BRAND_${up}_DESC:-}"
file=${MKINF_FILE:-$file}
if [ -z "$file" ]; then
	echo "mkinf: brand $conf has no ${up}_FILE (is $tmpl in the template directory?)" >&2
	exit 1
fi

tmp=$out.tmp.$$
trap 'rm -f "$tmp" "$tmp.hw"' EXIT
LC_ALL=C awk -v tmpl="$tmpl" -v hwout="$tmp.hw" -v mapout="${MKINF_MAP:-}" \
	-v FILE="$file" -v SERVICE="$service" -v DESC="$desc" -v ARCH="$ntarch" \
	-v DRIVERVER="$infdate,$BRAND_VERSION" -v VERSION="$BRAND_VERSION" \
	-v PROVIDER="$BRAND_PROVIDER" -v MANUFACTURER="$BRAND_MANUFACTURER" \
	-v VENDOR="$BRAND_VENDOR" -v PRODUCT="$BRAND_PRODUCT" -v COPYRIGHT="$BRAND_COPYRIGHT" \
	-v URL="$BRAND_URL" -v SUPPORT_URL="$BRAND_SUPPORT_URL" -v SSVIDS="$BRAND_SUBSYS_VENDOR_IDS" '
function fail(msg) { printf "mkinf: %s:%d: %s\n", tmpl, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
function hex4(s, what) {
	if (s !~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/)
		fail(what " \"" s "\" is not 4 hex digits")
	return toupper(s)
}
function emit(s) { printf "%s\r\n", s; if (mapout != "") print NR > mapout }
function model(inst, hwid) {
	emit("%DeviceDesc% = " inst ", " hwid)
	print tolower(hwid) > hwout
}
BEGIN {
	v["FILE"] = FILE; v["SERVICE"] = SERVICE; v["DESC"] = DESC; v["ARCH"] = ARCH
	v["DRIVERVER"] = DRIVERVER; v["VERSION"] = VERSION; v["PROVIDER"] = PROVIDER
	v["MANUFACTURER"] = MANUFACTURER; v["VENDOR"] = VENDOR; v["PRODUCT"] = PRODUCT
	v["COPYRIGHT"] = COPYRIGHT; v["URL"] = URL; v["SUPPORT_URL"] = SUPPORT_URL
	nss = split(SSVIDS, ss, /[ \t]+/)
	printf "" > hwout
	if (mapout != "")
		printf "" > mapout
}
/\r$/ { sub(/\r$/, "") }
/^@@virtio_win_name[ \t]/ { next }
/^@@models[ \t]/ {
	n = split($0, f, /[ \t]+/)
	if (n < 3)
		fail("@@models needs an install section and at least one hardware ID")
	if (f[2] !~ /^[A-Za-z_][A-Za-z0-9_.]*$/)
		fail("bad install section name \"" f[2] "\"")
	for (i = 3; i <= n; i++) {
		if (f[i] !~ /^[A-Za-z0-9_&\\]+$/)
			fail("bad hardware ID \"" f[i] "\"")
		model(f[2], f[i])
	}
	next
}
/^@@pci_models[ \t]/ {
	n = split($0, f, /[ \t]+/)
	if (n < 3)
		fail("@@pci_models needs an install section and at least one DEV:SUBSYS")
	if (f[2] !~ /^[A-Za-z_][A-Za-z0-9_.]*$/)
		fail("bad install section name \"" f[2] "\"")
	for (i = 3; i <= n; i++) {
		if (split(f[i], p, ":") != 2)
			fail("\"" f[i] "\" is not DEV:SUBSYS")
		dev = hex4(p[1], "device ID"); sub_id = hex4(p[2], "subsystem ID")
		for (j = 1; j <= nss; j++)
			if (ss[j] != "")
				model(f[2], "PCI\\VEN_1AF4&DEV_" dev "&SUBSYS_" sub_id ss[j])
		model(f[2], "PCI\\VEN_1AF4&DEV_" dev)
	}
	next
}
{
	line = $0; res = ""
	while ((i = index(line, "@")) > 0) {
		res = res substr(line, 1, i - 1)
		line = substr(line, i + 1)
		if (substr(line, 1, 1) == "@") { res = res "@"; line = substr(line, 2); continue }
		j = index(line, "@")
		if (j == 0)
			fail("unterminated @ token")
		key = substr(line, 1, j - 1)
		if (!(key in v))
			fail("unknown token @" key "@")
		res = res v[key]
		line = substr(line, j + 1)
	}
	emit(res line)
}
END { if (!bad) close(hwout) }
' "$tmpl" >"$tmp"
mv "$tmp" "$out"
if [ -n "$hwids" ]; then mv "$tmp.hw" "$hwids"; fi
