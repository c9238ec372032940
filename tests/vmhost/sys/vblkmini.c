/* A deliberately small virtio-blk StorPort miniport used to test the test
 * host's StorPort emulation end to end (not the product driver, which is
 * src/blk). Modern virtio PCI transport only, one split virtqueue, INTx:
 * the ISR acknowledges and queues a DPC, the DPC harvests the used ring
 * under the StartIo lock. Facts from OASIS virtio 1.2 (sections 4.1.4
 * capabilities, 4.1.4.3 common config, 2.7 split virtqueues, 5.2 block).
 * With MSI-X (message 0 for the queue), HwMSInterruptRoutine replaces the
 * ISR read. */
#include <storport.h>

#define VM_QMAX          128u
#define VM_MAX_XFER      (64u * 1024)
#define VM_MAX_SEGS      (VM_MAX_XFER / 4096 + 1)
#define VM_SECTOR        512u

/* virtio PCI capability (cap id 0x09) */
#define VM_CAP_COMMON 1
#define VM_CAP_NOTIFY 2
#define VM_CAP_ISR    3
#define VM_CAP_DEVICE 4

/* common configuration offsets */
#define VM_DFSELECT   0x00
#define VM_DF         0x04
#define VM_GFSELECT   0x08
#define VM_GF         0x0c
#define VM_MSIXCONFIG 0x10
#define VM_STATUS     0x14
#define VM_QSELECT    0x16
#define VM_QSIZE      0x18
#define VM_QMSIX      0x1a
#define VM_QENABLE    0x1c
#define VM_QNOTIFYOFF 0x1e
#define VM_QDESC      0x20
#define VM_QAVAIL     0x28
#define VM_QUSED      0x30

#define VM_NO_VECTOR     0xffff

#define VM_S_ACK         1
#define VM_S_DRIVER      2
#define VM_S_DRIVER_OK   4
#define VM_S_FEATURES_OK 8
#define VM_S_FAILED      0x80

#define VM_F_BLK_FLUSH       9
#define VM_F_VERSION_1       32
#define VM_F_ACCESS_PLATFORM 33

#define VM_T_IN    0
#define VM_T_OUT   1
#define VM_T_FLUSH 4

#define VM_DESC_NEXT  1
#define VM_DESC_WRITE 2

#pragma pack(push, 1)
struct vm_desc {
	ULONGLONG addr;
	ULONG len;
	USHORT flags;
	USHORT next;
};
#pragma pack(pop)
_Static_assert(sizeof(struct vm_desc) == 16, "virtq_desc is 16 bytes");

struct vm_req {
	ULONG type;
	ULONG reserved;
	ULONGLONG sector;
	UCHAR status;
};

struct vm_adapter {
	PUCHAR common, notify, isr, devcfg;
	ULONG notify_mult;
	USHORT qsize, notify_off;
	volatile struct vm_desc *desc;
	volatile USHORT *avail; /* flags, idx, ring[qsize] */
	volatile USHORT *used;  /* flags, idx, then {ULONG id; ULONG len}[qsize] */
	USHORT free_head, num_free, last_used, avail_idx;
	USHORT next_free[VM_QMAX];
	PSCSI_REQUEST_BLOCK srb_of[VM_QMAX];
	ULONGLONG capacity;
	BOOLEAN flush;
	BOOLEAN msix;
	BOOLEAN passive_done;
	STOR_DPC dpc;
	PSCSI_REQUEST_BLOCK timer_srb; /* TEST UNIT READY completes from HwTimer */
};

DRIVER_INITIALIZE DriverEntry;

/* Half-duplex synchronisation when the service name ends in "hd", so both
 * StorPort locking models get exercised by the same driver. */
static BOOLEAN vm_half_duplex;

static ULONG vm_rd32(struct vm_adapter *a, PUCHAR base, ULONG off)
{
	return StorPortReadRegisterUlong(a, (PULONG)(base + off));
}

static void vm_wr32(struct vm_adapter *a, PUCHAR base, ULONG off, ULONG v)
{
	StorPortWriteRegisterUlong(a, (PULONG)(base + off), v);
}

static void vm_wr16(struct vm_adapter *a, PUCHAR base, ULONG off, USHORT v)
{
	StorPortWriteRegisterUshort(a, (PUSHORT)(base + off), v);
}

