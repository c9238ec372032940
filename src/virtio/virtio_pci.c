/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio core: PCI transport discovery and the two register
 * layouts (virtio 1.2 section 4.1).
 *
 *   - capability walk: every vendor capability is checked against the BAR
 *     the OS reports (bar number, offset alignment, length, 32-bit
 *     wrap-around, overlap with the other structures);
 *   - modern transport: common/notify/ISR/device regions;
 *   - legacy transport: the BAR0 I/O header of transitional devices.
 *
 * Transport-independent logic (status handshake, negotiation, config
 * generation loop, queue validation) lives in virtio_dev.c and reaches the
 * registers only through struct virtio_transport.
 */
#include "virtio_internal.h"

/* ------------------------------------------------------------------ */
/* PCI config space helpers                                           */

static bool cfg_read(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	return dev->ops->pci_cfg_read(dev->ctx, off, buf, len) == len;
}

static bool cfg_read8(struct virtio_dev *dev, uint32_t off, uint8_t *v)
{
	return cfg_read(dev, off, v, 1);
}

static bool cfg_read16(struct virtio_dev *dev, uint32_t off, uint16_t *v)
{
	le16 raw;

	if (!cfg_read(dev, off, &raw, 2))
		return false;
	*v = le16_to_cpu(raw);
	return true;
}

/* Build a region from BAR + offset + length, validated against the BAR. */
static int region_from_bar(struct virtio_dev *dev, uint8_t bar, uint32_t offset, uint32_t length,
			   struct virtio_region *r)
{
	uintptr_t base;
	uint64_t bar_len;
	bool io;

	if (bar >= PCI_STD_NUM_BARS)
		return VIRTIO_ERANGE;
	if (!dev->ops->bar_info(dev->ctx, bar, &base, &bar_len, &io))
		return VIRTIO_ENODEV;
	/* 64-bit sum: a 32-bit offset + length must not wrap past the BAR. */
	if ((uint64_t)offset + (uint64_t)length > bar_len)
		return VIRTIO_ERANGE;
	if ((uintptr_t)(base + offset) < base)
		return VIRTIO_ERANGE;
	r->base = base + offset;
	r->len = length;
	r->bar = bar;
	r->io = io;
	r->present = true;
	return VIRTIO_OK;
}

static bool regions_overlap(const struct virtio_region *a, const struct virtio_region *b)
{
	if (!a->present || !b->present || a->bar != b->bar || a->io != b->io)
		return false;
	if (a->len == 0 || b->len == 0)
		return false;
	return a->base < b->base + b->len && b->base < a->base + a->len;
}

/* Per capability type: minimum length and required offset alignment. */
struct cap_rule {
	uint32_t min_len;
	uint32_t align;
	uint8_t min_cap_len;
};

static const struct cap_rule cap_rules[] = {
	[VIRTIO_PCI_CAP_COMMON_CFG] = { VIRTIO_PCI_COMMON_CFG_MIN_LEN, 4, sizeof(struct virtio_pci_cap) },
	[VIRTIO_PCI_CAP_NOTIFY_CFG] = { 2, 2, sizeof(struct virtio_pci_notify_cap) },
	[VIRTIO_PCI_CAP_ISR_CFG]    = { 1, 1, sizeof(struct virtio_pci_cap) },
	[VIRTIO_PCI_CAP_DEVICE_CFG] = { 0, 4, sizeof(struct virtio_pci_cap) },
};

/* Notify multiplier must be 0 or an even power of two (4.1.4.4). */
static bool notify_mult_valid(uint32_t m)
{
	return m == 0 || ((m & (m - 1)) == 0 && m >= 2);
}

/*
 * Find the MSI-X capability and whether MSI-X is on: the legacy register
 * layout depends on it, so this runs for every transport.
 */
