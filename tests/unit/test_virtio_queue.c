/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Virtqueue tests: the real split and packed ring code driven end to end by
 * the fake device (tests/unit/fake_virtio.c). Every scenario runs for both
 * ring formats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_virtio.h"

#define BASE_FEATURES (VIRTIO_BIT(0) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

struct ctx {
	struct fake_virtio *f;
	struct virtio_dev dev;
	struct fake_ring r;
	bool packed;
};

static struct ctx *open_queue(bool packed, uint64_t features, uint16_t size, uint16_t indirect_max)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->f = calloc(1, sizeof(*c->f));
	assert_non_null(c->f);
	c->packed = packed;
	fake_init(c->f, VIRTIO_ID_BLOCK, 2, 256, true, false);
	if (packed)
		features |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	assert_int_equal(fake_bringup(c->f, &c->dev, 0, features), VIRTIO_OK);
	assert_int_equal(virtio_has_feature(&c->dev, VIRTIO_F_RING_PACKED), packed);
	assert_int_equal(fake_setup_queue(&c->dev, 0, size, indirect_max, VIRTIO_MSI_NO_VECTOR, &c->r), VIRTIO_OK);
	assert_int_equal(virtio_driver_ok(&c->dev), VIRTIO_OK);
	assert_int_equal(vq_is_packed(c->r.vq), packed);
	return c;
}

static void close_queue(struct ctx *c)
{
	fake_free_ring(&c->r);
	fake_destroy(c->f);
	free(c);
}

static int add1(struct ctx *c, void *out, uint32_t olen, void *in, uint32_t ilen, void *cookie)
{
	struct vq_sg sg[2];
	uint16_t n = 0, o = 0, i = 0;

	if (out) {
		sg[n].addr = (uint64_t)(uintptr_t)out;
		sg[n++].len = olen;
		o = 1;
	}
	if (in) {
		sg[n].addr = (uint64_t)(uintptr_t)in;
		sg[n++].len = ilen;
		i = 1;
	}
	return vq_add(c->r.vq, sg, o, i, cookie);
}

/* ------------------------------------------------------------------ */

static void do_echo(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 0, 0);
	char out[32] = "hello virtio", in[32];
	void *cookie = NULL;
	uint32_t len = 0;

	memset(in, 0, sizeof(in));
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_ENOENT);
	assert_int_equal(add1(c, out, 13, in, sizeof(in), out), VIRTIO_OK);
	assert_int_equal(vq_free_slots(c->r.vq), 254);
	assert_true(vq_kick_prepare(c->r.vq));
	vq_notify(c->r.vq);
	assert_int_equal(c->f->q[0].notifies, 1);
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	assert_true(vq_has_used(c->r.vq));
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, out);
	assert_int_equal(len, 13);
	assert_string_equal(in, "hello virtio");
	assert_int_equal(vq_free_slots(c->r.vq), 256);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_ENOENT);
	assert_int_equal(c->f->log_count, 0);
	close_queue(c);
}
static void test_echo_split(void **s) { (void)s; do_echo(false); }
static void test_echo_packed(void **s) { (void)s; do_echo(true); }

/* Completions out of order: the device returns the second chain first. */
static void do_out_of_order(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	static char b[3][16];
	struct fake_chain ch[3];
	void *cookie;
	uint32_t len;

	for (int i = 0; i < 3; i++) {
		struct vq_sg sg[2] = { { (uint64_t)(uintptr_t)b[i], 4 }, { (uint64_t)(uintptr_t)b[i] + 8, 8 } };

		/* chains of 2, 1 and 2 descriptors */
		assert_int_equal(vq_add(c->r.vq, sg, i == 1 ? 1 : 1, i == 1 ? 0 : 1, b[i]), VIRTIO_OK);
	}
	assert_int_equal(vq_free_slots(c->r.vq), 8 - 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fake_pop(c->f, 0, &ch[i]), 1);
	fake_push(c->f, 0, ch[1].id, 0);
	fake_push(c->f, 0, ch[2].id, 7);
	fake_push(c->f, 0, ch[0].id, 8);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, b[1]);
	assert_int_equal(len, 0);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, b[2]);
	assert_int_equal(len, 7);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, b[0]);
	assert_int_equal(len, 8);
	assert_int_equal(vq_free_slots(c->r.vq), 8);
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_out_of_order_split(void **s) { (void)s; do_out_of_order(false); }
static void test_out_of_order_packed(void **s) { (void)s; do_out_of_order(true); }

