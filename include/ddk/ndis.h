/*
 * ndis.h - NDIS 6.x miniport API for OpenVDP, replacing mingw-w64 v10's NDIS 5 header.
 *
 * Scope: what an NDIS 6.30 deserialized Ethernet miniport needs (Windows 8+ ABI, drivers target
 * Windows 10+). Layouts follow the Microsoft documentation and public symbol dumps of ndis.sys;
 * every structure NDIS reads or fills carries _Static_assert checks for x64 and x86 at the end.
 *
 * Usage: #include <ntddk.h> first, define NDIS_MINIPORT_DRIVER and one of NDIS60_MINIPORT ...
 * NDIS630_MINIPORT, then #include <ndis.h>. OIDs, NDIS_OBJECT_HEADER, NDIS_OFFLOAD,
 * NDIS_LINK_STATE, RSS capability structures etc. come from mingw's user-mode <ntddndis.h>.
 */
#ifndef OPENVDP_DDK_NDIS_H
#define OPENVDP_DDK_NDIS_H

#ifndef _NTDDK_
#include <ntddk.h>
#endif

#if !defined(NDIS_MINIPORT_DRIVER)
#error "define NDIS_MINIPORT_DRIVER before including ndis.h (only the miniport API is provided)"
#endif

/* Map the WDK's miniport version switches to the NDIS_SUPPORT_* feature levels. */
#if defined(NDIS630_MINIPORT)
#define NDIS_MINIPORT_MAJOR_VERSION 6
#define NDIS_MINIPORT_MINOR_VERSION 30
#elif defined(NDIS620_MINIPORT)
#define NDIS_MINIPORT_MAJOR_VERSION 6
#define NDIS_MINIPORT_MINOR_VERSION 20
#elif defined(NDIS61_MINIPORT)
#define NDIS_MINIPORT_MAJOR_VERSION 6
#define NDIS_MINIPORT_MINOR_VERSION 1
#elif defined(NDIS60_MINIPORT)
#define NDIS_MINIPORT_MAJOR_VERSION 6
#define NDIS_MINIPORT_MINOR_VERSION 0
#else
#error "define one of NDIS60_MINIPORT, NDIS61_MINIPORT, NDIS620_MINIPORT, NDIS630_MINIPORT"
#endif

#define NDIS_SUPPORT_NDIS6 1
#define NDIS_SUPPORT_NDIS61 (NDIS_MINIPORT_MINOR_VERSION >= 1)
#define NDIS_SUPPORT_NDIS620 (NDIS_MINIPORT_MINOR_VERSION >= 20)
#define NDIS_SUPPORT_NDIS630 (NDIS_MINIPORT_MINOR_VERSION >= 30)

/*
 * <ntddndis.h> pulls in <windot11.h>, which needs NDIS_STATUS; defining _NDIS_ makes ntddndis.h
 * skip its own NDIS_STATUS typedef. Its NDK part includes <ws2ipdef.h>, which expects the
 * winsock address types that <winsock2.h> would provide; winsock2.h drags in windows.h, so the
 * few types are declared here with the documented Winsock layouts instead.
 */
#define _NDIS_
typedef int NDIS_STATUS, *PNDIS_STATUS;

#include <psdk_inc/_ip_types.h>
typedef USHORT ADDRESS_FAMILY;
struct sockaddr_storage {
	short ss_family;
	char __ss_pad1[6];
	__MINGW_EXTENSION __int64 __ss_align;
	char __ss_pad2[112];
};
typedef struct sockaddr_storage SOCKADDR_STORAGE, *PSOCKADDR_STORAGE;
typedef struct _SOCKET_ADDRESS {
	struct sockaddr *lpSockaddr;
	INT iSockaddrLength;
} SOCKET_ADDRESS, *PSOCKET_ADDRESS;

#include <ntddndis.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NDIS_API DECLSPEC_IMPORT

/* ---------------------------------------------------------------------------------------------
 * Basic types
 * ------------------------------------------------------------------------------------------- */
/* Kernel headers lack UINT; C11 accepts the identical typedef should windef.h also be seen. */
typedef unsigned int UINT, *PUINT;
typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef UNICODE_STRING NDIS_STRING, *PNDIS_STRING;
typedef PHYSICAL_ADDRESS NDIS_PHYSICAL_ADDRESS, *PNDIS_PHYSICAL_ADDRESS;
typedef CM_PARTIAL_RESOURCE_LIST NDIS_RESOURCE_LIST, *PNDIS_RESOURCE_LIST;
typedef ULONG NDIS_NIC_SWITCH_ID, *PNDIS_NIC_SWITCH_ID;
typedef ULONG NDIS_NODE_NUMBER; /* NODE_NUMBER */

typedef struct _NDIS_SPIN_LOCK {
	KSPIN_LOCK SpinLock;
	KIRQL OldIrql;
} NDIS_SPIN_LOCK, *PNDIS_SPIN_LOCK;

typedef enum _NDIS_INTERFACE_TYPE {
	NdisInterfaceInternal = 0,
	NdisInterfaceIsa = 1,
	NdisInterfaceEisa = 2,
	NdisInterfaceMca = 3,
	NdisInterfaceTurboChannel = 4,
	NdisInterfacePci = 5,
	NdisInterfacePcMcia = 8,
	NdisInterfaceCBus = 9,
	NdisInterfaceMPIBus = 10,
	NdisInterfaceMPSABus = 11,
	NdisInterfaceProcessorInternal = 12,
	NdisInterfaceInternalPowerBus = 13,
	NdisInterfacePNPISABus = 14,
	NdisInterfacePNPBus = 15,
	NdisInterfaceUSB = 16,
	NdisInterfaceIrda = 17,
	NdisInterface1394 = 18,
	NdisMaximumInterfaceType = 19
} NDIS_INTERFACE_TYPE, *PNDIS_INTERFACE_TYPE;

/* ---------------------------------------------------------------------------------------------
 * NDIS_STATUS values (NTSTATUS-compatible)
 * ------------------------------------------------------------------------------------------- */
#define NDIS_STATUS_SUCCESS ((NDIS_STATUS)STATUS_SUCCESS)
#define NDIS_STATUS_PENDING ((NDIS_STATUS)STATUS_PENDING)
#define NDIS_STATUS_NOT_RECOGNIZED ((NDIS_STATUS)0x00010001L)
#define NDIS_STATUS_NOT_COPIED ((NDIS_STATUS)0x00010002L)
#define NDIS_STATUS_NOT_ACCEPTED ((NDIS_STATUS)0x00010003L)
#define NDIS_STATUS_CALL_ACTIVE ((NDIS_STATUS)0x00010007L)
#define NDIS_STATUS_INDICATION_REQUIRED ((NDIS_STATUS)STATUS_NDIS_INDICATION_REQUIRED)

#define NDIS_STATUS_ONLINE ((NDIS_STATUS)0x40010003L)
#define NDIS_STATUS_RESET_START ((NDIS_STATUS)0x40010004L)
#define NDIS_STATUS_RESET_END ((NDIS_STATUS)0x40010005L)
#define NDIS_STATUS_RING_STATUS ((NDIS_STATUS)0x40010006L)
#define NDIS_STATUS_CLOSED ((NDIS_STATUS)0x40010007L)
#define NDIS_STATUS_MEDIA_CONNECT ((NDIS_STATUS)0x4001000BL)
#define NDIS_STATUS_MEDIA_DISCONNECT ((NDIS_STATUS)0x4001000CL)
#define NDIS_STATUS_MEDIA_SPECIFIC_INDICATION ((NDIS_STATUS)0x40010012L)
#define NDIS_STATUS_LINK_SPEED_CHANGE ((NDIS_STATUS)0x40010013L)
#define NDIS_STATUS_LINK_STATE ((NDIS_STATUS)0x40010017L)
#define NDIS_STATUS_NETWORK_CHANGE ((NDIS_STATUS)0x40010018L)
#define NDIS_STATUS_MEDIA_SPECIFIC_INDICATION_EX ((NDIS_STATUS)0x40010019L)
#define NDIS_STATUS_PORT_STATE ((NDIS_STATUS)0x40010022L)
#define NDIS_STATUS_OPER_STATUS ((NDIS_STATUS)0x40010023L)
#define NDIS_STATUS_PACKET_FILTER ((NDIS_STATUS)0x40010024L)
#define NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG ((NDIS_STATUS)0x40020006L)
#define NDIS_STATUS_TASK_OFFLOAD_HARDWARE_CAPABILITIES ((NDIS_STATUS)0x40020007L)
#define NDIS_STATUS_OFFLOAD_ENCASPULATION_CHANGE ((NDIS_STATUS)0x40020008L)

#define NDIS_STATUS_BUFFER_OVERFLOW ((NDIS_STATUS)STATUS_BUFFER_OVERFLOW)
#define NDIS_STATUS_FAILURE ((NDIS_STATUS)STATUS_UNSUCCESSFUL)
#define NDIS_STATUS_RESOURCES ((NDIS_STATUS)STATUS_INSUFFICIENT_RESOURCES)
#define NDIS_STATUS_CLOSING ((NDIS_STATUS)0xC0010002L)
#define NDIS_STATUS_BAD_VERSION ((NDIS_STATUS)0xC0010004L)
#define NDIS_STATUS_BAD_CHARACTERISTICS ((NDIS_STATUS)0xC0010005L)
#define NDIS_STATUS_ADAPTER_NOT_FOUND ((NDIS_STATUS)STATUS_NDIS_ADAPTER_NOT_FOUND)
#define NDIS_STATUS_OPEN_FAILED ((NDIS_STATUS)0xC0010007L)
#define NDIS_STATUS_DEVICE_FAILED ((NDIS_STATUS)STATUS_NDIS_DEVICE_FAILED)
#define NDIS_STATUS_MULTICAST_FULL ((NDIS_STATUS)STATUS_NDIS_MULTICAST_FULL)
#define NDIS_STATUS_MULTICAST_EXISTS ((NDIS_STATUS)0xC001000AL)
#define NDIS_STATUS_MULTICAST_NOT_FOUND ((NDIS_STATUS)0xC001000BL)
#define NDIS_STATUS_REQUEST_ABORTED ((NDIS_STATUS)STATUS_NDIS_REQUEST_ABORTED)
#define NDIS_STATUS_RESET_IN_PROGRESS ((NDIS_STATUS)STATUS_NDIS_RESET_IN_PROGRESS)
#define NDIS_STATUS_NOT_SUPPORTED ((NDIS_STATUS)STATUS_NOT_SUPPORTED)
#define NDIS_STATUS_INVALID_PACKET ((NDIS_STATUS)STATUS_NDIS_INVALID_PACKET)
#define NDIS_STATUS_INVALID_LENGTH ((NDIS_STATUS)STATUS_NDIS_INVALID_LENGTH)
#define NDIS_STATUS_INVALID_DATA ((NDIS_STATUS)STATUS_NDIS_INVALID_DATA)
#define NDIS_STATUS_BUFFER_TOO_SHORT ((NDIS_STATUS)STATUS_NDIS_BUFFER_TOO_SHORT)
#define NDIS_STATUS_INVALID_OID ((NDIS_STATUS)STATUS_NDIS_INVALID_OID)
#define NDIS_STATUS_ADAPTER_REMOVED ((NDIS_STATUS)STATUS_NDIS_ADAPTER_REMOVED)
#define NDIS_STATUS_UNSUPPORTED_MEDIA ((NDIS_STATUS)STATUS_NDIS_UNSUPPORTED_MEDIA)
#define NDIS_STATUS_MEDIA_DISCONNECTED ((NDIS_STATUS)STATUS_NDIS_MEDIA_DISCONNECTED)
#define NDIS_STATUS_PAUSED ((NDIS_STATUS)STATUS_NDIS_PAUSED)
#define NDIS_STATUS_LOW_POWER_STATE ((NDIS_STATUS)STATUS_NDIS_LOW_POWER_STATE)
#define NDIS_STATUS_INVALID_PARAMETER ((NDIS_STATUS)STATUS_INVALID_PARAMETER)
#define NDIS_STATUS_INVALID_DEVICE_REQUEST ((NDIS_STATUS)STATUS_INVALID_DEVICE_REQUEST)
#define NDIS_STATUS_SEND_ABORTED ((NDIS_STATUS)STATUS_NDIS_REQUEST_ABORTED)

