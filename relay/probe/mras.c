/* mras.c: edgeprobe mras: ask an A/V authentication service ([MS-AVEDGEA])
 * for relay credentials, as a Front End does: SIP SERVICE over mutual TLS
 * with a credentialsRequest; print the credentialsResponse as one JSON
 * object. The SIP and XML are the shared MRAS codec's (relay/mras/). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mras/sip.h"
#include "mras/xml.h"
#include "probe.h"
#include "util/netaddr.h"

static const char usage[] =
	"usage: edgeprobe mras ADDR:PORT --cert FILE --key FILE --ca FILE\n"
	"                      [--identity sip:user@realm] [--location internet|intranet]\n"
	"                      [--duration MINUTES] [--bind ADDR[:PORT]] [--timeout MS]\n"
	"  Prints {\"username\",\"password\",\"duration\",\"relays\":[...]} and exits 0;\n"
	"  a one-line error and 1 otherwise (2: bad arguments).\n";

struct mras_probe {
	const char *target, *cert, *key, *ca, *identity, *bind;
	enum mras_location loc;
	unsigned duration;
	int timeout_ms;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "edgeprobe mras: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

static const char *ssl_why(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();
	const char *r;

	if (!e)
		return "connection closed";
	/* A system error (a file that is not there) has no reason string. */
	if ((r = ERR_reason_error_string(e)))
		return r;
	ERR_error_string_n(e, buf, sizeof buf);
	return buf;
}

/* Wait until fd is ready for what SSL wants, or the deadline passes. */
static int wait_io(struct mras_probe *p, int r, double deadline)
{
	int e = SSL_get_error(p->ssl, r);
	struct pollfd pf = {p->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
	double left = deadline - probe_now_ms();

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
		return -2;
	return 0;
}

static int connect_tls(struct mras_probe *p, char *local, size_t lcap, double deadline)
{
	struct sockaddr_storage to, from;
	socklen_t flen = sizeof from;
	enum transport tp;
	const char *why;
	int r, w;

	if (netaddr_parse(p->target, &to, &tp, 0, &why))
		return fail("bad address '%s': %s", p->target, why);
	if ((p->fd = socket(to.ss_family, SOCK_STREAM, 0)) < 0)
		return fail("socket: %s%s", strerror(errno), "");
	if (p->bind) {
		struct sockaddr_storage b;
		enum transport btp;
		/* ADDR, or ADDR:PORT so that a capture can find the flow. */
		if (netaddr_parse_ip(p->bind, &b) && netaddr_parse(p->bind, &b, &btp, 0, &why))
			return fail("bad --bind '%s'%s", p->bind, "");
		if (setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)))
			return fail("SO_REUSEADDR: %s%s", strerror(errno), "");
		if (bind(p->fd, (struct sockaddr *)&b, netaddr_len((struct sockaddr *)&b)))
			return fail("bind %s: %s", p->bind, strerror(errno));
	}
	/* Non-blocking from here: the connect and every TLS step end at the
	 * deadline (a SYN nobody answers would otherwise block for minutes). */
	if (fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK))
		return fail("fcntl: %s%s", strerror(errno), "");
	if (connect(p->fd, (struct sockaddr *)&to, netaddr_len((struct sockaddr *)&to))) {
		struct pollfd pf = {p->fd, POLLOUT, 0};
		double left = deadline - probe_now_ms();
		int e = 0;
		socklen_t el = sizeof e;

		if (errno != EINPROGRESS)
			return fail("connect %s: %s", p->target, strerror(errno));
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return fail("connect %s: %s", p->target, "TCP connect timed out");
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el) || e)
			return fail("connect %s: %s", p->target, strerror(e ? e : errno));
	}
	getsockname(p->fd, (struct sockaddr *)&from, &flen);
	netaddr_ip_str((struct sockaddr *)&from, local, lcap);
	if (!(p->ctx = SSL_CTX_new(TLS_client_method())))
		return fail("no TLS context%s%s", "", "");
	SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(p->ctx, p->cert) != 1)
		return fail("cannot load --cert %s: %s", p->cert, ssl_why());
	if (SSL_CTX_use_PrivateKey_file(p->ctx, p->key, SSL_FILETYPE_PEM) != 1)
		return fail("cannot load --key %s: %s", p->key, ssl_why());
	if (SSL_CTX_load_verify_locations(p->ctx, p->ca, NULL) != 1)
		return fail("cannot load --ca %s: %s", p->ca, ssl_why());
	/* The server's chain is checked against --ca; its name is not (the
	 * lab dials addresses, VIPs included, not names). */
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
	if (!(p->ssl = SSL_new(p->ctx)) || !SSL_set_fd(p->ssl, p->fd))
		return fail("no TLS session%s%s", "", "");
	while ((r = SSL_connect(p->ssl)) != 1)
		if ((w = wait_io(p, r, deadline)))
			return fail("TLS handshake with %s: %s", p->target,
				    w == -2 ? "timed out" : ssl_why());
	return 0;
}

/* Read one SIP message (framed by the shared codec) into buf. */
static int read_answer(struct mras_probe *p, char *buf, size_t cap, size_t *len, double deadline)
{
	ssize_t f;
	int r, w;

	*len = 0;
	for (;;) {
		if ((f = mras_sip_frame_len((const uint8_t *)buf, *len)) < 0)
			return fail("the answer from %s is not SIP%s", p->target, "");
		if (f > 0 && (size_t)f <= *len) {
			*len = (size_t)f;
			return 0;
		}
		if (*len == cap)
			return fail("the answer from %s is too long%s", p->target, "");
		r = SSL_read(p->ssl, buf + *len, (int)(cap - *len));
		if (r > 0) {
			*len += (size_t)r;
			continue;
		}
		/* TLS 1.3 sends the verdict on our certificate after the
		 * handshake: a refusal shows up here, as an alert. */
		if ((w = wait_io(p, r, deadline)))
			return fail("no answer from %s: %s", p->target,
				    w == -2 ? "timed out" : ssl_why());
	}
}

