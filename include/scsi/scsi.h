/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SCSI wire formats used by the block driver: opcodes, CDBs, sense data,
 * INQUIRY/VPD pages, READ CAPACITY, MODE SENSE, UNMAP and REPORT LUNS.
 *
 * Source of the layouts: SPC-4/SPC-5 and SBC-3/SBC-4 (T10). Multi-byte
 * fields on the wire are big-endian, so every one of them is a byte array
 * and goes through the scsi_get_be / scsi_put_be helpers below. The header
 * uses fixed-width types only and includes no Windows header, so the
 * portable SCSI layer and its host unit tests can use it as well as the
 * StorPort glue.
 */
#ifndef OPENVDP_SCSI_SCSI_H
#define OPENVDP_SCSI_SCSI_H

#include <stdint.h>

/* ------------------------------------------------------------ opcodes */
#define SCSIOP_TEST_UNIT_READY          0x00
#define SCSIOP_REZERO_UNIT              0x01
#define SCSIOP_REQUEST_SENSE            0x03
#define SCSIOP_FORMAT_UNIT              0x04
#define SCSIOP_READ_BLOCK_LIMITS        0x05
#define SCSIOP_REASSIGN_BLOCKS          0x07
#define SCSIOP_READ6                    0x08
#define SCSIOP_WRITE6                   0x0A
#define SCSIOP_SEEK6                    0x0B
#define SCSIOP_INQUIRY                  0x12
#define SCSIOP_VERIFY6                  0x13
#define SCSIOP_MODE_SELECT              0x15
#define SCSIOP_RESERVE_UNIT             0x16
#define SCSIOP_RELEASE_UNIT             0x17
#define SCSIOP_MODE_SENSE               0x1A
#define SCSIOP_START_STOP_UNIT          0x1B
#define SCSIOP_RECEIVE_DIAGNOSTIC       0x1C
#define SCSIOP_SEND_DIAGNOSTIC          0x1D
#define SCSIOP_MEDIUM_REMOVAL           0x1E
#define SCSIOP_READ_FORMATTED_CAPACITY  0x23
#define SCSIOP_READ_CAPACITY            0x25
#define SCSIOP_READ                     0x28
#define SCSIOP_WRITE                    0x2A
#define SCSIOP_SEEK                     0x2B
#define SCSIOP_WRITE_VERIFY             0x2E
#define SCSIOP_VERIFY                   0x2F
#define SCSIOP_SYNCHRONIZE_CACHE        0x35
#define SCSIOP_READ_DEFECT_DATA         0x37
#define SCSIOP_WRITE_BUFFER             0x3B
#define SCSIOP_READ_BUFFER              0x3C
#define SCSIOP_WRITE_SAME               0x41
#define SCSIOP_UNMAP                    0x42
#define SCSIOP_READ_TOC                 0x43
#define SCSIOP_GET_CONFIGURATION        0x46
#define SCSIOP_LOG_SELECT               0x4C
#define SCSIOP_LOG_SENSE                0x4D
#define SCSIOP_MODE_SELECT10            0x55
#define SCSIOP_RESERVE_UNIT10           0x56
#define SCSIOP_RELEASE_UNIT10           0x57
#define SCSIOP_MODE_SENSE10             0x5A
#define SCSIOP_PERSISTENT_RESERVE_IN    0x5E
#define SCSIOP_PERSISTENT_RESERVE_OUT   0x5F
#define SCSIOP_ATA_PASSTHROUGH16        0x85
#define SCSIOP_READ16                   0x88
#define SCSIOP_COMPARE_AND_WRITE        0x89
#define SCSIOP_WRITE16                  0x8A
#define SCSIOP_WRITE_VERIFY16           0x8E
#define SCSIOP_VERIFY16                 0x8F
#define SCSIOP_SYNCHRONIZE_CACHE16      0x91
#define SCSIOP_WRITE_SAME16             0x93
#define SCSIOP_SERVICE_ACTION_IN16      0x9E
#define SCSIOP_SERVICE_ACTION_OUT16     0x9F
#define SCSIOP_REPORT_LUNS              0xA0
#define SCSIOP_ATA_PASSTHROUGH12        0xA1
#define SCSIOP_SECURITY_PROTOCOL_IN     0xA2
#define SCSIOP_MAINTENANCE_IN           0xA3
#define SCSIOP_MAINTENANCE_OUT          0xA4
#define SCSIOP_READ12                   0xA8
#define SCSIOP_WRITE12                  0xAA
#define SCSIOP_WRITE_VERIFY12           0xAE
#define SCSIOP_VERIFY12                 0xAF
#define SCSIOP_SECURITY_PROTOCOL_OUT    0xB5