#define NDIS_STATUS_IS_SUCCESS(s) ((NDIS_STATUS)(s) >= 0)

/* ---------------------------------------------------------------------------------------------
 * NET_BUFFER / NET_BUFFER_LIST
 * ------------------------------------------------------------------------------------------- */
typedef struct _NET_BUFFER NET_BUFFER, *PNET_BUFFER;
typedef struct _NET_BUFFER_LIST NET_BUFFER_LIST, *PNET_BUFFER_LIST;
typedef struct _NET_BUFFER_LIST_CONTEXT NET_BUFFER_LIST_CONTEXT, *PNET_BUFFER_LIST_CONTEXT;
struct _NET_BUFFER_SHARED_MEMORY;

/* NDIS aligns the reserved areas so that drivers can keep SLIST entries in them. */
#define NDIS_MEMORY_ALIGN __attribute__((aligned(MEMORY_ALLOCATION_ALIGNMENT)))

typedef union _NET_BUFFER_DATA_LENGTH {
	ULONG DataLength;
	SIZE_T stDataLength;
} NET_BUFFER_DATA_LENGTH, *PNET_BUFFER_DATA_LENGTH;

typedef struct _NET_BUFFER_DATA {
	PNET_BUFFER Next;
	PMDL CurrentMdl;
	ULONG CurrentMdlOffset;
	NET_BUFFER_DATA_LENGTH NbDataLength;
	PMDL MdlChain;
	ULONG DataOffset;
} NET_BUFFER_DATA, *PNET_BUFFER_DATA;

typedef union _NET_BUFFER_HEADER {
	NET_BUFFER_DATA NetBufferData;
	SLIST_HEADER Link;
} NET_BUFFER_HEADER, *PNET_BUFFER_HEADER;

struct _NET_BUFFER {
	union {
		struct {
			PNET_BUFFER Next;
			PMDL CurrentMdl;
			ULONG CurrentMdlOffset;
			union {
				ULONG DataLength;
				SIZE_T stDataLength;
			};
			PMDL MdlChain;
			ULONG DataOffset;
		};
		SLIST_HEADER Link;
		NET_BUFFER_HEADER NetBufferHeader;
	};
	USHORT ChecksumBias;
	USHORT Reserved;
	NDIS_HANDLE NdisPoolHandle;
	NDIS_MEMORY_ALIGN PVOID NdisReserved[2];
	NDIS_MEMORY_ALIGN PVOID ProtocolReserved[6];
	NDIS_MEMORY_ALIGN PVOID MiniportReserved[4];
	NDIS_PHYSICAL_ADDRESS DataPhysicalAddress;
#if NDIS_SUPPORT_NDIS620
	union {
		struct _NET_BUFFER_SHARED_MEMORY *SharedMemoryInfo;
		PSCATTER_GATHER_LIST ScatterGatherList;
	};
#endif
};

struct _NET_BUFFER_LIST_CONTEXT {
	PNET_BUFFER_LIST_CONTEXT Next;
	USHORT Size;
	USHORT Offset;
	NDIS_MEMORY_ALIGN UCHAR ContextData[];
};

typedef enum _NDIS_NET_BUFFER_LIST_INFO {
	TcpIpChecksumNetBufferListInfo = 0,
	TcpOffloadBytesTransferred = 0,
	IPsecOffloadV1NetBufferListInfo = 1,
	IPsecOffloadV2NetBufferListInfo = 1,
	TcpLargeSendNetBufferListInfo = 2,
	TcpReceiveNoPush = 2,
	ClassificationHandleNetBufferListInfo = 3,
	Ieee8021QNetBufferListInfo = 4,
	NetBufferListCancelId = 5,
	MediaSpecificInformation = 6,
	NetBufferListFrameType = 7,
	NetBufferListProtocolId = 7,
	NetBufferListHashValue = 8,
	NetBufferListHashInfo = 9,
	WfpNetBufferListInfo = 10,
	IPsecOffloadV2TunnelNetBufferListInfo = 11,
	IPsecOffloadV2HeaderNetBufferListInfo = 12,
	NetBufferListCorrelationId = 13,
	NetBufferListFilteringInfo = 14,
	MediaSpecificInformationEx = 15,
	NblOriginalInterfaceIfIndex = 16,
	NblReAuthWfpFlowContext = 16,
	TcpReceiveBytesTransferred = 17,
	/*
	 * NDIS 6.30 slots. The three switch/subnet slots exist on 64-bit Windows only, so the RSC
	 * slots sit at different indexes on x64 and x86. NDIS allocates every NET_BUFFER_LIST
	 * itself, so this bound only sizes our view of the array; never use sizeof(NET_BUFFER_LIST)
	 * for anything but the checks below.
	 */
#ifdef _WIN64
	SwitchForwardingReserved = 18,
	SwitchForwardingDetail = 19,
	VirtualSubnetInfo = 20,
	IMReserved = 21,
	TcpRecvSegCoalesceInfo = 22,
	RscTcpTimestampDelta = 23,
	MaxNetBufferListInfo = 24
#else
	IMReserved = 18,
	TcpRecvSegCoalesceInfo = 19,
	RscTcpTimestampDelta = 20,
	MaxNetBufferListInfo = 21
#endif
} NDIS_NET_BUFFER_LIST_INFO, *PNDIS_NET_BUFFER_LIST_INFO;

typedef struct _NET_BUFFER_LIST_DATA {
	PNET_BUFFER_LIST Next;
	PNET_BUFFER FirstNetBuffer;
} NET_BUFFER_LIST_DATA, *PNET_BUFFER_LIST_DATA;

typedef union _NET_BUFFER_LIST_HEADER {
	NET_BUFFER_LIST_DATA NetBufferListData;
	SLIST_HEADER Link;
} NET_BUFFER_LIST_HEADER, *PNET_BUFFER_LIST_HEADER;

struct _NET_BUFFER_LIST {
	union {
		struct {
			PNET_BUFFER_LIST Next;
			PNET_BUFFER FirstNetBuffer;
		};
		SLIST_HEADER Link;
		NET_BUFFER_LIST_HEADER NetBufferListHeader;
	};
	PNET_BUFFER_LIST_CONTEXT Context;
	PNET_BUFFER_LIST ParentNetBufferList;
	NDIS_HANDLE NdisPoolHandle;
	NDIS_MEMORY_ALIGN PVOID NdisReserved[2];
	NDIS_MEMORY_ALIGN PVOID ProtocolReserved[4];
	NDIS_MEMORY_ALIGN PVOID MiniportReserved[2];
	PVOID Scratch;
	NDIS_HANDLE SourceHandle;
	ULONG NblFlags;
	LONG ChildRefCount;
	ULONG Flags;
	union {
		NDIS_STATUS Status;
		ULONG NdisReserved2;
	};
	PVOID NetBufferListInfo[MaxNetBufferListInfo];
};

/* NET_BUFFER accessors */
#define NET_BUFFER_NEXT_NB(nb) ((nb)->Next)
#define NET_BUFFER_FIRST_MDL(nb) ((nb)->MdlChain)
#define NET_BUFFER_DATA_LENGTH(nb) ((nb)->DataLength)
#define NET_BUFFER_DATA_OFFSET(nb) ((nb)->DataOffset)
#define NET_BUFFER_CURRENT_MDL(nb) ((nb)->CurrentMdl)
#define NET_BUFFER_CURRENT_MDL_OFFSET(nb) ((nb)->CurrentMdlOffset)
#define NET_BUFFER_CHECKSUM_BIAS(nb) ((nb)->ChecksumBias)
#define NET_BUFFER_PROTOCOL_RESERVED(nb) ((nb)->ProtocolReserved)
#define NET_BUFFER_MINIPORT_RESERVED(nb) ((nb)->MiniportReserved)
#define NET_BUFFER_DATA_PHYSICAL_ADDRESS(nb) ((nb)->DataPhysicalAddress)
#if NDIS_SUPPORT_NDIS620
#define NET_BUFFER_SHARED_MEMORY(nb) ((nb)->SharedMemoryInfo)
#define NET_BUFFER_SCATTER_GATHER_LIST(nb) ((nb)->ScatterGatherList)
#endif

/* NET_BUFFER_LIST accessors */
#define NET_BUFFER_LIST_NEXT_NBL(nbl) ((nbl)->Next)
#define NET_BUFFER_LIST_FIRST_NB(nbl) ((nbl)->FirstNetBuffer)
#define NET_BUFFER_LIST_FLAGS(nbl) ((nbl)->Flags)
#define NET_BUFFER_LIST_NBL_FLAGS(nbl) ((nbl)->NblFlags)
#define NET_BUFFER_LIST_STATUS(nbl) ((nbl)->Status)
#define NET_BUFFER_LIST_PROTOCOL_RESERVED(nbl) ((nbl)->ProtocolReserved)
#define NET_BUFFER_LIST_MINIPORT_RESERVED(nbl) ((nbl)->MiniportReserved)
#define NET_BUFFER_LIST_CONTEXT_DATA_START(nbl) \
	((PUCHAR)(nbl)->Context->ContextData + (nbl)->Context->Offset)
#define NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl) ((nbl)->Context->Size)
#define NET_BUFFER_LIST_INFO(nbl, id) ((nbl)->NetBufferListInfo[(id)])
#define NET_BUFFER_LIST_FRAME_TYPE(nbl) (NET_BUFFER_LIST_INFO((nbl), NetBufferListFrameType))
#define NDIS_GET_NET_BUFFER_LIST_CANCEL_ID(nbl) (NET_BUFFER_LIST_INFO((nbl), NetBufferListCancelId))
#define NDIS_SET_NET_BUFFER_LIST_CANCEL_ID(nbl, id) \
	(NET_BUFFER_LIST_INFO((nbl), NetBufferListCancelId) = (PVOID)(id))

#define NET_BUFFER_LIST_GET_HASH_VALUE(nbl) \
	((ULONG)(ULONG_PTR)NET_BUFFER_LIST_INFO((nbl), NetBufferListHashValue))
#define NET_BUFFER_LIST_SET_HASH_VALUE(nbl, v) \
	(NET_BUFFER_LIST_INFO((nbl), NetBufferListHashValue) = (PVOID)(ULONG_PTR)(ULONG)(v))
#define NET_BUFFER_LIST_GET_HASH_TYPE(nbl) \
	((ULONG)(ULONG_PTR)NET_BUFFER_LIST_INFO((nbl), NetBufferListHashInfo) & NDIS_HASH_TYPE_MASK)
#define NET_BUFFER_LIST_GET_HASH_FUNCTION(nbl) \
	((ULONG)(ULONG_PTR)NET_BUFFER_LIST_INFO((nbl), NetBufferListHashInfo) & NDIS_HASH_FUNCTION_MASK)
#define NET_BUFFER_LIST_SET_HASH_TYPE(nbl, t)                                                      \
	(NET_BUFFER_LIST_INFO((nbl), NetBufferListHashInfo) = (PVOID)(ULONG_PTR)(                     \
		 ((ULONG)(t) & NDIS_HASH_TYPE_MASK) | NET_BUFFER_LIST_GET_HASH_FUNCTION(nbl)))
