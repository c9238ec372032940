/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk's StorPort glue (the real blk_adapter.c, blk_virtio.c, blk_io.c)
 * driven through a minimal StorPort (test_blk_glue_stubs.c) against the fake
 * virtio device acting as a virtio-blk disk: bring-up and GET_ID, reads and
 * writes through SG lists, forced-unit-access flushes, device errors, full
 * queues, bus reset, a broken queue, a capacity change, surprise removal,
 * MSI-X multi-queue routing and polled crash-dump I/O.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <virtio/virtio_blk.h>
#include "test_blk_glue.h"

#define DISK_SECTORS 2048u
#define FEAT(b) (1ull << (b))

static struct {
	struct fake_virtio *f;
	uint8_t disk[DISK_SECTORS * 512];
	bool hold;                  /* device does not serve */
	uint8_t inject;             /* status to return instead of the real one, 0 = none */
	unsigned int reads, writes, flushes, discards, get_ids;
	uint32_t discard_ranges;
	uint8_t id_status;          /* GET_ID: status to answer, 0 = OK */
	bool id_garbage;            /* GET_ID: answer bytes that are no serial number */
	bool id_hold;               /* GET_ID: never answered */
	uint32_t id_locks;          /* locks held while the device saw GET_ID */
} dev;

static unsigned int lock_errors_expected;

/* The stubs saw a lock taken out of StorPort's order (or twice). */
void hx_lock_error(const char *what)
{
	if (lock_errors_expected) {
		lock_errors_expected--;
		return;
	}
	fail_msg("lock order: %s", what);
}

static void *bus_ptr(uint64_t a)
{
	if (a >= FAKE_DMA_BASE && a < FAKE_DMA_BASE + FAKE_ARENA_LEN)
		return dev.f->arena + (a - FAKE_DMA_BASE);
	return (void *)(uintptr_t)a;
}

/* The virtio-blk device: serve every queue once. */
static void device_serve(struct fake_virtio *f)
{
	static struct fake_chain c;

	if (dev.hold)
		return;
	for (uint16_t qi = 0; qi < FAKE_MAX_QUEUES; qi++) {
		while (fake_pop(f, qi, &c) == 1) {
			struct virtio_blk_outhdr h;
			uint8_t status = VIRTIO_BLK_S_OK;
			uint32_t written = 0;
			uint64_t off;

			assert_true(c.nseg >= 2);
			assert_int_equal(c.seg[0].len, sizeof(h));
			assert_false(c.seg[0].write);
			assert_int_equal(c.seg[c.nseg - 1].len, 1);
			assert_true(c.seg[c.nseg - 1].write);
			memcpy(&h, bus_ptr(c.seg[0].addr), sizeof(h));
			off = le64_to_cpu(h.sector) * 512u;
			switch (le32_to_cpu(h.type)) {
			case VIRTIO_BLK_T_IN:
				dev.reads++;
				for (unsigned int i = 1; i + 1 < c.nseg; i++) {
					assert_true(c.seg[i].write);
					if (off + c.seg[i].len > sizeof(dev.disk)) {
						status = VIRTIO_BLK_S_IOERR;
						break;
					}
					memcpy(bus_ptr(c.seg[i].addr), dev.disk + off, c.seg[i].len);
					off += c.seg[i].len;
					written += c.seg[i].len;
				}
				break;
			case VIRTIO_BLK_T_OUT:
				dev.writes++;
				for (unsigned int i = 1; i + 1 < c.nseg; i++) {
					assert_false(c.seg[i].write);
					if (off + c.seg[i].len > sizeof(dev.disk)) {
						status = VIRTIO_BLK_S_IOERR;
						break;
					}
					memcpy(dev.disk + off, bus_ptr(c.seg[i].addr), c.seg[i].len);
					off += c.seg[i].len;
				}
				break;
			case VIRTIO_BLK_T_FLUSH:
				dev.flushes++;
				break;
			case VIRTIO_BLK_T_GET_ID:
				dev.get_ids++;
				dev.id_locks = hx_lock_depth();
				if (dev.id_hold)
					continue;       /* taken, never answered */
				assert_int_equal(c.nseg, 3);
				memset(bus_ptr(c.seg[1].addr), 0, c.seg[1].len);
				memcpy(bus_ptr(c.seg[1].addr), dev.id_garbage ? "BAD\x01\xfe" : "TESTSERIAL",
				       dev.id_garbage ? 5 : 10);
				written = c.seg[1].len;
				if (dev.id_status)
					status = dev.id_status;
				break;
			case VIRTIO_BLK_T_DISCARD:
				dev.discards++;
				assert_int_equal(c.nseg, 3);
				dev.discard_ranges = c.seg[1].len / 16u;
				break;
			default:
				status = VIRTIO_BLK_S_UNSUPP;
				break;
			}
			if (dev.inject)
				status = dev.inject;
			*(uint8_t *)bus_ptr(c.seg[c.nseg - 1].addr) = status;
			fake_push(f, qi, c.id, written + 1);
		}
	}
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = cpu_to_le32(v);
	memcpy(p, &v, 4);
}

