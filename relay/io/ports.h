/* ports.h: the relay port range. Relayed sockets bind a port from it
 * (random start, linear probe), RFC 6062 relayed listeners claim theirs in
 * a process-wide record (SO_REUSEPORT would let two of ours share one),
 * and EVEN-PORT reservations (RFC 8656 §7.2) hold a bound socket for 30 s
 * under a token that any worker may claim. Every function returns a
 * negative errno on failure. */
#ifndef EDGELAB_PORTS_H
#define EDGELAB_PORTS_H

#include <stdint.h>
#include <sys/socket.h>

struct port_range {
	struct sockaddr_storage bind[2]; /* where relayed sockets bind: [0] IPv4, [1] IPv6 */
	int has[2];
	uint16_t lo, hi;
};

/* A UDP socket on a free port of family fam (0 IPv4, 1 IPv6): even if
 * asked, DF set if asked, and with pair_fd the next port bound too. fd,
 * with *port set. */
int ports_bind_udp(const struct port_range *r, int fam, int even, int df, int *port,
		   int *pair_fd);
/* A listening TCP socket (SO_REUSEPORT, so Connects can leave from the
 * same address, RFC 6062 §5.2). fd, with *port claimed until released. */
int ports_listen_tcp(const struct port_range *r, int fam, int *port);
void ports_release_tcp(int port);

/* Reservations: hold fd under a new random token for its owner (a name
 * the caller counts it against; copied), 0 or -errno. Claim it back: fd
 * and its family, and the owner's name, the caller's to free; or -ENOENT.
 * Expire the old ones, telling gone (if given) each owner. */
int ports_reserve(int fd, int fam, uint64_t now_ms, const char *owner, uint64_t *token);
int ports_claim(uint64_t token, int *fam, char **owner);
void ports_reservations_expire(uint64_t now_ms, void (*gone)(void *arg, const char *owner),
			       void *arg);
void ports_reservations_free(void);

#endif
