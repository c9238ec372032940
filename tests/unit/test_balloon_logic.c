/*
 * Unit tests for src/balloon/balloon_logic.c: target validation, the
 * inflate/deflate state machine against a hostile device (targets beyond
 * RAM, oscillating targets, acknowledgements of unknown, repeated or
 * wrong-queue buffers), low-memory deflation, PFN and statistics encoding,
 * free page reporting (policy, batches in flight, range merging).
 * A model of every page checks that no page is lost or freed twice and that
 * no page the host holds is ever given back to the guest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "balloon_logic.h"

/* ---------------------------------------------------------------- page model */

#define NPAGES   (1u << 20)            /* a 4 GiB guest */
#define NCHUNKS  (NPAGES / BL_BATCH)
enum owner { GUEST, DRIVER, HOST };

static uint8_t owner[NPAGES];
static struct bl_chunk chunks[NCHUNKS];
static uint8_t chunk_used[NCHUNKS];
static uint32_t next_free_page;
static uint32_t free_list[NPAGES];
static uint32_t nfree;

static void model_init(void)
{
	uint32_t i;

	memset(owner, GUEST, sizeof(owner));
	memset(chunk_used, 0, sizeof(chunk_used));
	nfree = 0;
	next_free_page = 0;
	for (i = 0; i < NPAGES; i++)
		free_list[nfree++] = NPAGES - 1 - i;
}

/* The glue's MmAllocatePagesForMdlEx + chunk allocation. */
static struct bl_chunk *model_alloc(uint32_t n)
{
	uint32_t i, k;

	for (k = 0; k < NCHUNKS && chunk_used[k]; k++)
		;
	if (k == NCHUNKS || n == 0)
		return NULL;
	if (n > nfree)
		n = nfree;
	if (n == 0)
		return NULL;
	chunk_used[k] = 1;
	memset(&chunks[k], 0, sizeof(chunks[k]));
	for (i = 0; i < n; i++) {
		uint32_t p = free_list[--nfree];

		assert_int_equal(owner[p], GUEST);
		owner[p] = DRIVER;
		chunks[k].pfn[i] = p;
	}
	chunks[k].npages = n;
	return &chunks[k];
}

/* The glue frees pages: they must not be with the host. */
static void model_free(struct bl_chunk *c)
{
	uint32_t i, k = (uint32_t)(c - chunks);

	assert_true(k < NCHUNKS && chunk_used[k]);
	for (i = 0; i < c->npages; i++) {
		uint32_t p = (uint32_t)c->pfn[i];

		assert_int_not_equal(owner[p], HOST);
		assert_int_equal(owner[p], DRIVER);
		owner[p] = GUEST;
		free_list[nfree++] = p;
	}
	chunk_used[k] = 0;
}

static void model_give_host(struct bl_chunk *c)
{
	uint32_t i;

	for (i = 0; i < c->npages; i++)
		owner[c->pfn[i]] = HOST;
}

static void model_take_back(struct bl_chunk *c)
{
	uint32_t i;

	for (i = 0; i < c->npages; i++)
		owner[c->pfn[i]] = DRIVER;
}

static uint32_t count_owner(enum owner o)
{
	uint32_t i, n = 0;

	for (i = 0; i < NPAGES; i++)
		n += owner[i] == o;
	return n;
}

static void check_invariants(const struct balloon *b)
{
	const struct bl_chunk *c;
	uint32_t sum = 0, n = 0;

	for (c = b->inflated; c; c = c->next) {
		assert_int_equal(c->state, BL_CHUNK_INFLATED);
		sum += c->npages;
		n++;
	}
	assert_int_equal(n, b->nchunks);
	if (b->in_flight && b->in_flight->state == BL_CHUNK_DEFLATING)
		sum += b->in_flight->npages;
	assert_int_equal(sum, b->actual);
	assert_true(b->target <= b->max_pages);
	assert_int_equal(count_owner(GUEST), nfree);
}

