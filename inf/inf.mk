# INF templates (inf/<driver>.inf.in). They are filled per brand and
# architecture by inf/mkinf.sh while the pack is built (sign/sign.mk); a
# driver joins the pack by having a template here and a DRIVERS entry.
# Checks on the generated INFs: static rules (inf/infcheck.awk) and an
# independent parse with setupapi under Wine (inf/infparse.c).

INF_TEMPLATES := $(wildcard inf/*.inf.in)
INFPARSE := $(O)/x64/tools/infparse.exe

$(INFPARSE): inf/infparse.c
	$(call msg,UCC.x64,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(TRIPLET_x64)-gcc $(UCFLAGS) -municode -o $@ $< -lsetupapi -Wl,--no-insert-timestamp

CHECKS += pack-inf pack-wine-inf
check-pack-inf: pack
	$(call tap,pack-inf,tests/pack/check-inf.sh $(O)/pack)
check-pack-wine-inf: pack $(INFPARSE) $(WINE_READY)
	$(call tap,pack-wine-inf,tests/pack/check-wine-inf.sh $(O)/pack $(INFPARSE) $(WINE))

# Bad templates: one error naming the template line, and no partial pack.
CHECKS += pack-template
check-pack-template: $$(firstword $$(PACK_SYS)) $(HOST_BIN)/mkcat
	$(call tap,pack-template,tests/pack/check-template.sh $(HOST_BIN)/mkcat $(firstword $(PACK_SYS)))
