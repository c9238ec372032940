#!/bin/sh
# pecheck-selftest.sh PECHECK DRIVER.sys: the image check must reject the
# defects it exists to catch. Each case damages a copy of a good driver.
set -u
pecheck=$1 good=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

lfanew=$(od -An -tu4 -j60 -N4 "$good" | tr -d ' ')
opt=$((lfanew + 24))
nsect=$(od -An -tu2 -j$((lfanew + 6)) -N2 "$good" | tr -d ' ')
optsize=$(od -An -tu2 -j$((lfanew + 20)) -N2 "$good" | tr -d ' ')
sect=$((opt + optsize))

poke() { # file offset "hex bytes": overwrite bytes in place
	esc=
	for b in $3; do esc="$esc$(printf '\\%03o' "0x$b")"; done
	printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

expect() { # description, file, expected-failing-property
	n=$((n + 1))
	if out=$("$pecheck" "$2"); then
		echo "not ok $n - $1: pecheck accepted it"
	elif echo "$out" | grep -q "^not ok.*$3"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: failed for another reason"
		echo "$out" | sed 's/^/# /'
	fi
}

n=$((n + 1))
if "$pecheck" "$good" >/dev/null; then echo "ok $n - good image passes"; else echo "not ok $n - good image passes"; fi

cp "$good" "$tmp/sum.sys"; poke "$tmp/sum.sys" $((opt + 64)) "01 00 00 00"
expect "wrong checksum" "$tmp/sum.sys" "valid checksum"

cp "$good" "$tmp/sub.sys"; poke "$tmp/sub.sys" $((opt + 68)) "03 00"
expect "console subsystem" "$tmp/sub.sys" "native subsystem"

# Make the first section (.text) writable as well as executable.
cp "$good" "$tmp/wx.sys"; poke "$tmp/wx.sys" $((sect + 36)) "20 00 00 e0"
expect "writable code section" "$tmp/wx.sys" "section flags"

cp "$good" "$tmp/entry.sys"; poke "$tmp/entry.sys" $((opt + 16)) "00 00 00 00"
expect "no entry point" "$tmp/entry.sys" "entry point"

cp "$good" "$tmp/nx.sys"; poke "$tmp/nx.sys" $((opt + 70)) "00 00"
expect "no NX/ASLR" "$tmp/nx.sys" "NX and ASLR"

head -c 100 "$good" >"$tmp/trunc.sys"
expect "truncated image" "$tmp/trunc.sys" "well-formed"

echo "1..$((n))"
[ "$nsect" -gt 0 ]
