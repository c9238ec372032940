/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP portable virtio core: public API.
 *
 * Overview
 * --------
 * The core implements the virtio 1.2 PCI transport (modern capabilities and
 * the legacy/transitional I/O layout) and both virtqueue formats (split and
 * packed) without any OS header. Everything the OS provides comes through
 * ONE table, struct virtio_os_ops, given to virtio_init() together with an
 * opaque context pointer. The core never allocates memory and takes no
 * locks.
 *
 * Typical driver flow (spec 3.1.1):
 *
 *   virtio_init(&dev, &my_ops, my_ctx, 0);       // find caps or legacy BAR0
 *   virtio_begin(&dev);                          // reset, ACKNOWLEDGE, DRIVER
 *   virtio_negotiate(&dev, wanted, &got);        // FEATURES_OK, verified
 *   virtio_config_read32(&dev, off, &v);         // device config (validated offsets)
 *   for each queue:
 *       virtio_queue_max_size(&dev, i, &max);    // validated device size
 *       ring  = DMA alloc virtio_queue_ring_size(&dev, n, ind), VIRTIO_RING_ALIGN aligned
 *       state = nonpaged alloc virtio_queue_state_size(n)
 *       virtio_queue_setup(&dev, &params, &vq);
 *   virtio_driver_ok(&dev);
 *
 * I/O path, per queue, under the caller's own lock (the core is lock-free
 * only in the sense that it has no locks: the caller MUST serialise all
 * vq_* calls on one queue; vq_notify() may run outside that lock only while
 * the queue cannot be set up again or torn down, so drivers whose recovery
 * rebuilds queues notify before unlocking):
 *
 *   vq_add(vq, sg, n_out, n_in, cookie);         // out segments first, then in
 *     or vq_chain_begin/add/commit straight from an OS scatter/gather list
 *   if (vq_kick_prepare(vq)) vq_notify(vq);  unlock;
 *   interrupt/DPC: while (vq_get_used(vq, &cookie, &len) == VIRTIO_OK) complete(cookie, len);
 *                  if (vq_enable_cb(vq)) poll again;   // race-free re-enable
 *
 * Interrupts: MSI-X vectors per queue (virtio_queue_params.msix_vector) and
 * virtio_set_config_vector(); with INTx, virtio_isr_read() tells queue work
 * (VIRTIO_PCI_ISR_QUEUE) from a config change (VIRTIO_PCI_ISR_CONFIG).
 *
 * Teardown: virtio_reset(); then vq_detach_unused() until NULL.
 *
 * Memory: ring memory must be device-visible (common buffer / DMA), zeroed
 * by virtio_queue_setup(); state memory is plain non-paged memory. Legacy
 * devices need the ring below 16 TiB (32-bit PFN of 4 KiB pages). With
 * indirect_max > 0 the ring memory also holds one indirect table of
 * indirect_max entries per ring slot.
 *
 * Everything read from the device is validated. A virtqueue that sees an
 * impossible value (bad id, duplicate completion, oversized length, index
 * jump, wrong packed wrap flags) becomes BROKEN: every later vq_* call fails
 * with VIRTIO_EBROKEN and the log says why. Transport-level violations
 * (bad capabilities, bad queue sizes, missing acknowledgements) make the
 * corresponding call fail with a negative VIRTIO_E* code.
 *
 * Integer rules: fixed-width types only (LLP64-safe); all wire values are
 * little-endian and converted with le*_to_cpu()/cpu_to_le*().
 */
#ifndef OPENVDP_VIRTIO_H
#define OPENVDP_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"
#include "virtio_spec.h"

/* Result codes: 0 success, negative failure. */
#define VIRTIO_OK          0
#define VIRTIO_EINVAL    (-1)   /* bad argument from the caller */
#define VIRTIO_ENODEV    (-2)   /* no usable virtio transport / queue absent */
#define VIRTIO_EIO       (-3)   /* device returned an invalid value */
#define VIRTIO_ETIMEDOUT (-4)   /* device did not acknowledge in time */
#define VIRTIO_ENOTSUP   (-5)   /* device refused features / required feature missing */
#define VIRTIO_ENOSPC    (-6)   /* virtqueue full, retry after completions */
#define VIRTIO_ENOENT    (-7)   /* no used buffer pending */
#define VIRTIO_EBROKEN   (-8)   /* virtqueue or device broken, reset needed */
#define VIRTIO_ERANGE    (-9)   /* offset/length outside a device region */

