/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the portable SCSI translation of vdpblk (src/blk/blk_scsi.c):
 * device configuration parsing, every supported command with good and bad
 * CDBs, the virtio-blk status mapping and the sense data builder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "blk_scsi.h"

#define FEAT(bit) (1ull << (bit))

/* Features of the default test disk. */
#define DEFAULT_FEATURES (FEAT(VIRTIO_BLK_F_SIZE_MAX) | FEAT(VIRTIO_BLK_F_SEG_MAX) | \
			  FEAT(VIRTIO_BLK_F_BLK_SIZE) | FEAT(VIRTIO_BLK_F_FLUSH) |   \
			  FEAT(VIRTIO_BLK_F_TOPOLOGY) | FEAT(VIRTIO_BLK_F_DISCARD) | \
			  FEAT(VIRTIO_BLK_F_WRITE_ZEROES))

static struct virtio_blk_config default_config(void)
{
	struct virtio_blk_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = cpu_to_le64(2097152);            /* 1 GiB */
	cfg.size_max = cpu_to_le32(65536);
	cfg.seg_max = cpu_to_le32(126);
	cfg.blk_size = cpu_to_le32(512);
	cfg.topology.physical_block_exp = 3;            /* 4K physical */
	cfg.topology.alignment_offset = 0;
	cfg.topology.min_io_size = cpu_to_le16(8);
	cfg.topology.opt_io_size = cpu_to_le32(256);
	cfg.max_discard_sectors = cpu_to_le32(1 << 20);
	cfg.max_discard_seg = cpu_to_le32(8);
	cfg.discard_sector_alignment = cpu_to_le32(8);
	cfg.max_write_zeroes_sectors = cpu_to_le32(1 << 16);
	cfg.max_write_zeroes_seg = cpu_to_le32(1);
	cfg.write_zeroes_may_unmap = 1;
	return cfg;
}

static struct vblk_disk make_disk(uint64_t features, const struct virtio_blk_config *cfg)
{
	struct vblk_disk disk;

	assert_int_equal(vblk_disk_from_config(&disk, cfg, features), 0);
	vblk_disk_set_vendor(&disk, "ACME");
	return disk;
}

static struct vblk_disk default_disk(void)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk disk = make_disk(DEFAULT_FEATURES, &cfg);

	vblk_disk_set_serial(&disk, (const uint8_t *)"SN-0001", 7);
	return disk;
}

/* 4K logical blocks, 8 GiB. */
static struct vblk_disk disk_4k(void)
{
	struct virtio_blk_config cfg = default_config();

	cfg.capacity = cpu_to_le64(16777216);
	cfg.blk_size = cpu_to_le32(4096);
	cfg.topology.physical_block_exp = 0;
	return make_disk(DEFAULT_FEATURES, &cfg);
}

static struct vblk_range ranges[16];
static uint8_t data[8192];

static void cmd_init(struct vblk_scsi_cmd *cmd, const uint8_t *cdb, uint32_t cdb_length,
		     uint32_t data_length)
{
	memset(cmd, 0xA5, sizeof(*cmd));        /* outputs must all be written */
	cmd->cdb = cdb;
	cmd->cdb_length = cdb_length;
	cmd->data = data;
	cmd->data_length = data_length;
	cmd->ranges = ranges;
	cmd->max_ranges = 16;
	memset(ranges, 0xA5, sizeof(ranges));
}

static enum vblk_action run(const struct vblk_disk *disk, struct vblk_scsi_cmd *cmd,
			    const uint8_t *cdb, uint32_t cdb_length, uint32_t data_length)
{
	cmd_init(cmd, cdb, cdb_length, data_length);
	return vblk_scsi_execute(disk, cmd);
}

#define RUN(disk, cmd, len, ...) \
	run((disk), (cmd), (const uint8_t[16]){ __VA_ARGS__ }, 16, (len))

static void expect_sense(const struct vblk_scsi_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq)
{
	assert_int_equal(cmd->action, VBLK_ACTION_CHECK_CONDITION);
	assert_int_equal(cmd->sense.key, key);
	assert_int_equal(cmd->sense.asc, asc);
	assert_int_equal(cmd->sense.ascq, ascq);
	assert_int_equal(cmd->data_transferred, 0);
}

static void expect_invalid_cdb(const struct vblk_scsi_cmd *cmd, uint16_t byte)
{
	expect_sense(cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, 0);
	assert_true(cmd->sense.field_valid);
	assert_true(cmd->sense.field_in_cdb);
	assert_int_equal(cmd->sense.field, byte);
}

static void expect_invalid_param(const struct vblk_scsi_cmd *cmd, uint16_t byte)
{
	expect_sense(cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_PARAM, 0);
	assert_true(cmd->sense.field_valid);
	assert_false(cmd->sense.field_in_cdb);
	assert_int_equal(cmd->sense.field, byte);
}

static void expect_invalid_opcode(const struct vblk_scsi_cmd *cmd)
{
	expect_sense(cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPCODE, 0);
}

static void expect_complete(const struct vblk_scsi_cmd *cmd, uint32_t transferred)
{
	assert_int_equal(cmd->action, VBLK_ACTION_COMPLETE);
	assert_int_equal(cmd->data_transferred, transferred);
}

static void expect_request(const struct vblk_scsi_cmd *cmd, uint32_t type)
{
	assert_int_equal(cmd->action, VBLK_ACTION_REQUEST);
	assert_int_equal(cmd->req.type, type);
}

/* ================================================================ configuration */
static void test_config_defaults(void **state)
{
	struct vblk_disk d = default_disk();

	(void)state;
	assert_true(d.capacity_sectors == 2097152);
	assert_int_equal(d.block_size, 512);
	assert_true(vblk_disk_blocks(&d) == 2097152);
	assert_int_equal(d.physical_block_exp, 3);
	assert_int_equal(d.min_io_blocks, 8);
	assert_int_equal(d.opt_io_blocks, 256);
	assert_false(d.read_only);
	assert_true(d.flush);
	assert_true(d.write_cache);             /* FLUSH without CONFIG_WCE: write-back */
	assert_true(d.discard);
	assert_int_equal(d.max_discard_sectors, 1 << 20);
	assert_int_equal(d.max_discard_ranges, 8);
	assert_int_equal(d.discard_granularity, 8);
	assert_true(d.write_zeroes);
	assert_true(d.write_zeroes_may_unmap);
	assert_int_equal(d.max_segments, 126);
	assert_int_equal(d.max_transfer_bytes, 125 * 4096);
	assert_string_equal(d.serial, "SN-0001");
}

static void test_config_minimal(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d = make_disk(0, &cfg);

	(void)state;
	/* Nothing negotiated: only capacity counts, defaults elsewhere. */
	assert_int_equal(d.block_size, 512);
	assert_int_equal(d.physical_block_exp, 0);
	assert_false(d.flush);
	assert_false(d.write_cache);
	assert_false(d.discard);
	assert_false(d.write_zeroes);
	assert_int_equal(d.max_segments, VBLK_MAX_SEGMENTS);
	assert_int_equal(d.max_transfer_bytes, (VBLK_MAX_SEGMENTS - 1) * 4096);
	assert_int_equal(d.serial_length, 0);
}

static void test_config_bad_block_size(void **state)
{
	static const uint32_t bad[] = { 0, 256, 511, 1000, 3072, 131072 };
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;
	size_t i;

	(void)state;
	/* Requests address 512-byte sectors anyway: fall back to them, and say so. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.blk_size = cpu_to_le32(bad[i]);
		assert_int_equal(vblk_disk_from_config(&d, &cfg, DEFAULT_FEATURES), 0);
		assert_int_equal(d.block_size, 512);
		assert_true(d.fixups & VBLK_FIX_BLK_SIZE);
	}
	/* Without the feature the field is ignored. */
	assert_int_equal(vblk_disk_from_config(&d, &cfg, FEAT(VIRTIO_BLK_F_FLUSH)), 0);
	assert_int_equal(d.block_size, 512);
	cfg.blk_size = cpu_to_le32(65536);
	assert_int_equal(vblk_disk_from_config(&d, &cfg, DEFAULT_FEATURES), 0);
	assert_int_equal(vblk_disk_from_config(NULL, &cfg, 0), -1);
	assert_int_equal(vblk_disk_from_config(&d, NULL, 0), -1);
}

