/* storport.sys emulation: one adapter on one PCI device.
 *
 * Execution model (documented StorPort full-duplex rules):
 *   HwFindAdapter, passive init         PASSIVE_LEVEL
 *   HwInitialize                        DIRQL, interrupt lock held
 *   HwBuildIo                           DISPATCH_LEVEL, no lock
 *   HwStartIo                           DISPATCH_LEVEL, StartIo lock held
 *   HwInterrupt                         DIRQL, interrupt lock held (own thread)
 *   HwTimer                             DISPATCH_LEVEL, StartIo lock held
 * In half-duplex mode (SynchronizationModel 0, the default) HwStartIo and
 * HwTimer also hold the interrupt lock, at DIRQL.
 *   DPCs (StorPortIssueDpc)             DISPATCH_LEVEL, on the issuing CPU's DPC thread
 * Processors: MSI-X message m is delivered on processor msg_cpu(m), by an
 * interrupt thread bound to it; with STOR_PERF_INTERRUPT_MESSAGE_RANGES the
 * redirection range is spread one message per processor, and
 * StorPortGetStartIoPerfParams names the message of the submitting one.
 * With STOR_PERF_CONCURRENT_CHANNELS HwStartIo runs without the StartIo
 * lock, concurrently on several processors. With
 * InterruptSynchronizePerMessage each message has its own lock and the
 * InterruptLock takes them all.
 * Checks a real StorPort would turn into a deadlock or hang (fatal here):
 * the lock order DpcLock > StartIo lock > interrupt lock per thread, port
 * and miniport locks alike; a LUN or adapter left busy
 * (StorPortDeviceBusy/StorPortBusy) with nothing in the miniport.
 * StorPort's queue: while busy, new requests wait in the port; one the
 * miniport completes with SRB_STATUS_BUSY is resubmitted from a DPC.
 * SRB_EX: with sp_use_srb_ex, and only for a miniport that declared
 * SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, the miniport gets
 * STORAGE_REQUEST_BLOCKs built from the issuer's SRBs.
 * Every buffer the miniport can hand to the device (device extension,
 * uncached extension, SRB extension, data buffers) comes from the DMA
 * pool, so physical addresses are real inside the guest.
 * Dump mode (sp_set_dump_mode, then sp_crash_to_dump on a running adapter;
 * what the crash dump / hibernation stack does): the live adapter loses its
 * interrupts with requests in flight, the driver's entry point runs again
 * with two NULL arguments (the dump stack's copy of the miniport), then
 * HwFindAdapter with ConfigInfo->DumpMode and a DumpRegion, no interrupt
 * connected, every callback at HIGH_LEVEL without port locks, one request
 * at a time, the port polling HwInterrupt until it completes; a small
 * uncached extension; DPCs, timers, passive initialisation, work items and
 * the registry do not exist there, so using any of them is fatal. */
#define _GNU_SOURCE
#include "inf_reg.h"
#include "nt_storport.h"
#include "pci_sysfs.h"
#include "vmhost.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

#define SP_DIRQL 5 /* any device IRQL above DISPATCH_LEVEL will do */
#define SP_MAX_OUTSTANDING 64
#define SP_MAX_RANGES 16
#define SP_MAX_MSG 8 /* pci_sysfs routes at most 8 MSI-X vectors */
#define SP_UNINITIALIZED 0xffffffffu
#define STATUS_REVISION_MISMATCH ((nt_status)0xC0000059)
#define STOR_STATUS_SUCCESS 0u
#define STOR_STATUS_UNSUCCESSFUL 0xC1000001u
#define STOR_STATUS_NOT_IMPLEMENTED 0xC1000002u
#define STOR_STATUS_INVALID_PARAMETER 0xC1000006u
#define HW_INIT_MIN_SIZE offsetof(sp_hw_init_data, HwBuildIo)
/* Dump mode: the dump stack's memory is set aside at boot and small.
 * Microsoft's restrictions for boot-drive miniports: no more than 32 KiB of
 * noncached memory (the disk test fails above that); the dump common
 * buffer (MINIPORT_DUMP_POINTERS.CommonBufferSize) is capped at 64 KiB,
 * which is refused here. DumpRegion: one physically contiguous block. */
#define SP_DUMP_UNCACHED_MAX (64u * 1024u)
#define SP_DUMP_REGION_SIZE (64u * 1024u)
#define SP_DUMP_POLL_US 20u

/* A request from the issuer (disk test) until sp_wait hands it back:
 * HELD in the port (LUN/adapter busy, or waiting to be resubmitted after
 * SRB_STATUS_BUSY), ISSUED to the miniport, DONE. */
enum os_state { OS_FREE, OS_HELD, OS_ISSUED, OS_DONE };

struct outstanding {
	sp_srb *srb;      /* the issuer's classic SRB */
	void *mp;         /* what the miniport got: srb, or the SRB_EX built from it */
	enum os_state state;
	bool ex;          /* sent as SRB_EX */
	const uint8_t *cdb32; /* a 32-byte CDB (SRB_EX CDB32 block) */
	uint32_t length;  /* DataTransferLength as issued, for resubmission */
	unsigned completions, retries;
	uint64_t seq;     /* order of the port's queue */
	uint64_t gen;     /* which submission holds this slot */
	uint64_t issued_ns; /* when the miniport last got it */
	sp_sg_list *sg;
};

/* SRB_STATUS_BUSY resubmissions of one request before it goes back to the
 * issuer as BUSY (about a second of retry-timer ticks). */
#define SP_BUSY_RETRIES 1000
/* A busy LUN with nothing in the miniport never becomes ready again. */
#define SP_BUSY_IDLE_NS (2ull * 1000 * 1000 * 1000)

static struct {
	bool registered, started, stop;
	sp_hw_init_data hw;
	void *hw_context;
	void *ext, *lu_ext, *uncached;
	size_t uncached_size;
	sp_port_config cfg;
	sp_access_range ranges[SP_MAX_RANGES];
	struct pci_dev pci;
	bool uio, msix;
	unsigned msi_count;
	nt_kspin_lock int_lock, startio_lock;
	nt_kspin_lock msg_lock[SP_MAX_MSG];
	/* StorPortInitializePerfOpts */
	uint32_t perf_flags, channels, redir_first, redir_last;
	int irq_threads[VH_MAX_CPUS];
	unsigned irq_nthreads;
	unsigned long msg_interrupts[SP_MAX_MSG], msg_claimed[SP_MAX_MSG];
	uint32_t msg_cpus[SP_MAX_MSG]; /* bit n: the message ran on processor n */
	sp_hw_passive_init *passive;
	sp_hw_timer *timer_fn;
	nt_ktimer timer;
	nt_kdpc timer_dpc;
	bool in_find_or_init;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct outstanding out[SP_MAX_OUTSTANDING];
	unsigned long interrupts, claimed;
	/* busy handling (under mu) */
	bool srb_ex, lun_busy, adapter_busy;
	uint32_t lun_left, adapter_left;
	uint64_t seq, gen, busy_idle_since;
	struct sp_busy_stats stats;
	nt_kdpc resume_dpc;
	nt_ktimer retry_timer;
	bool resume_ready;
	/* dump mode (DUMP_MODE_*, 0: normal): pending until the crash */
	uint8_t dump, dump_pending;
	bool reentering;
	nt_status (*dump_entry)(void *ctx);
	void *dump_entry_ctx;
	void *dump_region;
} sp = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

bool sp_registered(void)
{
	return sp.registered;
}

void sp_set_dump_mode(uint8_t mode)
{
	sp.dump_pending = mode;
}

void sp_set_dump_entry(nt_status (*entry)(void *ctx), void *ctx)
{
	sp.dump_entry = entry;
	sp.dump_entry_ctx = ctx;
}

size_t sp_uncached_size(void)
{
	return sp.uncached_size;
}

uint8_t sp_dump_mode(void)
{
	return sp.dump;
}

/* What the dump stack lacks: a miniport that relies on it hangs or
 * crashes the dump on Windows. */
static void dump_forbidden(const char *what)
{
	if (sp.dump)
		vh_fatal("%s in dump mode (DumpMode %u): the crash dump / hibernation stack runs at "
			 "HIGH_LEVEL with no DPCs, timers, work items or passive level", what, sp.dump);
}

/* ------------------------------------------------------------ init */

static void NTAPI resume_dpc(nt_kdpc *dpc, void *ctx, void *a1, void *a2);

static nt_status NTAPI sp_StorPortInitialize(void *arg1, void *arg2, sp_hw_init_data *hw, void *ctx)
{
	/* The dump stack's copy of the miniport gets two NULL arguments. */
	if (!hw || (!arg1 && !(sp.reentering && !arg2))) {
		vh_log("StorPortInitialize: NULL DriverObject or HW_INITIALIZATION_DATA");
		return STATUS_INVALID_PARAMETER;
	}
	if (hw->HwInitializationDataSize < HW_INIT_MIN_SIZE || hw->HwInitializationDataSize > 4096) {
		vh_log("StorPortInitialize: HwInitializationDataSize %u (need >= %zu)",
		       hw->HwInitializationDataSize, HW_INIT_MIN_SIZE);
		return STATUS_REVISION_MISMATCH;
	}
	if (hw->AdapterInterfaceType != PCI_BUS_INTERFACE) {
		vh_log("StorPortInitialize: interface type %u, only PCIBus (5) is emulated",
		       hw->AdapterInterfaceType);
		return STATUS_INVALID_PARAMETER;
	}
	if (!hw->HwFindAdapter || !hw->HwInitialize || !hw->HwStartIo || !hw->HwInterrupt) {
		vh_log("StorPortInitialize: HwFindAdapter/HwInitialize/HwStartIo/HwInterrupt missing");
		return STATUS_INVALID_PARAMETER;
	}
	if (hw->NumberOfAccessRanges > SP_MAX_RANGES) {
		vh_log("StorPortInitialize: %u access ranges (max %d)", hw->NumberOfAccessRanges,
		       SP_MAX_RANGES);
		return STATUS_INVALID_PARAMETER;
	}
	if (sp.registered) {
		vh_log("StorPortInitialize: called twice");
		return STATUS_UNSUCCESSFUL;
	}
	memset(&sp.hw, 0, sizeof(sp.hw));
	memcpy(&sp.hw, hw, hw->HwInitializationDataSize < sizeof(sp.hw) ?
				   hw->HwInitializationDataSize : sizeof(sp.hw));
	sp.hw_context = ctx;
	sp.registered = true;
	/* The port's queue (busy handling) restarts from a DPC. */
	nt_KeInitializeTimer(&sp.retry_timer);
	nt_KeInitializeDpc(&sp.resume_dpc, resume_dpc, NULL);
	sp.resume_ready = true;
	vh_log("StorPortInitialize: miniport registered (ext %u, srb ext %u, %u ranges)",
	       hw->DeviceExtensionSize, hw->SrbExtensionSize, hw->NumberOfAccessRanges);
	return STATUS_SUCCESS;
}

/* ------------------------------------------------------------ lock order */
/* StorPort's documented hierarchy: DpcLock, then the StartIo lock, then the
 * interrupt lock (per-message locks rank with it); a lock already held or
 * taken out of order deadlocks a real system. Each thread keeps the
 * StorPort locks it holds, port-taken and miniport-taken alike. */
#define SPL_MAX 16

static __thread struct {
	enum sp_lock_kind kind;
	const void *id;
	unsigned msg;
} spl_held[SPL_MAX];
static __thread unsigned spl_n;

static unsigned spl_rank(enum sp_lock_kind k)
{
	return k == SPL_MESSAGE ? SPL_INTERRUPT : (unsigned)k;
}

/* The IRQL a held lock needs: dropping below it while held is a bug. */
static nt_irql spl_irql(enum sp_lock_kind k)
{
	return spl_rank(k) == SPL_INTERRUPT ? SP_DIRQL : DISPATCH_LEVEL;
}

