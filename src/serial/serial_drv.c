/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpserial: WDM bus driver for virtio-console (virtio 1.2 5.3).
 *
 * The FDO owns the device: all queues are set up at start, the control
 * receive queue is kept full, and every control message is copied out in
 * the DPC and parsed at PASSIVE_LEVEL by a work item (serial_ctrl.c checks
 * it). Each present port becomes a raw child PDO, created when the PnP
 * manager asks for BusRelations; its reads and writes go straight to the
 * port's queues through small DMA bounce buffers. One spin lock (the bus
 * lock) guards the queues, the port table and all pending IRPs.
 */
#include "brand.h"
#include "vwdm.h"
#include "serial_ctrl.h"
#include "serial_public.h"

#define SER_TAG          'reSV'
#define SER_PDO_MAGIC    0x50536456u
#define SER_BUF          4096u
#define SER_RX_BUFS      4u
#define SER_TX_BUFS      4u
#define SER_CTRL_RX      16u
#define SER_CTRL_TX      16u
#define SER_MSGS         64u
#define SER_QSIZE        64u
#define SER_CQ_IN        2u
#define SER_CQ_OUT       3u

struct ser_buf {
	void *va;
	uint64_t pa;
	uint32_t len;                  /* rx: bytes received; tx: bytes sent */
	uint32_t off;                  /* rx: bytes already read */
	bool busy;                     /* owned by the device */
	PIRP irp;                      /* tx: the write it carries */
};

struct ser_pdo;

struct ser_port_io {
	struct ser_buf rx[SER_RX_BUFS];
	struct ser_buf tx[SER_TX_BUFS];
	uint8_t fifo[SER_RX_BUFS];     /* filled rx buffers in arrival order */
	uint32_t fifo_head, fifo_count;
	bool allocated;
	bool ready;                    /* present and its queues are serviced */
	LIST_ENTRY reads;
	LIST_ENTRY writes;
	struct ser_pdo *pdo;           /* current child, NULL until enumerated */
};

struct ser_dev {
	struct vwdm_dev wd;            /* first: the glue finds itself here */
	KSPIN_LOCK lock;
	struct ser_bus bus;
	bool multiport;
	uint16_t nq;
	struct vwdm_queue *q;
	struct ser_buf crx[SER_CTRL_RX];
	struct ser_buf ctx[SER_CTRL_TX];
	uint8_t msg[SER_MSGS][SER_CTRL_BUF_LEN];
	uint32_t msg_len[SER_MSGS];
	uint32_t msg_head, msg_count, msg_dropped;
	struct ser_port_io port[SER_MAX_PORTS];
	LIST_ENTRY children;           /* every PDO not yet deleted */
	KEVENT if_lock;                /* a mutex (synchronization event) for the children's interfaces */
	struct vwdm_worker worker;     /* control messages at PASSIVE_LEVEL */
	volatile LONG running;
};

struct ser_pdo {
	uint32_t magic;                /* tells a child from the FDO in dispatch */
	struct ser_dev *bus;
	PDEVICE_OBJECT self;
	LIST_ENTRY link;
	uint32_t port;
	bool gone;                     /* removed by the host: no longer reported */
	bool started;
	LONG opens;
	UNICODE_STRING if_name;
	bool if_registered;
	bool if_named;                 /* registered with the host's port name */
};

static const GUID ser_port_guid = VDPSERIAL_PORT_INTERFACE_GUID_INIT;

DRIVER_INITIALIZE DriverEntry;

static void ser_kick_worker(struct ser_dev *d);
static void ser_publish_name(struct ser_dev *d, uint32_t port);

/* ------------------------------------------------------------------ queue helpers (bus lock held) */

static void ser_post_in(struct ser_dev *d, uint16_t qi, struct ser_buf *b, uint32_t len)
{
	struct vq_sg sg = { b->pa, len };

	if (qi >= d->nq || d->q[qi].vq == NULL)
		return;
	b->len = 0;
	b->off = 0;
	if (vq_add(d->q[qi].vq, &sg, 0, 1, b) == VIRTIO_OK) {
		b->busy = true;
		if (vq_kick_prepare(d->q[qi].vq))
			vq_notify(d->q[qi].vq);
	}
}

static bool ser_post_out(struct ser_dev *d, uint16_t qi, struct ser_buf *b, uint32_t len)
{
	struct vq_sg sg = { b->pa, len };

	if (qi >= d->nq || d->q[qi].vq == NULL || vq_add(d->q[qi].vq, &sg, 1, 0, b) != VIRTIO_OK)
		return false;
	b->busy = true;
	b->len = len;
	if (vq_kick_prepare(d->q[qi].vq))
		vq_notify(d->q[qi].vq);
	return true;
}

static void ser_send_ctrl(struct ser_dev *d, uint32_t port, uint16_t event, uint16_t value)
{
	unsigned int i;

	if (!d->multiport)
		return;
	for (i = 0; i < SER_CTRL_TX; i++) {
		struct ser_buf *b = &d->ctx[i];

		if (b->busy || b->va == NULL)
			continue;
		ser_ctrl_build(b->va, port, event, value);
		if (!ser_post_out(d, SER_CQ_OUT, b, SER_CTRL_MSG_LEN))
			break;
		return;
	}
	vwdm_log(&d->wd, DPFLTR_WARNING_LEVEL, "control message %u for port %u dropped\n",
		 (unsigned)event, (unsigned)port);
}

/* ------------------------------------------------------------------ IRP queues (bus lock held) */

