/*
 * Unit tests for src/net/vnet_oid.c: the OID table (every mandatory OID present, no duplicate,
 * sane flags), request pre-checks with BytesNeeded, query answers, 32/64-bit counters and the
 * NDIS_OBJECT_HEADER check of structured set buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_oid.h"
#include <virtio/virtio_net.h>

#define F(bit) (1ull << (bit))

static void test_table_sane(void **state)
{
    static const uint32_t mandatory[] = {
        VNET_OID_GEN_SUPPORTED_LIST, VNET_OID_GEN_HARDWARE_STATUS, VNET_OID_GEN_MEDIA_SUPPORTED,
        VNET_OID_GEN_MEDIA_IN_USE, VNET_OID_GEN_MAXIMUM_FRAME_SIZE, VNET_OID_GEN_LINK_SPEED,
        VNET_OID_GEN_TRANSMIT_BUFFER_SPACE, VNET_OID_GEN_RECEIVE_BUFFER_SPACE,
        VNET_OID_GEN_VENDOR_ID, VNET_OID_GEN_VENDOR_DESCRIPTION,
        VNET_OID_GEN_VENDOR_DRIVER_VERSION, VNET_OID_GEN_CURRENT_PACKET_FILTER,
        VNET_OID_GEN_CURRENT_LOOKAHEAD, VNET_OID_GEN_MAXIMUM_TOTAL_SIZE,
        VNET_OID_GEN_MEDIA_CONNECT_STATUS, VNET_OID_GEN_STATISTICS, VNET_OID_GEN_XMIT_OK,
        VNET_OID_GEN_RCV_OK, VNET_OID_GEN_XMIT_ERROR, VNET_OID_GEN_RCV_ERROR,
        VNET_OID_GEN_RCV_NO_BUFFER, VNET_OID_802_3_PERMANENT_ADDRESS,
        VNET_OID_802_3_CURRENT_ADDRESS, VNET_OID_802_3_MULTICAST_LIST,
        VNET_OID_802_3_MAXIMUM_LIST_SIZE, VNET_OID_OFFLOAD_ENCAPSULATION,
        VNET_OID_TCP_OFFLOAD_PARAMETERS, VNET_OID_GEN_RECEIVE_SCALE_PARAMETERS,
        VNET_OID_PNP_QUERY_POWER, VNET_OID_PNP_SET_POWER,
    };
    size_t i, j;

    (void)state;
    assert_true(vnet_oid_count >= sizeof(mandatory) / sizeof(mandatory[0]));
    for (i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++)
        assert_non_null(vnet_oid_lookup(mandatory[i]));
    for (i = 0; i < vnet_oid_count; i++) {
        const struct vnet_oid_info *d = &vnet_oid_table[i];

        assert_true(d->flags & (VNET_OID_QUERY | VNET_OID_SET));
        /* Counters are queries with a 32-bit minimum. */
        if (d->flags & VNET_OID_COUNTER)
            assert_int_equal(d->query_len, 4);
        if (!(d->flags & VNET_OID_SET))
            assert_int_equal(d->set_len, 0);
        for (j = i + 1; j < vnet_oid_count; j++)
            assert_int_not_equal(d->oid, vnet_oid_table[j].oid);
    }
    assert_null(vnet_oid_lookup(0x12345678u));
}

