/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdprng: WDM function driver for virtio-rng (virtio 1.2 5.4).
 *
 * Reads from the device interface (rng_public.h) are queued in a
 * cancel-safe queue; one page-sized DMA buffer goes to the device whenever
 * reads wait and it is empty, and the DPC hands the entropy out to the
 * queued reads (accounting in rng_logic.c). PnP, resources, interrupts and
 * DMA come from the shared WDM glue (src/wdm).
 */
#include "brand.h"
#include "vwdm.h"
#include "virtio/virtio_rng.h"
#include "rng_logic.h"
#include "rng_public.h"

#define RNG_TAG 'gnRV'

struct rng_dev {
	struct vwdm_dev wd;            /* first: the glue finds itself here */
	struct vwdm_queue q;           /* q.lock guards q.vq and st */
	struct rng_state st;
	void *buf;
	uint64_t buf_pa;
	IO_CSQ csq;
	KSPIN_LOCK csq_lock;
	LIST_ENTRY pending;            /* under csq_lock */
	volatile LONG running;         /* started and the queue is live */
};
_Static_assert(offsetof(struct rng_dev, wd) == 0, "vwdm finds the device at the extension start");

static const GUID rng_interface_guid = VDPRNG_INTERFACE_GUID_INIT;

DRIVER_INITIALIZE DriverEntry;

static struct rng_dev *rng_from(PDEVICE_OBJECT fdo)
{
	return fdo->DeviceExtension;
}

/* ------------------------------------------------------------------ cancel-safe queue */

static VOID NTAPI rng_csq_insert(PIO_CSQ csq, PIRP irp)
{
	struct rng_dev *d = CONTAINING_RECORD(csq, struct rng_dev, csq);

	InsertTailList(&d->pending, &irp->Tail.Overlay.ListEntry);
}

static VOID NTAPI rng_csq_remove(PIO_CSQ csq, PIRP irp)
{
	UNREFERENCED_PARAMETER(csq);
	RemoveEntryList(&irp->Tail.Overlay.ListEntry);
}

/* PeekContext, when set, is a FILE_OBJECT: IRP_MJ_CLEANUP flushes its reads. */
static PIRP NTAPI rng_csq_peek(PIO_CSQ csq, PIRP irp, PVOID peek)
{
	struct rng_dev *d = CONTAINING_RECORD(csq, struct rng_dev, csq);
	PLIST_ENTRY e = irp ? irp->Tail.Overlay.ListEntry.Flink : d->pending.Flink;

	for (; e != &d->pending; e = e->Flink) {
		PIRP cand = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		if (peek == NULL || IoGetCurrentIrpStackLocation(cand)->FileObject == peek)
			return cand;
	}
	return NULL;
}

static VOID NTAPI rng_csq_lock(PIO_CSQ csq, PKIRQL irql)
{
	struct rng_dev *d = CONTAINING_RECORD(csq, struct rng_dev, csq);

	KeAcquireSpinLock(&d->csq_lock, irql);
}

static VOID NTAPI rng_csq_unlock(PIO_CSQ csq, KIRQL irql)
{
	struct rng_dev *d = CONTAINING_RECORD(csq, struct rng_dev, csq);

	KeReleaseSpinLock(&d->csq_lock, irql);
}

static VOID NTAPI rng_csq_cancelled(PIO_CSQ csq, PIRP irp)
{
	struct rng_dev *d = CONTAINING_RECORD(csq, struct rng_dev, csq);

	vwdm_complete(irp, STATUS_CANCELLED, 0);
	IoReleaseRemoveLock(&d->wd.remove_lock, irp);
}

static bool rng_have_waiters(struct rng_dev *d)
{
	KIRQL irql;
	bool any;

	KeAcquireSpinLock(&d->csq_lock, &irql);
	any = !IsListEmpty(&d->pending);
	KeReleaseSpinLock(&d->csq_lock, irql);
	return any;
}

static void rng_flush(struct rng_dev *d, PFILE_OBJECT fo, NTSTATUS status)
{
	PIRP irp;

	while ((irp = IoCsqRemoveNextIrp(&d->csq, fo)) != NULL) {
		vwdm_complete(irp, status, 0);
		IoReleaseRemoveLock(&d->wd.remove_lock, irp);
	}
}

/* ------------------------------------------------------------------ the device */

/*
 * Collect completions, satisfy waiting reads, repost the buffer. Runs from
 * the DPC and after a read is queued, at <= DISPATCH_LEVEL.
 */
