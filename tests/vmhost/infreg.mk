# The test host reads registry parameters from the INFs the pack ships
# (tests/vmhost/inf_reg.c). Its unit test also reads the generated x64 INFs
# of the default brand, so a template change that loses a parameter fails.
VMHOST_INF_DIR := $(O)/vmhost/inf
VMHOST_INFS := $(patsubst inf/%.inf.in,$(VMHOST_INF_DIR)/%.inf,$(wildcard inf/*.inf.in))
$(VMHOST_INF_DIR)/%.inf: inf/%.inf.in inf/mkinf.sh brand/default.conf
	$(call msg,MKINF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)inf/mkinf.sh $< brand/default.conf x64 $@

VMHOST_INFREG_UNIT := $(HOST_TESTBIN)/vmhost_infreg
VMHOST_INFREG_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_inf_reg.c tests/vmhost/inf_reg.c)
$(VMHOST_INFREG_UNIT): $(VMHOST_INFREG_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka
-include $(VMHOST_INFREG_OBJS:.o=.d)
vmhost: $(VMHOST_INFREG_UNIT) $(VMHOST_INFS)

CHECKS += vmhost-infreg
check-vmhost-infreg: $(VMHOST_INFREG_UNIT) $(VMHOST_INFS)
	$(call tap,vmhost-infreg,env CMOCKA_MESSAGE_OUTPUT=TAP VDP_VMHOST_INF_DIR=$(VMHOST_INF_DIR) \
		$(VMHOST_INFREG_UNIT))