const char *virtio_strerror(int err);

/* Log levels for virtio_os_ops.log. */
#define VIRTIO_LOG_ERROR 0
#define VIRTIO_LOG_WARN  1
#define VIRTIO_LOG_INFO  2
#define VIRTIO_LOG_DEBUG 3

/*
 * OS services. Addresses are uintptr_t: for MMIO the mapped virtual address,
 * for port I/O the port (or whatever the OS port API takes). All callbacks
 * except those marked optional are mandatory; virtio_init() checks.
 */
struct virtio_os_ops {
	uint8_t  (*mmio_read8)(void *ctx, uintptr_t addr);
	uint16_t (*mmio_read16)(void *ctx, uintptr_t addr);
	uint32_t (*mmio_read32)(void *ctx, uintptr_t addr);
	void     (*mmio_write8)(void *ctx, uintptr_t addr, uint8_t val);
	void     (*mmio_write16)(void *ctx, uintptr_t addr, uint16_t val);
	void     (*mmio_write32)(void *ctx, uintptr_t addr, uint32_t val);
	uint8_t  (*io_read8)(void *ctx, uintptr_t port);
	uint16_t (*io_read16)(void *ctx, uintptr_t port);
	uint32_t (*io_read32)(void *ctx, uintptr_t port);
	void     (*io_write8)(void *ctx, uintptr_t port, uint8_t val);
	void     (*io_write16)(void *ctx, uintptr_t port, uint16_t val);
	void     (*io_write32)(void *ctx, uintptr_t port, uint32_t val);
	/* Read len bytes of PCI config space at offset; returns bytes read. */
	uint32_t (*pci_cfg_read)(void *ctx, uint32_t offset, void *buf, uint32_t len);
	/*
	 * Describe BAR bar (0..5): mapped base (VA or port), length in bytes
	 * and whether it is I/O space. Return false if the BAR is absent or
	 * not mapped (also for the upper half of a 64-bit BAR).
	 */
	bool     (*bar_info)(void *ctx, uint8_t bar, uintptr_t *base, uint64_t *len, bool *is_io);
	/* Optional: busy-wait; used for the bounded reset wait. */
	void     (*stall_us)(void *ctx, uint32_t usec);
	/* Optional barriers; NULL selects a full compiler+CPU fence. */
	void     (*mb)(void);
	void     (*rmb)(void);
	void     (*wmb)(void);
	/* Optional log. The core only uses %s %u %d %x (no 64-bit, no long). */
	void     (*log)(void *ctx, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
};

/* A window into a BAR (private to the core, but embedded in virtio_dev). */
struct virtio_region {
	uintptr_t base;              /* BAR base + cap offset */
	uint32_t len;
	uint8_t bar;
	bool io;
	bool present;
};

struct virtio_transport;

/*
 * Device handle. Embed it in the driver's device extension; all fields are
 * private to the core (read them only through the functions below).
 */
struct virtio_dev {
	const struct virtio_os_ops *ops;
	void *ctx;
	const struct virtio_transport *tr;
	struct virtio_region common;     /* modern common cfg, or legacy BAR0 */
	struct virtio_region notify;
	struct virtio_region isr;
	struct virtio_region device;     /* device-specific configuration */
	uint32_t notify_mult;
	uint64_t device_features;
	uint64_t features;               /* negotiated */
	uint16_t pci_device_id;
	uint16_t num_queues;             /* modern: from common cfg; legacy: 0 (unknown) */
	uint8_t msix_cap;                /* config-space offset of MSI-X cap, 0 if none */
	uint8_t generation;              /* last config generation seen */
	bool legacy;
	bool msix_enabled;
	bool features_ok;
};

/* virtio_init() flags */
#define VIRTIO_INIT_NO_LEGACY    0x1u   /* refuse legacy-only devices */
#define VIRTIO_INIT_FORCE_LEGACY 0x2u   /* use BAR0 legacy layout even if modern caps exist */

/* Locate the transport; no device register is written. */
int virtio_init(struct virtio_dev *dev, const struct virtio_os_ops *ops, void *ctx, uint32_t flags);
bool virtio_is_legacy(const struct virtio_dev *dev);
/* Virtio device type (VIRTIO_ID_*) from the PCI device id, 0 if unknown. */
uint16_t virtio_device_type(const struct virtio_dev *dev);

/* Reset and wait (bounded, about 1 s) until the device reports status 0. */
int virtio_reset(struct virtio_dev *dev);
/* Reset, then ACKNOWLEDGE | DRIVER, then read the device feature bits. */
int virtio_begin(struct virtio_dev *dev);
uint64_t virtio_device_features(const struct virtio_dev *dev);
/*
 * Accept driver_features & device features (plus ACCESS_PLATFORM whenever
 * offered). Transport bits the core does not implement (IN_ORDER,
 * NOTIFICATION_DATA, ...) are dropped. Modern devices must offer
 * VERSION_1. Sets FEATURES_OK and verifies the device kept it.
 */
int virtio_negotiate(struct virtio_dev *dev, uint64_t driver_features, uint64_t *negotiated);
bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit);
/* Negotiated feature bits (0 before virtio_negotiate()). */
uint64_t virtio_features(const struct virtio_dev *dev);
/* Modern: queue count from the common config. Legacy: 0 (unknown; probe sizes). */
uint16_t virtio_num_queues(const struct virtio_dev *dev);
int virtio_driver_ok(struct virtio_dev *dev);
/* Set FAILED (the driver gave up); safe at any point. */
void virtio_fail(struct virtio_dev *dev);
uint8_t virtio_get_status(struct virtio_dev *dev);
/* DEVICE_NEEDS_RESET reported by the device. */
bool virtio_needs_reset(struct virtio_dev *dev);

