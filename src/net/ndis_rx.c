/*
 * vdpnet receive path.
 *
 * Every receive buffer is preallocated shared memory big enough for the virtio header and a
 * whole frame (MTU + Ethernet header + two VLAN tags), with its own MDL and NET_BUFFER_LIST.
 * With VIRTIO_NET_F_MRG_RXBUF a device may still spread one frame over several buffers; the
 * driver then copies the continuation buffers behind the first one (which always has room,
 * see vnet_rx_gather) and reposts them at once, so NDIS only ever sees single-MDL frames. The
 * copy is rare (the device only splits what does not fit) and keeps the indication path simple.
 *
 * Receive segment coalescing (GUEST_TSO4/6, only with MRG_RXBUF): a coalesced frame of up to
 * 64 KiB arrives over many ring buffers. It is copied into a spare buffer outside the ring
 * (q->big) and the ring buffers are reposted at once. With RSC on it is indicated as one NBL
 * with NDIS_RSC_NBL_INFO; with RSC off (the device may still coalesce, see
 * vnet_apply_guest_offloads) it is cut into MTU-sized segments in other spare buffers (q->seg).
 * No spare buffer free: the frame is dropped and counted as "no buffer"; TCP resends it.
 *
 * Nothing the device reports is trusted: cookies, lengths, buffer counts and header fields are
 * validated (vnet_rx_*), and a packet that fails is dropped and its buffers reposted.
 *
 * Pause: a batch is only indicated after it passed the queue's gate (vnet_health.h) under the
 * queue lock, and the gate counts the indication until NdisMIndicateReceiveNetBufferLists has
 * returned and the NBLs until NDIS gives them back. Pause closes every gate under the same
 * lock, so no batch that has not passed yet is indicated after the pause point, and Pause
 * completes only when all gates are idle.
 */
#include "ndis_adapter.h"

#define STAT_ADD(field, v) vnet_stat_add(&(field), (LONG64)(v))

static struct vnet_rxb *rxb_from_cookie(struct vnet_rxq *q, void *cookie)
{
	struct vnet_rxb *b = cookie;

	if (b < q->bufs || b >= q->bufs + q->nbufs ||
		(ULONG_PTR)((PUCHAR)b - (PUCHAR)q->bufs) % sizeof(*b) != 0)
		return NULL;
	return b->posted ? b : NULL;
}

static struct vnet_rxb *rxpool_get(struct vnet_rxpool *p)
{
	struct vnet_rxb *b = p->free;

	if (b) {
		p->free = b->next_free;
		b->next_free = NULL;
		p->nfree--;
	}
	return b;
}

static VOID rxpool_put(struct vnet_rxq *q, struct vnet_rxb *b)
{
	struct vnet_rxpool *p = &q->seg;

	if (q->big.n && b >= q->big.bufs && b < q->big.bufs + q->big.n)
		p = &q->big;
	b->next_free = p->free;
	p->free = b;
	p->nfree++;
}

/* Caller holds q->lock. */
static BOOLEAN rxq_post_locked(struct vnet_rxq *q, struct vnet_rxb *b)
{
	struct vq_sg sg[2];
	uint16_t n = 1;

	/* Spare buffers never go to the device. */
	if (b->posted || b->indicated || b->spare || !q->vq)
		return FALSE;
	sg[0].addr = (uint64_t)b->mem.pa.QuadPart;
	sg[0].len = b->mem.len;
	if (q->a->split_hdr) {
		/* Same memory, two descriptors: the used length still counts both. */
		sg[0].len = q->a->hdr_len;
		sg[1].addr = sg[0].addr + q->a->hdr_len;
		sg[1].len = b->mem.len - q->a->hdr_len;
		n = 2;
	}
	if (vq_add(q->vq, sg, 0, n, b) != VIRTIO_OK)
		return FALSE;
	b->posted = TRUE;
	q->posted++;
	return TRUE;
}

/* Caller holds q->lock: a buffer NDIS or the driver is done with goes back where it belongs. */
static VOID rxb_release_locked(struct vnet_rxq *q, struct vnet_rxb *b)
{
	struct vnet_adapter *a = q->a;

	b->indicated = FALSE;
	if (b->spare)
		rxpool_put(q, b);
	else if (a->hw_running && !a->removed)
		rxq_post_locked(q, b);
}

