/* monitor.c: see monitor.h. Each probe is a non-blocking socket watched
 * by uv_poll, so TLS can be driven with plain SSL_connect() calls. */
#include "monitor.h"
#include "config.h"
#include "stun/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int monitor_note(const struct lb_monitor_cfg *mc, struct lb_real *r, int ok)
{
	if (ok) {
		r->fail_run = 0;
		if (r->ok_run < UINT32_MAX)
			r->ok_run++;
		if (!r->up && r->ok_run >= mc->rise) {
			r->up = 1;
			return 1;
		}
		return 0;
	}
	r->ok_run = 0;
	if (r->fail_run < UINT32_MAX)
		r->fail_run++;
	if (r->up && r->fail_run >= mc->fall) {
		r->up = 0;
		return -1;
	}
	return 0;
}

static void poll_closed(uv_handle_t *h)
{
	struct mon_probe *p = h->data;

	p->poll_closing = 0;
}

static struct lb_service *probe_service(const struct mon_probe *p)
{
	return &p->m->e->cfg->svc[p->svc];
}

static struct lb_real *probe_real(const struct mon_probe *p)
{
	return &probe_service(p)->reals[p->real];
}

static void probe_end(struct mon_probe *p, int ok)
{
	struct engine *e = p->m->e;
	struct lb_service *s = probe_service(p);
	struct lb_real *r = probe_real(p);
	int change;

	uv_timer_stop(&p->deadline);
	if (p->polling) {
		/* uv_close stops watching the fd at once, so it may be closed
		 * below; the handle itself is free only in the callback. */
		uv_close((uv_handle_t *)&p->poll, poll_closed);
		p->polling = 0;
		p->poll_closing = 1;
	}
	if (p->ssl) {
		SSL_free(p->ssl);
		p->ssl = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->m->closing)
		return;
	if (ok) {
		r->mc.ok++;
		if (p->at_deadline)
			r->mc.late++;
	} else {
		r->mc.fail++;
	}
	change = monitor_note(&s->mon, r, ok);
	if (change) {
		uint32_t flushed = 0;

		if (change < 0)
			flushed = nat_flush_real(&e->nat, p->svc, p->real);
		fprintf(stderr, "hlb: %s/%s %s by %s monitor%s\n", s->name,
			r->name, change > 0 ? "up" : "down",
			lb_config_monitor_name(s->mon.type),
			change < 0 && flushed ? ", its flows removed" : "");
	}
}

static void on_poll(uv_poll_t *h, int status, int events);

static void poll_for(struct mon_probe *p, int events)
{
	p->events = events;
	uv_poll_start(&p->poll, events, on_poll);
}

/* Every datagram the socket holds: our transaction's answer ends the
 * probe (good if it is a Binding success); anything that is not STUN, or
 * is not a response, is a server speaking something else (a fail); a
 * response to another transaction is dropped (RFC 8489 section 6.3). */
static void stun_step(struct mon_probe *p)
{
	uint8_t buf[1500];
	struct stun_msg msg;
	ssize_t n;

	for (;;) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* ICMP port unreachable shows as ECONNREFUSED: a fail. */
		if (n <= 0 || stun_msg_parse(&msg, buf, (size_t)n) < 0 ||
		    msg.cls == STUN_REQUEST || msg.cls == STUN_INDICATION) {
			probe_end(p, 0);
			return;
		}
		if (memcmp(msg.tid, p->tid, 12) != 0)
			continue;
		probe_end(p, msg.method == STUN_BINDING && msg.cls == STUN_SUCCESS);
		return;
	}
}

static void tls_step(struct mon_probe *p)
{
	int err = 0, rc;
	socklen_t el = sizeof(err);

	if (!p->ssl) {
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			probe_end(p, 0);
			return;
		}
		p->ssl = SSL_new(p->m->ssl_ctx);
		if (!p->ssl || !SSL_set_fd(p->ssl, p->fd)) {
			probe_end(p, 0);
			return;
		}
	}
	rc = SSL_connect(p->ssl);
	if (rc == 1) {
		probe_end(p, 1);
		return;
	}
	rc = SSL_get_error(p->ssl, rc);
	if (rc == SSL_ERROR_WANT_READ)
		poll_for(p, UV_READABLE);
	else if (rc == SSL_ERROR_WANT_WRITE)
		poll_for(p, UV_WRITABLE);
	else
		probe_end(p, 0);
}

