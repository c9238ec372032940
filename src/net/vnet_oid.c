/*
 * vnet_oid: OID table and buffer rules. Sizes of scalar answers live here; structure sizes
 * (NDIS ABI) are validated by the glue with vnet_oid_check_header().
 */
#include "vnet_oid.h"

#include <virtio/virtio_net.h>

#define Q VNET_OID_QUERY
#define S VNET_OID_SET
#define C (VNET_OID_QUERY | VNET_OID_COUNTER)

const struct vnet_oid_info vnet_oid_table[] = {
	{ VNET_OID_GEN_SUPPORTED_LIST, Q, 0, 0 },
	{ VNET_OID_GEN_HARDWARE_STATUS, Q, 4, 0 },
	{ VNET_OID_GEN_MEDIA_SUPPORTED, Q, 4, 0 },
	{ VNET_OID_GEN_MEDIA_IN_USE, Q, 4, 0 },
	{ VNET_OID_GEN_MAXIMUM_LOOKAHEAD, Q, 4, 0 },
	{ VNET_OID_GEN_MAXIMUM_FRAME_SIZE, Q, 4, 0 },
	{ VNET_OID_GEN_LINK_SPEED, Q, 4, 0 },
	{ VNET_OID_GEN_TRANSMIT_BUFFER_SPACE, Q, 4, 0 },
	{ VNET_OID_GEN_RECEIVE_BUFFER_SPACE, Q, 4, 0 },
	{ VNET_OID_GEN_TRANSMIT_BLOCK_SIZE, Q, 4, 0 },
	{ VNET_OID_GEN_RECEIVE_BLOCK_SIZE, Q, 4, 0 },
	{ VNET_OID_GEN_VENDOR_ID, Q, 4, 0 },
	{ VNET_OID_GEN_VENDOR_DESCRIPTION, Q, 0, 0 },
	{ VNET_OID_GEN_CURRENT_PACKET_FILTER, Q | S, 4, 4 },
	{ VNET_OID_GEN_CURRENT_LOOKAHEAD, Q | S, 4, 4 },
	{ VNET_OID_GEN_DRIVER_VERSION, Q, 2, 0 },
	{ VNET_OID_GEN_MAXIMUM_TOTAL_SIZE, Q, 4, 0 },
	{ VNET_OID_GEN_MAC_OPTIONS, Q, 4, 0 },
	{ VNET_OID_GEN_MEDIA_CONNECT_STATUS, Q, 4, 0 },
	{ VNET_OID_GEN_MAXIMUM_SEND_PACKETS, Q, 4, 0 },
	{ VNET_OID_GEN_VENDOR_DRIVER_VERSION, Q, 4, 0 },
	{ VNET_OID_GEN_PHYSICAL_MEDIUM, Q, 4, 0 },
	{ VNET_OID_GEN_RECEIVE_SCALE_CAPABILITIES, Q, 0, 0 },
	{ VNET_OID_GEN_RECEIVE_SCALE_PARAMETERS, S, 0, 0 },
	{ VNET_OID_GEN_INTERRUPT_MODERATION, Q | S, 0, 0 },
	{ VNET_OID_GEN_VLAN_ID, Q | S, 4, 4 },
	{ VNET_OID_GEN_XMIT_OK, C, 4, 0 },
	{ VNET_OID_GEN_RCV_OK, C, 4, 0 },
	{ VNET_OID_GEN_XMIT_ERROR, C, 4, 0 },
	{ VNET_OID_GEN_RCV_ERROR, C, 4, 0 },
	{ VNET_OID_GEN_RCV_NO_BUFFER, C, 4, 0 },
	{ VNET_OID_GEN_STATISTICS, Q, 0, 0 },
	{ VNET_OID_TCP_RSC_STATISTICS, Q, 0, 0 },
	{ VNET_OID_802_3_PERMANENT_ADDRESS, Q, 6, 0 },
	{ VNET_OID_802_3_CURRENT_ADDRESS, Q, 6, 0 },
	{ VNET_OID_802_3_MULTICAST_LIST, Q | S, 0, 0 },
	{ VNET_OID_802_3_MAXIMUM_LIST_SIZE, Q, 4, 0 },
	{ VNET_OID_802_3_RCV_ERROR_ALIGNMENT, C, 4, 0 },
	{ VNET_OID_802_3_XMIT_ONE_COLLISION, C, 4, 0 },
	{ VNET_OID_802_3_XMIT_MORE_COLLISIONS, C, 4, 0 },
	{ VNET_OID_OFFLOAD_ENCAPSULATION, Q | S, 0, 0 },
	{ VNET_OID_TCP_OFFLOAD_CURRENT_CONFIG, Q, 0, 0 },
	{ VNET_OID_TCP_OFFLOAD_PARAMETERS, S, 0, 0 },
	{ VNET_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, Q, 0, 0 },
	{ VNET_OID_PNP_CAPABILITIES, Q, 0, 0 },
	{ VNET_OID_PNP_SET_POWER, S, 0, 4 },
	{ VNET_OID_PNP_QUERY_POWER, Q | S, 0, 0 },
};
const size_t vnet_oid_count = sizeof(vnet_oid_table) / sizeof(vnet_oid_table[0]);

