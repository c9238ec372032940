/* Host unit tests for the VM test host: DbgPrint formatting, the PE loader
 * against good and deliberately malformed images, the kernel-service
 * emulation and vdphost's verdicts on misbehaving drivers.
 * Environment: VDP_VMHOST_SYS (dir with hello.sys, faulty.sys,
 * unresolved.sys) and VDP_VDPHOST (the vdphost binary). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nt_storport.h"
#include "vmhost.h"

/* ------------------------------------------------------------ helpers */

static const char *sys_dir(void)
{
	const char *d = getenv("VDP_VMHOST_SYS");
	return d ? d : "out/x64/vmhost";
}

static uint8_t *load_file(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", sys_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (set VDP_VMHOST_SYS)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* Offsets into a PE32+ file, found independently of the loader. */
struct layout {
	size_t coff, opt, sect;
	unsigned nsect;
};

static struct layout layout_of(const uint8_t *f)
{
	struct layout l;

	l.coff = get32(f + 0x3c) + 4;
	l.opt = l.coff + 20;
	l.nsect = get16(f + l.coff + 2);
	l.sect = l.opt + get16(f + l.coff + 16);
	return l;
}

static size_t rva_to_off(const uint8_t *f, uint32_t rva)
{
	struct layout l = layout_of(f);

	for (unsigned i = 0; i < l.nsect; i++) {
		const uint8_t *s = f + l.sect + 40 * i;
		uint32_t va = get32(s + 12), raw = get32(s + 16), ptr = get32(s + 20);
		if (rva >= va && rva < va + raw)
			return ptr + (rva - va);
	}
	fail_msg("rva 0x%x not in file", rva);
	return 0;
}

static uint32_t dir_rva(const uint8_t *f, unsigned i)
{
	return get32(f + layout_of(f).opt + 112 + 8 * i);
}

/* ------------------------------------------------------------ formatter */

static size_t NTAPI fmt(char *buf, size_t n, const char *f, ...)
{
	__builtin_ms_va_list ap;
	size_t r;

	__builtin_ms_va_start(ap, f);
	r = nt_format(buf, n, f, &ap);
	__builtin_ms_va_end(ap);
	return r;
}

static void test_format(void **state)
{
	char b[256];
	uint16_t w[] = { 'w', 'i', 'd', 'e', 0 };
	nt_unicode_string us = { 8, 10, 0, w };
	nt_ansi_string as = { 3, 4, 0, (char *)"abcdef" };

	(void)state;
	fmt(b, sizeof(b), "%d %u %x %X %i", -5, 7u, 0xabcu, 0xabcu, 3);
	assert_string_equal(b, "-5 7 abc ABC 3");
	/* LLP64: %lx is 32-bit, I64/ll are 64-bit, I and z are pointer-sized. */
	fmt(b, sizeof(b), "%lx %I64x %llx %Ix %zu", 0x100000005ull, 0x100000005ull,
	    0x100000005ull, 0x100000005ull, (size_t)12);
	assert_string_equal(b, "5 100000005 100000005 100000005 12");
	fmt(b, sizeof(b), "%I64d %lld", (int64_t)-1234567890123, (int64_t)-2);
	assert_string_equal(b, "-1234567890123 -2");
	fmt(b, sizeof(b), "%p", (void *)0x1234abcd);
	assert_string_equal(b, "000000001234ABCD");
	fmt(b, sizeof(b), "%s|%S|%ws|%wZ|%Z|%c", "nar", w, w, &us, &as, 'q');
	assert_string_equal(b, "nar|wide|wide|wide|abc|q");
	fmt(b, sizeof(b), "[%5d][%-5d][%05d][%.3s][%#x][%%]", 42, 42, 42, "abcdef", 255u);
	assert_string_equal(b, "[   42][42   ][00042][abc][0xff][%]");
	fmt(b, sizeof(b), "%s %ws %wZ", (char *)NULL, (uint16_t *)NULL, (void *)NULL);
	assert_string_equal(b, "(null) (null) (null)");
	fmt(b, sizeof(b), "%hd %hhu", 0x12345, 0x1ff);
	assert_string_equal(b, "9029 255");
	/* Unknown conversions show literally; truncation always terminates. */
	fmt(b, sizeof(b), "%q!", 1);
	assert_string_equal(b, "%q!");
	assert_int_equal(fmt(b, 6, "%s", "overflowing"), 5);
	assert_string_equal(b, "overf");
}

/* ------------------------------------------------------------ PE loader */

static void test_pe_good(void **state)
{
	struct pe_image img;
	char err[256];
	size_t len;
	uint8_t *f = load_file("hello.sys", &len);
	int n;

	(void)state;
	assert_int_equal(pe_load(&img, f, len, err, sizeof(err)), 0);
	assert_true(img.base != NULL);
	/* Mapped away from the preferred base, so fixups were applied. */
	assert_true((uint64_t)(uintptr_t)img.base != img.image_base);
	assert_int_equal(img.relocs_applied, 2);
	assert_int_equal(img.subsystem, 1); /* native */
	n = pe_bind_imports(&img, vh_resolve, NULL, stderr, err, sizeof(err));
	assert_int_equal(n, 0);
	assert_int_equal(pe_protect(&img, err, sizeof(err)), 0);
	assert_null(pe_export(&img, "NoSuchExport"));
	pe_unload(&img);
	free(f);
}

static void test_pe_unresolved(void **state)
{
	struct pe_image img;
	char err[256], *text = NULL;
	size_t len, tlen = 0;
	uint8_t *f = load_file("unresolved.sys", &len);
	FILE *rep = open_memstream(&text, &tlen);

	(void)state;
	assert_int_equal(pe_load(&img, f, len, err, sizeof(err)), 0);
	/* Every missing import is reported, not only the first. */
	assert_int_equal(pe_bind_imports(&img, vh_resolve, NULL, rep, err, sizeof(err)), 3);
	fclose(rep);
	assert_non_null(strstr(text, "ntoskrnl.exe!IoCreateSymbolicLink"));
	assert_non_null(strstr(text, "ntoskrnl.exe!IoDeleteSymbolicLink"));
	assert_non_null(strstr(text, "ntoskrnl.exe!ObReferenceObjectByHandle"));
	free(text);
	pe_unload(&img);
	free(f);
}

typedef void mutate_fn(uint8_t *f, size_t *len);

struct bad_case {
	const char *what;
	mutate_fn *mutate;
	const char *expect; /* substring of the error */
	bool at_bind;       /* detected while binding imports */
};

static void m_truncated(uint8_t *f, size_t *len) { (void)f; *len = 40; }
static void m_no_mz(uint8_t *f, size_t *len) { (void)len; f[1] = 'X'; }
static void m_lfanew(uint8_t *f, size_t *len) { put32(f + 0x3c, (uint32_t)*len); }
static void m_pe_sig(uint8_t *f, size_t *len) { (void)len; f[get32(f + 0x3c) + 1] = 'X'; }
static void m_machine(uint8_t *f, size_t *len) { (void)len; put16(f + layout_of(f).coff, 0x14c); }
static void m_magic(uint8_t *f, size_t *len) { (void)len; put16(f + layout_of(f).opt, 0x10b); }
static void m_nsect0(uint8_t *f, size_t *len) { (void)len; put16(f + layout_of(f).coff + 2, 0); }
static void m_nsect_big(uint8_t *f, size_t *len) { (void)len; put16(f + layout_of(f).coff + 2, 500); }
static void m_salign(uint8_t *f, size_t *len) { (void)len; put32(f + layout_of(f).opt + 32, 0x800); }
static void m_hdrsize(uint8_t *f, size_t *len) { put32(f + layout_of(f).opt + 60, (uint32_t)*len + 1); }
static void m_imgsize(uint8_t *f, size_t *len) { (void)len; put32(f + layout_of(f).opt + 56, 0x1000); }
static void m_raw_outside(uint8_t *f, size_t *len)
{
	put32(f + layout_of(f).sect + 40 + 20, (uint32_t)*len - 16);
}
static void m_overlap(uint8_t *f, size_t *len)
{
	struct layout l = layout_of(f);
	(void)len;
	put32(f + l.sect + 40 + 12, get32(f + l.sect + 12));
}
static void m_sect_outside(uint8_t *f, size_t *len)
{
	struct layout l = layout_of(f);
	(void)len;
	put32(f + l.sect + 40 * (l.nsect - 1) + 8, 0x10000000);
}
static void m_dir_outside(uint8_t *f, size_t *len)
{
	(void)len;
	put32(f + layout_of(f).opt + 112 + 8 * 1, 0x7ffff000);
}
static void m_entry(uint8_t *f, size_t *len)
{
	struct layout l = layout_of(f);
	(void)len;
	/* Point the entry into .rdata (the second section), not code. */
	put32(f + l.opt + 16, get32(f + l.sect + 40 + 12));
}
static void m_reloc_size(uint8_t *f, size_t *len)
{
	(void)len;
	put32(f + rva_to_off(f, dir_rva(f, 5)) + 4, 3);
}
static void m_reloc_type(uint8_t *f, size_t *len)
{
	size_t off = rva_to_off(f, dir_rva(f, 5));
	(void)len;
	put16(f + off + 8, (uint16_t)(5u << 12 | (get16(f + off + 8) & 0xfff)));
}
static void m_reloc_page(uint8_t *f, size_t *len)
{
	(void)len;
	put32(f + rva_to_off(f, dir_rva(f, 5)), 0x7fff0000);
}
static void m_import_module(uint8_t *f, size_t *len)
{
	(void)len;
	put32(f + rva_to_off(f, dir_rva(f, 1)) + 12, 0x7fffff00);
}
static void m_import_name(uint8_t *f, size_t *len)
{
	size_t d = rva_to_off(f, dir_rva(f, 1));
	size_t thunk = rva_to_off(f, get32(f + d));
	(void)len;
	put32(f + thunk, 0x7ffffff0);
	put32(f + thunk + 4, 0);
}
static void m_import_thunks(uint8_t *f, size_t *len)
{
	(void)len;
	put32(f + rva_to_off(f, dir_rva(f, 1)), 0x7ffffff8);
}

static const struct bad_case bad_cases[] = {
	{ "truncated file", m_truncated, "no MZ", false },
	{ "bad MZ", m_no_mz, "no MZ", false },
	{ "e_lfanew past end", m_lfanew, "e_lfanew", false },
	{ "bad PE signature", m_pe_sig, "PE signature", false },
	{ "i386 machine", m_machine, "not AMD64", false },
	{ "PE32 magic", m_magic, "not PE32+", false },
	{ "no sections", m_nsect0, "section count", false },
	{ "too many sections", m_nsect_big, "section count", false },
	{ "section alignment", m_salign, "section alignment", false },
	{ "SizeOfHeaders", m_hdrsize, "SizeOfHeaders", false },
	{ "SizeOfImage too small", m_imgsize, "outside", false },
	{ "raw data outside file", m_raw_outside, "outside the file", false },
	{ "overlapping sections", m_overlap, "overlaps", false },
	{ "section outside image", m_sect_outside, "outside SizeOfImage", false },
	{ "directory outside image", m_dir_outside, "data directory 1", false },
	{ "entry not in code", m_entry, "entry point", false },
	{ "relocation block size", m_reloc_size, "bad size", false },
	{ "relocation type", m_reloc_type, "unsupported relocation type 5", false },
	{ "relocation page", m_reloc_page, "page rva", false },
	{ "import module name", m_import_module, "module name rva", true },
	{ "import name", m_import_name, "name rva", true },
	{ "import thunks", m_import_thunks, "out of bounds", true },
};

static void test_pe_malformed(void **state)
{
	size_t len0;
	uint8_t *orig = load_file("hello.sys", &len0);

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t *f = malloc(len0);
		size_t len = len0;
		struct pe_image img;
		char err[256] = "";
		int r;

		memcpy(f, orig, len0);
		c->mutate(f, &len);
		r = pe_load(&img, f, len, err, sizeof(err));
		if (c->at_bind) {
			if (r != 0)
				fail_msg("%s: load failed early: %s", c->what, err);
			r = pe_bind_imports(&img, vh_resolve, NULL, NULL, err, sizeof(err));
			pe_unload(&img);
		}
		if (r >= 0)
			fail_msg("%s: malformed image accepted", c->what);
		if (!strstr(err, c->expect))
			fail_msg("%s: error '%s' does not mention '%s'", c->what, err, c->expect);
		print_message("# refused %s: %s\n", c->what, err);
		free(f);
	}
	free(orig);
}

