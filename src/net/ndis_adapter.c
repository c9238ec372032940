/*
 * vdpnet adapter life cycle: MiniportInitializeEx / HaltEx / Pause / Restart / DevicePnPEvent /
 * ShutdownEx, interrupts (MSI-X with a per-queue message, or a line interrupt whose ISR reads
 * the virtio ISR register), device start/stop around D0/D3, the control virtqueue and link
 * state indications.
 *
 * Recovery: CheckForHang (every VNET_HANG_CHECK_SECONDS) reports a broken queue, a device
 * asking for a reset, or sends stalled for VNET_HANG_STALLS checks; Reset then runs on a work
 * item: device reset, every outstanding send completed with RESET_IN_PROGRESS, the device set
 * up again as at initialisation. A device that does not come back is "dead": sends fail, the
 * link is down, Pause and Halt still complete.
 */
#include "ndis_adapter.h"

#define VNET_STATS_SUPPORTED                                                                   \
	(NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV |                                         \
	 NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV |                                        \
	 NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV | NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV | \
	 NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS | NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR |        \
	 NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT |                                        \
	 NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT |                                       \
	 NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT | NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT | \
	 NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR)

/* Portable code mirrors these NDIS values. */
_Static_assert(VNET_PF_DIRECTED == NDIS_PACKET_TYPE_DIRECTED, "packet filter");
_Static_assert(VNET_PF_MULTICAST == NDIS_PACKET_TYPE_MULTICAST, "packet filter");
_Static_assert(VNET_PF_ALL_MULTICAST == NDIS_PACKET_TYPE_ALL_MULTICAST, "packet filter");
_Static_assert(VNET_PF_BROADCAST == NDIS_PACKET_TYPE_BROADCAST, "packet filter");
_Static_assert(VNET_PF_PROMISCUOUS == NDIS_PACKET_TYPE_PROMISCUOUS, "packet filter");
_Static_assert(VNET_PF_ALL_LOCAL == NDIS_PACKET_TYPE_ALL_LOCAL, "packet filter");

/* Features asked for. GUEST_TSO4/6 only for RSC (*RscIPv4, *RscIPv6) and only with MRG_RXBUF: a
 * coalesced frame is up to 64 KiB, which without mergeable buffers would have to fit every
 * posted buffer (5.1.6.3.1); with them it arrives over several ring buffers and is gathered
 * into a spare 64 KiB buffer. GUEST_TSO needs GUEST_CSUM (vnet_features_select drops it
 * otherwise). CTRL_GUEST_OFFLOADS lets RSC be switched off at run time.
 * CTRL_VLAN is not asked for: with it the device drops every tagged frame whose VLAN was not
 * added, and VLAN filtering is done in software instead. */
