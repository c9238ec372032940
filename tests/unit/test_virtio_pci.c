/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCI transport tests: capability walk, legacy layout, status handshake,
 * feature negotiation, reset, queue sizing, MSI-X vectors, device
 * configuration access, and the hostile-device cases of each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_virtio.h"
#include <virtio/virtio_blk.h>
#include <virtio/virtio_net.h>

/* Device-reported maximum size (also the current size after reset). */
static void set_qmax(struct fake_virtio *f, unsigned int i, uint16_t v)
{
	f->q[i].max_size = v;
	f->q[i].size = v;
}

static struct fake_virtio *new_fake(bool modern, bool legacy)
{
	struct fake_virtio *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_init(f, VIRTIO_ID_NET, 3, 256, modern, legacy);
	return f;
}

static void test_modern_init(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_false(virtio_is_legacy(&dev));
	assert_int_equal(virtio_device_type(&dev), VIRTIO_ID_NET);
	assert_int_equal(virtio_config_len(&dev), 0x40);
	assert_int_equal(dev.notify_mult, FAKE_NOTIFY_MULT);
	assert_int_equal(f->log_count, 0);
	fake_destroy(f);
}

static void test_init_bad_args(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_os_ops ops = f->ops;
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(NULL, &f->ops, f, 0), VIRTIO_EINVAL);
	assert_int_equal(virtio_init(&dev, NULL, f, 0), VIRTIO_EINVAL);
	ops.io_write16 = NULL;
	assert_int_equal(virtio_init(&dev, &ops, f, 0), VIRTIO_EINVAL);
	f->cfg[0] = 0x86;   /* not the virtio vendor */
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_ENODEV);
	fake_destroy(f);
}

static void test_negotiate(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	uint64_t got = 0;

	(void)s;
	f->dev_features |= VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
			   VIRTIO_BIT(VIRTIO_NET_F_MAC);
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	/* Not yet begun: negotiate is refused. */
	assert_int_equal(virtio_negotiate(&dev, 0, &got), VIRTIO_EINVAL);
	assert_int_equal(virtio_begin(&dev), VIRTIO_OK);
	assert_int_equal(f->status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	assert_true(virtio_device_features(&dev) & VIRTIO_BIT(VIRTIO_F_IN_ORDER));
	assert_int_equal(virtio_negotiate(&dev, VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
					  VIRTIO_BIT(VIRTIO_NET_F_MTU), &got), VIRTIO_OK);
	/* IN_ORDER is not implemented by the core, MTU not offered, ACCESS_PLATFORM forced. */
	assert_int_equal(got, VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			      VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(f->drv_features, got);
	assert_true(f->status & VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_has_feature(&dev, VIRTIO_NET_F_MAC));
	assert_false(virtio_has_feature(&dev, VIRTIO_F_IN_ORDER));
	assert_false(virtio_has_feature(&dev, 200));
	/* A second negotiate in FEATURES_OK state is a driver bug. */
	assert_int_equal(virtio_negotiate(&dev, 0, &got), VIRTIO_EINVAL);
	assert_int_equal(virtio_features(&dev), got);
	assert_int_equal(virtio_num_queues(&dev), 3);
	assert_int_equal(virtio_driver_ok(&dev), VIRTIO_OK);
	assert_true(f->status & VIRTIO_STATUS_DRIVER_OK);
	/* No queue setup after DRIVER_OK. */
	{
		struct fake_ring r;

		assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EINVAL);
		fake_free_ring(&r);
	}
	assert_false(virtio_needs_reset(&dev));
	f->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	assert_true(virtio_needs_reset(&dev));
	fake_destroy(f);
}

static void test_no_version_1(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;

	(void)s;
	f->dev_features &= ~VIRTIO_BIT(VIRTIO_F_VERSION_1);
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_ENOTSUP);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_non_null(strstr(f->log_all, "VERSION_1"));
	fake_destroy(f);
}

