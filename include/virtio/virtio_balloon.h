/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: traditional memory balloon wire format (virtio 1.2 5.5).
 * Queues: 0 inflateq, 1 deflateq, 2 statsq (STATS_VQ), then free_page_vq
 * (FREE_PAGE_HINT) and reporting_vq (PAGE_REPORTING) when negotiated.
 * Inflate/deflate buffers are arrays of le32 page frame numbers in
 * VIRTIO_BALLOON_PFN_SHIFT units, whatever the guest page size.
 */
#ifndef OPENVDP_VIRTIO_BALLOON_H
#define OPENVDP_VIRTIO_BALLOON_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"

#define VIRTIO_BALLOON_F_MUST_TELL_HOST  0
#define VIRTIO_BALLOON_F_STATS_VQ        1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM  2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT  3
#define VIRTIO_BALLOON_F_PAGE_POISON     4
#define VIRTIO_BALLOON_F_PAGE_REPORTING  5

#define VIRTIO_BALLOON_PFN_SHIFT         12

struct virtio_balloon_config {
	le32 num_pages;              /* requested size, in 4 KiB pages (device writes) */
	le32 actual;                 /* current size (driver writes) */
	le32 free_page_hint_cmd_id;  /* FREE_PAGE_HINT */
	le32 poison_val;             /* PAGE_POISON */
};

/* Statistics tags (statsq). */
#define VIRTIO_BALLOON_S_SWAP_IN         0
#define VIRTIO_BALLOON_S_SWAP_OUT        1
#define VIRTIO_BALLOON_S_MAJFLT          2
#define VIRTIO_BALLOON_S_MINFLT          3
#define VIRTIO_BALLOON_S_MEMFREE         4
#define VIRTIO_BALLOON_S_MEMTOT          5
#define VIRTIO_BALLOON_S_AVAIL           6
#define VIRTIO_BALLOON_S_CACHES          7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC    8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL     9

/* Unaligned on the wire: 10 bytes per entry. */
struct __attribute__((packed)) virtio_balloon_stat {
	le16 tag;
	le64 val;
};

_Static_assert(sizeof(struct virtio_balloon_config) == 16, "balloon cfg");
_Static_assert(offsetof(struct virtio_balloon_config, actual) == 4, "balloon cfg");
_Static_assert(offsetof(struct virtio_balloon_config, poison_val) == 12, "balloon cfg");
_Static_assert(sizeof(struct virtio_balloon_stat) == 10, "balloon stat");

#endif /* OPENVDP_VIRTIO_BALLOON_H */
