#!/bin/sh
# Boot the test guest once and report its TAP lines.
# Usage: ci/vm/run-vm.sh NAME GUEST_TEST INITRD [QEMU DEVICE ARGS...]
# Prints unnumbered TAP ("ok - NAME: ...") on stdout; exits non-zero if any
# line failed or the VM hung, crashed or never reached the end of /init.
# The full serial log is kept as $VDP_LOGDIR/NAME.log.
# Environment:
#   VDP_GUEST      guest cache from fetch-guest.sh   (default out/vm/guest)
#   VDP_LOGDIR     log directory                      (default out/vm/logs)
#   VDP_VM_TIMEOUT seconds before the VM counts as hung (default 60)
#   VDP_ACCEL      tcg (default) or kvm; kvm only when asked for, because
#                  some hosts expose a /dev/kvm that fails at run time
#   VDP_APPEND     extra kernel command line
set -u

[ $# -ge 3 ] || { echo "usage: $0 NAME GUEST_TEST INITRD [QEMU ARGS...]" >&2; exit 2; }
name=$1 test=$2 initrd=$3
shift 3
guest=${VDP_GUEST:-out/vm/guest}
logdir=${VDP_LOGDIR:-out/vm/logs}
limit=${VDP_VM_TIMEOUT:-60}
accel=${VDP_ACCEL:-tcg}
log=$logdir/$name.log

mkdir -p "$logdir"
kver=$(cat "$guest/kver" 2>/dev/null) || { echo "not ok - $name: no guest kernel in $guest"; exit 1; }
case "$accel" in
tcg) cpu=max ;;
kvm) cpu=host ;;
*) echo "not ok - $name: VDP_ACCEL must be tcg or kvm, not '$accel'"; exit 1 ;;
esac

# no_timer_check: on a loaded host, TCG can be slow enough for the IO-APIC
# timer check to fail and panic the guest (seen with intel-iommu intremap).
# Network tests ask for link changes on the serial line; ci/vm/link-ctl.sh
# turns them into monitor commands (a pipe chardev: no sockets, no tools).
linkctl=
case "$test" in
pe-net*)
	mon=$logdir/$name.mon
	rm -f "$mon.in" "$mon.out" "$log"
	mkfifo "$mon.in" "$mon.out" || { echo "not ok - $name: mkfifo failed"; exit 1; }
	"$(dirname "$0")/link-ctl.sh" "$log" "$mon" "$limit" 2>"$log.linkctl" &
	linkctl=$!
	set -- "$@" -chardev "pipe,id=vdpmon,path=$mon" -mon chardev=vdpmon,mode=readline
	;;
esac
# --- SMP (multi-vCPU tests): an "SMP=N" word among the QEMU arguments
# (from tests.list) sets the vCPU count; default 1. Each extra vCPU costs
# TCG time, so only tests of per-CPU paths ask for more.
smp=1
for a in "$@"; do
	shift
	case "$a" in
	SMP=*)
		smp=${a#SMP=}
		case "$smp" in
		[1-8]) ;;
		*) echo "not ok - $name: SMP=$smp, must be 1..8"; exit 1 ;;
		esac
		;;
	*) set -- "$@" "$a" ;;
	esac
done
# --- end SMP
# ---- vhost-user test switch (tests/vswitch) ----
# A SWITCH=OPT,OPT,... argument starts vdpswitch (options with commas as
# spaces) before QEMU; @SW@ in the QEMU arguments becomes the switch's path
# prefix in the private log dir: @SW@.pN.sock is port N's socket (QEMU
# connects as the client), @SW@.log and @SW@.stats its log and summary.
sw_pid='' sw_opts='' sw_socks=''
case " $* " in
*" SWITCH="*)
	sw=$logdir/$name.sw
	for a; do
		shift
		case "$a" in
		SWITCH=*) sw_opts=$(echo "${a#SWITCH=}" | tr , ' ') ;;
		*) set -- "$@" "$(echo "$a" | sed "s|@SW@|$sw|g")" ;;
		esac
	done
	for i in 0 1 2 3 4 5 6 7; do
		case " $* " in *"$sw.p$i.sock"*) sw_socks="$sw_socks $sw.p$i.sock" ;; esac
	done
	rm -f "$sw.log" "$sw.stats"
	# The switch's own timeout outlives QEMU's: it never survives the run.
	# shellcheck disable=SC2086 # option and socket lists
	timeout -k 5 $((limit + 30)) "${VDP_SWITCH:-${VDP_OUT:-out}/host/bin/vdpswitch}" \
		--stats "$sw.stats" $sw_opts $sw_socks </dev/null >"$sw.log" 2>&1 &
	sw_pid=$!
	ready=
	for _ in $(seq 50); do
		ready=1
		for s in $sw_socks; do [ -S "$s" ] || ready=; done
		[ -n "$ready" ] && break
		sleep 0.1
	done
	if [ -z "$ready" ] || [ -z "$sw_socks" ]; then
		kill "$sw_pid" 2>/dev/null
		echo "not ok - $name: vdpswitch did not come up (log: $sw.log)"
		exit 1
	fi
	;;
