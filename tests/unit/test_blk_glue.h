/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal StorPort for vdpblk's glue (blk_adapter.c, blk_virtio.c,
 * blk_io.c) in a user-mode test: single-threaded, with the DDK kept on its
 * own side (test_blk_glue_stubs.c) so the cmocka test sees plain C only.
 */
#ifndef OPENVDP_TEST_BLK_GLUE_H
#define OPENVDP_TEST_BLK_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_virtio.h"

#define HX_MAX_REQS 64

struct hx_options {
	uint32_t msi_count;          /* 0: INTx */
	uint32_t cpus;
	bool dump;
	uint32_t reg_max_transfer;   /* MaxTransferSize registry value, 0 = none */
	uint32_t reg_queues;         /* NumQueues registry value, 0 = none */
};

/* Device side, called by the harness whenever the driver waits (stall). */
typedef void hx_device_fn(struct fake_virtio *f);

/* DriverEntry, HwFindAdapter, HwInitialize, passive init; returns HwFindAdapter's code (1 = found). */
int hx_start(struct fake_virtio *f, const struct hx_options *o, hx_device_fn *device);
void hx_stop(void);

/* A request slot: SRB plus extension, data buffer owned by the caller. */
int hx_scsi(const uint8_t *cdb, unsigned int cdb_len, void *buf, uint32_t len, bool data_in);
int hx_function(uint8_t function);      /* FLUSH, SHUTDOWN, RESET_* */
bool hx_done(int h);
unsigned int hx_completions(int h);     /* must never exceed 1 */
uint8_t hx_srb_status(int h);
uint8_t hx_scsi_status(int h);
uint32_t hx_transferred(int h);
const uint8_t *hx_sense(int h);
void hx_release(int h);

void hx_set_cpu(uint32_t cpu);
/* INTx (msi == UINT32_MAX) or one MSI-X message; returns the ISR's answer, then runs DPCs. */
bool hx_interrupt(uint32_t msi);
void hx_run_dpcs(void);
void hx_reset_bus(void);
bool hx_adapter_control(int type);
uint16_t hx_queues(void);
uint32_t hx_bus_changes(void);
uint32_t hx_lock_depth(void);           /* 0 when every lock was released */
uint32_t hx_max_transfer(void);         /* ConfigInfo->MaximumTransferLength */
uint32_t hx_max_io(void);               /* ConfigInfo->MaxNumberOfIO */
uint32_t hx_lun_depth(void);            /* last StorPortSetDeviceQueueDepth, 0 = none */

#endif /* OPENVDP_TEST_BLK_GLUE_H */
