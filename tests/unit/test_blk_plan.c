/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of vdpblk's sizing decisions (src/blk/blk_plan.c): queue count
 * and depth, ring size, indirect tables, transfer limits, MSI-X queue cut,
 * uncached-extension layout, descriptor shapes, and a randomised check that
 * no SG list StorPort may build for an allowed transfer needs more data
 * descriptors than planned.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "blk_plan.h"
#include "blk_scsi.h"

static struct vblk_plan_input base_input(void)
{
	struct vblk_plan_input in;

	memset(&in, 0, sizeof(in));
	in.cpus = 4;
	in.device_queues = 4;
	in.queue_max_size = 256;
	in.indirect = true;
	in.block_size = 512;
	in.disk_max_transfer = 253 * 4096;
	in.disk_max_segments = 254;
	return in;
}

static void test_defaults(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 4);
	assert_int_equal(p.queue_size, 256);
	assert_int_equal(p.max_transfer, VBLK_DEFAULT_MAX_TRANSFER);
	/* 256 KiB touches at most 65 pages; header and status come on top. */
	assert_int_equal(p.data_descs, 65);
	assert_int_equal(p.indirect_max, 67);
	assert_int_equal(p.phys_breaks, 64);
	assert_int_equal(p.seg_limit, UINT32_MAX);
	/* Queue depth is what the rings hold, never StorPort's small default. */
	assert_int_equal(p.per_queue_io, 256);
	assert_int_equal(p.max_io, 1024);
}

static void test_queue_count_limits(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.cpus = 2;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 2);
	in.cpus = 128;
	in.device_queues = 200;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, VBLK_MAX_QUEUES);
	in.reg_queues = 3;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 3);
	in.cpus = 0;            /* unknown processor count: one queue */
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 1);
	in = base_input();
	in.device_queues = 0;   /* no MQ */
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 1);
}

static void test_registry_transfer(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.reg_max_transfer = 512 * 1024;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.max_transfer, 512 * 1024);
	assert_int_equal(p.data_descs, 129);
	assert_int_equal(p.indirect_max, 131);
	/* Never above what the device segments allow. */
	in.reg_max_transfer = 64 * 1024 * 1024;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_true(p.max_transfer <= 253u * 4096u);
	assert_true(p.data_descs + 2 <= p.queue_size);
	/* A tiny or unaligned value becomes one whole block. */
	in.reg_max_transfer = 100;
	in.block_size = 4096;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.max_transfer, 4096);
	in.reg_max_transfer = 10000;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.max_transfer, 8192);
}

static void test_direct_descriptors(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.indirect = false;
	in.queue_max_size = 32;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.indirect_max, 0);
	/* 30 data descriptors: 29 pages of transfer whatever the alignment. */
	assert_int_equal(p.max_transfer, 29 * 4096);
	assert_true(p.data_descs + 2 <= 32);
	assert_int_equal(p.per_queue_io, 32 / 3);
	assert_int_equal(p.max_io, 4 * (32 / 3));
}

static void test_small_size_max(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.size_max = 1024;     /* four descriptors per page */
	in.disk_max_segments = 64;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.seg_limit, 1024);
	assert_int_equal(p.max_transfer, 15 * 4096);
	assert_int_equal(p.data_descs, 64);
	in.size_max = 100;      /* not believable: ignored like blk_scsi does */
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.seg_limit, UINT32_MAX);
	in.size_max = 65536;
	in.disk_max_segments = 254;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.seg_limit, 65536);
	assert_int_equal(p.data_descs, 65);
}

static void test_ring_sizes(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.queue_max_size = 100;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queue_size, 64);     /* split rings are powers of two */
	in.packed = true;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queue_size, 100);
	in.packed = false;
	in.legacy = true;       /* legacy size is the device's, and must be valid */
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
	in.queue_max_size = 1024;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queue_size, 1024);
	in.legacy = false;
	in.queue_max_size = 3;
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
	in.queue_max_size = 40000;
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
}

static void test_dump_mode(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	in.dump = true;
	in.reg_max_transfer = 1024 * 1024;
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_int_equal(p.queues, 1);
	assert_int_equal(p.queue_size, VBLK_DUMP_QUEUE_SIZE);
	assert_int_equal(p.max_transfer, VBLK_DUMP_MAX_TRANSFER);
	assert_true(p.indirect_max <= p.queue_size);
}

