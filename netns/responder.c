/* lab-responder: the lab's stand-in for the edge services the relay does not
 * provide (Access SIP, XMPP, Web Conferencing, the internal ports) and for
 * the partner's and Front End's SIP. Every connection (or UDP datagram) gets
 * one line back: "NODE SERVICE CLIENT-ADDR:PORT LOCAL-ADDR:PORT", so a
 * scenario can tell which node answered and whether the HLB rewrote the
 * client's address (SNAT) or not.
 *
 * usage: lab-responder --name NODE [--cert PEM --key PEM]
 *                      --listen SERVICE=ADDR:PORT/tcp|tls|udp ...
 * IPv6 addresses in brackets: access=[2001:db8::1]:443/tls. Prints "ready"
 * on stdout once every socket is bound.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#define CONN_IDLE_MS 10000

enum proto { P_TCP, P_TLS, P_UDP };

struct listener {
	char service[32];
	enum proto proto;
	struct sockaddr_storage addr;
	union {
		uv_tcp_t tcp;
		uv_udp_t udp;
	} h;
};

/* One accepted TCP connection; freed when both its handles are closed. */
struct conn {
	uv_tcp_t tcp;
	uv_timer_t idle;
	struct listener *l;
	SSL *ssl;
	BIO *rbio, *wbio; /* TLS bytes in from the socket, out to it */
	char line[192];
	int answered;
	int open_handles;
};

static const char *node_name;
static SSL_CTX *tls_ctx;

static void addr_format(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		uv_ip4_name(in, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%d", host, port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		uv_ip6_name(in6, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%d", host, port);
	}
}

static void line_make(char *out, size_t len, const struct listener *l,
		      const struct sockaddr *peer, const struct sockaddr *local)
{
	char p[64], s[64];
	addr_format(peer, p, sizeof(p));
	addr_format(local, s, sizeof(s));
	snprintf(out, len, "%s %s %s %s\n", node_name, l->service, p, s);
}

/* --- connection teardown --------------------------------------------- */

static void conn_on_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	free(c);
}

static void conn_close(struct conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	uv_close((uv_handle_t *)&c->tcp, conn_on_closed);
	uv_close((uv_handle_t *)&c->idle, conn_on_closed);
}

static void conn_on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
	conn_close(req->data);
	free(req);
}

/* Half-closes after every queued write has gone out, then closes. */
static void conn_finish(struct conn *c)
{
	uv_shutdown_t *req = malloc(sizeof(*req));
	if (!req) {
		conn_close(c);
		return;
	}
	req->data = c;
	if (uv_shutdown(req, (uv_stream_t *)&c->tcp, conn_on_shutdown) < 0) {
		free(req);
		conn_close(c);
	}
}

/* --- writing ----------------------------------------------------------- */

struct write_req {
	uv_write_t req;
	char data[];
};

static void conn_on_written(uv_write_t *req, int status)
{
	free(req);
}

static int conn_write(struct conn *c, const char *data, size_t len)
{
	struct write_req *w = malloc(sizeof(*w) + len);
	if (!w)
		return -ENOMEM;
	memcpy(w->data, data, len);
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
	int err = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, conn_on_written);
	if (err < 0)
		free(w);
	return err;
}

/* Sends whatever TLS produced (handshake records, data, close_notify). */
static int conn_tls_flush(struct conn *c)
{
	char buf[4096];
	int n;
	while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0) {
		int err = conn_write(c, buf, (size_t)n);
		if (err < 0)
			return err;
	}
	return 0;
}

/* --- TLS ------------------------------------------------------------- */

/* Drives the handshake with what has arrived; once it is done, answers the
 * line, says close_notify and finishes. */
static void conn_tls_advance(struct conn *c)
{
	if (c->answered)
		return;
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->answered = 1;
		SSL_write(c->ssl, c->line, (int)strlen(c->line));
		SSL_shutdown(c->ssl);
		if (conn_tls_flush(c) < 0) {
			conn_close(c);
			return;
		}
		conn_finish(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (conn_tls_flush(c) < 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)) {
		ERR_clear_error();
		conn_close(c);
	}
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[16384];
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || !c->ssl)
		return;
	BIO_write(c->rbio, buf->base, (int)nread);
	conn_tls_advance(c);
}

/* --- accepting ------------------------------------------------------- */

static int conn_tls_init(struct conn *c)
{
	c->ssl = SSL_new(tls_ctx);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		return -ENOMEM;
	}
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	SSL_set_accept_state(c->ssl);
	return 0;
}

