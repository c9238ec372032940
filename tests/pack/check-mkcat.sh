#!/bin/sh
# check-mkcat.sh MKCAT PE-FILE: TAP tests of the catalog generator: PE hash
# against osslsigncode (including an image whose length is not a multiple of
# 8), rejection of malformed images with an error instead of a crash,
# deterministic output and the ASN.1 layout of the catalog.
set -u
mkcat=${1:?usage: $0 MKCAT PE-FILE}
mkcat=$(cd "$(dirname "$mkcat")" && pwd)/$(basename "$mkcat")
pe=${2:-}
if [ -z "$pe" ]; then
	echo "ok 1 - # SKIP no PE image to test with (no drivers built yet)"
	echo "1..1"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-mkcat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 10; }
osslhash() {
	rm -f "$tmp/data.der"
	osslsigncode extract-data -h sha256 -in "$1" -out "$tmp/data.der" >/dev/null 2>&1 || return 1
	openssl asn1parse -inform DER -in "$tmp/data.der" | sed -n 's/.*OCTET STRING *\[HEX DUMP\]://p' | tail -n 1 | tr A-F a-f
}
# fails DESCRIPTION EXPECTED-TEXT COMMAND...: COMMAND must exit 1 with the text.
fails() {
	d=$1 want=$2
	shift 2
	"$@" >"$tmp/log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q -F -- "$want" "$tmp/log"; then ok "$d: $(head -n 1 "$tmp/log")"; else echo "rc=$rc" >>"$tmp/log"; nok "$d"; fi
}

cp "$pe" "$tmp/a.sys"
printf 'abc' >>"$tmp/odd.sys"; cat "$pe" "$tmp/odd.sys" >"$tmp/odd2.sys"; mv "$tmp/odd2.sys" "$tmp/odd.sys"
for f in a.sys odd.sys; do
	ours=$("$mkcat" -p "$tmp/$f" 2>"$tmp/log" | cut -d' ' -f1)
	theirs=$(osslhash "$tmp/$f")
	if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then ok "PE hash of $f ($(wc -c <"$tmp/$f") bytes) matches osslsigncode"; else echo "ours=$ours theirs=$theirs" >"$tmp/log"; nok "PE hash of $f"; fi
done

# Malformed input.
head -c 100 "$pe" >"$tmp/trunc.sys"
fails "truncated PE" "" "$mkcat" -p "$tmp/trunc.sys"
{ head -c 60 "$pe"; printf '\377\377\377\177'; tail -c +65 "$pe"; } >"$tmp/lfanew.sys"
fails "e_lfanew past the end" "without a valid PE header" "$mkcat" -p "$tmp/lfanew.sys"
printf 'MZ' >"$tmp/tiny.sys"
fails "2-byte MZ file" "truncated DOS header" "$mkcat" -p "$tmp/tiny.sys"
printf 'not a driver\n' >"$tmp/fake.sys"
fails ".sys that is not PE" "named like an executable but is not a PE image" "$mkcat" -o "$tmp/x.cat" -t 0 "$tmp/fake.sys"
fails "missing member file" "No such file" "$mkcat" -o "$tmp/x.cat" -t 0 "$tmp/nothere.inf"
mkdir -p "$tmp/d2"; cp "$tmp/a.sys" "$tmp/d2/a.sys"
fails "duplicate member name" "two members are named" "$mkcat" -o "$tmp/x.cat" -t 0 "$tmp/a.sys" "$tmp/d2/a.sys"
fails "time not given" "SOURCE_DATE_EPOCH" env -u SOURCE_DATE_EPOCH "$mkcat" -o "$tmp/x.cat" "$tmp/a.sys"
fails "time after 2049" "between 1970 and 2049" "$mkcat" -o "$tmp/x.cat" -t 2600000000 "$tmp/a.sys"
fails "non-ASCII hardware ID" "printable ASCII" "$mkcat" -o "$tmp/x.cat" -t 0 -H "pci\\ven_1af4&dev_1001$(printf '\303\251')" "$tmp/a.sys"
fails "not a catalog" "not a PKCS#7" "$mkcat" -V "$tmp/fake.sys" "$tmp/a.sys"
[ ! -e "$tmp/x.cat" ] && ok "failed runs leave no output file" || { echo "x.cat exists" >"$tmp/log"; nok "failed run left x.cat"; }

# Determinism and layout.
printf '[Version]\r\nSignature="$WINDOWS NT$"\r\n' >"$tmp/a.inf"
printf 'PCI\\VEN_1AF4&DEV_1001\npci\\ven_1af4&dev_1001\nPCI\\VEN_1AF4&DEV_1042\n' >"$tmp/hw"
"$mkcat" -o "$tmp/1.cat" -t 1735689600 -O _v100_X64 -A 2:10.0 -h "$tmp/hw" "$tmp/a.sys" "$tmp/a.inf" 2>"$tmp/log"
(cd "$tmp" && SOURCE_DATE_EPOCH=1735689600 "$mkcat" -o 2.cat -O _v100_X64 -A 2:10.0 -h hw a.inf a.sys) 2>>"$tmp/log"
if cmp -s "$tmp/1.cat" "$tmp/2.cat"; then ok "same inputs in another order and directory give the same bytes"; else nok "catalog not deterministic"; fi
"$mkcat" -o "$tmp/3.cat" -t 1735689601 -O _v100_X64 -A 2:10.0 -h "$tmp/hw" "$tmp/a.sys" "$tmp/a.inf" 2>"$tmp/log"
if ! cmp -s "$tmp/1.cat" "$tmp/3.cat"; then ok "the time is part of the catalog"; else nok "time ignored"; fi
openssl asn1parse -inform DER -in "$tmp/1.cat" >"$tmp/asn" 2>"$tmp/log"
for want in ':1.3.6.1.4.1.311.10.1$' ':1.3.6.1.4.1.311.12.1.1$' ':1.3.6.1.4.1.311.12.1.3$' 'UTCTIME *:250101000000Z' \
	':1.3.6.1.4.1.311.2.1.15$' ':1.3.6.1.4.1.311.2.1.25$' ':1.3.6.1.4.1.311.12.2.3$'; do
	if grep -q -- "$want" "$tmp/asn"; then ok "catalog has $want"; else cp "$tmp/asn" "$tmp/log"; nok "catalog lacks $want"; fi
done
# OS + 2 distinct hardware IDs (case duplicates dropped) = 3 extensions;
# 2 members x (File + OSAttr) = 4 more name/value attributes.
cnt=$(grep -c ':1.3.6.1.4.1.311.12.2.1$' "$tmp/asn")
if [ "$cnt" -eq 7 ]; then ok "7 CAT_NAMEVALUE entries (OS, HWID1-2, File/OSAttr x2)"; else echo "count=$cnt" >"$tmp/log"; nok "CAT_NAMEVALUE count"; fi
if "$mkcat" -V "$tmp/1.cat" "$tmp/a.sys" "$tmp/a.inf" >"$tmp/log" 2>&1; then ok "mkcat -V accepts its own unsigned catalog"; else nok "mkcat -V on own catalog"; fi
fails "mkcat -V with a file that is no member" "not a member" "$mkcat" -V "$tmp/1.cat" "$tmp/a.sys" "$tmp/a.inf" "$tmp/hw"
echo "1..$n"
