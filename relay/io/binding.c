/* binding.c: answer STUN Binding requests. The answer tells the client the
 * address it was seen from (XOR-MAPPED-ADDRESS, and MAPPED-ADDRESS for
 * RFC 3489-era clients) and the address that answered (RESPONSE-ORIGIN), so
 * a scenario can tell a VIP from a real server. */
#include "server.h"

size_t binding_answer(struct server *srv, const struct request *req,
		      const struct stun_msg *m, uint8_t *out, size_t cap)
{
	struct stun_writer w;
	int n;

	stun_writer_init(&w, out, cap, STUN_BINDING, STUN_SUCCESS, m->tid);
	stun_put_addr(&w, STUN_A_XOR_MAPPED_ADDRESS, req->src);
	stun_put_addr(&w, STUN_A_MAPPED_ADDRESS, req->src);
	if (req->local)
		stun_put_addr(&w, STUN_A_RESPONSE_ORIGIN, req->local);
	stun_put_str(&w, STUN_A_SOFTWARE, srv->software);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}
