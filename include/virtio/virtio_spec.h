/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: transport-independent and PCI wire formats (virtio 1.2
 * sections 2 and 4.1): status bits, reserved feature bits, split and
 * packed ring layouts, PCI capabilities, modern common configuration and
 * the legacy I/O header. Only the core touches most of this; drivers use
 * the feature-bit and device-id constants.
 */
#ifndef OPENVDP_VIRTIO_SPEC_H
#define OPENVDP_VIRTIO_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"

/* Device status (2.1). */
#define VIRTIO_STATUS_RESET              0x00
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* Reserved (transport) feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY         24  /* legacy only */
#define VIRTIO_F_ANY_LAYOUT              27  /* legacy only; implied by VERSION_1 */
#define VIRTIO_F_INDIRECT_DESC           28
#define VIRTIO_F_EVENT_IDX               29
#define VIRTIO_F_VERSION_1               32
#define VIRTIO_F_ACCESS_PLATFORM         33
#define VIRTIO_F_RING_PACKED             34
#define VIRTIO_F_IN_ORDER                35
#define VIRTIO_F_ORDER_PLATFORM          36
#define VIRTIO_F_SR_IOV                  37
#define VIRTIO_F_NOTIFICATION_DATA       38
#define VIRTIO_F_NOTIF_CONFIG_DATA       39
#define VIRTIO_F_RING_RESET              40

#define VIRTIO_BIT(n)                    (1ull << (n))

/* Device ids (5) and PCI ids (4.1.2). */
#define VIRTIO_ID_NET                    1
#define VIRTIO_ID_BLOCK                  2
#define VIRTIO_ID_CONSOLE                3
#define VIRTIO_ID_RNG                    4
#define VIRTIO_ID_BALLOON                5
#define VIRTIO_ID_SCSI                   8
#define VIRTIO_ID_9P                     9
#define VIRTIO_ID_INPUT                  18
#define VIRTIO_ID_VSOCK                  19
#define VIRTIO_ID_FS                     26

#define VIRTIO_PCI_VENDOR_ID             0x1af4
#define VIRTIO_PCI_DEVICE_ID_MODERN_BASE 0x1040  /* + virtio device id */
#define VIRTIO_PCI_DEVICE_ID_LEGACY_MIN  0x1000  /* transitional range */
#define VIRTIO_PCI_DEVICE_ID_LEGACY_MAX  0x103f
#define VIRTIO_PCI_DEVICE_ID_TRANS_NET     0x1000
#define VIRTIO_PCI_DEVICE_ID_TRANS_BLOCK   0x1001
#define VIRTIO_PCI_DEVICE_ID_TRANS_BALLOON 0x1002
#define VIRTIO_PCI_DEVICE_ID_TRANS_CONSOLE 0x1003
#define VIRTIO_PCI_DEVICE_ID_TRANS_SCSI    0x1004
#define VIRTIO_PCI_DEVICE_ID_TRANS_RNG     0x1005
#define VIRTIO_PCI_DEVICE_ID_TRANS_9P      0x1009

/* ------------------------------------------------------------------ */
/* Split virtqueue (2.7).                                             */

#define VIRTQ_DESC_F_NEXT                1
#define VIRTQ_DESC_F_WRITE               2
#define VIRTQ_DESC_F_INDIRECT            4
#define VIRTQ_AVAIL_F_NO_INTERRUPT       1
#define VIRTQ_USED_F_NO_NOTIFY           1

#define VIRTQ_SPLIT_MAX_SIZE             32768u
#define VIRTQ_DESC_ALIGN                 16u
#define VIRTQ_AVAIL_ALIGN                2u
#define VIRTQ_USED_ALIGN                 4u
#define VIRTQ_LEGACY_ALIGN               4096u   /* legacy used-ring alignment */
#define VIRTIO_LEGACY_PFN_SHIFT          12

