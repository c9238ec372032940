/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Real-device check of the virtio core. Runs as a static Linux program in a
 * QEMU guest (no Linux virtio driver bound) and drives a virtio-blk device
 * through the very same core sources the Windows drivers link:
 *   - config space and BARs through sysfs (MMIO mapped, port I/O by pread),
 *   - DMA memory from one 2 MiB huge page (bus address = physical address,
 *     no IOMMU in the guest),
 *   - polling, no interrupts.
 * Usage: virtio_realdev MODE, MODE containing "legacy" (force the legacy
 * interface), "packed" (negotiate RING_PACKED), "noind" (no indirect
 * tables), "msix" (enable MSI-X, all vectors masked, and assign vectors).
 * Prints "VDPTAP: ok - ..." lines for the host to collect.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <virtio/virtio.h>
#include <virtio/virtio_blk.h>

#define IO_COOKIE_BASE 0x1000u       /* port "addresses" handed to the core */
#define DMA_LEN        (2u << 20)
#define DISK_SECTORS   2048u         /* the host creates a 1 MiB image */
#define BATCH          6u
#define ROUNDS         200u

static int cfg_fd = -1, bar_fd[6] = { -1, -1, -1, -1, -1, -1 };
static uint8_t *bar_map[6];
static uint64_t bar_len[6];
static bool bar_io[6];
static const char *mode = "split";
static int failures;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("VDPTAP: %s - %s: ", ok ? "ok" : "not ok", mode);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* ---- virtio_os_ops over sysfs ---- */

static uint8_t mr8(void *c, uintptr_t a) { (void)c; return *(volatile uint8_t *)a; }
static uint16_t mr16(void *c, uintptr_t a) { (void)c; return *(volatile uint16_t *)a; }
static uint32_t mr32(void *c, uintptr_t a) { (void)c; return *(volatile uint32_t *)a; }
static void mw8(void *c, uintptr_t a, uint8_t v) { (void)c; *(volatile uint8_t *)a = v; }
static void mw16(void *c, uintptr_t a, uint16_t v) { (void)c; *(volatile uint16_t *)a = v; }
static void mw32(void *c, uintptr_t a, uint32_t v) { (void)c; *(volatile uint32_t *)a = v; }

/* sysfs resourceN of an I/O BAR turns 1/2/4-byte pread/pwrite into in/out. */
static uint32_t io_rd(uintptr_t port, size_t n)
{
	uint32_t v = 0;

	if (pread(bar_fd[0], &v, n, (off_t)(port - IO_COOKIE_BASE)) != (ssize_t)n)
		return 0xffffffffu;
	return v;
}

static void io_wr(uintptr_t port, size_t n, uint32_t v)
{
	if (pwrite(bar_fd[0], &v, n, (off_t)(port - IO_COOKIE_BASE)) != (ssize_t)n)
		printf("# port write 0x%lx failed\n", (unsigned long)port);
}

static uint8_t ir8(void *c, uintptr_t a) { (void)c; return (uint8_t)io_rd(a, 1); }
static uint16_t ir16(void *c, uintptr_t a) { (void)c; return (uint16_t)io_rd(a, 2); }
static uint32_t ir32(void *c, uintptr_t a) { (void)c; return io_rd(a, 4); }
static void iw8(void *c, uintptr_t a, uint8_t v) { (void)c; io_wr(a, 1, v); }
static void iw16(void *c, uintptr_t a, uint16_t v) { (void)c; io_wr(a, 2, v); }
static void iw32(void *c, uintptr_t a, uint32_t v) { (void)c; io_wr(a, 4, v); }

static uint32_t cfg_read(void *c, uint32_t off, void *buf, uint32_t len)
{
	ssize_t r = pread(cfg_fd, buf, len, off);

	(void)c;
	return r < 0 ? 0 : (uint32_t)r;
}

static bool bar_info(void *c, uint8_t bar, uintptr_t *base, uint64_t *len, bool *io)
{
	(void)c;
	/* Port I/O goes through resource0 only, which is all legacy needs. */
	if (bar >= 6 || bar_len[bar] == 0 || (bar_io[bar] ? bar != 0 || bar_fd[0] < 0 : !bar_map[bar]))
		return false;
	*base = bar_io[bar] ? IO_COOKIE_BASE : (uintptr_t)bar_map[bar];
	*len = bar_len[bar];
	*io = bar_io[bar];
	return true;
}

static void stall(void *c, uint32_t us)
{
	(void)c;
	usleep(us);
}

