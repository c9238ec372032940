/* vdpswitch: a vhost-user virtio-net back end with N ports on Unix
 * sockets that forwards Ethernet frames between them like a learning
 * switch. Unlike a QEMU hub it carries the virtio-net header, so the NICs
 * get checksum and TSO offloads; the switch resolves them the way a device
 * does (finishes checksums, segments TCP) for a port that did not
 * negotiate them, and can verify everything a port sends (--verify).
 *
 * vdpswitch [--log FILE] [--stats FILE] [--verify PORT]... [--off PORT:FEAT[+FEAT]...]...
 *           [--inject bad-seg-csum=PORT] [--want-rx-rings PORT:N]... [--steer ars|hash]
 *           SOCKET...
 *
 * Ports are numbered in the order of their sockets; QEMU connects as the
 * client (-chardev socket,path=SOCKET). FEAT: csum guest_csum host_tso4
 * host_tso6 guest_tso4 guest_tso6 mrg_rxbuf indirect event_idx mq. SIGTERM prints one
 * summary line per port ("errors N") and exits. Multi-queue
 * (VHOST_USER_PROTOCOL_F_MQ): up to MAX_PAIRS pairs per port, rings 2k/2k+1,
 * each served only while enabled; receive ring per flow (see rx_pick;
 * --steer hash: flow hash only); --want-rx-rings P:N makes the summary
 * judge whether port P received on at least N rings. Protocol facts: QEMU's
 * docs/interop/vhost-user.rst; ring layout: virtio 1.2, 2.7. */
#define _GNU_SOURCE
#include "vsw_offload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* vhost-user requests (vhost-user.rst, "Front-end message types"). */
enum {
	VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3, VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5, VU_SET_LOG_BASE = 6, VU_SET_LOG_FD = 7, VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9, VU_SET_VRING_BASE = 10, VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12, VU_SET_VRING_CALL = 13, VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16, VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
};
#define VU_VERSION 1u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTO_MQ 0
#define VU_PROTO_REPLY_ACK 3
#define VU_VRING_NOFD (1u << 8)
#define VU_MAX_PAYLOAD 4096
#define VU_MAX_REGIONS 8

/* virtio / virtio-net feature bits. */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_GUEST_ECN 9
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_MRG_RXBUF 15
#define F_MQ 22 /* QEMU takes it from the back end's offer (vhost_net's user_feature_bits) */
#define F_INDIRECT 28
#define F_EVENT_IDX 29
#define F_VERSION_1 32
#define BIT(n) (1ull << (n))

#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define DESC_F_INDIRECT 4u
#define AVAIL_F_NO_INTERRUPT 1u

#define MAX_PORTS 8
#define MAX_PAIRS 8 /* queue pairs per port (VHOST_USER_PROTOCOL_F_MQ) */
#define NRINGS (2 * MAX_PAIRS)
#define MAX_SEGS 1024
#define QUEUE_MAX 2048 /* frames waiting for receive buffers, per port (all rings) */
#define RXQ(pair) (2u * (pair))     /* virtio-net: receiveq of pair k is 2k */
#define TXQ(pair) (2u * (pair) + 1) /* and transmitq is 2k+1 */
#define ARS_SLOTS 256 /* flows remembered per port for receive steering */

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
_Static_assert(sizeof(struct vdesc) == 16, "virtq_desc");

struct region {
	uint64_t gpa, size, uva;
	uint8_t *base;  /* mapping of gpa */
	void *map;      /* what munmap takes */
	size_t maplen;
};

struct vring {
	unsigned num;
	uint64_t desc_ua, avail_ua, used_ua;
	bool addr_set, enabled, started;
	struct vdesc *desc;
	uint16_t *avail; /* flags, idx, ring[num] */
	uint16_t *used;  /* flags, idx, then ring of {u32 id, u32 len} */
	uint16_t last_avail, used_idx;
	int kick, call, err;
	bool pending_call;
	uint16_t signalled_used; /* used idx at the last interrupt decision (EVENT_IDX) */
	bool signalled_valid;
};

struct qframe {
	struct qframe *next;
	struct vsw_hdr h;
	size_t len;
	uint8_t data[];
};

struct port_stats {
	unsigned long long tx_frames, tx_bytes, tx_gso, tx_csum, csum_done, segs_made;
	unsigned long long rx_frames, rx_bytes, rx_gso, rx_dropped, verified, errors;
	unsigned long long rx_ring[MAX_PAIRS], tx_ring[MAX_PAIRS]; /* frames per pair's ring */
};

/* Frames that wait for buffers on one receive ring. */
struct rxwait {
	struct qframe *head, *tail;
	unsigned len;
};

/* Automatic receive steering (virtio 1.2, network device, "Automatic
 * receive steering in multiqueue mode"): the pair that last
 * transmitted a flow, by the flow's direction-free hash. */
struct ars_slot {
	uint32_t hash;
	uint8_t pair;
	bool valid;
};

struct port {
	unsigned idx;
	const char *path;
	int lfd, cfd;
	uint64_t offered, features, proto;
	uint64_t acked; /* last features set, kept for the summary */
	unsigned hdr_len;
	struct region reg[VU_MAX_REGIONS];
	unsigned nreg;
	struct vring vq[NRINGS];
	bool verify, bad_csum;
	unsigned want_rx_rings; /* --want-rx-rings: the summary judges the spread */
	char broken[256];
	struct rxwait rq[MAX_PAIRS];
	struct ars_slot ars[ARS_SLOTS];
	uint8_t mac[6];
	bool mac_known;
	struct port_stats st;
	unsigned logged;
};

static struct port ports[MAX_PORTS];
static unsigned nports;
static int epfd;
static FILE *logf;
static const char *stats_path;
static volatile sig_atomic_t stop;
static bool debug;
static bool steer_hash; /* --steer hash: flow hash only, no automatic receive steering */
static uint8_t *txbuf;

__attribute__((format(printf, 2, 3)))
static void plog(struct port *p, const char *fmt, ...)
{
	va_list ap;

	/* A flood of one verification mistake says nothing more. */
	if (p && !strncmp(fmt, "VERIFY", 6) && ++p->logged > 200)
		return;
	if (p)
		fprintf(logf, "vdpswitch: port %u: ", p->idx);
	else
		fprintf(logf, "vdpswitch: ");
	va_start(ap, fmt);
	vfprintf(logf, fmt, ap);
	va_end(ap);
	fputc('\n', logf);
	fflush(logf);
}

static bool has(const struct port *p, unsigned bit) { return (p->features >> bit) & 1; }

/* A driver that hands the device something impossible stops its port;
 * the other ports keep working, and the summary counts it as an error. */
