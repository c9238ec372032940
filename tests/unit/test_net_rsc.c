/*
 * Unit tests for receive segment coalescing in src/net: coalesced (GSO) frames as a device with
 * GUEST_TSO4/6 delivers them over mergeable buffers (IPv4 and IPv6, NEEDS_CSUM and DATA_VALID),
 * every way a hostile device can get the GSO header wrong, the segment count reported to NDIS,
 * gathering a chain into one buffer, software segmentation for when RSC is switched off, and the
 * offload switches (keywords, OID values, CTRL_GUEST_OFFLOADS command).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_ctrl.h"
#include "vnet_oid.h"
#include "vnet_rx.h"
#include "test_net_frames.h"

#define HDR 12u
#define POSTED 1536u
#define NBUF 64u
#define BIG (HDR + VNET_MAX_FRAME_LEN)

static uint8_t bufs[NBUF][POSTED];
static uint8_t frame[70000];
static uint8_t big[BIG];
static uint8_t seg[2048];

static const struct vnet_rx_config cfg_rsc = {
    .hdr_len = HDR, .mergeable = true, .guest_csum = true, .guest_tso4 = true,
    .guest_tso6 = true, .max_frame_len = 1522, .max_buffers = NBUF,
};

static struct virtio_net_hdr *vhdr(void)
{
    return &((struct virtio_net_hdr_mrg_rxbuf *)bufs[0])->hdr;
}

/* Spread frame[0..len) over posted buffers behind the header, as a mergeable device does. */
static uint16_t scatter(struct vnet_rx_buf *rb, size_t len)
{
    size_t done = 0;
    uint16_t n = 0;

    memset(bufs, 0, sizeof(bufs));
    do {
        uint32_t skip = n == 0 ? HDR : 0;
        size_t take = len - done;

        if (take > POSTED - skip)
            take = POSTED - skip;
        memcpy(bufs[n] + skip, frame + done, take);
        rb[n].data = bufs[n];
        rb[n].posted_len = POSTED;
        rb[n].used_len = (uint32_t)(skip + take);
        done += take;
        n++;
    } while (done < len && n < NBUF);
    ((struct virtio_net_hdr_mrg_rxbuf *)bufs[0])->num_buffers = cpu_to_le16(n);
    return n;
}

/* A coalesced TCP frame: l4 offset 34 (IPv4) or 54 (IPv6), sequence 1000, ACK|PSH|FIN|CWR. */
static size_t build(int ipv, size_t payload, unsigned vlan_tags)
{
    struct tf_opts o = { .ip_version = ipv, .l4_proto = 6, .sport = 80, .dport = 5000,
                         .payload = payload, .vlan_tags = vlan_tags };
    size_t len, l4 = 14 + 4 * vlan_tags + (ipv == 4 ? 20 : 40);

    if (ipv == 4) {
        tf_ipv4(o.src, 10, 0, 0, 1);
        tf_ipv4(o.dst, 10, 0, 0, 2);
    } else {
        o.src[0] = o.dst[0] = 0xfd;
        o.src[15] = 1;
        o.dst[15] = 2;
    }
    len = tf_build(frame, sizeof(frame), &o);
    frame[l4 + 7] = 0xE8; /* seq 1000 */
    frame[l4 + 6] = 0x03;
    frame[l4 + 13] = 0x80 | 0x10 | 0x08 | 0x01;
    return len;
}

