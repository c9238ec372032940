/*
 * vdpnet: NDIS 6.30 miniport glue for virtio-net.
 *
 * Skeleton stage: DriverEntry registers every handler so that the driver image is complete and
 * NDIS accepts the registration; the adapter itself is not brought up yet, so Initialize fails
 * cleanly and NDIS never calls the data-path handlers. The device logic that does not need
 * Windows lives in vnet_*.c and is unit-tested on the host.
 */
#include <ntddk.h>

#define NDIS_MINIPORT_DRIVER 1
#define NDIS630_MINIPORT 1
#include <ndis.h>

#define VNET_DRIVER_MAJOR 0
#define VNET_DRIVER_MINOR 1

DRIVER_INITIALIZE DriverEntry;

static NDIS_HANDLE vnet_driver_handle;

static MINIPORT_SET_OPTIONS vnet_set_options;
static MINIPORT_INITIALIZE vnet_initialize;
static MINIPORT_HALT vnet_halt;
static MINIPORT_UNLOAD vnet_unload;
static MINIPORT_PAUSE vnet_pause;
static MINIPORT_RESTART vnet_restart;
static MINIPORT_OID_REQUEST vnet_oid_request;
static MINIPORT_SEND_NET_BUFFER_LISTS vnet_send_nbls;
static MINIPORT_RETURN_NET_BUFFER_LISTS vnet_return_nbls;
static MINIPORT_CANCEL_SEND vnet_cancel_send;
static MINIPORT_CHECK_FOR_HANG vnet_check_for_hang;
static MINIPORT_RESET vnet_reset;
static MINIPORT_DEVICE_PNP_EVENT_NOTIFY vnet_device_pnp_event;
static MINIPORT_SHUTDOWN vnet_shutdown;
static MINIPORT_CANCEL_OID_REQUEST vnet_cancel_oid_request;
static MINIPORT_DIRECT_OID_REQUEST vnet_direct_oid_request;
static MINIPORT_CANCEL_DIRECT_OID_REQUEST vnet_cancel_direct_oid_request;

static NDIS_STATUS NTAPI vnet_set_options(NDIS_HANDLE driver_handle, NDIS_HANDLE driver_context)
{
    UNREFERENCED_PARAMETER(driver_handle);
    UNREFERENCED_PARAMETER(driver_context);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS NTAPI vnet_initialize(NDIS_HANDLE miniport_handle, NDIS_HANDLE driver_context,
                                         PNDIS_MINIPORT_INIT_PARAMETERS params)
{
    UNREFERENCED_PARAMETER(miniport_handle);
    UNREFERENCED_PARAMETER(driver_context);
    UNREFERENCED_PARAMETER(params);
    /* TODO(issue 6): map BARs through the virtio core, negotiate features, set registration and
     * general attributes, register S/G DMA and interrupts, post receive buffers. Until then NDIS
     * must not bind anything to this adapter, so refuse it. */
    return NDIS_STATUS_FAILURE;
}

static VOID NTAPI vnet_halt(NDIS_HANDLE adapter_context, NDIS_HALT_ACTION action)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(action);
    /* TODO(issue 6): reset the device and release queues, interrupts and DMA. Unreachable while
     * Initialize fails. */
}

static VOID NTAPI vnet_unload(PDRIVER_OBJECT driver_object)
{
    UNREFERENCED_PARAMETER(driver_object);
    if (vnet_driver_handle) {
        NdisMDeregisterMiniportDriver(vnet_driver_handle);
        vnet_driver_handle = NULL;
    }
}

static NDIS_STATUS NTAPI vnet_pause(NDIS_HANDLE adapter_context,
                                    PNDIS_MINIPORT_PAUSE_PARAMETERS params)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(params);
    /* TODO(issue 6): stop indicating receives and wait for outstanding sends. Nothing is in
     * flight yet, so the pause is complete at once. */
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS NTAPI vnet_restart(NDIS_HANDLE adapter_context,
                                      PNDIS_MINIPORT_RESTART_PARAMETERS params)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(params);
    /* TODO(issue 6): resume the data path. */
    return NDIS_STATUS_FAILURE;
}

static NDIS_STATUS NTAPI vnet_oid_request(NDIS_HANDLE adapter_context, PNDIS_OID_REQUEST request)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(request);
    /* TODO(issue 6): OID_GEN_* / OID_802_3_* / offload and RSS OIDs. */
    return NDIS_STATUS_NOT_SUPPORTED;
}

static NDIS_STATUS NTAPI vnet_direct_oid_request(NDIS_HANDLE adapter_context,
                                                 PNDIS_OID_REQUEST request)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(request);
    return NDIS_STATUS_NOT_SUPPORTED;
}

