/* ports.c: binding in the relay port range, and reservations. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "io/ports.h"
#include "util/netaddr.h"

#define RESERVE_MS 30000
#define MAX_RESERVED 256

static struct {
	pthread_mutex_t lock;
	struct { uint64_t token, expires; int fd, fam; char *owner; } r[MAX_RESERVED];
	int n;
} reserved = {PTHREAD_MUTEX_INITIALIZER, {{0, 0, 0, 0, NULL}}, 0};

int ports_claim(uint64_t token, int *fam, char **owner)
{
	int fd = -ENOENT;

	pthread_mutex_lock(&reserved.lock);
	for (int i = 0; i < reserved.n; i++)
		if (reserved.r[i].token == token) {
			fd = reserved.r[i].fd;
			*fam = reserved.r[i].fam;
			*owner = reserved.r[i].owner;
			reserved.r[i] = reserved.r[--reserved.n];
			break;
		}
	pthread_mutex_unlock(&reserved.lock);
	return fd;
}

int ports_reserve(int fd, int fam, uint64_t now_ms, const char *owner, uint64_t *token)
{
	char *copy = strdup(owner);
	int err = -ENOSPC;

	if (!copy)
		return -ENOMEM;
	if (RAND_bytes((unsigned char *)token, sizeof *token) != 1) {
		free(copy);
		return -EIO;
	}
	pthread_mutex_lock(&reserved.lock);
	if (reserved.n < MAX_RESERVED) {
		reserved.r[reserved.n].owner = copy;
		copy = NULL;
		reserved.r[reserved.n].token = *token;
		reserved.r[reserved.n].expires = now_ms + RESERVE_MS;
		reserved.r[reserved.n].fd = fd;
		reserved.r[reserved.n].fam = fam;
		reserved.n++;
		err = 0;
	}
	pthread_mutex_unlock(&reserved.lock);
	free(copy);
	return err;
}

void ports_reservations_expire(uint64_t now_ms, void (*gone)(void *arg, const char *owner),
			       void *arg)
{
	pthread_mutex_lock(&reserved.lock);
	for (int i = 0; i < reserved.n;)
		if (reserved.r[i].expires <= now_ms) {
			close(reserved.r[i].fd);
			if (gone)
				gone(arg, reserved.r[i].owner);
			free(reserved.r[i].owner);
			reserved.r[i] = reserved.r[--reserved.n];
		} else {
			i++;
		}
	pthread_mutex_unlock(&reserved.lock);
}

void ports_reservations_free(void) { ports_reservations_expire(UINT64_MAX, NULL, NULL); }

static int make_socket(int fam, int type, int df)
{
	int fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	/* A TCP relayed address is both a listener and the source of the
	 * Connects made from it (RFC 6062 §5.2): they share IP and port. */
	if (type == SOCK_STREAM) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	if (df) { /* DONT-FRAGMENT: set DF, never fragment locally */
		int v = IP_PMTUDISC_DO;
		if (fam == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
	}
	return fd;
}

/* 0 or a negative errno; a socket whose bind failed can try another port. */
static int bind_to(int fd, const struct sockaddr_storage *base, int port)
{
	struct sockaddr_storage sa = *base;

	netaddr_set_port((struct sockaddr *)&sa, port);
	return bind(fd, (struct sockaddr *)&sa, netaddr_len((struct sockaddr *)&sa)) ? -errno : 0;
}

static int bind_port(const struct sockaddr_storage *base, int type, int port, int df)
{
	int fd = make_socket(base->ss_family, type, df), err;

	if (fd >= 0 && (err = bind_to(fd, base, port))) {
		close(fd);
		return err;
	}
	return fd;
}

/* Where a port search starts. Random (RFC 8656 §7.2's advice), from a
 * per-thread supply: RAND_bytes costs a getpid() per call (OpenSSL's fork
 * check), one system call per allocation otherwise. */
static uint32_t port_random(void)
{
	static _Thread_local uint32_t supply[32];
	static _Thread_local unsigned left;

	if (!left) {
		if (RAND_bytes((unsigned char *)supply, sizeof supply) != 1) {
			/* no CSPRNG: a start that still differs per search */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			return (uint32_t)ts.tv_nsec * 2654435761u ^ (uint32_t)pthread_self();
		}
		left = 32;
	}
	return supply[--left];
}

static struct {
	pthread_mutex_t lock;
	uint8_t used[65536 / 8];
} tcp_ports = {PTHREAD_MUTEX_INITIALIZER, {0}};

static int tcp_port_claim(int port)
{
	int ok;

	pthread_mutex_lock(&tcp_ports.lock);
	ok = !(tcp_ports.used[port / 8] & (1 << (port % 8)));
	if (ok)
		tcp_ports.used[port / 8] |= (uint8_t)(1 << (port % 8));
	pthread_mutex_unlock(&tcp_ports.lock);
	return ok;
}

void ports_release_tcp(int port)
{
	pthread_mutex_lock(&tcp_ports.lock);
	tcp_ports.used[port / 8] &= (uint8_t)~(1 << (port % 8));
	pthread_mutex_unlock(&tcp_ports.lock);
}

/* Random start then linear probe, so that busy ranges still find the
 * free ports. One socket tries port after port (a failed bind leaves it
 * unbound): a busy port costs a bind, not a socket, a bind and a close. */
static int pick_port(const struct port_range *r, int fam, int type, int even, int df,
		     int *port, int *pair_fd)
{
	unsigned span = (unsigned)(r->hi - r->lo) + 1, start, i;
	int fd = -1, err;

	if (!r->has[fam])
		return -EAFNOSUPPORT;
	start = port_random() % span;
	for (i = 0; i < span; i++) {
		int p = r->lo + (int)((start + i) % span);
		if (even && (p & 1))
			continue;
		if (even && pair_fd && p + 1 > r->hi)
			continue;
		if (type == SOCK_STREAM && !tcp_port_claim(p))
			continue;
		if (fd < 0 && (fd = make_socket(r->bind[fam].ss_family, type, df)) < 0) {
			if (type == SOCK_STREAM)
				ports_release_tcp(p);
			return fd; /* EMFILE, ENFILE, ENOMEM, ENOBUFS: no port would do better */
		}
		if ((err = bind_to(fd, &r->bind[fam], p))) {
			if (type == SOCK_STREAM)
				ports_release_tcp(p);
			/* EACCES, EPERM: this port (privileged, or refused by a
			 * cgroup bind hook), not every port */
			if (err == -EADDRINUSE || err == -EACCES || err == -EPERM)
				continue;
			close(fd); /* EADDRNOTAVAIL and the like: every port would fail */
			return err;
		}
		/* Bound from here on: a failure needs a fresh socket. */
		if ((type == SOCK_STREAM && listen(fd, 16)) ||
		    (pair_fd && (*pair_fd = bind_port(&r->bind[fam], type, p + 1, 0)) < 0)) {
			if (type == SOCK_STREAM)
				ports_release_tcp(p);
			close(fd);
			fd = -1;
			continue;
		}
		*port = p;
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -EADDRINUSE;
}

int ports_bind_udp(const struct port_range *r, int fam, int even, int df, int *port,
		   int *pair_fd)
{
	return pick_port(r, fam, SOCK_DGRAM, even, df, port, pair_fd);
}

int ports_listen_tcp(const struct port_range *r, int fam, int *port)
{
	return pick_port(r, fam, SOCK_STREAM, 0, 0, port, NULL);
}
