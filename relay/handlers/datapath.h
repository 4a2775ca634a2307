/* datapath.h: the steps both dialects' data paths share (data.c for IETF
 * TURN, ms_send.c and ms_data.c for [MS-TURN]). Inline: they run for
 * every relayed packet, and allocate nothing. */
#ifndef EDGELAB_HANDLERS_DATAPATH_H
#define EDGELAB_HANDLERS_DATAPATH_H

#include "server.h"

/* Client -> peer: within a's bandwidth cap, queued on its relayed socket
 * (counted for a and the worker when the batch leaves: server.c); for an
 * [MS-TURN] TCP allocation, written to the peer's connection (made when
 * there is none) and counted here. */
static inline void datapath_to_peer(struct server *s, struct alloc *a, const struct sockaddr *peer,
				    const uint8_t *data, size_t len)
{
	struct ms_tcp *t;

	if (!bw_take(&a->bw, s->conf->max_bps, len, server_now(s))) {
		s->st.drops[DROP_BANDWIDTH]++;
		return;
	}
	if (a->udp_io) {
		if (relayed_send(a->udp_io, peer, data, len) < 0)
			s->st.drops[DROP_SEND_FAILED]++;
		return;
	}
	t = a->ms_tcp_io[peer->sa_family == AF_INET6];
	if (!t || ms_tcp_send(t, peer, data, len)) {
		s->st.drops[DROP_SEND_FAILED]++;
		return;
	}
	a->tx_pkts++;
	a->tx_bytes += len;
	s->st.pkts_to_peer++;
	s->st.bytes_to_peer += len;
}

/* Peer -> client, before the dialect frames it: 1 when a datagram of n
 * bytes from p may go on (a permission for its IP, within the bandwidth
 * cap; counted for a), 0 when it was dropped (and counted). */
static inline int datapath_from_peer(struct server *s, struct alloc *a, const struct peer *p,
				     size_t n, uint64_t now)
{
	if (!alloc_perm_has(a, p, now)) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return 0;
	}
	if (!bw_take(&a->bw, s->conf->max_bps, n, now)) {
		s->st.drops[DROP_BANDWIDTH]++;
		return 0;
	}
	a->rx_pkts++;
	a->rx_bytes += (uint64_t)n;
	return 1;
}

#endif
