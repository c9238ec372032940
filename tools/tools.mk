# Host build tools: the post-link fixup every driver goes through, and the
# image check `make check` runs on every built driver.
HOSTPROGS += pefixup pecheck
pefixup_SRCS := tools/pefixup.c tools/pe.c
pecheck_SRCS := tools/pecheck.c tools/pe.c

CHECKS += pecheck
check-pecheck: $$(ALL_SYS) $(HOST_BIN)/pecheck
	$(call tap,pecheck,$(HOST_BIN)/pecheck $(ALL_SYS))
