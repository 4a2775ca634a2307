/* peerfilter.h: which peers a relay may send to (R15). By default: no
 * loopback, unspecified, multicast, link-local, broadcast, or the relay's
 * own addresses, in any spelling (IPv4-mapped and -compatible IPv6 forms,
 * NAT64 well-known prefix included). --allow-peer and --deny-peer CIDRs
 * adjust it; the most specific matching rule wins, an explicit rule beats
 * a default, and on equal length deny wins. */
#ifndef EDGELAB_PEERFILTER_H
#define EDGELAB_PEERFILTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct peerfilter;

struct peerfilter *peerfilter_new(void);
void peerfilter_free(struct peerfilter *f);
/* "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" (a host). 0, or -1 + reason. */
int peerfilter_allow(struct peerfilter *f, const char *cidr, char *err, size_t errlen);
int peerfilter_deny(struct peerfilter *f, const char *cidr, char *err, size_t errlen);
/* The relay's own addresses: never a peer (loops), except on a port of
 * the relay range, where they are other clients' relayed addresses. */
int peerfilter_add_self(struct peerfilter *f, const struct sockaddr *own);
/* Every other address of the host (the kernel's local routes: plen bits
 * of net, -1 the address alone) and the ports avedge listens on: a local
 * address on one of those ports is avedge itself (a wildcard listener,
 * /metrics) and never a peer; its other ports are left to the rules. */
int peerfilter_add_local(struct peerfilter *f, const struct sockaddr *net, int plen);
int peerfilter_add_own_port(struct peerfilter *f, int port);
void peerfilter_set_relay_ports(struct peerfilter *f, uint16_t lo, uint16_t hi);
/* 1 if the relay may send to peer, 0 if it must answer 403. */
int peerfilter_permits(const struct peerfilter *f, const struct sockaddr *peer);
/* The same for a permission, which is per IP: the port is not looked at
 * (our own IP passes: other clients' relayed addresses are on it). */
int peerfilter_permits_ip(const struct peerfilter *f, const struct sockaddr *peer);

#endif
