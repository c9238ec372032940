/* Logging, fatal errors and the physical I/O window table. */
#include "vmhost.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void vh_log(const char *fmt, ...)
{
	va_list ap;

	fputs("vdphost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void vh_fatal(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vdphost: fatal: %s\n", msg);
	/* stdout is TAP: a fatal error is a failed test, never a silent exit. */
	printf("not ok - fatal: %s\n", msg);
	fflush(stdout);
	fflush(stderr);
	_exit(71);
}

#define MAX_WINDOWS 32

static struct {
	uint64_t phys, size;
	uint8_t *va;
} windows[MAX_WINDOWS];
static unsigned nwindows;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

int io_add_window(uint64_t phys, uint64_t size, void *va)
{
	int r = -1;

	pthread_mutex_lock(&mu);
	if (nwindows < MAX_WINDOWS && size && phys + size > phys) {
		windows[nwindows].phys = phys;
		windows[nwindows].size = size;
		windows[nwindows].va = va;
		nwindows++;
		r = 0;
	}
	pthread_mutex_unlock(&mu);
	return r;
}

void *io_lookup(uint64_t phys, uint64_t size)
{
	void *va = NULL;

	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < nwindows; i++)
		if (phys >= windows[i].phys && phys - windows[i].phys < windows[i].size &&
		    size <= windows[i].size - (phys - windows[i].phys)) {
			va = windows[i].va + (phys - windows[i].phys);
			break;
		}
	pthread_mutex_unlock(&mu);
	return va;
}

bool io_contains(const volatile void *va, size_t size)
{
	uintptr_t a = (uintptr_t)va;
	bool ok = false;

	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < nwindows && !ok; i++) {
		uintptr_t b = (uintptr_t)windows[i].va;
		ok = a >= b && a - b < windows[i].size && size <= windows[i].size - (a - b);
	}
	pthread_mutex_unlock(&mu);
	return ok;
}
