/* Whole-disk SCSI test through a StorPort miniport, and the host-side check
 * of the image file it leaves behind. */
#ifndef VMHOST_DISK_TEST_H
#define VMHOST_DISK_TEST_H

#include <stdint.h>

/* Prints TAP lines; returns the number of failures. */
int disk_test_run(const char *name);
/* Checks every sector of a raw image for the pattern; prints TAP. */
int disk_check_image(const char *path);
/* The 512-byte pattern of sector lba. */
void disk_pattern(uint64_t lba, uint8_t *sector);

#endif
