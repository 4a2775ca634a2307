/* peerfilter.c: which peers a relay may send to (R15).
 *
 * Addresses are first brought to one spelling:
 *   - IPv4-mapped      ::ffff:a.b.c.d       -> a.b.c.d
 *   - IPv4-translated  ::ffff:0:a.b.c.d     -> a.b.c.d  (RFC 2765 SIIT)
 *   - IPv4-compatible  ::a.b.c.d            -> a.b.c.d  (except :: and ::1,
 *                                              which stay IPv6 so that the
 *                                              ::/128 and ::1/128 rules
 *                                              name them; both are denied
 *                                              either way)
 *   - NAT64 well-known 64:ff9b::a.b.c.d     -> a.b.c.d  (RFC 6052)
 * 6to4 (2002:AABB:CCDD::/48, RFC 3056) is *not* rewritten: the embedded
 * IPv4 address is the tunnel endpoint, not the peer. But a 6to4 address is
 * refused when its embedded IPv4 address would be refused, so
 * 2002:7f00:1:: cannot be used to reach loopback through a local 6to4
 * tunnel. Teredo (2001::/32) and the local-use NAT64 prefix 64:ff9b:1::/48
 * are not decoded (their embedding is not a plain copy).
 *
 * Then rules are matched: the built-in denials below, and --allow-peer /
 * --deny-peer CIDRs. The longest matching prefix wins; on equal length an
 * explicit rule beats a built-in one, and deny beats allow. No match:
 * allowed (private and documentation ranges are allowed; the lab uses
 * them). The relay's own addresses are refused before any rule, and no
 * --allow-peer can re-open them.
 *
 * CIDRs: "a.b.c.d/n", "v6/n" or a bare address (a host route). Host bits
 * past the prefix are cleared ("10.1.2.3/8" means 10.0.0.0/8). An
 * IPv4-mapped/translated or NAT64 CIDR of length >= 96 is stored as the
 * IPv4 CIDR it spells. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerfilter.h"

struct rule {
	uint8_t fam;      /* 4 or 6 */
	uint8_t len;      /* prefix length in bits */
	uint8_t deny;
	uint8_t addr[16]; /* 4 bytes used for IPv4 */
};

struct self {
	uint8_t fam;
	uint8_t plen;      /* a prefix: all of 127.0.0.0/8 is the host's own */
	uint8_t addr[16];
};

#define MAX_OWN_PORTS 64

struct peerfilter {
	struct rule *rules;
	size_t nrules;
	struct self *self;         /* avedge's configured addresses */
	size_t nself;
	struct self *local;        /* every address the kernel calls local */
	size_t nlocal;
	uint16_t relay_lo, relay_hi; /* self ports that are relayed addresses */
	uint16_t own[MAX_OWN_PORTS]; /* ports avedge listens on (any local address may reach them) */
	size_t nown;
};

#define V4(a, b, c, d) {a, b, c, d}
static const struct rule builtin[] = {
	{4, 8, 1, V4(0, 0, 0, 0)},        /* "this network", 0.0.0.0 */
	{4, 8, 1, V4(127, 0, 0, 0)},      /* loopback */
	{4, 16, 1, V4(169, 254, 0, 0)},   /* link-local */
	{4, 4, 1, V4(224, 0, 0, 0)},      /* multicast */
	{4, 4, 1, V4(240, 0, 0, 0)},      /* reserved, incl. 255.255.255.255 */
	{6, 128, 1, {0}},                 /* :: unspecified */
	{6, 128, 1, {[15] = 1}},          /* ::1 loopback */
	{6, 10, 1, {0xfe, 0x80}},         /* link-local */
	{6, 8, 1, {0xff}},                /* multicast */
};

struct peerfilter *peerfilter_new(void)
{
	return calloc(1, sizeof(struct peerfilter));
}

void peerfilter_free(struct peerfilter *f)
{
	if (!f)
		return;
	free(f->rules);
	free(f->self);
	free(f->local);
	free(f);
}

static const uint8_t nat64_wkp[12] = {0x00, 0x64, 0xff, 0x9b};
static const uint8_t mapped_pfx[12] = {[10] = 0xff, [11] = 0xff};
static const uint8_t siit_pfx[12] = {[8] = 0xff, [9] = 0xff};
static const uint8_t zero12[12];