struct virtq_desc {
	le64 addr;
	le32 len;
	le16 flags;
	le16 next;
};

/* Followed by le16 ring[num] and le16 used_event (EVENT_IDX). */
struct virtq_avail {
	le16 flags;
	le16 idx;
	le16 ring[];
};

struct virtq_used_elem {
	le32 id;                     /* head index of the completed chain */
	le32 len;                    /* bytes written into device-writable buffers */
};

/* Followed by used_elem ring[num] and le16 avail_event (EVENT_IDX). */
struct virtq_used {
	le16 flags;
	le16 idx;
	struct virtq_used_elem ring[];
};

/* ------------------------------------------------------------------ */
/* Packed virtqueue (2.8).                                            */

#define VIRTQ_PACKED_DESC_F_AVAIL        (1u << 7)
#define VIRTQ_PACKED_DESC_F_USED         (1u << 15)
#define VIRTQ_PACKED_MAX_SIZE            32768u
#define VIRTQ_PACKED_DESC_ALIGN          16u
#define VIRTQ_PACKED_EVENT_ALIGN         4u

/* Event suppression flags (struct virtq_packed_event.flags). */
#define VIRTQ_PACKED_EVENT_F_ENABLE      0x0
#define VIRTQ_PACKED_EVENT_F_DISABLE     0x1
#define VIRTQ_PACKED_EVENT_F_DESC        0x2   /* only with EVENT_IDX */
#define VIRTQ_PACKED_EVENT_WRAP_SHIFT    15

struct virtq_packed_desc {
	le64 addr;
	le32 len;
	le16 id;
	le16 flags;
};

struct virtq_packed_event {
	le16 off_wrap;               /* bits 0..14 descriptor offset, bit 15 wrap counter */
	le16 flags;
};

/* ------------------------------------------------------------------ */
/* PCI transport (4.1).                                               */

#define VIRTIO_PCI_CAP_COMMON_CFG        1
#define VIRTIO_PCI_CAP_NOTIFY_CFG        2
#define VIRTIO_PCI_CAP_ISR_CFG           3
#define VIRTIO_PCI_CAP_DEVICE_CFG        4
#define VIRTIO_PCI_CAP_PCI_CFG           5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_PCI_CAP_VENDOR_CFG        9

#define VIRTIO_PCI_ISR_QUEUE             0x1
#define VIRTIO_PCI_ISR_CONFIG            0x2
#define VIRTIO_MSI_NO_VECTOR             0xffff

/* Generic PCI config-space facts the capability walk needs. */
#define PCI_CFG_VENDOR_ID                0x00
#define PCI_CFG_DEVICE_ID                0x02
#define PCI_CFG_STATUS                   0x06
#define PCI_CFG_REVISION_ID              0x08
#define PCI_CFG_SUBSYSTEM_ID             0x2e
#define PCI_CFG_CAP_PTR                  0x34
#define PCI_STATUS_CAP_LIST              0x10
#define PCI_CAP_ID_MSIX                  0x11
#define PCI_CAP_ID_VNDR                  0x09
#define PCI_MSIX_FLAGS_ENABLE            0x8000   /* in message control */
#define PCI_STD_NUM_BARS                 6

struct virtio_pci_cap {
	uint8_t cap_vndr;            /* PCI_CAP_ID_VNDR */
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;            /* VIRTIO_PCI_CAP_* */
	uint8_t bar;                 /* 0..5 */
	uint8_t id;                  /* distinguishes multiple caps of one type */
	uint8_t padding[2];
	le32 offset;                 /* within the BAR */
	le32 length;
};

struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	le32 notify_off_multiplier;  /* queue notify address = offset + queue_notify_off * this */
};

struct virtio_pci_cfg_cap {
	struct virtio_pci_cap cap;
	uint8_t pci_cfg_data[4];
};