static USHORT vm_rd16(struct vm_adapter *a, PUCHAR base, ULONG off)
{
	return StorPortReadRegisterUshort(a, (PUSHORT)(base + off));
}

static void vm_wr64(struct vm_adapter *a, PUCHAR base, ULONG off, ULONGLONG v)
{
	vm_wr32(a, base, off, (ULONG)v);
	vm_wr32(a, base, off + 4, (ULONG)(v >> 32));
}

/* Map the region a virtio capability describes, checked against the
 * access range of its BAR. */
static PUCHAR vm_map_cap(struct vm_adapter *a, PPORT_CONFIGURATION_INFORMATION cfg,
			 const UCHAR *pci, UCHAR cap)
{
	UCHAR bar = pci[cap + 4];
	ULONG off, len, lo;
	ULONGLONG base;

	if (bar > 5)
		return NULL;
	off = *(const ULONG *)(pci + cap + 8);
	len = *(const ULONG *)(pci + cap + 12);
	lo = *(const ULONG *)(pci + 0x10 + 4 * bar);
	if (lo & 1)
		return NULL; /* I/O BAR: modern virtio regions live in memory */
	base = lo & ~0xfULL;
	if ((lo & 6) == 4 && bar < 5)
		base |= (ULONGLONG)*(const ULONG *)(pci + 0x14 + 4 * bar) << 32;
	for (ULONG i = 0; i < cfg->NumberOfAccessRanges; i++) {
		ACCESS_RANGE *r = &(*cfg->AccessRanges)[i];
		if ((ULONGLONG)r->RangeStart.QuadPart != base || !r->RangeInMemory)
			continue;
		if (off > r->RangeLength || len > r->RangeLength - off || len == 0)
			return NULL;
		PUCHAR va = StorPortGetDeviceBase(a, PCIBus, cfg->SystemIoBusNumber, r->RangeStart,
						  r->RangeLength, FALSE);
		return va ? va + off : NULL;
	}
	return NULL;
}

static BOOLEAN NTAPI vm_msi(PVOID ext, ULONG id);

static ULONG NTAPI vm_find_adapter(PVOID ext, PVOID ctx, PVOID bus, PCHAR args,
				   PPORT_CONFIGURATION_INFORMATION cfg, PBOOLEAN again)
{
	struct vm_adapter *a = ext;
	UCHAR pci[256];
	ULONG n, guard = 0;
	UCHAR cap;
	PUCHAR mem;
	STOR_PHYSICAL_ADDRESS pa;
	ULONG len;

	(void)ctx;
	(void)bus;
	(void)args;
	*again = FALSE;
	n = StorPortGetBusData(a, PCIConfiguration, cfg->SystemIoBusNumber, cfg->SlotNumber, pci,
			       sizeof(pci));
	if (n < 0x40 || *(USHORT *)pci != 0x1af4 || *(USHORT *)(pci + 2) != 0x1042) {
		DbgPrint("vblkmini: not a modern virtio-blk device\n");
		return SP_RETURN_NOT_FOUND;
	}
	if (!(pci[6] & 0x10))
		return SP_RETURN_BAD_CONFIG; /* no capability list */
	for (cap = pci[0x34] & 0xfc; cap && guard++ < 48; cap = pci[cap + 1] & 0xfc) {
		if (cap < 0x40 || cap > 256 - 20)
			return SP_RETURN_BAD_CONFIG;
		if (pci[cap] != 0x09)
			continue;
		switch (pci[cap + 3]) {
		case VM_CAP_COMMON:
			if (!a->common)
				a->common = vm_map_cap(a, cfg, pci, cap);
			break;
		case VM_CAP_NOTIFY:
			if (!a->notify) {
				a->notify = vm_map_cap(a, cfg, pci, cap);
				a->notify_mult = *(ULONG *)(pci + cap + 16);
			}
			break;
		case VM_CAP_ISR:
			if (!a->isr)
				a->isr = vm_map_cap(a, cfg, pci, cap);
			break;
		case VM_CAP_DEVICE:
			if (!a->devcfg)
				a->devcfg = vm_map_cap(a, cfg, pci, cap);
			break;
		}
	}
	if (!a->common || !a->notify || !a->isr || !a->devcfg) {
		DbgPrint("vblkmini: virtio capabilities missing\n");
		return SP_RETURN_BAD_CONFIG;
	}

	cfg->MaximumTransferLength = VM_MAX_XFER;
	cfg->NumberOfPhysicalBreaks = VM_MAX_SEGS;
	cfg->ScatterGather = TRUE;
	cfg->Master = TRUE;
	cfg->CachesData = TRUE;
	cfg->Dma64BitAddresses = SCSI_DMA64_MINIPORT_SUPPORTED;
	cfg->SynchronizationModel = vm_half_duplex ? StorSynchronizeHalfDuplex : StorSynchronizeFullDuplex;
	cfg->NumberOfBuses = 1;
	cfg->MaximumNumberOfTargets = 1;
	cfg->MaximumNumberOfLogicalUnits = 1;
	cfg->HwMSInterruptRoutine = vm_msi;

	/* desc (16*Q) + avail (4+2Q) in the first page, used ring in the second. */
	mem = StorPortGetUncachedExtension(a, cfg, 2 * 4096);
	if (!mem)
		return SP_RETURN_ERROR;
	pa = StorPortGetPhysicalAddress(a, NULL, mem, &len);
	if (!pa.QuadPart || (pa.QuadPart & 4095))
		return SP_RETURN_ERROR;
	a->desc = (volatile struct vm_desc *)mem;
	a->avail = (volatile USHORT *)(mem + 16 * VM_QMAX);
	a->used = (volatile USHORT *)(mem + 4096);
	return SP_RETURN_FOUND;
}

