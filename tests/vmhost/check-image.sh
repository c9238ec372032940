#!/bin/sh
# The host-side image check must catch what it is there to catch: for each
# disk mode, a correct image passes, and one flipped byte in a pattern
# sector, in a sector that must be zero, or the wrong mode fails it.
# Usage: tests/vmhost/check-image.sh VDPHOST WORKDIR   (prints TAP)
set -u
vdphost=$1
work=$2
n=0
failed=0
mkdir -p "$work"

result() { # 0|1 description
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# Flip byte 100 of sector $2 in image $1.
flip() {
	b=$(dd if="$1" bs=1 skip=$(($2 * 512 + 100)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf '%b' "\\0$(printf %o $((${b:-0} ^ 1)))" |
		dd of="$1" bs=1 seek=$(($2 * 512 + 100)) conv=notrunc 2>/dev/null
}

expect_fail() { # mode image description
	if "$vdphost" --disk-mode "$1" --check-image "$2" >"$work/out" 2>&1; then
		result 1 "$3: not detected"
	elif grep -q '^not ok - ' "$work/out"; then
		result 0 "$3: detected ($(sed -n 's/^not ok - image [^:]*: //p' "$work/out"))"
	else
		result 1 "$3: failed without a TAP reason"
	fi
}

# mode, a pattern sector, a sector that must hold zeroes
for spec in basic:777: dump:777: zero:900:1100 eio:6000:20000; do
	mode=${spec%%:*}
	rest=${spec#*:}
	pat=${rest%%:*}
	zero=${rest#*:}
	img=$work/$mode.img
	if ! "$vdphost" --disk-mode "$mode" --write-image "$img"; then
		result 1 "$mode: cannot write the reference image"
		continue
	fi
	"$vdphost" --disk-mode "$mode" --check-image "$img" >"$work/out" 2>&1
	result $? "$mode: a correct image passes"
	cp "$img" "$img.bad"
	flip "$img.bad" "$pat"
	expect_fail "$mode" "$img.bad" "$mode: one flipped byte in pattern sector $pat"
	if [ -n "$zero" ]; then
		cp "$img" "$img.bad"
		flip "$img.bad" "$zero"
		expect_fail "$mode" "$img.bad" "$mode: one flipped byte in zero sector $zero"
		expect_fail basic "$img" "$mode image checked as basic"
	fi
done
rm -rf "$work"
echo "1..$n"
[ $failed -eq 0 ]
