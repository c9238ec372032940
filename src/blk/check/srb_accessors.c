/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Run-time check of the SRB accessors in <storport.h>, never shipped: a
 * user-mode x64 program (run under Wine by `make check-blk-headers`) that
 * builds classic SRBs and SRB_EX blocks, well-formed and malformed, and
 * prints TAP. The accessors are header-only, so no StorPort is needed.
 */
#include <stdio.h>
#include <string.h>
#include <ntddk.h>
#include <storport.h>

static int n, failed;

static void check(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

/* SRB_EX: header, BTL8 address, one CDB16 block, in one buffer. */
struct srbex_buf {
	union {
		STORAGE_REQUEST_BLOCK srb;
		UCHAR raw[256];
	};
} __attribute__((aligned(16)));

#define ADDR_OFF  ((ULONG)sizeof(STORAGE_REQUEST_BLOCK))
#define CDB_OFF   (ADDR_OFF + (ULONG)sizeof(STOR_ADDR_BTL8))

static void make_srbex(struct srbex_buf *b, UCHAR *sense)
{
	PSTOR_ADDR_BTL8 a;
	PSRBEX_DATA_SCSI_CDB16 c;

	memset(b, 0, sizeof(*b));
	b->srb.Length = sizeof(STORAGE_REQUEST_BLOCK_HEADER);
	b->srb.Function = SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
	b->srb.Signature = SRB_SIGNATURE;
	b->srb.Version = STORAGE_REQUEST_BLOCK_VERSION_1;
	b->srb.SrbLength = CDB_OFF + sizeof(SRBEX_DATA_SCSI_CDB16);
	b->srb.SrbFunction = SRB_FUNCTION_EXECUTE_SCSI;
	b->srb.SrbFlags = SRB_FLAGS_DATA_IN;
	b->srb.DataTransferLength = 4096;
	b->srb.DataBuffer = b;
	b->srb.MiniportContext = sense;
	b->srb.AddressOffset = ADDR_OFF;
	b->srb.NumSrbExData = 1;
	b->srb.SrbExDataOffset[0] = CDB_OFF;
	a = (PSTOR_ADDR_BTL8)(b->raw + ADDR_OFF);
	a->Type = STOR_ADDRESS_TYPE_BTL8;
	a->AddressLength = STOR_ADDR_BTL8_ADDRESS_LENGTH;
	a->Path = 1;
	a->Target = 2;
	a->Lun = 3;
	c = (PSRBEX_DATA_SCSI_CDB16)(b->raw + CDB_OFF);
	c->Type = SrbExDataTypeScsiCdb16;
	c->Length = SRBEX_DATA_SCSI_CDB16_LENGTH;
	c->CdbLength = 10;
	c->SenseInfoBuffer = sense;
	c->SenseInfoBufferLength = 18;
	c->Cdb[0] = SCSIOP_READ;
}

int main(void)
{
	SCSI_REQUEST_BLOCK srb;
	struct srbex_buf b;
	UCHAR sense[32], path = 0, target = 0, lun = 0;
	PSRBEX_DATA_SCSI_CDB16 c;

	memset(&srb, 0, sizeof(srb));
	srb.Length = sizeof(srb);
	srb.Function = SRB_FUNCTION_EXECUTE_SCSI;
	srb.PathId = 4;
	srb.TargetId = 5;
	srb.Lun = 6;
	srb.CdbLength = 10;
	srb.SenseInfoBufferLength = 18;
	srb.SenseInfoBuffer = sense;
	srb.SrbFlags = SRB_FLAGS_DATA_OUT;
	srb.DataTransferLength = 512;
	srb.DataBuffer = sense;
	srb.SrbExtension = &b;
	srb.Cdb[0] = SCSIOP_WRITE;

	check(!SrbIsStorageRequestBlock(&srb), "classic SRB is not an SRB_EX");
	check(SrbGetSrbFunction(&srb) == SRB_FUNCTION_EXECUTE_SCSI, "classic: function");
	check(SrbGetCdb(&srb) == srb.Cdb && SrbGetCdbLength(&srb) == 10, "classic: CDB");
	check(SrbGetSenseInfoBuffer(&srb) == sense && SrbGetSenseInfoBufferLength(&srb) == 18,
	      "classic: sense buffer");
	check(SrbGetDataBuffer(&srb) == sense && SrbGetDataTransferLength(&srb) == 512 &&
	      SrbGetSrbFlags(&srb) == SRB_FLAGS_DATA_OUT, "classic: data buffer and flags");
	check(SrbGetMiniportContext(&srb) == &b, "classic: SRB extension");
	check(SrbGetPathTargetLun(&srb, &path, &target, &lun) && path == 4 && target == 5 &&
	      lun == 6, "classic: path/target/LUN");
	SrbSetScsiStatus(&srb, SCSISTAT_CHECK_CONDITION);
	SrbSetSrbStatus(&srb, SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID);
	SrbSetDataTransferLength(&srb, 0);
	check(srb.ScsiStatus == SCSISTAT_CHECK_CONDITION &&
	      SRB_STATUS(SrbGetSrbStatus(&srb)) == SRB_STATUS_ERROR &&
	      srb.DataTransferLength == 0, "classic: setters");
	srb.CdbLength = 200;
	check(SrbGetCdbLength(&srb) == 16, "classic: CDB length clamped to the array");

	make_srbex(&b, sense);
	c = (PSRBEX_DATA_SCSI_CDB16)(b.raw + CDB_OFF);
	check(SrbIsStorageRequestBlock(&b), "SRB_EX recognised");
	check(SrbGetSrbFunction(&b) == SRB_FUNCTION_EXECUTE_SCSI, "SRB_EX: SrbFunction");
	check(SrbGetCdb(&b) == c->Cdb && SrbGetCdbLength(&b) == 10 && SrbGetCdb(&b)[0] == SCSIOP_READ,
	      "SRB_EX: CDB from the CDB16 block");
	check(SrbGetSenseInfoBuffer(&b) == sense && SrbGetSenseInfoBufferLength(&b) == 18,
	      "SRB_EX: sense buffer");
	check(SrbGetDataBuffer(&b) == &b && SrbGetDataTransferLength(&b) == 4096 &&
	      SrbGetSrbFlags(&b) == SRB_FLAGS_DATA_IN, "SRB_EX: data buffer and flags");
	check(SrbGetMiniportContext(&b) == sense, "SRB_EX: miniport context");
	check(SrbGetPathTargetLun(&b, &path, &target, &lun) && path == 1 && target == 2 && lun == 3,
	      "SRB_EX: BTL8 address");
	SrbSetScsiStatus(&b, SCSISTAT_BUSY);
	SrbSetDataTransferLength(&b, 100);
	check(c->ScsiStatus == SCSISTAT_BUSY && b.srb.DataTransferLength == 100, "SRB_EX: setters");

	make_srbex(&b, sense);
	b.srb.NumSrbExData = 0x40000000;
	check(SrbGetCdb(&b) == NULL && SrbGetCdbLength(&b) == 0,
	      "SRB_EX: NumSrbExData beyond SrbLength is rejected");
	make_srbex(&b, sense);
	b.srb.SrbExDataOffset[0] = b.srb.SrbLength;
	check(SrbGetCdb(&b) == NULL, "SRB_EX: data offset at the end is rejected");
	make_srbex(&b, sense);
	b.srb.SrbExDataOffset[0] = 0xFFFFFFF0;
	check(SrbGetCdb(&b) == NULL, "SRB_EX: data offset beyond SrbLength is rejected");
	make_srbex(&b, sense);
	b.srb.SrbExDataOffset[0] = 4;
	check(SrbGetCdb(&b) == NULL, "SRB_EX: data offset inside the header is rejected");
	make_srbex(&b, sense);
	c->Length = 0x1000;
	check(SrbGetCdb(&b) == NULL, "SRB_EX: data block longer than the SRB is rejected");
	make_srbex(&b, sense);
	c->Length = 8;
	check(SrbGetCdb(&b) == NULL && SrbGetSenseInfoBuffer(&b) == NULL,
	      "SRB_EX: CDB16 block shorter than its layout is rejected");
	make_srbex(&b, sense);
	c->Type = SrbExDataTypeScsiCdb32;
	check(SrbGetCdb(&b) == NULL, "SRB_EX: other data types are not taken for CDB16");
	SrbSetScsiStatus(&b, SCSISTAT_BUSY);
	check(c->ScsiStatus == 0, "SRB_EX: no CDB16 block, status setter does nothing");
	make_srbex(&b, sense);
	c->CdbLength = 32;
	check(SrbGetCdbLength(&b) == 16, "SRB_EX: CDB length clamped to the array");
	make_srbex(&b, sense);
	b.srb.AddressOffset = b.srb.SrbLength - 4;
	check(!SrbGetPathTargetLun(&b, &path, &target, &lun), "SRB_EX: truncated address rejected");
	make_srbex(&b, sense);
	b.srb.AddressOffset = 8;
	check(!SrbGetPathTargetLun(&b, &path, &target, &lun), "SRB_EX: address inside the header rejected");
	make_srbex(&b, sense);
	((PSTOR_ADDR_BTL8)(b.raw + ADDR_OFF))->Type = STOR_ADDRESS_TYPE_UNKNOWN;
	check(!SrbGetPathTargetLun(&b, &path, &target, &lun), "SRB_EX: non-BTL8 address rejected");

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
