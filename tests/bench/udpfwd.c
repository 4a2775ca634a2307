/* udpfwd: the relay bench's yardstick (tests/bench/relay-vs-coturn). A
 * bare UDP forwarder with avedge's batching and none of TURN: a client's
 * first datagram gives it its own forwarding socket on --relay-ip (a fixed
 * mapping, as an allocation with one channel to one peer); ChannelData
 * frames from the client leave that socket to --peer without their 4-byte
 * header, and the peer's datagrams go back to the client with one. No
 * authentication, permissions, channels or STUN: what is left is the cost
 * of the system calls, which is how far a relay on this machine can get.
 *
 * Batching as avedge's: recvmmsg on the listener (up to 64) and on each
 * forwarding socket (up to 8), outgoing datagrams copied into one batch
 * per thread and sent with one sendmmsg per socket when the epoll round is
 * done. Threads as avedge's: one listener per thread with SO_REUSEPORT.
 * Nothing is allocated per packet. A bench tool, not installed.
 *
 * udpfwd --listen IP:PORT --relay-ip IP --peer IP:PORT [--threads T]
 *        [--clients N] [--idle-timeout S] [--connected]
 * --connected: forwarding sockets connect() to the peer and send without
 * an address (the kernel keeps the route): what connected relayed sockets
 * would give a relay, measured without writing them into one.
 * --uring: the forwarding sockets' reads and every send of an epoll round
 * go to the kernel as io_uring entries, one io_uring_enter for the reads
 * of all readable sockets and one for the whole send batch, instead of a
 * recvmmsg and a sendmmsg per socket: what io_uring would give a relay,
 * measured the same way (lb/uring.c, the raw system calls).
 * Runs till SIGTERM or SIGINT, then prints its counters on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/uring.h"

#define RX_LISTEN 64 /* libuv's listener reads are of this order too */
#define RX_FWD 8     /* avedge's RELAYED_BATCH */
#define TX_BATCH 64  /* avedge's UDP_BATCH */
#define SLOT 2048
#define HDR 4        /* ChannelData header */
#define CHANNEL 0x4000
#define RX_URING 256 /* --uring: reads in flight per epoll round */

struct client {
	struct sockaddr_in addr; /* the client; port 0: slot free */
	int fd;                  /* its forwarding socket */
	time_t last;
};

struct tx {
	int fd, connected; /* connected: no address on the send */
	struct sockaddr_in to;
	struct iovec iov;
	struct msghdr mh; /* --uring: the entry's message */
	uint8_t slot[SLOT];
};

/* --uring: one read entry's buffer and message. */
struct urx {
	unsigned ci; /* the client whose socket it reads */
	int res;     /* the read's result */
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_in from;
	uint8_t buf[HDR + SLOT];
};

struct fwd {
	pthread_t th;
	int lfd, ep;
	unsigned cap, nclients;
	struct client *c;    /* cap entries; index i is epoll tag i + 1 */
	unsigned *hash;      /* 2 * cap: client index + 1, 0 empty (linear probe) */
	unsigned ntx;
	struct tx tx[TX_BATCH];
	struct mmsghdr rmsg[RX_LISTEN];
	struct iovec riov[RX_LISTEN];
	struct sockaddr_in rfrom[RX_LISTEN];
	uint8_t rbuf[RX_LISTEN][HDR + SLOT];
	uint64_t to_peer, to_client, dropped, refused, expired, send_failed;
	struct uring ring; /* --uring */
	struct urx *urx;   /* RX_URING */
};

static struct sockaddr_in listen_addr, relay_addr, peer_addr;
static unsigned idle_timeout = 60;
static int connect_peer, use_uring;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) { stopping = 1; }

static int parse_addr(const char *s, struct sockaddr_in *a, int want_port)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	long port = 0;

	if (n >= sizeof ip)
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		return -1;
	if (want_port) {
		if (!colon)
			return -1;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return -1;
	} else if (colon) {
		return -1;
	}
	a->sin_port = htons((uint16_t)port);
	return 0;
}

static unsigned hash_of(const struct sockaddr_in *a, unsigned size)
{
	uint64_t k = ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port;
	return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> 32) % size;
}

