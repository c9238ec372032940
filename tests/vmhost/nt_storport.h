/* Host-side mirror of the StorPort miniport interface (x64). Written from
 * the documented WDK layouts with fixed-width types, independently of
 * include/ddk/storport.h; the offsets below are asserted on both sides, so
 * a mismatch in either shows at build time. */
#ifndef VMHOST_NT_STORPORT_H
#define VMHOST_NT_STORPORT_H

#include <stdbool.h>

#include "nt_abi.h"

typedef uint8_t NTAPI sp_hw_initialize(void *ext);
typedef uint8_t NTAPI sp_hw_startio(void *ext, void *srb);
typedef uint8_t NTAPI sp_hw_interrupt(void *ext);
typedef uint32_t NTAPI sp_hw_find_adapter(void *ext, void *hw_ctx, void *bus_info, char *args,
					  void *config, uint8_t *again);
typedef uint8_t NTAPI sp_hw_reset_bus(void *ext, uint32_t path_id);
typedef uint32_t NTAPI sp_hw_adapter_control(void *ext, uint32_t type, void *params);
typedef uint8_t NTAPI sp_hw_buildio(void *ext, void *srb);
typedef uint8_t NTAPI sp_hw_msi_routine(void *ext, uint32_t message_id);
typedef uint8_t NTAPI sp_hw_passive_init(void *ext);
typedef void NTAPI sp_hw_timer(void *ext);
typedef uint8_t NTAPI sp_hw_sync_routine(void *ext, void *ctx);

typedef struct sp_hw_init_data {
	uint32_t HwInitializationDataSize;
	uint32_t AdapterInterfaceType;
	sp_hw_initialize *HwInitialize;
	sp_hw_startio *HwStartIo;
	sp_hw_interrupt *HwInterrupt;
	sp_hw_find_adapter *HwFindAdapter;
	sp_hw_reset_bus *HwResetBus;
	void *HwDmaStarted;
	void *HwAdapterState;
	uint32_t DeviceExtensionSize;
	uint32_t SpecificLuExtensionSize;
	uint32_t SrbExtensionSize;
	uint32_t NumberOfAccessRanges;
	void *Reserved;
	uint8_t MapBuffers;
	uint8_t NeedPhysicalAddresses;
	uint8_t TaggedQueuing;
	uint8_t AutoRequestSense;
	uint8_t MultipleRequestPerLu;
	uint8_t ReceiveEvent;
	uint16_t VendorIdLength;
	void *VendorId;
	uint16_t PortVersionFlags;
	uint16_t DeviceIdLength;
	uint32_t pad0;
	void *DeviceId;
	sp_hw_adapter_control *HwAdapterControl;
	sp_hw_buildio *HwBuildIo;
	void *HwFreeAdapterResources;
	void *HwProcessServiceRequest;
	void *HwCompleteServiceIrp;
	void *HwInitializeTracing;
	void *HwCleanupTracing;
	void *HwTracingEnabled;
	uint32_t FeatureSupport;
	uint32_t SrbTypeFlags;
	uint32_t AddressTypeFlags;
	uint32_t Reserved1;
	void *HwUnitControl;
} sp_hw_init_data;
_Static_assert(offsetof(sp_hw_init_data, HwInitialize) == 0x08, "HW_INITIALIZATION_DATA.HwInitialize");
_Static_assert(offsetof(sp_hw_init_data, HwInterrupt) == 0x18, "HW_INITIALIZATION_DATA.HwInterrupt");
_Static_assert(offsetof(sp_hw_init_data, HwFindAdapter) == 0x20, "HW_INITIALIZATION_DATA.HwFindAdapter");
_Static_assert(offsetof(sp_hw_init_data, DeviceExtensionSize) == 0x40, "HW_INITIALIZATION_DATA.DeviceExtensionSize");
_Static_assert(offsetof(sp_hw_init_data, SrbExtensionSize) == 0x48, "HW_INITIALIZATION_DATA.SrbExtensionSize");
_Static_assert(offsetof(sp_hw_init_data, MapBuffers) == 0x58, "HW_INITIALIZATION_DATA.MapBuffers");
_Static_assert(offsetof(sp_hw_init_data, VendorId) == 0x60, "HW_INITIALIZATION_DATA.VendorId");
_Static_assert(offsetof(sp_hw_init_data, HwAdapterControl) == 0x78, "HW_INITIALIZATION_DATA.HwAdapterControl");
_Static_assert(offsetof(sp_hw_init_data, HwBuildIo) == 0x80, "HW_INITIALIZATION_DATA.HwBuildIo");
_Static_assert(offsetof(sp_hw_init_data, FeatureSupport) == 0xb8, "HW_INITIALIZATION_DATA.FeatureSupport");
_Static_assert(offsetof(sp_hw_init_data, SrbTypeFlags) == 0xbc, "HW_INITIALIZATION_DATA.SrbTypeFlags");
_Static_assert(offsetof(sp_hw_init_data, HwUnitControl) == 0xc8, "HW_INITIALIZATION_DATA.HwUnitControl");
_Static_assert(sizeof(sp_hw_init_data) == 0xd0, "HW_INITIALIZATION_DATA x64 size");

