/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-memory fake virtio PCI device; see fake_virtio.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_virtio.h"

static struct fake_virtio *F(void *ctx)
{
	return ctx;
}

/* The device engine has a single fake at a time; it translates bus addresses. */
static struct fake_virtio *cur;

static void *ptr(uint64_t a)
{
	if (cur && cur->arena && a >= FAKE_DMA_BASE && a < FAKE_DMA_BASE + FAKE_ARENA_LEN)
		return cur->arena + (a - FAKE_DMA_BASE);
	return (void *)(uintptr_t)a;
}

uint64_t fake_bus(const struct fake_virtio *f, const void *p)
{
	const uint8_t *b = p;

	if (f->arena && b >= f->arena && b < f->arena + FAKE_ARENA_LEN)
		return FAKE_DMA_BASE + (uint64_t)(b - f->arena);
	return (uint64_t)(uintptr_t)p;
}

void *fake_dma_alloc(struct fake_virtio *f, size_t len, uint64_t *bus)
{
	size_t at = (f->arena_used + 4095u) & ~(size_t)4095u;

	if (!f->arena || len > FAKE_ARENA_LEN - at)
		return NULL;
	f->arena_used = at + len;
	memset(f->arena + at, 0, len);
	*bus = FAKE_DMA_BASE + at;
	return f->arena + at;
}

void fake_destroy(struct fake_virtio *f)
{
	if (!f)
		return;
	if (cur == f)
		cur = NULL;
	free(f->arena_raw);
	free(f);
}

/* le16 trailing the used ring (avail_event), addressed by byte offset. */
static le16 *avail_event(struct fake_queue *q)
{
	return (le16 *)((uint8_t *)ptr(q->device) + 4 + 8u * q->size);
}

static bool has_drv(const struct fake_virtio *f, unsigned int bit)
{
	return (f->drv_features >> bit) & 1u;
}

bool fake_features_packed(const struct fake_virtio *f)
{
	return has_drv(f, VIRTIO_F_RING_PACKED);
}

static struct fake_queue *selq(struct fake_virtio *f)
{
	return f->queue_select < FAKE_MAX_QUEUES && f->queue_select < f->num_queues ? &f->q[f->queue_select] : NULL;
}

static void queue_start(struct fake_queue *q)
{
	q->last_avail = 0;
	q->used_idx = 0;
	q->avail_wrap = true;
	q->used_wrap = true;
}

static void device_reset(struct fake_virtio *f)
{
	f->status = 0;
	f->drv_features = 0;
	f->config_msix = VIRTIO_MSI_NO_VECTOR;
	f->isr = 0;
	for (unsigned int i = 0; i < FAKE_MAX_QUEUES; i++) {
		struct fake_queue *q = &f->q[i];

		q->size = q->max_size;
		q->enable = 0;
		q->msix = VIRTIO_MSI_NO_VECTOR;
		q->desc = q->driver = q->device = 0;
		q->pfn = 0;
		queue_start(q);
	}
	f->resets++;
}

static void write_status(struct fake_virtio *f, uint8_t v)
{
	if (v == 0) {
		if (!f->never_reset)
			device_reset(f);
		return;
	}
	if (v & VIRTIO_STATUS_FEATURES_OK) {
		/* A real device refuses features it never offered. */
		if (f->reject_features_ok || (f->drv_features & ~f->dev_features))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		/* Like QEMU's virtio-net, which adds its extra pairs for MQ. */
		else if (f->queues_on_feature && f->queues_on_feature <= FAKE_MAX_QUEUES) {
			for (uint16_t i = f->num_queues; i < f->queues_on_feature; i++)
				f->q[i].size = f->q[i].max_size = f->q[0].max_size;
			f->num_queues = f->queues_on_feature;
		}
	}
	f->status = v;
}

/* ------------------------------------------------------------------ */
/* Modern register file                                               */

