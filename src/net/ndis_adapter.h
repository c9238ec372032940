/*
 * vdpnet private: the adapter context shared by the NDIS glue files. Kernel-only.
 *
 * Locking: each virtqueue has its own NDIS spin lock (the virtio core requires callers to
 * serialise per queue). The control queue lock is only taken at PASSIVE_LEVEL by OID and
 * power handlers. Flags read on the data path (paused, removed, hw_running) are plain
 * volatile LONGs changed with interlocked operations.
 */
#ifndef OPENVDP_NDIS_ADAPTER_H
#define OPENVDP_NDIS_ADAPTER_H

#include <ntddk.h>

#define NDIS_MINIPORT_DRIVER 1
#define NDIS630_MINIPORT 1
#include <ndis.h>

#include <virtio/virtio.h>
#include <virtio/virtio_net.h>

#include "ndis_offload.h"
#include "vnet_ctrl.h"
#include "vnet_health.h"
#include "vnet_oid.h"
#include "vnet_rss.h"
#include "vnet_rx.h"
#include "vnet_tx.h"

#define VNET_TAG 'tenV'            /* pool tag "Vnet" */
#define VNET_MAX_PAIRS 16u         /* *NumRssQueues maximum in the INF */
#define VNET_QUEUE_MAX 256u        /* ring entries used per data queue */
#define VNET_TX_INDIRECT 32u       /* segments per indirect table (header + 31 data) */
#define VNET_TX_HEAD_MAX 192u      /* frame bytes copied into the slot buffer (VLAN, IPv4 csum) */
#define VNET_TX_SG_MAX 64u         /* segments per frame; beyond VNET_TX_INDIRECT they go direct */
#define VNET_TX_SLOT_BYTES 256u    /* virtio header + copied head, per slot */
#define VNET_RX_BATCH 32u          /* NBLs per receive indication */
#define VNET_DEFAULT_MTU 1500u
#define VNET_MAX_MTU (65500u - VNET_ETH_HLEN)
#define VNET_DEFAULT_SPEED 10000000000ull
#define VNET_LINK_SPEED_UNKNOWN (~0ull)   /* NET_IF_LINK_SPEED_UNKNOWN, absent from mingw */

struct vnet_adapter;

struct vnet_dma {
	PVOID va;                      /* VIRTIO_RING_ALIGN aligned */
	NDIS_PHYSICAL_ADDRESS pa;
	ULONG len;
	PVOID orig_va;                 /* what NdisMAllocateSharedMemory returned */
	NDIS_PHYSICAL_ADDRESS orig_pa;
};

struct vnet_rxb {
	struct vnet_dma mem;           /* virtio header + frame */
	PMDL mdl;
	PNET_BUFFER_LIST nbl;
	struct vnet_rxq *q;
	BOOLEAN posted;                /* owned by the device */
	BOOLEAN indicated;             /* owned by NDIS */
	BOOLEAN spare;                 /* never posted: coalesced frames or their segments */
	struct vnet_rxb *next_free;    /* spare buffers: free list link */
};

/* Buffers outside the ring, for receive segment coalescing: whole coalesced frames (up to
 * 64 KiB, gathered from a mergeable chain) and the segments cut from one when RSC is off. */
struct vnet_rxpool {
	struct vnet_rxb *bufs;
	ULONG n;
	ULONG nfree;
	struct vnet_rxb *free;
};
#define VNET_RSC_BIG_BUFS 16u       /* coalesced frames per queue held by NDIS at once */
#define VNET_RSC_SEG_BUFS 64u       /* segments per queue held by NDIS at once */

struct vnet_rxq {
	NDIS_SPIN_LOCK lock;            /* also held across vq_notify: stop/start rebuild vq */
	struct vnet_adapter *a;
	struct virtq *vq;
	struct vnet_dma ring;
	PVOID state;
	ULONG state_len;
	uint16_t index;                /* virtqueue number */
	uint16_t size;
	uint16_t msix;
	struct vnet_rxb *bufs;
	ULONG nbufs;
	struct vnet_dma *chunks;       /* receive buffer memory, several buffers per chunk */
	ULONG nchunks;
	LONG posted;                   /* buffers currently owned by the device */
	struct vnet_rx_buf *chain;     /* scratch for one mergeable packet (nbufs entries) */
	struct vnet_rxb **chain_bufs;
	struct vnet_rxgate gate;       /* indications vs. Pause, under lock */
	struct vnet_rxpool big;        /* RSC: under lock */
	struct vnet_rxpool seg;
	BOOLEAN broken;                /* the device returned something impossible */
};