/* Service actions of SERVICE ACTION IN(16) (0x9E). */
#define SCSI_SAI_READ_CAPACITY16        0x10
#define SCSI_SAI_GET_LBA_STATUS         0x12
#define SCSI_SA_MASK                    0x1F

/* Group code (top 3 bits of the opcode) gives the CDB length. */
static inline unsigned int scsi_cdb_length(uint8_t opcode)
{
	switch (opcode >> 5) {
	case 0: return 6;
	case 1: case 2: return 10;
	case 4: return 16;
	case 5: return 12;
	default: return 0;      /* 3 = variable length, 6/7 = vendor specific */
	}
}

/* ------------------------------------------------------------ status */
#define SCSISTAT_GOOD                   0x00
#define SCSISTAT_CHECK_CONDITION        0x02
#define SCSISTAT_CONDITION_MET          0x04
#define SCSISTAT_BUSY                   0x08
#define SCSISTAT_RESERVATION_CONFLICT   0x18
#define SCSISTAT_COMMAND_TERMINATED     0x22
#define SCSISTAT_QUEUE_FULL             0x28
#define SCSISTAT_TASK_ABORTED           0x40

/* ------------------------------------------------------------ sense */
#define SCSI_SENSE_NO_SENSE             0x00
#define SCSI_SENSE_RECOVERED_ERROR      0x01
#define SCSI_SENSE_NOT_READY            0x02
#define SCSI_SENSE_MEDIUM_ERROR         0x03
#define SCSI_SENSE_HARDWARE_ERROR       0x04
#define SCSI_SENSE_ILLEGAL_REQUEST      0x05
#define SCSI_SENSE_UNIT_ATTENTION       0x06
#define SCSI_SENSE_DATA_PROTECT         0x07
#define SCSI_SENSE_BLANK_CHECK          0x08
#define SCSI_SENSE_VENDOR_SPECIFIC      0x09
#define SCSI_SENSE_COPY_ABORTED         0x0A
#define SCSI_SENSE_ABORTED_COMMAND      0x0B
#define SCSI_SENSE_VOLUME_OVERFLOW      0x0D
#define SCSI_SENSE_MISCOMPARE           0x0E

/* Additional sense codes (ASC) and qualifiers (ASCQ) the driver reports. */
#define SCSI_ASC_NO_ADDITIONAL_SENSE        0x00
#define SCSI_ASC_LUN_NOT_READY              0x04
#define SCSI_ASCQ_CAUSE_NOT_REPORTABLE      0x00
#define SCSI_ASCQ_BECOMING_READY            0x01
#define SCSI_ASCQ_INIT_COMMAND_REQUIRED     0x02
#define SCSI_ASC_LUN_COMMUNICATION          0x08
#define SCSI_ASC_WRITE_ERROR                0x0C
#define SCSI_ASC_UNRECOVERED_READ_ERROR     0x11
#define SCSI_ASC_PARAMETER_LIST_LENGTH      0x1A
#define SCSI_ASC_INVALID_COMMAND_OPCODE     0x20
#define SCSI_ASC_LBA_OUT_OF_RANGE           0x21
#define SCSI_ASC_INVALID_FIELD_IN_CDB       0x24
#define SCSI_ASC_LUN_NOT_SUPPORTED          0x25
#define SCSI_ASC_INVALID_FIELD_IN_PARAM     0x26
#define SCSI_ASC_WRITE_PROTECTED            0x27
#define SCSI_ASC_MEDIUM_CHANGED             0x28
#define SCSI_ASC_POWER_ON_RESET             0x29
#define SCSI_ASC_PARAMETERS_CHANGED         0x2A
#define SCSI_ASCQ_CAPACITY_DATA_CHANGED     0x09
#define SCSI_ASC_SAVING_NOT_SUPPORTED       0x39
#define SCSI_ASC_MEDIUM_NOT_PRESENT         0x3A
#define SCSI_ASC_INTERNAL_TARGET_FAILURE    0x44
#define SCSI_ASC_COMMAND_PHASE_ERROR        0x4A

