/* ntoskrnl.exe / hal.dll services for PE drivers, following the documented
 * Windows semantics. Where Windows would bug-check (wrong IRQL, freeing a
 * block twice, releasing a lock not held) the host stops with a clear
 * fatal error instead, so driver bugs fail tests loudly. */
#define _GNU_SOURCE
#include "vmhost.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ debug output */

static void dbg_out(const char *fmt, __builtin_ms_va_list *ap)
{
	char buf[1024];
	size_t n = nt_format(buf, sizeof(buf), fmt, ap);

	/* The driver log goes to stderr, so stdout stays pure TAP. */
	(void)n;
	fputs(buf, stderr);
	fflush(stderr);
}

static uint32_t NTAPI nt_DbgPrint(const char *fmt, ...)
{
	__builtin_ms_va_list ap;

	__builtin_ms_va_start(ap, fmt);
	dbg_out(fmt, &ap);
	__builtin_ms_va_end(ap);
	return STATUS_SUCCESS;
}

static uint32_t NTAPI nt_DbgPrintEx(uint32_t component, uint32_t level, const char *fmt, ...)
{
	__builtin_ms_va_list ap;

	(void)component;
	(void)level;
	__builtin_ms_va_start(ap, fmt);
	dbg_out(fmt, &ap);
	__builtin_ms_va_end(ap);
	return STATUS_SUCCESS;
}

/* The va_list form NDIS and WDF drivers route their log helpers through. */
static uint32_t NTAPI nt_vDbgPrintEx(uint32_t component, uint32_t level, const char *fmt,
				     __builtin_ms_va_list ap)
{
	(void)component;
	(void)level;
	if (!fmt)
		return STATUS_INVALID_PARAMETER;
	dbg_out(fmt, &ap);
	return STATUS_SUCCESS;
}

static void NTAPI nt_KeBugCheckEx(uint32_t code, uint64_t p1, uint64_t p2, uint64_t p3, uint64_t p4)
{
	vh_fatal("driver called KeBugCheckEx(0x%08x, 0x%llx, 0x%llx, 0x%llx, 0x%llx)", code,
		 (unsigned long long)p1, (unsigned long long)p2, (unsigned long long)p3,
		 (unsigned long long)p4);
}

static void NTAPI nt_KeBugCheck(uint32_t code)
{
	vh_fatal("driver called KeBugCheck(0x%08x)", code);
}

/* ------------------------------------------------------------ IRQL */

static void bugcheck_irql(const char *what, nt_irql have, nt_irql want)
{
	vh_fatal("%s: IRQL %u, must be %s %u", what, have,
		 want == DISPATCH_LEVEL && have < want ? ">=" : "<=", want);
}

static nt_irql NTAPI nt_KeGetCurrentIrql(void)
{
	return vh_irql();
}

static nt_irql NTAPI nt_KfRaiseIrql(nt_irql irql)
{
	nt_irql old = vh_irql();

	if (irql < old)
		vh_fatal("KfRaiseIrql(%u) below the current IRQL %u", irql, old);
	vh_set_irql(irql);
	return old;
}

static nt_irql NTAPI nt_KeRaiseIrqlToDpcLevel(void)
{
	return nt_KfRaiseIrql(DISPATCH_LEVEL);
}

static void NTAPI nt_KfLowerIrql(nt_irql irql)
{
	if (irql > vh_irql())
		vh_fatal("KeLowerIrql(%u) above the current IRQL %u", irql, vh_irql());
	vh_set_irql(irql);
}

/* ------------------------------------------------------------ spin locks */

/* The lock word holds the owner's tag, so recursion and foreign releases
 * are caught instead of hanging. */
static uint64_t self_tag(void)
{
	static __thread uint64_t tag;

	if (!tag)
		tag = ((uint64_t)(uintptr_t)&tag) | 1;
	return tag;
}

