/* SPDX-License-Identifier: BSD-2-Clause */
/* WDM glue: PCI resources, virtio_os_ops, interrupts, DMA and virtqueues. */
#include "vwdm.h"

/* GUID_BUS_INTERFACE_STANDARD (wdmguid.h), spelled here to avoid INITGUID games. */
static const GUID vwdm_guid_bus_standard =
	{ 0x496b8280, 0x6f25, 0x11d0, { 0xbe, 0xaf, 0x08, 0x00, 0x2b, 0xe2, 0x09, 0x2f } };

/* ------------------------------------------------------------------ bus interface */

static NTSTATUS vwdm_query_bus_interface(struct vwdm_dev *wd)
{
	PDEVICE_OBJECT top;
	IO_STATUS_BLOCK iosb;
	PIO_STACK_LOCATION sl;
	KEVENT ev;
	PIRP irp;
	NTSTATUS status;

	top = IoGetAttachedDeviceReference(wd->self);
	KeInitializeEvent(&ev, NotificationEvent, FALSE);
	irp = IoBuildSynchronousFsdRequest(IRP_MJ_PNP, top, NULL, 0, NULL, &ev, &iosb);
	if (irp == NULL) {
		ObDereferenceObject(top);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
	sl = IoGetNextIrpStackLocation(irp);
	sl->MinorFunction = IRP_MN_QUERY_INTERFACE;
	sl->Parameters.QueryInterface.InterfaceType = &vwdm_guid_bus_standard;
	sl->Parameters.QueryInterface.Size = sizeof(wd->bus);
	sl->Parameters.QueryInterface.Version = 1;
	sl->Parameters.QueryInterface.Interface = (PINTERFACE)&wd->bus;
	sl->Parameters.QueryInterface.InterfaceSpecificData = NULL;
	status = IoCallDriver(top, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
		status = iosb.Status;
	}
	ObDereferenceObject(top);
	if (NT_SUCCESS(status) && wd->bus.GetBusData == NULL) {
		if (wd->bus.InterfaceDereference)
			wd->bus.InterfaceDereference(wd->bus.Context);
		status = STATUS_NOT_SUPPORTED;
	}
	if (NT_SUCCESS(status))
		wd->have_bus = true;
	return status;
}

uint32_t vwdm_cfg_read(struct vwdm_dev *wd, uint32_t off, void *buf, uint32_t len)
{
	if (!wd->have_bus || off > 4096 || len > 4096 - off)
		return 0;
	return wd->bus.GetBusData(wd->bus.Context, PCI_WHICHSPACE_CONFIG, buf, off, len);
}

/* ------------------------------------------------------------------ resources */

static NTSTATUS vwdm_map_one(struct vwdm_dev *wd, int bar, PCM_PARTIAL_RESOURCE_DESCRIPTOR t)
{
	struct vwdm_bar *b = &wd->bars[bar];

	if (b->present)
		return STATUS_SUCCESS;       /* first resource of a BAR wins */
	if (t->Type == CmResourceTypePort) {
		if (t->u.Port.Length == 0)
			return STATUS_DEVICE_CONFIGURATION_ERROR;
		b->io = true;
		b->port = (uintptr_t)t->u.Port.Start.QuadPart;
		b->len = t->u.Port.Length;
		b->present = true;
		return STATUS_SUCCESS;
	}
	if (t->u.Memory.Length == 0)
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	b->pa = t->u.Memory.Start;
	b->len = t->u.Memory.Length;
	b->va = MmMapIoSpaceEx(b->pa, b->len, PAGE_READWRITE | PAGE_NOCACHE);
	if (b->va == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	b->io = false;
	b->present = true;
	return STATUS_SUCCESS;
}

NTSTATUS vwdm_map_resources(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw,
			    PCM_RESOURCE_LIST translated, bool pci)
{
	struct vwdm_bar_decode dec[VWDM_NUM_BARS];
	PCM_PARTIAL_RESOURCE_LIST rl, tl;
	NTSTATUS status;
	ULONG i;
	int next = 0;

	if (raw == NULL || translated == NULL || raw->Count < 1 || translated->Count < 1)
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	rl = &raw->List[0].PartialResourceList;
	tl = &translated->List[0].PartialResourceList;
	if (rl->Count != tl->Count)
		return STATUS_DEVICE_CONFIGURATION_ERROR;

	if (pci) {
		uint32_t regs[VWDM_NUM_BARS];

		status = vwdm_query_bus_interface(wd);
		if (!NT_SUCCESS(status))
			return status;
		if (vwdm_cfg_read(wd, 0x10, regs, sizeof(regs)) != sizeof(regs))
			return STATUS_DEVICE_CONFIGURATION_ERROR;
		vwdm_decode_bars(regs, dec);
	}

	for (i = 0; i < rl->Count; i++) {
		PCM_PARTIAL_RESOURCE_DESCRIPTOR r = &rl->PartialDescriptors[i];
		PCM_PARTIAL_RESOURCE_DESCRIPTOR t = &tl->PartialDescriptors[i];
		int bar;

		if (r->Type != CmResourceTypePort && r->Type != CmResourceTypeMemory)
			continue;
		if (t->Type != CmResourceTypePort && t->Type != CmResourceTypeMemory)
			continue;
		if (pci) {
			bar = vwdm_match_bar(dec, (uint64_t)r->u.Generic.Start.QuadPart,
					     r->Type == CmResourceTypePort);
			if (bar < 0)
				continue;
		} else {
			if (next >= VWDM_NUM_BARS)
				break;
			bar = next++;
		}
		status = vwdm_map_one(wd, bar, t);
		if (!NT_SUCCESS(status)) {
			vwdm_unmap_resources(wd);
			return status;
		}
	}
	return STATUS_SUCCESS;
}

void vwdm_unmap_resources(struct vwdm_dev *wd)
{
	unsigned int i;

	for (i = 0; i < VWDM_NUM_BARS; i++) {
		struct vwdm_bar *b = &wd->bars[i];

		if (b->present && !b->io && b->va)
			MmUnmapIoSpace(b->va, b->len);
		RtlZeroMemory(b, sizeof(*b));
	}
	if (wd->have_bus) {
		if (wd->bus.InterfaceDereference)
			wd->bus.InterfaceDereference(wd->bus.Context);
		wd->have_bus = false;
	}
	wd->vdev_ok = false;
}

/* ------------------------------------------------------------------ virtio_os_ops */

static uint8_t os_mr8(void *c, uintptr_t a) { (void)c; return READ_REGISTER_UCHAR((PUCHAR)a); }
static uint16_t os_mr16(void *c, uintptr_t a) { (void)c; return READ_REGISTER_USHORT((PUSHORT)a); }
static uint32_t os_mr32(void *c, uintptr_t a) { (void)c; return READ_REGISTER_ULONG((PULONG)a); }
static void os_mw8(void *c, uintptr_t a, uint8_t v) { (void)c; WRITE_REGISTER_UCHAR((PUCHAR)a, v); }
static void os_mw16(void *c, uintptr_t a, uint16_t v) { (void)c; WRITE_REGISTER_USHORT((PUSHORT)a, v); }
static void os_mw32(void *c, uintptr_t a, uint32_t v) { (void)c; WRITE_REGISTER_ULONG((PULONG)a, v); }
static uint8_t os_ir8(void *c, uintptr_t p) { (void)c; return READ_PORT_UCHAR((PUCHAR)p); }
static uint16_t os_ir16(void *c, uintptr_t p) { (void)c; return READ_PORT_USHORT((PUSHORT)p); }
static uint32_t os_ir32(void *c, uintptr_t p) { (void)c; return READ_PORT_ULONG((PULONG)p); }
static void os_iw8(void *c, uintptr_t p, uint8_t v) { (void)c; WRITE_PORT_UCHAR((PUCHAR)p, v); }
static void os_iw16(void *c, uintptr_t p, uint16_t v) { (void)c; WRITE_PORT_USHORT((PUSHORT)p, v); }
static void os_iw32(void *c, uintptr_t p, uint32_t v) { (void)c; WRITE_PORT_ULONG((PULONG)p, v); }

static uint32_t os_cfg(void *c, uint32_t off, void *buf, uint32_t len)
{
	return vwdm_cfg_read(c, off, buf, len);
}

static bool os_bar(void *c, uint8_t bar, uintptr_t *base, uint64_t *len, bool *is_io)
{
	struct vwdm_dev *wd = c;
	struct vwdm_bar *b;

	if (bar >= VWDM_NUM_BARS || !wd->bars[bar].present)
		return false;
	b = &wd->bars[bar];
	*base = b->io ? b->port : (uintptr_t)b->va;
	*len = b->len;
	*is_io = b->io;
	return true;
}

static void os_stall(void *c, uint32_t us)
{
	(void)c;
	KeStallExecutionProcessor(us);
}

static void os_log(void *c, int level, const char *fmt, ...)
{
	struct vwdm_dev *wd = c;
	va_list ap;
	ULONG l = level <= VIRTIO_LOG_ERROR ? DPFLTR_ERROR_LEVEL :
		  level == VIRTIO_LOG_WARN ? DPFLTR_WARNING_LEVEL : DPFLTR_INFO_LEVEL;

	va_start(ap, fmt);
	vDbgPrintExWithPrefix((PCH)wd->name, DPFLTR_IHVDRIVER_ID, l, (PCH)fmt, ap);
	va_end(ap);
}

static const struct virtio_os_ops vwdm_os_ops = {
	.mmio_read8 = os_mr8, .mmio_read16 = os_mr16, .mmio_read32 = os_mr32,
	.mmio_write8 = os_mw8, .mmio_write16 = os_mw16, .mmio_write32 = os_mw32,
	.io_read8 = os_ir8, .io_read16 = os_ir16, .io_read32 = os_ir32,
	.io_write8 = os_iw8, .io_write16 = os_iw16, .io_write32 = os_iw32,
	.pci_cfg_read = os_cfg,
	.bar_info = os_bar,
	.stall_us = os_stall,
	.log = os_log,
};

NTSTATUS vwdm_virtio_init(struct vwdm_dev *wd)
{
	int rc = virtio_init(&wd->vdev, &vwdm_os_ops, wd, 0);

	if (rc != VIRTIO_OK) {
		vwdm_log(wd, DPFLTR_ERROR_LEVEL, "no virtio transport: %s\n", virtio_strerror(rc));
		return vwdm_status(rc);
	}
	wd->vdev_ok = true;
	return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------ interrupts */

static BOOLEAN NTAPI vwdm_msg_isr(PKINTERRUPT intr, PVOID ctx, ULONG msg)
{
	struct vwdm_dev *wd = ctx;
	LONG bits;

	UNREFERENCED_PARAMETER(intr);
	if (!wd->multi_vector)
		bits = VWDM_PEND_QUEUE | VWDM_PEND_CONFIG;
	else
		bits = msg == 0 ? VWDM_PEND_CONFIG : VWDM_PEND_QUEUE;
	/* Before the driver is ready the event is kept for vwdm_interrupts_ready(). */
	InterlockedOr(&wd->pending, bits);
	if (InterlockedOr(&wd->intr_ready, 0))
		KeInsertQueueDpc(&wd->dpc, NULL, NULL);
	return TRUE;                     /* MSI-X messages are never shared */
}

static BOOLEAN NTAPI vwdm_line_isr(PKINTERRUPT intr, PVOID ctx)
{
	struct vwdm_dev *wd = ctx;
	uint8_t isr;
	LONG bits = 0;

	UNREFERENCED_PARAMETER(intr);
	if (!wd->vdev_ok)
		return FALSE;
	/*
	 * Reading the ISR status acknowledges the (possibly shared) line. It is
	 * read even before the driver is ready: a level-triggered line the
	 * device keeps asserted and nobody claims is an interrupt storm (the
	 * device's start raises interrupts before vwdm_interrupts_ready()).
	 */
	isr = virtio_isr_read(&wd->vdev);
	if (isr == 0)
		return FALSE;
	if (isr & VIRTIO_PCI_ISR_QUEUE)
		bits |= VWDM_PEND_QUEUE;
	if (isr & VIRTIO_PCI_ISR_CONFIG)
		bits |= VWDM_PEND_CONFIG;
	InterlockedOr(&wd->pending, bits);
	if (InterlockedOr(&wd->intr_ready, 0))
		KeInsertQueueDpc(&wd->dpc, NULL, NULL);
	return TRUE;
}

static VOID NTAPI vwdm_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct vwdm_dev *wd = ctx;
	LONG bits;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(a1);
	UNREFERENCED_PARAMETER(a2);
	bits = InterlockedExchange(&wd->pending, 0);
	if (bits && wd->dpc_fn)
		wd->dpc_fn(wd, (ULONG)bits);
}

NTSTATUS vwdm_connect_interrupts(struct vwdm_dev *wd, vwdm_dpc_fn *fn)
{
	IO_CONNECT_INTERRUPT_PARAMETERS p;
	NTSTATUS status;

	wd->dpc_fn = fn;
	wd->pending = 0;
	wd->intr_ready = 0;
	KeInitializeDpc(&wd->dpc, vwdm_dpc, wd);
	RtlZeroMemory(&p, sizeof(p));
	p.Version = CONNECT_MESSAGE_BASED;
	p.MessageBased.PhysicalDeviceObject = wd->pdo;
	p.MessageBased.ConnectionContext.Generic = &wd->connect_ctx;
	p.MessageBased.MessageServiceRoutine = vwdm_msg_isr;
	p.MessageBased.ServiceContext = wd;
	p.MessageBased.FallBackServiceRoutine = vwdm_line_isr;
	status = IoConnectInterruptEx(&p);
	if (!NT_SUCCESS(status)) {
		wd->connect_version = 0;
		return status;
	}
	wd->connect_version = p.Version;
	wd->nmsg = 0;
	if (p.Version == CONNECT_MESSAGE_BASED) {
		PIO_INTERRUPT_MESSAGE_INFO info = wd->connect_ctx;

		wd->nmsg = info->MessageCount;
	}
	if (wd->vdev_ok) {
		int rc = virtio_set_msix_enabled(&wd->vdev, wd->nmsg > 0);

		if (rc != VIRTIO_OK) {
			vwdm_disconnect_interrupts(wd);
			return vwdm_status(rc);
		}
	}
	return STATUS_SUCCESS;
}

void vwdm_vectors(struct vwdm_dev *wd, uint16_t nqueues, uint16_t *config_vec, uint16_t *queue_vec)
{
	uint16_t used = vwdm_plan_vectors(wd->nmsg, nqueues, config_vec, queue_vec);

	wd->multi_vector = used > 1;
}

void vwdm_interrupts_ready(struct vwdm_dev *wd, bool ready)
{
	InterlockedExchange(&wd->intr_ready, ready ? 1 : 0);
	/* What the ISR acknowledged before now. */
	if (ready && InterlockedOr(&wd->pending, 0))
		KeInsertQueueDpc(&wd->dpc, NULL, NULL);
}

void vwdm_disconnect_interrupts(struct vwdm_dev *wd)
{
	IO_DISCONNECT_INTERRUPT_PARAMETERS d;

	vwdm_interrupts_ready(wd, false);
	if (wd->connect_version == 0)
		return;
	RtlZeroMemory(&d, sizeof(d));
	d.Version = wd->connect_version;
	d.ConnectionContext.Generic = wd->connect_ctx;
	IoDisconnectInterruptEx(&d);
	wd->connect_version = 0;
	wd->connect_ctx = NULL;
	wd->nmsg = 0;
	/* A DPC queued by the last interrupt must not outlive the device. */
	KeRemoveQueueDpc(&wd->dpc);
	KeFlushQueuedDpcs();
}

/* ------------------------------------------------------------------ DMA */

NTSTATUS vwdm_dma_init(struct vwdm_dev *wd, ULONG max_transfer)
{
	DEVICE_DESCRIPTION d;
	ULONG nregs = 0;

	RtlZeroMemory(&d, sizeof(d));
	d.Version = DEVICE_DESCRIPTION_VERSION;
	d.Master = TRUE;
	d.ScatterGather = TRUE;
	d.Dma32BitAddresses = TRUE;
	d.Dma64BitAddresses = TRUE;
	d.InterfaceType = PCIBus;
	d.MaximumLength = max_transfer;
	wd->dma = IoGetDmaAdapter(wd->pdo, &d, &nregs);
	return wd->dma ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

void *vwdm_dma_alloc(struct vwdm_dev *wd, size_t len, uint64_t *pa)
{
	PHYSICAL_ADDRESS p;
	void *va;

	if (wd->dma == NULL || len == 0 || len > 0x7fffffff)
		return NULL;
	va = wd->dma->DmaOperations->AllocateCommonBuffer(wd->dma, (ULONG)len, &p, TRUE);
	if (va == NULL)
		return NULL;
	RtlZeroMemory(va, len);
	*pa = (uint64_t)p.QuadPart;
	return va;
}

void vwdm_dma_free(struct vwdm_dev *wd, size_t len, void *va, uint64_t pa)
{
	PHYSICAL_ADDRESS p;

	if (va == NULL || wd->dma == NULL)
		return;
	p.QuadPart = (LONGLONG)pa;
	wd->dma->DmaOperations->FreeCommonBuffer(wd->dma, (ULONG)len, p, va, TRUE);
}

void vwdm_dma_release(struct vwdm_dev *wd)
{
	if (wd->dma) {
		wd->dma->DmaOperations->PutDmaAdapter(wd->dma);
		wd->dma = NULL;
	}
}

/* ------------------------------------------------------------------ virtqueues */

NTSTATUS vwdm_queue_create(struct vwdm_dev *wd, struct vwdm_queue *q, uint16_t index,
			   uint16_t vector, uint16_t max_size)
{
	struct virtio_queue_params p;
	uint16_t size;
	size_t slen;
	int rc;

	RtlZeroMemory(q, sizeof(*q));
	KeInitializeSpinLock(&q->lock);
	rc = virtio_queue_max_size(&wd->vdev, index, &size);
	if (rc != VIRTIO_OK)
		return vwdm_status(rc);
	/* Legacy devices dictate the size; modern ones accept a smaller one. */
	if (!virtio_is_legacy(&wd->vdev) && max_size && size > max_size)
		size = max_size;
	q->ring_len = virtio_queue_ring_size(&wd->vdev, size, 0);
	slen = virtio_queue_state_size(size);
	if (q->ring_len == 0 || slen == 0)
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	q->ring_len = (q->ring_len + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
	q->ring_va = vwdm_dma_alloc(wd, q->ring_len, &q->ring_pa);
	if (q->ring_va == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	q->state = ExAllocatePoolWithTag(NonPagedPoolNx, slen, VWDM_TAG);
	if (q->state == NULL) {
		vwdm_queue_free(wd, q);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	RtlZeroMemory(&p, sizeof(p));
	p.index = index;
	p.size = virtio_is_legacy(&wd->vdev) ? 0 : size;
	p.msix_vector = vector;
	p.ring_va = q->ring_va;
	p.ring_pa = q->ring_pa;
	p.ring_len = q->ring_len;
	p.state = q->state;
	p.state_len = slen;
	rc = virtio_queue_setup(&wd->vdev, &p, &q->vq);
	if (rc != VIRTIO_OK) {
		vwdm_queue_free(wd, q);
		return vwdm_status(rc);
	}
	q->size = size;
	return STATUS_SUCCESS;
}

void vwdm_queue_free(struct vwdm_dev *wd, struct vwdm_queue *q)
{
	if (q->ring_va)
		vwdm_dma_free(wd, q->ring_len, q->ring_va, q->ring_pa);
	if (q->state)
		ExFreePoolWithTag(q->state, VWDM_TAG);
	q->ring_va = NULL;
	q->state = NULL;
	q->vq = NULL;
}

NTSTATUS vwdm_virtio_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST translated,
			   uint16_t device_type, ULONG max_transfer, vwdm_dpc_fn *dpc, uint64_t features)
{
	NTSTATUS status = vwdm_map_resources(wd, raw, translated, true);
	int rc;

	if (NT_SUCCESS(status))
		status = vwdm_virtio_init(wd);
	if (NT_SUCCESS(status) && virtio_device_type(&wd->vdev) != device_type)
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
	if (NT_SUCCESS(status))
		status = vwdm_dma_init(wd, max_transfer);
	if (NT_SUCCESS(status))
		status = vwdm_connect_interrupts(wd, dpc);
	if (!NT_SUCCESS(status))
		return status;
	rc = virtio_begin(&wd->vdev);
	if (rc == VIRTIO_OK)
		rc = virtio_negotiate(&wd->vdev, features, NULL);
	return rc == VIRTIO_OK ? STATUS_SUCCESS : vwdm_status(rc);
}
