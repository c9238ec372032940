/*
 * vnet_ctrl: receive filter state and control-queue command encoding. Everything here is
 * input from the network stack (OID buffers), so every length is checked before use.
 */
#include "vnet_ctrl.h"

static bool has_feature(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1u;
}

bool vnet_mac_valid_unicast(const uint8_t *mac)
{
	unsigned i;

	if (!mac || vnet_mac_is_multicast(mac))
		return false;
	for (i = 0; i < VNET_MAC_LEN; i++)
		if (mac[i])
			return true;
	return false;
}

int vnet_filter_set_packet_filter(struct vnet_filter *f, uint32_t packet_filter)
{
	if (!f)
		return VNET_ERR_INVAL;
	if (packet_filter & ~VNET_PF_SUPPORTED)
		return VNET_ERR_UNSUPPORTED;
	f->packet_filter = packet_filter;
	return VNET_OK;
}

int vnet_filter_set_mcast(struct vnet_filter *f, const uint8_t *list, size_t len)
{
	size_t i, n;

	if (!f || (!list && len))
		return VNET_ERR_INVAL;
	if (len % VNET_MAC_LEN)
		return VNET_ERR_MALFORMED;
	n = len / VNET_MAC_LEN;
	if (n > VNET_MCAST_MAX)
		return VNET_ERR_TOO_LONG;
	for (i = 0; i < n; i++)
		if (!vnet_mac_is_multicast(list + i * VNET_MAC_LEN))
			return VNET_ERR_INVAL;
	if (n)
		__builtin_memcpy(f->mcast, list, len);
	f->mcast_count = (uint32_t)n;
	return VNET_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void rx_cmd(struct vnet_ctrl_cmd *c, uint8_t cmd, bool on)
{
	c->cls = VIRTIO_NET_CTRL_RX;
	c->cmd = cmd;
	c->len = 1;
	c->data[0] = on ? 1 : 0;
}

unsigned vnet_filter_commands(const struct vnet_filter *f, uint64_t features,
							  struct vnet_ctrl_cmd *out, unsigned max)
{
	uint32_t pf, nmc;
	unsigned n = 0;
	uint8_t *p;

	if (!f || !out || max < VNET_FILTER_CMDS_MAX)
		return 0;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) ||
		!has_feature(features, VIRTIO_NET_F_CTRL_RX))
		return 0;
	pf = f->packet_filter;
	rx_cmd(&out[n++], VIRTIO_NET_CTRL_RX_PROMISC, (pf & VNET_PF_PROMISCUOUS) != 0);
	rx_cmd(&out[n++], VIRTIO_NET_CTRL_RX_ALLMULTI, (pf & VNET_PF_ALL_MULTICAST) != 0);
	if (has_feature(features, VIRTIO_NET_F_CTRL_RX_EXTRA)) {
		/* Drop classes nobody asked for in the device already (packet filter 0 = receive
		 * nothing). Promiscuous mode overrides them all. */
		rx_cmd(&out[n++], VIRTIO_NET_CTRL_RX_NOUNI,
			   !(pf & (VNET_PF_DIRECTED | VNET_PF_PROMISCUOUS)));
		rx_cmd(&out[n++], VIRTIO_NET_CTRL_RX_NOMULTI,
			   !(pf & (VNET_PF_MULTICAST | VNET_PF_ALL_MULTICAST | VNET_PF_PROMISCUOUS)));
		rx_cmd(&out[n++], VIRTIO_NET_CTRL_RX_NOBCAST,
			   !(pf & (VNET_PF_BROADCAST | VNET_PF_PROMISCUOUS)));
	}
	/* MAC table: no extra unicast entries (the station address is the device's own), then the
	 * multicast list when multicast reception is on. */
	nmc = (pf & VNET_PF_MULTICAST) ? f->mcast_count : 0;
	out[n].cls = VIRTIO_NET_CTRL_MAC;
	out[n].cmd = VIRTIO_NET_CTRL_MAC_TABLE_SET;
	p = out[n].data;
	put_le32(p, 0);
	put_le32(p + 4, nmc);
	if (nmc)
		__builtin_memcpy(p + 8, f->mcast, nmc * VNET_MAC_LEN);
	out[n].len = (uint16_t)(8 + nmc * VNET_MAC_LEN);
	n++;
	return n;
}