static void test_config_bad_capacity(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;

	(void)state;
	cfg.capacity = cpu_to_le64(UINT64_MAX);
	assert_int_equal(vblk_disk_from_config(&d, &cfg, DEFAULT_FEATURES), -1);
	cfg.capacity = cpu_to_le64(UINT64_MAX >> 9);
	assert_int_equal(vblk_disk_from_config(&d, &cfg, DEFAULT_FEATURES), 0);
	/* A capacity that is not a whole number of 4K blocks is rounded down. */
	cfg.capacity = cpu_to_le64(8 * 10 + 7);
	cfg.blk_size = cpu_to_le32(4096);
	assert_int_equal(vblk_disk_from_config(&d, &cfg, DEFAULT_FEATURES), 0);
	assert_true(vblk_disk_blocks(&d) == 10);
}

/* Zero or absurd values get safe defaults and a VBLK_FIX_* bit for the log line. */
static void test_config_fixups(void **state)
{
	struct virtio_blk_config cfg = default_config();
	uint64_t all = DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_SEG_MAX) | FEAT(VIRTIO_BLK_F_SIZE_MAX);
	struct vblk_disk d;

	(void)state;
	d = make_disk(all, &cfg);
	assert_int_equal(d.fixups, 0);

	cfg.seg_max = 0;
	cfg.size_max = cpu_to_le32(100);
	d = make_disk(all, &cfg);
	assert_int_equal(d.fixups, VBLK_FIX_SEG_MAX | VBLK_FIX_SIZE_MAX);
	assert_int_equal(d.max_segments, VBLK_MAX_SEGMENTS);
	assert_true(d.max_transfer_bytes >= 4096);

	cfg = default_config();
	cfg.max_discard_sectors = 0;
	cfg.max_write_zeroes_seg = 0;
	d = make_disk(all, &cfg);
	assert_int_equal(d.fixups, VBLK_FIX_DISCARD | VBLK_FIX_WRITE_ZEROES);
	assert_false(d.discard);
	assert_false(d.write_zeroes);

	/* An absurd discard alignment is ignored, discard itself stays. */
	cfg = default_config();
	cfg.discard_sector_alignment = cpu_to_le32(0xFFFFFFFFu);
	d = make_disk(all, &cfg);
	assert_int_equal(d.fixups, VBLK_FIX_DISCARD);
	assert_true(d.discard);
	assert_int_equal(d.discard_granularity, 1);

	/* Optimal I/O of 2 TiB is not a hint anyone can use. */
	cfg = default_config();
	cfg.topology.opt_io_size = cpu_to_le32(0xFFFFFFFFu);
	d = make_disk(all, &cfg);
	assert_int_equal(d.fixups, VBLK_FIX_TOPOLOGY);
	assert_int_equal(d.opt_io_blocks, 0);
	assert_int_equal(d.min_io_blocks, 0);
	assert_int_equal(d.physical_block_exp, 3);
}

static void test_config_topology_validated(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;

	(void)state;
	cfg.topology.physical_block_exp = 20;
	cfg.topology.alignment_offset = 1;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.physical_block_exp, 0);
	assert_int_equal(d.alignment_offset, 0);

	cfg.topology.physical_block_exp = 3;
	cfg.topology.alignment_offset = 8;      /* must be below 2^3 */
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.physical_block_exp, 3);
	assert_int_equal(d.alignment_offset, 0);

	cfg.topology.alignment_offset = 7;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.alignment_offset, 7);
}

static void test_config_cache_modes(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;

	(void)state;
	cfg.writeback = 0;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE), &cfg);
	assert_true(d.flush);
	assert_false(d.write_cache);
	cfg.writeback = 1;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE), &cfg);
	assert_true(d.write_cache);
	/* Out-of-spec values are treated as write-back: flushing is the safe side. */
	cfg.writeback = 0x80;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE), &cfg);
	assert_true(d.write_cache);
}

static void test_config_discard_limits(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;

	(void)state;
	cfg.max_discard_sectors = 0;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_false(d.discard);

	cfg = default_config();
	cfg.max_discard_seg = 0;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_false(d.discard);

	cfg = default_config();
	cfg.max_discard_seg = cpu_to_le32(100000);
	cfg.discard_sector_alignment = 0;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_discard_ranges, VBLK_MAX_DISCARD_RANGES);
	assert_int_equal(d.discard_granularity, 1);

	/* 4K blocks: limits are rounded down to whole blocks, below one block is off. */
	cfg = default_config();
	cfg.blk_size = cpu_to_le32(4096);
	cfg.max_discard_sectors = cpu_to_le32(20);
	cfg.max_write_zeroes_sectors = cpu_to_le32(7);
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_discard_sectors, 16);
	assert_false(d.write_zeroes);

	cfg = default_config();
	cfg.max_write_zeroes_seg = 0;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_false(d.write_zeroes);
}

static void test_config_read_only(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_RO), &cfg);

	(void)state;
	assert_true(d.read_only);
	assert_false(d.discard);
	assert_false(d.write_zeroes);
}

static void test_config_segments(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;

	(void)state;
	cfg.seg_max = cpu_to_le32(1);
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_segments, 1);
	assert_int_equal(d.max_transfer_bytes, 4096);

	cfg.seg_max = cpu_to_le32(0);           /* bogus: ignored */
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_segments, VBLK_MAX_SEGMENTS);

	cfg.seg_max = cpu_to_le32(17);
	cfg.size_max = cpu_to_le32(1024);       /* 4 descriptors per page */
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_transfer_bytes, 3 * 4096);

	cfg.size_max = cpu_to_le32(100);        /* below a sector: ignored */
	d = make_disk(DEFAULT_FEATURES, &cfg);
	assert_int_equal(d.max_transfer_bytes, 16 * 4096);

	cfg = default_config();
	cfg.blk_size = cpu_to_le32(65536);
	cfg.seg_max = cpu_to_le32(4);
	d = make_disk(DEFAULT_FEATURES, &cfg);
	/* Never below one block, always whole blocks. */
	assert_int_equal(d.max_transfer_bytes, 65536);
}

static void test_serial(void **state)
{
	struct vblk_disk d = default_disk();
	const uint8_t full[20] = "ABCDEFGHIJKLMNOPQRST";
	const uint8_t odd[8] = { ' ', 'a', 0x01, 'b', 0xFF, ' ', ' ', 0 };

	(void)state;
	vblk_disk_set_serial(&d, full, sizeof(full));
	assert_int_equal(d.serial_length, 20);
	assert_string_equal(d.serial, "ABCDEFGHIJKLMNOPQRST");

	vblk_disk_set_serial(&d, full, 64);     /* longer than GET_ID can be */
	assert_int_equal(d.serial_length, 20);

	/* Garbage is not a serial number: none rather than a made-up one. */
	assert_false(vblk_disk_set_serial(&d, odd, sizeof(odd)));
	assert_int_equal(d.serial_length, 0);
	assert_string_equal(d.serial, "");
	/* Bytes after the NUL padding started: garbage too. */
	assert_false(vblk_disk_set_serial(&d, (const uint8_t *)"AB\0C", 4));
	assert_int_equal(d.serial_length, 0);
	assert_true(vblk_disk_set_serial(&d, (const uint8_t *)" SN 1 \0\0", 8));
	assert_string_equal(d.serial, "SN 1");

	vblk_disk_set_serial(&d, (const uint8_t *)"\0XYZ", 4);
	assert_int_equal(d.serial_length, 0);
	vblk_disk_set_serial(&d, (const uint8_t *)"    ", 4);
	assert_int_equal(d.serial_length, 0);
	vblk_disk_set_serial(&d, NULL, 4);
	assert_string_equal(d.serial, "");
}

