/* The I/O manager and the parts of the PnP manager WDM drivers see:
 * device objects and stacks, IRPs with stack locations, completion
 * routines (STATUS_MORE_PROCESSING_REQUIRED), pending IRPs, cancellation,
 * cancel-safe queues, remove locks, interrupts (IoConnectInterruptEx),
 * DMA adapters, device interfaces, bug-check callbacks and page MDLs,
 * following the documented Windows semantics. Where Windows would bug
 * check (IRP completed twice, out of stack locations, wrong IRQL) the host
 * stops with a clear fatal error. */
#define _GNU_SOURCE
#include "nt_io.h"
#include "inf_reg.h"
#include "vmhost.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IO_TYPE_DEVICE 3
#define IO_TYPE_FILE   5
#define IO_TYPE_IRP    6
#define IO_TYPE_CSQ_IRP_CONTEXT 1
#define IO_TYPE_CSQ    2
#define IO_TYPE_CSQ_EX 3
#define IO_DIRQL       12      /* the one device's interrupt IRQL */

static pthread_mutex_t io_mu = PTHREAD_MUTEX_INITIALIZER;

static void io_lock(void) { pthread_mutex_lock(&io_mu); }
static void io_unlock(void) { pthread_mutex_unlock(&io_mu); }

static void check_irql(const char *what, nt_irql max)
{
	if (vh_irql() > max)
		vh_fatal("%s called at IRQL %u (must be <= %u)", what, vh_irql(), max);
}

/* ------------------------------------------------------------ device objects */

#define DEV_MAGIC 0x766564766f69ull

struct io_dev {
	nt_device_object d;          /* first: what drivers see */
	uint64_t magic;
	nt_device_object *attached_to;
	int refs;                    /* ObReference on the device object */
	bool pdo;
	char name[48];
	const struct io_pdo_ops *ops;
	int bus_refs;                /* BUS_INTERFACE_STANDARD references */
	struct io_dev *next_live;
};
static struct io_dev *live_devs;
static unsigned n_live_devs;

static struct io_dev *as_dev(nt_device_object *d, const char *who)
{
	struct io_dev *h = (struct io_dev *)d;

	if (!d || h->magic != DEV_MAGIC || d->Type != IO_TYPE_DEVICE)
		vh_fatal("%s: %p is not a device object", who, (void *)d);
	return h;
}

unsigned io_live_devices(void)
{
	return n_live_devs;
}

nt_status NTAPI io_IoCreateDevice(nt_driver_object *drv, uint32_t ext_size, nt_unicode_string *name,
				  uint32_t type, uint32_t characteristics, uint8_t exclusive,
				  nt_device_object **out)
{
	size_t hdr = (sizeof(struct io_dev) + 15) & ~(size_t)15;
	struct io_dev *h;

	check_irql("IoCreateDevice", PASSIVE_LEVEL);
	*out = NULL;
	if (!drv || ext_size > (64u << 20))
		return STATUS_INVALID_PARAMETER;
	h = calloc(1, hdr + ext_size);
	if (!h)
		return STATUS_INSUFFICIENT_RESOURCES;
	h->magic = DEV_MAGIC;
	h->d.Type = IO_TYPE_DEVICE;
	h->d.Size = (uint16_t)(sizeof(nt_device_object) + ext_size);
	h->d.DriverObject = drv;
	h->d.Flags = DO_DEVICE_INITIALIZING | (exclusive ? 0x8 : 0);
	h->d.Characteristics = characteristics;
	h->d.DeviceType = type;
	h->d.StackSize = 1;
	h->d.DeviceExtension = ext_size ? (uint8_t *)h + hdr : NULL;
	h->d.DeviceObjectExtension = h;
	snprintf(h->name, sizeof(h->name), "%s", name && name->Length ? "named" : "unnamed");
	io_lock();
	h->d.NextDevice = drv->DeviceObject;
	drv->DeviceObject = &h->d;
	h->next_live = live_devs;
	live_devs = h;
	n_live_devs++;
	io_unlock();
	*out = &h->d;
	return STATUS_SUCCESS;
}

void NTAPI io_IoDeleteDevice(nt_device_object *dev)
{
	struct io_dev *h = as_dev(dev, "IoDeleteDevice");
	nt_driver_object *drv = dev->DriverObject;

	check_irql("IoDeleteDevice", PASSIVE_LEVEL);
	if (h->attached_to)
		vh_fatal("IoDeleteDevice(%p): still attached to %p (IoDetachDevice first)", (void *)dev,
			 (void *)h->attached_to);
	if (h->refs)
		vh_log("io: IoDeleteDevice(%p) with %d object references outstanding", (void *)dev, h->refs);
	io_lock();
	for (nt_device_object **p = (nt_device_object **)&drv->DeviceObject; *p; p = &(*p)->NextDevice)
		if (*p == dev) {
			*p = dev->NextDevice;
			break;
		}
	for (struct io_dev **p = &live_devs; *p; p = &(*p)->next_live)
		if (*p == h) {
			*p = h->next_live;
			break;
		}
	n_live_devs--;
	io_unlock();
	h->magic = 0;
	dev->Type = 0;
	free(h);
}

nt_device_object *io_top_of_stack(nt_device_object *dev)
{
	io_lock();
	while (dev->AttachedDevice)
		dev = dev->AttachedDevice;
	io_unlock();
	return dev;
}

nt_device_object *io_lower_of(nt_device_object *dev)
{
	return as_dev(dev, "io_lower_of")->attached_to;
}

nt_device_object *NTAPI io_IoAttachDeviceToDeviceStack(nt_device_object *src, nt_device_object *target)
{
	struct io_dev *s = as_dev(src, "IoAttachDeviceToDeviceStack");
	nt_device_object *top;

	check_irql("IoAttachDeviceToDeviceStack", PASSIVE_LEVEL);
	as_dev(target, "IoAttachDeviceToDeviceStack target");
	if (!(src->Flags & DO_DEVICE_INITIALIZING))
		vh_log("io: attaching %p after DO_DEVICE_INITIALIZING was cleared", (void *)src);
	io_lock();
	top = target;
	while (top->AttachedDevice)
		top = top->AttachedDevice;
	top->AttachedDevice = src;
	s->attached_to = top;
	src->StackSize = (int8_t)(top->StackSize + 1);
	if (top->AlignmentRequirement > src->AlignmentRequirement)
		src->AlignmentRequirement = top->AlignmentRequirement;
	src->SectorSize = top->SectorSize;
	io_unlock();
	return top;
}

void NTAPI io_IoDetachDevice(nt_device_object *target)
{
	nt_device_object *up;

	as_dev(target, "IoDetachDevice");
	io_lock();
	up = target->AttachedDevice;
	if (!up)
		vh_fatal("IoDetachDevice(%p): nothing is attached to it", (void *)target);
	((struct io_dev *)up)->attached_to = NULL;
	target->AttachedDevice = NULL;
	io_unlock();
}

static nt_device_object *NTAPI io_IoGetAttachedDeviceReference(nt_device_object *dev)
{
	nt_device_object *top = io_top_of_stack(dev);

	io_lock();
	as_dev(top, "IoGetAttachedDeviceReference")->refs++;
	io_unlock();
	return top;
}

static nt_device_object *NTAPI io_IoGetAttachedDevice(nt_device_object *dev)
{
	return io_top_of_stack(dev);
}

/* Object references: counted on device objects (the leak check wants them
 * balanced); other objects are the host's and live as long as it wants. */
static intptr_t NTAPI io_ObfReferenceObject(void *obj)
{
	struct io_dev *h = obj;
	intptr_t n = 1;

	if (!obj)
		vh_fatal("ObfReferenceObject(NULL)");
	io_lock();
	if (h->d.Type == IO_TYPE_DEVICE && h->magic == DEV_MAGIC)
		n = ++h->refs;
	io_unlock();
	return n;
}

static intptr_t NTAPI io_ObfDereferenceObject(void *obj)
{
	struct io_dev *h = obj;
	intptr_t n = 0;

	if (!obj)
		vh_fatal("ObfDereferenceObject(NULL)");
	io_lock();
	if (h->d.Type == IO_TYPE_DEVICE && h->magic == DEV_MAGIC) {
		if (h->refs <= 0)
			vh_fatal("ObfDereferenceObject(%p): reference count would go negative", obj);
		n = --h->refs;
	}
	io_unlock();
	return n;
}

/* ------------------------------------------------------------ IRPs */

#define IRP_MAGIC 0x7072696f69ull

struct irp_host {
	uint64_t magic;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool free_at_completion;     /* IoBuildSynchronousFsdRequest IRPs */
	uint32_t user_len;
	nt_irp irp;
	nt_io_stack_location stack[];
};
static unsigned n_live_irps;

static struct irp_host *irp_host_of(nt_irp *irp, const char *who)
{
	struct irp_host *h = (struct irp_host *)((uint8_t *)irp - offsetof(struct irp_host, irp));

	if (!irp || h->magic != IRP_MAGIC || irp->Type != IO_TYPE_IRP)
		vh_fatal("%s: %p is not an IRP", who, (void *)irp);
	return h;
}

unsigned io_live_irps(void)
{
	return __atomic_load_n(&n_live_irps, __ATOMIC_ACQUIRE);
}

nt_irp *io_alloc_irp(int8_t stack_size)
{
	struct irp_host *h;

	if (stack_size < 1)
		vh_fatal("IRP with %d stack locations", stack_size);
	h = calloc(1, sizeof(*h) + (size_t)stack_size * sizeof(nt_io_stack_location));
	if (!h)
		vh_fatal("out of memory for an IRP");
	h->magic = IRP_MAGIC;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->irp.Type = IO_TYPE_IRP;
	h->irp.Size = (uint16_t)(sizeof(nt_irp) + (size_t)stack_size * sizeof(nt_io_stack_location));
	h->irp.StackCount = stack_size;
	h->irp.CurrentLocation = (int8_t)(stack_size + 1);
	h->irp.CurrentStackLocation = h->stack + stack_size;
	h->irp.ThreadListEntry.Flink = h->irp.ThreadListEntry.Blink = &h->irp.ThreadListEntry;
	__atomic_add_fetch(&n_live_irps, 1, __ATOMIC_ACQ_REL);
	return &h->irp;
}

void io_free_irp(nt_irp *irp)
{
	struct irp_host *h = irp_host_of(irp, "io_free_irp");

	if (irp->Flags & IRP_DEALLOCATE_BUFFER)
		free(irp->AssociatedIrp.SystemBuffer);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	h->magic = 0;
	irp->Type = 0;
	free(h);
	__atomic_sub_fetch(&n_live_irps, 1, __ATOMIC_ACQ_REL);
}

