/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: the virtio core's OS services over StorPort, and device bring-up
 * (HwFindAdapter work, (re)start of the queues, GET_ID, config changes).
 */
#include "blk_drv.h"

#ifndef ALL_PROCESSOR_GROUPS
#define ALL_PROCESSOR_GROUPS 0xffff
#endif

#define VBLK_PCI_CFG_LEN     256u
#define VBLK_POLL_STEP_US    20u
#define VBLK_GET_ID_POLLS    100000u     /* about 2 s of polling, at PASSIVE_LEVEL */
#define VBLK_CONFIG_TRIES    16u

/* All rings of all queues: beyond this, fewer queues rather than more memory. */
#define VBLK_UNCACHED_BUDGET (4u * 1024u * 1024u)

_Static_assert(sizeof(((struct vblk_adapter *)0)->pci_cfg) == VBLK_PCI_CFG_LEN, "pci_cfg");

/* ------------------------------------------------------------ logging */
/*
 * StorPortDebugPrint cannot take a va_list, so messages are formatted here
 * with the subset the virtio core promises to use (%s %u %d %x).
 */
static void fmt_num(char *buf, size_t size, size_t *pos, uint32_t v, unsigned base, bool neg)
{
	char tmp[12];
	int n = 0;

	if (neg && *pos + 1 < size)
		buf[(*pos)++] = '-';
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	while (n && *pos + 1 < size)
		buf[(*pos)++] = tmp[--n];
}

static void vblk_vlog(const char *fmt, va_list ap)
{
	char buf[160];
	size_t pos = 0;

	for (; *fmt && pos + 1 < sizeof(buf); fmt++) {
		if (*fmt != '%') {
			buf[pos++] = *fmt;
			continue;
		}
		switch (*++fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s && pos + 1 < sizeof(buf); s++)
				buf[pos++] = *s;
			break;
		}
		case 'u':
			fmt_num(buf, sizeof(buf), &pos, va_arg(ap, unsigned int), 10, false);
			break;
		case 'd': {
			int v = va_arg(ap, int);

			fmt_num(buf, sizeof(buf), &pos, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10,
				v < 0);
			break;
		}
		case 'x':
			fmt_num(buf, sizeof(buf), &pos, va_arg(ap, unsigned int), 16, false);
			break;
		case '%':
			buf[pos++] = '%';
			break;
		case '\0':
			fmt--;
			break;
		default:
			buf[pos++] = '?';
			break;
		}
	}
	buf[pos] = '\0';
	StorPortDebugPrint(0, (PCCHAR)VDP_BRAND_VDPBLK_SERVICE ": %s", buf);
}

void vblk_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vblk_vlog(fmt, ap);
	va_end(ap);
}

