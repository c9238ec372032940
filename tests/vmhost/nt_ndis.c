/* NDIS.SYS emulation, first slice: miniport driver registration only, so
 * NDIS 6 miniports load and their DriverEntry runs. Adapter start
 * (MiniportInitializeEx, attributes, NBLs, OIDs) comes later.
 * Layout: NDIS_MINIPORT_DRIVER_CHARACTERISTICS, NDIS 6.x documentation. */
#include "vmhost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDIS_STATUS_SUCCESS             0x00000000u
#define NDIS_STATUS_FAILURE             0xC0000001u
#define NDIS_STATUS_BAD_VERSION         0xC0010004u
#define NDIS_STATUS_BAD_CHARACTERISTICS 0xC0010005u
#define NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS 0x8a

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
_Static_assert(offsetof(nd_miniport_chars, CancelOidRequestHandler) == 0x80, "...CancelOidRequestHandler");
_Static_assert(sizeof(nd_miniport_chars) == 0x98, "NDIS_MINIPORT_DRIVER_CHARACTERISTICS x64 size (rev 2)");

#define CHARS_REV1_SIZE offsetof(nd_miniport_chars, DirectOidRequestHandler)

static struct {
	bool registered;
	nd_miniport_chars chars;
	void *context;
	void *handle;
} nd;

typedef void NTAPI nd_unload_fn(nt_driver_object *);

/* NDIS owns DriverUnload and forwards to MiniportDriverUnload, which must
 * deregister the miniport. */
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
	if (c->Header.Type != NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS ||
	    c->Header.Revision < 1 || c->Header.Size < CHARS_REV1_SIZE ||
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
	nd.context = ctx;
	nd.handle = &nd;
	nd.registered = true;
	*handle = nd.handle;
	drv->DriverUnload = nd_driver_unload;
	vh_log("NdisMRegisterMiniportDriver: NDIS %u.%u miniport registered (driver %u.%u)",
	       c->MajorNdisVersion, c->MinorNdisVersion, c->MajorDriverVersion,
	       c->MinorDriverVersion);
	return NDIS_STATUS_SUCCESS;
}

static void NTAPI nd_NdisMDeregisterMiniportDriver(void *handle)
{
	if (!nd.registered || handle != nd.handle)
		vh_fatal("NdisMDeregisterMiniportDriver(%p): not a registered miniport", handle);
	nd.registered = false;
}

#define ND(name) { "ndis.sys", #name, (void *)nd_##name }

const struct nt_export nd_exports[] = {
	ND(NdisMRegisterMiniportDriver),
	ND(NdisMDeregisterMiniportDriver),
	{ NULL, NULL, NULL },
};
