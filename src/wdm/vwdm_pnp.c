/* SPDX-License-Identifier: BSD-2-Clause */
/* WDM glue: AddDevice, PnP state machine with remove lock, power, logging. */
#include "vwdm.h"
#include <stdarg.h>

NTSTATUS vwdm_status(int err)
{
	switch (err) {
	case VIRTIO_OK: return STATUS_SUCCESS;
	case VIRTIO_EINVAL: return STATUS_INVALID_PARAMETER;
	case VIRTIO_ENODEV: return STATUS_NO_SUCH_DEVICE;
	case VIRTIO_ETIMEDOUT: return STATUS_IO_TIMEOUT;
	case VIRTIO_ENOTSUP: return STATUS_NOT_SUPPORTED;
	case VIRTIO_ENOSPC: return STATUS_INSUFFICIENT_RESOURCES;
	default: return STATUS_IO_DEVICE_ERROR;
	}
}

void vwdm_log(struct vwdm_dev *wd, ULONG level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vDbgPrintExWithPrefix((PCH)(wd && wd->name ? wd->name : "vwdm"), DPFLTR_IHVDRIVER_ID,
			      level, (PCH)fmt, ap);
	va_end(ap);
}

NTSTATUS vwdm_complete(PIRP irp, NTSTATUS status, ULONG_PTR info)
{
	irp->IoStatus.Status = status;
	irp->IoStatus.Information = info;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return status;
}

NTSTATUS vwdm_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo, ULONG ext_size,
			 DEVICE_TYPE type, const char *name, const struct vwdm_pnp_ops *pnp,
			 struct vwdm_dev **out)
{
	struct vwdm_dev *wd;
	PDEVICE_OBJECT fdo;
	NTSTATUS status;

