# vdprng: virtio-rng (WDM function driver): reads on a device interface,
# served from one page-sized DMA buffer. Glue in src/wdm (vwdm).
DRIVERS += vdprng
vdprng_TYPE    := wdm
vdprng_SRCS    := src/rng/driver.c src/rng/rng_logic.c
vdprng_CFLAGS  := -Isrc/wdm -Isrc/rng -I$(O)/res
vdprng_LIBS    := vwdm virtio
vdprng_IMPORTS := ntoskrnl hal ntosext

# Buffer accounting (rng_logic.c) and the portable WDM helpers, host and Wine.
HOSTTESTS += test_rng_logic
WINETESTS += test_rng_logic
test_rng_logic_SRCS   := tests/unit/test_rng_logic.c src/rng/rng_logic.c
test_rng_logic_LIBS   := vwdm_host
test_rng_logic_CFLAGS := -Isrc/rng -Isrc/wdm
