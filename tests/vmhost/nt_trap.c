/* Privileged instructions that inline DDK code executes in our ring 3:
 *  - mov to/from CR8 (KeGetCurrentIrql/KeRaiseIrql/KeLowerIrql are inline
 *    on x64) -> per-thread IRQL shadow;
 *  - cli/sti/hlt -> ignored (iopl(3) no longer permits them since 5.5);
 *  - loads from KUSER_SHARED_DATA at 0xFFFFF78000000000 (KeQuerySystemTime,
 *    KeQueryInterruptTime, KeQueryTickCount are inline) -> a host page
 *    refreshed before each emulated load.
 * Anything else is a real driver fault: report where, then exit. */
#define _GNU_SOURCE
#include "vmhost.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define KUSER_BASE          0xFFFFF78000000000ull
#define KUSER_SIZE          0x1000u
#define KUSER_INTERRUPT     0x008u
#define KUSER_SYSTEM        0x014u
#define KUSER_TICKCOUNT     0x320u
#define FILETIME_UNIX_EPOCH 116444736000000000ull
#define TIME_INCREMENT      156250u /* 15.625 ms in 100 ns units */

static __thread nt_irql cur_irql;
static volatile unsigned long trap_count;
static const struct pe_image *trap_image;
static uint8_t kuser_page[KUSER_SIZE] __attribute__((aligned(16)));

nt_irql vh_irql(void)
{
	return cur_irql;
}

void vh_irql_store(nt_irql irql)
{
	cur_irql = irql;
}

unsigned long vh_trap_count(void)
{
	return trap_count;
}

void vh_trap_set_image(const struct pe_image *img)
{
	trap_image = img;
}

/* x86 register number -> glibc gregs index. */
static const int gpr_index[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void kuser_refresh(void)
{
	struct timespec ts;
	uint64_t sys, intr;
	uint32_t lo, hi;

	clock_gettime(CLOCK_REALTIME, &ts);
	sys = FILETIME_UNIX_EPOCH + (uint64_t)ts.tv_sec * 10000000u + (uint64_t)ts.tv_nsec / 100;
	intr = vh_now_ns() / 100;
	/* KSYSTEM_TIME {LowPart, High1Time, High2Time}; readers compare High1/High2. */
	lo = (uint32_t)sys;
	hi = (uint32_t)(sys >> 32);
	memcpy(kuser_page + KUSER_SYSTEM, &lo, 4);
	memcpy(kuser_page + KUSER_SYSTEM + 4, &hi, 4);
	memcpy(kuser_page + KUSER_SYSTEM + 8, &hi, 4);
	lo = (uint32_t)intr;
	hi = (uint32_t)(intr >> 32);
	memcpy(kuser_page + KUSER_INTERRUPT, &lo, 4);
	memcpy(kuser_page + KUSER_INTERRUPT + 4, &hi, 4);
	memcpy(kuser_page + KUSER_INTERRUPT + 8, &hi, 4);
	{
		uint64_t ticks = intr / TIME_INCREMENT;
		memcpy(kuser_page + KUSER_TICKCOUNT, &ticks, 8);
	}
}

static void set_reg(greg_t *g, unsigned reg, uint64_t v, unsigned opsize)
{
	if (opsize == 4)
		v = (uint32_t)v; /* 32-bit destinations zero-extend */
	g[gpr_index[reg]] = (greg_t)v;
}

/* Decode the ModRM memory operand length after the ModRM byte. */
static int modrm_extra(const uint8_t *p, unsigned modrm)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	int n = 0;

	if (mod == 3)
		return -1;
	if (rm == 4) {
		unsigned sib = p[0];
		n = 1;
		if (mod == 0 && (sib & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5) {
		n += 4;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

/* Returns the instruction length if emulated, 0 otherwise. */
static int emulate(ucontext_t *uc, uint64_t fault_addr)
{
	greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *ip = (const uint8_t *)g[REG_RIP];
	unsigned rex = 0, opsize = 4;
	int len = 0;

	if (ip[0] == 0xfa || ip[0] == 0xfb) /* cli, sti */
		return 1;
	if (ip[0] == 0xf4) { /* hlt: nothing to wait for but time */
		usleep(100);
		return 1;
	}
	if ((ip[0] & 0xf0) == 0x40) {
		rex = ip[0];
		len = 1;
	}
	if (rex & 8)
		opsize = 8;
	if (ip[len] == 0x0f && (ip[len + 1] == 0x20 || ip[len + 1] == 0x22)) {
		unsigned modrm = ip[len + 2];
		unsigned cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		unsigned reg = (modrm & 7) | ((rex & 1) ? 8 : 0);

		if ((modrm >> 6) != 3 || cr != 8)
			return 0;
		if (ip[len + 1] == 0x20)
			set_reg(g, reg, cur_irql, 8);
		else
			vh_set_irql((nt_irql)(g[gpr_index[reg]] & 15)); /* pins like any raise */
		return len + 3;
	}
	if (fault_addr < KUSER_BASE || fault_addr - KUSER_BASE >= KUSER_SIZE)
		return 0;
	if (ip[len] == 0xa1 && opsize == 8 && len) {
		/* movabs moffs64 -> rax (REX.W A1), the form used for a constant address */
		uint64_t v = 0, off = fault_addr - KUSER_BASE;
		if (off > KUSER_SIZE - 8)
			return 0;
		kuser_refresh();
		memcpy(&v, kuser_page + off, 8);
		set_reg(g, 0, v, 8);
		return len + 1 + 8;
	}
	if (ip[len] == 0x8b) {
		unsigned modrm = ip[len + 1];
		unsigned reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		int extra = modrm_extra(ip + len + 2, modrm);
		uint64_t off = fault_addr - KUSER_BASE, v = 0;

		if (extra < 0 || off > KUSER_SIZE - opsize)
			return 0;
		kuser_refresh();
		memcpy(&v, kuser_page + off, opsize);
		set_reg(g, reg, v, opsize);
		return len + 2 + extra;
	}
	return 0;
}

static void report_fault(int sig, siginfo_t *si, ucontext_t *uc)
{
	char buf[400];
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	const char *sec = NULL;
	uint32_t rva = 0;
	int n;

	n = snprintf(buf, sizeof(buf), "vdphost: fatal: %s at rip=0x%llx", strsignal(sig),
		     (unsigned long long)rip);
	if (trap_image && pe_locate(trap_image, (void *)rip, &sec, &rva))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " (driver %s rva 0x%x)", sec, rva);
	else
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " (outside the driver)");
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, " addr=%p irql=%u%s\n", si->si_addr, cur_irql,
		      vh_is_stack_guard(si->si_addr) ? " (stack overflow)" : "");
	if (write(2, buf, (size_t)n) < 0)
		_exit(70);
	/* The same line as a TAP failure on stdout ("vdphost: fatal: " -> "not ok - "). */
	if (write(1, "not ok - ", 9) < 0 || write(1, buf + 16, (size_t)n - 16) < 0)
		_exit(70);
	_exit(70);
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	int len;

	/* An instruction-fetch fault has nothing readable at rip. */
	if (sig == SIGSEGV && (uint64_t)(uintptr_t)si->si_addr != rip) {
		len = emulate(uc, (uint64_t)(uintptr_t)si->si_addr);
		if (len > 0) {
			uc->uc_mcontext.gregs[REG_RIP] += len;
			__atomic_add_fetch(&trap_count, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	report_fault(sig, si, uc);
}

void vh_trap_init(void)
{
	static uint8_t altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	/* The alternate stack lets a driver stack overflow still be reported
	 * (main thread; other threads run deferred work on normal stacks). */
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
}
