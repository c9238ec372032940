/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Portable half of the WDM glue (no Windows header): PCI BAR decoding, the
 * matching of IRP_MN_START_DEVICE resources to BAR numbers, and the MSI-X
 * vector plan. Host unit-tested (tests/unit/test_rng_wdm.c).
 */
#ifndef OPENVDP_VWDM_PCI_H
#define OPENVDP_VWDM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define VWDM_NUM_BARS 6

struct vwdm_bar_decode {
	uint64_t addr;       /* bus address (memory) or port (I/O) */
	bool io;
	bool is64;           /* 64-bit memory BAR: the next register is its upper half */
	bool present;        /* false when unprogrammed or an upper half */
};

/* Decode the six BAR registers of a type 0 header (offset 0x10..0x27). */
void vwdm_decode_bars(const uint32_t regs[VWDM_NUM_BARS], struct vwdm_bar_decode out[VWDM_NUM_BARS]);

/*
 * BAR number of a raw (bus-relative) resource: the BAR whose address equals
 * start and whose space (I/O or memory) matches. -1 if none does, so a
 * resource the device never asked for is ignored rather than guessed.
 */
int vwdm_match_bar(const struct vwdm_bar_decode bars[VWDM_NUM_BARS], uint64_t start, bool io);

/*
 * MSI-X vector plan for a device with nqueues queues and nmsg messages
 * granted by Windows: one vector for configuration changes (0) plus one per
 * queue when there are enough, otherwise everything shares vector 0;
 * without messages (line interrupt) every vector is 0xffff (no vector).
 * queue_vec must hold nqueues entries. Returns the number of vectors used.
 */
uint16_t vwdm_plan_vectors(uint32_t nmsg, uint16_t nqueues, uint16_t *config_vec, uint16_t *queue_vec);

#endif /* OPENVDP_VWDM_PCI_H */