static VOID NTAPI ser_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
	struct ser_pdo *p = dev->DeviceExtension;
	KIRQL irql;

	IoReleaseCancelSpinLock(irp->CancelIrql);
	KeAcquireSpinLock(&p->bus->lock, &irql);
	RemoveEntryList(&irp->Tail.Overlay.ListEntry);
	KeReleaseSpinLock(&p->bus->lock, irql);
	vwdm_complete(irp, STATUS_CANCELLED, 0);
}

/* Queue irp (pending) unless it is already cancelled; false: complete it as cancelled. */
static bool ser_enqueue(LIST_ENTRY *list, PIRP irp)
{
	IoMarkIrpPending(irp);
	InsertTailList(list, &irp->Tail.Overlay.ListEntry);
	IoSetCancelRoutine(irp, ser_cancel);
	if (irp->Cancel && IoSetCancelRoutine(irp, NULL) != NULL) {
		RemoveEntryList(&irp->Tail.Overlay.ListEntry);
		return false;
	}
	return true;
}

/* Next IRP of list whose cancel routine we could take back, else NULL. */
static PIRP ser_dequeue(LIST_ENTRY *list)
{
	while (!IsListEmpty(list)) {
		PLIST_ENTRY e = RemoveHeadList(list);
		PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		if (IoSetCancelRoutine(irp, NULL) != NULL)
			return irp;
		/* Being cancelled: let ser_cancel's RemoveEntryList find a valid entry. */
		InitializeListHead(e);
	}
	return NULL;
}

static PIRP ser_peek(LIST_ENTRY *list)
{
	return IsListEmpty(list) ? NULL : CONTAINING_RECORD(list->Flink, IRP, Tail.Overlay.ListEntry);
}

static void ser_done(LIST_ENTRY *done, PIRP irp, NTSTATUS status, ULONG_PTR info)
{
	irp->IoStatus.Status = status;
	irp->IoStatus.Information = info;
	InsertTailList(done, &irp->Tail.Overlay.ListEntry);
}

static void ser_complete_all(LIST_ENTRY *done)
{
	while (!IsListEmpty(done)) {
		PIRP irp = CONTAINING_RECORD(RemoveHeadList(done), IRP, Tail.Overlay.ListEntry);

		IoCompleteRequest(irp, IO_NO_INCREMENT);
	}
}

/* Fail everything waiting on a port (removal, stop). */
static void ser_fail_port(struct ser_port_io *io, LIST_ENTRY *done, NTSTATUS status)
{
	unsigned int i;
	PIRP irp;

	while ((irp = ser_dequeue(&io->reads)) != NULL)
		ser_done(done, irp, status, 0);
	while ((irp = ser_dequeue(&io->writes)) != NULL)
		ser_done(done, irp, status, 0);
	/* Writes the device still holds: the buffer stays busy until reset. */
	for (i = 0; i < SER_TX_BUFS; i++)
		if (io->tx[i].irp) {
			ser_done(done, io->tx[i].irp, status, 0);
			io->tx[i].irp = NULL;
		}
}

/* Move data between waiting IRPs and the port's buffers. */
static void ser_service_port(struct ser_dev *d, uint32_t n, LIST_ENTRY *done)
{
	struct ser_port_io *io = &d->port[n];
	unsigned int i;
	PIRP irp;

	if (!io->ready)
		return;
	while (io->fifo_count && ser_peek(&io->reads)) {
		struct ser_buf *b = &io->rx[io->fifo[io->fifo_head]];
		PIO_STACK_LOCATION sl;
		uint32_t len;

		irp = ser_dequeue(&io->reads);
		if (irp == NULL)
			break;
		sl = IoGetCurrentIrpStackLocation(irp);
		len = sl->Parameters.Read.Length;
		if (len > b->len - b->off)
			len = b->len - b->off;
		RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, (uint8_t *)b->va + b->off, len);
		b->off += len;
		ser_done(done, irp, STATUS_SUCCESS, len);
		if (b->off == b->len) {
			io->fifo_head = (io->fifo_head + 1) % SER_RX_BUFS;
			io->fifo_count--;
			ser_post_in(d, ser_rxq(n), b, SER_BUF);
		}
	}
	for (i = 0; i < SER_TX_BUFS && ser_peek(&io->writes); i++) {
		struct ser_buf *b = &io->tx[i];
		PIO_STACK_LOCATION sl;
		uint32_t len;

		if (b->busy)
			continue;
		irp = ser_dequeue(&io->writes);
		if (irp == NULL)
			break;
		sl = IoGetCurrentIrpStackLocation(irp);
		len = sl->Parameters.Write.Length > SER_BUF ? SER_BUF : sl->Parameters.Write.Length;
		RtlCopyMemory(b->va, irp->AssociatedIrp.SystemBuffer, len);
		if (ser_post_out(d, ser_txq(n), b, len))
			b->irp = irp;
		else
			ser_done(done, irp, STATUS_INSUFFICIENT_RESOURCES, 0);
	}
}

/* ------------------------------------------------------------------ interrupt side */

