#!/bin/sh
# The VM test suite: fetch the guest, build the initramfs, boot one VM per
# line of ci/vm/tests.list, print numbered TAP on stdout.
# Usage: ci/vm/suite.sh FILE...   (files copied to the guest's /t: vdphost,
#                                  test .sys images, drivers under test)
# Environment: VDP_OUT (default out), VDP_VM_TESTS (names to run; default
# all), plus everything ci/vm/run-vm.sh reads.
set -u

here=$(dirname "$0")
out=${VDP_OUT:-out}
export VDP_GUEST=$out/vm/guest
export VDP_LOGDIR=$out/vm/logs
work=$out/vm/work
n=0
failed=0

emit() { # "ok - ..." / "not ok - ..." / "# ..."
	case "$1" in
	"ok "*) n=$((n + 1)); echo "ok $n ${1#ok }" ;;
	"not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n ${1#not ok }" ;;
	*) echo "$1" ;;
	esac
}

mkdir -p "$work" "$VDP_LOGDIR"
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
if ! err=$("$here/mkinitramfs.sh" "$VDP_GUEST" "$work/initrd.gz" "$@" 2>&1); then
	emit "not ok - vm: initramfs: $err"
	echo "1..$n"
	exit 1
fi

grep -v '^[[:space:]]*\(#\|$\)' "$here/tests.list" >"$work/tests.list"
while read -r name test args; do
	if [ -n "${VDP_VM_TESTS:-}" ]; then
		case " $VDP_VM_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	disk=$work/$name.img
	rm -f "$disk"
	case "$args" in *@DISK@*) truncate -s "${VDP_DISK_SIZE:-16M}" "$disk" ;; esac
	# APPEND=a,b adds "a b" to the guest kernel command line.
	append=$(echo "$args" | sed -n 's/.*APPEND=\([^ ]*\).*/\1/p' | tr , ' ')
	args=$(echo "$args" | sed 's/APPEND=[^ ]*//')
	# shellcheck disable=SC2086 # the device arguments are word lists
	set -- $(echo "$args" | sed "s|@DISK@|$disk|g")
	VDP_APPEND="$append" "$here/run-vm.sh" "$name" "$test" "$work/initrd.gz" "$@" </dev/null >"$work/$name.out"
	case "$test" in
	pe-disk*:*)
		# The guest's writes must be in the image file, as seen from the host.
		if [ -n "$vdphost" ]; then
			"$vdphost" --check-image "$disk" | sed "s/^\(\(not \)\{0,1\}ok - \)/\1$name: /" >>"$work/$name.out"
		else
			echo "not ok - $name: no vdphost to check the image with" >>"$work/$name.out"
		fi
		;;
	esac
	while IFS= read -r line; do
		emit "$line"
	done <"$work/$name.out"
done <"$work/tests.list"
echo "1..$n"
echo "# VM suite: $((n - failed)) passed, $failed failed" >&2
[ $failed -eq 0 ]
