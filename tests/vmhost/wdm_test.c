/* WDM driver session: the PnP manager's part for one device. A PDO the
 * host owns (PCI through sysfs, or an ISA port), AddDevice, START_DEVICE
 * with raw and translated resources, the driver's own test through its
 * device interface or bug-check callback, power IRPs, QUERY_STOP/STOP and
 * a second start, QUERY_REMOVE/REMOVE, and the checks that nothing the
 * driver got from the I/O manager is left behind. */
#define _GNU_SOURCE
#include "wdm_test.h"
#include "inf_reg.h"
#include "nt_io.h"
#include "pci_sysfs.h"
#include "vmhost.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct {
	struct pci_dev pci;
	bool have_pci, uio, poll, msix;
	unsigned nmsg;
	volatile bool stop;
	int irq_thread;
	unsigned long interrupts, claimed;
	enum wdm_inject inject;
} w;

static int failed;

#define OK(...) (printf("ok - " __VA_ARGS__), putchar('\n'))
#define NOK(...) (printf("not ok - " __VA_ARGS__), putchar('\n'), failed++)
#define CHECK(cond, ...) do { if (cond) OK(__VA_ARGS__); else NOK(__VA_ARGS__); } while (0)

/* ------------------------------------------------------------ resources */

struct cm_partial {
	uint8_t Type, ShareDisposition;
	uint16_t Flags;
	union {
		struct {
			int64_t Start;
			uint32_t Length;
		} __attribute__((packed)) gen;
		struct {
			uint16_t Level, Group;
			uint32_t Vector;
			uint64_t Affinity;
		} __attribute__((packed)) irq;
	} u;
} __attribute__((packed));
_Static_assert(sizeof(struct cm_partial) == 0x14, "CM_PARTIAL_RESOURCE_DESCRIPTOR x64 size");

#define MAX_DESC 8
struct cm_list {
	uint32_t Count;
	uint32_t InterfaceType, BusNumber;
	uint16_t Version, Revision;
	uint32_t NDesc;
	struct cm_partial d[MAX_DESC];
} __attribute__((packed));
_Static_assert(offsetof(struct cm_list, d) == 0x14, "CM_RESOURCE_LIST descriptors");

static void add_range(struct cm_list *raw, struct cm_list *tr, bool io, uint64_t start, uint32_t len)
{
	struct cm_partial *r = &raw->d[raw->NDesc++], *t = &tr->d[tr->NDesc++];

	r->Type = io ? 1 /* CmResourceTypePort */ : 3 /* CmResourceTypeMemory */;
	r->ShareDisposition = 1; /* CmResourceShareDeviceExclusive */
	r->Flags = io ? 0x1 /* CM_RESOURCE_PORT_IO */ : 0 /* CM_RESOURCE_MEMORY_READ_WRITE */;
	r->u.gen.Start = (int64_t)start;
	r->u.gen.Length = len;
	*t = *r; /* x86 and x64: bus addresses are CPU addresses */
}

static void build_resources(struct cm_list *raw, struct cm_list *tr, uint16_t isa_port)
{
	memset(raw, 0, sizeof(*raw));
	memset(tr, 0, sizeof(*tr));
	raw->Count = tr->Count = 1;
	raw->InterfaceType = tr->InterfaceType = w.have_pci ? 5 /* PCIBus */ : 1 /* Isa */;
	raw->Version = tr->Version = 1;
	raw->Revision = tr->Revision = 1;
	if (!w.have_pci) {
		add_range(raw, tr, true, isa_port, 1);
		return;
	}
	raw->BusNumber = tr->BusNumber = w.pci.bus;
	for (int i = 0; i < 6 && raw->NDesc < MAX_DESC - 1; i++)
		if (w.pci.bar[i].size)
			add_range(raw, tr, w.pci.bar[i].io, w.pci.bar[i].phys, (uint32_t)w.pci.bar[i].size);
	if (w.msix) {
		/* One message-signalled descriptor per MSI-X message. */
		for (unsigned m = 0; m < w.nmsg && raw->NDesc < MAX_DESC; m++) {
			struct cm_partial *r = &raw->d[raw->NDesc++], *t = &tr->d[tr->NDesc++];

			r->Type = t->Type = 2; /* CmResourceTypeInterrupt */
			r->ShareDisposition = t->ShareDisposition = 1; /* DeviceExclusive */
			r->Flags = t->Flags = 0x1 | 0x2; /* LATCHED | MESSAGE */
			r->u.irq.Group = 1;             /* Raw.MessageCount */
			r->u.irq.Vector = 0xfee00000u;  /* the message address, low half */
			r->u.irq.Affinity = ~0ull;
			t->u.irq.Level = 12;
			t->u.irq.Vector = 0x60u + m;
			t->u.irq.Affinity = 1;
		}
	} else if (w.uio || w.poll) {
		uint8_t line = 0;
		struct cm_partial *r = &raw->d[raw->NDesc++], *t = &tr->d[tr->NDesc++];

		pci_cfg_read(&w.pci, 0x3c, &line, 1);
		r->Type = t->Type = 2; /* CmResourceTypeInterrupt */
		r->ShareDisposition = t->ShareDisposition = 3; /* Shared */
		r->Flags = t->Flags = 0; /* CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE */
		r->u.irq.Level = r->u.irq.Vector = line;
		r->u.irq.Affinity = ~0ull;
		t->u.irq.Level = 12;
		t->u.irq.Vector = 0x30u + line;
		t->u.irq.Affinity = 1;
	}
}

static uint32_t cfg_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	(void)ctx;
	return pci_cfg_read(&w.pci, off, buf, len) ? 0 : len;
}

static const struct io_pdo_ops pci_ops = { cfg_read, NULL };

/* ------------------------------------------------------------ interrupts */

#define STORM_LIMIT 100000