typedef struct sp_access_range {
	int64_t RangeStart;
	uint32_t RangeLength;
	uint8_t RangeInMemory;
	uint8_t pad[3];
} sp_access_range;
_Static_assert(sizeof(sp_access_range) == 16, "ACCESS_RANGE x64 size");

typedef struct sp_port_config {
	uint32_t Length;
	uint32_t SystemIoBusNumber;
	uint32_t AdapterInterfaceType;
	uint32_t BusInterruptLevel;
	uint32_t BusInterruptVector;
	uint32_t InterruptMode;
	uint32_t MaximumTransferLength;
	uint32_t NumberOfPhysicalBreaks;
	uint32_t DmaChannel;
	uint32_t DmaPort;
	uint32_t DmaWidth;
	uint32_t DmaSpeed;
	uint32_t AlignmentMask;
	uint32_t NumberOfAccessRanges;
	sp_access_range *AccessRanges;
	void *MiniportDumpData;
	uint8_t NumberOfBuses;
	int8_t InitiatorBusId[8];
	uint8_t ScatterGather;
	uint8_t Master;
	uint8_t CachesData;
	uint8_t AdapterScansDown;
	uint8_t AtdiskPrimaryClaimed;
	uint8_t AtdiskSecondaryClaimed;
	uint8_t Dma32BitAddresses;
	uint8_t DemandMode;
	uint8_t MapBuffers;
	uint8_t NeedPhysicalAddresses;
	uint8_t TaggedQueuing;
	uint8_t AutoRequestSense;
	uint8_t MultipleRequestPerLu;
	uint8_t ReceiveEvent;
	uint8_t RealModeInitialized;
	uint8_t BufferAccessScsiPortControlled;
	uint8_t MaximumNumberOfTargets;
	uint8_t SrbType;
	uint8_t AddressType;
	uint32_t SlotNumber;
	uint32_t BusInterruptLevel2;
	uint32_t BusInterruptVector2;
	uint32_t InterruptMode2;
	uint32_t DmaChannel2;
	uint32_t DmaPort2;
	uint32_t DmaWidth2;
	uint32_t DmaSpeed2;
	uint32_t DeviceExtensionSize;
	uint32_t SpecificLuExtensionSize;
	uint32_t SrbExtensionSize;
	uint8_t Dma64BitAddresses;
	uint8_t ResetTargetSupported;
	uint8_t MaximumNumberOfLogicalUnits;
	uint8_t WmiDataProvider;
	uint32_t SynchronizationModel;
	sp_hw_msi_routine *HwMSInterruptRoutine;
	uint32_t InterruptSynchronizationMode;
	uint32_t pad1;
	struct {
		void *VirtualBase;
		int64_t PhysicalBase;
		uint32_t Length;
		uint32_t pad;
	} DumpRegion;
	uint32_t RequestedDumpBufferSize;
	uint8_t VirtualDevice;
	uint8_t DumpMode;
	uint8_t DmaAddressWidth;
	uint8_t pad2;
	uint32_t ExtendedFlags1;
	uint32_t MaxNumberOfIO;
	uint32_t MaxIOsPerLun;
	uint32_t InitialLunQueueDepth;
	uint32_t BusResetHoldTime;
	uint32_t FeatureSupport;
} sp_port_config;
_Static_assert(offsetof(sp_port_config, AccessRanges) == 0x38, "PORT_CONFIGURATION_INFORMATION.AccessRanges");
_Static_assert(offsetof(sp_port_config, NumberOfBuses) == 0x48, "PORT_CONFIGURATION_INFORMATION.NumberOfBuses");
_Static_assert(offsetof(sp_port_config, ScatterGather) == 0x51, "PORT_CONFIGURATION_INFORMATION.ScatterGather");
_Static_assert(offsetof(sp_port_config, MaximumNumberOfTargets) == 0x61, "PORT_CONFIGURATION_INFORMATION.MaximumNumberOfTargets");
_Static_assert(offsetof(sp_port_config, SlotNumber) == 0x64, "PORT_CONFIGURATION_INFORMATION.SlotNumber");
_Static_assert(offsetof(sp_port_config, DeviceExtensionSize) == 0x84, "PORT_CONFIGURATION_INFORMATION.DeviceExtensionSize");
_Static_assert(offsetof(sp_port_config, Dma64BitAddresses) == 0x90, "PORT_CONFIGURATION_INFORMATION.Dma64BitAddresses");
_Static_assert(offsetof(sp_port_config, SynchronizationModel) == 0x94, "PORT_CONFIGURATION_INFORMATION.SynchronizationModel");
_Static_assert(offsetof(sp_port_config, HwMSInterruptRoutine) == 0x98, "PORT_CONFIGURATION_INFORMATION.HwMSInterruptRoutine");
_Static_assert(offsetof(sp_port_config, InterruptSynchronizationMode) == 0xa0, "PORT_CONFIGURATION_INFORMATION.InterruptSynchronizationMode");
_Static_assert(offsetof(sp_port_config, DumpRegion) == 0xa8, "PORT_CONFIGURATION_INFORMATION.DumpRegion");
_Static_assert(offsetof(sp_port_config, DumpMode) == 0xc5, "PORT_CONFIGURATION_INFORMATION.DumpMode");
_Static_assert(offsetof(sp_port_config, ExtendedFlags1) == 0xc8, "PORT_CONFIGURATION_INFORMATION.ExtendedFlags1");
_Static_assert(offsetof(sp_port_config, FeatureSupport) == 0xdc, "PORT_CONFIGURATION_INFORMATION.FeatureSupport");
_Static_assert(sizeof(sp_port_config) == 0xe0, "PORT_CONFIGURATION_INFORMATION x64 size");