static const char *spl_name(enum sp_lock_kind k, unsigned msg, char *buf, size_t n)
{
	switch (k) {
	case SPL_DPC:
		return "DpcLock";
	case SPL_STARTIO:
		return "StartIo lock";
	case SPL_INTERRUPT:
		return "interrupt lock (InterruptLock)";
	case SPL_MESSAGE:
		snprintf(buf, n, "interrupt lock of MSI-X message %u", msg);
		return buf;
	}
	return "unknown StorPort lock";
}

unsigned sp_lockdep_depth(void)
{
	return spl_n;
}

void sp_lockdep_acquire(enum sp_lock_kind kind, const void *id, unsigned msg)
{
	char a[48], b[48];
	const char *want = spl_name(kind, msg, a, sizeof(a));

	for (unsigned i = 0; i < spl_n; i++) {
		const char *have = spl_name(spl_held[i].kind, spl_held[i].msg, b, sizeof(b));
		bool same = spl_held[i].kind == kind && spl_held[i].id == id && spl_held[i].msg == msg;

		/* The InterruptLock takes every message lock, so either one
		 * under the other is a recursion too. */
		if (same || (spl_rank(kind) == SPL_INTERRUPT &&
			     spl_rank(spl_held[i].kind) == SPL_INTERRUPT))
			vh_fatal("StorPort lock order: %s acquired while this thread already holds %s "
				 "(deadlock)", want, have);
		if (spl_rank(spl_held[i].kind) > spl_rank(kind))
			vh_fatal("StorPort lock order: %s acquired while %s is held (the order is "
				 "DpcLock, StartIo lock, interrupt lock)", want, have);
	}
	if (spl_n == SPL_MAX)
		vh_fatal("StorPort lock order: more than %d StorPort locks held by one thread", SPL_MAX);
	spl_held[spl_n].kind = kind;
	spl_held[spl_n].id = id;
	spl_held[spl_n].msg = msg;
	spl_n++;
}

void sp_lockdep_release(enum sp_lock_kind kind, const void *id, unsigned msg, nt_irql to)
{
	char a[48], b[48];
	const char *name = spl_name(kind, msg, a, sizeof(a));
	unsigned j = spl_n;

	while (j-- > 0)
		if (spl_held[j].kind == kind && spl_held[j].id == id && spl_held[j].msg == msg)
			break;
	if (j >= spl_n)
		vh_fatal("StorPort lock order: %s released but this thread does not hold it", name);
	/* StorPort restores the IRQL saved in the handle: a release out of
	 * LIFO order is only wrong when that leaves a held lock below the
	 * IRQL it needs (e.g. DpcLock released before the StartIo lock). */
	for (unsigned i = 0; i < spl_n; i++)
		if (i != j && spl_irql(spl_held[i].kind) > to)
			vh_fatal("StorPort lock order: %s released out of order while %s is still held "
				 "(IRQL would drop to %u)", name,
				 spl_name(spl_held[i].kind, spl_held[i].msg, b, sizeof(b)), to);
	for (unsigned i = j; i + 1 < spl_n; i++)
		spl_held[i] = spl_held[i + 1];
	spl_n--;
}

/* ------------------------------------------------------------ locks */

#define SYNC_PER_MESSAGE 2 /* InterruptSynchronizePerMessage */

static bool per_message_locks(void)
{
	return sp.msix && sp.cfg.InterruptSynchronizationMode == SYNC_PER_MESSAGE;
}

/* The InterruptLock: with per-message locks it excludes every message. */
static void int_lock(nt_irql *old)
{
	sp_lockdep_acquire(SPL_INTERRUPT, &sp.int_lock, 0);
	*old = vh_irql();
	if (*old > SP_DIRQL)
		vh_fatal("interrupt lock taken at IRQL %u", *old);
	vh_set_irql(SP_DIRQL);
	vh_spin_acquire(&sp.int_lock, "StorPort interrupt lock");
	if (per_message_locks())
		for (unsigned m = 0; m < sp.msi_count; m++)
			vh_spin_acquire(&sp.msg_lock[m], "StorPort message lock");
}

static void int_unlock(nt_irql old)
{
	if (per_message_locks())
		for (unsigned m = sp.msi_count; m-- > 0;)
			vh_spin_release(&sp.msg_lock[m], "StorPort message lock");
	sp_lockdep_release(SPL_INTERRUPT, &sp.int_lock, 0, old);
	vh_spin_release(&sp.int_lock, "StorPort interrupt lock");
	vh_set_irql(old);
}

/* The lock StorPort holds around HwMSInterruptRoutine for message m. */
static void msg_lock(uint32_t m, nt_irql *old)
{
	if (!per_message_locks()) {
		int_lock(old);
		return;
	}
	sp_lockdep_acquire(SPL_MESSAGE, &sp.msg_lock[m], m);
	*old = vh_irql();
	vh_set_irql(SP_DIRQL);
	vh_spin_acquire(&sp.msg_lock[m], "StorPort message lock");
}

static void msg_unlock(uint32_t m, nt_irql old)
{
	if (!per_message_locks()) {
		int_unlock(old);
		return;
	}
	sp_lockdep_release(SPL_MESSAGE, &sp.msg_lock[m], m, old);
	vh_spin_release(&sp.msg_lock[m], "StorPort message lock");
	vh_set_irql(old);
}

static void startio_lock(nt_irql *old)
{
	sp_lockdep_acquire(SPL_STARTIO, &sp.startio_lock, 0);
	*old = vh_irql();
	if (*old > DISPATCH_LEVEL)
		vh_fatal("StartIo lock taken at IRQL %u", *old);
	vh_set_irql(DISPATCH_LEVEL);
	vh_spin_acquire(&sp.startio_lock, "StorPort StartIo lock");
}

static void startio_unlock(nt_irql old)
{
	sp_lockdep_release(SPL_STARTIO, &sp.startio_lock, 0, old);
	vh_spin_release(&sp.startio_lock, "StorPort StartIo lock");
	vh_set_irql(old);
}

#define SYNC_HALF_DUPLEX 0 /* StorSynchronizeHalfDuplex */

#define PERF_CONCURRENT_CHANNELS 0x2
#define PERF_DPC_REDIRECTION 0x1
#define PERF_INTERRUPT_MESSAGE_RANGES 0x4

/* The locks StorPort holds around HwStartIo (startio true) and HwTimer.
 * Concurrent channels: HwStartIo runs at DISPATCH_LEVEL without them. */
static void startio_enter(nt_irql *old, nt_irql *old2, bool startio)
{
	if (startio && (sp.perf_flags & PERF_CONCURRENT_CHANNELS)) {
		*old = vh_irql();
		vh_set_irql(DISPATCH_LEVEL);
		return;
	}
	startio_lock(old);
	if (sp.cfg.SynchronizationModel == SYNC_HALF_DUPLEX)
		int_lock(old2);
}

static void startio_leave(nt_irql old, nt_irql old2, bool startio)
{
	if (startio && (sp.perf_flags & PERF_CONCURRENT_CHANNELS)) {
		vh_set_irql(old);
		return;
	}
	if (sp.cfg.SynchronizationModel == SYNC_HALF_DUPLEX)
		int_unlock(old2);
	startio_unlock(old);
}

/* ------------------------------------------------------------ processors */

/* MSI-X message affinity: the redirection range one message per processor
 * in order (what StorPort sets up for STOR_PERF_INTERRUPT_MESSAGE_RANGES),
 * any other message round robin. */
static unsigned msg_cpu(uint32_t m)
{
	unsigned n = vh_cpu_count();

	if ((sp.perf_flags & PERF_INTERRUPT_MESSAGE_RANGES) && m >= sp.redir_first &&
	    m <= sp.redir_last)
		return (m - sp.redir_first) % n;
	return m % n;
}

/* The redirection-range message whose interrupt goes to processor cpu. */
static uint32_t cpu_msg(unsigned cpu)
{
	uint32_t span = sp.redir_last - sp.redir_first + 1;

	return sp.redir_first + cpu % span;
}

unsigned sp_message_count(void)
{
	return sp.msix ? sp.msi_count : 0;
}

unsigned long sp_message_interrupts(unsigned m, unsigned long *claimed, uint32_t *cpus)
{
	if (m >= SP_MAX_MSG)
		return 0;
	if (claimed)
		*claimed = __atomic_load_n(&sp.msg_claimed[m], __ATOMIC_RELAXED);
	if (cpus)
		*cpus = __atomic_load_n(&sp.msg_cpus[m], __ATOMIC_RELAXED);
	return __atomic_load_n(&sp.msg_interrupts[m], __ATOMIC_RELAXED);
}

uint32_t sp_perf_flags(void)
{
	return sp.perf_flags;
}

/* ------------------------------------------------------------ notification */

/* Fault injection for the broken-driver proof (vdphost --inject): the
 * host, not the driver, misbehaves, so the product stays untouched. */
static enum { INJ_NONE, INJ_CORRUPT_READ, INJ_DROP_COMPLETION } inject;
static unsigned long inject_reads;
/* Late enough that the driver has done real work first. */
#define INJECT_AFTER_READS 20

int sp_set_inject(const char *mode)
{
	if (!strcmp(mode, "corrupt-read-byte"))
		inject = INJ_CORRUPT_READ;
	else if (!strcmp(mode, "drop-completion"))
		inject = INJ_DROP_COMPLETION;
	else
		return -1;
	return 0;
}

bool sp_injecting(void)
{
	return inject != INJ_NONE;
}

/* True when this completion is to be swallowed. */
static bool inject_fault(sp_srb *srb)
{
	bool read = srb->Function == SRB_FUNCTION_EXECUTE_SCSI &&
		    (srb->Cdb[0] == 0x28 || srb->Cdb[0] == 0x88) &&
		    (srb->SrbStatus & 0x3f) == SRB_STATUS_SUCCESS && srb->DataBuffer &&
		    srb->DataTransferLength > 0x100;

	if (inject == INJ_NONE || !read ||
	    __atomic_add_fetch(&inject_reads, 1, __ATOMIC_RELAXED) != INJECT_AFTER_READS)
		return false;
	if (inject == INJ_CORRUPT_READ) {
		((uint8_t *)srb->DataBuffer)[0x100] ^= 0x01;
		vh_log("inject: flipped one bit of byte 0x100 in read SRB %p", (void *)srb);
		return false;
	}
	vh_log("inject: swallowed the RequestComplete of read SRB %p", (void *)srb);
	return true;
}

/* Called with mu held: the port resumes its queue from a DPC, as StorPort
 * does; never from inside the miniport callback that lifted the busy
 * state (its locks are held). */
static bool held_back_locked(void)
{
	return sp.lun_busy || sp.adapter_busy;
}

static void resume_soon(void)
{
	if (sp.resume_ready)
		nt_KeInsertQueueDpc(&sp.resume_dpc, NULL, NULL);
}

static void retry_later(void)
{
	/* 1 ms, relative: the device needs time to free a slot. */
	if (sp.resume_ready)
		nt_KeSetTimer(&sp.retry_timer, -10000, &sp.resume_dpc);
}

static sp_srbex_block *srbex_of(sp_srb *srb)
{
	return (sp_srbex_block *)(srb + 1);
}

/* The status an SRB_EX completion carries back to the issuer's SRB. */
static void copy_back(struct outstanding *o)
{
	sp_srbex_block *b;

	if (!o->ex)
		return;
	b = srbex_of(o->srb);
	o->srb->SrbStatus = b->h.SrbStatus;
	o->srb->DataTransferLength = b->h.DataTransferLength;
	if (b->h.NumSrbExData) {
		o->srb->ScsiStatus = b->cdb.ScsiStatus;
		o->srb->SenseInfoBufferLength = b->cdb.SenseInfoBufferLength;
	}
}

/* One RequestComplete counts towards the completions a busy LUN/adapter
 * waits for (RequestsToComplete); true when that lifts it. */
