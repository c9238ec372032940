#!/bin/bash
# Run the OpenVDP disk and network checks on a real Windows guest in QEMU.
#
#   ci/windows/run-windows-tests.sh --image win10.qcow2            # prepared image
#   ci/windows/run-windows-tests.sh --install-iso Win11_EN.iso     # unattended install first
#   ci/windows/run-windows-tests.sh --image win10.qcow2 --prepare  # one-time set-up (display)
#
# The guest side is ci/windows/guest/vdptest.ps1, shipped on a small "test ISO"
# together with its configuration. It reports TAP lines on COM1; this script
# collects them, verifies on the host what the guest wrote into the raw test
# disks, and ends with "N passed, N failed". See docs/windows-vm-testing.md.
#
# Exit status: 0 all passed, 1 a check failed (or the guest hung), 2 bad usage
# or a missing prerequisite.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
prog=${0##*/}

# ---------------------------------------------------------------- defaults
image='' install_iso='' pack_iso='' prepare=0 keep_changes=0 reinstall=0
workdir=$top/out/windows
accel=kvm cpu='' smp=2 mem=4096
firmware=bios
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
blk_variants=modern,transitional
net_variant=modern
rng=1
timeout_s=2700 install_timeout_s=10800 prepare_timeout_s=3600 start_timeout_s=''
display=none
image_index='' image_name='' product_key='' locale=en-US guest_arch=amd64
admin_user=vdptest admin_password=
os_folder=
net_mac=52:54:00:4f:56:01
net_upload_mib=32 net_download_mib=32
dry_run=0 smoke=0 standin=''

usage() {
	cat <<EOF
usage: $prog (--image DISK | --install-iso WINDOWS.iso) [options]

Windows:
  --image DISK          installed Windows disk (qcow2/raw/...). Each test run
                        boots a throw-away overlay, so DISK is never changed
                        (unless --keep-changes). DISK must have been prepared
                        once with --prepare (see docs/windows-vm-testing.md).
  --install-iso ISO     install Windows unattended from ISO into
                        WORKDIR/windows.qcow2 (reused by later runs, see
                        --reinstall), prepare it, then run the tests.
  --prepare             boot --image with a display and the test ISO so you can
                        run D:\\vdptest\\register.cmd once as Administrator;
                        writes to DISK. Then exits.
  --reinstall           with --install-iso: install again even if
                        WORKDIR/windows.qcow2 is ready.
  --keep-changes        write the test run into DISK instead of an overlay.
  --image-index N       edition to install (index in install.wim; default 1)
  --image-name NAME     edition to install by name (e.g. "Windows 10 Pro")
  --product-key KEY     product key for Setup (default: none)
  --locale LL-CC        Setup and system locale (default en-US; must be a
                        language of the ISO)
  --guest-arch A        amd64 (default) or x86
  --admin-password PW   password of the local administrator "$admin_user"
                        created by the install (default: random, saved in
                        WORKDIR/admin-password.txt)

Machine:
  --accel kvm|tcg       accelerator (default kvm; tcg works but is very slow)
  --cpu MODEL           -cpu model (default host for kvm, max for tcg)
  --smp N, --memory MiB (default 2 and 4096)
  --firmware bios|uefi  default bios. uefi needs OVMF without Secure Boot:
  --ovmf-code FILE      (default $ovmf_code)
  --ovmf-vars FILE      (default $ovmf_vars)
  --display MODE        none (default), gtk, sdl, or vnc=:N (127.0.0.1 only)

Tests:
  --pack-iso ISO        driver pack ISO (default: newest out/*-drivers-*.iso)
  --blk LIST            virtio-blk test disks, comma list of modern,
                        transitional, legacy (default $blk_variants); "none"
  --net VARIANT         virtio-net NIC: modern (default), transitional,
                        legacy or none
  --no-rng              no virtio-rng device
  --os-folder DIR       pack OS folder to install from (w10 w11 2k16 2k19
                        2k22 2k25; default: chosen by the guest's build)
  --net-mib N           MiB sent each way in the TCP transfer test (default 32)
  --timeout S           limit for one test run (default $timeout_s s)
  --start-timeout S     stop the test run early when the guest script has not
                        started after S s (default 1200 with kvm; 0 = off,
                        the default with tcg)
  --install-timeout S   limit for the unattended install (default $install_timeout_s s)
  --workdir DIR         work and log directory (default out/windows)

Debugging:
  --dry-run             build the test ISO and disks, print the QEMU command
  --smoke S             start QEMU with the full argument set for S seconds
                        and report whether QEMU accepted it (no Windows needed)
  --standin K,I         self-test of this script without Windows: a test run
                        whose guest is Linux kernel K with initramfs I
                        (ci/windows/standin/) doing the guest's steps
  -h, --help
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
note() { echo "# $*"; }

need_arg() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value"; fi; }
is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

while [ $# -gt 0 ]; do
	case $1 in
	--image) need_arg "$@"; image=$2; shift ;;
	--install-iso) need_arg "$@"; install_iso=$2; shift ;;
	--prepare) prepare=1 ;;
	--reinstall) reinstall=1 ;;
	--keep-changes) keep_changes=1 ;;
	--image-index) need_arg "$@"; image_index=$2; shift ;;
	--image-name) need_arg "$@"; image_name=$2; shift ;;
	--product-key) need_arg "$@"; product_key=$2; shift ;;
	--locale) need_arg "$@"; locale=$2; shift ;;
	--guest-arch) need_arg "$@"; guest_arch=$2; shift ;;
	--admin-password) need_arg "$@"; admin_password=$2; shift ;;
	--accel) need_arg "$@"; accel=$2; shift ;;
	--cpu) need_arg "$@"; cpu=$2; shift ;;
	--smp) need_arg "$@"; smp=$2; shift ;;
	--memory) need_arg "$@"; mem=$2; shift ;;
	--firmware) need_arg "$@"; firmware=$2; shift ;;
	--ovmf-code) need_arg "$@"; ovmf_code=$2; shift ;;
	--ovmf-vars) need_arg "$@"; ovmf_vars=$2; shift ;;
	--display) need_arg "$@"; display=$2; shift ;;
	--pack-iso) need_arg "$@"; pack_iso=$2; shift ;;
	--blk) need_arg "$@"; blk_variants=$2; shift ;;
	--net) need_arg "$@"; net_variant=$2; shift ;;
	--no-rng) rng=0 ;;
	--os-folder) need_arg "$@"; os_folder=$2; shift ;;
	--net-mib) need_arg "$@"; net_upload_mib=$2; net_download_mib=$2; shift ;;
	--timeout) need_arg "$@"; timeout_s=$2; shift ;;
	--start-timeout) need_arg "$@"; start_timeout_s=$2; shift ;;
	--install-timeout) need_arg "$@"; install_timeout_s=$2; shift ;;
	--workdir) need_arg "$@"; workdir=$2; shift ;;
	--dry-run) dry_run=1 ;;
	--smoke) need_arg "$@"; smoke=$2; shift ;;
	--standin) need_arg "$@"; standin=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
	shift
done

# ---------------------------------------------------------------- validation
# --smoke needs no Windows at all: it only proves QEMU accepts the arguments.
if [ "$smoke" = 0 ] && [ -z "$standin" ]; then
	[ -n "$image" ] || [ -n "$install_iso" ] || { usage >&2; die "give --image or --install-iso"; }
fi
[ -z "$image" ] || [ -z "$install_iso" ] || die "--image and --install-iso exclude each other"
[ "$prepare" = 0 ] || [ -n "$image" ] || die "--prepare needs --image"
[ "$keep_changes" = 0 ] || [ -n "$image" ] || die "--keep-changes needs --image"
case $accel in kvm | tcg) ;; *) die "--accel must be kvm or tcg, not '$accel'" ;; esac
case $firmware in bios | uefi) ;; *) die "--firmware must be bios or uefi, not '$firmware'" ;; esac
case $guest_arch in amd64 | x86) ;; *) die "--guest-arch must be amd64 or x86, not '$guest_arch'" ;; esac
case $net_variant in modern | transitional | legacy | none) ;;
*) die "--net must be modern, transitional, legacy or none, not '$net_variant'" ;; esac
case $display in none | gtk | sdl | vnc=:[0-9] | vnc=:[0-9][0-9]) ;;
*) die "--display must be none, gtk, sdl or vnc=:N, not '$display'" ;; esac
if [ -z "$start_timeout_s" ]; then
	if [ "$accel" = kvm ]; then start_timeout_s=1200; else start_timeout_s=0; fi
fi
for v in smp mem timeout_s install_timeout_s start_timeout_s net_upload_mib smoke; do
	is_uint "${!v}" || die "${v//_/-} must be a whole number, not '${!v}'"
done
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
in_range "$smp" 1 64 || die "--smp must be 1..64"
in_range "$mem" 1024 1048576 || die "--memory must be 1024..1048576 MiB"
in_range "$timeout_s" 60 604800 || die "--timeout must be 60..604800 s"
in_range "$install_timeout_s" 60 604800 || die "--install-timeout must be 60..604800 s"
in_range "$net_upload_mib" 1 1024 || die "--net-mib must be 1..1024"

[ -z "$image_index" ] || is_uint "$image_index" || die "--image-index must be a number"
[ -z "$image_index" ] || [ -z "$image_name" ] || die "--image-index and --image-name exclude each other"
[[ $locale =~ ^[a-z]{2,3}(-[A-Za-z]{2,4})?(-[A-Z]{2})?$ ]] || die "--locale must look like en-US, not '$locale'"
[ -z "$product_key" ] || [[ $product_key =~ ^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$ ]] ||
	die "--product-key must look like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
case $os_folder in '' | w10 | w11 | 2k16 | 2k19 | 2k22 | 2k25) ;;
*) die "--os-folder must be one of w10 w11 2k16 2k19 2k22 2k25" ;; esac
# Values that end up in XML or a Windows command line: keep them plain.
[[ $image_name =~ ^[A-Za-z0-9\ ._()-]*$ ]] || die "--image-name has characters other than letters, digits, space . _ ( ) -"
if [ -n "$admin_password" ]; then
	[[ $admin_password =~ ^[A-Za-z0-9._+=@%-]{8,64}$ ]] ||
		die "--admin-password: 8..64 characters from A-Z a-z 0-9 . _ + = @ % -"
fi

IFS=, read -r -a blk_list <<<"$blk_variants"
if [ "$blk_variants" = none ]; then blk_list=(); fi
seen=
for v in "${blk_list[@]}"; do
	case $v in modern | transitional | legacy) ;;
	*) die "--blk: unknown variant '$v' (modern, transitional, legacy or none)" ;; esac
	case ,$seen, in *,"$v",*) die "--blk: '$v' given twice" ;; esac
	seen=$seen,$v
done

# QEMU splits -netdev options at commas and the guestfwd command at spaces.
[[ $workdir =~ ^[A-Za-z0-9_./+-]+$ ]] ||
	die "--workdir '$workdir' must consist of A-Z a-z 0-9 _ . / + - only (it is used in a QEMU guestfwd command)"

for tool in qemu-system-x86_64 qemu-img xorriso sha256sum timeout truncate cmp grep sed awk; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (Debian: apt-get install qemu-system-x86 qemu-utils xorriso coreutils)"
done
if [ "$accel" = kvm ] && [ "$smoke" = 0 ] && [ "$dry_run" = 0 ]; then
	{ [ -r /dev/kvm ] && [ -w /dev/kvm ]; } ||
		die "/dev/kvm is not usable by $(id -un) (add yourself to group kvm, or use --accel tcg)"
fi
if [ "$firmware" = uefi ]; then
	[ -r "$ovmf_code" ] || die "--firmware uefi: OVMF code '$ovmf_code' not readable (Debian: apt-get install ovmf)"
	[ -r "$ovmf_vars" ] || die "--firmware uefi: OVMF variables '$ovmf_vars' not readable"
	# Debian's *.ms.fd / *secboot* / *snakeoil* files enforce Secure Boot,
	# which refuses test-signed drivers.
	case ${ovmf_code##*/} in *secboot* | *.ms.fd | *snakeoil*)
		die "--ovmf-code '$ovmf_code' is a Secure Boot build; test-signed drivers need Secure Boot off" ;;
	esac
	case ${ovmf_vars##*/} in *secboot* | *.ms.fd | *snakeoil*)
		die "--ovmf-vars '$ovmf_vars' has Secure Boot keys enrolled; test-signed drivers need Secure Boot off" ;;
	esac
fi
[ -z "$image" ] || [ -r "$image" ] || die "--image '$image' not readable"
if [ -n "$standin" ]; then
	standin_kernel=${standin%%,*} standin_initrd=${standin#*,}
	{ [ -r "$standin_kernel" ] && [ -r "$standin_initrd" ] && [ "$standin_kernel" != "$standin" ]; } ||
		die "--standin needs KERNEL,INITRD (both readable)"
	command -v cpio >/dev/null 2>&1 || die "--standin needs cpio"
	{ [ -z "$install_iso" ] && [ "$prepare" = 0 ]; } || die "--standin is a test run only"
fi
[ -z "$install_iso" ] || [ -r "$install_iso" ] || die "--install-iso '$install_iso' not readable"

# The pack ISO: the newest one `make` produced unless given.
if [ -z "$pack_iso" ]; then
	for f in "$top"/out/*-drivers-*.iso; do
		[ -f "$f" ] || continue
		if [ -z "$pack_iso" ] || [ "$f" -nt "$pack_iso" ]; then pack_iso=$f; fi
	done
	[ -n "$pack_iso" ] || die "no driver pack ISO in $top/out (run make, or give --pack-iso)"
fi
[ -r "$pack_iso" ] || die "--pack-iso '$pack_iso' not readable"

mkdir -p "$workdir" || die "cannot create $workdir"
workdir=$(cd "$workdir" && pwd)
[[ $workdir =~ ^[A-Za-z0-9_./+-]+$ ]] || die "work directory '$workdir' must consist of A-Z a-z 0-9 _ . / + - only"

# Check the pack before booting anything: a missing certificate or INF would
# otherwise show up an hour later as an obscure guest failure.
pack_files=$(xorriso -indev "$pack_iso" -find / -type f 2>/dev/null | tr -d "'") ||
	die "cannot read '$pack_iso' with xorriso"
grep -q '^/cert/[^/]*\.cer$' <<<"$pack_files" || die "$pack_iso: no test certificate /cert/*.cer"
pack_arch=$guest_arch
grep -q "^/[^/]*/[^/]*/$pack_arch/[^/]*\\.inf\$" <<<"$pack_files" ||
	die "$pack_iso: no driver for $pack_arch (<driver>/<os>/$pack_arch/*.inf)"
if [ -n "$os_folder" ]; then
	grep -q "^/[^/]*/$os_folder/$pack_arch/[^/]*\\.inf\$" <<<"$pack_files" ||
		die "$pack_iso: no driver in any <driver>/$os_folder/$pack_arch/"
fi

# ---------------------------------------------------------------- helpers
run_id=$(date -u +%Y%m%d-%H%M%S)-$$
rundir=$workdir/run-$run_id
mkdir -p "$rundir" || die "cannot create $rundir"
ln -sfn "run-$run_id" "$workdir/last"

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' <<<"$1"; }

# disk_mib INDEX: the size of test disk INDEX; distinct sizes identify the
# disks inside the guest.
disk_mib() { echo $((1024 + 64 * ($1 + 1))); }

# pci_flags VARIANT: modern = virtio 1.x only (device IDs 0x104x), transitional
# = both interfaces (0x100x), legacy = 0.9.5 I/O BAR only (0x100x).
pci_flags() {
	case $1 in
	modern) echo disable-legacy=on,disable-modern=off ;;
	transitional) echo disable-legacy=off,disable-modern=off ;;
	legacy) echo disable-legacy=off,disable-modern=on ;;
	esac
}