#define SCSI_SENSE_RESPONSE_FIXED_CURRENT   0x70
#define SCSI_SENSE_RESPONSE_FIXED_DEFERRED  0x71
#define SCSI_SENSE_RESPONSE_DESC_CURRENT    0x72
#define SCSI_SENSE_RESPONSE_DESC_DEFERRED   0x73
#define SCSI_SENSE_RESPONSE_MASK            0x7F
#define SCSI_SENSE_FIXED_VALID              0x80  /* INFORMATION is valid */
#define SCSI_SENSE_KEY_MASK                 0x0F
#define SCSI_SENSE_FIXED_ILI                0x20
#define SCSI_SENSE_SKSV                     0x80  /* sense-key specific valid */
#define SCSI_SENSE_SKS_CD                   0x40  /* field pointer is in the CDB */
#define SCSI_SENSE_SKS_BPV                  0x08  /* bit pointer valid */

/* SPC-4 4.5.3: fixed format sense data, 18 bytes. */
struct scsi_sense_fixed {
	uint8_t response_code;          /* VALID | 0x70/0x71 */
	uint8_t obsolete;
	uint8_t flags_key;              /* FILEMARK EOM ILI | sense key */
	uint8_t information[4];
	uint8_t additional_length;      /* bytes after this one: 10 */
	uint8_t command_specific[4];
	uint8_t asc;
	uint8_t ascq;
	uint8_t fru_code;
	uint8_t sense_key_specific[3];
};

/* SPC-4 4.5.2: descriptor format sense data header, 8 bytes. */
struct scsi_sense_desc_header {
	uint8_t response_code;          /* 0x72/0x73 */
	uint8_t sense_key;
	uint8_t asc;
	uint8_t ascq;
	uint8_t flags;                  /* SDAT_OVFL */
	uint8_t reserved[2];
	uint8_t additional_length;
};

/* Largest sense buffer SPC allows (additional length is one byte). */
#define SCSI_SENSE_MAX_LENGTH           252

/* ------------------------------------------------------------ CDBs */
#define SCSI_CDB_FUA                    0x08   /* byte 1 of READ/WRITE 10/12/16 */
#define SCSI_CDB_DPO                    0x10
#define SCSI_CDB_IMMED                  0x02   /* SYNCHRONIZE CACHE byte 1 */
#define SCSI_CDB_BYTCHK_MASK            0x06   /* VERIFY byte 1 */
#define SCSI_CDB_WS_UNMAP               0x08   /* WRITE SAME byte 1 */
#define SCSI_CDB_WS_ANCHOR              0x10
#define SCSI_CDB_WS_NDOB                0x01   /* WRITE SAME(16) only */
#define SCSI_CDB_WS_LBDATA              0x02   /* obsolete */
#define SCSI_CDB_WS_PBDATA              0x04   /* obsolete */
#define SCSI_CDB_RDPROTECT_MASK         0xE0   /* byte 1 protection field */
#define SCSI_CDB_UNMAP_ANCHOR           0x01   /* UNMAP byte 1 */
#define SCSI_CDB_INQUIRY_EVPD           0x01
#define SCSI_CDB_INQUIRY_CMDDT          0x02   /* obsolete */
#define SCSI_CDB_MODE_DBD               0x08
#define SCSI_CDB_MODE_LLBAA             0x10
#define SCSI_CDB_MODE_PC_SHIFT          6
#define SCSI_CDB_MODE_PAGE_MASK         0x3F
#define SCSI_CDB_READCAP_PMI            0x01
#define SCSI_CDB_SSU_START              0x01
#define SCSI_CDB_SSU_LOEJ               0x02
#define SCSI_CDB_SSU_NO_FLUSH           0x04
#define SCSI_CDB_SSU_POWER_COND_SHIFT   4
#define SCSI_CDB_REQSENSE_DESC          0x01

