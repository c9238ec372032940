/*
 * vdpnet OID requests. The table of supported OIDs, the fixed buffer sizes and the BytesNeeded
 * rules are portable (vnet_oid.c, unit-tested); this file produces the answers from adapter
 * state and applies sets. No request is ever pended.
 */
#include "ndis_adapter.h"

_Static_assert(VNET_OID_GEN_SUPPORTED_LIST == OID_GEN_SUPPORTED_LIST, "oid");
_Static_assert(VNET_OID_GEN_HARDWARE_STATUS == OID_GEN_HARDWARE_STATUS, "oid");
_Static_assert(VNET_OID_GEN_MEDIA_SUPPORTED == OID_GEN_MEDIA_SUPPORTED, "oid");
_Static_assert(VNET_OID_GEN_MEDIA_IN_USE == OID_GEN_MEDIA_IN_USE, "oid");
_Static_assert(VNET_OID_GEN_MAXIMUM_LOOKAHEAD == OID_GEN_MAXIMUM_LOOKAHEAD, "oid");
_Static_assert(VNET_OID_GEN_MAXIMUM_FRAME_SIZE == OID_GEN_MAXIMUM_FRAME_SIZE, "oid");
_Static_assert(VNET_OID_GEN_LINK_SPEED == OID_GEN_LINK_SPEED, "oid");
_Static_assert(VNET_OID_GEN_TRANSMIT_BUFFER_SPACE == OID_GEN_TRANSMIT_BUFFER_SPACE, "oid");
_Static_assert(VNET_OID_GEN_RECEIVE_BUFFER_SPACE == OID_GEN_RECEIVE_BUFFER_SPACE, "oid");
_Static_assert(VNET_OID_GEN_TRANSMIT_BLOCK_SIZE == OID_GEN_TRANSMIT_BLOCK_SIZE, "oid");
_Static_assert(VNET_OID_GEN_RECEIVE_BLOCK_SIZE == OID_GEN_RECEIVE_BLOCK_SIZE, "oid");
_Static_assert(VNET_OID_GEN_VENDOR_ID == OID_GEN_VENDOR_ID, "oid");
_Static_assert(VNET_OID_GEN_VENDOR_DESCRIPTION == OID_GEN_VENDOR_DESCRIPTION, "oid");
_Static_assert(VNET_OID_GEN_CURRENT_PACKET_FILTER == OID_GEN_CURRENT_PACKET_FILTER, "oid");
_Static_assert(VNET_OID_GEN_CURRENT_LOOKAHEAD == OID_GEN_CURRENT_LOOKAHEAD, "oid");
_Static_assert(VNET_OID_GEN_DRIVER_VERSION == OID_GEN_DRIVER_VERSION, "oid");
_Static_assert(VNET_OID_GEN_MAXIMUM_TOTAL_SIZE == OID_GEN_MAXIMUM_TOTAL_SIZE, "oid");
_Static_assert(VNET_OID_GEN_MAC_OPTIONS == OID_GEN_MAC_OPTIONS, "oid");
_Static_assert(VNET_OID_GEN_MEDIA_CONNECT_STATUS == OID_GEN_MEDIA_CONNECT_STATUS, "oid");
_Static_assert(VNET_OID_GEN_MAXIMUM_SEND_PACKETS == OID_GEN_MAXIMUM_SEND_PACKETS, "oid");
_Static_assert(VNET_OID_GEN_VENDOR_DRIVER_VERSION == OID_GEN_VENDOR_DRIVER_VERSION, "oid");
_Static_assert(VNET_OID_GEN_PHYSICAL_MEDIUM == OID_GEN_PHYSICAL_MEDIUM, "oid");
_Static_assert(VNET_OID_GEN_RECEIVE_SCALE_CAPABILITIES == OID_GEN_RECEIVE_SCALE_CAPABILITIES,
			   "oid");
