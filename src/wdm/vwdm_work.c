/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A coalescing PASSIVE_LEVEL worker: a kick from a DPC queues one work
 * item; kicks while it runs make it run once more instead of queueing again.
 */
#include "vwdm.h"

/* state: 0 idle, 1 queued or running, 2 run again when done. */
static VOID NTAPI vwdm_worker_routine(PDEVICE_OBJECT dev, PVOID ctx)
{
	struct vwdm_worker *w = ctx;

	UNREFERENCED_PARAMETER(dev);
	do {
		InterlockedExchange(&w->state, 1);
		w->fn(w->ctx);
	} while (InterlockedCompareExchange(&w->state, 0, 1) != 1);
	KeSetEvent(&w->idle, IO_NO_INCREMENT, FALSE);
}

NTSTATUS vwdm_worker_init(struct vwdm_worker *w, PDEVICE_OBJECT dev,
			  void (*fn)(void *ctx), void *ctx)
{
	w->fn = fn;
	w->ctx = ctx;
	w->state = 0;
	KeInitializeEvent(&w->idle, NotificationEvent, TRUE);
	w->item = IoAllocateWorkItem(dev);
	return w->item ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

void vwdm_worker_kick(struct vwdm_worker *w)
{
	for (;;) {
		LONG s = w->state;

		if (s == 2)
			return;
		if (InterlockedCompareExchange(&w->state, s == 0 ? 1 : 2, s) != s)
			continue;
		if (s == 0) {
			KeClearEvent(&w->idle);
			IoQueueWorkItem(w->item, vwdm_worker_routine, DelayedWorkQueue, w);
		}
		return;
	}
}

void vwdm_worker_wait_idle(struct vwdm_worker *w)
{
	KeWaitForSingleObject(&w->idle, Executive, KernelMode, FALSE, NULL);
}

void vwdm_worker_free(struct vwdm_worker *w)
{
	if (w->item)
		IoFreeWorkItem(w->item);
	w->item = NULL;
}