static void os_log(void *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	if (level > VIRTIO_LOG_WARN)
		return;
	va_start(ap, fmt);
	vblk_vlog(fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ virtio_os_ops */
static uint8_t os_mmio_read8(void *ctx, uintptr_t addr)
{
	return StorPortReadRegisterUchar(ctx, (PUCHAR)addr);
}

static uint16_t os_mmio_read16(void *ctx, uintptr_t addr)
{
	return StorPortReadRegisterUshort(ctx, (PUSHORT)addr);
}

static uint32_t os_mmio_read32(void *ctx, uintptr_t addr)
{
	return StorPortReadRegisterUlong(ctx, (PULONG)addr);
}

static void os_mmio_write8(void *ctx, uintptr_t addr, uint8_t val)
{
	StorPortWriteRegisterUchar(ctx, (PUCHAR)addr, val);
}

static void os_mmio_write16(void *ctx, uintptr_t addr, uint16_t val)
{
	StorPortWriteRegisterUshort(ctx, (PUSHORT)addr, val);
}

static void os_mmio_write32(void *ctx, uintptr_t addr, uint32_t val)
{
	StorPortWriteRegisterUlong(ctx, (PULONG)addr, val);
}

static uint8_t os_io_read8(void *ctx, uintptr_t port)
{
	return StorPortReadPortUchar(ctx, (PUCHAR)port);
}

static uint16_t os_io_read16(void *ctx, uintptr_t port)
{
	return StorPortReadPortUshort(ctx, (PUSHORT)port);
}

static uint32_t os_io_read32(void *ctx, uintptr_t port)
{
	return StorPortReadPortUlong(ctx, (PULONG)port);
}

static void os_io_write8(void *ctx, uintptr_t port, uint8_t val)
{
	StorPortWritePortUchar(ctx, (PUCHAR)port, val);
}

static void os_io_write16(void *ctx, uintptr_t port, uint16_t val)
{
	StorPortWritePortUshort(ctx, (PUSHORT)port, val);
}

static void os_io_write32(void *ctx, uintptr_t port, uint32_t val)
{
	StorPortWritePortUlong(ctx, (PULONG)port, val);
}

static uint32_t os_pci_cfg_read(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vblk_adapter *a = ctx;

	if (offset >= VBLK_PCI_CFG_LEN || len > VBLK_PCI_CFG_LEN - offset)
		return 0;
	__builtin_memcpy(buf, a->pci_cfg + offset, len);
	return len;
}

static bool os_bar_info(void *ctx, uint8_t bar, uintptr_t *base, uint64_t *len, bool *is_io)
{
	struct vblk_adapter *a = ctx;

	if (bar >= 6 || !a->bars[bar].present)
		return false;
	*base = (uintptr_t)a->bars[bar].va;
	*len = a->bars[bar].len;
	*is_io = a->bars[bar].io;
	return true;
}

static void os_stall_us(void *ctx, uint32_t usec)
{
	(void)ctx;
	StorPortStallExecution(usec);
}

static const struct virtio_os_ops vblk_os_ops = {
	.mmio_read8 = os_mmio_read8,
	.mmio_read16 = os_mmio_read16,
	.mmio_read32 = os_mmio_read32,
	.mmio_write8 = os_mmio_write8,
	.mmio_write16 = os_mmio_write16,
	.mmio_write32 = os_mmio_write32,
	.io_read8 = os_io_read8,
	.io_read16 = os_io_read16,
	.io_read32 = os_io_read32,
	.io_write8 = os_io_write8,
	.io_write16 = os_io_write16,
	.io_write32 = os_io_write32,
	.pci_cfg_read = os_pci_cfg_read,
	.bar_info = os_bar_info,
	.stall_us = os_stall_us,
	.log = os_log,
};

/* ------------------------------------------------------------ find adapter */
static uint32_t cfg32(const struct vblk_adapter *a, uint32_t off)
{
	uint32_t v;

	__builtin_memcpy(&v, a->pci_cfg + off, 4);
	return le32_to_cpu(v);
}

static uint16_t cfg16(const struct vblk_adapter *a, uint32_t off)
{
	uint16_t v;

	__builtin_memcpy(&v, a->pci_cfg + off, 2);
	return le16_to_cpu(v);
}

/* Offset of the MSI-X capability, 0 if none (bounded walk). */
static uint8_t find_msix_cap(const struct vblk_adapter *a)
{
	uint8_t ptr;
	int guard;

	if (!(cfg16(a, PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	ptr = a->pci_cfg[PCI_CFG_CAP_PTR] & 0xfc;
	/* A looping list ends after 48 entries (the most 256 bytes can hold). */
	for (guard = 0; ptr >= 0x40 && guard < 48; guard++) {
		if (a->pci_cfg[ptr] == PCI_CAP_ID_MSIX)
			return ptr;
		ptr = a->pci_cfg[ptr + 1] & 0xfc;
	}
	return 0;
}

/*
 * Map every BAR StorPort gave an access range for. Ranges are matched to
 * BARs by address and type; ranges that match nothing are ignored.
 */
static int map_bars(struct vblk_adapter *a, PPORT_CONFIGURATION_INFORMATION config)
{
	ULONG i, nranges = config->NumberOfAccessRanges;
	int bar, mapped = 0;

	if (!config->AccessRanges)
		return 0;
	if (nranges > 6)
		nranges = 6;
	for (bar = 0; bar < 6; bar++) {
		uint32_t raw = cfg32(a, 0x10u + 4u * (uint32_t)bar);
		uint64_t addr;
		bool io = raw & 1;
		bool is64 = !io && (raw & 6) == 4;

		addr = io ? (raw & ~3u) : (raw & ~15u);
		if (is64 && bar < 5)
			addr |= (uint64_t)cfg32(a, 0x10u + 4u * (uint32_t)(bar + 1)) << 32;
		for (i = 0; addr && i < nranges; i++) {
			ACCESS_RANGE *r = &(*config->AccessRanges)[i];
			PVOID va;

			if ((uint64_t)r->RangeStart.QuadPart != addr || !r->RangeLength ||
			    (bool)r->RangeInMemory == io)
				continue;
			va = StorPortGetDeviceBase(a, config->AdapterInterfaceType,
						   config->SystemIoBusNumber, r->RangeStart,
						   r->RangeLength, (BOOLEAN)!r->RangeInMemory);
			if (!va) {
				vblk_log("BAR%d: StorPortGetDeviceBase failed\n", bar);
				break;
			}
			a->bars[bar].va = va;
			a->bars[bar].len = r->RangeLength;
			a->bars[bar].io = io;
			a->bars[bar].present = TRUE;
			mapped++;
			break;
		}
		if (is64)
			bar++;
	}
	return mapped;
}

/* Reads the fields of struct virtio_blk_config that exist, at their natural width. */
static int read_blk_fields(struct vblk_adapter *a, struct virtio_blk_config *cfg)
{
	struct virtio_dev *d = &a->vdev;
	uint32_t len = virtio_config_len(d);
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	__builtin_memset(cfg, 0, sizeof(*cfg));
	if (virtio_config_read64(d, offsetof(struct virtio_blk_config, capacity), &v64))
		return -1;
	cfg->capacity = cpu_to_le64(v64);
#define RD32(f) do { if (offsetof(struct virtio_blk_config, f) + 4 <= len && \
			 !virtio_config_read32(d, offsetof(struct virtio_blk_config, f), &v32)) \
			cfg->f = cpu_to_le32(v32); } while (0)
#define RD16(f) do { if (offsetof(struct virtio_blk_config, f) + 2 <= len && \
			 !virtio_config_read16(d, offsetof(struct virtio_blk_config, f), &v16)) \
			cfg->f = cpu_to_le16(v16); } while (0)
#define RD8(f) do { if (offsetof(struct virtio_blk_config, f) + 1 <= len && \
			!virtio_config_read8(d, offsetof(struct virtio_blk_config, f), &v8)) \
			cfg->f = v8; } while (0)
	RD32(size_max);
	RD32(seg_max);
	RD32(blk_size);
	RD8(topology.physical_block_exp);
	RD8(topology.alignment_offset);
	RD16(topology.min_io_size);
	RD32(topology.opt_io_size);
	RD8(writeback);
	RD16(num_queues);
	RD32(max_discard_sectors);
	RD32(max_discard_seg);
	RD32(discard_sector_alignment);
	RD32(max_write_zeroes_sectors);
	RD32(max_write_zeroes_seg);
	RD8(write_zeroes_may_unmap);