/* One step of the glue: act on bl_next(); the device acknowledges at once. */
static void glue_step(struct balloon *b, bool ack)
{
	uint32_t want;
	struct bl_chunk *c, *freed;

	switch (bl_next(b, &want)) {
	case BL_INFLATE:
		c = model_alloc(want);
		if (c == NULL) {
			bl_alloc_failed(b);
			break;
		}
		assert_true(c->npages <= want);
		assert_int_equal(bl_inflate_begin(b, c), BL_OK);
		model_give_host(c);      /* posted: from now on the host may hold them */
		if (ack)
			assert_int_equal(bl_inflate_done(b, c), BL_OK);
		break;
	case BL_DEFLATE:
		c = bl_deflate_begin(b);
		assert_non_null(c);
		if (ack) {
			assert_int_equal(bl_deflate_done(b, c, &freed), BL_OK);
			assert_ptr_equal(freed, c);
			model_take_back(freed);
			model_free(freed);
		}
		break;
	case BL_BUSY:
	case BL_IDLE:
		break;
	}
}

static void settle(struct balloon *b, unsigned int max_steps)
{
	uint32_t want;

	while (max_steps-- && bl_next(b, &want) != BL_IDLE) {
		glue_step(b, true);
		check_invariants(b);
	}
}

static void drain(struct balloon *b)
{
	struct bl_chunk *c;

	c = bl_take_in_flight(b);
	if (c) {
		model_take_back(c);
		model_free(c);
	}
	while ((c = bl_pop_inflated(b)) != NULL) {
		model_take_back(c);
		model_free(c);
	}
	assert_int_equal(b->actual, 0);
	assert_int_equal(count_owner(GUEST), NPAGES);
}

/* ---------------------------------------------------------------- tests */

static void test_target_reaches_exactly(void **state)
{
	static struct balloon b;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	assert_int_equal(bl_set_target(&b, 1000), 1000);
	settle(&b, 100);
	assert_int_equal(b.actual, 1000);
	assert_int_equal(count_owner(HOST), 1000);
	/* Deflate to 900: whole chunks go back, then it inflates up exactly. */
	bl_set_target(&b, 900);
	settle(&b, 100);
	assert_int_equal(b.actual, 900);
	bl_set_target(&b, 0);
	settle(&b, 100);
	assert_int_equal(b.actual, 0);
	assert_int_equal(count_owner(GUEST), NPAGES);
}

static void test_target_beyond_ram(void **state)
{
	static struct balloon b;
	uint32_t t;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	t = bl_set_target(&b, 0xffffffffu);
	assert_true(t < NPAGES);
	assert_int_equal(t, b.max_pages);
	assert_int_equal(b.clamped, 1);
	/* The guest keeps at least 1/8 of its memory. */
	assert_true(NPAGES - t >= NPAGES / 8);
	settle(&b, 10000);
	assert_int_equal(b.actual, t);
	drain(&b);
}

static void test_small_guest(void **state)
{
	static struct balloon b;

	(void)state;
	bl_init(&b, 1000);     /* less than the minimum kept: no ballooning */
	assert_int_equal(bl_set_target(&b, 500), 0);
	uint32_t want;
	assert_int_equal(bl_next(&b, &want), BL_IDLE);
}

static void test_oscillating_target(void **state)
{
	static struct balloon b;
	unsigned int i;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	srand(42);
	for (i = 0; i < 400; i++) {
		uint32_t t = (i & 1) ? 3000 : (uint32_t)(rand() % 5000);

		bl_set_target(&b, t);
		/* The target moves again before the balloon got there. */
		glue_step(&b, true);
		glue_step(&b, true);
		check_invariants(&b);
	}
	settle(&b, 10000);
	assert_int_equal(b.actual, b.target);
	drain(&b);
}

