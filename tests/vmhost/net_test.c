/* The network test: drives an NDIS miniport the way NDIS and TCP/IP would,
 * against Linux's own stack on a second NIC on the same QEMU hub. The test
 * builds every frame itself (ARP, ICMP, UDP, a minimal TCP client) and
 * checks every frame it gets back. */
#define _GNU_SOURCE
#include "net_test.h"
#include "nt_ndis.h"
#include "vmhost.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH_HLEN 14
#define IP_HLEN 20
#define TCP_HLEN 20
#define UDP_HLEN 8
#define FRAME_MAX 1514

static const uint8_t my_ip[4] = { 192, 168, 77, 2 };
static const uint8_t peer_ip[4] = { 192, 168, 77, 1 };
/* IPv6 (LSO over IPv6): the vhost-user guest test puts fd77::1 on Linux's
 * side; the test resolves nothing (Linux's MAC comes from ARP) and answers
 * Linux's neighbour solicitations for fd77::2. */
static const uint8_t my_ip6[16] = { 0xfd, 0x77, [15] = 2 };
static const uint8_t peer_ip6[16] = { 0xfd, 0x77, [15] = 1 };
#define IP6_HLEN 40
static uint8_t my_mac[6], peer_mac[6];
static const char *svc;
static int failures;
static unsigned long frames_checked, frames_other;

#define OK(...) do { printf("ok - %s: ", svc); printf(__VA_ARGS__); printf("\n"); } while (0)
#define FAIL(...) do { printf("not ok - %s: ", svc); printf(__VA_ARGS__); printf("\n"); failures++; } while (0)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += get16(p);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint32_t s = sum16(ip + 12, 8, 0);
	return s + proto + (uint32_t)l4len;
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

static void ip_hdr(uint8_t *ip, uint8_t proto, size_t l4len, uint16_t id)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HLEN + l4len));
	put16(ip + 4, id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, peer_ip, 4);
	put16(ip + 10, fold(sum16(ip, IP_HLEN, 0)));
}

static bool send_frame(const uint8_t *f, size_t len, uint64_t csum_info, const char *what)
{
	uint32_t st = nd_send(f, len, csum_info, 0, 5000);

	if (st != ND_STATUS_SUCCESS) {
		FAIL("send %s (%zu bytes): status %#x", what, len, st);
		return false;
	}
	return true;
}

static void answer_arp(const uint8_t *f, size_t len)
{
	uint8_t r[60];
	const uint8_t *a = f + ETH_HLEN;

	if (len < ETH_HLEN + 28 || get16(a + 6) != 1 || memcmp(a + 24, my_ip, 4))
		return;
	memset(r, 0, sizeof(r));
	eth(r, f + 6, 0x0806);
	put16(r + 14, 1);
	put16(r + 16, 0x0800);
	r[18] = 6;
	r[19] = 4;
	put16(r + 20, 2);
	memcpy(r + 22, my_mac, 6);
	memcpy(r + 28, my_ip, 4);
	memcpy(r + 32, a + 8, 10);
	send_frame(r, sizeof(r), 0, "ARP reply");
}

/* IPv6 neighbour discovery, just enough for the LSO test over IPv6: a
 * Neighbor Solicitation/Advertisement (RFC 4861, 4.3/4.4) of 32 bytes with
 * a link-layer address option. */
static void nd_frame(uint8_t *r, const uint8_t *dst_mac, const uint8_t *dst_ip, uint8_t type,
		     uint8_t flags, const uint8_t *target)
{
	uint8_t *ip = r + ETH_HLEN, *m = ip + IP6_HLEN;

	eth(r, dst_mac, 0x86dd);
	memset(ip, 0, IP6_HLEN + 32);
	ip[0] = 0x60;
	put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, my_ip6, 16);
	memcpy(ip + 24, dst_ip, 16);
	m[0] = type;
	m[4] = flags;
	memcpy(m + 8, target, 16);
	m[24] = type == 135 ? 1 : 2; /* source / target link-layer address */
	m[25] = 1;
	memcpy(m + 26, my_mac, 6);
	put16(m + 2, fold(sum16(m, 32, sum16(ip + 8, 32, 0) + 58 + 32)));
}

static void answer_ns(const uint8_t *f, size_t len)
{
	static const uint8_t unspec[16];
	const uint8_t *ip = f + ETH_HLEN;
	uint8_t r[ETH_HLEN + IP6_HLEN + 32];

	if (len < ETH_HLEN + IP6_HLEN + 24 || ip[6] != 58 || ip[IP6_HLEN] != 135 ||
	    memcmp(ip + IP6_HLEN + 8, my_ip6, 16) || !memcmp(ip + 8, unspec, 16))
		return;
	nd_frame(r, f + 6, ip + 8, 136, 0x60 /* Solicited, Override */, my_ip6);
	send_frame(r, sizeof(r), 0, "IPv6 Neighbor Advertisement");
}

/* Checks a received IPv4 frame's header and L4 checksums; the miniport's
 * receive checksum info may vouch for an L4 checksum the device left partial. */
static bool check_ipv4(const uint8_t *f, size_t len, uint64_t info, const char *what)
{
	const uint8_t *ip = f + ETH_HLEN;
	size_t tot, l4;
	uint8_t proto;

	if (len < ETH_HLEN + IP_HLEN || ip[0] != 0x45) {
		FAIL("%s: not a plain IPv4 frame", what);
		return false;
	}
	tot = get16(ip + 2);
	if (tot < IP_HLEN || tot > len - ETH_HLEN) {
		FAIL("%s: IP total length %zu, frame %zu", what, tot, len);
		return false;
	}
	if (fold(sum16(ip, IP_HLEN, 0)) != 0) {
		FAIL("%s: bad IPv4 header checksum", what);
		return false;
	}
	proto = ip[9];
	l4 = tot - IP_HLEN;
	if (proto == 6 || proto == 17) {
		bool good = fold(sum16(ip + IP_HLEN, l4, pseudo(ip, proto, l4))) == 0;
		bool vouched = proto == 6 ? (info >> 3) & 1 : (info >> 4) & 1;
		bool failed = proto == 6 ? info & 1 : (info >> 1) & 1;
		if (proto == 17 && get16(ip + IP_HLEN + 6) == 0)
			good = true; /* UDP without checksum */
		if (failed && good) {
			FAIL("%s: miniport reports a checksum failure on a correct frame", what);
			return false;
		}
		if (!good && !vouched) {
			FAIL("%s: bad %s checksum (receive info %#llx)", what, proto == 6 ? "TCP" : "UDP",
			     (unsigned long long)info);
			return false;
		}
	} else if (proto == 1 && fold(sum16(ip + IP_HLEN, l4, 0)) != 0) {
		FAIL("%s: bad ICMP checksum", what);
		return false;
	}
	frames_checked++;
	return true;
}

/* The same for an IPv6 frame without extension headers. */
static bool check_ipv6(const uint8_t *f, size_t len, uint64_t info, const char *what)
{
	const uint8_t *ip = f + ETH_HLEN;
	size_t pl;

	if (len < ETH_HLEN + IP6_HLEN || ip[0] >> 4 != 6) {
		FAIL("%s: not an IPv6 frame", what);
		return false;
	}
	pl = get16(ip + 4);
	if (pl > len - ETH_HLEN - IP6_HLEN) {
		FAIL("%s: IPv6 payload length %zu, frame %zu", what, pl, len);
		return false;
	}
	if (ip[6] == 6 || ip[6] == 17) {
		bool good = fold(sum16(ip + IP6_HLEN, pl, sum16(ip + 8, 32, 0) + ip[6] + (uint32_t)pl)) == 0;
		bool vouched = ip[6] == 6 ? (info >> 3) & 1 : (info >> 4) & 1;
		bool failed = ip[6] == 6 ? info & 1 : (info >> 1) & 1;
		if (failed && good) {
			FAIL("%s: miniport reports a checksum failure on a correct frame", what);
			return false;
		}
		if (!good && !vouched) {
			FAIL("%s: bad %s checksum over IPv6 (receive info %#llx)", what,
			     ip[6] == 6 ? "TCP" : "UDP", (unsigned long long)info);
			return false;
		}
	}
	frames_checked++;
	return true;
}

