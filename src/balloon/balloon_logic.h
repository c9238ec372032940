/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpballoon portable logic (virtio 1.2 5.5): target validation, the
 * inflate/deflate state machine and page accounting, free page reporting
 * (when, how much, batches in flight), PFN encoding and the statistics
 * buffer. No Windows header; unit-tested on the host
 * (tests/unit/test_balloon_logic.c) against a hostile device.
 *
 * Pages move in chunks the glue allocates (one MDL each, up to
 * BL_BATCH pages). A chunk is FREE (guest owns it), INFLATING (posted on
 * inflateq, not yet acknowledged), INFLATED (host owns it: the guest never
 * touches its pages), or DEFLATING (posted on deflateq; the pages go back
 * to Windows only after the device acknowledged). One chunk is in flight at
 * a time, so every acknowledgement must name exactly that chunk: anything
 * else is a protocol error that changes nothing, which is what makes a
 * double free or a lost page impossible.
 */
#ifndef OPENVDP_BALLOON_LOGIC_H
#define OPENVDP_BALLOON_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio/virtio_balloon.h"

#define BL_BATCH        256u     /* pages per chunk: 1 KiB of PFNs, 1 MiB of memory */
/* Never balloon below this much guest memory (pages of 4 KiB): 1/8 of RAM, at least 256 MiB. */
#define BL_MIN_KEEP_PAGES 65536u

#define BL_OK            0
#define BL_EINVAL      (-1)   /* caller error */
#define BL_EPROTO      (-2)   /* device acknowledged a buffer it does not hold */
#define BL_EBUSY       (-3)   /* another chunk is in flight */
#define BL_ERANGE      (-4)   /* a page the device cannot address (PFN >= 2^32) */

enum bl_chunk_state { BL_CHUNK_FREE, BL_CHUNK_INFLATING, BL_CHUNK_INFLATED, BL_CHUNK_DEFLATING };

struct bl_chunk {
	struct bl_chunk *next;       /* INFLATED stack link */
	void *os;                    /* glue: the MDL holding the pages */
	uint32_t npages;
	enum bl_chunk_state state;
	uint64_t pfn[BL_BATCH];      /* guest page frame numbers (PAGE_SIZE units) */
};

enum bl_action { BL_IDLE, BL_INFLATE, BL_DEFLATE, BL_BUSY };

struct balloon {
	uint32_t target;             /* validated device request, pages */
	uint32_t raw_target;         /* as the device wrote it */
	uint32_t max_pages;          /* ceiling from the guest's RAM */
	uint32_t actual;             /* pages the host owns (acknowledged) */
	uint32_t nchunks;            /* INFLATED chunks */
	struct bl_chunk *inflated;   /* stack, most recent first */
	struct bl_chunk *in_flight;
	uint32_t oom_want;           /* pages still to give back for low memory */
	bool oom_hold;               /* no inflation until the target changes */
	bool alloc_backoff;          /* page allocation failed: wait for bl_tick() */
	uint32_t proto_errors;
	uint32_t clamped;            /* targets beyond max_pages seen */
	/* Free page reporting (bl_report_*) */
	uint64_t total_pages;
	bool report_on;              /* negotiated and not switched off */
	bool report_due;             /* a tick passed since the last batch */
	uint32_t report_rest;        /* ticks to pause after a sweep */
	uint64_t report_swept;       /* pages reported in this sweep */
	struct bl_report *report;    /* batch the device holds, or NULL */
	uint64_t reported_pages;     /* pages the device acknowledged */
	uint32_t report_batches;
};

/* total_pages: guest RAM in 4 KiB pages. */
void bl_init(struct balloon *b, uint64_t total_pages);
/* New num_pages from the device; returns the target actually pursued. */
uint32_t bl_set_target(struct balloon *b, uint32_t num_pages);
/* What to do next; *pages: how many pages to allocate for BL_INFLATE. */
enum bl_action bl_next(const struct balloon *b, uint32_t *pages);

/* Inflate: c holds npages (1..BL_BATCH) freshly allocated PFNs. */
int bl_inflate_begin(struct balloon *b, struct bl_chunk *c);
/* Inflateq acknowledged cookie; BL_EPROTO if it is not the chunk in flight. */
int bl_inflate_done(struct balloon *b, const void *cookie);
/* Page allocation gave nothing: stop inflating until bl_tick(). */
void bl_alloc_failed(struct balloon *b);
void bl_tick(struct balloon *b);

/* Deflate: the chunk to post on deflateq (NULL if nothing to give back). */
struct bl_chunk *bl_deflate_begin(struct balloon *b);
/* Deflateq acknowledged cookie: *freed is the chunk whose pages may now be freed. */
int bl_deflate_done(struct balloon *b, const void *cookie, struct bl_chunk **freed);

/* The deflate buffer could not be posted: the chunk stays ballooned. */
int bl_deflate_cancel(struct balloon *b);

/* Low-memory notification (DEFLATE_ON_OOM): give back up to pages now. */
void bl_oom(struct balloon *b, uint32_t pages);