_Static_assert(VNET_OID_GEN_RECEIVE_SCALE_PARAMETERS == OID_GEN_RECEIVE_SCALE_PARAMETERS, "oid");
_Static_assert(VNET_OID_GEN_INTERRUPT_MODERATION == OID_GEN_INTERRUPT_MODERATION, "oid");
_Static_assert(VNET_OID_GEN_VLAN_ID == OID_GEN_VLAN_ID, "oid");
_Static_assert(VNET_OID_GEN_XMIT_OK == OID_GEN_XMIT_OK, "oid");
_Static_assert(VNET_OID_GEN_RCV_OK == OID_GEN_RCV_OK, "oid");
_Static_assert(VNET_OID_GEN_XMIT_ERROR == OID_GEN_XMIT_ERROR, "oid");
_Static_assert(VNET_OID_GEN_RCV_ERROR == OID_GEN_RCV_ERROR, "oid");
_Static_assert(VNET_OID_GEN_RCV_NO_BUFFER == OID_GEN_RCV_NO_BUFFER, "oid");
_Static_assert(VNET_OID_GEN_STATISTICS == OID_GEN_STATISTICS, "oid");
_Static_assert(VNET_OID_TCP_RSC_STATISTICS == OID_TCP_RSC_STATISTICS, "oid");
_Static_assert(VNET_OFFLOAD_RSC_ENABLED == NDIS_OFFLOAD_PARAMETERS_RSC_ENABLED, "offload");
_Static_assert(VNET_OFFLOAD_RSC_DISABLED == NDIS_OFFLOAD_PARAMETERS_RSC_DISABLED, "offload");
_Static_assert(VNET_OID_802_3_PERMANENT_ADDRESS == OID_802_3_PERMANENT_ADDRESS, "oid");
_Static_assert(VNET_OID_802_3_CURRENT_ADDRESS == OID_802_3_CURRENT_ADDRESS, "oid");
_Static_assert(VNET_OID_802_3_MULTICAST_LIST == OID_802_3_MULTICAST_LIST, "oid");
_Static_assert(VNET_OID_802_3_MAXIMUM_LIST_SIZE == OID_802_3_MAXIMUM_LIST_SIZE, "oid");
_Static_assert(VNET_OID_OFFLOAD_ENCAPSULATION == OID_OFFLOAD_ENCAPSULATION, "oid");
_Static_assert(VNET_OID_802_3_RCV_ERROR_ALIGNMENT == OID_802_3_RCV_ERROR_ALIGNMENT, "oid");
_Static_assert(VNET_OID_802_3_XMIT_ONE_COLLISION == OID_802_3_XMIT_ONE_COLLISION, "oid");
_Static_assert(VNET_OID_802_3_XMIT_MORE_COLLISIONS == OID_802_3_XMIT_MORE_COLLISIONS, "oid");
_Static_assert(VNET_OID_TCP_OFFLOAD_CURRENT_CONFIG == OID_TCP_OFFLOAD_CURRENT_CONFIG, "oid");
_Static_assert(VNET_OID_TCP_OFFLOAD_PARAMETERS == OID_TCP_OFFLOAD_PARAMETERS, "oid");
_Static_assert(VNET_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES ==
			   OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, "oid");
_Static_assert(VNET_OID_PNP_CAPABILITIES == OID_PNP_CAPABILITIES, "oid");
_Static_assert(VNET_OID_PNP_SET_POWER == OID_PNP_SET_POWER, "oid");
_Static_assert(VNET_OID_PNP_QUERY_POWER == OID_PNP_QUERY_POWER, "oid");
_Static_assert(VNET_OFFLOAD_TX_RX_ENABLED == NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED, "offload");
_Static_assert(VNET_OFFLOAD_RX_ENABLED_TX_DISABLED ==
			   NDIS_OFFLOAD_PARAMETERS_RX_ENABLED_TX_DISABLED, "offload");
_Static_assert(VNET_OFFLOAD_LSOV2_ENABLED == NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED, "offload");

#define VNET_OID_LIST_MAX 64u
NDIS_OID vnet_supported_oids[VNET_OID_LIST_MAX];
ULONG vnet_supported_oids_len;

VOID vnet_oid_init(VOID)
{
	size_t i, n = vnet_oid_count < VNET_OID_LIST_MAX ? vnet_oid_count : VNET_OID_LIST_MAX;

	for (i = 0; i < n; i++)
		vnet_supported_oids[i] = vnet_oid_table[i].oid;
	vnet_supported_oids_len = (ULONG)(n * sizeof(NDIS_OID));
}

static NDIS_STATUS map_status(enum vnet_oid_status s)
{
	switch (s) {
	case VNET_OID_OK: return NDIS_STATUS_SUCCESS;
	case VNET_OID_INVALID_LENGTH: return NDIS_STATUS_INVALID_LENGTH;
	case VNET_OID_BUFFER_TOO_SHORT: return NDIS_STATUS_BUFFER_TOO_SHORT;
	case VNET_OID_INVALID_DATA: return NDIS_STATUS_INVALID_DATA;
	default: return NDIS_STATUS_NOT_SUPPORTED;
	}
}

static const char vnet_description[] = VDP_BRAND_VDPNET_DESC;

