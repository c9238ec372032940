/* SPDX-License-Identifier: BSD-2-Clause */
/* vdprng portable logic; see rng_logic.h. */
#include "rng_logic.h"

void rng_init(struct rng_state *st, uint32_t buf_len)
{
	st->buf_len = buf_len;
	st->delivered = 0;
	st->bad = 0;
	rng_reset(st);
}

void rng_reset(struct rng_state *st)
{
	st->posted = 0;
	st->avail = 0;
	st->off = 0;
	st->empty_run = 0;
	st->in_flight = false;
}

bool rng_need_post(const struct rng_state *st)
{
	return !st->in_flight && st->avail == 0 && st->buf_len != 0;
}

int rng_post(struct rng_state *st, uint32_t *len)
{
	if (!rng_need_post(st))
		return RNG_EBUSY;
	st->in_flight = true;
	st->posted = st->buf_len;
	st->off = 0;
	*len = st->posted;
	return RNG_OK;
}

int rng_complete(struct rng_state *st, uint32_t used)
{
	if (!st->in_flight)
		return RNG_EINVAL;    /* a completion nobody asked for */
	st->in_flight = false;
	if (used > st->posted) {
		st->bad++;
		used = 0;             /* the length cannot be trusted: drop it all */
	}
	st->posted = 0;
	st->off = 0;
	st->avail = used;
	if (used == 0) {
		if (++st->empty_run >= RNG_MAX_EMPTY) {
			st->empty_run = 0;
			return RNG_EDEVICE;
		}
		return RNG_OK;
	}
	st->empty_run = 0;
	return RNG_OK;
}

uint32_t rng_read_len(uint32_t requested)
{
	return requested > RNG_MAX_READ ? RNG_MAX_READ : requested;
}

uint32_t rng_take(struct rng_state *st, uint32_t want, uint32_t *off)
{
	uint32_t n = rng_read_len(want);

	if (st->in_flight)
		return 0;
	if (n > st->avail)
		n = st->avail;
	*off = st->off;
	st->off += n;
	st->avail -= n;
	st->delivered += n;
	return n;
}
