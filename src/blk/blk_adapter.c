/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: StorPort entry points of the virtio-blk miniport.
 *
 * Thin glue: device bring-up lives in blk_virtio.c, the request path in
 * blk_io.c, SCSI semantics in blk_scsi.c and sizing in blk_plan.c. This
 * file registers HW_INITIALIZATION_DATA and routes StorPort's callbacks.
 */
#include "blk_drv.h"

/* PCI functions expose at most six BARs. */
#define VBLK_ACCESS_RANGES 6

/* PORT_CONFIGURATION_INFORMATION up to the last field the driver must set. */
#define VBLK_CONFIG_MIN_LENGTH \
	(FIELD_OFFSET(PORT_CONFIGURATION_INFORMATION, InterruptSynchronizationMode) + \
	 sizeof(INTERRUPT_SYNCHRONIZATION_MODE))

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path);

static HW_FIND_ADAPTER vblk_hw_find_adapter;
static HW_INITIALIZE vblk_hw_initialize;
static HW_PASSIVE_INITIALIZE_ROUTINE vblk_hw_passive_initialize;
static HW_BUILDIO vblk_hw_build_io;
static HW_STARTIO vblk_hw_start_io;
static HW_INTERRUPT vblk_hw_interrupt;
static HW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE vblk_hw_msi;
static HW_RESET_BUS vblk_hw_reset_bus;
static HW_ADAPTER_CONTROL vblk_hw_adapter_control;
static HW_UNIT_CONTROL vblk_hw_unit_control;

static ULONG NTAPI vblk_hw_find_adapter(PVOID device_extension, PVOID hw_context,
					PVOID bus_information, PCHAR argument_string,
					PPORT_CONFIGURATION_INFORMATION config,
					PBOOLEAN again)
{
	struct vblk_adapter *adapter = device_extension;
	ULONG rc;

	(void)hw_context;
	(void)bus_information;
	(void)argument_string;
	if (again)
		*again = FALSE;
	/* Older StorPorts pass a shorter structure; need what we will fill in. */
	if (!adapter || !config || config->Length < VBLK_CONFIG_MIN_LENGTH)
		return SP_RETURN_BAD_CONFIG;
	__builtin_memset(adapter, 0, sizeof(*adapter));

	rc = vblk_find_adapter(adapter, config);
	if (rc != SP_RETURN_FOUND)
		return rc;
	config->HwMSInterruptRoutine = vblk_hw_msi;
	/* Each message only queues its own DPC: no cross-message state in the ISR. */
	config->InterruptSynchronizationMode = InterruptSynchronizePerMessage;
	return SP_RETURN_FOUND;
}

_Static_assert(VBLK_PERF_DPC_REDIRECTION == STOR_PERF_DPC_REDIRECTION &&
	       VBLK_PERF_CONCURRENT_CHANNELS == STOR_PERF_CONCURRENT_CHANNELS &&
	       VBLK_PERF_INTERRUPT_MESSAGE_RANGES == STOR_PERF_INTERRUPT_MESSAGE_RANGES &&
	       VBLK_PERF_MAX_VERSION == STOR_PERF_VERSION_5 &&
	       VBLK_PERF_MIN_VERSION == STOR_PERF_VERSION_2, "perf flags");

/*
 * Concurrent StartIo channels and DPC redirection, one per queue. Query
 * first, newest structure version down to the oldest this driver needs,
 * then set exactly the supported subset at the version that answered.
 * Must run in HwInitialize, before any I/O: a->concurrent decides the
 * queue lock (blk_drv.h).
 */
