#!/bin/bash
# shellcheck disable=SC2016,SC2001  # bash -c programs are single-quoted on purpose
# Self-test of ci/windows (no Windows needed): script syntax, answer files,
# test ISO contents, the QEMU machines (started briefly under TCG) and, when
# ci/vm's Linux guest is cached, a whole test run with a Linux stand-in guest
# (ci/windows/standin/) through the real host pipeline. Prints TAP.
#
# Environment:
#   VDP_GUEST       ci/vm guest cache (default out/vm/guest); stand-in run
#                   skipped without it
#   PS_PARSER_DIR   directory whose node_modules has web-tree-sitter and
#                   tree-sitter-powershell (npm); PowerShell syntax check
#                   skipped without it
#   VDP_WIN_WORK    scratch directory (default out/windows-selftest)
#   VDP_PACK_ISO    driver pack ISO (default: newest out/*-drivers-*.iso)
#   VDP_WIN_VM      0 skips everything that starts QEMU (about 5 minutes)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
run=$here/run-windows-tests.sh
work=${VDP_WIN_WORK:-$top/out/windows-selftest}
guest=${VDP_GUEST:-$top/out/vm/guest}
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check NAME COMMAND...: ok when COMMAND succeeds; its output is kept as comments
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else fail "$name"; fi
	[ -z "$out" ] || sed 's/^/# /' <<<"$out" | head -n 40
}

# Only ever delete a directory this script made (it leaves a marker).
if [ -e "$work" ] && [ ! -e "$work/.vdp-windows-selftest" ]; then
	echo "not ok 1 - $work exists and was not made by selftest.sh; set VDP_WIN_WORK"
	exit 1
fi
rm -rf "$work"
if ! { mkdir -p "$work" && touch "$work/.vdp-windows-selftest"; }; then
	echo "not ok 1 - cannot create $work"
	exit 1
fi

# ---------------------------------------------------------------- syntax
check "run-windows-tests.sh: bash -n" bash -n "$run"
check "selftest.sh: bash -n" bash -n "$0"
for f in "$here"/standin/init "$here"/standin/udhcpc-script "$here"/standin/mkinitrd.sh; do
	check "standin/${f##*/}: sh -n" sh -n "$f"
done
if command -v shellcheck >/dev/null 2>&1; then
	check "shellcheck" shellcheck "$run" "$0" "$here"/standin/init "$here"/standin/udhcpc-script "$here"/standin/mkinitrd.sh
else
	skip "shellcheck" "shellcheck not installed (apt-get install shellcheck)"
fi
if [ -n "${PS_PARSER_DIR:-}" ] && command -v node >/dev/null 2>&1; then
	check "guest/vdptest.ps1: PowerShell syntax (tree-sitter grammar)" \
		env PS_PARSER_DIR="$PS_PARSER_DIR" node "$here/ps-syntax.mjs" "$here/guest/vdptest.ps1"
else
	skip "guest/vdptest.ps1: PowerShell syntax" "set PS_PARSER_DIR (npm install web-tree-sitter tree-sitter-powershell)"
fi
# The C# helper inside vdptest.ps1 is compiled by Add-Type with Windows
# PowerShell's C# 5 compiler: compile it the same way and run the parts that
# need no Windows API (TCP peers like the guestfwd ones, buffer compare).
if command -v mcs >/dev/null 2>&1 && command -v mono >/dev/null 2>&1; then
	awk "/^\\\$script:HelperSource = @'/ { f = 1; next } /^'@/ { f = 0 } f" \
		"$here/guest/vdptest.ps1" >"$work/helper.cs"
	check "vdptest.ps1 C# helper compiles as C# 5 (mcs)" \
		mcs -langversion:5 -warnaserror+ -target:library -out:"$work/helper.dll" "$work/helper.cs"
	check "vdptest.ps1 C# helper: TCP upload/download and compare (mono)" bash -c '
		mcs -langversion:5 -warnaserror+ -out:"$1/helpertest.exe" "$1/helper.cs" "$2" && mono "$1/helpertest.exe"' \
		sh "$work" "$here/helpertest.cs"
