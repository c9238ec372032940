/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The StorPort and kernel services vdpblk's glue imports, implemented for a
 * single-threaded user-mode test on top of the fake virtio device (see
 * test_blk_glue.h). Built with -D_NTOSKRNL_ -DSTORPORT_API= so the
 * definitions here satisfy the glue's declarations without import stubs.
 *
 * Locks are not taken but tracked: StorPort's own (the interrupt lock around
 * HwInitialize and the ISRs; the StartIo lock around HwStartIo unless
 * concurrent channels were granted, and around HwResetBus, where StorPort
 * also holds every channel token) and the miniport's. An acquisition out
 * of StorPort's order DpcLock < StartIoLock < InterruptLock, of a lock
 * already held, or of DpcLocks out of address (queue index) order fails the
 * test through hx_lock_error(). DPCs run when the test asks, with no lock held.
 */
#include <stdio.h>

#include "blk_drv.h"
#include "test_blk_glue.h"

#define HX_BAR_ADDR     0xfe000000u
#define HX_MAX_SG       96u

struct hx_req {
	SCSI_REQUEST_BLOCK srb;
	/* STORAGE_REQUEST_BLOCK + BTL8 address + one CDB block, when ex is set. */
	union {
		STORAGE_REQUEST_BLOCK hdr;
		uint8_t raw[512];
	} exsrb;
	bool ex;
	struct vblk_srb_ext ext;
	bool used;
	unsigned int completions;
	uint8_t sense[32];
	union {
		STOR_SCATTER_GATHER_LIST list;
		uint8_t raw[sizeof(STOR_SCATTER_GATHER_LIST) +
			    HX_MAX_SG * sizeof(STOR_SCATTER_GATHER_ELEMENT)];
	} sg;
};

static struct {
	HW_INITIALIZATION_DATA hw;
	struct fake_virtio *f;
	hx_device_fn *device;
	struct hx_options o;
	PORT_CONFIGURATION_INFORMATION cfg;
	ACCESS_RANGE ranges[6];
	PHW_PASSIVE_INITIALIZE_ROUTINE passive;
	PSTOR_DPC pending[VBLK_MAX_QUEUES + 2];
	unsigned int npending;
	uint32_t cpu;
	uint32_t bus_changes;
	uint32_t lun_depth;
	struct {
		STOR_SPINLOCK type;
		PVOID ctx;
	} held[VBLK_MAX_QUEUES + 4];
	unsigned int nheld;
	unsigned int lock_errors;
	bool concurrent;                /* STOR_PERF_CONCURRENT_CHANNELS granted */
	uint32_t perf_set_version, perf_set_flags, perf_queries;
	uint32_t busy_calls, ready_calls;
	bool lun_busy;
	uint8_t regbuf[16];
	struct hx_req reqs[HX_MAX_REQS];
} hx;

static struct vblk_adapter hx_ext;

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver_object, PUNICODE_STRING registry_path);

/* ------------------------------------------------------------ kernel */
ULONG NTAPI KeQueryActiveProcessorCountEx(USHORT group)
{
	(void)group;
	return hx.o.cpus;
}

ULONG NTAPI KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER pn)
{
	if (pn) {
		pn->Group = 0;
		pn->Number = (UCHAR)hx.cpu;
		pn->Reserved = 0;
	}
	return hx.cpu;
}

/* ------------------------------------------------------------ StorPort */
ULONG NTAPI StorPortInitialize(PVOID a1, PVOID a2, struct _HW_INITIALIZATION_DATA *hw, PVOID ctx)
{
	(void)a1;
	(void)a2;
	(void)ctx;
	hx.hw = *hw;
	return 0;
}

static PVOID srb_ptr(struct hx_req *r)
{
	return r->ex ? (PVOID)&r->exsrb.hdr : (PVOID)&r->srb;
}

static struct hx_req *req_of(PVOID srb)
{
	for (unsigned int i = 0; i < HX_MAX_REQS; i++)
		if (hx.reqs[i].used && srb_ptr(&hx.reqs[i]) == srb)
			return &hx.reqs[i];
	return NULL;
}