/*
 * Device reset/removal: take back the chunk in flight (its state tells
 * whether the host may hold its pages), then pop every INFLATED chunk.
 * Both return NULL when done; actual is reduced accordingly.
 */
struct bl_chunk *bl_take_in_flight(struct balloon *b);
struct bl_chunk *bl_pop_inflated(struct balloon *b);

/*
 * Encode a chunk's PFNs as le32 in VIRTIO_BALLOON_PFN_SHIFT units for a
 * guest page of 1 << page_shift bytes (>= 12). out holds max entries.
 * Returns the number of entries, or 0 if a PFN does not fit 32 bits or
 * out is too small.
 */
uint32_t bl_encode_pfns(const struct bl_chunk *c, unsigned int page_shift, le32 *out, uint32_t max);

/*
 * Free page reporting (VIRTIO_BALLOON_F_PAGE_REPORTING, virtio 1.2 5.5.6.7).
 * Windows shows no free list, so the driver borrows free pages
 * (MmAllocatePagesForMdlEx), reports them on reporting_vq as
 * device-writable ranges (the device may discard their contents) and gives
 * them back to Windows only after the device returned the buffer. A batch
 * is borrowed only when the balloon is settled, memory is plentiful
 * (BL_REPORT_KEEP and a quarter of RAM stay available besides the batch),
 * at most once per bl_tick() and one batch at a time. Windows may hand out
 * the same free pages again, so after a sweep of a quarter of RAM the
 * driver pauses for BL_REPORT_REST_TICKS.
 */
#define BL_REPORT_PAGES      1024u    /* 4 MiB per batch */
#define BL_REPORT_MAX_RANGES 32u      /* descriptors per buffer */
#define BL_REPORT_KEEP       16384u   /* 64 MiB always left available */
#define BL_REPORT_REST_TICKS 150u     /* 5 minutes at the driver's 2 s period */

struct bl_range {
	uint64_t pfn;
	uint32_t npages;
};

struct bl_report {
	void *os;                    /* glue: the MDL holding the pages */
	uint32_t npages;             /* borrowed */
	uint32_t covered;            /* pages in range[] (the rest is only borrowed) */
	uint32_t nranges;
	bool posted;
	uint64_t pfn[BL_REPORT_PAGES];
	struct bl_range range[BL_REPORT_MAX_RANGES];
};

/* on: the feature was negotiated and the registry allows it. */
void bl_report_enable(struct balloon *b, bool on);
/* Pages to borrow now (0: not now). avail_pages: available memory, 4 KiB
 * pages, BL_STAT_UNKNOWN if unknown (then nothing is reported). */
uint32_t bl_report_next(const struct balloon *b, uint64_t avail_pages);
/*
 * r holds npages (1..BL_REPORT_PAGES) borrowed PFNs: sort and merge them
 * into at most max_ranges (1..BL_REPORT_MAX_RANGES: the queue's
 * descriptors) ranges; pages beyond those stay borrowed, unreported, until
 * the batch comes back. No balloon state: run it outside the lock.
 * BL_EINVAL for bad input, BL_ERANGE for a PFN no machine has (>= 2^40).
 */
int bl_report_build(struct bl_report *r, uint32_t max_ranges);
/* Make the built batch r the one in flight; BL_EBUSY if there is one. */
int bl_report_begin(struct balloon *b, struct bl_report *r);
/* Reporting queue returned cookie: *done is the batch whose pages may go back. */
int bl_report_done(struct balloon *b, const void *cookie, struct bl_report **done);
/* The buffer could not be posted, or device reset: the batch in flight (NULL if none). */
struct bl_report *bl_report_take(struct balloon *b);

/* Guest statistics; UINT64_MAX means "unknown, do not report". */
struct bl_stats {
	uint64_t swap_in, swap_out;  /* bytes */
	uint64_t major_faults, minor_faults;
	uint64_t free_bytes, total_bytes, avail_bytes, cache_bytes;
};
#define BL_STAT_UNKNOWN UINT64_MAX
#define BL_MAX_STATS    8u
/* Fill out[] (BL_MAX_STATS entries); returns the byte length to post. */
uint32_t bl_encode_stats(const struct bl_stats *s, struct virtio_balloon_stat *out);

/*
 * Fill s from the raw answers of ZwQuerySystemInformation:
 * SystemBasicInformation (PageSize at 8, NumberOfPhysicalPages at 12) and
 * SystemPerformanceInformation (AvailablePages at 44, PageFaultCount at 60,
 * PageReadCount at 80, PageReadIoCount at 84, DirtyPagesWriteCount at 96;
 * the same offsets on x86 and x64). Fields a short or implausible buffer
 * cannot give stay BL_STAT_UNKNOWN. Available memory stands for both
 * MEMFREE and AVAIL: Windows counts standby pages as available.
 */
void bl_stats_from_nt(const void *basic, uint32_t basic_len, const void *perf, uint32_t perf_len,
		      struct bl_stats *s);

#endif /* OPENVDP_BALLOON_LOGIC_H */
