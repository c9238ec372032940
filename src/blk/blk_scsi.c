/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: portable SCSI-to-virtio-blk translation (see blk_scsi.h).
 *
 * References: SPC-4 (INQUIRY, MODE SENSE, REQUEST SENSE, REPORT LUNS, sense
 * data), SBC-4 (READ/WRITE/VERIFY, SYNCHRONIZE CACHE, UNMAP, WRITE SAME,
 * READ CAPACITY, VPD B0/B1/B2) and virtio 1.2 section 5.2 (virtio-blk).
 */
#include "blk_scsi.h"

#define VBLK_PRODUCT    "VirtIO Block Dev"   /* 16 bytes */
#define VBLK_REVISION   "0001"               /* 4 bytes */

/* The largest immediate answer: a full standard INQUIRY is 96 bytes. */
#define VBLK_REPLY_MAX  128u

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static unsigned int block_shift(const struct vblk_disk *disk)
{
	/* block_size is validated as a power of two >= 512. */
	return (unsigned int)__builtin_ctz(disk->block_size) - VIRTIO_BLK_SECTOR_SHIFT;
}

uint64_t vblk_disk_blocks(const struct vblk_disk *disk)
{
	return disk->capacity_sectors >> block_shift(disk);
}

/* ------------------------------------------------------------ device configuration */
static bool has_feature(uint64_t features, unsigned int bit)
{
	return (features >> bit) & 1;
}

/* Anything larger per I/O hint is not a believable topology value. */
#define VBLK_TOPOLOGY_MAX_BYTES (1ull << 30)
/* Discard alignment above this (2 GiB in sectors) is not believable. */
#define VBLK_DISCARD_ALIGN_MAX  (1u << 22)

int vblk_disk_from_config(struct vblk_disk *disk, const struct virtio_blk_config *cfg,
			  uint64_t features)
{
	uint32_t ratio, segments, seg_size, per_page, pages, max_transfer;

	if (!disk || !cfg)
		return -1;
	__builtin_memset(disk, 0, sizeof(*disk));
	__builtin_memset(disk->vendor_id, ' ', sizeof(disk->vendor_id));

	disk->capacity_sectors = le64_to_cpu(cfg->capacity);
	/* Byte offsets must fit in 64 bits: nothing safe to fall back to. */
	if (disk->capacity_sectors > (UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT))
		return -1;

	disk->block_size = VIRTIO_BLK_SECTOR_SIZE;
	if (has_feature(features, VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t bs = le32_to_cpu(cfg->blk_size);

		/* Requests address 512-byte sectors anyway: 512 is always safe. */
		if (bs < VIRTIO_BLK_SECTOR_SIZE || bs > VBLK_MAX_BLOCK_SIZE || (bs & (bs - 1)))
			disk->fixups |= VBLK_FIX_BLK_SIZE;
		else
			disk->block_size = bs;
	}
	ratio = disk->block_size >> VIRTIO_BLK_SECTOR_SHIFT;

	if (has_feature(features, VIRTIO_BLK_F_TOPOLOGY)) {
		uint8_t exp = cfg->topology.physical_block_exp;
		uint64_t min_io = le16_to_cpu(cfg->topology.min_io_size);
		uint64_t opt_io = le32_to_cpu(cfg->topology.opt_io_size);

		/* A physical block above 16K logical blocks is not believable. */
		if (exp <= 14) {
			disk->physical_block_exp = exp;
			if (cfg->topology.alignment_offset < (1u << exp))
				disk->alignment_offset = cfg->topology.alignment_offset;
			else
				disk->fixups |= VBLK_FIX_TOPOLOGY;
		} else {
			disk->fixups |= VBLK_FIX_TOPOLOGY;
		}
		if (min_io * disk->block_size > VBLK_TOPOLOGY_MAX_BYTES ||
		    opt_io * disk->block_size > VBLK_TOPOLOGY_MAX_BYTES) {
			disk->fixups |= VBLK_FIX_TOPOLOGY;
		} else {
			disk->min_io_blocks = (uint16_t)min_io;
			disk->opt_io_blocks = (uint32_t)opt_io;
		}
	}

	disk->read_only = has_feature(features, VIRTIO_BLK_F_RO);
	disk->flush = has_feature(features, VIRTIO_BLK_F_FLUSH);
	/* 5.2.5.1: with FLUSH but without CONFIG_WCE the device is write-back. */
	if (disk->flush)
		disk->write_cache = has_feature(features, VIRTIO_BLK_F_CONFIG_WCE) ?
				    cfg->writeback != 0 : true;

	if (has_feature(features, VIRTIO_BLK_F_DISCARD) && !disk->read_only) {
		uint32_t max = le32_to_cpu(cfg->max_discard_sectors);
		uint32_t seg = le32_to_cpu(cfg->max_discard_seg);
		uint32_t align = le32_to_cpu(cfg->discard_sector_alignment);

		max -= max % ratio;
		if (align > VBLK_DISCARD_ALIGN_MAX) {
			disk->fixups |= VBLK_FIX_DISCARD;
			align = 0;
		}
		if (max && seg) {
			disk->discard = true;
			disk->max_discard_sectors = max;
			disk->max_discard_ranges = min_u32(seg, VBLK_MAX_DISCARD_RANGES);
			disk->discard_granularity = align ? align : 1;
		} else {
			disk->fixups |= VBLK_FIX_DISCARD;
		}
	}

	if (has_feature(features, VIRTIO_BLK_F_WRITE_ZEROES) && !disk->read_only) {
		uint32_t max = le32_to_cpu(cfg->max_write_zeroes_sectors);

		max -= max % ratio;
		if (max && le32_to_cpu(cfg->max_write_zeroes_seg)) {
			disk->write_zeroes = true;
			disk->max_write_zeroes_sectors = max;
			disk->write_zeroes_may_unmap = cfg->write_zeroes_may_unmap != 0;
		} else {
			disk->fixups |= VBLK_FIX_WRITE_ZEROES;
		}
	}

	segments = VBLK_MAX_SEGMENTS;
	if (has_feature(features, VIRTIO_BLK_F_SEG_MAX)) {
		if (le32_to_cpu(cfg->seg_max))
			segments = min_u32(le32_to_cpu(cfg->seg_max), VBLK_MAX_SEGMENTS);
		else
			disk->fixups |= VBLK_FIX_SEG_MAX;
	}
	seg_size = VBLK_PAGE_SIZE;
	if (has_feature(features, VIRTIO_BLK_F_SIZE_MAX)) {
		if (le32_to_cpu(cfg->size_max) >= VIRTIO_BLK_SECTOR_SIZE)
			seg_size = min_u32(le32_to_cpu(cfg->size_max), VBLK_PAGE_SIZE);
		else
			disk->fixups |= VBLK_FIX_SIZE_MAX;
	}
	/* Pages the SG list may hold; one is lost to a buffer that is not page aligned. */
	per_page = (VBLK_PAGE_SIZE + seg_size - 1) / seg_size;
	pages = segments / per_page;
	max_transfer = pages >= 2 ? (pages - 1) * VBLK_PAGE_SIZE : seg_size;
	max_transfer -= max_transfer % disk->block_size;
	disk->max_transfer_bytes = max_transfer ? max_transfer : disk->block_size;
	disk->max_segments = segments;
	return 0;
}

bool vblk_disk_set_serial(struct vblk_disk *disk, const uint8_t *id, size_t length)
{
	size_t i, start = 0, end;

	disk->serial_length = 0;
	disk->serial[0] = '\0';
	if (!id)
		return false;
	if (length > VBLK_SERIAL_MAX)
		length = VBLK_SERIAL_MAX;
	/* The id is NUL-padded unless it uses all 20 bytes. */
	for (end = 0; end < length && id[end]; end++)
		;
	/* Garbage, not an id: bytes after the padding, or anything not printable ASCII. */
	for (i = end; i < length; i++)
		if (id[i])
			return false;
	for (i = 0; i < end; i++)
		if (id[i] < 0x20 || id[i] >= 0x7F)
			return false;
	while (start < end && id[start] == ' ')
		start++;
	while (end > start && id[end - 1] == ' ')
		end--;
	for (i = start; i < end; i++)
		disk->serial[i - start] = (char)id[i];
	disk->serial_length = (uint8_t)(end - start);
	disk->serial[end - start] = '\0';
	return true;
}

/* ------------------------------------------------------------ outcomes */
static enum vblk_action check_condition(struct vblk_scsi_cmd *cmd, uint8_t key, uint8_t asc,
					uint8_t ascq)
{
	cmd->action = VBLK_ACTION_CHECK_CONDITION;
	cmd->data_transferred = 0;
	cmd->sense.key = key;
	cmd->sense.asc = asc;
	cmd->sense.ascq = ascq;
	cmd->sense.field_valid = false;
	cmd->sense.field_in_cdb = false;
	cmd->sense.field = 0;
	return cmd->action;
}

static enum vblk_action invalid_field(struct vblk_scsi_cmd *cmd, bool in_cdb, uint32_t byte)
{
	check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST,
			in_cdb ? SCSI_ASC_INVALID_FIELD_IN_CDB : SCSI_ASC_INVALID_FIELD_IN_PARAM, 0);
	cmd->sense.field_valid = true;
	cmd->sense.field_in_cdb = in_cdb;
	cmd->sense.field = (uint16_t)byte;
	return cmd->action;
}

