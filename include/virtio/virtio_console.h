/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: console wire format (virtio 1.2 5.3).
 * Queues: 0 receiveq(port 0), 1 transmitq(port 0); with MULTIPORT also
 * 2 control receiveq, 3 control transmitq, then 4 + 2n / 5 + 2n per port n >= 1.
 */
#ifndef OPENVDP_VIRTIO_CONSOLE_H
#define OPENVDP_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_types.h"

#define VIRTIO_CONSOLE_F_SIZE            0
#define VIRTIO_CONSOLE_F_MULTIPORT       1
#define VIRTIO_CONSOLE_F_EMERG_WRITE     2

struct virtio_console_config {
	le16 cols;
	le16 rows;
	le32 max_nr_ports;
	le32 emerg_wr;
};

struct virtio_console_control {
	le32 id;                     /* port number */
	le16 event;                  /* VIRTIO_CONSOLE_* below */
	le16 value;
};

#define VIRTIO_CONSOLE_DEVICE_READY      0
#define VIRTIO_CONSOLE_DEVICE_ADD        1
#define VIRTIO_CONSOLE_DEVICE_REMOVE     2
#define VIRTIO_CONSOLE_PORT_READY        3
#define VIRTIO_CONSOLE_CONSOLE_PORT      4
#define VIRTIO_CONSOLE_RESIZE            5
#define VIRTIO_CONSOLE_PORT_OPEN         6
#define VIRTIO_CONSOLE_PORT_NAME         7

_Static_assert(sizeof(struct virtio_console_config) == 12, "console cfg");
_Static_assert(offsetof(struct virtio_console_config, max_nr_ports) == 4, "console cfg");
_Static_assert(sizeof(struct virtio_console_control) == 8, "console control");

#endif /* OPENVDP_VIRTIO_CONSOLE_H */