#define NET_BUFFER_LIST_SET_HASH_FUNCTION(nbl, f)                                                  \
	(NET_BUFFER_LIST_INFO((nbl), NetBufferListHashInfo) = (PVOID)(ULONG_PTR)(                     \
		 ((ULONG)(f) & NDIS_HASH_FUNCTION_MASK) | NET_BUFFER_LIST_GET_HASH_TYPE(nbl)))

/* NetBufferList Flags usable by miniports */
#define NBL_FLAGS_PROTOCOL_RESERVED 0xFFF00000
#define NBL_FLAGS_MINIPORT_RESERVED 0x0000F000
#define NBL_FLAGS_SCRATCH 0x000F0000
#define NBL_FLAGS_NDIS_RESERVED 0x00000FFF

#define NDIS_NBL_FLAGS_IS_IPV4 0x00000200
#define NDIS_NBL_FLAGS_IS_IPV6 0x00000400
#define NDIS_NBL_FLAGS_IS_TCP 0x00000800
#define NDIS_NBL_FLAGS_IS_UDP 0x00001000

/* Per-NBL out-of-band information stored in NetBufferListInfo[] (each fits in a PVOID). */
typedef struct _NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO {
	union {
		struct {
			ULONG IsIPv4 : 1;
			ULONG IsIPv6 : 1;
			ULONG TcpChecksum : 1;
			ULONG UdpChecksum : 1;
			ULONG IpHeaderChecksum : 1;
			ULONG Reserved : 11;
			ULONG TcpHeaderOffset : 10;
		} Transmit;
		struct {
			ULONG TcpChecksumFailed : 1;
			ULONG UdpChecksumFailed : 1;
			ULONG IpChecksumFailed : 1;
			ULONG TcpChecksumSucceeded : 1;
			ULONG UdpChecksumSucceeded : 1;
			ULONG IpChecksumSucceeded : 1;
			ULONG Loopback : 1;
#if NDIS_SUPPORT_NDIS630
			ULONG TcpChecksumValueInvalid : 1;
			ULONG IpChecksumValueInvalid : 1;
#endif
		} Receive;
		PVOID Value;
	};
} NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO, *PNDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO;

/* NetBufferListInfo[TcpRecvSegCoalesceInfo] of a received single coalesced unit (NDIS 6.30);
 * both counts stay zero on packets that were not coalesced. */
typedef union _NDIS_RSC_NBL_INFO {
	struct {
		USHORT CoalescedSegCount;
		USHORT DupAckCount;
	} Info;
	PVOID Value;
} NDIS_RSC_NBL_INFO, *PNDIS_RSC_NBL_INFO;
#define NET_BUFFER_LIST_COALESCED_SEG_COUNT(nbl) \
	(((PNDIS_RSC_NBL_INFO)&NET_BUFFER_LIST_INFO((nbl), TcpRecvSegCoalesceInfo))->Info.CoalescedSegCount)
#define NET_BUFFER_LIST_DUP_ACK_COUNT(nbl) \
	(((PNDIS_RSC_NBL_INFO)&NET_BUFFER_LIST_INFO((nbl), TcpRecvSegCoalesceInfo))->Info.DupAckCount)

#define NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE 0
#define NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE 1
#define NDIS_TCP_LARGE_SEND_OFFLOAD_IPv4 0
#define NDIS_TCP_LARGE_SEND_OFFLOAD_IPv6 1

typedef struct _NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO {
	union {
		struct {
			ULONG Unused : 30;
			ULONG Type : 1;
			ULONG Reserved2 : 1;
		} Transmit;
		struct {
			ULONG MSS : 20;
			ULONG TcpHeaderOffset : 10;
			ULONG Type : 1;
			ULONG Reserved2 : 1;
		} LsoV1Transmit;
		struct {
			ULONG TcpPayload : 30;
			ULONG Type : 1;
			ULONG Reserved2 : 1;
		} LsoV1TransmitComplete;
		struct {
			ULONG MSS : 20;
			ULONG TcpHeaderOffset : 10;
			ULONG Type : 1;
			ULONG IPVersion : 1; /* NDIS_TCP_LARGE_SEND_OFFLOAD_IPv4 / _IPv6 */
		} LsoV2Transmit;
		struct {
			ULONG Reserved : 30;
			ULONG Type : 1;
			ULONG Reserved2 : 1;
		} LsoV2TransmitComplete;
		PVOID Value;
	};
} NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO, *PNDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO;

typedef struct _NDIS_NET_BUFFER_LIST_8021Q_INFO {
	union {
		struct {
			UINT32 UserPriority : 3;
			UINT32 CanonicalFormatId : 1;
			UINT32 VlanId : 12;
			UINT32 Reserved : 16;
		} TagHeader;
		struct {
			UINT32 UserPriority : 3;
			UINT32 CanonicalFormatId : 1;
			UINT32 VlanId : 12;
			UINT32 WMMInfo : 4;
			UINT32 Reserved : 12;
		} WLanTagHeader;
		PVOID Value;
	};
} NDIS_NET_BUFFER_LIST_8021Q_INFO, *PNDIS_NET_BUFFER_LIST_8021Q_INFO;

/* ---------------------------------------------------------------------------------------------
 * Pools
 * ------------------------------------------------------------------------------------------- */
#define NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 1
#define NET_BUFFER_POOL_PARAMETERS_REVISION_1 1
#define NDIS_PROTOCOL_ID_DEFAULT 0x00
#define NDIS_PROTOCOL_ID_TCP_IP 0x02

typedef struct _NET_BUFFER_LIST_POOL_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	UCHAR ProtocolId;
	BOOLEAN fAllocateNetBuffer;
	USHORT ContextSize;
	ULONG PoolTag;
	ULONG DataSize;
} NET_BUFFER_LIST_POOL_PARAMETERS, *PNET_BUFFER_LIST_POOL_PARAMETERS;
#define NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NET_BUFFER_LIST_POOL_PARAMETERS, DataSize)

typedef struct _NET_BUFFER_POOL_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	ULONG PoolTag;
	ULONG DataSize;
} NET_BUFFER_POOL_PARAMETERS, *PNET_BUFFER_POOL_PARAMETERS;
#define NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NET_BUFFER_POOL_PARAMETERS, DataSize)

/* ---------------------------------------------------------------------------------------------
 * OID requests and status indications
 * ------------------------------------------------------------------------------------------- */
#define NDIS_OID_REQUEST_REVISION_1 1
#define NDIS_OID_REQUEST_REVISION_2 2
#define NDIS_OID_REQUEST_NDIS_RESERVED_SIZE 16
#define NDIS_OID_REQUEST_TIMEOUT_INFINITE 0
#define NDIS_OID_REQUEST_FLAGS_VPORT_ID_VALID 0x0001

typedef struct _NDIS_OID_REQUEST {
	NDIS_OBJECT_HEADER Header;
	NDIS_REQUEST_TYPE RequestType;
	NDIS_PORT_NUMBER PortNumber;
	UINT Timeout;
	PVOID RequestId;
	NDIS_HANDLE RequestHandle;
	union _NDIS_OID_REQUEST_DATA {
		struct _NDIS_OID_QUERY_INFORMATION {
			NDIS_OID Oid;
			PVOID InformationBuffer;
			UINT InformationBufferLength;
			UINT BytesWritten;
			UINT BytesNeeded;
		} QUERY_INFORMATION;
		struct _NDIS_OID_SET_INFORMATION {
			NDIS_OID Oid;
			PVOID InformationBuffer;
			UINT InformationBufferLength;
			UINT BytesRead;
			UINT BytesNeeded;
		} SET_INFORMATION;
		struct _NDIS_OID_METHOD_INFORMATION {
			NDIS_OID Oid;
			PVOID InformationBuffer;
			ULONG InputBufferLength;
			ULONG OutputBufferLength;
			ULONG MethodId;
			UINT BytesWritten;
			UINT BytesRead;
			UINT BytesNeeded;
		} METHOD_INFORMATION;
	} DATA;
	UCHAR NdisReserved[NDIS_OID_REQUEST_NDIS_RESERVED_SIZE * sizeof(PVOID)];
	UCHAR MiniportReserved[2 * sizeof(PVOID)];
	UCHAR SourceReserved[2 * sizeof(PVOID)];
	UCHAR SupportedRevision;
	UCHAR Reserved1;
	USHORT Reserved2;
#if NDIS_SUPPORT_NDIS620
	NDIS_NIC_SWITCH_ID SwitchId;
	ULONG VPortId; /* NDIS_NIC_SWITCH_VPORT_ID */
	ULONG Flags;
#endif
} NDIS_OID_REQUEST, *PNDIS_OID_REQUEST;
#define NDIS_SIZEOF_OID_REQUEST_REVISION_1 RTL_SIZEOF_THROUGH_FIELD(NDIS_OID_REQUEST, Reserved2)
#if NDIS_SUPPORT_NDIS620
#define NDIS_SIZEOF_OID_REQUEST_REVISION_2 RTL_SIZEOF_THROUGH_FIELD(NDIS_OID_REQUEST, Flags)
#endif

#define NDIS_STATUS_INDICATION_REVISION_1 1

typedef struct _NDIS_STATUS_INDICATION {
	NDIS_OBJECT_HEADER Header;
	NDIS_HANDLE SourceHandle;
	NDIS_PORT_NUMBER PortNumber;
	NDIS_STATUS StatusCode;
	ULONG Flags;
	NDIS_HANDLE DestinationHandle;
	PVOID RequestId;
	PVOID StatusBuffer;
	ULONG StatusBufferSize;
	GUID Guid;
	PVOID NdisReserved[4];
} NDIS_STATUS_INDICATION, *PNDIS_STATUS_INDICATION;
#define NDIS_SIZEOF_STATUS_INDICATION_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_STATUS_INDICATION, NdisReserved)

/* ---------------------------------------------------------------------------------------------
 * Miniport life cycle parameters
 * ------------------------------------------------------------------------------------------- */
#define NDIS_MINIPORT_INIT_PARAMETERS_REVISION_1 1

typedef struct _NDIS_MINIPORT_INIT_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	ULONG Flags;
	PNDIS_RESOURCE_LIST AllocatedResources;
	NDIS_HANDLE IMDeviceInstanceContext;
	NDIS_HANDLE MiniportAddDeviceContext;
	NET_IFINDEX IfIndex;
	NET_LUID NetLuid;
	PNDIS_PORT_AUTHENTICATION_PARAMETERS DefaultPortAuthStates;
	PNDIS_PCI_DEVICE_CUSTOM_PROPERTIES PciDeviceCustomProperties;
} NDIS_MINIPORT_INIT_PARAMETERS, *PNDIS_MINIPORT_INIT_PARAMETERS;
#define NDIS_SIZEOF_MINIPORT_INIT_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_INIT_PARAMETERS, PciDeviceCustomProperties)

#define NDIS_MINIPORT_PAUSE_PARAMETERS_REVISION_1 1
#define NDIS_PAUSE_NDIS_INTERNAL 0x00000001
#define NDIS_PAUSE_LOW_POWER 0x00000002
#define NDIS_PAUSE_BIND_PROTOCOL 0x00000004
#define NDIS_PAUSE_UNBIND_PROTOCOL 0x00000008
#define NDIS_PAUSE_ATTACH_FILTER 0x00000010
#define NDIS_PAUSE_DETACH_FILTER 0x00000020
#define NDIS_PAUSE_FILTER_RESTART_STACK 0x00000040
#define NDIS_PAUSE_MINIPORT_DEVICE_REMOVE 0x00000080