typedef bool match_fn(const uint8_t *f, size_t len, void *arg);

/* Next frame that matches; answers ARP for our address meanwhile. */
static size_t wait_for(match_fn *m, void *arg, uint8_t *buf, uint64_t *info, unsigned ms)
{
	uint64_t end = vh_now_ns() + (uint64_t)ms * 1000000;

	for (;;) {
		uint64_t now = vh_now_ns();
		uint64_t ci = 0;
		size_t n;

		if (now >= end)
			return 0;
		n = nd_recv(buf, FRAME_MAX + 64, &ci, (unsigned)((end - now) / 1000000) + 1);
		if (!n)
			continue;
		if (n < ETH_HLEN || n > FRAME_MAX + 4) {
			FAIL("received a %zu-byte frame", n);
			continue;
		}
		if (memcmp(buf, my_mac, 6) && !(buf[0] & 1)) {
			FAIL("received a frame for %02x:%02x:%02x:%02x:%02x:%02x, not our MAC, with "
			     "a directed packet filter", buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]);
			continue;
		}
		if (get16(buf + 12) == 0x0806)
			answer_arp(buf, n);
		if (get16(buf + 12) == 0x86dd)
			answer_ns(buf, n);
		if (m(buf, n, arg)) {
			if (info)
				*info = ci;
			return n;
		}
		frames_other++;
	}
}

/* ------------------------------------------------------------ OIDs */

static void test_oids(void)
{
	uint8_t mac[8];
	uint32_t v, done = 0, need = 0, st;
	uint8_t ls[0x28];

	st = nd_oid(false, ND_OID_802_3_CURRENT_ADDRESS, mac, 6, &done, &need);
	if (st == ND_STATUS_SUCCESS && done == 6 && !memcmp(mac, my_mac, 6))
		OK("OID_802_3_CURRENT_ADDRESS matches the general attributes");
	else
		FAIL("OID_802_3_CURRENT_ADDRESS: status %#x, %u bytes", st, done);
	st = nd_oid(false, ND_OID_802_3_PERMANENT_ADDRESS, mac, 2, &done, &need);
	if (st != ND_STATUS_SUCCESS && need == 6)
		OK("OID_802_3_PERMANENT_ADDRESS with a 2-byte buffer: %#x, BytesNeeded 6", st);
	else
		FAIL("OID_802_3_PERMANENT_ADDRESS with a 2-byte buffer: status %#x, needed %u", st, need);
	st = nd_oid(false, ND_OID_GEN_MAXIMUM_FRAME_SIZE, &v, 4, &done, &need);
	if (st == ND_STATUS_SUCCESS && done == 4 && v >= 576 && v <= 65535)
		OK("OID_GEN_MAXIMUM_FRAME_SIZE %u", v);
	else
		FAIL("OID_GEN_MAXIMUM_FRAME_SIZE: status %#x value %u", st, v);
	st = nd_oid(false, ND_OID_GEN_MEDIA_CONNECT_STATUS, &v, 4, &done, &need);
	if (st == ND_STATUS_SUCCESS && done == 4 && v == 0)
		OK("OID_GEN_MEDIA_CONNECT_STATUS: connected");
	else
		FAIL("OID_GEN_MEDIA_CONNECT_STATUS: status %#x value %u", st, v);
	memset(ls, 0, sizeof(ls));
	st = nd_oid(false, ND_OID_GEN_LINK_STATE, ls, sizeof(ls), &done, &need);
	if (st == ND_STATUS_SUCCESS && done >= 0x28 && ls[0] == 0x80 && ls[4] == 1)
		OK("OID_GEN_LINK_STATE: connected");
	else
		FAIL("OID_GEN_LINK_STATE: status %#x, %u bytes, state %u", st, done, ls[4]);
	v = 0x12345678;
	st = nd_oid(false, 0x0101ffffu, &v, 4, &done, &need);
	if (st != ND_STATUS_SUCCESS && st != ND_STATUS_PENDING)
		OK("unknown OID refused with %#x", st);
	else
		FAIL("unknown OID 0x0101ffff answered with %#x", st);
	v = ND_PACKET_TYPE_DIRECTED | ND_PACKET_TYPE_BROADCAST | ND_PACKET_TYPE_MULTICAST;
	st = nd_oid(true, ND_OID_GEN_CURRENT_PACKET_FILTER, &v, 4, &done, &need);
	if (st == ND_STATUS_SUCCESS) {
		v = 0;
		st = nd_oid(false, ND_OID_GEN_CURRENT_PACKET_FILTER, &v, 4, &done, &need);
	}
	if (st == ND_STATUS_SUCCESS && v == (ND_PACKET_TYPE_DIRECTED | ND_PACKET_TYPE_BROADCAST |
					     ND_PACKET_TYPE_MULTICAST))
		OK("OID_GEN_CURRENT_PACKET_FILTER set and read back (%#x)", v);
	else
		FAIL("OID_GEN_CURRENT_PACKET_FILTER: status %#x value %#x", st, v);
}

static void test_stats(unsigned long sent, unsigned long received)
{
	uint8_t s[0x98];
	uint64_t out_ucast, in_ucast, xmit_ok = 0;
	uint32_t done = 0, need = 0, st;

	memset(s, 0, sizeof(s));
	st = nd_oid(false, ND_OID_GEN_STATISTICS, s, sizeof(s), &done, &need);
	memcpy(&in_ucast, s + 0x20, 8);
	memcpy(&out_ucast, s + 0x40, 8);
	if (st == ND_STATUS_SUCCESS && done == sizeof(s) && s[0] == 0x80 && out_ucast + 4 >= sent &&
	    in_ucast > 0)
		OK("OID_GEN_STATISTICS: %llu unicast frames out, %llu in",
		   (unsigned long long)out_ucast, (unsigned long long)in_ucast);
	else
		FAIL("OID_GEN_STATISTICS: status %#x, %u bytes, out %llu (sent %lu), in %llu", st, done,
		     (unsigned long long)out_ucast, sent, (unsigned long long)in_ucast);
	st = nd_oid(false, ND_OID_GEN_XMIT_OK, &xmit_ok, 8, &done, &need);
	if (st == ND_STATUS_SUCCESS && (done == 4 || done == 8) && xmit_ok >= sent)
		OK("OID_GEN_XMIT_OK %llu (%lu sent)", (unsigned long long)xmit_ok, sent);
	else
		FAIL("OID_GEN_XMIT_OK: status %#x value %llu, %lu sent", st,
		     (unsigned long long)xmit_ok, sent);
	(void)received;
}

/* ------------------------------------------------------------ ARP, ICMP, UDP */

static bool is_arp_reply(const uint8_t *f, size_t len, void *arg)
{
	(void)arg;
	return len >= ETH_HLEN + 28 && get16(f + 12) == 0x0806 && get16(f + 20) == 2 &&
	       !memcmp(f + 28, peer_ip, 4) && !memcmp(f + 38, my_ip, 4);
}

static bool test_arp(void)
{
	uint8_t f[60], r[FRAME_MAX + 64];
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memset(f, 0, sizeof(f));
	eth(f, bcast, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, my_mac, 6);
	memcpy(f + 28, my_ip, 4);
	memcpy(f + 38, peer_ip, 4);
	for (int tries = 0; tries < 3; tries++) {
		if (!send_frame(f, sizeof(f), 0, "ARP who-has"))
			return false;
		if (wait_for(is_arp_reply, NULL, r, NULL, 3000)) {
			memcpy(peer_mac, r + 22, 6);
			OK("ARP: 192.168.77.1 is at %02x:%02x:%02x:%02x:%02x:%02x", peer_mac[0],
			   peer_mac[1], peer_mac[2], peer_mac[3], peer_mac[4], peer_mac[5]);
			return true;
		}
	}
	FAIL("ARP: no reply from 192.168.77.1");
	return false;
}