/* Random corruption of the headers and tables must never crash the
 * loader: every outcome is either a clean error or a bounded image. */
static void test_pe_fuzz(void **state)
{
	size_t len0;
	uint8_t *orig = load_file("hello.sys", &len0);
	uint8_t *f = malloc(len0);
	unsigned seed = 12345, refused = 0;

	(void)state;
	for (int it = 0; it < 3000; it++) {
		struct pe_image img;
		char err[256];

		memcpy(f, orig, len0);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % (it & 1 ? len0 : 0x400);
			seed = seed * 1103515245u + 12345u;
			f[at] = (uint8_t)(seed >> 16);
		}
		if (pe_load(&img, f, len0, err, sizeof(err))) {
			refused++;
			continue;
		}
		if (pe_bind_imports(&img, vh_resolve, NULL, NULL, err, sizeof(err)) < 0)
			refused++;
		pe_unload(&img);
	}
	print_message("# fuzz: %u of 3000 corrupted images refused\n", refused);
	free(f);
	free(orig);
}

/* ------------------------------------------------------------ kernel services */

typedef void *NTAPI alloc_fn(uint32_t, size_t, uint32_t);
typedef void NTAPI free_fn(void *, uint32_t);
typedef nt_irql NTAPI acquire_fn(nt_kspin_lock *);
typedef void NTAPI release_fn(nt_kspin_lock *, nt_irql);

