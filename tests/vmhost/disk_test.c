/* The disk test: INQUIRY, READ CAPACITY, WRITE of a per-sector pattern over
 * the whole disk, SYNCHRONIZE CACHE, READ back and compare, and a read past
 * the end that must fail; in "zero" mode also UNMAP / WRITE SAME(16) and
 * the limits in VPD B0/B2 and READ CAPACITY(16), in "eio" mode the errors a
 * blkdebug drive injects, in "dump" mode all of it through an adapter the
 * port started as the crash dump stack does. SCSI opcodes and CDB layouts:
 * SBC-3 / SPC-4.
 * Units: the test counts 512-byte image sectors everywhere (the pattern,
 * the zero ranges, the image check); only CDBs carry logical blocks of the
 * size READ CAPACITY reports, so a 4096-byte block at LBA L holds the
 * patterns of sectors 8L..8L+7 and the image check needs no block size. */
#define _GNU_SOURCE
#include "disk_test.h"
#include "nt_storport.h"
#include "vmhost.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512u
#define SCSIOP_INQUIRY 0x12
#define SCSIOP_READ_CAPACITY 0x25
#define SCSIOP_READ 0x28
#define SCSIOP_READ16 0x88
#define SCSIOP_VARIABLE_LENGTH 0x7f
#define SCSI_SA_READ32 0x0009
#define SCSIOP_WRITE 0x2a
#define SCSIOP_SYNCHRONIZE_CACHE 0x35
#define SCSIOP_TEST_UNIT_READY 0x00
#define SCSIOP_UNMAP 0x42
#define SCSIOP_WRITE_SAME16 0x93
#define SCSIOP_SERVICE_IN16 0x9e
#define SCSI_SAI_READ_CAPACITY16 0x10
#define SCSI_STATUS_CHECK_CONDITION 0x02
#define SENSE_MEDIUM_ERROR 0x03
#define SENSE_ILLEGAL_REQUEST 0x05
#define ASC_WRITE_ERROR 0x0c
#define ASC_UNRECOVERED_READ_ERROR 0x11
/* A swallowed completion (--inject) needs no long wait to be noticed. */
#define SRB_TIMEOUT_MS (sp_injecting() ? 3000u : 20000u)

static enum disk_mode mode = DISK_MODE_BASIC;
/* vdphost --bench: seconds per measurement instead of the test (0: test). */
static unsigned bench_seconds;
/* Set once the zero ranges were zeroed: from then on reads expect zeroes. */
static bool zeroed;
/* Logical block size (READ CAPACITY) and 512-byte sectors per block. */
static uint32_t blk = SECTOR, spb = 1;

/* Zero mode: what the test zeroes, 4 KiB aligned so that hole punching in
 * the image file needs no partial-block handling to read back as zeroes. */
enum zero_how { ZERO_UNMAP, ZERO_WS_UNMAP, ZERO_WS };
static const struct zero_range {
	uint32_t lba, count;
	enum zero_how how;
} zero_ranges[] = {
	{ 1024, 256, ZERO_UNMAP },
	{ 4096, 64, ZERO_UNMAP },
	{ 8192, 512, ZERO_WS_UNMAP },
	{ 12288, 8, ZERO_WS },
};
#define NZERO (sizeof(zero_ranges) / sizeof(zero_ranges[0]))
/* The ranges are in sectors and 4 KiB aligned: whole blocks up to 4096 bytes. */
#define DISK_MAX_BLOCK 4096u
#define ZERO_MIN_SECTORS 16384u

int disk_mode_parse(const char *name)
{
	if (!strcmp(name, "basic"))
		return DISK_MODE_BASIC;
	if (!strcmp(name, "zero"))
		return DISK_MODE_ZERO;
	if (!strcmp(name, "eio"))
		return DISK_MODE_EIO;
	if (!strcmp(name, "srbex"))
		return DISK_MODE_SRBEX;
	if (!strcmp(name, "dump"))
		return DISK_MODE_DUMP;
	return -1;
}

void disk_test_set_mode(enum disk_mode m)
{
	mode = m;
	sp_set_dump_mode(m == DISK_MODE_DUMP ? SP_DUMP_MODE_CRASH : 0);
}

/* A sector range as the logical blocks of a CDB; the test only ever asks
 * for whole blocks. */
static uint64_t to_blocks(uint64_t sectors, const char *what)
{
	if (sectors % spb)
		vh_fatal("disk test: %s of %llu sectors is not whole %u-byte blocks", what,
			 (unsigned long long)sectors, blk);
	return sectors / spb;
}

void disk_test_set_bench(unsigned seconds)
{
	bench_seconds = seconds;
}

static bool in_zero_range(uint64_t lba)
{
	for (unsigned i = 0; i < NZERO; i++)
		if (lba >= zero_ranges[i].lba && lba < (uint64_t)zero_ranges[i].lba + zero_ranges[i].count)
			return true;
	return false;
}

/* What sector lba must hold now: the pattern, or zeroes where the test
 * zeroed it or an injected write error kept it from ever being written. */
static void expected(uint64_t lba, uint8_t *s)
{
	if ((mode == DISK_MODE_ZERO && zeroed && in_zero_range(lba)) ||
	    (mode == DISK_MODE_EIO && lba == DISK_EIO_WRITE_LBA))
		memset(s, 0, SECTOR);
	else
		disk_pattern(lba, s);
}

