/* nat.c: the packet engine; see nat.h. Nothing here allocates. */
#include "nat.h"
#include "csum.h"
#include "fault.h"
#include "pkt.h"
#include "tlsonly.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

static void on_remove(void *ctx, const struct ct_flow *f)
{
	struct nat *n = ctx;
	struct lb_service *s;

	if (f->svc >= n->cfg->nsvc)
		return;
	s = &n->cfg->svc[f->svc];
	if (s->active)
		s->active--;
	if (f->real < s->nreals && s->reals[f->real].active)
		s->reals[f->real].active--;
}

int nat_init(struct nat *n, struct lb_config *cfg, uint32_t seed)
{
	struct ct_limits lim = {
		.src_max = cfg->source_flows,
		.syn_timeout = cfg->syn_timeout,
		.unreplied_timeout = cfg->unreplied_timeout,
		.src_prefix6 = cfg->source_prefix6,
	};
	int rc;

	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	rc = ct_init(&n->ct, cfg->conntrack_size, seed, on_remove, n);
	if (rc < 0)
		return rc;
	ct_set_limits(&n->ct, &lim);
	rc = aff_init(&n->aff, cfg->affinity_size, seed * 2654435761u + 1);
	if (rc < 0) {
		ct_free(&n->ct);
		return rc;
	}
	n->port_next = seed;
	n->nlocal = -1;
	return 0;
}

void nat_free(struct nat *n)
{
	ct_free(&n->ct);
	aff_free(&n->aff);
}

static size_t alen(int family)
{
	return family == 4 ? 4 : 16;
}

static void tuple_from_pkt(struct ct_tuple *k, const struct pkt *p)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, p->src, alen(p->family));
	memcpy(k->dst, p->dst, alen(p->family));
	k->sport = pkt_sport(p);
	k->dport = pkt_dport(p);
	k->family = p->family;
	k->proto = p->proto;
}

static int addr_is(const struct lb_addr *a, const uint8_t *b, int family)
{
	return a->family == family && memcmp(a->a, b, alen(family)) == 0;
}

/* Pick a free port in the snat range for the reply tuple's dport. The
 * counter walks the range so consecutive flows do not probe the same
 * ports; the number of probes is bounded. */
static int alloc_port(struct nat *n, struct ct_tuple *reply, uint32_t now)
{
	uint32_t range = (uint32_t)n->cfg->snat_hi - n->cfg->snat_lo + 1;
	uint32_t tries = range < 1024 ? range : 1024;

	for (uint32_t i = 0; i < tries; i++) {
		reply->dport = (uint16_t)(n->cfg->snat_lo + n->port_next++ % range);
		if (!ct_tuple_taken(&n->ct, reply, now))
			return 0;
	}
	return -EADDRINUSE;
}

static struct lb_service *find_vip(struct nat *n, const struct pkt *p)
{
	uint16_t dport = pkt_dport(p);

	for (int i = 0; i < n->cfg->nsvc; i++) {
		struct lb_service *s = &n->cfg->svc[i];

		if (s->proto != p->proto || s->port != dport)
			continue;
		if (addr_is(&s->vip, p->dst, p->family))
			return s;
		if (!s->intercept)
			continue;
		/* M11: a flow to a real's own address taken into the pool. */
		for (int r = 0; r < s->nreals; r++)
			if (addr_is(&s->reals[r].addr, p->dst, p->family))
				return s;
	}
	return NULL;
}

/* The service and real whose address sent p, for outbound flows. With
 * want_port, only snat services that list p's dport as outbound. */
static struct lb_service *find_real(struct nat *n, const struct pkt *p,
				    int want_port, int *ri)
{
	uint16_t dport = pkt_dport(p);

	for (int i = 0; i < n->cfg->nsvc; i++) {
		struct lb_service *s = &n->cfg->svc[i];
		int port_ok = 0;

		if (want_port) {
			if (s->mode != LB_SNAT || s->proto != p->proto)
				continue;
			for (int j = 0; j < s->noutbound; j++)
				port_ok |= s->outbound[j] == dport;
			if (!port_ok)
				continue;
		}
		for (int r = 0; r < s->nreals; r++)
			if (addr_is(&s->reals[r].addr, p->src, p->family)) {
				*ri = r;
				return s;
			}
	}
	return NULL;
}