static void test_bad_inputs(void **state)
{
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;

	(void)state;
	assert_int_equal(vblk_plan_compute(NULL, &p), -1);
	assert_int_equal(vblk_plan_compute(&in, NULL), -1);
	in.block_size = 1000;
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
	in.block_size = 256;
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
	in = base_input();
	in.size_max = 512;      /* eight descriptors per page, only four available */
	in.indirect = false;
	in.queue_max_size = 8;
	assert_int_equal(vblk_plan_compute(&in, &p), -1);
}

static void test_msix_queues(void **state)
{
	bool per_queue;

	(void)state;
	assert_int_equal(vblk_plan_msix_queues(4, 5, &per_queue), 4);
	assert_true(per_queue);
	assert_int_equal(vblk_plan_msix_queues(4, 8, &per_queue), 4);
	assert_true(per_queue);
	assert_int_equal(vblk_plan_msix_queues(4, 3, &per_queue), 2);
	assert_true(per_queue);
	assert_int_equal(vblk_plan_msix_queues(4, 1, &per_queue), 1);
	assert_false(per_queue);
	assert_int_equal(vblk_plan_msix_queues(4, 0, &per_queue), 1);
	assert_false(per_queue);
	assert_int_equal(vblk_plan_msix_queues(0, 4, NULL), 1);
}

static void test_mem_layout(void **state)
{
	struct vblk_mem_layout m;

	(void)state;
	assert_int_equal(vblk_mem_plan(12345, 777, 256, 4, &m), 0);
	assert_int_equal(m.ring_off, 0);
	assert_true(m.dma_off >= 12345 && m.dma_off % 64 == 0);
	assert_true(m.state_off >= m.dma_off + 256 * sizeof(struct vblk_req_dma));
	assert_int_equal(m.state_off % 16, 0);
	assert_true(m.free_off >= m.state_off + 777);
	assert_true(m.stride >= m.free_off + 512 && m.stride % 4096 == 0);
	assert_int_equal(m.total, 4 * m.stride + 4096);
	assert_int_equal(vblk_mem_plan(0, 777, 256, 4, &m), -1);
	assert_int_equal(vblk_mem_plan(12345, 777, 0, 4, &m), -1);
	assert_int_equal(vblk_mem_plan(12345, 777, 256, 0, &m), -1);
	/* The total must fit the ULONG StorPortGetUncachedExtension takes. */
	assert_int_equal(vblk_mem_plan(0x8000000, 0x100000, 32768, 64, &m), -1);
	assert_int_equal(vblk_mem_plan(12345, 777, 256, 4, NULL), -1);
}

static void test_desc_shapes(void **state)
{
	struct vblk_desc_shape s;

	(void)state;
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_IN, 0, &s), 0);
	assert_true(s.data_in && !s.data_out && !s.id_in && s.out_extra == 0);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_OUT, 0, &s), 0);
	assert_true(!s.data_in && s.data_out);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_FLUSH, 0, &s), 0);
	assert_true(!s.data_in && !s.data_out && s.out_extra == 0);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_GET_ID, 0, &s), 0);
	assert_true(s.id_in);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_DISCARD, 3, &s), 0);
	assert_int_equal(s.out_extra, 1);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_WRITE_ZEROES, 1, &s), 0);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_DISCARD, 0, &s), -1);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_DISCARD, VBLK_DMA_RANGES + 1, &s), -1);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_SECURE_ERASE, 1, &s), -1);
	assert_int_equal(vblk_desc_shape(VIRTIO_BLK_T_IN, 0, NULL), -1);
}

static void test_sg_pieces(void **state)
{
	(void)state;
	assert_int_equal(vblk_sg_pieces(0, 4096), 0);
	assert_int_equal(vblk_sg_pieces(4096, 4096), 1);
	assert_int_equal(vblk_sg_pieces(4097, 4096), 2);
	assert_int_equal(vblk_sg_pieces(0xFFFFFFFFu, 4096), 0x100000);
	assert_int_equal(vblk_sg_pieces(0xFFFFFFFFu, UINT32_MAX), 1);
	assert_int_equal(vblk_sg_pieces(10, 0), 1);
}

/* xorshift: deterministic, no libc randomness. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Builds SG lists the way StorPort does for a virtually contiguous buffer
 * (pages physically scattered, neighbours sometimes contiguous and merged)
 * and checks the data descriptors never exceed the plan.
 */
