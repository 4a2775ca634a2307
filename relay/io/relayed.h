/* relayed.h: an allocation's relayed UDP sockets, one per address family.
 * Datagrams from peers are read into the worker's buffers, with headroom
 * in front so that the layer above can write a ChannelData header in
 * place: with io_uring, every socket found readable in a loop iteration
 * is read in one io_uring_enter after the poll phase; without it, several
 * datagrams per recvmmsg as each socket's poll fires. Datagrams to peers
 * go through the worker's send batch. */
#ifndef EDGELAB_RELAYED_H
#define EDGELAB_RELAYED_H

#include <netinet/in.h>
#include <uv.h>

#include "io/ports.h"
#include "io/udpbatch.h"

#define RELAYED_BATCH 8
#define RELAYED_HEADROOM 64
#define RELAYED_SLOT (RELAYED_HEADROOM + 65536)
/* io_uring reads: sockets read per iteration (more wait for the next:
 * the poll is level-triggered), and reads per socket (a second one mostly
 * finds nothing, which costs an entry, not a system call). */
#define RELAYED_RING_SOCKS 64
#define RELAYED_RING_READS 2

struct relayed;

/* One io_uring read's message and buffer. */
struct relayed_slot {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_storage from;
	unsigned ready;           /* its socket's entry in ready[] */
	int res;
	uint8_t buf[RELAYED_SLOT];
};

/* The worker's receive buffers, shared by all its relayed sockets. */
struct relayed_rx {
	struct mmsghdr msg[RELAYED_BATCH];
	struct iovec iov[RELAYED_BATCH];
	struct sockaddr_storage from[RELAYED_BATCH];
	uint8_t buf[RELAYED_BATCH][RELAYED_SLOT];
	/* io_uring: the ring is the send batch's; slots NULL without it */
	struct udp_batch *ring_of;
	uv_check_t check;
	unsigned nready;
	struct {
		struct relayed *r; /* NULL: closed since it was found readable */
		int fam;
	} ready[RELAYED_RING_SOCKS];
	struct relayed_slot *slots; /* RELAYED_RING_SOCKS * RELAYED_RING_READS */
};

/* What every relayed socket of a worker shares. */
struct relayed_env {
	uv_loop_t *loop;
	const struct port_range *ports;
	struct udp_batch *out;
	struct relayed_rx *rx;
};

/* One datagram from a peer: RELAYED_HEADROOM bytes before data are the
 * callee's to write, and room bytes from data on. The callback must not
 * close the socket it is called for (closing is deferred by design: see
 * conn.c). */
typedef void (*relayed_recv_cb)(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
				const struct sockaddr *from);

struct relayed {
	const struct relayed_env *env;
	relayed_recv_cb recv;
	void *arg, *tag;
	uv_poll_t poll[2];        /* [0] IPv4, [1] IPv6 */
	int fd[2];
	uint8_t open_mask;
	uint8_t ready_mask;       /* families waiting in env->rx->ready */
};

struct relayed_opts {
	unsigned family_mask;     /* in: 1 IPv4, 2 IPv6, 3 both; out: what a claimed token had */
	int even, reserve, dont_fragment;
	int claimed, claimed_fd, claimed_fam; /* in: a reserved socket (ports_claim), ours from here */
	const char *owner;        /* in: whom a reservation made here counts against */
	uint64_t token_out;       /* out: the reservation made (reserve) */
	int port[2];              /* out: the bound port per family */
	uint64_t now_ms;
};

/* The worker's receive side; with the send batch's ring (out->uring_ok)
 * relayed sockets are read through it. relayed_rx_close before the loop
 * ends. */
void relayed_rx_init(struct relayed_rx *rx, uv_loop_t *loop, struct udp_batch *out);
void relayed_rx_close(struct relayed_rx *rx);

/* Open the sockets; tag goes back with each datagram (recv) and each send
 * (the batch's sent callback). 0, or a negative errno: -EAFNOSUPPORT for
 * a family we do not relay, others when no port could be had (then
 * nothing is left open and *out is NULL). */
int relayed_open(struct relayed **out, const struct relayed_env *env, struct relayed_opts *o,
		 relayed_recv_cb recv, void *arg, void *tag);
/* Queue a datagram to peer from the relayed address of its family. 0, or
 * -EAFNOSUPPORT. */
int relayed_send(struct relayed *r, const struct sockaddr *peer, const uint8_t *data, size_t len);
/* Flush the batch, close the sockets (their ports are free at once); the
 * memory goes once libuv is done with the handles. */
void relayed_close(struct relayed *r);

#endif