typedef struct sp_srb {
	uint16_t Length;
	uint8_t Function;
	uint8_t SrbStatus;
	uint8_t ScsiStatus;
	uint8_t PathId;
	uint8_t TargetId;
	uint8_t Lun;
	uint8_t QueueTag;
	uint8_t QueueAction;
	uint8_t CdbLength;
	uint8_t SenseInfoBufferLength;
	uint32_t SrbFlags;
	uint32_t DataTransferLength;
	uint32_t TimeOutValue;
	void *DataBuffer;
	void *SenseInfoBuffer;
	struct sp_srb *NextSrb;
	void *OriginalRequest;
	void *SrbExtension;
	uint32_t InternalStatus;
	uint32_t Reserved;
	uint8_t Cdb[16];
} sp_srb;
_Static_assert(offsetof(sp_srb, SrbFlags) == 0x0c, "SCSI_REQUEST_BLOCK.SrbFlags");
_Static_assert(offsetof(sp_srb, DataBuffer) == 0x18, "SCSI_REQUEST_BLOCK.DataBuffer");
_Static_assert(offsetof(sp_srb, SrbExtension) == 0x38, "SCSI_REQUEST_BLOCK.SrbExtension");
_Static_assert(offsetof(sp_srb, Cdb) == 0x48, "SCSI_REQUEST_BLOCK.Cdb");
_Static_assert(sizeof(sp_srb) == 0x58, "SCSI_REQUEST_BLOCK x64 size");

