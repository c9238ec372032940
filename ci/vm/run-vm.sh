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
start=$(date +%s.%N)
# -k: a guest that ignores SIGTERM still dies.
timeout -k 5 "$limit" qemu-system-x86_64 -nodefaults -no-user-config \
	-machine q35 -accel "$accel" -cpu "$cpu" -m 512 -smp 1 \
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