static void vblk_setup_perf(struct vblk_adapter *a)
{
	PERF_CONFIGURATION_DATA perf;
	ULONG version, rc = STOR_STATUS_NOT_IMPLEMENTED, flags;

	a->perf_redirect = FALSE;
	a->concurrent = FALSE;
	a->perf_version = 0;
	a->perf_flags = 0;
	if (a->dump || a->nq < 2)
		return;
	for (version = VBLK_PERF_MAX_VERSION; version >= VBLK_PERF_MIN_VERSION; version--) {
		__builtin_memset(&perf, 0, sizeof(perf));
		perf.Version = version;
		perf.Size = sizeof(perf);
		rc = StorPortInitializePerfOpts(a, TRUE, &perf);
		if (rc == STOR_STATUS_SUCCESS || rc == STOR_STATUS_NOT_IMPLEMENTED)
			break;
	}
	if (rc != STOR_STATUS_SUCCESS)
		return;
	flags = vblk_perf_flags(version, perf.Flags, a->nq, a->per_queue_vectors);
	if (!flags)
		return;
	__builtin_memset(&perf, 0, sizeof(perf));
	perf.Version = version;
	perf.Size = sizeof(perf);
	perf.Flags = flags;
	if (flags & STOR_PERF_CONCURRENT_CHANNELS)
		perf.ConcurrentChannels = a->nq;
	if (flags & STOR_PERF_INTERRUPT_MESSAGE_RANGES) {
		/* Message 0 is the configuration change; i serves queue i-1. */
		perf.FirstRedirectionMessageNumber = 1;
		perf.LastRedirectionMessageNumber = a->nq;
	}
	if (StorPortInitializePerfOpts(a, FALSE, &perf) != STOR_STATUS_SUCCESS) {
		vblk_log("performance options refused (version %u, flags %x)\n",
			 (unsigned)version, (unsigned)flags);
		return;
	}
	a->perf_version = version;
	a->perf_flags = flags;
	a->concurrent = (flags & STOR_PERF_CONCURRENT_CHANNELS) != 0;
	a->perf_redirect = (flags & STOR_PERF_INTERRUPT_MESSAGE_RANGES) != 0;
}

static BOOLEAN NTAPI vblk_hw_initialize(PVOID device_extension)
{
	struct vblk_adapter *a = device_extension;

	/* Interrupts are connected now: the MSI-X grant decides the queue count. */
	vblk_query_interrupts(a);
	if (vblk_device_start(a))
		return FALSE;
	vblk_log("started: %u queue(s), %s\n", a->nq,
		 a->msix ? (a->per_queue_vectors ? "MSI-X per queue" : "MSI-X shared") :
		 a->dump ? "polled (dump)" : "INTx");
	/* A crash dump needs no serial number: no GET_ID, nothing that waits. */
	if (a->dump)
		return TRUE;
	vblk_setup_perf(a);
	/*
	 * GET_ID may take the device a while: it runs in the passive routine,
	 * never here at DIRQL under the interrupt lock. DPCs are created there too.
	 */
	return StorPortEnablePassiveInitialization(a, vblk_hw_passive_initialize);
}

static BOOLEAN NTAPI vblk_hw_passive_initialize(PVOID device_extension)
{
	struct vblk_adapter *a = device_extension;
	uint16_t i;

	for (i = 0; i < a->nq; i++)
		StorPortInitializeDpc(a, &a->q[i].dpc, vblk_queue_dpc);
	StorPortInitializeDpc(a, &a->config_dpc, vblk_config_dpc);
	/* Before dpcs_ready: the ISRs only claim, so the polled GET_ID owns queue 0. */
	if (vblk_read_serial(a)) {
		/* A GET_ID that never came back is still posted: reset drops it. */
		vblk_log("GET_ID not answered; continuing without a serial number\n");
		if (vblk_device_start(a))
			return FALSE;
	}
	a->dpcs_ready = TRUE;
	/* A configuration change claimed while no DPC existed is looked at now. */
	StorPortIssueDpc(a, &a->config_dpc, NULL, NULL);
	return TRUE;
}

static BOOLEAN NTAPI vblk_hw_build_io(PVOID device_extension, PSCSI_REQUEST_BLOCK srb)
{
	if (!srb)
		return FALSE;
	return vblk_build_io(device_extension, srb);
}

static BOOLEAN NTAPI vblk_hw_start_io(PVOID device_extension, PSCSI_REQUEST_BLOCK srb)
{
	if (!srb)
		return FALSE;
	vblk_start_io(device_extension, srb);
	return TRUE;
}

static void queue_all_dpcs(struct vblk_adapter *a)
{
	uint16_t i;

	for (i = 0; i < a->nq; i++)
		vblk_kick_queue_dpc(a, &a->q[i]);
}

