/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: virtio-net wire format (virtio 1.2 section 5.1).
 *
 * Header size on the rx/tx queues depends on negotiation (5.1.6):
 *   - VERSION_1 (modern) or MRG_RXBUF: 12 bytes (struct virtio_net_hdr_mrg_rxbuf)
 *   - legacy without MRG_RXBUF:        10 bytes (struct virtio_net_hdr)
 *   - HASH_REPORT:                     20 bytes (struct virtio_net_hdr_v1_hash)
 * Use virtio_net_hdr_len() to pick it. Queue indexes: rx N = 2N, tx N = 2N+1,
 * control queue = 2 * max_virtqueue_pairs (or 2 without MQ).
 */
#ifndef OPENVDP_VIRTIO_NET_H
#define OPENVDP_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM                0   /* device handles partial csum (tx) */
#define VIRTIO_NET_F_GUEST_CSUM          1   /* driver handles partial csum (rx) */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU                 3
#define VIRTIO_NET_F_MAC                 5
#define VIRTIO_NET_F_GSO                 6   /* legacy only */
#define VIRTIO_NET_F_GUEST_TSO4          7
#define VIRTIO_NET_F_GUEST_TSO6          8
#define VIRTIO_NET_F_GUEST_ECN           9
#define VIRTIO_NET_F_GUEST_UFO           10
#define VIRTIO_NET_F_HOST_TSO4           11
#define VIRTIO_NET_F_HOST_TSO6           12
#define VIRTIO_NET_F_HOST_ECN            13
#define VIRTIO_NET_F_HOST_UFO            14
#define VIRTIO_NET_F_MRG_RXBUF           15
#define VIRTIO_NET_F_STATUS              16
#define VIRTIO_NET_F_CTRL_VQ             17
#define VIRTIO_NET_F_CTRL_RX             18
#define VIRTIO_NET_F_CTRL_VLAN           19
#define VIRTIO_NET_F_CTRL_RX_EXTRA       20
#define VIRTIO_NET_F_GUEST_ANNOUNCE      21
#define VIRTIO_NET_F_MQ                  22
#define VIRTIO_NET_F_CTRL_MAC_ADDR       23
#define VIRTIO_NET_F_NOTF_COAL           53  /* virtio 1.3 */
#define VIRTIO_NET_F_GUEST_USO4          54  /* virtio 1.3 */
#define VIRTIO_NET_F_GUEST_USO6          55  /* virtio 1.3 */
#define VIRTIO_NET_F_HOST_USO            56
#define VIRTIO_NET_F_HASH_REPORT         57
#define VIRTIO_NET_F_GUEST_HDRLEN        59
#define VIRTIO_NET_F_RSS                 60
#define VIRTIO_NET_F_RSC_EXT             61
#define VIRTIO_NET_F_STANDBY             62
#define VIRTIO_NET_F_SPEED_DUPLEX        63

/* config.status bits (valid with VIRTIO_NET_F_STATUS). */
#define VIRTIO_NET_S_LINK_UP             1
#define VIRTIO_NET_S_ANNOUNCE            2

/* config.speed / config.duplex "unknown" values. */
#define VIRTIO_NET_SPEED_UNKNOWN         0xffffffffu
#define VIRTIO_NET_DUPLEX_HALF           0x00
#define VIRTIO_NET_DUPLEX_FULL           0x01
#define VIRTIO_NET_DUPLEX_UNKNOWN        0xff

/* max_virtqueue_pairs range with VIRTIO_NET_F_MQ (5.1.6.5.5). */
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN  1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX  0x8000

/* Supported hash types (config.supported_hash_types, RSS/hash config). */
#define VIRTIO_NET_RSS_HASH_TYPE_IPv4    (1u << 0)
#define VIRTIO_NET_RSS_HASH_TYPE_TCPv4   (1u << 1)
#define VIRTIO_NET_RSS_HASH_TYPE_UDPv4   (1u << 2)
#define VIRTIO_NET_RSS_HASH_TYPE_IPv6    (1u << 3)
#define VIRTIO_NET_RSS_HASH_TYPE_TCPv6   (1u << 4)
#define VIRTIO_NET_RSS_HASH_TYPE_UDPv6   (1u << 5)
#define VIRTIO_NET_RSS_HASH_TYPE_IP_EX   (1u << 6)
#define VIRTIO_NET_RSS_HASH_TYPE_TCP_EX  (1u << 7)
#define VIRTIO_NET_RSS_HASH_TYPE_UDP_EX  (1u << 8)