/* ================================================================ generic CDB checks */
static void test_bad_cdbs(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	const uint8_t read10[10] = { SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

	(void)state;
	/* CDB shorter than its group code says */
	run(&d, &cmd, read10, 6, 512);
	expect_invalid_cdb(&cmd, 0);
	/* NACA in the control byte */
	RUN(&d, &cmd, 0, SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0x04);
	expect_invalid_cdb(&cmd, 5);
	/* LINK in the control byte of a 10-byte CDB */
	RUN(&d, &cmd, 512, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 1, 0x01);
	expect_invalid_cdb(&cmd, 9);
	/* vendor-specific group and plain unsupported opcodes */
	RUN(&d, &cmd, 0, 0xC0);
	expect_invalid_opcode(&cmd);
	RUN(&d, &cmd, 0, SCSIOP_MEDIUM_REMOVAL);
	expect_invalid_opcode(&cmd);
	RUN(&d, &cmd, 0, SCSIOP_FORMAT_UNIT);
	expect_invalid_opcode(&cmd);
	RUN(&d, &cmd, 0, SCSIOP_WRITE_VERIFY);
	expect_invalid_opcode(&cmd);
	RUN(&d, &cmd, 0, SCSIOP_MODE_SELECT);
	expect_invalid_opcode(&cmd);
	/* no CDB at all */
	run(&d, &cmd, read10, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	assert_int_equal(vblk_scsi_execute(&d, NULL), VBLK_ACTION_CHECK_CONDITION);
	run(NULL, &cmd, read10, 10, 512);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	/* a disk that did not come from vblk_disk_from_config() */
	d.block_size = 0;
	run(&d, &cmd, read10, 10, 512);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
}

static void test_test_unit_ready(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 0, SCSIOP_TEST_UNIT_READY);
	expect_complete(&cmd, 0);
	/* an exact 6-byte CDB is enough */
	run(&d, &cmd, (const uint8_t[6]){ 0 }, 6, 0);
	expect_complete(&cmd, 0);
}

/* ================================================================ INQUIRY */
static void test_inquiry_standard(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct scsi_inquiry_std *inq = (struct scsi_inquiry_std *)data;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0, 0, 0, 255, 0);
	expect_complete(&cmd, 96);
	assert_int_equal(inq->peripheral, 0);
	assert_int_equal(inq->rmb, 0);
	assert_int_equal(inq->version, SCSI_VERSION_SPC4);
	assert_int_equal(inq->response_format & 0x0F, 2);
	assert_true(inq->response_format & SCSI_INQ_HISUP);
	assert_int_equal(inq->additional_length, 91);
	assert_true(inq->flags7 & SCSI_INQ_CMDQUE);
	assert_memory_equal(inq->vendor_id, "ACME    ", 8);
	assert_memory_equal(inq->product_id, "VirtIO Block Dev", 16);
	assert_memory_equal(inq->product_revision, "0001", 4);

	/* truncated to the allocation length, then to the buffer */
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0, 0, 0, 36, 0);
	expect_complete(&cmd, 36);
	RUN(&d, &cmd, 5, SCSIOP_INQUIRY, 0, 0, 0, 255, 0);
	expect_complete(&cmd, 5);
	/* 16-bit allocation length */
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0, 0, 0x01, 0x00, 0);
	expect_complete(&cmd, 96);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0, 0, 0, 0, 0);
	expect_complete(&cmd, 0);
}

static void test_inquiry_bad(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0, 0x80, 0, 255, 0);   /* page without EVPD */
	expect_invalid_cdb(&cmd, 2);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 0x02, 0, 0, 255, 0);   /* CMDDT */
	expect_invalid_cdb(&cmd, 1);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x89, 0, 255, 0);   /* unsupported VPD */
	expect_invalid_cdb(&cmd, 2);
	/* glue bug: data expected but no buffer */
	cmd_init(&cmd, (const uint8_t[6]){ SCSIOP_INQUIRY, 0, 0, 0, 36, 0 }, 6, 36);
	cmd.data = NULL;
	vblk_scsi_execute(&d, &cmd);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
}

static void test_vpd_supported_pages(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	const uint8_t expect[] = { 0, 0, 0, 6, 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2 };

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x00, 0, 255, 0);
	expect_complete(&cmd, sizeof(expect));
	assert_memory_equal(data, expect, sizeof(expect));
}

static void test_vpd_serial(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x80, 0, 255, 0);
	expect_complete(&cmd, 4 + 7);
	assert_int_equal(data[1], 0x80);
	assert_int_equal(scsi_get_be16(data + 2), 7);
	assert_memory_equal(data + 4, "SN-0001", 7);

	vblk_disk_set_serial(&d, NULL, 0);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x80, 0, 255, 0);
	expect_complete(&cmd, 4);
	assert_int_equal(scsi_get_be16(data + 2), 0);
}

static void test_vpd_device_id(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x83, 0, 255, 0);
	expect_complete(&cmd, 4 + 4 + 8 + 7);
	assert_int_equal(data[1], 0x83);
	assert_int_equal(scsi_get_be16(data + 2), 4 + 8 + 7);
	assert_int_equal(data[4], SCSI_VPD_CODESET_ASCII);
	assert_int_equal(data[5], SCSI_VPD_ASSOC_LUN | SCSI_VPD_ID_T10_VENDOR);
	assert_int_equal(data[7], 15);
	assert_memory_equal(data + 8, "ACME    SN-0001", 15);

	vblk_disk_set_serial(&d, NULL, 0);      /* falls back to the product id */
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x83, 0, 255, 0);
	expect_complete(&cmd, 4 + 4 + 24);
	assert_memory_equal(data + 8, "ACME    VirtIO Block Dev", 24);
}

static void test_vpd_block_limits(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct scsi_vpd_block_limits *p = (struct scsi_vpd_block_limits *)data;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB0, 0, 255, 0);
	expect_complete(&cmd, 64);
	assert_int_equal(p->header.page_code, 0xB0);
	assert_int_equal(scsi_get_be16(p->header.page_length), 0x3C);
	assert_int_equal(p->flags & 1, 1);                                  /* WSNZ */
	assert_int_equal(scsi_get_be16(p->optimal_transfer_granularity), 8);
	assert_int_equal(scsi_get_be32(p->max_transfer_length), 125 * 8);
	assert_int_equal(scsi_get_be32(p->optimal_transfer_length), 256);
	assert_int_equal(scsi_get_be32(p->max_unmap_lba_count), 1 << 20);
	assert_int_equal(scsi_get_be32(p->max_unmap_descriptor_count), 8);
	assert_int_equal(scsi_get_be32(p->optimal_unmap_granularity), 8);
	assert_true(scsi_get_be64(p->max_write_same_length) == (1 << 16));

	/* 4K blocks: every count is in logical blocks */
	d = disk_4k();
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB0, 0, 255, 0);
	assert_int_equal(scsi_get_be32(p->max_transfer_length), 125);
	assert_int_equal(scsi_get_be32(p->max_unmap_lba_count), (1 << 20) / 8);
	assert_int_equal(scsi_get_be32(p->optimal_unmap_granularity), 1);
	assert_true(scsi_get_be64(p->max_write_same_length) == (1 << 16) / 8);

	/* no discard, no write zeroes: the fields stay 0 */
	{
		struct virtio_blk_config cfg = default_config();

		d = make_disk(FEAT(VIRTIO_BLK_F_FLUSH), &cfg);
	}
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB0, 0, 255, 0);
	assert_int_equal(scsi_get_be32(p->max_unmap_lba_count), 0);
	assert_int_equal(scsi_get_be32(p->max_unmap_descriptor_count), 0);
	assert_true(scsi_get_be64(p->max_write_same_length) == 0);
	assert_int_equal(scsi_get_be16(p->optimal_transfer_granularity), 1);
}