static void do_queue_full(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	static char buf[8][8];
	struct vq_sg sg[9];
	void *cookie;
	uint32_t len;

	for (int i = 0; i < 8; i++)
		assert_int_equal(add1(c, buf[i], 8, NULL, 0, buf[i]), VIRTIO_OK);
	assert_int_equal(vq_free_slots(c->r.vq), 0);
	assert_int_equal(add1(c, buf[0], 8, NULL, 0, buf[0]), VIRTIO_ENOSPC);
	assert_int_equal(fake_serve_echo(c->f, 0), 8);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, buf[0]);
	/* One slot free: a 2-descriptor chain does not fit, a single one does. */
	for (int i = 0; i < 9; i++) {
		sg[i].addr = (uint64_t)(uintptr_t)buf[i % 8];
		sg[i].len = 8;
	}
	assert_int_equal(vq_add(c->r.vq, sg, 2, 0, buf[1]), VIRTIO_ENOSPC);
	assert_int_equal(vq_add(c->r.vq, sg, 1, 0, buf[1]), VIRTIO_OK);
	/* Longer than the ring and no indirect tables: can never fit. */
	assert_int_equal(vq_add(c->r.vq, sg, 9, 0, buf[1]), VIRTIO_EINVAL);
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_queue_full_split(void **s) { (void)s; do_queue_full(false); }
static void test_queue_full_packed(void **s) { (void)s; do_queue_full(true); }

static void do_indirect(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 8);
	static uint8_t src[5][4], dst[2][10];
	struct vq_sg sg[7];
	struct fake_chain ch;
	void *cookie;
	uint32_t len;

	for (int i = 0; i < 5; i++) {
		memset(src[i], 'a' + i, 4);
		sg[i].addr = (uint64_t)(uintptr_t)src[i];
		sg[i].len = 4;
	}
	sg[5].addr = (uint64_t)(uintptr_t)dst[0];
	sg[5].len = 10;
	sg[6].addr = (uint64_t)(uintptr_t)dst[1];
	sg[6].len = 10;
	assert_int_equal(vq_add(c->r.vq, sg, 5, 2, dst), VIRTIO_OK);
	/* Seven segments in one ring slot: the chain went through an indirect table. */
	assert_int_equal(vq_free_slots(c->r.vq), 7);
	/* Over indirect_max and over the ring size: refused. */
	{
		static struct vq_sg big[9];

		for (int i = 0; i < 9; i++)
			big[i] = sg[0];
		assert_int_equal(vq_add(c->r.vq, big, 9, 0, dst), VIRTIO_EINVAL);
	}
	assert_int_equal(fake_pop(c->f, 0, &ch), 1);
	assert_true(ch.indirect);
	assert_int_equal(ch.nseg, 7);
	assert_int_equal(ch.ndesc, 1);
	assert_int_equal(ch.out_len, 20);
	assert_int_equal(ch.in_len, 20);
	assert_false(ch.seg[4].write);
	assert_true(ch.seg[5].write);
	memcpy(dst[0], "0123456789", 10);
	memcpy(dst[1], "abcdefghij", 10);
	fake_push(c->f, 0, ch.id, 20);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, dst);
	assert_int_equal(len, 20);
	assert_int_equal(vq_free_slots(c->r.vq), 8);
	close_queue(c);
}
static void test_indirect_split(void **s) { (void)s; do_indirect(false); }
static void test_indirect_packed(void **s) { (void)s; do_indirect(true); }