static void *sym(const char *module, const char *name)
{
	void *p = vh_resolve(module, name, NULL);
	if (!p)
		fail_msg("%s!%s not provided", module, name);
	return p;
}

static void test_resolve(void **state)
{
	(void)state;
	assert_non_null(vh_resolve("ntoskrnl.exe", "DbgPrint", NULL));
	assert_non_null(vh_resolve("NTOSKRNL.EXE", "ExAllocatePoolWithTag", NULL));
	assert_non_null(vh_resolve("HAL.dll", "KeStallExecutionProcessor", NULL));
	assert_null(vh_resolve("ntoskrnl.exe", "NoSuchFunction", NULL));
	assert_null(vh_resolve("other.sys", "DbgPrint", NULL));
}

static void test_pool(void **state)
{
	alloc_fn *alloc = (alloc_fn *)sym("ntoskrnl.exe", "ExAllocatePoolWithTag");
	free_fn *fr = (free_fn *)sym("ntoskrnl.exe", "ExFreePoolWithTag");
	size_t before = vh_pool_leaks(false);
	uint8_t *a, *b;

	(void)state;
	a = alloc(0, 100, 'tseT');
	b = alloc(0, 8192, 'tseT');
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 4096, 0); /* >= PAGE_SIZE: page aligned */
	memset(a, 1, 100);
	memset(b, 2, 8192);
	assert_int_equal(vh_pool_leaks(false), before + 2);
	fr(a, 'tseT');
	fr(b, 'tseT');
	assert_int_equal(vh_pool_leaks(false), before);
	assert_null(alloc(0, 0, 'tseT'));
}