static uint32_t common_read(struct fake_virtio *f, uint32_t off)
{
	struct fake_queue *q = selq(f);

	switch (off) {
	case 0x00: return f->dfselect;
	case 0x04: return f->dfselect == 0 ? (uint32_t)f->dev_features :
			  f->dfselect == 1 ? (uint32_t)(f->dev_features >> 32) : 0;
	case 0x08: return f->gfselect;
	case 0x0c: return f->gfselect == 0 ? (uint32_t)f->drv_features :
			  f->gfselect == 1 ? (uint32_t)(f->drv_features >> 32) : 0;
	case 0x10: return f->config_msix;
	case 0x12: return f->num_queues;
	case 0x14: return f->status;
	case 0x15: return f->generation;
	case 0x16: return f->queue_select;
	case 0x18: return q ? q->size : 0;
	case 0x1a: return q ? q->msix : VIRTIO_MSI_NO_VECTOR;
	case 0x1c: return q ? q->enable : 0;
	case 0x1e: return q ? q->notify_off : 0;
	default: return 0;
	}
}

static void set64(uint64_t *v, bool hi, uint32_t val)
{
	if (hi)
		*v = (*v & 0xffffffffu) | ((uint64_t)val << 32);
	else
		*v = (*v & ~(uint64_t)0xffffffffu) | val;
}

static void common_write(struct fake_virtio *f, uint32_t off, uint32_t v)
{
	struct fake_queue *q = selq(f);

	switch (off) {
	case 0x00: f->dfselect = v; break;
	case 0x08: f->gfselect = v; break;
	case 0x0c:
		if (f->gfselect < 2)
			set64(&f->drv_features, f->gfselect == 1, v);
		break;
	case 0x10: f->config_msix = f->refuse_config_msix ? VIRTIO_MSI_NO_VECTOR : (uint16_t)v; break;
	case 0x14: write_status(f, (uint8_t)v); break;
	case 0x16: f->queue_select = (uint16_t)v; break;
	case 0x18: if (q) q->size = (uint16_t)v; break;
	case 0x1a: if (q) q->msix = q->refuse_msix ? VIRTIO_MSI_NO_VECTOR : (uint16_t)v; break;
	case 0x1c:
		if (q && v == 1) {
			q->enable = 1;
			queue_start(q);
		}
		break;
	case 0x20: case 0x24: if (q) set64(&q->desc, off == 0x24, v); break;
	case 0x28: case 0x2c: if (q) set64(&q->driver, off == 0x2c, v); break;
	case 0x30: case 0x34: if (q) set64(&q->device, off == 0x34, v); break;
	default: break;
	}
}

static uint32_t devcfg_read(struct fake_virtio *f, uint32_t off, unsigned int size)
{
	uint32_t v = 0;

	if (f->gen_bumps) {
		f->gen_bumps--;
		f->generation++;
	}
	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)(off + i < sizeof(f->devcfg) ? f->devcfg[off + i] : 0xff) << (8 * i);
	return v;
}

