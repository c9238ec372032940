/*
 * ndis_offload: translation between NDIS per-NBL out-of-band information and the portable
 * vnet_* terms (checksum/LSO requests on send, checksum results on receive, RSS hash types).
 * Kernel-only: needs <ndis.h>.
 */
#ifndef OPENVDP_NDIS_OFFLOAD_H
#define OPENVDP_NDIS_OFFLOAD_H

#include "vnet_rss.h"
#include "vnet_rx.h"
#include "vnet_tx.h"

struct vnet_ndis_tx_offload {
	struct vnet_tx_request req;
	BOOLEAN ip_csum; /* IPv4 header checksum asked for: virtio has no such offload, do it here */
	BOOLEAN lso_v1;  /* LSOv1: the completion must report the TCP payload bytes sent */
};

/* Read the checksum and LSO requests NDIS attached to a send NBL. */
VOID vnet_ndis_get_tx_offload(PNET_BUFFER_LIST nbl, ULONG max_frame_len,
							  struct vnet_ndis_tx_offload *out);

/* Value for NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo) on receive. */
PVOID vnet_ndis_rx_csum_info(uint32_t csum_flags);

/* NDIS_HASH_* bits (OID_GEN_RECEIVE_SCALE_PARAMETERS.HashInformation) to VNET_RSS_HASH_*;
 * types vnet cannot compute (the IPv6 _EX variants) are dropped. */
uint32_t vnet_ndis_hash_types(ULONG ndis_hash_information);

/* One VNET_RSS_HASH_* bit to the NDIS_HASH_* type reported with a received NBL. */
ULONG vnet_ndis_hash_type(uint32_t vnet_hash_type);

#endif /* OPENVDP_NDIS_OFFLOAD_H */