typedef struct _NDIS_MINIPORT_PAUSE_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	ULONG Flags;
	ULONG PauseReason;
} NDIS_MINIPORT_PAUSE_PARAMETERS, *PNDIS_MINIPORT_PAUSE_PARAMETERS;
#define NDIS_SIZEOF_MINIPORT_PAUSE_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_PAUSE_PARAMETERS, PauseReason)

typedef struct _NDIS_RESTART_ATTRIBUTES NDIS_RESTART_ATTRIBUTES, *PNDIS_RESTART_ATTRIBUTES;
struct _NDIS_RESTART_ATTRIBUTES {
	PNDIS_RESTART_ATTRIBUTES Next;
	NDIS_OID Oid;
	ULONG DataLength;
	NDIS_MEMORY_ALIGN UCHAR Data[1];
};

#define NDIS_MINIPORT_RESTART_PARAMETERS_REVISION_1 1

typedef struct _NDIS_MINIPORT_RESTART_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	PNDIS_RESTART_ATTRIBUTES RestartAttributes;
	ULONG Flags;
} NDIS_MINIPORT_RESTART_PARAMETERS, *PNDIS_MINIPORT_RESTART_PARAMETERS;
#define NDIS_SIZEOF_MINIPORT_RESTART_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_RESTART_PARAMETERS, Flags)

typedef enum _NDIS_HALT_ACTION {
	NdisHaltDeviceDisabled,
	NdisHaltDeviceInstanceDeInitialized,
	NdisHaltDevicePoweredDown,
	NdisHaltDeviceSurpriseRemoved,
	NdisHaltDeviceFailed,
	NdisHaltDeviceInitializationFailed,
	NdisHaltDeviceStopped
} NDIS_HALT_ACTION, *PNDIS_HALT_ACTION;

typedef enum _NDIS_SHUTDOWN_ACTION {
	NdisShutdownPowerOff,
	NdisShutdownBugCheck
} NDIS_SHUTDOWN_ACTION, *PNDIS_SHUTDOWN_ACTION;

typedef enum _NDIS_DEVICE_PNP_EVENT {
	NdisDevicePnPEventQueryRemoved,
	NdisDevicePnPEventRemoved,
	NdisDevicePnPEventSurpriseRemoved,
	NdisDevicePnPEventQueryStopped,
	NdisDevicePnPEventStopped,
	NdisDevicePnPEventPowerProfileChanged,
	NdisDevicePnPEventFilterListChanged,
	NdisDevicePnPEventMaximum
} NDIS_DEVICE_PNP_EVENT, *PNDIS_DEVICE_PNP_EVENT;

#define NET_DEVICE_PNP_EVENT_REVISION_1 1

typedef struct _NET_DEVICE_PNP_EVENT {
	NDIS_OBJECT_HEADER Header;
	NDIS_PORT_NUMBER PortNumber;
	NDIS_DEVICE_PNP_EVENT DevicePnPEvent;
	PVOID InformationBuffer;
	ULONG InformationBufferLength;
	UCHAR NdisReserved[2 * sizeof(PVOID)];
} NET_DEVICE_PNP_EVENT, *PNET_DEVICE_PNP_EVENT;
#define NDIS_SIZEOF_NET_DEVICE_PNP_EVENT_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NET_DEVICE_PNP_EVENT, NdisReserved)

/* ---------------------------------------------------------------------------------------------
 * Miniport handlers. WDK code is built with /Gz, so every callback is stdcall on x86.
 * ------------------------------------------------------------------------------------------- */
typedef NDIS_STATUS NTAPI SET_OPTIONS(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext);
typedef SET_OPTIONS *SET_OPTIONS_HANDLER;
typedef SET_OPTIONS MINIPORT_SET_OPTIONS;

typedef NDIS_STATUS NTAPI MINIPORT_INITIALIZE(NDIS_HANDLE NdisMiniportHandle,
											  NDIS_HANDLE MiniportDriverContext,
											  PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters);
typedef MINIPORT_INITIALIZE *MINIPORT_INITIALIZE_HANDLER;

typedef VOID NTAPI MINIPORT_HALT(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction);
typedef MINIPORT_HALT *MINIPORT_HALT_HANDLER;

typedef VOID NTAPI MINIPORT_UNLOAD(PDRIVER_OBJECT DriverObject);
typedef MINIPORT_UNLOAD *MINIPORT_DRIVER_UNLOAD;

typedef NDIS_STATUS NTAPI MINIPORT_PAUSE(NDIS_HANDLE MiniportAdapterContext,
										 PNDIS_MINIPORT_PAUSE_PARAMETERS PauseParameters);
typedef MINIPORT_PAUSE *MINIPORT_PAUSE_HANDLER;

typedef NDIS_STATUS NTAPI MINIPORT_RESTART(NDIS_HANDLE MiniportAdapterContext,
										   PNDIS_MINIPORT_RESTART_PARAMETERS RestartParameters);
typedef MINIPORT_RESTART *MINIPORT_RESTART_HANDLER;

typedef NDIS_STATUS NTAPI MINIPORT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
											   PNDIS_OID_REQUEST OidRequest);
typedef MINIPORT_OID_REQUEST *MINIPORT_OID_REQUEST_HANDLER;

typedef VOID NTAPI MINIPORT_SEND_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext,
												  PNET_BUFFER_LIST NetBufferList,
												  NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
typedef MINIPORT_SEND_NET_BUFFER_LISTS *MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER;

typedef VOID NTAPI MINIPORT_RETURN_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext,
													PNET_BUFFER_LIST NetBufferLists,
													ULONG ReturnFlags);
typedef MINIPORT_RETURN_NET_BUFFER_LISTS *MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER;

typedef VOID NTAPI MINIPORT_CANCEL_SEND(NDIS_HANDLE MiniportAdapterContext, PVOID CancelId);
typedef MINIPORT_CANCEL_SEND *MINIPORT_CANCEL_SEND_HANDLER;

typedef BOOLEAN NTAPI MINIPORT_CHECK_FOR_HANG(NDIS_HANDLE MiniportAdapterContext);
typedef MINIPORT_CHECK_FOR_HANG *MINIPORT_CHECK_FOR_HANG_HANDLER;

typedef NDIS_STATUS NTAPI MINIPORT_RESET(NDIS_HANDLE MiniportAdapterContext,
										 PBOOLEAN AddressingReset);
typedef MINIPORT_RESET *MINIPORT_RESET_HANDLER;

typedef VOID NTAPI MINIPORT_DEVICE_PNP_EVENT_NOTIFY(NDIS_HANDLE MiniportAdapterContext,
													PNET_DEVICE_PNP_EVENT NetDevicePnPEvent);
typedef MINIPORT_DEVICE_PNP_EVENT_NOTIFY *MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER;

typedef VOID NTAPI MINIPORT_SHUTDOWN(NDIS_HANDLE MiniportAdapterContext,
									 NDIS_SHUTDOWN_ACTION ShutdownAction);
typedef MINIPORT_SHUTDOWN *MINIPORT_SHUTDOWN_HANDLER;

typedef VOID NTAPI MINIPORT_CANCEL_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext, PVOID RequestId);
typedef MINIPORT_CANCEL_OID_REQUEST *MINIPORT_CANCEL_OID_REQUEST_HANDLER;

typedef NDIS_STATUS NTAPI MINIPORT_DIRECT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
													  PNDIS_OID_REQUEST OidRequest);
typedef MINIPORT_DIRECT_OID_REQUEST *MINIPORT_DIRECT_OID_REQUEST_HANDLER;

typedef VOID NTAPI MINIPORT_CANCEL_DIRECT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
													  PVOID RequestId);
typedef MINIPORT_CANCEL_DIRECT_OID_REQUEST *MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER;

/* Interrupt handlers */
typedef struct _NDIS_RECEIVE_THROTTLE_PARAMETERS {
	ULONG MaxNblsToIndicate;
	ULONG MoreNblsPending : 1;
} NDIS_RECEIVE_THROTTLE_PARAMETERS, *PNDIS_RECEIVE_THROTTLE_PARAMETERS;
#define NDIS_INDICATE_ALL_NBLS (~0UL)

typedef BOOLEAN NTAPI MINIPORT_ISR(NDIS_HANDLE MiniportInterruptContext,
								   PBOOLEAN QueueDefaultInterruptDpc, PULONG TargetProcessors);
typedef MINIPORT_ISR *MINIPORT_ISR_HANDLER;

typedef VOID NTAPI MINIPORT_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext,
										  PVOID MiniportDpcContext,
										  PVOID ReceiveThrottleParameters, PVOID NdisReserved2);
typedef MINIPORT_INTERRUPT_DPC *MINIPORT_INTERRUPT_DPC_HANDLER;

typedef VOID NTAPI MINIPORT_DISABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_DISABLE_INTERRUPT *MINIPORT_DISABLE_INTERRUPT_HANDLER;

typedef VOID NTAPI MINIPORT_ENABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_ENABLE_INTERRUPT *MINIPORT_ENABLE_INTERRUPT_HANDLER;

typedef BOOLEAN NTAPI MINIPORT_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext,
												 ULONG MessageId,
												 PBOOLEAN QueueDefaultInterruptDpc,
												 PULONG TargetProcessors);
typedef MINIPORT_MESSAGE_INTERRUPT *MINIPORT_MSI_ISR_HANDLER;

typedef VOID NTAPI MINIPORT_MESSAGE_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext,
												  ULONG MessageId, PVOID MiniportDpcContext,
												  PVOID ReceiveThrottleParameters,
												  PVOID NdisReserved2);
typedef MINIPORT_MESSAGE_INTERRUPT_DPC *MINIPORT_MSI_INTERRUPT_DPC_HANDLER;

typedef VOID NTAPI MINIPORT_DISABLE_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext,
													  ULONG MessageId);
typedef MINIPORT_DISABLE_MESSAGE_INTERRUPT *MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER;

typedef VOID NTAPI MINIPORT_ENABLE_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext,
													 ULONG MessageId);
typedef MINIPORT_ENABLE_MESSAGE_INTERRUPT *MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER;

typedef BOOLEAN NTAPI MINIPORT_SYNCHRONIZE_INTERRUPT(PVOID SynchronizeContext);
typedef MINIPORT_SYNCHRONIZE_INTERRUPT *MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER;
typedef MINIPORT_SYNCHRONIZE_INTERRUPT MINIPORT_SYNCHRONIZE_MESSAGE_INTERRUPT;
typedef MINIPORT_SYNCHRONIZE_MESSAGE_INTERRUPT *MINIPORT_SYNCHRONIZE_MSI_INTERRUPT_HANDLER;

/* DMA handlers */
typedef VOID NTAPI MINIPORT_PROCESS_SG_LIST(PDEVICE_OBJECT DeviceObject, PVOID Reserved,
											PSCATTER_GATHER_LIST ScatterGatherListBuffer,
											PVOID Context);
typedef MINIPORT_PROCESS_SG_LIST *MINIPORT_PROCESS_SG_LIST_HANDLER;

typedef VOID NTAPI MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE(NDIS_HANDLE MiniportAdapterContext,
														 PVOID VirtualAddress,
														 PNDIS_PHYSICAL_ADDRESS PhysicalAddress,
														 ULONG Length, PVOID Context);
typedef MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE *MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER;

/* Timers, work items, NET_BUFFER MDL helpers */
typedef VOID NTAPI NDIS_TIMER_FUNCTION(PVOID SystemSpecific1, PVOID FunctionContext,
									   PVOID SystemSpecific2, PVOID SystemSpecific3);
typedef NDIS_TIMER_FUNCTION *PNDIS_TIMER_FUNCTION;

