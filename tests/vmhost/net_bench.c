/* Network benchmark and reset test through an NDIS miniport in vdphost.
 *
 * Benchmark (--net-bench SECONDS, ci/vm/bench.sh): the miniport's NIC and
 * a Linux virtio_net NIC share a QEMU hub. This side sends UDP frames built
 * here through MiniportSendNetBufferLists (chains of 16 NBLs x 8 NET_BUFFERs,
 * from two threads) to the Linux peer's stack, where tests/bench/vdpnetbench.c
 * ("sink") counts what arrives at its socket; then the peer ("source") sends UDP through
 * Linux's stack and this side counts the frames the miniport indicates.
 * Full-size frames (1472-byte payloads) and minimum-size frames (18-byte
 * payloads, 60 bytes on the wire plus FCS: the 64-byte frame) each way.
 * Rates are what the receiving end got, over the time between its first and
 * last packet. Prints "# VDPNETBENCH metric value"; nothing is asserted.
 *
 * Reset test (--net-reset-test): MiniportCheckForHangEx on a healthy
 * adapter, then MiniportResetEx while another thread keeps sending: every
 * send must complete (each NBL once: nt_ndis.c stops on a double
 * completion), NdisMResetComplete must come once with success, and ARP and
 * a UDP echo with the peer must work afterwards. */
#define _GNU_SOURCE
#include "net_bench.h"
#include "../bench/bench_frame.h"
#include "net_test.h"
#include "nt_ndis.h"
#include "vmhost.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NB_FULL 1472u          /* UDP payload of a 1514-byte frame */
#define NB_SMALL 18u           /* UDP payload of a 60-byte frame (64 with FCS) */
#define NB_NBLS 16u
#define NB_NBS 8u
#define NB_BATCH (NB_NBLS * NB_NBS)
#define NB_FRAME_MAX 1514u

static unsigned bench_secs;
static bool reset_test;

static struct bench_addrs nb = { .self_ip = { 192, 168, 77, 2 }, .peer_ip = { 192, 168, 77, 1 } };

bool net_bench_set(const char *seconds)
{
	char *end;
	long v = strtol(seconds, &end, 10);

	if (*end || v <= 0 || v > 600)
		return false;
	bench_secs = (unsigned)v;
	return true;
}

void net_reset_test_set(void)
{
	reset_test = true;
}

bool net_bench_wanted(void)
{
	return bench_secs || reset_test;
}

static double now_s(void)
{
	return (double)vh_now_ns() / 1e9;
}

/* ------------------------------------------------------------ frames */

/* Answer an ARP request for our address (the peer's stack asks before it sends). */
static bool answer_arp(const uint8_t *f, size_t len)
{
	uint8_t r[60];

	if (!bench_is_arp(f, len, 1) || memcmp(f + 38, nb.self_ip, 4))
		return false;
	bench_arp_frame(r, &nb, true, f + 22, f + 28);
	(void)nd_send(r, sizeof(r), 0, 0, 2000);
	return true;
}

/* Learn the peer's MAC; the request also teaches the peer ours. */
static bool arp_resolve(unsigned timeout_ms)
{
	uint8_t f[2048];
	double end = now_s() + timeout_ms / 1000.0;

	while (now_s() < end) {
		double retry = now_s() + 1.0;

		bench_arp_frame(f, &nb, false, NULL, nb.peer_ip);
		if (nd_send(f, 60, 0, 0, 2000) != ND_STATUS_SUCCESS)
			return false;
		while (now_s() < retry) {
			size_t n = nd_recv(f, sizeof(f), NULL, 100);

			if (bench_is_arp(f, n, 2) && !memcmp(f + 28, nb.peer_ip, 4)) {
				memcpy(nb.peer_mac, f + 22, 6);
				return true;
			}
			if (n)
				answer_arp(f, n);
		}
	}
	return false;
}

/* A UDP frame from the peer to our port `port` with `payload` bytes. */
static bool is_udp_to(const uint8_t *f, size_t len, unsigned port, unsigned payload)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0 && f[23] == 17 &&
	       !memcmp(f + 30, nb.self_ip, 4) && (unsigned)(f[36] << 8 | f[37]) == port &&
	       (unsigned)(f[38] << 8 | f[39]) == 8 + payload;
}

