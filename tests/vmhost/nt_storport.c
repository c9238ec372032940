/* storport.sys emulation: one adapter on one PCI device.
 *
 * Execution model (documented StorPort full-duplex rules, one CPU):
 *   HwFindAdapter, passive init         PASSIVE_LEVEL
 *   HwInitialize                        DIRQL, interrupt lock held
 *   HwBuildIo                           DISPATCH_LEVEL, no lock
 *   HwStartIo                           DISPATCH_LEVEL, StartIo lock held
 *   HwInterrupt                         DIRQL, interrupt lock held (own thread)
 *   HwTimer                             DISPATCH_LEVEL, StartIo lock held
 * In half-duplex mode (SynchronizationModel 0, the default) HwStartIo and
 * HwTimer also hold the interrupt lock, at DIRQL.
 *   DPCs (StorPortIssueDpc)             DISPATCH_LEVEL, on the DPC thread
 * Every buffer the miniport can hand to the device (device extension,
 * uncached extension, SRB extension, data buffers) comes from the DMA
 * pool, so physical addresses are real inside the guest. */
#define _GNU_SOURCE
#include "nt_storport.h"
#include "pci_sysfs.h"
#include "vmhost.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

#define SP_DIRQL 5 /* any device IRQL above DISPATCH_LEVEL will do */
#define SP_MAX_OUTSTANDING 64
#define SP_MAX_RANGES 16
#define SP_UNINITIALIZED 0xffffffffu
#define STATUS_REVISION_MISMATCH ((nt_status)0xC0000059)
#define STOR_STATUS_SUCCESS 0u
#define STOR_STATUS_UNSUCCESSFUL 0xC1000001u
#define STOR_STATUS_NOT_IMPLEMENTED 0xC1000002u
#define STOR_STATUS_INVALID_PARAMETER 0xC1000006u
#define HW_INIT_MIN_SIZE offsetof(sp_hw_init_data, HwBuildIo)

struct outstanding {
	sp_srb *srb;
	bool done;
	sp_sg_list *sg;
};

static struct {
	bool registered, started, stop;
	sp_hw_init_data hw;
	void *hw_context;
	void *ext, *lu_ext, *uncached;
	size_t uncached_size;
	sp_port_config cfg;
	sp_access_range ranges[SP_MAX_RANGES];
	struct pci_dev pci;
	bool uio, msix;
	unsigned msi_count;
	nt_kspin_lock int_lock, startio_lock;
	sp_hw_passive_init *passive;
	sp_hw_timer *timer_fn;
	nt_ktimer timer;
	nt_kdpc timer_dpc;
	bool in_find_or_init;
	int irq_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct outstanding out[SP_MAX_OUTSTANDING];
	unsigned long interrupts, claimed;
} sp = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

bool sp_registered(void)
{
	return sp.registered;
}

/* ------------------------------------------------------------ init */

static nt_status NTAPI sp_StorPortInitialize(void *arg1, void *arg2, sp_hw_init_data *hw, void *ctx)
{
	(void)arg2;
	if (!arg1 || !hw) {
		vh_log("StorPortInitialize: NULL DriverObject or HW_INITIALIZATION_DATA");
		return STATUS_INVALID_PARAMETER;
	}
	if (hw->HwInitializationDataSize < HW_INIT_MIN_SIZE || hw->HwInitializationDataSize > 4096) {
		vh_log("StorPortInitialize: HwInitializationDataSize %u (need >= %zu)",
		       hw->HwInitializationDataSize, HW_INIT_MIN_SIZE);
		return STATUS_REVISION_MISMATCH;
	}
	if (hw->AdapterInterfaceType != PCI_BUS_INTERFACE) {
		vh_log("StorPortInitialize: interface type %u, only PCIBus (5) is emulated",
		       hw->AdapterInterfaceType);
		return STATUS_INVALID_PARAMETER;
	}
	if (!hw->HwFindAdapter || !hw->HwInitialize || !hw->HwStartIo || !hw->HwInterrupt) {
		vh_log("StorPortInitialize: HwFindAdapter/HwInitialize/HwStartIo/HwInterrupt missing");
		return STATUS_INVALID_PARAMETER;
	}
	if (hw->NumberOfAccessRanges > SP_MAX_RANGES) {
		vh_log("StorPortInitialize: %u access ranges (max %d)", hw->NumberOfAccessRanges,
		       SP_MAX_RANGES);
		return STATUS_INVALID_PARAMETER;
	}
	if (sp.registered) {
		vh_log("StorPortInitialize: called twice");
		return STATUS_UNSUCCESSFUL;
	}
	memset(&sp.hw, 0, sizeof(sp.hw));
	memcpy(&sp.hw, hw, hw->HwInitializationDataSize < sizeof(sp.hw) ?
				   hw->HwInitializationDataSize : sizeof(sp.hw));
	sp.hw_context = ctx;
	sp.registered = true;
	vh_log("StorPortInitialize: miniport registered (ext %u, srb ext %u, %u ranges)",
	       hw->DeviceExtensionSize, hw->SrbExtensionSize, hw->NumberOfAccessRanges);
	return STATUS_SUCCESS;
}

/* ------------------------------------------------------------ locks */

static void int_lock(nt_irql *old)
{
	*old = vh_irql();
	if (*old > SP_DIRQL)
		vh_fatal("interrupt lock taken at IRQL %u", *old);
	vh_set_irql(SP_DIRQL);
	vh_spin_acquire(&sp.int_lock, "StorPort interrupt lock");
}

static void int_unlock(nt_irql old)
{
	vh_spin_release(&sp.int_lock, "StorPort interrupt lock");
	vh_set_irql(old);
}