static uint64_t wanted_features(const struct vnet_adapter *a, uint64_t offered)
{
	uint64_t f = 0;

#define W(bit) (f |= 1ull << (bit))
	W(VIRTIO_NET_F_CSUM);
	W(VIRTIO_NET_F_GUEST_CSUM);
	W(VIRTIO_NET_F_MTU);
	W(VIRTIO_NET_F_MAC);
	W(VIRTIO_NET_F_HOST_TSO4);
	W(VIRTIO_NET_F_HOST_TSO6);
	W(VIRTIO_NET_F_HOST_ECN);
	W(VIRTIO_NET_F_MRG_RXBUF);
	W(VIRTIO_NET_F_STATUS);
	W(VIRTIO_NET_F_CTRL_VQ);
	W(VIRTIO_NET_F_CTRL_RX);
	W(VIRTIO_NET_F_CTRL_RX_EXTRA);
	W(VIRTIO_NET_F_CTRL_MAC_ADDR);
	W(VIRTIO_NET_F_SPEED_DUPLEX);
	if (a->rss_enabled_cfg && a->rss_queues_cfg > 1) {
		W(VIRTIO_NET_F_MQ);
		W(VIRTIO_NET_F_RSS);
	}
	W(VIRTIO_F_INDIRECT_DESC);
	W(VIRTIO_F_EVENT_IDX);
	W(VIRTIO_F_VERSION_1);
	W(VIRTIO_F_ANY_LAYOUT);
	if (offered & (1ull << VIRTIO_NET_F_MRG_RXBUF)) {
		if (a->rsc_cfg4)
			W(VIRTIO_NET_F_GUEST_TSO4);
		if (a->rsc_cfg6)
			W(VIRTIO_NET_F_GUEST_TSO6);
		if (a->rsc_cfg4 || a->rsc_cfg6)
			W(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	}
#undef W
	return f;
}

/* NDIS_STATUS_HARD_ERRORS: what NdisMResetComplete reports for a device that did not come back. */
#define NDIS_STATUS_HARD_ERRORS_VNET ((NDIS_STATUS)0x80010004L)

static BOOLEAN has(const struct vnet_adapter *a, unsigned bit)
{
	return (a->features >> bit) & 1u;
}

/* ------------------------------------------------------------------ registry */

static ULONG read_int(NDIS_HANDLE cfg, const WCHAR *name, ULONG def, ULONG min, ULONG max)
{
	PNDIS_CONFIGURATION_PARAMETER p = NULL;
	NDIS_STATUS st;
	NDIS_STRING key;

	RtlInitUnicodeString(&key, name);
	NdisReadConfiguration(&st, &p, cfg, &key, NdisParameterInteger);
	if (st != NDIS_STATUS_SUCCESS || !p || p->ParameterType != NdisParameterInteger)
		return def;
	if (p->ParameterData.IntegerData < min || p->ParameterData.IntegerData > max)
		return def;
	return p->ParameterData.IntegerData;
}

/* Keywords are those of inf/vdpnet.inf.in; out-of-range values fall back to the defaults. */
static VOID read_config(struct vnet_adapter *a, BOOLEAN *mac_override)
{
	NDIS_CONFIGURATION_OBJECT obj;
	NDIS_HANDLE cfg = NULL;
	struct vnet_offload_cfg *o = &a->offload;
	ULONG jumbo;
	PVOID addr = NULL;
	UINT addr_len = 0;
	NDIS_STATUS st;

	a->mtu = VNET_DEFAULT_MTU;
	a->rss_enabled_cfg = TRUE;
	a->rss_queues_cfg = 8;
	o->tx_ip4 = o->rx_ip4 = o->tx_tcp4 = o->rx_tcp4 = o->tx_udp4 = o->rx_udp4 = TRUE;
	o->tx_tcp6 = o->rx_tcp6 = o->tx_udp6 = o->rx_udp6 = o->lso4 = o->lso6 = TRUE;
	o->rsc4 = o->rsc6 = TRUE;
	a->rsc_cfg4 = a->rsc_cfg6 = TRUE;
	*mac_override = FALSE;

	NdisZeroMemory(&obj, sizeof(obj));
	obj.Header.Type = NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT;
	obj.Header.Revision = NDIS_CONFIGURATION_OBJECT_REVISION_1;
	obj.Header.Size = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1;
	obj.NdisHandle = a->handle;
	if (NdisOpenConfigurationEx(&obj, &cfg) != NDIS_STATUS_SUCCESS || !cfg)
		return;

	jumbo = read_int(cfg, L"*JumboPacket", VNET_DEFAULT_MTU + VNET_ETH_HLEN, 1514, 65500);
	a->mtu = jumbo - VNET_ETH_HLEN;
	a->rss_enabled_cfg = read_int(cfg, L"*RSS", 1, 0, 1) != 0;
	a->rss_queues_cfg = read_int(cfg, L"*NumRssQueues", 8, 1, VNET_MAX_PAIRS);
	{
		bool tx, rx;

		vnet_offload_keyword(read_int(cfg, L"*IPChecksumOffloadIPv4", 3, 0, 3), &tx, &rx);
		o->tx_ip4 = tx;
		o->rx_ip4 = rx;
		vnet_offload_keyword(read_int(cfg, L"*TCPChecksumOffloadIPv4", 3, 0, 3), &tx, &rx);
		o->tx_tcp4 = tx;
		o->rx_tcp4 = rx;
		vnet_offload_keyword(read_int(cfg, L"*TCPChecksumOffloadIPv6", 3, 0, 3), &tx, &rx);
		o->tx_tcp6 = tx;
		o->rx_tcp6 = rx;
		vnet_offload_keyword(read_int(cfg, L"*UDPChecksumOffloadIPv4", 3, 0, 3), &tx, &rx);
		o->tx_udp4 = tx;
		o->rx_udp4 = rx;
		vnet_offload_keyword(read_int(cfg, L"*UDPChecksumOffloadIPv6", 3, 0, 3), &tx, &rx);
		o->tx_udp6 = tx;
		o->rx_udp6 = rx;
	}
	o->lso4 = read_int(cfg, L"*LsoV2IPv4", 1, 0, 1) != 0;
	o->lso6 = read_int(cfg, L"*LsoV2IPv6", 1, 0, 1) != 0;
	a->rsc_cfg4 = read_int(cfg, L"*RscIPv4", 1, 0, 1) != 0;
	a->rsc_cfg6 = read_int(cfg, L"*RscIPv6", 1, 0, 1) != 0;
	o->rsc4 = a->rsc_cfg4;
	o->rsc6 = a->rsc_cfg6;

	NdisReadNetworkAddress(&st, &addr, &addr_len, cfg);
	if (st == NDIS_STATUS_SUCCESS && addr && addr_len == VNET_MAC_LEN &&
		vnet_mac_valid_unicast(addr)) {
		NdisMoveMemory(a->cur_mac, addr, VNET_MAC_LEN);
		*mac_override = TRUE;
	}
	NdisCloseConfiguration(cfg);
}

/* ------------------------------------------------------------------ control queue */

NDIS_STATUS vnet_ctrl_send(struct vnet_adapter *a, const struct vnet_ctrl_cmd *cmd)
{
	PUCHAR buf = a->ctrl_buf.va;
	uint64_t pa = (uint64_t)a->ctrl_buf.pa.QuadPart;
	struct vq_sg sg[3];
	NDIS_STATUS st = NDIS_STATUS_DEVICE_FAILED;
	void *cookie;
	uint32_t len;
	uint16_t n;
	ULONG spins;

	_Static_assert(2 + VNET_CTRL_DATA_MAX <= 512, "control page layout");
	if (!cmd || cmd->len > VNET_CTRL_DATA_MAX)
		return NDIS_STATUS_INVALID_PARAMETER;
	NdisAcquireSpinLock(&a->ctrl_lock);
	if (!a->ctrl_vq || a->ctrl_broken || !a->hw_running || a->removed) {
		NdisReleaseSpinLock(&a->ctrl_lock);
		return NDIS_STATUS_NOT_SUPPORTED;
	}
	/* Layout in the control page: header, data, then the device-written ack byte. */
	buf[0] = cmd->cls;
	buf[1] = cmd->cmd;
	NdisMoveMemory(buf + 2, cmd->data, cmd->len);
	buf[512] = 0xFF;
	n = 0;
	sg[n].addr = pa;
	sg[n++].len = 2;
	if (cmd->len) {
		sg[n].addr = pa + 2;
		sg[n++].len = cmd->len;
	}
	sg[n].addr = pa + 512;
	sg[n].len = 1;
	if (vq_add(a->ctrl_vq, sg, n, 1, a) != VIRTIO_OK) {
		NdisReleaseSpinLock(&a->ctrl_lock);
		return NDIS_STATUS_RESOURCES;
	}
	vq_kick(a->ctrl_vq);
	/* The device answers control commands synchronously in practice; give it one second. */
	for (spins = 0; spins < 100000; spins++) {
		int rc = vq_get_used(a->ctrl_vq, &cookie, &len);

		if (rc == VIRTIO_OK) {
			if (cookie == a && len >= 1 && buf[512] == VIRTIO_NET_OK)
				st = NDIS_STATUS_SUCCESS;
			else
				st = NDIS_STATUS_FAILURE;
			break;
		}
		if (rc != VIRTIO_ENOENT)
			break;
		NdisStallExecution(10);
	}
	if (spins == 100000) {
		/* The buffer is still the device's: never reuse the control queue. */
		a->ctrl_broken = TRUE;
		VNET_LOG(DPFLTR_ERROR_LEVEL, "control command %u/%u timed out\n", cmd->cls, cmd->cmd);
	}
	NdisReleaseSpinLock(&a->ctrl_lock);
	return st;
}

NDIS_STATUS vnet_apply_filter(struct vnet_adapter *a)
{
	struct vnet_ctrl_cmd *cmds;
	struct vnet_filter *f;
	unsigned n, i;

	cmds = vnet_alloc(a, VNET_FILTER_CMDS_MAX * sizeof(*cmds) + sizeof(*f));
	if (!cmds)
		return NDIS_STATUS_RESOURCES;
	f = (struct vnet_filter *)(cmds + VNET_FILTER_CMDS_MAX);
	NdisAcquireSpinLock(&a->state_lock);
	*f = a->filter;
	NdisReleaseSpinLock(&a->state_lock);
	n = vnet_filter_commands(f, a->features, cmds, VNET_FILTER_CMDS_MAX);
	/* A refused command only costs device-side filtering: the software filter still applies. */
	for (i = 0; i < n; i++)
		(void)vnet_ctrl_send(a, &cmds[i]);
	vnet_free(a, cmds);
	return NDIS_STATUS_SUCCESS;
}

/*
 * Which receive queue gets a packet: the device's own RSS with the table NDIS set (when the
 * device has VIRTIO_NET_F_RSS and NDIS enabled RSS), else the device's automatic steering over
 * all pairs (VQ_PAIRS_SET, which also switches device RSS off). PASSIVE_LEVEL.
 */
VOID vnet_program_steering(struct vnet_adapter *a)
{
	struct vnet_ctrl_cmd *cmd;
	struct vnet_rss_config *cfg;
	BOOLEAN on;
	int rc = VNET_ERR_UNSUPPORTED;

	if (a->pairs <= 1 && !a->dev_rss)
		return;
	cmd = vnet_alloc(a, sizeof(*cmd) + sizeof(*cfg));
	if (!cmd)
		return;
	cfg = (struct vnet_rss_config *)(cmd + 1);
	NdisAcquireSpinLock(&a->state_lock);
	on = a->rss_on;
	*cfg = a->rss;
	NdisReleaseSpinLock(&a->state_lock);
	if (a->dev_rss && (on || !has(a, VIRTIO_NET_F_MQ)))
		rc = vnet_ctrl_rss_config(a->features, on ? cfg : NULL, a->pairs, &a->rss_lim, cmd);
	if (rc != VNET_OK)
		rc = vnet_ctrl_mq_pairs_set(a->features, a->pairs, a->max_pairs, cmd);
	if (rc == VNET_OK && vnet_ctrl_send(a, cmd) != NDIS_STATUS_SUCCESS)
		VNET_LOG(DPFLTR_WARNING_LEVEL, "device refused queue steering for %u pairs\n", a->pairs);
	vnet_free(a, cmd);
}

/* ------------------------------------------------------------------ link state */

static VOID read_link(struct vnet_adapter *a)
{
	uint16_t status;
	uint32_t speed;

	a->link_up = !a->dead;
	if (has(a, VIRTIO_NET_F_STATUS) && !a->removed && !a->dead &&
		virtio_config_read16(&a->vdev, offsetof(struct virtio_net_config, status), &status) ==
			VIRTIO_OK)
		a->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
	a->link_speed = VNET_DEFAULT_SPEED;
	/* Unknown (0xffffffff) or absurd speeds keep the default. */
	if (has(a, VIRTIO_NET_F_SPEED_DUPLEX) && !a->removed &&
		virtio_config_read32(&a->vdev, offsetof(struct virtio_net_config, speed), &speed) ==
			VIRTIO_OK && speed != 0 && speed <= 10000000u)
		a->link_speed = (ULONG64)speed * 1000000ull;
}

VOID vnet_indicate_link(struct vnet_adapter *a)
{
	NDIS_STATUS_INDICATION ind;
	NDIS_LINK_STATE ls;

	NdisZeroMemory(&ls, sizeof(ls));
	ls.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
	ls.Header.Revision = NDIS_LINK_STATE_REVISION_1;
	ls.Header.Size = NDIS_SIZEOF_LINK_STATE_REVISION_1;
	ls.MediaConnectState = a->link_up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
	ls.MediaDuplexState = MediaDuplexStateFull;
	ls.XmitLinkSpeed = ls.RcvLinkSpeed = a->link_up ? a->link_speed : VNET_LINK_SPEED_UNKNOWN;
	ls.PauseFunctions = NdisPauseFunctionsUnsupported;

	NdisZeroMemory(&ind, sizeof(ind));
	ind.Header.Type = NDIS_OBJECT_TYPE_STATUS_INDICATION;
	ind.Header.Revision = NDIS_STATUS_INDICATION_REVISION_1;
	ind.Header.Size = NDIS_SIZEOF_STATUS_INDICATION_REVISION_1;
	ind.SourceHandle = a->handle;
	ind.StatusCode = NDIS_STATUS_LINK_STATE;
	ind.StatusBuffer = &ls;
	ind.StatusBufferSize = sizeof(ls);
	NdisMIndicateStatusEx(a->handle, &ind);
}

static VOID config_changed(struct vnet_adapter *a)
{
	BOOLEAN was = a->link_up;
	ULONG64 speed = a->link_speed;

	if (a->removed || !a->hw_running)
		return;
	if (virtio_needs_reset(&a->vdev))
		VNET_LOG(DPFLTR_ERROR_LEVEL, "device needs reset\n");
	read_link(a);
	if (was != a->link_up || speed != a->link_speed)
		vnet_indicate_link(a);
}

/* ------------------------------------------------------------------ offload description */

VOID vnet_fill_offload(struct vnet_adapter *a, const struct vnet_offload_cfg *c, PNDIS_OFFLOAD o)
{
	NdisZeroMemory(o, sizeof(*o));
	o->Header.Type = NDIS_OBJECT_TYPE_OFFLOAD;
	/* Revision 3 (NDIS 6.30) carries the Rsc member. */
	o->Header.Revision = NDIS_OFFLOAD_REVISION_3;
	o->Header.Size = NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3;
	o->Rsc.IPv4.Enabled = c->rsc4;
	o->Rsc.IPv6.Enabled = c->rsc6;

	o->Checksum.IPv4Transmit.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
	o->Checksum.IPv4Transmit.IpOptionsSupported = c->tx_ip4 || c->tx_tcp4 || c->tx_udp4;
	o->Checksum.IPv4Transmit.TcpOptionsSupported = c->tx_tcp4;
	o->Checksum.IPv4Transmit.TcpChecksum = c->tx_tcp4;
	o->Checksum.IPv4Transmit.UdpChecksum = c->tx_udp4;
	o->Checksum.IPv4Transmit.IpChecksum = c->tx_ip4;
	o->Checksum.IPv4Receive.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
	o->Checksum.IPv4Receive.IpOptionsSupported = c->rx_ip4 || c->rx_tcp4 || c->rx_udp4;
	o->Checksum.IPv4Receive.TcpOptionsSupported = c->rx_tcp4;
	o->Checksum.IPv4Receive.TcpChecksum = c->rx_tcp4;
	o->Checksum.IPv4Receive.UdpChecksum = c->rx_udp4;
	o->Checksum.IPv4Receive.IpChecksum = c->rx_ip4;
	o->Checksum.IPv6Transmit.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
	o->Checksum.IPv6Transmit.IpExtensionHeadersSupported = c->tx_tcp6 || c->tx_udp6;
	o->Checksum.IPv6Transmit.TcpOptionsSupported = c->tx_tcp6;
	o->Checksum.IPv6Transmit.TcpChecksum = c->tx_tcp6;
	o->Checksum.IPv6Transmit.UdpChecksum = c->tx_udp6;
	o->Checksum.IPv6Receive.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
	o->Checksum.IPv6Receive.IpExtensionHeadersSupported = c->rx_tcp6 || c->rx_udp6;
	o->Checksum.IPv6Receive.TcpOptionsSupported = c->rx_tcp6;
	o->Checksum.IPv6Receive.TcpChecksum = c->rx_tcp6;
	o->Checksum.IPv6Receive.UdpChecksum = c->rx_udp6;

	if (c->lso4) {
		o->LsoV2.IPv4.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
		o->LsoV2.IPv4.MaxOffLoadSize = VNET_TX_LSO_MAX_PAYLOAD;
		o->LsoV2.IPv4.MinSegmentCount = 2;
	}
	if (c->lso6) {
		o->LsoV2.IPv6.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
		o->LsoV2.IPv6.MaxOffLoadSize = VNET_TX_LSO_MAX_PAYLOAD;
		o->LsoV2.IPv6.MinSegmentCount = 2;
		o->LsoV2.IPv6.IpExtensionHeadersSupported = NDIS_OFFLOAD_SUPPORTED;
		o->LsoV2.IPv6.TcpOptionsSupported = NDIS_OFFLOAD_SUPPORTED;
	}
	(void)a;
}

/*
 * RSC switched on or off at run time (OID_TCP_OFFLOAD_PARAMETERS). A negotiated GUEST_TSO cannot
 * be taken back, but with CTRL_GUEST_OFFLOADS the device can be told to stop coalescing. Without
 * it (or while frames coalesced before the command are still arriving) the device keeps sending
 * coalesced frames, and NDIS must not see them while RSC is off (a coalesced unit could be
 * forwarded or bridged as a datagram larger than the link MTU): the receive path then cuts them
 * back into MTU-sized segments in software (vnet_rx_gso_segment). Called at PASSIVE_LEVEL.
 */
VOID vnet_apply_guest_offloads(struct vnet_adapter *a)
{
	struct vnet_ctrl_cmd cmd;
	uint64_t want = 0;

	if (!has(a, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
		return;
	if (has(a, VIRTIO_NET_F_GUEST_CSUM))
		want |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (a->offload.rsc4 && has(a, VIRTIO_NET_F_GUEST_TSO4))
		want |= 1ull << VIRTIO_NET_F_GUEST_TSO4;
	if (a->offload.rsc6 && has(a, VIRTIO_NET_F_GUEST_TSO6))
		want |= 1ull << VIRTIO_NET_F_GUEST_TSO6;
	if (want == a->guest_offloads)
		return;
	if (vnet_ctrl_guest_offloads_set(a->features, want, &cmd) == VNET_OK &&
		vnet_ctrl_send(a, &cmd) == NDIS_STATUS_SUCCESS)
		a->guest_offloads = want;
	else
		VNET_LOG(DPFLTR_WARNING_LEVEL, "guest offloads not changed: segmenting in software\n");
}

VOID vnet_indicate_offload(struct vnet_adapter *a)
{
	NDIS_STATUS_INDICATION ind;
	NDIS_OFFLOAD o;

	vnet_fill_offload(a, &a->offload, &o);
	NdisZeroMemory(&ind, sizeof(ind));
	ind.Header.Type = NDIS_OBJECT_TYPE_STATUS_INDICATION;
	ind.Header.Revision = NDIS_STATUS_INDICATION_REVISION_1;
	ind.Header.Size = NDIS_SIZEOF_STATUS_INDICATION_REVISION_1;
	ind.SourceHandle = a->handle;
	ind.StatusCode = NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG;
	ind.StatusBuffer = &o;
	ind.StatusBufferSize = sizeof(o);
	NdisMIndicateStatusEx(a->handle, &ind);
}

/* ------------------------------------------------------------------ interrupts */

static VOID service_all(struct vnet_adapter *a, BOOLEAN config)
{
	ULONG i;

	for (i = 0; i < a->pairs; i++) {
		vnet_rxq_receive(&a->rxq[i]);
		vnet_txq_complete(&a->txq[i]);
	}
	if (config)
		config_changed(a);
}

static BOOLEAN NTAPI vnet_isr(NDIS_HANDLE ctx, PBOOLEAN queue_dpc, PULONG target)
{
	struct vnet_adapter *a = ctx;
	uint8_t isr;

	*queue_dpc = FALSE;
	*target = 0;
	/* A shared line may fire for another device; after removal the registers are gone. */
	if (a->removed || !a->vdev.ops)
		return FALSE;
	/* Reading the ISR register also lowers the line, so it is read even while Halt stops
	 * the interrupts; only the DPC is left out then. */
	isr = virtio_isr_read(&a->vdev);
	if (isr == 0 || isr == 0xFF)
		return FALSE;
	InterlockedOr(&a->isr_bits, isr);
	*queue_dpc = !a->stopping;
	return TRUE;
}

/* Counted so that Halt can wait for DPCs that started before it deregistered the interrupt;
 * a DPC that starts afterwards sees `stopping` and leaves the adapter alone. */
static BOOLEAN dpc_enter(struct vnet_adapter *a)
{
	InterlockedIncrement(&a->dpc_active);
	if (a->removed || a->stopping) {
		InterlockedDecrement(&a->dpc_active);
		return FALSE;
	}
	return TRUE;
}

static VOID NTAPI vnet_dpc(NDIS_HANDLE ctx, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
	struct vnet_adapter *a = ctx;
	LONG bits;

	(void)throttle;
	(void)reserved;
	/* Queued by NdisMQueueDpcEx for steering, not by the interrupt: leave the ISR bits. */
	if (dpc_ctx == VNET_STEER_CTX) {
		vnet_steer_drain(a);
		return;
	}
	bits = InterlockedExchange(&a->isr_bits, 0);
	if (!dpc_enter(a))
		return;
	service_all(a, (bits & VIRTIO_PCI_ISR_CONFIG) != 0);
	InterlockedDecrement(&a->dpc_active);
}

static VOID NTAPI vnet_intr_enable(NDIS_HANDLE ctx)
{
	/* virtio has no device-wide interrupt mask; per-queue suppression is done by the core. */
	(void)ctx;
}

static VOID NTAPI vnet_intr_disable(NDIS_HANDLE ctx)
{
	(void)ctx;
}

static BOOLEAN NTAPI vnet_msi_isr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG target)
{
	struct vnet_adapter *a = ctx;

	(void)msg;
	*target = 0;
	/* MSI-X messages are never shared: no register read needed to claim them. */
	*queue_dpc = !a->removed && !a->stopping;
	return TRUE;
}

static VOID NTAPI vnet_msi_dpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle,
							   PVOID reserved)
{
	struct vnet_adapter *a = ctx;
	ULONG i;

	(void)throttle;
	(void)reserved;
	if (dpc_ctx == VNET_STEER_CTX) {
		vnet_steer_drain(a);
		return;
	}
	if (!dpc_enter(a))
		return;
	/* Plain MSI (not MSI-X): virtio vectors are unused, so the message means "look at all". */
	if (!a->msix) {
		service_all(a, TRUE);
		InterlockedDecrement(&a->dpc_active);
		return;
	}
	for (i = 0; i < a->pairs; i++) {
		if (a->rxq[i].msix == msg)
			vnet_rxq_receive(&a->rxq[i]);
		if (a->txq[i].msix == msg)
			vnet_txq_complete(&a->txq[i]);
	}
	if (a->config_msix == msg)
		config_changed(a);
	InterlockedDecrement(&a->dpc_active);
}

static VOID NTAPI vnet_msi_enable(NDIS_HANDLE ctx, ULONG msg)
{
	(void)ctx;
	(void)msg;
}

static VOID NTAPI vnet_msi_disable(NDIS_HANDLE ctx, ULONG msg)
{
	(void)ctx;
	(void)msg;
}

static NDIS_STATUS register_interrupts(struct vnet_adapter *a)
{
	NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
	NDIS_STATUS st;

	NdisZeroMemory(&ic, sizeof(ic));
	ic.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
	ic.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
	ic.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
	ic.InterruptHandler = vnet_isr;
	ic.InterruptDpcHandler = vnet_dpc;
	ic.DisableInterruptHandler = vnet_intr_disable;
	ic.EnableInterruptHandler = vnet_intr_enable;
	ic.MsiSupported = TRUE;
	ic.MsiSyncWithAllMessages = TRUE;
	ic.MessageInterruptHandler = vnet_msi_isr;
	ic.MessageInterruptDpcHandler = vnet_msi_dpc;
	ic.DisableMessageInterruptHandler = vnet_msi_disable;
	ic.EnableMessageInterruptHandler = vnet_msi_enable;
	st = NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
	if (st != NDIS_STATUS_SUCCESS) {
		a->intr = NULL;
		return st;
	}
	a->msix = ic.InterruptType == NDIS_CONNECT_MESSAGE_BASED && ic.MessageInfoTable &&
			  ic.MessageInfoTable->MessageCount > 0 && a->vdev.msix_cap != 0;
	a->msg_count = a->msix ? ic.MessageInfoTable->MessageCount : 0;
	a->msg_info = ic.MessageInfoTable;
	/* Steering DPCs go to processors of group 0 only; with one processor nothing changes. */
	a->steer_cpus = KeQueryActiveProcessorCount(NULL);
	if (a->steer_cpus > VNET_STEER_CPUS)
		a->steer_cpus = VNET_STEER_CPUS;
	if (a->steer_cpus > sizeof(KAFFINITY) * 8)
		a->steer_cpus = sizeof(KAFFINITY) * 8;
	if (a->steer_cpus < 2)
		a->steer_cpus = 0;
	return NDIS_STATUS_SUCCESS;
}

/* Spread queues over the messages NDIS granted (the INF asks for 2 per pair + 2): receive
 * queues take consecutive messages, which Windows spreads over consecutive processors. */
static VOID assign_vectors(struct vnet_adapter *a)
{
	uint16_t rx[VNET_MAX_PAIRS], tx[VNET_MAX_PAIRS], cfg;
	ULONG i;

	vnet_rss_assign_vectors(a->msix ? a->msg_count : 0, a->pairs, rx, tx, &cfg);
	a->config_msix = cfg == VNET_VECTOR_NONE ? VIRTIO_MSI_NO_VECTOR : cfg;
	for (i = 0; i < a->pairs; i++) {
		a->rxq[i].msix = rx[i] == VNET_VECTOR_NONE ? VIRTIO_MSI_NO_VECTOR : rx[i];
		a->txq[i].msix = tx[i] == VNET_VECTOR_NONE ? VIRTIO_MSI_NO_VECTOR : tx[i];
	}
}

/* Receive queue whose interrupt runs on processor `cpu` (group 0), for the RSS table. */
uint16_t vnet_queue_for_cpu(struct vnet_adapter *a, ULONG group, ULONG cpu)
{
	uint64_t masks[VNET_MAX_PAIRS];
	ULONG i;

	for (i = 0; i < a->pairs && i < VNET_MAX_PAIRS; i++) {
		ULONG m = a->rxq[i].msix;

		masks[i] = 0;
		if (a->msix && a->msg_info && group == 0 && m < a->msg_count &&
			m < a->msg_info->MessageCount)
			masks[i] = (uint64_t)a->msg_info->MessageInfo[m].TargetProcessorSet;
	}
	return vnet_rss_cpu_queue(masks, (uint16_t)i, cpu);
}

/* ------------------------------------------------------------------ device start/stop */

static NDIS_STATUS alloc_queue_mem(struct vnet_adapter *a, uint16_t index, uint16_t *size,
								   uint16_t indirect, struct vnet_dma *ring, PVOID *state,
								   ULONG *state_len, uint16_t cap)
{
	uint16_t max;
	size_t rlen, slen;
	int rc;

	rc = virtio_queue_max_size(&a->vdev, index, &max);
	if (rc != VIRTIO_OK)
		return vnet_status(rc);
	/* Legacy devices dictate the size; modern ones take any power of two up to max. */
	*size = max;
	if (!virtio_is_legacy(&a->vdev))
		while (*size > cap && *size > 1)
			*size /= 2;
	rlen = virtio_queue_ring_size(&a->vdev, *size, indirect);
	slen = virtio_queue_state_size(*size);
	if (rlen == 0 || slen == 0 || rlen > 0x1000000 || slen > 0x1000000)
		return NDIS_STATUS_DEVICE_FAILED;
	if (vnet_alloc_dma(a, (ULONG)rlen, ring) != NDIS_STATUS_SUCCESS)
		return NDIS_STATUS_RESOURCES;
	*state = vnet_alloc(a, (ULONG)slen);
	*state_len = (ULONG)slen;
	return *state ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static int setup_queue(struct vnet_adapter *a, uint16_t index, uint16_t size, uint16_t vector,
					   uint16_t indirect, struct vnet_dma *ring, PVOID state, ULONG state_len,
					   struct virtq **vq)
{
	struct virtio_queue_params p;
	uint16_t max;
	int rc;

	/* After a reset the device may offer other sizes than at initialisation: the rings and
	 * buffers were sized then, so anything that does not fit them is a device fault. */
	rc = virtio_queue_max_size(&a->vdev, index, &max);
	if (rc != VIRTIO_OK)
		return rc;
	if (virtio_is_legacy(&a->vdev) ? max != size : max < size)
		return VIRTIO_EIO;

	NdisZeroMemory(&p, sizeof(p));
	p.index = index;
	p.size = virtio_is_legacy(&a->vdev) ? 0 : size;
	p.msix_vector = vector;
	p.indirect_max = indirect;
	p.ring_va = ring->va;
	p.ring_pa = (uint64_t)ring->pa.QuadPart;
	p.ring_len = ring->len;
	p.state = state;
	p.state_len = state_len;
	return virtio_queue_setup(&a->vdev, &p, vq);
}

/* Bring the device from reset to DRIVER_OK with every queue posted (Initialize and D0). */
NDIS_STATUS vnet_hw_start(struct vnet_adapter *a)
{
	struct vnet_ctrl_cmd cmd;
	uint64_t got;
	uint16_t ind = has(a, VIRTIO_F_INDIRECT_DESC) ? VNET_TX_INDIRECT : 0;
	ULONG i;
	int rc;

	if (a->removed)
		return NDIS_STATUS_ADAPTER_REMOVED;
	rc = virtio_begin(&a->vdev);
	if (rc == VIRTIO_OK)
		rc = virtio_negotiate(&a->vdev, a->features, &got);
	/* A device that changed its offer between resets cannot be driven with the old setup. */
	if (rc == VIRTIO_OK && got != a->features)
		rc = VIRTIO_ENOTSUP;
	if (rc == VIRTIO_OK && a->msix) {
		virtio_set_msix_enabled(&a->vdev, TRUE);
		if (virtio_set_config_vector(&a->vdev, a->config_msix) != VIRTIO_OK)
			VNET_LOG(DPFLTR_WARNING_LEVEL, "config vector refused, link changes only by polling\n");
	}
	for (i = 0; rc == VIRTIO_OK && i < a->pairs; i++) {
		rc = setup_queue(a, a->rxq[i].index, a->rxq[i].size, a->rxq[i].msix, 0, &a->rxq[i].ring,
						 a->rxq[i].state, a->rxq[i].state_len, &a->rxq[i].vq);
		if (rc == VIRTIO_OK)
			rc = setup_queue(a, a->txq[i].index, a->txq[i].size, a->txq[i].msix, ind,
							 &a->txq[i].ring, a->txq[i].state, a->txq[i].state_len,
							 &a->txq[i].vq);
	}
	if (rc == VIRTIO_OK && a->ctrl_ring.va)
		rc = setup_queue(a, a->ctrl_index, a->ctrl_size, VIRTIO_MSI_NO_VECTOR, 0, &a->ctrl_ring,
						 a->ctrl_state, a->ctrl_state_len, &a->ctrl_vq);
	if (rc == VIRTIO_OK)
		rc = virtio_driver_ok(&a->vdev);
	if (rc != VIRTIO_OK) {
		VNET_LOG(DPFLTR_ERROR_LEVEL, "device start failed: %s\n",
				   virtio_strerror(rc));
		virtio_fail(&a->vdev);
		return vnet_status(rc);
	}
	a->ctrl_broken = FALSE;
	for (i = 0; i < a->pairs; i++) {
		NdisAcquireSpinLock(&a->txq[i].lock);
		a->txq[i].broken = FALSE;
		vnet_txwatch_reset(&a->txq[i].watch, a->txq[i].done);
		NdisReleaseSpinLock(&a->txq[i].lock);
		a->rxq[i].broken = FALSE;
	}
	InterlockedExchange(&a->hw_running, 1);
	for (i = 0; i < a->pairs; i++)
		vnet_rxq_fill(&a->rxq[i]);

	vnet_program_steering(a);
	if (NdisEqualMemory(a->cur_mac, a->perm_mac, VNET_MAC_LEN) == 0) {
		BOOLEAN set = FALSE;

		/* NetworkAddress override: the control queue, else the writable legacy config. */
		if (vnet_ctrl_mac_addr_set(a->features, a->cur_mac, &cmd) == VNET_OK) {
			set = vnet_ctrl_send(a, &cmd) == NDIS_STATUS_SUCCESS;
		} else if (virtio_is_legacy(&a->vdev)) {
			set = TRUE;
			for (i = 0; i < VNET_MAC_LEN; i++)
				set &= virtio_config_write8(&a->vdev, i, a->cur_mac[i]) == VIRTIO_OK;
		}
		if (!set) {
			/* The device would not deliver frames for an address it does not know. */
			VNET_LOG(DPFLTR_WARNING_LEVEL, "NetworkAddress not supported by the device\n");
			NdisMoveMemory(a->cur_mac, a->perm_mac, VNET_MAC_LEN);
			NdisAcquireSpinLock(&a->state_lock);
			NdisMoveMemory(a->filter.mac, a->perm_mac, VNET_MAC_LEN);
			NdisReleaseSpinLock(&a->state_lock);
		}
	}
	(void)vnet_apply_filter(a);
	/* After a reset the device uses every negotiated receive offload again. */
	a->guest_offloads = a->features & ((1ull << VIRTIO_NET_F_GUEST_CSUM) |
									   (1ull << VIRTIO_NET_F_GUEST_TSO4) |
									   (1ull << VIRTIO_NET_F_GUEST_TSO6));
	vnet_apply_guest_offloads(a);
	read_link(a);
	return NDIS_STATUS_SUCCESS;
}

/* Reset the device and take every buffer back (D3, halt, failed start, reset); sends the
 * device held complete with status. */
VOID vnet_hw_stop_status(struct vnet_adapter *a, NDIS_STATUS status)
{
	ULONG i;
	void *cookie;

	InterlockedExchange(&a->hw_running, 0);
	if (!a->removed && a->vdev.ops)
		(void)virtio_reset(&a->vdev);
	for (i = 0; i < a->pairs; i++) {
		struct vnet_rxq *q = &a->rxq[i];

		NdisAcquireSpinLock(&q->lock);
		if (q->vq) {
			while ((cookie = vq_detach_unused(q->vq)) != NULL) {
				struct vnet_rxb *b = cookie;

				if (b >= q->bufs && b < q->bufs + q->nbufs)
					b->posted = FALSE;
			}
		}
		q->vq = NULL;
		q->posted = 0;
		q->broken = FALSE;
		NdisReleaseSpinLock(&q->lock);
		vnet_txq_abort(&a->txq[i], status, TRUE);
	}
	NdisAcquireSpinLock(&a->ctrl_lock);
	if (a->ctrl_vq)
		while (vq_detach_unused(a->ctrl_vq) != NULL)
			;
	a->ctrl_vq = NULL;
	NdisReleaseSpinLock(&a->ctrl_lock);
}

VOID vnet_hw_stop(struct vnet_adapter *a)
{
	vnet_hw_stop_status(a, NDIS_STATUS_REQUEST_ABORTED);
}

/* A queue the device broke, or a device that asks for a reset: only a reset gets it back. */
BOOLEAN vnet_any_broken(struct vnet_adapter *a)
{
	ULONG i;

	if (!a->hw_running || a->removed)
		return FALSE;
	for (i = 0; i < a->pairs; i++) {
		if (a->rxq[i].broken || a->txq[i].broken ||
			(a->rxq[i].vq && vq_is_broken(a->rxq[i].vq)) ||
			(a->txq[i].vq && vq_is_broken(a->txq[i].vq)))
			return TRUE;
	}
	return a->ctrl_broken || virtio_needs_reset(&a->vdev);
}

/* ------------------------------------------------------------------ pause */

static LONG tx_in_flight(struct vnet_adapter *a)
{
	LONG n = 0;
	ULONG i;

	for (i = 0; i < a->pairs; i++) {
		NdisAcquireSpinLock(&a->txq[i].lock);
		n += a->txq[i].in_flight;
		NdisReleaseSpinLock(&a->txq[i].lock);
	}
	return n;
}

static BOOLEAN rx_idle(struct vnet_adapter *a)
{
	ULONG i;

	for (i = 0; i < a->pairs; i++)
		if (!vnet_rxq_idle(&a->rxq[i]))
			return FALSE;
	return TRUE;
}

VOID vnet_check_pause_done(struct vnet_adapter *a)
{
	if (!a->pause_pending)
		return;
	if (!rx_idle(a) || tx_in_flight(a) != 0)
		return;
	if (InterlockedExchange(&a->pause_pending, 0))
		NdisMPauseComplete(a->handle);
}

NDIS_STATUS NTAPI vnet_pause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS params)
{
	struct vnet_adapter *a = ctx;
	ULONG i;

	(void)params;
	InterlockedExchange(&a->paused, 1);
	/* The pause point: no batch that has not passed its gate yet is indicated after this. */
	for (i = 0; i < a->pairs; i++)
		vnet_rxq_gate(&a->rxq[i], FALSE);
	if (vnet_any_broken(a)) {
		/* Sends in a broken ring never complete: reset the device to take them back, or
		 * Pause (and Halt after it) would wait forever. Restart brings the device up again. */
		VNET_LOG(DPFLTR_ERROR_LEVEL, "pause: device broken, sends in flight fail\n");
		vnet_hw_stop_status(a, NDIS_STATUS_DEVICE_FAILED);
	}
	for (i = 0; i < a->pairs; i++) {
		/* Never sent: complete with NDIS_STATUS_PAUSED. Sends the device holds finish normally,
		 * unless the device is gone. */
		vnet_txq_abort(&a->txq[i], a->removed ? NDIS_STATUS_ADAPTER_REMOVED : NDIS_STATUS_PAUSED,
					   a->removed != 0);
	}
	/* Set before looking at the counters: a completion that brings them to zero after the check
	 * then sees the flag and calls NdisMPauseComplete; whoever clears the flag completes. */
	InterlockedExchange(&a->pause_pending, 1);
	if (rx_idle(a) && tx_in_flight(a) == 0 && InterlockedExchange(&a->pause_pending, 0))
		return NDIS_STATUS_SUCCESS;
	return NDIS_STATUS_PENDING;
}

NDIS_STATUS NTAPI vnet_restart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS params)
{
	struct vnet_adapter *a = ctx;
	ULONG i;

	(void)params;
	if (a->removed)
		return NDIS_STATUS_ADAPTER_REMOVED;
	/* Pause stopped a broken device: try to bring it back (a dead one stays down, link off). */
	if (!a->hw_running && a->power == NdisDeviceStateD0 && !a->resetting) {
		BOOLEAN ok = vnet_hw_start(a) == NDIS_STATUS_SUCCESS;

		if (!ok)
			vnet_hw_stop_status(a, NDIS_STATUS_DEVICE_FAILED);
		InterlockedExchange(&a->dead, !ok);
		read_link(a);
		vnet_indicate_link(a);
	}
	for (i = 0; i < a->pairs; i++)
		vnet_rxq_gate(&a->rxq[i], TRUE);
	InterlockedExchange(&a->paused, 0);
	return NDIS_STATUS_SUCCESS;
}