esac
# ---- end of the vhost-user test switch block ----
# ---- WDM driver tests: a QMP monitor on a pipe chardev in the
# private log dir; ci/vm/qmp-ctl.sh records QEMU's events and replies and
# sends the guest's VDP-QMP-REQ commands.
qmpctl='' serpeer=''
case "$test" in
wdm-*)
	qmp=$logdir/$name.qmp
	rm -f "$qmp.in" "$qmp.out" "$qmp.log"
	mkfifo "$qmp.in" "$qmp.out" || { echo "not ok - $name: mkfifo failed"; exit 1; }
	"$(dirname "$0")/qmp-ctl.sh" "$log" "$qmp" "$limit" "$qmp.log" 2>"$log.qmpctl" &
	qmpctl=$!
	set -- "$@" -chardev "pipe,id=vdpqmp,path=$qmp" -mon chardev=vdpqmp,mode=control
	# @WDM@ in the QEMU arguments: a path prefix in the private log dir.
	for a; do
		shift
		set -- "$@" "$(echo "$a" | sed "s|@WDM@|$logdir/$name|g")"
	done
	# vdpserial: the host end of the port socket greets and echoes.
	case " $* " in
	*"$logdir/$name.ser.sock"*)
		rm -f "$logdir/$name.ser.sock"
		timeout -k 5 $((limit + 10)) "${VDP_OUT:-out}/host/bin/vdphost" \
			--serial-peer "$logdir/$name.ser.sock" 2>"$log.peer" &
		serpeer=$!
		;;
	esac
	;;
esac
# ---- end of the WDM block ----
start=$(date +%s.%N)
# -k: a guest that ignores SIGTERM still dies.
timeout -k 5 "$limit" qemu-system-x86_64 -nodefaults -no-user-config \
	-machine q35 -accel "$accel" -cpu "$cpu" -m 512 -smp "$smp" \
	-display none -serial "file:$log" -no-reboot \
	-kernel "$guest/kernel/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 no_timer_check vdptest=$test ${VDP_APPEND:-}" \
	"$@" >"$log.qemu" 2>&1
rc=$?
if [ -n "$linkctl" ]; then
	kill "$linkctl" 2>/dev/null
	wait "$linkctl" 2>/dev/null
	rm -f "$mon.in" "$mon.out"
fi
# ---- vhost-user test switch: stop it, its summary becomes TAP ----
sw_tap=
if [ -n "$sw_pid" ]; then
	kill "$sw_pid" 2>/dev/null
	wait "$sw_pid" 2>/dev/null
	# shellcheck disable=SC2086
	rm -f $sw_socks
	if [ -s "$sw.stats" ]; then
		sw_tap=$(sed -n 's/^vdpswitch: \(port .*errors \([0-9]*\).*\)$/\2 \1/p' "$sw.stats" |
			while read -r e line; do
				case "$line" in
				*"verify on, 0 frames"*) echo "not ok - vdpswitch $line (nothing verified)" ;;
				*) if [ "$e" = 0 ]; then echo "ok - vdpswitch $line"; else echo "not ok - vdpswitch $line (log: $sw.log)"; fi ;;
				esac
			done)
		# --want-rx-rings P:N (multi-queue): did port P receive on at
		# least N rings? Every port's per-ring counts become a comment.
		sw_tap="$sw_tap
$(sed -n 's/^vdpswitch: \(port [0-9]*\): rx-rings ok: \(.*\)$/ok - vdpswitch \1: \2/p
s/^vdpswitch: \(port [0-9]*\): rx-rings FAIL: \(.*\)$/not ok - vdpswitch \1: \2/p
s/^vdpswitch: \(port [0-9]*: frames on .* RX rings .*\)$/# vdpswitch \1/p' "$sw.stats")"
	else
		sw_tap="not ok - vdpswitch left no summary (log: $sw.log)"
	fi
fi
# ---- end of the vhost-user test switch block ----
end=$(date +%s.%N)
secs=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')

fails=0
# Kernel messages may interleave; only prefixed lines are results.
tr -d '\r' <"$log" | sed -n 's/^.*VDPTAP: //p' >"$log.tap"
while IFS= read -r line; do
	case "$line" in
	"ok - "*) echo "ok - $name: ${line#ok - }" ;;
	"not ok - "*) echo "not ok - $name: ${line#not ok - }"; fails=$((fails + 1)) ;;
	"#"*) echo "$line" ;;
	esac
done <"$log.tap"
rm -f "$log.tap"
# WDM driver tests: what QEMU saw (events, QMP replies) against the
# guest's VDP-HOST-EXPECT lines.
if [ -n "$qmpctl" ]; then
	[ -n "$serpeer" ] && kill "$serpeer" 2>/dev/null
	kill "$qmpctl" 2>/dev/null
	wait "$qmpctl" 2>/dev/null
	rm -f "$qmp.in" "$qmp.out"
	"$(dirname "$0")/qmp-ctl.sh" --check "$log" "$qmp.log" >"$log.qmptap"
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) echo "ok - $name: ${line#ok - }" ;;
		"not ok - "*) echo "not ok - $name: ${line#not ok - }"; fails=$((fails + 1)) ;;
		esac
	done <"$log.qmptap"
	rm -f "$log.qmptap"
fi
# vhost-user test switch: its per-port verdicts and first complaints.
if [ -n "$sw_pid" ]; then
	grep -m 5 'VERIFY\|BROKEN' "$sw.log" | sed 's/^/# /'
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) echo "ok - $name: ${line#ok - }" ;;
		"not ok - "*) echo "not ok - $name: ${line#not ok - }"; fails=$((fails + 1)) ;;
		"# "*) echo "$line" ;;
		esac
	done <<SWEOF
$sw_tap
SWEOF
fi

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "not ok - $name: VM hung, killed after ${limit}s (log: $log)"
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "not ok - $name: QEMU exited with status $rc (log: $log, $log.qemu)"
	exit 1
fi
if ! grep -q 'VDP-GUEST-END' "$log"; then
	echo "not ok - $name: guest did not finish its test (crash or panic; log: $log)"
	exit 1
fi
if ! grep -q 'VDPTAP: ' "$log"; then
	echo "not ok - $name: guest reported no results (log: $log)"
	exit 1
fi
echo "# $name: VM ran ${secs}s"
[ $fails -eq 0 ]
