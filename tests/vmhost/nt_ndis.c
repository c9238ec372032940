/* NDIS.SYS emulation for NDIS 6 miniports: driver registration, adapter
 * initialisation with the PCI device's resources, attributes, configuration,
 * interrupts (INTx through uio, MSI-X through vfio, or polling), S/G DMA,
 * NET_BUFFER_LIST pools, send/receive paths, OID requests, status
 * indications, pause/restart/halt, timers, work items and spin locks.
 * Semantics follow the NDIS 6.x documentation; layouts are the x64 WDK
 * ones, pinned below with the offsets include/ddk/ndis.h asserts too. */
#define _GNU_SOURCE
#include "inf_reg.h"
#include "nt_ndis.h"
#include "pci_sysfs.h"
#include "vmhost.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NDIS_STATUS_SUCCESS             0x00000000u
#define NDIS_STATUS_PENDING             0x00000103u
#define NDIS_STATUS_FAILURE             0xC0000001u
#define NDIS_STATUS_RESOURCES           0xC000009Au
#define NDIS_STATUS_INVALID_PARAMETER   0xC000000Du
#define NDIS_STATUS_NOT_SUPPORTED       0xC00000BBu
#define NDIS_STATUS_BAD_VERSION         0xC0010004u
#define NDIS_STATUS_BAD_CHARACTERISTICS 0xC0010005u

#define OT_DEFAULT            0x80
#define OT_INIT_PARAMETERS    0x81
#define OT_SG_DMA             0x83
#define OT_INTERRUPT          0x84
#define OT_DRIVER_CHARS       0x8a
#define OT_OID_REQUEST        0x96
#define OT_TIMER              0x97
#define OT_STATUS_INDICATION  0x98
#define OT_REG_ATTRIBUTES     0x9e
#define OT_GEN_ATTRIBUTES     0x9f
#define OT_OFFLOAD_ATTRIBUTES 0xa0
#define OT_ADD_DEVICE_ATTR    0xa4
#define OT_OFFLOAD            0xa7
#define OT_CONFIGURATION      0xa9
#define OT_HW_ASSIST_ATTR     0xaf

#define ND_DIRQL 5
#define ND_MAX_MSG 8
#define ND_INFO_SLOTS 32 /* NetBufferListInfo[]: more than any 6.x driver indexes */

typedef struct nd_object_header {
	uint8_t Type;
	uint8_t Revision;
	uint16_t Size;
} nd_object_header;

typedef struct nd_miniport_chars {
	nd_object_header Header;
	uint8_t MajorNdisVersion;
	uint8_t MinorNdisVersion;
	uint8_t MajorDriverVersion;
	uint8_t MinorDriverVersion;
	uint32_t Flags;
	void *SetOptionsHandler;
	void *InitializeHandlerEx;
	void *HaltHandlerEx;
	void *UnloadHandler;
	void *PauseHandler;
	void *RestartHandler;
	void *OidRequestHandler;
	void *SendNetBufferListsHandler;
	void *ReturnNetBufferListsHandler;
	void *CancelSendHandler;
	void *CheckForHangHandlerEx;
	void *ResetHandlerEx;
	void *DevicePnPEventNotifyHandler;
	void *ShutdownHandlerEx;
	void *CancelOidRequestHandler;
	void *DirectOidRequestHandler;      /* revision 2 (NDIS 6.1) */
	void *CancelDirectOidRequestHandler;
} nd_miniport_chars;
_Static_assert(offsetof(nd_miniport_chars, Flags) == 0x08, "NDIS_MINIPORT_DRIVER_CHARACTERISTICS.Flags");
_Static_assert(offsetof(nd_miniport_chars, InitializeHandlerEx) == 0x18, "...InitializeHandlerEx");
_Static_assert(offsetof(nd_miniport_chars, OidRequestHandler) == 0x40, "...OidRequestHandler");
_Static_assert(offsetof(nd_miniport_chars, SendNetBufferListsHandler) == 0x48, "...SendNetBufferListsHandler");
_Static_assert(offsetof(nd_miniport_chars, CancelOidRequestHandler) == 0x80, "...CancelOidRequestHandler");
_Static_assert(sizeof(nd_miniport_chars) == 0x98, "NDIS_MINIPORT_DRIVER_CHARACTERISTICS x64 size (rev 2)");
#define CHARS_REV1_SIZE offsetof(nd_miniport_chars, DirectOidRequestHandler)

/* MDL: the fields the WDK's inline helpers read. */
typedef struct nd_mdl {
	struct nd_mdl *Next;
	int16_t Size;
	int16_t MdlFlags;
	uint16_t AllocationProcessorNumber;
	uint16_t Reserved;
	void *Process;
	void *MappedSystemVa;
	void *StartVa;
	uint32_t ByteCount;
	uint32_t ByteOffset;
} nd_mdl;
_Static_assert(offsetof(nd_mdl, MdlFlags) == 0x0a, "MDL.MdlFlags");
_Static_assert(offsetof(nd_mdl, MappedSystemVa) == 0x18, "MDL.MappedSystemVa");
_Static_assert(offsetof(nd_mdl, ByteCount) == 0x28, "MDL.ByteCount");
_Static_assert(sizeof(nd_mdl) == 0x30, "MDL x64 size");
#define MDL_MAPPED_TO_SYSTEM_VA     0x0001
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004

typedef struct nd_nb {
	struct nd_nb *Next;
	nd_mdl *CurrentMdl;
	uint32_t CurrentMdlOffset;
	uint32_t pad0;
	uint64_t DataLength; /* union with SIZE_T stDataLength */
	nd_mdl *MdlChain;
	uint32_t DataOffset;
	uint32_t pad1;
	uint16_t ChecksumBias;
	uint16_t Reserved;
	uint32_t pad2;
	void *NdisPoolHandle;
	void *NdisReserved[2];
	void *ProtocolReserved[6];
	void *MiniportReserved[4];
	int64_t DataPhysicalAddress;
	void *ScatterGatherList;
} nd_nb;
_Static_assert(offsetof(nd_nb, CurrentMdlOffset) == 0x10, "NET_BUFFER.CurrentMdlOffset");
_Static_assert(offsetof(nd_nb, DataLength) == 0x18, "NET_BUFFER.DataLength");
_Static_assert(offsetof(nd_nb, MdlChain) == 0x20, "NET_BUFFER.MdlChain");
_Static_assert(offsetof(nd_nb, DataOffset) == 0x28, "NET_BUFFER.DataOffset");
_Static_assert(offsetof(nd_nb, NdisPoolHandle) == 0x38, "NET_BUFFER.NdisPoolHandle");
_Static_assert(offsetof(nd_nb, ProtocolReserved) == 0x50, "NET_BUFFER.ProtocolReserved");
_Static_assert(offsetof(nd_nb, MiniportReserved) == 0x80, "NET_BUFFER.MiniportReserved");
_Static_assert(offsetof(nd_nb, DataPhysicalAddress) == 0xa0, "NET_BUFFER.DataPhysicalAddress");
_Static_assert(sizeof(nd_nb) == 0xb0, "NET_BUFFER x64 size");

typedef struct nd_nbl {
	struct nd_nbl *Next;
	nd_nb *FirstNetBuffer;
	void *Context;
	struct nd_nbl *ParentNetBufferList;
	void *NdisPoolHandle;
	void *pad0;
	void *NdisReserved[2];
	void *ProtocolReserved[4];
	void *MiniportReserved[2];
	void *Scratch;
	void *SourceHandle;
	uint32_t NblFlags;
	int32_t ChildRefCount;
	uint32_t Flags;
	uint32_t Status;
	void *NetBufferListInfo[ND_INFO_SLOTS];
} nd_nbl;
_Static_assert(offsetof(nd_nbl, Context) == 0x10, "NET_BUFFER_LIST.Context");
_Static_assert(offsetof(nd_nbl, NdisPoolHandle) == 0x20, "NET_BUFFER_LIST.NdisPoolHandle");
_Static_assert(offsetof(nd_nbl, NdisReserved) == 0x30, "NET_BUFFER_LIST.NdisReserved");
_Static_assert(offsetof(nd_nbl, ProtocolReserved) == 0x40, "NET_BUFFER_LIST.ProtocolReserved");
_Static_assert(offsetof(nd_nbl, MiniportReserved) == 0x60, "NET_BUFFER_LIST.MiniportReserved");
_Static_assert(offsetof(nd_nbl, SourceHandle) == 0x78, "NET_BUFFER_LIST.SourceHandle");
_Static_assert(offsetof(nd_nbl, NblFlags) == 0x80, "NET_BUFFER_LIST.NblFlags");
_Static_assert(offsetof(nd_nbl, Flags) == 0x88, "NET_BUFFER_LIST.Flags");
_Static_assert(offsetof(nd_nbl, Status) == 0x8c, "NET_BUFFER_LIST.Status");
_Static_assert(offsetof(nd_nbl, NetBufferListInfo) == 0x90, "NET_BUFFER_LIST.NetBufferListInfo");

typedef struct nd_nbl_pool_params {
	nd_object_header Header;
	uint8_t ProtocolId;
	uint8_t fAllocateNetBuffer;
	uint16_t ContextSize;
	uint32_t PoolTag;
	uint32_t DataSize;
} nd_nbl_pool_params;
_Static_assert(sizeof(nd_nbl_pool_params) == 0x10, "NET_BUFFER_LIST_POOL_PARAMETERS size");

#pragma pack(push, 4)
typedef struct nd_cm_desc {
	uint8_t Type;
	uint8_t ShareDisposition;
	uint16_t Flags;
	union {
		struct {
			int64_t Start;
			uint32_t Length;
		} Generic;
		struct {
			uint16_t Level;
			uint16_t Group;
			uint32_t Vector;
			uint64_t Affinity;
		} Interrupt;
	} u;
} nd_cm_desc;
#pragma pack(pop)
_Static_assert(sizeof(nd_cm_desc) == 0x14, "CM_PARTIAL_RESOURCE_DESCRIPTOR size");
_Static_assert(offsetof(nd_cm_desc, u.Generic.Length) == 0x0c, "CM_PARTIAL_RESOURCE_DESCRIPTOR.u.Generic.Length");

typedef struct nd_cm_list {
	uint16_t Version;
	uint16_t Revision;
	uint32_t Count;
	nd_cm_desc PartialDescriptors[8];
} nd_cm_list;
_Static_assert(offsetof(nd_cm_list, PartialDescriptors) == 8, "CM_PARTIAL_RESOURCE_LIST.PartialDescriptors");
#define CmResourceTypePort      1
#define CmResourceTypeInterrupt 2
#define CmResourceTypeMemory    3

typedef struct nd_init_params {
	nd_object_header Header;
	uint32_t Flags;
	nd_cm_list *AllocatedResources;
	void *IMDeviceInstanceContext;
	void *MiniportAddDeviceContext;
	uint32_t IfIndex;
	uint32_t pad;
	uint64_t NetLuid;
	void *DefaultPortAuthStates;
	void *PciDeviceCustomProperties;
} nd_init_params;
_Static_assert(offsetof(nd_init_params, AllocatedResources) == 0x08, "NDIS_MINIPORT_INIT_PARAMETERS.AllocatedResources");
_Static_assert(offsetof(nd_init_params, NetLuid) == 0x28, "NDIS_MINIPORT_INIT_PARAMETERS.NetLuid");
_Static_assert(sizeof(nd_init_params) == 0x40, "NDIS_MINIPORT_INIT_PARAMETERS size");

typedef struct nd_pause_params {
	nd_object_header Header;
	uint32_t Flags;
	uint32_t PauseReason;
} nd_pause_params;
_Static_assert(sizeof(nd_pause_params) == 0x0c, "NDIS_MINIPORT_PAUSE_PARAMETERS size");

typedef struct nd_restart_params {
	nd_object_header Header;
	void *RestartAttributes;
	uint32_t Flags;
} nd_restart_params;
_Static_assert(offsetof(nd_restart_params, Flags) == 0x10, "NDIS_MINIPORT_RESTART_PARAMETERS.Flags");
_Static_assert(sizeof(nd_restart_params) == 0x18, "NDIS_MINIPORT_RESTART_PARAMETERS size");

typedef struct nd_reg_attrs {
	nd_object_header Header;
	void *MiniportAdapterContext;
	uint32_t AttributeFlags;
	uint32_t CheckForHangTimeInSeconds;
	uint32_t InterfaceType;
} nd_reg_attrs;
_Static_assert(offsetof(nd_reg_attrs, InterfaceType) == 0x18, "REGISTRATION_ATTRIBUTES.InterfaceType");
#define REG_ATTRS_SIZE 0x1c

typedef struct nd_gen_attrs {
	nd_object_header Header;
	uint32_t Flags;
	uint32_t MediaType;
	uint32_t PhysicalMediumType;
	uint32_t MtuSize;
	uint64_t MaxXmitLinkSpeed, XmitLinkSpeed, MaxRcvLinkSpeed, RcvLinkSpeed;
	uint32_t MediaConnectState;
	uint32_t MediaDuplexState;
	uint32_t LookaheadSize;
	void *PowerManagementCapabilities;
	uint32_t MacOptions;
	uint32_t SupportedPacketFilters;
	uint32_t MaxMulticastListSize;
	uint16_t MacAddressLength;
	uint8_t PermanentMacAddress[32];
	uint8_t CurrentMacAddress[32];
	void *RecvScaleCapabilities;
	uint32_t AccessType, DirectionType, ConnectionType;
	uint16_t IfType;
	uint8_t IfConnectorPresent;
	uint32_t SupportedStatistics;
	uint32_t SupportedPauseFunctions;
	uint32_t DataBackFillSize;
	uint32_t ContextBackFillSize;
	uint32_t *SupportedOidList;
	uint32_t SupportedOidListLength;
	uint32_t AutoNegotiationFlags;
	void *PowerManagementCapabilitiesEx;
} nd_gen_attrs;
_Static_assert(offsetof(nd_gen_attrs, MaxXmitLinkSpeed) == 0x18, "GENERAL_ATTRIBUTES.MaxXmitLinkSpeed");
_Static_assert(offsetof(nd_gen_attrs, PowerManagementCapabilities) == 0x48, "GENERAL_ATTRIBUTES.PowerManagementCapabilities");
_Static_assert(offsetof(nd_gen_attrs, PermanentMacAddress) == 0x5e, "GENERAL_ATTRIBUTES.PermanentMacAddress");
_Static_assert(offsetof(nd_gen_attrs, RecvScaleCapabilities) == 0xa0, "GENERAL_ATTRIBUTES.RecvScaleCapabilities");
_Static_assert(offsetof(nd_gen_attrs, IfType) == 0xb4, "GENERAL_ATTRIBUTES.IfType");
_Static_assert(offsetof(nd_gen_attrs, SupportedOidList) == 0xc8, "GENERAL_ATTRIBUTES.SupportedOidList");
_Static_assert(offsetof(nd_gen_attrs, AutoNegotiationFlags) == 0xd4, "GENERAL_ATTRIBUTES.AutoNegotiationFlags");
_Static_assert(sizeof(nd_gen_attrs) == 0xe0, "GENERAL_ATTRIBUTES size (rev 2)");
#define GEN_ATTRS_REV1_SIZE 0xd8

typedef struct nd_offload_attrs {
	nd_object_header Header;
	nd_object_header *DefaultOffloadConfiguration;
	nd_object_header *HardwareOffloadCapabilities;
	void *DefaultTcpConnectionOffloadConfiguration;
	void *TcpConnectionOffloadHardwareCapabilities;
} nd_offload_attrs;
_Static_assert(sizeof(nd_offload_attrs) == 0x28, "OFFLOAD_ATTRIBUTES size");

typedef struct nd_msg_entry {
	int64_t MessageAddress;
	uint64_t TargetProcessorSet;
	void *InterruptObject;
	uint32_t MessageData;
	uint32_t Vector;
	uint8_t Irql;
	uint8_t pad[3];
	uint32_t Mode;
	uint32_t Polarity;
	uint32_t pad2;
} nd_msg_entry;
_Static_assert(sizeof(nd_msg_entry) == 0x30, "IO_INTERRUPT_MESSAGE_INFO_ENTRY size");
_Static_assert(offsetof(nd_msg_entry, Irql) == 0x20, "IO_INTERRUPT_MESSAGE_INFO_ENTRY.Irql");
_Static_assert(offsetof(nd_msg_entry, Polarity) == 0x28, "IO_INTERRUPT_MESSAGE_INFO_ENTRY.Polarity");

