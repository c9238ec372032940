/* Host unit tests of the I/O manager emulation (nt_io.c), no VM needed: a
 * small function driver written here sits on a host PDO and exercises
 * stack locations, completion routines, pending IRPs, cancel-safe queues
 * and IoCancelIrp, remove locks, device interfaces, the bus interface,
 * bug-check callbacks and page MDLs, with the rules Windows documents. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "nt_io.h"
#include "vmhost.h"

static void *sym(const char *name)
{
	void *p = vh_resolve("ntoskrnl.exe", name, NULL);

	if (!p)
		fail_msg("ntoskrnl.exe!%s not exported", name);
	return p;
}

/* ---- the test driver ---- */

struct ext {
	nt_device_object *self, *lower;
	int completions;
	nt_device_object *completion_dev;
	bool more_processing;      /* the completion routine keeps the IRP */
	bool pend_reads;           /* reads go into the queue */
	uint8_t csq[0x40];
	nt_kspin_lock csq_lock;
	nt_list_entry queue;
	int cancelled;
	uint8_t remove_lock[0x20];
	nt_kevent ev;
};

static nt_driver_object drv;
static nt_device_object *pdo, *fdo;
static struct ext *X;
static uint8_t config[256];

static uint32_t cfg_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	(void)ctx;
	if (off + len > sizeof(config))
		return 0;
	memcpy(buf, config + off, len);
	return len;
}
static const struct io_pdo_ops ops = { cfg_read, NULL };

static nt_status NTAPI on_done(nt_device_object *dev, nt_irp *irp, void *ctx)
{
	struct ext *e = ctx;

	e->completions++;
	e->completion_dev = dev;
	if (e->more_processing)
		return STATUS_MORE_PROCESSING_REQUIRED;
	if (irp->PendingReturned)
		io_current_sl(irp)->Control |= SL_PENDING_RETURNED;
	return STATUS_SUCCESS;
}

/* PnP: with a completion routine down to the PDO; with more_processing the
 * routine keeps the IRP and this routine completes it again. */
static nt_status NTAPI d_pnp(nt_device_object *dev, nt_irp *irp)
{
	struct ext *e = dev->DeviceExtension;
	nt_io_stack_location *cur = io_current_sl(irp), *next = io_next_sl(irp);
	nt_status st;

	memcpy(next, cur, offsetof(nt_io_stack_location, CompletionRoutine));
	next->Control = 0;
	next->CompletionRoutine = (void *)on_done;
	next->Context = e;
	next->Control = SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL;
	st = io_IofCallDriver(e->lower, irp);
	if (e->more_processing) {
		assert_int_not_equal(st, STATUS_PENDING);
		irp->IoStatus.Status = STATUS_SUCCESS;
		io_IofCompleteRequest(irp, 0);
		return STATUS_SUCCESS;
	}
	return st;
}

static void NTAPI q_insert(void *csq, nt_irp *irp)
{
	(void)csq;
	irp->ListEntry.Flink = &X->queue;
	irp->ListEntry.Blink = X->queue.Blink;
	X->queue.Blink->Flink = &irp->ListEntry;
	X->queue.Blink = &irp->ListEntry;
}

static void NTAPI q_remove(void *csq, nt_irp *irp)
{
	(void)csq;
	irp->ListEntry.Blink->Flink = irp->ListEntry.Flink;
	irp->ListEntry.Flink->Blink = irp->ListEntry.Blink;
}

static nt_irp *NTAPI q_peek(void *csq, nt_irp *irp, void *peek)
{
	nt_list_entry *e = irp ? irp->ListEntry.Flink : X->queue.Flink;

	(void)csq, (void)peek;
	return e == &X->queue ? NULL : (nt_irp *)((uint8_t *)e - offsetof(nt_irp, ListEntry));
}

static void NTAPI q_lock(void *csq, nt_irql *irql)
{
	(void)csq;
	*irql = ((nt_irql NTAPI (*)(nt_kspin_lock *))sym("KeAcquireSpinLockRaiseToDpc"))(&X->csq_lock);
}

static void NTAPI q_unlock(void *csq, nt_irql irql)
{
	(void)csq;
	((void NTAPI (*)(nt_kspin_lock *, nt_irql))sym("KeReleaseSpinLock"))(&X->csq_lock, irql);
}

static void NTAPI q_cancelled(void *csq, nt_irp *irp)
{
	(void)csq;
	X->cancelled++;
	irp->IoStatus.Status = STATUS_CANCELLED;
	irp->IoStatus.Information = 0;
	io_IofCompleteRequest(irp, 0);
}