__attribute__((format(printf, 2, 3)))
static void port_break(struct port *p, const char *fmt, ...)
{
	va_list ap;

	if (p->broken[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->broken, sizeof(p->broken), fmt, ap);
	va_end(ap);
	p->st.errors++;
	plog(p, "BROKEN: %s; the port stops", p->broken);
}

/* ------------------------------------------------------------ memory */

static void *gpa_ptr(struct port *p, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < p->nreg; i++) {
		struct region *r = &p->reg[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->base + (gpa - r->gpa);
	}
	return NULL;
}

static void *uva_ptr(struct port *p, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < p->nreg; i++) {
		struct region *r = &p->reg[i];
		if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
			return r->base + (uva - r->uva);
	}
	return NULL;
}

static void unmap_all(struct port *p)
{
	for (unsigned i = 0; i < p->nreg; i++)
		munmap(p->reg[i].map, p->reg[i].maplen);
	p->nreg = 0;
	for (unsigned q = 0; q < NRINGS; q++) {
		p->vq[q].desc = NULL;
		p->vq[q].avail = p->vq[q].used = NULL;
	}
}

/* Ring pointers are (re)derived from QEMU's addresses whenever the memory
 * table or the addresses change. */
static bool ring_map(struct port *p, struct vring *v, unsigned q)
{
	if (v->desc)
		return true;
	if (!v->addr_set || !v->num || !p->nreg)
		return false;
	if ((v->desc_ua & 15) || (v->avail_ua & 1) || (v->used_ua & 3)) {
		port_break(p, "queue %u: misaligned ring addresses", q);
		return false;
	}
	v->desc = uva_ptr(p, v->desc_ua, 16ull * v->num);
	v->avail = uva_ptr(p, v->avail_ua, 6 + 2ull * v->num);
	v->used = uva_ptr(p, v->used_ua, 6 + 8ull * v->num);
	if (!v->desc || !v->avail || !v->used) {
		v->desc = NULL;
		port_break(p, "queue %u: ring addresses %#llx/%#llx/%#llx outside guest memory", q,
			   (unsigned long long)v->desc_ua, (unsigned long long)v->avail_ua,
			   (unsigned long long)v->used_ua);
		return false;
	}
	v->used_idx = __atomic_load_n(&v->used[1], __ATOMIC_ACQUIRE);
	v->signalled_valid = false;
	return true;
}

static bool ring_ready(struct port *p, unsigned q)
{
	struct vring *v = &p->vq[q];

	if (p->broken[0] || p->cfd < 0 || !v->started)
		return false;
	/* Without protocol features a ring runs as soon as it has a kick. */
	if (has(p, VU_F_PROTOCOL_FEATURES) && !v->enabled)
		return false;
	return ring_map(p, v, q);
}

/* ------------------------------------------------------------ descriptor chains */

struct seg {
	uint8_t *p;
	uint32_t len;
};

/* Walks the chain at head; every buffer must be device-writable (receive)
 * or device-readable (transmit) and lie in guest memory. Returns the
 * segment count or -1 (port broken). */
static int chain_get(struct port *p, struct vring *v, uint16_t head, bool writable,
		     struct seg *segs, size_t *total)
{
	const struct vdesc *table = v->desc;
	unsigned n = v->num, i = head, steps = 0, nseg = 0;
	bool indirect = false;
	struct vdesc d;

	*total = 0;
	if (head >= v->num) {
		port_break(p, "descriptor head %u, queue size %u", head, v->num);
		return -1;
	}
	for (;;) {
		if (++steps > n) {
			port_break(p, "descriptor chain from %u loops or exceeds %u entries", head, n);
			return -1;
		}
		memcpy(&d, (const void *)&table[i], sizeof(d)); /* one read: the guest may change it */
		if (d.flags & DESC_F_INDIRECT) {
			if (indirect || !has(p, F_INDIRECT)) {
				port_break(p, "indirect descriptor %s", indirect ? "inside an indirect table" :
					   "without VIRTIO_F_INDIRECT_DESC");
				return -1;
			}
			if (d.flags & DESC_F_NEXT) {
				port_break(p, "indirect descriptor with NEXT set");
				return -1;
			}
			if (!d.len || d.len % 16 || d.len / 16 > 32768) {
				port_break(p, "indirect table of %u bytes", d.len);
				return -1;
			}
			table = gpa_ptr(p, d.addr, d.len);
			if (!table) {
				port_break(p, "indirect table %#llx+%u outside guest memory",
					   (unsigned long long)d.addr, d.len);
				return -1;
			}
			indirect = true;
			n = d.len / 16;
			i = 0;
			steps = 0;
			continue;
		}
		if (!!(d.flags & DESC_F_WRITE) != writable) {
			port_break(p, "%s queue: a %s descriptor (%u)", writable ? "receive" : "transmit",
				   writable ? "read-only" : "write-only", i);
			return -1;
		}
		if (d.len) {
			uint8_t *b = gpa_ptr(p, d.addr, d.len);
			if (!b) {
				port_break(p, "buffer %#llx+%u outside guest memory",
					   (unsigned long long)d.addr, d.len);
				return -1;
			}
			if (nseg == MAX_SEGS || *total + d.len > 4u * VSW_FRAME_MAX) {
				port_break(p, "descriptor chain of more than %u buffers or %zu bytes",
					   MAX_SEGS, *total + d.len);
				return -1;
			}
			segs[nseg++] = (struct seg){ b, d.len };
			*total += d.len;
		}
		if (!(d.flags & DESC_F_NEXT))
			return (int)nseg;
		if (d.next >= n) {
			port_break(p, "descriptor %u: next %u beyond %u", i, d.next, n);
			return -1;
		}
		i = d.next;
	}
}

/* Entries the driver made available that the device has not taken; -1 if
 * the index is impossible. */
static int avail_count(struct port *p, struct vring *v, unsigned q)
{
	uint16_t idx = __atomic_load_n(&v->avail[1], __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - v->last_avail);

	if (n > v->num) {
		port_break(p, "queue %u: avail idx %u is %u ahead of %u (size %u)", q, idx, n,
			   v->last_avail, v->num);
		return -1;
	}
	return n;
}

static uint16_t avail_head(struct vring *v, uint16_t slot)
{
	return __atomic_load_n(&v->avail[2 + slot % v->num], __ATOMIC_RELAXED);
}

static void used_push(struct vring *v, uint16_t id, uint32_t len)
{
	uint32_t *e = (uint32_t *)(v->used + 2) + 2 * (v->used_idx % v->num);

	e[0] = id;
	e[1] = len;
	v->used_idx++;
	__atomic_store_n(&v->used[1], v->used_idx, __ATOMIC_RELEASE);
	v->pending_call = true;
}