static enum vblk_action invalid_cdb(struct vblk_scsi_cmd *cmd, uint32_t byte)
{
	return invalid_field(cmd, true, byte);
}

static enum vblk_action invalid_opcode(struct vblk_scsi_cmd *cmd)
{
	check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPCODE, 0);
	cmd->sense.field_valid = true;
	cmd->sense.field_in_cdb = true;
	cmd->sense.field = 0;
	return cmd->action;
}

static enum vblk_action lba_out_of_range(struct vblk_scsi_cmd *cmd)
{
	return check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
}

static enum vblk_action write_protected(struct vblk_scsi_cmd *cmd)
{
	return check_condition(cmd, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
}

/* The glue failed to map a buffer it promised: not the initiator's fault. */
static enum vblk_action internal_error(struct vblk_scsi_cmd *cmd)
{
	return check_condition(cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
}

static enum vblk_action complete(struct vblk_scsi_cmd *cmd, uint32_t transferred)
{
	cmd->action = VBLK_ACTION_COMPLETE;
	cmd->data_transferred = transferred;
	return cmd->action;
}

/* Copies a built reply, truncated to the allocation length and the buffer. */
static enum vblk_action reply(struct vblk_scsi_cmd *cmd, const uint8_t *buf, uint32_t length,
			      uint32_t allocation_length)
{
	uint32_t n = min_u32(min_u32(length, allocation_length), cmd->data_length);

	if (n && !cmd->data)
		return internal_error(cmd);
	if (n)
		__builtin_memcpy(cmd->data, buf, n);
	return complete(cmd, n);
}

static enum vblk_action request(struct vblk_scsi_cmd *cmd, uint32_t type)
{
	cmd->action = VBLK_ACTION_REQUEST;
	cmd->data_transferred = 0;
	__builtin_memset(&cmd->req, 0, sizeof(cmd->req));
	cmd->req.type = type;
	return cmd->action;
}

/* ------------------------------------------------------------ block commands */
/* lba/blocks in logical blocks; true when the whole range is on the disk. */
static bool range_ok(const struct vblk_disk *disk, uint64_t lba, uint64_t blocks)
{
	uint64_t total = vblk_disk_blocks(disk);

	return lba <= total && blocks <= total - lba;
}

static enum vblk_action do_read_write(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd,
				      uint64_t lba, uint32_t blocks, bool write, bool fua,
				      uint32_t length_byte)
{
	unsigned int shift = block_shift(disk);
	uint64_t bytes;

	if (cmd->cdb[0] != SCSIOP_READ6 && cmd->cdb[0] != SCSIOP_WRITE6 &&
	    (cmd->cdb[1] & SCSI_CDB_RDPROTECT_MASK))
		return invalid_cdb(cmd, 1);     /* no protection information */
	if (write && disk->read_only)
		return write_protected(cmd);
	if (!range_ok(disk, lba, blocks))
		return lba_out_of_range(cmd);
	if (!blocks)
		return complete(cmd, 0);
	bytes = (uint64_t)blocks * disk->block_size;
	if (bytes > disk->max_transfer_bytes)
		return invalid_cdb(cmd, length_byte);
	/* The SRB buffer must hold what the CDB asks for. */
	if (bytes > cmd->data_length)
		return invalid_cdb(cmd, length_byte);

	request(cmd, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
	cmd->req.sector = lba << shift;
	cmd->req.length = (uint32_t)bytes;
	/* virtio-blk has no FUA: a forced write on a write-back cache needs a flush. */
	cmd->req.flush_after = write && fua && disk->write_cache && disk->flush;
	return cmd->action;
}

static enum vblk_action do_verify(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd,
				  uint64_t lba, uint32_t blocks)
{
	/* BYTCHK would need a compare; a virtual disk verifies trivially otherwise. */
	if (cmd->cdb[1] & SCSI_CDB_BYTCHK_MASK)
		return invalid_cdb(cmd, 1);
	if (cmd->cdb[1] & SCSI_CDB_RDPROTECT_MASK)
		return invalid_cdb(cmd, 1);
	if (!range_ok(disk, lba, blocks))
		return lba_out_of_range(cmd);
	return complete(cmd, 0);
}

static enum vblk_action do_sync_cache(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd,
				      uint64_t lba, uint32_t blocks)
{
	/* 0 blocks means "from lba to the end", so lba itself must exist. */
	if (!range_ok(disk, lba, blocks) || (!blocks && lba >= vblk_disk_blocks(disk)))
		return lba_out_of_range(cmd);
	if (!disk->write_cache || !disk->flush)
		return complete(cmd, 0);
	return request(cmd, VIRTIO_BLK_T_FLUSH);
}

static enum vblk_action do_unmap(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd)
{
	const uint8_t *p = cmd->data;
	unsigned int shift = block_shift(disk);
	uint32_t plen, bdlen, count, i, used = 0;
	uint64_t total = 0, max_blocks;

	if (!disk->discard)
		return invalid_opcode(cmd);
	if (cmd->cdb[1] & SCSI_CDB_UNMAP_ANCHOR)
		return invalid_cdb(cmd, 1);     /* ANC_SUP is 0 in VPD B2 */
	if (disk->read_only)
		return write_protected(cmd);

	plen = scsi_get_be16(cmd->cdb + 7);
	if (!plen)
		return complete(cmd, 0);
	if (plen < sizeof(struct scsi_unmap_header) || cmd->data_length < plen)
		return check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST,
				       SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	if (!p)
		return internal_error(cmd);

	bdlen = scsi_get_be16(p + 2);
	if (scsi_get_be16(p) < 6 || bdlen > plen - sizeof(struct scsi_unmap_header))
		return check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST,
				       SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* SBC-4: a trailing partial descriptor is ignored. */
	count = bdlen / sizeof(struct scsi_unmap_descriptor);
	if (count > disk->max_discard_ranges)
		return invalid_field(cmd, false, 2);

	max_blocks = disk->max_discard_sectors >> shift;
	for (i = 0; i < count; i++) {
		uint32_t off = (uint32_t)sizeof(struct scsi_unmap_header) +
			       i * (uint32_t)sizeof(struct scsi_unmap_descriptor);
		uint64_t lba = scsi_get_be64(p + off);
		uint32_t blocks = scsi_get_be32(p + off + 8);

		if (!blocks)
			continue;
		if (!range_ok(disk, lba, blocks))
			return lba_out_of_range(cmd);
		total += blocks;
		/* VPD B0 advertises max_blocks as the limit for the whole command. */
		if (total > max_blocks)
			return invalid_field(cmd, false, off + 8);
		if (used >= cmd->max_ranges || !cmd->ranges)
			return invalid_field(cmd, false, 2);
		cmd->ranges[used].sector = lba << shift;
		cmd->ranges[used].num_sectors = (uint32_t)((uint64_t)blocks << shift);
		cmd->ranges[used].flags = 0;
		used++;
	}
	if (!used)
		return complete(cmd, 0);
	request(cmd, VIRTIO_BLK_T_DISCARD);
	cmd->req.num_ranges = used;
	return cmd->action;
}

static enum vblk_action do_write_same(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd,
				      uint64_t lba, uint32_t blocks, uint32_t length_byte)
{
	uint8_t flags = cmd->cdb[1];
	bool ndob = cmd->cdb[0] == SCSIOP_WRITE_SAME16 && (flags & SCSI_CDB_WS_NDOB);
	unsigned int shift = block_shift(disk);
	uint32_t i;

	/* Only the all-zero pattern maps onto virtio-blk (WRITE_ZEROES). */
	if (!disk->write_zeroes)
		return invalid_opcode(cmd);
	if (disk->read_only)
		return write_protected(cmd);
	if (flags & (SCSI_CDB_WS_ANCHOR | SCSI_CDB_WS_LBDATA | SCSI_CDB_WS_PBDATA |
		     SCSI_CDB_RDPROTECT_MASK))
		return invalid_cdb(cmd, 1);
	if (cmd->cdb[0] == SCSIOP_WRITE_SAME && (flags & SCSI_CDB_WS_NDOB))
		return invalid_cdb(cmd, 1);
	if (!blocks)
		return invalid_cdb(cmd, length_byte);   /* WSNZ is 1 in VPD B0 */
	if (!range_ok(disk, lba, blocks))
		return lba_out_of_range(cmd);
	if (blocks > (disk->max_write_zeroes_sectors >> shift))
		return invalid_cdb(cmd, length_byte);
	if (!ndob) {
		if (cmd->data_length < disk->block_size)
			return check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST,
					       SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
		if (!cmd->data)
			return internal_error(cmd);
		for (i = 0; i < disk->block_size; i++)
			if (cmd->data[i])
				return invalid_field(cmd, false, i);
	}
	if (!cmd->ranges || !cmd->max_ranges)
		return internal_error(cmd);

	cmd->ranges[0].sector = lba << shift;
	cmd->ranges[0].num_sectors = (uint32_t)((uint64_t)blocks << shift);
	cmd->ranges[0].flags = ((flags & SCSI_CDB_WS_UNMAP) && disk->write_zeroes_may_unmap) ?
			       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	request(cmd, VIRTIO_BLK_T_WRITE_ZEROES);
	cmd->req.num_ranges = 1;
	return cmd->action;
}

/* ------------------------------------------------------------ INQUIRY */
static void put_ascii(uint8_t *dst, const char *src, uint32_t width)
{
	uint32_t i;

	for (i = 0; i < width; i++)
		dst[i] = (uint8_t)(*src ? *src++ : ' ');
}

void vblk_disk_set_vendor(struct vblk_disk *disk, const char *vendor)
{
	put_ascii(disk->vendor_id, vendor, sizeof(disk->vendor_id));
}

static uint32_t inquiry_standard(const struct vblk_disk *disk, uint8_t *buf)
{
	struct scsi_inquiry_std *inq = (struct scsi_inquiry_std *)buf;

	__builtin_memset(inq, 0, sizeof(*inq));
	inq->peripheral = SCSI_PERIPH_DIRECT_ACCESS;
	inq->version = SCSI_VERSION_SPC4;
	inq->response_format = SCSI_INQ_HISUP | SCSI_INQ_RESPONSE_FORMAT_2;
	inq->additional_length = sizeof(*inq) - 5;
	inq->flags7 = SCSI_INQ_CMDQUE;
	__builtin_memcpy(inq->vendor_id, disk->vendor_id, sizeof(inq->vendor_id));
	put_ascii(inq->product_id, VBLK_PRODUCT, sizeof(inq->product_id));
	put_ascii(inq->product_revision, VBLK_REVISION, sizeof(inq->product_revision));
	scsi_put_be16(inq->version_descriptor[0], 0x0460);     /* SPC-4 */
	scsi_put_be16(inq->version_descriptor[1], 0x0600);     /* SBC-4 */
	return sizeof(*inq);
}

static const uint8_t vblk_vpd_pages[] = {
	SCSI_VPD_SUPPORTED_PAGES, SCSI_VPD_UNIT_SERIAL_NUMBER, SCSI_VPD_DEVICE_IDENTIFICATION,
	SCSI_VPD_BLOCK_LIMITS, SCSI_VPD_BLOCK_CHARACTERISTICS, SCSI_VPD_LOGICAL_BLOCK_PROV,
};

static uint32_t vpd_header(uint8_t *buf, uint8_t page, uint32_t page_length)
{
	struct scsi_vpd_header *h = (struct scsi_vpd_header *)buf;

	h->peripheral = SCSI_PERIPH_DIRECT_ACCESS;
	h->page_code = page;
	scsi_put_be16(h->page_length, (uint16_t)page_length);
	return sizeof(*h) + page_length;
}

static uint32_t vpd_device_id(const struct vblk_disk *disk, uint8_t *buf)
{
	struct scsi_vpd_designator *d = (struct scsi_vpd_designator *)(buf + 4);
	uint8_t *id = buf + 4 + sizeof(*d);
	uint32_t n;

	/* T10 vendor id designator: vendor, then the serial (or the product). */
	d->protocol_codeset = SCSI_VPD_CODESET_ASCII;
	d->flags_type = SCSI_VPD_ASSOC_LUN | SCSI_VPD_ID_T10_VENDOR;
	d->reserved = 0;
	__builtin_memcpy(id, disk->vendor_id, 8);
	if (disk->serial_length) {
		__builtin_memcpy(id + 8, disk->serial, disk->serial_length);
		n = 8 + disk->serial_length;
	} else {
		put_ascii(id + 8, VBLK_PRODUCT, 16);
		n = 8 + 16;
	}
	d->length = (uint8_t)n;
	return vpd_header(buf, SCSI_VPD_DEVICE_IDENTIFICATION, sizeof(*d) + n);
}

static uint32_t vpd_block_limits(const struct vblk_disk *disk, uint8_t *buf)
{
	struct scsi_vpd_block_limits *p = (struct scsi_vpd_block_limits *)buf;
	unsigned int shift = block_shift(disk);
	uint32_t granularity = disk->min_io_blocks ? disk->min_io_blocks :
			       (1u << disk->physical_block_exp);

	vpd_header(buf, SCSI_VPD_BLOCK_LIMITS, SCSI_VPD_B0_PAGE_LENGTH);
	p->flags = 0x01;        /* WSNZ: WRITE SAME with 0 blocks is rejected */
	scsi_put_be16(p->optimal_transfer_granularity, (uint16_t)min_u32(granularity, 0xFFFF));
	scsi_put_be32(p->max_transfer_length, disk->max_transfer_bytes / disk->block_size);
	scsi_put_be32(p->optimal_transfer_length,
		      min_u32(disk->opt_io_blocks, disk->max_transfer_bytes / disk->block_size));
	if (disk->discard) {
		uint32_t ugran = disk->discard_granularity >> shift;

		scsi_put_be32(p->max_unmap_lba_count, disk->max_discard_sectors >> shift);
		scsi_put_be32(p->max_unmap_descriptor_count, disk->max_discard_ranges);
		scsi_put_be32(p->optimal_unmap_granularity, ugran ? ugran : 1);
	}
	if (disk->write_zeroes)
		scsi_put_be64(p->max_write_same_length, disk->max_write_zeroes_sectors >> shift);
	return sizeof(*p);
}

static uint32_t vpd_block_characteristics(const struct vblk_disk *disk, uint8_t *buf)
{
	struct scsi_vpd_block_characteristics *p = (struct scsi_vpd_block_characteristics *)buf;

	vpd_header(buf, SCSI_VPD_BLOCK_CHARACTERISTICS, SCSI_VPD_B1_PAGE_LENGTH);
	/* Thin, unmappable storage behaves like flash for Windows (TRIM, no defrag). */
	if (disk->discard)
		scsi_put_be16(p->medium_rotation_rate, SCSI_VPD_B1_NON_ROTATING);
	return sizeof(*p);
}

static uint32_t vpd_lb_provisioning(const struct vblk_disk *disk, uint8_t *buf)
{
	struct scsi_vpd_lb_provisioning *p = (struct scsi_vpd_lb_provisioning *)buf;

	vpd_header(buf, SCSI_VPD_LOGICAL_BLOCK_PROV, SCSI_VPD_B2_PAGE_LENGTH);
	/* LBPRZ stays 0: virtio-blk does not promise zeroes after DISCARD. */
	p->flags = (uint8_t)((disk->discard ? SCSI_VPD_B2_LBPU : 0) |
			     (disk->write_zeroes ? SCSI_VPD_B2_LBPWS | SCSI_VPD_B2_LBPWS10 : 0));
	p->provisioning_type = disk->discard ? SCSI_VPD_B2_TYPE_THIN : SCSI_VPD_B2_TYPE_FULL;
	return sizeof(*p);
}

static enum vblk_action do_inquiry(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd)
{
	uint8_t buf[VBLK_REPLY_MAX];
	uint32_t alloc = scsi_get_be16(cmd->cdb + 3);
	uint32_t len;
	uint8_t page = cmd->cdb[2];

	__builtin_memset(buf, 0, sizeof(buf));
	if (cmd->cdb[1] & SCSI_CDB_INQUIRY_CMDDT)
		return invalid_cdb(cmd, 1);
	if (!(cmd->cdb[1] & SCSI_CDB_INQUIRY_EVPD)) {
		if (page)
			return invalid_cdb(cmd, 2);
		return reply(cmd, buf, inquiry_standard(disk, buf), alloc);
	}

	switch (page) {
	case SCSI_VPD_SUPPORTED_PAGES:
		__builtin_memcpy(buf + 4, vblk_vpd_pages, sizeof(vblk_vpd_pages));
		len = vpd_header(buf, page, sizeof(vblk_vpd_pages));
		break;
	case SCSI_VPD_UNIT_SERIAL_NUMBER:
		__builtin_memcpy(buf + 4, disk->serial, disk->serial_length);
		len = vpd_header(buf, page, disk->serial_length);
		break;
	case SCSI_VPD_DEVICE_IDENTIFICATION:
		len = vpd_device_id(disk, buf);
		break;
	case SCSI_VPD_BLOCK_LIMITS:
		len = vpd_block_limits(disk, buf);
		break;
	case SCSI_VPD_BLOCK_CHARACTERISTICS:
		len = vpd_block_characteristics(disk, buf);
		break;
	case SCSI_VPD_LOGICAL_BLOCK_PROV:
		len = vpd_lb_provisioning(disk, buf);
		break;
	default:
		return invalid_cdb(cmd, 2);
	}
	return reply(cmd, buf, len, alloc);
}

/* ------------------------------------------------------------ capacity and mode pages */
static enum vblk_action do_read_capacity10(const struct vblk_disk *disk,
					   struct vblk_scsi_cmd *cmd)
{
	struct scsi_read_capacity10_data data;
	uint64_t blocks = vblk_disk_blocks(disk);

	/* LBA without PMI is invalid (SBC-3); PMI itself is obsolete and ignored. */
	if (!(cmd->cdb[8] & SCSI_CDB_READCAP_PMI) && scsi_get_be32(cmd->cdb + 2))
		return invalid_cdb(cmd, 2);
	if (!blocks)
		return check_condition(cmd, SCSI_SENSE_NOT_READY, SCSI_ASC_MEDIUM_NOT_PRESENT, 0);
	/* Beyond 32 bits the initiator must switch to READ CAPACITY(16). */
	scsi_put_be32(data.last_lba, blocks - 1 > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)(blocks - 1));
	scsi_put_be32(data.block_length, disk->block_size);
	return reply(cmd, (const uint8_t *)&data, sizeof(data), sizeof(data));
}

static enum vblk_action do_read_capacity16(const struct vblk_disk *disk,
					   struct vblk_scsi_cmd *cmd)
{
	struct scsi_read_capacity16_data data;
	uint64_t blocks = vblk_disk_blocks(disk);
	uint32_t alloc = scsi_get_be32(cmd->cdb + 10);
	uint16_t lowest = disk->alignment_offset & SCSI_RC16_LOWEST_ALIGNED_MASK;

