/*
 * Unit tests for src/net/vnet_rss.c: the Toeplitz hash against the verification key and
 * vectors published by Microsoft ("Verifying the RSS Hash Calculation"), frame hashing,
 * configuration checks and indirection-table queue selection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_rss.h"
#include "test_net_frames.h"

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct v4_vector {
    uint8_t dst[4];
    uint16_t dport;
    uint8_t src[4];
    uint16_t sport;
    uint32_t hash_ip, hash_tcp;
};

static const struct v4_vector v4_vectors[] = {
    { { 161, 142, 100, 80 }, 1766, { 66, 9, 149, 187 }, 2794, 0x323e8fc2, 0x51ccc178 },
    { { 65, 69, 140, 83 }, 4739, { 199, 92, 111, 2 }, 14230, 0xd718262a, 0xc626b0ea },
    { { 12, 22, 207, 184 }, 38024, { 24, 19, 198, 95 }, 12898, 0xd2d0a5de, 0x5c2b394a },
    { { 209, 142, 163, 6 }, 2217, { 38, 27, 205, 30 }, 48228, 0x82989176, 0xafc7327f },
    { { 202, 188, 127, 2 }, 1303, { 153, 39, 163, 191 }, 44251, 0x5d1809c5, 0x10e828a2 },
};

struct v6_vector {
    uint8_t dst[16];
    uint16_t dport;
    uint8_t src[16];
    uint16_t sport;
    uint32_t hash_ip, hash_tcp;
};

static const struct v6_vector v6_vectors[] = {
    { { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01 }, 1766,
      { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07 }, 2794,
      0x2cc18cd5, 0x40207d3d },
    { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }, 4739,
      { 0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab },
      14230, 0x0f0c461c, 0xdde51bbf },
    { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf }, 38024,
      { 0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67,
        0xcf },
      44251, 0x4b61e985, 0x02d1feef },
};

#define NV4 (sizeof(v4_vectors) / sizeof(v4_vectors[0]))
#define NV6 (sizeof(v6_vectors) / sizeof(v6_vectors[0]))

static void config_all(struct vnet_rss_config *cfg, uint32_t types)
{
    uint16_t table[VNET_RSS_TABLE_MAX];
    unsigned i;

    for (i = 0; i < VNET_RSS_TABLE_MAX; i++)
        table[i] = (uint16_t)(i % 4);
    assert_int_equal(vnet_rss_configure(cfg, ms_key, sizeof(ms_key), types, table,
                                        VNET_RSS_TABLE_MAX, 4),
                     VNET_OK);
}

/* Raw Toeplitz over the documented input layout: src addr, dst addr, src port, dst port. */
static void test_toeplitz_ipv4_vectors(void **state)
{
    unsigned i;

    (void)state;
    for (i = 0; i < NV4; i++) {
        const struct v4_vector *v = &v4_vectors[i];
        uint8_t in[12];
        uint32_t h = 0;

        memcpy(in, v->src, 4);
        memcpy(in + 4, v->dst, 4);
        tf_put16(in + 8, v->sport);
        tf_put16(in + 10, v->dport);
        assert_int_equal(vnet_toeplitz(ms_key, sizeof(ms_key), in, 8, &h), VNET_OK);
        assert_int_equal(h, v->hash_ip);
        assert_int_equal(vnet_toeplitz(ms_key, sizeof(ms_key), in, 12, &h), VNET_OK);
        assert_int_equal(h, v->hash_tcp);
    }
}

static void test_toeplitz_ipv6_vectors(void **state)
{
    unsigned i;

    (void)state;
    for (i = 0; i < NV6; i++) {
        const struct v6_vector *v = &v6_vectors[i];
        uint8_t in[36];
        uint32_t h = 0;

        memcpy(in, v->src, 16);
        memcpy(in + 16, v->dst, 16);
        tf_put16(in + 32, v->sport);
        tf_put16(in + 34, v->dport);
        assert_int_equal(vnet_toeplitz(ms_key, sizeof(ms_key), in, 32, &h), VNET_OK);
        assert_int_equal(h, v->hash_ip);
        assert_int_equal(vnet_toeplitz(ms_key, sizeof(ms_key), in, 36, &h), VNET_OK);
        assert_int_equal(h, v->hash_tcp);
    }
}

