# vdppanic: QEMU pvpanic (ISA QEMU0001 / PCI 1B36:0011), WDM function driver
# that reports bug checks to the host. Glue in src/wdm (vwdm).
DRIVERS += vdppanic
vdppanic_TYPE    := wdm
vdppanic_SRCS    := src/pvpanic/driver.c src/pvpanic/pvpanic_logic.c
vdppanic_CFLAGS  := -Isrc/wdm -Isrc/pvpanic -I$(O)/res
vdppanic_LIBS    := vwdm virtio
vdppanic_IMPORTS := ntoskrnl hal ntosext

HOSTTESTS += test_pvpanic_logic
WINETESTS += test_pvpanic_logic
test_pvpanic_logic_SRCS   := tests/unit/test_pvpanic_logic.c src/pvpanic/pvpanic_logic.c
test_pvpanic_logic_CFLAGS := -Isrc/pvpanic