/* Mode page control (PC) values. */
#define SCSI_MODE_PC_CURRENT            0
#define SCSI_MODE_PC_CHANGEABLE         1
#define SCSI_MODE_PC_DEFAULT            2
#define SCSI_MODE_PC_SAVED              3

/* READ(6)/WRITE(6): 21-bit LBA, a length of 0 means 256 blocks. */
struct scsi_cdb6_rw {
	uint8_t opcode;
	uint8_t lba_msb;                /* bits 4..0 */
	uint8_t lba[2];
	uint8_t transfer_length;
	uint8_t control;
};

struct scsi_cdb10 {
	uint8_t opcode;
	uint8_t flags;
	uint8_t lba[4];
	uint8_t group;
	uint8_t length[2];              /* transfer / verification length */
	uint8_t control;
};

struct scsi_cdb12 {
	uint8_t opcode;
	uint8_t flags;
	uint8_t lba[4];
	uint8_t length[4];
	uint8_t group;
	uint8_t control;
};

struct scsi_cdb16 {
	uint8_t opcode;
	uint8_t flags;
	uint8_t lba[8];
	uint8_t length[4];
	uint8_t group;
	uint8_t control;
};

struct scsi_cdb_inquiry {
	uint8_t opcode;
	uint8_t flags;                  /* EVPD */
	uint8_t page_code;
	uint8_t allocation_length[2];
	uint8_t control;
};

struct scsi_cdb_request_sense {
	uint8_t opcode;
	uint8_t flags;                  /* DESC */
	uint8_t reserved[2];
	uint8_t allocation_length;
	uint8_t control;
};

struct scsi_cdb_mode_sense6 {
	uint8_t opcode;
	uint8_t flags;                  /* DBD */
	uint8_t page;                   /* PC (7..6) | page code (5..0) */
	uint8_t subpage;
	uint8_t allocation_length;
	uint8_t control;
};

struct scsi_cdb_mode_sense10 {
	uint8_t opcode;
	uint8_t flags;                  /* LLBAA | DBD */
	uint8_t page;
	uint8_t subpage;
	uint8_t reserved[3];
	uint8_t allocation_length[2];
	uint8_t control;
};

struct scsi_cdb_start_stop {
	uint8_t opcode;
	uint8_t immed;
	uint8_t reserved;
	uint8_t power_condition_modifier;
	uint8_t flags;                  /* POWER CONDITION (7..4) | NO_FLUSH | LOEJ | START */
	uint8_t control;
};

struct scsi_cdb_read_capacity10 {
	uint8_t opcode;
	uint8_t reserved1;
	uint8_t lba[4];                 /* obsolete in SBC-3 */
	uint8_t reserved2[2];
	uint8_t pmi;
	uint8_t control;
};

struct scsi_cdb_read_capacity16 {
	uint8_t opcode;                 /* 0x9E */
	uint8_t service_action;         /* 0x10 */
	uint8_t lba[8];
	uint8_t allocation_length[4];
	uint8_t pmi;
	uint8_t control;
};

struct scsi_cdb_sync_cache10 {
	uint8_t opcode;
	uint8_t flags;                  /* IMMED */
	uint8_t lba[4];
	uint8_t group;
	uint8_t num_blocks[2];
	uint8_t control;
};

struct scsi_cdb_sync_cache16 {
	uint8_t opcode;
	uint8_t flags;
	uint8_t lba[8];
	uint8_t num_blocks[4];
	uint8_t group;
	uint8_t control;
};

struct scsi_cdb_unmap {
	uint8_t opcode;
	uint8_t flags;                  /* ANCHOR */
	uint8_t reserved[4];
	uint8_t group;
	uint8_t parameter_list_length[2];
	uint8_t control;
};

struct scsi_cdb_report_luns {
	uint8_t opcode;
	uint8_t reserved1;
	uint8_t select_report;
	uint8_t reserved2[3];
	uint8_t allocation_length[4];
	uint8_t reserved3;
	uint8_t control;
};

/* ------------------------------------------------------------ INQUIRY */
#define SCSI_PERIPH_DIRECT_ACCESS       0x00  /* peripheral device type */
#define SCSI_PERIPH_QUALIFIER_SHIFT     5
#define SCSI_PERIPH_NOT_CONNECTED       (0x3 << SCSI_PERIPH_QUALIFIER_SHIFT | 0x1F)