blk_pattern_offset=$((512 * 1024 * 1024))
blk_pattern_bytes=$((8 * 1024 * 1024))
trim_part_offset=$((1024 * 1024))
trim_part_bytes=$((256 * 1024 * 1024))
trim_keep_blocks=2048    # 4 KiB blocks the guest keeps (8 MiB)
peer_ip=10.0.2.100 sink_port=5001 source_port=5002

# build_test_iso DIR ISO MODE: the guest scripts, the run configuration and,
# for MODE=install, the answer file at the ISO root where Setup finds it.
build_test_iso() {
	local dir=$1 iso=$2 mode=$3 f
	rm -rf "$dir"
	mkdir -p "$dir/vdptest" || return 1
	cp "$here/guest/vdptest.ps1" "$dir/vdptest/" || return 1
	# cmd.exe wants CRLF: a batch file with bare LF can misparse labels.
	for f in launch.cmd register.cmd; do
		sed 's/\r*$/\r/' "$here/guest/$f" >"$dir/vdptest/$f" || return 1
	done
	write_config "$mode" | sed 's/\r*$/\r/' >"$dir/vdptest/config.txt" || return 1
	if [ "$mode" = test ]; then
		cp "$rundir/blkpattern.bin" "$dir/vdptest/" || return 1
	fi
	if [ "$mode" = install ]; then
		make_unattend >"$dir/autounattend.xml" || return 1
	fi
	xorriso -as mkisofs -quiet -r -J -joliet-long -V OVDPTEST -o "$iso" "$dir" 2>"$iso.log" ||
		{ cat "$iso.log" >&2; return 1; }
}