static void devcfg_write(struct fake_virtio *f, uint32_t off, unsigned int size, uint32_t v)
{
	for (unsigned int i = 0; i < size; i++)
		if (off + i < sizeof(f->devcfg))
			f->devcfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void notify(struct fake_virtio *f, uint32_t v)
{
	if (v < f->num_queues && v < FAKE_MAX_QUEUES)
		f->q[v].notifies++;
}

static uint32_t mmio_read(struct fake_virtio *f, uintptr_t addr, unsigned int size)
{
	uintptr_t base = f->bar_base[FAKE_MMIO_BAR];
	uint32_t off;

	if (f->bar_len[FAKE_MMIO_BAR] == 0 || addr < base || addr + size > base + f->bar_len[FAKE_MMIO_BAR])
		return 0xffffffffu;
	off = (uint32_t)(addr - base);
	if (off < FAKE_ISR_OFF) {
		uint32_t v = common_read(f, off & ~1u);

		/* Byte reads of the 16-bit-aligned pair at 0x14/0x15. */
		if (off == 0x14 || off == 0x15)
			return common_read(f, off);
		return size == 4 ? v : size == 2 ? (v & 0xffff) : (v & 0xff);
	}
	if (off < FAKE_DEVICE_OFF) {
		uint8_t v = f->isr;

		f->isr = 0;
		return v;
	}
	if (off < FAKE_NOTIFY_OFF)
		return devcfg_read(f, off - FAKE_DEVICE_OFF, size);
	return 0;
}

static void mmio_write(struct fake_virtio *f, uintptr_t addr, unsigned int size, uint32_t v)
{
	uintptr_t base = f->bar_base[FAKE_MMIO_BAR];
	uint32_t off;

	if (f->bar_len[FAKE_MMIO_BAR] == 0 || addr < base || addr + size > base + f->bar_len[FAKE_MMIO_BAR])
		return;
	off = (uint32_t)(addr - base);
	if (off < FAKE_ISR_OFF)
		common_write(f, off, v);
	else if (off >= FAKE_DEVICE_OFF && off < FAKE_NOTIFY_OFF)
		devcfg_write(f, off - FAKE_DEVICE_OFF, size, v);
	else if (off >= FAKE_NOTIFY_OFF)
		notify(f, v);
}

/* ------------------------------------------------------------------ */
/* Legacy I/O register file                                           */

static uint32_t legacy_cfg_off(const struct fake_virtio *f)
{
	return f->msix_enabled ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG_NOMSIX;
}

static uint32_t io_read(struct fake_virtio *f, uintptr_t port, unsigned int size)
{
	struct fake_queue *q = selq(f);
	uint32_t off;

	if (f->bar_len[0] == 0 || port < f->bar_base[0] || port + size > f->bar_base[0] + f->bar_len[0])
		return 0xffffffffu;
	off = (uint32_t)(port - f->bar_base[0]);
	if (off >= legacy_cfg_off(f))
		return devcfg_read(f, off - legacy_cfg_off(f), size);
	switch (off) {
	case VIRTIO_PCI_LEGACY_HOST_FEATURES: return (uint32_t)f->dev_features;
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: return (uint32_t)f->drv_features;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN: return q ? q->pfn : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_NUM: return q ? q->max_size : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: return f->queue_select;
	case VIRTIO_PCI_LEGACY_STATUS: return f->status;
	case VIRTIO_PCI_LEGACY_ISR: { uint8_t v = f->isr; f->isr = 0; return v; }
	case VIRTIO_PCI_LEGACY_CONFIG_VECTOR: return f->config_msix;
	case VIRTIO_PCI_LEGACY_QUEUE_VECTOR: return q ? q->msix : VIRTIO_MSI_NO_VECTOR;
	default: return 0;
	}
}

static void io_write(struct fake_virtio *f, uintptr_t port, unsigned int size, uint32_t v)
{
	struct fake_queue *q = selq(f);
	uint32_t off;

	if (f->bar_len[0] == 0 || port < f->bar_base[0] || port + size > f->bar_base[0] + f->bar_len[0])
		return;
	off = (uint32_t)(port - f->bar_base[0]);
	if (off >= legacy_cfg_off(f)) {
		devcfg_write(f, off - legacy_cfg_off(f), size, v);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: f->drv_features = v; break;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN:
		if (!q)
			break;
		q->pfn = v;
		if (v) {
			/* Legacy layout: fixed by size and 4096 alignment. */
			uint64_t d = (uint64_t)v << 12, a = d + 16u * q->max_size;
			uint64_t u = (a + 6u + 2u * q->max_size + 4095u) & ~(uint64_t)4095u;

			q->size = q->max_size;
			q->desc = d;
			q->driver = a;
			q->device = u;
			q->enable = 1;
			queue_start(q);
		} else {
			q->enable = 0;
		}
		break;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: f->queue_select = (uint16_t)v; break;
	case VIRTIO_PCI_LEGACY_QUEUE_NOTIFY: notify(f, v); break;
	case VIRTIO_PCI_LEGACY_STATUS: write_status(f, (uint8_t)v); break;
	case VIRTIO_PCI_LEGACY_CONFIG_VECTOR:
		f->config_msix = f->refuse_config_msix ? VIRTIO_MSI_NO_VECTOR : (uint16_t)v;
		break;
	case VIRTIO_PCI_LEGACY_QUEUE_VECTOR:
		if (q)
			q->msix = q->refuse_msix ? VIRTIO_MSI_NO_VECTOR : (uint16_t)v;
		break;
	default: break;
	}
}

/* ------------------------------------------------------------------ */
/* os ops                                                             */

static uint8_t op_mr8(void *c, uintptr_t a) { return (uint8_t)mmio_read(F(c), a, 1); }
static uint16_t op_mr16(void *c, uintptr_t a) { return (uint16_t)mmio_read(F(c), a, 2); }
static uint32_t op_mr32(void *c, uintptr_t a) { return mmio_read(F(c), a, 4); }
static void op_mw8(void *c, uintptr_t a, uint8_t v) { mmio_write(F(c), a, 1, v); }
static void op_mw16(void *c, uintptr_t a, uint16_t v) { mmio_write(F(c), a, 2, v); }
static void op_mw32(void *c, uintptr_t a, uint32_t v) { mmio_write(F(c), a, 4, v); }
static uint8_t op_ir8(void *c, uintptr_t a) { return (uint8_t)io_read(F(c), a, 1); }
static uint16_t op_ir16(void *c, uintptr_t a) { return (uint16_t)io_read(F(c), a, 2); }
static uint32_t op_ir32(void *c, uintptr_t a) { return io_read(F(c), a, 4); }
static void op_iw8(void *c, uintptr_t a, uint8_t v) { io_write(F(c), a, 1, v); }
static void op_iw16(void *c, uintptr_t a, uint16_t v) { io_write(F(c), a, 2, v); }
static void op_iw32(void *c, uintptr_t a, uint32_t v) { io_write(F(c), a, 4, v); }

static uint32_t op_cfg_read(void *c, uint32_t off, void *buf, uint32_t len)
{
	struct fake_virtio *f = F(c);

	if (off >= sizeof(f->cfg) || len > sizeof(f->cfg) - off)
		return 0;
	/* Keep the MSI-X enable bit in sync with the knob. */
	f->cfg[FAKE_CAP_MSIX + 3] = f->msix_enabled ? 0x80 : 0x00;
	memcpy(buf, f->cfg + off, len);
	return len;
}

static bool op_bar_info(void *c, uint8_t bar, uintptr_t *base, uint64_t *len, bool *io)
{
	struct fake_virtio *f = F(c);

	if (bar >= 6 || f->bar_len[bar] == 0)
		return false;
	*base = f->bar_base[bar];
	*len = f->bar_len[bar];
	*io = f->bar_io[bar];
	return true;
}

static void op_stall(void *c, uint32_t us)
{
	F(c)->stalled_us += us;
}

static void op_log(void *c, int level, const char *fmt, ...)
{
	struct fake_virtio *f = F(c);
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(f->last_log, sizeof(f->last_log), fmt, ap);
	va_end(ap);
	{
		size_t used = strlen(f->log_all);

		snprintf(f->log_all + used, sizeof(f->log_all) - used, "%s", f->last_log);
	}
	f->log_count++;
	if (getenv("VIRTIO_TEST_VERBOSE"))
		printf("# log: %s", f->last_log);
}

void fake_set_cap(struct fake_virtio *f, uint8_t at, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length)
{
	uint8_t *p = f->cfg + at;

	p[0] = PCI_CAP_ID_VNDR;
	p[2] = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;
	p[3] = type;
	p[4] = bar;
	p[5] = 0;
	memcpy(p + 8, &offset, 4);
	memcpy(p + 12, &length, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		uint32_t m = FAKE_NOTIFY_MULT;

		memcpy(p + 16, &m, 4);
	}
}

static uint16_t transitional_id(uint16_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return VIRTIO_PCI_DEVICE_ID_TRANS_NET;
	case VIRTIO_ID_BLOCK: return VIRTIO_PCI_DEVICE_ID_TRANS_BLOCK;
	case VIRTIO_ID_BALLOON: return VIRTIO_PCI_DEVICE_ID_TRANS_BALLOON;
	case VIRTIO_ID_CONSOLE: return VIRTIO_PCI_DEVICE_ID_TRANS_CONSOLE;
	case VIRTIO_ID_RNG: return VIRTIO_PCI_DEVICE_ID_TRANS_RNG;
	default: return VIRTIO_PCI_DEVICE_ID_TRANS_NET;
	}
}