/* Run far past 65535 ring indices with varying chain lengths. */
static void do_wrap(bool packed, uint64_t features)
{
	struct ctx *c = open_queue(packed, features, 16, 0);
	static uint32_t val[4], res[4];
	uint32_t completed = 0;

	for (uint32_t iter = 0; iter < 70000; iter++) {
		uint16_t nchains = (uint16_t)(1 + iter % 3);

		for (uint16_t k = 0; k < nchains; k++) {
			struct vq_sg sg[3];
			uint16_t nout = (uint16_t)(1 + (iter + k) % 2);
			uint8_t *v = (uint8_t *)&val[k];

			val[k] = iter * 4 + k;
			res[k] = 0;
			/* One or two readable segments, then one writable. */
			if (nout == 2) {
				sg[0].addr = (uint64_t)(uintptr_t)v;
				sg[0].len = 2;
				sg[1].addr = (uint64_t)(uintptr_t)(v + 2);
				sg[1].len = 2;
			} else {
				sg[0].addr = (uint64_t)(uintptr_t)v;
				sg[0].len = 4;
			}
			sg[nout].addr = (uint64_t)(uintptr_t)&res[k];
			sg[nout].len = 4;
			assert_int_equal(vq_add(c->r.vq, sg, nout, 1, &val[k]), VIRTIO_OK);
		}
		vq_kick(c->r.vq);
		assert_int_equal(fake_serve_echo(c->f, 0), nchains);
		for (uint16_t k = 0; k < nchains; k++) {
			void *cookie;
			uint32_t len;

			assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
			assert_ptr_equal(cookie, &val[k]);
			assert_int_equal(len, 4);
			assert_int_equal(res[k], iter * 4 + k);
			completed++;
		}
		if (!vq_enable_cb(c->r.vq))
			continue;
		fail_msg("spurious pending buffer at iteration %u", iter);
	}
	assert_true(completed > 65536 * 2);
	assert_int_equal(vq_free_slots(c->r.vq), 16);
	/* Every round trip was notified exactly once (device always asks). */
	assert_int_equal(c->f->q[0].notifies, 70000);
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_wrap_split(void **s) { (void)s; do_wrap(false, BASE_FEATURES); }
static void test_wrap_packed(void **s) { (void)s; do_wrap(true, BASE_FEATURES); }
static void test_wrap_split_noevent(void **s) { (void)s; do_wrap(false, VIRTIO_BIT(0)); }
static void test_wrap_packed_noevent(void **s) { (void)s; do_wrap(true, VIRTIO_BIT(0)); }

/* Notification suppression in both directions, with and without EVENT_IDX. */
static void do_suppression(bool packed, bool event_idx)
{
	uint64_t feat = event_idx ? BASE_FEATURES : VIRTIO_BIT(0) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	struct ctx *c = open_queue(packed, feat, 8, 0);
	static char b[8];
	void *cookie;
	uint32_t len;

	assert_int_equal(virtio_has_feature(&c->dev, VIRTIO_F_EVENT_IDX), event_idx);
	/* Driver -> device: suppressed kicks are not needed. */
	assert_int_equal(add1(c, b, 1, NULL, 0, b), VIRTIO_OK);
	assert_true(vq_kick_prepare(c->r.vq));
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	fake_set_notify_suppression(c->f, 0, true);
	assert_int_equal(add1(c, b + 1, 1, NULL, 0, b + 1), VIRTIO_OK);
	assert_false(vq_kick_prepare(c->r.vq));
	/* The device polls while notifications are off, then turns them back on. */
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	fake_set_notify_suppression(c->f, 0, false);
	assert_int_equal(add1(c, b + 2, 1, NULL, 0, b + 2), VIRTIO_OK);
	assert_true(vq_kick_prepare(c->r.vq));
	assert_false(vq_kick_prepare(c->r.vq));    /* nothing new */
	assert_int_equal(fake_serve_echo(c->f, 0), 1);

	/* Device -> driver: interrupts while enabled, none while disabled. */
	c->f->q[0].interrupts = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_false(vq_enable_cb(c->r.vq));
	vq_disable_cb(c->r.vq);
	for (int i = 0; i < 4; i++)
		assert_int_equal(add1(c, b + i, 1, NULL, 0, b + i), VIRTIO_OK);
	assert_int_equal(fake_serve_echo(c->f, 0), 4);
	assert_int_equal(c->f->q[0].interrupts, 0);
	/* Re-enable sees the completions that arrived meanwhile. */
	assert_true(vq_enable_cb(c->r.vq));
	for (int i = 0; i < 4; i++)
		assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_false(vq_enable_cb(c->r.vq));
	/* Enabled: each completion interrupts once the driver caught up. */
	assert_int_equal(add1(c, b, 1, NULL, 0, b), VIRTIO_OK);
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	assert_int_equal(c->f->q[0].interrupts, 1);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_int_equal(add1(c, b, 1, NULL, 0, b), VIRTIO_OK);
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	assert_int_equal(c->f->q[0].interrupts, 2);
	if (event_idx) {
		/* Driver has not consumed the last one: a further completion is suppressed. */
		assert_int_equal(add1(c, b, 1, NULL, 0, b), VIRTIO_OK);
		assert_int_equal(fake_serve_echo(c->f, 0), 1);
		assert_int_equal(c->f->q[0].interrupts, 2);
	}
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_suppress_split_event(void **s) { (void)s; do_suppression(false, true); }
static void test_suppress_split_flags(void **s) { (void)s; do_suppression(false, false); }
static void test_suppress_packed_event(void **s) { (void)s; do_suppression(true, true); }
static void test_suppress_packed_flags(void **s) { (void)s; do_suppression(true, false); }

static void do_detach(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 4);
	static char b[3][4];
	int seen = 0;
	void *p;

	for (int i = 0; i < 3; i++)
		assert_int_equal(add1(c, b[i], 4, b[i], 4, b[i]), VIRTIO_OK);
	assert_int_equal(virtio_reset(&c->dev), VIRTIO_OK);
	while ((p = vq_detach_unused(c->r.vq)) != NULL) {
		assert_true(p == b[0] || p == b[1] || p == b[2]);
		seen++;
	}
	assert_int_equal(seen, 3);
	assert_int_equal(add1(c, b[0], 4, NULL, 0, b[0]), VIRTIO_EBROKEN);
	close_queue(c);
}
static void test_detach_split(void **s) { (void)s; do_detach(false); }
static void test_detach_packed(void **s) { (void)s; do_detach(true); }

static void do_bad_args(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	static char b[4];
	struct vq_sg sg = { (uint64_t)(uintptr_t)b, 4 }, zero = { (uint64_t)(uintptr_t)b, 0 };
	void *cookie;
	uint32_t len;

	assert_int_equal(vq_add(c->r.vq, &sg, 1, 0, NULL), VIRTIO_EINVAL);
	assert_int_equal(vq_add(c->r.vq, &sg, 0, 0, b), VIRTIO_EINVAL);
	assert_int_equal(vq_add(c->r.vq, NULL, 1, 0, b), VIRTIO_EINVAL);
	assert_int_equal(vq_add(c->r.vq, &zero, 1, 0, b), VIRTIO_EINVAL);
	assert_int_equal(vq_get_used(c->r.vq, NULL, &len), VIRTIO_EINVAL);
	assert_int_equal(vq_get_used(NULL, &cookie, &len), VIRTIO_EINVAL);
	assert_int_equal(vq_free_slots(c->r.vq), 8);
	assert_int_equal(vq_size(c->r.vq), 8);
	assert_int_equal(vq_index(c->r.vq), 0);
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_bad_args_split(void **s) { (void)s; do_bad_args(false); }
static void test_bad_args_packed(void **s) { (void)s; do_bad_args(true); }

static void do_chain_builder(bool packed, uint16_t indirect_max)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, indirect_max);
	static uint8_t buf[64];
	struct vq_chain ch, ch2;
	struct fake_chain fc;
	void *cookie;
	uint32_t len;

	/* A complete chain: 2 readable + 2 writable segments. */
	assert_int_equal(vq_chain_begin(c->r.vq, &ch, 4, buf), VIRTIO_OK);
	assert_int_equal(vq_chain_begin(c->r.vq, &ch2, 1, buf), VIRTIO_EINVAL);   /* one at a time */
	assert_int_equal(vq_chain_begin(c->r.vq, &ch, 1, buf), VIRTIO_EINVAL);    /* open one survives */
	assert_int_equal(vq_chain_add(c->r.vq, &ch2, (uint64_t)(uintptr_t)buf, 3, false), VIRTIO_EINVAL);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EINVAL);     /* no interleaving */
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf, 3, false), VIRTIO_OK);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 3, 5, false), VIRTIO_OK);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 8, 0, true), VIRTIO_EINVAL);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 8, 7, true), VIRTIO_OK);
	/* Readable after writable breaks the spec's ordering rule. */
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 15, 1, false), VIRTIO_EINVAL);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 15, 9, true), VIRTIO_OK);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf + 24, 1, true), VIRTIO_EINVAL);
	/* Nothing visible before the commit. */
	assert_int_equal(fake_pop(c->f, 0, &fc), 0);
	assert_int_equal(vq_chain_commit(c->r.vq, &ch), VIRTIO_OK);
	assert_int_equal(vq_free_slots(c->r.vq), indirect_max ? 7 : 4);
	assert_int_equal(fake_pop(c->f, 0, &fc), 1);
	assert_int_equal(fc.nseg, 4);
	assert_int_equal(fc.indirect, indirect_max != 0);
	assert_int_equal(fc.out_len, 8);
	assert_int_equal(fc.in_len, 16);
	fake_push(c->f, 0, fc.id, 16);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_ptr_equal(cookie, buf);
	assert_int_equal(len, 16);

	/* Aborted and incomplete chains leave no trace. */
	assert_int_equal(vq_chain_begin(c->r.vq, &ch, 3, buf), VIRTIO_OK);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf, 3, false), VIRTIO_OK);
	vq_chain_abort(c->r.vq, &ch);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf, 3, false), VIRTIO_EINVAL);
	assert_int_equal(vq_chain_begin(c->r.vq, &ch, 2, buf), VIRTIO_OK);
	assert_int_equal(vq_chain_add(c->r.vq, &ch, (uint64_t)(uintptr_t)buf, 3, false), VIRTIO_OK);
	assert_int_equal(vq_chain_commit(c->r.vq, &ch), VIRTIO_EINVAL);
	assert_int_equal(fake_pop(c->f, 0, &fc), 0);
	assert_int_equal(vq_free_slots(c->r.vq), 8);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_ENOENT);
	/* And the queue still works. */
	assert_int_equal(add1(c, buf, 4, buf + 4, 4, buf), VIRTIO_OK);
	assert_int_equal(fake_serve_echo(c->f, 0), 1);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_int_equal(len, 4);
	assert_false(vq_is_broken(c->r.vq));
	close_queue(c);
}
static void test_chain_split(void **s) { (void)s; do_chain_builder(false, 0); }
static void test_chain_packed(void **s) { (void)s; do_chain_builder(true, 0); }
static void test_chain_split_indirect(void **s) { (void)s; do_chain_builder(false, 4); }
static void test_chain_packed_indirect(void **s) { (void)s; do_chain_builder(true, 4); }