write_config() {
	local mode=$1 i v list=
	for i in "${!blk_list[@]}"; do
		v=${blk_list[$i]}
		list=$list${list:+,}$v:$(($(disk_mib "$i") * 1024 * 1024))
	done
	cat <<EOF
# OpenVDP Windows test run configuration (generated by $prog)
MODE=$mode
RUN_ID=$run_id
POWEROFF=1
OS_FOLDER=$os_folder
BLK_DISKS=$list
BLK_PATTERN_FILE=blkpattern.bin
BLK_PATTERN_OFFSET=$blk_pattern_offset
BLK_PATTERN_BYTES=$blk_pattern_bytes
TRIM_PART_OFFSET=$trim_part_offset
TRIM_PART_BYTES=$trim_part_bytes
TRIM_KEEP_BLOCKS=$trim_keep_blocks
TRIM_KEEP_MARKER=OVDP-KEEP-$run_id
TRIM_GONE_MARKER=OVDP-GONE-$run_id
NET_VARIANT=$net_variant
NET_MAC=$(tr 'a-f:' 'A-F-' <<<"$net_mac")
NET_GATEWAY=10.0.2.2
NET_PEER=$peer_ip
NET_SINK_PORT=$sink_port
NET_SOURCE_PORT=$source_port
NET_UPLOAD_BYTES=$((net_upload_mib * 1024 * 1024))
NET_SOURCE_BYTES=$((net_download_mib * 1024 * 1024))
NET_SOURCE_SHA256=${net_source_sha:-}
RNG=$rng
EOF
}