#undef RD32
#undef RD16
#undef RD8
	return 0;
}

/*
 * The whole configuration as one consistent version (virtio 1.2
 * 4.1.4.3.1): re-read until config_generation did not move across the
 * reads; legacy devices have no generation, so two equal reads in a row.
 * Bounded: a device that never settles is an error, not a hang.
 */
int vblk_read_config(struct vblk_adapter *a, struct virtio_blk_config *cfg)
{
	struct virtio_blk_config again;
	uint32_t i;

	(void)virtio_config_changed(&a->vdev);      /* take the current generation */
	for (i = 0; i < VBLK_CONFIG_TRIES; i++) {
		if (read_blk_fields(a, cfg))
			return -1;
		if (!virtio_is_legacy(&a->vdev)) {
			if (!virtio_config_changed(&a->vdev))
				return 0;
			continue;
		}
		if (read_blk_fields(a, &again))
			return -1;
		if (!__builtin_memcmp(cfg, &again, sizeof(again)))
			return 0;
	}
	vblk_log("device configuration kept changing during %u reads\n", VBLK_CONFIG_TRIES);
	return -1;
}

/* One log line per configuration value replaced by a safe default. */
static void log_fixups(uint32_t fixups)
{
	static const struct {
		uint32_t bit;
		const char *what;
	} fix[] = {
		{ VBLK_FIX_BLK_SIZE, "blk_size unusable: 512-byte blocks" },
		{ VBLK_FIX_TOPOLOGY, "topology out of range: hints dropped" },
		{ VBLK_FIX_DISCARD, "discard limits unusable: discard off or unaligned" },
		{ VBLK_FIX_WRITE_ZEROES, "write-zeroes limits zero: write zeroes off" },
		{ VBLK_FIX_SEG_MAX, "seg_max zero: 256 segments" },
		{ VBLK_FIX_SIZE_MAX, "size_max below 512: 4096-byte segments" },
	};
	uint32_t i;

	for (i = 0; i < sizeof(fix) / sizeof(fix[0]); i++)
		if (fixups & fix[i].bit)
			vblk_log("config: %s\n", fix[i].what);
}

