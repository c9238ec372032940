#!/bin/sh
# QMP for the WDM driver tests (run-vm.sh starts it for wdm-* tests).
#   ci/vm/qmp-ctl.sh SERIAL_LOG QMP SECONDS OUT   (in the background)
# negotiates capabilities on the pipe chardev QMP (FIFOs QMP.in/QMP.out),
# keeps everything QEMU sends (replies, events) in OUT, and sends the
# guest's requests: a serial line "VDP-QMP-REQ JSON" becomes that command.
#   ci/vm/qmp-ctl.sh --check SERIAL_LOG OUT   (after the VM)
# prints TAP for the guest's expectations: "VDP-HOST-EXPECT EVENT N" (QEMU
# sent EVENT exactly N times) and "VDP-HOST-EXPECT-MATCH TEXT" (some reply
# or event contains TEXT; JSON as QEMU prints it, e.g. "actual": 419430400).
set -u

if [ "${1:-}" = --check ]; then
	log=$2 out=$3
	[ -f "$out" ] || { echo "not ok - host: no QMP log ($out)"; exit 0; }
	tr -d '\r' <"$log" | sed -n 's/^.*VDP-HOST-EXPECT \([A-Z_]*\) \([0-9]*\).*$/\1 \2/p' >"$out.exp"
	while read -r ev n; do
		got=$(grep -o "\"event\": *\"$ev\"" "$out" | wc -l)
		if [ "$got" -eq "$n" ]; then
			echo "ok - host: QEMU reported $ev $got time(s)"
		else
			echo "not ok - host: QEMU reported $ev $got time(s), expected $n"
		fi
	done <"$out.exp"
	tr -d '\r' <"$log" | sed -n 's/^.*VDP-HOST-EXPECT-MATCH //p' >"$out.exp"
	while IFS= read -r text; do
		if grep -qF "$text" "$out"; then
			echo "ok - host: QMP shows $text"
		else
			echo "not ok - host: QMP never showed $text"
		fi
	done <"$out.exp"
	rm -f "$out.exp"
	exit 0
fi

log=$1 qmp=$2 limit=$3 out=$4
# O_RDWR opens of a FIFO never block, so QEMU's own opens find a peer.
exec 3<>"$qmp.in" 4<>"$qmp.out"
cat <&4 >"$out" &
reader=$!
trap 'sleep 0.3; kill $reader 2>/dev/null' EXIT
trap 'exit 0' TERM INT
echo '{"execute": "qmp_capabilities"}' >&3
done_n=0
end=$(($(date +%s) + limit))
while [ "$(date +%s)" -le $end ]; do
	if [ -f "$log" ]; then
		tr -d '\r' <"$log" | sed -n 's/^.*VDP-QMP-REQ //p' >"$out.req"
		n=0
		while IFS= read -r req; do
			n=$((n + 1))
			[ $n -le $done_n ] && continue
			echo "$req" >&3
			echo "qmp-ctl: $req" >&2
			done_n=$n
		done <"$out.req"
	fi
	sleep 0.2
done
