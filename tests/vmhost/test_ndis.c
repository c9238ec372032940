/* Host unit tests for the NDIS emulation (nt_ndis.c) where no VM is needed:
 * the services vdpnet does not import today (timers, work items) and the
 * ones whose corner cases the network test cannot reach (MDL chains in
 * NdisGetDataBuffer, configuration parameters, spin lock IRQLs). Calls go
 * through the export table, as a driver's imports would. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "nt_ndis.h"
#include "vmhost.h"

static void *sym(const char *name)
{
	void *p = vh_resolve("ndis.sys", name, NULL);

	if (!p)
		fail_msg("ndis.sys!%s not exported", name);
	return p;
}

static void NTAPI any_handler(void) {}
static void *driver_handle;

/* Registers a miniport (every handler a stub) so the driver handle exists. */
static int setup(void **state)
{
	typedef uint32_t NTAPI reg_fn(nt_driver_object *, void *, void *, void *, void **);
	static nt_driver_object drv;
	uint8_t chars[0x98];
	void *fn = (void *)any_handler;

	(void)state;
	memset(chars, 0, sizeof(chars));
	chars[0] = 0x8a;
	chars[1] = 2;
	chars[2] = 0x98;
	chars[4] = 6;
	chars[5] = 30;
	for (size_t off = 0x18; off < sizeof(chars); off += 8)
		memcpy(chars + off, &fn, 8);
	if (((reg_fn *)sym("NdisMRegisterMiniportDriver"))(&drv, NULL, NULL, chars, &driver_handle))
		return -1;
	vh_sched_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vh_sched_stop();
	((void NTAPI (*)(void *))sym("NdisMDeregisterMiniportDriver"))(driver_handle);
	return vh_pool_leaks(true) ? -1 : 0;
}

/* ------------------------------------------------------------ timers */

static volatile int timer_hits;
static void *volatile timer_ctx;
static volatile nt_irql timer_irql;

static void NTAPI timer_fn(void *s1, void *ctx, void *s2, void *s3)
{
	(void)s1;
	(void)s2;
	(void)s3;
	timer_ctx = ctx;
	timer_irql = vh_irql();
	timer_hits++;
}

static void test_timer_object(void **state)
{
	typedef uint32_t NTAPI alloc_fn(void *, void *, void **);
	typedef uint8_t NTAPI set_fn(void *, int64_t, int32_t, void *);
	typedef uint8_t NTAPI cancel_fn(void *);
	typedef void NTAPI free_fn(void *);
	struct {
		uint8_t type, rev;
		uint16_t size;
		uint32_t tag;
		void *fn, *ctx;
	} tc = { 0x97, 1, 0x18, 0x726d5456, (void *)timer_fn, (void *)1 };
	void *t = NULL;

	(void)state;
	assert_int_equal(((alloc_fn *)sym("NdisAllocateTimerObject"))(driver_handle, &tc, &t), 0);
	assert_non_null(t);
	/* Relative 2 ms; the context given to NdisSetTimerObject wins. */
	assert_int_equal(((set_fn *)sym("NdisSetTimerObject"))(t, -20000, 0, (void *)2), 0);
	for (int i = 0; i < 1000 && !timer_hits; i++)
		usleep(1000);
	assert_true(vh_sched_idle(5000));
	assert_int_equal(timer_hits, 1);
	assert_ptr_equal(timer_ctx, (void *)2);
	assert_int_equal(timer_irql, DISPATCH_LEVEL);
	/* A cancelled timer does not fire. */
	((set_fn *)sym("NdisSetTimerObject"))(t, -10000000, 0, NULL);
	assert_int_equal(((cancel_fn *)sym("NdisCancelTimerObject"))(t), 1);
	usleep(20000);
	assert_int_equal(timer_hits, 1);
	((free_fn *)sym("NdisFreeTimerObject"))(t);
}

/* ------------------------------------------------------------ work items */

static volatile int work_hits;
static volatile nt_irql work_irql;
static void *volatile work_handle;

