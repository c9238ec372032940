/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpballoon: WDM function driver for the virtio memory balloon (virtio
 * 1.2 5.5).
 *
 * All page work runs in one work item at PASSIVE_LEVEL, woken by the
 * configuration-change interrupt and by a periodic timer: it follows
 * bl_next() (balloon_logic.c), allocating chunks with
 * MmAllocatePagesForMdlEx for inflation and freeing them only after the
 * device acknowledged a deflation. One chunk is in flight at a time and the
 * worker waits (bounded) for its acknowledgement, which the DPC validates.
 * The statistics buffer is refreshed whenever the host returns it. With
 * DEFLATE_ON_OOM the timer watches \KernelObjects\LowMemoryCondition.
 *
 * Free page reporting (PAGE_REPORTING, unless the device key's
 * FreePageReporting is 0): when the balloon is settled and memory is
 * plentiful, the worker borrows a batch of free pages (at most one per
 * timer period), posts them on reporting_vq as device-writable ranges and
 * frees them back to Windows only once the device returned the buffer.
 * Their contents are never relied on: the device may discard them.
 */
#include "brand.h"
#include "vwdm.h"
#include "balloon_logic.h"

#define BAL_TAG             'laBV'
#define BAL_Q_INFLATE       0
#define BAL_Q_DEFLATE       1
#define BAL_Q_STATS         2
#define BAL_NQ_MAX          4        /* + reporting_vq (no FREE_PAGE_HINT) */
#define BAL_PERIOD_MS       2000
#define BAL_ACK_TIMEOUT_MS  5000
#define BAL_STEPS_PER_RUN   64       /* 64 MiB per run, then yield the worker thread */
#define BAL_OOM_PAGES       (4 * BL_BATCH)
#define BAL_CFG_NUM_PAGES   0
#define BAL_CFG_ACTUAL      4
#define BAL_PFN_MAX         (BL_BATCH * (PAGE_SIZE >> VIRTIO_BALLOON_PFN_SHIFT))
#define BAL_MAX_HIGH_ADDR   0xfffffffffffull   /* 32-bit PFNs of 4 KiB: below 16 TiB */

struct bal_dev {
	struct vwdm_dev wd;            /* first: the glue finds itself here */
	KSPIN_LOCK lock;               /* bl, the queues, freed, reported */
	struct balloon bl;
	struct vwdm_queue q[BAL_NQ_MAX];
	bool has_stats;
	bool oom_ok;
	bool has_report;
	unsigned int report_qi;        /* reporting_vq's index: depends on the features */
	struct bl_report *report;      /* the one batch buffer (pool) */
	struct bl_report *reported;    /* returned batch waiting for the worker */
	le32 *pfns;                    /* DMA: PFNs of the chunk in flight */
	uint64_t pfns_pa;
	struct virtio_balloon_stat *stats;   /* DMA */
	uint64_t stats_pa;
	volatile LONG stats_wanted;    /* host returned the stats buffer */
	struct bl_chunk *freed;        /* deflated chunk waiting for the worker */
	KEVENT ack;
	struct vwdm_worker worker;     /* page work at PASSIVE_LEVEL */
	KTIMER timer;
	KDPC timer_dpc;
	PKEVENT low_memory;
	HANDLE low_memory_handle;
	volatile LONG running;
	volatile LONG stopping;        /* teardown owns the page work: no worker */
	volatile LONG cut_report_wait; /* teardown: a held report is taken back after the reset */
};
_Static_assert(offsetof(struct bal_dev, wd) == 0, "vwdm finds the device at the extension start");

DRIVER_INITIALIZE DriverEntry;

static void bal_kick_worker(struct bal_dev *d);

/* ------------------------------------------------------------------ chunks */

/* Up to n pages from Windows below max_addr (contents never read, so not
 * zeroed): their PFNs in pfn[], their count in *got; the MDL gives them
 * back (bal_pages_put). NULL when Windows has none to spare. */