static void test_hostile_acks(void **state)
{
	static struct balloon b;
	static struct bl_chunk bogus;   /* npages 0: refused as invalid below */
	struct bl_chunk *c, *freed;
	uint32_t want;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	bl_set_target(&b, 300);
	/* Acknowledgement with nothing in flight. */
	assert_int_equal(bl_inflate_done(&b, &bogus), BL_EPROTO);
	assert_int_equal(bl_deflate_done(&b, &bogus, &freed), BL_EPROTO);
	assert_null(freed);

	assert_int_equal(bl_next(&b, &want), BL_INFLATE);
	c = model_alloc(want);
	assert_int_equal(bl_inflate_begin(&b, c), BL_OK);
	model_give_host(c);
	/* Unknown buffer, and the right buffer on the wrong queue. */
	assert_int_equal(bl_inflate_done(&b, &bogus), BL_EPROTO);
	assert_int_equal(bl_deflate_done(&b, c, &freed), BL_EPROTO);
	assert_null(freed);
	assert_int_equal(b.actual, 0);
	assert_int_equal(bl_next(&b, &want), BL_BUSY);
	/* A second inflate while one is in flight is refused. */
	assert_int_equal(bl_inflate_begin(&b, &bogus), BL_EINVAL);
	bogus.npages = 1;
	assert_int_equal(bl_inflate_begin(&b, &bogus), BL_EBUSY);
	assert_int_equal(bl_inflate_done(&b, c), BL_OK);
	/* The same acknowledgement twice. */
	assert_int_equal(bl_inflate_done(&b, c), BL_EPROTO);
	assert_int_equal(b.actual, 256);
	check_invariants(&b);

	bl_set_target(&b, 0);
	c = bl_deflate_begin(&b);
	assert_non_null(c);
	assert_null(bl_deflate_begin(&b));
	assert_int_equal(bl_inflate_done(&b, c), BL_EPROTO);     /* wrong queue */
	assert_int_equal(bl_deflate_done(&b, c, &freed), BL_OK);
	model_take_back(freed);
	model_free(freed);
	/* Repeated deflate ack: nothing is freed twice. */
	assert_int_equal(bl_deflate_done(&b, c, &freed), BL_EPROTO);
	assert_null(freed);
	assert_int_equal(b.proto_errors, 7);
	/* A deflate that could not be posted leaves the chunk ballooned. */
	assert_int_equal(bl_deflate_cancel(&b), BL_EINVAL);
	bl_set_target(&b, 256);
	settle(&b, 10);
	bl_set_target(&b, 0);
	c = bl_deflate_begin(&b);
	assert_non_null(c);
	assert_int_equal(bl_deflate_cancel(&b), BL_OK);
	assert_int_equal(b.actual, 256);
	check_invariants(&b);
	settle(&b, 10);
	assert_int_equal(b.actual, 0);
	check_invariants(&b);
	assert_int_equal(count_owner(GUEST), NPAGES);
}

static void test_reset_with_chunk_in_flight(void **state)
{
	static struct balloon b;
	struct bl_chunk *c;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	bl_set_target(&b, 600);
	settle(&b, 100);
	bl_set_target(&b, 100);
	glue_step(&b, false);           /* deflate posted, never acknowledged */
	assert_non_null(b.in_flight);
	check_invariants(&b);
	/* Device reset: everything comes back once. */
	c = bl_take_in_flight(&b);
	assert_non_null(c);
	assert_null(bl_take_in_flight(&b));
	model_take_back(c);
	model_free(c);
	while ((c = bl_pop_inflated(&b)) != NULL) {
		model_take_back(c);
		model_free(c);
	}
	assert_int_equal(b.actual, 0);
	assert_int_equal(count_owner(GUEST), NPAGES);
}

static void test_random_hostile_device(void **state)
{
	static struct balloon b;
	unsigned int i;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	srand(7);
	for (i = 0; i < 3000; i++) {
		int r = rand() % 10;
		struct bl_chunk *freed;

		if (r == 0)
			bl_set_target(&b, (uint32_t)rand() * 3u);
		else if (r == 1)
			bl_inflate_done(&b, &chunks[rand() % NCHUNKS]);
		else if (r == 2) {
			if (bl_deflate_done(&b, &chunks[rand() % NCHUNKS], &freed) == BL_OK) {
				model_take_back(freed);
				model_free(freed);
			}
		} else if (r == 3) {
			bl_oom(&b, (uint32_t)(rand() % 2000));
		} else if (r == 4) {
			bl_tick(&b);
		} else {
			/* Honest acknowledgement of whatever is in flight. */
			struct bl_chunk *c = b.in_flight;

			if (c && c->state == BL_CHUNK_INFLATING)
				assert_int_equal(bl_inflate_done(&b, c), BL_OK);
			else if (c && bl_deflate_done(&b, c, &freed) == BL_OK) {
				model_take_back(freed);
				model_free(freed);
			}
			glue_step(&b, rand() % 2);
		}
		check_invariants(&b);
	}
	drain(&b);
}

