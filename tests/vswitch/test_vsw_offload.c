/* Unit tests of the switch's offload code: checksum completion, TCP
 * segmentation (IPv4, IPv6) and the header verifier, with known good frames
 * and broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vsw_offload.h"

#define F_CSUM (1ull << 0)
#define F_HOST_TSO4 (1ull << 11)
#define F_HOST_TSO6 (1ull << 12)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* A TCP frame over IPv4 or IPv6 with `payload` bytes, the TCP checksum
 * field holding the pseudo-header sum (as a driver leaves it for
 * NEEDS_CSUM) or the full checksum. Returns the frame length. */
static size_t tcp_frame(uint8_t *f, unsigned l3, size_t payload, uint8_t flags, bool partial)
{
	size_t ipl = l3 == 4 ? 20 : 40, l4 = 20 + payload;
	uint8_t *ip = f + 14, *t = ip + ipl;

	memset(f, 0, 14 + ipl + l4);
	memcpy(f, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56", 12);
	put16(f + 12, l3 == 4 ? 0x0800 : 0x86dd);
	if (l3 == 4) {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4));
		put16(ip + 4, 0x1234);
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, "\xc0\xa8\x4d\x02\xc0\xa8\x4d\x01", 8);
		put16(ip + 10, vsw_fold(vsw_sum(ip, 20, 0)));
	} else {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4);
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 2;
		ip[24] = 0xfd;
		ip[39] = 1;
	}
	put16(t, 41000);
	put16(t + 2, 7777);
	put16(t + 4, 0x1000);
	put16(t + 6, 0x0000);
	t[12] = 0x50;
	t[13] = flags;
	put16(t + 14, 65535);
	for (size_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)(i * 31 + 7);
	if (partial)
		put16(t + 16, (uint16_t)~vsw_fold(vsw_pseudo(ip, l3, 6, l4)));
	else
		put16(t + 16, vsw_fold(vsw_sum(t, l4, vsw_pseudo(ip, l3, 6, l4))));
	return 14 + ipl + l4;
}

static uint8_t frame[70000], out[70000];

static void complete_checksum(void **state)
{
	char err[200];
	size_t len = tcp_frame(frame, 4, 1000, 0x18, true);

	(void)state;
	assert_false(vsw_check_wire(frame, len, err, sizeof(err)));
	assert_true(vsw_complete_csum(frame, len, 34, 16, err, sizeof(err)));
	assert_true(vsw_check_wire(frame, len, err, sizeof(err)));
	memcpy(out, frame, len);
	tcp_frame(frame, 4, 1000, 0x18, false);
	assert_memory_equal(out, frame, len);

	len = tcp_frame(frame, 6, 777, 0x18, true); /* odd length */
	assert_true(vsw_complete_csum(frame, len, 54, 16, err, sizeof(err)));
	assert_true(vsw_check_wire(frame, len, err, sizeof(err)));
}

static void complete_checksum_out_of_range(void **state)
{
	char err[200];
	size_t len = tcp_frame(frame, 4, 10, 0x18, true);

	(void)state;
	assert_false(vsw_complete_csum(frame, len, (unsigned)len, 0, err, sizeof(err)));
	assert_false(vsw_complete_csum(frame, len, 34, (unsigned)len - 35, err, sizeof(err)));
	assert_false(vsw_complete_csum(frame, len, 0xffff, 0xffff, err, sizeof(err)));
	assert_true(vsw_complete_csum(frame, len, 34, (unsigned)len - 36, err, sizeof(err)));
}

struct collect {
	unsigned n;
	size_t total;
	uint8_t data[70000];
	size_t lens[64];
	uint8_t flags[64];
	uint32_t seq[64];
	uint16_t id[64];
	unsigned l3;
};

