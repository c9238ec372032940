/* The I/O and PnP manager of the test host (nt_io.c): the x64 layouts of
 * the objects WDM drivers share with the kernel, and the host side of the
 * emulation (PDOs the host owns, "user mode" requests, the simulated bug
 * check). Offsets are the documented x64 ones, pinned below. */
#ifndef VMHOST_NT_IO_H
#define VMHOST_NT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nt_abi.h"

#define STATUS_PENDING                 ((nt_status)0x00000103)
#define STATUS_MORE_PROCESSING_REQUIRED ((nt_status)0xC0000016)
#define STATUS_CANCELLED               ((nt_status)0xC0000120)
#define STATUS_DELETE_PENDING          ((nt_status)0xC0000056)
#define STATUS_NOT_SUPPORTED           ((nt_status)0xC00000BB)
#define STATUS_OBJECT_NAME_NOT_FOUND   ((nt_status)0xC0000034)
#define STATUS_NO_SUCH_DEVICE          ((nt_status)0xC000000E)
#define STATUS_INVALID_DEVICE_REQUEST  ((nt_status)0xC0000010)
#define NT_OK(s) ((int32_t)(s) >= 0)

#define IRP_MJ_CREATE          0x00
#define IRP_MJ_CLOSE           0x02
#define IRP_MJ_READ            0x03
#define IRP_MJ_WRITE           0x04
#define IRP_MJ_DEVICE_CONTROL  0x0e
#define IRP_MJ_CLEANUP         0x12
#define IRP_MJ_POWER           0x16
#define IRP_MJ_SYSTEM_CONTROL  0x17
#define IRP_MJ_PNP             0x1b

#define IRP_MN_START_DEVICE          0x00
#define IRP_MN_QUERY_REMOVE_DEVICE   0x01
#define IRP_MN_REMOVE_DEVICE         0x02
#define IRP_MN_CANCEL_REMOVE_DEVICE  0x03
#define IRP_MN_STOP_DEVICE           0x04
#define IRP_MN_QUERY_STOP_DEVICE     0x05
#define IRP_MN_CANCEL_STOP_DEVICE    0x06
#define IRP_MN_QUERY_DEVICE_RELATIONS 0x07
#define IRP_MN_QUERY_INTERFACE       0x08
#define IRP_MN_QUERY_CAPABILITIES    0x09
#define IRP_MN_READ_CONFIG           0x0f
#define IRP_MN_SURPRISE_REMOVAL      0x17
#define IRP_MN_SET_POWER             0x02
#define IRP_MN_QUERY_POWER           0x03

#define SL_PENDING_RETURNED   0x01
#define SL_INVOKE_ON_CANCEL   0x20
#define SL_INVOKE_ON_SUCCESS  0x40
#define SL_INVOKE_ON_ERROR    0x80

#define DO_BUFFERED_IO        0x00000004
#define DO_DIRECT_IO          0x00000010
#define DO_DEVICE_INITIALIZING 0x00000080

#define IRP_BUFFERED_IO       0x00000010
#define IRP_DEALLOCATE_BUFFER 0x00000020
#define IRP_INPUT_OPERATION   0x00000040

typedef struct nt_io_status_block {
	union {
		nt_status Status;
		void *Pointer;
	};
	uint64_t Information;
} nt_io_status_block;
_Static_assert(sizeof(nt_io_status_block) == 0x10, "IO_STATUS_BLOCK x64 size");

struct nt_irp;