/* Does this IPv6 address spell an IPv4 one (see the top)? */
static int v6_embeds_v4(const uint8_t a[16])
{
	if (!memcmp(a, mapped_pfx, 12) || !memcmp(a, siit_pfx, 12) ||
	    !memcmp(a, nat64_wkp, 12))
		return 1;
	if (!memcmp(a, zero12, 12)) /* compatible, but :: and ::1 stay */
		return a[12] || a[13] || a[14] || a[15] > 1;
	return 0;
}

/* Normalise: fam 4 with addr[0..3], or fam 6 with addr[0..15]. -1 for
 * anything that is not IPv4 or IPv6. */
static int normalise(const struct sockaddr *sa, uint8_t *fam, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*fam = 4;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (v6_embeds_v4(a)) {
			memcpy(addr, a + 12, 4);
			*fam = 4;
		} else {
			memcpy(addr, a, 16);
			*fam = 6;
		}
		return 0;
	}
	return -1;
}

static int prefix_match(const uint8_t *a, const uint8_t *p, unsigned len)
{
	unsigned whole = len / 8, rest = len % 8;

	if (memcmp(a, p, whole))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		return (a[whole] & mask) == (p[whole] & mask);
	}
	return 1;
}

struct best {
	int len;        /* -1: nothing matched yet */
	int explicit_;
	int deny;
};

static void consider(struct best *b, const struct rule *r, int explicit_,
		     uint8_t fam, const uint8_t *addr)
{
	if (r->fam != fam || !prefix_match(addr, r->addr, r->len))
		return;
	if (r->len > b->len ||
	    (r->len == b->len && (explicit_ > b->explicit_ ||
				  (explicit_ == b->explicit_ && r->deny > b->deny)))) {
		b->len = r->len;
		b->explicit_ = explicit_;
		b->deny = r->deny;
	}
}

static int in_set(const struct self *set, size_t n, uint8_t fam, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].fam == fam && prefix_match(addr, set[i].addr, set[i].plen))
			return 1;
	return 0;
}

static int is_self(const struct peerfilter *f, uint8_t fam, const uint8_t *addr)
{
	return in_set(f->self, f->nself, fam, addr);
}

static int own_port(const struct peerfilter *f, int port)
{
	for (size_t i = 0; i < f->nown; i++)
		if (f->own[i] == port)
			return 1;
	return 0;
}

static int allowed(const struct peerfilter *f, uint8_t fam, const uint8_t *addr)
{
	struct best b = {-1, 0, 0};

	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		consider(&b, &builtin[i], 0, fam, addr);
	for (size_t i = 0; i < f->nrules; i++)
		consider(&b, &f->rules[i], 1, fam, addr);
	return b.len < 0 || !b.deny;
}

/* any_port: a permission (per IP, RFC 8656 §9): our own address passes,
 * since a relayed address of ours on it may be the peer; the port is
 * vetted when data is sent. */
static int permits(const struct peerfilter *f, const struct sockaddr *peer, int any_port)
{
	uint8_t fam, addr[16];

	if (normalise(peer, &fam, addr) < 0)
		return 0;
	/* Our own address: only a relayed transport address may be a peer
	 * (two clients of one relay talking to each other); any other port
	 * of ours, the listeners above all, would loop. */
	int port = ntohs(peer->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)peer)->sin6_port
						    : ((const struct sockaddr_in *)peer)->sin_port);
	if (!any_port && is_self(f, fam, addr) &&
	    (!f->relay_hi || port < f->relay_lo || port > f->relay_hi))
		return 0;
	/* Any other address of this host reaches our wildcard listeners and
	 * /metrics on their ports (R18); its other ports are other programs',
	 * which the rules decide on (loopback is denied unless allowed). */
	if (!any_port && own_port(f, port) && in_set(f->local, f->nlocal, fam, addr))
		return 0;
	if (!allowed(f, fam, addr))
		return 0;
	if (fam == 6 && addr[0] == 0x20 && addr[1] == 0x02) { /* 6to4 */
		uint8_t v4[16] = {addr[2], addr[3], addr[4], addr[5]};
		if (is_self(f, 4, v4) || !allowed(f, 4, v4))
			return 0;
	}
	return 1;
}

int peerfilter_permits(const struct peerfilter *f, const struct sockaddr *peer)
{
	return permits(f, peer, 0);
}

