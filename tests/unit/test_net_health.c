/*
 * Unit tests for src/net/vnet_health.c: when MiniportCheckForHangEx reports a hang, how a
 * reset takes back the transmit slots (each outstanding send completed exactly once, none
 * lost, late device completions refused), and when Pause may complete while receive
 * indications are in progress or their NBLs are still out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_health.h"
#include "vnet_parse.h"

/* ------------------------------------------------------------ hang detection */

static void hang_idle_queue_never_hangs(void **state)
{
    struct vnet_txwatch w;
    unsigned i;

    (void)state;
    vnet_txwatch_reset(&w, 0);
    for (i = 0; i < 100; i++)
        assert_false(vnet_txwatch_hung(&w, 0, 5, false));
}

static void hang_after_stalled_checks(void **state)
{
    struct vnet_txwatch w;
    unsigned i;

    (void)state;
    vnet_txwatch_reset(&w, 10);
    /* Sends outstanding, no completion: the hang shows after VNET_HANG_STALLS checks. */
    for (i = 1; i < VNET_HANG_STALLS; i++)
        assert_false(vnet_txwatch_hung(&w, 3, 10, false));
    assert_true(vnet_txwatch_hung(&w, 3, 10, false));
    /* ... and stays reported while nothing moves. */
    assert_true(vnet_txwatch_hung(&w, 3, 10, false));
}

static void hang_progress_rearms(void **state)
{
    struct vnet_txwatch w;
    unsigned i;

    (void)state;
    vnet_txwatch_reset(&w, 0);
    /* A busy queue that completes something between checks is never hung. */
    for (i = 1; i <= 50; i++)
        assert_false(vnet_txwatch_hung(&w, 200, i, false));
    /* Progress after one stalled check starts the count again. */
    assert_false(vnet_txwatch_hung(&w, 200, 50, false));
    assert_false(vnet_txwatch_hung(&w, 200, 51, false));
    for (i = 1; i < VNET_HANG_STALLS; i++)
        assert_false(vnet_txwatch_hung(&w, 200, 51, false));
    assert_true(vnet_txwatch_hung(&w, 200, 51, false));
    /* Draining to idle clears it. */
    assert_false(vnet_txwatch_hung(&w, 0, 51, false));
    assert_false(vnet_txwatch_hung(&w, 1, 51, false));
}

static void hang_broken_queue_at_once(void **state)
{
    struct vnet_txwatch w;

    (void)state;
    vnet_txwatch_reset(&w, 0);
    /* A broken ring cannot progress: no need to wait, and idle does not excuse it. */
    assert_true(vnet_txwatch_hung(&w, 0, 0, true));
    assert_true(vnet_txwatch_hung(&w, 4, 7, true));
}

static void hang_bounded_time(void **state)
{
    (void)state;
    /* The detection time stays bounded and sane (CheckForHangTimeInSeconds * stalls). */
    assert_true(VNET_HANG_CHECK_SECONDS >= 1 && VNET_HANG_CHECK_SECONDS <= 10);
    assert_true(VNET_HANG_STALLS * VNET_HANG_CHECK_SECONDS <= 20);
}

/* ------------------------------------------------------------ transmit slots */

static void txslot_life_cycle(void **state)
{
    uint8_t s = VNET_TXS_FREE;

    (void)state;
    assert_true(vnet_txslot_move(&s, VNET_TXS_FREE, VNET_TXS_MAPPING));
    assert_true(vnet_txslot_move(&s, VNET_TXS_MAPPING, VNET_TXS_READY));
    assert_true(vnet_txslot_move(&s, VNET_TXS_READY, VNET_TXS_RING));
    assert_true(vnet_txslot_move(&s, VNET_TXS_RING, VNET_TXS_DONE));
    assert_true(vnet_txslot_move(&s, VNET_TXS_DONE, VNET_TXS_FREE));
    assert_int_equal(s, VNET_TXS_FREE);
}

static void txslot_wrong_owner_refused(void **state)
{
    uint8_t s = VNET_TXS_RING;

    (void)state;
    /* Only the current owner may move it, and only along the life cycle. */
    assert_false(vnet_txslot_move(&s, VNET_TXS_READY, VNET_TXS_DONE));
    assert_false(vnet_txslot_move(&s, VNET_TXS_RING, VNET_TXS_FREE));
    assert_false(vnet_txslot_move(&s, VNET_TXS_RING, VNET_TXS_MAPPING));
    assert_int_equal(s, VNET_TXS_RING);
    s = VNET_TXS_FREE;
    assert_false(vnet_txslot_move(&s, VNET_TXS_FREE, VNET_TXS_DONE));
    s = 77;
    assert_false(vnet_txslot_move(&s, 77, VNET_TXS_FREE));
    assert_int_equal(s, 77);
}

