/*
 * vnet_rx: receive-side validation. The device is not trusted: lengths, counts, flags, GSO
 * fields and checksum offsets are all checked before the frame is described to the caller.
 */
#include "vnet_rx.h"

static int check_config(const struct vnet_rx_config *cfg)
{
	if (cfg->hdr_len != sizeof(struct virtio_net_hdr) &&
		cfg->hdr_len != sizeof(struct virtio_net_hdr_mrg_rxbuf) &&
		cfg->hdr_len != sizeof(struct virtio_net_hdr_v1_hash))
		return VNET_ERR_INVAL;
	/* num_buffers lives in the 12-byte header. */
	if (cfg->mergeable && cfg->hdr_len < sizeof(struct virtio_net_hdr_mrg_rxbuf))
		return VNET_ERR_INVAL;
	if (cfg->max_buffers == 0 || cfg->max_frame_len < VNET_ETH_HLEN)
		return VNET_ERR_INVAL;
	return VNET_OK;
}

static int check_buf(const struct vnet_rx_buf *b)
{
	if (!b->data || b->posted_len == 0)
		return VNET_ERR_INVAL;
	if (b->used_len > b->posted_len)
		return VNET_ERR_DEVICE;
	return VNET_OK;
}

int vnet_rx_num_buffers(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *first,
						uint16_t *num_buffers)
{
	const struct virtio_net_hdr_mrg_rxbuf *h;
	uint16_t n;
	int rc;

	if (!cfg || !first || !num_buffers)
		return VNET_ERR_INVAL;
	*num_buffers = 0;
	rc = check_config(cfg);
	if (rc == VNET_OK)
		rc = check_buf(first);
	if (rc != VNET_OK)
		return rc;
	if (first->used_len < cfg->hdr_len)
		return VNET_ERR_DEVICE;
	if (!cfg->mergeable) {
		*num_buffers = 1;
		return VNET_OK;
	}
	h = (const struct virtio_net_hdr_mrg_rxbuf *)first->data;
	n = le16_to_cpu(h->num_buffers);
	if (n == 0 || n > cfg->max_buffers)
		return VNET_ERR_DEVICE;
	*num_buffers = n;
	return VNET_OK;
}

static int check_header(const struct vnet_rx_config *cfg, const struct virtio_net_hdr *h,
						struct vnet_rx_packet *pkt)
{
	uint8_t known = 0, gso;

	if (cfg->guest_csum)
		known = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (h->flags & ~known)
		return VNET_ERR_DEVICE;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (h->flags & VIRTIO_NET_HDR_F_DATA_VALID))
		return VNET_ERR_DEVICE;

	gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !cfg->guest_ecn)
		return VNET_ERR_DEVICE;
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			return VNET_ERR_DEVICE;
	} else if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && cfg->guest_tso4) ||
			   (gso == VIRTIO_NET_HDR_GSO_TCPV6 && cfg->guest_tso6)) {
		/* A coalesced packet leaves its TCP checksum to the driver. */
		if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || le16_to_cpu(h->gso_size) == 0)
			return VNET_ERR_DEVICE;
	} else {
		return VNET_ERR_DEVICE;
	}
	pkt->gso_type = gso;
	pkt->gso_size = gso == VIRTIO_NET_HDR_GSO_NONE ? 0 : le16_to_cpu(h->gso_size);
	return VNET_OK;
}