#define SCSI_VERSION_SPC3               0x05
#define SCSI_VERSION_SPC4               0x06
#define SCSI_INQ_RESPONSE_FORMAT_2      0x02
#define SCSI_INQ_HISUP                  0x10  /* byte 3 */
#define SCSI_INQ_TPC                    0x08  /* byte 5: 3PC */
#define SCSI_INQ_CMDQUE                 0x02  /* byte 7 */

/* SPC-4 6.6.2: standard INQUIRY data, 96 bytes. */
struct scsi_inquiry_std {
	uint8_t peripheral;             /* qualifier (7..5) | device type (4..0) */
	uint8_t rmb;                    /* removable medium bit (0x80) */
	uint8_t version;
	uint8_t response_format;        /* NORMACA | HISUP | format (3..0) */
	uint8_t additional_length;      /* bytes after byte 4 */
	uint8_t flags5;                 /* SCCS ACC TPGS 3PC PROTECT */
	uint8_t flags6;                 /* ENCSERV VS MULTIP */
	uint8_t flags7;                 /* CMDQUE VS */
	uint8_t vendor_id[8];
	uint8_t product_id[16];
	uint8_t product_revision[4];
	uint8_t vendor_specific[20];
	uint8_t flags56;
	uint8_t reserved57;
	uint8_t version_descriptor[8][2];
	uint8_t reserved74[22];
};

#define SCSI_VPD_SUPPORTED_PAGES        0x00
#define SCSI_VPD_UNIT_SERIAL_NUMBER     0x80
#define SCSI_VPD_DEVICE_IDENTIFICATION  0x83
#define SCSI_VPD_BLOCK_LIMITS           0xB0
#define SCSI_VPD_BLOCK_CHARACTERISTICS  0xB1
#define SCSI_VPD_LOGICAL_BLOCK_PROV     0xB2

/* Every VPD page starts with this header; page_length counts what follows. */
struct scsi_vpd_header {
	uint8_t peripheral;
	uint8_t page_code;
	uint8_t page_length[2];
};

/* Page 0x83 designation descriptor header (SPC-4 7.8.6.1). */
#define SCSI_VPD_CODESET_BINARY         0x1
#define SCSI_VPD_CODESET_ASCII          0x2
#define SCSI_VPD_CODESET_UTF8           0x3
#define SCSI_VPD_ASSOC_LUN              (0x0 << 4)
#define SCSI_VPD_ASSOC_PORT             (0x1 << 4)
#define SCSI_VPD_ASSOC_TARGET           (0x2 << 4)
#define SCSI_VPD_PIV                    0x80
#define SCSI_VPD_ID_VENDOR_SPECIFIC     0x0
#define SCSI_VPD_ID_T10_VENDOR          0x1
#define SCSI_VPD_ID_EUI64               0x2
#define SCSI_VPD_ID_NAA                 0x3
#define SCSI_VPD_ID_SCSI_NAME           0x8

struct scsi_vpd_designator {
	uint8_t protocol_codeset;       /* protocol identifier (7..4) | code set (3..0) */
	uint8_t flags_type;             /* PIV | association (5..4) | designator type */
	uint8_t reserved;
	uint8_t length;                 /* designator bytes that follow */
};

/* Page 0xB0, Block Limits (SBC-4 6.6.4): 64 bytes, page length 0x3C. */
#define SCSI_VPD_B0_PAGE_LENGTH         0x3C
#define SCSI_VPD_B0_UGAVALID            0x80  /* byte 32 */
struct scsi_vpd_block_limits {
	struct scsi_vpd_header header;
	uint8_t flags;                          /* WSNZ */
	uint8_t max_compare_write_length;
	uint8_t optimal_transfer_granularity[2];
	uint8_t max_transfer_length[4];
	uint8_t optimal_transfer_length[4];
	uint8_t max_prefetch_length[4];
	uint8_t max_unmap_lba_count[4];
	uint8_t max_unmap_descriptor_count[4];
	uint8_t optimal_unmap_granularity[4];
	uint8_t unmap_granularity_alignment[4]; /* UGAVALID | 31-bit alignment */
	uint8_t max_write_same_length[8];
	uint8_t max_atomic_transfer_length[4];
	uint8_t atomic_alignment[4];
	uint8_t atomic_transfer_granularity[4];
	uint8_t max_atomic_with_boundary[4];
	uint8_t max_atomic_boundary_size[4];
};

