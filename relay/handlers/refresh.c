/* refresh.c: Refresh (RFC 8656 §7.4): a new lifetime, or 0 to end. */
#include "handlers/handlers.h"

size_t handle_refresh(struct server *s, const struct request *req, const struct stun_msg *m,
		      const struct auth_ok *who, struct alloc *a)
{
	const struct stun_attr *la = stun_msg_attr(m, STUN_A_LIFETIME);
	const struct stun_attr *rf = stun_msg_attr(m, STUN_A_REQUESTED_ADDRESS_FAMILY);
	struct stun_writer w;
	uint32_t life = TURN_DEFAULT_LIFETIME_S;

	/* A family that the allocation does not have is a mismatch. */
	if (rf && !(a->family_mask & (rf->val[0] == 0x02 ? 2 : rf->val[0] == 0x01 ? 1 : 0)))
		return server_error(s, m, 443, "Peer Address Family Mismatch", who);
	if (la)
		stun_attr_u32(la, &life);
	if (la && life == 0) {
		server_alloc_free(s, a);
	} else {
		life = lifetime_for(s, m);
		a->expires = server_now(s) + life * 1000ull;
	}
	server_begin(s, &w, m);
	stun_put_u32(&w, STUN_A_LIFETIME, life);
	return server_finish(s, &w, who);
}
