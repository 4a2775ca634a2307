/* lab-lbmon: the health monitor of the lab's nftables load balancer (--lb
 * nft, lib/lbnft.sh), one per HLB namespace, run inside it. It probes every
 * real of every service the way hlb's monitors do (R23): a TCP connect, or a
 * STUN Binding over UDP through the shared codec, each interval, within the
 * timeout; rise good probes bring a real up, fall bad ones take it down.
 * On a change it rewrites DIR/SIDE.health ("SERVICE REAL up|down", by
 * rename) and runs APPLY..., which rewrites the nftables maps and removes
 * the flows of a real that went down. Touches DIR/SIDE.beat every second;
 * ends on SIGTERM or when DIR/SIDE.svc is gone (the lab is down).
 *
 * usage: lab-lbmon SIDE DIR APPLY-COMMAND...
 * DIR/SIDE.svc is `lbgen svc SIDE`: "ID NAME FAMILY VIP PORT PROTO MODE
 * SCHED MONITOR INTERVAL-MS TIMEOUT-MS RISE FALL MAP NAME=ADDR,...".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stun/stun.h"

#define MAX_PROBES 512

struct probe {
	char svc[40], real[40];
	int stun, up, okrun, badrun;
	struct sockaddr_storage to;
	socklen_t tolen;
	unsigned interval, timeout, rise, fall;
	long long next, deadline; /* ms; deadline 0: no probe in flight */
	int fd;
	uint8_t tid[STUN_TID_LEN];
};

static struct probe probes[MAX_PROBES];
static int nprobes;
static volatile sig_atomic_t stop;
static char health[600], healthtmp[620], beat[600], svcfile[600];

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void logf_(const char *what, const struct probe *p)
{
	char ts[16];
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	strftime(ts, sizeof ts, "%H:%M:%S", localtime(&t.tv_sec));
	printf("%s.%03ld lbmon: %s/%s %s\n", ts, t.tv_nsec / 1000000, p->svc, p->real, what);
	fflush(stdout);
}

static int addr_set(struct probe *p, const char *addr, unsigned port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&p->to;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&p->to;
	memset(&p->to, 0, sizeof p->to);
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		p->tolen = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		p->tolen = sizeof *a6;
		return 0;
	}
	return -1;
}

static int load(const char *path)
{
	char line[2048], name[40], mon[16], reals[1400], addr[64];
	unsigned port, ivl, tmo, rise, fall;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%*s %39s %*s %*s %u %*s %*s %*s %15s %u %u %u %u %*s %1399s", name, &port,
			   mon, &ivl, &tmo, &rise, &fall, reals) != 8)
			continue;
		if (strcmp(mon, "none") == 0)
			continue;
		for (char *r = strtok(reals, ","); r && nprobes < MAX_PROBES; r = strtok(NULL, ",")) {
			struct probe *p = &probes[nprobes];
			char *eq = strchr(r, '=');
			if (!eq || snprintf(addr, sizeof addr, "%s", eq + 1) >= (int)sizeof addr)
				continue;
			*eq = 0;
			snprintf(p->svc, sizeof p->svc, "%s", name);
			snprintf(p->real, sizeof p->real, "%s", r);
			if (addr_set(p, addr, port) < 0)
				continue;
			p->stun = strcmp(mon, "stun") == 0;
			p->up = 1; /* as hlb starts: up until the monitor says otherwise */
			p->interval = ivl ? ivl : 1000;
			p->timeout = tmo ? tmo : 500;
			p->rise = rise ? rise : 1;
			p->fall = fall ? fall : 1;
			p->next = now_ms() + 10 + (long long)p->interval * (nprobes % 4) / 4;
			p->fd = -1;
			nprobes++;
		}
	}
	fclose(f);
	return 0;
}

