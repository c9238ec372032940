/* The test host's internal interfaces: kernel-service emulation shared by
 * vdphost (runs a .sys) and the host unit tests. */
#ifndef VMHOST_VMHOST_H
#define VMHOST_VMHOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nt_abi.h"
#include "pe_image.h"

/* ---- exports: lookup across every emulated module ---- */
extern const struct nt_export nt_kernel_exports[];
extern const struct nt_export nd_exports[]; /* ndis.sys (nt_ndis.c) */
void *vh_resolve(const char *module, const char *name, void *ctx);
/* Make another module's table (e.g. storport.sys) resolvable. */
void vh_add_exports(const struct nt_export *table);

/* ---- logging: everything the host says goes to stderr unless TAP ---- */
void vh_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fatal error from emulated code: print, report not-ok, exit. */
void vh_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- DbgPrint formatter (ms_abi varargs) ---- */
/* Formats like Windows' DbgPrint; never writes more than size bytes,
 * always terminates, returns the length written. */
size_t nt_format(char *out, size_t size, const char *fmt, __builtin_ms_va_list *ap);

/* ---- IRQL and privileged-instruction emulation ---- */
nt_irql vh_irql(void);
/* Set the calling thread's IRQL, pinning it to its CPU at DISPATCH_LEVEL
 * or above (see processors below). */
void vh_set_irql(nt_irql irql);
/* The bare per-thread store (nt_trap.c); only vh_set_irql calls it. */
void vh_irql_store(nt_irql irql);
/* Install SIGSEGV/SIGILL handlers that emulate CR8 moves, cli/sti and
 * reads of KUSER_SHARED_DATA, and report real faults. */
void vh_trap_init(void);
unsigned long vh_trap_count(void);
/* Image used to name fault locations (may be NULL). */
void vh_trap_set_image(const struct pe_image *img);

/* ---- spin locks: owner-checked; fatal on recursion or foreign release ---- */
void vh_spin_acquire(nt_kspin_lock *lock, const char *who);
void vh_spin_release(nt_kspin_lock *lock, const char *who);
void NTAPI nt_KeStallExecutionProcessor(uint32_t us);
void NTAPI nt_KeQuerySystemTimePrecise(int64_t *t);

/* ---- host threads that run driver code (painted, guarded stacks) ---- */
#define VH_STACK_SIZE (128u * 1024)
void vh_trap_thread_init(void); /* signal stack for the calling thread */
int vh_thread_start(const char *name, size_t stack, void *(*fn)(void *), void *arg);
/* The same, the thread bound to processor cpu from its first instruction. */
int vh_thread_start_on(const char *name, size_t stack, void *(*fn)(void *), void *arg, int cpu);
void *vh_thread_join(int id);
size_t vh_thread_stack_used(int id);
#define VH_STACK_BUDGET (32u * 1024)
/* Prints each thread's deepest stack use; returns how many exceeded
 * VH_STACK_BUDGET (each also printed as a "not ok"). */
int vh_stack_report(void);
/* True if addr is in the guard page below one of those stacks. */
bool vh_is_stack_guard(const void *addr);

/* ---- processors (nt_kernel.c) ----
 * Windows processor numbers 0..n-1 are the CPUs this process may run on
 * (sched_getaffinity), group 0. Code at DISPATCH_LEVEL or above must not
 * change processor: vh_set_irql pins an unbound thread to its current CPU
 * while it is at or above DISPATCH_LEVEL; per-CPU threads are bound. */
#define VH_MAX_CPUS 64
unsigned vh_cpu_count(void);
/* Processor the calling thread runs on now. */
unsigned vh_cpu_current(void);
/* Bind the calling thread to processor n for good (n < 0: unbind). */
void vh_cpu_bind(int n);

/* ---- pool ---- */
/* Number of pool blocks still allocated; prints each when report. */
size_t vh_pool_leaks(bool report);

/* ---- DMA-able memory ---- */
/* real: hugepages with physical addresses from /proc/self/pagemap (guest);
 * otherwise ordinary memory with fake physical addresses (host tests). */