typedef struct nt_device_object {
	int16_t Type;                /* IO_TYPE_DEVICE = 3 */
	uint16_t Size;
	int32_t ReferenceCount;
	nt_driver_object *DriverObject;
	struct nt_device_object *NextDevice;
	struct nt_device_object *AttachedDevice;
	struct nt_irp *CurrentIrp;
	void *Timer;
	uint32_t Flags;
	uint32_t Characteristics;
	void *Vpb;
	void *DeviceExtension;
	uint32_t DeviceType;
	int8_t StackSize;
	uint8_t pad0[0x98 - 0x4d];
	uint32_t AlignmentRequirement;
	uint8_t pad1[0x130 - 0x9c];
	uint16_t SectorSize;
	uint16_t Spare1;
	uint32_t pad2;
	void *DeviceObjectExtension;
	void *Reserved;
} nt_device_object;
_Static_assert(offsetof(nt_device_object, DriverObject) == 0x08, "DEVICE_OBJECT.DriverObject");
_Static_assert(offsetof(nt_device_object, AttachedDevice) == 0x18, "DEVICE_OBJECT.AttachedDevice");
_Static_assert(offsetof(nt_device_object, Flags) == 0x30, "DEVICE_OBJECT.Flags");
_Static_assert(offsetof(nt_device_object, DeviceExtension) == 0x40, "DEVICE_OBJECT.DeviceExtension");
_Static_assert(offsetof(nt_device_object, StackSize) == 0x4c, "DEVICE_OBJECT.StackSize");
_Static_assert(offsetof(nt_device_object, AlignmentRequirement) == 0x98, "DEVICE_OBJECT.Alignment");
_Static_assert(offsetof(nt_device_object, DeviceObjectExtension) == 0x138, "DEVICE_OBJECT.DevObjExt");
_Static_assert(sizeof(nt_device_object) == 0x148, "DEVICE_OBJECT x64 size");

typedef struct nt_file_object {
	int16_t Type;                /* IO_TYPE_FILE = 5 */
	int16_t Size;
	uint32_t pad0;
	nt_device_object *DeviceObject;
	void *Vpb;
	void *FsContext;
	void *FsContext2;
	void *SectionObjectPointer;
	void *PrivateCacheMap;
	nt_status FinalStatus;
	uint32_t pad1;
	struct nt_file_object *RelatedFileObject;
	uint8_t LockOperation, DeletePending, ReadAccess, WriteAccess;
	uint8_t DeleteAccess, SharedRead, SharedWrite, SharedDelete;
	uint32_t Flags;
	uint32_t pad2;
	nt_unicode_string FileName;
	uint8_t rest[0xd8 - 0x68];
} nt_file_object;
_Static_assert(offsetof(nt_file_object, FsContext) == 0x18, "FILE_OBJECT.FsContext");
_Static_assert(offsetof(nt_file_object, Flags) == 0x50, "FILE_OBJECT.Flags");
_Static_assert(offsetof(nt_file_object, FileName) == 0x58, "FILE_OBJECT.FileName");
_Static_assert(sizeof(nt_file_object) == 0xd8, "FILE_OBJECT x64 size");

typedef struct nt_io_stack_location {
	uint8_t MajorFunction, MinorFunction, Flags, Control;
	uint32_t pad;
	union {
		uint64_t raw[4];
		struct {
			uint32_t Length, pad0, Key, pad1;
			int64_t ByteOffset;
		} Read; /* also Write */
		struct {
			uint32_t OutputBufferLength, pad0, InputBufferLength, pad1;
			uint32_t IoControlCode, pad2;
			void *Type3InputBuffer;
		} DeviceIoControl;
		struct {
			const void *InterfaceType;
			uint16_t Size, Version;
			uint32_t pad;
			void *Interface;
			void *InterfaceSpecificData;
		} QueryInterface;
		struct {
			void *AllocatedResources, *AllocatedResourcesTranslated;
		} StartDevice;
		struct {
			uint32_t Type;
		} QueryDeviceRelations;
		struct {
			void *Capabilities;
		} DeviceCapabilities;
		struct {
			uint32_t WhichSpace, pad0;
			void *Buffer;
			uint32_t Offset, pad1, Length;
		} ReadWriteConfig;
		struct {
			uint32_t SystemContext, pad0, Type, pad1, State, pad2, ShutdownType;
		} Power;
	} Parameters;
	nt_device_object *DeviceObject;
	nt_file_object *FileObject;
	void *CompletionRoutine;
	void *Context;
} nt_io_stack_location;
_Static_assert(offsetof(nt_io_stack_location, Parameters) == 0x08, "IO_STACK_LOCATION.Parameters");
_Static_assert(offsetof(nt_io_stack_location, Parameters.Read.ByteOffset) == 0x18, "Read.ByteOffset");
_Static_assert(offsetof(nt_io_stack_location, Parameters.DeviceIoControl.IoControlCode) == 0x18,
	       "DeviceIoControl.IoControlCode");
_Static_assert(offsetof(nt_io_stack_location, Parameters.QueryInterface.Interface) == 0x18,
	       "QueryInterface.Interface");
_Static_assert(offsetof(nt_io_stack_location, Parameters.QueryInterface.Version) == 0x12,
	       "QueryInterface.Version");
