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
	uint32_t perf_flags;         /* STOR_PERF_* a query reports; 0: perf opts not implemented */
	uint32_t perf_version;       /* newest PERF_CONFIGURATION_DATA version known (0: 5) */
};

/* Called by the stubs on a lock-order violation; the test fails there. */
void hx_lock_error(const char *what);

/* Device side, called by the harness whenever the driver waits (stall). */
typedef void hx_device_fn(struct fake_virtio *f);

/* DriverEntry, HwFindAdapter, HwInitialize, passive init; returns HwFindAdapter's code (1 = found). */
int hx_start(struct fake_virtio *f, const struct hx_options *o, hx_device_fn *device);
void hx_stop(void);

/* A request slot: SRB plus extension, data buffer owned by the caller. */
int hx_scsi(const uint8_t *cdb, unsigned int cdb_len, void *buf, uint32_t len, bool data_in);
int hx_function(uint8_t function);      /* FLUSH, SHUTDOWN, RESET_* */
/* The same as STORAGE_REQUEST_BLOCKs (SRB_EX): CDB16, or CDB32 above 16 bytes. */
int hx_scsi_ex(const uint8_t *cdb, unsigned int cdb_len, void *buf, uint32_t len, bool data_in,
	       uint8_t lun);
int hx_function_ex(uint8_t function);
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
uint32_t hx_lock_errors(void);
uint32_t hx_lock_selftest(void);       /* violations the checker finds in a bad pattern */
bool hx_concurrent(void);               /* concurrent StartIo channels granted */
uint32_t hx_perf_set_flags(void);       /* flags of the accepted (Query=FALSE) call */
uint32_t hx_perf_set_version(void);
uint32_t hx_busy_calls(void);           /* StorPortDeviceBusy */
uint32_t hx_ready_calls(void);          /* StorPortDeviceReady */
bool hx_lun_busy(void);
uint32_t hx_serial(char *buf, uint32_t size);   /* the serial VPD 0x80 reports */
void hx_disk_seq_hold(bool hold);       /* a disk writer stalled mid-update */

#endif /* OPENVDP_TEST_BLK_GLUE_H */
