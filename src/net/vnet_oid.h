/*
 * vnet_oid: the OID dispatch table of vdpnet and the buffer rules NDIS imposes on every OID
 * request (minimum lengths, BytesNeeded, 32/64-bit statistics counters). No Windows headers:
 * OID numbers are mirrored as VNET_OID_* and checked against ntddndis.h by the glue.
 */
#ifndef OPENVDP_VNET_OID_H
#define OPENVDP_VNET_OID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_OID_GEN_SUPPORTED_LIST 0x00010101u
#define VNET_OID_GEN_HARDWARE_STATUS 0x00010102u
#define VNET_OID_GEN_MEDIA_SUPPORTED 0x00010103u
#define VNET_OID_GEN_MEDIA_IN_USE 0x00010104u
#define VNET_OID_GEN_MAXIMUM_LOOKAHEAD 0x00010105u
#define VNET_OID_GEN_MAXIMUM_FRAME_SIZE 0x00010106u
#define VNET_OID_GEN_LINK_SPEED 0x00010107u
#define VNET_OID_GEN_TRANSMIT_BUFFER_SPACE 0x00010108u
#define VNET_OID_GEN_RECEIVE_BUFFER_SPACE 0x00010109u
#define VNET_OID_GEN_TRANSMIT_BLOCK_SIZE 0x0001010au
#define VNET_OID_GEN_RECEIVE_BLOCK_SIZE 0x0001010bu
#define VNET_OID_GEN_VENDOR_ID 0x0001010cu
#define VNET_OID_GEN_VENDOR_DESCRIPTION 0x0001010du
#define VNET_OID_GEN_CURRENT_PACKET_FILTER 0x0001010eu
#define VNET_OID_GEN_CURRENT_LOOKAHEAD 0x0001010fu
#define VNET_OID_GEN_DRIVER_VERSION 0x00010110u
#define VNET_OID_GEN_MAXIMUM_TOTAL_SIZE 0x00010111u
#define VNET_OID_GEN_MAC_OPTIONS 0x00010113u
#define VNET_OID_GEN_MEDIA_CONNECT_STATUS 0x00010114u
#define VNET_OID_GEN_MAXIMUM_SEND_PACKETS 0x00010115u
#define VNET_OID_GEN_VENDOR_DRIVER_VERSION 0x00010116u
#define VNET_OID_GEN_PHYSICAL_MEDIUM 0x00010202u
#define VNET_OID_GEN_RECEIVE_SCALE_CAPABILITIES 0x00010203u
#define VNET_OID_GEN_RECEIVE_SCALE_PARAMETERS 0x00010204u
#define VNET_OID_GEN_LINK_PARAMETERS 0x00010208u
#define VNET_OID_GEN_INTERRUPT_MODERATION 0x00010209u
#define VNET_OID_GEN_VLAN_ID 0x0001021cu
#define VNET_OID_GEN_XMIT_OK 0x00020101u
#define VNET_OID_GEN_RCV_OK 0x00020102u
#define VNET_OID_GEN_XMIT_ERROR 0x00020103u
#define VNET_OID_GEN_RCV_ERROR 0x00020104u
#define VNET_OID_GEN_RCV_NO_BUFFER 0x00020105u
#define VNET_OID_GEN_STATISTICS 0x00020106u
#define VNET_OID_TCP_RSC_STATISTICS 0x0002021du
#define VNET_OID_802_3_PERMANENT_ADDRESS 0x01010101u
#define VNET_OID_802_3_CURRENT_ADDRESS 0x01010102u
#define VNET_OID_802_3_MULTICAST_LIST 0x01010103u
#define VNET_OID_802_3_MAXIMUM_LIST_SIZE 0x01010104u
#define VNET_OID_OFFLOAD_ENCAPSULATION 0x0101010au
#define VNET_OID_802_3_RCV_ERROR_ALIGNMENT 0x01020101u
#define VNET_OID_802_3_XMIT_ONE_COLLISION 0x01020102u
#define VNET_OID_802_3_XMIT_MORE_COLLISIONS 0x01020103u
#define VNET_OID_TCP_OFFLOAD_CURRENT_CONFIG 0xfc01020bu
#define VNET_OID_TCP_OFFLOAD_PARAMETERS 0xfc01020cu
#define VNET_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xfc01020du
#define VNET_OID_PNP_CAPABILITIES 0xfd010100u
#define VNET_OID_PNP_SET_POWER 0xfd010101u
#define VNET_OID_PNP_QUERY_POWER 0xfd010102u

/* How an OID may be used. */
#define VNET_OID_QUERY 0x01u
#define VNET_OID_SET 0x02u
#define VNET_OID_COUNTER 0x04u   /* statistics counter: 64-bit, or 32-bit into a 4-byte buffer */

struct vnet_oid_info {
	uint32_t oid;
	uint8_t flags;
	uint16_t query_len;  /* fixed query result size; 0 = variable, decided by the handler */
	uint16_t set_len;    /* minimum set buffer; 0 = variable, validated by the handler */
};

