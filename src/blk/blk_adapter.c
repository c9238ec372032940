/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: StorPort entry points of the virtio-blk miniport.
 *
 * This is the skeleton: it registers a complete HW_INITIALIZATION_DATA with
 * StorPort and gives every entry point its final signature, but it does not
 * drive the device yet. Each routine that cannot do its job answers with the
 * proper "no" for StorPort (adapter not found, request failed, control type
 * unsupported) instead of pretending to succeed.
 */
#include <ntddk.h>
#include <storport.h>

#include "blk_scsi.h"

/* blk_scsi.c has no Windows headers; it promises these values. */
_Static_assert(VBLK_SRB_STATUS_SUCCESS == SRB_STATUS_SUCCESS, "SRB status");
_Static_assert(VBLK_SRB_STATUS_ERROR == SRB_STATUS_ERROR, "SRB status");
_Static_assert(VBLK_SRB_STATUS_INVALID_REQUEST == SRB_STATUS_INVALID_REQUEST, "SRB status");

/* Per-adapter state (StorPort's device extension). */
struct vblk_adapter {
	BOOLEAN passive_init_done;      /* HwPassiveInitialize ran successfully */
	BOOLEAN stopped;                /* between ScsiStopAdapter and restart */
};

/* Per-request state (StorPort's SRB extension). */
struct vblk_srb_ext {
	ULONG reserved;                 /* TODO(issue 5): virtio-blk header, status, SG */
};

/* PCI functions expose at most six BARs. */
#define VBLK_ACCESS_RANGES 6

/* PORT_CONFIGURATION_INFORMATION up to the last field the driver sets. */
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
static HW_RESET_BUS vblk_hw_reset_bus;
static HW_ADAPTER_CONTROL vblk_hw_adapter_control;
static HW_UNIT_CONTROL vblk_hw_unit_control;

static ULONG NTAPI vblk_hw_find_adapter(PVOID device_extension, PVOID hw_context,
					PVOID bus_information, PCHAR argument_string,
					PPORT_CONFIGURATION_INFORMATION config,
					PBOOLEAN again)
{
	struct vblk_adapter *adapter = device_extension;

	(void)hw_context;
	(void)bus_information;
	(void)argument_string;
	if (again)
		*again = FALSE;
	/* Older StorPorts pass a shorter structure; need what we will fill in. */
	if (!adapter || !config || config->Length < VBLK_CONFIG_MIN_LENGTH)
		return SP_RETURN_BAD_CONFIG;

	adapter->passive_init_done = FALSE;
	adapter->stopped = FALSE;

	/*
	 * TODO(issue 5): validate the access ranges, map the virtio PCI
	 * capabilities through StorPortGetDeviceBase, negotiate features with
	 * the virtio core, read and validate the virtio-blk configuration,
	 * allocate the virtqueue memory with StorPortGetUncachedExtension and
	 * fill in MaximumTransferLength, NumberOfPhysicalBreaks,
	 * SynchronizationModel, HwMSInterruptRoutine and the MSI-X mode.
	 * Until then no adapter is claimed.
	 */
	return SP_RETURN_NOT_FOUND;
}

static BOOLEAN NTAPI vblk_hw_initialize(PVOID device_extension)
{
	/* Device bring-up needs PASSIVE_LEVEL (allocations, waits for reset). */
	return StorPortEnablePassiveInitialization(device_extension,
						   vblk_hw_passive_initialize);
}

static BOOLEAN NTAPI vblk_hw_passive_initialize(PVOID device_extension)
{
	struct vblk_adapter *adapter = device_extension;

	/* TODO(issue 5): set up the virtqueues, DPCs and DRIVER_OK. */
	adapter->passive_init_done = FALSE;
	return FALSE;
}

static void vblk_complete(struct vblk_adapter *adapter, PSCSI_REQUEST_BLOCK srb, UCHAR status)
{
	srb->SrbStatus = status;
	StorPortNotification(RequestComplete, adapter, srb);
}