static void notify(struct port *p, struct vring *v)
{
	uint64_t one = 1;

	if (!v->pending_call)
		return;
	v->pending_call = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (has(p, F_EVENT_IDX)) {
		/* Interrupt only when the used index passed the driver's used_event. */
		uint16_t ev = __atomic_load_n(&v->avail[2 + v->num], __ATOMIC_ACQUIRE);
		uint16_t old = v->signalled_used;
		bool need = !v->signalled_valid ||
			    (uint16_t)(v->used_idx - ev - 1) < (uint16_t)(v->used_idx - old);
		v->signalled_used = v->used_idx;
		v->signalled_valid = true;
		if (!need)
			return;
	} else if (__atomic_load_n(&v->avail[0], __ATOMIC_ACQUIRE) & AVAIL_F_NO_INTERRUPT) {
		return;
	}
	if (v->call >= 0 && write(v->call, &one, sizeof(one)) < 0 && errno != EAGAIN)
		plog(NULL, "call eventfd: %s", strerror(errno));
}

/* EVENT_IDX: ask for a kick when the driver adds the next entry (avail_event
 * after the used ring); true if one arrived meanwhile, so the caller looks
 * again instead of waiting for a kick that will not come. */
static bool rearm(struct port *p, struct vring *v, unsigned q)
{
	uint16_t idx;

	if (!has(p, F_EVENT_IDX) || !ring_ready(p, q))
		return false;
	idx = __atomic_load_n(&v->avail[1], __ATOMIC_ACQUIRE);
	__atomic_store_n(&v->used[2 + 4 * v->num], idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&v->avail[1], __ATOMIC_ACQUIRE) != idx;
}

/* ------------------------------------------------------------ receive side */

static void hdr_store(uint8_t *b, const struct vsw_hdr *h, unsigned hl)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	memcpy(b + 2, &h->hdr_len, 2);
	memcpy(b + 4, &h->gso_size, 2);
	memcpy(b + 6, &h->csum_start, 2);
	memcpy(b + 8, &h->csum_offset, 2);
	if (hl >= 12)
		memcpy(b + 10, &h->num_buffers, 2);
}

static void hdr_load(struct vsw_hdr *h, const uint8_t *b, unsigned hl)
{
	h->flags = b[0];
	h->gso_type = b[1];
	memcpy(&h->hdr_len, b + 2, 2);
	memcpy(&h->gso_size, b + 4, 2);
	memcpy(&h->csum_start, b + 6, 2);
	memcpy(&h->csum_offset, b + 8, 2);
	h->num_buffers = 0;
	if (hl >= 12)
		memcpy(&h->num_buffers, b + 10, 2);
}

static void enqueue(struct port *d, unsigned pair, const struct vsw_hdr *h, const uint8_t *f,
		    size_t len)
{
	struct rxwait *w = &d->rq[pair];
	struct qframe *q;
	unsigned waiting = 0;

	for (unsigned k = 0; k < MAX_PAIRS; k++)
		waiting += d->rq[k].len;
	if (waiting >= QUEUE_MAX) {
		d->st.rx_dropped++;
		return;
	}
	q = malloc(sizeof(*q) + len);
	if (!q) {
		d->st.rx_dropped++;
		return;
	}
	q->next = NULL;
	q->h = *h;
	q->len = len;
	memcpy(q->data, f, len);
	if (w->tail)
		w->tail->next = q;
	else
		w->head = q;
	w->tail = q;
	w->len++;
}

static void queue_drop(struct port *d, unsigned pair, bool count)
{
	struct rxwait *w = &d->rq[pair];

	while (w->head) {
		struct qframe *q = w->head;
		w->head = q->next;
		free(q);
		if (count)
			d->st.rx_dropped++;
	}
	w->tail = NULL;
	w->len = 0;
}

static void queue_drop_all(struct port *d)
{
	for (unsigned k = 0; k < MAX_PAIRS; k++)
		queue_drop(d, k, false);
}

static struct qframe *queue_pop(struct rxwait *w)
{
	struct qframe *q = w->head;

	w->head = q->next;
	if (!w->head)
		w->tail = NULL;
	w->len--;
	return q;
}

static struct seg rsegs[MAX_SEGS];

/* Copies header and frame into the receive buffers of one or (mergeable)
 * several chains; a frame waits while the driver has too few buffers. */
static void rx_flush_once(struct port *d, unsigned pair)
{
	const unsigned rq = RXQ(pair);
	struct vring *v = &d->vq[rq];
	struct rxwait *w = &d->rq[pair];

	while (w->head && ring_ready(d, rq)) {
		struct qframe *q = w->head;
		size_t need = d->hdr_len + q->len, room = 0, cap;
		int avail = avail_count(d, v, rq), nseg;
		unsigned chains = 0;
		uint8_t hb[12];

		if (avail <= 0)
			break;
		/* Measure first: nothing is consumed unless the frame fits. */
		while (room < need && (int)chains < avail) {
			nseg = chain_get(d, v, avail_head(v, (uint16_t)(v->last_avail + chains)), true,
					 rsegs, &cap);
			if (nseg < 0)
				return;
			room += cap;
			chains++;
			if (!has(d, F_MRG_RXBUF))
				break;
		}
		if (room < need) {
			if (!has(d, F_MRG_RXBUF) || chains >= v->num) {
				/* The buffers can never hold it: a real NIC drops it too. */
				d->st.rx_dropped++;
				free(queue_pop(w));
				continue;
			}
			break; /* wait for more buffers */
		}
		/* Without mergeable buffers a 12-byte header must still say 1 (the spec's device
		 * requirements for received packets). */
		q->h.num_buffers = (uint16_t)(has(d, F_MRG_RXBUF) ? chains : 1);
		hdr_store(hb, &q->h, d->hdr_len);
		size_t done = 0;
		for (unsigned c = 0; c < chains; c++) {
			uint16_t head = avail_head(v, v->last_avail);
			size_t wrote = 0;
			nseg = chain_get(d, v, head, true, rsegs, &cap);
			if (nseg < 0)
				return;
			for (int s = 0; s < nseg && done < need; s++) {
				size_t n = rsegs[s].len < need - done ? rsegs[s].len : need - done;
				for (size_t k = 0; k < n;) {
					size_t pos = done + k, m;
					if (pos < d->hdr_len) {
						m = d->hdr_len - pos < n - k ? d->hdr_len - pos : n - k;
						memcpy(rsegs[s].p + k, hb + pos, m);
					} else {
						m = n - k;
						memcpy(rsegs[s].p + k, q->data + (pos - d->hdr_len), m);
					}
					k += m;
				}
				done += n;
				wrote += n;
			}
			v->last_avail++;
			used_push(v, head, (uint32_t)wrote);
		}
		d->st.rx_frames++;
		d->st.rx_ring[pair]++;
		d->st.rx_bytes += q->len;
		if (q->h.gso_type)
			d->st.rx_gso++;
		free(queue_pop(w));
	}
}

