/* A StorPort caller that breaks the documented lock order on purpose, to
 * prove the emulation's checks bite a real x64 driver going through the
 * DDK's inline StorPortAcquireSpinLock/StorPortReleaseSpinLock. No adapter
 * exists, so the device extension is NULL, as the emulation allows before
 * HwFindAdapter. The case is the service name (last part of the registry
 * path): good (DpcLock, StartIo, Interrupt, released in reverse),
 * dpcunderstartio, dpcunderint, startiounderint, startiotwice, inttwice,
 * unheld (release of a lock never taken), outoforder (DpcLock released
 * before the StartIo lock taken after it). */
#include <storport.h>

DRIVER_INITIALIZE DriverEntry;

static STOR_DPC splock_dpc;

static BOOLEAN splock_is(PUNICODE_STRING reg, PCWSTR name)
{
	USHORT n = 0, len = reg ? reg->Length / sizeof(WCHAR) : 0;

	while (name[n])
		n++;
	if (len < n + 1 || reg->Buffer[len - n - 1] != L'\\')
		return FALSE;
	for (USHORT i = 0; i < n; i++)
		if (reg->Buffer[len - n + i] != name[i])
			return FALSE;
	return TRUE;
}

static VOID NTAPI splock_dpc_routine(PSTOR_DPC dpc, PVOID ext, PVOID a1, PVOID a2)
{
	(void)dpc;
	(void)ext;
	(void)a1;
	(void)a2;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
	STOR_LOCK_HANDLE d, s, i;

	(void)drv;
	StorPortInitializeDpc(NULL, &splock_dpc, splock_dpc_routine);
	if (splock_is(reg, L"good")) {
		StorPortAcquireSpinLock(NULL, DpcLock, &splock_dpc, &d);
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &s);
		StorPortAcquireSpinLock(NULL, InterruptLock, NULL, &i);
		StorPortReleaseSpinLock(NULL, &i);
		StorPortReleaseSpinLock(NULL, &s);
		StorPortReleaseSpinLock(NULL, &d);
		StorPortDebugPrint(0, "splock: documented order passed\n");
		return STATUS_SUCCESS;
	}
	if (splock_is(reg, L"dpcunderstartio")) {
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &s);
		StorPortAcquireSpinLock(NULL, DpcLock, &splock_dpc, &d);
	}
	if (splock_is(reg, L"dpcunderint")) {
		StorPortAcquireSpinLock(NULL, InterruptLock, NULL, &i);
		StorPortAcquireSpinLock(NULL, DpcLock, &splock_dpc, &d);
	}
	if (splock_is(reg, L"startiounderint")) {
		StorPortAcquireSpinLock(NULL, InterruptLock, NULL, &i);
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &s);
	}
	if (splock_is(reg, L"startiotwice")) {
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &s);
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &i);
	}
	if (splock_is(reg, L"inttwice")) {
		StorPortAcquireSpinLock(NULL, InterruptLock, NULL, &i);
		StorPortAcquireSpinLock(NULL, InterruptLock, NULL, &s);
	}
	if (splock_is(reg, L"unheld")) {
		RtlZeroMemory(&s, sizeof(s));
		s.Lock = StartIoLock;
		StorPortReleaseSpinLock(NULL, &s);
	}
	if (splock_is(reg, L"outoforder")) {
		StorPortAcquireSpinLock(NULL, DpcLock, &splock_dpc, &d);
		StorPortAcquireSpinLock(NULL, StartIoLock, NULL, &s);
		StorPortReleaseSpinLock(NULL, &d);
	}
	/* Reached only when the emulation missed the violation. */
	StorPortDebugPrint(0, "splock: lock order violation not caught\n");
	return STATUS_UNSUCCESSFUL;
}
