/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: a sequence lock for data many readers copy without a lock (the
 * disk description HwBuildIo reads on every CPU) and one writer at a time
 * updates (configuration change, serial number), writers serialised by the
 * caller. Portable: no Windows header, tested on the host with threads.
 *
 * Writer: seq becomes odd, a release fence keeps the data stores after it,
 * the data is stored, seq becomes even with release semantics. Reader: seq
 * with acquire, copy, an acquire fence keeps the copy before the second seq
 * load; equal and even means the copy is one whole version. The copy is a
 * plain memcpy: a torn copy is detected and thrown away, never used.
 */
#ifndef OPENVDP_BLK_SEQ_H
#define OPENVDP_BLK_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies one reader may retry before it gives up (a writer stalled mid-update). */
#define VBLK_SEQ_TRIES 1000u

static inline void vblk_seq_write_begin(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void vblk_seq_write_end(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1u, __ATOMIC_RELEASE);
}

/* Stores len bytes of src into the protected dst as one version. */
static inline void vblk_seq_write(uint32_t *seq, void *dst, const void *src, size_t len)
{
	vblk_seq_write_begin(seq);
	__builtin_memcpy(dst, src, len);
	vblk_seq_write_end(seq);
}

/*
 * Copies the protected src into dst; false when no whole version could be
 * had in `tries` attempts (dst is then unusable). Never spins unbounded.
 */
static inline bool vblk_seq_read(const uint32_t *seq, void *dst, const void *src, size_t len,
				 uint32_t tries)
{
	while (tries--) {
		uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE), s2;

		if (s1 & 1u)
			continue;       /* a writer is in the middle of an update */
		__builtin_memcpy(dst, src, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return true;
	}
	return false;
}

#endif /* OPENVDP_BLK_SEQ_H */
