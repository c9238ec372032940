/* Deferred execution: one DPC thread per processor, bound to it, runs that
 * processor's DPC queue at DISPATCH_LEVEL one DPC at a time, as Windows
 * does; a DPC goes to the queue of the processor that inserts it, or to its
 * target processor (KeSetTargetProcessorDpc[Ex]). Processor 0's thread also
 * fires timers; one worker thread runs work items at PASSIVE_LEVEL. Due
 * times follow KeSetTimer: negative is relative in 100 ns units, positive
 * is absolute system time. */
#define _GNU_SOURCE
#include "vmhost.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DPC    256
#define MAX_TIMERS 128
#define MAX_WORK   256
#define TIMER_MAGIC 0x524d495444505656ull
#define WORK_MAGIC  0x4b524f5744505656ull

struct work_item {
	uint64_t magic;
	void *device;
	bool queued;
};

typedef void NTAPI work_routine(void *device, void *ctx);

struct work_req {
	struct work_item *item;
	work_routine *fn;
	void *ctx;
};

/* KDPC.Number: 0 = untargeted, else target processor + DPC_TARGETED. */
#define DPC_TARGETED 0x100

struct dpc_cpu {
	nt_kdpc *q[MAX_DPC];
	unsigned head, count;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int thread;
	bool cv_ready;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct dpc_cpu dpc_cpus[VH_MAX_CPUS];
static unsigned ncpus = 1;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
/* Waiters on dispatcher objects (events, timers); protected by mu. */
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static unsigned dpc_count; /* queued on all processors */
static nt_ktimer *timers[MAX_TIMERS];
static struct work_req workq[MAX_WORK];
static unsigned work_head, work_count;
static unsigned running;
static bool started, stopping;
static int work_thread = -1;

static void idle_signal(void)
{
	if (!dpc_count && !work_count && !running)
		pthread_cond_broadcast(&idle_cv);
}

void NTAPI nt_KeInitializeDpc(nt_kdpc *dpc, nt_deferred_routine *fn, void *ctx)
{
	memset(dpc, 0, sizeof(*dpc));
	dpc->Type = 19; /* DpcObject */
	dpc->Importance = 1;
	dpc->DeferredRoutine = fn;
	dpc->DeferredContext = ctx;
}

/* The processor a DPC runs on: its target, else the inserting one. */
static unsigned dpc_cpu_of(const nt_kdpc *dpc)
{
	unsigned n = dpc->Number >= DPC_TARGETED ? (unsigned)(dpc->Number - DPC_TARGETED) :
						   vh_cpu_current();

	return n < ncpus ? n : 0;
}

static uint8_t dpc_queue_locked(nt_kdpc *dpc, void *a1, void *a2)
{
	struct dpc_cpu *c;

	if (dpc->DpcData)
		return 0;
	if (!dpc->DeferredRoutine)
		vh_fatal("KeInsertQueueDpc(%p): DPC has no routine (not initialised?)", (void *)dpc);
	c = &dpc_cpus[dpc_cpu_of(dpc)];
	if (c->count == MAX_DPC)
		vh_fatal("DPC queue overflow (%u queued)", c->count);
	dpc->SystemArgument1 = a1;
	dpc->SystemArgument2 = a2;
	/* DpcData names the queue, so removal finds it. */
	dpc->DpcData = c;
	c->q[(c->head + c->count++) % MAX_DPC] = dpc;
	dpc_count++;
	pthread_cond_signal(&c->cv);
	return 1;
}

uint8_t NTAPI nt_KeInsertQueueDpc(nt_kdpc *dpc, void *a1, void *a2)
{
	uint8_t r;

	if (vh_irql() > HIGH_LEVEL)
		vh_fatal("KeInsertQueueDpc: bad IRQL");
	pthread_mutex_lock(&mu);
	r = dpc_queue_locked(dpc, a1, a2);
	pthread_mutex_unlock(&mu);
	return r;
}

uint8_t NTAPI nt_KeRemoveQueueDpc(nt_kdpc *dpc)
{
	uint8_t found = 0;

	pthread_mutex_lock(&mu);
	for (unsigned n = 0; n < ncpus && !found; n++) {
		struct dpc_cpu *c = &dpc_cpus[n];
		if (dpc->DpcData != c)
			continue;
		for (unsigned i = 0; i < c->count; i++) {
			unsigned at = (c->head + i) % MAX_DPC;
			if (c->q[at] != dpc)
				continue;
			for (unsigned k = i; k + 1 < c->count; k++)
				c->q[(c->head + k) % MAX_DPC] = c->q[(c->head + k + 1) % MAX_DPC];
			c->count--;
			dpc_count--;
			dpc->DpcData = NULL;
			found = 1;
			break;
		}
	}
	idle_signal();
	pthread_mutex_unlock(&mu);
	return found;
}

void NTAPI nt_KeFlushQueuedDpcs(void)
{
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("KeFlushQueuedDpcs at IRQL %u", vh_irql());
	pthread_mutex_lock(&mu);
	while (started && (dpc_count || running))
		pthread_cond_wait(&idle_cv, &mu);
	pthread_mutex_unlock(&mu);
}

void NTAPI nt_KeSetImportanceDpc(nt_kdpc *dpc, uint32_t importance)
{
	dpc->Importance = (uint8_t)importance;
}

void NTAPI nt_KeSetTargetProcessorDpc(nt_kdpc *dpc, int8_t number)
{
	if (!dpc || number < 0 || (unsigned)number >= vh_cpu_count())
		vh_fatal("KeSetTargetProcessorDpc(%p, %d): only %u processors", (void *)dpc, number,
			 vh_cpu_count());
	dpc->Number = (uint16_t)(DPC_TARGETED + number);
}

nt_status NTAPI nt_KeSetTargetProcessorDpcEx(nt_kdpc *dpc, nt_processor_number *pn)
{
	if (!dpc || !pn)
		vh_fatal("KeSetTargetProcessorDpcEx(%p, %p): NULL argument", (void *)dpc, (void *)pn);
	if (pn->Group != 0 || pn->Number >= vh_cpu_count())
		return STATUS_INVALID_PARAMETER;
	dpc->Number = (uint16_t)(DPC_TARGETED + pn->Number);
	return STATUS_SUCCESS;
}

/* ---- timers ---- */

void NTAPI nt_KeInitializeTimerEx(nt_ktimer *t, uint32_t type)
{
	memset(t, 0, sizeof(*t));
	/* TimerNotificationObject 8 / TimerSynchronizationObject 9 */
	t->Header.Type = (uint8_t)(8 + (type & 1));
	t->Header.Size = sizeof(*t) / 4;
	t->magic = TIMER_MAGIC;
}

void NTAPI nt_KeInitializeTimer(nt_ktimer *t)
{
	nt_KeInitializeTimerEx(t, 0);
}

static bool timer_remove_locked(nt_ktimer *t)
{
	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i] == t) {
			timers[i] = NULL;
			return true;
		}
	return false;
}

