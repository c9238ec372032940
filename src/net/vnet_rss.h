/*
 * vnet_rss: Toeplitz receive-side-scaling hash as specified by Microsoft ("RSS hashing
 * functions", "Verifying the RSS hash calculation") and indirection-table queue selection.
 * No Windows headers: the NDIS glue translates NDIS_HASH_* bits into VNET_RSS_HASH_*.
 */
#ifndef OPENVDP_VNET_RSS_H
#define OPENVDP_VNET_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet_parse.h"

/* NDIS hands 40-byte keys for Toeplitz (NDIS_RSS_HASH_SECRET_KEY_MAX_SIZE_REVISION_1). */
#define VNET_RSS_KEY_MAX 40u
/* NDIS_RSS_INDIRECTION_TABLE_MAX_SIZE_REVISION_1 / sizeof(PROCESSOR_NUMBER) */
#define VNET_RSS_TABLE_MAX 128u

#define VNET_RSS_HASH_IPV4 0x01u
#define VNET_RSS_HASH_TCP_IPV4 0x02u
#define VNET_RSS_HASH_UDP_IPV4 0x04u
#define VNET_RSS_HASH_IPV6 0x08u
#define VNET_RSS_HASH_TCP_IPV6 0x10u
#define VNET_RSS_HASH_UDP_IPV6 0x20u

struct vnet_rss_config {
	uint8_t key[VNET_RSS_KEY_MAX];
	uint32_t key_len;
	uint32_t hash_types;           /* VNET_RSS_HASH_* enabled */
	uint16_t table[VNET_RSS_TABLE_MAX];
	uint32_t table_len;            /* power of two, 1..VNET_RSS_TABLE_MAX */
	uint16_t num_queues;           /* every table entry must be below this */
};

/*
 * Toeplitz hash of `in` under `key`. The key must cover in_len + 4 bytes, since each input bit
 * consumes a 32-bit window of the key; otherwise VNET_ERR_INVAL.
 */
int vnet_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t in_len,
				  uint32_t *hash);

/* Validate and install a configuration (from OID_GEN_RECEIVE_SCALE_PARAMETERS). */
int vnet_rss_configure(struct vnet_rss_config *cfg, const uint8_t *key, uint32_t key_len,
					   uint32_t hash_types, const uint16_t *table, uint32_t table_len,
					   uint16_t num_queues);

/*
 * Hash a received frame with the most specific enabled hash type. Returns VNET_OK and sets
 * the hash and its type (one VNET_RSS_HASH_* bit), or VNET_ERR_UNSUPPORTED when no enabled type
 * applies (non-IP, fragment with only L4 types, ...): such frames go to the default queue.
 */
int vnet_rss_hash_frame(const struct vnet_rss_config *cfg, const uint8_t *frame, size_t len,
						uint32_t *hash, uint32_t *hash_type);

/* Queue for a hash value: table[hash & (table_len - 1)]. */
uint16_t vnet_rss_queue(const struct vnet_rss_config *cfg, uint32_t hash);

/* No MSI-X vector (VIRTIO_MSI_NO_VECTOR). */
#define VNET_VECTOR_NONE 0xFFFFu

/*
 * MSI-X vectors for `pairs` queue pairs out of `nmsg` granted messages: message 0 is the
 * configuration change; receive queue i gets message 1 + i and transmit queue i 1 + pairs + i,
 * so that consecutive receive queues interrupt different processors when the OS spreads
 * messages over processors. With fewer messages a pair shares one, and with fewer still
 * everything uses message 0; nmsg == 0 gives VNET_VECTOR_NONE everywhere.
 */
void vnet_rss_assign_vectors(uint32_t nmsg, uint16_t pairs, uint16_t *rx, uint16_t *tx,
							 uint16_t *config);

/*
 * Receive queue for an indirection-table processor: the first queue whose interrupt may run on
 * that processor (rx_cpus[i]: processor mask of receive queue i's message, 0 when unknown),
 * else cpu modulo nqueues, so that a device steering by this table hands each frame to a
 * queue whose DPC already runs on the processor RSS wants.
 */
uint16_t vnet_rss_cpu_queue(const uint64_t *rx_cpus, uint16_t nqueues, uint32_t cpu);

#endif /* OPENVDP_VNET_RSS_H */