/* ------------------------------------------------------------------ initialize / halt */

/* No ISR or DPC runs on the adapter after this returns (PASSIVE_LEVEL). */
static VOID stop_interrupts(struct vnet_adapter *a)
{
	ULONG waited;

	InterlockedExchange(&a->stopping, 1);
	if (a->intr)
		NdisMDeregisterInterruptEx(a->intr);
	a->intr = NULL;
	/* A DPC that was already running when the flag was set finishes on intact state. */
	for (waited = 0; a->dpc_active && waited < 10000; waited++)
		NdisMSleep(100);
}

static VOID free_adapter(struct vnet_adapter *a)
{
	ULONG i;

	stop_interrupts(a);
	for (i = 0; i < VNET_MAX_PAIRS; i++) {
		vnet_rxq_free(a, &a->rxq[i]);
		vnet_txq_free(a, &a->txq[i]);
		vnet_free_dma(a, &a->rxq[i].ring);
		vnet_free_dma(a, &a->txq[i].ring);
		vnet_free(a, a->rxq[i].state);
		vnet_free(a, a->txq[i].state);
		NdisFreeSpinLock(&a->rxq[i].lock);
		NdisFreeSpinLock(&a->txq[i].lock);
	}
	vnet_free_dma(a, &a->ctrl_ring);
	vnet_free_dma(a, &a->ctrl_buf);
	vnet_free(a, a->ctrl_state);
	if (a->reset_work)
		NdisFreeIoWorkItem(a->reset_work);
	if (a->nbl_pool)
		NdisFreeNetBufferListPool(a->nbl_pool);
	if (a->dma)
		NdisMDeregisterScatterGatherDma(a->dma);
	vnet_unmap_resources(a);
	NdisFreeSpinLock(&a->ctrl_lock);
	NdisFreeSpinLock(&a->state_lock);
	for (i = 0; i < VNET_STEER_CPUS; i++)
		NdisFreeSpinLock(&a->steer[i].lock);
	NdisFreeMemoryWithTagPriority(a->handle, a, VNET_TAG);
}

