/* Offload resolution of the test switch: see vsw_offload.h. Every length
 * and offset comes from a guest and is checked before it is used. */
#include "vsw_offload.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN 14

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

__attribute__((format(printf, 3, 4)))
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

uint32_t vsw_sum(const uint8_t *p, size_t n, uint32_t s)
{
	/* 64-bit accumulator: a 64 KiB frame cannot overflow it. */
	uint64_t a = s;

	for (; n > 1; p += 2, n -= 2)
		a += get16(p);
	if (n)
		a += (uint32_t)p[0] << 8;
	while (a >> 16)
		a = (a & 0xffff) + (a >> 16);
	return (uint32_t)a;
}

uint16_t vsw_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint32_t vsw_pseudo(const uint8_t *ip, unsigned l3, unsigned proto, size_t l4len)
{
	uint32_t s = l3 == 4 ? vsw_sum(ip + 12, 8, 0) : vsw_sum(ip + 8, 32, 0);

	return s + proto + (uint32_t)(l4len & 0xffff) + (uint32_t)(l4len >> 16);
}

bool vsw_parse(const uint8_t *f, size_t len, struct vsw_pkt *p, char *err, size_t errlen)
{
	size_t off = ETH_HLEN;
	unsigned type;

	memset(p, 0, sizeof(*p));
	if (len < ETH_HLEN)
		return fail(err, errlen, "frame of %zu bytes is shorter than an Ethernet header", len);
	type = get16(f + 12);
	if (type == 0x8100) { /* one VLAN tag */
		if (len < ETH_HLEN + 4)
			return fail(err, errlen, "truncated VLAN tag");
		type = get16(f + 16);
		off += 4;
	}
	p->l3_off = off;
	if (type == 0x0800) {
		size_t ihl, tot;
		if (len < off + 20)
			return fail(err, errlen, "truncated IPv4 header (%zu bytes)", len - off);
		ihl = (size_t)(f[off] & 15) * 4;
		tot = get16(f + off + 2);
		if (f[off] >> 4 != 4 || ihl < 20)
			return fail(err, errlen, "IPv4 version/IHL byte %#x", f[off]);
		if (tot < ihl || off + tot > len)
			return fail(err, errlen, "IPv4 total length %zu, IHL %zu, %zu bytes after the "
				    "link header", tot, ihl, len - off);
		p->l3 = 4;
		p->ip_end = off + tot;
		p->l4_off = off + ihl;
		/* Fragments carry no complete L4 header to check. */
		if (get16(f + off + 6) & 0x3fff)
			return true;
		p->l4 = f[off + 9];
	} else if (type == 0x86dd) {
		size_t plen;
		unsigned nh;
		if (len < off + 40)
			return fail(err, errlen, "truncated IPv6 header (%zu bytes)", len - off);
		if (f[off] >> 4 != 6)
			return fail(err, errlen, "IPv6 version nibble %u", f[off] >> 4);
		plen = get16(f + off + 4);
		if (off + 40 + plen > len)
			return fail(err, errlen, "IPv6 payload length %zu, %zu bytes after the IPv6 "
				    "header", plen, len - off - 40);
		p->l3 = 6;
		p->ip_end = off + 40 + plen;
		nh = f[off + 6];
		off += 40;
		/* Hop-by-hop, routing and destination options; a fragment ends the walk. */
		while (nh == 0 || nh == 43 || nh == 60) {
			size_t el;
			if (off + 8 > p->ip_end)
				return fail(err, errlen, "truncated IPv6 extension header %u", nh);
			el = ((size_t)f[off + 1] + 1) * 8;
			if (off + el > p->ip_end)
				return fail(err, errlen, "IPv6 extension header %u of %zu bytes overruns "
					    "the datagram", nh, el);
			nh = f[off];
			off += el;
		}
		p->l4_off = off;
		if (nh == 44)
			return true;
		p->l4 = nh;
	} else {
		return true;
	}
	if (p->l4 == 6) {
		size_t hl;
		if (p->l4_off + 20 > p->ip_end)
			return fail(err, errlen, "truncated TCP header");
		hl = (size_t)(f[p->l4_off + 12] >> 4) * 4;
		if (hl < 20 || p->l4_off + hl > p->ip_end)
			return fail(err, errlen, "TCP data offset %zu in a %zu-byte segment", hl,
				    p->ip_end - p->l4_off);
		p->l4_hlen = hl;
	} else if (p->l4 == 17) {
		if (p->l4_off + 8 > p->ip_end)
			return fail(err, errlen, "truncated UDP header");
		p->l4_hlen = 8;
	} else if (p->l4 == 1 || p->l4 == 58) {
		if (p->l4_off + 4 > p->ip_end)
			return fail(err, errlen, "truncated ICMP header");
		p->l4_hlen = 4;
	} else {
		p->l4 = 0; /* nothing we check */
	}
	return true;
}