static void test_vpd_characteristics_and_provisioning(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB1, 0, 255, 0);
	expect_complete(&cmd, 64);
	assert_int_equal(scsi_get_be16(data + 2), 0x3C);
	assert_int_equal(scsi_get_be16(data + 4), SCSI_VPD_B1_NON_ROTATING);

	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB2, 0, 255, 0);
	expect_complete(&cmd, 8);
	assert_int_equal(scsi_get_be16(data + 2), 4);
	assert_int_equal(data[5], SCSI_VPD_B2_LBPU | SCSI_VPD_B2_LBPWS | SCSI_VPD_B2_LBPWS10);
	assert_int_equal(data[6] & 7, SCSI_VPD_B2_TYPE_THIN);

	d = make_disk(FEAT(VIRTIO_BLK_F_FLUSH), &cfg);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB1, 0, 255, 0);
	assert_int_equal(scsi_get_be16(data + 4), 0);
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0xB2, 0, 255, 0);
	assert_int_equal(data[5], 0);
	assert_int_equal(data[6] & 7, SCSI_VPD_B2_TYPE_FULL);
}

/* ================================================================ READ CAPACITY */
static void test_read_capacity10(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY);
	expect_complete(&cmd, 8);
	assert_int_equal(scsi_get_be32(data), 2097151);
	assert_int_equal(scsi_get_be32(data + 4), 512);

	d = disk_4k();
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY);
	assert_int_equal(scsi_get_be32(data), 16777216 / 8 - 1);
	assert_int_equal(scsi_get_be32(data + 4), 4096);

	/* more than 2^32 blocks: the initiator must use READ CAPACITY(16) */
	cfg.capacity = cpu_to_le64(0x200000000ull);
	d = make_disk(DEFAULT_FEATURES, &cfg);
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY);
	assert_int_equal(scsi_get_be32(data), 0xFFFFFFFFu);

	/* LBA without PMI */
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY, 0, 0, 0, 0, 1, 0, 0, 0, 0);
	expect_invalid_cdb(&cmd, 2);
	/* with PMI the LBA is ignored */
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY, 0, 0, 0, 0, 1, 0, 0, 1, 0);
	expect_complete(&cmd, 8);
	/* short buffer */
	RUN(&d, &cmd, 4, SCSIOP_READ_CAPACITY);
	expect_complete(&cmd, 4);

	/* empty disk */
	cfg.capacity = 0;
	d = make_disk(DEFAULT_FEATURES, &cfg);
	RUN(&d, &cmd, 8, SCSIOP_READ_CAPACITY);
	expect_sense(&cmd, SCSI_SENSE_NOT_READY, SCSI_ASC_MEDIUM_NOT_PRESENT, 0);
}

static void test_read_capacity16(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct scsi_read_capacity16_data *rc = (struct scsi_read_capacity16_data *)data;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 32, 0, 0);
	expect_complete(&cmd, 32);
	assert_true(scsi_get_be64(rc->last_lba) == 2097151);
	assert_int_equal(scsi_get_be32(rc->block_length), 512);
	assert_int_equal(rc->exponents & 0x0F, 3);
	assert_int_equal(rc->lowest_aligned[0] & SCSI_RC16_LBPME, SCSI_RC16_LBPME);
	assert_int_equal(scsi_get_be16(rc->lowest_aligned) & 0x3FFF, 0);

	cfg.capacity = cpu_to_le64(0x200000000ull);
	cfg.topology.alignment_offset = 7;
	d = make_disk(FEAT(VIRTIO_BLK_F_TOPOLOGY), &cfg);
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 12, 0, 0);
	expect_complete(&cmd, 12);              /* allocation length 12 */
	assert_true(scsi_get_be64(rc->last_lba) == 0x1FFFFFFFFull);
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 32, 0, 0);
	assert_int_equal(scsi_get_be16(rc->lowest_aligned), 7);  /* no LBPME */

	/* other service actions are not supported */
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, SCSI_SAI_GET_LBA_STATUS, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 32, 0, 0);
	expect_invalid_cdb(&cmd, 1);
	/* LBA without PMI */
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 5,
	    0, 0, 0, 32, 0, 0);
	expect_invalid_cdb(&cmd, 2);
	/* empty disk */
	cfg.capacity = 0;
	d = make_disk(0, &cfg);
	RUN(&d, &cmd, 32, SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 32, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_NOT_READY, SCSI_ASC_MEDIUM_NOT_PRESENT, 0);
}

/* ================================================================ MODE SENSE */
static void test_mode_sense6_caching(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0x08, 0, 255, 0);
	expect_complete(&cmd, 4 + 8 + 20);
	assert_int_equal(data[0], 4 + 8 + 20 - 1);
	assert_int_equal(data[2], SCSI_MODE_DSP_DPOFUA);
	assert_int_equal(data[3], 8);
	assert_int_equal(scsi_get_be32(data + 4), 2097152);
	assert_int_equal(scsi_get_be24(data + 9), 512);
	assert_int_equal(data[12], 0x08);
	assert_int_equal(data[13], 0x12);
	assert_int_equal(data[14], SCSI_CACHING_WCE);

	/* DBD: no block descriptor */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x08, 0, 255, 0);
	expect_complete(&cmd, 4 + 20);
	assert_int_equal(data[3], 0);
	assert_int_equal(data[4], 0x08);
	assert_int_equal(data[6], SCSI_CACHING_WCE);

	/* changeable values: nothing */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x48, 0, 255, 0);
	expect_complete(&cmd, 4 + 20);
	assert_int_equal(data[6], 0);

	/* default values equal current ones */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x88, 0, 255, 0);
	assert_int_equal(data[6], SCSI_CACHING_WCE);
}

static void test_mode_sense_write_through_and_ro(void **state)
{
	struct virtio_blk_config cfg = default_config();
	struct vblk_disk d;
	struct vblk_scsi_cmd cmd;

	(void)state;
	cfg.writeback = 0;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE) | FEAT(VIRTIO_BLK_F_RO),
		      &cfg);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x08, 0, 255, 0);
	expect_complete(&cmd, 24);
	assert_int_equal(data[2], SCSI_MODE_DSP_WP | SCSI_MODE_DSP_DPOFUA);
	assert_int_equal(data[6], 0);
}

static void test_mode_sense_all_pages(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x3F, 0, 255, 0);
	expect_complete(&cmd, 4 + 20 + 12);
	assert_int_equal(data[0], 35);
	assert_int_equal(data[4], 0x08);
	assert_int_equal(data[24], 0x0A);
	assert_int_equal(data[25], 0x0A);
	assert_int_equal(data[27], SCSI_CONTROL_QAM_UNRESTRICTED);
	/* all pages and subpages is the same here */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x3F, 0xFF, 255, 0);
	expect_complete(&cmd, 36);
	/* control page alone */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, SCSI_CDB_MODE_DBD, 0x0A, 0, 255, 0);
	expect_complete(&cmd, 16);
	assert_int_equal(data[4], 0x0A);
	/* truncated to the allocation length */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0x3F, 0, 4, 0);
	expect_complete(&cmd, 4);
	assert_int_equal(data[0], 4 + 8 + 20 + 12 - 1);
}

static void test_mode_sense_bad(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0xC8, 0, 255, 0);        /* saved values */
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_SAVING_NOT_SUPPORTED, 0);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0x1C, 0, 255, 0);        /* unknown page */
	expect_invalid_cdb(&cmd, 2);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0x08, 0x01, 255, 0);     /* subpage */
	expect_invalid_cdb(&cmd, 3);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE, 0, 0x08, 0xFF, 255, 0);
	expect_invalid_cdb(&cmd, 3);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE10, 0, 0x00, 0, 0, 0, 0, 0, 255, 0);
	expect_invalid_cdb(&cmd, 2);
}