static bool count_completion_locked(const struct outstanding *done)
{
	bool lifted = false, others = false;

	/* More wanted than were outstanding: StorPort resumes once all of
	 * them completed (documented for StorPortDeviceBusy/StorPortBusy). */
	for (int i = 0; i < SP_MAX_OUTSTANDING && !others; i++)
		others = sp.out[i].state == OS_ISSUED && &sp.out[i] != done;
	if (sp.lun_busy && sp.lun_left && (!--sp.lun_left || !others)) {
		sp.lun_busy = false;
		sp.lun_left = 0;
		lifted = true;
	}
	if (sp.adapter_busy && sp.adapter_left && (!--sp.adapter_left || !others)) {
		sp.adapter_busy = false;
		sp.adapter_left = 0;
		lifted = true;
	}
	return lifted && !held_back_locked();
}

static void complete_srb(void *mp)
{
	struct outstanding *o = NULL;
	uint8_t status;
	bool resume, requeued = false;

	/* Everything is checked before the SRB is handed back: from then on
	 * the issuer may reuse it. */
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING && !o; i++)
		if (sp.out[i].state == OS_ISSUED && sp.out[i].mp == mp)
			o = &sp.out[i];
	if (!o)
		vh_fatal("RequestComplete(%p): SRB not outstanding (completed twice?)", mp);
	status = ((sp_srb *)mp)->SrbStatus; /* same offset in SRB and SRB_EX */
	if (status == SRB_STATUS_PENDING)
		vh_fatal("RequestComplete(%p): SrbStatus still SRB_STATUS_PENDING", mp);
	o->completions++;
	/* A BUSY completion frees nothing in the device: it does not count
	 * towards the completions a busy LUN waits for. */
	resume = (status & 0x3f) != SRB_STATUS_BUSY && count_completion_locked(o) && !sp.dump;
	/* SRB_STATUS_BUSY: StorPort requeues the request and sends it again
	 * later; the issuer never sees it. */
	if (((status & 0x3f) == SRB_STATUS_BUSY || (status & 0x3f) == SRB_STATUS_BUS_RESET) &&
	    o->retries < SP_BUSY_RETRIES && !sp.dump) {
		/* BUS_RESET: the class driver sends the request again. */
		o->retries++;
		o->state = OS_HELD;
		o->seq = ++sp.seq;
		if ((status & 0x3f) == SRB_STATUS_BUSY)
			sp.stats.busy_completions++;
		else
			sp.stats.reset_retries++;
		requeued = true;
	} else {
		copy_back(o);
		if (inject_fault(o->srb)) {
			pthread_mutex_unlock(&sp.mu);
			return;
		}
		o->state = OS_DONE;
	}
	pthread_cond_broadcast(&sp.cv);
	if (resume)
		resume_soon();
	else if (requeued && !held_back_locked())
		retry_later();
	pthread_mutex_unlock(&sp.mu);
}

static void NTAPI sp_dpc_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	((sp_hw_dpc_routine *)ctx)(dpc, sp.ext, a1, a2);
}

static void NTAPI sp_timer_trampoline(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	sp_hw_timer *fn;
	nt_irql old, old2 = 0;

	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	fn = sp.timer_fn;
	if (!fn)
		return;
	startio_enter(&old, &old2, false);
	fn(sp.ext);
	startio_leave(old, old2, false);
}

static void sp_lock_acquire(uint32_t type, void *ctx, sp_lock_handle *h)
{
	nt_irql old;

	if (!h)
		vh_fatal("StorPortAcquireSpinLock: NULL lock handle");
	memset(h, 0, sizeof(*h));
	h->Lock = type;
	switch (type) {
	case SP_InterruptLock:
		int_lock(&old);
		break;
	case SP_StartIoLock:
		startio_lock(&old);
		break;
	case SP_DpcLock:
		if (!ctx)
			vh_fatal("StorPortAcquireSpinLock(DpcLock): no STOR_DPC given");
		sp_lockdep_acquire(SPL_DPC, &((sp_stor_dpc *)ctx)->Lock, 0);
		old = vh_irql();
		if (old > DISPATCH_LEVEL)
			vh_fatal("DpcLock taken at IRQL %u", old);
		vh_set_irql(DISPATCH_LEVEL);
		h->Context.LockQueue.Lock = &((sp_stor_dpc *)ctx)->Lock;
		vh_spin_acquire(h->Context.LockQueue.Lock, "StorPort DpcLock");
		break;
	default:
		vh_fatal("StorPortAcquireSpinLock: unsupported lock type %u", type);
	}
	h->Context.OldIrql = old;
}

static void sp_lock_release(sp_lock_handle *h)
{
	if (!h)
		vh_fatal("StorPortReleaseSpinLock: NULL lock handle");
	switch (h->Lock) {
	case SP_InterruptLock:
		int_unlock(h->Context.OldIrql);
		break;
	case SP_StartIoLock:
		startio_unlock(h->Context.OldIrql);
		break;
	case SP_DpcLock:
		sp_lockdep_release(SPL_DPC, h->Context.LockQueue.Lock, 0, h->Context.OldIrql);
		vh_spin_release(h->Context.LockQueue.Lock, "StorPort DpcLock");
		vh_set_irql(h->Context.OldIrql);
		break;
	default:
		vh_fatal("StorPortReleaseSpinLock: bad handle (lock type %u)", h->Lock);
	}
}

static void NTAPI sp_StorPortNotification(uint32_t type, void *ext, ...)
{
	__builtin_ms_va_list ap;

	if (ext != sp.ext)
		vh_fatal("StorPortNotification(%#x): wrong device extension %p", type, ext);
	__builtin_ms_va_start(ap, ext);
	switch (type) {
	case SP_RequestComplete:
		complete_srb(__builtin_va_arg(ap, sp_srb *));
		break;
	case SP_NextRequest:
	case SP_NextLuRequest:
		break; /* requests are issued one by one anyway */
	case SP_ResetDetected:
		vh_log("StorPortNotification: ResetDetected");
		break;
	case SP_BusChangeDetected:
		vh_log("StorPortNotification: BusChangeDetected");
		break;
	case SP_RequestTimerCall: {
		sp_hw_timer *fn = __builtin_va_arg(ap, sp_hw_timer *);
		uint32_t us = __builtin_va_arg(ap, uint32_t);
		dump_forbidden("StorPortNotification(RequestTimerCall)");
		sp.timer_fn = fn;
		if (!fn || !us) {
			nt_KeCancelTimer(&sp.timer);
		} else {
			nt_KeSetTimer(&sp.timer, -(int64_t)us * 10, &sp.timer_dpc);
		}
		break;
	}
	case SP_EnablePassiveInitialization: {
		sp_hw_passive_init *fn = __builtin_va_arg(ap, sp_hw_passive_init *);
		uint8_t *ok = __builtin_va_arg(ap, uint8_t *);
		dump_forbidden("StorPortEnablePassiveInitialization");
		if (!sp.in_find_or_init)
			vh_fatal("EnablePassiveInitialization outside HwFindAdapter/HwInitialize");
		sp.passive = fn;
		if (ok)
			*ok = 1;
		break;
	}
	case SP_InitializeDpc: {
		sp_stor_dpc *d = __builtin_va_arg(ap, sp_stor_dpc *);
		sp_hw_dpc_routine *fn = __builtin_va_arg(ap, sp_hw_dpc_routine *);
		dump_forbidden("StorPortInitializeDpc");
		if (!d || !fn)
			vh_fatal("StorPortInitializeDpc: NULL argument");
		nt_KeInitializeDpc(&d->Dpc, sp_dpc_trampoline, (void *)fn);
		d->Lock = 0;
		break;
	}
	case SP_IssueDpc: {
		sp_stor_dpc *d = __builtin_va_arg(ap, sp_stor_dpc *);
		void *a1 = __builtin_va_arg(ap, void *);
		void *a2 = __builtin_va_arg(ap, void *);
		uint8_t *ok = __builtin_va_arg(ap, uint8_t *);
		uint8_t r;
		dump_forbidden("StorPortIssueDpc");
		r = nt_KeInsertQueueDpc(&d->Dpc, a1, a2);
		if (ok)
			*ok = r;
		break;
	}
	case SP_AcquireSpinLock: {
		uint32_t lock = __builtin_va_arg(ap, uint32_t);
		void *ctx = __builtin_va_arg(ap, void *);
		sp_lock_handle *h = __builtin_va_arg(ap, sp_lock_handle *);
		sp_lock_acquire(lock, ctx, h);
		break;
	}
	case SP_ReleaseSpinLock:
		sp_lock_release(__builtin_va_arg(ap, sp_lock_handle *));
		break;
	default:
		vh_log("StorPortNotification(%#x): not emulated, ignored", type);
		break;
	}
	__builtin_ms_va_end(ap);
}

/* ------------------------------------------------------------ resources */

static void check_ext(void *ext, const char *who)
{
	if (ext != sp.ext)
		vh_fatal("%s: device extension %p is not the adapter's (%p)", who, ext, sp.ext);
}

static uint32_t NTAPI sp_StorPortGetBusData(void *ext, uint32_t type, uint32_t bus, uint32_t slot,
					    void *buf, uint32_t len)
{
	uint32_t n;

	check_ext(ext, "StorPortGetBusData");
	if (type != PCI_CONFIGURATION || bus != sp.pci.bus ||
	    slot != (uint32_t)(sp.pci.slot | sp.pci.func << 5)) {
		vh_log("StorPortGetBusData(type %u, bus %u, slot %#x): no such device", type, bus, slot);
		return 0;
	}
	n = len > 256 ? 256 : len;
	if (!buf || pci_cfg_read(&sp.pci, 0, buf, n))
		return 0;
	return n;
}

static uint32_t NTAPI sp_StorPortSetBusDataByOffset(void *ext, uint32_t type, uint32_t bus,
						    uint32_t slot, void *buf, uint32_t off,
						    uint32_t len)
{
	check_ext(ext, "StorPortSetBusDataByOffset");
	if (type != PCI_CONFIGURATION || bus != sp.pci.bus ||
	    slot != (uint32_t)(sp.pci.slot | sp.pci.func << 5) || !buf ||
	    pci_cfg_write(&sp.pci, off, buf, len))
		return 0;
	return len;
}

static void *NTAPI sp_StorPortGetDeviceBase(void *ext, uint32_t bus_type, uint32_t bus,
					    int64_t addr, uint32_t len, uint8_t in_io_space)
{
	void *va;

	check_ext(ext, "StorPortGetDeviceBase");
	(void)bus_type;
	(void)bus;
	for (int i = 0; i < 6; i++) {
		struct pci_bar *b = &sp.pci.bar[i];
		if (!b->size || (uint64_t)addr < b->phys || (uint64_t)addr - b->phys >= b->size ||
		    len > b->size - ((uint64_t)addr - b->phys))
			continue;
		if (in_io_space != b->io) {
			vh_log("StorPortGetDeviceBase(%#llx): InIoSpace=%u does not match BAR%d",
			       (unsigned long long)addr, in_io_space, i);
			return NULL;
		}
		/* For I/O ranges the "mapped" address is the port number. */
		if (b->io)
			return (void *)(uintptr_t)addr;
		va = io_lookup((uint64_t)addr, len);
		if (va)
			return va;
	}
	vh_log("StorPortGetDeviceBase(%#llx, %u): not in any BAR of %s", (unsigned long long)addr,
	       len, sp.pci.bdf);
	return NULL;
}

static void NTAPI sp_StorPortFreeDeviceBase(void *ext, void *base)
{
	(void)ext;
	(void)base;
}

