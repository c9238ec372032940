/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio core: private declarations shared by the core's files.
 */
#ifndef OPENVDP_VIRTIO_INTERNAL_H
#define OPENVDP_VIRTIO_INTERNAL_H

#include <virtio/virtio.h>

/* Freestanding: no <string.h>; the builtins lower to the kernel's mem*. */
#define memset  __builtin_memset
#define memcpy  __builtin_memcpy

/* Transport operations: one table for modern, one for legacy. */
struct virtio_transport {
	const char *name;
	uint8_t (*get_status)(struct virtio_dev *dev);
	void (*set_status)(struct virtio_dev *dev, uint8_t status);
	uint64_t (*get_features)(struct virtio_dev *dev);
	void (*set_features)(struct virtio_dev *dev, uint64_t features);
	/* Queues the device has now; legacy has no count and returns 0. */
	uint16_t (*num_queues)(struct virtio_dev *dev);
	/* Config generation; legacy has none and returns 0. */
	uint8_t (*generation)(struct virtio_dev *dev);
	/* Write the config vector, return what the device reads back. */
	uint16_t (*set_config_vector)(struct virtio_dev *dev, uint16_t vector);
	/* Select queue and return its maximum size as reported (unvalidated). */
	uint16_t (*queue_max)(struct virtio_dev *dev, uint16_t index);
	/* Program a selected, validated queue; fills notify address. */
	int (*queue_activate)(struct virtio_dev *dev, uint16_t index, uint16_t size,
			      uint64_t desc_pa, uint64_t driver_pa, uint64_t device_pa,
			      uint16_t vector, uintptr_t *notify_addr, bool *notify_io);
};

extern const struct virtio_transport virtio_modern_transport;
extern const struct virtio_transport virtio_legacy_transport;

/* Register access through the OS ops, MMIO or port I/O per region. */
static inline uint8_t vreg_read8(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off)
{
	return r->io ? d->ops->io_read8(d->ctx, r->base + off) : d->ops->mmio_read8(d->ctx, r->base + off);
}

static inline uint16_t vreg_read16(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off)
{
	return r->io ? d->ops->io_read16(d->ctx, r->base + off) : d->ops->mmio_read16(d->ctx, r->base + off);
}

static inline uint32_t vreg_read32(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off)
{
	return r->io ? d->ops->io_read32(d->ctx, r->base + off) : d->ops->mmio_read32(d->ctx, r->base + off);
}

static inline void vreg_write8(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off, uint8_t v)
{
	if (r->io)
		d->ops->io_write8(d->ctx, r->base + off, v);
	else
		d->ops->mmio_write8(d->ctx, r->base + off, v);
}

static inline void vreg_write16(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off, uint16_t v)
{
	if (r->io)
		d->ops->io_write16(d->ctx, r->base + off, v);
	else
		d->ops->mmio_write16(d->ctx, r->base + off, v);
}

static inline void vreg_write32(const struct virtio_dev *d, const struct virtio_region *r, uint32_t off, uint32_t v)
{
	if (r->io)
		d->ops->io_write32(d->ctx, r->base + off, v);
	else
		d->ops->mmio_write32(d->ctx, r->base + off, v);
}

/* Barriers: OS-provided or a full fence (orders both CPU and compiler). */
static inline void virtio_mb(const struct virtio_dev *d)
{
	if (d->ops->mb)
		d->ops->mb();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void virtio_rmb(const struct virtio_dev *d)
{
	if (d->ops->rmb)
		d->ops->rmb();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void virtio_wmb(const struct virtio_dev *d)
{
	if (d->ops->wmb)
		d->ops->wmb();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#define virtio_log(dev, level, ...)                                          \
	do {                                                                 \
		if ((dev)->ops && (dev)->ops->log)                           \
			(dev)->ops->log((dev)->ctx, (level), __VA_ARGS__);   \
	} while (0)

/* Ring memory layout, shared by size queries and queue setup. */
struct vq_layout {
	size_t desc_off;
	size_t driver_off;           /* split: avail ring; packed: driver event */
	size_t device_off;           /* split: used ring; packed: device event */
	size_t indirect_off;
	size_t total;
};

/* false if the combination is invalid (bad size, overflow). */
bool vq_compute_layout(uint16_t size, bool packed, bool legacy, uint16_t indirect_max, struct vq_layout *l);

/* Queue construction (virtqueue.c), called by virtio_queue_setup(). */
int vq_construct(struct virtio_dev *dev, const struct virtio_queue_params *p, uint16_t size,
		 const struct vq_layout *l, struct virtq **out);
void vq_set_notify(struct virtq *vq, uintptr_t addr, bool io);

#endif /* OPENVDP_VIRTIO_INTERNAL_H */
