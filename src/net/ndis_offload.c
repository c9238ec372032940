/*
 * ndis_offload: NDIS out-of-band information <-> vnet terms. Kept apart from the portable code
 * because the NBL info layouts are NDIS ABI; everything decided from the frame itself lives in
 * vnet_tx.c / vnet_rx.c.
 */
#include <ntddk.h>

#define NDIS_MINIPORT_DRIVER 1
#define NDIS630_MINIPORT 1
#include <ndis.h>

#include "ndis_offload.h"

/* UDP hash types are NDIS 6.80 additions that NDIS may still pass to a 6.30 miniport. */
#ifndef NDIS_HASH_UDP_IPV4
#define NDIS_HASH_UDP_IPV4 0x00004000
#define NDIS_HASH_UDP_IPV6 0x00008000
#endif

VOID vnet_ndis_get_tx_offload(PNET_BUFFER_LIST nbl, ULONG max_frame_len,
							  struct vnet_ndis_tx_offload *out)
{
	NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO csum;
	NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;

	RtlZeroMemory(out, sizeof(*out));
	out->req.max_frame_len = max_frame_len;
	csum.Value = NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo);
	lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);

	/* The MSS field sits at the same place for LSOv1 and LSOv2. */
	if (lso.Value && lso.LsoV1Transmit.MSS) {
		out->req.lso_mss = lso.LsoV1Transmit.MSS;
		out->lso_v1 = lso.Transmit.Type == NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE;
		/* LSOv1 also asks for the IPv4 header checksum of every segment; the device fills it. */
		return;
	}
	if (csum.Value) {
		out->req.csum_tcp = csum.Transmit.TcpChecksum != 0;
		out->req.csum_udp = !out->req.csum_tcp && csum.Transmit.UdpChecksum != 0;
		out->ip_csum = csum.Transmit.IsIPv4 && csum.Transmit.IpHeaderChecksum;
	}
}

PVOID vnet_ndis_rx_csum_info(uint32_t csum_flags)
{
	NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO info;

	info.Value = NULL;
	if (csum_flags & VNET_RX_CSUM_IP_OK)
		info.Receive.IpChecksumSucceeded = 1;
	if (csum_flags & VNET_RX_CSUM_IP_BAD)
		info.Receive.IpChecksumFailed = 1;
	if (csum_flags & VNET_RX_CSUM_TCP_OK)
		info.Receive.TcpChecksumSucceeded = 1;
	if (csum_flags & VNET_RX_CSUM_UDP_OK)
		info.Receive.UdpChecksumSucceeded = 1;
	if ((csum_flags & VNET_RX_CSUM_TCP_OK) && (csum_flags & VNET_RX_CSUM_TCP_VALUE_STALE))
		info.Receive.TcpChecksumValueInvalid = 1;
	return info.Value;
}

uint32_t vnet_ndis_hash_types(ULONG ndis_hash_information)
{
	ULONG t = NDIS_RSS_HASH_TYPE_FROM_HASH_INFO(ndis_hash_information);
	uint32_t v = 0;

	if (t & NDIS_HASH_IPV4)
		v |= VNET_RSS_HASH_IPV4;
	if (t & NDIS_HASH_TCP_IPV4)
		v |= VNET_RSS_HASH_TCP_IPV4;
	if (t & NDIS_HASH_UDP_IPV4)
		v |= VNET_RSS_HASH_UDP_IPV4;
	if (t & NDIS_HASH_IPV6)
		v |= VNET_RSS_HASH_IPV6;
	if (t & NDIS_HASH_TCP_IPV6)
		v |= VNET_RSS_HASH_TCP_IPV6;
	if (t & NDIS_HASH_UDP_IPV6)
		v |= VNET_RSS_HASH_UDP_IPV6;
	return v;
}

ULONG vnet_ndis_hash_type(uint32_t vnet_hash_type)
{
	switch (vnet_hash_type) {
	case VNET_RSS_HASH_IPV4: return NDIS_HASH_IPV4;
	case VNET_RSS_HASH_TCP_IPV4: return NDIS_HASH_TCP_IPV4;
	case VNET_RSS_HASH_UDP_IPV4: return NDIS_HASH_UDP_IPV4;
	case VNET_RSS_HASH_IPV6: return NDIS_HASH_IPV6;
	case VNET_RSS_HASH_TCP_IPV6: return NDIS_HASH_TCP_IPV6;
	case VNET_RSS_HASH_UDP_IPV6: return NDIS_HASH_UDP_IPV6;
	default: return 0;
	}
}