/* ------------------------------------------------------------------ */
/* Hostile device                                                     */

/* The queue must refuse every later operation once broken. */
static void assert_broken_sticky(struct ctx *c)
{
	static char b[4];
	void *cookie = NULL;
	uint32_t len = 0;

	assert_true(vq_is_broken(c->r.vq));
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_int_equal(add1(c, b, 4, NULL, 0, b), VIRTIO_EBROKEN);
	assert_false(vq_kick_prepare(c->r.vq));
	assert_int_equal(vq_free_slots(c->r.vq), 0);
	assert_true(vq_enable_cb(c->r.vq));
	assert_true(c->f->log_count >= 1);
	assert_non_null(strstr(c->f->log_all, "broken"));
}

/* Post two chains and let the device consume them (without completing). */
static void post_two(struct ctx *c, struct fake_chain ch[2])
{
	static char b[2][8];

	assert_int_equal(add1(c, b[0], 4, b[0] + 4, 4, b[0]), VIRTIO_OK);
	assert_int_equal(add1(c, b[1], 4, b[1] + 4, 4, b[1]), VIRTIO_OK);
	assert_int_equal(fake_pop(c->f, 0, &ch[0]), 1);
	assert_int_equal(fake_pop(c->f, 0, &ch[1]), 1);
}

