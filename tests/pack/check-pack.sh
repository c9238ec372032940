#!/bin/sh
# check-pack.sh OUT MKCAT "DRIVERS" "ARCHES": TAP. Builds extra packs from the
# drivers in OUT/<arch>/ into scratch directories (never touching OUT/pack):
#  - the example-vendor brand: branded file names, layout, signatures;
#  - vendor certificate from a PKCS#12 file + password file;
#  - a wrong password and a missing certificate stop with one clear error
#    and leave no pack behind;
#  - the ISO holds every file of the pack.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: $0 OUT MKCAT DRIVERS ARCHES}
mkcat=${2:?}
drivers=${3?}
arches=${4:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-pack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 15; }
: "${SOURCE_DATE_EPOCH:=1735689600}"
export SOURCE_DATE_EPOCH

if [ -z "$drivers" ]; then
	echo "ok 1 - # SKIP no drivers built yet"
	echo "1..1"
	exit 0
fi
# scratch OUT directories with the unsigned drivers only
newout() {
	for a in $arches; do
		mkdir -p "$1/$a"
		for d in $drivers; do cp "$out/$a/$d.sys" "$1/$a/"; done
	done
}
keys=$tmp/keys
"$top/sign/testpki.sh" "$keys" "Check Pack" >"$tmp/log" 2>&1 || nok "test PKI"
export TEST_KEY_DIR="$keys"
pack() { "$top/sign/mkpack.sh" "$1" "$2" "$mkcat" "$drivers" "$arches" >"$tmp/log" 2>&1; }

# Rebranded pack.
newout "$tmp/ex"
if pack "$tmp/ex" "$top/brand/example-vendor.conf"; then ok "example-vendor pack builds"; else nok "example-vendor pack"; fi
eval "$("$top/sign/brand.sh" env "$top/brand/example-vendor.conf")"
d=$(echo "$drivers" | awk '{print $1}')
up=$(echo "$d" | tr a-z A-Z)
eval "file=\$BRAND_${up}_FILE"
p=$tmp/ex/pack/$file/w11/amd64
case " $arches " in *" x64 "*) ;; *) p=$tmp/ex/pack/$file/w10/x86 ;; esac
if [ -f "$p/$file.sys" ] && [ -f "$p/$file.cat" ] && grep -q "^CatalogFile = $file.cat" "$p/$file.inf" &&
	grep -q "Provider *= \"$BRAND_PROVIDER\"" "$p/$file.inf" && grep -q "SUBSYS_[0-9A-F]\{4\}5A5A" "$p/$file.inf"; then
	ok "branded package $file: names, provider, subsystem IDs"
else
	ls -R "$tmp/ex/pack" >"$tmp/log" 2>&1; nok "branded package $file"
fi
if osslsigncode verify -CAfile "$tmp/ex/sign/ca.pem" -catalog "$p/$file.cat" -in "$p/$file.sys" >"$tmp/log" 2>&1; then
	ok "branded $file.sys verifies against its catalog"
else
	nok "branded catalog"
fi
if [ -f "$tmp/ex/example-vendor-drivers-$BRAND_VERSION.iso" ] && [ -f "$tmp/ex/pack/cert/example-vendor-test-ca.cer" ]; then
	ok "ISO and test certificate present"
else
	ls "$tmp/ex" "$tmp/ex/pack/cert" >"$tmp/log" 2>&1; nok "ISO or certificate missing"
fi
want=$( { for dd in $drivers; do uu=$(echo "$dd" | tr a-z A-Z); eval "echo \$BRAND_${uu}_FILE"; done
	printf '%s\n' README.txt SHA256SUMS cert; } | LC_ALL=C sort | tr '\n' ' ')
got=$(ls "$tmp/ex/pack" | LC_ALL=C sort | tr '\n' ' ')
if [ "$got" = "$want" ]; then
	ok "pack root holds one folder per driver plus cert/, README.txt, SHA256SUMS"
else
	echo "got: $got want: $want" >"$tmp/log"; nok "unexpected pack root"
fi