typedef struct nd_msg_info {
	uint8_t UnifiedIrql;
	uint8_t pad[3];
	uint32_t MessageCount;
	nd_msg_entry MessageInfo[ND_MAX_MSG];
} nd_msg_info;
_Static_assert(offsetof(nd_msg_info, MessageInfo) == 8, "IO_INTERRUPT_MESSAGE_INFO.MessageInfo");

typedef uint8_t NTAPI nd_isr_fn(void *ctx, uint8_t *queue_dpc, uint32_t *target);
typedef void NTAPI nd_dpc_fn(void *ctx, void *dpc_ctx, void *throttle, void *reserved);
typedef uint8_t NTAPI nd_msi_isr_fn(void *ctx, uint32_t msg, uint8_t *queue_dpc, uint32_t *target);
typedef void NTAPI nd_msi_dpc_fn(void *ctx, uint32_t msg, void *dpc_ctx, void *throttle,
				 void *reserved);

typedef struct nd_intr_chars {
	nd_object_header Header;
	nd_isr_fn *InterruptHandler;
	nd_dpc_fn *InterruptDpcHandler;
	void *DisableInterruptHandler;
	void *EnableInterruptHandler;
	uint8_t MsiSupported;
	uint8_t MsiSyncWithAllMessages;
	nd_msi_isr_fn *MessageInterruptHandler;
	nd_msi_dpc_fn *MessageInterruptDpcHandler;
	void *DisableMessageInterruptHandler;
	void *EnableMessageInterruptHandler;
	uint32_t InterruptType;
	nd_msg_info *MessageInfoTable;
} nd_intr_chars;
_Static_assert(offsetof(nd_intr_chars, MsiSupported) == 0x28, "INTERRUPT_CHARACTERISTICS.MsiSupported");
_Static_assert(offsetof(nd_intr_chars, MessageInterruptHandler) == 0x30, "...MessageInterruptHandler");
_Static_assert(offsetof(nd_intr_chars, InterruptType) == 0x50, "...InterruptType");
_Static_assert(sizeof(nd_intr_chars) == 0x60, "NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS size");

typedef struct nd_sg_element {
	int64_t Address;
	uint32_t Length;
	uint32_t pad;
	uint64_t Reserved;
} nd_sg_element;
typedef struct nd_sg_list {
	uint32_t NumberOfElements;
	uint32_t pad;
	uint64_t Reserved;
	nd_sg_element Elements[];
} nd_sg_list;
_Static_assert(sizeof(nd_sg_element) == 0x18, "SCATTER_GATHER_ELEMENT size");
_Static_assert(offsetof(nd_sg_list, Elements) == 0x10, "SCATTER_GATHER_LIST.Elements");

typedef void NTAPI nd_process_sg_fn(void *dev, void *reserved, nd_sg_list *sgl, void *ctx);
typedef struct nd_sg_dma_desc {
	nd_object_header Header;
	uint32_t Flags;
	uint32_t MaximumPhysicalMapping;
	nd_process_sg_fn *ProcessSGListHandler;
	void *SharedMemAllocateCompleteHandler;
	uint32_t ScatterGatherListSize;
} nd_sg_dma_desc;
_Static_assert(offsetof(nd_sg_dma_desc, ProcessSGListHandler) == 0x10, "NDIS_SG_DMA_DESCRIPTION.ProcessSGListHandler");
_Static_assert(offsetof(nd_sg_dma_desc, ScatterGatherListSize) == 0x20, "...ScatterGatherListSize");
#define SG_DMA_DESC_SIZE 0x24

typedef struct nd_oid_request {
	nd_object_header Header;
	uint32_t RequestType;
	uint32_t PortNumber;
	uint32_t Timeout;
	void *RequestId;
	void *RequestHandle;
	uint32_t Oid;
	uint32_t pad;
	void *InformationBuffer;
	uint32_t InformationBufferLength;
	uint32_t BytesWritten; /* BytesRead for sets */
	uint32_t BytesNeeded;
	uint8_t method_rest[12];
	uint8_t NdisReserved[16 * 8];
	uint8_t MiniportReserved[16];
	uint8_t SourceReserved[16];
	uint8_t SupportedRevision;
	uint8_t Reserved1;
	uint16_t Reserved2;
	uint32_t SwitchId;
	uint32_t VPortId;
	uint32_t Flags;
} nd_oid_request;
_Static_assert(offsetof(nd_oid_request, RequestId) == 0x10, "NDIS_OID_REQUEST.RequestId");
_Static_assert(offsetof(nd_oid_request, Oid) == 0x20, "NDIS_OID_REQUEST.DATA");
_Static_assert(offsetof(nd_oid_request, InformationBufferLength) == 0x30, "NDIS_OID_REQUEST...InformationBufferLength");
_Static_assert(offsetof(nd_oid_request, NdisReserved) == 0x48, "NDIS_OID_REQUEST.NdisReserved");
_Static_assert(offsetof(nd_oid_request, SupportedRevision) == 0xe8, "NDIS_OID_REQUEST.SupportedRevision");
_Static_assert(sizeof(nd_oid_request) == 0xf8, "NDIS_OID_REQUEST size");

typedef struct nd_status_ind {
	nd_object_header Header;
	void *SourceHandle;
	uint32_t PortNumber;
	uint32_t StatusCode;
	uint32_t Flags;
	uint32_t pad;
	void *DestinationHandle;
	void *RequestId;
	void *StatusBuffer;
	uint32_t StatusBufferSize;
	uint8_t Guid[16];
	uint32_t pad2;
	void *NdisReserved[4];
} nd_status_ind;
_Static_assert(offsetof(nd_status_ind, StatusCode) == 0x14, "NDIS_STATUS_INDICATION.StatusCode");
_Static_assert(offsetof(nd_status_ind, StatusBuffer) == 0x30, "NDIS_STATUS_INDICATION.StatusBuffer");
_Static_assert(offsetof(nd_status_ind, Guid) == 0x3c, "NDIS_STATUS_INDICATION.Guid");
_Static_assert(sizeof(nd_status_ind) == 0x70, "NDIS_STATUS_INDICATION size");

typedef struct nd_link_state {
	nd_object_header Header;
	uint32_t MediaConnectState;
	uint32_t MediaDuplexState;
	uint32_t pad;
	uint64_t XmitLinkSpeed, RcvLinkSpeed;
	uint32_t PauseFunctions;
	uint32_t AutoNegotiationFlags;
} nd_link_state;
_Static_assert(sizeof(nd_link_state) == 0x28, "NDIS_LINK_STATE size");

typedef struct nd_config_object {
	nd_object_header Header;
	void *NdisHandle;
	uint32_t Flags;
} nd_config_object;
_Static_assert(sizeof(nd_config_object) == 0x18, "NDIS_CONFIGURATION_OBJECT size");

typedef struct nd_config_param {
	uint32_t ParameterType;
	uint32_t pad;
	union {
		uint32_t IntegerData;
		nt_unicode_string StringData;
	} ParameterData;
} nd_config_param;
_Static_assert(offsetof(nd_config_param, ParameterData) == 8, "NDIS_CONFIGURATION_PARAMETER.ParameterData");

typedef void NTAPI nd_timer_fn(void *s1, void *ctx, void *s2, void *s3);
typedef struct nd_timer_chars {
	nd_object_header Header;
	uint32_t AllocationTag;
	nd_timer_fn *TimerFunction;
	void *FunctionContext;
} nd_timer_chars;
_Static_assert(sizeof(nd_timer_chars) == 0x18, "NDIS_TIMER_CHARACTERISTICS size");

typedef struct nd_spin_lock {
	nt_kspin_lock SpinLock;
	nt_irql OldIrql;
} nd_spin_lock;
_Static_assert(sizeof(nd_spin_lock) == 0x10, "NDIS_SPIN_LOCK size");

typedef uint32_t NTAPI nd_init_fn(void *handle, void *drv_ctx, nd_init_params *p);
typedef void NTAPI nd_halt_fn(void *ctx, uint32_t action);
typedef uint32_t NTAPI nd_pause_fn(void *ctx, nd_pause_params *p);
typedef uint32_t NTAPI nd_restart_fn(void *ctx, nd_restart_params *p);
typedef uint32_t NTAPI nd_oid_fn(void *ctx, nd_oid_request *r);
typedef void NTAPI nd_send_fn(void *ctx, nd_nbl *nbl, uint32_t port, uint32_t flags);
typedef void NTAPI nd_return_fn(void *ctx, nd_nbl *nbl, uint32_t flags);
typedef void NTAPI nd_unload_fn(nt_driver_object *);
typedef void *NTAPI pool_alloc_fn(uint32_t type, size_t size, uint32_t tag);
typedef void NTAPI pool_free_fn(void *p, uint32_t tag);

/* ------------------------------------------------------------ state */

#define MAX_PARAMS 16
#define RXQ_LEN 256
#define RX_FRAME_MAX 65600 /* RSC: a coalesced unit is up to a 64 KiB datagram */
#define POOL_MAGIC 0x6c6f6f50444e4f50ull /* "PONDPool" */
#define NBL_MAGIC  0x4c424e444e4f50ull
#define SG_MAGIC   0x4753444e4f50ull

struct nd_pool {
	uint64_t magic;
	bool alloc_nb;
	uint16_t context_size;
	uint32_t tag;
	long count;
};

/* Host-allocated NBL with its single NET_BUFFER. */
struct nd_nbl_block {
	nd_nbl nbl;
	nd_nb nb;
	uint64_t magic;
	struct nd_pool *pool;
	void *context;
};

struct rx_frame {
	size_t len;
	uint64_t csum;
	uint16_t rsc_segs; /* RSC: NetBufferListInfo[TcpRecvSegCoalesceInfo] */
	uint8_t data[RX_FRAME_MAX];
};

struct nd_timer {
	uint64_t magic;
	nt_ktimer timer;
	nt_kdpc dpc;
	nd_timer_fn *fn;
	void *ctx;
};

struct nd_work {
	uint64_t magic;
	void *io;
	void *routine;
	void *ctx;
};

static struct {
	bool registered;
	nd_miniport_chars chars;
	void *drv_context;
	void *driver_handle;
	/* adapter */
	int adapter_handle; /* its address is the NDIS miniport handle */
	void *ctx;           /* MiniportAdapterContext */
	bool in_init, reg_attrs, gen_attrs, running, paused, halted;
	nd_gen_attrs gen;
	uint32_t oid_list[512];
	uint32_t oid_count;
	uint32_t offload_tx4;
	struct pci_dev pci;
	bool pci_open;
	nd_cm_list res;
	nd_init_params init;
	/* interrupts */
	bool uio, msix, intr_registered;
	nd_intr_chars ic;
	void *intr_ctx;
	int intr_handle;
	nd_msg_info msg_info;
	unsigned msg_count;
	nt_kspin_lock int_lock;
	nt_kdpc dpc;
	nt_kdpc msg_dpc[ND_MAX_MSG];
	bool irq_stop;
	uint32_t throttle[2];
	/* DMA */
	bool dma_registered;
	nd_sg_dma_desc dma;
	int dma_handle;
	/* config */
	char params[MAX_PARAMS][128];
	unsigned nparams;
	/* synchronisation with the test thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool pause_done;
	nd_oid_request *pending_oid;
	uint32_t oid_status;
	bool oid_done;
	/* receive */
	struct rx_frame *rxq;
	unsigned rx_head, rx_count;
	nd_nbl *to_return;
	unsigned link_events;
	uint32_t link_state;
	nd_link_state link; /* what NDIS answers OID_GEN_LINK_STATE with */
	/* counters */
	unsigned long rx_indicated, rx_returned, rx_resources, rx_dropped, tx_sent, tx_completed;
	unsigned long interrupts, dpcs, sg_lists, sg_outstanding;
	long nbl_outstanding, mdl_outstanding, shared_outstanding;
	pool_alloc_fn *pool_alloc;
	pool_free_fn *pool_free;
	/* deliberate host faults (nd_set_inject) */
	bool inject_corrupt_rx, inject_drop_complete;
	unsigned long rx_ipv4_seen;
} nd = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

#define ADAPTER ((void *)&nd.adapter_handle)

static void nd_rss_caps(const void *caps); /* processors and RSS block */

static void check_adapter(void *h, const char *who)
{
	if (h != ADAPTER)
		vh_fatal("%s(%p): not the miniport adapter handle", who, h);
}

static void check_header(const nd_object_header *h, uint8_t type, uint8_t rev, uint16_t size,
			 const char *who)
{
	if (!h)
		vh_fatal("%s: NULL structure", who);
	if (h->Type != type || h->Revision < rev || h->Size < size)
		vh_fatal("%s: bad NDIS_OBJECT_HEADER (type %#x rev %u size %u; expected type %#x "
			 "rev >= %u size >= %u)", who, h->Type, h->Revision, h->Size, type, rev, size);
}

static void *pool_get(size_t size, uint32_t tag)
{
	if (!nd.pool_alloc) {
		nd.pool_alloc = (pool_alloc_fn *)vh_resolve("ntoskrnl.exe", "ExAllocatePoolWithTag", NULL);
		nd.pool_free = (pool_free_fn *)vh_resolve("ntoskrnl.exe", "ExFreePoolWithTag", NULL);
		if (!nd.pool_alloc || !nd.pool_free)
			vh_fatal("ndis: kernel pool not available");
	}
	return nd.pool_alloc(0 /* NonPagedPool */, size, tag);
}

static void pool_put(void *p, uint32_t tag)
{
	nd.pool_free(p, tag);
}

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* ------------------------------------------------------------ registration */

static void NTAPI nd_driver_unload(nt_driver_object *drv)
{
	if (nd.chars.UnloadHandler)
		((nd_unload_fn *)nd.chars.UnloadHandler)(drv);
	if (nd.registered)
		printf("not ok - MiniportDriverUnload did not call NdisMDeregisterMiniportDriver\n");
}