static void *NTAPI sp_StorPortGetUncachedExtension(void *ext, sp_port_config *cfg, uint32_t len)
{
	uint64_t phys;

	check_ext(ext, "StorPortGetUncachedExtension");
	if (cfg != &sp.cfg)
		vh_fatal("StorPortGetUncachedExtension: not the adapter's PORT_CONFIGURATION_INFORMATION");
	if (!sp.in_find_or_init)
		vh_fatal("StorPortGetUncachedExtension outside HwFindAdapter");
	if (sp.uncached)
		return len <= sp.uncached_size ? sp.uncached : NULL;
	if (sp.dump && len > SP_DUMP_UNCACHED_MAX) {
		vh_log("StorPortGetUncachedExtension(%u) in dump mode: over the dump stack's %u bytes",
		       len, SP_DUMP_UNCACHED_MAX);
		return NULL;
	}
	sp.uncached = dma_alloc(len, 4096, &phys);
	if (sp.uncached)
		sp.uncached_size = len;
	else
		vh_log("StorPortGetUncachedExtension(%u): DMA pool exhausted", len);
	return sp.uncached;
}

static int64_t NTAPI sp_StorPortGetPhysicalAddress(void *ext, sp_srb *srb, void *va, uint32_t *len)
{
	uint64_t phys;

	(void)srb;
	check_ext(ext, "StorPortGetPhysicalAddress");
	if (!dma_phys(va, &phys)) {
		vh_log("StorPortGetPhysicalAddress(%p): not DMA-able memory", va);
		if (len)
			*len = 0;
		return 0;
	}
	/* Pool allocations are physically contiguous to their end. */
	if (len) {
		size_t n = dma_contig(va);
		*len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	return (int64_t)phys;
}

static void *NTAPI sp_StorPortGetVirtualAddress(void *ext, int64_t phys)
{
	void *va;

	check_ext(ext, "StorPortGetVirtualAddress");
	return dma_virt((uint64_t)phys, &va) ? va : NULL;
}

static sp_sg_list *NTAPI sp_StorPortGetScatterGatherList(void *ext, sp_srb *srb)
{
	sp_sg_list *sg = NULL;
	uint8_t *p;
	uint32_t left, n = 0, max;
	int slot = -1;

	check_ext(ext, "StorPortGetScatterGatherList");
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].mp == srb && sp.out[i].state == OS_ISSUED)
			slot = i;
	pthread_mutex_unlock(&sp.mu);
	if (slot < 0)
		vh_fatal("StorPortGetScatterGatherList(%p): SRB not outstanding", (void *)srb);
	if (sp.out[slot].ex) {
		sp_srbex_block *b = (sp_srbex_block *)(void *)srb;
		p = b->h.DataBuffer;
		left = b->h.DataTransferLength;
	} else {
		p = srb->DataBuffer;
		left = srb->DataTransferLength;
	}
	if (!p || !left)
		return NULL;
	/* One element per 4 KiB page, as Windows typically builds them, so the
	 * miniport's multi-element path is always exercised. */
	max = left / 4096 + 2;
	sg = calloc(1, sizeof(*sg) + max * sizeof(sg->List[0]));
	if (!sg)
		vh_fatal("out of memory");
	while (left) {
		uint64_t phys;
		uint32_t chunk;
		if (!dma_phys(p, &phys))
			vh_fatal("SRB %p data buffer %p is not DMA memory", (void *)srb, (void *)p);
		chunk = (uint32_t)(4096 - (phys & 4095));
		if (chunk > left)
			chunk = left;
		sg->List[n].PhysicalAddress = (int64_t)phys;
		sg->List[n].Length = chunk;
		n++;
		p += chunk;
		left -= chunk;
	}
	sg->NumberOfElements = n;
	free(sp.out[slot].sg);
	sp.out[slot].sg = sg;
	return sg;
}

static void *NTAPI sp_StorPortGetLogicalUnit(void *ext, uint8_t path, uint8_t target, uint8_t lun)
{
	check_ext(ext, "StorPortGetLogicalUnit");
	return (path == 0 && target == 0 && lun == 0) ? sp.lu_ext : NULL;
}

/* ------------------------------------------------------------ register and port access */

#define REG_RW(name, type)                                                              \
	static type NTAPI sp_StorPortReadRegister##name(void *ext, type *reg)          \
	{                                                                               \
		(void)ext;                                                              \
		if (!io_contains(reg, sizeof(type)))                                    \
			vh_fatal("StorPortReadRegister" #name "(%p): not device memory", \
				 (void *)reg);                                          \
		return *(volatile type *)reg;                                           \
	}                                                                               \
	static void NTAPI sp_StorPortWriteRegister##name(void *ext, type *reg, type v)  \
	{                                                                               \
		(void)ext;                                                              \
		if (!io_contains(reg, sizeof(type)))                                    \
			vh_fatal("StorPortWriteRegister" #name "(%p): not device memory", \
				 (void *)reg);                                          \
		*(volatile type *)reg = v;                                              \
	}                                                                               \
	static void NTAPI sp_StorPortReadRegisterBuffer##name(void *ext, type *reg,     \
							      type *buf, uint32_t n)   \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			buf[i] = sp_StorPortReadRegister##name(ext, reg);               \
	}                                                                               \
	static void NTAPI sp_StorPortWriteRegisterBuffer##name(void *ext, type *reg,    \
							       type *buf, uint32_t n)  \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			sp_StorPortWriteRegister##name(ext, reg, buf[i]);               \
	}
REG_RW(Uchar, uint8_t)
REG_RW(Ushort, uint16_t)
REG_RW(Ulong, uint32_t)

/* Port I/O means the legacy transport is in use: reported by the disk test. */
static unsigned long port_accesses;

unsigned long sp_port_accesses(void)
{
	return __atomic_load_n(&port_accesses, __ATOMIC_RELAXED);
}

static uint16_t port_of(const void *p, unsigned size, const char *who)
{
	uintptr_t port = (uintptr_t)p;

	__atomic_add_fetch(&port_accesses, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 6; i++) {
		struct pci_bar *b = &sp.pci.bar[i];
		if (b->io && port >= b->phys && port - b->phys < b->size && size <= b->size - (port - b->phys))
			return (uint16_t)port;
	}
	vh_fatal("%s(%p): not an I/O port of the adapter", who, p);
}

#define PORT_RW(name, type, in, out)                                                    \
	static type NTAPI sp_StorPortReadPort##name(void *ext, type *port)              \
	{                                                                               \
		(void)ext;                                                              \
		return in(port_of(port, sizeof(type), "StorPortReadPort" #name));      \
	}                                                                               \
	static void NTAPI sp_StorPortWritePort##name(void *ext, type *port, type v)     \
	{                                                                               \
		(void)ext;                                                              \
		out(v, port_of(port, sizeof(type), "StorPortWritePort" #name));        \
	}                                                                               \
	static void NTAPI sp_StorPortReadPortBuffer##name(void *ext, type *port,        \
							  type *buf, uint32_t n)       \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			buf[i] = sp_StorPortReadPort##name(ext, port);                  \
	}                                                                               \
	static void NTAPI sp_StorPortWritePortBuffer##name(void *ext, type *port,       \
							   type *buf, uint32_t n)      \
	{                                                                               \
		for (uint32_t i = 0; i < n; i++)                                        \
			sp_StorPortWritePort##name(ext, port, buf[i]);                  \
	}
PORT_RW(Uchar, uint8_t, inb, outb)
PORT_RW(Ushort, uint16_t, inw, outw)
PORT_RW(Ulong, uint32_t, inl, outl)

/* ------------------------------------------------------------ misc */

static void NTAPI sp_StorPortStallExecution(uint32_t us)
{
	nt_KeStallExecutionProcessor(us);
}

static void NTAPI sp_StorPortMoveMemory(void *d, void *s, uint32_t n)
{
	memmove(d, s, n);
}

static void NTAPI sp_StorPortQuerySystemTime(int64_t *t)
{
	nt_KeQuerySystemTimePrecise(t);
}

static void NTAPI sp_StorPortDebugPrint(uint32_t level, const char *fmt, ...)
{
	__builtin_ms_va_list ap;
	char buf[1024];

	(void)level;
	__builtin_ms_va_start(ap, fmt);
	nt_format(buf, sizeof(buf), fmt, &ap);
	__builtin_ms_va_end(ap);
	fputs(buf, stderr);
}

static void NTAPI sp_StorPortLogError(void *ext, sp_srb *srb, uint8_t path, uint8_t target,
				      uint8_t lun, uint32_t code, uint32_t id)
{
	(void)ext;
	vh_log("StorPortLogError(srb %p, %u:%u:%u, error %#x, id %#x)", (void *)srb, path, target,
	       lun, code, id);
}

static void NTAPI sp_StorPortCompleteRequest(void *ext, uint8_t path, uint8_t target, uint8_t lun,
					     uint8_t status)
{
	check_ext(ext, "StorPortCompleteRequest");
	(void)path;
	(void)target;
	(void)lun;
	pthread_mutex_lock(&sp.mu);
	/* Only what the miniport holds; the port's own queue stays queued. */
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].state == OS_ISSUED) {
			((sp_srb *)sp.out[i].mp)->SrbStatus = status;
			copy_back(&sp.out[i]);
			sp.out[i].srb->SrbStatus = status;
			sp.out[i].state = OS_DONE;
			sp.out[i].completions++;
			if (count_completion_locked(&sp.out[i]))
				resume_soon();
		}
	pthread_cond_broadcast(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
}

static int64_t NTAPI sp_StorPortConvertUlongToPhysicalAddress(uint64_t v)
{
	return (int64_t)(uint32_t)v;
}

static uint32_t NTAPI sp_StorPortConvertPhysicalAddressToUlong(int64_t v)
{
	return (uint32_t)v;
}

static uint8_t NTAPI sp_true1(void *ext) { (void)ext; return 1; }
static uint8_t NTAPI sp_true2(void *ext, uint32_t a) { (void)ext; (void)a; return 1; }
static uint8_t NTAPI sp_true_dev(void *ext, uint8_t p, uint8_t t, uint8_t l, uint32_t a)
{
	(void)ext; (void)p; (void)t; (void)l; (void)a;
	return 1;
}

/* ---- busy / ready: StorPort holds new requests back until the given
 * number of requests completed (0: until the matching Ready call). */
static bool busy_lun_ok(void *ext, uint8_t p, uint8_t t, uint8_t l, const char *who)
{
	check_ext(ext, who);
	if (p || t || l) {
		vh_log("%s(%u:%u:%u): no such logical unit (only 0:0:0 exists)", who, p, t, l);
		return false;
	}
	return true;
}

static uint8_t NTAPI sp_StorPortDeviceBusy(void *ext, uint8_t p, uint8_t t, uint8_t l, uint32_t n)
{
	if (!busy_lun_ok(ext, p, t, l, "StorPortDeviceBusy"))
		return 0;
	pthread_mutex_lock(&sp.mu);
	sp.lun_busy = true;
	sp.lun_left = n;
	sp.stats.device_busy++;
	pthread_mutex_unlock(&sp.mu);
	return 1;
}

static uint8_t NTAPI sp_StorPortDeviceReady(void *ext, uint8_t p, uint8_t t, uint8_t l)
{
	if (!busy_lun_ok(ext, p, t, l, "StorPortDeviceReady"))
		return 0;
	pthread_mutex_lock(&sp.mu);
	sp.stats.device_ready++;
	if (sp.lun_busy) {
		sp.lun_busy = false;
		if (!held_back_locked())
			resume_soon();
	}
	pthread_mutex_unlock(&sp.mu);
	return 1;
}

static uint8_t NTAPI sp_StorPortBusy(void *ext, uint32_t n)
{
	check_ext(ext, "StorPortBusy");
	pthread_mutex_lock(&sp.mu);
	sp.adapter_busy = true;
	sp.adapter_left = n;
	sp.stats.adapter_busy++;
	pthread_mutex_unlock(&sp.mu);
	return 1;
}

static uint8_t NTAPI sp_StorPortReady(void *ext)
{
	check_ext(ext, "StorPortReady");
	pthread_mutex_lock(&sp.mu);
	sp.stats.adapter_ready++;
	if (sp.adapter_busy) {
		sp.adapter_busy = false;
		if (!held_back_locked())
			resume_soon();
	}
	pthread_mutex_unlock(&sp.mu);
	return 1;
}

