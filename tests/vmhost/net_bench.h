/* The network benchmark and the reset test through an NDIS miniport
 * (net_bench.c). The Linux side of the benchmark is tests/bench/vdpnetbench.c,
 * started by path (VDP_NETBENCH_PEER, default /t/vdpnetbench). */
#ifndef VMHOST_NET_BENCH_H
#define VMHOST_NET_BENCH_H

#include <stdbool.h>

/* --net-bench SECONDS: measure instead of testing (ci/vm/bench.sh). */
bool net_bench_set(const char *seconds);
/* --net-reset-test: MiniportCheckForHangEx and MiniportResetEx during traffic. */
void net_reset_test_set(void);
/* Either of the two was asked for. */
bool net_bench_wanted(void);
/* Run what was asked for on the started adapter; prints TAP (and
 * "# VDPNETBENCH metric value" lines); returns the failure count. */
int net_bench_run(const char *service);

#endif
