/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * StorPort miniport interface for mingw-w64.
 *
 * This replaces mingw-w64 v10's <ddk/storport.h>, which pulls in srb.h, uses
 * the SCSIPORT layouts of HW_INITIALIZATION_DATA and
 * PORT_CONFIGURATION_INFORMATION, and declares the register/port accessors
 * without their HwDeviceExtension argument. It sits on top of <ntddk.h> only:
 * it must not be mixed with mingw's srb.h, scsi.h or storport.h.
 *
 * Layouts, enumerations and constants follow the Windows 10/11 WDK
 * (NTDDI_WIN8 and later layouts). Every structure StorPort reads or fills is
 * pinned by _Static_assert for x64 and x86 at the end of the file, so an ABI
 * mismatch is a compile error rather than a crash on a real machine.
 *
 * Deliberate differences from the WDK header:
 *  - HW_INITIALIZATION_DATA.HwFindAdapter is typed PHW_FIND_ADAPTER (the WDK
 *    uses PVOID so virtual miniports can store their own routine type); same
 *    size, but the compiler checks the calling convention.
 *  - The inline wrappers are "static __inline__", not extern FORCEINLINE, so
 *    an unused or not-inlined wrapper never becomes an undefined import.
 *  - The SCSI wire formats (CDBs, sense, INQUIRY, VPD pages) come from the
 *    project's portable <scsi/scsi.h> instead of WDK-style bit-field unions.
 */
#ifndef OPENVDP_DDK_STORPORT_H
#define OPENVDP_DDK_STORPORT_H

#if defined(_NTSRB_) || defined(_NTSCSI_) || defined(__STORPORT_H)
#error "include the project's <storport.h> instead of mingw srb.h/scsi.h/storport.h"
#endif
/* Keep mingw's own copies out if something includes them afterwards. */
#define _NTSTORPORT_
#define __STORPORT_H
#define _NTSRB_
#define _NTSCSI_

#include <ntddk.h>
#include <scsi/scsi.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef STORPORT_API
#define STORPORT_API DECLSPEC_IMPORT
#endif

/* Wrappers around StorPortNotification/StorPortExtendedFunction. */
#define STOR_INLINE static __inline__ __attribute__((__always_inline__))

/* The SRB_EX family keeps one layout across 32- and 64-bit callers. */
#ifdef _WIN64
#define SRB_ALIGN           DECLSPEC_ALIGN(8)
#define STOR_ADDRESS_ALIGN  DECLSPEC_ALIGN(8)
#define POINTER_ALIGN       DECLSPEC_ALIGN(8)
#else
#define SRB_ALIGN
#define STOR_ADDRESS_ALIGN
#define POINTER_ALIGN
#endif

/* ================================================================ limits */
#define SCSI_MAXIMUM_BUSES_PER_ADAPTER  255
#define SCSI_MAXIMUM_TARGETS_PER_BUS    128
#define SCSI_MAXIMUM_LUNS_PER_TARGET    255
#define SCSI_MINIMUM_PHYSICAL_BREAKS    16
#define SCSI_MAXIMUM_PHYSICAL_BREAKS    255
#define SCSI_MAXIMUM_BUSES              8
#define SCSI_MAXIMUM_TARGETS            8
#define SCSI_MAXIMUM_LOGICAL_UNITS      8
#define SP_UNINITIALIZED_VALUE          ((ULONG)~0)
#define SP_UNTAGGED                     ((UCHAR)~0)

/* ================================================================ SRB */
typedef struct _SCSI_REQUEST_BLOCK {
	USHORT Length;
	UCHAR Function;
	UCHAR SrbStatus;
	UCHAR ScsiStatus;
	UCHAR PathId;
	UCHAR TargetId;
	UCHAR Lun;
	UCHAR QueueTag;
	UCHAR QueueAction;
	UCHAR CdbLength;
	UCHAR SenseInfoBufferLength;
	ULONG SrbFlags;
	ULONG DataTransferLength;
	ULONG TimeOutValue;
	PVOID DataBuffer;
	PVOID SenseInfoBuffer;
	struct _SCSI_REQUEST_BLOCK *NextSrb;
	PVOID OriginalRequest;
	PVOID SrbExtension;
	union {
		ULONG InternalStatus;
		ULONG QueueSortKey;
		ULONG LinkTimeoutValue;
	};
#ifdef _WIN64
	ULONG Reserved;
#endif
	UCHAR Cdb[16];
} SCSI_REQUEST_BLOCK, *PSCSI_REQUEST_BLOCK;

#define SCSI_REQUEST_BLOCK_SIZE sizeof(SCSI_REQUEST_BLOCK)

typedef struct _SCSI_WMI_REQUEST_BLOCK {
	USHORT Length;
	UCHAR Function;
	UCHAR SrbStatus;
	UCHAR WMISubFunction;
	UCHAR PathId;
	UCHAR TargetId;
	UCHAR Lun;
	UCHAR Reserved1;
	UCHAR WMIFlags;
	UCHAR Reserved2[2];
	ULONG SrbFlags;
	ULONG DataTransferLength;
	ULONG TimeOutValue;
	PVOID DataBuffer;
	PVOID DataPath;
	PVOID Reserved3;
	PVOID OriginalRequest;
	PVOID SrbExtension;
	ULONG Reserved4;
#ifdef _WIN64
	ULONG Reserved6;
#endif
	UCHAR Reserved5[16];
} SCSI_WMI_REQUEST_BLOCK, *PSCSI_WMI_REQUEST_BLOCK;

typedef enum _STOR_DEVICE_POWER_STATE {
	StorPowerDeviceUnspecified = 0,
	StorPowerDeviceD0,
	StorPowerDeviceD1,
	StorPowerDeviceD2,
	StorPowerDeviceD3,
	StorPowerDeviceMaximum
} STOR_DEVICE_POWER_STATE, *PSTOR_DEVICE_POWER_STATE;

typedef enum {
	StorPowerActionNone = 0,
	StorPowerActionReserved,
	StorPowerActionSleep,
	StorPowerActionHibernate,
	StorPowerActionShutdown,
	StorPowerActionShutdownReset,
	StorPowerActionShutdownOff,
	StorPowerActionWarmEject
} STOR_POWER_ACTION, *PSTOR_POWER_ACTION;

typedef struct _SCSI_POWER_REQUEST_BLOCK {
	USHORT Length;
	UCHAR Function;
	UCHAR SrbStatus;
	UCHAR SrbPowerFlags;
	UCHAR PathId;
	UCHAR TargetId;
	UCHAR Lun;
	STOR_DEVICE_POWER_STATE DevicePowerState;
	ULONG SrbFlags;
	ULONG DataTransferLength;
	ULONG TimeOutValue;
	PVOID DataBuffer;
	PVOID SenseInfoBuffer;
	struct _SCSI_REQUEST_BLOCK *NextSrb;
	PVOID OriginalRequest;
	PVOID SrbExtension;
	STOR_POWER_ACTION PowerAction;
#ifdef _WIN64
	ULONG Reserved;
#endif
	UCHAR Reserved5[16];
} SCSI_POWER_REQUEST_BLOCK, *PSCSI_POWER_REQUEST_BLOCK;

typedef enum {
	StorStartDevice = 0x0,
	StorRemoveDevice = 0x2,
	StorStopDevice = 0x4,
	StorQueryCapabilities = 0x9,
	StorQueryResourceRequirements = 0xB,
	StorFilterResourceRequirements = 0xD,
	StorSurpriseRemoval = 0x17
} STOR_PNP_ACTION, *PSTOR_PNP_ACTION;

typedef struct _STOR_DEVICE_CAPABILITIES {
	USHORT Version;
	ULONG DeviceD1 : 1;
	ULONG DeviceD2 : 1;
	ULONG LockSupported : 1;
	ULONG EjectSupported : 1;
	ULONG Removable : 1;
	ULONG DockDevice : 1;
	ULONG UniqueID : 1;
	ULONG SilentInstall : 1;
	ULONG SurpriseRemovalOK : 1;
	ULONG NoDisplayInUI : 1;
} STOR_DEVICE_CAPABILITIES, *PSTOR_DEVICE_CAPABILITIES;

typedef struct _STOR_DEVICE_CAPABILITIES_EX {
	USHORT Version;
	USHORT Size;
	ULONG DeviceD1 : 1;
	ULONG DeviceD2 : 1;
	ULONG LockSupported : 1;
	ULONG EjectSupported : 1;
	ULONG Removable : 1;
	ULONG DockDevice : 1;
	ULONG UniqueID : 1;
	ULONG SilentInstall : 1;
	ULONG RawDeviceOK : 1;
	ULONG SurpriseRemovalOK : 1;
	ULONG NoDisplayInUI : 1;
	ULONG DefaultWriteCacheEnabled : 1;
	ULONG Reserved0 : 20;
	ULONG Address;
	ULONG UINumber;
	ULONG Reserved1[2];
} STOR_DEVICE_CAPABILITIES_EX, *PSTOR_DEVICE_CAPABILITIES_EX;

#define STOR_DEVICE_CAPABILITIES_EX_VERSION_1   1

typedef struct _SCSI_PNP_REQUEST_BLOCK {
	USHORT Length;
	UCHAR Function;
	UCHAR SrbStatus;
	UCHAR PnPSubFunction;
	UCHAR PathId;
	UCHAR TargetId;
	UCHAR Lun;
	STOR_PNP_ACTION PnPAction;
	ULONG SrbFlags;
	ULONG DataTransferLength;
	ULONG TimeOutValue;
	PVOID DataBuffer;
	PVOID SenseInfoBuffer;
	struct _SCSI_REQUEST_BLOCK *NextSrb;
	PVOID OriginalRequest;
	PVOID SrbExtension;
	ULONG SrbPnPFlags;
#ifdef _WIN64
	ULONG Reserved;
#endif
	UCHAR Reserved4[16];
} SCSI_PNP_REQUEST_BLOCK, *PSCSI_PNP_REQUEST_BLOCK;

/* SRB functions */
#define SRB_FUNCTION_EXECUTE_SCSI           0x00
#define SRB_FUNCTION_CLAIM_DEVICE           0x01
#define SRB_FUNCTION_IO_CONTROL             0x02
#define SRB_FUNCTION_RECEIVE_EVENT          0x03
#define SRB_FUNCTION_RELEASE_QUEUE          0x04
#define SRB_FUNCTION_ATTACH_DEVICE          0x05
#define SRB_FUNCTION_RELEASE_DEVICE         0x06
#define SRB_FUNCTION_SHUTDOWN               0x07
#define SRB_FUNCTION_FLUSH                  0x08
#define SRB_FUNCTION_PROTOCOL_COMMAND       0x09
#define SRB_FUNCTION_ABORT_COMMAND          0x10
#define SRB_FUNCTION_RELEASE_RECOVERY       0x11
#define SRB_FUNCTION_RESET_BUS              0x12
#define SRB_FUNCTION_RESET_DEVICE           0x13
#define SRB_FUNCTION_TERMINATE_IO           0x14
#define SRB_FUNCTION_FLUSH_QUEUE            0x15
#define SRB_FUNCTION_REMOVE_DEVICE          0x16
#define SRB_FUNCTION_WMI                    0x17
#define SRB_FUNCTION_LOCK_QUEUE             0x18
#define SRB_FUNCTION_UNLOCK_QUEUE           0x19
#define SRB_FUNCTION_QUIESCE_DEVICE         0x1A
#define SRB_FUNCTION_RESET_LOGICAL_UNIT     0x20
#define SRB_FUNCTION_SET_LINK_TIMEOUT       0x21
#define SRB_FUNCTION_LINK_TIMEOUT_OCCURRED  0x22
#define SRB_FUNCTION_LINK_TIMEOUT_COMPLETE  0x23
#define SRB_FUNCTION_POWER                  0x24
#define SRB_FUNCTION_PNP                    0x25
#define SRB_FUNCTION_DUMP_POINTERS          0x26
#define SRB_FUNCTION_FREE_DUMP_POINTERS     0x27
#define SRB_FUNCTION_STORAGE_REQUEST_BLOCK  0x28
#define SRB_FUNCTION_CRYPTO_OPERATION       0x29
#define SRB_FUNCTION_GET_DUMP_INFO          0x2A
#define SRB_FUNCTION_FREE_DUMP_INFO         0x2B
#define SRB_FUNCTION_NVMEOF_OPERATION       0x2C
#define SRB_FUNCTION_MINIPORT_PASSTHROUGH_REQUEST 0x2D

/* SRB status */
#define SRB_STATUS_PENDING                  0x00
#define SRB_STATUS_SUCCESS                  0x01
#define SRB_STATUS_ABORTED                  0x02
#define SRB_STATUS_ABORT_FAILED             0x03
#define SRB_STATUS_ERROR                    0x04
#define SRB_STATUS_BUSY                     0x05
#define SRB_STATUS_INVALID_REQUEST          0x06
#define SRB_STATUS_INVALID_PATH_ID          0x07
#define SRB_STATUS_NO_DEVICE                0x08
#define SRB_STATUS_TIMEOUT                  0x09
#define SRB_STATUS_SELECTION_TIMEOUT        0x0A
#define SRB_STATUS_COMMAND_TIMEOUT          0x0B
#define SRB_STATUS_MESSAGE_REJECTED         0x0D
#define SRB_STATUS_BUS_RESET                0x0E
#define SRB_STATUS_PARITY_ERROR             0x0F
#define SRB_STATUS_REQUEST_SENSE_FAILED     0x10
#define SRB_STATUS_NO_HBA                   0x11
#define SRB_STATUS_DATA_OVERRUN             0x12
#define SRB_STATUS_UNEXPECTED_BUS_FREE      0x13
#define SRB_STATUS_PHASE_SEQUENCE_FAILURE   0x14
#define SRB_STATUS_BAD_SRB_BLOCK_LENGTH     0x15
#define SRB_STATUS_REQUEST_FLUSHED          0x16
#define SRB_STATUS_INVALID_LUN              0x20
#define SRB_STATUS_INVALID_TARGET_ID        0x21
#define SRB_STATUS_BAD_FUNCTION             0x22
#define SRB_STATUS_ERROR_RECOVERY           0x23
#define SRB_STATUS_NOT_POWERED              0x24
#define SRB_STATUS_LINK_DOWN                0x25
#define SRB_STATUS_INSUFFICIENT_RESOURCES   0x26
#define SRB_STATUS_THROTTLED_REQUEST        0x27
#define SRB_STATUS_INVALID_PARAMETER        0x28
#define SRB_STATUS_INTERNAL_ERROR           0x30    /* port driver only, never a miniport */
#define SRB_STATUS_QUEUE_FROZEN             0x40
#define SRB_STATUS_AUTOSENSE_VALID          0x80
#define SRB_STATUS(Status) \
	((UCHAR)((Status) & ~(SRB_STATUS_AUTOSENSE_VALID | SRB_STATUS_QUEUE_FROZEN)))