static struct ct_flow *add_flow(struct nat *n, struct lb_service *s, int ri,
				const struct ct_tuple *orig,
				const struct ct_tuple *reply, uint8_t flags,
				uint32_t now)
{
	struct ct_flow *f = ct_insert(&n->ct, orig, reply, flags, now);
	struct lb_real *r = &s->reals[ri];

	if (!f)
		return NULL; /* counted by the table, by reason */
	f->svc = (uint16_t)(s - n->cfg->svc);
	f->real = (uint16_t)ri;
	f->idle = orig->proto == IPPROTO_TCP ? s->tcp_timeout : s->udp_timeout;
	f->aff_last = now;
	s->active++;
	r->active++;
	s->c.flows++;
	r->c.flows++;
	n->st.flows++;
	return f;
}

static struct ct_flow *new_inbound(struct nat *n, struct lb_service *s,
				   const struct ct_tuple *k, uint8_t tcp_flags,
				   uint32_t now, int *verdict)
{
	struct ct_tuple reply;
	struct lb_addr client = { .family = k->family };
	struct sched_req req = {
		.svc = (uint16_t)(s - n->cfg->svc),
		.client = &client,
		.now = now,
		.aff = &n->aff,
	};
	struct lb_real *r;
	int ri;

	*verdict = NAT_DROP; /* whatever refuses the flow drops the packet */
	/* A TCP flow to a VIP starts with a SYN. Anything else has no flow
	 * here because hlb forgot it (expired, restarted) or never saw it (a
	 * scan, a flood of ACKs): it is dropped and counted, no state made,
	 * nothing sent to a real, as IPVS does. A real picked now would
	 * most likely not know the connection (a new snat port, another
	 * real) and answer it with a reset. */
	if (k->proto == IPPROTO_TCP &&
	    (tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) != PKT_TCP_SYN) {
		n->st.tcp_no_syn++;
		return NULL;
	}
	/* The source's cap and the table's room, before a real is picked:
	 * a refused packet changes no scheduler or affinity state. */
	if (ct_admit(&n->ct, k, now) < 0)
		return NULL;
	memcpy(client.a, k->src, 16);
	ri = s->sched->pick(s, &req);
	if (ri < 0) {
		s->no_real++;
		n->st.no_real++;
		return NULL;
	}
	r = &s->reals[ri];
	memset(&reply, 0, sizeof(reply));
	reply.family = k->family;
	reply.proto = k->proto;
	memcpy(reply.src, r->addr.a, 16);
	reply.sport = r->port;
	if (s->mode == LB_SNAT) {
		memcpy(reply.dst, s->snat_src.a, 16);
		if (alloc_port(n, &reply, now) < 0)
			goto full;
	} else {
		/* dnat: the real sees the client's own address and port. */
		memcpy(reply.dst, k->src, 16);
		reply.dport = k->sport;
		if (s->src_port_rewrite && alloc_port(n, &reply, now) < 0)
			goto full;
	}
	return add_flow(n, s, ri, k, &reply,
			(s->dsr ? CT_F_NOREPLY : 0) | (s->tls_only ? CT_F_TLSCHECK : 0), now);
full:
	n->st.no_port++;
	return NULL;
}

/* R25 (and M3): a flow a real server starts leaves from the VIP. One
 * that cannot be tracked is dropped: let through, it would leave from
 * the real's own address. */
static struct ct_flow *new_outbound(struct nat *n, struct lb_service *s,
				    int ri, const struct ct_tuple *k,
				    int keep_port, uint32_t now, int *verdict)
{
	struct ct_tuple reply;

	*verdict = NAT_DROP;
	if (ct_admit(&n->ct, k, now) < 0)
		return NULL;
	ct_tuple_invert(&reply, k);
	memset(reply.dst, 0, 16);
	memcpy(reply.dst, s->vip.a, alen(k->family));
	if (!keep_port || ct_tuple_taken(&n->ct, &reply, now))
		if (alloc_port(n, &reply, now) < 0) {
			n->st.no_port++;
			return NULL;
		}
	return add_flow(n, s, ri, k, &reply, CT_F_OUTBOUND, now);
}