static BOOLEAN NTAPI vblk_hw_interrupt(PVOID device_extension)
{
	struct vblk_adapter *a = device_extension;
	uint8_t isr;

	if (a->dump) {
		vblk_poll_all(a);
		return FALSE;
	}
	if (a->removed)
		return FALSE;
	/* Reading the ISR claims (and clears) a level-triggered INTx. */
	isr = virtio_isr_read(&a->vdev);
	if (isr == 0xFF && vblk_device_gone(a))
		return FALSE;
	if (!isr)
		return FALSE;
	/* Polled GET_ID, recovery, stop: claimed, the poller or restart sees the rest. */
	if (!a->dpcs_ready || !a->started)
		return TRUE;
	if (isr & VIRTIO_PCI_ISR_QUEUE)
		queue_all_dpcs(a);
	if (isr & VIRTIO_PCI_ISR_CONFIG)
		StorPortIssueDpc(a, &a->config_dpc, NULL, NULL);
	return TRUE;
}

static BOOLEAN NTAPI vblk_hw_msi(PVOID device_extension, ULONG message_id)
{
	struct vblk_adapter *a = device_extension;

	if (a->dump)
		return FALSE;
	/* A message-signalled but non-MSI-X grant behaves like INTx for virtio. */
	if (!a->msix)
		return vblk_hw_interrupt(device_extension);
	if (!a->dpcs_ready)
		return TRUE;
	if (!a->per_queue_vectors) {
		queue_all_dpcs(a);
		StorPortIssueDpc(a, &a->config_dpc, NULL, NULL);
		return TRUE;
	}
	if (message_id == 0) {
		StorPortIssueDpc(a, &a->config_dpc, NULL, NULL);
		return TRUE;
	}
	if (message_id - 1 < a->nq) {
		vblk_kick_queue_dpc(a, &a->q[message_id - 1]);
		return TRUE;
	}
	return FALSE;
}

static BOOLEAN NTAPI vblk_hw_reset_bus(PVOID device_extension, ULONG path_id)
{
	(void)path_id;
	/*
	 * Every request the device holds is taken back by the reset and
	 * completed here with SRB_STATUS_BUS_RESET, each exactly once, as
	 * StorPort expects; its StartIo lock and channel tokens already keep
	 * HwStartIo and the DPCs out, so no lock is taken (blk_drv.h). Not
	 * StorPortCompleteRequest: it would also complete a request another
	 * channel's HwStartIo is about to post, which would then complete twice.
	 */
	vblk_reset_and_recover(device_extension, VBLK_CTX_RESETBUS, SRB_STATUS_BUS_RESET);
	return TRUE;
}

static void set_supported(PSCSI_SUPPORTED_CONTROL_TYPE_LIST list, SCSI_ADAPTER_CONTROL_TYPE type)
{
	/* MaxControlType is the number of entries StorPort allocated. */
	if (list->MaxControlType > (ULONG)type)
		list->SupportedTypeList[type] = TRUE;
}

static SCSI_ADAPTER_CONTROL_STATUS NTAPI vblk_hw_adapter_control(PVOID device_extension,
								 SCSI_ADAPTER_CONTROL_TYPE type,
								 PVOID parameters)
{
	struct vblk_adapter *a = device_extension;

	switch (type) {
	case ScsiQuerySupportedControlTypes: {
		PSCSI_SUPPORTED_CONTROL_TYPE_LIST list = parameters;

		if (!list)
			return ScsiAdapterControlUnsuccessful;
		set_supported(list, ScsiQuerySupportedControlTypes);
		set_supported(list, ScsiStopAdapter);
		set_supported(list, ScsiRestartAdapter);
		set_supported(list, ScsiSetBootConfig);
		set_supported(list, ScsiSetRunningConfig);
		set_supported(list, ScsiAdapterSurpriseRemoval);
		return ScsiAdapterControlSuccess;
	}
	case ScsiStopAdapter:
		/* StorPort has drained the adapter; the reset stops any DMA. */
		a->stopped = TRUE;
		a->started = FALSE;
		if (!vblk_device_gone(a))
			(void)virtio_reset(&a->vdev);
		return ScsiAdapterControlSuccess;
	case ScsiRestartAdapter:
		if (a->removed || vblk_device_start(a))
			return ScsiAdapterControlUnsuccessful;
		a->stopped = FALSE;
		InterlockedExchange(&a->dead, 0);
		return ScsiAdapterControlSuccess;
	case ScsiSetBootConfig:
	case ScsiSetRunningConfig:
		/* PCI configuration needs no save/restore beyond what the bus driver does. */
		return ScsiAdapterControlSuccess;
	case ScsiAdapterSurpriseRemoval:
		InterlockedExchange(&a->removed, 1);
		return ScsiAdapterControlSuccess;
	default:
		return ScsiAdapterControlUnsuccessful;
	}
}