struct virtio_net_config {
	uint8_t mac[6];              /* valid with VIRTIO_NET_F_MAC */
	le16 status;                 /* VIRTIO_NET_S_*, with VIRTIO_NET_F_STATUS */
	le16 max_virtqueue_pairs;    /* with VIRTIO_NET_F_MQ or _RSS */
	le16 mtu;                    /* with VIRTIO_NET_F_MTU */
	le32 speed;                  /* Mbit/s, with VIRTIO_NET_F_SPEED_DUPLEX */
	uint8_t duplex;
	uint8_t rss_max_key_size;    /* with VIRTIO_NET_F_RSS */
	le16 rss_max_indirection_table_length;
	le32 supported_hash_types;   /* with _RSS or _HASH_REPORT */
};

/* virtio_net_hdr.flags */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM      1   /* csum_start/csum_offset valid */
#define VIRTIO_NET_HDR_F_DATA_VALID      2   /* rx: checksum already verified */
#define VIRTIO_NET_HDR_F_RSC_INFO        4   /* rx with RSC_EXT: coalescing info */

/* virtio_net_hdr.gso_type */
#define VIRTIO_NET_HDR_GSO_NONE          0
#define VIRTIO_NET_HDR_GSO_TCPV4         1
#define VIRTIO_NET_HDR_GSO_UDP           3
#define VIRTIO_NET_HDR_GSO_TCPV6         4
#define VIRTIO_NET_HDR_GSO_UDP_L4        5
#define VIRTIO_NET_HDR_GSO_ECN           0x80

/* Legacy header without MRG_RXBUF (10 bytes). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	le16 hdr_len;
	le16 gso_size;
	le16 csum_start;             /* with RSC_INFO: number of coalesced segments */
	le16 csum_offset;            /* with RSC_INFO: number of duplicated acks */
};

/* Modern header, also legacy with MRG_RXBUF (12 bytes). */
struct virtio_net_hdr_mrg_rxbuf {
	struct virtio_net_hdr hdr;
	le16 num_buffers;            /* rx: buffers merged into this packet */
};

/* Hash report values (virtio_net_hdr_v1_hash.hash_report). */
#define VIRTIO_NET_HASH_REPORT_NONE      0
#define VIRTIO_NET_HASH_REPORT_IPv4      1
#define VIRTIO_NET_HASH_REPORT_TCPv4     2
#define VIRTIO_NET_HASH_REPORT_UDPv4     3
#define VIRTIO_NET_HASH_REPORT_IPv6      4
#define VIRTIO_NET_HASH_REPORT_TCPv6     5
#define VIRTIO_NET_HASH_REPORT_UDPv6     6
#define VIRTIO_NET_HASH_REPORT_IPv6_EX   7
#define VIRTIO_NET_HASH_REPORT_TCPv6_EX  8
#define VIRTIO_NET_HASH_REPORT_UDPv6_EX  9

/* Header with VIRTIO_NET_F_HASH_REPORT (20 bytes). */
struct virtio_net_hdr_v1_hash {
	struct virtio_net_hdr_mrg_rxbuf hdr;
	le32 hash_value;
	le16 hash_report;
	le16 padding_reserved;
};

/* Control virtqueue (5.1.6.5): out: ctrl_hdr + command data, in: ack byte. */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t cmd;
};
typedef uint8_t virtio_net_ctrl_ack;
#define VIRTIO_NET_OK                    0
#define VIRTIO_NET_ERR                   1

#define VIRTIO_NET_CTRL_RX               0   /* data: one u8 (on/off) */
#define  VIRTIO_NET_CTRL_RX_PROMISC      0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI     1
#define  VIRTIO_NET_CTRL_RX_ALLUNI       2   /* CTRL_RX_EXTRA */
#define  VIRTIO_NET_CTRL_RX_NOMULTI      3   /* CTRL_RX_EXTRA */
#define  VIRTIO_NET_CTRL_RX_NOUNI        4   /* CTRL_RX_EXTRA */
#define  VIRTIO_NET_CTRL_RX_NOBCAST      5   /* CTRL_RX_EXTRA */