void vh_spin_acquire(nt_kspin_lock *lock, const char *who)
{
	uint64_t me = self_tag(), expect;
	unsigned long spins = 0;

	if (!lock)
		vh_fatal("%s(NULL)", who);
	for (;;) {
		expect = 0;
		if (__atomic_compare_exchange_n(lock, &expect, me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (expect == me)
			vh_fatal("%s(%p): lock already held by this thread (deadlock)", who, (void *)lock);
		if (++spins % 1024 == 0)
			sched_yield();
		/* Ten seconds of spinning in a test means a lost release. */
		if (spins > 50u * 1000 * 1000)
			vh_fatal("%s(%p): lock never released (value 0x%llx)", who, (void *)lock,
				 (unsigned long long)expect);
	}
}

void vh_spin_release(nt_kspin_lock *lock, const char *who)
{
	uint64_t me = self_tag(), expect = me;

	if (!lock)
		vh_fatal("%s(NULL)", who);
	if (!__atomic_compare_exchange_n(lock, &expect, 0, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		vh_fatal("%s(%p): lock not held by this thread (value 0x%llx)", who, (void *)lock,
			 (unsigned long long)expect);
}

static void NTAPI nt_KeInitializeSpinLock(nt_kspin_lock *lock)
{
	*lock = 0;
}

static nt_irql NTAPI nt_KeAcquireSpinLockRaiseToDpc(nt_kspin_lock *lock)
{
	nt_irql old = vh_irql();

	if (old > DISPATCH_LEVEL)
		bugcheck_irql("KeAcquireSpinLock", old, DISPATCH_LEVEL);
	vh_set_irql(DISPATCH_LEVEL);
	vh_spin_acquire(lock, "KeAcquireSpinLock");
	return old;
}

static void NTAPI nt_KeReleaseSpinLock(nt_kspin_lock *lock, nt_irql old)
{
	vh_spin_release(lock, "KeReleaseSpinLock");
	if (old > DISPATCH_LEVEL)
		vh_fatal("KeReleaseSpinLock: bad saved IRQL %u", old);
	vh_set_irql(old);
}

static void NTAPI nt_KeAcquireSpinLockAtDpcLevel(nt_kspin_lock *lock)
{
	if (vh_irql() < DISPATCH_LEVEL)
		bugcheck_irql("KeAcquireSpinLockAtDpcLevel", vh_irql(), DISPATCH_LEVEL);
	vh_spin_acquire(lock, "KeAcquireSpinLockAtDpcLevel");
}

static void NTAPI nt_KeReleaseSpinLockFromDpcLevel(nt_kspin_lock *lock)
{
	if (vh_irql() < DISPATCH_LEVEL)
		bugcheck_irql("KeReleaseSpinLockFromDpcLevel", vh_irql(), DISPATCH_LEVEL);
	vh_spin_release(lock, "KeReleaseSpinLockFromDpcLevel");
}

static uint8_t NTAPI nt_KeTryToAcquireSpinLockAtDpcLevel(nt_kspin_lock *lock)
{
	uint64_t expect = 0;

	if (vh_irql() < DISPATCH_LEVEL)
		bugcheck_irql("KeTryToAcquireSpinLockAtDpcLevel", vh_irql(), DISPATCH_LEVEL);
	return __atomic_compare_exchange_n(lock, &expect, self_tag(), false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static void NTAPI nt_KeAcquireInStackQueuedSpinLock(nt_kspin_lock *lock, nt_klock_queue_handle *h)
{
	h->OldIrql = nt_KeAcquireSpinLockRaiseToDpc(lock);
	h->LockQueue.Lock = lock;
	h->LockQueue.Next = NULL;
}

static void NTAPI nt_KeReleaseInStackQueuedSpinLock(nt_klock_queue_handle *h)
{
	nt_KeReleaseSpinLock(h->LockQueue.Lock, h->OldIrql);
}

static void NTAPI nt_KeAcquireInStackQueuedSpinLockAtDpcLevel(nt_kspin_lock *lock,
							     nt_klock_queue_handle *h)
{
	nt_KeAcquireSpinLockAtDpcLevel(lock);
	h->LockQueue.Lock = lock;
	h->LockQueue.Next = NULL;
}

static void NTAPI nt_KeReleaseInStackQueuedSpinLockFromDpcLevel(nt_klock_queue_handle *h)
{
	nt_KeReleaseSpinLockFromDpcLevel(h->LockQueue.Lock);
}

/* ------------------------------------------------------------ pool */

#define POOL_MAGIC 0x4c4f4f5056445056ull /* "VPDVPOOL" */
#define POOL_NONPAGED 0
#define POOL_PAGED 1
#define POOL_FLAG_UNINITIALIZED 0x2ull
#define POOL_FLAG_PAGED 0x100ull

struct pool_block {
	uint64_t magic;
	struct pool_block *next, *prev;
	size_t size;
	uint32_t tag;
	uint32_t type;
	void *raw;
};
_Static_assert(sizeof(struct pool_block) % 16 == 0, "pool header keeps 16-byte alignment");

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pool_block pool_list = { .next = &pool_list, .prev = &pool_list };

static void tag_str(uint32_t tag, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));
		out[i] = isprint((unsigned char)c) ? c : '.';
	}
	out[4] = 0;
}

static void *pool_alloc(uint32_t type, size_t size, uint32_t tag, bool zero, const char *who)
{
	struct pool_block *b;
	size_t align = size >= 4096 ? 4096 : 16, hdr;
	uint8_t *raw;

	if (vh_irql() > DISPATCH_LEVEL || (type == POOL_PAGED && vh_irql() >= DISPATCH_LEVEL))
		vh_fatal("%s(type %u) at IRQL %u", who, type, vh_irql());
	if (size == 0 || size > (1u << 30))
		return NULL;
	/* Page-size or larger blocks are page aligned on Windows. The header
	 * sits right below the block, in a prefix that keeps the alignment. */
	hdr = (sizeof(*b) + align - 1) & ~(align - 1);
	raw = aligned_alloc(align, (hdr + size + align - 1) & ~(align - 1));
	if (!raw)
		return NULL;
	b = (struct pool_block *)(raw + hdr - sizeof(*b));
	b->magic = POOL_MAGIC;
	b->size = size;
	b->tag = tag;
	b->type = type;
	b->raw = raw;
	/* Poison uninitialised blocks so code relying on zeroed pool fails. */
	memset(b + 1, zero ? 0 : 0xcd, size);
	pthread_mutex_lock(&pool_mu);
	b->next = pool_list.next;
	b->prev = &pool_list;
	pool_list.next->prev = b;
	pool_list.next = b;
	pthread_mutex_unlock(&pool_mu);
	return b + 1;
}

static void pool_free(void *p, uint32_t tag, bool check_tag, const char *who)
{
	struct pool_block *b, *it;
	bool found = false;

	if (!p)
		vh_fatal("%s(NULL)", who);
	if (vh_irql() > DISPATCH_LEVEL)
		vh_fatal("%s at IRQL %u", who, vh_irql());
	b = (struct pool_block *)p - 1;
	pthread_mutex_lock(&pool_mu);
	/* Find it in the list before touching the header: a wild pointer must
	 * not be dereferenced as if it were ours. */
	for (it = pool_list.next; it != &pool_list; it = it->next)
		if (it == b) {
			found = true;
			break;
		}
	if (found && b->magic == POOL_MAGIC) {
		b->prev->next = b->next;
		b->next->prev = b->prev;
	}
	pthread_mutex_unlock(&pool_mu);
	if (!found)
		vh_fatal("%s(%p): not an allocated pool block (double free or wild pointer)", who, p);
	if (check_tag && b->tag != tag) {
		char a[5], w[5];
		tag_str(b->tag, a);
		tag_str(tag, w);
		vh_fatal("%s(%p, '%s'): block was allocated with tag '%s'", who, p, w, a);
	}
	b->magic = 0;
	memset(b + 1, 0xdd, b->size);
	free(b->raw);
}

size_t vh_pool_leaks(bool report)
{
	size_t n = 0;

	pthread_mutex_lock(&pool_mu);
	for (struct pool_block *b = pool_list.next; b != &pool_list; b = b->next) {
		char t[5];
		n++;
		if (report) {
			tag_str(b->tag, t);
			fprintf(stderr, "vdphost: pool leak: %zu bytes tag '%s' at %p\n", b->size, t,
				(void *)(b + 1));
		}
	}
	pthread_mutex_unlock(&pool_mu);
	return n;
}

static void *NTAPI nt_ExAllocatePoolWithTag(uint32_t type, size_t size, uint32_t tag)
{
	return pool_alloc(type & 1, size, tag, false, "ExAllocatePoolWithTag");
}

static void *NTAPI nt_ExAllocatePool(uint32_t type, size_t size)
{
	return pool_alloc(type & 1, size, 0x656e6f4e /* "None" */, false, "ExAllocatePool");
}

/* ExAllocatePool2 zeroes unless POOL_FLAG_UNINITIALIZED. */
static void *NTAPI nt_ExAllocatePool2(uint64_t flags, size_t size, uint32_t tag)
{
	return pool_alloc((flags & POOL_FLAG_PAGED) ? POOL_PAGED : POOL_NONPAGED, size, tag,
			  !(flags & POOL_FLAG_UNINITIALIZED), "ExAllocatePool2");
}

static void NTAPI nt_ExFreePoolWithTag(void *p, uint32_t tag)
{
	pool_free(p, tag, tag != 0, "ExFreePoolWithTag");
}

static void NTAPI nt_ExFreePool(void *p)
{
	pool_free(p, 0, false, "ExFreePool");
}

/* ------------------------------------------------------------ time */

uint64_t vh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void NTAPI nt_KeStallExecutionProcessor(uint32_t us)
{
	uint64_t end;

	/* Windows asks for <= 50 us; longer stalls still work but are logged. */
	if (us > 1000000)
		vh_fatal("KeStallExecutionProcessor(%u us): over one second", us);
	if (us > 50)
		vh_log("KeStallExecutionProcessor(%u us) exceeds the documented 50 us", us);
	end = vh_now_ns() + (uint64_t)us * 1000u;
	while (vh_now_ns() < end)
		__builtin_ia32_pause();
}

static int64_t NTAPI nt_KeQueryPerformanceCounter(int64_t *freq)
{
	/* 10 MHz, like Windows 10 on modern hardware. */
	if (freq)
		*freq = 10000000;
	return (int64_t)(vh_now_ns() / 100);
}

static uint32_t NTAPI nt_KeQueryTimeIncrement(void)
{
	return 156250;
}

void NTAPI nt_KeQuerySystemTimePrecise(int64_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*t = (int64_t)(116444736000000000ull + (uint64_t)ts.tv_sec * 10000000u +
		       (uint64_t)ts.tv_nsec / 100);
}

static uint64_t NTAPI nt_KeQueryInterruptTimePrecise(uint64_t *qpc)
{
	uint64_t t = vh_now_ns() / 100;

	if (qpc)
		*qpc = t;
	return t;
}

static nt_status NTAPI nt_KeDelayExecutionThread(int8_t mode, uint8_t alertable, int64_t *interval)
{
	struct timespec ts;
	int64_t rel;

	(void)mode;
	(void)alertable;
	if (!interval)
		return STATUS_INVALID_PARAMETER;
	if (vh_irql() > APC_LEVEL)
		vh_fatal("KeDelayExecutionThread at IRQL %u", vh_irql());
	if (*interval <= 0) {
		rel = -*interval;
	} else {
		int64_t now;
		nt_KeQuerySystemTimePrecise(&now);
		rel = *interval > now ? *interval - now : 0;
	}
	ts.tv_sec = rel / 10000000;
	ts.tv_nsec = (rel % 10000000) * 100;
	nanosleep(&ts, NULL);
	return STATUS_SUCCESS;
}

/* ------------------------------------------------------------ processors */

/* Windows processor n is the n-th CPU of the process's affinity mask, so a
 * guest booted with -smp 2 shows two processors and -smp 1 shows one. */
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static int cpu_linux[VH_MAX_CPUS];
static unsigned cpu_n;
static cpu_set_t cpu_all;

/* Processor this thread is bound to (-1: none), and whether it is pinned
 * for an IRQL >= DISPATCH_LEVEL stretch. */
static __thread int cpu_bound = -1;
static __thread bool cpu_pinned;

static void cpu_init(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_ZERO(&cpu_all);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && cpu_n < VH_MAX_CPUS; c++)
			if (CPU_ISSET(c, &set)) {
				cpu_linux[cpu_n++] = c;
				CPU_SET(c, &cpu_all);
			}
	if (!cpu_n) {
		/* No affinity information: one processor, nothing is ever pinned. */
		cpu_n = 1;
		cpu_linux[0] = -1;
	}
}

unsigned vh_cpu_count(void)
{
	pthread_once(&cpu_once, cpu_init);
	return cpu_n;
}

unsigned vh_cpu_current(void)
{
	int c;

	if (vh_cpu_count() == 1)
		return 0;
	if (cpu_bound >= 0)
		return (unsigned)cpu_bound;
	c = sched_getcpu();
	for (unsigned i = 0; i < cpu_n; i++)
		if (cpu_linux[i] == c)
			return i;
	return 0;
}

static void cpu_set_affinity(int n)
{
	cpu_set_t one;

	if (vh_cpu_count() == 1 || cpu_linux[0] < 0)
		return;
	if (n < 0) {
		sched_setaffinity(0, sizeof(cpu_all), &cpu_all);
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu_linux[n], &one);
	/* Linux moves the thread before the call returns. */
	if (sched_setaffinity(0, sizeof(one), &one))
		vh_fatal("cannot bind a thread to CPU %d", cpu_linux[n]);
}

void vh_cpu_bind(int n)
{
	if (n >= (int)vh_cpu_count())
		vh_fatal("vh_cpu_bind(%d): only %u processors", n, cpu_n);
	if (vh_irql() >= DISPATCH_LEVEL && n != (int)vh_cpu_current())
		vh_fatal("a thread at IRQL %u may not change processor", vh_irql());
	cpu_pinned = false;
	cpu_bound = n;
	cpu_set_affinity(n);
}

void vh_set_irql(nt_irql irql)
{
	nt_irql old = vh_irql();

	/* Pin before raising: whatever runs at DISPATCH_LEVEL sees one CPU. */
	if (irql >= DISPATCH_LEVEL && old < DISPATCH_LEVEL && cpu_bound < 0 && !cpu_pinned &&
	    vh_cpu_count() > 1) {
		unsigned n = vh_cpu_current();
		cpu_set_affinity((int)n);
		cpu_pinned = true;
	}
	vh_irql_store(irql);
	if (irql < DISPATCH_LEVEL && cpu_pinned) {
		cpu_pinned = false;
		cpu_set_affinity(-1);
	}
}

#define ALL_PROCESSOR_GROUPS 0xffff

static uint32_t NTAPI nt_KeQueryActiveProcessorCount(uint64_t *mask)
{
	unsigned n = vh_cpu_count();

	if (mask)
		*mask = n >= 64 ? ~0ull : (1ull << n) - 1;
	return n;
}

static uint32_t NTAPI nt_KeQueryActiveProcessorCountEx(uint16_t group)
{
	return group == 0 || group == ALL_PROCESSOR_GROUPS ? vh_cpu_count() : 0;
}

static uint32_t NTAPI nt_KeQueryMaximumProcessorCount(void)
{
	return vh_cpu_count();
}

static uint32_t NTAPI nt_KeQueryMaximumProcessorCountEx(uint16_t group)
{
	return nt_KeQueryActiveProcessorCountEx(group);
}

static uint16_t NTAPI nt_KeQueryActiveGroupCount(void)
{
	return 1;
}

static uint32_t NTAPI nt_KeGetCurrentProcessorNumberEx(nt_processor_number *pn)
{
	unsigned n = vh_cpu_current();

	if (pn) {
		pn->Group = 0;
		pn->Number = (uint8_t)n;
		pn->Reserved = 0;
	}
	return n;
}

static uint32_t NTAPI nt_KeGetCurrentProcessorNumber(void)
{
	return vh_cpu_current();
}

static nt_status NTAPI nt_KeGetProcessorNumberFromIndex(uint32_t index, nt_processor_number *pn)
{
	if (!pn || index >= vh_cpu_count())
		return STATUS_INVALID_PARAMETER;
	pn->Group = 0;
	pn->Number = (uint8_t)index;
	pn->Reserved = 0;
	return STATUS_SUCCESS;
}

static uint32_t NTAPI nt_KeGetProcessorIndexFromNumber(const nt_processor_number *pn)
{
	if (!pn || pn->Group != 0 || pn->Number >= vh_cpu_count())
		return 0xffffffffu; /* INVALID_PROCESSOR_INDEX */
	return pn->Number;
}

/* ------------------------------------------------------------ strings */

static void NTAPI nt_RtlInitUnicodeString(nt_unicode_string *dst, const uint16_t *src)
{
	size_t n = 0;

	if (src)
		while (src[n] && n < 0x7ffe)
			n++;
	/* Length is in bytes and capped to what fits a USHORT with terminator. */
	dst->Length = (uint16_t)(n * 2);
	dst->MaximumLength = src ? (uint16_t)(n * 2 + 2) : 0;
	dst->Buffer = (uint16_t *)src;
}

static void NTAPI nt_RtlInitAnsiString(nt_ansi_string *dst, const char *src)
{
	size_t n = src ? strnlen(src, 0xfffe) : 0;

	dst->Length = (uint16_t)n;
	dst->MaximumLength = src ? (uint16_t)(n + 1) : 0;
	dst->Buffer = (char *)src;
}

static void NTAPI nt_RtlCopyUnicodeString(nt_unicode_string *dst, const nt_unicode_string *src)
{
	size_t n;

	if (!src || !src->Buffer) {
		dst->Length = 0;
		return;
	}
	n = src->Length < dst->MaximumLength ? src->Length : dst->MaximumLength;
	n &= ~(size_t)1;
	memmove(dst->Buffer, src->Buffer, n);
	dst->Length = (uint16_t)n;
	if (n + 2 <= dst->MaximumLength)
		dst->Buffer[n / 2] = 0;
}

static uint16_t up16(uint16_t c)
{
	return (c >= 'a' && c <= 'z') ? (uint16_t)(c - 32) : c;
}

static int32_t NTAPI nt_RtlCompareUnicodeString(const nt_unicode_string *a,
						const nt_unicode_string *b, uint8_t ci)
{
	size_t na = a->Length / 2, nb = b->Length / 2;

	for (size_t i = 0; i < na && i < nb; i++) {
		uint16_t x = a->Buffer[i], y = b->Buffer[i];
		if (ci) {
			x = up16(x);
			y = up16(y);
		}
		if (x != y)
			return (int32_t)x - (int32_t)y;
	}
	return (int32_t)na - (int32_t)nb;
}

static uint8_t NTAPI nt_RtlEqualUnicodeString(const nt_unicode_string *a,
					      const nt_unicode_string *b, uint8_t ci)
{
	return a->Length == b->Length && nt_RtlCompareUnicodeString(a, b, ci) == 0;
}

static size_t NTAPI nt_RtlCompareMemory(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0;

	while (i < n && x[i] == y[i])
		i++;
	return i;
}

static void *NTAPI nt_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
static void *NTAPI nt_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
static void *NTAPI nt_memset(void *d, int c, size_t n) { return memset(d, c, n); }
static int NTAPI nt_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }
static size_t NTAPI nt_strlen(const char *s) { return strlen(s); }
static size_t NTAPI nt_wcslen(const uint16_t *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* ------------------------------------------------------------ memory */

static void *NTAPI nt_MmAllocateContiguousMemorySpecifyCache(size_t size, int64_t low, int64_t high,
							     int64_t boundary, uint32_t cache)
{
	uint64_t phys;
	void *va;

	(void)cache;
	if (vh_irql() > DISPATCH_LEVEL)
		vh_fatal("MmAllocateContiguousMemory at IRQL %u", vh_irql());
	if (boundary && (boundary & (boundary - 1)))
		return NULL;
	va = dma_alloc(size, 4096, &phys);
	if (!va)
		return NULL;
	if ((int64_t)phys < low || (int64_t)(phys + size - 1) > high ||
	    (boundary && (phys / (uint64_t)boundary) != ((phys + size - 1) / (uint64_t)boundary))) {
		vh_log("contiguous allocation of %zu bytes cannot meet range 0x%llx-0x%llx", size,
		       (unsigned long long)low, (unsigned long long)high);
		dma_free(va);
		return NULL;
	}
	return va;
}

static void *NTAPI nt_MmAllocateContiguousMemory(size_t size, int64_t high)
{
	return nt_MmAllocateContiguousMemorySpecifyCache(size, 0, high, 0, 1);
}

static void NTAPI nt_MmFreeContiguousMemory(void *va)
{
	uint64_t phys;

	if (!dma_phys(va, &phys))
		vh_fatal("MmFreeContiguousMemory(%p): not contiguous memory", va);
	dma_free(va);
}

static int64_t NTAPI nt_MmGetPhysicalAddress(void *va)
{
	uint64_t phys;

	/* Only host-provided DMA memory has a stable physical address here;
	 * anything else would be a silent DMA bug, so it reads as 0. */
	if (dma_phys(va, &phys))
		return (int64_t)phys;
	vh_log("MmGetPhysicalAddress(%p): not in the DMA pool, returning 0", va);
	return 0;
}

static void *NTAPI nt_MmMapIoSpace(int64_t phys, size_t size, uint32_t cache)
{
	void *va;

	(void)cache;
	va = io_lookup((uint64_t)phys, size);
	if (!va)
		vh_log("MmMapIoSpace(0x%llx, %zu): no device memory there", (unsigned long long)phys, size);
	return va;
}

static void NTAPI nt_MmUnmapIoSpace(void *va, size_t size)
{
	(void)va;
	(void)size;
}

/* ------------------------------------------------------------ table */

#define NT(name) { "ntoskrnl.exe", #name, (void *)nt_##name }

const struct nt_export nt_kernel_exports[] = {
	NT(DbgPrint), NT(DbgPrintEx), NT(KeBugCheckEx), NT(KeBugCheck),
	NT(KeGetCurrentIrql), NT(KfRaiseIrql), NT(KfLowerIrql), NT(KeRaiseIrqlToDpcLevel),
	{ "ntoskrnl.exe", "KeLowerIrql", (void *)nt_KfLowerIrql },
	NT(KeInitializeSpinLock), NT(KeAcquireSpinLockRaiseToDpc), NT(KeReleaseSpinLock),
	NT(KeAcquireSpinLockAtDpcLevel), NT(KeReleaseSpinLockFromDpcLevel),
	NT(KeTryToAcquireSpinLockAtDpcLevel),
	NT(KeAcquireInStackQueuedSpinLock), NT(KeReleaseInStackQueuedSpinLock),
	NT(KeAcquireInStackQueuedSpinLockAtDpcLevel), NT(KeReleaseInStackQueuedSpinLockFromDpcLevel),
	NT(ExAllocatePoolWithTag), NT(ExAllocatePool), NT(ExAllocatePool2),
	NT(ExFreePoolWithTag), NT(ExFreePool),
	NT(KeStallExecutionProcessor), NT(KeQueryPerformanceCounter), NT(KeQueryTimeIncrement),
	NT(KeQuerySystemTimePrecise), NT(KeQueryInterruptTimePrecise), NT(KeDelayExecutionThread),
	NT(KeQueryActiveProcessorCount), NT(KeQueryActiveProcessorCountEx),
	NT(KeQueryMaximumProcessorCount), NT(KeQueryMaximumProcessorCountEx),
	NT(KeQueryActiveGroupCount), NT(KeGetCurrentProcessorNumberEx),
	NT(KeGetCurrentProcessorNumber), NT(KeGetProcessorNumberFromIndex),
	NT(KeGetProcessorIndexFromNumber), NT(KeSetTargetProcessorDpcEx), NT(vDbgPrintEx),
	NT(RtlInitUnicodeString), NT(RtlInitAnsiString), NT(RtlCopyUnicodeString),
	NT(RtlCompareUnicodeString), NT(RtlEqualUnicodeString), NT(RtlCompareMemory),
	NT(memcpy), NT(memmove), NT(memset), NT(memcmp), NT(strlen), NT(wcslen),
	NT(MmAllocateContiguousMemory), NT(MmAllocateContiguousMemorySpecifyCache),
	NT(MmFreeContiguousMemory), NT(MmGetPhysicalAddress), NT(MmMapIoSpace), NT(MmUnmapIoSpace),
	NT(KeInitializeDpc), NT(KeInsertQueueDpc), NT(KeRemoveQueueDpc), NT(KeFlushQueuedDpcs),
	NT(KeSetImportanceDpc), NT(KeSetTargetProcessorDpc),
	NT(KeInitializeTimer), NT(KeInitializeTimerEx), NT(KeSetTimer), NT(KeSetTimerEx),
	NT(KeCancelTimer), NT(KeReadStateTimer),
	NT(IoAllocateWorkItem), NT(IoFreeWorkItem), NT(IoQueueWorkItem),
	NT(KeInitializeEvent), NT(KeSetEvent), NT(KeResetEvent), NT(KeClearEvent),
	NT(KeReadStateEvent), NT(KeWaitForSingleObject),
	NT(ExInterlockedInsertHeadList), NT(ExInterlockedInsertTailList),
	NT(ExInterlockedRemoveHeadList),
	{ NULL, NULL, NULL },
};

/* hal.dll functions moved into ntoskrnl over Windows versions, and mingw's
 * import libraries split them differently from the WDK, so both module
 * names resolve against the one kernel table. */
static bool kernel_module(const char *m)
{
	return !strcasecmp(m, "ntoskrnl.exe") || !strcasecmp(m, "hal.dll");
}

#define MAX_EXTRA 8
static const struct nt_export *extra_exports[MAX_EXTRA + 1];

void vh_add_exports(const struct nt_export *table)
{
	for (int i = 0; i < MAX_EXTRA; i++)
		if (!extra_exports[i]) {
			extra_exports[i] = table;
			return;
		}
	vh_fatal("too many export tables");
}

void *vh_resolve(const char *module, const char *name, void *ctx)
{
	(void)ctx;
	if (kernel_module(module))
		for (const struct nt_export *e = nt_kernel_exports; e->name; e++)
			if (!strcmp(e->name, name))
				return e->fn;
	for (const struct nt_export *const *t = extra_exports; *t; t++)
		for (const struct nt_export *e = *t; e->name; e++)
			if (!strcasecmp(e->module, module) && !strcmp(e->name, name))
				return e->fn;
	return NULL;
}
