#!/bin/sh
# check-brand.sh: TAP tests of the brand validator (sign/brand.sh) and of the
# INF filler's use of it. Every broken configuration must be rejected with
# exactly one line naming the problem.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
brand=$top/sign/brand.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-brand.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }

for conf in "$top"/brand/*.conf; do
	if "$brand" check "$conf" 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then
		ok "${conf#$top/} is valid and clean"
	else
		nok "${conf#$top/}: $(cat "$tmp/err")"
	fi
done

# reject SED-EXPRESSION EXPECTED-TEXT DESCRIPTION
reject() {
	sed "$1" "$top/brand/default.conf" >"$tmp/bad.conf"
	if "$brand" check "$tmp/bad.conf" 2>"$tmp/err"; then
		nok "$3: accepted"
	elif [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
		nok "$3: expected one error line, got: $(tr '\n' '|' <"$tmp/err")"
	elif ! grep -q -F -- "$2" "$tmp/err"; then
		nok "$3: message \"$(cat "$tmp/err")\" lacks \"$2\""
	else
		ok "$3 rejected: $(sed "s|$tmp/||" "$tmp/err")"
	fi
}
reject 's/^URL=/URLS=/' 'unknown key "URLS"' "unknown key"
reject 's/^version=/x/; s/^VERSION=/version=/' 'unknown key "version" (keys are upper case)' "lower-case key"
reject '/^PRODUCT=/d' 'missing key PRODUCT' "missing key"
reject '/^VDPNET_DESC=/d' 'missing key VDPNET_DESC' "missing per-driver key"
reject '$a PRODUCT=Again' 'duplicate key "PRODUCT"' "duplicate key"
reject 's/^VERSION=.*/VERSION=1.2.3/' 'not major.minor.patch.build' "three-part version"
reject 's/^VERSION=.*/VERSION=1.2.3.x/' 'not major.minor.patch.build' "non-numeric version"
reject 's/^VERSION=.*/VERSION=1.2.65536.0/' 'larger than 65535' "version part > 65535"
reject 's/^SUBSYS_VENDOR_IDS=.*/SUBSYS_VENDOR_IDS=1AF4 12G4/' '"12G4" is not a 4-digit hex' "bad hex ID"
reject 's/^SUBSYS_VENDOR_IDS=.*/SUBSYS_VENDOR_IDS=1AF40/' 'is not a 4-digit hex' "5-digit hex ID"
reject 's/^SUBSYS_VENDOR_IDS=.*/SUBSYS_VENDOR_IDS=FFFF/' 'not a valid PCI vendor ID' "invalid vendor FFFF"
reject 's/^SUBSYS_VENDOR_IDS=.*/SUBSYS_VENDOR_IDS=1af4 1AF4/' 'listed twice' "duplicate vendor ID"
reject 's/^SUBSYS_VENDOR_IDS=.*/SUBSYS_VENDOR_IDS=/' 'must not be empty' "empty vendor list"
reject 's/^PROVIDER=.*/PROVIDER=Say "hi"/' 'would break an INF string' "double quote in text"
reject 's/^PRODUCT=.*/PRODUCT=100% virtio/' 'would break an INF string' "percent in text"
reject 's/^MANUFACTURER=.*/MANUFACTURER=A; B/' 'would break an INF string' "semicolon in text"
reject 's/^VDPBLK_DESC=.*/VDPBLK_DESC=Caf\xc3\xa9 disk/' 'printable ASCII' "non-ASCII text"
reject 's/^VDPBLK_DESC=.*/VDPBLK_DESC=Tab\there/' 'printable ASCII' "control character"
reject 's/^VDPBLK_FILE=.*/VDPBLK_FILE=Blk.sys/' 'is not 1..32 characters of [a-z0-9_]' "bad file name"
reject 's/^VDPBLK_SERVICE=.*/VDPBLK_SERVICE=blk svc/' 'is not 1..32 characters of [A-Za-z0-9_]' "bad service name"
reject 's/^VDPRNG_FILE=.*/VDPRNG_FILE=vdpnet/' 'also the file name of vdpnet' "file name clash"
reject 's/^VDPRNG_SERVICE=.*/VDPRNG_SERVICE=VDPNET/' 'also the service name of vdpnet' "service name clash"
reject 's/^BRAND_ID=.*/BRAND_ID=My Brand/' 'is not 1..32 characters of [a-z0-9-]' "bad brand id"
reject 's|^URL=.*|URL=www.example.com|' 'is not an http:// or https:// URL' "URL without scheme"
reject 's/^CERT_MODE=.*/CERT_MODE=magic/' 'is not one of test, pkcs12, pkcs11' "unknown cert mode"
reject 's/^CERT_MODE=.*/CERT_MODE=pkcs12/' 'needs CERT_PKCS12' "pkcs12 without file"
reject 's|^CERT_MODE=.*|CERT_MODE=pkcs12\nCERT_PKCS12=/nonexistent/v.p12\nCERT_PASSWORD_FILE=/dev/null|' 'cannot read file "/nonexistent/v.p12"' "missing PKCS#12 file"
reject 's|^CERT_MODE=.*|CERT_MODE=pkcs12\nCERT_PKCS12=/\nCERT_PASSWORD_FILE=/dev/null|' 'cannot read file "/"' "PKCS#12 path is a directory"
reject 's|^CERT_MODE=.*|CERT_MODE=pkcs11\nCERT_PKCS11_URI=pkcs11:token=x\nCERT_PKCS11_MODULE=/nonexistent.so\nCERT_CHAIN=/dev/null|' 'cannot read file "/nonexistent.so"' "missing PKCS#11 module"
reject 's|^CERT_MODE=.*|CERT_MODE=test\nCERT_PKCS12=x.p12|' 'CERT_MODE=test does not use it' "stray key for another cert mode"
reject 's|^TIMESTAMP_URL=.*|TIMESTAMP_URL=ftp://ts.example|' 'http:// or https://' "bad timestamp URL"
reject 's/^BRAND_ID=.*/BRAND_ID openvdp/' 'expected KEY=VALUE' "line without ="
reject '5s/$/\r/' 'DOS line endings' "CRLF line"