/* SRB flags */
#define SRB_FLAGS_QUEUE_ACTION_ENABLE       0x00000002
#define SRB_FLAGS_DISABLE_DISCONNECT        0x00000004
#define SRB_FLAGS_DISABLE_SYNCH_TRANSFER    0x00000008
#define SRB_FLAGS_BYPASS_FROZEN_QUEUE       0x00000010
#define SRB_FLAGS_DISABLE_AUTOSENSE         0x00000020
#define SRB_FLAGS_DATA_IN                   0x00000040
#define SRB_FLAGS_DATA_OUT                  0x00000080
#define SRB_FLAGS_NO_DATA_TRANSFER          0x00000000
#define SRB_FLAGS_UNSPECIFIED_DIRECTION     (SRB_FLAGS_DATA_IN | SRB_FLAGS_DATA_OUT)
#define SRB_FLAGS_NO_QUEUE_FREEZE           0x00000100
#define SRB_FLAGS_ADAPTER_CACHE_ENABLE      0x00000200
#define SRB_FLAGS_FREE_SENSE_BUFFER         0x00000400
#define SRB_FLAGS_D3_PROCESSING             0x00000800
#define SRB_FLAGS_SEQUENTIAL_REQUIRED       0x00001000
#define SRB_FLAGS_IS_ACTIVE                 0x00010000
#define SRB_FLAGS_ALLOCATED_FROM_ZONE       0x00020000
#define SRB_FLAGS_SGLIST_FROM_POOL          0x00040000
#define SRB_FLAGS_BYPASS_LOCKED_QUEUE       0x00080000
#define SRB_FLAGS_NO_KEEP_AWAKE             0x00100000
#define SRB_FLAGS_PORT_DRIVER_ALLOCSENSE    0x00200000
#define SRB_FLAGS_PORT_DRIVER_SENSEHASPORT  0x00400000
#define SRB_FLAGS_DONT_START_NEXT_PACKET    0x00800000
#define SRB_FLAGS_PORT_DRIVER_RESERVED      0x0F000000
#define SRB_FLAGS_CLASS_DRIVER_RESERVED     0xF0000000

#define SRB_SIMPLE_TAG_REQUEST              0x20
#define SRB_HEAD_OF_QUEUE_TAG_REQUEST       0x21
#define SRB_ORDERED_QUEUE_TAG_REQUEST       0x22

#define SRB_WMI_FLAGS_ADAPTER_REQUEST       0x01
#define SRB_POWER_FLAGS_ADAPTER_REQUEST     0x01
#define SRB_PNP_FLAGS_ADAPTER_REQUEST       0x01
#define SRB_IOCTL_FLAGS_ADAPTER_REQUEST     0x01

/* ================================================================ SRB_EX */
typedef enum _SRBEXDATATYPE {
	SrbExDataTypeUnknown = 0,
	SrbExDataTypeBidirectional,
	SrbExDataTypeScsiCdb16 = 0x40,
	SrbExDataTypeScsiCdb32,
	SrbExDataTypeScsiCdbVar,
	SrbExDataTypeNvmeCommand,
	SrbExDataTypeNvmeofOperation,
	SrbExDataTypeWmi = 0x60,
	SrbExDataTypePower,
	SrbExDataTypePnP,
	SrbExDataTypeIoInfo = 0x80,
	SrbExDataTypePassthroughDirect = 0xA0,
	SrbExDataTypeMSReservedStart = 0xF0000000,
	SrbExDataTypeReserved = 0xFFFFFFFF
} SRBEXDATATYPE, *PSRBEXDATATYPE;

typedef struct SRB_ALIGN _SRBEX_DATA {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR Data[ANYSIZE_ARRAY];
} SRBEX_DATA, *PSRBEX_DATA;

/* The *_LENGTH values are the Length field: the size after Type and Length. */
#define SRBEX_DATA_BIDIRECTIONAL_LENGTH ((2 * sizeof(ULONG)) + sizeof(PVOID))
typedef struct SRB_ALIGN _SRBEX_DATA_BIDIRECTIONAL {
	SRBEXDATATYPE Type;
	ULONG Length;
	ULONG DataInTransferLength;
	ULONG Reserved1;
	PVOID POINTER_ALIGN DataInBuffer;
} SRBEX_DATA_BIDIRECTIONAL, *PSRBEX_DATA_BIDIRECTIONAL;

#define SRBEX_DATA_SCSI_CDB16_LENGTH ((20 * sizeof(UCHAR)) + sizeof(ULONG) + sizeof(PVOID))
typedef struct SRB_ALIGN _SRBEX_DATA_SCSI_CDB16 {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR ScsiStatus;
	UCHAR SenseInfoBufferLength;
	UCHAR CdbLength;
	UCHAR Reserved;
	ULONG Reserved1;
	PVOID POINTER_ALIGN SenseInfoBuffer;
	UCHAR POINTER_ALIGN Cdb[16];
} SRBEX_DATA_SCSI_CDB16, *PSRBEX_DATA_SCSI_CDB16;

#define SRBEX_DATA_SCSI_CDB32_LENGTH ((36 * sizeof(UCHAR)) + sizeof(ULONG) + sizeof(PVOID))
typedef struct SRB_ALIGN _SRBEX_DATA_SCSI_CDB32 {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR ScsiStatus;
	UCHAR SenseInfoBufferLength;
	UCHAR CdbLength;
	UCHAR Reserved;
	ULONG Reserved1;
	PVOID POINTER_ALIGN SenseInfoBuffer;
	UCHAR POINTER_ALIGN Cdb[32];
} SRBEX_DATA_SCSI_CDB32, *PSRBEX_DATA_SCSI_CDB32;

#define SRBEX_DATA_SCSI_CDB_VAR_LENGTH_MIN ((4 * sizeof(UCHAR)) + (3 * sizeof(ULONG)) + sizeof(PVOID))
#define SRBEX_DATA_SCSI_CDB_VAR_LENGTH_MAX 0xFFFFFFFFUL
typedef struct SRB_ALIGN _SRBEX_DATA_SCSI_CDB_VAR {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR ScsiStatus;
	UCHAR SenseInfoBufferLength;
	UCHAR Reserved[2];
	ULONG CdbLength;
	ULONG Reserved1[2];
	PVOID POINTER_ALIGN SenseInfoBuffer;
	UCHAR POINTER_ALIGN Cdb[ANYSIZE_ARRAY];
} SRBEX_DATA_SCSI_CDB_VAR, *PSRBEX_DATA_SCSI_CDB_VAR;

#define SRBEX_DATA_WMI_LENGTH ((4 * sizeof(UCHAR)) + sizeof(ULONG) + sizeof(PVOID))
typedef struct SRB_ALIGN _SRBEX_DATA_WMI {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR WMISubFunction;
	UCHAR WMIFlags;
	UCHAR Reserved[2];
	ULONG Reserved1;
	PVOID POINTER_ALIGN DataPath;
} SRBEX_DATA_WMI, *PSRBEX_DATA_WMI;

#define SRBEX_DATA_POWER_LENGTH \
	((4 * sizeof(UCHAR)) + sizeof(STOR_DEVICE_POWER_STATE) + sizeof(STOR_POWER_ACTION))
typedef struct SRB_ALIGN _SRBEX_DATA_POWER {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR SrbPowerFlags;
	UCHAR Reserved[3];
	STOR_DEVICE_POWER_STATE DevicePowerState;
	STOR_POWER_ACTION PowerAction;
} SRBEX_DATA_POWER, *PSRBEX_DATA_POWER;

#define SRBEX_DATA_PNP_LENGTH \
	((4 * sizeof(UCHAR)) + sizeof(STOR_PNP_ACTION) + (2 * sizeof(ULONG)))
typedef struct SRB_ALIGN _SRBEX_DATA_PNP {
	SRBEXDATATYPE Type;
	ULONG Length;
	UCHAR PnPSubFunction;
	UCHAR Reserved[3];
	STOR_PNP_ACTION PnPAction;
	ULONG SrbPnPFlags;
	ULONG Reserved1;
} SRBEX_DATA_PNP, *PSRBEX_DATA_PNP;

#define SRBEX_DATA_IO_INFO_LENGTH ((5 * sizeof(ULONG)) + (4 * sizeof(UCHAR)))
#define REQUEST_INFO_PAGING_IO_FLAG                 0x00000002
#define REQUEST_INFO_HYBRID_WRITE_THROUGH_FLAG      0x00000020
#define REQUEST_INFO_VALID_CACHEPRIORITY_FLAG       0x80000000
typedef struct SRB_ALIGN _SRBEX_DATA_IO_INFO {
	SRBEXDATATYPE Type;
	ULONG Length;
	ULONG Flags;
	ULONG Key;
	ULONG RWLength;
	BOOLEAN IsWriteRequest;
	UCHAR CachePriority;
	UCHAR Reserved[2];
	ULONG Reserved1[2];
} SRBEX_DATA_IO_INFO, *PSRBEX_DATA_IO_INFO;

#define SRB_SIGNATURE                       0x53524258  /* 'SRBX' */
#define STORAGE_REQUEST_BLOCK_VERSION_1     0x1

typedef struct SRB_ALIGN _STORAGE_REQUEST_BLOCK_HEADER {
	USHORT Length;
	UCHAR Function;
	UCHAR SrbStatus;
} STORAGE_REQUEST_BLOCK_HEADER, *PSTORAGE_REQUEST_BLOCK_HEADER;

typedef struct SRB_ALIGN _STORAGE_REQUEST_BLOCK {
	USHORT Length;
	UCHAR Function;                 /* SRB_FUNCTION_STORAGE_REQUEST_BLOCK */
	UCHAR SrbStatus;
	ULONG ReservedUlong1;
	ULONG Signature;                /* SRB_SIGNATURE */
	ULONG Version;
	ULONG SrbLength;
	ULONG SrbFunction;
	ULONG SrbFlags;
	ULONG ReservedUlong2;
	ULONG RequestTag;
	USHORT RequestPriority;
	USHORT RequestAttribute;
	ULONG TimeOutValue;
	union {
		ULONG SystemStatus;
		ULONG RequestTagHigh4Bytes;
	};
	ULONG ZeroGuard1;
	ULONG AddressOffset;
	ULONG NumSrbExData;
	ULONG DataTransferLength;
	PVOID POINTER_ALIGN DataBuffer;
	PVOID POINTER_ALIGN ZeroGuard2;
	PVOID POINTER_ALIGN OriginalRequest;
	PVOID POINTER_ALIGN ClassContext;
	PVOID POINTER_ALIGN PortContext;
	PVOID POINTER_ALIGN MiniportContext;
	struct _STORAGE_REQUEST_BLOCK POINTER_ALIGN *NextSrb;
	ULONG SrbExDataOffset[ANYSIZE_ARRAY];
} STORAGE_REQUEST_BLOCK, *PSTORAGE_REQUEST_BLOCK;

#define SRB_TYPE_SCSI_REQUEST_BLOCK         0
#define SRB_TYPE_STORAGE_REQUEST_BLOCK      1
#define SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK    0x1
#define SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK 0x2

/* Unit addresses carried by SRB_EX and the unit-control callbacks. */
typedef struct STOR_ADDRESS_ALIGN _STOR_ADDRESS {
	USHORT Type;
	USHORT Port;
	ULONG AddressLength;
	UCHAR AddressData[ANYSIZE_ARRAY];
} STOR_ADDRESS, *PSTOR_ADDRESS;

#define STOR_ADDRESS_TYPE_UNKNOWN           0x0
#define STOR_ADDRESS_TYPE_BTL8              0x1
#define STOR_ADDRESS_TYPE_MAX               0xFFFF
#define STOR_ADDR_BTL8_ADDRESS_LENGTH       4
#define STORAGE_ADDRESS_TYPE_BTL8           0
#define ADDRESS_TYPE_FLAG_BTL8              (1 << STORAGE_ADDRESS_TYPE_BTL8)

typedef struct STOR_ADDRESS_ALIGN _STOR_ADDR_BTL8 {
	USHORT Type;
	USHORT Port;
	ULONG AddressLength;
	UCHAR Path;
	UCHAR Target;
	UCHAR Lun;
	UCHAR Reserved;
} STOR_ADDR_BTL8, *PSTOR_ADDR_BTL8;

/* ================================================================ adapter configuration */
typedef PHYSICAL_ADDRESS STOR_PHYSICAL_ADDRESS, *PSTOR_PHYSICAL_ADDRESS;

typedef struct _ACCESS_RANGE {
	STOR_PHYSICAL_ADDRESS RangeStart;
	ULONG RangeLength;
	BOOLEAN RangeInMemory;
} ACCESS_RANGE, *PACCESS_RANGE;

typedef struct _MEMORY_REGION {
	PUCHAR VirtualBase;
	PHYSICAL_ADDRESS PhysicalBase;
	ULONG Length;
} MEMORY_REGION, *PMEMORY_REGION;

typedef enum _STOR_SYNCHRONIZATION_MODEL {
	StorSynchronizeHalfDuplex,
	StorSynchronizeFullDuplex
} STOR_SYNCHRONIZATION_MODEL;

/* mingw's wdm.h lacks it too; guarded in case a later mingw adds it. */
#ifndef OPENVDP_HAVE_INTERRUPT_SYNCHRONIZATION_MODE
#define OPENVDP_HAVE_INTERRUPT_SYNCHRONIZATION_MODE
typedef enum _INTERRUPT_SYNCHRONIZATION_MODE {
	InterruptSupportNone,
	InterruptSynchronizeAll,
	InterruptSynchronizePerMessage
} INTERRUPT_SYNCHRONIZATION_MODE;
#endif

typedef BOOLEAN NTAPI HW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE(PVOID HwDeviceExtension,
							    ULONG MessageId);
typedef HW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE *PHW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE;

typedef struct _MESSAGE_INTERRUPT_INFORMATION {
	ULONG MessageId;
	ULONG MessageData;
	STOR_PHYSICAL_ADDRESS MessageAddress;
	ULONG InterruptVector;
	ULONG InterruptLevel;
	KINTERRUPT_MODE InterruptMode;
} MESSAGE_INTERRUPT_INFORMATION, *PMESSAGE_INTERRUPT_INFORMATION;

/* HW_INITIALIZATION_DATA.MapBuffers / PORT_CONFIGURATION_INFORMATION.MapBuffers */
#define STOR_MAP_NO_BUFFERS                         0
#define STOR_MAP_ALL_BUFFERS                        1
#define STOR_MAP_NON_READ_WRITE_BUFFERS             2
#define STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE   3