# make_unattend: fill ci/windows/autounattend.xml.in for this machine.
make_unattend() {
	local key value arch=$guest_arch disks part user pw pk=
	if [ -n "$image_name" ]; then key=/IMAGE/NAME value=$image_name
	else key=/IMAGE/INDEX value=${image_index:-1}; fi
	# Windows goes to the last partition of each layout.
	if [ "$firmware" = uefi ]; then disks=$here/unattend-disk-uefi.xml.in part=3
	else disks=$here/unattend-disk-bios.xml.in part=2; fi
	if [ -n "$product_key" ]; then
		pk="<ProductKey><Key>$product_key</Key><WillShowUI>OnError</WillShowUI></ProductKey>"
	fi
	user=$(xml_escape "$admin_user")
	pw=$(xml_escape "$admin_password")
	value=$(xml_escape "$value")
	# The disk layout is a separate fragment; sed's r command splices it in.
	sed -e "/@DISK_CONFIGURATION@/{r $disks" -e 'd;}' "$here/autounattend.xml.in" |
		sed -e "s|@ARCH@|$arch|g" -e "s|@LOCALE@|$locale|g" \
			-e "s|@IMAGE_KEY@|$key|g" -e "s|@IMAGE_VALUE@|$value|g" \
			-e "s|@PRODUCT_KEY@|$pk|g" -e "s|@ADMIN_USER@|$user|g" \
			-e "s|@INSTALL_PARTITION@|$part|g" \
			-e "s|@ADMIN_PASSWORD@|$pw|g"
}