static ULONGLONG vm_pa(struct vm_adapter *a, PVOID va)
{
	ULONG len;
	return (ULONGLONG)StorPortGetPhysicalAddress(a, NULL, va, &len).QuadPart;
}

static BOOLEAN NTAPI vm_passive_init(PVOID ext)
{
	struct vm_adapter *a = ext;

	a->passive_done = KeGetCurrentIrql() == PASSIVE_LEVEL;
	return a->passive_done;
}

static VOID NTAPI vm_dpc(PSTOR_DPC dpc, PVOID ext, PVOID a1, PVOID a2);

static BOOLEAN NTAPI vm_initialize(PVOID ext)
{
	struct vm_adapter *a = ext;
	ULONG f_lo, f_hi, want_hi;
	USHORT qs;

	StorPortInitializeDpc(a, &a->dpc, vm_dpc);
	/* device_status is one byte; its neighbours are other fields. */
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS, 0);
	for (int i = 0; i < 1000 && StorPortReadRegisterUchar(a, a->common + VM_STATUS); i++)
		StorPortStallExecution(10);
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS, VM_S_ACK);
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS, VM_S_ACK | VM_S_DRIVER);
	vm_wr32(a, a->common, VM_DFSELECT, 0);
	f_lo = vm_rd32(a, a->common, VM_DF);
	vm_wr32(a, a->common, VM_DFSELECT, 1);
	f_hi = vm_rd32(a, a->common, VM_DF);
	if (!(f_hi & (1u << (VM_F_VERSION_1 - 32))))
		goto fail;
	want_hi = (1u << (VM_F_VERSION_1 - 32)) | (f_hi & (1u << (VM_F_ACCESS_PLATFORM - 32)));
	a->flush = (f_lo >> VM_F_BLK_FLUSH) & 1;
	vm_wr32(a, a->common, VM_GFSELECT, 0);
	vm_wr32(a, a->common, VM_GF, f_lo & (1u << VM_F_BLK_FLUSH));
	vm_wr32(a, a->common, VM_GFSELECT, 1);
	vm_wr32(a, a->common, VM_GF, want_hi);
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS, VM_S_ACK | VM_S_DRIVER | VM_S_FEATURES_OK);
	if (!(StorPortReadRegisterUchar(a, a->common + VM_STATUS) & VM_S_FEATURES_OK))
		goto fail;

	a->capacity = (ULONGLONG)vm_rd32(a, a->devcfg, 0) |
		      (ULONGLONG)vm_rd32(a, a->devcfg, 4) << 32;
	vm_wr16(a, a->common, VM_QSELECT, 0);
	qs = vm_rd16(a, a->common, VM_QSIZE);
	if (qs == 0)
		goto fail;
	if (qs > VM_QMAX)
		qs = VM_QMAX;
	while (qs & (qs - 1)) /* split rings need a power of two */
		qs &= (USHORT)(qs - 1);
	if (qs < 4)
		goto fail;
	a->qsize = qs;
	vm_wr16(a, a->common, VM_QSIZE, qs);
	{
		MESSAGE_INTERRUPT_INFORMATION mi;
		/* MSI-X only if the port granted messages; INTx otherwise. */
		a->msix = StorPortExtendedFunction(ExtFunctionGetMessageInterruptInformation, a, 0UL,
						   &mi) == STOR_STATUS_SUCCESS;
		vm_wr16(a, a->common, VM_MSIXCONFIG, VM_NO_VECTOR);
		vm_wr16(a, a->common, VM_QMSIX, a->msix ? 0 : VM_NO_VECTOR);
		if (a->msix && vm_rd16(a, a->common, VM_QMSIX) != 0)
			goto fail; /* the device could not allocate the vector */
	}
	a->notify_off = vm_rd16(a, a->common, VM_QNOTIFYOFF);
	vm_wr64(a, a->common, VM_QDESC, vm_pa(a, (PVOID)a->desc));
	vm_wr64(a, a->common, VM_QAVAIL, vm_pa(a, (PVOID)a->avail));
	vm_wr64(a, a->common, VM_QUSED, vm_pa(a, (PVOID)a->used));
	vm_wr16(a, a->common, VM_QENABLE, 1);
	for (USHORT i = 0; i < qs; i++)
		a->next_free[i] = (USHORT)(i + 1);
	a->free_head = 0;
	a->num_free = qs;
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS,
				   VM_S_ACK | VM_S_DRIVER | VM_S_FEATURES_OK | VM_S_DRIVER_OK);
	DbgPrint("vblkmini: %I64u sectors, queue %u, flush %u, %s\n", a->capacity, qs, a->flush,
		 a->msix ? "MSI-X" : "INTx");
	return StorPortEnablePassiveInitialization(a, vm_passive_init);
