/* xml.c: MRAS request and response bodies with libxml2: the tree API
 * reads the request (no network, no entity expansion) and writes the
 * response, so escaping is the library's. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "mras/xml.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { xmlInitParser(); }
void mras_xml_init(void) { pthread_once(&once, init_once); }

/* The versions of the protocol this service speaks. */
static const char *const versions[] = {"1.0", "2.0"};
#define SERVER_VERSION "2.0"

const char *mras_location_name(enum mras_location l)
{
	return l == MRAS_LOC_INTERNET ? "internet" : "intranet";
}

int mras_location_parse(const char *s, enum mras_location *l)
{
	if (!strcmp(s, "internet"))
		*l = MRAS_LOC_INTERNET;
	else if (!strcmp(s, "intranet"))
		*l = MRAS_LOC_INTRANET;
	else
		return -1;
	return 0;
}

static int ours(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name) && n->ns &&
	       n->ns->href && !strcmp((const char *)n->ns->href, MRAS_NS);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (ours(c, name))
			return c;
	return NULL;
}

/* An attribute or an element's text into out; -1 if absent, empty or too
 * long. */
static int copy_str(xmlChar *v, char *out, size_t cap)
{
	size_t n;

	if (!v)
		return -1;
	n = strlen((const char *)v);
	if (!n || n >= cap) {
		xmlFree(v);
		return -1;
	}
	memcpy(out, v, n + 1);
	xmlFree(v);
	return 0;
}

static int attr(const xmlNode *n, const char *name, char *out, size_t cap)
{
	return copy_str(xmlGetNoNsProp(n, (const xmlChar *)name), out, cap);
}

static int text(const xmlNode *n, const char *name, char *out, size_t cap)
{
	const xmlNode *c = child(n, name);
	return c ? copy_str(xmlNodeGetContent(c), out, cap) : -1;
}

static enum mras_reason read_request(const xmlNode *root, struct mras_creq *q, const char **why)
{
	const xmlNode *cr;
	char loc[16], dur[16], *end;
	unsigned long d;
	size_t i;

	if (!ours(root, "request")) {
		*why = "the root is not <request> in the mrasp namespace";
		return MRAS_R_MALFORMED;
	}
	if (attr(root, "requestID", q->request_id, sizeof q->request_id) ||
	    attr(root, "version", q->version, sizeof q->version) ||
	    attr(root, "to", q->to, sizeof q->to) || attr(root, "from", q->from, sizeof q->from)) {
		*why = "<request> lacks requestID, version, to or from";
		return MRAS_R_MALFORMED;
	}
	q->have_request = 1;
	for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (!strcmp(q->version, versions[i]))
			break;
	if (i == sizeof versions / sizeof versions[0]) {
		*why = "unknown version";
		return MRAS_R_VERSION;
	}
	if (!(cr = child(root, "credentialsRequest"))) {
		*why = "no <credentialsRequest>";
		return MRAS_R_MALFORMED;
	}
	if (attr(cr, "credentialsRequestID", q->creq_id, sizeof q->creq_id)) {
		*why = "<credentialsRequest> lacks credentialsRequestID";
		return MRAS_R_MALFORMED;
	}
	if (text(cr, "identity", q->identity, sizeof q->identity)) {
		*why = "no <identity> (or one too long)";
		return MRAS_R_MALFORMED;
	}
	if (text(cr, "location", loc, sizeof loc) || mras_location_parse(loc, &q->location)) {
		*why = "<location> is not internet or intranet";
		return MRAS_R_MALFORMED;
	}
	if (text(cr, "duration", dur, sizeof dur)) {
		*why = "no <duration>";
		return MRAS_R_MALFORMED;
	}
	errno = 0;
	d = strtoul(dur, &end, 10);
	if (*end || errno || d == 0 || d > 0xffffffffu || dur[0] == '-' || dur[0] == '+') {
		*why = "<duration> is not a positive number of minutes";
		return MRAS_R_MALFORMED;
	}
	q->duration = (unsigned)d;
	return MRAS_R_OK;
}

