/* Unit tests of the INF registry reader (inf_reg.c): syntax, the install
 * chain, bad INFs, and the project's own generated INFs, whose directory
 * VDP_VMHOST_INF_DIR names (x64 INFs of the default brand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inf_reg.h"

static struct infreg reg;
static char err[512];

#define HEAD                                                                                       \
	"[Version]\r\nSignature = \"$WINDOWS NT$\"\r\n"                                            \
	"[Manufacturer]\r\n%Mfg% = Models, NTamd64, NTx86\r\n"                                      \
	"[Models.NTamd64]\r\n%Desc% = inst, PCI\\VEN_1AF4&DEV_1041\r\n"                             \
	"[Models.NTx86]\r\n%Desc% = inst32, PCI\\VEN_1AF4&DEV_1041\r\n"

static bool parse(const char *text, const char *arch)
{
	return infreg_parse(&reg, text, strlen(text), arch, err, sizeof(err));
}

static void test_chain_and_roots(void **state)
{
	const struct infreg_value *v;

	(void)state;
	assert_true(parse(HEAD "[inst]\r\nAddReg = a1, a2\r\n"
			       "[inst.HW]\r\nAddReg = hw\r\n"
			       "[inst.Services]\r\nAddService = svc, 2, svc_inst\r\n"
			       "[svc_inst]\r\nServiceType = 1\r\nAddReg = svc_reg\r\n"
			       "[a1]\r\nHKR, Ndi\\params\\*JumboPacket, Default, 0, \"1514\"\r\n"
			       "[a2]\r\nHKR,, Direct, 0, \"7\"\r\n"
			       "[hw]\r\nHKR, Interrupt Management\\MessageSignaledInterruptProperties, MSISupported, 0x00010001, 1\r\n"
			       "[svc_reg]\r\nHKR, Parameters\\Device, NumQueues, 0x00010001, 0x10\r\n"
			       "[Strings]\r\nMfg = \"M\"\r\nDesc = \"D\"\r\n",
			  "amd64"));
	assert_string_equal(infreg_ndis_param(&reg, "*JumboPacket"), "1514");
	assert_string_equal(infreg_ndis_param(&reg, "*jumbopacket"), "1514"); /* case-insensitive */
	assert_string_equal(infreg_ndis_param(&reg, "Direct"), "7");
	assert_null(infreg_ndis_param(&reg, "Missing"));
	v = infreg_find(&reg, INFREG_SERVICE, "Parameters\\Device", "NumQueues");
	assert_non_null(v);
	assert_int_equal(v->type, INFREG_DWORD);
	assert_int_equal(v->dword, 16);
	v = infreg_find(&reg, INFREG_HARDWARE, "Interrupt Management\\MessageSignaledInterruptProperties",
			"MSISupported");
	assert_non_null(v);
	assert_int_equal(v->dword, 1);
	/* A value is found only under the root that set it. */
	assert_null(infreg_find(&reg, INFREG_DRIVER, "Parameters\\Device", "NumQueues"));
}

static void test_arch_decoration(void **state)
{
	(void)state;
	/* x86 takes Models.NTx86 -> inst32, and inst32.NTx86 over plain inst32. */
	assert_true(parse(HEAD "[inst]\r\nAddReg = a\r\n[inst32]\r\nAddReg = b\r\n"
			       "[inst32.NTx86]\r\nAddReg = c\r\n"
			       "[a]\r\nHKR,, Which, 0, \"amd64\"\r\n[b]\r\nHKR,, Which, 0, \"plain\"\r\n"
			       "[c]\r\nHKR,, Which, 0, \"x86\"\r\n[Strings]\r\nMfg = M\r\nDesc = D\r\n",
			  "x86"));
	assert_string_equal(infreg_ndis_param(&reg, "Which"), "x86");
	assert_true(parse(HEAD "[inst]\r\nAddReg = a\r\n[inst32]\r\n"
			       "[a]\r\nHKR,, Which, 0, \"amd64\"\r\n[Strings]\r\nMfg = M\r\nDesc = D\r\n",
			  "amd64"));
	assert_string_equal(infreg_ndis_param(&reg, "Which"), "amd64");
	assert_false(parse(HEAD "[inst]\r\n", "arm64"));
	assert_non_null(strstr(err, "architecture"));
}