uint8_t NTAPI nt_KeSetTimerEx(nt_ktimer *t, int64_t due, int32_t period_ms, nt_kdpc *dpc)
{
	uint64_t now = vh_now_ns(), rel;
	bool was_set;
	int slot = -1;

	if (t->magic != TIMER_MAGIC)
		vh_fatal("KeSetTimer(%p): timer not initialised", (void *)t);
	if (period_ms < 0)
		vh_fatal("KeSetTimerEx: negative period %d", period_ms);
	if (due <= 0) {
		rel = (uint64_t)(-due) * 100u;
	} else {
		struct timespec ts;
		int64_t sys;
		clock_gettime(CLOCK_REALTIME, &ts);
		sys = (int64_t)(116444736000000000ull + (uint64_t)ts.tv_sec * 10000000u +
				(uint64_t)ts.tv_nsec / 100);
		rel = due > sys ? (uint64_t)(due - sys) * 100u : 0;
	}
	pthread_mutex_lock(&mu);
	was_set = timer_remove_locked(t);
	for (int i = 0; i < MAX_TIMERS; i++)
		if (!timers[i]) {
			slot = i;
			break;
		}
	if (slot < 0)
		vh_fatal("too many timers set (%d)", MAX_TIMERS);
	t->Header.SignalState = 0;
	t->due_ns = now + rel;
	t->period_ns = (uint64_t)period_ms * 1000000u;
	t->dpc = dpc;
	timers[slot] = t;
	pthread_cond_signal(&dpc_cpus[0].cv);
	pthread_mutex_unlock(&mu);
	return was_set;
}

uint8_t NTAPI nt_KeSetTimer(nt_ktimer *t, int64_t due, nt_kdpc *dpc)
{
	return nt_KeSetTimerEx(t, due, 0, dpc);
}

uint8_t NTAPI nt_KeCancelTimer(nt_ktimer *t)
{
	bool was_set;

	if (t->magic != TIMER_MAGIC)
		vh_fatal("KeCancelTimer(%p): timer not initialised", (void *)t);
	pthread_mutex_lock(&mu);
	was_set = timer_remove_locked(t);
	t->due_ns = 0;
	pthread_mutex_unlock(&mu);
	return was_set;
}

