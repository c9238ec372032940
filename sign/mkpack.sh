#!/bin/sh
# mkpack.sh: build the signed driver pack from built drivers.
#
#   mkpack.sh OUT BRAND_CONF MKCAT "DRIVERS" "ARCHES"
#
#   OUT        build output directory (reads OUT/<arch>/<driver>.sys)
#   BRAND_CONF brand configuration (brand/*.conf)
#   MKCAT      path of the mkcat host tool
#   DRIVERS    driver ids that have an INF template inf/<id>.inf.in
#   ARCHES     x64 and/or x86
#
# Environment: SOURCE_DATE_EPOCH (required), TEST_KEY_DIR (test keys to use
# instead of OUT/sign/testkeys-<brand>), MKPACK_ISO=0 to skip the ISO,
# PACK_NAMES=virtio-win to use virtio-win's folder and file names (viostor,
# NetKVM/netkvm.sys...) so tools that expect that layout find the drivers.
#
# Result: OUT/pack/ laid out as <file>/<os>/<arch>/{.sys,.inf,.cat},
# cert/, SHA256SUMS; OUT/<brand>-<version>.iso. Everything is built in
# OUT/pack.tmp and renamed into place at the end, so a failure (missing
# certificate, wrong password, bad INF...) leaves no partial pack behind.
set -eu

[ $# -eq 5 ] || { echo "usage: $0 OUT BRAND_CONF MKCAT DRIVERS ARCHES" >&2; exit 2; }
out=$1 conf=$2 mkcat=$3 drivers=$4 arches=$5
top=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "mkpack: $*" >&2; exit 1; }

: "${SOURCE_DATE_EPOCH:?mkpack: SOURCE_DATE_EPOCH must be set}"
case $SOURCE_DATE_EPOCH in ''|*[!0-9]*) die "SOURCE_DATE_EPOCH=\"$SOURCE_DATE_EPOCH\" is not a number" ;; esac
[ -x "$mkcat" ] || die "mkcat tool $mkcat not found (build it first)"
[ -n "$drivers" ] || die "no drivers to pack"

env=$("$top/sign/brand.sh" env "$conf") || exit 1
eval "$env"
case ${PACK_NAMES:=brand} in brand|virtio-win) ;; *) die "PACK_NAMES=\"$PACK_NAMES\" is not brand or virtio-win" ;; esac
for d in $drivers; do
	[ -f "$top/inf/$d.inf.in" ] || die "driver $d has no INF template inf/$d.inf.in"
	if [ "$PACK_NAMES" = virtio-win ] && ! grep -q '^@@virtio_win_name [A-Za-z0-9_]* [a-z0-9_]*$' "$top/inf/$d.inf.in"; then
		die "inf/$d.inf.in has no @@virtio_win_name line"
	fi
done

stage=$out/pack.tmp
rm -rf "$stage" "$out/pack"
mkdir -p "$stage" "$out/sign"
trap 'rm -rf "$stage"' EXIT

# ---------------------------------------------------------------- certificate
# sign_args: the osslsigncode key/certificate arguments; ca_file: what the
# checks verify the signatures against.
set --
case $BRAND_CERT_MODE in
test)
	keydir=${TEST_KEY_DIR:-$out/sign/testkeys-$BRAND_BRAND_ID}
	"$top/sign/testpki.sh" "$keydir" "$BRAND_VENDOR" || die "cannot create test keys in $keydir"
	set -- -certs "$keydir/cs-chain.pem" -key "$keydir/cs.key"
	cp "$keydir/ca.crt" "$out/sign/ca.pem"
	;;
pkcs12)
	[ -r "$BRAND_CERT_PKCS12" ] || die "certificate file $BRAND_CERT_PKCS12 not found or not readable"
	[ -r "$BRAND_CERT_PASSWORD_FILE" ] || die "password file $BRAND_CERT_PASSWORD_FILE not found or not readable"
	# Open it once up front: a wrong password must stop the build before
	# anything is signed, with a message that says so.
	if ! openssl pkcs12 -in "$BRAND_CERT_PKCS12" -passin "file:$BRAND_CERT_PASSWORD_FILE" \
		-nokeys -out "$stage/chain.pem" >/dev/null 2>"$stage/p12.log"; then
		die "cannot open $BRAND_CERT_PKCS12 (wrong password in $BRAND_CERT_PASSWORD_FILE, or not a PKCS#12 file)"
	fi
	openssl pkcs12 -in "$BRAND_CERT_PKCS12" -passin "file:$BRAND_CERT_PASSWORD_FILE" -nocerts -nodes \
		2>/dev/null | grep -q 'PRIVATE KEY' || die "$BRAND_CERT_PKCS12 holds no private key"
	set -- -pkcs12 "$BRAND_CERT_PKCS12" -readpass "$BRAND_CERT_PASSWORD_FILE"
	cat "$stage/chain.pem" >"$out/sign/ca.pem"
	;;