/*
 * Modern common configuration. virtio 1.2 appends le16 queue_notify_data at
 * 0x38 and le16 queue_reset at 0x3a directly behind the 1.0 layout (0x38
 * bytes; queue_device ends at 0x37), so they are NOT at 0x3a/0x3c. The
 * structure below stops at the 1.0 part on purpose: the core offers neither
 * NOTIFICATION_DATA nor RING_RESET, and it accepts a 1.0 device whose
 * common capability is only 0x38 bytes long.
 */
struct virtio_pci_common_cfg {
	le32 device_feature_select;
	le32 device_feature;
	le32 driver_feature_select;
	le32 driver_feature;
	le16 config_msix_vector;
	le16 num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	le16 queue_select;
	le16 queue_size;
	le16 queue_msix_vector;
	le16 queue_enable;
	le16 queue_notify_off;
	le64 queue_desc;
	le64 queue_driver;
	le64 queue_device;
};
#define VIRTIO_PCI_COMMON_CFG_MIN_LEN    0x38u
#define VIRTIO_PCI_COMMON_Q_NOTIFY_DATA  0x38u   /* virtio 1.2 */
#define VIRTIO_PCI_COMMON_Q_RESET        0x3au   /* virtio 1.2 */

/* Legacy / transitional I/O layout in BAR0 (4.1.4.8). */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES  0x00   /* le32, bits 0..31 only */
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES 0x04
#define VIRTIO_PCI_LEGACY_QUEUE_PFN      0x08   /* le32, address >> 12 */
#define VIRTIO_PCI_LEGACY_QUEUE_NUM      0x0c   /* le16, read-only */
#define VIRTIO_PCI_LEGACY_QUEUE_SEL      0x0e
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY   0x10
#define VIRTIO_PCI_LEGACY_STATUS         0x12   /* u8 */
#define VIRTIO_PCI_LEGACY_ISR            0x13   /* u8, read clears */
#define VIRTIO_PCI_LEGACY_CONFIG_VECTOR  0x14   /* only with MSI-X enabled */
#define VIRTIO_PCI_LEGACY_QUEUE_VECTOR   0x16
#define VIRTIO_PCI_LEGACY_CONFIG_NOMSIX  0x14   /* device config without MSI-X */
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX    0x18   /* device config with MSI-X */

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc");
_Static_assert(offsetof(struct virtq_desc, len) == 8, "virtq_desc");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc");
_Static_assert(offsetof(struct virtq_desc, next) == 14, "virtq_desc");
_Static_assert(sizeof(struct virtq_avail) == 4, "virtq_avail");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "virtq_avail");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem");
_Static_assert(sizeof(struct virtq_used) == 4, "virtq_used");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "virtq_used");
_Static_assert(sizeof(struct virtq_packed_desc) == 16, "packed desc");
_Static_assert(offsetof(struct virtq_packed_desc, id) == 12, "packed desc");
_Static_assert(offsetof(struct virtq_packed_desc, flags) == 14, "packed desc");
_Static_assert(sizeof(struct virtq_packed_event) == 4, "packed event");
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap");
_Static_assert(offsetof(struct virtio_pci_cap, offset) == 8, "virtio_pci_cap");
_Static_assert(offsetof(struct virtio_pci_cap, length) == 12, "virtio_pci_cap");
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "notify cap");
_Static_assert(sizeof(struct virtio_pci_cfg_cap) == 20, "pci cfg cap");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_feature) == 0x04, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, driver_feature_select) == 0x08, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, driver_feature) == 0x0c, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_msix_vector) == 0x10, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, num_queues) == 0x12, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 0x14, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_generation) == 0x15, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_size) == 0x18, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_msix_vector) == 0x1a, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_enable) == 0x1c, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_off) == 0x1e, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 0x20, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_driver) == 0x28, "common");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_device) == 0x30, "common");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == VIRTIO_PCI_COMMON_CFG_MIN_LEN, "common size");

#endif /* OPENVDP_VIRTIO_SPEC_H */
