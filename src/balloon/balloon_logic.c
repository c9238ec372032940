/* SPDX-License-Identifier: BSD-2-Clause */
/* vdpballoon portable logic; see balloon_logic.h. */
#include "balloon_logic.h"

void bl_init(struct balloon *b, uint64_t total_pages)
{
	uint64_t keep = total_pages / 8;

	if (keep < BL_MIN_KEEP_PAGES)
		keep = BL_MIN_KEEP_PAGES;
	b->max_pages = total_pages > keep ? (uint32_t)((total_pages - keep) > UINT32_MAX ?
				UINT32_MAX : total_pages - keep) : 0;
	b->target = 0;
	b->raw_target = 0;
	b->actual = 0;
	b->nchunks = 0;
	b->inflated = NULL;
	b->in_flight = NULL;
	b->oom_want = 0;
	b->oom_hold = false;
	b->alloc_backoff = false;
	b->proto_errors = 0;
	b->clamped = 0;
	b->total_pages = total_pages;
	b->report_on = false;
	b->report_due = false;
	b->report_rest = 0;
	b->report_swept = 0;
	b->report = NULL;
	b->reported_pages = 0;
	b->report_batches = 0;
}

uint32_t bl_set_target(struct balloon *b, uint32_t num_pages)
{
	/* A new request from the host ends a low-memory hold. */
	if (num_pages != b->raw_target) {
		b->oom_hold = false;
		b->oom_want = 0;
	}
	b->raw_target = num_pages;
	if (num_pages > b->max_pages) {
		b->clamped++;
		num_pages = b->max_pages;
	}
	b->target = num_pages;
	return num_pages;
}

enum bl_action bl_next(const struct balloon *b, uint32_t *pages)
{
	uint32_t n;

	*pages = 0;
	if (b->in_flight)
		return BL_BUSY;
	if (b->oom_want && b->inflated)
		return BL_DEFLATE;
	if (b->actual > b->target && b->inflated)
		return BL_DEFLATE;
	if (b->oom_hold || b->alloc_backoff || b->actual >= b->target)
		return BL_IDLE;
	n = b->target - b->actual;
	*pages = n > BL_BATCH ? BL_BATCH : n;
	return BL_INFLATE;
}

int bl_inflate_begin(struct balloon *b, struct bl_chunk *c)
{
	if (c == NULL || c->npages == 0 || c->npages > BL_BATCH)
		return BL_EINVAL;
	if (b->in_flight)
		return BL_EBUSY;
	c->state = BL_CHUNK_INFLATING;
	c->next = NULL;
	b->in_flight = c;
	return BL_OK;
}

int bl_inflate_done(struct balloon *b, const void *cookie)
{
	struct bl_chunk *c = b->in_flight;

	if (c == NULL || cookie != c || c->state != BL_CHUNK_INFLATING) {
		b->proto_errors++;
		return BL_EPROTO;
	}
	c->state = BL_CHUNK_INFLATED;
	c->next = b->inflated;
	b->inflated = c;
	b->nchunks++;
	b->actual += c->npages;
	b->in_flight = NULL;
	return BL_OK;
}

void bl_alloc_failed(struct balloon *b)
{
	b->alloc_backoff = true;
}

void bl_tick(struct balloon *b)
{
	b->alloc_backoff = false;
	b->report_due = b->report_on;
	if (b->report_rest)
		b->report_rest--;
}

struct bl_chunk *bl_deflate_begin(struct balloon *b)
{
	struct bl_chunk *c = b->inflated;

	if (b->in_flight || c == NULL)
		return NULL;
	b->inflated = c->next;
	b->nchunks--;
	c->next = NULL;
	c->state = BL_CHUNK_DEFLATING;
	b->in_flight = c;
	return c;
}

int bl_deflate_done(struct balloon *b, const void *cookie, struct bl_chunk **freed)
{
	struct bl_chunk *c = b->in_flight;

	*freed = NULL;
	if (c == NULL || cookie != c || c->state != BL_CHUNK_DEFLATING) {
		b->proto_errors++;
		return BL_EPROTO;
	}
	c->state = BL_CHUNK_FREE;
	b->actual -= c->npages;
	b->oom_want = b->oom_want > c->npages ? b->oom_want - c->npages : 0;
	b->in_flight = NULL;
	*freed = c;
	return BL_OK;
}