/* A virtio-blk fake: 1 MiB, FLUSH (write-back), DISCARD, SEG_MAX 60. */
static struct fake_virtio *make_device(uint16_t queues, uint16_t qsize, uint64_t extra)
{
	struct fake_virtio *f = malloc(sizeof(*f));
	uint64_t cap = cpu_to_le64(DISK_SECTORS);
	uint16_t nq = cpu_to_le16(queues);

	assert_non_null(f);
	fake_init(f, VIRTIO_ID_BLOCK, queues, qsize, true, false);
	memset(f->devcfg, 0, sizeof(f->devcfg));
	memcpy(f->devcfg + offsetof(struct virtio_blk_config, capacity), &cap, 8);
	put_le32(f->devcfg + offsetof(struct virtio_blk_config, seg_max), 60);
	put_le32(f->devcfg + offsetof(struct virtio_blk_config, blk_size), 512);
	memcpy(f->devcfg + offsetof(struct virtio_blk_config, num_queues), &nq, 2);
	put_le32(f->devcfg + offsetof(struct virtio_blk_config, max_discard_sectors), 1024);
	put_le32(f->devcfg + offsetof(struct virtio_blk_config, max_discard_seg), 4);
	put_le32(f->devcfg + offsetof(struct virtio_blk_config, discard_sector_alignment), 8);
	f->dev_features = FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_INDIRECT_DESC) |
			  FEAT(VIRTIO_F_EVENT_IDX) | FEAT(VIRTIO_BLK_F_SEG_MAX) |
			  FEAT(VIRTIO_BLK_F_BLK_SIZE) | FEAT(VIRTIO_BLK_F_FLUSH) |
			  FEAT(VIRTIO_BLK_F_DISCARD) | extra;
	if (queues > 1)
		f->dev_features |= FEAT(VIRTIO_BLK_F_MQ);
	memset(&dev, 0, sizeof(dev));
	dev.f = f;
	return f;
}

static int start(struct fake_virtio *f, uint32_t msi, uint32_t cpus, bool dump)
{
	struct hx_options o;

	memset(&o, 0, sizeof(o));
	o.msi_count = msi;
	o.cpus = cpus;
	o.dump = dump;
	o.reg_max_transfer = 64 * 1024;
	return hx_start(f, &o, device_serve);
}

static void finish(struct fake_virtio *f)
{
	assert_int_equal(hx_lock_depth(), 0);
	assert_int_equal(hx_lock_errors(), 0);
	hx_stop();
	fake_destroy(f);
}

static void cdb_rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t blocks, bool fua)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	cdb[1] = fua ? 0x08 : 0;
	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

/* Buffers with an odd page offset, so SG lists have partial pages. */
static uint8_t *buffer(size_t len)
{
	static uint8_t raw[4][64 * 1024 + 8192];
	static unsigned int next;
	uint8_t *b = (uint8_t *)(((uintptr_t)raw[next++ % 4] + 4095) & ~(uintptr_t)4095) + 1536;

	assert_true(len <= 64 * 1024);
	return b;
}

static int rw(uint8_t op, uint32_t lba, uint16_t blocks, uint8_t *buf, bool fua)
{
	uint8_t cdb[10];

	cdb_rw10(cdb, op, lba, blocks, fua);
	return hx_scsi(cdb, 10, buf, blocks * 512u, op == 0x28);
}

static void complete_intx(int h)
{
	device_serve(dev.f);
	hx_interrupt(UINT32_MAX);
	assert_true(hx_done(h));
	assert_int_equal(hx_completions(h), 1);
}