# Outcome bookkeeping: every result becomes one numbered TAP line.
tap_n=0 tap_pass=0 tap_fail=0
results=$rundir/results.tap
: >"$results"
tap_line() { echo "$1" | tee -a "$results"; }
record() { # record ok|fail NAME
	tap_n=$((tap_n + 1))
	if [ "$1" = ok ]; then tap_pass=$((tap_pass + 1)); tap_line "ok $tap_n - $2"
	else tap_fail=$((tap_fail + 1)); tap_line "not ok $tap_n - $2"; fi
}
finish() {
	tap_line "1..$tap_n"
	note "logs and results: $rundir"
	echo "$tap_pass passed, $tap_fail failed" | tee -a "$results"
	[ "$tap_fail" -eq 0 ]
	exit $?
}

# collect_guest LOG PREFIX: turn the guest's "VDPTAP: " serial lines into results.
collect_guest() {
	local log=$1 prefix=$2 line
	[ -f "$log" ] || return 0
	while IFS= read -r line; do
		case $line in
		"ok - "*) record ok "$prefix${line#ok - }" ;;
		"not ok - "*) record fail "$prefix${line#not ok - }" ;;
		"#"*) tap_line "$line" ;;
		esac
	done < <(tr -d '\r' <"$log" | sed -n 's/^.*VDPTAP: //p')
}

guest_marker() { tr -d '\r' <"$1" 2>/dev/null | grep -q "VDPTAP-$2"; }

# ---------------------------------------------------------------- QEMU
# qemu_args PHASE SYSDISK FORMAT TESTISO: PHASE install | prepare | test |
# smoke. Sets array Q. (Commas inside the option strings are QEMU's.)
Q=()
# shellcheck disable=SC2054
qemu_args() {
	local phase=$1 sysdisk=$2 sysfmt=$3 testiso=$4 i v cpu_model
	cpu_model=$cpu
	if [ -z "$cpu_model" ]; then
		# hv_* enlightenments: Windows runs much better with them under KVM;
		# TCG does not implement them.
		if [ "$accel" = kvm ]; then cpu_model=host,hv_relaxed,hv_vapic,hv_time,hv_spinlocks=0x1fff
		else cpu_model=max; fi
	fi
	# -kernel (stand-in guest) takes boot index 0 itself.
	local sys_boot=0
	if [ -n "$standin" ]; then sys_boot=9; fi
	Q=(-nodefaults -no-user-config -name "openvdp-$phase"
		-machine q35 -accel "$accel" -cpu "$cpu_model" -smp "$smp" -m "$mem"
		-rtc base=utc
		-device VGA -device qemu-xhci,id=xhci -device usb-tablet,bus=xhci.0
		-serial "file:$rundir/$phase-com1.log"
		-chardev "pipe,id=mon0,path=$rundir/$phase-monitor"
		-mon chardev=mon0,mode=readline)
	case $display in
	none) Q+=(-display none) ;;
	vnc=*) Q+=(-display none -vnc "127.0.0.1${display#vnc=}") ;;
	*) Q+=(-display "$display") ;;
	esac
	if [ "$firmware" = uefi ]; then
		Q+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code"
			-drive "if=pflash,format=raw,unit=1,file=$rundir/$phase-vars.fd")
	fi
	# System disk and CDs on the q35 AHCI controller (inbox Windows drivers),
	# so a broken OpenVDP driver can never keep Windows from booting.
	Q+=(-drive "if=none,id=sys,file=$sysdisk,format=$sysfmt,cache=writeback,discard=unmap"
		-device "ide-hd,drive=sys,bus=ide.0,bootindex=$sys_boot")
	if [ "$phase" = install ]; then
		Q+=(-drive "if=none,id=wincd,media=cdrom,readonly=on,file=$install_iso"
			-device ide-cd,drive=wincd,bus=ide.1,bootindex=1)
	fi
	Q+=(-drive "if=none,id=testcd,media=cdrom,readonly=on,file=$testiso"
		-device ide-cd,drive=testcd,bus=ide.2
		-drive "if=none,id=packcd,media=cdrom,readonly=on,file=$pack_iso"
		-device ide-cd,drive=packcd,bus=ide.3)
	[ "$phase" = test ] || [ "$phase" = smoke ] || return 0
	for i in "${!blk_list[@]}"; do
		v=${blk_list[$i]}
		# discard=unmap: the guest's TRIM punches holes into the raw file,
		# which is how the host sees that TRIM arrived.
		Q+=(-drive "if=none,id=blk$i,file=$rundir/blk-$v.img,format=raw,cache=writeback,discard=unmap"
			-device "virtio-blk-pci,drive=blk$i,$(pci_flags "$v"),serial=OVDP-$v")
	done
	if [ "$net_variant" != none ]; then
		# restrict=on: nothing leaves QEMU. The only peers are slirp itself
		# (DHCP, gateway ping) and two guestfwd commands spawned per
		# connection on the host: a sink that answers with the SHA-256 of
		# what it received, and a source that sends a file of known hash.
		Q+=(-netdev "user,id=net0,restrict=on,net=10.0.2.0/24,dhcpstart=10.0.2.15,guestfwd=tcp:$peer_ip:$sink_port-cmd:$(command -v sha256sum),guestfwd=tcp:$peer_ip:$source_port-cmd:$(command -v cat) $rundir/netsource.bin"
			-device "virtio-net-pci,netdev=net0,mac=$net_mac,$(pci_flags "$net_variant")")
	fi
	if [ "$rng" = 1 ]; then
		Q+=(-object rng-random,id=rng0,filename=/dev/urandom
			-device "virtio-rng-pci,rng=rng0,$(pci_flags modern)")
	fi
}