static void ser_drain_port(struct ser_dev *d, uint32_t n, LIST_ENTRY *done)
{
	struct ser_port_io *io = &d->port[n];
	void *cookie;
	uint32_t len;

	if (!io->allocated)
		return;
	while (ser_rxq(n) < d->nq && vq_get_used(d->q[ser_rxq(n)].vq, &cookie, &len) == VIRTIO_OK) {
		struct ser_buf *b = cookie;
		uint32_t i = (uint32_t)(b - io->rx);

		if (b < io->rx || i >= SER_RX_BUFS || !b->busy)
			continue;                 /* not ours: ignore */
		b->busy = false;
		if (len == 0 || len > SER_BUF || !io->ready) {
			if (io->ready)
				ser_post_in(d, ser_rxq(n), b, SER_BUF);
			continue;
		}
		b->len = len;
		b->off = 0;
		io->fifo[(io->fifo_head + io->fifo_count) % SER_RX_BUFS] = (uint8_t)i;
		io->fifo_count++;
	}
	while (ser_txq(n) < d->nq && vq_get_used(d->q[ser_txq(n)].vq, &cookie, &len) == VIRTIO_OK) {
		struct ser_buf *b = cookie;
		uint32_t i = (uint32_t)(b - io->tx);

		if (b < io->tx || i >= SER_TX_BUFS || !b->busy)
			continue;
		b->busy = false;
		if (b->irp)
			ser_done(done, b->irp, STATUS_SUCCESS, b->len);
		b->irp = NULL;
	}
	ser_service_port(d, n, done);
}

static void ser_dpc(struct vwdm_dev *wd, ULONG pending)
{
	struct ser_dev *d = CONTAINING_RECORD(wd, struct ser_dev, wd);
	LIST_ENTRY done;
	bool msgs = false;
	void *cookie;
	uint32_t len, n;

	if (!(pending & VWDM_PEND_QUEUE))
		return;
	InitializeListHead(&done);
	KeAcquireSpinLockAtDpcLevel(&d->lock);
	if (!d->running) {
		KeReleaseSpinLockFromDpcLevel(&d->lock);
		return;
	}
	if (d->multiport) {
		while (vq_get_used(d->q[SER_CQ_IN].vq, &cookie, &len) == VIRTIO_OK) {
			struct ser_buf *b = cookie;

			if (b < d->crx || b >= d->crx + SER_CTRL_RX || !b->busy)
				continue;
			b->busy = false;
			if (len > SER_CTRL_BUF_LEN)
				len = 0;             /* impossible length: drop the message */
			if (len && d->msg_count < SER_MSGS) {
				uint32_t slot = (d->msg_head + d->msg_count) % SER_MSGS;

				RtlCopyMemory(d->msg[slot], b->va, len);
				d->msg_len[slot] = len;
				d->msg_count++;
				msgs = true;
			} else if (len) {
				d->msg_dropped++;
			}
			ser_post_in(d, SER_CQ_IN, b, SER_CTRL_BUF_LEN);
		}
		while (vq_get_used(d->q[SER_CQ_OUT].vq, &cookie, &len) == VIRTIO_OK) {
			struct ser_buf *b = cookie;

			if (b >= d->ctx && b < d->ctx + SER_CTRL_TX)
				b->busy = false;
		}
	}
	for (n = 0; n < d->bus.nr_ports; n++)
		ser_drain_port(d, n, &done);
	KeReleaseSpinLockFromDpcLevel(&d->lock);
	ser_complete_all(&done);
	if (msgs)
		ser_kick_worker(d);
}

/* ------------------------------------------------------------------ ports */

static void ser_port_free(struct ser_dev *d, struct ser_port_io *io)
{
	unsigned int i;

	for (i = 0; i < SER_RX_BUFS; i++)
		vwdm_dma_free(&d->wd, SER_BUF, io->rx[i].va, io->rx[i].pa);
	for (i = 0; i < SER_TX_BUFS; i++)
		vwdm_dma_free(&d->wd, SER_BUF, io->tx[i].va, io->tx[i].pa);
	RtlZeroMemory(io->rx, sizeof(io->rx));
	RtlZeroMemory(io->tx, sizeof(io->tx));
	io->allocated = false;
	io->ready = false;
	io->fifo_count = 0;
}

/* PASSIVE: buffers for port n (kept across hot remove/add: the device may hold them). */
static bool ser_port_setup(struct ser_dev *d, uint32_t n)
{
	struct ser_port_io *io = &d->port[n];
	unsigned int i;
	KIRQL irql;

	if (!io->allocated) {
		for (i = 0; i < SER_RX_BUFS; i++)
			io->rx[i].va = vwdm_dma_alloc(&d->wd, SER_BUF, &io->rx[i].pa);
		for (i = 0; i < SER_TX_BUFS; i++)
			io->tx[i].va = vwdm_dma_alloc(&d->wd, SER_BUF, &io->tx[i].pa);
		for (i = 0; i < SER_RX_BUFS; i++)
			if (io->rx[i].va == NULL || (i < SER_TX_BUFS && io->tx[i].va == NULL)) {
				ser_port_free(d, io);
				return false;
			}
		io->allocated = true;
	}
	KeAcquireSpinLock(&d->lock, &irql);
	io->ready = true;
	io->fifo_head = io->fifo_count = 0;
	for (i = 0; i < SER_RX_BUFS; i++)
		if (!io->rx[i].busy)
			ser_post_in(d, ser_rxq(n), &io->rx[i], SER_BUF);
	KeReleaseSpinLock(&d->lock, irql);
	return true;
}

