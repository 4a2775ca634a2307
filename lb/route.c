/* route.c: policy rules and the TUN route table through libnl (route.h
 * has the layout and why). */
#include "route.h"
#include "fault.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOCAL_TABLE 255

static int af(int family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(val, f);
	/* procfs reports a refused value at the flush, in fclose */
	return fclose(f) == 0 ? 0 : -errno;
}

static struct nl_addr *host_addr(const struct lb_addr *a)
{
	struct nl_addr *n = nl_addr_build(af(a->family), a->a,
					  a->family == 4 ? 4 : 16);

	if (n)
		nl_addr_set_prefixlen(n, a->family == 4 ? 32 : 128);
	return n;
}

static int rule_do(struct nl_sock *sk, const struct route_sel *s, int add)
{
	struct rtnl_rule *r = rtnl_rule_alloc();
	struct nl_addr *a;
	int rc;

	if (!r)
		return -ENOMEM;
	rtnl_rule_set_family(r, af(s->family));
	rtnl_rule_set_prio(r, s->prio);
	rtnl_rule_set_action(r, s->action);
	if (s->action == FR_ACT_TO_TBL)
		rtnl_rule_set_table(r, s->table);
	if (s->action == FR_ACT_GOTO)
		rtnl_rule_set_goto(r, s->goto_prio);
	if (s->iif)
		rtnl_rule_set_iif(r, s->iif);
	if (s->src && (a = host_addr(s->src))) {
		rtnl_rule_set_src(r, a);
		nl_addr_put(a);
	}
	if (s->dst && (a = host_addr(s->dst))) {
		rtnl_rule_set_dst(r, a);
		nl_addr_put(a);
	}
	if (s->proto)
		rtnl_rule_set_ipproto(r, s->proto);
	if (s->sport)
		rtnl_rule_set_sport(r, s->sport);
	if (s->dport_lo)
		rtnl_rule_set_dport_range(r, s->dport_lo, s->dport_hi);
	rc = add ? rtnl_rule_add(sk, r, NLM_F_CREATE | NLM_F_EXCL)
		 : rtnl_rule_delete(sk, r, 0);
	rtnl_rule_put(r);
	if (add && rc == -NLE_EXIST)
		rc = 0; /* two services may need the same rule */
	return rc;
}

static void steer_err(const struct route_sel *s, int rc)
{
	char a[64] = "", b[64] = "";

	if (s->src)
		lb_addr_str(s->src, a, sizeof(a));
	if (s->dst)
		lb_addr_str(s->dst, b, sizeof(b));
	fprintf(stderr, "hlb: rule from %s to %s proto %u sport %u dport %u: %s\n",
		a, b, s->proto, s->sport, s->dport_lo, nl_geterror(rc));
}

/* Collects rules: counts all, stores what fits. */
struct rules {
	struct route_sel *out;
	int max, n;
	const struct lb_config *cfg;
};

/* A steering rule: P+1 into table T unless s says otherwise. */
static void steer(struct rules *rs, struct route_sel s)
{
	if (!s.prio)
		s.prio = rs->cfg->pref + 1;
	if (!s.table)
		s.table = rs->cfg->table;
	s.action = FR_ACT_TO_TBL;
	if (rs->n < rs->max)
		rs->out[rs->n] = s;
	rs->n++;
}

