/* server.c: the message dispatcher. Validates, rejects what it must, and
 * routes each method to the file that implements it. */
#include "log.h"
#include "server.h"

size_t server_error(struct server *srv, const struct stun_msg *m, int code,
		    const char *reason, uint8_t *out, size_t cap)
{
	struct stun_writer w;
	int n;

	stun_writer_init(&w, out, cap, m->method, STUN_ERROR, m->tid);
	stun_put_error(&w, code, reason);
	if (code == 420) {
		uint8_t list[2 * STUN_MAX_UNKNOWN];
		for (unsigned i = 0; i < m->nunknown; i++) {
			list[2 * i] = (uint8_t)(m->unknown[i] >> 8);
			list[2 * i + 1] = (uint8_t)m->unknown[i];
		}
		stun_put_attr(&w, STUN_A_UNKNOWN_ATTRIBUTES, list, 2u * m->nunknown);
	}
	stun_put_str(&w, STUN_A_SOFTWARE, srv->software);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

size_t server_handle(struct server *srv, const struct request *req, uint8_t *out,
		     size_t cap)
{
	struct stun_msg m;
	char from[NETADDR_STRLEN];
	int err = stun_msg_parse(&m, req->buf, req->len);

	srv->rx_msgs++;
	if (err) {
		srv->rx_bad++;
		log_debug("dropped %zu bytes from %s: %s", req->len,
			  netaddr_str(req->src, from, sizeof from), stun_strerror(err));
		return 0;
	}
	if (m.cls != STUN_REQUEST)
		return 0; /* indications and stray responses need no answer */
	if (m.nunknown)
		return server_error(srv, &m, 420, "Unknown Attribute", out, cap);
	switch (m.method) {
	case STUN_BINDING:
		return binding_answer(srv, req, &m, out, cap);
	default:
		return server_error(srv, &m, 400, "Bad Request: unknown method", out, cap);
	}
}