typedef VOID NTAPI NDIS_IO_WORKITEM(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle);
typedef NDIS_IO_WORKITEM *NDIS_IO_WORKITEM_ROUTINE;

typedef PMDL NTAPI NET_BUFFER_ALLOCATE_MDL(PULONG BufferSize);
typedef NET_BUFFER_ALLOCATE_MDL *NET_BUFFER_ALLOCATE_MDL_HANDLER;
typedef VOID NTAPI NET_BUFFER_FREE_MDL(PMDL Mdl);
typedef NET_BUFFER_FREE_MDL *NET_BUFFER_FREE_MDL_HANDLER;

/* ---------------------------------------------------------------------------------------------
 * Driver registration
 * ------------------------------------------------------------------------------------------- */
#define NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 1
#define NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 2

typedef struct _NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
	NDIS_OBJECT_HEADER Header;
	UCHAR MajorNdisVersion;
	UCHAR MinorNdisVersion;
	UCHAR MajorDriverVersion;
	UCHAR MinorDriverVersion;
	ULONG Flags;
	SET_OPTIONS_HANDLER SetOptionsHandler;
	MINIPORT_INITIALIZE_HANDLER InitializeHandlerEx;
	MINIPORT_HALT_HANDLER HaltHandlerEx;
	MINIPORT_DRIVER_UNLOAD UnloadHandler;
	MINIPORT_PAUSE_HANDLER PauseHandler;
	MINIPORT_RESTART_HANDLER RestartHandler;
	MINIPORT_OID_REQUEST_HANDLER OidRequestHandler;
	MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER SendNetBufferListsHandler;
	MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER ReturnNetBufferListsHandler;
	MINIPORT_CANCEL_SEND_HANDLER CancelSendHandler;
	MINIPORT_CHECK_FOR_HANG_HANDLER CheckForHangHandlerEx;
	MINIPORT_RESET_HANDLER ResetHandlerEx;
	MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER DevicePnPEventNotifyHandler;
	MINIPORT_SHUTDOWN_HANDLER ShutdownHandlerEx;
	MINIPORT_CANCEL_OID_REQUEST_HANDLER CancelOidRequestHandler;
#if NDIS_SUPPORT_NDIS61
	MINIPORT_DIRECT_OID_REQUEST_HANDLER DirectOidRequestHandler;
	MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER CancelDirectOidRequestHandler;
#endif
} NDIS_MINIPORT_DRIVER_CHARACTERISTICS, *PNDIS_MINIPORT_DRIVER_CHARACTERISTICS;
#define NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelOidRequestHandler)
#if NDIS_SUPPORT_NDIS61
#define NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelDirectOidRequestHandler)
#endif

/* ---------------------------------------------------------------------------------------------
 * Adapter attributes (NdisMSetMiniportAttributes)
 * ------------------------------------------------------------------------------------------- */
#define NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE 0x00000001
#define NDIS_MINIPORT_ATTRIBUTES_NDIS_WDM 0x00000002
#define NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK 0x00000004
#define NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS 0x00000008
#define NDIS_MINIPORT_ATTRIBUTES_DO_NOT_BIND_TO_ALL_CO 0x00000010
#define NDIS_MINIPORT_ATTRIBUTES_NO_HALT_ON_SUSPEND 0x00000020
#define NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER 0x00000040
#define NDIS_MINIPORT_ATTRIBUTES_CONTROLS_DEFAULT_PORT 0x00000080
#define NDIS_MINIPORT_ATTRIBUTES_NO_PAUSE_ON_SUSPEND 0x00000100
#define NDIS_MINIPORT_ATTRIBUTES_NO_OID_INTERCEPT_ON_NONDEFAULT_PORTS 0x00000200
#define NDIS_MINIPORT_ATTRIBUTES_REGISTER_BUGCHECK_CALLBACK 0x00000400

#define NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES_REVISION_1 1
typedef struct _NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	NDIS_HANDLE MiniportAddDeviceContext;
	ULONG Flags;
} NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES,
	*PNDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES;

#define NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2 2
typedef struct _NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	NDIS_HANDLE MiniportAdapterContext;
	ULONG AttributeFlags;
	UINT CheckForHangTimeInSeconds;
	NDIS_INTERFACE_TYPE InterfaceType;
} NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
#define NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, InterfaceType)
#define NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2 \
	NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1

#define NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2 2
typedef struct _NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	ULONG Flags;
	NDIS_MEDIUM MediaType;
	NDIS_PHYSICAL_MEDIUM PhysicalMediumType;
	ULONG MtuSize;
	ULONG64 MaxXmitLinkSpeed;
	ULONG64 XmitLinkSpeed;
	ULONG64 MaxRcvLinkSpeed;
	ULONG64 RcvLinkSpeed;
	NDIS_MEDIA_CONNECT_STATE MediaConnectState;
	NDIS_MEDIA_DUPLEX_STATE MediaDuplexState;
	ULONG LookaheadSize;
	PNDIS_PNP_CAPABILITIES PowerManagementCapabilities;
	ULONG MacOptions;
	ULONG SupportedPacketFilters;
	ULONG MaxMulticastListSize;
	USHORT MacAddressLength;
	UCHAR PermanentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
	UCHAR CurrentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
	PNDIS_RECEIVE_SCALE_CAPABILITIES RecvScaleCapabilities;
	NET_IF_ACCESS_TYPE AccessType;
	NET_IF_DIRECTION_TYPE DirectionType;
	NET_IF_CONNECTION_TYPE ConnectionType;
	NET_IFTYPE IfType;
	BOOLEAN IfConnectorPresent;
	ULONG SupportedStatistics;
	ULONG SupportedPauseFunctions;
	ULONG DataBackFillSize;
	ULONG ContextBackFillSize;
	PNDIS_OID SupportedOidList;
	ULONG SupportedOidListLength;
	ULONG AutoNegotiationFlags;
#if NDIS_SUPPORT_NDIS620
	PNDIS_PM_CAPABILITIES PowerManagementCapabilitiesEx;
#endif
} NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
#define NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, AutoNegotiationFlags)
#if NDIS_SUPPORT_NDIS620
#define NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, PowerManagementCapabilitiesEx)
#endif

/* AutoNegotiationFlags */
#define NDIS_LINK_STATE_XMIT_LINK_SPEED_AUTO_NEGOTIATED 0x00000001
#define NDIS_LINK_STATE_RCV_LINK_SPEED_AUTO_NEGOTIATED 0x00000002
#define NDIS_LINK_STATE_DUPLEX_AUTO_NEGOTIATED 0x00000004
#define NDIS_LINK_STATE_PAUSE_FUNCTIONS_AUTO_NEGOTIATED 0x00000008

/* OID_OFFLOAD_ENCAPSULATION (absent from mingw's ntddndis.h). Enabled: NDIS_OFFLOAD_SET_*. */
#define NDIS_OFFLOAD_ENCAPSULATION_REVISION_1 1
typedef struct _NDIS_OFFLOAD_ENCAPSULATION {
	NDIS_OBJECT_HEADER Header;
	struct {
		ULONG Enabled;
		ULONG EncapsulationType;
		ULONG HeaderSize;
	} IPv4;
	struct {
		ULONG Enabled;
		ULONG EncapsulationType;
		ULONG HeaderSize;
	} IPv6;
} NDIS_OFFLOAD_ENCAPSULATION, *PNDIS_OFFLOAD_ENCAPSULATION;
#define NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_OFFLOAD_ENCAPSULATION, IPv6.HeaderSize)

#define NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1 1
typedef struct _NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	PNDIS_OFFLOAD DefaultOffloadConfiguration;
	PNDIS_OFFLOAD HardwareOffloadCapabilities;
	PNDIS_TCP_CONNECTION_OFFLOAD DefaultTcpConnectionOffloadConfiguration;
	PNDIS_TCP_CONNECTION_OFFLOAD TcpConnectionOffloadHardwareCapabilities;
} NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES;
#define NDIS_SIZEOF_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES, \
							 TcpConnectionOffloadHardwareCapabilities)

#if NDIS_SUPPORT_NDIS620
struct _NDIS_HD_SPLIT_ATTRIBUTES;
struct _NDIS_SRIOV_CAPABILITIES;
struct _NDIS_QOS_CAPABILITIES;
#define NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2 2
typedef struct _NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	struct _NDIS_HD_SPLIT_ATTRIBUTES *HDSplitAttributes;
	PNDIS_RECEIVE_FILTER_CAPABILITIES HardwareReceiveFilterCapabilities;
	PNDIS_RECEIVE_FILTER_CAPABILITIES CurrentReceiveFilterCapabilities;
	PNDIS_NIC_SWITCH_CAPABILITIES HardwareNicSwitchCapabilities;
	PNDIS_NIC_SWITCH_CAPABILITIES CurrentNicSwitchCapabilities;
#if NDIS_SUPPORT_NDIS630
	struct _NDIS_SRIOV_CAPABILITIES *HardwareSriovCapabilities;
	struct _NDIS_SRIOV_CAPABILITIES *CurrentSriovCapabilities;
	struct _NDIS_QOS_CAPABILITIES *HardwareQosCapabilities;
	struct _NDIS_QOS_CAPABILITIES *CurrentQosCapabilities;
#endif
} NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES,
	*PNDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES;
#define NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, \
							 CurrentNicSwitchCapabilities)
#if NDIS_SUPPORT_NDIS630
#define NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, \
							 CurrentQosCapabilities)
#endif
#endif /* NDIS_SUPPORT_NDIS620 */

/* NDIS identifies the member by Header.Type; the union only gives callers one pointer type. */
typedef union _NDIS_MINIPORT_ADAPTER_ATTRIBUTES {
	NDIS_OBJECT_HEADER Header;
	NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES AddDeviceRegistrationAttributes;
	NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES RegistrationAttributes;
	NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES GeneralAttributes;
	NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES OffloadAttributes;
#if NDIS_SUPPORT_NDIS620
	NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES HardwareAssistAttributes;
#endif
} NDIS_MINIPORT_ADAPTER_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_ATTRIBUTES;

/* ---------------------------------------------------------------------------------------------
 * Interrupts and MSI-X
 * ------------------------------------------------------------------------------------------- */
typedef enum _NDIS_INTERRUPT_TYPE {
	NDIS_CONNECT_LINE_BASED = 1,
	NDIS_CONNECT_MESSAGE_BASED
} NDIS_INTERRUPT_TYPE, *PNDIS_INTERRUPT_TYPE;

#define NDIS_MINIPORT_INTERRUPT_REVISION_1 1
typedef struct _NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS {
	NDIS_OBJECT_HEADER Header;
	MINIPORT_ISR_HANDLER InterruptHandler;
	MINIPORT_INTERRUPT_DPC_HANDLER InterruptDpcHandler;
	MINIPORT_DISABLE_INTERRUPT_HANDLER DisableInterruptHandler;
	MINIPORT_ENABLE_INTERRUPT_HANDLER EnableInterruptHandler;
	BOOLEAN MsiSupported;
	BOOLEAN MsiSyncWithAllMessages;
	MINIPORT_MSI_ISR_HANDLER MessageInterruptHandler;
	MINIPORT_MSI_INTERRUPT_DPC_HANDLER MessageInterruptDpcHandler;
	MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER DisableMessageInterruptHandler;
	MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER EnableMessageInterruptHandler;
	NDIS_INTERRUPT_TYPE InterruptType;
	PIO_INTERRUPT_MESSAGE_INFO MessageInfoTable;
} NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, *PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS;
#define NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInfoTable)