static nt_status NTAPI d_create(nt_device_object *dev, nt_irp *irp)
{
	(void)dev;
	irp->IoStatus.Status = STATUS_SUCCESS;
	io_IofCompleteRequest(irp, 0);
	return STATUS_SUCCESS;
}

static nt_status NTAPI d_read(nt_device_object *dev, nt_irp *irp)
{
	struct ext *e = dev->DeviceExtension;
	uint32_t n = io_current_sl(irp)->Parameters.Read.Length;

	if (e->pend_reads) {
		io_IoCsqInsertIrp(e->csq, irp, NULL);
		return STATUS_PENDING;
	}
	memset(irp->AssociatedIrp.SystemBuffer, 0x42, n);
	irp->IoStatus.Status = STATUS_SUCCESS;
	irp->IoStatus.Information = n;
	io_IofCompleteRequest(irp, 0);
	return STATUS_SUCCESS;
}

static nt_status NTAPI d_power(nt_device_object *dev, nt_irp *irp)
{
	struct ext *e = dev->DeviceExtension;

	((void NTAPI (*)(nt_irp *))sym("PoStartNextPowerIrp"))(irp);
	irp->CurrentLocation++;
	irp->CurrentStackLocation++; /* IoSkipCurrentIrpStackLocation */
	return ((nt_status NTAPI (*)(nt_device_object *, nt_irp *))sym("PoCallDriver"))(e->lower, irp);
}

static const uint8_t guid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static int setup(void **state)
{
	nt_unicode_string name;

	(void)state;
	vh_add_exports(io_exports);
	if (dma_pool_init(false, 8u << 20))
		return -1;
	vh_sched_start();
	drv.Type = 4;
	drv.MajorFunction[IRP_MJ_PNP] = (void *)d_pnp;
	drv.MajorFunction[IRP_MJ_CREATE] = (void *)d_create;
	drv.MajorFunction[IRP_MJ_CLOSE] = (void *)d_create;
	drv.MajorFunction[IRP_MJ_CLEANUP] = (void *)d_create;
	drv.MajorFunction[IRP_MJ_READ] = (void *)d_read;
	drv.MajorFunction[IRP_MJ_POWER] = (void *)d_power;
	config[0] = 0xf4, config[1] = 0x1a;
	pdo = io_create_pdo("test", &ops);
	if (!pdo || io_IoCreateDevice(&drv, sizeof(struct ext), NULL, 0x22, 0, 0, &fdo))
		return -1;
	X = fdo->DeviceExtension;
	X->self = fdo;
	X->lower = io_IoAttachDeviceToDeviceStack(fdo, pdo);
	X->queue.Flink = X->queue.Blink = &X->queue;
	fdo->Flags |= DO_BUFFERED_IO;
	fdo->Flags &= ~DO_DEVICE_INITIALIZING;
	io_IoCsqInitialize(X->csq, (void *)q_insert, (void *)q_remove, (void *)q_peek, (void *)q_lock,
			   (void *)q_unlock, (void *)q_cancelled);
	io_IoInitializeRemoveLockEx(X->remove_lock, 0x74736554, 0, 0, 0x20);
	if (((nt_status NTAPI (*)(nt_device_object *, const void *, void *, nt_unicode_string *))
	     sym("IoRegisterDeviceInterface"))(pdo, guid, NULL, &name))
		return -1;
	((nt_status NTAPI (*)(nt_unicode_string *, uint8_t))sym("IoSetDeviceInterfaceState"))(&name, 1);
	((void NTAPI (*)(nt_unicode_string *))sym("RtlFreeUnicodeString"))(&name);
	return X->lower == pdo ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	io_IoDetachDevice(pdo);
	io_IoDeleteDevice(fdo);
	io_delete_pdo(pdo);
	vh_sched_stop();
	return io_live_devices() || io_live_irps() || vh_pool_leaks(true) ? -1 : 0;
}

static void test_stack_and_completion(void **state)
{
	struct io_req r = { .major = IRP_MJ_PNP, .minor = IRP_MN_START_DEVICE };

	(void)state;
	assert_int_equal(fdo->StackSize, 2);
	assert_ptr_equal(io_top_of_stack(pdo), fdo);
	X->completions = 0;
	X->more_processing = false;
	assert_int_equal(io_send_sync(pdo, &r, NULL, 1000), STATUS_SUCCESS);
	assert_int_equal(X->completions, 1);
	/* The routine runs for the location above: the FDO is its device. */
	assert_ptr_equal(X->completion_dev, fdo);
	X->more_processing = true;
	assert_int_equal(io_send_sync(pdo, &r, NULL, 1000), STATUS_SUCCESS);
	assert_int_equal(X->completions, 2);
	X->more_processing = false;
	/* A PnP IRP the PDO does not handle keeps STATUS_NOT_SUPPORTED. */
	r.minor = 0x18; /* IRP_MN_QUERY_LEGACY_BUS_INFORMATION */
	assert_int_equal(io_send_sync(pdo, &r, NULL, 1000), STATUS_NOT_SUPPORTED);
	assert_int_equal(io_live_irps(), 0);
}