typedef struct _PORT_CONFIGURATION_INFORMATION {
	ULONG Length;
	ULONG SystemIoBusNumber;
	INTERFACE_TYPE AdapterInterfaceType;
	ULONG BusInterruptLevel;
	ULONG BusInterruptVector;
	KINTERRUPT_MODE InterruptMode;
	ULONG MaximumTransferLength;
	ULONG NumberOfPhysicalBreaks;
	ULONG DmaChannel;
	ULONG DmaPort;
	DMA_WIDTH DmaWidth;
	DMA_SPEED DmaSpeed;
	ULONG AlignmentMask;
	ULONG NumberOfAccessRanges;
	ACCESS_RANGE (*AccessRanges)[];
	PVOID MiniportDumpData;
	UCHAR NumberOfBuses;
	CCHAR InitiatorBusId[8];
	BOOLEAN ScatterGather;
	BOOLEAN Master;
	BOOLEAN CachesData;
	BOOLEAN AdapterScansDown;
	BOOLEAN AtdiskPrimaryClaimed;
	BOOLEAN AtdiskSecondaryClaimed;
	BOOLEAN Dma32BitAddresses;
	BOOLEAN DemandMode;
	UCHAR MapBuffers;
	BOOLEAN NeedPhysicalAddresses;
	BOOLEAN TaggedQueuing;
	BOOLEAN AutoRequestSense;
	BOOLEAN MultipleRequestPerLu;
	BOOLEAN ReceiveEvent;
	BOOLEAN RealModeInitialized;
	BOOLEAN BufferAccessScsiPortControlled;
	UCHAR MaximumNumberOfTargets;
	UCHAR SrbType;
	UCHAR AddressType;
	ULONG SlotNumber;
	ULONG BusInterruptLevel2;
	ULONG BusInterruptVector2;
	KINTERRUPT_MODE InterruptMode2;
	ULONG DmaChannel2;
	ULONG DmaPort2;
	DMA_WIDTH DmaWidth2;
	DMA_SPEED DmaSpeed2;
	ULONG DeviceExtensionSize;
	ULONG SpecificLuExtensionSize;
	ULONG SrbExtensionSize;
	UCHAR Dma64BitAddresses;
	BOOLEAN ResetTargetSupported;
	UCHAR MaximumNumberOfLogicalUnits;
	BOOLEAN WmiDataProvider;
	STOR_SYNCHRONIZATION_MODEL SynchronizationModel;
	PHW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE HwMSInterruptRoutine;
	INTERRUPT_SYNCHRONIZATION_MODE InterruptSynchronizationMode;
	MEMORY_REGION DumpRegion;
	ULONG RequestedDumpBufferSize;
	BOOLEAN VirtualDevice;
	UCHAR DumpMode;
	UCHAR DmaAddressWidth;          /* Windows 10 2004+; padding before */
	ULONG ExtendedFlags1;
	ULONG MaxNumberOfIO;
	ULONG MaxIOsPerLun;
	ULONG InitialLunQueueDepth;
	ULONG BusResetHoldTime;
	ULONG FeatureSupport;
} PORT_CONFIGURATION_INFORMATION, *PPORT_CONFIGURATION_INFORMATION;

/* PORT_CONFIGURATION_INFORMATION.FeatureSupport */
#define STOR_ADAPTER_FEATURE_DEVICE_TELEMETRY               0x00000001
#define STOR_ADAPTER_FEATURE_STOP_UNIT_DURING_POWER_DOWN    0x00000002
#define STOR_ADAPTER_DMA_V3_PREFERRED                       0x00000008
#define STOR_ADAPTER_FEATURE_RICH_TEMPERATURE_THRESHOLD     0x00000020

#define DUMP_MODE_CRASH                     0x01
#define DUMP_MODE_HIBER                     0x02
#define DUMP_MODE_MARK_MEMORY               0x03
#define DUMP_MODE_RESUME                    0x04

/* PORT_CONFIGURATION_INFORMATION.Dma64BitAddresses */
#define SCSI_DMA64_SYSTEM_SUPPORTED                             0x80
#define SCSI_DMA64_MINIPORT_SUPPORTED                           0x01
#define SCSI_DMA64_MINIPORT_FULL64BIT_SUPPORTED                 0x02
#define SCSI_DMA64_MINIPORT_FULL64BIT_NO_BOUNDARY_REQ_SUPPORTED 0x03

typedef struct _STOR_SCATTER_GATHER_ELEMENT {
	STOR_PHYSICAL_ADDRESS PhysicalAddress;
	ULONG Length;
	ULONG_PTR Reserved;
} STOR_SCATTER_GATHER_ELEMENT, *PSTOR_SCATTER_GATHER_ELEMENT;

typedef struct _STOR_SCATTER_GATHER_LIST {
	ULONG NumberOfElements;
	ULONG_PTR Reserved;
	STOR_SCATTER_GATHER_ELEMENT List[];
} STOR_SCATTER_GATHER_LIST, *PSTOR_SCATTER_GATHER_LIST;

typedef enum _GETSGSTATUS {
	SG_ALLOCATED = 0,
	SG_BUFFER_TOO_SMALL
} GETSGSTATUS, *PGETSGSTATUS;

/* ================================================================ adapter and unit control */
typedef enum _SCSI_ADAPTER_CONTROL_TYPE {
	ScsiQuerySupportedControlTypes = 0,
	ScsiStopAdapter,
	ScsiRestartAdapter,
	ScsiSetBootConfig,
	ScsiSetRunningConfig,
	ScsiPowerSettingNotification,
	ScsiAdapterPower,
	ScsiAdapterPoFxPowerRequired,
	ScsiAdapterPoFxPowerActive,
	ScsiAdapterPoFxPowerSetFState,
	ScsiAdapterPoFxPowerControl,
	ScsiAdapterPrepareForBusReScan,
	ScsiAdapterSystemPowerHints,
	ScsiAdapterFilterResourceRequirements,
	ScsiAdapterPoFxMaxOperationalPower,
	ScsiAdapterPoFxSetPerfState,
	ScsiAdapterSurpriseRemoval,
	ScsiAdapterSerialNumber,
	ScsiAdapterCryptoOperation,
	ScsiAdapterQueryFruId,
	ScsiAdapterSetEventLogging,
	ScsiAdapterReportInternalData,
	ScsiAdapterResetBusSynchronous,
	ScsiAdapterPostHwInitialize,
	ScsiAdapterPrepareEarlyDumpData,
	ScsiAdapterRestoreEarlyDumpData,
	ScsiAdapterKsrPowerDown,
	ScsiAdapterPreparePLDR,
	ScsiNvmeofAdapterOperation,
	ScsiAdapterControlMax,
	MakeAdapterControlTypeSizeOfUlong = 0xFFFFFFFF
} SCSI_ADAPTER_CONTROL_TYPE, *PSCSI_ADAPTER_CONTROL_TYPE;

typedef enum _SCSI_ADAPTER_CONTROL_STATUS {
	ScsiAdapterControlSuccess = 0,
	ScsiAdapterControlUnsuccessful,
	ScsiAdapterControlRetryNeeded,
	ScsiAdapterControlBufferTooSmall
} SCSI_ADAPTER_CONTROL_STATUS, *PSCSI_ADAPTER_CONTROL_STATUS;

/* Parameters of ScsiQuerySupportedControlTypes (and the unit variant). */
typedef struct _SCSI_SUPPORTED_CONTROL_TYPE_LIST {
	ULONG MaxControlType;
	BOOLEAN SupportedTypeList[];
} SCSI_SUPPORTED_CONTROL_TYPE_LIST, *PSCSI_SUPPORTED_CONTROL_TYPE_LIST;

typedef struct _STOR_POWER_CONTROL_HEADER {
	ULONG Version;
	ULONG Size;
	PSTOR_ADDRESS Address;
} STOR_POWER_CONTROL_HEADER, *PSTOR_POWER_CONTROL_HEADER;

typedef struct _STOR_POWER_SETTING_INFO {
	GUID PowerSettingGuid;
	PVOID Value;
	ULONG ValueLength;
} STOR_POWER_SETTING_INFO, *PSTOR_POWER_SETTING_INFO;

typedef struct _STOR_ADAPTER_CONTROL_POWER {
	STOR_POWER_CONTROL_HEADER Header;
	STOR_POWER_ACTION PowerAction;
	STOR_DEVICE_POWER_STATE PowerState;
} STOR_ADAPTER_CONTROL_POWER, *PSTOR_ADAPTER_CONTROL_POWER;

typedef enum _RAID_SYSTEM_POWER {
	RaidSystemPowerUnknown = 0,
	RaidSystemPowerLowest,
	RaidSystemPowerLow,
	RaidSystemPowerMedium,
	RaidSystemPowerHigh
} RAID_SYSTEM_POWER, *PRAID_SYSTEM_POWER;

typedef struct _STOR_SYSTEM_POWER_HINTS {
	ULONG Version;
	ULONG Size;
	RAID_SYSTEM_POWER SystemPower;
	ULONG ResumeLatencyMSec;
} STOR_SYSTEM_POWER_HINTS, *PSTOR_SYSTEM_POWER_HINTS;

#define STOR_FILTER_RESOURCE_REQUIREMENTS_V1 0x1
typedef struct _STOR_FILTER_RESOURCE_REQUIREMENTS {
	ULONG Version;
	ULONG Size;
	PIO_RESOURCE_REQUIREMENTS_LIST IoResourceRequirementsList;
} STOR_FILTER_RESOURCE_REQUIREMENTS, *PSTOR_FILTER_RESOURCE_REQUIREMENTS;

typedef enum _SCSI_UNIT_CONTROL_TYPE {
	ScsiQuerySupportedUnitControlTypes = 0,
	ScsiUnitUsage,
	ScsiUnitStart,
	ScsiUnitPower,
	ScsiUnitPoFxPowerInfo,
	ScsiUnitPoFxPowerRequired,
	ScsiUnitPoFxPowerActive,
	ScsiUnitPoFxPowerSetFState,
	ScsiUnitPoFxPowerControl,
	ScsiUnitRemove,
	ScsiUnitSurpriseRemoval,
	ScsiUnitRichDescription,
	ScsiUnitQueryBusType,
	ScsiUnitQueryFruId,
	ScsiUnitReportInternalData,
	ScsiUnitKsrPowerDown,
	ScsiUnitControlMax,
	MakeUnitControlTypeSizeOfUlong = 0xFFFFFFFF
} SCSI_UNIT_CONTROL_TYPE, *PSCSI_UNIT_CONTROL_TYPE;

typedef enum _SCSI_UNIT_CONTROL_STATUS {
	ScsiUnitControlSuccess = 0,
	ScsiUnitControlUnsuccessful
} SCSI_UNIT_CONTROL_STATUS, *PSCSI_UNIT_CONTROL_STATUS;

typedef enum _SCSI_UC_DEVICE_USAGE_TYPE {
	ScsiDeviceUsageTypeUndefined,
	ScsiDeviceUsageTypePaging,
	ScsiDeviceUsageTypeHibernation,
	ScsiDeviceUsageTypeDumpFile,
	ScsiDeviceUsageTypeBoot
} SCSI_UC_DEVICE_USAGE_TYPE;

typedef struct _STOR_UC_DEVICE_USAGE {
	PSTOR_ADDRESS Address;
	SCSI_UC_DEVICE_USAGE_TYPE UsageType;
	BOOLEAN InUse;
} STOR_UC_DEVICE_USAGE, *PSTOR_UC_DEVICE_USAGE;

typedef struct _STOR_UNIT_CONTROL_POWER {
	PSTOR_ADDRESS Address;
	STOR_POWER_ACTION PowerAction;
	STOR_DEVICE_POWER_STATE PowerState;
} STOR_UNIT_CONTROL_POWER, *PSTOR_UNIT_CONTROL_POWER;

/* ================================================================ DPCs and locks */
/* Same layout as KDPC; StorPort owns the contents. */
typedef struct _DPC_BUFFER {
	CSHORT Type;
	UCHAR Number;
	UCHAR Importance;
	struct {
		PVOID F;
		PVOID B;
	};
	PVOID DeferredRoutine;
	PVOID DeferredContext;
	PVOID SystemArgument1;
	PVOID SystemArgument2;
	PVOID DpcData;
} DPC_BUFFER;

typedef struct _STOR_DPC {
	DPC_BUFFER Dpc;
	ULONG_PTR Lock;
} STOR_DPC, *PSTOR_DPC;

typedef enum _STOR_SPINLOCK {
	InvalidLock = 0,
	DpcLock = 1,
	StartIoLock,
	InterruptLock,
	ThreadedDpcLock,
	DpcLevelLock
} STOR_SPINLOCK;

typedef enum _STOR_IMPORTANCE {
	StorLowImportance,
	StorMediumImportance,
	StorHighImportance,
	StorMediumHighImportance
} STOR_IMPORTANCE;

typedef struct _STOR_LOCK_HANDLE {
	STOR_SPINLOCK Lock;
	struct {
		struct {
			PVOID Next;
			PVOID Lock;
		} LockQueue;
		KIRQL OldIrql;
	} Context;
} STOR_LOCK_HANDLE, *PSTOR_LOCK_HANDLE;

/* ================================================================ performance options */
/*
 * Flag validity by PERF_CONFIGURATION_DATA.Version (Microsoft's page for the
 * structure): DPC_REDIRECTION, CONCURRENT_CHANNELS, INTERRUPT_MESSAGE_RANGES
 * from 2 (MESSAGE_RANGES needs DPC_REDIRECTION set too); ADV_CONFIG_LOCALITY
 * and OPTIMIZE_FOR_COMPLETION_DURING_STARTIO from 3; DPC_REDIRECTION_CURRENT_CPU
 * from 4; NO_SGL from 5. Query (StorPortInitializePerfOpts(TRUE)) before set.
 */
#define STOR_PERF_DPC_REDIRECTION                           0x00000001
#define STOR_PERF_CONCURRENT_CHANNELS                       0x00000002
#define STOR_PERF_INTERRUPT_MESSAGE_RANGES                  0x00000004
#define STOR_PERF_ADV_CONFIG_LOCALITY                       0x00000008
#define STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO    0x00000010
#define STOR_PERF_DPC_REDIRECTION_CURRENT_CPU               0x00000020
#define STOR_PERF_NO_SGL                                    0x00000040
#define STOR_PERF_SOFT_NUMA                                 0x00000080
#define STOR_PERF_HETEROGENEOUS_CPU                         0x00000100

#define STOR_PERF_VERSION_2     0x00000002
#define STOR_PERF_VERSION_3     0x00000003
#define STOR_PERF_VERSION_4     0x00000004
#define STOR_PERF_VERSION_5     0x00000005
#define STOR_PERF_VERSION_6     0x00000006
#define STOR_PERF_VERSION_7     0x00000007
#define STOR_PERF_VERSION_8     0x00000008
#define STOR_PERF_VERSION       STOR_PERF_VERSION_8

typedef struct _PERF_CONFIGURATION_DATA {
	ULONG Version;
	ULONG Size;
	ULONG Flags;
	ULONG ConcurrentChannels;
	ULONG FirstRedirectionMessageNumber;
	ULONG LastRedirectionMessageNumber;
	ULONG DeviceNode;
	ULONG Reserved;
	PGROUP_AFFINITY MessageTargets;
} PERF_CONFIGURATION_DATA, *PPERF_CONFIGURATION_DATA;

#define STARTIO_PERFORMANCE_PARAMETERS_VERSION_1    0x1
#define STARTIO_PERFORMANCE_PARAMETERS_VERSION_2    0x2
typedef struct _STARTIO_PERFORMANCE_PARAMETERS {
	ULONG Version;
	ULONG Size;
	ULONG MessageNumber;
	ULONG ChannelNumber;
} STARTIO_PERFORMANCE_PARAMETERS, *PSTARTIO_PERFORMANCE_PARAMETERS;