	if (!(cmd->cdb[14] & SCSI_CDB_READCAP_PMI) && scsi_get_be64(cmd->cdb + 2))
		return invalid_cdb(cmd, 2);
	if (!blocks)
		return check_condition(cmd, SCSI_SENSE_NOT_READY, SCSI_ASC_MEDIUM_NOT_PRESENT, 0);
	__builtin_memset(&data, 0, sizeof(data));
	scsi_put_be64(data.last_lba, blocks - 1);
	scsi_put_be32(data.block_length, disk->block_size);
	data.exponents = disk->physical_block_exp & 0x0F;
	if (disk->discard)
		lowest |= (uint16_t)SCSI_RC16_LBPME << 8;
	scsi_put_be16(data.lowest_aligned, lowest);
	return reply(cmd, (const uint8_t *)&data, sizeof(data), alloc);
}

static uint32_t mode_caching_page(const struct vblk_disk *disk, uint8_t *buf, uint8_t pc)
{
	struct scsi_mode_caching_page *p = (struct scsi_mode_caching_page *)buf;

	__builtin_memset(p, 0, sizeof(*p));
	p->page_code = SCSI_MODE_PAGE_CACHING;
	p->page_length = SCSI_CACHING_PAGE_LENGTH;
	/* Nothing is changeable: MODE SELECT is not implemented. */
	if (pc != SCSI_MODE_PC_CHANGEABLE && disk->write_cache)
		p->flags = SCSI_CACHING_WCE;
	return sizeof(*p);
}

static uint32_t mode_control_page(uint8_t *buf, uint8_t pc)
{
	struct scsi_mode_control_page *p = (struct scsi_mode_control_page *)buf;

	__builtin_memset(p, 0, sizeof(*p));
	p->page_code = SCSI_MODE_PAGE_CONTROL;
	p->page_length = SCSI_CONTROL_PAGE_LENGTH;
	/* Requests complete in any order: the device may reorder them. */
	if (pc != SCSI_MODE_PC_CHANGEABLE)
		p->flags3 = SCSI_CONTROL_QAM_UNRESTRICTED;
	return sizeof(*p);
}

static enum vblk_action do_mode_sense(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd)
{
	bool ten = cmd->cdb[0] == SCSIOP_MODE_SENSE10;
	uint8_t buf[VBLK_REPLY_MAX];
	uint8_t pc = cmd->cdb[2] >> SCSI_CDB_MODE_PC_SHIFT;
	uint8_t page = cmd->cdb[2] & SCSI_CDB_MODE_PAGE_MASK;
	uint8_t subpage = cmd->cdb[3];
	bool dbd = cmd->cdb[1] & SCSI_CDB_MODE_DBD;
	bool llbaa = ten && (cmd->cdb[1] & SCSI_CDB_MODE_LLBAA);
	uint32_t alloc = ten ? scsi_get_be16(cmd->cdb + 7) : cmd->cdb[4];
	uint32_t header = ten ? sizeof(struct scsi_mode_header10) : sizeof(struct scsi_mode_header6);
	uint32_t len = header, bdlen = 0;
	uint64_t blocks = vblk_disk_blocks(disk);
	uint8_t dsp = (uint8_t)((disk->read_only ? SCSI_MODE_DSP_WP : 0) | SCSI_MODE_DSP_DPOFUA);

