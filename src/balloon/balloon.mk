# vdpballoon: virtio memory balloon (WDM function driver). Inflate/deflate
# state machine, free page reporting policy and encodings in
# balloon_logic.c (portable, host-tested); glue in driver.c and src/wdm (vwdm).
DRIVERS += vdpballoon
vdpballoon_TYPE    := wdm
vdpballoon_SRCS    := src/balloon/driver.c src/balloon/balloon_logic.c
vdpballoon_CFLAGS  := -Isrc/wdm -Isrc/balloon -I$(O)/res
vdpballoon_LIBS    := vwdm virtio
vdpballoon_IMPORTS := ntoskrnl hal ntosext

HOSTTESTS += test_balloon_logic
WINETESTS += test_balloon_logic
test_balloon_logic_SRCS   := tests/unit/test_balloon_logic.c src/balloon/balloon_logic.c
test_balloon_logic_CFLAGS := -Isrc/balloon
