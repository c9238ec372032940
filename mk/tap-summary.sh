#!/bin/sh
# tap-summary.sh DIR TAPFILE...: count the results of every check, write
# DIR/results.json for CI, print "N passed, N failed" last, and exit non-zero
# when anything failed or a check left no result.
dir=$1
shift
passed=0 failed=0
json=$dir/results.json
printf '{\n  "checks": [\n' >"$json"
sep=
for f in "$@"; do
	name=$(basename "$f" .tap)
	if [ -f "$f" ]; then
		p=$(grep -c '^ok' "$f")
		n=$(grep -c '^not ok' "$f")
	else
		p=0 n=1
		echo "  FAIL     $name: no result file"
	fi
	passed=$((passed + p))
	failed=$((failed + n))
	printf '%s    {"name": "%s", "passed": %d, "failed": %d, "log": "%s"}' \
		"$sep" "$name" "$p" "$n" "$dir/$name.log" >>"$json"
	sep=",
"
done
printf '\n  ],\n  "passed": %d,\n  "failed": %d\n}\n' "$passed" "$failed" >>"$json"
echo "$passed passed, $failed failed" | tee "$dir/summary.txt"
[ "$failed" -eq 0 ]