static void NTAPI work_fn(void *ctx, void *handle)
{
	work_irql = vh_irql();
	work_handle = handle;
	work_hits += (int)(uintptr_t)ctx;
}

static void test_work_item(void **state)
{
	void *w = ((void *NTAPI (*)(void *))sym("NdisAllocateIoWorkItem"))(driver_handle);

	(void)state;
	assert_non_null(w);
	((void NTAPI (*)(void *, void *, void *))sym("NdisQueueIoWorkItem"))(w, (void *)work_fn,
									   (void *)5);
	assert_true(vh_sched_idle(5000));
	assert_int_equal(work_hits, 5);
	assert_int_equal(work_irql, PASSIVE_LEVEL);
	assert_ptr_equal(work_handle, w);
	((void NTAPI (*)(void *))sym("NdisFreeIoWorkItem"))(w);
}

/* ------------------------------------------------------------ spin locks */

static void test_spin_locks(void **state)
{
	typedef void NTAPI lock_fn(void *);
	struct {
		uint64_t lock;
		uint8_t old;
		uint8_t pad[7];
	} l;

	(void)state;
	vh_set_irql(PASSIVE_LEVEL);
	((lock_fn *)sym("NdisAllocateSpinLock"))(&l);
	((lock_fn *)sym("NdisAcquireSpinLock"))(&l);
	assert_int_equal(vh_irql(), DISPATCH_LEVEL);
	assert_int_not_equal(l.lock, 0);
	((lock_fn *)sym("NdisReleaseSpinLock"))(&l);
	assert_int_equal(vh_irql(), PASSIVE_LEVEL);
	assert_int_equal(l.lock, 0);
	vh_set_irql(DISPATCH_LEVEL);
	((lock_fn *)sym("NdisDprAcquireSpinLock"))(&l);
	((lock_fn *)sym("NdisDprReleaseSpinLock"))(&l);
	assert_int_equal(vh_irql(), DISPATCH_LEVEL);
	vh_set_irql(PASSIVE_LEVEL);
	((lock_fn *)sym("NdisFreeSpinLock"))(&l);
}

/* ------------------------------------------------------------ NBLs and MDLs */

struct mdl {
	struct mdl *next;
	int16_t size, flags;
	uint16_t proc, res;
	void *process, *mapped, *start;
	uint32_t count, offset;
};

static void test_nbl_data(void **state)
{
	typedef void *NTAPI pool_fn(void *, void *);
	typedef void *NTAPI mdl_fn(void *, void *, uint32_t);
	typedef void *NTAPI nbl_fn(void *, uint16_t, uint16_t, void *, uint32_t, size_t);
	typedef void *NTAPI get_fn(void *, uint32_t, void *, uint32_t, uint32_t);
	struct {
		uint8_t type, rev;
		uint16_t size;
		uint8_t proto, alloc_nb;
		uint16_t ctx;
		uint32_t tag, data;
	} pp = { 0x80, 1, 0x10, 0, 1, 0, 0x6c624e54, 0 };
	static uint8_t a[100], b[100];
	uint8_t storage[64], *p;
	struct mdl *m1, *m2;
	void *pool, *nbl, **nb;

	(void)state;
	for (int i = 0; i < 100; i++) {
		a[i] = (uint8_t)i;
		b[i] = (uint8_t)(100 + i);
	}
	pool = ((pool_fn *)sym("NdisAllocateNetBufferListPool"))(driver_handle, &pp);
	assert_non_null(pool);
	m1 = ((mdl_fn *)sym("NdisAllocateMdl"))(driver_handle, a, 100);
	m2 = ((mdl_fn *)sym("NdisAllocateMdl"))(driver_handle, b, 100);
	assert_non_null(m1);
	assert_non_null(m2);
	assert_ptr_equal(m1->mapped, a);
	assert_int_equal(m1->count, 100);
	m1->next = m2;
	/* Data from offset 90 of the first MDL: 10 bytes there, 100 in the second. */
	nbl = ((nbl_fn *)sym("NdisAllocateNetBufferAndNetBufferList"))(pool, 0, 0, m1, 90, 110);
	assert_non_null(nbl);
	nb = ((void ***)nbl)[1]; /* FirstNetBuffer */
	assert_non_null(nb);
	p = ((get_fn *)sym("NdisGetDataBuffer"))(nb, 8, NULL, 1, 0);
	assert_ptr_equal(p, a + 90); /* contiguous: a direct pointer */
	p = ((get_fn *)sym("NdisGetDataBuffer"))(nb, 20, NULL, 1, 0);
	assert_null(p); /* spans MDLs and no storage */
	p = ((get_fn *)sym("NdisGetDataBuffer"))(nb, 20, storage, 1, 0);
	assert_ptr_equal(p, storage);
	for (int i = 0; i < 10; i++)
		assert_int_equal(storage[i], 90 + i);
	for (int i = 10; i < 20; i++)
		assert_int_equal(storage[i], 100 + i - 10);
	assert_null(((get_fn *)sym("NdisGetDataBuffer"))(nb, 111, storage, 1, 0));
	((void NTAPI (*)(void *))sym("NdisFreeNetBufferList"))(nbl);
	((void NTAPI (*)(void *))sym("NdisFreeMdl"))(m1);
	((void NTAPI (*)(void *))sym("NdisFreeMdl"))(m2);
	((void NTAPI (*)(void *))sym("NdisFreeNetBufferListPool"))(pool);
}