static void test_bringup_and_io(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t cdb[6] = { 0x12, 0x01, 0x80, 0, 64, 0 };
	uint8_t *vpd = buffer(64), *w = buffer(8192), *r = buffer(8192);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(dev.get_ids, 1);
	assert_int_equal(hx_queues(), 1);
	assert_int_equal(hx_max_transfer(), 64 * 1024);
	assert_int_equal(hx_max_io(), 64);

	h = hx_scsi(cdb, 6, vpd, 64, true);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(vpd[3], 10);
	assert_memory_equal(vpd + 4, "TESTSERIAL", 10);
	assert_int_equal(hx_lun_depth(), 64);
	hx_release(h);

	for (unsigned int i = 0; i < 8192; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	h = rw(0x2A, 100, 16, w, false);
	assert_false(hx_done(h));
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_memory_equal(dev.disk + 100 * 512, w, 8192);
	hx_release(h);

	memset(r, 0, 8192);
	h = rw(0x28, 100, 16, r, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(hx_transferred(h), 8192);
	assert_memory_equal(r, w, 8192);
	hx_release(h);
	/* A spurious INTx is not claimed. */
	assert_false(hx_interrupt(UINT32_MAX));
	finish(f);
}

static void test_packed_ring(void **state)
{
	struct fake_virtio *f = make_device(1, 64, FEAT(VIRTIO_F_RING_PACKED));
	uint8_t *w = buffer(4096), *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	memset(w, 0x5a, 4096);
	for (int round = 0; round < 100; round++) {   /* wraps the ring several times */
		w[0] = (uint8_t)round;
		h = rw(0x2A, (uint32_t)round, 8, w, false);
		complete_intx(h);
		assert_int_equal(hx_srb_status(h), 0x01);
		hx_release(h);
		h = rw(0x28, (uint32_t)round, 8, r, false);
		complete_intx(h);
		assert_int_equal(hx_srb_status(h), 0x01);
		assert_memory_equal(r, w, 4096);
		hx_release(h);
	}
	finish(f);
}

static void test_fua_write_flushes(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *w = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	memset(w, 0x11, 4096);
	h = rw(0x2A, 0, 8, w, true);
	device_serve(f);
	hx_interrupt(UINT32_MAX);       /* write done: the flush is posted */
	assert_false(hx_done(h));
	complete_intx(h);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(dev.flushes, 1);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(hx_transferred(h), 4096);
	hx_release(h);
	/* SRB_FUNCTION_FLUSH on a write-back cache reaches the device too. */
	h = hx_function(0x08);
	complete_intx(h);
	assert_int_equal(dev.flushes, 2);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	finish(f);
}

static void test_device_error_sense(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	dev.inject = VIRTIO_BLK_S_IOERR;
	h = rw(0x28, 0, 8, r, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x84);       /* ERROR | AUTOSENSE_VALID */
	assert_int_equal(hx_scsi_status(h), 0x02);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x03);  /* MEDIUM ERROR */
	assert_int_equal(hx_sense(h)[12], 0x11);
	hx_release(h);
	/* A status byte the device never wrote is not a success either. */
	dev.inject = 0x7f;
	h = rw(0x28, 0, 8, r, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x84);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x04);  /* HARDWARE ERROR */
	hx_release(h);
	finish(f);
}

static void test_queue_full_busy(void **state)
{
	struct fake_virtio *f = make_device(1, 8, 0);
	uint8_t *r = buffer(4096);
	int h[3];

	(void)state;
	f->dev_features &= ~FEAT(VIRTIO_F_INDIRECT_DESC);
	assert_int_equal(start(f, 0, 1, false), 1);
	dev.hold = true;
	/* Three descriptors each: two fit in eight, the third does not. */
	for (int i = 0; i < 3; i++)
		h[i] = hx_scsi((const uint8_t[10]){ 0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0 }, 10, r, 512, true);
	assert_false(hx_done(h[0]));
	assert_false(hx_done(h[1]));
	assert_true(hx_done(h[2]));
	assert_int_equal(hx_srb_status(h[2]), 0x05);    /* BUSY: StorPort retries */
	/* ...once a request completed: the LUN is held back, not hammered with BUSY. */
	assert_int_equal(hx_busy_calls(), 1);
	assert_true(hx_lun_busy());
	dev.hold = false;
	device_serve(f);
	hx_interrupt(UINT32_MAX);
	assert_int_equal(hx_ready_calls(), 1);
	assert_false(hx_lun_busy());
	assert_int_equal(hx_completions(h[0]), 1);
	assert_int_equal(hx_completions(h[1]), 1);
	assert_int_equal(hx_srb_status(h[0]), 0x01);
	for (int i = 0; i < 3; i++)
		hx_release(h[i]);
	finish(f);
}

static void test_reset_bus(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	uint32_t resets;
	int h[2], h2;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	dev.hold = true;
	h[0] = rw(0x28, 0, 8, r, false);
	h[1] = rw(0x28, 8, 8, r, false);
	resets = f->resets;
	hx_reset_bus();
	assert_true(f->resets > resets);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hx_completions(h[i]), 1);
		assert_int_equal(hx_srb_status(h[i]), 0x0E);   /* BUS_RESET */
		hx_release(h[i]);
	}
	/* The device is live again and nothing completes twice. */
	dev.hold = false;
	h2 = rw(0x28, 0, 8, r, false);
	complete_intx(h2);
	assert_int_equal(hx_srb_status(h2), 0x01);
	hx_release(h2);
	finish(f);
}

