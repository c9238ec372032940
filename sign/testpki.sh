#!/bin/sh
# testpki.sh: create a throw-away test CA and code-signing certificate.
#
#   testpki.sh KEYDIR "SUBJECT NAME"
#
# Writes KEYDIR/{ca.key,ca.crt,ca.cer,cs.key,cs.crt,cs-chain.pem}. An existing
# complete KEYDIR is kept as it is, so two builds (or a build and a repro
# check) can share one key. These keys are for test signing only: they live
# under out/ and must never be committed or shipped.
#
# The validity period is fixed (2020..2049) rather than "now + N days": files
# are signed with signingTime = SOURCE_DATE_EPOCH, which may predate the day
# the certificate was made, and verification checks the chain at that time.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 KEYDIR SUBJECT-NAME" >&2; exit 2; }
dir=$1 name=$2

complete=1
for f in ca.key ca.crt ca.cer cs.key cs.crt cs-chain.pem; do
	[ -s "$dir/$f" ] || complete=0
done
if [ $complete = 1 ]; then
	exit 0
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
	echo "testpki: $dir exists but is incomplete (need ca.key ca.crt ca.cer cs.key cs.crt cs-chain.pem); remove it or point TEST_KEY_DIR elsewhere" >&2
	exit 1
fi

# Build in a scratch directory and move into place only when complete.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/testpki.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
umask 077

# '#' starts a comment in OpenSSL configuration files; other characters are
# already restricted by the brand validator.
# X.509 limits a common name to 64 characters, and the longest suffix below
# takes 34 of them.
cn=$(printf '%s' "$name" | cut -c1-30 | sed 's/#/\\#/g')

cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
dir           = $tmp
database      = $tmp/index.txt
new_certs_dir = $tmp/new
serial        = $tmp/serial
default_md    = sha256
policy        = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName       = supplied
organizationName = optional
[req]
prompt             = no
distinguished_name = dn_ca
[dn_ca]
CN = $cn Test Root CA (NOT TRUSTED)
O  = $cn test signing
[dn_cs]
CN = $cn Test Code Signing (NOT TRUSTED)
O  = $cn test signing
[v3_ca]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[v3_cs]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
mkdir "$tmp/new"
: >"$tmp/index.txt"
echo 1000 >"$tmp/serial"

run() {
	if ! "$@" >"$tmp/log" 2>&1; then
		echo "testpki: command failed: $*" >&2
		cat "$tmp/log" >&2
		exit 1
	fi
}
dates="-startdate 20200101000000Z -enddate 20491231235959Z"
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/ca.key"
run openssl req -new -config "$tmp/ca.cnf" -key "$tmp/ca.key" -out "$tmp/ca.csr"
run openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile "$tmp/ca.key" -in "$tmp/ca.csr" \
	-out "$tmp/ca.crt" -extensions v3_ca -notext $dates
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/cs.key"
sed 's/^distinguished_name = dn_ca/distinguished_name = dn_cs/' "$tmp/ca.cnf" >"$tmp/cs.cnf"
run openssl req -new -config "$tmp/cs.cnf" -key "$tmp/cs.key" -out "$tmp/cs.csr"
run openssl ca -batch -config "$tmp/ca.cnf" -cert "$tmp/ca.crt" -keyfile "$tmp/ca.key" -in "$tmp/cs.csr" \
	-out "$tmp/cs.crt" -extensions v3_cs -notext $dates
run openssl x509 -in "$tmp/ca.crt" -outform DER -out "$tmp/ca.cer"
cat "$tmp/cs.crt" "$tmp/ca.crt" >"$tmp/cs-chain.pem"

mkdir -p "$dir"
for f in ca.key ca.crt ca.cer cs.key cs.crt cs-chain.pem; do
	cp "$tmp/$f" "$dir/$f.tmp"
	mv "$dir/$f.tmp" "$dir/$f"
done
chmod 644 "$dir/ca.crt" "$dir/ca.cer" "$dir/cs.crt" "$dir/cs-chain.pem"
