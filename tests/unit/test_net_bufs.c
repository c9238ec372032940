/*
 * Unit tests for the buffer helpers of vdpnet's data path: mergeable receive chains copied into
 * the first buffer (vnet_rx_gather, including lengths a hostile device could report), software
 * completion of partial checksums, 802.1Q tag stripping on receive, and on transmit the
 * header-only offload decision, the VLAN head and the IPv4 header checksum.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_rx.h"
#include "vnet_tx.h"
#include "test_net_frames.h"

#define F(bit) (1ull << (bit))
#define HDR 12u

static uint8_t frame[10000];
static uint8_t b0[HDR + 1600], b1[1600], b2[1600];

static size_t build(int ipv, uint8_t proto, size_t payload, unsigned vlans)
{
    struct tf_opts o = { .ip_version = ipv, .l4_proto = proto, .sport = 1000, .dport = 80,
                         .payload = payload, .vlan_tags = vlans };

    tf_ipv4(o.src, 10, 0, 0, 1);
    tf_ipv4(o.dst, 10, 0, 0, 2);
    return tf_build(frame, sizeof(frame), &o);
}

static const struct vnet_rx_config mrg_cfg = {
    .hdr_len = HDR, .mergeable = true, .guest_csum = true, .max_frame_len = 1518, .max_buffers = 8,
};

/* Split `len` bytes of frame into b0 (after the header) / b1 / b2 at the given cut points. */
static void split(size_t len, size_t c1, size_t c2, uint16_t nbuf, struct vnet_rx_buf *bufs)
{
    struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = cpu_to_le16(nbuf) };

    memset(b0, 0, sizeof(b0));
    memcpy(b0, &h, sizeof(h));
    memcpy(b0 + HDR, frame, c1);
    memcpy(b1, frame + c1, c2 - c1);
    memcpy(b2, frame + c2, len - c2);
    bufs[0] = (struct vnet_rx_buf){ b0, sizeof(b0), (uint32_t)(HDR + c1) };
    bufs[1] = (struct vnet_rx_buf){ b1, sizeof(b1), (uint32_t)(c2 - c1) };
    bufs[2] = (struct vnet_rx_buf){ b2, sizeof(b2), (uint32_t)(len - c2) };
}

static void test_gather(void **state)
{
    struct vnet_rx_buf bufs[3];
    struct vnet_rx_packet pkt;
    size_t len = build(4, 6, 1400, 0);

    (void)state;
    split(len, 100, 700, 3, bufs);
    assert_int_equal(vnet_rx_parse(&mrg_cfg, bufs, 3, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 3, &pkt, b0), VNET_OK);
    assert_memory_equal(b0 + HDR, frame, len);

    /* One buffer: nothing to copy, still fine. */
    split(len, len, len, 1, bufs);
    assert_int_equal(vnet_rx_parse(&mrg_cfg, bufs, 1, &pkt), VNET_OK);
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 1, &pkt, b0), VNET_OK);
    assert_memory_equal(b0 + HDR, frame, len);
}

static void test_gather_hostile(void **state)
{
    struct vnet_rx_buf bufs[3];
    struct vnet_rx_packet pkt;
    size_t len = build(4, 6, 1400, 0);

    (void)state;
    split(len, 100, 700, 3, bufs);
    assert_int_equal(vnet_rx_parse(&mrg_cfg, bufs, 3, &pkt), VNET_OK);
    /* Lengths changed after parsing (a device rewriting the used ring): refused. */
    bufs[2].used_len += 10;
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 3, &pkt, b0), VNET_ERR_DEVICE);
    bufs[2].used_len = bufs[2].posted_len + 1;
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 3, &pkt, b0), VNET_ERR_DEVICE);
    /* Wrong buffer count. */
    split(len, 100, 700, 3, bufs);
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 2, &pkt, b0), VNET_ERR_INVAL);
    /* A first buffer too small to hold the whole frame cannot take the copy. */
    bufs[0].posted_len = HDR + 200;
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 3, &pkt, b0), VNET_ERR_TOO_LONG);
    bufs[0].posted_len = HDR - 1;
    assert_int_equal(vnet_rx_gather(&mrg_cfg, bufs, 3, &pkt, b0), VNET_ERR_DEVICE);
    assert_int_equal(vnet_rx_gather(NULL, bufs, 3, &pkt, b0), VNET_ERR_INVAL);
}

