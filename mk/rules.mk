# Rule templates: turn the declarations of the fragments (see HACKING.md)
# into build rules. Included last by the top-level Makefile.

# Object path for a source: out/<arch>/obj/<path>.o (and .d beside it).
k_obj = $(patsubst %.c,$(O)/$(1)/obj/%.o,$(patsubst %.S,$(O)/$(1)/obj/%.o,$(2)))
u_obj = $(patsubst %.c,$(O)/$(1)/uobj/%.o,$(2))
h_obj = $(patsubst %.c,$(HOST_OBJ)/%.o,$(2))

DEPFLAGS = -MMD -MP

# ---------------------------------------------------------------- per arch
define arch_rules # $(1) = arch
CC_$(1)      := $(TRIPLET_$(1))-gcc
AR_$(1)      := $(TRIPLET_$(1))-ar
DLLTOOL_$(1) := $(TRIPLET_$(1))-dlltool
WINDRES_$(1) := $(TRIPLET_$(1))-windres

$(O)/$(1)/obj/%.o: %.c
	$$(call msg,CC.$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(CC_$(1)) $(DEPFLAGS) $(KCFLAGS) $(KCFLAGS_$(1)) $$(EXTRA_CFLAGS) \
		-isystem /usr/$(TRIPLET_$(1))/include/ddk -c $$< -o $$@

$(O)/$(1)/uobj/%.o: %.c
	$$(call msg,UCC.$(1),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(CC_$(1)) $(DEPFLAGS) $(UCFLAGS) $$(EXTRA_CFLAGS) -c $$< -o $$@

# Import libraries for kernel modules mingw does not ship.
$(O)/$(1)/lib/lib%.a: include/lib/%-$(1).def
	$$(call msg,DLLTOOL,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(DLLTOOL_$(1)) -d $$< -l $$@ $(DLLTOOL_FLAGS_$(1)) --deterministic-libraries
endef

DLLTOOL_FLAGS_x64 := -m i386:x86-64 --no-leading-underscore
# x86: the .def carries stdcall @N decorations; -k strips them from the
# imported name, because the kernel modules export undecorated names.
DLLTOOL_FLAGS_x86 := -m i386 -k

$(foreach a,$(ARCHES),$(eval $(call arch_rules,$(a))))

# Project import libraries available for <driver>_IMPORTS.
DEF_MODULES := $(sort $(patsubst include/lib/%-x64.def,%,$(wildcard include/lib/*-x64.def)))

# ---------------------------------------------------------------- libraries
define winlib_rules # $(1) = lib, $(2) = arch
$(1)_OBJS_$(2) := $(call k_obj,$(2),$($(1)_SRCS))
$$($(1)_OBJS_$(2)): EXTRA_CFLAGS := $($(1)_CFLAGS)
$(O)/$(2)/lib/lib$(1).a: $$($(1)_OBJS_$(2))
	$$(call msg,AR.$(2),$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)rm -f $$@ && $$(AR_$(2)) rcsD $$@ $$^
-include $$($(1)_OBJS_$(2):.o=.d)
endef
$(foreach l,$(WINLIBS),$(foreach a,$(ARCHES),$(eval $(call winlib_rules,$(l),$(a)))))

define hostlib_rules # $(1) = lib
$(1)_OBJS_host := $(call h_obj,,$($(1)_SRCS))
$$($(1)_OBJS_host): EXTRA_CFLAGS := $($(1)_CFLAGS)
$(HOST_LIB)/lib$(1).a: $$($(1)_OBJS_host)
	$$(call msg,AR,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)rm -f $$@ && ar rcsD $$@ $$^
-include $$($(1)_OBJS_host:.o=.d)
endef
$(foreach l,$(HOSTLIBS),$(eval $(call hostlib_rules,$(l))))

$(HOST_OBJ)/%.o: %.c
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(DEPFLAGS) $(HOSTCFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

# ---------------------------------------------------------------- drivers
# Link to <name>.sys.raw, then the post-link fixup (INIT discardable,
# checksum) writes <name>.sys. Signing happens later, in the pack.
define driver_rules # $(1) = driver, $(2) = arch
$(1)_OBJS_$(2) := $(call k_obj,$(2),$($(1)_SRCS))
$$($(1)_OBJS_$(2)): EXTRA_CFLAGS := $($(1)_CFLAGS) -include $(O)/res/brand.h
$(1)_DEPLIBS_$(2) := $(foreach l,$($(1)_LIBS),$(O)/$(2)/lib/lib$(l).a) \
	$(foreach m,$(filter $(DEF_MODULES),$($(1)_IMPORTS)),$(O)/$(2)/lib/lib$(m).a)
# Brand hook (res/res.mk): the version resource is linked into every driver,
# and brand.h exists before any driver object is compiled.
$$($(1)_OBJS_$(2)): | $(O)/res/brand.h
$(O)/$(2)/$(1).sys: $$($(1)_OBJS_$(2)) $(O)/$(2)/res/$(1).res.o $$($(1)_DEPLIBS_$(2)) $(HOST_BIN)/pefixup
	$$(call msg,LD.$(2),$$@)
	$(Q)$$(CC_$(2)) -o $$@.raw $$($(1)_OBJS_$(2)) $(O)/$(2)/res/$(1).res.o $(KLDFLAGS) $(KLDFLAGS_$(2)) \
		$(if $(filter wdm,$($(1)_TYPE)),$$(KLDFLAGS_wdm)) \
		-L$(O)/$(2)/lib $(addprefix -l,$($(1)_LIBS)) \
		$(addprefix -l,$($(1)_IMPORTS)) -lgcc
	$(Q)$(HOST_BIN)/pefixup $$@.raw $$@
	$(Q)rm -f $$@.raw
-include $$($(1)_OBJS_$(2):.o=.d)
endef
$(foreach d,$(DRIVERS),$(foreach a,$(ARCHES),$(eval $(call driver_rules,$(d),$(a)))))

ALL_SYS := $(foreach a,$(ARCHES),$(foreach d,$(DRIVERS),$(O)/$(a)/$(d).sys))
drivers: $(ALL_SYS)

# ---------------------------------------------------------------- host programs and tests
define hostprog_rules # $(1) = program, $(2) = output dir, $(3) = extra libs
$(1)_OBJS_host := $(call h_obj,,$($(1)_SRCS))
$$($(1)_OBJS_host): EXTRA_CFLAGS := $($(1)_CFLAGS)
$$($(1)_OBJS_host): | $(O)/res/brand.h
$(2)/$(1): $$($(1)_OBJS_host) $(foreach l,$($(1)_LIBS),$(HOST_LIB)/lib$(l).a)
	$$(call msg,HOSTLD,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $$@ $$($(1)_OBJS_host) \
		-L$(HOST_LIB) $(addprefix -l,$($(1)_LIBS)) $($(1)_LDLIBS) $(3)
-include $$($(1)_OBJS_host:.o=.d)
endef
$(foreach p,$(HOSTPROGS),$(eval $(call hostprog_rules,$(p),$(HOST_BIN),)))
$(foreach t,$(HOSTTESTS),$(eval $(call hostprog_rules,$(t),$(HOST_TESTBIN),-lcmocka)))

# Unit tests under Wine: the test and the sources of the libraries it uses,
# all built as a user-mode x64 console program against tests/unit/compat.
define winetest_rules # $(1) = test
$(1)_WOBJS := $(call u_obj,x64,$($(1)_SRCS) $(foreach l,$($(1)_LIBS),$($(l)_SRCS)))
$$($(1)_WOBJS): EXTRA_CFLAGS := -Itests/unit/compat $($(1)_CFLAGS)
$$($(1)_WOBJS): | $(O)/res/brand.h
$(O)/x64/tests/$(1).exe: $$($(1)_WOBJS)
	$$(call msg,LD.x64,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$(CC_x64) -o $$@ $$^ -Wl,--no-insert-timestamp
-include $$($(1)_WOBJS:.o=.d)
endef
$(foreach t,$(WINETESTS),$(eval $(call winetest_rules,$(t))))

# Every unit test is a check of its own.
define unitcheck_rules # $(1) = test
CHECKS += unit-$(1)
check-unit-$(1): $(HOST_TESTBIN)/$(1)
	$$(call tap,unit-$(1),env CMOCKA_MESSAGE_OUTPUT=TAP $(HOST_TESTBIN)/$(1))
endef
$(foreach t,$(HOSTTESTS),$(eval $(call unitcheck_rules,$(t))))

define winecheck_rules # $(1) = test
CHECKS += wine-$(1)
check-wine-$(1): $(O)/x64/tests/$(1).exe $(WINE_READY)
	$$(call tap,wine-$(1),$(WINE) $(O)/x64/tests/$(1).exe)
endef
$(foreach t,$(WINETESTS),$(eval $(call winecheck_rules,$(t))))

check: $(addprefix check-,$(CHECKS))
	$(Q)mk/tap-summary.sh $(CHECK_DIR) $(addsuffix .tap,$(addprefix $(CHECK_DIR)/,$(CHECKS)))

.PHONY: $(addprefix check-,$(CHECKS))