# The warning for a rebranded pack that still binds to stock QEMU devices.
sed 's/^BRAND_ID=.*/BRAND_ID=acme/' "$top/brand/default.conf" >"$tmp/acme.conf"
if "$brand" check "$tmp/acme.conf" 2>"$tmp/err" && grep -q 'warning: .*default subsystem vendor ID 1AF4' "$tmp/err"; then
	ok "non-default brand with subsystem vendor 1AF4 warns"
else
	nok "no warning for non-default brand keeping 1AF4: $(cat "$tmp/err")"
fi
if "$brand" check "$top/brand/example-vendor.conf" 2>"$tmp/err" && ! grep -q warning "$tmp/err"; then
	ok "example-vendor brand (own vendor ID) does not warn"
else
	nok "example-vendor brand warns: $(cat "$tmp/err")"
fi

# Quoted values and spacing are normalised; env output is eval-safe.
sed -e 's/^PRODUCT=.*/PRODUCT = "It'"'"'s a  product"  /' "$top/brand/default.conf" >"$tmp/q.conf"
if out=$("$brand" env "$tmp/q.conf") && eval "$out" && [ "$BRAND_PRODUCT" = "It's a  product" ]; then
	ok "quoted value with an apostrophe round-trips through env"
else
	nok "quoted value did not round-trip"
fi

# The INF filler: DriverVer from SOURCE_DATE_EPOCH in UTC, brand names used.
if SOURCE_DATE_EPOCH=1735775999 TZ=Pacific/Kiritimati "$top/inf/mkinf.sh" "$top/inf/vdpblk.inf.in" \
	"$top/brand/example-vendor.conf" x64 "$tmp/x.inf" "$tmp/x.hw" 2>"$tmp/err" &&
	grep -q '^DriverVer   = 01/01/2025,2.4.0.17' "$tmp/x.inf" &&
	grep -q '^%Manufacturer% = Models, NTamd64' "$tmp/x.inf" &&
	grep -q 'PCI\\VEN_1AF4&DEV_1042&SUBSYS_11005A5A' "$tmp/x.inf" &&
	grep -q '^exblk.sys = 1,,' "$tmp/x.inf" &&
	grep -qx 'pci\\ven_1af4&dev_1001&subsys_00025a5a' "$tmp/x.hw"; then
	ok "mkinf fills DriverVer (UTC), models, SUBSYS and file names from the brand"
else
	nok "mkinf output wrong: $(cat "$tmp/err")"
fi
mkdir -p "$tmp/t" && printf '[Version]\nX=@NOPE@\n' >"$tmp/t/vdpblk.inf.in"
if SOURCE_DATE_EPOCH=0 BRAND_DRIVERS="vdpblk vdpnet vdprng" "$top/inf/mkinf.sh" "$tmp/t/vdpblk.inf.in" "$top/brand/default.conf" x86 "$tmp/t.inf" 2>"$tmp/err"; then
	nok "unknown template token accepted"
else
	ok "unknown template token rejected: $(cat "$tmp/err" | sed "s|$tmp/||")"
fi
echo "1..$n"