void fake_init(struct fake_virtio *f, uint16_t virtio_id, uint16_t num_queues, uint16_t queue_size,
	       bool modern_caps, bool legacy_bar)
{
	uint16_t did = legacy_bar ? transitional_id(virtio_id) : (uint16_t)(VIRTIO_PCI_DEVICE_ID_MODERN_BASE + virtio_id);
	uint16_t st = PCI_STATUS_CAP_LIST;

	memset(f, 0, sizeof(*f));
	f->arena_raw = calloc(1, FAKE_ARENA_LEN + 4096);
	if (f->arena_raw)
		f->arena = (uint8_t *)(((uintptr_t)f->arena_raw + 4095u) & ~(uintptr_t)4095u);
	cur = f;
	f->ops = (struct virtio_os_ops){
		.mmio_read8 = op_mr8, .mmio_read16 = op_mr16, .mmio_read32 = op_mr32,
		.mmio_write8 = op_mw8, .mmio_write16 = op_mw16, .mmio_write32 = op_mw32,
		.io_read8 = op_ir8, .io_read16 = op_ir16, .io_read32 = op_ir32,
		.io_write8 = op_iw8, .io_write16 = op_iw16, .io_write32 = op_iw32,
		.pci_cfg_read = op_cfg_read, .bar_info = op_bar_info, .log = op_log,
		.stall_us = op_stall,
	};
	f->cfg[0] = 0xf4;
	f->cfg[1] = 0x1a;
	memcpy(f->cfg + PCI_CFG_DEVICE_ID, &did, 2);
	memcpy(f->cfg + PCI_CFG_STATUS, &st, 2);
	memcpy(f->cfg + PCI_CFG_SUBSYSTEM_ID, &virtio_id, 2);
	f->cfg[PCI_CFG_REVISION_ID] = modern_caps ? 1 : 0;
	f->cfg[PCI_CFG_CAP_PTR] = modern_caps ? FAKE_CAP_COMMON : FAKE_CAP_MSIX;
	if (modern_caps) {
		fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, FAKE_COMMON_OFF, 0x1000);
		f->cfg[FAKE_CAP_COMMON + 1] = FAKE_CAP_ISR;
		fake_set_cap(f, FAKE_CAP_ISR, VIRTIO_PCI_CAP_ISR_CFG, FAKE_MMIO_BAR, FAKE_ISR_OFF, 0x1000);
		f->cfg[FAKE_CAP_ISR + 1] = FAKE_CAP_DEVICE;
		fake_set_cap(f, FAKE_CAP_DEVICE, VIRTIO_PCI_CAP_DEVICE_CFG, FAKE_MMIO_BAR, FAKE_DEVICE_OFF, 0x40);
		f->cfg[FAKE_CAP_DEVICE + 1] = FAKE_CAP_NOTIFY;
		fake_set_cap(f, FAKE_CAP_NOTIFY, VIRTIO_PCI_CAP_NOTIFY_CFG, FAKE_MMIO_BAR, FAKE_NOTIFY_OFF, 0x1000);
		f->cfg[FAKE_CAP_NOTIFY + 1] = FAKE_CAP_MSIX;
		f->bar_base[FAKE_MMIO_BAR] = FAKE_MMIO_BASE;
		f->bar_len[FAKE_MMIO_BAR] = FAKE_MMIO_LEN;
	}
	f->cfg[FAKE_CAP_MSIX] = PCI_CAP_ID_MSIX;
	f->cfg[FAKE_CAP_MSIX + 1] = 0;
	if (legacy_bar) {
		f->bar_base[0] = FAKE_IO_BASE;
		f->bar_len[0] = FAKE_IO_LEN;
		f->bar_io[0] = true;
	}
	f->dev_features = VIRTIO_BIT(0) | VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (modern_caps)
		f->dev_features |= VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	f->num_queues = num_queues;
	for (unsigned int i = 0; i < FAKE_MAX_QUEUES; i++) {
		f->q[i].max_size = i < num_queues ? queue_size : 0;
		f->q[i].notify_off = (uint16_t)i;
	}
	for (unsigned int i = 0; i < sizeof(f->devcfg); i++)
		f->devcfg[i] = (uint8_t)(0xa0 + i);
	device_reset(f);
	f->resets = 0;
}