static void startio_lock(nt_irql *old)
{
	*old = vh_irql();
	if (*old > DISPATCH_LEVEL)
		vh_fatal("StartIo lock taken at IRQL %u", *old);
	vh_set_irql(DISPATCH_LEVEL);
	vh_spin_acquire(&sp.startio_lock, "StorPort StartIo lock");
}

static void startio_unlock(nt_irql old)
{
	vh_spin_release(&sp.startio_lock, "StorPort StartIo lock");
	vh_set_irql(old);
}

#define SYNC_HALF_DUPLEX 0 /* StorSynchronizeHalfDuplex */

/* The locks StorPort holds around HwStartIo and HwTimer. */
static void startio_enter(nt_irql *old, nt_irql *old2)
{
	startio_lock(old);
	if (sp.cfg.SynchronizationModel == SYNC_HALF_DUPLEX)
		int_lock(old2);
}

static void startio_leave(nt_irql old, nt_irql old2)
{
	if (sp.cfg.SynchronizationModel == SYNC_HALF_DUPLEX)
		int_unlock(old2);
	startio_unlock(old);
}

/* ------------------------------------------------------------ notification */

/* Fault injection for the broken-driver proof (vdphost --inject): the
 * host, not the driver, misbehaves, so the product stays untouched. */
static enum { INJ_NONE, INJ_CORRUPT_READ, INJ_DROP_COMPLETION } inject;
static unsigned long inject_reads;
/* Late enough that the driver has done real work first. */
#define INJECT_AFTER_READS 20

int sp_set_inject(const char *mode)
{
	if (!strcmp(mode, "corrupt-read-byte"))
		inject = INJ_CORRUPT_READ;
	else if (!strcmp(mode, "drop-completion"))
		inject = INJ_DROP_COMPLETION;
	else
		return -1;
	return 0;
}

bool sp_injecting(void)
{
	return inject != INJ_NONE;
}

/* True when this completion is to be swallowed. */
static bool inject_fault(sp_srb *srb)
{
	bool read = srb->Function == SRB_FUNCTION_EXECUTE_SCSI &&
		    (srb->Cdb[0] == 0x28 || srb->Cdb[0] == 0x88) &&
		    (srb->SrbStatus & 0x3f) == SRB_STATUS_SUCCESS && srb->DataBuffer &&
		    srb->DataTransferLength > 0x100;

	if (inject == INJ_NONE || !read ||
	    __atomic_add_fetch(&inject_reads, 1, __ATOMIC_RELAXED) != INJECT_AFTER_READS)
		return false;
	if (inject == INJ_CORRUPT_READ) {
		((uint8_t *)srb->DataBuffer)[0x100] ^= 0x01;
		vh_log("inject: flipped one bit of byte 0x100 in read SRB %p", (void *)srb);
		return false;
	}
	vh_log("inject: swallowed the RequestComplete of read SRB %p", (void *)srb);
	return true;
}

static void complete_srb(sp_srb *srb)
{
	bool found = false;

	if (inject_fault(srb))
		return;

	/* Everything is checked before the SRB is handed back: from then on
	 * the issuer may reuse it. */
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].srb == srb && !sp.out[i].done) {
			if (srb->SrbStatus == SRB_STATUS_PENDING)
				vh_fatal("RequestComplete(%p): SrbStatus still SRB_STATUS_PENDING",
					 (void *)srb);
			sp.out[i].done = true;
			found = true;
			break;
		}
	pthread_cond_broadcast(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
	if (!found)
		vh_fatal("RequestComplete(%p): SRB not outstanding (completed twice?)", (void *)srb);
}

static void NTAPI sp_dpc_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	((sp_hw_dpc_routine *)ctx)(dpc, sp.ext, a1, a2);
}

static void NTAPI sp_timer_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	sp_hw_timer *fn;
	nt_irql old, old2 = 0;

	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	fn = sp.timer_fn;
	if (!fn)
		return;
	startio_enter(&old, &old2);
	fn(sp.ext);
	startio_leave(old, old2);
}

static void sp_lock_acquire(uint32_t type, void *ctx, sp_lock_handle *h)
{
	nt_irql old;

	if (!h)
		vh_fatal("StorPortAcquireSpinLock: NULL lock handle");
	memset(h, 0, sizeof(*h));
	h->Lock = type;
	switch (type) {
	case SP_InterruptLock:
		int_lock(&old);
		break;
	case SP_StartIoLock:
		startio_lock(&old);
		break;
	case SP_DpcLock:
		if (!ctx)
			vh_fatal("StorPortAcquireSpinLock(DpcLock): no STOR_DPC given");
		old = vh_irql();
		if (old > DISPATCH_LEVEL)
			vh_fatal("DpcLock taken at IRQL %u", old);
		vh_set_irql(DISPATCH_LEVEL);
		h->Context.LockQueue.Lock = &((sp_stor_dpc *)ctx)->Lock;
		vh_spin_acquire(h->Context.LockQueue.Lock, "StorPort DpcLock");
		break;
	default:
		vh_fatal("StorPortAcquireSpinLock: unsupported lock type %u", type);
	}
	h->Context.OldIrql = old;
}

static void sp_lock_release(sp_lock_handle *h)
{
	if (!h)
		vh_fatal("StorPortReleaseSpinLock: NULL lock handle");
	switch (h->Lock) {
	case SP_InterruptLock:
		int_unlock(h->Context.OldIrql);
		break;
	case SP_StartIoLock:
		startio_unlock(h->Context.OldIrql);
		break;
	case SP_DpcLock:
		vh_spin_release(h->Context.LockQueue.Lock, "StorPort DpcLock");
		vh_set_irql(h->Context.OldIrql);
		break;
	default:
		vh_fatal("StorPortReleaseSpinLock: bad handle (lock type %u)", h->Lock);
	}
}

