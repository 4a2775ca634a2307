/* netaddr.c: parse and print endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

const char *transport_name(enum transport tp)
{
	return tp == TP_UDP ? "udp" : tp == TP_TCP ? "tcp" : "tls";
}

int netaddr_parse_ip(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int netaddr_parse(const char *s, struct sockaddr_storage *out, enum transport *tp,
		  int want_proto, const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *slash = strrchr(s, '/');
	size_t hlen;
	char *end;
	long p;
	int bracketed = s[0] == '[';

	*why = NULL;
	if (want_proto) {
		if (!slash) {
			*why = "missing /udp, /tcp or /tls";
			return -EINVAL;
		}
		if (!strcmp(slash, "/udp"))
			*tp = TP_UDP;
		else if (!strcmp(slash, "/tcp"))
			*tp = TP_TCP;
		else if (!strcmp(slash, "/tls"))
			*tp = TP_TLS;
		else {
			*why = "transport must be udp, tcp or tls";
			return -EINVAL;
		}
	} else if (slash) {
		*why = "unexpected /transport";
		return -EINVAL;
	} else {
		slash = s + strlen(s);
	}

	if (s[0] == '[') {
		const char *close = memchr(s, ']', (size_t)(slash - s));
		if (!close || close[1] != ':') {
			*why = "IPv6 addresses are written [addr]:port";
			return -EINVAL;
		}
		hlen = (size_t)(close - s - 1);
		s++;
		port = close + 2;
	} else {
		const char *colon = memchr(s, ':', (size_t)(slash - s));
		if (!colon) {
			*why = "missing :port";
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof host) {
		*why = "bad address";
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (netaddr_parse_ip(host, out)) {
		*why = "bad address";
		return -EINVAL;
	}
	if (bracketed && out->ss_family != AF_INET6) {
		*why = "brackets hold an IPv6 address";
		return -EINVAL;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (end == port || end != slash || errno || p < 0 || p > 65535) {
		*why = "bad port";
		return -EINVAL;
	}
	netaddr_set_port((struct sockaddr *)out, (int)p);
	return 0;
}

socklen_t netaddr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

int netaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

void netaddr_set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
}

const char *netaddr_ip_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (!inet_ntop(sa->sa_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *netaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	netaddr_ip_str(sa, ip, sizeof ip);
	snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip,
		 netaddr_port(sa));
	return buf;
}

int netaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family || netaddr_port(a) != netaddr_port(b))
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}
