#!/bin/sh
# repro-check.sh [MAKE ARGS...]: builds the tree twice, in two directories of
# different depth, with different TZ, locale and umask but the same
# SOURCE_DATE_EPOCH, and compares every artifact byte for byte. Prints TAP;
# a difference names the file (and shows diffoscope's view when installed).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: "${SOURCE_DATE_EPOCH:=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 1735689600)}"
export SOURCE_DATE_EPOCH

# Same sources for both: the tracked and untracked-but-not-ignored files.
copy_tree() {
	mkdir -p "$1"
	(cd "$top" && git ls-files -co --exclude-standard -z) |
		(cd "$top" && xargs -0 tar -cf - --) | tar -xf - -C "$1"
}

a=$tmp/a
b=$tmp/b/a/much/deeper/build/path/openvdp-copy
copy_tree "$a"
copy_tree "$b"

# Signing keys are the one input that is random by nature: give both builds
# the same test key, as a vendor gives every build the same certificate.
"$top/sign/testpki.sh" "$tmp/keys" "OpenVDP repro check" || {
	echo "not ok 1 - cannot create the shared test key"; exit 1; }
export TEST_KEY_DIR="$tmp/keys"

n=0
if ! (cd "$a" && umask 022 && env -u MAKEFLAGS TZ=UTC LANG=C LC_ALL=C make -j2 "$@" >"$tmp/a.log" 2>&1); then
	echo "not ok 1 - first build failed"; sed 's/^/# /' "$tmp/a.log" | tail -n 30; exit 1
fi
if ! (cd "$b" && umask 077 && env -u MAKEFLAGS TZ=Asia/Tokyo LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8 make -j2 "$@" >"$tmp/b.log" 2>&1); then
	echo "not ok 1 - second build failed"; sed 's/^/# /' "$tmp/b.log" | tail -n 30; exit 1
fi

# Compare the deliverables: drivers, catalogs, INFs, the pack tree and images.
list() {
	(cd "$1/out" && find . -type f \( -name '*.sys' -o -name '*.cat' -o -name '*.inf' \
		-o -name '*.iso' -o -name '*.msi' -o -name '*.cer' -o -path './pack/*' \) | LC_ALL=C sort)
}
list "$a" >"$tmp/a.list"
list "$b" >"$tmp/b.list"

n=$((n + 1))
if [ ! -s "$tmp/a.list" ]; then
	echo "not ok $n - the build produced artifacts"
elif cmp -s "$tmp/a.list" "$tmp/b.list"; then
	echo "ok $n - both builds produced the same $(wc -l <"$tmp/a.list") files"
else
	echo "not ok $n - the builds produced different file sets"
	diff "$tmp/a.list" "$tmp/b.list" | sed 's/^/# /'
fi
while read -r f; do
	n=$((n + 1))
	if cmp -s "$a/out/$f" "$b/out/$f"; then
		echo "ok $n - identical: ${f#./}"
	else
		echo "not ok $n - differs: ${f#./}"
		if command -v diffoscope >/dev/null 2>&1; then
			diffoscope "$a/out/$f" "$b/out/$f" 2>&1 | head -n 40 | sed 's/^/# /'
		fi
	fi
done <"$tmp/a.list"
echo "1..$n"
