/* localnets.h: the host's own addresses as the kernel sees them: every
 * prefix of type "local" in its local routing table (each interface
 * address, all of 127.0.0.0/8, any AnyIP range), so that "self" means what
 * the kernel would deliver to this host, not just the addresses avedge was
 * told about (R18). */
#ifndef EDGELAB_LOCALNETS_H
#define EDGELAB_LOCALNETS_H

#include <sys/socket.h>

/* Call fn for each local prefix. 0, or a negative errno. */
int localnets_each(void (*fn)(void *arg, const struct sockaddr *addr, int plen), void *arg);

#endif
