/*
 * Unit tests for src/net/vnet_tx.c (and the frame parser under it): virtio_net_hdr contents for
 * checksum and LSO requests over IPv4/IPv6/VLAN/extension headers, refusal of offloads the
 * device did not negotiate, and refusal of malformed, truncated and oversized frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_tx.h"
#include "test_net_frames.h"

#define F(bit) (1ull << (bit))
static const uint64_t all_tx = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
                               F(VIRTIO_NET_F_HOST_TSO6);

static uint8_t frame[70000];

static size_t build(int ipv, uint8_t proto, size_t payload, unsigned vlans)
{
    struct tf_opts o = { .ip_version = ipv, .l4_proto = proto, .sport = 1000, .dport = 80,
                         .payload = payload, .vlan_tags = vlans };

    tf_ipv4(o.src, 10, 0, 0, 1);
    tf_ipv4(o.dst, 10, 0, 0, 2);
    return tf_build(frame, sizeof(frame), &o);
}

static void expect_hdr(const struct virtio_net_hdr *h, uint8_t flags, uint8_t gso_type,
                       uint16_t hdr_len, uint16_t gso_size, uint16_t start, uint16_t off)
{
    assert_int_equal(h->flags, flags);
    assert_int_equal(h->gso_type, gso_type);
    assert_int_equal(le16_to_cpu(h->hdr_len), hdr_len);
    assert_int_equal(le16_to_cpu(h->gso_size), gso_size);
    assert_int_equal(le16_to_cpu(h->csum_start), start);
    assert_int_equal(le16_to_cpu(h->csum_offset), off);
}

static void test_no_offload(void **state)
{
    struct vnet_tx_request req = { .max_frame_len = 1514 };
    struct virtio_net_hdr h;
    size_t len = build(0, 0, 0, 0);

    (void)state;
    memset(&h, 0xAA, sizeof(h));
    /* Non-IP frames without offload are fine, whatever the features. */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, 0, &h), VNET_OK);
    expect_hdr(&h, 0, 0, 0, 0, 0, 0);
}

static void test_csum_tcp_ipv4(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true, .max_frame_len = 1514 };
    struct virtio_net_hdr h;
    size_t len = build(4, 6, 100, 0);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 54, 0, 34, 16);

    len = build(4, 6, 100, 1);
    req.max_frame_len = 1518;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 58, 0, 38, 16);

    len = build(4, 6, 100, 2);
    req.max_frame_len = 1522;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 62, 0, 42, 16);
}

static void test_csum_udp_ipv6_ext(void **state)
{
    struct vnet_tx_request req = { .csum_udp = true };
    struct tf_opts o = { .ip_version = 6, .l4_proto = 17, .sport = 53, .dport = 53,
                         .payload = 20, .v6_ext = 2 };
    struct virtio_net_hdr h;
    size_t len = tf_build(frame, sizeof(frame), &o);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 14 + 40 + 16 + 8, 0,
               14 + 40 + 16, 6);

    /* TCP checksum asked for a UDP datagram: refused. */
    req.csum_udp = false;
    req.csum_tcp = true;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
    expect_hdr(&h, 0, 0, 0, 0, 0, 0);
}

static void test_lso(void **state)
{
    struct vnet_tx_request req = { .lso_mss = 1460 };
    struct tf_opts o = { .ip_version = 4, .l4_proto = 6, .payload = 8000, .tcp_opt_words = 3 };
    struct virtio_net_hdr h;
    size_t len = tf_build(frame, sizeof(frame), &o);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1460, 34, 16);

    o.ip_version = 6;
    len = tf_build(frame, sizeof(frame), &o);
    req.lso_mss = 1440;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 86, 1440, 54, 16);

    /* Largest payload NDIS may send, then one byte more. */
    o.ip_version = 6;
    o.tcp_opt_words = 0;
    o.payload = VNET_TX_LSO_MAX_PAYLOAD - 20;
    len = tf_build(frame, sizeof(frame), &o);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
}

