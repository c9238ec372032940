/* Host unit tests for the StorPort emulation's checks: the lock
 * order a real StorPort deadlocks on (each violation must end the run with
 * exit 71 and a message naming both locks), the busy handling
 * (StorPortDeviceBusy/Ready, SRB_STATUS_BUSY resubmission, a LUN left
 * busy) and the SRB_EX gate. Fatal cases run in a forked child. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nt_storport.h"
#include "vmhost.h"

typedef void NTAPI notification_fn(uint32_t type, void *ext, ...);
typedef nt_status NTAPI init_fn(void *, void *, sp_hw_init_data *, void *);
typedef uint8_t NTAPI dev_busy_fn(void *ext, uint8_t p, uint8_t t, uint8_t l, uint32_t n);
typedef uint8_t NTAPI dev_ready_fn(void *ext, uint8_t p, uint8_t t, uint8_t l);
typedef uint8_t NTAPI busy_fn(void *ext, uint32_t n);

static void *sym(const char *name)
{
	void *p = vh_resolve("storport.sys", name, NULL);

	if (!p)
		fail_msg("storport.sys!%s not provided", name);
	return p;
}

#define NOTIFY(...) ((notification_fn *)sym("StorPortNotification"))(__VA_ARGS__)

/* The device extension is NULL: no adapter is started on the build host. */
static void acquire(uint32_t lock, void *ctx, sp_lock_handle *h)
{
	NOTIFY(SP_AcquireSpinLock, NULL, lock, ctx, h);
}

static void release(sp_lock_handle *h)
{
	NOTIFY(SP_ReleaseSpinLock, NULL, h);
}

/* Runs fn in a child process; returns its exit status (128 + signal when
 * killed) with everything it printed in out. */