static void test_features_ok_rejected(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	struct fake_ring r;

	(void)s;
	f->reject_features_ok = true;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_ENOTSUP);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_non_null(strstr(f->log_all, "rejected"));
	/* Nothing else proceeds without FEATURES_OK. */
	assert_int_equal(virtio_driver_ok(&dev), VIRTIO_EINVAL);
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EINVAL);
	fake_free_ring(&r);
	fake_destroy(f);
}

static void test_reset_timeout(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	f->status = VIRTIO_STATUS_ACKNOWLEDGE;
	f->never_reset = true;
	assert_int_equal(virtio_reset(&dev), VIRTIO_ETIMEDOUT);
	/* Bounded: about one second of stalls, then give up. */
	assert_true(f->stalled_us >= 900000 && f->stalled_us <= 1100000);
	assert_int_equal(virtio_begin(&dev), VIRTIO_ETIMEDOUT);
	assert_non_null(strstr(f->log_all, "reset"));
	f->never_reset = false;
	assert_int_equal(virtio_reset(&dev), VIRTIO_OK);
	fake_destroy(f);
}

/* The queue count is read again after FEATURES_OK: a device may add queues
 * for an accepted feature, and the driver must be able to use them. */
static void test_queues_added_by_feature(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	uint16_t max;

	(void)s;
	f->queues_on_feature = 4;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_int_equal(virtio_num_queues(&dev), 3);
	assert_int_equal(virtio_queue_max_size(&dev, 3, &max), VIRTIO_ENODEV);
	assert_int_equal(virtio_begin(&dev), VIRTIO_OK);
	assert_int_equal(virtio_negotiate(&dev, VIRTIO_BIT(0), NULL), VIRTIO_OK);
	assert_int_equal(virtio_num_queues(&dev), 4);
	assert_int_equal(virtio_queue_max_size(&dev, 3, &max), VIRTIO_OK);
	assert_int_equal(max, 256);
	assert_int_equal(virtio_queue_max_size(&dev, 4, &max), VIRTIO_ENODEV);
	fake_destroy(f);
}

static void test_queue_sizes(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	struct fake_ring r;
	uint16_t max;

	(void)s;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_OK);
	assert_int_equal(virtio_queue_max_size(&dev, 0, &max), VIRTIO_OK);
	assert_int_equal(max, 256);
	/* Index beyond num_queues. */
	assert_int_equal(virtio_queue_max_size(&dev, 3, &max), VIRTIO_ENODEV);
	set_qmax(f, 1, 0);
	assert_int_equal(virtio_queue_max_size(&dev, 1, &max), VIRTIO_ENODEV);
	set_qmax(f, 1, 100);      /* split rings need a power of two */
	assert_int_equal(virtio_queue_max_size(&dev, 1, &max), VIRTIO_EIO);
	assert_non_null(strstr(f->log_all, "invalid size"));
	set_qmax(f, 1, 65535);
	assert_int_equal(virtio_queue_max_size(&dev, 1, &max), VIRTIO_EIO);
	set_qmax(f, 1, 32768);
	assert_int_equal(virtio_queue_max_size(&dev, 1, &max), VIRTIO_OK);
	set_qmax(f, 1, 0x8000 + 0x4000);
	assert_int_equal(fake_setup_queue(&dev, 1, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EIO);
	fake_free_ring(&r);
	/* The driver may pick a smaller power of two, not a larger size or another shape. */
	assert_int_equal(fake_setup_queue(&dev, 0, 512, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EINVAL);
	fake_free_ring(&r);
	assert_int_equal(fake_setup_queue(&dev, 0, 48, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EINVAL);
	fake_free_ring(&r);
	assert_int_equal(fake_setup_queue(&dev, 0, 64, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_OK);
	assert_int_equal(f->q[0].size, 64);
	assert_int_equal(f->q[0].enable, 1);
	assert_int_equal(f->q[0].desc, r.ring_bus);
	assert_int_equal(vq_size(r.vq), 64);
	/* Queue already enabled: a second setup is refused. */
	{
		struct fake_ring r2;

		assert_int_equal(fake_setup_queue(&dev, 0, 64, 0, VIRTIO_MSI_NO_VECTOR, &r2), VIRTIO_EIO);
		fake_free_ring(&r2);
	}
	fake_free_ring(&r);
	/* Size queries reject impossible geometry. */
	assert_int_equal(virtio_queue_ring_size(&dev, 0, 0), 0);
	assert_int_equal(virtio_queue_ring_size(&dev, 24, 0), 0);
	assert_int_equal(virtio_queue_ring_size(&dev, 8, 9), 0);
	assert_true(virtio_queue_ring_size(&dev, 8, 8) > virtio_queue_ring_size(&dev, 8, 0));
	assert_int_equal(virtio_queue_state_size(0), 0);
	fake_destroy(f);
}

static void test_packed_any_size(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	struct fake_ring r;
	static char b[4];
	void *cookie;
	uint32_t len;

	(void)s;
	set_qmax(f, 0, 100);      /* packed rings need not be a power of two */
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(VIRTIO_F_RING_PACKED)), VIRTIO_OK);
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_OK);
	assert_int_equal(vq_size(r.vq), 100);
	for (int i = 0; i < 250; i++) {
		struct vq_sg sg = { (uint64_t)(uintptr_t)b, 4 };

		assert_int_equal(vq_add(r.vq, &sg, 0, 1, b), VIRTIO_OK);
		assert_int_equal(fake_serve_echo(f, 0), 1);
		assert_int_equal(vq_get_used(r.vq, &cookie, &len), VIRTIO_OK);
		assert_int_equal(len, 0);
	}
	fake_free_ring(&r);
	fake_destroy(f);
}

