#!/bin/sh
# Runs inside the guest. Prints one "VDPTAP: ok - ..." / "VDPTAP: not ok - ..."
# line per result; the prefix keeps TAP apart from kernel console output.
# Usage: guest-tests.sh TEST   (TEST from ci/vm/tests.list)

tap() { echo "VDPTAP: $*"; }

# Load a module and its dependencies from /lib/modules/deps.txt
# ("name: dep dep"); nothing else loads modules, so Linux's virtio drivers
# stay off the devices.
load_mod() {
	[ -d "/sys/module/$1" ] && return 0
	# shellcheck disable=SC2013 # one line, words are module names
	for d in $(sed -n "s/^$1: *//p" /lib/modules/deps.txt); do
		load_mod "$d" || return 1
	done
	insmod "/lib/modules/$1.ko" 2>/dev/null || [ -d "/sys/module/$1" ]
}

# BDF of the first PCI device with vendor:device $1:$2.
find_pci() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

# Run a host program that prints unnumbered TAP; prefix its lines and turn
# an abnormal exit into a failure line of its own.
run_tap() {
	name=$1
	shift
	"$@" >/tmp/out.tap 2>/tmp/err.log
	rc=$?
	cat /tmp/err.log
	while IFS= read -r line; do
		case "$line" in
		"ok "* | "not ok "* | "#"*) tap "$line" ;;
		esac
	done </tmp/out.tap
	if [ $rc -ne 0 ]; then
		tap "not ok - $name: exited with status $rc"
	fi
	return $rc
}

case "$1" in
smoke)
	tap "ok - guest user space up"
	n=$(grep -c '^virtio' /proc/modules)
	if [ "$n" = 0 ]; then tap "ok - no Linux virtio driver loaded"; else tap "not ok - $n virtio modules loaded"; fi
	for m in uio_pci_generic vfio_pci vfio_iommu_type1; do
		if load_mod $m; then tap "ok - module $m loaded"; else tap "not ok - module $m failed to load"; fi
	done
	;;
uio-bind)
	# A modern virtio-blk device handed to uio_pci_generic, as the
	# StorPort emulation will use it for INTx.
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic"
	bdf=$(find_pci 1af4 1042)
	if [ -z "$bdf" ]; then
		tap "not ok - no virtio-blk (1af4:1042) device"
	else
		echo "1af4 1042" >/sys/bus/pci/drivers/uio_pci_generic/new_id
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
		if [ "$drv" = uio_pci_generic ] && [ -e /dev/uio0 ]; then
			tap "ok - $bdf bound to uio_pci_generic (/dev/uio0)"
		else
			tap "not ok - $bdf driver is '$drv'"
		fi
	fi
	;;
pe:*)
	sys=${1#pe:}
	run_tap "$sys" /t/vdphost --guest "/t/$sys"
	;;
pe-disk:* | pe-disk-poll:* | pe-disk-msix:* | pe-disk-zero:* | pe-disk-eio:*)
	# StorPort miniport on the modern virtio-blk device, INTx through
	# uio_pci_generic (or HwInterrupt polled), whole-disk test; the host
	# checks the image afterwards.
	# FILE.sys@SERVICE runs the driver under another service name.
	sys=${1#*:}
	svc=${sys#*@}
	sys=${sys%@*}
	[ "$svc" = "$sys" ] && svc=${sys%.sys}
	irq=uio
	mode=basic
	case "$1" in
	pe-disk-poll:*) irq=poll ;;
	pe-disk-msix:*) irq=msix ;;
	pe-disk-zero:*) mode=zero ;;
	pe-disk-eio:*) mode=eio ;;
	esac
	# Modern-only (1042), else transitional or legacy-only (1001).
	pci=1af4:$(find_pci 1af4 1042 >/dev/null && echo 1042 || echo 1001)
	case $irq in
	uio) load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load" ;;
	msix) { load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load" ;;
	esac
	run_tap "$svc" /t/vdphost --guest --service "$svc" --pci "$pci" --irq $irq --disk-test \
		--disk-mode $mode "/t/$sys"
	;;
broken-disk:*)
	# The proof that the disk test catches a broken driver: the host
	# corrupts one read buffer / swallows one completion; each run must
	# fail, with the expected diagnosis and in bounded time.
	sys=${1#*:}
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	for inj in corrupt-read-byte drop-completion; do
		/t/vdphost --guest --pci 1af4:1042 --irq uio --disk-test --inject $inj "/t/$sys" \
			>/tmp/out.tap 2>/tmp/err.log
		rc=$?
		cat /tmp/err.log
		sed -n "s/^not ok - /broken run ($inj): /p" /tmp/out.tap
		case $inj in
		corrupt-read-byte) why='does not hold its pattern' ;;
		drop-completion) why='not completed within' ;;
		esac
		if [ $rc -ne 0 ] && grep -q "$why" /tmp/out.tap /tmp/err.log; then
			tap "ok - broken run ($inj) detected as failing: status $rc, '$why'"
		else
			tap "not ok - broken run ($inj) not detected: status $rc, no '$why'"
		fi
	done
	;;
