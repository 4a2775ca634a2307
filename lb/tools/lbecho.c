/* lbecho: the smallest responder and client that report addresses, for
 * hlb's integration tests (the lab has its own, richer tools).
 *
 *   lbecho serve udp|tcp ADDR PORT [NAME]
 *       answer every datagram / connection with "NAME seen IP PORT",
 *       IP PORT being the peer as this server saw it.
 *   lbecho ask udp|tcp HOST PORT [TIMEOUT_MS] [SRCPORT] [SRCADDR]
 *       send one request, print "from IP PORT: ANSWER"; exit 1 on
 *       timeout.
 *   lbecho refused udp HOST PORT [TIMEOUT_MS]
 *       send one datagram from a connected socket and expect an ICMP
 *       error about it (port unreachable): print "refused" and exit 0
 *       when it comes (the kernel matched the error's quote to this
 *       socket), else say what came and exit 1.
 *   lbecho flood udp HOST PORT SECONDS [FLOWS]
 *       send 64-byte datagrams as fast as possible from FLOWS source
 *       ports for SECONDS; print "sent N".
 *   lbecho sink udp ADDR PORT SECONDS
 *       count datagrams for SECONDS after the first; print "pps N".
 *   lbecho rtt udp HOST PORT COUNT
 *       COUNT requests one after another, each waiting for its answer
 *       (from `serve`); print "rtt n N lost L p50 X p90 Y p99 Z" in
 *       microseconds.
 *   lbecho spray udp|tcp SRCADDR DSTADDR PORT COUNT [PPS] [TCPFLAGS]
 *       IPv4, through a raw socket: COUNT packets from SRCADDR, each from
 *       its own source port (1024 up, wrapping after 65535), at PPS
 *       (default 20000) packets per second; TCP ones carry TCPFLAGS
 *       (default 0x10, a bare ACK). Print "sent N". A flood of new flows
 *       from one source without a socket per port.
 *   lbecho idle unix PATH SECONDS
 *       connect to a unix stream socket and send nothing; print "closed
 *       after S s" and exit 0 when the server closes within SECONDS,
 *       else "still open" and exit 1.
 * flood, sink and rtt are the benchmark's packet source, counter and
 * latency probe. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int addr_of(const char *host, int port, struct sockaddr_storage *ss,
		   socklen_t *sl)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*in6);
		return 0;
	}
	return -1;
}

static void fmt(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[64];
	int port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, n, "%s %d", a, port);
}

static int serve(int tcp, const char *host, int port, const char *name)
{
	struct sockaddr_storage ss, peer;
	socklen_t sl, pl;
	char buf[2048], who[96], ans[256];
	int one = 1, fd;

	if (addr_of(host, port, &ss, &sl) < 0)
		return 2;
	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    (tcp && listen(fd, 64) < 0)) {
		perror("lbecho: bind");
		return 1;
	}
	for (;;) {
		pl = sizeof(peer);
		if (tcp) {
			int c = accept(fd, (struct sockaddr *)&peer, &pl);

			if (c < 0)
				continue;
			fmt(&peer, who, sizeof(who));
			snprintf(ans, sizeof(ans), "%s seen %s\n", name, who);
			if (write(c, ans, strlen(ans)) < 0)
				perror("lbecho: write");
			close(c);
			continue;
		}
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&peer, &pl);
		if (n < 0)
			continue;
		fmt(&peer, who, sizeof(who));
		snprintf(ans, sizeof(ans), "%s seen %s\n", name, who);
		sendto(fd, ans, strlen(ans), 0, (struct sockaddr *)&peer, pl);
	}
}

static int ask(int tcp, const char *host, int port, int timeout_ms,
	       int sport, const char *saddr)
{
	struct sockaddr_storage ss, from, local;
	socklen_t sl, fl = sizeof(from), ll;
	struct pollfd pfd;
	char buf[512], who[96];
	ssize_t n;
	int one = 1, fd;

	if (addr_of(host, port, &ss, &sl) < 0)
		return 2;
	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return 2;
	if (sport || saddr) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!saddr)
			saddr = ss.ss_family == AF_INET ? "0.0.0.0" : "::";
		if (addr_of(saddr, sport, &local, &ll) < 0)
			return 2;
		if (bind(fd, (struct sockaddr *)&local, ll) < 0) {
			perror("lbecho: bind");
			return 2;
		}
	}
	if (tcp) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
			printf("connect failed: %s\n", strerror(errno));
			return 1;
		}
		getpeername(fd, (struct sockaddr *)&from, &fl);
	} else if (sendto(fd, "?", 1, 0, (struct sockaddr *)&ss, sl) < 0) {
		printf("send failed: %s\n", strerror(errno));
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		printf("timeout\n");
		return 1;
	}
	n = tcp ? read(fd, buf, sizeof(buf) - 1)
		: recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	if (n <= 0) {
		printf("no answer: %s\n", n < 0 ? strerror(errno) : "closed");
		return 1;
	}
	buf[n] = 0;
	fmt(&from, who, sizeof(who));
	printf("from %s: %s", who, buf);
	close(fd);
	return 0;
}

static int refused(const char *host, int port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pollfd pfd;
	char buf[512];
	ssize_t n;
	int fd;

	if (addr_of(host, port, &ss, &sl) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    send(fd, "?", 1, 0) < 0) {
		printf("send failed: %s\n", strerror(errno));
		return 2;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		printf("timeout: no ICMP error came back\n");
		return 1;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == ECONNREFUSED) {
		printf("refused\n");
		return 0;
	}
	if (n < 0) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	buf[n] = 0;
	printf("answered: %s", buf);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flood(const char *host, int port, double secs, int flows)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fds[64];
	char pay[64] = "flood";
	unsigned long long sent = 0;
	double end;

	if (addr_of(host, port, &ss, &sl) < 0 || flows < 1 || flows > 64)
		return 2;
	for (int i = 0; i < flows; i++) {
		fds[i] = socket(ss.ss_family, SOCK_DGRAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&ss, sl) < 0)
			return 2;
	}
	end = now_s() + secs;
	while (now_s() < end) {
		struct mmsghdr m[64];
		struct iovec iov = { pay, sizeof(pay) };

		memset(m, 0, sizeof(m));
		for (int i = 0; i < 64; i++) {
			m[i].msg_hdr.msg_iov = &iov;
			m[i].msg_hdr.msg_iovlen = 1;
		}
		for (int i = 0; i < flows; i++) {
			int n = sendmmsg(fds[i], m, 64 / flows ? 64 / flows : 1, 0);

			if (n > 0)
				sent += (unsigned long long)n;
		}
	}
	printf("sent %llu\n", sent);
	return 0;
}

static int sink(const char *host, int port, double secs)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[2048];
	unsigned long long got = 0;
	double start = 0, t = 0, t0;
	struct timeval tv = { 0, 200000 };
	int fd, rcvbuf = 8 << 20;

	if (addr_of(host, port, &ss, &sl) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return 2;
	printf("ready\n");
	fflush(stdout);
	t0 = now_s();
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		t = now_s();
		if (n > 0) {
			if (!start)
				start = t;
			got++;
		}
		if (start && t - start >= secs)
			break;
		if (!start && t - t0 > 10) /* nothing came: bounded wait */
			break;
	}
	printf("pps %.0f\n", start ? (double)got / (t - start) : 0.0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rtt(const char *host, int port, int count)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	double *t;
	int fd, n = 0, lost = 0, run = 0;
	char buf[512];

	if (addr_of(host, port, &ss, &sl) < 0 || count < 1)
		return 2;
	t = calloc((size_t)count, sizeof(*t));
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (!t || fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0)
		return 2;
	for (int i = 0; i < count; i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double t0 = now_s(), t1;

		snprintf(buf, sizeof(buf), "rtt %d", i);
		if (send(fd, buf, strlen(buf), 0) < 0) {
			lost++;
			continue;
		}
		/* An answer to an earlier, late request is not this one's:
		 * the server's answers carry no sequence, so wait out the
		 * timeout once and drop what is queued. */
		if (poll(&pfd, 1, 200) <= 0) {
			lost++;
			while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
			if (++run == 10)
				break; /* the path is down: say so, do not hang */
			continue;
		}
		run = 0;
		if (recv(fd, buf, sizeof(buf), 0) <= 0) {
			lost++;
			continue;
		}
		t1 = now_s();
		t[n++] = (t1 - t0) * 1e6;
	}
	if (!n) {
		printf("rtt n 0 lost %d\n", lost);
		return 1;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("rtt n %d lost %d p50 %.1f p90 %.1f p99 %.1f\n", n, lost,
	       t[n / 2], t[(size_t)n * 9 / 10], t[(size_t)n * 99 / 100]);
	free(t);
	close(fd);
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)(p[n - 1] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static int spray(int tcp, const char *src, const char *dst, int port,
		 long count, long pps, int flags)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[64], *l4 = pkt + 20, ph[12];
	size_t l4len = tcp ? 20 : 8 + 16, len = 20 + l4len;
	struct in_addr sa, da;
	double start = now_s();
	long sent = 0;
	int fd;

	if (inet_pton(AF_INET, src, &sa) != 1 || inet_pton(AF_INET, dst, &da) != 1 ||
	    count < 1 || pps < 1)
		return 2;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		printf("error: raw socket: %s\n", strerror(errno));
		return 2;
	}
	to.sin_addr = da;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[6] = 0x40; /* DF */
	pkt[8] = 64;
	pkt[9] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	memcpy(pkt + 12, &sa, 4);
	memcpy(pkt + 16, &da, 4);
	memcpy(ph, &sa, 4);
	memcpy(ph + 4, &da, 4);
	ph[8] = 0;
	ph[9] = pkt[9];
	ph[10] = (uint8_t)(l4len >> 8);
	ph[11] = (uint8_t)l4len;
	for (long i = 0; i < count; i++) {
		uint16_t sport = (uint16_t)(1024 + i % (65536 - 1024)), c;

		memset(l4, 0, l4len);
		l4[0] = (uint8_t)(sport >> 8);
		l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(port >> 8);
		l4[3] = (uint8_t)port;
		if (tcp) {
			l4[4] = (uint8_t)(i >> 8); /* some sequence number */
			l4[7] = 1;
			l4[12] = 5 << 4;
			l4[13] = (uint8_t)flags;
			l4[14] = 0xff;
			l4[15] = 0xff;
		} else {
			l4[4] = (uint8_t)(l4len >> 8);
			l4[5] = (uint8_t)l4len;
			memcpy(l4 + 8, "spray", 5);
		}
		c = fold(sum16(l4, l4len, sum16(ph, sizeof(ph), 0)));
		if (!tcp && c == 0)
			c = 0xffff;
		l4[tcp ? 16 : 6] = (uint8_t)(c >> 8);
		l4[tcp ? 17 : 7] = (uint8_t)c;
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			sent++;
		/* Paced: never ahead of PPS. */
		while ((double)(i + 1) / pps > now_s() - start) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	printf("sent %ld\n", sent);
	return 0;
}

static int idle(const char *path, double secs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double start;
	char b[256];
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("error: %s: %s\n", path, strerror(errno));
		return 2;
	}
	start = now_s();
	for (;;) {
		double left = secs - (now_s() - start);
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if (read(fd, b, sizeof(b)) <= 0) {
			printf("closed after %.2f s\n", now_s() - start);
			close(fd);
			return 0;
		}
	}
	printf("still open after %.2f s\n", now_s() - start);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	int tcp;

	if (argc == 5 && strcmp(argv[1], "idle") == 0 && strcmp(argv[2], "unix") == 0)
		return idle(argv[3], atof(argv[4]));
	if (argc < 5 || (strcmp(argv[2], "udp") && strcmp(argv[2], "tcp"))) {
		fprintf(stderr, "usage: lbecho serve udp|tcp ADDR PORT [NAME]\n"
				"       lbecho ask udp|tcp HOST PORT [TIMEOUT_MS] [SRCPORT] [SRCADDR]\n"
				"       lbecho refused udp HOST PORT [TIMEOUT_MS]\n"
				"       lbecho flood udp HOST PORT SECONDS [FLOWS]\n"
				"       lbecho sink udp ADDR PORT SECONDS\n"
				"       lbecho rtt udp HOST PORT COUNT\n"
				"       lbecho spray udp|tcp SRCADDR DSTADDR PORT COUNT [PPS] [TCPFLAGS]\n"
				"       lbecho idle unix PATH SECONDS\n");
		return 2;
	}
	tcp = strcmp(argv[2], "tcp") == 0;
	if (strcmp(argv[1], "serve") == 0)
		return serve(tcp, argv[3], atoi(argv[4]), argc > 5 ? argv[5] : "server");
	if (strcmp(argv[1], "flood") == 0 && argc > 5)
		return flood(argv[3], atoi(argv[4]), atof(argv[5]),
			     argc > 6 ? atoi(argv[6]) : 8);
	if (strcmp(argv[1], "refused") == 0)
		return refused(argv[3], atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 2000);
	if (strcmp(argv[1], "rtt") == 0 && argc > 5)
		return rtt(argv[3], atoi(argv[4]), atoi(argv[5]));
	if (strcmp(argv[1], "sink") == 0 && argc > 5)
		return sink(argv[3], atoi(argv[4]), atof(argv[5]));
	if (strcmp(argv[1], "spray") == 0 && argc > 6)
		return spray(tcp, argv[3], argv[4], atoi(argv[5]), atol(argv[6]),
			     argc > 7 ? atol(argv[7]) : 20000,
			     argc > 8 ? (int)strtol(argv[8], NULL, 0) : 0x10);
	if (strcmp(argv[1], "ask") == 0)
		return ask(tcp, argv[3], atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 2000,
			   argc > 6 ? atoi(argv[6]) : 0, argc > 7 ? argv[7] : NULL);
	return 2;
}