static void test_irql_and_locks(void **state)
{
	acquire_fn *acq = (acquire_fn *)sym("ntoskrnl.exe", "KeAcquireSpinLockRaiseToDpc");
	release_fn *rel = (release_fn *)sym("ntoskrnl.exe", "KeReleaseSpinLock");
	nt_kspin_lock lock = 0;
	nt_irql old;
	uint64_t v;

	(void)state;
	vh_trap_init();
	vh_set_irql(PASSIVE_LEVEL);
	old = acq(&lock);
	assert_int_equal(old, PASSIVE_LEVEL);
	assert_int_equal(vh_irql(), DISPATCH_LEVEL);
	assert_true(lock != 0);
	/* The inline KeGetCurrentIrql of the DDK: mov %cr8 traps and is emulated. */
	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	assert_int_equal(v, DISPATCH_LEVEL);
	rel(&lock, old);
	assert_int_equal(lock, 0);
	assert_int_equal(vh_irql(), PASSIVE_LEVEL);
	v = 5;
	__asm__ volatile("mov %0, %%cr8" : : "r"(v));
	assert_int_equal(vh_irql(), 5);
	vh_set_irql(PASSIVE_LEVEL);
	__asm__ volatile("cli; sti");
	assert_true(vh_trap_count() >= 4);
}