static void test_mode_sense10(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE10, 0, 0x08, 0, 0, 0, 0, 0x01, 0x00, 0);
	expect_complete(&cmd, 8 + 8 + 20);
	assert_int_equal(scsi_get_be16(data), 8 + 8 + 20 - 2);
	assert_int_equal(data[3], SCSI_MODE_DSP_DPOFUA);
	assert_int_equal(data[4], 0);
	assert_int_equal(scsi_get_be16(data + 6), 8);
	assert_int_equal(data[16], 0x08);
	assert_int_equal(data[18], SCSI_CACHING_WCE);

	/* LLBAA: long block descriptor with the full 64-bit block count */
	cfg.capacity = cpu_to_le64(0x300000000ull);
	d = make_disk(DEFAULT_FEATURES, &cfg);
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE10, SCSI_CDB_MODE_LLBAA, 0x08, 0, 0, 0, 0, 0, 255, 0);
	expect_complete(&cmd, 8 + 16 + 20);
	assert_int_equal(data[4] & SCSI_MODE_LONGLBA, SCSI_MODE_LONGLBA);
	assert_int_equal(scsi_get_be16(data + 6), 16);
	assert_true(scsi_get_be64(data + 8) == 0x300000000ull);
	assert_int_equal(scsi_get_be32(data + 20), 512);

	/* short descriptor saturates */
	RUN(&d, &cmd, 255, SCSIOP_MODE_SENSE10, 0, 0x08, 0, 0, 0, 0, 0, 255, 0);
	assert_int_equal(scsi_get_be32(data + 8), 0xFFFFFFFFu);
}

/* ================================================================ small commands */
static void test_report_luns(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	const uint8_t one_lun[16] = { 0, 0, 0, 8 };

	(void)state;
	memset(data, 0xEE, 64);
	RUN(&d, &cmd, 64, SCSIOP_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
	expect_complete(&cmd, 16);
	assert_memory_equal(data, one_lun, 16);
	RUN(&d, &cmd, 64, SCSIOP_REPORT_LUNS, 0, 0x02, 0, 0, 0, 0, 0, 0, 64, 0, 0);
	expect_complete(&cmd, 16);
	RUN(&d, &cmd, 64, SCSIOP_REPORT_LUNS, 0, 0x01, 0, 0, 0, 0, 0, 0, 64, 0, 0);
	expect_complete(&cmd, 8);
	assert_int_equal(scsi_get_be32(data), 0);

	RUN(&d, &cmd, 64, SCSIOP_REPORT_LUNS, 0, 0x03, 0, 0, 0, 0, 0, 0, 64, 0, 0);
	expect_invalid_cdb(&cmd, 2);
	RUN(&d, &cmd, 64, SCSIOP_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0);
	expect_invalid_cdb(&cmd, 6);
}

static void test_request_sense(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 252, SCSIOP_REQUEST_SENSE, 0, 0, 0, 252, 0);
	expect_complete(&cmd, 18);
	assert_int_equal(data[0], 0x70);
	assert_int_equal(data[2], SCSI_SENSE_NO_SENSE);
	assert_int_equal(data[7], 10);
	assert_int_equal(data[12], 0);

	RUN(&d, &cmd, 252, SCSIOP_REQUEST_SENSE, SCSI_CDB_REQSENSE_DESC, 0, 0, 252, 0);
	expect_complete(&cmd, 8);
	assert_int_equal(data[0], 0x72);
	assert_int_equal(data[1], 0);
	assert_int_equal(data[7], 0);

	RUN(&d, &cmd, 252, SCSIOP_REQUEST_SENSE, 0, 0, 0, 8, 0);
	expect_complete(&cmd, 8);
}

static void test_start_stop_unit(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 0, SCSIOP_START_STOP_UNIT, 0, 0, 0, SCSI_CDB_SSU_START, 0);
	expect_complete(&cmd, 0);
	/* stop flushes a write-back cache */
	RUN(&d, &cmd, 0, SCSIOP_START_STOP_UNIT, 0, 0, 0, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_FLUSH);
	/* ...unless the initiator says NO_FLUSH */
	RUN(&d, &cmd, 0, SCSIOP_START_STOP_UNIT, 0, 0, 0, SCSI_CDB_SSU_NO_FLUSH, 0);
	expect_complete(&cmd, 0);
	/* a power condition change is not a stop */
	RUN(&d, &cmd, 0, SCSIOP_START_STOP_UNIT, 0, 0, 0, 0x30, 0);
	expect_complete(&cmd, 0);
	/* nothing to flush on a write-through disk */
	cfg.writeback = 0;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE), &cfg);
	RUN(&d, &cmd, 0, SCSIOP_START_STOP_UNIT, 0, 0, 0, 0, 0);
	expect_complete(&cmd, 0);
}

