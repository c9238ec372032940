/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: portable SCSI-to-virtio-blk translation.
 *
 * StorPort hands the miniport SCSI CDBs; a virtio-blk device only knows
 * IN/OUT/FLUSH/DISCARD/WRITE_ZEROES/GET_ID. This layer decides, for one CDB
 * and one description of the disk, whether the command
 *   - is answered at once (INQUIRY, READ CAPACITY, MODE SENSE, ...), with
 *     the data written into the caller's buffer,
 *   - becomes one virtio-blk request (sector in 512-byte units, length), or
 *   - fails with CHECK CONDITION and a precise sense triple.
 * It also maps a virtio-blk completion status back to SCSI.
 *
 * Pure functions, no Windows header, no allocation: the StorPort glue and the
 * host unit tests call the same code. Every value that comes from the device
 * configuration goes through vblk_disk_from_config(), and every CDB and
 * parameter-list field is range-checked before use.
 */
#ifndef OPENVDP_BLK_SCSI_H
#define OPENVDP_BLK_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scsi/scsi.h>
#include <virtio/virtio_blk.h>

/* Limits this driver puts on itself, whatever the device offers. */
#define VBLK_MAX_SEGMENTS           256u     /* data SG entries per request */
#define VBLK_PAGE_SIZE              4096u
#define VBLK_MAX_DISCARD_RANGES     256u     /* UNMAP descriptors per request */
#define VBLK_MAX_BLOCK_SIZE         65536u
#define VBLK_SERIAL_MAX             VIRTIO_BLK_ID_BYTES

/* SRB_STATUS_* values (storport.h); the glue asserts they match. */
#define VBLK_SRB_STATUS_SUCCESS             0x01
#define VBLK_SRB_STATUS_ERROR               0x04
#define VBLK_SRB_STATUS_INVALID_REQUEST     0x06

/* What the driver knows about the disk, in CPU byte order. */
struct vblk_disk {
	uint64_t capacity_sectors;          /* 512-byte sectors */
	uint32_t block_size;                /* logical block, power of two 512..64K */
	uint8_t physical_block_exp;         /* log2(logical blocks per physical block) */
	uint16_t alignment_offset;          /* first aligned logical block */
	uint16_t min_io_blocks;             /* logical blocks, 0 = not reported */
	uint32_t opt_io_blocks;             /* logical blocks, 0 = not reported */
	bool read_only;
	bool write_cache;                   /* writeback: data may sit in a volatile cache */
	bool flush;                         /* VIRTIO_BLK_T_FLUSH available */
	bool discard;
	uint32_t max_discard_sectors;       /* per range, 512-byte sectors */
	uint32_t max_discard_ranges;
	uint32_t discard_granularity;       /* 512-byte sectors, >= 1 */
	bool write_zeroes;
	uint32_t max_write_zeroes_sectors;
	bool write_zeroes_may_unmap;
	uint32_t max_transfer_bytes;        /* one READ/WRITE, multiple of block_size */
	uint32_t max_segments;              /* data SG entries per request */
	uint8_t serial_length;
	char serial[VBLK_SERIAL_MAX + 1];   /* printable ASCII, NUL-terminated */
	uint8_t vendor_id[8];               /* T10 vendor, space padded; from the brand */
	uint32_t fixups;                    /* VBLK_FIX_*: config values replaced by defaults */
};

/* Configuration fields vblk_disk_from_config() found unusable and replaced. */
#define VBLK_FIX_BLK_SIZE       0x01u   /* blk_size: 512 used */
#define VBLK_FIX_TOPOLOGY       0x02u   /* topology hints dropped */
#define VBLK_FIX_DISCARD        0x04u   /* discard limits: off, or alignment ignored */
#define VBLK_FIX_WRITE_ZEROES   0x08u   /* write-zeroes limits zero: off */
#define VBLK_FIX_SEG_MAX        0x10u   /* seg_max zero: 256 used */
#define VBLK_FIX_SIZE_MAX       0x20u   /* size_max below 512: 4096 used */

/*
 * Builds a vblk_disk from the device configuration and the negotiated
 * feature bits, validating every field. Returns 0, or -1 when the device
 * cannot be driven (capacity not addressable). Zero or absurd values get a
 * safe default or switch their feature off, and set a VBLK_FIX_* bit in
 * disk->fixups for the caller to log.
 */
