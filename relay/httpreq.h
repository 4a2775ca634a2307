/* httpreq.h: the head of one HTTP/1.x request, parsed by Debian's
 * libhttp-parser (no hand-written parsing: design rule), for /metrics. The
 * caller feeds bytes as they come and caps the total; nothing is
 * allocated. */
#ifndef EDGELAB_HTTPREQ_H
#define EDGELAB_HTTPREQ_H

#include <stddef.h>

#include <http_parser.h>

#define HTTPREQ_URL_MAX 256 /* longer URLs make the request bad */

struct httpreq {
	http_parser p;
	char url[HTTPREQ_URL_MAX];
	size_t url_len;
	int url_long;   /* the URL did not fit */
	int done;       /* the head is complete */
};

void httpreq_init(struct httpreq *r);

/* Feed the next n > 0 bytes: 1 the head is complete (what follows it is
 * not read), 0 more is needed, -1 the request is malformed. */
int httpreq_feed(struct httpreq *r, const char *buf, size_t n);

/* Of a complete head: 1 for a GET of path (the URL's path, its query
 * aside), else 0. */
int httpreq_is_get(const struct httpreq *r, const char *path);
/* 1 when the method is GET (of any path). */
int httpreq_method_get(const struct httpreq *r);

/* Why a request was bad, for logs. */
const char *httpreq_strerror(const struct httpreq *r);

#endif