static void test_syntax(void **state)
{
	const struct infreg_value *v;

	(void)state;
	assert_true(parse(HEAD "; comment\r\n[inst]\r\nAddReg = \\\r\n   a ; continued\r\n"
			       "[a]\r\n"
			       "HKR,, Quoted, 0, \"a, b; \"\"c\"\"\"   ; comment\r\n"
			       "HKR,, Str, 0, %Sub%\r\n"
			       "HKR,, Pct, 0x00020000, \"%%SystemRoot%%\\x\"\r\n"
			       "HKR,, Dup, 0, \"first\"\r\n"
			       "HKR,, Dup, 0, \"second\"\r\n"
			       "HKR, Key,, 0x00000010\r\n"
			       "HKLM, Software\\X, Abs, 0, \"ignored\"\r\n"
			       "[Strings]\r\nMfg = M\r\nDesc = D\r\nsub = \"substituted\"\r\n",
			  "amd64"));
	assert_string_equal(infreg_ndis_param(&reg, "Quoted"), "a, b; \"c\"");
	assert_string_equal(infreg_ndis_param(&reg, "Str"), "substituted");
	v = infreg_find(&reg, INFREG_DRIVER, "", "Pct");
	assert_non_null(v);
	assert_int_equal(v->type, INFREG_EXPAND_SZ);
	assert_string_equal(v->data, "%SystemRoot%\\x");
	assert_string_equal(infreg_ndis_param(&reg, "Dup"), "second");
	assert_null(infreg_find(&reg, INFREG_DRIVER, "Key", "")); /* key only: no value */
	assert_null(infreg_ndis_param(&reg, "Abs"));
	assert_int_equal(reg.count, 4);
}

static void test_optional_param(void **state)
{
	(void)state;
	assert_true(parse(HEAD "[inst]\r\nAddReg = a\r\n[a]\r\n"
			       "HKR, Ndi\\params\\NetworkAddress, Default, 0, \"\"\r\n"
			       "HKR, Ndi\\params\\NetworkAddress, Optional, 0, \"1\"\r\n"
			       "HKR, Ndi\\params\\*RSS, Default, 0, \"1\"\r\n"
			       "HKR, Ndi\\params\\*RSS, Optional, 0, \"0\"\r\n"
			       "[Strings]\r\nMfg = M\r\nDesc = D\r\n",
			  "amd64"));
	assert_null(infreg_ndis_param(&reg, "NetworkAddress"));
	assert_string_equal(infreg_ndis_param(&reg, "*RSS"), "1");
}