static void NTAPI sp_StorPortNotification(uint32_t type, void *ext, ...)
{
	__builtin_ms_va_list ap;

	if (ext != sp.ext)
		vh_fatal("StorPortNotification(%#x): wrong device extension %p", type, ext);
	__builtin_ms_va_start(ap, ext);
	switch (type) {
	case SP_RequestComplete:
		complete_srb(__builtin_va_arg(ap, sp_srb *));
		break;
	case SP_NextRequest:
	case SP_NextLuRequest:
		break; /* requests are issued one by one anyway */
	case SP_ResetDetected:
		vh_log("StorPortNotification: ResetDetected");
		break;
	case SP_BusChangeDetected:
		vh_log("StorPortNotification: BusChangeDetected");
		break;
	case SP_RequestTimerCall: {
		sp_hw_timer *fn = __builtin_va_arg(ap, sp_hw_timer *);
		uint32_t us = __builtin_va_arg(ap, uint32_t);
		sp.timer_fn = fn;
		if (!fn || !us) {
			nt_KeCancelTimer(&sp.timer);
		} else {
			nt_KeSetTimer(&sp.timer, -(int64_t)us * 10, &sp.timer_dpc);
		}
		break;
	}
	case SP_EnablePassiveInitialization: {
		sp_hw_passive_init *fn = __builtin_va_arg(ap, sp_hw_passive_init *);
		uint8_t *ok = __builtin_va_arg(ap, uint8_t *);
		if (!sp.in_find_or_init)
			vh_fatal("EnablePassiveInitialization outside HwFindAdapter/HwInitialize");
		sp.passive = fn;
		if (ok)
			*ok = 1;
		break;
	}
	case SP_InitializeDpc: {
		sp_stor_dpc *d = __builtin_va_arg(ap, sp_stor_dpc *);
		sp_hw_dpc_routine *fn = __builtin_va_arg(ap, sp_hw_dpc_routine *);
		if (!d || !fn)
			vh_fatal("StorPortInitializeDpc: NULL argument");
		nt_KeInitializeDpc(&d->Dpc, sp_dpc_trampoline, (void *)fn);
		d->Lock = 0;
		break;
	}
	case SP_IssueDpc: {
		sp_stor_dpc *d = __builtin_va_arg(ap, sp_stor_dpc *);
		void *a1 = __builtin_va_arg(ap, void *);
		void *a2 = __builtin_va_arg(ap, void *);
		uint8_t *ok = __builtin_va_arg(ap, uint8_t *);
		uint8_t r = nt_KeInsertQueueDpc(&d->Dpc, a1, a2);
		if (ok)
			*ok = r;
		break;
	}
	case SP_AcquireSpinLock: {
		uint32_t lock = __builtin_va_arg(ap, uint32_t);
		void *ctx = __builtin_va_arg(ap, void *);
		sp_lock_handle *h = __builtin_va_arg(ap, sp_lock_handle *);
		sp_lock_acquire(lock, ctx, h);
		break;
	}
	case SP_ReleaseSpinLock:
		sp_lock_release(__builtin_va_arg(ap, sp_lock_handle *));
		break;
	default:
		vh_log("StorPortNotification(%#x): not emulated, ignored", type);
		break;
	}
	__builtin_ms_va_end(ap);
}

/* ------------------------------------------------------------ resources */

static void check_ext(void *ext, const char *who)
{
	if (ext != sp.ext)
		vh_fatal("%s: device extension %p is not the adapter's (%p)", who, ext, sp.ext);
}

static uint32_t NTAPI sp_StorPortGetBusData(void *ext, uint32_t type, uint32_t bus, uint32_t slot,
					    void *buf, uint32_t len)
{
	uint32_t n;

	check_ext(ext, "StorPortGetBusData");
	if (type != PCI_CONFIGURATION || bus != sp.pci.bus ||
	    slot != (uint32_t)(sp.pci.slot | sp.pci.func << 5)) {
		vh_log("StorPortGetBusData(type %u, bus %u, slot %#x): no such device", type, bus, slot);
		return 0;
	}
	n = len > 256 ? 256 : len;
	if (!buf || pci_cfg_read(&sp.pci, 0, buf, n))
		return 0;
	return n;
}

static uint32_t NTAPI sp_StorPortSetBusDataByOffset(void *ext, uint32_t type, uint32_t bus,
						    uint32_t slot, void *buf, uint32_t off,
						    uint32_t len)
{
	check_ext(ext, "StorPortSetBusDataByOffset");
	if (type != PCI_CONFIGURATION || bus != sp.pci.bus ||
	    slot != (uint32_t)(sp.pci.slot | sp.pci.func << 5) || !buf ||
	    pci_cfg_write(&sp.pci, off, buf, len))
		return 0;
	return len;
}

static void *NTAPI sp_StorPortGetDeviceBase(void *ext, uint32_t bus_type, uint32_t bus,
					    int64_t addr, uint32_t len, uint8_t in_io_space)
{
	void *va;

	check_ext(ext, "StorPortGetDeviceBase");
	(void)bus_type;
	(void)bus;
	for (int i = 0; i < 6; i++) {
		struct pci_bar *b = &sp.pci.bar[i];
		if (!b->size || (uint64_t)addr < b->phys || (uint64_t)addr - b->phys >= b->size ||
		    len > b->size - ((uint64_t)addr - b->phys))
			continue;
		if (in_io_space != b->io) {
			vh_log("StorPortGetDeviceBase(%#llx): InIoSpace=%u does not match BAR%d",
			       (unsigned long long)addr, in_io_space, i);
			return NULL;
		}
		/* For I/O ranges the "mapped" address is the port number. */
		if (b->io)
			return (void *)(uintptr_t)addr;
		va = io_lookup((uint64_t)addr, len);
		if (va)
			return va;
	}
	vh_log("StorPortGetDeviceBase(%#llx, %u): not in any BAR of %s", (unsigned long long)addr,
	       len, sp.pci.bdf);
	return NULL;
}

