/*
 * Frame builder shared by the test_net_* unit tests: Ethernet (+VLAN) / IPv4 or IPv6 (+extension
 * headers) / TCP or UDP frames with correct length fields and IPv4 header checksum, so that each
 * test can then break exactly one field.
 */
#ifndef OPENVDP_TEST_NET_FRAMES_H
#define OPENVDP_TEST_NET_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tf_opts {
    int ip_version;          /* 4, 6, or 0 for an ARP frame */
    uint8_t l4_proto;        /* 6 TCP, 17 UDP, anything else: opaque payload */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    size_t payload;          /* bytes after the transport header */
    unsigned vlan_tags;      /* 0..3 */
    unsigned tcp_opt_words;  /* extra 32-bit words of TCP options */
    unsigned v6_ext;         /* number of 8-byte destination-options headers */
    int v4_fragment;         /* set MF */
};

static inline void tf_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tf_ipv4_csum(uint8_t *ip)
{
    uint32_t sum = 0;
    size_t i, ihl = (size_t)(ip[0] & 0x0F) * 4;

    ip[10] = ip[11] = 0;
    for (i = 0; i < ihl; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    tf_put16(ip + 10, (uint16_t)~sum);
}

/* Returns the frame length; offsets of interest are recomputed by the tests themselves. */
static inline size_t tf_build(uint8_t *buf, size_t cap, const struct tf_opts *o)
{
    size_t off = 12, l3, l4, l4_len = 0, total;
    unsigned i;

    memset(buf, 0, cap);
    for (i = 0; i < 6; i++) {
        buf[i] = (uint8_t)(0x52 + i);
        buf[6 + i] = (uint8_t)(0x02 + i);
    }
    for (i = 0; i < o->vlan_tags; i++) {
        tf_put16(buf + off, i == 0 && o->vlan_tags > 1 ? 0x88A8 : 0x8100);
        tf_put16(buf + off + 2, (uint16_t)(100 + i));
        off += 4;
    }
    if (o->ip_version == 0) {
        tf_put16(buf + off, 0x0806);
        return off + 2 + 28;
    }
    tf_put16(buf + off, o->ip_version == 4 ? 0x0800 : 0x86DD);
    l3 = off + 2;
    if (o->l4_proto == 6)
        l4_len = 20 + 4 * (size_t)o->tcp_opt_words;
    else if (o->l4_proto == 17)
        l4_len = 8;
    if (o->ip_version == 4) {
        l4 = l3 + 20;
        total = 20 + l4_len + o->payload;
        buf[l3] = 0x45;
        tf_put16(buf + l3 + 2, (uint16_t)total);
        if (o->v4_fragment)
            tf_put16(buf + l3 + 6, 0x2000);
        buf[l3 + 8] = 64;
        buf[l3 + 9] = o->l4_proto;
        memcpy(buf + l3 + 12, o->src, 4);
        memcpy(buf + l3 + 16, o->dst, 4);
        tf_ipv4_csum(buf + l3);
    } else {
        size_t ext = 8 * (size_t)o->v6_ext;

        l4 = l3 + 40 + ext;
        buf[l3] = 0x60;
        tf_put16(buf + l3 + 4, (uint16_t)(ext + l4_len + o->payload));
        buf[l3 + 6] = o->v6_ext ? 60 : o->l4_proto;
        buf[l3 + 7] = 64;
        memcpy(buf + l3 + 8, o->src, 16);
        memcpy(buf + l3 + 24, o->dst, 16);
        for (i = 0; i < o->v6_ext; i++) {
            uint8_t *e = buf + l3 + 40 + 8 * i;
            e[0] = i + 1 < o->v6_ext ? 60 : o->l4_proto;
            e[1] = 0;
            e[2] = 1; /* PadN */
            e[3] = 4;
        }
    }
    tf_put16(buf + l4, o->sport);
    tf_put16(buf + l4 + 2, o->dport);
    if (o->l4_proto == 6)
        buf[l4 + 12] = (uint8_t)((5 + o->tcp_opt_words) << 4);
    else if (o->l4_proto == 17)
        tf_put16(buf + l4 + 4, (uint16_t)(8 + o->payload));
    for (i = 0; i < o->payload; i++)
        buf[l4 + l4_len + i] = (uint8_t)i;
    return l4 + l4_len + o->payload;
}

static inline void tf_ipv4(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
    a[0] = b0;
    a[1] = b1;
    a[2] = b2;
    a[3] = b3;
}

/* xorshift32: deterministic pseudo-random input for the robustness loops. */
static inline uint32_t tf_rand(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#endif /* OPENVDP_TEST_NET_FRAMES_H */
