/* metrics.c: a minimal HTTP/1.0 responder: read the request's head (parsed
 * by httpreq.c), answer with the counters, close. Sums each worker's
 * counters at read time.
 * Bounded like every listener (R18): at most max_conns connections, each
 * closed if its request has not come within timeout_ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"
#include "metrics.h"
#include "util/log.h"
#include "util/refuse.h"

/* The label of each limit counter, in enum limit_hit's order. */
static const char *const limit_names[LIMITS] = {
	"max_conns", "max_conns_per_source", "handshake_timeout", "idle_timeout",
	"frame_timeout", "stall_timeout", "unauth_rate", "metrics_conns", "metrics_timeout",
	"max_connects", "connect_timeout", "no_memory",
};

/* The label of each drop counter, in enum drop_reason's order. */
static const char *const drop_reason_names[DROP_REASONS] = {
	"malformed", "no_allocation", "no_permission", "no_channel",
	"rate_limit", "bandwidth", "send_failed", "filtered",
	"mux_unknown_session",
};

struct metrics {
	uv_tcp_t tcp;
	struct refuse_wait refusing;
	uv_timer_t sweep;
	struct worker *ws;
	int n;
	uint32_t timeout_ms, max_conns, open;
	int handles;             /* its handles and its connections': the last close frees */
	struct mconn *conns;
	uint64_t limits[LIMITS]; /* its own: metrics_conns, metrics_timeout */
};

struct mconn {
	uv_tcp_t tcp;
	struct mconn *prev, *next;
	uint64_t born;
	struct metrics *m;
	uv_write_t wr;
	struct httpreq hr;
	size_t len;        /* bytes of the request so far: at most sizeof req - 1 */
	char req[1024];
	char body[8192];
};

static void release(struct metrics *m)
{
	if (--m->handles == 0)
		free(m);
}

static void mconn_closed(uv_handle_t *h)
{
	struct mconn *c = h->data;
	struct metrics *m = c->m;

	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	release(m);
}

/* The slot is free once the socket is: uv_close() closes it at once, and
 * a client that connects before the callback must not be refused. */
static void mconn_close(struct mconn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
		c->m->open--;
		uv_close((uv_handle_t *)&c->tcp, mconn_closed);
	}
}

static void written(uv_write_t *w, int status) { mconn_close(w->data); }

/* A request that has not come in time: the connection goes. */
static void sweep(uv_timer_t *t)
{
	struct metrics *m = t->data;
	uint64_t now = uv_now(t->loop);

	for (struct mconn *c = m->conns; c; c = c->next)
		if (c->born && now - c->born >= m->timeout_ms) {
			m->limits[LIMIT_METRICS_TIMEOUT]++;
			mconn_close(c);
		}
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
		t.mux_sessions += s->mux_sessions;
		t.tls_failed += s->tls_failed;
		t.mras_requests += s->mras_requests;
		t.mras_issued += s->mras_issued;
		t.mras_errors += s->mras_errors;
		for (int d = 0; d < DROP_REASONS; d++)
			t.drops[d] += s->drops[d];
		for (int l = 0; l < LIMITS; l++)
			t.limits[l] += s->limits[l];
	}
	for (int l = 0; l < LIMITS; l++)
		t.limits[l] += m->limits[l];
#define OUT(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__))
	OUT("# TYPE avedge_allocations gauge\navedge_allocations %lu\n", (unsigned long)t.allocations);
	OUT("# TYPE avedge_permissions gauge\navedge_permissions %lu\n", (unsigned long)t.permissions);
	OUT("# TYPE avedge_channels gauge\navedge_channels %lu\n", (unsigned long)t.channels);
	OUT("# TYPE avedge_ms_mux_sessions gauge\navedge_ms_mux_sessions %lu\n",
	    (unsigned long)t.mux_sessions);
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
	OUT("# TYPE avedge_limit_total counter\n");
	for (int l = 0; l < LIMITS; l++)
		OUT("avedge_limit_total{limit=\"%s\"} %lu\n", limit_names[l],
		    (unsigned long)t.limits[l]);
	OUT("# TYPE avedge_tls_handshake_failures_total counter\navedge_tls_handshake_failures_total %lu\n",
	    (unsigned long)t.tls_failed);
	OUT("# TYPE avedge_mras_requests_total counter\navedge_mras_requests_total %lu\n",
	    (unsigned long)t.mras_requests);
	OUT("# TYPE avedge_mras_credentials_total counter\navedge_mras_credentials_total %lu\n",
	    (unsigned long)t.mras_issued);
	OUT("# TYPE avedge_mras_errors_total counter\navedge_mras_errors_total %lu\n",
	    (unsigned long)t.mras_errors);