static void rx_flush(struct port *d)
{
	for (unsigned k = 0; k < MAX_PAIRS; k++) {
		struct vring *v = &d->vq[RXQ(k)];

		do
			rx_flush_once(d, k);
		while (d->rq[k].head && rearm(d, v, RXQ(k)));
		if (v->avail)
			notify(d, v);
	}
}

/* ------------------------------------------------------------ receive steering */

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* A hash of the frame's flow that is the same in both directions (the
 * lower address/port end first), so a reply finds the entry its request
 * left. false for frames without IP addresses (ARP, ...). */
static bool flow_hash(const uint8_t *f, size_t len, uint32_t *out)
{
	struct vsw_pkt k;
	size_t alen;
	const uint8_t *a, *b;
	uint8_t ea[18] = { 0 }, eb[18] = { 0 };
	uint32_t h = 2166136261u;

	if (!vsw_parse(f, len, &k, NULL, 0) || !k.l3)
		return false;
	alen = k.l3 == 4 ? 4 : 16;
	a = f + k.l3_off + (k.l3 == 4 ? 12 : 8);
	b = a + alen;
	memcpy(ea, a, alen);
	memcpy(eb, b, alen);
	if ((k.l4 == 6 || k.l4 == 17) && k.l4_off + 4 <= len) {
		memcpy(ea + 16, f + k.l4_off, 2);
		memcpy(eb + 16, f + k.l4_off + 2, 2);
	}
	if (memcmp(ea, eb, sizeof(ea)) > 0) {
		h = fnv(h, eb, sizeof(eb));
		h = fnv(h, ea, sizeof(ea));
	} else {
		h = fnv(h, ea, sizeof(ea));
		h = fnv(h, eb, sizeof(eb));
	}
	h = fnv(h, (const uint8_t *)&k.l4, 1);
	*out = h;
	return true;
}

/* The transmitting port remembers which pair sent the flow. */
static void ars_learn(struct port *s, unsigned pair, const uint8_t *f, size_t len)
{
	uint32_t h;

	if (flow_hash(f, len, &h))
		s->ars[h % ARS_SLOTS] = (struct ars_slot){ h, (uint8_t)pair, true };
}

/* The receive ring for a frame to port d, as a multi-queue device without
 * RSS picks it (Linux's tun does the same): the pair that last transmitted
 * the flow (automatic receive steering) if its ring is enabled; else a flow
 * hash over the enabled pairs (--steer hash: always); frames without a
 * flow (ARP, ...) on the first enabled pair. Never a disabled ring.
 * -1: no receive ring is up. */
static int rx_pick(struct port *d, const uint8_t *f, size_t len)
{
	unsigned up[MAX_PAIRS], n = 0;
	uint32_t h;
	bool flow = flow_hash(f, len, &h);

	if (flow && !steer_hash) {
		const struct ars_slot *a = &d->ars[h % ARS_SLOTS];
		if (a->valid && a->hash == h && ring_ready(d, RXQ(a->pair)))
			return a->pair;
	}
	for (unsigned k = 0; k < MAX_PAIRS; k++)
		if (ring_ready(d, RXQ(k)))
			up[n++] = k;
	if (!n)
		return -1;
	return (int)(flow ? up[(h >> 8) % n] : up[0]);
}

/* ------------------------------------------------------------ forwarding */

struct seg_ctx {
	struct port *src, *dst;
	unsigned pair;
	struct vsw_hdr h;
	unsigned errors;
};

static void corrupt_l4(uint8_t *f, size_t len)
{
	struct vsw_pkt p;

	if (vsw_parse(f, len, &p, NULL, 0) && (p.l4 == 6 || p.l4 == 17))
		f[p.l4_off + (p.l4 == 6 ? 17 : 7)] ^= 0x01;
}

static void seg_deliver(void *ctx, const uint8_t *f, size_t len)
{
	struct seg_ctx *c = ctx;

	c->src->st.segs_made++;
	if (c->src->bad_csum) {
		uint8_t *b = malloc(len);
		if (b) {
			memcpy(b, f, len);
			corrupt_l4(b, len);
			enqueue(c->dst, c->pair, &c->h, b, len);
			free(b);
		}
		return;
	}
	enqueue(c->dst, c->pair, &c->h, f, len);
}

static void seg_verify(void *ctx, const uint8_t *f, size_t len)
{
	struct seg_ctx *c = ctx;
	char err[200];

	if (!vsw_check_wire(f, len, err, sizeof(err))) {
		c->errors++;
		plog(c->src, "VERIFY: segment of a GSO frame: %s", err);
	}
}

/* What a device does for the receiving port: resolve what it cannot take. */
static void deliver(struct port *s, struct port *d, const struct vsw_hdr *h, const uint8_t *f,
		    size_t len)
{
	unsigned gso = h->gso_type & ~VSW_GSO_ECN;
	struct vsw_hdr out = { 0 };
	char err[200];
	int pick = rx_pick(d, f, len);
	unsigned pair;

	if (pick < 0) {
		d->st.rx_dropped++; /* link not up yet: nobody to give it to */
		return;
	}
	pair = (unsigned)pick;
	if (gso) {
		bool can = has(d, gso == VSW_GSO_TCPV4 ? F_GUEST_TSO4 : F_GUEST_TSO6) &&
			   (!(h->gso_type & VSW_GSO_ECN) || has(d, F_GUEST_ECN));
		if (can) {
			enqueue(d, pair, h, f, len);
			return;
		}
		struct seg_ctx c = { s, d, pair, { 0 }, 0 };
		if (has(d, F_GUEST_CSUM))
			c.h.flags = VSW_HDR_F_DATA_VALID;
		if (vsw_segment(f, len, h, seg_deliver, &c, err, sizeof(err)) < 0) {
			s->st.errors++;
			plog(s, "cannot segment a GSO frame for port %u: %s", d->idx, err);
		}
		return;
	}
	if (h->flags & VSW_HDR_F_NEEDS_CSUM) {
		if (has(d, F_GUEST_CSUM)) {
			out = *h;
			enqueue(d, pair, &out, f, len);
			return;
		}
		uint8_t *b = malloc(len);
		if (!b)
			return;
		memcpy(b, f, len);
		if (vsw_complete_csum(b, len, h->csum_start, h->csum_offset, err, sizeof(err))) {
			s->st.csum_done++;
			enqueue(d, pair, &out, b, len);
		} else {
			s->st.errors++;
			plog(s, "cannot complete a checksum for port %u: %s", d->idx, err);
		}
		free(b);
		return;
	}
	if (has(d, F_GUEST_CSUM) && vsw_l4_csum_ok(f, len))
		out.flags = VSW_HDR_F_DATA_VALID;
	enqueue(d, pair, &out, f, len);
}

