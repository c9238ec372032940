/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The StorPort and kernel services vdpblk's glue imports, implemented for a
 * single-threaded user-mode test on top of the fake virtio device (see
 * test_blk_glue.h). Built with -D_NTOSKRNL_ -DSTORPORT_API= so the
 * definitions here satisfy the glue's declarations without import stubs.
 * Locks are counted, not taken; DPCs run when the test asks.
 */
#include "blk_drv.h"
#include "test_blk_glue.h"

#define HX_BAR_ADDR     0xfe000000u
#define HX_MAX_SG       96u

struct hx_req {
	SCSI_REQUEST_BLOCK srb;
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
	int lock_depth;
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

static struct hx_req *req_of(PSCSI_REQUEST_BLOCK srb)
{
	for (unsigned int i = 0; i < HX_MAX_REQS; i++)
		if (&hx.reqs[i].srb == srb)
			return &hx.reqs[i];
	return NULL;
}

VOID __cdecl StorPortNotification(SCSI_NOTIFICATION_TYPE type, PVOID ext, ...)
{
	va_list ap;

	if (ext != &hx_ext)
		__builtin_trap();
	va_start(ap, ext);
	switch ((int)type) {
	case RequestComplete: {
		struct hx_req *r = req_of(va_arg(ap, PSCSI_REQUEST_BLOCK));

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

		if (lock == DpcLock && !ctx)
			__builtin_trap();
		h->Lock = lock;
		hx.lock_depth++;
		break;
	}
	case ReleaseSpinLock:
		(void)va_arg(ap, PSTOR_LOCK_HANDLE);
		hx.lock_depth--;
		break;
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
	}
	va_end(ap);
	return rc;
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
	if (!r || !srb->DataBuffer)
		return NULL;
	p = srb->DataBuffer;
	left = srb->DataTransferLength;
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
	BOOLEAN again = FALSE;
	ULONG rc;

	__builtin_memset(&hx, 0, sizeof(hx));
	hx.f = f;
	hx.o = *o;
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
	if (!hx.hw.HwInitialize(&hx_ext))
		return -2;
	if (hx.passive && !hx.passive(&hx_ext))
		return -3;
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
	if (!hx.hw.HwBuildIo || hx.hw.HwBuildIo(&hx_ext, &r->srb))
		hx.hw.HwStartIo(&hx_ext, &r->srb);
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
	return hx.reqs[h].srb.SrbStatus;
}

uint8_t hx_scsi_status(int h)
{
	return hx.reqs[h].srb.ScsiStatus;
}

uint32_t hx_transferred(int h)
{
	return hx.reqs[h].srb.DataTransferLength;
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

		hx.npending--;
		__builtin_memmove(hx.pending, hx.pending + 1, hx.npending * sizeof(hx.pending[0]));
		((PHW_DPC_ROUTINE)dpc->Dpc.DeferredRoutine)(dpc, &hx_ext, NULL, NULL);
	}
}

bool hx_interrupt(uint32_t msi)
{
	BOOLEAN r = msi == UINT32_MAX ? hx.hw.HwInterrupt(&hx_ext) :
		    hx.cfg.HwMSInterruptRoutine(&hx_ext, msi);

	hx_run_dpcs();
	return r;
}

void hx_reset_bus(void)
{
	hx.hw.HwResetBus(&hx_ext, 0);
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
	return (uint32_t)hx.lock_depth;
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
