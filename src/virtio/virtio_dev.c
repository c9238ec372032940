/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio core: transport-independent device logic.
 *
 * Status handshake and feature negotiation (virtio 1.2 3.1.1 and 2.2),
 * device reset with a bounded wait (2.4), device configuration access with
 * the generation loop (2.5 / 4.1.4.3), MSI-X vector assignment and queue
 * sizing/validation before the ring code takes over.
 */
#include "virtio_internal.h"

/* Reset wait: RESET_POLLS * RESET_STALL_US is about one second. */
#define RESET_POLLS     100000u
#define RESET_STALL_US  10u
/* Config reads retried this often before the device is declared broken. */
#define CONFIG_RETRIES  64u

/* Bits 24..49 belong to the transport (6); the rest are device specific. */
#define TRANSPORT_MASK  (((1ull << 50) - 1) & ~((1ull << 24) - 1))
/* Transport features the core implements. */
#define CORE_FEATURES   (VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
			 VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |  \
			 VIRTIO_BIT(VIRTIO_F_RING_PACKED) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT))

const char *virtio_strerror(int err)
{
	switch (err) {
	case VIRTIO_OK:        return "success";
	case VIRTIO_EINVAL:    return "invalid argument";
	case VIRTIO_ENODEV:    return "no usable device or queue";
	case VIRTIO_EIO:       return "device returned an invalid value";
	case VIRTIO_ETIMEDOUT: return "device did not respond in time";
	case VIRTIO_ENOTSUP:   return "feature negotiation failed";
	case VIRTIO_ENOSPC:    return "virtqueue full";
	case VIRTIO_ENOENT:    return "no used buffer";
	case VIRTIO_EBROKEN:   return "virtqueue broken";
	case VIRTIO_ERANGE:    return "outside device region";
	default:               return "unknown error";
	}
}

bool virtio_is_legacy(const struct virtio_dev *dev)
{
	return dev->legacy;
}

uint8_t virtio_get_status(struct virtio_dev *dev)
{
	return dev->tr->get_status(dev);
}

static void add_status(struct virtio_dev *dev, uint8_t bits)
{
	dev->tr->set_status(dev, (uint8_t)(dev->tr->get_status(dev) | bits));
}

int virtio_reset(struct virtio_dev *dev)
{
	uint32_t i;

	if (!dev || !dev->tr)
		return VIRTIO_EINVAL;
	dev->features = 0;
	dev->features_ok = false;
	dev->tr->set_status(dev, VIRTIO_STATUS_RESET);
	/* The reset is complete only when the device reads back 0 (4.1.4.3.2). */
	for (i = 0; i < RESET_POLLS; i++) {
		if (dev->tr->get_status(dev) == 0)
			return VIRTIO_OK;
		if (dev->ops->stall_us)
			dev->ops->stall_us(dev->ctx, RESET_STALL_US);
	}
	virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: device did not complete reset\n");
	return VIRTIO_ETIMEDOUT;
}

int virtio_begin(struct virtio_dev *dev)
{
	int rc = virtio_reset(dev);

	if (rc != VIRTIO_OK)
		return rc;
	add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(dev, VIRTIO_STATUS_DRIVER);
	dev->device_features = dev->tr->get_features(dev);
	if (dev->legacy)
		dev->device_features &= 0xffffffffu;
	dev->generation = dev->tr->generation(dev);
	return VIRTIO_OK;
}

uint64_t virtio_device_features(const struct virtio_dev *dev)
{
	return dev->device_features;
}

uint64_t virtio_features(const struct virtio_dev *dev)
{
	return dev->features;
}

uint16_t virtio_num_queues(const struct virtio_dev *dev)
{
	return dev->num_queues;
}

bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit)
{
	return bit < 64 && (dev->features & VIRTIO_BIT(bit)) != 0;
}