static void ser_work(void *ctx)
{
	struct ser_dev *d = ctx;
	bool rescan = false;

	for (;;) {
		uint8_t m[SER_CTRL_BUF_LEN];
		enum ser_action act;
		LIST_ENTRY done;
		uint32_t len, port;
		KIRQL irql;

		InitializeListHead(&done);
		KeAcquireSpinLock(&d->lock, &irql);
		if (!d->running || d->msg_count == 0) {
			KeReleaseSpinLock(&d->lock, irql);
			break;
		}
		len = d->msg_len[d->msg_head];
		RtlCopyMemory(m, d->msg[d->msg_head], len);
		d->msg_head = (d->msg_head + 1) % SER_MSGS;
		d->msg_count--;
		act = ser_ctrl_parse(&d->bus, m, len, &port);
		if (act == SER_ACT_REMOVE) {
			d->port[port].ready = false;
			ser_fail_port(&d->port[port], &done, STATUS_DEVICE_NOT_CONNECTED);
			if (d->port[port].pdo)
				d->port[port].pdo->gone = true;
			rescan = true;
		} else if (act == SER_ACT_CONSOLE) {
			ser_send_ctrl(d, port, VIRTIO_CONSOLE_PORT_OPEN, 1);
		}
		KeReleaseSpinLock(&d->lock, irql);
		ser_complete_all(&done);
		if (act == SER_ACT_NAME)
			ser_publish_name(d, port);
		if (act == SER_ACT_ADD) {
			bool ok = ser_port_setup(d, port);

			KeAcquireSpinLock(&d->lock, &irql);
			ser_send_ctrl(d, port, VIRTIO_CONSOLE_PORT_READY, ok ? 1 : 0);
			KeReleaseSpinLock(&d->lock, irql);
			rescan = rescan || ok;
		}
	}
	if (rescan && d->running)
		IoInvalidateDeviceRelations(d->wd.pdo, BusRelations);
}

static void ser_kick_worker(struct ser_dev *d)
{
	if (d->running)
		vwdm_worker_kick(&d->worker);
}

/* ------------------------------------------------------------------ FDO start / stop */

static void ser_teardown(struct ser_dev *d)
{
	LIST_ENTRY done;
	unsigned int i;
	KIRQL irql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&d->lock, &irql);
	InterlockedExchange(&d->running, 0);
	for (i = 0; i < SER_MAX_PORTS; i++) {
		d->port[i].ready = false;
		ser_fail_port(&d->port[i], &done, STATUS_DEVICE_NOT_CONNECTED);
	}
	KeReleaseSpinLock(&d->lock, irql);
	ser_complete_all(&done);
	vwdm_worker_wait_idle(&d->worker);
	if (d->wd.vdev_ok)
		virtio_reset(&d->wd.vdev);
	vwdm_disconnect_interrupts(&d->wd);
	if (d->q) {
		for (i = 0; i < d->nq; i++) {
			if (d->q[i].vq)
				while (vq_detach_unused(d->q[i].vq) != NULL)
					;
			vwdm_queue_free(&d->wd, &d->q[i]);
		}
		ExFreePoolWithTag(d->q, SER_TAG);
		d->q = NULL;
	}
	for (i = 0; i < SER_MAX_PORTS; i++)
		ser_port_free(d, &d->port[i]);
	for (i = 0; i < SER_CTRL_RX; i++)
		vwdm_dma_free(&d->wd, SER_CTRL_BUF_LEN, d->crx[i].va, d->crx[i].pa);
	for (i = 0; i < SER_CTRL_TX; i++)
		vwdm_dma_free(&d->wd, SER_CTRL_MSG_LEN, d->ctx[i].va, d->ctx[i].pa);
	RtlZeroMemory(d->crx, sizeof(d->crx));
	RtlZeroMemory(d->ctx, sizeof(d->ctx));
	d->msg_count = 0;
	vwdm_dma_release(&d->wd);
	vwdm_unmap_resources(&d->wd);
}

static NTSTATUS ser_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST tr)
{
	struct ser_dev *d = CONTAINING_RECORD(wd, struct ser_dev, wd);
	uint16_t cfg_vec, *vec = NULL;
	uint32_t max_ports = 0;
	NTSTATUS status;
	unsigned int i;
	KIRQL irql;
	int rc;

	d->q = NULL;
	d->nq = 0;
	d->msg_head = d->msg_count = 0;
	status = vwdm_virtio_start(wd, raw, tr, VIRTIO_ID_CONSOLE, SER_BUF, ser_dpc, 1ull << VIRTIO_CONSOLE_F_MULTIPORT);
	if (!NT_SUCCESS(status))
		goto fail;
	d->multiport = virtio_has_feature(&wd->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
	if (d->multiport &&
	    virtio_config_read32(&wd->vdev, offsetof(struct virtio_console_config, max_nr_ports),
				 &max_ports) != VIRTIO_OK) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto fail;
	}
	if (ser_bus_init(&d->bus, d->multiport, max_ports) != SER_OK) {
		vwdm_log(wd, DPFLTR_ERROR_LEVEL, "max_nr_ports %u refused\n", (unsigned)max_ports);
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto fail;
	}
	d->nq = ser_num_queues(&d->bus, d->multiport);
	d->q = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*d->q) * d->nq, SER_TAG);
	vec = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*vec) * d->nq, SER_TAG);
	if (d->q == NULL || vec == NULL) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto fail;
	}
	RtlZeroMemory(d->q, sizeof(*d->q) * d->nq);
	vwdm_vectors(wd, d->nq, &cfg_vec, vec);
	if (cfg_vec != VIRTIO_MSI_NO_VECTOR && virtio_set_config_vector(&wd->vdev, cfg_vec) != VIRTIO_OK) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto fail;
	}
	for (i = 0; i < d->nq; i++) {
		status = vwdm_queue_create(wd, &d->q[i], (uint16_t)i, vec[i], SER_QSIZE);
		if (!NT_SUCCESS(status))
			goto fail;
	}
	ExFreePoolWithTag(vec, SER_TAG);
	vec = NULL;
	if (d->multiport) {
		for (i = 0; i < SER_CTRL_RX; i++)
			if ((d->crx[i].va = vwdm_dma_alloc(wd, SER_CTRL_BUF_LEN, &d->crx[i].pa)) == NULL)
				status = STATUS_INSUFFICIENT_RESOURCES;
		for (i = 0; i < SER_CTRL_TX; i++)
			if ((d->ctx[i].va = vwdm_dma_alloc(wd, SER_CTRL_MSG_LEN, &d->ctx[i].pa)) == NULL)
				status = STATUS_INSUFFICIENT_RESOURCES;
		if (!NT_SUCCESS(status))
			goto fail;
	}
	rc = virtio_driver_ok(&wd->vdev);
	if (rc != VIRTIO_OK) {
		status = vwdm_status(rc);
		goto fail;
	}
	InterlockedExchange(&d->running, 1);
	vwdm_interrupts_ready(wd, true);
	if (!d->multiport) {
		/* Port 0 exists from the start; it is the console. */
		if (!ser_port_setup(d, 0)) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			goto fail;
		}
		IoInvalidateDeviceRelations(wd->pdo, BusRelations);
		return STATUS_SUCCESS;
	}
	KeAcquireSpinLock(&d->lock, &irql);
	for (i = 0; i < SER_CTRL_RX; i++)
		ser_post_in(d, SER_CQ_IN, &d->crx[i], SER_CTRL_BUF_LEN);
	ser_send_ctrl(d, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	KeReleaseSpinLock(&d->lock, irql);
	return STATUS_SUCCESS;
fail:
	if (vec)
		ExFreePoolWithTag(vec, SER_TAG);
	if (wd->vdev_ok)
		virtio_fail(&wd->vdev);
	ser_teardown(d);
	return status;
}

