/* metrics.c: a minimal HTTP/1.0 responder: read the request line, answer
 * with the counters, close. Sums each worker's counters at read time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* The label of each drop counter, in enum drop_reason's order. */
static const char *const drop_reason_names[DROP_REASONS] = {
	"malformed", "no_allocation", "no_permission", "no_channel",
	"rate_limit", "bandwidth", "send_failed", "filtered",
};

struct metrics {
	uv_tcp_t tcp;
	struct worker *ws;
	int n;
};

struct mconn {
	uv_tcp_t tcp;
	struct metrics *m;
	uv_write_t wr;
	size_t len;
	char req[1024];
	char body[8192];
};

static void mconn_closed(uv_handle_t *h) { free(h->data); }

static void written(uv_write_t *w, int status)
{
	struct mconn *c = w->data;
	uv_close((uv_handle_t *)&c->tcp, mconn_closed);
}

static size_t render(struct metrics *m, char *out, size_t cap)
{
	struct stats t = {0};
	size_t n = 0;

	for (int i = 0; i < m->n; i++) {
		const struct stats *s = &m->ws[i].srv.st;
		t.requests += s->requests;
		t.auth_failures += s->auth_failures;
		t.allocations_made += s->allocations_made;
		t.pkts_to_peer += s->pkts_to_peer;
		t.bytes_to_peer += s->bytes_to_peer;
		t.pkts_to_client += s->pkts_to_client;
		t.bytes_to_client += s->bytes_to_client;
		t.allocations += s->allocations;
		t.permissions += s->permissions;
		t.channels += s->channels;
		for (int d = 0; d < DROP_REASONS; d++)
			t.drops[d] += s->drops[d];
	}
#define OUT(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__))
	OUT("# TYPE avedge_allocations gauge\navedge_allocations %lu\n", (unsigned long)t.allocations);
	OUT("# TYPE avedge_permissions gauge\navedge_permissions %lu\n", (unsigned long)t.permissions);
	OUT("# TYPE avedge_channels gauge\navedge_channels %lu\n", (unsigned long)t.channels);
	OUT("# TYPE avedge_allocations_total counter\navedge_allocations_total %lu\n",
	    (unsigned long)t.allocations_made);
	OUT("# TYPE avedge_requests_total counter\navedge_requests_total %lu\n",
	    (unsigned long)t.requests);
	OUT("# TYPE avedge_auth_failures_total counter\navedge_auth_failures_total %lu\n",
	    (unsigned long)t.auth_failures);
	OUT("# TYPE avedge_relayed_packets_total counter\n");
	OUT("avedge_relayed_packets_total{direction=\"to_peer\"} %lu\n", (unsigned long)t.pkts_to_peer);
	OUT("avedge_relayed_packets_total{direction=\"to_client\"} %lu\n",
	    (unsigned long)t.pkts_to_client);
	OUT("# TYPE avedge_relayed_bytes_total counter\n");
	OUT("avedge_relayed_bytes_total{direction=\"to_peer\"} %lu\n", (unsigned long)t.bytes_to_peer);
	OUT("avedge_relayed_bytes_total{direction=\"to_client\"} %lu\n",
	    (unsigned long)t.bytes_to_client);
	OUT("# TYPE avedge_drops_total counter\n");
	for (int d = 0; d < DROP_REASONS; d++)
		OUT("avedge_drops_total{reason=\"%s\"} %lu\n", drop_reason_names[d],
		    (unsigned long)t.drops[d]);
#undef OUT
	return n < cap ? n : cap - 1;
}

static void mconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct mconn *c = h->data;
	b->base = c->req + c->len;
	b->len = sizeof c->req - 1 - c->len;
}

static void mconn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mconn *c = s->data;
	char head[256], *body = c->body + sizeof head;
	size_t blen, hlen;
	int ok;
	uv_buf_t bufs;

	if (n < 0 || c->len + (size_t)n >= sizeof c->req - 1) {
		uv_close((uv_handle_t *)&c->tcp, mconn_closed);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = 0;
	if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n"))
		return;
	uv_read_stop(s);
	ok = !strncmp(c->req, "GET /metrics ", 13) || !strncmp(c->req, "GET / ", 6);
	blen = ok ? render(c->m, body, sizeof c->body - sizeof head) : 0;
	if (!ok)
		blen = (size_t)snprintf(body, 64, "not found: try /metrics\n");
	hlen = (size_t)snprintf(head, sizeof head,
				"HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n\r\n",
				ok ? "200 OK" : "404 Not Found", blen);
	memcpy(body - hlen, head, hlen);
	bufs = uv_buf_init(body - hlen, (unsigned)(hlen + blen));
	c->wr.data = c;
	if (uv_write(&c->wr, s, &bufs, 1, written))
		uv_close((uv_handle_t *)&c->tcp, mconn_closed);
}

static void on_conn(uv_stream_t *srv, int status)
{
	struct metrics *m = srv->data;
	struct mconn *c;

	if (status < 0 || !(c = calloc(1, sizeof *c)))
		return;
	c->m = m;
	uv_tcp_init(srv->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp)) {
		uv_close((uv_handle_t *)&c->tcp, mconn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, mconn_alloc, mconn_read);
}

static void metrics_closed(uv_handle_t *h) { free(h->data); }

int metrics_start(uv_loop_t *loop, const struct sockaddr *addr, struct worker *ws, int n,
		  struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof *m);
	int err;

	if (!m)
		return UV_ENOMEM;
	m->ws = ws;
	m->n = n;
	uv_tcp_init(loop, &m->tcp);
	m->tcp.data = m;
	if ((err = uv_tcp_bind(&m->tcp, addr, 0)) ||
	    (err = uv_listen((uv_stream_t *)&m->tcp, 64, on_conn))) {
		uv_close((uv_handle_t *)&m->tcp, metrics_closed);
		*out = NULL;
		return err;
	}
	*out = m;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (m)
		uv_close((uv_handle_t *)&m->tcp, metrics_closed);
}