nt_status NTAPI io_IofCallDriver(nt_device_object *dev, nt_irp *irp)
{
	nt_io_stack_location *sl;
	nt_dispatch_fn *fn;
	nt_irql before = vh_irql();
	nt_status st;

	check_irql("IoCallDriver", DISPATCH_LEVEL);
	as_dev(dev, "IoCallDriver");
	irp_host_of(irp, "IoCallDriver");
	irp->CurrentLocation--;
	if (irp->CurrentLocation <= 0)
		vh_fatal("IoCallDriver: NO_MORE_IRP_STACK_LOCATIONS (IRP %p, %d locations, device %p)",
			 (void *)irp, irp->StackCount, (void *)dev);
	irp->CurrentStackLocation--;
	sl = irp->CurrentStackLocation;
	sl->DeviceObject = dev;
	if (sl->MajorFunction > IRP_MJ_MAXIMUM_FUNCTION)
		vh_fatal("IoCallDriver: major function 0x%x", sl->MajorFunction);
	fn = (nt_dispatch_fn *)dev->DriverObject->MajorFunction[sl->MajorFunction];
	if (!fn)
		vh_fatal("IoCallDriver: driver has no dispatch routine for major 0x%x", sl->MajorFunction);
	st = fn(dev, irp);
	if (vh_irql() != before)
		vh_fatal("dispatch routine (major 0x%x) returned at IRQL %u, called at %u",
			 sl->MajorFunction, vh_irql(), before);
	return st;
}

static nt_status NTAPI io_PoCallDriver(nt_device_object *dev, nt_irp *irp)
{
	if (io_next_sl(irp)->MajorFunction != IRP_MJ_POWER)
		vh_fatal("PoCallDriver with major function 0x%x", io_next_sl(irp)->MajorFunction);
	return io_IofCallDriver(dev, irp);
}

static void NTAPI io_PoStartNextPowerIrp(nt_irp *irp)
{
	if (io_current_sl(irp)->MajorFunction != IRP_MJ_POWER)
		vh_fatal("PoStartNextPowerIrp on a non-power IRP (major 0x%x)",
			 io_current_sl(irp)->MajorFunction);
}

/* What the I/O manager does once no completion routine holds the IRP. */
static void io_final_completion(nt_irp *irp)
{
	struct irp_host *h = irp_host_of(irp, "IoCompleteRequest");
	bool free_now;

	if (irp->UserIosb)
		*irp->UserIosb = irp->IoStatus;
	if ((irp->Flags & (IRP_BUFFERED_IO | IRP_INPUT_OPERATION)) == (IRP_BUFFERED_IO | IRP_INPUT_OPERATION) &&
	    irp->UserBuffer && NT_OK(irp->IoStatus.Status)) {
		if (irp->IoStatus.Information > h->user_len)
			vh_fatal("IRP %p completed with Information %llu > buffer %u", (void *)irp,
				 (unsigned long long)irp->IoStatus.Information, h->user_len);
		memcpy(irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, irp->IoStatus.Information);
	}
	if (irp->UserEvent)
		nt_KeSetEvent(irp->UserEvent, 0, 0);
	pthread_mutex_lock(&h->mu);
	h->done = true;
	free_now = h->free_at_completion;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (free_now)
		io_free_irp(irp);
}

void NTAPI io_IofCompleteRequest(nt_irp *irp, int8_t boost)
{
	(void)boost;
	check_irql("IoCompleteRequest", DISPATCH_LEVEL);
	irp_host_of(irp, "IoCompleteRequest");
	if (irp->IoStatus.Status == STATUS_PENDING)
		vh_fatal("IoCompleteRequest(%p) with STATUS_PENDING", (void *)irp);
	if (irp->CurrentLocation > irp->StackCount)
		vh_fatal("MULTIPLE_IRP_COMPLETE_REQUESTS: IRP %p completed twice or never sent",
			 (void *)irp);
	if (irp->CancelRoutine)
		vh_fatal("CANCEL_STATE_IN_COMPLETED_IRP: IRP %p completed with its cancel routine set",
			 (void *)irp);
	while (irp->CurrentLocation <= irp->StackCount) {
		nt_io_stack_location *sl = irp->CurrentStackLocation;
		nt_completion_fn *fn = (nt_completion_fn *)sl->CompletionRoutine;
		void *ctx = sl->Context;
		uint8_t ctl = sl->Control;
		nt_status st = irp->IoStatus.Status;

		irp->PendingReturned = ctl & SL_PENDING_RETURNED;
		sl->Control = 0;
		sl->CompletionRoutine = NULL;
		sl->Context = NULL;
		irp->CurrentLocation++;
		irp->CurrentStackLocation++;
		if (fn && ((NT_OK(st) && (ctl & SL_INVOKE_ON_SUCCESS)) ||
			   (!NT_OK(st) && (ctl & SL_INVOKE_ON_ERROR)) ||
			   (irp->Cancel && (ctl & SL_INVOKE_ON_CANCEL)))) {
			nt_device_object *dev = irp->CurrentLocation > irp->StackCount ?
				NULL : irp->CurrentStackLocation->DeviceObject;
			nt_irql before = vh_irql();

			if (fn(dev, irp, ctx) == STATUS_MORE_PROCESSING_REQUIRED)
				return;
			if (vh_irql() != before)
				vh_fatal("completion routine returned at IRQL %u, called at %u", vh_irql(),
					 before);
		} else if (irp->PendingReturned && irp->CurrentLocation <= irp->StackCount) {
			irp->CurrentStackLocation->Control |= SL_PENDING_RETURNED;
		}
	}
	io_final_completion(irp);
}

static nt_irp *NTAPI io_IoBuildSynchronousFsdRequest(uint32_t major, nt_device_object *dev, void *buf,
						     uint32_t len, int64_t *offset, nt_kevent *ev,
						     nt_io_status_block *iosb)
{
	nt_irp *irp;
	nt_io_stack_location *sl;

	check_irql("IoBuildSynchronousFsdRequest", PASSIVE_LEVEL);
	as_dev(dev, "IoBuildSynchronousFsdRequest");
	if (buf && len)
		vh_fatal("IoBuildSynchronousFsdRequest with a data buffer is not emulated");
	irp = io_alloc_irp(dev->StackSize);
	irp_host_of(irp, "build")->free_at_completion = true;
	sl = io_next_sl(irp);
	sl->MajorFunction = (uint8_t)major;
	if (offset)
		sl->Parameters.Read.ByteOffset = *offset;
	irp->UserEvent = ev;
	irp->UserIosb = iosb;
	irp->Thread = (void *)(uintptr_t)1;
	return irp;
}

/* ------------------------------------------------------------ cancellation */

static nt_kspin_lock cancel_lock;

static void NTAPI io_IoAcquireCancelSpinLock(nt_irql *old)
{
	*old = vh_irql();
	if (*old > DISPATCH_LEVEL)
		vh_fatal("IoAcquireCancelSpinLock at IRQL %u", *old);
	vh_set_irql(DISPATCH_LEVEL);
	vh_spin_acquire(&cancel_lock, "cancel spin lock");
}

static void NTAPI io_IoReleaseCancelSpinLock(nt_irql old)
{
	vh_spin_release(&cancel_lock, "cancel spin lock");
	vh_set_irql(old);
}

uint8_t NTAPI io_IoCancelIrp(nt_irp *irp)
{
	nt_cancel_fn *fn;
	nt_irql old;

	check_irql("IoCancelIrp", DISPATCH_LEVEL);
	irp_host_of(irp, "IoCancelIrp");
	io_IoAcquireCancelSpinLock(&old);
	irp->Cancel = 1;
	fn = __atomic_exchange_n(&irp->CancelRoutine, NULL, __ATOMIC_ACQ_REL);
	if (!fn) {
		io_IoReleaseCancelSpinLock(old);
		return 0;
	}
	irp->CancelIrql = old;
	/* The routine releases the cancel spin lock itself. */
	fn(io_current_sl(irp)->DeviceObject, irp);
	if (vh_irql() != old)
		vh_fatal("cancel routine returned at IRQL %u (IoReleaseCancelSpinLock(Irp->CancelIrql)?)",
			 vh_irql());
	return 1;
}

/* ------------------------------------------------------------ remove locks */

struct nt_remove_lock {
	uint8_t Removed;
	uint8_t Reserved[3];
	volatile int32_t IoCount;
	nt_kevent RemoveEvent;
};
_Static_assert(sizeof(struct nt_remove_lock) == 0x20, "IO_REMOVE_LOCK (free build) x64 size");

void NTAPI io_IoInitializeRemoveLockEx(void *lock, uint32_t tag, uint32_t maxmin, uint32_t high,
				       uint32_t size)
{
	struct nt_remove_lock *l = lock;

	(void)tag, (void)maxmin, (void)high;
	if (size < sizeof(*l))
		vh_fatal("IoInitializeRemoveLockEx: size %u", size);
	l->Removed = 0;
	l->IoCount = 1;
	nt_KeInitializeEvent(&l->RemoveEvent, 1 /* SynchronizationEvent */, 0);
}

nt_status NTAPI io_IoAcquireRemoveLockEx(void *lock, void *tag, const char *file, uint32_t line,
					 uint32_t size)
{
	struct nt_remove_lock *l = lock;

	(void)tag, (void)file, (void)line, (void)size;
	__atomic_add_fetch(&l->IoCount, 1, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&l->Removed, __ATOMIC_ACQUIRE)) {
		if (__atomic_sub_fetch(&l->IoCount, 1, __ATOMIC_ACQ_REL) == 0)
			nt_KeSetEvent(&l->RemoveEvent, 0, 0);
		return STATUS_DELETE_PENDING;
	}
	return STATUS_SUCCESS;
}

void NTAPI io_IoReleaseRemoveLockEx(void *lock, void *tag, uint32_t size)
{
	struct nt_remove_lock *l = lock;
	int32_t n = __atomic_sub_fetch(&l->IoCount, 1, __ATOMIC_ACQ_REL);

	(void)tag, (void)size;
	if (n < 0)
		vh_fatal("IoReleaseRemoveLock: released more often than acquired");
	if (n == 0) {
		if (!l->Removed)
			vh_fatal("IoReleaseRemoveLock: count reached 0 before IoReleaseRemoveLockAndWait");
		nt_KeSetEvent(&l->RemoveEvent, 0, 0);
	}
}

void NTAPI io_IoReleaseRemoveLockAndWaitEx(void *lock, void *tag, uint32_t size)
{
	struct nt_remove_lock *l = lock;
	int64_t timeout = -10 * 1000 * 10000ll; /* 10 s, relative */

	(void)tag, (void)size;
	check_irql("IoReleaseRemoveLockAndWait", PASSIVE_LEVEL);
	__atomic_store_n(&l->Removed, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&l->IoCount, 1, __ATOMIC_ACQ_REL) <= 0)
		vh_fatal("IoReleaseRemoveLockAndWait without holding the lock");
	if (__atomic_sub_fetch(&l->IoCount, 1, __ATOMIC_ACQ_REL) > 0 &&
	    nt_KeWaitForSingleObject(&l->RemoveEvent, 0, 0, 0, &timeout) != STATUS_SUCCESS)
		vh_fatal("IoReleaseRemoveLockAndWait: %d requests still hold the remove lock after 10 s",
			 l->IoCount);
}