# run_qemu PHASE LIMIT: run the VM under timeout. Sets qemu_rc.
qemu_rc=0
run_qemu() {
	local phase=$1 limit=$2 mon=$rundir/$1-monitor drain='' keys='' watch=''
	rm -f "$mon.in" "$mon.out"
	mkfifo "$mon.in" "$mon.out" || die "mkfifo $mon failed"
	# Keep the monitor's output drained, or QEMU could block on a full pipe.
	cat "$mon.out" >"$rundir/$phase-monitor.log" 2>/dev/null &
	drain=$!
	if [ "$phase" = install ] && [ "$firmware" = uefi ]; then
		# Windows' UEFI CD loader waits for "press any key"; nobody is there.
		(for _ in $(seq 1 40); do
			sleep 1
			# shellcheck disable=SC2016
			timeout 3 sh -c 'printf "sendkey ret\n" >"$1"' sh "$mon.in" 2>/dev/null || break
		done) &
		keys=$!
	fi
	rm -f "$rundir/$phase-nostart"
	if [ "$phase" = test ] && [ "$start_timeout_s" -gt 0 ]; then
		# An unprepared image just sits at the logon screen: stop it early
		# instead of waiting for the whole --timeout.
		(t=0
		while [ "$t" -lt "$start_timeout_s" ]; do sleep 5; t=$((t + 5)); done
		if ! guest_marker "$rundir/$phase-com1.log" START; then
			touch "$rundir/$phase-nostart"
			# shellcheck disable=SC2016
			timeout 3 sh -c 'printf "quit\n" >"$1"' sh "$mon.in" 2>/dev/null
		fi) &
		watch=$!
	fi
	note "starting QEMU ($phase, limit ${limit}s, serial log $rundir/$phase-com1.log)"
	# -k: a QEMU that ignores SIGTERM still dies.
	timeout -k 10 "$limit" qemu-system-x86_64 "${Q[@]}" \
		>"$rundir/$phase-qemu.log" 2>&1 </dev/null
	qemu_rc=$?
	[ -z "$keys" ] || kill "$keys" 2>/dev/null
	[ -z "$watch" ] || kill "$watch" 2>/dev/null
	# The drain ends by itself once QEMU closes the pipe; make sure.
	kill "$drain" 2>/dev/null
	wait 2>/dev/null
	rm -f "$mon.in" "$mon.out"
	note "QEMU ($phase) exited with status $qemu_rc"
}

qemu_verdict() { # qemu_verdict PHASE LIMIT: one result line for how QEMU ended.
	local phase=$1 limit=$2
	if [ -e "$rundir/$phase-nostart" ]; then
		record fail "$phase: guest script not started after ${start_timeout_s}s, VM stopped (--start-timeout; logs kept in $rundir)"
		return
	fi
	case $qemu_rc in
	0) record ok "$phase: VM powered off by itself" ;;
	124 | 137) record fail "$phase: VM killed after ${limit}s (guest hung or too slow; logs kept in $rundir)" ;;
	*) record fail "$phase: QEMU failed with status $qemu_rc: $(tail -n 3 "$rundir/$phase-qemu.log" | tr '\n' ' ')" ;;
	esac
}

firmware_vars() { # firmware_vars PHASE [FROM]: a private writable copy of the UEFI variables
	[ "$firmware" = uefi ] || return 0
	cp "${2:-$ovmf_vars}" "$rundir/$1-vars.fd" || die "cannot copy the UEFI variables ${2:-$ovmf_vars}"
}

# ---------------------------------------------------------------- smoke / dry run
mk_test_data() {
	head -c "$blk_pattern_bytes" /dev/urandom >"$rundir/blkpattern.bin" || die "cannot write test data"
	head -c $((net_download_mib * 1024 * 1024)) /dev/urandom >"$rundir/netsource.bin" || die "cannot write test data"
	net_source_sha=$(sha256sum <"$rundir/netsource.bin" | cut -c1-64)
	local i v
	for i in "${!blk_list[@]}"; do
		v=${blk_list[$i]}
		rm -f "$rundir/blk-$v.img"
		truncate -s "$(disk_mib "$i")M" "$rundir/blk-$v.img" || die "cannot create test disk"
	done
}

