/*
 * vnet_tx: transmit header building. The device trusts csum_start/csum_offset/hdr_len to
 * locate fields inside the frame, so every value written here is derived from a fully
 * bounds-checked parse of that same frame.
 */
#include "vnet_tx.h"

static bool has_feature(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1u;
}

int vnet_tx_build_hdr(const uint8_t *frame, size_t frame_len, const struct vnet_tx_request *req,
					  uint64_t features, struct virtio_net_hdr *hdr)
{
	return vnet_tx_build_hdr_head(frame, frame_len, frame_len, req, features, hdr);
}

int vnet_tx_build_hdr_head(const uint8_t *frame, size_t head_len, size_t frame_len,
						   const struct vnet_tx_request *req, uint64_t features,
						   struct virtio_net_hdr *hdr)
{
	struct vnet_frame_info info;
	uint32_t hdr_len;
	int rc;

	if (!hdr)
		return VNET_ERR_INVAL;
	__builtin_memset(hdr, 0, sizeof(*hdr));
	if (!frame || !req)
		return VNET_ERR_INVAL;
	if (frame_len < VNET_ETH_HLEN || head_len > frame_len)
		return VNET_ERR_SHORT;
	if (req->csum_tcp && req->csum_udp)
		return VNET_ERR_INVAL;

	if (req->lso_mss == 0 && req->max_frame_len && frame_len > req->max_frame_len)
		return VNET_ERR_TOO_LONG;
	if (!req->csum_tcp && !req->csum_udp && req->lso_mss == 0)
		return VNET_OK;

	rc = vnet_parse_frame_head(frame, head_len, frame_len, &info);
	if (rc != VNET_OK)
		return rc;
	if (info.ip_version == 0 || info.fragment || !info.has_l4)
		return VNET_ERR_UNSUPPORTED;
	/* Checksum offload of any kind needs the device to take partial checksums. */
	if (!has_feature(features, VIRTIO_NET_F_CSUM))
		return VNET_ERR_UNSUPPORTED;

	if (req->lso_mss) {
		unsigned tso = info.ip_version == 4 ? VIRTIO_NET_F_HOST_TSO4 : VIRTIO_NET_F_HOST_TSO6;

		if (req->csum_udp || info.l4_proto != VNET_IPPROTO_TCP)
			return VNET_ERR_UNSUPPORTED;
		if (!has_feature(features, tso))
			return VNET_ERR_UNSUPPORTED;
		hdr_len = (uint32_t)info.l4_offset + info.l4_len;
		/* Trailing bytes past the IP datagram would be segmented as payload. */
		if (info.ip_end != frame_len)
			return VNET_ERR_MALFORMED;
		if (frame_len <= hdr_len)
			return VNET_ERR_MALFORMED;
		if (frame_len - hdr_len > VNET_TX_LSO_MAX_PAYLOAD)
			return VNET_ERR_TOO_LONG;
		if (req->lso_mss > 0xFFFFu)
			return VNET_ERR_INVAL;
		hdr->gso_type = info.ip_version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		/* CWR set: the device must know, or it would repeat CWR in every segment (5.1.6.2). */
		if (frame[info.l4_offset + 13] & VNET_TCP_FLAG_CWR) {
			if (!has_feature(features, VIRTIO_NET_F_HOST_ECN)) {
				hdr->gso_type = 0;
				return VNET_ERR_UNSUPPORTED;
			}
			hdr->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		}
		hdr->gso_size = cpu_to_le16((uint16_t)req->lso_mss);
		hdr->hdr_len = cpu_to_le16((uint16_t)hdr_len);
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = cpu_to_le16(info.l4_offset);
		hdr->csum_offset = cpu_to_le16(VNET_TCP_CSUM_OFFSET);
		return VNET_OK;
	}

	if (req->csum_tcp && info.l4_proto != VNET_IPPROTO_TCP)
		return VNET_ERR_UNSUPPORTED;
	if (req->csum_udp && info.l4_proto != VNET_IPPROTO_UDP)
		return VNET_ERR_UNSUPPORTED;
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	hdr->csum_start = cpu_to_le16(info.l4_offset);
	hdr->csum_offset =
		cpu_to_le16(req->csum_tcp ? VNET_TCP_CSUM_OFFSET : VNET_UDP_CSUM_OFFSET);
	/* A hint the device may use to size its copy of the headers (5.1.6.2). */
	hdr->hdr_len = cpu_to_le16((uint16_t)(info.l4_offset + info.l4_len));
	return VNET_OK;
}

void vnet_tx_vlan_head(const uint8_t *frame, uint16_t tci, uint8_t out[VNET_TX_VLAN_HEAD_LEN])
{
	__builtin_memcpy(out, frame, 12);
	out[12] = (uint8_t)(VNET_ETHERTYPE_VLAN >> 8);
	out[13] = (uint8_t)VNET_ETHERTYPE_VLAN;
	out[14] = (uint8_t)(tci >> 8);
	out[15] = (uint8_t)tci;
}