int vblk_disk_from_config(struct vblk_disk *disk, const struct virtio_blk_config *cfg,
			  uint64_t features);

/* Sets the T10 vendor id INQUIRY reports (truncated or space padded to 8). */
void vblk_disk_set_vendor(struct vblk_disk *disk, const char *vendor);

/*
 * Stores the GET_ID answer (up to 20 bytes, NUL-padded) as serial. Returns
 * false, leaving no serial, for garbage: a byte that is not printable ASCII
 * or anything after the padding started.
 */
bool vblk_disk_set_serial(struct vblk_disk *disk, const uint8_t *id, size_t length);

/* Number of logical blocks (the last LBA is this minus one). */
uint64_t vblk_disk_blocks(const struct vblk_disk *disk);

enum vblk_action {
	VBLK_ACTION_COMPLETE,           /* answered: data_length bytes in the buffer */
	VBLK_ACTION_REQUEST,            /* issue the virtio-blk request in .req */
	VBLK_ACTION_CHECK_CONDITION,    /* fail with .sense */
};

struct vblk_range {
	uint64_t sector;                /* 512-byte units */
	uint32_t num_sectors;
	uint32_t flags;                 /* VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP */
};

struct vblk_sense {
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool field_valid;               /* sense-key specific field pointer */
	bool field_in_cdb;              /* pointer into the CDB (else parameter data) */
	uint16_t field;                 /* byte offset of the offending field */
};

struct vblk_request {
	uint32_t type;                  /* VIRTIO_BLK_T_* */
	uint64_t sector;                /* IN/OUT start, 512-byte units */
	uint32_t length;                /* IN/OUT bytes */
	bool flush_after;               /* FUA write on a write-back cache */
	uint32_t num_ranges;            /* DISCARD / WRITE_ZEROES: entries in cmd->ranges */
};

struct vblk_scsi_cmd {
	/* inputs */
	const uint8_t *cdb;
	uint32_t cdb_length;
	uint8_t *data;                  /* mapped data buffer; may be NULL for READ/WRITE */
	uint32_t data_length;           /* bytes the initiator transfers */
	struct vblk_range *ranges;      /* caller-provided room for DISCARD/WRITE_ZEROES */
	uint32_t max_ranges;
	/* outputs */
	enum vblk_action action;
	uint32_t data_transferred;      /* COMPLETE: bytes written to data */
	struct vblk_request req;        /* REQUEST */
	struct vblk_sense sense;        /* CHECK_CONDITION */
};

/*
 * Prepares the GET_ID request the glue sends once at start-up, into a
 * VIRTIO_BLK_ID_BYTES buffer; on success the buffer goes to
 * vblk_disk_set_serial(). cmd->cdb is not used.
 */
void vblk_scsi_get_id(struct vblk_scsi_cmd *cmd);

/*
 * Decides what to do with cmd->cdb; returns cmd->action. For REQUEST with
 * req.flush_after set, the glue sends a FLUSH once the write succeeded and
 * completes the SRB with the FLUSH's status.
 */
enum vblk_action vblk_scsi_execute(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd);

/*
 * Completion of a virtio-blk request: turns the device's status byte into
 * COMPLETE or CHECK_CONDITION (with sense) in cmd. Unknown status values
 * are a device error, not a success.
 */
enum vblk_action vblk_scsi_complete(struct vblk_scsi_cmd *cmd, uint8_t virtio_status);

/*
 * After the capacity changed: true (and CHECK CONDITION, UNIT ATTENTION,
 * CAPACITY DATA HAS CHANGED in cmd) when cmd->cdb must report it; INQUIRY,
 * REPORT LUNS and REQUEST SENSE never do (SPC-4 5.14 / 7.x), so they return
 * false and the condition stays pending for the next command.
 */
bool vblk_scsi_unit_attention(struct vblk_scsi_cmd *cmd);
/* Whether cmd would report the unit attention, without changing it. */
bool vblk_scsi_unit_attention_applies(const struct vblk_scsi_cmd *cmd);

/* SRB status for an action (SCSI status GOOD or CHECK CONDITION goes beside it). */
uint8_t vblk_scsi_srb_status(enum vblk_action action);

/*
 * Writes fixed-format sense data (18 bytes, truncated to length) and
 * returns the number of bytes written.
 */
uint32_t vblk_scsi_build_sense(uint8_t *buf, uint32_t length, const struct vblk_sense *sense);

#endif /* OPENVDP_BLK_SCSI_H */