/* ------------------------------------------------------------ lock order */
static int lock_rank(STOR_SPINLOCK type)
{
	switch (type) {
	case DpcLock:
		return 1;
	case StartIoLock:
		return 2;
	case InterruptLock:
		return 3;
	default:
		return 0;
	}
}

static const char *lock_name(STOR_SPINLOCK type)
{
	return type == DpcLock ? "DpcLock" : type == StartIoLock ? "StartIoLock" :
	       type == InterruptLock ? "InterruptLock" : "invalid lock";
}

static void lock_error(const char *what, STOR_SPINLOCK want, STOR_SPINLOCK held)
{
	static char msg[160];

	hx.lock_errors++;
	snprintf(msg, sizeof(msg), "%s: %s while holding %s", what, lock_name(want),
		 lock_name(held));
	hx_lock_error(msg);
}

static void lock_take(STOR_SPINLOCK type, PVOID ctx)
{
	unsigned int i;

	if (!lock_rank(type)) {
		lock_error("unknown lock type", type, type);
		return;
	}
	if ((type == DpcLock) != (ctx != NULL))
		lock_error("DpcLock needs its STOR_DPC, the others none", type, type);
	for (i = 0; i < hx.nheld; i++) {
		if (hx.held[i].type == type && hx.held[i].ctx == ctx)
			lock_error("lock already held (deadlock)", type, hx.held[i].type);
		else if (lock_rank(hx.held[i].type) > lock_rank(type))
			lock_error("out of StorPort's lock order", type, hx.held[i].type);
		else if (type == DpcLock && hx.held[i].type == DpcLock &&
			 (uintptr_t)hx.held[i].ctx > (uintptr_t)ctx)
			lock_error("DpcLocks out of queue order", type, hx.held[i].type);
	}
	if (hx.nheld < sizeof(hx.held) / sizeof(hx.held[0])) {
		hx.held[hx.nheld].type = type;
		hx.held[hx.nheld].ctx = ctx;
		hx.nheld++;
	}
}

static void lock_drop(STOR_SPINLOCK type, PVOID ctx)
{
	unsigned int i;

	for (i = hx.nheld; i-- > 0;) {
		if (hx.held[i].type == type && hx.held[i].ctx == ctx) {
			__builtin_memmove(&hx.held[i], &hx.held[i + 1],
					  (hx.nheld - i - 1) * sizeof(hx.held[0]));
			hx.nheld--;
			return;
		}
	}
	lock_error("release of a lock not held", type, type);
}

/* StorPort's StartIo lock around HwStartIo: only with <= 1 channel. */
static bool startio_locked(void)
{
	return !hx.concurrent;
}

VOID __cdecl StorPortNotification(SCSI_NOTIFICATION_TYPE type, PVOID ext, ...)
{
	va_list ap;

	if (ext != &hx_ext)
		__builtin_trap();
	va_start(ap, ext);
	switch ((int)type) {
	case RequestComplete: {
		struct hx_req *r = req_of(va_arg(ap, PVOID));

		if (r)
			r->completions++;
		break;
	}
	case BusChangeDetected:
		hx.bus_changes++;
		break;
	case EnablePassiveInitialization: {
		PHW_PASSIVE_INITIALIZE_ROUTINE fn = va_arg(ap, PHW_PASSIVE_INITIALIZE_ROUTINE);
		PLONG ok = va_arg(ap, PLONG);

		hx.passive = fn;
		*ok = TRUE;
		break;
	}
	case InitializeDpc: {
		PSTOR_DPC dpc = va_arg(ap, PSTOR_DPC);

		dpc->Dpc.DeferredRoutine = va_arg(ap, PVOID);
		break;
	}
	case IssueDpc: {
		PSTOR_DPC dpc = va_arg(ap, PSTOR_DPC);
		unsigned int i;

		(void)va_arg(ap, PVOID);
		(void)va_arg(ap, PVOID);
		for (i = 0; i < hx.npending && hx.pending[i] != dpc; i++)
			;
		if (i == hx.npending && hx.npending < VBLK_MAX_QUEUES + 2)
			hx.pending[hx.npending++] = dpc;
		*va_arg(ap, PLONG) = TRUE;
		break;
	}
	case AcquireSpinLock: {
		STOR_SPINLOCK lock = (STOR_SPINLOCK)va_arg(ap, int);
		PVOID ctx = va_arg(ap, PVOID);
		PSTOR_LOCK_HANDLE h = va_arg(ap, PSTOR_LOCK_HANDLE);

		lock_take(lock, ctx);
		h->Lock = lock;
		h->Context.LockQueue.Lock = ctx;
		break;
	}
	case ReleaseSpinLock: {
		PSTOR_LOCK_HANDLE h = va_arg(ap, PSTOR_LOCK_HANDLE);

		lock_drop(h->Lock, h->Context.LockQueue.Lock);
		break;
	}
	default:
		break;
	}
	va_end(ap);
}

