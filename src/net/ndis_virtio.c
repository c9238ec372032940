/*
 * vdpnet: the virtio core's OS services (struct virtio_os_ops) over NDIS: register and port
 * access to the BARs NDIS assigned, PCI configuration reads through NdisMGetBusData for the
 * capability walk, and shared-memory helpers.
 */
#include "ndis_adapter.h"

#define PCI_BAR0_OFFSET 0x10u

static uint8_t os_mmio_read8(void *ctx, uintptr_t addr)
{
	(void)ctx;
	return READ_REGISTER_UCHAR((PUCHAR)addr);
}

static uint16_t os_mmio_read16(void *ctx, uintptr_t addr)
{
	(void)ctx;
	return READ_REGISTER_USHORT((PUSHORT)addr);
}

static uint32_t os_mmio_read32(void *ctx, uintptr_t addr)
{
	(void)ctx;
	return READ_REGISTER_ULONG((PULONG)addr);
}

static void os_mmio_write8(void *ctx, uintptr_t addr, uint8_t val)
{
	(void)ctx;
	WRITE_REGISTER_UCHAR((PUCHAR)addr, val);
}

static void os_mmio_write16(void *ctx, uintptr_t addr, uint16_t val)
{
	(void)ctx;
	WRITE_REGISTER_USHORT((PUSHORT)addr, val);
}

static void os_mmio_write32(void *ctx, uintptr_t addr, uint32_t val)
{
	(void)ctx;
	WRITE_REGISTER_ULONG((PULONG)addr, val);
}

static uint8_t os_io_read8(void *ctx, uintptr_t port)
{
	(void)ctx;
	return READ_PORT_UCHAR((PUCHAR)port);
}

static uint16_t os_io_read16(void *ctx, uintptr_t port)
{
	(void)ctx;
	return READ_PORT_USHORT((PUSHORT)port);
}

static uint32_t os_io_read32(void *ctx, uintptr_t port)
{
	(void)ctx;
	return READ_PORT_ULONG((PULONG)port);
}

static void os_io_write8(void *ctx, uintptr_t port, uint8_t val)
{
	(void)ctx;
	WRITE_PORT_UCHAR((PUCHAR)port, val);
}

static void os_io_write16(void *ctx, uintptr_t port, uint16_t val)
{
	(void)ctx;
	WRITE_PORT_USHORT((PUSHORT)port, val);
}

static void os_io_write32(void *ctx, uintptr_t port, uint32_t val)
{
	(void)ctx;
	WRITE_PORT_ULONG((PULONG)port, val);
}

static uint32_t os_pci_cfg_read(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vnet_adapter *a = ctx;

	if (a->removed)
		return 0;
	return NdisMGetBusData(a->handle, PCI_WHICHSPACE_CONFIG, offset, buf, len);
}

static bool os_bar_info(void *ctx, uint8_t bar, uintptr_t *base, uint64_t *len, bool *is_io)
{
	struct vnet_adapter *a = ctx;

	if (bar >= 6 || !a->bar[bar].mapped)
		return false;
	/* For ports, NdisMRegisterIoPortRange's PortOffset is what the port macros take. */
	*base = (uintptr_t)a->bar[bar].va;
	*len = a->bar[bar].len;
	*is_io = a->bar[bar].io;
	return true;
}

static void os_stall_us(void *ctx, uint32_t usec)
{
	(void)ctx;
	NdisStallExecution(usec);
}

static void os_log(void *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vDbgPrintEx(DPFLTR_IHVNETWORK_ID,
				level == VIRTIO_LOG_ERROR ? DPFLTR_ERROR_LEVEL :
				level == VIRTIO_LOG_WARN ? DPFLTR_WARNING_LEVEL : DPFLTR_INFO_LEVEL,
				fmt, ap);
	va_end(ap);
}

const struct virtio_os_ops vnet_os_ops = {
	.mmio_read8 = os_mmio_read8,
	.mmio_read16 = os_mmio_read16,
	.mmio_read32 = os_mmio_read32,
	.mmio_write8 = os_mmio_write8,
	.mmio_write16 = os_mmio_write16,
	.mmio_write32 = os_mmio_write32,
	.io_read8 = os_io_read8,
	.io_read16 = os_io_read16,
	.io_read32 = os_io_read32,
	.io_write8 = os_io_write8,
	.io_write16 = os_io_write16,
	.io_write32 = os_io_write32,
	.pci_cfg_read = os_pci_cfg_read,
	.bar_info = os_bar_info,
	.stall_us = os_stall_us,
	.log = os_log,
};

/*
 * NDIS hands resources without BAR numbers, and the virtio capabilities name BARs. Read the
 * BAR registers from configuration space and give each resource the BAR whose base matches
 * (on x86/x64 translated PCI addresses equal the raw ones).
 */
