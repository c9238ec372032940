#!/bin/sh
# check-sign.sh OUT MKCAT [UNSIGNED.sys...]: TAP. Verifies the signed pack in
# OUT/pack against OUT/sign/ca.pem (written by sign/mkpack.sh):
#  - the embedded signature (with page hashes) of every .sys,
#  - the signature of every .cat, every .sys against its catalog
#    (osslsigncode) and every member hash, INF included (mkcat -V),
#  - that one changed byte breaks each of these,
#  - the copies for each OS are identical and SHA256SUMS matches,
#  - our Authenticode PE hash equals osslsigncode's for the unsigned inputs.
set -u
out=${1:?usage: $0 OUT MKCAT [UNSIGNED.sys...]}
mkcat=${2:?}
shift 2
pack=$out/pack ca=$out/sign/ca.pem
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-sign.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 15; }
run() { "$@" >"$tmp/log" 2>&1; }

if ! ls "$pack"/*/w10/*/*.sys >/dev/null 2>&1; then
	echo "ok 1 - # SKIP no signed drivers in $pack (no drivers built yet)"
	echo "1..1"
	exit 0
fi

# Every package is checked once, in its w10 copy (w10 has both arches);
# the other OS directories must hold the same bytes.
for pkg in "$pack"/*/w10/*; do
	rel=${pkg#$pack/}
	name=$(basename "$(dirname "$(dirname "$pkg")")")
	sys=$pkg/$name.sys cat=$pkg/$name.cat inf=$pkg/$name.inf
	if run osslsigncode verify -CAfile "$ca" -in "$sys" && grep -q '^Page hash algorithm *: SHA256' "$tmp/log"; then
		ok "$rel/$name.sys: signature and page hashes verify"
	else
		nok "$rel/$name.sys: embedded signature"
	fi
	if run osslsigncode verify -CAfile "$ca" -in "$cat"; then ok "$rel/$name.cat: signature verifies"; else nok "$rel/$name.cat: signature"; fi
	if run osslsigncode verify -CAfile "$ca" -catalog "$cat" -in "$sys"; then
		ok "$rel/$name.sys is signed by $name.cat"
	else
		nok "$rel/$name.sys against $name.cat"
	fi
	if run "$mkcat" -V "$cat" "$sys" "$inf"; then ok "$rel: every catalog member hash matches"; else nok "$rel: catalog member hashes"; fi
	arch=$(basename "$pkg")
	same=1
	for copy in "$pack/$name"/*/"$arch"; do
		for f in "$name.sys" "$name.inf" "$name.cat"; do
			cmp -s "$pkg/$f" "$copy/$f" || { same=0; echo "differs: $copy/$f" >"$tmp/log"; }
		done
	done
	if [ $same = 1 ]; then ok "$name/*/$arch: OS copies identical"; else nok "$name/*/$arch: OS copies"; fi
done

# Tampering: flip one byte in the middle of the first x64 driver and of its INF.
pkg=$(ls -d "$pack"/*/w10/amd64 | head -n 1)
name=$(basename "$(dirname "$(dirname "$pkg")")")
cp "$pkg/$name.sys" "$pkg/$name.inf" "$pkg/$name.cat" "$tmp/"
size=$(wc -c <"$tmp/$name.sys")
off=$((size / 3))
byte=$(od -An -tu1 -j "$off" -N1 "$tmp/$name.sys" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" | dd of="$tmp/$name.sys" bs=1 seek="$off" conv=notrunc 2>/dev/null
if run osslsigncode verify -CAfile "$ca" -in "$tmp/$name.sys"; then nok "changed byte at $off passes the embedded signature"; else ok "changed .sys byte breaks the embedded signature"; fi
if run osslsigncode verify -CAfile "$ca" -catalog "$tmp/$name.cat" -in "$tmp/$name.sys"; then nok "changed byte passes the catalog"; else ok "changed .sys byte breaks the catalog check (osslsigncode)"; fi
if run "$mkcat" -V "$tmp/$name.cat" "$tmp/$name.sys" "$tmp/$name.inf"; then nok "changed byte passes mkcat -V"; else ok "changed .sys byte breaks the catalog check (mkcat -V)"; fi
cp "$pkg/$name.sys" "$tmp/$name.sys"
sed 's/^PnpLockdown = 1/PnpLockdown = 0/' "$pkg/$name.inf" >"$tmp/$name.inf"
if run "$mkcat" -V "$tmp/$name.cat" "$tmp/$name.sys" "$tmp/$name.inf"; then nok "changed INF passes mkcat -V"; else ok "changed INF breaks the catalog check"; fi
size=$(wc -c <"$pkg/$name.cat")
cp "$pkg/$name.cat" "$tmp/$name.cat"
printf 'Z' | dd of="$tmp/$name.cat" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
if run osslsigncode verify -CAfile "$ca" -in "$tmp/$name.cat"; then nok "changed .cat signature byte passes"; else ok "changed .cat byte breaks its signature"; fi

if (cd "$pack" && sha256sum -c --quiet SHA256SUMS) >"$tmp/log" 2>&1; then ok "SHA256SUMS matches the pack"; else nok "SHA256SUMS"; fi

# Our PE hash against osslsigncode's, on the unsigned build outputs.
for sys in "$@"; do
	[ -f "$sys" ] || continue
	ours=$("$mkcat" -p "$sys" 2>"$tmp/log" | cut -d' ' -f1)
	rm -f "$tmp/data.der"
	run osslsigncode extract-data -h sha256 -in "$sys" -out "$tmp/data.der"
	theirs=$(openssl asn1parse -inform DER -in "$tmp/data.der" 2>/dev/null | sed -n 's/.*OCTET STRING *\[HEX DUMP\]://p' | tail -n 1 | tr A-F a-f)
	if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then ok "PE hash of $sys matches osslsigncode"; else echo "ours=$ours theirs=$theirs" >"$tmp/log"; nok "PE hash of $sys"; fi
done
echo "1..$n"
