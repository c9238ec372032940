#!/bin/sh
# Turn the network test's link requests into QEMU monitor commands.
# The guest writes "VDP-LINK-REQ DEVICE on|off" on its serial line; this
# watches the serial log and sends "set_link DEVICE on|off" through the
# monitor's pipe chardev (FIFOs MON.in / MON.out).
# Usage: ci/vm/link-ctl.sh SERIAL_LOG MON SECONDS   (run in the background)
set -u
log=$1 mon=$2 limit=$3

# O_RDWR opens of a FIFO never block, so QEMU's own opens find a peer.
exec 3<>"$mon.in" 4<>"$mon.out"
cat <&4 >/dev/null &
drain=$!
trap 'kill $drain 2>/dev/null' EXIT
trap 'exit 0' TERM INT
done_n=0
end=$(($(date +%s) + limit))
while [ "$(date +%s)" -le $end ]; do
	if [ -f "$log" ]; then
		n=0
		# shellcheck disable=SC2013 # one request per line
		for req in $(tr -d '\r' <"$log" | sed -n 's/^.*VDP-LINK-REQ \([a-z0-9]*\) \(on\|off\).*$/\1:\2/p'); do
			n=$((n + 1))
			[ $n -le $done_n ] && continue
			echo "set_link ${req%%:*} ${req#*:}" >&3
			echo "link-ctl: set_link ${req%%:*} ${req#*:}" >&2
			done_n=$n
		done
	fi
	sleep 0.2
done
