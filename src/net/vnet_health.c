/*
 * vnet_health: hang detection, transmit slot ownership and the receive pause gate (see
 * vnet_health.h). No Windows headers; the caller holds the owning queue's lock.
 */
#include "vnet_health.h"

#include "vnet_parse.h"

void vnet_txwatch_reset(struct vnet_txwatch *w, uint64_t done)
{
	w->last_done = done;
	w->stalls = 0;
}

bool vnet_txwatch_hung(struct vnet_txwatch *w, uint32_t in_flight, uint64_t done, bool broken)
{
	if (broken)
		return true;
	/* Idle queues and queues that completed anything since the last look are healthy. */
	if (in_flight == 0 || done != w->last_done) {
		vnet_txwatch_reset(w, done);
		return false;
	}
	if (w->stalls < VNET_HANG_STALLS)
		w->stalls++;
	return w->stalls >= VNET_HANG_STALLS;
}

bool vnet_txslot_move(uint8_t *state, uint8_t from, uint8_t to)
{
	bool legal;

	if (*state != from)
		return false;
	switch (from) {
	case VNET_TXS_FREE:
		legal = to == VNET_TXS_MAPPING;
		break;
	case VNET_TXS_MAPPING:
		/* A mapping failure or a stopped device finishes the slot without the ring. */
		legal = to == VNET_TXS_READY || to == VNET_TXS_DONE;
		break;
	case VNET_TXS_READY:
		legal = to == VNET_TXS_RING || to == VNET_TXS_DONE;
		break;
	case VNET_TXS_RING:
		legal = to == VNET_TXS_DONE;
		break;
	case VNET_TXS_DONE:
		legal = to == VNET_TXS_FREE;
		break;
	default:
		legal = false;
		break;
	}
	if (legal)
		*state = to;
	return legal;
}

uint32_t vnet_txslot_reclaim(uint8_t *states, uint32_t n, uint32_t *out)
{
	uint32_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (states[i] == VNET_TXS_READY || states[i] == VNET_TXS_RING) {
			states[i] = VNET_TXS_DONE;
			out[k++] = i;
		}
	}
	return k;
}

void vnet_rxgate_open(struct vnet_rxgate *g)
{
	g->closed = false;
}

void vnet_rxgate_close(struct vnet_rxgate *g)
{
	g->closed = true;
}

bool vnet_rxgate_enter(struct vnet_rxgate *g, uint32_t n)
{
	if (g->closed || n == 0)
		return false;
	g->inside++;
	g->outstanding += n;
	return true;
}

int vnet_rxgate_leave(struct vnet_rxgate *g, uint32_t n, uint32_t back)
{
	return vnet_rxgate_leave_parts(g, 1, n, back);
}

void vnet_rxgate_split(struct vnet_rxgate *g, uint32_t parts)
{
	g->inside += parts;
}

int vnet_rxgate_leave_parts(struct vnet_rxgate *g, uint32_t parts, uint32_t n, uint32_t back)
{
	int rc = VNET_OK;

	if (g->inside < parts || parts == 0 || back > n) {
		rc = VNET_ERR_INVAL;
	} else {
		g->inside -= parts;
	}
	if (back > g->outstanding) {
		g->outstanding = 0;
		return VNET_ERR_INVAL;
	}
	g->outstanding -= back;
	return rc;
}

int vnet_rxgate_returned(struct vnet_rxgate *g, uint32_t n)
{
	if (n > g->outstanding) {
		g->outstanding = 0;
		return VNET_ERR_INVAL;
	}
	g->outstanding -= n;
	return VNET_OK;
}

bool vnet_rxgate_idle(const struct vnet_rxgate *g)
{
	return g->closed && g->inside == 0 && g->outstanding == 0;
}