static void test_oom(void **state)
{
	static struct balloon b;
	uint32_t want;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	bl_set_target(&b, 2048);
	settle(&b, 100);
	bl_oom(&b, 600);
	settle(&b, 100);
	/* 600 pages asked for: three whole chunks (768) went back ... */
	assert_int_equal(b.actual, 2048 - 768);
	/* ... and the balloon does not grow again for the same target. */
	bl_set_target(&b, 2048);
	assert_int_equal(bl_next(&b, &want), BL_IDLE);
	/* A new target from the host ends the hold. */
	bl_set_target(&b, 2000);
	assert_int_equal(bl_next(&b, &want), BL_INFLATE);
	settle(&b, 100);
	assert_int_equal(b.actual, 2000);
	bl_oom(&b, 1u << 30);           /* more than inflated: everything */
	settle(&b, 100);
	assert_int_equal(b.actual, 0);
	drain(&b);
}

static void test_alloc_backoff(void **state)
{
	static struct balloon b;
	uint32_t want;

	(void)state;
	bl_init(&b, NPAGES);
	bl_set_target(&b, 100);
	bl_alloc_failed(&b);
	assert_int_equal(bl_next(&b, &want), BL_IDLE);
	bl_tick(&b);
	assert_int_equal(bl_next(&b, &want), BL_INFLATE);
	assert_int_equal(want, 100);
}

static void test_encode_pfns(void **state)
{
	static struct bl_chunk c;
	le32 out[BL_BATCH * 4];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.npages = 3;
	c.pfn[0] = 0x10;
	c.pfn[1] = 0xfffffffful;
	c.pfn[2] = 7;
	assert_int_equal(bl_encode_pfns(&c, 12, out, 3), 3);
	assert_int_equal(le32_to_cpu(out[0]), 0x10);
	assert_int_equal(le32_to_cpu(out[1]), 0xffffffffu);
	assert_int_equal(bl_encode_pfns(&c, 12, out, 2), 0);       /* too small */
	/* 16 KiB guest pages: four device PFNs each; 0xffffffff no longer fits. */
	assert_int_equal(bl_encode_pfns(&c, 14, out, 12), 0);
	c.pfn[1] = 0x3fffffff;
	assert_int_equal(bl_encode_pfns(&c, 14, out, 12), 12);
	assert_int_equal(le32_to_cpu(out[0]), 0x40);
	assert_int_equal(le32_to_cpu(out[3]), 0x43);
	assert_int_equal(le32_to_cpu(out[7]), 0xffffffffu);
	/* Above 16 TiB: refused. */
	c.pfn[0] = 0x100000000ull;
	assert_int_equal(bl_encode_pfns(&c, 12, out, 3), 0);
	assert_int_equal(bl_encode_pfns(&c, 11, out, 3), 0);
}

static void test_encode_stats(void **state)
{
	struct virtio_balloon_stat out[BL_MAX_STATS];
	struct bl_stats s = {
		.swap_in = BL_STAT_UNKNOWN, .swap_out = BL_STAT_UNKNOWN,
		.major_faults = 12, .minor_faults = BL_STAT_UNKNOWN,
		.free_bytes = 1ull << 33, .total_bytes = 1ull << 34,
		.avail_bytes = 3ull << 32, .cache_bytes = BL_STAT_UNKNOWN,
	};
	const uint8_t *raw = (const uint8_t *)out;

	(void)state;
	assert_int_equal(bl_encode_stats(&s, out), 4 * 10);
	assert_int_equal(le16_to_cpu(out[0].tag), VIRTIO_BALLOON_S_MAJFLT);
	assert_int_equal(le64_to_cpu(out[0].val), 12);
	/* Packed 10-byte entries, little-endian. */
	assert_int_equal(raw[10], VIRTIO_BALLOON_S_MEMFREE);
	assert_int_equal(raw[11], 0);
	assert_int_equal(raw[12 + 4], 2);
	assert_int_equal(le16_to_cpu(out[2].tag), VIRTIO_BALLOON_S_MEMTOT);
	assert_int_equal(le16_to_cpu(out[3].tag), VIRTIO_BALLOON_S_AVAIL);
	assert_int_equal(le64_to_cpu(out[3].val), 3ull << 32);
}