_Static_assert(offsetof(nt_io_stack_location, Parameters.ReadWriteConfig.Length) == 0x20,
	       "ReadWriteConfig.Length");
_Static_assert(offsetof(nt_io_stack_location, Parameters.Power.State) == 0x18, "Power.State");
_Static_assert(offsetof(nt_io_stack_location, Parameters.Power.ShutdownType) == 0x20, "Power.Shutdown");
_Static_assert(offsetof(nt_io_stack_location, DeviceObject) == 0x28, "IO_STACK_LOCATION.DeviceObject");
_Static_assert(offsetof(nt_io_stack_location, CompletionRoutine) == 0x38, "IO_STACK_LOCATION.Completion");
_Static_assert(sizeof(nt_io_stack_location) == 0x48, "IO_STACK_LOCATION x64 size");

typedef struct nt_irp {
	int16_t Type;                /* IO_TYPE_IRP = 6 */
	uint16_t Size;
	uint16_t AllocationProcessorNumber, Reserved;
	void *MdlAddress;
	uint32_t Flags, pad0;
	union {
		struct nt_irp *MasterIrp;
		int32_t IrpCount;
		void *SystemBuffer;
	} AssociatedIrp;
	nt_list_entry ThreadListEntry;
	nt_io_status_block IoStatus;
	int8_t RequestorMode;
	uint8_t PendingReturned;
	int8_t StackCount;
	int8_t CurrentLocation;
	uint8_t Cancel;
	uint8_t CancelIrql;
	int8_t ApcEnvironment;
	uint8_t AllocationFlags;
	nt_io_status_block *UserIosb;
	nt_kevent *UserEvent;
	uint8_t Overlay[0x10];
	void *volatile CancelRoutine;
	void *UserBuffer;
	void *DriverContext[4];
	void *Thread;
	char *AuxiliaryBuffer;
	nt_list_entry ListEntry;
	nt_io_stack_location *CurrentStackLocation;
	nt_file_object *OriginalFileObject;
	void *IrpExtension;
} nt_irp;
_Static_assert(offsetof(nt_irp, AssociatedIrp) == 0x18, "IRP.AssociatedIrp");
_Static_assert(offsetof(nt_irp, IoStatus) == 0x30, "IRP.IoStatus");
_Static_assert(offsetof(nt_irp, PendingReturned) == 0x41, "IRP.PendingReturned");
_Static_assert(offsetof(nt_irp, CurrentLocation) == 0x43, "IRP.CurrentLocation");
_Static_assert(offsetof(nt_irp, Cancel) == 0x44, "IRP.Cancel");
_Static_assert(offsetof(nt_irp, UserIosb) == 0x48, "IRP.UserIosb");
_Static_assert(offsetof(nt_irp, CancelRoutine) == 0x68, "IRP.CancelRoutine");
_Static_assert(offsetof(nt_irp, UserBuffer) == 0x70, "IRP.UserBuffer");
_Static_assert(offsetof(nt_irp, DriverContext) == 0x78, "IRP.Tail.Overlay.DriverContext");
_Static_assert(offsetof(nt_irp, ListEntry) == 0xa8, "IRP.Tail.Overlay.ListEntry");
_Static_assert(offsetof(nt_irp, CurrentStackLocation) == 0xb8, "IRP.Tail.Overlay.CurrentStackLocation");
_Static_assert(offsetof(nt_irp, OriginalFileObject) == 0xc0, "IRP.Tail.Overlay.OriginalFileObject");
_Static_assert(sizeof(nt_irp) == 0xd0, "IRP x64 size");

typedef nt_status NTAPI nt_dispatch_fn(nt_device_object *, nt_irp *);
typedef nt_status NTAPI nt_completion_fn(nt_device_object *, nt_irp *, void *);
typedef void NTAPI nt_cancel_fn(nt_device_object *, nt_irp *);
typedef nt_status NTAPI nt_add_device_fn(nt_driver_object *, nt_device_object *);

static inline nt_io_stack_location *io_current_sl(nt_irp *irp)
{
	return irp->CurrentStackLocation;
}

static inline nt_io_stack_location *io_next_sl(nt_irp *irp)
{
	return irp->CurrentStackLocation - 1;
}

/* ---- the I/O manager (nt_io.c) ---- */
extern const struct nt_export io_exports[];

