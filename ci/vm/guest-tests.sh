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
pe-disk:* | pe-disk-poll:* | pe-disk-msix:* | pe-disk-zero:* | pe-disk-eio:* | pe-disk-dump:* | pe-disk-reset:*)
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
	# The live system on INTx, then the crash dump stack (no interrupts).
	pe-disk-dump:*) mode=dump ;;
	esac
	# Timeouts: at every 10th interrupt the oldest request is declared late
	# before the miniport sees the interrupt (StorPort calls HwResetBus; the
	# requests come back with BUS_RESET and are sent again), and the disk
	# must still verify.
	reset=
	case "$1" in pe-disk-reset:*) reset="--force-reset 10" ;; esac
	# Modern-only (1042), else transitional or legacy-only (1001).
	pci=1af4:$(find_pci 1af4 1042 >/dev/null && echo 1042 || echo 1001)
	case $irq in
	uio) load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load" ;;
	msix) { load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load" ;;
	esac
	# shellcheck disable=SC2086 # $reset is empty or an option and its value
	run_tap "$svc" /t/vdphost --guest --service "$svc" --pci "$pci" --irq $irq --disk-test \
		--disk-mode $mode $reset "/t/$sys"
	# --- crash dump: the proof that the dump checks bite: vblkmini ignores
	# DumpMode and asks for passive initialisation, which the dump stack lacks.
	if [ "$mode" = dump ] && [ "$sys" != vblkmini.sys ] && [ -f /t/vblkmini.sys ]; then
		/t/vdphost --guest --pci "$pci" --irq $irq --disk-test --disk-mode dump \
			/t/vblkmini.sys >/tmp/out.tap 2>/tmp/err.log
		rc=$?
		if [ $rc -eq 71 ] && grep -q 'in dump mode' /tmp/err.log; then
			tap "ok - vblkmini (no dump support) stopped in dump mode: $(grep -m1 -o '[A-Za-z(]*[A-Za-z)] in dump mode' /tmp/err.log)"
		else
			cat /tmp/err.log
			tap "not ok - vblkmini in dump mode: status $rc (want 71 and a dump-mode violation)"
		fi
	fi
	# --- end crash dump
	# The proof that the reset check bites: vblkmini's HwResetBus completes
	# nothing, so the port must stop at the first forced timeout.
	if [ -n "$reset" ] && [ "$sys" != vblkmini.sys ] && [ -f /t/vblkmini.sys ]; then
		# shellcheck disable=SC2086
		/t/vdphost --guest --pci "$pci" --irq $irq --disk-test $reset /t/vblkmini.sys \
			>/tmp/out.tap 2>/tmp/err.log
		rc=$?
		if [ $rc -eq 71 ] && grep -q 'still in the miniport' /tmp/err.log; then
			tap "ok - vblkmini (HwResetBus completes nothing) stopped at a timeout: requests left after HwResetBus"
		else
			cat /tmp/err.log
			tap "not ok - vblkmini with --force-reset: status $rc (want 71: requests left after HwResetBus)"
		fi
	fi
	;;
# --- multi-vCPU disk test
pe-disk-mq:*)
	# Every modern virtio-blk device in turn (tests.list gives two over one
	# image, num-queues=2 and 4), MSI-X through vfio, whole-disk test from
	# one submitter thread per CPU; the disk test fails unless every
	# request queue's message carried completions.
	sys=${1#*:}
	{ load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load"
	tap "# $(grep -c '^processor' /proc/cpuinfo) vCPUs"
	n=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1042 ] || continue
		n=$((n + 1))
		bdf=$(basename "$d")
		run_tap "${sys%.sys}@$bdf" /t/vdphost --guest --pci "$bdf" --irq msix --disk-test \
			"/t/$sys"
	done
	[ $n -gt 0 ] || tap "not ok - no virtio-blk (1af4:1042) device"
	# The proof that the queue check bites: vblkmini, a one-queue
	# miniport, must fail it (and only it) on the last device.
	if [ -f /t/vblkmini.sys ] && [ -n "${bdf:-}" ]; then
		/t/vdphost --guest --pci "$bdf" --irq msix --disk-test /t/vblkmini.sys \
			>/tmp/out.tap 2>/tmp/err.log
		rc=$?
		if [ $rc -ne 0 ] && grep -q '^not ok - .*request queue message' /tmp/out.tap &&
			[ "$(grep -c '^not ok' /tmp/out.tap)" = 1 ]; then
			tap "ok - one-queue miniport fails the queue check: $(grep -m1 "^not ok" /tmp/out.tap | cut -c10-120)"
		else
			cat /tmp/err.log
			tap "not ok - one-queue miniport vblkmini not caught by the queue check: status $rc, $(grep -c '^not ok' /tmp/out.tap) failures"
		fi
	fi
	;;
# --- end multi-vCPU disk test
# --- SRB_EX disk test
pe-disk-srbex:*)
	# The whole-disk test with STORAGE_REQUEST_BLOCKs (INTx), READ(16) and
	# a 32-byte CDB that must be refused; then the proof that SRB_EX needs
	# the miniport's consent: vblkmini declares no SrbTypeFlags and must
	# fail the SRB_EX mode (and only that) before any I/O.
	sys=${1#*:}
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	run_tap "${sys%.sys}" /t/vdphost --guest --pci 1af4:1042 --irq uio --disk-test \
		--disk-mode srbex "/t/$sys"
	if [ -f /t/vblkmini.sys ]; then
		/t/vdphost --guest --pci 1af4:1042 --irq uio --disk-test --disk-mode srbex \
			/t/vblkmini.sys >/tmp/out.tap 2>/tmp/err.log
		rc=$?
		if [ $rc -ne 0 ] && grep -q '^not ok - .*SRB_EX mode: the miniport does not declare' /tmp/out.tap &&
			[ "$(grep -c '^not ok' /tmp/out.tap)" = 1 ]; then
			tap "ok - vblkmini (no SrbTypeFlags) gets no SRB_EX: $(grep -m1 '^not ok' /tmp/out.tap | cut -c10-100)"
		else
			cat /tmp/err.log
			tap "not ok - vblkmini in SRB_EX mode: status $rc, $(grep -c '^not ok' /tmp/out.tap) failures (want the SRB_EX refusal only)"
		fi
	fi
	;;
# --- end SRB_EX disk test
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
		# A lost completion: the request times out, and after HwResetBus
		# it is still not back (or the issuer's own deadline passes first).
		drop-completion) why='not completed within|still in the miniport' ;;
		esac
		if [ $rc -ne 0 ] && grep -qE "$why" /tmp/out.tap /tmp/err.log; then
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
pe-net:* | pe-net-poll:* | pe-net-msix:* | broken-net:* | net-reset:* | pe-net-vhost:* | broken-net-vhost:*)
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
		# The vhost-user switch tests also send LSO over IPv6 to
		# fd77::1 (no DAD, so the address works at once).
		case "$1" in
		pe-net-vhost:* | broken-net-vhost:*)
			echo 0 >"/proc/sys/net/ipv6/conf/$ifc/accept_dad" 2>/dev/null
			ip -6 addr add fd77::1/64 dev "$ifc" || tap "not ok - cannot add fd77::1 to $ifc"
			;;
		esac
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
		net-reset:*)
			# vdpnet reset during traffic (net_bench.c).
			run_tap vdpnet /t/vdphost --guest --service vdpnet --pci "$a" --irq $irq \
				--net-reset-test "/t/$sys"
			;;
		broken-net-vhost:*)
			# The switch corrupts the checksum of every segment it cuts
			# from vdpnet's LSO frames (--inject bad-seg-csum=0): the LSO
			# test must fail, and nothing else may pass it off.
			/t/vdphost --guest --service vdpnet --pci "$a" --irq $irq --net-test "/t/$sys" \
				>/tmp/out.tap 2>/tmp/err.log
			rc=$?
			if [ $rc -ne 0 ] && grep -q '^not ok .*LSOv2' /tmp/out.tap; then
				tap "ok - broken offload (bad segment checksums) detected as failing: status $rc, first: $(grep -m1 '^not ok' /tmp/out.tap | cut -c8-110)"
			else
				cat /tmp/err.log
				tap "not ok - broken offload (bad segment checksums) not detected: status $rc"
			fi
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
netbench:*)
	# ---- make bench-net (ci/vm/bench.sh) ----
	# Hub 0: NIC A (03.0) vdpnet.sys in vdphost, NIC B (04.0) Linux's
	# virtio_net, 192.168.77.1. Hub 1, the Linux baseline: NIC C (05.0)
	# Linux's virtio_net under an AF_PACKET socket (no address), NIC D (06.0)
	# Linux's virtio_net, 192.168.78.1. Same frames, same peer program.
	sys=${1#netbench:}
	secs=${sys#*:}
	sys=${sys%%:*}
	echo uio_pci_generic >/sys/bus/pci/devices/0000:00:03.0/driver_override
	for d in 04.0 05.0 06.0; do
		echo virtio-pci >"/sys/bus/pci/devices/0000:00:$d/driver_override"
	done
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	{ load_mod virtio_pci && load_mod virtio_net; } || tap "not ok - virtio_net did not load"
	sleep 1
	ifname() {
		for n in "/sys/bus/pci/devices/0000:00:$1/"virtio*/net/*; do
			[ -e "$n" ] && basename "$n"
		done
	}
	ifb=$(ifname 04.0)
	ifc=$(ifname 05.0)
	ifd=$(ifname 06.0)
	if [ -z "$ifb" ] || [ -z "$ifc" ] || [ -z "$ifd" ]; then
		tap "not ok - bench: Linux NICs missing (B '$ifb', C '$ifc', D '$ifd')"
	else
		ip link set lo up
		ip addr add 192.168.77.1/24 dev "$ifb" && ip link set "$ifb" up
		ip addr add 192.168.78.1/24 dev "$ifd" && ip link set "$ifd" up
		ip link set "$ifc" up
		sleep 1
		run_tap vdpnet /t/vdphost --guest --service vdpnet --pci 0000:00:03.0 --irq uio \
			--net-bench "$secs" "/t/$sys"
		run_tap linux /t/vdpnetbench raw "$ifc" 192.168.78.2 192.168.78.1 "$secs" |
			sed 's/VDPNETBENCH/VDPNETBENCH-LINUX/'
		for n in "$ifb" "$ifc" "$ifd"; do
			echo "$n: rx $(cat "/sys/class/net/$n/statistics/rx_packets") tx $(cat "/sys/class/net/$n/statistics/tx_packets") packets, rx dropped $(cat "/sys/class/net/$n/statistics/rx_dropped")"
		done
		for d in 04.0 05.0 06.0; do
			echo "0000:00:$d" >/sys/bus/pci/drivers/virtio-pci/unbind 2>/dev/null
		done
	fi
	;;
# ---- WDM drivers through the emulated I/O and PnP manager ----
wdm-rng-msix:*)
	# The same through MSI-X messages (vfio-pci behind the guest IOMMU).
	sys=${1#*:}
	{ load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load"
	run_tap vdprng /t/vdphost --guest --service vdprng --pci 1af4:1044 --irq msix --wdm-test rng "/t/$sys"
	;;
wdm-serial-msix:*)
	sys=${1#*:}
	{ load_mod vfio_pci && load_mod vfio_iommu_type1; } || tap "not ok - vfio modules did not load"
	run_tap vdpserial /t/vdphost --guest --service vdpserial --pci 1af4:1043 --irq msix \
		--wdm-test serial --host-ctl /dev/ttyS0 "/t/$sys"
	;;
wdm-rng:*)
	# vdprng.sys on virtio-rng (modern 1af4:1044), INTx through uio: reads
	# through the device interface; then the proof that the test catches a
	# read that reports 0 bytes and all-zero data (host-injected).
	sys=${1#*:}
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	pci=1af4:1044
	run_tap vdprng /t/vdphost --guest --service vdprng --pci $pci --irq uio --wdm-test rng "/t/$sys"
	for inj in rng-zero-len rng-zero-data; do
		/t/vdphost --guest --pci $pci --irq uio --wdm-test rng --wdm-inject $inj "/t/$sys" \
			>/tmp/out.tap 2>/tmp/err.log
		rc=$?
		if [ $rc -ne 0 ] && grep -q '^not ok - .*read' /tmp/out.tap; then
			tap "ok - broken run ($inj) detected as failing: status $rc, first: $(grep -m1 '^not ok' /tmp/out.tap | cut -c8-100)"
		else
			cat /tmp/err.log
			tap "not ok - broken run ($inj) not detected: status $rc"
		fi
	done
	;;
wdm-pvpanic:*)
	# vdppanic.sys on the ISA pvpanic (port 0x505, events 3) and on
	# pvpanic-pci offering only CRASH_LOADED: a simulated bug check (twice)
	# must make QEMU report exactly one event each, never one the device
	# does not offer (run-vm.sh checks QEMU's QMP events).
	sys=${1#*:}
	run_tap vdppanic /t/vdphost --guest --service vdppanic --isa-port 505 --wdm-test pvpanic "/t/$sys"
	echo "VDP-HOST-EXPECT GUEST_PANICKED 1"
	bdf=$(find_pci 1b36 0011)
	if [ -z "$bdf" ]; then
		tap "not ok - no pvpanic-pci (1b36:0011) device"
	else
		run_tap vdppanic-pci /t/vdphost --guest --service vdppanic --pci "$bdf" --irq poll \
			--wdm-test pvpanic "/t/$sys"
	fi
	echo "VDP-HOST-EXPECT GUEST_CRASHLOADED 1"
	;;
wdm-balloon:*)
	# vdpballoon.sys on virtio-balloon (modern 1af4:1045), INTx: the host
	# sets the target to 440 then 500 MiB of the 512 MiB guest through QMP
	# (requests on the serial line for ci/vm/qmp-ctl.sh) and polls the
	# statistics; the balloon's pages come from the DMA pool (real PFNs).
	# With free-page-reporting=on the I/O manager watches reporting_vq:
	# reported pages must read as zero when given back, and none may go
	# back while the device still holds its report.
	sys=${1#*:}
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	run_tap vdpballoon /t/vdphost --guest --service vdpballoon --pci 1af4:1045 --irq uio \
		--wdm-test balloon --host-ctl /dev/ttyS0 --balloon-ram 512 --dma-pool 96 "/t/$sys"
	# The INF's switch: FreePageReporting=0 in the device key, no reporting.
	sed 's/^\(HKR,, *FreePageReporting, *0x[0-9a-fA-F]*, *\)1/\10/' "/t/${sys%.sys}.inf" >/tmp/noreport.inf
	if grep -q '^HKR,, *FreePageReporting, *0x[0-9a-fA-F]*, *0' /tmp/noreport.inf; then
		run_tap vdpballoon-noreport /t/vdphost --guest --service vdpballoon --pci 1af4:1045 --irq uio \
			--wdm-test none --inf /tmp/noreport.inf "/t/$sys"
	else
		tap "not ok - vdpballoon.inf has no FreePageReporting switch to turn off"
	fi
	# The proof that the test catches a balloon that cannot follow (the
	# host has no pages for it), memory touched while ballooned, and a
	# reported page reused before the device returned its report.
	for inj in balloon-no-pages balloon-touch balloon-report-early; do
		/t/vdphost --guest --pci 1af4:1045 --irq uio --wdm-test balloon --wdm-inject $inj \
			--host-ctl /dev/ttyS0 --balloon-ram 512 --dma-pool 96 "/t/$sys" >/tmp/out.tap 2>/tmp/err.log
		rc=$?
		case $inj in
		balloon-no-pages) why='balloon 440 MiB' ;;
		balloon-touch) why='1 changed' ;;
		balloon-report-early) why='device held its report' ;;
		esac
		if [ $rc -ne 0 ] && grep -q "^not ok - .*$why" /tmp/out.tap; then
			tap "ok - broken run ($inj) detected as failing: status $rc, first: $(grep -m1 '^not ok' /tmp/out.tap | cut -c8-110)"
		else
			cat /tmp/err.log
			tap "not ok - broken run ($inj) not detected: status $rc"
		fi
	done
	;;
wdm-serial:*)
	# vdpserial.sys on virtio-serial (modern 1af4:1043), INTx: port
	# org.openvdp.test.0 goes to a host socket whose peer (vdphost
	# --serial-peer, started by run-vm.sh) greets and echoes; a second port
	# is hot-added and removed through QMP.
	sys=${1#*:}
	load_mod uio_pci_generic || tap "not ok - uio_pci_generic did not load"
	run_tap vdpserial /t/vdphost --guest --service vdpserial --pci 1af4:1043 --irq uio \
		--wdm-test serial --host-ctl /dev/ttyS0 "/t/$sys"
	;;
wdm-multi:*)
	# Several of the WDM tests above in one boot (each boot costs seconds
	# of TCG): the list after the colon, comma-separated.
	for t in $(echo "${1#wdm-multi:}" | tr , ' '); do
		sh "$0" "$t"
	done
	;;
# ---- end of the WDM block ----
*)
	tap "not ok - unknown guest test '$1'"
	;;
esac
