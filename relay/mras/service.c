/* service.c: MRAS requests from the SIP listeners to their answers. The
 * parsing is mras/sip.c's and mras/xml.c's, the credentials mras/cred.c's;
 * this file decides which answer a request gets, counts and logs it.
 *
 * Answers: not SIP at all (no Via, From, To, Call-ID, CSeq to answer
 * with): the connection is closed. A method other than SERVICE: 405 with
 * Allow (RFC 3261 21.4.6). Another content type: 415 with Accept (RFC 3261
 * 21.4.13). A body that is not a well-formed credentialsRequest: 200 OK
 * whose <response> says reasonPhrase "Request Malformed" (or "Version
 * Mismatch"), as [MS-AVEDGEA] carries protocol errors in the XML. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/conn.h"
#include "mras/cred.h"
#include "mras/service.h"
#include "mras/sip.h"
#include "mras/xml.h"
#include "turn/auth.h"
#include "util/log.h"

int mras_service_init(struct mras_service *m, struct avedge_conf *conf, struct stats *st)
{
	m->conf = conf;
	m->st = st;
	mras_sip_init();
	mras_xml_init();
	return auth_signing_secret(conf->auth) ? 0 : -1;
}

/* Signed with the pool's secret as it is now: after a SIGHUP that
 * rotated it, what this node issues is what every node now accepts. */
static int issue(struct mras_service *m, const char *identity, unsigned minutes,
		 struct mras_cred *cred)
{
	const char *secret;
	int rc = -1;

	pthread_rwlock_rdlock(&m->conf->reload);
	if ((secret = auth_signing_secret(m->conf->auth)))
		rc = mras_cred_issue(secret, identity, (uint64_t)time(NULL), minutes, cred);
	pthread_rwlock_unlock(&m->conf->reload);
	return rc;
}

static void send_answer(struct mras_service *m, const struct request *req,
			const struct mras_sip_req *r, int status, const char *reason,
			enum mras_sip_verdict why, const char *body, size_t blen)
{
	char *out = NULL;
	size_t n;

	if (mras_sip_answer(r, status, reason, why, body, blen, &out, &n)) {
		log_warn("MRAS: cannot build a %d answer", status);
		conn_close(req->conn);
		return;
	}
	conn_send(req->conn, (const uint8_t *)out, n);
	free(out);
}

/* The credentialsRequest in r's body: the 200 OK with credentials, or
 * with the reason it was refused. */
static void answer_xml(struct mras_service *m, const struct request *req,
		       const struct mras_sip_req *r, const char *from)
{
	const struct avedge_conf *c = m->conf;
	struct mras_creq q;
	struct mras_cred cred;
	const char *why = "";
	enum mras_reason reason;
	unsigned minutes = 0;
	char *xml = NULL;
	size_t n;

	memset(&cred, 0, sizeof cred);
	reason = mras_xml_parse(r->body, r->body_len, &q, &why);
	if (reason == MRAS_R_OK) {
		minutes = q.duration < c->mras_duration_min ? q.duration : c->mras_duration_min;
		if (issue(m, q.identity, minutes, &cred)) {
			reason = MRAS_R_INTERNAL;
			why = "cannot issue credentials";
		}
	}
	if (mras_xml_response(&q, reason, &cred, minutes, c->mras_relays, c->nmras_relays, &xml,
			      &n)) {
		log_warn("MRAS: cannot build a response for %s", from);
		conn_close(req->conn);
		return;
	}
	if (reason == MRAS_R_OK) {
		m->st->mras_issued++;
		log_info("MRAS: credentials for %s (%s, %u min) to %s", q.identity,
			 mras_location_name(q.location), minutes, from);
	} else {
		m->st->mras_errors++;
		log_ratelimited(LOG_WARN, "MRAS: request from %s refused: %s", from, why);
	}
	send_answer(m, req, r, 200, "OK", MRAS_SIP_OK, xml, n);
	free(xml);
}

static void on_msg(void *arg, const struct request *req)
{
	struct mras_service *m = arg;
	struct mras_sip_req r;
	char from[NETADDR_STRLEN];
	enum mras_sip_verdict v = mras_sip_parse(&r, (const char *)req->buf, req->len);

	netaddr_str(req->src, from, sizeof from);
	if (v != MRAS_SIP_RESPONSE)
		m->st->mras_requests++;
	switch (v) {
	case MRAS_SIP_OK:
		answer_xml(m, req, &r, from);
		break;
	case MRAS_SIP_BAD_METHOD:
		m->st->mras_errors++;
		log_ratelimited(LOG_WARN, "MRAS: %s from %s refused: 405, only SERVICE is served",
				r.method, from);
		send_answer(m, req, &r, 405, "Method Not Allowed", v, NULL, 0);
		break;
	case MRAS_SIP_BAD_TYPE:
		m->st->mras_errors++;
		log_ratelimited(LOG_WARN, "MRAS: SERVICE from %s refused: 415, content type is not "
				MRAS_CONTENT_TYPE, from);
		send_answer(m, req, &r, 415, "Unsupported Media Type", v, NULL, 0);
		break;
	case MRAS_SIP_RESPONSE: /* nothing to answer */
		break;
	case MRAS_SIP_NOT_SIP:
		m->st->mras_errors++;
		m->st->drops[DROP_MALFORMED]++;
		log_ratelimited(LOG_WARN, "MRAS: %zu bytes from %s are not a SIP request: closed",
				req->len, from);
		conn_close(req->conn);
		break;
	}
	mras_sip_free(&r);
}

static void on_conn_closed(void *arg, struct conn *c) {}

void mras_service_listener(struct mras_service *m, struct listener *l)
{
	l->cb = (struct listener_cbs){on_msg, NULL, on_conn_closed, m};
	l->frame = mras_sip_frame_len;
}