int bl_deflate_cancel(struct balloon *b)
{
	struct bl_chunk *c = b->in_flight;

	if (c == NULL || c->state != BL_CHUNK_DEFLATING)
		return BL_EINVAL;
	c->state = BL_CHUNK_INFLATED;
	c->next = b->inflated;
	b->inflated = c;
	b->nchunks++;
	b->in_flight = NULL;
	return BL_OK;
}

void bl_oom(struct balloon *b, uint32_t pages)
{
	b->oom_hold = true;
	b->oom_want = pages > b->actual ? b->actual : pages;
}

struct bl_chunk *bl_take_in_flight(struct balloon *b)
{
	struct bl_chunk *c = b->in_flight;

	b->in_flight = NULL;
	if (c && c->state == BL_CHUNK_DEFLATING)
		b->actual -= c->npages;     /* was counted while the host held it */
	return c;
}

struct bl_chunk *bl_pop_inflated(struct balloon *b)
{
	struct bl_chunk *c = b->inflated;

	if (c == NULL)
		return NULL;
	b->inflated = c->next;
	b->nchunks--;
	b->actual -= c->npages;
	c->next = NULL;
	c->state = BL_CHUNK_FREE;
	return c;
}

uint32_t bl_encode_pfns(const struct bl_chunk *c, unsigned int page_shift, le32 *out, uint32_t max)
{
	uint32_t per, i, j, n = 0;

	if (page_shift < VIRTIO_BALLOON_PFN_SHIFT || page_shift > 20 || c->npages > BL_BATCH)
		return 0;
	per = 1u << (page_shift - VIRTIO_BALLOON_PFN_SHIFT);
	if ((uint64_t)c->npages * per > max)
		return 0;
	for (i = 0; i < c->npages; i++) {
		unsigned int shift = page_shift - VIRTIO_BALLOON_PFN_SHIFT;
		uint64_t base;

		/* The device takes 32-bit PFNs: a page above 16 TiB cannot be ballooned. */
		if (c->pfn[i] > (UINT32_MAX >> shift))
			return 0;
		base = c->pfn[i] << shift;
		for (j = 0; j < per; j++)
			out[n++] = cpu_to_le32((uint32_t)(base + j));
	}
	return n;
}

static void bl_put_stat(struct virtio_balloon_stat *out, uint32_t *n, uint16_t tag, uint64_t v)
{
	if (v == BL_STAT_UNKNOWN)
		return;
	out[*n].tag = cpu_to_le16(tag);
	out[*n].val = cpu_to_le64(v);
	(*n)++;
}

uint32_t bl_encode_stats(const struct bl_stats *s, struct virtio_balloon_stat *out)
{
	uint32_t n = 0;

	bl_put_stat(out, &n, VIRTIO_BALLOON_S_SWAP_IN, s->swap_in);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_SWAP_OUT, s->swap_out);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_MAJFLT, s->major_faults);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_MINFLT, s->minor_faults);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_MEMFREE, s->free_bytes);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_MEMTOT, s->total_bytes);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_AVAIL, s->avail_bytes);
	bl_put_stat(out, &n, VIRTIO_BALLOON_S_CACHES, s->cache_bytes);
	return n * (uint32_t)sizeof(*out);
}