/* A segment with CWR needs HOST_ECN, and then the ECN bit in gso_type. */
static void test_lso_ecn(void **state)
{
    struct vnet_tx_request req = { .lso_mss = 1000 };
    struct virtio_net_hdr h;
    size_t len = build(4, 6, 5000, 0);

    (void)state;
    frame[34 + 13] |= 0x80;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
    expect_hdr(&h, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx | F(VIRTIO_NET_F_HOST_ECN), &h),
                     VNET_OK);
    expect_hdr(&h, VIRTIO_NET_HDR_F_NEEDS_CSUM,
               VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1000, 34, 16);
}

static void test_unsupported_features(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true };
    struct virtio_net_hdr h;
    size_t len = build(4, 6, 100, 0);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, 0, &h), VNET_ERR_UNSUPPORTED);
    req.csum_tcp = false;
    req.lso_mss = 536;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, F(VIRTIO_NET_F_CSUM), &h),
                     VNET_ERR_UNSUPPORTED);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req,
                                       F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO6), &h),
                     VNET_ERR_UNSUPPORTED);
    /* LSO of UDP is not TCP segmentation. */
    len = build(4, 17, 3000, 0);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
    /* Non-IP with an offload request. */
    req.lso_mss = 0;
    req.csum_tcp = true;
    len = build(0, 0, 0, 0);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
    /* Three VLAN tags are beyond what we parse. */
    len = build(4, 6, 10, 3);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
}

static void test_fragment_refused(void **state)
{
    struct vnet_tx_request req = { .csum_udp = true };
    struct tf_opts o = { .ip_version = 4, .l4_proto = 17, .payload = 100, .v4_fragment = 1 };
    struct virtio_net_hdr h;
    size_t len = tf_build(frame, sizeof(frame), &o);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);
}

static void test_malformed_ipv4(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true };
    struct virtio_net_hdr h;
    size_t len;

    (void)state;
    len = build(4, 6, 0, 0);
    /* Truncated before the end of the IP header, the TCP header, the TCP options. */
    assert_int_equal(vnet_tx_build_hdr(frame, 30, &req, all_tx, &h), VNET_ERR_SHORT);
    assert_int_equal(vnet_tx_build_hdr(frame, 40, &req, all_tx, &h), VNET_ERR_SHORT);
    assert_int_equal(vnet_tx_build_hdr(frame, 10, &req, all_tx, &h), VNET_ERR_SHORT);

    len = build(4, 6, 0, 0);
    frame[14] = 0x44; /* IHL 4 */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = build(4, 6, 0, 0);
    frame[14] = 0x55; /* version 5 */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = build(4, 6, 0, 0);
    frame[14] = 0x4F; /* IHL 60 bytes, longer than the datagram */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = build(4, 6, 0, 0);
    tf_put16(frame + 16, 2000); /* total length beyond the frame */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_SHORT);
    len = build(4, 6, 0, 0);
    tf_put16(frame + 16, 10); /* total length below the header */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = build(4, 6, 0, 0);
    frame[34 + 12] = 0x40; /* TCP data offset 16 bytes */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = build(4, 6, 0, 0);
    frame[34 + 12] = 0xF0; /* TCP data offset 60 bytes, beyond the datagram */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_SHORT);
    expect_hdr(&h, 0, 0, 0, 0, 0, 0);
}

static void test_malformed_ipv6(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true };
    struct tf_opts o = { .ip_version = 6, .l4_proto = 6, .payload = 10, .v6_ext = 1 };
    struct virtio_net_hdr h;
    size_t len;
    unsigned i;

    (void)state;
    len = tf_build(frame, sizeof(frame), &o);
    tf_put16(frame + 18, 0); /* jumbogram payload length */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    len = tf_build(frame, sizeof(frame), &o);
    tf_put16(frame + 18, 1000);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_SHORT);
    len = tf_build(frame, sizeof(frame), &o);
    frame[54 + 1] = 200; /* extension header longer than the datagram */
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_SHORT);

    /* A chain of more extension headers than we follow. */
    o.v6_ext = 12;
    len = tf_build(frame, sizeof(frame), &o);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_UNSUPPORTED);

    /* Every truncation of a valid frame is refused, never read past. */
    o.v6_ext = 2;
    len = tf_build(frame, sizeof(frame), &o);
    for (i = 0; i < len; i++)
        assert_int_not_equal(vnet_tx_build_hdr(frame, i, &req, all_tx, &h), VNET_OK);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_OK);
}

