/*
 * vdpnet transmit path.
 *
 * Each NET_BUFFER takes one slot of its transmit queue. A slot owns a small piece of shared
 * memory holding the virtio-net header followed by a copy of the first bytes of the frame
 * (VNET_TX_HEAD_MAX): that copy is where the 802.1Q tag is inserted and the IPv4 header
 * checksum computed, since virtio offers neither. The rest of the frame goes out straight from
 * the NET_BUFFER's own pages through NdisMAllocateNetBufferSGList.
 *
 * Life of a send: SendNetBufferLists queues the NBL (pend list) -> pump takes a free slot, builds
 * the header, asks NDIS for the S/G list -> vnet_process_sg_list puts the slot on the ready
 * list and moves ready slots into the ring while there is room -> the DPC collects used slots
 * -> when the last NET_BUFFER of an NBL is done, NdisMSendNetBufferListsComplete.
 * NBL MiniportReserved[0] counts the NET_BUFFERs still outstanding, [1] keeps the first error.
 *
 * Every slot has an owner (q->states, vnet_health.h), changed only under q->lock with checked
 * transitions: whoever moves a slot to DONE completes it, so a reset that takes back the ring
 * and a late used-ring entry can never both complete the same NET_BUFFER.
 */
#include "ndis_adapter.h"

#define STAT_ADD(field, v) vnet_stat_add(&(field), (LONG64)(v))

#define NBL_PENDING(nbl) ((volatile LONG *)&NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0])
#define NBL_ERROR(nbl) (NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1])

struct tx_done {
	PNET_BUFFER_LIST head, tail;
};

static VOID done_add(struct tx_done *d, PNET_BUFFER_LIST nbl)
{
	NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
	if (d->tail)
		NET_BUFFER_LIST_NEXT_NBL(d->tail) = nbl;
	else
		d->head = nbl;
	d->tail = nbl;
}