static void verify(struct port *s, const struct vsw_hdr *h, const uint8_t *f, size_t len)
{
	char err[200];
	unsigned gso = h->gso_type & ~VSW_GSO_ECN;

	s->st.verified++;
	if (!vsw_check_hdr(h, f, len, s->features, err, sizeof(err))) {
		s->st.errors++;
		plog(s, "VERIFY: header flags %#x gso %#x hdr_len %u gso_size %u csum %u/%u, %zu-byte "
		     "frame: %s", h->flags, h->gso_type, h->hdr_len, h->gso_size, h->csum_start,
		     h->csum_offset, len, err);
		return;
	}
	if (gso) {
		struct seg_ctx c = { s, NULL, 0, { 0 }, 0 };
		if (vsw_segment(f, len, h, seg_verify, &c, err, sizeof(err)) < 0) {
			s->st.errors++;
			plog(s, "VERIFY: GSO frame: %s", err);
		}
		s->st.errors += c.errors;
		return;
	}
	if (h->flags & VSW_HDR_F_NEEDS_CSUM) {
		uint8_t *b = malloc(len);
		if (!b)
			return;
		memcpy(b, f, len);
		if (!vsw_complete_csum(b, len, h->csum_start, h->csum_offset, err, sizeof(err)) ||
		    !vsw_check_wire(b, len, err, sizeof(err))) {
			s->st.errors++;
			plog(s, "VERIFY: %zu-byte frame after checksum completion: %s", len, err);
		}
		free(b);
		return;
	}
	if (!vsw_check_wire(f, len, err, sizeof(err))) {
		s->st.errors++;
		plog(s, "VERIFY: %zu-byte frame: %s", len, err);
	}
}

static void forward(struct port *s, unsigned pair, const uint8_t *buf, size_t n)
{
	struct vsw_hdr h;
	const uint8_t *f = buf + s->hdr_len;
	size_t len;

	if (n < s->hdr_len + 14) {
		s->st.errors++;
		plog(s, "transmit buffer of %zu bytes: no room for the %u-byte header and a frame", n,
		     s->hdr_len);
		return;
	}
	len = n - s->hdr_len;
	hdr_load(&h, buf, s->hdr_len);
	h.num_buffers = 0;
	s->st.tx_frames++;
	s->st.tx_ring[pair]++;
	s->st.tx_bytes += len;
	if (h.gso_type)
		s->st.tx_gso++;
	if (h.flags & VSW_HDR_F_NEEDS_CSUM)
		s->st.tx_csum++;
	if (s->verify)
		verify(s, &h, f, len);
	if (!(f[6] & 1)) {
		memcpy(s->mac, f + 6, 6);
		s->mac_known = true;
	}
	ars_learn(s, pair, f, len);
	/* Unicast to a learnt address goes to that port only; the rest floods. */
	if (!(f[0] & 1))
		for (unsigned i = 0; i < nports; i++)
			if (ports[i].mac_known && !memcmp(ports[i].mac, f, 6)) {
				if (&ports[i] != s)
					deliver(s, &ports[i], &h, f, len);
				return;
			}
	for (unsigned i = 0; i < nports; i++)
		if (&ports[i] != s)
			deliver(s, &ports[i], &h, f, len);
}

static struct seg tsegs[MAX_SEGS];

static void tx_process_ring(struct port *p, unsigned pair)
{
	const unsigned tq = TXQ(pair);
	struct vring *v = &p->vq[tq];

again:
	while (ring_ready(p, tq)) {
		int avail = avail_count(p, v, tq), nseg;
		uint16_t head;
		size_t total, off = 0;

		if (avail <= 0)
			break;
		head = avail_head(v, v->last_avail);
		nseg = chain_get(p, v, head, false, tsegs, &total);
		if (nseg < 0)
			break;
		if (total > p->hdr_len + VSW_FRAME_MAX) {
			port_break(p, "transmit chain of %zu bytes (largest frame %u)", total,
				   p->hdr_len + VSW_FRAME_MAX);
			break;
		}
		for (int s = 0; s < nseg; s++) {
			memcpy(txbuf + off, tsegs[s].p, tsegs[s].len);
			off += tsegs[s].len;
		}
		v->last_avail++;
		used_push(v, head, 0);
		forward(p, pair, txbuf, total);
	}
	if (rearm(p, v, tq))
		goto again;
	if (v->avail)
		notify(p, v);
}

/* Every enabled transmit ring, one after the other. */
static void tx_process(struct port *p)
{
	for (unsigned k = 0; k < MAX_PAIRS; k++)
		tx_process_ring(p, k);
}

/* ------------------------------------------------------------ vhost-user */

struct vu_msg {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct { uint32_t index, flags; uint64_t desc, used, avail, log; } addr;
		struct { uint32_t nregions, pad; struct { uint64_t gpa, size, uva, off; } r[VU_MAX_REGIONS]; } mem;
		uint8_t raw[VU_MAX_PAYLOAD];
	} u;
} __attribute__((packed));

static void ep_add(int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e))
		plog(NULL, "epoll_ctl: %s", strerror(errno));
}

#define TAG(kind, port, q) ((uint64_t)(kind) << 16 | (uint64_t)(port) << 8 | (q))
enum { K_LISTEN = 1, K_CONN, K_KICK };

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ring_reset(struct vring *v)
{
	close_fd(&v->kick);
	close_fd(&v->call);
	close_fd(&v->err);
	memset(v, 0, sizeof(*v));
	v->kick = v->call = v->err = -1;
}

static void port_reset(struct port *p)
{
	for (unsigned q = 0; q < NRINGS; q++)
		ring_reset(&p->vq[q]);
	unmap_all(p);
	queue_drop_all(p);
	memset(p->ars, 0, sizeof(p->ars));
	p->features = p->proto = 0;
	p->hdr_len = 10;
	p->mac_known = false;
}

static void port_disconnect(struct port *p)
{
	plog(p, "front end disconnected");
	close_fd(&p->cfd);
	port_reset(p);
	p->broken[0] = 0;
}

static bool send_reply(struct port *p, struct vu_msg *m, uint32_t size)
{
	m->flags = VU_VERSION | VU_FLAG_REPLY;
	m->size = size;
	if (send(p->cfd, m, 12 + size, MSG_NOSIGNAL) != (ssize_t)(12 + size)) {
		plog(p, "reply to request %u: %s", m->request, strerror(errno));
		return false;
	}
	return true;
}