static void core_log(void *c, int level, const char *fmt, ...)
{
	va_list ap;

	(void)c;
	printf("# core[%d]: ", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static const struct virtio_os_ops os_ops = {
	.mmio_read8 = mr8, .mmio_read16 = mr16, .mmio_read32 = mr32,
	.mmio_write8 = mw8, .mmio_write16 = mw16, .mmio_write32 = mw32,
	.io_read8 = ir8, .io_read16 = ir16, .io_read32 = ir32,
	.io_write8 = iw8, .io_write16 = iw16, .io_write32 = iw32,
	.pci_cfg_read = cfg_read, .bar_info = bar_info, .stall_us = stall, .log = core_log,
};

/* ---- DMA memory ---- */

static uint8_t *dma;
static uint64_t dma_pa;
static size_t dma_used;

static int dma_init(void)
{
	uint64_t ent = 0;
	int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		return -1;
	close(fd);
	dma = mmap(NULL, DMA_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		   -1, 0);
	if (dma == MAP_FAILED)
		return -1;
	memset(dma, 0, DMA_LEN);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &ent, 8, (off_t)((uintptr_t)dma / 4096 * 8)) != 8 || !(ent >> 63))
		return -1;
	close(fd);
	dma_pa = (ent & ((1ull << 55) - 1)) * 4096;
	return dma_pa ? 0 : -1;
}

static void *dma_alloc(size_t n, size_t align, uint64_t *pa)
{
	size_t at = (dma_used + align - 1) & ~(align - 1);

	if (at + n > DMA_LEN)
		return NULL;
	dma_used = at + n;
	*pa = dma_pa + at;
	return dma + at;
}

/* ---- PCI device ---- */

static unsigned int sysfs_hex(const char *dir, const char *file)
{
	char p[512], buf[32] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return (unsigned int)strtoul(buf, NULL, 16);
}

static int find_blk(char *out, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int rc = -1;

	while (d && rc && (e = readdir(d))) {
		unsigned int id;

		if (e->d_name[0] == '.')
			continue;
		snprintf(out, len, "/sys/bus/pci/devices/%s", e->d_name);
		id = sysfs_hex(out, "device");
		if (sysfs_hex(out, "vendor") == VIRTIO_PCI_VENDOR_ID &&
		    (id == VIRTIO_PCI_DEVICE_ID_TRANS_BLOCK || id == VIRTIO_PCI_DEVICE_ID_MODERN_BASE + VIRTIO_ID_BLOCK))
			rc = 0;
	}
	if (d)
		closedir(d);
	return rc;
}

static int open_bars(const char *dev)
{
	char p[512], line[256];
	uint16_t cmd;
	FILE *f;

	snprintf(p, sizeof(p), "%s/config", dev);
	cfg_fd = open(p, O_RDWR);
	snprintf(p, sizeof(p), "%s/resource", dev);
	f = fopen(p, "r");
	if (cfg_fd < 0 || !f)
		return -1;
	for (int i = 0; i < 6 && fgets(line, sizeof(line), f); i++) {
		unsigned long long s, e, fl;

		if (sscanf(line, "%llx %llx %llx", &s, &e, &fl) != 3 || e <= s)
			continue;
		bar_len[i] = e - s + 1;
		bar_io[i] = (fl & 0x100) != 0;      /* IORESOURCE_IO */
		snprintf(p, sizeof(p), "%s/resource%d", dev, i);
		bar_fd[i] = open(p, O_RDWR | O_SYNC);
		if (!bar_io[i] && bar_fd[i] >= 0) {
			bar_map[i] = mmap(NULL, bar_len[i], PROT_READ | PROT_WRITE, MAP_SHARED, bar_fd[i], 0);
			if (bar_map[i] == MAP_FAILED)
				bar_map[i] = NULL;
		}
	}
	fclose(f);
	/* No driver is bound: enable I/O and memory decode and bus mastering ourselves. */
	if (pread(cfg_fd, &cmd, 2, 4) != 2)
		return -1;
	cmd |= 0x7;
	return pwrite(cfg_fd, &cmd, 2, 4) == 2 ? 0 : -1;
}

/*
 * Turn MSI-X on with the function mask set: the device then uses its MSI-X
 * register layout (legacy: config moves to 0x18) and vectors can be
 * assigned, while every message stays pending instead of being sent.
 */
