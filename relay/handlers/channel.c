/* channel.c: ChannelBind (RFC 8656 §11). */
#include "handlers/handlers.h"

size_t handle_channel_bind(struct server *s, const struct request *req, const struct stun_msg *m,
			   const struct auth_ok *who, struct alloc *a)
{
	const struct stun_attr *cn = stun_msg_attr(m, STUN_A_CHANNEL_NUMBER);
	const struct stun_attr *pa = stun_msg_attr(m, STUN_A_XOR_PEER_ADDRESS);
	struct stun_writer w;
	struct peer p;
	uint32_t v;
	uint16_t num;
	uint64_t now = server_now(s);
	int code, rc;

	if (!cn || !pa || stun_attr_u32(cn, &v))
		return server_error(s, m, 400, "Bad Request", who);
	num = (uint16_t)(v >> 16);
	if (num < TURN_CHANNEL_MIN || num > TURN_CHANNEL_MAX)
		return server_error(s, m, 400, "Bad Request: channel number out of range", who);
	if ((code = peer_vet(s, m, pa, a, 0, &p))) /* a channel names the port too */
		return server_error(s, m, code, reason_for(code), who);
	if ((rc = alloc_chan_bind(a, num, &p, now)))
		return server_error(s, m, rc == -1 ? 400 : 508,
				    rc == -1 ? "Bad Request: channel or peer already bound"
					     : "Insufficient Capacity", who);
	/* §11.2: binding a channel installs or refreshes the permission. */
	if (alloc_perm_add(a, &p, now))
		return server_error(s, m, 508, "Insufficient Capacity", who);
	server_begin(s, &w, m);
	return server_finish(s, &w, who);
}
