/* See bench_frame.h. */
#include "bench_frame.h"

#include <string.h>

void bench_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t bench_udp_frame(uint8_t *f, const struct bench_addrs *a, unsigned dport, unsigned payload,
		       uint32_t seq)
{
	size_t len = 14 + 20 + 8 + payload;

	memcpy(f, a->peer_mac, 6);
	memcpy(f + 6, a->self_mac, 6);
	bench_put16(f + 12, 0x0800);
	f[14] = 0x45;
	f[15] = 0;
	bench_put16(f + 16, 20 + 8 + payload);
	bench_put16(f + 18, seq & 0xffff);
	bench_put16(f + 20, 0x4000); /* DF */
	f[22] = 64;
	f[23] = 17;
	bench_put16(f + 24, 0);
	memcpy(f + 26, a->self_ip, 4);
	memcpy(f + 30, a->peer_ip, 4);
	bench_put16(f + 24, ip_csum(f + 14, 20));
	bench_put16(f + 34, BENCH_SRC_PORT);
	bench_put16(f + 36, dport);
	bench_put16(f + 38, 8 + payload);
	bench_put16(f + 40, 0);
	for (unsigned i = 0; i < payload; i++)
		f[42 + i] = (uint8_t)(seq + i);
	if (len < 60) {
		memset(f + len, 0, 60 - len);
		len = 60;
	}
	return len;
}

size_t bench_arp_frame(uint8_t *f, const struct bench_addrs *a, bool reply, const uint8_t *to_mac,
		       const uint8_t *to_ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memset(f, 0, 60);
	memcpy(f, reply ? to_mac : bcast, 6);
	memcpy(f + 6, a->self_mac, 6);
	bench_put16(f + 12, 0x0806);
	bench_put16(f + 14, 1);
	bench_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	bench_put16(f + 20, reply ? 2 : 1);
	memcpy(f + 22, a->self_mac, 6);
	memcpy(f + 28, a->self_ip, 4);
	if (reply)
		memcpy(f + 32, to_mac, 6);
	memcpy(f + 38, to_ip, 4);
	return 60;
}

bool bench_is_arp(const uint8_t *f, size_t len, unsigned op)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == op;
}
