/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdprng portable logic: accounting of the one device buffer (posted,
 * completed, handed out to read requests). No Windows header; unit-tested
 * on the host (tests/unit/test_rng_logic.c).
 *
 * Model: one DMA buffer of buf_len bytes is either posted to the device
 * (in_flight) or holds avail bytes of entropy from offset off, which read
 * requests consume in order. Entropy is handed out once only. A read gets
 * at most RNG_MAX_READ bytes (bounded per request; short reads are normal).
 */
#ifndef OPENVDP_RNG_LOGIC_H
#define OPENVDP_RNG_LOGIC_H

#include <stdbool.h>
#include <stdint.h>

#define RNG_BUF_SIZE        4096u   /* device buffer, one page */
#define RNG_MAX_READ        RNG_BUF_SIZE
/* Consecutive empty device completions before pending reads fail. */
#define RNG_MAX_EMPTY       8u

struct rng_state {
	uint32_t buf_len;
	uint32_t posted;      /* bytes offered to the device, 0 when idle */
	uint32_t avail;       /* unread entropy bytes in the buffer */
	uint32_t off;         /* first unread byte */
	uint32_t empty_run;   /* consecutive completions without data */
	uint64_t delivered;   /* statistics: bytes given to readers */
	uint32_t bad;         /* completions rejected as invalid */
	bool in_flight;
};

#define RNG_OK              0
#define RNG_EINVAL        (-1)   /* bad caller argument / invalid device value */
#define RNG_EBUSY         (-2)   /* buffer already posted or still holds data */
#define RNG_EDEVICE       (-3)   /* the device keeps returning nothing */

void rng_init(struct rng_state *st, uint32_t buf_len);
/* True when the buffer is empty and idle: post it if readers are waiting. */
bool rng_need_post(const struct rng_state *st);
/* The buffer was posted with *len bytes (device-writable). */
int rng_post(struct rng_state *st, uint32_t *len);
/*
 * The device returned the buffer with used bytes written. used > posted is
 * a device error (counted, the data is discarded). RNG_EDEVICE after
 * RNG_MAX_EMPTY empty completions in a row: fail the waiting reads.
 */
int rng_complete(struct rng_state *st, uint32_t used);
/* Clamp a read request length to what one request may return. */
uint32_t rng_read_len(uint32_t requested);
/* Take up to want bytes: returns the count, *off their buffer offset. */
uint32_t rng_take(struct rng_state *st, uint32_t want, uint32_t *off);
/* Device reset: forget the posted buffer and any data in it. */
void rng_reset(struct rng_state *st);

#endif /* OPENVDP_RNG_LOGIC_H */