static void probe_msix(struct virtio_dev *dev)
{
	uint16_t status, ctl;
	uint8_t ptr, id;

	if (!cfg_read16(dev, PCI_CFG_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST) ||
	    !cfg_read8(dev, PCI_CFG_CAP_PTR, &ptr))
		return;
	for (unsigned int guard = 0; ptr >= 0x40 && guard < 48; guard++) {
		ptr &= 0xfc;
		if (!cfg_read8(dev, ptr, &id))
			return;
		if (id == PCI_CAP_ID_MSIX) {
			dev->msix_cap = ptr;
			if (cfg_read16(dev, ptr + 2u, &ctl))
				dev->msix_enabled = (ctl & PCI_MSIX_FLAGS_ENABLE) != 0;
			return;
		}
		if (!cfg_read8(dev, ptr + 1u, &ptr))
			return;
	}
}

/*
 * Walk the capability list. The first valid capability of each type wins
 * (4.1.4); invalid ones are logged and skipped so a later valid copy can
 * still be used. Returns true when a usable modern layout was found.
 */
static bool walk_caps(struct virtio_dev *dev, int *why)
{
	struct virtio_region *slot[5] = { NULL, &dev->common, &dev->notify, &dev->isr, &dev->device };
	uint16_t status;
	uint8_t ptr;
	unsigned int guard;

	*why = VIRTIO_ENODEV;
	if (!cfg_read16(dev, PCI_CFG_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST))
		return false;
	if (!cfg_read8(dev, PCI_CFG_CAP_PTR, &ptr))
		return false;

	/* At most 48 capabilities fit in 0x40..0xff; more means a loop. */
	for (guard = 0; ptr != 0 && guard < 48; guard++) {
		struct virtio_pci_notify_cap nc;
		struct virtio_pci_cap *cap = &nc.cap;
		const struct cap_rule *rule;
		struct virtio_region r;
		uint8_t hdr[2];
		uint32_t off, len;
		int rc;

		ptr &= 0xfc;
		if (ptr < 0x40) {
			virtio_log(dev, VIRTIO_LOG_WARN, "virtio: capability pointer 0x%x invalid\n", ptr);
			break;
		}
		if (!cfg_read(dev, ptr, hdr, sizeof(hdr)))
			return false;
		if (hdr[0] != PCI_CAP_ID_VNDR)
			goto next;
		memset(&nc, 0, sizeof(nc));
		if (ptr + sizeof(*cap) > 0x100u || !cfg_read(dev, ptr, cap, sizeof(*cap)))
			goto next;
		if (cap->cfg_type >= sizeof(slot) / sizeof(slot[0]) || slot[cap->cfg_type] == NULL)
			goto next;              /* PCI_CFG, shared memory, vendor: unused */
		if (slot[cap->cfg_type]->present)
			goto next;              /* first valid one wins */
		rule = &cap_rules[cap->cfg_type];
		off = le32_to_cpu(cap->offset);
		len = le32_to_cpu(cap->length);
		if (cap->cap_len < rule->min_cap_len || ptr + (uint32_t)rule->min_cap_len > 0x100u) {
			virtio_log(dev, VIRTIO_LOG_WARN, "virtio: cap type %u at 0x%x: cap_len %u too short\n",
				   cap->cfg_type, ptr, cap->cap_len);
			goto next;
		}
		if (cap->bar >= PCI_STD_NUM_BARS) {
			virtio_log(dev, VIRTIO_LOG_WARN, "virtio: cap type %u: reserved bar %u ignored\n",
				   cap->cfg_type, cap->bar);
			goto next;
		}
		if (off % rule->align != 0 || len < rule->min_len) {
			virtio_log(dev, VIRTIO_LOG_WARN, "virtio: cap type %u: offset 0x%x / length 0x%x invalid\n",
				   cap->cfg_type, off, len);
			*why = VIRTIO_EIO;
			goto next;
		}
		if (cap->cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			if (!cfg_read(dev, ptr, &nc, sizeof(nc)))
				goto next;
			if (!notify_mult_valid(le32_to_cpu(nc.notify_off_multiplier))) {
				virtio_log(dev, VIRTIO_LOG_WARN, "virtio: notify_off_multiplier %u invalid\n",
					   le32_to_cpu(nc.notify_off_multiplier));
				*why = VIRTIO_EIO;
				goto next;
			}
		}
		memset(&r, 0, sizeof(r));
		rc = region_from_bar(dev, cap->bar, off, len, &r);
		if (rc != VIRTIO_OK) {
			virtio_log(dev, VIRTIO_LOG_WARN,
				   "virtio: cap type %u: bar %u offset 0x%x length 0x%x outside the BAR\n",
				   cap->cfg_type, cap->bar, off, len);
			*why = VIRTIO_ERANGE;
			goto next;
		}
		*slot[cap->cfg_type] = r;
		if (cap->cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			dev->notify_mult = le32_to_cpu(nc.notify_off_multiplier);
next:
		if (!cfg_read8(dev, ptr + 1u, &ptr))
			return false;
	}

	if (!dev->common.present || !dev->notify.present || !dev->isr.present) {
		if (dev->common.present || dev->notify.present || dev->isr.present)
			virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: modern capabilities incomplete\n");
		return false;
	}
	/* A structure overlapping another would let a write to one alter the other. */
	for (unsigned int i = 1; i < 5; i++)
		for (unsigned int j = i + 1; j < 5; j++)
			if (regions_overlap(slot[i], slot[j])) {
				virtio_log(dev, VIRTIO_LOG_ERROR,
					   "virtio: capabilities %u and %u overlap\n", i, j);
				*why = VIRTIO_EIO;
				return false;
			}
	return true;
}

/* Legacy: everything is in BAR0; the device config offset depends on MSI-X. */
static uint32_t legacy_cfg_off(const struct virtio_dev *dev)
{
	return dev->msix_enabled ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG_NOMSIX;
}

static int legacy_layout(struct virtio_dev *dev)
{
	uint32_t cfg = legacy_cfg_off(dev);
	uintptr_t base;
	uint64_t bar_len;
	bool io;
	int rc;

	if (!dev->ops->bar_info(dev->ctx, 0, &base, &bar_len, &io))
		return VIRTIO_ENODEV;
	if (bar_len < cfg)
		return VIRTIO_ERANGE;
	/* Device config of any legacy device fits well within 4 KiB. */
	if (bar_len > 0x1000)
		bar_len = 0x1000;
	rc = region_from_bar(dev, 0, 0, cfg, &dev->common);
	if (rc == VIRTIO_OK)
		rc = region_from_bar(dev, 0, cfg, (uint32_t)(bar_len - cfg), &dev->device);
	if (rc == VIRTIO_OK)
		rc = region_from_bar(dev, 0, VIRTIO_PCI_LEGACY_QUEUE_NOTIFY, 2, &dev->notify);
	if (rc == VIRTIO_OK)
		rc = region_from_bar(dev, 0, VIRTIO_PCI_LEGACY_ISR, 1, &dev->isr);
	return rc;
}

int virtio_set_msix_enabled(struct virtio_dev *dev, bool enabled)
{
	bool was = dev->msix_enabled;
	int rc;

	dev->msix_enabled = enabled;
	if (!dev->legacy)
		return VIRTIO_OK;
	/* BAR0 may be too short for the MSI-X header: keep the old layout then. */
	rc = legacy_layout(dev);
	if (rc != VIRTIO_OK) {
		dev->msix_enabled = was;
		(void)legacy_layout(dev);
	}
	return rc;
}

static bool ops_complete(const struct virtio_os_ops *o)
{
	return o && o->mmio_read8 && o->mmio_read16 && o->mmio_read32 && o->mmio_write8 &&
	       o->mmio_write16 && o->mmio_write32 && o->io_read8 && o->io_read16 && o->io_read32 &&
	       o->io_write8 && o->io_write16 && o->io_write32 && o->pci_cfg_read && o->bar_info;
}

int virtio_init(struct virtio_dev *dev, const struct virtio_os_ops *ops, void *ctx, uint32_t flags)
{
	uint16_t vendor, device;
	bool transitional;
	int why = VIRTIO_ENODEV;

	if (!dev)
		return VIRTIO_EINVAL;
	memset(dev, 0, sizeof(*dev));
	if (!ops_complete(ops))
		return VIRTIO_EINVAL;
	dev->ops = ops;
	dev->ctx = ctx;

	if (!cfg_read16(dev, PCI_CFG_VENDOR_ID, &vendor) || !cfg_read16(dev, PCI_CFG_DEVICE_ID, &device))
		return VIRTIO_ENODEV;
	if (vendor != VIRTIO_PCI_VENDOR_ID) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: vendor 0x%x is not virtio\n", vendor);
		return VIRTIO_ENODEV;
	}
	dev->pci_device_id = device;
	transitional = device >= VIRTIO_PCI_DEVICE_ID_LEGACY_MIN && device <= VIRTIO_PCI_DEVICE_ID_LEGACY_MAX;
	if (!transitional && device < VIRTIO_PCI_DEVICE_ID_MODERN_BASE) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: device id 0x%x out of range\n", device);
		return VIRTIO_ENODEV;
	}

	probe_msix(dev);
	if (!(flags & VIRTIO_INIT_FORCE_LEGACY) && walk_caps(dev, &why)) {
		dev->tr = &virtio_modern_transport;
		dev->num_queues = dev->tr->num_queues(dev);
		dev->generation = vreg_read8(dev, &dev->common,
			offsetof(struct virtio_pci_common_cfg, config_generation));
		return VIRTIO_OK;
	}

	/* Forget partial modern results before trying BAR0. */
	{
		uint8_t msix_cap = dev->msix_cap;
		bool msix_en = dev->msix_enabled;

		memset(&dev->common, 0, sizeof(dev->common));
		memset(&dev->notify, 0, sizeof(dev->notify));
		memset(&dev->isr, 0, sizeof(dev->isr));
		memset(&dev->device, 0, sizeof(dev->device));
		dev->notify_mult = 0;
		dev->msix_cap = msix_cap;
		dev->msix_enabled = msix_en;
	}
	if (!transitional || (flags & VIRTIO_INIT_NO_LEGACY)) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: no usable modern capabilities\n");
		return why;
	}
	if (legacy_layout(dev) != VIRTIO_OK) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: legacy BAR0 missing or too small\n");
		return VIRTIO_ENODEV;
	}
	dev->legacy = true;
	dev->tr = &virtio_legacy_transport;
	return VIRTIO_OK;
}

