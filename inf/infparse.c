/*
 * infparse: parse driver INFs with the Windows setup API (run under Wine in
 * `make check`), as an independent check of the INFs the build generates.
 *
 *   infparse.exe FILE.inf...
 *
 * Prints one TAP line per INF. It checks what setupapi itself sees: the file
 * opens as a Windows NT INF, [Version] carries the entries Windows needs
 * (with %strings% resolved), and the chain Manufacturer -> models ->
 * install -> .Services -> service section resolves to existing sections.
 */
#include <windows.h>
#include <setupapi.h>
#include <stdio.h>
#include <wchar.h>

#define INFP_MAX 512

static int infp_failed;

/* First problem of the current INF; later ones add nothing useful. */
static wchar_t infp_reason[1024];

static void infp_fail(const wchar_t *fmt, const wchar_t *a, const wchar_t *b)
{
	if (infp_reason[0] == 0)
		_snwprintf(infp_reason, sizeof(infp_reason) / sizeof(wchar_t) - 1, fmt, a, b);
}

static int infp_field(INFCONTEXT *ctx, DWORD idx, wchar_t *buf)
{
	DWORD need = 0;

	buf[0] = 0;
	return SetupGetStringFieldW(ctx, idx, buf, INFP_MAX, &need) ? 1 : 0;
}

static int infp_value(HINF inf, const wchar_t *sec, const wchar_t *key, wchar_t *buf)
{
	INFCONTEXT ctx;

	if (!SetupFindFirstLineW(inf, sec, key, &ctx) || !infp_field(&ctx, 1, buf) || buf[0] == 0) {
		infp_fail(L"[%ls] has no %ls", sec, key);
		return 0;
	}
	return 1;
}

static int infp_has_section(HINF inf, const wchar_t *sec)
{
	INFCONTEXT ctx;

	if (SetupGetLineCountW(inf, sec) > 0 || SetupFindFirstLineW(inf, sec, NULL, &ctx))
		return 1;
	infp_fail(L"section [%ls] is missing or empty%ls", sec, L"");
	return 0;
}

static void infp_check_install(HINF inf, const wchar_t *inst)
{
	wchar_t services[INFP_MAX + 16], svcsec[INFP_MAX], bin[INFP_MAX];
	INFCONTEXT ctx;

	if (!infp_has_section(inf, inst))
		return;
	_snwprintf(services, sizeof(services) / sizeof(wchar_t) - 1, L"%ls.Services", inst);
	services[sizeof(services) / sizeof(wchar_t) - 1] = 0;
	if (!SetupFindFirstLineW(inf, services, L"AddService", &ctx)) {
		infp_fail(L"[%ls] has no AddService%ls", services, L"");
		return;
	}
	if (!infp_field(&ctx, 3, svcsec) || svcsec[0] == 0) {
		infp_fail(L"[%ls] AddService has no service-install section%ls", services, L"");
		return;
	}
	if (infp_has_section(inf, svcsec))
		infp_value(inf, svcsec, L"ServiceBinary", bin);
}

static void infp_check(const wchar_t *path)
{
	wchar_t full[INFP_MAX], buf[INFP_MAX], models[INFP_MAX], sec[2 * INFP_MAX], inst[INFP_MAX], hwid[INFP_MAX];
	UINT errline = 0;
	INFCONTEXT mctx, ctx;
	HINF inf;
	DWORD i, n, nmodels = 0;

	infp_reason[0] = 0;
	/* A bare file name would be looked up in %windir%\inf, not here. */
	if (GetFullPathNameW(path, INFP_MAX, full, NULL) - 1 >= INFP_MAX - 1) {
		infp_failed = 1;
		wprintf(L"not ok - %ls: path too long\n", path);
		return;
	}
	inf = SetupOpenInfFileW(full, NULL, INF_STYLE_WIN4, &errline);
	if (inf == INVALID_HANDLE_VALUE) {
		wchar_t where[64];

		_snwprintf(where, 63, L"error 0x%08lx at line %u", (unsigned long)GetLastError(), errline);
		where[63] = 0;
		infp_fail(L"setupapi cannot open it: %ls%ls", where, L"");
	} else {
		if (infp_value(inf, L"Version", L"Signature", buf) && _wcsicmp(buf, L"$WINDOWS NT$") != 0)
			infp_fail(L"Signature is %ls%ls", buf, L"");
		infp_value(inf, L"Version", L"Class", buf);
		infp_value(inf, L"Version", L"ClassGuid", buf);
		if (infp_value(inf, L"Version", L"Provider", buf) && buf[0] == L'%')
			infp_fail(L"Provider string %ls is not resolved%ls", buf, L"");
		infp_value(inf, L"Version", L"DriverVer", buf);
		infp_value(inf, L"Version", L"CatalogFile", buf);
		infp_value(inf, L"Version", L"PnpLockdown", buf);
		if (!SetupFindFirstLineW(inf, L"Manufacturer", NULL, &mctx))
			infp_fail(L"no [Manufacturer] entries%ls%ls", L"", L"");
		else do {
			if (!infp_field(&mctx, 1, models) || models[0] == 0) {
				infp_fail(L"Manufacturer entry without a models section%ls%ls", L"", L"");
				continue;
			}
			n = SetupGetFieldCount(&mctx);
			/* Undecorated only if no decoration is given. */
			for (i = (n > 1 ? 2 : 1); i <= n; i++) {
				if (i >= 2) {
					infp_field(&mctx, i, buf);
					_snwprintf(sec, sizeof(sec) / sizeof(wchar_t) - 1, L"%ls.%ls", models, buf);
				} else {
					_snwprintf(sec, sizeof(sec) / sizeof(wchar_t) - 1, L"%ls", models);
				}
				sec[sizeof(sec) / sizeof(wchar_t) - 1] = 0;
				if (!SetupFindFirstLineW(inf, sec, NULL, &ctx)) {
					infp_fail(L"models section [%ls] is missing or empty%ls", sec, L"");
					continue;
				}
				do {
					nmodels++;
					if (!infp_field(&ctx, 1, inst) || !infp_field(&ctx, 2, hwid) || inst[0] == 0 || hwid[0] == 0)
						infp_fail(L"[%ls] has a model line without install section or hardware ID%ls", sec, L"");
					else
						infp_check_install(inf, inst);
				} while (SetupFindNextLine(&ctx, &ctx));
			}
		} while (SetupFindNextLine(&mctx, &mctx));
		SetupCloseInfFile(inf);
	}
	if (infp_reason[0]) {
		infp_failed = 1;
		wprintf(L"not ok - %ls: %ls\n", path, infp_reason);
	} else {
		wprintf(L"ok - %ls (%lu models)\n", path, (unsigned long)nmodels);
	}
}

int wmain(int argc, wchar_t **argv);
int wmain(int argc, wchar_t **argv)
{
	int i;

	if (argc < 2) {
		fwprintf(stderr, L"usage: infparse FILE.inf...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		infp_check(argv[i]);
	fflush(stdout);
	return infp_failed;
}