static uint32_t NTAPI nd_NdisMRegisterMiniportDriver(nt_driver_object *drv, nt_unicode_string *reg,
						     void *ctx, nd_miniport_chars *c,
						     void **handle)
{
	(void)reg;
	if (!drv || !c || !handle) {
		vh_log("NdisMRegisterMiniportDriver: NULL argument");
		return NDIS_STATUS_FAILURE;
	}
	if (c->Header.Type != OT_DRIVER_CHARS || c->Header.Revision < 1 ||
	    c->Header.Size < CHARS_REV1_SIZE ||
	    (c->Header.Revision >= 2 && c->Header.Size < sizeof(*c))) {
		vh_log("NdisMRegisterMiniportDriver: bad header (type %#x rev %u size %u)",
		       c->Header.Type, c->Header.Revision, c->Header.Size);
		return NDIS_STATUS_BAD_CHARACTERISTICS;
	}
	if (c->MajorNdisVersion != 6) {
		vh_log("NdisMRegisterMiniportDriver: NDIS %u.%u, only 6.x is emulated",
		       c->MajorNdisVersion, c->MinorNdisVersion);
		return NDIS_STATUS_BAD_VERSION;
	}
	/* The handlers NDIS documents as required for every miniport. */
	if (!c->InitializeHandlerEx || !c->HaltHandlerEx || !c->PauseHandler ||
	    !c->RestartHandler || !c->OidRequestHandler || !c->SendNetBufferListsHandler ||
	    !c->ReturnNetBufferListsHandler || !c->CancelSendHandler ||
	    !c->DevicePnPEventNotifyHandler || !c->ShutdownHandlerEx ||
	    !c->CancelOidRequestHandler) {
		vh_log("NdisMRegisterMiniportDriver: a required handler is NULL");
		return NDIS_STATUS_BAD_CHARACTERISTICS;
	}
	if (nd.registered) {
		vh_log("NdisMRegisterMiniportDriver: called twice");
		return NDIS_STATUS_FAILURE;
	}
	memset(&nd.chars, 0, sizeof(nd.chars));
	memcpy(&nd.chars, c, c->Header.Size < sizeof(nd.chars) ? c->Header.Size : sizeof(nd.chars));
	nd.drv_context = ctx;
	nd.driver_handle = &nd.chars;
	nd.registered = true;
	*handle = nd.driver_handle;
	drv->DriverUnload = nd_driver_unload;
	vh_log("NdisMRegisterMiniportDriver: NDIS %u.%u miniport registered (driver %u.%u)",
	       c->MajorNdisVersion, c->MinorNdisVersion, c->MajorDriverVersion,
	       c->MinorDriverVersion);
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMDeregisterMiniportDriver(void *handle)
{
	if (!nd.registered || handle != nd.driver_handle)
		vh_fatal("NdisMDeregisterMiniportDriver(%p): not a registered miniport", handle);
	if (nd.ctx && !nd.halted)
		vh_fatal("NdisMDeregisterMiniportDriver: an adapter is still initialised");
	nd.registered = false;
}

bool nd_set_inject(const char *what)
{
	if (!strcmp(what, "corrupt-rx"))
		nd.inject_corrupt_rx = true;
	else if (!strcmp(what, "drop-send-complete"))
		nd.inject_drop_complete = true;
	else
		return false;
	return true;
}

bool nd_registered(void)
{
	return nd.registered;
}

/* ------------------------------------------------------------ attributes */

static uint32_t NTAPI nd_NdisMSetMiniportAttributes(void *h, nd_object_header *attr)
{
	check_adapter(h, "NdisMSetMiniportAttributes");
	if (!nd.in_init)
		vh_fatal("NdisMSetMiniportAttributes outside MiniportInitializeEx");
	if (!attr)
		vh_fatal("NdisMSetMiniportAttributes: NULL attributes");
	switch (attr->Type) {
	case OT_REG_ATTRIBUTES: {
		nd_reg_attrs *r = (nd_reg_attrs *)attr;
		check_header(attr, OT_REG_ATTRIBUTES, 1, REG_ATTRS_SIZE, "registration attributes");
		if (nd.reg_attrs)
			vh_fatal("registration attributes set twice");
		if (!r->MiniportAdapterContext)
			vh_fatal("registration attributes: NULL MiniportAdapterContext");
		nd.ctx = r->MiniportAdapterContext;
		nd.reg_attrs = true;
		vh_log("ndis: registration attributes: flags %#x, interface type %u, hang check %u s",
		       r->AttributeFlags, r->InterfaceType, r->CheckForHangTimeInSeconds);
		return NDIS_STATUS_SUCCESS;
	}
	case OT_GEN_ATTRIBUTES: {
		nd_gen_attrs *g = (nd_gen_attrs *)attr;
		check_header(attr, OT_GEN_ATTRIBUTES, 1, GEN_ATTRS_REV1_SIZE, "general attributes");
		if (!nd.reg_attrs)
			vh_fatal("general attributes before the registration attributes");
		if (g->MediaType != 0 /* NdisMedium802_3 */ || g->MacAddressLength != 6)
			vh_fatal("general attributes: medium %u, MAC length %u (802.3 and 6 expected)",
				 g->MediaType, g->MacAddressLength);
		if (g->MtuSize < 576 || g->MtuSize > 65535)
			vh_fatal("general attributes: MtuSize %u", g->MtuSize);
		if (g->MediaConnectState > 2)
			vh_fatal("general attributes: MediaConnectState %u", g->MediaConnectState);
		if (!g->SupportedOidList || !g->SupportedOidListLength || g->SupportedOidListLength % 4 ||
		    g->SupportedOidListLength > sizeof(nd.oid_list))
			vh_fatal("general attributes: SupportedOidList %p length %u",
				 (void *)g->SupportedOidList, g->SupportedOidListLength);
		memset(&nd.gen, 0, sizeof(nd.gen));
		memcpy(&nd.gen, g, attr->Size < sizeof(nd.gen) ? attr->Size : sizeof(nd.gen));
		memcpy(nd.oid_list, g->SupportedOidList, g->SupportedOidListLength);
		nd_rss_caps(attr->Size >= offsetof(nd_gen_attrs, AccessType) ? g->RecvScaleCapabilities :
									     NULL);
		nd.oid_count = g->SupportedOidListLength / 4;
		nd.link_state = g->MediaConnectState;
		nd.link = (nd_link_state){ .Header = { OT_DEFAULT, 1, sizeof(nd.link) },
					   .MediaConnectState = g->MediaConnectState,
					   .MediaDuplexState = g->MediaDuplexState,
					   .XmitLinkSpeed = g->XmitLinkSpeed,
					   .RcvLinkSpeed = g->RcvLinkSpeed,
					   .PauseFunctions = g->SupportedPauseFunctions,
					   .AutoNegotiationFlags = g->AutoNegotiationFlags };
		nd.gen_attrs = true;
		vh_log("ndis: general attributes: MTU %u, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %u, "
		       "%u OIDs, filters %#x", g->MtuSize, g->CurrentMacAddress[0],
		       g->CurrentMacAddress[1], g->CurrentMacAddress[2], g->CurrentMacAddress[3],
		       g->CurrentMacAddress[4], g->CurrentMacAddress[5], g->MediaConnectState,
		       nd.oid_count, g->SupportedPacketFilters);
		return NDIS_STATUS_SUCCESS;
	}
	case OT_OFFLOAD_ATTRIBUTES: {
		nd_offload_attrs *o = (nd_offload_attrs *)attr;
		check_header(attr, OT_OFFLOAD_ATTRIBUTES, 1, sizeof(*o), "offload attributes");
		if (!o->DefaultOffloadConfiguration || !o->HardwareOffloadCapabilities)
			vh_fatal("offload attributes: NULL NDIS_OFFLOAD");
		check_header(o->DefaultOffloadConfiguration, OT_OFFLOAD, 1, 4, "default offload");
		check_header(o->HardwareOffloadCapabilities, OT_OFFLOAD, 1, 4, "hardware offload");
		/* NDIS_OFFLOAD.Checksum.IPv4Transmit: Encapsulation, then the bit fields
		 * IpOptions:2 TcpOptions:2 TcpChecksum:2 UdpChecksum:2 IpChecksum:2. */
		memcpy(&nd.offload_tx4, (uint8_t *)o->DefaultOffloadConfiguration + 8, 4);
		vh_log("ndis: offload attributes: IPv4 transmit checksums tcp %u udp %u ip %u",
		       (nd.offload_tx4 >> 4) & 3, (nd.offload_tx4 >> 6) & 3, (nd.offload_tx4 >> 8) & 3);
		return NDIS_STATUS_SUCCESS;
	}
	case OT_HW_ASSIST_ATTR:
		check_header(attr, OT_HW_ASSIST_ATTR, 1, 0x30, "hardware assist attributes");
		return NDIS_STATUS_SUCCESS;
	default:
		vh_log("NdisMSetMiniportAttributes: unknown attribute type %#x", attr->Type);
		return NDIS_STATUS_INVALID_PARAMETER;
	}
}

bool nd_offload_tcp4_tx(void)
{
	return ((nd.offload_tx4 >> 4) & 3) != 0;
}

bool nd_offload_ip4_tx(void)
{
	return ((nd.offload_tx4 >> 8) & 3) != 0;
}

void nd_mac(uint8_t mac[6])
{
	memcpy(mac, nd.gen.CurrentMacAddress, 6);
}

/* ------------------------------------------------------------ configuration */

struct nd_config {
	uint64_t magic;
	nd_config_param param;
	uint8_t mac[6];
};
#define CONFIG_MAGIC 0x47464e43444e4f50ull

bool nd_set_param(const char *assignment)
{
	if (nd.nparams == MAX_PARAMS || !strchr(assignment, '=') ||
	    strlen(assignment) >= sizeof(nd.params[0]))
		return false;
	snprintf(nd.params[nd.nparams++], sizeof(nd.params[0]), "%s", assignment);
	return true;
}

static const char *param_value(const char *name)
{
	size_t n = strlen(name);

	for (unsigned i = 0; i < nd.nparams; i++)
		if (!strncasecmp(nd.params[i], name, n) && nd.params[i][n] == '=')
			return nd.params[i] + n + 1;
	/* Not overridden by --param: what the INF installed, if vdphost got one. */
	return infreg_ndis_param(vh_registry(), name);
}

static uint32_t NTAPI nd_NdisOpenConfigurationEx(nd_config_object *o, void **out)
{
	struct nd_config *c;

	check_header(&o->Header, OT_CONFIGURATION, 1, 0x14 /* through Flags */, "NdisOpenConfigurationEx");
	if (!out)
		vh_fatal("NdisOpenConfigurationEx: NULL handle pointer");
	if (o->NdisHandle != ADAPTER && o->NdisHandle != nd.driver_handle)
		vh_fatal("NdisOpenConfigurationEx: NdisHandle %p is neither the adapter nor the driver",
			 o->NdisHandle);
	c = pool_get(sizeof(*c), 0x6766434e);
	if (!c)
		return NDIS_STATUS_RESOURCES;
	memset(c, 0, sizeof(*c));
	c->magic = CONFIG_MAGIC;
	*out = c;
	return NDIS_STATUS_SUCCESS;
}

static struct nd_config *config_of(void *h, const char *who)
{
	struct nd_config *c = h;

	if (!c || c->magic != CONFIG_MAGIC)
		vh_fatal("%s(%p): not an open configuration handle", who, h);
	return c;
}

static void NTAPI nd_NdisCloseConfiguration(void *h)
{
	struct nd_config *c = config_of(h, "NdisCloseConfiguration");

	c->magic = 0;
	pool_put(c, 0x6766434e);
}

static void NTAPI nd_NdisReadConfiguration(uint32_t *status, nd_config_param **value, void *h,
					   nt_unicode_string *key, uint32_t type)
{
	struct nd_config *c = config_of(h, "NdisReadConfiguration");
	char name[64];
	const char *v;
	unsigned n;

	if (!status || !value || !key || !key->Buffer || key->Length % 2)
		vh_fatal("NdisReadConfiguration: bad arguments");
	*value = NULL;
	*status = NDIS_STATUS_FAILURE;
	for (n = 0; n < key->Length / 2 && n < sizeof(name) - 1; n++)
		name[n] = key->Buffer[n] < 128 ? (char)key->Buffer[n] : '?';
	name[n] = 0;
	v = param_value(name);
	if (!v)
		return;
	if (type != 0 && type != 1) {
		vh_log("NdisReadConfiguration(%s): only integer parameters are emulated", name);
		return;
	}
	c->param.ParameterType = type;
	c->param.ParameterData.IntegerData = (uint32_t)strtoul(v, NULL, type == 1 ? 16 : 0);
	*value = &c->param;
	*status = NDIS_STATUS_SUCCESS;
	vh_log("ndis: registry %s = %u", name, c->param.ParameterData.IntegerData);
}

static void NTAPI nd_NdisReadNetworkAddress(uint32_t *status, void **addr, uint32_t *len, void *h)
{
	struct nd_config *c = config_of(h, "NdisReadNetworkAddress");
	const char *v = param_value("NetworkAddress");

	*status = NDIS_STATUS_FAILURE;
	*addr = NULL;
	*len = 0;
	if (!v)
		return;
	for (int i = 0; i < 6; i++) {
		unsigned b;
		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			return;
		c->mac[i] = (uint8_t)b;
	}
	*addr = c->mac;
	*len = 6;
	*status = NDIS_STATUS_SUCCESS;
}

/* ------------------------------------------------------------ memory */

static void *NTAPI nd_NdisAllocateMemoryWithTagPriority(void *h, uint32_t len, uint32_t tag,
							uint32_t prio)
{
	(void)prio;
	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisAllocateMemoryWithTagPriority: bad handle %p", h);
	if (vh_irql() > DISPATCH_LEVEL)
		vh_fatal("NdisAllocateMemoryWithTagPriority at IRQL %u", vh_irql());
	return len ? pool_get(len, tag) : NULL;
}

static void NTAPI nd_NdisFreeMemoryWithTagPriority(void *h, void *p, uint32_t tag)
{
	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisFreeMemoryWithTagPriority: bad handle %p", h);
	pool_put(p, tag);
}

static void NTAPI nd_NdisFreeMemory(void *p, uint32_t len, uint32_t flags)
{
	(void)len;
	(void)flags;
	pool_put(p, 0);
}

static nd_mdl *mdl_new(void *va, uint32_t len)
{
	nd_mdl *m = calloc(1, sizeof(*m) + 8 * ((len + 8191) / 4096));

	if (!m)
		return NULL;
	m->Size = (int16_t)(sizeof(*m) + 8 * ((len + 8191) / 4096));
	m->MdlFlags = MDL_SOURCE_IS_NONPAGED_POOL;
	m->MappedSystemVa = va;
	m->StartVa = (void *)((uintptr_t)va & ~(uintptr_t)4095);
	m->ByteOffset = (uint32_t)((uintptr_t)va & 4095);
	m->ByteCount = len;
	__atomic_add_fetch(&nd.mdl_outstanding, 1, __ATOMIC_RELAXED);
	return m;
}

static void *NTAPI nd_NdisAllocateMdl(void *h, void *va, uint32_t len)
{
	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisAllocateMdl: bad handle %p", h);
	if (!va || !len)
		vh_fatal("NdisAllocateMdl(%p, %u): empty buffer", va, len);
	return mdl_new(va, len);
}

static void NTAPI nd_NdisFreeMdl(nd_mdl *m)
{
	if (!m)
		vh_fatal("NdisFreeMdl(NULL)");
	__atomic_sub_fetch(&nd.mdl_outstanding, 1, __ATOMIC_RELAXED);
	free(m);
}

static void NTAPI nd_NdisMAllocateSharedMemory(void *h, uint32_t len, uint8_t cached, void **va,
					       int64_t *pa)
{
	uint64_t phys;

	(void)cached;
	check_adapter(h, "NdisMAllocateSharedMemory");
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("NdisMAllocateSharedMemory at IRQL %u (PASSIVE_LEVEL only)", vh_irql());
	if (!nd.dma_registered)
		vh_fatal("NdisMAllocateSharedMemory before NdisMRegisterScatterGatherDma");
	*va = len ? dma_alloc(len, 4096, &phys) : NULL;
	*pa = *va ? (int64_t)phys : 0;
	if (*va) {
		memset(*va, 0, len);
		__atomic_add_fetch(&nd.shared_outstanding, 1, __ATOMIC_RELAXED);
	}
}

static void NTAPI nd_NdisMFreeSharedMemory(void *h, uint32_t len, uint8_t cached, void *va,
					   int64_t pa)
{
	uint64_t phys;

	(void)len;
	(void)cached;
	check_adapter(h, "NdisMFreeSharedMemory");
	if (!dma_phys(va, &phys) || (int64_t)phys != pa)
		vh_fatal("NdisMFreeSharedMemory(%p, %#llx): not shared memory from NDIS", va,
			 (unsigned long long)pa);
	__atomic_sub_fetch(&nd.shared_outstanding, 1, __ATOMIC_RELAXED);
	dma_free(va);
}

/* ------------------------------------------------------------ spin locks */

static void NTAPI nd_NdisAllocateSpinLock(nd_spin_lock *l)
{
	memset(l, 0, sizeof(*l));
}

static void NTAPI nd_NdisFreeSpinLock(nd_spin_lock *l)
{
	if (l->SpinLock)
		vh_fatal("NdisFreeSpinLock(%p): lock is held", (void *)l);
}

static void NTAPI nd_NdisAcquireSpinLock(nd_spin_lock *l)
{
	nt_irql old = vh_irql();

	if (old > DISPATCH_LEVEL)
		vh_fatal("NdisAcquireSpinLock at IRQL %u", old);
	vh_set_irql(DISPATCH_LEVEL);
	vh_spin_acquire(&l->SpinLock, "NdisAcquireSpinLock");
	l->OldIrql = old;
}

static void NTAPI nd_NdisReleaseSpinLock(nd_spin_lock *l)
{
	nt_irql old = l->OldIrql;

	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("NdisReleaseSpinLock at IRQL %u", vh_irql());
	vh_spin_release(&l->SpinLock, "NdisReleaseSpinLock");
	vh_set_irql(old);
}

static void NTAPI nd_NdisDprAcquireSpinLock(nd_spin_lock *l)
{
	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("NdisDprAcquireSpinLock at IRQL %u (DISPATCH_LEVEL required)", vh_irql());
	vh_spin_acquire(&l->SpinLock, "NdisDprAcquireSpinLock");
}

static void NTAPI nd_NdisDprReleaseSpinLock(nd_spin_lock *l)
{
	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("NdisDprReleaseSpinLock at IRQL %u", vh_irql());
	vh_spin_release(&l->SpinLock, "NdisDprReleaseSpinLock");
}

/* ------------------------------------------------------------ bus and I/O */

static uint32_t NTAPI nd_NdisMGetBusData(void *h, uint32_t space, uint32_t off, void *buf,
					 uint32_t len)
{
	check_adapter(h, "NdisMGetBusData");
	if (space != 0 /* PCI_WHICHSPACE_CONFIG */ || !buf || !nd.pci_open)
		return 0;
	if (off >= 4096 || len > 4096 - off)
		return 0;
	return pci_cfg_read(&nd.pci, off, buf, len) ? 0 : len;
}

static uint32_t NTAPI nd_NdisMSetBusData(void *h, uint32_t space, uint32_t off, void *buf,
					 uint32_t len)
{
	check_adapter(h, "NdisMSetBusData");
	if (space != 0 || !buf || !nd.pci_open || off >= 4096 || len > 4096 - off)
		return 0;
	return pci_cfg_write(&nd.pci, off, buf, len) ? 0 : len;
}

static uint32_t NTAPI nd_NdisMMapIoSpace(void **va, void *h, int64_t pa, uint32_t len)
{
	check_adapter(h, "NdisMMapIoSpace");
	*va = io_lookup((uint64_t)pa, len);
	if (!*va) {
		vh_log("NdisMMapIoSpace(%#llx, %u): not a memory BAR of the adapter",
		       (unsigned long long)pa, len);
		return NDIS_STATUS_RESOURCES;
	}
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMUnmapIoSpace(void *h, void *va, uint32_t len)
{
	check_adapter(h, "NdisMUnmapIoSpace");
	if (!io_contains(va, len))
		vh_fatal("NdisMUnmapIoSpace(%p, %u): not a mapping from NdisMMapIoSpace", va, len);
}

static bool io_bar(uint32_t port, uint32_t n)
{
	for (int i = 0; i < 6; i++) {
		struct pci_bar *b = &nd.pci.bar[i];
		if (b->io && port >= b->phys && port - b->phys < b->size && n <= b->size - (port - b->phys))
			return true;
	}
	return false;
}

static uint32_t NTAPI nd_NdisMRegisterIoPortRange(void **off, void *h, uint32_t port, uint32_t n)
{
	check_adapter(h, "NdisMRegisterIoPortRange");
	if (!io_bar(port, n)) {
		vh_log("NdisMRegisterIoPortRange(%#x, %u): not an I/O BAR of the adapter", port, n);
		return NDIS_STATUS_RESOURCES;
	}
	/* x86: the port macros take the port number itself. */
	*off = (void *)(uintptr_t)port;
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMDeregisterIoPortRange(void *h, uint32_t port, uint32_t n, void *off)
{
	check_adapter(h, "NdisMDeregisterIoPortRange");
	if (!io_bar(port, n) || off != (void *)(uintptr_t)port)
		vh_fatal("NdisMDeregisterIoPortRange(%#x, %u, %p): not a registered range", port, n, off);
}

/* ------------------------------------------------------------ interrupts */

static void int_lock(nt_irql *old)
{
	*old = vh_irql();
	if (*old > ND_DIRQL)
		vh_fatal("interrupt lock taken at IRQL %u", *old);
	vh_set_irql(ND_DIRQL);
	vh_spin_acquire(&nd.int_lock, "NDIS interrupt lock");
}

static void int_unlock(nt_irql old)
{
	vh_spin_release(&nd.int_lock, "NDIS interrupt lock");
	vh_set_irql(old);
}

/* ---- processors and RSS ---- */

/* MSI-X message m interrupts processor m mod n (one message per processor
 * in turn, as Windows spreads a device's messages), which the miniport
 * sees in TargetProcessorSet. */
static unsigned nd_msg_cpu(uint32_t m)
{
	return m % vh_cpu_count();
}

static unsigned long nd_qdpcs; /* NdisMQueueDpcEx DPCs run (block below) */
/* Per message: interrupts, frames indicated from its DPC, DPC throttle
 * parameters (DPCs of different messages run concurrently). */
static unsigned long nd_msg_irqs[ND_MAX_MSG], nd_msg_rx[ND_MAX_MSG];
static uint32_t nd_msg_throttle[ND_MAX_MSG][2];
/* The message whose DPC the calling thread runs, or -1. */
static __thread int nd_cur_msg = -1;
static unsigned long nd_sends_on[VH_MAX_CPUS];
static unsigned nd_send_rr;
static int nd_irq_threads[VH_MAX_CPUS];
static unsigned nd_irq_nthreads;
/* Copied from the general attributes (the miniport's copy is on its stack). */
static struct {
	bool valid;
	uint32_t flags, messages, queues;
	uint16_t table_entries;
	bool set;
	uint32_t hash_info;
	unsigned table_len;
} nd_rss;

/* NDIS calls MiniportSendNetBufferLists on whatever processor the
 * protocol sends from: spread the test's sends over all of them. */
static void nd_send_cpu(void)
{
	unsigned n = vh_cpu_count(), c;

	if (n < 2)
		return;
	c = __atomic_fetch_add(&nd_send_rr, 1, __ATOMIC_RELAXED) % n;
	vh_cpu_bind((int)c);
	__atomic_add_fetch(&nd_sends_on[c], 1, __ATOMIC_RELAXED);
}

static void nd_rss_caps(const void *caps)
{
	const uint8_t *c = caps;
	const nd_object_header *h = caps;

	memset(&nd_rss, 0, sizeof(nd_rss));
	if (!c)
		return;
	/* NDIS_RECEIVE_SCALE_CAPABILITIES revision 1 (16 bytes) or 2 (18). */
	if (h->Type != 0x88 || h->Revision < 1 || h->Size < 16)
		vh_fatal("RecvScaleCapabilities: header type %#x revision %u size %u", h->Type,
			 h->Revision, h->Size);
	memcpy(&nd_rss.flags, c + 4, 4);
	memcpy(&nd_rss.messages, c + 8, 4);
	memcpy(&nd_rss.queues, c + 12, 4);
	if (h->Revision >= 2 && h->Size >= 18)
		memcpy(&nd_rss.table_entries, c + 16, 2);
	if (!nd_rss.queues || nd_rss.queues > 64)
		vh_fatal("RecvScaleCapabilities: NumberOfReceiveQueues %u", nd_rss.queues);
	nd_rss.valid = true;
	vh_log("ndis: RSS capabilities: flags %#x, %u messages, %u receive queues, %u table entries",
	       nd_rss.flags, nd_rss.messages, nd_rss.queues, nd_rss.table_entries);
}

/* The documented Toeplitz verification key, the one the host sets. */
static const uint8_t nd_rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
/* Received IPv4 frames whose hash was checked, how many were TCP 4-tuple,
 * carried no hash, or a wrong one (the first described). */
static unsigned long nd_rss_ok, nd_rss_tcp, nd_rss_none, nd_rss_bad;
/* Hashed frames indicated on the processor the indirection table names,
 * and elsewhere (must stay 0: nd_rss_report fails otherwise). */
static unsigned long nd_rss_on_cpu, nd_rss_off_cpu;
static char nd_rss_first_bad[160];

/* Toeplitz over in[0..n): for every set input bit, XOR in the 32 key bits
 * starting at that bit position (Microsoft's RSS hash definition). */
static uint32_t nd_toeplitz(const uint8_t *in, size_t n)
{
	uint32_t r = 0;

	for (size_t bit = 0; bit < n * 8; bit++) {
		uint32_t w = 0;
		if (!(in[bit / 8] & (0x80 >> (bit % 8))))
			continue;
		for (unsigned k = 0; k < 32; k++) {
			size_t kb = bit + k;
			if (kb / 8 < sizeof(nd_rss_key) && (nd_rss_key[kb / 8] & (0x80 >> (kb % 8))))
				w |= 1u << (31 - k);
		}
		r ^= w;
	}
	return r;
}

/* The RSS hash of an IPv4 frame: Toeplitz over its TCP 4-tuple (unfragmented
 * TCP) or its address pair, with the matching NetBufferListHashInfo (type |
 * Toeplitz). reverse: the tuple as the peer's frames carry it, which is what
 * Windows' TCP/IP puts on a send so a connection keeps one queue. */
static bool nd_rss_frame_hash(const uint8_t *f, size_t len, bool reverse, uint32_t *value,
			      uint32_t *hinfo, bool *tcp)
{
	uint8_t in[12];
	size_t ihl;

	if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
		return false;
	ihl = (size_t)(f[14] & 15) * 4;
	if (ihl < 20 || len < 14 + ihl)
		return false;
	*tcp = f[23] == 6 && !(((f[20] << 8) | f[21]) & 0x3fff) && len >= 14 + ihl + 4;
	memcpy(in, f + (reverse ? 30 : 26), 4);
	memcpy(in + 4, f + (reverse ? 26 : 30), 4);
	if (*tcp) {
		memcpy(in + 8, f + 14 + ihl + (reverse ? 2 : 0), 2);
		memcpy(in + 10, f + 14 + ihl + (reverse ? 0 : 2), 2);
	}
	*value = nd_toeplitz(in, *tcp ? 12 : 8);
	*hinfo = (*tcp ? 0x200 /* TCP_IPV4 */ : 0x100 /* IPV4 */) | 0x1 /* Toeplitz */;
	return true;
}

/* With RSS on, an indicated IPv4 frame must carry its hash (above); no
 * hash at all is counted. */
static void nd_rss_check_frame(const void *const *info, const uint8_t *f, size_t len)
{
	uint32_t value = (uint32_t)(uintptr_t)info[8], hinfo = (uint32_t)(uintptr_t)info[9];
	uint32_t want, want_info;
	bool tcp;

	if (!nd_rss.set || !nd_rss_frame_hash(f, len, false, &want, &want_info, &tcp))
		return;
	if (!hinfo) {
		nd_rss_none++;
	} else if (value == want && hinfo == want_info) {
		nd_rss_ok++;
		nd_rss_tcp += tcp;
		/* The host's table: entry i is processor i mod n. */
		if ((value & (nd_rss.table_len - 1)) % vh_cpu_count() == vh_cpu_current())
			nd_rss_on_cpu++;
		else
			nd_rss_off_cpu++;
	} else if (!nd_rss_bad++) {
		snprintf(nd_rss_first_bad, sizeof(nd_rss_first_bad),
			 "%s frame %u.%u.%u.%u -> %u.%u.%u.%u: hash %#x info %#x, want %#x info %#x",
			 tcp ? "TCP" : "IPv4", f[26], f[27], f[28], f[29], f[30], f[31], f[32], f[33],
			 value, hinfo, want, want_info);
	}
}

/* NDIS_RECEIVE_SCALE_PARAMETERS revision 2 (x64) */
struct nd_rss_params {
	nd_object_header Header;
	uint16_t Flags;
	uint16_t BaseCpuNumber;
	uint32_t HashInformation;
	uint16_t IndirectionTableSize;
	uint16_t pad0;
	uint32_t IndirectionTableOffset;
	uint16_t HashSecretKeySize;
	uint16_t pad1;
	uint32_t HashSecretKeyOffset;
	uint32_t ProcessorMasksOffset;
	uint32_t NumberOfProcessorMasks;
	uint32_t ProcessorMasksEntrySize;
};
_Static_assert(offsetof(struct nd_rss_params, IndirectionTableOffset) == 16, "NDIS_RECEIVE_SCALE_PARAMETERS.IndirectionTableOffset");
_Static_assert(offsetof(struct nd_rss_params, HashSecretKeyOffset) == 24, "NDIS_RECEIVE_SCALE_PARAMETERS.HashSecretKeyOffset");
_Static_assert(sizeof(struct nd_rss_params) == 40, "NDIS_RECEIVE_SCALE_PARAMETERS revision 2 size");

#define OID_GEN_RECEIVE_SCALE_PARAMETERS 0x00010204
#define RSS_TABLE_MAX 128
#define RSS_KEY_LEN ((unsigned)sizeof(nd_rss_key))

/* What the TCP/IP stack sets once the adapter runs and RSS is on: Toeplitz
 * over IPv4/IPv6 with and without TCP, an indirection table spreading the
 * buckets over every processor, a 40-byte key. */
static void nd_rss_setup(void)
{
	struct {
		struct nd_rss_params p;
		nt_processor_number table[RSS_TABLE_MAX];
		uint8_t key[RSS_KEY_LEN];
	} buf;
	unsigned n = vh_cpu_count(), len;
	uint32_t st, done = 0, needed = 0;

	if (!nd_rss.valid || n < 2)
		return;
	len = nd_rss.table_entries && nd_rss.table_entries < RSS_TABLE_MAX ? nd_rss.table_entries :
									      RSS_TABLE_MAX;
	/* Table sizes are powers of two. */
	while (len & (len - 1))
		len &= len - 1;
	memset(&buf, 0, sizeof(buf));
	buf.p.Header = (nd_object_header){ 0x89 /* NDIS_OBJECT_TYPE_RSS_PARAMETERS */, 2, sizeof(buf.p) };
	buf.p.HashInformation = 0x1 /* Toeplitz */ | 0x100 /* IPV4 */ | 0x200 /* TCP_IPV4 */ |
				0x400 /* IPV6 */ | 0x1000 /* TCP_IPV6 */;
	buf.p.IndirectionTableSize = (uint16_t)(len * sizeof(nt_processor_number));
	buf.p.IndirectionTableOffset = offsetof(__typeof__(buf), table);
	buf.p.HashSecretKeySize = RSS_KEY_LEN;
	buf.p.HashSecretKeyOffset = offsetof(__typeof__(buf), key);
	for (unsigned i = 0; i < len; i++)
		buf.table[i] = (nt_processor_number){ 0, (uint8_t)(i % n), 0 };
	memcpy(buf.key, nd_rss_key, sizeof(nd_rss_key));
	st = nd_oid(true, OID_GEN_RECEIVE_SCALE_PARAMETERS, &buf, sizeof(buf), &done, &needed);
	nd_rss.set = st == NDIS_STATUS_SUCCESS;
	nd_rss.hash_info = buf.p.HashInformation;
	nd_rss.table_len = len;
	printf("%s - RSS parameters set (OID_GEN_RECEIVE_SCALE_PARAMETERS, %u-entry table over %u processors, hash %#x): status %#x\n",
	       nd_rss.set ? "ok" : "not ok", len, n, buf.p.HashInformation, st);
}

/* Before halt: where interrupts and received frames went. With several
 * receive queues, more than one message must have carried frames. */
static int nd_rss_report(void)
{
	char line[512];
	unsigned busy = 0, n = vh_cpu_count();
	int at = 0;

	if (n < 2)
		return 0;
	line[0] = 0;
	for (unsigned m = 0; m < nd.msg_count && m < ND_MAX_MSG; m++) {
		unsigned long rx = __atomic_load_n(&nd_msg_rx[m], __ATOMIC_RELAXED);
		busy += rx > 0;
		if (at < (int)sizeof(line))
			at += snprintf(line + at, sizeof(line) - (size_t)at, "%s msg %u (cpu %u): %lu irqs, %lu frames",
				       m ? "," : "", m, nd_msg_cpu(m),
				       __atomic_load_n(&nd_msg_irqs[m], __ATOMIC_RELAXED), rx);
	}
	printf("# ndis: %u processors; sends per processor:", n);
	for (unsigned c = 0; c < n; c++)
		printf(" %lu", nd_sends_on[c]);
	printf("; %s; hashed frames indicated on the indirection table's processor: %lu, elsewhere: %lu\n",
	       line, nd_rss_on_cpu, nd_rss_off_cpu);
	for (unsigned c = 0; c < n; c++)
		if (!nd_sends_on[c]) {
			printf("not ok - no send came from processor %u\n", c);
			return 1;
		}
	if (nd_rss.set) {
		bool ok = !nd_rss_bad && nd_rss_ok > 0;
		printf("%s - RSS hash: %lu received IPv4 frames carried the Toeplitz hash the host computes (%lu TCP 4-tuple), %lu none, %lu wrong%s%s\n",
		       ok ? "ok" : "not ok", nd_rss_ok, nd_rss_tcp, nd_rss_none, nd_rss_bad,
		       nd_rss_bad ? "; first: " : "", nd_rss_first_bad);
		if (!ok)
			return 1;
		/* "Indicating RSS Receive Data": each hashed frame goes up on the
		 * processor its indirection-table entry names. */
		ok = nd_rss_on_cpu > 0 && nd_rss_off_cpu == 0;
		printf("%s - RSS processors: %lu hashed frames indicated on their indirection-table processor, %lu elsewhere (%lu NdisMQueueDpcEx DPCs)\n",
		       ok ? "ok" : "not ok", nd_rss_on_cpu, nd_rss_off_cpu,
		       __atomic_load_n(&nd_qdpcs, __ATOMIC_RELAXED));
		if (!ok)
			return 1;
	}
	if (!nd.msix)
		return 0;
	if (!nd_rss.valid || nd_rss.queues < 2) {
		printf("ok - receive queues: the miniport reports %u receive queue(s), frames arrived on %u message(s) # SKIP needs a multi-queue backend (QEMU's hubport is single-queue)\n",
		       nd_rss.valid ? nd_rss.queues : 1, busy);
		return 0;
	}
	printf("%s - receive queues: %u of the miniport's %u carried frames\n",
	       busy >= 2 ? "ok" : "not ok", busy, nd_rss.queues);
	return busy < 2;
}
/* ---- end processors and RSS ---- */

static bool nd_dpcs_held(void); /* hang/reset block below */

static void NTAPI nd_dpc_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	if (nd_dpcs_held())
		return;
	__atomic_add_fetch(&nd.dpcs, 1, __ATOMIC_RELAXED);
	nd.throttle[0] = ~0u; /* NDIS_INDICATE_ALL_NBLS */
	nd.throttle[1] = 0;
	nd.ic.InterruptDpcHandler(nd.intr_ctx, NULL, nd.throttle, NULL);
}

static void NTAPI nd_msg_dpc_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)a1;
	(void)a2;
	uint32_t m = (uint32_t)(uintptr_t)ctx;

	if (nd_dpcs_held())
		return;
	__atomic_add_fetch(&nd.dpcs, 1, __ATOMIC_RELAXED);
	nd_msg_throttle[m][0] = ~0u; /* NDIS_INDICATE_ALL_NBLS */
	nd_msg_throttle[m][1] = 0;
	nd_cur_msg = (int)m;
	nd.ic.MessageInterruptDpcHandler(nd.intr_ctx, m, NULL, nd_msg_throttle[m], NULL);
	nd_cur_msg = -1;
}

