/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdppanic: WDM function driver for the QEMU pvpanic device, ISA (ACPI
 * QEMU0001, one I/O port) or PCI (1B36:0011, BAR 0 memory). At start it
 * reads the supported-events register and refuses a device that reads as
 * garbage; at a bug check the callback writes the one supported event
 * pvpanic_select() picks, at most once. PnP comes from the WDM glue.
 */
#include "brand.h"
#include "vwdm.h"
#include "pvpanic_logic.h"

struct panic_dev {
	struct vwdm_dev wd;            /* first: the glue finds itself here */
	KBUGCHECK_CALLBACK_RECORD cb;
	bool registered;
	bool io;
	uintptr_t port;
	PUCHAR reg;
	uint8_t supported;
	uint8_t event;
	volatile LONG fired;
};
_Static_assert(offsetof(struct panic_dev, wd) == 0, "vwdm finds the device at the extension start");

DRIVER_INITIALIZE DriverEntry;

static char panic_component[] = VDP_BRAND_VDPPANIC_FILE;

static uint8_t panic_read(struct panic_dev *d)
{
	return d->io ? READ_PORT_UCHAR((PUCHAR)d->port) : READ_REGISTER_UCHAR(d->reg);
}

static void panic_write(struct panic_dev *d, uint8_t v)
{
	if (d->io)
		WRITE_PORT_UCHAR((PUCHAR)d->port, v);
	else
		WRITE_REGISTER_UCHAR(d->reg, v);
}

/* HIGH_LEVEL, other processors frozen: only the register write. */
static VOID NTAPI panic_bugcheck(PVOID buffer, ULONG length)
{
	struct panic_dev *d = buffer;

	if (d == NULL || length != sizeof(*d) || d->event == 0)
		return;
	if (InterlockedExchange(&d->fired, 1) == 0)
		panic_write(d, d->event);
}

/* CrashControl\CrashDumpEnabled != 0: Windows writes a dump and reboots itself. */
static bool panic_crash_dump_enabled(void)
{
	UNICODE_STRING path = RTL_CONSTANT_STRING(
		L"\\Registry\\Machine\\SYSTEM\\CurrentControlSet\\Control\\CrashControl");
	UNICODE_STRING name = RTL_CONSTANT_STRING(L"CrashDumpEnabled");
	OBJECT_ATTRIBUTES oa;
	union {
		KEY_VALUE_PARTIAL_INFORMATION info;
		UCHAR raw[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
	} v;
	ULONG got = 0, val;
	HANDLE key;
	NTSTATUS status;

	InitializeObjectAttributes(&oa, &path, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
	if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &oa)))
		return false;
	status = ZwQueryValueKey(key, &name, KeyValuePartialInformation, &v, sizeof(v), &got);
	ZwClose(key);
	if (!NT_SUCCESS(status) || v.info.Type != REG_DWORD || v.info.DataLength != sizeof(ULONG))
		return false;
	RtlCopyMemory(&val, v.info.Data, sizeof(val));
	return val != 0;
}

static void panic_stop(struct vwdm_dev *wd)
{
	struct panic_dev *d = CONTAINING_RECORD(wd, struct panic_dev, wd);

	if (d->registered)
		KeDeregisterBugCheckCallback(&d->cb);
	d->registered = false;
	d->event = 0;
	d->reg = NULL;
	d->port = 0;
	vwdm_unmap_resources(wd);
}

static NTSTATUS panic_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	struct panic_dev *d = CONTAINING_RECORD(wd, struct panic_dev, wd);
	struct vwdm_bar *b = &wd->bars[0];
	NTSTATUS status;

	/* ACPI and PCI alike: the first I/O or memory resource is the register. */
	status = vwdm_map_resources(wd, raw, tr, false);
	if (!NT_SUCCESS(status))
		return status;
	if (!b->present || b->len < 1) {
		vwdm_unmap_resources(wd);
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	}
	d->io = b->io;
	d->port = b->port;
	d->reg = b->va;
	d->supported = panic_read(d);
	if (!pvpanic_supported_valid(d->supported)) {
		vwdm_log(wd, DPFLTR_ERROR_LEVEL, "supported events 0x%x: not a pvpanic device\n",
			 d->supported);
		panic_stop(wd);
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	}
	d->event = pvpanic_select(d->supported, panic_crash_dump_enabled());
	d->fired = 0;
	if (d->event == 0)
		return STATUS_SUCCESS;         /* nothing to tell at a bug check */
	KeInitializeCallbackRecord((&d->cb));
	if (!KeRegisterBugCheckCallback(&d->cb, panic_bugcheck, d, sizeof(*d),
					(PUCHAR)panic_component)) {
		panic_stop(wd);
		return STATUS_UNSUCCESSFUL;
	}
	d->registered = true;
	vwdm_log(wd, DPFLTR_INFO_LEVEL, "supported 0x%x, reports 0x%x\n", d->supported, d->event);
	return STATUS_SUCCESS;
}

static const struct vwdm_pnp_ops panic_pnp_ops = {
	.start = panic_start,
	.stop = panic_stop,
};

static NTSTATUS NTAPI panic_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo)
{
	struct vwdm_dev *wd;
	NTSTATUS status;

	status = vwdm_add_device(driver, pdo, sizeof(struct panic_dev), FILE_DEVICE_UNKNOWN,
				 VDP_BRAND_VDPPANIC_FILE ": ", &panic_pnp_ops, &wd);
	if (!NT_SUCCESS(status))
		return status;
	wd->self->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(registry_path);

	vwdm_driver_init(driver, panic_add_device);
	return STATUS_SUCCESS;
}