static NDIS_STATUS set_attributes(struct vnet_adapter *a)
{
	NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES gen;
	NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES off;
	NDIS_RECEIVE_SCALE_CAPABILITIES rss;
	NDIS_OFFLOAD cur, hw;
	NDIS_STATUS st;

	NdisZeroMemory(&rss, sizeof(rss));
	rss.Header.Type = NDIS_OBJECT_TYPE_RSS_CAPABILITIES;
	rss.Header.Revision = NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2;
	rss.Header.Size = NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_2;
	rss.CapabilitiesFlags = NDIS_RSS_CAPS_CLASSIFICATION_AT_DPC | NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4 |
							NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6 | NdisHashFunctionToeplitz;
	if (a->msix)
		rss.CapabilitiesFlags |= NDIS_RSS_CAPS_MESSAGE_SIGNALED_INTERRUPTS;
	rss.NumberOfInterruptMessages = a->msix ? a->msg_count : 1;
	rss.NumberOfReceiveQueues = a->pairs;
	rss.NumberOfIndirectionTableEntries = VNET_RSS_TABLE_MAX;

	NdisZeroMemory(&gen, sizeof(gen));
	gen.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
	gen.Header.Revision = NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2;
	gen.Header.Size = NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2;
	gen.MediaType = NdisMedium802_3;
	gen.PhysicalMediumType = NdisPhysicalMediumUnspecified;
	gen.MtuSize = a->mtu;
	gen.MaxXmitLinkSpeed = gen.MaxRcvLinkSpeed = a->link_speed;
	gen.XmitLinkSpeed = gen.RcvLinkSpeed = a->link_up ? a->link_speed : VNET_LINK_SPEED_UNKNOWN;
	gen.MediaConnectState = a->link_up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
	gen.MediaDuplexState = MediaDuplexStateFull;
	gen.LookaheadSize = a->max_frame;
	gen.MacOptions = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_TRANSFERS_NOT_PEND |
					 NDIS_MAC_OPTION_NO_LOOPBACK | NDIS_MAC_OPTION_8021P_PRIORITY |
					 NDIS_MAC_OPTION_8021Q_VLAN;
	gen.SupportedPacketFilters = VNET_PF_SUPPORTED;
	gen.MaxMulticastListSize = VNET_MCAST_MAX;
	gen.MacAddressLength = VNET_MAC_LEN;
	NdisMoveMemory(gen.PermanentMacAddress, a->perm_mac, VNET_MAC_LEN);
	NdisMoveMemory(gen.CurrentMacAddress, a->cur_mac, VNET_MAC_LEN);
	gen.RecvScaleCapabilities = a->rss_enabled_cfg ? &rss : NULL;
	gen.AccessType = NET_IF_ACCESS_BROADCAST;
	gen.DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
	gen.ConnectionType = NET_IF_CONNECTION_DEDICATED;
	gen.IfType = IF_TYPE_ETHERNET_CSMACD;
	gen.IfConnectorPresent = TRUE;
	gen.SupportedStatistics = VNET_STATS_SUPPORTED;
	gen.SupportedPauseFunctions = NdisPauseFunctionsUnsupported;
	gen.SupportedOidList = vnet_supported_oids;
	gen.SupportedOidListLength = vnet_supported_oids_len;
	gen.AutoNegotiationFlags = NDIS_LINK_STATE_DUPLEX_AUTO_NEGOTIATED;
	st = NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&gen);
	if (st != NDIS_STATUS_SUCCESS)
		return st;

	vnet_fill_offload(a, &a->offload, &cur);
	vnet_fill_offload(a, &a->caps, &hw);
	NdisZeroMemory(&off, sizeof(off));
	off.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES;
	off.Header.Revision = NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1;
	off.Header.Size = NDIS_SIZEOF_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1;
	off.DefaultOffloadConfiguration = &cur;
	off.HardwareOffloadCapabilities = &hw;
	return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&off);
}