static PMDL bal_pages_get(uint32_t n, LONGLONG max_addr, ULONG flags, uint64_t *pfn, uint32_t *got)
{
	PHYSICAL_ADDRESS lo, hi, skip;
	PPFN_NUMBER p;
	PMDL mdl;
	uint32_t i, k;

	lo.QuadPart = 0;
	hi.QuadPart = max_addr;
	skip.QuadPart = 0;
	mdl = MmAllocatePagesForMdlEx(lo, hi, skip, (SIZE_T)n * PAGE_SIZE, MmCached,
				      MM_DONT_ZERO_ALLOCATION | flags);
	if (mdl == NULL)
		return NULL;
	/* Partial grants are fine; more than asked for would overrun pfn[]. */
	k = MmGetMdlByteCount(mdl) >> PAGE_SHIFT;
	if (k == 0 || k > n) {
		MmFreePagesFromMdl(mdl);
		ExFreePool(mdl);
		return NULL;
	}
	p = MmGetMdlPfnArray(mdl);
	for (i = 0; i < k; i++)
		pfn[i] = p[i];
	*got = k;
	return mdl;
}

static void bal_pages_put(PMDL mdl)
{
	MmFreePagesFromMdl(mdl);
	ExFreePool(mdl);
}

static struct bl_chunk *bal_chunk_alloc(uint32_t pages)
{
	struct bl_chunk *c;

	c = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*c), BAL_TAG);
	if (c == NULL)
		return NULL;
	RtlZeroMemory(c, sizeof(*c));
	c->os = bal_pages_get(pages, (LONGLONG)BAL_MAX_HIGH_ADDR, 0, c->pfn, &c->npages);
	if (c->os == NULL) {
		ExFreePoolWithTag(c, BAL_TAG);
		return NULL;
	}
	return c;
}

static void bal_chunk_free(struct bl_chunk *c)
{
	bal_pages_put(c->os);
	ExFreePoolWithTag(c, BAL_TAG);
}

/* Borrow n free pages into r; false if Windows has none to spare.
 * bl_report_build() takes PFNs below 2^40; contiguous pages need fewer
 * descriptors. */
static bool bal_report_fill(struct bl_report *r, uint32_t n)
{
	r->os = bal_pages_get(n, (1LL << 52) - 1, MM_ALLOCATE_PREFER_CONTIGUOUS, r->pfn, &r->npages);
	return r->os != NULL;
}

/* The device no longer holds r (returned, or reset): the pages go back. */
static void bal_report_release(struct bl_report *r)
{
	PMDL mdl = r->os;

	if (mdl == NULL)
		return;
	r->os = NULL;
	r->npages = 0;
	bal_pages_put(mdl);
}

/* ------------------------------------------------------------------ device I/O */

/* Post c's PFNs on queue qi; under d->lock. */
static bool bal_post_chunk(struct bal_dev *d, unsigned int qi, struct bl_chunk *c)
{
	struct vq_sg sg;
	uint32_t n = bl_encode_pfns(c, PAGE_SHIFT, d->pfns, BAL_PFN_MAX);

	if (n == 0)
		return false;
	sg.addr = d->pfns_pa;
	sg.len = n * (uint32_t)sizeof(le32);
	if (vq_add(d->q[qi].vq, &sg, 1, 0, c) != VIRTIO_OK)
		return false;
	if (vq_kick_prepare(d->q[qi].vq))
		vq_notify(d->q[qi].vq);
	return true;
}

static void bal_query_stats(struct bl_stats *s)
{
	ULONG basic[16], got_b = 0, got_p = 0;
	void *perf;
	NTSTATUS st;

	RtlZeroMemory(basic, sizeof(basic));
	st = ZwQuerySystemInformation(NTKEXT_SYSTEM_BASIC_INFORMATION, basic, sizeof(basic), &got_b);
	if (!NT_SUCCESS(st) || got_b > sizeof(basic))
		got_b = 0;
	/* The performance structure grows between releases: ask with room to spare. */
	perf = ExAllocatePoolWithTag(NonPagedPoolNx, 1024, BAL_TAG);
	if (perf) {
		RtlZeroMemory(perf, 1024);
		st = ZwQuerySystemInformation(NTKEXT_SYSTEM_PERFORMANCE_INFORMATION, perf, 1024, &got_p);
		if (!NT_SUCCESS(st) || got_p > 1024)
			got_p = 0;
	}
	bl_stats_from_nt(got_b ? basic : NULL, got_b, got_p ? perf : NULL, got_p, s);
	if (perf)
		ExFreePoolWithTag(perf, BAL_TAG);
}

static void bal_fill_stats(struct bal_dev *d, uint32_t *len)
{
	struct bl_stats s;

	bal_query_stats(&s);
	*len = bl_encode_stats(&s, d->stats);
}

