/*
 * vnet_parse: bounds-checked Ethernet/VLAN/IPv4/IPv6/TCP/UDP header parsing shared by the
 * transmit (offload header), receive (checksum flags) and RSS paths. No Windows headers.
 */
#ifndef OPENVDP_VNET_PARSE_H
#define OPENVDP_VNET_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes of the vnet_* functions; 0 is success. */
enum vnet_status {
	VNET_OK = 0,
	VNET_ERR_SHORT = -1,       /* data ends before a header or length field says it should */
	VNET_ERR_MALFORMED = -2,   /* a header field is impossible (bad version, length, offset) */
	VNET_ERR_UNSUPPORTED = -3, /* well-formed but not offloadable (protocol, feature not negotiated) */
	VNET_ERR_TOO_LONG = -4,    /* frame larger than allowed */
	VNET_ERR_DEVICE = -5,      /* the device reported something it cannot have done */
	VNET_ERR_INVAL = -6        /* bad argument from the caller */
};

const char *vnet_strerror(int status);

#define VNET_ETH_HLEN 14u
#define VNET_VLAN_HLEN 4u
#define VNET_ETHERTYPE_IPV4 0x0800u
#define VNET_ETHERTYPE_IPV6 0x86DDu
#define VNET_ETHERTYPE_VLAN 0x8100u
#define VNET_ETHERTYPE_QINQ 0x88A8u
#define VNET_IPPROTO_TCP 6u
#define VNET_IPPROTO_UDP 17u
#define VNET_TCP_CSUM_OFFSET 16u
#define VNET_UDP_CSUM_OFFSET 6u
#define VNET_TCP_FLAG_CWR 0x80u

/* At most two VLAN tags (802.1ad outer + 802.1Q inner) and eight IPv6 extension headers. */
#define VNET_MAX_VLAN_TAGS 2u
#define VNET_MAX_IPV6_EXT_HDRS 8u
/* Largest frame an IP datagram can produce: 64 KiB IPv6 payload + fixed header + 2 tags. */
#define VNET_MAX_FRAME_LEN (0xFFFFu + 40u + VNET_ETH_HLEN + VNET_MAX_VLAN_TAGS * VNET_VLAN_HLEN)

struct vnet_frame_info {
	uint16_t ethertype;   /* after VLAN tags */
	uint8_t vlan_tags;
	uint8_t ip_version;   /* 4, 6 or 0 (not IP) */
	uint16_t l3_offset;   /* start of the IP header */
	uint16_t l3_len;      /* IP header length including IPv6 extension headers */
	uint32_t ip_end;      /* end of the IP datagram (total/payload length), <= frame length */
	uint8_t l4_proto;     /* transport protocol, valid when ip_version != 0 */
	bool fragment;        /* any IP fragment: the transport header cannot be trusted */
	bool has_l4;          /* l4_offset/l4_len describe a complete TCP or UDP header */
	uint16_t l4_offset;
	uint16_t l4_len;      /* TCP header length with options, or 8 for UDP */
};

/*
 * Parse the headers at the start of an Ethernet frame. Non-IP frames are not an error
 * (ip_version = 0). IP frames whose headers are truncated or contradictory are reported as
 * VNET_ERR_SHORT / VNET_ERR_MALFORMED; a TCP/UDP header is only reported when complete.
 */
int vnet_parse_frame(const uint8_t *frame, size_t len, struct vnet_frame_info *info);

/*
 * The same, when only the first `cap` bytes of a frame of `len` bytes are at hand (receive
 * chains): headers must lie within `cap`, length fields are checked against `len`.
 */
int vnet_parse_frame_head(const uint8_t *frame, size_t cap, size_t len,
						  struct vnet_frame_info *info);

/* RFC 1071 ones-complement sum, folded, not inverted; used for IPv4 header checks. */
uint16_t vnet_csum_fold(const uint8_t *data, size_t len);

static inline uint16_t vnet_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

#endif /* OPENVDP_VNET_PARSE_H */
