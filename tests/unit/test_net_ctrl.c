/*
 * Unit tests for src/net/vnet_ctrl.c: packet filter and multicast list validation, the
 * control-queue commands derived from them (virtio 1.2 5.1.6.5), the software receive filter
 * and the single MAC / MQ / VLAN commands.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vnet_ctrl.h"

#define F(bit) (1ull << (bit))
static const uint64_t ctrl_rx = F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX);

static const uint8_t station[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mc1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mc2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

static void init_filter(struct vnet_filter *f)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->mac, station, 6);
}

static void test_mac_valid(void **state)
{
    static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    (void)state;
    assert_true(vnet_mac_valid_unicast(station));
    assert_false(vnet_mac_valid_unicast(zero));
    assert_false(vnet_mac_valid_unicast(bcast));
    assert_false(vnet_mac_valid_unicast(mc1));
    assert_false(vnet_mac_valid_unicast(NULL));
}

static void test_packet_filter_bits(void **state)
{
    struct vnet_filter f;

    (void)state;
    init_filter(&f);
    assert_int_equal(vnet_filter_set_packet_filter(&f, VNET_PF_DIRECTED | VNET_PF_BROADCAST), VNET_OK);
    assert_int_equal(f.packet_filter, VNET_PF_DIRECTED | VNET_PF_BROADCAST);
    /* Source routing (0x10) and functional addresses are token-ring things: refused, unchanged. */
    assert_int_equal(vnet_filter_set_packet_filter(&f, 0x10), VNET_ERR_UNSUPPORTED);
    assert_int_equal(vnet_filter_set_packet_filter(&f, VNET_PF_DIRECTED | 0x4000), VNET_ERR_UNSUPPORTED);
    assert_int_equal(f.packet_filter, VNET_PF_DIRECTED | VNET_PF_BROADCAST);
    assert_int_equal(vnet_filter_set_packet_filter(&f, 0), VNET_OK);
    assert_int_equal(vnet_filter_set_packet_filter(NULL, 0), VNET_ERR_INVAL);
}

static void test_mcast_list(void **state)
{
    struct vnet_filter f;
    uint8_t list[(VNET_MCAST_MAX + 1) * 6];
    unsigned i;

    (void)state;
    init_filter(&f);
    for (i = 0; i < VNET_MCAST_MAX + 1; i++) {
        memcpy(list + 6 * i, mc1, 6);
        list[6 * i + 5] = (uint8_t)i;
    }
    assert_int_equal(vnet_filter_set_mcast(&f, list, 12), VNET_OK);
    assert_int_equal(f.mcast_count, 2);
    assert_memory_equal(f.mcast[1], list + 6, 6);
    /* Bad length, too many, unicast entry: refused and the old list stays. */
    assert_int_equal(vnet_filter_set_mcast(&f, list, 13), VNET_ERR_MALFORMED);
    assert_int_equal(vnet_filter_set_mcast(&f, list, sizeof(list)), VNET_ERR_TOO_LONG);
    memcpy(list + 6, station, 6);
    assert_int_equal(vnet_filter_set_mcast(&f, list, 12), VNET_ERR_INVAL);
    assert_int_equal(f.mcast_count, 2);
    assert_int_equal(vnet_filter_set_mcast(&f, list, VNET_MCAST_MAX * 6), VNET_ERR_INVAL);
    /* Full list accepted; empty list clears. */
    memcpy(list + 6, mc2, 6);
    assert_int_equal(vnet_filter_set_mcast(&f, list, VNET_MCAST_MAX * 6), VNET_OK);
    assert_int_equal(f.mcast_count, VNET_MCAST_MAX);
    assert_int_equal(vnet_filter_set_mcast(&f, NULL, 0), VNET_OK);
    assert_int_equal(f.mcast_count, 0);
    assert_int_equal(vnet_filter_set_mcast(&f, NULL, 6), VNET_ERR_INVAL);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static const struct vnet_ctrl_cmd *find(const struct vnet_ctrl_cmd *c, unsigned n, uint8_t cls,
                                        uint8_t cmd)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (c[i].cls == cls && c[i].cmd == cmd)
            return &c[i];
    return NULL;
}

