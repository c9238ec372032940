/* Smallest useful driver for the test host: exercises DbgPrint formats,
 * pool, IRQL (inline CR8), spin locks, inline KeQuerySystemTime, a DPC, a
 * timer and relocated data. Returns STATUS_SUCCESS only if every self
 * check passes, so the host sees failures as a bad status. */
#include <ntddk.h>

#define HELLO_TAG 'lleH'

/* Writable table of pointers: absolute addresses that need DIR64 fixups. */
static const char *hello_words[] = { "reloc-A", "reloc-B" };
static volatile int hello_index = 1;
static KDPC hello_dpc, hello_timer_dpc;
static KTIMER hello_timer;
static volatile LONG hello_dpc_runs, hello_timer_runs;
static KSPIN_LOCK hello_lock;
static KEVENT hello_event;
static volatile LONG hello_work_irql = -1;

DRIVER_INITIALIZE DriverEntry;

static VOID NTAPI hello_dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	(void)dpc;
	(void)a2;
	if (ctx == &hello_dpc_runs && a1 == (PVOID)0x1234 && KeGetCurrentIrql() == DISPATCH_LEVEL)
		InterlockedIncrement(&hello_dpc_runs);
}

static VOID NTAPI hello_timer_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	InterlockedIncrement(&hello_timer_runs);
}

static VOID NTAPI hello_work(PDEVICE_OBJECT dev, PVOID ctx)
{
	(void)dev;
	hello_work_irql = KeGetCurrentIrql();
	KeSetEvent((PKEVENT)ctx, IO_NO_INCREMENT, FALSE);
}

static VOID NTAPI hello_unload(PDRIVER_OBJECT drv)
{
	(void)drv;
	DbgPrint("hello: unload\n");
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
	LARGE_INTEGER now, delay;
	KIRQL old;
	PUCHAR p;
	int bad = 0;

	DbgPrint("hello: DriverEntry(%p, \"%wZ\")\n", drv, reg);
	DbgPrint("hello: fmt %d %u %x %X %I64d %lld %c %s %ws|%5d|%-4s|%08x\n", -42, 42u, 0xbeefu,
		 0xbeefu, -1234567890123LL, 9876543210LL, 'Z', hello_words[hello_index], L"wide", 7, "ab",
		 0x1234u);

	if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		bad |= 1;
	p = ExAllocatePoolWithTag(NonPagedPool, 100, HELLO_TAG);
	if (!p)
		return STATUS_INSUFFICIENT_RESOURCES;
	RtlFillMemory(p, 100, 0x5a);
	if (p[99] != 0x5a)
		bad |= 2;
	ExFreePoolWithTag(p, HELLO_TAG);

	KeInitializeSpinLock(&hello_lock);
	KeAcquireSpinLock(&hello_lock, &old);
	if (KeGetCurrentIrql() != DISPATCH_LEVEL || old != PASSIVE_LEVEL)
		bad |= 4;
	KeReleaseSpinLock(&hello_lock, old);
	if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		bad |= 8;

	KeQuerySystemTime(&now);
	/* After 2020-01-01 in 100 ns units since 1601. */
	if (now.QuadPart < 132223104000000000LL)
		bad |= 16;

	KeInitializeDpc(&hello_dpc, hello_dpc_routine, (PVOID)&hello_dpc_runs);
	if (!KeInsertQueueDpc(&hello_dpc, (PVOID)0x1234, NULL))
		bad |= 32;
	KeInitializeDpc(&hello_timer_dpc, hello_timer_routine, NULL);
	KeInitializeTimer(&hello_timer);
	delay.QuadPart = -10 * 1000 * 5; /* 5 ms, relative */
	KeSetTimer(&hello_timer, delay, &hello_timer_dpc);
	for (int i = 0; i < 200 && (hello_dpc_runs == 0 || hello_timer_runs == 0); i++) {
		delay.QuadPart = -10 * 1000; /* 1 ms */
		KeDelayExecutionThread(KernelMode, FALSE, &delay);
	}
	if (hello_dpc_runs != 1)
		bad |= 64;
	if (hello_timer_runs != 1 || !KeReadStateTimer(&hello_timer))
		bad |= 128;
	KeStallExecutionProcessor(10);

	/* Work item signals an event; the wait must see it (5 s at most). */
	{
		/* The host does not look at the device object; a real driver
		 * would pass the one it created. */
		PIO_WORKITEM wi = IoAllocateWorkItem((PDEVICE_OBJECT)drv);
		LARGE_INTEGER tmo;

		KeInitializeEvent(&hello_event, SynchronizationEvent, FALSE);
		tmo.QuadPart = -10 * 1000 * 1000 * 5LL;
		if (!wi)
			return STATUS_INSUFFICIENT_RESOURCES;
		IoQueueWorkItem(wi, hello_work, DelayedWorkQueue, &hello_event);
		if (KeWaitForSingleObject(&hello_event, Executive, KernelMode, FALSE, &tmo) != STATUS_SUCCESS ||
		    hello_work_irql != PASSIVE_LEVEL || KeReadStateEvent(&hello_event) != 0)
			bad |= 256;
		IoFreeWorkItem(wi);
		tmo.QuadPart = -10 * 1000; /* nobody sets it again: must time out */
		if (KeWaitForSingleObject(&hello_event, Executive, KernelMode, FALSE, &tmo) != STATUS_TIMEOUT)
			bad |= 512;
	}
	{
		static LIST_ENTRY head;
		static LIST_ENTRY a, b;
		static KSPIN_LOCK l;

		KeInitializeSpinLock(&l);
		InitializeListHead(&head);
		if (ExInterlockedInsertTailList(&head, &a, &l) != NULL ||
		    ExInterlockedInsertTailList(&head, &b, &l) != &a ||
		    ExInterlockedRemoveHeadList(&head, &l) != &a ||
		    ExInterlockedRemoveHeadList(&head, &l) != &b ||
		    ExInterlockedRemoveHeadList(&head, &l) != NULL)
			bad |= 1024;
	}

	drv->DriverUnload = hello_unload;
	DbgPrint("hello: self-check %s (0x%x) %s\n", bad ? "FAILED" : "passed", bad, hello_words[hello_index - 1]);
	return bad ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS;
}