bool vsw_complete_csum(uint8_t *f, size_t len, unsigned start, unsigned offset, char *err,
		       size_t errlen)
{
	uint16_t c;

	if (start >= len || offset > len - start || len - start - offset < 2)
		return fail(err, errlen, "csum_start %u + csum_offset %u outside the %zu-byte frame",
			    start, offset, len);
	c = vsw_fold(vsw_sum(f + start, len - start, 0));
	put16(f + start + offset, c);
	return true;
}

static bool l4_ok(const uint8_t *f, const struct vsw_pkt *p, char *err, size_t errlen)
{
	const uint8_t *ip = f + p->l3_off, *l4 = f + p->l4_off;
	size_t n = p->ip_end - p->l4_off;
	uint32_t s;

	switch (p->l4) {
	case 6:
		s = vsw_pseudo(ip, p->l3, 6, n);
		break;
	case 17:
		if (p->l3 == 4 && get16(l4 + 6) == 0)
			return true; /* IPv4 UDP without a checksum */
		if (get16(l4 + 4) != n)
			return fail(err, errlen, "UDP length %u, %zu bytes in the datagram",
				    get16(l4 + 4), n);
		s = vsw_pseudo(ip, p->l3, 17, n);
		break;
	case 58:
		s = vsw_pseudo(ip, 6, 58, n);
		break;
	case 1:
		s = 0;
		break;
	default:
		return true;
	}
	if (vsw_fold(vsw_sum(l4, n, s)) != 0)
		return fail(err, errlen, "bad %s checksum %#06x (%zu-byte L4 datagram)",
			    p->l4 == 6 ? "TCP" : p->l4 == 17 ? "UDP" : "ICMP",
			    get16(l4 + (p->l4 == 6 ? 16 : p->l4 == 17 ? 6 : 2)), n);
	return true;
}

bool vsw_l4_csum_ok(const uint8_t *f, size_t len)
{
	struct vsw_pkt p;

	return vsw_parse(f, len, &p, NULL, 0) && (p.l4 == 6 || p.l4 == 17) && l4_ok(f, &p, NULL, 0);
}

bool vsw_check_wire(const uint8_t *f, size_t len, char *err, size_t errlen)
{
	struct vsw_pkt p;

	if (!vsw_parse(f, len, &p, err, errlen))
		return false;
	if (p.l3 == 4 && vsw_fold(vsw_sum(f + p.l3_off, p.l4_off - p.l3_off, 0)) != 0)
		return fail(err, errlen, "bad IPv4 header checksum %#06x", get16(f + p.l3_off + 10));
	return l4_ok(f, &p, err, errlen);
}

bool vsw_check_hdr(const struct vsw_hdr *h, const uint8_t *f, size_t len, uint64_t features,
		   char *err, size_t errlen)
{
	unsigned gso = h->gso_type & ~VSW_GSO_ECN;
	struct vsw_pkt p;

	if (h->flags & ~(VSW_HDR_F_NEEDS_CSUM | VSW_HDR_F_DATA_VALID))
		return fail(err, errlen, "unknown header flags %#x", h->flags);
	if (h->flags & VSW_HDR_F_DATA_VALID)
		return fail(err, errlen, "DATA_VALID is for the device to set, not the driver");
	if ((h->flags & VSW_HDR_F_NEEDS_CSUM) && !(features & 1))
		return fail(err, errlen, "NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated");
	if (!vsw_parse(f, len, &p, err, errlen))
		return false;
	if (h->flags & VSW_HDR_F_NEEDS_CSUM) {
		unsigned want = p.l4 == 6 ? 16 : p.l4 == 17 ? 6 : 0;
		if (!want)
			return fail(err, errlen, "NEEDS_CSUM on a frame without TCP/UDP (l3 %u, l4 %u)",
				    p.l3, p.l4);
		if (h->csum_start != p.l4_off || h->csum_offset != want)
			return fail(err, errlen, "csum_start %u / csum_offset %u, the %s header is at "
				    "%zu (offset %u)", h->csum_start, h->csum_offset,
				    p.l4 == 6 ? "TCP" : "UDP", p.l4_off, want);
	}
	if (gso == VSW_GSO_NONE) {
		if (h->gso_type & VSW_GSO_ECN)
			return fail(err, errlen, "ECN bit without a GSO type");
		return true;
	}
	if (gso != VSW_GSO_TCPV4 && gso != VSW_GSO_TCPV6)
		return fail(err, errlen, "GSO type %#x not offered", h->gso_type);
	if (!(features & (1ull << (gso == VSW_GSO_TCPV4 ? 11 : 12))))
		return fail(err, errlen, "GSO TCPv%c without HOST_TSO%c negotiated",
			    gso == VSW_GSO_TCPV4 ? '4' : '6', gso == VSW_GSO_TCPV4 ? '4' : '6');
	if (!(h->flags & VSW_HDR_F_NEEDS_CSUM))
		return fail(err, errlen, "GSO frame without NEEDS_CSUM");
	if (p.l4 != 6 || p.l3 != (gso == VSW_GSO_TCPV4 ? 4u : 6u))
		return fail(err, errlen, "GSO TCPv%c on a frame with l3 %u l4 %u",
			    gso == VSW_GSO_TCPV4 ? '4' : '6', p.l3, p.l4);
	if (p.ip_end != len)
		return fail(err, errlen, "GSO frame of %zu bytes, IP length says %zu", len, p.ip_end);
	if (!h->gso_size || h->gso_size > 65535 - 40)
		return fail(err, errlen, "gso_size %u", h->gso_size);
	/* hdr_len is a hint unless GUEST_HDRLEN: it must at least cover the headers. */
	if (h->hdr_len < p.l4_off + p.l4_hlen || h->hdr_len > len)
		return fail(err, errlen, "hdr_len %u, headers end at %zu, frame %zu", h->hdr_len,
			    p.l4_off + p.l4_hlen, len);
	if (len == p.l4_off + p.l4_hlen)
		return fail(err, errlen, "GSO frame without payload");
	/* Segmenting devices (Linux's GSO behind tap, vhost-net) adjust the
	 * seed per segment assuming it covers the whole TCP length; a seed
	 * without the length gives every segment a bad checksum there. */
	{
		uint16_t want = (uint16_t)~vsw_fold(vsw_pseudo(f + p.l3_off, p.l3, 6, len - p.l4_off));
		uint16_t got = get16(f + p.l4_off + 16);
		if (got != want && !((got == 0 || got == 0xffff) && (want == 0 || want == 0xffff)))
			return fail(err, errlen, "GSO TCP checksum field %#06x, the pseudo-header sum over "
				    "the whole %zu-byte TCP length is %#06x", got, len - p.l4_off, want);
	}
	return true;
}