	*out = NULL;
	if (ext_size < sizeof(*wd))
		return STATUS_INVALID_PARAMETER;
	/*
	 * FILE_DEVICE_SECURE_OPEN: the stack's ACL (the INF's Security value,
	 * SYSTEM and administrators only) also covers names below the device.
	 */
	status = IoCreateDevice(driver, ext_size, NULL, type, FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
	if (!NT_SUCCESS(status))
		return status;
	wd = fdo->DeviceExtension;
	RtlZeroMemory(wd, ext_size);
	wd->self = fdo;
	wd->pdo = pdo;
	wd->name = name;
	wd->pnp = pnp;
	wd->state = VWDM_STOPPED;
	IoInitializeRemoveLock(&wd->remove_lock, VWDM_TAG, 0, 0);
	wd->lower = IoAttachDeviceToDeviceStack(fdo, pdo);
	if (wd->lower == NULL) {
		IoDeleteDevice(fdo);
		return STATUS_NO_SUCH_DEVICE;
	}
	fdo->Flags |= DO_POWER_PAGABLE | DO_BUFFERED_IO;
	*out = wd;
	return STATUS_SUCCESS;
}

NTSTATUS vwdm_pass_down(struct vwdm_dev *wd, PIRP irp)
{
	IoSkipCurrentIrpStackLocation(irp);
	return IoCallDriver(wd->lower, irp);
}

static NTSTATUS NTAPI vwdm_irp_pnp(PDEVICE_OBJECT fdo, PIRP irp)
{
	return vwdm_dispatch_pnp(fdo->DeviceExtension, irp);
}

static NTSTATUS NTAPI vwdm_irp_power(PDEVICE_OBJECT fdo, PIRP irp)
{
	return vwdm_dispatch_power(fdo->DeviceExtension, irp);
}

static NTSTATUS NTAPI vwdm_irp_pass_down(PDEVICE_OBJECT fdo, PIRP irp)
{
	return vwdm_pass_down(fdo->DeviceExtension, irp);
}

/* Nothing is global: every resource belongs to a device and goes with it. */
VOID NTAPI vwdm_unload(PDRIVER_OBJECT driver)
{
	UNREFERENCED_PARAMETER(driver);
}

void vwdm_driver_init(PDRIVER_OBJECT driver, PDRIVER_ADD_DEVICE add_device)
{
	driver->DriverExtension->AddDevice = add_device;
	driver->DriverUnload = vwdm_unload;
	driver->MajorFunction[IRP_MJ_PNP] = vwdm_irp_pnp;
	driver->MajorFunction[IRP_MJ_POWER] = vwdm_irp_power;
	driver->MajorFunction[IRP_MJ_SYSTEM_CONTROL] = vwdm_irp_pass_down;
}

static NTSTATUS NTAPI vwdm_sync_done(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
	UNREFERENCED_PARAMETER(dev);
	UNREFERENCED_PARAMETER(irp);
	KeSetEvent((PKEVENT)ctx, IO_NO_INCREMENT, FALSE);
	/* The dispatch routine owns the IRP again and completes it. */
	return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Send down and wait: start and capabilities are handled on the way up. */
static NTSTATUS vwdm_forward_sync(struct vwdm_dev *wd, PIRP irp)
{
	KEVENT ev;
	NTSTATUS status;

	KeInitializeEvent(&ev, NotificationEvent, FALSE);
	IoCopyCurrentIrpStackLocationToNext(irp);
	IoSetCompletionRoutine(irp, vwdm_sync_done, &ev, TRUE, TRUE, TRUE);
	status = IoCallDriver(wd->lower, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
		status = irp->IoStatus.Status;
	}
	return status;
}

static void vwdm_stop_device(struct vwdm_dev *wd)
{
	if (wd->state == VWDM_STARTED || wd->state == VWDM_STOP_PENDING ||
	    wd->state == VWDM_REMOVE_PENDING || wd->state == VWDM_SURPRISE_REMOVED) {
		if (wd->pnp->stop)
			wd->pnp->stop(wd);
	}
}

NTSTATUS vwdm_dispatch_pnp(struct vwdm_dev *wd, PIRP irp)
{
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&wd->remove_lock, irp);
	if (!NT_SUCCESS(status))
		return vwdm_complete(irp, status, 0);

	switch (sl->MinorFunction) {
	case IRP_MN_START_DEVICE:
		status = vwdm_forward_sync(wd, irp);
		if (NT_SUCCESS(status)) {
			status = wd->pnp->start(wd, sl->Parameters.StartDevice.AllocatedResources,
						sl->Parameters.StartDevice.AllocatedResourcesTranslated);
			if (NT_SUCCESS(status)) {
				wd->state = VWDM_STARTED;
			} else {
				vwdm_log(wd, DPFLTR_ERROR_LEVEL, "start failed 0x%lx\n", (unsigned long)status);
				/* start cleans up after itself; stop must not run twice. */
				wd->state = VWDM_STOPPED;
			}
		}
		vwdm_complete(irp, status, irp->IoStatus.Information);
		IoReleaseRemoveLock(&wd->remove_lock, irp);
		return status;

	case IRP_MN_QUERY_STOP_DEVICE:
	case IRP_MN_QUERY_REMOVE_DEVICE:
		wd->prev_state = wd->state;
		wd->state = sl->MinorFunction == IRP_MN_QUERY_STOP_DEVICE ?
			VWDM_STOP_PENDING : VWDM_REMOVE_PENDING;
		irp->IoStatus.Status = STATUS_SUCCESS;
		break;

	case IRP_MN_CANCEL_STOP_DEVICE:
	case IRP_MN_CANCEL_REMOVE_DEVICE:
		if (wd->state == VWDM_STOP_PENDING || wd->state == VWDM_REMOVE_PENDING)
			wd->state = wd->prev_state;
		irp->IoStatus.Status = STATUS_SUCCESS;
		break;

	case IRP_MN_STOP_DEVICE:
		vwdm_stop_device(wd);
		wd->state = VWDM_STOPPED;
		irp->IoStatus.Status = STATUS_SUCCESS;
		break;

	case IRP_MN_SURPRISE_REMOVAL:
		vwdm_stop_device(wd);
		wd->state = VWDM_SURPRISE_REMOVED;
		irp->IoStatus.Status = STATUS_SUCCESS;
		break;

	case IRP_MN_REMOVE_DEVICE: {
		PDEVICE_OBJECT lower = wd->lower;

		if (wd->state != VWDM_SURPRISE_REMOVED)
			vwdm_stop_device(wd);
		wd->state = VWDM_REMOVED;
		/* Every request holding the lock finishes before the teardown. */
		IoReleaseRemoveLockAndWait(&wd->remove_lock, irp);
		irp->IoStatus.Status = STATUS_SUCCESS;
		IoSkipCurrentIrpStackLocation(irp);
		status = IoCallDriver(lower, irp);
		if (wd->pnp->remove)
			wd->pnp->remove(wd);
		vwdm_interface_free(wd);
		IoDetachDevice(lower);
		IoDeleteDevice(wd->self);
		return status;
	}

	case IRP_MN_QUERY_DEVICE_RELATIONS:
		if (sl->Parameters.QueryDeviceRelations.Type == BusRelations && wd->pnp->bus_relations) {
			status = wd->pnp->bus_relations(wd, irp);
			if (!NT_SUCCESS(status) && status != STATUS_NOT_SUPPORTED) {
				vwdm_complete(irp, status, 0);
				IoReleaseRemoveLock(&wd->remove_lock, irp);
				return status;
			}
		}
		break;

	default:
		break;
	}
	status = vwdm_pass_down(wd, irp);
	IoReleaseRemoveLock(&wd->remove_lock, irp);
	return status;
}

/*
 * Power: the drivers keep their device in D0 while started (the virtio
 * devices they drive lose no state the driver cannot rebuild at start), so
 * every power IRP goes down unchanged.
 */
NTSTATUS vwdm_dispatch_power(struct vwdm_dev *wd, PIRP irp)
{
	NTSTATUS status;

	status = IoAcquireRemoveLock(&wd->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		PoStartNextPowerIrp(irp);
		return vwdm_complete(irp, status, 0);
	}
	PoStartNextPowerIrp(irp);
	IoSkipCurrentIrpStackLocation(irp);
	status = PoCallDriver(wd->lower, irp);
	IoReleaseRemoveLock(&wd->remove_lock, irp);
	return status;
}

NTSTATUS vwdm_interface_register(struct vwdm_dev *wd, const GUID *guid)
{
	NTSTATUS status;

	status = IoRegisterDeviceInterface(wd->pdo, guid, NULL, &wd->if_name);
	if (NT_SUCCESS(status))
		wd->if_registered = true;
	return status;
}

void vwdm_interface_enable(struct vwdm_dev *wd, bool on)
{
	if (wd->if_registered)
		IoSetDeviceInterfaceState(&wd->if_name, on ? TRUE : FALSE);
}

void vwdm_interface_free(struct vwdm_dev *wd)
{
	if (wd->if_registered) {
		RtlFreeUnicodeString(&wd->if_name);
		wd->if_registered = false;
	}
}
