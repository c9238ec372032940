/*
 * Unit tests for src/net/vnet_rx.c: receive chains as a correct device writes them (single and
 * mergeable buffers, checksum flags) and as a hostile one might (lengths beyond the posted
 * buffers, impossible buffer counts, unknown flags, GSO that was never negotiated, checksum
 * offsets outside the frame, oversized and runt frames).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_rx.h"
#include "test_net_frames.h"

#define POSTED 2048u
#define NBUF 8u

static uint8_t bufs[NBUF][POSTED];
static uint8_t frame[70000];

static const struct vnet_rx_config cfg_modern = {
    .hdr_len = 12, .mergeable = false, .guest_csum = true,
    .max_frame_len = 1518, .max_buffers = NBUF,
};

static const struct vnet_rx_config cfg_mrg = {
    .hdr_len = 12, .mergeable = true, .guest_csum = true,
    .max_frame_len = 1518, .max_buffers = NBUF,
};

static struct virtio_net_hdr_mrg_rxbuf *hdr0(void)
{
    return (struct virtio_net_hdr_mrg_rxbuf *)bufs[0];
}

/* Lay `len` frame bytes out behind a `hdr_len` header, `chunk` bytes per buffer at most. */
static uint16_t scatter(struct vnet_rx_buf *rb, uint32_t hdr_len, size_t len, uint32_t chunk)
{
    size_t done = 0;
    uint16_t n = 0;

    memset(bufs, 0, sizeof(bufs));
    do {
        uint32_t skip = n == 0 ? hdr_len : 0;
        size_t take = len - done;

        if (take > chunk - skip)
            take = chunk - skip;
        memcpy(bufs[n] + skip, frame + done, take);
        rb[n].data = bufs[n];
        rb[n].posted_len = POSTED;
        rb[n].used_len = (uint32_t)(skip + take);
        done += take;
        n++;
    } while (done < len && n < NBUF);
    return n;
}

static size_t build(int ipv, uint8_t proto, size_t payload)
{
    struct tf_opts o = { .ip_version = ipv, .l4_proto = proto, .sport = 7, .dport = 9,
                         .payload = payload };

    tf_ipv4(o.src, 192, 168, 1, 1);
    tf_ipv4(o.dst, 192, 168, 1, 2);
    return tf_build(frame, sizeof(frame), &o);
}

static void test_single_buffer_data_valid(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n, nb = 0;
    size_t len = build(4, 6, 200);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    assert_int_equal(n, 1);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    hdr0()->num_buffers = cpu_to_le16(1);
    assert_int_equal(vnet_rx_num_buffers(&cfg_modern, rb, &nb), VNET_OK);
    assert_int_equal(nb, 1);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(pkt.num_buffers, 1);
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_IP_OK | VNET_RX_CSUM_TCP_OK);
    assert_int_equal(pkt.info.l4_offset, 34);

    /* UDP over IPv6: no IPv4 header checksum to report. */
    len = build(6, 17, 20);
    n = scatter(rb, 12, len, POSTED);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_UDP_OK);
}

static void test_legacy_header(void **state)
{
    struct vnet_rx_config cfg = cfg_modern;
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n;
    size_t len = build(4, 17, 30);

    (void)state;
    cfg.hdr_len = 10;
    cfg.guest_csum = false;
    n = scatter(rb, 10, len, POSTED);
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    /* No DATA_VALID: only our own IPv4 header check. */
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_IP_OK);

    /* Mergeable buffers need the 12-byte header. */
    cfg.mergeable = true;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_INVAL);
    cfg.hdr_len = 11;
    cfg.mergeable = false;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_INVAL);
}

static void test_mergeable_chain(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n, nb = 0;
    size_t len = build(4, 6, 1400);

    (void)state;
    /* 40-byte buffers split the Ethernet, IP and TCP headers across buffers. */
    len = build(4, 6, 100);
    n = scatter(rb, 12, len, 40);
    assert_int_equal(n, 5);
    hdr0()->num_buffers = cpu_to_le16(n);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(pkt.info.l4_offset, 34);
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_IP_OK | VNET_RX_CSUM_TCP_OK);

    /* A full-size frame over all eight buffers. */
    len = build(4, 6, 1400);
    n = scatter(rb, 12, len, (uint32_t)((len + 12 + NBUF - 1) / NBUF));
    assert_int_equal(n, NBUF);
    hdr0()->num_buffers = cpu_to_le16(n);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_num_buffers(&cfg_mrg, rb, &nb), VNET_OK);
    assert_int_equal(nb, n);
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(pkt.num_buffers, n);
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_IP_OK | VNET_RX_CSUM_TCP_OK);

    /* Asking with the wrong number of entries is a caller bug. */
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, (uint16_t)(n - 1), &pkt), VNET_ERR_INVAL);
}

