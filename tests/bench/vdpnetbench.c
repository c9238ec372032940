/* vdpnetbench: the Linux side of `make bench-net` (ci/vm/bench.sh).
 *
 *   vdpnetbench sink PORT MAXSECONDS
 *       UDP socket on PORT; prints "ready", then counts datagrams until one
 *       second passes without any after the first (or MAXSECONDS pass) and
 *       prints "sink PACKETS PAYLOAD_BYTES SECONDS" (first to last packet).
 *   vdpnetbench source DST_IP PORT PAYLOAD SECONDS
 *       sends PAYLOAD-byte UDP datagrams to DST_IP:PORT through Linux's
 *       stack for SECONDS; prints "source SENT".
 *   vdpnetbench raw IFNAME SELF_IP PEER_IP SECONDS
 *       the Linux baseline of vdphost's --net-bench (tests/vmhost/
 *       net_bench.c): the same four measurements with the same frames, the
 *       miniport replaced by Linux's virtio_net driver under an AF_PACKET
 *       socket on IFNAME (a NIC with no address of its own), the peer being
 *       this program's sink/source on the NIC that owns PEER_IP. Prints
 *       "# VDPNETBENCH metric value" like vdphost.
 *
 * Figures are printed, never asserted. */
#define _GNU_SOURCE
#include "bench_frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FULL 1472u
#define SMALL 18u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sink(int port, unsigned max_secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned long long pkts = 0, bytes = 0;
	double first = 0, last = 0, end = now_s() + max_secs;
	int rcvbuf = 8 << 20;
	char buf[65536];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "vdpnetbench: sink on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("ready\n");
	fflush(stdout);
	while (now_s() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0) {
			if (pkts)
				break;
			continue;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		last = now_s();
		if (!pkts++)
			first = last;
		bytes += (unsigned long long)n;
	}
	printf("sink %llu %llu %.6f\n", pkts, bytes, last - first);
	return 0;
}

static int source(const char *ip, int port, unsigned payload, unsigned secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned long long sent = 0;
	char buf[2048];
	double end;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 || payload > sizeof(buf) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "vdpnetbench: source to %s:%d: %s\n", ip, port, strerror(errno));
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	end = now_s() + secs;
	while (now_s() < end) {
		/* ENOBUFS and friends: the queue is full, which is the point; keep going. */
		if (send(fd, buf, payload, 0) == (ssize_t)payload)
			sent++;
	}
	printf("source %llu\n", sent);
	return 0;
}

/* ------------------------------------------------------------ raw (baseline of net_bench.c) */

static int rawfd;
static struct bench_addrs nb;
static const char *self_path;

static void send_arp(bool reply, const uint8_t *to_mac, const uint8_t *to_ip)
{
	uint8_t f[60];

	(void)send(rawfd, f, bench_arp_frame(f, &nb, reply, to_mac, to_ip), 0);
}

static void answer_arp(const uint8_t *f, ssize_t len)
{
	if (bench_is_arp(f, len, 1) && !memcmp(f + 38, nb.self_ip, 4))
		send_arp(true, f + 22, f + 28);
}

static ssize_t raw_recv(uint8_t *f, size_t cap, int timeout_ms)
{
	struct pollfd p = { rawfd, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	return recv(rawfd, f, cap, 0);
}

static bool arp_resolve(void)
{
	uint8_t f[2048];

	for (int tries = 0; tries < 10; tries++) {
		double retry = now_s() + 1.0;

		send_arp(false, NULL, nb.peer_ip);
		while (now_s() < retry) {
			ssize_t n = raw_recv(f, sizeof(f), 100);

			if (bench_is_arp(f, n, 2) && !memcmp(f + 28, nb.peer_ip, 4)) {
				memcpy(nb.peer_mac, f + 22, 6);
				return true;
			}
			answer_arp(f, n);
		}
	}
	return false;
}

struct peer {
	pid_t pid;
	FILE *out;
};

static bool peer_start(struct peer *p, char *const argv[])
{
	int fds[2];

	if (pipe(fds))
		return false;
	p->pid = fork();
	if (p->pid < 0)
		return false;
	if (p->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		close(rawfd);
		execv(self_path, argv);
		_exit(127);
	}
	close(fds[1]);
	p->out = fdopen(fds[0], "r");
	return p->out != NULL;
}

static bool peer_line(struct peer *p, char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, p->out))
		return false;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

static void peer_end(struct peer *p)
{
	int status;

	if (waitpid(p->pid, &status, WNOHANG) == 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
	}
	fclose(p->out);
}

static void metric(const char *name, double v)
{
	printf("# VDPNETBENCH %s %.4g\n", name, v);
}

static int raw_tx(const char *label, unsigned payload, unsigned secs)
{
	static uint8_t f[1514];
	char line[256], max[16];
	char *argv[] = { (char *)self_path, "sink", "9000", max, NULL };
	unsigned long long sent = 0, pkts = 0, bytes = 0;
	double t0, t1, span = 0;
	uint32_t seq = 0;
	struct peer p;

	snprintf(max, sizeof(max), "%u", secs + 10);
	if (!peer_start(&p, argv) || !peer_line(&p, line, sizeof(line)) || strcmp(line, "ready")) {
		printf("not ok - bench %s: the sink did not start\n", label);
		return 1;
	}
	t0 = now_s();
	do {
		size_t len = bench_udp_frame(f, &nb, BENCH_PORT, payload, seq++);

		if (send(rawfd, f, len, 0) == (ssize_t)len)
			sent++;
		t1 = now_s();
	} while (t1 - t0 < secs);
	if (peer_line(&p, line, sizeof(line)))
		sscanf(line, "sink %llu %llu %lf", &pkts, &bytes, &span);
	peer_end(&p);
	printf("# bench %s: %llu frames sent in %.2f s (%.0f/s offered), Linux socket got %llu in "
	       "%.2f s\n", label, sent, t1 - t0, sent / (t1 - t0), pkts, span);
	if (span <= 0 || !pkts)
		return 1;
	if (payload == FULL) {
		metric("tx-full-gbit", bytes * 8.0 / span / 1e9);
		metric("tx-full-pps", pkts / span);
	} else {
		metric("tx-small-pps", pkts / span);
	}
	return 0;
}

