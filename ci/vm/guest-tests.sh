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
pe-disk:* | pe-disk-poll:* | pe-disk-msix:*)
	# StorPort miniport on the modern virtio-blk device, INTx through
	# uio_pci_generic (or HwInterrupt polled), whole-disk test; the host
	# checks the image afterwards.
	# FILE.sys@SERVICE runs the driver under another service name.
	sys=${1#*:}
	svc=${sys#*@}
	sys=${sys%@*}
	[ "$svc" = "$sys" ] && svc=${sys%.sys}
	irq=uio
	case "$1" in
	pe-disk-poll:*) irq=poll ;;
	pe-disk-msix:*) irq=msix ;;
	esac
	case $irq in
	uio) load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load" ;;
	msix) { load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load" ;;
	esac
	run_tap "$svc" /t/vdphost --guest --service "$svc" --pci 1af4:1042 --irq $irq --disk-test "/t/$sys"
	;;
*)
	tap "not ok - unknown guest test '$1'"
	;;
esac