static void test_hostile_lengths(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n, nb;
    size_t len = build(4, 6, 100);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    rb[0].used_len = POSTED + 1; /* wrote past the buffer */
    assert_int_equal(vnet_rx_num_buffers(&cfg_modern, rb, &nb), VNET_ERR_DEVICE);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    rb[0].used_len = 0xFFFFFFFFu;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    rb[0].used_len = 11; /* shorter than the header */
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    rb[0].used_len = 12 + 13; /* runt frame */
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_SHORT);
    rb[0].used_len = 12; /* header only, nothing else follows */
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_SHORT);

    /* Oversized without GSO: MTU + headers is the limit. */
    len = build(4, 6, 1500);
    n = scatter(rb, 12, len, POSTED);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_TOO_LONG);

    /* Oversized through merged buffers. */
    len = build(4, 6, 8000);
    n = scatter(rb, 12, len, POSTED);
    hdr0()->num_buffers = cpu_to_le16(n);
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_ERR_TOO_LONG);

    /* A later buffer overrunning its posted size. */
    len = build(4, 6, 1400);
    n = scatter(rb, 12, len, 500);
    hdr0()->num_buffers = cpu_to_le16(n);
    rb[2].used_len = rb[2].posted_len + 100;
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_ERR_DEVICE);
    /* An empty continuation buffer. */
    n = scatter(rb, 12, len, 500);
    hdr0()->num_buffers = cpu_to_le16(n);
    rb[1].used_len = 0;
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_ERR_DEVICE);
}

static void test_hostile_num_buffers(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n, nb = 77;
    size_t len = build(4, 6, 100);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    hdr0()->num_buffers = 0;
    assert_int_equal(vnet_rx_num_buffers(&cfg_mrg, rb, &nb), VNET_ERR_DEVICE);
    assert_int_equal(nb, 0);
    assert_int_equal(vnet_rx_parse(&cfg_mrg, rb, n, &pkt), VNET_ERR_DEVICE);
    hdr0()->num_buffers = cpu_to_le16(NBUF + 1);
    assert_int_equal(vnet_rx_num_buffers(&cfg_mrg, rb, &nb), VNET_ERR_DEVICE);
    hdr0()->num_buffers = cpu_to_le16(0xFFFF);
    assert_int_equal(vnet_rx_num_buffers(&cfg_mrg, rb, &nb), VNET_ERR_DEVICE);
    /* Without MRG_RXBUF the field is not ours to trust: one buffer, whatever it says. */
    assert_int_equal(vnet_rx_num_buffers(&cfg_modern, rb, &nb), VNET_OK);
    assert_int_equal(nb, 1);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
}

static void test_hostile_flags(void **state)
{
    struct vnet_rx_config cfg = cfg_modern;
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n;
    size_t len = build(4, 6, 100);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    hdr0()->hdr.flags = 0x80;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_RSC_INFO; /* RSC_EXT never negotiated */
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    /* Checksum flags without GUEST_CSUM. */
    cfg.guest_csum = false;
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
}

static void test_needs_csum(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    struct virtio_net_hdr *h;
    uint16_t n;
    size_t len = build(4, 17, 100);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    h = &hdr0()->hdr;
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = cpu_to_le16(34);
    h->csum_offset = cpu_to_le16(6);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.csum_flags, VNET_RX_CSUM_PARTIAL | VNET_RX_CSUM_IP_OK);
    assert_int_equal(pkt.csum_start, 34);
    assert_int_equal(pkt.csum_offset, 6);

    /* The 2-byte checksum field must end inside the frame. */
    h->csum_start = cpu_to_le16((uint16_t)(len - 1));
    h->csum_offset = 0;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    h->csum_start = cpu_to_le16(0xFFFF);
    h->csum_offset = cpu_to_le16(0xFFFF);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    h->csum_start = cpu_to_le16((uint16_t)(len - 2));
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_DEVICE);
    h->csum_offset = 0;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
}

static void test_gso(void **state)
{
    struct vnet_rx_config cfg = cfg_mrg;
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    struct virtio_net_hdr *h;
    uint16_t n;
    size_t len = build(4, 6, 9000);

    (void)state;
    n = scatter(rb, 12, len, POSTED);
    hdr0()->num_buffers = cpu_to_le16(n);
    h = &hdr0()->hdr;
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h->gso_size = cpu_to_le16(1448);
    h->csum_start = cpu_to_le16(34);
    h->csum_offset = cpu_to_le16(16);
    /* GUEST_TSO4 was not negotiated. */
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);

    cfg.guest_tso4 = true;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.frame_len, len);
    assert_int_equal(pkt.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(pkt.gso_size, 1448);

    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* claims IPv6 for an IPv4 frame */
    cfg.guest_tso6 = true;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h->gso_size = 0;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
    h->gso_size = cpu_to_le16(1448);
    /* A validated coalesced frame is fine; one nobody vouched for is not. */
    h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.gso_segs, 7);
    h->flags = 0;
    assert_int_equal(vnet_rx_parse(&cfg, rb, n, &pkt), VNET_ERR_DEVICE);
}

