# The signed driver pack: brand configuration, catalogs, signatures, layout
# and ISO (see sign/README.md).
#
#   make pack BRAND=brand/example-vendor.conf   build for another brand
#   make pack TEST_KEY_DIR=/path/keys           reuse a test key (repro checks)
#   make pack PACK_NAMES=virtio-win             virtio-win folder/file names
#
# The pack holds every driver of DRIVERS that has an INF template.

BRAND ?= brand/default.conf
TEST_KEY_DIR ?=
PACK_NAMES ?= brand

HOSTPROGS += mkcat
mkcat_SRCS   := sign/mkcat.c
mkcat_LDLIBS := -lcrypto

# Deferred (=, and $$ in prerequisites): driver fragments are read after this one.
PACK_DRIVERS = $(filter $(DRIVERS),$(patsubst inf/%.inf.in,%,$(wildcard inf/*.inf.in)))
PACK_SYS     = $(foreach a,$(ARCHES),$(foreach d,$(PACK_DRIVERS),$(O)/$(a)/$(d).sys))
PACK_STAMP   := $(O)/pack.stamp
PACK_VARS    := $(O)/pack.vars
PACK_SCRIPTS := sign/brand.sh sign/mkpack.sh sign/testpki.sh inf/mkinf.sh inf/infcheck.awk

# Rebuild the pack when a setting on the command line changes.
$(PACK_VARS): sign-vars-force
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(BRAND) $(TEST_KEY_DIR) $(PACK_NAMES) $(SOURCE_DATE_EPOCH) $(PACK_DRIVERS) $(ARCHES)' >$@.new
	$(Q)if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi
.PHONY: sign-vars-force
sign-vars-force:

pack: $$(if $$(PACK_DRIVERS),$$(PACK_STAMP))
	$(if $(PACK_DRIVERS),,$(call msg,PACK,skipped: no driver with an INF template))

$(PACK_STAMP): $$(PACK_SYS) $(HOST_BIN)/mkcat $(BRAND) $(PACK_VARS) $(PACK_SCRIPTS) \
		$$(patsubst %,inf/%.inf.in,$$(PACK_DRIVERS))
	$(call msg,PACK,$(O)/pack)
	$(Q)rm -f $@
	$(Q)TEST_KEY_DIR='$(TEST_KEY_DIR)' PACK_NAMES='$(PACK_NAMES)' sign/mkpack.sh $(O) $(BRAND) $(HOST_BIN)/mkcat \
		'$(PACK_DRIVERS)' '$(ARCHES)'
	$(Q)touch $@

CHECKS += pack-brand pack-mkcat pack-sign pack-build
check-pack-brand:
	$(call tap,pack-brand,tests/pack/check-brand.sh)
check-pack-mkcat: $(HOST_BIN)/mkcat $$(firstword $$(PACK_SYS))
	$(call tap,pack-mkcat,tests/pack/check-mkcat.sh $(HOST_BIN)/mkcat $(firstword $(PACK_SYS)))
check-pack-sign: pack $(HOST_BIN)/mkcat
	$(call tap,pack-sign,tests/pack/check-sign.sh $(O) $(HOST_BIN)/mkcat $(PACK_SYS))
check-pack-build: $$(PACK_SYS) $(HOST_BIN)/mkcat
	$(call tap,pack-build,tests/pack/check-pack.sh $(O) $(HOST_BIN)/mkcat '$(PACK_DRIVERS)' '$(ARCHES)')

# Optional MSI installers (needs Debian's wixl, msitools and faketime):
# out/<brand>-drivers-<version>-<arch>.msi.
MSI_STAMP := $(O)/msi.stamp
msi: $(MSI_STAMP)
$(MSI_STAMP): $(PACK_STAMP) sign/mkmsi.sh
	$(call msg,MSI,$(O))
	$(Q)rm -f $@
	$(Q)TEST_KEY_DIR='$(TEST_KEY_DIR)' sign/mkmsi.sh $(O) $(BRAND) '$(ARCHES)'
	$(Q)touch $@
.PHONY: msi

CHECKS += pack-msi
check-pack-msi: pack
	$(call tap,pack-msi,tests/pack/check-msi.sh $(O) $(BRAND) '$(ARCHES)')

# Second-brand leak check: the whole pack for another brand, built into
# $(LEAK_DIR) (kept between runs, so it is rebuilt incrementally), must not
# contain any default-brand string (tests/pack/check-leak.sh).
LEAK_BRAND ?= brand/example-vendor.conf
LEAK_DIR := $(abspath $(O))/leak
CHECKS += pack-leak
check-pack-leak:
	$(call tap,pack-leak,tests/pack/check-leak.sh '$(MAKE)' $(LEAK_DIR) $(LEAK_BRAND))

# virtio-win layout (PACK_NAMES=virtio-win), checked the way virt-v2v looks
# drivers up on an ISO (tests/pack/check-virtio-win.sh).
CHECKS += pack-virtio-win
check-pack-virtio-win: $$(PACK_SYS) $(HOST_BIN)/mkcat
	$(call tap,pack-virtio-win,tests/pack/check-virtio-win.sh $(O) $(HOST_BIN)/mkcat '$(PACK_DRIVERS)' '$(ARCHES)')

# make install and make dist, end to end (tests/pack/check-install.sh,
# tests/pack/check-dist.sh). Both run make again: $(MAKE) marks the recipe.
CHECKS += pack-install pack-dist
check-pack-install: all
	$(call tap,pack-install,tests/pack/check-install.sh '$(MAKE)' $(O))
check-pack-dist:
	$(call tap,pack-dist,tests/pack/check-dist.sh '$(MAKE)' $(O) '$(DRIVERS)')