static VOID fill_stats(struct vnet_adapter *a, PNDIS_STATISTICS_INFO s)
{
	NdisZeroMemory(s, sizeof(*s));
	s->Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
	s->Header.Revision = NDIS_STATISTICS_INFO_REVISION_1;
	s->Header.Size = NDIS_SIZEOF_STATISTICS_INFO_REVISION_1;
	s->SupportedStatistics =
		NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV |
		NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV |
		NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV | NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV |
		NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS | NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR |
		NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT |
		NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT |
		NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT | NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT |
		NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR;
	s->ifInDiscards = (ULONG64)(a->st.rx_drop + a->st.rx_nobuf);
	s->ifInErrors = (ULONG64)a->st.rx_err;
	s->ifHCInOctets = (ULONG64)a->st.rx_bytes;
	s->ifHCInUcastPkts = (ULONG64)a->st.rx_ucast;
	s->ifHCInMulticastPkts = (ULONG64)a->st.rx_mcast;
	s->ifHCInBroadcastPkts = (ULONG64)a->st.rx_bcast;
	s->ifHCOutOctets = (ULONG64)a->st.tx_bytes;
	s->ifHCOutUcastPkts = (ULONG64)a->st.tx_ucast;
	s->ifHCOutMulticastPkts = (ULONG64)a->st.tx_mcast;
	s->ifHCOutBroadcastPkts = (ULONG64)a->st.tx_bcast;
	s->ifOutErrors = (ULONG64)a->st.tx_err;
}

static VOID fill_rss_caps(struct vnet_adapter *a, PNDIS_RECEIVE_SCALE_CAPABILITIES c)
{
	NdisZeroMemory(c, sizeof(*c));
	c->Header.Type = NDIS_OBJECT_TYPE_RSS_CAPABILITIES;
	c->Header.Revision = NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2;
	c->Header.Size = NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_2;
	c->CapabilitiesFlags = NDIS_RSS_CAPS_CLASSIFICATION_AT_DPC | NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4 |
						   NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6 | NdisHashFunctionToeplitz;
	if (a->msix)
		c->CapabilitiesFlags |= NDIS_RSS_CAPS_MESSAGE_SIGNALED_INTERRUPTS;
	c->NumberOfInterruptMessages = a->msix ? a->msg_count : 1;
	c->NumberOfReceiveQueues = a->pairs;
	c->NumberOfIndirectionTableEntries = VNET_RSS_TABLE_MAX;
}

static VOID fill_encapsulation(struct vnet_adapter *a, PNDIS_OFFLOAD_ENCAPSULATION e)
{
	(void)a;
	NdisZeroMemory(e, sizeof(*e));
	e->Header.Type = NDIS_OBJECT_TYPE_OFFLOAD_ENCAPSULATION;
	e->Header.Revision = NDIS_OFFLOAD_ENCAPSULATION_REVISION_1;
	e->Header.Size = NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1;
	e->IPv4.Enabled = e->IPv6.Enabled = NDIS_OFFLOAD_SET_ON;
	e->IPv4.EncapsulationType = e->IPv6.EncapsulationType = NDIS_ENCAPSULATION_IEEE_802_3;
	e->IPv4.HeaderSize = e->IPv6.HeaderSize = VNET_ETH_HLEN;
}