static int in_child(void (*fn)(void), char *out, size_t size)
{
	int p[2], st;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	fflush(NULL);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		alarm(20); /* a hang is a failure too */
		fn();
		fflush(NULL);
		_exit(0);
	}
	close(p[1]);
	while (n + 1 < size && (r = read(p[0], out + n, size - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* fn must die through vh_fatal with a message holding both strings. */
static void expect_fatal(void (*fn)(void), const char *a, const char *b)
{
	char out[4096];
	int st = in_child(fn, out, sizeof(out));

	if (st != 71 || !strstr(out, a) || (b && !strstr(out, b)))
		fail_msg("want exit 71 naming \"%s\"%s%s, got %d:\n%s", a, b ? " and " : "",
			 b ? b : "", st, out);
}

static sp_stor_dpc dpc_a, dpc_b;

/* ------------------------------------------------------------ lock order */

static void good_order(void)
{
	sp_lock_handle d, s, i;

	vh_set_irql(PASSIVE_LEVEL);
	acquire(SP_DpcLock, &dpc_a, &d);
	acquire(SP_StartIoLock, NULL, &s);
	acquire(SP_InterruptLock, NULL, &i);
	if (sp_lockdep_depth() != 3 || vh_irql() <= DISPATCH_LEVEL)
		_exit(2);
	release(&i);
	release(&s);
	release(&d);
	if (sp_lockdep_depth() != 0 || vh_irql() != PASSIVE_LEVEL)
		_exit(3);
	/* Two DPC locks, released out of order at DISPATCH_LEVEL: the IRQL
	 * each handle restores keeps the other lock valid, so that is fine. */
	vh_set_irql(DISPATCH_LEVEL);
	acquire(SP_DpcLock, &dpc_a, &d);
	acquire(SP_DpcLock, &dpc_b, &s);
	release(&d);
	release(&s);
	if (sp_lockdep_depth() != 0)
		_exit(4);
	vh_set_irql(PASSIVE_LEVEL);
}

static void dpc_under_startio(void)
{
	sp_lock_handle s, d;

	acquire(SP_StartIoLock, NULL, &s);
	acquire(SP_DpcLock, &dpc_a, &d);
}

static void dpc_under_interrupt(void)
{
	sp_lock_handle i, d;

	acquire(SP_InterruptLock, NULL, &i);
	acquire(SP_DpcLock, &dpc_a, &d);
}

/* HwStartIo: the port holds the StartIo lock around the callback. */
static void dpc_in_startio_callback(void)
{
	static nt_kspin_lock port_lock;
	sp_lock_handle d;

	sp_lockdep_acquire(SPL_STARTIO, &port_lock, 0);
	vh_set_irql(DISPATCH_LEVEL);
	acquire(SP_DpcLock, &dpc_a, &d);
}

static void startio_under_interrupt(void)
{
	sp_lock_handle i, s;

	acquire(SP_InterruptLock, NULL, &i);
	acquire(SP_StartIoLock, NULL, &s);
}

/* HwMSInterruptRoutine with per-message locks: message 2's lock held. */
static void startio_in_message_callback(void)
{
	static nt_kspin_lock msg_lock;
	sp_lock_handle s;

	sp_lockdep_acquire(SPL_MESSAGE, &msg_lock, 2);
	acquire(SP_StartIoLock, NULL, &s);
}

static void interrupt_in_message_callback(void)
{
	static nt_kspin_lock msg_lock;
	sp_lock_handle i;

	sp_lockdep_acquire(SPL_MESSAGE, &msg_lock, 2);
	acquire(SP_InterruptLock, NULL, &i);
}

static void startio_twice(void)
{
	sp_lock_handle a, b;

	acquire(SP_StartIoLock, NULL, &a);
	acquire(SP_StartIoLock, NULL, &b);
}

static void interrupt_twice(void)
{
	sp_lock_handle a, b;

	acquire(SP_InterruptLock, NULL, &a);
	acquire(SP_InterruptLock, NULL, &b);
}

static void dpc_lock_twice(void)
{
	sp_lock_handle a, b;

	acquire(SP_DpcLock, &dpc_a, &a);
	acquire(SP_DpcLock, &dpc_a, &b);
}

static void release_not_held(void)
{
	sp_lock_handle h;

	memset(&h, 0, sizeof(h));
	h.Lock = SP_StartIoLock;
	release(&h);
}

static void release_out_of_order(void)
{
	sp_lock_handle d, s;

	vh_set_irql(PASSIVE_LEVEL);
	acquire(SP_DpcLock, &dpc_a, &d);
	acquire(SP_StartIoLock, NULL, &s);
	release(&d); /* back to PASSIVE_LEVEL with the StartIo lock held */
}

static void test_lock_order(void **state)
{
	char out[4096];
	int st;

	(void)state;
	st = in_child(good_order, out, sizeof(out));
	if (st)
		fail_msg("documented order DpcLock > StartIo > Interrupt refused (%d):\n%s", st, out);
	expect_fatal(dpc_under_startio, "DpcLock acquired while StartIo lock is held", NULL);
	expect_fatal(dpc_under_interrupt, "DpcLock acquired while interrupt lock", NULL);
	expect_fatal(dpc_in_startio_callback, "DpcLock acquired while StartIo lock is held", NULL);
	expect_fatal(startio_under_interrupt, "StartIo lock acquired while interrupt lock", NULL);
	expect_fatal(startio_in_message_callback, "StartIo lock acquired while interrupt lock of MSI-X message 2",
		     NULL);
	expect_fatal(interrupt_in_message_callback, "interrupt lock (InterruptLock) acquired",
		     "already holds interrupt lock of MSI-X message 2");
	expect_fatal(startio_twice, "StartIo lock acquired while this thread already holds StartIo lock",
		     NULL);
	expect_fatal(interrupt_twice, "already holds interrupt lock", NULL);
	expect_fatal(dpc_lock_twice, "DpcLock acquired while this thread already holds DpcLock", NULL);
	expect_fatal(release_not_held, "StartIo lock released but this thread does not hold it", NULL);
	expect_fatal(release_out_of_order, "DpcLock released out of order while StartIo lock is still held",
		     NULL);
}

/* ------------------------------------------------------------ a fake miniport */

/* HwStartIo behaviours for the busy tests. */
static enum { FM_HOLD_AND_BUSY, FM_BUSY_ONCE, FM_BUSY_AND_LEAVE } fm_mode;
static int fm_startio_calls;
/* FM_HOLD_AND_BUSY: RequestsToComplete, and adapter (StorPortBusy) or LUN. */
static uint32_t fm_busy_count = 1;
static bool fm_adapter;
static void *fm_held;

static void fm_complete(void *srb, uint8_t status)
{
	((sp_srb *)srb)->SrbStatus = status;
	NOTIFY(SP_RequestComplete, NULL, srb);
}

static uint8_t NTAPI fm_init(void *ext)
{
	(void)ext;
	return 1;
}

static uint32_t NTAPI fm_find(void *ext, void *ctx, void *bus, char *args, void *cfg, uint8_t *again)
{
	(void)ext; (void)ctx; (void)bus; (void)args; (void)cfg; (void)again;
	return SP_RETURN_NOT_FOUND;
}

static uint8_t NTAPI fm_startio(void *ext, void *srb)
{
	dev_busy_fn *busy = (dev_busy_fn *)sym("StorPortDeviceBusy");
	int call = __atomic_add_fetch(&fm_startio_calls, 1, __ATOMIC_SEQ_CST);

	switch (fm_mode) {
	case FM_HOLD_AND_BUSY:
		/* The first request fills the device: keep it, hold the LUN
		 * back until it completes. */
		if (call == 1) {
			if (fm_adapter)
				((busy_fn *)sym("StorPortBusy"))(ext, fm_busy_count);
			else
				busy(ext, 0, 0, 0, fm_busy_count);
			__atomic_store_n(&fm_held, srb, __ATOMIC_SEQ_CST);
		} else {
			fm_complete(srb, SRB_STATUS_SUCCESS);
		}
		break;
	case FM_BUSY_ONCE:
		fm_complete(srb, call == 1 ? SRB_STATUS_BUSY : SRB_STATUS_SUCCESS);
		break;
	case FM_BUSY_AND_LEAVE:
		/* The bug: busy until one more completion, with nothing left to complete. */
		busy(ext, 0, 0, 0, 1);
		fm_complete(srb, SRB_STATUS_BUSY);
		break;
	}
	return 1;
}

static void fm_register_with(uint32_t srb_types, uint32_t addr_types, sp_hw_startio *startio)
{
	sp_hw_init_data hw;
	static nt_driver_object drv;

	memset(&hw, 0, sizeof(hw));
	hw.HwInitializationDataSize = sizeof(hw);
	hw.AdapterInterfaceType = PCI_BUS_INTERFACE;
	hw.HwInitialize = fm_init;
	hw.HwStartIo = startio;
	hw.HwInterrupt = fm_init;
	hw.HwFindAdapter = fm_find;
	hw.SrbExtensionSize = 64;
	hw.SrbTypeFlags = srb_types;
	hw.AddressTypeFlags = addr_types;
	if (((init_fn *)sym("StorPortInitialize"))(&drv, NULL, &hw, NULL) != STATUS_SUCCESS)
		_exit(10);
	if (dma_pool_init(false, 1u << 20))
		_exit(11);
	vh_sched_start();
	vh_set_irql(PASSIVE_LEVEL);
}

static void fm_register(uint32_t srb_types, uint32_t addr_types)
{
	fm_register_with(srb_types, addr_types, fm_startio);
}

static sp_srb *fm_srb(void)
{
	sp_srb *srb = sp_alloc_srb();
	void *ext;

	if (!srb)
		_exit(12);
	ext = srb->SrbExtension;
	memset(srb, 0, sizeof(*srb));
	srb->SrbExtension = ext;
	srb->Function = SRB_FUNCTION_EXECUTE_SCSI;
	srb->CdbLength = 6; /* TEST UNIT READY */
	return srb;
}

static void busy_holds_back(void)
{
	struct sp_busy_stats b;
	sp_srb *one, *two;

	fm_register(1, 0);
	fm_mode = FM_HOLD_AND_BUSY;
	one = fm_srb();
	two = fm_srb();
	sp_submit(one);
	sp_submit(two);
	usleep(20000);
	/* The LUN is busy: the second request waits in the port. */
	if (fm_startio_calls != 1) {
		printf("second request reached HwStartIo while the LUN was busy\n");
		_exit(20);
	}
	/* The device completes the first: one completion ends the busy state. */
	fm_complete(__atomic_load_n(&fm_held, __ATOMIC_SEQ_CST), SRB_STATUS_SUCCESS);
	if (sp_wait(one, 5000) != SRB_STATUS_SUCCESS || sp_wait(two, 5000) != SRB_STATUS_SUCCESS)
		_exit(21);
	sp_busy_stats(&b);
	if (fm_startio_calls != 2 || b.device_busy + b.adapter_busy != 1 || b.held != 1) {
		printf("startio %d, DeviceBusy %lu, Busy %lu, held %lu\n", fm_startio_calls,
		       b.device_busy, b.adapter_busy, b.held);
		_exit(22);
	}
	/* Only LUN 0:0:0 exists. */
	if (((dev_busy_fn *)sym("StorPortDeviceBusy"))(NULL, 0, 1, 0, 1) ||
	    !((dev_ready_fn *)sym("StorPortDeviceReady"))(NULL, 0, 0, 0))
		_exit(23);
}

/* RequestsToComplete beyond what is outstanding: all of it completing
 * is enough (StorPortDeviceBusy's documented rule). */
static void busy_count_clipped(void)
{
	fm_busy_count = 5;
	busy_holds_back();
}

static void adapter_busy_holds_back(void)
{
	fm_adapter = true;
	busy_holds_back();
}

static void busy_status_resubmitted(void)
{
	struct sp_busy_stats b;
	sp_srb *srb;

	fm_register(1, 0);
	fm_mode = FM_BUSY_ONCE;
	srb = fm_srb();
	sp_submit(srb);
	/* The issuer never sees SRB_STATUS_BUSY: the port sends it again. */
	if (sp_wait(srb, 5000) != SRB_STATUS_SUCCESS)
		_exit(30);
	sp_busy_stats(&b);
	if (fm_startio_calls != 2 || b.busy_completions != 1 || b.resubmissions != 1) {
		printf("startio %d, busy completions %lu, resubmissions %lu\n", fm_startio_calls,
		       b.busy_completions, b.resubmissions);
		_exit(31);
	}
}

static void busy_left_with_nothing_outstanding(void)
{
	sp_srb *srb;

	fm_register(1, 0);
	fm_mode = FM_BUSY_AND_LEAVE;
	srb = fm_srb();
	sp_submit(srb);
	sp_wait(srb, 15000);
}

static void test_busy(void **state)
{
	char out[4096];
	int st;

	(void)state;
	st = in_child(busy_holds_back, out, sizeof(out));
	if (st)
		fail_msg("StorPortDeviceBusy hold-back: status %d:\n%s", st, out);
	st = in_child(busy_count_clipped, out, sizeof(out));
	if (st)
		fail_msg("StorPortDeviceBusy(5) with one request outstanding: status %d:\n%s", st, out);
	st = in_child(adapter_busy_holds_back, out, sizeof(out));
	if (st)
		fail_msg("StorPortBusy hold-back: status %d:\n%s", st, out);
	st = in_child(busy_status_resubmitted, out, sizeof(out));
	if (st)
		fail_msg("SRB_STATUS_BUSY resubmission: status %d:\n%s", st, out);
	expect_fatal(busy_left_with_nothing_outstanding, "LUN 0:0:0 busy",
		     "no request outstanding in the miniport");
}

/* ------------------------------------------------------------ SRB_EX gate */

static void srbex_undeclared(void)
{
	fm_register(1 /* SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK only */, ADDRESS_TYPE_FLAG_BTL8);
	_exit(sp_use_srb_ex(true) == -1 && !sp_srb_ex_active() ? 0 : 40);
}

static void srbex_no_btl8(void)
{
	fm_register(1 | SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, 0);
	_exit(sp_use_srb_ex(true) == -1 ? 0 : 41);
}

/* A declared miniport gets a well-formed SRB_EX: header, BTL8, CDB16. */
static uint8_t NTAPI ex_startio(void *ext, void *p)
{
	sp_srbex_block *b = p;

	(void)ext;
	if (b->h.Function != SRB_FUNCTION_STORAGE_REQUEST_BLOCK || b->h.Signature != SRB_SIGNATURE ||
	    b->h.Version != 1 || b->h.SrbFunction != SRB_FUNCTION_EXECUTE_SCSI ||
	    b->h.AddressOffset != 0x80 || b->addr.Type != STOR_ADDRESS_TYPE_BTL8 ||
	    b->addr.AddressLength != 4 || b->h.NumSrbExData != 1 || b->h.SrbExDataOffset[0] != 0x90 ||
	    b->cdb.Type != SRBEX_DATA_TYPE_SCSI_CDB16 || b->cdb.Length != 32 ||
	    b->h.SrbLength != 0x90 + 0x28 || b->cdb.CdbLength != 6 || !b->h.MiniportContext)
		_exit(50);
	b->cdb.ScsiStatus = 2;
	b->cdb.SenseInfoBufferLength = 14;
	fm_complete(p, SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID);
	return 1;
}

static void srbex_layout(void)
{
	sp_srb *srb;

	fm_register_with(1 | SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, ADDRESS_TYPE_FLAG_BTL8, ex_startio);
	if (sp_use_srb_ex(true))
		_exit(51);
	srb = fm_srb();
	srb->SenseInfoBufferLength = 18;
	/* Completion status comes from the SRB_EX fields. */
	if (sp_execute(srb, 5000) != (SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID) ||
	    srb->ScsiStatus != 2 || srb->SenseInfoBufferLength != 14)
		_exit(52);
}

static void test_srbex(void **state)
{
	char out[4096];
	int st;

	(void)state;
	st = in_child(srbex_undeclared, out, sizeof(out));
	if (st)
		fail_msg("SRB_EX sent to a miniport that did not declare it (%d):\n%s", st, out);
	st = in_child(srbex_no_btl8, out, sizeof(out));
	if (st)
		fail_msg("SRB_EX without ADDRESS_TYPE_FLAG_BTL8 accepted (%d):\n%s", st, out);
	st = in_child(srbex_layout, out, sizeof(out));
	if (st)
		fail_msg("SRB_EX layout or completion copy-back wrong (%d):\n%s", st, out);
}

/* ------------------------------------------------------------ a real driver */

/* splock.sys (tests/vmhost/sys/splock.c) run by vdphost on the build host:
 * the checks must catch a PE driver calling through the DDK wrappers. */
static void test_driver_lock_order(void **state)
{
	static const struct {
		const char *service, *expect;
	} v[] = {
		{ "dpcunderstartio", "DpcLock acquired while StartIo lock is held" },
		{ "dpcunderint", "DpcLock acquired while interrupt lock" },
		{ "startiounderint", "StartIo lock acquired while interrupt lock" },
		{ "startiotwice", "StartIo lock acquired while this thread already holds StartIo lock" },
		{ "inttwice", "already holds interrupt lock" },
		{ "unheld", "StartIo lock released but this thread does not hold it" },
		{ "outoforder", "DpcLock released out of order while StartIo lock is still held" },
	};
	const char *bin = getenv("VDP_VDPHOST"), *dir = getenv("VDP_VMHOST_SYS");
	char cmd[1024], out[8192];

	(void)state;
	for (size_t i = 0; i <= sizeof(v) / sizeof(v[0]); i++) {
		const char *svc = i < sizeof(v) / sizeof(v[0]) ? v[i].service : "good";
		size_t n;
		FILE *p;
		int st;

		snprintf(cmd, sizeof(cmd), "%s --service %s %s/splock.sys 2>&1",
			 bin ? bin : "out/host/bin/vdphost", svc, dir ? dir : "out/x64/vmhost");
		fflush(NULL);
		p = popen(cmd, "r");
		assert_non_null(p);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		st = pclose(p);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (i == sizeof(v) / sizeof(v[0])) {
			if (st || !strstr(out, "splock: documented order passed"))
				fail_msg("splock/good: status %d, output:\n%s", st, out);
		} else if (st != 71 || !strstr(out, v[i].expect) || strstr(out, "not caught")) {
			fail_msg("splock/%s: status %d (want 71 naming \"%s\"), output:\n%s", svc, st,
				 v[i].expect, out);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_order),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_srbex),
		cmocka_unit_test(test_driver_lock_order),
	};

	vh_add_exports(sp_exports);
	return cmocka_run_group_tests_name("vmhost-storport", tests, NULL, NULL);
}
