/* SPDX-License-Identifier: BSD-2-Clause */
/* Portable PCI helpers of the WDM glue; see vwdm_pci.h. */
#include "vwdm_pci.h"

#define PCI_BAR_IO         0x1u
#define PCI_BAR_MEM_TYPE   0x6u
#define PCI_BAR_MEM_64     0x4u

void vwdm_decode_bars(const uint32_t regs[VWDM_NUM_BARS], struct vwdm_bar_decode out[VWDM_NUM_BARS])
{
	unsigned int i;

	for (i = 0; i < VWDM_NUM_BARS; i++) {
		out[i].addr = 0;
		out[i].io = false;
		out[i].is64 = false;
		out[i].present = false;
	}
	for (i = 0; i < VWDM_NUM_BARS; i++) {
		uint32_t r = regs[i];

		if (r & PCI_BAR_IO) {
			out[i].io = true;
			out[i].addr = r & ~3u;
		} else if ((r & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64) {
			/* A 64-bit BAR in the last slot has no upper half: broken device. */
			if (i + 1 >= VWDM_NUM_BARS)
				continue;
			out[i].is64 = true;
			out[i].addr = ((uint64_t)regs[i + 1] << 32) | (r & ~0xfu);
			out[i].present = out[i].addr != 0;
			i++;
			continue;
		} else {
			out[i].addr = r & ~0xfu;
		}
		out[i].present = out[i].addr != 0;
	}
}

int vwdm_match_bar(const struct vwdm_bar_decode bars[VWDM_NUM_BARS], uint64_t start, bool io)
{
	unsigned int i;

	if (start == 0)
		return -1;
	for (i = 0; i < VWDM_NUM_BARS; i++)
		if (bars[i].present && bars[i].io == io && bars[i].addr == start)
			return (int)i;
	return -1;
}

uint16_t vwdm_plan_vectors(uint32_t nmsg, uint16_t nqueues, uint16_t *config_vec, uint16_t *queue_vec)
{
	uint16_t i;

	if (nmsg == 0) {
		*config_vec = 0xffff;
		for (i = 0; i < nqueues; i++)
			queue_vec[i] = 0xffff;
		return 0;
	}
	if (nmsg >= (uint32_t)nqueues + 1) {
		*config_vec = 0;
		for (i = 0; i < nqueues; i++)
			queue_vec[i] = (uint16_t)(i + 1);
		return (uint16_t)(nqueues + 1);
	}
	*config_vec = 0;
	for (i = 0; i < nqueues; i++)
		queue_vec[i] = 0;
	return 1;
}