static void test_msix_vectors(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	struct fake_ring r;

	(void)s;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_OK);
	assert_int_equal(virtio_set_config_vector(&dev, 0), VIRTIO_OK);
	assert_int_equal(f->config_msix, 0);
	f->refuse_config_msix = true;
	assert_int_equal(virtio_set_config_vector(&dev, 1), VIRTIO_EIO);
	assert_non_null(strstr(f->log_all, "refused"));
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, 1, &r), VIRTIO_OK);
	assert_int_equal(f->q[0].msix, 1);
	fake_free_ring(&r);
	f->q[1].refuse_msix = true;
	assert_int_equal(fake_setup_queue(&dev, 1, 0, 0, 2, &r), VIRTIO_EIO);
	assert_null(r.vq);
	assert_int_equal(f->q[1].enable, 0);
	fake_free_ring(&r);
	fake_destroy(f);
}

/* ------------------------------------------------------------------ */
/* Hostile capabilities                                               */

static int init_modern_only(struct fake_virtio *f)
{
	struct virtio_dev dev;

	return virtio_init(&dev, &f->ops, f, 0);
}

static void test_cap_outside_bar(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	fake_set_cap(f, FAKE_CAP_NOTIFY, VIRTIO_PCI_CAP_NOTIFY_CFG, FAKE_MMIO_BAR, 0x3000, 0x2000);
	assert_int_equal(init_modern_only(f), VIRTIO_ERANGE);
	assert_non_null(strstr(f->log_all, "incomplete"));
	fake_destroy(f);
}

static void test_cap_wraparound(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	/* offset + length wraps 32 bits to a small value. */
	fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, 0xfffff000u, 0x2000);
	assert_int_equal(init_modern_only(f), VIRTIO_ERANGE);
	fake_destroy(f);
}

static void test_cap_bad_bar_and_missing_bar(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	fake_set_cap(f, FAKE_CAP_ISR, VIRTIO_PCI_CAP_ISR_CFG, 7, FAKE_ISR_OFF, 0x1000);
	assert_int_equal(init_modern_only(f), VIRTIO_ENODEV);
	fake_set_cap(f, FAKE_CAP_ISR, VIRTIO_PCI_CAP_ISR_CFG, 2, FAKE_ISR_OFF, 0x1000);  /* BAR 2 absent */
	assert_int_equal(init_modern_only(f), VIRTIO_ERANGE);
	fake_destroy(f);
}

