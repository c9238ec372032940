# Test plumbing shared by every fragment (see HACKING.md, "Tests and results").

# $(call tap,NAME,COMMAND): run COMMAND, keep its TAP output in
# $(CHECK_DIR)/NAME.tap and its full output in NAME.log. A non-zero exit or
# an output without any TAP result adds a "not ok", so a crash never passes.
tap = $(Q)mk/tap-run.sh $(CHECK_DIR) $(1) $(2)
# make splits $(call) arguments at commas: write $(comma) inside COMMAND.
comma := ,

# Wine, headless, with a prefix of our own under out/.
WINEPREFIX_DIR := $(abspath $(O))/wine
WINE := mk/wine-run.sh $(WINEPREFIX_DIR)
WINE_READY := $(O)/wine/.ready
$(WINE_READY):
	$(call msg,WINEBOOT,$(WINEPREFIX_DIR))
	$(Q)mkdir -p $(WINEPREFIX_DIR)
	$(Q)$(WINE) wineboot -i >$(O)/wine/wineboot.log 2>&1 || { cat $(O)/wine/wineboot.log; exit 1; }
	$(Q)touch $@