/* Page 0xB1, Block Device Characteristics (SBC-4 6.6.2): 64 bytes. */
#define SCSI_VPD_B1_PAGE_LENGTH         0x3C
#define SCSI_VPD_B1_NON_ROTATING        0x0001
struct scsi_vpd_block_characteristics {
	struct scsi_vpd_header header;
	uint8_t medium_rotation_rate[2];
	uint8_t product_type;
	uint8_t form_factor;                    /* WABEREQ WACEREQ | nominal form factor */
	uint8_t flags;                          /* ZONED | FUAB | VBULS */
	uint8_t reserved[55];
};

/* Page 0xB2, Logical Block Provisioning (SBC-4 6.6.6): 8 bytes. */
#define SCSI_VPD_B2_PAGE_LENGTH         0x04
#define SCSI_VPD_B2_LBPU                0x80  /* UNMAP supported */
#define SCSI_VPD_B2_LBPWS               0x40  /* WRITE SAME(16) with UNMAP */
#define SCSI_VPD_B2_LBPWS10             0x20  /* WRITE SAME(10) with UNMAP */
#define SCSI_VPD_B2_LBPRZ_SHIFT         2     /* 3-bit field: unmapped reads zero */
#define SCSI_VPD_B2_ANC_SUP             0x02
#define SCSI_VPD_B2_DP                  0x01
#define SCSI_VPD_B2_TYPE_FULL           0x0
#define SCSI_VPD_B2_TYPE_RESOURCE       0x1
#define SCSI_VPD_B2_TYPE_THIN           0x2
struct scsi_vpd_lb_provisioning {
	struct scsi_vpd_header header;
	uint8_t threshold_exponent;
	uint8_t flags;                          /* LBPU LBPWS LBPWS10 LBPRZ ANC_SUP DP */
	uint8_t provisioning_type;              /* minimum percentage (7..3) | type (2..0) */
	uint8_t threshold_percentage;
};

/* ------------------------------------------------------------ READ CAPACITY */
struct scsi_read_capacity10_data {
	uint8_t last_lba[4];            /* 0xFFFFFFFF: use READ CAPACITY(16) */
	uint8_t block_length[4];
};

#define SCSI_RC16_LBPME                 0x80  /* byte 14 */
#define SCSI_RC16_LBPRZ                 0x40  /* byte 14 */
#define SCSI_RC16_LOWEST_ALIGNED_MASK   0x3FFF
struct scsi_read_capacity16_data {
	uint8_t last_lba[8];
	uint8_t block_length[4];
	uint8_t protection;             /* P_TYPE (3..1) | PROT_EN */
	uint8_t exponents;              /* P_I_EXPONENT (7..4) | LB per PB exponent (3..0) */
	uint8_t lowest_aligned[2];      /* LBPME | LBPRZ | lowest aligned LBA (13..0) */
	uint8_t reserved[16];
};

/* ------------------------------------------------------------ MODE SENSE */
#define SCSI_MODE_DSP_WP                0x80  /* device-specific parameter: write protect */
#define SCSI_MODE_DSP_DPOFUA            0x10  /* DPO and FUA supported */
#define SCSI_MODE_LONGLBA               0x01  /* mode parameter header(10) byte 4 */

#define SCSI_MODE_PAGE_CACHING          0x08
#define SCSI_MODE_PAGE_CONTROL          0x0A
#define SCSI_MODE_PAGE_ALL              0x3F
#define SCSI_MODE_SUBPAGE_ALL           0xFF

struct scsi_mode_header6 {
	uint8_t mode_data_length;       /* bytes after this one */
	uint8_t medium_type;
	uint8_t device_specific;
	uint8_t block_descriptor_length;
};

