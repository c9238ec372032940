#!/bin/sh
# check-template.sh MKCAT SYS: TAP. Bad-input checks for INF templates: in a
# scratch copy of the tree, a template with one mistake (a misspelt section
# name, an undefined %string%, an unknown @TOKEN@, a broken section header)
# must stop sign/mkpack.sh with exactly one error line that names the
# template file and line, and leave no pack, no staging directory and no ISO.
# SYS is a built driver OUT/<arch>/<id>.sys whose template is mutated.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
mkcat=${1:?usage: $0 MKCAT SYS}
sys=${2:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-template.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 15; }
: "${SOURCE_DATE_EPOCH:=1735689600}"
export SOURCE_DATE_EPOCH

if [ ! -f "$sys" ]; then
	echo "ok 1 - # SKIP $sys not built"; echo "1..1"; exit 0
fi
id=$(basename "$sys" .sys)
arch=$(basename "$(dirname "$sys")")
mkdir -p "$tmp/tree"
(cd "$top" && tar -cf - sign inf brand) | tar -xf - -C "$tmp/tree"
tmpl=$tmp/tree/inf/$id.inf.in
cp "$tmpl" "$tmp/orig"
"$top/sign/testpki.sh" "$tmp/keys" "Check Template" >"$tmp/log" 2>&1 || nok "test PKI"

# bad SED-SCRIPT WHAT: mutate the template, expect one error at the line the
# script changed.
bad() {
	sed "$1" "$tmp/orig" >"$tmpl"
	want=$(diff "$tmp/orig" "$tmpl" | sed -n 's/^\([0-9]*\)[,0-9]*c.*/\1/p' | head -n 1)
	if [ -z "$want" ]; then
		echo "the mutation changed nothing" >"$tmp/log"; nok "$2: mutation applies"; return
	fi
	rm -rf "$tmp/o"
	mkdir -p "$tmp/o/$arch" "$tmp/o/pack"
	cp "$sys" "$tmp/o/$arch/"
	: >"$tmp/o/pack/stale"
	if TEST_KEY_DIR=$tmp/keys "$tmp/tree/sign/mkpack.sh" "$tmp/o" "$tmp/tree/brand/default.conf" \
		"$mkcat" "$id" "$arch" >"$tmp/log" 2>&1; then
		nok "$2: accepted"; return
	fi
	msg=$(sed "s|$tmp/tree/||g" "$tmp/log")
	if [ "$(wc -l <"$tmp/log")" -ne 1 ]; then
		nok "$2: expected one error line"
	elif ! echo "$msg" | grep -q "^mk[a-z]*: inf/$id\.inf\.in:$want: "; then
		echo "expected inf/$id.inf.in:$want" >>"$tmp/log"; nok "$2: error names the template line"
	elif [ -e "$tmp/o/pack" ] || [ -e "$tmp/o/pack.tmp" ] || ls "$tmp"/o/*.iso >/dev/null 2>&1; then
		ls -la "$tmp/o" >>"$tmp/log"; nok "$2: a pack, staging directory or ISO was left behind"
	else
		ok "$2: $msg"
	fi
}
bad 's/^\(AddService *= *@SERVICE@, *0x00000002, *[A-Za-z]*_\)Service/\1Servce/' "misspelt section name in AddService"
bad '0,/%DeviceDesc%/{s/%DeviceDesc%$/%DeviceDsc%/}' "undefined %string%"
bad '0,/@PROVIDER@/{s/@PROVIDER@/@PROVDER@/}' "unknown @TOKEN@"
bad '0,/^\[Strings\]/{s/^\[Strings\]/[Strings/}' "broken section header"
bad '0,/^Class *=/{s/^Class *= *\(.*\)/Class       = \1x/}' "misspelt setup class"
cp "$tmp/orig" "$tmpl"
echo "1..$n"