	if (pc == SCSI_MODE_PC_SAVED)
		return check_condition(cmd, SCSI_SENSE_ILLEGAL_REQUEST,
				       SCSI_ASC_SAVING_NOT_SUPPORTED, 0);
	/* No subpages exist; 0xFF is only meaningful together with "all pages". */
	if (subpage && !(page == SCSI_MODE_PAGE_ALL && subpage == SCSI_MODE_SUBPAGE_ALL))
		return invalid_cdb(cmd, 3);
	if (page != SCSI_MODE_PAGE_CACHING && page != SCSI_MODE_PAGE_CONTROL &&
	    page != SCSI_MODE_PAGE_ALL)
		return invalid_cdb(cmd, 2);

	__builtin_memset(buf, 0, sizeof(buf));
	if (!dbd) {
		if (llbaa) {
			struct scsi_mode_block_descriptor_long *bd =
				(struct scsi_mode_block_descriptor_long *)(buf + len);

			scsi_put_be64(bd->num_blocks, blocks);
			scsi_put_be32(bd->block_length, disk->block_size);
			bdlen = sizeof(*bd);
		} else {
			struct scsi_mode_block_descriptor *bd =
				(struct scsi_mode_block_descriptor *)(buf + len);

			scsi_put_be32(bd->num_blocks, blocks > 0xFFFFFFFFu ? 0xFFFFFFFFu :
						      (uint32_t)blocks);
			scsi_put_be24(bd->block_length, disk->block_size);
			bdlen = sizeof(*bd);
		}
		len += bdlen;
	}
	if (page == SCSI_MODE_PAGE_CACHING || page == SCSI_MODE_PAGE_ALL)
		len += mode_caching_page(disk, buf + len, pc);
	if (page == SCSI_MODE_PAGE_CONTROL || page == SCSI_MODE_PAGE_ALL)
		len += mode_control_page(buf + len, pc);

