/* Network test through an NDIS miniport (net_test.c) and the Linux-side
 * echo helper it talks to. */
#ifndef VMHOST_NET_TEST_H
#define VMHOST_NET_TEST_H

/* OIDs, ARP, ICMP, UDP and TCP against the Linux peer 192.168.77.1 (the
 * test side is 192.168.77.2); when the miniport enables LSOv2 (a device
 * with TSO: the vhost-user test switch), 16 and 60 KiB LSO sends over IPv4
 * and IPv6 (fd77::2 -> fd77::1) echoed back as large TCP receives, with
 * the receive checksum info checked; link down/up when link_ctl names the
 * serial device the VM runner watches. Prints TAP; returns the failure count. */
int net_test_run(const char *service, const char *link_ctl);
/* UDP and TCP echo on port (Linux sockets; TCP also over IPv6 when the
 * kernel has it); runs until killed. */
int net_echo_server(int port);

#define NET_ECHO_PORT 7777

#endif