static void *irq_main(void *arg)
{
	unsigned long unclaimed = 0;

	(void)arg;
	vh_set_irql(PASSIVE_LEVEL);
	while (!__atomic_load_n(&w.stop, __ATOMIC_ACQUIRE)) {
		bool mine;

		if (w.msix) {
			int mask = pci_msix_wait(&w.pci, 100);

			if (mask < 0)
				vh_fatal("waiting for MSI-X on vfio eventfds failed");
			for (unsigned v = 0; v < w.nmsg; v++)
				if (mask & (1 << v)) {
					__atomic_add_fetch(&w.interrupts, 1, __ATOMIC_RELAXED);
					if (io_deliver_message(v))
						__atomic_add_fetch(&w.claimed, 1, __ATOMIC_RELAXED);
				}
			continue;
		}
		if (w.uio) {
			int r = pci_uio_wait(&w.pci, 100);

			if (r < 0)
				vh_fatal("waiting for INTx on /dev/uio failed");
			if (r == 0)
				continue;
		} else {
			usleep(200);
		}
		mine = io_deliver_line();
		/* uio signals only what this device asserted: count those an ISR saw. */
		if (io_interrupt_connected() || mine)
			__atomic_add_fetch(&w.interrupts, 1, __ATOMIC_RELAXED);
		if (mine)
			__atomic_add_fetch(&w.claimed, 1, __ATOMIC_RELAXED);
		if (w.uio) {
			unclaimed = mine || !io_interrupt_connected() ? 0 : unclaimed + 1;
			if (unclaimed > STORM_LIMIT)
				vh_fatal("interrupt storm: the ISR returned FALSE %d times on an asserted line",
					 STORM_LIMIT);
			pci_intx_unmask(&w.pci);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ PnP and power */

static nt_status pnp(nt_device_object *pdo, uint8_t minor, const void *params)
{
	struct io_req r = { .major = IRP_MJ_PNP, .minor = minor, .params = params };

	return io_send_sync(pdo, &r, NULL, 20000);
}

static nt_status start_device(nt_device_object *pdo, uint16_t isa_port)
{
	struct cm_list raw, tr;
	void *params[4] = { &raw, &tr, NULL, NULL };

	build_resources(&raw, &tr, isa_port);
	return pnp(pdo, IRP_MN_START_DEVICE, params);
}

static nt_status set_power(nt_device_object *pdo, uint8_t minor, uint32_t dstate)
{
	uint32_t p[8] = { 0 };
	struct io_req r = { .major = IRP_MJ_POWER, .minor = minor, .params = p };

	p[2] = 1;      /* DevicePowerState */
	p[4] = dstate; /* PowerDeviceD0 = 1 .. D3 = 4 */
	p[6] = 0;      /* PowerActionNone */
	return io_send_sync(pdo, &r, NULL, 20000);
}

/* ------------------------------------------------------------ vdprng */

static const uint8_t rng_guid[16] = { 0x3c, 0x2f, 0x9a, 0x8b, 0x71, 0x5d, 0x0a, 0x4e,
				      0xa6, 0xc4, 0x1f, 0x2d, 0x3e, 0x4b, 0x5c, 0x6d };

static int rng_read(nt_file_object *f, uint8_t *buf, uint32_t len, uint64_t *got)
{
	struct io_async *a = io_async_start(f, IRP_MJ_READ, buf, len, 0, 0);
	nt_status st = STATUS_UNSUCCESSFUL;
	bool done = io_async_wait(a, 10000, &st, got);

	if (!done) {
		io_async_cancel(a);
		if (!io_async_wait(a, 5000, &st, got))
			vh_fatal("read of %u bytes neither completed nor cancelled", len);
		io_async_free(a);
		return -2;
	}
	io_async_free(a);
	return NT_OK(st) ? 0 : (int)st;
}

static void rng_test(const char *svc, bool brief)
{
	static const uint32_t sizes[] = { 1, 16, 333, 4096, 10000 }, brief_sizes[] = { 64 };
	const uint32_t *sz = brief ? brief_sizes : sizes;
	uint8_t *pool = calloc(1, 16384), *buf = malloc(16384);
	uint32_t seen[256] = { 0 };
	size_t have = 0;
	unsigned en = 0, distinct = 0;
	nt_status st;
	nt_file_object *f;
	bool ok = true;

	if (!pool || !buf)
		vh_fatal("out of memory");
	io_interface_count(rng_guid, &en);
	CHECK(en == 1, "%s: device interface GUID_DEVINTERFACE_VDPRNG enabled after start", svc);
	f = io_open_interface(rng_guid, &st);
	if (!f) {
		NOK("%s: open of the device interface failed: 0x%08x", svc, (uint32_t)st);
		free(pool);
		free(buf);
		return;
	}
	for (unsigned i = 0; i < (brief ? 1u : sizeof(sizes) / sizeof(sizes[0])); i++) {
		uint32_t len = sz[i];
		uint64_t got = 0;
		int rc = rng_read(f, buf, len, &got);
		uint32_t max = len < 4096 ? len : 4096;

		if (w.inject == WDM_INJECT_RNG_ZERO_LEN && rc == 0)
			got = 0; /* the proof that an empty successful read fails */
		if (rc || got == 0 || got > max) {
			NOK("%s: read of %u bytes: status %d, %llu bytes (want 1..%u)", svc, len, rc,
			    (unsigned long long)got, max);
			ok = false;
			continue;
		}
		if (w.inject == WDM_INJECT_RNG_ZERO_DATA)
			memset(buf, 0, got);
		if (have + got <= 16384) {
			memcpy(pool + have, buf, got);
			have += got;
		}
	}
	if (ok)
		OK("%s: reads of %s bytes returned 1..min(n, 4096) bytes each", svc,
		   brief ? "64" : "1, 16, 333, 4096, 10000");
	/* Entropy: not all zero, many distinct byte values, two reads differ. */
	while (!brief && have < 8192) {
		uint64_t got = 0;

		if (rng_read(f, buf, 4096, &got) || !got)
			break;
		if (w.inject == WDM_INJECT_RNG_ZERO_DATA)
			memset(buf, 0, got);
		memcpy(pool + have, buf, got);
		have += got;
	}
	for (size_t i = 0; i < have; i++)
		if (!seen[pool[i]]++)
			distinct++;
	if (brief) {
		CHECK(have > 0 && distinct > 0 && (have < 16 || distinct > 4),
		      "%s: read after restart returned %zu bytes of data", svc, have);
	} else {
		CHECK(have >= 8192 && seen[0] < have && distinct >= 250,
		      "%s: %zu bytes read are not all zero (%u distinct byte values)", svc, have, distinct);
		CHECK(have >= 8192 && memcmp(pool, pool + 4096, 4096) != 0,
		      "%s: two 4096-byte stretches differ", svc);
	}
	if (!brief) {
		/* Eight reads outstanding at once, then one cancelled while queued. */
		struct io_async *a[8];
		uint8_t *bufs = calloc(8, 4096);
		unsigned good = 0, cancelled = 0, tries;
		nt_status s;
		uint64_t got;

		for (int i = 0; i < 8; i++)
			a[i] = io_async_start(f, IRP_MJ_READ, bufs + i * 4096, 4096, 0, 0);
		for (int i = 0; i < 8; i++) {
			if (io_async_wait(a[i], 10000, &s, &got) && NT_OK(s) && got > 0 && got <= 4096)
				good++;
			else if (!io_async_wait(a[i], 0, NULL, NULL))
				io_async_cancel(a[i]), io_async_wait(a[i], 5000, NULL, NULL);
			io_async_free(a[i]);
		}
		CHECK(good == 8, "%s: 8 concurrent reads all completed with data (%u did)", svc, good);
		for (tries = 0; tries < 50 && !cancelled; tries++) {
			struct io_async *x = io_async_start(f, IRP_MJ_READ, bufs, 4096, 0, 0);
			struct io_async *y = io_async_start(f, IRP_MJ_READ, bufs + 4096, 4096, 0, 0);
			bool c = io_async_cancel(y);

			if (!io_async_wait(x, 10000, NULL, NULL) || !io_async_wait(y, 10000, &s, NULL))
				vh_fatal("read not completed within 10 s after a cancel");
			if (c && s == STATUS_CANCELLED)
				cancelled++;
			io_async_free(x);
			io_async_free(y);
		}
		CHECK(cancelled, "%s: a queued read cancelled with IoCancelIrp completes STATUS_CANCELLED (%u tries)",
		      svc, tries);
		{
			/* No write or device-control routine: the I/O manager's default. */
			struct io_async *x = io_async_start(f, IRP_MJ_WRITE, bufs, 16, 0, 0);
			struct io_async *y = io_async_start(f, IRP_MJ_DEVICE_CONTROL, bufs, 16, 0x222000, 16);
			nt_status s2 = 0;

			CHECK(io_async_wait(x, 1000, &s, NULL) && io_async_wait(y, 1000, &s2, NULL) &&
			      s == STATUS_INVALID_DEVICE_REQUEST && s2 == STATUS_INVALID_DEVICE_REQUEST,
			      "%s: write and device control are refused: 0x%08x, 0x%08x", svc, (uint32_t)s,
			      (uint32_t)s2);
			io_async_free(x);
			io_async_free(y);
		}
		{
			uint64_t g = 99;
			struct io_async *z = io_async_start(f, IRP_MJ_READ, bufs, 0, 0, 0);

			CHECK(io_async_wait(z, 1000, &s, &g) && NT_OK(s) && g == 0,
			      "%s: zero-length read succeeds at once with 0 bytes", svc);
			io_async_free(z);
		}
		free(bufs);
	}
	st = io_close(f);
	CHECK(NT_OK(st), "%s: handle closed (CLEANUP, CLOSE): 0x%08x", svc, (uint32_t)st);
	free(pool);
	free(buf);
}

/* ------------------------------------------------------------ vdppanic */

static void pvpanic_test(const char *svc)
{
	unsigned n = io_bugcheck_callbacks(), ran;

	CHECK(n == 1, "%s: one bug-check callback registered at start (%u)", svc, n);
	ran = io_simulate_bugcheck(0xe2 /* MANUALLY_INITIATED_CRASH */);
	CHECK(ran == 1, "%s: simulated KeBugCheckEx ran %u callback(s) at HIGH_LEVEL", svc, ran);
	/* A second bug check (a nested one) must not report again. */
	io_simulate_bugcheck(0xe2);
	OK("%s: second simulated bug check ran (the host counts the events)", svc);
}

/* ------------------------------------------------------------ vdpballoon */

/* Ask the VM runner (ci/vm/qmp-ctl.sh) for a QMP command, or tell it what
 * QEMU must have reported by the end of the run. */
static void host_ctl(const struct wdm_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void host_ctl(const struct wdm_opts *o, const char *fmt, ...)
{
	FILE *f = o->host_ctl ? fopen(o->host_ctl, "w") : NULL;
	va_list ap;

	va_start(ap, fmt);
	if (f) {
		vfprintf(f, fmt, ap);
		fputc('\n', f);
		fclose(f);
	} else {
		vh_log("wdm: no --host-ctl device; the host cannot act");
	}
	va_end(ap);
}

/* Pages the balloon holds: free page report batches are counted apart. */
static uint64_t balloon_pages(void)
{
	return io_mdl_other_pages_out();
}

static bool wait_pages(uint64_t want, unsigned timeout_ms)
{
	uint64_t end = vh_now_ns() + (uint64_t)timeout_ms * 1000000;

	while (balloon_pages() != want && vh_now_ns() < end)
		usleep(20000);
	return balloon_pages() == want;
}

#define MIB (1024ull * 1024)

/* Free page reporting: find the reporting queue through the modern common
 * configuration (the driver no longer uses queue_select once started) and
 * let the I/O manager watch it. Checks that it was negotiated exactly when
 * the device offers it and the INF's FreePageReporting is not 0; returns
 * whether it was. */
static bool balloon_watch_reports(const char *svc)
{
	const struct infreg_value *sw = infreg_find(vh_registry(), INFREG_HARDWARE, "", "FreePageReporting");
	bool off = sw && sw->type == INFREG_DWORD && sw->dword == 0, offered;
	uint8_t cap = 0, c[16];
	volatile uint8_t *cc = NULL;
	uint32_t dev_f, drv_f;
	uint16_t idx, size;
	uint64_t desc, avail, used;

	io_report_ring_set(NULL, 0, 0, 0, 0);
	if (!w.have_pci || pci_cfg_read(&w.pci, 0x34, &cap, 1))
		return false;
	for (unsigned n = 0; cap >= 0x40 && n < 48; n++) {
		if (pci_cfg_read(&w.pci, cap, c, sizeof(c)))
			return false;
		/* virtio vendor capability, VIRTIO_PCI_CAP_COMMON_CFG */
		if (c[0] == 0x09 && c[3] == 1 && c[4] < 6 && w.pci.bar[c[4]].va) {
			uint32_t off;

			memcpy(&off, c + 8, 4);
			if ((uint64_t)off + 0x38 <= w.pci.bar[c[4]].size)
				cc = (volatile uint8_t *)w.pci.bar[c[4]].va + off;
			break;
		}
		cap = c[1];
	}
	if (!cc) {
		vh_log("wdm: no modern common configuration: free page reports not watched");
		return false;
	}
	*(volatile uint32_t *)(cc + 0x00) = 0;
	dev_f = *(volatile uint32_t *)(cc + 0x04);
	*(volatile uint32_t *)(cc + 0x08) = 0;
	drv_f = *(volatile uint32_t *)(cc + 0x0c);
	offered = dev_f & (1u << 5);
	if (off || !offered) {
		CHECK(!(drv_f & (1u << 5)), "%s: free page reporting not negotiated (%s)", svc,
		      off ? "FreePageReporting=0 in the device key" : "not offered");
		return false;
	}
	if (!(drv_f & (1u << 5))) {
		NOK("%s: the device offers free page reporting, the driver did not take it", svc);
		return false;
	}
	/* reporting_vq follows inflateq, deflateq and statsq/free_page_vq when negotiated. */
	idx = (uint16_t)(2 + !!(drv_f & (1u << 1)) + !!(drv_f & (1u << 3)));
	*(volatile uint16_t *)(cc + 0x16) = idx;
	size = *(volatile uint16_t *)(cc + 0x18);
	desc = *(volatile uint64_t *)(cc + 0x20);
	avail = *(volatile uint64_t *)(cc + 0x28);
	used = *(volatile uint64_t *)(cc + 0x30);
	CHECK(*(volatile uint16_t *)(cc + 0x1c) == 1 && size,
	      "%s: free page reporting negotiated, reporting_vq %u enabled (%u entries)", svc, idx, size);
	io_report_ring_set(cc + 0x14, desc, avail, used, size);
	return true;
}

/* The broken run: the device is made to keep the next report (the driver
 * is asked not to notify), and the system reuses one of its pages. */
static void balloon_report_early(const char *svc)
{
	uint64_t end = vh_now_ns() + 10000000000ull, z, k, c, early;
	bool done = false;

	io_report_hold(true);
	while (!done && vh_now_ns() < end) {
		usleep(50000);
		done = io_report_simulate_early_free();
	}
	if (!done)
		vh_log("wdm: no free page report to reuse a page of");
	io_report_counts(&z, &k, &c, &early);
	CHECK(early == 0, "%s: no page went back to the system while the device held its report (%llu did)",
	      svc, (unsigned long long)early);
}

/* After the balloon part: reports went on, each batch freed only after the
 * device returned it, and QEMU discarded the reported pages. */
static void balloon_check_reports(const char *svc)
{
	uint64_t end = vh_now_ns() + 20000000000ull, z, k, c, early;
	uint16_t used;

	do {
		io_report_counts(&z, &k, &c, &early);
		if (z >= 1024 && io_report_used_idx() >= 2)
			break;
		usleep(100000);
	} while (vh_now_ns() < end);
	used = io_report_used_idx();
	CHECK(z >= 1024 && used >= 2, "%s: the driver reported free pages: %llu pages given back after QEMU "
	      "returned %u report buffers", svc, (unsigned long long)z, used);
	CHECK(c == 0 && early == 0, "%s: reported pages read as zero when given back (QEMU discarded them): "
	      "%llu zero, %llu borrowed but not reported, %llu changed, %llu freed while the device held them",
	      svc, (unsigned long long)z, (unsigned long long)k, (unsigned long long)c,
	      (unsigned long long)early);
}

static void balloon_test(const char *svc, const struct wdm_opts *o)
{
	uint64_t ram = (uint64_t)o->balloon_ram_mb * MIB, z0, p0, c0, z, p, c;
	uint64_t inflate = (ram - 440 * MIB) / 4096, deflate = (ram - 500 * MIB) / 4096;
	uint64_t total = (uint64_t)sysconf(_SC_PHYS_PAGES) * 4096;
	bool ok, reports = balloon_watch_reports(svc);

	if (ram < 512 * MIB) {
		NOK("%s: balloon test needs --balloon-ram >= 512", svc);
		return;
	}
	if (w.inject == WDM_INJECT_BALLOON_REPORT_EARLY) {
		if (reports)
			balloon_report_early(svc);
		else
			NOK("%s: no free page reporting to break", svc);
		return;
	}
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"qom-set\", \"arguments\": {\"path\": "
		 "\"/machine/peripheral/balloon0\", \"property\": \"guest-stats-polling-interval\", "
		 "\"value\": 1}}");
	if (w.inject == WDM_INJECT_BALLOON_NO_PAGES)
		io_inject_no_pages(true);
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"balloon\", \"arguments\": {\"value\": %llu}}",
		 (unsigned long long)(440 * MIB));
	ok = wait_pages(inflate, w.inject == WDM_INJECT_BALLOON_NO_PAGES ? 3000 : 60000);
	io_inject_no_pages(false);
	/* Pages count when allocated: let the last chunk reach the device first. */
	if (w.inject == WDM_INJECT_BALLOON_TOUCH)
		usleep(300000);
	if (w.inject == WDM_INJECT_BALLOON_TOUCH && !io_touch_newest_page())
		vh_log("wdm: no ballooned page to touch");
	CHECK(ok, "%s: balloon 440 MiB: the driver inflated %llu pages from MmAllocatePagesForMdlEx (want %llu)",
	      svc, (unsigned long long)balloon_pages(), (unsigned long long)inflate);
	if (w.inject == WDM_INJECT_BALLOON_NO_PAGES)
		return;
	if (!w.inject) {
		usleep(1500000); /* the last 'actual' write and a statistics poll */
		host_ctl(o, "VDP-QMP-REQ {\"execute\": \"query-balloon\"}");
		host_ctl(o, "VDP-HOST-EXPECT-MATCH \"actual\": %llu", (unsigned long long)(440 * MIB));
		host_ctl(o, "VDP-QMP-REQ {\"execute\": \"qom-get\", \"arguments\": {\"path\": "
			 "\"/machine/peripheral/balloon0\", \"property\": \"guest-stats\"}}");
		host_ctl(o, "VDP-HOST-EXPECT-MATCH \"stat-total-memory\": %llu", (unsigned long long)total);
	}

	io_mdl_returned(&z0, &p0, &c0);
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"balloon\", \"arguments\": {\"value\": %llu}}",
		 (unsigned long long)(500 * MIB));
	ok = wait_pages(deflate, 60000);
	CHECK(ok, "%s: balloon 500 MiB: the driver deflated to %llu pages (want %llu)", svc,
	      (unsigned long long)balloon_pages(), (unsigned long long)deflate);
	io_mdl_returned(&z, &p, &c);
	CHECK(ok && z - z0 == inflate - deflate && p == p0 && c == c0,
	      "%s: the %llu pages returned on deflate read as zero (QEMU discarded exactly those PFNs and "
	      "nothing touched them while ballooned): %llu zero, %llu kept, %llu changed; all writable again",
	      svc, (unsigned long long)(inflate - deflate), (unsigned long long)(z - z0),
	      (unsigned long long)(p - p0), (unsigned long long)(c - c0));
	if (w.inject)
		return;
	usleep(500000);
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"query-balloon\"}");
	host_ctl(o, "VDP-HOST-EXPECT-MATCH \"actual\": %llu", (unsigned long long)(500 * MIB));
	usleep(700000); /* the query runs before the stop below deflates */
	if (reports) {
		uint64_t end = vh_now_ns() + 8000000000ull;

		balloon_check_reports(svc);
		/* The device keeps the next report: the driver must hold on to
		 * its pages, and the STOP below must take them back after the reset. */
		io_report_hold(true);
		while (!io_report_outstanding() && vh_now_ns() < end)
			usleep(50000);
		CHECK(io_report_outstanding() == 1 && io_report_pages_out() > 0 && balloon_pages() == deflate,
		      "%s: a report the device keeps: its %llu pages stay borrowed, the balloon keeps %llu", svc,
		      (unsigned long long)io_report_pages_out(), (unsigned long long)balloon_pages());
	}
}

