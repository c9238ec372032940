/* Network test through an NDIS miniport (net_test.c) and the Linux-side
 * echo helper it talks to. */
#ifndef VMHOST_NET_TEST_H
#define VMHOST_NET_TEST_H

/* OIDs, ARP, ICMP, UDP and TCP against the Linux peer 192.168.77.1 (the
 * test side is 192.168.77.2); link down/up when link_ctl names the serial
 * device the VM runner watches. Prints TAP; returns the failure count. */
int net_test_run(const char *service, const char *link_ctl);
/* UDP and TCP echo on port (Linux sockets); runs until killed. */
int net_echo_server(int port);

#define NET_ECHO_PORT 7777

#endif