/* ------------------------------------------------------------ the Linux peer */

struct peer {
	pid_t pid;
	int fd;
};

static bool peer_start(struct peer *p, char *const argv[])
{
	int fds[2];

	if (pipe(fds))
		return false;
	p->pid = fork();
	if (p->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (p->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "net_bench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	p->fd = fds[0];
	return true;
}

/* One line of the peer's output, or false after timeout_ms / at its end. */
static bool peer_line(struct peer *p, char *buf, size_t cap, unsigned timeout_ms)
{
	size_t n = 0;
	double end = now_s() + timeout_ms / 1000.0;

	while (n + 1 < cap) {
		struct pollfd pfd = { p->fd, POLLIN, 0 };
		int left = (int)((end - now_s()) * 1000);

		if (left <= 0 || poll(&pfd, 1, left) <= 0 || read(p->fd, buf + n, 1) != 1)
			break;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return true;
		}
		n++;
	}
	buf[n] = 0;
	return false;
}

static void peer_end(struct peer *p)
{
	int status;

	if (waitpid(p->pid, &status, WNOHANG) == 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
	}
	close(p->fd);
}

static const char *peer_path(void)
{
	const char *e = getenv("VDP_NETBENCH_PEER");

	return e && *e ? e : "/t/vdpnetbench";
}

/* ------------------------------------------------------------ measurements */

static void metric(const char *name, double v)
{
	printf("# VDPNETBENCH %s %.4g\n", name, v);
}

/* One sending thread: chains of NB_BATCH frames, each call waiting for its completions. */
struct tx_worker {
	unsigned payload;
	double t0, t1;
	unsigned long long sent;
	unsigned long failed_calls;
	uint32_t seq;
	uint8_t frames[NB_BATCH][NB_FRAME_MAX];
};

static void *tx_worker_main(void *arg)
{
	struct tx_worker *w = arg;
	const uint8_t *fp[NB_BATCH];
	size_t lens[NB_BATCH];

	vh_set_irql(PASSIVE_LEVEL);
	do {
		for (unsigned i = 0; i < NB_BATCH; i++) {
			lens[i] = bench_udp_frame(w->frames[i], &nb, BENCH_PORT, w->payload, w->seq++);
			fp[i] = w->frames[i];
		}
		if (nd_send_chain(fp, lens, NB_NBLS, NB_NBS, 10000) == ND_STATUS_SUCCESS)
			w->sent += NB_BATCH;
		else
			w->failed_calls++;
		w->t1 = now_s();
	} while (w->t1 - w->t0 < bench_secs && w->failed_calls < 5);
	return NULL;
}

/* This side sends for bench_secs from NB_TX_THREADS threads (so that the ring
 * does not drain while one thread waits for its chain's completions); the
 * peer's sink reports what arrived. */
#define NB_TX_THREADS 2
static int bench_tx(const char *label, unsigned payload)
{
	struct tx_worker *w[NB_TX_THREADS];
	char secs[16], line[256], *argv[5];
	unsigned long long sent = 0, pkts = 0, bytes = 0;
	unsigned long failed_calls = 0;
	double t0, t1 = 0, span = 0;
	struct peer p;
	int tid = -1;

	snprintf(secs, sizeof(secs), "%u", bench_secs + 10);
	argv[0] = (char *)peer_path();
	argv[1] = "sink";
	argv[2] = "9000";
	argv[3] = secs;
	argv[4] = NULL;
	if (!peer_start(&p, argv) || !peer_line(&p, line, sizeof(line), 10000) ||
	    strcmp(line, "ready")) {
		printf("not ok - bench %s: the Linux sink did not start ('%s')\n", label, line);
		if (p.pid > 0)
			peer_end(&p);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < NB_TX_THREADS; i++) {
		w[i] = calloc(1, sizeof(*w[i]));
		if (!w[i])
			vh_fatal("bench: out of memory");
		w[i]->payload = payload;
		w[i]->t0 = t0;
		w[i]->seq = (uint32_t)i << 20;
	}
	/* Thread 0 is this one; the others are started. */
	if (NB_TX_THREADS > 1)
		tid = vh_thread_start("net-bench-tx", 256 << 10, tx_worker_main, w[1]);
	tx_worker_main(w[0]);
	if (tid >= 0)
		vh_thread_join(tid);
	for (int i = 0; i < NB_TX_THREADS; i++) {
		sent += w[i]->sent;
		failed_calls += w[i]->failed_calls;
		if (w[i]->t1 > t1)
			t1 = w[i]->t1;
		free(w[i]);
	}
	if (peer_line(&p, line, sizeof(line), 20000))
		sscanf(line, "sink %llu %llu %lf", &pkts, &bytes, &span);
	peer_end(&p);
	printf("# bench %s: %llu frames sent in %.2f s (%.0f/s offered), Linux socket got %llu "
	       "in %.2f s%s\n", label, sent, t1 - t0, sent / (t1 - t0), pkts, span,
	       failed_calls ? ", some sends failed" : "");
	if (span <= 0 || !pkts)
		return 1;
	if (payload == NB_FULL) {
		metric("tx-full-gbit", bytes * 8.0 / span / 1e9);
		metric("tx-full-pps", pkts / span);
	} else {
		metric("tx-small-pps", pkts / span);
	}
	return 0;
}

/* The peer's source sends for bench_secs; this side counts the indications. */
static int bench_rx(const char *label, unsigned payload)
{
	static uint8_t f[2048];
	char secs[16], size[16], line[256], ip[32], *argv[7];
	unsigned long long pkts = 0, offered = 0;
	double first = 0, last = 0, end;
	struct peer p;
	int idle = 0, status;
	bool exited = false;

	snprintf(secs, sizeof(secs), "%u", bench_secs);
	snprintf(size, sizeof(size), "%u", payload);
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", nb.self_ip[0], nb.self_ip[1], nb.self_ip[2], nb.self_ip[3]);
	argv[0] = (char *)peer_path();
	argv[1] = "source";
	argv[2] = ip;
	argv[3] = "9000";
	argv[4] = size;
	argv[5] = secs;
	argv[6] = NULL;
	if (!peer_start(&p, argv)) {
		printf("not ok - bench %s: the Linux source did not start\n", label);
		return 1;
	}
	end = now_s() + bench_secs + 20;
	while (now_s() < end) {
		size_t n = nd_recv(f, sizeof(f), NULL, 100);

		if (n && is_udp_to(f, n, BENCH_PORT, payload)) {
			last = now_s();
			if (!pkts++)
				first = last;
			idle = 0;
			continue;
		}
		if (n) {
			answer_arp(f, n);
			continue;
		}
		if (!exited)
			exited = waitpid(p.pid, &status, WNOHANG) == p.pid;
		if (exited && ++idle >= 5)
			break;
	}
	if (exited) {
		/* Already reaped: only its output is left to read. */
		if (peer_line(&p, line, sizeof(line), 1000))
			sscanf(line, "source %llu", &offered);
		close(p.fd);
	} else {
		peer_end(&p);
	}
	printf("# bench %s: Linux sent %llu, the miniport indicated %llu in %.2f s\n", label, offered,
	       pkts, last - first);
	if (pkts < 2 || last <= first)
		return 1;
	if (payload == NB_FULL) {
		metric("rx-full-gbit", pkts * (double)payload * 8.0 / (last - first) / 1e9);
		metric("rx-full-pps", pkts / (last - first));
	} else {
		metric("rx-small-pps", pkts / (last - first));
	}
	return 0;
}

static int bench_run(const char *service)
{
	int failed = 0;

	if (!arp_resolve(10000)) {
		printf("not ok - %s: bench: the Linux peer did not answer ARP\n", service);
		return 1;
	}
	failed += bench_tx("tx-full", NB_FULL);
	failed += bench_tx("tx-small", NB_SMALL);
	failed += bench_rx("rx-full", NB_FULL);
	failed += bench_rx("rx-small", NB_SMALL);
	if (failed)
		printf("not ok - %s: bench: %d measurements without a result\n", service, failed);
	else
		printf("ok - %s: network bench ran (%u s per measurement)\n", service, bench_secs);
	return failed;
}

/* ------------------------------------------------------------ reset test */

static struct {
	volatile bool stop;
	unsigned long calls, ok, reset_status, other, timeouts;
} sender;

/* Keeps chains of small frames going to the peer's discard port. */
static void *sender_main(void *arg)
{
	static uint8_t frames[NB_NBLS][64];
	const uint8_t *fp[NB_NBLS];
	size_t lens[NB_NBLS];
	uint32_t seq = 0;

	(void)arg;
	vh_set_irql(PASSIVE_LEVEL);
	while (!sender.stop) {
		uint32_t st;

		for (unsigned i = 0; i < NB_NBLS; i++) {
			lens[i] = bench_udp_frame(frames[i], &nb, 9, NB_SMALL, seq++);
			fp[i] = frames[i];
		}
		st = nd_send_chain(fp, lens, NB_NBLS, 1, 10000);
		sender.calls++;
		if (st == ND_STATUS_SUCCESS)
			sender.ok++;
		else if (st == ND_STATUS_RESET_IN_PROGRESS)
			sender.reset_status++;
		else
			sender.other++;
	}
	return NULL;
}

/* UDP to the peer's echo port and the echo back. */
static bool echo_once(uint32_t tag)
{
	uint8_t f[2048];
	double end = now_s() + 5.0;
	size_t len = bench_udp_frame(f, &nb, NET_ECHO_PORT, 32, tag);

	bench_put16(f + 34, 40000);
	if (nd_send(f, len, 0, 0, 3000) != ND_STATUS_SUCCESS)
		return false;
	while (now_s() < end) {
		size_t n = nd_recv(f, sizeof(f), NULL, 200);

		if (n >= 42 + 32 && f[23] == 17 && (unsigned)(f[34] << 8 | f[35]) == NET_ECHO_PORT &&
		    (unsigned)(f[36] << 8 | f[37]) == 40000 && f[42] == (uint8_t)tag)
			return true;
		if (n)
			answer_arp(f, n);
	}
	return false;
}

#define CHECK(cond, ...)                                     \
	do {                                                 \
		if (cond) {                                  \
			printf("ok - %s: ", service);        \
		} else {                                     \
			printf("not ok - %s: ", service);    \
			failed++;                            \
		}                                            \
		printf(__VA_ARGS__);                         \
		putchar('\n');                               \
	} while (0)

/* Sends that never complete (the miniport's DPCs are held back): CheckForHang
 * must report the hang within VNET_HANG_STALLS + 1 checks (NDIS checks every
 * CheckForHangTimeInSeconds; here back to back), and the reset must complete
 * the stuck sends. */
static int stall_run(const char *service)
{
	int failed = 0, tid, hang = 0;
	unsigned checks = 0;
	uint32_t st;

	memset(&sender, 0, sizeof(sender));
	nd_hold_dpcs(true);
	tid = vh_thread_start("net-sender", 256 << 10, sender_main, NULL);
	if (tid < 0) {
		nd_hold_dpcs(false);
		printf("not ok - %s: cannot start the sender thread\n", service);
		return 1;
	}
	usleep(500000);
	while (checks < 6 && (hang = nd_check_for_hang()) == 0) {
		checks++;
		usleep(200000);
	}
	CHECK(hang == 1 && checks <= 3, "stalled sends: MiniportCheckForHangEx reports a hang after "
	      "%u healthy checks", checks);
	/* The sender thread is stuck in its first call until the reset. */
	sender.stop = true;
	st = nd_reset(15000);
	nd_hold_dpcs(false);
	CHECK(st == ND_STATUS_SUCCESS, "MiniportResetEx on the stalled adapter: NdisMResetComplete(%#x)",
	      st);
	vh_thread_join(tid);
	printf("# stall test: %lu send calls: %lu all ok, %lu with RESET_IN_PROGRESS, %lu other\n",
	       sender.calls, sender.ok, sender.reset_status, sender.other);
	CHECK(sender.calls >= 1 && sender.reset_status >= 1 && sender.other == 0,
	      "the stalled sends completed with RESET_IN_PROGRESS");
	CHECK(echo_once(0x3c), "UDP echo after recovering from the stall");
	hang = nd_check_for_hang();
	CHECK(hang == 0, "MiniportCheckForHangEx after the recovery: %d", hang);
	return failed;
}

/* Pause while the peer's echoes of a burst are arriving: the emulated NDIS
 * stops on any indication after Pause completed, and Pause must wait for the
 * NBLs that are out. Then the adapter must work as before. */
static int pause_under_rx(const char *service)
{
	static uint8_t frames[64][128];
	const uint8_t *fp[64];
	size_t lens[64];
	int failed = 0, f;

	for (unsigned i = 0; i < 64; i++) {
		lens[i] = bench_udp_frame(frames[i], &nb, NET_ECHO_PORT, 64, 0x100 + i);
		bench_put16(frames[i] + 34, 40001);
		fp[i] = frames[i];
	}
	CHECK(nd_send_chain(fp, lens, 16, 4, 10000) == ND_STATUS_SUCCESS,
	      "a burst of 64 UDP echo requests sent");
	f = nd_pause_restart();
	CHECK(f == 0, "MiniportPause and MiniportRestart while the echoes arrive (%d failures)", f);
	CHECK(echo_once(0x77), "UDP echo after the pause under receive traffic");
	return failed;
}

static int reset_run(const char *service)
{
	struct nd_counts c;
	uint32_t st;
	int failed = 0, tid, hang;

	CHECK(arp_resolve(10000), "reset test: ARP with the Linux peer before the reset");
	hang = nd_check_for_hang();
	CHECK(hang == 0, "MiniportCheckForHangEx on a healthy adapter: %d (0 = not hung)", hang);

	memset(&sender, 0, sizeof(sender));
	tid = vh_thread_start("net-sender", 256 << 10, sender_main, NULL);
	if (tid < 0) {
		printf("not ok - %s: cannot start the sender thread\n", service);
		return failed + 1;
	}
	usleep(300000);
	st = nd_reset(15000);
	CHECK(st == ND_STATUS_SUCCESS, "MiniportResetEx during traffic: NdisMResetComplete(%#x)", st);
	usleep(300000);
	sender.stop = true;
	vh_thread_join(tid);
	printf("# reset test: %lu send calls: %lu all ok, %lu with RESET_IN_PROGRESS, %lu other\n",
	       sender.calls, sender.ok, sender.reset_status, sender.other);
	CHECK(sender.other == 0, "every send around the reset completed (success or RESET_IN_PROGRESS)");
	CHECK(nd_reset_completions() == 1, "NdisMResetComplete called once (%u)",
	      nd_reset_completions());
	nd_counts(&c);
	CHECK(c.tx_sent == c.tx_completed, "each NBL completed exactly once (%lu sent, %lu completed)",
	      c.tx_sent, c.tx_completed);
	CHECK(arp_resolve(10000), "ARP request and reply after the reset");
	CHECK(echo_once(0x5a), "UDP echo with the Linux peer after the reset");
	hang = nd_check_for_hang();
	CHECK(hang == 0, "MiniportCheckForHangEx after the reset: %d", hang);
	st = nd_reset(15000);
	CHECK(st == ND_STATUS_SUCCESS, "a second reset while idle: NdisMResetComplete(%#x)", st);
	CHECK(echo_once(0xa5), "UDP echo after the second reset");
	failed += stall_run(service);
	failed += pause_under_rx(service);
	return failed;
}

int net_bench_run(const char *service)
{
	int failed = 0;

	uint32_t filter = ND_PACKET_TYPE_DIRECTED | ND_PACKET_TYPE_BROADCAST, done = 0, needed = 0;

	nd_mac(nb.self_mac);
	/* As a bound protocol does: nothing is indicated before a packet filter is set. */
	if (nd_oid(true, ND_OID_GEN_CURRENT_PACKET_FILTER, &filter, sizeof(filter), &done, &needed) !=
	    ND_STATUS_SUCCESS) {
		printf("not ok - %s: setting the packet filter failed\n", service);
		return 1;
	}
	if (reset_test)
		failed += reset_run(service);
	if (bench_secs)
		failed += bench_run(service);
	return failed;
}