enum mras_reason mras_xml_parse(const char *body, size_t len, struct mras_creq *q,
				const char **why)
{
	xmlDoc *doc;
	enum mras_reason r;

	memset(q, 0, sizeof *q);
	if (!body || !len || len > 0x7fffffff) {
		*why = "no body";
		return MRAS_R_MALFORMED;
	}
	/* No DTD loading, no entity expansion, no network: a hostile body
	 * gets nothing but the parse. */
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		*why = "not well-formed XML";
		return MRAS_R_MALFORMED;
	}
	if (doc->intSubset || doc->extSubset) {
		*why = "a DTD";
		r = MRAS_R_MALFORMED;
	} else {
		r = read_request(xmlDocGetRootElement(doc), q, why);
	}
	xmlFreeDoc(doc);
	return r;
}

static const char *reason_phrase(enum mras_reason r)
{
	switch (r) {
	case MRAS_R_OK: return "OK";
	case MRAS_R_MALFORMED: return "Request Malformed";
	case MRAS_R_VERSION: return "Version Mismatch";
	default: return "Internal Server Error";
	}
}

static int add_text(xmlNode *parent, const char *name, const char *value)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -1;
}

static int add_num(xmlNode *parent, const char *name, unsigned v)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%u", v);
	return add_text(parent, name, buf);
}

static int build(xmlNode *root, const struct mras_creq *q, enum mras_reason reason,
		 const struct mras_cred *cred, unsigned duration, const struct mras_relay *relays,
		 int nrelays)
{
	xmlNode *cr, *c, *list, *r;

	if (q && q->have_request) {
		xmlNewProp(root, (const xmlChar *)"requestID", (const xmlChar *)q->request_id);
		xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)q->version);
	}
	xmlNewProp(root, (const xmlChar *)"serverVersion", (const xmlChar *)SERVER_VERSION);
	if (q && q->have_request) {
		/* The answer goes back the other way. */
		xmlNewProp(root, (const xmlChar *)"to", (const xmlChar *)q->from);
		xmlNewProp(root, (const xmlChar *)"from", (const xmlChar *)q->to);
	}
	xmlNewProp(root, (const xmlChar *)"reasonPhrase", (const xmlChar *)reason_phrase(reason));
	if (reason != MRAS_R_OK)
		return 0;
	if (!(cr = xmlNewChild(root, NULL, (const xmlChar *)"credentialsResponse", NULL)))
		return -1;
	xmlNewProp(cr, (const xmlChar *)"credentialsRequestID", (const xmlChar *)q->creq_id);
	if (!(c = xmlNewChild(cr, NULL, (const xmlChar *)"credentials", NULL)) ||
	    add_text(c, "username", cred->user) || add_text(c, "password", cred->pass) ||
	    add_num(c, "duration", duration))
		return -1;
	if (!(list = xmlNewChild(cr, NULL, (const xmlChar *)"mediaRelayList", NULL)))
		return -1;
	for (int i = 0; i < nrelays; i++) {
		if (!(r = xmlNewChild(list, NULL, (const xmlChar *)"mediaRelay", NULL)) ||
		    add_text(r, "location", mras_location_name(relays[i].location)) ||
		    add_text(r, "hostName", relays[i].host) ||
		    (relays[i].udp && add_num(r, "udpPort", relays[i].udp)) ||
		    (relays[i].tcp && add_num(r, "tcpPort", relays[i].tcp)))
			return -1;
	}
	return 0;
}

/* new_doc NAME: a document whose root NAME is in the MRAS namespace. */
static xmlDoc *new_doc(const char *name, xmlNode **root)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");

	if (!doc)
		return NULL;
	if (!(*root = xmlNewNode(NULL, (const xmlChar *)name))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, *root);
	xmlSetNs(*root, xmlNewNs(*root, (const xmlChar *)MRAS_NS, NULL));
	return doc;
}

/* dump DOC OK: DOC as UTF-8 in a malloc'd, NUL-ended *out (when OK), and
 * DOC freed either way. */
static int dump(xmlDoc *doc, int ok, char **out, size_t *outlen)
{
	xmlChar *mem = NULL;
	int n = 0, err = -1;

	if (ok)
		xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem && n > 0 && (*out = malloc((size_t)n + 1))) {
		memcpy(*out, mem, (size_t)n + 1);
		*outlen = (size_t)n;
		err = 0;
	}
	xmlFree(mem);
	xmlFreeDoc(doc);
	return err;
}