static void check_sg_bound(const struct vblk_plan_input *in, uint32_t seed, int rounds)
{
	struct vblk_plan p;
	uint32_t s = seed;

	assert_int_equal(vblk_plan_compute(in, &p), 0);
	for (int r = 0; r < rounds; r++) {
		uint32_t blocks = p.max_transfer / in->block_size;
		uint32_t len = (1 + rnd(&s) % blocks) * in->block_size;
		uint32_t off = (rnd(&s) % 8) * 512;       /* sector-aligned buffers */
		uint32_t descs = 0, elems = 0, cur = 0;
		uint32_t pos = 0;

		while (pos < len) {
			uint32_t in_page = 4096 - ((off + pos) % 4096);
			uint32_t chunk = in_page < len - pos ? in_page : len - pos;

			/* A new element unless the next page happens to be contiguous. */
			if (pos == 0 || rnd(&s) % 3) {
				if (cur)
					descs += vblk_sg_pieces(cur, p.seg_limit);
				cur = 0;
				elems++;
			}
			cur += chunk;
			pos += chunk;
		}
		descs += vblk_sg_pieces(cur, p.seg_limit);
		assert_true(elems <= p.phys_breaks + 1);
		assert_true(descs <= p.data_descs);
	}
}

static void test_sg_bound_random(void **state)
{
	struct vblk_plan_input in = base_input();

	(void)state;
	check_sg_bound(&in, 1, 2000);
	in.size_max = 1024;
	in.disk_max_segments = 64;
	check_sg_bound(&in, 2, 2000);
	in.size_max = 8192;
	in.disk_max_segments = 254;
	in.reg_max_transfer = 1024 * 1024;
	check_sg_bound(&in, 3, 2000);
	in = base_input();
	in.indirect = false;
	in.queue_max_size = 64;
	in.block_size = 4096;
	check_sg_bound(&in, 4, 2000);
}

/* The plan and blk_scsi agree: blk_scsi's limits feed the plan unchanged. */
static void test_with_blk_scsi(void **state)
{
	struct virtio_blk_config cfg;
	struct vblk_disk disk;
	struct vblk_plan_input in = base_input();
	struct vblk_plan p;
	uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_SIZE_MAX);

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = cpu_to_le64(1 << 20);
	cfg.seg_max = cpu_to_le32(254);
	cfg.size_max = cpu_to_le32(0x7FFFF000);
	assert_int_equal(vblk_disk_from_config(&disk, &cfg, f), 0);
	in.block_size = disk.block_size;
	in.disk_max_transfer = disk.max_transfer_bytes;
	in.disk_max_segments = disk.max_segments;
	in.size_max = le32_to_cpu(cfg.size_max);
	assert_int_equal(vblk_plan_compute(&in, &p), 0);
	assert_true(p.max_transfer <= disk.max_transfer_bytes);
	assert_true(p.data_descs <= disk.max_segments);
}

/* Performance options: only what the queried version and StorPort support. */
static void test_perf_flags(void **state)
{
	const uint32_t all = VBLK_PERF_DPC_REDIRECTION | VBLK_PERF_CONCURRENT_CHANNELS |
			     VBLK_PERF_INTERRUPT_MESSAGE_RANGES;

	(void)state;
	assert_int_equal(vblk_perf_flags(5, all | 0x40 | 0x100, 4, true), all);
	assert_int_equal(vblk_perf_flags(2, all, 4, true), all);
	assert_int_equal(vblk_perf_flags(1, all, 4, true), 0);          /* before version 2 */
	assert_int_equal(vblk_perf_flags(5, all, 1, true), 0);          /* one queue */
	/* Shared vectors: no redirection, channels alone still help. */
	assert_int_equal(vblk_perf_flags(5, all, 4, false), VBLK_PERF_CONCURRENT_CHANNELS);
	/* MESSAGE_RANGES never without DPC_REDIRECTION. */
	assert_int_equal(vblk_perf_flags(5, VBLK_PERF_INTERRUPT_MESSAGE_RANGES |
					    VBLK_PERF_CONCURRENT_CHANNELS, 4, true),
			 VBLK_PERF_CONCURRENT_CHANNELS);
	assert_int_equal(vblk_perf_flags(5, 0, 4, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perf_flags),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_queue_count_limits),
		cmocka_unit_test(test_registry_transfer),
		cmocka_unit_test(test_direct_descriptors),
		cmocka_unit_test(test_small_size_max),
		cmocka_unit_test(test_ring_sizes),
		cmocka_unit_test(test_dump_mode),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_msix_queues),
		cmocka_unit_test(test_mem_layout),
		cmocka_unit_test(test_desc_shapes),
		cmocka_unit_test(test_sg_pieces),
		cmocka_unit_test(test_sg_bound_random),
		cmocka_unit_test(test_with_blk_scsi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