static bool reply_u64(struct port *p, struct vu_msg *m, uint64_t v)
{
	m->u.u64 = v;
	return send_reply(p, m, 8);
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Handles one request; false drops the connection. */
static bool vu_handle(struct port *p, struct vu_msg *m, int *fds, unsigned nfds)
{
	bool has_reply = false;
	uint64_t status = 0;
	unsigned idx = m->u.state.index;
	struct vring *v;

#define NEED(sz) do { if (m->size < (sz)) { plog(p, "request %u: %u-byte payload, want %zu", \
		m->request, m->size, (size_t)(sz)); close_fds(fds, nfds); return false; } } while (0)
	switch (m->request) {
	case VU_GET_FEATURES:
		has_reply = true;
		if (!reply_u64(p, m, p->offered))
			return false;
		break;
	case VU_SET_FEATURES:
		NEED(8);
		if (m->u.u64 & ~p->offered) {
			plog(p, "SET_FEATURES %#llx asks for %#llx, never offered",
			     (unsigned long long)m->u.u64, (unsigned long long)(m->u.u64 & ~p->offered));
			return false;
		}
		p->features = p->acked = m->u.u64;
		p->hdr_len = has(p, F_VERSION_1) || has(p, F_MRG_RXBUF) ? 12 : 10;
		plog(p, "features %#llx (header %u bytes)", (unsigned long long)p->features, p->hdr_len);
		break;
	case VU_GET_PROTOCOL_FEATURES:
		has_reply = true;
		if (!reply_u64(p, m, BIT(VU_PROTO_REPLY_ACK) | BIT(VU_PROTO_MQ)))
			return false;
		break;
	case VU_SET_PROTOCOL_FEATURES:
		NEED(8);
		if (m->u.u64 & ~(BIT(VU_PROTO_REPLY_ACK) | BIT(VU_PROTO_MQ))) {
			plog(p, "SET_PROTOCOL_FEATURES %#llx: not offered", (unsigned long long)m->u.u64);
			return false;
		}
		p->proto = m->u.u64;
		break;
	case VU_SET_OWNER:
		break;
	case VU_RESET_OWNER:
		port_reset(p);
		break;
	case VU_SET_MEM_TABLE: {
		NEED(8);
		unsigned n = m->u.mem.nregions;
		if (n > VU_MAX_REGIONS || n != nfds || m->size < 8 + 32 * n) {
			plog(p, "SET_MEM_TABLE: %u regions, %u fds, %u bytes", n, nfds, m->size);
			close_fds(fds, nfds);
			return false;
		}
		unmap_all(p);
		for (unsigned i = 0; i < n; i++) {
			uint64_t sz = m->u.mem.r[i].size, off = m->u.mem.r[i].off;
			void *map;
			if (!sz || off > (1ull << 48) || sz > (1ull << 48)) {
				plog(p, "SET_MEM_TABLE: region %u size %#llx offset %#llx", i,
				     (unsigned long long)sz, (unsigned long long)off);
				close_fds(fds, nfds);
				unmap_all(p);
				return false;
			}
			map = mmap(NULL, sz + off, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
			close(fds[i]);
			fds[i] = -1;
			if (map == MAP_FAILED) {
				plog(p, "SET_MEM_TABLE: mmap of region %u (%#llx bytes): %s", i,
				     (unsigned long long)(sz + off), strerror(errno));
				close_fds(fds, nfds);
				unmap_all(p);
				return false;
			}
			p->reg[i] = (struct region){ m->u.mem.r[i].gpa, sz, m->u.mem.r[i].uva,
						     (uint8_t *)map + off, map, sz + off };
			p->nreg = i + 1;
		}
		nfds = 0;
		break;
	}
	case VU_SET_LOG_BASE:
	case VU_SET_LOG_FD:
		/* No LOG_ALL / LOG_SHMFD offered: nothing to log to. */
		close_fds(fds, nfds);
		nfds = 0;
		status = 1;
		break;
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		NEED(8);
		if (idx >= NRINGS) {
			plog(p, "request %u for queue %u: only %u queues", m->request, idx, NRINGS);
			return false;
		}
		v = &p->vq[idx];
		if (m->request == VU_SET_VRING_NUM) {
			unsigned num = m->u.state.num;
			if (!num || num > 32768 || (num & (num - 1))) {
				plog(p, "SET_VRING_NUM %u", num);
				return false;
			}
			v->num = num;
			v->desc = NULL;
		} else if (m->request == VU_SET_VRING_BASE) {
			v->last_avail = (uint16_t)m->u.state.num;
		} else if (m->request == VU_SET_VRING_ENABLE) {
			if (m->u.state.num > 1) {
				plog(p, "SET_VRING_ENABLE %u for queue %u", m->u.state.num, idx);
				return false;
			}
			v->enabled = m->u.state.num != 0;
			if (debug)
				plog(p, "queue %u %s", idx, v->enabled ? "enabled" : "disabled");
			/* A disabled receive ring gets nothing, not even what waited for it. */
			if (!v->enabled && !(idx & 1))
				queue_drop(p, idx / 2, true);
		} else {
			/* The ring stops; its position goes back to the front end. */
			has_reply = true;
			if (v->kick >= 0)
				epoll_ctl(epfd, EPOLL_CTL_DEL, v->kick, NULL);
			close_fd(&v->kick);
			v->started = false;
			v->desc = NULL;
			m->u.state.num = v->last_avail;
			if (!send_reply(p, m, 8))
				return false;
		}
		break;
	case VU_SET_VRING_ADDR:
		NEED(40);
		if (m->u.addr.index >= NRINGS) {
			plog(p, "SET_VRING_ADDR for queue %u", m->u.addr.index);
			return false;
		}
		v = &p->vq[m->u.addr.index];
		v->desc_ua = m->u.addr.desc;
		v->avail_ua = m->u.addr.avail;
		v->used_ua = m->u.addr.used;
		v->addr_set = true;
		v->desc = NULL;
		break;
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR: {
		NEED(8);
		unsigned q = (unsigned)(m->u.u64 & 0xff);
		bool nofd = m->u.u64 & VU_VRING_NOFD;
		int fd = -1;
		if (q >= NRINGS || nofd != (nfds == 0) || nfds > 1) {
			plog(p, "request %u: queue %u, %u fds, flags %#llx", m->request, q, nfds,
			     (unsigned long long)m->u.u64);
			close_fds(fds, nfds);
			return false;
		}
		if (nfds)
			fd = fds[0];
		nfds = 0;
		v = &p->vq[q];
		if (m->request == VU_SET_VRING_KICK) {
			if (v->kick >= 0)
				epoll_ctl(epfd, EPOLL_CTL_DEL, v->kick, NULL);
			close_fd(&v->kick);
			v->kick = fd;
			if (fd >= 0)
				ep_add(fd, TAG(K_KICK, p->idx, q));
			/* No fd: the front end polls; the main loop's tick serves the ring. */
			v->started = true;
			v->desc = NULL;
		} else if (m->request == VU_SET_VRING_CALL) {
			close_fd(&v->call);
			v->call = fd;
		} else {
			close_fd(&v->err);
			v->err = fd;
		}
		break;
	}
	case VU_GET_QUEUE_NUM:
		/* Queue pairs, as QEMU's vhost-user netdev compares it with queues=N. */
		has_reply = true;
		if (!reply_u64(p, m, MAX_PAIRS))
			return false;
		break;
	default:
		plog(p, "request %u not supported", m->request);
		close_fds(fds, nfds);
		nfds = 0;
		status = 1;
		break;
	}
	close_fds(fds, nfds);
	if ((m->flags & VU_FLAG_NEED_REPLY) && (p->proto & BIT(VU_PROTO_REPLY_ACK)) && !has_reply)
		return reply_u64(p, m, status);
	return true;
#undef NEED
}