int mras_xml_response(const struct mras_creq *q, enum mras_reason reason,
		      const struct mras_cred *cred, unsigned duration,
		      const struct mras_relay *relays, int nrelays, char **out, size_t *outlen)
{
	xmlNode *root;
	xmlDoc *doc = new_doc("response", &root);

	if (!doc)
		return -1;
	if (reason == MRAS_R_OK && (!q || !cred))
		reason = MRAS_R_INTERNAL;
	return dump(doc, !build(root, q, reason, cred, duration, relays, nrelays), out, outlen);
}

int mras_xml_request(const char *request_id, const char *from, const char *to,
		     const char *identity, enum mras_location loc, unsigned duration, char **out,
		     size_t *outlen)
{
	xmlNode *root, *cr;
	xmlDoc *doc = new_doc("request", &root);

	if (!doc)
		return -1;
	xmlNewProp(root, (const xmlChar *)"requestID", (const xmlChar *)request_id);
	xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)"1.0");
	xmlNewProp(root, (const xmlChar *)"to", (const xmlChar *)to);
	xmlNewProp(root, (const xmlChar *)"from", (const xmlChar *)from);
	cr = xmlNewChild(root, NULL, (const xmlChar *)"credentialsRequest", NULL);
	return dump(doc,
		    cr && xmlNewProp(cr, (const xmlChar *)"credentialsRequestID", (const xmlChar *)request_id) &&
			    !add_text(cr, "identity", identity) &&
			    !add_text(cr, "location", mras_location_name(loc)) &&
			    !add_num(cr, "duration", duration),
		    out, outlen);
}

static int port_of(const xmlNode *relay, const char *name, uint16_t *port)
{
	char buf[8], *end;
	unsigned long v;

	if (!child(relay, name)) {
		*port = 0;
		return 0;
	}
	if (text(relay, name, buf, sizeof buf))
		return -1;
	v = strtoul(buf, &end, 10);
	if (*end || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int read_answer(const xmlNode *root, struct mras_answer *a, const char **why)
{
	const xmlNode *cr, *c, *list;
	char dur[16], loc[16], *end;

	if (!ours(root, "response") || attr(root, "reasonPhrase", a->reason, sizeof a->reason)) {
		*why = "not a <response> with a reasonPhrase";
		return -1;
	}
	if (strcmp(a->reason, "OK"))
		return 0;
	if (!(cr = child(root, "credentialsResponse")) || !(c = child(cr, "credentials")) ||
	    !(list = child(cr, "mediaRelayList"))) {
		*why = "OK without credentials or mediaRelayList";
		return -1;
	}
	if (text(c, "username", a->cred.user, sizeof a->cred.user) ||
	    text(c, "password", a->cred.pass, sizeof a->cred.pass) ||
	    text(c, "duration", dur, sizeof dur)) {
		*why = "credentials without username, password or duration";
		return -1;
	}
	a->duration = (unsigned)strtoul(dur, &end, 10);
	if (*end || !a->duration) {
		*why = "a duration that is not a positive number";
		return -1;
	}
	for (const xmlNode *r = list->children; r; r = r->next) {
		struct mras_relay *m = &a->relays[a->nrelays];
		if (!ours(r, "mediaRelay"))
			continue;
		if (a->nrelays == MRAS_MAX_RELAYS) {
			*why = "too many mediaRelay";
			return -1;
		}
		if (text(r, "location", loc, sizeof loc) || mras_location_parse(loc, &m->location) ||
		    text(r, "hostName", m->host, sizeof m->host) || port_of(r, "udpPort", &m->udp) ||
		    port_of(r, "tcpPort", &m->tcp)) {
			*why = "a mediaRelay without location and hostName, or with a bad port";
			return -1;
		}
		a->nrelays++;
	}
	if (!a->nrelays) {
		*why = "an empty mediaRelayList";
		return -1;
	}
	return 0;
}

int mras_xml_parse_response(const char *body, size_t len, struct mras_answer *a,
			    const char **why)
{
	xmlDoc *doc;
	int r;

	memset(a, 0, sizeof *a);
	if (!body || !len || len > 0x7fffffff) {
		*why = "no body";
		return -1;
	}
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		*why = "not well-formed XML";
		return -1;
	}
	if (doc->intSubset || doc->extSubset) {
		*why = "a DTD";
		r = -1;
	} else {
		r = read_answer(xmlDocGetRootElement(doc), a, why);
	}
	xmlFreeDoc(doc);
	return r;
}
