/* WDM driver session through the emulated I/O and PnP managers (wdm_test.c). */
#ifndef VMHOST_WDM_TEST_H
#define VMHOST_WDM_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "nt_abi.h"

enum wdm_inject {
	WDM_INJECT_NONE = 0,
	WDM_INJECT_RNG_ZERO_LEN,   /* a successful read reports 0 bytes */
	WDM_INJECT_RNG_ZERO_DATA,  /* read data replaced by zeroes */
	WDM_INJECT_BALLOON_NO_PAGES, /* the balloon cannot get pages: it cannot follow */
	WDM_INJECT_BALLOON_TOUCH,  /* a ballooned page is written to */
	WDM_INJECT_BALLOON_REPORT_EARLY, /* a reported page is reused before the device returned it */
};

struct wdm_opts {
	const char *service;
	const char *pci;           /* spec for pci_open, or NULL (ISA) */
	const char *irq;           /* uio | poll */
	uint16_t isa_port;         /* ISA device: its one I/O port */
	const char *test;          /* rng | pvpanic | balloon | serial | none */
	enum wdm_inject inject;
	const char *host_ctl;      /* serial device for VDP-QMP-REQ lines (ci/vm/qmp-ctl.sh) */
	unsigned balloon_ram_mb;   /* guest RAM as QEMU sees it (balloon targets) */
};

/* After DriverEntry: create the PDO, AddDevice, start, test, stop, remove.
 * Prints TAP; returns the number of failed checks. */
int wdm_session(nt_driver_object *drv, const struct wdm_opts *o);
/* --wdm-inject NAME (none, rng-zero-len, rng-zero-data, balloon-no-pages,
 * balloon-touch, balloon-report-early); false if unknown. */
bool wdm_inject_parse(const char *s, enum wdm_inject *out);
/* vdphost --serial-peer PATH: the host end of a virtio-serial port. */
int wdm_serial_peer(const char *path, unsigned seconds);

#endif