/*
 * Device-specific configuration. Offsets are checked against the region
 * the device exposes. Each access uses the field's natural width as the
 * spec requires; 64-bit values and byte arrays are read under the config
 * generation loop (modern) or read twice until stable (legacy).
 */
uint32_t virtio_config_len(const struct virtio_dev *dev);
int virtio_config_read8(struct virtio_dev *dev, uint32_t off, uint8_t *val);
int virtio_config_read16(struct virtio_dev *dev, uint32_t off, uint16_t *val);
int virtio_config_read32(struct virtio_dev *dev, uint32_t off, uint32_t *val);
int virtio_config_read64(struct virtio_dev *dev, uint32_t off, uint64_t *val);
int virtio_config_read_bytes(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len);
int virtio_config_write8(struct virtio_dev *dev, uint32_t off, uint8_t val);
int virtio_config_write16(struct virtio_dev *dev, uint32_t off, uint16_t val);
int virtio_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val);
/* True once when the config generation moved since the previous call/read. */
bool virtio_config_changed(struct virtio_dev *dev);

/* Interrupts. */
/* Read-to-clear ISR (INTx); VIRTIO_PCI_ISR_QUEUE / _CONFIG bits, 0: not ours. */
uint8_t virtio_isr_read(struct virtio_dev *dev);
/*
 * Tell the core whether MSI-X is enabled. virtio_init() reads the MSI-X
 * capability's enable bit; call this if the OS enables MSI-X later. Legacy
 * devices move their config window (0x14 / 0x18) accordingly.
 */
int virtio_set_msix_enabled(struct virtio_dev *dev, bool enabled);
/* Assign the config-change vector; VIRTIO_EIO if the device refused it. */
int virtio_set_config_vector(struct virtio_dev *dev, uint16_t vector);

/* ------------------------------------------------------------------ */
/* Virtqueues                                                         */

#define VIRTIO_RING_ALIGN 4096u      /* ring_pa and ring_va alignment */

struct virtq;

/* One buffer segment: bus address as the device sees it, and length. */
struct vq_sg {
	uint64_t addr;
	uint32_t len;
};

struct virtio_queue_params {
	uint16_t index;              /* queue number */
	uint16_t size;               /* ring size to use, 0 = device maximum */
	uint16_t msix_vector;        /* VIRTIO_MSI_NO_VECTOR when not using MSI-X */
	uint16_t indirect_max;       /* max segments per indirect table, 0 = none */
	void *ring_va;               /* DMA memory, VIRTIO_RING_ALIGN aligned */
	uint64_t ring_pa;            /* its bus address */
	size_t ring_len;             /* >= virtio_queue_ring_size() */
	void *state;                 /* private bookkeeping memory, pointer aligned */
	size_t state_len;            /* >= virtio_queue_state_size() */
};