/* ------------------------------------------------------------ cancel-safe queues */

struct nt_csq {
	uint32_t Type;
	uint32_t pad;
	void *Insert, *Remove, *Peek, *Acquire, *Release, *Cancelled;
	void *Reserved;
};
_Static_assert(sizeof(struct nt_csq) == 0x40, "IO_CSQ x64 size");

struct nt_csq_irp_context {
	uint32_t Type;
	uint32_t pad;
	nt_irp *Irp;
	struct nt_csq *Csq;
};
_Static_assert(sizeof(struct nt_csq_irp_context) == 0x18, "IO_CSQ_IRP_CONTEXT x64 size");

typedef void NTAPI csq_insert_fn(struct nt_csq *, nt_irp *);
typedef nt_status NTAPI csq_insert_ex_fn(struct nt_csq *, nt_irp *, void *);
typedef void NTAPI csq_remove_fn(struct nt_csq *, nt_irp *);
typedef nt_irp *NTAPI csq_peek_fn(struct nt_csq *, nt_irp *, void *);
typedef void NTAPI csq_acquire_fn(struct nt_csq *, nt_irql *);
typedef void NTAPI csq_release_fn(struct nt_csq *, nt_irql);
typedef void NTAPI csq_cancelled_fn(struct nt_csq *, nt_irp *);

nt_status NTAPI io_IoCsqInitialize(void *csq, void *insert, void *remove, void *peek, void *lock,
				   void *unlock, void *cancelled)
{
	struct nt_csq *q = csq;

	if (!insert || !remove || !peek || !lock || !unlock || !cancelled)
		vh_fatal("IoCsqInitialize with a NULL callback");
	q->Type = IO_TYPE_CSQ;
	q->Insert = insert;
	q->Remove = remove;
	q->Peek = peek;
	q->Acquire = lock;
	q->Release = unlock;
	q->Cancelled = cancelled;
	q->Reserved = NULL;
	return STATUS_SUCCESS;
}

static nt_status NTAPI io_IoCsqInitializeEx(void *csq, void *insert, void *remove, void *peek,
					    void *lock, void *unlock, void *cancelled)
{
	io_IoCsqInitialize(csq, insert, remove, peek, lock, unlock, cancelled);
	((struct nt_csq *)csq)->Type = IO_TYPE_CSQ_EX;
	return STATUS_SUCCESS;
}

/* The queue an IRP sits in: DriverContext[3] holds the queue or the
 * caller's IO_CSQ_IRP_CONTEXT, as Windows keeps it. */
static struct nt_csq *csq_of(nt_irp *irp, struct nt_csq_irp_context **ctx)
{
	void *p = irp->DriverContext[3];

	*ctx = NULL;
	if (p && ((struct nt_csq_irp_context *)p)->Type == IO_TYPE_CSQ_IRP_CONTEXT) {
		*ctx = p;
		return (*ctx)->Csq;
	}
	return p;
}

static void NTAPI csq_cancel_routine(nt_device_object *dev, nt_irp *irp)
{
	struct nt_csq_irp_context *ctx;
	struct nt_csq *q = csq_of(irp, &ctx);
	nt_irql irql;

	(void)dev;
	io_IoReleaseCancelSpinLock(irp->CancelIrql);
	if (!q)
		vh_fatal("cancel of a queued IRP %p that has no queue", (void *)irp);
	((csq_acquire_fn *)q->Acquire)(q, &irql);
	((csq_remove_fn *)q->Remove)(q, irp);
	if (ctx)
		ctx->Irp = NULL;
	irp->DriverContext[3] = NULL;
	((csq_release_fn *)q->Release)(q, irql);
	((csq_cancelled_fn *)q->Cancelled)(q, irp);
}

nt_status NTAPI io_IoCsqInsertIrpEx(void *csq, nt_irp *irp, void *ctxp, void *insert_ctx)
{
	struct nt_csq *q = csq;
	struct nt_csq_irp_context *ctx = ctxp;
	nt_irql irql;
	nt_status st = STATUS_SUCCESS;

	irp_host_of(irp, "IoCsqInsertIrp");
	((csq_acquire_fn *)q->Acquire)(q, &irql);
	if (ctx) {
		ctx->Type = IO_TYPE_CSQ_IRP_CONTEXT;
		ctx->Irp = irp;
		ctx->Csq = q;
		irp->DriverContext[3] = ctx;
	} else {
		irp->DriverContext[3] = q;
	}
	if (q->Type == IO_TYPE_CSQ_EX)
		st = ((csq_insert_ex_fn *)q->Insert)(q, irp, insert_ctx);
	else
		((csq_insert_fn *)q->Insert)(q, irp);
	if (!NT_OK(st)) {
		irp->DriverContext[3] = NULL;
		if (ctx)
			ctx->Irp = NULL;
		((csq_release_fn *)q->Release)(q, irql);
		return st;
	}
	io_current_sl(irp)->Control |= SL_PENDING_RETURNED; /* IoMarkIrpPending */
	__atomic_store_n(&irp->CancelRoutine, (void *)csq_cancel_routine, __ATOMIC_RELEASE);
	if (irp->Cancel && __atomic_exchange_n(&irp->CancelRoutine, NULL, __ATOMIC_ACQ_REL)) {
		/* Cancelled before the routine was set: complete it as cancelled. */
		((csq_remove_fn *)q->Remove)(q, irp);
		irp->DriverContext[3] = NULL;
		if (ctx)
			ctx->Irp = NULL;
		((csq_release_fn *)q->Release)(q, irql);
		((csq_cancelled_fn *)q->Cancelled)(q, irp);
		return STATUS_SUCCESS;
	}
	((csq_release_fn *)q->Release)(q, irql);
	return STATUS_SUCCESS;
}

void NTAPI io_IoCsqInsertIrp(void *csq, nt_irp *irp, void *ctx)
{
	io_IoCsqInsertIrpEx(csq, irp, ctx, NULL);
}

nt_irp *NTAPI io_IoCsqRemoveNextIrp(void *csq, void *peek)
{
	struct nt_csq *q = csq;
	nt_irp *irp;
	nt_irql irql;

	((csq_acquire_fn *)q->Acquire)(q, &irql);
	irp = ((csq_peek_fn *)q->Peek)(q, NULL, peek);
	while (irp) {
		struct nt_csq_irp_context *ctx;

		/* An IRP whose cancel routine already ran is the canceller's. */
		if (__atomic_exchange_n(&irp->CancelRoutine, NULL, __ATOMIC_ACQ_REL)) {
			csq_of(irp, &ctx);
			((csq_remove_fn *)q->Remove)(q, irp);
			if (ctx)
				ctx->Irp = NULL;
			irp->DriverContext[3] = NULL;
			break;
		}
		irp = ((csq_peek_fn *)q->Peek)(q, irp, peek);
	}
	((csq_release_fn *)q->Release)(q, irql);
	return irp;
}

static nt_irp *NTAPI io_IoCsqRemoveIrp(void *csq, void *ctxp)
{
	struct nt_csq *q = csq;
	struct nt_csq_irp_context *ctx = ctxp;
	nt_irp *irp;
	nt_irql irql;

	((csq_acquire_fn *)q->Acquire)(q, &irql);
	irp = ctx->Irp;
	if (irp && __atomic_exchange_n(&irp->CancelRoutine, NULL, __ATOMIC_ACQ_REL)) {
		((csq_remove_fn *)q->Remove)(q, irp);
		ctx->Irp = NULL;
		irp->DriverContext[3] = NULL;
	} else {
		irp = NULL;
	}
	((csq_release_fn *)q->Release)(q, irql);
	return irp;
}

/* ------------------------------------------------------------ host-owned PDOs */

static const uint8_t guid_bus_standard[16] = {
	0x80, 0x82, 0x6b, 0x49, 0x25, 0x6f, 0xd0, 0x11,
	0xbe, 0xaf, 0x08, 0x00, 0x2b, 0xe2, 0x09, 0x2f };

struct nt_bus_interface_standard {
	uint16_t Size, Version;
	uint32_t pad;
	void *Context;
	void *InterfaceReference, *InterfaceDereference;
	void *TranslateBusAddress, *GetDmaAdapter, *SetBusData, *GetBusData;
};
_Static_assert(sizeof(struct nt_bus_interface_standard) == 0x40, "BUS_INTERFACE_STANDARD x64 size");

static void NTAPI bus_ref(void *ctx)
{
	io_lock();
	((struct io_dev *)ctx)->bus_refs++;
	io_unlock();
}

static void NTAPI bus_deref(void *ctx)
{
	struct io_dev *h = ctx;

	io_lock();
	if (--h->bus_refs < 0)
		vh_fatal("BUS_INTERFACE_STANDARD dereferenced more often than referenced");
	io_unlock();
}

static uint32_t NTAPI bus_get_data(void *ctx, uint32_t which, void *buf, uint32_t off, uint32_t len)
{
	struct io_dev *h = ctx;

	check_irql("GetBusData", DISPATCH_LEVEL);
	if (which != 0 /* PCI_WHICHSPACE_CONFIG */ || !h->ops || !h->ops->cfg_read)
		return 0;
	if (off >= 4096 || len > 4096 - off)
		return 0;
	return h->ops->cfg_read(h->ops->ctx, off, buf, len);
}

static uint32_t NTAPI bus_set_data(void *ctx, uint32_t which, void *buf, uint32_t off, uint32_t len)
{
	(void)ctx, (void)which, (void)buf;
	vh_log("io: SetBusData(0x%x, %u) refused: the host owns config space", off, len);
	return 0;
}

static uint8_t NTAPI bus_translate(void *ctx, int64_t bus_addr, uint32_t len, uint32_t *space,
				   int64_t *out)
{
	(void)ctx, (void)len, (void)space;
	*out = bus_addr;
	return 1;
}

static void *NTAPI bus_get_dma_adapter(void *ctx, void *desc, uint32_t *nregs);