NDIS_STATUS vnet_map_resources(struct vnet_adapter *a, PNDIS_RESOURCE_LIST res)
{
	ULONG bars[6], i, j;
	uint64_t base[6];
	BOOLEAN io[6], valid[6];

	if (!res)
		return NDIS_STATUS_RESOURCES;
	if (NdisMGetBusData(a->handle, PCI_WHICHSPACE_CONFIG, PCI_BAR0_OFFSET, bars, sizeof(bars)) !=
		sizeof(bars))
		return NDIS_STATUS_ADAPTER_NOT_FOUND;
	for (i = 0; i < 6; i++) {
		valid[i] = FALSE;
		io[i] = (bars[i] & 1u) != 0;
		if (io[i]) {
			base[i] = bars[i] & ~3u;
		} else {
			base[i] = bars[i] & ~0xFu;
			if (((bars[i] >> 1) & 3u) == 2u && i < 5) {
				base[i] |= (uint64_t)bars[i + 1] << 32;
				valid[i] = base[i] != 0;
				i++;
				valid[i] = FALSE;
				continue;
			}
		}
		valid[i] = base[i] != 0;
	}

	for (j = 0; j < res->Count; j++) {
		PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &res->PartialDescriptors[j];
		NDIS_STATUS st;

		if (d->Type != CmResourceTypeMemory && d->Type != CmResourceTypePort)
			continue;
		for (i = 0; i < 6; i++) {
			if (!valid[i] || a->bar[i].mapped || io[i] != (d->Type == CmResourceTypePort))
				continue;
			if ((uint64_t)d->u.Generic.Start.QuadPart != base[i])
				continue;
			if (d->u.Generic.Length == 0)
				break;
			if (io[i]) {
				st = NdisMRegisterIoPortRange(&a->bar[i].va, a->handle,
											  d->u.Port.Start.LowPart, d->u.Port.Length);
				a->bar[i].port = d->u.Port.Start.LowPart;
			} else {
				st = NdisMMapIoSpace(&a->bar[i].va, a->handle, d->u.Memory.Start,
									 d->u.Memory.Length);
			}
			if (st != NDIS_STATUS_SUCCESS)
				return st;
			a->bar[i].pa = d->u.Generic.Start;
			a->bar[i].len = d->u.Generic.Length;
			a->bar[i].io = io[i];
			a->bar[i].mapped = TRUE;
			break;
		}
	}
	return NDIS_STATUS_SUCCESS;
}

VOID vnet_unmap_resources(struct vnet_adapter *a)
{
	ULONG i;

	for (i = 0; i < 6; i++) {
		if (!a->bar[i].mapped)
			continue;
		if (a->bar[i].io)
			NdisMDeregisterIoPortRange(a->handle, a->bar[i].port, a->bar[i].len, a->bar[i].va);
		else
			NdisMUnmapIoSpace(a->handle, a->bar[i].va, a->bar[i].len);
		a->bar[i].mapped = FALSE;
	}
}

/* Rings need VIRTIO_RING_ALIGN; shared memory is page aligned in practice, but that is not a
 * documented promise, so over-allocate and align both addresses together. */
NDIS_STATUS vnet_alloc_dma(struct vnet_adapter *a, ULONG len, struct vnet_dma *d)
{
	PVOID va = NULL;
	NDIS_PHYSICAL_ADDRESS pa;
	ULONG pad;

	d->va = NULL;
	d->len = 0;
	if (len == 0 || len > 0x10000000u)
		return NDIS_STATUS_RESOURCES;
	pa.QuadPart = 0;
	NdisMAllocateSharedMemory(a->handle, len + VIRTIO_RING_ALIGN, TRUE, &va, &pa);
	if (!va)
		return NDIS_STATUS_RESOURCES;
	pad = (ULONG)((VIRTIO_RING_ALIGN - (pa.QuadPart & (VIRTIO_RING_ALIGN - 1))) &
				  (VIRTIO_RING_ALIGN - 1));
	if (((ULONG_PTR)va & (VIRTIO_RING_ALIGN - 1)) != (pa.QuadPart & (VIRTIO_RING_ALIGN - 1))) {
		/* Virtual and bus offsets disagree: cannot align both. */
		NdisMFreeSharedMemory(a->handle, len + VIRTIO_RING_ALIGN, TRUE, va, pa);
		return NDIS_STATUS_RESOURCES;
	}
	d->va = (PUCHAR)va + pad;
	d->pa.QuadPart = pa.QuadPart + pad;
	d->len = len;
	NdisZeroMemory(d->va, len);
	d->orig_va = va;
	d->orig_pa = pa;
	return NDIS_STATUS_SUCCESS;
}

VOID vnet_free_dma(struct vnet_adapter *a, struct vnet_dma *d)
{
	if (!d->va)
		return;
	NdisMFreeSharedMemory(a->handle, d->len + VIRTIO_RING_ALIGN, TRUE, d->orig_va, d->orig_pa);
	d->va = NULL;
	d->len = 0;
}

PVOID vnet_alloc(struct vnet_adapter *a, ULONG len)
{
	PVOID p = NdisAllocateMemoryWithTagPriority(a->handle, len, VNET_TAG, NormalPoolPriority);

	if (p)
		NdisZeroMemory(p, len);
	return p;
}

VOID vnet_free(struct vnet_adapter *a, PVOID p)
{
	if (p)
		NdisFreeMemoryWithTagPriority(a->handle, p, VNET_TAG);
}

NDIS_STATUS vnet_status(int err)
{
	switch (err) {
	case VIRTIO_OK: return NDIS_STATUS_SUCCESS;
	case VIRTIO_ENOSPC: return NDIS_STATUS_RESOURCES;
	case VIRTIO_ENODEV: return NDIS_STATUS_ADAPTER_NOT_FOUND;
	case VIRTIO_ENOTSUP: return NDIS_STATUS_NOT_SUPPORTED;
	default: return NDIS_STATUS_DEVICE_FAILED;
	}
}