/* PASSIVE: refresh the statistics and hand the buffer back to the host. */
static void bal_post_stats(struct bal_dev *d)
{
	struct vq_sg sg;
	uint32_t len;
	KIRQL irql;

	bal_fill_stats(d, &len);
	if (len == 0)
		return;
	sg.addr = d->stats_pa;
	sg.len = len;
	KeAcquireSpinLock(&d->lock, &irql);
	if (d->running && vq_add(d->q[BAL_Q_STATS].vq, &sg, 1, 0, d->stats) == VIRTIO_OK &&
	    vq_kick_prepare(d->q[BAL_Q_STATS].vq))
		vq_notify(d->q[BAL_Q_STATS].vq);
	KeReleaseSpinLock(&d->lock, irql);
}

static void bal_dpc(struct vwdm_dev *wd, ULONG pending)
{
	struct bal_dev *d = CONTAINING_RECORD(wd, struct bal_dev, wd);
	bool wake = false, kick = (pending & VWDM_PEND_CONFIG) != 0;
	void *cookie;
	uint32_t len;

	if (!(pending & VWDM_PEND_QUEUE)) {
		if (kick)
			bal_kick_worker(d);
		return;
	}
	KeAcquireSpinLockAtDpcLevel(&d->lock);
	if (!d->running) {
		KeReleaseSpinLockFromDpcLevel(&d->lock);
		return;
	}
	while (vq_get_used(d->q[BAL_Q_INFLATE].vq, &cookie, &len) == VIRTIO_OK)
		if (bl_inflate_done(&d->bl, cookie) == BL_OK)
			wake = true;
		else
			vwdm_log(wd, DPFLTR_WARNING_LEVEL, "unknown inflate acknowledgement ignored\n");
	while (vq_get_used(d->q[BAL_Q_DEFLATE].vq, &cookie, &len) == VIRTIO_OK) {
		struct bl_chunk *c;

		if (bl_deflate_done(&d->bl, cookie, &c) == BL_OK) {
			d->freed = c;
			wake = true;
		} else {
			vwdm_log(wd, DPFLTR_WARNING_LEVEL, "unknown deflate acknowledgement ignored\n");
		}
	}
	if (d->has_report)
		while (vq_get_used(d->q[d->report_qi].vq, &cookie, &len) == VIRTIO_OK) {
			struct bl_report *r;

			if (bl_report_done(&d->bl, cookie, &r) == BL_OK) {
				d->reported = r;
				wake = true;
			} else {
				vwdm_log(wd, DPFLTR_WARNING_LEVEL, "unknown report buffer returned, ignored\n");
			}
		}
	if (d->has_stats)
		while (vq_get_used(d->q[BAL_Q_STATS].vq, &cookie, &len) == VIRTIO_OK)
			if (cookie == d->stats) {
				InterlockedExchange(&d->stats_wanted, 1);
				kick = true;
			}
	KeReleaseSpinLockFromDpcLevel(&d->lock);
	if (wake)
		KeSetEvent(&d->ack, IO_NO_INCREMENT, FALSE);
	if (kick)
		bal_kick_worker(d);
}

/* ------------------------------------------------------------------ worker */

static void bal_update_actual(struct bal_dev *d)
{
	uint32_t actual;
	KIRQL irql;

	KeAcquireSpinLock(&d->lock, &irql);
	actual = d->bl.actual;
	KeReleaseSpinLock(&d->lock, irql);
	virtio_config_write32(&d->wd.vdev, BAL_CFG_ACTUAL, actual);
}

/* Wait until the device returned the chunk (or report batch) in flight; false on timeout. */
static bool bal_wait_ack(struct bal_dev *d, bool report)
{
	LARGE_INTEGER t;

	t.QuadPart = -10000LL * BAL_ACK_TIMEOUT_MS;
	for (;;) {
		bool idle;
		KIRQL irql;

		KeAcquireSpinLock(&d->lock, &irql);
		idle = report ? d->bl.report == NULL : d->bl.in_flight == NULL;
		KeReleaseSpinLock(&d->lock, irql);
		if (idle)
			return true;
		if (report && d->cut_report_wait)
			return false;
		if (KeWaitForSingleObject(&d->ack, Executive, KernelMode, FALSE, &t) == STATUS_TIMEOUT)
			return false;
	}
}

