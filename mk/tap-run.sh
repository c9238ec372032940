#!/bin/sh
# tap-run.sh DIR NAME COMMAND...: run one check, keep its TAP and log.
# Always exits 0: the verdict is in the TAP file, read by tap-summary.sh.
dir=$1 name=$2
shift 2
mkdir -p "$dir"
log=$dir/$name.log tap=$dir/$name.tap
# Write beside the final names and rename at the end, so a concurrent run
# of the same check can never leave a half-written result.
"$@" >"$log.$$" 2>&1 </dev/null
rc=$?
grep -E '^(not )?ok( |$)' "$log.$$" >"$tap.$$"
if [ "$rc" -ne 0 ]; then
	echo "not ok - $name: command exited with status $rc (log: $log)" >>"$tap.$$"
elif [ ! -s "$tap.$$" ]; then
	echo "not ok - $name: no test result in output (log: $log)" >>"$tap.$$"
fi
mv -f "$log.$$" "$log"
mv -f "$tap.$$" "$tap"
if grep -q '^not ok' "$tap"; then
	printf '  %-8s %s\n' FAIL "$name"
	sed -n 's/^/    /; /^    not ok/p' "$tap"
else
	printf '  %-8s %s (%s)\n' PASS "$name" "$(grep -c '^ok' "$tap")"
fi
exit 0