typedef struct _STARTIO_PERFORMANCE_PARAMETERS_V2 {
	ULONG Version;
	ULONG Size;
	ULONG MessageNumber;
	ULONG ChannelNumber;
	PROCESSOR_NUMBER InitiatingProcessor;
} STARTIO_PERFORMANCE_PARAMETERS_V2, *PSTARTIO_PERFORMANCE_PARAMETERS_V2;

/* ================================================================ misc types */
typedef struct _STOR_UNICODE_STRING {
	USHORT Length;
	USHORT MaximumLength;
	PWCH Buffer;
} STOR_UNICODE_STRING, *PSTOR_UNICODE_STRING;

typedef enum _STOR_IO_PRIORITY_HINT {
	StorIoPriorityVeryLow = 0,
	StorIoPriorityLow,
	StorIoPriorityNormal,
	StorIoPriorityHigh,
	StorIoPriorityCritical,
	StorIoMaxPriorityTypes,
	StorIoMaxPriorityValue = 0xFFFF
} STOR_IO_PRIORITY_HINT, *PSTOR_IO_PRIORITY_HINT;

#define STOR_REQUEST_INFO_VER_1     1
#define STOR_REQUEST_INFO_VER_2     2
typedef struct _STOR_REQUEST_INFO_V2 {
	USHORT Version;
	USHORT Size;
	STOR_IO_PRIORITY_HINT PriorityHint;
	ULONG Flags;
	ULONG Key;
	ULONG Length;
	BOOLEAN IsWriteRequest;
	UCHAR Reserved[3];
	PSTOR_UNICODE_STRING FileName;
	ULONG ProcessId;
} STOR_REQUEST_INFO_V2, *PSTOR_REQUEST_INFO_V2;
typedef STOR_REQUEST_INFO_V2 STOR_REQUEST_INFO, *PSTOR_REQUEST_INFO;

typedef struct _STOR_UNIT_ATTRIBUTES {
	ULONG DeviceAttentionSupported : 1;
	ULONG AsyncNotificationSupported : 1;
	ULONG D3ColdNotSupported : 1;
	ULONG BypassIOSupported : 1;
	ULONG Reserved : 28;
} STOR_UNIT_ATTRIBUTES, *PSTOR_UNIT_ATTRIBUTES;

typedef enum _STOR_EVENT_ASSOCIATION_ENUM {
	StorEventAdapterAssociation = 0,
	StorEventLunAssociation,
	StorEventTargetAssociation,
	StorEventInvalidAssociation
} STOR_EVENT_ASSOCIATION_ENUM;

typedef struct _STOR_LOG_EVENT_DETAILS {
	ULONG InterfaceRevision;
	ULONG Size;
	ULONG Flags;
	STOR_EVENT_ASSOCIATION_ENUM EventAssociation;
	ULONG PathId;
	ULONG TargetId;
	ULONG LunId;
	BOOLEAN StorportSpecificErrorCode;
	ULONG ErrorCode;
	ULONG UniqueId;
	ULONG DumpDataSize;
	PVOID DumpData;
	ULONG StringCount;
	PWSTR *StringList;
} STOR_LOG_EVENT_DETAILS, *PSTOR_LOG_EVENT_DETAILS;

#define DUMP_MINIPORT_VERSION_1     0x0100
#define DUMP_MINIPORT_NAME_LENGTH   15
typedef struct _MINIPORT_DUMP_POINTERS {
	USHORT Version;
	USHORT Size;
	WCHAR DriverName[DUMP_MINIPORT_NAME_LENGTH];
	struct _ADAPTER_OBJECT *AdapterObject;
	PVOID MappedRegisterBase;
	ULONG CommonBufferSize;
	PVOID MiniportPrivateDumpData;
	ULONG SystemIoBusNumber;
	INTERFACE_TYPE AdapterInterfaceType;
	ULONG MaximumTransferLength;
	ULONG NumberOfPhysicalBreaks;
	ULONG AlignmentMask;
	ULONG NumberOfAccessRanges;
	ACCESS_RANGE (*AccessRanges)[];
	UCHAR NumberOfBuses;
	BOOLEAN Master;
	BOOLEAN MapBuffers;
	UCHAR MaximumNumberOfTargets;
} MINIPORT_DUMP_POINTERS, *PMINIPORT_DUMP_POINTERS;

/* ================================================================ return codes */
#define STOR_STATUS_SUCCESS                 0x00000000UL
#define STOR_STATUS_UNSUCCESSFUL            0xC1000001UL
#define STOR_STATUS_NOT_IMPLEMENTED         0xC1000002UL
#define STOR_STATUS_INSUFFICIENT_RESOURCES  0xC1000003UL
#define STOR_STATUS_BUFFER_TOO_SMALL        0xC1000004UL
#define STOR_STATUS_ACCESS_DENIED           0xC1000005UL
#define STOR_STATUS_INVALID_PARAMETER       0xC1000006UL
#define STOR_STATUS_INVALID_DEVICE_REQUEST  0xC1000007UL
#define STOR_STATUS_INVALID_IRQL            0xC1000008UL
#define STOR_STATUS_INVALID_DEVICE_STATE    0xC1000009UL
#define STOR_STATUS_INVALID_BUFFER_SIZE     0xC100000AUL
#define STOR_STATUS_UNSUPPORTED_VERSION     0xC100000BUL
#define STOR_STATUS_BUSY                    0xC100000CUL
#define STOR_STATUS_THROTTLED_REQUEST       0xC100000DUL
#define STOR_STATUS_TIMEOUT                 0xC100000EUL
#define STOR_STATUS_INVALID_DATA            0xC100000FUL

/* StorPortLogError error codes */
#define SP_BUS_PARITY_ERROR             0x0001
#define SP_UNEXPECTED_DISCONNECT        0x0002
#define SP_INVALID_RESELECTION          0x0003
#define SP_BUS_TIME_OUT                 0x0004
#define SP_PROTOCOL_ERROR               0x0005
#define SP_INTERNAL_ADAPTER_ERROR       0x0006
#define SP_REQUEST_TIMEOUT              0x0007
#define SP_IRQ_NOT_RESPONDING           0x0008
#define SP_BAD_FW_WARNING               0x0009
#define SP_BAD_FW_ERROR                 0x000A
#define SP_LOST_WMI_MINIPORT_REQUEST    0x000B

/* HwFindAdapter return values */
#define SP_RETURN_NOT_FOUND             0
#define SP_RETURN_FOUND                 1
#define SP_RETURN_ERROR                 2
#define SP_RETURN_BAD_CONFIG            3

/* ================================================================ notification and extended functions */
/* StorPortNotification codes; 0x1000+ are StorPort-only (the inline wrappers). */
typedef enum _SCSI_NOTIFICATION_TYPE {
	RequestComplete,
	NextRequest,
	NextLuRequest,
	ResetDetected,
	_obsolete1,
	_obsolete2,
	RequestTimerCall,
	BusChangeDetected,
	WMIEvent,
	WMIReregister,
	LinkUp,
	LinkDown,
	QueryTickCount,
	BufferOverrunDetected,
	TraceNotification,
	GetExtendedFunctionTable,
	EnablePassiveInitialization = 0x1000,
	InitializeDpc,
	IssueDpc,
	AcquireSpinLock,
	ReleaseSpinLock,
	StateChangeDetectedCall,
	IoTargetRequestServiceTime,
	AsyncNotificationDetected,
	RequestDirectComplete,
	InitializeDpcWithContext,
	InitializeThreadedDpc,
	SetTargetProcessorDpc,
	MarkDeviceFailed,
	MarkDeviceFailedEx,
	TerminateSystemThread,
	NvmeofNotification
} SCSI_NOTIFICATION_TYPE, *PSCSI_NOTIFICATION_TYPE;

/* StorPortExtendedFunction codes: the order IS the ABI, never reorder. */
typedef enum _STORPORT_FUNCTION_CODE {
	ExtFunctionAllocatePool,
	ExtFunctionFreePool,
	ExtFunctionAllocateMdl,
	ExtFunctionFreeMdl,
	ExtFunctionBuildMdlForNonPagedPool,
	ExtFunctionGetSystemAddress,
	ExtFunctionGetOriginalMdl,
	ExtFunctionCompleteServiceIrp,
	ExtFunctionGetDeviceObjects,
	ExtFunctionBuildScatterGatherList,
	ExtFunctionPutScatterGatherList,
	ExtFunctionAcquireMSISpinLock,
	ExtFunctionReleaseMSISpinLock,
	ExtFunctionGetMessageInterruptInformation,
	ExtFunctionInitializePerformanceOptimizations,
	ExtFunctionGetStartIoPerformanceParameters,
	ExtFunctionLogSystemEvent,
	ExtFunctionGetCurrentProcessorNumber,
	ExtFunctionGetActiveGroupCount,
	ExtFunctionGetGroupAffinity,
	ExtFunctionGetActiveNodeCount,
	ExtFunctionGetNodeAffinity,
	ExtFunctionGetHighestNodeNumber,
	ExtFunctionGetLogicalProcessorRelationship,
	ExtFunctionAllocateContiguousMemorySpecifyCacheNode,
	ExtFunctionFreeContiguousMemorySpecifyCache,
	ExtFunctionSetPowerSettingNotificationGuids,
	ExtFunctionInvokeAcpiMethod,
	ExtFunctionGetRequestInfo,
	ExtFunctionInitializeWorker,
	ExtFunctionQueueWorkItem,
	ExtFunctionFreeWorker,
	ExtFunctionInitializeTimer,
	ExtFunctionRequestTimer,
	ExtFunctionFreeTimer,
	ExtFunctionInitializeSListHead,
	ExtFunctionInterlockedFlushSList,
	ExtFunctionInterlockedPopEntrySList,
	ExtFunctionInterlockedPushEntrySList,
	ExtFunctionQueryDepthSList,
	ExtFunctionGetActivityId,
	ExtFunctionGetSystemPortNumber,
	ExtFunctionGetDataInBufferMdl,
	ExtFunctionGetDataInBufferSystemAddress,
	ExtFunctionGetDataInBufferScatterGatherList,
	ExtFunctionMarkDumpMemory,
	ExtFunctionSetUnitAttributes,
	ExtFunctionQueryPerformanceCounter,
	ExtFunctionInitializePoFxPower,
	ExtFunctionPoFxActivateComponent,
	ExtFunctionPoFxIdleComponent,
	ExtFunctionPoFxSetComponentLatency,
	ExtFunctionPoFxSetComponentResidency,
	ExtFunctionPoFxPowerControl,
	ExtFunctionFlushDataBufferMdl,
	ExtFunctionDeviceOperationAllowed,
	ExtFunctionGetProcessorIndexFromNumber,
	ExtFunctionPoFxSetIdleTimeout,
	ExtFunctionMiniportEtwEvent2,
	ExtFunctionMiniportEtwEvent4,
	ExtFunctionMiniportEtwEvent8,
	ExtFunctionCurrentOsInstallationUpgrade,
	ExtFunctionRegistryReadAdapterKey,
	ExtFunctionRegistryWriteAdapterKey,
	ExtFunctionSetAdapterBusType,
	ExtFunctionPoFxRegisterPerfStates,
	ExtFunctionPoFxSetPerfState,
	ExtFunctionGetD3ColdSupport,
	ExtFunctionInitializeRpmb,
	ExtFunctionAllocateHmb,
	ExtFunctionFreeHmb,
	ExtFunctionPropagateIrpExtension,
	ExtFunctionInterlockedInsertHeadList,
	ExtFunctionInterlockedInsertTailList,
	ExtFunctionInterlockedRemoveHeadList,
	ExtFunctionInitializeSpinlock,
	ExtFunctionGetPfns,
	ExtFunctionInitializeCryptoEngine,
	ExtFunctionGetRequestCryptoInfo,
	ExtFunctionMiniportTelemetry,
	ExtFunctionUpdateAdapterMaxIO,
	ExtFunctionDelayExecution,
	ExtFunctionAllocateDmaMemory,
	ExtFunctionFreeDmaMemory,
	ExtFunctionUpdateAdapterMaxIOInfo,
	ExtFunctionMiniportChannelEtwEvent2,
	ExtFunctionMiniportChannelEtwEvent4,
	ExtFunctionMiniportChannelEtwEvent8,
	ExtFunctionInitializeHighResolutionTimer,
	ExtFunctionRequestHighResolutionTimer,
	ExtFunctionCancelHighResolutionTimer,
	ExtFunctionFreeHighResolutionTimer,
	ExtFunctionGetCurrentProcessorIndex,
	ExtFunctionAcquireSpinLock,
	ExtFunctionGetProcessorCount,
	ExtFunctionCancelDpc,
	ExtFunctionMiniportTelemetryEx,
	ExtFunctionQueryConfiguration,
	ExtFunctionLogHardwareError,
	ExtFunctionInitializeEvent,
	ExtFunctionWaitForEvent,
	ExtFunctionSetEvent,
	ExtFunctionDeviceReset,
	ExtFunctionSetFeatureList,
	ExtFunctionCaptureLiveDump,
	ExtFunctionMiniportLogByteStream,
	ExtFunctionQueryDpcWatchdogInformation,
	ExtFunctionQueryTimerMinInterval,
	ExtFunctionMaskPciMsixEntry,
	ExtFunctionGetCurrentIrql,
	ExtFunctionCreateSystemThread,
	ExtFunctionSetPriorityThread,
	ExtFunctionSetSystemGroupAffinityThread,
	ExtFunctionRevertToUserGroupAffinityThread,
	ExtFunctionDeviceResetEx,
	ExtFunctionMiniportReportInternalData,
	ExtFunctionGetMessageInterruptIDFromProcessorIndex,
	ExtFunctionGetNodeAffinity2,
	ExtFunctionEnableRegistryKeyNotification,
	ExtFunctionPoFxRegisterPerfStatesEx,
	ExtFunctionReadRegistryKey,
	ExtFunctionGetDeviceBase2,
	ExtFunctionIsDriverHotSwapEnabled,
	ExtFunctionRegisterDriverProxy,
	ExtFunctionRegisterDriverProxyEndpoints,
	ExtFunctionGetDriverProxyEndpointWrapper,
	ExtFunctionNvmeIceIoStart,
	ExtFunctionNvmeIceIoComplete,
	ExtFunctionNvmeMiniportEvent,
	ExtFunctionNvmeMiniportTelemetry
} STORPORT_FUNCTION_CODE, *PSTORPORT_FUNCTION_CODE;