/* One step of bl_next(); false when there is nothing (more) to do now. */
static bool bal_step(struct bal_dev *d)
{
	struct bl_chunk *c = NULL, *freed;
	enum bl_action act;
	uint32_t want;
	bool ok = false;
	KIRQL irql;

	KeAcquireSpinLock(&d->lock, &irql);
	act = d->running ? bl_next(&d->bl, &want) : BL_IDLE;
	KeReleaseSpinLock(&d->lock, irql);

	if (act == BL_INFLATE) {
		c = bal_chunk_alloc(want);
		KeAcquireSpinLock(&d->lock, &irql);
		if (c == NULL) {
			bl_alloc_failed(&d->bl);
		} else if (d->running && bl_inflate_begin(&d->bl, c) == BL_OK) {
			KeClearEvent(&d->ack);
			ok = bal_post_chunk(d, BAL_Q_INFLATE, c);
			if (!ok)
				bl_take_in_flight(&d->bl);    /* never reached the device */
		}
		KeReleaseSpinLock(&d->lock, irql);
		if (c && !ok) {
			bal_chunk_free(c);
			return false;
		}
	} else if (act == BL_DEFLATE) {
		KeAcquireSpinLock(&d->lock, &irql);
		KeClearEvent(&d->ack);
		c = bl_deflate_begin(&d->bl);
		if (c && !bal_post_chunk(d, BAL_Q_DEFLATE, c)) {
			/* Could not tell the host: the pages stay ballooned. */
			bl_deflate_cancel(&d->bl);
			c = NULL;
		}
		KeReleaseSpinLock(&d->lock, irql);
		ok = c != NULL;
	}
	if (!ok)
		return false;
	if (!bal_wait_ack(d, false)) {
		vwdm_log(&d->wd, DPFLTR_WARNING_LEVEL, "device did not acknowledge a chunk\n");
		return false;
	}
	KeAcquireSpinLock(&d->lock, &irql);
	freed = d->freed;
	d->freed = NULL;
	KeReleaseSpinLock(&d->lock, irql);
	if (freed)
		bal_chunk_free(freed);
	bal_update_actual(d);
	return true;
}

static void bal_read_target(struct bal_dev *d)
{
	uint32_t num;
	KIRQL irql;

	if (virtio_config_read32(&d->wd.vdev, BAL_CFG_NUM_PAGES, &num) != VIRTIO_OK)
		return;
	KeAcquireSpinLock(&d->lock, &irql);
	bl_set_target(&d->bl, num);
	KeReleaseSpinLock(&d->lock, irql);
}

/* Borrow, report and give back one batch of free pages; false if none was reported. */
static bool bal_report_step(struct bal_dev *d)
{
	struct vq_sg sg[BL_REPORT_MAX_RANGES];
	struct bl_report *r = d->report, *done;
	struct bl_stats s;
	uint64_t avail;
	uint32_t n, i, max;
	bool posted = false;
	KIRQL irql;

	if (!d->has_report || r == NULL)
		return false;
	/* A batch the device returned after bal_wait_ack() gave up on it. */
	KeAcquireSpinLock(&d->lock, &irql);
	done = d->reported;
	d->reported = NULL;
	KeReleaseSpinLock(&d->lock, irql);
	if (done)
		bal_report_release(done);
	bal_query_stats(&s);
	avail = s.avail_bytes == BL_STAT_UNKNOWN ? BL_STAT_UNKNOWN : s.avail_bytes >> VIRTIO_BALLOON_PFN_SHIFT;
	KeAcquireSpinLock(&d->lock, &irql);
	n = d->running ? bl_report_next(&d->bl, avail) : 0;
	KeReleaseSpinLock(&d->lock, irql);
	if (n == 0)
		return false;
	if (!bal_report_fill(r, n)) {
		KeAcquireSpinLock(&d->lock, &irql);
		bl_alloc_failed(&d->bl);
		KeReleaseSpinLock(&d->lock, irql);
		return false;
	}
	/* Only this batch uses the queue, so every descriptor is free (no indirect tables). */
	max = vq_size(d->q[d->report_qi].vq);
	if (max > BL_REPORT_MAX_RANGES)
		max = BL_REPORT_MAX_RANGES;
	if (bl_report_build(r, max) != BL_OK) {
		bal_report_release(r);
		return false;
	}
	for (i = 0; i < r->nranges; i++) {
		sg[i].addr = r->range[i].pfn << PAGE_SHIFT;
		sg[i].len = r->range[i].npages << PAGE_SHIFT;
	}
	KeAcquireSpinLock(&d->lock, &irql);
	if (d->running && bl_report_begin(&d->bl, r) == BL_OK) {
		KeClearEvent(&d->ack);
		posted = vq_add(d->q[d->report_qi].vq, sg, 0, (uint16_t)r->nranges, r) == VIRTIO_OK;
		if (posted && vq_kick_prepare(d->q[d->report_qi].vq))
			vq_notify(d->q[d->report_qi].vq);
		if (!posted)
			bl_report_take(&d->bl);      /* never reached the device */
	}
	KeReleaseSpinLock(&d->lock, irql);
	if (!posted) {
		bal_report_release(r);
		return false;
	}
	if (!bal_wait_ack(d, true)) {
		/* The pages stay borrowed until the device returns them or is reset. */
		vwdm_log(&d->wd, DPFLTR_WARNING_LEVEL, "device did not return a free page report\n");
		return false;
	}
	KeAcquireSpinLock(&d->lock, &irql);
	done = d->reported;
	d->reported = NULL;
	KeReleaseSpinLock(&d->lock, irql);
	if (done)
		bal_report_release(done);
	return done != NULL;
}