/* STORAGE_REQUEST_BLOCK (SRB_EX) as StorPort hands it to a miniport that
 * declared SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK: the header, one BTL8
 * address and one SCSI CDB16 or CDB32 data block (x64 layouts). */
typedef struct sp_srb_ex {
	uint16_t Length;
	uint8_t Function; /* SRB_FUNCTION_STORAGE_REQUEST_BLOCK */
	uint8_t SrbStatus;
	uint32_t ReservedUlong1;
	uint32_t Signature; /* SRB_SIGNATURE */
	uint32_t Version;
	uint32_t SrbLength;
	uint32_t SrbFunction;
	uint32_t SrbFlags;
	uint32_t ReservedUlong2;
	uint32_t RequestTag;
	uint16_t RequestPriority;
	uint16_t RequestAttribute;
	uint32_t TimeOutValue;
	uint32_t SystemStatus;
	uint32_t ZeroGuard1;
	uint32_t AddressOffset;
	uint32_t NumSrbExData;
	uint32_t DataTransferLength;
	void *DataBuffer;
	void *ZeroGuard2;
	void *OriginalRequest;
	void *ClassContext;
	void *PortContext;
	void *MiniportContext;
	void *NextSrb;
	uint32_t SrbExDataOffset[1];
	uint32_t pad;
} sp_srb_ex;
_Static_assert(offsetof(sp_srb_ex, Signature) == 0x08, "STORAGE_REQUEST_BLOCK.Signature");
_Static_assert(offsetof(sp_srb_ex, SrbFunction) == 0x14, "STORAGE_REQUEST_BLOCK.SrbFunction");
_Static_assert(offsetof(sp_srb_ex, AddressOffset) == 0x34, "STORAGE_REQUEST_BLOCK.AddressOffset");
_Static_assert(offsetof(sp_srb_ex, DataTransferLength) == 0x3c, "STORAGE_REQUEST_BLOCK.DataTransferLength");
_Static_assert(offsetof(sp_srb_ex, DataBuffer) == 0x40, "STORAGE_REQUEST_BLOCK.DataBuffer");
_Static_assert(offsetof(sp_srb_ex, MiniportContext) == 0x68, "STORAGE_REQUEST_BLOCK.MiniportContext");
_Static_assert(offsetof(sp_srb_ex, SrbExDataOffset) == 0x78, "STORAGE_REQUEST_BLOCK.SrbExDataOffset");
_Static_assert(sizeof(sp_srb_ex) == 0x80, "STORAGE_REQUEST_BLOCK x64 size");

typedef struct sp_addr_btl8 {
	uint16_t Type; /* STOR_ADDRESS_TYPE_BTL8 */
	uint16_t Port;
	uint32_t AddressLength;
	uint8_t Path, Target, Lun, Reserved;
	uint32_t pad;
} sp_addr_btl8;
_Static_assert(offsetof(sp_addr_btl8, Path) == 8, "STOR_ADDR_BTL8.Path");
_Static_assert(sizeof(sp_addr_btl8) == 0x10, "STOR_ADDR_BTL8 x64 size");

