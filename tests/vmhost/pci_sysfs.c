/* PCI access through sysfs: config space via .../config, BARs via
 * .../resourceN mmap (size from .../resource: lseek on resourceN does not
 * report it), INTx via uio_pci_generic, which has no irqcontrol, so INTx
 * is unmasked by clearing PCI_COMMAND.INTX_DISABLE in config space. */
#define _GNU_SOURCE
#include "pci_sysfs.h"
#include "vmhost.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#define SYS_PCI "/sys/bus/pci/devices"
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define IORESOURCE_IO  0x100
#define IORESOURCE_MEM 0x200

static int read_hex(const char *bdf, const char *file, unsigned *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), SYS_PCI "/%s/%s", bdf, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

int pci_open(const char *spec, struct pci_dev *d)
{
	unsigned want_v = 0, want_d = 0, v, dv, dom, bus, slot, fn;
	bool by_id = sscanf(spec, "%4x:%4x", &want_v, &want_d) == 2 && strlen(spec) == 9;
	char path[160];
	struct dirent *e;
	DIR *dir;
	FILE *f;

	memset(d, 0, sizeof(*d));
	d->cfg_fd = d->uio_fd = -1;
	d->vfio_container = d->vfio_group = d->vfio_dev = -1;
	dir = opendir(SYS_PCI);
	if (!dir) {
		vh_log("pci: %s not readable (no sysfs?)", SYS_PCI);
		return -1;
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(d->bdf) ||
		    read_hex(e->d_name, "vendor", &v) ||
		    read_hex(e->d_name, "device", &dv))
			continue;
		if (by_id ? (v == want_v && dv == want_d) : !strcmp(e->d_name, spec)) {
			memcpy(d->bdf, e->d_name, strlen(e->d_name) + 1);
			d->vendor = (uint16_t)v;
			d->device = (uint16_t)dv;
			break;
		}
	}
	closedir(dir);
	if (!d->bdf[0]) {
		vh_log("pci: no device matches '%s'", spec);
		return -1;
	}
	if (sscanf(d->bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -1;
	d->bus = (uint8_t)bus;
	d->slot = (uint8_t)slot;
	d->func = (uint8_t)fn;
	snprintf(path, sizeof(path), SYS_PCI "/%s/config", d->bdf);
	d->cfg_fd = open(path, O_RDWR);
	if (d->cfg_fd < 0) {
		vh_log("pci: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* "resource": one line per BAR: start end flags. */
	snprintf(path, sizeof(path), SYS_PCI "/%s/resource", d->bdf);
	f = fopen(path, "r");
	for (int i = 0; f && i < 6; i++) {
		unsigned long long s, end, flags;
		if (fscanf(f, "%llx %llx %llx", &s, &end, &flags) != 3)
			break;
		if (!s || end < s)
			continue;
		d->bar[i].phys = s;
		d->bar[i].size = end - s + 1;
		d->bar[i].io = flags & IORESOURCE_IO;
		d->bar[i].mem = flags & IORESOURCE_MEM;
	}
	if (f)
		fclose(f);
	return 0;
}

int pci_cfg_read(struct pci_dev *d, uint32_t off, void *buf, uint32_t len)
{
	if (off > 4096 || len > 4096 - off)
		return -1;
	if (d->vfio_dev >= 0)
		return pread(d->vfio_dev, buf, len, (off_t)(d->vfio_cfg_off + off)) == (ssize_t)len ? 0 : -1;
	return pread(d->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

int pci_cfg_write(struct pci_dev *d, uint32_t off, const void *buf, uint32_t len)
{
	if (off > 4096 || len > 4096 - off)
		return -1;
	if (d->vfio_dev >= 0)
		return pwrite(d->vfio_dev, buf, len, (off_t)(d->vfio_cfg_off + off)) == (ssize_t)len ? 0 : -1;
	return pwrite(d->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

int pci_enable(struct pci_dev *d)
{
	uint16_t cmd;

	for (int i = 0; i < 6; i++) {
		char path[160];
		int fd;
		void *va;

		if (!d->bar[i].mem || d->bar[i].va)
			continue;
		if (d->vfio_dev >= 0) {
			struct vfio_region_info ri = { .argsz = sizeof(ri), .index = (uint32_t)i };
			if (ioctl(d->vfio_dev, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
			    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || ri.size < d->bar[i].size) {
				/* e.g. the MSI-X table BAR: vfio keeps it for itself */
				vh_log("pci: BAR%d of %s not mappable through vfio, skipped", i, d->bdf);
				continue;
			}
			va = mmap(NULL, d->bar[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, d->vfio_dev,
				  (off_t)ri.offset);
			if (va == MAP_FAILED) {
				vh_log("pci: BAR%d of %s: vfio mmap failed (%s), skipped", i, d->bdf,
				       strerror(errno));
				continue;
			}
			d->bar[i].va = va;
			io_add_window(d->bar[i].phys, d->bar[i].size, va);
			continue;
		}
		snprintf(path, sizeof(path), SYS_PCI "/%s/resource%d", d->bdf, i);
		fd = open(path, O_RDWR | O_SYNC);
		if (fd < 0) {
			vh_log("pci: cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		va = mmap(NULL, d->bar[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (va == MAP_FAILED) {
			vh_log("pci: cannot map BAR%d of %s: %s", i, d->bdf, strerror(errno));
			return -1;
		}
		d->bar[i].va = va;
		io_add_window(d->bar[i].phys, d->bar[i].size, va);
	}
	if (pci_cfg_read(d, PCI_COMMAND, &cmd, 2))
		return -1;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER;
	return pci_cfg_write(d, PCI_COMMAND, &cmd, 2);
}

int pci_uio_bind(struct pci_dev *d)
{
	char path[300], id[16];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), SYS_PCI "/%s/uio", d->bdf);
	dir = opendir(path);
	if (!dir) {
		snprintf(id, sizeof(id), "%04x %04x", d->vendor, d->device);
		/* EEXIST when the id was added before: the bind still happened. */
		write_str("/sys/bus/pci/drivers/uio_pci_generic/new_id", id);
		dir = opendir(path);
	}
	if (!dir) {
		vh_log("pci: %s did not bind to uio_pci_generic (module loaded?)", d->bdf);
		return -1;
	}
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "uio", 3) && strlen(e->d_name) < 32) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			d->uio_fd = open(path, O_RDWR);
			break;
		}
	closedir(dir);
	if (d->uio_fd < 0) {
		vh_log("pci: no /dev/uioN for %s", d->bdf);
		return -1;
	}
	return 0;
}

int pci_uio_wait(struct pci_dev *d, int timeout_ms)
{
	struct pollfd p = { .fd = d->uio_fd, .events = POLLIN };
	uint32_t count;
	int r = poll(&p, 1, timeout_ms);

	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	if (read(d->uio_fd, &count, 4) != 4)
		return -1;
	return 1;
}

int pci_intx_unmask(struct pci_dev *d)
{
	uint16_t cmd;

	if (pci_cfg_read(d, PCI_COMMAND, &cmd, 2))
		return -1;
	if (!(cmd & PCI_COMMAND_INTX_DISABLE))
		return 0;
	cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
	return pci_cfg_write(d, PCI_COMMAND, &cmd, 2);
}

int pci_vfio_bind(struct pci_dev *d)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	char path[300], link[300], id[16];
	const char *grp;
	ssize_t n;
	void *va;
	uint64_t phys;
	size_t len;

	snprintf(path, sizeof(path), SYS_PCI "/%s/iommu_group", d->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		vh_log("pci: %s has no IOMMU group (guest needs intel_iommu=on and -device intel-iommu)",
		       d->bdf);
		return -1;
	}
	link[n] = 0;
	grp = strrchr(link, '/');
	grp = grp ? grp + 1 : link;
	if (strlen(grp) > 16) {
		vh_log("pci: odd IOMMU group name '%s'", grp);
		return -1;
	}
	snprintf(id, sizeof(id), "%04x %04x", d->vendor, d->device);
	write_str("/sys/bus/pci/drivers/vfio-pci/new_id", id);
	snprintf(path, sizeof(path), "/dev/vfio/%.16s", grp);
	d->vfio_container = open("/dev/vfio/vfio", O_RDWR);
	d->vfio_group = open(path, O_RDWR);
	if (d->vfio_container < 0 || d->vfio_group < 0) {
		vh_log("pci: cannot open /dev/vfio/vfio or %s (vfio-pci loaded?)", path);
		return -1;
	}
	if (ioctl(d->vfio_container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(d->vfio_container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) ||
	    ioctl(d->vfio_group, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(d->vfio_group, VFIO_GROUP_SET_CONTAINER, &d->vfio_container) ||
	    ioctl(d->vfio_container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		vh_log("pci: vfio setup for group %s failed (%s)", grp, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; dma_chunk(i, &va, &phys, &len); i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uint64_t)(uintptr_t)va,
			.iova = phys,
			.size = len,
		};
		if (ioctl(d->vfio_container, VFIO_IOMMU_MAP_DMA, &m)) {
			vh_log("pci: VFIO_IOMMU_MAP_DMA of %#llx failed (%s)", (unsigned long long)phys,
			       strerror(errno));
			return -1;
		}
	}
	d->vfio_dev = ioctl(d->vfio_group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->vfio_dev < 0 || ioctl(d->vfio_dev, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		vh_log("pci: cannot get the vfio device %s", d->bdf);
		d->vfio_dev = -1;
		return -1;
	}
	d->vfio_cfg_off = ri.offset;
	return 0;
}

int pci_msix_enable(struct pci_dev *d, unsigned want)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t) * 8];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	unsigned n;

	if (d->vfio_dev < 0 || ioctl(d->vfio_dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) || !ii.count)
		return -1;
	n = ii.count < want ? ii.count : want;
	if (n > 8)
		n = 8;
	for (unsigned i = 0; i < n; i++) {
		d->msix_fd[i] = eventfd(0, EFD_NONBLOCK);
		if (d->msix_fd[i] < 0)
			return -1;
	}
	memset(buf, 0, sizeof(buf));
	set->argsz = (uint32_t)(sizeof(*set) + sizeof(int32_t) * n);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = n;
	memcpy(set->data, d->msix_fd, sizeof(int32_t) * n);
	if (ioctl(d->vfio_dev, VFIO_DEVICE_SET_IRQS, set)) {
		vh_log("pci: VFIO_DEVICE_SET_IRQS (MSI-X x%u) failed (%s)", n, strerror(errno));
		return -1;
	}
	d->msix_count = n;
	return (int)n;
}

int pci_msix_wait_set(struct pci_dev *d, uint32_t set, int timeout_ms)
{
	struct pollfd p[8];
	unsigned ids[8], n = 0;
	int r, mask = 0;

	for (unsigned i = 0; i < d->msix_count; i++)
		if (set & (1u << i)) {
			p[n] = (struct pollfd){ .fd = d->msix_fd[i], .events = POLLIN };
			ids[n++] = i;
		}
	r = poll(p, n, timeout_ms);
	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t v;
		if ((p[i].revents & POLLIN) && read(p[i].fd, &v, 8) == 8)
			mask |= 1 << ids[i];
	}
	return mask;
}

int pci_msix_wait(struct pci_dev *d, int timeout_ms)
{
	return pci_msix_wait_set(d, (1u << d->msix_count) - 1, timeout_ms);
}

void pci_close(struct pci_dev *d)
{
	for (unsigned i = 0; i < d->msix_count; i++)
		close(d->msix_fd[i]);
	if (d->vfio_dev >= 0)
		close(d->vfio_dev);
	if (d->vfio_group >= 0)
		close(d->vfio_group);
	if (d->vfio_container >= 0)
		close(d->vfio_container);
	for (int i = 0; i < 6; i++)
		if (d->bar[i].va)
			munmap(d->bar[i].va, d->bar[i].size);
	if (d->cfg_fd >= 0)
		close(d->cfg_fd);
	if (d->uio_fd >= 0)
		close(d->uio_fd);
	memset(d, 0, sizeof(*d));
	d->cfg_fd = d->uio_fd = -1;
	d->vfio_container = d->vfio_group = d->vfio_dev = -1;
}