else
	skip "vdptest.ps1 C# helper" "no mcs/mono (apt-get install mono-mcs)"
fi
# Windows PowerShell reads a BOM-less script as ANSI; cmd.exe has its own code page.
for f in "$here"/guest/*; do
	check "guest/${f##*/}: ASCII only" bash -c '! LC_ALL=C grep -n "[^[:print:][:space:]]" "$1"' sh "$f"
done

# ---------------------------------------------------------------- argument checks
# Bad input must end with exit status 2 and a message, never a half-started VM.
bad_args() { # bad_args EXPECTED-TEXT ARGS...
	local want=$1 out rc
	shift
	out=$("$run" --workdir "$work/bad" "$@" 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "$want" <<<"$out" && return 0
	echo "exit $rc: $out"
	return 1
}
check "rejects a missing --image/--install-iso" bad_args "give --image or --install-iso"
check "rejects --accel xyz" bad_args "must be kvm or tcg" --image /dev/null --accel xyz
check "rejects --blk bogus" bad_args "unknown variant" --image /dev/null --blk modern,bogus
check "rejects a work directory with a space" bad_args "must consist of" --image /dev/null --workdir "$work/a b"
check "rejects a Secure Boot OVMF" bad_args "Secure Boot" --image /dev/null --firmware uefi \
	--ovmf-code /usr/share/OVMF/OVMF_CODE_4M.secboot.fd --ovmf-vars /dev/null --accel tcg
check "rejects --timeout 5" bad_args "timeout must be" --image /dev/null --timeout 5
check "rejects a bad --product-key" bad_args "product-key" --install-iso /dev/null --product-key abc
check "rejects a missing pack ISO" bad_args "not readable" --image /dev/null --pack-iso "$work/none.iso"

# ---------------------------------------------------------------- the pack
pack=${VDP_PACK_ISO:-}
for f in "$top"/out/*-drivers-*.iso; do
	[ -z "${VDP_PACK_ISO:-}" ] || break
	[ -f "$f" ] || continue
	if [ -z "$pack" ] || [ "$f" -nt "$pack" ]; then pack=$f; fi
done
if [ -z "$pack" ]; then
	fail "driver pack ISO out/*-drivers-*.iso exists (run make first)"
	echo "1..$n"
	echo "$((n - failed)) passed, $failed failed"
	exit 1
fi
ok "driver pack ISO: ${pack#"$top"/}"

# A stand-in for a Windows install ISO, for dry runs and the install machine.
mkdir -p "$work/fakewin"
echo "not Windows" >"$work/fakewin/readme.txt"
xorriso -as mkisofs -quiet -V FAKEWIN -o "$work/fakewin.iso" "$work/fakewin" 2>/dev/null
qemu-img create -q -f qcow2 "$work/fake-windows.qcow2" 64G

# ---------------------------------------------------------------- answer files and test ISO
for fw in bios uefi; do
	out=$("$run" --install-iso "$work/fakewin.iso" --pack-iso "$pack" --workdir "$work/$fw" \
		--accel tcg --firmware "$fw" --ovmf-code /dev/null --ovmf-vars /dev/null \
		--image-name "Windows 10 Pro" --product-key AAAAA-BBBBB-CCCCC-DDDDD-EEEEE \
		--admin-password 'Pw.1234+x' --dry-run 2>&1)
	xml=$work/$fw/last/installiso/autounattend.xml
	if [ ! -f "$xml" ]; then
		fail "$fw: dry run writes autounattend.xml"
		sed 's/^/# /' <<<"$out" | head -n 20
		continue
	fi
	if command -v xmllint >/dev/null 2>&1; then
		check "$fw: autounattend.xml is well-formed (xmllint)" xmllint --noout "$xml"
	else
		skip "$fw: autounattend.xml is well-formed" "no xmllint (apt-get install libxml2-utils)"
	fi
	check "$fw: no @TOKEN@ left in autounattend.xml" bash -c '! grep -n "@[A-Z_]*@" "$1"' sh "$xml"
	part=2
	[ "$fw" = bios ] || part=3
	check "$fw: Windows goes to partition $part, edition, key and password filled in" bash -c '
		tr -d " \n" <"$1" | grep -q "<InstallTo><DiskID>0</DiskID><PartitionID>$2</PartitionID></InstallTo>" &&
		grep -q "<Value>Windows 10 Pro</Value>" "$1" && grep -q "<Key>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</Key>" "$1" &&
		[ "$(grep -c "<Value>Pw.1234+x</Value>" "$1")" = 3 ]' sh "$xml" "$part"
	if command -v xmllint >/dev/null 2>&1; then
		comps=$(xmllint --xpath 'count(//*[local-name()="component"])' "$xml" 2>/dev/null)
		passes=$(xmllint --xpath 'count(//*[local-name()="settings"])' "$xml" 2>/dev/null)
		if [ "$comps" = 5 ] && [ "$passes" = 3 ]; then ok "$fw: 3 passes, 5 components"
		else fail "$fw: 3 passes, 5 components (found $passes, $comps)"; fi
	fi
done

iso=$(ls -d "$work"/bios/last)/test.iso
listing=$(xorriso -indev "$iso" -find / -type f 2>/dev/null | tr -d "'")
for f in vdptest.ps1 launch.cmd register.cmd config.txt blkpattern.bin; do
	if grep -qx "/vdptest/$f" <<<"$listing"; then ok "test ISO holds vdptest/$f"; else fail "test ISO holds vdptest/$f"; fi
done
tdir=$(ls -d "$work"/bios/last)/testiso/vdptest
check "test ISO: .cmd and config.txt have CRLF line ends" bash -c '
	for f in "$1"/launch.cmd "$1"/register.cmd "$1"/config.txt; do
		[ "$(grep -c $'"'"'\r$'"'"' "$f")" = "$(wc -l <"$f")" ] || { echo "$f"; exit 1; }
	done' sh "$tdir"
# Every key the guest script reads must be in the generated configuration.
keys=$(grep -o "Cfg\(-Number\)\? '[A-Z_0-9]*'" "$here/guest/vdptest.ps1" | sed "s/.*'\(.*\)'/\1/" | sort -u)
missing=''
for k in $keys; do grep -q "^$k=" "$tdir/config.txt" || missing="$missing $k"; done
if [ -z "$missing" ] && [ -n "$keys" ]; then ok "config.txt has every key vdptest.ps1 reads ($(wc -w <<<"$keys"))"
else fail "config.txt lacks:$missing"; fi
check "autounattend.xml only on the install CD" bash -c '! xorriso -indev "$1" -find / -name autounattend.xml 2>/dev/null | grep -q .' sh "$iso"

if [ "${VDP_WIN_VM:-1}" = 0 ]; then
	skip "QEMU machines and stand-in runs" "VDP_WIN_VM=0"
	echo "1..$n"
	echo "$((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
fi

# ---------------------------------------------------------------- QEMU machines
smoke() { # smoke NAME ARGS...: QEMU must still run after 6 s
	local name=$1 out
	shift
	out=$("$run" --pack-iso "$pack" --workdir "$work/smoke" --accel tcg --smoke 6 "$@" 2>&1)
	if grep -q '^ok 1 - smoke' <<<"$out"; then ok "$name"; else fail "$name"; sed 's/^/# /' <<<"$out"; fi
}
smoke "QEMU accepts the BIOS test machine (modern+transitional+legacy blk, modern net, rng)" \
	--image "$work/fake-windows.qcow2" --blk modern,transitional,legacy
smoke "QEMU accepts the test machine with a transitional NIC" \
	--image "$work/fake-windows.qcow2" --blk modern --net transitional --no-rng
smoke "QEMU accepts the BIOS install machine" --install-iso "$work/fakewin.iso"
if [ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ -r /usr/share/OVMF/OVMF_VARS_4M.fd ]; then
	smoke "QEMU accepts the UEFI test machine" --image "$work/fake-windows.qcow2" --firmware uefi
	smoke "QEMU accepts the UEFI install machine" --install-iso "$work/fakewin.iso" --firmware uefi
	mon=$(ls -d "$work"/smoke/last)/install-monitor.log
	if grep -q 'sendkey ret' "$mon" 2>/dev/null; then ok "UEFI install: key presses reach the monitor"
	else fail "UEFI install: key presses reach the monitor ($mon)"; fi
else
	skip "QEMU accepts the UEFI machines" "no OVMF (apt-get install ovmf)"
fi

# ---------------------------------------------------------------- stand-in run
kver=$(cat "$guest/kver" 2>/dev/null)
if [ -n "$kver" ] && [ -r "$guest/kernel/boot/vmlinuz-$kver" ] && command -v cpio >/dev/null 2>&1; then
	if "$here/standin/mkinitrd.sh" "$guest" "$work/standin.cpio.gz" >"$work/standin-mkinitrd.log" 2>&1; then
		out=$("$run" --standin "$guest/kernel/boot/vmlinuz-$kver,$work/standin.cpio.gz" \
			--pack-iso "$pack" --workdir "$work/standin" --accel tcg --net-mib 4 --timeout 300 2>&1)
		rc=$?
		sed 's/^/# /' <<<"$out" | grep -v '^# #'
		summary=$(tail -n 1 <<<"$out")
		if [ "$rc" = 0 ] && [[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
			ok "stand-in guest run through run-windows-tests.sh: $summary"
		else
			fail "stand-in guest run through run-windows-tests.sh: $summary (exit $rc)"
		fi
		# A guest that never gets anywhere (a kernel without a usable
		# initramfs panics and reboots forever) must be killed by the
		# timeout, counted as failed, and leave its logs behind.
		echo junk >"$work/junk.img"
		out=$("$run" --standin "$guest/kernel/boot/vmlinuz-$kver,$work/junk.img" --pack-iso "$pack" \
			--workdir "$work/hang" --accel tcg --timeout 60 --blk modern --net none --no-rng 2>&1)
		rc=$?
		if [ "$rc" = 1 ] && grep -q '^not ok 1 - test: VM killed after 60s' <<<"$out" &&
			[ -s "$work/hang/last/test-com1.log" ] && grep -q ' failed$' <<<"$(tail -n 1 <<<"$out")"; then
			ok "a hung guest is killed after --timeout, counted as failed, log kept"
		else
			fail "a hung guest is killed after --timeout, counted as failed, log kept (exit $rc)"
			sed 's/^/# /' <<<"$out"
		fi
		out=$("$run" --standin "$guest/kernel/boot/vmlinuz-$kver,$work/junk.img" --pack-iso "$pack" \
			--workdir "$work/nostart" --accel tcg --timeout 300 --start-timeout 15 --blk none --net none --no-rng 2>&1)
		rc=$?
		if [ "$rc" = 1 ] && grep -q '^not ok 1 - test: guest script not started after 15s' <<<"$out"; then
			ok "a guest whose script never starts is stopped after --start-timeout"
		else
			fail "a guest whose script never starts is stopped after --start-timeout (exit $rc)"
			sed 's/^/# /' <<<"$out"
		fi
	else
		fail "stand-in initramfs builds ($work/standin-mkinitrd.log)"
	fi
else
	skip "stand-in guest run" "no guest kernel in $guest (ci/vm/fetch-guest.sh)"
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
