/* echo.c: `edgeprobe echo ADDR:PORT`: a UDP echo peer for TURN tests; every
 * datagram goes back to its sender unchanged. Bounded by --seconds. With
 * --tcp, a TCP echo peer instead (echotcp.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo.h"
#include "out.h"
#include "turnc.h"

int probe_echo_socket(const struct sockaddr *addr, int reuseport, char *err, size_t errlen)
{
	int one = 1, buf = 4 << 20;
	int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	char a[NETADDR_STRLEN];

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	/* Bursts from many relayed addresses land here at once. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	if (bind(fd, addr, netaddr_len(addr))) {
		snprintf(err, errlen, "bind %s: %s", netaddr_str(addr, a, sizeof a), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

long probe_echo_pump(int fd, struct echo_bufs *b)
{
	long total = 0;

	/* A few batches, then back to the caller's loop so that one busy
	 * socket does not starve the others. */
	for (int round = 0; round < 4; round++) {
		int n, i, sent = 0;

		for (i = 0; i < ECHO_BATCH; i++) {
			b->iov[i].iov_base = b->data[i];
			b->iov[i].iov_len = ECHO_MTU;
			memset(&b->msg[i].msg_hdr, 0, sizeof b->msg[i].msg_hdr);
			b->msg[i].msg_hdr.msg_iov = &b->iov[i];
			b->msg[i].msg_hdr.msg_iovlen = 1;
			b->msg[i].msg_hdr.msg_name = &b->from[i];
			b->msg[i].msg_hdr.msg_namelen = sizeof b->from[i];
		}
		n = recvmmsg(fd, b->msg, ECHO_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			b->iov[i].iov_len = b->msg[i].msg_len;
		/* Send back what fits; a full socket buffer drops the rest, as
		 * a real peer would. */
		while (sent < n) {
			int k = sendmmsg(fd, b->msg + sent, (unsigned)(n - sent), MSG_DONTWAIT);
			if (k <= 0)
				break;
			sent += k;
		}
		total += n;
		if (n < ECHO_BATCH)
			break;
	}
	return total;
}

static volatile sig_atomic_t stop;
static void on_stop_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
	"usage: edgeprobe echo [--tcp] ADDR:PORT [--seconds S] [--json]\n"
	"  a UDP echo peer: each datagram goes back to its sender; runs S seconds\n"
	"  (default 60) or until SIGINT/SIGTERM, then reports how many it echoed\n"
	"  --tcp   a TCP echo peer instead (for RFC 6062 TCP relaying): accepts up\n"
	"          to 64 connections at once and writes back what each sends; reports\n"
	"          the connections accepted and the bytes echoed\n";

int probe_echo_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"tcp", no_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct sockaddr_storage addr;
	struct echo_bufs *b;
	struct out o;
	double end;
	long secs = 60, total = 0;
	int c, fd, json = 0, tcp = 0;
	char err[256], what[128];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': secs = strtol(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 't': tcp = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "edgeprobe echo: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1 || secs < 1 || secs > 86400) {
		fprintf(stderr, "edgeprobe echo: want ADDR:PORT and --seconds 1..86400\n");
		return 2;
	}
	if (tc_parse_peer("address", argv[optind], &addr))
		return 2;
	snprintf(what, sizeof what, "echo %s", argv[optind]);
	probe_out_begin(&o, json, "echo", argv[optind], tcp ? "tcp" : "udp");
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	end = probe_now_ms() + (double)secs * 1000;
	if (tcp) {
		int rc = probe_echo_tcp_serve((struct sockaddr *)&addr, end, &stop, &o, err, sizeof err);
		if (rc)
			probe_out_fail(&o, what, 0, err);
		probe_out_end(&o);
		return rc ? 1 : 0;
	}
	fd = probe_echo_socket((struct sockaddr *)&addr, 0, err, sizeof err);
	b = malloc(sizeof *b);
	if (fd < 0 || !b) {
		probe_out_fail(&o, what, 0, fd < 0 ? err : "out of memory");
		probe_out_end(&o);
		free(b);
		return 1;
	}
	while (!stop && probe_now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 100) > 0)
			total += probe_echo_pump(fd, b);
	}
	probe_out_int(&o, "echoed", total);
	probe_out_end(&o);
	close(fd);
	free(b);
	return 0;
}