bool vnet_filter_accept(const struct vnet_filter *f, const uint8_t *frame, size_t len)
{
	static const uint8_t bcast[VNET_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t pf, i;

	if (!f || !frame || len < VNET_ETH_HLEN)
		return false;
	pf = f->packet_filter;
	if (pf & VNET_PF_PROMISCUOUS)
		return true;
	if (!vnet_mac_is_multicast(frame))
		return (pf & VNET_PF_DIRECTED) && __builtin_memcmp(frame, f->mac, VNET_MAC_LEN) == 0;
	if (__builtin_memcmp(frame, bcast, VNET_MAC_LEN) == 0)
		return (pf & VNET_PF_BROADCAST) != 0;
	if (pf & VNET_PF_ALL_MULTICAST)
		return true;
	if (!(pf & VNET_PF_MULTICAST))
		return false;
	for (i = 0; i < f->mcast_count && i < VNET_MCAST_MAX; i++)
		if (__builtin_memcmp(frame, f->mcast[i], VNET_MAC_LEN) == 0)
			return true;
	return false;
}

int vnet_ctrl_mac_addr_set(uint64_t features, const uint8_t *mac, struct vnet_ctrl_cmd *out)
{
	if (!mac || !out || !vnet_mac_valid_unicast(mac))
		return VNET_ERR_INVAL;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) ||
		!has_feature(features, VIRTIO_NET_F_CTRL_MAC_ADDR))
		return VNET_ERR_UNSUPPORTED;
	out->cls = VIRTIO_NET_CTRL_MAC;
	out->cmd = VIRTIO_NET_CTRL_MAC_ADDR_SET;
	out->len = VNET_MAC_LEN;
	__builtin_memcpy(out->data, mac, VNET_MAC_LEN);
	return VNET_OK;
}

int vnet_ctrl_mq_pairs_set(uint64_t features, uint16_t pairs, uint16_t max_pairs,
						   struct vnet_ctrl_cmd *out)
{
	if (!out || pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > max_pairs ||
		pairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX)
		return VNET_ERR_INVAL;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) || !has_feature(features, VIRTIO_NET_F_MQ))
		return VNET_ERR_UNSUPPORTED;
	out->cls = VIRTIO_NET_CTRL_MQ;
	out->cmd = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	out->len = 2;
	out->data[0] = (uint8_t)pairs;
	out->data[1] = (uint8_t)(pairs >> 8);
	return VNET_OK;
}

int vnet_ctrl_guest_offloads_set(uint64_t features, uint64_t offloads, struct vnet_ctrl_cmd *out)
{
	const uint64_t settable = (1ull << VIRTIO_NET_F_GUEST_CSUM) |
							  (1ull << VIRTIO_NET_F_GUEST_TSO4) |
							  (1ull << VIRTIO_NET_F_GUEST_TSO6) |
							  (1ull << VIRTIO_NET_F_GUEST_ECN) | (1ull << VIRTIO_NET_F_GUEST_UFO);
	unsigned i;

	if (!out || (offloads & ~settable) || (offloads & ~features))
		return VNET_ERR_INVAL;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) ||
		!has_feature(features, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
		return VNET_ERR_UNSUPPORTED;
	out->cls = VIRTIO_NET_CTRL_GUEST_OFFLOADS;
	out->cmd = VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET;
	out->len = 8;
	for (i = 0; i < 8; i++)
		out->data[i] = (uint8_t)(offloads >> (8 * i));
	return VNET_OK;
}

int vnet_ctrl_vlan(uint64_t features, bool add, uint16_t vid, struct vnet_ctrl_cmd *out)
{
	/* 0 and 4095 are reserved VLAN IDs (802.1Q). */
	if (!out || vid == 0 || vid >= 4095)
		return VNET_ERR_INVAL;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) ||
		!has_feature(features, VIRTIO_NET_F_CTRL_VLAN))
		return VNET_ERR_UNSUPPORTED;
	out->cls = VIRTIO_NET_CTRL_VLAN;
	out->cmd = add ? VIRTIO_NET_CTRL_VLAN_ADD : VIRTIO_NET_CTRL_VLAN_DEL;
	out->len = 2;
	out->data[0] = (uint8_t)vid;
	out->data[1] = (uint8_t)(vid >> 8);
	return VNET_OK;
}

int vnet_rss_limits_check(const struct vnet_rss_limits *lim)
{
	if (!lim)
		return VNET_ERR_INVAL;
	if (lim->max_key < VNET_RSS_KEY_MAX || lim->max_table < VNET_RSS_TABLE_MAX ||
		(lim->max_table & (lim->max_table - 1)))
		return VNET_ERR_DEVICE;
	return VNET_OK;
}