if [ "$smoke" != 0 ] || [ "$dry_run" = 1 ]; then
	mk_test_data
	build_test_iso "$rundir/testiso" "$rundir/test.iso" test || die "cannot build the test ISO"
	if [ -n "$image" ]; then sys=$image sysfmt=$(qemu-img info "$image" 2>/dev/null | sed -n 's/^file format: //p')
	else
		sys=$rundir/blank.qcow2 sysfmt=qcow2
		qemu-img create -q -f qcow2 "$sys" 64G || die "qemu-img create failed"
	fi
	# --smoke with --install-iso checks the install machine (Windows CD,
	# answer-file CD, UEFI key presses) instead of the test machine.
	phase=smoke smoke_iso=$rundir/test.iso
	if [ "$dry_run" = 1 ]; then phase='test'; fi
	if [ "$dry_run" = 0 ] && [ -n "$install_iso" ]; then
		phase=install smoke_iso=$rundir/install.iso
		admin_password=${admin_password:-smoke-test-password}
		build_test_iso "$rundir/installiso" "$smoke_iso" install || die "cannot build the install ISO"
	fi
	firmware_vars "$phase"
	qemu_args "$phase" "$sys" "${sysfmt:-raw}" "$smoke_iso"
	if [ "$dry_run" = 1 ]; then
		if [ -n "$install_iso" ]; then
			admin_password=${admin_password:-dry-run-password}
			build_test_iso "$rundir/installiso" "$rundir/install.iso" install || die "cannot build the install ISO"
			note "answer file: $rundir/installiso/autounattend.xml"
		fi
		printf '%q ' qemu-system-x86_64 "${Q[@]}"
		echo
		exit 0
	fi
	run_qemu "$phase" "$smoke"
	# Still running when the time ran out = QEMU accepted every argument.
	if [ "$qemu_rc" = 124 ]; then
		if [ "$phase" = install ]; then
			record ok "smoke: QEMU accepted the $accel/$firmware install machine (Windows CD, answer-file CD, pack CD)"
		else
			record ok "smoke: QEMU accepted the $accel/$firmware test machine with ${#blk_list[@]} virtio-blk disk(s), net $net_variant, rng $rng"
		fi
	else
		record fail "smoke: QEMU exited with status $qemu_rc: $(tail -n 3 "$rundir/$phase-qemu.log" | tr '\n' ' ')"
	fi
	finish
fi

# ---------------------------------------------------------------- install
if [ -n "$install_iso" ]; then
	image=$workdir/windows.qcow2
	if [ "$reinstall" = 1 ] || [ ! -f "$image.ready" ]; then
		rm -f "$image" "$image.ready" "$workdir/windows-vars.fd"
		if [ -z "$admin_password" ]; then
			admin_password=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 14)A9.
		fi
		(umask 077 && echo "$admin_password" >"$workdir/admin-password.txt")
		note "installing Windows from $install_iso into $image (user $admin_user, password in $workdir/admin-password.txt)"
		qemu-img create -q -f qcow2 "$image" 64G || die "qemu-img create failed"
		build_test_iso "$rundir/installiso" "$rundir/install.iso" install || die "cannot build the install ISO"
		firmware_vars install
		qemu_args install "$image" qcow2 "$rundir/install.iso"
		run_qemu install "$install_timeout_s"
		collect_guest "$rundir/install-com1.log" "install: "
		if [ "$qemu_rc" = 0 ] && guest_marker "$rundir/install-com1.log" REGISTERED; then
			record ok "install: Windows installed and prepared for testing"
			[ "$firmware" = bios ] || cp "$rundir/install-vars.fd" "$workdir/windows-vars.fd"
			touch "$image.ready"
		else
			qemu_verdict install "$install_timeout_s"
			record fail "install: Windows was not installed and prepared (see $rundir/install-com1.log; watch with --display gtk)"
			finish
		fi
	else
		note "reusing the installed $image (--reinstall to install again)"
	fi
	[ "$firmware" = bios ] || saved_vars=$workdir/windows-vars.fd
fi

imgfmt=''
if [ -n "$image" ]; then
	imgfmt=$(qemu-img info "$image" 2>/dev/null | sed -n 's/^file format: //p')
	[ -n "$imgfmt" ] || die "qemu-img cannot read '$image'"
fi

# ---------------------------------------------------------------- prepare
if [ "$prepare" = 1 ]; then
	[ "$display" != none ] || display=gtk
	build_test_iso "$rundir/prepareiso" "$rundir/prepare.iso" prepare || die "cannot build the test ISO"
	firmware_vars prepare
	qemu_args prepare "$image" "$imgfmt" "$rundir/prepare.iso"
	cat <<EOF