static void start(struct probe *p, long long now)
{
	uint8_t buf[64];
	struct stun_writer w;
	int n;
	p->next = now + p->interval;
	p->deadline = now + p->timeout;
	p->fd = socket(p->to.ss_family, (p->stun ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return;
	if (connect(p->fd, (struct sockaddr *)&p->to, p->tolen) < 0 && errno != EINPROGRESS)
		goto fail;
	if (!p->stun)
		return;
	stun_tid_random(p->tid);
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, p->tid);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	if (n > 0 && send(p->fd, buf, (size_t)n, 0) == n)
		return;
fail:
	close(p->fd);
	p->fd = -1; /* counted as a failure when the deadline passes */
}

/* A finished probe: 1 good, 0 bad. Returns 1 when the real changed state. */
static int finish(struct probe *p, int ok)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->deadline = 0;
	if (ok) {
		p->badrun = 0;
		if (!p->up && ++p->okrun >= (int)p->rise) {
			p->up = 1;
			logf_(p->stun ? "up by stun monitor" : "up by tcp monitor", p);
			return 1;
		}
		return 0;
	}
	p->okrun = 0;
	if (p->up && ++p->badrun >= (int)p->fall) {
		p->up = 0;
		logf_(p->stun ? "down by stun monitor, its flows removed" : "down by tcp monitor, its flows removed", p);
		return 1;
	}
	return 0;
}

static int result(struct probe *p, short revents)
{
	uint8_t buf[1500];
	struct stun_msg m;
	int err = 0;
	socklen_t el = sizeof err;
	if (!p->stun) {
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		return finish(p, err == 0 && !(revents & (POLLERR | POLLHUP)));
	}
	ssize_t n = recv(p->fd, buf, sizeof buf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* ICMP port unreachable shows as ECONNREFUSED: a failure at once. */
	return finish(p, n > 0 && stun_msg_parse(&m, buf, (size_t)n) == 0 && m.method == STUN_BINDING &&
				 m.cls == STUN_SUCCESS && memcmp(m.tid, p->tid, STUN_TID_LEN) == 0);
}

static void save_and_apply(char **apply)
{
	FILE *f = fopen(healthtmp, "w");
	pid_t pid;
	int st;
	if (!f)
		return;
	/* Services in file order, as `lab hlb list` prints them. */
	for (int i = 0; i < nprobes; i++)
		fprintf(f, "%s %s %s\n", probes[i].svc, probes[i].real, probes[i].up ? "up" : "down");
	if (fclose(f) != 0 || rename(healthtmp, health) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		execvp(apply[0], apply);
		_exit(127);
	}
	if (pid > 0 && (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)))
		printf("lbmon: %s failed\n", apply[0]);
}

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_PROBES];
	int idx[MAX_PROBES];
	long long lastbeat = 0;
	if (argc < 4) {
		fprintf(stderr, "usage: lab-lbmon SIDE DIR APPLY-COMMAND...\n");
		return 2;
	}
	snprintf(svcfile, sizeof svcfile, "%s/%s.svc", argv[2], argv[1]);
	snprintf(health, sizeof health, "%s/%s.health", argv[2], argv[1]);
	snprintf(healthtmp, sizeof healthtmp, "%s/%s.health.lbmon", argv[2], argv[1]);
	snprintf(beat, sizeof beat, "%s/%s.beat", argv[2], argv[1]);
	if (load(svcfile) < 0) {
		fprintf(stderr, "lab-lbmon: %s: %s\n", svcfile, strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready: %d probes on hlb%s\n", nprobes, argv[1]);
	fflush(stdout);
	while (!stop) {
		long long now = now_ms(), wake = now + 1000;
		int n = 0, changed = 0;
		if (now - lastbeat >= 1000) {
			/* The lab is gone: so is the monitor (bounded by the lab's life). */
			if (access(svcfile, F_OK) != 0)
				break;
			close(open(beat, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
			lastbeat = now;
		}
		for (int i = 0; i < nprobes; i++) {
			struct probe *p = &probes[i];
			if (p->deadline && now >= p->deadline)
				changed |= finish(p, 0);
			if (!p->deadline && now >= p->next)
				start(p, now);
			if (p->fd >= 0) {
				pfd[n] = (struct pollfd){.fd = p->fd, .events = p->stun ? POLLIN : POLLOUT};
				idx[n++] = i;
			}
			if (p->deadline && p->deadline < wake)
				wake = p->deadline;
			if (!p->deadline && p->next < wake)
				wake = p->next;
		}
		if (changed)
			save_and_apply(argv + 3);
		int rc = poll(pfd, (nfds_t)n, (int)(wake > now ? wake - now : 0));
		changed = 0;
		for (int k = 0; rc > 0 && k < n; k++)
			if (pfd[k].revents)
				changed |= result(&probes[idx[k]], pfd[k].revents);
		if (changed)
			save_and_apply(argv + 3);
	}
	for (int i = 0; i < nprobes; i++)
		if (probes[i].fd >= 0)
			close(probes[i].fd);
	return 0;
}
