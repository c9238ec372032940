#!/bin/sh
# check-wine-inf.sh PACKDIR INFPARSE.EXE WINE-COMMAND...: TAP. Parse every INF
# of the pack with Wine's setupapi (inf/infparse.c), an implementation
# independent of inf/infcheck.awk; then make sure broken INFs do fail.
set -u
pack=${1:?usage: $0 PACKDIR INFPARSE.EXE WINE...}
exe=${2:?}
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-wine-inf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

find "$pack" -name '*.inf' | LC_ALL=C sort >"$tmp/list"
if [ ! -s "$tmp/list" ]; then
	echo "ok 1 - # SKIP no INF in $pack (no drivers built yet)"
	echo "1..1"
	exit 0
fi
sample=$(head -n 1 "$tmp/list")
sed 's/^\[Strings\]/[Strings/' "$sample" >"$tmp/broken-header.inf"
sed '/^CatalogFile/d' "$sample" >"$tmp/no-catalog.inf"
sed 's/^\(AddService *= *[a-zA-Z0-9_]*, *0x00000002, *\)[a-z]*_Service/\1nowhere_Service/' "$sample" >"$tmp/no-service.inf"

# One Wine start for all files: it is the slow part.
# shellcheck disable=SC2046
"$@" "$exe" $(cat "$tmp/list") "$tmp/broken-header.inf" "$tmp/no-catalog.inf" "$tmp/no-service.inf" \
	>"$tmp/out" 2>"$tmp/err"
tr -d '\r' <"$tmp/out" >"$tmp/res"
n=0
while IFS= read -r inf; do
	n=$((n + 1))
	line=$(grep -F -- " $inf" "$tmp/res" | head -n 1)
	case $line in
	"ok - "*) echo "ok $n - setupapi: ${inf#$pack/}" ;;
	"") echo "not ok $n - setupapi: no result for ${inf#$pack/}"; sed 's/^/# /' "$tmp/err" ;;
	*) echo "not ok $n - setupapi: ${line#not ok - }" ;;
	esac
done <"$tmp/list"
for bad in broken-header no-catalog no-service; do
	n=$((n + 1))
	line=$(grep -F -- "$tmp/$bad.inf" "$tmp/res" | head -n 1)
	case $line in
	"not ok - "*) echo "ok $n - setupapi rejects $bad: ${line#*.inf: }" ;;
	*) echo "not ok $n - setupapi accepted $bad.inf: $line" ;;
	esac
done
echo "1..$n"