static VOID done_flush(struct vnet_adapter *a, struct tx_done *d, BOOLEAN dispatch)
{
	if (!d->head)
		return;
	NdisMSendNetBufferListsComplete(a->handle, d->head,
									dispatch ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
	d->head = d->tail = NULL;
}

/* One NET_BUFFER of nbl finished with status; completes the NBL after its last one. */
static VOID nbl_nb_done(struct tx_done *d, PNET_BUFFER_LIST nbl, NDIS_STATUS status,
						ULONG lso_payload, UCHAR lso)
{
	NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO info;

	if (status != NDIS_STATUS_SUCCESS && NBL_ERROR(nbl) == NULL)
		NBL_ERROR(nbl) = (PVOID)(LONG_PTR)status;
	/* The completion replaces the request in the same NBL info slot. An LSO NBL carries one
	 * NET_BUFFER (NDIS rule), so its payload is the whole count. */
	if (lso) {
		info.Value = NULL;
		if (lso == 1) {
			info.LsoV1TransmitComplete.TcpPayload = status == NDIS_STATUS_SUCCESS ? lso_payload : 0;
			info.LsoV1TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE;
		} else {
			info.LsoV2TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE;
		}
		NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = info.Value;
	}
	if (InterlockedDecrement(NBL_PENDING(nbl)) != 0)
		return;
	NET_BUFFER_LIST_STATUS(nbl) = (NDIS_STATUS)(LONG_PTR)NBL_ERROR(nbl);
	done_add(d, nbl);
}

static VOID slot_done(struct vnet_txq *q, struct vnet_txs *s, struct tx_done *d)
{
	struct vnet_adapter *a = q->a;
	PNET_BUFFER_LIST nbl = s->nbl;

	if (s->sgl)
		NdisMFreeNetBufferSGList(a->dma, s->sgl, s->nb);
	s->sgl = NULL;
	if (s->status == NDIS_STATUS_SUCCESS) {
		STAT_ADD(a->st.tx_ok, 1);
		STAT_ADD(a->st.tx_bytes, s->frame_len);
		if (s->dst_kind == 0)
			STAT_ADD(a->st.tx_ucast, 1);
		else if (s->dst_kind == 1)
			STAT_ADD(a->st.tx_mcast, 1);
		else
			STAT_ADD(a->st.tx_bcast, 1);
	} else {
		STAT_ADD(a->st.tx_err, 1);
	}
	nbl_nb_done(d, nbl, s->status, s->lso_payload, s->lso);
	NdisAcquireSpinLock(&q->lock);
	s->nbl = NULL;
	s->nb = NULL;
	if (vnet_txslot_move(&q->states[s->idx], VNET_TXS_DONE, VNET_TXS_FREE)) {
		s->next = q->free_slots;
		q->free_slots = s;
		q->in_flight--;
		q->done++;
	}
	NdisReleaseSpinLock(&q->lock);
}

/* Build the virtio-net header and the copied frame head of slot s. */
static NDIS_STATUS tx_prepare(struct vnet_adapter *a, struct vnet_txs *s)
{
	UCHAR storage[VNET_TX_HEAD_MAX];
	struct vnet_ndis_tx_offload o;
	NDIS_NET_BUFFER_LIST_8021Q_INFO vlan;
	struct virtio_net_hdr hdr;
	PUCHAR head, wire = s->hdr_va + a->hdr_len;
	ULONG len = NET_BUFFER_DATA_LENGTH(s->nb), hl, wire_len;
	uint16_t tci = 0;
	int rc;

	s->frame_len = len;
	s->lso = 0;
	s->lso_payload = 0;
	if (len < VNET_ETH_HLEN || len > VNET_MAX_FRAME_LEN)
		return NDIS_STATUS_INVALID_PACKET;
	hl = len < VNET_TX_HEAD_MAX ? len : VNET_TX_HEAD_MAX;
	head = NdisGetDataBuffer(s->nb, hl, storage, 1, 0);
	if (!head)
		return NDIS_STATUS_INVALID_PACKET;
	s->dst_kind = !(head[0] & 1) ? 0 : (head[0] == 0xff && head[1] == 0xff) ? 2 : 1;

	vlan.Value = NET_BUFFER_LIST_INFO(s->nbl, Ieee8021QNetBufferListInfo);
	if (a->vlan_sw && vlan.Value) {
		ULONG vid = vlan.TagHeader.VlanId ? vlan.TagHeader.VlanId : a->vlan_id;

		tci = (uint16_t)((vlan.TagHeader.UserPriority << 13) |
						 (vlan.TagHeader.CanonicalFormatId << 12) | (vid & 0xFFFu));
	} else if (a->vlan_sw && a->vlan_id) {
		tci = (uint16_t)(a->vlan_id & 0xFFFu);
	}
	if (tci) {
		vnet_tx_vlan_head(head, tci, wire);
		NdisMoveMemory(wire + VNET_TX_VLAN_HEAD_LEN, head + 12, hl - 12);
		wire_len = hl + VNET_VLAN_HLEN;
	} else {
		NdisMoveMemory(wire, head, hl);
		wire_len = hl;
	}

	vnet_ndis_get_tx_offload(s->nbl, a->max_frame + 2 * VNET_VLAN_HLEN, &o);
	if (o.req.lso_mss)
		(void)vnet_tx_lso_fix_lengths(wire, wire_len, len + (wire_len - hl));
	else if (o.ip_csum)
		(void)vnet_tx_ipv4_csum(wire, wire_len);
	rc = vnet_tx_build_hdr_head(wire, wire_len, len + (wire_len - hl), &o.req, a->features, &hdr);
	if (rc != VNET_OK)
		return rc == VNET_ERR_TOO_LONG ? NDIS_STATUS_INVALID_LENGTH : NDIS_STATUS_INVALID_PACKET;
	if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
		vnet_tx_pseudo_csum(wire, wire_len, len + (wire_len - hl)) != VNET_OK)
		return NDIS_STATUS_INVALID_PACKET;
	if (o.req.lso_mss) {
		s->lso = o.lso_v1 ? 1 : 2;
		s->lso_payload = len + (wire_len - hl) - le16_to_cpu(hdr.hdr_len);
	}
	NdisZeroMemory(s->hdr_va, a->hdr_len);
	NdisMoveMemory(s->hdr_va, &hdr, sizeof(hdr));
	s->hdr_bytes = a->hdr_len + wire_len;
	s->nb_skip = hl;
	return NDIS_STATUS_SUCCESS;
}