/* Device configuration: MAC, MTU, queue pairs; all validated. */
static NDIS_STATUS read_device_config(struct vnet_adapter *a, BOOLEAN mac_override)
{
	uint16_t v16;
	LARGE_INTEGER t;

	if (has(a, VIRTIO_NET_F_MAC) &&
		virtio_config_read_bytes(&a->vdev, 0, a->perm_mac, VNET_MAC_LEN) == VIRTIO_OK &&
		vnet_mac_valid_unicast(a->perm_mac)) {
		/* the device's address */
	} else {
		/* No usable address: a random locally administered one (02:xx...). */
		KeQueryTickCount(&t);
		a->perm_mac[0] = 0x02;
		a->perm_mac[1] = 0x56;
		a->perm_mac[2] = (UCHAR)(t.LowPart >> 24);
		a->perm_mac[3] = (UCHAR)(t.LowPart >> 16);
		a->perm_mac[4] = (UCHAR)(t.LowPart >> 8);
		a->perm_mac[5] = (UCHAR)t.LowPart;
	}
	if (!mac_override)
		NdisMoveMemory(a->cur_mac, a->perm_mac, VNET_MAC_LEN);

	if (has(a, VIRTIO_NET_F_MTU) &&
		virtio_config_read16(&a->vdev, offsetof(struct virtio_net_config, mtu), &v16) ==
			VIRTIO_OK) {
		/* 68 is the IPv4 minimum MTU (RFC 791); smaller is a device error. */
		if (v16 < 68)
			return NDIS_STATUS_DEVICE_FAILED;
		if (a->mtu > v16)
			a->mtu = v16;
	}
	if (a->mtu > VNET_MAX_MTU)
		a->mtu = VNET_MAX_MTU;
	a->max_frame = a->mtu + VNET_ETH_HLEN;

	a->max_pairs = 1;
	if (has(a, VIRTIO_NET_F_RSS) && has(a, VIRTIO_NET_F_CTRL_VQ) &&
		virtio_config_read8(&a->vdev, offsetof(struct virtio_net_config, rss_max_key_size),
							&a->rss_lim.max_key) == VIRTIO_OK &&
		virtio_config_read16(&a->vdev,
							 offsetof(struct virtio_net_config, rss_max_indirection_table_length),
							 &a->rss_lim.max_table) == VIRTIO_OK &&
		virtio_config_read32(&a->vdev, offsetof(struct virtio_net_config, supported_hash_types),
							 &a->rss_lim.hash_types) == VIRTIO_OK)
		/* Limits below the spec minimum: keep the device out of RSS, software hashing only. */
		a->dev_rss = vnet_rss_limits_check(&a->rss_lim) == VNET_OK;
	if ((has(a, VIRTIO_NET_F_MQ) || has(a, VIRTIO_NET_F_RSS)) && has(a, VIRTIO_NET_F_CTRL_VQ) &&
		virtio_config_read16(&a->vdev, offsetof(struct virtio_net_config, max_virtqueue_pairs),
							 &v16) == VIRTIO_OK) {
		if (v16 < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || v16 > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX)
			return NDIS_STATUS_DEVICE_FAILED;
		a->max_pairs = v16;
	}
	a->pairs = 1;
	if (a->rss_enabled_cfg && a->max_pairs > 1) {
		ULONG cpus = KeQueryActiveProcessorCount(NULL), p = a->max_pairs;

		if (p > a->rss_queues_cfg)
			p = a->rss_queues_cfg;
		if (p > cpus)
			p = cpus;
		if (p > VNET_MAX_PAIRS)
			p = VNET_MAX_PAIRS;
		a->pairs = (uint16_t)(p ? p : 1);
	}
	return NDIS_STATUS_SUCCESS;
}

