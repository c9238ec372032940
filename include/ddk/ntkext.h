/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP DDK supplement for WDM drivers: kernel declarations mingw-w64's
 * wdm.h/ntddk.h lack. Exports that mingw's libntoskrnl.a lacks come from
 * include/lib/ntosext-<arch>.def (link with `ntosext`).
 */
#ifndef OPENVDP_NTKEXT_H
#define OPENVDP_NTKEXT_H

#include <ntddk.h>
#include <stddef.h>

/* Windows 10: MmMapIoSpace with an explicit page protection (PAGE_NOCACHE...). */
NTKERNELAPI PVOID NTAPI MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress,
				       SIZE_T NumberOfBytes, ULONG Protect);

/*
 * Undocumented in the WDK headers but exported and stable: vdpballoon reads
 * classes 0 (SystemBasicInformation) and 2 (SystemPerformanceInformation)
 * as raw buffers and validates them (src/balloon/balloon_logic.c).
 */
NTSYSAPI NTSTATUS NTAPI ZwQuerySystemInformation(ULONG SystemInformationClass,
						 PVOID SystemInformation,
						 ULONG SystemInformationLength,
						 PULONG ReturnLength);
#define NTKEXT_SYSTEM_BASIC_INFORMATION        0
#define NTKEXT_SYSTEM_PERFORMANCE_INFORMATION  2

/* ntifs.h only (which cannot be mixed with ntddk.h): is the token an administrator's? */
NTKERNELAPI BOOLEAN NTAPI SeTokenIsAdmin(PACCESS_TOKEN Token);

/* Structures the drivers hand to Windows, checked against the documented layout. */
/*
 * DEVICE_DESCRIPTION is used as DEVICE_DESCRIPTION_VERSION2 (mingw lacks the
 * version 3 tail), hence 40 bytes on both architectures.
 */
#ifdef _WIN64
_Static_assert(sizeof(IO_CONNECT_INTERRUPT_PARAMETERS) == 80, "IO_CONNECT_INTERRUPT_PARAMETERS");
_Static_assert(offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, MessageBased.MessageServiceRoutine) == 24, "connect params");
_Static_assert(offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, FullySpecified.Group) == 72, "connect params");
_Static_assert(sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY) == 48, "IO_INTERRUPT_MESSAGE_INFO_ENTRY");
_Static_assert(offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageInfo) == 8, "IO_INTERRUPT_MESSAGE_INFO");
_Static_assert(sizeof(IO_CSQ) == 64, "IO_CSQ");
_Static_assert(sizeof(KBUGCHECK_CALLBACK_RECORD) == 64, "KBUGCHECK_CALLBACK_RECORD");
_Static_assert(sizeof(BUS_INTERFACE_STANDARD) == 64, "BUS_INTERFACE_STANDARD");
_Static_assert(offsetof(BUS_INTERFACE_STANDARD, GetBusData) == 56, "BUS_INTERFACE_STANDARD");
_Static_assert(offsetof(ACCESS_STATE, SubjectSecurityContext) == 32, "ACCESS_STATE");
_Static_assert(offsetof(SECURITY_SUBJECT_CONTEXT, PrimaryToken) == 16, "SECURITY_SUBJECT_CONTEXT");
_Static_assert(offsetof(IO_SECURITY_CONTEXT, AccessState) == 8, "IO_SECURITY_CONTEXT");
_Static_assert(offsetof(DEVICE_RELATIONS, Objects) == 8, "DEVICE_RELATIONS");
#else
_Static_assert(sizeof(IO_CONNECT_INTERRUPT_PARAMETERS) == 48, "IO_CONNECT_INTERRUPT_PARAMETERS");
_Static_assert(offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, MessageBased.MessageServiceRoutine) == 12, "connect params");
_Static_assert(offsetof(IO_CONNECT_INTERRUPT_PARAMETERS, FullySpecified.Group) == 44, "connect params");
_Static_assert(sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY) == 40, "IO_INTERRUPT_MESSAGE_INFO_ENTRY");
_Static_assert(offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageInfo) == 8, "IO_INTERRUPT_MESSAGE_INFO");
_Static_assert(sizeof(IO_CSQ) == 32, "IO_CSQ");
_Static_assert(sizeof(KBUGCHECK_CALLBACK_RECORD) == 32, "KBUGCHECK_CALLBACK_RECORD");
_Static_assert(sizeof(BUS_INTERFACE_STANDARD) == 32, "BUS_INTERFACE_STANDARD");
_Static_assert(offsetof(BUS_INTERFACE_STANDARD, GetBusData) == 28, "BUS_INTERFACE_STANDARD");
_Static_assert(offsetof(ACCESS_STATE, SubjectSecurityContext) == 28, "ACCESS_STATE");
_Static_assert(offsetof(SECURITY_SUBJECT_CONTEXT, PrimaryToken) == 8, "SECURITY_SUBJECT_CONTEXT");
_Static_assert(offsetof(IO_SECURITY_CONTEXT, AccessState) == 4, "IO_SECURITY_CONTEXT");
_Static_assert(offsetof(DEVICE_RELATIONS, Objects) == 4, "DEVICE_RELATIONS");
#endif
_Static_assert(sizeof(DEVICE_DESCRIPTION) == 40, "DEVICE_DESCRIPTION");
_Static_assert(offsetof(DEVICE_DESCRIPTION, MaximumLength) == 32, "DEVICE_DESCRIPTION");
_Static_assert(sizeof(DEVICE_CAPABILITIES) == 64, "DEVICE_CAPABILITIES");
_Static_assert(offsetof(DEVICE_CAPABILITIES, Address) == 8, "DEVICE_CAPABILITIES");
_Static_assert(offsetof(DEVICE_CAPABILITIES, DeviceState) == 16, "DEVICE_CAPABILITIES");
_Static_assert(offsetof(KEY_VALUE_PARTIAL_INFORMATION, Data) == 12, "KEY_VALUE_PARTIAL_INFORMATION");

#endif /* OPENVDP_NTKEXT_H */
