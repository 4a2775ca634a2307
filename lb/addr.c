/* addr.c: the address type packets and config share. */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int lb_addr_eq(const struct lb_addr *x, const struct lb_addr *y)
{
	return x->family == y->family &&
	       memcmp(x->a, y->a, x->family == 4 ? 4 : 16) == 0;
}

int lb_addr_parse(struct lb_addr *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = 6;
		return 0;
	}
	return -EINVAL;
}

const char *lb_addr_str(const struct lb_addr *a, char *buf, unsigned len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}