static void do_bad_id(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	post_two(c, ch);
	fake_push(c->f, 0, 200, 1);       /* id beyond the ring */
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "out of range"));
	assert_broken_sticky(c);
	close_queue(c);
}
static void test_bad_id_split(void **s) { (void)s; do_bad_id(false); }
static void test_bad_id_packed(void **s) { (void)s; do_bad_id(true); }

static void do_not_in_flight(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	post_two(c, ch);
	/* A valid-looking id that was never posted: ch[1].id + 1 is free (split: +2). */
	fake_push(c->f, 0, (uint16_t)(packed ? 5 : 6), 1);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "not in flight"));
	assert_broken_sticky(c);
	close_queue(c);
}
static void test_not_in_flight_split(void **s) { (void)s; do_not_in_flight(false); }
static void test_not_in_flight_packed(void **s) { (void)s; do_not_in_flight(true); }

static void do_duplicate(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	post_two(c, ch);
	fake_push(c->f, 0, ch[0].id, 4);
	fake_push(c->f, 0, ch[0].id, 4);   /* same buffer twice */
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "not in flight"));
	assert_broken_sticky(c);
	close_queue(c);
}
static void test_duplicate_split(void **s) { (void)s; do_duplicate(false); }
static void test_duplicate_packed(void **s) { (void)s; do_duplicate(true); }