static void test_broken_queue_recovers(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	uint32_t resets;
	int h, h2;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	dev.hold = true;
	h = rw(0x28, 0, 8, r, false);
	/* The device returns an id that was never posted. */
	fake_split_write_used(f, 0, 1, 999, 0);
	fake_split_set_used_idx(f, 0, 2);
	f->isr |= 1;
	resets = f->resets;
	assert_true(hx_interrupt(UINT32_MAX));
	assert_true(f->resets > resets);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x0E);
	hx_release(h);
	dev.hold = false;
	h2 = rw(0x28, 0, 8, r, false);
	complete_intx(h2);
	assert_int_equal(hx_srb_status(h2), 0x01);
	hx_release(h2);
	finish(f);
}

static void test_capacity_change(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t cdb[10] = { 0x25 }, *cap = buffer(8);
	uint64_t sectors = cpu_to_le64(DISK_SECTORS / 2);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	memcpy(f->devcfg, &sectors, 8);
	f->generation++;
	f->isr |= VIRTIO_PCI_ISR_CONFIG;
	assert_true(hx_interrupt(UINT32_MAX));
	assert_int_equal(hx_bus_changes(), 1);
	h = hx_scsi(cdb, 10, cap, 8, true);
	assert_int_equal(hx_srb_status(h), 0x84);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x06);  /* UNIT ATTENTION */
	assert_int_equal(hx_sense(h)[12], 0x2A);
	assert_int_equal(hx_sense(h)[13], 0x09);
	hx_release(h);
	h = hx_scsi(cdb, 10, cap, 8, true);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(cap[2] << 8 | cap[3], DISK_SECTORS / 2 - 1);
	hx_release(h);
	/* Nothing changed: no new notification. */
	f->isr |= VIRTIO_PCI_ISR_CONFIG;
	hx_interrupt(UINT32_MAX);
	assert_int_equal(hx_bus_changes(), 1);
	finish(f);
}

static void test_surprise_removal(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	int h, h2;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	dev.hold = true;
	h = rw(0x28, 0, 8, r, false);
	f->bar_len[FAKE_MMIO_BAR] = 0;          /* every register reads all ones */
	assert_false(hx_interrupt(UINT32_MAX));
	hx_reset_bus();                          /* StorPort's timeout recovery */
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x08);       /* NO_DEVICE */
	hx_release(h);
	h2 = rw(0x28, 0, 8, r, false);
	assert_int_equal(hx_completions(h2), 1);
	assert_int_equal(hx_srb_status(h2), 0x08);
	hx_release(h2);
	finish(f);
}

static void test_msix_multiqueue(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);
	uint8_t *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 5, 4, false), 1);
	assert_int_equal(hx_queues(), 4);
	assert_int_equal(hx_max_io(), 4 * 64);
	for (uint32_t cpu = 0; cpu < 4; cpu++) {
		uint32_t before[4];

		for (int i = 0; i < 4; i++)
			before[i] = f->q[i].notifies;
		hx_set_cpu(cpu);
		h = rw(0x28, 0, 8, r, false);
		for (uint32_t i = 0; i < 4; i++)
			assert_int_equal(f->q[i].notifies - before[i], i == cpu ? 1 : 0);
		assert_int_equal(f->q[cpu].msix, cpu + 1);
		device_serve(f);
		/* Another queue's message does not complete it; its own does. */
		hx_interrupt((cpu + 1) % 4 + 1);
		assert_false(hx_done(h));
		assert_true(hx_interrupt(cpu + 1));
		assert_int_equal(hx_completions(h), 1);
		assert_int_equal(hx_srb_status(h), 0x01);
		hx_release(h);
	}
	finish(f);
}

static void test_msix_fallbacks(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);
	uint8_t *r = buffer(4096);
	int h;

	(void)state;
	/* Three messages for four queues: two queues, per-queue vectors. */
	assert_int_equal(start(f, 3, 4, false), 1);
	assert_int_equal(hx_queues(), 2);
	{
		uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 }, *inq = buffer(36);
		int hi = hx_scsi(cdb, 6, inq, 36, true);

		assert_int_equal(hx_srb_status(hi), 0x01);
		/* Depth follows the queues really driven, not the plan. */
		assert_int_equal(hx_lun_depth(), 2 * 64);
		hx_release(hi);
	}
	hx_stop();
	fake_destroy(f);

	/* One message: one queue, everything on it. */
	f = make_device(4, 64, 0);
	assert_int_equal(start(f, 1, 4, false), 1);
	assert_int_equal(hx_queues(), 1);
	h = rw(0x28, 0, 8, r, false);
	device_serve(f);
	assert_true(hx_interrupt(0));
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	finish(f);
}