static void gso_hdr(uint8_t type, uint16_t mss, bool needs_csum, uint16_t l4)
{
    struct virtio_net_hdr *h = vhdr();

    h->flags = needs_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : VIRTIO_NET_HDR_F_DATA_VALID;
    h->gso_type = type;
    h->gso_size = cpu_to_le16(mss);
    h->hdr_len = cpu_to_le16((uint16_t)(l4 + 20));
    h->csum_start = cpu_to_le16(needs_csum ? l4 : 0);
    h->csum_offset = cpu_to_le16(needs_csum ? 16 : 0);
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

/* True if the TCP checksum of the frame verifies (pseudo-header included). */
static bool tcp_csum_ok(const uint8_t *f, size_t l3, size_t l4, size_t end, int ipv)
{
    uint32_t s = sum16(f + l4, end - l4) + 6u + (uint32_t)(end - l4);

    s += ipv == 4 ? sum16(f + l3 + 12, 8) : sum16(f + l3 + 8, 32);
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return s == 0xFFFF;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_good(int ipv, bool needs_csum, size_t payload, uint16_t mss, unsigned vlan)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    size_t len = build(ipv, payload, vlan);
    uint16_t l3 = (uint16_t)(14 + 4 * vlan), l4 = (uint16_t)(l3 + (ipv == 4 ? 20 : 40));
    uint16_t n, i;
    uint32_t total = 0, expect_segs = (uint32_t)((payload + mss - 1) / mss);

    if (needs_csum) {
        /* A partial checksum holds the pseudo-header sum (5.1.6.4.1). */
        uint32_t s = 6u + (uint32_t)(len - l4);

        s += ipv == 4 ? sum16(frame + l3 + 12, 8) : sum16(frame + l3 + 8, 32);
        while (s >> 16)
            s = (s & 0xFFFF) + (s >> 16);
        tf_put16(frame + l4 + 16, (uint16_t)s);
    }
    n = scatter(rb, len);

    gso_hdr(ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6, mss, needs_csum, l4);
    assert_int_equal(vnet_rx_parse(&cfg_rsc, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(pkt.gso_size, mss);
    assert_int_equal(pkt.gso_payload, payload);
    assert_int_equal(pkt.gso_segs, expect_segs);
    if (needs_csum) {
        assert_true(pkt.csum_flags & VNET_RX_CSUM_PARTIAL);
        assert_false(pkt.csum_flags & VNET_RX_CSUM_TCP_VALUE_STALE);
    } else {
        assert_true(pkt.csum_flags & VNET_RX_CSUM_TCP_OK);
        assert_true(pkt.csum_flags & VNET_RX_CSUM_TCP_VALUE_STALE);
    }
    if (ipv == 4)
        assert_true(pkt.csum_flags & VNET_RX_CSUM_IP_OK);

    /* Gathered into one buffer, byte for byte. */
    memset(big, 0xAA, sizeof(big));
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, sizeof(big)), VNET_OK);
    assert_memory_equal(big + HDR, frame, len);
    if (needs_csum) {
        assert_int_equal(vnet_rx_complete_csum(big + HDR, (uint32_t)len, pkt.csum_start,
                                               pkt.csum_offset), VNET_OK);
        assert_true(tcp_csum_ok(big + HDR, l3, l4, len, ipv));
    }

    /* Cut back into segments: each a well-formed frame that fits the link. */
    for (i = 0; i < pkt.gso_segs; i++) {
        struct vnet_frame_info fi;
        uint32_t sl = vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, i, seg, sizeof(seg));
        uint32_t pay = sl - l4 - 20u;
        uint8_t flags = seg[l4 + 13];

        assert_true(sl > (uint32_t)l4 + 20u);
        assert_true(sl <= cfg_rsc.max_frame_len);
        assert_int_equal(vnet_parse_frame(seg, sl, &fi), VNET_OK);
        assert_int_equal(fi.ip_end, sl);
        assert_true(fi.has_l4);
        if (ipv == 4)
            assert_int_equal(vnet_csum_fold(seg + l3, 20), 0xFFFF);
        if (ipv == 4)
            assert_int_equal(vnet_get_be16(seg + l3 + 4), (uint16_t)i);
        assert_true(tcp_csum_ok(seg, l3, l4, sl, ipv));
        assert_int_equal(be32(seg + l4 + 4), 1000u + total);
        assert_memory_equal(seg + l4 + 20, frame + l4 + 20 + total, pay);
        assert_int_equal((flags & 0x80) != 0, i == 0);
        assert_int_equal((flags & 0x09) != 0, i + 1 == pkt.gso_segs);
        assert_true(flags & 0x10);
        if (i + 1 < pkt.gso_segs)
            assert_int_equal(pay, mss);
        total += pay;
    }
    assert_int_equal(total, payload);
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, pkt.gso_segs, seg,
                                         sizeof(seg)), 0);
}

static void test_good_ipv4(void **state)
{
    (void)state;
    check_good(4, true, 9000, 1448, 0);
    check_good(4, false, 9000, 1448, 0);
    check_good(4, true, 65535 - 40, 1460, 0);  /* the largest IPv4 datagram */
    check_good(4, true, 2 * 1448, 1448, 1);    /* exact multiple, VLAN tagged */
}