static void do_len_too_big(bool packed)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	post_two(c, ch);
	fake_push(c->f, 0, ch[0].id, 5);   /* only 4 writable bytes were posted */
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "exceeds"));
	assert_broken_sticky(c);
	close_queue(c);
}
static void test_len_too_big_split(void **s) { (void)s; do_len_too_big(false); }
static void test_len_too_big_packed(void **s) { (void)s; do_len_too_big(true); }

static void test_used_idx_jump_split(void **s)
{
	struct ctx *c = open_queue(false, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	(void)s;
	post_two(c, ch);
	fake_split_write_used(c->f, 0, 0, ch[0].id, 1);
	fake_split_set_used_idx(c->f, 0, 3);       /* 3 completions, 2 in flight */
	assert_false(vq_is_broken(c->r.vq));
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "ahead"));
	assert_broken_sticky(c);
	close_queue(c);

	/* A huge jump (index moved backwards) is caught the same way. */
	c = open_queue(false, BASE_FEATURES, 8, 0);
	post_two(c, ch);
	fake_split_set_used_idx(c->f, 0, 0xfff0);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_broken_sticky(c);
	close_queue(c);
}

static void test_packed_bad_wrap(void **s)
{
	struct ctx *c = open_queue(true, BASE_FEATURES, 8, 0);
	struct fake_chain ch[2];
	void *cookie;
	uint32_t len;

	(void)s;
	post_two(c, ch);
	/* USED set for the current lap but AVAIL from the previous: impossible. */
	fake_packed_write_desc(c->f, 0, 0, ch[0].id, 1, VIRTQ_PACKED_DESC_F_USED);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "contradict"));
	assert_broken_sticky(c);
	close_queue(c);
}

static void test_packed_used_when_idle(void **s)
{
	struct ctx *c = open_queue(true, BASE_FEATURES, 8, 0);
	void *cookie;
	uint32_t len;

	(void)s;
	/* Nothing posted, yet the device marks slot 0 used in the current lap. */
	fake_packed_write_desc(c->f, 0, 0, 0, 0, VIRTQ_PACKED_DESC_F_AVAIL | VIRTQ_PACKED_DESC_F_USED);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_non_null(strstr(c->f->log_all, "nothing in flight"));
	assert_broken_sticky(c);
	close_queue(c);
}

static void test_split_used_when_idle(void **s)
{
	struct ctx *c = open_queue(false, BASE_FEATURES, 8, 0);
	void *cookie;
	uint32_t len;

	(void)s;
	fake_split_write_used(c->f, 0, 0, 0, 0);
	fake_split_set_used_idx(c->f, 0, 1);
	assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_EBROKEN);
	assert_broken_sticky(c);
	close_queue(c);
}

/* ------------------------------------------------------------------ */
/* Randomised stress and hostile fuzzing                              */

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift32: deterministic, so a failure always reproduces */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return n ? rng_state % n : 0;
}

struct rec {
	uint8_t buf[64];
	uint32_t in_len;
	uint32_t pushed_len;
	bool outstanding;
};