static uint16_t l4_sum_ok(const uint8_t *f, size_t len, size_t l3, size_t l4)
{
    /* Verify: pseudo header + segment must fold to 0xffff. */
    uint8_t ph[12];
    uint32_t s;

    memcpy(ph, f + l3 + 12, 8);
    ph[8] = 0;
    ph[9] = f[l3 + 9];
    tf_put16(ph + 10, (uint16_t)(len - l4));
    s = (uint32_t)vnet_csum_fold(ph, 12) + vnet_csum_fold(f + l4, len - l4);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void test_complete_csum(void **state)
{
    size_t len = build(4, 6, 333, 0), l3 = 14, l4 = 34;
    uint8_t ph[12];
    uint16_t psum;

    (void)state;
    /* The device leaves the pseudo-header sum in the checksum field. */
    memcpy(ph, frame + l3 + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    tf_put16(ph + 10, (uint16_t)(len - l4));
    psum = vnet_csum_fold(ph, 12);
    tf_put16(frame + l4 + 16, psum);
    assert_int_equal(vnet_rx_complete_csum(frame, (uint32_t)len, (uint16_t)l4, 16), VNET_OK);
    assert_int_equal(l4_sum_ok(frame, len, l3, l4), 0xffff);
    /* Offsets outside the frame are refused, nothing written. */
    assert_int_equal(vnet_rx_complete_csum(frame, (uint32_t)len, (uint16_t)len, 0), VNET_ERR_DEVICE);
    assert_int_equal(vnet_rx_complete_csum(frame, (uint32_t)len, (uint16_t)(len - 2), 1),
                     VNET_ERR_DEVICE);
    assert_int_equal(vnet_rx_complete_csum(frame, 0, 0, 0), VNET_ERR_DEVICE);
}

static void test_vlan_strip(void **state)
{
    uint8_t copy[2048];
    size_t len = build(4, 17, 20, 1);
    uint16_t tci = 0;

    (void)state;
    memcpy(copy, frame, len);
    assert_true(vnet_vlan_strip(frame, (uint32_t)len, &tci));
    assert_int_equal(tci, 100);
    assert_memory_equal(frame + 4, copy, 12);
    assert_memory_equal(frame + 16, copy + 16, len - 16);
    /* Untagged and QinQ frames stay as they are. */
    len = build(4, 17, 20, 0);
    assert_false(vnet_vlan_strip(frame, (uint32_t)len, &tci));
    len = build(4, 17, 20, 2);
    assert_false(vnet_vlan_strip(frame, (uint32_t)len, &tci));
    assert_false(vnet_vlan_strip(frame, 17, &tci));
}

static void test_tx_head(void **state)
{
    struct vnet_tx_request req = { .lso_mss = 1460 };
    struct virtio_net_hdr h, h2;
    uint64_t feat = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4);
    size_t len = build(4, 6, 8000, 0);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, feat, &h), VNET_OK);
    /* Only the headers at hand: same decision. */
    assert_int_equal(vnet_tx_build_hdr_head(frame, 54, len, &req, feat, &h2), VNET_OK);
    assert_memory_equal(&h, &h2, sizeof(h));
    /* The head must hold every header; a head larger than the frame is a caller bug. */
    assert_int_not_equal(vnet_tx_build_hdr_head(frame, 40, len, &req, feat, &h2), VNET_OK);
    assert_int_equal(vnet_tx_build_hdr_head(frame, len + 1, len, &req, feat, &h2), VNET_ERR_SHORT);
}