/* ---- NdisMQueueDpcEx ---- */

/* One DPC object per message and processor, set up with the interrupt:
 * NdisMQueueDpcEx runs the miniport's (Message)InterruptDpc handler, with
 * its MiniportDpcContext, on every processor of the mask; a DPC already
 * queued there is not queued again (its processor is then left out of the
 * returned mask). */
typedef struct {
	uintptr_t Mask; /* KAFFINITY */
	uint16_t Group;
	uint16_t Reserved[3];
} nd_group_affinity;

static nt_kdpc nd_qdpc[ND_MAX_MSG][VH_MAX_CPUS];
static uint32_t nd_qdpc_throttle[VH_MAX_CPUS][2];

static void NTAPI nd_qdpc_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	uint32_t m = (uint32_t)(uintptr_t)ctx;
	unsigned c = vh_cpu_current();

	(void)dpc;
	(void)a2;
	/* Not held back by nd_hold_dpcs: only the interrupt's own DPCs stall. */
	__atomic_add_fetch(&nd_qdpcs, 1, __ATOMIC_RELAXED);
	nd_qdpc_throttle[c][0] = ~0u; /* NDIS_INDICATE_ALL_NBLS */
	nd_qdpc_throttle[c][1] = 0;
	if (nd.msix) {
		nd_cur_msg = (int)m;
		nd.ic.MessageInterruptDpcHandler(nd.intr_ctx, m, a1, nd_qdpc_throttle[c], NULL);
		nd_cur_msg = -1;
	} else {
		nd.ic.InterruptDpcHandler(nd.intr_ctx, a1, nd_qdpc_throttle[c], NULL);
	}
}