ULONG __cdecl StorPortExtendedFunction(STORPORT_FUNCTION_CODE code, PVOID ext, ...)
{
	ULONG rc = STOR_STATUS_NOT_IMPLEMENTED;
	va_list ap;

	(void)ext;
	va_start(ap, ext);
	if (code == ExtFunctionGetMessageInterruptInformation) {
		ULONG id = va_arg(ap, ULONG);
		PMESSAGE_INTERRUPT_INFORMATION info = va_arg(ap, PMESSAGE_INTERRUPT_INFORMATION);

		rc = STOR_STATUS_UNSUCCESSFUL;
		if (id < hx.o.msi_count) {
			__builtin_memset(info, 0, sizeof(*info));
			info->MessageId = id;
			rc = STOR_STATUS_SUCCESS;
		}
	} else if (code == ExtFunctionInitializePerformanceOptimizations && hx.o.perf_flags) {
		BOOLEAN query = (BOOLEAN)va_arg(ap, int);
		PPERF_CONFIGURATION_DATA perf = va_arg(ap, PPERF_CONFIGURATION_DATA);

		/* A StorPort that knows versions up to perf_version; unknown ones fail. */
		rc = STOR_STATUS_UNSUCCESSFUL;
		if (perf && perf->Version >= 2 && perf->Version <= hx.o.perf_version &&
		    perf->Size >= sizeof(*perf)) {
			if (query) {
				hx.perf_queries++;
				perf->Flags = hx.o.perf_flags;
				rc = STOR_STATUS_SUCCESS;
			} else if (!(perf->Flags & ~hx.o.perf_flags) &&
				   (!(perf->Flags & STOR_PERF_INTERRUPT_MESSAGE_RANGES) ||
				    (perf->Flags & STOR_PERF_DPC_REDIRECTION))) {
				hx.perf_set_version = perf->Version;
				hx.perf_set_flags = perf->Flags;
				hx.concurrent = (perf->Flags & STOR_PERF_CONCURRENT_CHANNELS) &&
						perf->ConcurrentChannels > 1;
				rc = STOR_STATUS_SUCCESS;
			}
		}
	} else if (code == ExtFunctionGetStartIoPerformanceParameters && hx.perf_set_flags) {
		PVOID srb = va_arg(ap, PVOID);
		PSTARTIO_PERFORMANCE_PARAMETERS p = va_arg(ap, PSTARTIO_PERFORMANCE_PARAMETERS);

		(void)srb;
		rc = STOR_STATUS_INVALID_PARAMETER;
		if (p && p->Size >= sizeof(*p) && hx.o.msi_count > 1) {
			/* The message of the CPU the request came from. */
			p->MessageNumber = hx.cpu % (hx.o.msi_count - 1) + 1;
			p->ChannelNumber = hx.cpu;
			rc = STOR_STATUS_SUCCESS;
		}
	}
	va_end(ap);
	return rc;
}

