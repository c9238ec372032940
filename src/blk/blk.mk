# vdpblk: virtio-blk StorPort miniport (see HACKING.md for the fragment rules).
DRIVERS += vdpblk
vdpblk_TYPE    := storport
vdpblk_SRCS    := src/blk/blk_adapter.c src/blk/blk_scsi.c
# TODO(issue 5): vdpblk_LIBS := virtio once the adapter code uses the core.
vdpblk_LIBS    :=
vdpblk_IMPORTS := storport ntoskrnl hal

# The portable SCSI translation, tested on the host and under Wine.
HOSTTESTS += test_blk_scsi
WINETESTS += test_blk_scsi
test_blk_scsi_SRCS   := tests/unit/test_blk_scsi.c src/blk/blk_scsi.c
test_blk_scsi_CFLAGS := -Isrc/blk

# storport.h / scsi.h / storport import library consistency (TAP).
CHECKS += blk-headers
check-blk-headers: $(O)/x64/lib/libstorport.a $(O)/x86/lib/libstorport.a
	$(call tap,blk-headers,env CC_x64="$(CC_x64)" CC_x86="$(CC_x86)" \
		KCFLAGS="$(KCFLAGS)" KCFLAGS_x64="$(KCFLAGS_x64)" KCFLAGS_x86="$(KCFLAGS_x86)" \
		KLDFLAGS="$(KLDFLAGS)" KLDFLAGS_x64="$(KLDFLAGS_x64)" KLDFLAGS_x86="$(KLDFLAGS_x86)" \
		HOSTCC="$(HOSTCC)" HOSTCFLAGS="$(HOSTCFLAGS)" sh src/blk/check/headers.sh $(O))

# SRB/SRB_EX accessors of storport.h, exercised at run time under Wine (x64).
CHECKS += blk-srb
$(O)/x64/tests/blk_srb_accessors.exe: src/blk/check/srb_accessors.c include/ddk/storport.h include/scsi/scsi.h
	$(call msg,LD.x64,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC_x64) $(UCFLAGS) -Iinclude/ddk -isystem /usr/$(TRIPLET_x64)/include/ddk \
		-D_AMD64_ -D_WIN64 -o $@ $< -Wl,--no-insert-timestamp
check-blk-srb: $(O)/x64/tests/blk_srb_accessors.exe $(WINE_READY)
	$(call tap,blk-srb,$(WINE) $(O)/x64/tests/blk_srb_accessors.exe)