static void test_checksum_and_parse_results(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t n;
    size_t len;

    (void)state;
    /* Wrong IPv4 header checksum: reported, never "succeeded". */
    len = build(4, 6, 10);
    frame[24] ^= 0x55;
    n = scatter(rb, 12, len, POSTED);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_true(pkt.csum_flags & VNET_RX_CSUM_IP_BAD);
    assert_false(pkt.csum_flags & VNET_RX_CSUM_IP_OK);

    /* ARP: delivered, no checksum information. */
    len = build(0, 0, 0);
    n = scatter(rb, 12, len, POSTED);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.csum_flags, 0);
    assert_int_equal(pkt.info.ip_version, 0);

    /* Malformed IP from the device: delivered for the stack to drop, without any claims. */
    len = build(4, 6, 10);
    tf_put16(frame + 16, 1000);
    n = scatter(rb, 12, len, POSTED);
    hdr0()->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_OK);
    assert_int_equal(pkt.parse_status, VNET_ERR_SHORT);
    assert_int_equal(pkt.csum_flags, 0);
}

static void test_bad_args(void **state)
{
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    uint16_t nb;
    size_t len = build(4, 6, 10);
    uint16_t n = scatter(rb, 12, len, POSTED);

    (void)state;
    assert_int_equal(vnet_rx_parse(NULL, rb, n, &pkt), VNET_ERR_INVAL);
    assert_int_equal(vnet_rx_parse(&cfg_modern, NULL, n, &pkt), VNET_ERR_INVAL);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, 0, &pkt), VNET_ERR_INVAL);
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, NULL), VNET_ERR_INVAL);
    assert_int_equal(vnet_rx_num_buffers(&cfg_modern, NULL, &nb), VNET_ERR_INVAL);
    rb[0].data = NULL;
    assert_int_equal(vnet_rx_parse(&cfg_modern, rb, n, &pkt), VNET_ERR_INVAL);
}

/* Random headers and lengths: whatever happens, an accepted packet stays within bounds. */
static void test_random_device(void **state)
{
    struct vnet_rx_config cfg = cfg_mrg;
    struct vnet_rx_buf rb[NBUF];
    struct vnet_rx_packet pkt;
    static const uint8_t gso_types[] = { 0, 0, 0, 0, 1, 4, 3, 0x81 };
    uint32_t seed = 0xC0FFEE;
    unsigned iter, i, accepted = 0;

    (void)state;
    cfg.guest_tso4 = cfg.guest_tso6 = true;
    for (iter = 0; iter < 20000; iter++) {
        uint16_t n = (uint16_t)(1 + tf_rand(&seed) % NBUF), nb;
        uint64_t total = 0;
        int rc;

        for (i = 0; i < n; i++) {
            unsigned j;

            rb[i].data = bufs[i];
            rb[i].posted_len = 1 + tf_rand(&seed) % POSTED;
            /* Mostly plausible lengths, sometimes past the posted size. */
            rb[i].used_len = (iter & 4) ? tf_rand(&seed) % (POSTED + 64) : tf_rand(&seed) % 400;
            for (j = 0; j < 96; j++)
                bufs[i][j] = (uint8_t)tf_rand(&seed);
        }
        if (iter & 1) {
            tf_put16(bufs[0] + 12 + 12, 0x0800);
            bufs[0][12 + 14] = 0x45;
        }
        hdr0()->num_buffers = cpu_to_le16((iter & 2) ? n : (uint16_t)tf_rand(&seed));
        hdr0()->hdr.flags &= (iter & 8) ? 0xFF : 0x02;
        hdr0()->hdr.gso_type = gso_types[tf_rand(&seed) % sizeof(gso_types)];
        if (vnet_rx_num_buffers(&cfg, rb, &nb) != VNET_OK || nb > n)
            continue;
        rc = vnet_rx_parse(&cfg, rb, nb, &pkt);
        if (rc != VNET_OK)
            continue;
        accepted++;
        for (i = 0; i < nb; i++) {
            assert_true(rb[i].used_len <= rb[i].posted_len);
            total += rb[i].used_len;
        }
        assert_int_equal(pkt.frame_len, total - 12);
        assert_true(pkt.frame_len <= VNET_MAX_FRAME_LEN);
        if (pkt.csum_flags & VNET_RX_CSUM_PARTIAL)
            assert_true((uint32_t)pkt.csum_start + pkt.csum_offset + 2 <= pkt.frame_len);
    }
    /* The loop must exercise the accepting paths too, not only the refusals. */
    assert_true(accepted > 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_buffer_data_valid),
        cmocka_unit_test(test_legacy_header),
        cmocka_unit_test(test_mergeable_chain),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_hostile_num_buffers),
        cmocka_unit_test(test_hostile_flags),
        cmocka_unit_test(test_needs_csum),
        cmocka_unit_test(test_gso),
        cmocka_unit_test(test_checksum_and_parse_results),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_random_device),
    };

    return cmocka_run_group_tests_name("net_rx", tests, NULL, NULL);
}