static void test_dump_mode_polls(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);
	uint8_t *w = buffer(4096), *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 5, 4, true), 1);
	assert_int_equal(hx_queues(), 1);
	assert_true(hx_max_transfer() <= 64 * 1024);
	memset(w, 0x77, 4096);
	/* No interrupt, no DPC: StartIo returns with the request complete. */
	h = rw(0x2A, 10, 8, w, false);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	h = rw(0x28, 10, 8, r, false);
	assert_int_equal(hx_completions(h), 1);
	assert_memory_equal(r, w, 4096);
	hx_release(h);
	/* A device that never answers times out instead of hanging. */
	dev.hold = true;
	h = rw(0x28, 10, 8, r, false);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x09);       /* TIMEOUT */
	hx_release(h);
	finish(f);
}

static void test_unmap_discard(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t cdb[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0 };
	uint8_t *p = buffer(40);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	memset(p, 0, 40);
	p[1] = 38;                      /* UNMAP data length */
	p[3] = 32;                      /* block descriptor data length: two */
	p[8 + 7] = 16;                  /* LBA 16, 8 blocks */
	p[8 + 11] = 8;
	p[24 + 7] = 64;                 /* LBA 64, 16 blocks */
	p[24 + 11] = 16;
	h = hx_scsi(cdb, 10, p, 40, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(dev.discards, 1);
	assert_int_equal(dev.discard_ranges, 2);
	hx_release(h);
	finish(f);
}

static void test_stop_restart(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	uint32_t resets;
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	resets = f->resets;
	assert_true(hx_adapter_control(1));             /* ScsiStopAdapter: device reset */
	assert_true(f->resets > resets);
	assert_int_equal(f->status, 0);
	h = rw(0x28, 0, 8, r, false);
	assert_int_equal(hx_srb_status(h), 0x05);       /* BUSY until restarted */
	hx_release(h);
	assert_true(hx_adapter_control(2));             /* ScsiRestartAdapter */
	h = rw(0x28, 0, 8, r, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	/* Unsupported SRB functions are refused, PnP/power ones accepted. */
	h = hx_function(0x10);                          /* ABORT_COMMAND */
	assert_int_equal(hx_srb_status(h), 0x06);
	hx_release(h);
	h = hx_function(0x25);                          /* PNP */
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	finish(f);
}

static int start_perf(struct fake_virtio *f, uint32_t msi, uint32_t cpus, uint32_t perf_flags,
		      uint32_t perf_version)
{
	struct hx_options o;

	memset(&o, 0, sizeof(o));
	o.msi_count = msi;
	o.cpus = cpus;
	o.reg_max_transfer = 64 * 1024;
	o.perf_flags = perf_flags;
	o.perf_version = perf_version;
	return hx_start(f, &o, device_serve);
}

/* The stub itself: an out-of-order acquisition is reported, not ignored. */
static void test_lock_order_checker(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	lock_errors_expected = 3;
	assert_int_equal(hx_lock_selftest(), 3);
	assert_int_equal(lock_errors_expected, 0);
	/* HwResetBus under the StartIo lock, nothing outstanding: no error. */
	hx_reset_bus();
	assert_int_equal(hx_lock_errors(), 0);
	/* I/O on the single queue: the DPC takes the StartIo lock, StartIo takes nothing. */
	h = rw(0x28, 0, 8, r, false);
	complete_intx(h);
	hx_release(h);
	assert_int_equal(hx_lock_errors(), 0);
	finish(f);
}

/* Several queues without concurrent channels: one StartIo lock, never a DpcLock under it. */
static void test_lock_order_channels_refused(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);
	uint8_t *r = buffer(4096);
	int h[4];

	(void)state;
	assert_int_equal(start(f, 5, 4, false), 1);
	assert_int_equal(hx_queues(), 4);
	assert_false(hx_concurrent());
	dev.hold = true;
	for (uint32_t cpu = 0; cpu < 4; cpu++) {
		hx_set_cpu(cpu);
		h[cpu] = rw(0x28, cpu * 8, 8, r, false);
	}
	hx_reset_bus();                 /* synchronous: the StartIo lock is the queues' lock */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(hx_completions(h[i]), 1);
		assert_int_equal(hx_srb_status(h[i]), 0x0E);
		hx_release(h[i]);
	}
	dev.hold = false;
	h[0] = hx_function(0x12);       /* RESET_BUS SRB under the StartIo lock */
	assert_int_equal(hx_srb_status(h[0]), 0x01);
	hx_release(h[0]);
	hx_set_cpu(0);
	h[0] = rw(0x28, 0, 8, r, false);
	device_serve(f);
	hx_interrupt(1);
	assert_int_equal(hx_srb_status(h[0]), 0x01);
	hx_release(h[0]);
	finish(f);
}