/* Result of the checks, mapped to NDIS_STATUS_* by the glue. */
enum vnet_oid_status {
	VNET_OID_OK = 0,
	VNET_OID_NOT_SUPPORTED,  /* unknown OID, or a set on a query-only OID (or vice versa) */
	VNET_OID_INVALID_LENGTH, /* set buffer too small: BytesNeeded says how much */
	VNET_OID_BUFFER_TOO_SHORT, /* query buffer too small: BytesNeeded says how much */
	VNET_OID_INVALID_DATA,   /* malformed contents */
};

/* The table, in the order OID_GEN_SUPPORTED_LIST reports it. */
extern const struct vnet_oid_info vnet_oid_table[];
extern const size_t vnet_oid_count;

const struct vnet_oid_info *vnet_oid_lookup(uint32_t oid);

/*
 * Pre-check a request against the table: OID known, operation allowed, buffer at least the
 * fixed size. On VNET_OID_INVALID_LENGTH / _BUFFER_TOO_SHORT *bytes_needed is set.
 */
enum vnet_oid_status vnet_oid_check(uint32_t oid, bool set, uint32_t buf_len,
									uint32_t *bytes_needed);

/*
 * Answer a query with src_len bytes: copies them when buf_len suffices (*written = src_len),
 * else VNET_OID_BUFFER_TOO_SHORT with *needed = src_len and nothing written.
 */
enum vnet_oid_status vnet_oid_answer(const void *src, uint32_t src_len, void *buf,
									 uint32_t buf_len, uint32_t *written, uint32_t *needed);

/* Statistics counters: 8 bytes when there is room, else the low 32 bits into 4 bytes; BytesNeeded
 * is always 8 so that the caller learns the full size. */
enum vnet_oid_status vnet_oid_answer_counter(uint64_t value, void *buf, uint32_t buf_len,
											 uint32_t *written, uint32_t *needed);

/*
 * Check the NDIS_OBJECT_HEADER at the start of a set buffer (Type, Revision, Size bytes):
 * type must match, revision at least min_rev, Size at least min_size and within buf_len.
 */
enum vnet_oid_status vnet_oid_check_header(const void *buf, uint32_t buf_len, uint8_t type,
										   uint8_t min_rev, uint16_t min_size);

/* ------------------------------------------------------------------------------------------
 * Task offload configuration: INF keywords (*TCPChecksumOffloadIPv4 = 0 off, 1 Tx, 2 Rx, 3 both;
 * *LsoV2IPv4 = 0/1), OID_TCP_OFFLOAD_PARAMETERS values, and the device's capabilities.
 */
struct vnet_offload_cfg {
	bool tx_ip4, rx_ip4;     /* IPv4 header checksum (done in software: virtio has none) */
	bool tx_tcp4, rx_tcp4, tx_udp4, rx_udp4;
	bool tx_tcp6, rx_tcp6, tx_udp6, rx_udp6;
	bool lso4, lso6;         /* LSOv2 */
	bool rsc4, rsc6;         /* receive segment coalescing (*RscIPv4, *RscIPv6; GUEST_TSO4/6) */
};

/* NDIS_OFFLOAD_PARAMETERS_* values (ntddndis.h). */
#define VNET_OFFLOAD_NO_CHANGE 0u
#define VNET_OFFLOAD_TX_RX_DISABLED 1u
#define VNET_OFFLOAD_TX_ENABLED_RX_DISABLED 2u
#define VNET_OFFLOAD_RX_ENABLED_TX_DISABLED 3u
#define VNET_OFFLOAD_TX_RX_ENABLED 4u
#define VNET_OFFLOAD_LSOV2_DISABLED 1u
#define VNET_OFFLOAD_LSOV2_ENABLED 2u
#define VNET_OFFLOAD_RSC_DISABLED 1u
#define VNET_OFFLOAD_RSC_ENABLED 2u

/* What the negotiated features (bit n = VIRTIO_NET_F_n) allow. */
void vnet_offload_caps(uint64_t features, struct vnet_offload_cfg *caps);
/* Checksum keyword value 0..3 (out-of-range values select the default, both). */
void vnet_offload_keyword(uint32_t value, bool *tx, bool *rx);
/* One OID_TCP_OFFLOAD_PARAMETERS checksum field; VNET_OID_INVALID_DATA for unknown values. */
enum vnet_oid_status vnet_offload_apply_csum(uint8_t value, bool *tx, bool *rx);
/* One LSOv2 field. */
enum vnet_oid_status vnet_offload_apply_lso(uint8_t value, bool *enabled);
/* One RscIPv4/RscIPv6 field. */
enum vnet_oid_status vnet_offload_apply_rsc(uint8_t value, bool *enabled);
/* cfg &= caps, field by field. */
void vnet_offload_mask(struct vnet_offload_cfg *cfg, const struct vnet_offload_cfg *caps);

#endif /* OPENVDP_VNET_OID_H */