BOOLEAN NTAPI StorPortDeviceBusy(PVOID ext, UCHAR path, UCHAR target, UCHAR lun, ULONG n)
{
	(void)ext;
	if (path || target || lun || !n)
		return FALSE;
	hx.busy_calls++;
	hx.lun_busy = true;
	return TRUE;
}

BOOLEAN NTAPI StorPortDeviceReady(PVOID ext, UCHAR path, UCHAR target, UCHAR lun)
{
	(void)ext;
	if (path || target || lun)
		return FALSE;
	hx.ready_calls++;
	hx.lun_busy = false;
	return TRUE;
}

ULONG NTAPI StorPortGetBusData(PVOID ext, ULONG type, ULONG bus, ULONG slot, PVOID buf, ULONG len)
{
	(void)ext;
	(void)type;
	(void)bus;
	(void)slot;
	if (len > sizeof(hx.f->cfg))
		len = sizeof(hx.f->cfg);
	__builtin_memcpy(buf, hx.f->cfg, len);
	return len;
}

PVOID NTAPI StorPortGetDeviceBase(PVOID ext, INTERFACE_TYPE bt, ULONG bus, STOR_PHYSICAL_ADDRESS addr,
				  ULONG len, BOOLEAN io)
{
	(void)ext;
	(void)bt;
	(void)bus;
	if (addr.QuadPart != HX_BAR_ADDR || io || len > FAKE_MMIO_LEN)
		return NULL;
	return (PVOID)FAKE_MMIO_BASE;
}

PVOID NTAPI StorPortGetUncachedExtension(PVOID ext, PPORT_CONFIGURATION_INFORMATION cfg, ULONG len)
{
	uint64_t bus;

	(void)ext;
	(void)cfg;
	return fake_dma_alloc(hx.f, len, &bus);
}

STOR_PHYSICAL_ADDRESS NTAPI StorPortGetPhysicalAddress(PVOID ext, PSCSI_REQUEST_BLOCK srb,
						       PVOID va, ULONG *len)
{
	STOR_PHYSICAL_ADDRESS pa;

	(void)ext;
	(void)srb;
	pa.QuadPart = (LONGLONG)fake_bus(hx.f, va);
	/* Page by page, like a port driver that does not know better. */
	if (len)
		*len = 4096u - (ULONG)(pa.QuadPart & 4095);
	return pa;
}

PSTOR_SCATTER_GATHER_LIST NTAPI StorPortGetScatterGatherList(PVOID ext, PSCSI_REQUEST_BLOCK srb)
{
	struct hx_req *r = req_of(srb);
	uint8_t *p;
	ULONG left, n = 0;

	(void)ext;
	if (!r || !SrbGetDataBuffer(srb))
		return NULL;
	p = SrbGetDataBuffer(srb);
	left = SrbGetDataTransferLength(srb);
	/* One element per page: the worst case for the descriptor count. */
	while (left && n < HX_MAX_SG) {
		ULONG chunk = 4096u - (ULONG)((uintptr_t)p & 4095);

		if (chunk > left)
			chunk = left;
		r->sg.list.List[n].PhysicalAddress.QuadPart = (LONGLONG)(uintptr_t)p;
		r->sg.list.List[n].Length = chunk;
		n++;
		p += chunk;
		left -= chunk;
	}
	r->sg.list.NumberOfElements = n;
	return &r->sg.list;
}

PUCHAR NTAPI StorPortAllocateRegistryBuffer(PVOID ext, PULONG len)
{
	(void)ext;
	if (*len > sizeof(hx.regbuf))
		return NULL;
	return hx.regbuf;
}

VOID NTAPI StorPortFreeRegistryBuffer(PVOID ext, PUCHAR buf)
{
	(void)ext;
	(void)buf;
}

