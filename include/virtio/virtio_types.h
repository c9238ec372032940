/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: little-endian wire types and conversion helpers.
 *
 * Every multi-byte value that crosses the driver/device boundary is
 * little-endian (virtio 1.2 section 1.4). The typedefs below only document
 * that fact; the helpers are identity functions on x86/x64 but are used
 * consistently so that every wire access is visible in the source.
 *
 * Freestanding: only <stdint.h>.
 */
#ifndef OPENVDP_VIRTIO_TYPES_H
#define OPENVDP_VIRTIO_TYPES_H

#include <stdint.h>

typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define VIRTIO_HOST_BIG_ENDIAN 1
#else
#define VIRTIO_HOST_BIG_ENDIAN 0
#endif

static inline uint16_t le16_to_cpu(le16 v)
{
#if VIRTIO_HOST_BIG_ENDIAN
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static inline uint32_t le32_to_cpu(le32 v)
{
#if VIRTIO_HOST_BIG_ENDIAN
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint64_t le64_to_cpu(le64 v)
{
#if VIRTIO_HOST_BIG_ENDIAN
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

static inline le16 cpu_to_le16(uint16_t v) { return (le16)le16_to_cpu(v); }
static inline le32 cpu_to_le32(uint32_t v) { return (le32)le32_to_cpu(v); }
static inline le64 cpu_to_le64(uint64_t v) { return (le64)le64_to_cpu(v); }

#endif /* OPENVDP_VIRTIO_TYPES_H */