/* ================================================================ miniport callbacks */
/* Every callback is NTAPI: the WDK compiles with /Gz, so on x86 they are stdcall. */
typedef ULONG NTAPI sp_DRIVER_INITIALIZE(PVOID DriverObject, PVOID RegistryPath);
typedef BOOLEAN NTAPI HW_INITIALIZE(PVOID DeviceExtension);
typedef HW_INITIALIZE *PHW_INITIALIZE;
typedef BOOLEAN NTAPI HW_BUILDIO(PVOID DeviceExtension, PSCSI_REQUEST_BLOCK Srb);
typedef HW_BUILDIO *PHW_BUILDIO;
typedef BOOLEAN NTAPI HW_STARTIO(PVOID DeviceExtension, PSCSI_REQUEST_BLOCK Srb);
typedef HW_STARTIO *PHW_STARTIO;
typedef BOOLEAN NTAPI HW_INTERRUPT(PVOID DeviceExtension);
typedef HW_INTERRUPT *PHW_INTERRUPT;
typedef VOID NTAPI HW_TIMER(PVOID DeviceExtension);
typedef HW_TIMER *PHW_TIMER;
typedef VOID NTAPI HW_TIMER_EX(PVOID DeviceExtension, PVOID Context);
typedef HW_TIMER_EX *PHW_TIMER_EX;
typedef VOID NTAPI HW_DMA_STARTED(PVOID DeviceExtension);
typedef HW_DMA_STARTED *PHW_DMA_STARTED;
typedef ULONG NTAPI HW_FIND_ADAPTER(PVOID DeviceExtension, PVOID HwContext,
				    PVOID BusInformation, PCHAR ArgumentString,
				    PPORT_CONFIGURATION_INFORMATION ConfigInfo,
				    PBOOLEAN Reserved3);
typedef HW_FIND_ADAPTER *PHW_FIND_ADAPTER;
typedef BOOLEAN NTAPI HW_RESET_BUS(PVOID DeviceExtension, ULONG PathId);
typedef HW_RESET_BUS *PHW_RESET_BUS;
typedef BOOLEAN NTAPI HW_ADAPTER_STATE(PVOID DeviceExtension, PVOID Context,
				       BOOLEAN SaveState);
typedef HW_ADAPTER_STATE *PHW_ADAPTER_STATE;
typedef SCSI_ADAPTER_CONTROL_STATUS NTAPI HW_ADAPTER_CONTROL(PVOID DeviceExtension,
							     SCSI_ADAPTER_CONTROL_TYPE ControlType,
							     PVOID Parameters);
typedef HW_ADAPTER_CONTROL *PHW_ADAPTER_CONTROL;
typedef BOOLEAN NTAPI HW_PASSIVE_INITIALIZE_ROUTINE(PVOID DeviceExtension);
typedef HW_PASSIVE_INITIALIZE_ROUTINE *PHW_PASSIVE_INITIALIZE_ROUTINE;
typedef VOID NTAPI HW_DPC_ROUTINE(PSTOR_DPC Dpc, PVOID HwDeviceExtension,
				  PVOID SystemArgument1, PVOID SystemArgument2);
typedef HW_DPC_ROUTINE *PHW_DPC_ROUTINE;
typedef VOID NTAPI HW_WORKITEM(PVOID HwDeviceExtension, PVOID Context, PVOID Worker);
typedef HW_WORKITEM *PHW_WORKITEM;
typedef VOID NTAPI HW_STATE_CHANGE(PVOID HwDeviceExtension, PVOID Context,
				   SHORT AddressType, PVOID Address, ULONG Status);
typedef HW_STATE_CHANGE *PHW_STATE_CHANGE;
typedef VOID NTAPI HW_TRACING_ENABLED(PVOID HwDeviceExtension, BOOLEAN Enabled);
typedef HW_TRACING_ENABLED *PHW_TRACING_ENABLED;
typedef SCSI_UNIT_CONTROL_STATUS NTAPI HW_UNIT_CONTROL(PVOID DeviceExtension,
						       SCSI_UNIT_CONTROL_TYPE ControlType,
						       PVOID Parameters);
typedef HW_UNIT_CONTROL *PHW_UNIT_CONTROL;
typedef VOID NTAPI HW_FREE_ADAPTER_RESOURCES(PVOID DeviceExtension);
typedef HW_FREE_ADAPTER_RESOURCES *PHW_FREE_ADAPTER_RESOURCES;
typedef VOID NTAPI HW_PROCESS_SERVICE_REQUEST(PVOID DeviceExtension, PVOID Irp);
typedef HW_PROCESS_SERVICE_REQUEST *PHW_PROCESS_SERVICE_REQUEST;
typedef VOID NTAPI HW_COMPLETE_SERVICE_IRP(PVOID DeviceExtension);
typedef HW_COMPLETE_SERVICE_IRP *PHW_COMPLETE_SERVICE_IRP;
typedef VOID NTAPI HW_INITIALIZE_TRACING(PVOID Arg1, PVOID Arg2);
typedef HW_INITIALIZE_TRACING *PHW_INITIALIZE_TRACING;
typedef VOID NTAPI HW_CLEANUP_TRACING(PVOID Arg1);
typedef HW_CLEANUP_TRACING *PHW_CLEANUP_TRACING;
typedef BOOLEAN NTAPI STOR_SYNCHRONIZED_ACCESS(PVOID HwDeviceExtension, PVOID Context);
typedef STOR_SYNCHRONIZED_ACCESS *PSTOR_SYNCHRONIZED_ACCESS;
typedef VOID NTAPI POST_SCATTER_GATHER_EXECUTE(PVOID *DeviceObject, PVOID *Irp,
					       PSTOR_SCATTER_GATHER_LIST ScatterGather,
					       PVOID Context);
typedef POST_SCATTER_GATHER_EXECUTE *PPOST_SCATTER_GATHER_EXECUTE;

typedef struct _HW_INITIALIZATION_DATA {
	ULONG HwInitializationDataSize;
	INTERFACE_TYPE AdapterInterfaceType;
	PHW_INITIALIZE HwInitialize;
	PHW_STARTIO HwStartIo;
	PHW_INTERRUPT HwInterrupt;
	PHW_FIND_ADAPTER HwFindAdapter;
	PHW_RESET_BUS HwResetBus;
	PHW_DMA_STARTED HwDmaStarted;
	PHW_ADAPTER_STATE HwAdapterState;
	ULONG DeviceExtensionSize;
	ULONG SpecificLuExtensionSize;
	ULONG SrbExtensionSize;
	ULONG NumberOfAccessRanges;
	PVOID Reserved;
	UCHAR MapBuffers;               /* STOR_MAP_* */
	BOOLEAN NeedPhysicalAddresses;
	BOOLEAN TaggedQueuing;
	BOOLEAN AutoRequestSense;
	BOOLEAN MultipleRequestPerLu;
	BOOLEAN ReceiveEvent;
	USHORT VendorIdLength;
	PVOID VendorId;
	union {
		USHORT ReservedUshort;
		USHORT PortVersionFlags;
	};
	USHORT DeviceIdLength;
	PVOID DeviceId;
	PHW_ADAPTER_CONTROL HwAdapterControl;
	PHW_BUILDIO HwBuildIo;
	PHW_FREE_ADAPTER_RESOURCES HwFreeAdapterResources;
	PHW_PROCESS_SERVICE_REQUEST HwProcessServiceRequest;
	PHW_COMPLETE_SERVICE_IRP HwCompleteServiceIrp;
	PHW_INITIALIZE_TRACING HwInitializeTracing;
	PHW_CLEANUP_TRACING HwCleanupTracing;
	PHW_TRACING_ENABLED HwTracingEnabled;
	ULONG FeatureSupport;           /* STOR_FEATURE_* */
	ULONG SrbTypeFlags;             /* SRB_TYPE_FLAG_* */
	ULONG AddressTypeFlags;         /* ADDRESS_TYPE_FLAG_* */
	ULONG Reserved1;
	PHW_UNIT_CONTROL HwUnitControl;
} HW_INITIALIZATION_DATA, *PHW_INITIALIZATION_DATA;

/* Virtual miniports (STOR_FEATURE_VIRTUAL_MINIPORT) get the lower device too. */
typedef ULONG NTAPI VIRTUAL_HW_FIND_ADAPTER(PVOID DeviceExtension, PVOID HwContext,
					    PVOID BusInformation, PVOID LowerDevice,
					    PCHAR ArgumentString,
					    PPORT_CONFIGURATION_INFORMATION ConfigInfo,
					    PBOOLEAN Again);
typedef VIRTUAL_HW_FIND_ADAPTER *PVIRTUAL_HW_FIND_ADAPTER;

typedef struct _VIRTUAL_HW_INITIALIZATION_DATA {
	ULONG HwInitializationDataSize;
	INTERFACE_TYPE AdapterInterfaceType;
	PHW_INITIALIZE HwInitialize;
	PHW_STARTIO HwStartIo;
	PHW_INTERRUPT HwInterrupt;
	PVIRTUAL_HW_FIND_ADAPTER HwFindAdapter;
	PHW_RESET_BUS HwResetBus;
	PHW_DMA_STARTED HwDmaStarted;
	PHW_ADAPTER_STATE HwAdapterState;
	ULONG DeviceExtensionSize;
	ULONG SpecificLuExtensionSize;
	ULONG SrbExtensionSize;
	ULONG NumberOfAccessRanges;
	PVOID Reserved;
	UCHAR MapBuffers;
	BOOLEAN NeedPhysicalAddresses;
	BOOLEAN TaggedQueuing;
	BOOLEAN AutoRequestSense;
	BOOLEAN MultipleRequestPerLu;
	BOOLEAN ReceiveEvent;
	USHORT VendorIdLength;
	PVOID VendorId;
	union {
		USHORT ReservedUshort;
		USHORT PortVersionFlags;
	};
	USHORT DeviceIdLength;
	PVOID DeviceId;
	PHW_ADAPTER_CONTROL HwAdapterControl;
	PHW_BUILDIO HwBuildIo;
	PHW_FREE_ADAPTER_RESOURCES HwFreeAdapterResources;
	PHW_PROCESS_SERVICE_REQUEST HwProcessServiceRequest;
	PHW_COMPLETE_SERVICE_IRP HwCompleteServiceIrp;
	PHW_INITIALIZE_TRACING HwInitializeTracing;
	PHW_CLEANUP_TRACING HwCleanupTracing;
} VIRTUAL_HW_INITIALIZATION_DATA, *PVIRTUAL_HW_INITIALIZATION_DATA;

/* Windows 7's StorPort knows HW_INITIALIZATION_DATA only up to HwBuildIo. */
#define HW_INIT_DATA_SIZE_PHYSICAL  FIELD_OFFSET(HW_INITIALIZATION_DATA, HwFreeAdapterResources)
#define HW_INIT_DATA_SIZE_VIRTUAL   FIELD_OFFSET(HW_INITIALIZATION_DATA, HwTracingEnabled)

/* HW_INITIALIZATION_DATA.FeatureSupport */
#define STOR_FEATURE_VIRTUAL_MINIPORT                       0x00000001
#define STOR_FEATURE_ATA_PASS_THROUGH                       0x00000002
#define STOR_FEATURE_FULL_PNP_DEVICE_CAPABILITIES           0x00000004
#define STOR_FEATURE_DUMP_POINTERS                          0x00000008
#define STOR_FEATURE_DEVICE_NAME_NO_SUFFIX                  0x00000010
#define STOR_FEATURE_DUMP_RESUME_CAPABLE                    0x00000020
#define STOR_FEATURE_DEVICE_DESCRIPTOR_FROM_ATA_INFO_VPD    0x00000040
#define STOR_FEATURE_EXTRA_IO_INFORMATION                   0x00000080
#define STOR_FEATURE_ADAPTER_CONTROL_PRE_FINDADAPTER        0x00000100
#define STOR_FEATURE_ADAPTER_NOT_REQUIRE_IO_PORT            0x00000200
#define STOR_FEATURE_SET_ADAPTER_INTERFACE_TYPE             0x00000800
#define STOR_FEATURE_DUMP_INFO                              0x00001000
#define STOR_FEATURE_SUPPORTS_NVME_ADAPTER                  0x00004000

/* ================================================================ exported routines */
STORPORT_API ULONG NTAPI StorPortInitialize(PVOID Argument1, PVOID Argument2,
					    struct _HW_INITIALIZATION_DATA *HwInitializationData,
					    PVOID HwContext);
STORPORT_API VOID NTAPI StorPortFreeDeviceBase(PVOID HwDeviceExtension, PVOID MappedAddress);
STORPORT_API ULONG NTAPI StorPortGetBusData(PVOID DeviceExtension, ULONG BusDataType,
					    ULONG SystemIoBusNumber, ULONG SlotNumber,
					    PVOID Buffer, ULONG Length);
STORPORT_API ULONG NTAPI StorPortSetBusDataByOffset(PVOID DeviceExtension, ULONG BusDataType,
						    ULONG SystemIoBusNumber, ULONG SlotNumber,
						    PVOID Buffer, ULONG Offset, ULONG Length);
STORPORT_API PVOID NTAPI StorPortGetDeviceBase(PVOID HwDeviceExtension, INTERFACE_TYPE BusType,
					       ULONG SystemIoBusNumber,
					       STOR_PHYSICAL_ADDRESS IoAddress,
					       ULONG NumberOfBytes, BOOLEAN InIoSpace);
STORPORT_API PVOID NTAPI StorPortGetLogicalUnit(PVOID HwDeviceExtension, UCHAR PathId,
						UCHAR TargetId, UCHAR Lun);
STORPORT_API PSTOR_SCATTER_GATHER_LIST NTAPI StorPortGetScatterGatherList(PVOID HwDeviceExtension,
									  PSCSI_REQUEST_BLOCK Srb);
STORPORT_API STOR_PHYSICAL_ADDRESS NTAPI StorPortGetPhysicalAddress(PVOID HwDeviceExtension,
								    PSCSI_REQUEST_BLOCK Srb,
								    PVOID VirtualAddress,
								    ULONG *Length);
STORPORT_API PVOID NTAPI StorPortGetVirtualAddress(PVOID HwDeviceExtension,
						   STOR_PHYSICAL_ADDRESS PhysicalAddress);
STORPORT_API PVOID NTAPI StorPortGetUncachedExtension(PVOID HwDeviceExtension,
						      PPORT_CONFIGURATION_INFORMATION ConfigInfo,
						      ULONG NumberOfBytes);
STORPORT_API BOOLEAN NTAPI StorPortPauseDevice(PVOID HwDeviceExtension, UCHAR PathId,
					       UCHAR TargetId, UCHAR Lun, ULONG Timeout);
STORPORT_API BOOLEAN NTAPI StorPortResumeDevice(PVOID HwDeviceExtension, UCHAR PathId,
						UCHAR TargetId, UCHAR Lun);
STORPORT_API BOOLEAN NTAPI StorPortPause(PVOID HwDeviceExtension, ULONG Timeout);
STORPORT_API BOOLEAN NTAPI StorPortResume(PVOID HwDeviceExtension);
STORPORT_API BOOLEAN NTAPI StorPortDeviceBusy(PVOID HwDeviceExtension, UCHAR PathId,
					      UCHAR TargetId, UCHAR Lun,
					      ULONG RequestsToComplete);
STORPORT_API BOOLEAN NTAPI StorPortDeviceReady(PVOID HwDeviceExtension, UCHAR PathId,
					       UCHAR TargetId, UCHAR Lun);
STORPORT_API BOOLEAN NTAPI StorPortBusy(PVOID HwDeviceExtension, ULONG RequestsToComplete);
STORPORT_API BOOLEAN NTAPI StorPortReady(PVOID HwDeviceExtension);
STORPORT_API BOOLEAN NTAPI StorPortSetDeviceQueueDepth(PVOID HwDeviceExtension, UCHAR PathId,
						       UCHAR TargetId, UCHAR Lun, ULONG Depth);
