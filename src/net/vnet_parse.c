/*
 * vnet_parse: header parsing for the portable network logic. Every read is preceded by a length
 * check, because the bytes come from the network stack (tx) or from the device (rx).
 */
#include "vnet_parse.h"

const char *vnet_strerror(int status)
{
	switch (status) {
	case VNET_OK: return "ok";
	case VNET_ERR_SHORT: return "truncated frame or header";
	case VNET_ERR_MALFORMED: return "malformed header";
	case VNET_ERR_UNSUPPORTED: return "not supported";
	case VNET_ERR_TOO_LONG: return "frame too long";
	case VNET_ERR_DEVICE: return "invalid value from device";
	case VNET_ERR_INVAL: return "invalid argument";
	default: return "unknown error";
	}
}

uint16_t vnet_csum_fold(const uint8_t *data, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += vnet_get_be16(data + i);
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFFu) + (sum >> 16);
	return (uint16_t)sum;
}

/* `cap` bytes of the frame are readable; `wire` is the frame's real length (>= cap). */
static int parse_ipv4(const uint8_t *frame, size_t cap, size_t wire, struct vnet_frame_info *info)
{
	const uint8_t *ip = frame + info->l3_offset;
	size_t avail = cap - info->l3_offset, wire_avail = wire - info->l3_offset;
	size_t ihl, total;
	uint16_t frag;

	if (avail < 20)
		return VNET_ERR_SHORT;
	if ((ip[0] >> 4) != 4)
		return VNET_ERR_MALFORMED;
	ihl = (size_t)(ip[0] & 0x0F) * 4;
	total = vnet_get_be16(ip + 2);
	if (ihl < 20 || total < ihl)
		return VNET_ERR_MALFORMED;
	if (ihl > avail || total > wire_avail)
		return VNET_ERR_SHORT;
	frag = vnet_get_be16(ip + 6);
	info->ip_version = 4;
	info->l3_len = (uint16_t)ihl;
	info->ip_end = (uint32_t)(info->l3_offset + total);
	info->l4_proto = ip[9];
	/* MF set or a non-zero offset: part of a fragmented datagram. */
	info->fragment = (frag & 0x3FFFu) != 0;
	return VNET_OK;
}

static bool ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

static int parse_ipv6(const uint8_t *frame, size_t cap, size_t wire, struct vnet_frame_info *info)
{
	const uint8_t *ip = frame + info->l3_offset;
	size_t avail = cap - info->l3_offset, wire_avail = wire - info->l3_offset;
	size_t off = 40, payload, end;
	uint8_t nh;
	unsigned n;

	if (avail < 40)
		return VNET_ERR_SHORT;
	if ((ip[0] >> 4) != 6)
		return VNET_ERR_MALFORMED;
	payload = vnet_get_be16(ip + 4);
	/* A zero payload length means a jumbogram, which Ethernet cannot carry. */
	if (payload == 0)
		return VNET_ERR_MALFORMED;
	end = 40 + payload;
	if (end > wire_avail)
		return VNET_ERR_SHORT;
	nh = ip[6];
	info->ip_version = 6;
	for (n = 0; ipv6_is_ext(nh); n++) {
		size_t ext_len;

		if (n == VNET_MAX_IPV6_EXT_HDRS)
			return VNET_ERR_UNSUPPORTED;
		if (off + 8 > end || off + 8 > avail)
			return VNET_ERR_SHORT;
		if (nh == 44) {
			uint16_t frag = vnet_get_be16(ip + off + 2);
			ext_len = 8;
			if (frag & 0xFFF9u) /* offset or M flag */
				info->fragment = true;
		} else if (nh == 51) {
			ext_len = ((size_t)ip[off + 1] + 2) * 4;
		} else {
			ext_len = ((size_t)ip[off + 1] + 1) * 8;
		}
		if (off + ext_len > end || off + ext_len > avail)
			return VNET_ERR_SHORT;
		nh = ip[off];
		off += ext_len;
	}
	info->l3_len = (uint16_t)off;
	info->ip_end = (uint32_t)(info->l3_offset + end);
	info->l4_proto = nh;
	return VNET_OK;
}

int vnet_parse_frame(const uint8_t *frame, size_t len, struct vnet_frame_info *info)
{
	return vnet_parse_frame_head(frame, len, len, info);
}

int vnet_parse_frame_head(const uint8_t *frame, size_t cap, size_t len,
						  struct vnet_frame_info *info)
{
	size_t off = VNET_ETH_HLEN;
	uint16_t type;
	int rc;

	if (!frame || !info)
		return VNET_ERR_INVAL;
	__builtin_memset(info, 0, sizeof(*info));
	if (cap > len)
		return VNET_ERR_INVAL;
	if (cap < VNET_ETH_HLEN)
		return VNET_ERR_SHORT;
	/* Larger frames cannot come from the stack, and offsets must fit virtio's 16-bit fields. */
	if (len > VNET_MAX_FRAME_LEN)
		return VNET_ERR_TOO_LONG;
	type = vnet_get_be16(frame + 12);
	while (type == VNET_ETHERTYPE_VLAN || type == VNET_ETHERTYPE_QINQ) {
		if (info->vlan_tags == VNET_MAX_VLAN_TAGS)
			return VNET_ERR_UNSUPPORTED;
		if (cap < off + VNET_VLAN_HLEN)
			return VNET_ERR_SHORT;
		type = vnet_get_be16(frame + off + 2);
		off += VNET_VLAN_HLEN;
		info->vlan_tags++;
	}
	info->ethertype = type;
	info->l3_offset = (uint16_t)off;

	if (type == VNET_ETHERTYPE_IPV4)
		rc = parse_ipv4(frame, cap, len, info);
	else if (type == VNET_ETHERTYPE_IPV6)
		rc = parse_ipv6(frame, cap, len, info);
	else
		return VNET_OK;
	if (rc != VNET_OK)
		return rc;

	if (info->fragment)
		return VNET_OK;
	off = (size_t)info->l3_offset + info->l3_len;
	if (info->l4_proto == VNET_IPPROTO_TCP) {
		size_t doff;

		if (off + 20 > info->ip_end || off + 20 > cap)
			return VNET_ERR_SHORT;
		doff = (size_t)(frame[off + 12] >> 4) * 4;
		if (doff < 20)
			return VNET_ERR_MALFORMED;
		if (off + doff > info->ip_end || off + doff > cap)
			return VNET_ERR_SHORT;
		info->l4_len = (uint16_t)doff;
	} else if (info->l4_proto == VNET_IPPROTO_UDP) {
		if (off + 8 > info->ip_end || off + 8 > cap)
			return VNET_ERR_SHORT;
		info->l4_len = 8;
	} else {
		return VNET_OK;
	}
	info->l4_offset = (uint16_t)off;
	info->has_l4 = true;
	return VNET_OK;
}