uint16_t virtio_device_type(const struct virtio_dev *dev)
{
	uint16_t id = dev->pci_device_id;
	le16 sub;

	if (id >= VIRTIO_PCI_DEVICE_ID_MODERN_BASE)
		return (uint16_t)(id - VIRTIO_PCI_DEVICE_ID_MODERN_BASE);
	/* Transitional devices carry the type in the subsystem device id. */
	if (dev->ops->pci_cfg_read(dev->ctx, PCI_CFG_SUBSYSTEM_ID, &sub, 2) == 2)
		return le16_to_cpu(sub);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Modern transport                                                   */

#define CC(field) ((uint32_t)offsetof(struct virtio_pci_common_cfg, field))

static uint8_t modern_get_status(struct virtio_dev *dev)
{
	return vreg_read8(dev, &dev->common, CC(device_status));
}

static void modern_set_status(struct virtio_dev *dev, uint8_t status)
{
	vreg_write8(dev, &dev->common, CC(device_status), status);
}

static uint64_t modern_get_features(struct virtio_dev *dev)
{
	uint64_t lo, hi;

	vreg_write32(dev, &dev->common, CC(device_feature_select), cpu_to_le32(0));
	lo = le32_to_cpu(vreg_read32(dev, &dev->common, CC(device_feature)));
	vreg_write32(dev, &dev->common, CC(device_feature_select), cpu_to_le32(1));
	hi = le32_to_cpu(vreg_read32(dev, &dev->common, CC(device_feature)));
	return lo | (hi << 32);
}

static void modern_set_features(struct virtio_dev *dev, uint64_t f)
{
	vreg_write32(dev, &dev->common, CC(driver_feature_select), cpu_to_le32(0));
	vreg_write32(dev, &dev->common, CC(driver_feature), cpu_to_le32((uint32_t)f));
	vreg_write32(dev, &dev->common, CC(driver_feature_select), cpu_to_le32(1));
	vreg_write32(dev, &dev->common, CC(driver_feature), cpu_to_le32((uint32_t)(f >> 32)));
}

static uint16_t modern_num_queues(struct virtio_dev *dev)
{
	return le16_to_cpu(vreg_read16(dev, &dev->common, CC(num_queues)));
}

static uint8_t modern_generation(struct virtio_dev *dev)
{
	return vreg_read8(dev, &dev->common, CC(config_generation));
}

static uint16_t modern_set_config_vector(struct virtio_dev *dev, uint16_t vector)
{
	vreg_write16(dev, &dev->common, CC(config_msix_vector), cpu_to_le16(vector));
	return le16_to_cpu(vreg_read16(dev, &dev->common, CC(config_msix_vector)));
}

static uint16_t modern_queue_max(struct virtio_dev *dev, uint16_t index)
{
	vreg_write16(dev, &dev->common, CC(queue_select), cpu_to_le16(index));
	return le16_to_cpu(vreg_read16(dev, &dev->common, CC(queue_size)));
}

static void write64(struct virtio_dev *dev, uint32_t off, uint64_t v)
{
	/* Two 32-bit halves, low first: 64-bit MMIO is not atomic on x86. */
	vreg_write32(dev, &dev->common, off, cpu_to_le32((uint32_t)v));
	vreg_write32(dev, &dev->common, off + 4, cpu_to_le32((uint32_t)(v >> 32)));
}

static int modern_queue_activate(struct virtio_dev *dev, uint16_t index, uint16_t size,
				 uint64_t desc_pa, uint64_t driver_pa, uint64_t device_pa,
				 uint16_t vector, uintptr_t *notify_addr, bool *notify_io)
{
	uint16_t notify_off, rb;
	uint64_t noff;

	vreg_write16(dev, &dev->common, CC(queue_select), cpu_to_le16(index));
	if (le16_to_cpu(vreg_read16(dev, &dev->common, CC(queue_enable))) != 0) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u already enabled\n", index);
		return VIRTIO_EIO;
	}
	notify_off = le16_to_cpu(vreg_read16(dev, &dev->common, CC(queue_notify_off)));
	noff = (uint64_t)notify_off * dev->notify_mult;
	if (noff + 2 > dev->notify.len) {
		virtio_log(dev, VIRTIO_LOG_ERROR,
			   "virtio: queue %u notify offset %u x %u outside notify region (0x%x)\n",
			   index, notify_off, dev->notify_mult, dev->notify.len);
		return VIRTIO_ERANGE;
	}
	vreg_write16(dev, &dev->common, CC(queue_size), cpu_to_le16(size));
	vreg_write16(dev, &dev->common, CC(queue_msix_vector), cpu_to_le16(vector));
	rb = le16_to_cpu(vreg_read16(dev, &dev->common, CC(queue_msix_vector)));
	if (rb != vector) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u refused MSI-X vector %u (read 0x%x)\n",
			   index, vector, rb);
		return VIRTIO_EIO;
	}
	write64(dev, CC(queue_desc), desc_pa);
	write64(dev, CC(queue_driver), driver_pa);
	write64(dev, CC(queue_device), device_pa);
	vreg_write16(dev, &dev->common, CC(queue_enable), cpu_to_le16(1));
	*notify_addr = dev->notify.base + (uintptr_t)noff;
	*notify_io = dev->notify.io;
	return VIRTIO_OK;
}