/* Random chain shapes, random completion order, random lengths. */
static void do_stress(bool packed, uint16_t size)
{
	struct ctx *c = open_queue(packed, BASE_FEATURES, size, 4);
	static struct rec recs[96];
	static struct fake_chain popped[96];
	unsigned int npopped = 0, outstanding = 0, completed = 0;

	rng_state = packed ? 0x1234567u : 0x7654321u;
	memset(recs, 0, sizeof(recs));
	for (uint32_t step = 0; step < 30000; step++) {
		uint32_t op = rnd(10);

		if (op < 4) {
			/* add a chain of 1..6 segments over a free record */
			struct rec *r = &recs[rnd(96)];
			struct vq_sg sg[6];
			uint16_t nseg = (uint16_t)(1 + rnd(6)), nout = (uint16_t)(1 + rnd(nseg));
			int rc;

			if (r->outstanding)
				continue;
			r->in_len = 0;
			for (uint16_t k = 0; k < nseg; k++) {
				sg[k].addr = (uint64_t)(uintptr_t)(r->buf + 10 * k);
				sg[k].len = 1 + k;
				if (k >= nout)
					r->in_len += sg[k].len;
			}
			rc = vq_add(c->r.vq, sg, nout, (uint16_t)(nseg - nout), r);
			if (rc == VIRTIO_ENOSPC)
				continue;
			assert_int_equal(rc, VIRTIO_OK);
			r->outstanding = true;
			outstanding++;
			if (rnd(2))
				vq_kick(c->r.vq);
		} else if (op < 6) {
			/* device takes whatever is available */
			while (npopped < 96 && fake_pop(c->f, 0, &popped[npopped]) == 1)
				npopped++;
		} else if (op < 8) {
			/* device completes one popped chain, in any order */
			if (npopped) {
				unsigned int i = rnd(npopped);
				struct rec *r = (struct rec *)(uintptr_t)popped[i].seg[0].addr;

				r->pushed_len = rnd(r->in_len + 1);
				fake_push(c->f, 0, popped[i].id, r->pushed_len);
				popped[i] = popped[--npopped];
			}
		} else {
			void *cookie;
			uint32_t len;
			int rc;

			while ((rc = vq_get_used(c->r.vq, &cookie, &len)) == VIRTIO_OK) {
				struct rec *r = cookie;

				assert_true(r->outstanding);
				assert_int_equal(len, r->pushed_len);
				r->outstanding = false;
				outstanding--;
				completed++;
			}
			assert_int_equal(rc, VIRTIO_ENOENT);
			if (rnd(2))
				(void)vq_enable_cb(c->r.vq);
			else
				vq_disable_cb(c->r.vq);
		}
	}
	/* Drain. */
	while (npopped < 96 && fake_pop(c->f, 0, &popped[npopped]) == 1)
		npopped++;
	while (npopped) {
		struct rec *r = (struct rec *)(uintptr_t)popped[--npopped].seg[0].addr;

		r->pushed_len = r->in_len;
		fake_push(c->f, 0, popped[npopped].id, r->pushed_len);
	}
	for (;;) {
		void *cookie;
		uint32_t len;

		if (vq_get_used(c->r.vq, &cookie, &len) != VIRTIO_OK)
			break;
		assert_true(((struct rec *)cookie)->outstanding);
		((struct rec *)cookie)->outstanding = false;
		outstanding--;
		completed++;
	}
	assert_int_equal(outstanding, 0);
	assert_int_equal(vq_free_slots(c->r.vq), size);
	assert_true(completed > 1000);
	assert_false(vq_is_broken(c->r.vq));
	assert_int_equal(c->f->log_count, 0);
	close_queue(c);
}
static void test_stress_split(void **s) { (void)s; do_stress(false, 32); }
static void test_stress_packed(void **s) { (void)s; do_stress(true, 30); }

/*
 * A device writing random garbage into the used side: every call must
 * return a posted cookie exactly once, ENOENT, or EBROKEN (then forever).
 */
static void do_fuzz(bool packed)
{
	rng_state = packed ? 0xfeedu : 0xbeefu;
	for (int round = 0; round < 400; round++) {
		struct ctx *c = open_queue(packed, BASE_FEATURES, 8, rnd(2) ? 4 : 0);
		static struct rec recs[8];
		struct fake_chain ch;
		bool broken = false;

		memset(recs, 0, sizeof(recs));
		for (int i = 0; i < 8; i++) {
			struct vq_sg sg[3] = { { (uint64_t)(uintptr_t)recs[i].buf, 4 },
					       { (uint64_t)(uintptr_t)recs[i].buf + 8, 4 },
					       { (uint64_t)(uintptr_t)recs[i].buf + 16, 8 } };

			recs[i].in_len = 12;
			if (vq_add(c->r.vq, sg, 1, 2, &recs[i]) == VIRTIO_OK)
				recs[i].outstanding = true;
		}
		while (rnd(4) && fake_pop(c->f, 0, &ch) == 1)
			fake_push(c->f, 0, ch.id, rnd(2) ? 12 : rnd(30));
		for (int k = (int)rnd(4); k >= 0; k--) {
			switch (rnd(3)) {
			case 0:
				fake_push(c->f, 0, (uint16_t)rnd(12), rnd(20));
				break;
			case 1:
				if (packed)
					fake_packed_write_desc(c->f, 0, (uint16_t)rnd(8), (uint16_t)rnd(10), rnd(20),
							       (uint16_t)rnd(0x10000));
				else
					fake_split_set_used_idx(c->f, 0, (uint16_t)rnd(0x10000));
				break;
			default:
				if (!packed)
					fake_split_write_used(c->f, 0, (uint16_t)rnd(8), rnd(0x20000), rnd(20));
				break;
			}
		}
		for (int i = 0; i < 20; i++) {
			void *cookie = NULL;
			uint32_t len = 0;
			int rc = vq_get_used(c->r.vq, &cookie, &len);

			if (broken) {
				assert_int_equal(rc, VIRTIO_EBROKEN);
				continue;
			}
			if (rc == VIRTIO_OK) {
				struct rec *r = cookie;

				assert_true(r >= recs && r < recs + 8);
				assert_true(r->outstanding);
				assert_true(len <= r->in_len);
				r->outstanding = false;
			} else if (rc == VIRTIO_EBROKEN) {
				broken = true;
				assert_true(vq_is_broken(c->r.vq));
			} else {
				assert_int_equal(rc, VIRTIO_ENOENT);
			}
		}
		close_queue(c);
	}
}
static void test_fuzz_split(void **s) { (void)s; do_fuzz(false); }
static void test_fuzz_packed(void **s) { (void)s; do_fuzz(true); }

