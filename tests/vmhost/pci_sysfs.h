/* A PCI device seen through Linux sysfs (inside the test guest). */
#ifndef VMHOST_PCI_SYSFS_H
#define VMHOST_PCI_SYSFS_H

#include <stdbool.h>
#include <stdint.h>

struct pci_bar {
	uint64_t phys, size;
	bool io, mem;
	void *va; /* memory BARs: sysfs mapping */
};

struct pci_dev {
	char bdf[16];
	uint16_t vendor, device;
	uint8_t bus, slot, func;
	int cfg_fd;
	int uio_fd; /* -1 unless bound to uio_pci_generic */
	/* vfio-pci (MSI-X): container, group, device; -1 when unused */
	int vfio_container, vfio_group, vfio_dev;
	uint64_t vfio_cfg_off;
	int msix_fd[8];
	unsigned msix_count;
	struct pci_bar bar[6];
};

/* spec is "vvvv:dddd" (first match) or a BDF "0000:00:01.0". */
int pci_open(const char *spec, struct pci_dev *d);
int pci_cfg_read(struct pci_dev *d, uint32_t off, void *buf, uint32_t len);
int pci_cfg_write(struct pci_dev *d, uint32_t off, const void *buf, uint32_t len);
/* Map memory BARs (registered as I/O windows for MmMapIoSpace and
 * StorPortGetDeviceBase) and enable memory, I/O and bus mastering. */
int pci_enable(struct pci_dev *d);
/* Bind to uio_pci_generic and open /dev/uioN for INTx. */
int pci_uio_bind(struct pci_dev *d);
/* Wait for one INTx; 1 = interrupt, 0 = timeout, -1 = error. */
int pci_uio_wait(struct pci_dev *d, int timeout_ms);
/* uio_pci_generic masks INTx on each interrupt; unmask it again. */
int pci_intx_unmask(struct pci_dev *d);
/* Bind to vfio-pci behind the guest's IOMMU and identity-map the DMA
 * pool (IOVA = physical address), so device addresses stay the same as
 * with uio. BARs and config space then go through the vfio regions. */
int pci_vfio_bind(struct pci_dev *d);
/* Route up to `want` MSI-X vectors to eventfds; returns the count or -1. */
int pci_msix_enable(struct pci_dev *d, unsigned want);
/* Wait for the MSI-X vectors in `set` (bit i = vector i; all of them for
 * pci_msix_wait): returns a bit mask of those that fired, 0 on timeout or
 * an interrupted wait, -1 on error. An empty set sleeps for the timeout. */
int pci_msix_wait_set(struct pci_dev *d, uint32_t set, int timeout_ms);
int pci_msix_wait(struct pci_dev *d, int timeout_ms);
void pci_close(struct pci_dev *d);

#endif