const struct virtio_transport virtio_modern_transport = {
	.name = "modern",
	.get_status = modern_get_status,
	.set_status = modern_set_status,
	.get_features = modern_get_features,
	.set_features = modern_set_features,
	.num_queues = modern_num_queues,
	.generation = modern_generation,
	.set_config_vector = modern_set_config_vector,
	.queue_max = modern_queue_max,
	.queue_activate = modern_queue_activate,
};

/* ------------------------------------------------------------------ */
/* Legacy transport (BAR0 I/O header)                                 */

static uint8_t legacy_get_status(struct virtio_dev *dev)
{
	return vreg_read8(dev, &dev->common, VIRTIO_PCI_LEGACY_STATUS);
}

static void legacy_set_status(struct virtio_dev *dev, uint8_t status)
{
	vreg_write8(dev, &dev->common, VIRTIO_PCI_LEGACY_STATUS, status);
}

static uint64_t legacy_get_features(struct virtio_dev *dev)
{
	return le32_to_cpu(vreg_read32(dev, &dev->common, VIRTIO_PCI_LEGACY_HOST_FEATURES));
}

static void legacy_set_features(struct virtio_dev *dev, uint64_t f)
{
	vreg_write32(dev, &dev->common, VIRTIO_PCI_LEGACY_GUEST_FEATURES, cpu_to_le32((uint32_t)f));
}

