/* lab-probe: one connection (or one UDP exchange) from inside a lab node, to
 * prove a flow passes: the firewall tests pass one per port-table row, and
 * `lab status` asks the responders with it. Prints the line the far end
 * answered (lab-responder says who it is and what it saw).
 *
 * usage: lab-probe [--from ADDR] [--timeout MS] [--connect-only] tcp|tls|udp ADDR PORT
 * exit:  0 connected (tcp), handshake done (tls) or answered (udp);
 *        1 refused, timed out or failed; 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>

struct probe {
	const char *from, *host, *port, *proto;
	int timeout_ms;
	int connect_only;
};

static int probe_fail(const struct probe *p, const char *what)
{
	fprintf(stderr, "lab-probe: %s %s:%s: %s\n", p->proto, p->host, p->port, what);
	return 1;
}

static int addr_parse(const char *host, const char *port, int udp, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM};
	struct addrinfo *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A socket bound to --from (if given) and connected to the target within
 * the timeout; -1 with a message on failure. */
static int probe_connect(const struct probe *p, int udp)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	if (addr_parse(p->host, p->port, udp, &dst, &dlen) < 0)
		return probe_fail(p, "not a numeric address"), -1;
	int fd = socket(dst.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return probe_fail(p, strerror(errno)), -1;
	if (p->from) {
		if (addr_parse(p->from, "0", udp, &src, &slen) < 0 ||
		    bind(fd, (struct sockaddr *)&src, slen) < 0) {
			close(fd);
			return probe_fail(p, "cannot bind --from address"), -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		return probe_fail(p, strerror(errno)), -1;
	}
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t elen = sizeof(err);
	if (poll(&pfd, 1, p->timeout_ms) != 1) {
		close(fd);
		return probe_fail(p, "connect timed out"), -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		close(fd);
		return probe_fail(p, strerror(err)), -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = p->timeout_ms / 1000, .tv_usec = (p->timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads until newline, EOF or timeout; prints what came. */
static void line_print(const char *buf, ssize_t n)
{
	if (n > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n > 0 && buf[n - 1] != '\n')
		putchar('\n');
}

static int probe_tcp(const struct probe *p)
{
	int fd = probe_connect(p, 0);
	if (fd < 0)
		return 1;
	if (!p->connect_only) {
		char buf[512];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		line_print(buf, n);
	}
	close(fd);
	return 0;
}

static int probe_tls(const struct probe *p)
{
	int fd = probe_connect(p, 0);
	if (fd < 0)
		return 1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	int rc = 1;
	/* The lab's certificate is self-signed: this proves reachability and
	 * a handshake, not identity. */
	if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1) {
		rc = 0;
		if (!p->connect_only) {
			char buf[512];
			int n = SSL_read(ssl, buf, sizeof(buf));
			line_print(buf, n);
		}
		SSL_shutdown(ssl);
	} else {
		probe_fail(p, "TLS handshake failed");
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

static int probe_udp(const struct probe *p)
{
	int fd = probe_connect(p, 1);
	if (fd < 0)
		return 1;
	const char ping[] = "lab-probe\n";
	char buf[512];
	if (send(fd, ping, sizeof(ping) - 1, 0) < 0) {
		close(fd);
		return probe_fail(p, strerror(errno));
	}
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n <= 0)
		return probe_fail(p, n < 0 && errno == ECONNREFUSED ? "refused" : "no answer");
	line_print(buf, n);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: lab-probe [--from ADDR] [--timeout MS] [--connect-only] "
			"tcp|tls|udp ADDR PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct probe p = {.timeout_ms = 2000};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc)
			p.from = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			p.timeout_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--connect-only"))
			p.connect_only = 1;
		else
			usage();
	}
	if (argc - i != 3 || p.timeout_ms <= 0)
		usage();
	p.proto = argv[i];
	p.host = argv[i + 1];
	p.port = argv[i + 2];
	if (!strcmp(p.proto, "tcp"))
		return probe_tcp(&p);
	if (!strcmp(p.proto, "tls"))
		return probe_tls(&p);
	if (!strcmp(p.proto, "udp"))
		return probe_udp(&p);
	usage();
	return 2;
}
