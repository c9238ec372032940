/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdppanic portable logic: which pvpanic event to report at a bug check.
 * The pvpanic register (QEMU ISA device at an I/O port, ACPI id QEMU0001,
 * or BAR 0 of PCI 1B36:0011) reads as the set of events the host
 * supports; writing one bit reports that event.
 */
#ifndef OPENVDP_PVPANIC_LOGIC_H
#define OPENVDP_PVPANIC_LOGIC_H

#include <stdbool.h>
#include <stdint.h>

#define PVPANIC_PANICKED      0x01u  /* guest panicked: host should act */
#define PVPANIC_CRASH_LOADED  0x02u  /* guest panicked and handles it itself (dump) */
#define PVPANIC_SHUTDOWN      0x04u  /* guest shut down normally */
#define PVPANIC_KNOWN         0x07u

/*
 * A plausible supported-events value: at least one bit, no bit this driver
 * does not know (an unclaimed ISA port floats to 0xff).
 */
bool pvpanic_supported_valid(uint8_t supported);

/*
 * Event for a bug check. With crash dumps enabled Windows writes the dump
 * and reboots by itself, so CRASH_LOADED (host records, guest keeps
 * running) is preferred; otherwise, or when the host lacks it, PANICKED.
 * 0: nothing supported, write nothing.
 */
uint8_t pvpanic_select(uint8_t supported, bool crash_dump_enabled);

/* Event for an orderly shutdown: PVPANIC_SHUTDOWN if supported, else 0. */
uint8_t pvpanic_shutdown_event(uint8_t supported);

#endif /* OPENVDP_PVPANIC_LOGIC_H */