static void test_check(void **state)
{
    uint32_t need = 99;

    (void)state;
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_LINK_SPEED, false, 4, &need), VNET_OID_OK);
    assert_int_equal(need, 0);
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_LINK_SPEED, false, 3, &need),
                     VNET_OID_BUFFER_TOO_SHORT);
    assert_int_equal(need, 4);
    /* Query-only OIDs refuse sets and vice versa. */
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_LINK_SPEED, true, 4, &need), VNET_OID_NOT_SUPPORTED);
    assert_int_equal(vnet_oid_check(VNET_OID_TCP_OFFLOAD_PARAMETERS, false, 64, &need),
                     VNET_OID_NOT_SUPPORTED);
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_CURRENT_PACKET_FILTER, true, 2, &need),
                     VNET_OID_INVALID_LENGTH);
    assert_int_equal(need, 4);
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_CURRENT_PACKET_FILTER, true, 4, &need), VNET_OID_OK);
    assert_int_equal(vnet_oid_check(VNET_OID_802_3_PERMANENT_ADDRESS, false, 5, &need),
                     VNET_OID_BUFFER_TOO_SHORT);
    assert_int_equal(need, 6);
    assert_int_equal(vnet_oid_check(0xdeadbeefu, false, 100, &need), VNET_OID_NOT_SUPPORTED);
    assert_int_equal(vnet_oid_check(VNET_OID_GEN_LINK_SPEED, false, 0, NULL),
                     VNET_OID_BUFFER_TOO_SHORT);
}

static void test_answer(void **state)
{
    const char desc[] = "vdpnet";
    uint8_t buf[16];
    uint32_t written = 1, needed = 1;

    (void)state;
    memset(buf, 0xAA, sizeof(buf));
    assert_int_equal(vnet_oid_answer(desc, sizeof(desc), buf, 4, &written, &needed),
                     VNET_OID_BUFFER_TOO_SHORT);
    assert_int_equal(written, 0);
    assert_int_equal(needed, sizeof(desc));
    assert_int_equal(buf[0], 0xAA);
    assert_int_equal(vnet_oid_answer(desc, sizeof(desc), NULL, 100, &written, &needed),
                     VNET_OID_BUFFER_TOO_SHORT);
    assert_int_equal(vnet_oid_answer(desc, sizeof(desc), buf, sizeof(buf), &written, &needed),
                     VNET_OID_OK);
    assert_int_equal(written, sizeof(desc));
    assert_int_equal(needed, 0);
    assert_string_equal((char *)buf, desc);
    assert_int_equal(vnet_oid_answer(NULL, 0, NULL, 0, &written, &needed), VNET_OID_OK);
    assert_int_equal(written, 0);
}

static void test_counter(void **state)
{
    uint8_t buf[8];
    uint64_t v64;
    uint32_t v32, written, needed;

    (void)state;
    assert_int_equal(vnet_oid_answer_counter(0x123456789ull, buf, 8, &written, &needed), VNET_OID_OK);
    memcpy(&v64, buf, 8);
    assert_true(v64 == 0x123456789ull);
    assert_int_equal(written, 8);
    assert_int_equal(needed, 8);
    /* A 4-byte buffer gets the low half; BytesNeeded still tells the full size. */
    assert_int_equal(vnet_oid_answer_counter(0x123456789ull, buf, 4, &written, &needed), VNET_OID_OK);
    memcpy(&v32, buf, 4);
    assert_int_equal(v32, 0x23456789u);
    assert_int_equal(written, 4);
    assert_int_equal(needed, 8);
    assert_int_equal(vnet_oid_answer_counter(1, buf, 3, &written, &needed), VNET_OID_BUFFER_TOO_SHORT);
    assert_int_equal(written, 0);
    assert_int_equal(needed, 8);
}

static void test_header(void **state)
{
    uint8_t buf[32] = { 0x80, 1, 32, 0 };

    (void)state;
    assert_int_equal(vnet_oid_check_header(buf, 32, 0x80, 1, 24), VNET_OID_OK);
    assert_int_equal(vnet_oid_check_header(buf, 20, 0x80, 1, 24), VNET_OID_INVALID_LENGTH);
    assert_int_equal(vnet_oid_check_header(buf, 32, 0x81, 1, 24), VNET_OID_INVALID_DATA);
    assert_int_equal(vnet_oid_check_header(buf, 32, 0x80, 2, 24), VNET_OID_INVALID_DATA);
    buf[2] = 16; /* Size below the minimum */
    assert_int_equal(vnet_oid_check_header(buf, 32, 0x80, 1, 24), VNET_OID_INVALID_DATA);
    buf[2] = 40; /* Size beyond the buffer */
    assert_int_equal(vnet_oid_check_header(buf, 32, 0x80, 1, 24), VNET_OID_INVALID_DATA);
    assert_int_equal(vnet_oid_check_header(NULL, 32, 0x80, 1, 24), VNET_OID_INVALID_LENGTH);
}