static void test_cap_overlap(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	fake_set_cap(f, FAKE_CAP_NOTIFY, VIRTIO_PCI_CAP_NOTIFY_CFG, FAKE_MMIO_BAR, 0x0020, 0x100);
	assert_int_equal(init_modern_only(f), VIRTIO_EIO);
	assert_non_null(strstr(f->log_all, "overlap"));
	fake_destroy(f);
}

static void test_cap_misaligned_and_short(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, 0x2, 0x1000);
	assert_int_equal(init_modern_only(f), VIRTIO_EIO);
	fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, 0, 0x20);
	assert_int_equal(init_modern_only(f), VIRTIO_EIO);
	fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, 0, 0x1000);
	f->cfg[FAKE_CAP_NOTIFY + 16] = 3;   /* notify_off_multiplier not an even power of 2 */
	assert_int_equal(init_modern_only(f), VIRTIO_EIO);
	fake_destroy(f);
}

static void test_cap_len_short_and_id_range(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	uint16_t id = 0x0fff;

	(void)s;
	f->cfg[FAKE_CAP_NOTIFY + 2] = 16;    /* notify cap without its multiplier */
	assert_int_equal(init_modern_only(f), VIRTIO_ENODEV);
	assert_non_null(strstr(f->log_all, "too short"));
	f->cfg[FAKE_CAP_NOTIFY + 2] = 20;
	assert_int_equal(init_modern_only(f), VIRTIO_OK);
	memcpy(f->cfg + PCI_CFG_DEVICE_ID, &id, 2);
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_ENODEV);
	fake_destroy(f);
}

static void test_cap_loop(void **s)
{
	struct fake_virtio *f = new_fake(true, false);

	(void)s;
	f->cfg[FAKE_CAP_NOTIFY + 1] = FAKE_CAP_COMMON;   /* list points back to its head */
	assert_int_equal(init_modern_only(f), VIRTIO_OK);  /* terminates, caps are all valid */
	f->cfg[FAKE_CAP_COMMON + 1] = 0x10;              /* pointer into the header */
	assert_int_equal(init_modern_only(f), VIRTIO_ENODEV);
	fake_destroy(f);
}

static void test_cap_duplicate_first_valid_wins(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;

	(void)s;
	/* A bad device cap before the good one: skipped, then the later valid one used. */
	fake_set_cap(f, 0xa0, VIRTIO_PCI_CAP_DEVICE_CFG, FAKE_MMIO_BAR, 0x3ff0, 0x100);
	f->cfg[0xa0 + 1] = FAKE_CAP_COMMON;
	f->cfg[PCI_CFG_CAP_PTR] = 0xa0;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_int_equal(virtio_config_len(&dev), 0x40);
	fake_destroy(f);
}

static void test_notify_off_outside(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	struct fake_ring r;

	(void)s;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_OK);
	f->q[0].notify_off = 0x400;      /* 0x400 * 4 = 0x1000: one past the region */
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_ERANGE);
	fake_free_ring(&r);
	f->q[0].notify_off = 0x3ff;
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_OK);
	vq_notify(r.vq);
	assert_int_equal(f->q[0].notifies, 1);
	fake_free_ring(&r);
	fake_destroy(f);
}

/* ------------------------------------------------------------------ */
/* Device configuration                                               */