static struct vu_msg msg;

static void vu_read(struct port *p)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_REGIONS * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec io = { &msg, 12 };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	int fds[VU_MAX_REGIONS];
	unsigned nfds = 0;
	ssize_t n;

	n = recvmsg(p->cfd, &mh, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (nfds < VU_MAX_REGIONS)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
	}
	if (n <= 0) {
		close_fds(fds, nfds);
		port_disconnect(p);
		return;
	}
	if (n != 12 || (mh.msg_flags & MSG_CTRUNC) || (msg.flags & 3) != VU_VERSION ||
	    msg.size > VU_MAX_PAYLOAD) {
		plog(p, "bad message header (%zd bytes, flags %#x, size %u)", n, msg.flags, msg.size);
		close_fds(fds, nfds);
		port_disconnect(p);
		return;
	}
	if (msg.size && recv(p->cfd, &msg.u, msg.size, MSG_WAITALL) != (ssize_t)msg.size) {
		plog(p, "truncated request %u", msg.request);
		close_fds(fds, nfds);
		port_disconnect(p);
		return;
	}
	if (debug)
		plog(p, "request %u flags %#x size %u fds %u payload %#llx", msg.request, msg.flags,
		     msg.size, nfds, (unsigned long long)msg.u.u64);
	if (!vu_handle(p, &msg, fds, nfds))
		port_disconnect(p);
}

/* ------------------------------------------------------------ main */

static const struct { const char *name; unsigned bit; } feat_names[] = {
	{ "csum", F_CSUM }, { "guest_csum", F_GUEST_CSUM }, { "host_tso4", F_HOST_TSO4 },
	{ "host_tso6", F_HOST_TSO6 }, { "guest_tso4", F_GUEST_TSO4 }, { "guest_tso6", F_GUEST_TSO6 },
	{ "mrg_rxbuf", F_MRG_RXBUF }, { "indirect", F_INDIRECT }, { "event_idx", F_EVENT_IDX },
	{ "mq", F_MQ },
};

static void usage(void)
{
	fprintf(stderr, "usage: vdpswitch [--log FILE] [--stats FILE] [--verify PORT]... "
		"[--off PORT:FEAT[+FEAT]...]... [--inject bad-seg-csum=PORT] "
		"[--want-rx-rings PORT:N]... [--steer ars|hash] [--debug] SOCKET...\n"
		"FEAT: csum guest_csum host_tso4 host_tso6 guest_tso4 guest_tso6 mrg_rxbuf indirect "
		"event_idx mq\n");
	exit(2);
}

static unsigned port_arg(const char *s, const char **rest)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || v >= MAX_PORTS) {
		fprintf(stderr, "vdpswitch: bad port number in '%s'\n", s);
		exit(2);
	}
	if (rest)
		*rest = end;
	return (unsigned)v;
}

static void put_line(FILE *out, const char *line)
{
	fprintf(logf, "%s\n", line);
	if (out)
		fprintf(out, "%s\n", line);
}

/* Frames per ring of each pair, and the --want-rx-rings verdict
 * ("rx-rings ok|FAIL"), which ci/vm/run-vm.sh turns into a TAP line. */
static void ring_summary(const struct port *p, FILE *out)
{
	char line[600];
	unsigned last = 0, busy = 0;
	int at;

	for (unsigned k = 0; k < MAX_PAIRS; k++) {
		if (p->st.rx_ring[k] || p->st.tx_ring[k])
			last = k;
		busy += p->st.rx_ring[k] > 0;
	}
	at = snprintf(line, sizeof(line), "vdpswitch: port %u: frames on %u RX rings (rx per ring:",
		      p->idx, busy);
	for (unsigned k = 0; k <= last && at > 0 && (size_t)at < sizeof(line); k++)
		at += snprintf(line + at, sizeof(line) - (size_t)at, " %llu", p->st.rx_ring[k]);
	if (at > 0 && (size_t)at < sizeof(line))
		at += snprintf(line + at, sizeof(line) - (size_t)at, "; tx per ring:");
	for (unsigned k = 0; k <= last && at > 0 && (size_t)at < sizeof(line); k++)
		at += snprintf(line + at, sizeof(line) - (size_t)at, " %llu", p->st.tx_ring[k]);
	if (at > 0 && (size_t)at < sizeof(line))
		snprintf(line + at, sizeof(line) - (size_t)at, ")");
	put_line(out, line);
	if (p->want_rx_rings) {
		snprintf(line, sizeof(line),
			 "vdpswitch: port %u: rx-rings %s: frames arrived on %u receive rings, want at least %u",
			 p->idx, busy >= p->want_rx_rings ? "ok" : "FAIL", busy, p->want_rx_rings);
		put_line(out, line);
	}
}