int vsw_segment(const uint8_t *f, size_t len, const struct vsw_hdr *h, vsw_emit_fn *emit,
		void *ctx, char *err, size_t errlen)
{
	unsigned gso = h->gso_type & ~VSW_GSO_ECN;
	struct vsw_pkt p;
	size_t hl, payload, mss = h->gso_size, off;
	uint32_t seq;
	uint16_t id = 0;
	uint8_t tflags;
	uint8_t *seg;
	int n = 0;

	if (gso != VSW_GSO_TCPV4 && gso != VSW_GSO_TCPV6) {
		fail(err, errlen, "cannot segment GSO type %#x", h->gso_type);
		return -1;
	}
	if (!vsw_parse(f, len, &p, err, errlen))
		return -1;
	if (p.l4 != 6 || p.l3 != (gso == VSW_GSO_TCPV4 ? 4u : 6u)) {
		fail(err, errlen, "GSO TCPv%u on a frame with l3 %u l4 %u",
		     gso == VSW_GSO_TCPV4 ? 4 : 6, p.l3, p.l4);
		return -1;
	}
	if (!mss || mss > 65535) {
		fail(err, errlen, "gso_size %zu", mss);
		return -1;
	}
	hl = p.l4_off + p.l4_hlen;
	payload = p.ip_end - hl;
	seg = malloc(hl + (mss < payload ? mss : payload) + 1);
	if (!seg) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	seq = get32(f + p.l4_off + 4);
	tflags = f[p.l4_off + 13];
	if (p.l3 == 4)
		id = get16(f + p.l3_off + 4);
	off = 0;
	do {
		size_t n_data = payload - off < mss ? payload - off : mss;
		bool last = off + n_data >= payload;
		uint8_t *ip = seg + p.l3_off, *t = seg + p.l4_off;
		size_t l4len = p.l4_hlen + n_data;

		memcpy(seg, f, hl);
		memcpy(seg + hl, f + hl + off, n_data);
		if (p.l3 == 4) {
			put16(ip + 2, (uint16_t)(hl - p.l3_off + n_data));
			put16(ip + 4, (uint16_t)(id + n));
			put16(ip + 10, 0);
			put16(ip + 10, vsw_fold(vsw_sum(ip, p.l4_off - p.l3_off, 0)));
		} else {
			put16(ip + 4, (uint16_t)(hl - p.l3_off - 40 + n_data));
		}
		put32(t + 4, seq + (uint32_t)off);
		/* FIN and PSH belong to the last segment, CWR to the first. */
		t[13] = (uint8_t)(tflags & ~(last ? 0 : 0x09) & ~(n ? 0x80 : 0));
		put16(t + 16, 0);
		put16(t + 16, vsw_fold(vsw_sum(t, l4len, vsw_pseudo(ip, p.l3, 6, l4len))));
		emit(ctx, seg, hl + n_data);
		n++;
		off += n_data;
	} while (off < payload);
	free(seg);
	return n;
}