static void test_config_access(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	uint8_t v8, mac[6];
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	(void)s;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_OK);
	assert_int_equal(virtio_config_read8(&dev, 1, &v8), VIRTIO_OK);
	assert_int_equal(v8, 0xa1);
	assert_int_equal(virtio_config_read16(&dev, offsetof(struct virtio_net_config, status), &v16), VIRTIO_OK);
	assert_int_equal(v16, 0xa7a6);
	assert_int_equal(virtio_config_read32(&dev, 4, &v32), VIRTIO_OK);
	assert_int_equal(v32, 0xa7a6a5a4);
	assert_int_equal(virtio_config_read64(&dev, 8, &v64), VIRTIO_OK);
	assert_true(v64 == 0xafaeadacabaaa9a8ull);
	assert_int_equal(virtio_config_read_bytes(&dev, 0, mac, 6), VIRTIO_OK);
	assert_int_equal(mac[5], 0xa5);
	/* Outside the 0x40-byte region, or misaligned. */
	assert_int_equal(virtio_config_read8(&dev, 0x40, &v8), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_read32(&dev, 0x3e, &v32), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_read64(&dev, 0x3c, &v64), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_read_bytes(&dev, 0xfffffff0u, mac, 0x20), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_read16(&dev, 1, &v16), VIRTIO_EINVAL);
	assert_int_equal(virtio_config_write8(&dev, 0x40, 1), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_write32(&dev, 8, 0x11223344), VIRTIO_OK);
	assert_int_equal(f->devcfg[8], 0x44);
	assert_int_equal(virtio_config_write16(&dev, 12, 0x5566), VIRTIO_OK);
	assert_int_equal(virtio_config_write8(&dev, 14, 0x77), VIRTIO_OK);
	assert_int_equal(f->devcfg[14], 0x77);
	fake_destroy(f);
}

static void test_config_generation(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;
	uint64_t v64;
	uint8_t buf[16];

	(void)s;
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(0)), VIRTIO_OK);
	assert_false(virtio_config_changed(&dev));
	/* The generation moves during the first few reads: retried, then consistent. */
	f->gen_bumps = 3;
	assert_int_equal(virtio_config_read64(&dev, 0, &v64), VIRTIO_OK);
	assert_true(v64 == 0xa7a6a5a4a3a2a1a0ull);
	assert_true(virtio_config_changed(&dev));
	assert_false(virtio_config_changed(&dev));
	f->gen_bumps = 5;
	assert_int_equal(virtio_config_read_bytes(&dev, 0, buf, sizeof(buf)), VIRTIO_OK);
	/* A device that never settles: bounded, clean error. */
	f->gen_bumps = 100000;
	assert_int_equal(virtio_config_read64(&dev, 0, &v64), VIRTIO_EIO);
	assert_non_null(strstr(f->log_all, "never stable"));
	fake_destroy(f);
}

static void test_isr(void **s)
{
	struct fake_virtio *f = new_fake(true, false);
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	f->isr = VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG;
	assert_int_equal(virtio_isr_read(&dev), 3);
	assert_int_equal(virtio_isr_read(&dev), 0);
	fake_destroy(f);
}

/* ------------------------------------------------------------------ */
/* Legacy / transitional                                              */