typedef enum _NDIS_MSIX_TABLE_CONFIG {
	NdisMSIXTableConfigSetTableEntry,
	NdisMSIXTableConfigMaskTableEntry,
	NdisMSIXTableConfigUnmaskTableEntry,
	NdisMSIXTableConfigMax
} NDIS_MSIX_TABLE_OPERATION, *PNDIS_MSIX_TABLE_OPERATION;

#define NDIS_MSIX_CONFIG_PARAMETERS_REVISION_1 1
typedef struct _NDIS_MSIX_CONFIG_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	NDIS_MSIX_TABLE_OPERATION ConfigOperation;
	ULONG TableEntry;
	ULONG MessageNumber;
} NDIS_MSIX_CONFIG_PARAMETERS, *PNDIS_MSIX_CONFIG_PARAMETERS;
#define NDIS_SIZEOF_MSIX_CONFIG_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_MSIX_CONFIG_PARAMETERS, MessageNumber)

/* ---------------------------------------------------------------------------------------------
 * Scatter/gather DMA and shared memory
 * ------------------------------------------------------------------------------------------- */
#define NDIS_SG_DMA_DESCRIPTION_REVISION_1 1
#define NDIS_SG_DMA_64_BIT_ADDRESS 0x00000001

typedef struct _NDIS_SG_DMA_DESCRIPTION {
	NDIS_OBJECT_HEADER Header;
	ULONG Flags;
	ULONG MaximumPhysicalMapping;
	MINIPORT_PROCESS_SG_LIST_HANDLER ProcessSGListHandler;
	MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER SharedMemAllocateCompleteHandler;
	ULONG ScatterGatherListSize;
} NDIS_SG_DMA_DESCRIPTION, *PNDIS_SG_DMA_DESCRIPTION;
#define NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_SG_DMA_DESCRIPTION, ScatterGatherListSize)

#define NDIS_ALLOCATE_NET_BUFFER_SG_LIST_USE_SHARED_MEMORY 0x00000001 /* Flags argument, unused */

#if NDIS_SUPPORT_NDIS620
typedef enum _NDIS_SHARED_MEMORY_USAGE {
	NdisSharedMemoryUsageUndefined,
	NdisSharedMemoryUsageXmit,
	NdisSharedMemoryUsageXmitHeader,
	NdisSharedMemoryUsageXmitData,
	NdisSharedMemoryUsageReceive,
	NdisSharedMemoryUsageReceiveLookahead,
	NdisSharedMemoryUsageReceivePostLookahead,
	NdisSharedMemoryUsageReceiveHeader,
	NdisSharedMemoryUsageReceiveData,
	NdisSharedMemoryUsageOther,
	NdisSharedMemoryUsageMax
} NDIS_SHARED_MEMORY_USAGE, *PNDIS_SHARED_MEMORY_USAGE;

#define NDIS_SHARED_MEMORY_PARAMETERS_REVISION_1 1
typedef struct _NDIS_SHARED_MEMORY_PARAMETERS {
	NDIS_OBJECT_HEADER Header;
	ULONG Flags;
	ULONG QueueId; /* NDIS_RECEIVE_QUEUE_ID */
	NDIS_HANDLE SharedMemoryHandle;
	NDIS_NODE_NUMBER PreferredNode;
	NDIS_SHARED_MEMORY_USAGE Usage;
	ULONG Length;
	PVOID VirtualAddress;
	ULONG SGListBufferLength;
	PSCATTER_GATHER_LIST SGListBuffer;
#if NDIS_SUPPORT_NDIS630
	ULONG VPortId; /* NDIS_NIC_SWITCH_VPORT_ID */
#endif
} NDIS_SHARED_MEMORY_PARAMETERS, *PNDIS_SHARED_MEMORY_PARAMETERS;
#define NDIS_SIZEOF_SHARED_MEMORY_PARAMETERS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_SHARED_MEMORY_PARAMETERS, SGListBuffer)
#endif

/* ---------------------------------------------------------------------------------------------
 * RSS processor information
 * ------------------------------------------------------------------------------------------- */
#if NDIS_SUPPORT_NDIS620
/* NDIS_RSS_PROCESSOR_INFO, NDIS_RSS_PROCESSOR and NDIS_RSS_PROFILE come from <ntddndis.h>;
 * their layout is checked below. */
/* Entries follow the header at RssProcessorArrayOffset; NDIS reports their stride separately. */
#define NDIS_RSS_PROCESSOR_INFO_ENTRY(info, i)                                                     \
	((PNDIS_RSS_PROCESSOR)((PUCHAR)(info) + (info)->RssProcessorArrayOffset +                     \
						   (SIZE_T)(i) * (info)->RssProcessorEntrySize))

struct _NDIS_SYSTEM_PROCESSOR_INFO_EX;
#endif /* NDIS_SUPPORT_NDIS620 */

/* ---------------------------------------------------------------------------------------------
 * Configuration (registry) access
 * ------------------------------------------------------------------------------------------- */
#define NDIS_CONFIGURATION_OBJECT_REVISION_1 1
#define NDIS_CONFIG_FLAG_FILTER_INSTANCE_CONFIGURATION 0x00000001

typedef struct _NDIS_CONFIGURATION_OBJECT {
	NDIS_OBJECT_HEADER Header;
	NDIS_HANDLE NdisHandle;
	ULONG Flags;
} NDIS_CONFIGURATION_OBJECT, *PNDIS_CONFIGURATION_OBJECT;
#define NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_CONFIGURATION_OBJECT, Flags)

typedef enum _NDIS_PARAMETER_TYPE {
	NdisParameterInteger,
	NdisParameterHexInteger,
	NdisParameterString,
	NdisParameterMultiString,
	NdisParameterBinary
} NDIS_PARAMETER_TYPE, *PNDIS_PARAMETER_TYPE;

typedef struct _BINARY_DATA {
	USHORT Length;
	PVOID Buffer;
} BINARY_DATA;

typedef struct _NDIS_CONFIGURATION_PARAMETER {
	NDIS_PARAMETER_TYPE ParameterType;
	union {
		ULONG IntegerData;
		NDIS_STRING StringData;
		BINARY_DATA BinaryData;
	} ParameterData;
} NDIS_CONFIGURATION_PARAMETER, *PNDIS_CONFIGURATION_PARAMETER;

/* ---------------------------------------------------------------------------------------------
 * Timers
 * ------------------------------------------------------------------------------------------- */
#define NDIS_TIMER_CHARACTERISTICS_REVISION_1 1
typedef struct _NDIS_TIMER_CHARACTERISTICS {
	NDIS_OBJECT_HEADER Header;
	ULONG AllocationTag;
	PNDIS_TIMER_FUNCTION TimerFunction;
	PVOID FunctionContext;
} NDIS_TIMER_CHARACTERISTICS, *PNDIS_TIMER_CHARACTERISTICS;
#define NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 \
	RTL_SIZEOF_THROUGH_FIELD(NDIS_TIMER_CHARACTERISTICS, FunctionContext)

/* ---------------------------------------------------------------------------------------------
 * Send / receive / return flags
 * ------------------------------------------------------------------------------------------- */
#define NDIS_SEND_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK 0x00000002
#define NDIS_SEND_FLAGS_SINGLE_QUEUE 0x00000004
#define NDIS_SEND_FLAGS_SWITCH_DESTINATION_GROUP 0x00000010
#define NDIS_SEND_FLAGS_SWITCH_SINGLE_SOURCE 0x00000020

#define NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_SEND_COMPLETE_FLAGS_SINGLE_QUEUE 0x00000002
#define NDIS_SEND_COMPLETE_FLAGS_SWITCH_SINGLE_SOURCE 0x00000004

#define NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_RECEIVE_FLAGS_RESOURCES 0x00000002
#define NDIS_RECEIVE_FLAGS_SINGLE_ETHER_TYPE 0x00000100
#define NDIS_RECEIVE_FLAGS_SINGLE_VLAN 0x00000200
#define NDIS_RECEIVE_FLAGS_PERFECT_FILTERED 0x00000400
#define NDIS_RECEIVE_FLAGS_SINGLE_QUEUE 0x00000800
#define NDIS_RECEIVE_FLAGS_SHARED_MEMORY_INFO_VALID 0x00001000
#define NDIS_RECEIVE_FLAGS_MORE_NBLS 0x00002000
#define NDIS_RECEIVE_FLAGS_SWITCH_DESTINATION_GROUP 0x00004000
#define NDIS_RECEIVE_FLAGS_SWITCH_SINGLE_SOURCE 0x00008000

#define NDIS_RETURN_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_RETURN_FLAGS_SINGLE_QUEUE 0x00000002
#define NDIS_RETURN_FLAGS_SWITCH_SINGLE_SOURCE 0x00000004

#define NDIS_TEST_SEND_FLAG(f, x) (((f) & (x)) != 0)
#define NDIS_TEST_SEND_AT_DISPATCH_LEVEL(f) NDIS_TEST_SEND_FLAG((f), NDIS_SEND_FLAGS_DISPATCH_LEVEL)
#define NDIS_SET_SEND_COMPLETE_FLAG(f, x) ((f) |= (x))
#define NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(f) (((f) & NDIS_RETURN_FLAGS_DISPATCH_LEVEL) != 0)

/* ---------------------------------------------------------------------------------------------
 * Small helpers that the WDK provides as macros
 * ------------------------------------------------------------------------------------------- */
#define NdisZeroMemory(d, n) RtlZeroMemory((d), (n))
#define NdisMoveMemory(d, s, n) RtlCopyMemory((d), (s), (n))
#define NdisEqualMemory(a, b, n) RtlEqualMemory((a), (b), (n))
#define NdisInterlockedIncrement(p) InterlockedIncrement(p)
#define NdisInterlockedDecrement(p) InterlockedDecrement(p)
#define NdisStallExecution(us) KeStallExecutionProcessor(us)
#define NdisGetCurrentSystemTime(t) KeQuerySystemTime(t)
#define NDIS_GET_ADDRESS_RANGE_ALIGNMENT() NdisGetSharedDataAlignment()

/* ---------------------------------------------------------------------------------------------
 * NDIS.SYS exports (all stdcall on x86; libndis.a provides the import stubs)
 * ------------------------------------------------------------------------------------------- */
/* Registration and attributes */
NDIS_API NDIS_STATUS NTAPI NdisMRegisterMiniportDriver(
	PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath, NDIS_HANDLE MiniportDriverContext,
	PNDIS_MINIPORT_DRIVER_CHARACTERISTICS MiniportDriverCharacteristics,
	PNDIS_HANDLE NdisMiniportDriverHandle);
NDIS_API VOID NTAPI NdisMDeregisterMiniportDriver(NDIS_HANDLE NdisMiniportDriverHandle);
NDIS_API NDIS_STATUS NTAPI NdisMSetMiniportAttributes(
	NDIS_HANDLE NdisMiniportHandle, PNDIS_MINIPORT_ADAPTER_ATTRIBUTES MiniportAttributes);
NDIS_API VOID NTAPI NdisMGetDeviceProperty(NDIS_HANDLE MiniportAdapterHandle,
										   PDEVICE_OBJECT *PhysicalDeviceObject,
										   PDEVICE_OBJECT *FunctionalDeviceObject,
										   PDEVICE_OBJECT *NextDeviceObject,
										   PCM_RESOURCE_LIST *AllocatedResources,
										   PCM_RESOURCE_LIST *AllocatedResourcesTranslated);

/* Life cycle completions */
NDIS_API VOID NTAPI NdisMPauseComplete(NDIS_HANDLE MiniportAdapterHandle);
NDIS_API VOID NTAPI NdisMRestartComplete(NDIS_HANDLE MiniportAdapterHandle, NDIS_STATUS Status);
NDIS_API VOID NTAPI NdisMResetComplete(NDIS_HANDLE MiniportAdapterHandle, NDIS_STATUS Status,
									   BOOLEAN AddressingReset);
