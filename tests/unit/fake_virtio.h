/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-memory fake virtio PCI device for the core's unit tests.
 *
 * It implements struct virtio_os_ops: PCI config space with virtio vendor
 * capabilities, a memory BAR (common / ISR / device / notify regions) and a
 * legacy I/O BAR0, plus a device-side ring engine that consumes the
 * driver's split or packed rings and produces used entries. Bus addresses
 * are host pointers. Knobs make it misbehave for the hostile tests.
 */
#ifndef OPENVDP_FAKE_VIRTIO_H
#define OPENVDP_FAKE_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <virtio/virtio.h>

#define FAKE_MAX_QUEUES   4
#define FAKE_MAX_SEGS     64
#define FAKE_MMIO_BAR     4
#define FAKE_MMIO_BASE    ((uintptr_t)0x10000000u)
#define FAKE_MMIO_LEN     0x4000u
#define FAKE_IO_BASE      ((uintptr_t)0xc000u)
#define FAKE_IO_LEN       0x40u
/* Offsets in the MMIO BAR (QEMU-like: one page per structure). */
#define FAKE_COMMON_OFF   0x0000u
#define FAKE_ISR_OFF      0x1000u
#define FAKE_DEVICE_OFF   0x2000u
#define FAKE_NOTIFY_OFF   0x3000u
#define FAKE_NOTIFY_MULT  4u
/* Config-space offsets of the capabilities built by fake_init(). */
#define FAKE_CAP_COMMON   0x40u
#define FAKE_CAP_ISR      0x50u
#define FAKE_CAP_DEVICE   0x60u
#define FAKE_CAP_NOTIFY   0x70u
#define FAKE_CAP_MSIX     0x84u

struct fake_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* One chain as the device sees it. */
struct fake_chain {
	uint16_t id;                 /* split: head index; packed: buffer id */
	uint16_t ndesc;              /* ring descriptors consumed */
	uint16_t nseg;
	bool indirect;
	uint32_t out_len, in_len;
	struct fake_seg seg[FAKE_MAX_SEGS];
};

struct fake_queue {
	uint16_t max_size;
	uint16_t size;
	uint16_t msix;
	uint16_t notify_off;
	uint16_t enable;
	uint64_t desc, driver, device;
	uint32_t pfn;                /* legacy */
	/* device-side ring engine */
	uint16_t last_avail;         /* split: free-running; packed: position */
	bool avail_wrap;
	uint16_t used_idx;           /* split: free-running; packed: position */
	bool used_wrap;
	uint16_t ndesc_by_id[32768]; /* packed: chain length per buffer id */
	uint32_t notifies;
	uint32_t interrupts;
	bool refuse_msix;
};

struct fake_virtio {
	struct virtio_os_ops ops;
	uint8_t cfg[256];
	uint64_t bar_len[6];
	uintptr_t bar_base[6];
	bool bar_io[6];
	/* modern registers */
	uint32_t dfselect, gfselect;
	uint64_t dev_features, drv_features;
	uint16_t config_msix;
	uint8_t status;
	uint8_t generation;
	uint16_t queue_select;
	uint16_t num_queues;
	uint8_t isr;
	uint8_t devcfg[256];
	uint32_t devcfg_len;
	bool msix_enabled;           /* legacy: vector registers present */
	struct fake_queue q[FAKE_MAX_QUEUES];
	/* hostile knobs */
	bool never_reset;            /* status write of 0 is ignored */
	bool reject_features_ok;     /* FEATURES_OK never sticks */
	bool refuse_config_msix;
	uint32_t gen_bumps;          /* bump generation on this many config reads */
	uint16_t queues_on_feature;  /* num_queues once FEATURES_OK is accepted (0: unchanged) */
	/* DMA arena: rings live at small bus addresses so that legacy 32-bit PFNs work */
	uint8_t *arena_raw;
	uint8_t *arena;
	size_t arena_used;
	/* observations */
	uint32_t log_count;
	char last_log[256];
	char log_all[8192];          /* every message, concatenated */
	uint32_t resets;
	uint64_t stalled_us;
};

/* Modern (and transitional when legacy_bar) device with num_queues queues. */
void fake_init(struct fake_virtio *f, uint16_t virtio_id, uint16_t num_queues, uint16_t queue_size,
	       bool modern_caps, bool legacy_bar);
/* Release what fake_init() allocated (the DMA arena) and f itself. */
void fake_destroy(struct fake_virtio *f);
/* Bus addresses: arena memory maps to FAKE_DMA_BASE.., anything else is a host pointer. */
#define FAKE_DMA_BASE     0x70000000000ull
#define FAKE_ARENA_LEN    (4u << 20)
void *fake_dma_alloc(struct fake_virtio *f, size_t len, uint64_t *bus);
uint64_t fake_bus(const struct fake_virtio *f, const void *p);
/* Write a capability header at cfg offset (for hostile capability tests). */
void fake_set_cap(struct fake_virtio *f, uint8_t at, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length);

/* Device side of the rings. pop: 1 chain returned, 0 none, -1 malformed. */
int fake_pop(struct fake_virtio *f, uint16_t qi, struct fake_chain *c);
/* Write one used entry; counts an interrupt if suppression allows. */
void fake_push(struct fake_virtio *f, uint16_t qi, uint16_t id, uint32_t len);
/* Pop everything, copy out-data to in-buffers (echo), push. Returns chains served. */
uint32_t fake_serve_echo(struct fake_virtio *f, uint16_t qi);
/* Device wants notifications (split: avail_event / flags; packed: device event). */
void fake_set_notify_suppression(struct fake_virtio *f, uint16_t qi, bool suppress);

/* Raw hostile writes. */
void fake_split_write_used(struct fake_virtio *f, uint16_t qi, uint16_t slot, uint32_t id, uint32_t len);
void fake_split_set_avail_event(struct fake_virtio *f, uint16_t qi, uint16_t v);
void fake_split_set_used_idx(struct fake_virtio *f, uint16_t qi, uint16_t idx);
void fake_packed_write_desc(struct fake_virtio *f, uint16_t qi, uint16_t pos, uint16_t id, uint32_t len,
			    uint16_t flags);

bool fake_features_packed(const struct fake_virtio *f);

#endif /* OPENVDP_FAKE_VIRTIO_H */

/* Test helpers: DMA-like memory for one queue (bus address = host address). */
struct fake_ring {
	void *ring;
	uint64_t ring_bus;
	void *state;
	size_t ring_len;
	struct virtq *vq;
};

/* init + begin + negotiate(features); returns the first failing VIRTIO_* code. */
int fake_bringup(struct fake_virtio *f, struct virtio_dev *dev, uint32_t init_flags, uint64_t features);
int fake_setup_queue(struct virtio_dev *dev, uint16_t index, uint16_t size, uint16_t indirect_max,
		     uint16_t vector, struct fake_ring *r);
void fake_free_ring(struct fake_ring *r);