fail:
	StorPortWriteRegisterUchar(a, a->common + VM_STATUS, VM_S_FAILED);
	DbgPrint("vblkmini: device initialisation failed\n");
	return FALSE;
}

static void vm_complete(struct vm_adapter *a, PSCSI_REQUEST_BLOCK srb, UCHAR status)
{
	srb->SrbStatus = status;
	StorPortNotification(RequestComplete, a, srb);
}

/* Queue hdr + data segments + status as one chain. StartIo lock held. */
static BOOLEAN vm_submit(struct vm_adapter *a, PSCSI_REQUEST_BLOCK srb, ULONG type,
			 ULONGLONG sector)
{
	struct vm_req *req = srb->SrbExtension;
	PSTOR_SCATTER_GATHER_LIST sg = NULL;
	ULONG nseg = 0, need;
	USHORT head, d, prev = 0;

	if (type != VM_T_FLUSH) {
		sg = StorPortGetScatterGatherList(a, srb);
		if (!sg || sg->NumberOfElements == 0 || sg->NumberOfElements > VM_MAX_SEGS)
			return FALSE;
		nseg = sg->NumberOfElements;
	}
	need = nseg + 2;
	if (need > a->num_free)
		return FALSE;
	req->type = type;
	req->reserved = 0;
	req->sector = sector;
	req->status = 0xff;

	head = d = a->free_head;
	for (ULONG i = 0; i < need; i++) {
		volatile struct vm_desc *e = &a->desc[d];
		if (i == 0) {
			e->addr = vm_pa(a, req);
			e->len = 16;
			e->flags = VM_DESC_NEXT;
		} else if (i == need - 1) {
			e->addr = vm_pa(a, &req->status);
			e->len = 1;
			e->flags = VM_DESC_WRITE;
		} else {
			e->addr = (ULONGLONG)sg->List[i - 1].PhysicalAddress.QuadPart;
			e->len = sg->List[i - 1].Length;
			e->flags = VM_DESC_NEXT | (type == VM_T_IN ? VM_DESC_WRITE : 0);
		}
		prev = d;
		d = a->next_free[d];
	}
	a->desc[prev].next = 0;
	a->free_head = d;
	a->num_free = (USHORT)(a->num_free - need);
	/* Chain links follow the free list order. */
	d = head;
	for (ULONG i = 0; i + 1 < need; i++) {
		a->desc[d].next = a->next_free[d];
		d = a->next_free[d];
	}
	a->srb_of[head] = srb;
	a->avail[2 + (a->avail_idx % a->qsize)] = head;
	__sync_synchronize();
	a->avail_idx++;
	a->avail[1] = a->avail_idx;
	__sync_synchronize();
	vm_wr16(a, a->notify, a->notify_off * a->notify_mult, 0);
	return TRUE;
}

