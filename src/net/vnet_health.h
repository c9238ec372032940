/*
 * vnet_health: the bookkeeping behind vdpnet's hang detection, reset and pause, kept free of
 * NDIS so that it can be unit-tested on the host. The glue owns the locks: every function here
 * is called with the lock of the queue the state belongs to held.
 *
 *  - txwatch: MiniportCheckForHangEx's view of one transmit queue. A queue hangs when the
 *    device marked it broken, or when sends are outstanding and none completed during
 *    VNET_HANG_STALLS consecutive checks.
 *  - txslot: the owner of one transmit slot. Transitions are checked, so a slot the reset path
 *    took back is never completed a second time by a late used-ring entry, and a reset takes
 *    back exactly the slots that the device or the ready list held.
 *  - rxgate: receive indications against Pause. An indication is only started through an open
 *    gate; Pause closes it and completes once no indication is in progress and every indicated
 *    NET_BUFFER_LIST has come back.
 */
#ifndef OPENVDP_VNET_HEALTH_H
#define OPENVDP_VNET_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* Checks without transmit progress before a hang is reported; with the 2 s check period of
 * vdpnet a stalled send is noticed within 4 to 6 s. */
#define VNET_HANG_STALLS 2u
#define VNET_HANG_CHECK_SECONDS 2u

struct vnet_txwatch {
	uint64_t last_done;            /* completion count at the previous check */
	uint32_t stalls;               /* consecutive checks without progress */
};

/* Start watching afresh (after a reset or a restart), with the current completion count. */
void vnet_txwatch_reset(struct vnet_txwatch *w, uint64_t done);

/* One periodic check: in_flight sends held by the driver or device, done = completions so far
 * (monotonic), broken = the queue cannot make progress any more. True: reset the device. */
bool vnet_txwatch_hung(struct vnet_txwatch *w, uint32_t in_flight, uint64_t done, bool broken);

/* Transmit slot owners. */
enum vnet_txslot_state {
	VNET_TXS_FREE = 0,             /* on the free list */
	VNET_TXS_MAPPING,              /* taken for a NET_BUFFER, S/G list being built */
	VNET_TXS_READY,                /* mapped, waiting for ring space */
	VNET_TXS_RING,                 /* owned by the device */
	VNET_TXS_DONE                  /* finished, being completed to NDIS */
};

/* Move *state from `from` to `to`. Returns false (and leaves *state) if the slot was not in
 * `from` or the transition is not one of the life cycle's: the caller must then not touch the
 * slot, since someone else owns it. */
bool vnet_txslot_move(uint8_t *state, uint8_t from, uint8_t to);

/* After a device reset (the device no longer owns anything): move every READY and RING slot
 * of states[0..n) to DONE and store their indices in out[] (room for n); returns how many.
 * MAPPING slots are left to the S/G callback, which fails them itself. */
uint32_t vnet_txslot_reclaim(uint8_t *states, uint32_t n, uint32_t *out);

struct vnet_rxgate {
	uint32_t inside;               /* indications in progress (lock released around them) */
	uint32_t outstanding;          /* NET_BUFFER_LISTs owned by NDIS */
	bool closed;                   /* pausing or paused: nothing new is indicated */
};

void vnet_rxgate_open(struct vnet_rxgate *g);
void vnet_rxgate_close(struct vnet_rxgate *g);
/* Before indicating n NBLs. False: the gate is closed, the caller drops them instead. */
bool vnet_rxgate_enter(struct vnet_rxgate *g, uint32_t n);
/* After NdisMIndicateReceiveNetBufferLists returned; back = NBLs that are already the
 * driver's again (NDIS_RECEIVE_FLAGS_RESOURCES). VNET_ERR_INVAL on unbalanced use. */
int vnet_rxgate_leave(struct vnet_rxgate *g, uint32_t n, uint32_t back);
/* RSS steering hands parts of an entered batch to other processors: each such part then ends
 * with its own leave. split adds `parts` indications in progress; leave_parts ends `parts` of
 * them with one indication of n NBLs. */
void vnet_rxgate_split(struct vnet_rxgate *g, uint32_t parts);
int vnet_rxgate_leave_parts(struct vnet_rxgate *g, uint32_t parts, uint32_t n, uint32_t back);
/* n NBLs came back through MiniportReturnNetBufferLists. VNET_ERR_INVAL if more came back
 * than were out (the count is then left at zero). */
int vnet_rxgate_returned(struct vnet_rxgate *g, uint32_t n);
/* Closed, no indication in progress, nothing outstanding: Pause may complete. */
bool vnet_rxgate_idle(const struct vnet_rxgate *g);

#endif /* OPENVDP_VNET_HEALTH_H */