static uint32_t bl_get32(const void *buf, uint32_t off)
{
	const uint8_t *p = (const uint8_t *)buf + off;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void bl_stats_from_nt(const void *basic, uint32_t basic_len, const void *perf, uint32_t perf_len,
		      struct bl_stats *s)
{
	uint64_t page = 0;

	s->swap_in = s->swap_out = s->major_faults = s->minor_faults = BL_STAT_UNKNOWN;
	s->free_bytes = s->total_bytes = s->avail_bytes = s->cache_bytes = BL_STAT_UNKNOWN;
	if (basic && basic_len >= 16) {
		uint32_t ps = bl_get32(basic, 8);

		/* A power of two between 4 KiB and 64 KiB, or nothing is trusted. */
		if (ps >= 4096 && ps <= 65536 && (ps & (ps - 1)) == 0) {
			page = ps;
			s->total_bytes = (uint64_t)bl_get32(basic, 12) * page;
		}
	}
	if (perf == NULL || perf_len < 88)
		return;
	if (page) {
		s->avail_bytes = (uint64_t)bl_get32(perf, 44) * page;
		if (s->avail_bytes > s->total_bytes)
			s->avail_bytes = s->total_bytes;
		s->free_bytes = s->avail_bytes;
		s->swap_in = (uint64_t)bl_get32(perf, 80) * page;
		if (perf_len >= 100)
			s->swap_out = (uint64_t)bl_get32(perf, 96) * page;
	}
	s->minor_faults = bl_get32(perf, 60);
	s->major_faults = bl_get32(perf, 84);
}

/* ------------------------------------------------------------ free page reporting */

void bl_report_enable(struct balloon *b, bool on)
{
	/* The first batch waits for a tick: the system settles after a start. */
	b->report_on = on;
	b->report_due = false;
}

uint32_t bl_report_next(const struct balloon *b, uint64_t avail_pages)
{
	uint64_t keep = b->total_pages / 4;

	if (!b->report_on || !b->report_due || b->report_rest || b->report || avail_pages == BL_STAT_UNKNOWN)
		return 0;
	/* Inflation and deflation come first, and memory pressure stops reporting. */
	if (b->in_flight || b->oom_hold || b->oom_want || b->alloc_backoff || b->actual != b->target)
		return 0;
	if (keep < BL_REPORT_KEEP)
		keep = BL_REPORT_KEEP;
	if (avail_pages > b->total_pages || avail_pages < keep + BL_REPORT_PAGES)
		return 0;
	return BL_REPORT_PAGES;
}

/* Heap sort: bounded time for any input, no recursion on a kernel stack. */
static void bl_sift(uint64_t *a, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		uint64_t t;

		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1] > a[child])
			child++;
		if (a[root] >= a[child])
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static void bl_sort(uint64_t *a, uint32_t n)
{
	uint32_t i;

	for (i = n / 2; i-- > 0;)
		bl_sift(a, i, n);
	for (i = n; i-- > 1;) {
		uint64_t t = a[0];

		a[0] = a[i];
		a[i] = t;
		bl_sift(a, 0, i);
	}
}

int bl_report_build(struct bl_report *r, uint32_t max_ranges)
{
	uint32_t i, n = 0;

	if (r == NULL || r->npages == 0 || r->npages > BL_REPORT_PAGES || max_ranges == 0 ||
	    max_ranges > BL_REPORT_MAX_RANGES)
		return BL_EINVAL;
	for (i = 0; i < r->npages; i++)
		if (r->pfn[i] >= (1ull << 40))
			return BL_ERANGE;
	bl_sort(r->pfn, r->npages);
	r->covered = 0;
	for (i = 0; i < r->npages; i++) {
		/* The system gave the same page twice: report it once. */
		if (i && r->pfn[i] == r->pfn[i - 1])
			continue;
		if (n && r->range[n - 1].pfn + r->range[n - 1].npages == r->pfn[i]) {
			r->range[n - 1].npages++;
		} else {
			if (n == max_ranges)
				break;
			r->range[n].pfn = r->pfn[i];
			r->range[n].npages = 1;
			n++;
		}
		r->covered++;
	}
	r->nranges = n;
	r->posted = false;
	return BL_OK;
}

int bl_report_begin(struct balloon *b, struct bl_report *r)
{
	if (r == NULL || r->nranges == 0 || r->covered == 0 || r->covered > r->npages)
		return BL_EINVAL;
	if (b->report)
		return BL_EBUSY;
	r->posted = true;
	b->report = r;
	b->report_due = false;
	return BL_OK;
}

int bl_report_done(struct balloon *b, const void *cookie, struct bl_report **done)
{
	struct bl_report *r = b->report;

	*done = NULL;
	if (r == NULL || cookie != r || !r->posted) {
		b->proto_errors++;
		return BL_EPROTO;
	}
	r->posted = false;
	b->report = NULL;
	b->reported_pages += r->covered;
	b->report_batches++;
	b->report_swept += r->npages;
	if (b->report_swept >= b->total_pages / 4) {
		b->report_swept = 0;
		b->report_rest = BL_REPORT_REST_TICKS;
	}
	*done = r;
	return BL_OK;
}

struct bl_report *bl_report_take(struct balloon *b)
{
	struct bl_report *r = b->report;

	b->report = NULL;
	if (r)
		r->posted = false;
	return r;
}
