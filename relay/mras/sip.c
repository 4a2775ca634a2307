/* sip.c: MRAS's SIP with libosip2: frame, parse, check the method and the
 * content type, answer with the request's Via, From, To (tagged), Call-ID
 * and CSeq (RFC 3261 8.2.6). */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "mras/sip.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
/* osip reports parse errors on stderr by default; we log our own line. */
static void quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
}

static void init_once(void)
{
	parser_init();
	osip_trace_initialize_func(TRACE_LEVEL0, quiet);
	for (int l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level((osip_trace_level_t)l);
}
void mras_sip_init(void) { pthread_once(&once, init_once); }

ssize_t mras_sip_frame_len(const uint8_t *p, size_t len)
{
	const uint8_t *end;
	osip_message_t *m;
	size_t hdr, body = 0;

	if (len > MRAS_SIP_MAX)
		len = MRAS_SIP_MAX + 1;
	if (!(end = memmem(p, len, "\r\n\r\n", 4)))
		return len > MRAS_SIP_MAX ? -1 : 0;
	hdr = (size_t)(end - p) + 4;
	/* The headers alone say how long the body is. */
	if (osip_message_init(&m))
		return -1;
	/* osip fails on the missing body once it has read the headers:
	 * a Content-Length it found is what we need; without one, a failure
	 * is in the headers themselves. */
	if (osip_message_parse(m, (const char *)p, hdr) && !m->content_length) {
		/* Unreadable headers: the block alone goes up, to be refused
		 * (and logged) by whoever parses it. */
		osip_message_free(m);
		return (ssize_t)hdr;
	}
	if (m->content_length && m->content_length->value) {
		char *e;
		unsigned long v = strtoul(m->content_length->value, &e, 10);
		if (*e || v > MRAS_SIP_MAX)
			body = MRAS_SIP_MAX + 1;
		else
			body = v;
	}
	osip_message_free(m);
	if (hdr + body > MRAS_SIP_MAX)
		return -1;
	return (ssize_t)(hdr + body);
}

enum mras_sip_verdict mras_sip_parse(struct mras_sip_req *r, const char *buf, size_t len)
{
	osip_message_t *m;
	osip_content_type_t *ct;
	osip_body_t *b = NULL;

	memset(r, 0, sizeof *r);
	if (osip_message_init(&m))
		return MRAS_SIP_NOT_SIP;
	r->msg = m;
	if (osip_message_parse(m, buf, len))
		return MRAS_SIP_NOT_SIP;
	if (MSG_IS_RESPONSE(m))
		return MRAS_SIP_RESPONSE;
	if (!m->sip_method || osip_list_size(&m->vias) < 1 || !m->from || !m->to ||
	    !m->call_id || !m->cseq)
		return MRAS_SIP_NOT_SIP;
	r->method = m->sip_method;
	if (strcmp(m->sip_method, "SERVICE"))
		return MRAS_SIP_BAD_METHOD;
	ct = m->content_type;
	if (!ct || !ct->type || !ct->subtype ||
	    strcasecmp(ct->type, "application") ||
	    strcasecmp(ct->subtype, "msrtc-media-relay-auth+xml"))
		return MRAS_SIP_BAD_TYPE;
	if (!osip_message_get_body(m, 0, &b) && b && b->body) {
		r->body = b->body;
		r->body_len = b->length;
	}
	return MRAS_SIP_OK;
}

void mras_sip_free(struct mras_sip_req *r)
{
	if (r->msg)
		osip_message_free(r->msg);
	r->msg = NULL;
}

static int answer_reads_back(const char *s, size_t n, int status)
{
	osip_message_t *m;
	int ok;

	if (osip_message_init(&m))
		return 0;
	ok = !osip_message_parse(m, s, n) && MSG_IS_RESPONSE(m) && m->status_code == status;
	osip_message_free(m);
	return ok;
}

int mras_sip_answer(const struct mras_sip_req *r, int status, const char *reason,
		    enum mras_sip_verdict why, const char *body, size_t blen, char **out,
		    size_t *outlen)
{
	const osip_message_t *q = r->msg;
	osip_message_t *a;
	osip_generic_param_t *tag = NULL;
	char *s = NULL, len[24];
	size_t n;
	int err = -1;

	if (!q || osip_message_init(&a))
		return -1;
	osip_message_set_version(a, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(a, status);
	osip_message_set_reason_phrase(a, osip_strdup(reason));
	if (osip_list_clone(&q->vias, &a->vias, (int (*)(void *, void **))osip_via_clone) < 0 ||
	    osip_from_clone(q->from, &a->from) || osip_to_clone(q->to, &a->to) ||
	    osip_call_id_clone(q->call_id, &a->call_id) || osip_cseq_clone(q->cseq, &a->cseq))
		goto out;
	/* A final answer gives the To a tag if the request's had none. */
	if (osip_to_get_tag(a->to, &tag) && osip_to_set_tag(a->to, osip_strdup("mras")))
		goto out;
	if (why == MRAS_SIP_BAD_METHOD && osip_message_set_allow(a, "SERVICE"))
		goto out;
	if (why == MRAS_SIP_BAD_TYPE && osip_message_set_accept(a, MRAS_CONTENT_TYPE))
		goto out;
	if (body) {
		if (osip_message_set_content_type(a, MRAS_CONTENT_TYPE) ||
		    osip_message_set_body(a, body, blen))
			goto out;
	} else {
		snprintf(len, sizeof len, "0");
		if (osip_message_set_content_length(a, len))
			goto out;
	}
	if (osip_message_to_str(a, &s, &n) || !s)
		goto out;
	/* Headers osip accepted in an odd request can come out in a form it
	 * (and so a client) cannot read back: such an answer is not sent. */
	if (!answer_reads_back(s, n, status))
		goto free_s;
	if ((*out = malloc(n + 1))) {
		memcpy(*out, s, n + 1);
		*outlen = n;
		err = 0;
	}
free_s:
	osip_free(s);
out:
	osip_message_free(a);
	return err;
}

int mras_sip_request(const char *uri, const char *from, const char *via_host, const char *body,
		     size_t blen, char **out, size_t *outlen)
{
	osip_message_t *m;
	osip_uri_t *u;
	char via[320], buf[320], *s = NULL;
	size_t n;
	int err = -1;
	unsigned r = (unsigned)random();

	if (osip_message_init(&m))
		return -1;
	osip_message_set_method(m, osip_strdup("SERVICE"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&u) || (osip_message_set_uri(m, u), osip_uri_parse(u, uri)))
		goto out;
	snprintf(via, sizeof via, "SIP/2.0/TLS %s;branch=z9hG4bK%08x", via_host, r);
	snprintf(buf, sizeof buf, "<%s>;tag=%08x", from, r ^ 0x5a5a5a5au);
	if (osip_message_set_via(m, via) || osip_message_set_from(m, buf))
		goto out;
	snprintf(buf, sizeof buf, "<%s>", uri);
	if (osip_message_set_to(m, buf))
		goto out;
	snprintf(buf, sizeof buf, "%08x%08x@edgeprobe", r, (unsigned)random());
	if (osip_message_set_call_id(m, buf) || osip_message_set_cseq(m, "1 SERVICE") ||
	    osip_message_set_max_forwards(m, "70") ||
	    osip_message_set_content_type(m, MRAS_CONTENT_TYPE) ||
	    osip_message_set_body(m, body, blen))
		goto out;
	if (osip_message_to_str(m, &s, &n) || !s)
		goto out;
	if ((*out = malloc(n + 1))) {
		memcpy(*out, s, n + 1);
		*outlen = n;
		err = 0;
	}
	osip_free(s);
out:
	osip_message_free(m);
	return err;
}

int mras_sip_response(const char *buf, size_t len, int *status, char **body, size_t *blen)
{
	osip_message_t *m;
	osip_body_t *b = NULL;
	int err = -1;

	*body = NULL;
	*blen = 0;
	if (osip_message_init(&m))
		return -1;
	if (osip_message_parse(m, buf, len) || !MSG_IS_RESPONSE(m))
		goto out;
	*status = m->status_code;
	err = 0;
	if (!osip_message_get_body(m, 0, &b) && b && b->body && (*body = malloc(b->length + 1))) {
		memcpy(*body, b->body, b->length);
		(*body)[b->length] = 0;
		*blen = b->length;
	}
out:
	osip_message_free(m);
	return err;
}
