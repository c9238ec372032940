/* vdphost: load a Windows x64 kernel driver (.sys) into this Linux process
 * and run it against the emulated kernel services. Prints TAP lines
 * (unnumbered: the caller numbers them) on stdout; the driver's DbgPrint
 * output and host diagnostics go to stderr.
 *
 *   vdphost [--guest] [--service NAME] [--expect-status HEX]
 *           [--pci VVVV:DDDD|BDF [--irq uio|poll|msix] [--disk-test]] DRIVER.sys
 *   vdphost --check-image FILE
 *
 * --guest: running inside the test VM as root: DMA memory from hugepages
 * with real physical addresses, port I/O enabled with iopl(3).
 * --pci: after DriverEntry, start the StorPort adapter on that device.
 * --disk-test: then run the whole-disk SCSI test through the miniport.
 * --check-image: verify on the host the pattern the disk test wrote.
 * --net-test: with --pci and an NDIS miniport, the network test (net_test.c);
 * --link-ctl DEV: where it asks the VM runner for link down/up; --param
 * NAME=VALUE: a registry value for NdisReadConfiguration; --echo-server
 * PORT: the Linux-side UDP/TCP echo the network test talks to;
 * --net-inject: a deliberate host fault the network test must catch.
 * --net-bench SECONDS / --net-reset-test: the network benchmark (Linux
 * peer: tests/bench/vdpnetbench.c) and the reset test (net_bench.c).
 * --disk-mode: which disk test (disk_test.h), also for --check-image.
 * --write-image: a 16 MiB image as a passing run leaves it (to test
 * --check-image itself).
 * --inject: the host misbehaves on purpose (nt_storport.c), for the proof
 * that a broken driver fails the disk test.
 * --wdm-test: with --pci or --isa-port and a WDM driver (AddDevice set),
 * the PnP/I/O session and that driver's test (wdm_test.c); --host-ctl DEV:
 * where it asks the VM runner for QMP commands; --wdm-inject: a deliberate
 * fault the test must catch; --dma-pool MB: DMA pool size (default 32);
 * --serial-peer SOCKET: the host end of a virtio-serial port.
 * --bench: with --disk-test, measure instead of testing (ci/vm/bench.sh).
 * --force-reset N: at every N-th INTx the oldest request times out
 * (StorPort's HwResetBus path with requests the miniport still holds).
 * --inf FILE: the driver's INF (default: DRIVER.inf beside DRIVER.sys, if
 * there, as in the pack); the registry values it installs are what
 * StorPortRegistryRead and NdisReadConfiguration return (--param wins). */
#define _GNU_SOURCE
#include "disk_test.h"
#include "inf_reg.h"
#include "nt_storport.h"
#include "net_test.h"
#include "net_bench.h"
#include "nt_ndis.h"
#include "nt_io.h"
#include "wdm_test.h"
#include "vmhost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SYS_FILE (64u << 20)

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_SYS_FILE) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* UTF-16 copy of an ASCII string, in pool-like storage the driver may keep. */
static uint16_t *wide(const char *s)
{
	size_t n = strlen(s);
	uint16_t *w = calloc(n + 1, 2);

	for (size_t i = 0; w && i < n; i++)
		w[i] = (uint8_t)s[i];
	return w;
}

/* Everything that runs driver code, on a thread with a painted stack. */
struct session {
	nt_driver_object *drv;
	nt_unicode_string *reg;
	const char *service, *pci, *irq;
	bool disk_test;
	uint32_t expect;
	int failed;
};

/* NDIS miniports (--pci with a driver that registered with NDIS):
 * initialise and restart the adapter, optionally run the network test,
 * then pause and halt it. */
static bool net_test;
static const char *link_ctl;

/* WDM drivers (AddDevice set, --pci or --isa-port): wdm_test.c. */
static struct wdm_opts wdm = { .test = "none" };
/* --dma-pool: a balloon needs room, and vdpblk with the INF's 1 MiB
 * transfers preallocates ~2.2 MiB of descriptor tables for 4 queues. */
static unsigned dma_pool_mb = 32;

static int ndis_session(const char *service, const char *pci, const char *irq)
{
	int failed = 0;

	if (nd_start_adapter(pci, irq)) {
		printf("not ok - %s: NDIS adapter start on %s failed (see log)\n", service, pci);
		failed++;
	} else {
		printf("ok - %s: adapter started on %s (MiniportInitializeEx, MiniportRestart, irq %s)\n",
		       service, pci, irq);
		if (net_test)
			failed += net_test_run(service, link_ctl);
		if (net_bench_wanted())
			failed += net_bench_run(service);
	}
	failed += nd_stop_adapter();
	if (!failed)
		printf("ok - %s: adapter paused and halted, every NDIS resource returned\n", service);
	return failed;
}