	if (ten) {
		struct scsi_mode_header10 *h = (struct scsi_mode_header10 *)buf;

		scsi_put_be16(h->mode_data_length, (uint16_t)(len - 2));
		h->device_specific = dsp;
		h->flags = llbaa && !dbd ? SCSI_MODE_LONGLBA : 0;
		scsi_put_be16(h->block_descriptor_length, (uint16_t)bdlen);
	} else {
		struct scsi_mode_header6 *h = (struct scsi_mode_header6 *)buf;

		h->mode_data_length = (uint8_t)(len - 1);
		h->device_specific = dsp;
		h->block_descriptor_length = (uint8_t)bdlen;
	}
	return reply(cmd, buf, len, alloc);
}

/* ------------------------------------------------------------ other commands */
static enum vblk_action do_request_sense(struct vblk_scsi_cmd *cmd)
{
	uint8_t buf[sizeof(struct scsi_sense_fixed)];
	struct vblk_sense none = { 0 };

	/* Autosense is always on, so there is never a pending condition to report. */
	__builtin_memset(buf, 0, sizeof(buf));
	if (cmd->cdb[1] & SCSI_CDB_REQSENSE_DESC) {
		buf[0] = SCSI_SENSE_RESPONSE_DESC_CURRENT;
		return reply(cmd, buf, sizeof(struct scsi_sense_desc_header), cmd->cdb[4]);
	}
	vblk_scsi_build_sense(buf, sizeof(buf), &none);
	return reply(cmd, buf, sizeof(buf), cmd->cdb[4]);
}

static enum vblk_action do_report_luns(struct vblk_scsi_cmd *cmd)
{
	uint8_t buf[sizeof(struct scsi_report_luns_header) + sizeof(struct scsi_lun_entry)];
	struct scsi_report_luns_header *h = (struct scsi_report_luns_header *)buf;
	uint32_t alloc = scsi_get_be32(cmd->cdb + 6);
	uint32_t luns;