struct vnet_txs {
	struct vnet_txq *q;
	struct vnet_txs *next;
	PNET_BUFFER_LIST nbl;
	PNET_BUFFER nb;
	PSCATTER_GATHER_LIST sgl;
	PUCHAR hdr_va;                 /* slot buffer: virtio header, then the copied frame head */
	uint64_t hdr_pa;
	ULONG hdr_bytes;               /* bytes of the slot buffer to send */
	ULONG nb_skip;                 /* bytes at the start of the NB replaced by the copy */
	NDIS_STATUS status;
	ULONG frame_len;
	ULONG lso_payload;             /* LSO: TCP payload bytes, for the completion info */
	UCHAR lso;                     /* 0 none, 1 LSOv1, 2 LSOv2 */
	UCHAR dst_kind;                /* 0 unicast, 1 multicast, 2 broadcast (statistics) */
	ULONG idx;                     /* in q->slots and q->states */
};

struct vnet_txq {
	NDIS_SPIN_LOCK lock;            /* also held across vq_notify: stop/start rebuild vq */
	struct vnet_adapter *a;
	struct virtq *vq;
	struct vnet_dma ring;
	PVOID state;
	ULONG state_len;
	uint16_t index;
	uint16_t size;
	uint16_t msix;
	struct vnet_dma slot_mem;
	struct vnet_txs *slots;
	ULONG nslots;
	struct vnet_txs *free_slots;
	struct vnet_txs *ready_head, *ready_tail;   /* mapped, waiting for ring space */
	PNET_BUFFER_LIST pend_head, pend_tail;      /* accepted, not yet mapped */
	PNET_BUFFER pend_nb;                        /* next NB of pend_head */
	LONG in_flight;                             /* slots not free */
	uint8_t *states;                            /* enum vnet_txslot_state per slot, under lock */
	uint32_t *reclaim;                          /* scratch: slot indices taken back on reset */
	uint64_t done;                              /* slots completed so far (hang watch) */
	struct vnet_txwatch watch;
	BOOLEAN broken;                             /* the device returned something impossible */
	struct vq_sg sg[VNET_TX_SG_MAX];
};

typedef volatile LONG64 vnet_counter __attribute__((aligned(8)));

/* 64-bit statistics counters updated from several processors. On x86 -mgeneral-regs-only makes
 * gcc call libatomic for 8-byte atomics, which a driver cannot link: use cmpxchg8b directly. */
static inline void vnet_stat_add(vnet_counter *p, LONG64 v)
{
#ifdef _WIN64
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#else
	LONG64 old = *p, want;
	unsigned char ok;

	do {
		want = old + v;
		__asm__ __volatile__("lock cmpxchg8b %1\n\tsete %0"
							 : "=q"(ok), "+m"(*p), "+A"(old)
							 : "b"((ULONG)want), "c"((ULONG)((ULONGLONG)want >> 32))
							 : "memory", "cc");
	} while (!ok);
#endif
}
struct vnet_stats {
	vnet_counter tx_ok, tx_err, tx_bytes, tx_ucast, tx_mcast, tx_bcast;
	vnet_counter rx_ok, rx_err, rx_drop, rx_nobuf, rx_bytes, rx_ucast, rx_mcast, rx_bcast;
	vnet_counter rsc_segs, rsc_bytes, rsc_units, rsc_aborts; /* OID_TCP_RSC_STATISTICS */
};

/*
 * Receive steering ("Indicating RSS Receive Data"): frames whose indirection-table processor is
 * not the one running the receive DPC wait here, in arrival order, until a DPC queued on that
 * processor with NdisMQueueDpcEx indicates them. They already passed their queue's gate, so
 * Pause waits for them; the ring buffers themselves bound the memory.
 */
#define VNET_STEER_CPUS 64u
#define VNET_STEER_CTX ((PVOID)(ULONG_PTR)0x5354) /* MiniportDpcContext of steering DPCs */
#define VNET_RSS_NO_CPU 0xFFu

struct vnet_steer {
	NDIS_SPIN_LOCK lock;
	PNET_BUFFER_LIST head, tail;
};

struct vnet_adapter {
	NDIS_HANDLE handle;            /* MiniportAdapterHandle */
	NDIS_HANDLE dma;
	NDIS_HANDLE intr;
	NDIS_HANDLE nbl_pool;
	PIO_INTERRUPT_MESSAGE_INFO msg_info;
	BOOLEAN msix;
	ULONG msg_count;