/* Exported services the host also calls directly. */
nt_status NTAPI io_IoCreateDevice(nt_driver_object *drv, uint32_t ext_size, nt_unicode_string *name,
				  uint32_t type, uint32_t characteristics, uint8_t exclusive,
				  nt_device_object **out);
void NTAPI io_IoDeleteDevice(nt_device_object *dev);
nt_device_object *NTAPI io_IoAttachDeviceToDeviceStack(nt_device_object *src, nt_device_object *target);
void NTAPI io_IoDetachDevice(nt_device_object *target);
nt_status NTAPI io_IofCallDriver(nt_device_object *dev, nt_irp *irp);
void NTAPI io_IofCompleteRequest(nt_irp *irp, int8_t boost);
uint8_t NTAPI io_IoCancelIrp(nt_irp *irp);
void NTAPI io_IoInitializeRemoveLockEx(void *lock, uint32_t tag, uint32_t maxmin, uint32_t high, uint32_t size);
nt_status NTAPI io_IoAcquireRemoveLockEx(void *lock, void *tag, const char *file, uint32_t line,
					 uint32_t size);
void NTAPI io_IoReleaseRemoveLockEx(void *lock, void *tag, uint32_t size);
void NTAPI io_IoReleaseRemoveLockAndWaitEx(void *lock, void *tag, uint32_t size);
nt_status NTAPI io_IoCsqInitialize(void *csq, void *insert, void *remove, void *peek, void *lock,
				   void *unlock, void *cancelled);
nt_status NTAPI io_IoCsqInsertIrpEx(void *csq, nt_irp *irp, void *ctx, void *insert_ctx);
void NTAPI io_IoCsqInsertIrp(void *csq, nt_irp *irp, void *ctx);
nt_irp *NTAPI io_IoCsqRemoveNextIrp(void *csq, void *peek);

/* An IRP the host builds (stack_size locations, zeroed, current location
 * "above" the first); freed by the I/O manager at final completion. When
 * done is set, it runs at final completion (any IRQL <= DISPATCH_LEVEL). */
nt_irp *io_alloc_irp(int8_t stack_size);
void io_free_irp(nt_irp *irp);

/* Before DriverEntry: every MajorFunction answers STATUS_INVALID_DEVICE_REQUEST. */
void io_init_driver_object(nt_driver_object *drv);
/* Device objects the I/O manager still holds (leak check after removal). */
unsigned io_live_devices(void);
unsigned io_live_irps(void);
/* DMA adapters not yet put back. */
unsigned io_dma_adapters(void);
/* Top of the stack dev belongs to. */
nt_device_object *io_top_of_stack(nt_device_object *dev);
/* The device object below dev (IoAttachDeviceToDeviceStack's target). */
nt_device_object *io_lower_of(nt_device_object *dev);

/* ---- the host-owned PDO (a minimal PCI/ACPI bus driver) ---- */
struct io_pdo_ops {
	/* BUS_INTERFACE_STANDARD.GetBusData / IRP_MN_READ_CONFIG (config space). */
	uint32_t (*cfg_read)(void *ctx, uint32_t off, void *buf, uint32_t len);
	void *ctx;
};
nt_device_object *io_create_pdo(const char *name, const struct io_pdo_ops *ops);
void io_delete_pdo(nt_device_object *pdo);
/* Interface references the bus interface handed out and not dropped. */
int io_pdo_bus_refs(nt_device_object *pdo);

/* ---- synchronous requests from the host (PnP manager, user mode) ---- */
/* Build an IRP for the top of pdo's stack (or dev itself), send it, wait
 * up to timeout_ms for the final completion. Returns the final status;
 * *info gets IoStatus.Information. Fatal if the driver breaks the
 * pending/completion rules. */
struct io_req {
	uint8_t major, minor;
	const void *params;          /* 32 bytes copied into Parameters, or NULL */
	nt_file_object *file;
	void *sysbuf;                /* AssociatedIrp.SystemBuffer */
	uint32_t flags;              /* IRP flags */
	int8_t requestor_mode;       /* 0 KernelMode, 1 UserMode */
};
nt_status io_send_sync(nt_device_object *dev, const struct io_req *r, uint64_t *info, unsigned timeout_ms);

/* Asynchronous user-mode requests (read/write/ioctl) on an open file. */
struct io_async;
struct io_async *io_async_start(nt_file_object *file, uint8_t major, void *buf, uint32_t len,
				uint32_t ioctl, uint32_t in_len);