static void test_tx_vlan_and_ipcsum(void **state)
{
    uint8_t head[VNET_TX_VLAN_HEAD_LEN], tagged[2048];
    size_t len = build(4, 17, 10, 0);

    (void)state;
    vnet_tx_vlan_head(frame, 0x2064, head);
    assert_memory_equal(head, frame, 12);
    assert_int_equal(head[12], 0x81);
    assert_int_equal(head[13], 0x00);
    assert_int_equal(head[14], 0x20);
    assert_int_equal(head[15], 0x64);
    /* Tagged frame = head + original from offset 12: the parser must see a valid frame. */
    memcpy(tagged, head, 16);
    memcpy(tagged + 16, frame + 12, len - 12);
    {
        struct vnet_frame_info info;

        assert_int_equal(vnet_parse_frame(tagged, len + 4, &info), VNET_OK);
        assert_int_equal(info.vlan_tags, 1);
        assert_int_equal(info.l4_proto, 17);
    }

    /* IPv4 header checksum recomputed from scratch, also behind a tag. */
    frame[24] ^= 0x55;
    assert_int_equal(vnet_tx_ipv4_csum(frame, 34), VNET_OK);
    assert_int_equal(vnet_csum_fold(frame + 14, 20), 0xffff);
    tagged[28] = 0;
    tagged[29] = 0;
    assert_int_equal(vnet_tx_ipv4_csum(tagged, 38), VNET_OK);
    assert_int_equal(vnet_csum_fold(tagged + 18, 20), 0xffff);
    /* Not IPv4, truncated, bad IHL. */
    len = build(6, 17, 10, 0);
    assert_int_equal(vnet_tx_ipv4_csum(frame, len), VNET_ERR_UNSUPPORTED);
    len = build(4, 17, 10, 0);
    assert_int_equal(vnet_tx_ipv4_csum(frame, 30), VNET_ERR_UNSUPPORTED);
    frame[14] = 0x44;
    assert_int_equal(vnet_tx_ipv4_csum(frame, len), VNET_ERR_MALFORMED);
    frame[14] = 0x4f;
    assert_int_equal(vnet_tx_ipv4_csum(frame, 40), VNET_ERR_MALFORMED);
}

static void test_lso_fix_lengths(void **state)
{
    struct vnet_tx_request req = { .lso_mss = 1000 };
    struct virtio_net_hdr h;
    uint64_t feat = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6);
    size_t len = build(4, 6, 5000, 1), l3 = 18;

    (void)state;
    /* LSOv2 as the stack hands it: IPv4 Total Length 0. The parser refuses that as is. */
    frame[l3 + 2] = frame[l3 + 3] = 0;
    assert_int_not_equal(vnet_tx_build_hdr_head(frame, 80, len, &req, feat, &h), VNET_OK);
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 80, len), VNET_OK);
    assert_int_equal(vnet_get_be16(frame + l3 + 2), len - l3);
    assert_int_equal(vnet_csum_fold(frame + l3, 20), 0xffff);
    assert_int_equal(vnet_tx_build_hdr_head(frame, 80, len, &req, feat, &h), VNET_OK);
    assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    /* A filled-in length (LSOv1) is left alone. */
    frame[l3 + 3] ^= 1;
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 80, len), VNET_OK);
    assert_int_equal(vnet_get_be16(frame + l3 + 2), (len - l3) ^ 1);

    /* IPv6 Payload Length 0. */
    len = build(6, 6, 5000, 0);
    frame[14 + 4] = frame[14 + 5] = 0;
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 100, len), VNET_OK);
    assert_int_equal(vnet_get_be16(frame + 14 + 4), len - 14 - 40);
    assert_int_equal(vnet_tx_build_hdr_head(frame, 100, len, &req, feat, &h), VNET_OK);
    assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);

    /* Truncated head, non-IP, oversized, bad arguments. */
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 40, len), VNET_ERR_SHORT);
    len = build(0, 0, 0, 0);
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, len, len), VNET_ERR_UNSUPPORTED);
    len = build(4, 6, 10, 0);
    frame[16] = frame[17] = 0;
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 54, 70000), VNET_ERR_TOO_LONG);
    assert_int_equal(vnet_tx_lso_fix_lengths(frame, 54, 50), VNET_ERR_INVAL);
    assert_int_equal(vnet_tx_lso_fix_lengths(NULL, 54, 60), VNET_ERR_INVAL);
}