static ULONG reg_dword(struct vblk_adapter *a, const char *name, ULONG def)
{
	ULONG len = sizeof(ULONG), value = def;
	PUCHAR buf = StorPortAllocateRegistryBuffer(a, &len);

	if (!buf)
		return def;
	len = sizeof(ULONG);
	if (StorPortRegistryRead(a, (PUCHAR)name, 1, MINIPORT_REG_DWORD, buf, &len) &&
	    len == sizeof(ULONG))
		__builtin_memcpy(&value, buf, sizeof(value));
	StorPortFreeRegistryBuffer(a, buf);
	return value;
}

static uint64_t vblk_wanted_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
	       VIRTIO_BIT(VIRTIO_F_RING_PACKED) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
	       VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
	       VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
	       VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
	       VIRTIO_BIT(VIRTIO_BLK_F_MQ) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
	       VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
}

/* Carve the uncached extension into per-queue regions. */
static void assign_memory(struct vblk_adapter *a)
{
	uint16_t i;

	for (i = 0; i < a->plan.queues; i++) {
		struct vblk_queue *q = &a->q[i];
		size_t base = (size_t)i * a->mem.stride;

		q->adapter = a;
		q->index = i;
		q->ring_va = a->unc_va + base + a->mem.ring_off;
		q->ring_pa = a->unc_pa + base + a->mem.ring_off;
		q->dma = (struct vblk_req_dma *)(a->unc_va + base + a->mem.dma_off);
		q->dma_pa = a->unc_pa + base + a->mem.dma_off;
		q->state = a->unc_va + base + a->mem.state_off;
		q->free_slots = (uint16_t *)(a->unc_va + base + a->mem.free_off);
	}
}

