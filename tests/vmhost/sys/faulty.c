/* A driver that misbehaves on purpose, to prove the test host catches it.
 * The fault is chosen by the service name (last part of the registry
 * path): crash, leak, dblfree, irql, bugcheck, badlock, fail, bigstack
 * (over the 24 KiB kernel stack), overflow (runs off the stack). */
#include <ntddk.h>

#define FAULTY_TAG 'tlaF'

DRIVER_INITIALIZE DriverEntry;

/* Hidden from the optimiser so the bad store really happens. */
static volatile ULONG *volatile faulty_wild = (volatile ULONG *)(ULONG_PTR)0x10;

static BOOLEAN faulty_is(PCUNICODE_STRING reg, PCWSTR name)
{
	USHORT n = 0, len = reg->Length / sizeof(WCHAR);

	while (name[n])
		n++;
	if (len < n + 1 || reg->Buffer[len - n - 1] != L'\\')
		return FALSE;
	for (USHORT i = 0; i < n; i++)
		if (reg->Buffer[len - n + i] != name[i])
			return FALSE;
	return TRUE;
}

/* About 1 KiB of stack per level; the volatile buffer keeps every frame. */
static ULONG __attribute__((noinline)) faulty_deep(ULONG n)
{
	volatile UCHAR buf[1000];

	buf[n % sizeof(buf)] = (UCHAR)n;
	return n ? faulty_deep(n - 1) + buf[n % sizeof(buf)] : 0;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
	static KSPIN_LOCK lock;
	KIRQL old;
	PVOID p;

	(void)drv;
	DbgPrint("faulty: %wZ\n", reg);
	if (faulty_is(reg, L"crash"))
		*faulty_wild = 1;
	if (faulty_is(reg, L"leak"))
		return ExAllocatePoolWithTag(NonPagedPool, 24, FAULTY_TAG) ? STATUS_SUCCESS
									 : STATUS_UNSUCCESSFUL;
	if (faulty_is(reg, L"dblfree")) {
		p = ExAllocatePoolWithTag(NonPagedPool, 24, FAULTY_TAG);
		ExFreePoolWithTag(p, FAULTY_TAG);
		ExFreePoolWithTag(p, FAULTY_TAG);
	}
	if (faulty_is(reg, L"irql")) {
		KeRaiseIrql(DISPATCH_LEVEL, &old);
		return STATUS_SUCCESS;
	}
	if (faulty_is(reg, L"bugcheck"))
		KeBugCheckEx(0xdead, 1, 2, 3, 4);
	if (faulty_is(reg, L"badlock")) {
		KeInitializeSpinLock(&lock);
		KeReleaseSpinLock(&lock, PASSIVE_LEVEL);
	}
	if (faulty_is(reg, L"bigstack") && faulty_deep(40) == 0)
		return STATUS_UNSUCCESSFUL;
	if (faulty_is(reg, L"overflow") && faulty_deep(100000) == 0)
		return STATUS_UNSUCCESSFUL;
	if (faulty_is(reg, L"fail"))
		return STATUS_NOT_SUPPORTED;
	return STATUS_SUCCESS;
}