static void NTAPI sp_StorPortFreeDeviceBase(void *ext, void *base)
{
	(void)ext;
	(void)base;
}

static void *NTAPI sp_StorPortGetUncachedExtension(void *ext, sp_port_config *cfg, uint32_t len)
{
	uint64_t phys;

	check_ext(ext, "StorPortGetUncachedExtension");
	if (cfg != &sp.cfg)
		vh_fatal("StorPortGetUncachedExtension: not the adapter's PORT_CONFIGURATION_INFORMATION");
	if (!sp.in_find_or_init)
		vh_fatal("StorPortGetUncachedExtension outside HwFindAdapter");
	if (sp.uncached)
		return len <= sp.uncached_size ? sp.uncached : NULL;
	sp.uncached = dma_alloc(len, 4096, &phys);
	if (sp.uncached)
		sp.uncached_size = len;
	else
		vh_log("StorPortGetUncachedExtension(%u): DMA pool exhausted", len);
	return sp.uncached;
}

static int64_t NTAPI sp_StorPortGetPhysicalAddress(void *ext, sp_srb *srb, void *va, uint32_t *len)
{
	uint64_t phys;

	(void)srb;
	check_ext(ext, "StorPortGetPhysicalAddress");
	if (!dma_phys(va, &phys)) {
		vh_log("StorPortGetPhysicalAddress(%p): not DMA-able memory", va);
		if (len)
			*len = 0;
		return 0;
	}
	/* Pool allocations are physically contiguous to their end. */
	if (len) {
		size_t n = dma_contig(va);
		*len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	return (int64_t)phys;
}

static void *NTAPI sp_StorPortGetVirtualAddress(void *ext, int64_t phys)
{
	void *va;

	check_ext(ext, "StorPortGetVirtualAddress");
	return dma_virt((uint64_t)phys, &va) ? va : NULL;
}

static sp_sg_list *NTAPI sp_StorPortGetScatterGatherList(void *ext, sp_srb *srb)
{
	sp_sg_list *sg = NULL;
	uint8_t *p;
	uint32_t left, n = 0, max;
	int slot = -1;

	check_ext(ext, "StorPortGetScatterGatherList");
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].srb == srb && !sp.out[i].done)
			slot = i;
	pthread_mutex_unlock(&sp.mu);
	if (slot < 0)
		vh_fatal("StorPortGetScatterGatherList(%p): SRB not outstanding", (void *)srb);
	if (!srb->DataBuffer || !srb->DataTransferLength)
		return NULL;
	/* One element per 4 KiB page, as Windows typically builds them, so the
	 * miniport's multi-element path is always exercised. */
	max = srb->DataTransferLength / 4096 + 2;
	sg = calloc(1, sizeof(*sg) + max * sizeof(sg->List[0]));
	if (!sg)
		vh_fatal("out of memory");
	p = srb->DataBuffer;
	left = srb->DataTransferLength;
	while (left) {
		uint64_t phys;
		uint32_t chunk;
		if (!dma_phys(p, &phys))
			vh_fatal("SRB %p data buffer %p is not DMA memory", (void *)srb, (void *)p);
		chunk = (uint32_t)(4096 - (phys & 4095));
		if (chunk > left)
			chunk = left;
		sg->List[n].PhysicalAddress = (int64_t)phys;
		sg->List[n].Length = chunk;
		n++;
		p += chunk;
		left -= chunk;
	}
	sg->NumberOfElements = n;
	free(sp.out[slot].sg);
	sp.out[slot].sg = sg;
	return sg;
}

static void *NTAPI sp_StorPortGetLogicalUnit(void *ext, uint8_t path, uint8_t target, uint8_t lun)
{
	check_ext(ext, "StorPortGetLogicalUnit");
	return (path == 0 && target == 0 && lun == 0) ? sp.lu_ext : NULL;
}

/* ------------------------------------------------------------ register and port access */

#define REG_RW(name, type)                                                              \
	static type NTAPI sp_StorPortReadRegister##name(void *ext, type *reg)          \
	{                                                                               \
		(void)ext;                                                              \
		if (!io_contains(reg, sizeof(type)))                                    \
			vh_fatal("StorPortReadRegister" #name "(%p): not device memory", \
				 (void *)reg);                                          \
		return *(volatile type *)reg;                                           \
	}                                                                               \
	static void NTAPI sp_StorPortWriteRegister##name(void *ext, type *reg, type v)  \
	{                                                                               \
		(void)ext;                                                              \
		if (!io_contains(reg, sizeof(type)))                                    \
			vh_fatal("StorPortWriteRegister" #name "(%p): not device memory", \
				 (void *)reg);                                          \
		*(volatile type *)reg = v;                                              \
	}                                                                               \
	static void NTAPI sp_StorPortReadRegisterBuffer##name(void *ext, type *reg,     \
							      type *buf, uint32_t n)   \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			buf[i] = sp_StorPortReadRegister##name(ext, reg);               \
	}                                                                               \
	static void NTAPI sp_StorPortWriteRegisterBuffer##name(void *ext, type *reg,    \
							       type *buf, uint32_t n)  \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			sp_StorPortWriteRegister##name(ext, reg, buf[i]);               \
	}
