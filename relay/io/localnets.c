/* localnets.c: the local routing table, read once per call over netlink. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "io/localnets.h"

struct walk {
	void (*fn)(void *arg, const struct sockaddr *addr, int plen);
	void *arg;
};

static void one(struct nl_object *o, void *data)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct walk *w = data;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (rtnl_route_get_type(r) != RTN_LOCAL || !dst)
		return;
	memset(&ss, 0, sizeof ss);
	if (nl_addr_fill_sockaddr(dst, (struct sockaddr *)&ss, &len) < 0)
		return;
	w->fn(w->arg, (struct sockaddr *)&ss, (int)nl_addr_get_prefixlen(dst));
}

int localnets_each(void (*fn)(void *arg, const struct sockaddr *addr, int plen), void *arg)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct walk w = {fn, arg};
	int err;

	if (!sk)
		return -ENOMEM;
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache)) < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	nl_cache_foreach(cache, one, &w);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}
