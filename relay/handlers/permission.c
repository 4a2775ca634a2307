/* permission.c: CreatePermission (RFC 8656 §9), and the peer check that
 * ChannelBind shares. */
#include "handlers/handlers.h"

int peer_vet(struct server *s, const struct stun_msg *m, const struct stun_attr *pa,
	     const struct alloc *a, int ip_only, struct peer *out)
{
	struct sockaddr_storage ss;

	if (stun_attr_addr(m, pa, &ss))
		return 400;
	if (!(a->family_mask & (ss.ss_family == AF_INET6 ? 2 : 1)))
		return 443;
	if (!server_peer_ok(s, (struct sockaddr *)&ss, ip_only)) {
		s->st.drops[DROP_FILTERED]++;
		return 403;
	}
	peer_from_sockaddr(out, (struct sockaddr *)&ss);
	return 0;
}

const char *reason_for(int code)
{
	return code == 403 ? "Forbidden" : code == 443 ? "Peer Address Family Mismatch"
			   : code == 508 ? "Insufficient Capacity" : "Bad Request";
}

size_t handle_create_permission(struct server *s, const struct request *req,
				const struct stun_msg *m, const struct auth_ok *who,
				struct alloc *a)
{
	struct peer peers[STUN_MAX_ATTRS];
	struct stun_writer w;
	unsigned n = 0;
	uint64_t now = server_now(s);

	/* All or nothing (§9.2): vet every peer before installing any. */
	for (unsigned i = 0; i < m->nattrs; i++) {
		int code;
		if (m->attrs[i].type != STUN_A_XOR_PEER_ADDRESS)
			continue;
		/* per IP: the port is vetted as data is sent (data.c) */
		if ((code = peer_vet(s, m, &m->attrs[i], a, 1, &peers[n])))
			return server_error(s, m, code, reason_for(code), who);
		n++;
	}
	if (!n)
		return server_error(s, m, 400, "Bad Request: no XOR-PEER-ADDRESS", who);
	for (unsigned i = 0; i < n; i++)
		if (alloc_perm_add(a, &peers[i], now))
			return server_error(s, m, 508, "Insufficient Capacity", who);
	server_begin(s, &w, m);
	return server_finish(s, &w, who);
}