NDIS_STATUS NTAPI vnet_initialize(NDIS_HANDLE handle, NDIS_HANDLE driver_ctx,
										 PNDIS_MINIPORT_INIT_PARAMETERS params)
{
	NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES reg;
	NET_BUFFER_LIST_POOL_PARAMETERS pool;
	NDIS_SG_DMA_DESCRIPTION dma;
	struct vnet_adapter *a;
	BOOLEAN mac_override;
	NDIS_STATUS st;
	ULONG i;
	int rc;

	(void)driver_ctx;
	a = NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), VNET_TAG, NormalPoolPriority);
	if (!a)
		return NDIS_STATUS_RESOURCES;
	NdisZeroMemory(a, sizeof(*a));
	a->handle = handle;
	a->power = NdisDeviceStateD0;
	NdisAllocateSpinLock(&a->ctrl_lock);
	NdisAllocateSpinLock(&a->state_lock);
	for (i = 0; i < VNET_MAX_PAIRS; i++) {
		NdisAllocateSpinLock(&a->rxq[i].lock);
		NdisAllocateSpinLock(&a->txq[i].lock);
		a->rxq[i].a = a;
		a->txq[i].a = a;
	}
	for (i = 0; i < VNET_STEER_CPUS; i++)
		NdisAllocateSpinLock(&a->steer[i].lock);

	NdisZeroMemory(&reg, sizeof(reg));
	reg.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
	reg.Header.Revision = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1;
	reg.Header.Size = NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1;
	reg.MiniportAdapterContext = a;
	reg.AttributeFlags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE |
						 NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER |
						 NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK;
	reg.CheckForHangTimeInSeconds = VNET_HANG_CHECK_SECONDS;
	reg.InterfaceType = NdisInterfacePci;
	st = NdisMSetMiniportAttributes(handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&reg);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail;

	read_config(a, &mac_override);
	st = vnet_map_resources(a, params ? params->AllocatedResources : NULL);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail;
	rc = virtio_init(&a->vdev, &vnet_os_ops, a, 0);
	if (rc == VIRTIO_OK && virtio_device_type(&a->vdev) != VIRTIO_ID_NET)
		rc = VIRTIO_ENODEV;
	if (rc == VIRTIO_OK)
		rc = virtio_begin(&a->vdev);
	if (rc == VIRTIO_OK)
		rc = virtio_negotiate(&a->vdev,
							  vnet_features_select(wanted_features(a,
																	   virtio_device_features(&a->vdev)),
												   virtio_device_features(&a->vdev)),
							  &a->features);
	if (rc != VIRTIO_OK) {
		st = vnet_status(rc);
		goto fail;
	}
	st = read_device_config(a, mac_override);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail;

	/* Legacy devices without ANY_LAYOUT want the header in a descriptor of its own. */
	a->split_hdr = virtio_is_legacy(&a->vdev) && !has(a, VIRTIO_F_ANY_LAYOUT);
	a->hdr_len = virtio_net_hdr_len(has(a, VIRTIO_F_VERSION_1), has(a, VIRTIO_NET_F_MRG_RXBUF),
									false);
	/* Room for a whole frame with up to two VLAN tags in every receive buffer. */
	a->rx_buf_len = (a->hdr_len + a->max_frame + 2 * VNET_VLAN_HLEN + 63u) & ~63u;
	a->lookahead = a->max_frame;
	/* Spare buffers for whole coalesced frames; only GUEST_TSO with MRG_RXBUF produces them. */
	a->rsc_buf_len = 0;
	if ((has(a, VIRTIO_NET_F_GUEST_TSO4) || has(a, VIRTIO_NET_F_GUEST_TSO6)) &&
		has(a, VIRTIO_NET_F_MRG_RXBUF))
		a->rsc_buf_len = (a->hdr_len + VNET_MAX_FRAME_LEN + 63u) & ~63u;
	a->vlan_sw = TRUE;
	vnet_offload_caps(a->features, &a->caps);
	vnet_offload_mask(&a->offload, &a->caps);
	a->filter.packet_filter = 0;
	NdisMoveMemory(a->filter.mac, a->cur_mac, VNET_MAC_LEN);

	NdisZeroMemory(&dma, sizeof(dma));
	dma.Header.Type = NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION;
	dma.Header.Revision = NDIS_SG_DMA_DESCRIPTION_REVISION_1;
	dma.Header.Size = NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1;
	dma.Flags = NDIS_SG_DMA_64_BIT_ADDRESS;
	dma.MaximumPhysicalMapping = VNET_MAX_FRAME_LEN;
	dma.ProcessSGListHandler = vnet_process_sg_list;
	st = NdisMRegisterScatterGatherDma(handle, &dma, &a->dma);
	if (st != NDIS_STATUS_SUCCESS) {
		a->dma = NULL;
		goto fail;
	}

	NdisZeroMemory(&pool, sizeof(pool));
	pool.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
	pool.Header.Revision = NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
	pool.Header.Size = NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1;
	pool.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
	pool.fAllocateNetBuffer = TRUE;
	pool.PoolTag = VNET_TAG;
	a->nbl_pool = NdisAllocateNetBufferListPool(handle, &pool);
	if (!a->nbl_pool) {
		st = NDIS_STATUS_RESOURCES;
		goto fail;
	}

	a->reset_work = NdisAllocateIoWorkItem(handle);
	if (!a->reset_work) {
		st = NDIS_STATUS_RESOURCES;
		goto fail;
	}
	st = register_interrupts(a);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail;
	assign_vectors(a);

	for (i = 0; i < a->pairs; i++) {
		a->rxq[i].index = (uint16_t)(2 * i);
		a->txq[i].index = (uint16_t)(2 * i + 1);
		st = alloc_queue_mem(a, a->rxq[i].index, &a->rxq[i].size, 0, &a->rxq[i].ring,
							 &a->rxq[i].state, &a->rxq[i].state_len, VNET_QUEUE_MAX);
		if (st == NDIS_STATUS_SUCCESS)
			st = alloc_queue_mem(a, a->txq[i].index, &a->txq[i].size,
								 has(a, VIRTIO_F_INDIRECT_DESC) ? VNET_TX_INDIRECT : 0,
								 &a->txq[i].ring, &a->txq[i].state, &a->txq[i].state_len,
								 VNET_QUEUE_MAX);
		if (st == NDIS_STATUS_SUCCESS)
			st = vnet_rxq_init(a, &a->rxq[i]);
		if (st == NDIS_STATUS_SUCCESS)
			st = vnet_txq_init(a, &a->txq[i]);
		if (st != NDIS_STATUS_SUCCESS)
			goto fail;
	}
	/* With mergeable buffers one packet may take any number of ring entries up to the ring. */
	a->rxcfg.hdr_len = a->hdr_len;
	a->rxcfg.mergeable = has(a, VIRTIO_NET_F_MRG_RXBUF);
	a->rxcfg.guest_csum = has(a, VIRTIO_NET_F_GUEST_CSUM);
	a->rxcfg.guest_tso4 = has(a, VIRTIO_NET_F_GUEST_TSO4);
	a->rxcfg.guest_tso6 = has(a, VIRTIO_NET_F_GUEST_TSO6);
	a->rxcfg.max_frame_len = a->max_frame + 2 * VNET_VLAN_HLEN;
	a->rxcfg.max_buffers = a->rxq[0].size;

	if (has(a, VIRTIO_NET_F_CTRL_VQ)) {
		/* Features negotiated with CTRL_VQ depend on it, so a missing control queue is fatal. */
		a->ctrl_index = (uint16_t)(has(a, VIRTIO_NET_F_MQ) || has(a, VIRTIO_NET_F_RSS) ?
									   2u * a->max_pairs : 2u);
		st = alloc_queue_mem(a, a->ctrl_index, &a->ctrl_size, 0, &a->ctrl_ring, &a->ctrl_state,
							 &a->ctrl_state_len, 64);
		if (st == NDIS_STATUS_SUCCESS)
			st = vnet_alloc_dma(a, PAGE_SIZE, &a->ctrl_buf);
		if (st != NDIS_STATUS_SUCCESS)
			goto fail;
	}

	st = vnet_hw_start(a);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail_stop;
	st = set_attributes(a);
	if (st != NDIS_STATUS_SUCCESS)
		goto fail_stop;
	return NDIS_STATUS_SUCCESS;