#undef Q
#undef S
#undef C

const struct vnet_oid_info *vnet_oid_lookup(uint32_t oid)
{
	size_t i;

	for (i = 0; i < vnet_oid_count; i++)
		if (vnet_oid_table[i].oid == oid)
			return &vnet_oid_table[i];
	return NULL;
}

enum vnet_oid_status vnet_oid_check(uint32_t oid, bool set, uint32_t buf_len,
									uint32_t *bytes_needed)
{
	const struct vnet_oid_info *d = vnet_oid_lookup(oid);
	uint32_t need;

	if (bytes_needed)
		*bytes_needed = 0;
	if (!d || !(d->flags & (set ? VNET_OID_SET : VNET_OID_QUERY)))
		return VNET_OID_NOT_SUPPORTED;
	need = set ? d->set_len : d->query_len;
	if (buf_len < need) {
		if (bytes_needed)
			*bytes_needed = need;
		return set ? VNET_OID_INVALID_LENGTH : VNET_OID_BUFFER_TOO_SHORT;
	}
	return VNET_OID_OK;
}

enum vnet_oid_status vnet_oid_answer(const void *src, uint32_t src_len, void *buf,
									 uint32_t buf_len, uint32_t *written, uint32_t *needed)
{
	*written = 0;
	*needed = 0;
	if (src_len && (!src || !buf || buf_len < src_len)) {
		*needed = src_len;
		return VNET_OID_BUFFER_TOO_SHORT;
	}
	if (src_len)
		__builtin_memcpy(buf, src, src_len);
	*written = src_len;
	return VNET_OID_OK;
}

enum vnet_oid_status vnet_oid_answer_counter(uint64_t value, void *buf, uint32_t buf_len,
											 uint32_t *written, uint32_t *needed)
{
	uint32_t low = (uint32_t)value;

	*written = 0;
	*needed = sizeof(uint64_t);
	if (buf && buf_len >= sizeof(uint64_t)) {
		__builtin_memcpy(buf, &value, sizeof(value));
		*written = sizeof(uint64_t);
		return VNET_OID_OK;
	}
	if (buf && buf_len >= sizeof(uint32_t)) {
		__builtin_memcpy(buf, &low, sizeof(low));
		*written = sizeof(uint32_t);
		return VNET_OID_OK;
	}
	return VNET_OID_BUFFER_TOO_SHORT;
}

enum vnet_oid_status vnet_oid_check_header(const void *buf, uint32_t buf_len, uint8_t type,
										   uint8_t min_rev, uint16_t min_size)
{
	const uint8_t *p = buf;
	uint16_t size;

	if (!buf || buf_len < min_size || buf_len < 4)
		return VNET_OID_INVALID_LENGTH;
	size = (uint16_t)(p[2] | (p[3] << 8));
	if (p[0] != type || p[1] < min_rev || size < min_size || size > buf_len)
		return VNET_OID_INVALID_DATA;
	return VNET_OID_OK;
}

static bool feat(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1u;
}


