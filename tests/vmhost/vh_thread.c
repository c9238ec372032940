/* Threads that run driver code. Their stacks are painted so the deepest
 * use can be reported (Windows x64 gives a driver 24 KiB of kernel stack;
 * a Linux thread's 8 MiB would hide an overflow), and each has a guard
 * page plus its own signal stack so an overflow is reported, not silent. */
#define _GNU_SOURCE
#include "vmhost.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAINT 0xa5
#define GUARD 4096u
#define ALTSTACK (64u * 1024)
/* Per-CPU DPC, interrupt and submitter threads on up to VH_MAX_CPUS CPUs. */
#define MAX_THREADS (8 + 4 * VH_MAX_CPUS)

struct vh_thread {
	pthread_t t;
	uint8_t *base; /* guard page, then the stack */
	size_t size;
	const char *name;
	void *(*fn)(void *);
	void *arg;
	int cpu; /* bound processor, -1 for none */
	bool used;
};

static struct vh_thread threads[MAX_THREADS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void vh_trap_thread_init(void)
{
	stack_t ss = { .ss_size = ALTSTACK };

	ss.ss_sp = malloc(ALTSTACK);
	if (ss.ss_sp)
		sigaltstack(&ss, NULL);
}

static void *trampoline(void *p)
{
	struct vh_thread *th = p;

	vh_trap_thread_init();
	if (th->cpu >= 0)
		vh_cpu_bind(th->cpu);
	return th->fn(th->arg);
}

int vh_thread_start(const char *name, size_t stack, void *(*fn)(void *), void *arg)
{
	return vh_thread_start_on(name, stack, fn, arg, -1);
}

int vh_thread_start_on(const char *name, size_t stack, void *(*fn)(void *), void *arg, int cpu)
{
	struct vh_thread *th = NULL;
	pthread_attr_t at;
	int id = -1;

	stack = (stack + 4095) & ~(size_t)4095;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < MAX_THREADS && id < 0; i++)
		if (!threads[i].used) {
			id = i;
			th = &threads[i];
			th->used = true;
		}
	pthread_mutex_unlock(&mu);
	if (id < 0)
		vh_fatal("too many host threads");
	th->base = mmap(NULL, stack + GUARD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (th->base == MAP_FAILED)
		vh_fatal("cannot allocate a %zu-byte stack", stack);
	mprotect(th->base, GUARD, PROT_NONE);
	memset(th->base + GUARD, PAINT, stack);
	th->size = stack;
	th->name = name;
	th->fn = fn;
	th->arg = arg;
	th->cpu = cpu;
	pthread_attr_init(&at);
	pthread_attr_setstack(&at, th->base + GUARD, stack);
	if (pthread_create(&th->t, &at, trampoline, th))
		vh_fatal("cannot start thread %s", name);
	pthread_attr_destroy(&at);
	return id;
}

void *vh_thread_join(int id)
{
	void *r = NULL;

	if (id >= 0 && id < MAX_THREADS && threads[id].used)
		pthread_join(threads[id].t, &r);
	return r;
}

/* Deepest use: the stack grows down, so the first unpainted byte from the
 * low end marks it. */
size_t vh_thread_stack_used(int id)
{
	const uint8_t *p, *end;

	if (id < 0 || id >= MAX_THREADS || !threads[id].used)
		return 0;
	p = threads[id].base + GUARD;
	end = p + threads[id].size;
	while (p < end && *p == PAINT)
		p++;
	return (size_t)(end - p);
}

int vh_stack_report(void)
{
	int over = 0;

	for (int i = 0; i < MAX_THREADS; i++) {
		size_t used;
		if (!threads[i].used)
			continue;
		used = vh_thread_stack_used(i);
		/* Windows gives 24 KiB; the host's own frames are allowed 8 KiB. */
		if (used > VH_STACK_BUDGET) {
			printf("not ok - stack %s: deepest use %zu bytes exceeds the %u-byte budget "
			       "(24 KiB Windows kernel stack + host frames)\n",
			       threads[i].name, used, VH_STACK_BUDGET);
			over++;
		} else {
			printf("# stack %s: deepest use %zu bytes\n", threads[i].name, used);
		}
	}
	return over;
}

bool vh_is_stack_guard(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < MAX_THREADS; i++) {
		uintptr_t g = (uintptr_t)threads[i].base;
		if (threads[i].used && g && a >= g && a - g < GUARD)
			return true;
	}
	return false;
}
