/* data.c: client -> peer data: Send indications (RFC 8656 §10) and
 * ChannelData (§12). The ChannelData path is the hot one: a hash lookup,
 * a short scan, one queued send, no allocation. */
#include <string.h>

#include "io/relay.h"
#include "server.h"

static void to_peer(struct server *s, struct alloc *a, const struct sockaddr *peer,
		    const uint8_t *data, size_t len)
{
	if (!relay_bw_take(a->io, len, server_now(s))) {
		s->st.drops[DROP_BANDWIDTH]++;
		return;
	}
	/* Counted for a and the worker when the batch leaves (server.c). */
	if (relay_send(a->io, peer, data, len) < 0)
		s->st.drops[DROP_SEND_FAILED]++;
}

void turn_send_indication(struct server *s, const struct stun_msg *m, struct alloc *a)
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
	if (!peerfilter_permits(s->conf->filter, (struct sockaddr *)&ss)) {
		s->st.drops[DROP_FILTERED]++;
		return;
	}
	to_peer(s, a, (struct sockaddr *)&ss, da->val, da->len);
}

void server_on_chdata(struct server *s, const struct request *req)
{
	struct five_tuple k;
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
	k.listener = req->l;
	k.conn = req->conn;
	memcpy(&k.client, req->src, netaddr_len(req->src));
	if (!(a = alloc_table_find(&s->allocs, &k))) {
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
	to_peer(s, a, (struct sockaddr *)&peer, data, len);
}
