/* Host-side mirror of the Windows x64 kernel ABI the test host exposes to
 * PE drivers. Windows is LLP64: ULONG is 32-bit here, never `long`.
 * Structure layouts are written independently from the documented x64
 * offsets and pinned with _Static_assert, so a slip shows at build time. */
#ifndef VMHOST_NT_ABI_H
#define VMHOST_NT_ABI_H

#include <stddef.h>
#include <stdint.h>

#define NTAPI __attribute__((ms_abi))

typedef int32_t nt_status;
typedef uint8_t nt_irql;

#define STATUS_SUCCESS                 ((nt_status)0x00000000)
#define STATUS_UNSUCCESSFUL            ((nt_status)0xC0000001)
#define STATUS_NOT_IMPLEMENTED         ((nt_status)0xC0000002)
#define STATUS_INVALID_PARAMETER       ((nt_status)0xC000000D)
#define STATUS_INSUFFICIENT_RESOURCES  ((nt_status)0xC000009A)
#define STATUS_BUFFER_OVERFLOW         ((nt_status)0x80000005)
#define STATUS_BUFFER_TOO_SMALL        ((nt_status)0xC0000023)

#define PASSIVE_LEVEL  0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define HIGH_LEVEL     15

typedef struct nt_unicode_string {
	uint16_t Length;        /* bytes, without terminator */
	uint16_t MaximumLength; /* bytes */
	uint32_t pad;
	uint16_t *Buffer;
} nt_unicode_string;
_Static_assert(sizeof(nt_unicode_string) == 16, "UNICODE_STRING x64 size");
_Static_assert(offsetof(nt_unicode_string, Buffer) == 8, "UNICODE_STRING.Buffer");

typedef struct nt_ansi_string {
	uint16_t Length;
	uint16_t MaximumLength;
	uint32_t pad;
	char *Buffer;
} nt_ansi_string;
_Static_assert(sizeof(nt_ansi_string) == 16, "ANSI_STRING x64 size");

typedef struct nt_list_entry {
	struct nt_list_entry *Flink, *Blink;
} nt_list_entry;

#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

struct nt_driver_object;
typedef nt_status NTAPI nt_driver_initialize(struct nt_driver_object *,
					     nt_unicode_string *);
typedef void NTAPI nt_driver_unload(struct nt_driver_object *);

typedef struct nt_driver_extension {
	struct nt_driver_object *DriverObject;
	void *AddDevice;
	uint32_t Count;
	uint32_t pad;
	nt_unicode_string ServiceKeyName;
} nt_driver_extension;
_Static_assert(offsetof(nt_driver_extension, ServiceKeyName) == 0x18,
	       "DRIVER_EXTENSION.ServiceKeyName");

typedef struct nt_driver_object {
	int16_t Type;           /* IO_TYPE_DRIVER = 4 */
	int16_t Size;
	uint32_t pad0;
	void *DeviceObject;
	uint32_t Flags;
	uint32_t pad1;
	void *DriverStart;
	uint32_t DriverSize;
	uint32_t pad2;
	void *DriverSection;
	nt_driver_extension *DriverExtension;
	nt_unicode_string DriverName;
	nt_unicode_string *HardwareDatabase;
	void *FastIoDispatch;
	nt_driver_initialize *DriverInit;
	void *DriverStartIo;
	nt_driver_unload *DriverUnload;
	void *MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} nt_driver_object;