static void put32(uint8_t *b, uint32_t off, uint32_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
	b[off + 2] = (uint8_t)(v >> 16);
	b[off + 3] = (uint8_t)(v >> 24);
}

static void test_stats_from_nt(void **state)
{
	uint8_t basic[64] = { 0 }, perf[400] = { 0 };
	struct bl_stats s;

	(void)state;
	put32(basic, 8, 4096);
	put32(basic, 12, 262144);            /* 1 GiB */
	put32(perf, 44, 1000);
	put32(perf, 60, 77);
	put32(perf, 80, 5);
	put32(perf, 84, 3);
	put32(perf, 96, 9);
	bl_stats_from_nt(basic, sizeof(basic), perf, sizeof(perf), &s);
	assert_int_equal(s.total_bytes, 1ull << 30);
	assert_int_equal(s.avail_bytes, 1000ull * 4096);
	assert_int_equal(s.free_bytes, 1000ull * 4096);
	assert_int_equal(s.minor_faults, 77);
	assert_int_equal(s.major_faults, 3);
	assert_int_equal(s.swap_in, 5 * 4096);
	assert_int_equal(s.swap_out, 9 * 4096);
	assert_int_equal(s.cache_bytes, BL_STAT_UNKNOWN);
	/* Implausible page size: no byte values at all. */
	put32(basic, 8, 4097);
	bl_stats_from_nt(basic, sizeof(basic), perf, sizeof(perf), &s);
	assert_int_equal(s.total_bytes, BL_STAT_UNKNOWN);
	assert_int_equal(s.avail_bytes, BL_STAT_UNKNOWN);
	assert_int_equal(s.minor_faults, 77);
	/* Available beyond total is capped; short buffers give nothing. */
	put32(basic, 8, 4096);
	put32(perf, 44, 0xffffffffu);
	bl_stats_from_nt(basic, sizeof(basic), perf, sizeof(perf), &s);
	assert_int_equal(s.avail_bytes, s.total_bytes);
	bl_stats_from_nt(basic, 8, perf, 40, &s);
	assert_int_equal(s.total_bytes, BL_STAT_UNKNOWN);
	assert_int_equal(s.minor_faults, BL_STAT_UNKNOWN);
}

/* ---------------------------------------------------------------- free page reporting */

#define RAM_PAGES 262144u                /* 1 GiB guest: keeps a quarter, 65536 pages */
#define PLENTY    (RAM_PAGES / 2)

static void test_report_policy(void **state)
{
	static struct balloon b;
	static struct bl_report r;
	struct bl_report *done;
	uint32_t want;

	(void)state;
	bl_init(&b, RAM_PAGES);
	/* Not negotiated or switched off: never. */
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_report_enable(&b, true);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_tick(&b);
	assert_int_equal(bl_report_next(&b, PLENTY), BL_REPORT_PAGES);
	/* Memory short or unknown, or an implausible figure: nothing. */
	assert_int_equal(bl_report_next(&b, BL_STAT_UNKNOWN), 0);
	assert_int_equal(bl_report_next(&b, RAM_PAGES / 4 + BL_REPORT_PAGES - 1), 0);
	assert_int_equal(bl_report_next(&b, RAM_PAGES / 4 + BL_REPORT_PAGES), BL_REPORT_PAGES);
	assert_int_equal(bl_report_next(&b, RAM_PAGES + 1), 0);
	/* A small guest keeps BL_REPORT_KEEP pages at least. */
	{
		static struct balloon s;

		bl_init(&s, 20000);
		bl_report_enable(&s, true);
		bl_tick(&s);
		assert_int_equal(bl_report_next(&s, 17000), 0);
		assert_int_equal(bl_report_next(&s, BL_REPORT_KEEP + BL_REPORT_PAGES), BL_REPORT_PAGES);
	}
	/* The balloon first follows its target. */
	bl_set_target(&b, 300);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_set_target(&b, 0);
	bl_oom(&b, 10);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_set_target(&b, 1);
	bl_set_target(&b, 0);
	bl_alloc_failed(&b);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_tick(&b);
	/* One batch at a time, then not before the next tick. */
	r.npages = 2;
	r.pfn[0] = 100;
	r.pfn[1] = 101;
	assert_int_equal(bl_report_build(&r, BL_REPORT_MAX_RANGES), BL_OK);
	assert_int_equal(bl_report_begin(&b, &r), BL_OK);
	assert_int_equal(bl_report_begin(&b, &r), BL_EBUSY);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	/* Inflation goes on while the device holds a report. */
	bl_set_target(&b, 10);
	assert_int_equal(bl_next(&b, &want), BL_INFLATE);
	bl_set_target(&b, 0);
	assert_int_equal(bl_report_done(&b, &r, &done), BL_OK);
	assert_ptr_equal(done, &r);
	assert_int_equal(b.reported_pages, 2);
	assert_int_equal(b.report_batches, 1);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
	bl_tick(&b);
	assert_int_equal(bl_report_next(&b, PLENTY), BL_REPORT_PAGES);
	bl_report_enable(&b, false);
	bl_tick(&b);
	assert_int_equal(bl_report_next(&b, PLENTY), 0);
}