static nt_status NTAPI pdo_pnp(nt_device_object *dev, nt_irp *irp)
{
	struct io_dev *h = as_dev(dev, "PDO");
	nt_io_stack_location *sl = io_current_sl(irp);
	nt_status st = irp->IoStatus.Status;

	switch (sl->MinorFunction) {
	case IRP_MN_START_DEVICE:
	case IRP_MN_QUERY_STOP_DEVICE:
	case IRP_MN_STOP_DEVICE:
	case IRP_MN_CANCEL_STOP_DEVICE:
	case IRP_MN_QUERY_REMOVE_DEVICE:
	case IRP_MN_CANCEL_REMOVE_DEVICE:
	case IRP_MN_SURPRISE_REMOVAL:
	case IRP_MN_REMOVE_DEVICE:
	case IRP_MN_QUERY_CAPABILITIES:
		st = STATUS_SUCCESS;
		break;
	case IRP_MN_QUERY_INTERFACE: {
		struct nt_bus_interface_standard *bi = sl->Parameters.QueryInterface.Interface;

		if (!sl->Parameters.QueryInterface.InterfaceType ||
		    memcmp(sl->Parameters.QueryInterface.InterfaceType, guid_bus_standard, 16))
			break;
		if (!h->ops || sl->Parameters.QueryInterface.Size < sizeof(*bi) ||
		    sl->Parameters.QueryInterface.Version < 1 || !bi) {
			st = STATUS_INVALID_PARAMETER;
			break;
		}
		memset(bi, 0, sizeof(*bi));
		bi->Size = sizeof(*bi);
		bi->Version = 1;
		bi->Context = h;
		bi->InterfaceReference = (void *)bus_ref;
		bi->InterfaceDereference = (void *)bus_deref;
		bi->TranslateBusAddress = (void *)bus_translate;
		bi->GetDmaAdapter = (void *)bus_get_dma_adapter;
		bi->SetBusData = (void *)bus_set_data;
		bi->GetBusData = (void *)bus_get_data;
		bus_ref(h); /* a returned interface is referenced */
		st = STATUS_SUCCESS;
		break;
	}
	case IRP_MN_READ_CONFIG: {
		uint32_t n = bus_get_data(h, sl->Parameters.ReadWriteConfig.WhichSpace,
					  sl->Parameters.ReadWriteConfig.Buffer,
					  sl->Parameters.ReadWriteConfig.Offset,
					  sl->Parameters.ReadWriteConfig.Length);
		st = n ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
		irp->IoStatus.Information = n;
		break;
	}
	default:
		break;
	}
	irp->IoStatus.Status = st;
	io_IofCompleteRequest(irp, 0);
	return st;
}

static nt_status NTAPI pdo_power(nt_device_object *dev, nt_irp *irp)
{
	(void)dev;
	io_PoStartNextPowerIrp(irp);
	irp->IoStatus.Status = STATUS_SUCCESS;
	io_IofCompleteRequest(irp, 0);
	return STATUS_SUCCESS;
}

static nt_status NTAPI pdo_keep(nt_device_object *dev, nt_irp *irp)
{
	nt_status st = irp->IoStatus.Status;

	(void)dev;
	io_IofCompleteRequest(irp, 0);
	return st;
}

/* IopInvalidDeviceRequest: what a major function nobody set answers. */
static nt_status NTAPI pdo_invalid(nt_device_object *dev, nt_irp *irp)
{
	(void)dev;
	irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
	irp->IoStatus.Information = 0;
	io_IofCompleteRequest(irp, 0);
	return STATUS_INVALID_DEVICE_REQUEST;
}

static nt_driver_object bus_driver;

void io_init_driver_object(nt_driver_object *drv)
{
	for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
		drv->MajorFunction[i] = (void *)pdo_invalid;
}

nt_device_object *io_create_pdo(const char *name, const struct io_pdo_ops *ops)
{
	nt_device_object *pdo;
	struct io_dev *h;

	if (!bus_driver.Type) {
		bus_driver.Type = 4;
		bus_driver.Size = sizeof(bus_driver);
		io_init_driver_object(&bus_driver);
		bus_driver.MajorFunction[IRP_MJ_PNP] = (void *)pdo_pnp;
		bus_driver.MajorFunction[IRP_MJ_POWER] = (void *)pdo_power;
		bus_driver.MajorFunction[IRP_MJ_SYSTEM_CONTROL] = (void *)pdo_keep;
	}
	if (io_IoCreateDevice(&bus_driver, 0, NULL, 0x22, 0x100 /* FILE_AUTOGENERATED_DEVICE_NAME */,
			      0, &pdo))
		return NULL;
	h = (struct io_dev *)pdo;
	h->pdo = true;
	h->ops = ops;
	snprintf(h->name, sizeof(h->name), "%s", name);
	pdo->Flags &= ~DO_DEVICE_INITIALIZING;
	return pdo;
}

void io_delete_pdo(nt_device_object *pdo)
{
	if (!as_dev(pdo, "io_delete_pdo")->pdo)
		vh_fatal("io_delete_pdo: not a PDO");
	if (pdo->AttachedDevice)
		vh_fatal("PDO deleted while a driver is still attached to it");
	io_IoDeleteDevice(pdo);
}

int io_pdo_bus_refs(nt_device_object *pdo)
{
	return as_dev(pdo, "io_pdo_bus_refs")->bus_refs;
}

/* ------------------------------------------------------------ device interfaces */

#define MAX_IFACES 16
static struct iface {
	uint8_t guid[16];
	nt_device_object *pdo;
	uint16_t *name;          /* the I/O manager's copy */
	uint16_t len;            /* bytes */
	bool enabled;
	char ref[64];            /* reference string (ASCII), "" if none */
} ifaces[MAX_IFACES];
static unsigned n_ifaces;

/* Strings handed to drivers, freed with RtlFreeUnicodeString. */
#define MAX_STRINGS 64
static void *given_strings[MAX_STRINGS];

static uint16_t *give_string(const uint16_t *src, uint16_t len)
{
	uint16_t *p = malloc(len + 2u);

	if (!p)
		return NULL;
	memcpy(p, src, len);
	p[len / 2] = 0;
	io_lock();
	for (int i = 0; i < MAX_STRINGS; i++)
		if (!given_strings[i]) {
			given_strings[i] = p;
			io_unlock();
			return p;
		}
	io_unlock();
	vh_fatal("too many strings handed to the driver");
}

static void NTAPI io_RtlFreeUnicodeString(nt_unicode_string *s)
{
	if (!s || !s->Buffer)
		return;
	io_lock();
	for (int i = 0; i < MAX_STRINGS; i++)
		if (given_strings[i] == s->Buffer) {
			given_strings[i] = NULL;
			io_unlock();
			free(s->Buffer);
			s->Buffer = NULL;
			s->Length = s->MaximumLength = 0;
			return;
		}
	io_unlock();
	vh_fatal("RtlFreeUnicodeString(%p): not a string the system allocated", (void *)s->Buffer);
}

static nt_status NTAPI io_IoRegisterDeviceInterface(nt_device_object *pdo, const uint8_t *guid,
						    nt_unicode_string *ref, nt_unicode_string *out)
{
	struct io_dev *h = as_dev(pdo, "IoRegisterDeviceInterface");
	struct iface *f = NULL;
	char a[160];
	uint16_t w[160];
	size_t n;

	check_irql("IoRegisterDeviceInterface", PASSIVE_LEVEL);
	if (!h->pdo)
		return STATUS_INVALID_DEVICE_REQUEST; /* only a PDO has interfaces */
	char rs[64] = "";

	for (unsigned i = 0; ref && i < ref->Length / 2u && i + 1 < sizeof(rs); i++) {
		uint16_t c = ref->Buffer[i];

		if (c < 0x20 || c > 0x7e || c == '\\')
			return STATUS_INVALID_PARAMETER;
		rs[i] = (char)c;
		rs[i + 1] = 0;
	}
	io_lock();
	for (unsigned i = 0; i < n_ifaces; i++)
		if (ifaces[i].pdo == pdo && !memcmp(ifaces[i].guid, guid, 16) && !strcmp(ifaces[i].ref, rs))
			f = &ifaces[i];
	if (!f) {
		if (n_ifaces == MAX_IFACES) {
			io_unlock();
			return STATUS_INSUFFICIENT_RESOURCES;
		}
		f = &ifaces[n_ifaces++];
		memcpy(f->guid, guid, 16);
		f->pdo = pdo;
		snprintf(f->ref, sizeof(f->ref), "%s", rs);
		snprintf(a, sizeof(a),
			 "\\??\\VDPHOST#%s#%u#{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x}%s%s",
			 h->name, n_ifaces, guid[3], guid[2], guid[1], guid[0], guid[5], guid[4], guid[7],
			 guid[6], guid[8], guid[9], guid[10], guid[11], guid[12], guid[13], guid[14], guid[15],
			 rs[0] ? "\\" : "", rs);
		n = strlen(a);
		f->name = calloc(n + 1, 2);
		if (!f->name)
			vh_fatal("out of memory");
		for (size_t i = 0; i < n; i++)
			f->name[i] = (uint8_t)a[i];
		f->len = (uint16_t)(n * 2);
	}
	memcpy(w, f->name, f->len);
	io_unlock();
	out->Buffer = give_string(w, f->len);
	if (!out->Buffer)
		return STATUS_INSUFFICIENT_RESOURCES;
	out->Length = f->len;
	out->MaximumLength = (uint16_t)(f->len + 2);
	return STATUS_SUCCESS;
}

static nt_status NTAPI io_IoSetDeviceInterfaceState(nt_unicode_string *name, uint8_t enable)
{
	check_irql("IoSetDeviceInterfaceState", PASSIVE_LEVEL);
	io_lock();
	for (unsigned i = 0; i < n_ifaces; i++)
		if (name && name->Length == ifaces[i].len && !memcmp(name->Buffer, ifaces[i].name, name->Length)) {
			bool was = ifaces[i].enabled;

			ifaces[i].enabled = enable != 0;
			io_unlock();
			vh_log("io: interface %u ('%s') %s", i, ifaces[i].ref, enable ? "enabled" : "disabled");
			/* Windows answers a repeated change with STATUS_OBJECT_NAME_EXISTS. */
			return was == (enable != 0) ? (nt_status)0x40000000 : STATUS_SUCCESS;
		}
	io_unlock();
	return STATUS_OBJECT_NAME_NOT_FOUND;
}

unsigned io_interface_count(const void *guid, unsigned *enabled)
{
	unsigned n = 0, e = 0;

	io_lock();
	for (unsigned i = 0; i < n_ifaces; i++)
		if (!memcmp(ifaces[i].guid, guid, 16)) {
			n++;
			e += ifaces[i].enabled;
		}
	io_unlock();
	if (enabled)
		*enabled = e;
	return n;
}

static volatile bool relations_dirty;

static void NTAPI io_IoInvalidateDeviceRelations(nt_device_object *dev, uint32_t type)
{
	as_dev(dev, "IoInvalidateDeviceRelations");
	check_irql("IoInvalidateDeviceRelations", DISPATCH_LEVEL);
	/* The PnP manager queries later, from its own thread (the test's). */
	if (type == 0 /* BusRelations */)
		__atomic_store_n(&relations_dirty, true, __ATOMIC_RELEASE);
}

bool io_take_relations_dirty(void)
{
	return __atomic_exchange_n(&relations_dirty, false, __ATOMIC_ACQ_REL);
}

void io_mark_pdo(nt_device_object *dev, const char *name)
{
	struct io_dev *h = as_dev(dev, "io_mark_pdo");

	h->pdo = true;
	dev->Flags |= 0x1000; /* DO_BUS_ENUMERATED_DEVICE */
	snprintf(h->name, sizeof(h->name), "%s", name);
}

