#!/bin/sh
# check-install.sh MAKE OUT: TAP. Runs `make install DESTDIR=<scratch>
# PREFIX=/usr` (under umask 022, then under umask 077 as a packager's
# restrictive shell might have) and checks the installed tree: every file of
# OUT/pack, byte-identical, under usr/share/openvdp and nothing anywhere
# else, files 0644 and directories 0755.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
make=${1:?usage: $0 MAKE OUT}
out=${2:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/log" | tail -n 20; }
cd "$top" || exit 1

if [ ! -f "$out/pack/SHA256SUMS" ]; then
	echo "ok 1 - # SKIP no pack in $out/pack (no drivers built yet)"; echo "1..1"; exit 0
fi
(cd "$out/pack" && find . -type f | LC_ALL=C sort) >"$tmp/want"

for um in 022 077; do
	d=$tmp/dest$um
	if (umask $um && $make O="$out" install DESTDIR="$d" PREFIX=/usr) >"$tmp/log" 2>&1; then
		ok "umask $um: make install DESTDIR=... PREFIX=/usr"
	else
		nok "umask $um: make install"; continue
	fi
	share=$d/usr/share/openvdp
	(cd "$share" 2>/dev/null && find . -type f | LC_ALL=C sort) >"$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then
		bad=
		while IFS= read -r f; do cmp -s "$out/pack/$f" "$share/$f" || bad="$bad $f"; done <"$tmp/want"
		if [ -z "$bad" ]; then
			ok "umask $um: all $(wc -l <"$tmp/want") pack files installed, byte-identical"
		else
			echo "differ:$bad" >"$tmp/log"; nok "umask $um: installed files differ from the pack"
		fi
	else
		diff "$tmp/want" "$tmp/got" >"$tmp/log"; nok "umask $um: installed file set differs from $out/pack"
	fi
	# Nothing outside $(PREFIX)/share/openvdp but its parent directories.
	(cd "$d" && find . ! -path './usr/share/openvdp/*' ! -path ./usr/share/openvdp \
		! -path . ! -path ./usr ! -path ./usr/share) >"$tmp/log"
	if [ -s "$tmp/log" ]; then nok "umask $um: files outside /usr/share/openvdp"; else ok "umask $um: nothing outside /usr/share/openvdp"; fi
	(cd "$d" && find ./usr/share/openvdp \( -type f ! -perm 0644 \) -o \( -type d ! -perm 0755 \) -o \
		\( ! -type f ! -type d \) | xargs -r stat -c '%A %n') >"$tmp/log"
	if [ -s "$tmp/log" ]; then
		nok "umask $um: modes are not 0644 (files) / 0755 (directories)"
	else
		ok "umask $um: files 0644, directories 0755, no links or special files"
	fi
done
echo "1..$n"
