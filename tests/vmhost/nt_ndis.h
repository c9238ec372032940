/* NDIS.SYS emulation (nt_ndis.c): what vdphost and the network test use to
 * drive an NDIS 6 miniport the way NDIS and a protocol driver would. */
#ifndef VMHOST_NT_NDIS_H
#define VMHOST_NT_NDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_STATUS_SUCCESS       0x00000000u
#define ND_STATUS_PENDING       0x00000103u
#define ND_STATUS_FAILURE       0xC0000001u
#define ND_STATUS_PAUSED        0xC023002Au
#define ND_STATUS_LINK_STATE    0x40010017u

#define ND_OID_GEN_CURRENT_PACKET_FILTER 0x0001010Eu
#define ND_OID_GEN_MAXIMUM_FRAME_SIZE    0x00010106u
#define ND_OID_GEN_MEDIA_CONNECT_STATUS  0x00010114u
#define ND_OID_GEN_LINK_STATE            0x00010207u
#define ND_OID_GEN_STATISTICS            0x00020106u
#define ND_OID_GEN_XMIT_OK               0x00020101u
#define ND_OID_GEN_RCV_OK                0x00020102u
#define ND_OID_802_3_PERMANENT_ADDRESS   0x01010101u
#define ND_OID_802_3_CURRENT_ADDRESS     0x01010102u
#define ND_OID_TCP_OFFLOAD_PARAMETERS    0xFC01020Cu

#define ND_PACKET_TYPE_DIRECTED  0x01u
#define ND_PACKET_TYPE_MULTICAST 0x02u
#define ND_PACKET_TYPE_BROADCAST 0x08u

bool nd_registered(void);
/* Make the host misbehave on purpose, to prove the network test notices:
 * "corrupt-rx" flips a bit in the 10th received IPv4 frame, "drop-send-
 * complete" swallows the 20th send completion. False if unknown. */
bool nd_set_inject(const char *what);
/* A registry value for NdisReadConfiguration ("NAME=VALUE"); false if full. */
bool nd_set_param(const char *assignment);
/* MiniportInitializeEx then MiniportRestart on that PCI device. */
int nd_start_adapter(const char *pci_spec, const char *irq_mode);
/* MiniportPause (sends must then fail with NDIS_STATUS_PAUSED) and
 * MiniportRestart, as NDIS does when a protocol binds; returns failures. */
int nd_pause_restart(void);
/* MiniportPause then MiniportHaltEx; reports misuse as "not ok" lines and
 * returns how many it printed. */
int nd_stop_adapter(void);

/* One OID request as a protocol would issue it (query or set), at PASSIVE
 * level; a pending request is waited for (NdisMOidRequestComplete). */
uint32_t nd_oid(bool set, uint32_t oid, void *buf, uint32_t len, uint32_t *done,
		uint32_t *needed);
/* The MAC the miniport reported in its general attributes. */
void nd_mac(uint8_t mac[6]);
/* The default offload configuration enables IPv4 TCP transmit checksums. */
bool nd_offload_tcp4_tx(void);
/* ... and IPv4 header checksums. */
bool nd_offload_ip4_tx(void);

/* Send one frame (copied into DMA memory) in its own NET_BUFFER_LIST;
 * csum_info becomes NetBufferListInfo[TcpIpChecksumNetBufferListInfo].
 * Waits for NdisMSendNetBufferListsComplete; returns the NBL status, or
 * ND_STATUS_FAILURE after timeout_ms. */
uint32_t nd_send(const void *frame, size_t len, uint64_t csum_info, uint64_t lso_info,
		 unsigned timeout_ms);
/* One MiniportSendNetBufferLists call with nbls chained NBLs of nbs
 * NET_BUFFERs each (frames[] in that order); each NET_BUFFER's data spans
 * two MDLs and starts at DataOffset 8. Returns the first failing NBL status. */
uint32_t nd_send_chain(const uint8_t *const *frames, const size_t *lens, unsigned nbls,
		       unsigned nbs, unsigned timeout_ms);
/* Next received frame (copied out of the indicated NET_BUFFER); returns its
 * length, 0 on timeout. *csum_info: the receive checksum NBL info. */
size_t nd_recv(void *buf, size_t cap, uint64_t *csum_info, unsigned timeout_ms);
/* RSC: CoalescedSegCount of the frame nd_recv returned last (0: not coalesced). */
extern unsigned nd_last_rsc_segs;
/* Link state indications (NDIS_STATUS_LINK_STATE) seen so far and the last
 * MediaConnectState (1 connected, 2 disconnected, 0 unknown). */
unsigned nd_link_events(uint32_t *last_state);
/* Wait until the link state indication count exceeds `seen`. */
bool nd_wait_link_event(unsigned seen, unsigned timeout_ms);
/* Counters for the final report. */
struct nd_counts {
	unsigned long rx_indicated, rx_returned, rx_resources, tx_sent, tx_completed;
	unsigned long interrupts, dpcs, sg_lists, sg_outstanding;
	long nbl_outstanding, mdl_outstanding, shared_outstanding;
};
void nd_counts(struct nd_counts *c);

/* --- hang check and reset (net_bench.c's reset test) --- */
#define ND_STATUS_RESET_IN_PROGRESS 0xC023000Du
/* MiniportCheckForHangEx: 1 hung, 0 not, -1 no adapter or handler. */
int nd_check_for_hang(void);
/* MiniportResetEx; a pending reset is waited for (NdisMResetComplete).
 * Returns the reset's final status, ND_STATUS_FAILURE on timeout. */
uint32_t nd_reset(unsigned timeout_ms);
/* NdisMResetComplete calls so far. */
unsigned nd_reset_completions(void);
/* Drop the miniport's DPCs (true) as if its interrupts were lost: sends
 * stall, which MiniportCheckForHangEx must notice. */
void nd_hold_dpcs(bool hold);
/* --- end hang check and reset --- */

#endif