/* cdecl varargs: undecorated on x86 */
STORPORT_API VOID __cdecl StorPortNotification(SCSI_NOTIFICATION_TYPE NotificationType,
					       PVOID HwDeviceExtension, ...);
STORPORT_API VOID NTAPI StorPortLogError(PVOID HwDeviceExtension, PSCSI_REQUEST_BLOCK Srb,
					 UCHAR PathId, UCHAR TargetId, UCHAR Lun,
					 ULONG ErrorCode, ULONG UniqueId);
STORPORT_API VOID NTAPI StorPortCompleteRequest(PVOID HwDeviceExtension, UCHAR PathId,
						UCHAR TargetId, UCHAR Lun, UCHAR SrbStatus);
STORPORT_API VOID NTAPI StorPortStallExecution(ULONG Delay);
STORPORT_API BOOLEAN NTAPI StorPortSynchronizeAccess(PVOID HwDeviceExtension,
						     PSTOR_SYNCHRONIZED_ACCESS SynchronizedAccessRoutine,
						     PVOID Context);

/* Port and register access: HwDeviceExtension first (mingw v10 omits it). */
STORPORT_API UCHAR NTAPI StorPortReadPortUchar(PVOID HwDeviceExtension, PUCHAR Port);
STORPORT_API USHORT NTAPI StorPortReadPortUshort(PVOID HwDeviceExtension, PUSHORT Port);
STORPORT_API ULONG NTAPI StorPortReadPortUlong(PVOID HwDeviceExtension, PULONG Port);
STORPORT_API VOID NTAPI StorPortReadPortBufferUchar(PVOID HwDeviceExtension, PUCHAR Port,
						    PUCHAR Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortReadPortBufferUshort(PVOID HwDeviceExtension, PUSHORT Port,
						     PUSHORT Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortReadPortBufferUlong(PVOID HwDeviceExtension, PULONG Port,
						    PULONG Buffer, ULONG Count);
STORPORT_API UCHAR NTAPI StorPortReadRegisterUchar(PVOID HwDeviceExtension, PUCHAR Register);
STORPORT_API USHORT NTAPI StorPortReadRegisterUshort(PVOID HwDeviceExtension, PUSHORT Register);
STORPORT_API ULONG NTAPI StorPortReadRegisterUlong(PVOID HwDeviceExtension, PULONG Register);
STORPORT_API VOID NTAPI StorPortReadRegisterBufferUchar(PVOID HwDeviceExtension, PUCHAR Register,
							PUCHAR Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortReadRegisterBufferUshort(PVOID HwDeviceExtension, PUSHORT Register,
							 PUSHORT Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortReadRegisterBufferUlong(PVOID HwDeviceExtension, PULONG Register,
							PULONG Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWritePortUchar(PVOID HwDeviceExtension, PUCHAR Port, UCHAR Value);
STORPORT_API VOID NTAPI StorPortWritePortUshort(PVOID HwDeviceExtension, PUSHORT Port, USHORT Value);
STORPORT_API VOID NTAPI StorPortWritePortUlong(PVOID HwDeviceExtension, PULONG Port, ULONG Value);
STORPORT_API VOID NTAPI StorPortWritePortBufferUchar(PVOID HwDeviceExtension, PUCHAR Port,
						     PUCHAR Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWritePortBufferUshort(PVOID HwDeviceExtension, PUSHORT Port,
						      PUSHORT Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWritePortBufferUlong(PVOID HwDeviceExtension, PULONG Port,
						     PULONG Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWriteRegisterUchar(PVOID HwDeviceExtension, PUCHAR Register,
						   UCHAR Value);
STORPORT_API VOID NTAPI StorPortWriteRegisterUshort(PVOID HwDeviceExtension, PUSHORT Register,
						    USHORT Value);
STORPORT_API VOID NTAPI StorPortWriteRegisterUlong(PVOID HwDeviceExtension, PULONG Register,
						   ULONG Value);
STORPORT_API VOID NTAPI StorPortWriteRegisterBufferUchar(PVOID HwDeviceExtension, PUCHAR Register,
							 PUCHAR Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWriteRegisterBufferUshort(PVOID HwDeviceExtension, PUSHORT Register,
							  PUSHORT Buffer, ULONG Count);
STORPORT_API VOID NTAPI StorPortWriteRegisterBufferUlong(PVOID HwDeviceExtension, PULONG Register,
							 PULONG Buffer, ULONG Count);

STORPORT_API VOID NTAPI StorPortMoveMemory(PVOID WriteBuffer, PVOID ReadBuffer, ULONG Length);
#define StorPortCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
STORPORT_API STOR_PHYSICAL_ADDRESS NTAPI StorPortConvertUlongToPhysicalAddress(ULONG_PTR UlongAddress);
STORPORT_API ULONG NTAPI StorPortConvertPhysicalAddressToUlong(STOR_PHYSICAL_ADDRESS Address);
/* As in the WDK, the conversion is done inline; "(StorPortConvert...)(a)" reaches the export. */
#define StorPortConvertPhysicalAddressToUlong(Address) ((Address).LowPart)
STORPORT_API VOID NTAPI StorPortQuerySystemTime(PLARGE_INTEGER CurrentTime);

#define MINIPORT_REG_SZ         1
#define MINIPORT_REG_BINARY     3
#define MINIPORT_REG_DWORD      4
#define MINIPORT_REG_MULTI_SZ   7

STORPORT_API PUCHAR NTAPI StorPortAllocateRegistryBuffer(PVOID HwDeviceExtension, PULONG Length);
STORPORT_API VOID NTAPI StorPortFreeRegistryBuffer(PVOID HwDeviceExtension, PUCHAR Buffer);
STORPORT_API BOOLEAN NTAPI StorPortRegistryRead(PVOID HwDeviceExtension, PUCHAR ValueName,
						ULONG Global, ULONG Type, PUCHAR Buffer,
						PULONG BufferLength);
STORPORT_API BOOLEAN NTAPI StorPortRegistryWrite(PVOID HwDeviceExtension, PUCHAR ValueName,
						 ULONG Global, ULONG Type, PUCHAR Buffer,
						 ULONG BufferLength);
STORPORT_API BOOLEAN NTAPI StorPortValidateRange(PVOID HwDeviceExtension, INTERFACE_TYPE BusType,
						 ULONG SystemIoBusNumber,
						 STOR_PHYSICAL_ADDRESS IoAddress,
						 ULONG NumberOfBytes, BOOLEAN InIoSpace);
STORPORT_API VOID __cdecl StorPortDebugPrint(ULONG DebugPrintLevel, PCCHAR DebugMessage, ...);
STORPORT_API ULONG __cdecl StorPortExtendedFunction(STORPORT_FUNCTION_CODE FunctionCode,
						    PVOID HwDeviceExtension, ...);

/* ================================================================ StorPortNotification wrappers */
STOR_INLINE BOOLEAN StorPortEnablePassiveInitialization(PVOID DeviceExtension,
							PHW_PASSIVE_INITIALIZE_ROUTINE HwPassiveInitializeRoutine)
{
	LONG succeeded = FALSE;

	StorPortNotification(EnablePassiveInitialization, DeviceExtension,
			     HwPassiveInitializeRoutine, &succeeded);
	return (BOOLEAN)succeeded;
}

STOR_INLINE VOID StorPortInitializeDpc(PVOID DeviceExtension, PSTOR_DPC Dpc,
				       PHW_DPC_ROUTINE HwDpcRoutine)
{
	StorPortNotification(InitializeDpc, DeviceExtension, Dpc, HwDpcRoutine);
}

STOR_INLINE VOID StorPortInitializeDpcWithContext(PVOID DeviceExtension, PSTOR_DPC Dpc,
						  PHW_DPC_ROUTINE HwDpcRoutine,
						  PVOID Context, ULONG Importance)
{
	StorPortNotification(InitializeDpcWithContext, DeviceExtension, Dpc, HwDpcRoutine,
			     Context, Importance);
}

STOR_INLINE BOOLEAN StorPortIssueDpc(PVOID DeviceExtension, PSTOR_DPC Dpc,
				     PVOID SystemArgument1, PVOID SystemArgument2)
{
	LONG succeeded = FALSE;

	StorPortNotification(IssueDpc, DeviceExtension, Dpc, SystemArgument1,
			     SystemArgument2, &succeeded);
	return (BOOLEAN)succeeded;
}

STOR_INLINE VOID StorPortAcquireSpinLock(PVOID DeviceExtension, STOR_SPINLOCK SpinLock,
					 PVOID LockContext, PSTOR_LOCK_HANDLE LockHandle)
{
	StorPortNotification(AcquireSpinLock, DeviceExtension, SpinLock, LockContext,
			     LockHandle);
}

STOR_INLINE VOID StorPortReleaseSpinLock(PVOID DeviceExtension, PSTOR_LOCK_HANDLE LockHandle)
{
	StorPortNotification(ReleaseSpinLock, DeviceExtension, LockHandle);
}

/* ================================================================ StorPortExtendedFunction wrappers */
STOR_INLINE ULONG StorPortAllocatePool(PVOID HwDeviceExtension, ULONG NumberOfBytes,
				       ULONG Tag, PVOID *BufferPointer)
{
	return StorPortExtendedFunction(ExtFunctionAllocatePool, HwDeviceExtension,
					NumberOfBytes, Tag, BufferPointer);
}

STOR_INLINE ULONG StorPortFreePool(PVOID HwDeviceExtension, PVOID BufferPointer)
{
	return StorPortExtendedFunction(ExtFunctionFreePool, HwDeviceExtension, BufferPointer);
}

STOR_INLINE ULONG StorPortAllocateMdl(PVOID HwDeviceExtension, PVOID BufferPointer,
				      ULONG NumberOfBytes, PVOID *Mdl)
{
	return StorPortExtendedFunction(ExtFunctionAllocateMdl, HwDeviceExtension,
					BufferPointer, NumberOfBytes, Mdl);
}

STOR_INLINE ULONG StorPortFreeMdl(PVOID HwDeviceExtension, PVOID Mdl)
{
	return StorPortExtendedFunction(ExtFunctionFreeMdl, HwDeviceExtension, Mdl);
}

STOR_INLINE ULONG StorPortBuildMdlForNonPagedPool(PVOID HwDeviceExtension, PVOID Mdl)
{
	return StorPortExtendedFunction(ExtFunctionBuildMdlForNonPagedPool, HwDeviceExtension,
					Mdl);
}

STOR_INLINE ULONG StorPortGetSystemAddress(PVOID HwDeviceExtension, PSCSI_REQUEST_BLOCK Srb,
					   PVOID *SystemAddress)
{
	return StorPortExtendedFunction(ExtFunctionGetSystemAddress, HwDeviceExtension, Srb,
					SystemAddress);
}

STOR_INLINE ULONG StorPortGetOriginalMdl(PVOID HwDeviceExtension, PSCSI_REQUEST_BLOCK Srb,
					 PVOID *Mdl)
{
	return StorPortExtendedFunction(ExtFunctionGetOriginalMdl, HwDeviceExtension, Srb, Mdl);
}

STOR_INLINE ULONG StorPortCompleteServiceIrp(PVOID HwDeviceExtension, PVOID Irp)
{
	return StorPortExtendedFunction(ExtFunctionCompleteServiceIrp, HwDeviceExtension, Irp);
}

STOR_INLINE ULONG StorPortGetDeviceObjects(PVOID HwDeviceExtension, PVOID *AdapterDeviceObject,
					   PVOID *PhysicalDeviceObject,
					   PVOID *LowerDeviceObject)
{
	return StorPortExtendedFunction(ExtFunctionGetDeviceObjects, HwDeviceExtension,
					AdapterDeviceObject, PhysicalDeviceObject,
					LowerDeviceObject);
}

STOR_INLINE ULONG StorPortBuildScatterGatherList(PVOID HwDeviceExtension, PVOID Mdl,
						 PVOID CurrentVa, ULONG Length,
						 PPOST_SCATTER_GATHER_EXECUTE ExecutionRoutine,
						 PVOID Context, BOOLEAN WriteToDevice,
						 PVOID ScatterGatherBuffer,
						 ULONG ScatterGatherBufferLength)
{
	return StorPortExtendedFunction(ExtFunctionBuildScatterGatherList, HwDeviceExtension,
					Mdl, CurrentVa, Length, ExecutionRoutine, Context,
					WriteToDevice, ScatterGatherBuffer,
					ScatterGatherBufferLength);
}

STOR_INLINE ULONG StorPortPutScatterGatherList(PVOID HwDeviceExtension,
					       PSTOR_SCATTER_GATHER_LIST ScatterGatherList,
					       BOOLEAN WriteToDevice)
{
	return StorPortExtendedFunction(ExtFunctionPutScatterGatherList, HwDeviceExtension,
					ScatterGatherList, WriteToDevice);
}

STOR_INLINE ULONG StorPortAcquireMSISpinLock(PVOID HwDeviceExtension, ULONG MessageId,
					     PULONG OldIrql)
{
	return StorPortExtendedFunction(ExtFunctionAcquireMSISpinLock, HwDeviceExtension,
					MessageId, OldIrql);
}

STOR_INLINE ULONG StorPortReleaseMSISpinLock(PVOID HwDeviceExtension, ULONG MessageId,
					     ULONG OldIrql)
{
	return StorPortExtendedFunction(ExtFunctionReleaseMSISpinLock, HwDeviceExtension,
					MessageId, OldIrql);
}

STOR_INLINE ULONG StorPortGetMSIInfo(PVOID HwDeviceExtension, ULONG MessageId,
				     PMESSAGE_INTERRUPT_INFORMATION InterruptInfo)
{
	return StorPortExtendedFunction(ExtFunctionGetMessageInterruptInformation,
					HwDeviceExtension, MessageId, InterruptInfo);
}

STOR_INLINE ULONG StorPortInitializePerfOpts(PVOID HwDeviceExtension, BOOLEAN Query,
					     PPERF_CONFIGURATION_DATA PerfConfigData)
{
	return StorPortExtendedFunction(ExtFunctionInitializePerformanceOptimizations,
					HwDeviceExtension, Query, PerfConfigData);
}

STOR_INLINE ULONG StorPortGetStartIoPerfParams(PVOID HwDeviceExtension, PSCSI_REQUEST_BLOCK Srb,
					       PSTARTIO_PERFORMANCE_PARAMETERS StartIoPerfParams)
{
	return StorPortExtendedFunction(ExtFunctionGetStartIoPerformanceParameters,
					HwDeviceExtension, Srb, StartIoPerfParams);
}

STOR_INLINE ULONG StorPortLogSystemEvent(PVOID HwDeviceExtension,
					 PSTOR_LOG_EVENT_DETAILS LogDetails,
					 PULONG MaximumSize)
{
	return StorPortExtendedFunction(ExtFunctionLogSystemEvent, HwDeviceExtension,
					LogDetails, MaximumSize);
}

STOR_INLINE ULONG StorPortGetCurrentProcessorNumber(PVOID HwDeviceExtension,
						    PPROCESSOR_NUMBER ProcNumber)
{
	return StorPortExtendedFunction(ExtFunctionGetCurrentProcessorNumber, HwDeviceExtension,
					ProcNumber);
}

STOR_INLINE ULONG StorPortGetActiveGroupCount(PVOID HwDeviceExtension, PUSHORT NumberGroups)
{
	return StorPortExtendedFunction(ExtFunctionGetActiveGroupCount, HwDeviceExtension,
					NumberGroups);
}

STOR_INLINE ULONG StorPortGetGroupAffinity(PVOID HwDeviceExtension, USHORT GroupNumber,
					   PKAFFINITY GroupAffinityMask)
{
	return StorPortExtendedFunction(ExtFunctionGetGroupAffinity, HwDeviceExtension,
					GroupNumber, GroupAffinityMask);
}

STOR_INLINE ULONG StorPortGetActiveNodeCount(PVOID HwDeviceExtension, PULONG NumberNodes)
{
	return StorPortExtendedFunction(ExtFunctionGetActiveNodeCount, HwDeviceExtension,
					NumberNodes);
}

STOR_INLINE ULONG StorPortGetNodeAffinity(PVOID HwDeviceExtension, ULONG NodeNumber,
					  PGROUP_AFFINITY NodeAffinityMask)
{
	return StorPortExtendedFunction(ExtFunctionGetNodeAffinity, HwDeviceExtension,
					NodeNumber, NodeAffinityMask);
}

STOR_INLINE ULONG StorPortGetHighestNodeNumber(PVOID HwDeviceExtension, PULONG HighestNode)
{
	return StorPortExtendedFunction(ExtFunctionGetHighestNodeNumber, HwDeviceExtension,
					HighestNode);
}

STOR_INLINE ULONG StorPortGetLogicalProcessorRelationship(PVOID HwDeviceExtension,
							  PPROCESSOR_NUMBER ProcessorNumber,
							  LOGICAL_PROCESSOR_RELATIONSHIP RelationshipType,
							  PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX Information,
							  PULONG Length)
{
	return StorPortExtendedFunction(ExtFunctionGetLogicalProcessorRelationship,
					HwDeviceExtension, ProcessorNumber, RelationshipType,
					Information, Length);
}

STOR_INLINE ULONG StorPortAllocateContiguousMemorySpecifyCacheNode(PVOID HwDeviceExtension,
								   SIZE_T NumberOfBytes,
								   PHYSICAL_ADDRESS LowestAcceptableAddress,
								   PHYSICAL_ADDRESS HighestAcceptableAddress,
								   PHYSICAL_ADDRESS BoundaryAddressMultiple,
								   MEMORY_CACHING_TYPE CacheType,
								   NODE_REQUIREMENT PreferredNode,
								   PVOID *BufferPointer)
{
	return StorPortExtendedFunction(ExtFunctionAllocateContiguousMemorySpecifyCacheNode,
					HwDeviceExtension, NumberOfBytes,
					LowestAcceptableAddress, HighestAcceptableAddress,
					BoundaryAddressMultiple, CacheType, PreferredNode,
					BufferPointer);
}

STOR_INLINE ULONG StorPortFreeContiguousMemorySpecifyCache(PVOID HwDeviceExtension,
							   PVOID BaseAddress, SIZE_T NumberOfBytes,
							   MEMORY_CACHING_TYPE CacheType)
{
	return StorPortExtendedFunction(ExtFunctionFreeContiguousMemorySpecifyCache,
					HwDeviceExtension, BaseAddress, NumberOfBytes, CacheType);
}

STOR_INLINE ULONG StorPortGetRequestInfo(PVOID HwDeviceExtension, PSCSI_REQUEST_BLOCK Srb,
					 PSTOR_REQUEST_INFO RequestInfo)
{
	return StorPortExtendedFunction(ExtFunctionGetRequestInfo, HwDeviceExtension, Srb,
					RequestInfo);
}

STOR_INLINE ULONG StorPortInitializeWorker(PVOID HwDeviceExtension, PVOID *Worker)
{
	return StorPortExtendedFunction(ExtFunctionInitializeWorker, HwDeviceExtension, Worker);
}

STOR_INLINE ULONG StorPortQueueWorkItem(PVOID HwDeviceExtension, PHW_WORKITEM WorkItemCallback,
					PVOID Worker, PVOID Context)
{
	return StorPortExtendedFunction(ExtFunctionQueueWorkItem, HwDeviceExtension,
					WorkItemCallback, Worker, Context);
}

STOR_INLINE ULONG StorPortFreeWorker(PVOID HwDeviceExtension, PVOID Worker)
{
	return StorPortExtendedFunction(ExtFunctionFreeWorker, HwDeviceExtension, Worker);
}

STOR_INLINE ULONG StorPortInitializeTimer(PVOID HwDeviceExtension, PVOID *TimerHandle)
{
	return StorPortExtendedFunction(ExtFunctionInitializeTimer, HwDeviceExtension,
					TimerHandle);
}

STOR_INLINE ULONG StorPortRequestTimer(PVOID HwDeviceExtension, PVOID TimerHandle,
				       PHW_TIMER_EX TimerCallback, PVOID CallbackContext,
				       ULONGLONG TimerValue, ULONGLONG TolerableDelay)
{
	return StorPortExtendedFunction(ExtFunctionRequestTimer, HwDeviceExtension,
					TimerHandle, TimerCallback, CallbackContext,
					TimerValue, TolerableDelay);
}

STOR_INLINE ULONG StorPortFreeTimer(PVOID HwDeviceExtension, PVOID TimerHandle)
{
	return StorPortExtendedFunction(ExtFunctionFreeTimer, HwDeviceExtension, TimerHandle);
}

STOR_INLINE ULONG StorPortGetSystemPortNumber(PVOID HwDeviceExtension, PSTOR_ADDRESS Address)
{
	return StorPortExtendedFunction(ExtFunctionGetSystemPortNumber, HwDeviceExtension,
					Address);
}

STOR_INLINE ULONG StorPortGetDataInBufferSystemAddress(PVOID HwDeviceExtension,
						       PSCSI_REQUEST_BLOCK Srb,
						       PVOID *SystemAddress)
{
	return StorPortExtendedFunction(ExtFunctionGetDataInBufferSystemAddress,
					HwDeviceExtension, Srb, SystemAddress);
}

STOR_INLINE ULONG StorPortMarkDumpMemory(PVOID HwDeviceExtension, PVOID Address,
					 ULONG_PTR Length, ULONG Flags)
{
	return StorPortExtendedFunction(ExtFunctionMarkDumpMemory, HwDeviceExtension, Address,
					Length, Flags);
}

STOR_INLINE ULONG StorPortSetUnitAttributes(PVOID HwDeviceExtension, PSTOR_ADDRESS Address,
					    STOR_UNIT_ATTRIBUTES Attributes)
{
	return StorPortExtendedFunction(ExtFunctionSetUnitAttributes, HwDeviceExtension,
					Address, Attributes);
}

STOR_INLINE ULONG StorPortQueryPerformanceCounter(PVOID HwDeviceExtension,
						  PLARGE_INTEGER PerformanceFrequency,
						  PLARGE_INTEGER PerformanceCounter)
{
	return StorPortExtendedFunction(ExtFunctionQueryPerformanceCounter, HwDeviceExtension,
					PerformanceFrequency, PerformanceCounter);
}

STOR_INLINE ULONG StorPortGetProcessorIndexFromNumber(PVOID HwDeviceExtension,
						      PPROCESSOR_NUMBER ProcessorNumber,
						      PULONG ProcessorIndex)
{
	return StorPortExtendedFunction(ExtFunctionGetProcessorIndexFromNumber,
					HwDeviceExtension, ProcessorNumber, ProcessorIndex);
}

STOR_INLINE ULONG StorPortRegistryReadAdapterKey(PVOID HwDeviceExtension, PUCHAR SubKeyName,
						 PUCHAR ValueName, ULONG ValueType,
						 PVOID *ValueData, PULONG ValueDataLength)
{
	return StorPortExtendedFunction(ExtFunctionRegistryReadAdapterKey, HwDeviceExtension,
					SubKeyName, ValueName, ValueType, ValueData,
					ValueDataLength);
}

STOR_INLINE ULONG StorPortRegistryWriteAdapterKey(PVOID HwDeviceExtension, PUCHAR SubKeyName,
						  PUCHAR ValueName, ULONG ValueType,
						  PVOID ValueData, ULONG ValueDataLength)
{
	return StorPortExtendedFunction(ExtFunctionRegistryWriteAdapterKey, HwDeviceExtension,
					SubKeyName, ValueName, ValueType, ValueData,
					ValueDataLength);
}

STOR_INLINE ULONG StorPortSetAdapterBusType(PVOID HwDeviceExtension, ULONG BusType)
{
	return StorPortExtendedFunction(ExtFunctionSetAdapterBusType, HwDeviceExtension,
					BusType);
}

STOR_INLINE ULONG StorPortGetCurrentProcessorIndex(PVOID HwDeviceExtension,
						   PULONG ProcessorIndex)
{
	return StorPortExtendedFunction(ExtFunctionGetCurrentProcessorIndex, HwDeviceExtension,
					ProcessorIndex);
}

STOR_INLINE ULONG StorPortGetProcessorCount(PVOID HwDeviceExtension, PULONG ProcessorCount)
{
	return StorPortExtendedFunction(ExtFunctionGetProcessorCount, HwDeviceExtension,
					ProcessorCount);
}

/* ================================================================ SRB accessors */
/*
 * Accessors that work on both request formats StorPort may hand a miniport:
 * the classic SCSI_REQUEST_BLOCK and, when HW_INITIALIZATION_DATA.SrbTypeFlags
 * allows it, STORAGE_REQUEST_BLOCK (Function == SRB_FUNCTION_STORAGE_REQUEST_BLOCK).
 * Names follow the WDK's srbhelper.h. Offsets inside an SRB_EX are checked
 * against SrbLength before use; a malformed SRB_EX yields NULL / 0.
 */
STOR_INLINE BOOLEAN SrbIsStorageRequestBlock(PVOID Srb)
{
	return ((PSCSI_REQUEST_BLOCK)Srb)->Function == SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
}

/* The SRBEX_DATA block of the given type, or NULL (bounds-checked). */
STOR_INLINE PSRBEX_DATA SrbGetSrbExDataByType(PSTORAGE_REQUEST_BLOCK Srb, SRBEXDATATYPE Type)
{
	ULONG i, first = FIELD_OFFSET(STORAGE_REQUEST_BLOCK, SrbExDataOffset);

	if (Srb->SrbLength < first || Srb->NumSrbExData > (Srb->SrbLength - first) / sizeof(ULONG))
		return NULL;
	for (i = 0; i < Srb->NumSrbExData; i++) {
		ULONG off = Srb->SrbExDataOffset[i];
		PSRBEX_DATA data;

		if (off < first || off > Srb->SrbLength ||
		    Srb->SrbLength - off < FIELD_OFFSET(SRBEX_DATA, Data))
			continue;
		data = (PSRBEX_DATA)((PUCHAR)Srb + off);
		if (data->Type == Type &&
		    data->Length <= Srb->SrbLength - off - FIELD_OFFSET(SRBEX_DATA, Data))
			return data;
	}
	return NULL;
}

STOR_INLINE PSRBEX_DATA_SCSI_CDB16 SrbGetScsiCdb16(PSTORAGE_REQUEST_BLOCK Srb)
{
	PSRBEX_DATA d = SrbGetSrbExDataByType(Srb, SrbExDataTypeScsiCdb16);

	return d && d->Length >= SRBEX_DATA_SCSI_CDB16_LENGTH ? (PSRBEX_DATA_SCSI_CDB16)d : NULL;
}

STOR_INLINE ULONG SrbGetSrbFunction(PVOID Srb)
{
	return SrbIsStorageRequestBlock(Srb) ? ((PSTORAGE_REQUEST_BLOCK)Srb)->SrbFunction :
					       ((PSCSI_REQUEST_BLOCK)Srb)->Function;
}

STOR_INLINE UCHAR SrbGetSrbStatus(PVOID Srb)
{
	return ((PSCSI_REQUEST_BLOCK)Srb)->SrbStatus;   /* same offset in both formats */
}

STOR_INLINE VOID SrbSetSrbStatus(PVOID Srb, UCHAR Status)
{
	((PSCSI_REQUEST_BLOCK)Srb)->SrbStatus = Status;
}

STOR_INLINE ULONG SrbGetSrbFlags(PVOID Srb)
{
	return SrbIsStorageRequestBlock(Srb) ? ((PSTORAGE_REQUEST_BLOCK)Srb)->SrbFlags :
					       ((PSCSI_REQUEST_BLOCK)Srb)->SrbFlags;
}

STOR_INLINE PVOID SrbGetDataBuffer(PVOID Srb)
{
	return SrbIsStorageRequestBlock(Srb) ? ((PSTORAGE_REQUEST_BLOCK)Srb)->DataBuffer :
					       ((PSCSI_REQUEST_BLOCK)Srb)->DataBuffer;
}

STOR_INLINE ULONG SrbGetDataTransferLength(PVOID Srb)
{
	return SrbIsStorageRequestBlock(Srb) ? ((PSTORAGE_REQUEST_BLOCK)Srb)->DataTransferLength :
					       ((PSCSI_REQUEST_BLOCK)Srb)->DataTransferLength;
}

/* Reports a short transfer (underrun) back to the initiator. */
STOR_INLINE VOID SrbSetDataTransferLength(PVOID Srb, ULONG Length)
{
	if (SrbIsStorageRequestBlock(Srb))
		((PSTORAGE_REQUEST_BLOCK)Srb)->DataTransferLength = Length;
	else
		((PSCSI_REQUEST_BLOCK)Srb)->DataTransferLength = Length;
}

STOR_INLINE PVOID SrbGetMiniportContext(PVOID Srb)
{
	return SrbIsStorageRequestBlock(Srb) ? ((PSTORAGE_REQUEST_BLOCK)Srb)->MiniportContext :
					       ((PSCSI_REQUEST_BLOCK)Srb)->SrbExtension;
}

/* CDB and its length; NULL / 0 when an SRB_EX carries no CDB16 block. */
STOR_INLINE PUCHAR SrbGetCdb(PVOID Srb)
{
	PSRBEX_DATA_SCSI_CDB16 d;

	if (!SrbIsStorageRequestBlock(Srb))
		return ((PSCSI_REQUEST_BLOCK)Srb)->Cdb;
	d = SrbGetScsiCdb16((PSTORAGE_REQUEST_BLOCK)Srb);
	return d ? d->Cdb : NULL;
}

STOR_INLINE UCHAR SrbGetCdbLength(PVOID Srb)
{
	PSRBEX_DATA_SCSI_CDB16 d;
	UCHAR n;

	if (!SrbIsStorageRequestBlock(Srb))
		n = ((PSCSI_REQUEST_BLOCK)Srb)->CdbLength;
	else
		n = (d = SrbGetScsiCdb16((PSTORAGE_REQUEST_BLOCK)Srb)) ? d->CdbLength : 0;
	return n > 16 ? 16 : n;         /* never beyond the Cdb[16] array */
}

STOR_INLINE PVOID SrbGetSenseInfoBuffer(PVOID Srb)
{
	PSRBEX_DATA_SCSI_CDB16 d;

	if (!SrbIsStorageRequestBlock(Srb))
		return ((PSCSI_REQUEST_BLOCK)Srb)->SenseInfoBuffer;
	d = SrbGetScsiCdb16((PSTORAGE_REQUEST_BLOCK)Srb);
	return d ? d->SenseInfoBuffer : NULL;
}

STOR_INLINE UCHAR SrbGetSenseInfoBufferLength(PVOID Srb)
{
	PSRBEX_DATA_SCSI_CDB16 d;

	if (!SrbIsStorageRequestBlock(Srb))
		return ((PSCSI_REQUEST_BLOCK)Srb)->SenseInfoBufferLength;
	d = SrbGetScsiCdb16((PSTORAGE_REQUEST_BLOCK)Srb);
	return d ? d->SenseInfoBufferLength : 0;
}

STOR_INLINE VOID SrbSetScsiStatus(PVOID Srb, UCHAR ScsiStatus)
{
	PSRBEX_DATA_SCSI_CDB16 d;

	if (!SrbIsStorageRequestBlock(Srb))
		((PSCSI_REQUEST_BLOCK)Srb)->ScsiStatus = ScsiStatus;
	else if ((d = SrbGetScsiCdb16((PSTORAGE_REQUEST_BLOCK)Srb)))
		d->ScsiStatus = ScsiStatus;
}

/* Bus/target/LUN of the request; FALSE for an SRB_EX without a BTL8 address. */
STOR_INLINE BOOLEAN SrbGetPathTargetLun(PVOID Srb, PUCHAR PathId, PUCHAR TargetId, PUCHAR Lun)
{
	PSTORAGE_REQUEST_BLOCK ex = (PSTORAGE_REQUEST_BLOCK)Srb;
	PSTOR_ADDR_BTL8 a;

	if (!SrbIsStorageRequestBlock(Srb)) {
		*PathId = ((PSCSI_REQUEST_BLOCK)Srb)->PathId;
		*TargetId = ((PSCSI_REQUEST_BLOCK)Srb)->TargetId;
		*Lun = ((PSCSI_REQUEST_BLOCK)Srb)->Lun;
		return TRUE;
	}
	if (ex->AddressOffset < FIELD_OFFSET(STORAGE_REQUEST_BLOCK, SrbExDataOffset) ||
	    ex->AddressOffset > ex->SrbLength ||
	    ex->SrbLength - ex->AddressOffset < sizeof(STOR_ADDR_BTL8))
		return FALSE;
	a = (PSTOR_ADDR_BTL8)((PUCHAR)Srb + ex->AddressOffset);
	if (a->Type != STOR_ADDRESS_TYPE_BTL8 || a->AddressLength < STOR_ADDR_BTL8_ADDRESS_LENGTH)
		return FALSE;
	*PathId = a->Path;
	*TargetId = a->Target;
	*Lun = a->Lun;
	return TRUE;
}

/* ================================================================ ABI checks */
#define STOR_ASSERT_SIZE(type, x64, x86) \
	_Static_assert(sizeof(type) == (sizeof(void *) == 8 ? (x64) : (x86)), \
		       "sizeof(" #type ")")
#define STOR_ASSERT_OFFSET(type, field, x64, x86) \
	_Static_assert(FIELD_OFFSET(type, field) == (sizeof(void *) == 8 ? (x64) : (x86)), \
		       #type "." #field)

STOR_ASSERT_SIZE(SCSI_REQUEST_BLOCK, 0x58, 0x40);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, SrbFlags, 0x0C, 0x0C);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, DataTransferLength, 0x10, 0x10);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, DataBuffer, 0x18, 0x18);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, SenseInfoBuffer, 0x20, 0x1C);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, SrbExtension, 0x38, 0x28);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, InternalStatus, 0x40, 0x2C);
STOR_ASSERT_OFFSET(SCSI_REQUEST_BLOCK, Cdb, 0x48, 0x30);
STOR_ASSERT_SIZE(SCSI_WMI_REQUEST_BLOCK, 0x58, 0x40);
STOR_ASSERT_OFFSET(SCSI_WMI_REQUEST_BLOCK, DataPath, 0x20, 0x1C);
STOR_ASSERT_SIZE(SCSI_POWER_REQUEST_BLOCK, 0x58, 0x40);
STOR_ASSERT_OFFSET(SCSI_POWER_REQUEST_BLOCK, DevicePowerState, 0x08, 0x08);
STOR_ASSERT_OFFSET(SCSI_POWER_REQUEST_BLOCK, PowerAction, 0x40, 0x2C);
STOR_ASSERT_SIZE(SCSI_PNP_REQUEST_BLOCK, 0x58, 0x40);
STOR_ASSERT_OFFSET(SCSI_PNP_REQUEST_BLOCK, PnPAction, 0x08, 0x08);
STOR_ASSERT_OFFSET(SCSI_PNP_REQUEST_BLOCK, SrbPnPFlags, 0x40, 0x2C);
STOR_ASSERT_SIZE(STOR_DEVICE_CAPABILITIES_EX, 0x18, 0x18);

STOR_ASSERT_SIZE(STORAGE_REQUEST_BLOCK, 0x80, 0x60);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, Signature, 0x08, 0x08);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, SrbFunction, 0x14, 0x14);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, SrbFlags, 0x18, 0x18);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, SystemStatus, 0x2C, 0x2C);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, AddressOffset, 0x34, 0x34);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, DataTransferLength, 0x3C, 0x3C);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, DataBuffer, 0x40, 0x40);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, OriginalRequest, 0x50, 0x48);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, MiniportContext, 0x68, 0x54);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, NextSrb, 0x70, 0x58);
STOR_ASSERT_OFFSET(STORAGE_REQUEST_BLOCK, SrbExDataOffset, 0x78, 0x5C);
STOR_ASSERT_SIZE(SRBEX_DATA_SCSI_CDB16, 0x28, 0x24);
STOR_ASSERT_OFFSET(SRBEX_DATA_SCSI_CDB16, SenseInfoBuffer, 0x10, 0x10);
STOR_ASSERT_OFFSET(SRBEX_DATA_SCSI_CDB16, Cdb, 0x18, 0x14);
_Static_assert(sizeof(SRBEX_DATA_SCSI_CDB16) == SRBEX_DATA_SCSI_CDB16_LENGTH + 8, "CDB16 length");
STOR_ASSERT_SIZE(SRBEX_DATA_SCSI_CDB32, 0x38, 0x34);
STOR_ASSERT_OFFSET(SRBEX_DATA_SCSI_CDB_VAR, SenseInfoBuffer, 0x18, 0x18);
STOR_ASSERT_OFFSET(SRBEX_DATA_SCSI_CDB_VAR, Cdb, 0x20, 0x1C);
STOR_ASSERT_SIZE(SRBEX_DATA_BIDIRECTIONAL, 0x18, 0x14);
STOR_ASSERT_SIZE(SRBEX_DATA_WMI, 0x18, 0x14);
STOR_ASSERT_SIZE(SRBEX_DATA_POWER, 0x18, 0x14);
STOR_ASSERT_SIZE(SRBEX_DATA_PNP, 0x18, 0x18);
STOR_ASSERT_SIZE(SRBEX_DATA_IO_INFO, 0x20, 0x20);
STOR_ASSERT_SIZE(STOR_ADDR_BTL8, 0x10, 0x0C);
STOR_ASSERT_OFFSET(STOR_ADDR_BTL8, Path, 0x08, 0x08);

