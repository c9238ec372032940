/* vdpswitch against a scripted vhost-user front end (no QEMU): shared
 * memory from a memfd, split rings written by the test. A TCP GSO frame
 * sent on port 0 must come out of port 1 (no GUEST_TSO) as checksummed
 * segments; hostile rings (buffers outside memory, loops, impossible
 * indexes, wrong descriptor directions, bad indirect tables) must break
 * only the offending port, with a clear message, never the switch.
 * The switch binary: VDP_VDPSWITCH, else ../bin/vdpswitch beside this test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vsw_offload.h"

#define MEM_SIZE (1u << 20)
#define GPA_BASE 0x100000ull
#define UVA_BASE 0x7f1200000000ull
#define QSZ 8
/* Ring layout inside the shared memory (offsets), up to 4 rings (2 pairs). */
#define MAXQ 4
#define DESC(q) (0x3000u * (q))
#define AVAIL(q) (0x3000u * (q) + 0x1000u)
#define USED(q) (0x3000u * (q) + 0x2000u)
#define BUF(i) (0x10000u + (i) * 0x2000u)

#define F_CSUM (1ull << 0)
#define F_HOST_TSO4 (1ull << 11)
#define F_MRG_RXBUF (1ull << 15)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL_FEATURES (1ull << 30)
#define PROTO_MQ (1ull << 0)

struct msg {
	uint32_t req, flags, size;
	uint8_t payload[256];
} __attribute__((packed));

struct fe {
	int sock, memfd, kick[MAXQ], call[MAXQ];
	unsigned nq;
	uint8_t *mem;
};

static char dir[64], sock0[96], sock1[96], logpath[96];
static pid_t sw_pid;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static bool vu_send(struct fe *f, uint32_t req, const void *pl, uint32_t size, const int *fds,
		    unsigned nfds)
{
	struct msg m = { req, 1, size, { 0 } };
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec io = { &m, 12 + size };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1 };

	memcpy(m.payload, pl, size);
	if (nfds) {
		struct cmsghdr *c;
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(f->sock, &mh, MSG_NOSIGNAL) == (ssize_t)(12 + size);
}

static bool vu_u64(struct fe *f, uint32_t req, uint64_t v, const int *fds, unsigned nfds)
{
	return vu_send(f, req, &v, 8, fds, nfds);
}

static bool get_u64(struct fe *f, uint32_t req, uint64_t *out)
{
	struct msg m;

	if (!vu_send(f, req, NULL, 0, NULL, 0))
		return false;
	if (recv(f->sock, &m, 12 + 8, MSG_WAITALL) != 20 || m.req != req || m.size != 8)
		return false;
	memcpy(out, m.payload, 8);
	return true;
}

/* GET_FEATURES also serves as a barrier: the answer comes after everything sent before. */
static bool get_features(struct fe *f, uint64_t *out)
{
	return get_u64(f, 1, out);
}

static void ring_msg(struct fe *f, uint32_t req, uint32_t q, uint32_t num)
{
	uint32_t st[2] = { q, num };

	assert_true(vu_send(f, req, st, 8, NULL, 0));
}

/* nq rings (2 per pair); with F_PROTOCOL_FEATURES the protocol features
 * proto are negotiated and every ring starts disabled. */