bool io_interface_ref(const void *guid, unsigned idx, char *ref, size_t len)
{
	unsigned k = 0;

	io_lock();
	for (unsigned i = 0; i < n_ifaces; i++)
		if (!memcmp(ifaces[i].guid, guid, 16) && ifaces[i].enabled && k++ == idx) {
			snprintf(ref, len, "%s", ifaces[i].ref);
			io_unlock();
			return true;
		}
	io_unlock();
	return false;
}

/* ------------------------------------------------------------ host requests */

static bool wait_done(struct irp_host *h, unsigned timeout_ms)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->mu);
	while (!h->done)
		if (pthread_cond_timedwait(&h->cv, &h->mu, &ts))
			break;
	done = h->done;
	pthread_mutex_unlock(&h->mu);
	return done;
}

static bool is_done(struct irp_host *h)
{
	bool done;

	pthread_mutex_lock(&h->mu);
	done = h->done;
	pthread_mutex_unlock(&h->mu);
	return done;
}

static nt_irp *build(nt_device_object *top, const struct io_req *r)
{
	nt_irp *irp = io_alloc_irp(top->StackSize);
	nt_io_stack_location *sl = io_next_sl(irp);

	sl->MajorFunction = r->major;
	sl->MinorFunction = r->minor;
	if (r->params)
		memcpy(&sl->Parameters, r->params, sizeof(sl->Parameters));
	sl->FileObject = r->file;
	irp->OriginalFileObject = r->file;
	irp->AssociatedIrp.SystemBuffer = r->sysbuf;
	irp->Flags = r->flags;
	irp->RequestorMode = r->requestor_mode;
	irp->Thread = (void *)(uintptr_t)1;
	irp->IoStatus.Status = r->major == IRP_MJ_PNP ? STATUS_NOT_SUPPORTED : STATUS_SUCCESS;
	return irp;
}

/* The rules around a dispatch routine's return value. */
static void check_return(struct irp_host *h, nt_status st, uint8_t major, uint8_t minor)
{
	if (st != STATUS_PENDING && !is_done(h))
		vh_fatal("dispatch (major 0x%x minor 0x%x) returned 0x%08x without completing the IRP",
			 major, minor, (uint32_t)st);
}

nt_status io_send_sync(nt_device_object *dev, const struct io_req *r, uint64_t *info, unsigned timeout_ms)
{
	nt_device_object *top = io_top_of_stack(dev);
	nt_irp *irp = build(top, r);
	struct irp_host *h = irp_host_of(irp, "io_send_sync");
	nt_status st;

	st = io_IofCallDriver(top, irp);
	check_return(h, st, r->major, r->minor);
	if (!wait_done(h, timeout_ms))
		vh_fatal("IRP major 0x%x minor 0x%x not completed within %u ms", r->major, r->minor,
			 timeout_ms);
	if (st == STATUS_PENDING && !irp->PendingReturned)
		vh_fatal("dispatch (major 0x%x minor 0x%x) returned STATUS_PENDING without IoMarkIrpPending",
			 r->major, r->minor);
	if (st != STATUS_PENDING && st != irp->IoStatus.Status)
		vh_log("io: dispatch (major 0x%x minor 0x%x) returned 0x%08x but completed with 0x%08x",
		       r->major, r->minor, (uint32_t)st, (uint32_t)irp->IoStatus.Status);
	st = irp->IoStatus.Status;
	if (info)
		*info = irp->IoStatus.Information;
	io_free_irp(irp);
	return st;
}

struct io_async {
	nt_irp *irp;
	nt_status ret;
	void *user;
};

struct io_async *io_async_start(nt_file_object *file, uint8_t major, void *buf, uint32_t len,
				uint32_t ioctl, uint32_t in_len)
{
	struct io_async *a = calloc(1, sizeof(*a));
	nt_device_object *top = io_top_of_stack(file->DeviceObject);
	struct io_req r = { .major = major, .file = file, .requestor_mode = 1 };
	uint64_t params[4] = { 0 };
	uint32_t sys_len = len > in_len ? len : in_len;
	struct irp_host *h;

	if (!a)
		vh_fatal("out of memory");
	if (!(top->Flags & DO_BUFFERED_IO) && major != IRP_MJ_DEVICE_CONTROL)
		vh_fatal("only buffered I/O is emulated for reads and writes");
	r.sysbuf = sys_len ? calloc(1, sys_len) : NULL;
	r.flags = sys_len ? IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER : 0;
	if (major == IRP_MJ_READ) {
		params[0] = len;
		r.flags |= IRP_INPUT_OPERATION;
	} else if (major == IRP_MJ_WRITE) {
		params[0] = len;
		if (len)
			memcpy(r.sysbuf, buf, len);
	} else if (major == IRP_MJ_DEVICE_CONTROL) {
		/* METHOD_BUFFERED: one system buffer for input and output. */
		params[0] = len;
		params[1] = in_len;
		params[2] = ioctl;
		if (in_len)
			memcpy(r.sysbuf, buf, in_len);
		if (len)
			r.flags |= IRP_INPUT_OPERATION;
	}
	r.params = params;
	a->irp = build(top, &r);
	a->irp->UserBuffer = (major == IRP_MJ_WRITE) ? NULL : buf;
	h = irp_host_of(a->irp, "io_async_start");
	h->user_len = len;
	a->user = buf;
	a->ret = io_IofCallDriver(top, a->irp);
	check_return(h, a->ret, major, 0);
	return a;
}

bool io_async_wait(struct io_async *a, unsigned timeout_ms, nt_status *status, uint64_t *info)
{
	struct irp_host *h = irp_host_of(a->irp, "io_async_wait");

	if (!wait_done(h, timeout_ms))
		return false;
	if (a->ret == STATUS_PENDING && !a->irp->PendingReturned)
		vh_fatal("dispatch returned STATUS_PENDING without IoMarkIrpPending");
	if (status)
		*status = a->irp->IoStatus.Status;
	if (info)
		*info = a->irp->IoStatus.Information;
	return true;
}

bool io_async_cancel(struct io_async *a)
{
	if (is_done(irp_host_of(a->irp, "io_async_cancel")))
		return false;
	return io_IoCancelIrp(a->irp) != 0;
}

void io_async_free(struct io_async *a)
{
	if (!a)
		return;
	if (!is_done(irp_host_of(a->irp, "io_async_free")))
		vh_fatal("freeing a request the driver has not completed");
	io_free_irp(a->irp);
	free(a);
}

/* Tokens SeTokenIsAdmin knows: the "user" opening a handle is one of them. */
static uint8_t admin_token[16], user_token[16];

nt_file_object *io_open_interface(const void *guid, nt_status *status)
{
	return io_open_interface_ref(guid, NULL, true, status);
}