/* Every malformed INF is refused with a reason naming the problem. */
static void test_bad_infs(void **state)
{
	static const struct {
		const char *text, *reason;
	} bad[] = {
		{ "HKR,, x\r\n", "before the first section" },
		{ "[Version\r\n", "without ']'" },
		{ "[]\r\n", "empty section name" },
		{ "[Version]\r\n", "no [Manufacturer]" },
		{ HEAD "[inst]\r\nAddReg = nowhere\r\n[Strings]\r\nMfg=M\r\nDesc=D\r\n", "[nowhere] does not exist" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0, \"open\r\n", "unterminated" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0, %Nokey%\r\n", "not in [Strings]" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0, 50%\r\n", "unmatched" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0x00010001, many\r\n", "not a number" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0x00400000, 1\r\n", "unknown value type" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, flags, 1\r\n", "not a number" },
		{ HEAD "[inst]\r\nAddReg = a\r\n[a]\r\nHKR\r\n", "AddReg entry needs" },
		{ HEAD "[inst.Services]\r\nAddService = s, 2\r\n[inst]\r\n", "AddService needs" },
		{ HEAD "[inst.Services]\r\nAddService = s, 2, gone\r\n[inst]\r\n", "[gone] does not exist" },
		{ HEAD, "install section [inst] does not exist" },
		{ "[Manufacturer]\r\nM = Models, NTamd64\r\n", "[Models.NTamd64] does not exist" },
		{ "[Manufacturer]\r\nM = Models, NTx86\r\n[Models.NTx86]\r\nD = i, h\r\n", "no models section" },
		{ "[Manufacturer]\r\nM = Models, NTamd64\r\n[Models.NTamd64]\r\nD = i\r\n", "model line needs" },
		{ "[A]\r\nx\0y\r\n", "NUL byte" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i].text);

		if (strstr(bad[i].reason, "NUL"))
			len = 9;
		err[0] = 0;
		if (infreg_parse(&reg, bad[i].text, len, "amd64", err, sizeof(err)))
			fail_msg("case %zu accepted, expected \"%s\"", i, bad[i].reason);
		if (!strstr(err, bad[i].reason))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].reason);
	}
	/* Too many fields, an overlong field: refused, never overflowed. */
	{
		char big[1024];

		snprintf(big, sizeof(big), "%s[inst]\r\nAddReg = a\r\n[a]\r\nHKR,, X, 0, %0400d\r\n", HEAD, 1);
		assert_false(parse(big, "amd64"));
		assert_non_null(strstr(err, "longer than"));
		assert_false(parse(HEAD "[inst]\r\nAddReg = a,b,c,d,e,f,g,h,i\r\n", "amd64"));
		assert_non_null(strstr(err, "more than 8 fields"));
	}
	assert_false(infreg_load(&reg, "/nonexistent/x.inf", "amd64", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.inf"));
}

static const char *inf_dir(void)
{
	const char *d = getenv("VDP_VMHOST_INF_DIR");

	if (!d)
		fail_msg("VDP_VMHOST_INF_DIR is not set (run through make check-vmhost-infreg)");
	return d;
}

static void load_real(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.inf", inf_dir(), name);
	if (!infreg_load(&reg, path, "amd64", err, sizeof(err)))
		fail_msg("%s", err);
}

/* The values the test host hands the drivers come from the INFs we ship. */
static void test_real_net_inf(void **state)
{
	(void)state;
	load_real("vdpnet");
	assert_string_equal(infreg_ndis_param(&reg, "*JumboPacket"), "1514");
	assert_non_null(infreg_ndis_param(&reg, "*RSS"));
	assert_non_null(infreg_ndis_param(&reg, "*NumRssQueues"));
	assert_non_null(infreg_ndis_param(&reg, "*LsoV2IPv4"));
	assert_non_null(infreg_ndis_param(&reg, "*TCPChecksumOffloadIPv4"));
}

static void test_real_blk_inf(void **state)
{
	const struct infreg_value *v;

	(void)state;
	load_real("vdpblk");
	v = infreg_find(&reg, INFREG_SERVICE, "Parameters\\Device", "MaxTransferSize");
	assert_non_null(v);
	assert_int_equal(v->type, INFREG_DWORD);
	assert_int_equal(v->dword, 0x100000);
	assert_non_null(infreg_find(&reg, INFREG_SERVICE, "Parameters\\Device", "NumQueues"));
	v = infreg_find(&reg, INFREG_HARDWARE, "Interrupt Management\\MessageSignaledInterruptProperties",
			"MSISupported");
	assert_non_null(v);
	assert_int_equal(v->dword, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_roots), cmocka_unit_test(test_arch_decoration),
		cmocka_unit_test(test_syntax),          cmocka_unit_test(test_optional_param),
		cmocka_unit_test(test_bad_infs),        cmocka_unit_test(test_real_net_inf),
		cmocka_unit_test(test_real_blk_inf),
	};

	return cmocka_run_group_tests_name("inf_reg", tests, NULL, NULL);
}