VOID vnet_rxq_fill(struct vnet_rxq *q)
{
	struct vnet_adapter *a = q->a;
	BOOLEAN kick = FALSE;
	ULONG i;

	NdisAcquireSpinLock(&q->lock);
	if (a->hw_running && !a->removed && q->vq) {
		for (i = 0; i < q->nbufs; i++)
			rxq_post_locked(q, &q->bufs[i]);
		kick = vq_kick_prepare(q->vq);
	}
	if (kick)
		vq_notify(q->vq);
	NdisReleaseSpinLock(&q->lock);
}

static NDIS_STATUS rxpool_init(struct vnet_adapter *a, struct vnet_rxq *q, struct vnet_rxpool *p,
								ULONG n, ULONG len)
{
	ULONG i;

	p->bufs = vnet_alloc(a, n * sizeof(*p->bufs));
	if (!p->bufs)
		return NDIS_STATUS_RESOURCES;
	p->n = n;
	for (i = 0; i < n; i++) {
		struct vnet_rxb *b = &p->bufs[i];

		b->q = q;
		b->spare = TRUE;
		/* The device never sees these: plain non-paged memory is enough. */
		b->mem.va = vnet_alloc(a, len);
		if (!b->mem.va)
			return NDIS_STATUS_RESOURCES;
		b->mem.len = len;
		b->mdl = NdisAllocateMdl(a->handle, b->mem.va, len);
		if (!b->mdl)
			return NDIS_STATUS_RESOURCES;
		b->nbl = NdisAllocateNetBufferAndNetBufferList(a->nbl_pool, 0, 0, b->mdl, 0, len);
		if (!b->nbl)
			return NDIS_STATUS_RESOURCES;
		NET_BUFFER_LIST_MINIPORT_RESERVED(b->nbl)[0] = b;
		b->next_free = p->free;
		p->free = b;
		p->nfree++;
	}
	return NDIS_STATUS_SUCCESS;
}

static VOID rxpool_free(struct vnet_adapter *a, struct vnet_rxpool *p)
{
	ULONG i;

	if (p->bufs) {
		for (i = 0; i < p->n; i++) {
			if (p->bufs[i].nbl)
				NdisFreeNetBufferList(p->bufs[i].nbl);
			if (p->bufs[i].mdl)
				NdisFreeMdl(p->bufs[i].mdl);
			vnet_free(a, p->bufs[i].mem.va);
		}
	}
	vnet_free(a, p->bufs);
	NdisZeroMemory(p, sizeof(*p));
}

NDIS_STATUS vnet_rxq_init(struct vnet_adapter *a, struct vnet_rxq *q)
{
	ULONG per_chunk, i, c;

	q->a = a;
	q->nbufs = q->size;
	if (q->nbufs == 0)
		return NDIS_STATUS_RESOURCES;
	/* About 64 KiB of contiguous memory per chunk keeps the allocations easy to satisfy. */
	per_chunk = 0x10000u / a->rx_buf_len;
	if (per_chunk == 0)
		per_chunk = 1;
	q->nchunks = (q->nbufs + per_chunk - 1) / per_chunk;
	q->bufs = vnet_alloc(a, q->nbufs * sizeof(*q->bufs));
	q->chunks = vnet_alloc(a, q->nchunks * sizeof(*q->chunks));
	q->chain = vnet_alloc(a, q->nbufs * sizeof(*q->chain));
	q->chain_bufs = vnet_alloc(a, q->nbufs * sizeof(*q->chain_bufs));
	if (!q->bufs || !q->chunks || !q->chain || !q->chain_bufs)
		return NDIS_STATUS_RESOURCES;
	for (c = 0; c < q->nchunks; c++) {
		ULONG n = q->nbufs - c * per_chunk;

		if (n > per_chunk)
			n = per_chunk;
		if (vnet_alloc_dma(a, n * a->rx_buf_len, &q->chunks[c]) != NDIS_STATUS_SUCCESS)
			return NDIS_STATUS_RESOURCES;
	}
	for (i = 0; i < q->nbufs; i++) {
		struct vnet_rxb *b = &q->bufs[i];
		struct vnet_dma *chunk = &q->chunks[i / per_chunk];
		ULONG off = (i % per_chunk) * a->rx_buf_len;

		b->q = q;
		b->mem.va = (PUCHAR)chunk->va + off;
		b->mem.pa.QuadPart = chunk->pa.QuadPart + off;
		b->mem.len = a->rx_buf_len;
		b->mdl = NdisAllocateMdl(a->handle, b->mem.va, b->mem.len);
		if (!b->mdl)
			return NDIS_STATUS_RESOURCES;
		b->nbl = NdisAllocateNetBufferAndNetBufferList(a->nbl_pool, 0, 0, b->mdl, 0, b->mem.len);
		if (!b->nbl)
			return NDIS_STATUS_RESOURCES;
		NET_BUFFER_LIST_MINIPORT_RESERVED(b->nbl)[0] = b;
	}
	if (a->rsc_buf_len) {
		if (rxpool_init(a, q, &q->big, VNET_RSC_BIG_BUFS, a->rsc_buf_len) != NDIS_STATUS_SUCCESS ||
			rxpool_init(a, q, &q->seg, VNET_RSC_SEG_BUFS, a->rx_buf_len) != NDIS_STATUS_SUCCESS)
			return NDIS_STATUS_RESOURCES;
	}
	return NDIS_STATUS_SUCCESS;
}