	/* PCI resources */
	struct {
		PVOID va;
		PHYSICAL_ADDRESS pa;
		ULONG len;
		BOOLEAN io;
		BOOLEAN mapped;
		ULONG port;                /* I/O: first port */
	} bar[6];

	struct virtio_dev vdev;
	uint64_t features;
	uint32_t hdr_len;
	struct vnet_rx_config rxcfg;
	uint16_t max_pairs;            /* device */
	uint16_t pairs;                /* in use */
	uint16_t config_msix;
	uint16_t ctrl_index;
	uint16_t ctrl_size;
	BOOLEAN split_hdr;             /* header and data in separate descriptors */

	struct vnet_rxq rxq[VNET_MAX_PAIRS];
	struct vnet_txq txq[VNET_MAX_PAIRS];

	/* control queue */
	NDIS_SPIN_LOCK ctrl_lock;
	struct virtq *ctrl_vq;
	struct vnet_dma ctrl_ring;
	PVOID ctrl_state;
	ULONG ctrl_state_len;
	struct vnet_dma ctrl_buf;
	BOOLEAN ctrl_broken;

	/* configuration */
	ULONG mtu;
	ULONG max_frame;               /* mtu + Ethernet header (no VLAN tag) */
	ULONG rx_buf_len;
	ULONG lookahead;
	BOOLEAN rss_enabled_cfg;       /* *RSS */
	ULONG rss_queues_cfg;          /* *NumRssQueues */
	struct vnet_offload_cfg offload;
	struct vnet_offload_cfg caps;
	BOOLEAN rsc_cfg4, rsc_cfg6;    /* *RscIPv4 / *RscIPv6: ask the device for GUEST_TSO4/6 */
	ULONG rsc_buf_len;             /* spare buffer for a whole coalesced frame (0: no RSC) */
	uint64_t guest_offloads;       /* what CTRL_GUEST_OFFLOADS last enabled */
	BOOLEAN vlan_sw;               /* 802.1Q tag insertion/stripping in software */
	ULONG vlan_id;                 /* OID_GEN_VLAN_ID, 0 = none */
	UCHAR perm_mac[6];
	UCHAR cur_mac[6];

	/* state */
	struct vnet_filter filter;
	struct vnet_rss_config rss;
	BOOLEAN rss_on;
	BOOLEAN dev_rss;               /* VIRTIO_NET_F_RSS negotiated and its limits usable */
	struct vnet_rss_limits rss_lim;
	ULONG rss_hash_info;           /* NDIS hash information as set */
	UCHAR rss_cpu[VNET_RSS_TABLE_MAX]; /* indirection table processors, under state_lock */
	ULONG rss_cpu_mask;            /* table length - 1 */
	ULONG steer_cpus;              /* processors that can be steered to (0: no steering) */
	struct vnet_steer steer[VNET_STEER_CPUS];
	NDIS_SPIN_LOCK state_lock;     /* filter/RSS updates vs. the receive path */
	BOOLEAN link_up;
	ULONG64 link_speed;
	volatile LONG isr_bits;        /* line interrupts: ISR bits for the DPC */
	volatile LONG hw_running;      /* queues set up and DRIVER_OK */
	volatile LONG paused;          /* pausing or paused: no indications, sends refused */
	volatile LONG removed;         /* surprise removal: never touch the device again */
	volatile LONG pause_pending;   /* Pause returned PENDING */
	volatile LONG resetting;       /* MiniportResetEx accepted, NdisMResetComplete not yet called */
	volatile LONG dead;            /* the last reset failed: sends fail, link reported down */
	volatile LONG stopping;        /* Halt: ISRs and DPCs must not touch the adapter any more */
	volatile LONG dpc_active;      /* DPCs running right now */
	NDIS_HANDLE reset_work;        /* NDIS I/O work item: the reset runs at PASSIVE_LEVEL */
	NDIS_DEVICE_POWER_STATE power;
	struct vnet_stats st;
};