static NDIS_STATUS query(struct vnet_adapter *a, PNDIS_OID_REQUEST r)
{
	NDIS_OID oid = r->DATA.QUERY_INFORMATION.Oid;
	PVOID buf = r->DATA.QUERY_INFORMATION.InformationBuffer;
	ULONG len = r->DATA.QUERY_INFORMATION.InformationBufferLength;
	uint32_t written = 0, needed = 0;
	enum vnet_oid_status s;
	union {
		ULONG u;
		USHORT us;
		UCHAR mac[VNET_MAC_LEN];
		NDIS_STATISTICS_INFO stats;
		NDIS_RSC_STATISTICS_INFO rsc;
		NDIS_RECEIVE_SCALE_CAPABILITIES rss;
		NDIS_OFFLOAD off;
		NDIS_OFFLOAD_ENCAPSULATION enc;
		NDIS_PNP_CAPABILITIES pnp;
		NDIS_INTERRUPT_MODERATION_PARAMETERS im;
	} v;
	const void *src = &v;
	ULONG src_len = sizeof(ULONG);
	ULONG64 counter = 0;
	BOOLEAN is_counter = FALSE;

	r->DATA.QUERY_INFORMATION.BytesWritten = 0;
	r->DATA.QUERY_INFORMATION.BytesNeeded = 0;
	s = vnet_oid_check(oid, false, len, &needed);
	if (s != VNET_OID_OK) {
		r->DATA.QUERY_INFORMATION.BytesNeeded = needed;
		return map_status(s);
	}
	NdisZeroMemory(&v, sizeof(v));
	switch (oid) {
	case OID_GEN_SUPPORTED_LIST:
		src = vnet_supported_oids;
		src_len = vnet_supported_oids_len;
		break;
	case OID_GEN_HARDWARE_STATUS:
		v.u = NdisHardwareStatusReady;
		break;
	case OID_GEN_MEDIA_SUPPORTED:
	case OID_GEN_MEDIA_IN_USE:
		v.u = NdisMedium802_3;
		break;
	case OID_GEN_PHYSICAL_MEDIUM:
		v.u = NdisPhysicalMediumUnspecified;
		break;
	case OID_GEN_MAXIMUM_LOOKAHEAD:
	case OID_GEN_MAXIMUM_TOTAL_SIZE:
	case OID_GEN_TRANSMIT_BLOCK_SIZE:
	case OID_GEN_RECEIVE_BLOCK_SIZE:
		v.u = a->max_frame;
		break;
	case OID_GEN_CURRENT_LOOKAHEAD:
		v.u = a->lookahead;
		break;
	case OID_GEN_MAXIMUM_FRAME_SIZE:
		v.u = a->mtu;
		break;
	case OID_GEN_LINK_SPEED:
		/* Units of 100 bit/s. */
		v.u = a->link_speed / 100 > 0xFFFFFFFFull ? 0xFFFFFFFFu : (ULONG)(a->link_speed / 100);
		break;
	case OID_GEN_TRANSMIT_BUFFER_SPACE:
		v.u = a->txq[0].nslots * a->pairs * a->max_frame;
		break;
	case OID_GEN_RECEIVE_BUFFER_SPACE:
		v.u = a->rxq[0].nbufs * a->pairs * a->rx_buf_len;
		break;
	case OID_GEN_VENDOR_ID:
		v.u = ((ULONG)a->perm_mac[0] << 16) | ((ULONG)a->perm_mac[1] << 8) | a->perm_mac[2];
		v.u <<= 8;
		break;
	case OID_GEN_VENDOR_DESCRIPTION:
		src = vnet_description;
		src_len = sizeof(vnet_description);
		break;
	case OID_GEN_DRIVER_VERSION:
		v.us = (USHORT)((NDIS_MINIPORT_MAJOR_VERSION << 8) | NDIS_MINIPORT_MINOR_VERSION);
		src_len = sizeof(USHORT);
		break;
	case OID_GEN_VENDOR_DRIVER_VERSION:
		v.u = (VNET_DRIVER_MAJOR << 16) | VNET_DRIVER_MINOR;
		break;
	case OID_GEN_MAC_OPTIONS:
		v.u = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_TRANSFERS_NOT_PEND |
			  NDIS_MAC_OPTION_NO_LOOPBACK | NDIS_MAC_OPTION_8021P_PRIORITY |
			  NDIS_MAC_OPTION_8021Q_VLAN;
		break;
	case OID_GEN_MEDIA_CONNECT_STATUS:
		v.u = a->link_up ? NdisMediaStateConnected : NdisMediaStateDisconnected;
		break;
	case OID_GEN_MAXIMUM_SEND_PACKETS:
		v.u = a->txq[0].nslots;
		break;
	case OID_GEN_CURRENT_PACKET_FILTER:
		v.u = a->filter.packet_filter;
		break;
	case OID_GEN_VLAN_ID:
		v.u = a->vlan_id;
		break;
	case OID_GEN_XMIT_OK:
		is_counter = TRUE;
		counter = (ULONG64)a->st.tx_ok;
		break;
	case OID_GEN_RCV_OK:
		is_counter = TRUE;
		counter = (ULONG64)a->st.rx_ok;
		break;
	case OID_GEN_XMIT_ERROR:
		is_counter = TRUE;
		counter = (ULONG64)a->st.tx_err;
		break;
	case OID_GEN_RCV_ERROR:
		is_counter = TRUE;
		counter = (ULONG64)a->st.rx_err;
		break;
	case OID_GEN_RCV_NO_BUFFER:
		is_counter = TRUE;
		counter = (ULONG64)a->st.rx_nobuf;
		break;
	case OID_802_3_RCV_ERROR_ALIGNMENT:
	case OID_802_3_XMIT_ONE_COLLISION:
	case OID_802_3_XMIT_MORE_COLLISIONS:
		is_counter = TRUE;
		break;
	case OID_GEN_STATISTICS:
		fill_stats(a, &v.stats);
		src_len = sizeof(v.stats);
		break;
	case OID_TCP_RSC_STATISTICS:
		/* Packets: segments the device coalesced; events: coalesced units indicated; aborts:
		 * coalesced frames segmented again because RSC was switched off. */
		v.rsc.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
		v.rsc.Header.Revision = NDIS_RSC_STATISTICS_REVISION_1;
		v.rsc.Header.Size = NDIS_SIZEOF_RSC_STATISTICS_REVISION_1;
		v.rsc.CoalescedPkts = (ULONG64)a->st.rsc_segs;
		v.rsc.CoalescedOctets = (ULONG64)a->st.rsc_bytes;
		v.rsc.CoalesceEvents = (ULONG64)a->st.rsc_units;
		v.rsc.Aborts = (ULONG64)a->st.rsc_aborts;
		src_len = NDIS_SIZEOF_RSC_STATISTICS_REVISION_1;
		break;
	case OID_802_3_PERMANENT_ADDRESS:
		NdisMoveMemory(v.mac, a->perm_mac, VNET_MAC_LEN);
		src_len = VNET_MAC_LEN;
		break;
	case OID_802_3_CURRENT_ADDRESS:
		NdisMoveMemory(v.mac, a->cur_mac, VNET_MAC_LEN);
		src_len = VNET_MAC_LEN;
		break;
	case OID_802_3_MULTICAST_LIST:
		/* The list is at most 192 bytes: answer from a snapshot taken under the lock. */
		{
			UCHAR list[VNET_MCAST_MAX * VNET_MAC_LEN];

			NdisAcquireSpinLock(&a->state_lock);
			src_len = a->filter.mcast_count * VNET_MAC_LEN;
			NdisMoveMemory(list, a->filter.mcast, src_len);
			NdisReleaseSpinLock(&a->state_lock);
			s = vnet_oid_answer(list, src_len, buf, len, &written, &needed);
			r->DATA.QUERY_INFORMATION.BytesWritten = written;
			r->DATA.QUERY_INFORMATION.BytesNeeded = needed;
			return map_status(s);
		}
	case OID_802_3_MAXIMUM_LIST_SIZE:
		v.u = VNET_MCAST_MAX;
		break;
	case OID_GEN_RECEIVE_SCALE_CAPABILITIES:
		if (!a->rss_enabled_cfg)
			return NDIS_STATUS_NOT_SUPPORTED;
		fill_rss_caps(a, &v.rss);
		src_len = NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_2;
		break;
	case OID_GEN_INTERRUPT_MODERATION:
		v.im.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
		v.im.Header.Revision = NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1;
		v.im.Header.Size = NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1;
		v.im.InterruptModeration = NdisInterruptModerationNotSupported;
		src_len = NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1;
		break;
	case OID_OFFLOAD_ENCAPSULATION:
		fill_encapsulation(a, &v.enc);
		src_len = NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1;
		break;
	case OID_TCP_OFFLOAD_CURRENT_CONFIG:
		vnet_fill_offload(a, &a->offload, &v.off);
		src_len = NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3;
		break;
	case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
		vnet_fill_offload(a, &a->caps, &v.off);
		src_len = NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3;
		break;
	case OID_PNP_CAPABILITIES:
		/* No wake-up support: every minimum wake state is "unspecified" (zero). */
		src_len = sizeof(v.pnp);
		break;
	case OID_PNP_QUERY_POWER:
		src_len = 0;
		break;
	default:
		return NDIS_STATUS_NOT_SUPPORTED;
	}
	if (is_counter)
		s = vnet_oid_answer_counter(counter, buf, len, &written, &needed);
	else
		s = vnet_oid_answer(src, src_len, buf, len, &written, &needed);
	r->DATA.QUERY_INFORMATION.BytesWritten = written;
	r->DATA.QUERY_INFORMATION.BytesNeeded = needed;
	return map_status(s);
}

