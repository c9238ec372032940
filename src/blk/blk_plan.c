/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: portable sizing decisions (see blk_plan.h).
 *
 * Segment arithmetic: the SG list StorPort builds for a virtually contiguous
 * buffer breaks only at page boundaries, so a transfer of T bytes touches at
 * most ceil(T / 4096) + 1 pages. Cutting every element at seg_limit bytes
 * then needs at most per_page descriptors per page touched, where per_page
 * is 1 when seg_limit >= 4096 (an element spanning k pages has at most
 * k * 4096 bytes, so at most k pieces) and ceil(4096 / seg_limit) otherwise.
 */
#include "blk_plan.h"
#include "blk_scsi.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int vblk_plan_compute(const struct vblk_plan_input *in, struct vblk_plan *out)
{
	uint32_t queues, qsize, per_page, avail, segs, pages, by_descs, want, mt, pages_needed;

	if (!in || !out)
		return -1;
	__builtin_memset(out, 0, sizeof(*out));
	if (!is_pow2(in->block_size) || in->block_size < VIRTIO_BLK_SECTOR_SIZE ||
	    in->block_size > VBLK_MAX_BLOCK_SIZE)
		return -1;

	queues = in->cpus ? in->cpus : 1;
	queues = min_u32(queues, in->device_queues ? in->device_queues : 1);
	queues = min_u32(queues, VBLK_MAX_QUEUES);
	if (in->reg_queues)
		queues = min_u32(queues, in->reg_queues);
	if (in->dump)
		queues = 1;

	qsize = in->queue_max_size;
	if (qsize < VBLK_MIN_QUEUE_SIZE || qsize > 32768)
		return -1;
	if (!in->legacy) {
		if (in->dump)
			qsize = min_u32(qsize, VBLK_DUMP_QUEUE_SIZE);
		/* Split rings must be a power of two (2.7); take the largest that fits. */
		if (!in->packed)
			while (!is_pow2(qsize))
				qsize &= qsize - 1;
	} else if (!is_pow2(qsize)) {
		return -1;
	}

	/* SIZE_MAX below one sector is not believable; blk_scsi ignores it too. */
	if (in->size_max >= VIRTIO_BLK_SECTOR_SIZE) {
		out->seg_limit = in->size_max;
		per_page = in->size_max >= VBLK_PLAN_PAGE ? 1 :
			   (VBLK_PLAN_PAGE + in->size_max - 1) / in->size_max;
	} else {
		out->seg_limit = UINT32_MAX;
		per_page = 1;
	}

	/* Header and status take two descriptors of every chain. */
	avail = (in->indirect ? min_u32(qsize, VBLK_MAX_SEGMENTS + 2) : qsize) - 2;
	segs = min_u32(avail, in->disk_max_segments ? in->disk_max_segments : avail);
	pages = segs / per_page;
	if (pages < 2)
		return -1;
	by_descs = (pages - 1) * VBLK_PLAN_PAGE;

	want = in->reg_max_transfer ? in->reg_max_transfer : VBLK_DEFAULT_MAX_TRANSFER;
	if (in->dump)
		want = min_u32(want, VBLK_DUMP_MAX_TRANSFER);
	if (want < in->block_size)
		want = in->block_size;
	mt = min_u32(min_u32(by_descs, want),
		     in->disk_max_transfer ? in->disk_max_transfer : by_descs);
	mt -= mt % in->block_size;
	if (!mt)
		return -1;

	pages_needed = (mt + VBLK_PLAN_PAGE - 1) / VBLK_PLAN_PAGE + 1;
	out->queues = (uint16_t)queues;
	out->queue_size = (uint16_t)qsize;
	out->max_transfer = mt;
	out->data_descs = pages_needed * per_page;
	out->indirect_max = in->indirect ? (uint16_t)(out->data_descs + 2) : 0;
	out->phys_breaks = pages_needed - 1;
	/* The smallest request is three descriptors when they go straight in the ring. */
	out->per_queue_io = in->indirect ? qsize : qsize / 3;
	out->max_io = out->per_queue_io * queues;
	return 0;
}

uint16_t vblk_plan_msix_queues(uint16_t planned, uint32_t messages, bool *per_queue_vectors)
{
	bool per_queue = false;
	uint16_t n = 1;

	if (!planned)
		planned = 1;
	/* Message 0 is the configuration change; queue i uses message i + 1. */
	if (messages >= (uint32_t)planned + 1) {
		per_queue = true;
		n = planned;
	} else if (messages >= 2) {
		per_queue = true;
		n = (uint16_t)(messages - 1);
	}
	if (per_queue_vectors)
		*per_queue_vectors = per_queue;
	return n;
}

int vblk_mem_plan(size_t ring_len, size_t state_len, uint16_t queue_size, uint16_t queues,
		  struct vblk_mem_layout *out)
{
	uint64_t total;

	if (!out)
		return -1;
	__builtin_memset(out, 0, sizeof(*out));
	if (!ring_len || !state_len || !queue_size || !queues || ring_len > 0x10000000u ||
	    state_len > 0x10000000u)
		return -1;
	out->ring_off = 0;
	out->ring_len = ring_len;
	out->dma_off = align_up(ring_len, 64);
	out->state_off = align_up(out->dma_off + (size_t)queue_size * sizeof(struct vblk_req_dma),
				  16);
	out->state_len = state_len;
	out->free_off = align_up(out->state_off + state_len, 4);
	out->stride = align_up(out->free_off + (size_t)queue_size * sizeof(uint16_t),
			       VBLK_PLAN_PAGE);
	/* One page of slack: the ring must start VIRTIO_RING_ALIGN aligned. */
	total = (uint64_t)out->stride * queues + VBLK_PLAN_PAGE;
	if (total > 0xFFFFFFFFu)
		return -1;
	out->total = (size_t)total;
	return 0;
}

int vblk_desc_shape(uint32_t type, uint32_t num_ranges, struct vblk_desc_shape *shape)
{
	if (!shape)
		return -1;
	__builtin_memset(shape, 0, sizeof(*shape));
	switch (type) {
	case VIRTIO_BLK_T_IN:
		shape->data_in = true;
		return 0;
	case VIRTIO_BLK_T_OUT:
		shape->data_out = true;
		return 0;
	case VIRTIO_BLK_T_FLUSH:
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		shape->id_in = true;
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!num_ranges || num_ranges > VBLK_DMA_RANGES)
			return -1;
		shape->out_extra = 1;   /* the ranges are contiguous in vblk_req_dma */
		return 0;
	default:
		return -1;
	}
}

uint32_t vblk_perf_flags(uint32_t version, uint32_t supported, uint16_t queues,
			 bool per_queue_vectors)
{
	uint32_t flags = 0;

	if (version < VBLK_PERF_MIN_VERSION || queues < 2)
		return 0;
	/* Per-queue DpcLocks make concurrent StartIo calls safe (blk_drv.h). */
	flags |= supported & VBLK_PERF_CONCURRENT_CHANNELS;
	if (per_queue_vectors && (supported & VBLK_PERF_DPC_REDIRECTION)) {
		flags |= VBLK_PERF_DPC_REDIRECTION;
		flags |= supported & VBLK_PERF_INTERRUPT_MESSAGE_RANGES;
	}
	return flags;
}