static void json_str(const char *key, const char *v, int comma)
{
	printf("\"%s\":\"", key);
	for (; *v; v++)
		if (*v == '"' || *v == '\\')
			printf("\\%c", *v);
		else if ((unsigned char)*v >= 0x20)
			putchar(*v);
	printf("\"%s", comma ? "," : "");
}

static void print_answer(const struct mras_answer *a)
{
	putchar('{');
	json_str("username", a->cred.user, 1);
	json_str("password", a->cred.pass, 1);
	printf("\"duration\":%u,\"relays\":[", a->duration);
	for (int i = 0; i < a->nrelays; i++) {
		printf("%s{", i ? "," : "");
		json_str("location", mras_location_name(a->relays[i].location), 1);
		json_str("host", a->relays[i].host, 1);
		printf("\"udp\":%u,\"tcp\":%u}", a->relays[i].udp, a->relays[i].tcp);
	}
	printf("]}\n");
}

static int run(struct mras_probe *p)
{
	double deadline = probe_now_ms() + p->timeout_ms;
	char local[64], uri[320], id[16], via[80], buf[MRAS_SIP_MAX + 1];
	char *xml = NULL, *sip = NULL, *body = NULL;
	size_t xlen, slen, len, blen;
	struct mras_answer a;
	const char *why;
	int status, rc = 1, r, w;

	if (connect_tls(p, local, sizeof local, deadline))
		return 1;
	snprintf(uri, sizeof uri, "sip:%s;transport=tls", p->target);
	snprintf(id, sizeof id, "%u", (unsigned)random() % 1000000000u);
	snprintf(via, sizeof via, "%s", local);
	if (mras_xml_request(id, p->identity, uri, p->identity, p->loc, p->duration, &xml, &xlen) ||
	    mras_sip_request(uri, p->identity, via, xml, xlen, &sip, &slen)) {
		rc = fail("cannot build the request (is --identity a SIP URI? '%s')%s", p->identity,
			  "");
		goto out;
	}
	for (size_t off = 0; off < slen;) {
		if ((r = SSL_write(p->ssl, sip + off, (int)(slen - off))) > 0) {
			off += (size_t)r;
			continue;
		}
		if ((w = wait_io(p, r, deadline))) {
			rc = fail("cannot send to %s: %s", p->target, w == -2 ? "timed out" : ssl_why());
			goto out;
		}
	}
	if (read_answer(p, buf, sizeof buf - 1, &len, deadline))
		goto out;
	if (mras_sip_response(buf, len, &status, &body, &blen)) {
		rc = fail("the answer from %s is not a SIP response%s", p->target, "");
		goto out;
	}
	if (status != 200) {
		char code[16];
		snprintf(code, sizeof code, "%d", status);
		rc = fail("%s answered SIP %s", p->target, code);
		goto out;
	}
	if (mras_xml_parse_response(body, blen, &a, &why)) {
		rc = fail("bad credentialsResponse: %s%s", why, "");
		goto out;
	}
	if (strcmp(a.reason, "OK")) {
		rc = fail("refused: %s%s", a.reason, "");
		goto out;
	}
	print_answer(&a);
	rc = 0;
out:
	free(xml);
	free(sip);
	free(body);
	return rc;
}

int probe_mras_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cert", required_argument, NULL, 'c'},     {"key", required_argument, NULL, 'k'},
		{"ca", required_argument, NULL, 'a'},       {"identity", required_argument, NULL, 'i'},
		{"location", required_argument, NULL, 'l'}, {"duration", required_argument, NULL, 'd'},
		{"bind", required_argument, NULL, 'b'},     {"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},           {0, 0, 0, 0},
	};
	struct mras_probe p = {.identity = "sip:probe@edge.lab", .loc = MRAS_LOC_INTERNET,
			       .duration = 480, .timeout_ms = 5000, .fd = -1};
	char *end;
	int ch, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': p.cert = optarg; break;
		case 'k': p.key = optarg; break;
		case 'a': p.ca = optarg; break;
		case 'i': p.identity = optarg; break;
		case 'b': p.bind = optarg; break;
		case 'l':
			if (mras_location_parse(optarg, &p.loc)) {
				fprintf(stderr, "edgeprobe mras: --location is internet or intranet\n");
				return 2;
			}
			break;
		case 'd':
			p.duration = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || !p.duration || *optarg == '-') {
				fprintf(stderr, "edgeprobe mras: --duration is a number of minutes (>0)\n");
				return 2;
			}
			break;
		case 'T':
			p.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end || p.timeout_ms <= 0) {
				fprintf(stderr, "edgeprobe mras: --timeout is milliseconds (>0)\n");
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "edgeprobe mras: unknown or incomplete option '%s'\n%s",
				argv[optind - 1], usage);
			return 2;
		}
	}
	if (optind != argc - 1 || !p.cert || !p.key || !p.ca) {
		fprintf(stderr, "edgeprobe mras: give ADDR:PORT, --cert, --key and --ca\n%s", usage);
		return 2;
	}
	p.target = argv[optind];
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	mras_sip_init();
	mras_xml_init();
	rc = run(&p);
	if (p.ssl) {
		SSL_shutdown(p.ssl);
		SSL_free(p.ssl);
	}
	SSL_CTX_free(p.ctx);
	if (p.fd >= 0)
		close(p.fd);
	return rc;
}