/* What the device does with NEEDS_CSUM: sum from csum_start to the end, store the complement. */
static void device_csum(uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
    size_t start = le16_to_cpu(h->csum_start), at = start + le16_to_cpu(h->csum_offset);
    uint16_t v = (uint16_t)~vnet_csum_fold(f + start, len - start);

    f[at] = (uint8_t)(v >> 8);
    f[at + 1] = (uint8_t)v;
}

static void test_pseudo_csum(void **state)
{
    struct vnet_tx_request tcp = { .csum_tcp = true, .max_frame_len = 1518 };
    struct vnet_tx_request udp = { .csum_udp = true, .max_frame_len = 1518 };
    uint64_t feat = F(VIRTIO_NET_F_CSUM);
    struct virtio_net_hdr h;
    size_t len;

    (void)state;
    /* Whatever the stack left in the field, the device ends with a correct checksum. */
    len = build(4, 6, 300, 0);
    frame[34 + 16] = 0x12;
    frame[34 + 17] = 0x34;
    assert_int_equal(vnet_tx_build_hdr_head(frame, 80, len, &tcp, feat, &h), VNET_OK);
    assert_int_equal(vnet_tx_pseudo_csum(frame, 80, len), VNET_OK);
    device_csum(frame, len, &h);
    assert_int_equal(l4_sum_ok(frame, len, 14, 34), 0xffff);

    len = build(4, 17, 100, 1);
    assert_int_equal(vnet_tx_build_hdr_head(frame, 60, len, &udp, feat, &h), VNET_OK);
    assert_int_equal(vnet_tx_pseudo_csum(frame, 60, len), VNET_OK);
    device_csum(frame, len, &h);
    assert_int_equal(l4_sum_ok(frame, len, 18, 38), 0xffff);

    /* IPv6: check against a pseudo header built by hand. */
    len = build(6, 6, 200, 0);
    assert_int_equal(vnet_tx_build_hdr_head(frame, 100, len, &tcp, feat, &h), VNET_OK);
    assert_int_equal(vnet_tx_pseudo_csum(frame, 100, len), VNET_OK);
    device_csum(frame, len, &h);
    {
        uint8_t ph[40] = { 0 };
        uint32_t sum;

        memcpy(ph, frame + 14 + 8, 32);
        ph[34] = (uint8_t)((len - 54) >> 8);
        ph[35] = (uint8_t)(len - 54);
        ph[39] = 6;
        sum = (uint32_t)vnet_csum_fold(ph, 40) + vnet_csum_fold(frame + 54, len - 54);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        assert_int_equal(sum, 0xffff);
    }

    /* Non-IP, fragments and truncated heads are refused. */
    len = build(0, 0, 0, 0);
    assert_int_equal(vnet_tx_pseudo_csum(frame, len, len), VNET_ERR_UNSUPPORTED);
    len = build(4, 6, 300, 0);
    assert_int_not_equal(vnet_tx_pseudo_csum(frame, 40, len), VNET_OK);
    assert_int_equal(vnet_tx_pseudo_csum(frame, len + 1, len), VNET_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_gather_hostile),
        cmocka_unit_test(test_complete_csum),
        cmocka_unit_test(test_vlan_strip),
        cmocka_unit_test(test_tx_head),
        cmocka_unit_test(test_tx_vlan_and_ipcsum),
        cmocka_unit_test(test_lso_fix_lengths),
        cmocka_unit_test(test_pseudo_csum),
    };

    return cmocka_run_group_tests_name("net_bufs", tests, NULL, NULL);
}
