/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Build check, never shipped: calls every routine <storport.h> declares and
 * every inline wrapper, so that linking it against libstorport.a proves the
 * .def files and the header agree (names, x86 @N decorations, cdecl
 * varargs). The x86 .def was generated from `i686-w64-mingw32-nm -u` of
 * this object.
 */
#include <ntddk.h>
#include <storport.h>

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path);

static HW_DPC_ROUTINE check_dpc;
static HW_PASSIVE_INITIALIZE_ROUTINE check_passive;
static HW_WORKITEM check_work;
static HW_TIMER_EX check_timer;

static VOID NTAPI check_dpc(PSTOR_DPC dpc, PVOID ext, PVOID arg1, PVOID arg2)
{
	(void)dpc; (void)ext; (void)arg1; (void)arg2;
}

static BOOLEAN NTAPI check_passive(PVOID ext)
{
	(void)ext;
	return TRUE;
}

static VOID NTAPI check_work(PVOID ext, PVOID context, PVOID worker)
{
	(void)ext; (void)context; (void)worker;
}

static VOID NTAPI check_timer(PVOID ext, PVOID context)
{
	(void)ext; (void)context;
}

static void call_exports(PVOID e)
{
	STOR_PHYSICAL_ADDRESS pa = { .QuadPart = 0 };
	ULONG l = 0;
	LARGE_INTEGER t;

	StorPortFreeDeviceBase(e, e);
	StorPortGetBusData(e, 0, 0, 0, e, 0);
	StorPortSetBusDataByOffset(e, 0, 0, 0, e, 0, 0);
	StorPortGetDeviceBase(e, PCIBus, 0, pa, 0, FALSE);
	StorPortGetLogicalUnit(e, 0, 0, 0);
	StorPortGetScatterGatherList(e, NULL);
	StorPortGetPhysicalAddress(e, NULL, e, &l);
	StorPortGetVirtualAddress(e, pa);
	StorPortGetUncachedExtension(e, NULL, 0);
	StorPortPauseDevice(e, 0, 0, 0, 0);
	StorPortResumeDevice(e, 0, 0, 0);
	StorPortPause(e, 0);
	StorPortResume(e);
	StorPortDeviceBusy(e, 0, 0, 0, 0);
	StorPortDeviceReady(e, 0, 0, 0);
	StorPortBusy(e, 0);
	StorPortReady(e);
	StorPortSetDeviceQueueDepth(e, 0, 0, 0, 0);
	StorPortNotification(RequestComplete, e, NULL);
	StorPortLogError(e, NULL, 0, 0, 0, SP_INTERNAL_ADAPTER_ERROR, 0);
	StorPortCompleteRequest(e, 0, 0, 0, SRB_STATUS_BUS_RESET);
	StorPortStallExecution(1);
	StorPortSynchronizeAccess(e, NULL, NULL);
	StorPortReadPortUchar(e, e);
	StorPortReadPortUshort(e, e);
	StorPortReadPortUlong(e, e);
	StorPortReadPortBufferUchar(e, e, e, 0);
	StorPortReadPortBufferUshort(e, e, e, 0);
	StorPortReadPortBufferUlong(e, e, e, 0);
	StorPortReadRegisterUchar(e, e);
	StorPortReadRegisterUshort(e, e);
	StorPortReadRegisterUlong(e, e);
	StorPortReadRegisterBufferUchar(e, e, e, 0);
	StorPortReadRegisterBufferUshort(e, e, e, 0);
	StorPortReadRegisterBufferUlong(e, e, e, 0);
	StorPortWritePortUchar(e, e, 0);
	StorPortWritePortUshort(e, e, 0);
	StorPortWritePortUlong(e, e, 0);
	StorPortWritePortBufferUchar(e, e, e, 0);
	StorPortWritePortBufferUshort(e, e, e, 0);
	StorPortWritePortBufferUlong(e, e, e, 0);
	StorPortWriteRegisterUchar(e, e, 0);
	StorPortWriteRegisterUshort(e, e, 0);
	StorPortWriteRegisterUlong(e, e, 0);
	StorPortWriteRegisterBufferUchar(e, e, e, 0);
	StorPortWriteRegisterBufferUshort(e, e, e, 0);
	StorPortWriteRegisterBufferUlong(e, e, e, 0);
	StorPortMoveMemory(e, e, 0);
	pa = StorPortConvertUlongToPhysicalAddress(0);
	/* Parenthesised: reach the export, not the inline macro. */
	l = (StorPortConvertPhysicalAddressToUlong)(pa) + StorPortConvertPhysicalAddressToUlong(pa);
	StorPortQuerySystemTime(&t);
	StorPortFreeRegistryBuffer(e, StorPortAllocateRegistryBuffer(e, &l));
	StorPortRegistryRead(e, e, 0, MINIPORT_REG_DWORD, e, &l);
	StorPortRegistryWrite(e, e, 0, MINIPORT_REG_DWORD, e, 0);
	StorPortValidateRange(e, PCIBus, 0, pa, 0, FALSE);
	StorPortDebugPrint(0, "%u\n", 1u);
	StorPortExtendedFunction(ExtFunctionAllocatePool, e, 0, 0, NULL);
}