static VOID NTAPI vnet_cancel_oid_request(NDIS_HANDLE adapter_context, PVOID request_id)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(request_id);
    /* No OID is ever pended, so there is nothing to cancel. */
}

static VOID NTAPI vnet_cancel_direct_oid_request(NDIS_HANDLE adapter_context, PVOID request_id)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(request_id);
}

/* NDIS requires every NBL handed to the miniport to be completed exactly once, even on failure. */
static VOID NTAPI vnet_send_nbls(NDIS_HANDLE adapter_context, PNET_BUFFER_LIST nbls,
                                 NDIS_PORT_NUMBER port, ULONG send_flags)
{
    PNET_BUFFER_LIST nbl;

    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(port);
    /* TODO(issue 6): build virtio_net_hdr (vnet_tx) and post to the transmit queue. Without an
     * adapter context the MiniportAdapterHandle is unknown, so nothing can be completed; NDIS
     * cannot reach this handler while Initialize fails. */
    for (nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_FAILURE;
    UNREFERENCED_PARAMETER(send_flags);
}

static VOID NTAPI vnet_return_nbls(NDIS_HANDLE adapter_context, PNET_BUFFER_LIST nbls,
                                   ULONG return_flags)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(nbls);
    UNREFERENCED_PARAMETER(return_flags);
    /* TODO(issue 6): repost the receive buffers behind these NBLs. None are indicated yet. */
}

static VOID NTAPI vnet_cancel_send(NDIS_HANDLE adapter_context, PVOID cancel_id)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(cancel_id);
    /* TODO(issue 6): complete queued NBLs carrying cancel_id with NDIS_STATUS_SEND_ABORTED. */
}

static BOOLEAN NTAPI vnet_check_for_hang(NDIS_HANDLE adapter_context)
{
    UNREFERENCED_PARAMETER(adapter_context);
    return FALSE;
}

static NDIS_STATUS NTAPI vnet_reset(NDIS_HANDLE adapter_context, PBOOLEAN addressing_reset)
{
    UNREFERENCED_PARAMETER(adapter_context);
    if (addressing_reset)
        *addressing_reset = FALSE;
    /* TODO(issue 6): virtio device reset and re-initialisation. */
    return NDIS_STATUS_NOT_SUPPORTED;
}

static VOID NTAPI vnet_device_pnp_event(NDIS_HANDLE adapter_context, PNET_DEVICE_PNP_EVENT event)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(event);
    /* TODO(issue 6): on surprise removal stop touching the device. */
}

static VOID NTAPI vnet_shutdown(NDIS_HANDLE adapter_context, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(adapter_context);
    UNREFERENCED_PARAMETER(action);
    /* TODO(issue 6): reset the device so that it stops DMA (must not block or allocate). */
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path)
{
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS chars;
    NDIS_STATUS status;

    NdisZeroMemory(&chars, sizeof(chars));
    chars.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS;
    chars.Header.Revision = NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2;
    chars.Header.Size = NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2;
    chars.MajorNdisVersion = NDIS_MINIPORT_MAJOR_VERSION;
    chars.MinorNdisVersion = NDIS_MINIPORT_MINOR_VERSION;
    chars.MajorDriverVersion = VNET_DRIVER_MAJOR;
    chars.MinorDriverVersion = VNET_DRIVER_MINOR;

    chars.SetOptionsHandler = vnet_set_options;
    chars.InitializeHandlerEx = vnet_initialize;
    chars.HaltHandlerEx = vnet_halt;
    chars.UnloadHandler = vnet_unload;
    chars.PauseHandler = vnet_pause;
    chars.RestartHandler = vnet_restart;
    chars.OidRequestHandler = vnet_oid_request;
    chars.SendNetBufferListsHandler = vnet_send_nbls;
    chars.ReturnNetBufferListsHandler = vnet_return_nbls;
    chars.CancelSendHandler = vnet_cancel_send;
    chars.CheckForHangHandlerEx = vnet_check_for_hang;
    chars.ResetHandlerEx = vnet_reset;
    chars.DevicePnPEventNotifyHandler = vnet_device_pnp_event;
    chars.ShutdownHandlerEx = vnet_shutdown;
    chars.CancelOidRequestHandler = vnet_cancel_oid_request;
    chars.DirectOidRequestHandler = vnet_direct_oid_request;
    chars.CancelDirectOidRequestHandler = vnet_cancel_direct_oid_request;

    status = NdisMRegisterMiniportDriver(driver_object, registry_path, NULL, &chars,
                                         &vnet_driver_handle);
    if (status != NDIS_STATUS_SUCCESS) {
        vnet_driver_handle = NULL;
        return (NTSTATUS)status;
    }
    return STATUS_SUCCESS;
}