/* ndis_virtio.c */
extern const struct virtio_os_ops vnet_os_ops;
NDIS_STATUS vnet_map_resources(struct vnet_adapter *a, PNDIS_RESOURCE_LIST res);
VOID vnet_unmap_resources(struct vnet_adapter *a);
NDIS_STATUS vnet_alloc_dma(struct vnet_adapter *a, ULONG len, struct vnet_dma *d);
VOID vnet_free_dma(struct vnet_adapter *a, struct vnet_dma *d);
PVOID vnet_alloc(struct vnet_adapter *a, ULONG len);
VOID vnet_free(struct vnet_adapter *a, PVOID p);
NDIS_STATUS vnet_status(int virtio_err);

/* Debugger output, prefixed with the (brandable) service name. */
#define VNET_LOG(level, fmt, ...) \
	DbgPrintEx(DPFLTR_IHVNETWORK_ID, level, VDP_BRAND_VDPNET_SERVICE ": " fmt, ##__VA_ARGS__)

#define VNET_DRIVER_MAJOR VDP_BRAND_VERSION_MAJOR
#define VNET_DRIVER_MINOR VDP_BRAND_VERSION_MINOR

/* ndis_adapter.c */
MINIPORT_INITIALIZE vnet_initialize;
MINIPORT_HALT vnet_halt;
MINIPORT_PAUSE vnet_pause;
MINIPORT_RESTART vnet_restart;
MINIPORT_DEVICE_PNP_EVENT_NOTIFY vnet_device_pnp_event;
MINIPORT_SHUTDOWN vnet_shutdown;
MINIPORT_CHECK_FOR_HANG vnet_check_for_hang;
MINIPORT_RESET vnet_reset;
NDIS_STATUS vnet_hw_start(struct vnet_adapter *a);
VOID vnet_hw_stop(struct vnet_adapter *a);
VOID vnet_hw_stop_status(struct vnet_adapter *a, NDIS_STATUS status);
BOOLEAN vnet_any_broken(struct vnet_adapter *a);
VOID vnet_check_pause_done(struct vnet_adapter *a);
uint16_t vnet_queue_for_cpu(struct vnet_adapter *a, ULONG group, ULONG cpu);
VOID vnet_indicate_link(struct vnet_adapter *a);
VOID vnet_indicate_offload(struct vnet_adapter *a);
VOID vnet_fill_offload(struct vnet_adapter *a, const struct vnet_offload_cfg *cfg, PNDIS_OFFLOAD o);
NDIS_STATUS vnet_ctrl_send(struct vnet_adapter *a, const struct vnet_ctrl_cmd *cmd);
VOID vnet_apply_guest_offloads(struct vnet_adapter *a);
NDIS_STATUS vnet_apply_filter(struct vnet_adapter *a);
VOID vnet_program_steering(struct vnet_adapter *a);

/* ndis_oid.c */
MINIPORT_OID_REQUEST vnet_oid_request;
MINIPORT_CANCEL_OID_REQUEST vnet_cancel_oid_request;
extern NDIS_OID vnet_supported_oids[];
extern ULONG vnet_supported_oids_len;
VOID vnet_oid_init(VOID);

/* ndis_tx.c */
MINIPORT_SEND_NET_BUFFER_LISTS vnet_send_nbls;
MINIPORT_CANCEL_SEND vnet_cancel_send;
MINIPORT_PROCESS_SG_LIST vnet_process_sg_list;
NDIS_STATUS vnet_txq_init(struct vnet_adapter *a, struct vnet_txq *q);
VOID vnet_txq_free(struct vnet_adapter *a, struct vnet_txq *q);
VOID vnet_txq_complete(struct vnet_txq *q);
VOID vnet_txq_abort(struct vnet_txq *q, NDIS_STATUS status, BOOLEAN in_ring_too);
BOOLEAN vnet_txq_hung(struct vnet_txq *q);
NDIS_STATUS vnet_send_refusal(struct vnet_adapter *a);

/* ndis_rx.c */
MINIPORT_RETURN_NET_BUFFER_LISTS vnet_return_nbls;
NDIS_STATUS vnet_rxq_init(struct vnet_adapter *a, struct vnet_rxq *q);
VOID vnet_rxq_free(struct vnet_adapter *a, struct vnet_rxq *q);
VOID vnet_rxq_fill(struct vnet_rxq *q);
VOID vnet_rxq_receive(struct vnet_rxq *q);
/* Steering DPC on the current processor: indicate what waits for it. */
VOID vnet_steer_drain(struct vnet_adapter *a);
VOID vnet_rxq_gate(struct vnet_rxq *q, BOOLEAN open);
BOOLEAN vnet_rxq_idle(struct vnet_rxq *q);

#endif /* OPENVDP_NDIS_ADAPTER_H */