ULONG vblk_find_adapter(struct vblk_adapter *a, PPORT_CONFIGURATION_INFORMATION config)
{
	struct virtio_blk_config cfg;
	struct vblk_plan_input in;
	struct vblk_disk disk_buf, *disk = &disk_buf;
	uint16_t i, cand, qmax = 0, found = 0;
	ULONG n, cpus;
	PVOID va;
	int rc;

	a->bus = config->SystemIoBusNumber;
	a->slot = config->SlotNumber;
	/* Older StorPorts pass a structure that ends before DumpMode. */
	a->dump = config->Length >= FIELD_OFFSET(PORT_CONFIGURATION_INFORMATION, DmaAddressWidth) &&
		  config->DumpMode != 0;

	n = StorPortGetBusData(a, PCIConfiguration, a->bus, a->slot, a->pci_cfg,
			       VBLK_PCI_CFG_LEN);
	if (n < 0x40) {
		vblk_log("PCI configuration space not readable (%u bytes)\n", (unsigned)n);
		return SP_RETURN_NOT_FOUND;
	}
	if (cfg16(a, PCI_CFG_VENDOR_ID) != VIRTIO_PCI_VENDOR_ID)
		return SP_RETURN_NOT_FOUND;
	a->msix_cap = find_msix_cap(a);
	if (!map_bars(a, config)) {
		vblk_log("no usable BAR among %u access ranges\n", (unsigned)config->NumberOfAccessRanges);
		return SP_RETURN_NOT_FOUND;
	}
	rc = virtio_init(&a->vdev, &vblk_os_ops, a, 0);
	if (rc || virtio_device_type(&a->vdev) != VIRTIO_ID_BLOCK) {
		vblk_log("not a usable virtio-blk function (%s)\n", virtio_strerror(rc));
		return SP_RETURN_NOT_FOUND;
	}
	a->features_wanted = vblk_wanted_features();
	rc = virtio_begin(&a->vdev);
	if (!rc)
		rc = virtio_negotiate(&a->vdev, a->features_wanted, &a->features);
	if (rc || vblk_read_config(a, &cfg)) {
		vblk_log("feature negotiation / configuration failed (%s)\n", virtio_strerror(rc));
		virtio_fail(&a->vdev);
		return SP_RETURN_ERROR;
	}
	if (vblk_disk_from_config(disk, &cfg, a->features)) {
		vblk_log("device configuration rejected (capacity beyond 2^64 bytes)\n");
		virtio_fail(&a->vdev);
		return SP_RETURN_ERROR;
	}
	log_fixups(disk->fixups);
	vblk_disk_set_vendor(disk, VDP_BRAND_VENDOR8);

	__builtin_memset(&in, 0, sizeof(in));
	/* A crash dump runs on one processor; do not call into the kernel there. */
	cpus = a->dump ? 1 : KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	in.cpus = cpus ? cpus : 1;
	in.device_queues = 1;
	if (virtio_has_feature(&a->vdev, VIRTIO_BLK_F_MQ)) {
		if (le16_to_cpu(cfg.num_queues))
			in.device_queues = le16_to_cpu(cfg.num_queues);
		else
			vblk_log("config: num_queues zero with MQ: one queue\n");
	}
	if (!a->dump) {
		in.reg_queues = reg_dword(a, "NumQueues", 0);
		in.reg_max_transfer = reg_dword(a, "MaxTransferSize", 0);
	}
	/* Every queue that will be used must exist; the smallest maximum wins. */
	cand = (uint16_t)(in.device_queues < VBLK_MAX_QUEUES ? in.device_queues : VBLK_MAX_QUEUES);
	if (a->dump)
		cand = 1;
	for (i = 0; i < cand; i++) {
		uint16_t m;

		if (virtio_queue_max_size(&a->vdev, i, &m) || !m)
			break;
		qmax = (uint16_t)(found ? (m < qmax ? m : qmax) : m);
		found++;
	}
	if (!found) {
		vblk_log("request queue 0 absent\n");
		virtio_fail(&a->vdev);
		return SP_RETURN_ERROR;
	}
	in.device_queues = found;
	in.queue_max_size = qmax;
	in.legacy = virtio_is_legacy(&a->vdev);
	in.packed = virtio_has_feature(&a->vdev, VIRTIO_F_RING_PACKED);
	in.indirect = virtio_has_feature(&a->vdev, VIRTIO_F_INDIRECT_DESC);
	in.dump = a->dump;
	if (virtio_has_feature(&a->vdev, VIRTIO_BLK_F_SIZE_MAX))
		in.size_max = le32_to_cpu(cfg.size_max);
	in.block_size = disk->block_size;
	in.disk_max_transfer = disk->max_transfer_bytes;
	in.disk_max_segments = disk->max_segments;

	/* Halve the queue count until the rings fit the budget and can be had. */
	for (;;) {
		size_t ring_len, state_len;

		if (vblk_plan_compute(&in, &a->plan)) {
			vblk_log("device limits leave no usable request size\n");
			virtio_fail(&a->vdev);
			return SP_RETURN_ERROR;
		}
		ring_len = virtio_queue_ring_size(&a->vdev, a->plan.queue_size, a->plan.indirect_max);
		state_len = virtio_queue_state_size(a->plan.queue_size);
		if (vblk_mem_plan(ring_len, state_len, a->plan.queue_size, a->plan.queues, &a->mem)) {
			vblk_log("ring memory size overflow\n");
			virtio_fail(&a->vdev);
			return SP_RETURN_ERROR;
		}
		if (a->mem.total > VBLK_UNCACHED_BUDGET && a->plan.queues > 1) {
			in.reg_queues = a->plan.queues / 2u;
			continue;
		}
		va = StorPortGetUncachedExtension(a, config, (ULONG)a->mem.total);
		if (va || a->plan.queues == 1)
			break;
		in.reg_queues = a->plan.queues / 2u;
	}
	if (!va) {
		vblk_log("no uncached extension of %u bytes\n", (unsigned)a->mem.total);
		virtio_fail(&a->vdev);
		return SP_RETURN_ERROR;
	}
	{
		STOR_PHYSICAL_ADDRESS pa = StorPortGetPhysicalAddress(a, NULL, va, NULL);
		size_t off = 0, skew = (size_t)((0u - (uint64_t)pa.QuadPart) & (VIRTIO_RING_ALIGN - 1));

		/* Rings need one physically contiguous block: verify it piece by piece. */
		while (pa.QuadPart && off < a->mem.total) {
			ULONG plen = 0;
			STOR_PHYSICAL_ADDRESS p = StorPortGetPhysicalAddress(a, NULL, (uint8_t *)va + off,
									     &plen);

			if (!plen || (uint64_t)p.QuadPart != (uint64_t)pa.QuadPart + off)
				break;
			off += plen;
		}
		if (!pa.QuadPart || off < a->mem.total) {
			vblk_log("uncached extension not contiguous (%u of %u bytes)\n",
				 (unsigned)off, (unsigned)a->mem.total);
			virtio_fail(&a->vdev);
			return SP_RETURN_ERROR;
		}
		a->unc_va = (uint8_t *)va + skew;
		a->unc_pa = (uint64_t)pa.QuadPart + skew;
	}
	assign_memory(a);

	/* blk_scsi enforces exactly the limits StorPort is told. */
	disk->max_transfer_bytes = a->plan.max_transfer;
	disk->max_segments = a->plan.data_descs;
	if (disk->max_discard_ranges > VBLK_DMA_RANGES)
		disk->max_discard_ranges = VBLK_DMA_RANGES;
	vblk_disk_publish(a, disk);
	a->nq = 1;

	config->MaximumTransferLength = a->plan.max_transfer;
	config->NumberOfPhysicalBreaks = a->plan.phys_breaks;
	config->AlignmentMask = 0;
	config->ScatterGather = TRUE;
	config->Master = TRUE;
	config->CachesData = disk->write_cache;
	config->Dma32BitAddresses = TRUE;
	config->Dma64BitAddresses = SCSI_DMA64_MINIPORT_FULL64BIT_SUPPORTED;
	config->NumberOfBuses = 1;
	config->MaximumNumberOfTargets = 1;
	config->MaximumNumberOfLogicalUnits = 1;
	config->NeedPhysicalAddresses = TRUE;
	config->TaggedQueuing = TRUE;
	config->AutoRequestSense = TRUE;
	config->MultipleRequestPerLu = TRUE;
	config->ResetTargetSupported = FALSE;
	config->SynchronizationModel = StorSynchronizeFullDuplex;
	if (config->Length >= FIELD_OFFSET(PORT_CONFIGURATION_INFORMATION, ExtendedFlags1))
		config->DmaAddressWidth = 64;
	if (config->Length >= FIELD_OFFSET(PORT_CONFIGURATION_INFORMATION, BusResetHoldTime)) {
		config->MaxNumberOfIO = a->plan.max_io;
		config->MaxIOsPerLun = a->plan.max_io;
		config->InitialLunQueueDepth = a->plan.max_io;
	}
	vblk_log("%u queue(s) of %u, indirect %u, max transfer %u, breaks %u, %s ring\n",
		 a->plan.queues, a->plan.queue_size, a->plan.indirect_max, a->plan.max_transfer,
		 a->plan.phys_breaks, in.packed ? "packed" : "split");
	return SP_RETURN_FOUND;
}