bench:*)
	# make bench (ci/vm/bench.sh): the first virtio-blk device goes to
	# vdpblk.sys in vdphost, the second, identical one to Linux's
	# virtio_blk; driver_override keeps each driver off the other's device.
	sys=${1#bench:}
	secs=${sys#*:}
	sys=${sys%%:*}
	set --
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1042 ] && set -- "$@" "$(basename "$d")"
	done
	if [ $# -ne 2 ]; then
		tap "not ok - bench: want 2 virtio-blk devices, found $#"
	else
		echo uio_pci_generic >"/sys/bus/pci/devices/$1/driver_override"
		echo virtio-pci >"/sys/bus/pci/devices/$2/driver_override"
		load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
		echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
		{ load_mod virtio_pci && load_mod virtio_blk; } || tap "not ok - virtio_blk did not load"
		sleep 1
		dev=
		for b in "/sys/bus/pci/devices/$2/"virtio*/block/*; do
			[ -e "$b" ] && dev=/dev/$(basename "$b")
		done
		run_tap vdpblk /t/vdphost --guest --pci "$1" --irq uio --disk-test --bench "$secs" "/t/$sys"
		[ -b "$dev" ] || tap "not ok - bench: no Linux block device on $2"
		[ -b "$dev" ] && run_tap vdpbench /t/vdpbench "$dev" "$secs" | sed 's/VDPBENCH/VDPBENCH-LINUX/'
	fi
	;;
pe-net:* | pe-net-poll:* | pe-net-msix:* | broken-net:*)
	# NDIS miniport on NIC A (00:03.0) in vdphost; NIC B (00:04.0) on the
	# same QEMU hub belongs to Linux's virtio_net and is the peer
	# 192.168.77.1 with a UDP/TCP echo on port 7777. driver_override keeps
	# each driver off the other's device.
	sys=${1#*:}
	irq=uio
	case "$1" in
	pe-net-poll:*) irq=poll ;;
	pe-net-msix:*) irq=msix ;;
	esac
	a=0000:00:03.0
	b=0000:00:04.0
	case $irq in
	uio) echo uio_pci_generic >"/sys/bus/pci/devices/$a/driver_override" ;;
	msix) echo vfio-pci >"/sys/bus/pci/devices/$a/driver_override" ;;
	*) echo none >"/sys/bus/pci/devices/$a/driver_override" ;;
	esac
	echo virtio-pci >"/sys/bus/pci/devices/$b/driver_override"
	case $irq in
	uio) load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load" ;;
	msix) { load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load" ;;
	esac
	{ load_mod virtio_pci && load_mod virtio_net; } || tap "not ok - virtio_net did not load"
	ifc=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		for n in "/sys/bus/pci/devices/$b/"virtio*/net/*; do
			[ -e "$n" ] && ifc=$(basename "$n")
		done
		[ -n "$ifc" ] && break
		sleep 0.2
	done
	if [ -z "$ifc" ]; then
		tap "not ok - no Linux network interface on $b"
	else
		ip link set lo up
		if ! ip addr add 192.168.77.1/24 dev "$ifc" || ! ip link set "$ifc" up; then
			tap "not ok - cannot configure $ifc"
		fi
		/t/vdphost --echo-server 7777 &
		echo_pid=$!
		case "$1" in
		broken-net:*)
			# The proof that the network test catches a broken data path:
			# each injected host fault must fail the run, with its diagnosis.
			for inj in corrupt-rx drop-send-complete; do
				/t/vdphost --guest --pci "$a" --irq $irq --net-test --net-inject $inj \
					"/t/$sys" >/tmp/out.tap 2>/tmp/err.log
				rc=$?
				case $inj in
				corrupt-rx) why='checksum\|differs' ;;
				drop-send-complete) why='not completed within' ;;
				esac
				if [ $rc -ne 0 ] && grep -q "$why" /tmp/out.tap /tmp/err.log; then
					tap "ok - broken run ($inj) detected as failing: status $rc, first: $(grep -m1 '^not ok' /tmp/out.tap | cut -c8-90)"
				else
					cat /tmp/err.log
					tap "not ok - broken run ($inj) not detected: status $rc"
				fi
			done
			;;
		*)
			run_tap vdpnet /t/vdphost --guest --service vdpnet --pci "$a" --irq $irq --net-test \
				--link-ctl /dev/ttyS0 "/t/$sys"
			;;
		esac
		kill "$echo_pid" 2>/dev/null
		echo "$ifc: rx $(cat "/sys/class/net/$ifc/statistics/rx_packets") tx $(cat "/sys/class/net/$ifc/statistics/tx_packets") packets"
		# Hand both NICs back before power-off: no driver left mid-operation.
		echo "$b" >/sys/bus/pci/drivers/virtio-pci/unbind 2>/dev/null
	fi
	;;
*)
	tap "not ok - unknown guest test '$1'"
	;;
esac
