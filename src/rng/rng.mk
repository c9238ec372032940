# vdprng: virtio-rng (WDM function driver).
DRIVERS += vdprng
vdprng_TYPE    := wdm
vdprng_SRCS    := src/rng/driver.c
vdprng_LIBS    :=
vdprng_IMPORTS := ntoskrnl hal