/* 65536+ adds with no kick in between: the event window is ambiguous, so kick. */
static void test_kick_after_long_silence(void **s)
{
	struct ctx *c = open_queue(false, BASE_FEATURES, 16, 0);
	static char b[4];
	void *cookie;
	uint32_t len;

	(void)s;
	for (uint32_t i = 0; i < 65540; i++) {
		assert_int_equal(add1(c, b, 4, NULL, 0, b), VIRTIO_OK);
		assert_int_equal(fake_serve_echo(c->f, 0), 1);
		assert_int_equal(vq_get_used(c->r.vq, &cookie, &len), VIRTIO_OK);
	}
	/*
	 * avail_event 10 was passed 65530 entries ago: a 16-bit window compare
	 * ([0, 5) after wrapping) would miss it and lose the notification.
	 */
	fake_split_set_avail_event(c->f, 0, 10);
	assert_true(vq_kick_prepare(c->r.vq));
	/* Same event after a normal, short burst: correctly no kick. */
	assert_int_equal(add1(c, b, 4, NULL, 0, b), VIRTIO_OK);
	assert_false(vq_kick_prepare(c->r.vq));
	close_queue(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_split),
		cmocka_unit_test(test_echo_packed),
		cmocka_unit_test(test_out_of_order_split),
		cmocka_unit_test(test_out_of_order_packed),
		cmocka_unit_test(test_queue_full_split),
		cmocka_unit_test(test_queue_full_packed),
		cmocka_unit_test(test_indirect_split),
		cmocka_unit_test(test_indirect_packed),
		cmocka_unit_test(test_wrap_split),
		cmocka_unit_test(test_wrap_packed),
		cmocka_unit_test(test_wrap_split_noevent),
		cmocka_unit_test(test_wrap_packed_noevent),
		cmocka_unit_test(test_suppress_split_event),
		cmocka_unit_test(test_suppress_split_flags),
		cmocka_unit_test(test_suppress_packed_event),
		cmocka_unit_test(test_suppress_packed_flags),
		cmocka_unit_test(test_detach_split),
		cmocka_unit_test(test_detach_packed),
		cmocka_unit_test(test_bad_args_split),
		cmocka_unit_test(test_bad_args_packed),
		cmocka_unit_test(test_chain_split),
		cmocka_unit_test(test_chain_packed),
		cmocka_unit_test(test_chain_split_indirect),
		cmocka_unit_test(test_chain_packed_indirect),
		cmocka_unit_test(test_bad_id_split),
		cmocka_unit_test(test_bad_id_packed),
		cmocka_unit_test(test_not_in_flight_split),
		cmocka_unit_test(test_not_in_flight_packed),
		cmocka_unit_test(test_duplicate_split),
		cmocka_unit_test(test_duplicate_packed),
		cmocka_unit_test(test_len_too_big_split),
		cmocka_unit_test(test_len_too_big_packed),
		cmocka_unit_test(test_used_idx_jump_split),
		cmocka_unit_test(test_packed_bad_wrap),
		cmocka_unit_test(test_packed_used_when_idle),
		cmocka_unit_test(test_split_used_when_idle),
		cmocka_unit_test(test_stress_split),
		cmocka_unit_test(test_stress_packed),
		cmocka_unit_test(test_fuzz_split),
		cmocka_unit_test(test_fuzz_packed),
		cmocka_unit_test(test_kick_after_long_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
