/*
 * pecheck [--allow MOD,MOD...] FILE...: checks that each kernel driver image
 * is one Windows will load and that HVCI accepts. Prints one TAP result per
 * property per file; exits 1 if any fails.
 */
#include "pe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *default_allow = "ntoskrnl.exe,hal.dll,storport.sys,ndis.sys,wmilib.sys";
static unsigned test_no;
static int failures;

static void result(int ok, const char *file, const char *what, const char *why)
{
	printf("%s %u - %s: %s%s%s\n", ok ? "ok" : "not ok", ++test_no, file, what,
	       ok ? "" : ": ", ok ? "" : why);
	failures += !ok;
}

struct import_ctx {
	const char *allow;
	char bad[256];
};

static int allowed(const char *list, const char *mod)
{
	size_t n = strlen(mod);
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && strncasecmp(p, mod, n) == 0)
			return 1;
		p += len + (e != NULL);
	}
	return 0;
}

static int check_import(const char *mod, void *arg)
{
	struct import_ctx *c = arg;

	if (!allowed(c->allow, mod)) {
		snprintf(c->bad, sizeof(c->bad), "imports from %s", mod);
		return 1;
	}
	return 0;
}

static void check_file(const char *path, const char *allow)
{
	struct import_ctx ictx = { allow, "" };
	char err[256], why[256];
	struct pe_image pe;
	const struct pe_section *entry_sec = NULL;
	uint32_t sum, stored;
	uint8_t *data;
	size_t size;
	unsigned i;
	int ok, rc;

	data = pe_read_file(path, &size, err, sizeof(err));
	if (data == NULL || pe_parse(&pe, data, size, err, sizeof(err)) != 0) {
		result(0, path, "well-formed PE image", err);
		free(data);
		return;
	}
	result(1, path, "well-formed PE image", "");

	snprintf(why, sizeof(why), "subsystem is %u", pe.subsystem);
	result(pe.subsystem == PE_SUBSYSTEM_NATIVE, path, "native subsystem", why);

	sum = pe_checksum(&pe);
	stored = pe_stored_checksum(&pe);
	snprintf(why, sizeof(why), "stored 0x%08x, computed 0x%08x", stored, sum);
	result(stored != 0 && stored == sum, path, "valid checksum", why);

	ok = 1;
	for (i = 0; i < pe.nsections; i++) {
		const struct pe_section *s = &pe.sections[i];

		if ((s->characteristics & PE_SCN_MEM_WRITE) &&
		    (s->characteristics & (PE_SCN_MEM_EXECUTE | PE_SCN_CNT_CODE))) {
			snprintf(why, sizeof(why), "section %s is writable and executable", s->name);
			ok = 0;
		}
		if (strcmp(s->name, "INIT") == 0 && !(s->characteristics & PE_SCN_MEM_DISCARDABLE)) {
			snprintf(why, sizeof(why), "INIT is not discardable");
			ok = 0;
		}
		if (pe.entry_rva >= s->virtual_address &&
		    pe.entry_rva < s->virtual_address + s->virtual_size)
			entry_sec = s;
	}
	result(ok, path, "section flags (no W+X, INIT discardable)", why);

	snprintf(why, sizeof(why), "entry point 0x%x is not in executable code", pe.entry_rva);
	result(pe.entry_rva != 0 && entry_sec != NULL &&
	       (entry_sec->characteristics & PE_SCN_MEM_EXECUTE), path, "entry point", why);

	snprintf(why, sizeof(why), "DllCharacteristics 0x%04x lacks NX_COMPAT or DYNAMIC_BASE",
		 pe.dll_characteristics);
	result((pe.dll_characteristics & (PE_DLLCHAR_NX_COMPAT | PE_DLLCHAR_DYNAMIC_BASE)) ==
	       (PE_DLLCHAR_NX_COMPAT | PE_DLLCHAR_DYNAMIC_BASE), path, "NX and ASLR", why);

	snprintf(why, sizeof(why), "TimeDateStamp is 0x%08x", pe.timestamp);
	result(pe.timestamp == 0, path, "no timestamp", why);

	rc = pe_for_each_import(&pe, check_import, &ictx, err, sizeof(err));
	result(rc == 0, path, "imports only kernel modules", rc < 0 ? err : ictx.bad);

	pe_free(&pe);
	free(data);
}

int main(int argc, char **argv)
{
	const char *allow = default_allow;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--allow") == 0) {
		allow = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pecheck [--allow MOD,...] FILE...\n");
		return 2;
	}
	for (; i < argc; i++)
		check_file(argv[i], allow);
	printf("1..%u\n", test_no);
	return failures ? 1 : 0;
}