static void collect(void *ctx, const uint8_t *f, size_t len)
{
	struct collect *c = ctx;
	char err[200];
	size_t hl = c->l3 == 4 ? 54 : 74;

	assert_true(vsw_check_wire(f, len, err, sizeof(err)));
	assert_true(c->n < 64);
	c->lens[c->n] = len;
	c->flags[c->n] = f[hl - 20 + 13];
	c->seq[c->n] = get32(f + hl - 20 + 4);
	c->id[c->n] = c->l3 == 4 ? get16(f + 18) : 0;
	memcpy(c->data + c->total, f + hl, len - hl);
	c->total += len - hl;
	c->n++;
}

static void segment(unsigned l3)
{
	static struct collect c;
	struct vsw_hdr h = { 1, l3 == 4 ? VSW_GSO_TCPV4 : VSW_GSO_TCPV6, 0, 1448, 0, 16, 0 };
	size_t hl = l3 == 4 ? 54 : 74, len = tcp_frame(frame, l3, 4000, 0x19 | 0x80, true);
	char err[200];

	h.hdr_len = (uint16_t)hl;
	h.csum_start = (uint16_t)(hl - 20);
	memset(&c, 0, sizeof(c));
	c.l3 = l3;
	assert_true(vsw_check_hdr(&h, frame, len, F_CSUM | F_HOST_TSO4 | F_HOST_TSO6, err,
				  sizeof(err)));
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), 3);
	assert_int_equal(c.lens[0], hl + 1448);
	assert_int_equal(c.lens[1], hl + 1448);
	assert_int_equal(c.lens[2], hl + 4000 - 2 * 1448);
	assert_int_equal(c.total, 4000);
	assert_memory_equal(c.data, frame + hl, 4000);
	/* CWR on the first only, FIN and PSH on the last only. */
	assert_int_equal(c.flags[0], 0x90);
	assert_int_equal(c.flags[1], 0x10);
	assert_int_equal(c.flags[2], 0x19);
	assert_int_equal(c.seq[1] - c.seq[0], 1448);
	assert_int_equal(c.seq[2] - c.seq[1], 1448);
	if (l3 == 4) {
		assert_int_equal(c.id[0], 0x1234);
		assert_int_equal(c.id[2], 0x1236);
	}
}

static void segment_ipv4(void **state)
{
	(void)state;
	segment(4);
}

static void segment_ipv6(void **state)
{
	(void)state;
	segment(6);
}

static void segment_64k(void **state)
{
	static struct collect c;
	struct vsw_hdr h = { 1, VSW_GSO_TCPV4, 54, 1460, 34, 16, 0 };
	size_t len = tcp_frame(frame, 4, 65535 - 40, 0x10, true);
	char err[200];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.l3 = 4;
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), 45);
	assert_int_equal(c.total, 65535 - 40);
	assert_memory_equal(c.data, frame + 54, 65535 - 40);
}

static void segment_rejects_bad_frames(void **state)
{
	static struct collect c;
	struct vsw_hdr h = { 1, VSW_GSO_TCPV4, 54, 1448, 34, 16, 0 };
	char err[200];
	size_t len;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.l3 = 4;
	len = tcp_frame(frame, 6, 3000, 0x10, true); /* TCPV4 on an IPv6 frame */
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), -1);
	len = tcp_frame(frame, 4, 3000, 0x10, true);
	put16(frame + 16, 20000); /* IP total length beyond the frame */
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "total length"));
	len = tcp_frame(frame, 4, 3000, 0x10, true);
	frame[34 + 12] = 0x10;
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), -1);
	len = tcp_frame(frame, 4, 3000, 0x10, true);
	h.gso_size = 0;
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), -1);
	h.gso_size = 1448;
	h.gso_type = VSW_GSO_UDP;
	assert_int_equal(vsw_segment(frame, len, &h, collect, &c, err, sizeof(err)), -1);
	assert_int_equal(vsw_segment(frame, 30, &h, collect, &c, err, sizeof(err)), -1);
	assert_int_equal(c.n, 0);
}

