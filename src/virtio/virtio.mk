# Portable virtio core (src/virtio): linked statically into every driver,
# and built for the host so the unit tests exercise the very same sources.
WINLIBS  += virtio
HOSTLIBS += virtio
virtio_SRCS   := src/virtio/virtio_pci.c src/virtio/virtio_dev.c src/virtio/virtqueue.c
# The core must not depend on any hosted header, on any target.
virtio_CFLAGS := -ffreestanding -fno-strict-aliasing

# Unit tests: the real core against the fake device, on the host (cmocka)
# and as a mingw-w64 x64 program under Wine.
HOSTTESTS += test_virtio_pci test_virtio_queue
WINETESTS += test_virtio_pci test_virtio_queue
test_virtio_pci_SRCS   := tests/unit/test_virtio_pci.c tests/unit/fake_virtio.c
test_virtio_pci_LIBS   := virtio
test_virtio_pci_CFLAGS := -Itests/unit
test_virtio_queue_SRCS   := tests/unit/test_virtio_queue.c tests/unit/fake_virtio.c
test_virtio_queue_LIBS   := virtio
test_virtio_queue_CFLAGS := -Itests/unit

# The core includes nothing but freestanding headers (checked with -nostdinc).
CHECKS += virtio-freestanding
check-virtio-freestanding:
	$(call tap,virtio-freestanding,src/virtio/check/freestanding.sh)

# The core against real QEMU virtio-blk devices (modern split/packed, legacy),
# from a static Linux program in a TCG guest: see src/virtio/check/.
HOSTPROGS += virtio_realdev
virtio_realdev_SRCS   := src/virtio/check/virtio_realdev.c
virtio_realdev_LIBS   := virtio
virtio_realdev_LDLIBS := -static
CHECKS += virtio-realdev
check-virtio-realdev: $(HOST_BIN)/virtio_realdev
	$(call tap,virtio-realdev,src/virtio/check/realdev.sh $(HOST_BIN)/virtio_realdev $(O)/vm/guest $(O)/virtio-realdev)