	switch (cmd->cdb[2]) {
	case 0x00:      /* all logical units */
	case 0x02:
		luns = 1;
		break;
	case 0x01:      /* well-known logical units: none */
		luns = 0;
		break;
	default:
		return invalid_cdb(cmd, 2);
	}
	/* SPC-4 6.33: an allocation length below 16 is an error. */
	if (alloc < 16)
		return invalid_cdb(cmd, 6);
	__builtin_memset(buf, 0, sizeof(buf));
	scsi_put_be32(h->lun_list_length, luns * (uint32_t)sizeof(struct scsi_lun_entry));
	return reply(cmd, buf, (uint32_t)sizeof(*h) + luns * (uint32_t)sizeof(struct scsi_lun_entry),
		     alloc);
}

static enum vblk_action do_start_stop(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd)
{
	uint8_t flags = cmd->cdb[4];

	/* A stop is the last chance to get cached data onto the medium (unless NO_FLUSH). */
	if (!(flags & (SCSI_CDB_SSU_START | SCSI_CDB_SSU_NO_FLUSH)) &&
	    !(flags >> SCSI_CDB_SSU_POWER_COND_SHIFT) && disk->write_cache && disk->flush)
		return request(cmd, VIRTIO_BLK_T_FLUSH);
	return complete(cmd, 0);
}

/* ------------------------------------------------------------ dispatch */
enum vblk_action vblk_scsi_execute(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd)
{
	const uint8_t *c;
	unsigned int need;