static int raw_rx(const char *label, unsigned payload, unsigned secs)
{
	static uint8_t f[2048];
	char line[256], ip[32], size[16], dur[16];
	char *argv[] = { (char *)self_path, "source", ip, "9000", size, dur, NULL };
	unsigned long long pkts = 0, offered = 0;
	double first = 0, last = 0, end = now_s() + secs + 20;
	struct peer p;
	int idle = 0, status;
	bool exited = false;

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", nb.self_ip[0], nb.self_ip[1], nb.self_ip[2], nb.self_ip[3]);
	snprintf(size, sizeof(size), "%u", payload);
	snprintf(dur, sizeof(dur), "%u", secs);
	if (!peer_start(&p, argv)) {
		printf("not ok - bench %s: the source did not start\n", label);
		return 1;
	}
	while (now_s() < end) {
		ssize_t n = raw_recv(f, sizeof(f), 100);

		if (n >= 42 && f[12] == 0x08 && f[13] == 0 && f[23] == 17 &&
		    !memcmp(f + 30, nb.self_ip, 4) && (unsigned)(f[36] << 8 | f[37]) == BENCH_PORT &&
		    (unsigned)(f[38] << 8 | f[39]) == 8 + payload) {
			last = now_s();
			if (!pkts++)
				first = last;
			idle = 0;
			continue;
		}
		if (n > 0) {
			answer_arp(f, n);
			continue;
		}
		if (!exited)
			exited = waitpid(p.pid, &status, WNOHANG) == p.pid;
		if (exited && ++idle >= 5)
			break;
	}
	if (peer_line(&p, line, sizeof(line)))
		sscanf(line, "source %llu", &offered);
	if (exited)
		fclose(p.out);
	else
		peer_end(&p);
	printf("# bench %s: Linux sent %llu, the raw socket got %llu in %.2f s\n", label, offered,
	       pkts, last - first);
	if (pkts < 2 || last <= first)
		return 1;
	if (payload == FULL) {
		metric("rx-full-gbit", pkts * (double)payload * 8.0 / (last - first) / 1e9);
		metric("rx-full-pps", pkts / (last - first));
	} else {
		metric("rx-small-pps", pkts / (last - first));
	}
	return 0;
}

static int raw(const char *ifname, const char *self, const char *peer, unsigned secs)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr;
	int failed = 0, sndbuf = 4 << 20, rcvbuf = 8 << 20;

	rawfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (rawfd < 0 || ioctl(rawfd, SIOCGIFHWADDR, &ifr) ||
	    inet_pton(AF_INET, self, nb.self_ip) != 1 || inet_pton(AF_INET, peer, nb.peer_ip) != 1) {
		printf("not ok - bench: raw socket on %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(nb.self_mac, ifr.ifr_hwaddr.sa_data, 6);
	ll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!ll.sll_ifindex || bind(rawfd, (struct sockaddr *)&ll, sizeof(ll))) {
		printf("not ok - bench: bind to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
#ifdef PACKET_IGNORE_OUTGOING
	{
		/* Without it every frame sent is also queued back to this socket. */
		int one = 1;

		setsockopt(rawfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	}
#endif
	setsockopt(rawfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(rawfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (!arp_resolve()) {
		printf("not ok - bench: no ARP reply from %s on %s\n", peer, ifname);
		return 1;
	}
	failed += raw_tx("tx-full", FULL, secs);
	failed += raw_tx("tx-small", SMALL, secs);
	failed += raw_rx("rx-full", FULL, secs);
	failed += raw_rx("rx-small", SMALL, secs);
	if (failed)
		printf("not ok - bench: %d Linux baseline measurements without a result\n", failed);
	else
		printf("ok - Linux virtio_net baseline ran (%u s per measurement)\n", secs);
	return failed != 0;
}

static unsigned number(const char *s, unsigned max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0 || v > (long)max) {
		fprintf(stderr, "vdpnetbench: '%s' is not a number from 1 to %u\n", s, max);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	self_path = argv[0];
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink((int)number(argv[2], 65535), number(argv[3], 3600));
	if (argc == 6 && !strcmp(argv[1], "source"))
		return source(argv[2], (int)number(argv[3], 65535), number(argv[4], 1472),
			      number(argv[5], 3600));
	if (argc == 6 && !strcmp(argv[1], "raw"))
		return raw(argv[2], argv[3], argv[4], number(argv[5], 3600));
	fprintf(stderr, "usage: vdpnetbench sink PORT MAXSECONDS\n"
			"       vdpnetbench source DST_IP PORT PAYLOAD SECONDS\n"
			"       vdpnetbench raw IFNAME SELF_IP PEER_IP SECONDS\n");
	return 2;
}