void disk_pattern(uint64_t lba, uint8_t *s)
{
	memcpy(s, "VDPDISK\0", 8);
	memcpy(s + 8, &lba, 8);
	for (unsigned i = 16; i < SECTOR; i++)
		s[i] = (uint8_t)(lba * 7 + i * 13 + 0x5a);
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The last scsi() status with its flag bits (AUTOSENSE_VALID). */
static uint8_t last_raw;

static uint8_t scsi(sp_srb *srb, const uint8_t *cdb, unsigned cdblen, void *buf, uint32_t len,
		    uint32_t flags, uint8_t *sense)
{
	void *ext = srb->SrbExtension;

	memset(srb, 0, sizeof(*srb));
	srb->SrbExtension = ext;
	srb->Function = SRB_FUNCTION_EXECUTE_SCSI;
	srb->CdbLength = (uint8_t)cdblen;
	memcpy(srb->Cdb, cdb, cdblen);
	srb->DataBuffer = buf;
	srb->DataTransferLength = len;
	srb->SrbFlags = flags;
	srb->SenseInfoBuffer = sense;
	srb->SenseInfoBufferLength = sense ? 18 : 0;
	srb->TimeOutValue = SRB_TIMEOUT_MS / 1000;
	last_raw = sp_execute(srb, SRB_TIMEOUT_MS);
	return last_raw & 0x3f; /* without AUTOSENSE_VALID/QUEUE_FROZEN */
}

static uint8_t rw10(sp_srb *srb, uint8_t op, uint64_t lba, uint32_t count, void *buf,
		    uint8_t *sense)
{
	uint8_t cdb[10] = { op };
	uint32_t blocks = (uint32_t)to_blocks(count, "READ/WRITE(10) length");

	be32(cdb + 2, (uint32_t)to_blocks(lba, "READ/WRITE(10) LBA"));
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
	return scsi(srb, cdb, 10, buf, count * SECTOR,
		    op == SCSIOP_WRITE ? SRB_FLAGS_DATA_OUT : SRB_FLAGS_DATA_IN, sense);
}

/* Requests kept outstanding in the whole-disk passes: more descriptors
 * than a small virtqueue has, so the miniport's busy path runs too. */
#define QD 8
#define BUSY_RETRIES 2000

static unsigned long busy_retries;

struct io_slot {
	sp_srb *srb;
	uint8_t *buf, *sense;
	uint64_t lba;
	uint32_t n;
	bool busy;
};

static void issue(struct io_slot *sl, uint8_t op)
{
	uint8_t cdb[10] = { op };
	void *ext = sl->srb->SrbExtension;
	uint32_t blocks = (uint32_t)to_blocks(sl->n, "READ/WRITE(10) length");

	be32(cdb + 2, (uint32_t)to_blocks(sl->lba, "READ/WRITE(10) LBA"));
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
	memset(sl->srb, 0, sizeof(*sl->srb));
	sl->srb->SrbExtension = ext;
	sl->srb->Function = SRB_FUNCTION_EXECUTE_SCSI;
	sl->srb->CdbLength = 10;
	memcpy(sl->srb->Cdb, cdb, 10);
	sl->srb->DataBuffer = sl->buf;
	sl->srb->DataTransferLength = sl->n * SECTOR;
	sl->srb->SrbFlags = op == SCSIOP_WRITE ? SRB_FLAGS_DATA_OUT : SRB_FLAGS_DATA_IN;
	sl->srb->SenseInfoBuffer = sl->sense;
	sl->srb->SenseInfoBufferLength = 18;
	sl->srb->TimeOutValue = SRB_TIMEOUT_MS / 1000;
	sp_submit(sl->srb);
	sl->busy = true;
}

/* An injected EIO must come back as CHECK CONDITION with fixed-format
 * sense MEDIUM ERROR and the read/write ASC (blk_scsi's mapping), never as
 * success. raw is the SRB status with its flag bits. */
static int check_medium_error(const char *name, const char *what, uint64_t lba, uint32_t n,
			      const sp_srb *srb, uint8_t raw, const uint8_t *sense, uint8_t asc)
{
	bool sense_ok = (raw & SRB_STATUS_AUTOSENSE_VALID) && (sense[0] & 0x7f) == 0x70 &&
			(sense[2] & 0x0f) == SENSE_MEDIUM_ERROR && sense[12] == asc;

	if ((raw & 0x3f) == SRB_STATUS_ERROR && srb->ScsiStatus == SCSI_STATUS_CHECK_CONDITION &&
	    sense_ok) {
		printf("ok - %s: %s at LBA %llu+%u over injected EIO: CHECK CONDITION, MEDIUM ERROR, ASC %#x\n",
		       name, what, (unsigned long long)lba, n, asc);
		return 0;
	}
	printf("not ok - %s: %s at LBA %llu+%u over injected EIO: SRB status %#x, SCSI status %#x, sense %02x/%02x/%02x (want MEDIUM ERROR, ASC %#x)\n",
	       name, what, (unsigned long long)lba, n, raw, srb->ScsiStatus, sense[0], sense[2] & 0x0f,
	       sense[12], asc);
	return 1;
}

/* The injected-error sector inside a request, if this mode has one. */
static bool hits_eio(uint8_t op, uint64_t lba, uint32_t n)
{
	uint64_t bad = op == SCSIOP_WRITE ? DISK_EIO_WRITE_LBA : DISK_EIO_READ_LBA;

	return mode == DISK_MODE_EIO && bad >= lba && bad < lba + n;
}

/* Wait for a slot's request; a BUSY completion is retried as StorPort
 * would requeue it. Reads are checked against the expected contents. */
static int finish(const char *name, struct io_slot *sl, uint8_t op)
{
	uint8_t raw = sp_wait(sl->srb, SRB_TIMEOUT_MS), st = raw & 0x3f;
	uint8_t want[SECTOR];

	for (int r = 0; st == SRB_STATUS_BUSY && r < BUSY_RETRIES; r++) {
		usleep(50);
		__atomic_add_fetch(&busy_retries, 1, __ATOMIC_RELAXED);
		issue(sl, op);
		raw = sp_wait(sl->srb, SRB_TIMEOUT_MS);
		st = raw & 0x3f;
	}
	sl->busy = false;
	if (hits_eio(op, sl->lba, sl->n))
		return check_medium_error(name, op == SCSIOP_WRITE ? "WRITE(10)" : "READ(10)", sl->lba,
					  sl->n, sl->srb, raw, sl->sense,
					  op == SCSIOP_WRITE ? ASC_WRITE_ERROR : ASC_UNRECOVERED_READ_ERROR);
	if (st != SRB_STATUS_SUCCESS) {
		printf("not ok - %s: %s(10) at LBA %llu: SRB status %#x\n", name,
		       op == SCSIOP_WRITE ? "WRITE" : "READ", (unsigned long long)sl->lba, st);
		return 1;
	}
	for (uint32_t i = 0; op == SCSIOP_READ && i < sl->n; i++) {
		expected(sl->lba + i, want);
		if (memcmp(sl->buf + i * SECTOR, want, SECTOR)) {
			printf("not ok - %s: READ(10): sector %llu does not hold its %s\n", name,
			       (unsigned long long)(sl->lba + i),
			       want[0] ? "pattern" : "zeroes");
			return 1;
		}
	}
	return 0;
}

/* One pass over every stride-th chunk of the disk from chunk first, with
 * QD requests in flight. */
static int pass_part(const char *name, uint8_t op, uint64_t sectors, uint32_t chunk,
		     unsigned first, unsigned stride)
{
	struct io_slot sl[QD];
	uint64_t phys;
	unsigned k = 0;
	/* The dump port sends one request at a time. */
	int qd = sp_dump_mode() ? 1 : QD;
	int bad = 0;

	memset(sl, 0, sizeof(sl));
	for (int i = 0; i < qd; i++) {
		sl[i].srb = sp_alloc_srb();
		sl[i].buf = dma_alloc(chunk, 4096, &phys);
		sl[i].sense = dma_alloc(64, 64, &phys);
		if (!sl[i].srb || !sl[i].buf || !sl[i].sense)
			vh_fatal("disk test: DMA pool exhausted");
	}
	for (uint64_t lba = (uint64_t)first * (chunk / SECTOR); lba < sectors && !bad;
	     lba += (uint64_t)stride * (chunk / SECTOR), k = (k + 1) % (unsigned)qd) {
		struct io_slot *s = &sl[k];
		if (s->busy)
			bad |= finish(name, s, op);
		s->lba = lba;
		s->n = (uint32_t)(sectors - lba < chunk / SECTOR ? sectors - lba : chunk / SECTOR);
		if (op == SCSIOP_WRITE)
			for (uint32_t i = 0; i < s->n; i++)
				disk_pattern(lba + i, s->buf + i * SECTOR);
		else
			memset(s->buf, 0xee, s->n * SECTOR);
		issue(s, op);
	}
	for (int i = 0; i < qd; i++) {
		if (sl[i].busy)
			bad |= finish(name, &sl[i], op);
		sp_free_srb(sl[i].srb);
		dma_free(sl[i].buf);
		dma_free(sl[i].sense);
	}
	return bad;
}

/* Several processors: one submitter thread bound to each, every one
 * taking its share of the chunks, as the disk stack on every CPU would. */
struct pass_job {
	const char *name;
	uint8_t op;
	uint64_t sectors;
	uint32_t chunk;
	unsigned first, stride;
	int bad;
};

static void *pass_thread(void *arg)
{
	struct pass_job *j = arg;

	vh_set_irql(PASSIVE_LEVEL);
	j->bad = pass_part(j->name, j->op, j->sectors, j->chunk, j->first, j->stride);
	return NULL;
}

static int pass(const char *name, uint8_t op, uint64_t sectors, uint32_t chunk)
{
	static char names[VH_MAX_CPUS][16];
	struct pass_job jobs[VH_MAX_CPUS];
	int ids[VH_MAX_CPUS], bad = 0;
	unsigned n = vh_cpu_count();

	/* A crash dump runs on one processor. */
	if (n == 1 || sp_dump_mode())
		return pass_part(name, op, sectors, chunk, 0, 1);
	for (unsigned c = 0; c < n; c++) {
		jobs[c] = (struct pass_job){ name, op, sectors, chunk, c, n, 0 };
		snprintf(names[c], sizeof(names[c]), "submit%u", c);
		ids[c] = vh_thread_start_on(names[c], VH_STACK_SIZE, pass_thread, &jobs[c], (int)c);
	}
	for (unsigned c = 0; c < n; c++) {
		vh_thread_join(ids[c]);
		bad |= jobs[c].bad;
	}
	return bad;
}

/* With several processors and per-queue MSI-X messages, every request
 * queue's message must have carried completions: a driver that sends all
 * I/O down one queue fails here. Message 0 is the configuration change. */
static int check_queue_spread(const char *name)
{
	unsigned msgs = sp_message_count(), cpus = vh_cpu_count(), busy = 0, want;
	char line[512];
	int at = 0;

	if (cpus < 2 || msgs < 3) {
		printf("ok - %s: queue spread not checked (%u processor(s), %u MSI-X message(s))\n",
		       name, cpus, msgs);
		return 0;
	}
	for (unsigned m = 0; m < msgs; m++) {
		unsigned long claimed;
		uint32_t where;
		unsigned long n = sp_message_interrupts(m, &claimed, &where);
		if (m > 0 && claimed > 0)
			busy++;
		if (at < (int)sizeof(line))
			at += snprintf(line + at, sizeof(line) - (size_t)at, "%s msg %u: %lu (cpus %#x)",
				       m ? "," : "", m, n, where);
	}
	/* Queues are one per processor, up to one per data message. */
	want = cpus < msgs - 1 ? cpus : msgs - 1;
	printf("%s - %s: completions on %u request queue message(s), want >= %u; STOR_PERF flags %#x;%s\n",
	       busy >= want ? "ok" : "not ok", name, busy, want, sp_perf_flags(), line);
	return busy < want;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* READ(10) of lba..lba+n-1 (n sectors fit in buf) compared with expected(). */
static int read_verify(const char *name, sp_srb *srb, uint64_t lba, uint32_t n, uint8_t *buf,
		       uint8_t *sense)
{
	uint8_t want[SECTOR], st;

	if (!n)
		return 0;
	memset(buf, 0xee, n * SECTOR);
	st = rw10(srb, SCSIOP_READ, lba, n, buf, sense);
	if (st != SRB_STATUS_SUCCESS) {
		printf("not ok - %s: READ(10) at LBA %llu+%u: SRB status %#x\n", name,
		       (unsigned long long)lba, n, st);
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		expected(lba + i, want);
		if (memcmp(buf + i * SECTOR, want, SECTOR)) {
			printf("not ok - %s: READ(10): sector %llu does not hold its %s\n", name,
			       (unsigned long long)(lba + i), want[0] ? "pattern" : "zeroes");
			return 1;
		}
	}
	return 0;
}

/* (Re)write the pattern over lba..lba+n-1 with one WRITE(10). */
static int write_pattern(const char *name, sp_srb *srb, uint64_t lba, uint32_t n, uint8_t *buf,
			 uint8_t *sense)
{
	uint8_t st;

	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		disk_pattern(lba + i, buf + i * SECTOR);
	st = rw10(srb, SCSIOP_WRITE, lba, n, buf, sense);
	if (st == SRB_STATUS_SUCCESS)
		return 0;
	printf("not ok - %s: WRITE(10) at LBA %llu+%u: SRB status %#x\n", name,
	       (unsigned long long)lba, n, st);
	return 1;
}

/* Eio mode after the write pass: the chunk with the bad write sector failed
 * as a whole; write it again around that sector, and show that the sector
 * alone still fails and its neighbours do not. */
static int eio_after_write(const char *name, sp_srb *srb, uint32_t chunk, uint8_t *buf,
			   uint8_t *sense)
{
	uint64_t w = DISK_EIO_WRITE_LBA, c0 = w - w % (chunk / SECTOR), c1 = c0 + chunk / SECTOR;
	int bad = 0;
	uint8_t st;

	bad += write_pattern(name, srb, c0, (uint32_t)(w - c0), buf, sense);
	bad += write_pattern(name, srb, w + 1, (uint32_t)(c1 - w - 1), buf, sense);
	disk_pattern(w, buf);
	memset(sense, 0, 18);
	st = rw10(srb, SCSIOP_WRITE, (uint32_t)w, 1, buf, sense);
	(void)st;
	bad += check_medium_error(name, "WRITE(10) of the bad sector alone", w, 1, srb, last_raw, sense,
				  ASC_WRITE_ERROR);
	if (!bad)
		printf("ok - %s: the rest of the failed write request rewritten around LBA %llu\n", name,
		       (unsigned long long)w);
	return bad;
}

/* Eio mode after the read pass: the chunk with the bad read sector was not
 * compared; read it around that sector, then the sector alone. */
static int eio_after_read(const char *name, sp_srb *srb, uint32_t chunk, uint8_t *buf,
			  uint8_t *sense)
{
	uint64_t r = DISK_EIO_READ_LBA, c0 = r - r % (chunk / SECTOR), c1 = c0 + chunk / SECTOR;
	int bad = 0;

	bad += read_verify(name, srb, c0, (uint32_t)(r - c0), buf, sense);
	bad += read_verify(name, srb, r + 1, (uint32_t)(c1 - r - 1), buf, sense);
	if (!bad)
		printf("ok - %s: the sectors around the bad read sector %llu hold the pattern\n", name,
		       (unsigned long long)r);
	memset(sense, 0, 18);
	rw10(srb, SCSIOP_READ, (uint32_t)r, 1, buf, sense);
	bad += check_medium_error(name, "READ(10) of the bad sector alone", r, 1, srb, last_raw, sense,
				  ASC_UNRECOVERED_READ_ERROR);
	return bad;
}

/* Zero mode: the thin-provisioning limits, then UNMAP and WRITE SAME(16)
 * over zero_ranges. */
static int zero_ops(const char *name, sp_srb *srb, uint64_t sectors, uint8_t *buf, uint8_t *sense)
{
	uint8_t cdb[16], st;
	uint32_t max_unmap, max_desc;
	uint64_t max_ws, rc_last;
	int bad = 0;

	if (sectors < ZERO_MIN_SECTORS) {
		printf("not ok - %s: zero test needs %u sectors, the disk has %llu\n", name,
		       ZERO_MIN_SECTORS, (unsigned long long)sectors);
		return 1;
	}
	/* VPD B2: UNMAP and WRITE SAME with UNMAP must be advertised. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_INQUIRY;
	cdb[1] = 1;
	cdb[2] = 0xb2;
	cdb[4] = 64;
	memset(buf, 0, 64);
	st = scsi(srb, cdb, 6, buf, 64, SRB_FLAGS_DATA_IN, sense);
	if (st != SRB_STATUS_SUCCESS || buf[1] != 0xb2 || !(buf[5] & 0x80) || !(buf[5] & 0x40)) {
		printf("not ok - %s: VPD B2: status %#x, page %#x, flags %#x (want LBPU and LBPWS)\n",
		       name, st, buf[1], buf[5]);
		return 1;
	}
	printf("ok - %s: VPD B2: LBPU %d, LBPWS %d, LBPWS10 %d, provisioning type %u\n", name,
	       !!(buf[5] & 0x80), !!(buf[5] & 0x40), !!(buf[5] & 0x20), buf[6] & 7);

	/* VPD B0: the limits the ranges below must respect. */
	cdb[2] = 0xb0;
	memset(buf, 0, 64);
	st = scsi(srb, cdb, 6, buf, 64, SRB_FLAGS_DATA_IN, sense);
	max_unmap = get_be32(buf + 20);
	max_desc = get_be32(buf + 24);
	max_ws = get_be64(buf + 36);
	if (st != SRB_STATUS_SUCCESS || buf[1] != 0xb0 || max_unmap < 256 / spb || !max_desc ||
	    max_ws < 512 / spb) {
		printf("not ok - %s: VPD B0: status %#x, page %#x, max unmap %u blocks in %u descriptors, max write same %llu\n",
		       name, st, buf[1], max_unmap, max_desc, (unsigned long long)max_ws);
		return 1;
	}
	/* The granularity is in logical blocks too: its size in bytes shows a
	 * unit mix-up on a 4Kn disk at a glance. */
	printf("ok - %s: VPD B0: max unmap %u blocks in %u descriptor(s), max write same %llu blocks, WSNZ %d, unmap granularity %u blocks (%llu bytes)\n",
	       name, max_unmap, max_desc, (unsigned long long)max_ws, buf[4] & 1, get_be32(buf + 28),
	       (unsigned long long)get_be32(buf + 28) * blk);

	/* READ CAPACITY(16): same size as READ CAPACITY(10), LBPME set. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_SERVICE_IN16;
	cdb[1] = SCSI_SAI_READ_CAPACITY16;
	be32(cdb + 10, 32);
	memset(buf, 0, 32);
	st = scsi(srb, cdb, 16, buf, 32, SRB_FLAGS_DATA_IN, sense);
	rc_last = get_be64(buf);
	if (st != SRB_STATUS_SUCCESS || (rc_last + 1) * spb != sectors || get_be32(buf + 8) != blk ||
	    !(buf[14] & 0x80)) {
		printf("not ok - %s: READ CAPACITY(16): status %#x, last LBA %llu, block %u, LBPME %d\n",
		       name, st, (unsigned long long)rc_last, get_be32(buf + 8), !!(buf[14] & 0x80));
		return 1;
	}
	printf("ok - %s: READ CAPACITY(16): %llu blocks of %u bytes, LBPME 1, LBPRZ %d\n", name,
	       (unsigned long long)(rc_last + 1), blk, !!(buf[14] & 0x40));

	/* More descriptors than VPD B0 allows is an invalid parameter list. */
	if (max_desc < 0xffffffffu && max_desc < 200) {
		uint32_t n = max_desc + 1, len = 8 + 16 * n;
		memset(buf, 0, len);
		buf[0] = (uint8_t)((len - 2) >> 8);
		buf[1] = (uint8_t)(len - 2);
		buf[2] = (uint8_t)((16 * n) >> 8);
		buf[3] = (uint8_t)(16 * n);
		for (uint32_t i = 0; i < n; i++) {
			put_be64(buf + 8 + 16 * i, zero_ranges[0].lba / spb + i);
			be32(buf + 8 + 16 * i + 8, 1);
		}
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = SCSIOP_UNMAP;
		cdb[7] = (uint8_t)(len >> 8);
		cdb[8] = (uint8_t)len;
		memset(sense, 0, 18);
		st = scsi(srb, cdb, 10, buf, len, SRB_FLAGS_DATA_OUT, sense);
		if (st != SRB_STATUS_SUCCESS && (sense[2] & 0x0f) == SENSE_ILLEGAL_REQUEST) {
			printf("ok - %s: UNMAP with %u descriptors (limit %u) rejected: ILLEGAL REQUEST\n",
			       name, n, max_desc);
		} else {
			printf("not ok - %s: UNMAP with %u descriptors (limit %u): SRB status %#x, sense key %#x\n",
			       name, n, max_desc, st, sense[2] & 0x0f);
			bad++;
		}
	}

	for (unsigned i = 0; i < NZERO; i++) {
		const struct zero_range *z = &zero_ranges[i];
		uint64_t zlba = to_blocks(z->lba, "zero range LBA");
		uint32_t zn = (uint32_t)to_blocks(z->count, "zero range length");
		const char *what;

		memset(cdb, 0, sizeof(cdb));
		if (z->how == ZERO_UNMAP) {
			/* One descriptor per command: QEMU allows one (max_discard_seg). */
			memset(buf, 0, 24);
			buf[1] = 22;
			buf[3] = 16;
			put_be64(buf + 8, zlba);
			be32(buf + 16, zn);
			cdb[0] = SCSIOP_UNMAP;
			cdb[8] = 24;
			what = "UNMAP";
			st = scsi(srb, cdb, 10, buf, 24, SRB_FLAGS_DATA_OUT, sense);
		} else {
			memset(buf, 0, blk);
			cdb[0] = SCSIOP_WRITE_SAME16;
			cdb[1] = z->how == ZERO_WS_UNMAP ? 0x08 : 0;
			put_be64(cdb + 2, zlba);
			be32(cdb + 10, zn);
			what = z->how == ZERO_WS_UNMAP ? "WRITE SAME(16) UNMAP=1" : "WRITE SAME(16) UNMAP=0";
			st = scsi(srb, cdb, 16, buf, blk, SRB_FLAGS_DATA_OUT, sense);
		}
		if (st == SRB_STATUS_SUCCESS) {
			printf("ok - %s: %s of LBA %llu+%u (sectors %u+%u)\n", name, what,
			       (unsigned long long)zlba, zn, z->lba, z->count);
		} else {
			printf("not ok - %s: %s of LBA %llu+%u: SRB status %#x, sense %#x/%#x\n", name,
			       what, (unsigned long long)zlba, zn, st, sense[2] & 0x0f, sense[12]);
			bad++;
		}
	}
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_SYNCHRONIZE_CACHE;
	st = scsi(srb, cdb, 10, NULL, 0, 0, sense);
	if (st != SRB_STATUS_SUCCESS) {
		printf("not ok - %s: SYNCHRONIZE CACHE after zeroing: SRB status %#x\n", name, st);
		bad++;
	}
	zeroed = true;
	return bad;
}

/* ------------------------------------------------------------ benchmark */

#define BENCH_QD_MAX 32
#define BENCH_SEQ_BYTES (1u << 20)

static uint64_t bench_rng = 0x9e3779b97f4a7c15ull;

static uint64_t bench_rand(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return bench_rng;
}

/* 4 KiB reads at random 4 KiB-aligned offsets, qd in flight, for secs. */
static double bench_randread(const char *name, struct io_slot *sl, unsigned qd, uint64_t sectors,
			     unsigned secs, int *bad)
{
	uint64_t t0 = vh_now_ns(), end = t0 + (uint64_t)secs * 1000000000ull, done = 0, now = t0;
	uint64_t blocks = sectors / 8;

	for (unsigned k = 0;; k = (k + 1) % qd) {
		struct io_slot *s = &sl[k];
		if (s->busy) {
			uint8_t st = sp_wait(s->srb, SRB_TIMEOUT_MS) & 0x3f;
			s->busy = false;
			if (st != SRB_STATUS_SUCCESS && st != SRB_STATUS_BUSY) {
				printf("not ok - %s: bench READ at LBA %llu: SRB status %#x\n", name,
				       (unsigned long long)s->lba, st);
				(*bad)++;
				break;
			}
			done += st == SRB_STATUS_SUCCESS;
			now = vh_now_ns();
		}
		if (now >= end) {
			bool any = false;
			for (unsigned i = 0; i < qd; i++)
				any |= sl[i].busy;
			if (!any)
				break;
			continue;
		}
		s->lba = bench_rand() % blocks * 8;
		s->n = 8;
		issue(s, SCSIOP_READ);
	}
	for (unsigned i = 0; i < qd; i++)
		if (sl[i].busy) {
			sp_wait(sl[i].srb, SRB_TIMEOUT_MS);
			sl[i].busy = false;
		}
	return (double)done / ((double)(now - t0) / 1e9);
}

/* Sequential 1 MiB requests, each cut into max-transfer SRBs issued
 * together (as the Windows class driver splits them), for secs. */
static double bench_seq(const char *name, struct io_slot *sl, unsigned nslots, uint8_t op,
			uint64_t sectors, uint32_t chunk, unsigned secs, int *bad)
{
	uint64_t t0 = vh_now_ns(), end = t0 + (uint64_t)secs * 1000000000ull, bytes = 0, lba = 0;
	uint32_t per = BENCH_SEQ_BYTES / chunk, spc = chunk / SECTOR;

	if (per > nslots || sectors < BENCH_SEQ_BYTES / SECTOR)
		return 0;
	while (vh_now_ns() < end && !*bad) {
		if (lba + BENCH_SEQ_BYTES / SECTOR > sectors)
			lba = 0;
		for (uint32_t i = 0; i < per; i++) {
			sl[i].lba = lba + (uint64_t)i * spc;
			sl[i].n = spc;
			issue(&sl[i], op);
		}
		for (uint32_t i = 0; i < per; i++) {
			uint8_t st = sp_wait(sl[i].srb, SRB_TIMEOUT_MS) & 0x3f;
			sl[i].busy = false;
			if (st != SRB_STATUS_SUCCESS) {
				printf("not ok - %s: bench %s at LBA %llu: SRB status %#x\n", name,
				       op == SCSIOP_WRITE ? "WRITE" : "READ", (unsigned long long)sl[i].lba, st);
				(*bad)++;
			}
		}
		bytes += BENCH_SEQ_BYTES;
		lba += BENCH_SEQ_BYTES / SECTOR;
	}
	return (double)bytes / 1e6 / ((double)(vh_now_ns() - t0) / 1e9);
}

/* Prints "# VDPBENCH metric value" lines (ci/vm/bench.sh makes the table);
 * figures are never asserted. */
static int disk_bench(const char *name, sp_srb *srb, uint64_t sectors, uint32_t chunk, uint8_t *sense)
{
	struct io_slot sl[BENCH_QD_MAX];
	uint64_t phys;
	int bad = 0;
	double v;

	(void)srb;
	(void)sense;
	memset(sl, 0, sizeof(sl));
	for (int i = 0; i < BENCH_QD_MAX; i++) {
		sl[i].srb = sp_alloc_srb();
		/* Only the slots of one 1 MiB request need chunk-sized buffers. */
		uint32_t bufsz = (uint32_t)i < BENCH_SEQ_BYTES / chunk && chunk > 4096 ? chunk : 4096;
		sl[i].buf = dma_alloc(bufsz, 4096, &phys);
		sl[i].sense = dma_alloc(64, 64, &phys);
		if (!sl[i].srb || !sl[i].buf || !sl[i].sense)
			vh_fatal("disk bench: DMA pool exhausted");
		memset(sl[i].buf, 0xa5, bufsz);
	}
	printf("# VDPBENCH request %u\n", chunk);
	v = bench_seq(name, sl, BENCH_QD_MAX, SCSIOP_WRITE, sectors, chunk, bench_seconds, &bad);
	printf("# VDPBENCH seqwrite-1m-mbs %.1f\n", v);
	v = bench_seq(name, sl, BENCH_QD_MAX, SCSIOP_READ, sectors, chunk, bench_seconds, &bad);
	printf("# VDPBENCH seqread-1m-mbs %.1f\n", v);
	v = bench_randread(name, sl, 1, sectors, bench_seconds, &bad);
	printf("# VDPBENCH randread-4k-qd1-iops %.0f\n", v);
	v = bench_randread(name, sl, 32, sectors, bench_seconds, &bad);
	printf("# VDPBENCH randread-4k-qd32-iops %.0f\n", v);
	for (int i = 0; i < BENCH_QD_MAX; i++) {
		sp_free_srb(sl[i].srb);
		dma_free(sl[i].buf);
		dma_free(sl[i].sense);
	}
	if (!bad)
		printf("ok - %s: benchmark ran (%u s per measurement)\n", name, bench_seconds);
	return bad;
}

/* SRB_EX mode after the whole-disk passes: READ(16) through the CDB16
 * block, then a 32-byte CDB (READ(32), SBC-3 variable-length) in a CDB32
 * block, which a disk without protection information must refuse cleanly:
 * an error status, never success, a crash or a hang. */
static int srbex_ops(const char *name, sp_srb *srb, uint64_t sectors, uint8_t *buf, uint8_t *sense)
{
	uint8_t cdb[32], want[SECTOR], raw, st;
	uint64_t lba = sectors / 2;
	int bad = 0;
	void *ext;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_READ16;
	put_be64(cdb + 2, to_blocks(lba, "READ(16) LBA"));
	be32(cdb + 10, (uint32_t)to_blocks(8, "READ(16) length"));
	memset(buf, 0xee, 8 * SECTOR);
	st = scsi(srb, cdb, 16, buf, 8 * SECTOR, SRB_FLAGS_DATA_IN, sense);
	for (uint32_t i = 0; st == SRB_STATUS_SUCCESS && i < 8 && !bad; i++) {
		expected(lba + i, want);
		bad = memcmp(buf + i * SECTOR, want, SECTOR) != 0;
	}
	printf("%s - %s: SRB_EX READ(16) of LBA %llu+8 (CDB16 block): SRB status %#x%s\n",
	       st == SRB_STATUS_SUCCESS && !bad ? "ok" : "not ok", name, (unsigned long long)lba, st,
	       bad ? ", data does not match" : "");
	bad = st != SRB_STATUS_SUCCESS || bad;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_VARIABLE_LENGTH;
	cdb[7] = 32 - 8; /* additional CDB length */
	cdb[8] = SCSI_SA_READ32 >> 8;
	cdb[9] = SCSI_SA_READ32 & 0xff;
	put_be64(cdb + 12, lba / spb);
	be32(cdb + 28, 1);
	ext = srb->SrbExtension;
	memset(srb, 0, sizeof(*srb));
	srb->SrbExtension = ext;
	srb->DataBuffer = buf;
	srb->DataTransferLength = blk;
	srb->SrbFlags = SRB_FLAGS_DATA_IN;
	srb->SenseInfoBuffer = sense;
	srb->SenseInfoBufferLength = 18;
	srb->TimeOutValue = SRB_TIMEOUT_MS / 1000;
	memset(sense, 0, 18);
	raw = sp_execute_cdb32(srb, cdb, SRB_TIMEOUT_MS);
	st = raw & 0x3f;
	if ((st == SRB_STATUS_ERROR && srb->ScsiStatus == SCSI_STATUS_CHECK_CONDITION &&
	     (raw & SRB_STATUS_AUTOSENSE_VALID) && (sense[2] & 0x0f) == SENSE_ILLEGAL_REQUEST) ||
	    st == SRB_STATUS_INVALID_REQUEST) {
		printf("ok - %s: SRB_EX 32-byte CDB (READ(32), CDB32 block) rejected: SRB status %#x, sense key %#x, ASC %#x\n",
		       name, raw, sense[2] & 0x0f, sense[12]);
	} else {
		printf("not ok - %s: SRB_EX 32-byte CDB (READ(32)): SRB status %#x, SCSI status %#x, sense key %#x (want ILLEGAL REQUEST or SRB_STATUS_INVALID_REQUEST)\n",
		       name, raw, srb->ScsiStatus, sense[2] & 0x0f);
		bad = 1;
	}
	return bad;
}

/* "#" line: the busy traffic between miniport and port (the emulated
 * StorPort resubmits SRB_STATUS_BUSY requests itself). Every request has
 * completed by now, so a LUN or adapter still busy would stall the next
 * one forever; the miniport gets a moment for a late Ready call. */
static int report_busy(const char *name)
{
	struct sp_busy_stats b;

	sp_busy_stats(&b);
	for (int i = 0; i < 200 && (b.lun_busy_now || b.adapter_busy_now); i++) {
		usleep(10000);
		sp_busy_stats(&b);
	}
	printf("# %s: busy: %lu StorPortDeviceBusy, %lu StorPortDeviceReady, %lu StorPortBusy; %lu SRB_STATUS_BUSY completions, %lu resubmissions by the port, %lu requests held while busy; %lu retried by the disk test\n",
	       name, b.device_busy, b.device_ready, b.adapter_busy, b.busy_completions,
	       b.resubmissions, b.held, busy_retries);
	if (b.bus_resets || sp_force_reset_every()) {
		bool ok = b.bus_resets > 0;

		printf("%s - %s: timeouts: %lu bus resets (HwResetBus with requests in the device), %lu requests completed with SRB_STATUS_BUS_RESET and sent again\n",
		       ok ? "ok" : "not ok", name, b.bus_resets, b.reset_retries);
		if (!ok)
			return 1;
	}
	if (!b.lun_busy_now && !b.adapter_busy_now)
		return 0;
	printf("not ok - %s: the %s is still busy with nothing outstanding (StorPort%sBusy without a matching Ready): the next request would hang\n",
	       name, b.lun_busy_now ? "LUN" : "adapter", b.lun_busy_now ? "Device" : "");
	return 1;
}

/* Dump mode, before the test proper: the live system (the adapter as
 * Windows runs it, interrupts and all) writes the first MiB, leaves QD
 * reads in the device and crashes; the dump stack's copy of the miniport
 * must take the device over from there. The 32 KiB is Microsoft's limit
 * for a boot-drive miniport's noncached memory in dump mode. */
#define DUMP_LIVE_SECTORS 2048u
#define DUMP_NONCACHED_DOC 32768u

static int dump_crash(const char *name, sp_srb *srb, uint32_t chunk, uint8_t *buf, uint8_t *sense)
{
	uint8_t cdb[10] = { SCSIOP_READ_CAPACITY }, st;
	struct io_slot sl[QD];
	uint64_t phys;
	size_t unc;
	int lost;

	st = scsi(srb, cdb, 10, buf, 8, SRB_FLAGS_DATA_IN, sense);
	blk = get_be32(buf + 4);
	if (st != SRB_STATUS_SUCCESS || blk < SECTOR || blk > DISK_MAX_BLOCK || (blk & (blk - 1)) ||
	    chunk % blk || get_be32(buf) < 2 * DUMP_LIVE_SECTORS / (blk / SECTOR)) {
		printf("not ok - %s: live system: READ CAPACITY: status %#x, block %u\n", name, st, blk);
		return 1;
	}
	spb = blk / SECTOR;
	if (pass(name, SCSIOP_WRITE, DUMP_LIVE_SECTORS, chunk))
		return 1;
	/* Interrupts stop first, so the reads below are still in the device
	 * (or its used ring) when the dump copy takes over. */
	if (sp_crash_freeze()) {
		printf("not ok - %s: live system: the crash could not stop its interrupts (see log)\n",
		       name);
		return 1;
	}
	memset(sl, 0, sizeof(sl));
	for (int i = 0; i < QD; i++) {
		/* Never freed: the device may complete them after the crash. */
		sl[i].srb = sp_alloc_srb();
		sl[i].buf = dma_alloc(chunk, 4096, &phys);
		sl[i].sense = dma_alloc(64, 64, &phys);
		if (!sl[i].srb || !sl[i].buf || !sl[i].sense)
			vh_fatal("disk test: DMA pool exhausted");
		sl[i].lba = (uint64_t)i * (chunk / SECTOR) % DUMP_LIVE_SECTORS;
		sl[i].n = chunk / SECTOR;
		issue(&sl[i], SCSIOP_READ);
	}
	lost = sp_crash_to_dump();
	if (lost < 0) {
		printf("not ok - %s: crash with %d reads in flight: the dump stack's copy of the miniport did not start (see log)\n",
		       name, QD);
		return 1;
	}
	printf("ok - %s: live system wrote %u sectors, crashed with %d of %d reads still in the device; the dump copy started (DriverEntry(NULL, NULL), HwFindAdapter with DumpMode %u, HwInitialize, all at HIGH_LEVEL, no interrupts)\n",
	       name, DUMP_LIVE_SECTORS, lost, QD, sp_dump_mode());
	unc = sp_uncached_size();
	if (unc > DUMP_NONCACHED_DOC) {
		printf("not ok - %s: the dump copy took %zu bytes of uncached extension; Microsoft's restrictions for boot-drive miniports allow 32 KiB of noncached memory in dump mode\n",
		       name, unc);
		return 1;
	}
	printf("ok - %s: the dump copy's uncached extension is %zu bytes (at most 32 KiB)\n", name, unc);
	return 0;
}

/* READ CAPACITY(16) must agree with (10) on block count and size; a
 * miniport without it (vblkmini) may refuse it, but cleanly. */
static int read_capacity16(const char *name, sp_srb *srb, uint64_t blocks, uint8_t *buf,
			   uint8_t *sense)
{
	uint8_t cdb[16] = { SCSIOP_SERVICE_IN16, SCSI_SAI_READ_CAPACITY16 }, st;
	uint32_t exp;

	be32(cdb + 10, 32);
	memset(buf, 0, 32);
	st = scsi(srb, cdb, 16, buf, 32, SRB_FLAGS_DATA_IN, sense);
	if (st != SRB_STATUS_SUCCESS) {
		printf("ok - %s: READ CAPACITY(16) not supported (SRB status %#x)\n", name, st);
		return 0;
	}
	exp = buf[13] & 0x0f; /* logical blocks per physical block exponent */
	if (get_be64(buf) + 1 != blocks || get_be32(buf + 8) != blk) {
		printf("not ok - %s: READ CAPACITY(16): %llu blocks of %u bytes, READ CAPACITY(10) said %llu of %u\n",
		       name, (unsigned long long)get_be64(buf) + 1, get_be32(buf + 8),
		       (unsigned long long)blocks, blk);
		return 1;
	}
	printf("ok - %s: READ CAPACITY(16): %llu blocks of %u bytes, %u per physical block\n", name,
	       (unsigned long long)blocks, blk, 1u << exp);
	return 0;
}

int disk_test_run(const char *name)
{
	uint8_t cdb[16], *buf, *sense;
	uint32_t chunk, last, bsize, max = sp_max_transfer();
	uint64_t phys, sectors, t0;
	unsigned long irqs, claimed;
	int failed = 0;
	sp_srb *srb;
	uint8_t st;

	/* The benchmark uses the largest request the miniport takes, up to 1 MiB
	 * (in whole 4 KiB, so in whole blocks of any size the test accepts). */
	chunk = bench_seconds ? BENCH_SEQ_BYTES : 64 * 1024;
	if (max != 0xffffffffu && max >= DISK_MAX_BLOCK && max < chunk)
		chunk = max & ~(DISK_MAX_BLOCK - 1);
	else if (max != 0xffffffffu && max >= SECTOR && max < chunk)
		chunk = max & ~(SECTOR - 1);
	srb = sp_alloc_srb();
	buf = dma_alloc(chunk, 4096, &phys);
	sense = dma_alloc(4096, 4096, &phys);
	if (!srb || !buf || !sense) {
		printf("not ok - %s: disk test buffers\n", name);
		return 1;
	}
	if (mode == DISK_MODE_DUMP && dump_crash(name, srb, chunk, buf, sense))
		return 1;
	if (mode == DISK_MODE_SRBEX) {
		if (sp_use_srb_ex(true)) {
			printf("not ok - %s: SRB_EX mode: the miniport does not declare SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK with BTL8 addresses\n",
			       name);
			return 1;
		}
		printf("ok - %s: SRB_EX mode: every request is a STORAGE_REQUEST_BLOCK (BTL8 address, CDB16 block)\n",
		       name);
	}

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_INQUIRY;
	cdb[4] = 36;
	memset(buf, 0, 36);
	st = scsi(srb, cdb, 6, buf, 36, SRB_FLAGS_DATA_IN, sense);
	if (st == SRB_STATUS_SUCCESS && (buf[0] & 0x1f) == 0) {
		printf("ok - %s: INQUIRY: direct-access device '%.8s' '%.16s'\n", name,
		       (char *)buf + 8, (char *)buf + 16);
	} else {
		printf("not ok - %s: INQUIRY: SRB status %#x, device type %#x\n", name, st, buf[0] & 0x1f);
		failed++;
	}

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_TEST_UNIT_READY;
	st = scsi(srb, cdb, 6, NULL, 0, 0, sense);
	printf("%s - %s: TEST UNIT READY: SRB status %#x\n", st == SRB_STATUS_SUCCESS ? "ok" : "not ok",
	       name, st);
	failed += st != SRB_STATUS_SUCCESS;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_READ_CAPACITY;
	st = scsi(srb, cdb, 10, buf, 8, SRB_FLAGS_DATA_IN, sense);
	last = get_be32(buf);
	bsize = get_be32(buf + 4);
	/* 512..4096, a power of two: whole blocks of the 4 KiB aligned ranges. */
	if (st != SRB_STATUS_SUCCESS || bsize < SECTOR || bsize > DISK_MAX_BLOCK ||
	    (bsize & (bsize - 1)) || last == 0 || last == 0xffffffffu) {
		printf("not ok - %s: READ CAPACITY: status %#x, last LBA %u, block %u\n", name, st, last, bsize);
		return failed + 1;
	}
	blk = bsize;
	spb = bsize / SECTOR;
	sectors = ((uint64_t)last + 1) * spb;
	printf("ok - %s: READ CAPACITY: %llu blocks of %u bytes (%llu sectors)\n", name,
	       (unsigned long long)last + 1, bsize, (unsigned long long)sectors);
	failed += read_capacity16(name, srb, (uint64_t)last + 1, buf, sense);
	if (chunk % bsize) {
		printf("not ok - %s: maximum transfer %u is not whole %u-byte blocks\n", name, chunk,
		       bsize);
		return failed + 1;
	}
	if (bench_seconds) {
		failed += disk_bench(name, srb, sectors, chunk, sense);
		dma_free(buf);
		dma_free(sense);
		sp_free_srb(srb);
		return failed;
	}

	t0 = vh_now_ns();
	if (pass(name, SCSIOP_WRITE, sectors, chunk))
		return failed + 1;
	printf("ok - %s: WRITE(10) of the whole disk, %u-byte requests, %d outstanding (%.2f s)\n",
	       name, chunk, sp_dump_mode() ? 1 : QD, (double)(vh_now_ns() - t0) / 1e9);

	if (mode == DISK_MODE_EIO)
		failed += eio_after_write(name, srb, chunk, buf, sense);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSIOP_SYNCHRONIZE_CACHE;
	st = scsi(srb, cdb, 10, NULL, 0, 0, sense);
	printf("%s - %s: SYNCHRONIZE CACHE: SRB status %#x\n",
	       st == SRB_STATUS_SUCCESS ? "ok" : "not ok", name, st);
	failed += st != SRB_STATUS_SUCCESS;

	t0 = vh_now_ns();
	if (pass(name, SCSIOP_READ, sectors, chunk))
		return failed + 1;
	printf("ok - %s: READ(10) of the whole disk matches the pattern, %d outstanding (%.2f s)\n",
	       name, sp_dump_mode() ? 1 : QD, (double)(vh_now_ns() - t0) / 1e9);

	if (mode == DISK_MODE_EIO)
		failed += eio_after_read(name, srb, chunk, buf, sense);
	if (mode == DISK_MODE_DUMP) {
		/* The dump writer ends with a flush: the dump must be on the disk. */
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = SCSIOP_SYNCHRONIZE_CACHE;
		st = scsi(srb, cdb, 10, NULL, 0, 0, sense);
		printf("%s - %s: final SYNCHRONIZE CACHE of the dump: SRB status %#x\n",
		       st == SRB_STATUS_SUCCESS ? "ok" : "not ok", name, st);
		failed += st != SRB_STATUS_SUCCESS;
	}
	if (mode == DISK_MODE_SRBEX)
		failed += srbex_ops(name, srb, sectors, buf, sense);
	if (mode == DISK_MODE_ZERO && !zero_ops(name, srb, sectors, buf, sense)) {
		t0 = vh_now_ns();
		if (pass(name, SCSIOP_READ, sectors, chunk))
			return failed + 1;
		printf("ok - %s: READ(10) of the whole disk: zeroes in the %u zeroed ranges, the pattern elsewhere (%.2f s)\n",
		       name, (unsigned)NZERO, (double)(vh_now_ns() - t0) / 1e9);
	} else if (mode == DISK_MODE_ZERO) {
		failed++;
	}

	st = rw10(srb, SCSIOP_READ, sectors, spb, buf, sense);
	printf("%s - %s: READ(10) past the end fails (SRB status %#x)\n",
	       st != SRB_STATUS_SUCCESS ? "ok" : "not ok", name, st);
	failed += st == SRB_STATUS_SUCCESS;

	failed += check_queue_spread(name);
	failed += report_busy(name);
	irqs = sp_interrupts(&claimed);
	printf("# %s: %lu interrupts delivered, %lu claimed; %lu requests retried after SRB_STATUS_BUSY; %lu port I/O accesses (%s transport)\n",
	       name, irqs, claimed, busy_retries, sp_port_accesses(),
	       sp_port_accesses() ? "legacy" : "modern");
	dma_free(buf);
	dma_free(sense);
	sp_free_srb(srb);
	return failed;
}

int disk_check_image(const char *path)
{
	uint8_t got[SECTOR], want[SECTOR];
	uint64_t lba = 0, zeroes = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("not ok - image %s: cannot open\n", path);
		return 1;
	}
	/* The image is checked as the guest left it: zero mode's ranges zeroed. */
	zeroed = true;
	while (read(fd, got, SECTOR) == SECTOR) {
		expected(lba, want);
		if (memcmp(got, want, SECTOR)) {
			printf("not ok - image %s: sector %llu does not hold the %s\n", path,
			       (unsigned long long)lba, want[0] ? "pattern" : "expected zeroes");
			close(fd);
			return 1;
		}
		zeroes += !want[0];
		lba++;
	}
	close(fd);
	if (!lba) {
		printf("not ok - image %s: empty\n", path);
		return 1;
	}
	if (zeroes)
		printf("ok - image %s: %llu sectors hold the pattern written by the driver, %llu zeroes (zeroed, or never written after an injected error)\n",
		       path, (unsigned long long)(lba - zeroes), (unsigned long long)zeroes);
	else
		printf("ok - image %s: all %llu sectors hold the pattern written by the driver\n", path,
		       (unsigned long long)lba);
	return 0;
}

int disk_write_image(const char *path, uint64_t sectors)
{
	uint8_t s[SECTOR];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	zeroed = true;
	for (uint64_t lba = 0; lba < sectors; lba++) {
		expected(lba, s);
		if (write(fd, s, SECTOR) != SECTOR) {
			close(fd);
			return -1;
		}
	}
	return close(fd);
}
