/* Host unit tests for the emulated processors (nt_kernel.c, nt_sched.c):
 * the count is the process's affinity, the current number follows the
 * CPU the thread runs on, IRQL >= DISPATCH_LEVEL pins the thread, and a
 * DPC runs on its target processor or on the one that queued it. Calls go
 * through the export table, as a driver's imports would. On a one-CPU host
 * the pinning test has nothing to observe and passes. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "vmhost.h"

static void *sym(const char *name)
{
	void *p = vh_resolve("ntoskrnl.exe", name, NULL);

	if (!p)
		fail_msg("ntoskrnl.exe!%s not exported", name);
	return p;
}

typedef uint32_t NTAPI count_ex_fn(uint16_t group);
typedef uint32_t NTAPI count_fn(uint64_t *mask);
typedef uint32_t NTAPI current_ex_fn(nt_processor_number *pn);

static unsigned affinity_cpus(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return (unsigned)CPU_COUNT(&set);
}

static int setup(void **state)
{
	(void)state;
	vh_sched_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vh_sched_stop();
	return 0;
}

static void test_count(void **state)
{
	unsigned n = vh_cpu_count(), want = affinity_cpus();
	uint64_t mask = 0;

	(void)state;
	assert_int_equal(n, want > VH_MAX_CPUS ? VH_MAX_CPUS : want);
	assert_int_equal(((count_ex_fn *)sym("KeQueryActiveProcessorCountEx"))(0), n);
	assert_int_equal(((count_ex_fn *)sym("KeQueryActiveProcessorCountEx"))(0xffff), n);
	assert_int_equal(((count_ex_fn *)sym("KeQueryActiveProcessorCountEx"))(1), 0);
	assert_int_equal(((count_ex_fn *)sym("KeQueryMaximumProcessorCountEx"))(0), n);
	assert_int_equal(((count_fn *)sym("KeQueryActiveProcessorCount"))(&mask), n);
	assert_int_equal(mask, n >= 64 ? ~0ull : (1ull << n) - 1);
}

/* Bound to processor k, the thread is told it runs on k, group 0. */
static void *current_on(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	nt_processor_number pn = { 0xffff, 0xff, 0xff };
	uint32_t r = ((current_ex_fn *)sym("KeGetCurrentProcessorNumberEx"))(&pn);

	return (void *)(uintptr_t)(r == k && pn.Group == 0 && pn.Number == k && pn.Reserved == 0);
}

static void test_current(void **state)
{
	unsigned n = vh_cpu_count();

	(void)state;
	for (unsigned k = 0; k < n && k < 4; k++) {
		int id = vh_thread_start_on("cputest", VH_STACK_SIZE, current_on, (void *)(uintptr_t)k,
					    (int)k);
		assert_true((uintptr_t)vh_thread_join(id));
	}
}

/* At DISPATCH_LEVEL an unbound thread may run on one CPU only; back at
 * PASSIVE_LEVEL on all of them again. */
static void *pin_check(void *arg)
{
	cpu_set_t set;
	unsigned at_dispatch, at_passive, cur;

	(void)arg;
	vh_set_irql(PASSIVE_LEVEL);
	vh_set_irql(DISPATCH_LEVEL);
	cur = vh_cpu_current();
	sched_getaffinity(0, sizeof(set), &set);
	at_dispatch = (unsigned)CPU_COUNT(&set);
	/* Still the same processor after a yield. */
	sched_yield();
	if (vh_cpu_current() != cur)
		return NULL;
	vh_set_irql(PASSIVE_LEVEL);
	sched_getaffinity(0, sizeof(set), &set);
	at_passive = (unsigned)CPU_COUNT(&set);
	return (void *)(uintptr_t)(at_dispatch == 1 && at_passive == vh_cpu_count());
}

static void test_pin(void **state)
{
	int id;

	(void)state;
	/* One processor: nothing to pin to (cmocka's skip would print "not ok"). */
	if (vh_cpu_count() < 2)
		return;
	id = vh_thread_start("pintest", VH_STACK_SIZE, pin_check, NULL);
	assert_true((uintptr_t)vh_thread_join(id));
}