static void test_good_ipv6(void **state)
{
    (void)state;
    check_good(6, true, 30000, 1440, 0);
    check_good(6, false, 30000, 1440, 0);
    check_good(6, true, 65535 - 20, 1440, 0);  /* the largest IPv6 payload */
    check_good(6, false, 1, 1440, 2);          /* one segment */
}

static void test_segment_counts(void **state)
{
    static const struct { size_t payload; uint16_t mss; uint16_t segs; } c[] = {
        { 1, 1448, 1 }, { 1448, 1448, 1 }, { 1449, 1448, 2 }, { 2896, 1448, 2 },
        { 60000, 1448, 42 }, { 60000, 536, 112 }, { 65495, 1460, 45 }, { 1000, 1, 1000 },
    };
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint16_t n = scatter(rb, build(4, c[i].payload, 0));

        gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, c[i].mss, true, 34);
        assert_int_equal(vnet_rx_parse(&cfg_rsc, rb, n, &pkt), VNET_OK);
        assert_int_equal(pkt.gso_segs, c[i].segs);
    }
}

/* Every malformed GSO header must be refused, never accepted or crash. */
static void test_malformed(void **state)
{
    struct vnet_rx_config cfg = cfg_rsc;
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    struct virtio_net_hdr *h = vhdr();
    size_t len = build(4, 9000, 0);
    uint16_t n = scatter(rb, len);

    (void)state;
#define GOOD() gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448, true, 34)
#define REFUSED() assert_int_not_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK)
    GOOD();
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK);

    /* gso_type against what was negotiated and what the frame is. */
    cfg.guest_tso4 = false;
    REFUSED();
    cfg = cfg_rsc;
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;        /* IPv4 frame */
    REFUSED();
    h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
    REFUSED();
    h->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
    REFUSED();
    h->gso_type = 2;
    REFUSED();
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN; /* ECN not negotiated */
    REFUSED();
    GOOD();
    h->gso_size = 0;
    REFUSED();
    GOOD();
    h->gso_size = cpu_to_le16(1500);               /* segments would not fit the MTU */
    REFUSED();

    /* Checksum flags: none, both, or a partial checksum that is not TCP's. */
    GOOD();
    h->flags = 0;
    REFUSED();
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
    REFUSED();
    GOOD();
    h->csum_start = cpu_to_le16(14);
    REFUSED();
    GOOD();
    h->csum_offset = cpu_to_le16(6);
    REFUSED();
    GOOD();
    h->csum_start = cpu_to_le16(0xFFF0);
    REFUSED();
    GOOD();
    cfg.guest_csum = false;                        /* flags not allowed at all */
    REFUSED();
    cfg = cfg_rsc;

    /* hdr_len outside the frame. */
    GOOD();
    h->hdr_len = cpu_to_le16((uint16_t)(len + 1));
    REFUSED();

    /* IP length shorter than the frame (trailing bytes), longer (truncated), and a bad header
     * checksum; each time the frame is rebuilt afterwards. */
    frame[16] = (uint8_t)((len - 14 - 100) >> 8);
    frame[17] = (uint8_t)(len - 14 - 100);
    tf_ipv4_csum(frame + 14);
    n = scatter(rb, len);
    GOOD();
    REFUSED();
    frame[16] = (uint8_t)((len - 14 + 100) >> 8);
    frame[17] = (uint8_t)(len - 14 + 100);
    tf_ipv4_csum(frame + 14);
    n = scatter(rb, len);
    GOOD();
    REFUSED();
    len = build(4, 9000, 0);
    frame[14 + 10] ^= 0x40;
    n = scatter(rb, len);
    GOOD();
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_MALFORMED);

    /* A fragment, a frame without payload, a UDP datagram, a non-IP frame. */
    len = build(4, 9000, 0);
    frame[14 + 6] = 0x20;
    tf_ipv4_csum(frame + 14);
    n = scatter(rb, len);
    GOOD();
    REFUSED();
    len = build(4, 0, 0);
    n = scatter(rb, len);
    GOOD();
    REFUSED();
    {
        struct tf_opts o = { .ip_version = 4, .l4_proto = 17, .payload = 4000 };

        len = tf_build(frame, sizeof(frame), &o);
        n = scatter(rb, len);
        GOOD();
        REFUSED();
        o.ip_version = 0;
        len = tf_build(frame, sizeof(frame), &o);
        n = scatter(rb, len);
        GOOD();
        h->csum_start = 0;
        h->csum_offset = 0;
        h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
        REFUSED();
    }

    /* IPv6: TCPV4 on an IPv6 frame, payload length inconsistent. */
    len = build(6, 9000, 0);
    n = scatter(rb, len);
    gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1440, true, 54);
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK);
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    REFUSED();
    cfg.guest_tso6 = false;
    gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1440, true, 54);
    REFUSED();
    cfg = cfg_rsc;
    frame[18] = (uint8_t)((9000 + 20 - 8) >> 8);
    frame[19] = (uint8_t)(9000 + 20 - 8);
    n = scatter(rb, len);
    gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1440, true, 54);
    REFUSED();

    /* Without mergeable buffers a frame longer than the posted buffer cannot even arrive. */
    cfg.mergeable = false;
    len = build(4, 1000, 0);
    n = scatter(rb, len);
    gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 536, true, 34);
    assert_int_equal(vnet_rx_parse(&cfg, rb, 1, &pkt), VNET_OK);
    assert_int_equal(pkt.gso_segs, 2);