REG_RW(Uchar, uint8_t)
REG_RW(Ushort, uint16_t)
REG_RW(Ulong, uint32_t)

/* Port I/O means the legacy transport is in use: reported by the disk test. */
static unsigned long port_accesses;

unsigned long sp_port_accesses(void)
{
	return __atomic_load_n(&port_accesses, __ATOMIC_RELAXED);
}

static uint16_t port_of(const void *p, unsigned size, const char *who)
{
	uintptr_t port = (uintptr_t)p;

	__atomic_add_fetch(&port_accesses, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 6; i++) {
		struct pci_bar *b = &sp.pci.bar[i];
		if (b->io && port >= b->phys && port - b->phys < b->size && size <= b->size - (port - b->phys))
			return (uint16_t)port;
	}
	vh_fatal("%s(%p): not an I/O port of the adapter", who, p);
}

#define PORT_RW(name, type, in, out)                                                    \
	static type NTAPI sp_StorPortReadPort##name(void *ext, type *port)              \
	{                                                                               \
		(void)ext;                                                              \
		return in(port_of(port, sizeof(type), "StorPortReadPort" #name));      \
	}                                                                               \
	static void NTAPI sp_StorPortWritePort##name(void *ext, type *port, type v)     \
	{                                                                               \
		(void)ext;                                                              \
		out(v, port_of(port, sizeof(type), "StorPortWritePort" #name));        \
	}                                                                               \
	static void NTAPI sp_StorPortReadPortBuffer##name(void *ext, type *port,        \
							  type *buf, uint32_t n)       \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			buf[i] = sp_StorPortReadPort##name(ext, port);                  \
	}                                                                               \
	static void NTAPI sp_StorPortWritePortBuffer##name(void *ext, type *port,       \
							   type *buf, uint32_t n)      \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			sp_StorPortWritePort##name(ext, port, buf[i]);                  \
	}
PORT_RW(Uchar, uint8_t, inb, outb)
PORT_RW(Ushort, uint16_t, inw, outw)
PORT_RW(Ulong, uint32_t, inl, outl)

/* ------------------------------------------------------------ misc */

static void NTAPI sp_StorPortStallExecution(uint32_t us)
{
	nt_KeStallExecutionProcessor(us);
}

static void NTAPI sp_StorPortMoveMemory(void *d, void *s, uint32_t n)
{
	memmove(d, s, n);
}

static void NTAPI sp_StorPortQuerySystemTime(int64_t *t)
{
	nt_KeQuerySystemTimePrecise(t);
}

static void NTAPI sp_StorPortDebugPrint(uint32_t level, const char *fmt, ...)
{
	__builtin_ms_va_list ap;
	char buf[1024];

	(void)level;
	__builtin_ms_va_start(ap, fmt);
	nt_format(buf, sizeof(buf), fmt, &ap);
	__builtin_ms_va_end(ap);
	fputs(buf, stderr);
}

static void NTAPI sp_StorPortLogError(void *ext, sp_srb *srb, uint8_t path, uint8_t target,
				      uint8_t lun, uint32_t code, uint32_t id)
{
	(void)ext;
	vh_log("StorPortLogError(srb %p, %u:%u:%u, error %#x, id %#x)", (void *)srb, path, target,
	       lun, code, id);
}

static void NTAPI sp_StorPortCompleteRequest(void *ext, uint8_t path, uint8_t target, uint8_t lun,
					     uint8_t status)
{
	check_ext(ext, "StorPortCompleteRequest");
	(void)path;
	(void)target;
	(void)lun;
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].srb && !sp.out[i].done) {
			sp.out[i].srb->SrbStatus = status;
			sp.out[i].done = true;
		}
	pthread_cond_broadcast(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
}

static int64_t NTAPI sp_StorPortConvertUlongToPhysicalAddress(uint64_t v)
{
	return (int64_t)(uint32_t)v;
}

static uint32_t NTAPI sp_StorPortConvertPhysicalAddressToUlong(int64_t v)
{
	return (uint32_t)v;
}

static uint8_t NTAPI sp_true1(void *ext) { (void)ext; return 1; }
static uint8_t NTAPI sp_true2(void *ext, uint32_t a) { (void)ext; (void)a; return 1; }
static uint8_t NTAPI sp_true_dev(void *ext, uint8_t p, uint8_t t, uint8_t l, uint32_t a)
{
	(void)ext; (void)p; (void)t; (void)l; (void)a;
	return 1;
}

static uint8_t NTAPI sp_StorPortSynchronizeAccess(void *ext, sp_hw_sync_routine *fn, void *ctx)
{
	nt_irql old;
	uint8_t r;

	check_ext(ext, "StorPortSynchronizeAccess");
	int_lock(&old);
	r = fn(ext, ctx);
	int_unlock(old);
	return r;
}

#define EXT_GET_MSI_INFO 13 /* ExtFunctionGetMessageInterruptInformation */

/* MESSAGE_INTERRUPT_INFORMATION, x64 */
struct sp_msi_info {
	uint32_t MessageId;
	uint32_t MessageData;
	int64_t MessageAddress;
	uint32_t InterruptVector;
	uint32_t InterruptLevel;
	uint32_t InterruptMode;
	uint32_t pad;
};
_Static_assert(offsetof(struct sp_msi_info, MessageAddress) == 8, "MESSAGE_INTERRUPT_INFORMATION.MessageAddress");
_Static_assert(offsetof(struct sp_msi_info, InterruptMode) == 24, "MESSAGE_INTERRUPT_INFORMATION.InterruptMode");