static SCSI_UNIT_CONTROL_STATUS NTAPI vblk_hw_unit_control(PVOID device_extension,
							   SCSI_UNIT_CONTROL_TYPE type,
							   PVOID parameters)
{
	(void)device_extension;

	if (type == ScsiQuerySupportedUnitControlTypes) {
		PSCSI_SUPPORTED_CONTROL_TYPE_LIST list = parameters;

		if (!list)
			return ScsiUnitControlUnsuccessful;
		if (list->MaxControlType > ScsiQuerySupportedUnitControlTypes)
			list->SupportedTypeList[ScsiQuerySupportedUnitControlTypes] = TRUE;
		return ScsiUnitControlSuccess;
	}
	/* Unit start/power need nothing beyond the adapter's state. */
	return ScsiUnitControlUnsuccessful;
}

__attribute__((section("INIT")))
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path)
{
	HW_INITIALIZATION_DATA hw;
	NTSTATUS status;

	RtlZeroMemory(&hw, sizeof(hw));
	hw.HwInitializationDataSize = sizeof(hw);
	hw.AdapterInterfaceType = PCIBus;
	hw.HwInitialize = vblk_hw_initialize;
	hw.HwStartIo = vblk_hw_start_io;
	hw.HwInterrupt = vblk_hw_interrupt;
	hw.HwFindAdapter = vblk_hw_find_adapter;
	hw.HwResetBus = vblk_hw_reset_bus;
	hw.HwAdapterControl = vblk_hw_adapter_control;
	hw.HwBuildIo = vblk_hw_build_io;
	hw.DeviceExtensionSize = sizeof(struct vblk_adapter);
	hw.SpecificLuExtensionSize = 0;
	hw.SrbExtensionSize = sizeof(struct vblk_srb_ext);
	hw.NumberOfAccessRanges = VBLK_ACCESS_RANGES;
	/* Only INQUIRY/MODE SENSE style data needs a CPU mapping; I/O goes by DMA. */
	hw.MapBuffers = STOR_MAP_NON_READ_WRITE_BUFFERS;
	hw.NeedPhysicalAddresses = TRUE;
	hw.TaggedQueuing = TRUE;
	hw.AutoRequestSense = TRUE;
	hw.MultipleRequestPerLu = TRUE;
	hw.FeatureSupport = STOR_FEATURE_FULL_PNP_DEVICE_CAPABILITIES;
	/*
	 * Both request formats: STORAGE_REQUEST_BLOCK where StorPort offers it
	 * (Windows 8 and later; CDBs longer than 16 bytes only come that way),
	 * the classic SRB elsewhere. blk_io.c reads both through the accessors.
	 */
	hw.SrbTypeFlags = SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK | SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK;
	hw.AddressTypeFlags = ADDRESS_TYPE_FLAG_BTL8;
	hw.HwUnitControl = vblk_hw_unit_control;

	status = (NTSTATUS)StorPortInitialize(driver_object, registry_path, &hw, NULL);
	/*
	 * Windows 7's StorPort knows the structure only up to HwBuildIo and may
	 * refuse a larger one; retry with that size (loses HwUnitControl and the
	 * SRB type fields, which Windows 7 does not have). Untested on Windows 7.
	 */
	if (status == STATUS_REVISION_MISMATCH) {
		hw.HwInitializationDataSize = HW_INIT_DATA_SIZE_PHYSICAL;
		status = (NTSTATUS)StorPortInitialize(driver_object, registry_path, &hw, NULL);
	}
	return status;
}