#undef GOOD
#undef REFUSED
}

static void test_copy_chain_and_segment_bounds(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    size_t len = build(4, 20000, 0);
    uint16_t n = scatter(rb, len);

    (void)state;
    gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448, true, 34);
    assert_int_equal(vnet_rx_parse(&cfg_rsc, rb, n, &pkt), VNET_OK);
    /* The destination bounds the copy, not the device's lengths. */
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, (uint32_t)len), VNET_ERR_TOO_LONG);
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, HDR - 1), VNET_ERR_TOO_LONG);
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, (uint16_t)(n - 1), &pkt, big, sizeof(big)),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rx_copy_chain(NULL, rb, n, &pkt, big, sizeof(big)), VNET_ERR_INVAL);
    /* Lengths changed behind the parser's back. */
    rb[3].used_len = POSTED + 1;
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, sizeof(big)), VNET_ERR_DEVICE);
    rb[3].used_len = POSTED - 1;
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, sizeof(big)), VNET_ERR_DEVICE);
    rb[3].used_len = POSTED;
    assert_int_equal(vnet_rx_copy_chain(&cfg_rsc, rb, n, &pkt, big, sizeof(big)), VNET_OK);

    /* Segmentation refuses what it cannot do safely. */
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, 0, seg, 1448), 0);
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len - 1, &pkt, 0, seg, sizeof(seg)), 0);
    assert_int_equal(vnet_rx_gso_segment(NULL, pkt.frame_len, &pkt, 0, seg, sizeof(seg)), 0);
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, 0, NULL, sizeof(seg)), 0);
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, 0xFFFF, seg, sizeof(seg)),
                     0);
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, 13, seg, sizeof(seg)),
                     34u + 20u + 20000u - 13u * 1448u);
    pkt.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    assert_int_equal(vnet_rx_gso_segment(big + HDR, pkt.frame_len, &pkt, 0, seg, sizeof(seg)), 0);
}

/* Random GSO headers over a valid frame: whatever is accepted is self-consistent. */
static void test_random_gso(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint32_t seed = 0x5eed, accepted = 0, k;
    size_t len = build(4, 12000, 0);
    uint16_t n = scatter(rb, len);

    (void)state;
    for (k = 0; k < 20000; k++) {
        struct virtio_net_hdr *h = vhdr();
        uint32_t r = tf_rand(&seed);

        h->flags = (uint8_t)(r & 3);
        h->gso_type = (r >> 2) & 1 ? VIRTIO_NET_HDR_GSO_TCPV4 : (uint8_t)(r >> 3);
        h->gso_size = cpu_to_le16((r >> 12) & 1 ? 1448 : (uint16_t)tf_rand(&seed));
        h->hdr_len = cpu_to_le16((uint16_t)tf_rand(&seed));
        h->csum_start = cpu_to_le16((r >> 13) & 1 ? 34 : (uint16_t)tf_rand(&seed));
        h->csum_offset = cpu_to_le16((r >> 14) & 1 ? 16 : (uint16_t)(tf_rand(&seed) & 0x3F));
        if (vnet_rx_parse(&cfg_rsc, rb, n, &pkt) != VNET_OK ||
            pkt.gso_type == VIRTIO_NET_HDR_GSO_NONE)
            continue;
        accepted++;
        assert_true(pkt.gso_size > 0 && pkt.gso_segs > 0);
        assert_true(pkt.gso_payload <= (uint32_t)pkt.gso_segs * pkt.gso_size);
        assert_true(pkt.gso_payload > (uint32_t)(pkt.gso_segs - 1) * pkt.gso_size);
        assert_true(pkt.csum_flags & (VNET_RX_CSUM_PARTIAL | VNET_RX_CSUM_TCP_OK));
        if (pkt.csum_flags & VNET_RX_CSUM_PARTIAL)
            assert_true(pkt.csum_start == 34 && pkt.csum_offset == 16);
    }
    assert_true(accepted > 100);
}