static int same(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* ---- the send batch: copies, grouped by socket when flushed ---- */

/* --uring: every queued datagram as one SENDMSG entry, all in one enter;
 * the sockets are non-blocking, so each completes during the enter. */
static void flush_uring(struct fwd *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->ntx; i++) {
		struct tx *t = &f->tx[i];
		struct io_uring_sqe *sqe = uring_get_sqe(&f->ring);
		if (!sqe) {
			f->send_failed++;
			continue;
		}
		memset(&t->mh, 0, sizeof t->mh);
		if (!t->connected) {
			t->mh.msg_name = &t->to;
			t->mh.msg_namelen = sizeof t->to;
		}
		t->mh.msg_iov = &t->iov;
		t->mh.msg_iovlen = 1;
		uring_prep_msg(sqe, IORING_OP_SENDMSG, t->fd, &t->mh, 0);
		n++;
	}
	if (n && uring_submit(&f->ring) < 0)
		f->send_failed += n;
	for (struct io_uring_cqe *c; (c = uring_peek_cqe(&f->ring)); uring_cqe_seen(&f->ring)) {
		if (c->res < 0)
			f->send_failed++;
	}
	f->ntx = 0;
}

static void flush(struct fwd *f)
{
	struct mmsghdr v[TX_BATCH];
	uint8_t done[TX_BATCH] = {0};

	if (use_uring) {
		flush_uring(f);
		return;
	}
	for (unsigned i = 0; i < f->ntx; i++) {
		unsigned k = 0, sent = 0;
		if (done[i])
			continue;
		for (unsigned j = i; j < f->ntx; j++) {
			if (done[j] || f->tx[j].fd != f->tx[i].fd)
				continue;
			done[j] = 1;
			memset(&v[k], 0, sizeof v[k]);
			if (!f->tx[j].connected) {
				v[k].msg_hdr.msg_name = &f->tx[j].to;
				v[k].msg_hdr.msg_namelen = sizeof f->tx[j].to;
			}
			v[k].msg_hdr.msg_iov = &f->tx[j].iov;
			v[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		while (sent < k) {
			int r = sendmmsg(f->tx[i].fd, v + sent, k - sent, MSG_DONTWAIT);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) { /* a full buffer: this one is lost, as on a wire */
				f->send_failed++;
				sent++;
				continue;
			}
			sent += (unsigned)r;
		}
	}
	f->ntx = 0;
}

static void queue(struct fwd *f, int fd, const struct sockaddr_in *to, const uint8_t *hdr,
		  const uint8_t *data, size_t len)
{
	struct tx *t;
	size_t h = hdr ? HDR : 0;

	if (h + len > SLOT) {
		f->dropped++;
		return;
	}
	if (f->ntx == TX_BATCH)
		flush(f);
	t = &f->tx[f->ntx++];
	t->fd = fd;
	t->connected = connect_peer && fd != f->lfd;
	t->to = *to;
	if (h)
		memcpy(t->slot, hdr, h);
	memcpy(t->slot + h, data, len);
	t->iov.iov_base = t->slot;
	t->iov.iov_len = h + len;
}

/* ---- the mapping ---- */

static void client_drop(struct fwd *f, unsigned i)
{
	unsigned size = 2 * f->cap, h = hash_of(&f->c[i].addr, size);

	close(f->c[i].fd);
	f->c[i].addr.sin_port = 0;
	f->nclients--;
	/* Linear probing: take the entry out, then put back the run after it. */
	while (f->hash[h] != i + 1)
		h = (h + 1) % size;
	f->hash[h] = 0;
	for (h = (h + 1) % size; f->hash[h]; h = (h + 1) % size) {
		unsigned j = f->hash[h] - 1, g = hash_of(&f->c[j].addr, size);
		f->hash[h] = 0;
		while (f->hash[g])
			g = (g + 1) % size;
		f->hash[g] = j + 1;
	}
}

static int client_find(struct fwd *f, const struct sockaddr_in *a, time_t now)
{
	unsigned size = 2 * f->cap, h = hash_of(a, size), i;
	struct epoll_event ev = {.events = EPOLLIN};

	for (; f->hash[h]; h = (h + 1) % size)
		if (same(&f->c[f->hash[h] - 1].addr, a))
			return (int)f->hash[h] - 1;
	if (f->nclients == f->cap) {
		f->refused++;
		return -1;
	}
	for (i = 0; f->c[i].addr.sin_port; i++)
		;
	f->c[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->c[i].fd < 0 || bind(f->c[i].fd, (struct sockaddr *)&relay_addr, sizeof relay_addr) ||
	    (connect_peer && connect(f->c[i].fd, (struct sockaddr *)&peer_addr, sizeof peer_addr))) {
		if (f->c[i].fd >= 0)
			close(f->c[i].fd);
		f->refused++;
		return -1;
	}
	ev.data.u32 = i + 1;
	epoll_ctl(f->ep, EPOLL_CTL_ADD, f->c[i].fd, &ev);
	f->c[i].addr = *a;
	f->c[i].last = now;
	f->hash[h] = i + 1;
	f->nclients++;
	return (int)i;
}

static void expire(struct fwd *f, time_t now)
{
	for (unsigned i = 0; i < f->cap; i++)
		if (f->c[i].addr.sin_port && now - f->c[i].last > (time_t)idle_timeout) {
			client_drop(f, i);
			f->expired++;
		}
}

/* ---- the loop ---- */

static int recv_batch(struct fwd *f, int fd, unsigned max)
{
	int n;

	for (unsigned i = 0; i < max; i++) {
		f->riov[i].iov_base = f->rbuf[i] + HDR;
		f->riov[i].iov_len = SLOT;
		memset(&f->rmsg[i].msg_hdr, 0, sizeof f->rmsg[i].msg_hdr);
		f->rmsg[i].msg_hdr.msg_name = &f->rfrom[i];
		f->rmsg[i].msg_hdr.msg_namelen = sizeof f->rfrom[i];
		f->rmsg[i].msg_hdr.msg_iov = &f->riov[i];
		f->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	do
		n = recvmmsg(fd, f->rmsg, max, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	return n;
}

static void from_clients(struct fwd *f, time_t now)
{
	int n = recv_batch(f, f->lfd, RX_LISTEN);

	for (int i = 0; i < n; i++) {
		const uint8_t *p = f->rbuf[i] + HDR;
		size_t len = f->rmsg[i].msg_len;
		int c;

		if (len < HDR || (p[0] & 0xc0) != 0x40 || f->rfrom[i].sin_family != AF_INET) {
			f->dropped++; /* not ChannelData: nothing else is spoken here */
			continue;
		}
		if ((c = client_find(f, &f->rfrom[i], now)) < 0)
			continue;
		f->c[c].last = now;
		queue(f, f->c[c].fd, &peer_addr, NULL, p + HDR, len - HDR);
		f->to_peer++;
	}
}

static void peer_datagram(struct fwd *f, struct client *c, const struct sockaddr_in *from,
			  const uint8_t *p, size_t len, time_t now)
{
	uint8_t hdr[HDR] = {CHANNEL >> 8, CHANNEL & 0xff, (uint8_t)(len >> 8), (uint8_t)len};

	if (!same(from, &peer_addr)) {
		f->dropped++; /* only the fixed peer is forwarded */
		return;
	}
	c->last = now;
	queue(f, f->lfd, &c->addr, hdr, p, len);
	f->to_client++;
}

static void from_peer(struct fwd *f, unsigned ci, time_t now)
{
	int n = recv_batch(f, f->c[ci].fd, RX_FWD);

	for (int i = 0; i < n; i++)
		peer_datagram(f, &f->c[ci], &f->rfrom[i], f->rbuf[i] + HDR, f->rmsg[i].msg_len, now);
}

/* --uring: RX_PER reads per readable socket (a second one mostly finds
 * nothing; what is left is reported again by the level-triggered epoll),
 * all in one enter, then the datagrams in completion order. */
#define RX_PER 2
static void from_peers_uring(struct fwd *f, const unsigned *ci, unsigned k, time_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < k && n + RX_PER <= RX_URING; i++)
		for (unsigned r = 0; r < RX_PER; r++, n++) {
			struct urx *x = &f->urx[n];
			struct io_uring_sqe *sqe = uring_get_sqe(&f->ring);
			if (!sqe)
				goto submit;
			x->ci = ci[i];
			x->res = -EAGAIN;
			x->iov.iov_base = x->buf + HDR;
			x->iov.iov_len = SLOT;
			memset(&x->mh, 0, sizeof x->mh);
			x->mh.msg_name = &x->from;
			x->mh.msg_namelen = sizeof x->from;
			x->mh.msg_iov = &x->iov;
			x->mh.msg_iovlen = 1;
			uring_prep_msg(sqe, IORING_OP_RECVMSG, f->c[ci[i]].fd, &x->mh, n);
		}
submit:
	if (!n || uring_submit(&f->ring) < 0)
		return;
	/* Results first, datagrams after: handling one may flush the send
	 * batch, which uses the same ring. */
	for (struct io_uring_cqe *c; (c = uring_peek_cqe(&f->ring)); uring_cqe_seen(&f->ring))
		if (c->user_data < n)
			f->urx[c->user_data].res = c->res;
	for (unsigned i = 0; i < n; i++) {
		struct urx *x = &f->urx[i];
		if (x->res > 0 && f->c[x->ci].addr.sin_port)
			peer_datagram(f, &f->c[x->ci], &x->from, x->buf + HDR, (size_t)x->res, now);
	}
}

static void *run(void *arg)
{
	struct fwd *f = arg;
	struct epoll_event evs[256];
	unsigned ready[256];
	time_t next_sweep = time(NULL) + 1;

	while (!stopping) {
		int n = epoll_wait(f->ep, evs, 256, 200);
		time_t now = time(NULL);
		unsigned k = 0;

		for (int e = 0; e < n; e++) {
			uint32_t tag = evs[e].data.u32;
			if (!tag)
				from_clients(f, now);
			else if (!f->c[tag - 1].addr.sin_port)
				continue;
			else if (use_uring)
				ready[k++] = tag - 1;
			else
				from_peer(f, tag - 1, now);
		}
		if (k)
			from_peers_uring(f, ready, k, now);
		flush(f);
		if (now >= next_sweep) {
			expire(f, now);
			next_sweep = now + 1;
		}
	}
	return NULL;
}

static int fwd_init(struct fwd *f, unsigned cap)
{
	int one = 1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};

	f->cap = cap;
	f->c = calloc(cap, sizeof *f->c);
	f->hash = calloc(2 * (size_t)cap, sizeof *f->hash);
	f->lfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!f->c || !f->hash || f->lfd < 0 || f->ep < 0)
		return -1;
	if (use_uring) {
		int rc = uring_init(&f->ring, RX_URING + TX_BATCH);
		if (rc || !(f->urx = calloc(RX_URING, sizeof *f->urx))) {
			errno = rc ? -rc : ENOMEM;
			return -1;
		}
	}
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(f->lfd, (struct sockaddr *)&listen_addr, sizeof listen_addr))
		return -1;
	return epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &ev);
}