#define VIRTIO_NET_CTRL_MAC              1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET   0   /* two virtio_net_ctrl_mac: unicast, multicast */
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET    1   /* data: 6-byte MAC */

#define VIRTIO_NET_CTRL_VLAN             2   /* data: le16 vlan id */
#define  VIRTIO_NET_CTRL_VLAN_ADD        0
#define  VIRTIO_NET_CTRL_VLAN_DEL        1

#define VIRTIO_NET_CTRL_ANNOUNCE         3
#define  VIRTIO_NET_CTRL_ANNOUNCE_ACK    0

#define VIRTIO_NET_CTRL_MQ               4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0   /* data: struct virtio_net_ctrl_mq */
#define  VIRTIO_NET_CTRL_MQ_RSS_CONFIG   1   /* data: virtio_net_rss_config_head + tables */
#define  VIRTIO_NET_CTRL_MQ_HASH_CONFIG  2   /* same layout, tables ignored */

#define VIRTIO_NET_CTRL_GUEST_OFFLOADS   5   /* data: le64 offload bitmap */
#define  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

/* MAC_TABLE_SET element: le32 count followed by count * 6 bytes. */
struct virtio_net_ctrl_mac {
	le32 entries;
	uint8_t macs[][6];
};

struct virtio_net_ctrl_mq {
	le16 virtqueue_pairs;
};

/*
 * RSS_CONFIG payload: this head, then le16 indirection_table[mask + 1],
 * then le16 max_tx_vq, u8 hash_key_length, u8 hash_key_data[length].
 * Variable sized, so only the fixed head is a structure.
 */
struct virtio_net_rss_config_head {
	le32 hash_types;
	le16 indirection_table_mask;
	le16 unclassified_queue;
};

static inline uint32_t virtio_net_hdr_len(bool version_1, bool mrg_rxbuf, bool hash_report)
{
	if (hash_report)
		return (uint32_t)sizeof(struct virtio_net_hdr_v1_hash);
	if (version_1 || mrg_rxbuf)
		return (uint32_t)sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return (uint32_t)sizeof(struct virtio_net_hdr);
}

_Static_assert(offsetof(struct virtio_net_config, mac) == 0, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, status) == 6, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, max_virtqueue_pairs) == 8, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, mtu) == 10, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, speed) == 12, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, duplex) == 16, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, rss_max_key_size) == 17, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, rss_max_indirection_table_length) == 18, "net cfg");
_Static_assert(offsetof(struct virtio_net_config, supported_hash_types) == 20, "net cfg");
_Static_assert(sizeof(struct virtio_net_config) == 24, "net cfg size");
_Static_assert(sizeof(struct virtio_net_hdr) == 10, "net hdr legacy");
_Static_assert(offsetof(struct virtio_net_hdr, csum_offset) == 8, "net hdr");
_Static_assert(sizeof(struct virtio_net_hdr_mrg_rxbuf) == 12, "net hdr mrg");
_Static_assert(offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers) == 10, "net hdr mrg");
_Static_assert(sizeof(struct virtio_net_hdr_v1_hash) == 20, "net hdr hash");
_Static_assert(offsetof(struct virtio_net_hdr_v1_hash, hash_value) == 12, "net hdr hash");
_Static_assert(offsetof(struct virtio_net_hdr_v1_hash, hash_report) == 16, "net hdr hash");
_Static_assert(sizeof(struct virtio_net_ctrl_hdr) == 2, "net ctrl hdr");
_Static_assert(sizeof(struct virtio_net_ctrl_mac) == 4, "net ctrl mac");
_Static_assert(sizeof(struct virtio_net_ctrl_mq) == 2, "net ctrl mq");
_Static_assert(sizeof(struct virtio_net_rss_config_head) == 8, "net rss head");

#endif /* OPENVDP_VIRTIO_NET_H */