/* SRBEX_DATA_SCSI_CDB16 / _CDB32: Length counts the bytes after Length. */
typedef struct sp_srbex_cdb {
	uint32_t Type; /* SrbExDataTypeScsiCdb16 (0x40) or Cdb32 (0x41) */
	uint32_t Length;
	uint8_t ScsiStatus;
	uint8_t SenseInfoBufferLength;
	uint8_t CdbLength;
	uint8_t Reserved;
	uint32_t Reserved1;
	void *SenseInfoBuffer;
	uint8_t Cdb[32]; /* 16 used in a CDB16 block */
} sp_srbex_cdb;
_Static_assert(offsetof(sp_srbex_cdb, SenseInfoBuffer) == 0x10, "SRBEX_DATA_SCSI_CDB16.SenseInfoBuffer");
_Static_assert(offsetof(sp_srbex_cdb, Cdb) == 0x18, "SRBEX_DATA_SCSI_CDB16.Cdb");
#define SP_SRBEX_CDB16_SIZE 0x28u
#define SP_SRBEX_CDB32_SIZE 0x38u
_Static_assert(sizeof(sp_srbex_cdb) == SP_SRBEX_CDB32_SIZE, "SRBEX_DATA_SCSI_CDB32 x64 size");

/* What the port builds per request: header, address, CDB block. */
typedef struct sp_srbex_block {
	sp_srb_ex h;
	sp_addr_btl8 addr;
	sp_srbex_cdb cdb;
} sp_srbex_block;
_Static_assert(offsetof(sp_srbex_block, addr) == 0x80, "SRB_EX address block");
_Static_assert(offsetof(sp_srbex_block, cdb) == 0x90, "SRB_EX CDB block");

#define SRB_FUNCTION_STORAGE_REQUEST_BLOCK 0x28
#define SRB_SIGNATURE 0x53524258u
#define STORAGE_REQUEST_BLOCK_VERSION_1 1u
#define SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK 0x2u
#define ADDRESS_TYPE_FLAG_BTL8 0x1u
#define STOR_ADDRESS_TYPE_BTL8 1u
#define SRBEX_DATA_TYPE_SCSI_CDB16 0x40u
#define SRBEX_DATA_TYPE_SCSI_CDB32 0x41u

typedef struct sp_sg_element {
	int64_t PhysicalAddress;
	uint32_t Length;
	uint32_t pad;
	uint64_t Reserved;
} sp_sg_element;
_Static_assert(sizeof(sp_sg_element) == 24, "STOR_SCATTER_GATHER_ELEMENT x64 size");

typedef struct sp_sg_list {
	uint32_t NumberOfElements;
	uint32_t pad;
	uint64_t Reserved;
	sp_sg_element List[];
} sp_sg_list;
_Static_assert(offsetof(sp_sg_list, List) == 16, "STOR_SCATTER_GATHER_LIST.List");

typedef void NTAPI sp_hw_dpc_routine(void *dpc, void *ext, void *a1, void *a2);

typedef struct sp_stor_dpc {
	nt_kdpc Dpc;
	nt_kspin_lock Lock;
} sp_stor_dpc;
_Static_assert(sizeof(sp_stor_dpc) == 0x48, "STOR_DPC x64 size");

typedef struct sp_lock_handle {
	uint32_t Lock;
	uint32_t pad;
	nt_klock_queue_handle Context;
} sp_lock_handle;
_Static_assert(offsetof(sp_lock_handle, Context) == 8, "STOR_LOCK_HANDLE.Context");
_Static_assert(sizeof(sp_lock_handle) == 0x20, "STOR_LOCK_HANDLE x64 size");

/* SCSI_NOTIFICATION_TYPE */
enum {
	SP_RequestComplete = 0,
	SP_NextRequest = 1,
	SP_NextLuRequest = 2,
	SP_ResetDetected = 3,
	SP_RequestTimerCall = 6,
	SP_BusChangeDetected = 7,
	SP_EnablePassiveInitialization = 0x1000,
	SP_InitializeDpc = 0x1001,
	SP_IssueDpc = 0x1002,
	SP_AcquireSpinLock = 0x1003,
	SP_ReleaseSpinLock = 0x1004,
};