static void test_legacy_device(void **s)
{
	struct fake_virtio *f = new_fake(false, true);
	struct virtio_dev dev;
	struct fake_ring r;
	uint64_t got;
	uint32_t v32;
	char out[8] = "legacy", in[8] = "";
	struct vq_sg sg[2] = { { (uint64_t)(uintptr_t)out, 7 }, { (uint64_t)(uintptr_t)in, 8 } };
	void *cookie;
	uint32_t len;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_true(virtio_is_legacy(&dev));
	assert_int_equal(virtio_device_type(&dev), VIRTIO_ID_NET);
	assert_int_equal(virtio_config_len(&dev), FAKE_IO_LEN - 0x14);
	assert_int_equal(virtio_begin(&dev), VIRTIO_OK);
	/* Legacy: 32 feature bits, no VERSION_1, no FEATURES_OK step. */
	assert_int_equal(virtio_negotiate(&dev, VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
					  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), &got), VIRTIO_OK);
	assert_int_equal(got, VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_false(f->status & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(virtio_config_read32(&dev, 0, &v32), VIRTIO_OK);
	assert_int_equal(v32, 0xa3a2a1a0);
	/* Without MSI-X the vector registers do not exist. */
	assert_int_equal(virtio_set_config_vector(&dev, VIRTIO_MSI_NO_VECTOR), VIRTIO_OK);
	assert_int_equal(virtio_set_config_vector(&dev, 0), VIRTIO_EINVAL);
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, 0, &r), VIRTIO_EINVAL);
	fake_free_ring(&r);
	/* The legacy device dictates the size. */
	assert_int_equal(fake_setup_queue(&dev, 0, 128, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_EINVAL);
	fake_free_ring(&r);
	assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r), VIRTIO_OK);
	assert_int_equal(f->q[0].pfn, (uint32_t)(r.ring_bus >> 12));
	/* Already active, or a ring a 32-bit PFN cannot reach. */
	{
		struct fake_ring r2;
		struct virtio_queue_params p;
		static uint8_t state[8192] __attribute__((aligned(8)));

		assert_int_equal(fake_setup_queue(&dev, 0, 0, 0, VIRTIO_MSI_NO_VECTOR, &r2), VIRTIO_EIO);
		fake_free_ring(&r2);
		memset(&p, 0, sizeof(p));
		p.index = 1;
		p.msix_vector = VIRTIO_MSI_NO_VECTOR;
		p.ring_va = fake_dma_alloc(f, r.ring_len, &p.ring_pa);
		assert_non_null(p.ring_va);
		p.ring_pa = 1ull << 45;         /* as if the OS handed out high memory */
		p.ring_len = r.ring_len;
		p.state = state;
		p.state_len = sizeof(state);
		assert_true(virtio_queue_state_size(256) <= sizeof(state));
		assert_int_equal(virtio_queue_setup(&dev, &p, &r2.vq), VIRTIO_EINVAL);
		assert_int_equal(f->q[1].pfn, 0);
	}
	/* Legacy config has no generation: 64-bit and byte reads compare two passes. */
	{
		uint64_t v64;
		uint8_t bytes[20];

		assert_int_equal(virtio_config_read64(&dev, 8, &v64), VIRTIO_OK);
		assert_true(v64 == 0xafaeadacabaaa9a8ull);
		assert_int_equal(virtio_config_read_bytes(&dev, 0, bytes, sizeof(bytes)), VIRTIO_OK);
		assert_int_equal(bytes[19], 0xb3);
		assert_false(virtio_config_changed(&dev));
	}
	assert_int_equal(virtio_driver_ok(&dev), VIRTIO_OK);
	/* The fake computes the legacy layout on its own: data must flow. */
	assert_int_equal(vq_add(r.vq, sg, 1, 1, out), VIRTIO_OK);
	vq_kick(r.vq);
	assert_int_equal(f->q[0].notifies, 1);
	assert_int_equal(fake_serve_echo(f, 0), 1);
	assert_int_equal(vq_get_used(r.vq, &cookie, &len), VIRTIO_OK);
	assert_int_equal(len, 7);
	assert_string_equal(in, "legacy");
	assert_int_equal(virtio_isr_read(&dev), VIRTIO_PCI_ISR_QUEUE);
	fake_free_ring(&r);
	fake_destroy(f);
}

static void test_legacy_msix_layout(void **s)
{
	struct fake_virtio *f = new_fake(false, true);
	struct virtio_dev dev;
	struct fake_ring r;
	uint32_t v32;

	(void)s;
	f->msix_enabled = true;           /* seen through the MSI-X capability */
	assert_int_equal(fake_bringup(f, &dev, 0, VIRTIO_BIT(5)), VIRTIO_OK);
	assert_int_equal(virtio_config_len(&dev), FAKE_IO_LEN - 0x18);
	assert_int_equal(virtio_config_read32(&dev, 0, &v32), VIRTIO_OK);
	assert_int_equal(v32, 0xa3a2a1a0);
	assert_int_equal(virtio_set_config_vector(&dev, 0), VIRTIO_OK);
	assert_int_equal(f->config_msix, 0);
	assert_int_equal(fake_setup_queue(&dev, 1, 0, 0, 1, &r), VIRTIO_OK);
	assert_int_equal(f->q[1].msix, 1);
	fake_free_ring(&r);
	f->q[2].refuse_msix = true;
	assert_int_equal(fake_setup_queue(&dev, 2, 0, 0, 2, &r), VIRTIO_EIO);
	fake_free_ring(&r);
	/* The glue can switch MSI-X off; the config window moves back. */
	f->msix_enabled = false;
	assert_int_equal(virtio_set_msix_enabled(&dev, false), VIRTIO_OK);
	assert_int_equal(virtio_config_len(&dev), FAKE_IO_LEN - 0x14);
	assert_int_equal(virtio_config_read32(&dev, 0, &v32), VIRTIO_OK);
	assert_int_equal(v32, 0xa3a2a1a0);
	/* A BAR0 without room for the MSI-X registers keeps the old layout. */
	f->bar_len[0] = 0x16;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_int_equal(virtio_set_msix_enabled(&dev, true), VIRTIO_ERANGE);
	assert_int_equal(virtio_config_len(&dev), 2);
	assert_int_equal(virtio_num_queues(&dev), 0);
	fake_destroy(f);
}