/* ------------------------------------------------------------------ */
/* Device-side ring engine                                            */

static bool add_seg(struct fake_chain *c, uint64_t addr, uint32_t len, bool write)
{
	if (c->nseg >= FAKE_MAX_SEGS)
		return false;
	c->seg[c->nseg].addr = addr;
	c->seg[c->nseg].len = len;
	c->seg[c->nseg].write = write;
	c->nseg++;
	if (write)
		c->in_len += len;
	else
		c->out_len += len;
	return true;
}

static int split_pop(struct fake_virtio *f, struct fake_queue *q, struct fake_chain *c)
{
	struct virtq_desc *desc = ptr(q->desc);
	struct virtq_avail *avail = ptr(q->driver);
	uint16_t i, n = 0;

	if (le16_to_cpu(avail->idx) == q->last_avail)
		return 0;
	i = le16_to_cpu(avail->ring[q->last_avail % q->size]);
	q->last_avail++;
	if (has_drv(f, VIRTIO_F_EVENT_IDX))
		*avail_event(q) = cpu_to_le16(q->last_avail);
	c->id = i;
	for (;;) {
		uint16_t fl;

		if (i >= q->size || ++n > q->size)
			return -1;
		fl = le16_to_cpu(desc[i].flags);
		if (fl & VIRTQ_DESC_F_INDIRECT) {
			struct virtq_desc *t = ptr(le64_to_cpu(desc[i].addr));
			uint32_t cnt = le32_to_cpu(desc[i].len) / 16, j = 0, guard = 0;

			c->indirect = true;
			for (;;) {
				uint16_t tf;

				if (j >= cnt || ++guard > cnt)
					return -1;
				tf = le16_to_cpu(t[j].flags);
				if (!add_seg(c, le64_to_cpu(t[j].addr), le32_to_cpu(t[j].len), tf & VIRTQ_DESC_F_WRITE))
					return -1;
				if (!(tf & VIRTQ_DESC_F_NEXT))
					break;
				j = le16_to_cpu(t[j].next);
			}
			break;
		}
		if (!add_seg(c, le64_to_cpu(desc[i].addr), le32_to_cpu(desc[i].len), fl & VIRTQ_DESC_F_WRITE))
			return -1;
		if (!(fl & VIRTQ_DESC_F_NEXT))
			break;
		i = le16_to_cpu(desc[i].next);
	}
	c->ndesc = n;
	return 1;
}

