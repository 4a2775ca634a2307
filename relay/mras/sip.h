/* sip.h: the SIP side of MRAS ([MS-AVEDGEA] 2.2): one SERVICE request in,
 * one answer out, parsed and built with libosip2. Pure: no sockets. */
#ifndef EDGELAB_MRAS_SIP_H
#define EDGELAB_MRAS_SIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MRAS_CONTENT_TYPE "application/msrtc-media-relay-auth+xml"
/* The largest request taken: a credentialsRequest is a few hundred
 * bytes, its SIP headers a few more. */
#define MRAS_SIP_MAX 16384

/* Once per process, before any other call (osip's parser tables). */
void mras_sip_init(void);

/* Length of the SIP message at the head of p (headers and Content-Length
 * body; headers osip cannot read: the header block alone): 0 needs more
 * bytes, -1 cannot be one (too large, a bad Content-Length). A stream
 * framer for io/conn.c. */
ssize_t mras_sip_frame_len(const uint8_t *p, size_t len);

enum mras_sip_verdict {
	MRAS_SIP_OK,          /* a SERVICE with our content type: body is the XML */
	MRAS_SIP_NOT_SIP,     /* unparseable, or no Via/From/To/Call-ID/CSeq: no answer possible */
	MRAS_SIP_RESPONSE,    /* a response: nothing to answer */
	MRAS_SIP_BAD_METHOD,  /* 405 Method Not Allowed, Allow: SERVICE */
	MRAS_SIP_BAD_TYPE,    /* 415 Unsupported Media Type, Accept: ours */
};

struct mras_sip_req {
	void *msg;            /* osip_message_t, owned */
	const char *body;     /* in msg; not NUL-terminated */
	size_t body_len;
	const char *method;   /* in msg */
};

/* Parse one message (a whole frame). Always call mras_sip_free after. */
enum mras_sip_verdict mras_sip_parse(struct mras_sip_req *r, const char *buf, size_t len);
void mras_sip_free(struct mras_sip_req *r);

/* The answer to r: status and reason, with the verdict's Allow or Accept
 * header, and body (of our content type) if given. A malloc'd string in
 * *out (free() it) and its length; -1 if it could not be built. */
int mras_sip_answer(const struct mras_sip_req *r, int status, const char *reason,
		    enum mras_sip_verdict why, const char *body, size_t blen, char **out,
		    size_t *outlen);

/* ---- the client's side (edgeprobe mras) ---- */

/* A SERVICE request to uri from from (a SIP URI), sent over TLS from
 * via_host (our address, for the Via), carrying body. A malloc'd string
 * in *out; -1 if it could not be built. */
int mras_sip_request(const char *uri, const char *from, const char *via_host, const char *body,
		     size_t blen, char **out, size_t *outlen);

/* A response frame: its status code and its body (malloc'd, NUL-terminated,
 * NULL if none). 0, or -1 if it is not a SIP response. */
int mras_sip_response(const char *buf, size_t len, int *status, char **body, size_t *blen);

#endif
