/* Frames of the network benchmark, built by one function for both sides
 * (vdphost's net_bench.c behind the driver, vdpnetbench for Linux's
 * baseline), so both measure exactly the same traffic. */
#ifndef BENCH_FRAME_H
#define BENCH_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_PORT 9000     /* benchmark UDP port on both sides */
#define BENCH_SRC_PORT 9001

struct bench_addrs {
	uint8_t self_mac[6], peer_mac[6];
	uint8_t self_ip[4], peer_ip[4];
};

void bench_put16(uint8_t *p, unsigned v);
/* Ethernet + IPv4 (DF, header checksum) + UDP without checksum (legal for
 * IPv4) from self to peer, payload bytes seq+i, padded to 60 bytes;
 * returns the frame length. f must hold 60 or 42 + payload bytes. */
size_t bench_udp_frame(uint8_t *f, const struct bench_addrs *a, unsigned dport, unsigned payload,
		       uint32_t seq);
/* ARP request for to_ip (broadcast) or reply to to_mac/to_ip; 60 bytes. */
size_t bench_arp_frame(uint8_t *f, const struct bench_addrs *a, bool reply, const uint8_t *to_mac,
		       const uint8_t *to_ip);
/* An ARP frame of operation op (1 request, 2 reply). */
bool bench_is_arp(const uint8_t *f, size_t len, unsigned op);

#endif
