/*
 * The subset of the cmocka API that the unit tests use, for the mingw-w64
 * build that runs under Wine (Debian ships cmocka for the host only).
 * Output is TAP, like cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, so both builds
 * are counted the same way by `make check`.
 */
#ifndef VDP_CMOCKA_COMPAT_H
#define VDP_CMOCKA_COMPAT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
	const char *name;
	CMUnitTestFunction test_func;
	CMFixtureFunction setup_func;
	CMFixtureFunction teardown_func;
	void *initial_state;
};

#define cmocka_unit_test(f) { #f, f, NULL, NULL, NULL }
#define cmocka_unit_test_setup(f, s) { #f, f, s, NULL, NULL }
#define cmocka_unit_test_teardown(f, t) { #f, f, NULL, t, NULL }
#define cmocka_unit_test_setup_teardown(f, s, t) { #f, f, s, t, NULL }
#define cmocka_unit_test_prestate(f, p) { #f, f, NULL, NULL, p }
#define cmocka_unit_test_prestate_setup_teardown(f, s, t, p) { #f, f, s, t, p }

static jmp_buf cm_compat_jmp;
static int cm_compat_skipped;

static inline void cm_compat_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(gnu_printf, 3, 4)));

static inline void cm_compat_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	longjmp(cm_compat_jmp, 1);
}

#define CM_FAIL(...) cm_compat_fail(__FILE__, __LINE__, __VA_ARGS__)

#define fail() CM_FAIL("fail()")
#define fail_msg(...) CM_FAIL(__VA_ARGS__)
#define skip() do { cm_compat_skipped = 1; longjmp(cm_compat_jmp, 1); } while (0)
#define print_message(...) printf(__VA_ARGS__)
#define print_error(...) printf(__VA_ARGS__)

#define assert_true(c) \
	do { if (!(c)) CM_FAIL("%s is not true", #c); } while (0)
#define assert_false(c) \
	do { if (c) CM_FAIL("%s is not false", #c); } while (0)
#define assert_null(p) \
	do { if ((p) != NULL) CM_FAIL("%s is not NULL", #p); } while (0)
#define assert_non_null(p) \
	do { if ((p) == NULL) CM_FAIL("%s is NULL", #p); } while (0)
#define assert_ptr_equal(a, b) \
	do { const void *a_ = (a), *b_ = (b); \
	     if (a_ != b_) CM_FAIL("%p != %p", a_, b_); } while (0)
#define assert_ptr_not_equal(a, b) \
	do { const void *a_ = (a), *b_ = (b); \
	     if (a_ == b_) CM_FAIL("%p == %p", a_, b_); } while (0)
#define assert_int_equal(a, b) \
	do { intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b); \
	     if (a_ != b_) CM_FAIL("%jd != %jd (%s, %s)", a_, b_, #a, #b); } while (0)
#define assert_int_not_equal(a, b) \
	do { intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b); \
	     if (a_ == b_) CM_FAIL("%jd == %jd (%s, %s)", a_, b_, #a, #b); } while (0)
#define assert_uint_equal(a, b) \
	do { uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b); \
	     if (a_ != b_) CM_FAIL("%ju != %ju (%s, %s)", a_, b_, #a, #b); } while (0)
#define assert_in_range(v, lo, hi) \
	do { uintmax_t v_ = (uintmax_t)(v); \
	     if (v_ < (uintmax_t)(lo) || v_ > (uintmax_t)(hi)) \
		CM_FAIL("%ju is not in [%ju, %ju]", v_, (uintmax_t)(lo), (uintmax_t)(hi)); \
	} while (0)
#define assert_not_in_range(v, lo, hi) \
	do { uintmax_t v_ = (uintmax_t)(v); \
	     if (v_ >= (uintmax_t)(lo) && v_ <= (uintmax_t)(hi)) \
		CM_FAIL("%ju is in [%ju, %ju]", v_, (uintmax_t)(lo), (uintmax_t)(hi)); \
	} while (0)
#define assert_return_code(rc, err) \
	do { intmax_t rc_ = (intmax_t)(rc); \
	     if (rc_ < 0) CM_FAIL("%s returned %jd (error %d)", #rc, rc_, (int)(err)); } while (0)
#define assert_memory_equal(a, b, n) \
	do { if (memcmp((a), (b), (n)) != 0) CM_FAIL("memory differs: %s, %s", #a, #b); } while (0)
#define assert_memory_not_equal(a, b, n) \
	do { if (memcmp((a), (b), (n)) == 0) CM_FAIL("memory equal: %s, %s", #a, #b); } while (0)
#define assert_string_equal(a, b) \
	do { const char *a_ = (a), *b_ = (b); \
	     if (strcmp(a_, b_) != 0) CM_FAIL("\"%s\" != \"%s\"", a_, b_); } while (0)
#define assert_string_not_equal(a, b) \
	do { const char *a_ = (a), *b_ = (b); \
	     if (strcmp(a_, b_) == 0) CM_FAIL("\"%s\" == \"%s\"", a_, b_); } while (0)

static inline int cm_compat_run(const char *group, const struct CMUnitTest *t,
				size_t n, CMFixtureFunction setup,
				CMFixtureFunction teardown)
{
	void *group_state = NULL;
	volatile int failed = 0;
	size_t i;

	printf("1..%u\n", (unsigned)n);
	if (setup != NULL && setup(&group_state) != 0) {
		for (i = 0; i < n; i++)
			printf("not ok %u - %s (group setup of %s failed)\n",
			       (unsigned)(i + 1), t[i].name, group);
		return (int)n;
	}
	for (i = 0; i < n; i++) {
		void *state = t[i].initial_state ? t[i].initial_state : group_state;
		volatile int ok = 1;

		cm_compat_skipped = 0;
		if (t[i].setup_func != NULL && t[i].setup_func(&state) != 0) {
			ok = 0;
		} else if (setjmp(cm_compat_jmp) == 0) {
			t[i].test_func(&state);
		} else {
			ok = cm_compat_skipped;
		}
		if (t[i].teardown_func != NULL && t[i].teardown_func(&state) != 0)
			ok = 0;
		if (cm_compat_skipped)
			printf("ok %u # SKIP %s\n", (unsigned)(i + 1), t[i].name);
		else
			printf("%s %u - %s\n", ok ? "ok" : "not ok", (unsigned)(i + 1), t[i].name);
		failed += !ok;
	}
	if (teardown != NULL)
		teardown(&group_state);
	fflush(stdout);
	return failed;
}

#define cmocka_run_group_tests(tests, setup, teardown) \
	cm_compat_run(#tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)
#define cmocka_run_group_tests_name(name, tests, setup, teardown) \
	cm_compat_run(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

#endif
