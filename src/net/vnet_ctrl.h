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

/* One control command: class, command, payload. Sized for the largest one we build. */
#define VNET_CTRL_DATA_MAX (2u * sizeof(le32) + VNET_MCAST_MAX * VNET_MAC_LEN)
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

#endif /* OPENVDP_VNET_CTRL_H */