static void test_kuser_time(void **state)
{
	uint64_t t, t2;
	uint32_t lo;

	(void)state;
	vh_trap_init();
	/* KeQuerySystemTime's inline form: movabs from SharedSystemTime. */
	__asm__ volatile("movabs 0xfffff78000000014, %%rax" : "=a"(t));
	assert_true(t > 132223104000000000ull); /* after 2020 */
	/* And a register-based 32-bit load of InterruptTime.LowPart. */
	__asm__ volatile("movabs $0xfffff78000000008, %%rdx\n\tmov (%%rdx), %%ecx"
			 : "=c"(lo) : : "rdx");
	t2 = vh_now_ns() / 100;
	assert_true((uint32_t)(t2 - lo) < 10000000u);
}

static volatile int dpc_hits, dpc_irql, timer_hits;

static void NTAPI dpc_routine(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)a2;
	if (ctx == (void *)&dpc_hits && a1 == (void *)7)
		dpc_hits++;
	dpc_irql = vh_irql();
}

static void NTAPI timer_routine(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)ctx;
	(void)a1;
	(void)a2;
	timer_hits++;
}

static void test_dpc_timer(void **state)
{
	nt_kdpc dpc, tdpc;
	nt_ktimer timer;

	(void)state;
	vh_sched_start();
	nt_KeInitializeDpc(&dpc, dpc_routine, (void *)&dpc_hits);
	assert_int_equal(nt_KeInsertQueueDpc(&dpc, (void *)7, NULL), 1);
	assert_true(vh_sched_idle(5000));
	assert_int_equal(dpc_hits, 1);
	assert_int_equal(dpc_irql, DISPATCH_LEVEL);

	nt_KeInitializeDpc(&tdpc, timer_routine, NULL);
	nt_KeInitializeTimer(&timer);
	assert_int_equal(nt_KeSetTimer(&timer, -20000 /* 2 ms */, &tdpc), 0);
	for (int i = 0; i < 500 && !timer_hits; i++)
		usleep(1000);
	assert_true(vh_sched_idle(5000));
	assert_int_equal(timer_hits, 1);
	assert_int_equal(nt_KeReadStateTimer(&timer), 1);
	/* A cancelled timer never fires. */
	assert_int_equal(nt_KeSetTimer(&timer, -10000000 /* 1 s */, &tdpc), 0);
	assert_int_equal(nt_KeCancelTimer(&timer), 1);
	assert_int_equal(nt_KeCancelTimer(&timer), 0);
	vh_sched_stop();
	assert_int_equal(timer_hits, 1);
}

static nt_kevent dpc_event;

static void NTAPI event_dpc(nt_kdpc *dpc, void *ctx, void *a1, void *a2)
{
	(void)dpc;
	(void)a1;
	(void)a2;
	usleep(2000); /* the waiter is blocked by now */
	nt_KeSetEvent(ctx, 0, 0);
}

