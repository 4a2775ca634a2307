/* ms_send.c: data from an [MS-TURN] client. A Send request (never
 * answered: [MS-TURN] 2.2.1) carries DESTINATION-ADDRESS and DATA, signed
 * with the allocation's key; sending toward a peer installs (or refreshes)
 * its permission, as in draft-ietf-behave-turn-08. Once a Set Active
 * Destination is in force the client sends raw datagrams (or type-3
 * frames over TCP), which go to that destination: a lookup, a queued
 * send, nothing allocated; from MS-Version 5 (6 over TCP) also wrapped in
 * a multiplexed packet (2.2.3) found by its session id. */
#include <string.h>

#include "handlers/datapath.h"
#include "handlers/handlers.h"
#include "handlers/ms.h"

/* Data for a's active destination. */
static void to_active(struct server *s, struct alloc *a, const uint8_t *data, size_t len)
{
	struct sockaddr_storage peer;
	uint64_t now = server_now(s);

	/* Traffic keeps the destination's permission alive; found in place,
	 * never added here (no allocation on this path). */
	for (unsigned i = 0; i < a->nperms; i++)
		if (peer_same_ip(&a->perms[i].ip, &a->ms->dest)) {
			a->perms[i].expires = now + TURN_PERM_LIFETIME_MS;
			break;
		}
	peer_to_sockaddr(&a->ms->dest, &peer);
	datapath_to_peer(s, a, (struct sockaddr *)&peer, data, len);
}

int ms_client_data(struct server *s, const struct request *req, const uint8_t *data, size_t len)
{
	struct alloc *a = server_alloc_find(s, req->l, req->conn, req->src);

	if (!a || !a->ms || !a->ms->active)
		return 0;
	to_active(s, a, data, len);
	return 1;
}

/* [MS-TURN] 3.2.4.6: the client's active-destination data, wrapped in a
 * 2.2.3 packet that names its session. The id, not the 5-tuple, finds the
 * allocation: that is what lets streams share a port. An id we did not
 * give out (or gave out for the other transport) costs a hash lookup and
 * a counter, nothing kept. */
void ms_client_mux(struct server *s, const struct request *req, const uint8_t *buf, size_t len)
{
	const uint8_t *id, *data;
	struct alloc *a;
	size_t dlen;

	if (msturn_mux_parse(buf, len, &id, &data, &dlen)) {
		s->st.drops[DROP_MALFORMED]++;
		return;
	}
	a = alloc_table_find_mux(&s->allocs, id);
	if (!a || (req->conn && a->ms->version < MSTURN_MUX_VERSION_TCP)) {
		s->st.drops[DROP_MUX_UNKNOWN]++;
		return;
	}
	if (!a->ms->active) { /* 3.2.4.6 sends to the active destination only */
		s->st.drops[DROP_NO_PERMISSION]++;
		return;
	}
	to_active(s, a, data, dlen);
}

void ms_handle_send(struct server *s, const struct request *req, const struct stun_msg *m)
{
	struct alloc *a = server_alloc_find(s, req->l, req->conn, req->src);
	const struct stun_attr *da = stun_msg_attr(m, MS_A_DATA);
	const struct stun_attr *un = stun_msg_attr(m, MS_A_USERNAME);
	const uint8_t *conn_id;
	struct sockaddr_storage ss;
	struct peer p;
	uint32_t seq;

	if (!a || !a->ms) {
		s->st.drops[DROP_NO_ALLOCATION]++;
		return;
	}
	if (m->nunknown) { /* would be a 420, but a Send request is never answered */
		s->st.drops[DROP_MALFORMED]++;
		return;
	}
	/* Signed with the allocation's key, by its user, on its connection. */
	if (ms_check_key(m, a->ms) ||
	    (un && (un->len != strlen(a->user) || memcmp(un->val, a->user, un->len)))) {
		s->st.auth_failures++;
		return;
	}
	if (!msturn_seq(m, &conn_id, &seq)) {
		if (memcmp(conn_id, a->ms->conn_id, MSTURN_CONN_ID_LEN)) {
			s->st.drops[DROP_MALFORMED]++;
			return;
		}
		if (seq > a->ms->seq)
			a->ms->seq = seq;
	}
	if (!da || stun_msg_addr(m, MS_A_DESTINATION_ADDRESS, &ss)) {
		s->st.drops[DROP_MALFORMED]++;
		return;
	}
	if (!(a->family_mask & (ss.ss_family == AF_INET6 ? 2 : 1)) ||
	    !server_peer_ok(s, (struct sockaddr *)&ss, 0)) {
		s->st.drops[DROP_FILTERED]++;
		return;
	}
	peer_from_sockaddr(&p, (struct sockaddr *)&ss);
	if (alloc_perm_add(a, &p, server_now(s))) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return;
	}
	ms_tcp_permitted(a);
	datapath_to_peer(s, a, (struct sockaddr *)&ss, da->val, da->len);
}