void sp_busy_stats(struct sp_busy_stats *st)
{
	pthread_mutex_lock(&sp.mu);
	*st = sp.stats;
	st->lun_busy_now = sp.lun_busy;
	st->adapter_busy_now = sp.adapter_busy;
	pthread_mutex_unlock(&sp.mu);
}

static uint8_t NTAPI sp_StorPortSynchronizeAccess(void *ext, sp_hw_sync_routine *fn, void *ctx)
{
	nt_irql old;
	uint8_t r;

	check_ext(ext, "StorPortSynchronizeAccess");
	int_lock(&old);
	r = fn(ext, ctx);
	int_unlock(old);
	return r;
}

#define EXT_GET_MSI_INFO 13 /* ExtFunctionGetMessageInterruptInformation */
#define EXT_INIT_PERF_OPTS 14 /* ExtFunctionInitializePerformanceOptimizations */
#define EXT_GET_STARTIO_PERF 15 /* ExtFunctionGetStartIoPerformanceParameters */
#define EXT_GET_CURRENT_PROCESSOR 17 /* ExtFunctionGetCurrentProcessorNumber */
#define EXT_WORKER_FIRST 29 /* ExtFunctionInitializeWorker, QueueWorkItem, FreeWorker, */
#define EXT_TIMER_LAST 34   /* InitializeTimer, RequestTimer, FreeTimer */

/* PERF_CONFIGURATION_DATA, x64 */
struct sp_perf_config {
	uint32_t Version;
	uint32_t Size;
	uint32_t Flags;
	uint32_t ConcurrentChannels;
	uint32_t FirstRedirectionMessageNumber;
	uint32_t LastRedirectionMessageNumber;
	uint32_t DeviceNode;
	uint32_t Reserved;
	void *MessageTargets;
};
_Static_assert(offsetof(struct sp_perf_config, FirstRedirectionMessageNumber) == 16, "PERF_CONFIGURATION_DATA.FirstRedirectionMessageNumber");
_Static_assert(sizeof(struct sp_perf_config) == 40, "PERF_CONFIGURATION_DATA x64 size");

/* STARTIO_PERFORMANCE_PARAMETERS(_V2), x64 */
struct sp_startio_perf {
	uint32_t Version;
	uint32_t Size;
	uint32_t MessageNumber;
	uint32_t ChannelNumber;
	nt_processor_number InitiatingProcessor; /* version 2 */
};
_Static_assert(sizeof(struct sp_startio_perf) == 20, "STARTIO_PERFORMANCE_PARAMETERS_V2 size");

/* What the emulation implements: DPC redirection, concurrent channels,
 * interrupt message ranges. */
#define PERF_SUPPORTED (PERF_DPC_REDIRECTION | PERF_CONCURRENT_CHANNELS | \
			PERF_INTERRUPT_MESSAGE_RANGES)

static uint32_t perf_opts(uint8_t query, struct sp_perf_config *p)
{
	uint32_t f;

	if (!p || p->Version < 2 || p->Size < offsetof(struct sp_perf_config, DeviceNode))
		return STOR_STATUS_INVALID_PARAMETER;
	if (query) {
		p->Flags = PERF_SUPPORTED;
		p->ConcurrentChannels = vh_cpu_count();
		p->FirstRedirectionMessageNumber = 0;
		p->LastRedirectionMessageNumber = 0;
		return STOR_STATUS_SUCCESS;
	}
	if (!sp.in_find_or_init)
		vh_fatal("StorPortInitializePerfOpts outside HwFindAdapter/HwInitialize");
	f = p->Flags;
	if (f & ~(uint32_t)PERF_SUPPORTED) {
		vh_log("StorPortInitializePerfOpts: flags %#x beyond the supported %#x", f,
		       PERF_SUPPORTED);
		return STOR_STATUS_INVALID_PARAMETER;
	}
	if ((f & PERF_INTERRUPT_MESSAGE_RANGES) &&
	    (!(f & PERF_DPC_REDIRECTION) || !sp.msix ||
	     p->FirstRedirectionMessageNumber > p->LastRedirectionMessageNumber ||
	     p->LastRedirectionMessageNumber >= sp.msi_count)) {
		vh_log("StorPortInitializePerfOpts: message range %u..%u invalid (%u messages, flags %#x)",
		       p->FirstRedirectionMessageNumber, p->LastRedirectionMessageNumber,
		       sp.msi_count, f);
		return STOR_STATUS_INVALID_PARAMETER;
	}
	if ((f & PERF_CONCURRENT_CHANNELS) && !p->ConcurrentChannels)
		return STOR_STATUS_INVALID_PARAMETER;
	sp.perf_flags = f;
	sp.channels = (f & PERF_CONCURRENT_CHANNELS) ? p->ConcurrentChannels : 1;
	sp.redir_first = p->FirstRedirectionMessageNumber;
	sp.redir_last = p->LastRedirectionMessageNumber;
	vh_log("StorPortInitializePerfOpts: flags %#x, %u channel(s), messages %u..%u redirected",
	       f, sp.channels, sp.redir_first, sp.redir_last);
	return STOR_STATUS_SUCCESS;
}

static uint32_t startio_perf(sp_srb *srb, struct sp_startio_perf *p)
{
	unsigned cpu = vh_cpu_current();

	(void)srb;
	if (!p || (p->Version != 1 && p->Version != 2) ||
	    p->Size < (p->Version == 2 ? sizeof(*p) :
					 offsetof(struct sp_startio_perf, InitiatingProcessor)))
		return STOR_STATUS_INVALID_PARAMETER;
	if (vh_irql() < DISPATCH_LEVEL)
		vh_fatal("StorPortGetStartIoPerfParams at IRQL %u (HwStartIo/HwBuildIo only)", vh_irql());
	p->MessageNumber = (sp.perf_flags & PERF_INTERRUPT_MESSAGE_RANGES) ? cpu_msg(cpu) : 0;
	p->ChannelNumber = sp.channels > 1 ? cpu % sp.channels : 0;
	if (p->Version == 2)
		p->InitiatingProcessor = (nt_processor_number){ 0, (uint8_t)cpu, 0 };
	return STOR_STATUS_SUCCESS;
}

/* MESSAGE_INTERRUPT_INFORMATION, x64 */
struct sp_msi_info {
	uint32_t MessageId;
	uint32_t MessageData;
	int64_t MessageAddress;
	uint32_t InterruptVector;
	uint32_t InterruptLevel;
	uint32_t InterruptMode;
	uint32_t pad;
};
_Static_assert(offsetof(struct sp_msi_info, MessageAddress) == 8, "MESSAGE_INTERRUPT_INFORMATION.MessageAddress");
_Static_assert(offsetof(struct sp_msi_info, InterruptMode) == 24, "MESSAGE_INTERRUPT_INFORMATION.InterruptMode");

static uint32_t NTAPI sp_StorPortExtendedFunction(uint32_t code, void *ext, ...)
{
	__builtin_ms_va_list ap;
	uint32_t r = STOR_STATUS_NOT_IMPLEMENTED;

	check_ext(ext, "StorPortExtendedFunction");
	if (code >= EXT_WORKER_FIRST && code <= EXT_TIMER_LAST)
		dump_forbidden("StorPortInitializeWorker/QueueWorkItem/InitializeTimer/RequestTimer");
	__builtin_ms_va_start(ap, ext);
	if (sp.dump && (code == EXT_GET_MSI_INFO || code == EXT_INIT_PERF_OPTS ||
			code == EXT_GET_STARTIO_PERF)) {
		/* No interrupts, one processor: nothing to tell or tune. */
		vh_log("StorPortExtendedFunction(%u) in dump mode: not implemented", code);
		r = code == EXT_GET_MSI_INFO ? STOR_STATUS_UNSUCCESSFUL : STOR_STATUS_NOT_IMPLEMENTED;
	} else if (code == EXT_GET_MSI_INFO) {
		uint32_t id = __builtin_va_arg(ap, uint32_t);
		struct sp_msi_info *mi = __builtin_va_arg(ap, struct sp_msi_info *);
		if (!mi) {
			r = STOR_STATUS_INVALID_PARAMETER;
		} else if (!sp.msix || id >= sp.msi_count) {
			r = STOR_STATUS_UNSUCCESSFUL; /* line-based, or no such message */
		} else {
			memset(mi, 0, sizeof(*mi));
			mi->MessageId = id;
			mi->MessageData = 0x40 + id;          /* plausible, never used */
			mi->MessageAddress = 0xfee00000;
			mi->InterruptVector = 0x40 + id;
			mi->InterruptLevel = SP_DIRQL;
			mi->InterruptMode = 1;                /* Latched */
			r = STOR_STATUS_SUCCESS;
		}
	} else if (code == EXT_INIT_PERF_OPTS) {
		uint8_t query = (uint8_t)__builtin_va_arg(ap, uint32_t);
		r = perf_opts(query, __builtin_va_arg(ap, struct sp_perf_config *));
	} else if (code == EXT_GET_STARTIO_PERF) {
		sp_srb *srb = __builtin_va_arg(ap, sp_srb *);
		r = startio_perf(srb, __builtin_va_arg(ap, struct sp_startio_perf *));
	} else if (code == EXT_GET_CURRENT_PROCESSOR) {
		nt_processor_number *pn = __builtin_va_arg(ap, nt_processor_number *);
		if (!pn) {
			r = STOR_STATUS_INVALID_PARAMETER;
		} else {
			*pn = (nt_processor_number){ 0, (uint8_t)vh_cpu_current(), 0 };
			r = STOR_STATUS_SUCCESS;
		}
	} else {
		vh_log("StorPortExtendedFunction(%u): not emulated", code);
	}
	__builtin_ms_va_end(ap);
	return r;
}

/* Registry: the service key's Parameters\Device(N) values that the driver's
 * INF installs (vdphost --inf). StorPort allows one registry buffer per
 * adapter at a time, at PASSIVE_LEVEL, and reads only into that buffer. */
static struct {
	void *buf;
	uint32_t size;
} sp_regbuf;

static void registry_entry(void *ext, const char *who)
{
	check_ext(ext, who);
	if (vh_irql() != PASSIVE_LEVEL)
		vh_fatal("%s at IRQL %u: StorPort requires PASSIVE_LEVEL", who, vh_irql());
}

static void *NTAPI sp_StorPortAllocateRegistryBuffer(void *ext, uint32_t *len)
{
	registry_entry(ext, "StorPortAllocateRegistryBuffer");
	if (!len || !*len || *len > 64 * 1024) {
		vh_log("StorPortAllocateRegistryBuffer: length %u refused", len ? *len : 0);
		return NULL;
	}
	if (sp_regbuf.buf) {
		vh_log("StorPortAllocateRegistryBuffer: a registry buffer is already allocated");
		return NULL;
	}
	sp_regbuf.buf = calloc(1, *len);
	sp_regbuf.size = sp_regbuf.buf ? *len : 0;
	return sp_regbuf.buf;
}

static void NTAPI sp_StorPortFreeRegistryBuffer(void *ext, void *buf)
{
	registry_entry(ext, "StorPortFreeRegistryBuffer");
	if (!buf || buf != sp_regbuf.buf)
		vh_fatal("StorPortFreeRegistryBuffer(%p): not the adapter's registry buffer", buf);
	free(buf);
	sp_regbuf.buf = NULL;
	sp_regbuf.size = 0;
}