static void test_toeplitz_bad_args(void **state)
{
    uint8_t in[37] = { 0 };
    uint32_t h = 0;

    (void)state;
    /* 36 input bytes need 40 key bytes; one more byte must be refused, not read past the key. */
    assert_int_equal(vnet_toeplitz(ms_key, sizeof(ms_key), in, 37, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_toeplitz(ms_key, 3, in, 0, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_toeplitz(NULL, 40, in, 4, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_toeplitz(ms_key, 40, NULL, 4, &h), VNET_ERR_INVAL);
    assert_int_equal(vnet_toeplitz(ms_key, 40, in, 4, NULL), VNET_ERR_INVAL);
    assert_int_equal(vnet_toeplitz(ms_key, 40, in, 0, &h), VNET_OK);
    assert_int_equal(h, 0);
}

/* The same vectors through real frames: parsing must pick the right bytes. */
static void test_hash_frames_ipv4(void **state)
{
    struct vnet_rss_config cfg;
    uint8_t frame[256];
    unsigned i;

    (void)state;
    config_all(&cfg, VNET_RSS_HASH_IPV4 | VNET_RSS_HASH_TCP_IPV4);
    for (i = 0; i < NV4; i++) {
        const struct v4_vector *v = &v4_vectors[i];
        struct tf_opts o = { .ip_version = 4, .l4_proto = 6, .sport = v->sport,
                             .dport = v->dport, .payload = 10, .vlan_tags = i % 2 };
        uint32_t h = 0, t = 0;
        size_t len;

        memcpy(o.src, v->src, 4);
        memcpy(o.dst, v->dst, 4);
        len = tf_build(frame, sizeof(frame), &o);
        assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_OK);
        assert_int_equal(h, v->hash_tcp);
        assert_int_equal(t, VNET_RSS_HASH_TCP_IPV4);

        /* UDP has no UDP type enabled: falls back to the IPv4 hash. */
        o.l4_proto = 17;
        len = tf_build(frame, sizeof(frame), &o);
        assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_OK);
        assert_int_equal(h, v->hash_ip);
        assert_int_equal(t, VNET_RSS_HASH_IPV4);

        /* A fragment has no trustworthy ports: IPv4 hash. */
        o.l4_proto = 6;
        o.v4_fragment = 1;
        len = tf_build(frame, sizeof(frame), &o);
        assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_OK);
        assert_int_equal(h, v->hash_ip);
        assert_int_equal(t, VNET_RSS_HASH_IPV4);
    }
}

static void test_hash_frames_ipv6(void **state)
{
    struct vnet_rss_config cfg;
    uint8_t frame[256];
    unsigned i;

    (void)state;
    config_all(&cfg, VNET_RSS_HASH_IPV6 | VNET_RSS_HASH_TCP_IPV6);
    for (i = 0; i < NV6; i++) {
        const struct v6_vector *v = &v6_vectors[i];
        struct tf_opts o = { .ip_version = 6, .l4_proto = 6, .sport = v->sport,
                             .dport = v->dport, .payload = 3, .v6_ext = i };
        uint32_t h = 0, t = 0;
        size_t len;

        memcpy(o.src, v->src, 16);
        memcpy(o.dst, v->dst, 16);
        len = tf_build(frame, sizeof(frame), &o);
        assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_OK);
        assert_int_equal(h, v->hash_tcp);
        assert_int_equal(t, VNET_RSS_HASH_TCP_IPV6);

        o.l4_proto = 58; /* ICMPv6 */
        len = tf_build(frame, sizeof(frame), &o);
        assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_OK);
        assert_int_equal(h, v->hash_ip);
        assert_int_equal(t, VNET_RSS_HASH_IPV6);
    }
}

static void test_hash_frames_unhashable(void **state)
{
    struct vnet_rss_config cfg;
    uint8_t frame[256];
    struct tf_opts o = { .ip_version = 4, .l4_proto = 17, .sport = 1, .dport = 2 };
    uint32_t h, t;
    size_t len;

    (void)state;
    config_all(&cfg, VNET_RSS_HASH_TCP_IPV4 | VNET_RSS_HASH_TCP_IPV6);
    len = tf_build(frame, sizeof(frame), &o);
    assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_ERR_UNSUPPORTED);

    o.ip_version = 0; /* ARP */
    len = tf_build(frame, sizeof(frame), &o);
    assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len, &h, &t), VNET_ERR_UNSUPPORTED);

    /* IPv4 whose total length exceeds the frame: a parse error, not a hash. */
    o.ip_version = 4;
    o.l4_proto = 6;
    len = tf_build(frame, sizeof(frame), &o);
    assert_int_equal(vnet_rss_hash_frame(&cfg, frame, len - 1, &h, &t), VNET_ERR_SHORT);
    assert_int_equal(vnet_rss_hash_frame(&cfg, frame, 10, &h, &t), VNET_ERR_SHORT);
    assert_int_equal(vnet_rss_hash_frame(NULL, frame, len, &h, &t), VNET_ERR_INVAL);
}