static void test_transitional_choice(void **s)
{
	struct fake_virtio *f = new_fake(true, true);
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_false(virtio_is_legacy(&dev));
	assert_int_equal(virtio_init(&dev, &f->ops, f, VIRTIO_INIT_FORCE_LEGACY), VIRTIO_OK);
	assert_true(virtio_is_legacy(&dev));
	assert_int_equal(virtio_config_len(&dev), FAKE_IO_LEN - 0x14);
	/* MSI-X state is found even when the virtio capabilities are skipped. */
	f->msix_enabled = true;
	assert_int_equal(virtio_init(&dev, &f->ops, f, VIRTIO_INIT_FORCE_LEGACY), VIRTIO_OK);
	assert_int_equal(virtio_config_len(&dev), FAKE_IO_LEN - 0x18);
	f->msix_enabled = false;
	/* Broken modern caps fall back to the legacy BAR on a transitional device. */
	fake_set_cap(f, FAKE_CAP_COMMON, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_MMIO_BAR, 0x3f00, 0x1000);
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_OK);
	assert_true(virtio_is_legacy(&dev));
	assert_int_equal(virtio_init(&dev, &f->ops, f, VIRTIO_INIT_NO_LEGACY), VIRTIO_ERANGE);
	fake_destroy(f);
}

static void test_legacy_refused(void **s)
{
	struct fake_virtio *f = new_fake(false, true);
	struct virtio_dev dev;

	(void)s;
	assert_int_equal(virtio_init(&dev, &f->ops, f, VIRTIO_INIT_NO_LEGACY), VIRTIO_ENODEV);
	f->bar_len[0] = 0x10;             /* BAR0 too small for the header */
	assert_int_equal(virtio_init(&dev, &f->ops, f, 0), VIRTIO_ENODEV);
	fake_destroy(f);
}

static void test_strerror(void **s)
{
	(void)s;
	for (int e = 0; e >= -9; e--)
		assert_string_not_equal(virtio_strerror(e), "unknown error");
	assert_string_equal(virtio_strerror(-100), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_init),
		cmocka_unit_test(test_init_bad_args),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_no_version_1),
		cmocka_unit_test(test_features_ok_rejected),
		cmocka_unit_test(test_reset_timeout),
		cmocka_unit_test(test_queue_sizes),
		cmocka_unit_test(test_queues_added_by_feature),
		cmocka_unit_test(test_packed_any_size),
		cmocka_unit_test(test_msix_vectors),
		cmocka_unit_test(test_cap_outside_bar),
		cmocka_unit_test(test_cap_wraparound),
		cmocka_unit_test(test_cap_bad_bar_and_missing_bar),
		cmocka_unit_test(test_cap_overlap),
		cmocka_unit_test(test_cap_misaligned_and_short),
		cmocka_unit_test(test_cap_len_short_and_id_range),
		cmocka_unit_test(test_cap_loop),
		cmocka_unit_test(test_cap_duplicate_first_valid_wins),
		cmocka_unit_test(test_notify_off_outside),
		cmocka_unit_test(test_config_access),
		cmocka_unit_test(test_config_generation),
		cmocka_unit_test(test_isr),
		cmocka_unit_test(test_legacy_device),
		cmocka_unit_test(test_legacy_msix_layout),
		cmocka_unit_test(test_transitional_choice),
		cmocka_unit_test(test_legacy_refused),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