#undef OUT
	return n < cap ? n : cap - 1;
}

static void mconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct mconn *c = h->data;
	b->base = c->req + c->len;
	b->len = sizeof c->req - 1 - c->len;
}

/* The status line and the body for a complete or malformed request. */
static size_t respond(struct mconn *c, int rc, char *body, size_t cap, const char **status)
{
	if (rc < 0) {
		*status = "400 Bad Request";
		return (size_t)snprintf(body, cap, "bad request: %s\n", httpreq_strerror(&c->hr));
	}
	if (!httpreq_method_get(&c->hr)) {
		*status = "405 Method Not Allowed";
		return (size_t)snprintf(body, cap, "only GET\n");
	}
	if (httpreq_is_get(&c->hr, "/metrics") || httpreq_is_get(&c->hr, "/")) {
		*status = "200 OK";
		return render(c->m, body, cap);
	}
	*status = "404 Not Found";
	return (size_t)snprintf(body, cap, "not found: try /metrics\n");
}

static void mconn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mconn *c = s->data;
	char head[256], *body = c->body + sizeof head;
	const char *status;
	size_t blen, hlen;
	int rc;
	uv_buf_t bufs;

	if (n < 0 || c->len + (size_t)n >= sizeof c->req - 1) {
		mconn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (!(rc = httpreq_feed(&c->hr, b->base, (size_t)n)))
		return;
	uv_read_stop(s);
	c->born = 0; /* answered: the timeout no longer applies */
	blen = respond(c, rc, body, sizeof c->body - sizeof head, &status);
	hlen = (size_t)snprintf(head, sizeof head,
				"HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n\r\n",
				status, blen);
	memcpy(body - hlen, head, hlen);
	bufs = uv_buf_init(body - hlen, (unsigned)(hlen + blen));
	c->wr.data = c;
	if (uv_write(&c->wr, s, &bufs, 1, written))
		mconn_close(c);
}

static void on_conn(uv_stream_t *srv, int status)
{
	struct metrics *m = srv->data;
	struct mconn *c;

	if (status < 0)
		return;
	if (!(c = calloc(1, sizeof *c))) {
		m->limits[LIMIT_NO_MEMORY]++;
		accept_refuse(srv, &m->refusing);
		return;
	}
	c->m = m;
	c->born = uv_now(srv->loop);
	httpreq_init(&c->hr);
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	m->open++;
	m->handles++;
	uv_tcp_init(srv->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp)) {
		mconn_close(c);
		return;
	}
	if (m->open > m->max_conns) { /* accepted, to take it off the backlog, and closed */
		m->limits[LIMIT_METRICS_CONNS]++;
		log_ratelimited(LOG_WARN, "/metrics connection refused: --metrics-max-conns reached");
		mconn_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, mconn_alloc, mconn_read))
		mconn_close(c);
}

/* The listener and the timer both close; the last to go frees m. */
static void metrics_closed(uv_handle_t *h) { release(h->data); }

int metrics_start(uv_loop_t *loop, const struct sockaddr *addr, struct worker *ws, int n,
		  uint32_t timeout_ms, uint32_t max_conns, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof *m);
	int err;

	*out = NULL;
	if (!m)
		return UV_ENOMEM;
	m->ws = ws;
	m->n = n;
	m->timeout_ms = timeout_ms;
	m->max_conns = max_conns;
	uv_tcp_init(loop, &m->tcp);
	uv_timer_init(loop, &m->sweep);
	m->tcp.data = m->sweep.data = m;
	m->handles = 2;
	if ((err = uv_tcp_bind(&m->tcp, addr, 0)) ||
	    (err = uv_listen((uv_stream_t *)&m->tcp, 64, on_conn))) {
		metrics_close(m);
		return err;
	}
	uv_timer_start(&m->sweep, sweep, 500, 500);
	*out = m;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	for (struct mconn *c = m->conns; c; c = c->next)
		mconn_close(c);
	accept_forget(&m->refusing);
	uv_close((uv_handle_t *)&m->tcp, metrics_closed);
	uv_close((uv_handle_t *)&m->sweep, metrics_closed);
}