static uint8_t NTAPI sp_StorPortRegistryRead(void *ext, uint8_t *name, uint32_t global, uint32_t type,
					     uint8_t *buf, uint32_t *len)
{
	const struct infreg_value *v;
	char key[32];
	uint32_t need;

	registry_entry(ext, "StorPortRegistryRead");
	if (!name || !len)
		vh_fatal("StorPortRegistryRead: NULL value name or length");
	if (!buf || (uintptr_t)buf < (uintptr_t)sp_regbuf.buf || !sp_regbuf.buf ||
	    (uintptr_t)buf + *len > (uintptr_t)sp_regbuf.buf + sp_regbuf.size)
		vh_fatal("StorPortRegistryRead(%s): buffer %p+%u is not inside the registry buffer",
			 (const char *)name, (void *)buf, *len);
	/* Adapter-specific values live under Parameters\Device<port number>. */
	snprintf(key, sizeof(key), global ? "Parameters\\Device" : "Parameters\\Device0");
	v = infreg_find(vh_registry(), INFREG_SERVICE, key, (const char *)name);
	if (!v || v->type != type) {
		if (v)
			vh_log("storport: registry %s\\%s has type %u, the driver asked for %u", key,
			       (const char *)name, v->type, type);
		*len = 0;
		return 0;
	}
	if (type == INFREG_DWORD) {
		need = 4;
		if (*len >= need)
			memcpy(buf, &v->dword, 4);
	} else if (type == INFREG_SZ || type == INFREG_EXPAND_SZ) {
		need = (uint32_t)(strlen(v->data) + 1) * 2; /* UTF-16, terminated */
		for (uint32_t i = 0; *len >= need && i < need / 2; i++) {
			uint16_t ch = (uint8_t)v->data[i];

			memcpy(buf + 2 * i, &ch, 2);
		}
	} else {
		vh_log("storport: registry type %u is not emulated", type);
		*len = 0;
		return 0;
	}
	if (*len < need) {
		*len = need;
		return 0;
	}
	*len = need;
	if (type == INFREG_DWORD)
		vh_log("storport: registry %s\\%s = %u", key, (const char *)name, v->dword);
	else
		vh_log("storport: registry %s\\%s = \"%s\"", key, (const char *)name, v->data);
	return 1;
}

static uint8_t NTAPI sp_StorPortRegistryWrite(void *ext, uint8_t *name, uint32_t global,
					      uint32_t type, uint8_t *buf, uint32_t len)
{
	(void)global; (void)type; (void)buf; (void)len;
	registry_entry(ext, "StorPortRegistryWrite");
	vh_log("StorPortRegistryWrite(%s): the test host's registry is read-only", (const char *)name);
	return 0;
}

static uint8_t NTAPI sp_StorPortValidateRange(void *ext, uint32_t bus_type, uint32_t bus,
					      int64_t addr, uint32_t len, uint8_t io)
{
	(void)ext; (void)bus_type; (void)bus; (void)addr; (void)len; (void)io;
	return 1;
}