/* Move ready slots into the ring. Caller holds q->lock; failures are chained on *failed. */
static VOID flush_ready(struct vnet_txq *q, struct vnet_txs **failed)
{
	while (q->ready_head) {
		struct vnet_txs *s = q->ready_head;
		PSCATTER_GATHER_LIST sgl = s->sgl;
		ULONG skip = s->nb_skip, left = s->frame_len - s->nb_skip, i;
		uint16_t n = 0;
		int rc = VIRTIO_OK;

		/* Header and copied head are contiguous, but separate descriptors keep legacy devices
		 * without ANY_LAYOUT happy and cost nothing with indirect tables. */
		q->sg[n].addr = s->hdr_pa;
		q->sg[n].len = q->a->hdr_len;
		n++;
		if (s->hdr_bytes > q->a->hdr_len) {
			q->sg[n].addr = s->hdr_pa + q->a->hdr_len;
			q->sg[n].len = s->hdr_bytes - q->a->hdr_len;
			n++;
		}
		for (i = 0; sgl && i < sgl->NumberOfElements && left; i++) {
			uint64_t addr = (uint64_t)sgl->Elements[i].Address.QuadPart;
			ULONG l = sgl->Elements[i].Length;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			addr += skip;
			l -= skip;
			skip = 0;
			if (l > left)
				l = left;
			if (n == VNET_TX_SG_MAX) {
				rc = VIRTIO_EINVAL;
				break;
			}
			q->sg[n].addr = addr;
			q->sg[n].len = l;
			n++;
			left -= l;
		}
		if (rc == VIRTIO_OK && left)
			rc = VIRTIO_EINVAL;     /* the S/G list is shorter than the frame */
		if (rc == VIRTIO_OK)
			rc = vq_add(q->vq, q->sg, n, 0, s);
		if (rc == VIRTIO_ENOSPC)
			break;
		q->ready_head = s->next;
		if (!q->ready_head)
			q->ready_tail = NULL;
		if (rc == VIRTIO_OK) {
			(void)vnet_txslot_move(&q->states[s->idx], VNET_TXS_READY, VNET_TXS_RING);
		} else if (vnet_txslot_move(&q->states[s->idx], VNET_TXS_READY, VNET_TXS_DONE)) {
			s->status =
				rc == VIRTIO_EINVAL ? NDIS_STATUS_INVALID_PACKET : NDIS_STATUS_DEVICE_FAILED;
			s->next = *failed;
			*failed = s;
		}
	}
}

static VOID complete_slots(struct vnet_txq *q, struct vnet_txs *list, struct tx_done *d)
{
	while (list) {
		struct vnet_txs *next = list->next;

		slot_done(q, list, d);
		list = next;
	}
}

VOID NTAPI vnet_process_sg_list(PDEVICE_OBJECT dev, PVOID reserved, PSCATTER_GATHER_LIST sgl,
								PVOID ctx)
{
	struct vnet_txs *s = ctx;
	struct vnet_txq *q = s->q;
	struct vnet_txs *failed = NULL;
	struct tx_done d = { NULL, NULL };
	BOOLEAN kick = FALSE;

	(void)dev;
	(void)reserved;
	s->sgl = sgl;
	s->next = NULL;
	NdisDprAcquireSpinLock(&q->lock);
	if (!q->a->hw_running || q->a->removed || !q->vq) {
		/* Stopped or being reset while NDIS mapped the buffer. */
		if (vnet_txslot_move(&q->states[s->idx], VNET_TXS_MAPPING, VNET_TXS_DONE)) {
			s->status = vnet_send_refusal(q->a);
			if (s->status == NDIS_STATUS_SUCCESS)
				s->status = NDIS_STATUS_REQUEST_ABORTED;
			failed = s;
		}
	} else if (!vnet_txslot_move(&q->states[s->idx], VNET_TXS_MAPPING, VNET_TXS_READY)) {
		VNET_LOG(DPFLTR_ERROR_LEVEL, "S/G list for a slot that is not being mapped\n");
	} else {
		if (q->ready_tail)
			q->ready_tail->next = s;
		else
			q->ready_head = s;
		q->ready_tail = s;
		flush_ready(q, &failed);
		kick = vq_kick_prepare(q->vq);
	}
	if (kick)
		vq_notify(q->vq);
	NdisDprReleaseSpinLock(&q->lock);
	complete_slots(q, failed, &d);
	done_flush(q->a, &d, TRUE);
}