static void call_wrappers(PVOID e)
{
	STOR_DPC dpc;
	STOR_LOCK_HANDLE lock;
	MESSAGE_INTERRUPT_INFORMATION msi;
	PERF_CONFIGURATION_DATA perf;
	STARTIO_PERFORMANCE_PARAMETERS sio;
	STOR_ADDR_BTL8 addr;
	STOR_UNIT_ATTRIBUTES attrs = { 0 };
	PROCESSOR_NUMBER pn;
	GROUP_AFFINITY ga;
	KAFFINITY ka;
	PHYSICAL_ADDRESS lo = { .QuadPart = 0 }, hi = { .QuadPart = -1 };
	PVOID p = NULL, p2 = NULL, p3 = NULL;
	ULONG u = 0;
	USHORT us = 0;
	LARGE_INTEGER li;
	STOR_REQUEST_INFO ri;

	StorPortEnablePassiveInitialization(e, check_passive);
	StorPortInitializeDpc(e, &dpc, check_dpc);
	StorPortInitializeDpcWithContext(e, &dpc, check_dpc, NULL, StorMediumImportance);
	StorPortIssueDpc(e, &dpc, NULL, NULL);
	StorPortAcquireSpinLock(e, InterruptLock, NULL, &lock);
	StorPortReleaseSpinLock(e, &lock);
	StorPortAllocatePool(e, 16, 'kblv', &p);
	StorPortFreePool(e, p);
	StorPortAllocateMdl(e, p, 16, &p2);
	StorPortFreeMdl(e, p2);
	StorPortBuildMdlForNonPagedPool(e, p2);
	StorPortGetSystemAddress(e, NULL, &p);
	StorPortGetOriginalMdl(e, NULL, &p);
	StorPortCompleteServiceIrp(e, NULL);
	StorPortGetDeviceObjects(e, &p, &p2, &p3);
	StorPortBuildScatterGatherList(e, NULL, NULL, 0, NULL, NULL, FALSE, NULL, 0);
	StorPortPutScatterGatherList(e, NULL, FALSE);
	StorPortAcquireMSISpinLock(e, 0, &u);
	StorPortReleaseMSISpinLock(e, 0, u);
	StorPortGetMSIInfo(e, 0, &msi);
	StorPortInitializePerfOpts(e, TRUE, &perf);
	StorPortGetStartIoPerfParams(e, NULL, &sio);
	StorPortLogSystemEvent(e, NULL, &u);
	StorPortGetCurrentProcessorNumber(e, &pn);
	StorPortGetActiveGroupCount(e, &us);
	StorPortGetGroupAffinity(e, 0, &ka);
	StorPortGetActiveNodeCount(e, &u);
	StorPortGetNodeAffinity(e, 0, &ga);
	StorPortGetHighestNodeNumber(e, &u);
	StorPortGetLogicalProcessorRelationship(e, NULL, RelationProcessorCore, NULL, &u);
	StorPortAllocateContiguousMemorySpecifyCacheNode(e, 4096, lo, hi, lo, MmCached,
							 MM_ANY_NODE_OK, &p);
	StorPortFreeContiguousMemorySpecifyCache(e, p, 4096, MmCached);
	StorPortGetRequestInfo(e, NULL, &ri);
	StorPortInitializeWorker(e, &p);
	StorPortQueueWorkItem(e, check_work, p, NULL);
	StorPortFreeWorker(e, p);
	StorPortInitializeTimer(e, &p);
	StorPortRequestTimer(e, p, check_timer, NULL, 1000, 0);
	StorPortFreeTimer(e, p);
	StorPortGetSystemPortNumber(e, (PSTOR_ADDRESS)&addr);
	StorPortGetDataInBufferSystemAddress(e, NULL, &p);
	StorPortMarkDumpMemory(e, p, 0, 0);
	StorPortSetUnitAttributes(e, (PSTOR_ADDRESS)&addr, attrs);
	StorPortQueryPerformanceCounter(e, NULL, &li);
	StorPortGetProcessorIndexFromNumber(e, &pn, &u);
	StorPortRegistryReadAdapterKey(e, NULL, (PUCHAR)"x", MINIPORT_REG_DWORD, &p, &u);
	StorPortRegistryWriteAdapterKey(e, NULL, (PUCHAR)"x", MINIPORT_REG_DWORD, p, u);
	StorPortSetAdapterBusType(e, 0);
	StorPortGetCurrentProcessorIndex(e, &u);
	StorPortGetProcessorCount(e, &u);
}

static ULONG call_srb_accessors(PVOID srb)
{
	UCHAR path, target, lun;
	ULONG sum = 0;

	sum += SrbGetSrbFunction(srb) + SrbGetSrbStatus(srb) + SrbGetSrbFlags(srb);
	sum += SrbGetDataTransferLength(srb) + SrbGetCdbLength(srb) +
	       SrbGetSenseInfoBufferLength(srb);
	sum += SrbGetDataBuffer(srb) != NULL;
	sum += SrbGetMiniportContext(srb) != NULL;
	sum += SrbGetCdb(srb) != NULL;
	sum += SrbGetSenseInfoBuffer(srb) != NULL;
	if (SrbGetPathTargetLun(srb, &path, &target, &lun))
		sum += path + target + lun;
	SrbSetSrbStatus(srb, SRB_STATUS_SUCCESS);
	SrbSetScsiStatus(srb, SCSISTAT_GOOD);
	SrbSetDataTransferLength(srb, 0);
	return sum;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path)
{
	call_exports(driver_object);
	call_wrappers(registry_path);
	if (call_srb_accessors(registry_path) == 0x12345678)
		return STATUS_UNSUCCESSFUL;
	return (NTSTATUS)StorPortInitialize(driver_object, registry_path, NULL, NULL);
}