static void listener_on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->l = l;
	uv_tcp_init(server->loop, &c->tcp);
	uv_timer_init(server->loop, &c->idle);
	c->tcp.data = c->idle.data = c;
	c->open_handles = 2;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	struct sockaddr_storage peer, local;
	int plen = sizeof(peer), llen = sizeof(local);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &plen);
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&local, &llen);
	line_make(c->line, sizeof(c->line), l, (struct sockaddr *)&peer, (struct sockaddr *)&local);
	uv_timer_start(&c->idle, conn_on_idle, CONN_IDLE_MS, 0);
	if (l->proto == P_TCP) {
		c->answered = 1;
		if (conn_write(c, c->line, strlen(c->line)) < 0)
			conn_close(c);
		else
			conn_finish(c);
		return;
	}
	if (conn_tls_init(c) < 0 || uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read) < 0)
		conn_close(c);
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[2048];
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void udp_on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *peer, unsigned flags)
{
	struct listener *l = u->data;
	if (nread <= 0 || !peer)
		return;
	char line[192];
	line_make(line, sizeof(line), l, peer, (const struct sockaddr *)&l->addr);
	uv_buf_t out = uv_buf_init(line, (unsigned)strlen(line));
	uv_udp_try_send(u, &out, 1, peer); /* best effort, like any UDP service */
}

/* --- setup ----------------------------------------------------------- */

/* Parses SERVICE=ADDR:PORT/PROTO; returns 0 or -EINVAL. */
static int listener_parse(struct listener *l, const char *spec)
{
	char buf[160], *eq, *slash, *host, *port;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	slash = strrchr(buf, '/');
	if (!eq || !slash || slash < eq || (size_t)(eq - buf) >= sizeof(l->service) || eq == buf)
		return -EINVAL;
	*eq = *slash = '\0';
	memcpy(l->service, buf, (size_t)(eq - buf) + 1); /* length checked above */
	if (!strcmp(slash + 1, "tcp"))
		l->proto = P_TCP;
	else if (!strcmp(slash + 1, "tls"))
		l->proto = P_TLS;
	else if (!strcmp(slash + 1, "udp"))
		l->proto = P_UDP;
	else
		return -EINVAL;
	host = eq + 1;
	if (*host == '[') {
		char *end = strchr(host, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		host++;
		port = end + 2;
	} else {
		port = strrchr(host, ':');
		if (!port)
			return -EINVAL;
		*port++ = '\0';
	}
	char *endp;
	long p = strtol(port, &endp, 10);
	if (*port == '\0' || *endp != '\0' || p < 1 || p > 65535)
		return -EINVAL;
	if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)&l->addr) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)&l->addr) == 0)
		return 0;
	return -EINVAL;
}

static int listener_start(uv_loop_t *loop, struct listener *l)
{
	const struct sockaddr *sa = (const struct sockaddr *)&l->addr;
	int err;
	if (l->proto == P_UDP) {
		uv_udp_init(loop, &l->h.udp);
		l->h.udp.data = l;
		err = uv_udp_bind(&l->h.udp, sa, 0);
		if (err == 0)
			err = uv_udp_recv_start(&l->h.udp, udp_alloc, udp_on_recv);
		return err;
	}
	uv_tcp_init(loop, &l->h.tcp);
	l->h.tcp.data = l;
	err = uv_tcp_bind(&l->h.tcp, sa, 0);
	if (err == 0)
		err = uv_listen((uv_stream_t *)&l->h.tcp, 128, listener_on_connection);
	return err;
}

static SSL_CTX *tls_ctx_make(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void usage(void)
{
	fprintf(stderr, "usage: lab-responder --name NODE [--cert PEM --key PEM] "
			"--listen SERVICE=ADDR:PORT/tcp|tls|udp ...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL;
	struct listener *ls = calloc((size_t)argc, sizeof(*ls));
	int n = 0, need_tls = 0;
	if (!ls)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--name"))
			node_name = argv[++i];
		else if (!strcmp(argv[i], "--cert"))
			cert = argv[++i];
		else if (!strcmp(argv[i], "--key"))
			key = argv[++i];
		else if (!strcmp(argv[i], "--listen")) {
			if (listener_parse(&ls[n], argv[++i]) < 0) {
				fprintf(stderr, "lab-responder: bad --listen '%s' (SERVICE=ADDR:PORT/tcp|tls|udp)\n",
					argv[i]);
				return 2;
			}
			need_tls |= ls[n++].proto == P_TLS;
		} else
			usage();
	}
	if (!node_name || n == 0)
		usage();
	if (need_tls) {
		if (!cert || !key) {
			fprintf(stderr, "lab-responder: tls listeners need --cert and --key\n");
			return 2;
		}
		tls_ctx = tls_ctx_make(cert, key);
		if (!tls_ctx) {
			fprintf(stderr, "lab-responder: cannot load %s / %s\n", cert, key);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_t *loop = uv_default_loop();
	for (int i = 0; i < n; i++) {
		int err = listener_start(loop, &ls[i]);
		if (err < 0) {
			char a[64];
			addr_format((struct sockaddr *)&ls[i].addr, a, sizeof(a));
			fprintf(stderr, "lab-responder: %s on %s: %s\n", ls[i].service, a, uv_strerror(err));
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	return uv_run(loop, UV_RUN_DEFAULT);
}