/* Concurrent channels: per-queue DpcLocks; DPCs add the StartIo lock that HwResetBus holds. */
static void test_concurrent_channels(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);
	uint8_t *r = buffer(4096);
	int h[4];

	(void)state;
	assert_int_equal(start_perf(f, 5, 4, 0x7, 5), 1);
	assert_int_equal(hx_queues(), 4);
	assert_true(hx_concurrent());
	assert_int_equal(hx_perf_set_flags(), 0x7);
	assert_int_equal(hx_perf_set_version(), 5);
	for (uint32_t cpu = 0; cpu < 4; cpu++) {
		uint32_t before = f->q[cpu].notifies;

		hx_set_cpu(cpu);
		h[cpu] = rw(0x28, 0, 8, r, false);
		/* Redirection: the request went to the queue of the CPU's message. */
		assert_int_equal(f->q[cpu].notifies - before, 1);
		device_serve(f);
		assert_true(hx_interrupt(cpu + 1));
		assert_int_equal(hx_srb_status(h[cpu]), 0x01);
		hx_release(h[cpu]);
	}
	dev.hold = true;
	for (uint32_t cpu = 0; cpu < 4; cpu++) {
		hx_set_cpu(cpu);
		h[cpu] = rw(0x28, 0, 8, r, false);
	}
	/*
	 * StorPort holds the StartIo lock and every channel token: HwResetBus
	 * takes no lock (a DpcLock would be out of order) and still completes
	 * everything before it returns, as StorPort expects.
	 */
	hx_reset_bus();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(hx_completions(h[i]), 1);
		assert_int_equal(hx_srb_status(h[i]), 0x0E);
		hx_release(h[i]);
	}
	dev.hold = false;
	/* A RESET SRB without the StartIo lock recovers at once, locks in queue order. */
	h[0] = hx_function(0x12);
	assert_int_equal(hx_srb_status(h[0]), 0x01);
	hx_release(h[0]);
	h[0] = rw(0x28, 0, 8, r, false);
	device_serve(f);
	hx_run_dpcs();
	hx_interrupt(hx_queues());
	assert_int_equal(hx_srb_status(h[0]), 0x01);
	hx_release(h[0]);
	finish(f);
}

/* Only flags the queried version supports are set, at that version. */
static void test_perf_negotiation(void **state)
{
	struct fake_virtio *f = make_device(4, 64, 0);

	(void)state;
	/* A StorPort that knows version 3 and also offers NO_SGL (0x40): not asked for. */
	assert_int_equal(start_perf(f, 5, 4, 0x7 | 0x40, 3), 1);
	assert_int_equal(hx_perf_set_version(), 3);
	assert_int_equal(hx_perf_set_flags(), 0x7);
	hx_stop();
	fake_destroy(f);

	/* Concurrent channels only: no redirection asked for without its support. */
	f = make_device(4, 64, 0);
	assert_int_equal(start_perf(f, 5, 4, 0x2, 5), 1);
	assert_int_equal(hx_perf_set_flags(), 0x2);
	assert_true(hx_concurrent());
	hx_stop();
	fake_destroy(f);

	/* One message for everything: no redirection, channels still fine. */
	f = make_device(4, 64, 0);
	assert_int_equal(start_perf(f, 0, 4, 0x7, 5), 1);
	assert_int_equal(hx_queues(), 1);
	assert_int_equal(hx_perf_set_flags(), 0);       /* one queue: nothing to gain */
	finish(f);
}

/* GET_ID runs at PASSIVE_LEVEL; refusals and garbage leave VPD 0x80 empty and valid. */
static void test_serial_number(void **state)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x80, 0, 64, 0 };
	struct fake_virtio *f;
	uint8_t *vpd = buffer(64), *r = buffer(4096);
	char sn[32];
	int h;

	(void)state;
	f = make_device(1, 64, 0);
	dev.id_locks = 99;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(dev.get_ids, 1);
	assert_int_equal(dev.id_locks, 0);      /* not under the interrupt lock (DIRQL) */
	assert_int_equal(hx_serial(sn, sizeof(sn)), 10);
	hx_stop();
	fake_destroy(f);

	f = make_device(1, 64, 0);
	dev.id_status = VIRTIO_BLK_S_UNSUPP;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(hx_serial(sn, sizeof(sn)), 0);
	h = hx_scsi(cdb, 6, vpd, 64, true);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(vpd[1], 0x80);
	assert_int_equal(vpd[3], 0);
	hx_release(h);
	hx_stop();
	fake_destroy(f);

	f = make_device(1, 64, 0);
	dev.id_garbage = true;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(hx_serial(sn, sizeof(sn)), 0);
	hx_stop();
	fake_destroy(f);

	/* Never answered: bounded wait, device reset, I/O works. */
	f = make_device(1, 64, 0);
	dev.id_hold = true;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(hx_serial(sn, sizeof(sn)), 0);
	dev.id_hold = false;
	h = rw(0x28, 0, 8, r, false);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	finish(f);
}

