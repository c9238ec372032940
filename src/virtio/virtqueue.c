/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio core: split (virtio 1.2 2.7) and packed (2.8) virtqueues
 * behind one API.
 *
 * Trust model: the ring memory is shared with the device, so the core keeps
 * its own shadow state (struct vq_slot: cookie, chain length, writable
 * length, free-list link) and never follows a link or index read back from
 * the ring. Every id, index, length and flag the device writes is checked
 * against that shadow state; a violation makes the queue BROKEN for good.
 *
 * Locking: none. The caller serialises every call on one queue, except
 * vq_notify(), which only reads fields fixed at setup.
 */
#include "virtio_internal.h"

struct vq_slot {
	void *cookie;                /* non-NULL while the chain is posted */
	uint32_t in_len;             /* device-writable bytes posted */
	uint16_t ndesc;              /* ring descriptors the chain occupies */
	uint16_t next;               /* free-list link (descriptor or id) */
};

struct virtq {
	struct virtio_dev *dev;
	uint16_t index;
	uint16_t size;
	uint16_t indirect_max;       /* 0 when indirect descriptors are off */
	uint16_t num_free;           /* free ring descriptors */
	uint16_t in_flight;          /* posted chains not yet returned */
	uint16_t free_head;          /* split: first free descriptor; packed: first free id */
	uint16_t last_used;          /* split: free-running used index; packed: ring position */
	uint32_t num_added;          /* split: avail entries, packed: descriptors since last kick */
	bool packed;
	bool event_idx;
	bool cb_enabled;
	bool broken;
	struct vq_chain *open_chain; /* the chain being built, if any */
	bool notify_io;
	uintptr_t notify_addr;
	uint8_t *ind_va;             /* indirect tables: one per descriptor/id */
	uint64_t ind_pa;
	union {
		struct {
			volatile struct virtq_desc *desc;
			volatile struct virtq_avail *avail;
			volatile struct virtq_used *used;
			volatile le16 *used_event;   /* written by us */
			volatile le16 *avail_event;  /* written by the device */
			uint16_t avail_idx;          /* shadow of avail->idx */
		} s;
		struct {
			volatile struct virtq_packed_desc *desc;
			volatile struct virtq_packed_event *driver;  /* written by us */
			volatile struct virtq_packed_event *device;  /* written by the device */
			uint16_t next_avail;
			bool avail_wrap;
			bool used_wrap;
		} p;
	} r;
	struct vq_slot slot[];
};

#define vq_mark_broken(vq, fmt, ...)                                                  \
	do {                                                                          \
		if (!(vq)->broken)                                                    \
			virtio_log((vq)->dev, VIRTIO_LOG_ERROR,                       \
				   "virtio: queue %u broken: " fmt "\n", (vq)->index, \
				   __VA_ARGS__);                                      \
		(vq)->broken = true;                                                  \
	} while (0)

size_t virtio_queue_state_size(uint16_t size)
{
	if (size == 0 || size > VIRTQ_PACKED_MAX_SIZE)
		return 0;
	return sizeof(struct virtq) + (size_t)size * sizeof(struct vq_slot);
}