static int packed_pop(struct fake_queue *q, struct fake_chain *c)
{
	struct virtq_packed_desc *desc = ptr(q->desc);
	uint16_t pos = q->last_avail, n = 0, id = 0;
	bool wrap = q->avail_wrap;

	for (;;) {
		uint16_t fl = le16_to_cpu(desc[pos].flags);
		bool a = fl & VIRTQ_PACKED_DESC_F_AVAIL, u = fl & VIRTQ_PACKED_DESC_F_USED;

		if (a != wrap || u == wrap)
			return n == 0 ? 0 : -1;
		if (++n > q->size)
			return -1;
		id = le16_to_cpu(desc[pos].id);
		if (fl & VIRTQ_DESC_F_INDIRECT) {
			struct virtq_packed_desc *t = ptr(le64_to_cpu(desc[pos].addr));
			uint32_t cnt = le32_to_cpu(desc[pos].len) / 16;

			c->indirect = true;
			for (uint32_t j = 0; j < cnt; j++)
				if (!add_seg(c, le64_to_cpu(t[j].addr), le32_to_cpu(t[j].len),
					     le16_to_cpu(t[j].flags) & VIRTQ_DESC_F_WRITE))
					return -1;
		} else if (!add_seg(c, le64_to_cpu(desc[pos].addr), le32_to_cpu(desc[pos].len),
				    fl & VIRTQ_DESC_F_WRITE)) {
			return -1;
		}
		if (++pos == q->size) {
			pos = 0;
			wrap = !wrap;
		}
		if (!(fl & VIRTQ_DESC_F_NEXT))
			break;
	}
	q->last_avail = pos;
	q->avail_wrap = wrap;
	if (has_drv(cur, VIRTIO_F_EVENT_IDX)) {
		/* Like the split engine: ask to be notified for the next descriptor. */
		struct virtq_packed_event *dev = ptr(q->device);

		dev->off_wrap = cpu_to_le16((uint16_t)(pos | ((unsigned int)wrap << 15)));
		dev->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DESC);
	}
	c->id = id;
	c->ndesc = n;
	if (id < 32768)
		q->ndesc_by_id[id] = n;
	return 1;
}