static void service_rules(struct rules *rs, const struct lb_service *v)
{
	const struct lb_config *cfg = rs->cfg;
	struct route_sel s = { .family = v->vip.family, .proto = v->proto };
	int fam = v->vip.family;

	s.dst = &v->vip;
	steer(rs, s);
	if (v->mode == LB_SNAT && !lb_addr_eq(&v->snat_src, &v->vip)) {
		s.dst = &v->snat_src;
		s.dport_lo = cfg->snat_lo;
		s.dport_hi = cfg->snat_hi;
		steer(rs, s);
	}
	for (int i = 0; i < v->nreals; i++) {
		const struct lb_real *r = &v->reals[i];
		struct route_sel t = { .family = fam, .proto = v->proto, .src = &r->addr };

		if (v->mode == LB_DNAT) {
			t.sport = r->port;
			steer(rs, t);
			t.sport = 0;
		}
		for (int j = 0; j < v->noutbound; j++) {
			t.dport_lo = t.dport_hi = v->outbound[j];
			steer(rs, t);
		}
		if (v->intercept) {
			struct route_sel u = { .family = fam, .proto = v->proto,
					       .dst = &r->addr, .dport_lo = v->port,
					       .dport_hi = v->port };
			steer(rs, u);
		}
		if (fam == 4) {
			struct route_sel w = { .family = 4, .proto = IPPROTO_ICMP,
					       .src = &r->addr };
			steer(rs, w);
		} else {
			/* ICMPv6 errors a real sends about dnat flows go to
			 * the clients. A rule cannot match the ICMPv6 type,
			 * and neighbour discovery must never be steered (it
			 * would arrive from the TUN, on the wrong link), so:
			 * what the real sends to this namespace (neighbour
			 * discovery, MLD, answers to hlb's own probes: the
			 * local table has a route for each, multicast
			 * included) is delivered at P+1; the rest, addressed
			 * elsewhere, is steered at P+2. */
			struct route_sel w = { .family = 6, .proto = IPPROTO_ICMPV6,
					       .src = &r->addr, .table = LOCAL_TABLE };
			steer(rs, w);
			w.table = 0;
			w.prio = cfg->pref + 2;
			steer(rs, w);
		}
		if (cfg->faults & LB_FAULT_SNAT_ALL_OUTBOUND) { /* M3: all of it */
			/* TCP and UDP: an all-protocol rule would take the
			 * real's neighbour discovery (ICMPv6) into the TUN
			 * too, and IPv6 to the real would stop altogether. */
			struct route_sel w = { .family = fam, .src = &r->addr,
					       .proto = IPPROTO_TCP };
			steer(rs, w);
			w.proto = IPPROTO_UDP;
			steer(rs, w);
		}
	}
	if (fam == 4) {
		struct route_sel w = { .family = 4, .proto = IPPROTO_ICMP, .dst = &v->vip };
		steer(rs, w);
	}
}

int route_steer_rules(const struct lb_config *cfg, int family,
		      struct route_sel *out, int max)
{
	struct rules rs = { out, max, 0, cfg };

	for (int i = 0; i < cfg->nsvc; i++)
		if (cfg->svc[i].vip.family == family)
			service_rules(&rs, &cfg->svc[i]);
	return rs.n;
}

static int table_route(struct nl_sock *sk, const struct lb_config *cfg,
		       int family, int ifindex, int add)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL;
	int rc;

	if (!rt || !nh) {
		rtnl_route_put(rt);
		rtnl_route_nh_free(nh);
		return -ENOMEM;
	}
	nl_addr_parse("default", af(family), &dst);
	rtnl_route_set_family(rt, (uint8_t)af(family));
	rtnl_route_set_table(rt, cfg->table);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_set_scope(rt, RT_SCOPE_LINK);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(rt, nh);
	rc = add ? rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE)
		 : rtnl_route_delete(sk, rt, 0);
	nl_addr_put(dst);
	rtnl_route_put(rt);
	return rc;
}

struct sweep_ctx {
	struct nl_sock *sk;
	uint32_t lo, hi;
	int family;
	int local0;
};

static void sweep_rule(struct nl_object *o, void *arg)
{
	struct rtnl_rule *r = (struct rtnl_rule *)o;
	struct sweep_ctx *c = arg;
	uint32_t p = rtnl_rule_get_prio(r);

	/* The cache may hold every family whatever was asked for. */
	if (rtnl_rule_get_family(r) != c->family)
		return;
	if (p == 0 && rtnl_rule_get_table(r) == LOCAL_TABLE)
		c->local0 = 1;
	if (p >= c->lo && p <= c->hi)
		rtnl_rule_delete(c->sk, r, 0);
}

/* Delete every rule in hlb's priority band; 1 when a pref-0 local rule
 * exists, 0 when not, negative on error. */
static int sweep(struct nl_sock *sk, const struct lb_config *cfg, int family)
{
	struct nl_cache *cache;
	struct sweep_ctx c = { sk, cfg->pref, cfg->pref + 100, af(family), 0 };
	int rc = rtnl_rule_alloc_cache(sk, af(family), &cache);

	if (rc < 0)
		return rc;
	nl_cache_foreach(cache, sweep_rule, &c);
	nl_cache_free(cache);
	return c.local0;
}

static int family_used(const struct lb_config *cfg, int family)
{
	for (int i = 0; i < cfg->nsvc; i++)
		if (cfg->svc[i].vip.family == family)
			return 1;
	return 0;
}