/* OID_GEN_RECEIVE_SCALE_PARAMETERS: validate every offset against the buffer, then install. */
static NDIS_STATUS set_rss(struct vnet_adapter *a, PVOID buf, ULONG len)
{
	PNDIS_RECEIVE_SCALE_PARAMETERS p = buf;
	struct vnet_rss_config *cfg;
	uint16_t table[VNET_RSS_TABLE_MAX];
	UCHAR cpus[VNET_RSS_TABLE_MAX];
	ULONG i, n, entry;
	enum vnet_oid_status s;
	uint32_t types;
	const UCHAR *key;
	ULONG key_len;
	int rc;

	if (!a->rss_enabled_cfg)
		return NDIS_STATUS_NOT_SUPPORTED;
	s = vnet_oid_check_header(buf, len, NDIS_OBJECT_TYPE_RSS_PARAMETERS,
							  NDIS_RECEIVE_SCALE_PARAMETERS_REVISION_1,
							  NDIS_SIZEOF_RECEIVE_SCALE_PARAMETERS_REVISION_1);
	if (s != VNET_OID_OK)
		return map_status(s);
	if (p->Flags & NDIS_RSS_PARAM_FLAG_DISABLE_RSS) {
		NdisAcquireSpinLock(&a->state_lock);
		a->rss_on = FALSE;
		NdisReleaseSpinLock(&a->state_lock);
		return NDIS_STATUS_SUCCESS;
	}
	cfg = vnet_alloc(a, sizeof(*cfg));
	if (!cfg)
		return NDIS_STATUS_RESOURCES;
	NdisAcquireSpinLock(&a->state_lock);
	*cfg = a->rss;
	NdisMoveMemory(cpus, a->rss_cpu, sizeof(cpus));
	NdisReleaseSpinLock(&a->state_lock);

	types = cfg->hash_types;
	if (!(p->Flags & NDIS_RSS_PARAM_FLAG_HASH_INFO_UNCHANGED)) {
		ULONG fn = NDIS_RSS_HASH_FUNC_FROM_HASH_INFO(p->HashInformation);

		if (fn != 0 && fn != NdisHashFunctionToeplitz) {
			vnet_free(a, cfg);
			return NDIS_STATUS_INVALID_DATA;
		}
		types = fn ? vnet_ndis_hash_types(p->HashInformation) : 0;
	}
	key = cfg->key;
	key_len = cfg->key_len;
	if (!(p->Flags & NDIS_RSS_PARAM_FLAG_HASH_KEY_UNCHANGED)) {
		if (p->HashSecretKeyOffset > len || p->HashSecretKeySize > len - p->HashSecretKeyOffset) {
			vnet_free(a, cfg);
			return NDIS_STATUS_INVALID_LENGTH;
		}
		key = (const UCHAR *)buf + p->HashSecretKeyOffset;
		key_len = p->HashSecretKeySize;
	}
	n = cfg->table_len;
	for (i = 0; i < n && i < VNET_RSS_TABLE_MAX; i++)
		table[i] = cfg->table[i];
	if (!(p->Flags & NDIS_RSS_PARAM_FLAG_ITABLE_UNCHANGED)) {
		/* NDIS 6.20+ tables are PROCESSOR_NUMBER entries; each processor maps onto the receive
		 * queue whose message interrupts it (modulo when none does). */
		entry = p->Header.Revision >= NDIS_RECEIVE_SCALE_PARAMETERS_REVISION_2 ?
					sizeof(PROCESSOR_NUMBER) : sizeof(UCHAR);
		if (p->IndirectionTableOffset > len ||
			p->IndirectionTableSize > len - p->IndirectionTableOffset ||
			p->IndirectionTableSize % entry) {
			vnet_free(a, cfg);
			return NDIS_STATUS_INVALID_LENGTH;
		}
		n = p->IndirectionTableSize / entry;
		if (n > VNET_RSS_TABLE_MAX) {
			vnet_free(a, cfg);
			return NDIS_STATUS_INVALID_DATA;
		}
		for (i = 0; i < n; i++) {
			const UCHAR *e = (const UCHAR *)buf + p->IndirectionTableOffset + i * entry;
			ULONG cpu = entry == sizeof(UCHAR) ? e[0] : ((const PROCESSOR_NUMBER *)e)->Number;
			ULONG group = entry == sizeof(UCHAR) ? 0 : ((const PROCESSOR_NUMBER *)e)->Group;

			table[i] = vnet_queue_for_cpu(a, group, cpu);
			/* Steering reaches group 0 only; other entries are indicated where they arrive. */
			cpus[i] = group == 0 && cpu < VNET_STEER_CPUS ? (UCHAR)cpu : VNET_RSS_NO_CPU;
		}
	}
	if (types == 0) {
		NdisAcquireSpinLock(&a->state_lock);
		a->rss_on = FALSE;
		NdisReleaseSpinLock(&a->state_lock);
		vnet_free(a, cfg);
		return NDIS_STATUS_SUCCESS;
	}
	rc = vnet_rss_configure(cfg, key, key_len, types, table, n, a->pairs);
	if (rc == VNET_OK) {
		NdisAcquireSpinLock(&a->state_lock);
		a->rss = *cfg;
		NdisMoveMemory(a->rss_cpu, cpus, sizeof(cpus));
		a->rss_cpu_mask = cfg->table_len ? cfg->table_len - 1 : 0;
		a->rss_hash_info = p->HashInformation;
		a->rss_on = TRUE;
		NdisReleaseSpinLock(&a->state_lock);
	}
	vnet_free(a, cfg);
	return rc == VNET_OK ? NDIS_STATUS_SUCCESS : NDIS_STATUS_INVALID_DATA;
}