static ULONG vm_be32(const UCHAR *p)
{
	return (ULONG)p[0] << 24 | (ULONG)p[1] << 16 | (ULONG)p[2] << 8 | p[3];
}

static void vm_put_be32(UCHAR *p, ULONG v)
{
	p[0] = (UCHAR)(v >> 24);
	p[1] = (UCHAR)(v >> 16);
	p[2] = (UCHAR)(v >> 8);
	p[3] = (UCHAR)v;
}

static VOID NTAPI vm_timer(PVOID ext)
{
	struct vm_adapter *a = ext;
	PSCSI_REQUEST_BLOCK srb = a->timer_srb;

	a->timer_srb = NULL;
	if (srb)
		vm_complete(a, srb, a->passive_done ? SRB_STATUS_SUCCESS : SRB_STATUS_ERROR);
}

static BOOLEAN NTAPI vm_startio(PVOID ext, PSCSI_REQUEST_BLOCK srb)
{
	struct vm_adapter *a = ext;
	UCHAR *cdb = srb->Cdb, *buf = srb->DataBuffer;
	ULONGLONG lba;
	ULONG count;

	if (srb->Function != SRB_FUNCTION_EXECUTE_SCSI || srb->PathId || srb->TargetId || srb->Lun) {
		vm_complete(a, srb, srb->Function == SRB_FUNCTION_EXECUTE_SCSI ?
				    SRB_STATUS_NO_DEVICE : SRB_STATUS_INVALID_REQUEST);
		return TRUE;
	}
	switch (cdb[0]) {
	case SCSIOP_TEST_UNIT_READY:
		/* Completed 1 ms later from the timer callback, to exercise
		 * RequestTimerCall; ready only once passive init has run. */
		if (a->timer_srb) {
			vm_complete(a, srb, SRB_STATUS_BUSY);
			return TRUE;
		}
		a->timer_srb = srb;
		StorPortNotification(RequestTimerCall, a, vm_timer, 1000UL);
		return TRUE;
	case SCSIOP_INQUIRY:
		if (!buf || srb->DataTransferLength < 36 || (cdb[1] & 1)) {
			vm_complete(a, srb, SRB_STATUS_INVALID_REQUEST);
			return TRUE;
		}
		RtlZeroMemory(buf, 36);
		buf[2] = 5; /* SPC-3 */
		buf[3] = 2;
		buf[4] = 31;
		RtlCopyMemory(buf + 8, "OpenVDP ", 8);
		RtlCopyMemory(buf + 16, "vmhost vblkmini ", 16);
		RtlCopyMemory(buf + 32, "0001", 4);
		vm_complete(a, srb, SRB_STATUS_SUCCESS);
		return TRUE;
	case SCSIOP_READ_CAPACITY:
		if (!buf || srb->DataTransferLength < 8) {
			vm_complete(a, srb, SRB_STATUS_INVALID_REQUEST);
			return TRUE;
		}
		vm_put_be32(buf, a->capacity - 1 > 0xffffffffULL ? 0xffffffff : (ULONG)(a->capacity - 1));
		vm_put_be32(buf + 4, VM_SECTOR);
		vm_complete(a, srb, SRB_STATUS_SUCCESS);
		return TRUE;
	case SCSIOP_READ:
	case SCSIOP_WRITE:
		lba = vm_be32(cdb + 2);
		count = (ULONG)cdb[7] << 8 | cdb[8];
		if (lba + count > a->capacity || count * VM_SECTOR != srb->DataTransferLength ||
		    count == 0) {
			vm_complete(a, srb, SRB_STATUS_ERROR);
			return TRUE;
		}
		if (!vm_submit(a, srb, cdb[0] == SCSIOP_READ ? VM_T_IN : VM_T_OUT, lba))
			vm_complete(a, srb, SRB_STATUS_BUSY);
		return TRUE;
	case SCSIOP_SYNCHRONIZE_CACHE:
		if (!a->flush)
			vm_complete(a, srb, SRB_STATUS_SUCCESS);
		else if (!vm_submit(a, srb, VM_T_FLUSH, 0))
			vm_complete(a, srb, SRB_STATUS_BUSY);
		return TRUE;
	default:
		vm_complete(a, srb, SRB_STATUS_INVALID_REQUEST);
		return TRUE;
	}
}

