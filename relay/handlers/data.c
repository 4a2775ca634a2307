/* data.c: data, which is never answered. Client -> peer: Send indications
 * (RFC 8656 §10) and ChannelData (§12); peer -> client: ChannelData when a
 * channel is bound, else a Data indication. The ChannelData paths are the
 * hot ones: a hash lookup, a short scan, one queued send, no allocation. */
#include <string.h>

#include "handlers/datapath.h"
#include "handlers/handlers.h"

void handle_send(struct server *s, const struct stun_msg *m, struct alloc *a)
{
	const struct stun_attr *pa = stun_msg_attr(m, STUN_A_XOR_PEER_ADDRESS);
	const struct stun_attr *da = stun_msg_attr(m, STUN_A_DATA);
	struct sockaddr_storage ss;
	struct peer p;

	if (!pa || !da || stun_attr_addr(m, pa, &ss)) {
		s->st.drops[DROP_MALFORMED]++;
		return;
	}
	peer_from_sockaddr(&p, (struct sockaddr *)&ss);
	if (!alloc_perm_has(a, &p, server_now(s))) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return;
	}
	/* Permissions are per IP: the port is vetted here, so that a
	 * permission for our own relayed address does not reach our
	 * listeners. Channels were vetted with their port at bind time. */
	if (!server_peer_ok(s, (struct sockaddr *)&ss, 0)) {
		s->st.drops[DROP_FILTERED]++;
		return;
	}
	datapath_to_peer(s, a, (struct sockaddr *)&ss, da->val, da->len);
}

void handle_chdata(struct server *s, const struct request *req)
{
	const struct channel *ch;
	struct sockaddr_storage peer;
	const uint8_t *data;
	struct alloc *a;
	uint16_t num, len;
	uint64_t now = server_now(s);

	if (turn_chdata_parse(req->buf, req->len, req->conn != NULL, &num, &data, &len)) {
		s->st.drops[DROP_MALFORMED]++;
		return;
	}
	if (!(a = server_alloc_find(s, req->l, req->conn, req->src))) {
		s->st.drops[DROP_NO_ALLOCATION]++;
		return;
	}
	if (!(ch = alloc_chan_by_num(a, num, now))) {
		s->st.drops[DROP_NO_CHANNEL]++;
		return;
	}
	/* A channel's permission may lapse while the channel lives (§12). */
	if (!alloc_perm_has(a, &ch->peer, now)) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return;
	}
	peer_to_sockaddr(&ch->peer, &peer);
	datapath_to_peer(s, a, (struct sockaddr *)&peer, data, len);
}

void handle_peer_data(void *arg, void *tag, uint8_t *data, size_t n, size_t room,
		      const struct sockaddr *from)
{
	struct server *s = arg;
	struct alloc *a = tag;
	uint64_t now = server_now(s);
	const struct channel *ch;
	struct peer p;

	peer_from_sockaddr(&p, from);
	if (!datapath_from_peer(s, a, &p, n, now))
		return;
	if ((ch = alloc_chan_by_peer(a, &p, now))) {
		/* The header goes in the headroom in front of the payload. */
		uint8_t *frame = data - TURN_CHDATA_HDR;
		int len = turn_chdata_wrap(frame, TURN_CHDATA_HDR + room, ch->num, (uint16_t)n,
					   a->key.conn != NULL);
		if (len > 0)
			server_send_alloc(s, a, frame, (size_t)len);
	} else {
		struct stun_writer w;
		uint8_t tid[STUN_TID_LEN];
		int len;
		stun_tid_random(tid);
		stun_writer_init(&w, s->ibuf, sizeof s->ibuf, TURN_DATA, STUN_INDICATION, tid);
		stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, from);
		stun_put_attr(&w, STUN_A_DATA, data, n);
		if ((len = stun_writer_finish(&w)) > 0)
			server_send_alloc(s, a, s->ibuf, (size_t)len);
	}
	s->st.pkts_to_client++;
	s->st.bytes_to_client += (uint64_t)n;
}