static void test_bus_interface(void **state)
{
	static const uint8_t bus_guid[16] = { 0x80, 0x82, 0x6b, 0x49, 0x25, 0x6f, 0xd0, 0x11,
					      0xbe, 0xaf, 0x08, 0x00, 0x2b, 0xe2, 0x09, 0x2f };
	struct {
		uint16_t Size, Version;
		uint32_t pad;
		void *Context, *Ref, *Deref, *Translate, *GetDma, *Set, *Get;
	} bi;
	uint64_t p[4] = { (uintptr_t)bus_guid, sizeof(bi) | 1u << 16, (uintptr_t)&bi, 0 };
	struct io_req r = { .major = IRP_MJ_PNP, .minor = IRP_MN_QUERY_INTERFACE, .params = p };
	uint16_t id = 0;

	(void)state;
	memset(&bi, 0, sizeof(bi));
	assert_int_equal(io_send_sync(pdo, &r, NULL, 1000), STATUS_SUCCESS);
	assert_non_null(bi.Get);
	assert_int_equal(io_pdo_bus_refs(pdo), 1);
	assert_int_equal(((uint32_t NTAPI (*)(void *, uint32_t, void *, uint32_t, uint32_t))bi.Get)(
				 bi.Context, 0, &id, 0, 2), 2);
	assert_int_equal(id, 0x1af4);
	/* Outside config space: nothing read. */
	assert_int_equal(((uint32_t NTAPI (*)(void *, uint32_t, void *, uint32_t, uint32_t))bi.Get)(
				 bi.Context, 0, &id, 4095, 2), 0);
	((void NTAPI (*)(void *))bi.Deref)(bi.Context);
	assert_int_equal(io_pdo_bus_refs(pdo), 0);
	{
		/* IRP_MN_READ_CONFIG: WhichSpace, Buffer, Offset, Length. */
		uint16_t v = 0;
		uint64_t rc[4] = { 0, (uintptr_t)&v, 0 | (uint64_t)0 << 32, 2 };
		struct io_req q = { .major = IRP_MJ_PNP, .minor = IRP_MN_READ_CONFIG, .params = rc };
		uint64_t n = 0;

		assert_int_equal(io_send_sync(pdo, &q, &n, 1000), STATUS_SUCCESS);
		assert_int_equal(n, 2);
		assert_int_equal(v, 0x1af4);
	}
}

static void test_read_and_power(void **state)
{
	uint8_t buf[64];
	nt_status st;
	uint64_t info;
	nt_file_object *f = io_open_interface(guid, &st);
	struct io_async *a;
	uint32_t pw[8] = { 0, 0, 1, 0, 4, 0, 0, 0 };
	struct io_req r = { .major = IRP_MJ_POWER, .minor = IRP_MN_SET_POWER, .params = pw };

	(void)state;
	assert_non_null(f);
	memset(buf, 0, sizeof(buf));
	a = io_async_start(f, IRP_MJ_READ, buf, 48, 0, 0);
	assert_true(io_async_wait(a, 1000, &st, &info));
	assert_int_equal(st, STATUS_SUCCESS);
	assert_int_equal(info, 48);
	assert_int_equal(buf[47], 0x42);
	assert_int_equal(buf[48], 0); /* only Information bytes copied back */
	io_async_free(a);
	assert_int_equal(io_send_sync(pdo, &r, NULL, 1000), STATUS_SUCCESS);
	assert_int_equal(io_close(f), STATUS_SUCCESS);
}