/* The configuration is read as one generation; a device that never settles is refused. */
static void test_config_generation(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t cdb[10] = { 0x25 }, *cap = buffer(8);
	uint64_t sectors = cpu_to_le64(DISK_SECTORS * 2);
	int h;

	(void)state;
	f->gen_bumps = 20;              /* the first passes see the generation move */
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(f->gen_bumps, 0);
	/* A capacity change read while the generation moves still lands whole. */
	memcpy(f->devcfg, &sectors, 8);
	f->generation++;
	f->gen_bumps = 5;
	f->isr |= VIRTIO_PCI_ISR_CONFIG;
	assert_true(hx_interrupt(UINT32_MAX));
	assert_int_equal(hx_bus_changes(), 1);
	h = hx_scsi(cdb, 10, cap, 8, true);     /* UNIT ATTENTION first */
	hx_release(h);
	h = hx_scsi(cdb, 10, cap, 8, true);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(cap[2] << 8 | cap[3], DISK_SECTORS * 2 - 1);
	hx_release(h);
	hx_stop();
	fake_destroy(f);

	f = make_device(1, 64, 0);
	f->gen_bumps = 100000;
	assert_true(start(f, 0, 1, false) != 1);
	hx_stop();
	fake_destroy(f);
}

/* A disk writer stalled mid-update: BuildIo answers BUSY instead of spinning or tearing. */
static void test_disk_seqlock(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t cdb[10] = { 0x25 }, *cap = buffer(8);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	hx_disk_seq_hold(true);
	h = hx_scsi(cdb, 10, cap, 8, true);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x05);
	hx_release(h);
	hx_disk_seq_hold(false);
	h = hx_scsi(cdb, 10, cap, 8, true);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(cap[2] << 8 | cap[3], DISK_SECTORS - 1);
	hx_release(h);
	finish(f);
}

/* Larger than MaximumTransferLength: rejected before the device sees anything. */
static void test_oversize_rejected(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	static uint8_t big[64 * 1024 + 8192];
	uint8_t cdb[10];
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	assert_int_equal(hx_max_transfer(), 64 * 1024);
	cdb_rw10(cdb, 0x28, 0, 64 * 2 + 1, false);
	h = hx_scsi(cdb, 10, big, (64 * 2 + 1) * 512, true);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x84);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x05);  /* ILLEGAL REQUEST */
	assert_int_equal(hx_sense(h)[12], 0x24);        /* INVALID FIELD IN CDB */
	assert_int_equal(dev.reads, 0);
	hx_release(h);
	/* Exactly the limit goes through. */
	cdb_rw10(cdb, 0x28, 0, 64 * 2, false);
	h = hx_scsi(cdb, 10, big, 64 * 1024, true);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(hx_transferred(h), 64 * 1024);
	hx_release(h);
	finish(f);
}

/*
 * Heavy load on small direct rings: StorPort-like resubmission of BUSY
 * requests, the device serving at its own pace. Every request ends exactly
 * once and successfully, and the LUN is never left held back.
 */
static void test_heavy_load(void **state)
{
	struct fake_virtio *f = make_device(2, 8, 0);
	uint8_t *r = buffer(4096);
	int h[48];
	unsigned int done = 0, busy = 0, round = 0;

	(void)state;
	f->dev_features &= ~FEAT(VIRTIO_F_INDIRECT_DESC);
	assert_int_equal(start(f, 3, 2, false), 1);
	assert_int_equal(hx_queues(), 2);
	for (int i = 0; i < 48; i++)
		h[i] = -1;
	while (done < 48 && round++ < 1000) {
		dev.hold = true;
		for (int i = 0; i < 48; i++) {
			if (h[i] >= 0)
				continue;       /* in flight or finished */
			/* StorPort holds new requests back while the LUN is busy. */
			if (hx_lun_busy())
				break;
			hx_set_cpu((uint32_t)i % 2);
			h[i] = hx_scsi((const uint8_t[10]){ 0x28, 0, 0, 0, 0, (uint8_t)i, 0, 0, 1, 0 },
				       10, r, 512, true);
			if (hx_done(h[i]) && hx_srb_status(h[i]) == 0x05) {
				busy++;
				hx_release(h[i]);
				h[i] = -1;      /* requeued by StorPort */
			}
		}
		dev.hold = false;
		device_serve(f);
		hx_interrupt(1 + round % 2);
		hx_interrupt(1 + (round + 1) % 2);
		for (int i = 0; i < 48; i++) {
			if (h[i] < 0 || h[i] >= 1000 || !hx_done(h[i]))
				continue;
			assert_int_equal(hx_completions(h[i]), 1);
			assert_int_equal(hx_srb_status(h[i]), 0x01);
			hx_release(h[i]);
			h[i] = 1000;    /* finished */
			done++;
		}
	}
	assert_int_equal(done, 48);
	assert_true(busy > 0);                          /* the rings really filled up */
	assert_int_equal(hx_busy_calls(), hx_ready_calls());
	assert_false(hx_lun_busy());
	finish(f);
}