/* STOR_SPINLOCK */
enum { SP_DpcLock = 1, SP_StartIoLock = 2, SP_InterruptLock = 3 };

#define SP_RETURN_NOT_FOUND  0
#define SP_RETURN_FOUND      1
#define SP_RETURN_ERROR      2
#define SP_RETURN_BAD_CONFIG 3

#define SRB_FUNCTION_EXECUTE_SCSI 0x00
#define SRB_FUNCTION_FLUSH        0x08
#define SRB_FUNCTION_RESET_BUS    0x12

#define SRB_STATUS_PENDING        0x00
#define SRB_STATUS_SUCCESS        0x01
#define SRB_STATUS_ERROR          0x04
#define SRB_STATUS_BUSY           0x05
#define SRB_STATUS_BUS_RESET      0x0E
#define SRB_STATUS_INVALID_REQUEST 0x06
#define SRB_STATUS_ABORTED        0x02
#define SRB_STATUS_AUTOSENSE_VALID 0x80

#define SRB_FLAGS_DATA_IN  0x40
#define SRB_FLAGS_DATA_OUT 0x80

#define PCI_BUS_INTERFACE 5   /* INTERFACE_TYPE PCIBus */
#define PCI_CONFIGURATION 4   /* BUS_DATA_TYPE PCIConfiguration */

/* storport.sys exports */
extern const struct nt_export sp_exports[];

/* Start the adapter the miniport registered with StorPortInitialize on
 * PCI device pci_spec ("vvvv:dddd" or a sysfs BDF): discovery, access
 * ranges, HwFindAdapter, HwInitialize, passive init, interrupts.
 * irq_mode: "uio" (INTx through uio_pci_generic) or "poll". */
int sp_start_adapter(const char *pci_spec, const char *irq_mode);
bool sp_registered(void);
/* Synchronously run one SRB through HwBuildIo/HwStartIo; waits for
 * RequestComplete (bounded). Returns the SrbStatus. */
uint8_t sp_execute(sp_srb *srb, unsigned timeout_ms);
/* The same in two halves, to keep several SRBs outstanding. */
void sp_submit(sp_srb *srb);
uint8_t sp_wait(sp_srb *srb, unsigned timeout_ms);
/* Allocate an SRB with its SrbExtension, both from DMA memory. */
sp_srb *sp_alloc_srb(void);
void sp_free_srb(sp_srb *srb);
void sp_stop_adapter(void);
/* "corrupt-read-byte" or "drop-completion" (one READ, the 20th); -1 for an
 * unknown mode. */
int sp_set_inject(const char *mode);
bool sp_injecting(void);
/* StorPortRead/WritePort* calls so far (the legacy transport uses them). */
unsigned long sp_port_accesses(void);
/* MaximumTransferLength the miniport set in HwFindAdapter. */
uint32_t sp_max_transfer(void);
/* Interrupts delivered to HwInterrupt, and how many it claimed. */
unsigned long sp_interrupts(unsigned long *claimed);
/* MSI-X messages connected (0 for a line interrupt). */
unsigned sp_message_count(void);
/* Interrupts of message m so far, how many were claimed, and the
 * processors (bit n = processor n) they were delivered on. */
unsigned long sp_message_interrupts(unsigned m, unsigned long *claimed, uint32_t *cpus);
/* The STOR_PERF_* flags the miniport set with StorPortInitializePerfOpts. */
uint32_t sp_perf_flags(void);

/* ---- request formats ----
 * Send STORAGE_REQUEST_BLOCKs built from the caller's classic SRBs (CDB16
 * block, BTL8 address); status, SCSI status, sense length and transfer
 * length are copied back from the SRB_EX on completion. Fails (-1, logged)
 * unless the miniport declared SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK and
 * ADDRESS_TYPE_FLAG_BTL8 in HW_INITIALIZATION_DATA. */
int sp_use_srb_ex(bool on);
bool sp_srb_ex_active(void);
/* Execute a 32-byte CDB in an SRB_EX CDB32 block (SRB_EX mode only); srb
 * carries everything else. Returns the SrbStatus (with flag bits). */