int fake_pop(struct fake_virtio *f, uint16_t qi, struct fake_chain *c)
{
	struct fake_queue *q = &f->q[qi];

	memset(c, 0, sizeof(*c));
	if (qi >= FAKE_MAX_QUEUES || !q->enable)
		return 0;
	return fake_features_packed(f) ? packed_pop(q, c) : split_pop(f, q, c);
}

void fake_push(struct fake_virtio *f, uint16_t qi, uint16_t id, uint32_t len)
{
	struct fake_queue *q = &f->q[qi];

	if (fake_features_packed(f)) {
		struct virtq_packed_desc *desc = ptr(q->desc);
		struct virtq_packed_event *drv = ptr(q->driver);
		uint16_t pos = q->used_idx, n = q->ndesc_by_id[id % 32768] ? q->ndesc_by_id[id % 32768] : 1;
		bool w = q->used_wrap;
		uint16_t ev_flags = le16_to_cpu(drv->flags), ow = le16_to_cpu(drv->off_wrap);
		int32_t old_lin = pos, new_lin = pos + n, e;

		desc[pos].id = cpu_to_le16(id);
		desc[pos].len = cpu_to_le32(len);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		desc[pos].flags = cpu_to_le16(w ? (VIRTQ_PACKED_DESC_F_AVAIL | VIRTQ_PACKED_DESC_F_USED) : 0);
		q->used_idx = (uint16_t)((pos + n) % q->size);
		if (pos + n >= q->size)
			q->used_wrap = !q->used_wrap;
		if (ev_flags == VIRTQ_PACKED_EVENT_F_ENABLE) {
			q->interrupts++;
		} else if (ev_flags == VIRTQ_PACKED_EVENT_F_DESC) {
			e = ow & 0x7fff;
			if ((bool)(ow >> 15) != w)
				e += q->size;
			if (e >= old_lin && e < new_lin)
				q->interrupts++;
		}
	} else {
		struct virtq_used *used = ptr(q->device);
		struct virtq_avail *avail = ptr(q->driver);
		uint16_t old = q->used_idx, nw = (uint16_t)(old + 1);

		used->ring[old % q->size].id = cpu_to_le32(id);
		used->ring[old % q->size].len = cpu_to_le32(len);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		q->used_idx = nw;
		used->idx = cpu_to_le16(nw);
		if (has_drv(f, VIRTIO_F_EVENT_IDX)) {
			uint16_t ev = le16_to_cpu(avail->ring[q->size]);

			if ((uint16_t)(nw - ev - 1) < (uint16_t)(nw - old))
				q->interrupts++;
		} else if (!(le16_to_cpu(avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT)) {
			q->interrupts++;
		}
	}
	f->isr |= VIRTIO_PCI_ISR_QUEUE;
}

uint32_t fake_serve_echo(struct fake_virtio *f, uint16_t qi)
{
	static struct fake_chain c;
	static uint8_t buf[1 << 16];
	uint32_t served = 0;

	while (fake_pop(f, qi, &c) == 1) {
		uint32_t have = 0, put = 0;

		for (uint16_t i = 0; i < c.nseg; i++)
			if (!c.seg[i].write) {
				uint32_t n = c.seg[i].len;

				if (n > sizeof(buf) - have)
					n = (uint32_t)(sizeof(buf) - have);
				memcpy(buf + have, ptr(c.seg[i].addr), n);
				have += n;
			}
		for (uint16_t i = 0; i < c.nseg && put < have; i++)
			if (c.seg[i].write) {
				uint32_t n = c.seg[i].len < have - put ? c.seg[i].len : have - put;

				memcpy(ptr(c.seg[i].addr), buf + put, n);
				put += n;
			}
		fake_push(f, qi, c.id, put);
		served++;
	}
	return served;
}

void fake_set_notify_suppression(struct fake_virtio *f, uint16_t qi, bool suppress)
{
	struct fake_queue *q = &f->q[qi];

	if (fake_features_packed(f)) {
		struct virtq_packed_event *dev = ptr(q->device);

		if (suppress) {
			dev->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DISABLE);
		} else if (has_drv(f, VIRTIO_F_EVENT_IDX)) {
			dev->off_wrap = cpu_to_le16((uint16_t)(q->last_avail | ((unsigned int)q->avail_wrap << 15)));
			dev->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DESC);
		} else {
			dev->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_ENABLE);
		}
	} else {
		struct virtq_used *used = ptr(q->device);

		if (has_drv(f, VIRTIO_F_EVENT_IDX))
			*avail_event(q) = cpu_to_le16((uint16_t)(suppress ? q->last_avail - 1 : q->last_avail));
		else
			used->flags = cpu_to_le16(suppress ? VIRTQ_USED_F_NO_NOTIFY : 0);
	}
}

