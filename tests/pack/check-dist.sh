#!/bin/sh
# check-dist.sh MAKE OUT "DRIVERS": TAP. Runs `make dist`, unpacks the tarball
# into a scratch directory and builds every driver from it with
# `make -j2 drivers`, with the network cut off (unshare -n) when possible.
# The tarball holds the files git tracks: a new file that is not added yet
# makes this check fail, which is the point.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
make=${1:?usage: $0 MAKE OUT DRIVERS}
out=${2:?}
drivers=${3?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 25; }
cd "$top" || exit 1

if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "ok 1 - # SKIP not a git checkout (make dist needs one)"; echo "1..1"; exit 0
fi
if $make O="$out" dist >"$tmp/log" 2>&1; then
	ok "make dist"
else
	nok "make dist"; echo "1..$n"; exit 1
fi
tarball=$(sed -n 's/^ *DIST *//p' "$tmp/log" | tail -n 1)
[ -f "$tarball" ] || tarball=$(ls -t "$out"/*.tar.gz 2>/dev/null | head -n 1)
if [ -f "$tarball" ] && tar -xzf "$tarball" -C "$tmp" 2>"$tmp/log"; then
	ok "$(basename "$tarball") unpacks"
else
	nok "unpack $tarball"; echo "1..$n"; exit 1
fi
src=$(ls -d "$tmp"/*/ | head -n 1)
# Sources the tree uses but git does not track (they would be missing).
git ls-files -o --exclude-standard -- Makefile mk inf sign brand res src include tools tests ci >"$tmp/log"
if [ -s "$tmp/log" ]; then
	nok "every source file is tracked by git (untracked files are left out of the tarball)"
else
	ok "every source file is tracked by git"
fi
net="unshare -n"
if ! unshare -n true 2>/dev/null; then
	net="unshare -rn"
	unshare -rn true 2>/dev/null || net=
fi
# A user's fresh build: none of the caller's make settings.
if (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $net make -j2 drivers) >"$tmp/log" 2>&1; then
	ok "drivers build from the tarball${net:+ without network ($net)}"
else
	nok "drivers build from the tarball"; echo "1..$n"; exit 1
fi
missing=
for a in x64 x86; do
	for d in $drivers; do [ -f "$src/out/$a/$d.sys" ] || missing="$missing $a/$d.sys"; done
done
if [ -z "$missing" ]; then
	ok "every driver built from the tarball: $(cd "$src/out" && ls x64/*.sys x86/*.sys | tr '\n' ' ')"
else
	echo "missing:$missing" >"$tmp/log"; nok "drivers missing from the tarball build"
fi
echo "1..$n"
