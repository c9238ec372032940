/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared WDM glue of the virtio WDM drivers (vdprng, vdppanic, vdpballoon,
 * vdpserial), linked as the `vwdm` library.
 *
 * A driver embeds struct vwdm_dev FIRST in its device extension and gets:
 *  - AddDevice/attach, a PnP state machine with a remove lock, power and
 *    WMI pass-down (vwdm_add_device, vwdm_dispatch_pnp, vwdm_dispatch_power);
 *  - PCI resources from IRP_MN_START_DEVICE matched to BAR numbers (config
 *    space read through BUS_INTERFACE_STANDARD), memory mapped with
 *    MmMapIoSpaceEx, I/O ports used as they are;
 *  - the virtio_os_ops table for the portable core;
 *  - IoConnectInterruptEx, MSI-X message based with line-based fallback,
 *    and one DPC that hands the driver what happened;
 *  - DMA common buffers (IoGetDmaAdapter) and virtqueue allocation.
 * Everything here runs at PASSIVE_LEVEL unless said otherwise.
 */
#ifndef OPENVDP_VWDM_H
#define OPENVDP_VWDM_H

#include <ntkext.h>
#include <stdbool.h>
#include <stdint.h>
#include "virtio/virtio.h"
#include "vwdm_pci.h"

#define VWDM_TAG 'mdWV'

/* Bits handed to the driver's DPC. */
#define VWDM_PEND_QUEUE   0x1
#define VWDM_PEND_CONFIG  0x2

enum vwdm_state {
	VWDM_STOPPED = 0,     /* added, or stopped for rebalance */
	VWDM_STARTED,
	VWDM_STOP_PENDING,    /* QUERY_STOP succeeded */
	VWDM_REMOVE_PENDING,  /* QUERY_REMOVE succeeded */
	VWDM_SURPRISE_REMOVED,
	VWDM_REMOVED,
};

struct vwdm_bar {
	PHYSICAL_ADDRESS pa;
	SIZE_T len;
	PVOID va;             /* mapped memory BAR */
	uintptr_t port;       /* I/O BAR */
	bool io;
	bool present;
};

struct vwdm_dev;
/* Called from the DPC (DISPATCH_LEVEL) with VWDM_PEND_* bits. */
typedef void vwdm_dpc_fn(struct vwdm_dev *wd, ULONG pending);

struct vwdm_pnp_ops {
	/* Lower drivers started the device; set it up. */
	NTSTATUS (*start)(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST translated);
	/* Quiesce and release what start acquired (stop, surprise removal, removal). */
	void (*stop)(struct vwdm_dev *wd);
	/* Optional: last call before the device object is deleted. */
	void (*remove)(struct vwdm_dev *wd);
	/* Optional: IRP_MN_QUERY_DEVICE_RELATIONS BusRelations (bus drivers). */
	NTSTATUS (*bus_relations)(struct vwdm_dev *wd, PIRP irp);
};

struct vwdm_dev {
	PDEVICE_OBJECT self;
	PDEVICE_OBJECT pdo;
	PDEVICE_OBJECT lower;
	const char *name;              /* log prefix */
	const struct vwdm_pnp_ops *pnp;
	IO_REMOVE_LOCK remove_lock;
	enum vwdm_state state;
	enum vwdm_state prev_state;    /* for CANCEL_STOP / CANCEL_REMOVE */

	BUS_INTERFACE_STANDARD bus;
	bool have_bus;
	struct vwdm_bar bars[VWDM_NUM_BARS];

	/* Interrupts */
	ULONG connect_version;         /* CONNECT_MESSAGE_BASED, CONNECT_LINE_BASED or 0 */
	PVOID connect_ctx;
	ULONG nmsg;                    /* messages granted (0: line based) */
	bool multi_vector;             /* vector 0 is config only */
	KDPC dpc;
	volatile LONG pending;
	volatile LONG intr_ready;
	vwdm_dpc_fn *dpc_fn;

	/* virtio */
	struct virtio_dev vdev;
	bool vdev_ok;
	PDMA_ADAPTER dma;

	/* Device interface (user-mode access) */
	UNICODE_STRING if_name;
	bool if_registered;
};

struct vwdm_queue {
	struct virtq *vq;
	void *ring_va;
	uint64_t ring_pa;
	size_t ring_len;
	void *state;
	KSPIN_LOCK lock;               /* the caller serialises vq_* with it */
	uint16_t size;
};

/*
 * A PASSIVE_LEVEL worker that coalesces kicks: vwdm_worker_kick() (at IRQL
 * <= DISPATCH_LEVEL) makes fn run at most once more after the current run.
 */