static void test_events(void **state)
{
	nt_kevent ev;
	nt_kdpc dpc;
	int64_t zero = 0, short_wait = -10000 /* 1 ms */, long_wait = -50000000 /* 5 s */;

	(void)state;
	vh_set_irql(PASSIVE_LEVEL);
	nt_KeInitializeEvent(&ev, 1 /* SynchronizationEvent */, 0);
	assert_int_equal(nt_KeWaitForSingleObject(&ev, 0, 0, 0, &zero), 0x102);
	assert_int_equal(nt_KeWaitForSingleObject(&ev, 0, 0, 0, &short_wait), 0x102);
	assert_int_equal(nt_KeSetEvent(&ev, 0, 0), 0);
	assert_int_equal(nt_KeWaitForSingleObject(&ev, 0, 0, 0, &zero), STATUS_SUCCESS);
	assert_int_equal(nt_KeReadStateEvent(&ev), 0); /* auto-reset by the wait */

	nt_KeInitializeEvent(&ev, 0 /* NotificationEvent */, 1);
	assert_int_equal(nt_KeWaitForSingleObject(&ev, 0, 0, 0, &zero), STATUS_SUCCESS);
	assert_int_equal(nt_KeReadStateEvent(&ev), 1); /* stays signalled */
	assert_int_equal(nt_KeResetEvent(&ev), 1);

	/* Signalled from the DPC thread while this thread waits. */
	vh_sched_start();
	nt_KeInitializeEvent(&dpc_event, 0, 0);
	nt_KeInitializeDpc(&dpc, event_dpc, &dpc_event);
	nt_KeInsertQueueDpc(&dpc, NULL, NULL);
	assert_int_equal(nt_KeWaitForSingleObject(&dpc_event, 0, 0, 0, &long_wait), STATUS_SUCCESS);
	assert_true(vh_sched_idle(5000));
	vh_sched_stop();
}

static void test_interlocked_lists(void **state)
{
	nt_list_entry head = { &head, &head }, a, b;
	nt_kspin_lock lock = 0;

	(void)state;
	assert_null(nt_ExInterlockedInsertHeadList(&head, &a, &lock));
	assert_ptr_equal(nt_ExInterlockedInsertTailList(&head, &b, &lock), &a);
	assert_int_equal(lock, 0);
	assert_ptr_equal(nt_ExInterlockedRemoveHeadList(&head, &lock), &a);
	assert_ptr_equal(nt_ExInterlockedRemoveHeadList(&head, &lock), &b);
	assert_null(nt_ExInterlockedRemoveHeadList(&head, &lock));
	assert_ptr_equal(head.Flink, &head);
}

static void test_dma_pool(void **state)
{
	typedef int64_t NTAPI getphys_fn(void *);
	getphys_fn *getphys = (getphys_fn *)sym("ntoskrnl.exe", "MmGetPhysicalAddress");
	uint64_t pa, pb, q;
	void *a, *b, *v;
	int local;

	(void)state;
	assert_int_equal(dma_pool_init(false, 8u << 20), 0); /* chunks 0-1 and 2-3 adjacent */
	a = dma_alloc(10000, 4096, &pa);
	b = dma_alloc(4096, 65536, &pb);
	assert_non_null(a);
	assert_non_null(b);
	/* Fake physical addresses differ from virtual ones on purpose. */
	assert_true(pa >= 0x100000000ull && pa != (uint64_t)(uintptr_t)a);
	assert_int_equal(pb % 65536, 0);
	assert_int_equal(dma_contig(a), 12288);               /* 3 pages */
	assert_int_equal(dma_contig((uint8_t *)a + 5000), 12288 - 5000);
	assert_true(dma_phys((uint8_t *)a + 5000, &q));
	assert_int_equal(q, pa + 5000);
	assert_true(dma_virt(pb + 8, &v));
	assert_ptr_equal(v, (uint8_t *)b + 8);
	assert_int_equal(getphys((uint8_t *)a + 1), (int64_t)pa + 1);
	assert_int_equal(getphys(&local), 0); /* not DMA memory: refused */
	dma_free(a);
	dma_free(b);
	assert_false(dma_phys(a, &q));
	/* Larger than a chunk: only across physically adjacent chunks. */
	a = dma_alloc(3u << 20, 4096, &pa);
	assert_non_null(a);
	assert_int_equal(dma_contig(a), 3u << 20);
	assert_true(dma_phys((uint8_t *)a + (3u << 20) - 1, &q));
	assert_int_equal(q, pa + (3u << 20) - 1);
	/* The rest of chunk 1 plus chunk 2 would cross a gap: b goes to chunk 2. */
	b = dma_alloc(3u << 19, 4096, &pb);
	assert_non_null(b);
	assert_int_equal((uint8_t *)b - (uint8_t *)a, 4u << 20);
	assert_int_equal(pb, pa + (6u << 20));
	assert_null(dma_alloc(9u << 20, 4096, &q)); /* larger than the pool */
	dma_free(a);
	dma_free(b);
}