/* ================================================================ READ / WRITE */
static void test_read_write_10(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 4096, SCSIOP_READ, 0, 0x00, 0x01, 0x02, 0x03, 0, 0, 8, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_true(cmd.req.sector == 0x010203);
	assert_int_equal(cmd.req.length, 4096);
	assert_false(cmd.req.flush_after);

	RUN(&d, &cmd, 512, SCSIOP_WRITE, 0, 0, 0, 0, 5, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_OUT);
	assert_true(cmd.req.sector == 5);
	assert_int_equal(cmd.req.length, 512);
	assert_false(cmd.req.flush_after);

	/* FUA write on a write-back cache needs a flush afterwards */
	RUN(&d, &cmd, 512, SCSIOP_WRITE, SCSI_CDB_FUA, 0, 0, 0, 5, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_OUT);
	assert_true(cmd.req.flush_after);
	/* FUA on a read changes nothing */
	RUN(&d, &cmd, 512, SCSIOP_READ, SCSI_CDB_FUA | SCSI_CDB_DPO, 0, 0, 0, 5, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_false(cmd.req.flush_after);

	/* zero blocks: nothing to do */
	RUN(&d, &cmd, 0, SCSIOP_READ, 0, 0, 0, 0, 5, 0, 0, 0, 0);
	expect_complete(&cmd, 0);
	/* last block is fine, one past is not */
	RUN(&d, &cmd, 512, SCSIOP_READ, 0, 0x00, 0x1F, 0xFF, 0xFF, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	RUN(&d, &cmd, 1024, SCSIOP_READ, 0, 0x00, 0x1F, 0xFF, 0xFF, 0, 0, 2, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	RUN(&d, &cmd, 0, SCSIOP_READ, 0, 0x00, 0x20, 0x00, 0x01, 0, 0, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
}

static void test_read_write_errors(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	/* buffer smaller than the CDB asks for */
	RUN(&d, &cmd, 511, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 7);
	/* beyond the maximum transfer (125 pages) */
	RUN(&d, &cmd, 0xFFFFFFFF, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0x03, 0xE9, 0);
	expect_invalid_cdb(&cmd, 7);
	RUN(&d, &cmd, 0xFFFFFFFF, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0x03, 0xE8, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_int_equal(cmd.req.length, 1000 * 512);
	/* protection information is not supported */
	RUN(&d, &cmd, 512, SCSIOP_READ, 0x20, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 1);
	RUN(&d, &cmd, 512, SCSIOP_WRITE16, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	expect_invalid_cdb(&cmd, 1);
	/* writes to a read-only disk */
	d.read_only = true;
	RUN(&d, &cmd, 512, SCSIOP_WRITE, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_sense(&cmd, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
	RUN(&d, &cmd, 512, SCSIOP_WRITE6, 0, 0, 0, 1, 0);
	expect_sense(&cmd, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
	RUN(&d, &cmd, 512, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
}

static void test_read_write_6(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	/* 21-bit LBA; the top 3 bits of byte 1 are not part of it */
	RUN(&d, &cmd, 512, SCSIOP_READ6, 0xFF, 0x12, 0x34, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_true(cmd.req.sector == 0x1F1234);
	/* a length of 0 means 256 blocks */
	RUN(&d, &cmd, 256 * 512, SCSIOP_WRITE6, 0, 0, 0, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_OUT);
	assert_int_equal(cmd.req.length, 256 * 512);
	RUN(&d, &cmd, 255 * 512, SCSIOP_WRITE6, 0, 0, 0, 0, 0);
	expect_invalid_cdb(&cmd, 4);
}

static void test_read_write_12_16(void **state)
{
	struct vblk_disk d = disk_4k();
	struct vblk_scsi_cmd cmd;

	(void)state;
	/* sectors are always 512 bytes: LBA 3 of a 4K disk is sector 24 */
	RUN(&d, &cmd, 8192, SCSIOP_READ12, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_true(cmd.req.sector == 24);
	assert_int_equal(cmd.req.length, 8192);
	RUN(&d, &cmd, 4096, SCSIOP_WRITE12, SCSI_CDB_FUA, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_OUT);
	assert_true(cmd.req.flush_after);

	RUN(&d, &cmd, 4096, SCSIOP_READ16, 0, 0, 0, 0, 0, 0, 0x1F, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_IN);
	assert_true(cmd.req.sector == 0x1FFFFFull * 8);
	RUN(&d, &cmd, 4096, SCSIOP_WRITE16, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 1, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	/* LBA + count wrapping around 2^64 */
	RUN(&d, &cmd, 8192, SCSIOP_READ16, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0, 0, 0, 2, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	/* 32-bit counts that would overflow a byte length */
	RUN(&d, &cmd, 0xFFFFFFFF, SCSIOP_READ16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0, 0);
	expect_invalid_cdb(&cmd, 10);
}

/* ================================================================ VERIFY, SYNCHRONIZE CACHE */
static void test_verify(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 0, SCSIOP_VERIFY, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	expect_complete(&cmd, 0);
	RUN(&d, &cmd, 0, SCSIOP_VERIFY16, 0, 0, 0, 0, 0, 0, 0x1F, 0xFF, 0xF8, 0, 0, 0, 8, 0, 0);
	expect_complete(&cmd, 0);
	RUN(&d, &cmd, 0, SCSIOP_VERIFY12, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
	expect_complete(&cmd, 0);
	RUN(&d, &cmd, 0, SCSIOP_VERIFY16, 0, 0, 0, 0, 0, 0, 0x1F, 0xFF, 0xF9, 0, 0, 0, 8, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	/* BYTCHK needs a compare we do not do */
	RUN(&d, &cmd, 512, SCSIOP_VERIFY, 0x02, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 1);
	RUN(&d, &cmd, 512, SCSIOP_VERIFY16, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	expect_invalid_cdb(&cmd, 1);
}

static void test_synchronize_cache(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	struct virtio_blk_config cfg = default_config();

	(void)state;
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE);
	expect_request(&cmd, VIRTIO_BLK_T_FLUSH);
	assert_int_equal(cmd.req.num_ranges, 0);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE16, SCSI_CDB_IMMED, 0, 0, 0, 0, 0, 0, 0, 0x10);
	expect_request(&cmd, VIRTIO_BLK_T_FLUSH);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE, 0, 0, 0x20, 0, 0, 0, 0, 0, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE, 0, 0, 0x1F, 0xFF, 0xFF, 0, 0, 2, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE, 0, 0, 0x1F, 0xFF, 0xFF, 0, 0, 1, 0);
	expect_request(&cmd, VIRTIO_BLK_T_FLUSH);

	/* write-through: nothing to flush */
	cfg.writeback = 0;
	d = make_disk(DEFAULT_FEATURES | FEAT(VIRTIO_BLK_F_CONFIG_WCE), &cfg);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE);
	expect_complete(&cmd, 0);
	/* no FLUSH feature at all */
	d = make_disk(0, &cfg);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE16);
	expect_complete(&cmd, 0);
}

/* ================================================================ UNMAP */
static uint32_t unmap_list(uint8_t *p, uint32_t count, const uint64_t *lba, const uint32_t *blocks)
{
	uint32_t i;

	memset(p, 0, 8 + 16 * count);
	scsi_put_be16(p, (uint16_t)(6 + 16 * count));
	scsi_put_be16(p + 2, (uint16_t)(16 * count));
	for (i = 0; i < count; i++) {
		scsi_put_be64(p + 8 + 16 * i, lba[i]);
		scsi_put_be32(p + 16 + 16 * i, blocks[i]);
	}
	return 8 + 16 * count;
}

static void test_unmap(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	const uint64_t lba[3] = { 100, 2000, 5 };
	const uint32_t blocks[3] = { 8, 0, 16 };
	uint32_t len = unmap_list(data, 3, lba, blocks);

	(void)state;
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_request(&cmd, VIRTIO_BLK_T_DISCARD);
	/* the zero-length descriptor is skipped */
	assert_int_equal(cmd.req.num_ranges, 2);
	assert_true(ranges[0].sector == 100);
	assert_int_equal(ranges[0].num_sectors, 8);
	assert_int_equal(ranges[0].flags, 0);
	assert_true(ranges[1].sector == 5);
	assert_int_equal(ranges[1].num_sectors, 16);

	/* 4K disk: ranges are converted to 512-byte sectors */
	d = disk_4k();
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_request(&cmd, VIRTIO_BLK_T_DISCARD);
	assert_true(ranges[0].sector == 800);
	assert_int_equal(ranges[0].num_sectors, 64);

	/* only zero-length descriptors, or no parameter list: nothing to do */
	{
		const uint32_t none[1] = { 0 };

		len = unmap_list(data, 1, lba, none);
	}
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_complete(&cmd, 0);
	RUN(&d, &cmd, 0, SCSIOP_UNMAP);
	expect_complete(&cmd, 0);

	/* a trailing partial descriptor is ignored */
	d = default_disk();
	len = unmap_list(data, 1, lba, blocks);
	scsi_put_be16(data + 2, 16 + 8);
	scsi_put_be16(data, 6 + 16 + 8);
	RUN(&d, &cmd, 40, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 40, 0);
	expect_request(&cmd, VIRTIO_BLK_T_DISCARD);
	assert_int_equal(cmd.req.num_ranges, 1);
}

static void test_unmap_bad(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	uint64_t lba[9] = { 0, 8, 16, 24, 32, 40, 48, 56, 64 };
	uint32_t blocks[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	uint32_t len;

	(void)state;
	/* parameter list shorter than its header */
	RUN(&d, &cmd, 4, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 4, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* buffer shorter than the CDB's parameter list length */
	len = unmap_list(data, 1, lba, blocks);
	RUN(&d, &cmd, len - 1, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* block descriptor length beyond the list */
	scsi_put_be16(data + 2, 32);
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* more descriptors than VPD B0 allows (8) */
	len = unmap_list(data, 9, lba, blocks);
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_invalid_param(&cmd, 2);
	/* out of range */
	lba[0] = 2097151;
	blocks[0] = 2;
	len = unmap_list(data, 1, lba, blocks);
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	/* more blocks in total than the advertised maximum */
	lba[0] = 0;
	blocks[0] = 1 << 19;
	lba[1] = 1 << 19;
	blocks[1] = (1 << 19) + 1;
	len = unmap_list(data, 2, lba, blocks);
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_invalid_param(&cmd, 8 + 16 + 8);
	/* the caller's range array is full */
	blocks[1] = 1;
	len = unmap_list(data, 2, lba, blocks);
	cmd_init(&cmd, (const uint8_t[10]){ SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0 },
		 10, len);
	cmd.max_ranges = 1;
	vblk_scsi_execute(&d, &cmd);
	expect_invalid_param(&cmd, 2);
	/* ANCHOR */
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 1, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_invalid_cdb(&cmd, 1);
	/* bad UNMAP DATA LENGTH */
	scsi_put_be16(data, 2);
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* no parameter buffer mapped */
	len = unmap_list(data, 2, lba, blocks);
	cmd_init(&cmd, (const uint8_t[10]){ SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0 },
		 10, len);
	cmd.data = NULL;
	vblk_scsi_execute(&d, &cmd);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	/* read-only */
	d.read_only = true;
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_sense(&cmd, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
	/* no DISCARD feature */
	{
		struct virtio_blk_config cfg = default_config();

		d = make_disk(FEAT(VIRTIO_BLK_F_FLUSH), &cfg);
	}
	RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
	expect_invalid_opcode(&cmd);
}

/* ================================================================ WRITE SAME */
static void test_write_same(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	memset(data, 0, sizeof(data));
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 16, 0, 0, 32, 0);
	expect_request(&cmd, VIRTIO_BLK_T_WRITE_ZEROES);
	assert_int_equal(cmd.req.num_ranges, 1);
	assert_true(ranges[0].sector == 16);
	assert_int_equal(ranges[0].num_sectors, 32);
	assert_int_equal(ranges[0].flags, 0);

	/* UNMAP bit: the device may deallocate */
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME16, SCSI_CDB_WS_UNMAP, 0, 0, 0, 0, 0, 0, 0, 16,
	    0, 0, 0, 32, 0, 0);
	expect_request(&cmd, VIRTIO_BLK_T_WRITE_ZEROES);
	assert_int_equal(ranges[0].flags, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	/* ...but only when it says so */
	d.write_zeroes_may_unmap = false;
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME16, SCSI_CDB_WS_UNMAP, 0, 0, 0, 0, 0, 0, 0, 16,
	    0, 0, 0, 32, 0, 0);
	assert_int_equal(ranges[0].flags, 0);

	/* NDOB: no data buffer at all */
	cmd_init(&cmd, (const uint8_t[16]){ SCSIOP_WRITE_SAME16, SCSI_CDB_WS_NDOB, 0, 0, 0, 0, 0, 0,
					    0, 1, 0, 0, 0, 4, 0, 0 }, 16, 0);
	cmd.data = NULL;
	vblk_scsi_execute(&d, &cmd);
	expect_request(&cmd, VIRTIO_BLK_T_WRITE_ZEROES);
	assert_int_equal(ranges[0].num_sectors, 4);

	/* 4K disk */
	d = disk_4k();
	RUN(&d, &cmd, 4096, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 2, 0, 0, 3, 0);
	expect_request(&cmd, VIRTIO_BLK_T_WRITE_ZEROES);
	assert_true(ranges[0].sector == 16);
	assert_int_equal(ranges[0].num_sectors, 24);
}

static void test_write_same_bad(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	memset(data, 0, sizeof(data));
	/* a non-zero pattern cannot be expressed in virtio-blk */
	data[100] = 0x5A;
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_param(&cmd, 100);
	data[100] = 0;
	/* data buffer smaller than one block */
	RUN(&d, &cmd, 511, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH, 0);
	/* zero blocks (WSNZ) */
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_invalid_cdb(&cmd, 7);
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_invalid_cdb(&cmd, 10);
	/* above the advertised maximum write same length */
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 1, 0, 0);
	expect_invalid_cdb(&cmd, 10);
	/* out of range */
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0x1F, 0xFF, 0xFF, 0, 0, 2, 0);
	expect_sense(&cmd, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
	/* ANCHOR, LBDATA/PBDATA, and NDOB in the 10-byte form */
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, SCSI_CDB_WS_ANCHOR, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 1);
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, SCSI_CDB_WS_LBDATA, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 1);
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, SCSI_CDB_WS_NDOB, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_cdb(&cmd, 1);
	/* pattern block promised but not mapped */
	cmd_init(&cmd, (const uint8_t[10]){ SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 512);
	cmd.data = NULL;
	vblk_scsi_execute(&d, &cmd);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	/* no range storage from the caller */
	cmd_init(&cmd, (const uint8_t[10]){ SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 512);
	cmd.ranges = NULL;
	vblk_scsi_execute(&d, &cmd);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	/* read-only */
	d.read_only = true;
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_sense(&cmd, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
	/* no WRITE_ZEROES feature */
	{
		struct virtio_blk_config cfg = default_config();

		d = make_disk(FEAT(VIRTIO_BLK_F_DISCARD), &cfg);
	}
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, SCSI_CDB_WS_UNMAP, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid_opcode(&cmd);
}

/* ================================================================ completion and sense */
static void test_complete_status(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	RUN(&d, &cmd, 4096, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_int_equal(vblk_scsi_complete(&cmd, VIRTIO_BLK_S_OK), VBLK_ACTION_COMPLETE);
	expect_complete(&cmd, 4096);
	assert_int_equal(vblk_scsi_srb_status(cmd.action), VBLK_SRB_STATUS_SUCCESS);

	RUN(&d, &cmd, 4096, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_IOERR);
	expect_sense(&cmd, SCSI_SENSE_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ_ERROR, 0);
	assert_int_equal(vblk_scsi_srb_status(cmd.action), VBLK_SRB_STATUS_ERROR);

	RUN(&d, &cmd, 512, SCSIOP_WRITE, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_IOERR);
	expect_sense(&cmd, SCSI_SENSE_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR, 0);

	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_IOERR);
	expect_sense(&cmd, SCSI_SENSE_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR, 0);
	RUN(&d, &cmd, 0, SCSIOP_SYNCHRONIZE_CACHE);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_OK);
	expect_complete(&cmd, 0);

	memset(data, 0, 512);
	RUN(&d, &cmd, 512, SCSIOP_WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_UNSUPP);
	expect_invalid_opcode(&cmd);

	{
		const uint64_t lba[1] = { 0 };
		const uint32_t blocks[1] = { 8 };
		uint32_t len = unmap_list(data, 1, lba, blocks);

		RUN(&d, &cmd, len, SCSIOP_UNMAP, 0, 0, 0, 0, 0, 0, 0, (uint8_t)len, 0);
		vblk_scsi_complete(&cmd, VIRTIO_BLK_S_IOERR);
		expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	}

	/* a status byte the spec does not allow is an error, never success */
	RUN(&d, &cmd, 4096, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	vblk_scsi_complete(&cmd, 0x7F);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
	RUN(&d, &cmd, 4096, SCSIOP_READ, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_ZONE_INVALID_CMD);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);

	assert_int_equal(vblk_scsi_srb_status(VBLK_ACTION_REQUEST), VBLK_SRB_STATUS_INVALID_REQUEST);
}

static void test_get_id(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;

	(void)state;
	cmd_init(&cmd, NULL, 0, VIRTIO_BLK_ID_BYTES);
	vblk_scsi_get_id(&cmd);
	expect_request(&cmd, VIRTIO_BLK_T_GET_ID);
	assert_int_equal(cmd.req.length, VIRTIO_BLK_ID_BYTES);
	memcpy(data, "QM00001\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_OK);
	expect_complete(&cmd, VIRTIO_BLK_ID_BYTES);
	vblk_disk_set_serial(&d, data, cmd.data_transferred);
	assert_string_equal(d.serial, "QM00001");

	vblk_scsi_get_id(&cmd);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_UNSUPP);
	expect_invalid_opcode(&cmd);
	vblk_scsi_get_id(&cmd);
	vblk_scsi_complete(&cmd, VIRTIO_BLK_S_IOERR);
	expect_sense(&cmd, SCSI_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE, 0);
}

static void test_build_sense(void **state)
{
	struct vblk_sense s = { SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, 0,
				true, true, 0x0102 };
	const uint8_t expect[18] = { 0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0,
				     0xC0, 0x01, 0x02 };
	uint8_t buf[32];

	(void)state;
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(vblk_scsi_build_sense(buf, sizeof(buf), &s), 18);
	assert_memory_equal(buf, expect, 18);
	assert_int_equal(buf[18], 0xEE);

	/* field in the parameter list: C/D clear */
	s.field_in_cdb = false;
	vblk_scsi_build_sense(buf, sizeof(buf), &s);
	assert_int_equal(buf[15], 0x80);
	/* no field pointer */
	s.field_valid = false;
	vblk_scsi_build_sense(buf, sizeof(buf), &s);
	assert_int_equal(buf[15], 0);
	assert_int_equal(buf[16], 0);

	/* truncated to the SRB's sense buffer */
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(vblk_scsi_build_sense(buf, 8, &s), 8);
	assert_int_equal(buf[8], 0xEE);
	assert_int_equal(vblk_scsi_build_sense(NULL, 8, &s), 0);
	assert_int_equal(vblk_scsi_build_sense(buf, 8, NULL), 0);
}

/* Every sense produced by execute() goes through build_sense unchanged. */
static void test_sense_round_trip(void **state)
{
	struct vblk_disk d = default_disk();
	struct vblk_scsi_cmd cmd;
	uint8_t buf[18];

	(void)state;
	RUN(&d, &cmd, 255, SCSIOP_INQUIRY, 1, 0x42, 0, 255, 0);
	assert_int_equal(vblk_scsi_build_sense(buf, sizeof(buf), &cmd.sense), 18);
	assert_int_equal(buf[2], SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(buf[12], SCSI_ASC_INVALID_FIELD_IN_CDB);
	assert_int_equal(buf[15], 0xC0);
	assert_int_equal(scsi_get_be16(buf + 16), 2);
}

/*
 * Random CDBs, buffer sizes and parameter data: whatever comes in, the
 * outcome must be consistent and stay inside the caller's buffers.
 */
static uint32_t rng_state = 0x2545F491u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_random_cdbs(void **state)
{
	static const uint8_t ops[] = {
		SCSIOP_TEST_UNIT_READY, SCSIOP_REQUEST_SENSE, SCSIOP_READ6, SCSIOP_WRITE6,
		SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_START_STOP_UNIT,
		SCSIOP_READ_CAPACITY, SCSIOP_READ, SCSIOP_WRITE, SCSIOP_VERIFY,
		SCSIOP_SYNCHRONIZE_CACHE, SCSIOP_WRITE_SAME, SCSIOP_UNMAP, SCSIOP_MODE_SENSE10,
		SCSIOP_READ16, SCSIOP_WRITE16, SCSIOP_VERIFY16, SCSIOP_SYNCHRONIZE_CACHE16,
		SCSIOP_WRITE_SAME16, SCSIOP_SERVICE_ACTION_IN16, SCSIOP_REPORT_LUNS,
		SCSIOP_READ12, SCSIOP_WRITE12, SCSIOP_VERIFY12,
	};
	struct vblk_disk disks[2] = { default_disk(), disk_4k() };
	struct vblk_scsi_cmd cmd;
	uint8_t cdb[16];
	uint32_t i, j;

	(void)state;
	for (i = 0; i < 200000; i++) {
		const struct vblk_disk *d = &disks[i & 1];
		uint32_t len = rng() % (sizeof(data) + 1);
		uint32_t cdb_len = 6 + rng() % 11;

		for (j = 0; j < sizeof(cdb); j++)
			cdb[j] = (uint8_t)rng();
		/* mostly known opcodes, small numbers, so deep paths are reached */
		if (rng() % 8)
			cdb[0] = ops[rng() % sizeof(ops)];
		if (rng() % 2)
			for (j = 2; j < 10; j++)
				cdb[j] = (rng() % 4) ? 0 : cdb[j];
		cdb[cdb_len - 1] = (rng() % 4) ? 0 : cdb[cdb_len - 1];
		if (cdb[0] == SCSIOP_SERVICE_ACTION_IN16 && rng() % 2)
			cdb[1] = SCSI_SAI_READ_CAPACITY16;
		for (j = 0; j < 64; j++)
			data[j] = (rng() % 3) ? 0 : (uint8_t)rng();

		cmd_init(&cmd, cdb, cdb_len, len);
		cmd.max_ranges = 1 + rng() % 16;
		if (rng() % 16 == 0)
			cmd.data = NULL;
		switch (vblk_scsi_execute(d, &cmd)) {
		case VBLK_ACTION_COMPLETE:
			assert_true(cmd.data_transferred <= len);
			break;
		case VBLK_ACTION_REQUEST:
			if (cmd.req.type == VIRTIO_BLK_T_IN || cmd.req.type == VIRTIO_BLK_T_OUT) {
				assert_true(cmd.req.length <= len);
				assert_true(cmd.req.length <= d->max_transfer_bytes);
				assert_true(cmd.req.length % d->block_size == 0);
				assert_true(cmd.req.sector + cmd.req.length / 512 <=
					    d->capacity_sectors);
			} else if (cmd.req.type == VIRTIO_BLK_T_DISCARD ||
				   cmd.req.type == VIRTIO_BLK_T_WRITE_ZEROES) {
				assert_in_range(cmd.req.num_ranges, 1, cmd.max_ranges);
				for (j = 0; j < cmd.req.num_ranges; j++) {
					assert_true(ranges[j].num_sectors > 0);
					assert_true(ranges[j].sector + ranges[j].num_sectors <=
						    d->capacity_sectors);
				}
			} else {
				assert_int_equal(cmd.req.type, VIRTIO_BLK_T_FLUSH);
			}
			break;
		case VBLK_ACTION_CHECK_CONDITION:
			assert_int_not_equal(cmd.sense.key, SCSI_SENSE_NO_SENSE);
			assert_int_equal(cmd.data_transferred, 0);
			break;
		default:
			fail();
		}
	}
}

static void test_unit_attention(void **state)
{
	struct vblk_scsi_cmd cmd;
	uint8_t read10[10] = { 0x28 }, inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
	uint8_t report_luns[12] = { 0xA0 }, sense6[6] = { 0x03, 0, 0, 0, 18, 0 };

	(void)state;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb = read10;
	cmd.cdb_length = sizeof(read10);
	assert_true(vblk_scsi_unit_attention_applies(&cmd));
	assert_true(vblk_scsi_unit_attention(&cmd));
	assert_int_equal(cmd.action, VBLK_ACTION_CHECK_CONDITION);
	assert_int_equal(cmd.sense.key, SCSI_SENSE_UNIT_ATTENTION);
	assert_int_equal(cmd.sense.asc, 0x2A);
	assert_int_equal(cmd.sense.ascq, 0x09);
	/* SPC-4: these never report a pending unit attention. */
	cmd.cdb = inquiry;
	cmd.cdb_length = sizeof(inquiry);
	assert_false(vblk_scsi_unit_attention(&cmd));
	cmd.cdb = report_luns;
	cmd.cdb_length = sizeof(report_luns);
	assert_false(vblk_scsi_unit_attention(&cmd));
	cmd.cdb = sense6;
	cmd.cdb_length = sizeof(sense6);
	assert_false(vblk_scsi_unit_attention(&cmd));
	cmd.cdb = NULL;
	assert_false(vblk_scsi_unit_attention(&cmd));
	assert_false(vblk_scsi_unit_attention(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_unit_attention),
		cmocka_unit_test(test_config_minimal),
		cmocka_unit_test(test_config_bad_block_size),
		cmocka_unit_test(test_config_bad_capacity),
		cmocka_unit_test(test_config_topology_validated),
		cmocka_unit_test(test_config_fixups),
		cmocka_unit_test(test_config_cache_modes),
		cmocka_unit_test(test_config_discard_limits),
		cmocka_unit_test(test_config_read_only),
		cmocka_unit_test(test_config_segments),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_bad_cdbs),
		cmocka_unit_test(test_test_unit_ready),
		cmocka_unit_test(test_inquiry_standard),
		cmocka_unit_test(test_inquiry_bad),
		cmocka_unit_test(test_vpd_supported_pages),
		cmocka_unit_test(test_vpd_serial),
		cmocka_unit_test(test_vpd_device_id),
		cmocka_unit_test(test_vpd_block_limits),
		cmocka_unit_test(test_vpd_characteristics_and_provisioning),
		cmocka_unit_test(test_read_capacity10),
		cmocka_unit_test(test_read_capacity16),
		cmocka_unit_test(test_mode_sense6_caching),
		cmocka_unit_test(test_mode_sense_write_through_and_ro),
		cmocka_unit_test(test_mode_sense_all_pages),
		cmocka_unit_test(test_mode_sense_bad),
		cmocka_unit_test(test_mode_sense10),
		cmocka_unit_test(test_report_luns),
		cmocka_unit_test(test_request_sense),
		cmocka_unit_test(test_start_stop_unit),
		cmocka_unit_test(test_read_write_10),
		cmocka_unit_test(test_read_write_errors),
		cmocka_unit_test(test_read_write_6),
		cmocka_unit_test(test_read_write_12_16),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_synchronize_cache),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_unmap_bad),
		cmocka_unit_test(test_write_same),
		cmocka_unit_test(test_write_same_bad),
		cmocka_unit_test(test_complete_status),
		cmocka_unit_test(test_get_id),
		cmocka_unit_test(test_build_sense),
		cmocka_unit_test(test_sense_round_trip),
		cmocka_unit_test(test_random_cdbs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