static uint16_t legacy_num_queues(struct virtio_dev *dev)
{
	(void)dev;
	return 0;
}

static uint8_t legacy_generation(struct virtio_dev *dev)
{
	(void)dev;
	return 0;
}

/* Vector registers exist only while MSI-X is on; BAR0 is >= 0x18 then. */
static uint16_t legacy_set_config_vector(struct virtio_dev *dev, uint16_t vector)
{
	vreg_write16(dev, &dev->common, VIRTIO_PCI_LEGACY_CONFIG_VECTOR, cpu_to_le16(vector));
	return le16_to_cpu(vreg_read16(dev, &dev->common, VIRTIO_PCI_LEGACY_CONFIG_VECTOR));
}

static uint16_t legacy_queue_max(struct virtio_dev *dev, uint16_t index)
{
	vreg_write16(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_SEL, cpu_to_le16(index));
	return le16_to_cpu(vreg_read16(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_NUM));
}

static int legacy_queue_activate(struct virtio_dev *dev, uint16_t index, uint16_t size,
				 uint64_t desc_pa, uint64_t driver_pa, uint64_t device_pa,
				 uint16_t vector, uintptr_t *notify_addr, bool *notify_io)
{
	uint64_t pfn = desc_pa >> VIRTIO_LEGACY_PFN_SHIFT;

	(void)size;
	(void)driver_pa;
	(void)device_pa;
	if ((desc_pa & (VIRTQ_LEGACY_ALIGN - 1)) != 0 || pfn == 0 || pfn > 0xffffffffu) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: legacy queue %u ring not addressable by a 32-bit PFN\n",
			   index);
		return VIRTIO_EINVAL;
	}
	vreg_write16(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_SEL, cpu_to_le16(index));
	if (le32_to_cpu(vreg_read32(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_PFN)) != 0) {
		virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: legacy queue %u already active\n", index);
		return VIRTIO_EIO;
	}
	if (dev->msix_enabled) {
		uint16_t rb;

		vreg_write16(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_VECTOR, cpu_to_le16(vector));
		rb = le16_to_cpu(vreg_read16(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_VECTOR));
		if (rb != vector) {
			virtio_log(dev, VIRTIO_LOG_ERROR, "virtio: queue %u refused MSI-X vector %u (read 0x%x)\n",
				   index, vector, rb);
			return VIRTIO_EIO;
		}
	}
	vreg_write32(dev, &dev->common, VIRTIO_PCI_LEGACY_QUEUE_PFN, cpu_to_le32((uint32_t)pfn));
	*notify_addr = dev->notify.base;
	*notify_io = dev->notify.io;
	return VIRTIO_OK;
}

const struct virtio_transport virtio_legacy_transport = {
	.name = "legacy",
	.get_status = legacy_get_status,
	.set_status = legacy_set_status,
	.get_features = legacy_get_features,
	.set_features = legacy_set_features,
	.num_queues = legacy_num_queues,
	.generation = legacy_generation,
	.set_config_vector = legacy_set_config_vector,
	.queue_max = legacy_queue_max,
	.queue_activate = legacy_queue_activate,
};