uint8_t NTAPI nt_KeReadStateTimer(nt_ktimer *t)
{
	return __atomic_load_n(&t->Header.SignalState, __ATOMIC_ACQUIRE) != 0;
}

/* Fire due timers; returns the next due time or 0. Called with mu held. */
static uint64_t timers_run_locked(void)
{
	uint64_t now = vh_now_ns(), next = 0;

	for (int i = 0; i < MAX_TIMERS; i++) {
		nt_ktimer *t = timers[i];
		if (!t)
			continue;
		if (t->due_ns <= now) {
			__atomic_store_n(&t->Header.SignalState, 1, __ATOMIC_RELEASE);
			pthread_cond_broadcast(&wait_cv);
			if (t->dpc)
				dpc_queue_locked(t->dpc, (void *)(uintptr_t)(now / 100), NULL);
			if (t->period_ns) {
				t->due_ns = now + t->period_ns;
			} else {
				timers[i] = NULL;
				continue;
			}
		}
		if (!next || t->due_ns < next)
			next = t->due_ns;
	}
	return next;
}

/* One per processor, bound to it; processor 0's also fires the timers. */
static void *dpc_main(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	struct dpc_cpu *c = &dpc_cpus[cpu];

	vh_set_irql(DISPATCH_LEVEL);
	pthread_mutex_lock(&mu);
	while (!stopping) {
		uint64_t next = cpu == 0 ? timers_run_locked() : 0;

		if (c->count) {
			nt_kdpc *dpc = c->q[c->head];
			void *a1 = dpc->SystemArgument1, *a2 = dpc->SystemArgument2;

			c->head = (c->head + 1) % MAX_DPC;
			c->count--;
			dpc_count--;
			dpc->DpcData = NULL;
			running++;
			pthread_mutex_unlock(&mu);
			dpc->DeferredRoutine(dpc, dpc->DeferredContext, a1, a2);
			if (vh_irql() != DISPATCH_LEVEL)
				vh_fatal("DPC %p returned at IRQL %u, expected DISPATCH_LEVEL",
					 (void *)dpc, vh_irql());
			if (vh_cpu_current() != cpu)
				vh_fatal("DPC %p: processor changed from %u to %u", (void *)dpc, cpu,
					 vh_cpu_current());
			pthread_mutex_lock(&mu);
			running--;
			idle_signal();
			continue;
		}
		if (next) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
			uint64_t wait = next > now ? next - now : 0;
			/* The condition variables use CLOCK_MONOTONIC (vh_sched_start). */
			ts.tv_sec += (time_t)(wait / 1000000000u);
			ts.tv_nsec += (long)(wait % 1000000000u);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&c->cv, &mu, &ts);
		} else {
			pthread_cond_wait(&c->cv, &mu);
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* ---- events and waits ---- */

#define EV_NOTIFICATION 0
#define EV_SYNCHRONIZATION 1
#define STATUS_TIMEOUT ((nt_status)0x00000102)
#define WAIT_LIMIT_S 60

void NTAPI nt_KeInitializeEvent(nt_kevent *e, uint32_t type, uint8_t state)
{
	if (type > EV_SYNCHRONIZATION)
		vh_fatal("KeInitializeEvent(%p): bad event type %u", (void *)e, type);
	memset(e, 0, sizeof(*e));
	e->Header.Type = (uint8_t)type;
	e->Header.Size = sizeof(*e) / 4;
	e->Header.SignalState = state != 0;
	e->Header.WaitListHead.Flink = e->Header.WaitListHead.Blink = &e->Header.WaitListHead;
}

static void check_event(const nt_kevent *e, const char *who)
{
	if (!e || e->Header.Type > EV_SYNCHRONIZATION ||
	    e->Header.WaitListHead.Flink != &((nt_kevent *)e)->Header.WaitListHead)
		vh_fatal("%s(%p): not an initialised event", who, (const void *)e);
}

int32_t NTAPI nt_KeSetEvent(nt_kevent *e, int32_t increment, uint8_t wait)
{
	int32_t prev;

	(void)increment;
	(void)wait;
	check_event(e, "KeSetEvent");
	if (vh_irql() > DISPATCH_LEVEL)
		vh_fatal("KeSetEvent at IRQL %u", vh_irql());
	pthread_mutex_lock(&mu);
	prev = e->Header.SignalState;
	e->Header.SignalState = 1;
	pthread_cond_broadcast(&wait_cv);
	pthread_mutex_unlock(&mu);
	return prev;
}

int32_t NTAPI nt_KeResetEvent(nt_kevent *e)
{
	int32_t prev;

	check_event(e, "KeResetEvent");
	pthread_mutex_lock(&mu);
	prev = e->Header.SignalState;
	e->Header.SignalState = 0;
	pthread_mutex_unlock(&mu);
	return prev;
}

void NTAPI nt_KeClearEvent(nt_kevent *e)
{
	nt_KeResetEvent(e);
}

int32_t NTAPI nt_KeReadStateEvent(nt_kevent *e)
{
	check_event(e, "KeReadStateEvent");
	return __atomic_load_n(&e->Header.SignalState, __ATOMIC_ACQUIRE);
}

nt_status NTAPI nt_KeWaitForSingleObject(void *obj, uint32_t reason, int8_t mode, uint8_t alertable,
					 int64_t *timeout)
{
	nt_dispatcher_header *h = obj;
	uint64_t limit_ns;
	struct timespec ts;
	nt_status r = STATUS_SUCCESS;

	(void)reason;
	(void)mode;
	(void)alertable;
	if (!h)
		vh_fatal("KeWaitForSingleObject(NULL)");
	if (h->Type <= EV_SYNCHRONIZATION)
		check_event(obj, "KeWaitForSingleObject");
	else if (h->Type != 8 && h->Type != 9)
		vh_fatal("KeWaitForSingleObject(%p): object type %u not emulated", obj, h->Type);
	/* Waiting with a non-zero timeout is only legal at IRQL <= APC_LEVEL. */
	if (vh_irql() > (timeout && *timeout == 0 ? DISPATCH_LEVEL : APC_LEVEL))
		vh_fatal("KeWaitForSingleObject at IRQL %u", vh_irql());
	if (!timeout) {
		limit_ns = (uint64_t)WAIT_LIMIT_S * 1000000000u;
	} else if (*timeout <= 0) {
		limit_ns = (uint64_t)(-*timeout) * 100u;
	} else {
		int64_t now;
		nt_KeQuerySystemTimePrecise(&now);
		limit_ns = *timeout > now ? (uint64_t)(*timeout - now) * 100u : 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(limit_ns / 1000000000u);
	ts.tv_nsec += (long)(limit_ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	while (!h->SignalState) {
		if (pthread_cond_timedwait(&wait_cv, &mu, &ts) == ETIMEDOUT && !h->SignalState) {
			r = STATUS_TIMEOUT;
			break;
		}
	}
	/* Satisfying a wait resets synchronization objects. */
	if (r == STATUS_SUCCESS && (h->Type == EV_SYNCHRONIZATION || h->Type == 9))
		h->SignalState = 0;
	pthread_mutex_unlock(&mu);
	if (r == STATUS_TIMEOUT && !timeout)
		vh_fatal("KeWaitForSingleObject(%p) with no timeout still waiting after %d s (deadlock?)",
			 obj, WAIT_LIMIT_S);
	return r;
}

/* ---- interlocked lists (spin lock held, IRQL unchanged) ---- */

static void list_check(nt_list_entry *head, const char *who)
{
	if (!head || !head->Flink || !head->Blink || head->Flink->Blink != head ||
	    head->Blink->Flink != head)
		vh_fatal("%s(%p): corrupt list head", who, (void *)head);
}

nt_list_entry *NTAPI nt_ExInterlockedInsertHeadList(nt_list_entry *head, nt_list_entry *e,
						    nt_kspin_lock *lock)
{
	nt_list_entry *first;

	vh_spin_acquire(lock, "ExInterlockedInsertHeadList");
	list_check(head, "ExInterlockedInsertHeadList");
	first = head->Flink;
	e->Flink = first;
	e->Blink = head;
	first->Blink = e;
	head->Flink = e;
	vh_spin_release(lock, "ExInterlockedInsertHeadList");
	return first == head ? NULL : first;
}

nt_list_entry *NTAPI nt_ExInterlockedInsertTailList(nt_list_entry *head, nt_list_entry *e,
						    nt_kspin_lock *lock)
{
	nt_list_entry *last;

	vh_spin_acquire(lock, "ExInterlockedInsertTailList");
	list_check(head, "ExInterlockedInsertTailList");
	last = head->Blink;
	e->Flink = head;
	e->Blink = last;
	last->Flink = e;
	head->Blink = e;
	vh_spin_release(lock, "ExInterlockedInsertTailList");
	return last == head ? NULL : last;
}

nt_list_entry *NTAPI nt_ExInterlockedRemoveHeadList(nt_list_entry *head, nt_kspin_lock *lock)
{
	nt_list_entry *e;

	vh_spin_acquire(lock, "ExInterlockedRemoveHeadList");
	list_check(head, "ExInterlockedRemoveHeadList");
	e = head->Flink;
	if (e == head) {
		e = NULL;
	} else {
		head->Flink = e->Flink;
		e->Flink->Blink = head;
	}
	vh_spin_release(lock, "ExInterlockedRemoveHeadList");
	return e;
}

/* ---- work items ---- */

void *NTAPI nt_IoAllocateWorkItem(void *device)
{
	struct work_item *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->magic = WORK_MAGIC;
	w->device = device;
	return w;
}

void NTAPI nt_IoFreeWorkItem(void *item)
{
	struct work_item *w = item;

	if (!w || w->magic != WORK_MAGIC)
		vh_fatal("IoFreeWorkItem(%p): not a work item", item);
	pthread_mutex_lock(&mu);
	if (w->queued)
		vh_fatal("IoFreeWorkItem(%p): still queued", item);
	pthread_mutex_unlock(&mu);
	w->magic = 0;
	free(w);
}

void NTAPI nt_IoQueueWorkItem(void *item, void *routine, uint32_t queue, void *ctx)
{
	struct work_item *w = item;

	(void)queue;
	if (!w || w->magic != WORK_MAGIC)
		vh_fatal("IoQueueWorkItem(%p): not a work item", item);
	if (!routine)
		vh_fatal("IoQueueWorkItem: NULL routine");
	pthread_mutex_lock(&mu);
	/* Windows forbids queueing an item that is still queued. */
	if (w->queued)
		vh_fatal("IoQueueWorkItem(%p): already queued", item);
	if (work_count == MAX_WORK)
		vh_fatal("work queue overflow");
	w->queued = true;
	workq[(work_head + work_count++) % MAX_WORK] =
		(struct work_req){ w, (work_routine *)routine, ctx };
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&mu);
}

static void *work_main(void *arg)
{
	(void)arg;
	vh_set_irql(PASSIVE_LEVEL);
	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct work_req r;

		if (!work_count) {
			pthread_cond_wait(&work_cv, &mu);
			continue;
		}
		r = workq[work_head];
		work_head = (work_head + 1) % MAX_WORK;
		work_count--;
		r.item->queued = false;
		running++;
		pthread_mutex_unlock(&mu);
		r.fn(r.item->device, r.ctx);
		if (vh_irql() != PASSIVE_LEVEL)
			vh_fatal("work item returned at IRQL %u", vh_irql());
		pthread_mutex_lock(&mu);
		running--;
		idle_signal();
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

void vh_sched_start(void)
{
	pthread_condattr_t ca;

	pthread_mutex_lock(&mu);
	if (started) {
		pthread_mutex_unlock(&mu);
		return;
	}
	ncpus = vh_cpu_count();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (unsigned n = 0; n < ncpus; n++) {
		if (dpc_cpus[n].cv_ready)
			pthread_cond_destroy(&dpc_cpus[n].cv);
		pthread_cond_init(&dpc_cpus[n].cv, &ca);
		dpc_cpus[n].cv_ready = true;
	}
	pthread_condattr_destroy(&ca);
	started = true;
	stopping = false;
	pthread_mutex_unlock(&mu);
	for (unsigned n = 0; n < ncpus; n++) {
		static char names[VH_MAX_CPUS][8];
		snprintf(names[n], sizeof(names[n]), "dpc%u", n);
		dpc_cpus[n].thread = vh_thread_start_on(n ? names[n] : "dpc", VH_STACK_SIZE, dpc_main,
							(void *)(uintptr_t)n, ncpus > 1 ? (int)n : -1);
	}
	work_thread = vh_thread_start("workitem", VH_STACK_SIZE, work_main, NULL);
}

bool vh_sched_idle(unsigned timeout_ms)
{
	struct timespec ts;
	bool idle;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	while (dpc_count || work_count || running)
		if (pthread_cond_timedwait(&idle_cv, &mu, &ts) == ETIMEDOUT)
			break;
	idle = !dpc_count && !work_count && !running;
	pthread_mutex_unlock(&mu);
	return idle;
}

void vh_sched_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!started) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	for (int i = 0; i < MAX_TIMERS; i++)
		timers[i] = NULL;
	for (unsigned n = 0; n < ncpus; n++)
		pthread_cond_broadcast(&dpc_cpus[n].cv);
	pthread_cond_broadcast(&work_cv);
	pthread_mutex_unlock(&mu);
	for (unsigned n = 0; n < ncpus; n++)
		vh_thread_join(dpc_cpus[n].thread);
	vh_thread_join(work_thread);
	pthread_mutex_lock(&mu);
	started = false;
	pthread_mutex_unlock(&mu);
}