	if (!cmd)
		return VBLK_ACTION_CHECK_CONDITION;
	if (!disk || !cmd->cdb || !cmd->cdb_length)
		return internal_error(cmd);
	/* Only vblk_disk_from_config() output is valid here; refuse anything else. */
	if (disk->block_size < VIRTIO_BLK_SECTOR_SIZE || disk->block_size > VBLK_MAX_BLOCK_SIZE ||
	    (disk->block_size & (disk->block_size - 1)))
		return internal_error(cmd);
	c = cmd->cdb;
	need = scsi_cdb_length(c[0]);
	if (!need)
		return invalid_opcode(cmd);
	if (cmd->cdb_length < need)
		return invalid_cdb(cmd, 0);
	/* NACA and the obsolete LINK bit in the control byte are not supported. */
	if (c[need - 1] & 0x05)
		return invalid_cdb(cmd, need - 1);

	switch (c[0]) {
	case SCSIOP_TEST_UNIT_READY:
		return complete(cmd, 0);
	case SCSIOP_REQUEST_SENSE:
		return do_request_sense(cmd);
	case SCSIOP_INQUIRY:
		return do_inquiry(disk, cmd);
	case SCSIOP_START_STOP_UNIT:
		return do_start_stop(disk, cmd);
	case SCSIOP_REPORT_LUNS:
		return do_report_luns(cmd);
	case SCSIOP_MODE_SENSE:
	case SCSIOP_MODE_SENSE10:
		return do_mode_sense(disk, cmd);
	case SCSIOP_READ_CAPACITY:
		return do_read_capacity10(disk, cmd);
	case SCSIOP_SERVICE_ACTION_IN16:
		if ((c[1] & SCSI_SA_MASK) != SCSI_SAI_READ_CAPACITY16)
			return invalid_cdb(cmd, 1);
		return do_read_capacity16(disk, cmd);

	case SCSIOP_READ6:
	case SCSIOP_WRITE6: {
		uint32_t lba = (uint32_t)(c[1] & 0x1F) << 16 | scsi_get_be16(c + 2);

		return do_read_write(disk, cmd, lba, c[4] ? c[4] : 256,
				     c[0] == SCSIOP_WRITE6, false, 4);
	}
	case SCSIOP_READ:
	case SCSIOP_WRITE:
		return do_read_write(disk, cmd, scsi_get_be32(c + 2), scsi_get_be16(c + 7),
				     c[0] == SCSIOP_WRITE, c[1] & SCSI_CDB_FUA, 7);
	case SCSIOP_READ12:
	case SCSIOP_WRITE12:
		return do_read_write(disk, cmd, scsi_get_be32(c + 2), scsi_get_be32(c + 6),
				     c[0] == SCSIOP_WRITE12, c[1] & SCSI_CDB_FUA, 6);
	case SCSIOP_READ16:
	case SCSIOP_WRITE16:
		return do_read_write(disk, cmd, scsi_get_be64(c + 2), scsi_get_be32(c + 10),
				     c[0] == SCSIOP_WRITE16, c[1] & SCSI_CDB_FUA, 10);

	case SCSIOP_VERIFY:
		return do_verify(disk, cmd, scsi_get_be32(c + 2), scsi_get_be16(c + 7));
	case SCSIOP_VERIFY12:
		return do_verify(disk, cmd, scsi_get_be32(c + 2), scsi_get_be32(c + 6));
	case SCSIOP_VERIFY16:
		return do_verify(disk, cmd, scsi_get_be64(c + 2), scsi_get_be32(c + 10));

	case SCSIOP_SYNCHRONIZE_CACHE:
		return do_sync_cache(disk, cmd, scsi_get_be32(c + 2), scsi_get_be16(c + 7));
	case SCSIOP_SYNCHRONIZE_CACHE16:
		return do_sync_cache(disk, cmd, scsi_get_be64(c + 2), scsi_get_be32(c + 10));

	case SCSIOP_UNMAP:
		return do_unmap(disk, cmd);
	case SCSIOP_WRITE_SAME:
		return do_write_same(disk, cmd, scsi_get_be32(c + 2), scsi_get_be16(c + 7), 7);
	case SCSIOP_WRITE_SAME16:
		return do_write_same(disk, cmd, scsi_get_be64(c + 2), scsi_get_be32(c + 10), 10);

	default:
		return invalid_opcode(cmd);
	}
}

void vblk_scsi_get_id(struct vblk_scsi_cmd *cmd)
{
	request(cmd, VIRTIO_BLK_T_GET_ID);
	cmd->req.length = VIRTIO_BLK_ID_BYTES;
}

enum vblk_action vblk_scsi_complete(struct vblk_scsi_cmd *cmd, uint8_t virtio_status)
{
	uint32_t type = cmd->req.type;