void fake_split_write_used(struct fake_virtio *f, uint16_t qi, uint16_t slot, uint32_t id, uint32_t len)
{
	struct fake_queue *q = &f->q[qi];
	struct virtq_used *used = ptr(q->device);

	used->ring[slot % q->size].id = cpu_to_le32(id);
	used->ring[slot % q->size].len = cpu_to_le32(len);
}

void fake_split_set_avail_event(struct fake_virtio *f, uint16_t qi, uint16_t v)
{
	*avail_event(&f->q[qi]) = cpu_to_le16(v);
}

void fake_split_set_used_idx(struct fake_virtio *f, uint16_t qi, uint16_t idx)
{
	struct fake_queue *q = &f->q[qi];
	struct virtq_used *used = ptr(q->device);

	q->used_idx = idx;
	used->idx = cpu_to_le16(idx);
}

void fake_packed_write_desc(struct fake_virtio *f, uint16_t qi, uint16_t pos, uint16_t id, uint32_t len,
			    uint16_t flags)
{
	struct fake_queue *q = &f->q[qi];
	struct virtq_packed_desc *desc = ptr(q->desc);

	desc[pos].id = cpu_to_le16(id);
	desc[pos].len = cpu_to_le32(len);
	desc[pos].flags = cpu_to_le16(flags);
}

/* ------------------------------------------------------------------ */
/* Test helpers                                                       */

int fake_bringup(struct fake_virtio *f, struct virtio_dev *dev, uint32_t init_flags, uint64_t features)
{
	int rc = virtio_init(dev, &f->ops, f, init_flags);

	if (rc == VIRTIO_OK)
		rc = virtio_begin(dev);
	if (rc == VIRTIO_OK)
		rc = virtio_negotiate(dev, features, NULL);
	return rc;
}

int fake_setup_queue(struct virtio_dev *dev, uint16_t index, uint16_t size, uint16_t indirect_max,
		     uint16_t vector, struct fake_ring *r)
{
	struct virtio_queue_params p;
	uint16_t n = size;
	int rc;

	memset(r, 0, sizeof(*r));
	if (n == 0) {
		rc = virtio_queue_max_size(dev, index, &n);
		if (rc != VIRTIO_OK)
			return rc;
	}
	r->ring_len = virtio_queue_ring_size(dev, n, indirect_max);
	if (r->ring_len == 0)
		return VIRTIO_EINVAL;
	r->ring = fake_dma_alloc(dev->ctx, r->ring_len, &r->ring_bus);
	r->state = calloc(1, virtio_queue_state_size(n));
	if (!r->ring || !r->state)
		return VIRTIO_EINVAL;
	memset(&p, 0, sizeof(p));
	p.index = index;
	p.size = size;
	p.msix_vector = vector;
	p.indirect_max = indirect_max;
	p.ring_va = r->ring;
	p.ring_pa = r->ring_bus;
	p.ring_len = r->ring_len;
	p.state = r->state;
	p.state_len = virtio_queue_state_size(n);
	return virtio_queue_setup(dev, &p, &r->vq);
}

void fake_free_ring(struct fake_ring *r)
{
	/* Ring memory belongs to the arena and goes with fake_destroy(). */
	free(r->state);
	memset(r, 0, sizeof(*r));
}
