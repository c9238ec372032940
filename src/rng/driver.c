/*
 * vdprng: WDM function driver for virtio-rng.
 *
 * This is the PnP/power skeleton every WDM driver of the pack shares the
 * shape of: AddDevice attaches a function device object, PnP and power IRPs
 * are forwarded down the stack, removal detaches and deletes. The virtio
 * part (issue 4) plugs into start/stop.
 */
#include <ntddk.h>

struct rng_device {
	PDEVICE_OBJECT self;
	PDEVICE_OBJECT lower;
	IO_REMOVE_LOCK remove_lock;
};

DRIVER_INITIALIZE DriverEntry;
static DRIVER_ADD_DEVICE rng_add_device;
static DRIVER_UNLOAD rng_unload;
static DRIVER_DISPATCH rng_dispatch_pnp;
static DRIVER_DISPATCH rng_dispatch_power;
static DRIVER_DISPATCH rng_dispatch_passdown;

#define RNG_TAG 'gnRV'

static NTSTATUS NTAPI rng_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo)
{
	struct rng_device *dev;
	PDEVICE_OBJECT fdo;
	NTSTATUS status;

	status = IoCreateDevice(driver, sizeof(*dev), NULL, FILE_DEVICE_UNKNOWN,
				FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
	if (!NT_SUCCESS(status))
		return status;
	dev = fdo->DeviceExtension;
	RtlZeroMemory(dev, sizeof(*dev));
	dev->self = fdo;
	IoInitializeRemoveLock(&dev->remove_lock, RNG_TAG, 0, 0);
	dev->lower = IoAttachDeviceToDeviceStack(fdo, pdo);
	if (dev->lower == NULL) {
		IoDeleteDevice(fdo);
		return STATUS_NO_SUCH_DEVICE;
	}
	fdo->Flags |= DO_POWER_PAGABLE;
	fdo->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

static NTSTATUS NTAPI rng_dispatch_pnp(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct rng_device *dev = fdo->DeviceExtension;
	PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	if (stack->MinorFunction == IRP_MN_REMOVE_DEVICE) {
		/* Wait for every request holding the lock before tearing down. */
		IoReleaseRemoveLockAndWait(&dev->remove_lock, irp);
		irp->IoStatus.Status = STATUS_SUCCESS;
		IoSkipCurrentIrpStackLocation(irp);
		status = IoCallDriver(dev->lower, irp);
		IoDetachDevice(dev->lower);
		IoDeleteDevice(fdo);
		return status;
	}
	IoSkipCurrentIrpStackLocation(irp);
	status = IoCallDriver(dev->lower, irp);
	IoReleaseRemoveLock(&dev->remove_lock, irp);
	return status;
}

static NTSTATUS NTAPI rng_dispatch_power(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct rng_device *dev = fdo->DeviceExtension;

	PoStartNextPowerIrp(irp);
	IoSkipCurrentIrpStackLocation(irp);
	return PoCallDriver(dev->lower, irp);
}

static NTSTATUS NTAPI rng_dispatch_passdown(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct rng_device *dev = fdo->DeviceExtension;

	IoSkipCurrentIrpStackLocation(irp);
	return IoCallDriver(dev->lower, irp);
}

static VOID NTAPI rng_unload(PDRIVER_OBJECT driver)
{
	UNREFERENCED_PARAMETER(driver);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(registry_path);

	driver->DriverExtension->AddDevice = rng_add_device;
	driver->DriverUnload = rng_unload;
	driver->MajorFunction[IRP_MJ_PNP] = rng_dispatch_pnp;
	driver->MajorFunction[IRP_MJ_POWER] = rng_dispatch_power;
	driver->MajorFunction[IRP_MJ_SYSTEM_CONTROL] = rng_dispatch_passdown;
	return STATUS_SUCCESS;
}
