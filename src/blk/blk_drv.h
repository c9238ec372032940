/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: state shared by the StorPort glue (blk_adapter.c entry points,
 * blk_virtio.c device bring-up, blk_io.c request path).
 *
 * Locking follows StorPort's order DpcLock < StartIoLock < InterruptLock
 * (a lock is only taken while holding locks that come before it, never one
 * StorPort already holds for the callback):
 *  - concurrent channels granted: HwStartIo runs without the StartIo lock
 *    and takes its queue's DpcLock (the one of the queue's STOR_DPC); a
 *    queue DPC takes that DpcLock, then the StartIo lock. HwResetBus runs
 *    under the StartIo lock with every channel token taken, so it excludes
 *    both without taking anything. Recovery elsewhere takes every DpcLock in
 *    index order, then the StartIo lock;
 *  - otherwise StorPort holds the StartIo lock around HwStartIo (and around
 *    HwResetBus), so it is every queue's lock: the DPCs take it, code
 *    already under it takes nothing;
 *  - before the DPCs exist (HwInitialize) the interrupt lock stands in.
 * The interrupt routines never touch a virtqueue: they only claim the
 * interrupt and queue DPCs. In dump mode there is one thread and no lock.
 */
#ifndef OPENVDP_BLK_DRV_H
#define OPENVDP_BLK_DRV_H

#include <ntddk.h>
#include <storport.h>

#include <virtio/virtio.h>
#include "blk_plan.h"
#include "blk_scsi.h"
#include "blk_seq.h"

#define VBLK_POOL_TAG 'klbV'

struct vblk_adapter;

/* A queue lock: up to two StorPort locks, taken in order (blk_io.c). */
struct vblk_lock {
	STOR_LOCK_HANDLE dpc;           /* the queue's DpcLock (concurrent channels) */
	STOR_LOCK_HANDLE outer;         /* StartIo lock, or the interrupt lock before the DPCs */
};

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
	STOR_LOCK_HANDLE reset_lock;    /* DpcLock, only for the one running recovery */
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
	/* Readers copy the disk under disk_seq (blk_seq.h); writers hold queue 0's lock. */
	struct vblk_disk disk;
	uint32_t disk_seq;
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
	BOOLEAN concurrent;             /* concurrent StartIo channels granted */
	BOOLEAN started;                /* DRIVER_OK set, queues live */
	BOOLEAN stopped;                /* between ScsiStopAdapter and ScsiRestartAdapter */
	volatile LONG removed;          /* surprise removal seen */
	volatile LONG dead;             /* device could not be restarted */
	volatile LONG reset_pending;    /* a broken queue asked for recovery */
	volatile LONG capacity_changed; /* next commands see UNIT ATTENTION */
	volatile LONG recovering;       /* one recovery at a time */
	volatile LONG depth_set;        /* LUN queue depth raised (first INQUIRY) */
	volatile LONG busy_signalled;   /* StorPortDeviceBusy sent, Ready owed */
	ULONG perf_version;             /* PERF_CONFIGURATION_DATA version in use, 0 = none */
	ULONG perf_flags;               /* STOR_PERF_* granted */
	ULONG msi_count;
	STOR_DPC config_dpc;
	struct vblk_lock reset_outer;   /* the rest of the running recovery's locks */
	struct vblk_queue q[VBLK_MAX_QUEUES];
};

/* The SCSI fields of an SRB or SRB_EX (blk_io.c srb_scsi()). */
struct vblk_srb_scsi {
	PUCHAR cdb;
	ULONG cdb_length;
	PUCHAR scsi_status;
	PVOID sense;
	PUCHAR sense_length;
};

/* Per-request state (StorPort's SRB extension, SRB_EX MiniportContext). */
struct vblk_srb_ext {
	struct vblk_scsi_cmd cmd;
	struct vblk_srb_scsi scsi;
	struct vblk_range ranges[VBLK_DMA_RANGES];
	PVOID srb;                      /* SCSI_REQUEST_BLOCK or STORAGE_REQUEST_BLOCK */
	struct vblk_queue *q;
	struct vblk_srb_ext *next;      /* completion list */
	uint16_t slot;
	BOOLEAN flushing;               /* second stage of a forced write */
	volatile BOOLEAN done;          /* dump mode: completion seen */
};

/* A consistent copy of the disk; FALSE if a writer kept it busy too long. */
static inline BOOLEAN vblk_disk_read(struct vblk_adapter *a, struct vblk_disk *out)
{
	return vblk_seq_read(&a->disk_seq, out, &a->disk, sizeof(*out), VBLK_SEQ_TRIES);
}

/* Publishes a new disk (writers serialised by queue 0's lock or single-threaded init). */
static inline void vblk_disk_publish(struct vblk_adapter *a, const struct vblk_disk *d)
{
	vblk_seq_write(&a->disk_seq, &a->disk, d, sizeof(*d));
}

/* Who holds which StorPort lock when the queue lock is asked for. */
enum vblk_lock_ctx {
	VBLK_CTX_NONE,          /* DPC, passive: nothing held */
	VBLK_CTX_STARTIO,       /* HwStartIo: StorPort holds the StartIo lock unless concurrent */
	VBLK_CTX_RESETBUS,      /* HwResetBus: the StartIo lock and every channel token */
};

/* blk_virtio.c */
void vblk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ULONG vblk_find_adapter(struct vblk_adapter *a, PPORT_CONFIGURATION_INFORMATION config);
int vblk_device_start(struct vblk_adapter *a);
void vblk_query_interrupts(struct vblk_adapter *a);
int vblk_read_serial(struct vblk_adapter *a);
int vblk_read_config(struct vblk_adapter *a, struct virtio_blk_config *cfg);
void vblk_config_changed(struct vblk_adapter *a);
BOOLEAN vblk_device_gone(struct vblk_adapter *a);

/* blk_io.c */
BOOLEAN vblk_build_io(struct vblk_adapter *a, PVOID srb);
void vblk_start_io(struct vblk_adapter *a, PVOID srb);
void vblk_complete_srb(struct vblk_adapter *a, PVOID srb, UCHAR status);
HW_DPC_ROUTINE vblk_queue_dpc;
HW_DPC_ROUTINE vblk_config_dpc;
void vblk_kick_queue_dpc(struct vblk_adapter *a, struct vblk_queue *q);
void vblk_poll_all(struct vblk_adapter *a);
void vblk_reset_and_recover(struct vblk_adapter *a, enum vblk_lock_ctx ctx, UCHAR status);
void vblk_queue_lock(struct vblk_adapter *a, struct vblk_queue *q, enum vblk_lock_ctx ctx,
		     struct vblk_lock *l);
void vblk_queue_unlock(struct vblk_adapter *a, struct vblk_lock *l);

#endif /* OPENVDP_BLK_DRV_H */