fail_stop:
	stop_interrupts(a);
	vnet_hw_stop(a);
fail:
	VNET_LOG(DPFLTR_ERROR_LEVEL, "initialize failed 0x%x\n",
			   (unsigned)st);
	if (a->vdev.ops && !a->hw_running)
		virtio_fail(&a->vdev);
	free_adapter(a);
	return st;
}

VOID NTAPI vnet_halt(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
	struct vnet_adapter *a = ctx;
	ULONG waited;

	if (action == NdisHaltDeviceSurpriseRemoved)
		InterlockedExchange(&a->removed, 1);
	/* NDIS does not halt during a reset, but the reset's work item may still be finishing:
	 * it touches the queues, so let it end first (bounded: it never waits for the device). */
	for (waited = 0; a->resetting && waited < 10000; waited++)
		NdisMSleep(1000);
	/* Interrupts and DPCs first, then the device, then the memory they used. */
	stop_interrupts(a);
	vnet_hw_stop(a);
	free_adapter(a);
}

VOID NTAPI vnet_device_pnp_event(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT event)
{
	struct vnet_adapter *a = ctx;

	if (event && event->DevicePnPEvent == NdisDevicePnPEventSurpriseRemoved)
		InterlockedExchange(&a->removed, 1);
}

VOID NTAPI vnet_shutdown(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
	struct vnet_adapter *a = ctx;

	(void)action;
	/* Stop DMA; no waiting on locks or memory: this may run at high IRQL after a crash. */
	InterlockedExchange(&a->hw_running, 0);
	if (!a->removed && a->vdev.ops)
		(void)virtio_reset(&a->vdev);
}