struct scsi_mode_header10 {
	uint8_t mode_data_length[2];
	uint8_t medium_type;
	uint8_t device_specific;
	uint8_t flags;                  /* LONGLBA */
	uint8_t reserved;
	uint8_t block_descriptor_length[2];
};

/* Short LBA mode parameter block descriptor (SBC-4 6.5.2.2). */
struct scsi_mode_block_descriptor {
	uint8_t num_blocks[4];          /* 0xFFFFFFFF when the capacity does not fit */
	uint8_t reserved;
	uint8_t block_length[3];
};

/* Long LBA mode parameter block descriptor (SBC-4 6.5.2.3). */
struct scsi_mode_block_descriptor_long {
	uint8_t num_blocks[8];
	uint8_t reserved[4];
	uint8_t block_length[4];
};

#define SCSI_CACHING_WCE                0x04  /* byte 2: write cache enable */
#define SCSI_CACHING_RCD                0x01  /* byte 2: read cache disable */
#define SCSI_CACHING_PAGE_LENGTH        0x12

/* Caching mode page 08h (SBC-4 6.5.5): 20 bytes. */
struct scsi_mode_caching_page {
	uint8_t page_code;              /* PS | SPF | 0x08 */
	uint8_t page_length;            /* 0x12 */
	uint8_t flags;                  /* IC ABPF CAP DISC SIZE WCE MF RCD */
	uint8_t retention;
	uint8_t disable_prefetch_length[2];
	uint8_t min_prefetch[2];
	uint8_t max_prefetch[2];
	uint8_t max_prefetch_ceiling[2];
	uint8_t flags12;                /* FSW LBCSS DRA NV_DIS */
	uint8_t num_cache_segments;
	uint8_t cache_segment_size[2];
	uint8_t reserved;
	uint8_t obsolete[3];
};

#define SCSI_CONTROL_PAGE_LENGTH        0x0A
#define SCSI_CONTROL_D_SENSE            0x04  /* byte 2: descriptor sense */
#define SCSI_CONTROL_QAM_UNRESTRICTED   0x10  /* byte 3: queue algorithm modifier 1 */

/* Control mode page 0Ah (SPC-4 7.5.8): 12 bytes. */
struct scsi_mode_control_page {
	uint8_t page_code;
	uint8_t page_length;            /* 0x0A */
	uint8_t flags2;                 /* TST TMF_ONLY DPICZ D_SENSE GLTSD RLEC */
	uint8_t flags3;                 /* queue algorithm modifier | NUAR | QERR */
	uint8_t flags4;                 /* VS RAC UA_INTLCK_CTRL SWP */
	uint8_t flags5;                 /* ATO TAS ATMPE RWWP AUTOLOAD MODE */
	uint8_t obsolete[2];
	uint8_t busy_timeout[2];
	uint8_t self_test_time[2];
};

/* ------------------------------------------------------------ UNMAP */
/* SBC-4 5.32.2: parameter list header and block descriptors. */
struct scsi_unmap_header {
	uint8_t data_length[2];         /* bytes after this field */
	uint8_t block_descriptor_length[2];
	uint8_t reserved[4];
};

struct scsi_unmap_descriptor {
	uint8_t lba[8];
	uint8_t num_blocks[4];
	uint8_t reserved[4];
};

/* ------------------------------------------------------------ REPORT LUNS */
struct scsi_report_luns_header {
	uint8_t lun_list_length[4];     /* bytes of LUN entries that follow */
	uint8_t reserved[4];
};

struct scsi_lun_entry {
	uint8_t lun[8];
};

/* ------------------------------------------------------------ byte order */
static inline uint16_t scsi_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t scsi_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t scsi_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t scsi_get_be64(const uint8_t *p)
{
	return (uint64_t)scsi_get_be32(p) << 32 | scsi_get_be32(p + 4);
}

static inline void scsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void scsi_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void scsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void scsi_put_be64(uint8_t *p, uint64_t v)
{
	scsi_put_be32(p, (uint32_t)(v >> 32));
	scsi_put_be32(p + 4, (uint32_t)v);
}