/* ------------------------------------------------------------ StorPort */

static uint8_t NTAPI dummy_init(void *ext) { (void)ext; return 1; }
static uint8_t NTAPI dummy_startio(void *ext, void *srb) { (void)ext; (void)srb; return 1; }
static uint32_t NTAPI dummy_find(void *ext, void *c, void *b, char *a, void *cfg, uint8_t *again)
{
	(void)ext; (void)c; (void)b; (void)a; (void)cfg; (void)again;
	return SP_RETURN_NOT_FOUND;
}

static void test_storport_initialize(void **state)
{
	typedef nt_status NTAPI init_fn(void *, void *, sp_hw_init_data *, void *);
	init_fn *init = (init_fn *)sym("storport.sys", "StorPortInitialize");
	sp_hw_init_data hw;
	nt_driver_object drv;

	(void)state;
	memset(&drv, 0, sizeof(drv));
	memset(&hw, 0, sizeof(hw));
	hw.HwInitializationDataSize = sizeof(hw);
	hw.AdapterInterfaceType = PCI_BUS_INTERFACE;
	hw.HwInitialize = dummy_init;
	hw.HwStartIo = dummy_startio;
	hw.HwInterrupt = dummy_init;
	hw.HwFindAdapter = dummy_find;
	hw.NumberOfAccessRanges = 2;

	assert_int_equal(init(&drv, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
	hw.HwInitializationDataSize = 0x40;
	assert_int_equal(init(&drv, NULL, &hw, NULL), (nt_status)0xC0000059);
	hw.HwInitializationDataSize = sizeof(hw);
	hw.AdapterInterfaceType = 1; /* Isa */
	assert_int_equal(init(&drv, NULL, &hw, NULL), STATUS_INVALID_PARAMETER);
	hw.AdapterInterfaceType = PCI_BUS_INTERFACE;
	hw.HwStartIo = NULL;
	assert_int_equal(init(&drv, NULL, &hw, NULL), STATUS_INVALID_PARAMETER);
	hw.HwStartIo = dummy_startio;
	hw.NumberOfAccessRanges = 1000;
	assert_int_equal(init(&drv, NULL, &hw, NULL), STATUS_INVALID_PARAMETER);
	hw.NumberOfAccessRanges = 2;
	assert_false(sp_registered());
	assert_int_equal(init(&drv, NULL, &hw, NULL), STATUS_SUCCESS);
	assert_true(sp_registered());
	assert_int_equal(init(&drv, NULL, &hw, NULL), STATUS_UNSUCCESSFUL);
	/* No sysfs PCI device on the build host: a clean refusal. */
	assert_int_not_equal(sp_start_adapter("ffff:ffff", "poll"), 0);
}

/* ------------------------------------------------------------ NDIS */

static void test_ndis_register(void **state)
{
	typedef uint32_t NTAPI reg_fn(nt_driver_object *, void *, void *, void *, void **);
	typedef void NTAPI dereg_fn(void *);
	reg_fn *reg = (reg_fn *)sym("NDIS.SYS", "NdisMRegisterMiniportDriver");
	dereg_fn *dereg = (dereg_fn *)sym("ndis.sys", "NdisMDeregisterMiniportDriver");
	uint8_t chars[0x98];
	void *handle = NULL, *fn = (void *)dummy_init;
	nt_driver_object drv;

	(void)state;
	memset(&drv, 0, sizeof(drv));
	memset(chars, 0, sizeof(chars));
	chars[0] = 0x8a; /* NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS */
	chars[1] = 2;
	chars[2] = 0x98;
	chars[4] = 6;
	chars[5] = 20;
	/* Every handler from InitializeHandlerEx (0x18) to the end. */
	for (size_t off = 0x18; off < sizeof(chars); off += 8)
		memcpy(chars + off, &fn, 8);
	assert_int_equal(reg(&drv, NULL, NULL, NULL, &handle), 0xC0000001u);
	chars[4] = 5;
	assert_int_equal(reg(&drv, NULL, NULL, chars, &handle), 0xC0010004u); /* BAD_VERSION */
	chars[4] = 6;
	chars[2] = 0x90; /* revision 2 but revision-1 size */
	assert_int_equal(reg(&drv, NULL, NULL, chars, &handle), 0xC0010005u);
	chars[2] = 0x98;
	memset(chars + 0x40, 0, 8); /* no OidRequestHandler */
	assert_int_equal(reg(&drv, NULL, NULL, chars, &handle), 0xC0010005u);
	memcpy(chars + 0x40, &fn, 8);
	assert_int_equal(reg(&drv, NULL, NULL, chars, &handle), 0);
	assert_non_null(handle);
	assert_non_null(drv.DriverUnload); /* NDIS takes over DriverUnload */
	dereg(handle);
}

/* ------------------------------------------------------------ vdphost verdicts */

static int run_vdphost(const char *args, char *out, size_t outlen)
{
	const char *bin = getenv("VDP_VDPHOST");
	char cmd[1024];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin ? bin : "out/host/bin/vdphost", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct verdict {
	const char *service;
	int status;
	const char *expect;
};

static void test_vdphost_verdicts(void **state)
{
	static const struct verdict v[] = {
		{ "ok", 0, "ok - ok: no pool leaks" },
		{ "crash", 70, "not ok - Segmentation fault at rip=" },
		{ "leak", 1, "not ok - leak: 1 pool blocks leaked" },
		{ "dblfree", 71, "not an allocated pool block" },
		{ "irql", 1, "DriverEntry returned at IRQL 2" },
		{ "bugcheck", 71, "KeBugCheckEx(0x0000dead" },
		{ "badlock", 71, "lock not held" },
		{ "fail", 1, "returned 0xc00000bb, expected 0x00000000" },
		{ "bigstack", 1, "not ok - stack driver: deepest use" },
		{ "overflow", 70, "(stack overflow)" },
	};
	char out[8192], args[600];

	(void)state;
	snprintf(args, sizeof(args), "%s/hello.sys", sys_dir());
	assert_int_equal(run_vdphost(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "hello: self-check passed"));
	assert_non_null(strstr(out, "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\hello"));

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int st;
		snprintf(args, sizeof(args), "--service %s %s/faulty.sys", v[i].service, sys_dir());
		st = run_vdphost(args, out, sizeof(out));
		if (st != v[i].status || !strstr(out, v[i].expect))
			fail_msg("faulty/%s: status %d (want %d), output:\n%s", v[i].service, st,
				 v[i].status, out);
	}
	snprintf(args, sizeof(args), "--service fail --expect-status c00000bb %s/faulty.sys", sys_dir());
	assert_int_equal(run_vdphost(args, out, sizeof(out)), 0);

	snprintf(args, sizeof(args), "%s/unresolved.sys", sys_dir());
	assert_int_equal(run_vdphost(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "3 unresolved imports"));
	assert_null(strstr(out, "must never run"));

	assert_int_equal(run_vdphost("/nonexistent.sys", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "not ok - /nonexistent.sys: cannot read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_pe_good),
		cmocka_unit_test(test_pe_unresolved),
		cmocka_unit_test(test_pe_malformed),
		cmocka_unit_test(test_pe_fuzz),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_irql_and_locks),
		cmocka_unit_test(test_kuser_time),
		cmocka_unit_test(test_dpc_timer),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_interlocked_lists),
		cmocka_unit_test(test_dma_pool),
		cmocka_unit_test(test_storport_initialize),
		cmocka_unit_test(test_ndis_register),
		cmocka_unit_test(test_vdphost_verdicts),
	};

	vh_add_exports(sp_exports);
	vh_add_exports(nd_exports);
	return cmocka_run_group_tests_name("vmhost", tests, NULL, NULL);
}
