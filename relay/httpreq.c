/* httpreq.c: an HTTP/1.x request head on libhttp-parser (httpreq.h). The
 * parser is paused once the head is complete, so a body or a pipelined
 * request behind it is never looked at: /metrics answers one request and
 * closes. */
#include <string.h>

#include "httpreq.h"

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct httpreq *r = p->data;

	if (len > sizeof r->url - r->url_len) {
		r->url_long = 1;
		return 1; /* an error for the parser: stop here */
	}
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct httpreq *r = p->data;

	r->done = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_headers_complete = on_headers_complete,
};

void httpreq_init(struct httpreq *r)
{
	memset(r, 0, sizeof *r);
	http_parser_init(&r->p, HTTP_REQUEST);
	r->p.data = r;
}

int httpreq_feed(struct httpreq *r, const char *buf, size_t n)
{
	size_t used;

	if (r->done)
		return 1;
	if (!n) /* to the parser, 0 bytes would mean the end of the stream */
		return 0;
	used = http_parser_execute(&r->p, &settings, buf, n);
	if (r->done)
		return 1;
	if (HTTP_PARSER_ERRNO(&r->p) != HPE_OK || used != n)
		return -1;
	return 0;
}

int httpreq_method_get(const struct httpreq *r)
{
	return r->done && r->p.method == HTTP_GET;
}

int httpreq_is_get(const struct httpreq *r, const char *path)
{
	struct http_parser_url u;
	size_t plen = strlen(path);

	if (!httpreq_method_get(r))
		return 0;
	http_parser_url_init(&u);
	if (http_parser_parse_url(r->url, r->url_len, 0, &u) || !(u.field_set & (1 << UF_PATH)))
		return 0;
	return u.field_data[UF_PATH].len == plen &&
	       !memcmp(r->url + u.field_data[UF_PATH].off, path, plen);
}

const char *httpreq_strerror(const struct httpreq *r)
{
	if (r->url_long)
		return "URL too long";
	return http_errno_description(HTTP_PARSER_ERRNO(&r->p));
}