void vnet_offload_caps(uint64_t features, struct vnet_offload_cfg *caps)
{
	bool tx = feat(features, VIRTIO_NET_F_CSUM), rx = feat(features, VIRTIO_NET_F_GUEST_CSUM);

	caps->tx_ip4 = caps->rx_ip4 = true;
	caps->tx_tcp4 = caps->tx_udp4 = caps->tx_tcp6 = caps->tx_udp6 = tx;
	caps->rx_tcp4 = caps->rx_udp4 = caps->rx_tcp6 = caps->rx_udp6 = rx;
	/* The device segments only with partial checksums: TSO without CSUM is not valid. */
	caps->lso4 = tx && feat(features, VIRTIO_NET_F_HOST_TSO4);
	caps->lso6 = tx && feat(features, VIRTIO_NET_F_HOST_TSO6);
	/* The device coalesces only with GUEST_TSO, which itself needs GUEST_CSUM. */
	caps->rsc4 = rx && feat(features, VIRTIO_NET_F_GUEST_TSO4);
	caps->rsc6 = rx && feat(features, VIRTIO_NET_F_GUEST_TSO6);
}

void vnet_offload_keyword(uint32_t value, bool *tx, bool *rx)
{
	if (value > 3)
		value = 3;
	*tx = (value & 1u) != 0;
	*rx = (value & 2u) != 0;
}

enum vnet_oid_status vnet_offload_apply_csum(uint8_t value, bool *tx, bool *rx)
{
	switch (value) {
	case VNET_OFFLOAD_NO_CHANGE: return VNET_OID_OK;
	case VNET_OFFLOAD_TX_RX_DISABLED: *tx = false; *rx = false; return VNET_OID_OK;
	case VNET_OFFLOAD_TX_ENABLED_RX_DISABLED: *tx = true; *rx = false; return VNET_OID_OK;
	case VNET_OFFLOAD_RX_ENABLED_TX_DISABLED: *tx = false; *rx = true; return VNET_OID_OK;
	case VNET_OFFLOAD_TX_RX_ENABLED: *tx = true; *rx = true; return VNET_OID_OK;
	default: return VNET_OID_INVALID_DATA;
	}
}

enum vnet_oid_status vnet_offload_apply_lso(uint8_t value, bool *enabled)
{
	switch (value) {
	case VNET_OFFLOAD_NO_CHANGE: return VNET_OID_OK;
	case VNET_OFFLOAD_LSOV2_DISABLED: *enabled = false; return VNET_OID_OK;
	case VNET_OFFLOAD_LSOV2_ENABLED: *enabled = true; return VNET_OID_OK;
	default: return VNET_OID_INVALID_DATA;
	}
}

enum vnet_oid_status vnet_offload_apply_rsc(uint8_t value, bool *enabled)
{
	switch (value) {
	case VNET_OFFLOAD_NO_CHANGE: return VNET_OID_OK;
	case VNET_OFFLOAD_RSC_DISABLED: *enabled = false; return VNET_OID_OK;
	case VNET_OFFLOAD_RSC_ENABLED: *enabled = true; return VNET_OID_OK;
	default: return VNET_OID_INVALID_DATA;
	}
}

void vnet_offload_mask(struct vnet_offload_cfg *cfg, const struct vnet_offload_cfg *caps)
{
	cfg->tx_ip4 &= caps->tx_ip4;
	cfg->rx_ip4 &= caps->rx_ip4;
	cfg->tx_tcp4 &= caps->tx_tcp4;
	cfg->rx_tcp4 &= caps->rx_tcp4;
	cfg->tx_udp4 &= caps->tx_udp4;
	cfg->rx_udp4 &= caps->rx_udp4;
	cfg->tx_tcp6 &= caps->tx_tcp6;
	cfg->rx_tcp6 &= caps->rx_tcp6;
	cfg->tx_udp6 &= caps->tx_udp6;
	cfg->rx_udp6 &= caps->rx_udp6;
	cfg->lso4 &= caps->lso4;
	cfg->lso6 &= caps->lso6;
	cfg->rsc4 &= caps->rsc4;
	cfg->rsc6 &= caps->rsc6;
	/* LSO needs the TCP checksum of each segment. */
	cfg->lso4 &= cfg->tx_tcp4;
	cfg->lso6 &= cfg->tx_tcp6;
}