/* ------------------------------------------------------------ layout checks */
_Static_assert(sizeof(struct scsi_sense_fixed) == 18, "fixed sense");
_Static_assert(sizeof(struct scsi_sense_desc_header) == 8, "descriptor sense header");
_Static_assert(sizeof(struct scsi_cdb6_rw) == 6, "CDB6");
_Static_assert(sizeof(struct scsi_cdb10) == 10, "CDB10");
_Static_assert(sizeof(struct scsi_cdb12) == 12, "CDB12");
_Static_assert(sizeof(struct scsi_cdb16) == 16, "CDB16");
_Static_assert(sizeof(struct scsi_cdb_inquiry) == 6, "INQUIRY CDB");
_Static_assert(sizeof(struct scsi_cdb_request_sense) == 6, "REQUEST SENSE CDB");
_Static_assert(sizeof(struct scsi_cdb_mode_sense6) == 6, "MODE SENSE(6) CDB");
_Static_assert(sizeof(struct scsi_cdb_mode_sense10) == 10, "MODE SENSE(10) CDB");
_Static_assert(sizeof(struct scsi_cdb_start_stop) == 6, "START STOP UNIT CDB");
_Static_assert(sizeof(struct scsi_cdb_read_capacity10) == 10, "READ CAPACITY(10) CDB");
_Static_assert(sizeof(struct scsi_cdb_read_capacity16) == 16, "READ CAPACITY(16) CDB");
_Static_assert(sizeof(struct scsi_cdb_sync_cache10) == 10, "SYNCHRONIZE CACHE(10) CDB");
_Static_assert(sizeof(struct scsi_cdb_sync_cache16) == 16, "SYNCHRONIZE CACHE(16) CDB");
_Static_assert(sizeof(struct scsi_cdb_unmap) == 10, "UNMAP CDB");
_Static_assert(sizeof(struct scsi_cdb_report_luns) == 12, "REPORT LUNS CDB");
_Static_assert(sizeof(struct scsi_inquiry_std) == 96, "standard INQUIRY data");
_Static_assert(__builtin_offsetof(struct scsi_inquiry_std, vendor_id) == 8, "T10 vendor id");
_Static_assert(__builtin_offsetof(struct scsi_inquiry_std, product_revision) == 32, "revision");
_Static_assert(__builtin_offsetof(struct scsi_inquiry_std, version_descriptor) == 58, "version descriptors");
_Static_assert(sizeof(struct scsi_vpd_header) == 4, "VPD header");
_Static_assert(sizeof(struct scsi_vpd_designator) == 4, "designation descriptor header");
_Static_assert(sizeof(struct scsi_vpd_block_limits) == 64, "VPD B0");
_Static_assert(__builtin_offsetof(struct scsi_vpd_block_limits, max_unmap_lba_count) == 20, "B0 unmap");
_Static_assert(__builtin_offsetof(struct scsi_vpd_block_limits, max_write_same_length) == 36, "B0 write same");
_Static_assert(sizeof(struct scsi_vpd_block_characteristics) == 64, "VPD B1");
_Static_assert(sizeof(struct scsi_vpd_lb_provisioning) == 8, "VPD B2");
_Static_assert(sizeof(struct scsi_read_capacity10_data) == 8, "READ CAPACITY(10) data");
_Static_assert(sizeof(struct scsi_read_capacity16_data) == 32, "READ CAPACITY(16) data");
_Static_assert(sizeof(struct scsi_mode_header6) == 4, "mode header(6)");
_Static_assert(sizeof(struct scsi_mode_header10) == 8, "mode header(10)");
_Static_assert(sizeof(struct scsi_mode_block_descriptor) == 8, "short block descriptor");
_Static_assert(sizeof(struct scsi_mode_block_descriptor_long) == 16, "long block descriptor");
_Static_assert(sizeof(struct scsi_mode_caching_page) == 20, "caching page");
_Static_assert(sizeof(struct scsi_mode_control_page) == 12, "control page");
_Static_assert(sizeof(struct scsi_unmap_header) == 8, "UNMAP header");
_Static_assert(sizeof(struct scsi_unmap_descriptor) == 16, "UNMAP descriptor");
_Static_assert(sizeof(struct scsi_report_luns_header) == 8, "REPORT LUNS header");
_Static_assert(sizeof(struct scsi_lun_entry) == 8, "LUN entry");

#endif /* OPENVDP_SCSI_SCSI_H */