BOOLEAN NTAPI StorPortRegistryRead(PVOID ext, PUCHAR name, ULONG global, ULONG type, PUCHAR buf,
				   PULONG len)
{
	ULONG v = 0;

	(void)ext;
	(void)global;
	if (type != MINIPORT_REG_DWORD || *len < sizeof(ULONG))
		return FALSE;
	if (!__builtin_strcmp((const char *)name, "MaxTransferSize"))
		v = hx.o.reg_max_transfer;
	else if (!__builtin_strcmp((const char *)name, "NumQueues"))
		v = hx.o.reg_queues;
	if (!v)
		return FALSE;
	__builtin_memcpy(buf, &v, sizeof(v));
	*len = sizeof(v);
	return TRUE;
}

BOOLEAN NTAPI StorPortSetDeviceQueueDepth(PVOID ext, UCHAR path, UCHAR target, UCHAR lun, ULONG depth)
{
	(void)ext;
	if (path || target || lun || !depth)
		return FALSE;
	hx.lun_depth = depth;
	return TRUE;
}

VOID NTAPI StorPortStallExecution(ULONG delay)
{
	(void)delay;
	/* Time passes: the device makes progress. */
	if (hx.device)
		hx.device(hx.f);
}

VOID __cdecl StorPortDebugPrint(ULONG level, PCCHAR fmt, ...)
{
	(void)level;
	(void)fmt;
}

#define HX_MMIO(name, type, w)                                                         \
	type NTAPI StorPortReadRegister##name(PVOID ext, type *reg)                      \
	{                                                                                \
		(void)ext;                                                               \
		return (type)hx.f->ops.mmio_read##w(hx.f, (uintptr_t)reg);               \
	}                                                                                \
	VOID NTAPI StorPortWriteRegister##name(PVOID ext, type *reg, type v)             \
	{                                                                                \
		(void)ext;                                                               \
		hx.f->ops.mmio_write##w(hx.f, (uintptr_t)reg, v);                        \
	}                                                                                \
	type NTAPI StorPortReadPort##name(PVOID ext, type *port)                         \
	{                                                                                \
		(void)ext;                                                               \
		return (type)hx.f->ops.io_read##w(hx.f, (uintptr_t)port);                \
	}                                                                                \
	VOID NTAPI StorPortWritePort##name(PVOID ext, type *port, type v)                \
	{                                                                                \
		(void)ext;                                                               \
		hx.f->ops.io_write##w(hx.f, (uintptr_t)port, v);                         \
	}
HX_MMIO(Uchar, UCHAR, 8)
HX_MMIO(Ushort, USHORT, 16)
HX_MMIO(Ulong, ULONG, 32)

/* ------------------------------------------------------------ harness */
int hx_start(struct fake_virtio *f, const struct hx_options *o, hx_device_fn *device)
{
	uint32_t bar = HX_BAR_ADDR;
	BOOLEAN again = FALSE, ok;
	ULONG rc;

	__builtin_memset(&hx, 0, sizeof(hx));
	hx.f = f;
	hx.o = *o;
	if (!hx.o.perf_version)
		hx.o.perf_version = 5;
	hx.device = device;
	__builtin_memcpy(f->cfg + 0x10 + 4 * FAKE_MMIO_BAR, &bar, 4);
	if (DriverEntry(NULL, NULL) != 0)
		return -1;
	hx.cfg.Length = sizeof(hx.cfg);
	hx.cfg.AdapterInterfaceType = PCIBus;
	hx.cfg.MaximumTransferLength = SP_UNINITIALIZED_VALUE;
	hx.cfg.NumberOfPhysicalBreaks = SP_UNINITIALIZED_VALUE;
	hx.cfg.NumberOfAccessRanges = 6;
	hx.cfg.AccessRanges = &hx.ranges;
	hx.ranges[0].RangeStart.QuadPart = HX_BAR_ADDR;
	hx.ranges[0].RangeLength = FAKE_MMIO_LEN;
	hx.ranges[0].RangeInMemory = TRUE;
	hx.cfg.DumpMode = o->dump ? DUMP_MODE_CRASH : 0;
	rc = hx.hw.HwFindAdapter(&hx_ext, NULL, NULL, NULL, &hx.cfg, &again);
	if (rc != SP_RETURN_FOUND)
		return (int)rc;
	lock_take(InterruptLock, NULL);         /* HwInitialize: physical miniport */
	ok = hx.hw.HwInitialize(&hx_ext);
	lock_drop(InterruptLock, NULL);
	if (!ok)
		return -2;
	if (hx.passive && !hx.passive(&hx_ext))
		return -3;
	hx_run_dpcs();
	return 1;
}