static volatile int dpc_cpu = -1, dpc_irql = -1;

static void NTAPI record_dpc(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	dpc_irql = vh_irql();
	dpc_cpu = (int)((current_ex_fn *)sym("KeGetCurrentProcessorNumberEx"))(NULL);
}

static void run_dpc(nt_kdpc *dpc)
{
	dpc_cpu = dpc_irql = -1;
	assert_int_equal(nt_KeInsertQueueDpc(dpc, NULL, NULL), 1);
	nt_KeFlushQueuedDpcs();
}

static void *queue_from(void *arg)
{
	nt_kdpc *dpc = arg;

	vh_set_irql(PASSIVE_LEVEL);
	run_dpc(dpc);
	return NULL;
}

static void test_dpc_target(void **state)
{
	typedef nt_status NTAPI target_ex_fn(nt_kdpc *, nt_processor_number *);
	unsigned n = vh_cpu_count();
	nt_processor_number pn = { 0, 0, 0 };
	nt_kdpc dpc;
	int id;

	(void)state;
	vh_set_irql(PASSIVE_LEVEL);
	nt_KeInitializeDpc(&dpc, record_dpc, NULL);
	/* Untargeted: the processor that queued it. */
	id = vh_thread_start_on("dpcq", VH_STACK_SIZE, queue_from, &dpc, (int)(n - 1));
	vh_thread_join(id);
	assert_int_equal(dpc_cpu, (int)(n - 1));
	assert_int_equal(dpc_irql, DISPATCH_LEVEL);
	for (unsigned k = 0; k < n && k < 4; k++) {
		nt_KeSetTargetProcessorDpc(&dpc, (int8_t)k);
		run_dpc(&dpc);
		assert_int_equal(dpc_cpu, (int)k);
		pn.Number = (uint8_t)(n - 1 - k);
		assert_int_equal(((target_ex_fn *)sym("KeSetTargetProcessorDpcEx"))(&dpc, &pn),
				 STATUS_SUCCESS);
		run_dpc(&dpc);
		assert_int_equal(dpc_cpu, (int)(n - 1 - k));
	}
	/* Out of range or another group: refused, the target unchanged. */
	pn.Number = (uint8_t)n;
	assert_int_equal(((target_ex_fn *)sym("KeSetTargetProcessorDpcEx"))(&dpc, &pn),
			 STATUS_INVALID_PARAMETER);
	pn = (nt_processor_number){ 1, 0, 0 };
	assert_int_equal(((target_ex_fn *)sym("KeSetTargetProcessorDpcEx"))(&dpc, &pn),
			 STATUS_INVALID_PARAMETER);
	run_dpc(&dpc);
	assert_int_equal(dpc_cpu, (int)(n - 1 - ((n < 4 ? n : 4) - 1)));
}

static void test_index(void **state)
{
	typedef nt_status NTAPI from_index_fn(uint32_t, nt_processor_number *);
	typedef uint32_t NTAPI to_index_fn(const nt_processor_number *);
	unsigned n = vh_cpu_count();
	nt_processor_number pn;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(((from_index_fn *)sym("KeGetProcessorNumberFromIndex"))(i, &pn),
				 STATUS_SUCCESS);
		assert_int_equal(pn.Group, 0);
		assert_int_equal(pn.Number, i);
		assert_int_equal(((to_index_fn *)sym("KeGetProcessorIndexFromNumber"))(&pn), i);
	}
	assert_int_equal(((from_index_fn *)sym("KeGetProcessorNumberFromIndex"))(n, &pn),
			 STATUS_INVALID_PARAMETER);
	pn = (nt_processor_number){ 0, (uint8_t)n, 0 };
	assert_int_equal(((to_index_fn *)sym("KeGetProcessorIndexFromNumber"))(&pn), 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_current),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_dpc_target),
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests_name("vmhost-cpu", tests, setup, teardown);
}
