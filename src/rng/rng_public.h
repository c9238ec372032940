/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdprng user-mode interface. Open the device interface
 * GUID_DEVINTERFACE_VDPRNG {8b9a2f3c-5d71-4e0a-a6c4-1f2d3e4b5c6d} (found
 * with SetupDiGetClassDevs(DIGCF_DEVICEINTERFACE)) and ReadFile() it: each
 * read returns 1..4096 random bytes from the host (short reads are normal;
 * loop for more). Access: SYSTEM and administrators only (INF Security).
 * Zero-length reads succeed at once; a device that stops producing entropy
 * fails pending reads with ERROR_IO_DEVICE.
 */
#ifndef OPENVDP_RNG_PUBLIC_H
#define OPENVDP_RNG_PUBLIC_H

#define VDPRNG_INTERFACE_GUID_INIT \
	{ 0x8b9a2f3c, 0x5d71, 0x4e0a, { 0xa6, 0xc4, 0x1f, 0x2d, 0x3e, 0x4b, 0x5c, 0x6d } }

#endif /* OPENVDP_RNG_PUBLIC_H */