VOID vnet_rxq_free(struct vnet_adapter *a, struct vnet_rxq *q)
{
	ULONG i;

	rxpool_free(a, &q->big);
	rxpool_free(a, &q->seg);

	if (q->bufs) {
		for (i = 0; i < q->nbufs; i++) {
			if (q->bufs[i].nbl)
				NdisFreeNetBufferList(q->bufs[i].nbl);
			if (q->bufs[i].mdl)
				NdisFreeMdl(q->bufs[i].mdl);
		}
	}
	if (q->chunks)
		for (i = 0; i < q->nchunks; i++)
			vnet_free_dma(a, &q->chunks[i]);
	vnet_free(a, q->bufs);
	vnet_free(a, q->chunks);
	vnet_free(a, q->chain);
	vnet_free(a, q->chain_bufs);
	q->bufs = NULL;
	q->chunks = NULL;
	q->chain = NULL;
	q->chain_bufs = NULL;
}

static void count_rx(struct vnet_adapter *a, const UCHAR *frame, ULONG len)
{
	STAT_ADD(a->st.rx_ok, 1);
	STAT_ADD(a->st.rx_bytes, len);
	if (!(frame[0] & 1))
		STAT_ADD(a->st.rx_ucast, 1);
	else if (frame[0] == 0xff && frame[1] == 0xff && frame[2] == 0xff)
		STAT_ADD(a->st.rx_bcast, 1);
	else
		STAT_ADD(a->st.rx_mcast, 1);
}

/* Checksum results NDIS may see, according to the receive offloads that are switched on. */
static uint32_t rx_csum_flags(struct vnet_adapter *a, const struct vnet_rx_packet *pkt,
							  uint32_t flags)
{
	const struct vnet_offload_cfg *o = &a->offload;
	BOOLEAN v4 = pkt->info.ip_version == 4, v6 = pkt->info.ip_version == 6;
	BOOLEAN tcp = pkt->info.l4_proto == VNET_IPPROTO_TCP;
	BOOLEAN udp = pkt->info.l4_proto == VNET_IPPROTO_UDP;
	uint32_t out = 0;

	if (pkt->parse_status != VNET_OK)
		return 0;
	if (v4 && o->rx_ip4)
		out |= flags & (VNET_RX_CSUM_IP_OK | VNET_RX_CSUM_IP_BAD);
	if ((flags & VNET_RX_CSUM_TCP_OK) && tcp && ((v4 && o->rx_tcp4) || (v6 && o->rx_tcp6)))
		out |= VNET_RX_CSUM_TCP_OK;
	if ((flags & VNET_RX_CSUM_UDP_OK) && udp && ((v4 && o->rx_udp4) || (v6 && o->rx_udp6)))
		out |= VNET_RX_CSUM_UDP_OK;
	return out;
}

/*
 * Turn a validated packet in buffer b into an NBL ready to indicate. Returns FALSE if the frame
 * is to be dropped (filtered, checksum offsets bogus, wrong VLAN).
 */