/* Make the packet look like the other direction's tuple, inverted. */
static void xlate(struct pkt *p, const struct ct_flow *f, int dir)
{
	const struct ct_tuple *o = &f->t[!dir];

	pkt_set_src(p, o->dst);
	pkt_set_dst(p, o->src);
	if (p->has_ports) {
		pkt_set_sport(p, o->dport);
		pkt_set_dport(p, o->sport);
	}
}

static void frag_remember(struct nat *n, const struct pkt *p,
			  const struct ct_tuple *k, const struct ct_flow *f,
			  int dir, uint32_t now)
{
	struct nat_frag *e = &n->frag[n->frag_pos++ % NAT_FRAG_SLOTS];

	memcpy(e->src, k->src, 16);
	memcpy(e->dst, k->dst, 16);
	e->id = p->frag_id;
	e->family = p->family;
	e->proto = p->proto;
	e->dir = (uint8_t)dir;
	e->time = now;
	e->flow = (uint32_t)(f - n->ct.flows) + 1;
}

static int frag_follow(struct nat *n, struct pkt *p, uint32_t now)
{
	n->st.frags++;
	for (int i = 0; i < NAT_FRAG_SLOTS; i++) {
		struct nat_frag *e = &n->frag[i];
		struct ct_flow *f;

		if (!e->flow || e->id != p->frag_id || e->family != p->family ||
		    e->proto != p->proto || now - e->time > 30 ||
		    memcmp(e->src, p->src, alen(p->family)) ||
		    memcmp(e->dst, p->dst, alen(p->family)))
			continue;
		f = &n->ct.flows[e->flow - 1];
		if (!f->used)
			return NAT_DROP;
		xlate(p, f, e->dir);
		return NAT_XLATE;
	}
	/* Not ours (a fragment of a flow hlb does not rewrite), or it came
	 * before its first fragment: pass it; a rewritten flow's fragment
	 * would be lost anyway. */
	return NAT_PASS;
}

static void count(struct nat *n, struct ct_flow *f, int dir, size_t len)
{
	struct lb_service *s = &n->cfg->svc[f->svc];
	struct lb_real *r = &s->reals[f->real];

	if (dir == CT_ORIG) {
		s->c.pkts_in++;
		s->c.bytes_in += len;
		r->c.pkts_in++;
		r->c.bytes_in += len;
	} else {
		s->c.pkts_out++;
		s->c.bytes_out += len;
		r->c.pkts_out++;
		r->c.bytes_out += len;
	}
}

void nat_set_local(struct nat *n, const struct lb_addr *a, int count)
{
	if (count > NAT_LOCAL_MAX)
		count = NAT_LOCAL_MAX;
	memcpy(n->local, a, sizeof(*a) * (size_t)count);
	n->nlocal = count;
}