static void ser_stop(struct vwdm_dev *wd)
{
	struct ser_dev *d = CONTAINING_RECORD(wd, struct ser_dev, wd);
	PLIST_ENTRY e;

	ser_teardown(d);
	/* The children lose their device: they stay until PnP removes them. */
	for (e = d->children.Flink; e != &d->children; e = e->Flink)
		CONTAINING_RECORD(e, struct ser_pdo, link)->gone = true;
}

/* ------------------------------------------------------------------ children */

static NTSTATUS ser_create_pdo(struct ser_dev *d, uint32_t n)
{
	PDEVICE_OBJECT pdo;
	struct ser_pdo *p;
	NTSTATUS status;
	KIRQL irql;

	status = IoCreateDevice(d->wd.self->DriverObject, sizeof(*p), NULL, FILE_DEVICE_SERIAL_PORT,
				FILE_AUTOGENERATED_DEVICE_NAME | FILE_DEVICE_SECURE_OPEN, FALSE, &pdo);
	if (!NT_SUCCESS(status))
		return status;
	p = pdo->DeviceExtension;
	RtlZeroMemory(p, sizeof(*p));
	p->magic = SER_PDO_MAGIC;
	p->bus = d;
	p->self = pdo;
	p->port = n;
	pdo->Flags |= DO_BUFFERED_IO | DO_POWER_PAGABLE;
	pdo->Flags &= ~DO_DEVICE_INITIALIZING;
	KeAcquireSpinLock(&d->lock, &irql);
	InsertTailList(&d->children, &p->link);
	d->port[n].pdo = p;
	KeReleaseSpinLock(&d->lock, irql);
	return STATUS_SUCCESS;
}