static void summary(void)
{
	FILE *out = stats_path ? fopen(stats_path, "w") : NULL;
	unsigned long long total = 0;

	for (unsigned i = 0; i < nports; i++) {
		struct port *p = &ports[i];
		char line[600];
		snprintf(line, sizeof(line),
			 "vdpswitch: port %u: features %#llx; tx %llu frames %llu bytes, %llu gso, %llu "
			 "needs-csum; %llu csum-completed, %llu segments made; rx %llu frames %llu "
			 "bytes, %llu gso, %llu dropped; verify %s %llu frames; errors %llu%s%s",
			 i, (unsigned long long)p->acked, p->st.tx_frames, p->st.tx_bytes,
			 p->st.tx_gso, p->st.tx_csum, p->st.csum_done, p->st.segs_made, p->st.rx_frames,
			 p->st.rx_bytes, p->st.rx_gso, p->st.rx_dropped, p->verify ? "on," : "off,",
			 p->st.verified, p->st.errors, p->broken[0] ? "; broken: " : "", p->broken);
		fprintf(logf, "%s\n", line);
		if (out)
			fprintf(out, "%s\n", line);
		total += p->st.errors;
		ring_summary(p, out);
	}
	fprintf(logf, "vdpswitch: errors %llu\n", total);
	if (out) {
		fprintf(out, "vdpswitch: errors %llu\n", total);
		fclose(out);
	}
	fflush(logf);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const uint64_t offer = BIT(F_CSUM) | BIT(F_GUEST_CSUM) | BIT(F_HOST_TSO4) | BIT(F_HOST_TSO6) |
			       BIT(F_GUEST_TSO4) | BIT(F_GUEST_TSO6) | BIT(F_MRG_RXBUF) |
			       BIT(F_INDIRECT) | BIT(F_EVENT_IDX) | BIT(F_VERSION_1) | BIT(F_MQ) |
			       BIT(VU_F_PROTOCOL_FEATURES);
	uint64_t off[MAX_PORTS] = { 0 };
	bool verify[MAX_PORTS] = { false }, bad[MAX_PORTS] = { false };
	unsigned want_rings[MAX_PORTS] = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int i;

	logf = stderr;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *rest;
		if (!strcmp(a, "--log") && i + 1 < argc) {
			logf = fopen(argv[++i], "a");
			if (!logf) {
				perror(argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--debug")) {
			debug = true;
		} else if (!strcmp(a, "--stats") && i + 1 < argc) {
			stats_path = argv[++i];
		} else if (!strcmp(a, "--steer") && i + 1 < argc) {
			const char *m = argv[++i];
			if (strcmp(m, "ars") && strcmp(m, "hash"))
				usage();
			steer_hash = !strcmp(m, "hash");
		} else if (!strcmp(a, "--want-rx-rings") && i + 1 < argc) {
			unsigned pn = port_arg(argv[++i], &rest);
			char *end;
			unsigned long n;
			if (*rest++ != ':')
				usage();
			n = strtoul(rest, &end, 10);
			if (end == rest || *end || n < 1 || n > MAX_PAIRS)
				usage();
			want_rings[pn] = (unsigned)n;
		} else if (!strcmp(a, "--verify") && i + 1 < argc) {
			verify[port_arg(argv[++i], NULL)] = true;
		} else if (!strcmp(a, "--inject") && i + 1 < argc &&
			   !strncmp(argv[i + 1], "bad-seg-csum=", 13)) {
			bad[port_arg(argv[++i] + 13, NULL)] = true;
		} else if (!strcmp(a, "--off") && i + 1 < argc) {
			unsigned pn = port_arg(argv[++i], &rest);
			if (*rest++ != ':')
				usage();
			while (*rest) {
				size_t n = strcspn(rest, "+,");
				unsigned k;
				for (k = 0; k < sizeof(feat_names) / sizeof(feat_names[0]); k++)
					if (strlen(feat_names[k].name) == n &&
					    !strncmp(feat_names[k].name, rest, n))
						break;
				if (k == sizeof(feat_names) / sizeof(feat_names[0])) {
					fprintf(stderr, "vdpswitch: unknown feature '%.*s'\n", (int)n, rest);
					usage();
				}
				off[pn] |= BIT(feat_names[k].bit);
				rest += n;
				if (*rest)
					rest++;
			}
		} else {
			usage();
		}
	}
	if (i == argc || argc - i > MAX_PORTS)
		usage();
	txbuf = malloc(12 + VSW_FRAME_MAX + 64);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!txbuf || epfd < 0) {
		perror("vdpswitch");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (; i < argc; i++) {
		struct port *p = &ports[nports];
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		if (strlen(argv[i]) >= sizeof(sun.sun_path)) {
			fprintf(stderr, "vdpswitch: socket path too long: %s\n", argv[i]);
			return 2;
		}
		strcpy(sun.sun_path, argv[i]);
		p->idx = nports;
		p->path = argv[i];
		p->cfd = -1;
		p->offered = offer & ~off[nports];
		/* Segmentation and receive GSO need checksums under them (virtio 1.2, 5.1.3.1). */
		if (!(p->offered & BIT(F_CSUM)))
			p->offered &= ~(BIT(F_HOST_TSO4) | BIT(F_HOST_TSO6));
		if (!(p->offered & BIT(F_GUEST_CSUM)))
			p->offered &= ~(BIT(F_GUEST_TSO4) | BIT(F_GUEST_TSO6));
		p->verify = verify[nports];
		p->want_rx_rings = want_rings[nports];
		p->bad_csum = bad[nports];
		for (unsigned q = 0; q < NRINGS; q++)
			p->vq[q].kick = p->vq[q].call = p->vq[q].err = -1;
		port_reset(p);
		/* A stale socket from a killed run may go; any other file stays. */
		{
			struct stat sb;
			if (!lstat(argv[i], &sb) && S_ISSOCK(sb.st_mode))
				unlink(argv[i]);
		}
		p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
		    listen(p->lfd, 1)) {
			fprintf(stderr, "vdpswitch: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		ep_add(p->lfd, TAG(K_LISTEN, nports, 0));
		plog(p, "listening on %s, offering %#llx%s%s", argv[i], (unsigned long long)p->offered,
		     p->verify ? ", verifying" : "",
		     p->bad_csum ? ", INJECTING bad checksums into its segments" : "");
		nports++;
	}
	while (!stop) {
		struct epoll_event ev[16];
		int n = epoll_wait(epfd, ev, 16, 50);

		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			break;
		}
		for (int k = 0; k < n; k++) {
			unsigned kind = (unsigned)(ev[k].data.u64 >> 16), pn = (ev[k].data.u64 >> 8) & 0xff;
			struct port *p = &ports[pn];
			if (kind == K_LISTEN) {
				int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				if (p->cfd >= 0) {
					plog(p, "second front end refused");
					close(fd);
					continue;
				}
				p->cfd = fd;
				ep_add(fd, TAG(K_CONN, pn, 0));
				plog(p, "front end connected");
			} else if (kind == K_CONN) {
				if (p->cfd >= 0)
					vu_read(p);
			} else if (kind == K_KICK) {
				uint64_t cnt;
				int fd = p->vq[(ev[k].data.u64 & 0xff) % NRINGS].kick;
				if (fd >= 0 && read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
					plog(p, "kick eventfd: %s", strerror(errno));
			}
		}
		/* Every pass serves every ring: a lost or polled kick costs at most a tick. */
		for (unsigned j = 0; j < nports; j++)
			tx_process(&ports[j]);
		for (unsigned j = 0; j < nports; j++)
			rx_flush(&ports[j]);
	}
	summary();
	for (unsigned j = 0; j < nports; j++)
		unlink(ports[j].path);
	return 0;
}