struct icmp_match {
	uint16_t id, seq;
};

static bool is_echo_reply(const uint8_t *f, size_t len, void *arg)
{
	struct icmp_match *m = arg;
	const uint8_t *ip = f + ETH_HLEN;

	return len >= ETH_HLEN + IP_HLEN + 8 && get16(f + 12) == 0x0800 && ip[9] == 1 &&
	       !memcmp(ip + 12, peer_ip, 4) && ip[IP_HLEN] == 0 && get16(ip + IP_HLEN + 4) == m->id &&
	       get16(ip + IP_HLEN + 6) == m->seq;
}

static size_t echo_frame(uint8_t *f, uint16_t seq, size_t payload);

static bool ping(uint16_t seq, size_t payload, const char *label)
{
	uint8_t f[FRAME_MAX], r[FRAME_MAX + 64];
	uint8_t *icmp = f + ETH_HLEN + IP_HLEN;
	struct icmp_match m = { 0x5644, seq };
	uint64_t info;
	size_t len = echo_frame(f, seq, payload), n;

	if (!send_frame(f, len, 0, "ICMP echo"))
		return false;
	n = wait_for(is_echo_reply, &m, r, &info, 3000);
	if (!n) {
		FAIL("%s: no ICMP echo reply (seq %u, %zu bytes)", label, seq, payload);
		return false;
	}
	if (!check_ipv4(r, n, info, label))
		return false;
	if (n < len || memcmp(r + ETH_HLEN + IP_HLEN + 8, icmp + 8, payload)) {
		FAIL("%s: echo reply payload differs (%zu bytes back)", label, n);
		return false;
	}
	return true;
}

/* Builds an ICMP echo request frame; returns its length. */
static size_t echo_frame(uint8_t *f, uint16_t seq, size_t payload)
{
	uint8_t *ip = f + ETH_HLEN, *icmp = ip + IP_HLEN;

	eth(f, peer_mac, 0x0800);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x5644);
	put16(icmp + 6, seq);
	for (size_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + seq);
	put16(icmp + 2, fold(sum16(icmp, 8 + payload, 0)));
	ip_hdr(ip, 1, 8 + payload, (uint16_t)(0x1000 + seq));
	return ETH_HLEN + IP_HLEN + 8 + payload;
}

struct batch_match {
	uint16_t first, count;
};

static bool is_batch_reply(const uint8_t *f, size_t len, void *arg)
{
	struct batch_match *m = arg;
	const uint8_t *ip = f + ETH_HLEN;
	uint16_t seq;

	if (len < ETH_HLEN + IP_HLEN + 8 || get16(f + 12) != 0x0800 || ip[9] != 1 ||
	    ip[IP_HLEN] != 0 || get16(ip + IP_HLEN + 4) != 0x5644)
		return false;
	seq = get16(ip + IP_HLEN + 6);
	return seq >= m->first && seq < m->first + m->count;
}

/* What NDIS protocols really do: several NBLs chained in one send call,
 * several NET_BUFFERs per NBL, data spread over MDLs at a DataOffset. */
static void test_batch(void)
{
	enum { NBLS = 3, NBS = 2, N = NBLS * NBS };
	static uint8_t frames[N][FRAME_MAX];
	const uint8_t *fp[N];
	size_t lens[N];
	struct batch_match m = { 200, N };
	uint8_t r[FRAME_MAX + 64], seen[N] = { 0 };
	unsigned got = 0;
	uint64_t info;
	uint32_t st;

	for (unsigned i = 0; i < N; i++) {
		lens[i] = echo_frame(frames[i], (uint16_t)(m.first + i), 100 + 200 * i);
		fp[i] = frames[i];
	}
	st = nd_send_chain(fp, lens, NBLS, NBS, 5000);
	if (st != ND_STATUS_SUCCESS) {
		FAIL("batched send (%u NBLs x %u NET_BUFFERs, 2 MDLs each): status %#x", NBLS, NBS, st);
		return;
	}
	while (got < N) {
		size_t n = wait_for(is_batch_reply, &m, r, &info, 3000);
		unsigned i;
		if (!n)
			break;
		i = get16(r + ETH_HLEN + IP_HLEN + 6) - m.first;
		if (!check_ipv4(r, n, info, "batched echo reply") || seen[i] || n < lens[i] ||
		    memcmp(r + ETH_HLEN + IP_HLEN + 8, frames[i] + ETH_HLEN + IP_HLEN + 8,
			   lens[i] - ETH_HLEN - IP_HLEN - 8)) {
			FAIL("batched send: reply %u wrong or duplicated", i);
			return;
		}
		seen[i] = 1;
		got++;
	}
	if (got == N)
		OK("batched send: %u NBLs x %u NET_BUFFERs in one call, data over 2 MDLs at offset 8; "
		   "all %u echoes intact", NBLS, NBS, N);
	else
		FAIL("batched send: %u of %u echo replies", got, N);
}

/* With the packet filter cleared nothing may be indicated; restored, the
 * traffic flows again. */
static void test_filter(void)
{
	uint8_t f[FRAME_MAX], r[FRAME_MAX + 64];
	uint32_t v = 0, done, need, st;
	struct batch_match m = { 300, 1 };
	size_t n;

	st = nd_oid(true, ND_OID_GEN_CURRENT_PACKET_FILTER, &v, 4, &done, &need);
	if (st != ND_STATUS_SUCCESS) {
		FAIL("packet filter 0: status %#x", st);
		return;
	}
	n = echo_frame(f, m.first, 64);
	send_frame(f, n, 0, "ICMP echo, filter 0");
	n = wait_for(is_batch_reply, &m, r, NULL, 1500);
	v = ND_PACKET_TYPE_DIRECTED | ND_PACKET_TYPE_BROADCAST | ND_PACKET_TYPE_MULTICAST;
	st = nd_oid(true, ND_OID_GEN_CURRENT_PACKET_FILTER, &v, 4, &done, &need);
	if (n)
		FAIL("packet filter 0: the echo reply was still indicated");
	else if (st != ND_STATUS_SUCCESS)
		FAIL("restoring the packet filter: status %#x", st);
	else if (ping(301, 64, "after the filter came back"))
		OK("packet filter 0 indicates nothing; restored, traffic flows again");
}

struct udp_match {
	uint16_t sport;
};

static bool is_udp_reply(const uint8_t *f, size_t len, void *arg)
{
	struct udp_match *m = arg;
	const uint8_t *ip = f + ETH_HLEN;

	return len >= ETH_HLEN + IP_HLEN + UDP_HLEN && get16(f + 12) == 0x0800 && ip[9] == 17 &&
	       !memcmp(ip + 12, peer_ip, 4) && get16(ip + IP_HLEN) == NET_ECHO_PORT &&
	       get16(ip + IP_HLEN + 2) == m->sport;
}

