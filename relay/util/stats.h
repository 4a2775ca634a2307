/* stats.h: counters, one set per worker, summed when /metrics is read.
 * Every layer counts into the worker's set through a pointer it was given.
 * Plain integers: each is written by one thread only; the reader tolerates
 * a torn moment. No per-user labels: their number would grow unbounded. */
#ifndef EDGELAB_STATS_H
#define EDGELAB_STATS_H

#include <stdint.h>

enum drop_reason {
	DROP_MALFORMED, DROP_NO_ALLOCATION, DROP_NO_PERMISSION, DROP_NO_CHANNEL,
	DROP_RATE_LIMIT, DROP_BANDWIDTH, DROP_SEND_FAILED, DROP_FILTERED,
	DROP_MUX_UNKNOWN,   /* [MS-TURN] multiplexed packet naming no session of ours */
	DROP_REASONS
};

/* A limit that refused something or closed a connection (R18). */
enum limit_hit {
	LIMIT_MAX_CONNS, LIMIT_MAX_PER_SOURCE, LIMIT_HANDSHAKE, LIMIT_IDLE, LIMIT_FRAME,
	LIMIT_STALL, LIMIT_UNAUTH_RATE, LIMIT_METRICS_CONNS, LIMIT_METRICS_TIMEOUT,
	LIMIT_MAX_CONNECTS, LIMIT_CONNECT_TIMEOUT,
	LIMIT_NO_MEMORY,    /* a connection refused: its state could not be allocated */
	LIMITS
};

struct stats {
	uint64_t requests, auth_failures, allocations_made;
	uint64_t pkts_to_peer, bytes_to_peer, pkts_to_client, bytes_to_client;
	uint64_t drops[DROP_REASONS];
	uint64_t limits[LIMITS];
	uint64_t tls_failed;     /* handshakes that failed (bad or missing client certificate, ...) */
	/* MRAS ([MS-AVEDGEA]): SERVICE requests, credentials issued, error answers */
	uint64_t mras_requests, mras_issued, mras_errors;
	/* gauges, kept current by the worker */
	uint64_t allocations, permissions, channels;
	uint64_t mux_sessions;   /* [MS-TURN] multiplexed session ids given out */
};


#endif
