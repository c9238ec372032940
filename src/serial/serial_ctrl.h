/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpserial portable logic: the virtio-console MULTIPORT control protocol
 * (virtio 1.2 5.3.6.2) and the port table the bus driver enumerates. No
 * Windows header; unit-tested on the host (tests/unit/test_serial_ctrl.c)
 * with malformed and hostile control messages.
 *
 * Every message from the device is checked (length, port number within
 * max_nr_ports, known event, event valid for the port's state, name
 * characters) before the table changes; a rejected message changes
 * nothing and is counted. The parser says what the glue must do next.
 */
#ifndef OPENVDP_SERIAL_CTRL_H
#define OPENVDP_SERIAL_CTRL_H

#include <stdbool.h>
#include <stdint.h>
#include "virtio/virtio_console.h"

/* Ports this driver supports: 2 queues each plus the 2 control queues. */
#define SER_MAX_PORTS      31u
#define SER_NAME_MAX       63u        /* bytes of a PORT_NAME kept */
#define SER_CTRL_MSG_LEN   8u
/* Largest control buffer posted to the device (header + name). */
#define SER_CTRL_BUF_LEN   (SER_CTRL_MSG_LEN + 248u)

struct ser_port {
	bool present;                 /* added by the device (DEVICE_ADD) */
	bool console;                 /* CONSOLE_PORT */
	bool host_open;               /* PORT_OPEN from the host */
	bool guest_open;              /* a handle is open in the guest */
	bool name_set;
	char name[SER_NAME_MAX + 1];  /* NUL-terminated, printable ASCII */
};

struct ser_bus {
	uint32_t nr_ports;            /* validated max_nr_ports */
	uint32_t rejected;            /* malformed or out-of-state messages */
	struct ser_port port[SER_MAX_PORTS];
};

enum ser_action {
	SER_ACT_NONE,                 /* nothing for the glue (or message rejected) */
	SER_ACT_ADD,                  /* set up the port's queues, send PORT_READY, rescan the bus */
	SER_ACT_REMOVE,               /* fail its I/O, tear down its queues, rescan the bus */
	SER_ACT_CONSOLE,              /* send PORT_OPEN(1) for the console port */
	SER_ACT_OPEN,                 /* host side opened or closed: wake readers */
	SER_ACT_NAME,                 /* name known: publish it */
	SER_ACT_RESIZE,               /* console size changed (informational) */
};

#define SER_OK          0
#define SER_EINVAL    (-1)

/*
 * Validate max_nr_ports from the device configuration. 0 is invalid with
 * MULTIPORT; more than SER_MAX_PORTS is capped (the extra ports are then
 * never accepted). Without MULTIPORT there is exactly port 0.
 */
int ser_bus_init(struct ser_bus *bus, bool multiport, uint32_t max_nr_ports);
/* Queue numbers of port n (see virtio_console.h). */
uint16_t ser_rxq(uint32_t port);
uint16_t ser_txq(uint32_t port);
/* Number of virtqueues to set up. */
uint16_t ser_num_queues(const struct ser_bus *bus, bool multiport);

/* Parse one control message of len bytes; *port receives its port number. */
enum ser_action ser_ctrl_parse(struct ser_bus *bus, const void *msg, uint32_t len, uint32_t *port);

/* Encode a driver-to-device control message (DEVICE_READY, PORT_READY, PORT_OPEN). */
void ser_ctrl_build(void *out, uint32_t port, uint16_t event, uint16_t value);

/* Guest side open/close; returns true if PORT_OPEN must be sent. */
bool ser_guest_open(struct ser_bus *bus, uint32_t port, bool open);

/* PnP instance id of a port ("<n>", decimal), for IRP_MN_QUERY_ID. */
uint32_t ser_instance_id(uint32_t port, char *out, uint32_t size);

#endif /* OPENVDP_SERIAL_CTRL_H */