static void test_udp(size_t payload, int offload, const char *label)
{
	uint8_t f[FRAME_MAX], r[FRAME_MAX + 64];
	uint8_t *ip = f + ETH_HLEN, *u = ip + IP_HLEN;
	struct udp_match m = { (uint16_t)(40000 + payload) };
	uint64_t info, tx = 0;
	size_t n, len = ETH_HLEN + IP_HLEN + UDP_HLEN + payload;

	eth(f, peer_mac, 0x0800);
	put16(u, m.sport);
	put16(u + 2, NET_ECHO_PORT);
	put16(u + 4, (uint16_t)(UDP_HLEN + payload));
	put16(u + 6, 0);
	for (size_t i = 0; i < payload; i++)
		u[UDP_HLEN + i] = (uint8_t)(i ^ 0x5a);
	ip_hdr(ip, 17, UDP_HLEN + payload, (uint16_t)(0x2000 + payload));
	if (offload == 2) {
		/* IsIPv4, IpHeaderChecksum: the miniport fills in the header checksum. */
		put16(ip + 10, 0);
		tx = 1u | 1u << 4;
	}
	if (offload == 1) {
		tx = 1u | 1u << 3; /* IsIPv4, UdpChecksum */
	} else {
		uint16_t c = fold(sum16(u, UDP_HLEN + payload, pseudo(ip, 17, UDP_HLEN + payload)));
		put16(u + 6, c ? c : 0xffff);
	}
	for (int tries = 0; tries < 2; tries++) {
		if (!send_frame(f, len, tx, "UDP datagram"))
			return;
		n = wait_for(is_udp_reply, &m, r, &info, 3000);
		if (n)
			break;
	}
	if (!n) {
		FAIL("%s: no UDP echo (%zu bytes)", label, payload);
		return;
	}
	if (!check_ipv4(r, n, info, label))
		return;
	if (get16(r + ETH_HLEN + IP_HLEN + 4) != UDP_HLEN + payload ||
	    memcmp(r + ETH_HLEN + IP_HLEN + UDP_HLEN, u + UDP_HLEN, payload)) {
		FAIL("%s: UDP echo differs", label);
		return;
	}
	OK("%s: %zu-byte UDP datagram echoed intact", label, payload);
}

/* A burst of datagrams sent without taking any receive indication: the
 * miniport's receive ring runs low while the protocol holds its NBLs, which
 * is where NDIS_RECEIVE_FLAGS_RESOURCES indications come from. Every echo
 * must still arrive exactly once and intact. */
struct burst_match {
	uint16_t sport;
};

static bool is_burst(const uint8_t *f, size_t len, void *arg)
{
	struct burst_match *m = arg;
	const uint8_t *ip = f + ETH_HLEN;

	return len >= ETH_HLEN + IP_HLEN + UDP_HLEN + 4 && get16(f + 12) == 0x0800 && ip[9] == 17 &&
	       get16(ip + IP_HLEN) == NET_ECHO_PORT && get16(ip + IP_HLEN + 2) == m->sport;
}

static void test_burst(unsigned count)
{
	uint8_t f[128], r[FRAME_MAX + 64], seen[512];
	uint8_t *ip = f + ETH_HLEN, *u = ip + IP_HLEN;
	struct burst_match m = { 45000 };
	struct nd_counts before, after;
	unsigned got = 0, bad = 0;
	const size_t payload = 64;
	uint64_t info;

	if (count > sizeof(seen))
		count = sizeof(seen);
	memset(seen, 0, sizeof(seen));
	nd_counts(&before);
	for (unsigned i = 0; i < count; i++) {
		eth(f, peer_mac, 0x0800);
		put16(u, m.sport);
		put16(u + 2, NET_ECHO_PORT);
		put16(u + 4, (uint16_t)(UDP_HLEN + payload));
		put16(u + 6, 0);
		put32(u + UDP_HLEN, i);
		for (size_t j = 4; j < payload; j++)
			u[UDP_HLEN + j] = (uint8_t)(i + j);
		ip_hdr(ip, 17, UDP_HLEN + payload, (uint16_t)(0x3000 + i));
		put16(u + 6, fold(sum16(u, UDP_HLEN + payload, pseudo(ip, 17, UDP_HLEN + payload))));
		if (!send_frame(f, ETH_HLEN + IP_HLEN + UDP_HLEN + payload, 0, "UDP burst"))
			return;
	}
	while (got < count) {
		size_t n = wait_for(is_burst, &m, r, &info, 3000);
		uint32_t seq;

		if (!n)
			break;
		if (!check_ipv4(r, n, info, "UDP burst echo")) {
			bad++;
			continue;
		}
		seq = get32(r + ETH_HLEN + IP_HLEN + UDP_HLEN);
		if (seq >= count || seen[seq] || get16(r + ETH_HLEN + IP_HLEN + 4) != UDP_HLEN + payload) {
			bad++;
			continue;
		}
		for (size_t j = 4; j < payload; j++)
			if (r[ETH_HLEN + IP_HLEN + UDP_HLEN + j] != (uint8_t)(seq + j))
				bad++;
		seen[seq] = 1;
		got++;
	}
	nd_counts(&after);
	if (got == count && !bad)
		OK("UDP burst: %u datagrams sent back to back, %u echoes received intact, once each "
		   "(%lu indicated with NDIS_RECEIVE_FLAGS_RESOURCES)", count, got,
		   after.rx_resources - before.rx_resources);
	else
		FAIL("UDP burst: %u sent, %u echoes received, %u bad", count, got, bad);
}

/* ------------------------------------------------------------ TCP */

struct tcp_conn {
	uint16_t sport;
	uint32_t snd_nxt, rcv_nxt;
	int offload; /* 1: TCP checksum, 2: IPv4 header checksum by the miniport */
	bool v6;     /* over IPv6 (fd77::2 -> fd77::1), checksums by the test */
	uint8_t got[160 * 1024];
	size_t got_len;
	bool peer_fin;
	/* Data segments received, and how many the miniport vouched for
	 * (NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO.Receive.TcpChecksumSucceeded). */
	unsigned long rx_data, rx_tcp_ok;
};

static void ip6_hdr(uint8_t *ip, size_t l4len)
{
	memset(ip, 0, IP6_HLEN);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = 6;
	ip[7] = 64;
	memcpy(ip + 8, my_ip6, 16);
	memcpy(ip + 24, peer_ip6, 16);
}

static bool tcp_send(struct tcp_conn *c, uint8_t flags, const uint8_t *data, size_t dlen)
{
	uint8_t f[FRAME_MAX];
	size_t ipl = c->v6 ? IP6_HLEN : IP_HLEN;
	uint8_t *ip = f + ETH_HLEN, *t = ip + ipl;
	size_t hl = TCP_HLEN + ((flags & 0x02) ? 4 : 0), l4 = hl + dlen;
	uint64_t tx = 0;

	eth(f, peer_mac, c->v6 ? 0x86dd : 0x0800);
	memset(t, 0, hl);
	put16(t, c->sport);
	put16(t + 2, NET_ECHO_PORT);
	put32(t + 4, c->snd_nxt);
	put32(t + 8, (flags & 0x10) ? c->rcv_nxt : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (flags & 0x02) { /* MSS option */
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, c->v6 ? 1440 : 1460);
	}
	memcpy(t + hl, data, dlen);
	if (c->v6) {
		ip6_hdr(ip, l4);
		put16(t + 16, fold(sum16(t, l4, sum16(ip + 8, 32, 0) + 6 + (uint32_t)l4)));
		return send_frame(f, ETH_HLEN + IP6_HLEN + l4, 0, "TCP segment over IPv6");
	}
	ip_hdr(ip, 6, l4, (uint16_t)(c->snd_nxt & 0xffff));
	if (c->offload & 1)
		tx = 1u | 1u << 2 | (uint64_t)(ETH_HLEN + IP_HLEN) << 16; /* IsIPv4, TcpChecksum */
	else
		put16(t + 16, fold(sum16(t, l4, pseudo(ip, 6, l4))));
	if (c->offload & 2) { /* IsIPv4, IpHeaderChecksum */
		put16(ip + 10, 0);
		tx |= 1u | 1u << 4;
	}
	return send_frame(f, ETH_HLEN + IP_HLEN + l4, tx, "TCP segment");
}

static bool is_tcp(const uint8_t *f, size_t len, void *arg)
{
	struct tcp_conn *c = arg;
	const uint8_t *ip = f + ETH_HLEN;

	if (c->v6)
		return len >= ETH_HLEN + IP6_HLEN + TCP_HLEN && get16(f + 12) == 0x86dd && ip[6] == 6 &&
		       !memcmp(ip + 8, peer_ip6, 16) && get16(ip + IP6_HLEN) == NET_ECHO_PORT &&
		       get16(ip + IP6_HLEN + 2) == c->sport;
	return len >= ETH_HLEN + IP_HLEN + TCP_HLEN && get16(f + 12) == 0x0800 && ip[9] == 6 &&
	       !memcmp(ip + 12, peer_ip, 4) && get16(ip + IP_HLEN) == NET_ECHO_PORT &&
	       get16(ip + IP_HLEN + 2) == c->sport;
}