static void nd_qdpc_setup(void)
{
	unsigned msgs = nd.msix ? nd.msg_count : 1;

	for (unsigned m = 0; m < msgs && m < ND_MAX_MSG; m++)
		for (unsigned c = 0; c < vh_cpu_count(); c++) {
			nt_KeInitializeDpc(&nd_qdpc[m][c], nd_qdpc_trampoline, (void *)(uintptr_t)m);
			nt_KeSetTargetProcessorDpc(&nd_qdpc[m][c], (int8_t)c);
		}
}

static void nd_qdpc_teardown(void)
{
	unsigned msgs = nd.msix ? nd.msg_count : 1;

	for (unsigned m = 0; m < msgs && m < ND_MAX_MSG; m++)
		for (unsigned c = 0; c < vh_cpu_count(); c++)
			nt_KeRemoveQueueDpc(&nd_qdpc[m][c]);
}

static uintptr_t NTAPI nd_NdisMQueueDpcEx(void *ih, uint32_t msg, nd_group_affinity *target,
					  void *ctx)
{
	unsigned n = vh_cpu_count();
	uintptr_t queued = 0;

	if (ih != &nd.intr_handle || !nd.intr_registered)
		vh_fatal("NdisMQueueDpcEx(%p): not a registered interrupt", ih);
	if (vh_irql() > DISPATCH_LEVEL)
		vh_fatal("NdisMQueueDpcEx at IRQL %u", vh_irql());
	if (msg >= (nd.msix ? nd.msg_count : 1))
		vh_fatal("NdisMQueueDpcEx: message %u of %u", msg, nd.msix ? nd.msg_count : 1);
	if (!target || target->Group != 0 || !target->Mask ||
	    (n < sizeof(uintptr_t) * 8 && (target->Mask >> n)))
		vh_fatal("NdisMQueueDpcEx: bad target processors (group %u, mask %#lx)",
			 target ? target->Group : 0, target ? (unsigned long)target->Mask : 0ul);
	for (unsigned c = 0; c < n; c++)
		if ((target->Mask >> c) & 1)
			if (nt_KeInsertQueueDpc(&nd_qdpc[msg][c], ctx, NULL))
				queued |= (uintptr_t)1 << c;
	return queued;
}
/* ---- end NdisMQueueDpcEx ---- */

static void deliver_line(void)
{
	uint8_t queue = 0, mine;
	uint32_t target = 0;
	nt_irql old;

	int_lock(&old);
	mine = nd.ic.InterruptHandler(nd.intr_ctx, &queue, &target);
	int_unlock(old);
	__atomic_add_fetch(&nd.interrupts, 1, __ATOMIC_RELAXED);
	if (queue && !mine)
		vh_fatal("MiniportInterrupt asked for a DPC without claiming the interrupt");
	if (queue)
		nt_KeInsertQueueDpc(&nd.dpc, NULL, NULL);
}

static void deliver_message(uint32_t id)
{
	uint8_t queue = 0;
	uint32_t target = 0;
	nt_irql old;

	int_lock(&old);
	nd.ic.MessageInterruptHandler(nd.intr_ctx, id, &queue, &target);
	int_unlock(old);
	__atomic_add_fetch(&nd.interrupts, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nd_msg_irqs[id], 1, __ATOMIC_RELAXED);
	if (queue)
		nt_KeInsertQueueDpc(&nd.msg_dpc[id], NULL, NULL);
}

/* MSI-X: the interrupt thread of processor cpu serves its messages. */
static void msix_wait_cpu(unsigned cpu)
{
	uint32_t set = 0;
	int fired;

	for (uint32_t m = 0; m < nd.msg_count && m < ND_MAX_MSG; m++)
		if (nd_msg_cpu(m) == cpu)
			set |= 1u << m;
	fired = pci_msix_wait_set(&nd.pci, set, 100);
	if (fired < 0)
		vh_fatal("waiting for MSI-X on vfio eventfds failed: %s", strerror(errno));
	for (uint32_t m = 0; fired > 0 && m < ND_MAX_MSG; m++)
		if (fired & (1 << m))
			deliver_message(m);
}

static void *irq_main(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;

	vh_set_irql(PASSIVE_LEVEL);
	while (!__atomic_load_n(&nd.irq_stop, __ATOMIC_ACQUIRE)) {
		if (nd.msix) {
			msix_wait_cpu(cpu);
		} else if (nd.uio) {
			int r = pci_uio_wait(&nd.pci, 100);
			if (r < 0)
				vh_fatal("waiting for INTx on /dev/uio failed");
			if (r == 0)
				continue;
			deliver_line();
			pci_intx_unmask(&nd.pci);
		} else {
			/* Polling: legal because a shared line may fire for others. */
			usleep(500);
			deliver_line();
		}
	}
	return NULL;
}