int virtio_negotiate(struct virtio_dev *dev, uint64_t driver_features, uint64_t *negotiated)
{
	uint64_t want, offered;
	uint8_t status;

	if (!dev || !dev->tr)
		return VIRTIO_EINVAL;
	status = dev->tr->get_status(dev);
	if (!(status & VIRTIO_STATUS_DRIVER) || (status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK))) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: negotiate called in status 0x%x\n", status);
		return VIRTIO_EINVAL;
	}
	offered = dev->device_features;
	want = (driver_features & ~TRANSPORT_MASK) | (driver_features & TRANSPORT_MASK & CORE_FEATURES);
	/* The platform restricts DMA anyway; refusing it could fail FEATURES_OK. */
	want |= VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
	if (dev->legacy) {
		want &= 0xffffffffu;
	} else {
		if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
			virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: modern device without VERSION_1\n");
			virtio_fail(dev);
			return VIRTIO_ENOTSUP;
		}
		want |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
	}
	want &= offered;
	dev->tr->set_features(dev, want);
	if (!dev->legacy) {
		add_status(dev, VIRTIO_STATUS_FEATURES_OK);
		status = dev->tr->get_status(dev);
		if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_log(dev, VIRTIO_LOG_ERROR,
				   "virtio: device rejected features 0x%x:%x (status 0x%x)\n",
				   (uint32_t)(want >> 32), (uint32_t)want, status);
			virtio_fail(dev);
			return VIRTIO_ENOTSUP;
		}
	}
	/* Some devices add queues for a feature once it is accepted (QEMU's
	 * virtio-net creates its extra pairs only with VIRTIO_NET_F_MQ). */
	dev->num_queues = dev->tr->num_queues(dev);
	dev->features = want;
	dev->features_ok = true;
	if (negotiated)
		*negotiated = want;
	return VIRTIO_OK;
}