_Static_assert(offsetof(nt_driver_object, DeviceObject) == 0x08, "DRIVER_OBJECT.DeviceObject");
_Static_assert(offsetof(nt_driver_object, DriverStart) == 0x18, "DRIVER_OBJECT.DriverStart");
_Static_assert(offsetof(nt_driver_object, DriverExtension) == 0x30, "DRIVER_OBJECT.DriverExtension");
_Static_assert(offsetof(nt_driver_object, DriverName) == 0x38, "DRIVER_OBJECT.DriverName");
_Static_assert(offsetof(nt_driver_object, DriverInit) == 0x58, "DRIVER_OBJECT.DriverInit");
_Static_assert(offsetof(nt_driver_object, DriverUnload) == 0x68, "DRIVER_OBJECT.DriverUnload");
_Static_assert(offsetof(nt_driver_object, MajorFunction) == 0x70, "DRIVER_OBJECT.MajorFunction");
_Static_assert(sizeof(nt_driver_object) == 0x150, "DRIVER_OBJECT x64 size");

/* PROCESSOR_NUMBER: the host has one group. */
typedef struct nt_processor_number {
	uint16_t Group;
	uint8_t Number;
	uint8_t Reserved;
} nt_processor_number;
_Static_assert(sizeof(nt_processor_number) == 4, "PROCESSOR_NUMBER size");

struct nt_kdpc;
typedef void NTAPI nt_deferred_routine(struct nt_kdpc *, void *, void *, void *);

typedef struct nt_kdpc {
	uint8_t Type;
	uint8_t Importance;
	uint16_t Number;
	uint32_t pad;
	nt_list_entry DpcListEntry;
	nt_deferred_routine *DeferredRoutine;
	void *DeferredContext;
	void *SystemArgument1;
	void *SystemArgument2;
	void *volatile DpcData; /* non-NULL while queued */
} nt_kdpc;
_Static_assert(offsetof(nt_kdpc, DeferredRoutine) == 0x18, "KDPC.DeferredRoutine");
_Static_assert(offsetof(nt_kdpc, SystemArgument2) == 0x30, "KDPC.SystemArgument2");
_Static_assert(sizeof(nt_kdpc) == 0x40, "KDPC x64 size");

/* DISPATCHER_HEADER: the part of every waitable object the host uses. */
typedef struct nt_dispatcher_header {
	uint8_t Type;           /* 0/1 events, 8/9 timers */
	uint8_t Signalling;
	uint8_t Size;
	uint8_t Reserved1;
	volatile int32_t SignalState;
	nt_list_entry WaitListHead;
} nt_dispatcher_header;
_Static_assert(offsetof(nt_dispatcher_header, SignalState) == 4, "DISPATCHER_HEADER.SignalState");
_Static_assert(sizeof(nt_dispatcher_header) == 0x18, "DISPATCHER_HEADER x64 size");

typedef struct nt_kevent {
	nt_dispatcher_header Header;
} nt_kevent;
_Static_assert(sizeof(nt_kevent) == 0x18, "KEVENT x64 size");

/* KTIMER: the header, then (opaque to drivers) our own bookkeeping. */
typedef struct nt_ktimer {
	nt_dispatcher_header Header;
	uint64_t due_ns;        /* CLOCK_MONOTONIC; 0 when not set */
	uint64_t period_ns;
	struct nt_kdpc *dpc;
	uint64_t magic;
	uint64_t reserved;
} nt_ktimer;
_Static_assert(sizeof(nt_ktimer) == 0x40, "KTIMER x64 size");

typedef uint64_t nt_kspin_lock;

typedef struct nt_kspin_lock_queue {
	void *Next;
	nt_kspin_lock *Lock;
} nt_kspin_lock_queue;

typedef struct nt_klock_queue_handle {
	nt_kspin_lock_queue LockQueue;
	nt_irql OldIrql;
	uint8_t pad[7];
} nt_klock_queue_handle;
_Static_assert(sizeof(nt_klock_queue_handle) == 0x18, "KLOCK_QUEUE_HANDLE x64 size");
_Static_assert(offsetof(nt_klock_queue_handle, OldIrql) == 0x10, "KLOCK_QUEUE_HANDLE.OldIrql");

/* One function the host offers to drivers. */
struct nt_export {
	const char *module;  /* e.g. "ntoskrnl.exe"; matched case-insensitively */
	const char *name;
	void *fn;
};

#endif