STOR_ASSERT_SIZE(ACCESS_RANGE, 0x10, 0x10);
STOR_ASSERT_SIZE(MEMORY_REGION, 0x18, 0x18);
STOR_ASSERT_OFFSET(MEMORY_REGION, PhysicalBase, 0x08, 0x08);
STOR_ASSERT_SIZE(MESSAGE_INTERRUPT_INFORMATION, 0x20, 0x20);
STOR_ASSERT_OFFSET(MESSAGE_INTERRUPT_INFORMATION, MessageAddress, 0x08, 0x08);
STOR_ASSERT_OFFSET(MESSAGE_INTERRUPT_INFORMATION, InterruptMode, 0x18, 0x18);

STOR_ASSERT_SIZE(PORT_CONFIGURATION_INFORMATION, 0xE0, 0xD0);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MaximumTransferLength, 0x18, 0x18);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, NumberOfPhysicalBreaks, 0x1C, 0x1C);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, AlignmentMask, 0x30, 0x30);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, AccessRanges, 0x38, 0x38);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MiniportDumpData, 0x40, 0x3C);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, NumberOfBuses, 0x48, 0x40);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, ScatterGather, 0x51, 0x49);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MapBuffers, 0x59, 0x51);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MaximumNumberOfTargets, 0x61, 0x59);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, SrbType, 0x62, 0x5A);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, SlotNumber, 0x64, 0x5C);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, DeviceExtensionSize, 0x84, 0x7C);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, SrbExtensionSize, 0x8C, 0x84);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, Dma64BitAddresses, 0x90, 0x88);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, WmiDataProvider, 0x93, 0x8B);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, SynchronizationModel, 0x94, 0x8C);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, HwMSInterruptRoutine, 0x98, 0x90);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, InterruptSynchronizationMode, 0xA0, 0x94);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, DumpRegion, 0xA8, 0x98);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, RequestedDumpBufferSize, 0xC0, 0xB0);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, VirtualDevice, 0xC4, 0xB4);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, DumpMode, 0xC5, 0xB5);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, ExtendedFlags1, 0xC8, 0xB8);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MaxNumberOfIO, 0xCC, 0xBC);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, MaxIOsPerLun, 0xD0, 0xC0);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, InitialLunQueueDepth, 0xD4, 0xC4);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, BusResetHoldTime, 0xD8, 0xC8);
STOR_ASSERT_OFFSET(PORT_CONFIGURATION_INFORMATION, FeatureSupport, 0xDC, 0xCC);