static uint32_t NTAPI sp_StorPortExtendedFunction(uint32_t code, void *ext, ...)
{
	__builtin_ms_va_list ap;
	uint32_t r = STOR_STATUS_NOT_IMPLEMENTED;

	check_ext(ext, "StorPortExtendedFunction");
	__builtin_ms_va_start(ap, ext);
	if (code == EXT_GET_MSI_INFO) {
		uint32_t id = __builtin_va_arg(ap, uint32_t);
		struct sp_msi_info *mi = __builtin_va_arg(ap, struct sp_msi_info *);
		if (!mi) {
			r = STOR_STATUS_INVALID_PARAMETER;
		} else if (!sp.msix || id >= sp.msi_count) {
			r = STOR_STATUS_UNSUCCESSFUL; /* line-based, or no such message */
		} else {
			memset(mi, 0, sizeof(*mi));
			mi->MessageId = id;
			mi->MessageData = 0x40 + id;          /* plausible, never used */
			mi->MessageAddress = 0xfee00000;
			mi->InterruptVector = 0x40 + id;
			mi->InterruptLevel = SP_DIRQL;
			mi->InterruptMode = 1;                /* Latched */
			r = STOR_STATUS_SUCCESS;
		}
	} else {
		vh_log("StorPortExtendedFunction(%u): not emulated", code);
	}
	__builtin_ms_va_end(ap);
	return r;
}

static uint8_t NTAPI sp_StorPortRegistryRead(void *ext, uint8_t *name, uint32_t global, uint32_t type,
					     uint8_t *buf, uint32_t *len)
{
	(void)ext; (void)name; (void)global; (void)type; (void)buf;
	if (len)
		*len = 0;
	return 0; /* no parameters configured: miniports fall back to defaults */
}

static uint8_t NTAPI sp_StorPortRegistryWrite(void *ext, uint8_t *name, uint32_t global,
					      uint32_t type, uint8_t *buf, uint32_t len)
{
	(void)ext; (void)name; (void)global; (void)type; (void)buf; (void)len;
	return 0;
}

static void *NTAPI sp_StorPortAllocateRegistryBuffer(void *ext, uint32_t *len)
{
	(void)ext;
	(void)len;
	return NULL;
}

static void NTAPI sp_StorPortFreeRegistryBuffer(void *ext, void *buf)
{
	(void)ext;
	(void)buf;
}

static uint8_t NTAPI sp_StorPortValidateRange(void *ext, uint32_t bus_type, uint32_t bus,
					      int64_t addr, uint32_t len, uint8_t io)
{
	(void)ext; (void)bus_type; (void)bus; (void)addr; (void)len; (void)io;
	return 1;
}