# virtio-win folder and file names.
newout "$tmp/vw"
if PACK_NAMES=virtio-win pack "$tmp/vw" "$top/brand/default.conf"; then
	bad=
	for dd in $drivers; do
		vw=$(sed -n 's/^@@virtio_win_name //p' "$top/inf/$dd.inf.in")
		vdir=${vw% *} vfile=${vw#* }
		for pk in "$tmp/vw/pack/$vdir"/*/*; do
			[ -f "$pk/$vfile.sys" ] && grep -q "^CatalogFile = $vfile.cat" "$pk/$vfile.inf" &&
				osslsigncode verify -CAfile "$keys/ca.crt" -catalog "$pk/$vfile.cat" -in "$pk/$vfile.sys" >/dev/null 2>&1 ||
				bad="$bad $pk"
		done
	done
	if [ -z "$bad" ]; then ok "PACK_NAMES=virtio-win: $(ls "$tmp/vw/pack" | tr '\n' ' ')"; else echo "bad:$bad" >"$tmp/log"; nok "virtio-win names"; fi
else
	nok "PACK_NAMES=virtio-win pack"
fi

# Vendor certificate from PKCS#12.
printf 'correct horse\n' >"$tmp/pw"
printf 'wrong\n' >"$tmp/badpw"
openssl pkcs12 -export -in "$keys/cs.crt" -inkey "$keys/cs.key" -certfile "$keys/ca.crt" \
	-passout "file:$tmp/pw" -out "$tmp/vendor.p12" >"$tmp/log" 2>&1 || nok "make PKCS#12"
mkp12() {
	sed -e "s|^CERT_MODE=.*|CERT_MODE=pkcs12\nCERT_PKCS12=$1\nCERT_PASSWORD_FILE=$2|" \
		"$top/brand/default.conf" >"$tmp/p12.conf"
}
mkp12 "$tmp/vendor.p12" "$tmp/pw"
newout "$tmp/p12"
if pack "$tmp/p12" "$tmp/p12.conf" && osslsigncode verify -CAfile "$keys/ca.crt" -in "$(ls "$tmp"/p12/pack/*/w10/*/*.sys | head -n 1)" >"$tmp/log" 2>&1; then
	ok "PKCS#12 vendor certificate signs a verifiable pack"
else
	nok "PKCS#12 signing"
fi
mkp12 "$tmp/vendor.p12" "$tmp/badpw"
newout "$tmp/bad"
mkdir -p "$tmp/bad/pack" && : >"$tmp/bad/pack/stale"
if pack "$tmp/bad" "$tmp/p12.conf"; then
	nok "wrong PKCS#12 password accepted"
elif [ "$(wc -l <"$tmp/log")" -eq 1 ] && grep -q 'wrong password' "$tmp/log" && [ ! -e "$tmp/bad/pack" ] && [ ! -e "$tmp/bad/pack.tmp" ]; then
	ok "wrong password: one error, no pack: $(cat "$tmp/log")"
else
	ls -la "$tmp/bad" >>"$tmp/log"; nok "wrong password handling"
fi
mkp12 "$tmp/missing.p12" "$tmp/pw"
if pack "$tmp/bad" "$tmp/p12.conf"; then
	nok "missing PKCS#12 accepted"
elif [ "$(wc -l <"$tmp/log")" -eq 1 ] && grep -q 'cannot read file' "$tmp/log" && [ ! -e "$tmp/bad/pack" ]; then
	ok "missing certificate: one error, no pack: $(sed "s|$tmp/||g" "$tmp/log")"
else
	nok "missing certificate handling"
fi

# Vendor key in a PKCS#11 token (SoftHSM), when the packages are installed.
hsm=/usr/lib/softhsm/libsofthsm2.so
if [ -r "$hsm" ] && command -v softhsm2-util >/dev/null 2>&1 &&
	[ -r /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ]; then
	mkdir -p "$tmp/hsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$tmp/hsm/tokens" >"$tmp/hsm/conf"
	export SOFTHSM2_CONF="$tmp/hsm/conf"
	softhsm2-util --init-token --free --label vdp --pin 1234 --so-pin 5678 >"$tmp/log" 2>&1 &&
		softhsm2-util --import "$keys/cs.key" --token vdp --label cs --id 01 --pin 1234 >>"$tmp/log" 2>&1 ||
		nok "SoftHSM token setup"
	mkp11() {
		sed -e "s|^CERT_MODE=.*|CERT_MODE=pkcs11\nCERT_PKCS11_URI=pkcs11:token=vdp;object=cs;type=private;pin-value=$1\nCERT_PKCS11_MODULE=$hsm\nCERT_CHAIN=$keys/cs-chain.pem|" \
			"$top/brand/default.conf" >"$tmp/p11.conf"
	}
	mkp11 1234
	newout "$tmp/p11"
	if pack "$tmp/p11" "$tmp/p11.conf" && osslsigncode verify -CAfile "$keys/ca.crt" -in "$(ls "$tmp"/p11/pack/*/w10/*/*.cat | head -n 1)" >"$tmp/log" 2>&1; then
		ok "PKCS#11 (SoftHSM) key signs a verifiable pack"
	else
		nok "PKCS#11 signing"
	fi
	mkp11 0000
	if pack "$tmp/p11" "$tmp/p11.conf"; then
		nok "wrong PKCS#11 PIN accepted"
	elif [ ! -e "$tmp/p11/pack" ] && grep -q '^mkpack: signing .* failed' "$tmp/log"; then
		ok "wrong PKCS#11 PIN: error, no pack: $(grep '^mkpack:' "$tmp/log" | sed "s|$tmp/||g")"
	else
		nok "wrong PKCS#11 PIN handling"
	fi
	unset SOFTHSM2_CONF
else
	ok "# SKIP PKCS#11: softhsm2 or libengine-pkcs11-openssl not installed"
fi

# (Byte-reproducibility of the whole pack and ISO is tests/repro's job.)
newout "$tmp/r1"
pack "$tmp/r1" "$top/brand/default.conf" || nok "default-brand pack"
if [ "$(xorriso -indev "$(ls "$tmp"/r1/*.iso)" -find / -type f 2>/dev/null | wc -l)" -eq "$(find "$tmp/r1/pack" -type f | wc -l)" ]; then
	ok "ISO holds every file of the pack"
else
	echo "iso vs pack file count differ" >"$tmp/log"; nok "ISO contents"
fi
echo "1..$n"