/* Start as many pending NET_BUFFERs as there are free slots. */
static VOID txq_pump(struct vnet_txq *q, BOOLEAN dispatch)
{
	struct vnet_adapter *a = q->a;
	struct tx_done d = { NULL, NULL };

	for (;;) {
		struct vnet_txs *s;
		PNET_BUFFER_LIST nbl;
		PNET_BUFFER nb;
		NDIS_STATUS st;

		NdisAcquireSpinLock(&q->lock);
		if (!q->pend_head || !q->free_slots || !a->hw_running || a->removed) {
			NdisReleaseSpinLock(&q->lock);
			break;
		}
		s = q->free_slots;
		q->free_slots = s->next;
		q->in_flight++;
		(void)vnet_txslot_move(&q->states[s->idx], VNET_TXS_FREE, VNET_TXS_MAPPING);
		nbl = q->pend_head;
		nb = q->pend_nb ? q->pend_nb : NET_BUFFER_LIST_FIRST_NB(nbl);
		q->pend_nb = NET_BUFFER_NEXT_NB(nb);
		if (!q->pend_nb) {
			q->pend_head = NET_BUFFER_LIST_NEXT_NBL(nbl);
			if (!q->pend_head)
				q->pend_tail = NULL;
			NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
		}
		NdisReleaseSpinLock(&q->lock);

		s->nbl = nbl;
		s->nb = nb;
		s->sgl = NULL;
		s->next = NULL;
		s->status = NDIS_STATUS_SUCCESS;
		st = tx_prepare(a, s);
		if (st == NDIS_STATUS_SUCCESS)
			st = NdisMAllocateNetBufferSGList(a->dma, nb, s, 0, NULL, 0);
		if (st != NDIS_STATUS_SUCCESS) {
			BOOLEAN mine;

			NdisAcquireSpinLock(&q->lock);
			mine = vnet_txslot_move(&q->states[s->idx], VNET_TXS_MAPPING, VNET_TXS_DONE);
			NdisReleaseSpinLock(&q->lock);
			s->status = st;
			if (mine)
				slot_done(q, s, &d);
		}
	}
	done_flush(a, &d, dispatch);
}

VOID NTAPI vnet_send_nbls(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
						  ULONG flags)
{
	struct vnet_adapter *a = ctx;
	struct tx_done d = { NULL, NULL };
	BOOLEAN dispatch = NDIS_TEST_SEND_AT_DISPATCH_LEVEL(flags);
	PNET_BUFFER_LIST nbl = nbls;
	ULONG touched = 0, i;

	(void)port;
	while (nbl) {
		PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
		struct vnet_txq *q = &a->txq[0];
		PNET_BUFFER nb;
		NDIS_STATUS st = NDIS_STATUS_SUCCESS;
		LONG count = 0;

		/* The stack's RSS hash keeps each flow on one queue, hence in order. */
		if (a->pairs > 1)
			q = &a->txq[NET_BUFFER_LIST_GET_HASH_VALUE(nbl) % a->pairs];
		NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
		for (nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb))
			count++;
		*NBL_PENDING(nbl) = count;
		NBL_ERROR(nbl) = (PVOID)(LONG_PTR)NDIS_STATUS_SUCCESS;
		if (count == 0)
			st = NDIS_STATUS_INVALID_PACKET;

		NdisAcquireSpinLock(&q->lock);
		if (st == NDIS_STATUS_SUCCESS) {
			/* Checked under the lock so that Pause or Reset cannot miss an NBL queued meanwhile. */
			st = vnet_send_refusal(a);
		}
		if (st == NDIS_STATUS_SUCCESS) {
			if (q->pend_tail)
				NET_BUFFER_LIST_NEXT_NBL(q->pend_tail) = nbl;
			else
				q->pend_head = nbl;
			q->pend_tail = nbl;
			touched |= 1u << (q - a->txq);
		}
		NdisReleaseSpinLock(&q->lock);
		if (st != NDIS_STATUS_SUCCESS) {
			STAT_ADD(a->st.tx_err, count ? count : 1);
			NET_BUFFER_LIST_STATUS(nbl) = st;
			done_add(&d, nbl);
		}
		nbl = next;
	}
	done_flush(a, &d, dispatch);
	for (i = 0; i < a->pairs; i++)
		if (touched & (1u << i))
			txq_pump(&a->txq[i], dispatch);
}