/* ------------------------------------------------------------ configuration */

static void test_configuration(void **state)
{
	typedef uint32_t NTAPI open_fn(void *, void **);
	typedef void NTAPI read_fn(uint32_t *, void **, void *, nt_unicode_string *, uint32_t);
	typedef void NTAPI addr_fn(uint32_t *, void **, uint32_t *, void *);
	struct {
		uint8_t type, rev;
		uint16_t size;
		uint32_t pad;
		void *handle;
		uint32_t flags;
	} co = { 0xa9, 1, 0x14, 0, driver_handle, 0 };
	uint16_t key[] = { 'M', 'T', 'U' }, nokey[] = { 'X' };
	nt_unicode_string k = { 6, 6, 0, key }, nk = { 2, 2, 0, nokey };
	uint32_t st = 0, len = 0;
	void *cfg = NULL, *param = NULL, *mac = NULL;

	(void)state;
	assert_true(nd_set_param("MTU=9000"));
	assert_true(nd_set_param("NetworkAddress=020000abcdef"));
	assert_false(nd_set_param("no assignment"));
	co.handle = driver_handle;
	assert_int_equal(((open_fn *)sym("NdisOpenConfigurationEx"))(&co, &cfg), 0);
	((read_fn *)sym("NdisReadConfiguration"))(&st, &param, cfg, &k, 0 /* integer */);
	assert_int_equal(st, 0);
	assert_non_null(param);
	assert_int_equal(((uint32_t *)param)[2], 9000); /* ParameterData at 8 */
	((read_fn *)sym("NdisReadConfiguration"))(&st, &param, cfg, &nk, 0);
	assert_int_not_equal(st, 0); /* missing: a failure status, no value */
	assert_null(param);
	((addr_fn *)sym("NdisReadNetworkAddress"))(&st, &mac, &len, cfg);
	assert_int_equal(st, 0);
	assert_int_equal(len, 6);
	assert_memory_equal(mac, "\x02\x00\x00\xab\xcd\xef", 6);
	((void NTAPI (*)(void *))sym("NdisCloseConfiguration"))(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_object),
		cmocka_unit_test(test_work_item),
		cmocka_unit_test(test_spin_locks),
		cmocka_unit_test(test_nbl_data),
		cmocka_unit_test(test_configuration),
	};

	dma_pool_init(false, 1u << 20);
	vh_add_exports(nd_exports);
	return cmocka_run_group_tests_name("vmhost-ndis", tests, setup, teardown);
}