int virtio_driver_ok(struct virtio_dev *dev)
{
	if (!dev || !dev->tr || !dev->features_ok)
		return VIRTIO_EINVAL;
	add_status(dev, VIRTIO_STATUS_DRIVER_OK);
	if (dev->tr->get_status(dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return VIRTIO_EIO;
	return VIRTIO_OK;
}

void virtio_fail(struct virtio_dev *dev)
{
	if (dev && dev->tr)
		add_status(dev, VIRTIO_STATUS_FAILED);
}

bool virtio_needs_reset(struct virtio_dev *dev)
{
	return (dev->tr->get_status(dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

/* ------------------------------------------------------------------ */
/* Device configuration                                               */

uint32_t virtio_config_len(const struct virtio_dev *dev)
{
	return dev->device.present ? dev->device.len : 0;
}

static int cfg_check(const struct virtio_dev *dev, uint32_t off, uint32_t size, uint32_t align)
{
	if (!dev || !dev->tr)
		return VIRTIO_EINVAL;
	if (!dev->device.present || (uint64_t)off + size > dev->device.len)
		return VIRTIO_ERANGE;
	if (off % align != 0)
		return VIRTIO_EINVAL;
	return VIRTIO_OK;
}

/*
 * Run read() until the device shows the same config generation before and
 * after (modern), or the same value twice in a row (legacy, which has no
 * generation counter). Bounded: a device that never settles is an error.
 * Legacy config is guest-endian, which is little-endian on every target.
 */
typedef void (*cfg_reader)(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len);

static int cfg_stable_read(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len, cfg_reader read)
{
	uint8_t tmp[64];
	uint32_t i;

	for (i = 0; i < CONFIG_RETRIES; i++) {
		if (!dev->legacy) {
			uint8_t g1 = dev->tr->generation(dev), g2;

			read(dev, off, buf, len);
			g2 = dev->tr->generation(dev);
			if (g1 == g2)
				return VIRTIO_OK;
		} else {
			uint32_t done = 0;
			bool same = true;

			read(dev, off, buf, len);
			/* Compare in chunks so arbitrary lengths need no big stack buffer. */
			while (done < len && same) {
				uint32_t n = len - done < sizeof(tmp) ? len - done : (uint32_t)sizeof(tmp);

				read(dev, off + done, tmp, n);
				same = __builtin_memcmp(tmp, (uint8_t *)buf + done, n) == 0;
				done += n;
			}
			if (same)
				return VIRTIO_OK;
		}
	}
	virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: device config at 0x%x never stable\n", off);
	return VIRTIO_EIO;
}

static void read_bytes(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	for (uint32_t i = 0; i < len; i++)
		p[i] = vreg_read8(dev, &dev->device, off + i);
}

static void read_u64(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	uint64_t lo = le32_to_cpu(vreg_read32(dev, &dev->device, off));
	uint64_t hi = le32_to_cpu(vreg_read32(dev, &dev->device, off + 4));
	uint64_t v = lo | (hi << 32);

	(void)len;
	memcpy(buf, &v, sizeof(v));
}

int virtio_config_read8(struct virtio_dev *dev, uint32_t off, uint8_t *val)
{
	int rc = cfg_check(dev, off, 1, 1);

	if (rc == VIRTIO_OK)
		*val = vreg_read8(dev, &dev->device, off);
	return rc;
}

int virtio_config_read16(struct virtio_dev *dev, uint32_t off, uint16_t *val)
{
	int rc = cfg_check(dev, off, 2, 2);

	if (rc == VIRTIO_OK)
		*val = le16_to_cpu(vreg_read16(dev, &dev->device, off));
	return rc;
}

int virtio_config_read32(struct virtio_dev *dev, uint32_t off, uint32_t *val)
{
	int rc = cfg_check(dev, off, 4, 4);

	if (rc == VIRTIO_OK)
		*val = le32_to_cpu(vreg_read32(dev, &dev->device, off));
	return rc;
}

int virtio_config_read64(struct virtio_dev *dev, uint32_t off, uint64_t *val)
{
	/* The spec asks for aligned 32-bit accesses to 64-bit fields, so 4 suffices. */
	int rc = cfg_check(dev, off, 8, 4);

	if (rc != VIRTIO_OK)
		return rc;
	return cfg_stable_read(dev, off, val, 8, read_u64);
}

int virtio_config_read_bytes(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	int rc = cfg_check(dev, off, len, 1);

	if (rc != VIRTIO_OK)
		return rc;
	if (!buf && len)
		return VIRTIO_EINVAL;
	return cfg_stable_read(dev, off, buf, len, read_bytes);
}

int virtio_config_write8(struct virtio_dev *dev, uint32_t off, uint8_t val)
{
	int rc = cfg_check(dev, off, 1, 1);

	if (rc == VIRTIO_OK)
		vreg_write8(dev, &dev->device, off, val);
	return rc;
}

int virtio_config_write16(struct virtio_dev *dev, uint32_t off, uint16_t val)
{
	int rc = cfg_check(dev, off, 2, 2);

	if (rc == VIRTIO_OK)
		vreg_write16(dev, &dev->device, off, cpu_to_le16(val));
	return rc;
}

int virtio_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	int rc = cfg_check(dev, off, 4, 4);

	if (rc == VIRTIO_OK)
		vreg_write32(dev, &dev->device, off, cpu_to_le32(val));
	return rc;
}

bool virtio_config_changed(struct virtio_dev *dev)
{
	uint8_t g;

	if (dev->legacy)
		return false;       /* legacy reports changes only through the ISR bit */
	g = dev->tr->generation(dev);
	if (g == dev->generation)
		return false;
	dev->generation = g;
	return true;
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                         */

uint8_t virtio_isr_read(struct virtio_dev *dev)
{
	return vreg_read8(dev, &dev->isr, 0);
}

int virtio_set_config_vector(struct virtio_dev *dev, uint16_t vector)
{
	uint16_t rb;

	if (!dev || !dev->tr)
		return VIRTIO_EINVAL;
	if (dev->legacy && !dev->msix_enabled)
		return vector == VIRTIO_MSI_NO_VECTOR ? VIRTIO_OK : VIRTIO_EINVAL;
	rb = dev->tr->set_config_vector(dev, vector);
	if (rb != vector) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: config vector %u refused (read 0x%x)\n", vector, rb);
		return VIRTIO_EIO;
	}
	return VIRTIO_OK;
}

/* ------------------------------------------------------------------ */
/* Queues                                                             */

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

bool vq_compute_layout(uint16_t size, bool packed, bool legacy, uint16_t indirect_max, struct vq_layout *l)
{
	uint64_t ind;

	if (size == 0 || indirect_max > size)
		return false;
	if (packed) {
		if (size > VIRTQ_PACKED_MAX_SIZE || legacy)
			return false;
		l->desc_off = 0;
		l->driver_off = (size_t)16 * size;
		l->device_off = l->driver_off + sizeof(struct virtq_packed_event);
		l->indirect_off = align_up(l->device_off + sizeof(struct virtq_packed_event), 16);
	} else {
		if (!is_pow2(size) || size > VIRTQ_SPLIT_MAX_SIZE)
			return false;
		l->desc_off = 0;
		l->driver_off = (size_t)16 * size;
		/* avail: flags, idx, ring[size], used_event */
		l->device_off = align_up(l->driver_off + 6 + (size_t)2 * size,
					 legacy ? VIRTQ_LEGACY_ALIGN : VIRTQ_USED_ALIGN);
		/* used: flags, idx, ring[size], avail_event */
		l->indirect_off = align_up(l->device_off + 6 + (size_t)8 * size, 16);
	}
	/* Indirect tables: one per possible head, 16 bytes per entry. */
	ind = (uint64_t)size * indirect_max * 16u;
	if (ind > (uint64_t)(SIZE_MAX / 2) - l->indirect_off)
		return false;
	l->total = l->indirect_off + (size_t)ind;
	return true;
}

int virtio_queue_max_size(struct virtio_dev *dev, uint16_t index, uint16_t *size)
{
	uint16_t max;
	bool packed;

	if (!dev || !dev->tr || !size)
		return VIRTIO_EINVAL;
	if (!dev->legacy && index >= dev->num_queues)
		return VIRTIO_ENODEV;
	max = dev->tr->queue_max(dev, index);
	if (max == 0)
		return VIRTIO_ENODEV;
	packed = virtio_has_feature(dev, VIRTIO_F_RING_PACKED);
	if (max > VIRTQ_SPLIT_MAX_SIZE || (!packed && !is_pow2(max))) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u invalid size %u from device\n", index, max);
		return VIRTIO_EIO;
	}
	*size = max;
	return VIRTIO_OK;
}

size_t virtio_queue_ring_size(const struct virtio_dev *dev, uint16_t size, uint16_t indirect_max)
{
	struct vq_layout l;

	if (!dev || !vq_compute_layout(size, virtio_has_feature(dev, VIRTIO_F_RING_PACKED), dev->legacy,
				       indirect_max, &l))
		return 0;
	return l.total;
}

int virtio_queue_setup(struct virtio_dev *dev, const struct virtio_queue_params *p, struct virtq **vq)
{
	struct vq_layout l;
	uint16_t max, size;
	uintptr_t notify_addr = 0;
	bool notify_io = false, packed;
	int rc;

	if (!dev || !dev->tr || !p || !vq || !p->ring_va || !p->state)
		return VIRTIO_EINVAL;
	*vq = NULL;
	/* Queues are programmed between FEATURES_OK and DRIVER_OK only (3.1.1). */
	if (!dev->features_ok || (dev->tr->get_status(dev) & VIRTIO_STATUS_DRIVER_OK)) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u setup outside the init window\n", p->index);
		return VIRTIO_EINVAL;
	}
	rc = virtio_queue_max_size(dev, p->index, &max);
	if (rc != VIRTIO_OK)
		return rc;
	packed = virtio_has_feature(dev, VIRTIO_F_RING_PACKED);
	size = p->size ? p->size : max;
	if (size > max || (dev->legacy && size != max) || (!packed && !is_pow2(size))) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u size %u not usable (device max %u)\n",
			   p->index, size, max);
		return VIRTIO_EINVAL;
	}
	if (!vq_compute_layout(size, packed, dev->legacy, p->indirect_max, &l))
		return VIRTIO_EINVAL;
	if (p->ring_len < l.total || p->state_len < virtio_queue_state_size(size) ||
	    ((uintptr_t)p->ring_va & (VIRTIO_RING_ALIGN - 1)) || (p->ring_pa & (VIRTIO_RING_ALIGN - 1)) ||
	    ((uintptr_t)p->state & (sizeof(void *) - 1)))
		return VIRTIO_EINVAL;
	if (p->ring_pa + l.total < p->ring_pa)
		return VIRTIO_EINVAL;
	if (p->msix_vector != VIRTIO_MSI_NO_VECTOR && dev->legacy && !dev->msix_enabled)
		return VIRTIO_EINVAL;

	/* Rings are initialised before the device learns their address. */
	memset(p->ring_va, 0, l.total);
	rc = vq_construct(dev, p, size, &l, vq);
	if (rc != VIRTIO_OK)
		return rc;
	rc = dev->tr->queue_activate(dev, p->index, size, p->ring_pa + l.desc_off, p->ring_pa + l.driver_off,
				     p->ring_pa + l.device_off, p->msix_vector, &notify_addr, &notify_io);
	if (rc != VIRTIO_OK) {
		*vq = NULL;
		return rc;
	}
	vq_set_notify(*vq, notify_addr, notify_io);
	return VIRTIO_OK;
}
