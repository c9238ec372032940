/* What a virtio-net device does with the offloads a driver asks for:
 * parse a frame, finish a partial checksum, cut a TCP GSO frame into
 * segments, and check a driver's virtio-net header against its frame.
 * Pure functions on byte buffers, so cmocka tests can feed them known and
 * hostile frames (tests/vswitch/test_vsw_offload.c). */
#ifndef VSW_OFFLOAD_H
#define VSW_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSW_HDR_F_NEEDS_CSUM 1u
#define VSW_HDR_F_DATA_VALID 2u
#define VSW_GSO_NONE  0u
#define VSW_GSO_TCPV4 1u
#define VSW_GSO_UDP   3u
#define VSW_GSO_TCPV6 4u
#define VSW_GSO_ECN   0x80u

/* Largest frame a driver may hand over: 64 KiB of IP datagram plus link header. */
#define VSW_FRAME_MAX (65535u + 14u + 64u)

/* struct virtio_net_hdr, in host byte order. */
struct vsw_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};

/* The headers of one Ethernet frame. l3 is 4, 6 or 0 (not IP); l4 is the
 * IP protocol (6 TCP, 17 UDP, ...) or 0 when there is no L4 header to
 * check (fragment, unknown extension). ip_end: end of the IP datagram as
 * its length field says (the rest of the frame is link padding). */
struct vsw_pkt {
	unsigned l3, l4;
	size_t l3_off, l4_off, l4_hlen, ip_end;
};

/* Parses the frame; returns false with a reason in err when a header is
 * truncated or inconsistent. Non-IP frames parse fine (l3 = 0). */
bool vsw_parse(const uint8_t *f, size_t len, struct vsw_pkt *p, char *err, size_t errlen);

/* Internet checksum helpers (big-endian 16-bit words). */
uint32_t vsw_sum(const uint8_t *p, size_t n, uint32_t s);
uint16_t vsw_fold(uint32_t s);
/* Pseudo-header sum of the IP header at ip (version 4 or 6) for an L4 length. */
uint32_t vsw_pseudo(const uint8_t *ip, unsigned l3, unsigned proto, size_t l4len);

/* NEEDS_CSUM: the one's complement sum from start to the end of the frame,
 * stored at start + offset, as the spec says a device does. */
bool vsw_complete_csum(uint8_t *f, size_t len, unsigned start, unsigned offset, char *err,
		       size_t errlen);

/* Segments a TCP GSO frame (gso_type TCPV4/TCPV6) into frames of at most
 * gso_size payload bytes with complete IP and TCP checksums, the way a NIC
 * with TSO does. emit is called once per segment (buffer valid during the
 * call). Returns the segment count, or -1 with a reason in err. */
typedef void vsw_emit_fn(void *ctx, const uint8_t *f, size_t len);
int vsw_segment(const uint8_t *f, size_t len, const struct vsw_hdr *h, vsw_emit_fn *emit,
		void *ctx, char *err, size_t errlen);

/* Checks a frame as it goes on the wire: IPv4 header checksum, IP length
 * fields, and the TCP/UDP/ICMP checksum. Returns false with a reason. */
bool vsw_check_wire(const uint8_t *f, size_t len, char *err, size_t errlen);

/* Checks the header a driver sent with a frame against the frame and the
 * features it negotiated (virtio feature bits). Returns false with a reason. */
bool vsw_check_hdr(const struct vsw_hdr *h, const uint8_t *f, size_t len, uint64_t features,
		   char *err, size_t errlen);

/* Does the frame's L4 checksum verify as it is (for DATA_VALID)? */
bool vsw_l4_csum_ok(const uint8_t *f, size_t len);

#endif