static void test_lso_malformed(void **state)
{
    struct vnet_tx_request req = { .lso_mss = 1460 };
    struct virtio_net_hdr h;
    size_t len;

    (void)state;
    /* Headers only: nothing to segment. */
    len = build(4, 6, 0, 0);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_MALFORMED);
    /* Padding after the datagram would be sent as TCP payload. */
    len = build(4, 6, 100, 0);
    assert_int_equal(vnet_tx_build_hdr(frame, len + 4, &req, all_tx, &h), VNET_ERR_MALFORMED);
    /* MSS beyond the 16-bit field. */
    req.lso_mss = 70000;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_INVAL);
}

static void test_oversized(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true, .max_frame_len = 1514 };
    struct virtio_net_hdr h;
    size_t len = build(4, 6, 1461, 0);

    (void)state;
    assert_int_equal(len, 1515u);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_TOO_LONG);
    req.csum_tcp = false;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_TOO_LONG);
    assert_int_equal(vnet_tx_build_hdr(frame, len - 1, &req, all_tx, &h), VNET_OK);
    /* Larger than any 16-bit offset can describe. */
    req.csum_tcp = true;
    req.max_frame_len = 0;
    assert_int_equal(vnet_tx_build_hdr(frame, VNET_MAX_FRAME_LEN + 1, &req, all_tx, &h), VNET_ERR_TOO_LONG);
}

static void test_bad_args(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true, .csum_udp = true };
    struct virtio_net_hdr h;
    size_t len = build(4, 6, 10, 0);

    (void)state;
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_tx_build_hdr(NULL, len, &req, all_tx, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_tx_build_hdr(frame, len, NULL, all_tx, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_tx_build_hdr(frame, len, &req, all_tx, NULL), VNET_ERR_INVAL);
    assert_string_equal(vnet_strerror(VNET_ERR_DEVICE), "invalid value from device");
}

/* Random bytes after a valid Ethernet/IP prefix: any result is fine, but an accepted frame must
 * yield offsets that stay inside it. */
static void test_random_frames(void **state)
{
    struct vnet_tx_request req = { .csum_tcp = true };
    struct virtio_net_hdr h;
    uint32_t seed = 0x12345678;
    unsigned iter, i;

    (void)state;
    for (iter = 0; iter < 20000; iter++) {
        size_t len = 14 + tf_rand(&seed) % 120;
        int rc;

        for (i = 0; i < len; i++)
            frame[i] = (uint8_t)tf_rand(&seed);
        tf_put16(frame + 12, (iter & 1) ? 0x0800 : 0x86DD);
        frame[14] = (iter & 1) ? (uint8_t)(0x40 | (frame[14] & 0x0F)) : 0x60;
        frame[14 + ((iter & 1) ? 9 : 6)] = 6;
        req.lso_mss = (iter & 2) ? 536 : 0;
        rc = vnet_tx_build_hdr(frame, len, &req, all_tx, &h);
        if (rc == VNET_OK) {
            assert_true(le16_to_cpu(h.csum_start) + le16_to_cpu(h.csum_offset) + 2u <= len);
            assert_true(le16_to_cpu(h.hdr_len) <= len);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_offload),
        cmocka_unit_test(test_csum_tcp_ipv4),
        cmocka_unit_test(test_csum_udp_ipv6_ext),
        cmocka_unit_test(test_lso),
        cmocka_unit_test(test_lso_ecn),
        cmocka_unit_test(test_unsupported_features),
        cmocka_unit_test(test_fragment_refused),
        cmocka_unit_test(test_malformed_ipv4),
        cmocka_unit_test(test_malformed_ipv6),
        cmocka_unit_test(test_lso_malformed),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_random_frames),
    };

    return cmocka_run_group_tests_name("net_tx", tests, NULL, NULL);
}