int vq_construct(struct virtio_dev *dev, const struct virtio_queue_params *p, uint16_t size,
		 const struct vq_layout *l, struct virtq **out)
{
	struct virtq *vq = p->state;
	uint8_t *ring = p->ring_va;

	memset(vq, 0, virtio_queue_state_size(size));
	vq->dev = dev;
	vq->index = p->index;
	vq->size = size;
	vq->num_free = size;
	vq->packed = virtio_has_feature(dev, VIRTIO_F_RING_PACKED);
	vq->event_idx = virtio_has_feature(dev, VIRTIO_F_EVENT_IDX);
	/* A one-entry table gains nothing over a direct descriptor. */
	if (virtio_has_feature(dev, VIRTIO_F_INDIRECT_DESC) && p->indirect_max >= 2)
		vq->indirect_max = p->indirect_max;
	vq->ind_va = ring + l->indirect_off;
	vq->ind_pa = p->ring_pa + l->indirect_off;
	vq->cb_enabled = true;
	for (uint32_t i = 0; i < size; i++)
		vq->slot[i].next = (uint16_t)(i + 1);
	if (vq->packed) {
		vq->r.p.desc = (volatile struct virtq_packed_desc *)(ring + l->desc_off);
		vq->r.p.driver = (volatile struct virtq_packed_event *)(ring + l->driver_off);
		vq->r.p.device = (volatile struct virtq_packed_event *)(ring + l->device_off);
		/* Both wrap counters start at 1 (2.8.1). */
		vq->r.p.avail_wrap = true;
		vq->r.p.used_wrap = true;
		if (vq->event_idx) {
			/* Interrupt for the first used descriptor: position 0, wrap 1. */
			vq->r.p.driver->off_wrap = cpu_to_le16(1u << VIRTQ_PACKED_EVENT_WRAP_SHIFT);
			vq->r.p.driver->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DESC);
		}
	} else {
		vq->r.s.desc = (volatile struct virtq_desc *)(ring + l->desc_off);
		vq->r.s.avail = (volatile struct virtq_avail *)(ring + l->driver_off);
		vq->r.s.used = (volatile struct virtq_used *)(ring + l->device_off);
		/* The event fields trail the rings; address them by byte offset. */
		vq->r.s.used_event = (volatile le16 *)(ring + l->driver_off + 4 + (size_t)2 * size);
		vq->r.s.avail_event = (volatile le16 *)(ring + l->device_off + 4 + (size_t)8 * size);
	}
	*out = vq;
	return VIRTIO_OK;
}

void vq_set_notify(struct virtq *vq, uintptr_t addr, bool io)
{
	vq->notify_addr = addr;
	vq->notify_io = io;
}

uint16_t vq_free_slots(const struct virtq *vq)
{
	return vq->broken ? 0 : vq->num_free;
}

uint16_t vq_size(const struct virtq *vq)
{
	return vq->size;
}

uint16_t vq_index(const struct virtq *vq)
{
	return vq->index;
}

bool vq_is_packed(const struct virtq *vq)
{
	return vq->packed;
}

bool vq_is_broken(const struct virtq *vq)
{
	return vq->broken;
}

void vq_notify(struct virtq *vq)
{
	const struct virtio_os_ops *o = vq->dev->ops;

	if (vq->notify_addr == 0)
		return;
	/* Without NOTIFICATION_DATA the value written is the queue index (4.1.5.2). */
	if (vq->notify_io)
		o->io_write16(vq->dev->ctx, vq->notify_addr, cpu_to_le16(vq->index));
	else
		o->mmio_write16(vq->dev->ctx, vq->notify_addr, cpu_to_le16(vq->index));
}