static uint32_t NTAPI nd_NdisMRegisterInterruptEx(void *h, void *ictx, nd_intr_chars *ic,
						  void **out)
{
	check_adapter(h, "NdisMRegisterInterruptEx");
	check_header(&ic->Header, OT_INTERRUPT, 1, sizeof(*ic), "NdisMRegisterInterruptEx");
	if (!nd.in_init || nd.intr_registered || !out)
		vh_fatal("NdisMRegisterInterruptEx: outside MiniportInitializeEx or twice");
	if (!ic->InterruptHandler || !ic->InterruptDpcHandler)
		vh_fatal("NdisMRegisterInterruptEx: line-based handlers are required");
	nd.ic = *ic;
	nd.intr_ctx = ictx;
	if (nd.msix) {
		int n;
		if (!ic->MsiSupported || !ic->MessageInterruptHandler || !ic->MessageInterruptDpcHandler)
			vh_fatal("MSI-X requested but the miniport has no message handlers");
		n = pci_msix_enable(&nd.pci, ND_MAX_MSG);
		if (n <= 0) {
			vh_log("ndis: MSI-X could not be enabled");
			return NDIS_STATUS_RESOURCES;
		}
		nd.msg_count = (unsigned)n;
		for (unsigned m = 0; m < nd.msg_count; m++)
			fcntl(nd.pci.msix_fd[m], F_SETFL, fcntl(nd.pci.msix_fd[m], F_GETFL) | O_NONBLOCK);
		memset(&nd.msg_info, 0, sizeof(nd.msg_info));
		nd.msg_info.UnifiedIrql = ND_DIRQL;
		nd.msg_info.MessageCount = nd.msg_count;
		for (unsigned i = 0; i < nd.msg_count; i++) {
			nd.msg_info.MessageInfo[i].MessageAddress = 0xfee00000;
			nd.msg_info.MessageInfo[i].TargetProcessorSet = 1ull << nd_msg_cpu(i);
			nd.msg_info.MessageInfo[i].MessageData = 0x40 + i;
			nd.msg_info.MessageInfo[i].Vector = 0x40 + i;
			nd.msg_info.MessageInfo[i].Irql = ND_DIRQL;
			nd.msg_info.MessageInfo[i].Mode = 1; /* Latched */
			nt_KeInitializeDpc(&nd.msg_dpc[i], nd_msg_dpc_trampoline, (void *)(uintptr_t)i);
		}
		ic->InterruptType = 2; /* NDIS_CONNECT_MESSAGE_BASED */
		ic->MessageInfoTable = &nd.msg_info;
		vh_log("ndis: MSI-X: %u messages through vfio", nd.msg_count);
	} else {
		ic->InterruptType = 1; /* NDIS_CONNECT_LINE_BASED */
		ic->MessageInfoTable = NULL;
	}
	nt_KeInitializeDpc(&nd.dpc, nd_dpc_trampoline, NULL);
	nd_qdpc_setup();
	nd.irq_stop = false;
	/* MSI-X: one interrupt thread per processor; a line: one thread. */
	nd_irq_nthreads = nd.msix && vh_cpu_count() > 1 ? vh_cpu_count() : 1;
	for (unsigned c = 0; c < nd_irq_nthreads; c++) {
		static char names[VH_MAX_CPUS][16];
		snprintf(names[c], sizeof(names[c]), "interrupt%u", c);
		nd_irq_threads[c] = vh_thread_start_on(c ? names[c] : "interrupt", VH_STACK_SIZE,
						       irq_main, (void *)(uintptr_t)c,
						       nd_irq_nthreads > 1 ? (int)c : -1);
	}
	nd.intr_registered = true;
	*out = &nd.intr_handle;
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMDeregisterInterruptEx(void *ih)
{
	if (ih != &nd.intr_handle || !nd.intr_registered)
		vh_fatal("NdisMDeregisterInterruptEx(%p): not a registered interrupt", ih);
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("NdisMDeregisterInterruptEx at IRQL %u", vh_irql());
	__atomic_store_n(&nd.irq_stop, true, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < nd_irq_nthreads; c++)
		vh_thread_join(nd_irq_threads[c]);
	/* No interrupt DPC may run after deregistration returns. */
	nt_KeRemoveQueueDpc(&nd.dpc);
	for (unsigned i = 0; i < nd.msg_count; i++)
		nt_KeRemoveQueueDpc(&nd.msg_dpc[i]);
	nd_qdpc_teardown();
	nt_KeFlushQueuedDpcs();
	nd.intr_registered = false;
}

static uint8_t NTAPI nd_NdisMSynchronizeWithInterruptEx(void *ih, uint32_t msg, void *fn, void *ctx)
{
	typedef uint8_t NTAPI sync_fn(void *);
	nt_irql old;
	uint8_t r;

	(void)msg;
	if (ih != &nd.intr_handle || !fn)
		vh_fatal("NdisMSynchronizeWithInterruptEx(%p): bad arguments", ih);
	int_lock(&old);
	r = ((sync_fn *)fn)(ctx);
	int_unlock(old);
	return r;
}

/* ------------------------------------------------------------ S/G DMA */

static uint32_t NTAPI nd_NdisMRegisterScatterGatherDma(void *h, nd_sg_dma_desc *d, void **out)
{
	check_adapter(h, "NdisMRegisterScatterGatherDma");
	check_header(&d->Header, OT_SG_DMA, 1, SG_DMA_DESC_SIZE, "NdisMRegisterScatterGatherDma");
	if (!nd.in_init || nd.dma_registered || !out)
		vh_fatal("NdisMRegisterScatterGatherDma outside MiniportInitializeEx or twice");
	if (!d->ProcessSGListHandler || !d->MaximumPhysicalMapping)
		vh_fatal("NdisMRegisterScatterGatherDma: no ProcessSGListHandler or mapping size");
	/* Worst case: every page separate plus an unaligned start. */
	d->ScatterGatherListSize = (uint32_t)(sizeof(nd_sg_list) +
					      sizeof(nd_sg_element) * (d->MaximumPhysicalMapping / 4096 + 2));
	nd.dma = *d;
	nd.dma_registered = true;
	*out = &nd.dma_handle;
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMDeregisterScatterGatherDma(void *dh)
{
	if (dh != &nd.dma_handle || !nd.dma_registered)
		vh_fatal("NdisMDeregisterScatterGatherDma(%p): not registered", dh);
	if (nd.sg_outstanding)
		vh_fatal("NdisMDeregisterScatterGatherDma with %lu S/G lists outstanding",
			 nd.sg_outstanding);
	nd.dma_registered = false;
}

/* Calls fn for each virtually contiguous piece of the NET_BUFFER's data. */
static bool nb_walk(nd_nb *nb, bool (*fn)(void *arg, uint8_t *p, size_t n), void *arg)
{
	nd_mdl *m = nb->CurrentMdl;
	size_t off = nb->CurrentMdlOffset, left = nb->DataLength;

	while (left) {
		uint8_t *va;
		size_t n;

		if (!m)
			return false;
		if (off >= m->ByteCount) {
			off -= m->ByteCount;
			m = m->Next;
			continue;
		}
		va = (uint8_t *)m->MappedSystemVa;
		if (!va)
			va = (uint8_t *)m->StartVa + m->ByteOffset;
		n = m->ByteCount - off;
		if (n > left)
			n = left;
		if (!fn(arg, va + off, n))
			return false;
		left -= n;
		off = 0;
		m = m->Next;
	}
	return true;
}

struct sg_build {
	nd_sg_list *sgl;
	uint32_t max;
};

static bool sg_add(void *arg, uint8_t *p, size_t n)
{
	struct sg_build *b = arg;

	while (n) {
		uint64_t phys;
		size_t run = dma_contig(p);

		if (!dma_phys(p, &phys) || !run) {
			vh_log("NdisMAllocateNetBufferSGList: data at %p is not DMA memory", (void *)p);
			return false;
		}
		if (run > n)
			run = n;
		if (b->sgl->NumberOfElements == b->max)
			return false;
		b->sgl->Elements[b->sgl->NumberOfElements].Address = (int64_t)phys;
		b->sgl->Elements[b->sgl->NumberOfElements].Length = (uint32_t)run;
		b->sgl->NumberOfElements++;
		p += run;
		n -= run;
	}
	return true;
}

static uint32_t NTAPI nd_NdisMAllocateNetBufferSGList(void *dh, nd_nb *nb, void *ctx, uint32_t flags,
						      void *buf, uint32_t buf_len)
{
	struct sg_build b;
	nt_irql old = vh_irql();
	size_t need;

	(void)flags;
	if (dh != &nd.dma_handle || !nd.dma_registered)
		vh_fatal("NdisMAllocateNetBufferSGList(%p): no S/G DMA registered", dh);
	if (old > DISPATCH_LEVEL)
		vh_fatal("NdisMAllocateNetBufferSGList at IRQL %u", old);
	if (!nb || !nb->DataLength || nb->DataLength > nd.dma.MaximumPhysicalMapping)
		vh_fatal("NdisMAllocateNetBufferSGList: NET_BUFFER %p length %llu (max %u)", (void *)nb,
			 nb ? (unsigned long long)nb->DataLength : 0ull, nd.dma.MaximumPhysicalMapping);
	b.max = nd.dma.MaximumPhysicalMapping / 4096 + 2;
	need = sizeof(nd_sg_list) + sizeof(nd_sg_element) * b.max;
	if (buf && buf_len >= need) {
		b.sgl = buf;
		b.sgl->Reserved = 0;
	} else {
		b.sgl = calloc(1, need);
		if (!b.sgl)
			return NDIS_STATUS_RESOURCES;
		b.sgl->Reserved = SG_MAGIC;
	}
	b.sgl->NumberOfElements = 0;
	if (!nb_walk(nb, sg_add, &b)) {
		if (b.sgl->Reserved == SG_MAGIC)
			free(b.sgl);
		return NDIS_STATUS_RESOURCES;
	}
	__atomic_add_fetch(&nd.sg_lists, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nd.sg_outstanding, 1, __ATOMIC_RELAXED);
	/* NDIS calls MiniportProcessSGList at DISPATCH_LEVEL, possibly before returning. */
	vh_set_irql(DISPATCH_LEVEL);
	nd.dma.ProcessSGListHandler(NULL, NULL, b.sgl, ctx);
	vh_set_irql(old);
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMFreeNetBufferSGList(void *dh, nd_sg_list *sgl, nd_nb *nb)
{
	(void)nb;
	if (dh != &nd.dma_handle || !sgl)
		vh_fatal("NdisMFreeNetBufferSGList(%p, %p): bad arguments", dh, (void *)sgl);
	if (!__atomic_load_n(&nd.sg_outstanding, __ATOMIC_RELAXED))
		vh_fatal("NdisMFreeNetBufferSGList(%p): no S/G list outstanding", (void *)sgl);
	__atomic_sub_fetch(&nd.sg_outstanding, 1, __ATOMIC_RELAXED);
	if (sgl->Reserved == SG_MAGIC) {
		sgl->Reserved = 0;
		free(sgl);
	}
}

/* ------------------------------------------------------------ NBL pools */

static void *NTAPI nd_NdisAllocateNetBufferListPool(void *h, nd_nbl_pool_params *p)
{
	struct nd_pool *pool;

	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisAllocateNetBufferListPool: bad handle %p", h);
	check_header(&p->Header, OT_DEFAULT, 1, sizeof(*p), "NdisAllocateNetBufferListPool");
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->magic = POOL_MAGIC;
	pool->alloc_nb = p->fAllocateNetBuffer;
	pool->context_size = p->ContextSize;
	pool->tag = p->PoolTag;
	return pool;
}

static struct nd_pool *pool_of(void *h, const char *who)
{
	struct nd_pool *p = h;

	if (!p || p->magic != POOL_MAGIC)
		vh_fatal("%s(%p): not an NBL pool", who, h);
	return p;
}

static void NTAPI nd_NdisFreeNetBufferListPool(void *h)
{
	struct nd_pool *p = pool_of(h, "NdisFreeNetBufferListPool");

	if (p->count)
		vh_fatal("NdisFreeNetBufferListPool: %ld NBLs of the pool not freed", p->count);
	p->magic = 0;
	free(p);
}

static struct nd_nbl_block *nbl_new(struct nd_pool *pool, nd_mdl *mdl, uint32_t off, size_t len)
{
	struct nd_nbl_block *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->magic = NBL_MAGIC;
	b->pool = pool;
	b->nbl.FirstNetBuffer = &b->nb;
	b->nbl.NdisPoolHandle = pool;
	b->nb.NdisPoolHandle = pool;
	b->nb.MdlChain = mdl;
	b->nb.DataOffset = off;
	b->nb.DataLength = len;
	b->nb.CurrentMdl = mdl;
	b->nb.CurrentMdlOffset = off;
	/* CurrentMdl is the MDL holding DataOffset. */
	while (b->nb.CurrentMdl && b->nb.CurrentMdlOffset >= b->nb.CurrentMdl->ByteCount &&
	       b->nb.CurrentMdl->Next) {
		b->nb.CurrentMdlOffset -= b->nb.CurrentMdl->ByteCount;
		b->nb.CurrentMdl = b->nb.CurrentMdl->Next;
	}
	__atomic_add_fetch(&nd.nbl_outstanding, 1, __ATOMIC_RELAXED);
	if (pool)
		__atomic_add_fetch(&pool->count, 1, __ATOMIC_RELAXED);
	return b;
}

static nd_nbl *NTAPI nd_NdisAllocateNetBufferAndNetBufferList(void *h, uint16_t ctx_size,
							      uint16_t backfill, nd_mdl *mdl,
							      uint32_t off, size_t len)
{
	struct nd_pool *pool = pool_of(h, "NdisAllocateNetBufferAndNetBufferList");
	struct nd_nbl_block *b;

	if (!pool->alloc_nb)
		vh_fatal("NdisAllocateNetBufferAndNetBufferList: pool made without fAllocateNetBuffer");
	b = nbl_new(pool, mdl, off, len);
	if (!b)
		return NULL;
	if (ctx_size || backfill || pool->context_size) {
		size_t n = 16 + (size_t)ctx_size + backfill + pool->context_size;
		b->context = calloc(1, n);
		if (!b->context) {
			free(b);
			return NULL;
		}
		b->nbl.Context = b->context;
		((uint16_t *)b->context)[4] = (uint16_t)(n - 16);                 /* Size */
		((uint16_t *)b->context)[5] = (uint16_t)(backfill);                /* Offset */
	}
	return &b->nbl;
}

static void NTAPI nd_NdisFreeNetBufferList(nd_nbl *nbl)
{
	struct nd_nbl_block *b = (struct nd_nbl_block *)nbl;

	if (!b || b->magic != NBL_MAGIC || !b->pool)
		vh_fatal("NdisFreeNetBufferList(%p): not an NBL from an NDIS pool", (void *)nbl);
	__atomic_sub_fetch(&b->pool->count, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&nd.nbl_outstanding, 1, __ATOMIC_RELAXED);
	b->magic = 0;
	free(b->context);
	free(b);
}

struct copy_state {
	uint8_t *dst;
	size_t left;
};

static bool copy_piece(void *arg, uint8_t *p, size_t n)
{
	struct copy_state *c = arg;

	if (n > c->left)
		n = c->left;
	memcpy(c->dst, p, n);
	c->dst += n;
	c->left -= n;
	return c->left > 0;
}

static void *NTAPI nd_NdisGetDataBuffer(nd_nb *nb, uint32_t bytes, void *storage,
					uint32_t align_mul, uint32_t align_off)
{
	nd_mdl *m;
	size_t off;

	if (!nb || !bytes || bytes > nb->DataLength)
		return NULL;
	m = nb->CurrentMdl;
	off = nb->CurrentMdlOffset;
	while (m && off >= m->ByteCount) {
		off -= m->ByteCount;
		m = m->Next;
	}
	if (!m)
		return NULL;
	if (m->ByteCount - off >= bytes) {
		uint8_t *p = (uint8_t *)(m->MappedSystemVa ? m->MappedSystemVa :
					 (uint8_t *)m->StartVa + m->ByteOffset) + off;
		if (align_mul <= 1 || ((uintptr_t)p + align_off) % align_mul == 0)
			return p;
	}
	if (!storage)
		return NULL;
	{
		struct copy_state c = { storage, bytes };
		nd_nb tmp = *nb;
		tmp.DataLength = bytes;
		nb_walk(&tmp, copy_piece, &c);
		if (c.left)
			return NULL;
	}
	return storage;
}

/* ------------------------------------------------------------ data path */

static void NTAPI nd_NdisMSendNetBufferListsComplete(void *h, nd_nbl *nbl, uint32_t flags)
{
	check_adapter(h, "NdisMSendNetBufferListsComplete");
	if ((flags & 1) && vh_irql() != DISPATCH_LEVEL)
		vh_fatal("NdisMSendNetBufferListsComplete: DISPATCH_LEVEL flag %u at IRQL %u",
			 flags & 1, vh_irql());
	if (!nbl)
		vh_fatal("NdisMSendNetBufferListsComplete: empty list");
	pthread_mutex_lock(&nd.mu);
	while (nbl) {
		nd_nbl *next = nbl->Next;
		struct nd_nbl_block *b = (struct nd_nbl_block *)nbl;
		if (b->magic != NBL_MAGIC || nbl->ProtocolReserved[0] != (void *)&nd ||
		    nbl->ProtocolReserved[1])
			vh_fatal("NdisMSendNetBufferListsComplete: NBL %p was not sent or is "
				 "completed twice", (void *)nbl);
		nd.tx_completed++;
		if (nd.inject_drop_complete && nd.tx_completed == 20) {
			vh_log("ndis: injected fault: completion of NBL %p dropped", (void *)nbl);
			nbl = next;
			continue;
		}
		nbl->ProtocolReserved[1] = (void *)1;
		nbl = next;
	}
	pthread_cond_broadcast(&nd.cv);
	pthread_mutex_unlock(&nd.mu);
}

uint32_t nd_send(const void *frame, size_t len, uint64_t csum_info, uint64_t lso_info,
		 unsigned timeout_ms)
{
	struct nd_nbl_block *b;
	struct timespec ts;
	uint64_t phys;
	nd_mdl *m;
	uint8_t *data;
	uint32_t st;
	bool done;

	if (!nd.running && !nd.paused)
		return ND_STATUS_FAILURE;
	data = dma_alloc(len, 64, &phys);
	m = data ? mdl_new(data, (uint32_t)len) : NULL;
	b = m ? nbl_new(NULL, m, 0, len) : NULL;
	if (!b)
		vh_fatal("nd_send: out of memory");
	memcpy(data, frame, len);
	b->nbl.SourceHandle = ADAPTER;
	b->nbl.ProtocolReserved[0] = &nd;
	b->nbl.NetBufferListInfo[0] = (void *)(uintptr_t)csum_info;
	b->nbl.NetBufferListInfo[2] = (void *)(uintptr_t)lso_info; /* TcpLargeSendNetBufferListInfo */
	{
		uint32_t hv, hi;
		bool tcp;

		/* As Windows' TCP/IP does with RSS on: the send carries its connection's hash. */
		if (nd_rss.set && nd_rss_frame_hash(data, len, true, &hv, &hi, &tcp)) {
			b->nbl.NetBufferListInfo[8] = (void *)(uintptr_t)hv; /* NetBufferListHashValue */
			b->nbl.NetBufferListInfo[9] = (void *)(uintptr_t)hi; /* NetBufferListHashInfo */
		}
	}
	pthread_mutex_lock(&nd.mu);
	nd.tx_sent++;
	pthread_mutex_unlock(&nd.mu);
	nd_send_cpu();
	vh_set_irql(DISPATCH_LEVEL);
	((nd_send_fn *)nd.chars.SendNetBufferListsHandler)(nd.ctx, &b->nbl, 0,
							     1 /* NDIS_SEND_FLAGS_DISPATCH_LEVEL */);
	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("MiniportSendNetBufferLists returned at IRQL %u", vh_irql());
	vh_set_irql(PASSIVE_LEVEL);
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&nd.mu);
	while (!b->nbl.ProtocolReserved[1])
		if (pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
			break;
	done = b->nbl.ProtocolReserved[1] != NULL;
	pthread_mutex_unlock(&nd.mu);
	if (!done) {
		/* The miniport still owns it: leak rather than free under its feet. */
		vh_log("nd_send: NBL %p not completed within %u ms", (void *)&b->nbl, timeout_ms);
		return ND_STATUS_FAILURE;
	}
	st = b->nbl.Status;
	__atomic_sub_fetch(&nd.nbl_outstanding, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&nd.mdl_outstanding, 1, __ATOMIC_RELAXED);
	free(b);
	free(m);
	dma_free(data);
	return st;
}

/* Data split over two MDLs in separate DMA allocations, starting 8 bytes
 * into the first one (DataOffset), as TCP/IP hands out headers and payload. */
static bool nb_fill(nd_nb *nb, const uint8_t *frame, size_t len)
{
	size_t first = len / 2, second = len - first;
	uint64_t phys;
	uint8_t *d1 = dma_alloc(8 + first, 64, &phys), *d2 = dma_alloc(second, 64, &phys);
	nd_mdl *m1 = d1 ? mdl_new(d1, (uint32_t)(8 + first)) : NULL;
	nd_mdl *m2 = d2 ? mdl_new(d2, (uint32_t)second) : NULL;

	if (!m1 || !m2)
		return false;
	memset(d1, 0xee, 8);
	memcpy(d1 + 8, frame, first);
	memcpy(d2, frame + first, second);
	m1->Next = m2;
	nb->MdlChain = nb->CurrentMdl = m1;
	nb->DataOffset = nb->CurrentMdlOffset = 8;
	nb->DataLength = len;
	return true;
}

static void nb_release(nd_nb *nb)
{
	for (nd_mdl *m = nb->MdlChain, *next; m; m = next) {
		next = m->Next;
		dma_free(m->MappedSystemVa);
		free(m);
		__atomic_sub_fetch(&nd.mdl_outstanding, 1, __ATOMIC_RELAXED);
	}
}

uint32_t nd_send_chain(const uint8_t *const *frames, const size_t *lens, unsigned nbls,
		       unsigned nbs, unsigned timeout_ms)
{
	struct nd_nbl_block *blk[16];
	struct timespec ts;
	uint32_t st = ND_STATUS_SUCCESS;
	unsigned k = 0, done = 0;

	if (!nd.running || !nbls || !nbs || nbls > 16 || nbs > 8)
		return ND_STATUS_FAILURE;
	for (unsigned i = 0; i < nbls; i++) {
		nd_nb **link;
		blk[i] = nbl_new(NULL, NULL, 0, 0);
		if (!blk[i])
			vh_fatal("nd_send_chain: out of memory");
		blk[i]->nbl.SourceHandle = ADAPTER;
		blk[i]->nbl.ProtocolReserved[0] = &nd;
		link = &blk[i]->nbl.FirstNetBuffer;
		for (unsigned j = 0; j < nbs; j++, k++) {
			nd_nb *nb = j ? calloc(1, sizeof(*nb)) : &blk[i]->nb;
			if (!nb || !nb_fill(nb, frames[k], lens[k]))
				vh_fatal("nd_send_chain: out of memory");
			*link = nb;
			link = &nb->Next;
		}
		if (i)
			blk[i - 1]->nbl.Next = &blk[i]->nbl;
	}
	pthread_mutex_lock(&nd.mu);
	nd.tx_sent += nbls;
	pthread_mutex_unlock(&nd.mu);
	nd_send_cpu();
	vh_set_irql(DISPATCH_LEVEL);
	((nd_send_fn *)nd.chars.SendNetBufferListsHandler)(nd.ctx, &blk[0]->nbl, 0, 1);
	vh_set_irql(PASSIVE_LEVEL);
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&nd.mu);
	for (;;) {
		done = 0;
		for (unsigned i = 0; i < nbls; i++)
			done += blk[i]->nbl.ProtocolReserved[1] != NULL;
		if (done == nbls || pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
			break;
	}
	pthread_mutex_unlock(&nd.mu);
	if (done != nbls) {
		vh_log("nd_send_chain: %u of %u NBLs completed within %u ms", done, nbls, timeout_ms);
		return ND_STATUS_FAILURE;
	}
	for (unsigned i = 0; i < nbls; i++) {
		nd_nb *nb = blk[i]->nbl.FirstNetBuffer;
		if (blk[i]->nbl.Status != ND_STATUS_SUCCESS && st == ND_STATUS_SUCCESS)
			st = blk[i]->nbl.Status;
		while (nb) {
			nd_nb *next = nb->Next;
			nb_release(nb);
			if (nb != &blk[i]->nb)
				free(nb);
			nb = next;
		}
		__atomic_sub_fetch(&nd.nbl_outstanding, 1, __ATOMIC_RELAXED);
		free(blk[i]);
	}
	return st;
}

struct rx_copy {
	struct rx_frame *f;
	size_t left;
};

static bool rx_piece(void *arg, uint8_t *p, size_t n)
{
	struct rx_copy *c = arg;

	if (n > c->left)
		return false;
	memcpy(c->f->data + c->f->len, p, n);
	c->f->len += n;
	c->left -= n;
	return true;
}

static void NTAPI nd_NdisMIndicateReceiveNetBufferLists(void *h, nd_nbl *nbls, uint32_t port,
							uint32_t count, uint32_t flags)
{
	unsigned n = 0;
	nd_nbl *nbl;

	check_adapter(h, "NdisMIndicateReceiveNetBufferLists");
	if ((flags & 1) && vh_irql() != DISPATCH_LEVEL)
		vh_fatal("NdisMIndicateReceiveNetBufferLists: DISPATCH_LEVEL flag %u at IRQL %u",
			 flags & 1, vh_irql());
	if (!nd.running)
		vh_fatal("NdisMIndicateReceiveNetBufferLists while the adapter is not running");
	if (port != 0)
		vh_fatal("NdisMIndicateReceiveNetBufferLists: port %u (only the default port)", port);
	for (nbl = nbls; nbl; nbl = nbl->Next)
		n++;
	if (!n || n != count)
		vh_fatal("NdisMIndicateReceiveNetBufferLists: count %u but %u NBLs chained", count, n);
	pthread_mutex_lock(&nd.mu);
	for (nbl = nbls; nbl; nbl = nbl->Next) {
		nd_nb *nb = nbl->FirstNetBuffer;
		if (!nb || nb->Next)
			vh_fatal("indicated NBL %p must carry exactly one NET_BUFFER", (void *)nbl);
		if (!nb->DataLength || nb->DataLength > RX_FRAME_MAX)
			vh_fatal("indicated NET_BUFFER length %llu", (unsigned long long)nb->DataLength);
		if (nd.rx_count == RXQ_LEN) {
			nd.rx_dropped++;
			continue;
		}
		struct rx_frame *f = &nd.rxq[(nd.rx_head + nd.rx_count) % RXQ_LEN];
		struct rx_copy c = { f, nb->DataLength };
		f->len = 0;
		f->csum = (uint64_t)(uintptr_t)nbl->NetBufferListInfo[0];
		/* RSC: CoalescedSegCount, the low 16 bits of slot 22 on x64. */
		f->rsc_segs = (uint16_t)(uintptr_t)nbl->NetBufferListInfo[22];
		if (!nb_walk(nb, rx_piece, &c) || c.left)
			vh_fatal("indicated NET_BUFFER %p: MDL chain shorter than DataLength", (void *)nb);
		nd_rss_check_frame((const void *const *)nbl->NetBufferListInfo, f->data, f->len);
		/* Injected fault: one payload bit of the 10th IPv4 frame flips. */
		if (f->len > 40 && f->data[12] == 0x08 && f->data[13] == 0 &&
		    ++nd.rx_ipv4_seen == 10 && nd.inject_corrupt_rx) {
			f->data[f->len - 1] ^= 0x10;
			vh_log("ndis: injected fault: received frame bit flipped");
		}
		nd.rx_count++;
	}
	nd.rx_indicated += n;
	if (nd_cur_msg >= 0)
		__atomic_add_fetch(&nd_msg_rx[nd_cur_msg], n, __ATOMIC_RELAXED);
	if (flags & 2 /* NDIS_RECEIVE_FLAGS_RESOURCES */) {
		/* The NBLs are the miniport's again as soon as this returns. */
		nd.rx_resources += n;
	} else {
		nd_nbl *last = nbls;
		while (last->Next)
			last = last->Next;
		last->Next = nd.to_return;
		nd.to_return = nbls;
	}
	pthread_cond_broadcast(&nd.cv);
	pthread_mutex_unlock(&nd.mu);
}

/* Give indicated NBLs back, as a protocol does when it is done with them. */
static void return_pending(void)
{
	nd_nbl *list, *nbl;
	unsigned long n = 0;
	nt_irql old;

	pthread_mutex_lock(&nd.mu);
	list = nd.to_return;
	nd.to_return = NULL;
	pthread_mutex_unlock(&nd.mu);
	if (!list)
		return;
	for (nbl = list; nbl; nbl = nbl->Next)
		n++;
	old = vh_irql();
	vh_set_irql(DISPATCH_LEVEL);
	((nd_return_fn *)nd.chars.ReturnNetBufferListsHandler)(nd.ctx, list,
							       1 /* NDIS_RETURN_FLAGS_DISPATCH_LEVEL */);
	vh_set_irql(old);
	pthread_mutex_lock(&nd.mu);
	nd.rx_returned += n;
	pthread_mutex_unlock(&nd.mu);
}

unsigned nd_last_rsc_segs; /* RSC */

size_t nd_recv(void *buf, size_t cap, uint64_t *csum, unsigned timeout_ms)
{
	struct timespec ts;
	size_t len = 0;

	return_pending();
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&nd.mu);
	while (!nd.rx_count)
		if (pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
			break;
	if (nd.rx_count) {
		struct rx_frame *f = &nd.rxq[nd.rx_head];
		len = f->len < cap ? f->len : cap;
		memcpy(buf, f->data, len);
		if (csum)
			*csum = f->csum;
		nd_last_rsc_segs = f->rsc_segs;
		nd.rx_head = (nd.rx_head + 1) % RXQ_LEN;
		nd.rx_count--;
	}
	pthread_mutex_unlock(&nd.mu);
	return_pending();
	return len;
}

/* ------------------------------------------------------------ status, OIDs, life cycle */

static void NTAPI nd_NdisMIndicateStatusEx(void *h, nd_status_ind *s)
{
	check_adapter(h, "NdisMIndicateStatusEx");
	check_header(&s->Header, OT_STATUS_INDICATION, 1, sizeof(*s), "NdisMIndicateStatusEx");
	if (s->SourceHandle != ADAPTER)
		vh_fatal("NdisMIndicateStatusEx: SourceHandle %p is not the adapter", s->SourceHandle);
	if (s->StatusBufferSize && !s->StatusBuffer)
		vh_fatal("NdisMIndicateStatusEx: StatusBufferSize %u with no buffer", s->StatusBufferSize);
	if (s->StatusCode == ND_STATUS_LINK_STATE) {
		nd_link_state *ls = s->StatusBuffer;
		if (s->StatusBufferSize < sizeof(*ls))
			vh_fatal("NDIS_STATUS_LINK_STATE: buffer of %u bytes", s->StatusBufferSize);
		check_header(&ls->Header, OT_DEFAULT, 1, sizeof(*ls), "NDIS_LINK_STATE");
		if (ls->MediaConnectState > 2)
			vh_fatal("NDIS_LINK_STATE: MediaConnectState %u", ls->MediaConnectState);
		pthread_mutex_lock(&nd.mu);
		nd.link_events++;
		nd.link_state = ls->MediaConnectState;
		nd.link = *ls;
		nd.link.Header.Size = sizeof(nd.link);
		pthread_cond_broadcast(&nd.cv);
		pthread_mutex_unlock(&nd.mu);
		vh_log("ndis: link state indication: %s, %llu bit/s",
		       ls->MediaConnectState == 1 ? "connected" :
		       ls->MediaConnectState == 2 ? "disconnected" : "unknown",
		       (unsigned long long)ls->XmitLinkSpeed);
	} else {
		vh_log("ndis: status indication %#x (%u bytes)", s->StatusCode, s->StatusBufferSize);
	}
}

unsigned nd_link_events(uint32_t *last)
{
	unsigned n;

	pthread_mutex_lock(&nd.mu);
	n = nd.link_events;
	if (last)
		*last = nd.link_state;
	pthread_mutex_unlock(&nd.mu);
	return n;
}

bool nd_wait_link_event(unsigned seen, unsigned timeout_ms)
{
	struct timespec ts;
	bool r;

	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&nd.mu);
	while (nd.link_events <= seen)
		if (pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
			break;
	r = nd.link_events > seen;
	pthread_mutex_unlock(&nd.mu);
	return r;
}

static void NTAPI nd_NdisMOidRequestComplete(void *h, nd_oid_request *r, uint32_t status)
{
	check_adapter(h, "NdisMOidRequestComplete");
	pthread_mutex_lock(&nd.mu);
	if (!nd.pending_oid || r != nd.pending_oid)
		vh_fatal("NdisMOidRequestComplete(%p): not the pending request", (void *)r);
	if (status == NDIS_STATUS_PENDING)
		vh_fatal("NdisMOidRequestComplete with NDIS_STATUS_PENDING");
	nd.oid_status = status;
	nd.oid_done = true;
	pthread_cond_broadcast(&nd.cv);
	pthread_mutex_unlock(&nd.mu);
}

uint32_t nd_oid(bool set, uint32_t oid, void *buf, uint32_t len, uint32_t *done, uint32_t *needed)
{
	nd_oid_request *r;
	struct timespec ts;
	uint32_t st;

	/* NDIS answers OID_GEN_LINK_STATE itself for 6.x miniports ("not
	 * requested"): from the general attributes and the last indication. */
	if (!set && oid == ND_OID_GEN_LINK_STATE) {
		if (needed)
			*needed = sizeof(nd.link);
		if (done)
			*done = 0;
		if (len < sizeof(nd.link))
			return 0xC0230016u; /* NDIS_STATUS_BUFFER_TOO_SHORT */
		pthread_mutex_lock(&nd.mu);
		memcpy(buf, &nd.link, sizeof(nd.link));
		pthread_mutex_unlock(&nd.mu);
		if (done)
			*done = sizeof(nd.link);
		return NDIS_STATUS_SUCCESS;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		vh_fatal("out of memory");
	r->Header = (nd_object_header){ OT_OID_REQUEST, 2, sizeof(*r) };
	r->RequestType = set ? 1 : 0; /* NdisRequestSetInformation / QueryInformation */
	r->RequestId = r;
	r->RequestHandle = ADAPTER;
	r->Oid = oid;
	r->InformationBuffer = buf;
	r->InformationBufferLength = len;
	r->SupportedRevision = 1;
	pthread_mutex_lock(&nd.mu);
	nd.pending_oid = r;
	nd.oid_done = false;
	pthread_mutex_unlock(&nd.mu);
	vh_set_irql(PASSIVE_LEVEL);
	st = ((nd_oid_fn *)nd.chars.OidRequestHandler)(nd.ctx, r);
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("MiniportOidRequest(%#x) returned at IRQL %u", oid, vh_irql());
	pthread_mutex_lock(&nd.mu);
	if (st == NDIS_STATUS_PENDING) {
		deadline(&ts, 10000);
		while (!nd.oid_done)
			if (pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
				vh_fatal("OID %#x pending for 10 s without NdisMOidRequestComplete", oid);
		st = nd.oid_status;
	} else if (nd.oid_done) {
		vh_fatal("OID %#x: NdisMOidRequestComplete called for a request that did not pend", oid);
	}
	nd.pending_oid = NULL;
	pthread_mutex_unlock(&nd.mu);
	if (r->BytesWritten > len && st == NDIS_STATUS_SUCCESS)
		vh_fatal("OID %#x: BytesWritten/Read %u exceeds the buffer (%u)", oid, r->BytesWritten,
			 len);
	if (done)
		*done = r->BytesWritten;
	if (needed)
		*needed = r->BytesNeeded;
	free(r);
	return st;
}

static void NTAPI nd_NdisMPauseComplete(void *h)
{
	check_adapter(h, "NdisMPauseComplete");
	pthread_mutex_lock(&nd.mu);
	nd.pause_done = true;
	pthread_cond_broadcast(&nd.cv);
	pthread_mutex_unlock(&nd.mu);
}

static void NTAPI nd_NdisMRestartComplete(void *h, uint32_t status)
{
	check_adapter(h, "NdisMRestartComplete");
	vh_log("ndis: NdisMRestartComplete(%#x)", status);
}

static void reset_completed(uint32_t status, uint8_t addressing); /* hang/reset block below */

static void NTAPI nd_NdisMResetComplete(void *h, uint32_t status, uint8_t addressing)
{
	check_adapter(h, "NdisMResetComplete");
	vh_log("ndis: NdisMResetComplete(%#x, %u)", status, addressing);
	reset_completed(status, addressing);
}

/* ------------------------------------------------------------ timers and work items */

#define TIMER_MAGIC 0x524d544e444e4f50ull
#define WORK_MAGIC  0x4b524f574e444e4full

static void NTAPI nd_timer_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	struct nd_timer *t = ctx;

	(void)dpc;
	(void)a1;
	(void)a2;
	t->fn(NULL, t->ctx, NULL, NULL);
}

static uint32_t NTAPI nd_NdisAllocateTimerObject(void *h, nd_timer_chars *c, void **out)
{
	struct nd_timer *t;

	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisAllocateTimerObject: bad handle %p", h);
	check_header(&c->Header, OT_TIMER, 1, sizeof(*c), "NdisAllocateTimerObject");
	if (!c->TimerFunction || !out)
		vh_fatal("NdisAllocateTimerObject: no TimerFunction");
	t = pool_get(sizeof(*t), c->AllocationTag ? c->AllocationTag : 0x726d544e);
	if (!t)
		return NDIS_STATUS_RESOURCES;
	memset(t, 0, sizeof(*t));
	t->magic = TIMER_MAGIC;
	t->fn = c->TimerFunction;
	t->ctx = c->FunctionContext;
	nt_KeInitializeTimerEx(&t->timer, 0);
	nt_KeInitializeDpc(&t->dpc, nd_timer_trampoline, t);
	*out = t;
	return NDIS_STATUS_SUCCESS;
}

static struct nd_timer *timer_of(void *h, const char *who)
{
	struct nd_timer *t = h;

	if (!t || t->magic != TIMER_MAGIC)
		vh_fatal("%s(%p): not an NDIS timer object", who, h);
	return t;
}

static uint8_t NTAPI nd_NdisSetTimerObject(void *h, int64_t due, int32_t period, void *ctx)
{
	struct nd_timer *t = timer_of(h, "NdisSetTimerObject");

	if (ctx)
		t->ctx = ctx;
	return nt_KeSetTimerEx(&t->timer, due, period, &t->dpc);
}

static uint8_t NTAPI nd_NdisCancelTimerObject(void *h)
{
	struct nd_timer *t = timer_of(h, "NdisCancelTimerObject");
	uint8_t r = nt_KeCancelTimer(&t->timer);

	if (nt_KeRemoveQueueDpc(&t->dpc))
		r = 1;
	return r;
}

static void NTAPI nd_NdisFreeTimerObject(void *h)
{
	struct nd_timer *t = timer_of(h, "NdisFreeTimerObject");

	nt_KeCancelTimer(&t->timer);
	nt_KeRemoveQueueDpc(&t->dpc);
	t->magic = 0;
	pool_put(t, 0);
}

static void NTAPI nd_work_trampoline(void *dev, void *ctx)
{
	typedef void NTAPI routine_fn(void *ctx, void *handle);
	struct nd_work *w = ctx;

	(void)dev;
	((routine_fn *)w->routine)(w->ctx, w);
}

static void *NTAPI nd_NdisAllocateIoWorkItem(void *h)
{
	struct nd_work *w;

	if (h != ADAPTER && h != nd.driver_handle)
		vh_fatal("NdisAllocateIoWorkItem: bad handle %p", h);
	w = pool_get(sizeof(*w), 0x6b774e44);
	if (!w)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->magic = WORK_MAGIC;
	w->io = nt_IoAllocateWorkItem(h);
	if (!w->io) {
		pool_put(w, 0x6b774e44);
		return NULL;
	}
	return w;
}

static void NTAPI nd_NdisQueueIoWorkItem(void *h, void *routine, void *ctx)
{
	struct nd_work *w = h;

	if (!w || w->magic != WORK_MAGIC || !routine)
		vh_fatal("NdisQueueIoWorkItem(%p): bad work item or routine", h);
	w->routine = routine;
	w->ctx = ctx;
	nt_IoQueueWorkItem(w->io, (void *)nd_work_trampoline, 1 /* DelayedWorkQueue */, w);
}

static void NTAPI nd_NdisFreeIoWorkItem(void *h)
{
	struct nd_work *w = h;

	if (!w || w->magic != WORK_MAGIC)
		vh_fatal("NdisFreeIoWorkItem(%p): not a work item", h);
	nt_IoFreeWorkItem(w->io);
	w->magic = 0;
	pool_put(w, 0x6b774e44);
}

static void NTAPI nd_NdisMSleep(uint32_t us)
{
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("NdisMSleep at IRQL %u", vh_irql());
	usleep(us);
}

static void NTAPI nd_NdisGetSystemUpTimeEx(int64_t *t)
{
	*t = (int64_t)(vh_now_ns() / 1000000);
}

static uint32_t NTAPI nd_NdisGetSharedDataAlignment(void)
{
	return 64;
}

/* ------------------------------------------------------------ adapter start/stop */

int nd_start_adapter(const char *pci_spec, const char *irq_mode)
{
	nd_restart_params rp;
	uint8_t line = 0;
	uint32_t st, n = 0;

	if (!nd.registered) {
		vh_log("no NDIS miniport registered");
		return -1;
	}
	nd.rxq = calloc(RXQ_LEN, sizeof(*nd.rxq));
	if (!nd.rxq)
		return -1;
	nd.uio = irq_mode && !strcmp(irq_mode, "uio");
	nd.msix = irq_mode && !strcmp(irq_mode, "msix");
	if (pci_open(pci_spec, &nd.pci) || (nd.msix && pci_vfio_bind(&nd.pci)) ||
	    pci_enable(&nd.pci))
		return -1;
	nd.pci_open = true;
	if (nd.uio && pci_uio_bind(&nd.pci))
		return -1;
	pci_cfg_read(&nd.pci, 0x3c, &line, 1);

	/* The translated resources NDIS hands over: BARs, then the interrupt. */
	for (int i = 0; i < 6 && n < 7; i++) {
		struct pci_bar *b = &nd.pci.bar[i];
		nd_cm_desc *d = &nd.res.PartialDescriptors[n];
		if (!b->size)
			continue;
		d->Type = b->io ? CmResourceTypePort : CmResourceTypeMemory;
		d->ShareDisposition = 1; /* CmResourceShareDeviceExclusive */
		d->Flags = b->io ? 1 /* CM_RESOURCE_PORT_IO */ : 0;
		d->u.Generic.Start = (int64_t)b->phys;
		d->u.Generic.Length = (uint32_t)b->size;
		n++;
	}
	nd.res.PartialDescriptors[n].Type = CmResourceTypeInterrupt;
	nd.res.PartialDescriptors[n].ShareDisposition = nd.msix ? 1 : 3; /* shared line */
	nd.res.PartialDescriptors[n].Flags = nd.msix ? 3 /* LATCHED | MESSAGE */ : 0;
	nd.res.PartialDescriptors[n].u.Interrupt.Level = line;
	nd.res.PartialDescriptors[n].u.Interrupt.Vector = line;
	nd.res.PartialDescriptors[n].u.Interrupt.Affinity = 1;
	n++;
	nd.res.Version = 1;
	nd.res.Revision = 1;
	nd.res.Count = n;

	nd.init.Header = (nd_object_header){ OT_INIT_PARAMETERS, 1, sizeof(nd.init) };
	nd.init.AllocatedResources = &nd.res;
	nd.init.IfIndex = 7;
	nd.init.NetLuid = (6ull << 48) | (1ull << 24); /* IF_TYPE_ETHERNET_CSMACD, index 1 */

	nd.in_init = true;
	vh_set_irql(PASSIVE_LEVEL);
	st = ((nd_init_fn *)nd.chars.InitializeHandlerEx)(ADAPTER, nd.drv_context, &nd.init);
	nd.in_init = false;
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("MiniportInitializeEx returned at IRQL %u", vh_irql());
	if (st != NDIS_STATUS_SUCCESS) {
		vh_log("MiniportInitializeEx failed: %#x", st);
		if (nd.intr_registered || nd.dma_registered)
			vh_fatal("MiniportInitializeEx failed without releasing its interrupt or DMA");
		nd.ctx = NULL;
		return -1;
	}
	if (!nd.reg_attrs || !nd.gen_attrs)
		vh_fatal("MiniportInitializeEx succeeded without registration and general attributes");
	/* After initialisation an adapter is Paused; NDIS restarts it. */
	rp.Header = (nd_object_header){ OT_DEFAULT, 1, sizeof(rp) };
	rp.RestartAttributes = NULL;
	rp.Flags = 0;
	nd.running = true; /* receive indications may start during Restart */
	st = ((nd_restart_fn *)nd.chars.RestartHandler)(nd.ctx, &rp);
	if (st != NDIS_STATUS_SUCCESS && st != NDIS_STATUS_PENDING) {
		nd.running = false;
		vh_log("MiniportRestart failed: %#x", st);
		return -1;
	}
	nd_rss_setup();
	return 0;
}

/* MiniportPause as NDIS runs it: returns the receive NBLs the miniport
 * waits for, then checks that sends are refused with NDIS_STATUS_PAUSED. */
static int pause_adapter(uint32_t reason)
{
	nd_pause_params pp;
	struct timespec ts;
	uint32_t st;
	int failed = 0;

	return_pending();
	pp.Header = (nd_object_header){ OT_DEFAULT, 1, sizeof(pp) };
	pp.Flags = 0;
	pp.PauseReason = reason;
	nd.pause_done = false;
	vh_set_irql(PASSIVE_LEVEL);
	st = ((nd_pause_fn *)nd.chars.PauseHandler)(nd.ctx, &pp);
	if (st == NDIS_STATUS_PENDING) {
		/* Pause cannot finish while receive NBLs are out: keep returning them. */
		deadline(&ts, 10000);
		for (;;) {
			struct timespec now;
			bool done;
			return_pending();
			pthread_mutex_lock(&nd.mu);
			done = nd.pause_done;
			pthread_mutex_unlock(&nd.mu);
			if (done)
				break;
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > ts.tv_sec)
				vh_fatal("MiniportPause pending for 10 s without NdisMPauseComplete");
			usleep(1000);
		}
	} else if (st != NDIS_STATUS_SUCCESS) {
		printf("not ok - MiniportPause returned %#x\n", st);
		failed++;
	}
	nd.running = false;
	return_pending();
	/* A paused miniport completes sends at once with NDIS_STATUS_PAUSED. */
	{
		static const uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
						   0x88, 0xb5 };
		nd.paused = true;
		st = nd_send(frame, sizeof(frame), 0, 0, 3000);
		nd.paused = false;
		if (st == ND_STATUS_PAUSED) {
			printf("ok - send while paused completed with NDIS_STATUS_PAUSED\n");
		} else {
			printf("not ok - send while paused completed with %#x, not NDIS_STATUS_PAUSED\n", st);
			failed++;
		}
	}
	if (nd.sg_outstanding) {
		printf("not ok - %lu S/G lists outstanding after pause\n", nd.sg_outstanding);
		failed++;
	}
	return failed;
}

int nd_pause_restart(void)
{
	nd_restart_params rp;
	uint32_t st;
	int failed;

	if (!nd.running)
		return 1;
	failed = pause_adapter(0x4 /* NDIS_PAUSE_BIND_PROTOCOL */);
	rp.Header = (nd_object_header){ OT_DEFAULT, 1, sizeof(rp) };
	rp.RestartAttributes = NULL;
	rp.Flags = 0;
	nd.running = true;
	vh_set_irql(PASSIVE_LEVEL);
	st = ((nd_restart_fn *)nd.chars.RestartHandler)(nd.ctx, &rp);
	if (st != NDIS_STATUS_SUCCESS) {
		printf("not ok - MiniportRestart after a pause returned %#x\n", st);
		failed++;
	}
	return failed;
}

int nd_stop_adapter(void)
{
	int failed;

	if (!nd.ctx || nd.halted) {
		if (nd.pci_open)
			pci_close(&nd.pci);
		nd.pci_open = false;
		free(nd.rxq);
		nd.rxq = NULL;
		return 0;
	}
	failed = nd_rss_report();
	failed += pause_adapter(0x80 /* NDIS_PAUSE_MINIPORT_DEVICE_REMOVE */);
	((nd_halt_fn *)nd.chars.HaltHandlerEx)(nd.ctx, 0 /* NdisHaltDeviceDisabled */);
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("MiniportHaltEx returned at IRQL %u", vh_irql());
	nd.halted = true;
	if (nd.intr_registered) {
		printf("not ok - MiniportHaltEx did not deregister its interrupt\n");
		failed++;
	}
	if (nd.dma_registered) {
		printf("not ok - MiniportHaltEx did not deregister its S/G DMA\n");
		failed++;
	}
	if (nd.shared_outstanding || nd.mdl_outstanding || nd.nbl_outstanding) {
		printf("not ok - after halt: %ld shared memory blocks, %ld MDLs, %ld NBLs not freed\n",
		       nd.shared_outstanding, nd.mdl_outstanding, nd.nbl_outstanding);
		failed++;
	}
	pci_close(&nd.pci);
	nd.pci_open = false;
	free(nd.rxq);
	nd.rxq = NULL;
	return failed;
}

void nd_counts(struct nd_counts *c)
{
	pthread_mutex_lock(&nd.mu);
	c->rx_indicated = nd.rx_indicated;
	c->rx_returned = nd.rx_returned;
	c->rx_resources = nd.rx_resources;
	c->tx_sent = nd.tx_sent;
	c->tx_completed = nd.tx_completed;
	c->interrupts = nd.interrupts;
	c->dpcs = nd.dpcs;
	c->sg_lists = nd.sg_lists;
	c->sg_outstanding = nd.sg_outstanding;
	c->nbl_outstanding = nd.nbl_outstanding;
	c->mdl_outstanding = nd.mdl_outstanding;
	c->shared_outstanding = nd.shared_outstanding;
	pthread_mutex_unlock(&nd.mu);
}

/* ------------------------------------------------------------ hang check and reset */

/* NDIS's side of MiniportCheckForHangEx and MiniportResetEx: both at
 * DISPATCH_LEVEL (the highest IRQL NDIS documents for them), a pending
 * reset waited for through NdisMResetComplete, which must come exactly once. */
static struct {
	bool pending, done;
	unsigned completions;
	uint32_t status;
} nd_rst;

static void reset_completed(uint32_t status, uint8_t addressing)
{
	(void)addressing;
	pthread_mutex_lock(&nd.mu);
	if (!nd_rst.pending)
		vh_fatal("NdisMResetComplete without a pending MiniportResetEx");
	nd_rst.pending = false;
	nd_rst.done = true;
	nd_rst.completions++;
	nd_rst.status = status;
	pthread_cond_broadcast(&nd.cv);
	pthread_mutex_unlock(&nd.mu);
}

int nd_check_for_hang(void)
{
	typedef uint8_t NTAPI hang_fn(void *ctx);
	nt_irql old;
	uint8_t r;

	if (!nd.ctx || nd.halted || !nd.chars.CheckForHangHandlerEx)
		return -1;
	old = vh_irql();
	vh_set_irql(DISPATCH_LEVEL);
	r = ((hang_fn *)nd.chars.CheckForHangHandlerEx)(nd.ctx);
	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("MiniportCheckForHangEx returned at IRQL %u", vh_irql());
	vh_set_irql(old);
	return r != 0;
}

uint32_t nd_reset(unsigned timeout_ms)
{
	typedef uint32_t NTAPI reset_fn(void *ctx, uint8_t *addressing);
	struct timespec ts;
	uint8_t addressing = 0xEE;
	uint32_t st;
	nt_irql old;

	if (!nd.ctx || nd.halted || !nd.chars.ResetHandlerEx)
		return ND_STATUS_FAILURE;
	pthread_mutex_lock(&nd.mu);
	nd_rst.pending = true;
	nd_rst.done = false;
	pthread_mutex_unlock(&nd.mu);
	old = vh_irql();
	vh_set_irql(DISPATCH_LEVEL);
	st = ((reset_fn *)nd.chars.ResetHandlerEx)(nd.ctx, &addressing);
	if (vh_irql() != DISPATCH_LEVEL)
		vh_fatal("MiniportResetEx returned at IRQL %u", vh_irql());
	vh_set_irql(old);
	if (addressing > 1)
		vh_fatal("MiniportResetEx did not set AddressingReset");
	if (st != ND_STATUS_PENDING) {
		pthread_mutex_lock(&nd.mu);
		if (nd_rst.done)
			vh_fatal("MiniportResetEx returned %#x but also called NdisMResetComplete", st);
		nd_rst.pending = false;
		pthread_mutex_unlock(&nd.mu);
		return st;
	}
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&nd.mu);
	while (!nd_rst.done)
		if (pthread_cond_timedwait(&nd.cv, &nd.mu, &ts))
			break;
	st = nd_rst.done ? nd_rst.status : ND_STATUS_FAILURE;
	if (!nd_rst.done)
		vh_log("MiniportResetEx pending: no NdisMResetComplete within %u ms", timeout_ms);
	pthread_mutex_unlock(&nd.mu);
	return st;
}

/* A stalled device as the miniport sees it: its DPCs never run (lost
 * interrupts), so nothing it sent completes. */
static bool nd_dpc_hold;

static bool nd_dpcs_held(void)
{
	return __atomic_load_n(&nd_dpc_hold, __ATOMIC_ACQUIRE);
}

void nd_hold_dpcs(bool hold)
{
	__atomic_store_n(&nd_dpc_hold, hold, __ATOMIC_RELEASE);
	vh_log("ndis: DPCs %s", hold ? "held back (stall)" : "running again");
}

unsigned nd_reset_completions(void)
{
	unsigned n;

	pthread_mutex_lock(&nd.mu);
	n = nd_rst.completions;
	pthread_mutex_unlock(&nd.mu);
	return n;
}

/* ------------------------------------------------------------ end of hang check and reset */

#define ND(name) { "ndis.sys", #name, (void *)nd_##name }

const struct nt_export nd_exports[] = {
	ND(NdisMRegisterMiniportDriver),
	ND(NdisMDeregisterMiniportDriver),
	ND(NdisMSetMiniportAttributes),
	ND(NdisOpenConfigurationEx),
	ND(NdisCloseConfiguration),
	ND(NdisReadConfiguration),
	ND(NdisReadNetworkAddress),
	ND(NdisAllocateMemoryWithTagPriority),
	ND(NdisFreeMemoryWithTagPriority),
	ND(NdisFreeMemory),
	ND(NdisAllocateMdl),
	ND(NdisFreeMdl),
	ND(NdisMAllocateSharedMemory),
	ND(NdisMFreeSharedMemory),
	ND(NdisAllocateSpinLock),
	ND(NdisFreeSpinLock),
	ND(NdisAcquireSpinLock),
	ND(NdisReleaseSpinLock),
	ND(NdisDprAcquireSpinLock),
	ND(NdisDprReleaseSpinLock),
	ND(NdisMGetBusData),
	ND(NdisMSetBusData),
	ND(NdisMMapIoSpace),
	ND(NdisMUnmapIoSpace),
	ND(NdisMRegisterIoPortRange),
	ND(NdisMDeregisterIoPortRange),
	ND(NdisMRegisterInterruptEx),
	ND(NdisMDeregisterInterruptEx),
	ND(NdisMSynchronizeWithInterruptEx),
	ND(NdisMQueueDpcEx),
	ND(NdisMRegisterScatterGatherDma),
	ND(NdisMDeregisterScatterGatherDma),
	ND(NdisMAllocateNetBufferSGList),
	ND(NdisMFreeNetBufferSGList),
	ND(NdisAllocateNetBufferListPool),
	ND(NdisFreeNetBufferListPool),
	ND(NdisAllocateNetBufferAndNetBufferList),
	ND(NdisFreeNetBufferList),
	ND(NdisGetDataBuffer),
	ND(NdisMSendNetBufferListsComplete),
	ND(NdisMIndicateReceiveNetBufferLists),
	ND(NdisMIndicateStatusEx),
	ND(NdisMOidRequestComplete),
	ND(NdisMPauseComplete),
	ND(NdisMRestartComplete),
	ND(NdisMResetComplete),
	ND(NdisAllocateTimerObject),
	ND(NdisSetTimerObject),
	ND(NdisCancelTimerObject),
	ND(NdisFreeTimerObject),
	ND(NdisAllocateIoWorkItem),
	ND(NdisQueueIoWorkItem),
	ND(NdisFreeIoWorkItem),
	ND(NdisMSleep),
	ND(NdisGetSystemUpTimeEx),
	ND(NdisGetSharedDataAlignment),
	{ NULL, NULL, NULL },
};