int vnet_rx_parse(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
				  uint16_t nbufs, struct vnet_rx_packet *pkt)
{
	struct virtio_net_hdr h;
	uint8_t head[VNET_RX_PARSE_BYTES];
	uint64_t total = 0;
	uint32_t head_len = 0, limit;
	uint16_t expected, i;
	int rc;

	if (!pkt)
		return VNET_ERR_INVAL;
	__builtin_memset(pkt, 0, sizeof(*pkt));
	if (!cfg || !bufs || nbufs == 0)
		return VNET_ERR_INVAL;
	rc = vnet_rx_num_buffers(cfg, &bufs[0], &expected);
	if (rc != VNET_OK)
		return rc;
	if (nbufs != expected)
		return VNET_ERR_INVAL;

	for (i = 0; i < nbufs; i++) {
		const struct vnet_rx_buf *b = &bufs[i];
		uint32_t skip = i == 0 ? cfg->hdr_len : 0, n;

		rc = check_buf(b);
		if (rc != VNET_OK)
			return rc;
		/* Only the first buffer may be header-only; an empty continuation is bogus. */
		if (i > 0 && b->used_len == 0)
			return VNET_ERR_DEVICE;
		total += b->used_len - skip;
		n = b->used_len - skip;
		if (head_len < sizeof(head)) {
			if (n > sizeof(head) - head_len)
				n = (uint32_t)sizeof(head) - head_len;
			__builtin_memcpy(head + head_len, b->data + skip, n);
			head_len += n;
		}
	}

	__builtin_memcpy(&h, bufs[0].data, sizeof(h));
	rc = check_header(cfg, &h, pkt);
	if (rc != VNET_OK)
		return rc;

	if (total < VNET_ETH_HLEN)
		return VNET_ERR_SHORT;
	limit = cfg->max_frame_len;
	if (pkt->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		limit = VNET_MAX_FRAME_LEN;
	if (total > limit)
		return VNET_ERR_TOO_LONG;
	pkt->frame_len = (uint32_t)total;
	pkt->num_buffers = nbufs;

	/* Parse errors only cost the checksum flags: the stack judges malformed frames itself. */
	pkt->parse_status = vnet_parse_frame_head(head, head_len, pkt->frame_len, &pkt->info);

	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = le16_to_cpu(h.csum_start), off = le16_to_cpu(h.csum_offset);

		/* The driver will write 2 bytes at start + off: they must lie inside the frame. */
		if (start + off + 2 > pkt->frame_len || off + 2 > pkt->frame_len)
			return VNET_ERR_DEVICE;
		pkt->csum_flags |= VNET_RX_CSUM_PARTIAL;
		pkt->csum_start = (uint16_t)start;
		pkt->csum_offset = (uint16_t)off;
	}
	if (pkt->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		bool v4 = pkt->gso_type == VIRTIO_NET_HDR_GSO_TCPV4;

		if (pkt->parse_status != VNET_OK || !pkt->info.has_l4 ||
			pkt->info.l4_proto != VNET_IPPROTO_TCP || pkt->info.ip_version != (v4 ? 4 : 6))
			return VNET_ERR_DEVICE;
	}
	if (pkt->parse_status != VNET_OK)
		return VNET_OK;

	if (pkt->info.ip_version == 4) {
		const uint8_t *ip = head + pkt->info.l3_offset;

		pkt->csum_flags |= vnet_csum_fold(ip, pkt->info.l3_len) == 0xFFFFu ? VNET_RX_CSUM_IP_OK
																			: VNET_RX_CSUM_IP_BAD;
	}
	if ((h.flags & VIRTIO_NET_HDR_F_DATA_VALID) && pkt->info.has_l4) {
		if (pkt->info.l4_proto == VNET_IPPROTO_TCP)
			pkt->csum_flags |= VNET_RX_CSUM_TCP_OK;
		else if (pkt->info.l4_proto == VNET_IPPROTO_UDP)
			pkt->csum_flags |= VNET_RX_CSUM_UDP_OK;
	}
	return VNET_OK;
}

int vnet_rx_gather(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
				   uint16_t nbufs, const struct vnet_rx_packet *pkt, uint8_t *first_data)
{
	uint32_t off, i;

	if (!cfg || !bufs || !pkt || !first_data || nbufs == 0 || nbufs != pkt->num_buffers)
		return VNET_ERR_INVAL;
	if (bufs[0].used_len < cfg->hdr_len || bufs[0].posted_len < cfg->hdr_len)
		return VNET_ERR_DEVICE;
	/* The first buffer's own capacity bounds the copy, not the device's lengths. */
	if (pkt->frame_len > bufs[0].posted_len - cfg->hdr_len)
		return VNET_ERR_TOO_LONG;
	off = cfg->hdr_len + (bufs[0].used_len - cfg->hdr_len);
	for (i = 1; i < nbufs; i++) {
		uint32_t n = bufs[i].used_len;

		if (n > bufs[i].posted_len || n > bufs[0].posted_len - off)
			return VNET_ERR_DEVICE;
		__builtin_memcpy(first_data + off, bufs[i].data, n);
		off += n;
	}
	if (off - cfg->hdr_len != pkt->frame_len)
		return VNET_ERR_DEVICE;
	return VNET_OK;
}

int vnet_rx_complete_csum(uint8_t *frame, uint32_t len, uint16_t start, uint16_t offset)
{
	uint32_t sum, at = (uint32_t)start + offset;
	uint16_t v;

	if (!frame || start >= len || at + 2 > len)
		return VNET_ERR_DEVICE;
	sum = vnet_csum_fold(frame + start, len - start);
	v = (uint16_t)~sum;
	/* A zero UDP checksum means "none" (RFC 768 sends all ones instead); for TCP both
	 * encodings of zero verify the same. */
	if (v == 0)
		v = 0xFFFFu;
	frame[at] = (uint8_t)(v >> 8);
	frame[at + 1] = (uint8_t)v;
	return VNET_OK;
}

bool vnet_vlan_strip(uint8_t *frame, uint32_t len, uint16_t *tci)
{
	uint32_t i;

	if (!frame || len < VNET_ETH_HLEN + VNET_VLAN_HLEN)
		return false;
	if (vnet_get_be16(frame + 12) != VNET_ETHERTYPE_VLAN)
		return false;
	if (tci)
		*tci = vnet_get_be16(frame + 14);
	for (i = 12; i-- > 0;)
		frame[i + VNET_VLAN_HLEN] = frame[i];
	return true;
}