/* Transmit DPC work. Runs at DISPATCH_LEVEL. */
VOID vnet_txq_complete(struct vnet_txq *q)
{
	struct vnet_adapter *a = q->a;
	struct vnet_txs *list = NULL, *failed = NULL;
	struct tx_done d = { NULL, NULL };
	BOOLEAN kick = FALSE;

	NdisDprAcquireSpinLock(&q->lock);
	while (a->hw_running && !a->removed && q->vq) {
		struct vnet_txs *s;
		void *cookie;
		uint32_t len;
		int rc = vq_get_used(q->vq, &cookie, &len);

		if (rc == VIRTIO_ENOENT) {
			if (vq_enable_cb(q->vq))
				continue;
			break;
		}
		if (rc != VIRTIO_OK) {
			q->broken = TRUE;
			break;
		}
		s = cookie;
		if (s < q->slots || s >= q->slots + q->nslots ||
			!vnet_txslot_move(&q->states[s->idx], VNET_TXS_RING, VNET_TXS_DONE)) {
			/* Not a descriptor chain the device holds: a reset is the only way out. */
			if (!q->broken)
				VNET_LOG(DPFLTR_ERROR_LEVEL, "transmit queue %u: bogus used entry\n", q->index);
			q->broken = TRUE;
			break;
		}
		s->next = list;
		list = s;
	}
	if (a->hw_running && !a->removed && q->vq) {
		flush_ready(q, &failed);
		kick = vq_kick_prepare(q->vq);
	}
	if (kick)
		vq_notify(q->vq);
	NdisDprReleaseSpinLock(&q->lock);
	complete_slots(q, list, &d);
	complete_slots(q, failed, &d);
	done_flush(a, &d, TRUE);
	txq_pump(q, TRUE);
	vnet_check_pause_done(a);
}

/*
 * Fail what has not reached the device (pending NBLs and mapped slots) with status; with
 * in_ring_too (only after a device reset) also what the device held.
 */
VOID vnet_txq_abort(struct vnet_txq *q, NDIS_STATUS status, BOOLEAN in_ring_too)
{
	struct vnet_adapter *a = q->a;
	struct tx_done d = { NULL, NULL };
	struct vnet_txs *failed = NULL, *s;
	PNET_BUFFER_LIST pend, nbl;
	PNET_BUFFER nb;
	void *cookie;

	NdisAcquireSpinLock(&q->lock);
	pend = q->pend_head;
	nb = q->pend_nb;
	q->pend_head = q->pend_tail = NULL;
	q->pend_nb = NULL;
	if (in_ring_too) {
		ULONG n, i;

		/* The device is reset: it owns nothing, whatever its rings say. The slot states, not
		 * the ring's cookies, say what to complete. */
		if (q->vq)
			while ((cookie = vq_detach_unused(q->vq)) != NULL)
				;
		q->vq = NULL;
		n = q->states ? vnet_txslot_reclaim(q->states, q->nslots, q->reclaim) : 0;
		for (i = 0; i < n; i++) {
			s = &q->slots[q->reclaim[i]];
			s->status = status;
			s->next = failed;
			failed = s;
		}
		q->ready_head = NULL;
		q->broken = FALSE;
	} else {
		while ((s = q->ready_head) != NULL) {
			q->ready_head = s->next;
			if (!vnet_txslot_move(&q->states[s->idx], VNET_TXS_READY, VNET_TXS_DONE))
				continue;
			s->status = status;
			s->next = failed;
			failed = s;
		}
	}
	q->ready_tail = NULL;
	NdisReleaseSpinLock(&q->lock);

	complete_slots(q, failed, &d);
	/* The first pending NBL may be partly started: only its unstarted NET_BUFFERs count here. */
	while (pend) {
		nbl = pend;
		pend = NET_BUFFER_LIST_NEXT_NBL(nbl);
		NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
		if (!nb)
			nb = NET_BUFFER_LIST_FIRST_NB(nbl);
		for (; nb; nb = NET_BUFFER_NEXT_NB(nb)) {
			STAT_ADD(a->st.tx_err, 1);
			nbl_nb_done(&d, nbl, status, 0, 0);
		}
	}
	done_flush(a, &d, FALSE);
}

