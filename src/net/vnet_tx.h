/*
 * vnet_tx: build the virtio_net_hdr that precedes a transmitted frame (virtio 1.2 5.1.6.2).
 * The caller states the offloads the stack asked for in NDIS-independent terms; the frame is
 * parsed to find the checksum start and header length, and anything inconsistent is refused
 * so that the glue can fall back to software or drop the frame.
 */
#ifndef OPENVDP_VNET_TX_H
#define OPENVDP_VNET_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio_net.h>

#include "vnet_parse.h"

/* Largest TCP payload of one LSO frame that NDIS may hand down (LSOv2 limit, 64 KiB). */
#define VNET_TX_LSO_MAX_PAYLOAD 0xFFFFu

struct vnet_tx_request {
	bool csum_tcp;          /* fill the TCP checksum (IPv4 or IPv6, from the frame) */
	bool csum_udp;          /* fill the UDP checksum */
	uint32_t lso_mss;       /* TCP segmentation with this MSS; 0 = no LSO */
	uint32_t max_frame_len; /* limit for frames without LSO (MTU + Ethernet and VLAN headers) */
};

/*
 * Fill *hdr (the 10-byte header; num_buffers, when present, is 0 on transmit) for `frame` and
 * the negotiated device `features` (bit n = VIRTIO_NET_F_n). Returns VNET_OK or an error; on
 * error *hdr is zeroed.
 */
int vnet_tx_build_hdr(const uint8_t *frame, size_t frame_len, const struct vnet_tx_request *req,
					  uint64_t features, struct virtio_net_hdr *hdr);

/*
 * The same when only the first head_len bytes of a frame of frame_len bytes are at hand (the
 * rest sits in scatter-gather memory): every header the decision needs must lie in the head.
 */
int vnet_tx_build_hdr_head(const uint8_t *frame, size_t head_len, size_t frame_len,
						   const struct vnet_tx_request *req, uint64_t features,
						   struct virtio_net_hdr *hdr);

/* virtio has no VLAN insertion: the driver sends addresses + 802.1Q tag from its own buffer and
 * the rest of the frame from offset 12. */
#define VNET_TX_VLAN_HEAD_LEN 16u
void vnet_tx_vlan_head(const uint8_t *frame, uint16_t tci, uint8_t out[VNET_TX_VLAN_HEAD_LEN]);

/*
 * LSOv2: the stack leaves the IPv4 Total Length / IPv6 Payload Length of the large packet at 0
 * (only LSOv1 fills it). Fill it from the frame length in the writable head copy, and redo the
 * IPv4 header checksum, so that the header is a valid template for the device's segments.
 * Non-zero lengths are left alone; VNET_ERR_TOO_LONG if the length does not fit the field.
 */
int vnet_tx_lso_fix_lengths(uint8_t *head, size_t head_len, size_t frame_len);

/*
 * With VIRTIO_NET_HDR_F_NEEDS_CSUM the device sums from csum_start to the end and stores the
 * result, so the checksum field must already hold the pseudo-header sum over the full L4 length
 * (and for GSO the device derives each segment's from it). What the stack left there is not
 * relied on: this writes it from the addresses, protocol and frame length in the head copy.
 */
int vnet_tx_pseudo_csum(uint8_t *head, size_t head_len, size_t frame_len);

/* virtio has no IPv4 header checksum offload: compute it in a writable copy of the headers. */
int vnet_tx_ipv4_csum(uint8_t *frame, size_t head_len);

#endif /* OPENVDP_VNET_TX_H */