static void verify_header(void **state)
{
	const uint64_t all = F_CSUM | F_HOST_TSO4 | F_HOST_TSO6;
	struct vsw_hdr good = { 1, VSW_GSO_TCPV4, 54, 1448, 34, 16, 0 }, h;
	size_t len = tcp_frame(frame, 4, 3000, 0x10, true);
	char err[200];

	(void)state;
	assert_true(vsw_check_hdr(&good, frame, len, all, err, sizeof(err)));
	h = good;
	h.csum_start = 36;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	assert_non_null(strstr(err, "csum_start"));
	h = good;
	h.csum_offset = 6;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	h = good;
	assert_false(vsw_check_hdr(&h, frame, len, F_CSUM | F_HOST_TSO6, err, sizeof(err)));
	assert_non_null(strstr(err, "HOST_TSO4"));
	h = good;
	h.hdr_len = 40;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	h = good;
	h.flags = 0;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	h = good;
	h.flags |= VSW_HDR_F_DATA_VALID;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	h = good;
	h.gso_type = VSW_GSO_TCPV6;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	h = good;
	h.gso_size = 0;
	assert_false(vsw_check_hdr(&h, frame, len, all, err, sizeof(err)));
	/* A seed without the TCP length, as Windows hands it to an LSO miniport. */
	{
		uint32_t ps = vsw_sum(frame + 14 + 12, 8, 0) + 6;
		put16(frame + 34 + 16, (uint16_t)~vsw_fold(ps));
		assert_false(vsw_check_hdr(&good, frame, len, all, err, sizeof(err)));
		assert_non_null(strstr(err, "pseudo-header sum"));
		len = tcp_frame(frame, 4, 3000, 0x10, true);
	}
	/* Checksum only, no GSO, and no offload at all. */
	h = (struct vsw_hdr){ 1, 0, 0, 0, 34, 16, 0 };
	assert_true(vsw_check_hdr(&h, frame, len, F_CSUM, err, sizeof(err)));
	assert_false(vsw_check_hdr(&h, frame, len, 0, err, sizeof(err)));
	h = (struct vsw_hdr){ 0 };
	assert_true(vsw_check_hdr(&h, frame, len, 0, err, sizeof(err)));
	assert_false(vsw_check_hdr(&h, frame, len - 1, 0, err, sizeof(err))); /* IP length */
}

static void verify_wire(void **state)
{
	char err[200];
	size_t len = tcp_frame(frame, 4, 200, 0x18, false);

	(void)state;
	assert_true(vsw_check_wire(frame, len, err, sizeof(err)));
	assert_true(vsw_l4_csum_ok(frame, len));
	frame[len - 1] ^= 1;
	assert_false(vsw_check_wire(frame, len, err, sizeof(err)));
	assert_non_null(strstr(err, "TCP checksum"));
	assert_false(vsw_l4_csum_ok(frame, len));
	len = tcp_frame(frame, 4, 200, 0x18, false);
	frame[14 + 8] = 63; /* TTL changed, header checksum not */
	assert_false(vsw_check_wire(frame, len, err, sizeof(err)));
	assert_non_null(strstr(err, "IPv4 header checksum"));
	/* IPv6 with an extension header that overruns the datagram. */
	len = tcp_frame(frame, 6, 8, 0x18, false);
	frame[14 + 6] = 0; /* hop-by-hop */
	frame[54 + 1] = 200;
	assert_false(vsw_check_wire(frame, len, err, sizeof(err)));
	/* ARP and other non-IP frames pass. */
	memset(frame, 0, 60);
	put16(frame + 12, 0x0806);
	assert_true(vsw_check_wire(frame, 60, err, sizeof(err)));
	assert_false(vsw_check_wire(frame, 10, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(complete_checksum),
		cmocka_unit_test(complete_checksum_out_of_range),
		cmocka_unit_test(segment_ipv4),
		cmocka_unit_test(segment_ipv6),
		cmocka_unit_test(segment_64k),
		cmocka_unit_test(segment_rejects_bad_frames),
		cmocka_unit_test(verify_header),
		cmocka_unit_test(verify_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
