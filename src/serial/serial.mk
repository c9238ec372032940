# vdpserial: virtio-console WDM bus driver; every port is a raw child PDO
# with a device interface (serial_public.h). The control protocol logic
# (serial_ctrl.c) is portable and host-tested; glue in serial_drv.c and
# src/wdm (vwdm).
DRIVERS += vdpserial
vdpserial_TYPE    := wdm
vdpserial_SRCS    := src/serial/serial_drv.c src/serial/serial_ctrl.c
vdpserial_CFLAGS  := -Isrc/wdm -Isrc/serial -I$(O)/res
vdpserial_LIBS    := vwdm virtio
vdpserial_IMPORTS := ntoskrnl hal ntosext

HOSTTESTS += test_serial_ctrl
WINETESTS += test_serial_ctrl
test_serial_ctrl_SRCS   := tests/unit/test_serial_ctrl.c src/serial/serial_ctrl.c
test_serial_ctrl_CFLAGS := -Isrc/serial
