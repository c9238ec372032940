/* Imports kernel functions the test host does not provide, so the loader
 * must list every one of them and refuse to run the driver. */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
	UNICODE_STRING a, b;

	/* Never taken at run time; only the imports matter. */
	if (reg == NULL) {
		RtlInitUnicodeString(&a, L"x");
		RtlInitUnicodeString(&b, L"y");
		IoCreateSymbolicLink(&a, &b);
		IoDeleteSymbolicLink(&a);
		ObReferenceObjectByHandle(NULL, 0, NULL, KernelMode, NULL, NULL);
	}
	(void)drv;
	DbgPrint("unresolved: must never run\n");
	return STATUS_SUCCESS;
}
