/* Unit tests for src/rng/rng_logic.c (vdprng buffer accounting) and the
 * portable WDM glue helpers it depends on (src/wdm/vwdm_pci.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rng_logic.h"
#include "vwdm_pci.h"

static void test_post_complete_take(void **state)
{
	struct rng_state st;
	uint32_t len, off, n;

	(void)state;
	rng_init(&st, RNG_BUF_SIZE);
	assert_true(rng_need_post(&st));
	assert_int_equal(rng_post(&st, &len), RNG_OK);
	assert_int_equal(len, RNG_BUF_SIZE);
	assert_false(rng_need_post(&st));
	assert_int_equal(rng_post(&st, &len), RNG_EBUSY);
	/* Nothing to read while the device owns the buffer. */
	assert_int_equal(rng_take(&st, 16, &off), 0);
	assert_int_equal(rng_complete(&st, 100), RNG_OK);
	n = rng_take(&st, 60, &off);
	assert_int_equal(n, 60);
	assert_int_equal(off, 0);
	/* Data still there: no repost, and each byte goes out once. */
	assert_false(rng_need_post(&st));
	n = rng_take(&st, 60, &off);
	assert_int_equal(n, 40);
	assert_int_equal(off, 60);
	assert_int_equal(rng_take(&st, 60, &off), 0);
	assert_true(rng_need_post(&st));
	assert_int_equal(st.delivered, 100);
}

static void test_oversized_used_len(void **state)
{
	struct rng_state st;
	uint32_t len, off;

	(void)state;
	rng_init(&st, 512);
	assert_int_equal(rng_post(&st, &len), RNG_OK);
	assert_int_equal(rng_complete(&st, 513), RNG_OK);
	assert_int_equal(st.bad, 1);
	assert_int_equal(rng_take(&st, 512, &off), 0);
	assert_true(rng_need_post(&st));
}

static void test_unsolicited_completion(void **state)
{
	struct rng_state st;

	(void)state;
	rng_init(&st, 512);
	assert_int_equal(rng_complete(&st, 10), RNG_EINVAL);
	assert_int_equal(st.avail, 0);
}

static void test_empty_device_fails_eventually(void **state)
{
	struct rng_state st;
	uint32_t len, i;
	int rc = RNG_OK;

	(void)state;
	rng_init(&st, 512);
	for (i = 0; i < RNG_MAX_EMPTY; i++) {
		assert_int_equal(rng_post(&st, &len), RNG_OK);
		rc = rng_complete(&st, 0);
		if (i + 1 < RNG_MAX_EMPTY)
			assert_int_equal(rc, RNG_OK);
	}
	assert_int_equal(rc, RNG_EDEVICE);
	/* A good completion resets the run. */
	assert_int_equal(rng_post(&st, &len), RNG_OK);
	assert_int_equal(rng_complete(&st, 0), RNG_OK);
	assert_int_equal(rng_post(&st, &len), RNG_OK);
	assert_int_equal(rng_complete(&st, 1), RNG_OK);
	assert_int_equal(st.empty_run, 0);
}

static void test_read_len_bounded(void **state)
{
	(void)state;
	assert_int_equal(rng_read_len(0), 0);
	assert_int_equal(rng_read_len(17), 17);
	assert_int_equal(rng_read_len(0xffffffffu), RNG_MAX_READ);
}

static void test_reset(void **state)
{
	struct rng_state st;
	uint32_t len;

	(void)state;
	rng_init(&st, 512);
	assert_int_equal(rng_post(&st, &len), RNG_OK);
	rng_reset(&st);
	assert_true(rng_need_post(&st));
	/* The completion of the forgotten buffer is refused. */
	assert_int_equal(rng_complete(&st, 12), RNG_EINVAL);
}

static void test_wdm_bars(void **state)
{
	struct vwdm_bar_decode d[VWDM_NUM_BARS];
	/* BAR0 I/O 0xc040, BAR1 mem32 0xfebd1000, BAR4/5 mem64 0x1_fe000000. */
	const uint32_t regs[VWDM_NUM_BARS] = { 0xc041, 0xfebd1000, 0, 0, 0xfe00000c, 0x1 };
	const uint32_t bad64[VWDM_NUM_BARS] = { 0, 0, 0, 0, 0, 0xfe000004 };

	(void)state;
	vwdm_decode_bars(regs, d);
	assert_true(d[0].present && d[0].io);
	assert_int_equal(vwdm_match_bar(d, 0xc040, true), 0);
	assert_int_equal(vwdm_match_bar(d, 0xc040, false), -1);
	assert_int_equal(vwdm_match_bar(d, 0xfebd1000, false), 1);
	assert_true(d[4].is64);
	assert_false(d[5].present);
	assert_int_equal(vwdm_match_bar(d, 0x1fe000000ull, false), 4);
	assert_int_equal(vwdm_match_bar(d, 0xfe000000ull, false), -1);
	assert_int_equal(vwdm_match_bar(d, 0, false), -1);
	/* A 64-bit BAR in slot 5 has no upper half: ignored. */
	vwdm_decode_bars(bad64, d);
	assert_false(d[5].present);
}

static void test_wdm_vectors(void **state)
{
	uint16_t cfg, q[3];

	(void)state;
	assert_int_equal(vwdm_plan_vectors(0, 3, &cfg, q), 0);
	assert_int_equal(cfg, 0xffff);
	assert_int_equal(q[2], 0xffff);
	assert_int_equal(vwdm_plan_vectors(4, 3, &cfg, q), 4);
	assert_int_equal(cfg, 0);
	assert_int_equal(q[0], 1);
	assert_int_equal(q[2], 3);
	assert_int_equal(vwdm_plan_vectors(2, 3, &cfg, q), 1);
	assert_int_equal(q[0], 0);
	assert_int_equal(q[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_complete_take),
		cmocka_unit_test(test_oversized_used_len),
		cmocka_unit_test(test_unsolicited_completion),
		cmocka_unit_test(test_empty_device_fails_eventually),
		cmocka_unit_test(test_read_len_bounded),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_wdm_bars),
		cmocka_unit_test(test_wdm_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