void hx_stop(void)
{
	__builtin_memset(&hx_ext, 0, sizeof(hx_ext));
}

static int new_req(uint8_t function)
{
	for (int i = 0; i < HX_MAX_REQS; i++) {
		struct hx_req *r = &hx.reqs[i];

		if (r->used)
			continue;
		__builtin_memset(r, 0, sizeof(*r));
		r->used = true;
		r->srb.Length = sizeof(r->srb);
		r->srb.Function = function;
		r->srb.SrbExtension = &r->ext;
		r->srb.SenseInfoBuffer = r->sense;
		r->srb.SenseInfoBufferLength = 18;
		return i;
	}
	return -1;
}

static void issue(struct hx_req *r)
{
	PVOID srb = srb_ptr(r);

	if (hx.nheld)
		hx_lock_error("a lock is still held between requests");
	if (!hx.hw.HwBuildIo || hx.hw.HwBuildIo(&hx_ext, srb)) {
		bool locked = startio_locked();

		if (locked)
			lock_take(StartIoLock, NULL);
		hx.hw.HwStartIo(&hx_ext, srb);
		if (locked)
			lock_drop(StartIoLock, NULL);
	}
}

/*
 * The same request as a STORAGE_REQUEST_BLOCK: BTL8 address at 0:0:lun,
 * then one SRBEX_DATA_SCSI_CDB16 (cdb_len <= 16) or CDB32 block.
 */
static void build_ex(struct hx_req *r, ULONG function, const uint8_t *cdb, unsigned int cdb_len,
		     uint8_t lun)
{
	PSTORAGE_REQUEST_BLOCK ex = &r->exsrb.hdr;
	ULONG addr_off = (FIELD_OFFSET(STORAGE_REQUEST_BLOCK, SrbExDataOffset) + sizeof(ULONG) + 7) &
			 ~7u;
	ULONG data_off = (addr_off + sizeof(STOR_ADDR_BTL8) + 7) & ~7u;
	PSTOR_ADDR_BTL8 a = (PSTOR_ADDR_BTL8)(r->exsrb.raw + addr_off);

	r->ex = true;
	ex->Length = sizeof(STORAGE_REQUEST_BLOCK_HEADER);
	ex->Function = SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
	ex->Signature = SRB_SIGNATURE;
	ex->Version = STORAGE_REQUEST_BLOCK_VERSION_1;
	ex->SrbFunction = function;
	ex->MiniportContext = &r->ext;
	ex->AddressOffset = addr_off;
	a->Type = STOR_ADDRESS_TYPE_BTL8;
	a->AddressLength = STOR_ADDR_BTL8_ADDRESS_LENGTH;
	a->Lun = lun;
	ex->SrbLength = data_off;
	if (!cdb)
		return;
	ex->NumSrbExData = 1;
	ex->SrbExDataOffset[0] = data_off;
	if (cdb_len <= 16) {
		PSRBEX_DATA_SCSI_CDB16 c = (PSRBEX_DATA_SCSI_CDB16)(r->exsrb.raw + data_off);

		c->Type = SrbExDataTypeScsiCdb16;
		c->Length = SRBEX_DATA_SCSI_CDB16_LENGTH;
		c->CdbLength = (UCHAR)cdb_len;
		c->SenseInfoBuffer = r->sense;
		c->SenseInfoBufferLength = 18;
		__builtin_memcpy(c->Cdb, cdb, cdb_len);
		ex->SrbLength = data_off + sizeof(*c);
	} else {
		PSRBEX_DATA_SCSI_CDB32 c = (PSRBEX_DATA_SCSI_CDB32)(r->exsrb.raw + data_off);

		c->Type = SrbExDataTypeScsiCdb32;
		c->Length = SRBEX_DATA_SCSI_CDB32_LENGTH;
		c->CdbLength = (UCHAR)cdb_len;
		c->SenseInfoBuffer = r->sense;
		c->SenseInfoBufferLength = 18;
		__builtin_memcpy(c->Cdb, cdb, cdb_len);
		ex->SrbLength = data_off + sizeof(*c);
	}
}