static BOOLEAN NTAPI vblk_hw_build_io(PVOID device_extension, PSCSI_REQUEST_BLOCK srb)
{
	(void)device_extension;
	(void)srb;
	/* TODO(issue 5): translate the CDB (blk_scsi) outside the StartIo lock. */
	return TRUE;
}

static BOOLEAN NTAPI vblk_hw_start_io(PVOID device_extension, PSCSI_REQUEST_BLOCK srb)
{
	struct vblk_adapter *adapter = device_extension;

	if (!srb)
		return FALSE;
	switch (srb->Function) {
	case SRB_FUNCTION_RESET_BUS:
	case SRB_FUNCTION_RESET_DEVICE:
	case SRB_FUNCTION_RESET_LOGICAL_UNIT:
		/* Nothing is ever in flight in the skeleton. */
		vblk_complete(adapter, srb, SRB_STATUS_SUCCESS);
		break;
	case SRB_FUNCTION_EXECUTE_SCSI:
	case SRB_FUNCTION_FLUSH:
	case SRB_FUNCTION_SHUTDOWN:
		/*
		 * TODO(issue 5): EXECUTE_SCSI goes through blk_scsi (answer or
		 * virtqueue request); FLUSH and SHUTDOWN become VIRTIO_BLK_T_FLUSH
		 * when the cache is write-back.
		 */
		vblk_complete(adapter, srb, SRB_STATUS_NO_DEVICE);
		break;
	default:
		vblk_complete(adapter, srb, SRB_STATUS_INVALID_REQUEST);
		break;
	}
	return TRUE;
}

static BOOLEAN NTAPI vblk_hw_interrupt(PVOID device_extension)
{
	(void)device_extension;
	/* TODO(issue 5): read the ISR status; no device is claimed yet, so never ours. */
	return FALSE;
}

static BOOLEAN NTAPI vblk_hw_reset_bus(PVOID device_extension, ULONG path_id)
{
	(void)path_id;
	/* TODO(issue 5): complete in-flight requests after a device reset. */
	StorPortCompleteRequest(device_extension, SP_UNTAGGED, SP_UNTAGGED, SP_UNTAGGED,
				SRB_STATUS_BUS_RESET);
	return TRUE;
}

static SCSI_ADAPTER_CONTROL_STATUS NTAPI vblk_hw_adapter_control(PVOID device_extension,
								 SCSI_ADAPTER_CONTROL_TYPE type,
								 PVOID parameters)
{
	struct vblk_adapter *adapter = device_extension;

	switch (type) {
	case ScsiQuerySupportedControlTypes: {
		PSCSI_SUPPORTED_CONTROL_TYPE_LIST list = parameters;

		if (!list)
			return ScsiAdapterControlUnsuccessful;
		/* MaxControlType is the number of entries StorPort allocated. */
		if (list->MaxControlType > ScsiQuerySupportedControlTypes)
			list->SupportedTypeList[ScsiQuerySupportedControlTypes] = TRUE;
		if (list->MaxControlType > ScsiStopAdapter)
			list->SupportedTypeList[ScsiStopAdapter] = TRUE;
		if (list->MaxControlType > ScsiRestartAdapter)
			list->SupportedTypeList[ScsiRestartAdapter] = TRUE;
		return ScsiAdapterControlSuccess;
	}
	case ScsiStopAdapter:
		/* TODO(issue 5): reset the device so it stops DMA. */
		adapter->stopped = TRUE;
		return ScsiAdapterControlSuccess;
	case ScsiRestartAdapter:
		/* TODO(issue 5): re-run device initialisation after a stop. */
		return ScsiAdapterControlUnsuccessful;
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
	/* TODO(issue 5): ScsiUnitStart / ScsiUnitPower once the LUN exists. */
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
	/* TODO(issue 5): accept SRB_EX once the glue handles STORAGE_REQUEST_BLOCK. */
	hw.SrbTypeFlags = SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK;
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
