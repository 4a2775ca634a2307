/* netaddr.h: endpoint strings as our command lines spell them:
 * "203.0.113.12:3478/udp", "[2001:db8::12]:443/tls", "10.0.0.1:80". */
#ifndef EDGELAB_NETADDR_H
#define EDGELAB_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

enum transport { TP_UDP, TP_TCP, TP_TLS };

/* 0, or -EINVAL with *why set to a short reason. want_proto: 1 requires a
 * "/udp|tcp|tls" suffix, 0 forbids it. */
int netaddr_parse(const char *s, struct sockaddr_storage *out, enum transport *tp,
		  int want_proto, const char **why);
/* Address without port ("10.0.0.1", "2001:db8::1"). */
int netaddr_parse_ip(const char *s, struct sockaddr_storage *out);
/* "1.2.3.4:5" or "[::1]:5" into buf; returns buf. */
const char *netaddr_str(const struct sockaddr *sa, char *buf, size_t len);
/* Address only, no port. */
const char *netaddr_ip_str(const struct sockaddr *sa, char *buf, size_t len);
socklen_t netaddr_len(const struct sockaddr *sa);
int netaddr_port(const struct sockaddr *sa);
void netaddr_set_port(struct sockaddr *sa, int port);
/* Same address and port (and family). */
int netaddr_equal(const struct sockaddr *a, const struct sockaddr *b);
const char *transport_name(enum transport tp);

#define NETADDR_STRLEN 64

#endif
