/* SPDX-License-Identifier: BSD-2-Clause */
/* vdppanic portable logic; see pvpanic_logic.h. */
#include "pvpanic_logic.h"

bool pvpanic_supported_valid(uint8_t supported)
{
	return supported != 0 && (supported & ~PVPANIC_KNOWN) == 0;
}

uint8_t pvpanic_select(uint8_t supported, bool crash_dump_enabled)
{
	if (!pvpanic_supported_valid(supported))
		return 0;
	if (crash_dump_enabled && (supported & PVPANIC_CRASH_LOADED))
		return PVPANIC_CRASH_LOADED;
	if (supported & PVPANIC_PANICKED)
		return PVPANIC_PANICKED;
	/* Only CRASH_LOADED offered: still better than telling nothing. */
	if (supported & PVPANIC_CRASH_LOADED)
		return PVPANIC_CRASH_LOADED;
	return 0;
}

uint8_t pvpanic_shutdown_event(uint8_t supported)
{
	if (!pvpanic_supported_valid(supported))
		return 0;
	return (uint8_t)(supported & PVPANIC_SHUTDOWN);
}