static void test_offload_switches(void **state)
{
    struct vnet_offload_cfg caps, cfg;
    struct vnet_ctrl_cmd cmd;
    uint64_t f = (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
                 (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
                 (1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
    bool on = false;

    (void)state;
    /* RSC only where the device coalesces: GUEST_TSO, which needs GUEST_CSUM. */
    vnet_offload_caps(f, &caps);
    assert_true(caps.rsc4 && caps.rsc6);
    vnet_offload_caps(f & ~(1ull << VIRTIO_NET_F_GUEST_TSO6), &caps);
    assert_true(caps.rsc4 && !caps.rsc6);
    vnet_offload_caps(f & ~(1ull << VIRTIO_NET_F_GUEST_CSUM), &caps);
    assert_true(!caps.rsc4 && !caps.rsc6);
    memset(&cfg, 1, sizeof(cfg));
    vnet_offload_mask(&cfg, &caps);
    assert_false(cfg.rsc4 || cfg.rsc6);

    /* OID_TCP_OFFLOAD_PARAMETERS RscIPv4/RscIPv6 values. */
    assert_int_equal(vnet_offload_apply_rsc(VNET_OFFLOAD_RSC_ENABLED, &on), VNET_OID_OK);
    assert_true(on);
    assert_int_equal(vnet_offload_apply_rsc(VNET_OFFLOAD_NO_CHANGE, &on), VNET_OID_OK);
    assert_true(on);
    assert_int_equal(vnet_offload_apply_rsc(VNET_OFFLOAD_RSC_DISABLED, &on), VNET_OID_OK);
    assert_false(on);
    assert_int_equal(vnet_offload_apply_rsc(3, &on), VNET_OID_INVALID_DATA);
    assert_false(on);

    /* VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: le64 of negotiated receive offloads only. */
    assert_int_equal(vnet_ctrl_guest_offloads_set(f, 1ull << VIRTIO_NET_F_GUEST_CSUM, &cmd), VNET_OK);
    assert_int_equal(cmd.cls, VIRTIO_NET_CTRL_GUEST_OFFLOADS);
    assert_int_equal(cmd.cmd, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET);
    assert_int_equal(cmd.len, 8);
    assert_int_equal(cmd.data[0], 1u << VIRTIO_NET_F_GUEST_CSUM);
    assert_int_equal(cmd.data[1] | cmd.data[7], 0);
    assert_int_equal(vnet_ctrl_guest_offloads_set(f, (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                                                     (1ull << VIRTIO_NET_F_GUEST_TSO6), &cmd),
                     VNET_OK);
    /* GUEST_TSO6 is bit 8: the second byte. */
    assert_int_equal(cmd.data[0], 1u << VIRTIO_NET_F_GUEST_CSUM);
    assert_int_equal(cmd.data[1], 1u << (VIRTIO_NET_F_GUEST_TSO6 - 8));
    assert_int_equal(vnet_ctrl_guest_offloads_set(f, 1ull << VIRTIO_NET_F_CTRL_VQ, &cmd),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_guest_offloads_set(f, 1ull << VIRTIO_NET_F_GUEST_UFO, &cmd),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_guest_offloads_set(f & ~(1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
                                                  0, &cmd), VNET_ERR_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_guest_offloads_set(f, 0, NULL), VNET_ERR_INVAL);
    assert_true(vnet_oid_lookup(VNET_OID_TCP_RSC_STATISTICS) != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_ipv4),
        cmocka_unit_test(test_good_ipv6),
        cmocka_unit_test(test_segment_counts),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_copy_chain_and_segment_bounds),
        cmocka_unit_test(test_random_gso),
        cmocka_unit_test(test_offload_switches),
    };

    return cmocka_run_group_tests_name("net_rsc", tests, NULL, NULL);
}