int hx_scsi_ex(const uint8_t *cdb, unsigned int cdb_len, void *buf, uint32_t len, bool data_in,
	       uint8_t lun)
{
	int h = new_req(SRB_FUNCTION_EXECUTE_SCSI);
	struct hx_req *r;

	if (h < 0 || cdb_len > 32)
		return -1;
	r = &hx.reqs[h];
	build_ex(r, SRB_FUNCTION_EXECUTE_SCSI, cdb, cdb_len, lun);
	r->exsrb.hdr.DataBuffer = buf;
	r->exsrb.hdr.DataTransferLength = len;
	r->exsrb.hdr.SrbFlags = len ? (data_in ? SRB_FLAGS_DATA_IN : SRB_FLAGS_DATA_OUT) : 0;
	issue(r);
	return h;
}

int hx_function_ex(uint8_t function)
{
	int h = new_req(function);

	if (h >= 0) {
		build_ex(&hx.reqs[h], function, NULL, 0, 0);
		issue(&hx.reqs[h]);
	}
	return h;
}

int hx_scsi(const uint8_t *cdb, unsigned int cdb_len, void *buf, uint32_t len, bool data_in)
{
	int h = new_req(SRB_FUNCTION_EXECUTE_SCSI);
	struct hx_req *r;

	if (h < 0 || cdb_len > 16)
		return -1;
	r = &hx.reqs[h];
	r->srb.CdbLength = (UCHAR)cdb_len;
	__builtin_memcpy(r->srb.Cdb, cdb, cdb_len);
	r->srb.DataBuffer = buf;
	r->srb.DataTransferLength = len;
	r->srb.SrbFlags = len ? (data_in ? SRB_FLAGS_DATA_IN : SRB_FLAGS_DATA_OUT) : 0;
	issue(r);
	return h;
}

int hx_function(uint8_t function)
{
	int h = new_req(function);

	if (h >= 0)
		issue(&hx.reqs[h]);
	return h;
}

bool hx_done(int h)
{
	return hx.reqs[h].completions > 0;
}

unsigned int hx_completions(int h)
{
	return hx.reqs[h].completions;
}

uint8_t hx_srb_status(int h)
{
	return SrbGetSrbStatus(srb_ptr(&hx.reqs[h]));
}

uint8_t hx_scsi_status(int h)
{
	struct hx_req *r = &hx.reqs[h];
	PSRBEX_DATA d;

	if (!r->ex)
		return r->srb.ScsiStatus;
	d = SrbGetSrbExDataByType(&r->exsrb.hdr, SrbExDataTypeScsiCdb16);
	if (d)
		return ((PSRBEX_DATA_SCSI_CDB16)d)->ScsiStatus;
	d = SrbGetSrbExDataByType(&r->exsrb.hdr, SrbExDataTypeScsiCdb32);
	return d ? ((PSRBEX_DATA_SCSI_CDB32)d)->ScsiStatus : 0xFF;
}

uint32_t hx_transferred(int h)
{
	return SrbGetDataTransferLength(srb_ptr(&hx.reqs[h]));
}

const uint8_t *hx_sense(int h)
{
	return hx.reqs[h].sense;
}

void hx_release(int h)
{
	hx.reqs[h].used = false;
}

void hx_set_cpu(uint32_t cpu)
{
	hx.cpu = cpu;
}