NDIS_API VOID NTAPI NdisMOidRequestComplete(NDIS_HANDLE MiniportAdapterHandle,
											PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status);
NDIS_API VOID NTAPI NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle,
										  PNDIS_STATUS_INDICATION StatusIndication);

/* Data path */
NDIS_API VOID NTAPI NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE MiniportAdapterHandle,
													   PNET_BUFFER_LIST NetBufferLists,
													   NDIS_PORT_NUMBER PortNumber,
													   ULONG NumberOfNetBufferLists,
													   ULONG ReceiveFlags);
NDIS_API VOID NTAPI NdisMSendNetBufferListsComplete(NDIS_HANDLE MiniportAdapterHandle,
													PNET_BUFFER_LIST NetBufferLists,
													ULONG SendCompleteFlags);
NDIS_API NDIS_HANDLE NTAPI NdisAllocateNetBufferListPool(
	NDIS_HANDLE NdisHandle, PNET_BUFFER_LIST_POOL_PARAMETERS Parameters);
NDIS_API VOID NTAPI NdisFreeNetBufferListPool(NDIS_HANDLE PoolHandle);
NDIS_API PNET_BUFFER_LIST NTAPI NdisAllocateNetBufferList(NDIS_HANDLE PoolHandle,
														  USHORT ContextSize,
														  USHORT ContextBackFill);
NDIS_API PNET_BUFFER_LIST NTAPI NdisAllocateNetBufferAndNetBufferList(
	NDIS_HANDLE PoolHandle, USHORT ContextSize, USHORT ContextBackFill, PMDL MdlChain,
	ULONG DataOffset, SIZE_T DataLength);
NDIS_API VOID NTAPI NdisFreeNetBufferList(PNET_BUFFER_LIST NetBufferList);
NDIS_API NDIS_HANDLE NTAPI NdisAllocateNetBufferPool(NDIS_HANDLE NdisHandle,
													 PNET_BUFFER_POOL_PARAMETERS Parameters);
NDIS_API VOID NTAPI NdisFreeNetBufferPool(NDIS_HANDLE PoolHandle);
NDIS_API PNET_BUFFER NTAPI NdisAllocateNetBuffer(NDIS_HANDLE PoolHandle, PMDL MdlChain,
												 ULONG DataOffset, SIZE_T DataLength);
NDIS_API VOID NTAPI NdisFreeNetBuffer(PNET_BUFFER NetBuffer);
NDIS_API PVOID NTAPI NdisGetDataBuffer(PNET_BUFFER NetBuffer, ULONG BytesNeeded, PVOID Storage,
									   UINT AlignMultiple, UINT AlignOffset);
NDIS_API NDIS_STATUS NTAPI NdisRetreatNetBufferDataStart(
	PNET_BUFFER NetBuffer, ULONG DataOffsetDelta, ULONG DataBackFill,
	NET_BUFFER_ALLOCATE_MDL_HANDLER AllocateMdlHandler);
NDIS_API VOID NTAPI NdisAdvanceNetBufferDataStart(PNET_BUFFER NetBuffer, ULONG DataOffsetDelta,
												  BOOLEAN FreeMdl,
												  NET_BUFFER_FREE_MDL_HANDLER FreeMdlHandler);
NDIS_API ULONG NTAPI NdisQueryNetBufferPhysicalCount(PNET_BUFFER NetBuffer);

/* Scatter/gather DMA and shared memory */
NDIS_API NDIS_STATUS NTAPI NdisMRegisterScatterGatherDma(NDIS_HANDLE MiniportAdapterHandle,
														 PNDIS_SG_DMA_DESCRIPTION DmaDescription,
														 PNDIS_HANDLE NdisMiniportDmaHandle);
NDIS_API VOID NTAPI NdisMDeregisterScatterGatherDma(NDIS_HANDLE NdisMiniportDmaHandle);
NDIS_API NDIS_STATUS NTAPI NdisMAllocateNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle,
														PNET_BUFFER NetBuffer, PVOID Context,
														ULONG Flags,
														PVOID ScatterGatherListBuffer,
														ULONG ScatterGatherListBufferSize);
NDIS_API VOID NTAPI NdisMFreeNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle,
											 PSCATTER_GATHER_LIST ScatterGatherListBuffer,
											 PNET_BUFFER NetBuffer);
NDIS_API VOID NTAPI NdisMAllocateSharedMemory(NDIS_HANDLE MiniportAdapterHandle, ULONG Length,
											  BOOLEAN Cached, PVOID *VirtualAddress,
											  PNDIS_PHYSICAL_ADDRESS PhysicalAddress);
NDIS_API VOID NTAPI NdisMFreeSharedMemory(NDIS_HANDLE MiniportAdapterHandle, ULONG Length,
										  BOOLEAN Cached, PVOID VirtualAddress,
										  NDIS_PHYSICAL_ADDRESS PhysicalAddress);
NDIS_API ULONG NTAPI NdisGetSharedDataAlignment(VOID);

/* Hardware resources and bus access */
NDIS_API NDIS_STATUS NTAPI NdisMMapIoSpace(PVOID *VirtualAddress,
										   NDIS_HANDLE MiniportAdapterHandle,
										   NDIS_PHYSICAL_ADDRESS PhysicalAddress, UINT Length);
NDIS_API VOID NTAPI NdisMUnmapIoSpace(NDIS_HANDLE MiniportAdapterHandle, PVOID VirtualAddress,
									  UINT Length);
NDIS_API NDIS_STATUS NTAPI NdisMRegisterIoPortRange(PVOID *PortOffset,
													NDIS_HANDLE MiniportAdapterHandle,
													UINT InitialPort, UINT NumberOfPorts);
NDIS_API VOID NTAPI NdisMDeregisterIoPortRange(NDIS_HANDLE MiniportAdapterHandle,
											   UINT InitialPort, UINT NumberOfPorts,
											   PVOID PortOffset);
NDIS_API ULONG NTAPI NdisMGetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace,
									 ULONG Offset, PVOID Buffer, ULONG Length);
NDIS_API ULONG NTAPI NdisMSetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace,
									 ULONG Offset, PVOID Buffer, ULONG Length);

/* Interrupts */
NDIS_API NDIS_STATUS NTAPI NdisMRegisterInterruptEx(
	NDIS_HANDLE MiniportAdapterHandle, NDIS_HANDLE MiniportInterruptContext,
	PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS MiniportInterruptCharacteristics,
	PNDIS_HANDLE NdisInterruptHandle);
NDIS_API VOID NTAPI NdisMDeregisterInterruptEx(NDIS_HANDLE NdisInterruptHandle);
NDIS_API BOOLEAN NTAPI NdisMSynchronizeWithInterruptEx(
	NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
	MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER SynchronizeFunction, PVOID SynchronizeContext);
NDIS_API NDIS_STATUS NTAPI NdisMConfigMSIXTableEntry(
	NDIS_HANDLE NdisMiniportHandle, PNDIS_MSIX_CONFIG_PARAMETERS MSIXConfigParameters);
#if NDIS_SUPPORT_NDIS620
NDIS_API KAFFINITY NTAPI NdisMQueueDpcEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
										   PGROUP_AFFINITY TargetProcessors,
										   PVOID MiniportDpcContext);
NDIS_API NDIS_STATUS NTAPI NdisGetRssProcessorInformation(NDIS_HANDLE NdisHandle,
														  PNDIS_RSS_PROCESSOR_INFO RssProcessorInfo,
														  PSIZE_T Size);
NDIS_API NDIS_STATUS NTAPI NdisGetProcessorInformationEx(
	NDIS_HANDLE NdisHandle, struct _NDIS_SYSTEM_PROCESSOR_INFO_EX *SystemProcessorInfo,
	PSIZE_T Size);
#endif

/* Configuration */
NDIS_API NDIS_STATUS NTAPI NdisOpenConfigurationEx(PNDIS_CONFIGURATION_OBJECT ConfigObject,
												   PNDIS_HANDLE ConfigurationHandle);
NDIS_API VOID NTAPI NdisCloseConfiguration(NDIS_HANDLE ConfigurationHandle);
NDIS_API VOID NTAPI NdisReadConfiguration(PNDIS_STATUS Status,
										  PNDIS_CONFIGURATION_PARAMETER *ParameterValue,
										  NDIS_HANDLE ConfigurationHandle, PNDIS_STRING Keyword,
										  NDIS_PARAMETER_TYPE ParameterType);
NDIS_API VOID NTAPI NdisReadNetworkAddress(PNDIS_STATUS Status, PVOID *NetworkAddress,
										   PUINT NetworkAddressLength,
										   NDIS_HANDLE ConfigurationHandle);

/* Memory */
NDIS_API PVOID NTAPI NdisAllocateMemoryWithTagPriority(NDIS_HANDLE NdisHandle, UINT Length,
													   ULONG Tag, EX_POOL_PRIORITY Priority);
NDIS_API VOID NTAPI NdisFreeMemoryWithTagPriority(NDIS_HANDLE NdisHandle, PVOID VirtualAddress,
												  ULONG Tag);
NDIS_API VOID NTAPI NdisFreeMemory(PVOID VirtualAddress, UINT Length, UINT MemoryFlags);
NDIS_API PMDL NTAPI NdisAllocateMdl(NDIS_HANDLE NdisHandle, PVOID VirtualAddress, UINT Length);
NDIS_API VOID NTAPI NdisFreeMdl(PMDL Mdl);

/* Synchronisation, timers, work items, time */
NDIS_API VOID NTAPI NdisAllocateSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API VOID NTAPI NdisFreeSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API VOID NTAPI NdisAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API VOID NTAPI NdisReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API VOID NTAPI NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API VOID NTAPI NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_API NDIS_STATUS NTAPI NdisAllocateTimerObject(NDIS_HANDLE NdisHandle,
												   PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics,
												   PNDIS_HANDLE pTimerObject);
NDIS_API BOOLEAN NTAPI NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime,
										  LONG MillisecondsPeriod, PVOID FunctionContext);
NDIS_API BOOLEAN NTAPI NdisCancelTimerObject(NDIS_HANDLE TimerObject);
NDIS_API VOID NTAPI NdisFreeTimerObject(NDIS_HANDLE TimerObject);
NDIS_API NDIS_HANDLE NTAPI NdisAllocateIoWorkItem(NDIS_HANDLE NdisObjectHandle);
NDIS_API VOID NTAPI NdisQueueIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle,
										NDIS_IO_WORKITEM_ROUTINE Routine, PVOID WorkItemContext);
NDIS_API VOID NTAPI NdisFreeIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle);
NDIS_API VOID NTAPI NdisMSleep(ULONG MicrosecondsToSleep);
NDIS_API VOID NTAPI NdisGetSystemUpTimeEx(PLARGE_INTEGER pSystemUpTime);

/* NdisWriteErrorLogEntry (cdecl varargs) is left out: mingw's x86 libndis.a names it
 * _NdisWriteErrorLogEntry@0, which a cdecl declaration cannot bind to. */

/* ---------------------------------------------------------------------------------------------
 * ABI checks. Values: Microsoft documentation and public ndis.sys symbol dumps.
 * ------------------------------------------------------------------------------------------- */