/* ------------------------------------------------------------------ hang detection and reset */

BOOLEAN NTAPI vnet_check_for_hang(NDIS_HANDLE ctx)
{
	struct vnet_adapter *a = ctx;
	BOOLEAN hung = FALSE;
	ULONG i;

	/* A dead device already fails every send; resetting it every period helps nobody. */
	if (a->removed || a->resetting || a->dead || a->stopping || !a->hw_running)
		return FALSE;
	/* Every queue is looked at, so each keeps its own stall count up to date. */
	for (i = 0; i < a->pairs; i++)
		hung |= vnet_txq_hung(&a->txq[i]);
	if (hung || vnet_any_broken(a)) {
		VNET_LOG(DPFLTR_ERROR_LEVEL, "device hung or broken: asking for a reset\n");
		return TRUE;
	}
	return FALSE;
}

static VOID NTAPI reset_work(PVOID ctx, NDIS_HANDLE work)
{
	struct vnet_adapter *a = ctx;
	NDIS_STATUS st = NDIS_STATUS_SUCCESS;
	BOOLEAN was_up = a->link_up;

	(void)work;
	/* Every send the device or the driver holds completes now, once, with RESET_IN_PROGRESS;
	 * receive buffers NDIS holds come back later and are reposted then. */
	vnet_hw_stop_status(a, NDIS_STATUS_RESET_IN_PROGRESS);
	if (!a->removed && a->power == NdisDeviceStateD0) {
		/* virtio reset, negotiation of the same features, queues, receive buffers, and the
		 * control-queue state: steering, MAC, filters (VLANs are filtered in software). */
		st = vnet_hw_start(a);
		if (st != NDIS_STATUS_SUCCESS)
			vnet_hw_stop_status(a, NDIS_STATUS_DEVICE_FAILED);
	} else if (a->removed) {
		st = NDIS_STATUS_ADAPTER_REMOVED;
	}
	InterlockedExchange(&a->dead, st != NDIS_STATUS_SUCCESS);
	if (st != NDIS_STATUS_SUCCESS)
		VNET_LOG(DPFLTR_ERROR_LEVEL, "reset failed 0x%x: device unusable\n", (unsigned)st);
	if (!a->removed) {
		read_link(a);
		if (was_up != a->link_up || st != NDIS_STATUS_SUCCESS)
			vnet_indicate_link(a);
	}
	vnet_check_pause_done(a);
	/* Last touch of the adapter: NDIS may halt it as soon as the reset is complete. */
	InterlockedExchange(&a->resetting, 0);
	NdisMResetComplete(a->handle, st == NDIS_STATUS_SUCCESS ? st : NDIS_STATUS_HARD_ERRORS_VNET,
					   FALSE);
}

NDIS_STATUS NTAPI vnet_reset(NDIS_HANDLE ctx, PBOOLEAN addressing_reset)
{
	struct vnet_adapter *a = ctx;

	/* The MAC, multicast list and filters are programmed again by the driver itself. */
	*addressing_reset = FALSE;
	if (a->removed)
		return NDIS_STATUS_ADAPTER_REMOVED;
	if (InterlockedCompareExchange(&a->resetting, 1, 0) != 0)
		return NDIS_STATUS_RESET_IN_PROGRESS;
	/* MiniportResetEx may run at DISPATCH_LEVEL; the device restart waits and allocates. */
	NdisQueueIoWorkItem(a->reset_work, reset_work, a);
	return NDIS_STATUS_PENDING;
}
