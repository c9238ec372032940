/*
 * Link probe for include/ddk/ndis.h, not part of any driver: takes the address of every
 * NDIS.SYS export the header declares, so that linking it against mingw's libndis.a proves each
 * prototype resolves (on x86 this checks the stdcall @N decoration of every declaration).
 * Built and linked by the ndis-abi check in src/net/net.mk.
 */
#include <ntddk.h>

#define NDIS_MINIPORT_DRIVER 1
#define NDIS630_MINIPORT 1
#include <ndis.h>

DRIVER_INITIALIZE DriverEntry;

static void *const ndis_exports[] = {
	(void *)NdisAcquireSpinLock,
	(void *)NdisAdvanceNetBufferDataStart,
	(void *)NdisAllocateIoWorkItem,
	(void *)NdisAllocateMdl,
	(void *)NdisAllocateMemoryWithTagPriority,
	(void *)NdisAllocateNetBuffer,
	(void *)NdisAllocateNetBufferAndNetBufferList,
	(void *)NdisAllocateNetBufferList,
	(void *)NdisAllocateNetBufferListPool,
	(void *)NdisAllocateNetBufferPool,
	(void *)NdisAllocateSpinLock,
	(void *)NdisAllocateTimerObject,
	(void *)NdisCancelTimerObject,
	(void *)NdisCloseConfiguration,
	(void *)NdisDprAcquireSpinLock,
	(void *)NdisDprReleaseSpinLock,
	(void *)NdisFreeIoWorkItem,
	(void *)NdisFreeMdl,
	(void *)NdisFreeMemory,
	(void *)NdisFreeMemoryWithTagPriority,
	(void *)NdisFreeNetBuffer,
	(void *)NdisFreeNetBufferList,
	(void *)NdisFreeNetBufferListPool,
	(void *)NdisFreeNetBufferPool,
	(void *)NdisFreeSpinLock,
	(void *)NdisFreeTimerObject,
	(void *)NdisGetDataBuffer,
	(void *)NdisGetProcessorInformationEx,
	(void *)NdisGetRssProcessorInformation,
	(void *)NdisGetSharedDataAlignment,
	(void *)NdisGetSystemUpTimeEx,
	(void *)NdisMAllocateNetBufferSGList,
	(void *)NdisMAllocateSharedMemory,
	(void *)NdisMConfigMSIXTableEntry,
	(void *)NdisMDeregisterInterruptEx,
	(void *)NdisMDeregisterIoPortRange,
	(void *)NdisMDeregisterMiniportDriver,
	(void *)NdisMDeregisterScatterGatherDma,
	(void *)NdisMFreeNetBufferSGList,
	(void *)NdisMFreeSharedMemory,
	(void *)NdisMGetBusData,
	(void *)NdisMGetDeviceProperty,
	(void *)NdisMIndicateReceiveNetBufferLists,
	(void *)NdisMIndicateStatusEx,
	(void *)NdisMMapIoSpace,
	(void *)NdisMOidRequestComplete,
	(void *)NdisMPauseComplete,
	(void *)NdisMQueueDpcEx,
	(void *)NdisMRegisterInterruptEx,
	(void *)NdisMRegisterIoPortRange,
	(void *)NdisMRegisterMiniportDriver,
	(void *)NdisMRegisterScatterGatherDma,
	(void *)NdisMResetComplete,
	(void *)NdisMRestartComplete,
	(void *)NdisMSendNetBufferListsComplete,
	(void *)NdisMSetBusData,
	(void *)NdisMSetMiniportAttributes,
	(void *)NdisMSleep,
	(void *)NdisMSynchronizeWithInterruptEx,
	(void *)NdisMUnmapIoSpace,
	(void *)NdisOpenConfigurationEx,
	(void *)NdisQueryNetBufferPhysicalCount,
	(void *)NdisQueueIoWorkItem,
	(void *)NdisReadConfiguration,
	(void *)NdisReadNetworkAddress,
	(void *)NdisReleaseSpinLock,
	(void *)NdisRetreatNetBufferDataStart,
	(void *)NdisSetTimerObject,
};

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(driver_object);
	UNREFERENCED_PARAMETER(registry_path);
	/* Reading the table keeps every reference alive through optimisation. */
	return ndis_exports[0] ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
