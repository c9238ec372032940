/* SPDX-License-Identifier: BSD-2-Clause */
/* vdpserial portable control-queue logic; see serial_ctrl.h. */
#include "serial_ctrl.h"

static void ser_zero_port(struct ser_port *p)
{
	uint32_t i;

	p->present = p->console = p->host_open = p->guest_open = p->name_set = false;
	for (i = 0; i < sizeof(p->name); i++)
		p->name[i] = 0;
}

int ser_bus_init(struct ser_bus *bus, bool multiport, uint32_t max_nr_ports)
{
	uint32_t i;

	for (i = 0; i < SER_MAX_PORTS; i++)
		ser_zero_port(&bus->port[i]);
	bus->rejected = 0;
	if (!multiport) {
		bus->nr_ports = 1;
		bus->port[0].present = true;   /* port 0 exists without any message */
		return SER_OK;
	}
	if (max_nr_ports == 0) {
		bus->nr_ports = 0;
		return SER_EINVAL;
	}
	bus->nr_ports = max_nr_ports > SER_MAX_PORTS ? SER_MAX_PORTS : max_nr_ports;
	return SER_OK;
}

uint16_t ser_rxq(uint32_t port)
{
	return (uint16_t)(port == 0 ? 0 : 2 + 2 * port);
}

uint16_t ser_txq(uint32_t port)
{
	return (uint16_t)(port == 0 ? 1 : 3 + 2 * port);
}

uint16_t ser_num_queues(const struct ser_bus *bus, bool multiport)
{
	if (!multiport || bus->nr_ports == 0)
		return 2;
	return (uint16_t)(2 + 2 * bus->nr_ports);
}

static uint32_t ser_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t ser_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static enum ser_action ser_reject(struct ser_bus *bus)
{
	bus->rejected++;
	return SER_ACT_NONE;
}

enum ser_action ser_ctrl_parse(struct ser_bus *bus, const void *msg, uint32_t len, uint32_t *port)
{
	const uint8_t *m = msg;
	struct ser_port *p;
	uint32_t id, i, n;
	uint16_t event, value;

	*port = 0;
	if (m == NULL || len < SER_CTRL_MSG_LEN || len > SER_CTRL_BUF_LEN)
		return ser_reject(bus);
	id = ser_get32(m);
	event = ser_get16(m + 4);
	value = ser_get16(m + 6);
	if (id >= bus->nr_ports)
		return ser_reject(bus);
	*port = id;
	p = &bus->port[id];
	/* Only PORT_NAME carries data after the header. */
	if (event != VIRTIO_CONSOLE_PORT_NAME && len != SER_CTRL_MSG_LEN)
		return ser_reject(bus);

	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_ADD:
		if (p->present)
			return ser_reject(bus);
		ser_zero_port(p);
		p->present = true;
		return SER_ACT_ADD;
	case VIRTIO_CONSOLE_DEVICE_REMOVE:
		if (!p->present)
			return ser_reject(bus);
		ser_zero_port(p);
		return SER_ACT_REMOVE;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		if (!p->present || value != 1)
			return ser_reject(bus);
		p->console = true;
		return SER_ACT_CONSOLE;
	case VIRTIO_CONSOLE_RESIZE:
		if (!p->present || !p->console)
			return ser_reject(bus);
		return SER_ACT_RESIZE;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (!p->present || value > 1)
			return ser_reject(bus);
		p->host_open = value == 1;
		return SER_ACT_OPEN;
	case VIRTIO_CONSOLE_PORT_NAME:
		n = len - SER_CTRL_MSG_LEN;
		if (!p->present || p->name_set || n == 0 || n > SER_NAME_MAX)
			return ser_reject(bus);
		/* Names become PnP strings and device names: printable ASCII only. */
		for (i = 0; i < n; i++) {
			uint8_t c = m[SER_CTRL_MSG_LEN + i];

			if (c == 0 && i + 1 == n && i > 0)
				break;          /* a trailing NUL is tolerated */
			if (c < 0x21 || c > 0x7e || c == '\\' || c == '/' || c == '"' || c == '%')
				return ser_reject(bus);
		}
		for (i = 0; i < n && m[SER_CTRL_MSG_LEN + i]; i++)
			p->name[i] = (char)m[SER_CTRL_MSG_LEN + i];
		p->name[i] = 0;
		p->name_set = true;
		return SER_ACT_NAME;
	default:
		/* DEVICE_READY and PORT_READY only go from driver to device. */
		return ser_reject(bus);
	}
}

void ser_ctrl_build(void *out, uint32_t port, uint16_t event, uint16_t value)
{
	uint8_t *o = out;

	o[0] = (uint8_t)port;
	o[1] = (uint8_t)(port >> 8);
	o[2] = (uint8_t)(port >> 16);
	o[3] = (uint8_t)(port >> 24);
	o[4] = (uint8_t)event;
	o[5] = (uint8_t)(event >> 8);
	o[6] = (uint8_t)value;
	o[7] = (uint8_t)(value >> 8);
}

bool ser_guest_open(struct ser_bus *bus, uint32_t port, bool open)
{
	struct ser_port *p;

	if (port >= bus->nr_ports)
		return false;
	p = &bus->port[port];
	if (!p->present || p->guest_open == open)
		return false;
	p->guest_open = open;
	return true;
}

uint32_t ser_instance_id(uint32_t port, char *out, uint32_t size)
{
	char tmp[11];
	uint32_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port && n < sizeof(tmp));
	if (size < n + 1)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}