static BOOLEAN rx_prepare(struct vnet_adapter *a, struct vnet_rxb *b, struct vnet_rx_packet *pkt)
{
	PUCHAR frame = (PUCHAR)b->mem.va + a->hdr_len;
	ULONG len = pkt->frame_len, off = a->hdr_len;
	PNET_BUFFER_LIST nbl = b->nbl;
	PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
	NDIS_NET_BUFFER_LIST_8021Q_INFO vlan;
	uint32_t flags = pkt->csum_flags, hash, type;
	uint16_t tci;
	BOOLEAN accept;

	NdisDprAcquireSpinLock(&a->state_lock);
	accept = vnet_filter_accept(&a->filter, frame, len);
	NdisDprReleaseSpinLock(&a->state_lock);
	if (!accept)
		return FALSE;

	if (flags & VNET_RX_CSUM_PARTIAL) {
		if (vnet_rx_complete_csum(frame, len, pkt->csum_start, pkt->csum_offset) != VNET_OK)
			return FALSE;
		/* The device vouches for the data; the checksum is now correct too. */
		if (pkt->info.has_l4 && pkt->info.l4_proto == VNET_IPPROTO_TCP)
			flags |= VNET_RX_CSUM_TCP_OK;
		else if (pkt->info.has_l4 && pkt->info.l4_proto == VNET_IPPROTO_UDP)
			flags |= VNET_RX_CSUM_UDP_OK;
	}

	NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo) =
		vnet_ndis_rx_csum_info(rx_csum_flags(a, pkt, flags));
	NET_BUFFER_LIST_INFO(nbl, Ieee8021QNetBufferListInfo) = NULL;
	NET_BUFFER_LIST_INFO(nbl, NetBufferListHashValue) = NULL;
	NET_BUFFER_LIST_INFO(nbl, NetBufferListHashInfo) = NULL;
	NET_BUFFER_LIST_INFO(nbl, TcpRecvSegCoalesceInfo) = NULL;

	if (a->rss_on) {
		NdisDprAcquireSpinLock(&a->state_lock);
		if (a->rss_on && vnet_rss_hash_frame(&a->rss, frame, len, &hash, &type) == VNET_OK) {
			NET_BUFFER_LIST_SET_HASH_VALUE(nbl, hash);
			NET_BUFFER_LIST_SET_HASH_TYPE(nbl, vnet_ndis_hash_type(type));
			NET_BUFFER_LIST_SET_HASH_FUNCTION(nbl, NdisHashFunctionToeplitz);
		}
		NdisDprReleaseSpinLock(&a->state_lock);
	}

	/* virtio never strips tags: do it here so NDIS gets the 802.1Q info out of band. */
	if (a->vlan_sw && vnet_vlan_strip(frame, len, &tci)) {
		vlan.Value = NULL;
		vlan.TagHeader.UserPriority = (tci >> 13) & 7u;
		vlan.TagHeader.CanonicalFormatId = (tci >> 12) & 1u;
		vlan.TagHeader.VlanId = tci & 0xFFFu;
		if (a->vlan_id && vlan.TagHeader.VlanId && vlan.TagHeader.VlanId != a->vlan_id)
			return FALSE;
		NET_BUFFER_LIST_INFO(nbl, Ieee8021QNetBufferListInfo) = vlan.Value;
		off += VNET_VLAN_HLEN;
		len -= VNET_VLAN_HLEN;
		frame += VNET_VLAN_HLEN;
	}

	NET_BUFFER_CURRENT_MDL(nb) = NET_BUFFER_FIRST_MDL(nb);
	NET_BUFFER_DATA_OFFSET(nb) = off;
	NET_BUFFER_CURRENT_MDL_OFFSET(nb) = off;
	NET_BUFFER_DATA_LENGTH(nb) = len;
	NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
	NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
	nbl->SourceHandle = a->handle;
	count_rx(a, frame, len);
	return TRUE;
}

static VOID rx_append(PNET_BUFFER_LIST *head, PNET_BUFFER_LIST *tail, struct vnet_rxb *b)
{
	b->indicated = TRUE;
	if (*tail)
		NET_BUFFER_LIST_NEXT_NBL(*tail) = b->nbl;
	else
		*head = b->nbl;
	*tail = b->nbl;
}

/*
 * Caller holds q->lock. pkt is a validated coalesced frame in q->chain[0..n): gather it into a
 * spare buffer (the ring buffers are reposted here), then append one NBL for it (RSC on for its
 * IP version) or one per segment (RSC off). Returns the number of NBLs appended.
 */