/* Takes one segment: data in order is appended and acknowledged. */
static int tcp_recv(struct tcp_conn *c, unsigned ms, uint8_t *flags_out)
{
	uint8_t r[FRAME_MAX + 64];
	uint64_t info;
	size_t n = wait_for(is_tcp, c, r, &info, ms);
	const uint8_t *ip = r + ETH_HLEN, *t;
	size_t ipl = c->v6 ? IP6_HLEN : IP_HLEN, tot, hl, dlen;
	uint32_t seq;

	if (!n)
		return 0;
	if (!(c->v6 ? check_ipv6 : check_ipv4)(r, n, info, "TCP segment"))
		return -1;
	t = ip + ipl;
	tot = c->v6 ? IP6_HLEN + get16(ip + 4) : get16(ip + 2);
	hl = (size_t)(t[12] >> 4) * 4;
	if (hl < TCP_HLEN || hl > tot - ipl) {
		FAIL("TCP: header length %zu", hl);
		return -1;
	}
	dlen = tot - ipl - hl;
	seq = get32(t + 4);
	*flags_out = t[13];
	if (t[13] & 0x04) {
		FAIL("TCP: connection reset by the peer");
		return -1;
	}
	if (t[13] & 0x02) { /* SYN-ACK */
		c->rcv_nxt = seq + 1;
		return 1;
	}
	if (dlen) {
		c->rx_data++;
		c->rx_tcp_ok += (info >> 3) & 1;
	}
	if (dlen && seq == c->rcv_nxt && c->got_len + dlen <= sizeof(c->got)) {
		memcpy(c->got + c->got_len, t + hl, dlen);
		c->got_len += dlen;
		c->rcv_nxt += (uint32_t)dlen;
	}
	if ((t[13] & 0x01) && seq + dlen == c->rcv_nxt) {
		c->rcv_nxt++;
		c->peer_fin = true;
	}
	if (dlen || (t[13] & 0x01))
		tcp_send(c, 0x10, NULL, 0);
	return 1;
}

static void test_tcp(size_t total, int offload, const char *label)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	uint8_t data[4096], fl = 0;
	uint64_t end;
	size_t sent = 0;
	int r;

	if (!c || total > sizeof(data))
		vh_fatal("test_tcp: bad size");
	c->sport = (uint16_t)(41000 + total + offload);
	c->snd_nxt = 0x1000000u * (unsigned)(offload + 1);
	c->offload = offload;
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	/* Handshake. */
	for (int tries = 0; tries < 3 && !c->rcv_nxt; tries++) {
		if (!tcp_send(c, 0x02, NULL, 0))
			goto out;
		end = vh_now_ns() + 2000000000ull;
		while (!c->rcv_nxt && vh_now_ns() < end)
			if (tcp_recv(c, 500, &fl) < 0)
				goto out;
	}
	if (!c->rcv_nxt) {
		FAIL("%s: no SYN-ACK from port %u", label, NET_ECHO_PORT);
		goto out;
	}
	c->snd_nxt++;
	tcp_send(c, 0x10, NULL, 0);
	/* Data in MSS-sized segments, then FIN; collect the echo. */
	while (sent < total) {
		size_t n = total - sent > 1400 ? 1400 : total - sent;
		if (!tcp_send(c, 0x18, data + sent, n))
			goto out;
		c->snd_nxt += (uint32_t)n;
		sent += n;
	}
	end = vh_now_ns() + 8000000000ull;
	while (c->got_len < total && vh_now_ns() < end)
		if ((r = tcp_recv(c, 500, &fl)) < 0)
			goto out;
	if (c->got_len != total || memcmp(c->got, data, total)) {
		FAIL("%s: %zu of %zu bytes echoed back%s", label, c->got_len, total,
		     c->got_len == total ? " but they differ" : "");
		goto out;
	}
	tcp_send(c, 0x11, NULL, 0);
	c->snd_nxt++;
	end = vh_now_ns() + 5000000000ull;
	while (!c->peer_fin && vh_now_ns() < end)
		if (tcp_recv(c, 500, &fl) < 0)
			goto out;
	if (!c->peer_fin) {
		FAIL("%s: the peer did not close the connection", label);
		goto out;
	}
	OK("%s: TCP handshake, %zu bytes echoed in order, FIN both ways", label, total);
out:
	free(c);
}

/* ------------------------------------------------------------ LSO and receive checksums */

/* What the miniport enabled (OID_TCP_OFFLOAD_CURRENT_CONFIG, an NDIS_OFFLOAD:
 * Checksum.IPv4Receive flags at 16, LsoV2.IPv4 at 80, LsoV2.IPv6 at 92). */
#define ND_OID_TCP_OFFLOAD_CURRENT_CONFIG 0xFC01020Bu

struct offload_cfg {
	bool rx_tcp4, rx_tcp6;
	uint32_t lso4_max, lso6_max;
};

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static bool query_offload(struct offload_cfg *c)
{
	uint8_t o[256];
	uint32_t done = 0, need = 0, st;

	memset(o, 0, sizeof(o));
	memset(c, 0, sizeof(*c));
	st = nd_oid(false, ND_OID_TCP_OFFLOAD_CURRENT_CONFIG, o, sizeof(o), &done, &need);
	if (st != ND_STATUS_SUCCESS || done < 108 || o[0] != 0xA7 /* NDIS_OBJECT_TYPE_OFFLOAD */) {
		FAIL("OID_TCP_OFFLOAD_CURRENT_CONFIG: status %#x, %u bytes, type %#x", st, done, o[0]);
		return false;
	}
	c->rx_tcp4 = ((le32(o + 16) >> 4) & 3) != 0;
	c->rx_tcp6 = ((le32(o + 32) >> 4) & 3) != 0; /* Checksum.IPv6Receive */
	if (le32(o + 80))
		c->lso4_max = le32(o + 84);
	if (le32(o + 92))
		c->lso6_max = le32(o + 96);
	return true;
}

/* One large TCP send as Windows' TCP/IP hands it to an LSOv2 miniport:
 * IPv4 total length 0, TCP checksum seeded with the pseudo-header sum
 * without the length, MSS and TCP header offset in the NBL. */
static bool tcp_send_lso(struct tcp_conn *c, const uint8_t *data, size_t dlen, unsigned mss)
{
	size_t ipl = c->v6 ? IP6_HLEN : IP_HLEN, len = ETH_HLEN + ipl + TCP_HLEN + dlen;
	uint8_t *f = malloc(len), *ip, *t;
	uint32_t ps, st;
	uint64_t lso;
	bool ok;

	if (!f)
		vh_fatal("tcp_send_lso: out of memory");
	ip = f + ETH_HLEN;
	t = ip + ipl;
	eth(f, peer_mac, c->v6 ? 0x86dd : 0x0800);
	if (c->v6) {
		ip6_hdr(ip, 0); /* payload length 0, as for IPv4's total length */
		ps = sum16(ip + 8, 32, 0) + 6;
	} else {
		ip_hdr(ip, 6, 0, (uint16_t)(c->snd_nxt & 0xffff));
		put16(ip + 2, 0);
		put16(ip + 10, 0);
		ps = sum16(ip + 12, 8, 0) + 6;
	}
	memset(t, 0, TCP_HLEN);
	put16(t, c->sport);
	put16(t + 2, NET_ECHO_PORT);
	put32(t + 4, c->snd_nxt);
	put32(t + 8, c->rcv_nxt);
	t[12] = (TCP_HLEN / 4) << 4;
	t[13] = 0x18;
	put16(t + 14, 65535);
	memcpy(t + TCP_HLEN, data, dlen);
	put16(t + 16, (uint16_t)~fold(ps));
	/* LsoV2Transmit: MSS, TcpHeaderOffset, Type V2, IPVersion. */
	lso = (uint64_t)mss | (uint64_t)(ETH_HLEN + ipl) << 20 | 1ull << 30 | (uint64_t)c->v6 << 31;
	st = nd_send(f, len, 0, lso, 5000);
	ok = st == ND_STATUS_SUCCESS;
	if (!ok)
		FAIL("send LSOv2 TCP (%zu bytes): status %#x", len, st);
	free(f);
	return ok;
}

