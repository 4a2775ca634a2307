/* probe.h: edgeprobe's pieces. A probe is a blocking client: it sends, it
 * waits with a deadline, it reports what the socket saw. The load
 * generator (load.c) is the exception: non-blocking, batched, epoll. */
#ifndef EDGELAB_PROBE_H
#define EDGELAB_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/netaddr.h"
#include "stun/stun.h"

struct probe_sock {
	int fd;
	enum transport tp;
	void *ssl;                      /* SSL * for TP_TLS (transport.c) */
	struct sockaddr_storage server; /* where requests go */
	struct sockaddr_storage local;  /* our address as bound */
	size_t rlen;                    /* stream reassembly */
	uint8_t rbuf[65536 + 4];
	uint8_t abuf[STUN_HDR_LEN + 65536]; /* the frame handed to the caller */
};

struct probe_opts {
	const char *target;
	const char *bind;
	enum transport tp;
	int json;
	int timeout_ms;
};

/* One thing that arrived: a STUN message (parsed into m) or a ChannelData
 * frame; from is the sender as the socket saw it. */
enum frame_kind { FRAME_STUN, FRAME_CHDATA };
struct probe_frame {
	enum frame_kind kind;
	struct stun_msg m;
	uint16_t channel;
	const uint8_t *data;
	uint16_t data_len;
	struct sockaddr_storage from;
};

/* Open a socket to opts->target (connecting for TCP, handshaking for
 * TLS). 0, or -1 with a one-line reason in err. */
int probe_open(struct probe_sock *ps, const struct probe_opts *o, char *err, size_t errlen);
void probe_close(struct probe_sock *ps);
/* The negotiated TLS version ("TLSv1.3"), or "" when not TLS. */
const char *probe_tls_version(const struct probe_sock *ps);

/* Send bytes to the server: one datagram, or the whole buffer on a stream. */
int probe_send(struct probe_sock *ps, const void *buf, size_t len, char *err, size_t errlen);
/* Next STUN message or ChannelData frame. 1 got one, 0 deadline passed
 * (probe_now_ms() clock), -1 error with a reason. Frames point into ps. */
int probe_recv(struct probe_sock *ps, struct probe_frame *f, double deadline,
	       char *err, size_t errlen);

/* Raw bytes from a stream (an RFC 6062 data connection after its
 * ConnectionBind): what probe_recv left buffered first, then the socket.
 * >0 bytes, 0 deadline passed, -1 closed or failed with a reason. */
long probe_recv_raw(struct probe_sock *ps, void *buf, size_t cap, double deadline,
		    char *err, size_t errlen);

/* Send a request and wait for the answer with the same transaction id,
 * skipping anything else. UDP retransmits (RFC 8489 §6.2.1: RTO doubling
 * from 250 ms) until the deadline. *m points into ps; from is where the
 * answer came from as the socket saw it. 0, or -1 with a reason. */
int probe_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
		   struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
		   char *err, size_t errlen);

double probe_now_ms(void);
/* Raise RLIMIT_NOFILE to the hard limit: load opens a socket per allocation. */
void probe_raise_nofile(void);

int probe_binding_main(int argc, char **argv);
int probe_allocate_main(int argc, char **argv);
int probe_ms_allocate_main(int argc, char **argv); /* allocate --ms-turn */
int probe_turn_main(int argc, char **argv);
int probe_permit_main(int argc, char **argv);
int probe_channel_main(int argc, char **argv);
int probe_send_main(int argc, char **argv);
int probe_relay_main(int argc, char **argv);
int probe_load_main(int argc, char **argv);
int probe_echo_main(int argc, char **argv);
int probe_mras_main(int argc, char **argv);
int probe_quiet_main(int argc, char **argv);

#endif
