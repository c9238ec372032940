/* Whole-disk SCSI test through a StorPort miniport, and the host-side check
 * of the image file it leaves behind. */
#ifndef VMHOST_DISK_TEST_H
#define VMHOST_DISK_TEST_H

#include <stdint.h>

/* Test modes (vdphost --disk-mode, --check-image ... --disk-mode):
 *   basic  whole-disk write/flush/read/verify
 *   zero   basic, then UNMAP and WRITE SAME(16) over DISK_ZERO_RANGES; the
 *          image must hold zeroes there and the pattern elsewhere
 *   eio    basic against a blkdebug drive failing reads of
 *          DISK_EIO_READ_LBA and writes of DISK_EIO_WRITE_LBA
 *          (ci/vm/blkdebug-eio.conf holds the same numbers)
 *   srbex  basic with STORAGE_REQUEST_BLOCKs (CDB16 blocks, BTL8 address),
 *          plus READ(16) and a 32-byte CDB the miniport must reject; fails
 *          unless the miniport declared SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK
 *   dump   the live adapter writes the first MiB and crashes with reads
 *          in flight; the driver's copy is started as the crash dump stack
 *          does (sp_crash_to_dump: DriverEntry(NULL, NULL), DumpMode, no
 *          interrupts, HIGH_LEVEL, one request at a time) and runs basic,
 *          ending with SYNCHRONIZE CACHE; the image is basic's
 * Every mode works in the logical blocks READ CAPACITY reports (512..4096
 * bytes); the pattern and the zero ranges stay in 512-byte sectors, so the
 * image check is the same for any block size. */
enum disk_mode { DISK_MODE_BASIC, DISK_MODE_ZERO, DISK_MODE_EIO, DISK_MODE_SRBEX, DISK_MODE_DUMP };

#define DISK_EIO_READ_LBA 6000u
#define DISK_EIO_WRITE_LBA 20000u

/* Returns -1 for an unknown mode name. */
int disk_mode_parse(const char *name);
void disk_test_set_mode(enum disk_mode mode);
/* vdphost --bench SECONDS: disk_test_run measures (sequential 1 MiB
 * write/read, 4 KiB random reads at QD1 and QD32) instead of testing. */
void disk_test_set_bench(unsigned seconds);

/* Prints TAP lines; returns the number of failures. */
int disk_test_run(const char *name);
/* Checks every sector of a raw image for the pattern; prints TAP. */
int disk_check_image(const char *path);
/* Writes the image a passing run of the current mode leaves (the image
 * check's own test, tests/vmhost/check-image.sh); 0 or -1. */
int disk_write_image(const char *path, uint64_t sectors);
/* The 512-byte pattern of sector lba. */
void disk_pattern(uint64_t lba, uint8_t *sector);

#endif
