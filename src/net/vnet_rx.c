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
		/* The device must vouch for the coalesced data: a partial checksum left to the driver
		 * (NEEDS_CSUM, what 5.1.6.4.1 asks for) or a validated one (DATA_VALID, what hosts
		 * forwarding GRO packets send). Without either NDIS could not be told it is good. */
		if (!(h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) ||
			le16_to_cpu(h->gso_size) == 0)
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
		uint32_t hdrs;

		if (pkt->parse_status != VNET_OK || !pkt->info.has_l4 || pkt->info.fragment ||
			pkt->info.l4_proto != VNET_IPPROTO_TCP || pkt->info.ip_version != (v4 ? 4 : 6))
			return VNET_ERR_DEVICE;
		hdrs = (uint32_t)pkt->info.l4_offset + pkt->info.l4_len;
		/* The IP length must describe the whole coalesced frame (nothing behind it, no
		 * padding on a frame this large), and there must be payload to stand for segments. */
		if (pkt->info.ip_end != pkt->frame_len || hdrs >= pkt->frame_len)
			return VNET_ERR_DEVICE;
		/* hdr_len is only a hint (5.1.6.4), but one pointing outside the frame is a lie. */
		if (le16_to_cpu(h.hdr_len) > pkt->frame_len)
			return VNET_ERR_DEVICE;
		/* A partial checksum can only be the TCP one. */
		if ((pkt->csum_flags & VNET_RX_CSUM_PARTIAL) &&
			(pkt->csum_start != pkt->info.l4_offset || pkt->csum_offset != VNET_TCP_CSUM_OFFSET))
			return VNET_ERR_DEVICE;
		/* Each segment must have fitted the link: software segmentation relies on it. */
		if (hdrs + pkt->gso_size > cfg->max_frame_len)
			return VNET_ERR_DEVICE;
		pkt->gso_payload = pkt->frame_len - hdrs;
		pkt->gso_segs = (uint16_t)((pkt->gso_payload + pkt->gso_size - 1u) / pkt->gso_size);
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
		if (pkt->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			pkt->csum_flags |= VNET_RX_CSUM_TCP_VALUE_STALE;
	}
	/* A coalesced frame is reported with IpChecksumSucceeded, so its header must be right. */
	if (pkt->gso_type != VIRTIO_NET_HDR_GSO_NONE && (pkt->csum_flags & VNET_RX_CSUM_IP_BAD))
		return VNET_ERR_MALFORMED;
	return VNET_OK;
}

int vnet_rx_copy_chain(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
					   uint16_t nbufs, const struct vnet_rx_packet *pkt, uint8_t *dst,
					   uint32_t dst_cap)
{
	uint32_t off = 0, i;

	if (!cfg || !bufs || !pkt || !dst || nbufs == 0 || nbufs != pkt->num_buffers)
		return VNET_ERR_INVAL;
	if (dst_cap < cfg->hdr_len || pkt->frame_len > dst_cap - cfg->hdr_len)
		return VNET_ERR_TOO_LONG;
	for (i = 0; i < nbufs; i++) {
		uint32_t n = bufs[i].used_len;

		if (n > bufs[i].posted_len || n > dst_cap - off)
			return VNET_ERR_DEVICE;
		__builtin_memcpy(dst + off, bufs[i].data, n);
		off += n;
	}
	if (off < cfg->hdr_len || off - cfg->hdr_len != pkt->frame_len)
		return VNET_ERR_DEVICE;
	return VNET_OK;
}

static uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	while (s >> 16)
		s = (s & 0xFFFFu) + (s >> 16);
	return s;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t vnet_rx_gso_segment(const uint8_t *frame, uint32_t len, const struct vnet_rx_packet *pkt,
							 uint16_t index, uint8_t *out, uint32_t cap)
{
	const struct vnet_frame_info *fi;
	uint8_t pseudo[40], *ip, *tcp;
	uint32_t hdrs, start, seg, tcp_len, seq, sum;

	if (!frame || !pkt || !out || pkt->gso_type == VIRTIO_NET_HDR_GSO_NONE ||
		pkt->gso_size == 0 || index >= pkt->gso_segs || len != pkt->frame_len)
		return 0;
	fi = &pkt->info;
	hdrs = (uint32_t)fi->l4_offset + fi->l4_len;
	if (!fi->has_l4 || hdrs >= len || (uint32_t)fi->l3_offset + fi->l3_len != fi->l4_offset ||
		pkt->gso_payload != len - hdrs)
		return 0;
	start = (uint32_t)index * pkt->gso_size;
	if (start >= pkt->gso_payload)
		return 0;
	seg = pkt->gso_payload - start;
	if (seg > pkt->gso_size)
		seg = pkt->gso_size;
	if (cap < hdrs + seg)
		return 0;
	__builtin_memcpy(out, frame, hdrs);
	__builtin_memcpy(out + hdrs, frame + hdrs + start, seg);

	ip = out + fi->l3_offset;
	tcp = out + fi->l4_offset;
	tcp_len = fi->l4_len + seg;
	if (fi->ip_version == 4) {
		put_be16(ip + 2, fi->l3_len + tcp_len);
		put_be16(ip + 4, vnet_get_be16(ip + 4) + index);
		ip[10] = ip[11] = 0;
		put_be16(ip + 10, (uint16_t)~vnet_csum_fold(ip, fi->l3_len));
		__builtin_memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = VNET_IPPROTO_TCP;
		put_be16(pseudo + 10, tcp_len);
		sum = vnet_csum_fold(pseudo, 12);
	} else {
		/* The payload length counts extension headers too. */
		put_be16(ip + 4, fi->l3_len - 40u + tcp_len);
		__builtin_memcpy(pseudo, ip + 8, 32);
		pseudo[32] = pseudo[33] = 0;
		put_be16(pseudo + 34, tcp_len);
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = VNET_IPPROTO_TCP;
		sum = vnet_csum_fold(pseudo, 40);
	}
	seq = ((uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7]) +
		  start;
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	/* Congestion-window-reduced belongs to the first segment, FIN and PSH to the last. */
	if (index != 0)
		tcp[13] &= (uint8_t)~VNET_TCP_FLAG_CWR;
	if ((uint32_t)index + 1u != pkt->gso_segs)
		tcp[13] &= (uint8_t)~0x09u;
	tcp[16] = tcp[17] = 0;
	sum = csum_add(sum, vnet_csum_fold(tcp, tcp_len));
	put_be16(tcp + 16, (uint16_t)~sum);
	return hdrs + seg;
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
