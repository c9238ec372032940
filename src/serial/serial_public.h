/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpserial user-mode interface. Every virtio-console port is a child
 * device (hardware id <service>\Port, the service name from the brand; instance id = port number) exposing
 * the device interface GUID_DEVINTERFACE_VDPSERIAL_PORT
 * {6e0b3f5a-2c41-4d8e-9f17-3a5c7e9b1d24}; when the host named the port
 * (PORT_NAME, e.g. org.qemu.guest_agent.0) the name is the interface's
 * reference string, so the interface path ends in "\<name>". Open it with
 * CreateFile and use ReadFile/WriteFile: a read returns what the host sent
 * (1..4096 bytes, waits until there is data), a write sends up to 4096
 * bytes per call (short writes are normal). Only SYSTEM and administrators
 * may open a port. Opening sends PORT_OPEN(1) to the host, the last close
 * PORT_OPEN(0). I/O on a port the host removed fails with
 * ERROR_DEVICE_NOT_CONNECTED.
 */
#ifndef OPENVDP_SERIAL_PUBLIC_H
#define OPENVDP_SERIAL_PUBLIC_H

#define VDPSERIAL_PORT_INTERFACE_GUID_INIT \
	{ 0x6e0b3f5a, 0x2c41, 0x4d8e, { 0x9f, 0x17, 0x3a, 0x5c, 0x7e, 0x9b, 0x1d, 0x24 } }

#endif /* OPENVDP_SERIAL_PUBLIC_H */