#define SP(name) { "storport.sys", #name, (void *)sp_##name }
#define SPX(name, fn) { "storport.sys", #name, (void *)fn }
#define SPRW(kind, w)                                                              \
	SP(StorPortRead##kind##w), SP(StorPortWrite##kind##w),                     \
	SP(StorPortRead##kind##Buffer##w), SP(StorPortWrite##kind##Buffer##w)

const struct nt_export sp_exports[] = {
	SP(StorPortInitialize), SP(StorPortNotification), SP(StorPortGetBusData),
	SP(StorPortSetBusDataByOffset), SP(StorPortGetDeviceBase), SP(StorPortFreeDeviceBase),
	SP(StorPortGetUncachedExtension), SP(StorPortGetPhysicalAddress),
	SP(StorPortGetVirtualAddress), SP(StorPortGetScatterGatherList), SP(StorPortGetLogicalUnit),
	SPRW(Register, Uchar), SPRW(Register, Ushort), SPRW(Register, Ulong),
	SPRW(Port, Uchar), SPRW(Port, Ushort), SPRW(Port, Ulong),
	SP(StorPortStallExecution), SP(StorPortMoveMemory), SP(StorPortQuerySystemTime),
	SP(StorPortDebugPrint), SP(StorPortLogError), SP(StorPortCompleteRequest),
	SP(StorPortConvertUlongToPhysicalAddress), SP(StorPortConvertPhysicalAddressToUlong),
	SP(StorPortSynchronizeAccess), SP(StorPortExtendedFunction), SP(StorPortRegistryRead),
	SP(StorPortRegistryWrite), SP(StorPortAllocateRegistryBuffer),
	SP(StorPortFreeRegistryBuffer), SP(StorPortValidateRange),
	SP(StorPortReady), SPX(StorPortResume, sp_true1),
	SP(StorPortBusy), SPX(StorPortPause, sp_true2),
	SP(StorPortDeviceBusy), SP(StorPortDeviceReady),
	SPX(StorPortPauseDevice, sp_true_dev), SPX(StorPortResumeDevice, sp_true_dev),
	SPX(StorPortSetDeviceQueueDepth, sp_true_dev),
	{ NULL, NULL, NULL },
};

/* ------------------------------------------------------------ adapter start */

#define STORM_LIMIT 100000

static void deliver_interrupt(void)
{
	static unsigned long unclaimed_run;
	nt_irql old;
	uint8_t mine;

	int_lock(&old);
	mine = sp.hw.HwInterrupt(sp.ext);
	int_unlock(old);
	__atomic_add_fetch(&sp.interrupts, 1, __ATOMIC_RELAXED);
	if (mine)
		__atomic_add_fetch(&sp.claimed, 1, __ATOMIC_RELAXED);
	/* A real level-triggered line that nobody acknowledges fires forever;
	 * Windows would flag an interrupt storm. Polling is exempt. */
	unclaimed_run = mine || !sp.uio ? 0 : unclaimed_run + 1;
	if (unclaimed_run > STORM_LIMIT)
		vh_fatal("interrupt storm: HwInterrupt returned FALSE %d times in a row on an "
			 "asserted INTx line", STORM_LIMIT);
}

/* One message: HwMSInterruptRoutine if the miniport gave one, else
 * HwInterrupt; all messages share the interrupt lock (the default
 * InterruptSupportNone synchronisation). */
static void deliver_message(uint32_t id)
{
	nt_irql old;
	uint8_t mine;

	msg_lock(id, &old);
	if (sp.cfg.HwMSInterruptRoutine)
		mine = sp.cfg.HwMSInterruptRoutine(sp.ext, id);
	else
		mine = sp.hw.HwInterrupt(sp.ext);
	msg_unlock(id, old);
	__atomic_add_fetch(&sp.interrupts, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sp.msg_interrupts[id], 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&sp.msg_cpus[id], 1u << (vh_cpu_current() & 31), __ATOMIC_RELAXED);
	if (mine) {
		__atomic_add_fetch(&sp.claimed, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sp.msg_claimed[id], 1, __ATOMIC_RELAXED);
	}
}

/* MSI-X: the thread of processor cpu waits for the messages aimed at it
 * (msg_cpu; perf options may change it after HwInitialize). */
static void msix_wait_cpu(unsigned cpu)
{
	uint32_t set = 0;
	int fired;

	for (uint32_t m = 0; m < sp.msi_count && m < SP_MAX_MSG; m++)
		if (msg_cpu(m) == cpu)
			set |= 1u << m;
	fired = pci_msix_wait_set(&sp.pci, set, 100);
	if (fired < 0)
		vh_fatal("waiting for MSI-X on vfio eventfds failed: %s", strerror(errno));
	for (uint32_t m = 0; fired > 0 && m < SP_MAX_MSG; m++)
		if (fired & (1 << m))
			deliver_message(m);
}

static void forced_reset_at_interrupt(void);

static void *irq_main(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;

	vh_set_irql(PASSIVE_LEVEL);
	while (!__atomic_load_n(&sp.stop, __ATOMIC_ACQUIRE)) {
		if (sp.msix) {
			msix_wait_cpu(cpu);
		} else if (sp.uio) {
			int r = pci_uio_wait(&sp.pci, 100);
			if (r < 0)
				vh_fatal("waiting for INTx on /dev/uio failed");
			if (r == 0)
				continue;
			forced_reset_at_interrupt();
			deliver_interrupt();
			pci_intx_unmask(&sp.pci);
		} else {
			/* Polling: a shared INTx line makes spurious calls legal,
			 * so HwInterrupt must cope with them anyway. */
			usleep(200);
			deliver_interrupt();
		}
	}
	return NULL;
}

int sp_start_adapter(const char *pci_spec, const char *irq_mode)
{
	uint8_t again = 0, line = 0;
	uint32_t r, n = 0;
	uint64_t phys;
	nt_irql old;

	if (!sp.registered) {
		vh_log("no StorPort miniport registered");
		return -1;
	}
	/* The dump stack connects no interrupt, and finds the device the
	 * crashed system left open. */
	sp.uio = !sp.dump && irq_mode && !strcmp(irq_mode, "uio");
	sp.msix = !sp.dump && irq_mode && !strcmp(irq_mode, "msix");
	if (!sp.dump && (pci_open(pci_spec, &sp.pci) || (sp.msix && pci_vfio_bind(&sp.pci)) ||
			 pci_enable(&sp.pci)))
		return -1;
	/* A line left masked by uio_pci_generic (an interrupt nobody took, as
	 * after a crash-dump run) would never fire again. */
	if (sp.uio && (pci_uio_bind(&sp.pci) || pci_intx_unmask(&sp.pci)))
		return -1;
	pci_cfg_read(&sp.pci, 0x3c, &line, 1);

	for (int i = 0; i < 6 && n < sp.hw.NumberOfAccessRanges; i++) {
		if (!sp.pci.bar[i].size)
			continue;
		sp.ranges[n].RangeStart = (int64_t)sp.pci.bar[i].phys;
		sp.ranges[n].RangeLength = (uint32_t)sp.pci.bar[i].size;
		sp.ranges[n].RangeInMemory = sp.pci.bar[i].mem;
		n++;
	}
	memset(&sp.cfg, 0, sizeof(sp.cfg));
	sp.cfg.Length = sizeof(sp.cfg);
	sp.cfg.SystemIoBusNumber = sp.pci.bus;
	sp.cfg.AdapterInterfaceType = PCI_BUS_INTERFACE;
	sp.cfg.BusInterruptLevel = line;
	sp.cfg.BusInterruptVector = line;
	sp.cfg.InterruptMode = 0; /* LevelSensitive */
	sp.cfg.MaximumTransferLength = SP_UNINITIALIZED;
	sp.cfg.NumberOfPhysicalBreaks = SP_UNINITIALIZED;
	sp.cfg.DmaChannel = SP_UNINITIALIZED;
	sp.cfg.DmaPort = SP_UNINITIALIZED;
	sp.cfg.NumberOfAccessRanges = sp.hw.NumberOfAccessRanges;
	sp.cfg.AccessRanges = sp.ranges;
	sp.cfg.NumberOfBuses = 1;
	memset(sp.cfg.InitiatorBusId, 0xff, sizeof(sp.cfg.InitiatorBusId));
	sp.cfg.Master = 1;
	sp.cfg.MapBuffers = sp.hw.MapBuffers;
	sp.cfg.NeedPhysicalAddresses = 1;
	sp.cfg.TaggedQueuing = sp.hw.TaggedQueuing;
	sp.cfg.AutoRequestSense = sp.hw.AutoRequestSense;
	sp.cfg.MultipleRequestPerLu = sp.hw.MultipleRequestPerLu;
	sp.cfg.MaximumNumberOfTargets = 1;
	sp.cfg.SlotNumber = (uint32_t)(sp.pci.slot | sp.pci.func << 5);
	sp.cfg.DeviceExtensionSize = sp.hw.DeviceExtensionSize;
	sp.cfg.SpecificLuExtensionSize = sp.hw.SpecificLuExtensionSize;
	sp.cfg.SrbExtensionSize = sp.hw.SrbExtensionSize;
	sp.cfg.MaximumNumberOfLogicalUnits = 1;
	if (sp.dump) {
		uint64_t pa;

		sp.dump_region = dma_alloc(SP_DUMP_REGION_SIZE, 4096, &pa);
		if (!sp.dump_region) {
			vh_log("dump mode: no DMA memory for the DumpRegion");
			return -1;
		}
		sp.cfg.DumpMode = sp.dump;
		sp.cfg.DumpRegion.VirtualBase = sp.dump_region;
		sp.cfg.DumpRegion.PhysicalBase = (int64_t)pa;
		sp.cfg.DumpRegion.Length = SP_DUMP_REGION_SIZE;
		sp.cfg.BusInterruptLevel = 0;
		sp.cfg.BusInterruptVector = 0;
	}

	sp.ext = dma_alloc(sp.hw.DeviceExtensionSize ? sp.hw.DeviceExtensionSize : 16, 4096, &phys);
	if (sp.hw.SpecificLuExtensionSize)
		sp.lu_ext = dma_alloc(sp.hw.SpecificLuExtensionSize, 16, &phys);
	if (!sp.ext || (sp.hw.SpecificLuExtensionSize && !sp.lu_ext)) {
		vh_log("cannot allocate the device extension");
		return -1;
	}
	nt_KeInitializeTimer(&sp.timer);
	nt_KeInitializeDpc(&sp.timer_dpc, sp_timer_trampoline, NULL);

	sp.in_find_or_init = true;
	/* A crash dump starts the adapter at the crash, interrupts off. */
	vh_set_irql(sp.dump ? HIGH_LEVEL : PASSIVE_LEVEL);
	r = sp.hw.HwFindAdapter(sp.ext, sp.hw_context, NULL, NULL, &sp.cfg, &again);
	vh_set_irql(PASSIVE_LEVEL);
	if (r != SP_RETURN_FOUND) {
		vh_log("HwFindAdapter returned %u (SP_RETURN_FOUND is 1)", r);
		sp.in_find_or_init = false;
		return -1;
	}
	if (sp.cfg.AccessRanges != sp.ranges)
		vh_fatal("HwFindAdapter replaced ConfigInfo->AccessRanges");
	vh_log("HwFindAdapter: found; MaximumTransferLength %#x, NumberOfPhysicalBreaks %#x, "
	       "SynchronizationModel %u, Dma64 %u", sp.cfg.MaximumTransferLength,
	       sp.cfg.NumberOfPhysicalBreaks, sp.cfg.SynchronizationModel, sp.cfg.Dma64BitAddresses);

	if (sp.msix) {
		int n = pci_msix_enable(&sp.pci, 8);
		if (n <= 0) {
			vh_log("MSI-X could not be enabled");
			return -1;
		}
		sp.msi_count = (unsigned)n;
		/* Two interrupt threads may poll one message while its processor
		 * changes (StorPortInitializePerfOpts): a read must never block. */
		for (unsigned m = 0; m < sp.msi_count; m++)
			fcntl(sp.pci.msix_fd[m], F_SETFL, fcntl(sp.pci.msix_fd[m], F_GETFL) | O_NONBLOCK);
		vh_log("MSI-X: %u messages through vfio", sp.msi_count);
	}
	if (sp.dump) {
		sp.stop = false;
		sp.irq_nthreads = 0;
		sp.started = true;
		vh_set_irql(HIGH_LEVEL);
		r = sp.hw.HwInitialize(sp.ext);
		vh_set_irql(PASSIVE_LEVEL);
		sp.in_find_or_init = false;
		if (!r) {
			vh_log("HwInitialize returned FALSE (dump mode)");
			return -1;
		}
		vh_log("dump mode %u: adapter started without interrupts; uncached extension %zu bytes",
		       sp.dump, sp.uncached_size);
		return 0;
	}
	/* Interrupts are connected before HwInitialize runs, as in Windows:
	 * MSI-X on one thread per processor, a line on one thread. */
	sp.stop = false;
	sp.irq_nthreads = sp.msix && vh_cpu_count() > 1 ? vh_cpu_count() : 1;
	for (unsigned c = 0; c < sp.irq_nthreads; c++) {
		static char names[VH_MAX_CPUS][16];
		snprintf(names[c], sizeof(names[c]), "interrupt%u", c);
		sp.irq_threads[c] = vh_thread_start_on(c ? names[c] : "interrupt", VH_STACK_SIZE,
						       irq_main, (void *)(uintptr_t)c,
						       sp.irq_nthreads > 1 ? (int)c : -1);
	}
	sp.started = true;
	int_lock(&old);
	r = sp.hw.HwInitialize(sp.ext);
	int_unlock(old);
	sp.in_find_or_init = false;
	if (!r) {
		vh_log("HwInitialize returned FALSE");
		return -1;
	}
	if (sp.passive) {
		vh_set_irql(PASSIVE_LEVEL);
		if (!sp.passive(sp.ext)) {
			vh_log("HwPassiveInitializeRoutine returned FALSE");
			return -1;
		}
	}
	return 0;
}

uint32_t sp_max_transfer(void)
{
	return sp.cfg.MaximumTransferLength;
}

unsigned long sp_interrupts(unsigned long *claimed)
{
	if (claimed)
		*claimed = __atomic_load_n(&sp.claimed, __ATOMIC_RELAXED);
	return __atomic_load_n(&sp.interrupts, __ATOMIC_RELAXED);
}

/* Each SRB carries room for the SRB_EX the port may build from it, then
 * its SrbExtension: all DMA memory. */
sp_srb *sp_alloc_srb(void)
{
	uint64_t phys;
	sp_srb *srb = dma_alloc(sizeof(*srb) + sizeof(sp_srbex_block) + sp.hw.SrbExtensionSize, 64,
				&phys);

	if (!srb)
		return NULL;
	srb->Length = sizeof(*srb);
	if (sp.hw.SrbExtensionSize)
		srb->SrbExtension = (uint8_t *)(srb + 1) + sizeof(sp_srbex_block);
	return srb;
}

void sp_free_srb(sp_srb *srb)
{
	dma_free(srb);
}

int sp_use_srb_ex(bool on)
{
	if (on && (sp.hw.HwInitializationDataSize < offsetof(sp_hw_init_data, Reserved1) ||
		   !(sp.hw.SrbTypeFlags & SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK))) {
		vh_log("SRB_EX refused: the miniport did not declare SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK "
		       "(HwInitializationDataSize %u, SrbTypeFlags %#x)", sp.hw.HwInitializationDataSize,
		       sp.hw.SrbTypeFlags);
		return -1;
	}
	if (on && !(sp.hw.AddressTypeFlags & ADDRESS_TYPE_FLAG_BTL8)) {
		vh_log("SRB_EX refused: AddressTypeFlags %#x lacks ADDRESS_TYPE_FLAG_BTL8",
		       sp.hw.AddressTypeFlags);
		return -1;
	}
	sp.srb_ex = on;
	return 0;
}

bool sp_srb_ex_active(void)
{
	return sp.srb_ex;
}

/* What the miniport gets for o: its classic SRB reset to the issued
 * state, or an SRB_EX built from it (header, BTL8 address, CDB block). */
static void *prepare(struct outstanding *o)
{
	sp_srb *srb = o->srb;
	sp_srbex_block *b;
	uint32_t cdbsize;

	srb->SrbStatus = SRB_STATUS_PENDING;
	srb->Length = sizeof(*srb);
	srb->DataTransferLength = o->length;
	if (!o->ex)
		return srb;
	b = srbex_of(srb);
	cdbsize = o->cdb32 ? SP_SRBEX_CDB32_SIZE : SP_SRBEX_CDB16_SIZE;
	memset(b, 0, sizeof(*b));
	b->h.Length = 8; /* sizeof(STORAGE_REQUEST_BLOCK_HEADER), x64 */
	b->h.Function = SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
	b->h.SrbStatus = SRB_STATUS_PENDING;
	b->h.Signature = SRB_SIGNATURE;
	b->h.Version = STORAGE_REQUEST_BLOCK_VERSION_1;
	b->h.SrbFunction = srb->Function;
	b->h.SrbFlags = srb->SrbFlags;
	b->h.RequestTag = srb->QueueTag;
	b->h.TimeOutValue = srb->TimeOutValue;
	b->h.DataTransferLength = srb->DataTransferLength;
	b->h.DataBuffer = srb->DataBuffer;
	b->h.OriginalRequest = srb->OriginalRequest;
	b->h.MiniportContext = srb->SrbExtension;
	b->h.AddressOffset = offsetof(sp_srbex_block, addr);
	b->addr.Type = STOR_ADDRESS_TYPE_BTL8;
	b->addr.AddressLength = 4;
	b->addr.Path = srb->PathId;
	b->addr.Target = srb->TargetId;
	b->addr.Lun = srb->Lun;
	b->h.SrbLength = offsetof(sp_srbex_block, cdb);
	/* Only a SCSI request carries a CDB block. */
	if (srb->Function == SRB_FUNCTION_EXECUTE_SCSI) {
		b->h.NumSrbExData = 1;
		b->h.SrbExDataOffset[0] = offsetof(sp_srbex_block, cdb);
		b->h.SrbLength += cdbsize;
		b->cdb.Type = o->cdb32 ? SRBEX_DATA_TYPE_SCSI_CDB32 : SRBEX_DATA_TYPE_SCSI_CDB16;
		b->cdb.Length = cdbsize - 8;
		b->cdb.SenseInfoBuffer = srb->SenseInfoBuffer;
		b->cdb.SenseInfoBufferLength = srb->SenseInfoBufferLength;
		if (o->cdb32) {
			b->cdb.CdbLength = 32;
			memcpy(b->cdb.Cdb, o->cdb32, 32);
		} else {
			b->cdb.CdbLength = srb->CdbLength;
			memcpy(b->cdb.Cdb, srb->Cdb, srb->CdbLength <= 16 ? srb->CdbLength : 16);
		}
	}
	return b;
}

/* HwBuildIo, then HwStartIo under the port's locks, at DISPATCH_LEVEL. */
static void issue(struct outstanding *o)
{
	nt_irql irql = vh_irql(), old, old2 = 0;
	unsigned before;
	uint64_t gen;
	void *mp;

	pthread_mutex_lock(&sp.mu);
	mp = o->mp = prepare(o);
	before = o->completions;
	gen = o->gen;
	pthread_mutex_unlock(&sp.mu);

	vh_set_irql(sp.dump ? HIGH_LEVEL : DISPATCH_LEVEL);
	if (!sp.hw.HwBuildIo || sp.hw.HwBuildIo(sp.ext, mp)) {
		/* The dump port has one thread and takes no locks. */
		if (!sp.dump)
			startio_enter(&old, &old2, true);
		sp.hw.HwStartIo(sp.ext, mp);
		if (!sp.dump)
			startio_leave(old, old2, true);
	} else {
		/* HwBuildIo returning FALSE means the miniport completed it;
		 * by now the issuer may have reused the slot (gen). */
		pthread_mutex_lock(&sp.mu);
		if (o->gen == gen && o->completions == before)
			vh_fatal("HwBuildIo returned FALSE without completing SRB %p", mp);
		pthread_mutex_unlock(&sp.mu);
	}
	vh_set_irql(irql);
}

/* The port's queue: requests held back while busy, and those the miniport
 * completed with SRB_STATUS_BUSY, oldest first. Runs as a DPC. */
static void NTAPI resume_dpc(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	for (int n = 0; n < SP_MAX_OUTSTANDING; n++) {
		struct outstanding *o = NULL;

		pthread_mutex_lock(&sp.mu);
		for (int i = 0; i < SP_MAX_OUTSTANDING && !held_back_locked(); i++)
			if (sp.out[i].state == OS_HELD && (!o || sp.out[i].seq < o->seq))
				o = &sp.out[i];
		if (o) {
			o->state = OS_ISSUED;
			o->issued_ns = vh_now_ns();
			if (o->retries)
				sp.stats.resubmissions++;
		}
		pthread_mutex_unlock(&sp.mu);
		if (!o)
			return;
		issue(o);
	}
	/* Still more: let other DPCs run first. */
	pthread_mutex_lock(&sp.mu);
	resume_soon();
	pthread_mutex_unlock(&sp.mu);
}

/* ---- timeouts: HwResetBus as StorPort calls it ---- */
static unsigned sp_force_reset, sp_force_count;

void sp_set_force_reset(unsigned n)
{
	sp_force_reset = n;
}

unsigned sp_force_reset_every(void)
{
	return sp_force_reset;
}

/* Called without sp.mu, at PASSIVE_LEVEL. Resets are serialised: a second
 * timeout found while one runs waits for it. */
static void bus_reset(const sp_srb *late, const char *why)
{
	static pthread_mutex_t reset_mu = PTHREAD_MUTEX_INITIALIZER;
	nt_irql irql = vh_irql(), old, old2 = 0;
	uint64_t start;
	uint8_t ok;

	pthread_mutex_lock(&reset_mu);
	start = vh_now_ns();
	vh_log("storport: SRB %p (CDB %#x) timed out, %s: HwResetBus", (const void *)late, late->Cdb[0],
	       why);
	vh_set_irql(DISPATCH_LEVEL);
	startio_enter(&old, &old2, false);
	ok = sp.hw.HwResetBus(sp.ext, late->PathId);
	startio_leave(old, old2, false);
	vh_set_irql(irql);
	if (!ok)
		vh_fatal("HwResetBus(path %u) returned FALSE", late->PathId);
	pthread_mutex_lock(&sp.mu);
	sp.stats.bus_resets++;
	/* Everything the miniport had before the reset must be back. */
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].state == OS_ISSUED && sp.out[i].issued_ns < start)
			vh_fatal("HwResetBus returned with SRB %p (CDB %#x) still in the miniport: after a "
				 "bus reset every outstanding request must be completed",
				 (void *)sp.out[i].srb, sp.out[i].srb->Cdb[0]);
	pthread_mutex_unlock(&sp.mu);
	pthread_mutex_unlock(&reset_mu);
}