static ULONG rx_gso(struct vnet_rxq *q, uint16_t n, const struct vnet_rx_packet *pkt,
					PNET_BUFFER_LIST *head, PNET_BUFFER_LIST *tail)
{
	struct vnet_adapter *a = q->a;
	struct vnet_rxb *big = a->paused ? NULL : rxpool_get(&q->big);
	BOOLEAN v4 = pkt->gso_type == VIRTIO_NET_HDR_GSO_TCPV4;
	BOOLEAN rsc = v4 ? a->offload.rsc4 : a->offload.rsc6;
	struct vnet_rx_packet p = *pkt;
	ULONG count = 0;
	uint16_t i;
	int rc = VNET_ERR_INVAL;

	if (big)
		rc = vnet_rx_copy_chain(&a->rxcfg, q->chain, n, pkt, big->mem.va, big->mem.len);
	for (i = 0; i < n; i++)
		rxq_post_locked(q, q->chain_bufs[i]);
	if (!big) {
		if (a->paused)
			STAT_ADD(a->st.rx_drop, 1);
		else
			STAT_ADD(a->st.rx_nobuf, 1);
		return 0;
	}
	if (rc != VNET_OK) {
		STAT_ADD(a->st.rx_err, 1);
		rxpool_put(q, big);
		return 0;
	}
	if (rsc) {
		NDIS_RSC_NBL_INFO info;

		if (!rx_prepare(a, big, &p)) {
			STAT_ADD(a->st.rx_drop, 1);
			rxpool_put(q, big);
			return 0;
		}
		/* A coalesced unit always carries good checksums (the device vouched for the data,
		 * the IPv4 header was checked); a TCP checksum field the device left stale is
		 * flagged as such rather than recomputed over 64 KiB. */
		NET_BUFFER_LIST_INFO(big->nbl, TcpIpChecksumNetBufferListInfo) = vnet_ndis_rx_csum_info(
			(v4 ? VNET_RX_CSUM_IP_OK : 0u) | VNET_RX_CSUM_TCP_OK |
			(p.csum_flags & VNET_RX_CSUM_TCP_VALUE_STALE));
		info.Value = NULL;
		info.Info.CoalescedSegCount = p.gso_segs;
		info.Info.DupAckCount = 0;
		NET_BUFFER_LIST_INFO(big->nbl, TcpRecvSegCoalesceInfo) = info.Value;
		STAT_ADD(a->st.rsc_units, 1);
		STAT_ADD(a->st.rsc_segs, p.gso_segs);
		STAT_ADD(a->st.rsc_bytes, p.gso_payload);
		rx_append(head, tail, big);
		return 1;
	}

	/* RSC is off but the device still coalesced: give NDIS the segments it would have seen. */
	STAT_ADD(a->st.rsc_aborts, 1);
	for (i = 0; i < pkt->gso_segs; i++) {
		struct vnet_rxb *s = rxpool_get(&q->seg);
		struct vnet_rx_packet sp = *pkt;
		uint32_t len;

		if (!s) {
			STAT_ADD(a->st.rx_nobuf, pkt->gso_segs - i);
			break;
		}
		len = vnet_rx_gso_segment((PUCHAR)big->mem.va + a->hdr_len, pkt->frame_len, pkt, i,
								  (PUCHAR)s->mem.va + a->hdr_len, s->mem.len - a->hdr_len);
		if (len == 0) {
			STAT_ADD(a->st.rx_err, 1);
			rxpool_put(q, s);
			break;
		}
		sp.frame_len = len;
		sp.gso_type = VIRTIO_NET_HDR_GSO_NONE;
		sp.gso_size = sp.gso_segs = 0;
		sp.gso_payload = 0;
		sp.info.ip_end = len;
		/* Both checksums were just computed here. */
		sp.csum_flags = (v4 ? VNET_RX_CSUM_IP_OK : 0u) | VNET_RX_CSUM_TCP_OK;
		if (!rx_prepare(a, s, &sp)) {
			STAT_ADD(a->st.rx_drop, 1);
			rxpool_put(q, s);
			continue;
		}
		rx_append(head, tail, s);
		count++;
	}
	rxpool_put(q, big);
	return count;
}

/* Fewer than a quarter of the buffers left with the device (or spare): let NDIS copy, so that
 * the buffers come straight back and the ring does not run dry. Under q->lock. */
static BOOLEAN rx_low_locked(struct vnet_rxq *q)
{
	return (ULONG)q->posted < q->nbufs / 4 || (q->big.n && q->big.nfree < q->big.n / 4) ||
		   (q->seg.n && q->seg.nfree < q->seg.n / 4);
}

/*
 * Caller holds q->lock and has a batch of count NBLs: pass the gate or drop the batch (the
 * buffers go straight back to the device). TRUE: indicate it with rx_indicate once the lock
 * is released; *low then says whether NDIS must copy (NDIS_RECEIVE_FLAGS_RESOURCES).
 */
static BOOLEAN rx_batch_pass(struct vnet_rxq *q, PNET_BUFFER_LIST head, ULONG count, BOOLEAN *low)
{
	struct vnet_adapter *a = q->a;
	PNET_BUFFER_LIST nbl;

	if (!head)
		return FALSE;
	if (vnet_rxgate_enter(&q->gate, count)) {
		*low = rx_low_locked(q);
		return TRUE;
	}
	for (nbl = head; nbl;) {
		struct vnet_rxb *b = NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];

		nbl = NET_BUFFER_LIST_NEXT_NBL(nbl);
		STAT_ADD(a->st.rx_drop, 1);
		rxb_release_locked(q, b);
	}
	return FALSE;
}