static const char usage[] =
	"usage: udpfwd --listen IP:PORT --relay-ip IP --peer IP:PORT [--threads T]\n"
	"              [--clients N] [--idle-timeout S] [--connected] [--uring]\n"
	"  a bare UDP forwarder, the yardstick of tests/bench/relay-vs-coturn (IPv4)\n"
	"  --clients N        clients (forwarding sockets) per thread, 1..65536 (default 4096)\n"
	"  --idle-timeout S   a client's socket closes after S s without traffic (default 60)\n"
	"  --connected        forwarding sockets connect() to the peer (a lever, measured)\n"
	"  --uring            reads and sends as io_uring batches (a lever, measured)\n";

static long num(const char *flag, const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "udpfwd: bad %s '%s': want %ld..%ld\n", flag, s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"relay-ip", required_argument, NULL, 'r'},
		{"peer", required_argument, NULL, 'p'},   {"threads", required_argument, NULL, 't'},
		{"clients", required_argument, NULL, 'c'}, {"idle-timeout", required_argument, NULL, 'i'},
		{"connected", no_argument, NULL, 'C'},    {"uring", no_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	struct fwd *f;
	unsigned threads = 1, cap = 4096, have = 0;
	uint64_t tp = 0, tc = 0, dr = 0, rf = 0, ex = 0, sf = 0;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': if (parse_addr(optarg, &listen_addr, 1)) goto bad; have |= 1; break;
		case 'r': if (parse_addr(optarg, &relay_addr, 0)) goto bad; have |= 2; break;
		case 'p': if (parse_addr(optarg, &peer_addr, 1)) goto bad; have |= 4; break;
		case 't': threads = (unsigned)num("--threads", optarg, 1, 64); break;
		case 'c': cap = (unsigned)num("--clients", optarg, 1, 65536); break;
		case 'i': idle_timeout = (unsigned)num("--idle-timeout", optarg, 1, 86400); break;
		case 'C': connect_peer = 1; break;
		case 'U': use_uring = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (have != 7 || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!(f = calloc(threads, sizeof *f)))
		return 1;
	for (unsigned t = 0; t < threads; t++)
		if (fwd_init(&f[t], cap)) {
			fprintf(stderr, "udpfwd: cannot listen on the given address%s: %s\n",
				use_uring ? " or set up io_uring" : "", strerror(errno));
			return 1;
		}
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&f[t].th, NULL, run, &f[t]);
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(f[t].th, NULL);
		for (unsigned i = 0; i < f[t].cap; i++)
			if (f[t].c[i].addr.sin_port)
				close(f[t].c[i].fd);
		close(f[t].lfd);
		close(f[t].ep);
		if (use_uring)
			uring_exit(&f[t].ring);
		free(f[t].urx);
		free(f[t].c);
		free(f[t].hash);
		tp += f[t].to_peer;
		tc += f[t].to_client;
		dr += f[t].dropped;
		rf += f[t].refused;
		ex += f[t].expired;
		sf += f[t].send_failed;
	}
	fprintf(stderr,
		"udpfwd: to_peer %llu to_client %llu dropped %llu refused %llu expired %llu "
		"send_failed %llu\n",
		(unsigned long long)tp, (unsigned long long)tc, (unsigned long long)dr,
		(unsigned long long)rf, (unsigned long long)ex, (unsigned long long)sf);
	free(f);
	return 0;
bad:
	fprintf(stderr, "udpfwd: bad address '%s' (IPv4 only)\n", optarg);
	return 2;
}
