/* Unit tests for src/pvpanic/pvpanic_logic.c: event selection from the
 * supported-events register, including values a broken or absent device reads as. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pvpanic_logic.h"

static void test_valid(void **state)
{
	(void)state;
	assert_false(pvpanic_supported_valid(0));
	assert_false(pvpanic_supported_valid(0xff));     /* floating ISA bus */
	assert_false(pvpanic_supported_valid(0x09));     /* unknown bit 3 */
	assert_true(pvpanic_supported_valid(0x01));
	assert_true(pvpanic_supported_valid(0x03));
	assert_true(pvpanic_supported_valid(0x07));
}

static void test_select(void **state)
{
	(void)state;
	/* QEMU default: PANICKED | CRASH_LOADED. */
	assert_int_equal(pvpanic_select(0x03, true), PVPANIC_CRASH_LOADED);
	assert_int_equal(pvpanic_select(0x03, false), PVPANIC_PANICKED);
	/* Host without CRASH_LOADED. */
	assert_int_equal(pvpanic_select(0x01, true), PVPANIC_PANICKED);
	assert_int_equal(pvpanic_select(0x05, true), PVPANIC_PANICKED);
	/* Only CRASH_LOADED. */
	assert_int_equal(pvpanic_select(0x02, false), PVPANIC_CRASH_LOADED);
	/* Only SHUTDOWN: nothing to report at a bug check. */
	assert_int_equal(pvpanic_select(0x04, true), 0);
	/* Never a bit the device did not offer, never for garbage. */
	assert_int_equal(pvpanic_select(0xff, true), 0);
	assert_int_equal(pvpanic_select(0x00, false), 0);
	assert_int_equal(pvpanic_select(0x83, false), 0);
}

static void test_exhaustive_subset(void **state)
{
	unsigned int v;

	(void)state;
	for (v = 0; v < 256; v++) {
		uint8_t e1 = pvpanic_select((uint8_t)v, true);
		uint8_t e0 = pvpanic_select((uint8_t)v, false);
		uint8_t s = pvpanic_shutdown_event((uint8_t)v);

		/* At most one bit, always one the device supports. */
		assert_true((e1 & (e1 - 1)) == 0 && (e1 & ~v) == 0);
		assert_true((e0 & (e0 - 1)) == 0 && (e0 & ~v) == 0);
		assert_true(s == 0 || s == PVPANIC_SHUTDOWN);
		if (!pvpanic_supported_valid((uint8_t)v))
			assert_true(e0 == 0 && e1 == 0 && s == 0);
	}
}

static void test_shutdown(void **state)
{
	(void)state;
	assert_int_equal(pvpanic_shutdown_event(0x07), PVPANIC_SHUTDOWN);
	assert_int_equal(pvpanic_shutdown_event(0x03), 0);
	assert_int_equal(pvpanic_shutdown_event(0xff), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_exhaustive_subset),
		cmocka_unit_test(test_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