/* ------------------------------------------------------------ start / restart */
void vblk_query_interrupts(struct vblk_adapter *a)
{
	MESSAGE_INTERRUPT_INFORMATION info;
	BOOLEAN per_queue = FALSE;
	ULONG id;

	a->msi_count = 0;
	if (!a->dump) {
		for (id = 0; id <= VBLK_MAX_QUEUES; id++) {
			if (StorPortGetMSIInfo(a, id, &info) != STOR_STATUS_SUCCESS)
				break;
			a->msi_count++;
		}
	}
	/* virtio vectors need MSI-X; plain MSI behaves like INTx for the device. */
	a->msix = a->msi_count > 0 && a->msix_cap != 0;
	if (a->msix) {
		bool pq;

		a->nq = vblk_plan_msix_queues(a->plan.queues, a->msi_count, &pq);
		per_queue = pq;
	} else {
		a->nq = 1;
	}
	a->per_queue_vectors = per_queue;
}

int vblk_device_start(struct vblk_adapter *a)
{
	struct virtio_dev *d = &a->vdev;
	uint64_t got = 0;
	uint16_t i, k;
	int rc;

	a->started = FALSE;
	rc = virtio_begin(d);
	if (!rc)
		rc = virtio_negotiate(d, a->features_wanted, &got);
	if (!rc && got != a->features)
		rc = VIRTIO_ENOTSUP;    /* the device changed its mind since HwFindAdapter */
	if (rc)
		goto fail;
	if (!a->dump) {
		rc = virtio_set_msix_enabled(d, a->msix);
		if (!rc && a->msix)
			rc = virtio_set_config_vector(d, 0);
		if (rc)
			goto fail;
	}
	for (i = 0; i < a->nq; i++) {
		struct vblk_queue *q = &a->q[i];
		struct virtio_queue_params p;

		__builtin_memset(&p, 0, sizeof(p));
		q->vector = !a->msix ? VIRTIO_MSI_NO_VECTOR :
			    a->per_queue_vectors ? (uint16_t)(i + 1) : 0;
		if (a->dump)
			q->vector = VIRTIO_MSI_NO_VECTOR;
		p.index = i;
		p.size = virtio_is_legacy(d) ? 0 : a->plan.queue_size;
		p.msix_vector = q->vector;
		p.indirect_max = a->plan.indirect_max;
		p.ring_va = q->ring_va;
		p.ring_pa = q->ring_pa;
		p.ring_len = a->mem.ring_len;
		p.state = q->state;
		p.state_len = a->mem.state_len;
		rc = virtio_queue_setup(d, &p, &q->vq);
		if (rc)
			goto fail;
		if (vq_size(q->vq) != a->plan.queue_size) {
			rc = VIRTIO_EIO;
			goto fail;
		}
		for (k = 0; k < a->plan.queue_size; k++)
			q->free_slots[k] = (uint16_t)(a->plan.queue_size - 1u - k);
		q->nfree = a->plan.queue_size;
	}
	rc = virtio_driver_ok(d);
	if (rc)
		goto fail;
	a->started = TRUE;
	return 0;
fail:
	vblk_log("device start failed: %s\n", virtio_strerror(rc));
	virtio_fail(d);
	return rc ? rc : VIRTIO_EIO;
}

