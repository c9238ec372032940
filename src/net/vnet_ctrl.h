/*
 * vnet_ctrl: receive filtering state (NDIS packet filter, multicast list, MAC address) and the
 * virtio-net control-queue commands that express it (virtio 1.2 5.1.6.5). No Windows headers:
 * the glue mirrors NDIS_PACKET_TYPE_* into VNET_PF_* (checked by _Static_assert there).
 *
 * The device may ignore or lack a control queue, so the same state also drives a software
 * filter on receive (vnet_filter_accept); the device filter is only an optimisation.
 */
#ifndef OPENVDP_VNET_CTRL_H
#define OPENVDP_VNET_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio_net.h>

#include "vnet_parse.h"
#include "vnet_rss.h"

/* NDIS_PACKET_TYPE_* values (ntddndis.h). */
#define VNET_PF_DIRECTED 0x00000001u
#define VNET_PF_MULTICAST 0x00000002u
#define VNET_PF_ALL_MULTICAST 0x00000004u
#define VNET_PF_BROADCAST 0x00000008u
#define VNET_PF_PROMISCUOUS 0x00000020u
#define VNET_PF_ALL_LOCAL 0x00000080u
#define VNET_PF_SUPPORTED                                                                      \
	(VNET_PF_DIRECTED | VNET_PF_MULTICAST | VNET_PF_ALL_MULTICAST | VNET_PF_BROADCAST |        \
	 VNET_PF_PROMISCUOUS | VNET_PF_ALL_LOCAL)

/* Multicast list size advertised through OID_802_3_MAXIMUM_LIST_SIZE. */
#define VNET_MCAST_MAX 32u
#define VNET_MAC_LEN 6u

struct vnet_filter {
	uint32_t packet_filter;                  /* VNET_PF_* */
	uint32_t mcast_count;
	uint8_t mcast[VNET_MCAST_MAX][VNET_MAC_LEN];
	uint8_t mac[VNET_MAC_LEN];               /* current unicast address */
};

/* One control command: class, command, payload. Sized for the largest one we build: the MAC
 * table (8 + 32 * 6 bytes) or RSS_CONFIG (8 + 2 * 128 + 3 + 40 bytes). */
#define VNET_CTRL_DATA_MAX 320u
struct vnet_ctrl_cmd {
	uint8_t cls;
	uint8_t cmd;
	uint16_t len;
	uint8_t data[VNET_CTRL_DATA_MAX];
};

/* Worst case of vnet_filter_commands(): 6 RX mode switches + MAC table. */
#define VNET_FILTER_CMDS_MAX 7u

static inline bool vnet_mac_is_multicast(const uint8_t *mac)
{
	return (mac[0] & 1u) != 0;
}

/* A usable station address: not multicast/broadcast, not all zero. */
bool vnet_mac_valid_unicast(const uint8_t *mac);

/* Validate a new packet filter: VNET_ERR_UNSUPPORTED for bits this adapter cannot honour. */
int vnet_filter_set_packet_filter(struct vnet_filter *f, uint32_t packet_filter);

/*
 * Replace the multicast list from an OID_802_3_MULTICAST_LIST buffer. VNET_ERR_MALFORMED when
 * len is not a multiple of 6, VNET_ERR_TOO_LONG above VNET_MCAST_MAX, VNET_ERR_INVAL for an
 * address without the group bit. The list is unchanged on error.
 */
int vnet_filter_set_mcast(struct vnet_filter *f, const uint8_t *list, size_t len);

/*
 * Control commands that make the device filter match *f, for the negotiated features (bit n =
 * VIRTIO_NET_F_n). Returns the number of commands written to out (0 without CTRL_VQ/CTRL_RX).
 */
unsigned vnet_filter_commands(const struct vnet_filter *f, uint64_t features,
							  struct vnet_ctrl_cmd *out, unsigned max);

/* Software filter on a received frame's destination address. */
bool vnet_filter_accept(const struct vnet_filter *f, const uint8_t *frame, size_t len);

/* Single commands. Return VNET_OK or VNET_ERR_UNSUPPORTED when the feature is missing. */
int vnet_ctrl_mac_addr_set(uint64_t features, const uint8_t *mac, struct vnet_ctrl_cmd *out);
int vnet_ctrl_mq_pairs_set(uint64_t features, uint16_t pairs, uint16_t max_pairs,
						   struct vnet_ctrl_cmd *out);
int vnet_ctrl_vlan(uint64_t features, bool add, uint16_t vid, struct vnet_ctrl_cmd *out);
/*
 * VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: the receive offloads (bit n = VIRTIO_NET_F_n) the device may
 * use from now on. Only GUEST_CSUM/TSO4/TSO6/ECN/UFO bits that were negotiated may be set.
 */
int vnet_ctrl_guest_offloads_set(uint64_t features, uint64_t offloads, struct vnet_ctrl_cmd *out);

/*
 * Driver feature set for what the device offers, with the dependencies of virtio 1.2 5.1.3.1
 * honoured (a device may refuse FEATURES_OK otherwise): TSO needs CSUM, ECN needs TSO,
 * RX_EXTRA needs CTRL_RX, every control-queue feature needs CTRL_VQ.
 */
uint64_t vnet_features_select(uint64_t wanted, uint64_t offered);

/* Limits the device publishes with VIRTIO_NET_F_RSS (struct virtio_net_config). */
struct vnet_rss_limits {
	uint8_t max_key;          /* rss_max_key_size */
	uint16_t max_table;       /* rss_max_indirection_table_length */
	uint32_t hash_types;      /* supported_hash_types (VIRTIO_NET_RSS_HASH_TYPE_*) */
};

/* Check the device's RSS limits (5.1.4.2: key >= 40 bytes, table >= 128 entries). */
int vnet_rss_limits_check(const struct vnet_rss_limits *lim);

/* VNET_RSS_HASH_* to VIRTIO_NET_RSS_HASH_TYPE_* bits. */
uint32_t vnet_rss_virtio_types(uint32_t vnet_types);

/*
 * VIRTIO_NET_CTRL_MQ_RSS_CONFIG for cfg (NULL: RSS off, everything to receive queue 0) over
 * `pairs` queue pairs. Hash types the device cannot do are dropped; a table or key beyond the
 * device limits, or a table entry >= pairs, is VNET_ERR_INVAL.
 */
int vnet_ctrl_rss_config(uint64_t features, const struct vnet_rss_config *cfg, uint16_t pairs,
						 const struct vnet_rss_limits *lim, struct vnet_ctrl_cmd *out);

#endif /* OPENVDP_VNET_CTRL_H */
