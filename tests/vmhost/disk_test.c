/* The disk test: INQUIRY, READ CAPACITY, WRITE of a per-sector pattern over
 * the whole disk, SYNCHRONIZE CACHE, READ back and compare, and a read past
 * the end that must fail. SCSI opcodes and CDB layouts: SBC-3 / SPC-4. */
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
#define SCSIOP_WRITE 0x2a
#define SCSIOP_SYNCHRONIZE_CACHE 0x35
#define SCSIOP_TEST_UNIT_READY 0x00
#define SRB_TIMEOUT_MS 20000

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
	return sp_execute(srb, SRB_TIMEOUT_MS) & 0x3f; /* without AUTOSENSE_VALID/QUEUE_FROZEN */
}

static uint8_t rw10(sp_srb *srb, uint8_t op, uint32_t lba, uint16_t count, void *buf,
		    uint8_t *sense)
{
	uint8_t cdb[10] = { op };

	be32(cdb + 2, lba);
	cdb[7] = (uint8_t)(count >> 8);
	cdb[8] = (uint8_t)count;
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

	be32(cdb + 2, (uint32_t)sl->lba);
	cdb[7] = (uint8_t)(sl->n >> 8);
	cdb[8] = (uint8_t)sl->n;
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

/* Wait for a slot's request; a BUSY completion is retried as StorPort
 * would requeue it. Reads are checked against the pattern. */
static int finish(const char *name, struct io_slot *sl, uint8_t op)
{
	uint8_t st = sp_wait(sl->srb, SRB_TIMEOUT_MS) & 0x3f;
	uint8_t want[SECTOR];

	for (int r = 0; st == SRB_STATUS_BUSY && r < BUSY_RETRIES; r++) {
		usleep(50);
		busy_retries++;
		issue(sl, op);
		st = sp_wait(sl->srb, SRB_TIMEOUT_MS) & 0x3f;
	}
	sl->busy = false;
	if (st != SRB_STATUS_SUCCESS) {
		printf("not ok - %s: %s(10) at LBA %llu: SRB status %#x\n", name,
		       op == SCSIOP_WRITE ? "WRITE" : "READ", (unsigned long long)sl->lba, st);
		return 1;
	}
	for (uint32_t i = 0; op == SCSIOP_READ && i < sl->n; i++) {
		disk_pattern(sl->lba + i, want);
		if (memcmp(sl->buf + i * SECTOR, want, SECTOR)) {
			printf("not ok - %s: READ(10): sector %llu does not hold its pattern\n", name,
			       (unsigned long long)(sl->lba + i));
			return 1;
		}
	}
	return 0;
}

/* One pass over the whole disk with QD requests in flight. */
static int pass(const char *name, uint8_t op, uint64_t sectors, uint32_t chunk)
{
	struct io_slot sl[QD];
	uint64_t phys;
	unsigned k = 0;
	int bad = 0;

	memset(sl, 0, sizeof(sl));
	for (int i = 0; i < QD; i++) {
		sl[i].srb = sp_alloc_srb();
		sl[i].buf = dma_alloc(chunk, 4096, &phys);
		sl[i].sense = dma_alloc(64, 64, &phys);
		if (!sl[i].srb || !sl[i].buf || !sl[i].sense)
			vh_fatal("disk test: DMA pool exhausted");
	}
	for (uint64_t lba = 0; lba < sectors && !bad; lba += chunk / SECTOR, k = (k + 1) % QD) {
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
	for (int i = 0; i < QD; i++) {
		if (sl[i].busy)
			bad |= finish(name, &sl[i], op);
		sp_free_srb(sl[i].srb);
		dma_free(sl[i].buf);
		dma_free(sl[i].sense);
	}
	return bad;
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

	chunk = 64 * 1024;
	if (max != 0xffffffffu && max >= SECTOR && max < chunk)
		chunk = max & ~(SECTOR - 1);
	srb = sp_alloc_srb();
	buf = dma_alloc(chunk, 4096, &phys);
	sense = dma_alloc(4096, 4096, &phys);
	if (!srb || !buf || !sense) {
		printf("not ok - %s: disk test buffers\n", name);
		return 1;
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
	if (st != SRB_STATUS_SUCCESS || bsize != SECTOR || last == 0 || last == 0xffffffffu) {
		printf("not ok - %s: READ CAPACITY: status %#x, last LBA %u, block %u\n", name, st, last, bsize);
		return failed + 1;
	}
	sectors = (uint64_t)last + 1;
	printf("ok - %s: READ CAPACITY: %llu sectors of %u bytes\n", name,
	       (unsigned long long)sectors, bsize);

	t0 = vh_now_ns();
	if (pass(name, SCSIOP_WRITE, sectors, chunk))
		return failed + 1;
	printf("ok - %s: WRITE(10) of the whole disk, %u-byte requests, %d outstanding (%.2f s)\n",
	       name, chunk, QD, (double)(vh_now_ns() - t0) / 1e9);

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
	       name, QD, (double)(vh_now_ns() - t0) / 1e9);

	st = rw10(srb, SCSIOP_READ, (uint32_t)sectors, 1, buf, sense);
	printf("%s - %s: READ(10) past the end fails (SRB status %#x)\n",
	       st != SRB_STATUS_SUCCESS ? "ok" : "not ok", name, st);
	failed += st == SRB_STATUS_SUCCESS;

	irqs = sp_interrupts(&claimed);
	printf("# %s: %lu interrupts delivered, %lu claimed; %lu requests retried after SRB_STATUS_BUSY\n",
	       name, irqs, claimed, busy_retries);
	dma_free(buf);
	dma_free(sense);
	sp_free_srb(srb);
	return failed;
}

int disk_check_image(const char *path)
{
	uint8_t got[SECTOR], want[SECTOR];
	uint64_t lba = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("not ok - image %s: cannot open\n", path);
		return 1;
	}
	while (read(fd, got, SECTOR) == SECTOR) {
		disk_pattern(lba, want);
		if (memcmp(got, want, SECTOR)) {
			printf("not ok - image %s: sector %llu does not hold the pattern\n", path,
			       (unsigned long long)lba);
			close(fd);
			return 1;
		}
		lba++;
	}
	close(fd);
	if (!lba) {
		printf("not ok - image %s: empty\n", path);
		return 1;
	}
	printf("ok - image %s: all %llu sectors hold the pattern written by the driver\n", path,
	       (unsigned long long)lba);
	return 0;
}