static int msix_enable_masked(void)
{
	uint8_t ptr = 0, id = 0;
	uint16_t ctl;

	if (pread(cfg_fd, &ptr, 1, PCI_CFG_CAP_PTR) != 1)
		return -1;
	for (int guard = 0; ptr >= 0x40 && guard < 48; guard++) {
		if (pread(cfg_fd, &id, 1, ptr) != 1)
			return -1;
		if (id == PCI_CAP_ID_MSIX) {
			if (pread(cfg_fd, &ctl, 2, ptr + 2) != 2)
				return -1;
			ctl |= PCI_MSIX_FLAGS_ENABLE | 0x4000;   /* enable + function mask */
			return pwrite(cfg_fd, &ctl, 2, ptr + 2) == 2 ? 0 : -1;
		}
		if (pread(cfg_fd, &ptr, 1, ptr + 1) != 1)
			return -1;
	}
	return -1;
}

/* ---- the test ---- */

struct blk_req {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
};

static int wait_used(struct virtq *vq, void **cookie, uint32_t *len)
{
	/* TCG is slow: allow a few seconds before calling it a hang. */
	for (unsigned int i = 0; i < 500000; i++) {
		int rc = vq_get_used(vq, cookie, len);

		if (rc != VIRTIO_ENOENT)
			return rc;
		if (i > 1000)
			usleep(10);
	}
	return VIRTIO_ETIMEDOUT;
}

static uint8_t pattern(unsigned int sector, unsigned int byte)
{
	return (uint8_t)(sector * 13u + byte * 7u);
}

/* ROUNDS batches alternating write/read of BATCH sectors, each request a
 * 5-segment chain (header, data in three pieces, status). */