pkcs11)
	[ -r "$BRAND_CERT_PKCS11_MODULE" ] || die "PKCS#11 module $BRAND_CERT_PKCS11_MODULE not found"
	[ -r "$BRAND_CERT_CHAIN" ] || die "certificate chain $BRAND_CERT_CHAIN not found"
	set -- -pkcs11module "$BRAND_CERT_PKCS11_MODULE" -certs "$BRAND_CERT_CHAIN" -key "$BRAND_CERT_PKCS11_URI"
	cat "$BRAND_CERT_CHAIN" >"$out/sign/ca.pem"
	;;
esac
if [ "$BRAND_CERT_MODE" != test ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
	cat /etc/ssl/certs/ca-certificates.crt >>"$out/sign/ca.pem"
fi
if [ -n "$BRAND_TIMESTAMP_URL" ]; then
	set -- "$@" -ts "$BRAND_TIMESTAMP_URL"
fi

# sign_file IN OUT [osslsigncode options]: embedded Authenticode signature,
# SHA-256, signingTime fixed to SOURCE_DATE_EPOCH so the output is
# reproducible (without a time-stamp server).
sign_file() {
	sin=$1 sout=$2
	shift 2
	if ! osslsigncode sign "$@" -h sha256 -time "$SOURCE_DATE_EPOCH" \
		-n "$BRAND_PRODUCT" -i "$BRAND_URL" -in "$sin" -out "$sout" >"$stage/sign.log" 2>&1; then
		cat "$stage/sign.log" >&2
		die "signing $sin failed"
	fi
}

# ---------------------------------------------------------------- packages
# One package per driver and architecture: .sys (signed), .inf, .cat (signed).
# Windows 10 x86 is the only 32-bit target; every newer client and server is
# x64 only. All targets run a 10.0 kernel, so one catalog serves them all.
for arch in $arches; do
	case $arch in
	x64) winarch=amd64 catos=_v100_X64 oses="w10 w11 2k16 2k19 2k22 2k25" ;;
	x86) winarch=x86 catos=_v100 oses="w10" ;;
	*) die "unknown architecture $arch" ;;
	esac
	for d in $drivers; do
		up=$(echo "$d" | tr a-z A-Z)
		eval "file=\$BRAND_${up}_FILE"
		dir=$file
		if [ "$PACK_NAMES" = virtio-win ]; then
			vw=$(sed -n 's/^@@virtio_win_name //p' "$top/inf/$d.inf.in")
			dir=${vw% *} file=${vw#* }
		fi
		src=$out/$arch/$d.sys
		[ -f "$src" ] || die "$src not built"
		pkg=$stage/build/$arch/$file
		mkdir -p "$pkg"
		sign_file "$src" "$pkg/$file.sys" "$@" -ph
		MKINF_MAP=$stage/$arch-$d.map MKINF_FILE=$file \
			"$top/inf/mkinf.sh" "$top/inf/$d.inf.in" "$conf" "$arch" "$pkg/$file.inf" "$stage/$arch-$d.hwids"
		"$mkcat" -o "$stage/$file.unsigned.cat" -O "$catos" -A 2:10.0 -h "$stage/$arch-$d.hwids" \
			"$pkg/$file.sys" "$pkg/$file.inf" || die "catalog for $file ($arch) failed"
		sign_file "$stage/$file.unsigned.cat" "$pkg/$file.cat" "$@"
		# A template mistake stops the build here, not only in `make check`,
		# with one error that names the template line it came from.
		if ! LC_ALL=C awk -v pkgdir="$pkg" -f "$top/inf/infcheck.awk" "$pkg/$file.inf" \
			>"$stage/infcheck.log" 2>&1; then
			first=$(head -n 1 "$stage/infcheck.log")
			rest=${first#"$pkg/$file.inf:"}
			iline=${rest%%:*} msg=${rest#*: }
			tline=
			case $iline in
			''|*[!0-9]*) ;;
			*) tline=$(sed -n "${iline}p" "$stage/$arch-$d.map") ;;
			esac
			more=$(($(wc -l <"$stage/infcheck.log") - 1))
			[ "$rest" != "$first" ] || msg=$first
			die "inf/$d.inf.in${tline:+:$tline}: $msg (generated $arch/$file.inf${tline:+ line $iline}$([ $more -gt 0 ] && echo ", $more more")); no pack written"
		fi
		eval "desc=\$BRAND_${up}_DESC"
		for os in $oses; do
			mkdir -p "$stage/pack/$dir/$os/$winarch"
			cp "$pkg/$file.sys" "$pkg/$file.inf" "$pkg/$file.cat" "$stage/pack/$dir/$os/$winarch/"
			printf '%s/%s/%s/%s.inf\t%s\t%s\t%s\t%s\n' "$dir" "$os" "$winarch" "$file" \
				"$winarch" "$os" "$file" "$desc" >>"$stage/packages"
		done
	done
done
LC_ALL=C sort -o "$stage/packages" "$stage/packages"

# ---------------------------------------------------------------- virtio-win extras
# What virtio-win's ISO has besides <driver>/<os>/<arch>/: the auto-detect
# tree <arch>/<os>/ (arch amd64 or i386) holding every driver of that OS and
# architecture in one folder, and the driver manifest data/info.json
# ({"drivers": [{arch, driver_version, inf_path, name, windows_version}]},
# keys sorted, two-space indent, entries for the per-driver tree only).
if [ "$PACK_NAMES" = virtio-win ]; then
	while IFS='	' read -r inf winarch os file desc; do
		auto=$winarch
		[ "$winarch" = x86 ] && auto=i386
		adir=$stage/pack/$auto/$os
		mkdir -p "$adir"
		for ext in sys inf cat; do
			src=$stage/pack/${inf%.inf}.$ext
			if [ -e "$adir/$file.$ext" ] && ! cmp -s "$src" "$adir/$file.$ext"; then
				die "two drivers install $file.$ext for $os/$winarch: the auto-detect folder $auto/$os needs unique file names"
			fi
			cp "$src" "$adir/$file.$ext"
		done
	done <"$stage/packages"
	mkdir -p "$stage/pack/data"
	{
		printf '{\n  "drivers": ['
		sep=
		while IFS='	' read -r inf winarch os file desc; do
			dv=$(sed -n 's/^DriverVer *= *\([^ ;]*\).*/\1/p' "$stage/pack/$inf" | tr -d '\r')
			[ -n "$dv" ] || die "no DriverVer in $inf"
			printf '%s\n    {\n      "arch": "%s",\n      "driver_version": "%s",\n      "inf_path": "%s",\n      "name": "%s",\n      "windows_version": "%s"\n    }' \
				"$sep" "$winarch" "$dv" "$inf" "$desc" "$os"
			sep=,
		done <"$stage/packages"
		printf '\n  ]\n}\n'
	} >"$stage/pack/data/info.json"
fi

# ---------------------------------------------------------------- extras
mkdir -p "$stage/pack/cert"
if [ "$BRAND_CERT_MODE" = test ]; then
	# Import into "Trusted Root" and "Trusted Publishers" of a test machine
	# (with test signing enabled) to install the pack.
	cp "$keydir/ca.cer" "$stage/pack/cert/$BRAND_BRAND_ID-test-ca.cer"
fi
{
	echo "$BRAND_PRODUCT $BRAND_VERSION"
	echo "$BRAND_COPYRIGHT"
	echo "$BRAND_URL"
	echo
	echo "Layout: <driver>/<os>/<arch>/ with os in w10 w11 2k16 2k19 2k22 2k25"
	echo "and arch in amd64 x86 (x86: w10 only). Install with pnputil /add-driver."
	if [ "$PACK_NAMES" = virtio-win ]; then
		echo "As in virtio-win: amd64/<os>/ and i386/<os>/ hold every driver of one"
		echo "Windows version in one folder; data/info.json lists the drivers."
	fi
	if [ "$BRAND_CERT_MODE" = test ]; then
		echo
		echo "TEST-SIGNED: enable test signing (bcdedit /set testsigning on) and import"
		echo "cert/$BRAND_BRAND_ID-test-ca.cer into Trusted Root and Trusted Publishers."
	fi
} | sed 's/$/\r/' >"$stage/pack/README.txt"
(cd "$stage/pack" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' |
	while IFS= read -r f; do sha256sum "$f"; done) >"$stage/SHA256SUMS"
mv "$stage/SHA256SUMS" "$stage/pack/SHA256SUMS"
# Fixed times and modes, so archives, the ISO and installs do not depend on
# when we ran or on the umask.
chmod -R u=rwX,go=rX "$stage/pack"
find "$stage/pack" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

rm -rf "$out/pack"
mv "$stage/pack" "$out/pack"

# ---------------------------------------------------------------- ISO
if [ "${MKPACK_ISO:-1}" != 0 ]; then
	iso=$out/$BRAND_BRAND_ID-drivers-$BRAND_VERSION.iso
	label=$(echo "$BRAND_BRAND_ID-$BRAND_VERSION" | tr a-z.- A-Z__ | cut -c1-32)
	rm -f "$iso"
	# xorriso takes its volume times and UUID from SOURCE_DATE_EPOCH; -r/-J
	# with fixed file times make the image a function of the pack only.
	if ! xorriso -as mkisofs -quiet -r -J -joliet-long -iso-level 3 -V "$label" \
		-o "$iso.tmp" "$out/pack" >"$stage/iso.log" 2>&1; then
		cat "$stage/iso.log" >&2
		rm -f "$iso.tmp"
		die "xorriso failed"
	fi
	mv "$iso.tmp" "$iso"
fi
