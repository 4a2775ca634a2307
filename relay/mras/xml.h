/* xml.h: the MRAS bodies ([MS-AVEDGEA] 2.2.2), with libxml2: a
 * <request><credentialsRequest> in, a <response> out. Pure: no sockets. */
#ifndef EDGELAB_MRAS_XML_H
#define EDGELAB_MRAS_XML_H

#include <stddef.h>
#include <stdint.h>

#include "mras/cred.h"

#define MRAS_NS "http://schemas.microsoft.com/2006/09/sip/mrasp"
#define MRAS_MAX_RELAYS 16
#define MRAS_HOST_MAX 255

enum mras_location { MRAS_LOC_INTERNET, MRAS_LOC_INTRANET };

/* One <mediaRelay>: where clients of a location reach the relay. */
struct mras_relay {
	enum mras_location location;
	char host[MRAS_HOST_MAX + 1];
	uint16_t udp, tcp;
};

/* The answer's reasonPhrase values this service uses. */
enum mras_reason { MRAS_R_OK, MRAS_R_MALFORMED, MRAS_R_VERSION, MRAS_R_INTERNAL };

/* What a request says; the attributes are echoed in the response. */
struct mras_creq {
	char request_id[64], version[16], to[256], from[256];
	char creq_id[64];
	char identity[MRAS_NAME_MAX + 1];
	enum mras_location location;
	unsigned duration;   /* minutes asked for */
	int have_request;    /* the root's attributes were read (echo them) */
};

/* Once per process, before any other call (libxml2's globals). */
void mras_xml_init(void);

/* Parse a request body. MRAS_R_OK, or the reason to answer with; *why
 * says what was wrong, for the log. */
enum mras_reason mras_xml_parse(const char *body, size_t len, struct mras_creq *q,
				const char **why);

/* The <response>: for MRAS_R_OK with a credentialsResponse (cred,
 * duration in minutes, the relays), else the reason alone. A malloc'd
 * string in *out (free() it); -1 if it could not be built. */
int mras_xml_response(const struct mras_creq *q, enum mras_reason reason,
		      const struct mras_cred *cred, unsigned duration,
		      const struct mras_relay *relays, int nrelays, char **out, size_t *outlen);

const char *mras_location_name(enum mras_location l);
/* "internet" or "intranet"; 0 or -1. */
int mras_location_parse(const char *s, enum mras_location *l);

/* ---- the client's side (edgeprobe mras) ---- */

/* A <request> with one <credentialsRequest>. A malloc'd string; -1 if it
 * could not be built. */
int mras_xml_request(const char *request_id, const char *from, const char *to,
		     const char *identity, enum mras_location loc, unsigned duration, char **out,
		     size_t *outlen);

/* What a <response> says. */
struct mras_answer {
	char reason[64];        /* reasonPhrase */
	struct mras_cred cred;  /* with OK */
	unsigned duration;
	struct mras_relay relays[MRAS_MAX_RELAYS];
	int nrelays;
};

/* 0 (a well-formed response, whatever its reasonPhrase; credentials read
 * when it is "OK"), or -1 with *why. */
int mras_xml_parse_response(const char *body, size_t len, struct mras_answer *a,
			    const char **why);

#endif
