/*
 * vdpnet: NDIS 6.30 miniport for virtio-net. This file registers the miniport; the handlers
 * live by concern in ndis_adapter.c (life cycle, interrupts), ndis_oid.c (OID requests),
 * ndis_tx.c / ndis_rx.c (data path) and ndis_virtio.c (virtio core OS services). Everything
 * that does not need Windows is in vnet_*.c and unit-tested on the host.
 */
#include "ndis_adapter.h"

DRIVER_INITIALIZE DriverEntry;

static NDIS_HANDLE vnet_driver_handle;

static NDIS_STATUS NTAPI vnet_set_options(NDIS_HANDLE driver_handle, NDIS_HANDLE driver_ctx)
{
	(void)driver_handle;
	(void)driver_ctx;
	return NDIS_STATUS_SUCCESS;
}

static VOID NTAPI vnet_unload(PDRIVER_OBJECT driver_object)
{
	(void)driver_object;
	if (vnet_driver_handle)
		NdisMDeregisterMiniportDriver(vnet_driver_handle);
	vnet_driver_handle = NULL;
}

static NDIS_STATUS NTAPI vnet_direct_oid_request(NDIS_HANDLE ctx, PNDIS_OID_REQUEST req)
{
	(void)ctx;
	(void)req;
	return NDIS_STATUS_NOT_SUPPORTED;
}

static VOID NTAPI vnet_cancel_direct_oid_request(NDIS_HANDLE ctx, PVOID id)
{
	(void)ctx;
	(void)id;
}

static NDIS_STATUS register_driver(PDRIVER_OBJECT drv, PUNICODE_STRING path)
{
	NDIS_MINIPORT_DRIVER_CHARACTERISTICS ch;
	NDIS_STATUS st;

	NdisZeroMemory(&ch, sizeof(ch));
	ch.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS;
	ch.Header.Revision = NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2;
	ch.Header.Size = NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2;
	ch.MajorNdisVersion = NDIS_MINIPORT_MAJOR_VERSION;
	ch.MinorNdisVersion = NDIS_MINIPORT_MINOR_VERSION;
	ch.MajorDriverVersion = VNET_DRIVER_MAJOR;
	ch.MinorDriverVersion = VNET_DRIVER_MINOR;
	ch.SetOptionsHandler = vnet_set_options;
	ch.InitializeHandlerEx = vnet_initialize;
	ch.HaltHandlerEx = vnet_halt;
	ch.UnloadHandler = vnet_unload;
	ch.PauseHandler = vnet_pause;
	ch.RestartHandler = vnet_restart;
	ch.OidRequestHandler = vnet_oid_request;
	ch.SendNetBufferListsHandler = vnet_send_nbls;
	ch.ReturnNetBufferListsHandler = vnet_return_nbls;
	ch.CancelSendHandler = vnet_cancel_send;
	ch.CheckForHangHandlerEx = vnet_check_for_hang;
	ch.ResetHandlerEx = vnet_reset;
	ch.DevicePnPEventNotifyHandler = vnet_device_pnp_event;
	ch.ShutdownHandlerEx = vnet_shutdown;
	ch.CancelOidRequestHandler = vnet_cancel_oid_request;
	ch.DirectOidRequestHandler = vnet_direct_oid_request;
	ch.CancelDirectOidRequestHandler = vnet_cancel_direct_oid_request;
	st = NdisMRegisterMiniportDriver(drv, path, NULL, &ch, &vnet_driver_handle);
	if (st != NDIS_STATUS_SUCCESS)
		vnet_driver_handle = NULL;
	return st;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path)
{
	NDIS_STATUS st;

	vnet_oid_init();
	st = register_driver(driver_object, registry_path);
	return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : (NTSTATUS)st;
}