/* Wait for completion: true when done (status and bytes copied back). */
bool io_async_wait(struct io_async *a, unsigned timeout_ms, nt_status *status, uint64_t *info);
/* IoCancelIrp on the request (true if a cancel routine ran). */
bool io_async_cancel(struct io_async *a);
void io_async_free(struct io_async *a);

/* Open the enabled device interface of class guid (16 bytes): CREATE on the
 * top of its stack. NULL with *status on failure. */
nt_file_object *io_open_interface(const void *guid, nt_status *status);
/* The same for the interface with reference string ref (NULL: any), opened
 * by an administrator or an ordinary user (SeTokenIsAdmin). */
nt_file_object *io_open_interface_ref(const void *guid, const char *ref, bool admin, nt_status *status);
/* Reference string of the idx-th enabled interface of guid. */
bool io_interface_ref(const void *guid, unsigned idx, char *ref, size_t len);
/* IoInvalidateDeviceRelations(BusRelations) was called since the last call. */
bool io_take_relations_dirty(void);
/* A device object a bus driver reported in BusRelations becomes a PDO. */
void io_mark_pdo(nt_device_object *dev, const char *name);
/* CLEANUP then CLOSE. Returns the CLOSE status. */
nt_status io_close(nt_file_object *file);
/* Interfaces registered for guid, enabled ones. */
unsigned io_interface_count(const void *guid, unsigned *enabled);

/* ---- interrupts: what IoConnectInterruptEx connected ---- */
/* Line-based ISR (KSERVICE_ROUTINE) or message ISR; the host's interrupt
 * thread calls io_deliver_line() / io_deliver_message(). */
bool io_interrupt_connected(void);
/* Calls the ISR at DIRQL under the interrupt lock; returns its result. */
bool io_deliver_line(void);
bool io_deliver_message(uint32_t id);
/* Message count the next message-based connection gets (0: line based). */
void io_set_messages(uint32_t n);

/* ---- bug checks ---- */
/* Run the registered bug-check callbacks as KeBugCheckEx would (HIGH_LEVEL,
 * reverse order of registration) and return: the test continues. */
unsigned io_simulate_bugcheck(uint32_t code);
unsigned io_bugcheck_callbacks(void);

/* ---- pages for MDLs (MmAllocatePagesForMdlEx) ---- */
/* Pages handed out and not yet freed. */
uint64_t io_mdl_pages_out(void);
/* Pages freed so far: read as zero, still the allocation pattern, changed. */
void io_mdl_returned(uint64_t *zero, uint64_t *pattern, uint64_t *changed);
/* Injected faults: MmAllocatePagesForMdlEx finds no pages; a write into the
 * newest page still given out (as if the guest touched ballooned memory). */
void io_inject_no_pages(bool on);
bool io_touch_newest_page(void);

/* ---- free page reporting: the reporting virtqueue (split ring) ---- */
/* Watch the queue at these guest-physical addresses; device_status (the
 * common config byte) tells a reset device, which holds nothing. Every
 * MmFreePagesFromMdl page is then checked against the buffers the device
 * has not returned yet. size 0 stops watching. */
void io_report_ring_set(volatile uint8_t *device_status, uint64_t desc, uint64_t avail, uint64_t used,
			uint16_t size);
/* Pages of report batches (MDLs asked for with MM_ALLOCATE_PREFER_CONTIGUOUS)
 * freed so far: read as zero (reported and discarded), still the
 * allocation pattern (borrowed, not reported), changed; and pages of any MDL
 * freed while a report holding them was still with the device. */
void io_report_counts(uint64_t *zero, uint64_t *kept, uint64_t *changed, uint64_t *early);
/* The watched queue's used index (buffers the device returned), 0 if none. */
uint16_t io_report_used_idx(void);
/* Pages handed out and not yet freed: of report batches (see
 * io_report_counts), of all other MDLs (the balloon's). */
uint64_t io_report_pages_out(void);
uint64_t io_mdl_other_pages_out(void);
/* Buffers posted on the watched queue that the device has not returned. */
uint16_t io_report_outstanding(void);
/* Ask the driver not to notify (used flags, avail_event): the device keeps what it gets. */
bool io_report_hold(bool on);
/* Broken-run injection: the system takes back (and reuses) the first page
 * of the oldest report the device still holds, as a driver freeing before
 * the return would let it. False if no report is outstanding. */
bool io_report_simulate_early_free(void);

#endif