/* Device maximum queue size for index, validated; VIRTIO_ENODEV if absent. */
int virtio_queue_max_size(struct virtio_dev *dev, uint16_t index, uint16_t *size);
/* DMA bytes for a ring of size entries with the negotiated layout (0: invalid). */
size_t virtio_queue_ring_size(const struct virtio_dev *dev, uint16_t size, uint16_t indirect_max);
size_t virtio_queue_state_size(uint16_t size);
/*
 * Program and enable the queue (after virtio_negotiate(), before
 * virtio_driver_ok(); VIRTIO_EINVAL otherwise). Zeroes the ring memory. Legacy devices dictate the size: size must be 0 or the maximum.
 * A refused MSI-X vector gives VIRTIO_EIO.
 */
int virtio_queue_setup(struct virtio_dev *dev, const struct virtio_queue_params *p, struct virtq **vq);

/*
 * Post a chain: sg[0..out_num) device-readable, then sg[out_num..+in_num)
 * device-writable. cookie must be non-NULL; it comes back from
 * vq_get_used(). VIRTIO_ENOSPC when the ring is full.
 */
int vq_add(struct virtq *vq, const struct vq_sg *sg, uint16_t out_num, uint16_t in_num, void *cookie);
/*
 * Chain builder, for scatter/gather lists in an OS format (StorPort, NDIS):
 * no temporary vq_sg array. begin() reserves the slots for nsegs segments,
 * add() appends one segment (all device-readable ones first), commit()
 * publishes the chain; abort() drops it. vq_add() is built on these.
 * While a chain is open no other vq_* call on that queue is allowed
 * (they fail with VIRTIO_EINVAL).
 */
struct vq_chain {                    /* caller-provided, contents private */
	void *cookie;
	uint32_t in_len;
	uint16_t total, added, needed, slot, cur, last, head_flags;
	bool indirect, cur_wrap, writable, active;
};
int vq_chain_begin(struct virtq *vq, struct vq_chain *ch, uint16_t nsegs, void *cookie);
int vq_chain_add(struct virtq *vq, struct vq_chain *ch, uint64_t addr, uint32_t len, bool device_writes);
int vq_chain_commit(struct virtq *vq, struct vq_chain *ch);
void vq_chain_abort(struct virtq *vq, struct vq_chain *ch);
/* After adds: true if the device wants a notification (event suppression honoured). */
bool vq_kick_prepare(struct virtq *vq);
/*
 * Write the notify register. It reads only fields fixed at setup, so it
 * needs no lock as long as virtio_queue_setup() cannot run concurrently
 * (setup rewrites the same state memory).
 */
void vq_notify(struct virtq *vq);
static inline void vq_kick(struct virtq *vq)
{
	if (vq_kick_prepare(vq))
		vq_notify(vq);
}
/* VIRTIO_OK with cookie/len, VIRTIO_ENOENT if none, VIRTIO_EBROKEN. */
int vq_get_used(struct virtq *vq, void **cookie, uint32_t *len);
/* Ask the device not to interrupt (best effort). */
void vq_disable_cb(struct virtq *vq);
/* Re-enable interrupts; true if used buffers arrived meanwhile (poll again). */
bool vq_enable_cb(struct virtq *vq);
/* True if vq_get_used() would return a buffer (or report breakage). */
bool vq_has_used(struct virtq *vq);
/* After reset: return one still-posted cookie, NULL when none remain.
 * Retires the queue (later calls fail); set it up again after the reset. */
void *vq_detach_unused(struct virtq *vq);
/* Free descriptor slots. A chain needs 1 slot if it fits indirect_max, else one per segment. */
uint16_t vq_free_slots(const struct virtq *vq);
uint16_t vq_size(const struct virtq *vq);
uint16_t vq_index(const struct virtq *vq);
bool vq_is_packed(const struct virtq *vq);
bool vq_is_broken(const struct virtq *vq);

#endif /* OPENVDP_VIRTIO_H */