static void bal_work(void *ctx)
{
	struct bal_dev *d = ctx;
	unsigned int i;

	if (!d->running)
		return;
	bal_read_target(d);
	if (d->oom_ok && d->low_memory && KeReadStateEvent(d->low_memory)) {
		KIRQL irql;

		KeAcquireSpinLock(&d->lock, &irql);
		bl_oom(&d->bl, BAL_OOM_PAGES);
		KeReleaseSpinLock(&d->lock, irql);
	}
	for (i = 0; i < BAL_STEPS_PER_RUN && bal_step(d); i++)
		;
	bal_report_step(d);
	if (d->has_stats && InterlockedExchange(&d->stats_wanted, 0))
		bal_post_stats(d);
}

static void bal_kick_worker(struct bal_dev *d)
{
	if (d->running && !d->stopping)
		vwdm_worker_kick(&d->worker);
}

static VOID NTAPI bal_timer(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct bal_dev *d = ctx;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(a1);
	UNREFERENCED_PARAMETER(a2);
	KeAcquireSpinLockAtDpcLevel(&d->lock);
	bl_tick(&d->bl);
	KeReleaseSpinLockFromDpcLevel(&d->lock);
	bal_kick_worker(d);
}

/* ------------------------------------------------------------------ start / stop */

static void bal_teardown(struct bal_dev *d)
{
	struct bl_chunk *c;
	unsigned int i;
	KIRQL irql;

	KeCancelTimer(&d->timer);
	InterlockedExchange(&d->stopping, 1);
	KeFlushQueuedDpcs();
	/* A worker waiting for a report the device keeps need not wait any longer. */
	InterlockedExchange(&d->cut_report_wait, 1);
	KeSetEvent(&d->ack, IO_NO_INCREMENT, FALSE);
	vwdm_worker_wait_idle(&d->worker);
	/* Give everything back through the device while it still listens. */
	if (d->running && d->q[BAL_Q_DEFLATE].vq) {
		KeAcquireSpinLock(&d->lock, &irql);
		bl_set_target(&d->bl, 0);
		KeReleaseSpinLock(&d->lock, irql);
		while (bal_step(d))
			;
	}
	InterlockedExchange(&d->running, 0);
	if (d->wd.vdev_ok)
		virtio_reset(&d->wd.vdev);
	/* Flushes the DPC: nothing queues the worker after this. */
	vwdm_disconnect_interrupts(&d->wd);
	vwdm_worker_wait_idle(&d->worker);
	/*
	 * After the reset the device holds nothing: the chunk in flight and
	 * the chunks still ballooned go back to Windows exactly once.
	 */
	KeAcquireSpinLock(&d->lock, &irql);
	c = bl_take_in_flight(&d->bl);
	KeReleaseSpinLock(&d->lock, irql);
	if (c)
		bal_chunk_free(c);
	if (d->freed)
		bal_chunk_free(d->freed);
	d->freed = NULL;
	/* A report batch the device held, or one returned but not yet freed. */
	KeAcquireSpinLock(&d->lock, &irql);
	bl_report_take(&d->bl);
	KeReleaseSpinLock(&d->lock, irql);
	d->reported = NULL;
	if (d->report) {
		if (d->report->npages)
			vwdm_log(&d->wd, DPFLTR_INFO_LEVEL, "report batch of %u pages taken back after reset\n",
				 d->report->npages);
		bal_report_release(d->report);
		ExFreePoolWithTag(d->report, BAL_TAG);
		d->report = NULL;
	}
	if (d->has_report)
		vwdm_log(&d->wd, DPFLTR_INFO_LEVEL, "free page reporting: %lu MiB in %u batches\n",
			 (unsigned long)(d->bl.reported_pages >> (20 - PAGE_SHIFT)), d->bl.report_batches);
	d->has_report = false;
	for (;;) {
		KeAcquireSpinLock(&d->lock, &irql);
		c = bl_pop_inflated(&d->bl);
		KeReleaseSpinLock(&d->lock, irql);
		if (c == NULL)
			break;
		bal_chunk_free(c);
	}
	for (i = 0; i < BAL_NQ_MAX; i++) {
		if (d->q[i].vq)
			while (vq_detach_unused(d->q[i].vq) != NULL)
				;
		vwdm_queue_free(&d->wd, &d->q[i]);
	}
	if (d->pfns)
		vwdm_dma_free(&d->wd, PAGE_SIZE, d->pfns, d->pfns_pa);
	if (d->stats)
		vwdm_dma_free(&d->wd, PAGE_SIZE, d->stats, d->stats_pa);
	d->pfns = NULL;
	d->stats = NULL;
	vwdm_dma_release(&d->wd);
	vwdm_unmap_resources(&d->wd);
	if (d->low_memory_handle) {
		ZwClose(d->low_memory_handle);
		d->low_memory_handle = NULL;
		d->low_memory = NULL;
	}
}