struct vwdm_worker {
	PIO_WORKITEM item;
	volatile LONG state;
	KEVENT idle;                   /* signalled while nothing is queued or running */
	void (*fn)(void *ctx);
	void *ctx;
};
NTSTATUS vwdm_worker_init(struct vwdm_worker *w, PDEVICE_OBJECT dev,
			  void (*fn)(void *ctx), void *ctx);
void vwdm_worker_kick(struct vwdm_worker *w);
void vwdm_worker_wait_idle(struct vwdm_worker *w);
void vwdm_worker_free(struct vwdm_worker *w);

/* Status code for a VIRTIO_E* result. */
NTSTATUS vwdm_status(int err);
void vwdm_log(struct vwdm_dev *wd, ULONG level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* AddDevice: the extension (ext_size >= sizeof(struct vwdm_dev)) starts with struct vwdm_dev. */
NTSTATUS vwdm_add_device(PDRIVER_OBJECT driver, PDEVICE_OBJECT pdo, ULONG ext_size,
			 DEVICE_TYPE type, const char *name, const struct vwdm_pnp_ops *pnp,
			 struct vwdm_dev **out);
/*
 * DriverEntry of a function driver: AddDevice plus the PnP, power and WMI
 * dispatch every vwdm driver shares (the device extension starts with
 * struct vwdm_dev). The driver adds its own I/O dispatch routines after.
 */
void vwdm_driver_init(PDRIVER_OBJECT driver, PDRIVER_ADD_DEVICE add_device);
DRIVER_UNLOAD vwdm_unload;
NTSTATUS vwdm_dispatch_pnp(struct vwdm_dev *wd, PIRP irp);
NTSTATUS vwdm_dispatch_power(struct vwdm_dev *wd, PIRP irp);
NTSTATUS vwdm_pass_down(struct vwdm_dev *wd, PIRP irp);
/* Complete an IRP that was not forwarded. */
NTSTATUS vwdm_complete(PIRP irp, NTSTATUS status, ULONG_PTR info);

/*
 * Resources. pci: read the config header through BUS_INTERFACE_STANDARD and
 * number the BARs as the device does; !pci (ACPI devices): the n-th memory
 * or port resource becomes "BAR" n.
 */
NTSTATUS vwdm_map_resources(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw,
			    PCM_RESOURCE_LIST translated, bool pci);
void vwdm_unmap_resources(struct vwdm_dev *wd);
uint32_t vwdm_cfg_read(struct vwdm_dev *wd, uint32_t off, void *buf, uint32_t len);

/* virtio transport over the mapped BARs. */
NTSTATUS vwdm_virtio_init(struct vwdm_dev *wd);

/* Interrupts: connect (message based, line-based fallback); the DPC calls fn. */
NTSTATUS vwdm_connect_interrupts(struct vwdm_dev *wd, vwdm_dpc_fn *fn);
/* Plan MSI-X vectors for nqueues queues (see vwdm_plan_vectors). */
void vwdm_vectors(struct vwdm_dev *wd, uint16_t nqueues, uint16_t *config_vec, uint16_t *queue_vec);
void vwdm_interrupts_ready(struct vwdm_dev *wd, bool ready);
void vwdm_disconnect_interrupts(struct vwdm_dev *wd);

/* DMA */
NTSTATUS vwdm_dma_init(struct vwdm_dev *wd, ULONG max_transfer);

/* START_DEVICE of a virtio PCI function: map the resources, bring up the
 * transport, check the device type, DMA for max_transfer, interrupts into
 * dpc, reset and negotiate features. On failure the caller's undo path
 * releases what was set up, as after the individual steps. */
NTSTATUS vwdm_virtio_start(struct vwdm_dev *wd, PCM_RESOURCE_LIST raw, PCM_RESOURCE_LIST translated,
			   uint16_t device_type, ULONG max_transfer, vwdm_dpc_fn *dpc, uint64_t features);
void *vwdm_dma_alloc(struct vwdm_dev *wd, size_t len, uint64_t *pa);
void vwdm_dma_free(struct vwdm_dev *wd, size_t len, void *va, uint64_t pa);
void vwdm_dma_release(struct vwdm_dev *wd);

/* Virtqueue with its ring and state memory; size 0 = device maximum, capped at max_size. */
NTSTATUS vwdm_queue_create(struct vwdm_dev *wd, struct vwdm_queue *q, uint16_t index,
			   uint16_t vector, uint16_t max_size);
/* After virtio_reset(): detach cookies yourself first, then free. */
void vwdm_queue_free(struct vwdm_dev *wd, struct vwdm_queue *q);

/* Device interface: register at AddDevice, enable at start, disable at stop. */
NTSTATUS vwdm_interface_register(struct vwdm_dev *wd, const GUID *guid);
void vwdm_interface_enable(struct vwdm_dev *wd, bool on);
void vwdm_interface_free(struct vwdm_dev *wd);

#endif /* OPENVDP_VWDM_H */