/* The dump stack's copy of a StorPort miniport (--disk-mode dump): the
 * entry point again, with two NULL arguments as crashdmp passes them. */
static nt_status sp_dump_entry(void *ctx)
{
	return ((nt_driver_object *)ctx)->DriverInit(NULL, NULL);
}

static void *session_main(void *arg)
{
	struct session *ss = arg;
	nt_driver_object *drv = ss->drv;
	const char *service = ss->service, *pci = ss->pci, *irq = ss->irq;
	bool disk_test = ss->disk_test;
	uint32_t expect = ss->expect;
	int failed = 0;
	nt_status st;
	size_t leaks;

	vh_set_irql(PASSIVE_LEVEL);
	st = drv->DriverInit(drv, ss->reg);
	if (vh_irql() != PASSIVE_LEVEL) {
		printf("not ok - %s: DriverEntry returned at IRQL %u\n", service, vh_irql());
		failed++;
	}
	if ((uint32_t)st == expect) {
		printf("ok - %s: DriverEntry returned 0x%08x\n", service, (uint32_t)st);
	} else {
		printf("not ok - %s: DriverEntry returned 0x%08x, expected 0x%08x\n", service,
		       (uint32_t)st, expect);
		failed++;
	}
	if (st >= 0 && (pci || wdm.isa_port) && drv->DriverExtension->AddDevice) {
		wdm.service = service;
		wdm.pci = pci;
		wdm.irq = irq;
		failed += wdm_session(drv, &wdm);
		pci = NULL;
	}
	if (st >= 0 && pci && nd_registered()) {
		failed += ndis_session(service, pci, irq);
		pci = NULL;
	}
	if (st >= 0 && pci) {
		sp_set_dump_entry(sp_dump_entry, drv);
		if (!sp_registered()) {
			printf("not ok - %s: --pci given but the driver did not call StorPortInitialize\n",
			       service);
			failed++;
		} else if (sp_start_adapter(pci, irq)) {
			printf("not ok - %s: adapter start on %s failed (see log)\n", service, pci);
			failed++;
		} else {
			printf("ok - %s: adapter started on %s (HwFindAdapter, HwInitialize, irq %s)\n",
			       service, pci, irq);
			if (disk_test)
				failed += disk_test_run(service);
		}
		sp_stop_adapter();
	}
	if (!vh_sched_idle(10000)) {
		printf("not ok - %s: DPCs or work items still running after 10 s\n", service);
		failed++;
	}
	if (st >= 0 && drv->DriverUnload) {
		drv->DriverUnload(drv);
		vh_sched_idle(10000);
		printf("ok - %s: DriverUnload returned\n", service);
	}
	vh_sched_stop();
	/* A driver that failed DriverEntry must have freed everything too. */
	leaks = vh_pool_leaks(true);
	if (leaks) {
		printf("not ok - %s: %zu pool blocks leaked\n", service, leaks);
		failed++;
	} else {
		printf("ok - %s: no pool leaks\n", service);
	}
	ss->failed = failed;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: vdphost [--guest] [--service NAME] [--expect-status HEX]\n"
			"               [--pci VVVV:DDDD|BDF [--irq uio|poll|msix] [--disk-test]] DRIVER.sys\n"
			"               [--disk-mode basic|zero|eio|srbex|dump] [--inject corrupt-read-byte|drop-completion]\n"
			"               [--bench SECONDS] [--inf FILE] [--force-reset N]\n"
			"               [--net-test [--link-ctl DEV]] [--param NAME=VALUE]\n"
			"               [--net-inject corrupt-rx|drop-send-complete]\n"
			"               [--net-bench SECONDS] [--net-reset-test]\n"
			"               [--wdm-test rng|pvpanic|balloon|serial] [--isa-port HEX] [--wdm-inject rng-zero-len|rng-zero-data|balloon-no-pages|balloon-touch]\n"
			"               [--host-ctl DEV] [--balloon-ram MB] [--dma-pool MB]\n"
			"       vdphost --serial-peer UNIX-SOCKET\n"
			"       vdphost --echo-server PORT\n"
			"       vdphost [--disk-mode basic|zero|eio|srbex|dump] --check-image|--write-image FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *service = NULL, *pci = NULL, *irq = "uio";
	bool guest = false, disk_test = false;
	uint32_t expect = 0;
	char err[256], regpath[256], infpath[512];
	const char *inf = NULL;
	struct pe_image img;
	nt_driver_object *drv;
	nt_driver_extension *ext;
	nt_unicode_string reg;
	uint8_t *file;
	size_t len;
	int unresolved, failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--guest"))
			guest = true;
		else if (!strcmp(argv[i], "--service") && i + 1 < argc)
			service = argv[++i];
		else if (!strcmp(argv[i], "--expect-status") && i + 1 < argc)
			expect = (uint32_t)strtoul(argv[++i], NULL, 16);
		else if (!strcmp(argv[i], "--pci") && i + 1 < argc)
			pci = argv[++i];
		else if (!strcmp(argv[i], "--irq") && i + 1 < argc)
			irq = argv[++i];
		else if (!strcmp(argv[i], "--disk-test"))
			disk_test = true;
		else if (!strcmp(argv[i], "--net-test"))
			net_test = true;
		/* WDM drivers (wdm_test.c) */
		else if (!strcmp(argv[i], "--wdm-test") && i + 1 < argc)
			wdm.test = argv[++i];
		else if (!strcmp(argv[i], "--serial-peer") && i + 1 < argc)
			return wdm_serial_peer(argv[i + 1], 300);
		else if (!strcmp(argv[i], "--host-ctl") && i + 1 < argc)
			wdm.host_ctl = argv[++i];
		else if (!strcmp(argv[i], "--balloon-ram") && i + 1 < argc)
			wdm.balloon_ram_mb = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dma-pool") && i + 1 < argc && atoi(argv[i + 1]) >= 8 &&
			 atoi(argv[i + 1]) <= 128)
			dma_pool_mb = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--isa-port") && i + 1 < argc)
			wdm.isa_port = (uint16_t)strtoul(argv[++i], NULL, 16);
		else if (!strcmp(argv[i], "--wdm-inject") && i + 1 < argc && wdm_inject_parse(argv[i + 1], &wdm.inject))
			i++;
		/* network bench and reset test (net_bench.c) */
		else if (!strcmp(argv[i], "--net-bench") && i + 1 < argc && net_bench_set(argv[i + 1]))
			i++;
		else if (!strcmp(argv[i], "--net-reset-test"))
			net_reset_test_set();
		else if (!strcmp(argv[i], "--link-ctl") && i + 1 < argc)
			link_ctl = argv[++i];
		else if (!strcmp(argv[i], "--param") && i + 1 < argc && nd_set_param(argv[i + 1]))
			i++;
		else if (!strcmp(argv[i], "--inf") && i + 1 < argc)
			inf = argv[++i];
		else if (!strcmp(argv[i], "--net-inject") && i + 1 < argc && nd_set_inject(argv[i + 1]))
			i++;
		else if (!strcmp(argv[i], "--echo-server") && i + 1 < argc)
			return net_echo_server(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--disk-mode") && i + 1 < argc && disk_mode_parse(argv[i + 1]) >= 0)
			disk_test_set_mode((enum disk_mode)disk_mode_parse(argv[++i]));
		else if (!strcmp(argv[i], "--force-reset") && i + 1 < argc && atoi(argv[i + 1]) > 0)
			sp_set_force_reset((unsigned)atoi(argv[++i]));
		else if (!strcmp(argv[i], "--inject") && i + 1 < argc && !sp_set_inject(argv[i + 1]))
			i++;
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc && atoi(argv[i + 1]) > 0 &&
			 atoi(argv[i + 1]) <= 600)
			disk_test_set_bench((unsigned)atoi(argv[++i]));
		else if (!strcmp(argv[i], "--write-image") && i + 1 < argc)
			return disk_write_image(argv[i + 1], 32768) ? 1 : 0;
		else if (!strcmp(argv[i], "--check-image") && i + 1 < argc)
			return disk_check_image(argv[i + 1]) ? 1 : 0;
		else if (argv[i][0] == '-' || path)
			usage();
		else
			path = argv[i];
	}
	if (!path || (strcmp(irq, "uio") && strcmp(irq, "poll") && strcmp(irq, "msix")))
		usage();
	if (!inf && strlen(path) > 4 && !strcmp(path + strlen(path) - 4, ".sys")) {
		snprintf(infpath, sizeof(infpath), "%.*s.inf", (int)strlen(path) - 4, path);
		if (!access(infpath, F_OK))
			inf = infpath;
	}
	if (inf) {
		if (!vh_registry_load(inf, err, sizeof(err))) {
			printf("not ok - INF registry: %s\n", err);
			return 1;
		}
		vh_log("registry: %u values from %s", vh_registry()->count, inf);
	}
	vh_add_exports(sp_exports);
	vh_add_exports(nd_exports);
	vh_add_exports(io_exports);
	if (!service) {
		const char *b = strrchr(path, '/');
		static char name[64];
		snprintf(name, sizeof(name), "%s", b ? b + 1 : path);
		if (strchr(name, '.'))
			*strchr(name, '.') = 0;
		service = name;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	file = read_file(path, &len);
	if (!file) {
		printf("not ok - %s: cannot read (%s)\n", path, strerror(errno ? errno : EINVAL));
		return 1;
	}
	if (pe_load(&img, file, len, err, sizeof(err))) {
		printf("not ok - %s: load: %s\n", service, err);
		fprintf(stderr, "vdphost: %s: %s\n", path, err);
		return 1;
	}
	free(file);
	printf("ok - %s: PE32+ image mapped (%u sections, %u relocations applied)\n", service,
	       img.nsections, img.relocs_applied);

	/* Every unresolved import is listed before anything runs. */
	unresolved = pe_bind_imports(&img, vh_resolve, NULL, stderr, err, sizeof(err));
	if (unresolved < 0) {
		printf("not ok - %s: imports: %s\n", service, err);
		return 1;
	}
	if (unresolved > 0) {
		printf("not ok - %s: %d unresolved imports (listed on stderr)\n", service, unresolved);
		return 1;
	}
	printf("ok - %s: all imports resolved\n", service);
	if (pe_protect(&img, err, sizeof(err))) {
		printf("not ok - %s: %s\n", service, err);
		return 1;
	}
	if (img.wx_sections)
		printf("# %s: warning: %u section(s) writable and executable; HVCI will refuse the driver\n",
		       service, img.wx_sections);
	if (!img.entry_rva) {
		printf("not ok - %s: image has no entry point\n", service);
		return 1;
	}

	vh_trap_init();
	vh_trap_set_image(&img);
	if (dma_pool_init(guest, (size_t)dma_pool_mb << 20)) {
		printf("not ok - %s: DMA pool unavailable\n", service);
		return 1;
	}
	if (guest && iopl(3))
		vh_log("iopl(3) failed (%s): inline port I/O will fault", strerror(errno));
	vh_sched_start();

	drv = calloc(1, sizeof(*drv));
	ext = calloc(1, 0x100); /* larger than any documented DRIVER_EXTENSION */
	snprintf(regpath, sizeof(regpath),
		 "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\%s", service);
	reg.Buffer = wide(regpath);
	if (!drv || !ext || !reg.Buffer)
		vh_fatal("out of memory");
	reg.Length = (uint16_t)(strlen(regpath) * 2);
	reg.MaximumLength = (uint16_t)(reg.Length + 2);
	drv->Type = 4; /* IO_TYPE_DRIVER */
	drv->Size = (int16_t)sizeof(*drv);
	drv->DriverStart = img.base;
	drv->DriverSize = (uint32_t)img.size;
	drv->DriverExtension = ext;
	drv->DriverInit = (nt_driver_initialize *)(img.base + img.entry_rva);
	io_init_driver_object(drv); /* MajorFunction[] as the I/O manager fills it */
	ext->DriverObject = drv;
	ext->ServiceKeyName.Buffer = wide(service);
	ext->ServiceKeyName.Length = (uint16_t)(strlen(service) * 2);
	ext->ServiceKeyName.MaximumLength = (uint16_t)(ext->ServiceKeyName.Length + 2);
	{
		char dn[96];
		snprintf(dn, sizeof(dn), "\\Driver\\%s", service);
		drv->DriverName.Buffer = wide(dn);
		drv->DriverName.Length = (uint16_t)(strlen(dn) * 2);
		drv->DriverName.MaximumLength = (uint16_t)(drv->DriverName.Length + 2);
	}

	{
		struct session ss = { drv, &reg, service, pci, irq, disk_test, expect, 0 };
		vh_thread_join(vh_thread_start("driver", VH_STACK_SIZE, session_main, &ss));
		failed = ss.failed;
	}
	failed += vh_stack_report();
	printf("# %s: privileged instructions emulated: %lu\n", service, vh_trap_count());
	return failed ? 1 : 0;
}