static uint64_t bal_total_pages(void)
{
	ULONG basic[16], got = 0;
	uint32_t page, n;

	RtlZeroMemory(basic, sizeof(basic));
	if (!NT_SUCCESS(ZwQuerySystemInformation(NTKEXT_SYSTEM_BASIC_INFORMATION, basic,
						 sizeof(basic), &got)) || got < 16)
		return 0;
	page = basic[2];
	n = basic[3];
	if (page < 4096 || (page & (page - 1)))
		return 0;
	return (uint64_t)n * (page >> VIRTIO_BALLOON_PFN_SHIFT);
}

/* Device key (the INF's .HW AddReg) DWORD name; def when absent or not a DWORD. */
static bool bal_reg_flag(struct bal_dev *d, UNICODE_STRING *name, bool def)
{
	union {
		KEY_VALUE_PARTIAL_INFORMATION info;
		UCHAR raw[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
	} v;
	ULONG got = 0, val;
	HANDLE key;
	NTSTATUS status;

	if (!NT_SUCCESS(IoOpenDeviceRegistryKey(d->wd.pdo, PLUGPLAY_REGKEY_DEVICE, KEY_READ, &key)))
		return def;
	RtlZeroMemory(&v, sizeof(v));
	status = ZwQueryValueKey(key, name, KeyValuePartialInformation, &v, sizeof(v), &got);
	ZwClose(key);
	if (!NT_SUCCESS(status) || v.info.Type != REG_DWORD || v.info.DataLength != sizeof(ULONG))
		return def;
	RtlCopyMemory(&val, v.info.Data, sizeof(val));
	return val != 0;
}

static NTSTATUS bal_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	struct bal_dev *d = CONTAINING_RECORD(wd, struct bal_dev, wd);
	uint16_t cfg_vec, vec[BAL_NQ_MAX];
	uint64_t want = (1ull << VIRTIO_BALLOON_F_STATS_VQ) | (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	UNICODE_STRING lm = RTL_CONSTANT_STRING(L"\\KernelObjects\\LowMemoryCondition");
	UNICODE_STRING fpr = RTL_CONSTANT_STRING(L"FreePageReporting");
	NTSTATUS status;
	unsigned int i, nq;
	int rc;

	RtlZeroMemory(d->q, sizeof(d->q));
	d->freed = NULL;
	d->reported = NULL;
	d->has_report = false;
	d->stopping = 0;
	d->cut_report_wait = 0;
	bl_init(&d->bl, bal_total_pages());
	if (bal_reg_flag(d, &fpr, true)) {
		want |= 1ull << VIRTIO_BALLOON_F_PAGE_REPORTING;
		d->report = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*d->report), BAL_TAG);
		if (d->report)
			RtlZeroMemory(d->report, sizeof(*d->report));
		else
			want &= ~(1ull << VIRTIO_BALLOON_F_PAGE_REPORTING);
	}

	status = vwdm_virtio_start(wd, raw, tr, VIRTIO_ID_BALLOON, PAGE_SIZE, bal_dpc, want);
	if (!NT_SUCCESS(status))
		goto fail;
	d->has_stats = virtio_has_feature(&wd->vdev, VIRTIO_BALLOON_F_STATS_VQ);
	d->oom_ok = virtio_has_feature(&wd->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	d->has_report = virtio_has_feature(&wd->vdev, VIRTIO_BALLOON_F_PAGE_REPORTING);
	/* Queues exist only for negotiated features (virtio 1.2 5.5.2); no FREE_PAGE_HINT here. */
	nq = d->has_stats ? 3 : 2;
	d->report_qi = nq;
	if (d->has_report)
		nq++;
	bl_report_enable(&d->bl, d->has_report);
	vwdm_vectors(wd, (uint16_t)nq, &cfg_vec, vec);
	if (cfg_vec != VIRTIO_MSI_NO_VECTOR && virtio_set_config_vector(&wd->vdev, cfg_vec) != VIRTIO_OK) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto fail;
	}
	for (i = 0; i < nq; i++) {
		status = vwdm_queue_create(wd, &d->q[i], (uint16_t)i, vec[i], 64);
		if (!NT_SUCCESS(status))
			goto fail;
	}
	d->pfns = vwdm_dma_alloc(wd, PAGE_SIZE, &d->pfns_pa);
	d->stats = vwdm_dma_alloc(wd, PAGE_SIZE, &d->stats_pa);
	if (d->pfns == NULL || d->stats == NULL) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto fail;
	}
	if (d->oom_ok) {
		d->low_memory = IoCreateNotificationEvent(&lm, &d->low_memory_handle);
		if (d->low_memory == NULL)
			d->low_memory_handle = NULL;
	}
	rc = virtio_driver_ok(&wd->vdev);
	if (rc != VIRTIO_OK) {
		status = vwdm_status(rc);
		goto fail;
	}
	InterlockedExchange(&d->running, 1);
	vwdm_interrupts_ready(wd, true);
	/* The device asks for statistics by returning the buffer posted first. */
	if (d->has_stats)
		bal_post_stats(d);
	bal_kick_worker(d);
	{
		LARGE_INTEGER due;

		due.QuadPart = -10000LL * BAL_PERIOD_MS;
		KeSetTimerEx(&d->timer, due, BAL_PERIOD_MS, &d->timer_dpc);
	}
	return STATUS_SUCCESS;