static void test_commands_need_ctrl_rx(void **state)
{
    struct vnet_filter f;
    struct vnet_ctrl_cmd c[VNET_FILTER_CMDS_MAX];

    (void)state;
    init_filter(&f);
    f.packet_filter = VNET_PF_PROMISCUOUS;
    assert_int_equal(vnet_filter_commands(&f, 0, c, VNET_FILTER_CMDS_MAX), 0);
    assert_int_equal(vnet_filter_commands(&f, F(VIRTIO_NET_F_CTRL_VQ), c, VNET_FILTER_CMDS_MAX), 0);
    /* A short output array is refused rather than overrun. */
    assert_int_equal(vnet_filter_commands(&f, ctrl_rx, c, VNET_FILTER_CMDS_MAX - 1), 0);
}

static void test_commands_promisc_multicast(void **state)
{
    struct vnet_filter f;
    struct vnet_ctrl_cmd c[VNET_FILTER_CMDS_MAX];
    const struct vnet_ctrl_cmd *p;
    uint8_t list[12];
    unsigned n;

    (void)state;
    init_filter(&f);
    memcpy(list, mc1, 6);
    memcpy(list + 6, mc2, 6);
    assert_int_equal(vnet_filter_set_mcast(&f, list, 12), VNET_OK);

    f.packet_filter = VNET_PF_DIRECTED | VNET_PF_MULTICAST | VNET_PF_BROADCAST;
    n = vnet_filter_commands(&f, ctrl_rx, c, VNET_FILTER_CMDS_MAX);
    assert_int_equal(n, 3);
    p = find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC);
    assert_non_null(p);
    assert_int_equal(p->len, 1);
    assert_int_equal(p->data[0], 0);
    p = find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI);
    assert_non_null(p);
    assert_int_equal(p->data[0], 0);
    p = find(c, n, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET);
    assert_non_null(p);
    assert_int_equal(p->len, 8 + 12);
    assert_int_equal(get_le32(p->data), 0);
    assert_int_equal(get_le32(p->data + 4), 2);
    assert_memory_equal(p->data + 8, list, 12);

    /* Without NDIS_PACKET_TYPE_MULTICAST the list is not programmed. */
    f.packet_filter = VNET_PF_PROMISCUOUS | VNET_PF_ALL_MULTICAST;
    n = vnet_filter_commands(&f, ctrl_rx, c, VNET_FILTER_CMDS_MAX);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC)->data[0], 1);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI)->data[0], 1);
    p = find(c, n, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET);
    assert_int_equal(p->len, 8);
    assert_int_equal(get_le32(p->data + 4), 0);
}

static void test_commands_rx_extra(void **state)
{
    struct vnet_filter f;
    struct vnet_ctrl_cmd c[VNET_FILTER_CMDS_MAX];
    uint64_t feat = ctrl_rx | F(VIRTIO_NET_F_CTRL_RX_EXTRA);
    unsigned n;

    (void)state;
    init_filter(&f);
    f.packet_filter = 0;
    n = vnet_filter_commands(&f, feat, c, VNET_FILTER_CMDS_MAX);
    assert_int_equal(n, 6);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI)->data[0], 1);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOMULTI)->data[0], 1);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST)->data[0], 1);

    f.packet_filter = VNET_PF_DIRECTED | VNET_PF_BROADCAST;
    n = vnet_filter_commands(&f, feat, c, VNET_FILTER_CMDS_MAX);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI)->data[0], 0);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOMULTI)->data[0], 1);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST)->data[0], 0);

    /* Promiscuous overrides every "no" switch. */
    f.packet_filter = VNET_PF_PROMISCUOUS;
    n = vnet_filter_commands(&f, feat, c, VNET_FILTER_CMDS_MAX);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI)->data[0], 0);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOMULTI)->data[0], 0);
    assert_int_equal(find(c, n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST)->data[0], 0);
}

static void test_software_filter(void **state)
{
    struct vnet_filter f;
    uint8_t frame[64] = { 0 };
    uint8_t list[6];

    (void)state;
    init_filter(&f);
    memcpy(list, mc1, 6);
    assert_int_equal(vnet_filter_set_mcast(&f, list, 6), VNET_OK);

    memcpy(frame, station, 6);
    f.packet_filter = 0;
    assert_false(vnet_filter_accept(&f, frame, sizeof(frame)));
    f.packet_filter = VNET_PF_DIRECTED;
    assert_true(vnet_filter_accept(&f, frame, sizeof(frame)));
    assert_false(vnet_filter_accept(&f, frame, 13));
    frame[5] ^= 1;
    assert_false(vnet_filter_accept(&f, frame, sizeof(frame)));
    f.packet_filter = VNET_PF_PROMISCUOUS;
    assert_true(vnet_filter_accept(&f, frame, sizeof(frame)));

    memset(frame, 0xff, 6);
    f.packet_filter = VNET_PF_DIRECTED;
    assert_false(vnet_filter_accept(&f, frame, sizeof(frame)));
    f.packet_filter = VNET_PF_BROADCAST;
    assert_true(vnet_filter_accept(&f, frame, sizeof(frame)));

    memcpy(frame, mc1, 6);
    assert_false(vnet_filter_accept(&f, frame, sizeof(frame)));
    f.packet_filter = VNET_PF_MULTICAST;
    assert_true(vnet_filter_accept(&f, frame, sizeof(frame)));
    memcpy(frame, mc2, 6);
    assert_false(vnet_filter_accept(&f, frame, sizeof(frame)));
    f.packet_filter = VNET_PF_ALL_MULTICAST;
    assert_true(vnet_filter_accept(&f, frame, sizeof(frame)));
}