# Windows boots with the test ISO attached. Log in as an administrator and run
#   D:\\vdptest\\register.cmd       (use the drive letter of the OVDPTEST CD)
# in an elevated command prompt. The VM shuts down when it is done.
EOF
	run_qemu prepare "$prepare_timeout_s"
	collect_guest "$rundir/prepare-com1.log" "prepare: "
	if guest_marker "$rundir/prepare-com1.log" REGISTERED; then
		record ok "prepare: $image is ready for test runs"
	else
		record fail "prepare: register.cmd did not complete (see $rundir/prepare-com1.log)"
	fi
	finish
fi

# ---------------------------------------------------------------- test run
mk_test_data
build_test_iso "$rundir/testiso" "$rundir/test.iso" test || die "cannot build the test ISO"
if [ -n "$standin" ] && [ -z "$image" ]; then
	sys=$rundir/blank.qcow2 sysfmt=qcow2
	qemu-img create -q -f qcow2 "$sys" 1G || die "qemu-img create failed"
elif [ "$keep_changes" = 1 ]; then
	sys=$image sysfmt=$imgfmt
else
	sys=$rundir/overlay.qcow2 sysfmt=qcow2
	qemu-img create -q -f qcow2 -F "$imgfmt" -b "$(realpath "$image")" "$sys" ||
		die "cannot create an overlay on '$image'"
fi
firmware_vars test "${saved_vars:-}"
qemu_args test "$sys" "$sysfmt" "$rundir/test.iso"
if [ -n "$standin" ]; then
	# The stand-in reads the test CD's files from a cpio appended to its
	# initramfs: Linux unpacks concatenated archives in order, each starting
	# on a 4-byte boundary (the zero padding is skipped).
	if ! { cp "$standin_initrd" "$rundir/standin-initrd" && truncate -s %512 "$rundir/standin-initrd" &&
		(cd "$rundir/testiso" && find vdptest | cpio -o -H newc --quiet) >>"$rundir/standin-initrd"; }; then
		die "cannot build the stand-in initramfs"
	fi
	Q+=(-kernel "$standin_kernel" -initrd "$rundir/standin-initrd"
		-append "console=ttyS0 quiet panic=-1")
fi
{ printf '%q ' qemu-system-x86_64 "${Q[@]}"; echo; } >"$rundir/qemu-command.txt"
run_qemu test "$timeout_s"
log=$rundir/test-com1.log

collect_guest "$log" ""
qemu_verdict test "$timeout_s"
if guest_marker "$log" END; then
	record ok "guest: test script ran to the end"
elif guest_marker "$log" START; then
	record fail "guest: test script did not finish (crash, hang or timeout; see $log)"
else
	record fail "guest: test script never started (image not prepared with --prepare? see $log)"
fi

# Host-side verification of what the guest wrote through the driver: the raw
# images hold exactly what reached the virtual disk.
count_marker() { # count_marker IMG OFFSET BYTES MARKER: lines (4 KiB blocks) holding MARKER
	tail -c +$(($2 + 1)) "$1" | head -c "$3" | grep -a -c -F -- "$4"
}
for i in "${!blk_list[@]}"; do
	v=${blk_list[$i]}
	img=$rundir/blk-$v.img
	if cmp -s -n "$blk_pattern_bytes" -i "0:$blk_pattern_offset" "$rundir/blkpattern.bin" "$img"; then
		record ok "host: blk-$v: the guest's pattern is in the image at offset $blk_pattern_offset"
	else
		record fail "host: blk-$v: the image does not hold the guest's pattern at offset $blk_pattern_offset"
	fi
	tail_off=$(($(disk_mib "$i") * 1024 * 1024 - 65536))
	if cmp -s -n 65536 -i "0:$tail_off" "$rundir/blkpattern.bin" "$img"; then
		record ok "host: blk-$v: the last 64 KiB of the image hold the guest's pattern"
	else
		record fail "host: blk-$v: the last 64 KiB of the image do not hold the guest's pattern"
	fi
	keep=$(count_marker "$img" "$trim_part_offset" "$trim_part_bytes" "OVDP-KEEP-$run_id")
	gone=$(count_marker "$img" "$trim_part_offset" "$trim_part_bytes" "OVDP-GONE-$run_id")
	if [ "$keep" -ge "$trim_keep_blocks" ]; then
		record ok "host: blk-$v: kept file on the NTFS volume reached the image ($keep blocks)"
	else
		record fail "host: blk-$v: kept file on the NTFS volume missing from the image ($keep of $trim_keep_blocks blocks)"
	fi
	if [ "$keep" -lt "$trim_keep_blocks" ]; then
		record fail "host: blk-$v: TRIM not verifiable: the kept file is not in the image"
	elif [ "$gone" -eq 0 ]; then
		record ok "host: blk-$v: trimmed blocks are gone from the image (discard reached QEMU)"
	else
		record fail "host: blk-$v: $gone blocks of the deleted, re-trimmed file are still in the image"
	fi
done
# Raw test disks are large and sparse: keep them only when something failed.
if [ "$tap_fail" -eq 0 ]; then rm -f "$rundir"/blk-*.img "$rundir/overlay.qcow2"; fi
finish