static bool tcp_connect(struct tcp_conn *c, const char *label)
{
	uint8_t fl = 0;

	for (int tries = 0; tries < 3 && !c->rcv_nxt; tries++) {
		uint64_t end;
		if (!tcp_send(c, 0x02, NULL, 0))
			return false;
		end = vh_now_ns() + 2000000000ull;
		while (!c->rcv_nxt && vh_now_ns() < end)
			if (tcp_recv(c, 500, &fl) < 0)
				return false;
	}
	if (!c->rcv_nxt) {
		FAIL("%s: no SYN-ACK from port %u", label, NET_ECHO_PORT);
		return false;
	}
	c->snd_nxt++;
	return tcp_send(c, 0x10, NULL, 0);
}

/* LSOv2 sends of 16 and 60 KiB that Linux must receive intact; its echo
 * comes back as TSO frames that the switch segments (RSC is off until
 * test_rsc), each checked and, with GUEST_CSUM, vouched for by the miniport. */
static void test_lso(const struct offload_cfg *oc, bool v6)
{
	static const size_t sizes[] = { 16384, 60000 };
	const unsigned mss = v6 ? 1440 : 1460;
	struct tcp_conn *c = calloc(1, sizeof(*c));
	uint8_t *data = malloc(16384 + 60000), fl = 0;
	size_t total = 0;
	const char *label = v6 ? "LSOv2 IPv6" : "LSOv2 IPv4";
	uint32_t max = v6 ? oc->lso6_max : oc->lso4_max;
	bool rx_ok = v6 ? oc->rx_tcp6 : oc->rx_tcp4;

	if (!c || !data)
		vh_fatal("test_lso: out of memory");
	for (size_t i = 0; i < 16384 + 60000; i++)
		data[i] = (uint8_t)(i * 7 + i / 251 + v6);
	if (v6) {
		/* Our solicitation with its source link-layer address gives Linux a
		 * neighbour entry for us; later probes are unicast and answered. */
		static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
		static const uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1 };
		uint8_t ns[ETH_HLEN + IP6_HLEN + 32];
		nd_frame(ns, sn_mac, sn_ip, 135, 0, peer_ip6);
		send_frame(ns, sizeof(ns), 0, "IPv6 Neighbor Solicitation");
	}
	c->v6 = v6;
	c->sport = v6 ? 43100 : 43000;
	c->snd_nxt = v6 ? 0x6000000u : 0x5000000u;
	if (!tcp_connect(c, label))
		goto out;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t end;
		if (sizes[k] > max) {
			FAIL("%s: MaxOffLoadSize %u is below %zu", label, max, sizes[k]);
			goto out;
		}
		if (!tcp_send_lso(c, data + total, sizes[k], mss))
			goto out;
		c->snd_nxt += (uint32_t)sizes[k];
		total += sizes[k];
		end = vh_now_ns() + 10000000000ull;
		while (c->got_len < total && vh_now_ns() < end)
			if (tcp_recv(c, 500, &fl) < 0)
				goto out;
		if (c->got_len != total || memcmp(c->got, data, total)) {
			FAIL("%s: %zu-byte send: %zu of %zu bytes echoed back%s", label, sizes[k],
			     c->got_len, total, c->got_len == total ? " but they differ" : "");
			goto out;
		}
		OK("%s: one %zu-byte send (MSS %u) reached Linux intact and came back as %zu bytes "
		   "in order", label, sizes[k], mss, sizes[k]);
	}
	tcp_send(c, 0x11, NULL, 0);
	c->snd_nxt++;
	{
		uint64_t end = vh_now_ns() + 5000000000ull;
		while (!c->peer_fin && vh_now_ns() < end)
			if (tcp_recv(c, 500, &fl) < 0)
				goto out;
	}
	if (!c->peer_fin) {
		FAIL("%s: the peer did not close the connection", label);
		goto out;
	}
	OK("large TCP receive from Linux over %s: %zu bytes in %lu segments in order, each with a "
	   "right checksum or one the miniport vouched for", v6 ? "IPv6" : "IPv4", total, c->rx_data);
	if (rx_ok) {
		if (c->rx_tcp_ok == c->rx_data)
			OK("receive checksum offload: all %lu TCP data segments over %s carried "
			   "TcpChecksumSucceeded", c->rx_data, v6 ? "IPv6" : "IPv4");
		else
			FAIL("receive checksum offload enabled, but only %lu of %lu TCP data segments "
			     "carried TcpChecksumSucceeded", c->rx_tcp_ok, c->rx_data);
	} else if (c->rx_tcp_ok) {
		FAIL("%lu TCP segments carried TcpChecksumSucceeded with receive checksum offload off",
		     c->rx_tcp_ok);
	} else {
		printf("# %s: receive TCP checksum offload not enabled (no GUEST_CSUM)\n", svc);
	}
out:
	free(data);
	free(c);
}

static void test_offloads(void)
{
	struct offload_cfg oc;

	if (!query_offload(&oc))
		return;
	printf("# %s: offloads enabled: LSOv2 IPv4 %u bytes, IPv6 %u bytes; TCP receive checksum "
	       "IPv4 %s, IPv6 %s\n", svc, oc.lso4_max, oc.lso6_max, oc.rx_tcp4 ? "on" : "off",
	       oc.rx_tcp6 ? "on" : "off");
	if (oc.lso6_max)
		test_lso(&oc, true);
	if (oc.lso4_max)
		test_lso(&oc, false);
	else
		printf("# %s: the miniport enables no LSOv2 (the device offers no HOST_TSO4); large "
		       "sends not tested\n", svc);
}

/* ------------------------------------------------------------ link */

