/* load.h: the load generator's shared pieces: load.c sets allocations up
 * and reports; loadrun.c is the per-thread packet loop. */
#ifndef EDGELAB_PROBE_LOAD_H
#define EDGELAB_PROBE_LOAD_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "echo.h"
#include "msclient.h"
#include "turnc.h"

#define LOAD_BATCH 64
#define LOAD_RMTU 2048
#define LOAD_CHANNEL 0x4000
/* Latency histogram: 1 µs buckets up to 200 ms, then one overflow bucket. */
#define LOAD_HIST_N 200000

struct load_cfg {
	double rate;       /* packets per second in all; 0 = flat out */
	int window;        /* flat out: packets in flight per allocation */
	long seconds;
	size_t size;       /* payload bytes inside ChannelData (or raw, --ms-turn) */
	size_t hdr;        /* framing before the payload: ChannelData's, or 0 raw */
	int threads;
	int drain_ms;
};

struct load_alloc {
	int fd;             /* connected to the server; the allocation's 5-tuple */
	int made;           /* set up (teardown skips the rest) */
	int inflight;
	double last_rx;
	struct tc_sess *s; /* auth state, for the delete at the end */
	struct ms_client *ms; /* --ms-turn: its session (credentials in s) */
};

struct load_thread {
	pthread_t th;
	const struct load_cfg *lc;
	struct load_alloc *a;
	int n;
	int echo_fd;        /* -1: the peer is external */
	uint64_t sent, rcvd, garbled, echoed;
	uint32_t *hist;     /* LOAD_HIST_N + 1 */
	char err[200];
	/* Buffers, allocated once per thread: nothing per packet. */
	uint8_t *sbuf;      /* one frame (ChannelData or raw), resent with a new stamp */
	struct mmsghdr smsg[LOAD_BATCH];
	struct iovec siov[LOAD_BATCH];
	struct mmsghdr rmsg[LOAD_BATCH];
	struct iovec riov[LOAD_BATCH];
	uint8_t rbuf[LOAD_BATCH][LOAD_RMTU];
	struct echo_bufs eb;
};

/* The thread body: arg is a struct load_thread *. */
void *probe_load_run(void *arg);
/* PID's user + system CPU time so far, all threads, in ms; -1 if unknown. */
double probe_cpu_ms(long pid);

#endif
