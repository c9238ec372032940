# Brand-derived driver sources (res/README.md): every driver links
# $(O)/<arch>/res/<driver>.res.o, its VERSIONINFO built by windres from
# $(O)/res/<driver>.rc; $(O)/res/brand.h gives drivers the brand strings as
# VDP_BRAND_* macros. Both come from res/mkres.sh and depend on the brand file
# only, so the drivers stay bit-reproducible.

RES_DIR  := $(O)/res
RES_VARS := $(RES_DIR)/brand.vars
BRAND_H  := $(RES_DIR)/brand.h
RES_DEPS := $(RES_VARS) $(BRAND) res/mkres.sh sign/brand.sh

# A different BRAND= (or driver list) regenerates everything even when the
# new brand file is older than the outputs. DRIVERS is complete by the time
# recipes run.
$(RES_VARS): res-vars-force
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(BRAND) $(DRIVERS)' >$@.new
	$(Q)if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi
.PHONY: res-vars-force
res-vars-force:

# mkres.sh writes every file but only replaces those whose content changed.
$(RES_DIR)/%.rc: $(RES_DEPS)
	$(call msg,GEN,$@)
	$(Q)res/mkres.sh $(BRAND) $(RES_DIR) '$(DRIVERS)'
	$(Q)test -f $@ || { echo "res: $@ not generated (is $* in DRIVERS?)" >&2; exit 1; }
$(BRAND_H): $(RES_DEPS)
	$(call msg,GEN,$@)
	$(Q)res/mkres.sh $(BRAND) $(RES_DIR) '$(DRIVERS)'

WINDRES_FMT_x64 := pe-x86-64
WINDRES_FMT_x86 := pe-i386
define res_rules # $(1) = arch
$(O)/$(1)/res/%.res.o: $(RES_DIR)/%.rc
	$$(call msg,RC.$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$(TRIPLET_$(1))-windres -F $(WINDRES_FMT_$(1)) -i $$< -o $$@
endef
$(foreach a,$(ARCHES),$(eval $(call res_rules,$(a))))
.PRECIOUS: $(RES_DIR)/%.rc $(O)/%.res.o

HOSTPROGS += resdump
resdump_SRCS := res/resdump.c tools/pe.c

CHECKS += pack-res
check-pack-res: $$(ALL_SYS) $(HOST_BIN)/resdump
	$(call tap,pack-res,tests/pack/check-res.sh $(HOST_BIN)/resdump $(BRAND) '$(DRIVERS)' $(ALL_SYS))
