/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: state shared by the StorPort glue (blk_adapter.c entry points,
 * blk_virtio.c device bring-up, blk_io.c request path).
 *
 * Locking: each virtqueue is serialised by the StorPort DpcLock of its own
 * STOR_DPC (DISPATCH_LEVEL). HwStartIo submits under it, the queue's DPC
 * completes under it, recovery takes every queue lock in index order. The
 * interrupt routines never touch a virtqueue: they only claim the interrupt
 * and queue the DPC. In dump mode there is one thread and no lock at all.
 */
#ifndef OPENVDP_BLK_DRV_H
#define OPENVDP_BLK_DRV_H

#include <ntddk.h>
#include <storport.h>

#include <virtio/virtio.h>
#include "blk_plan.h"
#include "blk_scsi.h"

#define VBLK_POOL_TAG 'klbV'

struct vblk_adapter;

struct vblk_queue {
	struct vblk_adapter *adapter;
	struct virtq *vq;
	STOR_DPC dpc;
	uint16_t index;
	uint16_t vector;                /* MSI-X vector, VIRTIO_MSI_NO_VECTOR for INTx */
	uint8_t *ring_va;
	uint64_t ring_pa;
	void *state;
	struct vblk_req_dma *dma;       /* queue_size request headers */
	uint64_t dma_pa;
	uint16_t *free_slots;           /* stack of free request headers */
	uint16_t nfree;
	STOR_LOCK_HANDLE reset_lock;    /* used only by the one running recovery */
};

struct vblk_bar {
	PVOID va;                       /* mapped base (MMIO) or port address */
	uint64_t len;
	BOOLEAN io;
	BOOLEAN present;
};

struct vblk_adapter {
	struct virtio_dev vdev;
	struct vblk_bar bars[6];
	ULONG bus;
	ULONG slot;
	uint8_t msix_cap;               /* PCI config offset of the MSI-X capability */
	/* Read once in HwFindAdapter: StorPortGetBusData is not for DIRQL. */
	uint8_t pci_cfg[256];
	uint64_t features_wanted;
	uint64_t features;
	/* BuildIo reads the disk without a lock: updates fill the other copy. */
	struct vblk_disk disks[2];
	volatile LONG disk_idx;
	struct vblk_plan plan;
	struct vblk_mem_layout mem;
	uint8_t *unc_va;                /* uncached extension, page aligned */
	uint64_t unc_pa;
	uint16_t nq;                    /* queues in use */
	BOOLEAN dump;
	BOOLEAN msix;                   /* MSI-X messages granted and enabled */
	BOOLEAN per_queue_vectors;
	BOOLEAN dpcs_ready;
	BOOLEAN perf_redirect;          /* StartIo perf params give the message */
	BOOLEAN started;                /* DRIVER_OK set, queues live */
	BOOLEAN stopped;                /* between ScsiStopAdapter and ScsiRestartAdapter */
	volatile LONG removed;          /* surprise removal seen */
	volatile LONG dead;             /* device could not be restarted */
	volatile LONG reset_pending;    /* a broken queue asked for recovery */
	volatile LONG capacity_changed; /* next commands see UNIT ATTENTION */
	volatile LONG recovering;       /* one recovery at a time */
	volatile LONG depth_set;        /* LUN queue depth raised (first INQUIRY) */
	ULONG msi_count;
	STOR_DPC config_dpc;
	struct vblk_queue q[VBLK_MAX_QUEUES];
};

/* Per-request state (StorPort's SRB extension). */
struct vblk_srb_ext {
	struct vblk_scsi_cmd cmd;
	struct vblk_range ranges[VBLK_DMA_RANGES];
	PSCSI_REQUEST_BLOCK srb;
	struct vblk_queue *q;
	struct vblk_srb_ext *next;      /* completion list */
	uint16_t slot;
	BOOLEAN flushing;               /* second stage of a forced write */
	volatile BOOLEAN done;          /* dump mode: completion seen */
};

static inline const struct vblk_disk *vblk_disk_get(struct vblk_adapter *a)
{
	return &a->disks[a->disk_idx & 1];
}

/* blk_virtio.c */
void vblk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ULONG vblk_find_adapter(struct vblk_adapter *a, PPORT_CONFIGURATION_INFORMATION config);
int vblk_device_start(struct vblk_adapter *a);
void vblk_query_interrupts(struct vblk_adapter *a);
int vblk_read_serial(struct vblk_adapter *a);
void vblk_config_changed(struct vblk_adapter *a);
BOOLEAN vblk_device_gone(struct vblk_adapter *a);

/* blk_io.c */
BOOLEAN vblk_build_io(struct vblk_adapter *a, PSCSI_REQUEST_BLOCK srb);
void vblk_start_io(struct vblk_adapter *a, PSCSI_REQUEST_BLOCK srb);
void vblk_complete_srb(struct vblk_adapter *a, PSCSI_REQUEST_BLOCK srb, UCHAR status);
HW_DPC_ROUTINE vblk_queue_dpc;
HW_DPC_ROUTINE vblk_config_dpc;
void vblk_kick_queue_dpc(struct vblk_adapter *a, struct vblk_queue *q);
void vblk_poll_all(struct vblk_adapter *a);
void vblk_reset_and_recover(struct vblk_adapter *a, UCHAR status);
void vblk_queue_lock(struct vblk_adapter *a, struct vblk_queue *q, PSTOR_LOCK_HANDLE h);
void vblk_queue_unlock(struct vblk_adapter *a, PSTOR_LOCK_HANDLE h);

#endif /* OPENVDP_BLK_DRV_H */
