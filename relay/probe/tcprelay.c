/* tcprelay.c: the client side of RFC 6062, TURN TCP relaying. The control
 * session holds a TCP allocation (REQUESTED-TRANSPORT 6) and asks the
 * relay to Connect to a peer; the answer's CONNECTION-ID is then bound,
 * with ConnectionBind, on a data connection of its own to the same server,
 * after which that connection carries the peer's bytes unframed. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "turnc.h"

/* Rewrite s->err as "WHAT: REASON". The server's "Method: CODE Reason"
 * loses its method prefix (method is the request's name, or NULL); a
 * local reason, a timeout say, stays whole. */
static int name_step(struct tc_sess *s, const char *method, const char *what)
{
	size_t nl = method ? strlen(method) : 0;
	const char *why = s->err;
	char line[sizeof s->err];

	if (method && !strncmp(why, method, nl) && !strncmp(why + nl, ": ", 2))
		why += nl + 2;
	/* A long server reason may lose its tail: the line stays one line. */
	if (snprintf(line, sizeof line, "%s: %s", what, why) < 0)
		line[0] = 0;
	memcpy(s->err, line, sizeof s->err);
	return -1;
}

static void put_peer(struct stun_writer *w, const void *arg)
{
	stun_put_addr(w, STUN_A_XOR_PEER_ADDRESS, arg);
}

static void put_id(struct stun_writer *w, const void *arg)
{
	stun_put_u32(w, STUN_A_CONNECTION_ID, *(const uint32_t *)arg);
}

int tc_connect(struct tc_sess *s, const struct sockaddr *peer, uint32_t *id)
{
	const struct stun_attr *ca;
	struct stun_msg m;
	char a[NETADDR_STRLEN], what[160];

	snprintf(what, sizeof what, "Connect to %s failed", netaddr_str(peer, a, sizeof a));
	if (tc_request(s, TURN_CONNECT, put_peer, peer, &m))
		return name_step(s, "Connect", what);
	ca = stun_msg_attr(&m, STUN_A_CONNECTION_ID);
	if (!ca || stun_attr_u32(ca, id)) {
		s->code = 0;
		snprintf(s->err, sizeof s->err, "%s: success without CONNECTION-ID", what);
		return -1;
	}
	return 0;
}

int tc_data_open(struct tc_sess *d, const struct tc_sess *ctl, const char *target)
{
	char ip[NETADDR_STRLEN];

	/* The relay closes a data connection when its peer does: a write
	 * to it must fail with EPIPE (SSL_write has no MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	/* From the control connection's address (a new port): avedge's
	 * nonces, like many servers', are bound to the client's address. */
	netaddr_ip_str((const struct sockaddr *)&ctl->ps->local, ip, sizeof ip);
	if (tc_open(d, ctl->cfg, target, ip)) {
		char what[160];
		snprintf(what, sizeof what, "data connection to %s", target);
		return name_step(d, NULL, what);
	}
	/* RFC 6062 §4.3: the same credentials as the allocation; the control
	 * connection's realm and nonce may be reused rather than fetched
	 * with an unsigned first try. The username too: a REST one made
	 * now could carry a later expiry, and the relay compares names. */
	memcpy(d->user, ctl->user, sizeof d->user);
	memcpy(d->pass, ctl->pass, sizeof d->pass);
	memcpy(d->realm, ctl->realm, sizeof d->realm);
	memcpy(d->nonce, ctl->nonce, sizeof d->nonce);
	d->noncelen = ctl->noncelen;
	memcpy(d->pwalgs, ctl->pwalgs, sizeof d->pwalgs);
	d->pwalgslen = ctl->pwalgslen;
	memcpy(d->key, ctl->key, sizeof d->key);
	d->keylen = ctl->keylen;
	d->sha256 = ctl->sha256;
	d->authed = ctl->authed;
	d->reused = ctl->authed;
	return 0;
}

int tc_connection_bind(struct tc_sess *d, uint32_t id)
{
	struct stun_msg m;
	char what[160];

	snprintf(what, sizeof what, "ConnectionBind of connection id %u failed", id);
	if (tc_request(d, TURN_CONNECTION_BIND, put_id, &id, &m))
		return name_step(d, "ConnectionBind", what);
	return 0;
}

int tc_data_send(struct tc_sess *d, const void *buf, size_t len)
{
	d->code = 0;
	if (probe_send(d->ps, buf, len, d->err, sizeof d->err))
		return name_step(d, NULL, "sending to the peer over the data connection");
	return 0;
}

long tc_data_recv(struct tc_sess *d, void *buf, size_t cap, double deadline)
{
	long n;

	d->code = 0;
	n = probe_recv_raw(d->ps, buf, cap, deadline, d->err, sizeof d->err);
	if (n < 0)
		name_step(d, NULL, "reading the peer's bytes from the data connection");
	return n;
}