/* IRP_MN_QUERY_DEVICE_RELATIONS/BusRelations on the FDO, PASSIVE_LEVEL. */
static NTSTATUS ser_bus_relations(struct vwdm_dev *wd, PIRP irp)
{
	struct ser_dev *d = CONTAINING_RECORD(wd, struct ser_dev, wd);
	PDEVICE_RELATIONS old = (PDEVICE_RELATIONS)irp->IoStatus.Information, rel;
	ULONG count = old ? old->Count : 0, i, k = 0;
	uint32_t n;

	bool want[SER_MAX_PORTS];
	KIRQL irql;

	/* Ports that appeared get a child; children of removed ports drop out. */
	KeAcquireSpinLock(&d->lock, &irql);
	for (n = 0; n < SER_MAX_PORTS; n++) {
		struct ser_port_io *io = &d->port[n];

		if (io->pdo && io->pdo->gone)
			io->pdo = NULL;
		want[n] = d->running && io->ready && io->pdo == NULL;
	}
	KeReleaseSpinLock(&d->lock, irql);
	for (n = 0; n < SER_MAX_PORTS; n++)
		if (want[n])
			ser_create_pdo(d, n);
	KeAcquireSpinLock(&d->lock, &irql);
	for (n = 0; n < SER_MAX_PORTS; n++)
		if (d->port[n].pdo)
			count++;
	KeReleaseSpinLock(&d->lock, irql);
	rel = ExAllocatePoolWithTag(PagedPool, sizeof(*rel) + sizeof(PDEVICE_OBJECT) * count, SER_TAG);
	if (rel == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	if (old) {
		for (i = 0; i < old->Count; i++)
			rel->Objects[k++] = old->Objects[i];
		ExFreePool(old);
	}
	for (n = 0; n < SER_MAX_PORTS; n++)
		if (d->port[n].pdo) {
			ObReferenceObject(d->port[n].pdo->self);
			rel->Objects[k++] = d->port[n].pdo->self;
		}
	rel->Count = k;
	irp->IoStatus.Information = (ULONG_PTR)rel;
	irp->IoStatus.Status = STATUS_SUCCESS;
	return STATUS_SUCCESS;
}

static void ser_remove(struct vwdm_dev *wd)
{
	struct ser_dev *d = CONTAINING_RECORD(wd, struct ser_dev, wd);

	/* The parent goes: delete every child still around. */
	while (!IsListEmpty(&d->children)) {
		struct ser_pdo *p = CONTAINING_RECORD(RemoveHeadList(&d->children), struct ser_pdo, link);

		if (p->if_registered)
			RtlFreeUnicodeString(&p->if_name);
		IoDeleteDevice(p->self);
	}
	RtlZeroMemory(d->port, sizeof(d->port));
	vwdm_worker_free(&d->worker);
}

static const struct vwdm_pnp_ops ser_pnp_ops = {
	.start = ser_start,
	.stop = ser_stop,
	.remove = ser_remove,
	.bus_relations = ser_bus_relations,
};

static PWCHAR ser_wstr(const char *s, const char *s2)
{
	size_t n1 = strlen(s), n2 = s2 ? strlen(s2) : 0, i;
	PWCHAR w = ExAllocatePoolWithTag(PagedPool, (n1 + n2 + 2) * sizeof(WCHAR), SER_TAG);

	if (w == NULL)
		return NULL;
	for (i = 0; i < n1; i++)
		w[i] = (WCHAR)(unsigned char)s[i];
	for (i = 0; i < n2; i++)
		w[n1 + i] = (WCHAR)(unsigned char)s2[i];
	w[n1 + n2] = 0;
	w[n1 + n2 + 1] = 0;          /* MULTI_SZ-ready */
	return w;
}

static NTSTATUS ser_pdo_query_id(struct ser_pdo *p, PIRP irp)
{
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	char inst[12];
	PWCHAR w;

	switch (sl->Parameters.QueryId.IdType) {
	case BusQueryDeviceID:
	case BusQueryHardwareIDs:
		w = ser_wstr(VDP_BRAND_VDPSERIAL_SERVICE "\\Port", NULL);
		break;
	case BusQueryInstanceID:
		if (ser_instance_id(p->port, inst, sizeof(inst)) == 0)
			return STATUS_INVALID_PARAMETER;
		w = ser_wstr(inst, NULL);
		break;
	default:
		return irp->IoStatus.Status;
	}
	if (w == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	irp->IoStatus.Information = (ULONG_PTR)w;
	return STATUS_SUCCESS;
}

static void ser_if_lock(struct ser_dev *d)
{
	KeWaitForSingleObject(&d->if_lock, Executive, KernelMode, FALSE, NULL);
}

static void ser_if_unlock(struct ser_dev *d)
{
	KeSetEvent(&d->if_lock, IO_NO_INCREMENT, FALSE);
}

/* Register p's interface (with the port's name when known); under if_lock. */
static NTSTATUS ser_pdo_register(struct ser_pdo *p)
{
	struct ser_dev *d = p->bus;
	UNICODE_STRING ref;
	PWCHAR name = NULL;
	NTSTATUS status;
	KIRQL irql;
	char tmp[SER_NAME_MAX + 1];

	tmp[0] = 0;
	KeAcquireSpinLock(&d->lock, &irql);
	if (p->port < d->bus.nr_ports && d->bus.port[p->port].name_set)
		RtlCopyMemory(tmp, d->bus.port[p->port].name, sizeof(tmp));
	KeReleaseSpinLock(&d->lock, irql);
	/* The host's port name (validated printable ASCII) is the reference string. */
	if (tmp[0])
		name = ser_wstr(tmp, NULL);
	if (name)
		RtlInitUnicodeString(&ref, name);
	status = IoRegisterDeviceInterface(p->self, &ser_port_guid, name ? &ref : NULL, &p->if_name);
	if (name)
		ExFreePoolWithTag(name, SER_TAG);
	if (NT_SUCCESS(status)) {
		p->if_registered = true;
		p->if_named = name != NULL;
	}
	return status;
}

static NTSTATUS ser_pdo_start(struct ser_pdo *p)
{
	NTSTATUS status = STATUS_SUCCESS;

	ser_if_lock(p->bus);
	if (!p->if_registered)
		status = ser_pdo_register(p);
	if (NT_SUCCESS(status)) {
		IoSetDeviceInterfaceState(&p->if_name, TRUE);
		p->started = true;
	}
	ser_if_unlock(p->bus);
	return status;
}

static void ser_pdo_stop(struct ser_pdo *p)
{
	ser_if_lock(p->bus);
	if (p->if_registered && p->started)
		IoSetDeviceInterfaceState(&p->if_name, FALSE);
	p->started = false;
	ser_if_unlock(p->bus);
}

/*
 * PORT_NAME came after the port's child started (the host answers
 * PORT_READY, the PnP manager may be quicker): replace the nameless
 * interface with one named after the port. Worker, PASSIVE_LEVEL.
 */
static void ser_publish_name(struct ser_dev *d, uint32_t port)
{
	struct ser_pdo *p;
	KIRQL irql;

	if (port >= SER_MAX_PORTS)
		return;
	ser_if_lock(d);
	KeAcquireSpinLock(&d->lock, &irql);
	p = d->port[port].pdo;
	KeReleaseSpinLock(&d->lock, irql);
	if (p && !p->gone && p->started && p->if_registered && !p->if_named) {
		IoSetDeviceInterfaceState(&p->if_name, FALSE);
		RtlFreeUnicodeString(&p->if_name);
		p->if_registered = false;
		if (NT_SUCCESS(ser_pdo_register(p)))
			IoSetDeviceInterfaceState(&p->if_name, TRUE);
		vwdm_log(&d->wd, DPFLTR_INFO_LEVEL, "port %u: named after its start, interface %s\n",
			 (unsigned)port, p->if_registered ? "re-registered" : "lost");
	}
	ser_if_unlock(d);
}

static NTSTATUS ser_pdo_pnp(struct ser_pdo *p, PIRP irp)
{
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status = irp->IoStatus.Status;

	switch (sl->MinorFunction) {
	case IRP_MN_START_DEVICE:
		status = ser_pdo_start(p);
		break;
	case IRP_MN_STOP_DEVICE:
	case IRP_MN_SURPRISE_REMOVAL:
		ser_pdo_stop(p);
		status = STATUS_SUCCESS;
		break;
	case IRP_MN_QUERY_STOP_DEVICE:
	case IRP_MN_CANCEL_STOP_DEVICE:
	case IRP_MN_QUERY_REMOVE_DEVICE:
	case IRP_MN_CANCEL_REMOVE_DEVICE:
		status = STATUS_SUCCESS;
		break;
	case IRP_MN_REMOVE_DEVICE: {
		struct ser_dev *d = p->bus;

		ser_pdo_stop(p);
		if (p->gone) {
			KIRQL irql;

			/* No longer reported: this child is deleted for good. */
			ser_if_lock(d);
			KeAcquireSpinLock(&d->lock, &irql);
			RemoveEntryList(&p->link);
			if (p->port < SER_MAX_PORTS && d->port[p->port].pdo == p)
				d->port[p->port].pdo = NULL;
			KeReleaseSpinLock(&d->lock, irql);
			if (p->if_registered)
				RtlFreeUnicodeString(&p->if_name);
			ser_if_unlock(d);
			vwdm_complete(irp, STATUS_SUCCESS, 0);
			IoDeleteDevice(p->self);
			return STATUS_SUCCESS;
		}
		status = STATUS_SUCCESS;
		break;
	}
	case IRP_MN_QUERY_CAPABILITIES: {
		PDEVICE_CAPABILITIES cap = sl->Parameters.DeviceCapabilities.Capabilities;

		if (cap->Version != 1 || cap->Size < sizeof(*cap)) {
			status = STATUS_UNSUCCESSFUL;
			break;
		}
		/* Raw: ports work without an INF of their own. */
		cap->RawDeviceOK = TRUE;
		cap->SurpriseRemovalOK = TRUE;
		cap->Removable = FALSE;
		cap->UniqueID = FALSE;
		cap->Address = p->port;
		cap->UINumber = p->port;
		cap->DeviceState[PowerSystemWorking] = PowerDeviceD0;
		status = STATUS_SUCCESS;
		break;
	}
	case IRP_MN_QUERY_ID:
		status = ser_pdo_query_id(p, irp);
		break;
	case IRP_MN_QUERY_DEVICE_TEXT:
		if (sl->Parameters.QueryDeviceText.DeviceTextType == DeviceTextDescription) {
			PWCHAR w = ser_wstr(VDP_BRAND_VDPSERIAL_DESC " port", NULL);

			status = w ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
			if (w)
				irp->IoStatus.Information = (ULONG_PTR)w;
		}
		break;
	case IRP_MN_QUERY_DEVICE_RELATIONS:
		if (sl->Parameters.QueryDeviceRelations.Type == TargetDeviceRelation) {
			PDEVICE_RELATIONS rel = ExAllocatePoolWithTag(PagedPool, sizeof(*rel), SER_TAG);

			if (rel == NULL) {
				status = STATUS_INSUFFICIENT_RESOURCES;
				break;
			}
			ObReferenceObject(p->self);
			rel->Count = 1;
			rel->Objects[0] = p->self;
			irp->IoStatus.Information = (ULONG_PTR)rel;
			status = STATUS_SUCCESS;
		}
		break;
	default:
		break;
	}
	irp->IoStatus.Status = status;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return status;
}

/* Only SYSTEM and administrators (the SDDL D:P(A;;GA;;;SY)(A;;GA;;;BA) in effect). */
static bool ser_caller_allowed(PIRP irp)
{
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	PIO_SECURITY_CONTEXT sc = sl->Parameters.Create.SecurityContext;
	PSECURITY_SUBJECT_CONTEXT subj;
	PACCESS_TOKEN tok;

	if (irp->RequestorMode == KernelMode)
		return true;
	if (sc == NULL || sc->AccessState == NULL)
		return false;
	subj = &sc->AccessState->SubjectSecurityContext;
	tok = subj->ClientToken ? subj->ClientToken : subj->PrimaryToken;
	return tok != NULL && SeTokenIsAdmin(tok);
}

static NTSTATUS ser_pdo_io(struct ser_pdo *p, PIRP irp)
{
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	struct ser_dev *d = p->bus;
	struct ser_port_io *io;
	LIST_ENTRY done;
	NTSTATUS status = STATUS_SUCCESS;
	bool send_open = false, open = false;
	KIRQL irql;

	if (p->port >= SER_MAX_PORTS)
		return vwdm_complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
	io = &d->port[p->port];
	InitializeListHead(&done);
	KeAcquireSpinLock(&d->lock, &irql);
	if (p->gone || !io->ready || !d->running) {
		status = STATUS_DEVICE_NOT_CONNECTED;
		goto out;
	}
	switch (sl->MajorFunction) {
	case IRP_MJ_CREATE:
		if (sl->FileObject && sl->FileObject->FileName.Length != 0) {
			status = STATUS_OBJECT_NAME_NOT_FOUND;
			break;
		}
		if (!ser_caller_allowed(irp)) {
			status = STATUS_ACCESS_DENIED;
			break;
		}
		open = true;
		if (InterlockedIncrement(&p->opens) == 1)
			send_open = ser_guest_open(&d->bus, p->port, true);
		break;
	case IRP_MJ_CLOSE:
		if (InterlockedDecrement(&p->opens) == 0)
			send_open = ser_guest_open(&d->bus, p->port, false);
		break;
	case IRP_MJ_CLEANUP:
		break;
	case IRP_MJ_READ:
	case IRP_MJ_WRITE:
		if (sl->Parameters.Read.Length == 0)
			break;
		if (irp->AssociatedIrp.SystemBuffer == NULL) {
			status = STATUS_INVALID_USER_BUFFER;
			break;
		}
		if (!ser_enqueue(sl->MajorFunction == IRP_MJ_READ ? &io->reads : &io->writes, irp)) {
			status = STATUS_CANCELLED;
			break;
		}
		ser_service_port(d, p->port, &done);
		KeReleaseSpinLock(&d->lock, irql);
		ser_complete_all(&done);
		return STATUS_PENDING;
	default:
		status = STATUS_INVALID_DEVICE_REQUEST;
		break;
	}
	if (send_open)
		ser_send_ctrl(d, p->port, VIRTIO_CONSOLE_PORT_OPEN, open ? 1 : 0);
out:
	/* Closing a removed port must still succeed. */
	if (status == STATUS_DEVICE_NOT_CONNECTED &&
	    (sl->MajorFunction == IRP_MJ_CLOSE || sl->MajorFunction == IRP_MJ_CLEANUP)) {
		if (sl->MajorFunction == IRP_MJ_CLOSE)
			InterlockedDecrement(&p->opens);
		status = STATUS_SUCCESS;
	}
	KeReleaseSpinLock(&d->lock, irql);
	ser_complete_all(&done);
	return vwdm_complete(irp, status, 0);
}

/* ------------------------------------------------------------------ dispatch */

static struct ser_pdo *ser_child(PDEVICE_OBJECT dev)
{
	struct ser_pdo *p = dev->DeviceExtension;

	return p->magic == SER_PDO_MAGIC ? p : NULL;
}

static NTSTATUS NTAPI ser_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo)
{
	struct vwdm_dev *wd;
	struct ser_dev *d;
	NTSTATUS status;
	unsigned int i;

	/* One of our own ports (the INF names this service for them too): no FDO. */
	if (pdo->DriverObject == driver)
		return STATUS_SUCCESS;
	status = vwdm_add_device(driver, pdo, sizeof(struct ser_dev), FILE_DEVICE_BUS_EXTENDER,
				 VDP_BRAND_VDPSERIAL_FILE ": ", &ser_pnp_ops, &wd);
	if (!NT_SUCCESS(status))
		return status;
	d = CONTAINING_RECORD(wd, struct ser_dev, wd);
	KeInitializeSpinLock(&d->lock);
	KeInitializeEvent(&d->if_lock, SynchronizationEvent, TRUE);
	InitializeListHead(&d->children);
	for (i = 0; i < SER_MAX_PORTS; i++) {
		InitializeListHead(&d->port[i].reads);
		InitializeListHead(&d->port[i].writes);
	}
	if (!NT_SUCCESS(vwdm_worker_init(&d->worker, wd->self, ser_work, d))) {
		IoDetachDevice(wd->lower);
		IoDeleteDevice(wd->self);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	wd->self->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ser_dispatch_pnp(PDEVICE_OBJECT dev, PIRP irp)
{
	struct ser_pdo *p = ser_child(dev);

	return p ? ser_pdo_pnp(p, irp) : vwdm_dispatch_pnp(dev->DeviceExtension, irp);
}

static NTSTATUS NTAPI ser_dispatch_power(PDEVICE_OBJECT dev, PIRP irp)
{
	struct ser_pdo *p = ser_child(dev);
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status = irp->IoStatus.Status;

	if (p == NULL)
		return vwdm_dispatch_power(dev->DeviceExtension, irp);
	/* Ports have no power of their own: they follow the bus. */
	if (sl->MinorFunction == IRP_MN_SET_POWER || sl->MinorFunction == IRP_MN_QUERY_POWER)
		status = STATUS_SUCCESS;
	PoStartNextPowerIrp(irp);
	irp->IoStatus.Status = status;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return status;
}

static NTSTATUS NTAPI ser_dispatch_io(PDEVICE_OBJECT dev, PIRP irp)
{
	struct ser_pdo *p = ser_child(dev);
	PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);

	if (p)
		return ser_pdo_io(p, irp);
	/* The bus device itself is not opened for I/O. */
	if (sl->MajorFunction == IRP_MJ_SYSTEM_CONTROL)
		return vwdm_pass_down(dev->DeviceExtension, irp);
	return vwdm_complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
}

static NTSTATUS NTAPI ser_dispatch_wmi(PDEVICE_OBJECT dev, PIRP irp)
{
	NTSTATUS status;

	if (ser_child(dev) == NULL)
		return vwdm_pass_down(dev->DeviceExtension, irp);
	status = irp->IoStatus.Status;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return status;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	UNREFERENCED_PARAMETER(registry_path);

	driver->DriverExtension->AddDevice = ser_add_device;
	driver->DriverUnload = vwdm_unload;
	driver->MajorFunction[IRP_MJ_PNP] = ser_dispatch_pnp;
	driver->MajorFunction[IRP_MJ_POWER] = ser_dispatch_power;
	driver->MajorFunction[IRP_MJ_SYSTEM_CONTROL] = ser_dispatch_wmi;
	driver->MajorFunction[IRP_MJ_CREATE] = ser_dispatch_io;
	driver->MajorFunction[IRP_MJ_CLOSE] = ser_dispatch_io;
	driver->MajorFunction[IRP_MJ_CLEANUP] = ser_dispatch_io;
	driver->MajorFunction[IRP_MJ_READ] = ser_dispatch_io;
	driver->MajorFunction[IRP_MJ_WRITE] = ser_dispatch_io;
	return STATUS_SUCCESS;
}