#define NDIS_ABI_CHECK_(type, x64, x86) \
	_Static_assert(sizeof(type) == (sizeof(PVOID) == 8 ? (x64) : (x86)), "ABI: sizeof " #type)
#define NDIS_ABI_OFFSET_(type, field, x64, x86)                                                    \
	_Static_assert(FIELD_OFFSET(type, field) == (sizeof(PVOID) == 8 ? (x64) : (x86)),             \
				   "ABI: offset of " #type "." #field)

NDIS_ABI_CHECK_(NDIS_OBJECT_HEADER, 4, 4);

NDIS_ABI_CHECK_(NET_BUFFER_DATA, 0x30, 0x18);
NDIS_ABI_OFFSET_(NET_BUFFER_DATA, NbDataLength, 0x18, 0x0c);
NDIS_ABI_OFFSET_(NET_BUFFER_DATA, DataOffset, 0x28, 0x14);
NDIS_ABI_CHECK_(NET_BUFFER_HEADER, 0x30, 0x18);
#if NDIS_SUPPORT_NDIS620
NDIS_ABI_CHECK_(NET_BUFFER, 0xb0, 0x60);
NDIS_ABI_OFFSET_(NET_BUFFER, ScatterGatherList, 0xa8, 0x58);
#endif
NDIS_ABI_OFFSET_(NET_BUFFER, CurrentMdlOffset, 0x10, 0x08);
NDIS_ABI_OFFSET_(NET_BUFFER, DataLength, 0x18, 0x0c);
NDIS_ABI_OFFSET_(NET_BUFFER, MdlChain, 0x20, 0x10);
NDIS_ABI_OFFSET_(NET_BUFFER, DataOffset, 0x28, 0x14);
NDIS_ABI_OFFSET_(NET_BUFFER, ChecksumBias, 0x30, 0x18);
NDIS_ABI_OFFSET_(NET_BUFFER, NdisPoolHandle, 0x38, 0x1c);
NDIS_ABI_OFFSET_(NET_BUFFER, NdisReserved, 0x40, 0x20);
NDIS_ABI_OFFSET_(NET_BUFFER, ProtocolReserved, 0x50, 0x28);
NDIS_ABI_OFFSET_(NET_BUFFER, MiniportReserved, 0x80, 0x40);
NDIS_ABI_OFFSET_(NET_BUFFER, DataPhysicalAddress, 0xa0, 0x50);

NDIS_ABI_CHECK_(NET_BUFFER_LIST_CONTEXT, 0x10, 0x08);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, Context, 0x10, 0x08);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, ParentNetBufferList, 0x18, 0x0c);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, NdisPoolHandle, 0x20, 0x10);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, NdisReserved, 0x30, 0x18);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, ProtocolReserved, 0x40, 0x20);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, MiniportReserved, 0x60, 0x30);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, Scratch, 0x70, 0x38);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, SourceHandle, 0x78, 0x3c);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, NblFlags, 0x80, 0x40);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, Flags, 0x88, 0x48);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, Status, 0x8c, 0x4c);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, NetBufferListInfo, 0x90, 0x50);

NDIS_ABI_CHECK_(NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO, 8, 4);
NDIS_ABI_CHECK_(NDIS_NET_BUFFER_LIST_8021Q_INFO, 8, 4);
NDIS_ABI_CHECK_(NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO, 8, 4);
NDIS_ABI_CHECK_(NDIS_RSC_NBL_INFO, 8, 4);
_Static_assert(TcpRecvSegCoalesceInfo == (sizeof(PVOID) == 8 ? 22 : 19), "ABI: RSC NBL slot");
NDIS_ABI_OFFSET_(NET_BUFFER_LIST, NetBufferListInfo[TcpRecvSegCoalesceInfo], 0x140, 0x9c);
#if NDIS_SUPPORT_NDIS630
/* Revision 3 of NDIS_OFFLOAD (Rsc) and NDIS_OFFLOAD_PARAMETERS (RscIPv4/RscIPv6) from
 * <ntddndis.h>: NDIS reads and writes these by offset. */
NDIS_ABI_OFFSET_(NDIS_OFFLOAD, Rsc, 0x90, 0x90);
NDIS_ABI_CHECK_(NDIS_OFFLOAD, 0x9c, 0x9c);
_Static_assert(NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3 == 0x9c, "ABI: NDIS_OFFLOAD revision 3 size");
_Static_assert(NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_1 == 0x70, "ABI: NDIS_OFFLOAD revision 1 size");
NDIS_ABI_OFFSET_(NDIS_OFFLOAD_PARAMETERS, RscIPv4, 0x16, 0x16);
NDIS_ABI_OFFSET_(NDIS_OFFLOAD_PARAMETERS, RscIPv6, 0x17, 0x17);
_Static_assert(NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_3 == 0x1a, "ABI: offload parameters rev 3");
NDIS_ABI_CHECK_(NDIS_RSC_STATISTICS_INFO, 0x28, 0x28);
#endif

NDIS_ABI_CHECK_(NET_BUFFER_LIST_POOL_PARAMETERS, 0x10, 0x10);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST_POOL_PARAMETERS, ContextSize, 6, 6);
NDIS_ABI_OFFSET_(NET_BUFFER_LIST_POOL_PARAMETERS, DataSize, 0xc, 0xc);

#if NDIS_SUPPORT_NDIS620
NDIS_ABI_CHECK_(NDIS_OID_REQUEST, 0xf8, 0x98);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, SwitchId, 0xec, 0x8c);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, Flags, 0xf4, 0x94);
#endif
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, RequestId, 0x10, 0x10);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, RequestHandle, 0x18, 0x14);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, DATA, 0x20, 0x18);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, DATA.QUERY_INFORMATION.InformationBufferLength, 0x30, 0x20);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.BytesNeeded, 0x44, 0x34);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, NdisReserved, 0x48, 0x38);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, MiniportReserved, 0xc8, 0x78);
NDIS_ABI_OFFSET_(NDIS_OID_REQUEST, SupportedRevision, 0xe8, 0x88);

NDIS_ABI_CHECK_(NDIS_STATUS_INDICATION, 0x70, 0x44);
NDIS_ABI_OFFSET_(NDIS_STATUS_INDICATION, StatusCode, 0x14, 0x0c);
NDIS_ABI_OFFSET_(NDIS_STATUS_INDICATION, StatusBuffer, 0x30, 0x1c);
NDIS_ABI_OFFSET_(NDIS_STATUS_INDICATION, Guid, 0x3c, 0x24);

NDIS_ABI_CHECK_(NDIS_MINIPORT_INIT_PARAMETERS, 0x40, 0x28);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INIT_PARAMETERS, AllocatedResources, 0x08, 0x08);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INIT_PARAMETERS, NetLuid, 0x28, 0x18);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INIT_PARAMETERS, PciDeviceCustomProperties, 0x38, 0x24);
NDIS_ABI_CHECK_(NDIS_MINIPORT_PAUSE_PARAMETERS, 0x0c, 0x0c);
NDIS_ABI_CHECK_(NDIS_MINIPORT_RESTART_PARAMETERS, 0x18, 0x0c);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_RESTART_PARAMETERS, Flags, 0x10, 0x08);
NDIS_ABI_CHECK_(NET_DEVICE_PNP_EVENT, 0x30, 0x1c);
NDIS_ABI_OFFSET_(NET_DEVICE_PNP_EVENT, InformationBuffer, 0x10, 0x0c);
NDIS_ABI_OFFSET_(NET_DEVICE_PNP_EVENT, InformationBufferLength, 0x18, 0x10);

#if NDIS_SUPPORT_NDIS61
NDIS_ABI_CHECK_(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, 0x98, 0x50);
#endif
NDIS_ABI_OFFSET_(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, Flags, 0x08, 0x08);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, SetOptionsHandler, 0x10, 0x0c);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, SendNetBufferListsHandler, 0x48, 0x28);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelOidRequestHandler, 0x80, 0x44);

NDIS_ABI_CHECK_(NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES, 0x18, 0x0c);
NDIS_ABI_CHECK_(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, 0x20, 0x14);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, InterfaceType, 0x18, 0x10);
#if NDIS_SUPPORT_NDIS620
NDIS_ABI_CHECK_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, 0xe0, 0xd0);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, PowerManagementCapabilitiesEx, 0xd8,
				 0xc8);
#endif
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, MaxXmitLinkSpeed, 0x18, 0x18);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, PowerManagementCapabilities, 0x48,
				 0x44);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, PermanentMacAddress, 0x5e, 0x56);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, RecvScaleCapabilities, 0xa0, 0x98);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, IfType, 0xb4, 0xa8);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, SupportedOidList, 0xc8, 0xbc);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, AutoNegotiationFlags, 0xd4, 0xc4);
NDIS_ABI_CHECK_(NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES, 0x28, 0x14);
NDIS_ABI_CHECK_(NDIS_OFFLOAD_ENCAPSULATION, 0x1c, 0x1c);
NDIS_ABI_OFFSET_(NDIS_OFFLOAD_ENCAPSULATION, IPv6.HeaderSize, 0x18, 0x18);
#if NDIS_SUPPORT_NDIS630
NDIS_ABI_CHECK_(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, 0x50, 0x28);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, HardwareSriovCapabilities, 0x30,
				 0x18);
#endif

NDIS_ABI_CHECK_(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, 0x60, 0x30);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MsiSupported, 0x28, 0x14);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInterruptHandler, 0x30, 0x18);
NDIS_ABI_OFFSET_(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, InterruptType, 0x50, 0x28);
NDIS_ABI_CHECK_(NDIS_MSIX_CONFIG_PARAMETERS, 0x10, 0x10);

NDIS_ABI_CHECK_(NDIS_SG_DMA_DESCRIPTION, 0x28, 0x18);
NDIS_ABI_OFFSET_(NDIS_SG_DMA_DESCRIPTION, ProcessSGListHandler, 0x10, 0x0c);
NDIS_ABI_OFFSET_(NDIS_SG_DMA_DESCRIPTION, ScatterGatherListSize, 0x20, 0x14);
#if NDIS_SUPPORT_NDIS620
NDIS_ABI_OFFSET_(NDIS_SHARED_MEMORY_PARAMETERS, Usage, 0x1c, 0x14);
NDIS_ABI_OFFSET_(NDIS_SHARED_MEMORY_PARAMETERS, SGListBuffer, 0x38, 0x24);
#endif
#if NDIS_SUPPORT_NDIS630
NDIS_ABI_CHECK_(NDIS_SHARED_MEMORY_PARAMETERS, 0x48, 0x2c);
#endif

#if NDIS_SUPPORT_NDIS630
NDIS_ABI_CHECK_(NDIS_RSS_PROCESSOR_INFO, 0x28, 0x28);
#endif
#if NDIS_SUPPORT_NDIS620
NDIS_ABI_OFFSET_(NDIS_RSS_PROCESSOR_INFO, RssBaseProcessor, 0x08, 0x08);
NDIS_ABI_OFFSET_(NDIS_RSS_PROCESSOR_INFO, PreferredNumaNode, 0x10, 0x10);
NDIS_ABI_OFFSET_(NDIS_RSS_PROCESSOR_INFO, RssProcessorArrayOffset, 0x14, 0x14);
NDIS_ABI_CHECK_(NDIS_RSS_PROCESSOR, 8, 8);
#endif

NDIS_ABI_CHECK_(NDIS_CONFIGURATION_OBJECT, 0x18, 0x0c);
NDIS_ABI_OFFSET_(NDIS_CONFIGURATION_PARAMETER, ParameterData, 0x08, 0x04);
NDIS_ABI_CHECK_(NDIS_TIMER_CHARACTERISTICS, 0x18, 0x10);
NDIS_ABI_CHECK_(NDIS_SPIN_LOCK, 0x10, 0x08);

#undef NDIS_ABI_CHECK_
#undef NDIS_ABI_OFFSET_

#ifdef __cplusplus
}
#endif

#endif /* OPENVDP_DDK_NDIS_H */
