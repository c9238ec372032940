/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: virtio-blk wire format (virtio 1.2 section 5.2).
 *
 * Device-configuration fields are read with virtio_config_read{8,16,32,64}()
 * at offsetof(struct virtio_blk_config, field); fields that depend on a
 * feature bit are only meaningful when that bit was negotiated. All request
 * headers are little-endian: fill them with cpu_to_le*().
 */
#ifndef OPENVDP_VIRTIO_BLK_H
#define OPENVDP_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_BARRIER        0   /* legacy only */
#define VIRTIO_BLK_F_SIZE_MAX       1   /* size_max valid */
#define VIRTIO_BLK_F_SEG_MAX        2   /* seg_max valid */
#define VIRTIO_BLK_F_GEOMETRY       4   /* geometry valid */
#define VIRTIO_BLK_F_RO             5   /* read-only device */
#define VIRTIO_BLK_F_BLK_SIZE       6   /* blk_size valid */
#define VIRTIO_BLK_F_SCSI           7   /* legacy only: SCSI passthrough */
#define VIRTIO_BLK_F_FLUSH          9   /* VIRTIO_BLK_T_FLUSH supported */
#define VIRTIO_BLK_F_TOPOLOGY       10  /* topology valid */
#define VIRTIO_BLK_F_CONFIG_WCE     11  /* writeback field writable */
#define VIRTIO_BLK_F_MQ             12  /* num_queues valid */
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14
#define VIRTIO_BLK_F_LIFETIME       15
#define VIRTIO_BLK_F_SECURE_ERASE   16
#define VIRTIO_BLK_F_ZONED          17

/* Legacy name of VIRTIO_BLK_F_FLUSH. */
#define VIRTIO_BLK_F_WCE            VIRTIO_BLK_F_FLUSH

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_SCSI_CMD       2   /* legacy only */
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_GET_LIFETIME   10
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_T_SECURE_ERASE   14
#define VIRTIO_BLK_T_ZONE_APPEND    15
#define VIRTIO_BLK_T_ZONE_REPORT    16
#define VIRTIO_BLK_T_ZONE_OPEN      18
#define VIRTIO_BLK_T_ZONE_CLOSE     20
#define VIRTIO_BLK_T_ZONE_FINISH    22
#define VIRTIO_BLK_T_ZONE_RESET     24
#define VIRTIO_BLK_T_ZONE_RESET_ALL 26

/* Status byte written by the device as the last byte of a request. */
#define VIRTIO_BLK_S_OK                   0
#define VIRTIO_BLK_S_IOERR                1
#define VIRTIO_BLK_S_UNSUPP               2
#define VIRTIO_BLK_S_ZONE_INVALID_CMD     3
#define VIRTIO_BLK_S_ZONE_UNALIGNED_WP    4
#define VIRTIO_BLK_S_ZONE_OPEN_RESOURCE   5
#define VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE 6

/* Addressing unit of every sector field, independent of blk_size. */
#define VIRTIO_BLK_SECTOR_SIZE      512u
#define VIRTIO_BLK_SECTOR_SHIFT     9
/* GET_ID returns at most this many bytes, not NUL-terminated if full. */
#define VIRTIO_BLK_ID_BYTES         20u

/* Zoned models (zoned.model). */
#define VIRTIO_BLK_Z_NONE           0
#define VIRTIO_BLK_Z_HM             1
#define VIRTIO_BLK_Z_HA             2

struct virtio_blk_geometry {
	le16 cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp;  /* log2(logical blocks per physical block) */
	uint8_t alignment_offset;    /* offset of first aligned logical block */
	le16 min_io_size;            /* in logical blocks */
	le32 opt_io_size;            /* in logical blocks */
};

struct virtio_blk_zoned_characteristics {
	le32 zone_sectors;
	le32 max_open_zones;
	le32 max_active_zones;
	le32 max_append_sectors;
	le32 write_granularity;
	uint8_t model;
	uint8_t unused2[3];
};

struct virtio_blk_config {
	le64 capacity;               /* in 512-byte sectors, always valid */
	le32 size_max;
	le32 seg_max;
	struct virtio_blk_geometry geometry;
	le32 blk_size;
	struct virtio_blk_topology topology;
	uint8_t writeback;           /* 0 write-through, 1 writeback */
	uint8_t unused0;
	le16 num_queues;
	le32 max_discard_sectors;
	le32 max_discard_seg;
	le32 discard_sector_alignment;
	le32 max_write_zeroes_sectors;
	le32 max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	le32 max_secure_erase_sectors;
	le32 max_secure_erase_seg;
	le32 secure_erase_sector_alignment;
	struct virtio_blk_zoned_characteristics zoned;
};

/* Device-readable header, first descriptor of every request. */
struct virtio_blk_outhdr {
	le32 type;                   /* VIRTIO_BLK_T_* */
	le32 reserved;               /* "ioprio" in legacy, must be 0 */
	le64 sector;                 /* 512-byte units */
};

/* One range of a DISCARD / WRITE_ZEROES / SECURE_ERASE payload. */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 0x1u
struct virtio_blk_discard_write_zeroes {
	le64 sector;
	le32 num_sectors;
	le32 flags;                  /* bit 0: unmap (write zeroes only) */
};

/* GET_LIFETIME reply. */
struct virtio_blk_lifetime {
	le16 pre_eol_info;
	le16 device_lifetime_est_typ_a;
	le16 device_lifetime_est_typ_b;
};
#define VIRTIO_BLK_PRE_EOL_INFO_UNDEFINED 0
#define VIRTIO_BLK_PRE_EOL_INFO_NORMAL    1
#define VIRTIO_BLK_PRE_EOL_INFO_WARNING   2
#define VIRTIO_BLK_PRE_EOL_INFO_URGENT    3

/* Device-writable trailer of ZONE_APPEND requests. */
struct virtio_blk_zone_append_inhdr {
	le64 append_sector;
	uint8_t status;
	uint8_t reserved[7];
};

_Static_assert(sizeof(struct virtio_blk_geometry) == 4, "blk geometry");
_Static_assert(sizeof(struct virtio_blk_topology) == 8, "blk topology");
_Static_assert(sizeof(struct virtio_blk_zoned_characteristics) == 24, "blk zoned");
_Static_assert(offsetof(struct virtio_blk_config, capacity) == 0, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, size_max) == 8, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, seg_max) == 12, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, geometry) == 16, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, topology) == 24, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_seg) == 40, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, discard_sector_alignment) == 44, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_sectors) == 48, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_seg) == 52, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_secure_erase_sectors) == 60, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, max_secure_erase_seg) == 64, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, secure_erase_sector_alignment) == 68, "blk cfg");
_Static_assert(offsetof(struct virtio_blk_config, zoned) == 72, "blk cfg");
_Static_assert(sizeof(struct virtio_blk_config) == 96, "blk cfg size");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "blk outhdr");
_Static_assert(offsetof(struct virtio_blk_outhdr, sector) == 8, "blk outhdr");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "blk discard seg");
_Static_assert(sizeof(struct virtio_blk_lifetime) == 6, "blk lifetime");
_Static_assert(sizeof(struct virtio_blk_zone_append_inhdr) == 16, "blk zone append");

#endif /* OPENVDP_VIRTIO_BLK_H */