/* ------------------------------------------------------------ child devices */

/* The PnP manager's view of a bus driver's children (vdpserial's ports):
 * reported in BusRelations, started raw (no function driver), removed when
 * no longer reported or before their parent. */
#define MAX_KIDS 16
static nt_device_object *kids[MAX_KIDS];
static unsigned n_kids;

typedef void NTAPI pool_free_fn(void *);

static void free_pool(void *p)
{
	((pool_free_fn *)vh_resolve("ntoskrnl.exe", "ExFreePool", NULL))(p);
}

static void kid_remove(unsigned i, bool surprise)
{
	nt_device_object *k = kids[i];
	void NTAPI (*deref)(void *) = vh_resolve("ntoskrnl.exe", "ObfDereferenceObject", NULL);

	kids[i] = kids[--n_kids];
	deref(k);
	if (surprise)
		pnp(k, IRP_MN_SURPRISE_REMOVAL, NULL);
	pnp(k, IRP_MN_REMOVE_DEVICE, NULL);
}

/* One BusRelations round; returns the number of children. */
static int enumerate(nt_device_object *pdo, const char *svc)
{
	uint32_t type[8] = { 0 /* BusRelations */ };
	struct io_req r = { .major = IRP_MJ_PNP, .minor = IRP_MN_QUERY_DEVICE_RELATIONS, .params = type };
	void NTAPI (*deref)(void *) = vh_resolve("ntoskrnl.exe", "ObfDereferenceObject", NULL);
	uint64_t info = 0;
	nt_status st = io_send_sync(pdo, &r, &info, 20000);
	struct rel { uint32_t Count, pad; nt_device_object *Objects[]; } *rel = (void *)(uintptr_t)info;
	bool seen[MAX_KIDS] = { false };

	if (!NT_OK(st) || !rel) {
		NOK("%s: BusRelations: 0x%08x", svc, (uint32_t)st);
		return -1;
	}
	if (rel->Count > MAX_KIDS)
		vh_fatal("BusRelations reports %u children", rel->Count);
	for (uint32_t i = 0; i < rel->Count; i++) {
		nt_device_object *k = rel->Objects[i];
		unsigned j;

		for (j = 0; j < n_kids && kids[j] != k; j++)
			;
		if (j < n_kids) {
			seen[j] = true;
			deref(k); /* the PnP manager already holds one */
			continue;
		}
		if (n_kids == MAX_KIDS)
			vh_fatal("too many children");
		seen[n_kids] = true;
		kids[n_kids++] = k;
		io_mark_pdo(k, "child");
		{
			uint8_t caps[0x40] = { 0 };
			void *cp[4] = { caps, NULL, NULL, NULL };
			uint32_t idt[8] = { 1 /* BusQueryHardwareIDs */ };
			struct io_req q = { .major = IRP_MJ_PNP, .minor = 0x13 /* IRP_MN_QUERY_ID */, .params = idt };
			uint64_t ids = 0;

			caps[0] = 0x40;  /* Size */
			caps[2] = 1;     /* Version */
			st = pnp(k, IRP_MN_QUERY_CAPABILITIES, cp);
			CHECK(NT_OK(st) && (caps[5] & 0x01), "%s: child %u: QUERY_CAPABILITIES says RawDeviceOK (0x%08x)",
			      svc, n_kids - 1, (uint32_t)st);
			if (NT_OK(io_send_sync(k, &q, &ids, 20000)) && ids)
				free_pool((void *)(uintptr_t)ids);
			st = pnp(k, IRP_MN_START_DEVICE, NULL);
			CHECK(NT_OK(st), "%s: child %u started raw: 0x%08x", svc, n_kids - 1, (uint32_t)st);
		}
	}
	free_pool(rel);
	for (unsigned j = n_kids; j-- > 0;)
		if (!seen[j])
			kid_remove(j, true);
	return (int)n_kids;
}

