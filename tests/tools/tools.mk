# The build tools' own tests: pecheck must catch what it claims to catch.
CHECKS += pecheck-selftest
check-pecheck-selftest: $(O)/x64/vdprng.sys $(HOST_BIN)/pecheck
	$(call tap,pecheck-selftest,tests/tools/pecheck-selftest.sh $(HOST_BIN)/pecheck $(O)/x64/vdprng.sys)
