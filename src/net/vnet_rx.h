/*
 * vnet_rx: validate what the device returns on a receive queue (virtio 1.2 5.1.6.3/5.1.6.4).
 *
 * A received packet is a chain of one or more posted buffers: the virtio-net header followed by
 * the frame. With VIRTIO_NET_F_MRG_RXBUF the header's num_buffers says how many used-ring
 * entries belong to the packet; without it the packet is exactly one buffer. Every length the
 * device reports is checked against what was posted, and the header fields against what was
 * negotiated, before anything is indicated to the stack.
 */
#ifndef OPENVDP_VNET_RX_H
#define OPENVDP_VNET_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio_net.h>

#include "vnet_parse.h"

/* Bytes of the frame start copied out for parsing when the headers span buffers. */
#define VNET_RX_PARSE_BYTES 128u

struct vnet_rx_config {
	uint32_t hdr_len;        /* virtio_net_hdr_len() for the negotiated features */
	bool mergeable;          /* VIRTIO_NET_F_MRG_RXBUF */
	bool guest_csum;         /* VIRTIO_NET_F_GUEST_CSUM: flags may carry NEEDS_CSUM/DATA_VALID */
	bool guest_tso4;         /* VIRTIO_NET_F_GUEST_TSO4: gso_type TCPV4 allowed */
	bool guest_tso6;         /* VIRTIO_NET_F_GUEST_TSO6 */
	bool guest_ecn;          /* VIRTIO_NET_F_GUEST_ECN: GSO_ECN bit allowed */
	uint32_t max_frame_len;  /* frame limit without GSO: MTU + Ethernet + VLAN headers */
	uint16_t max_buffers;    /* most buffers one packet may use (<= receive queue size) */
};

/* One used-ring entry: the buffer the driver posted and the length the device wrote. */
struct vnet_rx_buf {
	const uint8_t *data;
	uint32_t posted_len;
	uint32_t used_len;
};

#define VNET_RX_CSUM_IP_OK 0x01u      /* IPv4 header checksum verified here */
#define VNET_RX_CSUM_IP_BAD 0x02u     /* IPv4 header checksum wrong */
#define VNET_RX_CSUM_TCP_OK 0x04u     /* device validated the TCP checksum (DATA_VALID) */
#define VNET_RX_CSUM_UDP_OK 0x08u     /* device validated the UDP checksum (DATA_VALID) */
#define VNET_RX_CSUM_PARTIAL 0x10u    /* NEEDS_CSUM: checksum must be completed in software */
/* A GSO frame validated with DATA_VALID: the TCP checksum field was not recomputed for the
 * coalesced frame (NDIS: TcpChecksumValueInvalid). */
#define VNET_RX_CSUM_TCP_VALUE_STALE 0x20u

struct vnet_rx_packet {
	uint32_t frame_len;      /* total frame bytes across the chain (header excluded) */
	uint16_t num_buffers;
	uint32_t csum_flags;     /* VNET_RX_CSUM_* */
	uint16_t csum_start;     /* with VNET_RX_CSUM_PARTIAL: offsets inside the frame */
	uint16_t csum_offset;
	uint8_t gso_type;        /* VIRTIO_NET_HDR_GSO_* without the ECN bit */
	uint16_t gso_size;
	uint16_t gso_segs;       /* GSO: segments the frame stands for, ceil(TCP payload / gso_size) */
	uint32_t gso_payload;    /* GSO: TCP payload bytes */
	int parse_status;        /* vnet_parse_frame() result on the frame start */
	struct vnet_frame_info info;
};

/*
 * Number of used-ring entries the packet starting with `first` occupies (1 without mergeable
 * buffers). Checks the first buffer's lengths; VNET_ERR_DEVICE for impossible values.
 */
int vnet_rx_num_buffers(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *first,
						uint16_t *num_buffers);

/*
 * Validate the whole chain (nbufs must equal vnet_rx_num_buffers()) and describe the packet.
 * On any error the packet must be dropped and its buffers reposted.
 */
int vnet_rx_parse(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
				  uint16_t nbufs, struct vnet_rx_packet *pkt);


/*
 * Mergeable buffers: copy the frame bytes of bufs[1..nbufs) behind those of bufs[0], so that the
 * whole frame is contiguous in the first buffer (the driver posts buffers large enough for a
 * whole frame, so a split packet always fits; anything else is refused). bufs[0].data must be
 * writable; pkt comes from a successful vnet_rx_parse() on the same chain.
 */
int vnet_rx_gather(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
				   uint16_t nbufs, const struct vnet_rx_packet *pkt, uint8_t *first_data);

/*
 * Copy a whole validated chain (virtio header and frame) into dst, which has dst_cap bytes:
 * used for frames larger than one posted buffer (GSO). VNET_ERR_TOO_LONG if it does not fit.
 */
int vnet_rx_copy_chain(const struct vnet_rx_config *cfg, const struct vnet_rx_buf *bufs,
					   uint16_t nbufs, const struct vnet_rx_packet *pkt, uint8_t *dst,
					   uint32_t dst_cap);

/*
 * Software segmentation of a validated GSO TCP frame (pkt from vnet_rx_parse, checksum already
 * completed or validated), for when receive segment coalescing is switched off but the device
 * still coalesces. Writes segment `index` (0 <= index < pkt->gso_segs) into out (cap bytes):
 * the headers with IPv4 total length / identification / header checksum or the IPv6 payload
 * length, TCP sequence number and flags (CWR on the first, FIN and PSH on the last segment
 * only) adjusted and the TCP checksum computed. Returns the segment length, 0 on any error.
 */
uint32_t vnet_rx_gso_segment(const uint8_t *frame, uint32_t len, const struct vnet_rx_packet *pkt,
							 uint16_t index, uint8_t *out, uint32_t cap);

/*
 * VIRTIO_NET_HDR_F_NEEDS_CSUM: finish the checksum the device left partial (5.1.6.4.1): the
 * field at start + offset holds the pseudo-header sum; store the ones-complement of the sum
 * over [start, len). Bounds are checked again.
 */
int vnet_rx_complete_csum(uint8_t *frame, uint32_t len, uint16_t start, uint16_t offset);

/*
 * Strip the outer 802.1Q tag of a frame in place: the 12 address bytes move up by 4, so the
 * frame then starts at frame + 4 and is 4 bytes shorter. Returns true and the TCI if a tag was
 * removed; false (frame untouched) for untagged, QinQ-outer or too short frames.
 */
bool vnet_vlan_strip(uint8_t *frame, uint32_t len, uint16_t *tci);

#endif /* OPENVDP_VNET_RX_H */
