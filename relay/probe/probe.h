/* probe.h: edgeprobe's pieces. A probe is a blocking client: it sends, it
 * waits with a deadline, it reports what the socket saw. */
#ifndef EDGELAB_PROBE_H
#define EDGELAB_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "stun.h"

struct probe_sock {
	int fd;
	enum transport tp;
	struct sockaddr_storage server; /* where requests go */
	struct sockaddr_storage local;  /* our address as bound */
	size_t rlen;                    /* stream reassembly */
	uint8_t rbuf[65536 + 4];
	uint8_t abuf[STUN_HDR_LEN + 65536]; /* the answer handed to the caller */
};

struct probe_opts {
	const char *target;
	const char *bind;
	enum transport tp;
	int json;
	int timeout_ms;
};

/* Open a socket to opts->target (connecting for TCP). 0, or -1 with a
 * one-line reason in err. */
int probe_open(struct probe_sock *ps, const struct probe_opts *o, char *err, size_t errlen);
void probe_close(struct probe_sock *ps);

/* Send a request and wait for the answer with the same transaction id.
 * UDP retransmits (RFC 8489 §6.2.1: RTO doubling from 250 ms) until the
 * deadline. The answer is parsed into *m (pointing into ps->rbuf); from is
 * where it came from as the socket saw it. 0, or -1 with a reason. */
int probe_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
		   struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
		   char *err, size_t errlen);

int probe_binding_main(int argc, char **argv);

double probe_now_ms(void);

#endif