static void test_configure_checks(void **state)
{
    struct vnet_rss_config cfg;
    uint16_t table[VNET_RSS_TABLE_MAX * 2] = { 0 };

    (void)state;
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 39, VNET_RSS_HASH_IPV4, table, 8, 1),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, 0x80, table, 8, 1),
                     VNET_ERR_UNSUPPORTED);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 0, 1),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 12, 1),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table,
                                        VNET_RSS_TABLE_MAX * 2, 1),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 8, 0),
                     VNET_ERR_INVAL);
    table[5] = 3;
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 8, 3),
                     VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 8, 4),
                     VNET_OK);
    assert_int_equal(vnet_rss_configure(NULL, ms_key, 40, VNET_RSS_HASH_IPV4, table, 8, 4),
                     VNET_ERR_INVAL);
}

static void test_queue_selection(void **state)
{
    struct vnet_rss_config cfg;
    uint16_t table[8] = { 3, 2, 1, 0, 0, 1, 2, 3 };

    (void)state;
    assert_int_equal(vnet_rss_configure(&cfg, ms_key, 40, VNET_RSS_HASH_IPV4, table, 8, 4),
                     VNET_OK);
    /* Only the low bits of the hash index the table. */
    assert_int_equal(vnet_rss_queue(&cfg, 0x00000000), 3);
    assert_int_equal(vnet_rss_queue(&cfg, 0x00000002), 1);
    assert_int_equal(vnet_rss_queue(&cfg, 0xfffffff8), 3);
    assert_int_equal(vnet_rss_queue(&cfg, 0x51ccc178), table[0x51ccc178 & 7]);
    assert_int_equal(vnet_rss_queue(NULL, 5), 0);
}

static void test_assign_vectors(void **state)
{
    uint16_t rx[4], tx[4], cfg;

    (void)state;
    /* Enough messages: receive queues on consecutive messages right after the config one. */
    vnet_rss_assign_vectors(9, 4, rx, tx, &cfg);
    assert_int_equal(cfg, 0);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(rx[i], 1 + i);
        assert_int_equal(tx[i], 5 + i);
    }
    /* Two processors, two pairs: receive queue 0 -> message 1 -> cpu 1, queue 1 -> cpu 0. */
    vnet_rss_assign_vectors(6, 2, rx, tx, &cfg);
    assert_int_equal(rx[0] % 2, 1);
    assert_int_equal(rx[1] % 2, 0);
    assert_int_equal(tx[0], 3);
    assert_int_equal(tx[1], 4);
    /* One message per pair. */
    vnet_rss_assign_vectors(5, 4, rx, tx, &cfg);
    for (unsigned i = 0; i < 4; i++)
        assert_true(rx[i] == 1 + i && tx[i] == 1 + i);
    /* Too few: all on message 0. */
    vnet_rss_assign_vectors(3, 4, rx, tx, &cfg);
    for (unsigned i = 0; i < 4; i++)
        assert_true(rx[i] == 0 && tx[i] == 0);
    /* No MSI-X. */
    vnet_rss_assign_vectors(0, 2, rx, tx, &cfg);
    assert_int_equal(cfg, VNET_VECTOR_NONE);
    assert_true(rx[0] == VNET_VECTOR_NONE && tx[1] == VNET_VECTOR_NONE);
}

static void test_cpu_queue(void **state)
{
    const uint64_t spread[2] = { 1u << 1, 1u << 0 };
    const uint64_t none[3] = { 0, 0, 0 };
    const uint64_t both[2] = { 3, 3 };

    (void)state;
    /* Each processor goes to the queue whose interrupt runs there. */
    assert_int_equal(vnet_rss_cpu_queue(spread, 2, 0), 1);
    assert_int_equal(vnet_rss_cpu_queue(spread, 2, 1), 0);
    /* No processor information or no match: modulo. */
    assert_int_equal(vnet_rss_cpu_queue(none, 3, 4), 1);
    assert_int_equal(vnet_rss_cpu_queue(NULL, 3, 5), 2);
    assert_int_equal(vnet_rss_cpu_queue(spread, 2, 7), 1);
    assert_int_equal(vnet_rss_cpu_queue(spread, 2, 200), 0);
    /* Several candidates: the first. */
    assert_int_equal(vnet_rss_cpu_queue(both, 2, 1), 0);
    assert_int_equal(vnet_rss_cpu_queue(spread, 0, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toeplitz_ipv4_vectors),
        cmocka_unit_test(test_toeplitz_ipv6_vectors),
        cmocka_unit_test(test_toeplitz_bad_args),
        cmocka_unit_test(test_hash_frames_ipv4),
        cmocka_unit_test(test_hash_frames_ipv6),
        cmocka_unit_test(test_hash_frames_unhashable),
        cmocka_unit_test(test_configure_checks),
        cmocka_unit_test(test_queue_selection),
        cmocka_unit_test(test_assign_vectors),
        cmocka_unit_test(test_cpu_queue),
    };

    return cmocka_run_group_tests_name("net_rss", tests, NULL, NULL);
}
