/* binding.c: STUN Binding. The answer tells the client the address it was
 * seen from (XOR-MAPPED-ADDRESS, and MAPPED-ADDRESS for RFC 3489-era
 * clients) and the address that answered (RESPONSE-ORIGIN), so a scenario
 * can tell a VIP from a real server. */
#include "handlers/handlers.h"

size_t handle_binding(struct server *s, const struct request *req, const struct stun_msg *m)
{
	struct stun_writer w;

	server_begin(s, &w, m);
	stun_put_addr(&w, STUN_A_XOR_MAPPED_ADDRESS, req->src);
	stun_put_addr(&w, STUN_A_MAPPED_ADDRESS, req->src);
	if (req->local)
		stun_put_addr(&w, STUN_A_RESPONSE_ORIGIN, req->local);
	stun_put_str(&w, STUN_A_SOFTWARE, s->conf->software);
	return server_finish(s, &w, NULL);
}
