#!/bin/sh
# TAP check: the virtio core against real QEMU virtio-blk devices (modern
# split/packed, with and without indirect + EVENT_IDX, transitional and
# legacy-only). A tiny initramfs runs src/virtio/check/virtio_realdev.c in a
# Linux guest under TCG; nothing binds Linux's own virtio drivers.
# Usage: realdev.sh PROGRAM [GUEST_CACHE] [WORKDIR]
# GUEST_CACHE is a ci/vm/fetch-guest.sh cache (default out/vm/guest, shared
# with the VM suite and only read here). Without one, the script fetches its
# own into WORKDIR/guest; offline, the check is skipped, not failed.
set -u
prog=$1
guest=${2:-out/vm/guest}
work=${3:-out/virtio-realdev}
n=0
fail=0

emit() { n=$((n + 1)); echo "$1 $n - $2"; }

mkdir -p "$work"
if [ ! -f "$guest/kver" ] || [ ! -x "$guest/busybox/bin/busybox" ]; then
	guest=$work/guest
	if ! err=$(ci/vm/fetch-guest.sh "$guest" 2>&1); then
		emit ok "virtio-realdev # SKIP no guest kernel: $(echo "$err" | head -n 1)"
		echo "1..$n"
		exit 0
	fi
fi
kver=$(cat "$guest/kver")
# A directory per run: two `make check` in one tree must not share images or logs.
run_dir=$(mktemp -d "$work/run.XXXXXX")
for tool in qemu-system-x86_64 cpio gzip timeout; do
	command -v $tool >/dev/null || { emit "not ok" "virtio-realdev: $tool missing"; echo "1..$n"; exit 1; }
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$guest/busybox/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$prog" "$root/virtio_realdev"
cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mode=
for a in $(cat /proc/cmdline); do case "$a" in vqmode=*) mode=${a#vqmode=} ;; esac; done
/virtio_realdev "$mode"
echo "VQREAL-END rc=$?"
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$run_dir/initrd.gz" || {
	emit "not ok" "virtio-realdev: initramfs"; echo "1..$n"; exit 1; }

run() {
	name=$1
	dev=$2
	log=$run_dir/$name.log
	rm -f "$run_dir/disk.img"
	truncate -s 1M "$run_dir/disk.img"
	timeout -k 5 180 qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel tcg -cpu max \
		-m 512 -smp 1 -display none -serial "file:$log" -no-reboot \
		-kernel "$guest/kernel/boot/vmlinuz-$kver" -initrd "$run_dir/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 vqmode=$name" \
		-drive "if=none,id=d0,file=$run_dir/disk.img,format=raw" -device "$dev,drive=d0" \
		>"$log.qemu" 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		emit "not ok" "$name: VM hung (log: $log)"
		fail=1
		return
	fi
	got=0
	tr -d '\r' <"$log" | sed -n 's/^.*VDPTAP: //p' >"$log.tap"
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) emit ok "${line#ok - }"; got=1 ;;
		"not ok - "*) emit "not ok" "${line#not ok - }"; fail=1 ;;
		esac
	done <"$log.tap"
	tr -d '\r' <"$log" | grep '^# core' | sed 's/^/# /'
	if ! grep -q 'VQREAL-END rc=0' "$log" || [ $got -eq 0 ]; then
		emit "not ok" "$name: guest program failed or never finished (log: $log)"
		fail=1
	fi
}

run modern-split "virtio-blk-pci,disable-legacy=on"
run modern-split-noind-noevent "virtio-blk-pci,disable-legacy=on,event_idx=off,indirect_desc=off"
run modern-packed "virtio-blk-pci,disable-legacy=on,packed=on"
run modern-packed-noind-noevent "virtio-blk-pci,disable-legacy=on,packed=on,event_idx=off,indirect_desc=off"
run modern-split-msix "virtio-blk-pci,disable-legacy=on"
run transitional-legacy "virtio-blk-pci"
run legacy-only "virtio-blk-pci,disable-modern=on"
run legacy-only-msix "virtio-blk-pci,disable-modern=on"
echo "1..$n"
# Keep the serial logs of a failed run only.
[ $fail -eq 0 ] && rm -rf "$run_dir"
exit $fail