/* Re-enumerate whenever the driver invalidates its relations, until
 * want children exist after at least one query (bounded). */
static int settle_children(nt_device_object *pdo, const char *svc, unsigned want, unsigned timeout_ms)
{
	uint64_t end = vh_now_ns() + (uint64_t)timeout_ms * 1000000;
	int n = -1;

	while (vh_now_ns() < end) {
		if (io_take_relations_dirty())
			n = enumerate(pdo, svc);
		if (n == (int)want)
			break;
		usleep(20000);
	}
	return n < 0 ? (int)n_kids : n;
}

/* ------------------------------------------------------------ vdpserial */

static const uint8_t port_guid[16] = { 0x5a, 0x3f, 0x0b, 0x6e, 0x41, 0x2c, 0x8e, 0x4d,
				       0x9f, 0x17, 0x3a, 0x5c, 0x7e, 0x9b, 0x1d, 0x24 };
#define PEER_HELLO "VDPPEER-HELLO\n"
#define SER_PAYLOAD 6000u

/* The enabled port interfaces' reference strings, for messages. */
static const char *iface_names(void)
{
	static char names[200];
	char r[64];

	names[0] = 0;
	for (unsigned i = 0; io_interface_ref(port_guid, i, r, sizeof(r)); i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s'%s'", i ? ", " : "", r);
	return names;
}

static bool wait_iface(const char *ref, unsigned timeout_ms)
{
	uint64_t end = vh_now_ns() + (uint64_t)timeout_ms * 1000000;
	char r[64];

	while (vh_now_ns() < end) {
		for (unsigned i = 0; io_interface_ref(port_guid, i, r, sizeof(r)); i++)
			if (!strcmp(r, ref))
				return true;
		usleep(20000);
	}
	return false;
}

static void serial_test(const char *svc, const struct wdm_opts *o, nt_device_object *pdo)
{
	static uint8_t out[SER_PAYLOAD], in[SER_PAYLOAD + 64];
	size_t hello = strlen(PEER_HELLO), have = 0, sent = 0;
	uint64_t end, got;
	nt_file_object *f;
	nt_status st;
	int n;

	n = settle_children(pdo, svc, 1, 10000);
	CHECK(n == 1, "%s: one port reported in BusRelations (%d)", svc, n);
	CHECK(wait_iface("org.openvdp.test.0", 5000),
	      "%s: port interface enabled with the host's name as reference string (%s)", svc, iface_names());
	f = io_open_interface_ref(port_guid, "org.openvdp.test.0", false, &st);
	CHECK(!f && st == (nt_status)0xC0000022, "%s: a non-administrator's open is refused: 0x%08x", svc,
	      (uint32_t)st);
	if (f)
		io_close(f);
	f = io_open_interface_ref(port_guid, "org.openvdp.test.0", true, &st);
	if (!f) {
		NOK("%s: open of port org.openvdp.test.0: 0x%08x", svc, (uint32_t)st);
		return;
	}
	for (unsigned i = 0; i < SER_PAYLOAD; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	/* Writes: up to 4096 bytes each, short writes are legal. */
	while (sent < SER_PAYLOAD) {
		struct io_async *a = io_async_start(f, IRP_MJ_WRITE, out + sent, (uint32_t)(SER_PAYLOAD - sent), 0, 0);

		if (!io_async_wait(a, 10000, &st, &got) || !NT_OK(st) || got == 0 || got > SER_PAYLOAD - sent) {
			if (!io_async_wait(a, 0, NULL, NULL)) {
				io_async_cancel(a);
				io_async_wait(a, 5000, NULL, NULL);
			}
			io_async_free(a);
			break;
		}
		io_async_free(a);
		sent += got;
	}
	CHECK(sent == SER_PAYLOAD, "%s: %zu of %u bytes written to the port", svc, sent, SER_PAYLOAD);
	/* The host peer (vdphost --serial-peer) greets, then echoes. */
	end = vh_now_ns() + 15000000000ull;
	while (have < hello + sent && vh_now_ns() < end) {
		uint32_t room = (uint32_t)(sizeof(in) - have < 4096 ? sizeof(in) - have : 4096);
		struct io_async *a = io_async_start(f, IRP_MJ_READ, in + have, room, 0, 0);

		if (!io_async_wait(a, (unsigned)((end - vh_now_ns()) / 1000000), &st, &got)) {
			io_async_cancel(a);
			io_async_wait(a, 5000, &st, &got);
			io_async_free(a);
			break;
		}
		io_async_free(a);
		if (!NT_OK(st) || got == 0 || got > room)
			break;
		have += got;
		if (have == sizeof(in))
			break;
	}
	CHECK(have == hello + SER_PAYLOAD && !memcmp(in, PEER_HELLO, hello) && !memcmp(in + hello, out, SER_PAYLOAD),
	      "%s: host -> guest: the peer's greeting and the %u bytes it received came back intact (%zu bytes read)",
	      svc, SER_PAYLOAD, have);
	{
		/* Nothing more comes: a read waits until it is cancelled. */
		struct io_async *a = io_async_start(f, IRP_MJ_READ, in, 16, 0, 0);
		bool waited = !io_async_wait(a, 300, NULL, NULL), c = io_async_cancel(a);

		CHECK(waited && c && io_async_wait(a, 2000, &st, NULL) && st == STATUS_CANCELLED,
		      "%s: a waiting read is cancelled with IoCancelIrp: 0x%08x", svc, (uint32_t)st);
		io_async_free(a);
	}
	st = io_close(f);
	CHECK(NT_OK(st), "%s: port closed: 0x%08x", svc, (uint32_t)st);

	/* Hot plug: a second port through the monitor, then its removal. A
	 * console port (it takes port id 0, free in every configuration). */
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"device_add\", \"arguments\": {\"driver\": "
		 "\"virtconsole\", \"bus\": \"vser0.0\", \"name\": \"org.openvdp.test.1\", \"id\": \"port1\"}}");
	n = settle_children(pdo, svc, 2, 15000);
	CHECK(n == 2 && wait_iface("org.openvdp.test.1", 5000),
	      "%s: hot-added console port org.openvdp.test.1 appears as a new child (%d children; interfaces %s)",
	      svc, n, iface_names());
	host_ctl(o, "VDP-QMP-REQ {\"execute\": \"device_del\", \"arguments\": {\"id\": \"port1\"}}");
	n = settle_children(pdo, svc, 1, 15000);
	CHECK(n == 1 && !wait_iface("org.openvdp.test.1", 200),
	      "%s: removed port's child is gone and its interface disabled (%d children)", svc, n);
	host_ctl(o, "VDP-HOST-EXPECT DEVICE_DELETED 1");
}

/* The host end of the virtio-serial port (a unix socket QEMU listens on):
 * greet, then echo everything back until QEMU goes away. */
int wdm_serial_peer(const char *path, unsigned seconds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t end = vh_now_ns() + (uint64_t)seconds * 1000000000;
	unsigned long long total = 0;
	char buf[4096];
	int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, path);
	while (vh_now_ns() < end) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
		usleep(100000);
	}
	if (fd < 0) {
		fprintf(stderr, "serial-peer: cannot connect to %s\n", path);
		return 1;
	}
	if (write(fd, PEER_HELLO, strlen(PEER_HELLO)) != (ssize_t)strlen(PEER_HELLO))
		return 1;
	while (vh_now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		total += (unsigned long long)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				break;
			off += w;
		}
	}
	fprintf(stderr, "serial-peer: %llu bytes echoed\n", total);
	close(fd);
	return 0;
}