static void load_local(struct nat *n)
{
	struct ifaddrs *ifa, *i;

	n->nlocal = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && n->nlocal < NAT_LOCAL_MAX; i = i->ifa_next) {
		struct lb_addr *a = &n->local[n->nlocal];

		if (!i->ifa_addr)
			continue;
		memset(a, 0, sizeof(*a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = 4;
			memcpy(a->a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = 6;
			memcpy(a->a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		n->nlocal++;
	}
	freeifaddrs(ifa);
}

/* Is the packet addressed to the HLB itself (one of its namespace's
 * addresses)? M3 rewrites what the reals send on, not what they send to
 * the HLB: the monitors' own connections must keep working under it. The
 * addresses are read once, on the first packet that asks (getifaddrs
 * allocates; it happens once, and only under the fault). */
static int dst_is_local(struct nat *n, const struct pkt *p)
{
	if (n->nlocal < 0)
		load_local(n);
	for (int i = 0; i < n->nlocal; i++)
		if (addr_is(&n->local[i], p->dst, p->family))
			return 1;
	return 0;
}

/* M14: the flow's client bytes until the first payload. A genuine TLS
 * ClientHello ends the inspection; anything else ends the flow: the
 * client gets a reset from the VIP, the segment never reaches the real
 * (whose half-open connection its own timeouts end). */
static int tls_check(struct nat *n, struct pkt *p, struct ct_flow *f, uint32_t now)
{
	const uint8_t *data = NULL;
	/* A SYN's bytes (TCP Fast Open) wait for the handshake, as they do
	 * on a device that terminates TCP. */
	size_t len = p->tcp_flags & PKT_TCP_SYN ? 0 : tlsonly_payload(p, &data);

	if (len == 0 || p->frag || tlsonly_hello_ok(data, len)) {
		if (len)
			f->flags &= (uint8_t)~CT_F_TLSCHECK;
		xlate(p, f, CT_ORIG);
		ct_touch(f, CT_ORIG, p->tcp_flags, now);
		count(n, f, CT_ORIG, p->len);
		aff_refresh(&n->aff, &n->cfg->svc[f->svc], f, now);
		return NAT_XLATE;
	}
	n->st.tls_refused++;
	ct_touch(f, CT_ORIG, PKT_TCP_RST, now);
	n->reply_len = tlsonly_reset(p);
	return NAT_REPLY;
}

static int process(struct nat *n, struct pkt *p, uint32_t now)
{
	struct ct_tuple k;
	struct ct_flow *f;
	struct lb_service *s;
	int dir = CT_ORIG, verdict = NAT_PASS, ri;

	if (p->frag && !p->frag_first)
		return frag_follow(n, p, now);
	if (pkt_icmp_is_error(p))
		return nat_icmp_error(n, p, now);
	if (!p->has_ports)
		return NAT_PASS;
	tuple_from_pkt(&k, p);
	f = ct_lookup(&n->ct, &k, now, &dir);
	/* A new SYN on a closing flow's tuple is a new connection. */
	if (f && dir == CT_ORIG && (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) ==
	    PKT_TCP_SYN && f->state >= CT_TCP_FIN) {
		ct_remove(&n->ct, f);
		f = NULL;
	}
	if (!f) {
		dir = CT_ORIG;
		if ((s = find_vip(n, p)) != NULL)
			f = new_inbound(n, s, &k, p->tcp_flags, now, &verdict);
		else if ((s = find_real(n, p, 1, &ri)) != NULL)
			f = new_outbound(n, s, ri, &k, 0, now, &verdict);
		else if ((n->cfg->faults & LB_FAULT_SNAT_ALL_OUTBOUND) &&
			 (s = find_real(n, p, 0, &ri)) != NULL && !dst_is_local(n, p))
			f = new_outbound(n, s, ri, &k, 1, now, &verdict);
		if (!f)
			return verdict;
	}
	/* M14 only: with the fault off no flow carries the flag. */
	if ((f->flags & CT_F_TLSCHECK) && dir == CT_ORIG)
		return tls_check(n, p, f, now);
	xlate(p, f, dir);
	if (p->frag_first)
		frag_remember(n, p, &k, f, dir, now);
	ct_touch(f, dir, p->tcp_flags, now);
	count(n, f, dir, p->len);
	/* A client's packet keeps its affinity alive (R22). */
	if (dir == CT_ORIG && !(f->flags & CT_F_OUTBOUND))
		aff_refresh(&n->aff, &n->cfg->svc[f->svc], f, now);
	return NAT_XLATE;
}

int nat_process(struct nat *n, uint8_t *buf, size_t len, uint32_t now)
{
	struct pkt p;
	int v;

	n->st.pkts++;
	if (pkt_parse(&p, buf, len) < 0) {
		n->st.bad++;
		return NAT_PASS;
	}
	v = process(n, &p, now);
	if (v == NAT_XLATE)
		n->st.xlate++;
	else if (v == NAT_PASS)
		n->st.passed++;
	else if (v == NAT_REPLY)
		n->st.xlate++;
	else
		n->st.dropped++;
	return v;
}

void nat_tick(struct nat *n, uint32_t now)
{
	/* A slice per tick: the whole table is walked every few seconds
	 * without a pause long enough to be seen on the packet path. */
	ct_sweep(&n->ct, now, 4096);
	aff_sweep(&n->aff, n->cfg, now, 4096);
}

struct flush_arg {
	int svc, real;
};

static int flush_match(const struct ct_flow *f, void *arg)
{
	const struct flush_arg *a = arg;

	return f->svc == a->svc && (a->real < 0 || f->real == a->real);
}

uint32_t nat_flush_real(struct nat *n, int svc, int real)
{
	struct flush_arg a = { svc, real };

	return ct_flush(&n->ct, flush_match, &a);
}