static BOOLEAN NTAPI vm_interrupt(PVOID ext)
{
	struct vm_adapter *a = ext;
	UCHAR isr = StorPortReadRegisterUchar(a, a->isr); /* reading acknowledges */

	if (!(isr & 1))
		return FALSE;
	StorPortIssueDpc(a, &a->dpc, NULL, NULL);
	return TRUE;
}

static BOOLEAN NTAPI vm_msi(PVOID ext, ULONG id)
{
	struct vm_adapter *a = ext;

	if (!a->msix)
		return vm_interrupt(ext);
	if (id != 0)
		return FALSE;
	StorPortIssueDpc(a, &a->dpc, NULL, NULL);
	return TRUE;
}

static VOID NTAPI vm_dpc(PSTOR_DPC dpc, PVOID ext, PVOID a1, PVOID a2)
{
	struct vm_adapter *a = ext;
	STOR_LOCK_HANDLE lh;

	(void)dpc;
	(void)a1;
	(void)a2;
	StorPortAcquireSpinLock(a, StartIoLock, NULL, &lh);
	for (;;) {
		volatile ULONG *elem;
		PSCSI_REQUEST_BLOCK srb;
		struct vm_req *req;
		USHORT id, d, n = 1;

		__sync_synchronize();
		if (a->last_used == a->used[1])
			break;
		elem = (volatile ULONG *)(a->used + 2) + 2 * (a->last_used % a->qsize);
		a->last_used++;
		/* The id comes from the device: check it before use. */
		if (elem[0] >= a->qsize || !a->srb_of[elem[0]]) {
			DbgPrint("vblkmini: bad used id %u\n", elem[0]);
			continue;
		}
		id = (USHORT)elem[0];
		srb = a->srb_of[id];
		a->srb_of[id] = NULL;
		for (d = id; (a->desc[d].flags & VM_DESC_NEXT) && n < a->qsize; d = a->desc[d].next)
			n++;
		a->next_free[d] = a->free_head;
		a->free_head = id;
		a->num_free = (USHORT)(a->num_free + n);
		req = srb->SrbExtension;
		vm_complete(a, srb, req->status == 0 ? SRB_STATUS_SUCCESS : SRB_STATUS_ERROR);
	}
	StorPortReleaseSpinLock(a, &lh);
}

static BOOLEAN NTAPI vm_reset_bus(PVOID ext, ULONG path)
{
	(void)ext;
	(void)path;
	return TRUE;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
	HW_INITIALIZATION_DATA hw;
	USHORT n = reg ? reg->Length / sizeof(WCHAR) : 0;

	vm_half_duplex = n >= 2 && reg->Buffer[n - 2] == L'h' && reg->Buffer[n - 1] == L'd';
	RtlZeroMemory(&hw, sizeof(hw));
	hw.HwInitializationDataSize = sizeof(hw);
	hw.AdapterInterfaceType = PCIBus;
	hw.HwFindAdapter = vm_find_adapter;
	hw.HwInitialize = vm_initialize;
	hw.HwStartIo = vm_startio;
	hw.HwInterrupt = vm_interrupt;
	hw.HwResetBus = vm_reset_bus;
	hw.DeviceExtensionSize = sizeof(struct vm_adapter);
	hw.SrbExtensionSize = sizeof(struct vm_req);
	hw.NumberOfAccessRanges = 6;
	hw.MapBuffers = STOR_MAP_NON_READ_WRITE_BUFFERS;
	hw.NeedPhysicalAddresses = TRUE;
	hw.TaggedQueuing = TRUE;
	hw.AutoRequestSense = TRUE;
	hw.MultipleRequestPerLu = TRUE;
	return (NTSTATUS)StorPortInitialize(drv, reg, &hw, NULL);
}