/* After a quarter of RAM, a pause of BL_REPORT_REST_TICKS, then a new sweep. */
static void test_report_sweep_rest(void **state)
{
	static struct balloon b;
	static struct bl_report r;
	struct bl_report *done;
	uint32_t i, batches = 0;

	(void)state;
	bl_init(&b, RAM_PAGES);
	bl_report_enable(&b, true);
	bl_tick(&b);
	r.npages = BL_REPORT_PAGES;
	while (bl_report_next(&b, PLENTY)) {
		for (i = 0; i < BL_REPORT_PAGES; i++)
			r.pfn[i] = 1000 + i;
		assert_int_equal(bl_report_build(&r, BL_REPORT_MAX_RANGES), BL_OK);
		assert_int_equal(bl_report_begin(&b, &r), BL_OK);
		assert_int_equal(bl_report_done(&b, &r, &done), BL_OK);
		batches++;
		bl_tick(&b);
		assert_true(batches <= RAM_PAGES / 4 / BL_REPORT_PAGES);
	}
	assert_int_equal(batches, RAM_PAGES / 4 / BL_REPORT_PAGES);
	assert_int_equal(b.reported_pages, (uint64_t)batches * BL_REPORT_PAGES);
	/* The loop's last tick was the first of the pause. */
	for (i = 2; i < BL_REPORT_REST_TICKS; i++) {
		bl_tick(&b);
		assert_int_equal(bl_report_next(&b, PLENTY), 0);
	}
	bl_tick(&b);
	assert_int_equal(bl_report_next(&b, PLENTY), BL_REPORT_PAGES);
}

/*
 * Balloon and reporting against a random device: returns of unknown,
 * repeated or balloon buffers on the reporting queue, resets, targets,
 * low memory. A reported page may go back to the guest only when the
 * device returned its buffer or was reset, and exactly once.
 */
static void test_report_random(void **state)
{
	static struct balloon b;
	static struct bl_report r;
	static uint8_t held[BL_REPORT_PAGES];   /* page 5000+i is with the device */
	struct bl_report *done;
	unsigned int i, k, out = 0, given_back = 0;

	(void)state;
	model_init();
	bl_init(&b, NPAGES);
	bl_report_enable(&b, true);
	srand(11);
	for (i = 0; i < 5000; i++) {
		int op = rand() % 10;

		if (op == 0) {
			bl_set_target(&b, (uint32_t)rand() % 4000u);
		} else if (op == 1) {
			bl_tick(&b);
		} else if (op == 2) {
			/* Hostile: a return of something else, or of r when it is not out. */
			void *bogus = rand() % 2 ? (void *)&chunks[rand() % NCHUNKS] : (void *)&r;

			if (bl_report_done(&b, bogus, &done) == BL_OK) {
				assert_true(out && bogus == &r);
				goto returned;
			}
			assert_null(done);
		} else if (op == 3) {
			bl_oom(&b, (uint32_t)(rand() % 600));
		} else if (op == 4 && out && rand() % 4 == 0) {
			/* Device reset: the batch comes back through take. */
			assert_ptr_equal(bl_report_take(&b), &r);
			goto returned;
		} else if (op == 5 && out) {
			assert_int_equal(bl_report_done(&b, &r, &done), BL_OK);
			assert_ptr_equal(done, &r);
			goto returned;
		} else {
			uint32_t n = bl_report_next(&b, NPAGES / 2);

			if (n) {
				assert_false(out);
				assert_null(b.in_flight);
				assert_int_equal(b.actual, b.target);
				r.npages = 1 + (uint32_t)rand() % n;
				for (k = 0; k < r.npages; k++)
					r.pfn[k] = 5000 + k;
				assert_int_equal(bl_report_build(&r, 1 + (uint32_t)rand() % BL_REPORT_MAX_RANGES), BL_OK);
				assert_int_equal(bl_report_begin(&b, &r), BL_OK);
				for (k = 0; k < r.npages; k++)
					held[k] = 1;
				out = r.npages;
			}
			glue_step(&b, true);
		}
		check_invariants(&b);
		continue;
returned:
		assert_true(out > 0);
		for (k = 0; k < out; k++) {
			assert_int_equal(held[k], 1);
			held[k] = 0;
		}
		given_back += out;
		out = 0;
		assert_null(bl_report_take(&b));
		check_invariants(&b);
	}
	if (out)
		assert_ptr_equal(bl_report_take(&b), &r);
	assert_true(given_back > 0);
	drain(&b);
}