static void rng_service(struct rng_dev *d)
{
	LIST_ENTRY done;
	NTSTATUS fail = STATUS_SUCCESS;
	bool kick = false;
	KIRQL irql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&d->q.lock, &irql);
	if (!d->running) {
		KeReleaseSpinLock(&d->q.lock, irql);
		return;
	}
	for (;;) {
		void *cookie;
		uint32_t len;
		int rc = vq_get_used(d->q.vq, &cookie, &len);

		if (rc == VIRTIO_ENOENT)
			break;
		if (rc != VIRTIO_OK || cookie != d->buf) {
			vwdm_log(&d->wd, DPFLTR_ERROR_LEVEL, "request queue broken\n");
			fail = STATUS_IO_DEVICE_ERROR;
			d->running = 0;
			break;
		}
		if (rng_complete(&d->st, len) == RNG_EDEVICE)
			fail = STATUS_IO_DEVICE_ERROR;
	}
	while (fail == STATUS_SUCCESS && d->st.avail) {
		PIRP irp = IoCsqRemoveNextIrp(&d->csq, NULL);
		PIO_STACK_LOCATION sl;
		uint32_t off, n;

		if (irp == NULL)
			break;
		sl = IoGetCurrentIrpStackLocation(irp);
		n = rng_take(&d->st, sl->Parameters.Read.Length, &off);
		RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, (uint8_t *)d->buf + off, n);
		irp->IoStatus.Status = STATUS_SUCCESS;
		irp->IoStatus.Information = n;
		InsertTailList(&done, &irp->Tail.Overlay.ListEntry);
	}
	if (d->running && rng_need_post(&d->st) && rng_have_waiters(d)) {
		struct vq_sg sg;
		uint32_t len;

		if (rng_post(&d->st, &len) == RNG_OK) {
			sg.addr = d->buf_pa;
			sg.len = len;
			if (vq_add(d->q.vq, &sg, 0, 1, d->buf) == VIRTIO_OK)
				kick = vq_kick_prepare(d->q.vq);
			else
				rng_reset(&d->st);
		}
	}
	/* Notified under the lock: a concurrent stop cannot free the queue meanwhile. */
	if (kick)
		vq_notify(d->q.vq);
	KeReleaseSpinLock(&d->q.lock, irql);

	while (!IsListEmpty(&done)) {
		PIRP irp = CONTAINING_RECORD(RemoveHeadList(&done), IRP, Tail.Overlay.ListEntry);

		IoCompleteRequest(irp, IO_NO_INCREMENT);
		IoReleaseRemoveLock(&d->wd.remove_lock, irp);
	}
	if (fail != STATUS_SUCCESS)
		rng_flush(d, NULL, fail);
}

static void rng_dpc(struct vwdm_dev *wd, ULONG pending)
{
	struct rng_dev *d = CONTAINING_RECORD(wd, struct rng_dev, wd);

	if (pending & VWDM_PEND_QUEUE)
		rng_service(d);
}

static void rng_teardown(struct rng_dev *d)
{
	KIRQL irql;

	KeAcquireSpinLock(&d->q.lock, &irql);
	d->running = 0;
	KeReleaseSpinLock(&d->q.lock, irql);
	vwdm_interface_enable(&d->wd, false);
	if (d->wd.vdev_ok)
		virtio_reset(&d->wd.vdev);
	vwdm_disconnect_interrupts(&d->wd);
	if (d->q.vq)
		while (vq_detach_unused(d->q.vq) != NULL)
			;
	vwdm_queue_free(&d->wd, &d->q);
	if (d->buf)
		vwdm_dma_free(&d->wd, RNG_BUF_SIZE, d->buf, d->buf_pa);
	d->buf = NULL;
	vwdm_dma_release(&d->wd);
	vwdm_unmap_resources(&d->wd);
	rng_reset(&d->st);
	rng_flush(d, NULL, STATUS_DEVICE_NOT_READY);
}

static NTSTATUS rng_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	struct rng_dev *d = CONTAINING_RECORD(wd, struct rng_dev, wd);
	uint16_t cfg_vec, q_vec;
	NTSTATUS status;
	int rc;

	status = vwdm_virtio_start(wd, raw, tr, VIRTIO_ID_RNG, RNG_BUF_SIZE, rng_dpc, 0);
	if (!NT_SUCCESS(status))
		goto fail;
	vwdm_vectors(wd, 1, &cfg_vec, &q_vec);
	if (cfg_vec != VIRTIO_MSI_NO_VECTOR && virtio_set_config_vector(&wd->vdev, cfg_vec) != VIRTIO_OK) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto fail;
	}
	/* The ring never holds more than the one buffer. */
	status = vwdm_queue_create(wd, &d->q, VIRTIO_RNG_QUEUE_REQUEST, q_vec, 16);
	if (!NT_SUCCESS(status))
		goto fail;
	d->buf = vwdm_dma_alloc(wd, RNG_BUF_SIZE, &d->buf_pa);
	if (d->buf == NULL) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto fail;
	}
	rng_init(&d->st, RNG_BUF_SIZE);
	rc = virtio_driver_ok(&wd->vdev);
	if (rc != VIRTIO_OK) {
		status = vwdm_status(rc);
		goto fail;
	}
	d->running = 1;
	vwdm_interrupts_ready(wd, true);
	vwdm_interface_enable(wd, true);
	return STATUS_SUCCESS;