int peerfilter_permits_ip(const struct peerfilter *f, const struct sockaddr *peer)
{
	return permits(f, peer, 1);
}

void peerfilter_set_relay_ports(struct peerfilter *f, uint16_t lo, uint16_t hi)
{
	f->relay_lo = lo;
	f->relay_hi = hi;
}

static int add_prefix(struct self **set, size_t *n, const struct sockaddr *net, int plen)
{
	struct self s, *v;

	int host = 0;

	if (normalise(net, &s.fam, s.addr) < 0)
		return -1;
	host = s.fam == 4 ? 32 : 128;
	if (plen < 0)
		plen = host;
	else if (s.fam == 4 && net->sa_family == AF_INET6) /* an IPv4-mapped prefix */
		plen = plen >= 96 ? plen - 96 : -1;
	if (plen < 0 || plen > host)
		return -1;
	s.plen = (uint8_t)plen;
	if (plen == host && in_set(*set, *n, s.fam, s.addr))
		return 0;
	v = realloc(*set, (*n + 1) * sizeof *v);
	if (!v)
		return -1;
	*set = v;
	v[(*n)++] = s;
	return 0;
}

int peerfilter_add_self(struct peerfilter *f, const struct sockaddr *own)
{
	return add_prefix(&f->self, &f->nself, own, -1);
}

int peerfilter_add_local(struct peerfilter *f, const struct sockaddr *net, int plen)
{
	return add_prefix(&f->local, &f->nlocal, net, plen);
}

int peerfilter_add_own_port(struct peerfilter *f, int port)
{
	if (own_port(f, port))
		return 0;
	if (f->nown == MAX_OWN_PORTS)
		return -1;
	f->own[f->nown++] = (uint16_t)port;
	return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
	return -1;
}

/* Parse "ADDR[/LEN]" into a rule (fam, len, addr). */
static int parse_cidr(const char *s, struct rule *r, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned max, len;

	memset(r, 0, sizeof *r);
	if (alen == 0)
		return fail(err, errlen, "'%s': empty address", s);
	if (alen >= sizeof buf)
		return fail(err, errlen, "'%s': not an IPv4 or IPv6 address", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->fam = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->fam = 6;
		max = 128;
	} else {
		return fail(err, errlen, "'%s': not an IPv4 or IPv6 address", s);
	}
	if (!slash) {
		len = max;
	} else {
		const char *p = slash + 1;
		if (!*p)
			return fail(err, errlen, "'%s': missing prefix length after '/'", s);
		len = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || len > 1000)
				return fail(err, errlen, "'%s': bad prefix length", s);
			len = len * 10 + (unsigned)(*p - '0');
		}
		if (len > max) {
			if (err && errlen)
				snprintf(err, errlen,
					 "'%s': prefix length %u out of range for IPv%d (0-%u)",
					 s, len, r->fam, max);
			return -1;
		}
	}
	/* ::ffff:10.0.0.0/104 is 10.0.0.0/8: rules live in normalised form. */
	if (r->fam == 6 && len >= 96 &&
	    (!memcmp(r->addr, mapped_pfx, 12) || !memcmp(r->addr, siit_pfx, 12) ||
	     !memcmp(r->addr, nat64_wkp, 12))) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->fam = 4;
		len -= 96;
		max = 32;
	}
	r->len = (uint8_t)len;
	/* clear host bits */
	for (unsigned bit = len; bit < max; bit++)
		r->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	return 0;
}

static int add_rule(struct peerfilter *f, const char *cidr, int deny, char *err,
		    size_t errlen)
{
	struct rule r, *v;

	if (!cidr)
		return fail(err, errlen, "%s", "missing CIDR");
	if (parse_cidr(cidr, &r, err, errlen) < 0)
		return -1;
	r.deny = (uint8_t)deny;
	v = realloc(f->rules, (f->nrules + 1) * sizeof *v);
	if (!v)
		return fail(err, errlen, "%s", "out of memory");
	f->rules = v;
	v[f->nrules++] = r;
	return 0;
}

int peerfilter_allow(struct peerfilter *f, const char *cidr, char *err, size_t errlen)
{
	return add_rule(f, cidr, 0, err, errlen);
}

int peerfilter_deny(struct peerfilter *f, const char *cidr, char *err, size_t errlen)
{
	return add_rule(f, cidr, 1, err, errlen);
}