static void test_single_commands(void **state)
{
    struct vnet_ctrl_cmd c;
    uint64_t all = F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_MAC_ADDR) | F(VIRTIO_NET_F_MQ) |
                   F(VIRTIO_NET_F_CTRL_VLAN);

    (void)state;
    assert_int_equal(vnet_ctrl_mac_addr_set(all, station, &c), VNET_OK);
    assert_int_equal(c.cls, VIRTIO_NET_CTRL_MAC);
    assert_int_equal(c.cmd, VIRTIO_NET_CTRL_MAC_ADDR_SET);
    assert_int_equal(c.len, 6);
    assert_memory_equal(c.data, station, 6);
    assert_int_equal(vnet_ctrl_mac_addr_set(all, mc1, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_mac_addr_set(F(VIRTIO_NET_F_CTRL_VQ), station, &c),
                     VNET_ERR_UNSUPPORTED);

    assert_int_equal(vnet_ctrl_mq_pairs_set(all, 4, 8, &c), VNET_OK);
    assert_int_equal(c.cls, VIRTIO_NET_CTRL_MQ);
    assert_int_equal(c.cmd, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
    assert_int_equal(c.len, 2);
    assert_int_equal(c.data[0], 4);
    assert_int_equal(c.data[1], 0);
    assert_int_equal(vnet_ctrl_mq_pairs_set(all, 0, 8, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_mq_pairs_set(all, 9, 8, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_mq_pairs_set(F(VIRTIO_NET_F_MQ), 2, 8, &c), VNET_ERR_UNSUPPORTED);

    assert_int_equal(vnet_ctrl_vlan(all, true, 0x123, &c), VNET_OK);
    assert_int_equal(c.cls, VIRTIO_NET_CTRL_VLAN);
    assert_int_equal(c.cmd, VIRTIO_NET_CTRL_VLAN_ADD);
    assert_int_equal(c.data[0], 0x23);
    assert_int_equal(c.data[1], 0x01);
    assert_int_equal(vnet_ctrl_vlan(all, false, 5, &c), VNET_OK);
    assert_int_equal(c.cmd, VIRTIO_NET_CTRL_VLAN_DEL);
    assert_int_equal(vnet_ctrl_vlan(all, true, 0, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_vlan(all, true, 4095, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_ctrl_vlan(F(VIRTIO_NET_F_CTRL_VQ), true, 5, &c), VNET_ERR_UNSUPPORTED);
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void test_rss_config(void **state)
{
    static const uint8_t key[40] = { 0x6d, 0x5a, 0x56, 0xda, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct vnet_rss_limits lim = { .max_key = 40, .max_table = 128, .hash_types = 0x3f };
    uint64_t feat = F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_RSS);
    struct vnet_rss_config cfg;
    struct vnet_ctrl_cmd c;
    uint16_t table[8] = { 0, 1, 2, 3, 0, 1, 2, 3 };
    const uint8_t *p;
    unsigned i;

    (void)state;
    assert_int_equal(vnet_rss_configure(&cfg, key, 40, VNET_RSS_HASH_TCP_IPV4 | VNET_RSS_HASH_IPV6,
                                        table, 8, 4), VNET_OK);
    assert_int_equal(vnet_ctrl_rss_config(feat, &cfg, 4, &lim, &c), VNET_OK);
    assert_int_equal(c.cls, VIRTIO_NET_CTRL_MQ);
    assert_int_equal(c.cmd, VIRTIO_NET_CTRL_MQ_RSS_CONFIG);
    assert_int_equal(c.len, 8 + 16 + 3 + 40);
    assert_int_equal(get_le32(c.data), VIRTIO_NET_RSS_HASH_TYPE_TCPv4 | VIRTIO_NET_RSS_HASH_TYPE_IPv6);
    assert_int_equal(get_le16(c.data + 4), 7);
    assert_int_equal(get_le16(c.data + 6), 0);
    for (i = 0; i < 8; i++)
        assert_int_equal(get_le16(c.data + 8 + 2 * i), table[i]);
    p = c.data + 8 + 16;
    assert_int_equal(get_le16(p), 4);
    assert_int_equal(p[2], 40);
    assert_memory_equal(p + 3, key, 40);

    /* Types the device lacks are dropped. */
    lim.hash_types = VIRTIO_NET_RSS_HASH_TYPE_IPv6;
    assert_int_equal(vnet_ctrl_rss_config(feat, &cfg, 4, &lim, &c), VNET_OK);
    assert_int_equal(get_le32(c.data), VIRTIO_NET_RSS_HASH_TYPE_IPv6);
    /* Off: one-entry table to queue 0, no key. */
    assert_int_equal(vnet_ctrl_rss_config(feat, NULL, 4, &lim, &c), VNET_OK);
    assert_int_equal(c.len, 8 + 2 + 3);
    assert_int_equal(get_le32(c.data), 0);
    assert_int_equal(get_le16(c.data + 4), 0);
    /* Entries must name existing queues; table and key within the device limits. */
    assert_int_equal(vnet_ctrl_rss_config(feat, &cfg, 3, &lim, &c), VNET_ERR_INVAL);
    lim.max_table = 128;
    lim.max_key = 39;
    assert_int_equal(vnet_ctrl_rss_config(feat, &cfg, 4, &lim, &c), VNET_ERR_DEVICE);
    lim.max_key = 40;
    lim.max_table = 100;
    assert_int_equal(vnet_rss_limits_check(&lim), VNET_ERR_DEVICE);
    lim.max_table = 128;
    assert_int_equal(vnet_rss_limits_check(&lim), VNET_OK);
    assert_int_equal(vnet_ctrl_rss_config(F(VIRTIO_NET_F_CTRL_VQ), &cfg, 4, &lim, &c),
                     VNET_ERR_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_rss_config(feat, &cfg, 0, &lim, &c), VNET_ERR_INVAL);
    assert_int_equal(vnet_rss_virtio_types(VNET_RSS_HASH_UDP_IPV4 | VNET_RSS_HASH_UDP_IPV6 |
                                           VNET_RSS_HASH_IPV4 | VNET_RSS_HASH_TCP_IPV6),
                     VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | VIRTIO_NET_RSS_HASH_TYPE_UDPv6 |
                     VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv6);
}

static void test_features_select(void **state)
{
    uint64_t all = ~0ull, got;

    (void)state;
    got = vnet_features_select(all, all);
    assert_true(got == all);
    /* What the device does not offer is never asked for. */
    got = vnet_features_select(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_MAC), F(VIRTIO_NET_F_MAC));
    assert_true(got == F(VIRTIO_NET_F_MAC));
    /* TSO without CSUM, ECN without TSO. */
    got = vnet_features_select(all, all & ~F(VIRTIO_NET_F_CSUM));
    assert_false(got & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
                        F(VIRTIO_NET_F_HOST_ECN)));
    got = vnet_features_select(all, all & ~(F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6)));
    assert_false(got & F(VIRTIO_NET_F_HOST_ECN));
    assert_true(got & F(VIRTIO_NET_F_CSUM));
    /* Control-queue features without the control queue. */
    got = vnet_features_select(all, all & ~F(VIRTIO_NET_F_CTRL_VQ));
    assert_false(got & (F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_RX_EXTRA) |
                        F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_RSS) | F(VIRTIO_NET_F_CTRL_MAC_ADDR)));
    assert_true(got & F(VIRTIO_NET_F_STATUS));
    got = vnet_features_select(all, all & ~F(VIRTIO_NET_F_CTRL_RX));
    assert_false(got & F(VIRTIO_NET_F_CTRL_RX_EXTRA));
    assert_true(got & F(VIRTIO_NET_F_MQ));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_valid),
        cmocka_unit_test(test_packet_filter_bits),
        cmocka_unit_test(test_mcast_list),
        cmocka_unit_test(test_commands_need_ctrl_rx),
        cmocka_unit_test(test_commands_promisc_multicast),
        cmocka_unit_test(test_commands_rx_extra),
        cmocka_unit_test(test_software_filter),
        cmocka_unit_test(test_single_commands),
        cmocka_unit_test(test_rss_config),
        cmocka_unit_test(test_features_select),
    };

    return cmocka_run_group_tests_name("net_ctrl", tests, NULL, NULL);
}