static NDIS_STATUS set_offload(struct vnet_adapter *a, PVOID buf, ULONG len)
{
	PNDIS_OFFLOAD_PARAMETERS p = buf;
	struct vnet_offload_cfg c = a->offload;
	enum vnet_oid_status s;

	s = vnet_oid_check_header(buf, len, NDIS_OBJECT_TYPE_DEFAULT,
							  NDIS_OFFLOAD_PARAMETERS_REVISION_1,
							  NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_1);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_csum(p->IPv4Checksum, &c.tx_ip4, &c.rx_ip4);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_csum(p->TCPIPv4Checksum, &c.tx_tcp4, &c.rx_tcp4);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_csum(p->UDPIPv4Checksum, &c.tx_udp4, &c.rx_udp4);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_csum(p->TCPIPv6Checksum, &c.tx_tcp6, &c.rx_tcp6);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_csum(p->UDPIPv6Checksum, &c.tx_udp6, &c.rx_udp6);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_lso(p->LsoV2IPv4, &c.lso4);
	if (s == VNET_OID_OK)
		s = vnet_offload_apply_lso(p->LsoV2IPv6, &c.lso6);
	/* RscIPv4/RscIPv6 exist from revision 3 on. */
	if (s == VNET_OID_OK && p->Header.Revision >= NDIS_OFFLOAD_PARAMETERS_REVISION_3 &&
		p->Header.Size >= NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_3) {
		s = vnet_offload_apply_rsc(p->RscIPv4, &c.rsc4);
		if (s == VNET_OID_OK)
			s = vnet_offload_apply_rsc(p->RscIPv6, &c.rsc6);
	}
	if (s != VNET_OID_OK)
		return map_status(s);
	/* LSOv1 and IPsec are not offered: asking to enable them is an error. */
	if (p->LsoV1 == NDIS_OFFLOAD_PARAMETERS_LSOV1_ENABLED ||
		(p->IPsecV1 != NDIS_OFFLOAD_PARAMETERS_NO_CHANGE &&
		 p->IPsecV1 != NDIS_OFFLOAD_PARAMETERS_IPSECV1_DISABLED))
		return NDIS_STATUS_NOT_SUPPORTED;
	vnet_offload_mask(&c, &a->caps);
	a->offload = c;
	vnet_apply_guest_offloads(a);
	vnet_indicate_offload(a);
	return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_power(struct vnet_adapter *a, NDIS_DEVICE_POWER_STATE state)
{
	NDIS_STATUS st = NDIS_STATUS_SUCCESS;

	if (state < NdisDeviceStateD0 || state > NdisDeviceStateD3)
		return NDIS_STATUS_INVALID_DATA;
	if (state == a->power)
		return NDIS_STATUS_SUCCESS;
	if (state == NdisDeviceStateD0) {
		/* Back from low power: the device lost its state, set everything up again. */
		a->power = NdisDeviceStateD0;
		st = vnet_hw_start(a);
		InterlockedExchange(&a->dead, st != NDIS_STATUS_SUCCESS);
		if (st == NDIS_STATUS_SUCCESS)
			vnet_indicate_link(a);
		return st;
	}
	/* NDIS paused the miniport before this: nothing is in flight. Stop the device's DMA. */
	if (a->power == NdisDeviceStateD0)
		vnet_hw_stop(a);
	a->power = state;
	return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set(struct vnet_adapter *a, PNDIS_OID_REQUEST r)
{
	NDIS_OID oid = r->DATA.SET_INFORMATION.Oid;
	PVOID buf = r->DATA.SET_INFORMATION.InformationBuffer;
	ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
	uint32_t needed = 0;
	enum vnet_oid_status s;
	NDIS_STATUS st;
	ULONG v = 0;
	int rc;

	r->DATA.SET_INFORMATION.BytesRead = 0;
	r->DATA.SET_INFORMATION.BytesNeeded = 0;
	s = vnet_oid_check(oid, true, len, &needed);
	if (s != VNET_OID_OK) {
		r->DATA.SET_INFORMATION.BytesNeeded = needed;
		return map_status(s);
	}
	if (len && !buf)
		return NDIS_STATUS_INVALID_DATA;
	if (needed == 0 && vnet_oid_lookup(oid)->set_len == sizeof(ULONG))
		NdisMoveMemory(&v, buf, sizeof(ULONG));

	switch (oid) {
	case OID_GEN_CURRENT_PACKET_FILTER:
		NdisAcquireSpinLock(&a->state_lock);
		rc = vnet_filter_set_packet_filter(&a->filter, v);
		NdisReleaseSpinLock(&a->state_lock);
		if (rc != VNET_OK)
			return NDIS_STATUS_NOT_SUPPORTED;
		st = vnet_apply_filter(a);
		break;
	case OID_GEN_CURRENT_LOOKAHEAD:
		if (v > a->max_frame)
			return NDIS_STATUS_INVALID_DATA;
		a->lookahead = v ? v : a->max_frame;
		st = NDIS_STATUS_SUCCESS;
		break;
	case OID_GEN_VLAN_ID:
		if (v > 4094)
			return NDIS_STATUS_INVALID_DATA;
		a->vlan_id = v;
		st = NDIS_STATUS_SUCCESS;
		break;
	case OID_802_3_MULTICAST_LIST:
		NdisAcquireSpinLock(&a->state_lock);
		rc = vnet_filter_set_mcast(&a->filter, buf, len);
		NdisReleaseSpinLock(&a->state_lock);
		if (rc == VNET_ERR_MALFORMED) {
			r->DATA.SET_INFORMATION.BytesNeeded = (len / VNET_MAC_LEN + 1) * VNET_MAC_LEN;
			return NDIS_STATUS_INVALID_LENGTH;
		}
		if (rc == VNET_ERR_TOO_LONG)
			return NDIS_STATUS_MULTICAST_FULL;
		if (rc != VNET_OK)
			return NDIS_STATUS_INVALID_DATA;
		st = vnet_apply_filter(a);
		break;
	case OID_GEN_RECEIVE_SCALE_PARAMETERS:
		st = set_rss(a, buf, len);
		if (st == NDIS_STATUS_SUCCESS && a->hw_running)
			vnet_program_steering(a);
		break;
	case OID_TCP_OFFLOAD_PARAMETERS:
		st = set_offload(a, buf, len);
		break;
	case OID_OFFLOAD_ENCAPSULATION: {
		PNDIS_OFFLOAD_ENCAPSULATION e = buf;

		s = vnet_oid_check_header(buf, len, NDIS_OBJECT_TYPE_OFFLOAD_ENCAPSULATION,
								  NDIS_OFFLOAD_ENCAPSULATION_REVISION_1,
								  NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1);
		if (s != VNET_OID_OK)
			return map_status(s);
		/* Only plain Ethernet framing can be offloaded. */
		if ((e->IPv4.Enabled == NDIS_OFFLOAD_SET_ON &&
			 e->IPv4.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3) ||
			(e->IPv6.Enabled == NDIS_OFFLOAD_SET_ON &&
			 e->IPv6.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3))
			return NDIS_STATUS_NOT_SUPPORTED;
		st = NDIS_STATUS_SUCCESS;
		break;
	}
	case OID_GEN_INTERRUPT_MODERATION:
		return NDIS_STATUS_INVALID_DATA;
	case OID_PNP_SET_POWER:
		st = set_power(a, (NDIS_DEVICE_POWER_STATE)v);
		break;
	case OID_PNP_QUERY_POWER:
		st = NDIS_STATUS_SUCCESS;
		break;
	default:
		return NDIS_STATUS_NOT_SUPPORTED;
	}
	if (st == NDIS_STATUS_SUCCESS)
		r->DATA.SET_INFORMATION.BytesRead = len;
	return st;
}

NDIS_STATUS NTAPI vnet_oid_request(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
	struct vnet_adapter *a = ctx;

	if (!r)
		return NDIS_STATUS_INVALID_PARAMETER;
	switch (r->RequestType) {
	case NdisRequestQueryInformation:
	case NdisRequestQueryStatistics:
		return query(a, r);
	case NdisRequestSetInformation:
		return set(a, r);
	default:
		return NDIS_STATUS_NOT_SUPPORTED;
	}
}

VOID NTAPI vnet_cancel_oid_request(NDIS_HANDLE ctx, PVOID request_id)
{
	/* Requests complete synchronously, so there is never one to cancel. */
	(void)ctx;
	(void)request_id;
}