fail:
	if (wd->vdev_ok)
		virtio_fail(&wd->vdev);
	InterlockedExchange(&d->running, 0);
	bal_teardown(d);
	return status;
}

static void bal_stop(struct vwdm_dev *wd)
{
	bal_teardown(CONTAINING_RECORD(wd, struct bal_dev, wd));
}

static void bal_remove(struct vwdm_dev *wd)
{
	struct bal_dev *d = CONTAINING_RECORD(wd, struct bal_dev, wd);

	vwdm_worker_free(&d->worker);
}

static const struct vwdm_pnp_ops bal_pnp_ops = {
	.start = bal_start,
	.stop = bal_stop,
	.remove = bal_remove,
};

/* ------------------------------------------------------------------ dispatch */

static NTSTATUS NTAPI bal_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo)
{
	struct vwdm_dev *wd;
	struct bal_dev *d;
	NTSTATUS status;

	status = vwdm_add_device(driver, pdo, sizeof(struct bal_dev), FILE_DEVICE_UNKNOWN,
				 VDP_BRAND_VDPBALLOON_FILE ": ", &bal_pnp_ops, &wd);
	if (!NT_SUCCESS(status))
		return status;
	d = CONTAINING_RECORD(wd, struct bal_dev, wd);
	KeInitializeSpinLock(&d->lock);
	KeInitializeEvent(&d->ack, NotificationEvent, FALSE);
	KeInitializeTimerEx(&d->timer, NotificationTimer);
	KeInitializeDpc(&d->timer_dpc, bal_timer, d);
	if (!NT_SUCCESS(vwdm_worker_init(&d->worker, wd->self, bal_work, d))) {
		IoDetachDevice(wd->lower);
		IoDeleteDevice(wd->self);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	wd->self->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(registry_path);

	vwdm_driver_init(driver, bal_add_device);
	return STATUS_SUCCESS;
}