/* Shared check of one completion reported by the device. */
static bool used_entry_valid(struct virtq *vq, uint32_t id, uint32_t len)
{
	if (id >= vq->size) {
		vq_mark_broken(vq, "used id %u out of range (size %u)", id, vq->size);
		return false;
	}
	if (vq->slot[id].cookie == NULL) {
		vq_mark_broken(vq, "used id %u not in flight (duplicate completion?)", id);
		return false;
	}
	if (len > vq->slot[id].in_len) {
		vq_mark_broken(vq, "used id %u length %u exceeds posted writable length %u", id, len,
			       vq->slot[id].in_len);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Split ring                                                         */

static int split_get_used(struct virtq *vq, void **cookie, uint32_t *len)
{
	uint16_t used_idx = le16_to_cpu(vq->r.s.used->idx);
	uint16_t pending = (uint16_t)(used_idx - vq->last_used);
	volatile struct virtq_used_elem *e;
	uint32_t id, l;
	uint16_t head, tail;

	if (pending == 0)
		return VIRTIO_ENOENT;
	if (pending > vq->in_flight) {
		vq_mark_broken(vq, "used idx %u is %u ahead of %u with only %u in flight", used_idx, pending,
			       vq->last_used, vq->in_flight);
		return VIRTIO_EBROKEN;
	}
	/* Read the element only after the index that published it. */
	virtio_rmb(vq->dev);
	e = &vq->r.s.used->ring[vq->last_used & (vq->size - 1)];
	id = le32_to_cpu(e->id);
	l = le32_to_cpu(e->len);
	if (!used_entry_valid(vq, id, l))
		return VIRTIO_EBROKEN;

	head = (uint16_t)id;
	*cookie = vq->slot[head].cookie;
	*len = l;
	/* Return the chain to the free list along our shadow links. */
	tail = head;
	for (uint16_t k = 1; k < vq->slot[head].ndesc; k++)
		tail = vq->slot[tail].next;
	vq->slot[tail].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + vq->slot[head].ndesc);
	vq->slot[head].cookie = NULL;
	vq->in_flight--;
	vq->last_used++;
	if (vq->event_idx && vq->cb_enabled) {
		*vq->r.s.used_event = cpu_to_le16(vq->last_used);
		/* The device must see the new used_event before we look at used->idx again. */
		virtio_mb(vq->dev);
	}
	return VIRTIO_OK;
}

static bool split_kick_prepare(struct virtq *vq)
{
	uint16_t new_idx = vq->r.s.avail_idx;
	uint16_t old_idx = (uint16_t)(new_idx - vq->num_added);
	bool more_than_window = vq->num_added > 0xffffu;

	if (vq->num_added == 0)
		return false;
	vq->num_added = 0;
	if (more_than_window)
		return true;
	if (vq->event_idx) {
		uint16_t ev = le16_to_cpu(*vq->r.s.avail_event);

		/* Notify iff avail_event lies in [old_idx, new_idx) modulo 2^16 (2.7.10). */
		return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old_idx);
	}
	return !(le16_to_cpu(vq->r.s.used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

static void split_disable_cb(struct virtq *vq)
{
	if (vq->event_idx)
		/* An event index the device has already passed never fires again. */
		*vq->r.s.used_event = cpu_to_le16((uint16_t)(vq->last_used - 1));
	else
		vq->r.s.avail->flags = cpu_to_le16(VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static void split_enable_cb(struct virtq *vq)
{
	if (vq->event_idx)
		*vq->r.s.used_event = cpu_to_le16(vq->last_used);
	else
		vq->r.s.avail->flags = 0;
}

static bool split_has_used(struct virtq *vq)
{
	return le16_to_cpu(vq->r.s.used->idx) != vq->last_used;
}

/* ------------------------------------------------------------------ */
/* Packed ring                                                        */

static uint16_t packed_avail_flags(bool wrap)
{
	/* Available: AVAIL equals the driver wrap counter, USED the inverse. */
	return wrap ? VIRTQ_PACKED_DESC_F_AVAIL : VIRTQ_PACKED_DESC_F_USED;
}

/* 1: used descriptor at last_used, 0: none yet, -1: impossible flags (queue broken). */
static int packed_peek(struct virtq *vq)
{
	uint16_t f = le16_to_cpu(vq->r.p.desc[vq->last_used].flags);
	bool a = (f & VIRTQ_PACKED_DESC_F_AVAIL) != 0;
	bool u = (f & VIRTQ_PACKED_DESC_F_USED) != 0;
	bool w = vq->r.p.used_wrap;

	if (vq->in_flight == 0) {
		/* Only stale entries from the previous lap may sit here. */
		if (a == w && u == w) {
			vq_mark_broken(vq, "used descriptor at %u with nothing in flight", vq->last_used);
			return -1;
		}
		return 0;
	}
	if (a == w && u == w)
		return 1;
	if (a == w && u != w)
		return 0;   /* still ours, not yet consumed */
	/* We posted this slot in the current lap with AVAIL == w. */
	vq_mark_broken(vq, "descriptor %u flags 0x%x contradict wrap counter %u", vq->last_used, f, w);
	return -1;
}

static int packed_get_used(struct virtq *vq, void **cookie, uint32_t *len)
{
	volatile struct virtq_packed_desc *d;
	uint32_t id, l;
	uint32_t pos;
	int st = packed_peek(vq);

	if (st < 0)
		return VIRTIO_EBROKEN;
	if (st == 0)
		return VIRTIO_ENOENT;
	/* id and len are valid only once the flags said so. */
	virtio_rmb(vq->dev);
	d = &vq->r.p.desc[vq->last_used];
	id = le16_to_cpu(d->id);
	l = le32_to_cpu(d->len);
	if (!used_entry_valid(vq, id, l))
		return VIRTIO_EBROKEN;

	*cookie = vq->slot[id].cookie;
	*len = l;
	pos = (uint32_t)vq->last_used + vq->slot[id].ndesc;
	if (pos >= vq->size) {
		pos -= vq->size;
		vq->r.p.used_wrap = !vq->r.p.used_wrap;
	}
	vq->last_used = (uint16_t)pos;
	vq->num_free = (uint16_t)(vq->num_free + vq->slot[id].ndesc);
	vq->slot[id].cookie = NULL;
	vq->slot[id].next = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->in_flight--;
	if (vq->event_idx && vq->cb_enabled) {
		vq->r.p.driver->off_wrap = cpu_to_le16((uint16_t)(vq->last_used |
			((unsigned int)vq->r.p.used_wrap << VIRTQ_PACKED_EVENT_WRAP_SHIFT)));
		virtio_mb(vq->dev);
	}
	return VIRTIO_OK;
}

static bool packed_kick_prepare(struct virtq *vq)
{
	uint32_t added = vq->num_added;
	uint16_t flags, off_wrap, ev;
	int32_t new_pos, old_pos, e;

	if (added == 0)
		return false;
	vq->num_added = 0;
	if (added >= vq->size)
		return true;    /* the event position would be ambiguous */
	flags = le16_to_cpu(vq->r.p.device->flags) & 0x3u;
	if (flags == VIRTQ_PACKED_EVENT_F_DISABLE)
		return false;
	if (flags != VIRTQ_PACKED_EVENT_F_DESC || !vq->event_idx)
		return true;
	off_wrap = le16_to_cpu(vq->r.p.device->off_wrap);
	ev = off_wrap & 0x7fffu;
	if (ev >= vq->size)
		return true;    /* nonsense from the device: notifying is always safe */
	/* Positions relative to the current lap; the previous lap is negative. */
	new_pos = vq->r.p.next_avail;
	old_pos = new_pos - (int32_t)added;
	e = ev;
	if ((bool)(off_wrap >> VIRTQ_PACKED_EVENT_WRAP_SHIFT) != vq->r.p.avail_wrap)
		e -= vq->size;
	return old_pos <= e && e < new_pos;
}

static void packed_disable_cb(struct virtq *vq)
{
	vq->r.p.driver->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DISABLE);
}

static void packed_enable_cb(struct virtq *vq)
{
	if (vq->event_idx) {
		vq->r.p.driver->off_wrap = cpu_to_le16((uint16_t)(vq->last_used |
			((unsigned int)vq->r.p.used_wrap << VIRTQ_PACKED_EVENT_WRAP_SHIFT)));
		/* off_wrap must be in place before the device sees DESC mode. */
		virtio_wmb(vq->dev);
		vq->r.p.driver->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_DESC);
	} else {
		vq->r.p.driver->flags = cpu_to_le16(VIRTQ_PACKED_EVENT_F_ENABLE);
	}
}

/* ------------------------------------------------------------------ */
/* Common API                                                         */

/*
 * Chain builder. vq_chain_begin() reserves ring slots, vq_chain_add() writes
 * one descriptor per segment straight into the ring (or the indirect table),
 * vq_chain_commit() publishes the head. Nothing is visible to the device
 * before the commit: split descriptors are not referenced by the avail ring
 * yet, and the packed head keeps its old flags, so the device stops there.
 */
int vq_chain_begin(struct virtq *vq, struct vq_chain *ch, uint16_t nsegs, void *cookie)
{
	bool use_ind;

	if (!vq || !ch)
		return VIRTIO_EINVAL;
	if (vq->open_chain) {
		/* Leave the open chain alone, even if ch is that very chain. */
		if (ch != vq->open_chain)
			ch->active = false;
		return VIRTIO_EINVAL;
	}
	ch->active = false;
	if (vq->broken)
		return VIRTIO_EBROKEN;
	if (!cookie || nsegs == 0)
		return VIRTIO_EINVAL;
	use_ind = vq->indirect_max && nsegs > 1 && nsegs <= vq->indirect_max;
	if (!use_ind && nsegs > vq->size)
		return VIRTIO_EINVAL;   /* can never fit, even in an empty ring */
	ch->needed = use_ind ? 1 : nsegs;
	if (ch->needed > vq->num_free)
		return VIRTIO_ENOSPC;
	ch->cookie = cookie;
	ch->in_len = 0;
	ch->total = nsegs;
	ch->added = 0;
	ch->slot = vq->free_head;   /* split: head descriptor; packed: buffer id */
	ch->cur = vq->packed ? vq->r.p.next_avail : vq->free_head;
	ch->last = ch->cur;
	ch->cur_wrap = vq->packed && vq->r.p.avail_wrap;
	ch->head_flags = 0;
	ch->indirect = use_ind;
	ch->writable = false;
	ch->active = true;
	vq->open_chain = ch;
	return VIRTIO_OK;
}

void vq_chain_abort(struct virtq *vq, struct vq_chain *ch)
{
	/* Only free slots were written; dropping the reservation is enough. */
	if (vq && ch && ch->active && ch == vq->open_chain) {
		ch->active = false;
		vq->open_chain = NULL;
	}
}

static void *indirect_table(const struct virtq *vq, uint16_t slot, uint64_t *pa)
{
	size_t off = (size_t)slot * vq->indirect_max * 16u;

	if (pa)
		*pa = vq->ind_pa + off;
	return vq->ind_va + off;
}

int vq_chain_add(struct virtq *vq, struct vq_chain *ch, uint64_t addr, uint32_t len, bool device_writes)
{
	uint16_t k, flags;
	bool last;

	if (!vq || !ch || !ch->active || ch != vq->open_chain)
		return VIRTIO_EINVAL;
	if (vq->broken) {
		vq_chain_abort(vq, ch);
		return VIRTIO_EBROKEN;
	}
	/* Device-readable segments must all precede the writable ones (2.7.4). */
	if (ch->added >= ch->total || len == 0 || (!device_writes && ch->writable) ||
	    (device_writes && ch->in_len + (uint64_t)len > 0xffffffffu))
		return VIRTIO_EINVAL;
	k = ch->added;
	last = k + 1u == ch->total;
	flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
	if (ch->indirect) {
		if (vq->packed) {
			struct virtq_packed_desc *t = indirect_table(vq, ch->slot, NULL);

			t[k].addr = cpu_to_le64(addr);
			t[k].len = cpu_to_le32(len);
			t[k].id = 0;
			t[k].flags = cpu_to_le16(flags);
		} else {
			struct virtq_desc *t = indirect_table(vq, ch->slot, NULL);

			t[k].addr = cpu_to_le64(addr);
			t[k].len = cpu_to_le32(len);
			t[k].flags = cpu_to_le16((uint16_t)(flags | (last ? 0 : VIRTQ_DESC_F_NEXT)));
			t[k].next = cpu_to_le16(last ? 0 : (uint16_t)(k + 1));
		}
	} else if (vq->packed) {
		volatile struct virtq_packed_desc *d = &vq->r.p.desc[ch->cur];
		uint16_t f = (uint16_t)(flags | (last ? 0 : VIRTQ_DESC_F_NEXT) | packed_avail_flags(ch->cur_wrap));

		d->addr = cpu_to_le64(addr);
		d->len = cpu_to_le32(len);
		d->id = cpu_to_le16(ch->slot);
		if (k == 0)
			ch->head_flags = f;     /* written last, at commit */
		else
			d->flags = cpu_to_le16(f);
		if (++ch->cur == vq->size) {
			ch->cur = 0;
			ch->cur_wrap = !ch->cur_wrap;
		}
	} else {
		volatile struct virtq_desc *d = &vq->r.s.desc[ch->cur];

		d->addr = cpu_to_le64(addr);
		d->len = cpu_to_le32(len);
		d->flags = cpu_to_le16((uint16_t)(flags | (last ? 0 : VIRTQ_DESC_F_NEXT)));
		/* Links follow our shadow free list, never the ring. */
		d->next = cpu_to_le16(last ? 0 : vq->slot[ch->cur].next);
		ch->last = ch->cur;
		ch->cur = vq->slot[ch->cur].next;
	}
	if (device_writes) {
		ch->in_len += len;
		ch->writable = true;
	}
	ch->added++;
	return VIRTIO_OK;
}

static void split_commit(struct virtq *vq, struct vq_chain *ch)
{
	uint16_t head = ch->slot;

	if (ch->indirect) {
		uint64_t pa;

		(void)indirect_table(vq, head, &pa);
		vq->r.s.desc[head].addr = cpu_to_le64(pa);
		vq->r.s.desc[head].len = cpu_to_le32((uint32_t)ch->total * (uint32_t)sizeof(struct virtq_desc));
		vq->r.s.desc[head].flags = cpu_to_le16(VIRTQ_DESC_F_INDIRECT);
		vq->r.s.desc[head].next = 0;
		ch->last = head;
	}
	vq->free_head = vq->slot[ch->last].next;
	vq->r.s.avail->ring[vq->r.s.avail_idx & (vq->size - 1)] = cpu_to_le16(head);
	/* Descriptors and the ring entry must be visible before the new index. */
	virtio_wmb(vq->dev);
	vq->r.s.avail_idx++;
	vq->r.s.avail->idx = cpu_to_le16(vq->r.s.avail_idx);
	vq->num_added++;
}

static void packed_commit(struct virtq *vq, struct vq_chain *ch)
{
	uint16_t head_pos = vq->r.p.next_avail;

	if (ch->indirect) {
		volatile struct virtq_packed_desc *d = &vq->r.p.desc[head_pos];
		uint64_t pa;

		(void)indirect_table(vq, ch->slot, &pa);
		d->addr = cpu_to_le64(pa);
		d->len = cpu_to_le32((uint32_t)ch->total * (uint32_t)sizeof(struct virtq_packed_desc));
		d->id = cpu_to_le16(ch->slot);
		ch->head_flags = (uint16_t)(VIRTQ_DESC_F_INDIRECT | packed_avail_flags(ch->cur_wrap));
		if (++ch->cur == vq->size) {
			ch->cur = 0;
			ch->cur_wrap = !ch->cur_wrap;
		}
	}
	vq->free_head = vq->slot[ch->slot].next;
	vq->r.p.next_avail = ch->cur;
	vq->r.p.avail_wrap = ch->cur_wrap;
	/* The whole chain must be visible before its head becomes available. */
	virtio_wmb(vq->dev);
	vq->r.p.desc[head_pos].flags = cpu_to_le16(ch->head_flags);
	vq->num_added += ch->needed;
}

int vq_chain_commit(struct virtq *vq, struct vq_chain *ch)
{
	struct vq_slot *sl;

	if (!vq || !ch || !ch->active || ch != vq->open_chain)
		return VIRTIO_EINVAL;
	if (vq->broken || ch->added != ch->total) {
		vq_chain_abort(vq, ch);
		return vq->broken ? VIRTIO_EBROKEN : VIRTIO_EINVAL;
	}
	sl = &vq->slot[ch->slot];
	sl->cookie = ch->cookie;
	sl->in_len = ch->in_len;
	sl->ndesc = ch->needed;
	vq->num_free = (uint16_t)(vq->num_free - ch->needed);
	vq->in_flight++;
	if (vq->packed)
		packed_commit(vq, ch);
	else
		split_commit(vq, ch);
	ch->active = false;
	vq->open_chain = NULL;
	return VIRTIO_OK;
}

int vq_add(struct virtq *vq, const struct vq_sg *sg, uint16_t out_num, uint16_t in_num, void *cookie)
{
	uint32_t total = (uint32_t)out_num + in_num;
	struct vq_chain ch;
	int rc;

	if (!sg || total > 0xffffu)
		return vq && vq->broken ? VIRTIO_EBROKEN : VIRTIO_EINVAL;
	rc = vq_chain_begin(vq, &ch, (uint16_t)total, cookie);
	for (uint32_t k = 0; rc == VIRTIO_OK && k < total; k++)
		rc = vq_chain_add(vq, &ch, sg[k].addr, sg[k].len, k >= out_num);
	if (rc == VIRTIO_OK)
		return vq_chain_commit(vq, &ch);
	vq_chain_abort(vq, &ch);
	return rc;
}

bool vq_kick_prepare(struct virtq *vq)
{
	if (!vq || vq->broken)
		return false;
	/* Our ring updates must be visible before we read the suppression state. */
	virtio_mb(vq->dev);
	return vq->packed ? packed_kick_prepare(vq) : split_kick_prepare(vq);
}

int vq_get_used(struct virtq *vq, void **cookie, uint32_t *len)
{
	void *c = NULL;
	uint32_t l = 0;
	int rc;

	if (!vq || !cookie || !len)
		return VIRTIO_EINVAL;
	if (vq->broken)
		return VIRTIO_EBROKEN;
	/* Returning slots now would splice them under the chain being built. */
	if (vq->open_chain)
		return VIRTIO_EINVAL;
	rc = vq->packed ? packed_get_used(vq, &c, &l) : split_get_used(vq, &c, &l);
	if (rc == VIRTIO_OK) {
		*cookie = c;
		*len = l;
	}
	return rc;
}

void vq_disable_cb(struct virtq *vq)
{
	if (!vq || vq->broken)
		return;
	vq->cb_enabled = false;
	if (vq->packed)
		packed_disable_cb(vq);
	else
		split_disable_cb(vq);
}

bool vq_has_used(struct virtq *vq)
{
	if (!vq)
		return false;
	if (vq->broken)
		return true;            /* let the caller see VIRTIO_EBROKEN */
	if (vq->packed)
		return packed_peek(vq) != 0;
	return split_has_used(vq);
}

bool vq_enable_cb(struct virtq *vq)
{
	if (!vq)
		return false;
	if (vq->broken)
		return true;
	vq->cb_enabled = true;
	if (vq->packed)
		packed_enable_cb(vq);
	else
		split_enable_cb(vq);
	/* Publish the re-enable before checking for completions that raced with it. */
	virtio_mb(vq->dev);
	return vq_has_used(vq);
}

void *vq_detach_unused(struct virtq *vq)
{
	if (!vq)
		return NULL;
	/* Detaching scrambles the free lists: the queue is retired for good. */
	vq->broken = true;
	for (uint32_t i = 0; i < vq->size; i++) {
		void *c = vq->slot[i].cookie;

		if (c) {
			vq->slot[i].cookie = NULL;
			vq->in_flight--;
			vq->num_free = (uint16_t)(vq->num_free + vq->slot[i].ndesc);
			return c;
		}
	}
	return NULL;
}