static void test_csq_and_cancel(void **state)
{
	uint8_t b1[16], b2[16];
	nt_status st;
	nt_file_object *f = io_open_interface(guid, &st);
	struct io_async *a1, *a2;
	nt_irp *irp;

	(void)state;
	X->pend_reads = true;
	X->cancelled = 0;
	a1 = io_async_start(f, IRP_MJ_READ, b1, 16, 0, 0);
	a2 = io_async_start(f, IRP_MJ_READ, b2, 16, 0, 0);
	assert_false(io_async_wait(a1, 10, NULL, NULL));
	/* Cancel the second: its cancel routine removes it from the queue. */
	assert_true(io_async_cancel(a2));
	assert_true(io_async_wait(a2, 1000, &st, NULL));
	assert_int_equal(st, STATUS_CANCELLED);
	assert_int_equal(X->cancelled, 1);
	/* The first comes out of the queue; a cancel now finds no routine. */
	irp = io_IoCsqRemoveNextIrp(X->csq, NULL);
	assert_non_null(irp);
	assert_null(io_IoCsqRemoveNextIrp(X->csq, NULL));
	assert_false(io_async_cancel(a1));
	assert_true(irp->Cancel);
	irp->IoStatus.Status = STATUS_SUCCESS;
	irp->IoStatus.Information = 3;
	io_IofCompleteRequest(irp, 0);
	assert_true(io_async_wait(a1, 1000, &st, NULL));
	assert_int_equal(st, STATUS_SUCCESS);
	/* IoMarkIrpPending by the queue: the pending return was legal. */
	assert_true(irp->PendingReturned);
	io_async_free(a1);
	io_async_free(a2);
	X->pend_reads = false;
	assert_int_equal(io_close(f), STATUS_SUCCESS);
}

static void *release_later(void *arg)
{
	usleep(50000);
	io_IoReleaseRemoveLockEx(arg, NULL, 0x20);
	return NULL;
}

static void test_remove_lock(void **state)
{
	pthread_t t;
	uint64_t t0;

	(void)state;
	assert_int_equal(io_IoAcquireRemoveLockEx(X->remove_lock, (void *)1, "", 0, 0x20), STATUS_SUCCESS);
	assert_int_equal(io_IoAcquireRemoveLockEx(X->remove_lock, (void *)2, "", 0, 0x20), STATUS_SUCCESS);
	pthread_create(&t, NULL, release_later, X->remove_lock);
	t0 = vh_now_ns();
	/* Waits for the other holder. */
	io_IoReleaseRemoveLockAndWaitEx(X->remove_lock, (void *)1, 0x20);
	assert_true(vh_now_ns() - t0 >= 40000000ull);
	pthread_join(t, NULL);
	assert_int_equal(io_IoAcquireRemoveLockEx(X->remove_lock, (void *)3, "", 0, 0x20),
			 STATUS_DELETE_PENDING);
}

static int bug_calls;
static nt_irql bug_irql;
static void NTAPI on_bugcheck(void *buf, uint32_t len)
{
	(void)buf, (void)len;
	bug_calls++;
	bug_irql = vh_irql();
}

static void test_bugcheck(void **state)
{
	uint8_t rec[0x40] = { 0 };
	uint8_t NTAPI (*reg)(void *, void *, void *, uint32_t, const char *) = sym("KeRegisterBugCheckCallback");
	uint8_t NTAPI (*dereg)(void *) = sym("KeDeregisterBugCheckCallback");

	(void)state;
	assert_true(reg(rec, (void *)on_bugcheck, rec, sizeof(rec), "t"));
	assert_false(reg(rec, (void *)on_bugcheck, rec, sizeof(rec), "t")); /* already inserted */
	assert_int_equal(io_simulate_bugcheck(0xe2), 1);
	assert_int_equal(bug_calls, 1);
	assert_int_equal(bug_irql, HIGH_LEVEL);
	assert_true(dereg(rec));
	assert_false(dereg(rec));
	assert_int_equal(io_simulate_bugcheck(0xe2), 0);
}

static void test_mdl_pages(void **state)
{
	void *NTAPI (*alloc)(int64_t, int64_t, int64_t, size_t, uint32_t, uint32_t) = sym("MmAllocatePagesForMdlEx");
	void NTAPI (*release)(void *) = sym("MmFreePagesFromMdl");
	void NTAPI (*pool_free)(void *) = sym("ExFreePool");
	uint8_t *m;
	uint32_t bytes;
	uint64_t z, p, c;

	(void)state;
	m = alloc(0, INT64_MAX, 0, 5 * 4096, 1, 1 /* MM_DONT_ZERO_ALLOCATION */);
	assert_non_null(m);
	memcpy(&bytes, m + 0x28, 4);
	assert_int_equal(bytes, 5 * 4096);
	assert_int_equal(io_mdl_pages_out(), 5);
	release(m);
	assert_int_equal(io_mdl_pages_out(), 0);
	io_mdl_returned(&z, &p, &c);
	assert_int_equal(p, 5); /* nobody discarded them on the host */
	pool_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_and_completion),
		cmocka_unit_test(test_bus_interface),
		cmocka_unit_test(test_read_and_power),
		cmocka_unit_test(test_csq_and_cancel),
		cmocka_unit_test(test_bugcheck),
		cmocka_unit_test(test_mdl_pages),
		cmocka_unit_test(test_remove_lock),
	};

	return cmocka_run_group_tests_name("vmhost-io", tests, setup, teardown);
}