#define SP(name) { "storport.sys", #name, (void *)sp_##name }
#define SPX(name, fn) { "storport.sys", #name, (void *)fn }
#define SPRW(kind, w)                                                              \
	SP(StorPortRead##kind##w), SP(StorPortWrite##kind##w),                     \
	SP(StorPortRead##kind##Buffer##w), SP(StorPortWrite##kind##Buffer##w)

const struct nt_export sp_exports[] = {
	SP(StorPortInitialize), SP(StorPortNotification), SP(StorPortGetBusData),
	SP(StorPortSetBusDataByOffset), SP(StorPortGetDeviceBase), SP(StorPortFreeDeviceBase),
	SP(StorPortGetUncachedExtension), SP(StorPortGetPhysicalAddress),
	SP(StorPortGetVirtualAddress), SP(StorPortGetScatterGatherList), SP(StorPortGetLogicalUnit),
	SPRW(Register, Uchar), SPRW(Register, Ushort), SPRW(Register, Ulong),
	SPRW(Port, Uchar), SPRW(Port, Ushort), SPRW(Port, Ulong),
	SP(StorPortStallExecution), SP(StorPortMoveMemory), SP(StorPortQuerySystemTime),
	SP(StorPortDebugPrint), SP(StorPortLogError), SP(StorPortCompleteRequest),
	SP(StorPortConvertUlongToPhysicalAddress), SP(StorPortConvertPhysicalAddressToUlong),
	SP(StorPortSynchronizeAccess), SP(StorPortExtendedFunction), SP(StorPortRegistryRead),
	SP(StorPortRegistryWrite), SP(StorPortAllocateRegistryBuffer),
	SP(StorPortFreeRegistryBuffer), SP(StorPortValidateRange),
	SPX(StorPortReady, sp_true1), SPX(StorPortResume, sp_true1),
	SPX(StorPortBusy, sp_true2), SPX(StorPortPause, sp_true2),
	SPX(StorPortDeviceBusy, sp_true_dev), SPX(StorPortDeviceReady, sp_true_dev),
	SPX(StorPortPauseDevice, sp_true_dev), SPX(StorPortResumeDevice, sp_true_dev),
	SPX(StorPortSetDeviceQueueDepth, sp_true_dev),
	{ NULL, NULL, NULL },
};

/* ------------------------------------------------------------ adapter start */

#define STORM_LIMIT 100000

static void deliver_interrupt(void)
{
	static unsigned long unclaimed_run;
	nt_irql old;
	uint8_t mine;

	int_lock(&old);
	mine = sp.hw.HwInterrupt(sp.ext);
	int_unlock(old);
	__atomic_add_fetch(&sp.interrupts, 1, __ATOMIC_RELAXED);
	if (mine)
		__atomic_add_fetch(&sp.claimed, 1, __ATOMIC_RELAXED);
	/* A real level-triggered line that nobody acknowledges fires forever;
	 * Windows would flag an interrupt storm. Polling is exempt. */
	unclaimed_run = mine || !sp.uio ? 0 : unclaimed_run + 1;
	if (unclaimed_run > STORM_LIMIT)
		vh_fatal("interrupt storm: HwInterrupt returned FALSE %d times in a row on an "
			 "asserted INTx line", STORM_LIMIT);
}

/* One message: HwMSInterruptRoutine if the miniport gave one, else
 * HwInterrupt; all messages share the interrupt lock (the default
 * InterruptSupportNone synchronisation). */
static void deliver_message(uint32_t id)
{
	nt_irql old;
	uint8_t mine;

	int_lock(&old);
	if (sp.cfg.HwMSInterruptRoutine)
		mine = sp.cfg.HwMSInterruptRoutine(sp.ext, id);
	else
		mine = sp.hw.HwInterrupt(sp.ext);
	int_unlock(old);
	__atomic_add_fetch(&sp.interrupts, 1, __ATOMIC_RELAXED);
	if (mine)
		__atomic_add_fetch(&sp.claimed, 1, __ATOMIC_RELAXED);
}

static void *irq_main(void *arg)
{
	(void)arg;
	vh_set_irql(PASSIVE_LEVEL);
	while (!__atomic_load_n(&sp.stop, __ATOMIC_ACQUIRE)) {
		if (sp.msix) {
			int mask = pci_msix_wait(&sp.pci, 100);
			if (mask < 0)
				vh_fatal("waiting for MSI-X on vfio eventfds failed");
			for (uint32_t v = 0; v < sp.msi_count; v++)
				if (mask & (1 << v))
					deliver_message(v);
		} else if (sp.uio) {
			int r = pci_uio_wait(&sp.pci, 100);
			if (r < 0)
				vh_fatal("waiting for INTx on /dev/uio failed");
			if (r == 0)
				continue;
			deliver_interrupt();
			pci_intx_unmask(&sp.pci);
		} else {
			/* Polling: a shared INTx line makes spurious calls legal,
			 * so HwInterrupt must cope with them anyway. */
			usleep(200);
			deliver_interrupt();
		}
	}
	return NULL;
}

int sp_start_adapter(const char *pci_spec, const char *irq_mode)
{
	uint8_t again = 0, line = 0;
	uint32_t r, n = 0;
	uint64_t phys;
	nt_irql old;

	if (!sp.registered) {
		vh_log("no StorPort miniport registered");
		return -1;
	}
	sp.uio = irq_mode && !strcmp(irq_mode, "uio");
	sp.msix = irq_mode && !strcmp(irq_mode, "msix");
	if (pci_open(pci_spec, &sp.pci) || (sp.msix && pci_vfio_bind(&sp.pci)) ||
	    pci_enable(&sp.pci))
		return -1;
	if (sp.uio && pci_uio_bind(&sp.pci))
		return -1;
	pci_cfg_read(&sp.pci, 0x3c, &line, 1);

	for (int i = 0; i < 6 && n < sp.hw.NumberOfAccessRanges; i++) {
		if (!sp.pci.bar[i].size)
			continue;
		sp.ranges[n].RangeStart = (int64_t)sp.pci.bar[i].phys;
		sp.ranges[n].RangeLength = (uint32_t)sp.pci.bar[i].size;
		sp.ranges[n].RangeInMemory = sp.pci.bar[i].mem;
		n++;
	}
	memset(&sp.cfg, 0, sizeof(sp.cfg));
	sp.cfg.Length = sizeof(sp.cfg);
	sp.cfg.SystemIoBusNumber = sp.pci.bus;
	sp.cfg.AdapterInterfaceType = PCI_BUS_INTERFACE;
	sp.cfg.BusInterruptLevel = line;
	sp.cfg.BusInterruptVector = line;
	sp.cfg.InterruptMode = 0; /* LevelSensitive */
	sp.cfg.MaximumTransferLength = SP_UNINITIALIZED;
	sp.cfg.NumberOfPhysicalBreaks = SP_UNINITIALIZED;
	sp.cfg.DmaChannel = SP_UNINITIALIZED;
	sp.cfg.DmaPort = SP_UNINITIALIZED;
	sp.cfg.NumberOfAccessRanges = sp.hw.NumberOfAccessRanges;
	sp.cfg.AccessRanges = sp.ranges;
	sp.cfg.NumberOfBuses = 1;
	memset(sp.cfg.InitiatorBusId, 0xff, sizeof(sp.cfg.InitiatorBusId));
	sp.cfg.Master = 1;
	sp.cfg.MapBuffers = sp.hw.MapBuffers;
	sp.cfg.NeedPhysicalAddresses = 1;
	sp.cfg.TaggedQueuing = sp.hw.TaggedQueuing;
	sp.cfg.AutoRequestSense = sp.hw.AutoRequestSense;
	sp.cfg.MultipleRequestPerLu = sp.hw.MultipleRequestPerLu;
	sp.cfg.MaximumNumberOfTargets = 1;
	sp.cfg.SlotNumber = (uint32_t)(sp.pci.slot | sp.pci.func << 5);
	sp.cfg.DeviceExtensionSize = sp.hw.DeviceExtensionSize;
	sp.cfg.SpecificLuExtensionSize = sp.hw.SpecificLuExtensionSize;
	sp.cfg.SrbExtensionSize = sp.hw.SrbExtensionSize;
	sp.cfg.MaximumNumberOfLogicalUnits = 1;

	sp.ext = dma_alloc(sp.hw.DeviceExtensionSize ? sp.hw.DeviceExtensionSize : 16, 4096, &phys);
	if (sp.hw.SpecificLuExtensionSize)
		sp.lu_ext = dma_alloc(sp.hw.SpecificLuExtensionSize, 16, &phys);
	if (!sp.ext || (sp.hw.SpecificLuExtensionSize && !sp.lu_ext)) {
		vh_log("cannot allocate the device extension");
		return -1;
	}
	nt_KeInitializeTimer(&sp.timer);
	nt_KeInitializeDpc(&sp.timer_dpc, sp_timer_trampoline, NULL);

	sp.in_find_or_init = true;
	vh_set_irql(PASSIVE_LEVEL);
	r = sp.hw.HwFindAdapter(sp.ext, sp.hw_context, NULL, NULL, &sp.cfg, &again);
	if (r != SP_RETURN_FOUND) {
		vh_log("HwFindAdapter returned %u (SP_RETURN_FOUND is 1)", r);
		sp.in_find_or_init = false;
		return -1;
	}
	if (sp.cfg.AccessRanges != sp.ranges)
		vh_fatal("HwFindAdapter replaced ConfigInfo->AccessRanges");
	vh_log("HwFindAdapter: found; MaximumTransferLength %#x, NumberOfPhysicalBreaks %#x, "
	       "SynchronizationModel %u, Dma64 %u", sp.cfg.MaximumTransferLength,
	       sp.cfg.NumberOfPhysicalBreaks, sp.cfg.SynchronizationModel, sp.cfg.Dma64BitAddresses);

	if (sp.msix) {
		int n = pci_msix_enable(&sp.pci, 8);
		if (n <= 0) {
			vh_log("MSI-X could not be enabled");
			return -1;
		}
		sp.msi_count = (unsigned)n;
		vh_log("MSI-X: %u messages through vfio", sp.msi_count);
	}
	/* Interrupts are connected before HwInitialize runs, as in Windows. */
	sp.stop = false;
	sp.irq_thread = vh_thread_start("interrupt", VH_STACK_SIZE, irq_main, NULL);
	sp.started = true;
	int_lock(&old);
	r = sp.hw.HwInitialize(sp.ext);
	int_unlock(old);
	sp.in_find_or_init = false;
	if (!r) {
		vh_log("HwInitialize returned FALSE");
		return -1;
	}
	if (sp.passive) {
		vh_set_irql(PASSIVE_LEVEL);
		if (!sp.passive(sp.ext)) {
			vh_log("HwPassiveInitializeRoutine returned FALSE");
			return -1;
		}
	}
	return 0;
}

uint32_t sp_max_transfer(void)
{
	return sp.cfg.MaximumTransferLength;
}

unsigned long sp_interrupts(unsigned long *claimed)
{
	if (claimed)
		*claimed = __atomic_load_n(&sp.claimed, __ATOMIC_RELAXED);
	return __atomic_load_n(&sp.interrupts, __ATOMIC_RELAXED);
}

sp_srb *sp_alloc_srb(void)
{
	uint64_t phys;
	sp_srb *srb = dma_alloc(sizeof(*srb) + sp.hw.SrbExtensionSize, 64, &phys);

	if (!srb)
		return NULL;
	srb->Length = sizeof(*srb);
	if (sp.hw.SrbExtensionSize)
		srb->SrbExtension = srb + 1;
	return srb;
}

void sp_free_srb(sp_srb *srb)
{
	dma_free(srb);
}

void sp_submit(sp_srb *srb)
{
	int slot = -1;
	nt_irql old, old2 = 0;

	srb->SrbStatus = SRB_STATUS_PENDING;
	srb->Length = sizeof(*srb);
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING && slot < 0; i++)
		if (!sp.out[i].srb)
			slot = i;
	if (slot < 0)
		vh_fatal("too many outstanding SRBs");
	sp.out[slot] = (struct outstanding){ srb, false, NULL };
	pthread_mutex_unlock(&sp.mu);

	vh_set_irql(DISPATCH_LEVEL);
	if (!sp.hw.HwBuildIo || sp.hw.HwBuildIo(sp.ext, srb)) {
		startio_enter(&old, &old2);
		sp.hw.HwStartIo(sp.ext, srb);
		startio_leave(old, old2);
	} else {
		/* HwBuildIo returning FALSE means the miniport completed it. */
		pthread_mutex_lock(&sp.mu);
		if (!sp.out[slot].done)
			vh_fatal("HwBuildIo returned FALSE without completing SRB %p", (void *)srb);
		pthread_mutex_unlock(&sp.mu);
	}
	vh_set_irql(PASSIVE_LEVEL);
}

uint8_t sp_wait(sp_srb *srb, unsigned timeout_ms)
{
	struct timespec ts;
	int slot = -1;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING && slot < 0; i++)
		if (sp.out[i].srb == srb)
			slot = i;
	if (slot < 0)
		vh_fatal("sp_wait(%p): SRB was never submitted", (void *)srb);
	while (!sp.out[slot].done)
		if (pthread_cond_timedwait(&sp.cv, &sp.mu, &ts))
			break;
	done = sp.out[slot].done;
	free(sp.out[slot].sg);
	sp.out[slot] = (struct outstanding){ NULL, false, NULL };
	pthread_mutex_unlock(&sp.mu);
	if (!done)
		vh_fatal("SRB %p (function %#x, CDB %#x) not completed within %u ms", (void *)srb,
			 srb->Function, srb->Cdb[0], timeout_ms);
	return srb->SrbStatus;
}

uint8_t sp_execute(sp_srb *srb, unsigned timeout_ms)
{
	sp_submit(srb);
	return sp_wait(srb, timeout_ms);
}

void sp_stop_adapter(void)
{
	if (!sp.started)
		return;
	__atomic_store_n(&sp.stop, true, __ATOMIC_RELEASE);
	vh_thread_join(sp.irq_thread);
	nt_KeCancelTimer(&sp.timer);
	sp.started = false;
}