static void test_report_hostile_device(void **state)
{
	static struct balloon b;
	static struct bl_report r, other;
	struct bl_report *done = (struct bl_report *)1;
	struct bl_chunk c;

	(void)state;
	bl_init(&b, RAM_PAGES);
	bl_report_enable(&b, true);
	/* Nothing in flight: any return is a protocol error. */
	assert_int_equal(bl_report_done(&b, &r, &done), BL_EPROTO);
	assert_null(done);
	r.npages = 1;
	r.pfn[0] = 7;
	assert_int_equal(bl_report_build(&r, 1), BL_OK);
	assert_int_equal(bl_report_begin(&b, &r), BL_OK);
	/* Unknown cookies, a balloon chunk, NULL: the batch stays with the device. */
	assert_int_equal(bl_report_done(&b, &other, &done), BL_EPROTO);
	assert_int_equal(bl_report_done(&b, &c, &done), BL_EPROTO);
	assert_int_equal(bl_report_done(&b, NULL, &done), BL_EPROTO);
	assert_int_equal(bl_inflate_done(&b, &r), BL_EPROTO);
	assert_ptr_equal(b.report, &r);
	assert_int_equal(b.proto_errors, 5);
	assert_int_equal(bl_report_done(&b, &r, &done), BL_OK);
	/* Returned twice: the second is refused, nothing freed twice. */
	assert_int_equal(bl_report_done(&b, &r, &done), BL_EPROTO);
	assert_null(done);
	assert_int_equal(b.reported_pages, 1);
	/* Reset with a batch in flight: the glue takes it back exactly once. */
	bl_tick(&b);
	assert_int_equal(bl_report_build(&r, 1), BL_OK);
	assert_int_equal(bl_report_begin(&b, &r), BL_OK);
	assert_ptr_equal(bl_report_take(&b), &r);
	assert_null(bl_report_take(&b));
	assert_int_equal(bl_report_done(&b, &r, &done), BL_EPROTO);
	assert_int_equal(b.reported_pages, 1);
}