/* Called without the lock, after rx_batch_pass. */
static VOID rx_indicate(struct vnet_rxq *q, PNET_BUFFER_LIST head, ULONG count, BOOLEAN low,
						ULONG parts)
{
	struct vnet_adapter *a = q->a;
	ULONG flags = NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL;
	PNET_BUFFER_LIST nbl;
	BOOLEAN kick = FALSE;

	if (low)
		flags |= NDIS_RECEIVE_FLAGS_RESOURCES;
	NdisMIndicateReceiveNetBufferLists(a->handle, head, NDIS_DEFAULT_PORT_NUMBER, count, flags);
	NdisDprAcquireSpinLock(&q->lock);
	if (low) {
		/* With NDIS_RECEIVE_FLAGS_RESOURCES the NBLs are ours again on return. */
		for (nbl = head; nbl;) {
			struct vnet_rxb *b = NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];

			nbl = NET_BUFFER_LIST_NEXT_NBL(nbl);
			rxb_release_locked(q, b);
		}
		if (q->vq && a->hw_running && !a->removed)
			kick = vq_kick_prepare(q->vq);
		if (kick)
			vq_notify(q->vq);
	}
	if (vnet_rxgate_leave_parts(&q->gate, parts, count, low ? count : 0) != VNET_OK)
		VNET_LOG(DPFLTR_ERROR_LEVEL, "receive gate out of balance\n");
	NdisDprReleaseSpinLock(&q->lock);
}

/* ------------------------------------------------------------------ RSS steering */

static struct vnet_rxq *rx_nbl_queue(PNET_BUFFER_LIST nbl)
{
	return ((struct vnet_rxb *)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0])->q;
}

/* The indirection table's processor for a hashed NBL, VNET_RSS_NO_CPU when it has none.
 * Read without the lock: a table being replaced only sends a frame to a valid old choice. */
static ULONG rx_table_cpu(struct vnet_adapter *a, PNET_BUFFER_LIST nbl)
{
	ULONG cpu;

	if (NET_BUFFER_LIST_GET_HASH_FUNCTION(nbl) == 0)
		return VNET_RSS_NO_CPU;
	cpu = a->rss_cpu[NET_BUFFER_LIST_GET_HASH_VALUE(nbl) & a->rss_cpu_mask &
					 (VNET_RSS_TABLE_MAX - 1)];
	return cpu < a->steer_cpus ? cpu : VNET_RSS_NO_CPU;
}

/*
 * After rx_batch_pass and without q->lock: move the NBLs whose table processor is another one
 * to that processor's list and queue a DPC there (NdisMQueueDpcEx); *head and *count keep the
 * rest, which the caller indicates here as one gate part (none left: nothing to indicate).
 */
static VOID rx_steer(struct vnet_rxq *q, PNET_BUFFER_LIST *head, ULONG *count)
{
	struct vnet_adapter *a = q->a;
	PNET_BUFFER_LIST nbl, next, keep = NULL, *kt = &keep;
	PROCESSOR_NUMBER pn;
	ULONG64 targets = 0;
	ULONG kept = 0, moved = 0, cpu, msg;

	if (!a->steer_cpus || !a->rss_on || !a->intr)
		return;
	KeGetCurrentProcessorNumberEx(&pn);
	if (pn.Group != 0)
		return;
	for (nbl = *head; nbl; nbl = next) {
		struct vnet_steer *s;

		next = NET_BUFFER_LIST_NEXT_NBL(nbl);
		NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
		cpu = rx_table_cpu(a, nbl);
		if (cpu == VNET_RSS_NO_CPU || cpu == pn.Number) {
			*kt = nbl;
			kt = &NET_BUFFER_LIST_NEXT_NBL(nbl);
			kept++;
			continue;
		}
		if (moved++ == 0) {
			/* Each steered NBL ends its own gate part; the batch's part stays with the
			 * NBLs kept here, or goes to the first steered one when none is kept. */
			NdisDprAcquireSpinLock(&q->lock);
			vnet_rxgate_split(&q->gate, *count - 1);
			NdisDprReleaseSpinLock(&q->lock);
		}
		s = &a->steer[cpu];
		NdisDprAcquireSpinLock(&s->lock);
		if (s->tail)
			NET_BUFFER_LIST_NEXT_NBL(s->tail) = nbl;
		else
			s->head = nbl;
		s->tail = nbl;
		NdisDprReleaseSpinLock(&s->lock);
		targets |= 1ull << cpu;
	}
	*head = keep;
	*count = kept;
	if (!moved)
		return;
	/* split() above counted one part per NBL; the kept ones end with a single leave. */
	if (kept > 1) {
		NdisDprAcquireSpinLock(&q->lock);
		if (vnet_rxgate_leave_parts(&q->gate, kept - 1, 0, 0) != VNET_OK)
			VNET_LOG(DPFLTR_ERROR_LEVEL, "receive gate out of balance\n");
		NdisDprReleaseSpinLock(&q->lock);
	}
	msg = a->msix && q->msix < a->msg_count ? q->msix : 0;
	for (cpu = 0; cpu < a->steer_cpus; cpu++) {
		GROUP_AFFINITY ga;

		if (!(targets & (1ull << cpu)))
			continue;
		NdisZeroMemory(&ga, sizeof(ga));
		ga.Mask = (KAFFINITY)1 << cpu;
		ga.Group = 0;
		/* Already queued there: that DPC has not taken the list yet and sees these too. */
		(void)NdisMQueueDpcEx(a->intr, msg, &ga, VNET_STEER_CTX);
	}
	/* Frames steered here earlier go first: flows keep their order. */
	if (keep && a->steer[pn.Number].head)
		vnet_steer_drain(a);
}