int dma_pool_init(bool real, size_t bytes);
void *dma_alloc(size_t size, size_t align, uint64_t *phys);
void dma_free(void *va);
/* Physical address of va if it lies in the pool. */
bool dma_phys(const void *va, uint64_t *phys);
bool dma_virt(uint64_t phys, void **va);
/* Bytes from va to the end of its (physically contiguous) allocation. */
size_t dma_contig(const void *va);
/* Chunk i of the pool (for IOMMU mappings); false past the last. */
bool dma_chunk(unsigned i, void **va, uint64_t *phys, size_t *len);

/* ---- I/O space: physical MMIO windows (PCI BARs) ---- */
int io_add_window(uint64_t phys, uint64_t size, void *va);
void *io_lookup(uint64_t phys, uint64_t size);
/* True if [va, va+size) lies inside a registered window. */
bool io_contains(const volatile void *va, size_t size);

/* ---- deferred execution: DPCs, timers, work items ---- */
void vh_sched_start(void);
/* Wait until no DPC, due timer or work item is pending (bounded). */
bool vh_sched_idle(unsigned timeout_ms);
void vh_sched_stop(void);

uint64_t vh_now_ns(void);

/* Kernel entry points implemented in nt_sched.c. */
void NTAPI nt_KeInitializeDpc(nt_kdpc *dpc, nt_deferred_routine *fn, void *ctx);
uint8_t NTAPI nt_KeInsertQueueDpc(nt_kdpc *dpc, void *a1, void *a2);
uint8_t NTAPI nt_KeRemoveQueueDpc(nt_kdpc *dpc);
void NTAPI nt_KeFlushQueuedDpcs(void);
void NTAPI nt_KeSetImportanceDpc(nt_kdpc *dpc, uint32_t importance);
void NTAPI nt_KeSetTargetProcessorDpc(nt_kdpc *dpc, int8_t number);
nt_status NTAPI nt_KeSetTargetProcessorDpcEx(nt_kdpc *dpc, nt_processor_number *pn);
void NTAPI nt_KeInitializeTimer(nt_ktimer *t);
void NTAPI nt_KeInitializeTimerEx(nt_ktimer *t, uint32_t type);
uint8_t NTAPI nt_KeSetTimer(nt_ktimer *t, int64_t due, nt_kdpc *dpc);
uint8_t NTAPI nt_KeSetTimerEx(nt_ktimer *t, int64_t due, int32_t period_ms, nt_kdpc *dpc);
uint8_t NTAPI nt_KeCancelTimer(nt_ktimer *t);
uint8_t NTAPI nt_KeReadStateTimer(nt_ktimer *t);
void NTAPI nt_KeInitializeEvent(nt_kevent *e, uint32_t type, uint8_t state);
int32_t NTAPI nt_KeSetEvent(nt_kevent *e, int32_t increment, uint8_t wait);
int32_t NTAPI nt_KeResetEvent(nt_kevent *e);
void NTAPI nt_KeClearEvent(nt_kevent *e);
int32_t NTAPI nt_KeReadStateEvent(nt_kevent *e);
nt_status NTAPI nt_KeWaitForSingleObject(void *obj, uint32_t reason, int8_t mode, uint8_t alertable,
					 int64_t *timeout);
nt_list_entry *NTAPI nt_ExInterlockedInsertHeadList(nt_list_entry *head, nt_list_entry *e,
						    nt_kspin_lock *lock);
nt_list_entry *NTAPI nt_ExInterlockedInsertTailList(nt_list_entry *head, nt_list_entry *e,
						    nt_kspin_lock *lock);
nt_list_entry *NTAPI nt_ExInterlockedRemoveHeadList(nt_list_entry *head, nt_kspin_lock *lock);
void *NTAPI nt_IoAllocateWorkItem(void *device);
void NTAPI nt_IoFreeWorkItem(void *item);
void NTAPI nt_IoQueueWorkItem(void *item, void *routine, uint32_t queue, void *ctx);

#endif