/* One step of the running probe on what its socket holds now. */
static void probe_step(struct mon_probe *p)
{
	int err = 0;
	socklen_t el = sizeof(err);

	switch (probe_service(p)->mon.type) {
	case LB_MON_TCP:
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		probe_end(p, err == 0);
		return;
	case LB_MON_TLS:
		tls_step(p);
		return;
	case LB_MON_STUN:
		stun_step(p);
		return;
	default:
		probe_end(p, 1);
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct mon_probe *p = h->data;

	(void)events;
	if (status < 0) {
		probe_end(p, 0);
		return;
	}
	probe_step(p);
}

/* Before a timer judges the probe: step it on whatever has already
 * arrived (a TLS handshake may take a few steps). 1 if that ended it. */
static int probe_look(struct mon_probe *p)
{
	struct pollfd pfd;

	p->at_deadline = 1;
	for (int i = 0; i < 4 && p->fd >= 0; i++) {
		pfd.fd = p->fd;
		pfd.events = p->events == UV_WRITABLE ? POLLOUT : POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		probe_step(p);
	}
	p->at_deadline = 0;
	return p->fd < 0;
}

static int stun_send(struct mon_probe *p)
{
	ssize_t n = send(p->fd, p->req, (size_t)p->reqlen, 0);

	return n == p->reqlen ? 0 : n < 0 ? -errno : -EIO;
}

static int stun_first_send(struct mon_probe *p)
{
	struct stun_writer w;

	stun_tid_random(p->tid);
	stun_writer_init(&w, p->req, sizeof(p->req), STUN_BINDING, STUN_REQUEST,
			 p->tid);
	stun_put_fingerprint(&w);
	p->reqlen = stun_writer_finish(&w);
	if (p->reqlen < 0)
		return -EINVAL;
	return stun_send(p);
}

static void on_deadline(uv_timer_t *t)
{
	struct mon_probe *p = t->data;
	struct lb_service *s = probe_service(p);
	uint64_t now, used;

	if (probe_look(p))
		return;
	uv_update_time(p->m->e->loop);
	now = uv_now(p->m->e->loop);
	used = now - p->sent;
	if (s->mon.type == LB_MON_STUN && !p->retx && used < s->mon.timeout_ms) {
		/* Half the timeout gone, no answer: the same request again. */
		p->retx++;
		probe_real(p)->mc.retx++;
		if (stun_send(p) < 0) {
			probe_end(p, 0);
			return;
		}
		uv_timer_start(&p->deadline, on_deadline, s->mon.timeout_ms - used, 0);
		return;
	}
	probe_end(p, 0);
}

static void on_every(uv_timer_t *t)
{
	struct mon_probe *p = t->data;
	struct engine *e = p->m->e;
	struct lb_service *s = &e->cfg->svc[p->svc];
	struct lb_real *r = &s->reals[p->real];
	struct sockaddr_storage ss;
	socklen_t sl;
	int udp = s->mon.type == LB_MON_STUN;
	uint16_t port = s->mon.port ? s->mon.port : r->port;
	uint64_t first;

	if (p->fd >= 0 || p->polling || p->poll_closing)
		return; /* the last probe has not finished closing */
	memset(&ss, 0, sizeof(ss));
	if (r->addr.family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, r->addr.a, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, r->addr.a, 16);
		sl = sizeof(*in6);
	}
	p->retx = 0;
	p->fd = socket(ss.ss_family,
		       (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		probe_end(p, 0);
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		probe_end(p, 0);
		return;
	}
	if (udp && stun_first_send(p) < 0) {
		probe_end(p, 0);
		return;
	}
	if (uv_poll_init(e->loop, &p->poll, p->fd) < 0) {
		probe_end(p, 0);
		return;
	}
	p->poll.data = p;
	p->polling = 1;
	poll_for(p, udp ? UV_READABLE : UV_WRITABLE);
	/* The timeout runs from the send, not from when this wake-up began
	 * (earlier callbacks may have taken a while). */
	uv_update_time(e->loop);
	p->sent = uv_now(e->loop);
	first = udp ? s->mon.timeout_ms / 2 : s->mon.timeout_ms;
	uv_timer_start(&p->deadline, on_deadline, first ? first : 1, 0);
}

int monitor_start(struct monitor *m, struct engine *e)
{
	struct lb_config *cfg = e->cfg;
	uv_loop_t *loop = e->loop;

	memset(m, 0, sizeof(*m));
	m->e = e;
	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *s = &cfg->svc[i];

		if (s->mon.type == LB_MON_TLS && !m->ssl_ctx) {
			m->ssl_ctx = SSL_CTX_new(TLS_client_method());
			if (!m->ssl_ctx)
				return -ENOMEM;
			/* A health check: any certificate will do, the
			 * handshake completing is what is measured. */
			SSL_CTX_set_verify(m->ssl_ctx, SSL_VERIFY_NONE, NULL);
		}
		if (s->mon.type == LB_MON_NONE)
			continue;
		for (int j = 0; j < s->nreals; j++) {
			struct mon_probe *p = &m->probes[m->n++];

			p->m = m;
			p->svc = i;
			p->real = j;
			p->fd = -1;
			uv_timer_init(loop, &p->every);
			uv_timer_init(loop, &p->deadline);
			p->every.data = p;
			p->deadline.data = p;
			/* Spread the first probes over the first interval. */
			uv_timer_start(&p->every, on_every,
				       10 + (uint64_t)s->mon.interval_ms * (unsigned)j /
						    s->nreals,
				       s->mon.interval_ms);
		}
	}
	return 0;
}

void monitor_stop(struct monitor *m)
{
	m->closing = 1;
	for (int i = 0; i < m->n; i++) {
		struct mon_probe *p = &m->probes[i];

		probe_end(p, 0);
		uv_timer_stop(&p->every);
		uv_close((uv_handle_t *)&p->every, NULL);
		uv_close((uv_handle_t *)&p->deadline, NULL);
	}
	if (m->ssl_ctx)
		SSL_CTX_free(m->ssl_ctx);
	m->ssl_ctx = NULL;
}