static void test_offload_caps(void **state)
{
    struct vnet_offload_cfg c;

    (void)state;
    vnet_offload_caps(0, &c);
    assert_true(c.tx_ip4 && c.rx_ip4);
    assert_false(c.tx_tcp4 || c.rx_tcp4 || c.tx_udp6 || c.rx_udp6 || c.lso4 || c.lso6);
    vnet_offload_caps(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), &c);
    assert_true(c.tx_tcp4 && c.tx_udp4 && c.tx_tcp6 && c.tx_udp6 && c.lso4);
    assert_false(c.rx_tcp4 || c.lso6);
    /* TSO without CSUM is no capability. */
    vnet_offload_caps(F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
                      F(VIRTIO_NET_F_GUEST_CSUM), &c);
    assert_false(c.lso4 || c.lso6 || c.tx_tcp4);
    assert_true(c.rx_tcp4 && c.rx_udp4 && c.rx_tcp6 && c.rx_udp6);
}

static void test_offload_keywords_and_params(void **state)
{
    struct vnet_offload_cfg c, caps;
    bool tx, rx, en = true;

    (void)state;
    vnet_offload_keyword(0, &tx, &rx);
    assert_false(tx || rx);
    vnet_offload_keyword(1, &tx, &rx);
    assert_true(tx && !rx);
    vnet_offload_keyword(2, &tx, &rx);
    assert_true(!tx && rx);
    vnet_offload_keyword(3, &tx, &rx);
    assert_true(tx && rx);
    vnet_offload_keyword(77, &tx, &rx);
    assert_true(tx && rx);

    tx = rx = true;
    assert_int_equal(vnet_offload_apply_csum(VNET_OFFLOAD_NO_CHANGE, &tx, &rx), VNET_OID_OK);
    assert_true(tx && rx);
    assert_int_equal(vnet_offload_apply_csum(VNET_OFFLOAD_TX_ENABLED_RX_DISABLED, &tx, &rx), VNET_OID_OK);
    assert_true(tx && !rx);
    assert_int_equal(vnet_offload_apply_csum(VNET_OFFLOAD_RX_ENABLED_TX_DISABLED, &tx, &rx), VNET_OID_OK);
    assert_true(!tx && rx);
    assert_int_equal(vnet_offload_apply_csum(VNET_OFFLOAD_TX_RX_DISABLED, &tx, &rx), VNET_OID_OK);
    assert_true(!tx && !rx);
    assert_int_equal(vnet_offload_apply_csum(5, &tx, &rx), VNET_OID_INVALID_DATA);
    assert_int_equal(vnet_offload_apply_lso(VNET_OFFLOAD_LSOV2_DISABLED, &en), VNET_OID_OK);
    assert_false(en);
    assert_int_equal(vnet_offload_apply_lso(VNET_OFFLOAD_LSOV2_ENABLED, &en), VNET_OID_OK);
    assert_true(en);
    assert_int_equal(vnet_offload_apply_lso(3, &en), VNET_OID_INVALID_DATA);

    /* Masking: what the device cannot do stays off, and LSO follows the TCP checksum. */
    memset(&c, 1, sizeof(c));
    vnet_offload_caps(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6),
                      &caps);
    c.tx_tcp6 = false;
    vnet_offload_mask(&c, &caps);
    assert_true(c.lso4);
    assert_false(c.lso6);
    assert_false(c.rx_tcp4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sane),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_offload_caps),
        cmocka_unit_test(test_offload_keywords_and_params),
    };

    return cmocka_run_group_tests_name("net_oid", tests, NULL, NULL);
}