/* --force-reset: at every n-th INTx, before the miniport sees it, the
 * oldest request is declared late. The device has finished requests that
 * the miniport has not collected yet: the reset must complete those too. */
static void forced_reset_at_interrupt(void)
{
	const struct outstanding *oldest = NULL;
	sp_srb *srb = NULL;

	if (!sp_force_reset || ++sp_force_count % sp_force_reset)
		return;
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].state == OS_ISSUED && (!oldest || sp.out[i].issued_ns < oldest->issued_ns))
			oldest = &sp.out[i];
	if (oldest)
		srb = oldest->srb;
	pthread_mutex_unlock(&sp.mu);
	if (srb)
		bus_reset(srb, "forced at an interrupt (--force-reset)");
}

/* With sp.mu held, while an issuer waits: the oldest request past its
 * TimeOutValue, or NULL. */
static sp_srb *timed_out_locked(void)
{
	uint64_t now = vh_now_ns();

	for (int i = 0; i < SP_MAX_OUTSTANDING; i++) {
		const struct outstanding *o = &sp.out[i];

		if (o->state == OS_ISSUED && o->srb->TimeOutValue &&
		    now - o->issued_ns > (uint64_t)o->srb->TimeOutValue * 1000000000ull)
			return o->srb;
	}
	return NULL;
}

static void submit(sp_srb *srb, const uint8_t *cdb32)
{
	struct outstanding *o = NULL;
	bool held = false;

	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING && !o; i++)
		if (sp.out[i].state == OS_FREE)
			o = &sp.out[i];
	if (!o)
		vh_fatal("too many outstanding SRBs");
	for (int i = 0; sp.dump && i < SP_MAX_OUTSTANDING; i++)
		if (sp.out[i].state != OS_FREE)
			vh_fatal("dump mode: a second request while SRB %p is outstanding (the dump "
				 "port sends one at a time)", (void *)sp.out[i].srb);
	*o = (struct outstanding){ .srb = srb, .mp = srb, .ex = sp.srb_ex, .cdb32 = cdb32,
				   .length = srb->DataTransferLength, .gen = ++sp.gen };
	srb->SrbStatus = SRB_STATUS_PENDING;
	/* Busy, or older requests still queued in the port: wait behind them. */
	for (int i = 0; i < SP_MAX_OUTSTANDING && !held; i++)
		held = sp.out[i].state == OS_HELD;
	if (held || held_back_locked()) {
		o->state = OS_HELD;
		o->seq = ++sp.seq;
		sp.stats.held++;
		if (!held_back_locked())
			retry_later();
		pthread_mutex_unlock(&sp.mu);
		return;
	}
	o->state = OS_ISSUED;
	o->issued_ns = vh_now_ns();
	pthread_mutex_unlock(&sp.mu);
	issue(o);
	vh_set_irql(PASSIVE_LEVEL);
}

void sp_submit(sp_srb *srb)
{
	submit(srb, NULL);
}

/* Called with mu held, while an issuer waits: a LUN or adapter held busy
 * with no request in the miniport waits for completions that never come,
 * and Windows would hang there. */
static void busy_watch_locked(void)
{
	bool issued = false;
	uint64_t now;

	if (!held_back_locked()) {
		sp.busy_idle_since = 0;
		return;
	}
	for (int i = 0; i < SP_MAX_OUTSTANDING && !issued; i++)
		issued = sp.out[i].state == OS_ISSUED;
	now = vh_now_ns();
	if (issued) {
		sp.busy_idle_since = 0;
	} else if (!sp.busy_idle_since) {
		sp.busy_idle_since = now;
	} else if (now - sp.busy_idle_since > SP_BUSY_IDLE_NS) {
		vh_fatal("%s busy (StorPort%sBusy, %u more completions wanted) with no request "
			 "outstanding in the miniport for %llu s: nothing can complete to make it ready "
			 "(a hang on Windows)", sp.lun_busy ? "LUN 0:0:0" : "adapter",
			 sp.lun_busy ? "Device" : "", sp.lun_busy ? sp.lun_left : sp.adapter_left,
			 (unsigned long long)(SP_BUSY_IDLE_NS / 1000000000ull));
	}
}

uint8_t sp_wait(sp_srb *srb, unsigned timeout_ms)
{
	uint64_t deadline = vh_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct outstanding *o = NULL;
	bool done;

	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING && !o; i++)
		if (sp.out[i].state != OS_FREE && sp.out[i].srb == srb)
			o = &sp.out[i];
	if (!o)
		vh_fatal("sp_wait(%p): SRB was never submitted", (void *)srb);
	/* Dump mode: nothing else runs; the port polls HwInterrupt at
	 * HIGH_LEVEL between short stalls until the request completes. */
	while (sp.dump && o->state != OS_DONE && vh_now_ns() < deadline) {
		nt_irql irql = vh_irql();

		pthread_mutex_unlock(&sp.mu);
		vh_set_irql(HIGH_LEVEL);
		if (sp.hw.HwInterrupt(sp.ext))
			__atomic_add_fetch(&sp.claimed, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sp.interrupts, 1, __ATOMIC_RELAXED);
		nt_KeStallExecutionProcessor(SP_DUMP_POLL_US);
		vh_set_irql(irql);
		pthread_mutex_lock(&sp.mu);
	}
	/* Short slices: the busy watch runs while the issuer waits. */
	while (o->state != OS_DONE && vh_now_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sp.cv, &sp.mu, &ts);
		busy_watch_locked();
		if (!sp.dump) {
			sp_srb *late = timed_out_locked();

			if (late) {
				pthread_mutex_unlock(&sp.mu);
				bus_reset(late, "TimeOutValue passed");
				pthread_mutex_lock(&sp.mu);
			}
		}
	}
	done = o->state == OS_DONE;
	if (!done)
		vh_fatal("SRB %p (function %#x, CDB %#x) not completed within %u ms (%s)", (void *)srb,
			 srb->Function, srb->Cdb[0], timeout_ms,
			 o->state == OS_HELD ? "still queued in the port" : "in the miniport");
	free(o->sg);
	*o = (struct outstanding){ .state = OS_FREE };
	pthread_mutex_unlock(&sp.mu);
	return srb->SrbStatus;
}

uint8_t sp_execute(sp_srb *srb, unsigned timeout_ms)
{
	sp_submit(srb);
	return sp_wait(srb, timeout_ms);
}

uint8_t sp_execute_cdb32(sp_srb *srb, const uint8_t cdb[32], unsigned timeout_ms)
{
	if (!sp.srb_ex)
		vh_fatal("sp_execute_cdb32: a 32-byte CDB needs SRB_EX mode");
	srb->Function = SRB_FUNCTION_EXECUTE_SCSI;
	srb->CdbLength = 16; /* the classic SRB keeps the first 16 bytes */
	memcpy(srb->Cdb, cdb, 16);
	submit(srb, cdb);
	return sp_wait(srb, timeout_ms);
}

/* The crash: the live adapter's interrupts stop (other processors are
 * frozen, queued DPCs have run), its requests stay in the device, and the
 * dump stack's copy of the miniport takes over the device: DriverEntry(NULL,
 * NULL) at HIGH_LEVEL, then the adapter start in dump mode. */
int sp_crash_freeze(void)
{
	if (!sp.started || !sp.dump_pending || !sp.dump_entry || sp.dump) {
		vh_log("crash to dump: needs a running adapter, a dump mode and the entry point");
		return -1;
	}
	__atomic_store_n(&sp.stop, true, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < sp.irq_nthreads; c++)
		vh_thread_join(sp.irq_threads[c]);
	sp.irq_nthreads = 0;
	nt_KeCancelTimer(&sp.timer);
	nt_KeCancelTimer(&sp.retry_timer);
	if (!vh_sched_idle(5000)) {
		vh_log("crash to dump: DPCs of the live adapter still running after 5 s");
		return -1;
	}
	return 0;
}

int sp_crash_to_dump(void)
{
	unsigned lost = 0;
	nt_status st;

	if (sp.irq_nthreads && sp_crash_freeze())
		return -1;
	if (!sp.started || !sp.dump_pending || !sp.dump_entry || sp.dump)
		return -1;
	pthread_mutex_lock(&sp.mu);
	for (int i = 0; i < SP_MAX_OUTSTANDING; i++) {
		if (sp.out[i].state == OS_ISSUED || sp.out[i].state == OS_HELD)
			lost++;
		/* Their buffers stay allocated: the device may still write them. */
		sp.out[i] = (struct outstanding){ .state = OS_FREE };
	}
	sp.lun_busy = sp.adapter_busy = false;
	sp.lun_left = sp.adapter_left = 0;
	sp.busy_idle_since = 0;
	sp.srb_ex = false;
	pthread_mutex_unlock(&sp.mu);
	/* Everything the live instance had stays where it was; the copy
	 * starts from nothing. */
	sp.registered = sp.started = false;
	sp.ext = sp.lu_ext = sp.uncached = NULL;
	sp.uncached_size = 0;
	sp.passive = NULL;
	sp.timer_fn = NULL;
	sp.perf_flags = sp.channels = sp.redir_first = sp.redir_last = 0;
	sp.msi_count = 0;
	sp.uio = sp.msix = false;
	sp.interrupts = sp.claimed = 0;
	sp.dump = sp.dump_pending;
	vh_log("crash: %u request(s) left in the device; the dump stack's copy of the miniport "
	       "starts (DumpMode %u)", lost, sp.dump);
	sp.reentering = true;
	vh_set_irql(HIGH_LEVEL);
	st = sp.dump_entry(sp.dump_entry_ctx);
	vh_set_irql(PASSIVE_LEVEL);
	sp.reentering = false;
	if (st < 0 || !sp.registered) {
		vh_log("crash to dump: DriverEntry(NULL, NULL) returned %#x%s", (uint32_t)st,
		       sp.registered ? "" : " without StorPortInitialize");
		return -1;
	}
	return sp_start_adapter(NULL, NULL) ? -1 : (int)lost;
}

void sp_stop_adapter(void)
{
	if (!sp.started)
		return;
	__atomic_store_n(&sp.stop, true, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < sp.irq_nthreads; c++)
		vh_thread_join(sp.irq_threads[c]);
	nt_KeCancelTimer(&sp.timer);
	nt_KeCancelTimer(&sp.retry_timer);
	sp.started = false;
}
