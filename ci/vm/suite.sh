#!/bin/sh
# The VM test suite: fetch the guest, build the initramfs, boot one VM per
# line of ci/vm/tests.list, print numbered TAP on stdout.
# Usage: ci/vm/suite.sh FILE...   (files copied to the guest's /t: vdphost,
#                                  test .sys images, drivers under test)
# Environment: VDP_OUT (default out), VDP_VM_TESTS (names to run; default
# all), VDP_SUITE_BUDGET (seconds for the whole suite, default 540: CI
# allows 10 minutes), plus everything ci/vm/run-vm.sh reads.
set -u

here=$(dirname "$0")
out=${VDP_OUT:-out}
export VDP_GUEST="$out/vm/guest"
logs=$out/vm/logs
n=0
failed=0

emit() { # "ok - ..." / "not ok - ..." / "# ..."
	case "$1" in
	"ok "*) n=$((n + 1)); echo "ok $n ${1#ok }" ;;
	"not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n ${1#not ok }" ;;
	*) echo "$1" ;;
	esac
}

# Several suites may run on one tree at once (parallel make check runs):
# each works in a private directory; finished logs are renamed into
# out/vm/logs/, so a concurrent run can only replace a whole log.
mkdir -p "$logs"
work=$(mktemp -d "$out/vm/run.XXXXXX") || { emit "not ok - vm: cannot create a work directory"; exit 1; }
export VDP_LOGDIR="$work/logs"
mkdir -p "$VDP_LOGDIR"

# An unexpected abort (set -u, a vanished file) must still leave a reason.
on_exit() {
	rc=$?
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		echo "not ok - vm: suite aborted with status $rc"
	fi
	for f in "$VDP_LOGDIR"/*; do
		[ -f "$f" ] && mv -f "$f" "$logs/"
	done
	# Disk images of failed disk tests stay for inspection.
	if [ $failed -eq 0 ]; then
		rm -rf "$work"
	else
		rm -rf "$work/logs" "$work/initrd.gz"
		echo "# disk images kept in $work"
	fi
}
trap on_exit EXIT

# Only the shared guest cache needs turns: a refetch replaces it.
if command -v flock >/dev/null; then
	exec 9>"$out/vm/.fetch.lock"
	flock -w 300 9 || { emit "not ok - vm: guest cache locked for 5 min ($out/vm/.fetch.lock)"; exit 1; }
fi
vdphost=
for f in "$@"; do
	case "$f" in */vdphost) vdphost=$f ;; esac
done
if ! err=$("$here/fetch-guest.sh" "$VDP_GUEST" 2>&1); then
	emit "not ok - vm: guest kernel unavailable: $(echo "$err" | head -n 1)"
	echo "$err" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
exec 9>&-
if ! err=$("$here/mkinitramfs.sh" "$VDP_GUEST" "$work/initrd.gz" "$@" 2>&1); then
	emit "not ok - vm: initramfs: $err"
	echo "1..$n"
	exit 1
fi

grep -v '^[[:space:]]*\(#\|$\)' "$here/tests.list" >"$work/tests.list"
suite_start=$(date +%s)
budget=${VDP_SUITE_BUDGET:-540}
while read -r name test args; do
	if [ -n "${VDP_VM_TESTS:-}" ]; then
		case " $VDP_VM_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	# A run of hung VMs must not take the suite past its time budget.
	if [ $(($(date +%s) - suite_start + ${VDP_VM_TIMEOUT:-60})) -gt "$budget" ]; then
		emit "not ok - $name: not run, the suite's ${budget}s budget is used up"
		continue
	fi
	disk=$work/$name.img
	rm -f "$disk"
	case "$args" in *@DISK@*) truncate -s "${VDP_DISK_SIZE:-16M}" "$disk" ;; esac
	# APPEND=a,b adds "a b" to the guest kernel command line.
	append=$(echo "$args" | sed -n 's/.*APPEND=\([^ ]*\).*/\1/p' | tr , ' ')
	args=$(echo "$args" | sed 's/APPEND=[^ ]*//')
	# shellcheck disable=SC2046 # the device arguments are word lists
	set -- $(echo "$args" | sed "s|@DISK@|$disk|g")
	VDP_APPEND="$append" "$here/run-vm.sh" "$name" "$test" "$work/initrd.gz" "$@" </dev/null >"$work/$name.out"
	case "$test" in
	pe-disk*:*)
		# The guest's writes must be in the image file, as seen from the host.
		if [ -n "$vdphost" ]; then
			case "$test" in
			pe-disk-zero:*) mode=zero ;;
			pe-disk-eio:*) mode=eio ;;
			pe-disk-dump:*) mode=dump ;;
			*) mode=basic ;;
			esac
			"$vdphost" --disk-mode $mode --check-image "$disk" | sed "s/^\(\(not \)\{0,1\}ok - \)/\1$name: /" >>"$work/$name.out"
		else
			echo "not ok - $name: no vdphost to check the image with" >>"$work/$name.out"
		fi
		;;
	esac
	while IFS= read -r line; do
		emit "$(echo "$line" | sed "s|$VDP_LOGDIR/|$logs/|g")"
	done <"$work/$name.out"
done <"$work/tests.list"
echo "1..$n"
echo "# VM suite: $((n - failed)) passed, $failed failed" >&2
[ $failed -eq 0 ]