static void link_request(const char *ctl, const char *state)
{
	int fd = open(ctl, O_WRONLY | O_NOCTTY);
	char line[64];
	int n = snprintf(line, sizeof(line), "\nVDP-LINK-REQ nica %s\n", state);

	if (fd < 0 || write(fd, line, (size_t)n) != n)
		FAIL("cannot write the link request to %s (%s)", ctl, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void test_link(const char *ctl)
{
	uint32_t state = 0;
	unsigned seen = nd_link_events(NULL);

	link_request(ctl, "off");
	while (nd_wait_link_event(seen, 15000)) {
		seen = nd_link_events(&state);
		if (state == 2)
			break;
	}
	if (state != 2) {
		FAIL("link down: no NDIS_STATUS_LINK_STATE disconnected within 15 s");
		link_request(ctl, "on");
		return;
	}
	OK("link down: NDIS_STATUS_LINK_STATE MediaConnectStateDisconnected indicated");
	link_request(ctl, "on");
	while (nd_wait_link_event(seen, 15000)) {
		seen = nd_link_events(&state);
		if (state == 1)
			break;
	}
	if (state != 1) {
		FAIL("link up: no NDIS_STATUS_LINK_STATE connected within 15 s");
		return;
	}
	OK("link up: NDIS_STATUS_LINK_STATE MediaConnectStateConnected indicated");
	if (ping(100, 64, "after link up"))
		OK("ICMP echo works again after the link came back");
}

/* ------------------------------------------------------------ receive segment coalescing */

/* RSC is on by default (*RscIPv4 and *RscIPv6 default to 1 in the INF) where the device coalesces (GUEST_TSO
 * with GUEST_CSUM and mergeable buffers). The tests above expect link-sized frames, so rsc_setup
 * switches it off first: what the device still coalesces (the switch has no
 * CTRL_GUEST_OFFLOADS) is then cut back into segments by the miniport. test_rsc switches it on
 * again and checks that a TCP echo arrives as coalesced units carrying CoalescedSegCount. */
#define ND_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xFC01020Du
#define ND_OID_TCP_RSC_STATISTICS 0x0002021Du
#define RSC_OFFLOAD_REV3_SIZE 0x9c /* NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3 */
#define RSC_OFFLOAD_RSC 0x90       /* NDIS_OFFLOAD.Rsc: IPv4.Enabled, IPv6.Enabled */
#define RSC_ECHO_BYTES 60000u

static bool rsc_capable4, rsc_capable6;
static uint64_t rsc_units_while_on; /* CoalesceEvents at the end of the last test_rsc */

/* Rsc.IPv4/IPv6.Enabled of an NDIS_OFFLOAD query. */
static bool rsc_query(uint32_t oid, bool *v4, bool *v6)
{
	uint8_t o[256];
	uint32_t done = 0, need = 0, st;

	memset(o, 0, sizeof(o));
	*v4 = *v6 = false;
	st = nd_oid(false, oid, o, sizeof(o), &done, &need);
	if (st != ND_STATUS_SUCCESS || done < RSC_OFFLOAD_REV3_SIZE || o[0] != 0xA7 || o[1] < 3 ||
	    (o[2] | o[3] << 8) < RSC_OFFLOAD_REV3_SIZE) {
		FAIL("RSC: OID %#x: status %#x, %u bytes, revision %u: no NDIS_OFFLOAD revision 3", oid,
		     st, done, o[1]);
		return false;
	}
	*v4 = o[RSC_OFFLOAD_RSC] != 0;
	*v6 = o[RSC_OFFLOAD_RSC + 1] != 0;
	return true;
}

/* OID_TCP_OFFLOAD_PARAMETERS revision 3 changing only RscIPv4/RscIPv6 (1 disabled, 2 enabled). */
static bool rsc_set(uint8_t value)
{
	uint8_t p[0x1a];
	uint32_t done = 0, need = 0, st;

	memset(p, 0, sizeof(p));
	p[0] = 0x80; /* NDIS_OBJECT_TYPE_DEFAULT */
	p[1] = 3;
	p[2] = sizeof(p);
	p[0x16] = p[0x17] = value;
	st = nd_oid(true, ND_OID_TCP_OFFLOAD_PARAMETERS, p, sizeof(p), &done, &need);
	if (st != ND_STATUS_SUCCESS) {
		FAIL("RSC: OID_TCP_OFFLOAD_PARAMETERS RscIPv4/RscIPv6 = %u: status %#x", value, st);
		return false;
	}
	return true;
}

/* OID_TCP_RSC_STATISTICS: CoalescedPkts, CoalescedOctets, CoalesceEvents, Aborts. */
static bool rsc_stats(uint64_t v[4])
{
	uint8_t b[40];
	uint32_t done = 0, need = 0, st;

	memset(b, 0, sizeof(b));
	st = nd_oid(false, ND_OID_TCP_RSC_STATISTICS, b, sizeof(b), &done, &need);
	if (st != ND_STATUS_SUCCESS || done < sizeof(b) || b[0] != 0x80) {
		FAIL("RSC: OID_TCP_RSC_STATISTICS: status %#x, %u bytes", st, done);
		return false;
	}
	for (int i = 0; i < 4; i++) {
		const uint8_t *q = b + 8 + 8 * i;
		v[i] = 0;
		for (int k = 7; k >= 0; k--)
			v[i] = v[i] << 8 | q[k];
	}
	return true;
}

static void rsc_setup(void)
{
	bool v4, v6, c4, c6;

	if (!rsc_query(ND_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, &v4, &v6) ||
	    !rsc_query(ND_OID_TCP_OFFLOAD_CURRENT_CONFIG, &c4, &c6))
		return;
	rsc_capable4 = v4;
	rsc_capable6 = v6;
	if (c4 != v4 || c6 != v6) {
		FAIL("RSC: on by default in the INF, but enabled IPv4 %d IPv6 %d with capabilities "
		     "IPv4 %d IPv6 %d", c4, c6, v4, v6);
		return;
	}
	if (!rsc_set(1) || !rsc_query(ND_OID_TCP_OFFLOAD_CURRENT_CONFIG, &c4, &c6))
		return;
	if (c4 || c6)
		FAIL("RSC: still enabled after OID_TCP_OFFLOAD_PARAMETERS disabled it");
	else if (v4 || v6)
		OK("RSC: advertised (IPv4 %s, IPv6 %s), on by default, switched off by "
		   "OID_TCP_OFFLOAD_PARAMETERS", v4 ? "yes" : "no", v6 ? "yes" : "no");
	else
		OK("RSC: not advertised (the device offers no GUEST_TSO with GUEST_CSUM and mergeable "
		   "buffers)");
}

static void test_rsc(bool v6)
{
	static uint8_t r[70000];
	const char *ipv = v6 ? "IPv6" : "IPv4";
	const size_t ipl = v6 ? IP6_HLEN : IP_HLEN, mss = v6 ? 1440 : 1460;
	struct tcp_conn *c;
	uint8_t *data;
	uint64_t before[4], after[4], end;
	unsigned long units = 0, multi = 0, frames = 0, seg_sum = 0;
	unsigned max_segs = 0;
	size_t sent = 0;
	bool c4, c6;

	if (!(v6 ? rsc_capable6 : rsc_capable4))
		return;
	if (!rsc_stats(before))
		return;
	/* The LSO echo above came back coalesced while RSC was off. */
	if (!rsc_units_while_on && before[3])
		OK("RSC off: %llu coalesced frames from the device were cut back into segments, each "
		   "checked by the large TCP receive test", (unsigned long long)before[3]);
	else if (!rsc_units_while_on)
		printf("# %s: RSC off: the device coalesced nothing\n", svc);
	if (before[2] != rsc_units_while_on)
		FAIL("RSC: %llu coalesced units indicated while RSC was off",
		     (unsigned long long)(before[2] - rsc_units_while_on));
	if (!rsc_set(2) || !rsc_query(ND_OID_TCP_OFFLOAD_CURRENT_CONFIG, &c4, &c6))
		return;
	if (!(v6 ? c6 : c4)) {
		FAIL("RSC: not enabled after OID_TCP_OFFLOAD_PARAMETERS Rsc%s enabled", ipv);
		return;
	}
	c = calloc(1, sizeof(*c));
	data = malloc(RSC_ECHO_BYTES);
	if (!c || !data)
		vh_fatal("test_rsc: out of memory");
	for (size_t i = 0; i < RSC_ECHO_BYTES; i++)
		data[i] = (uint8_t)(i * 11 + i / 253 + 5);
	c->v6 = v6;
	c->sport = v6 ? 43400 : 43300;
	c->snd_nxt = v6 ? 0x8000000u : 0x7000000u;
	if (!tcp_connect(c, v6 ? "RSC IPv6" : "RSC IPv4"))
		goto out;
	while (sent < RSC_ECHO_BYTES) {
		size_t n = RSC_ECHO_BYTES - sent > 1400 ? 1400 : RSC_ECHO_BYTES - sent;
		if (!tcp_send(c, 0x18, data + sent, n))
			goto out;
		c->snd_nxt += (uint32_t)n;
		sent += n;
	}
	/* Frames may now be up to 64 KiB: wait_for/tcp_recv expect link-sized ones. */
	end = vh_now_ns() + 20000000000ull;
	while (c->got_len < RSC_ECHO_BYTES && vh_now_ns() < end) {
		uint64_t info = 0;
		size_t n = nd_recv(r, sizeof(r), &info, 500), tot, hl, dlen;
		unsigned segs = nd_last_rsc_segs;
		const uint8_t *t;
		uint32_t seq;

		if (n >= ETH_HLEN && get16(r + 12) == 0x0806)
			answer_arp(r, n);
		if (n >= ETH_HLEN && get16(r + 12) == 0x86dd)
			answer_ns(r, n);
		if (!n || !is_tcp(r, n, c)) {
			frames_other += n != 0;
			continue;
		}
		if (!(v6 ? check_ipv6 : check_ipv4)(r, n, info, "RSC: TCP frame"))
			goto out;
		tot = v6 ? IP6_HLEN + get16(r + ETH_HLEN + 4) : get16(r + ETH_HLEN + 2);
		t = r + ETH_HLEN + ipl;
		hl = (size_t)(t[12] >> 4) * 4;
		if (hl < TCP_HLEN || hl > tot - ipl) {
			FAIL("RSC: TCP header length %zu", hl);
			goto out;
		}
		dlen = tot - ipl - hl;
		seq = get32(t + 4);
		if (dlen)
			frames++;
		if (n > FRAME_MAX + 4 && !segs) {
			FAIL("RSC: a %zu-byte frame without CoalescedSegCount", n);
			goto out;
		}
		if (segs) {
			/* A coalesced unit: IP (IPv4) and TCP checksum succeeded, and a segment count
			 * that fits its payload at the MSS we announced. */
			if (!((info >> 3) & 1) || (!v6 && !((info >> 5) & 1))) {
				FAIL("RSC: coalesced unit without IpChecksumSucceeded/TcpChecksumSucceeded "
				     "(receive info %#llx)", (unsigned long long)info);
				goto out;
			}
			if (segs > dlen || (size_t)segs * mss < dlen) {
				FAIL("RSC: CoalescedSegCount %u for %zu payload bytes", segs, dlen);
				goto out;
			}
			units++;
			seg_sum += segs;
			multi += segs > 1;
			if (segs > max_segs)
				max_segs = segs;
		}
		if (dlen && seq == c->rcv_nxt && c->got_len + dlen <= sizeof(c->got)) {
			memcpy(c->got + c->got_len, t + hl, dlen);
			c->got_len += dlen;
			c->rcv_nxt += (uint32_t)dlen;
		}
		if (dlen)
			tcp_send(c, 0x10, NULL, 0);
	}
	if (c->got_len != RSC_ECHO_BYTES || memcmp(c->got, data, RSC_ECHO_BYTES)) {
		FAIL("RSC: %zu of %u bytes echoed back%s", c->got_len, RSC_ECHO_BYTES,
		     c->got_len == RSC_ECHO_BYTES ? " but they differ" : "");
		goto out;
	}
	if (!multi)
		FAIL("RSC on, %s: none of %lu TCP data frames carried CoalescedSegCount > 1", ipv,
		     frames);
	else
		OK("RSC on, %s: %lu of %lu TCP data frames were coalesced units (CoalescedSegCount up "
		   "to %u, %lu segments in all, checksums succeeded); %u bytes echoed intact and in "
		   "order", ipv, units, frames, max_segs, seg_sum, RSC_ECHO_BYTES);
	if (rsc_stats(after)) {
		rsc_units_while_on = after[2];
		if (after[2] - before[2] >= units && after[0] - before[0] >= seg_sum)
			OK("OID_TCP_RSC_STATISTICS: %llu coalesced units, %llu segments, %llu bytes",
			   (unsigned long long)after[2], (unsigned long long)after[0],
			   (unsigned long long)after[1]);
		else
			FAIL("OID_TCP_RSC_STATISTICS: %llu units and %llu segments, %lu and %lu seen",
			     (unsigned long long)(after[2] - before[2]),
			     (unsigned long long)(after[0] - before[0]), units, seg_sum);
	}
	tcp_send(c, 0x14, NULL, 0); /* RST|ACK: the later tests expect link-sized frames again */
out:
	rsc_set(1);
	free(data);
	free(c);
}

/* ------------------------------------------------------------ end of receive segment coalescing */

int net_test_run(const char *service, const char *link_ctl)
{
	struct nd_counts cn;
	int pings = 0;

	svc = service;
	failures = 0;
	nd_mac(my_mac);
	test_oids();
	rsc_setup(); /* RSC off until test_rsc */
	if (!test_arp())
		return failures;
	for (uint16_t s = 1; s <= 8; s++)
		pings += ping(s, s == 8 ? 1472 - 8 : 56 * s, "ICMP echo");
	if (pings == 8)
		OK("8 ICMP echo requests (56..1464 bytes) answered with identical payloads");
	test_udp(32, 0, "UDP checksum by the test");
	test_udp(1400, 0, "UDP checksum by the test");
	test_tcp(3000, 0, "TCP checksum by the test");
	test_burst(240);
	test_batch();
	test_filter();
	if (nd_pause_restart())
		failures++;
	else if (ping(400, 200, "after pause and restart"))
		OK("paused and restarted: ICMP echo works again");
	if (nd_offload_ip4_tx()) {
		test_udp(600, 2, "IPv4 header checksum offloaded");
		test_tcp(2500, 2, "TCP, IPv4 header checksum offloaded");
	}
	if (nd_offload_tcp4_tx()) {
		test_udp(900, 1, "UDP checksum offloaded");
		test_tcp(3000, 3, "TCP and IPv4 header checksums offloaded");
	} else {
		printf("# %s: the miniport enables no IPv4 TCP transmit checksum offload "
		       "(the device offers no VIRTIO_NET_F_CSUM); offloaded sends not tested\n", svc);
	}
	test_offloads();
	test_rsc(true);
	test_rsc(false);
	if (link_ctl)
		test_link(link_ctl);
	nd_counts(&cn);
	test_stats(cn.tx_sent, cn.rx_indicated);
	printf("# %s: %lu frames sent, %lu received (%lu with RESOURCES), %lu checked, %lu "
	       "others ignored; %lu interrupts, %lu DPCs, %lu S/G lists\n", svc, cn.tx_completed,
	       cn.rx_indicated, cn.rx_resources, frames_checked, frames_other, cn.interrupts, cn.dpcs,
	       cn.sg_lists);
	if (cn.tx_completed == cn.tx_sent)
		OK("every sent NBL completed (%lu)", cn.tx_sent);
	else
		FAIL("%lu NBLs sent, %lu completed", cn.tx_sent, cn.tx_completed);
	return failures;
}

/* ------------------------------------------------------------ Linux-side echo */

int net_echo_server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct pollfd p[35];
	int udp = socket(AF_INET, SOCK_DGRAM, 0), tcp = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	int tcp6 = socket(AF_INET6, SOCK_STREAM, 0);
	unsigned np = 3;
	char buf[65536];

	if (udp < 0 || tcp < 0 || setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(udp, (struct sockaddr *)&a, sizeof(a)) || bind(tcp, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(tcp, 8)) {
		fprintf(stderr, "echo server: %s\n", strerror(errno));
		return 1;
	}
	/* IPv6 is optional: without it the listener is simply absent. */
	if (tcp6 >= 0 && (setsockopt(tcp6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
			  setsockopt(tcp6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
			  bind(tcp6, (struct sockaddr *)&a6, sizeof(a6)) || listen(tcp6, 8))) {
		fprintf(stderr, "echo server: IPv6: %s\n", strerror(errno));
		close(tcp6);
		tcp6 = -1;
	}
	p[0] = (struct pollfd){ udp, POLLIN, 0 };
	p[1] = (struct pollfd){ tcp, POLLIN, 0 };
	p[2] = (struct pollfd){ tcp6, POLLIN, 0 };
	for (;;) {
		if (poll(p, np, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n >= 0)
				sendto(udp, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
		for (unsigned l = 1; l <= 2; l++) {
			if ((p[l].revents & POLLIN) && np < 35) {
				int s = accept(p[l].fd, NULL, NULL);
				if (s >= 0)
					p[np++] = (struct pollfd){ s, POLLIN, 0 };
			}
		}
		for (unsigned i = 3; i < np; i++) {
			ssize_t n;
			if (!p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0 && write(p[i].fd, buf, (size_t)n) == n)
				continue;
			close(p[i].fd);
			p[i--] = p[--np];
		}
	}
}