VOID vnet_steer_drain(struct vnet_adapter *a)
{
	PNET_BUFFER_LIST list;
	PROCESSOR_NUMBER pn;
	struct vnet_steer *s;

	KeGetCurrentProcessorNumberEx(&pn);
	if (pn.Group != 0 || pn.Number >= a->steer_cpus)
		return;
	InterlockedIncrement(&a->dpc_active);
	s = &a->steer[pn.Number];
	NdisDprAcquireSpinLock(&s->lock);
	list = s->head;
	s->head = s->tail = NULL;
	NdisDprReleaseSpinLock(&s->lock);
	while (list) {
		struct vnet_rxq *q = rx_nbl_queue(list);
		PNET_BUFFER_LIST run = list, last = list, nbl;
		ULONG n = 1;
		BOOLEAN low;

		/* Consecutive NBLs of one queue go up together. */
		while (NET_BUFFER_LIST_NEXT_NBL(last) && rx_nbl_queue(NET_BUFFER_LIST_NEXT_NBL(last)) == q) {
			last = NET_BUFFER_LIST_NEXT_NBL(last);
			n++;
		}
		list = NET_BUFFER_LIST_NEXT_NBL(last);
		NET_BUFFER_LIST_NEXT_NBL(last) = NULL;
		NdisDprAcquireSpinLock(&q->lock);
		if (a->removed) {
			/* Surprise removal: nobody is there to take them. */
			for (nbl = run; nbl;) {
				struct vnet_rxb *b = NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];

				nbl = NET_BUFFER_LIST_NEXT_NBL(nbl);
				STAT_ADD(a->st.rx_drop, 1);
				rxb_release_locked(q, b);
			}
			if (vnet_rxgate_leave_parts(&q->gate, n, n, n) != VNET_OK)
				VNET_LOG(DPFLTR_ERROR_LEVEL, "receive gate out of balance\n");
			NdisDprReleaseSpinLock(&q->lock);
			continue;
		}
		low = rx_low_locked(q);
		NdisDprReleaseSpinLock(&q->lock);
		rx_indicate(q, run, n, low, n);
	}
	vnet_check_pause_done(a);
	InterlockedDecrement(&a->dpc_active);
}