VOID NTAPI vnet_cancel_send(NDIS_HANDLE ctx, PVOID cancel_id)
{
	struct vnet_adapter *a = ctx;
	struct tx_done d = { NULL, NULL };
	ULONG i;

	for (i = 0; i < a->pairs; i++) {
		struct vnet_txq *q = &a->txq[i];
		PNET_BUFFER_LIST *link, nbl, prev = NULL;

		NdisAcquireSpinLock(&q->lock);
		link = &q->pend_head;
		while ((nbl = *link) != NULL) {
			/* A partly started NBL (the head with pend_nb set) must run to completion. */
			BOOLEAN started = nbl == q->pend_head && q->pend_nb != NULL;

			if (!started && NDIS_GET_NET_BUFFER_LIST_CANCEL_ID(nbl) == cancel_id) {
				*link = NET_BUFFER_LIST_NEXT_NBL(nbl);
				if (q->pend_tail == nbl)
					q->pend_tail = prev;
				NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SEND_ABORTED;
				done_add(&d, nbl);
				continue;
			}
			prev = nbl;
			link = &NET_BUFFER_LIST_NEXT_NBL(nbl);
		}
		NdisReleaseSpinLock(&q->lock);
	}
	done_flush(a, &d, FALSE);
}

NDIS_STATUS vnet_txq_init(struct vnet_adapter *a, struct vnet_txq *q)
{
	ULONG i;

	q->a = a;
	q->nslots = q->size;
	if (q->nslots == 0)
		return NDIS_STATUS_RESOURCES;
	q->slots = vnet_alloc(a, q->nslots * sizeof(*q->slots));
	q->states = vnet_alloc(a, q->nslots * sizeof(*q->states));
	q->reclaim = vnet_alloc(a, q->nslots * sizeof(*q->reclaim));
	if (!q->slots || !q->states || !q->reclaim)
		return NDIS_STATUS_RESOURCES;
	if (vnet_alloc_dma(a, q->nslots * VNET_TX_SLOT_BYTES, &q->slot_mem) != NDIS_STATUS_SUCCESS)
		return NDIS_STATUS_RESOURCES;
	q->free_slots = NULL;
	for (i = q->nslots; i-- > 0;) {
		struct vnet_txs *s = &q->slots[i];

		s->q = q;
		s->idx = i;
		q->states[i] = VNET_TXS_FREE;
		s->hdr_va = (PUCHAR)q->slot_mem.va + i * VNET_TX_SLOT_BYTES;
		s->hdr_pa = (uint64_t)q->slot_mem.pa.QuadPart + i * VNET_TX_SLOT_BYTES;
		s->next = q->free_slots;
		q->free_slots = s;
	}
	return NDIS_STATUS_SUCCESS;
}

VOID vnet_txq_free(struct vnet_adapter *a, struct vnet_txq *q)
{
	vnet_free_dma(a, &q->slot_mem);
	vnet_free(a, q->slots);
	vnet_free(a, q->states);
	vnet_free(a, q->reclaim);
	q->slots = NULL;
	q->states = NULL;
	q->reclaim = NULL;
}

/* MiniportCheckForHangEx for one queue. */
BOOLEAN vnet_txq_hung(struct vnet_txq *q)
{
	BOOLEAN hung;

	NdisAcquireSpinLock(&q->lock);
	hung = vnet_txwatch_hung(&q->watch, (uint32_t)q->in_flight, q->done,
							 q->broken || (q->vq && vq_is_broken(q->vq)));
	NdisReleaseSpinLock(&q->lock);
	return hung;
}

/* Why a send cannot be accepted now, or NDIS_STATUS_SUCCESS. */
NDIS_STATUS vnet_send_refusal(struct vnet_adapter *a)
{
	if (a->removed)
		return NDIS_STATUS_ADAPTER_REMOVED;
	if (a->resetting)
		return NDIS_STATUS_RESET_IN_PROGRESS;
	if (a->paused)
		return NDIS_STATUS_PAUSED;
	if (a->power != NdisDeviceStateD0)
		return NDIS_STATUS_LOW_POWER_STATE;
	if (a->dead)
		return NDIS_STATUS_DEVICE_FAILED;
	return NDIS_STATUS_SUCCESS;
}