/*
 * A queue in the middle of traffic when the device breaks: slots free, being mapped, ready,
 * in the ring and just completed. The reset takes back exactly the ready and ring ones; the
 * used-ring entries a broken device might still deliver afterwards are refused; every slot
 * ends up completed exactly once.
 */
static void txslot_reset_completes_each_once(void **state)
{
    enum { N = 64 };
    uint8_t st[N];
    uint32_t out[N], n, i, completions[N];
    uint32_t expect_reclaimed = 0;

    (void)state;
    memset(completions, 0, sizeof(completions));
    for (i = 0; i < N; i++) {
        st[i] = (uint8_t)(i % 5);   /* FREE, MAPPING, READY, RING, DONE in turn */
        if (st[i] == VNET_TXS_READY || st[i] == VNET_TXS_RING)
            expect_reclaimed++;
    }
    n = vnet_txslot_reclaim(st, N, out);
    assert_int_equal(n, expect_reclaimed);
    for (i = 0; i < n; i++) {
        assert_int_equal(out[i] % 5 == VNET_TXS_READY || out[i] % 5 == VNET_TXS_RING, 1);
        assert_int_equal(st[out[i]], VNET_TXS_DONE);
        completions[out[i]]++;
    }
    /* A second reset before the completions ran finds nothing new. */
    assert_int_equal(vnet_txslot_reclaim(st, N, out), 0);
    /* Late used entries from the broken device: each refused, nothing completed twice. */
    for (i = 0; i < N; i++) {
        uint8_t before = st[i];

        if (vnet_txslot_move(&st[i], VNET_TXS_RING, VNET_TXS_DONE))
            completions[i]++;
        assert_int_equal(st[i], before);
    }
    /* The slots that were being mapped finish through their S/G callback; the DONE ones
     * (already being completed before the reset) through their own path. */
    for (i = 0; i < N; i++) {
        if (i % 5 == VNET_TXS_MAPPING) {
            assert_true(vnet_txslot_move(&st[i], VNET_TXS_MAPPING, VNET_TXS_DONE));
            completions[i]++;
        } else if (i % 5 == VNET_TXS_DONE) {
            completions[i]++;
        }
    }
    for (i = 0; i < N; i++) {
        if (i % 5 == VNET_TXS_FREE) {
            assert_int_equal(completions[i], 0);
            continue;
        }
        assert_int_equal(completions[i], 1);
        assert_int_equal(st[i], VNET_TXS_DONE);
        assert_true(vnet_txslot_move(&st[i], VNET_TXS_DONE, VNET_TXS_FREE));
        /* Completing the freed slot again is refused. */
        assert_false(vnet_txslot_move(&st[i], VNET_TXS_DONE, VNET_TXS_FREE));
    }
}

static void txslot_reclaim_empty_and_idle(void **state)
{
    uint8_t st[8];
    uint32_t out[8];

    (void)state;
    memset(st, VNET_TXS_FREE, sizeof(st));
    assert_int_equal(vnet_txslot_reclaim(st, 8, out), 0);
    assert_int_equal(vnet_txslot_reclaim(st, 0, out), 0);
}

/* ------------------------------------------------------------ receive gate */

static void rxgate_pause_waits_for_indication(void **state)
{
    struct vnet_rxgate g;

    (void)state;
    memset(&g, 0, sizeof(g));
    vnet_rxgate_open(&g);
    /* A DPC passes the gate with 4 NBLs and releases the lock to indicate them. */
    assert_true(vnet_rxgate_enter(&g, 4));
    /* Pause arrives meanwhile: not idle while the indication runs. */
    vnet_rxgate_close(&g);
    assert_false(vnet_rxgate_idle(&g));
    /* A second DPC that has not passed yet is turned away: it drops its frames. */
    assert_false(vnet_rxgate_enter(&g, 2));
    /* The indication returns; NDIS still holds the 4 NBLs. */
    assert_int_equal(vnet_rxgate_leave(&g, 4, 0), VNET_OK);
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_returned(&g, 3), VNET_OK);
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_returned(&g, 1), VNET_OK);
    assert_true(vnet_rxgate_idle(&g));
    /* Restart opens it again. */
    vnet_rxgate_open(&g);
    assert_false(vnet_rxgate_idle(&g));
    assert_true(vnet_rxgate_enter(&g, 1));
}

