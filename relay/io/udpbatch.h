/* udpbatch.h: a loop iteration's outgoing datagrams. Sending is most of a
 * relay's work, one system call per datagram; queued here instead, they
 * leave with one sendmmsg per socket when the iteration's I/O is done (a
 * uv_check), before the loop blocks (a uv_prepare), or earlier when the
 * batch is full. Copies in fixed slots: nothing is allocated per
 * datagram. Order per socket is kept. One batch per worker, owned by it;
 * listeners and relayed sockets are given a pointer to it. */
#ifndef EDGELAB_UDPBATCH_H
#define EDGELAB_UDPBATCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "util/uring.h"

#define UDP_BATCH 64
#define UDP_SLOT 2048

/* Told once per datagram when it has left (err 0) or was dropped (a
 * negative errno): tag is what the sender queued it with. */
typedef void (*udp_sent_cb)(void *arg, void *tag, const struct sockaddr *to, const uint8_t *data,
			    size_t len, int err);

struct udp_out {
	int fd;
	socklen_t tolen;
	void *tag;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;
};

struct udp_batch {
	uv_check_t check;
	uv_prepare_t prepare;
	udp_sent_cb sent;
	void *arg;
	unsigned n;
	int gso;                  /* UDP_SEGMENT works here (off after an EIO) */
	struct udp_out q[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	/* The flush's scratch: iovecs in message order, a UDP_SEGMENT cmsg
	 * per message. */
	struct iovec giov[UDP_BATCH];
	uint8_t cbuf[UDP_BATCH][CMSG_SPACE(sizeof(uint16_t))] __attribute__((aligned(8)));
	uint8_t slot[UDP_BATCH][UDP_SLOT];
	/* io_uring: every socket's messages in one enter instead of a
	 * sendmmsg per socket; the worker's relayed reads share the ring.
	 * uring_ok 0: it could not be set up, or was turned off. */
	struct uring ring;
	int uring_ok;
	unsigned untaken;         /* when it failed: how many of the last entries queued it never took */
	uint32_t gen;             /* tags this flush's entries: a stale completion is known */
};

/* use_uring 0: sendmmsg per socket, as before io_uring. */
void udp_batch_init(struct udp_batch *b, uv_loop_t *loop, udp_sent_cb sent, void *arg,
		    int use_uring);
/* Submit what is queued on the ring and wait until every entry has
 * completed (they complete inline; the wait is a guard): 0, or -1 when the
 * ring failed and was closed (its entries cancelled; done was called for
 * those that completed, and untaken says how many of the last queued the
 * kernel never took). For the relayed reads, too. */
int udp_batch_ring_run(struct udp_batch *b, unsigned n,
		       void (*done)(void *arg, uint64_t data, int res), void *arg);
/* Queue len bytes from fd to `to`. A datagram larger than a slot (rare)
 * leaves at once from the caller's buffer. */
void udp_batch_queue(struct udp_batch *b, int fd, const struct sockaddr *to, const uint8_t *data,
		     size_t len, void *tag);
/* Send what is queued now: before one of its sockets closes, and once per
 * iteration. */
void udp_batch_flush(struct udp_batch *b);
void udp_batch_close(struct udp_batch *b);

#endif
