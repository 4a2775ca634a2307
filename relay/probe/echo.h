/* echo.h: the UDP echo peer, batched (recvmmsg/sendmmsg), shared by
 * `edgeprobe echo` and the load generator's built-in peer; and the TCP
 * echo peer of `edgeprobe echo --tcp` (echotcp.c). */
#ifndef EDGELAB_PROBE_ECHO_H
#define EDGELAB_PROBE_ECHO_H

#include <signal.h>
#include <sys/socket.h>

#define ECHO_BATCH 64
#define ECHO_MTU 2048

/* Buffers for one pump: allocated once, reused for every batch. */
struct echo_bufs {
	struct mmsghdr msg[ECHO_BATCH];
	struct iovec iov[ECHO_BATCH];
	struct sockaddr_storage from[ECHO_BATCH];
	unsigned char data[ECHO_BATCH][ECHO_MTU];
};

/* A non-blocking UDP socket bound to addr; reuseport lets several threads
 * share the address. fd, or -1 with a reason in err. */
int probe_echo_socket(const struct sockaddr *addr, int reuseport, char *err, size_t errlen);
/* Echo what is queued on fd (up to a few batches); returns datagrams echoed. */
long probe_echo_pump(int fd, struct echo_bufs *b);

/* Serve TCP echo on addr until end (probe_now_ms() clock) or *stop, then
 * report the connections accepted and bytes echoed in o. 0, or -1 with a
 * reason in err (cannot listen). */
struct out;
int probe_echo_tcp_serve(const struct sockaddr *addr, double end, volatile sig_atomic_t *stop,
			 struct out *o, char *err, size_t errlen);

#endif