static void rxgate_steered_parts(void **state)
{
    struct vnet_rxgate g;

    (void)state;
    memset(&g, 0, sizeof(g));
    vnet_rxgate_open(&g);
    /* A batch of 5 passes; RSS steering keeps 2 here and sends 3 to other processors. */
    assert_true(vnet_rxgate_enter(&g, 5));
    vnet_rxgate_split(&g, 5 - 1);
    assert_int_equal(vnet_rxgate_leave_parts(&g, 2 - 1, 0, 0), VNET_OK);
    /* Pause arrives before the steering DPCs ran: it must wait for them. */
    vnet_rxgate_close(&g);
    assert_int_equal(vnet_rxgate_leave(&g, 2, 0), VNET_OK);
    assert_int_equal(vnet_rxgate_returned(&g, 2), VNET_OK);
    assert_false(vnet_rxgate_idle(&g));
    /* One steering DPC indicates 2 with NDIS_RECEIVE_FLAGS_RESOURCES, another 1 normally. */
    assert_int_equal(vnet_rxgate_leave_parts(&g, 2, 2, 2), VNET_OK);
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_leave_parts(&g, 1, 1, 0), VNET_OK);
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_returned(&g, 1), VNET_OK);
    assert_true(vnet_rxgate_idle(&g));
    /* More parts than are in progress, or none, is misuse. */
    assert_int_equal(vnet_rxgate_leave_parts(&g, 1, 0, 0), VNET_ERR_INVAL);
    vnet_rxgate_split(&g, 1);
    assert_int_equal(vnet_rxgate_leave_parts(&g, 0, 0, 0), VNET_ERR_INVAL);
    assert_int_equal(vnet_rxgate_leave_parts(&g, 1, 0, 0), VNET_OK);
}

static void rxgate_resources_indication(void **state)
{
    struct vnet_rxgate g;

    (void)state;
    memset(&g, 0, sizeof(g));
    /* NDIS_RECEIVE_FLAGS_RESOURCES: the NBLs are back when the call returns. */
    assert_true(vnet_rxgate_enter(&g, 8));
    vnet_rxgate_close(&g);
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_leave(&g, 8, 8), VNET_OK);
    assert_true(vnet_rxgate_idle(&g));
}

static void rxgate_parallel_indications(void **state)
{
    struct vnet_rxgate g;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_true(vnet_rxgate_enter(&g, 2));
    assert_true(vnet_rxgate_enter(&g, 3));
    vnet_rxgate_close(&g);
    assert_int_equal(vnet_rxgate_leave(&g, 2, 0), VNET_OK);
    assert_int_equal(vnet_rxgate_returned(&g, 2), VNET_OK);
    /* One indication is still inside NdisMIndicateReceiveNetBufferLists. */
    assert_false(vnet_rxgate_idle(&g));
    assert_int_equal(vnet_rxgate_leave(&g, 3, 3), VNET_OK);
    assert_true(vnet_rxgate_idle(&g));
}

static void rxgate_misuse_reported(void **state)
{
    struct vnet_rxgate g;

    (void)state;
    memset(&g, 0, sizeof(g));
    /* Nothing to indicate is not an indication. */
    assert_false(vnet_rxgate_enter(&g, 0));
    /* More returned than indicated, a leave without an enter: reported, counts kept sane. */
    assert_int_equal(vnet_rxgate_returned(&g, 1), VNET_ERR_INVAL);
    assert_int_equal(g.outstanding, 0);
    assert_int_equal(vnet_rxgate_leave(&g, 1, 0), VNET_ERR_INVAL);
    assert_int_equal(g.inside, 0);
    assert_true(vnet_rxgate_enter(&g, 2));
    assert_int_equal(vnet_rxgate_leave(&g, 2, 3), VNET_ERR_INVAL);
    vnet_rxgate_close(&g);
    assert_int_equal(vnet_rxgate_returned(&g, 5), VNET_ERR_INVAL);
    assert_true(vnet_rxgate_idle(&g) || g.inside == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hang_idle_queue_never_hangs),
        cmocka_unit_test(hang_after_stalled_checks),
        cmocka_unit_test(hang_progress_rearms),
        cmocka_unit_test(hang_broken_queue_at_once),
        cmocka_unit_test(hang_bounded_time),
        cmocka_unit_test(txslot_life_cycle),
        cmocka_unit_test(txslot_wrong_owner_refused),
        cmocka_unit_test(txslot_reset_completes_each_once),
        cmocka_unit_test(txslot_reclaim_empty_and_idle),
        cmocka_unit_test(rxgate_pause_waits_for_indication),
        cmocka_unit_test(rxgate_resources_indication),
        cmocka_unit_test(rxgate_steered_parts),
        cmocka_unit_test(rxgate_parallel_indications),
        cmocka_unit_test(rxgate_misuse_reported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