void hx_run_dpcs(void)
{
	while (hx.npending) {
		PSTOR_DPC dpc = hx.pending[0];

		/* StorPort calls HwStorDpcRoutine with no lock held. */
		if (hx.nheld)
			hx_lock_error("DPC would run with a lock held");
		hx.npending--;
		__builtin_memmove(hx.pending, hx.pending + 1, hx.npending * sizeof(hx.pending[0]));
		((PHW_DPC_ROUTINE)dpc->Dpc.DeferredRoutine)(dpc, &hx_ext, NULL, NULL);
	}
}

bool hx_interrupt(uint32_t msi)
{
	BOOLEAN r;

	lock_take(InterruptLock, NULL);
	r = msi == UINT32_MAX ? hx.hw.HwInterrupt(&hx_ext) : hx.cfg.HwMSInterruptRoutine(&hx_ext, msi);
	lock_drop(InterruptLock, NULL);
	hx_run_dpcs();
	return r;
}

void hx_reset_bus(void)
{
	/* Full duplex: StorPort holds the StartIo lock, whatever the channels. */
	lock_take(StartIoLock, NULL);
	hx.hw.HwResetBus(&hx_ext, 0);
	lock_drop(StartIoLock, NULL);
}

bool hx_adapter_control(int type)
{
	return hx.hw.HwAdapterControl(&hx_ext, (SCSI_ADAPTER_CONTROL_TYPE)type, NULL) ==
	       ScsiAdapterControlSuccess;
}

uint16_t hx_queues(void)
{
	return hx_ext.nq;
}

uint32_t hx_bus_changes(void)
{
	return hx.bus_changes;
}

uint32_t hx_lock_depth(void)
{
	return hx.nheld;
}

/* The checker itself: StartIo then a DpcLock, the pattern StorPort forbids. */
uint32_t hx_lock_selftest(void)
{
	STOR_DPC a, b;
	uint32_t before = hx.lock_errors, found;

	lock_take(StartIoLock, NULL);
	lock_take(DpcLock, &a);                         /* out of order */
	lock_drop(DpcLock, &a);
	lock_drop(StartIoLock, NULL);
	lock_take(DpcLock, &a < &b ? &b : &a);
	lock_take(DpcLock, &a < &b ? &a : &b);          /* DpcLocks against queue order */
	lock_take(InterruptLock, NULL);
	lock_take(InterruptLock, NULL);                 /* recursive */
	hx.nheld = 0;
	found = hx.lock_errors - before;
	hx.lock_errors = before;
	return found;
}

uint32_t hx_lock_errors(void)
{
	return hx.lock_errors;
}

bool hx_concurrent(void)
{
	return hx.concurrent;
}

uint32_t hx_perf_set_flags(void)
{
	return hx.perf_set_flags;
}

uint32_t hx_perf_set_version(void)
{
	return hx.perf_set_version;
}

uint32_t hx_busy_calls(void)
{
	return hx.busy_calls;
}

uint32_t hx_ready_calls(void)
{
	return hx.ready_calls;
}

bool hx_lun_busy(void)
{
	return hx.lun_busy;
}

uint32_t hx_serial(char *buf, uint32_t size)
{
	uint32_t n = hx_ext.disk.serial_length;

	if (n >= size)
		n = size - 1;
	__builtin_memcpy(buf, hx_ext.disk.serial, n);
	buf[n] = '\0';
	return hx_ext.disk.serial_length;
}

/* A writer stuck mid-update: readers must give up, not spin forever. */
void hx_disk_seq_hold(bool hold)
{
	if (hold)
		vblk_seq_write_begin(&hx_ext.disk_seq);
	else
		vblk_seq_write_end(&hx_ext.disk_seq);
}

uint32_t hx_max_transfer(void)
{
	return hx.cfg.MaximumTransferLength;
}

uint32_t hx_lun_depth(void)
{
	return hx.lun_depth;
}

uint32_t hx_max_io(void)
{
	return hx.cfg.MaxNumberOfIO;
}