/* Receive DPC work for one queue. Runs at DISPATCH_LEVEL. */
VOID vnet_rxq_receive(struct vnet_rxq *q)
{
	struct vnet_adapter *a = q->a;
	PNET_BUFFER_LIST head = NULL, tail = NULL;
	struct vnet_rx_packet pkt;
	ULONG count = 0;
	BOOLEAN kick = FALSE;

	NdisDprAcquireSpinLock(&q->lock);
	for (;;) {
		struct vnet_rxb *b;
		void *cookie;
		uint32_t len;
		uint16_t n = 0, i;
		int rc;

		if (!a->hw_running || a->removed || !q->vq)
			break;
		rc = vq_get_used(q->vq, &cookie, &len);
		if (rc == VIRTIO_ENOENT) {
			if (vq_enable_cb(q->vq))
				continue;
			break;
		}
		if (rc != VIRTIO_OK || !(b = rxb_from_cookie(q, cookie))) {
			/* A bad used entry or a broken ring: CheckForHang reports it, Reset repairs it. */
			if (!q->broken)
				VNET_LOG(DPFLTR_ERROR_LEVEL, "receive queue %u: bogus used entry\n", q->index);
			q->broken = TRUE;
			break;
		}
		b->posted = FALSE;
		q->posted--;
		q->chain[0].data = b->mem.va;
		q->chain[0].posted_len = b->mem.len;
		q->chain[0].used_len = len;
		q->chain_bufs[0] = b;
		n = 1;
		rc = vnet_rx_num_buffers(&a->rxcfg, &q->chain[0], &n);
		if (rc != VNET_OK)
			n = 1;
		/* Collect the rest of a merged packet; they are already in the used ring. */
		for (i = 1; rc == VNET_OK && i < n; i++) {
			struct vnet_rxb *c;

			if (vq_get_used(q->vq, &cookie, &len) != VIRTIO_OK ||
				!(c = rxb_from_cookie(q, cookie))) {
				q->broken = TRUE;
				rc = VNET_ERR_DEVICE;
				n = i;
				break;
			}
			c->posted = FALSE;
			q->posted--;
			q->chain[i].data = c->mem.va;
			q->chain[i].posted_len = c->mem.len;
			q->chain[i].used_len = len;
			q->chain_bufs[i] = c;
		}
		if (rc == VNET_OK)
			rc = vnet_rx_parse(&a->rxcfg, q->chain, n, &pkt);
		if (rc == VNET_OK && pkt.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			count += rx_gso(q, n, &pkt, &head, &tail);
		} else {
			if (rc == VNET_OK && n > 1)
				rc = vnet_rx_gather(&a->rxcfg, q->chain, n, &pkt, b->mem.va);
			for (i = 1; i < n; i++)
				rxq_post_locked(q, q->chain_bufs[i]);
			if (rc != VNET_OK) {
				STAT_ADD(a->st.rx_err, 1);
				rxq_post_locked(q, b);
				continue;
			}
			if (a->paused || !rx_prepare(a, b, &pkt)) {
				STAT_ADD(a->st.rx_drop, 1);
				rxq_post_locked(q, b);
				continue;
			}
			rx_append(&head, &tail, b);
			count++;
		}
		if (count >= VNET_RX_BATCH) {
			BOOLEAN low = FALSE, pass = rx_batch_pass(q, head, count, &low);

			kick = vq_kick_prepare(q->vq);
			if (kick)
				vq_notify(q->vq);
			NdisDprReleaseSpinLock(&q->lock);
			if (pass)
				rx_steer(q, &head, &count);
			if (pass && head)
				rx_indicate(q, head, count, low, 1);
			head = tail = NULL;
			count = 0;
			NdisDprAcquireSpinLock(&q->lock);
		}
	}
	{
		BOOLEAN low = FALSE, pass = rx_batch_pass(q, head, count, &low);

		kick = q->vq && a->hw_running && !a->removed && vq_kick_prepare(q->vq);
		if (kick)
			vq_notify(q->vq);
		NdisDprReleaseSpinLock(&q->lock);
		if (pass)
			rx_steer(q, &head, &count);
		if (pass && head)
			rx_indicate(q, head, count, low, 1);
	}
	vnet_check_pause_done(a);
}

VOID NTAPI vnet_return_nbls(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
	struct vnet_adapter *a = ctx;
	PNET_BUFFER_LIST nbl = nbls;

	(void)flags;
	while (nbl) {
		PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
		struct vnet_rxb *b = NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
		struct vnet_rxq *q = b->q;
		BOOLEAN kick = FALSE;

		NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
		NdisAcquireSpinLock(&q->lock);
		if (!b->indicated || vnet_rxgate_returned(&q->gate, 1) != VNET_OK)
			VNET_LOG(DPFLTR_ERROR_LEVEL, "returned NBL %p was not indicated\n", nbl);
		rxb_release_locked(q, b);
		if (a->hw_running && !a->removed && q->vq)
			kick = vq_kick_prepare(q->vq);
		if (kick)
			vq_notify(q->vq);
		NdisReleaseSpinLock(&q->lock);
		nbl = next;
	}
	vnet_check_pause_done(a);
}

VOID vnet_rxq_gate(struct vnet_rxq *q, BOOLEAN open)
{
	NdisAcquireSpinLock(&q->lock);
	if (open)
		vnet_rxgate_open(&q->gate);
	else
		vnet_rxgate_close(&q->gate);
	NdisReleaseSpinLock(&q->lock);
}

BOOLEAN vnet_rxq_idle(struct vnet_rxq *q)
{
	BOOLEAN idle;

	NdisAcquireSpinLock(&q->lock);
	idle = vnet_rxgate_idle(&q->gate);
	NdisReleaseSpinLock(&q->lock);
	return idle;
}