STOR_ASSERT_SIZE(HW_INITIALIZATION_DATA, 0xD0, 0x80);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwInitialize, 0x08, 0x08);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwStartIo, 0x10, 0x0C);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwInterrupt, 0x18, 0x10);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwFindAdapter, 0x20, 0x14);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwResetBus, 0x28, 0x18);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, DeviceExtensionSize, 0x40, 0x24);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, SrbExtensionSize, 0x48, 0x2C);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, MapBuffers, 0x58, 0x38);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, VendorIdLength, 0x5E, 0x3E);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, VendorId, 0x60, 0x40);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, PortVersionFlags, 0x68, 0x44);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, DeviceId, 0x70, 0x48);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwAdapterControl, 0x78, 0x4C);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwBuildIo, 0x80, 0x50);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwFreeAdapterResources, 0x88, 0x54);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwTracingEnabled, 0xB0, 0x68);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, FeatureSupport, 0xB8, 0x6C);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, SrbTypeFlags, 0xBC, 0x70);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, AddressTypeFlags, 0xC0, 0x74);
STOR_ASSERT_OFFSET(HW_INITIALIZATION_DATA, HwUnitControl, 0xC8, 0x7C);

STOR_ASSERT_SIZE(VIRTUAL_HW_INITIALIZATION_DATA, 0xB0, 0x68);
_Static_assert(HW_INIT_DATA_SIZE_VIRTUAL == sizeof(VIRTUAL_HW_INITIALIZATION_DATA),
	       "virtual miniport size");
_Static_assert(FIELD_OFFSET(VIRTUAL_HW_INITIALIZATION_DATA, HwCleanupTracing) ==
	       FIELD_OFFSET(HW_INITIALIZATION_DATA, HwCleanupTracing), "same prefix");

STOR_ASSERT_SIZE(STOR_SCATTER_GATHER_ELEMENT, 0x18, 0x10);
STOR_ASSERT_OFFSET(STOR_SCATTER_GATHER_ELEMENT, Length, 0x08, 0x08);
STOR_ASSERT_OFFSET(STOR_SCATTER_GATHER_LIST, List, 0x10, 0x08);
STOR_ASSERT_SIZE(DPC_BUFFER, 0x40, 0x20);
_Static_assert(sizeof(DPC_BUFFER) == sizeof(KDPC), "DPC_BUFFER mirrors KDPC");
STOR_ASSERT_SIZE(STOR_DPC, 0x48, 0x24);
STOR_ASSERT_OFFSET(STOR_DPC, Lock, 0x40, 0x20);
STOR_ASSERT_SIZE(STOR_LOCK_HANDLE, 0x20, 0x10);
STOR_ASSERT_OFFSET(STOR_LOCK_HANDLE, Context.OldIrql, 0x18, 0x0C);
STOR_ASSERT_SIZE(PERF_CONFIGURATION_DATA, 0x28, 0x24);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, Flags, 0x08, 0x08);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, ConcurrentChannels, 0x0C, 0x0C);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, FirstRedirectionMessageNumber, 0x10, 0x10);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, LastRedirectionMessageNumber, 0x14, 0x14);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, DeviceNode, 0x18, 0x18);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, Reserved, 0x1C, 0x1C);
STOR_ASSERT_OFFSET(PERF_CONFIGURATION_DATA, MessageTargets, 0x20, 0x20);
STOR_ASSERT_SIZE(STARTIO_PERFORMANCE_PARAMETERS, 0x10, 0x10);
STOR_ASSERT_SIZE(STARTIO_PERFORMANCE_PARAMETERS_V2, 0x14, 0x14);
STOR_ASSERT_SIZE(SCSI_SUPPORTED_CONTROL_TYPE_LIST, 0x04, 0x04);
STOR_ASSERT_SIZE(STOR_POWER_CONTROL_HEADER, 0x10, 0x0C);
STOR_ASSERT_SIZE(STOR_REQUEST_INFO_V2, 0x28, 0x20);
STOR_ASSERT_OFFSET(STOR_REQUEST_INFO_V2, FileName, 0x18, 0x18);
STOR_ASSERT_SIZE(STOR_UNIT_ATTRIBUTES, 0x04, 0x04);
STOR_ASSERT_SIZE(MINIPORT_DUMP_POINTERS, 0x70, 0x54);
_Static_assert(sizeof(SCSI_NOTIFICATION_TYPE) == 4 && InitializeDpc == 0x1001 &&
	       ReleaseSpinLock == 0x1004 && MarkDeviceFailed == 0x100C, "notification codes");
_Static_assert(ExtFunctionGetMessageInterruptInformation == 13 &&
	       ExtFunctionInitializePerformanceOptimizations == 14 &&
	       ExtFunctionGetRequestInfo == 28 && ExtFunctionSetUnitAttributes == 46 &&
	       ExtFunctionRegistryReadAdapterKey == 62 &&
	       ExtFunctionGetCurrentProcessorIndex == 92 &&
	       ExtFunctionNvmeMiniportTelemetry == 129, "extended function codes");
_Static_assert(ScsiAdapterSurpriseRemoval == 16 && ScsiAdapterControlMax == 29,
	       "adapter control codes");

#undef STOR_ASSERT_SIZE
#undef STOR_ASSERT_OFFSET

#ifdef __cplusplus
}
#endif

#endif /* OPENVDP_DDK_STORPORT_H */