BOOLEAN vblk_device_gone(struct vblk_adapter *a)
{
	if (a->removed)
		return TRUE;
	/* A function that left the bus reads all ones. */
	if (virtio_get_status(&a->vdev) == 0xFF) {
		InterlockedExchange(&a->removed, 1);
		vblk_log("device removed\n");
		return TRUE;
	}
	return FALSE;
}

/*
 * GET_ID on queue 0, polled: runs once in HwPassiveInitialize, at
 * PASSIVE_LEVEL, before the DPCs exist and before any I/O, so nothing else
 * touches the queue or writes the disk. Returns 0 (serial set, or none
 * when the device refused or answered garbage), or -1 when the chain may
 * still be posted (the caller must reset the device before using the queue).
 */
int vblk_read_serial(struct vblk_adapter *a)
{
	struct vblk_queue *q = &a->q[0];
	struct vblk_scsi_cmd cmd;
	struct vq_sg sg[3];
	struct vblk_req_dma *r;
	uint64_t pa;
	uint16_t slot;
	uint32_t i, len;
	void *cookie;
	int rc;

	if (!q->vq || !q->nfree)
		return -1;
	__builtin_memset(&cmd, 0, sizeof(cmd));
	vblk_scsi_get_id(&cmd);
	slot = q->free_slots[--q->nfree];
	r = &q->dma[slot];
	pa = q->dma_pa + (uint64_t)slot * sizeof(*r);
	__builtin_memset(r, 0, sizeof(*r));
	r->hdr.type = cpu_to_le32(cmd.req.type);
	r->status = 0xFF;
	sg[0].addr = pa + offsetof(struct vblk_req_dma, hdr);
	sg[0].len = sizeof(r->hdr);
	sg[1].addr = pa + offsetof(struct vblk_req_dma, id);
	sg[1].len = cmd.req.length;
	sg[2].addr = pa + offsetof(struct vblk_req_dma, status);
	sg[2].len = 1;
	rc = vq_add(q->vq, sg, 1, 2, r);
	if (rc) {
		q->free_slots[q->nfree++] = slot;
		return rc == VIRTIO_ENOSPC ? 0 : -1;
	}
	vq_kick(q->vq);
	for (i = 0; i < VBLK_GET_ID_POLLS; i++) {
		rc = vq_get_used(q->vq, &cookie, &len);
		if (rc == VIRTIO_OK && cookie == r)
			break;
		if (rc == VIRTIO_EBROKEN || rc == VIRTIO_OK || vblk_device_gone(a))
			return -1;
		StorPortStallExecution(VBLK_POLL_STEP_US);
	}
	if (i == VBLK_GET_ID_POLLS)
		return -1;
	q->free_slots[q->nfree++] = slot;
	if (vblk_scsi_complete(&cmd, r->status) == VBLK_ACTION_COMPLETE) {
		struct vblk_disk d;

		if (!vblk_disk_read(a, &d))
			return 0;
		if (!vblk_disk_set_serial(&d, r->id, VIRTIO_BLK_ID_BYTES))
			vblk_log("GET_ID answer is not a printable id; no serial number\n");
		vblk_disk_publish(a, &d);
	} else {
		vblk_log("GET_ID failed (status %u); no serial number\n", (unsigned)r->status);
	}
	return 0;
}

/*
 * Config-change interrupt work, under queue 0's lock: that serialises it
 * with recovery and makes it the only writer of the disk at this point.
 */
void vblk_config_changed(struct vblk_adapter *a)
{
	struct virtio_blk_config cfg;
	struct vblk_disk disk;
	uint64_t cap;

	if (!a->started || vblk_device_gone(a))
		return;
	if (virtio_needs_reset(&a->vdev)) {
		InterlockedExchange(&a->reset_pending, 1);
		return;
	}
	if (vblk_read_config(a, &cfg) || !vblk_disk_read(a, &disk))
		return;
	cap = le64_to_cpu(cfg.capacity);
	if (cap == disk.capacity_sectors)
		return;
	/* Same validation as at start: byte offsets must fit in 64 bits. */
	if (cap > (UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT)) {
		vblk_log("new capacity rejected\n");
		return;
	}
	/* Only the capacity may change under StorPort; the limits it was given stay. */
	disk.capacity_sectors = cap;
	vblk_disk_publish(a, &disk);
	InterlockedExchange(&a->capacity_changed, 1);
	vblk_log("capacity changed to %u MiB\n", (unsigned)(cap >> 11));
	StorPortNotification(BusChangeDetected, a, 0);
}
