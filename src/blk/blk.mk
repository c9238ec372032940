# vdpblk: virtio-blk StorPort miniport (see HACKING.md for the fragment rules).
DRIVERS += vdpblk
vdpblk_TYPE    := storport
vdpblk_SRCS    := src/blk/blk_adapter.c src/blk/blk_virtio.c src/blk/blk_io.c \
	src/blk/blk_scsi.c src/blk/blk_plan.c
vdpblk_LIBS    := virtio
vdpblk_IMPORTS := storport ntoskrnl hal

# The StorPort glue itself (blk_adapter/blk_virtio/blk_io) against a minimal
# StorPort and the fake virtio device, as a Wine program only (it needs the
# mingw DDK headers). Declared before the other blk tests: objects shared
# with them (blk_scsi, blk_plan, fake_virtio, the core) take the flags of the
# last declaration, which are a subset of what they need here.
WINETESTS += test_blk_glue
test_blk_glue_SRCS   := tests/unit/test_blk_glue.c tests/unit/test_blk_glue_stubs.c \
	tests/unit/fake_virtio.c src/blk/blk_adapter.c src/blk/blk_virtio.c src/blk/blk_io.c \
	src/blk/blk_scsi.c src/blk/blk_plan.c
test_blk_glue_LIBS   := virtio
test_blk_glue_CFLAGS := -include $(O)/res/brand.h -Isrc/blk -Itests/unit -Iinclude/ddk \
	-isystem /usr/$(TRIPLET_x64)/include/ddk -D_AMD64_ -D_WIN64 -D_NTOSKRNL_ -DSTORPORT_API=

# The portable SCSI translation, tested on the host and under Wine.
HOSTTESTS += test_blk_scsi
WINETESTS += test_blk_scsi
test_blk_scsi_SRCS   := tests/unit/test_blk_scsi.c src/blk/blk_scsi.c
test_blk_scsi_CFLAGS := -Isrc/blk

# The portable sizing decisions (queues, rings, transfer limits, memory layout).
HOSTTESTS += test_blk_plan
WINETESTS += test_blk_plan
test_blk_plan_SRCS   := tests/unit/test_blk_plan.c src/blk/blk_plan.c src/blk/blk_scsi.c
test_blk_plan_CFLAGS := -Isrc/blk

# The sequence lock that publishes the disk to HwBuildIo, with a real writer thread.
HOSTTESTS += test_blk_seq
WINETESTS += test_blk_seq
test_blk_seq_SRCS   := tests/unit/test_blk_seq.c
test_blk_seq_CFLAGS := -Isrc/blk
test_blk_seq_LDLIBS := -lpthread

# storport.h / scsi.h / storport import library consistency (TAP).
CHECKS += blk-headers
# The flags contain commas (-Wl,...), which $(call) would split: they reach
# the script through the environment instead of the command line.
BLK_HEADERS_ENV := CC_x64 CC_x86 KCFLAGS KCFLAGS_x64 KCFLAGS_x86 KLDFLAGS KLDFLAGS_x64 \
	KLDFLAGS_x86 HOSTCC HOSTCFLAGS
# BLKH_* are recursive, so they see the toolchain variables defined after this fragment.
$(foreach v,$(BLK_HEADERS_ENV),$(eval check-blk-headers: export BLKH_$(v) = $$($(v))))
check-blk-headers: $(O)/x64/lib/libstorport.a $(O)/x86/lib/libstorport.a
	$(call tap,blk-headers,sh src/blk/check/headers.sh $(O))

# SRB/SRB_EX accessors of storport.h, exercised at run time under Wine (x64).
CHECKS += blk-srb
$(O)/x64/tests/blk_srb_accessors.exe: src/blk/check/srb_accessors.c include/ddk/storport.h include/scsi/scsi.h
	$(call msg,LD.x64,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC_x64) $(UCFLAGS) -Iinclude/ddk -isystem /usr/$(TRIPLET_x64)/include/ddk \
		-D_AMD64_ -D_WIN64 -o $@ $< -Wl,--no-insert-timestamp
check-blk-srb: $(O)/x64/tests/blk_srb_accessors.exe $(WINE_READY)
	$(call tap,blk-srb,$(WINE) $(O)/x64/tests/blk_srb_accessors.exe)