static int setup_family(struct nl_sock *sk, const struct lb_config *cfg,
			int family, int ifindex)
{
	struct route_sel s = { .family = family }, *rules;
	int rc, local0, n;

	local0 = sweep(sk, cfg, family);
	if (local0 < 0)
		return local0;
	rc = table_route(sk, cfg, family, ifindex, 1);
	if (rc < 0) {
		fprintf(stderr, "hlb: route default dev %s table %u: %s\n",
			cfg->tun, cfg->table, nl_geterror(rc));
		return rc;
	}
	/* Local lookups move after hlb's rules; add before deleting so no
	 * moment passes without one. */
	s.prio = cfg->pref + 100;
	s.action = FR_ACT_TO_TBL;
	s.table = LOCAL_TABLE;
	rc = rule_do(sk, &s, 1);
	if (rc < 0)
		return rc;
	if (local0) {
		s.prio = 0;
		rc = rule_do(sk, &s, 0);
		if (rc < 0)
			return rc;
	}
	s.prio = cfg->pref;
	s.action = FR_ACT_GOTO;
	s.goto_prio = cfg->pref + 100;
	s.iif = cfg->tun;
	rc = rule_do(sk, &s, 1);
	if (rc < 0) {
		fprintf(stderr, "hlb: rule iif %s goto: %s\n", cfg->tun,
			nl_geterror(rc));
		return rc;
	}
	n = route_steer_rules(cfg, family, NULL, 0);
	rules = calloc((size_t)n + 1, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	route_steer_rules(cfg, family, rules, n);
	for (int i = 0; i < n; i++) {
		int r = rule_do(sk, &rules[i], 1);

		if (r < 0) {
			steer_err(&rules[i], r);
			rc = -EIO; /* go on: name every rule that fails */
		}
	}
	free(rules);
	return rc;
}

int route_setup(const struct lb_config *cfg)
{
	struct nl_sock *sk = nl_socket_alloc();
	char path[128], local[128];
	int ifindex = (int)if_nametoindex(cfg->tun), rc = 0;

	if (!sk)
		return -ENOMEM;
	if (!ifindex) {
		nl_socket_free(sk);
		return -ENODEV;
	}
	/* A router: forward, and take back from the TUN packets whose source
	 * is a local address (the VIP) or routed another way (rp_filter).
	 * Without these hlb forwards nothing: a write that fails stops it,
	 * naming the setting. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", cfg->tun);
	snprintf(local, sizeof(local), "/proc/sys/net/ipv4/conf/%s/accept_local", cfg->tun);
	const char *need[][2] = {
		{"/proc/sys/net/ipv4/ip_forward", "1"},
		{"/proc/sys/net/ipv4/conf/all/rp_filter", "0"},
		{path, "0"},
		{local, "1"},
		{family_used(cfg, 6) ? "/proc/sys/net/ipv6/conf/all/forwarding" : NULL, "1"},
	};
	/* Early demux would tie a reply to hlb's own socket (a monitor's)
	 * on its first pass, before it is steered into the TUN; when it comes
	 * back out of the TUN TCP no longer finds the socket and resets.
	 * Routers gain nothing from early demux anyway. A kernel without
	 * these settings has no early demux to turn off: a warning. */
	static const char *const demux[] = {
		"/proc/sys/net/ipv4/ip_early_demux",
		"/proc/sys/net/ipv4/tcp_early_demux",
		"/proc/sys/net/ipv4/udp_early_demux",
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (need[i][0] && (rc = write_sysctl(need[i][0], need[i][1])) < 0) {
			fprintf(stderr, "hlb: cannot set %s to %s: %s\n", need[i][0], need[i][1],
				strerror(-rc));
			nl_socket_free(sk);
			return rc;
		}
	for (size_t i = 0; i < sizeof demux / sizeof demux[0]; i++)
		if ((rc = write_sysctl(demux[i], "0")) < 0)
			fprintf(stderr, "hlb: warning: cannot set %s to 0: %s\n", demux[i],
				strerror(-rc));
	rc = nl_connect(sk, NETLINK_ROUTE);
	for (int fam = 4; rc == 0 && fam <= 6; fam += 2)
		if (family_used(cfg, fam))
			rc = setup_family(sk, cfg, fam, ifindex);
	nl_socket_free(sk);
	return rc < 0 ? -EIO : 0;
}

void route_teardown(const struct lb_config *cfg)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ifindex = (int)if_nametoindex(cfg->tun);

	if (!sk)
		return;
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return;
	}
	for (int fam = 4; fam <= 6; fam += 2) {
		struct route_sel s = { .family = fam, .prio = 0,
				 .action = FR_ACT_TO_TBL, .table = LOCAL_TABLE };

		if (!family_used(cfg, fam))
			continue;
		/* Local back at 0 first, then the band (with its local) goes,
		 * so local delivery never stops. */
		rule_do(sk, &s, 1);
		sweep(sk, cfg, fam);
		if (ifindex)
			table_route(sk, cfg, fam, ifindex, 0);
	}
	nl_socket_free(sk);
}