/* Offset of the IP header behind up to two VLAN tags, and its ethertype. */
static size_t l3_start(const uint8_t *frame, size_t head_len, uint16_t *type)
{
	size_t off = 12;
	unsigned tags = 0;

	*type = vnet_get_be16(frame + off);
	while ((*type == VNET_ETHERTYPE_VLAN || *type == VNET_ETHERTYPE_QINQ) &&
		   tags < VNET_MAX_VLAN_TAGS && off + VNET_VLAN_HLEN + 2 <= head_len) {
		off += VNET_VLAN_HLEN;
		tags++;
		*type = vnet_get_be16(frame + off);
	}
	return off + 2;
}

int vnet_tx_lso_fix_lengths(uint8_t *head, size_t head_len, size_t frame_len)
{
	uint16_t type;
	size_t off;
	uint8_t *ip;

	if (!head || head_len < VNET_ETH_HLEN || head_len > frame_len)
		return VNET_ERR_INVAL;
	off = l3_start(head, head_len, &type);
	ip = head + off;
	if (type == VNET_ETHERTYPE_IPV4) {
		if (off + 20 > head_len)
			return VNET_ERR_SHORT;
		if (vnet_get_be16(ip + 2) != 0)
			return VNET_OK;
		if (frame_len - off > 0xFFFFu)
			return VNET_ERR_TOO_LONG;
		ip[2] = (uint8_t)((frame_len - off) >> 8);
		ip[3] = (uint8_t)(frame_len - off);
		return vnet_tx_ipv4_csum(head, head_len);
	}
	if (type == VNET_ETHERTYPE_IPV6) {
		if (off + 40 > head_len)
			return VNET_ERR_SHORT;
		if (vnet_get_be16(ip + 4) != 0)
			return VNET_OK;
		if (frame_len - off - 40 > 0xFFFFu)
			return VNET_ERR_TOO_LONG;
		ip[4] = (uint8_t)((frame_len - off - 40) >> 8);
		ip[5] = (uint8_t)(frame_len - off - 40);
		return VNET_OK;
	}
	return VNET_ERR_UNSUPPORTED;
}

int vnet_tx_ipv4_csum(uint8_t *frame, size_t head_len)
{
	size_t off, ihl;
	uint16_t type, sum;
	uint8_t *ip;

	if (!frame || head_len < VNET_ETH_HLEN)
		return VNET_ERR_INVAL;
	off = l3_start(frame, head_len, &type);
	if (type != VNET_ETHERTYPE_IPV4 || off + 20 > head_len)
		return VNET_ERR_UNSUPPORTED;
	ip = frame + off;
	ihl = (size_t)(ip[0] & 0x0Fu) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || off + ihl > head_len)
		return VNET_ERR_MALFORMED;
	ip[10] = ip[11] = 0;
	sum = (uint16_t)~vnet_csum_fold(ip, ihl);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	return VNET_OK;
}

int vnet_tx_pseudo_csum(uint8_t *head, size_t head_len, size_t frame_len)
{
	struct vnet_frame_info info;
	uint8_t ph[40];
	size_t ph_len, l4_len, at;
	uint16_t sum;
	const uint8_t *ip;
	int rc;

	if (!head || head_len > frame_len)
		return VNET_ERR_INVAL;
	rc = vnet_parse_frame_head(head, head_len, frame_len, &info);
	if (rc != VNET_OK)
		return rc;
	if (info.ip_version == 0 || info.fragment || !info.has_l4)
		return VNET_ERR_UNSUPPORTED;
	at = (size_t)info.l4_offset +
		 (info.l4_proto == VNET_IPPROTO_TCP ? VNET_TCP_CSUM_OFFSET : VNET_UDP_CSUM_OFFSET);
	if (at + 2 > head_len)
		return VNET_ERR_SHORT;
	/* The datagram ends at ip_end: trailing Ethernet padding is not part of the L4 length. */
	l4_len = info.ip_end - info.l4_offset;
	ip = head + info.l3_offset;
	if (info.ip_version == 4) {
		__builtin_memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = info.l4_proto;
		ph[10] = (uint8_t)(l4_len >> 8);
		ph[11] = (uint8_t)l4_len;
		ph_len = 12;
	} else {
		__builtin_memcpy(ph, ip + 8, 32);
		ph[32] = (uint8_t)(l4_len >> 24);
		ph[33] = (uint8_t)(l4_len >> 16);
		ph[34] = (uint8_t)(l4_len >> 8);
		ph[35] = (uint8_t)l4_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = info.l4_proto;
		ph_len = 40;
	}
	sum = vnet_csum_fold(ph, ph_len);
	head[at] = (uint8_t)(sum >> 8);
	head[at + 1] = (uint8_t)sum;
	return VNET_OK;
}