uint32_t vnet_rss_virtio_types(uint32_t t)
{
	uint32_t v = 0;

	if (t & VNET_RSS_HASH_IPV4)
		v |= VIRTIO_NET_RSS_HASH_TYPE_IPv4;
	if (t & VNET_RSS_HASH_TCP_IPV4)
		v |= VIRTIO_NET_RSS_HASH_TYPE_TCPv4;
	if (t & VNET_RSS_HASH_UDP_IPV4)
		v |= VIRTIO_NET_RSS_HASH_TYPE_UDPv4;
	if (t & VNET_RSS_HASH_IPV6)
		v |= VIRTIO_NET_RSS_HASH_TYPE_IPv6;
	if (t & VNET_RSS_HASH_TCP_IPV6)
		v |= VIRTIO_NET_RSS_HASH_TYPE_TCPv6;
	if (t & VNET_RSS_HASH_UDP_IPV6)
		v |= VIRTIO_NET_RSS_HASH_TYPE_UDPv6;
	return v;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int vnet_ctrl_rss_config(uint64_t features, const struct vnet_rss_config *cfg, uint16_t pairs,
						 const struct vnet_rss_limits *lim, struct vnet_ctrl_cmd *out)
{
	uint32_t n = 1, key_len = 0, i, types = 0;
	uint8_t *p;

	if (!out || !lim || pairs == 0)
		return VNET_ERR_INVAL;
	if (!has_feature(features, VIRTIO_NET_F_CTRL_VQ) || !has_feature(features, VIRTIO_NET_F_RSS))
		return VNET_ERR_UNSUPPORTED;
	if (vnet_rss_limits_check(lim) != VNET_OK)
		return VNET_ERR_DEVICE;
	if (cfg) {
		n = cfg->table_len;
		key_len = cfg->key_len;
		types = vnet_rss_virtio_types(cfg->hash_types) & lim->hash_types;
		if (n == 0 || n > VNET_RSS_TABLE_MAX || (n & (n - 1)) || n > lim->max_table ||
			key_len > lim->max_key || key_len > VNET_RSS_KEY_MAX)
			return VNET_ERR_INVAL;
		for (i = 0; i < n; i++)
			if (cfg->table[i] >= pairs)
				return VNET_ERR_INVAL;
	}
	out->cls = VIRTIO_NET_CTRL_MQ;
	out->cmd = VIRTIO_NET_CTRL_MQ_RSS_CONFIG;
	p = out->data;
	put_le32(p, types);
	put_le16(p + 4, (uint16_t)(n - 1));
	put_le16(p + 6, 0);                      /* unclassified packets: receive queue 0 */
	p += 8;
	for (i = 0; i < n; i++, p += 2)
		put_le16(p, cfg ? cfg->table[i] : 0);
	put_le16(p, pairs);                      /* max_tx_vq */
	p[2] = (uint8_t)key_len;
	if (key_len)
		__builtin_memcpy(p + 3, cfg->key, key_len);
	p += 3 + key_len;
	out->len = (uint16_t)(p - out->data);
	return VNET_OK;
}

uint64_t vnet_features_select(uint64_t wanted, uint64_t offered)
{
	uint64_t f = wanted & offered;

#define B(bit) (1ull << (bit))
	if (!(f & B(VIRTIO_NET_F_CSUM)))
		f &= ~(B(VIRTIO_NET_F_HOST_TSO4) | B(VIRTIO_NET_F_HOST_TSO6) | B(VIRTIO_NET_F_HOST_UFO));
	if (!(f & (B(VIRTIO_NET_F_HOST_TSO4) | B(VIRTIO_NET_F_HOST_TSO6))))
		f &= ~B(VIRTIO_NET_F_HOST_ECN);
	if (!(f & B(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~(B(VIRTIO_NET_F_GUEST_TSO4) | B(VIRTIO_NET_F_GUEST_TSO6) | B(VIRTIO_NET_F_GUEST_UFO));
	if (!(f & (B(VIRTIO_NET_F_GUEST_TSO4) | B(VIRTIO_NET_F_GUEST_TSO6))))
		f &= ~B(VIRTIO_NET_F_GUEST_ECN);
	if (!(f & B(VIRTIO_NET_F_CTRL_RX)))
		f &= ~B(VIRTIO_NET_F_CTRL_RX_EXTRA);
	if (!(f & B(VIRTIO_NET_F_CTRL_VQ)))
		f &= ~(B(VIRTIO_NET_F_CTRL_RX) | B(VIRTIO_NET_F_CTRL_RX_EXTRA) | B(VIRTIO_NET_F_CTRL_VLAN) |
			   B(VIRTIO_NET_F_GUEST_ANNOUNCE) | B(VIRTIO_NET_F_MQ) | B(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			   B(VIRTIO_NET_F_RSS) | B(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
#undef B
	return f;
}