static void run_io(struct virtq *vq)
{
	struct blk_req *rq;
	uint64_t rq_pa, data_pa;
	uint8_t *data;
	unsigned int done = 0, notifies = 0;
	int rc = VIRTIO_OK;

	rq = dma_alloc(sizeof(*rq) * BATCH, 64, &rq_pa);
	data = dma_alloc(512 * BATCH, 4096, &data_pa);
	if (!rq || !data) {
		tap(false, "DMA memory exhausted");
		return;
	}
	for (unsigned int round = 0; round < ROUNDS && rc == VIRTIO_OK; round++) {
		bool wr = (round % 2) == 0;
		unsigned int base = (round / 2) * BATCH % (DISK_SECTORS - BATCH);

		for (unsigned int k = 0; k < BATCH && rc == VIRTIO_OK; k++) {
			uint64_t hp = rq_pa + k * sizeof(*rq), dp = data_pa + 512u * k;
			struct vq_chain ch;

			rq[k].hdr.type = cpu_to_le32(wr ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
			rq[k].hdr.reserved = 0;
			rq[k].hdr.sector = cpu_to_le64(base + k);
			rq[k].status = 0xee;
			for (unsigned int b = 0; b < 512; b++)
				data[512 * k + b] = wr ? pattern(base + k, b) : 0;
			rc = vq_chain_begin(vq, &ch, 5, &rq[k]);
			if (rc == VIRTIO_OK)
				rc = vq_chain_add(vq, &ch, hp, sizeof(rq[k].hdr), false);
			if (rc == VIRTIO_OK)
				rc = vq_chain_add(vq, &ch, dp, 100, !wr);
			if (rc == VIRTIO_OK)
				rc = vq_chain_add(vq, &ch, dp + 100, 312, !wr);
			if (rc == VIRTIO_OK)
				rc = vq_chain_add(vq, &ch, dp + 412, 100, !wr);
			if (rc == VIRTIO_OK)
				rc = vq_chain_add(vq, &ch, hp + offsetof(struct blk_req, status), 1, true);
			if (rc == VIRTIO_OK)
				rc = vq_chain_commit(vq, &ch);
			else
				vq_chain_abort(vq, &ch);
		}
		if (rc != VIRTIO_OK) {
			tap(false, "posting round %u: %s", round, virtio_strerror(rc));
			break;
		}
		if (vq_kick_prepare(vq)) {
			vq_notify(vq);
			notifies++;
		}
		for (unsigned int k = 0; k < BATCH && rc == VIRTIO_OK; k++) {
			struct blk_req *r;
			void *cookie;
			uint32_t len;

			rc = wait_used(vq, &cookie, &len);
			if (rc != VIRTIO_OK) {
				tap(false, "completion in round %u: %s", round, virtio_strerror(rc));
				break;
			}
			r = cookie;
			if (r->status != VIRTIO_BLK_S_OK || len != (wr ? 1u : 513u)) {
				tap(false, "request status %u, used length %u", r->status, len);
				rc = VIRTIO_EIO;
				break;
			}
			for (unsigned int b = 0; !wr && b < 512; b++)
				if (data[512 * (r - rq) + b] != pattern(base + (unsigned int)(r - rq), b)) {
					tap(false, "data mismatch in sector %u", base + (unsigned int)(r - rq));
					rc = VIRTIO_EIO;
					break;
				}
			done++;
		}
		(void)vq_enable_cb(vq);
	}
	tap(rc == VIRTIO_OK && done == ROUNDS * BATCH, "%u requests (half reads, verified), %u notifications",
	    done, notifies);
	tap(vq_free_slots(vq) == vq_size(vq) && !vq_is_broken(vq), "ring idle and healthy (%u/%u free)",
	    vq_free_slots(vq), vq_size(vq));
}

int main(int argc, char **argv)
{
	bool legacy, packed, msix;
	uint16_t indirect, qmax = 0;
	struct virtio_queue_params qp;
	struct virtio_dev vd;
	struct virtq *vq = NULL;
	uint64_t want, got = 0, cap = 0;
	char dev[300];
	int rc;

	if (argc > 1)
		mode = argv[1];
	legacy = strstr(mode, "legacy") != NULL;
	msix = strstr(mode, "msix") != NULL;
	packed = strstr(mode, "packed") != NULL;
	indirect = strstr(mode, "noind") ? 0 : 8;
	if (find_blk(dev, sizeof(dev)) || open_bars(dev) || dma_init() || (msix && msix_enable_masked())) {
		tap(false, "guest setup (virtio-blk PCI device, BARs, huge page, MSI-X): %s", strerror(errno));
		return 1;
	}
	rc = virtio_init(&vd, &os_ops, NULL, legacy ? VIRTIO_INIT_FORCE_LEGACY : VIRTIO_INIT_NO_LEGACY);
	tap(rc == VIRTIO_OK && virtio_is_legacy(&vd) == legacy && virtio_device_type(&vd) == VIRTIO_ID_BLOCK,
	    "init: %s", virtio_strerror(rc));
	if (rc != VIRTIO_OK)
		return 1;
	want = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
	       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
	       (packed ? VIRTIO_BIT(VIRTIO_F_RING_PACKED) : 0);
	rc = virtio_begin(&vd);
	if (rc == VIRTIO_OK)
		rc = virtio_negotiate(&vd, want, &got);
	tap(rc == VIRTIO_OK && packed == virtio_has_feature(&vd, VIRTIO_F_RING_PACKED),
	    "negotiate: %s, features 0x%08x:%08x", virtio_strerror(rc), (unsigned int)(got >> 32), (unsigned int)got);
	if (rc != VIRTIO_OK)
		return 1;
	rc = virtio_config_read64(&vd, offsetof(struct virtio_blk_config, capacity), &cap);
	tap(rc == VIRTIO_OK && cap == DISK_SECTORS, "capacity %llu sectors", (unsigned long long)cap);
	if (msix) {
		rc = virtio_set_config_vector(&vd, 0);
		tap(rc == VIRTIO_OK, "config MSI-X vector 0: %s", virtio_strerror(rc));
		/* QEMU's virtio-blk has few vectors: one far out of range must be refused. */
		rc = virtio_set_config_vector(&vd, 0x7ff);
		tap(rc == VIRTIO_EIO, "config MSI-X vector 0x7ff refused: %s", virtio_strerror(rc));
	}
	rc = virtio_queue_max_size(&vd, 0, &qmax);
	memset(&qp, 0, sizeof(qp));
	qp.msix_vector = msix ? 1 : VIRTIO_MSI_NO_VECTOR;
	qp.indirect_max = indirect;
	qp.ring_len = virtio_queue_ring_size(&vd, qmax, indirect);
	qp.ring_va = dma_alloc(qp.ring_len, VIRTIO_RING_ALIGN, &qp.ring_pa);
	qp.state_len = virtio_queue_state_size(qmax);
	qp.state = calloc(1, qp.state_len);
	if (rc == VIRTIO_OK)
		rc = qp.ring_va && qp.state ? virtio_queue_setup(&vd, &qp, &vq) : VIRTIO_EINVAL;
	tap(rc == VIRTIO_OK, "queue 0: %s, size %u, %s ring", virtio_strerror(rc), qmax,
	    vq && vq_is_packed(vq) ? "packed" : "split");
	if (rc != VIRTIO_OK)
		return 1;
	rc = virtio_driver_ok(&vd);
	tap(rc == VIRTIO_OK, "DRIVER_OK: %s", virtio_strerror(rc));
	run_io(vq);
	rc = virtio_reset(&vd);
	tap(rc == VIRTIO_OK && vq_detach_unused(vq) == NULL, "reset: %s, nothing left posted", virtio_strerror(rc));
	return failures ? 1 : 0;
}