fail:
	if (wd->vdev_ok)
		virtio_fail(&wd->vdev);
	rng_teardown(d);
	return status;
}

static void rng_stop(struct vwdm_dev *wd)
{
	rng_teardown(CONTAINING_RECORD(wd, struct rng_dev, wd));
}

static const struct vwdm_pnp_ops rng_pnp_ops = {
	.start = rng_start,
	.stop = rng_stop,
};

/* ------------------------------------------------------------------ dispatch */

static NTSTATUS NTAPI rng_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo)
{
	struct vwdm_dev *wd;
	struct rng_dev *d;
	NTSTATUS status;

	status = vwdm_add_device(driver, pdo, sizeof(struct rng_dev), FILE_DEVICE_UNKNOWN,
				 VDP_BRAND_VDPRNG_FILE ": ", &rng_pnp_ops, &wd);
	if (!NT_SUCCESS(status))
		return status;
	d = CONTAINING_RECORD(wd, struct rng_dev, wd);
	KeInitializeSpinLock(&d->q.lock);
	KeInitializeSpinLock(&d->csq_lock);
	InitializeListHead(&d->pending);
	status = IoCsqInitialize(&d->csq, rng_csq_insert, rng_csq_remove, rng_csq_peek,
				 rng_csq_lock, rng_csq_unlock, rng_csq_cancelled);
	if (NT_SUCCESS(status))
		status = vwdm_interface_register(wd, &rng_interface_guid);
	if (!NT_SUCCESS(status)) {
		IoDetachDevice(wd->lower);
		IoDeleteDevice(wd->self);
		return status;
	}
	wd->self->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

static NTSTATUS NTAPI rng_dispatch_create_close(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct rng_dev *d = rng_from(fdo);
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&d->wd.remove_lock, irp);
	if (!NT_SUCCESS(status))
		return vwdm_complete(irp, status, 0);
	if (sl->MajorFunction == IRP_MJ_CREATE && d->wd.state != VWDM_STARTED)
		status = STATUS_DEVICE_NOT_READY;
	/* No names below the device: opening "\Device\X\foo" is refused. */
	else if (sl->MajorFunction == IRP_MJ_CREATE && sl->FileObject &&
		 sl->FileObject->FileName.Length != 0)
		status = STATUS_OBJECT_NAME_NOT_FOUND;
	else if (sl->MajorFunction == IRP_MJ_CLEANUP)
		rng_flush(d, sl->FileObject, STATUS_CANCELLED);
	vwdm_complete(irp, status, 0);
	IoReleaseRemoveLock(&d->wd.remove_lock, irp);
	return status;
}

static NTSTATUS NTAPI rng_dispatch_read(PDEVICE_OBJECT fdo, PIRP irp)
{
	struct rng_dev *d = rng_from(fdo);
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&d->wd.remove_lock, irp);
	if (!NT_SUCCESS(status))
		return vwdm_complete(irp, status, 0);
	if (!d->running || d->wd.state != VWDM_STARTED)
		status = STATUS_DEVICE_NOT_READY;
	else if (sl->Parameters.Read.Length == 0)
		status = STATUS_SUCCESS;
	else if (irp->AssociatedIrp.SystemBuffer == NULL)
		status = STATUS_INVALID_USER_BUFFER;
	else
		status = STATUS_PENDING;
	if (status != STATUS_PENDING) {
		vwdm_complete(irp, status, 0);
		IoReleaseRemoveLock(&d->wd.remove_lock, irp);
		return status;
	}
	/* The remove lock stays held until the read completes or is cancelled. */
	IoCsqInsertIrp(&d->csq, irp, NULL);
	rng_service(d);
	return STATUS_PENDING;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(registry_path);

	vwdm_driver_init(driver, rng_add_device);
	driver->MajorFunction[IRP_MJ_CREATE] = rng_dispatch_create_close;
	driver->MajorFunction[IRP_MJ_CLOSE] = rng_dispatch_create_close;
	driver->MajorFunction[IRP_MJ_CLEANUP] = rng_dispatch_create_close;
	driver->MajorFunction[IRP_MJ_READ] = rng_dispatch_read;
	return STATUS_SUCCESS;
}