bool wdm_inject_parse(const char *s, enum wdm_inject *out)
{
	static const char *const names[] = { "none", "rng-zero-len", "rng-zero-data", "balloon-no-pages",
					     "balloon-touch", "balloon-report-early" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum wdm_inject)i;
			return true;
		}
	return false;
}

/* ------------------------------------------------------------ the session */

int wdm_session(nt_driver_object *drv, const struct wdm_opts *o)
{
	nt_add_device_fn *add = drv->DriverExtension ? (nt_add_device_fn *)drv->DriverExtension->AddDevice : NULL;
	const char *svc = o->service;
	nt_device_object *pdo, *top;
	nt_status st;
	unsigned devs;

	failed = 0;
	n_kids = 0;
	memset(&w, 0, sizeof(w));
	w.inject = o->inject;
	if (!add) {
		NOK("%s: DriverEntry set no AddDevice", svc);
		return failed;
	}
	if (o->pci) {
		w.uio = !strcmp(o->irq, "uio");
		w.poll = !strcmp(o->irq, "poll");
		w.msix = !strcmp(o->irq, "msix");
		if (pci_open(o->pci, &w.pci) || (w.msix && pci_vfio_bind(&w.pci)) || pci_enable(&w.pci) ||
		    (w.uio && pci_uio_bind(&w.pci))) {
			NOK("%s: PCI device %s not usable (see log)", svc, o->pci);
			return failed;
		}
		w.have_pci = true;
		for (int i = 0; i < 6; i++)
			if (w.pci.bar[i].mem && w.pci.bar[i].size && !w.pci.bar[i].va) {
				/* vfio keeps the MSI-X table BAR; Windows would map it, so
				 * the driver gets memory it never has a reason to touch. */
				void *va = mmap(NULL, w.pci.bar[i].size, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (va == MAP_FAILED)
					vh_fatal("no memory for BAR%d", i);
				w.pci.bar[i].va = va;
				io_add_window(w.pci.bar[i].phys, w.pci.bar[i].size, va);
			}
		if (w.msix) {
			int n = pci_msix_enable(&w.pci, 8);

			if (n <= 0) {
				NOK("%s: MSI-X could not be enabled through vfio", svc);
				return failed;
			}
			w.nmsg = (unsigned)n;
			vh_log("wdm: MSI-X: %u messages through vfio", w.nmsg);
		}
		io_set_messages(w.nmsg);
	}
	pdo = io_create_pdo(o->pci ? w.pci.bdf : "ISA", w.have_pci ? &pci_ops : NULL);
	if (!pdo)
		vh_fatal("cannot create the PDO");
	vh_set_irql(PASSIVE_LEVEL);
	st = add(drv, pdo);
	top = io_top_of_stack(pdo);
	CHECK(NT_OK(st) && top != pdo, "%s: AddDevice attached an FDO: 0x%08x", svc, (uint32_t)st);
	if (!NT_OK(st) || top == pdo)
		goto out;
	CHECK(!(top->Flags & DO_DEVICE_INITIALIZING), "%s: AddDevice cleared DO_DEVICE_INITIALIZING", svc);
	if (w.have_pci && (w.uio || w.poll || w.msix))
		w.irq_thread = vh_thread_start("interrupt", VH_STACK_SIZE, irq_main, NULL);

	st = start_device(pdo, o->isa_port);
	CHECK(NT_OK(st), "%s: IRP_MN_START_DEVICE: 0x%08x (%s)", svc, (uint32_t)st,
	      !w.have_pci ? "ISA port" : w.msix ? "PCI BARs, MSI-X" : w.uio ? "PCI BARs, INTx" : "PCI BARs, polled");
	if (!NT_OK(st))
		goto remove;
	if (!strcmp(o->test, "rng"))
		rng_test(svc, false);
	else if (!strcmp(o->test, "pvpanic"))
		pvpanic_test(svc);
	else if (!strcmp(o->test, "balloon"))
		balloon_test(svc, o);
	else if (!strcmp(o->test, "serial"))
		serial_test(svc, o, pdo);
	else if (!strcmp(o->test, "none") && w.have_pci && w.pci.vendor == 0x1af4 && w.pci.device == 0x1045)
		balloon_watch_reports(svc); /* the INF's switch, no balloon work */
	if (w.inject)
		goto remove; /* a broken run only has to fail, quickly */

	st = set_power(pdo, IRP_MN_QUERY_POWER, 4);
	if (NT_OK(st))
		st = set_power(pdo, IRP_MN_SET_POWER, 4);
	if (NT_OK(st))
		st = set_power(pdo, IRP_MN_SET_POWER, 1);
	CHECK(NT_OK(st), "%s: power IRPs (query D3, set D3, set D0): 0x%08x", svc, (uint32_t)st);

	st = pnp(pdo, IRP_MN_QUERY_STOP_DEVICE, NULL);
	if (NT_OK(st))
		st = pnp(pdo, IRP_MN_STOP_DEVICE, NULL);
	if (!strcmp(o->test, "balloon")) {
		uint64_t z, k, c, early;

		io_report_counts(&z, &k, &c, &early);
		CHECK(NT_OK(st) && io_mdl_pages_out() == 0 && early == 0,
		      "%s: after STOP every page is back (%llu out), none while the device held it (%llu)", svc,
		      (unsigned long long)io_mdl_pages_out(), (unsigned long long)early);
	}
	io_report_ring_set(NULL, 0, 0, 0, 0); /* vdpballoon: its reporting ring is gone */
	CHECK(NT_OK(st), "%s: QUERY_STOP and STOP: 0x%08x", svc, (uint32_t)st);
	CHECK(!io_interrupt_connected(), "%s: interrupt disconnected after STOP", svc);
	st = start_device(pdo, o->isa_port);
	CHECK(NT_OK(st), "%s: second IRP_MN_START_DEVICE after STOP: 0x%08x", svc, (uint32_t)st);
	if (NT_OK(st) && !strcmp(o->test, "rng"))
		rng_test(svc, true);
	if (NT_OK(st) && !strcmp(o->test, "pvpanic"))
		CHECK(io_bugcheck_callbacks() == 1, "%s: callback registered again after restart", svc);
	if (NT_OK(st) && !strcmp(o->test, "balloon"))
		balloon_watch_reports(svc);
	if (NT_OK(st) && !strcmp(o->test, "serial")) {
		int n = settle_children(pdo, svc, 1, 10000);

		CHECK(n == 1 && wait_iface("org.openvdp.test.0", 5000),
		      "%s: after restart the port is a new child again (%d children; interfaces %s)", svc, n,
		      iface_names());
	}
remove:
	/* rng and serial leave by surprise (the device is gone, no QUERY_REMOVE),
	 * serial with a read waiting on its port; the others orderly. */
	if (!w.inject && (!strcmp(o->test, "rng") || !strcmp(o->test, "serial"))) {
		nt_file_object *pf = !strcmp(o->test, "serial") ?
			io_open_interface_ref(port_guid, "org.openvdp.test.0", true, &st) : NULL;
		struct io_async *rd = NULL;
		uint8_t b[16];

		if (!pf && !strcmp(o->test, "serial"))
			NOK("%s: open of the port before the surprise removal: 0x%08x", svc, (uint32_t)st);
		if (pf) {
			rd = io_async_start(pf, IRP_MJ_READ, b, sizeof(b), 0, 0);
			if (io_async_wait(rd, 200, NULL, NULL))
				NOK("%s: a read on an idle port completed at once", svc);
		}
		for (unsigned i = 0; i < n_kids; i++)
			pnp(kids[i], IRP_MN_SURPRISE_REMOVAL, NULL);
		st = pnp(pdo, IRP_MN_SURPRISE_REMOVAL, NULL);
		CHECK(NT_OK(st), "%s: SURPRISE_REMOVAL: 0x%08x", svc, (uint32_t)st);
		if (rd) {
			nt_status rs = STATUS_SUCCESS;

			CHECK(io_async_wait(rd, 5000, &rs, NULL) && rs == (nt_status)0xC000009D,
			      "%s: the read waiting on the port fails with STATUS_DEVICE_NOT_CONNECTED: 0x%08x",
			      svc, (uint32_t)rs);
			if (io_async_wait(rd, 0, NULL, NULL))
				io_async_free(rd);
			else
				vh_fatal("read still pending after the surprise removal");
			st = io_close(pf);
			CHECK(NT_OK(st), "%s: the handle on the removed port closes: 0x%08x", svc, (uint32_t)st);
		}
		while (n_kids)
			kid_remove(n_kids - 1, false);
	} else {
		/* Children go before their parent. */
		while (n_kids)
			kid_remove(n_kids - 1, false);
		st = pnp(pdo, IRP_MN_QUERY_REMOVE_DEVICE, NULL);
		CHECK(NT_OK(st), "%s: QUERY_REMOVE: 0x%08x", svc, (uint32_t)st);
	}
	st = pnp(pdo, IRP_MN_REMOVE_DEVICE, NULL);
	CHECK(NT_OK(st), "%s: REMOVE: 0x%08x", svc, (uint32_t)st);
	io_report_ring_set(NULL, 0, 0, 0, 0);
	if (w.irq_thread) {
		__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
		vh_thread_join(w.irq_thread);
		vh_log("wdm: %lu interrupts, %lu claimed", w.interrupts, w.claimed);
		if (w.uio || w.msix)
			CHECK(w.claimed == w.interrupts && (w.interrupts || !strcmp(o->test, "none")),
			      "%s: every %s the device raised was claimed by the ISR (%lu of %lu)", svc,
			      w.msix ? "MSI-X message" : "INTx", w.claimed, w.interrupts);
	}
out:
	devs = io_live_devices();
	CHECK(devs == 1 && !pdo->AttachedDevice, "%s: the FDO is detached and deleted (%u device objects left, PDO included)",
	      svc, devs);
	CHECK(io_pdo_bus_refs(pdo) == 0, "%s: BUS_INTERFACE_STANDARD references dropped (%d left)", svc,
	      io_pdo_bus_refs(pdo));
	CHECK(!io_interrupt_connected() && io_bugcheck_callbacks() == 0 && io_mdl_pages_out() == 0 &&
	      io_dma_adapters() == 0,
	      "%s: interrupts, bug-check callbacks, DMA adapters and MDL pages released", svc);
	if (!pdo->AttachedDevice)
		io_delete_pdo(pdo);
	CHECK(io_live_irps() == 0, "%s: no IRP left (%u)", svc, io_live_irps());
	if (!strcmp(o->test, "balloon")) {
		uint64_t z, p, c;

		io_mdl_returned(&z, &p, &c);
		CHECK(c == 0, "%s: every ballooned page given back (%llu read as zero, %llu never reached "
		      "the host, %llu changed while ballooned)", svc, (unsigned long long)z,
		      (unsigned long long)p, (unsigned long long)c);
		{
			uint64_t rz, rk, rc, early;

			io_report_counts(&rz, &rk, &rc, &early);
			CHECK(rc == 0 && early == 0, "%s: free page reports over the whole session: %llu pages "
			      "discarded, %llu borrowed only, %llu changed, %llu freed while the device held them",
			      svc, (unsigned long long)rz, (unsigned long long)rk, (unsigned long long)rc,
			      (unsigned long long)early);
		}
	}
	if (w.have_pci)
		pci_close(&w.pci);
	return failed;
}