static void test_report_ranges(void **state)
{
	static struct bl_report r;
	uint32_t i, sum;

	(void)state;
	/* Bad input. */
	r.npages = 0;
	assert_int_equal(bl_report_build(&r, 4), BL_EINVAL);
	r.npages = BL_REPORT_PAGES + 1;
	assert_int_equal(bl_report_build(&r, 4), BL_EINVAL);
	r.npages = 1;
	r.pfn[0] = 5;
	assert_int_equal(bl_report_build(&r, 0), BL_EINVAL);
	assert_int_equal(bl_report_build(&r, BL_REPORT_MAX_RANGES + 1), BL_EINVAL);
	assert_int_equal(bl_report_build(NULL, 4), BL_EINVAL);
	r.pfn[0] = 1ull << 40;
	assert_int_equal(bl_report_build(&r, 4), BL_ERANGE);
	{
		static struct balloon b;
		static struct bl_report empty;

		bl_init(&b, RAM_PAGES);
		assert_int_equal(bl_report_begin(&b, &empty), BL_EINVAL);
		assert_int_equal(bl_report_begin(&b, NULL), BL_EINVAL);
	}
	/* Shuffled pages of three runs merge into three ranges; a duplicate counts once. */
	r.npages = 9;
	r.pfn[0] = 52; r.pfn[1] = 10; r.pfn[2] = 50; r.pfn[3] = 11; r.pfn[4] = 51;
	r.pfn[5] = 12; r.pfn[6] = 1000; r.pfn[7] = 11; r.pfn[8] = 13;
	assert_int_equal(bl_report_build(&r, 4), BL_OK);
	assert_int_equal(r.nranges, 3);
	assert_int_equal(r.range[0].pfn, 10);
	assert_int_equal(r.range[0].npages, 4);
	assert_int_equal(r.range[1].pfn, 50);
	assert_int_equal(r.range[1].npages, 3);
	assert_int_equal(r.range[2].pfn, 1000);
	assert_int_equal(r.range[2].npages, 1);
	assert_int_equal(r.covered, 8);
	/* More runs than descriptors: the first max_ranges are reported, the rest only borrowed. */
	assert_int_equal(bl_report_build(&r, 2), BL_OK);
	assert_int_equal(r.nranges, 2);
	assert_int_equal(r.covered, 7);
	/* A full batch of scattered pages in random order. */
	srand(7);
	r.npages = BL_REPORT_PAGES;
	for (i = 0; i < BL_REPORT_PAGES; i++)
		r.pfn[i] = (uint64_t)(i * 2) + 4096;   /* every other page: no two adjacent */
	for (i = BL_REPORT_PAGES - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand() % (i + 1);
		uint64_t t = r.pfn[i];

		r.pfn[i] = r.pfn[j];
		r.pfn[j] = t;
	}
	assert_int_equal(bl_report_build(&r, BL_REPORT_MAX_RANGES), BL_OK);
	assert_int_equal(r.nranges, BL_REPORT_MAX_RANGES);
	assert_int_equal(r.covered, BL_REPORT_MAX_RANGES);
	for (i = 1; i < BL_REPORT_PAGES; i++)
		assert_true(r.pfn[i - 1] < r.pfn[i]);
	/* One contiguous run given backwards: one range covering everything. */
	for (i = 0; i < BL_REPORT_PAGES; i++)
		r.pfn[i] = 0x100000 + BL_REPORT_PAGES - 1 - i;
	assert_int_equal(bl_report_build(&r, 1), BL_OK);
	assert_int_equal(r.nranges, 1);
	assert_int_equal(r.range[0].pfn, 0x100000);
	assert_int_equal(r.range[0].npages, BL_REPORT_PAGES);
	/* Random runs: ranges are sorted, disjoint, and cover exactly 'covered' pages. */
	for (unsigned int round = 0; round < 50; round++) {
		r.npages = 1 + (uint32_t)rand() % BL_REPORT_PAGES;
		for (i = 0; i < r.npages; i++)
			r.pfn[i] = (uint64_t)(rand() % 3000);
		assert_int_equal(bl_report_build(&r, 1 + (uint32_t)rand() % BL_REPORT_MAX_RANGES), BL_OK);
		sum = 0;
		for (i = 0; i < r.nranges; i++) {
			assert_true(r.range[i].npages > 0);
			if (i)
				assert_true(r.range[i - 1].pfn + r.range[i - 1].npages < r.range[i].pfn);
			sum += r.range[i].npages;
		}
		assert_int_equal(sum, r.covered);
		assert_true(r.covered <= r.npages && r.covered > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_reaches_exactly),
		cmocka_unit_test(test_target_beyond_ram),
		cmocka_unit_test(test_small_guest),
		cmocka_unit_test(test_oscillating_target),
		cmocka_unit_test(test_hostile_acks),
		cmocka_unit_test(test_reset_with_chunk_in_flight),
		cmocka_unit_test(test_random_hostile_device),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_alloc_backoff),
		cmocka_unit_test(test_encode_pfns),
		cmocka_unit_test(test_encode_stats),
		cmocka_unit_test(test_stats_from_nt),
		cmocka_unit_test(test_report_policy),
		cmocka_unit_test(test_report_sweep_rest),
		cmocka_unit_test(test_report_random),
		cmocka_unit_test(test_report_hostile_device),
		cmocka_unit_test(test_report_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