/* STORAGE_REQUEST_BLOCKs: the same I/O, status, sense and functions as classic SRBs. */
static void test_srb_ex(void **state)
{
	struct fake_virtio *f = make_device(1, 64, 0);
	uint8_t inq[6] = { 0x12, 0x01, 0x80, 0, 64, 0 }, cdb[10], cdb32[32];
	uint8_t *vpd = buffer(64), *w = buffer(4096), *r = buffer(4096);
	int h;

	(void)state;
	assert_int_equal(start(f, 0, 1, false), 1);
	h = hx_scsi_ex(inq, 6, vpd, 64, true, 0);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(hx_scsi_status(h), 0x00);
	assert_int_equal(hx_transferred(h), 14);
	assert_memory_equal(vpd + 4, "TESTSERIAL", 10);
	hx_release(h);

	memset(w, 0x3c, 4096);
	cdb_rw10(cdb, 0x2A, 40, 8, true);
	h = hx_scsi_ex(cdb, 10, w, 4096, false, 0);
	device_serve(f);
	hx_interrupt(UINT32_MAX);
	complete_intx(h);                       /* write, then its FUA flush */
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(dev.flushes, 1);
	hx_release(h);
	cdb_rw10(cdb, 0x28, 40, 8, false);
	h = hx_scsi_ex(cdb, 10, r, 4096, true, 0);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_memory_equal(r, w, 4096);
	hx_release(h);

	/* Device error: sense lands in the CDB block's buffer. */
	dev.inject = VIRTIO_BLK_S_IOERR;
	h = hx_scsi_ex(cdb, 10, r, 4096, true, 0);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x84);
	assert_int_equal(hx_scsi_status(h), 0x02);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x03);
	assert_int_equal(hx_transferred(h), 0);
	hx_release(h);
	dev.inject = 0;

	/* A 32-byte CDB (variable length, 7Fh) arrives and is refused by opcode. */
	memset(cdb32, 0, sizeof(cdb32));
	cdb32[0] = 0x7F;
	cdb32[7] = 24;
	h = hx_scsi_ex(cdb32, 32, NULL, 0, false, 0);
	assert_int_equal(hx_srb_status(h), 0x84);
	assert_int_equal(hx_sense(h)[2] & 0x0f, 0x05);
	assert_int_equal(hx_sense(h)[12], 0x20);        /* INVALID COMMAND OPERATION CODE */
	hx_release(h);

	/* Addressing through the BTL8 address block. */
	h = hx_scsi_ex(inq, 6, vpd, 64, true, 1);
	assert_int_equal(hx_srb_status(h), 0x20);       /* INVALID_LUN */
	hx_release(h);

	/* Functions: FLUSH reaches the device, PNP is accepted, RESET recovers. */
	h = hx_function_ex(0x08);
	complete_intx(h);
	assert_int_equal(hx_srb_status(h), 0x01);
	assert_int_equal(dev.flushes, 2);
	hx_release(h);
	h = hx_function_ex(0x25);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	h = hx_function_ex(0x13);
	assert_int_equal(hx_srb_status(h), 0x01);
	hx_release(h);
	/* EXECUTE_SCSI without any CDB block: refused, not read from nowhere. */
	h = hx_function_ex(0x00);
	assert_int_equal(hx_completions(h), 1);
	assert_int_equal(hx_srb_status(h), 0x06);
	hx_release(h);
	finish(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bringup_and_io),
		cmocka_unit_test(test_packed_ring),
		cmocka_unit_test(test_fua_write_flushes),
		cmocka_unit_test(test_device_error_sense),
		cmocka_unit_test(test_queue_full_busy),
		cmocka_unit_test(test_reset_bus),
		cmocka_unit_test(test_broken_queue_recovers),
		cmocka_unit_test(test_capacity_change),
		cmocka_unit_test(test_surprise_removal),
		cmocka_unit_test(test_msix_multiqueue),
		cmocka_unit_test(test_msix_fallbacks),
		cmocka_unit_test(test_dump_mode_polls),
		cmocka_unit_test(test_unmap_discard),
		cmocka_unit_test(test_stop_restart),
		cmocka_unit_test(test_lock_order_checker),
		cmocka_unit_test(test_lock_order_channels_refused),
		cmocka_unit_test(test_concurrent_channels),
		cmocka_unit_test(test_perf_negotiation),
		cmocka_unit_test(test_serial_number),
		cmocka_unit_test(test_config_generation),
		cmocka_unit_test(test_disk_seqlock),
		cmocka_unit_test(test_oversize_rejected),
		cmocka_unit_test(test_heavy_load),
		cmocka_unit_test(test_srb_ex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
