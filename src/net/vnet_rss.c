/*
 * vnet_rss: Toeplitz hash. For every set bit of the input (most significant bit of the first
 * byte first) the result is XORed with the 32 key bits that start at that bit position.
 */
#include "vnet_rss.h"

int vnet_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t in_len,
				  uint32_t *hash)
{
	uint32_t result = 0, window;
	size_t i, next_key;
	int bit;

	if (!key || !hash || (!in && in_len) || key_len < 4 || in_len > key_len - 4)
		return VNET_ERR_INVAL;
	window = ((uint32_t)key[0] << 24) | ((uint32_t)key[1] << 16) | ((uint32_t)key[2] << 8) | key[3];
	next_key = 4;
	for (i = 0; i < in_len; i++) {
		/* Key bits that slide into the window while this input byte is consumed. */
		uint8_t feed = next_key < key_len ? key[next_key] : 0;

		for (bit = 7; bit >= 0; bit--) {
			if (in[i] & (1u << bit))
				result ^= window;
			window = (window << 1) | ((feed >> bit) & 1u);
		}
		next_key++;
	}
	*hash = result;
	return VNET_OK;
}

int vnet_rss_configure(struct vnet_rss_config *cfg, const uint8_t *key, uint32_t key_len,
					   uint32_t hash_types, const uint16_t *table, uint32_t table_len,
					   uint16_t num_queues)
{
	const uint32_t known = VNET_RSS_HASH_IPV4 | VNET_RSS_HASH_TCP_IPV4 | VNET_RSS_HASH_UDP_IPV4 |
						   VNET_RSS_HASH_IPV6 | VNET_RSS_HASH_TCP_IPV6 | VNET_RSS_HASH_UDP_IPV6;
	uint32_t i;

	if (!cfg || !key || !table)
		return VNET_ERR_INVAL;
	/* IPv6 with ports needs 36 input bytes, hence a 40-byte key. */
	if (key_len != VNET_RSS_KEY_MAX)
		return VNET_ERR_INVAL;
	if (hash_types & ~known)
		return VNET_ERR_UNSUPPORTED;
	if (table_len == 0 || table_len > VNET_RSS_TABLE_MAX || (table_len & (table_len - 1)))
		return VNET_ERR_INVAL;
	if (num_queues == 0)
		return VNET_ERR_INVAL;
	for (i = 0; i < table_len; i++)
		if (table[i] >= num_queues)
			return VNET_ERR_INVAL;
	__builtin_memcpy(cfg->key, key, key_len);
	cfg->key_len = key_len;
	cfg->hash_types = hash_types;
	__builtin_memcpy(cfg->table, table, table_len * sizeof(table[0]));
	cfg->table_len = table_len;
	cfg->num_queues = num_queues;
	return VNET_OK;
}

int vnet_rss_hash_frame(const struct vnet_rss_config *cfg, const uint8_t *frame, size_t len,
						uint32_t *hash, uint32_t *hash_type)
{
	struct vnet_frame_info info;
	uint8_t in[36];
	size_t addr_len, n;
	uint32_t l3_type, tcp_type, udp_type, type = 0;
	const uint8_t *ip;
	int rc;

	if (!cfg || !frame || !hash || !hash_type)
		return VNET_ERR_INVAL;
	rc = vnet_parse_frame(frame, len, &info);
	if (rc != VNET_OK)
		return rc;
	if (info.ip_version == 4) {
		addr_len = 4;
		l3_type = VNET_RSS_HASH_IPV4;
		tcp_type = VNET_RSS_HASH_TCP_IPV4;
		udp_type = VNET_RSS_HASH_UDP_IPV4;
	} else if (info.ip_version == 6) {
		addr_len = 16;
		l3_type = VNET_RSS_HASH_IPV6;
		tcp_type = VNET_RSS_HASH_TCP_IPV6;
		udp_type = VNET_RSS_HASH_UDP_IPV6;
	} else {
		return VNET_ERR_UNSUPPORTED;
	}
	if (info.has_l4 && info.l4_proto == VNET_IPPROTO_TCP && (cfg->hash_types & tcp_type))
		type = tcp_type;
	else if (info.has_l4 && info.l4_proto == VNET_IPPROTO_UDP && (cfg->hash_types & udp_type))
		type = udp_type;
	else if (cfg->hash_types & l3_type)
		type = l3_type;
	else
		return VNET_ERR_UNSUPPORTED;

	/* Input: source address, destination address, then source and destination port. */
	ip = frame + info.l3_offset;
	__builtin_memcpy(in, ip + (addr_len == 4 ? 12 : 8), 2 * addr_len);
	n = 2 * addr_len;
	if (type != l3_type) {
		__builtin_memcpy(in + n, frame + info.l4_offset, 4);
		n += 4;
	}
	rc = vnet_toeplitz(cfg->key, cfg->key_len, in, n, hash);
	if (rc != VNET_OK)
		return rc;
	*hash_type = type;
	return VNET_OK;
}

uint16_t vnet_rss_queue(const struct vnet_rss_config *cfg, uint32_t hash)
{
	if (!cfg || cfg->table_len == 0)
		return 0;
	return cfg->table[hash & (cfg->table_len - 1)];
}

void vnet_rss_assign_vectors(uint32_t nmsg, uint16_t pairs, uint16_t *rx, uint16_t *tx,
							 uint16_t *config)
{
	uint16_t i;

	*config = nmsg ? 0 : VNET_VECTOR_NONE;
	for (i = 0; i < pairs; i++) {
		if (nmsg == 0) {
			rx[i] = tx[i] = VNET_VECTOR_NONE;
		} else if (nmsg >= 2u * pairs + 1u) {
			rx[i] = (uint16_t)(1u + i);
			tx[i] = (uint16_t)(1u + pairs + i);
		} else if (nmsg >= pairs + 1u) {
			rx[i] = tx[i] = (uint16_t)(1u + i);
		} else {
			rx[i] = tx[i] = 0;
		}
	}
}

uint16_t vnet_rss_cpu_queue(const uint64_t *rx_cpus, uint16_t nqueues, uint32_t cpu)
{
	uint16_t i;

	if (nqueues == 0)
		return 0;
	if (rx_cpus && cpu < 64)
		for (i = 0; i < nqueues; i++)
			if (rx_cpus[i] & (1ull << cpu))
				return i;
	return (uint16_t)(cpu % nqueues);
}
