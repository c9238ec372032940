/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: portable sizing decisions of the miniport.
 *
 * Everything StorPort must be told before the first request (queue count,
 * ring size, indirect table size, MaximumTransferLength,
 * NumberOfPhysicalBreaks, queue depths) and the layout of the one uncached
 * extension that holds all device-visible memory is decided here, from
 * validated inputs, without any Windows header, so the host unit tests
 * exercise the very code the driver runs.
 *
 * Transfer limit policy: a request larger than the limit computed here is
 * REJECTED (CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN CDB on the
 * transfer length, by blk_scsi), never split: StorPort honours
 * MaximumTransferLength for class-driver I/O, so only a malformed
 * pass-through request can exceed it, and splitting one SRB into several
 * device requests would make partial failures unreportable.
 */
#ifndef OPENVDP_BLK_PLAN_H
#define OPENVDP_BLK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio_blk.h>

#define VBLK_MAX_QUEUES             64u      /* virtqueues the driver ever uses */
#define VBLK_DEFAULT_MAX_TRANSFER   (256u * 1024u)
#define VBLK_MIN_QUEUE_SIZE         4u       /* hdr + data + status must fit twice over */
#define VBLK_DUMP_QUEUE_SIZE        32u      /* dump mode: one request at a time; keeps the
                                                 * noncached memory under the 32 KiB a boot-drive
                                                 * miniport may use there */
#define VBLK_DUMP_MAX_TRANSFER      (64u * 1024u)
#define VBLK_DMA_RANGES             8u       /* DISCARD/WRITE_ZEROES ranges per request */
#define VBLK_PLAN_PAGE              4096u

/* Device-visible bytes of one request: header, ranges, GET_ID buffer, status. */
struct vblk_req_dma {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes ranges[VBLK_DMA_RANGES];
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t status;
	uint8_t pad[11];
};
_Static_assert(sizeof(struct vblk_req_dma) == 176, "vblk_req_dma size");
_Static_assert(offsetof(struct vblk_req_dma, ranges) == 16, "vblk_req_dma ranges");

struct vblk_plan_input {
	uint32_t cpus;               /* active processors (0 counts as 1) */
	uint16_t device_queues;      /* num_queues when MQ was negotiated, else 1 */
	uint16_t queue_max_size;     /* smallest device maximum over the queues used */
	bool legacy;                 /* legacy transport: the ring size is fixed */
	bool packed;                 /* RING_PACKED: sizes need not be powers of two */
	bool indirect;               /* INDIRECT_DESC negotiated */
	bool dump;                   /* crash dump / hibernation instance */
	uint32_t size_max;           /* SIZE_MAX value, 0 when not negotiated */
	uint32_t block_size;         /* logical block size (validated by blk_scsi) */
	uint32_t disk_max_transfer;  /* vblk_disk.max_transfer_bytes */
	uint32_t disk_max_segments;  /* vblk_disk.max_segments */
	uint32_t reg_queues;         /* registry NumQueues, 0 = default */
	uint32_t reg_max_transfer;   /* registry MaxTransferSize (bytes), 0 = default */
};

struct vblk_plan {
	uint16_t queues;             /* virtqueues to set up (before the MSI-X cut) */
	uint16_t queue_size;         /* ring entries, 0 = device maximum not changed */
	uint16_t indirect_max;       /* descriptors per indirect table, 0 = direct */
	uint32_t seg_limit;          /* bytes per data descriptor */
	uint32_t data_descs;         /* data descriptors one request may need */
	uint32_t max_transfer;       /* bytes, multiple of block_size */
	uint32_t phys_breaks;        /* NumberOfPhysicalBreaks */
	uint32_t per_queue_io;       /* requests one queue holds at worst */
	uint32_t max_io;             /* per_queue_io * queues */
};

/* Returns 0, or -1 when the device limits leave no usable request size. */
int vblk_plan_compute(const struct vblk_plan_input *in, struct vblk_plan *out);

/* Queues actually driven once the number of MSI-X messages is known. */
uint16_t vblk_plan_msix_queues(uint16_t planned, uint32_t messages, bool *per_queue_vectors);

/* Descriptors one SG element of len bytes needs when cut at limit bytes. */
static inline uint32_t vblk_sg_pieces(uint32_t len, uint32_t limit)
{
	if (!len)
		return 0;
	return limit ? (uint32_t)(((uint64_t)len + limit - 1) / limit) : 1;
}

/* Uncached extension: per queue ring | request DMA | core state | free stack. */
struct vblk_mem_layout {
	size_t ring_off;             /* offsets inside one queue's stride */
	size_t ring_len;
	size_t dma_off;
	size_t state_off;
	size_t state_len;
	size_t free_off;
	size_t stride;               /* bytes per queue, multiple of 4096 */
	size_t total;                /* queues * stride + alignment slack */
};

/* Returns 0, or -1 on overflow (the total must fit a ULONG) or bad sizes. */
int vblk_mem_plan(size_t ring_len, size_t state_len, uint16_t queue_size, uint16_t queues,
		  struct vblk_mem_layout *out);

/* Descriptor shape of a virtio-blk request. */
struct vblk_desc_shape {
	uint16_t out_extra;          /* device-readable payload descriptors */
	bool data_out;               /* SG data is device-readable (write) */
	bool data_in;                /* SG data is device-writable (read) */
	bool id_in;                  /* GET_ID buffer */
};

/*
 * Shape for type (VIRTIO_BLK_T_*) with num_ranges payload entries; header
 * and status descriptors are always there. Returns -1 for a type the glue
 * cannot issue.
 */
int vblk_desc_shape(uint32_t type, uint32_t num_ranges, struct vblk_desc_shape *shape);

/*
 * StorPort performance options (PERF_CONFIGURATION_DATA). Values of
 * storport.h's STOR_PERF_*; the glue asserts they match. Each flag exists
 * from a structure version on (Microsoft's PERF_CONFIGURATION_DATA page):
 * DPC_REDIRECTION, CONCURRENT_CHANNELS, INTERRUPT_MESSAGE_RANGES from 2.
 */
#define VBLK_PERF_DPC_REDIRECTION           0x1u
#define VBLK_PERF_CONCURRENT_CHANNELS       0x2u
#define VBLK_PERF_INTERRUPT_MESSAGE_RANGES  0x4u
#define VBLK_PERF_MIN_VERSION               2u
#define VBLK_PERF_MAX_VERSION               5u   /* the newest version queried first */

/*
 * Flags to set after a query at `version` answered `supported`: only
 * supported ones, only ones that version knows, MESSAGE_RANGES only with
 * DPC_REDIRECTION (a documented requirement), redirection only with one
 * MSI-X message per queue, nothing for a single queue.
 */
uint32_t vblk_perf_flags(uint32_t version, uint32_t supported, uint16_t queues,
			 bool per_queue_vectors);

#endif /* OPENVDP_BLK_PLAN_H */