	switch (virtio_status) {
	case VIRTIO_BLK_S_OK:
		return complete(cmd, (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ||
				      type == VIRTIO_BLK_T_GET_ID) ? cmd->req.length : 0);
	case VIRTIO_BLK_S_IOERR:
		if (type == VIRTIO_BLK_T_IN)
			return check_condition(cmd, SCSI_SENSE_MEDIUM_ERROR,
					       SCSI_ASC_UNRECOVERED_READ_ERROR, 0);
		if (type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_FLUSH ||
		    type == VIRTIO_BLK_T_WRITE_ZEROES)
			return check_condition(cmd, SCSI_SENSE_MEDIUM_ERROR,
					       SCSI_ASC_WRITE_ERROR, 0);
		return check_condition(cmd, SCSI_SENSE_HARDWARE_ERROR,
				       SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	case VIRTIO_BLK_S_UNSUPP:
		return invalid_opcode(cmd);
	default:
		/* Not a value the spec allows for these requests. */
		return check_condition(cmd, SCSI_SENSE_HARDWARE_ERROR,
				       SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	}
}

bool vblk_scsi_unit_attention_applies(const struct vblk_scsi_cmd *cmd)
{
	if (!cmd || !cmd->cdb || !cmd->cdb_length)
		return false;
	switch (cmd->cdb[0]) {
	case SCSIOP_INQUIRY:
	case SCSIOP_REPORT_LUNS:
	case SCSIOP_REQUEST_SENSE:
		return false;
	default:
		return true;
	}
}

bool vblk_scsi_unit_attention(struct vblk_scsi_cmd *cmd)
{
	if (!vblk_scsi_unit_attention_applies(cmd))
		return false;
	check_condition(cmd, SCSI_SENSE_UNIT_ATTENTION, SCSI_ASC_PARAMETERS_CHANGED,
			SCSI_ASCQ_CAPACITY_DATA_CHANGED);
	return true;
}

uint8_t vblk_scsi_srb_status(enum vblk_action action)
{
	switch (action) {
	case VBLK_ACTION_COMPLETE:
		return VBLK_SRB_STATUS_SUCCESS;
	case VBLK_ACTION_CHECK_CONDITION:
		return VBLK_SRB_STATUS_ERROR;
	default:
		/* A request still to be issued has no final status. */
		return VBLK_SRB_STATUS_INVALID_REQUEST;
	}
}

uint32_t vblk_scsi_build_sense(uint8_t *buf, uint32_t length, const struct vblk_sense *sense)
{
	uint8_t s[sizeof(struct scsi_sense_fixed)];
	uint32_t n;

	if (!buf || !sense)
		return 0;
	__builtin_memset(s, 0, sizeof(s));
	s[0] = SCSI_SENSE_RESPONSE_FIXED_CURRENT;
	s[2] = sense->key & SCSI_SENSE_KEY_MASK;
	s[7] = sizeof(s) - 8;
	s[12] = sense->asc;
	s[13] = sense->ascq;
	if (sense->field_valid) {
		s[15] = (uint8_t)(SCSI_SENSE_SKSV | (sense->field_in_cdb ? SCSI_SENSE_SKS_CD : 0));
		scsi_put_be16(s + 16, sense->field);
	}
	n = min_u32(length, sizeof(s));
	__builtin_memcpy(buf, s, n);
	return n;
}