uint8_t sp_execute_cdb32(sp_srb *srb, const uint8_t cdb[32], unsigned timeout_ms);

/* ---- crash dump / hibernation ----
 * sp_set_dump_mode before sp_start_adapter, which starts the live adapter;
 * sp_crash_to_dump then restarts it as the dump stack does
 * (ConfigInfo->DumpMode = mode, a DumpRegion, no interrupts, callbacks at
 * HIGH_LEVEL, one request at a time polled through HwInterrupt). 0: normal. */
#define SP_DUMP_MODE_CRASH 1
#define SP_DUMP_MODE_HIBER 2
#define SP_DUMP_MODE_MARK_MEMORY 3
#define SP_DUMP_MODE_RESUME 4
void sp_set_dump_mode(uint8_t mode);
/* The driver's entry point as the dump stack calls it: (NULL, NULL). */
void sp_set_dump_entry(nt_status (*entry)(void *ctx), void *ctx);
/* The crash on a running adapter (sp_set_dump_mode first): interrupts
 * stop with requests in flight, the entry point runs again, the adapter
 * starts in dump mode. Returns the requests lost in the device, or -1. */
int sp_crash_to_dump(void);
/* Its first half: the live adapter's interrupts, timers and DPCs stop;
 * requests submitted after it stay in the device. 0 or -1. */
int sp_crash_freeze(void);
/* The dump mode in force (0 until sp_crash_to_dump). */
uint8_t sp_dump_mode(void);
/* Bytes of the uncached extension the miniport took. */
size_t sp_uncached_size(void);

/* ---- busy handling (StorPortDeviceBusy/Ready, StorPortBusy/Ready) ----
 * While the LUN or the adapter is busy, new requests wait in the port; a
 * request the miniport completes with SRB_STATUS_BUSY goes back to the
 * port's queue and is resubmitted later, never to the issuer. */
struct sp_busy_stats {
	unsigned long device_busy, device_ready, adapter_busy, adapter_ready;
	unsigned long busy_completions, resubmissions, held;
	/* Timeouts: HwResetBus calls, and requests the miniport then completed
	 * with SRB_STATUS_BUS_RESET that were sent again (the class driver's retry). */
	unsigned long bus_resets, reset_retries;
	bool lun_busy_now, adapter_busy_now;
};
void sp_busy_stats(struct sp_busy_stats *st);
/* ---- timeouts ----
 * A request still in the miniport TimeOutValue seconds after it was
 * issued makes the port call HwResetBus at DISPATCH_LEVEL under the StartIo
 * lock, as StorPort does; the miniport must have completed every request
 * issued before the reset when it returns (fatal otherwise). With n > 0
 * (vdphost --force-reset N, INTx), at every n-th interrupt the oldest
 * request is declared late before the miniport sees the interrupt: the
 * device has finished requests the miniport has not collected. */
void sp_set_force_reset(unsigned n);
unsigned sp_force_reset_every(void);

/* ---- lock order ----
 * Every StorPort lock a thread holds (port-taken around callbacks and
 * StorPortAcquireSpinLock) is on a per-thread list; these are fatal:
 * DpcLock under a StartIo or interrupt lock, StartIo lock under an
 * interrupt lock, a lock the thread already holds, releasing a lock not
 * held, and a release out of order that would lower IRQL below a lock
 * still held. Exposed for the unit tests (test_storport.c). */
enum sp_lock_kind { SPL_DPC = 1, SPL_STARTIO = 2, SPL_INTERRUPT = 3, SPL_MESSAGE = 4 };
void sp_lockdep_acquire(enum sp_lock_kind kind, const void *id, unsigned msg);
/* to: the IRQL the release returns to. */
void sp_lockdep_release(enum sp_lock_kind kind, const void *id, unsigned msg, nt_irql to);
unsigned sp_lockdep_depth(void);

#endif