nt_file_object *io_open_interface_ref(const void *guid, const char *ref, bool admin, nt_status *status)
{
	nt_device_object *pdo = NULL;
	nt_file_object *f;
	struct io_req r = { .major = IRP_MJ_CREATE, .requestor_mode = 1 };
	uint64_t params[4] = { 0 };
	/* IO_SECURITY_CONTEXT, then ACCESS_STATE with the subject's token. */
	static uint64_t sc[3], access_state[0xa0 / 8];

	io_lock();
	for (unsigned i = 0; i < n_ifaces && !pdo; i++)
		if (!memcmp(ifaces[i].guid, guid, 16) && ifaces[i].enabled && (!ref || !strcmp(ref, ifaces[i].ref)))
			pdo = ifaces[i].pdo;
	io_unlock();
	memset(access_state, 0, sizeof(access_state));
	access_state[0x30 / 8] = (uintptr_t)(admin ? admin_token : user_token); /* PrimaryToken */
	sc[1] = (uintptr_t)access_state;
	if (!pdo) {
		*status = STATUS_OBJECT_NAME_NOT_FOUND;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		vh_fatal("out of memory");
	f->Type = IO_TYPE_FILE;
	f->Size = sizeof(*f);
	f->DeviceObject = pdo;
	f->ReadAccess = f->WriteAccess = 1;
	params[0] = (uintptr_t)sc;
	r.params = params;
	r.file = f;
	*status = io_send_sync(pdo, &r, NULL, 10000);
	if (!NT_OK(*status)) {
		free(f);
		return NULL;
	}
	return f;
}

nt_status io_close(nt_file_object *f)
{
	struct io_req r = { .major = IRP_MJ_CLEANUP, .file = f, .requestor_mode = 1 };
	nt_status st;

	io_send_sync(f->DeviceObject, &r, NULL, 10000);
	r.major = IRP_MJ_CLOSE;
	st = io_send_sync(f->DeviceObject, &r, NULL, 10000);
	free(f);
	return st;
}

/* ------------------------------------------------------------ interrupts */

struct nt_io_connect_params {
	uint32_t Version;
	uint32_t pad;
	nt_device_object *Pdo;
	void **ConnectionContext;    /* receives PKINTERRUPT or the message table */
	void *ServiceRoutine;        /* line: KSERVICE_ROUTINE; message: KMESSAGE_SERVICE_ROUTINE */
	void *ServiceContext;
	nt_kspin_lock *SpinLock;
	uint8_t SynchronizeIrql, FloatingSave;
	uint8_t pad1[6];
	void *FallBackServiceRoutine;
	uint8_t rest[0x50 - 0x40];
};
_Static_assert(offsetof(struct nt_io_connect_params, FallBackServiceRoutine) == 0x38,
	       "IO_CONNECT_INTERRUPT_PARAMETERS.MessageBased.FallBackServiceRoutine");
_Static_assert(sizeof(struct nt_io_connect_params) == 0x50, "IO_CONNECT_INTERRUPT_PARAMETERS x64 size");

struct nt_msg_info_entry {
	int64_t MessageAddress;
	uint64_t TargetProcessorSet;
	void *InterruptObject;
	uint32_t MessageData, Vector;
	uint8_t Irql;
	uint8_t pad[3];
	uint32_t Mode, Polarity, pad2;
};
_Static_assert(sizeof(struct nt_msg_info_entry) == 0x30, "IO_INTERRUPT_MESSAGE_INFO_ENTRY x64 size");

#define CONNECT_LINE_BASED    2
#define CONNECT_MESSAGE_BASED 3
#define MAX_MSG 8

typedef uint8_t NTAPI line_isr_fn(void *interrupt, void *ctx);
typedef uint8_t NTAPI msg_isr_fn(void *interrupt, void *ctx, uint32_t id);

static struct {
	bool connected, message;
	uint32_t count;
	void *isr, *ctx;
	nt_kspin_lock lock;
	uint64_t kinterrupt[MAX_MSG + 1][32]; /* opaque KINTERRUPT objects */
	struct {
		uint8_t UnifiedIrql;
		uint8_t pad[3];
		uint32_t MessageCount;
		struct nt_msg_info_entry e[MAX_MSG];
	} info;
} intr;
static uint32_t next_messages;

void io_set_messages(uint32_t n)
{
	next_messages = n > MAX_MSG ? MAX_MSG : n;
}

bool io_interrupt_connected(void)
{
	return __atomic_load_n(&intr.connected, __ATOMIC_ACQUIRE);
}

static nt_status NTAPI io_IoConnectInterruptEx(struct nt_io_connect_params *p)
{
	check_irql("IoConnectInterruptEx", PASSIVE_LEVEL);
	if (intr.connected)
		vh_fatal("IoConnectInterruptEx: the device's interrupt is already connected");
	if (p->Version != CONNECT_LINE_BASED && p->Version != CONNECT_MESSAGE_BASED)
		return STATUS_NOT_SUPPORTED;
	as_dev(p->Pdo, "IoConnectInterruptEx PhysicalDeviceObject");
	if (!p->ConnectionContext || !p->ServiceRoutine)
		return STATUS_INVALID_PARAMETER;
	memset(&intr.info, 0, sizeof(intr.info));
	intr.lock = 0;
	if (p->Version == CONNECT_MESSAGE_BASED && next_messages) {
		intr.message = true;
		intr.count = next_messages;
		intr.isr = p->ServiceRoutine;
		intr.info.UnifiedIrql = IO_DIRQL;
		intr.info.MessageCount = intr.count;
		for (uint32_t i = 0; i < intr.count; i++) {
			intr.info.e[i].InterruptObject = intr.kinterrupt[i + 1];
			intr.info.e[i].MessageData = i;
			intr.info.e[i].Irql = IO_DIRQL;
			intr.info.e[i].Mode = 1; /* Latched */
		}
		*p->ConnectionContext = &intr.info;
	} else {
		/* No message resources: line based, as Windows falls back. */
		void *isr = p->Version == CONNECT_MESSAGE_BASED ? p->FallBackServiceRoutine : p->ServiceRoutine;

		if (!isr)
			return STATUS_NOT_SUPPORTED;
		intr.message = false;
		intr.count = 0;
		intr.isr = isr;
		p->Version = CONNECT_LINE_BASED;
		*p->ConnectionContext = intr.kinterrupt[0];
	}
	intr.ctx = p->ServiceContext;
	__atomic_store_n(&intr.connected, true, __ATOMIC_RELEASE);
	return STATUS_SUCCESS;
}

static void NTAPI io_IoDisconnectInterruptEx(uint32_t *p)
{
	void *ctx = *(void **)(p + 2);

	check_irql("IoDisconnectInterruptEx", PASSIVE_LEVEL);
	if (!intr.connected || (ctx != intr.kinterrupt[0] && ctx != &intr.info))
		vh_fatal("IoDisconnectInterruptEx of an interrupt that is not connected");
	if (*p != (intr.message ? CONNECT_MESSAGE_BASED : CONNECT_LINE_BASED))
		vh_fatal("IoDisconnectInterruptEx: Version %u, connected as %u", *p,
			 intr.message ? CONNECT_MESSAGE_BASED : CONNECT_LINE_BASED);
	/* Wait out an ISR running on the interrupt thread. */
	vh_spin_acquire(&intr.lock, "interrupt lock");
	__atomic_store_n(&intr.connected, false, __ATOMIC_RELEASE);
	vh_spin_release(&intr.lock, "interrupt lock");
}

static bool deliver(int msg)
{
	nt_irql old = vh_irql();
	bool mine = false;

	vh_set_irql(IO_DIRQL);
	vh_spin_acquire(&intr.lock, "interrupt lock");
	if (intr.connected) {
		if (msg < 0)
			mine = ((line_isr_fn *)intr.isr)(intr.kinterrupt[0], intr.ctx);
		else
			mine = ((msg_isr_fn *)intr.isr)(intr.kinterrupt[msg + 1], intr.ctx, (uint32_t)msg);
	}
	vh_spin_release(&intr.lock, "interrupt lock");
	if (vh_irql() != IO_DIRQL)
		vh_fatal("ISR returned at IRQL %u", vh_irql());
	vh_set_irql(old);
	return mine;
}

bool io_deliver_line(void)
{
	return !intr.message && deliver(-1);
}

bool io_deliver_message(uint32_t id)
{
	return intr.message && id < intr.count && deliver((int)id);
}

/* ------------------------------------------------------------ DMA adapters */

struct io_dma {
	uint16_t Version, Size;
	uint32_t pad;
	void *DmaOperations;
	unsigned buffers;            /* common buffers outstanding */
};
static unsigned n_dma_adapters;

unsigned io_dma_adapters(void)
{
	return n_dma_adapters;
}

static void NTAPI dma_unsupported(void)
{
	vh_fatal("a DMA_OPERATIONS routine other than Allocate/FreeCommonBuffer/PutDmaAdapter was called");
}

static void NTAPI dma_put(struct io_dma *a)
{
	check_irql("PutDmaAdapter", PASSIVE_LEVEL);
	if (a->buffers)
		vh_fatal("PutDmaAdapter with %u common buffers not freed", a->buffers);
	io_lock();
	n_dma_adapters--;
	io_unlock();
	free(a);
}

static void *NTAPI dma_alloc_common(struct io_dma *a, uint32_t len, int64_t *pa, uint8_t cached)
{
	uint64_t phys;
	void *va;

	(void)cached;
	check_irql("AllocateCommonBuffer", PASSIVE_LEVEL);
	if (!len)
		return NULL;
	va = dma_alloc(len, 4096, &phys);
	if (!va)
		return NULL;
	*pa = (int64_t)phys;
	__atomic_add_fetch(&a->buffers, 1, __ATOMIC_ACQ_REL);
	return va;
}

static void NTAPI dma_free_common(struct io_dma *a, uint32_t len, int64_t pa, void *va, uint8_t cached)
{
	uint64_t phys;

	(void)len, (void)cached;
	check_irql("FreeCommonBuffer", PASSIVE_LEVEL);
	if (!dma_phys(va, &phys) || (int64_t)phys != pa)
		vh_fatal("FreeCommonBuffer(%p, 0x%llx): not a common buffer at that address", va,
			 (unsigned long long)pa);
	if (!a->buffers)
		vh_fatal("FreeCommonBuffer: more buffers freed than allocated");
	__atomic_sub_fetch(&a->buffers, 1, __ATOMIC_ACQ_REL);
	dma_free(va);
}

static void *dma_ops_table[16];

static void *NTAPI io_IoGetDmaAdapter(nt_device_object *pdo, void *desc, uint32_t *nregs)
{
	struct io_dma *a;
	uint32_t max_len;

	check_irql("IoGetDmaAdapter", PASSIVE_LEVEL);
	as_dev(pdo, "IoGetDmaAdapter");
	if (!desc || !nregs)
		return NULL;
	if (!dma_ops_table[0]) {
		dma_ops_table[0] = (void *)(uintptr_t)sizeof(dma_ops_table);
		for (int i = 1; i < 16; i++)
			dma_ops_table[i] = (void *)dma_unsupported;
		dma_ops_table[1] = (void *)dma_put;
		dma_ops_table[2] = (void *)dma_alloc_common;
		dma_ops_table[3] = (void *)dma_free_common;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->Version = 1;
	a->Size = 16;
	a->DmaOperations = dma_ops_table;
	memcpy(&max_len, (uint8_t *)desc + 0x20, 4); /* DEVICE_DESCRIPTION.MaximumLength */
	*nregs = max_len / 4096 + 1;
	io_lock();
	n_dma_adapters++;
	io_unlock();
	return a;
}

static void *NTAPI bus_get_dma_adapter(void *ctx, void *desc, uint32_t *nregs)
{
	return io_IoGetDmaAdapter(&((struct io_dev *)ctx)->d, desc, nregs);
}

/* ------------------------------------------------------------ bug checks */

struct nt_bugcheck_record {
	nt_list_entry Entry;
	void *CallbackRoutine;
	void *Buffer;
	uint32_t Length;
	uint32_t pad;
	const char *Component;
	uint64_t Checksum;
	uint8_t State;
	uint8_t pad2[7];
};
_Static_assert(sizeof(struct nt_bugcheck_record) == 0x40, "KBUGCHECK_CALLBACK_RECORD x64 size");

#define MAX_BUGCHECK 8
static struct nt_bugcheck_record *bugchecks[MAX_BUGCHECK];

static uint8_t NTAPI io_KeRegisterBugCheckCallback(struct nt_bugcheck_record *r, void *fn, void *buf,
						   uint32_t len, const char *component)
{
	if (!r || !fn || r->State != 0 /* BufferEmpty */)
		return 0;
	io_lock();
	for (int i = 0; i < MAX_BUGCHECK; i++)
		if (!bugchecks[i]) {
			r->CallbackRoutine = fn;
			r->Buffer = buf;
			r->Length = len;
			r->Component = component;
			r->Checksum = (uintptr_t)fn + (uintptr_t)buf + len + (uintptr_t)component;
			r->State = 1; /* BufferInserted */
			bugchecks[i] = r;
			io_unlock();
			return 1;
		}
	io_unlock();
	return 0;
}

static uint8_t NTAPI io_KeDeregisterBugCheckCallback(struct nt_bugcheck_record *r)
{
	io_lock();
	for (int i = 0; i < MAX_BUGCHECK; i++)
		if (bugchecks[i] == r && r->State == 1) {
			bugchecks[i] = NULL;
			r->State = 0;
			io_unlock();
			return 1;
		}
	io_unlock();
	return 0;
}

unsigned io_bugcheck_callbacks(void)
{
	unsigned n = 0;

	io_lock();
	for (int i = 0; i < MAX_BUGCHECK; i++)
		n += bugchecks[i] != NULL;
	io_unlock();
	return n;
}

typedef void NTAPI bugcheck_fn(void *buf, uint32_t len);

unsigned io_simulate_bugcheck(uint32_t code)
{
	nt_irql old = vh_irql();
	unsigned ran = 0;

	vh_log("io: simulated KeBugCheckEx(0x%08x): running the bug-check callbacks at HIGH_LEVEL", code);
	vh_set_irql(HIGH_LEVEL);
	for (int i = MAX_BUGCHECK - 1; i >= 0; i--) {
		struct nt_bugcheck_record *r = bugchecks[i];

		if (!r || r->State != 1)
			continue;
		r->State = 2; /* BufferStarted */
		((bugcheck_fn *)r->CallbackRoutine)(r->Buffer, r->Length);
		if (vh_irql() != HIGH_LEVEL)
			vh_fatal("bug-check callback changed the IRQL to %u", vh_irql());
		r->State = 3; /* BufferFinished */
		ran++;
	}
	vh_set_irql(old);
	/* The records stay registered, as after a real bug check nothing runs. */
	for (int i = 0; i < MAX_BUGCHECK; i++)
		if (bugchecks[i] && bugchecks[i]->State == 3)
			bugchecks[i]->State = 1;
	return ran;
}

/* ------------------------------------------------------------ memory and misc */

struct nt_mdl {
	struct nt_mdl *Next;
	int16_t Size, MdlFlags;
	uint16_t AllocationProcessorNumber, Reserved;
	void *Process, *MappedSystemVa, *StartVa;
	uint32_t ByteCount, ByteOffset;
	uint64_t pfn[];
};
_Static_assert(sizeof(struct nt_mdl) == 0x30, "MDL x64 size");

static uint64_t mdl_pages_out, report_pages_out, other_pages_out;
/* Pages given back by MmFreePagesFromMdl: read as zero (the host discarded
 * them: a balloon reported the right PFNs and nothing touched them since),
 * still holding the allocation pattern, or changed. */
static uint64_t pages_zero, pages_pattern, pages_changed;
#define PAGE_PATTERN 0xa5u
#define MDL_REPORT 0x5250u          /* nt_mdl.Reserved of a report batch's MDL */
static uint64_t last_page;          /* physical address of the newest page out */
static bool no_pages;               /* injected: the system has no pages to give */

void io_inject_no_pages(bool on)
{
	__atomic_store_n(&no_pages, on, __ATOMIC_RELEASE);
}

bool io_touch_newest_page(void)
{
	uint64_t pa = __atomic_load_n(&last_page, __ATOMIC_ACQUIRE);
	void *va;

	if (!pa || !dma_virt(pa, &va))
		return false;
	((volatile uint8_t *)va)[100] = 0x77;
	return true;
}

uint64_t io_mdl_pages_out(void)
{
	return __atomic_load_n(&mdl_pages_out, __ATOMIC_ACQUIRE);
}

uint64_t io_report_pages_out(void)
{
	return __atomic_load_n(&report_pages_out, __ATOMIC_ACQUIRE);
}

uint64_t io_mdl_other_pages_out(void)
{
	return __atomic_load_n(&other_pages_out, __ATOMIC_ACQUIRE);
}

void io_mdl_returned(uint64_t *zero, uint64_t *pattern, uint64_t *changed)
{
	*zero = __atomic_load_n(&pages_zero, __ATOMIC_ACQUIRE);
	*pattern = __atomic_load_n(&pages_pattern, __ATOMIC_ACQUIRE);
	*changed = __atomic_load_n(&pages_changed, __ATOMIC_ACQUIRE);
}

/* The same for pages of report batches: reported and discarded, borrowed but
 * not reported, changed. */
static uint64_t report_zero, report_kept, report_changed;

static void classify_page(const uint8_t *p, bool report)
{
	bool zero = true, pat = true;

	for (unsigned i = 0; i < 4096 && (zero || pat); i++) {
		zero &= p[i] == 0;
		pat &= p[i] == PAGE_PATTERN;
	}
	if (report)
		__atomic_add_fetch(zero ? &report_zero : pat ? &report_kept : &report_changed, 1, __ATOMIC_ACQ_REL);
	else
		__atomic_add_fetch(zero ? &pages_zero : pat ? &pages_pattern : &pages_changed, 1, __ATOMIC_ACQ_REL);
}

/* ---- free page reporting: the device's reporting_vq, watched (split ring) ---- */

static struct {
	volatile uint8_t *status;    /* common config device_status: 0 after a reset */
	uint64_t desc, avail, used;
	uint16_t size;
	bool on;
} rq;
static pthread_mutex_t rq_lock = PTHREAD_MUTEX_INITIALIZER;
/* Pages freed while a report holding them was still with the device. */
static uint64_t report_early;

struct rq_view {
	uint8_t *desc;
	uint16_t *avail, *used;
};

static bool rq_view(struct rq_view *v, size_t used_extra);

void io_report_ring_set(volatile uint8_t *device_status, uint64_t desc, uint64_t avail, uint64_t used,
			uint16_t size)
{
	pthread_mutex_lock(&rq_lock);
	rq.status = device_status;
	rq.desc = desc, rq.avail = avail, rq.used = used, rq.size = size;
	rq.on = size && (size & (size - 1)) == 0;
	pthread_mutex_unlock(&rq_lock);
}

void io_report_counts(uint64_t *zero, uint64_t *kept, uint64_t *changed, uint64_t *early)
{
	*zero = __atomic_load_n(&report_zero, __ATOMIC_ACQUIRE);
	*kept = __atomic_load_n(&report_kept, __ATOMIC_ACQUIRE);
	*changed = __atomic_load_n(&report_changed, __ATOMIC_ACQUIRE);
	*early = __atomic_load_n(&report_early, __ATOMIC_ACQUIRE);
}

uint16_t io_report_used_idx(void)
{
	struct rq_view v;
	uint16_t r = 0;

	pthread_mutex_lock(&rq_lock);
	if (rq_view(&v, 0))
		r = __atomic_load_n(&v.used[1], __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&rq_lock);
	return r;
}

uint16_t io_report_outstanding(void)
{
	struct rq_view v;
	uint16_t r = 0;

	pthread_mutex_lock(&rq_lock);
	if (rq_view(&v, 0))
		r = (uint16_t)(__atomic_load_n(&v.avail[1], __ATOMIC_ACQUIRE) -
			       __atomic_load_n(&v.used[1], __ATOMIC_ACQUIRE));
	pthread_mutex_unlock(&rq_lock);
	return r;
}

/* Guest-physical range to host pointer, only if it is one mapping. */
static bool rq_map(uint64_t pa, size_t len, void **va)
{
	void *end;

	return dma_virt(pa, va) && dma_virt(pa + len - 1, &end) &&
	       (uint8_t *)end - (uint8_t *)*va == (ptrdiff_t)(len - 1);
}

static bool rq_view(struct rq_view *v, size_t used_extra)
{
	void *d, *a, *u;

	if (!rq.on || !rq_map(rq.desc, 16u * rq.size, &d) || !rq_map(rq.avail, 4u + 2u * rq.size, &a) ||
	    !rq_map(rq.used, 4u + 8u * rq.size + used_extra, &u))
		return false;
	v->desc = d, v->avail = a, v->used = u;
	return true;
}

/* Does the chain at head cover page pa? Bounded walk, indirect tables included. */
static bool rq_chain_covers(const uint8_t *desc, uint16_t head, uint64_t pa)
{
	uint16_t i = head;

	for (unsigned steps = 0; steps < rq.size && i < rq.size; steps++) {
		const uint8_t *d = desc + 16u * i;
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		memcpy(&addr, d, 8), memcpy(&len, d + 8, 4), memcpy(&flags, d + 12, 2), memcpy(&next, d + 14, 2);
		if (flags & 4) { /* VIRTQ_DESC_F_INDIRECT */
			void *tab;

			if (len && len % 16 == 0 && rq_map(addr, len, &tab))
				for (uint32_t k = 0; k < len / 16; k++) {
					uint64_t a2;
					uint32_t l2;

					memcpy(&a2, (uint8_t *)tab + 16 * k, 8), memcpy(&l2, (uint8_t *)tab + 16 * k + 8, 4);
					if (pa + 4096 > a2 && pa < a2 + l2)
						return true;
				}
		} else if (pa + 4096 > addr && pa < addr + len) {
			return true;
		}
		if (!(flags & 1)) /* VIRTQ_DESC_F_NEXT */
			break;
		i = next;
	}
	return false;
}

/* pa is in a buffer the device has not returned yet. */
static bool rq_held(uint64_t pa)
{
	struct rq_view v;
	uint16_t aidx, uidx;
	bool r = false;

	pthread_mutex_lock(&rq_lock);
	/* After a reset the device holds nothing: every page may go back. */
	if (!rq.status || *rq.status == 0 || !rq_view(&v, 0))
		goto out;
	aidx = __atomic_load_n(&v.avail[1], __ATOMIC_ACQUIRE);
	uidx = __atomic_load_n(&v.used[1], __ATOMIC_ACQUIRE);
	/* QEMU returns report buffers in order: avail[uidx..aidx) are the device's. */
	for (uint16_t k = uidx; k != aidx && (uint16_t)(k - uidx) < rq.size; k++)
		if (rq_chain_covers(v.desc, v.avail[2 + k % rq.size], pa)) {
			r = true;
			break;
		}
out:
	pthread_mutex_unlock(&rq_lock);
	return r;
}

/* A page goes back to the system: it must not be in a report the device
 * still holds. */
static void rq_check_free(uint64_t pa, const char *who)
{
	if (rq_held(pa) && __atomic_add_fetch(&report_early, 1, __ATOMIC_ACQ_REL) <= 3)
		vh_log("%s: page 0x%llx freed while its free page report is still with the device", who,
		       (unsigned long long)pa);
}

bool io_report_simulate_early_free(void)
{
	struct rq_view v;
	uint16_t aidx, uidx, head;
	uint64_t addr = 0;
	bool ok = false;
	void *va;

	pthread_mutex_lock(&rq_lock);
	if (rq_view(&v, 0)) {
		aidx = __atomic_load_n(&v.avail[1], __ATOMIC_ACQUIRE);
		uidx = __atomic_load_n(&v.used[1], __ATOMIC_ACQUIRE);
		head = v.avail[2 + uidx % rq.size];
		if (aidx != uidx && head < rq.size && !(v.desc[16u * head + 12] & 4)) {
			memcpy(&addr, v.desc + 16u * head, 8);
			ok = true;
		}
	}
	pthread_mutex_unlock(&rq_lock);
	if (!ok)
		return false;
	/* What a driver freeing early lets happen: the system reuses the page at once. */
	rq_check_free(addr & ~4095ull, "injected");
	if (dma_virt(addr & ~4095ull, &va))
		memset(va, 0x5a, 4096);
	return true;
}

bool io_report_hold(bool on)
{
	struct rq_view v;
	bool ok = false;

	pthread_mutex_lock(&rq_lock);
	if (rq_view(&v, 2)) {
		/* VRING_USED_F_NO_NOTIFY and an avail_event far ahead: the driver
		 * stops notifying, so the device keeps whatever it is given. */
		__atomic_store_n(&v.used[0], on ? 1 : 0, __ATOMIC_RELEASE);
		if (on)
			__atomic_store_n(&v.used[2 + 4u * rq.size],
					 (uint16_t)(__atomic_load_n(&v.avail[1], __ATOMIC_ACQUIRE) + 0x7fff),
					 __ATOMIC_RELEASE);
		ok = true;
	}
	pthread_mutex_unlock(&rq_lock);
	return ok;
}

typedef void *NTAPI pool_alloc_fn(uint32_t type, size_t size, uint32_t tag);

/* Real guest-physical pages from the DMA pool; the MDL comes from pool
 * (the caller frees it with ExFreePool after MmFreePagesFromMdl). */
static void *NTAPI io_MmAllocatePagesForMdlEx(int64_t low, int64_t high, int64_t skip, size_t total,
					      uint32_t cache, uint32_t flags)
{
	pool_alloc_fn *pool = (pool_alloc_fn *)vh_resolve("ntoskrnl.exe", "ExAllocatePoolWithTag", NULL);
	size_t want = (total + 4095) / 4096, got = 0;
	struct nt_mdl *m;

	(void)skip, (void)cache;
	check_irql("MmAllocatePagesForMdlEx", DISPATCH_LEVEL);
	if (!want || want > (1u << 20) || __atomic_load_n(&no_pages, __ATOMIC_ACQUIRE))
		return NULL;
	m = pool(0x200 /* NonPagedPoolNx */, sizeof(*m) + want * 8, 0x206c644d /* 'Mdl ' */);
	if (!m)
		return NULL;
	for (; got < want; got++) {
		uint64_t phys;
		void *va = dma_alloc(4096, 4096, &phys);

		if (!va)
			break;
		if ((int64_t)phys < low || (int64_t)(phys + 4095) > high) {
			dma_free(va);
			break;
		}
		/* Not zeroed on request: a pattern, so a later discard shows. */
		memset(va, (flags & 1 /* MM_DONT_ZERO_ALLOCATION */) ? PAGE_PATTERN : 0, 4096);
		m->pfn[got] = phys >> 12;
		if (!(flags & 0x10)) /* a report batch is not ballooned memory */
			__atomic_store_n(&last_page, phys, __ATOMIC_RELEASE);
	}
	if (!got || ((flags & 4 /* MM_ALLOCATE_FULLY_REQUIRED */) && got < want)) {
		for (size_t i = 0; i < got; i++) {
			void *va;
			if (dma_virt(m->pfn[i] << 12, &va))
				dma_free(va);
		}
		((void (NTAPI *)(void *))vh_resolve("ntoskrnl.exe", "ExFreePool", NULL))(m);
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->Size = (int16_t)(sizeof(*m) + got * 8);
	m->MdlFlags = 0x2 /* MDL_PAGES_LOCKED */ | 0x8 /* MDL_ALLOCATED_FIXED_SIZE */;
	/* vdpballoon borrows its free page report batches with
	 * MM_ALLOCATE_PREFER_CONTIGUOUS, its ballooned chunks without: the
	 * freed pages are counted apart (io_report_counts). */
	if (flags & 0x10)
		m->Reserved = MDL_REPORT;
	__atomic_add_fetch(m->Reserved == MDL_REPORT ? &report_pages_out : &other_pages_out, got, __ATOMIC_ACQ_REL);
	m->ByteCount = (uint32_t)(got * 4096);
	__atomic_add_fetch(&mdl_pages_out, got, __ATOMIC_ACQ_REL);
	return m;
}

static void NTAPI io_MmFreePagesFromMdl(struct nt_mdl *m)
{
	size_t n = m->ByteCount / 4096;

	check_irql("MmFreePagesFromMdl", DISPATCH_LEVEL);
	for (size_t i = 0; i < n; i++) {
		void *va;

		if (!dma_virt(m->pfn[i] << 12, &va))
			vh_fatal("MmFreePagesFromMdl: PFN 0x%llx is not a page the system gave out",
				 (unsigned long long)m->pfn[i]);
		rq_check_free(m->pfn[i] << 12, "MmFreePagesFromMdl");
		classify_page(va, m->Reserved == MDL_REPORT);
		__atomic_compare_exchange_n(&last_page, &(uint64_t){ m->pfn[i] << 12 }, 0, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		/* The page must be usable again: write and read it back. */
		memset(va, 0x3c, 4096);
		for (unsigned j = 0; j < 4096; j += 512)
			if (((volatile uint8_t *)va)[j] != 0x3c)
				vh_fatal("page 0x%llx returned by MmFreePagesFromMdl is not usable",
					 (unsigned long long)m->pfn[i]);
		dma_free(va);
	}
	__atomic_sub_fetch(&mdl_pages_out, n, __ATOMIC_ACQ_REL);
	__atomic_sub_fetch(m->Reserved == MDL_REPORT ? &report_pages_out : &other_pages_out, n, __ATOMIC_ACQ_REL);
	m->ByteCount = 0;
}

static void *NTAPI io_MmMapIoSpaceEx(int64_t phys, size_t size, uint32_t protect)
{
	void *va;

	(void)protect;
	va = io_lookup((uint64_t)phys, size);
	if (!va)
		vh_log("MmMapIoSpaceEx(0x%llx, %zu): no device memory there", (unsigned long long)phys, size);
	return va;
}

static uint32_t NTAPI io_vDbgPrintExWithPrefix(const char *prefix, uint32_t comp, uint32_t level,
					       const char *fmt, __builtin_ms_va_list ap)
{
	char buf[1024];

	(void)comp, (void)level;
	nt_format(buf, sizeof(buf), fmt, &ap);
	fprintf(stderr, "%s%s", prefix ? prefix : "", buf);
	fflush(stderr);
	return STATUS_SUCCESS;
}

/* The device key (PLUGPLAY_REGKEY_DEVICE): the DWORDs the INF's .HW
 * section installs (vdphost --inf); other keys do not exist. */
static int devkey;

static nt_status NTAPI io_IoOpenDeviceRegistryKey(nt_device_object *dev, uint32_t which, uint32_t access,
						  void **key)
{
	(void)dev, (void)access;
	*key = NULL;
	if (which != 1 /* PLUGPLAY_REGKEY_DEVICE */)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	*key = &devkey;
	return STATUS_SUCCESS;
}

static nt_status devkey_query(const nt_unicode_string *name, uint32_t cls, void *buf, uint32_t len,
			      uint32_t *got)
{
	const struct infreg_value *v;
	char n[64];
	unsigned i;

	if (!name || name->Length / 2 >= sizeof(n))
		return STATUS_OBJECT_NAME_NOT_FOUND;
	for (i = 0; i < name->Length / 2u; i++)
		n[i] = name->Buffer[i] < 128 ? (char)name->Buffer[i] : '?';
	n[i] = 0;
	v = infreg_find(vh_registry(), INFREG_HARDWARE, "", n);
	if (!v || v->type != INFREG_DWORD || cls != 2 /* KeyValuePartialInformation */)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	if (got)
		*got = 16;
	if (len < 16)
		return STATUS_BUFFER_TOO_SMALL;
	/* KEY_VALUE_PARTIAL_INFORMATION: TitleIndex, Type, DataLength, Data. */
	memcpy(buf, (uint32_t[4]){ 0, INFREG_DWORD, 4, v->dword }, 16);
	return STATUS_SUCCESS;
}

/* Other keys are absent, so drivers take their defaults. */
static nt_status NTAPI io_ZwOpenKey(void **key, uint32_t access, void *oa)
{
	(void)access, (void)oa;
	*key = NULL;
	return STATUS_OBJECT_NAME_NOT_FOUND;
}

static nt_status NTAPI io_ZwQueryValueKey(void *key, void *name, uint32_t cls, void *buf, uint32_t len,
					  uint32_t *got)
{
	if (key == &devkey)
		return devkey_query(name, cls, buf, len, got);
	(void)key, (void)name, (void)cls, (void)buf, (void)len;
	if (got)
		*got = 0;
	return STATUS_OBJECT_NAME_NOT_FOUND;
}

static nt_status NTAPI io_ZwClose(void *h)
{
	(void)h;
	return STATUS_SUCCESS;
}

/* SystemBasicInformation (0) and SystemPerformanceInformation (2): the
 * figures of the guest the host runs in. */
static nt_status NTAPI io_ZwQuerySystemInformation(uint32_t cls, void *buf, uint32_t len, uint32_t *got)
{
	long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);

	if (cls == 0) {
		uint32_t b[16] = { 0 };

		if (len < 0x40)
			return (nt_status)0xC0000004; /* STATUS_INFO_LENGTH_MISMATCH */
		b[2] = 4096;                /* PageSize */
		b[3] = (uint32_t)pages;     /* NumberOfPhysicalPages */
		b[4] = 1;                   /* LowestPhysicalPageNumber */
		b[5] = (uint32_t)pages;     /* HighestPhysicalPageNumber */
		b[6] = 4096;                /* AllocationGranularity (x64 layout: at 0x18) */
		memcpy(buf, b, 0x40);
		if (got)
			*got = 0x40;
		return STATUS_SUCCESS;
	}
	if (cls == 2) {
		uint8_t p[0x160] = { 0 };
		uint32_t v = (uint32_t)avail;

		memcpy(p + 0x2c, &v, 4);    /* AvailablePages */
		if (len < sizeof(p))
			return (nt_status)0xC0000004;
		memcpy(buf, p, sizeof(p));
		if (got)
			*got = sizeof(p);
		return STATUS_SUCCESS;
	}
	return STATUS_NOT_IMPLEMENTED;
}

static void *NTAPI io_IoCreateNotificationEvent(nt_unicode_string *name, void **handle)
{
	static nt_kevent events[4];
	static unsigned used;
	nt_kevent *e;

	(void)name;
	io_lock();
	e = used < 4 ? &events[used++] : NULL;
	io_unlock();
	if (!e)
		return NULL;
	nt_KeInitializeEvent(e, 0, 0);
	*handle = e;
	return e;
}

static uint8_t NTAPI io_SeTokenIsAdmin(void *token)
{
	if (token != admin_token && token != user_token)
		vh_fatal("SeTokenIsAdmin(%p): not a token", token);
	return token == admin_token;
}

/* ------------------------------------------------------------ table */

#define IO(name) { "ntoskrnl.exe", #name, (void *)io_##name }

const struct nt_export io_exports[] = {
	IO(IoCreateDevice), IO(IoDeleteDevice), IO(IoAttachDeviceToDeviceStack), IO(IoDetachDevice),
	IO(IoGetAttachedDeviceReference), IO(IoGetAttachedDevice), IO(ObfReferenceObject),
	IO(ObfDereferenceObject), IO(IofCallDriver), IO(IofCompleteRequest),
	IO(IoBuildSynchronousFsdRequest), IO(PoCallDriver), IO(PoStartNextPowerIrp),
	IO(IoAcquireCancelSpinLock), IO(IoReleaseCancelSpinLock), IO(IoCancelIrp),
	IO(IoInitializeRemoveLockEx), IO(IoAcquireRemoveLockEx), IO(IoReleaseRemoveLockEx),
	IO(IoReleaseRemoveLockAndWaitEx),
	IO(IoCsqInitialize), IO(IoCsqInitializeEx), IO(IoCsqInsertIrp), IO(IoCsqInsertIrpEx),
	IO(IoCsqRemoveNextIrp), IO(IoCsqRemoveIrp),
	IO(IoRegisterDeviceInterface), IO(IoSetDeviceInterfaceState), IO(RtlFreeUnicodeString),
	IO(IoInvalidateDeviceRelations),
	IO(IoConnectInterruptEx), IO(IoDisconnectInterruptEx), IO(IoGetDmaAdapter),
	IO(KeRegisterBugCheckCallback), IO(KeDeregisterBugCheckCallback),
	IO(MmAllocatePagesForMdlEx), IO(MmFreePagesFromMdl), IO(MmMapIoSpaceEx),
	IO(vDbgPrintExWithPrefix), IO(ZwOpenKey), IO(ZwQueryValueKey), IO(ZwClose),
	IO(ZwQuerySystemInformation), IO(IoCreateNotificationEvent), IO(SeTokenIsAdmin),
	IO(IoOpenDeviceRegistryKey),
	{ NULL, NULL, NULL },
};