static void fe_open_mq(struct fe *f, const char *path, uint64_t features, unsigned nq,
		       uint64_t proto)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct { uint32_t n, pad; uint64_t gpa, size, uva, off; } mem = { 1, 0, GPA_BASE, MEM_SIZE,
									      UVA_BASE, 0 };
	uint64_t offered;

	memset(f, 0, sizeof(*f));
	strcpy(sun.sun_path, path);
	f->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->sock >= 0);
	assert_int_equal(connect(f->sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	f->memfd = memfd_create("vsw-test", MFD_CLOEXEC);
	assert_true(f->memfd >= 0);
	assert_int_equal(ftruncate(f->memfd, MEM_SIZE), 0);
	f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	assert_true(f->mem != MAP_FAILED);
	f->nq = nq;
	assert_true(get_features(f, &offered));
	assert_int_equal(features & ~offered, 0);
	if (features & F_PROTOCOL_FEATURES) {
		uint64_t pf, qn;
		assert_true(get_u64(f, 15, &pf));
		assert_int_equal(proto & ~pf, 0);
		assert_true(vu_u64(f, 16, proto, NULL, 0));
		if (proto & PROTO_MQ) {
			assert_true(get_u64(f, 17, &qn)); /* GET_QUEUE_NUM: pairs */
			assert_true(qn >= nq / 2);
		}
	}
	assert_true(vu_u64(f, 2, features, NULL, 0));
	assert_true(vu_send(f, 3, NULL, 0, NULL, 0));
	assert_true(vu_send(f, 5, &mem, sizeof(mem), &f->memfd, 1));
	for (uint32_t q = 0; q < nq; q++) {
		struct { uint32_t idx, flags; uint64_t desc, used, avail, log; } a = {
			q, 0, UVA_BASE + DESC(q), UVA_BASE + USED(q), UVA_BASE + AVAIL(q), 0 };
		ring_msg(f, 8, q, QSZ);
		assert_true(vu_send(f, 9, &a, sizeof(a), NULL, 0));
		ring_msg(f, 10, q, 0);
		f->call[q] = eventfd(0, EFD_NONBLOCK);
		f->kick[q] = eventfd(0, EFD_NONBLOCK);
		assert_true(vu_u64(f, 13, q, &f->call[q], 1));
		assert_true(vu_u64(f, 12, q, &f->kick[q], 1));
	}
	assert_true(get_features(f, &offered));
}

static void fe_open(struct fe *f, const char *path, uint64_t features)
{
	fe_open_mq(f, path, features, 2, 0);
}

static unsigned log_count(const char *what);

/* Waits until the switch has seen the close, so the next front end is not
 * refused as a second one. */
static void fe_close(struct fe *f)
{
	unsigned before = log_count("front end disconnected");

	close(f->sock);
	for (int i = 0; i < 2000 && log_count("front end disconnected") == before; i++)
		usleep(1000);
	munmap(f->mem, MEM_SIZE);
	close(f->memfd);
	for (unsigned q = 0; q < f->nq; q++) {
		close(f->kick[q]);
		close(f->call[q]);
	}
}

static void desc(struct fe *f, unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *d = f->mem + DESC(q) + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void avail(struct fe *f, unsigned q, uint16_t slot, uint16_t head, uint16_t idx)
{
	uint16_t *a = (uint16_t *)(f->mem + AVAIL(q));

	a[2 + slot % QSZ] = head;
	__atomic_store_n(&a[1], idx, __ATOMIC_RELEASE);
	eventfd_write(f->kick[q], 1);
}

static uint16_t used_idx(struct fe *f, unsigned q)
{
	return __atomic_load_n((uint16_t *)(f->mem + USED(q)) + 1, __ATOMIC_ACQUIRE);
}

static bool wait_used(struct fe *f, unsigned q, uint16_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (used_idx(f, q) == want)
			return true;
		usleep(1000);
	}
	return false;
}

static unsigned log_count(const char *what)
{
	char line[1024];
	unsigned n = 0;
	FILE *l = fopen(logpath, "r");

	while (l && fgets(line, sizeof(line), l))
		n += strstr(line, what) != NULL;
	if (l)
		fclose(l);
	return n;
}

static bool log_has(const char *what)
{
	char line[1024];
	bool found = false;

	for (int i = 0; i < 2000 && !found; i++) {
		FILE *l = fopen(logpath, "r");
		while (l && !found && fgets(line, sizeof(line), l))
			found = strstr(line, what) != NULL;
		if (l)
			fclose(l);
		if (!found)
			usleep(1000);
	}
	return found;
}

static int group_setup(void **state)
{
	static char self[4096];
	const char *bin = getenv("VDP_VDPSWITCH");
	ssize_t n;

	(void)state;
	if (!bin) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 32);
		if (n <= 0)
			return -1;
		self[n] = 0;
		strcpy(strrchr(self, '/'), "/../bin/vdpswitch");
		bin = self;
	}
	strcpy(dir, "/tmp/vswtest.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock0, sizeof(sock0), "%s/p0.sock", dir);
	snprintf(sock1, sizeof(sock1), "%s/p1.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	sw_pid = fork();
	if (sw_pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execl(bin, bin, "--verify", "0", sock0, sock1, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock1, F_OK); i++)
		usleep(10000);
	return access(sock1, F_OK) ? -1 : 0;
}

static int group_teardown(void **state)
{
	int st = 0;
	char cmd[400];

	(void)state;
	kill(sw_pid, SIGTERM);
	waitpid(sw_pid, &st, 0);
	snprintf(cmd, sizeof(cmd), "cat %s >&2; rm -rf %s", logpath, dir);
	if (system(cmd) != 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A 4000-byte TCP payload as one GSO frame from port 0; port 1 negotiated
 * neither GUEST_CSUM nor GUEST_TSO4, so three finished segments arrive. */
static void gso_frame_is_segmented(void **state)
{
	struct fe a, b;
	uint8_t *hdr, *f, *ip, *t;
	size_t payload = 4000, len = 14 + 20 + 20 + payload, got = 0;
	char err[200];

	(void)state;
	fe_open(&a, sock0, F_VERSION_1 | F_CSUM | F_HOST_TSO4 | F_INDIRECT);
	fe_open(&b, sock1, F_VERSION_1);
	for (unsigned i = 0; i < QSZ; i++) {
		desc(&b, 0, i, GPA_BASE + BUF(i), 2048, 2 /* WRITE */, 0);
		avail(&b, 0, (uint16_t)i, (uint16_t)i, (uint16_t)(i + 1));
	}
	hdr = a.mem + BUF(0);
	f = hdr + 12;
	memset(hdr, 0, 12 + len);
	hdr[0] = VSW_HDR_F_NEEDS_CSUM;
	hdr[1] = VSW_GSO_TCPV4;
	*(uint16_t *)(hdr + 2) = 54;
	*(uint16_t *)(hdr + 4) = 1448;
	*(uint16_t *)(hdr + 6) = 34;
	*(uint16_t *)(hdr + 8) = 16;
	memcpy(f, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x08\x00", 14);
	ip = f + 14;
	t = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\xc0\xa8\x4d\x02\xc0\xa8\x4d\x01", 8);
	put16(t, 1234);
	put16(t + 2, 80);
	t[12] = 0x50;
	t[13] = 0x18;
	for (size_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)i;
	put16(t + 16, (uint16_t)~vsw_fold(vsw_pseudo(ip, 4, 6, 20 + payload)));
	/* Header and frame in two buffers behind one indirect table. */
	desc(&a, 1, 0, GPA_BASE + BUF(10), 32, 4 /* INDIRECT */, 0);
	{
		uint8_t *tbl = a.mem + BUF(10);
		uint64_t a0 = GPA_BASE + BUF(0), a1 = GPA_BASE + BUF(0) + 40;
		uint32_t l0 = 40, l1 = (uint32_t)(12 + len - 40);
		uint16_t fl = 1, nx = 1, fl1 = 0;
		memcpy(tbl, &a0, 8);
		memcpy(tbl + 8, &l0, 4);
		memcpy(tbl + 12, &fl, 2);
		memcpy(tbl + 14, &nx, 2);
		memcpy(tbl + 16, &a1, 8);
		memcpy(tbl + 24, &l1, 4);
		memcpy(tbl + 28, &fl1, 2);
	}
	avail(&a, 1, 0, 0, 1);
	assert_true(wait_used(&a, 1, 1));
	assert_true(wait_used(&b, 0, 3));
	for (unsigned i = 0; i < 3; i++) {
		uint32_t *e = (uint32_t *)(b.mem + USED(0) + 4 + 8 * i);
		uint8_t *seg = b.mem + BUF(e[0]);
		assert_true(e[1] > 12 + 54);
		assert_int_equal(seg[0], 0); /* no NEEDS_CSUM, no GSO: finished frames */
		assert_int_equal(seg[1], 0);
		assert_int_equal(seg[10] | seg[11] << 8, 1); /* num_buffers without MRG_RXBUF */
		assert_true(vsw_check_wire(seg + 12, e[1] - 12, err, sizeof(err)));
		assert_memory_equal(seg + 12 + 54, t + 20 + got, e[1] - 12 - 54);
		got += e[1] - 12 - 54;
	}
	assert_int_equal(got, payload);
	fe_close(&a);
	fe_close(&b);
}

/* Mergeable receive buffers: a 1000-byte frame into 600-byte buffers takes
 * two of them, and the header says so. */
static void mergeable_buffers(void **state)
{
	struct fe a, b;
	uint8_t *hdr = NULL, *out;
	size_t len = 1000;

	(void)state;
	fe_open(&a, sock0, F_VERSION_1);
	fe_open(&b, sock1, F_VERSION_1 | F_MRG_RXBUF);
	for (unsigned i = 0; i < QSZ; i++) {
		desc(&b, 0, i, GPA_BASE + BUF(i), 600, 2, 0);
		avail(&b, 0, (uint16_t)i, (uint16_t)i, (uint16_t)(i + 1));
	}
	hdr = a.mem + BUF(0);
	memset(hdr, 0, 12);
	memcpy(hdr + 12, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x88\xb5", 14);
	for (size_t i = 14; i < len; i++)
		hdr[12 + i] = (uint8_t)(i * 3);
	desc(&a, 1, 0, GPA_BASE + BUF(0), (uint32_t)(12 + len), 0, 0);
	avail(&a, 1, 0, 0, 1);
	assert_true(wait_used(&b, 0, 2));
	{
		uint32_t *e0 = (uint32_t *)(b.mem + USED(0) + 4), *e1 = e0 + 2;
		out = malloc(1200);
		assert_int_equal(e0[1], 600);
		assert_int_equal(e1[1], 12 + len - 600);
		memcpy(out, b.mem + BUF(e0[0]), 600);
		memcpy(out + 600, b.mem + BUF(e1[0]), e1[1]);
		assert_int_equal(out[10] | out[11] << 8, 2);
		assert_memory_equal(out + 12, hdr + 12, len);
		free(out);
	}
	fe_close(&a);
	fe_close(&b);
}

/* EVENT_IDX: the switch asks for the next kick through avail_event and
 * interrupts only when the used index passes the driver's used_event. */
static void event_idx(void **state)
{
	struct fe a;
	uint16_t *avail_ring, *used_ring;
	eventfd_t n;

	(void)state;
	fe_open(&a, sock0, F_VERSION_1 | F_EVENT_IDX);
	avail_ring = (uint16_t *)(a.mem + AVAIL(1));
	used_ring = (uint16_t *)(a.mem + USED(1));
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *b = a.mem + BUF(i);
		memset(b, 0, 12 + 60);
		memcpy(b + 12, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x88\xb5", 14);
		desc(&a, 1, i, GPA_BASE + BUF(i), 12 + 60, 0, 0);
	}
	avail_ring[2 + QSZ] = 0; /* used_event: interrupt after entry 0 */
	avail(&a, 1, 0, 0, 1);
	assert_true(wait_used(&a, 1, 1));
	usleep(20000);
	assert_int_equal(eventfd_read(a.call[1], &n), 0);
	assert_int_equal(__atomic_load_n(&used_ring[2 + 4 * QSZ], __ATOMIC_ACQUIRE), 1);
	avail_ring[2 + QSZ] = 5; /* no interrupt before entry 5 */
	avail(&a, 1, 1, 1, 2);
	assert_true(wait_used(&a, 1, 2));
	usleep(20000);
	assert_int_equal(eventfd_read(a.call[1], &n), -1);
	assert_int_equal(__atomic_load_n(&used_ring[2 + 4 * QSZ], __ATOMIC_ACQUIRE), 2);
	avail_ring[2 + QSZ] = 2; /* entry 2 is the one to interrupt after */
	avail(&a, 1, 2, 2, 3);
	assert_true(wait_used(&a, 1, 3));
	usleep(20000);
	assert_int_equal(eventfd_read(a.call[1], &n), 0);
	fe_close(&a);
}

enum bad { BAD_ADDR, BAD_LOOP, BAD_IDX, BAD_DIR, BAD_INDIRECT, BAD_HEAD, BAD_NEXT };

static void hostile(enum bad kind, const char *msg)
{
	struct fe a;

	fe_open(&a, sock0, F_VERSION_1 | F_INDIRECT);
	switch (kind) {
	case BAD_ADDR:
		desc(&a, 1, 0, GPA_BASE + MEM_SIZE - 10, 100, 0, 0);
		avail(&a, 1, 0, 0, 1);
		break;
	case BAD_LOOP:
		desc(&a, 1, 0, GPA_BASE + BUF(0), 100, 1, 1);
		desc(&a, 1, 1, GPA_BASE + BUF(0), 100, 1, 0);
		avail(&a, 1, 0, 0, 1);
		break;
	case BAD_IDX:
		desc(&a, 1, 0, GPA_BASE + BUF(0), 100, 0, 0);
		avail(&a, 1, 0, 0, 100);
		break;
	case BAD_DIR:
		desc(&a, 1, 0, GPA_BASE + BUF(0), 100, 2, 0);
		avail(&a, 1, 0, 0, 1);
		break;
	case BAD_INDIRECT:
		desc(&a, 1, 0, GPA_BASE + BUF(0), 24, 4, 0);
		avail(&a, 1, 0, 0, 1);
		break;
	case BAD_HEAD:
		avail(&a, 1, 0, 9, 1);
		break;
	case BAD_NEXT:
		desc(&a, 1, 0, GPA_BASE + BUF(0), 100, 1, 8);
		avail(&a, 1, 0, 0, 1);
		break;
	}
	assert_true(log_has(msg));
	assert_int_equal(kill(sw_pid, 0), 0);
	/* The switch forgets the broken front end and serves the next one. */
	fe_close(&a);
}

static void bad_buffer_address(void **s) { (void)s; hostile(BAD_ADDR, "outside guest memory"); }
static void bad_chain_loop(void **s) { (void)s; hostile(BAD_LOOP, "loops"); }
static void bad_avail_index(void **s) { (void)s; hostile(BAD_IDX, "ahead of"); }
static void bad_direction(void **s) { (void)s; hostile(BAD_DIR, "write-only descriptor"); }
static void bad_indirect(void **s) { (void)s; hostile(BAD_INDIRECT, "indirect table of 24 bytes"); }
static void bad_head(void **s) { (void)s; hostile(BAD_HEAD, "descriptor head 9"); }
static void bad_next(void **s) { (void)s; hostile(BAD_NEXT, "next 8 beyond 8"); }

/* --verify 0: a driver's header that does not match its frame is counted
 * and logged (here csum_offset 6, the UDP place, on a TCP frame). */
static void verify_reports_bad_header(void **state)
{
	struct fe a;
	uint8_t *hdr;
	unsigned before = log_count("VERIFY:");

	(void)state;
	fe_open(&a, sock0, F_VERSION_1 | F_CSUM);
	hdr = a.mem + BUF(0);
	memset(hdr, 0, 12 + 60);
	hdr[0] = VSW_HDR_F_NEEDS_CSUM;
	*(uint16_t *)(hdr + 6) = 34;
	*(uint16_t *)(hdr + 8) = 6;
	memcpy(hdr + 12, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x08\x00\x45", 15);
	put16(hdr + 12 + 16, 46);
	hdr[12 + 23] = 6;
	hdr[12 + 34 + 12] = 0x50;
	desc(&a, 1, 0, GPA_BASE + BUF(0), 12 + 60, 0, 0);
	avail(&a, 1, 0, 0, 1);
	assert_true(wait_used(&a, 1, 1));
	assert_true(log_has("csum_start 34 / csum_offset 6, the TCP header is at 34 (offset 16)"));
	assert_int_equal(log_count("VERIFY:"), before + 1);
	fe_close(&a);
}

/* Protocol misuse drops the connection, and the switch keeps listening. */
static void bad_ring_size(void **state)
{
	struct fe a;
	uint64_t f;

	(void)state;
	fe_open(&a, sock0, F_VERSION_1);
	ring_msg(&a, 8, 0, 3);
	assert_false(get_features(&a, &f));
	assert_true(log_has("SET_VRING_NUM 3"));
	fe_close(&a);
	fe_open(&a, sock0, F_VERSION_1);
	fe_close(&a);
}

/* ---- multi-queue: two pairs per port ---- */

#define MAC_A "\x52\x54\x00\x12\x34\x56"
#define MAC_B "\x52\x54\x00\x12\x34\x57"
#define IP_A 0xc0a84d02u
#define IP_B 0xc0a84d01u
#define UDP_PAYLOAD 32

static void enable(struct fe *f, unsigned q, bool on)
{
	uint64_t x;

	ring_msg(f, 18, q, on);
	assert_true(get_features(f, &x)); /* barrier: the switch has applied it */
}

/* One UDP/IPv4 frame with correct checksums behind a zero virtio-net header
 * at buf, from (src, sip:sport) to (dst, dip:dport); returns header + frame bytes. */
static uint32_t udp_frame(uint8_t *buf, const char *dst, const char *src, uint32_t sip,
			  uint32_t dip, uint16_t sport, uint16_t dport)
{
	uint8_t *f = buf + 12, *ip = f + 14, *u = ip + 20;
	uint16_t ulen = 8 + UDP_PAYLOAD, c;

	memset(buf, 0, 12 + 14 + 20 + ulen);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + ulen));
	ip[8] = 64;
	ip[9] = 17;
	put16(ip + 12, (uint16_t)(sip >> 16));
	put16(ip + 14, (uint16_t)sip);
	put16(ip + 16, (uint16_t)(dip >> 16));
	put16(ip + 18, (uint16_t)dip);
	put16(ip + 10, vsw_fold(vsw_sum(ip, 20, 0)));
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, ulen);
	for (unsigned i = 0; i < UDP_PAYLOAD; i++)
		u[8 + i] = (uint8_t)(sport + i);
	c = vsw_fold(vsw_sum(u, ulen, vsw_pseudo(ip, 4, 17, ulen)));
	put16(u + 6, c ? c : 0xffff);
	return 12u + 14 + 20 + ulen;
}

struct txr {
	uint16_t idx;  /* avail idx of the ring */
	unsigned buf;  /* next buffer number */
};

/* Sends one frame on transmit ring q of f and waits until the switch took it. */
static void send_udp(struct fe *f, unsigned q, struct txr *t, const char *dst, const char *src,
		     uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport)
{
	uint16_t slot = t->idx;
	uint32_t len = udp_frame(f->mem + BUF(t->buf), dst, src, sip, dip, sport, dport);

	desc(f, q, slot % QSZ, GPA_BASE + BUF(t->buf), len, 0, 0);
	t->idx++;
	t->buf++;
	avail(f, q, slot, slot % QSZ, t->idx);
	assert_true(wait_used(f, q, t->idx));
}

/* Receive ring q of B gets QSZ buffers: ring 0 in BUF(40..47), ring 2 in BUF(48..55). */
static void post_rx(struct fe *f, unsigned q)
{
	for (unsigned i = 0; i < QSZ; i++) {
		desc(f, q, i, GPA_BASE + BUF(40 + 4 * q + i), 2048, 2, 0);
		avail(f, q, (uint16_t)i, (uint16_t)i, (uint16_t)(i + 1));
	}
}

/* The UDP destination port of the n-th frame B received on ring q. */
static unsigned rx_dport(struct fe *f, unsigned q, unsigned n)
{
	uint32_t *e = (uint32_t *)(f->mem + USED(q) + 4 + 8 * n);
	const uint8_t *b = f->mem + BUF(40 + 4 * q + e[0]);

	assert_true(e[0] < QSZ);
	assert_int_equal(e[1], 12 + 14 + 20 + 8 + UDP_PAYLOAD);
	return (unsigned)(b[12 + 36] << 8 | b[12 + 37]);
}

/* Waits until B's two receive rings together hold want frames; then no more come. */
static bool wait_rx_total(struct fe *f, unsigned want)
{
	for (int i = 0; i < 2000; i++) {
		if ((unsigned)used_idx(f, 0) + used_idx(f, 2) >= want)
			break;
		usleep(1000);
	}
	usleep(20000);
	return (unsigned)used_idx(f, 0) + used_idx(f, 2) == want;
}

/* Port B has two pairs. A frame goes only to an enabled receive ring;
 * different flows use both rings once both are enabled; a reply follows
 * the pair its flow was last sent on (automatic receive steering) and
 * falls back to an enabled ring when that pair is disabled. */
static void mq_two_pairs(void **state)
{
	struct fe a, b;
	struct txr at[2] = { { 0, 0 }, { 0, 8 } }, bt[2] = { { 0, 20 }, { 0, 28 } };
	unsigned r0, r2, total, n0, n2;

	(void)state;
	fe_open_mq(&a, sock0, F_VERSION_1 | F_PROTOCOL_FEATURES, 4, PROTO_MQ);
	fe_open_mq(&b, sock1, F_VERSION_1 | F_PROTOCOL_FEATURES, 4, PROTO_MQ);
	for (unsigned q = 0; q < 4; q++)
		enable(&a, q, true);
	post_rx(&b, 0);
	post_rx(&b, 2);
	/* Only pair 0 of B is enabled: everything lands on ring 0. */
	enable(&b, 0, true);
	enable(&b, 1, true);
	send_udp(&a, 1, &at[0], MAC_B, MAC_A, IP_A, IP_B, 4000, 1000);
	send_udp(&a, 3, &at[1], MAC_B, MAC_A, IP_A, IP_B, 4001, 1001);
	assert_true(wait_rx_total(&b, 2));
	assert_int_equal(used_idx(&b, 0), 2);
	assert_int_equal(used_idx(&b, 2), 0);
	/* Both pairs enabled: four new flows (never sent by B) spread by hash. */
	enable(&b, 2, true);
	enable(&b, 3, true);
	for (uint16_t k = 0; k < 4; k++)
		send_udp(&a, 1, &at[0], MAC_B, MAC_A, IP_A, IP_B, (uint16_t)(4100 + k), 2000);
	assert_true(wait_rx_total(&b, 6));
	n0 = used_idx(&b, 0) - 2u;
	n2 = used_idx(&b, 2);
	print_message("four flows: %u on ring 0, %u on ring 2\n", n0, n2);
	assert_true(n0 >= 1 && n2 >= 1);
	/* B sends flow X on pair 1 and flow Y on pair 0; A's replies follow. */
	send_udp(&b, 3, &bt[1], MAC_A, MAC_B, IP_B, IP_A, 5000, 6000);
	send_udp(&b, 1, &bt[0], MAC_A, MAC_B, IP_B, IP_A, 5001, 6001);
	r0 = used_idx(&b, 0);
	r2 = used_idx(&b, 2);
	total = r0 + r2;
	send_udp(&a, 1, &at[0], MAC_B, MAC_A, IP_A, IP_B, 6000, 5000);
	assert_true(wait_rx_total(&b, total + 1));
	assert_int_equal(used_idx(&b, 2), r2 + 1);
	assert_int_equal(rx_dport(&b, 2, r2), 5000);
	send_udp(&a, 3, &at[1], MAC_B, MAC_A, IP_A, IP_B, 6001, 5001);
	assert_true(wait_rx_total(&b, total + 2));
	assert_int_equal(used_idx(&b, 0), r0 + 1);
	assert_int_equal(rx_dport(&b, 0, r0), 5001);
	/* Pair 1 of B disabled: flow X's reply now takes ring 0, never ring 2. */
	enable(&b, 2, false);
	enable(&b, 3, false);
	send_udp(&a, 1, &at[0], MAC_B, MAC_A, IP_A, IP_B, 6000, 5000);
	assert_true(wait_rx_total(&b, total + 3));
	assert_int_equal(used_idx(&b, 0), r0 + 2);
	assert_int_equal(rx_dport(&b, 0, r0 + 1), 5000);
	assert_int_equal(used_idx(&b, 2), r2 + 1);
	/* A disabled transmit ring is not served until it is enabled again. */
	{
		uint32_t len = udp_frame(b.mem + BUF(bt[1].buf), MAC_A, MAC_B, IP_B, IP_A, 5002, 6002);
		desc(&b, 3, 1, GPA_BASE + BUF(bt[1].buf), len, 0, 0);
		avail(&b, 3, 1, 1, 2);
		usleep(120000); /* more than two passes of the switch's 50 ms tick */
		assert_int_equal(used_idx(&b, 3), 1);
		enable(&b, 3, true);
		assert_true(wait_used(&b, 3, 2));
	}
	fe_close(&a);
	fe_close(&b);
}

/* A ring index beyond the pairs the switch serves, or an enable value
 * other than 0/1, drops the connection. */
static void mq_bad_ring_index(void **state)
{
	struct fe a;
	uint64_t f;

	(void)state;
	fe_open_mq(&a, sock0, F_VERSION_1 | F_PROTOCOL_FEATURES, 4, PROTO_MQ);
	ring_msg(&a, 18, 16, 1);
	assert_false(get_features(&a, &f));
	assert_true(log_has("request 18 for queue 16: only 16 queues"));
	fe_close(&a);
	/* SET_VRING_ENABLE takes 0 or 1 only. */
	fe_open_mq(&a, sock0, F_VERSION_1 | F_PROTOCOL_FEATURES, 4, PROTO_MQ);
	ring_msg(&a, 18, 2, 7);
	assert_false(get_features(&a, &f));
	assert_true(log_has("SET_VRING_ENABLE 7 for queue 2"));
	fe_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gso_frame_is_segmented),
		cmocka_unit_test(mergeable_buffers),
		cmocka_unit_test(event_idx),
		cmocka_unit_test(bad_buffer_address),
		cmocka_unit_test(bad_chain_loop),
		cmocka_unit_test(bad_avail_index),
		cmocka_unit_test(bad_direction),
		cmocka_unit_test(bad_indirect),
		cmocka_unit_test(bad_head),
		cmocka_unit_test(bad_next),
		cmocka_unit_test(bad_ring_size),
		cmocka_unit_test(verify_reports_bad_header),
		cmocka_unit_test(mq_two_pairs),
		cmocka_unit_test(mq_bad_ring_index),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
